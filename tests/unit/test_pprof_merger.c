/*
 * test_pprof_merger.c — the merge session (pprof_merger_new / _add / _free): the same profile,
 * sample by sample, as pprof_decode_merge of the same inputs, with locations of one, two and
 * three lines (three bypass the location cache), the same input merged twice (every location a
 * cache hit), locations with addresses (found by address: same addresses with other content,
 * other ids), the target growing by other means between adds, errors leaving it unchanged, and
 * the cache itself (pprof_dec_int.h): exact hits under forced equal hashes, growth; and the
 * split for a dictionary store (pprof_parsed_split + pprof_merger_stacks) against the same.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "format/pprof.h"
#include "format/pprof_dec_int.h"
#include "prof_fixture.h"
#include "profile/profile.h"
#include "test.h"

static void enc(const struct prof *p, bool gz, struct buf *out)
{
	buf_init(out, MEM_TEST, SIZE_MAX);
	if (pprof_encode(p, gz, out) != 0)
		buf_reset(out);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line per sample: its stack (addresses, mappings, every line's function name, line and
 * column), labels and values; sorted and joined, so two profiles compare whatever their ids. */
static char *canon(const struct prof *p)
{
	size_t n = prof_n_samples(p), nt = prof_n_sample_types(p), total = 1;
	char **lines = mem_calloc(MEM_TEST, n ? n : 1, sizeof(*lines));
	char *out;

	for (size_t i = 0; i < n; i++) {
		struct buf b;
		struct prof_sample s;
		const struct prof_label *lb;
		size_t nl;

		buf_init(&b, MEM_TEST, SIZE_MAX);
		prof_sample_get(p, i, &s);
		for (uint32_t nd = s.node; nd; nd = prof_node_parent(p, nd)) {
			struct prof_location l;

			prof_location_get(p, prof_node_location(p, nd), &l);
			buf_printf(&b, "%" PRIx64 "/%u", l.address,
				   l.mapping
					   ? (unsigned)prof_mapping_get(p, l.mapping)->memory_start
					   : 0u);
			for (uint32_t k = 0; k < l.n_lines; k++) {
				const struct prof_function *f =
					prof_function_get(p, l.lines[k].function);

				buf_printf(&b, "+%s:%" PRId64 ":%" PRId64,
					   f ? prof_string(p, f->name) : "-", l.lines[k].line,
					   l.lines[k].column);
			}
			buf_printf(&b, ";");
		}
		lb = prof_labelset_get(p, s.labelset, &nl);
		for (size_t k = 0; k < nl; k++)
			buf_printf(&b, " %s=%s", prof_string(p, lb[k].key),
				   prof_string(p, lb[k].str));
		for (size_t k = 0; k < nt; k++)
			buf_printf(&b, " %" PRId64, s.values[k]);
		lines[i] = mem_strdup(MEM_TEST, (const char *)b.data);
		total += strlen(lines[i]) + 1;
		buf_fini(&b);
	}
	qsort(lines, n, sizeof(*lines), cmp_str);
	out = mem_alloc(MEM_TEST, total);
	total = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(lines[i]);

		memcpy(out + total, lines[i], len);
		out[total + len] = '\n';
		total += len + 1;
		mem_free(lines[i]);
	}
	out[total] = 0;
	mem_free(lines);
	return out;
}

static bool same_profile(const struct prof *a, const struct prof *b)
{
	char *ca = canon(a), *cb = canon(b);
	bool same = strcmp(ca, cb) == 0 && prof_n_locations(a) == prof_n_locations(b) &&
		    prof_n_functions(a) == prof_n_functions(b) &&
		    prof_n_mappings(a) == prof_n_mappings(b);

	mem_free(ca);
	mem_free(cb);
	return same;
}

/* A profile with inlined frames: locations of one, two and three lines. */
static struct prof *with_inlines(int64_t base)
{
	struct prof *p = fx_types("samples", "count", "cpu", "nanoseconds");

	fx_add(p, "main;a;b", 0, base + 1, 10);
	fx_add(p, "main;a+x;b+y+z", 0, base + 2, 20);
	fx_add(p, "main;c+x+y;b", 0, base + 3, 30);
	fx_add(p, "main;c;d+x", 0, base + 4, 40);
	return p;
}

enum {
	N_IN = 6
};

static void make_inputs(struct buf *in)
{
	for (int i = 0; i < N_IN; i++) {
		struct prof *p =
			i % 3 == 2 ? with_inlines(i) : fx_random(300 + (uint64_t)i, 80, 30, 14);

		enc(p, i & 1, &in[i]);
		prof_free(p);
	}
}

/* Merge inputs order[0..n) through a session into a new profile; NULL on error. */
static struct prof *session_merge(struct buf *in, const int *order, int n)
{
	struct prof *dst = prof_new();
	struct pprof_merger *m = pprof_merger_new(dst);
	struct ember_diag d = {{0}};
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		struct pprof_parsed *pp = NULL;

		rc = pprof_parse(in[order[i]].data, in[order[i]].len, NULL, &pp, &d);
		if (rc == 0)
			rc = pprof_merger_add(m, pp, &d);
		pprof_parsed_free(pp);
	}
	pprof_merger_free(m);
	if (rc) {
		prof_free(dst);
		return NULL;
	}
	return dst;
}

static struct prof *plain_merge(struct buf *in, const int *order, int n)
{
	struct prof *dst = prof_new();
	struct ember_diag d = {{0}};

	for (int i = 0; i < n; i++)
		if (pprof_decode_merge(dst, in[order[i]].data, in[order[i]].len, NULL, &d) != 0) {
			prof_free(dst);
			return NULL;
		}
	return dst;
}

/* Inputs order[0..n) merged through a session give what pprof_decode_merge gives, with more
 * than min_locations locations. */
static void check_session_merge(struct buf *in, const int *order, int n, uint32_t min_locations)
{
	struct prof *a = plain_merge(in, order, n), *b = session_merge(in, order, n);

	CHECK(a != NULL);
	CHECK(b != NULL);
	if (a && b) {
		CHECK(prof_n_samples(a) > 0);
		CHECK(prof_n_locations(a) >= min_locations);
		CHECK(same_profile(a, b));
	}
	prof_free(a);
	prof_free(b);
}

TEST(pprof_merger_matches_decode_merge)
{
	static const int order[] = {0, 1, 2, 3, 4, 5, 2, 0, 5}; /* repeats: all cache hits */
	const int n = (int)EMBER_ARRAY_SIZE(order);
	struct buf in[N_IN];

	make_inputs(in);
	check_session_merge(in, order, n, 1);
	for (int i = 0; i < N_IN; i++)
		buf_fini(&in[i]);
}

TEST(pprof_merger_target_grows_between_adds)
{
	struct buf in[N_IN];
	struct prof *dst = prof_new(), *ref = prof_new();
	struct pprof_merger *m = pprof_merger_new(dst);
	struct ember_diag d = {{0}};
	int rc = 0;

	make_inputs(in);
	/* session adds 0, 2, 4; plain decode_merge into the same dst adds 1, 3, 5 in between */
	for (int i = 0; i < N_IN && rc == 0; i++) {
		rc = pprof_decode_merge(ref, in[i].data, in[i].len, NULL, &d);
		if (rc == 0 && i % 2 == 0) {
			struct pprof_parsed *pp = NULL;

			rc = pprof_parse(in[i].data, in[i].len, NULL, &pp, &d);
			if (rc == 0)
				rc = pprof_merger_add(m, pp, &d);
			pprof_parsed_free(pp);
		} else if (rc == 0) {
			rc = pprof_decode_merge(dst, in[i].data, in[i].len, NULL, &d);
		}
	}
	CHECK_MSG(rc == 0, "%s", d.msg);
	/* and everything once more through the session: the cache must still be right */
	for (int i = 0; i < N_IN && rc == 0; i++) {
		struct pprof_parsed *pp = NULL;

		rc = pprof_decode_merge(ref, in[i].data, in[i].len, NULL, &d);
		if (rc == 0)
			rc = pprof_parse(in[i].data, in[i].len, NULL, &pp, &d);
		if (rc == 0)
			rc = pprof_merger_add(m, pp, &d);
		pprof_parsed_free(pp);
	}
	CHECK_MSG(rc == 0, "%s", d.msg);
	CHECK(same_profile(ref, dst));
	pprof_merger_free(m);
	prof_free(dst);
	prof_free(ref);
	for (int i = 0; i < N_IN; i++)
		buf_fini(&in[i]);
}

TEST(pprof_merger_type_mismatch_leaves_dst)
{
	struct prof *dst = prof_new(), *src = with_inlines(0);
	struct prof *other = fx_types("alloc_space", "bytes", NULL, NULL);
	struct pprof_merger *m = pprof_merger_new(dst);
	struct pprof_parsed *pp = NULL;
	struct ember_diag d = {{0}};
	struct buf a, b;
	size_t n_samples;
	int64_t v = 5;

	prof_add_sample(other, fx_stack(other, "main;a"), 0, &v);
	enc(src, true, &a);
	enc(other, false, &b);
	CHECK_OK(pprof_parse(a.data, a.len, NULL, &pp, &d));
	CHECK_OK(pprof_merger_add(m, pp, &d));
	pprof_parsed_free(pp);
	n_samples = prof_n_samples(dst);
	pp = NULL;
	CHECK_OK(pprof_parse(b.data, b.len, NULL, &pp, &d));
	CHECK(pprof_merger_add(m, pp, &d) == -EMBER_EFORMAT);
	CHECK(prof_n_samples(dst) == n_samples);
	CHECK(pprof_merger_add(m, pp, &d) == -EMBER_EFORMAT); /* not merged: may be retried */
	pprof_parsed_free(pp);
	pprof_merger_free(m);
	pprof_merger_free(NULL);
	buf_fini(&a);
	buf_fini(&b);
	prof_free(src);
	prof_free(other);
	prof_free(dst);
}

/* A location of with_addresses: up to three lines (functions innermost first), no mapping when
 * !mapped. */
struct aloc {
	uint64_t address;
	bool mapped;
	const char *fn[3], *file;
	int64_t line;
};

/* A profile whose locations have addresses, which a session looks up by address before it
 * knows their functions' target ids. Variant v: 0 the base; 1 the same addresses holding other
 * content (a function of another file, of another name, another line, another mapping, an
 * inlined pair swapped) and labels on every other sample; 2 the base with its ids in the
 * reverse order; 3 the base plus a three-line location and one without an address, its sample
 * types in the other order; 4 the base with m in a.go, which its earlier locations' functions
 * are in too (so an input compares one filename string with two cached filenames), and a
 * location no sample uses, of a mapping no other location has. */
static struct prof *with_addresses(int v)
{
	static const struct aloc base[] = {
		{0x1000, true, {"f"}, "a.go", 10},	{0x2000, true, {"g", "h"}, "a.go", 20},
		{0x3000, false, {"k"}, "b.go", 30},	{0x4000, true, {"m"}, "b.go", 40},
		{0x5000, true, {"main"}, "main.go", 1},
	};
	static const struct aloc other[] = {
		{0x1000, true, {"f"}, "other.go", 10},	 {0x2000, true, {"h", "g"}, "a.go", 20},
		{0x3000, false, {"k"}, "b.go", 31},	 {0x4000, false, {"m"}, "b.go", 40},
		{0x5000, true, {"main2"}, "main.go", 1},
	};
	static const struct aloc extra[] = {
		{0x6000, true, {"p", "q", "r"}, "c.go", 60},
		{0, true, {"s"}, "c.go", 70},
	};
	static const struct aloc moved[] = {
		{0x1000, true, {"f"}, "a.go", 10},	{0x2000, true, {"g", "h"}, "a.go", 20},
		{0x3000, false, {"k"}, "b.go", 30},	{0x4000, true, {"m"}, "a.go", 40},
		{0x5000, true, {"main"}, "main.go", 1},
	};
	const struct aloc *a = v == 1 ? other : v == 4 ? moved : base;
	size_t n = EMBER_ARRAY_SIZE(base), n_all = n + (v == 3 ? EMBER_ARRAY_SIZE(extra) : 0);
	struct prof *p = v == 3 ? fx_types("cpu", "nanoseconds", "samples", "count")
				: fx_types("samples", "count", "cpu", "nanoseconds");
	struct prof_mapping mp = {.memory_start = 0x400000,
				  .memory_limit = 0x800000,
				  .filename = prof_intern(p, "app", 3),
				  .has_functions = true};
	uint32_t map = prof_add_mapping(p, &mp), loc[8];

	for (size_t x = 0; x < n_all; x++) {
		size_t i = v == 2 ? n - 1 - x : x;
		const struct aloc *l = i < n ? &a[i] : &extra[i - n];
		struct prof_line lines[3];
		uint32_t nl = 0;

		for (; nl < 3 && l->fn[nl]; nl++) {
			struct prof_function f = {
				.name = prof_intern(p, l->fn[nl], strlen(l->fn[nl])),
				.filename = prof_intern(p, l->file, strlen(l->file)),
				.start_line = 1,
			};

			lines[nl] = (struct prof_line){prof_add_function(p, &f), l->line + nl, 0};
		}
		loc[i] = prof_add_location(p, l->mapped ? map : 0, l->address, lines, nl, false);
	}
	if (v == 4) {
		struct prof_mapping lib = {.memory_start = 0x7f0000,
					   .memory_limit = 0x7f8000,
					   .filename = prof_intern(p, "lib.so", 6)};
		struct prof_function f = {.name = prof_intern(p, "unused", 6)};
		struct prof_line ln = {prof_add_function(p, &f), 1, 0};

		prof_add_location(p, prof_add_mapping(p, &lib), 0x7f1000, &ln, 1, false);
	}
	for (size_t i = 0; i + 1 < n_all; i++) {
		uint32_t st[3] = {loc[i], loc[i + 1], loc[(i + 2) % n_all]};
		int64_t vals[2] = {(int64_t)i + 1, 10 * ((int64_t)i + 1) + v};
		struct prof_label lb = {.key = prof_intern(p, "thread", 6),
					.str = prof_intern(p, "t1", 2 - i % 2)};

		if (v == 3) {
			int64_t t = vals[0];

			vals[0] = vals[1];
			vals[1] = t;
		}
		prof_add_sample(p, prof_add_stack(p, st, 3),
				v == 1 && i % 2 ? prof_add_labelset(p, &lb, 1) : 0, vals);
	}
	return p;
}

/* Locations found by address: a hit needs the same content, whatever the input's ids. */
TEST(pprof_merger_by_address)
{
	static const int order[] = {0, 1, 2, 3, 0, 2, 1, 3, 3};
	const int n = (int)EMBER_ARRAY_SIZE(order);
	struct buf in[4];

	for (int i = 0; i < 4; i++) {
		struct prof *p = with_addresses(i);

		enc(p, i & 1, &in[i]);
		prof_free(p);
	}
	check_session_merge(in, order, n, 11);
	/* and from the variant with other content first */
	check_session_merge(in, order + 1, n - 1, 11);
	for (int i = 0; i < 4; i++)
		buf_fini(&in[i]);
}

/* An input's filename string found equal to one cached filename is still compared with
 * another. */
TEST(pprof_merger_filename_compared_per_cached_file)
{
	static const int order[] = {0, 1, 1, 0};
	struct buf in[2];

	for (int i = 0; i < 2; i++) {
		struct prof *p = with_addresses(i ? 4 : 0);

		enc(p, false, &in[i]);
		prof_free(p);
	}
	check_session_merge(in, order, (int)EMBER_ARRAY_SIZE(order), 6);
	for (int i = 0; i < 2; i++)
		buf_fini(&in[i]);
}

/* The cache itself: hits are exact (keys with equal hashes but different content miss), and
 * every key survives the index growing. */
TEST(pprof_merger_cache_exact_and_grows)
{
	struct pprof_merger *m = pprof_merger_new(NULL);
	struct pmc_key a = {.address = 0x1000, .mapping = 1, .n_lines = 2}, b;
	struct pmc_key *keys = mem_calloc(MEM_TEST, 5000, sizeof(*keys));
	uint64_t *hash = mem_calloc(MEM_TEST, 5000, sizeof(*hash));
	uint32_t *ids = mem_calloc(MEM_TEST, 5000, sizeof(*ids));
	uint32_t id = 0;
	size_t bad = 0;

	a.function[0] = 3;
	a.function[1] = 4;
	a.line[0] = 10;
	a.line[1] = 20;
	pmc_lookup(m, &a, &hash[0], 1, &id); /* empty cache */
	CHECK(id == 0);
	pmc_insert(m, &a, 42, 7);
	/* the same forced hash for every variant: only the comparison can tell them apart */
	for (int field = 0; field < 8; field++) {
		uint64_t h = 42;

		b = a;
		switch (field) {
		case 0:
			b.address++;
			break;
		case 1:
			b.mapping++;
			break;
		case 2:
			b.n_lines = 1;
			break;
		case 3:
			b.is_folded = 1;
			break;
		case 4:
			b.function[1]++;
			break;
		case 5:
			b.line[1]++;
			break;
		case 6:
			b.column[0]++;
			break;
		default:
			break; /* equal: a hit */
		}
		id = 99;
		pmc_lookup(m, &b, &h, 1, &id);
		CHECK_MSG(id == (field == 7 ? 7u : 0u), "field %d: id %u", field, id);
	}
	pprof_merger_free(m);

	m = pprof_merger_new(NULL);
	for (uint32_t i = 0; i < 5000; i++) {
		keys[i] = (struct pmc_key){.address = 0x400000 + 16 * (uint64_t)i, .n_lines = 1};
		/* some keys an entry cannot hold inline (a column, a line past 32 bits), some
		 * negative lines, and some of the second line */
		if (i % 11 == 0)
			keys[i].column[0] = i + 1;
		if (i % 17 == 0)
			keys[i].line[0] = ((int64_t)i + 1) << 33;
		if (i % 5 == 0) {
			keys[i].n_lines = 2;
			keys[i].function[1] = i % 7 + 1;
			keys[i].line[1] = -(int64_t)i;
		}
		keys[i].function[0] = i % 97 + 1;
		keys[i].line[0] += i % 13;
		hash[i] = pmc_hash(&keys[i]);
		if (i % 2 == 0)
			pmc_insert(m, &keys[i], hash[i], i + 1);
	}
	pmc_lookup(m, keys, hash, 5000, ids);
	for (uint32_t i = 0; i < 5000; i++)
		bad += ids[i] != (i % 2 == 0 ? i + 1 : 0);
	CHECK_MSG(bad == 0, "%zu wrong lookups", bad);
	/* each cached key with its wide part changed (or made narrow) misses */
	for (uint32_t i = 0; i < 5000; i += 2) {
		if (i % 11 == 0)
			keys[i].column[0] = 0;
		else if (i % 17 == 0)
			keys[i].line[0] ^= (int64_t)1 << 40;
		else
			keys[i].column[keys[i].n_lines - 1] = 1;
		hash[i] = pmc_hash(&keys[i]);
	}
	pmc_lookup(m, keys, hash, 5000, ids);
	bad = 0;
	for (uint32_t i = 0; i < 5000; i++)
		bad += ids[i] != 0;
	CHECK_MSG(bad == 0, "%zu changed keys found", bad);
	pprof_merger_free(m);

	/* a mapping past what an entry holds is not cached, and does not pass for a smaller one
	 * whose n_lines or fold bits it would overlap */
	m = pprof_merger_new(NULL);
	b = (struct pmc_key){.address = 0x1000, .mapping = 5, .n_lines = 1};
	a = (struct pmc_key){.address = 0x1000, .mapping = 5 | (PMC_E_MAPPING_MAX + 1)};
	pmc_insert(m, &a, 42, 1);
	pmc_insert(m, &b, 42, 2);
	id = 99;
	pmc_lookup(m, &a, &hash[0], 1, &id);
	CHECK_MSG(id == 0, "id %u", id);
	hash[0] = 42;
	pmc_lookup(m, &a, &hash[0], 1, &id);
	CHECK_MSG(id == 0, "id %u", id);
	pmc_lookup(m, &b, &hash[0], 1, &id);
	CHECK_MSG(id == 2, "id %u", id);
	pprof_merger_free(m);
	mem_free(keys);
	mem_free(hash);
	mem_free(ids);
}

static struct pmc_fkey fkey(const char *name, const char *sys, const char *file, int64_t start)
{
	struct pmc_fkey k = {.start_line = start};
	const char *s[3] = {name, sys, file};

	for (int i = 0; i < 3; i++) {
		k.s[i] = (const uint8_t *)s[i];
		k.len[i] = (uint32_t)strlen(s[i]);
	}
	return k;
}

/* The function cache: exact on the strings' bytes, lengths (so "ab"+"c" is not "a"+"bc") and
 * start line even when the hashes are forced equal; survives growth with real hashes. */
TEST(pprof_merger_function_cache_exact)
{
	struct pprof_merger *m = pprof_merger_new(NULL);
	const struct pmc_fkey a = fkey("main.run", "main.run", "main.go", 10);
	const struct pmc_fkey miss[] = {
		fkey("main.ruN", "main.run", "main.go", 10),
		fkey("main.run", "main.rux", "main.go", 10),
		fkey("main.run", "main.run", "main.gp", 10),
		fkey("main.run", "main.run", "main.go", 11),
		fkey("main.ru", "nmain.run", "main.go", 10),
		fkey("main.run", "", "main.go", 10),
	};
	char names[3000][16];
	struct pmc_fkey *keys = mem_calloc(MEM_TEST, 3000, sizeof(*keys));
	uint64_t *hash = mem_calloc(MEM_TEST, 3000, sizeof(*hash));
	uint32_t *ids = mem_calloc(MEM_TEST, 3000, sizeof(*ids));
	uint64_t h = 42;
	uint32_t id = 99;
	size_t bad = 0;

	pmc_flookup(m, &a, &h, 1, &id);
	CHECK(id == 0);
	pmc_finsert(m, &a, 42, 7);
	pmc_flookup(m, &a, &h, 1, &id);
	CHECK(id == 7);
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(miss); i++) {
		id = 99;
		pmc_flookup(m, &miss[i], &h, 1, &id);
		CHECK_MSG(id == 0, "variant %zu: id %u", i, id);
	}
	pprof_merger_free(m);

	m = pprof_merger_new(NULL);
	for (int i = 0; i < 3000; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		keys[i] = fkey(names[i], names[i], i % 2 ? "a.go" : "b.go", i % 7);
		hash[i] = pmc_fhash(pmc_str_hash(keys[i].s[0], keys[i].len[0]),
				    pmc_str_hash(keys[i].s[1], keys[i].len[1]),
				    pmc_str_hash(keys[i].s[2], keys[i].len[2]), keys[i].start_line);
		if (i % 3)
			pmc_finsert(m, &keys[i], hash[i], (uint32_t)i + 1);
	}
	pmc_flookup(m, keys, hash, 3000, ids);
	for (int i = 0; i < 3000; i++)
		bad += ids[i] != (i % 3 ? (uint32_t)i + 1 : 0);
	CHECK_MSG(bad == 0, "%zu wrong lookups", bad);
	pprof_merger_free(m);
	mem_free(keys);
	mem_free(hash);
	mem_free(ids);
}

/* pprof_parsed_split + pprof_merger_stacks, with the samples then added to the target by hand
 * (label sets re-interned from the shell), give what pprof_decode_merge gives; each shell has
 * the input's sample types and metadata; a split profile is used once. */
TEST(pprof_split_stacks_match_decode_merge)
{
	static const int order[] = {0, 1, 2, 3, 4, 5, 2, 0, 5};
	const int n = (int)EMBER_ARRAY_SIZE(order);
	struct buf in[N_IN];
	struct prof *dst = prof_new(), *ref;
	struct pprof_merger *m = pprof_merger_new(dst);
	struct ember_diag d = {{0}};
	int rc = 0, labelled = 0;

	make_inputs(in);
	ref = plain_merge(in, order, n);
	for (int i = 0; i < n && rc == 0; i++) {
		struct pprof_parsed *pp = NULL;
		struct pprof_samples smp;
		struct prof *shell = NULL, *whole = NULL, *again = NULL;
		uint32_t *node;

		rc = pprof_decode(in[order[i]].data, in[order[i]].len, NULL, &whole, &d);
		if (rc == 0)
			rc = pprof_parse(in[order[i]].data, in[order[i]].len, NULL, &pp, &d);
		if (rc == 0)
			rc = pprof_parsed_split(pp, &shell, &smp, &d);
		if (rc)
			break;
		CHECK_EQ_INT(pprof_parsed_split(pp, &again, &smp, &d), -EINVAL);
		CHECK(again == NULL);
		CHECK_EQ_INT(pprof_merger_add(m, pp, &d), -EINVAL);
		CHECK_EQ_INT(prof_n_sample_types(shell), prof_n_sample_types(whole));
		CHECK(prof_meta_get(shell)->period == prof_meta_get(whole)->period);
		CHECK(prof_meta_get(shell)->duration_ns == prof_meta_get(whole)->duration_ns);
		CHECK(prof_meta_get(shell)->time_ns == prof_meta_get(whole)->time_ns);
		CHECK_EQ_INT(prof_n_samples(shell), 0);
		CHECK(smp.n >= prof_n_samples(whole));
		labelled += smp.labelsets != NULL;
		if (!prof_n_sample_types(dst))
			for (size_t k = 0; k < prof_n_sample_types(shell); k++) {
				const struct prof_value_type *t = &prof_sample_types(shell)[k];

				prof_add_sample_type(dst, prof_intern_from(dst, shell, t->type),
						     prof_intern_from(dst, shell, t->unit));
			}
		node = mem_alloc(MEM_TEST, (smp.n + 1) * sizeof(*node));
		pprof_merger_stacks(m, pp, node);
		for (size_t s = 0; s < smp.n; s++) {
			uint32_t ls = 0;

			if (smp.labelsets && smp.labelsets[s]) {
				size_t nl;
				const struct prof_label *l =
					prof_labelset_get(shell, smp.labelsets[s], &nl);
				struct prof_label *x = mem_alloc(MEM_TEST, nl * sizeof(*x));

				for (size_t k = 0; k < nl; k++) {
					x[k] = l[k];
					x[k].key = prof_intern_from(dst, shell, l[k].key);
					x[k].str = prof_intern_from(dst, shell, l[k].str);
					x[k].num_unit = prof_intern_from(dst, shell, l[k].num_unit);
				}
				ls = prof_add_labelset(dst, x, nl);
				mem_free(x);
			}
			prof_add_sample(dst, node[s], ls,
					smp.values + s * prof_n_sample_types(shell));
		}
		mem_free(node);
		prof_free(shell);
		prof_free(whole);
		pprof_parsed_free(pp);
	}
	CHECK_MSG(rc == 0, "%s", d.msg);
	CHECK(labelled > 0);
	CHECK(ref != NULL && same_profile(ref, dst));
	pprof_merger_free(m);
	prof_free(dst);
	prof_free(ref);
	for (int i = 0; i < N_IN; i++)
		buf_fini(&in[i]);
}
