/*
 * test_pprof.c — unit tests for the pprof codec: a field-by-field round trip of a profile that
 * uses every field of profile.proto (raw and gzipped), packed and unpacked repeated scalars,
 * unknown fields and sparse ids, every class of decode error with its byte offset, truncation
 * and corruption sweeps, decode_merge (totals, type reordering, metadata, dst unchanged on
 * error), allocation failure, and a decode-speed figure that is printed, never asserted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/wire.h"
#include "format/gzip.h"
#include "format/pprof.h"
#include "profile/profile.h"
#include "test.h"

static char why_buf[1024];

/* ---- building profiles ---- */

static uint32_t S(struct prof *p, const char *s)
{
	return prof_intern_cstr(p, s);
}

/* A profile that sets every field profile.proto has, with awkward values. */
static struct prof *full_profile(void)
{
	struct prof *p = prof_new();
	struct prof_meta *m = prof_meta(p);
	struct prof_mapping m1 = {
		0x400000, 0x4ff000, 0x1000, S(p, "/usr/bin/app"), S(p, "b1d0c0ffee"), true,
		true,	  true,	    false};
	struct prof_mapping m2 = {0x7f0000000000ULL,
				  0x7f0000100000ULL,
				  0,
				  S(p, "[vdso]"),
				  0,
				  false,
				  true,
				  false,
				  true};
	struct prof_function f1 = {S(p, "main.main"), S(p, "_main"), S(p, "main.go"), 10};
	struct prof_function f2 = {S(p, "inlined.helper"), 0, S(p, "helper.go"), -1};
	struct prof_function f3 = {S(p, "runtime.mallocgc"), S(p, "runtime.mallocgc"),
				   S(p, "malloc.go"), 900};
	struct prof_function f4 = {0, S(p, "_ZN3fooEv"), 0, 0};
	uint32_t id1, id2, id3, id4, mp1, mp2, l1, l2, l3, l4, l5;
	struct prof_line lines2[2];
	struct prof_line line1 = {0, 12, 3};
	struct prof_line line4 = {0, 1 << 20, 0};
	struct prof_label lab1[3], lab2[1];
	uint32_t stack_a[3], stack_b[4];
	int64_t va[3] = {3, 30000000, -5}, vb[3] = {1, INT64_MAX / 16, 0}, vc[3] = {0, 0, 7};

	prof_add_sample_type(p, S(p, "samples"), S(p, "count"));
	prof_add_sample_type(p, S(p, "cpu"), S(p, "nanoseconds"));
	prof_add_sample_type(p, S(p, "weird"), 0);
	mp1 = prof_add_mapping(p, &m1);
	mp2 = prof_add_mapping(p, &m2);
	id1 = prof_add_function(p, &f1);
	id2 = prof_add_function(p, &f2);
	id3 = prof_add_function(p, &f3);
	id4 = prof_add_function(p, &f4);
	line1.function = id1;
	l1 = prof_add_location(p, mp1, 0x401234, &line1, 1, false);
	lines2[0].function = id2;
	lines2[0].line = 77;
	lines2[0].column = 0;
	lines2[1].function = id1;
	lines2[1].line = 15;
	lines2[1].column = 9;
	l2 = prof_add_location(p, mp1, 0x401300, lines2, 2, true);
	l3 = prof_add_location(p, 0, 0xdeadbeefcafeULL, NULL, 0, false);
	line4.function = id3;
	l4 = prof_add_location(p, mp2, 0, &line4, 1, false);
	l5 = prof_add_location(p, mp2, 0x7f0000000040ULL, NULL, 0, true);
	(void)id4;
	stack_a[0] = l4;
	stack_a[1] = l2;
	stack_a[2] = l1;
	stack_b[0] = l3;
	stack_b[1] = l5;
	stack_b[2] = l2;
	stack_b[3] = l1;
	lab1[0] = (struct prof_label){S(p, "thread"), S(p, "worker-1"), 0, 0};
	lab1[1] = (struct prof_label){S(p, "bytes"), 0, 4096, S(p, "bytes")};
	lab1[2] = (struct prof_label){S(p, "neg"), 0, -12, 0};
	lab2[0] = (struct prof_label){S(p, "thread"), S(p, "worker-2"), 0, 0};
	prof_add_sample(p, prof_add_stack(p, stack_a, 3), prof_add_labelset(p, lab1, 3), va);
	prof_add_sample(p, prof_add_stack(p, stack_b, 4), 0, vb);
	prof_add_sample(p, prof_add_stack(p, stack_b, 4), prof_add_labelset(p, lab2, 1), vc);
	prof_add_sample(p, prof_add_stack(p, stack_a, 2), 0, vb);
	prof_add_sample(p, 0, prof_add_labelset(p, lab2, 1), va);
	m->period_type.type = S(p, "cpu");
	m->period_type.unit = S(p, "nanoseconds");
	m->period = 10000000;
	m->time_ns = 1700000000123456789LL;
	m->duration_ns = 30000000000LL;
	m->drop_frames = S(p, "runtime\\..*");
	m->keep_frames = S(p, "main\\..*");
	m->default_sample_type = S(p, "cpu");
	m->doc_url = S(p, "https://example.com/doc");
	prof_add_comment(p, S(p, "first comment"));
	prof_add_comment(p, S(p, "second comment"));
	/* a string with bytes that are not text */
	S(p, "\xff\x01 binary");
	return p;
}

/* ---- comparing profiles field by field (ids must be equal too) ---- */

static bool labels_eq(const struct prof *a, uint32_t la, const struct prof *b, uint32_t lb)
{
	size_t na, nb;
	const struct prof_label *x = prof_labelset_get(a, la, &na);
	const struct prof_label *y = prof_labelset_get(b, lb, &nb);

	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (x[i].key != y[i].key || x[i].str != y[i].str || x[i].num != y[i].num ||
		    x[i].num_unit != y[i].num_unit)
			return false;
	return true;
}

static bool stacks_eq(const struct prof *a, uint32_t na, const struct prof *b, uint32_t nb)
{
	while (na && nb) {
		if (prof_node_location(a, na) != prof_node_location(b, nb))
			return false;
		na = prof_node_parent(a, na);
		nb = prof_node_parent(b, nb);
	}
	return na == 0 && nb == 0;
}

#define DIFF(...) (snprintf(why_buf, sizeof(why_buf), __VA_ARGS__), why_buf)

static const char *prof_diff(const struct prof *a, const struct prof *b)
{
	const struct prof_meta *ma = prof_meta_get(a), *mb = prof_meta_get(b);
	size_t nt = prof_n_sample_types(a), nca, ncb;
	const uint32_t *ca = prof_comments(a, &nca), *cb = prof_comments(b, &ncb);

	if (prof_n_strings(a) != prof_n_strings(b))
		return DIFF("strings: %u vs %u", prof_n_strings(a), prof_n_strings(b));
	for (uint32_t i = 0; i < prof_n_strings(a); i++)
		if (prof_string_len(a, i) != prof_string_len(b, i) ||
		    memcmp(prof_string(a, i), prof_string(b, i), prof_string_len(a, i)) != 0)
			return DIFF("string %u: \"%s\" vs \"%s\"", i, prof_string(a, i),
				    prof_string(b, i));
	if (nt != prof_n_sample_types(b))
		return DIFF("sample types: %zu vs %zu", nt, prof_n_sample_types(b));
	for (size_t i = 0; i < nt; i++)
		if (prof_sample_types(a)[i].type != prof_sample_types(b)[i].type ||
		    prof_sample_types(a)[i].unit != prof_sample_types(b)[i].unit)
			return DIFF("sample type %zu", i);
	if (memcmp(ma, mb, sizeof(*ma)) != 0)
		return DIFF("meta: period %" PRId64 "/%" PRId64 " time %" PRId64 "/%" PRId64,
			    ma->period, mb->period, ma->time_ns, mb->time_ns);
	if (nca != ncb || (nca && memcmp(ca, cb, nca * sizeof(*ca)) != 0))
		return DIFF("comments: %zu vs %zu", nca, ncb);
	if (prof_n_mappings(a) != prof_n_mappings(b))
		return DIFF("mappings: %u vs %u", prof_n_mappings(a), prof_n_mappings(b));
	for (uint32_t id = 1; id <= prof_n_mappings(a); id++) {
		const struct prof_mapping *x = prof_mapping_get(a, id),
					  *y = prof_mapping_get(b, id);

		if (x->memory_start != y->memory_start || x->memory_limit != y->memory_limit ||
		    x->file_offset != y->file_offset || x->filename != y->filename ||
		    x->build_id != y->build_id || x->has_functions != y->has_functions ||
		    x->has_filenames != y->has_filenames ||
		    x->has_line_numbers != y->has_line_numbers ||
		    x->has_inline_frames != y->has_inline_frames)
			return DIFF("mapping %u", id);
	}
	if (prof_n_functions(a) != prof_n_functions(b))
		return DIFF("functions: %u vs %u", prof_n_functions(a), prof_n_functions(b));
	for (uint32_t id = 1; id <= prof_n_functions(a); id++) {
		const struct prof_function *x = prof_function_get(a, id),
					   *y = prof_function_get(b, id);

		if (x->name != y->name || x->system_name != y->system_name ||
		    x->filename != y->filename || x->start_line != y->start_line)
			return DIFF("function %u", id);
	}
	if (prof_n_locations(a) != prof_n_locations(b))
		return DIFF("locations: %u vs %u", prof_n_locations(a), prof_n_locations(b));
	for (uint32_t id = 1; id <= prof_n_locations(a); id++) {
		struct prof_location x, y;

		prof_location_get(a, id, &x);
		prof_location_get(b, id, &y);
		if (x.mapping != y.mapping || x.address != y.address ||
		    x.is_folded != y.is_folded || x.n_lines != y.n_lines)
			return DIFF("location %u", id);
		for (uint32_t k = 0; k < x.n_lines; k++)
			if (x.lines[k].function != y.lines[k].function ||
			    x.lines[k].line != y.lines[k].line ||
			    x.lines[k].column != y.lines[k].column)
				return DIFF("location %u line %u", id, k);
	}
	if (prof_n_samples(a) != prof_n_samples(b))
		return DIFF("samples: %zu vs %zu", prof_n_samples(a), prof_n_samples(b));
	for (size_t i = 0; i < prof_n_samples(a); i++) {
		struct prof_sample x, y;

		prof_sample_get(a, i, &x);
		prof_sample_get(b, i, &y);
		if (!stacks_eq(a, x.node, b, y.node))
			return DIFF("sample %zu: stacks differ", i);
		if (!labels_eq(a, x.labelset, b, y.labelset))
			return DIFF("sample %zu: labels differ", i);
		if (nt && memcmp(x.values, y.values, nt * sizeof(int64_t)) != 0)
			return DIFF("sample %zu: values differ", i);
	}
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Samples as sorted text lines "frame;frame;... [labels] v1 v2", names resolved, so that
 * profiles with different ids can be compared. The caller frees the result. */
static char *canonical(const struct prof *p)
{
	size_t ns = prof_n_samples(p), nt = prof_n_sample_types(p);
	char **lines = mem_calloc(MEM_TEST, ns + 1, sizeof(char *));
	struct buf out, line;

	buf_init(&out, MEM_TEST, SIZE_MAX);
	for (size_t i = 0; i < nt; i++)
		buf_printf(&out, "%s/%s ", prof_string(p, prof_sample_types(p)[i].type),
			   prof_string(p, prof_sample_types(p)[i].unit));
	buf_putc(&out, '\n');
	for (size_t i = 0; i < ns; i++) {
		struct prof_sample s;
		const struct prof_label *lb;
		size_t nl;

		prof_sample_get(p, i, &s);
		buf_init(&line, MEM_TEST, SIZE_MAX);
		buf_putc(&line, '|');
		for (uint32_t n = s.node; n; n = prof_node_parent(p, n)) {
			uint32_t loc = prof_node_location(p, n);

			for (uint32_t k = 0; k < prof_location_n_frames(p, loc); k++) {
				char tmp[80];

				buf_printf(&line, "%s;", prof_frame_name(p, loc, k, tmp));
			}
		}
		lb = prof_labelset_get(p, s.labelset, &nl);
		for (size_t k = 0; k < nl; k++)
			buf_printf(&line, " [%s=%s%" PRId64 "%s]", prof_string(p, lb[k].key),
				   prof_string(p, lb[k].str), lb[k].num,
				   prof_string(p, lb[k].num_unit));
		for (size_t k = 0; k < nt; k++)
			buf_printf(&line, " %" PRId64, s.values[k]);
		lines[i] = (char *)buf_steal(&line, &nl);
	}
	qsort(lines, ns, sizeof(char *), cmp_str);
	for (size_t i = 0; i < ns; i++) {
		buf_printf(&out, "%s\n", lines[i]);
		mem_free(lines[i]);
	}
	mem_free(lines);
	buf_putc(&out, 0);
	return (char *)buf_steal(&out, &ns);
}

static int encode(const struct prof *p, bool gz, struct buf *b)
{
	buf_init(b, MEM_TEST, SIZE_MAX);
	return pprof_encode(p, gz, b);
}

/* ---- round trips ---- */

TEST(pprof_roundtrip_every_field)
{
	struct prof *p = full_profile(), *q = NULL, *r = NULL;
	struct ember_diag d = {{0}}, d2 = {{0}};
	const char *why = NULL, *why2 = NULL;
	struct buf raw, gz, again;
	int rc, rc2, rc3;
	bool same;

	rc = encode(p, false, &raw);
	CHECK_OK(rc);
	rc = encode(p, true, &gz);
	CHECK_OK(rc);
	rc = pprof_decode(raw.data, raw.len, NULL, &q, &d);
	if (!rc)
		why = prof_diff(p, q);
	rc2 = pprof_decode(gz.data, gz.len, NULL, &r, &d2);
	if (!rc2 && !why)
		why2 = prof_diff(p, r);
	/* writing what we read gives the same bytes */
	rc3 = rc ? rc : encode(q, false, &again);
	same = !rc3 && again.len == raw.len && memcmp(again.data, raw.data, raw.len) == 0;
	if (!rc)
		buf_fini(&again);
	CHECK(gzip_is(gz.data, gz.len) && !gzip_is(raw.data, raw.len));
	buf_fini(&raw);
	buf_fini(&gz);
	prof_free(p);
	prof_free(q);
	prof_free(r);
	CHECK_MSG(rc == 0, "raw decode: %d %s", rc, d.msg);
	CHECK_MSG(rc2 == 0, "gzip decode: %d %s", rc2, d2.msg);
	CHECK_MSG(!why, "raw round trip differs: %s", why);
	CHECK_MSG(!why2, "gzip round trip differs: %s", why2);
	CHECK_MSG(same, "re-encoding is not byte-identical");
}

TEST(pprof_roundtrip_empty)
{
	struct prof *p = prof_new(), *q = NULL, *r = NULL;
	struct ember_diag d = {{0}};
	struct buf raw;
	const char *why = NULL;
	int rc, rc2;

	CHECK_OK(encode(p, false, &raw));
	rc = pprof_decode(raw.data, raw.len, NULL, &q, &d);
	if (!rc)
		why = prof_diff(p, q);
	/* zero bytes are a valid (empty) message */
	rc2 = pprof_decode(NULL, 0, NULL, &r, &d);
	bool empty = !rc2 && prof_n_samples(r) == 0 && prof_n_sample_types(r) == 0;
	buf_fini(&raw);
	prof_free(p);
	prof_free(q);
	prof_free(r);
	CHECK_MSG(rc == 0 && !why, "rc %d %s", rc, why ? why : d.msg);
	CHECK(empty);
}

/* Hand-written protobuf helpers for inputs our encoder would never produce. */
static void put_str(struct buf *b, const char *s)
{
	wire_put_bytes(b, 6, s, strlen(s));
}

TEST(pprof_unpacked_sparse_ids_unknown_fields)
{
	struct ember_diag d = {{0}};
	struct prof *p = NULL;
	struct buf b;
	size_t m, k;
	int rc;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	wire_put_uint(&b, 1000, 5);	  /* unknown varint field */
	wire_put_fixed64(&b, 1001, 77);	  /* unknown fixed64 */
	wire_put_tag(&b, 1002, WIRE_I32); /* unknown fixed32 */
	buf_append(&b, "\1\2\3\4", 4);
	wire_put_bytes(&b, 1003, "zzz", 3); /* unknown bytes */
	put_str(&b, "");
	put_str(&b, "samples"); /* 1 */
	put_str(&b, "count");	/* 2 */
	put_str(&b, "fn");	/* 3 */
	put_str(&b, "bin");	/* 4 */
	m = wire_begin(&b);
	wire_put_uint(&b, 1, 1);
	wire_put_uint(&b, 2, 2);
	wire_put_uint(&b, 9, 9); /* unknown in ValueType */
	wire_end(&b, 1, m);
	m = wire_begin(&b); /* mapping id 12345 */
	wire_put_uint(&b, 1, 12345);
	wire_put_uint(&b, 5, 4);
	wire_put_uint(&b, 7, 1);
	wire_put_bytes(&b, 99, "?", 1);
	wire_end(&b, 3, m);
	m = wire_begin(&b); /* function id 2^40 */
	wire_put_uint(&b, 1, 1ULL << 40);
	wire_put_uint(&b, 2, 3);
	wire_put_uint(&b, 50, 1);
	wire_end(&b, 5, m);
	m = wire_begin(&b); /* location id UINT64_MAX */
	wire_put_uint(&b, 1, UINT64_MAX);
	wire_put_uint(&b, 2, 12345);
	k = wire_begin(&b);
	wire_put_uint(&b, 1, 1ULL << 40);
	wire_put_uint(&b, 2, 42);
	wire_put_uint(&b, 7, 7);
	wire_end(&b, 4, k);
	wire_end(&b, 4, m);
	m = wire_begin(&b); /* location id 3 */
	wire_put_uint(&b, 1, 3);
	wire_put_uint(&b, 3, 0x1234);
	wire_end(&b, 4, m);
	/* sample 1: unpacked location ids and value, an unknown field */
	m = wire_begin(&b);
	wire_put_uint(&b, 1, UINT64_MAX);
	wire_put_uint(&b, 4, 1);
	wire_put_uint(&b, 1, 3);
	wire_put_uint(&b, 2, 4);
	wire_end(&b, 2, m);
	/* sample 2: the same stack, packed */
	m = wire_begin(&b);
	k = wire_begin(&b);
	wire_put_varint(&b, UINT64_MAX);
	wire_put_varint(&b, 3);
	wire_end(&b, 1, k);
	k = wire_begin(&b);
	wire_put_varint(&b, 6);
	wire_end(&b, 2, k);
	wire_end(&b, 2, m);
	/* comments: unpacked, then packed */
	wire_put_uint(&b, 13, 3);
	k = wire_begin(&b);
	wire_put_varint(&b, 1);
	wire_put_varint(&b, 4);
	wire_end(&b, 13, k);
	rc = pprof_decode(b.data, b.len, NULL, &p, &d);
	buf_fini(&b);
	CHECK_MSG(rc == 0, "rc %d: %s", rc, d.msg);

	size_t nc;
	const uint32_t *c = prof_comments(p, &nc);
	struct prof_sample s;
	struct prof_location leaf, root;
	bool ok = prof_n_samples(p) == 1 && nc == 3 && prof_n_functions(p) == 1 &&
		  prof_n_mappings(p) == 1 && prof_n_locations(p) == 2;

	if (ok) {
		prof_sample_get(p, 0, &s);
		prof_location_get(p, prof_node_location(p, s.node), &leaf);
		prof_location_get(p, prof_node_location(p, prof_node_parent(p, s.node)), &root);
		ok = s.values[0] == 10 && prof_node_depth(p, s.node) == 2 && leaf.n_lines == 1 &&
		     leaf.lines[0].line == 42 && leaf.mapping == 1 && root.address == 0x1234 &&
		     prof_mapping_get(p, 1)->has_functions &&
		     strcmp(prof_string(p, prof_mapping_get(p, 1)->filename), "bin") == 0 &&
		     strcmp(prof_string(p, prof_function_get(p, 1)->name), "fn") == 0 &&
		     strcmp(prof_string(p, c[0]), "fn") == 0 &&
		     strcmp(prof_string(p, c[1]), "samples") == 0 &&
		     strcmp(prof_string(p, c[2]), "bin") == 0;
	}
	prof_free(p);
	CHECK(ok);
}

/* ---- errors ---- */

/* Decodes `in`; expects err, a message containing want (and "byte N" when at != SIZE_MAX),
 * and *out untouched. */
static const char *expect_error(const void *in, size_t n, const struct pprof_limits *lim, int err,
				const char *want, size_t at)
{
	struct prof *sentinel = (struct prof *)&why_buf, *out = sentinel;
	struct ember_diag d = {{0}};
	char where[64];
	int rc = pprof_decode(in, n, lim, &out, &d);

	snprintf(where, sizeof(where), "byte %zu", at);
	if (rc == 0)
		prof_free(out);
	if (rc != err)
		return DIFF("rc %d, want %d (%s)", rc, err, d.msg);
	if (out != sentinel)
		return DIFF("*out changed on error");
	if (!strstr(d.msg, want))
		return DIFF("message \"%s\" lacks \"%s\"", d.msg, want);
	if (at != SIZE_MAX && !strstr(d.msg, where))
		return DIFF("message \"%s\" lacks \"%s\"", d.msg, where);
	if (strncmp(d.msg, "pprof: ", 7) != 0 && strncmp(d.msg, "gzip: ", 6) != 0)
		return DIFF("message \"%s\" lacks its prefix", d.msg);
	return NULL;
}

#define EXPECT(bytes, err, want, at)                                                        \
	do {                                                                                \
		static const uint8_t in_[] = bytes;                                         \
		const char *w_ = expect_error(in_, sizeof(in_), NULL, (err), (want), (at)); \
		CHECK_MSG(!w_, "%s: %s", #bytes, w_);                                       \
	} while (0)
#define B(...)              \
	{                   \
		__VA_ARGS__ \
	}

/* EXPECT, and the same error with more input after it: the decoder's fast readers read varints
 * without a bounds check per byte when a field ends well before the input does, and must leave
 * every such error to the general readers, which report it at the same byte. */
#define EXPECT_ROOM(bytes, err, want, at)                                                   \
	do {                                                                                \
		static const uint8_t in_[] = bytes;                                         \
		uint8_t room_[sizeof(in_) + 35] = {0};                                      \
		const char *w_ = expect_error(in_, sizeof(in_), NULL, (err), (want), (at)); \
                                                                                            \
		CHECK_MSG(!w_, "%s: %s", #bytes, w_);                                       \
		memcpy(room_, in_, sizeof(in_));                                            \
		memcpy(room_ + sizeof(in_), "\xa2\x06\x20", 3); /* field 100, 32 bytes */   \
		w_ = expect_error(room_, sizeof(room_), NULL, (err), (want), (at));         \
		CHECK_MSG(!w_, "%s + room: %s", #bytes, w_);                                \
	} while (0)

TEST(pprof_error_wire_level)
{
	/* field 9 (time_nanos), varint cut short */
	EXPECT(B(0x32, 0, 0x48, 0x80), -EMBER_EFORMAT, "truncated varint", 3);
	EXPECT(B(0x48, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
	       -EMBER_EFORMAT, "overlong varint", 1);
	EXPECT(B(0x32, 0, 0x4a, 0), -EMBER_EFORMAT, "wrong wire type 2 for field 9", 2);
	EXPECT(B(0x32, 0, 0x11, 0, 0), -EMBER_EFORMAT, "wrong wire type 1 for field 2", 2);
	EXPECT(B(0x32, 0, 0x0b), -EMBER_EFORMAT, "unsupported wire type 3", 2);
	EXPECT(B(0x32, 0, 0x07), -EMBER_EFORMAT, "invalid field number 0", 2);
	EXPECT(B(0x32, 0, 0x12, 0x10, 0), -EMBER_EFORMAT, "runs past the end", 3);
	EXPECT(B(0x32, 0, 0xf9, 0x07, 1, 2), -EMBER_EFORMAT, "truncated fixed64", 2);
	/* inside a Sample: packed values cut short */
	EXPECT_ROOM(B(0x0a, 0, 0x12, 0x03, 0x12, 0x01, 0x80), -EMBER_EFORMAT, "truncated varint",
		    6);
	/* inside a Line: a bad wire type */
	EXPECT_ROOM(B(0x22, 0x04, 0x22, 0x02, 0x0a, 0), -EMBER_EFORMAT,
		    "wrong wire type 2 for field 1 of Line", 4);
}

TEST(pprof_error_references)
{
	/* function name = string 9 of a 1-entry table */
	EXPECT_ROOM(B(0x32, 0, 0x2a, 4, 0x08, 1, 0x10, 9), -EMBER_EFORMAT,
		    "function 0: name is string 9 but the string table has 1 entries", 7);
	/* drop_frames = -1 */
	EXPECT(B(0x32, 0, 0x38, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
	       -EMBER_EFORMAT, "drop_frames is string -1", 3);
	/* a label key past the table */
	EXPECT(B(0x32, 0, 0x12, 4, 0x1a, 2, 0x08, 7), -EMBER_EFORMAT, "label key is string 7", 7);
	EXPECT(B(0x32, 1, 'A'), -EMBER_EFORMAT, "string_table[0] must be empty", 2);
	/* sample -> location 99 */
	EXPECT_ROOM(B(0x32, 0, 0x12, 3, 0x0a, 1, 99), -EMBER_EFORMAT,
		    "sample 0 references location id 99 which does not exist (byte 6)", 6);
	/* location -> mapping 3, line -> function 5 */
	EXPECT_ROOM(B(0x32, 0, 0x22, 4, 0x08, 1, 0x10, 3), -EMBER_EFORMAT,
		    "location 0 references mapping id 3 which does not exist", 6);
	EXPECT_ROOM(B(0x32, 0, 0x22, 6, 0x08, 1, 0x22, 2, 0x08, 5), -EMBER_EFORMAT,
		    "location 0 references function id 5 which does not exist", 8);
}

TEST(pprof_error_ids_and_counts)
{
	EXPECT_ROOM(B(0x32, 0, 0x2a, 2, 0x10, 0), -EMBER_EFORMAT, "function 0 has id 0", 4);
	EXPECT(B(0x32, 0, 0x1a, 0), -EMBER_EFORMAT, "mapping 0 has id 0", 4);
	EXPECT_ROOM(B(0x32, 0, 0x22, 0), -EMBER_EFORMAT, "location 0 has id 0", 4);
	EXPECT_ROOM(B(0x32, 0, 0x2a, 2, 0x08, 1, 0x2a, 2, 0x08, 1), -EMBER_EFORMAT,
		    "function 1 has id 1, already used by function 0", 8);
	EXPECT_ROOM(B(0x22, 2, 0x08, 7, 0x22, 2, 0x08, 7), -EMBER_EFORMAT,
		    "location 1 has id 7, already used by location 0", 6);
	/* two values for one sample type, one for two */
	EXPECT_ROOM(B(0x0a, 0, 0x32, 0, 0x12, 4, 0x12, 2, 1, 2), -EMBER_EFORMAT,
		    "sample 0 has more values than the 1 sample types", 9);
	EXPECT_ROOM(B(0x0a, 0, 0x0a, 0, 0x32, 0, 0x12, 3, 0x12, 1, 5), -EMBER_EFORMAT,
		    "sample 0 has 1 values but there are 2 sample types", 8);
	EXPECT_ROOM(B(0x0a, 0, 0x12, 0), -EMBER_EFORMAT, "sample 0 has 0 values but there are 1",
		    4);
}

TEST(pprof_errors_with_room_after)
{
	/* a sample's location ids cut short */
	EXPECT_ROOM(B(0x0a, 0, 0x12, 0x03, 0x0a, 0x01, 0x80, 0x22, 2, 0x08, 1), -EMBER_EFORMAT,
		    "truncated varint", 6);
	/* a location's address and a line's function id cut short */
	EXPECT_ROOM(B(0x32, 0, 0x22, 3, 0x08, 1, 0x18, 0x22, 0), -EMBER_EFORMAT, "truncated varint",
		    SIZE_MAX);
	EXPECT_ROOM(B(0x32, 0, 0x22, 6, 0x08, 1, 0x22, 2, 0x08, 0x85, 0x2a, 2, 0x08, 5),
		    -EMBER_EFORMAT, "truncated varint", 9);
	/* a function's id cut short; a table entry longer than the input */
	EXPECT_ROOM(B(0x32, 0, 0x2a, 2, 0x08, 0x81, 0x2a, 2, 0x08, 2), -EMBER_EFORMAT,
		    "truncated varint", 5);
	EXPECT_ROOM(B(0x32, 0, 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f), -EMBER_EFORMAT,
		    "runs past the end", 3);
	/* a line longer than its location */
	EXPECT_ROOM(B(0x32, 0, 0x22, 4, 0x08, 1, 0x22, 9, 0x2a, 2, 0x08, 5), -EMBER_EFORMAT,
		    "runs past the end", 7);
}

TEST(pprof_error_limits)
{
	static const uint8_t two[] = {0x32, 0, 0x12, 0, 0x12, 0};
	struct pprof_limits lim = {{0, 0}, 0, 1}, small = {{0, 0}, 5, 0};
	const char *why;
	uint8_t *many = mem_alloc(MEM_TEST, 2 * 1025);

	why = expect_error(two, sizeof(two), &lim, -EMBER_ELIMIT,
			   "2 samples is more than the limit of 1", 6);
	CHECK_MSG(!why, "max_samples: %s", why);
	why = expect_error(two, sizeof(two), &small, -EMBER_ELIMIT,
			   "profile is 6 bytes, more than the limit of 5", SIZE_MAX);
	CHECK_MSG(!why, "max_bytes: %s", why);
	for (size_t i = 0; i < 1025; i++) {
		many[2 * i] = 0x0a;
		many[2 * i + 1] = 0;
	}
	why = expect_error(many, 2 * 1025, NULL, -EMBER_ELIMIT,
			   "1025 sample types is more than the limit", 2);
	mem_free(many);
	CHECK_MSG(!why, "sample types: %s", why);
}

TEST(pprof_error_gzip_bomb_and_corrupt_gzip)
{
	struct prof *p = prof_new();
	struct pprof_limits lim = {{0, 50}, 0, 0}, cap = {{0, 0}, 100000, 0};
	char *big = mem_alloc(MEM_TEST, 4u << 20);
	const char *why1, *why2, *why3;
	struct buf gz;

	memset(big, 'a', 4u << 20);
	prof_intern(p, big, 4u << 20);
	mem_free(big);
	CHECK_OK(encode(p, true, &gz));
	prof_free(p);
	why1 = expect_error(gz.data, gz.len, &lim, -EMBER_ELIMIT, "gzip bomb", SIZE_MAX);
	/* max_bytes bounds the inflated size too */
	why2 = expect_error(gz.data, gz.len, &cap, -EMBER_ELIMIT, "limit of 100000 bytes",
			    SIZE_MAX);
	why3 = expect_error(gz.data, gz.len / 2, NULL, -EMBER_EFORMAT, "gzip: truncated",
			    gz.len / 2);
	buf_fini(&gz);
	CHECK_MSG(!why1, "ratio: %s", why1);
	CHECK_MSG(!why2, "max_bytes: %s", why2);
	CHECK_MSG(!why3, "truncated: %s", why3);
}

/* Every prefix and every single-byte corruption of a valid profile decodes or fails cleanly;
 * what decodes re-encodes and decodes again to the same totals. */
TEST(pprof_truncation_and_corruption_sweep)
{
	struct prof *p = full_profile();
	struct buf raw;
	size_t n_ok = 0, n_err = 0, bad = SIZE_MAX;

	CHECK_OK(encode(p, false, &raw));
	prof_free(p);
	for (size_t i = 0; i <= 2 * raw.len && bad == SIZE_MAX; i++) {
		struct ember_diag d = {{0}};
		struct prof *q = NULL, *r = NULL;
		size_t n = i < raw.len ? i : raw.len;
		int rc;

		if (i >= raw.len)
			raw.data[i - raw.len] ^= 0xa5;
		rc = pprof_decode(raw.data, n, NULL, &q, &d);
		if (rc == 0) {
			struct buf again;

			n_ok++;
			if (encode(q, false, &again) != 0 ||
			    pprof_decode(again.data, again.len, NULL, &r, &d) != 0)
				bad = i;
			for (size_t k = 0; r && k < prof_n_sample_types(q); k++)
				if (prof_total(q, k) != prof_total(r, k))
					bad = i;
			buf_fini(&again);
			prof_free(q);
			prof_free(r);
		} else {
			n_err++;
			if ((rc != -EMBER_EFORMAT && rc != -EMBER_ELIMIT) || !strstr(d.msg, "byte"))
				bad = i;
		}
		if (i >= raw.len && i < 2 * raw.len)
			raw.data[i - raw.len] ^= 0xa5;
	}
	buf_fini(&raw);
	CHECK_MSG(bad == SIZE_MAX, "case %zu misbehaved", bad);
	CHECK(n_ok > 0 && n_err > 0);
}

/* ---- decode_merge ---- */

static struct prof *two_type_profile(bool swapped, int64_t count, int64_t cpu)
{
	struct prof *p = prof_new();
	struct prof_function f = {S(p, "work"), 0, 0, 0};
	struct prof_line ln = {prof_add_function(p, &f), 1, 0};
	uint32_t loc = prof_add_location(p, 0, 0, &ln, 1, false);
	int64_t v[2];

	if (swapped) {
		prof_add_sample_type(p, S(p, "cpu"), S(p, "nanoseconds"));
		prof_add_sample_type(p, S(p, "samples"), S(p, "count"));
		v[0] = cpu;
		v[1] = count;
	} else {
		prof_add_sample_type(p, S(p, "samples"), S(p, "count"));
		prof_add_sample_type(p, S(p, "cpu"), S(p, "nanoseconds"));
		v[0] = count;
		v[1] = cpu;
	}
	prof_add_sample(p, prof_add_stack(p, &loc, 1), 0, v);
	return p;
}

TEST(pprof_decode_merge_totals_and_meta)
{
	struct prof *a = full_profile(), *b = full_profile(), *c = full_profile();
	struct prof *dst = prof_new();
	struct ember_diag d = {{0}};
	struct buf ea, eb, ec;
	int64_t want[3];
	size_t nc;
	int rc[3];

	prof_meta(b)->time_ns = 1600000000000000000LL;
	prof_meta(b)->duration_ns = 5;
	prof_meta(b)->period = 20000000;
	prof_add_comment(b, S(b, "third comment"));
	prof_meta(c)->time_ns = 0;
	prof_meta(c)->period = 1;
	for (size_t k = 0; k < 3; k++)
		want[k] = prof_total(a, k) + prof_total(b, k) + prof_total(c, k);
	encode(a, false, &ea);
	encode(b, true, &eb);
	encode(c, false, &ec);
	rc[0] = pprof_decode_merge(dst, ea.data, ea.len, NULL, &d);
	rc[1] = pprof_decode_merge(dst, eb.data, eb.len, NULL, &d);
	rc[2] = pprof_decode_merge(dst, ec.data, ec.len, NULL, &d);
	buf_fini(&ea);
	buf_fini(&eb);
	buf_fini(&ec);

	const struct prof_meta *m = prof_meta_get(dst);
	bool ok = rc[0] == 0 && rc[1] == 0 && rc[2] == 0 && prof_n_sample_types(dst) == 3 &&
		  prof_n_samples(dst) == prof_n_samples(a) && m->time_ns == 1600000000000000000LL &&
		  m->duration_ns == 2 * prof_meta_get(a)->duration_ns + 5 &&
		  m->period == 20000000 && prof_comments(dst, &nc) && nc == 3 &&
		  strcmp(prof_string(dst, m->period_type.type), "cpu") == 0 &&
		  strcmp(prof_string(dst, m->doc_url), "https://example.com/doc") == 0 &&
		  strcmp(prof_string(dst, m->default_sample_type), "cpu") == 0;
	for (size_t k = 0; ok && k < 3; k++)
		ok = prof_total(dst, k) == want[k];
	prof_free(a);
	prof_free(b);
	prof_free(c);
	prof_free(dst);
	CHECK_MSG(ok, "rc %d %d %d: %s", rc[0], rc[1], rc[2], d.msg);
}

TEST(pprof_decode_merge_matches_decode)
{
	struct prof *p = full_profile(), *q = NULL, *dst = prof_new();
	struct ember_diag d = {{0}};
	char *x = NULL, *y = NULL;
	struct buf e;
	int rc1, rc2;

	encode(p, false, &e);
	rc1 = pprof_decode(e.data, e.len, NULL, &q, &d);
	rc2 = pprof_decode_merge(dst, e.data, e.len, NULL, &d);
	buf_fini(&e);
	if (!rc1 && !rc2) {
		x = canonical(q);
		y = canonical(dst);
	}
	bool same = x && y && strcmp(x, y) == 0;
	if (!same && x && y)
		printf("decode:\n%s\nmerge:\n%s\n", x, y);
	mem_free(x);
	mem_free(y);
	prof_free(p);
	prof_free(q);
	prof_free(dst);
	CHECK_MSG(rc1 == 0 && rc2 == 0, "%d %d %s", rc1, rc2, d.msg);
	CHECK(same);
}

TEST(pprof_decode_merge_reorders_types)
{
	struct prof *a = two_type_profile(false, 1, 100), *b = two_type_profile(true, 2, 200);
	struct prof *dst = prof_new();
	struct ember_diag d = {{0}};
	struct buf ea, eb;
	int rc1, rc2;

	encode(a, false, &ea);
	encode(b, false, &eb);
	rc1 = pprof_decode_merge(dst, ea.data, ea.len, NULL, &d);
	rc2 = pprof_decode_merge(dst, eb.data, eb.len, NULL, &d);
	bool ok = rc1 == 0 && rc2 == 0 && prof_n_samples(dst) == 1 &&
		  prof_find_sample_type(dst, "samples", "count") == 0 && prof_total(dst, 0) == 3 &&
		  prof_total(dst, 1) == 300;
	buf_fini(&ea);
	buf_fini(&eb);
	prof_free(a);
	prof_free(b);
	prof_free(dst);
	CHECK_MSG(ok, "%d %d %s", rc1, rc2, d.msg);
}

/* dst is byte-for-byte the same after a failed merge. */
static const char *merge_must_fail(struct prof *dst, const struct buf *in, const char *want)
{
	struct ember_diag d = {{0}};
	struct buf before, after;
	uint32_t n_str = prof_n_strings(dst);
	const char *why = NULL;
	int rc;

	encode(dst, false, &before);
	rc = pprof_decode_merge(dst, in->data, in->len, NULL, &d);
	encode(dst, false, &after);
	if (rc != -EMBER_EFORMAT)
		why = DIFF("rc %d (%s)", rc, d.msg);
	else if (!strstr(d.msg, want))
		why = DIFF("message \"%s\" lacks \"%s\"", d.msg, want);
	else if (n_str != prof_n_strings(dst) || before.len != after.len ||
		 memcmp(before.data, after.data, before.len) != 0)
		why = DIFF("dst changed");
	buf_fini(&before);
	buf_fini(&after);
	return why;
}

TEST(pprof_decode_merge_rejects_and_leaves_dst)
{
	struct prof *dst = NULL, *other = prof_new(), *full = full_profile();
	struct ember_diag d = {{0}};
	struct buf e1, e2, e3;
	const char *w1, *w2, *w3;
	static const uint8_t bad_sample[] = {0x12, 3, 0x0a, 1, 99};

	/* dst: the full profile's sample types, but none of its symbols */
	{
		struct prof *t = prof_new();
		int64_t v[3] = {1, 2, 3};

		prof_add_sample_type(t, S(t, "samples"), S(t, "count"));
		prof_add_sample_type(t, S(t, "cpu"), S(t, "nanoseconds"));
		prof_add_sample_type(t, S(t, "weird"), 0);
		prof_add_sample(t, 0, 0, v);
		encode(t, false, &e1);
		prof_free(t);
		CHECK_OK(pprof_decode(e1.data, e1.len, NULL, &dst, &d));
		buf_fini(&e1);
	}
	prof_add_sample_type(other, S(other, "alloc_space"), S(other, "bytes"));
	prof_add_sample_type(other, S(other, "cpu"), S(other, "nanoseconds"));
	prof_add_sample_type(other, S(other, "weird"), 0);
	encode(other, false, &e2);
	w1 = merge_must_fail(dst, &e2, "alloc_space/bytes is not among");
	/* a different number of types */
	{
		struct prof *t = two_type_profile(false, 1, 1);

		encode(t, false, &e3);
		prof_free(t);
	}
	w2 = merge_must_fail(dst, &e3, "sample types differ");
	buf_fini(&e3);
	/* valid up to a last sample with a dangling location */
	encode(full, false, &e3);
	buf_append(&e3, bad_sample, sizeof(bad_sample));
	w3 = merge_must_fail(dst, &e3, "references location id 99");
	buf_fini(&e2);
	buf_fini(&e3);
	prof_free(dst);
	prof_free(other);
	prof_free(full);
	CHECK_MSG(!w1, "type mismatch: %s", w1);
	CHECK_MSG(!w2, "type count: %s", w2);
	CHECK_MSG(!w3, "bad sample: %s", w3);
}

/* ---- allocation failure ---- */

TEST(pprof_alloc_failure)
{
	struct prof *p = full_profile(), *dst = NULL;
	struct ember_diag d = {{0}};
	struct buf gz, before;
	size_t n_fail = 0, bad = 0;

	encode(p, true, &gz);
	prof_free(p);
	CHECK_OK(pprof_decode(gz.data, gz.len, NULL, &dst, &d));
	encode(dst, false, &before);
	for (uint64_t k = 1; k < 80 && !bad; k++) {
		struct prof *sentinel = (struct prof *)&why_buf, *q = sentinel;
		struct buf after;
		int rc;

		mem_fail_after(k);
		rc = pprof_decode(gz.data, gz.len, NULL, &q, &d);
		mem_fail_after(0);
		if (rc == 0)
			prof_free(q);
		else if (rc != -ENOMEM || q != sentinel)
			bad = k;
		n_fail += rc != 0;

		mem_fail_after(k);
		rc = pprof_decode_merge(dst, gz.data, gz.len, NULL, &d);
		mem_fail_after(0);
		if (rc == 0) {
			/* merged once more: undo by starting over from a fresh copy */
			prof_free(dst);
			dst = NULL;
			if (pprof_decode(gz.data, gz.len, NULL, &dst, &d) != 0)
				bad = k;
			continue;
		}
		encode(dst, false, &after);
		if (rc != -ENOMEM || after.len != before.len ||
		    memcmp(after.data, before.data, after.len) != 0)
			bad = k;
		buf_fini(&after);
	}
	buf_fini(&gz);
	buf_fini(&before);
	prof_free(dst);
	CHECK_MSG(!bad, "failure injected at allocation %zu misbehaved", bad);
	CHECK(n_fail > 5);
}

/* ---- speed (printed, not asserted) ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

/* A synthetic service: 2,000 functions, 4,000 code locations (1 in 8 with an inlined line) and
 * a call tree with n distinct stacks of depth 10-60: each new stack branches off a random
 * earlier one a few frames above its leaf, as real call trees do. */
struct world {
	uint32_t *stacks; /* n_stacks × 64: [0] = depth, then location indices root first */
	size_t n_stacks;
};

#define WORLD_FUNCS 2000
#define WORLD_LOCS  4000

static void world_init(struct world *w, size_t n_stacks)
{
	struct rng r = {0x1234567};

	w->n_stacks = n_stacks;
	w->stacks = mem_alloc(MEM_TEST, n_stacks * 64 * sizeof(uint32_t));
	for (size_t s = 0; s < n_stacks; s++) {
		uint32_t *st = w->stacks + s * 64, keep = 0, depth;

		if (s >= 8) {
			const uint32_t *from = w->stacks + (rnd(&r) % s) * 64;

			keep = from[0] - 1 - (uint32_t)(rnd(&r) % EMBER_MIN(from[0] - 1, 12));
			memcpy(st + 1, from + 1, keep * sizeof(uint32_t));
		}
		depth = keep + 1 + (uint32_t)(rnd(&r) % 12);
		depth = EMBER_MAX(10, EMBER_MIN(60, depth));
		st[0] = depth;
		for (uint32_t k = keep; k < depth; k++)
			st[1 + k] = (uint32_t)(rnd(&r) % WORLD_LOCS);
	}
}

static void world_fini(struct world *w)
{
	mem_free(w->stacks);
}

/* One profile of n_samples picks from the world; ids in order of first use, as Go writes. */
static struct prof *world_profile(const struct world *w, uint64_t seed, size_t n_samples)
{
	struct prof *p = prof_new();
	struct rng r = {seed * 0x9e3779b97f4a7c15ULL + 1};
	uint32_t *loc = mem_calloc(MEM_TEST, WORLD_LOCS, sizeof(uint32_t));
	uint32_t *fn = mem_calloc(MEM_TEST, WORLD_FUNCS, sizeof(uint32_t));
	struct prof_mapping m = {
		0x400000, 0x800000, 0,	 S(p, "/usr/bin/svc"), S(p, "abc123"), true,
		true,	  true,	    true};
	uint32_t mp = prof_add_mapping(p, &m), leaf_first[64];
	char name[128];

	prof_add_sample_type(p, S(p, "samples"), S(p, "count"));
	prof_add_sample_type(p, S(p, "cpu"), S(p, "nanoseconds"));
	for (size_t i = 0; i < n_samples; i++) {
		size_t s =
			(size_t)((rnd(&r) % w->n_stacks) * (rnd(&r) % w->n_stacks) / w->n_stacks);
		const uint32_t *st = w->stacks + s * 64;
		int64_t v[2];

		for (uint32_t k = 0; k < st[0]; k++) {
			uint32_t l = st[1 + k];

			if (!loc[l]) {
				struct prof_line ln[2];
				uint32_t nl = l % 8 == 0 ? 2 : 1;

				for (uint32_t j = 0; j < nl; j++) {
					uint32_t f = (l * 7 + j * 13) % WORLD_FUNCS;

					if (!fn[f]) {
						struct prof_function pf;

						snprintf(name, sizeof(name),
							 "github.com/acme/svc/"
							 "pkg%02u.(*Type%u).Method%u",
							 f % 40, f % 97, f);
						pf.name = S(p, name);
						pf.system_name = pf.name;
						snprintf(name, sizeof(name),
							 "/src/github.com/acme/svc/pkg%02u/"
							 "file%u.go",
							 f % 40, f % 13);
						pf.filename = S(p, name);
						pf.start_line = f % 500;
						fn[f] = prof_add_function(p, &pf);
					}
					ln[j].function = fn[f];
					ln[j].line = 10 + l % 300;
					ln[j].column = 0;
				}
				loc[l] = prof_add_location(p, mp, 0x400000 + l * 16ULL, ln, nl,
							   false);
			}
			leaf_first[st[0] - 1 - k] = loc[l];
		}
		v[0] = 1 + (int64_t)(rnd(&r) % 4);
		v[1] = v[0] * 10000000;
		prof_add_sample(p, prof_add_stack(p, leaf_first, st[0]), 0, v);
	}
	prof_meta(p)->period = 10000000;
	prof_meta(p)->duration_ns = 10000000000LL;
	prof_meta(p)->time_ns = 1700000000000000000LL + (int64_t)seed;
	mem_free(loc);
	mem_free(fn);
	return p;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(pprof_decode_speed)
{
	struct world w;
	struct prof *p, *dst = prof_new();
	struct ember_diag d = {{0}};
	struct buf raw, many[20];
	double t0, t_dec, t_merge;
	size_t iters = 0, bytes = 0, merged = 0;
	int rc = 0;

	world_init(&w, 5000);
	p = world_profile(&w, 1, 20000);
	encode(p, false, &raw);
	t0 = now_s();
	while (rc == 0 && (now_s() - t0 < 0.3 || iters < 3)) {
		struct prof *q = NULL;

		rc = pprof_decode(raw.data, raw.len, NULL, &q, &d);
		prof_free(q);
		iters++;
	}
	t_dec = now_s() - t0;
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(many); i++) {
		struct prof *q = world_profile(&w, i + 2, 500);

		encode(q, false, &many[i]);
		prof_free(q);
	}
	t0 = now_s();
	for (size_t round = 0; round < 10 && rc == 0; round++)
		for (size_t i = 0; i < EMBER_ARRAY_SIZE(many) && rc == 0; i++, merged++) {
			rc = pprof_decode_merge(dst, many[i].data, many[i].len, NULL, &d);
			bytes += many[i].len;
		}
	t_merge = now_s() - t0;
	printf("  pprof_decode: %.0f MB/s (%zu-byte profile, %zu samples); decode_merge: %.0f "
	       "profiles/s, %.0f MB/s\n",
	       (double)raw.len * (double)iters / t_dec / 1e6, raw.len, prof_n_samples(p),
	       (double)merged / t_merge, (double)bytes / t_merge / 1e6);
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(many); i++)
		buf_fini(&many[i]);
	buf_fini(&raw);
	prof_free(p);
	prof_free(dst);
	world_fini(&w);
	CHECK_MSG(rc == 0, "%s", d.msg);
}

/* 1,024 sample types (the limit) in opposite orders: every value lands in its own type. */
TEST(pprof_decode_merge_many_types_reordered)
{
	struct prof *a = prof_new(), *b = prof_new(), *dst = prof_new();
	int64_t *va = mem_calloc(MEM_TEST, 1024, sizeof(int64_t));
	int64_t *vb = mem_calloc(MEM_TEST, 1024, sizeof(int64_t));
	struct ember_diag d = {{0}};
	struct buf ea, eb;
	char name[32];
	int rc1, rc2;
	bool ok;

	for (int i = 0; i < 1024; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		prof_add_sample_type(a, S(a, name), S(a, "count"));
		snprintf(name, sizeof(name), "t%d", 1023 - i);
		prof_add_sample_type(b, S(b, name), S(b, "count"));
		va[i] = i;
		vb[i] = (1023 - i) * 1000;
	}
	prof_add_sample(a, 0, 0, va);
	prof_add_sample(b, 0, 0, vb);
	encode(a, false, &ea);
	encode(b, true, &eb);
	rc1 = pprof_decode_merge(dst, ea.data, ea.len, NULL, &d);
	rc2 = pprof_decode_merge(dst, eb.data, eb.len, NULL, &d);
	ok = rc1 == 0 && rc2 == 0 && prof_n_sample_types(dst) == 1024;
	for (int i = 0; ok && i < 1024; i++)
		ok = prof_total(dst, (size_t)i) == (int64_t)i * 1001;
	buf_fini(&ea);
	buf_fini(&eb);
	mem_free(va);
	mem_free(vb);
	prof_free(a);
	prof_free(b);
	prof_free(dst);
	CHECK_MSG(ok, "%d %d %s", rc1, rc2, d.msg);
}
