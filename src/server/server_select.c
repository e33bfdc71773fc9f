/*
 * server_select.c — the query handlers' shared steps (server_select.h): a query text and a time
 * range into a store_query, the merged selection, focus/ignore, profile type id fields, bounded
 * integer arguments. Validates everything before the store sees it; owns nothing past a call.
 */
#include "server/server_select.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/filter.h"

int server_select_parse(const char *query, bool need_type, struct arena *a, struct store_query *q,
			struct ember_diag *d)
{
	size_t ql;
	char *type;
	const char *brace;

	q->profile_type = NULL;
	q->matchers = NULL;
	q->n_matchers = 0;
	if (!query || (need_type && !*query))
		return ember_diag_set(d, -EMBER_EUSAGE, "want <profile_type>{matchers}");
	ql = strlen(query);
	if (ql > SERVER_QUERY_MAX_LEN)
		return ember_diag_set(d, -EMBER_EUSAGE, "query longer than %d bytes",
				      SERVER_QUERY_MAX_LEN);
	while (*query == ' ')
		query++;
	brace = strchr(query, '{');
	if (!brace && !need_type && strpbrk(query, "=~!")) /* bare matchers without braces */
		brace = query;
	size_t tl = brace ? (size_t)(brace - query) : strlen(query);
	while (tl && query[tl - 1] == ' ')
		tl--;
	type = arena_strndup(a, query, tl);
	if (strpbrk(type, "}\"= ,"))
		return ember_diag_set(d, -EMBER_EUSAGE, "bad profile type '%.80s'", type);
	if (need_type && !*type)
		return ember_diag_set(d, -EMBER_EUSAGE, "missing the profile type before '{'");
	if (brace) {
		struct store_matcher *ms = NULL;
		size_t nm = 0;
		int err = store_matchers_parse(brace, a, &ms, &nm, d);

		if (err)
			return err;
		q->matchers = ms;
		q->n_matchers = nm;
	}
	q->profile_type = *type ? type : NULL;
	return 0;
}

int server_select_range(const struct server_req *rq, const char *from_key, const char *until_key,
			struct store_query *q, struct server_resp *r)
{
	const char *from_s = server_arg(rq, from_key), *until_s = server_arg(rq, until_key);
	int64_t now = server_now_ns();

	q->tenant = rq->tenant;
	q->start_ns = now - SERVER_DEFAULT_WINDOW_NS;
	q->end_ns = now;
	if ((from_s && *from_s && server_time_parse(from_s, now, &q->start_ns)) ||
	    (until_s && *until_s && server_time_parse(until_s, now, &q->end_ns))) {
		server_resp_error(r, 400, "%s/%s: want unix s/ms/us/ns, YYYYMMDD or now-1h",
				  from_key, until_key);
		return -1;
	}
	if (q->end_ns <= q->start_ns) {
		server_resp_error(r, 400, "%s must be after %s", until_key, from_key);
		return -1;
	}
	/* until is inclusive in Pyroscope; the store's end is exclusive. */
	if (q->end_ns < INT64_MAX)
		q->end_ns++;
	return 0;
}

int server_select_args(const struct server_req *rq, const char *qkey, const char *from_key,
		       const char *until_key, bool need_type, struct arena *a,
		       struct store_query *q, struct server_resp *r)
{
	struct ember_diag d = {{0}};
	const char *query = server_arg(rq, qkey);
	int err;

	if (need_type && (!query || !*query)) {
		server_resp_error(r, 400, "%s: want <profile_type>{matchers}", qkey);
		return -1;
	}
	err = server_select_parse(query ? query : "", need_type, a, q, &d);
	if (err) {
		server_resp_error(r, 400, "%s: %s", qkey, ember_diag_msg(&d, err));
		return -1;
	}
	return server_select_range(rq, from_key, until_key, q, r);
}

int server_select_merge(const struct server_req *rq, const struct store_query *q,
			const uint64_t *span_ids, size_t n_span_ids, struct prof **out,
			struct server_resp *r)
{
	struct ember_diag d = {{0}};
	int err;

	*out = NULL;
	if (span_ids)
		err = store_select_spans(rq->srv->store, q, span_ids, n_span_ids, out, &d);
	else
		err = store_select_merge(rq->srv->store, q, out, &d);
	if (err) {
		server_resp_error(r, server_status_of(err), "%s", ember_diag_msg(&d, err));
		return -1;
	}
	return 0;
}

int server_select_filter(struct prof **p, const char *focus, const char *ignore,
			 struct server_resp *r)
{
	struct prof_filter_opts o = {0};
	struct ember_diag d = {{0}};
	struct prof *f = NULL;
	int err;

	if (focus && *focus)
		o.focus = focus;
	if (ignore && *ignore)
		o.ignore = ignore;
	if (!o.focus && !o.ignore)
		return 0;
	if ((o.focus && strlen(o.focus) > SERVER_MAX_REGEX_LEN) ||
	    (o.ignore && strlen(o.ignore) > SERVER_MAX_REGEX_LEN)) {
		server_resp_error(r, 400, "focus/ignore: longer than %d bytes",
				  SERVER_MAX_REGEX_LEN);
		return -1;
	}
	err = prof_filter(*p, &o, &f, &d);
	if (err) {
		server_resp_error(r, err == -EMBER_EUSAGE ? 400 : server_status_of(err), "%s",
				  ember_diag_msg(&d, err));
		return -1;
	}
	prof_free(*p);
	*p = f;
	return 0;
}

int server_select_filter_args(const struct server_req *rq, struct prof **p, struct server_resp *r)
{
	return server_select_filter(p, server_arg(rq, "focus"), server_arg(rq, "ignore"), r);
}

const char *server_type_field(const char *type, int i, char *tmp, size_t n)
{
	const char *s = type ? type : "";

	tmp[0] = 0;
	for (int k = 0; k < i; k++) {
		s = strchr(s, ':');
		if (!s)
			return tmp;
		s++;
	}
	size_t len = strcspn(s, ":");
	if (len >= n)
		len = n - 1;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	return tmp;
}

int server_select_int(const struct server_req *rq, const char *key, int64_t def, int64_t min,
		      int64_t max, int64_t *out, struct server_resp *r)
{
	const char *s = server_arg(rq, key);
	char *end;
	long long v;

	*out = def;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max) {
		server_resp_error(r, 400, "%s: want an integer in %lld..%lld", key, (long long)min,
				  (long long)max);
		return -1;
	}
	*out = v;
	return 0;
}
