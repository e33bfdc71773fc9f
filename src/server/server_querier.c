/*
 * server_querier.c — Connect unary querier.v1.QuerierService/<Method> (what Grafana's Pyroscope
 * data source and Profiles Drilldown call): the request's encoding (application/proto or
 * application/json, optionally gzip) decoded by server_querier_dec.c, the method run against the
 * store, the answer written in the request's encoding by server_querier_out.c. Errors are
 * Connect errors {"code":"invalid_argument","message":"..."} with the matching HTTP status; an
 * unknown method is 404 "unimplemented". Times are unix ms in and out; step is seconds.
 * Reads the store only, within the request's tenant.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "format/gzip.h"
#include "format/json.h"
#include "format/pprof.h"
#include "profile/flame.h"
#include "profile/merge.h"
#include "server/server_int.h"
#include "server/server_querier.h"
#include "server/server_querier_out.h"
#include "server/server_select.h"

#define QUERIER_PREFIX	      "/querier.v1.QuerierService/"
#define QUERIER_MAX_SELECTORS 256
#define QUERIER_MAX_GROUP_BY  16
#define QUERIER_MAX_MS	      10000000000000LL /* year 2286 */
#define QUERIER_HARD_NODES    (1 << 20)

/* One call: the request, its arena and how to answer. */
struct qcall {
	const struct server_req *rq;
	struct server_resp *r;
	struct arena *a;
	const struct querier_req *in;
	bool json;
};

static void qerr(struct server_resp *r, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void qerr(struct server_resp *r, const char *code, const char *fmt, ...)
{
	static const struct {
		const char *code;
		unsigned int status;
	} st[] = {{"invalid_argument", 400},   {"unauthenticated", 401},
		  {"permission_denied", 403},  {"not_found", 404},
		  {"resource_exhausted", 429}, {"unimplemented", 501},
		  {"unavailable", 503},	       {"internal", 500}};
	unsigned int status = 500;
	va_list ap;

	for (size_t i = 0; i < EMBER_ARRAY_SIZE(st); i++)
		if (!strcmp(code, st[i].code))
			status = st[i].status;
	va_start(ap, fmt);
	server_resp_verror(r, status, code, fmt, ap);
	va_end(ap);
}

/* The Connect code of a store or format error. */
static const char *code_of(int err)
{
	switch (-err) {
	case EMBER_EUSAGE:
	case EMBER_EFORMAT:
		return "invalid_argument";
	case EMBER_ELIMIT:
		return "resource_exhausted";
	case EMBER_EUNSUPPORTED:
		return "unimplemented";
	case EROFS:
	case EAGAIN:
	case ECONNREFUSED:
	case ETIMEDOUT:
		return "unavailable";
	case ENOBUFS:
		return "resource_exhausted";
	default:
		return "internal";
	}
}

static void store_err(struct qcall *c, int err, const struct ember_diag *d)
{
	qerr(c->r, code_of(err), "%s", ember_diag_msg(d, err));
}

/* start/end (ms) into q. Label methods: 0 = unbounded. Select methods: end 0 = now, start 0 =
 * an hour before end. The end is inclusive. */
static int range_of(struct qcall *c, const struct querier_req *in, bool select,
		    struct store_query *q)
{
	int64_t s = in->start_ms, e = in->end_ms;

	q->tenant = c->rq->tenant;
	if (s < 0 || e < 0 || s > QUERIER_MAX_MS || e > QUERIER_MAX_MS) {
		qerr(c->r, "invalid_argument", "start/end: want unix milliseconds");
		return -1;
	}
	if (select && !e)
		e = server_now_ns() / 1000000;
	if (select && !s)
		s = e - SERVER_DEFAULT_WINDOW_NS / 1000000;
	if (e && e < s) {
		qerr(c->r, "invalid_argument", "end (%lld) is before start (%lld)", (long long)e,
		     (long long)s);
		return -1;
	}
	q->start_ns = s * 1000000;
	q->end_ns = e ? e * 1000000 + 1 : 0;
	return 0;
}

/* A label selector `{...}` (or "" for all) into q's matchers. */
static int selector_of(struct qcall *c, const char *field, const char *sel, struct store_query *q)
{
	struct store_query tmp = {0};
	struct ember_diag d = {{0}};
	int err = server_select_parse(sel ? sel : "", false, c->a, &tmp, &d);

	if (!err && tmp.profile_type)
		err = ember_diag_set(&d, -EMBER_EUSAGE, "want {matchers}, not a profile type");
	if (err) {
		qerr(c->r, "invalid_argument", "%s: %s", field, ember_diag_msg(&d, err));
		return -1;
	}
	q->matchers = tmp.matchers;
	q->n_matchers = tmp.n_matchers;
	return 0;
}

/* profile_typeID + label_selector + range of a select request. */
static int select_query(struct qcall *c, const struct querier_req *in, struct store_query *q)
{
	if (!in->profile_type || !*in->profile_type) {
		qerr(c->r, "invalid_argument", "profile_typeID is required");
		return -1;
	}
	if (strpbrk(in->profile_type, "{}\"= ,")) {
		qerr(c->r, "invalid_argument", "profile_typeID: bad profile type '%.80s'",
		     in->profile_type);
		return -1;
	}
	q->profile_type = in->profile_type;
	if (selector_of(c, "label_selector", in->label_selector, q))
		return -1;
	return range_of(c, in, true, q);
}

static int merge_of(struct qcall *c, const struct store_query *q, const uint64_t *spans,
		    size_t n_spans, struct prof **out)
{
	struct ember_diag d = {{0}};
	int err;

	*out = NULL;
	if (spans)
		err = store_select_spans(c->rq->srv->store, q, spans, n_spans, out, &d);
	else
		err = store_select_merge(c->rq->srv->store, q, out, &d);
	if (err) {
		store_err(c, err, &d);
		return -1;
	}
	return 0;
}

/* Whether the stack of node nd, root first and inline frames expanded, starts with cs. */
static bool has_prefix(const struct prof *p, uint32_t nd, const struct querier_strs *cs,
		       uint32_t *locs, size_t max_locs)
{
	size_t nl = 0, k = 0;
	char tmp[80];

	for (; nd && nl < max_locs; nd = prof_node_parent(p, nd))
		locs[nl++] = prof_node_location(p, nd);
	while (nl-- && k < cs->n) {
		uint32_t nf = prof_location_n_frames(p, locs[nl]);

		for (uint32_t i = nf; i-- && k < cs->n;)
			if (strcmp(prof_frame_name(p, locs[nl], i, tmp), cs->v[k++]))
				return false;
	}
	return k == cs->n;
}

/* stack_trace_selector.call_site: keeps the samples whose stack starts with it. */
static int call_site_filter(struct qcall *c, const struct querier_req *in, struct prof **p)
{
	size_t n = prof_n_samples(*p), max_locs = 4096;
	struct ember_diag d = {{0}};
	int err;

	if (!in->call_site.n)
		return 0;
	bool *keep = mem_calloc(MEM_SERVER, n ? n : 1, sizeof(*keep));
	uint32_t *locs = mem_calloc(MEM_SERVER, max_locs, sizeof(*locs));
	for (size_t i = 0; i < n; i++) {
		struct prof_sample s;

		prof_sample_get(*p, i, &s);
		keep[i] = has_prefix(*p, s.node, &in->call_site, locs, max_locs);
	}
	struct prof *f = prof_new();
	err = prof_merge_subset(f, *p, keep, &d);
	mem_free(locs);
	mem_free(keep);
	if (err) {
		prof_free(f);
		store_err(c, err, &d);
		return -1;
	}
	prof_free(*p);
	*p = f;
	return 0;
}

static size_t max_nodes_of(const struct querier_req *in)
{
	if (in->max_nodes <= 0)
		return SERVER_DEFAULT_MAX_NODES;
	return in->max_nodes > QUERIER_HARD_NODES ? QUERIER_HARD_NODES : (size_t)in->max_nodes;
}

/* Writes the response or a 500 when it is too large. */
static void finish(struct qcall *c, struct qout *w)
{
	if (qout_finish(w)) {
		qerr(c->r, "resource_exhausted", "response too large");
		return;
	}
	c->r->status = 200;
	c->r->ctype = c->json ? "application/json" : "application/proto";
}

/* --- methods ------------------------------------------------------------------------------- */

static void m_profile_types(struct qcall *c)
{
	struct store_query q = {0};
	struct store_result *res = NULL;
	struct ember_diag d = {{0}};
	struct qout w;
	char f[5][256];
	int err;

	if (range_of(c, c->in, false, &q))
		return;
	err = store_label_values(c->rq->srv->store, &q, STORE_LABEL_PROFILE_TYPE, &res, &d);
	if (err) {
		store_err(c, err, &d);
		return;
	}
	qout_init(&w, c->json, &c->r->body);
	if (res->n_strings)
		qout_rep_begin(&w, "profileTypes");
	for (size_t i = 0; i < res->n_strings && i < SERVER_MAX_PROFILE_TYPES; i++) {
		const char *id = res->strings[i];

		qout_msg_begin(&w, 1, NULL);
		qout_str(&w, 1, "ID", id);
		qout_str(&w, 2, "name", server_type_field(id, 0, f[0], sizeof(f[0])));
		qout_str(&w, 4, "sampleType", server_type_field(id, 1, f[1], sizeof(f[1])));
		qout_str(&w, 5, "sampleUnit", server_type_field(id, 2, f[2], sizeof(f[2])));
		qout_str(&w, 6, "periodType", server_type_field(id, 3, f[3], sizeof(f[3])));
		qout_str(&w, 7, "periodUnit", server_type_field(id, 4, f[4], sizeof(f[4])));
		qout_msg_end(&w);
	}
	if (res->n_strings)
		qout_rep_end(&w);
	store_result_free(res);
	finish(c, &w);
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* LabelNames / LabelValues: the union over the selectors in `matchers` (none = everything). */
static void m_label_strings(struct qcall *c, bool values)
{
	const struct querier_req *in = c->in;
	size_t n_sel = in->matchers.n ? in->matchers.n : 1, n_all = 0, cap = 0;
	struct store_result **res;
	const char **all = NULL;
	struct store_query q = {0};
	struct qout w;
	int err = 0;

	if (values && (!in->name || !*in->name)) {
		qerr(c->r, "invalid_argument", "name: the label name is required");
		return;
	}
	if (n_sel > QUERIER_MAX_SELECTORS) {
		qerr(c->r, "invalid_argument", "matchers: at most %d selectors",
		     QUERIER_MAX_SELECTORS);
		return;
	}
	if (range_of(c, in, false, &q))
		return;
	res = mem_calloc(MEM_SERVER, n_sel, sizeof(*res));
	for (size_t i = 0; i < n_sel; i++) {
		struct ember_diag d = {{0}};

		if (selector_of(c, "matchers", in->matchers.n ? in->matchers.v[i] : "", &q))
			goto out;
		if (values)
			err = store_label_values(c->rq->srv->store, &q, in->name, &res[i], &d);
		else
			err = store_label_names(c->rq->srv->store, &q, &res[i], &d);
		if (err) {
			store_err(c, err, &d);
			goto out;
		}
		for (size_t k = 0; k < res[i]->n_strings; k++) {
			if (n_all == cap)
				mem_grow(MEM_SERVER, (void **)&all, &cap, n_all + 1, sizeof(*all));
			all[n_all++] = res[i]->strings[k];
		}
	}
	if (n_all)
		qsort(all, n_all, sizeof(*all), cmp_cstr);
	qout_init(&w, c->json, &c->r->body);
	if (n_all)
		qout_rep_begin(&w, "names");
	for (size_t k = 0; k < n_all; k++)
		if (!k || strcmp(all[k], all[k - 1]))
			qout_str(&w, 1, NULL, all[k]);
	if (n_all)
		qout_rep_end(&w);
	finish(c, &w);
out:
	for (size_t i = 0; i < n_sel; i++)
		store_result_free(res[i]);
	mem_free(res);
	mem_free(all);
}

struct qset {
	const struct store_label *l;
	size_t n;
};

static int cmp_set(const void *a, const void *b)
{
	const struct qset *x = a, *y = b;

	for (size_t i = 0; i < x->n && i < y->n; i++) {
		int c = strcmp(x->l[i].name, y->l[i].name);
		if (!c)
			c = strcmp(x->l[i].value, y->l[i].value);
		if (c)
			return c;
	}
	return x->n < y->n ? -1 : x->n > y->n;
}

static bool name_wanted(const struct querier_strs *names, const char *n)
{
	if (!names->n)
		return true;
	for (size_t i = 0; i < names->n; i++)
		if (!strcmp(names->v[i], n))
			return true;
	return false;
}

/* Series: the label sets of the matching series, cut to label_names, without duplicates. */
static void m_series(struct qcall *c)
{
	const struct querier_req *in = c->in;
	size_t n_sel = in->matchers.n ? in->matchers.n : 1, n_sets = 0, cap = 0;
	struct store_result **res;
	struct qset *sets = NULL;
	struct store_query q = {0};
	struct qout w;

	if (n_sel > QUERIER_MAX_SELECTORS) {
		qerr(c->r, "invalid_argument", "matchers: at most %d selectors",
		     QUERIER_MAX_SELECTORS);
		return;
	}
	if (range_of(c, in, false, &q))
		return;
	res = mem_calloc(MEM_SERVER, n_sel, sizeof(*res));
	for (size_t i = 0; i < n_sel; i++) {
		struct ember_diag d = {{0}};
		int err;

		if (selector_of(c, "matchers", in->matchers.n ? in->matchers.v[i] : "", &q))
			goto out;
		err = store_series_list(c->rq->srv->store, &q, &res[i], &d);
		if (err) {
			store_err(c, err, &d);
			goto out;
		}
		for (size_t k = 0; k < res[i]->n_sets; k++) {
			const struct store_labelset *ls = &res[i]->sets[k];
			struct store_label *l = arena_alloc(c->a, (ls->n + 1) * sizeof(*l));
			size_t nl = 0;

			for (size_t j = 0; j < ls->n; j++)
				if (name_wanted(&in->label_names, ls->labels[j].name))
					l[nl++] = ls->labels[j];
			if (n_sets == cap)
				mem_grow(MEM_SERVER, (void **)&sets, &cap, n_sets + 1,
					 sizeof(*sets));
			sets[n_sets++] = (struct qset){l, nl};
		}
	}
	if (n_sets)
		qsort(sets, n_sets, sizeof(*sets), cmp_set);
	qout_init(&w, c->json, &c->r->body);
	if (n_sets)
		qout_rep_begin(&w, "labelsSet");
	for (size_t k = 0; k < n_sets; k++) {
		if (k && !cmp_set(&sets[k], &sets[k - 1]))
			continue;
		qout_msg_begin(&w, 2, NULL);
		if (sets[k].n)
			qout_rep_begin(&w, "labels");
		for (size_t j = 0; j < sets[k].n; j++) {
			qout_msg_begin(&w, 1, NULL);
			qout_str(&w, 1, "name", sets[k].l[j].name);
			qout_str(&w, 2, "value", sets[k].l[j].value);
			qout_msg_end(&w);
		}
		if (sets[k].n)
			qout_rep_end(&w);
		qout_msg_end(&w);
	}
	if (n_sets)
		qout_rep_end(&w);
	finish(c, &w);
out:
	for (size_t i = 0; i < n_sel; i++)
		store_result_free(res[i]);
	mem_free(res);
	mem_free(sets);
}

static void m_select_series(struct qcall *c)
{
	const struct querier_req *in = c->in;
	struct store_series_opts o = {.agg = STORE_AGG_SUM};
	struct store_query q = {0};
	struct store_result *res = NULL;
	struct ember_diag d = {{0}};
	struct qout w;
	int err;

	if (select_query(c, in, &q))
		return;
	if (!isfinite(in->step_s) || in->step_s < 0.001 || in->step_s > 366.0 * 86400) {
		qerr(c->r, "invalid_argument", "step: want seconds in 0.001..31622400, not %g",
		     in->step_s);
		return;
	}
	o.step_ns = llround(in->step_s * 1e9);
	if ((q.end_ns - q.start_ns) / o.step_ns > SERVER_MAX_SERIES_POINTS) {
		qerr(c->r, "invalid_argument", "step: %g s gives more than %d points", in->step_s,
		     SERVER_MAX_SERIES_POINTS);
		return;
	}
	if (in->group_by.n > QUERIER_MAX_GROUP_BY) {
		qerr(c->r, "invalid_argument", "group_by: at most %d labels", QUERIER_MAX_GROUP_BY);
		return;
	}
	if (in->call_site.n) {
		qerr(c->r, "unimplemented",
		     "stack_trace_selector is not supported by SelectSeries");
		return;
	}
	if (in->limit < 0) {
		qerr(c->r, "invalid_argument", "limit: want >= 0");
		return;
	}
	o.agg = in->aggregation == QUERIER_AGG_AVERAGE ? STORE_AGG_AVG : STORE_AGG_SUM;
	o.group_by = in->group_by.v;
	o.n_group_by = in->group_by.n;
	o.limit = (size_t)in->limit;
	err = store_select_series(c->rq->srv->store, &q, &o, &res, &d);
	if (err) {
		store_err(c, err, &d);
		return;
	}
	qout_init(&w, c->json, &c->r->body);
	if (res->n_series)
		qout_rep_begin(&w, "series");
	for (size_t i = 0; i < res->n_series; i++) {
		const struct store_series *s = &res->series[i];

		qout_msg_begin(&w, 1, NULL);
		if (s->labels.n)
			qout_rep_begin(&w, "labels");
		for (size_t j = 0; j < s->labels.n; j++) {
			qout_msg_begin(&w, 1, NULL);
			qout_str(&w, 1, "name", s->labels.labels[j].name);
			qout_str(&w, 2, "value", s->labels.labels[j].value);
			qout_msg_end(&w);
		}
		if (s->labels.n)
			qout_rep_end(&w);
		if (s->n_points)
			qout_rep_begin(&w, "points");
		for (size_t k = 0; k < s->n_points; k++) {
			qout_msg_begin(&w, 2, NULL);
			qout_double(&w, 1, "value", s->points[k].value);
			qout_int64(&w, 2, "timestamp", s->points[k].time_ns / 1000000);
			qout_msg_end(&w);
		}
		if (s->n_points)
			qout_rep_end(&w);
		qout_msg_end(&w);
	}
	if (res->n_series)
		qout_rep_end(&w);
	store_result_free(res);
	finish(c, &w);
}

/* span_selector: 16 hex digits each. */
static int spans_of(struct qcall *c, const struct querier_strs *s, uint64_t **out)
{
	*out = NULL;
	if (!s->n) {
		qerr(c->r, "invalid_argument", "span_selector: want at least one span id");
		return -1;
	}
	*out = arena_alloc(c->a, s->n * sizeof(**out));
	for (size_t i = 0; i < s->n; i++) {
		(*out)[i] = store_span_id_parse(s->v[i], strlen(s->v[i]));
		if (!(*out)[i]) {
			qerr(c->r, "invalid_argument",
			     "span_selector: '%.40s' is not 16 hex digits", s->v[i]);
			return -1;
		}
	}
	return 0;
}

/* SelectMergeStacktraces (with span_selector: only those spans) and SelectMergeSpanProfile. */
static void m_merge_stacktraces(struct qcall *c, bool spans_required)
{
	const struct querier_req *in = c->in;
	struct store_query q = {0};
	struct prof *p = NULL;
	struct flame *f = NULL;
	uint64_t *spans = NULL;
	struct qout w;

	if (in->format == QUERIER_FORMAT_TREE || in->format > QUERIER_FORMAT_TREE) {
		qerr(c->r, "unimplemented", "format %d: only PROFILE_FORMAT_FLAMEGRAPH is served",
		     in->format);
		return;
	}
	if (select_query(c, in, &q) ||
	    ((spans_required || in->spans.n) && spans_of(c, &in->spans, &spans)) ||
	    merge_of(c, &q, spans, in->spans.n, &p) || call_site_filter(c, in, &p))
		goto out;
	f = flame_new(p, 0, max_nodes_of(in));
	qout_init(&w, c->json, &c->r->body);
	qout_flamegraph(&w, 1, "flamegraph", f);
	finish(c, &w);
out:
	flame_free(f);
	prof_free(p);
}

static void m_merge_profile(struct qcall *c)
{
	const struct querier_req *in = c->in;
	struct store_query q = {0};
	struct prof *p = NULL;
	struct qout w;
	int err;

	if (select_query(c, in, &q) || merge_of(c, &q, NULL, 0, &p) || call_site_filter(c, in, &p))
		goto out;
	if (c->json) {
		qout_init(&w, true, &c->r->body);
		qout_profile_json(&w, p);
		finish(c, &w);
		goto out;
	}
	err = pprof_encode(p, false, &c->r->body);
	if (err) {
		qerr(c->r, code_of(err), "pprof: %s", ember_strerror(err));
		goto out;
	}
	c->r->status = 200;
	c->r->ctype = "application/proto";
out:
	prof_free(p);
}

static void m_diff(struct qcall *c)
{
	const struct querier_req *in = c->in;
	struct store_query lq = {0}, rq = {0};
	struct prof *lp = NULL, *rp = NULL;
	struct flame *f = NULL;
	struct qout w;

	if (!in->left || !in->right) {
		qerr(c->r, "invalid_argument", "left and right are required");
		return;
	}
	if (select_query(c, in->left, &lq) || select_query(c, in->right, &rq) ||
	    merge_of(c, &lq, NULL, 0, &lp) || merge_of(c, &rq, NULL, 0, &rp) ||
	    call_site_filter(c, in->left, &lp) || call_site_filter(c, in->right, &rp))
		goto out;
	f = flame_new_diff(lp, 0, rp, 0, max_nodes_of(in->right->max_nodes ? in->right : in->left));
	qout_init(&w, c->json, &c->r->body);
	qout_flamegraph(&w, 1, "flamegraph", f);
	finish(c, &w);
out:
	flame_free(f);
	prof_free(lp);
	prof_free(rp);
}

/* GetProfileStats: whether the tenant has any data (times are not tracked: omitted). */
static void m_profile_stats(struct qcall *c)
{
	struct store_query q = {.tenant = c->rq->tenant};
	struct store_result *res = NULL;
	struct ember_diag d = {{0}};
	struct qout w;
	int err = store_label_values(c->rq->srv->store, &q, STORE_LABEL_PROFILE_TYPE, &res, &d);

	if (err) {
		store_err(c, err, &d);
		return;
	}
	qout_init(&w, c->json, &c->r->body);
	qout_bool(&w, 1, "dataIngested", res->n_strings > 0);
	store_result_free(res);
	finish(c, &w);
}

/* --- transport ----------------------------------------------------------------------------- */

static const char *header(const struct server_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

/* The body, inflated when Content-Encoding is gzip; -1 with the error in r. */
static int body_of(const struct server_req *rq, struct buf *tmp, const uint8_t **p, size_t *n,
		   struct server_resp *r)
{
	const char *enc = header(rq, "Content-Encoding");
	struct gzip_limits lim = {.max_out = QUERIER_MAX_BODY, .max_ratio = 1000};
	struct ember_diag d = {{0}};
	int err;

	*p = rq->body;
	*n = rq->body_len;
	if (!enc || !*enc || !strcasecmp(enc, "identity"))
		return 0;
	if (strcasecmp(enc, "gzip")) {
		qerr(r, "unimplemented", "Content-Encoding %.40s: only gzip is accepted", enc);
		return -1;
	}
	err = gzip_inflate(rq->body, rq->body_len, &lim, tmp, &d);
	if (err) {
		qerr(r, err == -EMBER_ELIMIT ? "resource_exhausted" : "invalid_argument",
		     "gzip body: %s", ember_diag_msg(&d, err));
		return -1;
	}
	*p = tmp->data;
	*n = tmp->len;
	return 0;
}

void server_querier(const struct server_req *rq, struct server_resp *r)
{
	const char *name = rq->url + strlen(QUERIER_PREFIX);
	const char *ctype = header(rq, "Content-Type");
	int m = querier_method_of(name);
	struct querier_req in;
	struct ember_diag d = {{0}};
	struct buf tmp;
	const uint8_t *body;
	size_t len;
	bool json;
	int err;

	if (m < 0) {
		qerr(r, "unimplemented", "querier.v1.QuerierService/%.100s is not implemented",
		     name);
		r->status = 404;
		return;
	}
	if (ctype && !strncasecmp(ctype, "application/json", 16))
		json = true;
	else if (ctype && (!strncasecmp(ctype, "application/proto", 17) ||
			   !strncasecmp(ctype, "application/x-protobuf", 22)))
		json = false;
	else {
		qerr(r, "invalid_argument",
		     "Content-Type %.60s: want application/proto or application/json",
		     ctype ? ctype : "(none)");
		r->status = 415;
		return;
	}
	buf_init(&tmp, MEM_SERVER, QUERIER_MAX_BODY);
	struct arena *a = arena_new(MEM_SERVER, 8192);
	if (body_of(rq, &tmp, &body, &len, r))
		goto out;
	err = querier_decode((enum querier_method)m, body, len, json, a, &in, &d);
	if (err) {
		qerr(r, err == -EMBER_ELIMIT ? "resource_exhausted" : "invalid_argument", "%s",
		     ember_diag_msg(&d, err));
		goto out;
	}
	struct qcall c = {.rq = rq, .r = r, .a = a, .in = &in, .json = json};
	switch ((enum querier_method)m) {
	case QM_PROFILE_TYPES:
		m_profile_types(&c);
		break;
	case QM_LABEL_NAMES:
		m_label_strings(&c, false);
		break;
	case QM_LABEL_VALUES:
		m_label_strings(&c, true);
		break;
	case QM_SERIES:
		m_series(&c);
		break;
	case QM_SELECT_MERGE_STACKTRACES:
		m_merge_stacktraces(&c, false);
		break;
	case QM_SELECT_MERGE_SPAN_PROFILE:
		m_merge_stacktraces(&c, true);
		break;
	case QM_SELECT_MERGE_PROFILE:
		m_merge_profile(&c);
		break;
	case QM_SELECT_SERIES:
		m_select_series(&c);
		break;
	case QM_DIFF:
		m_diff(&c);
		break;
	case QM_GET_PROFILE_STATS:
		m_profile_stats(&c);
		break;
	case QM_N:
	default:
		qerr(r, "unimplemented", "not implemented");
		break;
	}
out:
	arena_free(a);
	buf_fini(&tmp);
}
