/*
 * test_pprof_speed_paths.c — the decoder's and the profile model's fast paths, each checked
 * against the general path it stands in for, so that a broken fast path fails here rather than
 * only in the benchmarks: hmap_put_new (the node index's insertion of keys known to be new),
 * pprof_varint_nocheck's one-load path, the decoder's four-ids-at-once read of packed location
 * ids, the direct Function read, and prof_reserve's node index and prof_reserve_symbols' record
 * indexes sized at their first use.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/hmap.h"
#include "base/mem.h"
#include "base/wire.h"
#include "format/pprof.h"
#include "format/pprof_int.h"
#include "profile/profile.h"
#include "test.h"

/* hmap_put_new gives the map hmap_put gives: every key found with its value, the same length,
 * also when probes collide and wrap around the end of the table. */
TEST(hmap_put_new_matches_put)
{
	struct hmap a, b;
	bool same = true;
	uint64_t v;

	hmap_init(&a, MEM_TEST);
	hmap_init(&b, MEM_TEST);
	hmap_reserve(&a, 3000);
	for (uint64_t k = 0; k < 3000; k++) {
		uint64_t key = k * 0x9e3779b97f4a7c15ULL >> 7; /* spread, never HMAP_EMPTY */

		hmap_put_new(&a, key, k);
		hmap_put(&b, key, k);
	}
	CHECK_EQ_INT(a.len, 3000);
	CHECK_EQ_INT(a.len, b.len);
	for (uint64_t k = 0; k < 3000; k++) {
		uint64_t key = k * 0x9e3779b97f4a7c15ULL >> 7;

		same &= hmap_get(&a, key, &v) && v == k;
	}
	CHECK(same);
	/* a full cluster: consecutive keys of a small table, inserted until it is at its load */
	hmap_clear(&a);
	hmap_reserve(&a, 8);
	for (uint64_t k = 1; k <= 8; k++)
		hmap_put_new(&a, k, k + 100);
	for (uint64_t k = 1; k <= 8; k++)
		same &= hmap_get(&a, k, &v) && v == k + 100;
	CHECK(same);
	CHECK_EQ_INT(a.len, 8);
	hmap_fini(&a);
	hmap_fini(&b);
}

/* Checks one encoding of a varint (len bytes at enc, 16 readable bytes after them) against
 * wire_read_varint: the same value and end, or NULL where the checked reader fails. */
static bool nocheck_agrees(const uint8_t *enc, size_t len)
{
	uint8_t in[32];
	struct wire_reader r;
	uint64_t want = 0, got = 0;
	const uint8_t *end;
	int rc;

	memset(in, 0x55, sizeof(in)); /* bytes after the varint: never part of it */
	memcpy(in, enc, len);
	wire_reader_init(&r, in, len);
	rc = wire_read_varint(&r, &want);
	end = pprof_varint_nocheck(in, &got);
	if (rc)
		return end == NULL;
	return end == in + wire_offset(&r) && got == want;
}

/* pprof_varint_nocheck (one byte, two, then three to eight from one load, nine and ten in a
 * loop) reads what wire_read_varint reads: every bit length, overlong forms, and the NULL of a
 * value past 64 bits or of more than ten bytes. */
TEST(pprof_varint_nocheck_matches_wire)
{
	bool same = true;
	struct buf b;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	for (int bits = 0; bits <= 64; bits++) {
		for (int k = 0; k < 3; k++) {
			uint64_t v = bits == 0 ? (uint64_t)k
					       : (bits == 64 ? ~(uint64_t)0 : (1ULL << bits) - 1) -
							 (uint64_t)k * (bits > 2);

			if (bits > 0 && bits < 64 && k == 2)
				v = 1ULL << (bits - 1); /* the top bit alone */
			buf_reset(&b);
			wire_put_varint(&b, v);
			same &= nocheck_agrees(b.data, b.len);
		}
	}
	CHECK(same);
	{
		/* overlong: 0 and 1 in 2..10 bytes */
		uint8_t o[10];

		for (size_t n = 2; n <= 10; n++) {
			for (int one = 0; one < 2; one++) {
				memset(o, 0x80, n - 1);
				o[0] |= (uint8_t)one;
				o[n - 1] = 0;
				same &= nocheck_agrees(o, n);
			}
		}
		CHECK(same);
	}
	{
		/* ten bytes whose last carries more than bit 63, and eleven bytes */
		const uint8_t past[10] = {0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff, 0x02};
		const uint8_t eleven[11] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
					    0x80, 0x80, 0x80, 0x80, 0x00};
		uint64_t v;

		CHECK(nocheck_agrees(past, sizeof(past)));
		CHECK(pprof_varint_nocheck(past, &v) == NULL);
		CHECK(pprof_varint_nocheck(eleven, &v) == NULL);
	}
	buf_fini(&b);
}

/* A raw pprof (Go's field order: samples first, then functions, locations, strings) with one
 * sample type, one function (id 7, name "f", system_name "f", filename "f.go", start_line 77)
 * and locations 1..n_locs (address 0x1000 + id, one line of function 7 at line = id). The
 * sample's packed location ids are ids[0..n_ids), its value 1. */
static void build_raw(struct buf *b, const uint64_t *ids, size_t n_ids, uint32_t n_locs)
{
	const char *strs[] = {"", "samples", "count", "f", "f.go"};
	size_t m, k;

	buf_init(b, MEM_TEST, SIZE_MAX);
	m = wire_begin(b);
	wire_put_uint(b, 1, 1);
	wire_put_uint(b, 2, 2);
	wire_end(b, 1, m);
	m = wire_begin(b);
	k = wire_begin(b);
	for (size_t i = 0; i < n_ids; i++)
		wire_put_varint(b, ids[i]);
	wire_end(b, 1, k);
	k = wire_begin(b);
	wire_put_varint(b, 1);
	wire_end(b, 2, k);
	wire_end(b, 2, m);
	m = wire_begin(b);
	wire_put_uint(b, 1, 7);
	wire_put_uint(b, 2, 3);
	wire_put_uint(b, 3, 3);
	wire_put_uint(b, 4, 4);
	wire_put_uint(b, 5, 77);
	wire_end(b, 5, m);
	for (uint32_t id = 1; id <= n_locs; id++) {
		m = wire_begin(b);
		wire_put_uint(b, 1, id);
		wire_put_uint(b, 3, 0x1000 + id);
		k = wire_begin(b);
		wire_put_uint(b, 1, 7);
		wire_put_uint(b, 2, id);
		wire_end(b, 4, k);
		wire_end(b, 4, m);
	}
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		wire_put_bytes(b, 6, strs[i], strlen(strs[i]));
}

/* Where the packed ids of build_raw's sample start: found by their bytes (the encoding of the
 * first two ids), which occur first there. */
static size_t find_ids(const struct buf *b, const uint64_t *ids)
{
	struct buf e;
	size_t at = SIZE_MAX;

	buf_init(&e, MEM_TEST, SIZE_MAX);
	wire_put_varint(&e, ids[0]);
	wire_put_varint(&e, ids[1]);
	for (size_t i = 0; i + e.len <= b->len; i++)
		if (memcmp(b->data + i, e.data, e.len) == 0) {
			at = i;
			break;
		}
	buf_fini(&e);
	return at;
}

/* The decoded stack of the only sample of p, leaf first, as addresses - 0x1000 (= file ids). */
static size_t stack_ids(const struct prof *p, uint64_t *out, size_t max)
{
	struct prof_sample s;
	size_t n = 0;

	if (prof_n_samples(p) != 1)
		return SIZE_MAX;
	prof_sample_get(p, 0, &s);
	for (uint32_t node = s.node; node && n < max; node = prof_node_parent(p, node)) {
		struct prof_location l;

		prof_location_get(p, prof_node_location(p, node), &l);
		out[n++] = l.address - 0x1000;
	}
	return n;
}

/* Packed location ids of two bytes each are read four at a time: runs of them, runs broken by
 * one-byte ids, at the end of the list and not, decode to the stack they name; an id that is not
 * in the file inside such a group is the same error at the same byte as one by one; and the
 * Function read in one pass keeps every field. */
TEST(pprof_sample_ids_four_at_once)
{
	uint64_t ids[40], got[64];
	size_t n_ids = 0, ids_at, n;
	struct ember_diag d = {{0}};
	struct prof *p = NULL;
	const struct prof_function *f;
	char want[160];
	struct buf b;
	int rc;

	/* 2-byte x5, 1-byte, 2-byte x9, 1-byte x2, 2-byte x3 */
	for (uint64_t i = 0; i < 5; i++)
		ids[n_ids++] = 200 + i;
	ids[n_ids++] = 5;
	for (uint64_t i = 0; i < 9; i++)
		ids[n_ids++] = 300 - 7 * i;
	ids[n_ids++] = 1;
	ids[n_ids++] = 127;
	for (uint64_t i = 0; i < 3; i++)
		ids[n_ids++] = 128 + i;
	build_raw(&b, ids, n_ids, 320);
	ids_at = find_ids(&b, ids);
	CHECK(ids_at != SIZE_MAX);
	rc = pprof_decode(b.data, b.len, NULL, &p, &d);
	CHECK_MSG(rc == 0, "%s", d.msg);
	n = stack_ids(p, got, 64);
	CHECK_EQ_INT(n, n_ids);
	CHECK(memcmp(got, ids, n_ids * sizeof(ids[0])) == 0);
	CHECK_EQ_INT(prof_n_functions(p), 1);
	f = prof_function_get(p, 1);
	CHECK_EQ_STR(prof_string(p, f->name), "f");
	CHECK_EQ_STR(prof_string(p, f->system_name), "f");
	CHECK_EQ_STR(prof_string(p, f->filename), "f.go");
	CHECK_EQ_INT(f->start_line, 77);
	prof_free(p);
	p = NULL;
	buf_fini(&b);

	/* the third id of the second group of four is 321, which no location has: the error names
	 * it and its byte, as the one-by-one path does */
	ids[6] = 321;
	build_raw(&b, ids, n_ids, 320);
	ids_at = find_ids(&b, ids);
	rc = pprof_decode(b.data, b.len, NULL, &p, &d);
	CHECK_EQ_INT(rc, -EMBER_EFORMAT);
	CHECK(p == NULL);
	snprintf(want, sizeof(want),
		 "pprof: sample 0 references location id 321 which does not exist (byte %zu)",
		 ids_at + 5 * 2 + 1);
	CHECK_EQ_STR(d.msg, want);
	buf_fini(&b);

	/* id 0 as an overlong two-byte varint (0x80 0x00) inside a group */
	ids[6] = 300;
	build_raw(&b, ids, n_ids, 320);
	ids_at = find_ids(&b, ids);
	CHECK(b.data[ids_at + 2] == (uint8_t)(0x80 | 201 % 128));
	b.data[ids_at + 2] = 0x80;
	b.data[ids_at + 3] = 0x00;
	rc = pprof_decode(b.data, b.len, NULL, &p, &d);
	CHECK_EQ_INT(rc, -EMBER_EFORMAT);
	snprintf(want, sizeof(want),
		 "pprof: sample 0 references location id 0 which does not exist (byte %zu)",
		 ids_at + 2);
	CHECK_EQ_STR(d.msg, want);
	buf_fini(&b);
}

/* prof_reserve's node index is sized when the first node is looked up or added, whichever way:
 * nodes added after the reservation are all found, with the ids prof_node_child gives. */
TEST(profile_reserve_node_index_at_first_use)
{
	struct prof *a = prof_new(), *b = prof_new();
	uint32_t locs[30], nodes[30], node = 0, found;
	bool same = true;

	prof_reserve(a, 1000, 10);
	prof_reserve(b, 1000, 10);
	CHECK(!prof_node_find(a, 0, 1, &found));
	for (uint32_t i = 0; i < 30; i++)
		locs[i] = 1 + i % 7;
	prof_node_chain(a, 0, locs, 30, nodes); /* a: the chain is the first use */
	for (uint32_t i = 0; i < 30; i++) {
		node = prof_node_child(b, node, locs[i]); /* b: prof_node_child is */
		same &= nodes[i] == node &&
			prof_node_find(a, i ? nodes[i - 1] : 0, locs[i], &found) && found == node;
	}
	CHECK(same);
	CHECK_EQ_INT(prof_n_nodes(a), 31);
	CHECK_EQ_INT(prof_node_child(a, 0, 99), 31);
	CHECK(prof_bytes(a) > 1000 * 16);
	prof_free(a);
	prof_free(b);
}

/* prof_reserve_symbols sizes the function and location indexes at their next use: records added
 * before and after it are deduplicated and keep their ids across the resize, and growing past
 * the reservation still works. */
TEST(profile_reserve_symbols_index_at_first_use)
{
	struct prof *p = prof_new();
	struct prof_function f = {.name = prof_intern_cstr(p, "f"), .start_line = 0};
	struct prof_line ln = {.function = 0, .line = 1, .column = 0};
	uint32_t fid[600], lid[600];
	bool same = true;

	for (uint32_t i = 0; i < 10; i++) { /* before: the indexes at their first sizes */
		f.start_line = i;
		fid[i] = prof_add_function(p, &f);
		ln.function = fid[i];
		lid[i] = prof_add_location(p, 0, 0x1000 + i, &ln, 1, false);
	}
	prof_reserve_symbols(p, 500, 500, 500);
	for (uint32_t i = 0; i < 600; i++) { /* after, past the reservation: again and new */
		f.start_line = i;
		ln.function = prof_add_function(p, &f);
		same &= i >= 10 || ln.function == fid[i];
		fid[i] = ln.function;
		lid[i] = prof_add_location(p, 0, 0x1000 + i, &ln, 1, false);
	}
	for (uint32_t i = 0; i < 600; i++) {
		f.start_line = i;
		ln.function = fid[i];
		same &= prof_add_function(p, &f) == fid[i] &&
			prof_add_location(p, 0, 0x1000 + i, &ln, 1, false) == lid[i];
	}
	CHECK(same);
	CHECK_EQ_INT(prof_n_functions(p), 600);
	CHECK_EQ_INT(prof_n_locations(p), 600);
	prof_free(p);
}
