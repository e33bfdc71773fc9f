/*
 * test_profile.c — unit tests for the profile model core (src/profile/profile.c): interning and
 * deduplication of every table, the stack tree (also a new suffix at once, prof_node_chain),
 * sample aggregation, frame names.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "profile/profile.h"
#include "test.h"

TEST(profile_tables_dedup)
{
	struct prof *p = prof_new();
	uint32_t fname = prof_intern_cstr(p, "main"), file = prof_intern_cstr(p, "main.c");
	struct prof_function f = {.name = fname, .filename = file, .start_line = 3};
	struct prof_mapping m = {.memory_start = 0x1000,
				 .memory_limit = 0x2000,
				 .filename = prof_intern_cstr(p, "/bin/app"),
				 .build_id = prof_intern_cstr(p, "abcd"),
				 .has_functions = true};
	uint32_t fid = prof_add_function(p, &f), mid = prof_add_mapping(p, &m);
	struct prof_line lines[2] = {{.function = fid, .line = 10}, {.function = fid, .line = 20}};
	uint32_t l1 = prof_add_location(p, mid, 0x1234, lines, 2, false);
	struct prof_location loc;

	CHECK_EQ_INT(prof_intern_cstr(p, "main"), fname);
	CHECK_EQ_INT(prof_add_function(p, &f), fid);
	f.start_line = 4;
	CHECK_EQ_INT(prof_add_function(p, &f), fid + 1);
	CHECK_EQ_INT(prof_add_mapping(p, &m), mid);
	m.has_inline_frames = true;
	CHECK_EQ_INT(prof_add_mapping(p, &m), 2);
	CHECK_EQ_INT(prof_add_location(p, mid, 0x1234, lines, 2, false), l1);
	CHECK_EQ_INT(prof_add_location(p, mid, 0x1234, lines, 1, false), l1 + 1);
	CHECK_EQ_INT(prof_add_location(p, mid, 0x1234, lines, 2, true), l1 + 2);
	CHECK_EQ_INT(prof_n_functions(p), 2);
	CHECK_EQ_INT(prof_n_mappings(p), 2);
	CHECK_EQ_INT(prof_n_locations(p), 3);
	prof_location_get(p, l1, &loc);
	CHECK_EQ_INT(loc.address, 0x1234);
	CHECK_EQ_INT(loc.mapping, mid);
	CHECK_EQ_INT(loc.n_lines, 2);
	CHECK_EQ_INT(loc.lines[1].line, 20);
	CHECK_EQ_STR(prof_string(p, prof_mapping_get(p, mid)->build_id), "abcd");
	CHECK(prof_mapping_get(p, 0) == NULL && prof_function_get(p, 99) == NULL);
	prof_free(p);
}

TEST(profile_stack_tree_and_samples)
{
	struct prof *p = prof_new();
	uint32_t locs[4], a[3], b[2];
	int64_t v1[2] = {1, 10}, v2[2] = {2, 20};
	struct prof_sample s;
	struct prof_label lab[2];
	uint32_t ls1, ls2;

	prof_add_sample_type(p, prof_intern_cstr(p, "samples"), prof_intern_cstr(p, "count"));
	prof_add_sample_type(p, prof_intern_cstr(p, "cpu"), prof_intern_cstr(p, "nanoseconds"));
	for (int i = 0; i < 4; i++)
		locs[i] = prof_add_location(p, 0, 0x100 + (uint64_t)i, NULL, 0, false);
	/* a = leaf locs[2] <- locs[1] <- locs[0] (root); b = locs[1] <- locs[0] */
	a[0] = locs[2];
	a[1] = locs[1];
	a[2] = locs[0];
	b[0] = locs[1];
	b[1] = locs[0];
	uint32_t na = prof_add_stack(p, a, 3), nb = prof_add_stack(p, b, 2);

	CHECK_EQ_INT(prof_node_parent(p, na), nb);
	CHECK_EQ_INT(prof_node_location(p, na), locs[2]);
	CHECK_EQ_INT(prof_node_depth(p, na), 3);
	CHECK_EQ_INT(prof_n_nodes(p), 4); /* root + 3 */
	CHECK_EQ_INT(prof_add_stack(p, a, 3), na);
	CHECK_EQ_INT(prof_add_stack(p, NULL, 0), 0);

	lab[0] = (struct prof_label){.key = prof_intern_cstr(p, "k"),
				     .str = prof_intern_cstr(p, "v")};
	lab[1] = (struct prof_label){.key = prof_intern_cstr(p, "bytes"), .num = 64};
	ls1 = prof_add_labelset(p, lab, 2);
	struct prof_label rev[2] = {lab[1], lab[0]};

	ls2 = prof_add_labelset(p, rev, 2);
	CHECK_EQ_INT(ls1, ls2); /* order-insensitive */
	CHECK_EQ_INT(prof_add_labelset(p, lab, 1) != ls1, 1);
	CHECK_EQ_INT(prof_add_labelset(p, NULL, 0), 0);

	prof_add_sample(p, na, 0, v1);
	prof_add_sample(p, na, 0, v2);
	prof_add_sample(p, na, ls1, v1);
	prof_add_sample(p, nb, 0, v2);
	CHECK_EQ_INT(prof_n_samples(p), 3);
	prof_sample_get(p, 0, &s);
	CHECK_EQ_INT(s.node, na);
	CHECK_EQ_INT(s.values[0], 3);
	CHECK_EQ_INT(s.values[1], 30);
	CHECK_EQ_INT(prof_total(p, 0), 6);
	CHECK_EQ_INT(prof_total(p, 1), 60);
	prof_sample_get(p, 1, &s);
	size_t n;
	const struct prof_label *got = prof_labelset_get(p, s.labelset, &n);

	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(prof_string(p, got[0].key), "k");
	CHECK_EQ_INT(prof_find_sample_type(p, "cpu", NULL), 1);
	CHECK_EQ_INT(prof_find_sample_type(p, "cpu", "bytes"), -1);
	CHECK_EQ_INT(prof_default_sample_type(p), 1);
	prof_meta(p)->default_sample_type = prof_intern_cstr(p, "samples");
	CHECK_EQ_INT(prof_default_sample_type(p), 0);
	prof_free(p);
}

TEST(profile_frame_names)
{
	struct prof *p = prof_new();
	struct prof_function f = {.name = prof_intern_cstr(p, "inner")}, g = {0};
	struct prof_mapping m = {.memory_start = 0x400000,
				 .memory_limit = 0x500000,
				 .file_offset = 0x1000,
				 .filename = prof_intern_cstr(p, "/usr/lib/libfoo.so")};
	uint32_t fi, go, mid;
	char tmp[80];

	fi = prof_add_function(p, &f);
	f.name = prof_intern_cstr(p, "outer");
	go = prof_add_function(p, &f);
	g.system_name = prof_intern_cstr(p, "_Z3foov");
	uint32_t gs = prof_add_function(p, &g);
	mid = prof_add_mapping(p, &m);
	struct prof_line lines[2] = {{.function = fi}, {.function = go}};
	uint32_t l1 = prof_add_location(p, mid, 0x400010, lines, 2, false);
	uint32_t l2 = prof_add_location(p, mid, 0x400020, NULL, 0, false);
	uint32_t l3 = prof_add_location(p, 0, 0xdead, NULL, 0, false);
	struct prof_line sl = {.function = gs};
	uint32_t l4 = prof_add_location(p, 0, 0, &sl, 1, false);

	CHECK_EQ_INT(prof_location_n_frames(p, l1), 2);
	CHECK_EQ_INT(prof_location_n_frames(p, l2), 1);
	CHECK_EQ_STR(prof_frame_name(p, l1, 0, tmp), "inner");
	CHECK_EQ_STR(prof_frame_name(p, l1, 1, tmp), "outer");
	CHECK_EQ_STR(prof_frame_name(p, l2, 0, tmp), "libfoo.so+0x1020");
	CHECK_EQ_STR(prof_frame_name(p, l3, 0, tmp), "0xdead");
	CHECK_EQ_STR(prof_frame_name(p, l4, 0, tmp), "_Z3foov");
	prof_free(p);
}

TEST(profile_many_samples_scale)
{
	struct prof *p = prof_new();
	uint32_t loc[64];
	int64_t one = 1;

	prof_add_sample_type(p, prof_intern_cstr(p, "samples"), prof_intern_cstr(p, "count"));
	for (int i = 0; i < 64; i++)
		loc[i] = prof_add_location(p, 0, (uint64_t)i + 1, NULL, 0, false);
	/* 10000 stacks: depth 1..64 over a rotating window */
	for (int s = 0; s < 10000; s++) {
		uint32_t stack[64];
		int depth = 1 + s % 64;

		for (int d = 0; d < depth; d++)
			stack[d] = loc[(s + d) % 64];
		prof_add_sample(p, prof_add_stack(p, stack, (size_t)depth), 0, &one);
	}
	CHECK_EQ_INT(prof_total(p, 0), 10000);
	CHECK(prof_n_samples(p) <= 4096);
	CHECK(prof_bytes(p) > 0);
	prof_free(p);
}

/* prof_add_samples (batched, prefetched) gives exactly what prof_add_stack + prof_add_sample
 * give one sample at a time: random stacks of depth 0..40 over 50 locations, many repeated
 * (the whole-stack cache hits), two label sets, two value types, into a profile that already
 * holds some of them. */
TEST(profile_add_samples_matches_one_by_one)
{
	struct prof *a = prof_new(), *b = prof_new();
	uint32_t locs[50], *all = mem_alloc(MEM_TEST, 3000 * 40 * sizeof(*all)), nl[3000], ls[3000];
	size_t start[3000];
	int64_t vals[3000 * 2];
	uint64_t rng = 12345;
	size_t off = 0;

	for (struct prof *p = a; p; p = p == a ? b : NULL) {
		prof_add_sample_type(p, prof_intern_cstr(p, "samples"),
				     prof_intern_cstr(p, "count"));
		prof_add_sample_type(p, prof_intern_cstr(p, "cpu"), prof_intern_cstr(p, "ns"));
	}
	for (int i = 0; i < 50; i++) {
		char name[16];
		struct prof_function f = {0};
		struct prof_line line = {0};

		snprintf(name, sizeof(name), "f%d", i);
		f.name = prof_intern_cstr(a, name);
		line.function = prof_add_function(a, &f);
		locs[i] = prof_add_location(a, 0, 0x1000 + (uint64_t)i, &line, 1, false);
		f.name = prof_intern_cstr(b, name);
		line.function = prof_add_function(b, &f);
		CHECK_EQ_INT(prof_add_location(b, 0, 0x1000 + (uint64_t)i, &line, 1, false),
			     locs[i]);
	}
	for (struct prof *p = a; p; p = p == a ? b : NULL) {
		struct prof_label l = {.key = prof_intern_cstr(p, "k"),
				       .str = prof_intern_cstr(p, "v")};

		CHECK_EQ_INT(prof_add_labelset(p, &l, 1), 1);
	}
	for (size_t j = 0; j < 3000; j++) {
		bool again = j >= 7 && j % 7 == 0; /* sample j - 7's stack once more */

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		nl[j] = again ? nl[j - 7] : (uint32_t)(rng >> 33) % 41;
		ls[j] = (uint32_t)(rng >> 20) % 2;
		start[j] = off;
		for (uint32_t k = 0; k < nl[j]; k++)
			all[off + k] = again ? all[start[j - 7] + k] : locs[(rng >> (k % 30)) % 50];
		off += nl[j];
		vals[2 * j] = (int64_t)j + 1;
		vals[2 * j + 1] = 1000 * ((int64_t)j + 1);
	}
	/* half of the stacks already there in both */
	off = 0;
	for (size_t j = 0; j < 1500; j++) {
		prof_add_sample(a, prof_add_stack(a, all + off, nl[j]), 0, vals + 2 * j);
		prof_add_sample(b, prof_add_stack(b, all + off, nl[j]), 0, vals + 2 * j);
		off += nl[j];
	}
	{
		size_t o2 = off;

		for (size_t j = 1500; j < 3000; j++) {
			prof_add_sample(a, prof_add_stack(a, all + o2, nl[j]), ls[j], vals + 2 * j);
			o2 += nl[j];
		}
	}
	prof_add_samples(b, 1500, all + off, nl + 1500, ls + 1500, vals + 2 * 1500);
	CHECK_EQ_INT(prof_n_nodes(b), prof_n_nodes(a));
	CHECK_EQ_INT(prof_n_samples(b), prof_n_samples(a));
	for (size_t i = 0; i < prof_n_samples(a); i++) {
		struct prof_sample x, y;

		prof_sample_get(a, i, &x);
		prof_sample_get(b, i, &y);
		CHECK_EQ_INT(y.node, x.node);
		CHECK_EQ_INT(y.labelset, x.labelset);
		CHECK_EQ_INT(y.values[0], x.values[0]);
		CHECK_EQ_INT(y.values[1], x.values[1]);
	}
	for (uint32_t n = 0; n < prof_n_nodes(a); n++) {
		CHECK_EQ_INT(prof_node_parent(b, n), prof_node_parent(a, n));
		CHECK_EQ_INT(prof_node_location(b, n), prof_node_location(a, n));
	}
	mem_free(all);
	prof_free(a);
	prof_free(b);
}

/* prof_node_chain gives the nodes prof_node_child gives one at a time below a new node, and they
 * are found afterwards (through the index, as any other node). */
TEST(profile_node_chain_matches_node_child)
{
	struct prof *a = prof_new(), *b = prof_new();
	uint32_t locs[40], nodes[40], top_a, top_b;
	bool same = true;

	/* a common top: main -> run, then a new node below it in each */
	top_a = prof_node_child(a, prof_node_child(a, 0, 1), 2);
	top_b = prof_node_child(b, prof_node_child(b, 0, 1), 2);
	for (uint32_t len = 0; len <= 40; len += 13) {
		uint32_t up_a = prof_node_child(a, top_a, 100 + len), up_b;

		up_b = prof_node_child(b, top_b, 100 + len);
		for (uint32_t i = 0; i < len; i++)
			locs[i] =
				3 + (i * 7) % 11; /* repeats: the same location at several depths */
		prof_node_chain(a, up_a, locs, len, nodes);
		for (uint32_t i = 0; i < len; i++) {
			up_b = prof_node_child(b, up_b, locs[i]);
			same &= nodes[i] == up_b;
		}
	}
	CHECK(same);
	CHECK_EQ_INT(prof_n_nodes(a), prof_n_nodes(b));
	for (uint32_t nd = 1; nd < prof_n_nodes(a); nd++) {
		uint32_t found = 0;

		same &= prof_node_parent(a, nd) == prof_node_parent(b, nd) &&
			prof_node_location(a, nd) == prof_node_location(b, nd);
		same &= prof_node_find(a, prof_node_parent(a, nd), prof_node_location(a, nd),
				       &found) &&
			found == nd;
	}
	CHECK(same);
	prof_free(a);
	prof_free(b);
}
