/*
 * test_base.c — unit tests for src/base: allocator counts and failure injection, arenas, bounded
 * buffers and file helpers, hashing, the hash map, interning, the protobuf wire codec, errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/base64.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/hmap.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/strtab.h"
#include "base/wire.h"
#include "test.h"

TEST(mem_counts_per_subsystem)
{
	int64_t before = mem_bytes(MEM_TEST);
	void *p = mem_alloc(MEM_TEST, 100);

	CHECK_EQ_INT(mem_bytes(MEM_TEST) - before, 100);
	p = mem_realloc(MEM_TEST, p, 300);
	CHECK_EQ_INT(mem_bytes(MEM_TEST) - before, 300);
	mem_free(p);
	CHECK_EQ_INT(mem_bytes(MEM_TEST), before);
	CHECK_EQ_STR(mem_sub_name(MEM_STORE), "store");
}

TEST(mem_injected_failure)
{
	void *a, *b;

	mem_fail_after(2);
	a = mem_try_alloc(MEM_TEST, 10);
	b = mem_try_alloc(MEM_TEST, 10);
	CHECK(a != NULL);
	CHECK(b == NULL);
	CHECK(mem_try_alloc(MEM_TEST, 10) == NULL);
	mem_fail_after(0);
	b = mem_try_alloc(MEM_TEST, 10);
	CHECK(b != NULL);
	mem_free(a);
	mem_free(b);
}

TEST(arena_alloc_reset)
{
	struct arena *a = arena_new(MEM_TEST, 1024);
	char *s = arena_strndup(a, "hello world", 5);
	void *big;

	CHECK_EQ_STR(s, "hello");
	CHECK(((uintptr_t)arena_alloc(a, 3) & 15) == 0);
	big = arena_calloc(a, 10, 1000);
	CHECK(((char *)big)[9999] == 0);
	CHECK(arena_bytes(a) >= 11000);
	arena_reset(a);
	CHECK(arena_bytes(a) <= 10000 + 1024);
	arena_free(a);
}

TEST(buf_bounded)
{
	struct buf b;

	buf_init(&b, MEM_TEST, 10);
	CHECK_OK(buf_puts(&b, "12345"));
	CHECK_OK(buf_printf(&b, "%d", 6789));
	CHECK_EQ_INT(b.len, 9);
	CHECK_EQ_INT(buf_puts(&b, "ab"), -EMBER_ELIMIT);
	CHECK_EQ_INT(b.len, 9);
	CHECK_EQ_STR((char *)b.data, "123456789");
	buf_fini(&b);
}

TEST(buf_printf_long)
{
	struct buf b;
	char want[1001];

	buf_init(&b, MEM_TEST, SIZE_MAX);
	memset(want, 'x', 1000);
	want[1000] = 0;
	CHECK_OK(buf_printf(&b, "%s", want));
	CHECK_EQ_STR((char *)b.data, want);
	buf_fini(&b);
}

TEST(buf_alloc_failure)
{
	struct buf b;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	mem_fail_after(1);
	CHECK_EQ_INT(buf_puts(&b, "x"), -ENOMEM);
	mem_fail_after(0);
	buf_fini(&b);
}

TEST(buf_file_roundtrip_atomic)
{
	char path[512];
	struct buf w, r;

	snprintf(path, sizeof(path), "%s/f.bin", test_tmpdir());
	buf_init(&w, MEM_TEST, SIZE_MAX);
	for (int i = 0; i < 100000; i++)
		CHECK_OK(buf_putc(&w, i & 0xff));
	CHECK_OK(buf_write_file(&w, path));
	buf_init(&r, MEM_TEST, SIZE_MAX);
	CHECK_OK(buf_read_file(&r, path));
	CHECK_EQ_INT(r.len, w.len);
	CHECK(memcmp(r.data, w.data, w.len) == 0);
	buf_fini(&r);
	buf_init(&r, MEM_TEST, 1000);
	CHECK_EQ_INT(buf_read_file(&r, path), -EMBER_ELIMIT);
	buf_fini(&r);
	buf_init(&r, MEM_TEST, 1000);
	CHECK_EQ_INT(buf_read_file(&r, "/nonexistent/x"), -ENOENT);
	buf_fini(&r);
	buf_fini(&w);
}

TEST(hash_distinguishes)
{
	CHECK(hash_bytes("abc", 3, 0) != hash_bytes("abd", 3, 0));
	CHECK(hash_bytes("abc", 3, 0) == hash_bytes("abc", 3, 0));
	CHECK(hash_bytes("", 0, 1) != hash_bytes("", 0, 2));
	CHECK(hash_u64(1) != hash_u64(2));
}

TEST(hmap_put_get_grow)
{
	struct hmap m;
	uint64_t v, k, sum = 0;
	size_t it = 0, n = 0;
	bool found;

	hmap_init(&m, MEM_TEST);
	CHECK(!hmap_get(&m, 5, &v));
	for (uint64_t i = 0; i < 10000; i++)
		hmap_put(&m, i * 7919, i);
	CHECK_EQ_INT(m.len, 10000);
	for (uint64_t i = 0; i < 10000; i++) {
		CHECK(hmap_get(&m, i * 7919, &v));
		CHECK_EQ_INT(v, i);
	}
	CHECK(!hmap_get(&m, 7918, &v));
	*hmap_upsert(&m, 7919, 0, &found) += 100;
	CHECK(found);
	CHECK(hmap_get(&m, 7919, &v) && v == 101);
	while (hmap_next(&m, &it, &k, &v)) {
		n++;
		sum += k;
	}
	CHECK_EQ_INT(n, 10000);
	CHECK_EQ_INT(sum, 7919ULL * (9999ULL * 10000 / 2));
	hmap_clear(&m);
	CHECK(!hmap_get(&m, 7919, &v));
	hmap_fini(&m);
}

TEST(strtab_interning)
{
	struct strtab *st = strtab_new(MEM_TEST);
	uint32_t a = strtab_intern_cstr(st, "alpha"), b = strtab_intern_cstr(st, "beta"), id;
	const char *pa = strtab_get(st, a, NULL);
	size_t len;
	char big[100000];

	CHECK_EQ_INT(strtab_intern_cstr(st, ""), 0);
	CHECK_EQ_INT(a, 1);
	CHECK_EQ_INT(b, 2);
	CHECK_EQ_INT(strtab_intern_cstr(st, "alpha"), 1);
	CHECK(strtab_intern(st, "a\0b", 3) != strtab_intern(st, "a\0c", 3));
	for (int i = 0; i < 50000; i++) {
		char s[32];

		snprintf(s, sizeof(s), "s%d", i);
		CHECK_EQ_INT(strtab_intern_cstr(st, s), i + 5);
	}
	memset(big, 'z', sizeof(big));
	id = strtab_intern(st, big, sizeof(big));
	CHECK(memcmp(strtab_get(st, id, &len), big, sizeof(big)) == 0 && len == sizeof(big));
	CHECK(pa == strtab_get(st, a, NULL)); /* stable pointers */
	CHECK(strtab_find(st, "s777", 4, &id) && id == 782);
	CHECK(!strtab_find(st, "nope", 4, &id));
	CHECK_EQ_STR(strtab_get(st, 999999, NULL), "");
	strtab_free(st);
}

TEST(wire_roundtrip)
{
	struct buf b;
	struct wire_reader r;
	uint64_t vals[] = {0, 1, 127, 128, 300, UINT32_MAX, UINT64_MAX};
	uint32_t field;
	enum wire_type wt;
	uint64_t v;
	const uint8_t *p;
	size_t n, mark;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(vals); i++)
		CHECK_OK(wire_put_uint(&b, (uint32_t)i + 1, vals[i]));
	CHECK_OK(wire_put_bytes(&b, 20, "hello", 5));
	mark = wire_begin(&b);
	CHECK_OK(wire_put_uint(&b, 1, 42));
	CHECK_OK(wire_put_fixed64(&b, 2, 0x1122334455667788ULL));
	CHECK_OK(wire_end(&b, 21, mark));

	wire_reader_init(&r, b.data, b.len);
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(vals); i++) {
		CHECK_OK(wire_read_tag(&r, &field, &wt));
		CHECK_EQ_INT(field, i + 1);
		CHECK_EQ_INT(wt, WIRE_VARINT);
		CHECK_OK(wire_read_varint(&r, &v));
		CHECK(v == vals[i]);
	}
	CHECK_OK(wire_read_tag(&r, &field, &wt));
	CHECK_OK(wire_read_len(&r, &p, &n));
	CHECK(n == 5 && memcmp(p, "hello", 5) == 0);
	CHECK_OK(wire_read_tag(&r, &field, &wt));
	CHECK_EQ_INT(field, 21);
	CHECK_OK(wire_read_len(&r, &p, &n));
	struct wire_reader sub = wire_sub(&r, p, n);

	CHECK_OK(wire_read_tag(&sub, &field, &wt));
	CHECK_OK(wire_read_varint(&sub, &v));
	CHECK_EQ_INT(v, 42);
	CHECK_OK(wire_read_tag(&sub, &field, &wt));
	CHECK_EQ_INT(wt, WIRE_I64);
	CHECK_OK(wire_read_fixed64(&sub, &v));
	CHECK(v == 0x1122334455667788ULL);
	CHECK(wire_eof(&sub));
	CHECK(wire_eof(&r));
	buf_fini(&b);
}

TEST(wire_rejects_bad_input)
{
	struct wire_reader r;
	uint64_t v;
	uint32_t field;
	enum wire_type wt;
	const uint8_t *p;
	size_t n;
	static const uint8_t truncated[] = {0x08, 0x80, 0x80};
	static const uint8_t overlong[] = {0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0x7f};
	static const uint8_t group[] = {0x0b};
	static const uint8_t field0[] = {0x00, 0x01};
	static const uint8_t badlen[] = {0x12, 0x05, 'a', 'b'};

	wire_reader_init(&r, truncated, sizeof(truncated));
	CHECK_OK(wire_read_tag(&r, &field, &wt));
	CHECK_EQ_INT(wire_read_varint(&r, &v), -EMBER_EFORMAT);
	CHECK_EQ_INT(wire_offset(&r), 1);
	wire_reader_init(&r, overlong, sizeof(overlong));
	CHECK_EQ_INT(wire_read_varint(&r, &v), -EMBER_EFORMAT);
	wire_reader_init(&r, group, sizeof(group));
	CHECK_EQ_INT(wire_read_tag(&r, &field, &wt), -EMBER_EFORMAT);
	wire_reader_init(&r, field0, sizeof(field0));
	CHECK_EQ_INT(wire_read_tag(&r, &field, &wt), -EMBER_EFORMAT);
	wire_reader_init(&r, badlen, sizeof(badlen));
	CHECK_OK(wire_read_tag(&r, &field, &wt));
	CHECK_EQ_INT(wire_read_len(&r, &p, &n), -EMBER_EFORMAT);
	CHECK_EQ_INT(wire_offset(&r), 1);
}

TEST(err_strings)
{
	struct ember_diag d;

	CHECK_EQ_STR(ember_strerror(-EMBER_EFORMAT), "malformed input");
	CHECK_EQ_STR(ember_strerror(-ENOENT), strerror(ENOENT));
	CHECK_EQ_INT(ember_diag_set(&d, -EMBER_ELIMIT, "x=%d", 5), -EMBER_ELIMIT);
	CHECK_EQ_STR(d.msg, "x=5");
	CHECK_EQ_INT(ember_diag_set(NULL, -1, "ignored"), -1);
}

TEST(log_levels)
{
	enum log_level l;

	CHECK_OK(log_parse_level("debug", &l));
	CHECK_EQ_INT(l, LOG_LEVEL_DEBUG);
	CHECK_EQ_INT(log_parse_level("loud", &l), -EMBER_EUSAGE);
}

TEST(base64_decode_alphabets_and_errors)
{
	uint8_t out[16];

	CHECK_EQ_INT(base64_decode("dXNlcjpwYXNz", 12, out, sizeof(out)), 9);
	CHECK(memcmp(out, "user:pass", 9) == 0);
	/* padding optional; standard and URL-safe digits alike */
	CHECK_EQ_INT(base64_decode("+/8=", 4, out, sizeof(out)), 2);
	CHECK_EQ_INT(out[0], 0xfb);
	CHECK_EQ_INT(out[1], 0xff);
	CHECK_EQ_INT(base64_decode("-_8", 3, out, sizeof(out)), 2);
	CHECK_EQ_INT(out[0], 0xfb);
	CHECK_EQ_INT(base64_decode("", 0, out, sizeof(out)), 0);
	/* bad character, impossible length, '=' inside, output past cap */
	CHECK_EQ_INT(base64_decode("ab$d", 4, out, sizeof(out)), -1);
	CHECK_EQ_INT(base64_decode("abcde", 5, out, sizeof(out)), -1);
	CHECK_EQ_INT(base64_decode("ab=d", 4, out, sizeof(out)), -1);
	CHECK_EQ_INT(base64_decode("dXNlcjpwYXNz", 12, out, 8), -1);
}
