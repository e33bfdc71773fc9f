/*
 * server_query.c — the legacy Pyroscope query endpoints: GET /pyroscope/render (a merged
 * selection as flamebearer JSON), /pyroscope/label-values?label=X (for __name__ the profile
 * type ids, as Pyroscope answers) and /pyroscope/labels. Reads the store only, within the
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

#define QUERY_MAX_LEN	     8192
#define QUERY_DEFAULT_NODES  8192
#define QUERY_MAX_NODES	     65536
#define QUERY_DEFAULT_WINDOW (3600LL * 1000000000)

/* from/until into q (default: the last hour); 400 on bad values. */
static int query_range(const struct server_req *rq, struct store_query *q, struct server_resp *r)
{
	const char *from_s = server_arg(rq, "from"), *until_s = server_arg(rq, "until");
	int64_t now = server_now_ns();

	q->tenant = rq->tenant;
	q->start_ns = now - QUERY_DEFAULT_WINDOW;
	q->end_ns = now;
	if ((from_s && *from_s && server_time_parse(from_s, now, &q->start_ns)) ||
	    (until_s && *until_s && server_time_parse(until_s, now, &q->end_ns))) {
		server_resp_error(r, 400, "from/until: want unix s/ms/us/ns, YYYYMMDD or now-1h");
		return -1;
	}
	if (q->end_ns <= q->start_ns) {
		server_resp_error(r, 400, "until must be after from");
		return -1;
	}
	/* until is inclusive in Pyroscope; the store's end is exclusive. */
	if (q->end_ns < INT64_MAX)
		q->end_ns++;
	return 0;
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

void server_render(const struct server_req *rq, struct server_resp *r)
{
	const char *query = server_arg(rq, "query");
	const char *mn = server_arg(rq, "max-nodes");
	struct arena *a = arena_new(MEM_SERVER, 8192);
	struct store_query q = {0};
	struct ember_diag d = {{0}};
	struct prof *p = NULL;
	struct flame *f = NULL;
	long max_nodes = QUERY_DEFAULT_NODES;
	char *type, *sel;
	int err;

	if (!mn)
		mn = server_arg(rq, "maxNodes");
	if (!query || !*query || strlen(query) > QUERY_MAX_LEN) {
		server_resp_error(r, 400, "query: want <profile_type>{matchers}, at most %d bytes",
				  QUERY_MAX_LEN);
		goto out;
	}
	if (mn && *mn) {
		char *end;
		errno = 0;
		max_nodes = strtol(mn, &end, 10);
		if (errno || *end || max_nodes < 1 || max_nodes > QUERY_MAX_NODES) {
			server_resp_error(r, 400, "max-nodes: want an integer in 1..%d",
					  QUERY_MAX_NODES);
			goto out;
		}
	}
	if (query_range(rq, &q, r))
		goto out;
	size_t ql = strlen(query);
	type = arena_alloc(a, ql + 1);
	memcpy(type, query, ql + 1);
	sel = strchr(type, '{');
	if (sel) {
		char *s = arena_alloc(a, ql + 1);
		memcpy(s, sel, strlen(sel) + 1);
		*sel = 0;
		sel = s;
		struct store_matcher *ms = NULL;
		size_t nm = 0;

		err = store_matchers_parse(sel, a, &ms, &nm, &d);
		q.matchers = ms;
		q.n_matchers = nm;
		if (err) {
			server_resp_error(r, 400, "query: %s",
					  d.msg[0] ? d.msg : ember_strerror(err));
			goto out;
		}
	}
	if (!*type || strchr(type, '}')) {
		server_resp_error(r, 400, "query: missing the profile type before '{'");
		goto out;
	}
	q.profile_type = type;
	err = store_select_merge(rq->srv->store, &q, &p, &d);
	if (err) {
		server_resp_error(r, server_status_of(err), "%s",
				  d.msg[0] ? d.msg : ember_strerror(err));
		goto out;
	}
	f = flame_new(p, 0, (size_t)max_nodes);
	struct flamebearer_meta m = {.spy_name = "unknown"};
	const char *svc = NULL;
	for (size_t i = 0; i < q.n_matchers; i++)
		if (!strcmp(q.matchers[i].name, STORE_LABEL_SERVICE) &&
		    q.matchers[i].op == STORE_MATCH_EQ)
			svc = q.matchers[i].value;
	m.name = svc ? svc : "";
	m.units = units_of(p, &m.sample_rate);
	err = flamebearer_write(f, &m, &r->body);
	if (err) {
		server_resp_error(r, 500, "render: %s", ember_strerror(err));
		goto out;
	}
	r->status = 200;
	r->ctype = "application/json";
out:
	flame_free(f);
	prof_free(p);
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
	int err;

	if (!label || !*label || strlen(label) > 256) {
		server_resp_error(r, 400, "label: want a label name");
		return;
	}
	if (query_range(rq, &q, r))
		return;
	if (!strcmp(label, STORE_LABEL_NAME))
		label = STORE_LABEL_PROFILE_TYPE; /* Pyroscope answers profile type ids here */
	err = store_label_values(rq->srv->store, &q, label, &res, &d);
	if (err) {
		server_resp_error(r, server_status_of(err), "%s",
				  d.msg[0] ? d.msg : ember_strerror(err));
		return;
	}
	write_strings(res, r);
	store_result_free(res);
}

void server_label_names(const struct server_req *rq, struct server_resp *r)
{
	struct store_query q = {0};
	struct store_result *res = NULL;
	struct ember_diag d = {{0}};
	int err;

	if (query_range(rq, &q, r))
		return;
	err = store_label_names(rq->srv->store, &q, &res, &d);
	if (err) {
		server_resp_error(r, server_status_of(err), "%s",
				  d.msg[0] ? d.msg : ember_strerror(err));
		return;
	}
	write_strings(res, r);
	store_result_free(res);
}
