/*
 * test_store_rollup.c — a block series' rollup (every profile's samples summed per node,
 * written when it is at least STORE_ROLLUP_MIN_GAIN times smaller than the samples): a merge
 * that covers the whole series reads it and gives exactly what reading every profile gives
 * (checked against the same range read in two halves, which cannot use it), a range that cuts
 * through the series or a span filter does not use it, values that sum to zero vanish as in
 * a merge, and compaction writes rollups of the merged series.
 */
#include <string.h>

#include "store/store.h"
#include "test.h"
#include "test_store_fixture.h"

#define SEC 1000000000LL

static void fill(struct store *s, int64_t t0, int n)
{
	for (int i = 0; i < n; i++) {
		struct prof *p = fx_prof_new();

		fx_add(p, "main;work;hash", 10 + i % 3, 0);
		fx_add(p, "main;work", 5, i % 10 == 0 ? 0xabc : 0);
		fx_add(p, "main;idle", (i / 2) % 2 ? 4 : -4, 0); /* a series sums it to 0 */
		fx_add(p, i < n / 2 ? "main;old" : "main;new", 1, 0);
		CHECK_OK(fx_append(s, NULL, i % 2 ? "api" : "web", t0 + i * SEC, p, NULL));
		prof_free(p);
	}
}

static struct prof *merge(struct store *s, int64_t a, int64_t b)
{
	struct store_query q = {.profile_type = T_PTYPE, .start_ns = a, .end_ns = b};
	struct prof *out = NULL;
	int rc = store_select_merge(s, &q, &out, NULL);

	if (rc)
		test_fail(__FILE__, __LINE__, "store_select_merge returned %d", rc);
	return out;
}

static uint64_t rollup_reads(struct store *s)
{
	struct store_stats st;

	store_get_stats(s, &st);
	return st.rollup_reads;
}

static void check_same(struct store *s, int64_t a, int64_t b)
{
	static const char *const stacks[] = {"main;work;hash", "main;work", "main;idle", "main;old",
					     "main;new"};
	int64_t mid = a + (b - a) / 2 + SEC / 3;
	uint64_t r0 = rollup_reads(s), r1;
	struct prof *whole = merge(s, a, b), *h1, *h2;

	r1 = rollup_reads(s);
	CHECK(r1 > r0); /* the whole range: read through rollups */
	h1 = merge(s, a, mid);
	h2 = merge(s, mid, b);
	CHECK(rollup_reads(s) - r1 < r1 - r0); /* the halves cut through series */
	if (!whole || !h1 || !h2) {
		prof_free(whole);
		prof_free(h1);
		prof_free(h2);
		return;
	}
	for (size_t i = 0; i < sizeof(stacks) / sizeof(stacks[0]); i++)
		CHECK_EQ_INT(fx_value(whole, stacks[i]),
			     fx_value(h1, stacks[i]) + fx_value(h2, stacks[i]));
	CHECK_EQ_INT(prof_total(whole, 0), prof_total(h1, 0) + prof_total(h2, 0));
	CHECK_EQ_INT(fx_value(whole, "main;idle"), 0);
	CHECK_EQ_INT(prof_meta_get(whole)->period, prof_meta_get(h1)->period);
	prof_free(whole);
	prof_free(h1);
	prof_free(h2);
}

TEST(store_rollup_whole_series_merges)
{
	struct store *s;
	struct store_opts o = {.dir = test_tmpdir(), .no_compaction = true};
	int64_t t0 = 1000 * SEC;
	uint64_t span = 0xabc;
	struct prof *out;
	struct store_query q = {.profile_type = T_PTYPE};

	CHECK_OK(store_open(&o, &s, NULL));
	fill(s, t0, 200);
	CHECK_OK(store_cut(s, NULL));
	check_same(s, t0, t0 + 200 * SEC);
	{ /* a span filter reads the samples */
		uint64_t r = rollup_reads(s);

		CHECK_OK(store_select_spans(s, &q, &span, 1, &out, NULL));
		CHECK_EQ_INT(prof_total(out, 0), 5 * 20);
		CHECK_EQ_INT(rollup_reads(s), r);
		prof_free(out);
	}
	store_close(s);
	/* reopened from disk, and after compaction into one block */
	o.no_compaction = false;
	CHECK_OK(store_open(&o, &s, NULL));
	fill(s, t0 + 200 * SEC, 200);
	CHECK_OK(store_cut(s, NULL));
	check_same(s, t0, t0 + 400 * SEC);
	CHECK_OK(store_compact(s, NULL));
	check_same(s, t0, t0 + 400 * SEC);
	store_close(s);
}

TEST(store_rollup_only_when_smaller)
{
	struct store *s;
	struct store_opts o = {.dir = test_tmpdir(), .no_compaction = true};
	struct prof *p = fx_prof_new(), *out;
	char st[64];

	/* one profile of 100 distinct stacks: a rollup would be as large as the samples */
	for (int i = 0; i < 100; i++) {
		snprintf(st, sizeof(st), "main;f%d", i);
		fx_add(p, st, 1, 0);
	}
	CHECK_OK(store_open(&o, &s, NULL));
	CHECK_OK(fx_append(s, NULL, "api", 5 * SEC, p, NULL));
	CHECK_OK(store_cut(s, NULL));
	out = merge(s, 0, 0);
	CHECK(out != NULL);
	if (out)
		CHECK_EQ_INT(prof_total(out, 0), 100);
	CHECK_EQ_INT(rollup_reads(s), 0);
	prof_free(out);
	prof_free(p);
	store_close(s);
}
