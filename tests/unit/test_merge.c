/*
 * test_merge.c — unit tests for src/profile/merge.c: merge (symbols deduplicated, values summed
 * per stack, sample types reordered, mismatches rejected with dst unchanged, metadata), scale
 * rounding, select_type, and the speed of merging 1000 profiles.
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/mem.h"
#include "base/strtab.h"
#include "profile/merge.h"
#include "profile/profile.h"
#include "prof_fixture.h"
#include "test.h"

/* The name path of a node, root first, inline frames expanded outermost first. */
static void t_node_str(const struct prof *p, uint32_t node, char *out, size_t cap)
{
	uint32_t path[256];
	size_t n = 0, off = 0;
	char tmp[80];

	for (; node && n < 256; node = prof_node_parent(p, node))
		path[n++] = prof_node_location(p, node);
	out[0] = 0;
	while (n-- > 0) {
		for (uint32_t i = prof_location_n_frames(p, path[n]); i-- > 0;) {
			int w = snprintf(out + off, cap - off, "%s%s", off ? ";" : "",
					 prof_frame_name(p, path[n], i, tmp));

			if (w < 0 || (size_t)w >= cap - off)
				return;
			off += (size_t)w;
		}
	}
}

/* Sum of type vi over the samples whose stack renders as `stack`. */
static int64_t t_stack_value(const struct prof *p, const char *stack, size_t vi)
{
	char buf[1024];
	int64_t sum = 0;

	for (size_t i = 0; i < prof_n_samples(p); i++) {
		struct prof_sample s;

		prof_sample_get(p, i, &s);
		t_node_str(p, s.node, buf, sizeof(buf));
		if (strcmp(buf, stack) == 0)
			sum += s.values[vi];
	}
	return sum;
}

/* Per rendered stack string, the sum of type vi, accumulated into (st, sums). */
static void t_accumulate(const struct prof *p, size_t vi, struct strtab *st, int64_t *sums,
			 size_t cap)
{
	char buf[1024];

	for (size_t i = 0; i < prof_n_samples(p); i++) {
		struct prof_sample s;
		uint32_t id;

		prof_sample_get(p, i, &s);
		t_node_str(p, s.node, buf, sizeof(buf));
		id = strtab_intern_cstr(st, buf);
		if (id < cap)
			sums[id] += s.values[vi];
	}
}

TEST(merge_two_profiles_dedup_and_sum)
{
	struct prof *a = fx_types("cpu", "nanoseconds", NULL, NULL);
	struct prof *b = prof_new(), *dst = prof_new();
	struct ember_diag d = {{0}};
	struct prof_function unused = {0};

	fx_add(a, "main;a", 0, 10, 0);
	fx_add(a, "main;b", 0, 5, 0);
	/* b interns in another order and holds a function no sample uses */
	unused.name = prof_intern_cstr(b, "never_called");
	prof_add_function(b, &unused);
	prof_intern_cstr(b, "c");
	prof_add_sample_type(b, prof_intern_cstr(b, "cpu"), prof_intern_cstr(b, "nanoseconds"));
	fx_add(b, "main;c", 0, 7, 0);
	fx_add(b, "main;a", 0, 3, 0);

	CHECK_OK(prof_merge(dst, a, &d));
	CHECK_OK(prof_merge(dst, b, &d));
	CHECK_EQ_INT(prof_n_sample_types(dst), 1);
	CHECK_EQ_STR(prof_string(dst, prof_sample_types(dst)[0].type), "cpu");
	CHECK_EQ_INT(prof_total(dst, 0), 25);
	CHECK_EQ_INT(t_stack_value(dst, "main;a", 0), 13);
	CHECK_EQ_INT(t_stack_value(dst, "main;b", 0), 5);
	CHECK_EQ_INT(t_stack_value(dst, "main;c", 0), 7);
	CHECK_EQ_INT(prof_n_samples(dst), 3);
	CHECK_EQ_INT(prof_n_functions(dst), 4); /* main a b c; not never_called */
	CHECK_EQ_INT(prof_n_locations(dst), 4);
	CHECK_EQ_INT(prof_n_nodes(dst), 5); /* root, main, main;a, main;b, main;c */
	/* merging again doubles values without adding symbols */
	CHECK_OK(prof_merge(dst, b, &d));
	CHECK_EQ_INT(t_stack_value(dst, "main;a", 0), 16);
	CHECK_EQ_INT(prof_n_functions(dst), 4);
	CHECK_EQ_INT(prof_n_nodes(dst), 5);
	prof_free(a);
	prof_free(b);
	prof_free(dst);
}

TEST(merge_symbols_labels_mappings)
{
	struct prof *a = fx_types("cpu", "nanoseconds", NULL, NULL), *dst = prof_new();
	struct prof_mapping m = {.memory_start = 0x1000,
				 .memory_limit = 0x9000,
				 .filename = prof_intern_cstr(a, "/bin/app"),
				 .build_id = prof_intern_cstr(a, "feed"),
				 .has_functions = true};
	struct prof_function f = {.name = prof_intern_cstr(a, "work"),
				  .system_name = prof_intern_cstr(a, "_Z4workv"),
				  .filename = prof_intern_cstr(a, "work.c"),
				  .start_line = 12};
	struct prof_line ln = {.line = 14, .column = 3};
	struct prof_label lab[2] = {
		{.key = prof_intern_cstr(a, "thread"), .str = prof_intern_cstr(a, "t1")},
		{.key = prof_intern_cstr(a, "bytes"),
		 .num = 64,
		 .num_unit = prof_intern_cstr(a, "B")}};
	uint32_t mid = prof_add_mapping(a, &m), loc, node, ls;
	int64_t v = 9;
	struct prof_location got;
	struct prof_sample s;
	const struct prof_label *gl;
	size_t n;
	char tmp[80];

	ln.function = prof_add_function(a, &f);
	loc = prof_add_location(a, mid, 0x1234, &ln, 1, true);
	node = prof_add_stack(a, &loc, 1);
	ls = prof_add_labelset(a, lab, 2);
	prof_add_sample(a, node, ls, &v);
	CHECK_OK(prof_merge(dst, a, NULL));
	CHECK_OK(prof_merge(dst, a, NULL));
	CHECK_EQ_INT(prof_n_samples(dst), 1);
	CHECK_EQ_INT(prof_n_mappings(dst), 1);
	prof_sample_get(dst, 0, &s);
	CHECK_EQ_INT(s.values[0], 18);
	prof_location_get(dst, prof_node_location(dst, s.node), &got);
	CHECK_EQ_INT(got.address, 0x1234);
	CHECK(got.is_folded);
	CHECK_EQ_INT(got.n_lines, 1);
	CHECK_EQ_INT(got.lines[0].line, 14);
	CHECK_EQ_INT(got.lines[0].column, 3);
	CHECK_EQ_STR(prof_frame_name(dst, prof_node_location(dst, s.node), 0, tmp), "work");
	const struct prof_function *gf = prof_function_get(dst, got.lines[0].function);
	CHECK_EQ_STR(prof_string(dst, gf->system_name), "_Z4workv");
	CHECK_EQ_STR(prof_string(dst, gf->filename), "work.c");
	CHECK_EQ_INT(gf->start_line, 12);
	const struct prof_mapping *gm = prof_mapping_get(dst, got.mapping);
	CHECK_EQ_STR(prof_string(dst, gm->filename), "/bin/app");
	CHECK_EQ_STR(prof_string(dst, gm->build_id), "feed");
	CHECK(gm->has_functions);
	CHECK_EQ_INT(gm->memory_limit, 0x9000);
	gl = prof_labelset_get(dst, s.labelset, &n);
	CHECK_EQ_INT(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(prof_string(dst, gl[i].key), "thread") == 0) {
			CHECK_EQ_STR(prof_string(dst, gl[i].str), "t1");
		} else {
			CHECK_EQ_STR(prof_string(dst, gl[i].key), "bytes");
			CHECK_EQ_INT(gl[i].str, 0);
			CHECK_EQ_INT(gl[i].num, 64);
			CHECK_EQ_STR(prof_string(dst, gl[i].num_unit), "B");
		}
	}
	prof_free(a);
	prof_free(dst);
}

TEST(merge_sample_type_reorder)
{
	struct prof *a = fx_types("samples", "count", "cpu", "nanoseconds");
	struct prof *b = fx_types("cpu", "nanoseconds", "samples", "count"), *dst = prof_new();

	fx_add(a, "main;x", 0, 1, 100);
	fx_add(b, "main;x", 0, 200, 2);
	fx_add(b, "main;y", 0, 50, 1);
	CHECK_OK(prof_merge(dst, a, NULL));
	CHECK_OK(prof_merge(dst, b, NULL));
	CHECK_EQ_STR(prof_string(dst, prof_sample_types(dst)[0].type), "samples");
	CHECK_EQ_STR(prof_string(dst, prof_sample_types(dst)[1].type), "cpu");
	CHECK_EQ_INT(t_stack_value(dst, "main;x", 0), 3);
	CHECK_EQ_INT(t_stack_value(dst, "main;x", 1), 300);
	CHECK_EQ_INT(t_stack_value(dst, "main;y", 0), 1);
	CHECK_EQ_INT(t_stack_value(dst, "main;y", 1), 50);
	prof_free(a);
	prof_free(b);
	prof_free(dst);
}

TEST(merge_mismatch_leaves_dst_unchanged)
{
	struct prof *dst = fx_types("cpu", "nanoseconds", NULL, NULL);
	struct prof *heap = fx_types("alloc_space", "bytes", NULL, NULL);
	struct prof *two = fx_types("cpu", "nanoseconds", "samples", "count");
	struct prof *unit = fx_types("cpu", "milliseconds", NULL, NULL);
	struct ember_diag d = {{0}};
	uint32_t n_str, n_fn, n_nodes;
	size_t n_comments;

	fx_add(dst, "main;a", 0, 10, 0);
	prof_meta(dst)->duration_ns = 5;
	fx_add(heap, "main;alloc", 0, 4096, 0);
	prof_meta(heap)->duration_ns = 7;
	prof_add_comment(heap, prof_intern_cstr(heap, "a comment"));
	fx_add(two, "main;b", 0, 1, 1);
	fx_add(unit, "main;a", 0, 1, 0);
	n_str = prof_n_strings(dst);
	n_fn = prof_n_functions(dst);
	n_nodes = prof_n_nodes(dst);

	CHECK_EQ_INT(prof_merge(dst, heap, &d), -EMBER_EFORMAT);
	CHECK(strstr(d.msg, "cpu/nanoseconds") != NULL);
	CHECK(strstr(d.msg, "alloc_space/bytes") != NULL);
	CHECK_EQ_INT(prof_merge(dst, two, &d), -EMBER_EFORMAT);
	CHECK(strstr(d.msg, "samples/count") != NULL);
	CHECK_EQ_INT(prof_merge(dst, unit, &d), -EMBER_EFORMAT);
	CHECK(strstr(d.msg, "cpu/milliseconds") != NULL);
	CHECK_EQ_INT(prof_n_strings(dst), n_str);
	CHECK_EQ_INT(prof_n_functions(dst), n_fn);
	CHECK_EQ_INT(prof_n_nodes(dst), n_nodes);
	CHECK_EQ_INT(prof_n_samples(dst), 1);
	CHECK_EQ_INT(prof_total(dst, 0), 10);
	CHECK_EQ_INT(prof_meta_get(dst)->duration_ns, 5);
	prof_comments(dst, &n_comments);
	CHECK_EQ_INT(n_comments, 0);
	prof_free(dst);
	prof_free(heap);
	prof_free(two);
	prof_free(unit);
}

TEST(merge_metadata)
{
	struct prof *a = fx_types("cpu", "nanoseconds", NULL, NULL);
	struct prof *b = fx_types("cpu", "nanoseconds", NULL, NULL);
	struct prof *c = fx_types("cpu", "nanoseconds", NULL, NULL), *dst = prof_new();
	struct prof_meta *m;
	const uint32_t *com;
	size_t n;

	m = prof_meta(a);
	m->time_ns = 2000;
	m->duration_ns = 10;
	m->period = 100;
	m->period_type.type = prof_intern_cstr(a, "cpu");
	m->period_type.unit = prof_intern_cstr(a, "nanoseconds");
	m->drop_frames = prof_intern_cstr(a, "runtime\\..*");
	m->doc_url = prof_intern_cstr(a, "https://example.com/doc");
	m->default_sample_type = prof_intern_cstr(a, "cpu");
	prof_add_comment(a, prof_intern_cstr(a, "first"));
	m = prof_meta(b);
	m->time_ns = 0; /* unset: never the earliest */
	m->duration_ns = 20;
	m->period = 300;
	prof_add_comment(b, prof_intern_cstr(b, "second"));
	prof_add_comment(b, prof_intern_cstr(b, "first"));
	m = prof_meta(c);
	m->time_ns = 1000;
	m->duration_ns = 30;
	m->period = 200;
	m->doc_url = prof_intern_cstr(c, "https://other");
	fx_add(a, "main", 0, 1, 0);
	fx_add(c, "main", 0, 2, 0);

	CHECK_OK(prof_merge(dst, a, NULL));
	CHECK_EQ_INT(prof_meta_get(dst)->time_ns, 2000);
	CHECK_OK(prof_merge(dst, b, NULL));
	CHECK_OK(prof_merge(dst, c, NULL));
	m = prof_meta(dst);
	CHECK_EQ_INT(m->time_ns, 1000);
	CHECK_EQ_INT(m->duration_ns, 60);
	CHECK_EQ_INT(m->period, 300);
	CHECK_EQ_STR(prof_string(dst, m->period_type.type), "cpu");
	CHECK_EQ_STR(prof_string(dst, m->period_type.unit), "nanoseconds");
	CHECK_EQ_STR(prof_string(dst, m->drop_frames), "runtime\\..*");
	CHECK_EQ_STR(prof_string(dst, m->doc_url), "https://example.com/doc");
	CHECK_EQ_STR(prof_string(dst, m->default_sample_type), "cpu");
	com = prof_comments(dst, &n);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(prof_string(dst, com[0]), "first");
	CHECK_EQ_STR(prof_string(dst, com[1]), "second");
	CHECK_EQ_INT(prof_total(dst, 0), 3);
	prof_free(a);
	prof_free(b);
	prof_free(c);
	prof_free(dst);
}

TEST(merge_random_stacks_sum)
{
	struct prof *a = fx_random(1, 400, 12, 8), *b = fx_random(2, 400, 15, 10),
		    *dst = prof_new();
	struct strtab *want = strtab_new(MEM_TEST), *got = strtab_new(MEM_TEST);
	enum {
		CAP = 4096
	};
	int64_t *ws = mem_calloc(MEM_TEST, CAP, sizeof(int64_t));
	int64_t *gs = mem_calloc(MEM_TEST, CAP, sizeof(int64_t));
	bool ok = true;

	CHECK_OK(prof_merge(dst, a, NULL));
	CHECK_OK(prof_merge(dst, b, NULL));
	t_accumulate(a, 1, want, ws, CAP);
	t_accumulate(b, 1, want, ws, CAP);
	t_accumulate(dst, 1, got, gs, CAP);
	ok = strtab_count(want) == strtab_count(got) && strtab_count(want) < CAP;
	for (uint32_t i = 1; ok && i < strtab_count(want); i++) {
		uint32_t j;
		const char *s = strtab_get(want, i, NULL);

		ok = strtab_find(got, s, strlen(s), &j) && gs[j] == ws[i];
	}
	CHECK_EQ_INT(prof_total(dst, 0), prof_total(a, 0) + prof_total(b, 0));
	CHECK_EQ_INT(prof_total(dst, 1), prof_total(a, 1) + prof_total(b, 1));
	/* every function name is kept once */
	CHECK(prof_n_functions(dst) <= 15);
	mem_free(ws);
	mem_free(gs);
	strtab_free(want);
	strtab_free(got);
	prof_free(a);
	prof_free(b);
	prof_free(dst);
	CHECK(ok);
}

TEST(merge_self)
{
	struct prof *p = fx_random(3, 50, 5, 4);
	int64_t t0 = prof_total(p, 0), t1 = prof_total(p, 1);
	size_t n = prof_n_samples(p);

	prof_meta(p)->duration_ns = 4;
	CHECK_OK(prof_merge(p, p, NULL));
	CHECK_EQ_INT(prof_total(p, 0), 2 * t0);
	CHECK_EQ_INT(prof_total(p, 1), 2 * t1);
	CHECK_EQ_INT(prof_n_samples(p), n);
	CHECK_EQ_INT(prof_meta_get(p)->duration_ns, 8);
	prof_free(p);
}

TEST(merge_scale_rounding)
{
	struct prof *p = fx_types("a", "count", "b", "count");
	struct prof_sample s;

	fx_add(p, "x", 0, 3, -3);
	fx_add(p, "y", 0, 5, 1);
	fx_add(p, "z", 0, 1000000007, 0);
	prof_scale(p, 0.5);
	prof_sample_get(p, 0, &s);
	CHECK_EQ_INT(s.values[0], 2);  /* 1.5 -> 2 */
	CHECK_EQ_INT(s.values[1], -2); /* -1.5 -> -2: halves away from zero */
	prof_sample_get(p, 1, &s);
	CHECK_EQ_INT(s.values[0], 3); /* 2.5 -> 3 */
	CHECK_EQ_INT(s.values[1], 1); /* 0.5 -> 1 */
	prof_sample_get(p, 2, &s);
	CHECK_EQ_INT(s.values[0], 500000004); /* 500000003.5 */
	prof_scale(p, 1.0 / 3.0);
	prof_sample_get(p, 0, &s);
	CHECK_EQ_INT(s.values[0], 1); /* 0.667 */
	CHECK_EQ_INT(s.values[1], -1);
	prof_sample_get(p, 2, &s);
	CHECK_EQ_INT(s.values[0], 166666668); /* 166666668.0 */
	prof_scale(p, 0);
	CHECK_EQ_INT(prof_total(p, 0), 0);
	prof_free(p);
}

TEST(merge_select_type)
{
	struct prof *p = fx_random(4, 200, 10, 6), *s;
	struct prof_sample a, b;

	prof_meta(p)->period = 10;
	prof_meta(p)->default_sample_type = prof_intern_cstr(p, "cpu");
	s = prof_select_type(p, 1);
	CHECK(s != NULL);
	CHECK(prof_select_type(p, 2) == NULL);
	CHECK_EQ_INT(prof_n_sample_types(s), 1);
	CHECK_EQ_STR(prof_string(s, prof_sample_types(s)[0].type), "cpu");
	CHECK_EQ_STR(prof_string(s, prof_sample_types(s)[0].unit), "nanoseconds");
	CHECK_EQ_INT(prof_total(s, 0), prof_total(p, 1));
	CHECK_EQ_INT(prof_n_samples(s), prof_n_samples(p));
	CHECK_EQ_INT(prof_n_functions(s), prof_n_functions(p));
	CHECK_EQ_INT(prof_n_locations(s), prof_n_locations(p));
	CHECK_EQ_INT(prof_n_nodes(s), prof_n_nodes(p));
	CHECK_EQ_INT(prof_meta_get(s)->period, 10);
	CHECK_EQ_STR(prof_string(s, prof_meta_get(s)->default_sample_type), "cpu");
	for (size_t i = 0; i < prof_n_samples(p); i++) {
		prof_sample_get(p, i, &a);
		prof_sample_get(s, i, &b);
		CHECK_EQ_INT(a.node, b.node); /* a full copy keeps ids */
		CHECK_EQ_INT(a.values[1], b.values[0]);
	}
	prof_free(s);
	s = prof_select_type(p, 0);
	CHECK_EQ_INT(prof_meta_get(s)->default_sample_type, 0);
	CHECK_EQ_INT(prof_total(s, 0), prof_total(p, 0));
	prof_free(s);
	prof_free(p);
}

static double t_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: steadier on shared hosts */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A profile of a synthetic service: stack s of a pool of 8000 is a "trunk" (one of 64 fixed
 * framework paths of depth 5-50, like main -> server -> handler) and a suffix of 1-10 frames
 * drawn from 3000 functions with a fan-out of 4, so stacks have depth 6-60 and share prefixes
 * the way real ones do. Profile i holds the 5000 stacks from i * 1000 on (mod 8000). */
static uint32_t t_pool_loc(struct prof *p, uint64_t fn, uint64_t line)
{
	char name[40];
	struct prof_function f;
	struct prof_line ln = {.line = (int64_t)line};

	snprintf(name, sizeof(name), "pkg.fn%llu", (unsigned long long)fn);
	f = (struct prof_function){.name = prof_intern_cstr(p, name)};
	ln.function = prof_add_function(p, &f);
	return prof_add_location(p, 0, 0x1000 + fn * 8 + line, &ln, 1, false);
}

static struct prof *t_service_profile(uint64_t seed)
{
	struct prof *p = fx_types("samples", "count", "cpu", "nanoseconds");
	uint64_t r = seed * 7919 + 17;

	for (int k = 0; k < 5000; k++) {
		uint64_t s = (seed * 1000 + (uint64_t)k) % 8000, sr = s * 0x9e3779b97f4a7c15ULL + 1,
			 fn = s % 64;
		int trunk = 5 + (int)(hash_u64(s % 64) % 46), depth = trunk + 1 + (int)(s % 10);
		uint32_t locs[64];
		int64_t v[2];

		for (int d = 0; d < depth; d++) {
			uint64_t pick = d < trunk ? 0 : fx_rng(&sr) % 4;

			locs[depth - 1 - d] = t_pool_loc(p, fn, pick);
			fn = hash_u64(fn * 4 + pick + 1) % 3000;
		}
		v[0] = 1 + (int64_t)(fx_rng(&r) % 10);
		v[1] = v[0] * 10000000;
		prof_add_sample(p, prof_add_stack(p, locs, (size_t)depth), 0, v);
	}
	return p;
}

/* 1000 merges of such profiles into one accumulator (100 under ASan, ~10x slower). */
TEST(merge_1000_profiles_speed)
{
#if defined(__SANITIZE_ADDRESS__)
	const int n_merges = 100;
#else
	const int n_merges = 1000;
#endif
	enum {
		N_SRC = 10
	};
	struct prof *src[N_SRC], *dst = prof_new();
	double t0, dt;
	int64_t want = 0;
	int rc = 0;

	for (int k = 0; k < N_SRC; k++)
		src[k] = t_service_profile((uint64_t)k);
	t0 = t_now();
	for (int i = 0; i < n_merges && rc == 0; i++)
		rc = prof_merge(dst, src[i % N_SRC], NULL);
	dt = t_now() - t0;
	for (int i = 0; i < n_merges; i++)
		want += prof_total(src[i % N_SRC], 0);
	printf("  merge: %d merges of %zu-%zu samples, %u-%u stack nodes: %.3f s CPU\n", n_merges,
	       prof_n_samples(src[0]), prof_n_samples(src[1]), prof_n_nodes(src[0]),
	       prof_n_nodes(src[1]), dt);
	for (int k = 0; k < N_SRC; k++)
		prof_free(src[k]);
	want -= prof_total(dst, 0);
	prof_free(dst);
	CHECK_OK(rc);
	CHECK_EQ_INT(want, 0);
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__)
	/* a guard against complexity regressions, generous for noisy shared machines */
	CHECK_MSG(dt < 10.0, "%d merges took %.3f s", n_merges, dt);
#endif
}

/* The string value of label `key` of sample i, or NULL. */
static const char *t_label(const struct prof *p, size_t i, const char *key)
{
	struct prof_sample s;
	size_t n;
	const struct prof_label *l;

	prof_sample_get(p, i, &s);
	l = prof_labelset_get(p, s.labelset, &n);
	for (size_t k = 0; l && k < n; k++)
		if (!strcmp(prof_string(p, l[k].key), key))
			return l[k].str ? prof_string(p, l[k].str) : "";
	return NULL;
}

TEST(merge_labeled_tags_every_sample)
{
	struct prof *a = fx_types("cpu", "nanoseconds", NULL, NULL);
	struct prof *b = fx_types("cpu", "nanoseconds", NULL, NULL), *dst = prof_new();
	struct prof_label l = {.key = prof_intern_cstr(b, "pid"), .str = prof_intern_cstr(b, "1")};
	struct prof_label t = {.key = prof_intern_cstr(b, "thread"),
			       .str = prof_intern_cstr(b, "w1")};
	const struct prof_kv ka[] = {{"service_name", "api"}, {"pid", "10"}};
	const struct prof_kv kb[] = {{"service_name", "db"}, {"pid", "20"}};
	int seen = 0;

	fx_add(a, "main;a", 0, 10, 0);
	fx_add(b, "main;a", prof_add_labelset(b, &l, 1), 3, 0); /* its pid is replaced */
	fx_add(b, "main;b", prof_add_labelset(b, &t, 1), 4, 0); /* its thread is kept */
	CHECK_OK(prof_merge_labeled(dst, a, ka, 2, NULL));
	CHECK_OK(prof_merge_labeled(dst, b, kb, 2, NULL));
	CHECK_EQ_INT(prof_total(dst, 0), 17);
	CHECK_EQ_INT(prof_n_samples(dst), 3); /* main;a twice: different label sets */
	for (size_t i = 0; i < prof_n_samples(dst); i++) {
		const char *svc = t_label(dst, i, "service_name"), *pid = t_label(dst, i, "pid");

		CHECK(svc && pid);
		if (!svc || !pid)
			continue;
		if (!strcmp(svc, "api")) {
			CHECK_EQ_STR(pid, "10");
			CHECK(t_label(dst, i, "thread") == NULL);
			seen |= 1;
		} else {
			CHECK_EQ_STR(svc, "db");
			CHECK_EQ_STR(pid, "20");
			if (t_label(dst, i, "thread")) {
				CHECK_EQ_STR(t_label(dst, i, "thread"), "w1");
				seen |= 2;
			}
		}
	}
	CHECK_EQ_INT(seen, 3);
	CHECK(prof_merge_labeled(dst, dst, ka, 2, NULL) < 0);
	prof_free(a);
	prof_free(b);
	prof_free(dst);
}
