/*
 * server_http.c — the transport of `ember server`: the libmicrohttpd daemon (an internal polling
 * thread with a worker pool), request bodies buffered up to the body limit (413 beyond it),
 * routing by method and path, the tenant header, /ready and the Prometheus /metrics text.
 * Before a body is read: authentication (server_auth.c), the tenant's body limit and ingest
 * rate (server_limits.c: 429 with Retry-After). Optional TLS (GnuTLS through libmicrohttpd).
 * server_stop stops accepting, waits for running requests (bounded), then closes the store.
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
#include <unistd.h>

#include "base/arena.h"
#include "base/log.h"
#include "base/mem.h"
#include "format/gzip.h"
#include "format/json.h"
#include "server/server_config.h"
#include "server/server_int.h"

#define SERVER_DEFAULT_BODY	    ((size_t)16 << 20)
#define SERVER_MAX_PEM_BYTES	    ((size_t)1 << 20)
#define SERVER_DEFAULT_GRACE	    ((int64_t)30 * 1000000000)
#define SERVER_STORE_DEFAULT_SERIES 100000 /* store_limits.max_series_per_tenant's default */

/* Upper bounds (seconds) of the latency histogram buckets. */
static const double lat_bounds[SERVER_LAT_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
						      0.1,   0.25,   0.5,   1,	  2.5};

/* Per-connection request state, from the first callback to the completion notice. */
struct server_conn {
	struct buf body;
	int too_large;		  /* 1: over the limit, 2: answered already */
	char tenant[72];	  /* resolved at the first callback (token or header) */
	struct server_limits lim; /* the tenant's */
	int64_t start_ns;	  /* monotonic, for the latency histogram */
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *server_arg(const struct server_req *q, const char *key)
{
	return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, key);
}

int server_gunzip_body(const struct server_req *q, struct buf *out, struct ember_diag *d)
{
	const struct server_limits *lim = q->limits;
	struct gzip_limits gl = {.max_out = lim->max_decompressed_bytes
						    ? lim->max_decompressed_bytes
						    : (size_t)64 << 20,
				 .max_ratio = lim->max_ratio}; /* 0: gzip's default, 1000 */

	return gzip_inflate(q->body, q->body_len, &gl, out, d);
}

void server_resp_verror(struct server_resp *r, unsigned int status, const char *code,
			const char *fmt, va_list ap)
{
	char msg[600];
	struct json_writer w;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	r->status = status;
	r->ctype = "application/json";
	buf_reset(&r->body);
	json_init(&w, &r->body);
	json_obj_begin(&w);
	if (code) {
		json_key(&w, "code");
		json_str(&w, code);
		json_key(&w, "message");
	} else {
		json_key(&w, "error");
	}
	json_str(&w, msg);
	json_obj_end(&w);
	json_finish(&w);
	if (!code)
		buf_putc(&r->body, '\n');
}

void server_resp_error(struct server_resp *r, unsigned int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	server_resp_verror(r, status, NULL, fmt, ap);
	va_end(ap);
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
	case EAGAIN:
	case ECONNREFUSED:
	case ETIMEDOUT:
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	case ENOBUFS:
		return MHD_HTTP_TOO_MANY_REQUESTS;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

unsigned int server_store_status(int err, struct server_resp *r)
{
	unsigned int st = server_status_of(err);

	if (st == MHD_HTTP_TOO_MANY_REQUESTS)
		r->retry_after_s = 1;
	else if (st == MHD_HTTP_SERVICE_UNAVAILABLE && err != -EROFS)
		r->retry_after_s = 2;
	return st;
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

struct tenant_metrics_arg {
	struct server *s;
	struct buf *b;
	int pass;
};

static void tenant_metric_line(void *arg, const char *tenant, uint64_t n_ingest, uint64_t n_limited)
{
	struct tenant_metrics_arg *a = arg;

	if (a->pass == 0) {
		buf_printf(a->b, "ember_tenant_ingest_requests_total{tenant=\"%s\"} %llu\n", tenant,
			   (unsigned long long)n_ingest);
	} else if (a->pass == 1) {
		buf_printf(a->b, "ember_tenant_rate_limited_total{tenant=\"%s\"} %llu\n", tenant,
			   (unsigned long long)n_limited);
	} else if (strcmp(tenant, "_overflow")) {
		struct store_query sq = {.tenant = tenant};
		struct store_result *res = NULL;

		if (!store_series_list(a->s->store, &sq, &res, NULL)) {
			buf_printf(a->b, "ember_tenant_series{tenant=\"%s\"} %zu\n", tenant,
				   res->n_sets);
			store_result_free(res);
		}
	}
}

/* Authorization and limit counters, latency histograms and per-tenant series. */
static void server_ops_metrics(struct server *s, struct buf *b)
{
	static const char *const scope_names[2] = {"ingest", "query"};
	struct tenant_metrics_arg ta = {.s = s, .b = b};

	metric(b, "ember_http_unauthorized_total", "counter",
	       "Requests refused with 401 (missing or unknown token).",
	       atomic_load(&s->n_unauthorized));
	metric(b, "ember_http_forbidden_total", "counter",
	       "Requests refused with 403 (scope or tenant not allowed by the token).",
	       atomic_load(&s->n_forbidden));
	metric(b, "ember_http_rate_limited_total", "counter",
	       "Ingest requests refused with 429 (tenant ingest rate).",
	       atomic_load(&s->n_rate_limited));
	metric(b, "ember_http_requests_in_flight", "gauge", "Requests being received or answered.",
	       (uint64_t)EMBER_MAX(atomic_load(&s->n_inflight), 0));
	buf_puts(b, "# HELP ember_request_duration_seconds Time from the request headers to the "
		    "response, by scope.\n# TYPE ember_request_duration_seconds histogram\n");
	for (int k = 0; k < 2; k++) {
		uint64_t cum = 0;
		for (int i = 0; i <= SERVER_LAT_BUCKETS; i++) {
			cum += atomic_load(&s->lat_bucket[k][i]);
			if (i < SERVER_LAT_BUCKETS)
				buf_printf(b,
					   "ember_request_duration_seconds_bucket{scope=\"%s\","
					   "le=\"%g\"} %llu\n",
					   scope_names[k], lat_bounds[i], (unsigned long long)cum);
			else
				buf_printf(b,
					   "ember_request_duration_seconds_bucket{scope=\"%s\","
					   "le=\"+Inf\"} %llu\n",
					   scope_names[k], (unsigned long long)cum);
		}
		buf_printf(b, "ember_request_duration_seconds_sum{scope=\"%s\"} %.6f\n",
			   scope_names[k], (double)atomic_load(&s->lat_sum_us[k]) / 1e6);
		buf_printf(b, "ember_request_duration_seconds_count{scope=\"%s\"} %llu\n",
			   scope_names[k], (unsigned long long)cum);
	}
	buf_puts(b, "# HELP ember_tenant_ingest_requests_total Ingest requests let through, by "
		    "tenant.\n# TYPE ember_tenant_ingest_requests_total counter\n");
	server_limiter_each(s->limiter, tenant_metric_line, &ta);
	ta.pass = 1;
	buf_puts(b, "# HELP ember_tenant_rate_limited_total Ingest requests refused with 429, by "
		    "tenant.\n# TYPE ember_tenant_rate_limited_total counter\n");
	server_limiter_each(s->limiter, tenant_metric_line, &ta);
	ta.pass = 2;
	buf_puts(b, "# HELP ember_tenant_series Series stored for the tenant (tenants seen since "
		    "start).\n# TYPE ember_tenant_series gauge\n");
	server_limiter_each(s->limiter, tenant_metric_line, &ta);
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
	metric(b, "ember_store_wal_fsyncs_total", "counter",
	       "WAL fsyncs (appends / fsyncs: appends per commit group).", st.fsyncs);
	metric(b, "ember_store_head_series", "gauge", "Series in the store head.", st.head_series);
	metric(b, "ember_store_head_profiles", "gauge", "Profiles in the store head.",
	       st.head_profiles);
	metric(b, "ember_store_head_bytes", "gauge", "Bytes held by the store head.",
	       st.head_bytes);
	metric(b, "ember_store_blocks", "gauge", "Blocks on disk.", st.blocks);
	metric(b, "ember_store_block_bytes", "gauge", "Bytes of blocks on disk.", st.block_bytes);
	metric(b, "ember_store_error", "gauge", "Non-zero when the store is in the ERROR state.",
	       st.error ? 1 : 0);
	server_ops_metrics(s, b);
	server_scrape_metrics(s, b);
}

void server_ready(const struct server_req *q, struct server_resp *r)
{
	struct store_stats st;

	/* A store that cannot write (the ClickHouse backend while ClickHouse is unreachable:
	 * error -EAGAIN) makes the server not ready. */
	store_get_stats(q->srv->store, &st);
	if (st.error == -EAGAIN) {
		server_resp_error(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "not ready: the store (%s) is unreachable",
				  q->srv->store->ops->name);
		r->retry_after_s = 2;
		return;
	}
	r->status = MHD_HTTP_OK;
	r->ctype = "text/plain";
	buf_puts(&r->body, "ready\n");
}

const char *server_path(const struct server_req *q)
{
	return q->url;
}

static void observe_latency(struct server *s, int k, int64_t start_ns)
{
	int64_t us = (mono_ns() - start_ns) / 1000;
	int i = 0;

	if (us < 0)
		us = 0;
	while (i < SERVER_LAT_BUCKETS && (double)us / 1e6 > lat_bounds[i])
		i++;
	atomic_fetch_add(&s->lat_bucket[k][i], 1);
	atomic_fetch_add(&s->lat_sum_us[k], (uint64_t)us);
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
	if (rt->scope == SERVER_SCOPE_INGEST || rt->scope == SERVER_SCOPE_QUERY)
		observe_latency(s, rt->scope == SERVER_SCOPE_INGEST ? 0 : 1, q->start_ns);
	if (r->status >= 400 && rt->scope == SERVER_SCOPE_INGEST)
		atomic_fetch_add(&s->n_ingest_err, 1);
	else if (r->status >= 400 && rt->scope == SERVER_SCOPE_QUERY)
		atomic_fetch_add(&s->n_query_err, 1);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, struct server_resp *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->static_body)
		resp = MHD_create_response_from_buffer(r->static_len, (void *)r->static_body,
						       MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer(r->body.len,
						       r->body.len ? r->body.data : (void *)"",
						       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->ctype);
	if (r->retry_after_s) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%u", r->retry_after_s);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (r->www_authenticate)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"ember\"");
	if (r->disposition[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, r->disposition);
	if (r->cache_control)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache_control);
	if (r->etag)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
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

/* A tenant whose max_series is below the store-wide limit: its series are counted before each
 * ingest (the count is bounded by that limit), and ingest is refused with 422 once the tenant
 * has max_series series. Tenants at the store-wide limit are checked by the store itself. */
static unsigned int series_check(struct server *s, struct server_conn *sc, struct server_resp *r)
{
	struct store_query sq = {.tenant = sc->tenant};
	struct store_result *res = NULL;
	size_t n;

	if (!sc->lim.max_series || sc->lim.max_series >= s->store_max_series)
		return 0;
	if (store_series_list(s->store, &sq, &res, NULL))
		return 0; /* the append reports store problems */
	n = res->n_sets;
	store_result_free(res);
	if (n < sc->lim.max_series)
		return 0;
	server_resp_error(r, MHD_HTTP_UNPROCESSABLE_CONTENT,
			  "tenant %s has %zu series, its limit (max_series) is %u", sc->tenant, n,
			  sc->lim.max_series);
	return MHD_HTTP_UNPROCESSABLE_CONTENT;
}

#define BODY_PRESIZE_MAX (1ull << 20)

/* The first callback of a request (headers only): tenant, authentication, the tenant's limits
 * and ingest rate, the declared body size. Answers at once (sc->too_large = 2) when refused. */
static enum MHD_Result on_headers(struct server *s, struct MHD_Connection *c, const char *url,
				  const char *method, struct server_conn *sc)
{
	const char *cl =
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *hdr = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Scope-OrgID");
	struct server_resp r = {.status = MHD_HTTP_OK, .ctype = "application/json"};
	const char *tenant = NULL;
	unsigned long long declared = 0;
	int method_ok = 0;
	const struct server_route *rt = server_route_find(method, url, &method_ok);
	enum server_scope scope = rt && method_ok ? rt->scope : SERVER_SCOPE_NONE;
	unsigned int status = 0;
	enum MHD_Result ret;

	sc->start_ns = mono_ns();
	buf_init(&r.body, MEM_SERVER, 4096);
	if (hdr && *hdr && !server_tenant_ok(hdr) && scope != SERVER_SCOPE_NONE) {
		server_resp_error(&r, MHD_HTTP_BAD_REQUEST,
				  "X-Scope-OrgID is not a tenant id ([A-Za-z0-9_.-]{1,64})");
		status = MHD_HTTP_BAD_REQUEST;
	} else {
		status = server_auth_check(s, c, scope, hdr, &tenant, &r);
		if (status == MHD_HTTP_UNAUTHORIZED)
			atomic_fetch_add(&s->n_unauthorized, 1);
		else if (status == MHD_HTTP_FORBIDDEN)
			atomic_fetch_add(&s->n_forbidden, 1);
	}
	if (!status) {
		snprintf(sc->tenant, sizeof(sc->tenant), "%s",
			 server_tenant_ok(tenant) ? tenant : "anonymous");
		server_limiter_get(s->limiter, sc->tenant, scope != SERVER_SCOPE_NONE, &sc->lim);
		if (scope == SERVER_SCOPE_INGEST) {
			unsigned int wait_s =
				server_limiter_take(s->limiter, sc->tenant, mono_ns());
			if (wait_s) {
				atomic_fetch_add(&s->n_rate_limited, 1);
				server_resp_error(
					&r, MHD_HTTP_TOO_MANY_REQUESTS,
					"tenant %s is over its ingest rate (%g profiles/s); "
					"retry after %u s",
					sc->tenant, sc->lim.ingest_rate, wait_s);
				r.retry_after_s = wait_s;
				status = MHD_HTTP_TOO_MANY_REQUESTS;
			}
		}
	}
	if (!status && scope == SERVER_SCOPE_INGEST)
		status = series_check(s, sc, &r);
	if (!status && cl) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);

		declared = n;
		if (errno || end == cl || n > sc->lim.max_body_bytes) {
			atomic_fetch_add(&s->n_too_large, 1);
			server_resp_error(&r, MHD_HTTP_CONTENT_TOO_LARGE,
					  "request body larger than the limit (%zu bytes)",
					  sc->lim.max_body_bytes);
			status = MHD_HTTP_CONTENT_TOO_LARGE;
		}
	}
	if (!status) {
		buf_fini(&sc->body);
		buf_init(&sc->body, MEM_SERVER, sc->lim.max_body_bytes);
		/* the declared size at once, not through a chain of reallocs (a lie costs at most
		 * BODY_PRESIZE_MAX until the body shows it) */
		if (declared)
			(void)buf_reserve(&sc->body, (size_t)EMBER_MIN(declared, BODY_PRESIZE_MAX));
		buf_fini(&r.body);
		return MHD_YES;
	}
	if (scope == SERVER_SCOPE_INGEST) {
		atomic_fetch_add(&s->n_ingest, 1);
		atomic_fetch_add(&s->n_ingest_err, 1);
	} else if (scope == SERVER_SCOPE_QUERY) {
		atomic_fetch_add(&s->n_query, 1);
		atomic_fetch_add(&s->n_query_err, 1);
	}
	sc->too_large = 2; /* answered here */
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
		sc = mem_calloc(MEM_SERVER, 1, sizeof(*sc));
		buf_init(&sc->body, MEM_SERVER, 0);
		*con_cls = sc;
		atomic_fetch_add(&s->n_http, 1);
		atomic_fetch_add(&s->n_inflight, 1);
		return on_headers(s, c, url, method, sc);
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

	struct server_req q = {.srv = s,
			       .conn = c,
			       .tenant = sc->tenant,
			       .method = method,
			       .url = url,
			       .body = sc->body.data,
			       .body_len = sc->body.len,
			       .limits = &sc->lim,
			       .start_ns = sc->start_ns};
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
	struct server *s = cls;
	struct server_conn *sc = *con_cls;

	(void)c;
	(void)toe;
	if (sc) {
		buf_fini(&sc->body);
		mem_free(sc);
		*con_cls = NULL;
		atomic_fetch_sub(&s->n_inflight, 1);
	}
}

/* Reads a PEM file (bounded) into the server's arena, NUL-terminated. */
static int read_pem(struct server *s, const char *path, const char *what, char **out,
		    struct ember_diag *d)
{
	struct buf b;
	int err;

	buf_init(&b, MEM_SERVER, SERVER_MAX_PEM_BYTES);
	err = buf_read_file(&b, path);
	if (err) {
		buf_fini(&b);
		return ember_diag_set(d, err, "TLS %s %s: %s", what, path,
				      err == -EMBER_ELIMIT ? "larger than 1 MiB"
							   : ember_strerror(err));
	}
	if (!b.len || !memmem(b.data, b.len, "-----BEGIN ", 11)) {
		buf_fini(&b);
		return ember_diag_set(d, -EMBER_EUSAGE, "TLS %s %s: not a PEM file", what, path);
	}
	*out = arena_strndup(s->arena, (const char *)b.data, b.len);
	buf_fini(&b);
	return 0;
}

static void server_free(struct server *s)
{
	if (s->store)
		store_close(s->store);
	server_limiter_free(s->limiter);
	arena_free(s->arena);
	mem_free(s);
}

/* The store options: the configured tuning, the directory, and the store-wide limits widened to
 * the largest per-tenant value (the server enforces the tenant's own). */
static void store_opts_for(const struct server_opts *o, struct store_opts *so)
{
	uint32_t series = o->limits.max_series, labels = o->limits.max_labels,
		 lvlen = o->limits.max_label_value_len;

	if (o->store)
		*so = *o->store;
	so->backend = so->backend ? so->backend : "local";
	so->dir = o->data_dir ? o->data_dir : "./data";
	so->background = true;
	for (size_t i = 0; i < o->n_tenant_limits; i++) {
		const struct server_limits *l = &o->tenant_limits[i].lim;
		if (series && l->max_series > series)
			series = l->max_series;
		if (labels && l->max_labels > labels)
			labels = l->max_labels;
		if (lvlen && l->max_label_value_len > lvlen)
			lvlen = l->max_label_value_len;
	}
	if (!so->limits.max_series_per_tenant)
		so->limits.max_series_per_tenant = series;
	if (!so->limits.max_labels_per_series)
		so->limits.max_labels_per_series = labels;
	if (!so->limits.max_label_value_len)
		so->limits.max_label_value_len = lvlen;
}

int server_start(const struct server_opts *o, struct server **out, struct ember_diag *d)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	unsigned char addr[4];
	unsigned short port;
	struct store_opts so = {0};
	char *cert = NULL, *key = NULL;
	unsigned int flags =
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG | MHD_USE_ITC;
	struct server *s;
	int err;

	err = server_listen_parse(o->listen ? o->listen : "127.0.0.1:4040", addr, &port, d);
	if (err)
		return err;
	if (!o->tls_cert != !o->tls_key)
		return ember_diag_set(d, -EMBER_EUSAGE, "TLS needs both a certificate and a key");
	if (o->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return ember_diag_set(d, -EMBER_EUNSUPPORTED,
				      "this libmicrohttpd has no TLS support (GnuTLS)");
	memcpy(&sa.sin_addr.s_addr, addr, 4);
	sa.sin_port = htons(port);
	s = mem_calloc(MEM_SERVER, 1, sizeof(*s));
	s->arena = arena_new(MEM_SERVER, 16384);
	s->max_body_bytes = o->max_body_bytes ? o->max_body_bytes : SERVER_DEFAULT_BODY;
	s->shutdown_grace_ns = o->shutdown_grace_ns ? o->shutdown_grace_ns : SERVER_DEFAULT_GRACE;
	if (o->n_tokens) {
		struct server_token *t = arena_calloc(s->arena, o->n_tokens, sizeof(*t));
		for (size_t i = 0; i < o->n_tokens; i++) {
			t[i].token = arena_strndup(s->arena, o->tokens[i].token,
						   strlen(o->tokens[i].token));
			t[i].tenant = arena_strndup(s->arena, o->tokens[i].tenant,
						    strlen(o->tokens[i].tenant));
			t[i].scopes = o->tokens[i].scopes;
		}
		s->tokens = t;
		s->n_tokens = o->n_tokens;
	}
	/* Overrides are copied too: the limiter keeps pointers to them. */
	struct server_tenant_limits *tl = NULL;
	if (o->n_tenant_limits) {
		tl = arena_calloc(s->arena, o->n_tenant_limits, sizeof(*tl));
		for (size_t i = 0; i < o->n_tenant_limits; i++) {
			tl[i].tenant = arena_strndup(s->arena, o->tenant_limits[i].tenant,
						     strlen(o->tenant_limits[i].tenant));
			tl[i].lim = o->tenant_limits[i].lim;
		}
	}
	s->limiter = server_limiter_new(&o->limits, tl, o->n_tenant_limits, s->max_body_bytes);
	if (o->tls_cert) {
		err = read_pem(s, o->tls_cert, "certificate", &cert, d);
		if (!err)
			err = read_pem(s, o->tls_key, "key", &key, d);
		if (err) {
			server_free(s);
			return err;
		}
		flags |= MHD_USE_TLS;
		s->tls = true;
	}
	store_opts_for(o, &so);
	s->store_max_series = so.limits.max_series_per_tenant ? so.limits.max_series_per_tenant
							      : SERVER_STORE_DEFAULT_SERIES;
	err = store_open(&so, &s->store, d);
	if (err) {
		s->store = NULL;
		server_free(s);
		return err;
	}
	/* The certificate and key only with TLS; an empty option array otherwise. */
	struct MHD_OptionItem tls_opts[] = {{MHD_OPTION_HTTPS_MEM_KEY, 0, key},
					    {MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
					    {MHD_OPTION_END, 0, NULL}};
	errno = 0;
	s->mhd = MHD_start_daemon(
		flags, port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
		(struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned int)(o->n_threads ? o->n_threads : SERVER_DEFAULT_THREADS),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)512, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_ARRAY,
		s->tls ? tls_opts : tls_opts + 2, MHD_OPTION_END);
	if (!s->mhd) {
		err = errno ? -errno : -EADDRINUSE;
		server_free(s);
		if (cert)
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "cannot serve HTTPS on %s: the certificate and key "
					      "are not a valid pair, or the address is in use (see "
					      "libmicrohttpd's message above)",
					      o->listen ? o->listen : "127.0.0.1:4040");
		return ember_diag_set(d, err, "cannot listen on %s: %s",
				      o->listen ? o->listen : "127.0.0.1:4040",
				      ember_strerror(err));
	}
	err = server_scrape_start(s, o->config_path, d);
	if (err) {
		MHD_stop_daemon(s->mhd);
		server_free(s);
		return err;
	}
	LOG_INFO("server: listening on %s://%u.%u.%u.%u:%u, data in %s, %zu tokens",
		 s->tls ? "https" : "http", addr[0], addr[1], addr[2], addr[3], port, so.dir,
		 s->n_tokens);
	*out = s;
	return 0;
}

void server_stop(struct server *s)
{
	int64_t deadline;

	if (!s)
		return;
	server_scrape_stop(s);
	/* Stop accepting; requests already received run to completion (bounded by the grace). */
	MHD_socket ls = MHD_quiesce_daemon(s->mhd);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	deadline = mono_ns() + s->shutdown_grace_ns;
	while (atomic_load(&s->n_inflight) > 0 && mono_ns() < deadline) {
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&s->n_inflight) > 0)
		LOG_WARN("server: %lld requests still running after the shutdown grace period",
			 (long long)atomic_load(&s->n_inflight));
	MHD_stop_daemon(s->mhd);
	server_free(s);
}
