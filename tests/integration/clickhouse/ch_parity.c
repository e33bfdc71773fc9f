/*
 * ch_parity.c — the ClickHouse backend against the embedded store on the same data: appends
 * generated profiles (3 services x 2 instances with region/version labels, 6 h of 10-min
 * profiles, 40 functions, some samples with span ids) to a local store in DIR and to
 * ClickHouse at URL, then asks both every query of the store interface and compares the
 * answers exactly: label names, label values, series, select-merge (total and every
 * function's flat and cumulative value) under =, !=, =~ and !~ matchers, spans, diff, top,
 * select-series (sum and avg, grouped and not, with a limit) and function series; finally one
 * profile more in the embedded store only must make select-merge differ.
 * Prints "PASS parity/<query>" or "FAIL parity/<query>: why" per check; exit 1 on a failure.
 * Usage: ch_parity URL DIR
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "profile/profile.h"
#include "store/store.h"
#include "store/store_int.h"

#define PT    "process_cpu:cpu:nanoseconds:cpu:nanoseconds"
#define T0    (1700000000LL * 1000000000LL)
#define STEP  (600LL * 1000000000LL)
#define N_WIN 36

static int n_fail;
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void verdict(const char *name, int ok, const char *why)
{
	if (ok) {
		printf("PASS parity/%s\n", name);
	} else {
		printf("FAIL parity/%s: %s\n", name, why);
		n_fail++;
	}
}

static struct prof *gen(int svc, int w)
{
	struct prof *p = prof_new();
	uint32_t k_span = prof_intern_cstr(p, "span_id");
	char name[64];

	prof_add_sample_type(p, prof_intern_cstr(p, "cpu"), prof_intern_cstr(p, "nanoseconds"));
	prof_meta(p)->period_type.type = prof_intern_cstr(p, "cpu");
	prof_meta(p)->period_type.unit = prof_intern_cstr(p, "nanoseconds");
	prof_meta(p)->period = 10000000 * (1 + svc % 2);
	for (int k = 0; k < 12; k++) {
		uint32_t locs[8];
		int depth = 2 + (int)(xr() % 6);
		int64_t v = (int64_t)(1 + xr() % 50) * 10000000;
		uint32_t ls = 0;

		for (int i = 0; i < depth; i++) {
			int f = i == 0 ? (int)(xr() % 40) : (int)((w + i * 7 + svc) % 40);
			struct prof_function fn;
			struct prof_line line = {0};

			snprintf(name, sizeof(name), "pkg%d.fn%d", f % 5, f);
			fn = (struct prof_function){.name = prof_intern_cstr(p, name),
						    .filename = prof_intern_cstr(p, "x.go")};
			line.function = prof_add_function(p, &fn);
			locs[i] =
				prof_add_location(p, 0, 0x1000 + (uint64_t)f * 16, &line, 1, false);
		}
		{ /* span ids stay per sample; other sample labels become series labels */
			char span[17];
			struct prof_label l[2];
			size_t nl = 0;

			if (k % 4 == 0) {
				snprintf(span, sizeof(span), "%016llx",
					 (unsigned long long)(k / 4 + 1));
				l[nl++] = (struct prof_label){.key = k_span,
							      .str = prof_intern_cstr(p, span)};
			}
			if (k % 3 == 1)
				l[nl++] = (struct prof_label){
					.key = prof_intern_cstr(p, "endpoint"),
					.str = prof_intern_cstr(p, k % 2 ? "/a" : "/b")};
			if (nl)
				ls = prof_add_labelset(p, l, nl);
		}
		prof_add_sample(p, prof_add_stack(p, locs, (size_t)depth), ls, &v);
	}
	return p;
}

static int fill(struct store *a, struct store *b)
{
	static const char *const svcs[] = {"api", "db", "web"};
	struct ember_diag d = {""};

	for (int w = 0; w < N_WIN; w++)
		for (int s = 0; s < 6; s++) {
			char inst[8];
			struct store_label l[4] = {{"service_name", svcs[s % 3]},
						   {"instance", inst},
						   {"region", s % 2 ? "eu" : "us"},
						   {"version", w < N_WIN / 2 ? "1.2" : "1.3"}};
			struct prof *p = gen(s, w);
			struct store_append ap = {.labels = l,
						  .n_labels = 4,
						  .name = "process_cpu",
						  .time_ns = T0 + (int64_t)w * STEP +
							     (s * 1000000000LL),
						  .prof = p};

			snprintf(inst, sizeof(inst), "i%d", s);
			if (store_append(a, &ap, &d) || store_append(b, &ap, &d)) {
				fprintf(stderr, "ch_parity: append: %s\n", d.msg);
				prof_free(p);
				return -1;
			}
			prof_free(p);
		}
	return 0;
}

static int same_strings(const struct store_result *x, const struct store_result *y, char *why,
			size_t n)
{
	if (x->n_strings != y->n_strings) {
		snprintf(why, n, "%zu vs %zu strings", x->n_strings, y->n_strings);
		return 0;
	}
	for (size_t i = 0; i < x->n_strings; i++)
		if (strcmp(x->strings[i], y->strings[i])) {
			snprintf(why, n, "[%zu] '%s' vs '%s'", i, x->strings[i], y->strings[i]);
			return 0;
		}
	return 1;
}

static int same_sets(const struct store_result *x, const struct store_result *y, char *why,
		     size_t n)
{
	if (x->n_sets != y->n_sets) {
		snprintf(why, n, "%zu vs %zu series", x->n_sets, y->n_sets);
		return 0;
	}
	for (size_t i = 0; i < x->n_sets; i++) {
		if (x->sets[i].n != y->sets[i].n) {
			snprintf(why, n, "series %zu: %zu vs %zu labels", i, x->sets[i].n,
				 y->sets[i].n);
			return 0;
		}
		for (size_t j = 0; j < x->sets[i].n; j++)
			if (strcmp(x->sets[i].labels[j].name, y->sets[i].labels[j].name) ||
			    strcmp(x->sets[i].labels[j].value, y->sets[i].labels[j].value)) {
				snprintf(why, n, "series %zu label %zu: %s=%s vs %s=%s", i, j,
					 x->sets[i].labels[j].name, x->sets[i].labels[j].value,
					 y->sets[i].labels[j].name, y->sets[i].labels[j].value);
				return 0;
			}
	}
	return 1;
}

static int same_series(const struct store_result *x, const struct store_result *y, char *why,
		       size_t n)
{
	if (x->n_series != y->n_series) {
		snprintf(why, n, "%zu vs %zu series", x->n_series, y->n_series);
		return 0;
	}
	for (size_t i = 0; i < x->n_series; i++) {
		const struct store_series *a = &x->series[i], *b = &y->series[i];

		if (a->n_points != b->n_points || a->labels.n != b->labels.n) {
			snprintf(why, n, "series %zu: %zu vs %zu points", i, a->n_points,
				 b->n_points);
			return 0;
		}
		for (size_t j = 0; j < a->labels.n; j++)
			if (strcmp(a->labels.labels[j].value, b->labels.labels[j].value)) {
				snprintf(why, n, "series %zu: group %s vs %s", i,
					 a->labels.labels[j].value, b->labels.labels[j].value);
				return 0;
			}
		for (size_t j = 0; j < a->n_points; j++)
			if (a->points[j].time_ns != b->points[j].time_ns ||
			    fabs(a->points[j].value - b->points[j].value) > 1e-6 ||
			    a->points[j].self != b->points[j].self ||
			    a->points[j].total != b->points[j].total) {
				snprintf(why, n,
					 "series %zu point %zu: t %" PRId64 " v %.1f self %" PRId64
					 " total %" PRId64 " vs t %" PRId64 " v %.1f self %" PRId64
					 " total %" PRId64,
					 i, j, a->points[j].time_ns, a->points[j].value,
					 a->points[j].self, a->points[j].total,
					 b->points[j].time_ns, b->points[j].value,
					 b->points[j].self, b->points[j].total);
				return 0;
			}
	}
	return 1;
}

static int same_top(const struct store_result *x, const struct store_result *y, char *why, size_t n)
{
	if (x->n_top != y->n_top || x->total != y->total) {
		snprintf(why, n, "%zu rows total %" PRId64 " vs %zu rows total %" PRId64, x->n_top,
			 x->total, y->n_top, y->total);
		return 0;
	}
	for (size_t i = 0; i < x->n_top; i++)
		if (strcmp(x->top[i].name, y->top[i].name) || x->top[i].self != y->top[i].self ||
		    x->top[i].total != y->top[i].total) {
			snprintf(why, n,
				 "row %zu: %s %" PRId64 "/%" PRId64 " vs %s %" PRId64 "/%" PRId64,
				 i, x->top[i].name, x->top[i].self, x->top[i].total, y->top[i].name,
				 y->top[i].self, y->top[i].total);
			return 0;
		}
	return 1;
}

/* Two merged profiles agree: same total, same flat and cum per function. */
static int same_prof(struct prof *a, struct prof *b, char *why, size_t n)
{
	struct store_result *x = NULL, *y = NULL;
	int ok;

	if (prof_total(a, 0) != prof_total(b, 0) ||
	    prof_meta_get(a)->period != prof_meta_get(b)->period) {
		snprintf(why, n,
			 "total %" PRId64 " period %" PRId64 " vs total %" PRId64
			 " period %" PRId64,
			 prof_total(a, 0), prof_meta_get(a)->period, prof_total(b, 0),
			 prof_meta_get(b)->period);
		return 0;
	}
	ok = store_top_from_prof(a, 0, &x) == 0 && store_top_from_prof(b, 0, &y) == 0 &&
	     same_top(x, y, why, n);
	store_result_free(x);
	store_result_free(y);
	return ok;
}

static struct store_query query(const struct store_matcher *m, size_t n, int64_t from, int64_t to)
{
	return (struct store_query){
		.profile_type = PT, .matchers = m, .n_matchers = n, .start_ns = from, .end_ns = to};
}

int main(int argc, char **argv)
{
	struct store_opts co = {.backend = "clickhouse"}, lo = {0};
	struct store *ch, *lc;
	struct ember_diag d = {""};
	char why[600];
	int64_t end = T0 + N_WIN * STEP;

	if (argc != 3) {
		fprintf(stderr, "usage: ch_parity URL DIR\n");
		return 2;
	}
	co.url = argv[1];
	lo.dir = argv[2];
	if (store_open(&co, &ch, &d) || store_open(&lo, &lc, &d)) {
		fprintf(stderr, "ch_parity: open: %s\n", d.msg);
		return 1;
	}
	if (fill(lc, ch))
		return 1;
	if (store_cut(ch, &d)) /* the backend's batches are written before append returns */
		fprintf(stderr, "ch_parity: cut: %s\n", d.msg);

	/* labels and series, over everything and over a window that excludes version 1.3 */
	for (int win = 0; win < 2; win++) {
		struct store_query q = {.start_ns = T0,
					.end_ns = win ? T0 + N_WIN / 2 * STEP : end};
		struct store_matcher m = {"region", "eu", STORE_MATCH_EQ};
		struct store_result *x = NULL, *y = NULL;
		char name[64];
		int ok;

		snprintf(name, sizeof(name), "label_names%s", win ? "_window" : "");
		ok = !store_label_names(lc, &q, &x, &d) && !store_label_names(ch, &q, &y, &d);
		verdict(name, ok && same_strings(x, y, why, sizeof(why)), ok ? why : d.msg);
		store_result_free(x), store_result_free(y), x = y = NULL;
		snprintf(name, sizeof(name), "label_values%s", win ? "_window" : "");
		ok = !store_label_values(lc, &q, "version", &x, &d) &&
		     !store_label_values(ch, &q, "version", &y, &d);
		verdict(name, ok && same_strings(x, y, why, sizeof(why)), ok ? why : d.msg);
		store_result_free(x), store_result_free(y), x = y = NULL;
		snprintf(name, sizeof(name), "sample_label_values%s", win ? "_window" : "");
		ok = !store_label_values(lc, &q, "endpoint", &x, &d) &&
		     !store_label_values(ch, &q, "endpoint", &y, &d);
		verdict(name, ok && x->n_strings == 2 && same_strings(x, y, why, sizeof(why)),
			ok ? (x->n_strings == 2 ? why : "endpoint not lifted") : d.msg);
		store_result_free(x), store_result_free(y), x = y = NULL;
		q.matchers = &m;
		q.n_matchers = 1;
		snprintf(name, sizeof(name), "series%s", win ? "_window" : "");
		ok = !store_series_list(lc, &q, &x, &d) && !store_series_list(ch, &q, &y, &d);
		verdict(name, ok && same_sets(x, y, why, sizeof(why)), ok ? why : d.msg);
		store_result_free(x), store_result_free(y);
	}

	/* select-merge under each kind of matcher */
	static const struct store_matcher ms[][2] = {
		{{"service_name", "api", STORE_MATCH_EQ}, {"region", "us", STORE_MATCH_EQ}},
		{{"service_name", "api", STORE_MATCH_NEQ}, {"missing", "", STORE_MATCH_EQ}},
		{{"service_name", "a.*|w.b", STORE_MATCH_RE},
		 {"version", "1\\.3", STORE_MATCH_NRE}},
		{{"instance", "i[0-4]", STORE_MATCH_RE}, {"missing", "x", STORE_MATCH_NEQ}},
		{{"endpoint", "/a", STORE_MATCH_EQ}, {"service_name", "db", STORE_MATCH_NEQ}},
		{{"endpoint", "", STORE_MATCH_EQ}, {"region", "eu", STORE_MATCH_EQ}},
	};
	static const char *const mnames[] = {"merge_eq",	   "merge_neq_missing",
					     "merge_re_nre",	   "merge_re_neq_missing",
					     "merge_sample_label", "merge_without_sample_label"};
	for (size_t i = 0; i < 6; i++) {
		struct store_query q = query(ms[i], 2, T0 + STEP, end - STEP);
		struct prof *a = NULL, *b = NULL;
		int ok = !store_select_merge(lc, &q, &a, &d) && !store_select_merge(ch, &q, &b, &d);

		verdict(mnames[i], ok && prof_total(a, 0) > 0 && same_prof(a, b, why, sizeof(why)),
			ok ? (prof_total(a, 0) > 0 ? why : "empty selection") : d.msg);
		prof_free(a), prof_free(b);
	}
	{
		static const uint64_t spans[] = {1, 3};
		struct store_query q = query(NULL, 0, T0, end);
		struct prof *a = NULL, *b = NULL;
		int ok = !store_select_spans(lc, &q, spans, 2, &a, &d) &&
			 !store_select_spans(ch, &q, spans, 2, &b, &d);

		verdict("spans", ok && prof_total(a, 0) > 0 && same_prof(a, b, why, sizeof(why)),
			ok ? why : d.msg);
		prof_free(a), prof_free(b);
	}
	{
		struct store_matcher l = {"version", "1.2", STORE_MATCH_EQ},
				     r = {"version", "1.3", STORE_MATCH_EQ};
		struct store_query ql = query(&l, 1, T0, end), qr = query(&r, 1, T0, end);
		struct prof *a1 = NULL, *a2 = NULL, *b1 = NULL, *b2 = NULL;
		int ok = !store_diff(lc, &ql, &qr, &a1, &a2, &d) &&
			 !store_diff(ch, &ql, &qr, &b1, &b2, &d);

		verdict("diff",
			ok && same_prof(a1, b1, why, sizeof(why)) &&
				same_prof(a2, b2, why, sizeof(why)),
			ok ? why : d.msg);
		prof_free(a1), prof_free(a2), prof_free(b1), prof_free(b2);
	}
	{
		struct store_query q = query(NULL, 0, T0, end);
		struct store_result *x = NULL, *y = NULL;
		int ok = !store_top(lc, &q, 10, &x, &d) && !store_top(ch, &q, 10, &y, &d);

		verdict("top", ok && same_top(x, y, why, sizeof(why)), ok ? why : d.msg);
		store_result_free(x), store_result_free(y);
	}
	for (int v = 0; v < 4; v++) {
		const char *gb[] = {"service_name", "region"};
		struct store_series_opts o = {.step_ns = 1800LL * 1000000000LL,
					      .agg = v & 1 ? STORE_AGG_AVG : STORE_AGG_SUM,
					      .group_by = gb,
					      .n_group_by = v < 2 ? 0 : (size_t)(v - 1),
					      .limit = v == 3 ? 3 : 0};
		struct store_query q = query(NULL, 0, T0 + 7 * 60 * 1000000000LL, end);
		struct store_result *x = NULL, *y = NULL;
		char name[64];
		int ok = !store_select_series(lc, &q, &o, &x, &d) &&
			 !store_select_series(ch, &q, &o, &y, &d);

		snprintf(name, sizeof(name), "select_series_%s_%zu_groups%s", v & 1 ? "avg" : "sum",
			 o.n_group_by, o.limit ? "_limit" : "");
		verdict(name, ok && same_series(x, y, why, sizeof(why)), ok ? why : d.msg);
		store_result_free(x), store_result_free(y);
	}
	{
		struct store_query q = query(NULL, 0, T0, end);
		struct store_result *x = NULL, *y = NULL;
		int ok =
			!store_function_series(lc, &q, "pkg2.fn7", 3600LL * 1000000000LL, &x, &d) &&
			!store_function_series(ch, &q, "pkg2.fn7", 3600LL * 1000000000LL, &y, &d);

		verdict("function_series", ok && same_series(x, y, why, sizeof(why)),
			ok ? why : d.msg);
		store_result_free(x), store_result_free(y);
	}
	{
		/* The comparison can fail: one more profile in the embedded store only must show. */
		struct store_label l = {"service_name", "api"};
		struct prof *p = gen(0, 1);
		struct store_append ap = {.labels = &l,
					  .n_labels = 1,
					  .name = "process_cpu",
					  .time_ns = T0 + 5 * STEP,
					  .prof = p};
		struct store_query q = query(NULL, 0, T0, end);
		struct prof *a = NULL, *b = NULL;
		int ok = !store_append(lc, &ap, &d) && !store_select_merge(lc, &q, &a, &d) &&
			 !store_select_merge(ch, &q, &b, &d);

		verdict("detects_a_difference", ok && !same_prof(a, b, why, sizeof(why)),
			ok ? "an extra profile went unnoticed" : d.msg);
		prof_free(a), prof_free(b), prof_free(p);
	}
	store_close(ch);
	store_close(lc);
	return n_fail ? 1 : 0;
}
