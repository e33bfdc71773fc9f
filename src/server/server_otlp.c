/*
 * server_otlp.c — OTLP/HTTP profiles: `POST /v1development/profiles` with a protobuf
 * ExportProfilesServiceRequest (application/x-protobuf or application/protobuf, optionally
 * Content-Encoding: gzip, inflated within the tenant's limits). Every profile of the request is
 * decoded first (format/otlp.c: indices checked, labels from the resource, scope and profile
 * attributes); only when all decode are they appended to the store, one append per profile,
 * so a bad request stores nothing. Answers an empty ExportProfilesServiceResponse (200), or a
 * JSON error: 400 (malformed, an index out of range, a label limit), 413 (inflated body too
 * large), 415 (content type or encoding), 429 (a store limit), 5xx (the store failed).
 */
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "format/gzip.h"
#include "format/otlp.h"
#include "server/server_int.h"

#define OTLP_DEFAULT_DURATION_NS 10000000000LL /* Pyroscope's default for a missing duration */

static const char *header(const struct server_req *q, const char *name)
{
	return MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, name);
}

static int ctype_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return !strncasecmp(ct, want, n) && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* Appends every decoded profile; stops at the first store error (reported in r). */
static int store_all(const struct server_req *q, const struct otlp_request *req,
		     struct server_resp *r)
{
	int64_t now = server_now_ns();

	for (size_t i = 0; i < req->n_profiles; i++) {
		const struct otlp_profile *op = &req->profiles[i];
		struct prof_meta *m = prof_meta(op->prof);
		struct store_label *labels;
		struct ember_diag d = {{0}};
		int err;

		if (prof_n_samples(op->prof) == 0)
			continue;
		if (m->time_ns == 0)
			m->time_ns = now;
		if (m->duration_ns == 0)
			m->duration_ns = OTLP_DEFAULT_DURATION_NS;
		labels = mem_calloc(MEM_SERVER, op->n_labels + 1, sizeof(*labels));
		for (size_t k = 0; k < op->n_labels; k++) {
			labels[k].name = op->labels[k].name;
			labels[k].value = op->labels[k].value;
		}
		struct store_append ap = {.tenant = q->tenant,
					  .labels = labels,
					  .n_labels = op->n_labels,
					  .name = op->name,
					  .time_ns = m->time_ns,
					  .prof = op->prof};
		err = store_append(q->srv->store, &ap, &d);
		mem_free(labels);
		if (err) {
			unsigned int st = err == -EMBER_ELIMIT ? 429 : server_store_status(err, r);

			server_resp_error(r, st, "profile %zu of %zu: %s", i + 1, req->n_profiles,
					  ember_diag_msg(&d, err));
			return -1;
		}
		atomic_fetch_add(&q->srv->ingest_profiles, 1);
		atomic_fetch_add(&q->srv->ingest_samples, prof_n_samples(op->prof));
	}
	return 0;
}

void server_otlp(const struct server_req *q, struct server_resp *r)
{
	const char *ct = header(q, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *enc = header(q, MHD_HTTP_HEADER_CONTENT_ENCODING);
	const struct server_limits *lim = q->limits;
	const uint8_t *body = q->body;
	size_t len = q->body_len;
	struct otlp_request *req = NULL;
	struct ember_diag d = {{0}};
	struct buf tmp;
	int err;

	buf_init(&tmp, MEM_SERVER, SIZE_MAX);
	if (!ct ||
	    !(ctype_is(ct, "application/x-protobuf") || ctype_is(ct, "application/protobuf"))) {
		server_resp_error(r, 415,
				  "Content-Type %.60s: want application/x-protobuf (OTLP/JSON is "
				  "not supported)",
				  ct ? ct : "(none)");
		goto out;
	}
	if (enc && *enc && strcasecmp(enc, "identity")) {
		if (strcasecmp(enc, "gzip")) {
			server_resp_error(r, 415, "Content-Encoding %.40s: only gzip is accepted",
					  enc);
			goto out;
		}
		err = server_gunzip_body(q, &tmp, &d);
		if (err) {
			server_resp_error(r, err == -EMBER_ELIMIT ? 413 : 400, "gzip body: %s",
					  ember_diag_msg(&d, err));
			goto out;
		}
		body = tmp.data;
		len = tmp.len;
	}

	struct otlp_limits ol = {
		.max_labels = (lim->max_labels ? lim->max_labels : 32) - 2,
		.max_label_value_len = lim->max_label_value_len ? lim->max_label_value_len : 2048,
	};
	err = otlp_decode(body, len, &ol, &req, &d);
	if (err) {
		server_resp_error(r, 400, "%s", ember_diag_msg(&d, err));
		goto out;
	}
	if (store_all(q, req, r))
		goto out;
	r->status = 200;
	r->ctype = "application/x-protobuf"; /* an empty ExportProfilesServiceResponse */
out:
	otlp_request_free(req);
	buf_fini(&tmp);
}
