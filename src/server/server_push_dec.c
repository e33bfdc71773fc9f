/*
 * server_push_dec.c — decodes a push.v1 PushRequest (grafana/pyroscope api/push/v1/push.proto:
 * series = 1 {labels = 1 {name = 1, value = 2}, samples = 2 {raw_profile = 1, ID = 2}}) from
 * binary proto (zero-copy: raw profiles point into the body) or Connect JSON (jansson; base64
 * raw profiles decoded into the arena). Counts are bounded, label names and lengths checked, so
 * the handler can store every series or refuse the request as a whole.
 */
#include <jansson.h>
#include <string.h>

#include "base/base64.h"
#include "base/wire.h"
#include "format/json_depth.h"
#include "server/server_push.h"

#define PUSH_MAX_NAME_LEN   256
#define PUSH_MAX_JSON_DEPTH 32

static void limits_fill(struct server_push_limits *l, const struct server_push_limits *in)
{
	memset(l, 0, sizeof(*l));
	if (in)
		*l = *in;
	if (!l->max_series)
		l->max_series = 1000;
	if (!l->max_samples)
		l->max_samples = 1000;
	if (!l->max_labels)
		l->max_labels = 32;
	if (!l->max_label_value_len)
		l->max_label_value_len = 2048;
}

/* Checks and copies label k of series si. */
static int set_label(struct store_label *l, const char *name, size_t nlen, const char *value,
		     size_t vlen, const struct server_push_limits *lim, struct arena *a, size_t si,
		     size_t k, struct ember_diag *d)
{
	if (nlen > PUSH_MAX_NAME_LEN)
		return ember_diag_set(d, -EMBER_ELIMIT,
				      "series[%zu].labels[%zu].name: longer than %d bytes", si, k,
				      PUSH_MAX_NAME_LEN);
	if (!store_label_name_ok(name, nlen))
		return ember_diag_set(d, -EMBER_EFORMAT,
				      "series[%zu].labels[%zu].name: '%.*s' is not a label name "
				      "([A-Za-z_][A-Za-z0-9_.]*)",
				      si, k, (int)EMBER_MIN(nlen, 64), name);
	if (vlen > lim->max_label_value_len)
		return ember_diag_set(d, -EMBER_ELIMIT,
				      "series[%zu].labels[%zu] (%.*s): value longer than %zu bytes",
				      si, k, (int)EMBER_MIN(nlen, 64), name,
				      lim->max_label_value_len);
	if (memchr(value, 0, vlen))
		return ember_diag_set(d, -EMBER_EFORMAT, "series[%zu].labels[%zu]: NUL in value",
				      si, k);
	l->name = arena_strndup(a, name, nlen);
	l->value = arena_strndup(a, value, vlen);
	return 0;
}

/* --- binary proto -------------------------------------------------------------------------- */

/* Counts the LEN fields numbered `field` of a message; -1 when malformed. */
static long count_len_fields(const uint8_t *p, size_t n, uint32_t field)
{
	struct wire_reader r;
	uint32_t f;
	enum wire_type wt;
	long c = 0;

	wire_reader_init(&r, p, n);
	while (!wire_eof(&r)) {
		if (wire_read_tag(&r, &f, &wt))
			return -1;
		if (f == field && wt != WIRE_LEN)
			return -1;
		if (wire_skip(&r, wt))
			return -1;
		c += f == field;
	}
	return c;
}

/* The string fields 1 and 2 of a message (LabelPair name/value, RawSample raw_profile/ID). */
static int two_fields(const uint8_t *p, size_t n, const uint8_t **a, size_t *an, const uint8_t **b,
		      size_t *bn)
{
	struct wire_reader r;
	uint32_t f;
	enum wire_type wt;

	*a = *b = (const uint8_t *)"";
	*an = *bn = 0;
	wire_reader_init(&r, p, n);
	while (!wire_eof(&r)) {
		if (wire_read_tag(&r, &f, &wt))
			return -1;
		if ((f == 1 || f == 2) && wt != WIRE_LEN)
			return -1;
		if (f == 1 || f == 2) {
			if (wire_read_len(&r, f == 1 ? a : b, f == 1 ? an : bn))
				return -1;
		} else if (wire_skip(&r, wt)) {
			return -1;
		}
	}
	return 0;
}

static int decode_series(const uint8_t *p, size_t n, const struct server_push_limits *lim,
			 struct arena *a, struct server_push_series *s, size_t si, size_t *n_raw,
			 struct ember_diag *d)
{
	long nl = count_len_fields(p, n, 1), ns = count_len_fields(p, n, 2);
	struct wire_reader r;
	uint32_t f;
	enum wire_type wt;
	const uint8_t *m, *x, *y;
	size_t mn, xn, yn;
	int err;

	if (nl < 0 || ns < 0)
		return ember_diag_set(d, -EMBER_EFORMAT, "series[%zu]: malformed protobuf", si);
	if ((size_t)nl > lim->max_labels)
		return ember_diag_set(d, -EMBER_ELIMIT, "series[%zu]: %ld labels (limit %zu)", si,
				      nl, lim->max_labels);
	*n_raw += (size_t)ns;
	if (*n_raw > lim->max_samples)
		return ember_diag_set(d, -EMBER_ELIMIT, "more than %zu raw profiles in the request",
				      lim->max_samples);
	s->labels = arena_calloc(a, (size_t)nl + 1, sizeof(*s->labels));
	s->samples = arena_calloc(a, (size_t)ns + 1, sizeof(*s->samples));
	wire_reader_init(&r, p, n);
	while (!wire_eof(&r)) {
		wire_read_tag(&r, &f, &wt); /* checked by the counting */
		if (f != 1 && f != 2) {
			wire_skip(&r, wt);
			continue;
		}
		wire_read_len(&r, &m, &mn);
		if (two_fields(m, mn, &x, &xn, &y, &yn))
			return ember_diag_set(d, -EMBER_EFORMAT, "series[%zu].%s[%zu]: malformed",
					      si, f == 1 ? "labels" : "samples",
					      f == 1 ? s->n_labels : s->n_samples);
		if (f == 1) {
			err = set_label(&s->labels[s->n_labels], (const char *)x, xn,
					(const char *)y, yn, lim, a, si, s->n_labels, d);
			if (err)
				return err;
			s->n_labels++;
		} else {
			s->samples[s->n_samples].raw = x;
			s->samples[s->n_samples++].len = xn;
		}
	}
	return 0;
}

int server_push_decode_proto(const uint8_t *body, size_t len, const struct server_push_limits *in,
			     struct arena *a, struct server_push_req *out, struct ember_diag *d)
{
	struct server_push_limits lim;
	long n = count_len_fields(body, len, 1);
	struct wire_reader r;
	uint32_t f;
	enum wire_type wt;
	const uint8_t *p;
	size_t pn, n_raw = 0;
	int err;

	limits_fill(&lim, in);
	memset(out, 0, sizeof(*out));
	if (n < 0)
		return ember_diag_set(d, -EMBER_EFORMAT, "PushRequest: malformed protobuf");
	if ((size_t)n > lim.max_series)
		return ember_diag_set(d, -EMBER_ELIMIT, "%ld series (limit %zu)", n,
				      lim.max_series);
	out->series = arena_calloc(a, (size_t)n + 1, sizeof(*out->series));
	wire_reader_init(&r, body, len);
	while (!wire_eof(&r)) {
		wire_read_tag(&r, &f, &wt);
		if (f != 1) {
			wire_skip(&r, wt);
			continue;
		}
		wire_read_len(&r, &p, &pn);
		err = decode_series(p, pn, &lim, a, &out->series[out->n_series], out->n_series,
				    &n_raw, d);
		if (err)
			return err;
		out->n_series++;
	}
	return 0;
}

/* --- Connect JSON -------------------------------------------------------------------------- */

/* A member by its JSON name or its proto name. */
static json_t *member(json_t *o, const char *json_name, const char *proto_name)
{
	json_t *v = json_object_get(o, json_name);

	return v ? v : json_object_get(o, proto_name);
}

static int json_series(json_t *js, const struct server_push_limits *lim, struct arena *a,
		       struct server_push_series *s, size_t si, size_t *n_raw, struct ember_diag *d)
{
	json_t *labels = member(js, "labels", "labels"),
	       *samples = member(js, "samples", "samples");
	size_t nl, ns;
	int err;

	if (!json_is_object(js))
		return ember_diag_set(d, -EMBER_EFORMAT, "series[%zu]: want an object", si);
	if ((labels && !json_is_array(labels) && !json_is_null(labels)) ||
	    (samples && !json_is_array(samples) && !json_is_null(samples)))
		return ember_diag_set(d, -EMBER_EFORMAT,
				      "series[%zu]: labels and samples must be arrays", si);
	nl = json_is_array(labels) ? json_array_size(labels) : 0;
	ns = json_is_array(samples) ? json_array_size(samples) : 0;
	if (nl > lim->max_labels)
		return ember_diag_set(d, -EMBER_ELIMIT, "series[%zu]: %zu labels (limit %zu)", si,
				      nl, lim->max_labels);
	*n_raw += ns;
	if (*n_raw > lim->max_samples)
		return ember_diag_set(d, -EMBER_ELIMIT, "more than %zu raw profiles in the request",
				      lim->max_samples);
	s->labels = arena_calloc(a, nl + 1, sizeof(*s->labels));
	s->samples = arena_calloc(a, ns + 1, sizeof(*s->samples));
	for (size_t k = 0; k < nl; k++) {
		json_t *l = json_array_get(labels, k), *nm, *v;

		if (!json_is_object(l))
			return ember_diag_set(d, -EMBER_EFORMAT,
					      "series[%zu].labels[%zu]: want {name, value}", si, k);
		nm = json_object_get(l, "name");
		v = json_object_get(l, "value");
		if (!json_is_string(nm) || (v && !json_is_string(v) && !json_is_null(v)))
			return ember_diag_set(d, -EMBER_EFORMAT,
					      "series[%zu].labels[%zu]: name and value must be "
					      "strings",
					      si, k);
		err = set_label(&s->labels[k], json_string_value(nm), json_string_length(nm),
				json_is_string(v) ? json_string_value(v) : "",
				json_is_string(v) ? json_string_length(v) : 0, lim, a, si, k, d);
		if (err)
			return err;
	}
	s->n_labels = nl;
	for (size_t k = 0; k < ns; k++) {
		json_t *sm = json_array_get(samples, k), *raw;
		long n;
		uint8_t *buf;

		if (!json_is_object(sm))
			return ember_diag_set(d, -EMBER_EFORMAT,
					      "series[%zu].samples[%zu]: want an object", si, k);
		raw = member(sm, "rawProfile", "raw_profile");
		if (!json_is_string(raw))
			return ember_diag_set(d, -EMBER_EFORMAT,
					      "series[%zu].samples[%zu].rawProfile: want a base64 "
					      "string",
					      si, k);
		size_t cap = BASE64_DECODED_MAX(json_string_length(raw));

		buf = arena_alloc(a, cap);
		n = base64_decode(json_string_value(raw), json_string_length(raw), buf, cap);
		if (n < 0)
			return ember_diag_set(d, -EMBER_EFORMAT,
					      "series[%zu].samples[%zu].rawProfile: bad base64", si,
					      k);
		s->samples[k].raw = buf;
		s->samples[k].len = (size_t)n;
	}
	s->n_samples = ns;
	return 0;
}

int server_push_decode_json(const uint8_t *body, size_t len, const struct server_push_limits *in,
			    struct arena *a, struct server_push_req *out, struct ember_diag *d)
{
	struct server_push_limits lim;
	json_error_t je;
	json_t *root, *series;
	size_t n, n_raw = 0;
	int err = 0;

	limits_fill(&lim, in);
	memset(out, 0, sizeof(*out));
	if (!json_depth_ok(body, len, PUSH_MAX_JSON_DEPTH))
		return ember_diag_set(d, -EMBER_EFORMAT, "JSON nested deeper than %d",
				      PUSH_MAX_JSON_DEPTH);
	root = json_loadb((const char *)body, len, 0, &je);
	if (!root)
		return ember_diag_set(d, -EMBER_EFORMAT, "bad JSON at line %d column %d: %.120s",
				      je.line, je.column, je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return ember_diag_set(d, -EMBER_EFORMAT, "PushRequest: want a JSON object");
	}
	series = json_object_get(root, "series");
	if (series && !json_is_array(series) && !json_is_null(series)) {
		json_decref(root);
		return ember_diag_set(d, -EMBER_EFORMAT, "series: want an array");
	}
	n = json_is_array(series) ? json_array_size(series) : 0;
	if (n > lim.max_series) {
		json_decref(root);
		return ember_diag_set(d, -EMBER_ELIMIT, "%zu series (limit %zu)", n,
				      lim.max_series);
	}
	out->series = arena_calloc(a, n + 1, sizeof(*out->series));
	for (size_t i = 0; i < n && !err; i++) {
		err = json_series(json_array_get(series, i), &lim, a, &out->series[i], i, &n_raw,
				  d);
		if (!err)
			out->n_series++;
	}
	json_decref(root);
	return err;
}
