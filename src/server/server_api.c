/*
 * server_api.c — Ember's own JSON API under /api/v1/ (all GET), the one the web UI and
 * `ember query` use: profile-types, series (totals per step, grouped, sum/avg, top-N), top (the
 * pprof -top table with focus/ignore), function (one function's self/total per step next to the
 * selection's total) and export (the merged selection as pprof, folded, speedscope or SVG).
 * Contract: docs/api.md "query" section. Times out are unix ms; values are integers in the
 * profile type's sample unit; errors are 4xx/5xx with {"error":"..."}. Reads the store only.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/mem.h"
#include "format/folded.h"
#include "format/json.h"
#include "format/pprof.h"
#include "format/speedscope.h"
#include "format/svg.h"
#include "profile/flame.h"
#include "profile/top.h"
#include "server/server_int.h"
#include "server/server_select.h"

#define API_PREFIX	     "/api/v1/"
#define API_DEFAULT_TOP	     100
#define API_MAX_TOP	     100000
#define API_MAX_GROUP_BY     8
#define API_MAX_FUNCTION     1024
#define API_MAX_SERIES	     100000
#define API_MIN_DEFAULT_STEP 10

static void json_done(struct json_writer *w, struct server_resp *r)
{
	if (json_finish(w) < 0) {
		server_resp_error(r, 500, "response too large");
		return;
	}
	buf_putc(&r->body, '\n');
	r->status = 200;
	r->ctype = "application/json";
}

/* The unit of the selection: the profile type id's sample unit. */
static const char *unit_of(const struct store_query *q, char *tmp, size_t n)
{
	return server_type_field(q->profile_type, 2, tmp, n);
}

static void api_profile_types(const struct server_req *rq, struct server_resp *r)
{
	struct store_query q = {0};
	struct store_result *res = NULL;
	struct ember_diag d = {{0}};
	struct json_writer w;
	char f[5][256];
	static const char *const keys[] = {"name", "sample_type", "sample_unit", "period_type",
					   "period_unit"};
	int err;

	if (server_select_range(rq, "from", "until", &q, r))
		return;
	err = store_label_values(rq->srv->store, &q, STORE_LABEL_PROFILE_TYPE, &res, &d);
	if (err) {
		server_resp_error(r, server_status_of(err), "%s", ember_diag_msg(&d, err));
		return;
	}
	json_init(&w, &r->body);
	json_obj_begin(&w);
	json_key(&w, "types");
	json_arr_begin(&w);
	for (size_t i = 0; i < res->n_strings && i < SERVER_MAX_PROFILE_TYPES; i++) {
		json_obj_begin(&w);
		json_key(&w, "id");
		json_str(&w, res->strings[i]);
		for (int k = 0; k < 5; k++) {
			json_key(&w, keys[k]);
			json_str(&w, server_type_field(res->strings[i], k, f[k], sizeof(f[k])));
		}
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_obj_end(&w);
	store_result_free(res);
	json_done(&w, r);
}

/* step= in seconds; default (until-from)/300, at least 10 s; at most SERVER_MAX_SERIES_POINTS
 * steps over the range. */
static int step_arg(const struct server_req *rq, const struct store_query *q, int64_t *step_s,
		    struct server_resp *r)
{
	int64_t span_s = (q->end_ns - q->start_ns) / 1000000000;
	int64_t def = span_s / 300;

	if (def < API_MIN_DEFAULT_STEP)
		def = API_MIN_DEFAULT_STEP;
	if (server_select_int(rq, "step", def, 1, 366LL * 86400, step_s, r))
		return -1;
	if (span_s / *step_s > SERVER_MAX_SERIES_POINTS) {
		server_resp_error(r, 400, "step: %lld s gives more than %d points over the range",
				  (long long)*step_s, SERVER_MAX_SERIES_POINTS);
		return -1;
	}
	return 0;
}

static void write_labels(struct json_writer *w, const struct store_labelset *ls)
{
	json_obj_begin(w);
	for (size_t i = 0; i < ls->n; i++) {
		json_key(w, ls->labels[i].name);
		json_str(w, ls->labels[i].value);
	}
	json_obj_end(w);
}

/* group_by=a[,b...] into names (in a); -1 with a 400. */
static int group_by_arg(const struct server_req *rq, struct arena *a, const char **names, size_t *n,
			struct server_resp *r)
{
	const char *g = server_arg(rq, "group_by");

	*n = 0;
	if (!g || !*g)
		return 0;
	if (strlen(g) > 1024) {
		server_resp_error(r, 400, "group_by: too long");
		return -1;
	}
	while (*g) {
		size_t len = strcspn(g, ",");
		if (len) {
			if (*n == API_MAX_GROUP_BY) {
				server_resp_error(r, 400, "group_by: at most %d labels",
						  API_MAX_GROUP_BY);
				return -1;
			}
			names[(*n)++] = arena_strndup(a, g, len);
		}
		g += len;
		if (*g == ',')
			g++;
	}
	return 0;
}

static void api_series(const struct server_req *rq, struct server_resp *r)
{
	struct arena *a = arena_new(MEM_SERVER, 8192);
	struct store_query q = {0};
	struct store_result *res = NULL;
	struct ember_diag d = {{0}};
	struct json_writer w;
	const char *groups[API_MAX_GROUP_BY];
	const char *agg = server_arg(rq, "agg");
	struct store_series_opts o = {.agg = STORE_AGG_SUM};
	int64_t step_s, limit;
	char unit[256];
	int err;

	if (server_select_args(rq, "query", "from", "until", true, a, &q, r) ||
	    step_arg(rq, &q, &step_s, r) || group_by_arg(rq, a, groups, &o.n_group_by, r) ||
	    server_select_int(rq, "limit", 0, 0, API_MAX_SERIES, &limit, r))
		goto out;
	if (agg && *agg && strcmp(agg, "sum")) {
		if (strcmp(agg, "avg")) {
			server_resp_error(r, 400, "agg: want sum or avg, not '%.40s'", agg);
			goto out;
		}
		o.agg = STORE_AGG_AVG;
	}
	o.step_ns = step_s * 1000000000;
	o.group_by = groups;
	o.limit = (size_t)limit;
	err = store_select_series(rq->srv->store, &q, &o, &res, &d);
	if (err) {
		server_resp_error(r, server_status_of(err), "%s", ember_diag_msg(&d, err));
		goto out;
	}
	json_init(&w, &r->body);
	json_obj_begin(&w);
	json_key(&w, "unit");
	json_str(&w, unit_of(&q, unit, sizeof(unit)));
	json_key(&w, "step");
	json_int(&w, step_s);
	json_key(&w, "series");
	json_arr_begin(&w);
	for (size_t i = 0; i < res->n_series; i++) {
		const struct store_series *s = &res->series[i];

		json_obj_begin(&w);
		json_key(&w, "labels");
		write_labels(&w, &s->labels);
		json_key(&w, "points");
		json_arr_begin(&w);
		for (size_t k = 0; k < s->n_points; k++) {
			json_arr_begin(&w);
			json_int(&w, s->points[k].time_ns / 1000000);
			json_int(&w, (int64_t)llround(s->points[k].value));
			json_arr_end(&w);
		}
		json_arr_end(&w);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_obj_end(&w);
	json_done(&w, r);
out:
	store_result_free(res);
	arena_free(a);
}

static void api_top(const struct server_req *rq, struct server_resp *r)
{
	struct arena *a = arena_new(MEM_SERVER, 8192);
	struct store_query q = {0};
	struct prof *p = NULL;
	struct prof_top *t = NULL;
	struct json_writer w;
	int64_t limit;
	char unit[256];

	if (server_select_args(rq, "query", "from", "until", true, a, &q, r) ||
	    server_select_int(rq, "limit", API_DEFAULT_TOP, 0, API_MAX_TOP, &limit, r) ||
	    server_select_merge(rq, &q, NULL, 0, &p, r) || server_select_filter_args(rq, &p, r))
		goto out;
	t = prof_top_new(p, 0, false);
	json_init(&w, &r->body);
	json_obj_begin(&w);
	json_key(&w, "unit");
	json_str(&w, unit_of(&q, unit, sizeof(unit)));
	json_key(&w, "total");
	json_int(&w, prof_top_total(t));
	json_key(&w, "rows");
	json_arr_begin(&w);
	for (size_t i = 0; i < prof_top_len(t) && (!limit || i < (size_t)limit); i++) {
		const struct prof_top_row *row = prof_top_row(t, i);

		if (!row->flat && !row->cum)
			continue;
		json_obj_begin(&w);
		json_key(&w, "name");
		json_str(&w, row->name);
		json_key(&w, "self");
		json_int(&w, row->flat);
		json_key(&w, "total");
		json_int(&w, row->cum);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_obj_end(&w);
	json_done(&w, r);
out:
	prof_top_free(t);
	prof_free(p);
	arena_free(a);
}

/* The selection's total at time t in a select-series result (points ascending; *k advances). */
static int64_t all_at(const struct store_result *all, size_t *k, int64_t t)
{
	const struct store_series *s = all && all->n_series ? &all->series[0] : NULL;

	while (s && *k < s->n_points && s->points[*k].time_ns < t)
		(*k)++;
	if (s && *k < s->n_points && s->points[*k].time_ns == t)
		return (int64_t)llround(s->points[*k].value);
	return 0;
}

static void api_function(const struct server_req *rq, struct server_resp *r)
{
	struct arena *a = arena_new(MEM_SERVER, 8192);
	const char *fn = server_arg(rq, "function");
	struct store_query q = {0};
	struct store_result *res = NULL, *all = NULL;
	struct ember_diag d = {{0}};
	struct json_writer w;
	struct store_series_opts o = {.agg = STORE_AGG_SUM};
	int64_t step_s;
	size_t ak = 0;
	char unit[256];
	int err;

	if (server_select_args(rq, "query", "from", "until", true, a, &q, r) ||
	    step_arg(rq, &q, &step_s, r))
		goto out;
	if (!fn || !*fn || strlen(fn) > API_MAX_FUNCTION) {
		server_resp_error(r, 400, "function: want a function name of 1..%d bytes",
				  API_MAX_FUNCTION);
		goto out;
	}
	o.step_ns = step_s * 1000000000;
	err = store_function_series(rq->srv->store, &q, fn, o.step_ns, &res, &d);
	if (!err)
		err = store_select_series(rq->srv->store, &q, &o, &all, &d);
	if (err) {
		server_resp_error(r, server_status_of(err), "%s", ember_diag_msg(&d, err));
		goto out;
	}
	json_init(&w, &r->body);
	json_obj_begin(&w);
	json_key(&w, "function");
	json_str(&w, fn);
	json_key(&w, "unit");
	json_str(&w, unit_of(&q, unit, sizeof(unit)));
	json_key(&w, "step");
	json_int(&w, step_s);
	json_key(&w, "points");
	json_arr_begin(&w);
	for (size_t i = 0; i < res->n_series; i++) {
		const struct store_series *s = &res->series[i];

		for (size_t k = 0; k < s->n_points; k++) {
			json_obj_begin(&w);
			json_key(&w, "t");
			json_int(&w, s->points[k].time_ns / 1000000);
			json_key(&w, "self");
			json_int(&w, s->points[k].self);
			json_key(&w, "total");
			json_int(&w, s->points[k].total);
			json_key(&w, "all");
			json_int(&w, all_at(all, &ak, s->points[k].time_ns));
			json_obj_end(&w);
		}
	}
	json_arr_end(&w);
	json_obj_end(&w);
	json_done(&w, r);
out:
	store_result_free(all);
	store_result_free(res);
	arena_free(a);
}

/* The profile name of the type id as a file name part: [A-Za-z0-9_.-] only. */
static void file_stem(const struct store_query *q, char *out, size_t n)
{
	server_type_field(q->profile_type, 0, out, n);
	for (char *c = out; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '-' || *c == '.'))
			*c = '_';
	if (!out[0])
		snprintf(out, n, "profile");
}

static void api_export(const struct server_req *rq, struct server_resp *r)
{
	struct arena *a = arena_new(MEM_SERVER, 8192);
	const char *fmt = server_arg(rq, "format");
	struct store_query q = {0};
	struct prof *p = NULL;
	struct flame *f = NULL;
	const char *ext, *ctype;
	char stem[64], unit[256];
	int err;

	if (!fmt || !*fmt)
		fmt = "pprof";
	if (!strcmp(fmt, "pprof")) {
		ext = "pb.gz";
		ctype = "application/octet-stream";
	} else if (!strcmp(fmt, "folded")) {
		ext = "folded";
		ctype = "text/plain; charset=utf-8";
	} else if (!strcmp(fmt, "speedscope")) {
		ext = "speedscope.json";
		ctype = "application/json";
	} else if (!strcmp(fmt, "svg")) {
		ext = "svg";
		ctype = "image/svg+xml";
	} else {
		server_resp_error(
			r, 400, "format: want pprof, folded, speedscope or svg, not '%.40s'", fmt);
		goto out;
	}
	if (server_select_args(rq, "query", "from", "until", true, a, &q, r) ||
	    server_select_merge(rq, &q, NULL, 0, &p, r) || server_select_filter_args(rq, &p, r))
		goto out;
	file_stem(&q, stem, sizeof(stem));
	if (!strcmp(fmt, "pprof")) {
		err = pprof_encode(p, true, &r->body);
	} else if (!strcmp(fmt, "folded")) {
		err = folded_write(p, 0, &r->body);
	} else if (!strcmp(fmt, "speedscope")) {
		err = speedscope_write(p, stem, &r->body);
	} else {
		struct svg_opts so = {.title = q.profile_type,
				      .unit = unit_of(&q, unit, sizeof(unit))};
		f = flame_new(p, 0, SERVER_DEFAULT_MAX_NODES);
		err = svg_write(f, &so, &r->body);
	}
	if (err) {
		server_resp_error(r, 500, "export: %s", ember_strerror(err));
		goto out;
	}
	r->status = 200;
	r->ctype = ctype;
	snprintf(r->disposition, sizeof(r->disposition), "attachment; filename=\"ember-%s.%s\"",
		 stem, ext);
out:
	flame_free(f);
	prof_free(p);
	arena_free(a);
}

struct api_route {
	const char *name;
	void (*fn)(const struct server_req *rq, struct server_resp *r);
};

static const struct api_route api_routes[] = {
	{"profile-types", api_profile_types}, {"series", api_series}, {"top", api_top},
	{"function", api_function},	      {"export", api_export},
};

void server_api(const struct server_req *rq, struct server_resp *r)
{
	const char *name = rq->url + strlen(API_PREFIX);

	for (size_t i = 0; i < EMBER_ARRAY_SIZE(api_routes); i++) {
		if (strcmp(name, api_routes[i].name))
			continue;
		if (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD")) {
			server_resp_error(r, 405, "%s is not allowed on %s", rq->method, rq->url);
			return;
		}
		api_routes[i].fn(rq, r);
		return;
	}
	server_resp_error(r, 404, "no such endpoint: %.200s", rq->url);
}
