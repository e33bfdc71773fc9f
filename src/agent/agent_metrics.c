/*
 * agent_metrics.c — the agent's /metrics endpoint (see agent_metrics.h).
 */
#include "agent/agent_metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

#define METRICS_MAX_TEXT ((size_t)1 << 20)

struct agent_metrics {
	struct MHD_Daemon *d;
	pthread_mutex_t mu;
	struct buf text;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct agent_metrics *m = cls;
	struct MHD_Response *r;
	unsigned int status = MHD_HTTP_OK;
	enum MHD_Result ret;

	(void)version, (void)upload, (void)upload_len, (void)state;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		static const char msg[] = "method not allowed: GET /metrics\n";
		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
						    MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (strcmp(url, "/metrics") != 0) {
		static const char msg[] = "not found: the agent serves GET /metrics only\n";
		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
						    MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_FOUND;
	} else {
		pthread_mutex_lock(&m->mu);
		r = MHD_create_response_from_buffer(m->text.len, m->text.data,
						    MHD_RESPMEM_MUST_COPY);
		pthread_mutex_unlock(&m->mu);
		if (r)
			MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
						"text/plain; version=0.0.4");
	}
	if (!r)
		return MHD_NO;
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static int parse_addr(const char *addr, struct sockaddr_in *sa, struct ember_diag *d)
{
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	char host[64];
	char *end;
	long port;

	if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof(host))
		return ember_diag_set(d, -EMBER_EUSAGE, "metrics address '%s': want HOST:PORT",
				      addr ? addr : "");
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
		return ember_diag_set(d, -EMBER_EUSAGE,
				      "metrics address '%s': port must be 1..65535", addr);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return ember_diag_set(d, -EMBER_EUSAGE,
				      "metrics address '%s': '%s' is not an IPv4 address", addr,
				      host);
	return 0;
}

int agent_metrics_start(const char *addr, struct agent_metrics **out, struct ember_diag *d)
{
	struct sockaddr_in sa;
	struct agent_metrics *m;
	int rc;

	*out = NULL;
	if ((rc = parse_addr(addr, &sa, d)))
		return rc;
	m = mem_calloc(MEM_AGENT, 1, sizeof(*m));
	pthread_mutex_init(&m->mu, NULL);
	buf_init(&m->text, MEM_AGENT, METRICS_MAX_TEXT);
	m->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				answer, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT,
				10u, MHD_OPTION_END);
	if (!m->d) {
		rc = errno ? -errno : -EADDRINUSE;
		agent_metrics_stop(m);
		return ember_diag_set(d, rc, "metrics address '%s': cannot listen: %s", addr,
				      ember_strerror(rc));
	}
	*out = m;
	return 0;
}

void agent_metrics_publish(struct agent_metrics *m, const char *text, size_t len)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->text.len = 0;
	if (buf_append(&m->text, text, len) != 0)
		m->text.len = 0;
	pthread_mutex_unlock(&m->mu);
}

void agent_metrics_stop(struct agent_metrics *m)
{
	if (!m)
		return;
	if (m->d)
		MHD_stop_daemon(m->d);
	buf_fini(&m->text);
	pthread_mutex_destroy(&m->mu);
	mem_free(m);
}
