/*
 * server_push.c — Connect unary `POST /push.v1.PusherService/Push` (what pyroscope-rs, the
 * Python/Ruby SDKs and Grafana Alloy send): a PushRequest as application/proto or Connect
 * application/json, optionally Content-Encoding: gzip (inflated within the tenant's limits),
 * decoded by server_push_dec.c. Every raw profile of every series is decoded first (pprof,
 * gzipped or not); only when all decode are they appended, one append per raw profile with the
 * series' labels (__name__ gives the profile name, other __ labels are dropped but
 * __session_id__, a missing service_name becomes unknown_service). Answers 200 with an empty
 * PushResponse ({} in JSON) or a Connect error {"code","message"}: invalid_argument 400 (bad
 * framing or labels; 422 when a raw profile does not decode), resource_exhausted 413 (inflated
 * body too large) or 429 (a store limit), 415 for an unknown content type or encoding.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "format/gzip.h"
#include "format/json.h"
#include "format/pprof.h"
#include "server/server_int.h"
#include "server/server_push.h"

#define PUSH_MAX_DECODED_FACTOR 4 /* decoded profiles' memory vs the decompressed body limit */

static void push_err(struct server_resp *r, unsigned int status, const char *code, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));

static void push_err(struct server_resp *r, unsigned int status, const char *code, const char *fmt,
		     ...)
{
	va_list ap;

	va_start(ap, fmt);
	server_resp_verror(r, status, code, fmt, ap);
	va_end(ap);
}

static const char *header(const struct server_req *q, const char *name)
{
	return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, name);
}

static int ctype_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return !strncasecmp(ct, want, n) && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* One raw profile ready to store. */
struct push_item {
	struct server_pprof x;
	const struct server_push_series *series;
};

/* The labels to store for a series (into out, cap n_labels + 1) and the profile name. */
static size_t series_labels(const struct server_push_series *s, struct store_label *out,
			    const char **name)
{
	size_t n = 0;
	int has_service = 0;

	*name = NULL;
	for (size_t i = 0; i < s->n_labels; i++) {
		const struct store_label *l = &s->labels[i];

		if (!strcmp(l->name, STORE_LABEL_NAME)) {
			*name = l->value;
			continue;
		}
		if (l->name[0] == '_' && l->name[1] == '_' && strcmp(l->name, "__session_id__"))
			continue;
		if (!strcmp(l->name, STORE_LABEL_SERVICE)) {
			if (!l->value[0])
				continue; /* empty: as if missing */
			has_service = 1;
		}
		out[n++] = *l;
	}
	if (!has_service)
		out[n++] = (struct store_label){STORE_LABEL_SERVICE, "unknown_service"};
	return n;
}

/* Decodes every raw profile; -1 with the error in r. */
static int decode_all(const struct server_req *q, const struct server_push_req *req,
		      struct push_item *items, size_t *n_items, struct server_resp *r)
{
	size_t max_out = q->limits->max_decompressed_bytes ? q->limits->max_decompressed_bytes
							   : (size_t)64 << 20;
	struct pprof_limits lim = {.gzip = {.max_out = max_out, .max_ratio = q->limits->max_ratio},
				   .max_bytes = max_out};
	size_t mem = 0;

	for (size_t i = 0; i < req->n_series; i++) {
		const struct server_push_series *s = &req->series[i];
		const char *name;
		struct store_label *tmp = mem_calloc(MEM_SERVER, s->n_labels + 2, sizeof(*tmp));
		size_t nl = series_labels(s, tmp, &name);

		for (size_t a = 0; a < nl; a++)
			for (size_t b = 0; b < a; b++)
				if (!strcmp(tmp[a].name, tmp[b].name)) {
					push_err(r, 400, "invalid_argument",
						 "series[%zu]: duplicate label %.64s", i,
						 tmp[a].name);
					mem_free(tmp);
					return -1;
				}
		mem_free(tmp);
		if (nl + 2 > (q->limits->max_labels ? q->limits->max_labels : 32)) {
			push_err(r, 400, "invalid_argument", "series[%zu]: %zu labels (limit %u)",
				 i, nl + 2, q->limits->max_labels ? q->limits->max_labels : 32);
			return -1;
		}
		if (name && (!*name || strchr(name, ':') || strlen(name) > 256)) {
			push_err(r, 400, "invalid_argument", "series[%zu]: bad __name__ '%.64s'", i,
				 name);
			return -1;
		}
		for (size_t k = 0; k < s->n_samples; k++) {
			struct ember_diag d = {{0}};
			struct push_item *it = &items[*n_items];
			int err = server_pprof_decode(q->srv->store, s->samples[k].raw,
						      s->samples[k].len, &lim, &it->x, &d);

			if (err) {
				push_err(r, err == -EMBER_ELIMIT ? 413 : 422,
					 err == -EMBER_ELIMIT ? "resource_exhausted"
							      : "invalid_argument",
					 "series[%zu].samples[%zu].rawProfile: %s", i, k,
					 ember_diag_msg(&d, err));
				return -1;
			}
			mem += server_pprof_bytes(&it->x);
			it->series = s;
			(*n_items)++;
			if (mem > PUSH_MAX_DECODED_FACTOR * max_out) {
				push_err(r, 413, "resource_exhausted",
					 "the request's profiles take more than %zu MiB decoded",
					 PUSH_MAX_DECODED_FACTOR * max_out >> 20);
				return -1;
			}
		}
	}
	return 0;
}

static int store_all(const struct server_req *q, struct push_item *items, size_t n,
		     struct server_resp *r)
{
	int64_t now = server_now_ns();

	for (size_t i = 0; i < n; i++) {
		const struct server_push_series *s = items[i].series;
		struct store_label *labels;
		struct ember_diag d = {{0}};
		const char *name;
		size_t nl;
		int err;

		if (server_pprof_n_samples(&items[i].x) == 0)
			continue;
		if (prof_meta(items[i].x.prof)->time_ns == 0)
			prof_meta(items[i].x.prof)->time_ns = now;
		labels = mem_calloc(MEM_SERVER, s->n_labels + 2, sizeof(*labels));
		nl = series_labels(s, labels, &name);
		struct store_append ap = {
			.tenant = q->tenant, .labels = labels, .n_labels = nl, .name = name};
		server_pprof_to_append(&items[i].x, &ap);
		err = store_append(q->srv->store, &ap, &d);
		mem_free(labels);
		if (err) {
			const char *msg = ember_diag_msg(&d, err);

			unsigned int st = server_store_status(err, r);

			if (err == -EMBER_ELIMIT || st == 429)
				push_err(r, 429, "resource_exhausted", "%s", msg);
			else if (err == -EMBER_EUSAGE || err == -EMBER_EFORMAT)
				push_err(r, 400, "invalid_argument", "%s", msg);
			else if (st == 503)
				push_err(r, 503, "unavailable", "%s", msg);
			else
				push_err(r, 500, "internal", "%s", msg);
			return -1;
		}
		atomic_fetch_add(&q->srv->ingest_profiles, 1);
		atomic_fetch_add(&q->srv->ingest_samples, server_pprof_n_samples(&items[i].x));
	}
	return 0;
}

void server_push(const struct server_req *q, struct server_resp *r)
{
	const char *ct = header(q, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *enc = header(q, MHD_HTTP_HEADER_CONTENT_ENCODING);
	const struct server_limits *lim = q->limits;
	struct server_push_limits pl = {.max_labels = lim->max_labels ? lim->max_labels : 32,
					.max_label_value_len = lim->max_label_value_len};
	struct arena *a = arena_new(MEM_SERVER, 16384);
	struct server_push_req req;
	struct push_item *items = NULL;
	size_t n_items = 0, n_raw = 0;
	const uint8_t *body = q->body;
	size_t len = q->body_len;
	struct ember_diag d = {{0}};
	struct buf tmp;
	bool json;
	int err;

	buf_init(&tmp, MEM_SERVER, SIZE_MAX);
	if (ct && ctype_is(ct, "application/json")) {
		json = true;
	} else if (ct &&
		   (ctype_is(ct, "application/proto") || ctype_is(ct, "application/x-protobuf") ||
		    ctype_is(ct, "application/protobuf"))) {
		json = false;
	} else {
		push_err(r, 415, "invalid_argument",
			 "Content-Type %.60s: want application/proto or application/json",
			 ct ? ct : "(none)");
		goto out;
	}
	if (enc && *enc && strcasecmp(enc, "identity")) {
		if (strcasecmp(enc, "gzip")) {
			push_err(r, 415, "unimplemented",
				 "Content-Encoding %.40s: only gzip is accepted", enc);
			goto out;
		}
		err = server_gunzip_body(q, &tmp, &d);
		if (err) {
			if (err == -EMBER_ELIMIT)
				push_err(r, 413, "resource_exhausted", "gzip body: %s",
					 ember_diag_msg(&d, err));
			else
				push_err(r, 400, "invalid_argument", "gzip body: %s",
					 ember_diag_msg(&d, err));
			goto out;
		}
		body = tmp.data;
		len = tmp.len;
	}
	err = json ? server_push_decode_json(body, len, &pl, a, &req, &d)
		   : server_push_decode_proto(body, len, &pl, a, &req, &d);
	if (err) {
		push_err(r, 400, "invalid_argument", "%s", ember_diag_msg(&d, err));
		goto out;
	}
	for (size_t i = 0; i < req.n_series; i++)
		n_raw += req.series[i].n_samples;
	items = mem_calloc(MEM_SERVER, n_raw + 1, sizeof(*items));
	if (decode_all(q, &req, items, &n_items, r) || store_all(q, items, n_items, r))
		goto out;
	r->status = 200;
	if (json) {
		r->ctype = "application/json";
		buf_puts(&r->body, "{}");
	} else {
		r->ctype = "application/proto"; /* an empty PushResponse */
	}
out:
	for (size_t i = 0; i < n_items; i++)
		server_pprof_fini(&items[i].x);
	mem_free(items);
	buf_fini(&tmp);
	arena_free(a);
}
