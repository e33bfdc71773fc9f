/*
 * server_querier_dec.c — decodes querier.v1.QuerierService request bodies, protobuf binary or
 * protojson, into one struct querier_req. One table per method maps field numbers and JSON names
 * (lowerCamel and the proto name) to members; unknown fields are skipped in both encodings, as
 * Connect servers do. Every byte is hostile: wire types are checked per field, strings are bounded
 * and may not hold NUL, repeated fields are capped, nesting is fixed by the schema (Diff holds two
 * SelectMergeStacktraces requests, nothing deeper). Never logs; errors name the field.
 */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/wire.h"
#include "server/server_querier.h"

enum qf_kind {
	QF_STR,	   /* string -> const char * */
	QF_STRS,   /* repeated string -> struct querier_strs */
	QF_INT64,  /* int64 -> int64_t */
	QF_DOUBLE, /* double -> double */
	QF_FORMAT, /* ProfileFormat -> int */
	QF_AGG,	   /* TimeSeriesAggregationType -> int */
	QF_ENUM,   /* an enum that is accepted and ignored */
	QF_STACK,  /* types.v1.StackTraceSelector -> call_site */
	QF_LEFT,   /* SelectMergeStacktracesRequest -> left */
	QF_RIGHT,  /* SelectMergeStacktracesRequest -> right */
	QF_IGNORE  /* any other known field: skipped */
};

struct qf_spec {
	uint32_t num;
	const char *proto_name;
	const char *json_name;
	enum qf_kind kind;
	size_t off;
};

#define F(n, pn, jn, k, member)                                    \
	{                                                          \
		n, pn, jn, k, offsetof(struct querier_req, member) \
	}
#define START_END(a, b) \
	F(a, "start", "start", QF_INT64, start_ms), F(b, "end", "end", QF_INT64, end_ms)
#define TYPE_SEL                                                       \
	F(1, "profile_typeID", "profileTypeID", QF_STR, profile_type), \
		F(2, "label_selector", "labelSelector", QF_STR, label_selector)

static const struct qf_spec f_profile_types[] = {START_END(1, 2)};
static const struct qf_spec f_label_names[] = {F(1, "matchers", "matchers", QF_STRS, matchers),
					       START_END(2, 3)};
static const struct qf_spec f_label_values[] = {F(1, "name", "name", QF_STR, name),
						F(2, "matchers", "matchers", QF_STRS, matchers),
						START_END(3, 4)};
static const struct qf_spec f_series[] = {F(1, "matchers", "matchers", QF_STRS, matchers),
					  F(2, "label_names", "labelNames", QF_STRS, label_names),
					  START_END(3, 4)};
static const struct qf_spec f_merge_stacktraces[] = {
	TYPE_SEL,
	START_END(3, 4),
	F(5, "max_nodes", "maxNodes", QF_INT64, max_nodes),
	F(6, "format", "format", QF_FORMAT, format),
	F(7, "stack_trace_selector", "stackTraceSelector", QF_STACK, call_site),
	F(8, "profile_id_selector", "profileIdSelector", QF_IGNORE, name),
	F(9, "async", "async", QF_IGNORE, name),
	F(10, "trace_id_selector", "traceIdSelector", QF_IGNORE, name),
	F(11, "span_selector", "spanSelector", QF_STRS, spans),
};
static const struct qf_spec f_merge_span[] = {
	TYPE_SEL,
	F(3, "span_selector", "spanSelector", QF_STRS, spans),
	START_END(4, 5),
	F(6, "max_nodes", "maxNodes", QF_INT64, max_nodes),
	F(7, "format", "format", QF_FORMAT, format),
};
static const struct qf_spec f_merge_profile[] = {
	TYPE_SEL,
	START_END(3, 4),
	F(5, "max_nodes", "maxNodes", QF_INT64, max_nodes),
	F(6, "stack_trace_selector", "stackTraceSelector", QF_STACK, call_site),
	F(7, "profile_id_selector", "profileIdSelector", QF_IGNORE, name),
	F(8, "trace_id_selector", "traceIdSelector", QF_IGNORE, name),
};
static const struct qf_spec f_select_series[] = {
	TYPE_SEL,
	START_END(3, 4),
	F(5, "group_by", "groupBy", QF_STRS, group_by),
	F(6, "step", "step", QF_DOUBLE, step_s),
	F(7, "aggregation", "aggregation", QF_AGG, aggregation),
	F(8, "stack_trace_selector", "stackTraceSelector", QF_STACK, call_site),
	F(9, "limit", "limit", QF_INT64, limit),
	F(10, "exemplar_type", "exemplarType", QF_ENUM, name),
};
static const struct qf_spec f_diff[] = {F(1, "left", "left", QF_LEFT, left),
					F(2, "right", "right", QF_RIGHT, right)};

struct qf_table {
	const char *method;
	const struct qf_spec *f;
	size_t n;
};

static const struct qf_table tables[QM_N] = {
	[QM_PROFILE_TYPES] = {"ProfileTypes", f_profile_types, EMBER_ARRAY_SIZE(f_profile_types)},
	[QM_LABEL_NAMES] = {"LabelNames", f_label_names, EMBER_ARRAY_SIZE(f_label_names)},
	[QM_LABEL_VALUES] = {"LabelValues", f_label_values, EMBER_ARRAY_SIZE(f_label_values)},
	[QM_SERIES] = {"Series", f_series, EMBER_ARRAY_SIZE(f_series)},
	[QM_SELECT_MERGE_STACKTRACES] = {"SelectMergeStacktraces", f_merge_stacktraces,
					 EMBER_ARRAY_SIZE(f_merge_stacktraces)},
	[QM_SELECT_MERGE_SPAN_PROFILE] = {"SelectMergeSpanProfile", f_merge_span,
					  EMBER_ARRAY_SIZE(f_merge_span)},
	[QM_SELECT_MERGE_PROFILE] = {"SelectMergeProfile", f_merge_profile,
				     EMBER_ARRAY_SIZE(f_merge_profile)},
	[QM_SELECT_SERIES] = {"SelectSeries", f_select_series, EMBER_ARRAY_SIZE(f_select_series)},
	[QM_DIFF] = {"Diff", f_diff, EMBER_ARRAY_SIZE(f_diff)},
	[QM_GET_PROFILE_STATS] = {"GetProfileStats", NULL, 0},
};

int querier_method_of(const char *name)
{
	for (int i = 0; i < QM_N; i++)
		if (!strcmp(name, tables[i].method))
			return i;
	return -1;
}

const char *querier_method_name(enum querier_method m)
{
	return (unsigned)m < QM_N ? tables[m].method : "?";
}

/* Enum names accepted in JSON, index = value. */
static const char *const format_names[] = {"PROFILE_FORMAT_UNSPECIFIED",
					   "PROFILE_FORMAT_FLAMEGRAPH", "PROFILE_FORMAT_TREE",
					   "PROFILE_FORMAT_DOT", "PROFILE_FORMAT_PPROF"};
static const char *const agg_names[] = {"TIME_SERIES_AGGREGATION_TYPE_SUM",
					"TIME_SERIES_AGGREGATION_TYPE_AVERAGE"};

struct qdec {
	struct arena *a;
	struct ember_diag *d;
};

static void *member(struct querier_req *r, const struct qf_spec *s)
{
	return (char *)r + s->off;
}

static int str_copy(struct qdec *c, const struct qf_spec *s, const char *p, size_t n,
		    const char **out)
{
	if (n > QUERIER_MAX_STRING)
		return ember_diag_set(c->d, -EMBER_ELIMIT, "%s: longer than %d bytes",
				      s->proto_name, QUERIER_MAX_STRING);
	if (n && memchr(p, 0, n))
		return ember_diag_set(c->d, -EMBER_EFORMAT, "%s: holds a NUL byte", s->proto_name);
	*out = arena_strndup(c->a, p, n);
	return 0;
}

static int strs_add(struct qdec *c, const struct qf_spec *s, struct querier_strs *v, const char *p,
		    size_t n, size_t max)
{
	const char *str;
	int err;

	if (v->n >= max)
		return ember_diag_set(c->d, -EMBER_ELIMIT, "%s: more than %zu entries",
				      s->proto_name, max);
	err = str_copy(c, s, p, n, &str);
	if (err)
		return err;
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		const char **nv = arena_alloc(c->a, cap * sizeof(*nv));

		if (v->n)
			memcpy(nv, v->v, v->n * sizeof(*nv));
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = str;
	return 0;
}

static size_t strs_max(const struct qf_spec *s)
{
	if (s->off == offsetof(struct querier_req, spans))
		return QUERIER_MAX_SPANS;
	return QUERIER_MAX_REPEATED;
}

static int enum_check(struct qdec *c, const struct qf_spec *s, int64_t v)
{
	if (s->kind == QF_FORMAT && (v < 0 || v >= (int64_t)EMBER_ARRAY_SIZE(format_names)))
		return ember_diag_set(c->d, -EMBER_EFORMAT, "%s: unknown value %lld", s->proto_name,
				      (long long)v);
	if (s->kind == QF_AGG && (v < 0 || v >= (int64_t)EMBER_ARRAY_SIZE(agg_names)))
		return ember_diag_set(c->d, -EMBER_EFORMAT, "%s: unknown value %lld", s->proto_name,
				      (long long)v);
	return 0;
}

static const struct qf_spec *spec_of_num(const struct qf_table *t, uint32_t num)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->f[i].num == num)
			return &t->f[i];
	return NULL;
}

/* --- protobuf binary ----------------------------------------------------------------------- */

static int proto_msg(struct qdec *c, const struct qf_table *t, struct wire_reader *r,
		     struct querier_req *out);

static int wrong_type(struct qdec *c, const struct qf_spec *s, const struct wire_reader *r)
{
	return ember_diag_set(c->d, -EMBER_EFORMAT, "%s: wrong wire type at byte %zu",
			      s->proto_name, wire_offset(r));
}

static int truncated(struct qdec *c, const struct qf_spec *s, int err, const struct wire_reader *r)
{
	return ember_diag_set(c->d, err, "%s: truncated or malformed at byte %zu", s->proto_name,
			      wire_offset(r));
}

/* Location {name=1}: the name (empty when absent). */
static int proto_location(struct qdec *c, const struct qf_spec *s, struct wire_reader *lr,
			  const uint8_t **np, size_t *nn)
{
	*np = (const uint8_t *)"";
	*nn = 0;
	while (!wire_eof(lr)) {
		uint32_t f;
		enum wire_type wt;
		int err = wire_read_tag(lr, &f, &wt);

		if (!err)
			err = f == 1 && wt == WIRE_LEN ? wire_read_len(lr, np, nn)
						       : wire_skip(lr, wt);
		if (err)
			return truncated(c, s, err, lr);
	}
	return 0;
}

/* StackTraceSelector {call_site=1: repeated Location; go_pgo=2 (ignored)}. */
static int proto_stack(struct qdec *c, const struct qf_spec *s, struct wire_reader *outer,
		       const uint8_t *p, size_t n, struct querier_strs *cs)
{
	struct wire_reader r = wire_sub(outer, p, n);

	while (!wire_eof(&r)) {
		uint32_t f;
		enum wire_type wt;
		const uint8_t *lp, *np;
		size_t ln, nn;
		int err = wire_read_tag(&r, &f, &wt);

		if (err)
			return truncated(c, s, err, &r);
		if (f != 1 || wt != WIRE_LEN) {
			if ((err = wire_skip(&r, wt)))
				return truncated(c, s, err, &r);
			continue;
		}
		if ((err = wire_read_len(&r, &lp, &ln)))
			return truncated(c, s, err, &r);
		struct wire_reader lr = wire_sub(&r, lp, ln);
		if ((err = proto_location(c, s, &lr, &np, &nn)) ||
		    (err = strs_add(c, s, cs, (const char *)np, nn, QUERIER_MAX_CALLSITE)))
			return err;
	}
	return 0;
}

static int proto_len_field(struct qdec *c, const struct qf_spec *s, struct wire_reader *r,
			   struct querier_req *out)
{
	const uint8_t *p;
	size_t n;
	int err = wire_read_len(r, &p, &n);

	if (err)
		return truncated(c, s, err, r);
	switch (s->kind) {
	case QF_STR:
		return str_copy(c, s, (const char *)p, n, (const char **)member(out, s));
	case QF_STRS:
		return strs_add(c, s, member(out, s), (const char *)p, n, strs_max(s));
	case QF_STACK:
		return proto_stack(c, s, r, p, n, &out->call_site);
	default: {
		struct querier_req **sub = member(out, s);
		struct wire_reader sr = wire_sub(r, p, n);

		if (!*sub)
			*sub = arena_calloc(c->a, 1, sizeof(**sub));
		return proto_msg(c, &tables[QM_SELECT_MERGE_STACKTRACES], &sr, *sub);
	}
	}
}

static int proto_field(struct qdec *c, const struct qf_spec *s, struct wire_reader *r,
		       enum wire_type wt, struct querier_req *out)
{
	uint64_t v;
	int err;

	switch (s->kind) {
	case QF_STR:
	case QF_STRS:
	case QF_STACK:
	case QF_LEFT:
	case QF_RIGHT:
		if (wt != WIRE_LEN)
			return wrong_type(c, s, r);
		return proto_len_field(c, s, r, out);
	case QF_INT64:
	case QF_FORMAT:
	case QF_AGG:
	case QF_ENUM:
		if (wt != WIRE_VARINT)
			return wrong_type(c, s, r);
		if ((err = wire_read_varint(r, &v)))
			return truncated(c, s, err, r);
		if (s->kind == QF_INT64) {
			*(int64_t *)member(out, s) = (int64_t)v;
			return 0;
		}
		if (s->kind == QF_ENUM)
			return 0;
		if ((err = enum_check(c, s, (int64_t)v)))
			return err;
		*(int *)member(out, s) = (int)v;
		return 0;
	case QF_DOUBLE:
		if (wt != WIRE_I64)
			return wrong_type(c, s, r);
		if ((err = wire_read_fixed64(r, &v)))
			return truncated(c, s, err, r);
		memcpy(member(out, s), &v, sizeof(double));
		return 0;
	case QF_IGNORE:
	default:
		if ((err = wire_skip(r, wt)))
			return truncated(c, s, err, r);
		return 0;
	}
}

static int proto_msg(struct qdec *c, const struct qf_table *t, struct wire_reader *r,
		     struct querier_req *out)
{
	while (!wire_eof(r)) {
		uint32_t f;
		enum wire_type wt;
		int err = wire_read_tag(r, &f, &wt);

		if (err)
			return ember_diag_set(c->d, err, "%s request: bad tag at byte %zu",
					      t->method, wire_offset(r));
		const struct qf_spec *s = spec_of_num(t, f);
		if (!s) {
			if ((err = wire_skip(r, wt)))
				return ember_diag_set(c->d, err,
						      "%s request: truncated field %u at byte %zu",
						      t->method, f, wire_offset(r));
			continue;
		}
		if ((err = proto_field(c, s, r, wt, out)))
			return err;
	}
	return 0;
}

/* --- protojson ----------------------------------------------------------------------------- */

static int json_msg(struct qdec *c, const struct qf_table *t, json_t *obj, struct querier_req *out);

static int json_bad(struct qdec *c, const struct qf_spec *s, const char *want)
{
	return ember_diag_set(c->d, -EMBER_EFORMAT, "%s: want %s", s->json_name, want);
}

static int json_int64(struct qdec *c, const struct qf_spec *s, json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);

		if (d != floor(d) || d < -9.2e18 || d > 9.2e18)
			return json_bad(c, s, "an integer");
		*out = (int64_t)d;
		return 0;
	}
	if (json_is_string(v)) {
		const char *str = json_string_value(v);
		char *end;

		if (!*str || json_string_length(v) > 24)
			return json_bad(c, s, "an integer");
		*out = strtoll(str, &end, 10);
		if (*end)
			return json_bad(c, s, "an integer");
		return 0;
	}
	return json_bad(c, s, "an integer (number or string)");
}

static int json_enum(struct qdec *c, const struct qf_spec *s, json_t *v, int *out)
{
	const char *const *names = s->kind == QF_FORMAT ? format_names : agg_names;
	size_t n =
		s->kind == QF_FORMAT ? EMBER_ARRAY_SIZE(format_names) : EMBER_ARRAY_SIZE(agg_names);
	int64_t iv;
	int err;

	if (json_is_string(v)) {
		for (size_t i = 0; i < n; i++)
			if (!strcmp(json_string_value(v), names[i])) {
				*out = (int)i;
				return 0;
			}
		return ember_diag_set(c->d, -EMBER_EFORMAT, "%s: unknown value '%.60s'",
				      s->json_name, json_string_value(v));
	}
	if ((err = json_int64(c, s, v, &iv)) || (err = enum_check(c, s, iv)))
		return err;
	*out = (int)iv;
	return 0;
}

static int json_strs(struct qdec *c, const struct qf_spec *s, json_t *v, struct querier_strs *o)
{
	size_t i;
	json_t *e;
	int err;

	if (!json_is_array(v))
		return json_bad(c, s, "an array of strings");
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e))
			return json_bad(c, s, "an array of strings");
		if ((err = strs_add(c, s, o, json_string_value(e), json_string_length(e),
				    strs_max(s))))
			return err;
	}
	return 0;
}

static int json_stack(struct qdec *c, const struct qf_spec *s, json_t *v, struct querier_req *o)
{
	json_t *cs, *e;
	size_t i;
	int err;

	if (!json_is_object(v))
		return json_bad(c, s, "an object");
	cs = json_object_get(v, "callSite");
	if (!cs)
		cs = json_object_get(v, "call_site");
	if (!cs || json_is_null(cs))
		return 0;
	if (!json_is_array(cs))
		return json_bad(c, s, "callSite as an array");
	json_array_foreach(cs, i, e)
	{
		json_t *nm = json_is_object(e) ? json_object_get(e, "name") : NULL;
		const char *str = nm && json_is_string(nm) ? json_string_value(nm) : "";
		size_t len = nm && json_is_string(nm) ? json_string_length(nm) : 0;

		if (!json_is_object(e))
			return json_bad(c, s, "callSite entries as objects {\"name\":...}");
		if ((err = strs_add(c, s, &o->call_site, str, len, QUERIER_MAX_CALLSITE)))
			return err;
	}
	return 0;
}

static int json_double_field(struct qdec *c, const struct qf_spec *s, json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		char *end;
		double d = strtod(json_string_value(v), &end);

		if (*end || !*json_string_value(v))
			return json_bad(c, s, "a number");
		*out = d;
		return 0;
	}
	return json_bad(c, s, "a number");
}

static int json_field(struct qdec *c, const struct qf_spec *s, json_t *v, struct querier_req *out)
{
	if (json_is_null(v))
		return 0;
	switch (s->kind) {
	case QF_STR:
		if (!json_is_string(v))
			return json_bad(c, s, "a string");
		return str_copy(c, s, json_string_value(v), json_string_length(v),
				(const char **)member(out, s));
	case QF_STRS:
		return json_strs(c, s, v, member(out, s));
	case QF_INT64:
		return json_int64(c, s, v, member(out, s));
	case QF_DOUBLE:
		return json_double_field(c, s, v, member(out, s));
	case QF_FORMAT:
	case QF_AGG:
		return json_enum(c, s, v, member(out, s));
	case QF_STACK:
		return json_stack(c, s, v, out);
	case QF_LEFT:
	case QF_RIGHT: {
		struct querier_req **sub = member(out, s);

		if (!json_is_object(v))
			return json_bad(c, s, "an object");
		if (!*sub)
			*sub = arena_calloc(c->a, 1, sizeof(**sub));
		return json_msg(c, &tables[QM_SELECT_MERGE_STACKTRACES], v, *sub);
	}
	case QF_ENUM:
	case QF_IGNORE:
	default:
		return 0;
	}
}

static int json_msg(struct qdec *c, const struct qf_table *t, json_t *obj, struct querier_req *out)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		const struct qf_spec *s = NULL;

		for (size_t i = 0; i < t->n && !s; i++)
			if (!strcmp(key, t->f[i].json_name) || !strcmp(key, t->f[i].proto_name))
				s = &t->f[i];
		if (!s)
			continue; /* unknown fields are ignored */
		int err = json_field(c, s, v, out);
		if (err)
			return err;
	}
	return 0;
}

int querier_decode(enum querier_method m, const uint8_t *body, size_t len, bool json,
		   struct arena *a, struct querier_req *out, struct ember_diag *d)
{
	struct qdec c = {.a = a, .d = d};
	const struct qf_table *t;
	json_error_t je;
	json_t *root;
	int err;

	memset(out, 0, sizeof(*out));
	if ((unsigned)m >= QM_N)
		return ember_diag_set(d, -EMBER_EUSAGE, "unknown method");
	t = &tables[m];
	if (len > QUERIER_MAX_BODY)
		return ember_diag_set(d, -EMBER_ELIMIT, "request larger than %zu bytes",
				      QUERIER_MAX_BODY);
	if (!json) {
		struct wire_reader r;

		wire_reader_init(&r, body, len);
		return proto_msg(&c, t, &r, out);
	}
	if (len == 0)
		return 0; /* an empty JSON body is the empty message */
	root = json_loadb((const char *)body, len, 0, &je);
	if (!root)
		return ember_diag_set(d, -EMBER_EFORMAT, "%s request: bad JSON at line %d: %s",
				      t->method, je.line, je.text);
	if (!json_is_object(root))
		err = ember_diag_set(d, -EMBER_EFORMAT, "%s request: want a JSON object",
				     t->method);
	else
		err = json_msg(&c, t, root, out);
	json_decref(root);
	return err;
}
