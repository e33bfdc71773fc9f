/*
 * test_store_compact.c — compaction (hourly cuts merged into 4-h blocks, those into a 7-d
 * block, symbols re-deduplicated, queries unchanged, a crash between the compacted block's
 * rename and the deletion of its sources simulated), retention by age and by size, and the
 * background thread cutting a head that spans more than the block duration.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "test.h"
#include "test_store_fixture.h"

#define HOUR (3600LL * 1000000000LL)
#define DAY  (24 * HOUR)

static int add_at(struct store *s, int64_t t, int64_t k)
{
	struct prof *p = fx_prof_new();
	int rc;

	fx_add(p, "main;work;hash", 10 * k, 0);
	fx_add(p, "main;idle", k, 0);
	rc = fx_append(s, NULL, k % 2 ? "api" : "web", t, p, NULL);
	prof_free(p);
	return rc;
}

static int64_t total(struct store *s, int64_t *hash)
{
	struct prof *p = fx_merge(s, NULL, NULL);
	int64_t t;

	if (!p)
		return -1;
	t = prof_total(p, 0);
	*hash = fx_value(p, "main;work;hash");
	prof_free(p);
	return t;
}

TEST(store_compaction)
{
	const char *dir = test_tmpdir();
	struct store *s;
	struct store_stats st;
	int64_t hash, t0 = 100 * DAY;
	char cmd[1024];

	CHECK_OK(fx_open(dir, NULL, &s));
	/* two cuts in each of two 4-h (and 12-h) windows of one week */
	int64_t at[4] = {t0 + HOUR, t0 + 2 * HOUR, t0 + 13 * HOUR, t0 + 14 * HOUR};
	for (int i = 0; i < 4; i++) {
		CHECK_OK(add_at(s, at[i], i + 1));
		CHECK_OK(add_at(s, at[i] + 60000000000LL, i + 1));
		CHECK_OK(store_cut(s, NULL));
	}
	CHECK_OK(store_compact(s, NULL)); /* only the first 4-h window is finished */
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.compactions, 1);
	CHECK_EQ_INT(st.blocks, 3);
	CHECK_EQ_INT(total(s, &hash), 2 * 11 * 10);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/blocks' '%s/blocks.bak'", dir, dir);
	CHECK_OK(system(cmd));
	CHECK_OK(add_at(s, t0 + 9 * DAY, 100)); /* the head: newer data finishes the others */
	CHECK_OK(store_compact(s, NULL));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.compactions, 3); /* the second 4-h window, then the week */
	CHECK_EQ_INT(st.blocks, 1);
	CHECK_EQ_INT(total(s, &hash), 2 * 11 * 10 + 1100);
	CHECK_EQ_INT(hash, 2 * 10 * 10 + 1000);
	store_close(s);
	CHECK_OK(fx_open(dir, NULL, &s));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.blocks, 1);
	CHECK_EQ_INT(total(s, &hash), 2 * 11 * 10 + 1100);
	{
		struct store_query q = {.profile_type = T_PTYPE, .start_ns = t0 + 12 * HOUR};
		struct store_matcher m = {STORE_LABEL_SERVICE, "web", STORE_MATCH_EQ};
		struct prof *p;

		q.matchers = &m;
		q.n_matchers = 1;
		q.end_ns = t0 + DAY;
		CHECK_OK(store_select_merge(s, &q, &p, NULL));
		CHECK_EQ_INT(prof_total(p, 0), 2 * 11 * 4);
		prof_free(p);
	}
	store_close(s);
	/* a crash after the compacted block's rename, before its sources were deleted */
	snprintf(cmd, sizeof(cmd),
		 "cp -rn '%s/blocks.bak/.' '%s/blocks/' && rm -rf '%s/blocks.bak'", dir, dir, dir);
	CHECK_OK(system(cmd));
	CHECK_OK(fx_open(dir, NULL, &s));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.blocks, 1); /* the restored sources were dropped, not loaded */
	CHECK_EQ_INT(total(s, &hash), 2 * 11 * 10 + 1100);
	store_close(s);
}

TEST(store_retention)
{
	struct store_opts o = {.dir = test_tmpdir(), .retention_ns = 30 * DAY};
	struct store *s;
	struct store_stats st;
	struct timespec ts;
	int64_t now, hash;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	CHECK_OK(store_open(&o, &s, NULL));
	CHECK_OK(add_at(s, now - 40 * DAY, 1));
	CHECK_OK(store_cut(s, NULL));
	CHECK_OK(add_at(s, now - 20 * DAY, 2));
	CHECK_OK(store_cut(s, NULL));
	CHECK_OK(add_at(s, now - HOUR, 4));
	CHECK_OK(store_cut(s, NULL));
	CHECK_OK(store_compact(s, NULL));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.dropped_blocks, 1);
	CHECK_EQ_INT(total(s, &hash), 66);
	store_close(s);
	/* by size: keep only what fits, newest first */
	o.retention_ns = 0;
	o.retention_bytes = 1;
	CHECK_OK(store_open(&o, &s, NULL));
	CHECK_EQ_INT(total(s, &hash), 66);
	CHECK_OK(add_at(s, now, 8));
	CHECK_OK(store_compact(s, NULL));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.blocks, 0);
	CHECK_EQ_INT(total(s, &hash), 88); /* the head is never dropped */
	store_close(s);
}

TEST(store_background_cut)
{
	struct store_opts o = {
		.dir = test_tmpdir(), .background = true, .block_duration_ns = 60LL * 1000000000LL};
	struct store *s;
	struct store_stats st = {0};
	int64_t hash;

	CHECK_OK(store_open(&o, &s, NULL));
	CHECK_OK(add_at(s, 1000LL * 1000000000LL, 1));
	CHECK_OK(add_at(s, 1100LL * 1000000000LL, 2)); /* the head now spans 100 s > 60 s */
	for (int i = 0; i < 50 && st.blocks == 0; i++) {
		usleep(100000);
		store_get_stats(s, &st);
	}
	CHECK_EQ_INT(st.blocks, 1);
	CHECK_EQ_INT(st.head_profiles, 0);
	CHECK_EQ_INT(total(s, &hash), 33);
	store_close(s);
}

/* A week's blocks are merged into one 7-day block only once newer data is a day past the
 * week's end: until then the last 24 hours may reach into that week, and they stay in blocks
 * a partial read need not decode whole. */
TEST(store_compaction_week_waits_a_day)
{
	struct store *s;
	struct store_stats st;
	int64_t hash, wk = 98 * DAY; /* a week window: [98 d, 105 d) since the epoch */

	CHECK_OK(fx_open(test_tmpdir(), NULL, &s));
	CHECK_OK(add_at(s, wk + 1 * DAY, 1)); /* two 12-h windows of the week */
	CHECK_OK(store_cut(s, NULL));
	CHECK_OK(add_at(s, wk + 3 * DAY, 2));
	CHECK_OK(store_cut(s, NULL));
	CHECK_OK(add_at(s, wk + 7 * DAY + 20 * HOUR, 3)); /* 20 h past the week */
	CHECK_OK(store_compact(s, NULL));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.compactions, 0);
	CHECK_EQ_INT(st.blocks, 2);
	CHECK_OK(store_cut(s, NULL));
	CHECK_OK(add_at(s, wk + 8 * DAY + HOUR, 4)); /* a day past it: the week is merged */
	CHECK_OK(store_compact(s, NULL));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.compactions, 1);
	CHECK_EQ_INT(st.blocks, 2); /* the week, and the block after it */
	CHECK_EQ_INT(total(s, &hash), 11 * (1 + 2 + 3 + 4));
	store_close(s);
}
