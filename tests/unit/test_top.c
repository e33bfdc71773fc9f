/*
 * test_top.c — unit tests for src/profile/top.c: flat/cum as `pprof -top` computes them
 * (recursion counted once, inline frames as their own functions, flat on the innermost frame),
 * sorting, and agreement with a per-sample reference on random profiles.
 */
#include <stdbool.h>
#include <string.h>

#include "profile/profile.h"
#include "profile/top.h"
#include "prof_fixture.h"
#include "test.h"

static void t_add(struct prof *p, const char *stack, int64_t v0, int64_t v1)
{
	int64_t v[2] = {v0, v1};

	prof_add_sample(p, fx_stack(p, stack), 0, v);
}

static const struct prof_top_row *t_row(const struct prof_top *t, const char *name)
{
	for (size_t i = 0; i < prof_top_len(t); i++)
		if (strcmp(prof_top_row(t, i)->name, name) == 0)
			return prof_top_row(t, i);
	return NULL;
}

#define CHECK_ROW(t, nm, fl, cu)                                  \
	do {                                                      \
		const struct prof_top_row *r_ = t_row((t), (nm)); \
		CHECK_MSG(r_ != NULL, "no row %s", (nm));         \
		CHECK_EQ_INT(r_->flat, (fl));                     \
		CHECK_EQ_INT(r_->cum, (cu));                      \
	} while (0)

TEST(top_flat_cum_and_order)
{
	struct prof *p = fx_types("samples", "count", "cpu", "nanoseconds");
	struct prof_top *t;

	t_add(p, "main;a;b", 10, 100);
	t_add(p, "main;a", 5, 50);
	t_add(p, "main;c", 3, 30);
	t_add(p, "main;a;b", 1, 10); /* same stack: summed */
	t = prof_top_new(p, 0, false);
	CHECK_EQ_INT(prof_top_total(t), 19);
	CHECK_EQ_INT(prof_top_len(t), 4);
	CHECK_EQ_STR(prof_top_row(t, 0)->name, "b");
	CHECK_EQ_STR(prof_top_row(t, 1)->name, "a");
	CHECK_EQ_STR(prof_top_row(t, 2)->name, "c");
	CHECK_EQ_STR(prof_top_row(t, 3)->name, "main");
	CHECK_ROW(t, "b", 11, 11);
	CHECK_ROW(t, "a", 5, 16);
	CHECK_ROW(t, "c", 3, 3);
	CHECK_ROW(t, "main", 0, 19);
	prof_top_free(t);
	t = prof_top_new(p, 1, true);
	CHECK_EQ_INT(prof_top_total(t), 190);
	CHECK_EQ_STR(prof_top_row(t, 0)->name, "main");
	CHECK_EQ_STR(prof_top_row(t, 1)->name, "a");
	CHECK_EQ_STR(prof_top_row(t, 2)->name, "b");
	CHECK_EQ_STR(prof_top_row(t, 3)->name, "c");
	CHECK_ROW(t, "a", 50, 160);
	CHECK(prof_top_row(t, 4) == NULL);
	prof_top_free(t);
	/* an out-of-range sample type gives an empty table */
	t = prof_top_new(p, 2, false);
	CHECK_EQ_INT(prof_top_len(t), 0);
	CHECK_EQ_INT(prof_top_total(t), 0);
	prof_top_free(t);
	prof_free(p);
}

TEST(top_recursion_counted_once)
{
	struct prof *p = fx_types("cpu", "nanoseconds", NULL, NULL);
	struct prof_top *t;

	t_add(p, "main;f;f;f", 4, 0);
	t_add(p, "main;f;g;f", 2, 0);
	t_add(p, "main;g;g", 1, 0);
	t_add(p, "f+f;f", 8, 0); /* inlined recursion inside one location too */
	t = prof_top_new(p, 0, false);
	CHECK_EQ_INT(prof_top_total(t), 15);
	CHECK_ROW(t, "f", 14, 14);
	CHECK_ROW(t, "g", 1, 3);
	CHECK_ROW(t, "main", 0, 7);
	CHECK_EQ_INT(prof_top_len(t), 3);
	prof_top_free(t);
	prof_free(p);
}

TEST(top_inline_frames)
{
	struct prof *p = fx_types("cpu", "nanoseconds", NULL, NULL);
	struct prof_top *t;

	/* outer+inner: inner was inlined into outer; the sample's leaf frame is inner */
	t_add(p, "main;outer+inner", 7, 0);
	t_add(p, "main;outer+inner;leaf", 2, 0);
	t_add(p, "main+helper;outer", 1, 0);
	t = prof_top_new(p, 0, false);
	CHECK_ROW(t, "inner", 7, 9);
	CHECK_ROW(t, "outer", 1, 10);
	CHECK_ROW(t, "leaf", 2, 2);
	CHECK_ROW(t, "helper", 0, 1);
	CHECK_ROW(t, "main", 0, 10);
	prof_top_free(t);
	prof_free(p);
}

TEST(top_ties_by_name_and_unsymbolized)
{
	struct prof *p = fx_types("cpu", "nanoseconds", NULL, NULL);
	uint32_t loc = prof_add_location(p, 0, 0xbeef, NULL, 0, false);
	int64_t v = 5;
	struct prof_top *t;

	t_add(p, "m;zeta", 5, 0);
	t_add(p, "m;alpha", 5, 0);
	t_add(p, "m;mid", 5, 0);
	prof_add_sample(p, prof_node_child(p, fx_stack(p, "m"), loc), 0, &v);
	t_add(p, "m;zero", 0, 0); /* zero values: no row */
	t = prof_top_new(p, 0, false);
	CHECK_EQ_INT(prof_top_len(t), 5);
	CHECK_EQ_STR(prof_top_row(t, 0)->name, "0xbeef");
	CHECK_EQ_STR(prof_top_row(t, 1)->name, "alpha");
	CHECK_EQ_STR(prof_top_row(t, 2)->name, "mid");
	CHECK_EQ_STR(prof_top_row(t, 3)->name, "zeta");
	CHECK_EQ_STR(prof_top_row(t, 4)->name, "m");
	CHECK(t_row(t, "zero") == NULL);
	prof_top_free(t);
	prof_free(p);
}

/* Reference flat/cum of `name` by walking every sample. */
static void t_reference(const struct prof *p, size_t vi, const char *name, int64_t *flat,
			int64_t *cum)
{
	char tmp[80];

	*flat = *cum = 0;
	for (size_t i = 0; i < prof_n_samples(p); i++) {
		struct prof_sample s;
		bool seen = false;

		prof_sample_get(p, i, &s);
		if (s.node &&
		    strcmp(prof_frame_name(p, prof_node_location(p, s.node), 0, tmp), name) == 0)
			*flat += s.values[vi];
		for (uint32_t n = s.node; n && !seen; n = prof_node_parent(p, n)) {
			uint32_t loc = prof_node_location(p, n);

			for (uint32_t f = 0; f < prof_location_n_frames(p, loc) && !seen; f++)
				seen = strcmp(prof_frame_name(p, loc, f, tmp), name) == 0;
		}
		if (seen)
			*cum += s.values[vi];
	}
}

TEST(top_random_matches_reference)
{
	for (uint64_t seed = 1; seed <= 5; seed++) {
		struct prof *p = prof_new();
		uint64_t r = seed * 977 + 3;
		struct prof_top *t;
		int64_t flat_sum = 0;

		prof_add_sample_type(p, prof_intern_cstr(p, "cpu"), prof_intern_cstr(p, "ns"));
		for (int s = 0; s < 300; s++) {
			char stack[512];
			size_t off = 0;
			int depth = 1 + (int)(fx_rng(&r) % 12);

			/* few names: plenty of recursion; some inline pairs */
			for (int d = 0; d < depth; d++) {
				int a = (int)(fx_rng(&r) % 9), b = (int)(fx_rng(&r) % 9);

				off += (size_t)snprintf(stack + off, sizeof(stack) - off,
							fx_rng(&r) % 5 ? "%sf%d" : "%sf%d+f%d",
							d ? ";" : "", a, b);
			}
			t_add(p, stack, (int64_t)(fx_rng(&r) % 50), 0);
		}
		t = prof_top_new(p, 0, false);
		CHECK_EQ_INT(prof_top_total(t), prof_total(p, 0));
		for (size_t i = 0; i < prof_top_len(t); i++) {
			const struct prof_top_row *row = prof_top_row(t, i);
			int64_t flat, cum;

			t_reference(p, 0, row->name, &flat, &cum);
			CHECK_EQ_INT(row->flat, flat);
			CHECK_EQ_INT(row->cum, cum);
			CHECK(row->cum >= row->flat);
			CHECK(row->cum <= prof_top_total(t));
			if (i > 0) {
				const struct prof_top_row *prev = prof_top_row(t, i - 1);

				CHECK(prev->flat > row->flat ||
				      (prev->flat == row->flat &&
				       strcmp(prev->name, row->name) < 0));
			}
			flat_sum += row->flat;
		}
		CHECK_EQ_INT(flat_sum, prof_total(p, 0));
		prof_top_free(t);
		prof_free(p);
	}
}
