/*
 * test_store_sspace.c — stack spaces (src/store/sspace.c): the stacks of a tenant's loaded
 * blocks are mapped into one space (the same stack is one space node whichever block it came
 * from), each tenant has its own, merges over blocks, head and several spaces give the sums
 * per stack, and a space left mostly holding stacks of dropped blocks is replaced by a new one
 * for the next block, a merge reading both.
 */
#include <stdio.h>

#include "store/store.h"
#include "test.h"
#include "test_store_fixture.h"

#define SEC  1000000000LL
#define HOUR (3600 * SEC)

static struct prof *merge_all(struct store *s, const char *tenant)
{
	struct store_query q = {.tenant = tenant, .profile_type = T_PTYPE};
	struct prof *out = NULL;
	int rc = store_select_merge(s, &q, &out, NULL);

	if (rc)
		test_fail(__FILE__, __LINE__, "store_select_merge returned %d", rc);
	return out;
}

static void append_hour(struct store *s, const char *tenant, int h)
{
	struct prof *p = fx_prof_new();
	char st[64];

	fx_add(p, "main;work;hash", 10, 0);
	fx_add(p, "main;io", 3, 0);
	snprintf(st, sizeof(st), "main;h%d", h);
	fx_add(p, st, 1, 0);
	CHECK_OK(fx_append(s, tenant, "api", h * HOUR + SEC, p, NULL));
	prof_free(p);
}

static void check_hours(struct store *s, const char *tenant, int n)
{
	struct prof *out = merge_all(s, tenant);

	if (!out)
		return;
	CHECK_EQ_INT(fx_value(out, "main;work;hash"), 10 * n);
	CHECK_EQ_INT(fx_value(out, "main;io"), 3 * n);
	CHECK_EQ_INT(fx_value(out, "main;h0"), 1);
	CHECK_EQ_INT(prof_n_samples(out), (size_t)n + 2); /* one sample per distinct stack */
	prof_free(out);
}

TEST(store_sspace_blocks_share_one_space)
{
	struct store_opts o = {.dir = test_tmpdir(), .no_compaction = true};
	struct store_stats st;
	struct store *s;

	CHECK_OK(store_open(&o, &s, NULL));
	for (int h = 0; h < 3; h++) {
		append_hour(s, NULL, h);
		CHECK_OK(store_cut(s, NULL));
	}
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.blocks, 3);
	CHECK_EQ_INT(st.stack_spaces, 1);
	/* root, main, work, hash, io, h0, h1, h2: the shared stacks once */
	CHECK_EQ_INT(st.space_nodes, 8);
	check_hours(s, NULL, 3);
	append_hour(s, NULL, 3); /* the head adds to the blocks' sums */
	check_hours(s, NULL, 4);
	append_hour(s, "other", 0);
	CHECK_OK(store_cut(s, NULL));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.stack_spaces, 2); /* one per tenant */
	store_close(s);

	CHECK_OK(store_open(&o, &s, NULL)); /* mapped again when loaded */
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.stack_spaces, 2);
	CHECK_EQ_INT(st.space_nodes, 9 + 6);
	check_hours(s, NULL, 4);
	check_hours(s, "other", 1);
	store_close(s);
}

TEST(store_sspace_new_space_after_drops)
{
	struct store_opts o = {
		.dir = test_tmpdir(), .no_compaction = true, .retention_bytes = 64 << 10};
	struct store_stats st;
	struct store *s;
	struct prof *p = fx_prof_new(), *out;
	char name[64];

	CHECK_OK(store_open(&o, &s, NULL));
	/* hour 0: a block of 70000 distinct stacks, dropped by retention once hour 1 is cut */
	for (int i = 0; i < 70000; i++) {
		snprintf(name, sizeof(name), "main;a%d", i);
		fx_add(p, name, 1, 0);
	}
	CHECK_OK(fx_append(s, NULL, "api", SEC, p, NULL));
	prof_free(p);
	CHECK_OK(store_cut(s, NULL));
	p = fx_prof_new();
	fx_add(p, "main;work;hash", 10, 0);
	CHECK_OK(fx_append(s, NULL, "api", HOUR + SEC, p, NULL));
	prof_free(p);
	CHECK_OK(store_cut(s, NULL));
	CHECK_OK(store_compact(s, NULL));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.blocks, 1);
	CHECK_EQ_INT(st.dropped_blocks, 1);
	CHECK_EQ_INT(st.stack_spaces, 1);
	CHECK(st.space_nodes >= 70002); /* the dropped block's stacks are still there */

	/* hour 2 goes to a new space: the old one is mostly stacks of dropped blocks */
	p = fx_prof_new();
	fx_add(p, "main;work;hash", 5, 0);
	fx_add(p, "main;new", 2, 0);
	CHECK_OK(fx_append(s, NULL, "api", 2 * HOUR + SEC, p, NULL));
	prof_free(p);
	CHECK_OK(store_cut(s, NULL));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.blocks, 2);
	CHECK_EQ_INT(st.stack_spaces, 2);
	out = merge_all(s, NULL);
	if (out) { /* one output stack from both spaces */
		CHECK_EQ_INT(fx_value(out, "main;work;hash"), 15);
		CHECK_EQ_INT(fx_value(out, "main;new"), 2);
		CHECK_EQ_INT(prof_n_samples(out), 2);
		prof_free(out);
	}
	store_close(s);

	CHECK_OK(store_open(&o, &s, NULL)); /* loaded blocks start afresh: one small space */
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.stack_spaces, 1);
	CHECK_EQ_INT(st.space_nodes, 5);
	store_close(s);
}
