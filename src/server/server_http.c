/*
 * server_http.c — the transport of `ember server`: the libmicrohttpd daemon (an internal polling
 * thread with a worker pool), request bodies buffered up to the body limit (413 beyond it),
 * routing by method and path, the tenant header, /ready and the Prometheus /metrics text.
 *
 * Owns the daemon and the store handle; handlers get a struct server_req and fill a
 * struct server_resp. Never reads more than max_body_bytes of a body into memory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "format/json.h"
#include "server/server_int.h"

#define SERVER_DEFAULT_BODY ((size_t)16 << 20)

/* Per-connection request state, from the first callback to the completion notice. */
struct server_conn {
	struct buf body;
	int too_large;
};

const char *server_arg(const struct server_req *q, const char *key)
{
	return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, key);
}

void server_resp_error(struct server_resp *r, unsigned int status, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	struct json_writer w;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->status = status;
	r->ctype = "application/json";
	buf_reset(&r->body);
	json_init(&w, &r->body);
	json_obj_begin(&w);
	json_key(&w, "error");
	json_str(&w, msg);
	json_obj_end(&w);
	json_finish(&w);
	buf_putc(&r->body, '\n');
}

unsigned int server_status_of(int err)
{
	switch (-err) {
	case EMBER_EUSAGE:
		return MHD_HTTP_BAD_REQUEST;
	case EMBER_EFORMAT:
	case EMBER_ELIMIT:
		return MHD_HTTP_UNPROCESSABLE_CONTENT;
	case EROFS:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

int64_t server_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int server_listen_parse(const char *s, unsigned char addr[4], unsigned short *port,
			struct ember_diag *d)
{
	const char *colon = s ? strrchr(s, ':') : NULL;
	char host[64];
	struct in_addr ia;
	long p = 0;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
		return ember_diag_set(d, -EMBER_EUSAGE, "'%s' is not ADDR:PORT", s ? s : "");
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &ia) != 1)
		return ember_diag_set(d, -EMBER_EUSAGE, "'%s' is not an IPv4 address", host);
	const char *c = colon + 1;
	if (!*c)
		return ember_diag_set(d, -EMBER_EUSAGE, "'%s' has no port", s);
	for (; *c; c++) {
		if (*c < '0' || *c > '9' || p > 65535)
			return ember_diag_set(d, -EMBER_EUSAGE, "bad port in '%s'", s);
		p = p * 10 + (*c - '0');
	}
	if (p < 1 || p > 65535)
		return ember_diag_set(d, -EMBER_EUSAGE, "port out of range in '%s'", s);
	memcpy(addr, &ia.s_addr, 4);
	*port = (unsigned short)p;
	return 0;
}

static void metric(struct buf *b, const char *name, const char *type, const char *help, uint64_t v)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
		   (unsigned long long)v);
}

void server_metrics(const struct server_req *q, struct server_resp *r)
{
	struct server *s = q->srv;
	struct store_stats st;
	struct buf *b = &r->body;

	store_get_stats(s->store, &st);
	r->status = MHD_HTTP_OK;
	r->ctype = "text/plain; version=0.0.4";
	metric(b, "ember_http_requests_total", "counter", "HTTP requests received.",
	       atomic_load(&s->n_http));
	metric(b, "ember_ingest_requests_total", "counter", "Ingest requests received.",
	       atomic_load(&s->n_ingest));
	metric(b, "ember_ingest_errors_total", "counter", "Ingest requests that failed.",
	       atomic_load(&s->n_ingest_err));
	metric(b, "ember_ingest_bytes_total", "counter", "Request body bytes of ingest requests.",
	       atomic_load(&s->ingest_bytes));
	metric(b, "ember_ingest_profiles_total", "counter", "Profiles stored by ingest.",
	       atomic_load(&s->ingest_profiles));
	metric(b, "ember_ingest_samples_total", "counter", "Samples stored by ingest.",
	       atomic_load(&s->ingest_samples));
	metric(b, "ember_http_body_too_large_total", "counter",
	       "Requests refused with 413 (body over the limit).", atomic_load(&s->n_too_large));
	metric(b, "ember_query_requests_total", "counter", "Query requests received.",
	       atomic_load(&s->n_query));
	metric(b, "ember_query_errors_total", "counter", "Query requests that failed.",
	       atomic_load(&s->n_query_err));
	metric(b, "ember_store_appends_total", "counter", "Appends acknowledged by the store.",
	       st.appends);
	metric(b, "ember_store_head_series", "gauge", "Series in the store head.", st.head_series);
	metric(b, "ember_store_head_profiles", "gauge", "Profiles in the store head.",
	       st.head_profiles);
	metric(b, "ember_store_head_bytes", "gauge", "Bytes held by the store head.",
	       st.head_bytes);
	metric(b, "ember_store_blocks", "gauge", "Blocks on disk.", st.blocks);
	metric(b, "ember_store_block_bytes", "gauge", "Bytes of blocks on disk.", st.block_bytes);
	metric(b, "ember_store_error", "gauge", "Non-zero when the store is in the ERROR state.",
	       st.error ? 1 : 0);
	server_scrape_metrics(s, b);
}

void server_ready(const struct server_req *q, struct server_resp *r)
{
	(void)q;
	r->status = MHD_HTTP_OK;
	r->ctype = "text/plain";
	buf_puts(&r->body, "ready\n");
}

const char *server_path(const struct server_req *q)
{
	return q->url;
}

static void route(struct server_req *q, struct server_resp *r)
{
	struct server *s = q->srv;
	int method_ok;
	const struct server_route *rt = server_route_find(q->method, q->url, &method_ok);

	if (!rt) {
		server_resp_error(r, MHD_HTTP_NOT_FOUND, "no such endpoint");
		return;
	}
	if (!method_ok) {
		server_resp_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s is not allowed on %s",
				  q->method, rt->path);
		return;
	}
	if (rt->scope == SERVER_SCOPE_INGEST) {
		atomic_fetch_add(&s->n_ingest, 1);
		atomic_fetch_add(&s->ingest_bytes, q->body_len);
	} else if (rt->scope == SERVER_SCOPE_QUERY) {
		atomic_fetch_add(&s->n_query, 1);
	}
	rt->fn(q, r);
	if (r->status >= 400 && rt->scope == SERVER_SCOPE_INGEST)
		atomic_fetch_add(&s->n_ingest_err, 1);
	else if (r->status >= 400 && rt->scope == SERVER_SCOPE_QUERY)
		atomic_fetch_add(&s->n_query_err, 1);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, struct server_resp *r)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		r->body.len, r->body.len ? r->body.data : (void *)"", MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
	ret = MHD_queue_response(c, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned int status, const char *msg)
{
	struct server_resp r = {.status = status, .ctype = "application/json"};
	enum MHD_Result ret;

	buf_init(&r.body, MEM_SERVER, 4096);
	server_resp_error(&r, status, "%s", msg);
	ret = send_resp(c, &r);
	buf_fini(&r.body);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct server *s = cls;
	struct server_conn *sc = *con_cls;

	(void)version;
	if (!sc) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		sc = mem_calloc(MEM_SERVER, 1, sizeof(*sc));
		buf_init(&sc->body, MEM_SERVER, s->max_body_bytes);
		*con_cls = sc;
		atomic_fetch_add(&s->n_http, 1);
		if (cl) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(cl, &end, 10);
			if (errno || end == cl || n > s->max_body_bytes) {
				sc->too_large = 2; /* answered here */
				atomic_fetch_add(&s->n_too_large, 1);
				return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
						  "request body larger than the limit");
			}
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!sc->too_large && buf_append(&sc->body, upload, *upload_size) < 0) {
			sc->too_large = 1;
			atomic_fetch_add(&s->n_too_large, 1);
			buf_fini(&sc->body);
			buf_init(&sc->body, MEM_SERVER, 0);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (sc->too_large == 1) {
		sc->too_large = 2;
		return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
				  "request body larger than the limit");
	}
	if (sc->too_large)
		return MHD_YES;

	const char *tenant = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Scope-OrgID");
	struct server_req q = {.srv = s,
			       .conn = c,
			       .tenant = tenant && *tenant ? tenant : "anonymous",
			       .method = method,
			       .url = url,
			       .body = sc->body.data,
			       .body_len = sc->body.len};
	struct server_resp r = {.status = MHD_HTTP_INTERNAL_SERVER_ERROR, .ctype = "text/plain"};
	enum MHD_Result ret;

	buf_init(&r.body, MEM_SERVER, SERVER_MAX_RESP_BYTES);
	route(&q, &r);
	ret = send_resp(c, &r);
	buf_fini(&r.body);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct server_conn *sc = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (sc) {
		buf_fini(&sc->body);
		mem_free(sc);
		*con_cls = NULL;
	}
}

int server_start(const struct server_opts *o, struct server **out, struct ember_diag *d)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	unsigned char addr[4];
	unsigned short port;
	struct store_opts so = {.backend = "local",
				.dir = o->data_dir ? o->data_dir : "./data",
				.background = true};
	struct server *s;
	int err;

	err = server_listen_parse(o->listen ? o->listen : "127.0.0.1:4040", addr, &port, d);
	if (err)
		return err;
	memcpy(&sa.sin_addr.s_addr, addr, 4);
	sa.sin_port = htons(port);
	s = mem_calloc(MEM_SERVER, 1, sizeof(*s));
	s->max_body_bytes = o->max_body_bytes ? o->max_body_bytes : SERVER_DEFAULT_BODY;
	err = store_open(&so, &s->store, d);
	if (err) {
		mem_free(s);
		return err;
	}
	s->mhd = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, port, NULL,
		NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(o->n_threads ? o->n_threads : 4),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)512, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
	if (!s->mhd) {
		err = errno ? -errno : -EADDRINUSE;
		store_close(s->store);
		mem_free(s);
		return ember_diag_set(d, err, "cannot listen on %s: %s",
				      o->listen ? o->listen : "127.0.0.1:4040",
				      ember_strerror(err));
	}
	err = server_scrape_start(s, o->config_path, d);
	if (err) {
		MHD_stop_daemon(s->mhd);
		store_close(s->store);
		mem_free(s);
		return err;
	}
	LOG_INFO("server: listening on %u.%u.%u.%u:%u, data in %s", addr[0], addr[1], addr[2],
		 addr[3], port, so.dir);
	*out = s;
	return 0;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	server_scrape_stop(s);
	MHD_stop_daemon(s->mhd);
	store_close(s->store);
	mem_free(s);
}
