/*
 * server_int.h — what the server's files share and nothing else includes: the server handle,
 * its counters, the response being built for one request, and the handlers' entry points.
 * Handlers never touch libmicrohttpd directly except to read query arguments and headers.
 */
#ifndef EMBER_SERVER_SERVER_INT_H
#define EMBER_SERVER_SERVER_INT_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "base/buf.h"
#include "server/server.h"
#include "store/store.h"

/* Largest response body built in memory. */
#define SERVER_MAX_RESP_BYTES ((size_t)256 << 20)

struct server_scrape;
struct server_limiter;
struct arena;

/* Request latency histogram buckets (seconds), per scope ingest and query, in /metrics. */
#define SERVER_LAT_BUCKETS 11

struct server {
	struct MHD_Daemon *mhd;
	struct store *store;
	struct server_scrape *scrape; /* server_scrape.c; NULL when nothing is scraped */
	size_t max_body_bytes;
	_Atomic uint64_t n_http;
	_Atomic uint64_t n_ingest;
	_Atomic uint64_t n_ingest_err;
	_Atomic uint64_t ingest_bytes;
	_Atomic uint64_t ingest_samples;
	_Atomic uint64_t ingest_profiles;
	_Atomic uint64_t n_query;
	_Atomic uint64_t n_query_err;
	_Atomic uint64_t n_too_large;
	/* Operations (server_auth.c, server_limits.c, server_http.c). */
	const struct server_token *tokens; /* copies owned by `arena` */
	size_t n_tokens;
	struct server_limiter *limiter;
	struct arena *arena;
	bool tls;
	int64_t shutdown_grace_ns;
	uint32_t store_max_series;	 /* the store-wide series limit per tenant */
	_Atomic uint64_t n_unauthorized; /* 401 */
	_Atomic uint64_t n_forbidden;	 /* 403 */
	_Atomic uint64_t n_rate_limited; /* 429 */
	_Atomic int64_t n_inflight;	 /* requests between first callback and completion */
	_Atomic uint64_t lat_bucket[2][SERVER_LAT_BUCKETS + 1]; /* [ingest, query][le...+Inf] */
	_Atomic uint64_t lat_sum_us[2];
};

/* One request's answer. */
struct server_resp {
	unsigned int status;
	const char *ctype;
	struct buf body;
	unsigned int retry_after_s; /* 429/503: Retry-After header; 0 = none */
	bool www_authenticate;	    /* 401: WWW-Authenticate: Bearer */
	char disposition[160];	    /* Content-Disposition header; "" = none */
	const char *cache_control;  /* Cache-Control header; NULL = none */
	const char *etag;	    /* ETag header; NULL = none */
	const void *static_body;    /* when set: the body (static storage), instead of body */
	size_t static_len;
};

/* A request as the handlers see it. */
struct server_req {
	struct server *srv;
	struct MHD_Connection *conn;
	const char *tenant;
	const char *method; /* "GET", "POST", ... */
	const char *url;    /* the path, without the query string */
	const uint8_t *body;
	size_t body_len;
	/* The tenant's limits (server_limits.c): handlers that inflate bodies or build series use
	 * max_decompressed_bytes, max_ratio, max_labels and max_label_value_len. Never NULL. */
	const struct server_limits *limits;
	int64_t start_ns; /* monotonic clock when the headers arrived */
};

/* A query argument (URL-decoded by libmicrohttpd) or NULL. */
const char *server_arg(const struct server_req *q, const char *key);

/* Sets status and a JSON body {"error":"msg"}. */
void server_resp_error(struct server_resp *r, unsigned int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sets status and a JSON error body: {"error":"msg"}\n when code is NULL, else the
 * Connect-style {"code":"...","message":"msg"}. */
void server_resp_verror(struct server_resp *r, unsigned int status, const char *code,
			const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));
/* Inflates the gzip body of q into out within q's limits (max_decompressed_bytes, default
 * 64 MiB; max_ratio); 0 or the gzip_inflate error with d set. */
int server_gunzip_body(const struct server_req *q, struct buf *out, struct ember_diag *d);
/* The HTTP status for a negative store/format code in a client request. */
unsigned int server_status_of(int err);
/* The status of a failed store_append (server_status_of) with Retry-After set on r when the
 * store asks to come back: -ENOBUFS (the backend's write queue is full) -> 429, -EAGAIN /
 * -ECONNREFUSED / -ETIMEDOUT (the backend is unreachable or slow) -> 503. */
unsigned int server_store_status(int err, struct server_resp *r);

/* The parsed `name` argument of /ingest; strings live in the request arena. */
#define SERVER_INGEST_MAX_TAGS 30
struct server_ingest_name {
	char *base; /* text before '{' */
	size_t n_tags;
	struct store_label tags[SERVER_INGEST_MAX_TAGS];
};

struct arena;

/* name=app.cpu{k=v,k2=v2} (tags named __x__ dropped but __session_id__): -1 with a 400 and a
 * message in r on bad syntax, a bad application or tag name, or too many tags. */
int server_ingest_name_parse(const char *arg, struct arena *a, struct server_ingest_name *n,
			     struct server_resp *r);

/* Parses a Pyroscope time ("now", "now-1h", digits by length: 8 YYYYMMDD, 13 ms, 16 us, 19 ns,
 * otherwise s) into ns. -EMBER_EUSAGE on anything else. */
int server_time_parse(const char *s, int64_t now_ns, int64_t *out_ns);
int64_t server_now_ns(void);

/* One multipart/form-data part's content, pointing into the request body. */
struct server_part {
	const uint8_t *data;
	size_t len;
};

/* The parts of a Pyroscope /ingest form that the server knows; others are ignored. */
struct server_multipart {
	struct server_part profile, sample_type_config, prev_profile;
};

struct prof;

/* Whether a Content-Type header is multipart/form-data. */
int server_multipart_is(const char *ctype);
/* Splits a form body; -1 with a 400 in r on any framing problem or a missing profile part. */
int server_multipart_parse(const char *ctype, const uint8_t *body, size_t len,
			   struct server_multipart *m, struct server_resp *r);
/* Applies a sample_type_config JSON (units, display-name) to p; -1 with a 400 in r. */
int server_sample_type_config(struct prof *p, const uint8_t *cfg, size_t len,
			      struct server_resp *r);

/* A pprof body decoded for the store (server_pprof.c): a whole profile, or, where the store
 * takes separate stacks, a shell profile (sample types, metadata, label sets; what
 * server_sample_type_config and the labels read) and the parsed samples, whose stacks the
 * store has added to its dictionary. */
struct pprof_limits;
struct pprof_parsed;
struct server_pprof {
	struct prof *prof;	 /* owned */
	struct pprof_parsed *pp; /* owned; NULL: prof is whole */
	struct store_stacks st;	 /* when pp */
};
int server_pprof_decode(struct store *store, const void *body, size_t len,
			const struct pprof_limits *lim, struct server_pprof *x,
			struct ember_diag *d);
size_t server_pprof_n_samples(const struct server_pprof *x);
/* The memory the decoded body holds. */
size_t server_pprof_bytes(const struct server_pprof *x);
/* Sets ap->prof and ap->stacks. */
void server_pprof_to_append(const struct server_pprof *x, struct store_append *ap);
void server_pprof_fini(struct server_pprof *x);

/* A handler: reads the request, fills the response (status, content type, body). */
typedef void (*server_handler)(const struct server_req *q, struct server_resp *r);

/* Route methods (a bit set) and scopes (what a bearer token must allow). */
#define SERVER_GET  1u /* GET and HEAD */
#define SERVER_POST 2u

enum server_scope {
	SERVER_SCOPE_NONE,   /* open: /ready, /metrics, the UI's assets */
	SERVER_SCOPE_INGEST, /* writes profiles */
	SERVER_SCOPE_QUERY,  /* reads profiles */
	SERVER_SCOPE_ADMIN
};

struct server_route {
	const char *path;
	unsigned int methods;
	enum server_scope scope;
	bool prefix; /* path is a prefix */
	server_handler fn;
};

/* The route for a method and path (server_routes.c): NULL when no path matches; *method_ok is 0
 * when the path is known but not for this method (405). */
const struct server_route *server_route_find(const char *method, const char *url, int *method_ok);

/* The path of the request (without the query string). */
const char *server_path(const struct server_req *q);

/* server_auth.c: 0 when the request may go on (*tenant set: the token's tenant, else
 * X-Scope-OrgID, else "anonymous"), else 401 or 403 with the error in r. */
unsigned int server_auth_check(const struct server *s, struct MHD_Connection *c,
			       enum server_scope scope, const char *hdr_tenant, const char **tenant,
			       struct server_resp *r);

/* server_limits.c: per-tenant limits and ingest token buckets. */
struct server_limiter *server_limiter_new(const struct server_limits *defaults,
					  const struct server_tenant_limits *overrides,
					  size_t n_overrides, size_t server_max_body);
void server_limiter_free(struct server_limiter *m);
/* Makes sure the tenant has an entry (shown in /metrics). */
void server_limiter_tenant(struct server_limiter *m, const char *tenant);
/* The effective limits of a tenant; create: give it an entry (else the defaults when none). */
void server_limiter_get(struct server_limiter *m, const char *tenant, bool create,
			struct server_limits *out);
/* Takes one ingest token: 0 when allowed, else the seconds to wait (Retry-After, >= 1). */
unsigned int server_limiter_take(struct server_limiter *m, const char *tenant, int64_t now_ns);
/* Calls fn for every tenant seen, with its ingest requests let through and refused. */
void server_limiter_each(struct server_limiter *m,
			 void (*fn)(void *arg, const char *tenant, uint64_t n_ingest,
				    uint64_t n_limited),
			 void *arg);

/* server_http.c */
void server_ready(const struct server_req *q, struct server_resp *r);
void server_metrics(const struct server_req *q, struct server_resp *r);
/* server_ingest.c: Pyroscope /ingest */
void server_ingest(const struct server_req *q, struct server_resp *r);
/* server_push.c: Connect push.v1.PusherService/Push */
void server_push(const struct server_req *q, struct server_resp *r);
/* server_otlp.c: OTLP/HTTP profiles */
void server_otlp(const struct server_req *q, struct server_resp *r);
/* server_query.c: legacy Pyroscope query API */
void server_render(const struct server_req *q, struct server_resp *r);
void server_render_diff(const struct server_req *q, struct server_resp *r);
void server_label_values(const struct server_req *q, struct server_resp *r);
void server_label_names(const struct server_req *q, struct server_resp *r);
/* server_querier.c: Connect querier.v1.QuerierService/<Method> */
void server_querier(const struct server_req *q, struct server_resp *r);
/* server_api.c: Ember's JSON API under /api/v1/ */
void server_api(const struct server_req *q, struct server_resp *r);
/* server_scrape.c: scrape targets and their state (GET /api/v1/targets); the scrape loops of
 * the config file's scrape_configs (start: none when config_path is NULL; stop: joins them);
 * per-target up/duration/errors lines appended to /metrics. */
void server_scrape_targets(const struct server_req *q, struct server_resp *r);
int server_scrape_start(struct server *s, const char *config_path, struct ember_diag *d);
void server_scrape_stop(struct server *s);
void server_scrape_metrics(struct server *s, struct buf *b);
/* server_ui.c: the web UI's assets */
void server_ui(const struct server_req *q, struct server_resp *r);

#endif
