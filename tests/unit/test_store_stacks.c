/*
 * test_store_stacks.c — appends whose stacks the store adds to its dictionary itself
 * (store_append.stacks, filled by the server's server_pprof_decode)
 * against the same pprof bytes decoded whole and appended as a profile: every query must give
 * the same answer, in the head, after a WAL replay and from blocks. The profiles are random:
 * mappings with build ids, functions with file names and start lines, locations of one or two
 * (inline) lines, stacks of 0..14 frames sharing prefixes, duplicate samples, span ids, a
 * liftable string label, a numeric label and two sample types. Also concurrently: appenders
 * (most prepared under the head's read lock), a querier and cuts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "format/pprof.h"
#include "profile/profile.h"
#include "server/server_int.h"
#include "store/store.h"
#include "test.h"

#define SEC 1000000000LL

static uint64_t rs;

static uint32_t rnd(uint32_t n)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return (uint32_t)(rs % n);
}

/* A random profile of world `seed` (the same symbols for every profile of a seed, so later
 * profiles hit the decoder's caches); variant picks the samples. */
static struct prof *gen(uint64_t seed, uint64_t variant)
{
	struct prof *p = prof_new();
	uint32_t maps[3], fns[40], locs[120], stacks[60][14], depth[60];
	char s[64];

	rs = seed;
	prof_add_sample_type(p, prof_intern_cstr(p, "samples"), prof_intern_cstr(p, "count"));
	prof_add_sample_type(p, prof_intern_cstr(p, "cpu"), prof_intern_cstr(p, "nanoseconds"));
	prof_meta(p)->period_type.type = prof_intern_cstr(p, "cpu");
	prof_meta(p)->period_type.unit = prof_intern_cstr(p, "nanoseconds");
	prof_meta(p)->period = 10000000;
	prof_meta(p)->duration_ns = 10 * SEC;
	for (int i = 0; i < 3; i++) {
		struct prof_mapping m = {.memory_start = 0x400000u * (i + 1),
					 .memory_limit = 0x400000u * (i + 2),
					 .has_functions = true};

		snprintf(s, sizeof(s), "/usr/lib/lib%d.so", i);
		m.filename = prof_intern_cstr(p, s);
		snprintf(s, sizeof(s), "b%08x", rnd(1u << 30));
		m.build_id = prof_intern_cstr(p, s);
		maps[i] = prof_add_mapping(p, &m);
	}
	for (int i = 0; i < 40; i++) {
		struct prof_function f = {.start_line = rnd(500)};

		snprintf(s, sizeof(s), "pkg%d.fn%d", i % 7, i);
		f.name = prof_intern_cstr(p, s);
		f.system_name = i % 3 ? f.name : prof_intern_cstr(p, "sys");
		snprintf(s, sizeof(s), "src/f%d.go", i % 5);
		f.filename = prof_intern_cstr(p, s);
		fns[i] = prof_add_function(p, &f);
	}
	for (int i = 0; i < 120; i++) {
		struct prof_line l[2] = {{.function = fns[rnd(40)], .line = rnd(900) + 1},
					 {.function = fns[rnd(40)], .line = rnd(900) + 1}};
		uint32_t m = i % 10 ? maps[i % 3] : 0;
		/* world 1: every location has an address (as Go's); else some have none, which
		 * the read-only lookup cannot find */
		uint64_t a = m || seed == 1 ? 0x400000u * (i % 3 + 1) + 16u * i : 0;

		locs[i] = prof_add_location(p, m, a, l, i % 9 ? 1 : 2, false);
	}
	for (int i = 0; i < 60; i++) {
		depth[i] = i ? rnd(14) + 1 : 0; /* stack 0 is empty */
		for (uint32_t k = 0; k < depth[i]; k++)
			stacks[i][k] = i > 4 && k < depth[i] / 2 && k < depth[i % 5]
					       ? stacks[i % 5][k]
					       : locs[rnd(120)];
	}
	rs = seed ^ (variant * 0x9e3779b97f4a7c15ULL + 1);
	for (int n = 0; n < 80; n++) {
		int si = (int)rnd(60);
		uint32_t leaf_first[14], ls = 0;
		struct prof_label lab[3];
		size_t nl = 0;
		int64_t v[2];

		for (uint32_t k = 0; k < depth[si]; k++)
			leaf_first[k] = stacks[si][depth[si] - 1 - k];
		if (rnd(3) == 0) {
			snprintf(s, sizeof(s), "%016llx", (unsigned long long)(rnd(4) + 1));
			lab[nl++] = (struct prof_label){.key = prof_intern_cstr(p, "span_id"),
							.str = prof_intern_cstr(p, s)};
		}
		if (rnd(2) == 0)
			lab[nl++] =
				(struct prof_label){.key = prof_intern_cstr(p, "region"),
						    .str = prof_intern_cstr(p, rnd(2) ? "a" : "b")};
		if (rnd(4) == 0)
			lab[nl++] = (struct prof_label){.key = prof_intern_cstr(p, "bytes"),
							.num = rnd(100),
							.num_unit = prof_intern_cstr(p, "bytes")};
		if (nl)
			ls = prof_add_labelset(p, lab, nl);
		v[0] = rnd(5);
		v[1] = v[0] * 10000000;
		prof_add_sample(p, prof_add_stack(p, leaf_first, depth[si]), ls, v);
	}
	return p;
}

/* One frame's full identity: every line's function fields, the mapping and the address. */
static size_t frame_text(const struct prof *p, uint32_t loc, char *out, size_t cap)
{
	struct prof_location l;
	size_t n = 0;

	prof_location_get(p, loc, &l);
	if (l.mapping) {
		const struct prof_mapping *m = prof_mapping_get(p, l.mapping);

		n += (size_t)snprintf(out + n, cap - n, "[%s %s %llx]", prof_string(p, m->filename),
				      prof_string(p, m->build_id), (unsigned long long)l.address);
	}
	for (uint32_t k = 0; k < l.n_lines && n < cap; k++) {
		const struct prof_function *f = prof_function_get(p, l.lines[k].function);

		n += (size_t)snprintf(out + n, cap - n, "%s/%s/%s/%lld:%lld,",
				      prof_string(p, f->name), prof_string(p, f->system_name),
				      prof_string(p, f->filename), (long long)f->start_line,
				      (long long)l.lines[k].line);
	}
	return n < cap ? n : cap - 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* p's samples as sorted "frame;frame;... value" lines, one per distinct stack. */
static void canon(const struct prof *p, struct buf *out)
{
	size_t n = prof_n_samples(p);
	char **lines = mem_alloc(MEM_TEST, (n ? n : 1) * sizeof(*lines));

	for (size_t i = 0; i < n; i++) {
		struct prof_sample x;
		char buf[8192];
		size_t len = 0;

		prof_sample_get(p, i, &x);
		for (uint32_t nd = x.node; nd && len < sizeof(buf) - 1;
		     nd = prof_node_parent(p, nd)) {
			len += frame_text(p, prof_node_location(p, nd), buf + len,
					  sizeof(buf) - len);
			if (len < sizeof(buf) - 1)
				buf[len++] = ';';
		}
		snprintf(buf + len, sizeof(buf) - len, " %lld", (long long)x.values[0]);
		lines[i] = mem_alloc(MEM_TEST, strlen(buf) + 1);
		memcpy(lines[i], buf, strlen(buf) + 1);
	}
	qsort(lines, n, sizeof(*lines), cmp_str);
	for (size_t i = 0; i < n; i++) {
		buf_append(out, lines[i], strlen(lines[i]));
		buf_append(out, "\n", 1);
		mem_free(lines[i]);
	}
	mem_free(lines);
}

/* The split path is the server's own (server_pprof.c), its two stack callbacks wrapped to count
 * the appends whose stacks were found (under the read lock) and translated. */
typedef void (*translate_fn)(void *ctx, struct prof *dict, void **cache, uint32_t *node);
typedef bool (*find_fn)(void *ctx, const struct prof *dict, const void *cache, uint32_t *node);
static _Atomic(translate_fn) real_translate;
static _Atomic(find_fn) real_find;
static atomic_int n_found, n_translated;

static void counted_translate(void *ctx, struct prof *dict, void **cache, uint32_t *node)
{
	n_translated++;
	atomic_load (&real_translate)(ctx, dict, cache, node);
}

static bool counted_find(void *ctx, const struct prof *dict, const void *cache, uint32_t *node)
{
	bool found = atomic_load(&real_find)(ctx, dict, cache, node);

	n_found += found;
	return found;
}

/* Appends the pprof bytes to s, whole (split false) or split with separate stacks. */
static int append_bytes(struct store *s, const struct buf *b, int64_t t, bool split,
			uint32_t max_depth_seen[1])
{
	struct store_label l[1] = {{STORE_LABEL_SERVICE, "svc"}};
	struct store_append a = {.labels = l, .n_labels = 1, .name = "process_cpu", .time_ns = t};
	struct server_pprof x = {0};
	struct ember_diag d = {{0}};
	int rc;

	if (!split) {
		rc = pprof_decode(b->data, b->len, NULL, &x.prof, &d);
	} else {
		rc = server_pprof_decode(s, b->data, b->len, NULL, &x, &d);
		if (!rc && !x.pp)
			rc = ember_diag_set(&d, -EINVAL, "the server did not split the profile");
		if (!rc) {
			atomic_store(&real_translate, x.st.translate);
			atomic_store(&real_find, x.st.find);
			x.st.translate = counted_translate;
			x.st.find = counted_find;
			max_depth_seen[0] = EMBER_MAX(max_depth_seen[0], x.st.max_depth);
		}
	}
	server_pprof_to_append(&x, &a);
	if (!rc)
		rc = store_append(s, &a, &d);
	if (rc)
		fprintf(stderr, "append (%s): %s\n", split ? "split" : "whole", d.msg);
	server_pprof_fini(&x);
	return rc;
}

/* The canonical text of every query the test compares. */
static void answers(struct store *s, struct buf *out)
{
	static const char *const types[] = {"process_cpu:samples:count:cpu:nanoseconds",
					    "process_cpu:cpu:nanoseconds:cpu:nanoseconds"};
	static const struct store_matcher ms[] = {{"region", "a", STORE_MATCH_EQ},
						  {"region", "", STORE_MATCH_EQ},
						  {STORE_LABEL_SERVICE, "svc", STORE_MATCH_EQ}};
	const uint64_t spans[] = {1, 3};
	struct store_result *r = NULL;
	struct store_query q = {0};
	char line[256];

	CHECK_EQ_INT(store_series_list(s, &q, &r, NULL), 0);
	for (size_t i = 0; r && i < r->n_sets; i++) {
		for (size_t k = 0; k < r->sets[i].n; k++) {
			snprintf(line, sizeof(line), "%s=%s,", r->sets[i].labels[k].name,
				 r->sets[i].labels[k].value);
			buf_append(out, line, strlen(line));
		}
		buf_append(out, "\n", 1);
	}
	store_result_free(r);
	for (size_t ti = 0; ti < 2; ti++) {
		for (size_t mi = 0; mi <= 3; mi++) {
			struct prof *p = NULL;

			q = (struct store_query){.profile_type = types[ti],
						 .matchers = mi < 3 ? &ms[mi] : NULL,
						 .n_matchers = mi < 3};
			snprintf(line, sizeof(line), "== %s %zu\n", types[ti], mi);
			buf_append(out, line, strlen(line));
			CHECK_EQ_INT(store_select_merge(s, &q, &p, NULL), 0);
			if (p)
				canon(p, out);
			prof_free(p);
			p = NULL;
			CHECK_EQ_INT(store_select_spans(s, &q, spans, 2, &p, NULL), 0);
			buf_append(out, "-- spans\n", 9);
			if (p)
				canon(p, out);
			prof_free(p);
		}
	}
}

static void check_same(struct store *whole, struct store *split, const char *when)
{
	struct buf a, b;

	buf_init(&a, MEM_TEST, SIZE_MAX);
	buf_init(&b, MEM_TEST, SIZE_MAX);
	answers(whole, &a);
	answers(split, &b);
	CHECK_MSG(a.len > 1000, "%s: the answers are too short to mean anything (%zu bytes)", when,
		  a.len);
	CHECK_MSG(a.len == b.len && !memcmp(a.data, b.data, a.len),
		  "%s: the split appends answer differently (%zu vs %zu bytes)", when, a.len,
		  b.len);
	buf_fini(&a);
	buf_fini(&b);
}

static int open_at(const char *dir, struct store **s)
{
	struct store_opts o = {.dir = dir};
	struct ember_diag d = {{0}};
	int rc = store_open(&o, s, &d);

	if (rc)
		fprintf(stderr, "store_open %s: %s\n", dir, d.msg);
	return rc;
}

TEST(store_stacks_answer_as_whole_profiles)
{
	char dw[512], ds[512];
	struct store *w = NULL, *s = NULL;
	uint32_t depth = 0;

	snprintf(dw, sizeof(dw), "%s/whole", test_tmpdir());
	snprintf(ds, sizeof(ds), "%s/split", test_tmpdir());
	CHECK_EQ_INT(open_at(dw, &w), 0);
	CHECK_EQ_INT(open_at(ds, &s), 0);
	if (!w || !s)
		return;
	CHECK(store_takes_stacks(s));
	for (uint64_t i = 0; i < 24; i++) {
		struct prof *p = gen(1 + i % 2, i); /* two worlds, alternating */
		struct buf b;

		buf_init(&b, MEM_TEST, SIZE_MAX);
		CHECK_EQ_INT(pprof_encode(p, i % 2 == 0, &b), 0);
		CHECK_EQ_INT(append_bytes(w, &b, (int64_t)(1000 + i) * SEC, false, &depth), 0);
		CHECK_EQ_INT(append_bytes(s, &b, (int64_t)(1000 + i) * SEC, true, &depth), 0);
		buf_fini(&b);
		prof_free(p);
	}
	CHECK(depth == 14);
	/* both ways to the dictionary were taken: the first profiles of a world add stacks, and
	 * the later ones (prepared under the read lock) only find theirs */
	CHECK_MSG(n_found > 4 && n_translated > 2, "found %d, translated %d", n_found,
		  n_translated);
	check_same(w, s, "head");
	store_close(s); /* the WAL replays into a new head */
	CHECK_EQ_INT(open_at(ds, &s), 0);
	if (!s) {
		store_close(w);
		return;
	}
	check_same(w, s, "replayed");
	CHECK_EQ_INT(store_cut(w, NULL), 0);
	CHECK_EQ_INT(store_cut(s, NULL), 0);
	check_same(w, s, "blocks");
	store_close(w);
	store_close(s);
}

/* The limits read the split samples too: a stack deeper than max_stack_depth is refused and
 * nothing is stored. */
TEST(store_stacks_limits)
{
	char dir[512];
	struct store_opts o = {.limits = {.max_stack_depth = 3}};
	struct store *s = NULL;
	struct prof *p = gen(7, 0);
	struct buf b;
	uint32_t depth = 0;

	snprintf(dir, sizeof(dir), "%s/lim", test_tmpdir());
	o.dir = dir;
	CHECK_EQ_INT(store_open(&o, &s, NULL), 0);
	buf_init(&b, MEM_TEST, SIZE_MAX);
	CHECK_EQ_INT(pprof_encode(p, false, &b), 0);
	if (s) {
		struct store_stats st;

		CHECK_EQ_INT(append_bytes(s, &b, 5 * SEC, true, &depth), -EMBER_ELIMIT);
		store_get_stats(s, &st);
		CHECK_EQ_INT(st.head_profiles, 0);
		store_close(s);
	}
	buf_fini(&b);
	prof_free(p);
}

/* Concurrent split appends (most prepared under the read lock, some adding stacks under the
 * write lock), queries and cuts: every acknowledged append is counted once, in the head and
 * in the blocks, and the answers equal those of the same appends made one at a time. */
struct conc {
	struct store *s;
	struct buf in[8];
	int64_t want_cpu[8]; /* each input's cpu total */
	atomic_int next, acked, fails, stop;
	_Atomic int64_t acked_cpu;
};

static void *conc_appender(void *arg)
{
	struct conc *c = arg;
	uint32_t depth = 0;

	for (int i; (i = atomic_fetch_add(&c->next, 1)) < 160;) {
		if (append_bytes(c->s, &c->in[i % 8], (int64_t)(2000 + i) * SEC, true, &depth)) {
			atomic_fetch_add(&c->fails, 1);
			continue;
		}
		atomic_fetch_add(&c->acked, 1);
		atomic_fetch_add(&c->acked_cpu, c->want_cpu[i % 8]);
	}
	return NULL;
}

static void *conc_reader(void *arg)
{
	struct conc *c = arg;
	struct store_query q = {.profile_type = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"};

	while (!atomic_load(&c->stop)) {
		struct prof *p = NULL;

		if (store_select_merge(c->s, &q, &p, NULL))
			atomic_fetch_add(&c->fails, 1);
		prof_free(p);
	}
	return NULL;
}

TEST(store_stacks_concurrent_appends_queries_cuts)
{
	char dir[512];
	struct conc c = {0};
	pthread_t app[4], rd;
	struct store_query q = {.profile_type = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"};
	struct prof *p = NULL;

	snprintf(dir, sizeof(dir), "%s/conc", test_tmpdir());
	CHECK_EQ_INT(open_at(dir, &c.s), 0);
	if (!c.s)
		return;
	for (int i = 0; i < 8; i++) {
		struct prof *g = gen(1, (uint64_t)i + 100);

		c.want_cpu[i] = prof_total(g, 1);
		buf_init(&c.in[i], MEM_TEST, SIZE_MAX);
		CHECK_EQ_INT(pprof_encode(g, true, &c.in[i]), 0);
		prof_free(g);
	}
	n_found = n_translated = 0;
	for (int i = 0; i < 4; i++)
		pthread_create(&app[i], NULL, conc_appender, &c);
	pthread_create(&rd, NULL, conc_reader, &c);
	for (int i = 0; i < 5; i++) {
		usleep(20000);
		CHECK_EQ_INT(store_cut(c.s, NULL), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(app[i], NULL);
	atomic_store(&c.stop, 1);
	pthread_join(rd, NULL);
	CHECK_EQ_INT(atomic_load(&c.fails), 0);
	CHECK_EQ_INT(atomic_load(&c.acked), 160);
	CHECK(n_found > 0 && n_translated > 0);
	CHECK_EQ_INT(store_select_merge(c.s, &q, &p, NULL), 0);
	CHECK(p && prof_total(p, 0) == atomic_load(&c.acked_cpu));
	prof_free(p);
	p = NULL;
	store_close(c.s); /* replay, then blocks */
	CHECK_EQ_INT(open_at(dir, &c.s), 0);
	if (c.s) {
		CHECK_EQ_INT(store_cut(c.s, NULL), 0);
		CHECK_EQ_INT(store_select_merge(c.s, &q, &p, NULL), 0);
		CHECK(p && prof_total(p, 0) == atomic_load(&c.acked_cpu));
		prof_free(p);
		store_close(c.s);
	}
	for (int i = 0; i < 8; i++)
		buf_fini(&c.in[i]);
}
