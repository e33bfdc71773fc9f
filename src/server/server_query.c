/*
 * server_query.c — the legacy Pyroscope query endpoints: GET /pyroscope/render (a merged
 * selection as flamebearer JSON), /pyroscope/render-diff (leftQuery/leftFrom/leftUntil against
 * rightQuery/rightFrom/rightUntil as a "double" flamebearer with leftTicks/rightTicks),
 * /pyroscope/label-values?label=X (for __name__ the profile type ids, as Pyroscope answers)
 * and /pyroscope/labels (both restricted by an optional query=<type>{matchers}). render and render-diff take focus=/ignore= (function regexes, as pprof's
 * -focus/-ignore) applied to the merged selection. Reads the store only, within the
 * request's tenant; the query text and times are validated before the store sees them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/mem.h"
#include "format/flamebearer.h"
#include "format/json.h"
#include "profile/flame.h"
#include "server/server_int.h"
#include "server/server_select.h"

#define QUERY_MAX_POINTS 2048

/* The optional query= of the label endpoints ("{matchers}" or "<type>{matchers}") and the
 * range. */
static int query_labels_sel(const struct server_req *rq, struct arena *a, struct store_query *q,
			    struct server_resp *r)
{
	return server_select_args(rq, "query", "from", "until", false, a, q, r);
}

static const char *units_of(const struct prof *p, int64_t *rate)
{
	const char *unit = "", *type = "";

	*rate = 100;
	if (prof_n_sample_types(p)) {
		unit = prof_string(p, prof_sample_types(p)[0].unit);
		type = prof_string(p, prof_sample_types(p)[0].type);
	}
	if (!strcmp(unit, "nanoseconds")) {
		*rate = 1000000000;
		return "samples";
	}
	if (!strcmp(unit, "bytes"))
		return "bytes";
	if (strstr(type, "goroutine"))
		return "goroutines";
	if (strstr(type, "objects"))
		return "objects";
	return "samples";
}

/* Parses the argument qkey (<profile_type>{matchers}) and the fkey/ukey range, then merges the
 * selection into *out; -1 with the error in r. Strings live in the arena a. */
static int query_select(const struct server_req *rq, const char *qkey, const char *fkey,
			const char *ukey, struct arena *a, struct store_query *q, struct prof **out,
			struct server_resp *r)
{
	if (server_select_args(rq, qkey, fkey, ukey, true, a, q, r))
		return -1;
	return server_select_merge(rq, q, NULL, 0, out, r);
}

/* max-nodes (or maxNodes) into *out; 400 on a bad value. */
static int max_nodes_arg(const struct server_req *rq, long *out, struct server_resp *r)
{
	const char *mn = server_arg(rq, "max-nodes");

	*out = SERVER_DEFAULT_MAX_NODES;
	if (!mn)
		mn = server_arg(rq, "maxNodes");
	if (mn && *mn) {
		char *end;
		errno = 0;
		*out = strtol(mn, &end, 10);
		if (errno || *end || *out < 1 || *out > SERVER_MAX_MAX_NODES) {
			server_resp_error(r, 400, "max-nodes: want an integer in 1..%d",
					  SERVER_MAX_MAX_NODES);
			return -1;
		}
	}
	return 0;
}

static const char *service_of(const struct store_query *q)
{
	for (size_t i = 0; i < q->n_matchers; i++)
		if (!strcmp(q->matchers[i].name, STORE_LABEL_SERVICE) &&
		    q->matchers[i].op == STORE_MATCH_EQ)
			return q->matchers[i].value;
	return "";
}

static void write_flame(const struct flame *f, const struct prof *p, const struct store_query *q,
			struct server_resp *r)
{
	struct flamebearer_meta m = {.spy_name = "unknown"};
	int err;

	m.name = service_of(q);
	m.units = units_of(p, &m.sample_rate);
	err = flamebearer_write(f, &m, &r->body);
	if (err) {
		server_resp_error(r, 500, "render: %s", ember_strerror(err));
		return;
	}
	r->status = 200;
	r->ctype = "application/json";
}

/* The render timeline step: at least 10 s, at most QUERY_MAX_POINTS steps over the range. */
static int64_t timeline_step(const struct store_query *q)
{
	int64_t span = q->end_ns - q->start_ns, step = 10 * 1000000000LL;

	if (span / step >= QUERY_MAX_POINTS)
		step = (span / QUERY_MAX_POINTS / 1000000000 + 1) * 1000000000;
	return step;
}

/* {"version":1,"flamebearer":..,"metadata":..,"timeline":{startTime, samples, durationDelta},
 * "groups":{},"heatmap":null}: samples are the profile totals per step over q's range (0 for
 * empty steps), from the store's select-series. */
static void write_render(const struct server_req *rq, const struct flame *f, const struct prof *p,
			 const struct store_query *q, struct server_resp *r)
{
	struct store_series_opts o = {.step_ns = timeline_step(q), .agg = STORE_AGG_SUM};
	struct store_result *res = NULL;
	struct ember_diag d = {{0}};
	int64_t rate, start_s = q->start_ns / 1000000000;
	int64_t n_steps = (q->end_ns - q->start_ns + o.step_ns - 1) / o.step_ns;
	const char *units = units_of(p, &rate);
	int err;

	err = store_select_series(rq->srv->store, q, &o, &res, &d);
	if (err) {
		server_resp_error(r, server_status_of(err), "timeline: %s",
				  ember_diag_msg(&d, err));
		return;
	}
	const struct store_series *ser = res->n_series ? &res->series[0] : NULL;
	int64_t *samples = mem_calloc(MEM_SERVER, (size_t)n_steps + 1, sizeof(*samples));
	size_t pi = 0;

	for (int64_t k = 0; k <= n_steps; k++) {
		int64_t t = q->start_ns + k * o.step_ns;

		/* Point k at start + k*step; skip any the store put before it. */
		while (ser && pi < ser->n_points && ser->points[pi].time_ns < t)
			pi++;
		if (ser && pi < ser->n_points && ser->points[pi].time_ns == t)
			samples[k] = (int64_t)ser->points[pi++].value;
	}
	struct flamebearer_timeline tl = {.start_s = start_s,
					  .step_s = o.step_ns / 1000000000,
					  .samples = samples,
					  .n_samples = (size_t)n_steps + 1};
	struct flamebearer_meta m = {
		.name = service_of(q), .units = units, .sample_rate = rate, .timeline = &tl};

	err = flamebearer_write(f, &m, &r->body);
	mem_free(samples);
	store_result_free(res);
	if (err < 0) {
		server_resp_error(r, 500, "render: response too large");
		return;
	}
	r->status = 200;
	r->ctype = "application/json";
}

void server_render(const struct server_req *rq, struct server_resp *r)
{
	struct arena *a = arena_new(MEM_SERVER, 8192);
	struct store_query q = {0};
	struct prof *p = NULL;
	struct flame *f = NULL;
	long max_nodes;

	if (max_nodes_arg(rq, &max_nodes, r) ||
	    query_select(rq, "query", "from", "until", a, &q, &p, r) ||
	    server_select_filter_args(rq, &p, r))
		goto out;
	f = flame_new(p, 0, (size_t)max_nodes);
	write_render(rq, f, p, &q, r);
out:
	flame_free(f);
	prof_free(p);
	arena_free(a);
}

void server_render_diff(const struct server_req *rq, struct server_resp *r)
{
	struct arena *a = arena_new(MEM_SERVER, 8192);
	struct store_query lq = {0}, rq2 = {0};
	struct prof *lp = NULL, *rp = NULL;
	struct flame *f = NULL;
	long max_nodes;

	if (max_nodes_arg(rq, &max_nodes, r) ||
	    query_select(rq, "leftQuery", "leftFrom", "leftUntil", a, &lq, &lp, r) ||
	    query_select(rq, "rightQuery", "rightFrom", "rightUntil", a, &rq2, &rp, r) ||
	    server_select_filter_args(rq, &lp, r) || server_select_filter_args(rq, &rp, r))
		goto out;
	f = flame_new_diff(lp, 0, rp, 0, (size_t)max_nodes);
	write_flame(f, rp, &rq2, r);
out:
	flame_free(f);
	prof_free(lp);
	prof_free(rp);
	arena_free(a);
}

static void write_strings(const struct store_result *res, struct server_resp *r)
{
	struct json_writer w;

	json_init(&w, &r->body);
	json_arr_begin(&w);
	for (size_t i = 0; res && i < res->n_strings; i++)
		json_str(&w, res->strings[i]);
	json_arr_end(&w);
	if (json_finish(&w) < 0) {
		server_resp_error(r, 500, "response too large");
		return;
	}
	r->status = 200;
	r->ctype = "application/json";
}

void server_label_values(const struct server_req *rq, struct server_resp *r)
{
	const char *label = server_arg(rq, "label");
	struct store_query q = {0};
	struct store_result *res = NULL;
	struct ember_diag d = {{0}};
	struct arena *a;
	int err;

	if (!label || !*label || strlen(label) > 256) {
		server_resp_error(r, 400, "label: want a label name");
		return;
	}
	a = arena_new(MEM_SERVER, 4096);
	if (query_labels_sel(rq, a, &q, r))
		goto out;
	if (!strcmp(label, STORE_LABEL_NAME))
		label = STORE_LABEL_PROFILE_TYPE; /* Pyroscope answers profile type ids here */
	err = store_label_values(rq->srv->store, &q, label, &res, &d);
	if (err) {
		server_resp_error(r, server_status_of(err), "%s", ember_diag_msg(&d, err));
		goto out;
	}
	write_strings(res, r);
out:
	store_result_free(res);
	arena_free(a);
}

void server_label_names(const struct server_req *rq, struct server_resp *r)
{
	struct arena *a = arena_new(MEM_SERVER, 4096);
	struct store_query q = {0};
	struct store_result *res = NULL;
	struct ember_diag d = {{0}};
	int err;

	if (query_labels_sel(rq, a, &q, r))
		goto out;
	err = store_label_names(rq->srv->store, &q, &res, &d);
	if (err) {
		server_resp_error(r, server_status_of(err), "%s", ember_diag_msg(&d, err));
		goto out;
	}
	write_strings(res, r);
out:
	store_result_free(res);
	arena_free(a);
}
