/*
 * test_gzip.c — unit tests for format/gzip: round trips at several sizes and levels, gzip
 * detection, concatenated members, zlib framing, the bomb limits (ratio and max_out), truncated,
 * corrupt and trailing-garbage input with the offset in the message, and allocation failure.
 */
#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "format/gzip.h"
#include "test.h"

/* Deterministic test bytes: compressible text when `text`, else noise. */
static void fill(uint8_t *p, size_t n, bool text, uint64_t seed)
{
	static const char words[] = "runtime.mallocgc main.work net/http.(*conn).serve ";
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = text ? (uint8_t)words[(i + (x % 3 == 0 ? x % 7 : 0)) % (sizeof(words) - 1)]
			    : (uint8_t)x;
	}
}

static bool contains(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

TEST(gzip_roundtrip_sizes_levels)
{
	static const size_t sizes[] = {0, 1, 100, 4096, 70000, 1u << 20};
	static const int levels[] = {1, 6, 9};

	for (size_t si = 0; si < EMBER_ARRAY_SIZE(sizes); si++) {
		for (int text = 0; text < 2; text++) {
			size_t n = sizes[si];
			uint8_t *src = mem_alloc(MEM_TEST, n + 1);

			fill(src, n, text, si);
			for (size_t li = 0; li < EMBER_ARRAY_SIZE(levels); li++) {
				struct buf z, back;
				struct ember_diag d = {{0}};
				int rc1, rc2;

				buf_init(&z, MEM_TEST, SIZE_MAX);
				buf_init(&back, MEM_TEST, SIZE_MAX);
				rc1 = gzip_deflate(src, n, levels[li], &z);
				rc2 = rc1 ? rc1 : gzip_inflate(z.data, z.len, NULL, &back, &d);
				bool ok = rc1 == 0 && rc2 == 0 && gzip_is(z.data, z.len) &&
					  back.len == n &&
					  (n == 0 || memcmp(back.data, src, n) == 0);
				buf_fini(&z);
				buf_fini(&back);
				if (!ok)
					mem_free(src);
				CHECK_MSG(ok, "size %zu text %d level %d: rc %d/%d %s", n, text,
					  levels[li], rc1, rc2, d.msg);
			}
			mem_free(src);
		}
	}
}

TEST(gzip_is_magic)
{
	static const uint8_t gz[] = {0x1f, 0x8b, 8};
	static const uint8_t not [] = {0x1f, 0x8c};

	CHECK(gzip_is(gz, sizeof(gz)));
	CHECK(gzip_is(gz, 2));
	CHECK(!gzip_is(gz, 1));
	CHECK(!gzip_is(not, sizeof(not )));
	CHECK(!gzip_is(NULL, 0));
	struct buf out;
	int rc0, rc10;

	buf_init(&out, MEM_TEST, SIZE_MAX);
	rc0 = gzip_deflate("x", 1, 0, &out);
	rc10 = gzip_deflate("x", 1, 10, &out);
	bool empty = out.len == 0;
	buf_fini(&out);
	CHECK_EQ_INT(rc0, -EINVAL);
	CHECK_EQ_INT(rc10, -EINVAL);
	CHECK(empty);
}

TEST(gzip_inflate_appends_and_concatenated_members)
{
	struct buf z, out;
	struct ember_diag d = {{0}};
	int rc;

	buf_init(&z, MEM_TEST, SIZE_MAX);
	buf_init(&out, MEM_TEST, SIZE_MAX);
	CHECK_OK(gzip_deflate("hello, ", 7, 1, &z));
	CHECK_OK(gzip_deflate("", 0, 9, &z));
	CHECK_OK(gzip_deflate("world", 5, 6, &z));
	CHECK_OK(buf_append(&out, "<<", 2));
	rc = gzip_inflate(z.data, z.len, NULL, &out, &d);
	bool ok = rc == 0 && out.len == 14 && memcmp(out.data, "<<hello, world", 14) == 0 &&
		  out.data[out.len] == 0;
	buf_fini(&z);
	buf_fini(&out);
	CHECK_MSG(ok, "rc %d: %s", rc, d.msg);
}

/* A zlib stream by hand: header 78 01, one stored block, Adler-32. */
TEST(gzip_inflate_zlib_framing)
{
	static const char text[] = "stored block";
	uint8_t z[64];
	size_t n = sizeof(text) - 1, k = 0;
	uLong a = adler32(adler32(0L, Z_NULL, 0), (const Bytef *)text, (uInt)n);
	struct ember_diag d = {{0}};
	struct buf out;
	int rc;

	z[k++] = 0x78;
	z[k++] = 0x01;
	z[k++] = 0x01; /* final, stored */
	z[k++] = (uint8_t)n;
	z[k++] = 0;
	z[k++] = (uint8_t)~n;
	z[k++] = 0xff;
	memcpy(z + k, text, n);
	k += n;
	z[k++] = (uint8_t)(a >> 24);
	z[k++] = (uint8_t)(a >> 16);
	z[k++] = (uint8_t)(a >> 8);
	z[k++] = (uint8_t)a;
	buf_init(&out, MEM_TEST, SIZE_MAX);
	rc = gzip_inflate(z, k, NULL, &out, &d);
	bool ok = rc == 0 && out.len == n && memcmp(out.data, text, n) == 0;
	buf_fini(&out);
	CHECK_MSG(ok, "rc %d: %s", rc, d.msg);
}

/* Inflate `z` under `lim` into a buffer that already holds "keep"; expect err and a message
 * containing `want`, with the buffer left as it was. Returns a failure reason or NULL. */
static const char *expect_fail(const void *z, size_t n, const struct gzip_limits *lim, int err,
			       const char *want, const char *want2)
{
	static char why[600];
	struct ember_diag d = {{0}};
	struct buf out;
	int rc;

	buf_init(&out, MEM_TEST, SIZE_MAX);
	if (buf_append(&out, "keep", 4) != 0) {
		buf_fini(&out);
		return "buf_append";
	}
	rc = gzip_inflate(z, n, lim, &out, &d);
	why[0] = 0;
	if (rc != err)
		snprintf(why, sizeof(why), "rc %d, want %d (%s)", rc, err, d.msg);
	else if (!contains(d.msg, want) || (want2 && !contains(d.msg, want2)))
		snprintf(why, sizeof(why), "message \"%s\" lacks \"%s\" / \"%s\"", d.msg, want,
			 want2 ? want2 : "");
	else if (out.len != 4 || memcmp(out.data, "keep", 4) != 0)
		snprintf(why, sizeof(why), "output changed to %zu bytes on error", out.len);
	buf_fini(&out);
	return why[0] ? why : NULL;
}

TEST(gzip_bomb_ratio_and_max_out)
{
	size_t n = 8u << 20;
	uint8_t *zeros = mem_calloc(MEM_TEST, 1, n);
	struct gzip_limits ratio = {0, 100}, small = {1000, 0}, roomy = {n, 10000};
	const char *why1, *why2, *why3 = NULL;
	struct buf z, out;
	struct ember_diag d = {{0}};

	buf_init(&z, MEM_TEST, SIZE_MAX);
	buf_init(&out, MEM_TEST, SIZE_MAX);
	CHECK_OK(gzip_deflate(zeros, n, 9, &z));
	mem_free(zeros);
	/* 8 MiB of zeros compress ~1000:1, past a ratio of 100 */
	why1 = expect_fail(z.data, z.len, &ratio, -EMBER_ELIMIT, "limit", "gzip bomb");
	why2 = expect_fail(z.data, z.len, &small, -EMBER_ELIMIT, "limit of 1000 bytes", NULL);
	if (gzip_inflate(z.data, z.len, &roomy, &out, &d) != 0 || out.len != n)
		why3 = d.msg;
	buf_fini(&z);
	buf_fini(&out);
	CHECK_MSG(!why1, "ratio: %s", why1);
	CHECK_MSG(!why2, "max_out: %s", why2);
	CHECK_MSG(!why3, "within limits: %s", why3);
}

TEST(gzip_bad_input_messages)
{
	uint8_t src[3000];
	char where[64];
	const char *why[6];
	struct buf z;
	size_t len;

	fill(src, sizeof(src), true, 7);
	buf_init(&z, MEM_TEST, SIZE_MAX);
	CHECK_OK(gzip_deflate(src, sizeof(src), 6, &z));
	len = z.len;
	why[0] = expect_fail(z.data, 0, NULL, -EMBER_EFORMAT, "empty", NULL);
	snprintf(where, sizeof(where), "byte %zu", len - 5);
	why[1] = expect_fail(z.data, len - 5, NULL, -EMBER_EFORMAT, "truncated", where);
	why[2] = expect_fail(z.data, 5, NULL, -EMBER_EFORMAT, "truncated", "byte 5");
	/* garbage after a complete member */
	CHECK_OK(buf_append(&z, "junk", 4));
	snprintf(where, sizeof(where), "byte %zu", len);
	why[3] = expect_fail(z.data, z.len, NULL, -EMBER_EFORMAT, "trailing garbage", where);
	/* a broken CRC */
	z.data[len - 6] ^= 0x55;
	why[4] = expect_fail(z.data, len, NULL, -EMBER_EFORMAT, "corrupt", "byte");
	z.data[len - 6] ^= 0x55;
	/* a broken header (compression method 7) */
	z.data[2] = 7;
	why[5] = expect_fail(z.data, len, NULL, -EMBER_EFORMAT, "corrupt", "byte");
	buf_fini(&z);
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(why); i++)
		CHECK_MSG(!why[i], "case %zu: %s", i, why[i]);
}

TEST(gzip_output_buffer_bound)
{
	uint8_t src[5000];
	struct ember_diag d = {{0}};
	struct buf z, out;
	int rc1, rc2;

	fill(src, sizeof(src), true, 3);
	buf_init(&z, MEM_TEST, SIZE_MAX);
	CHECK_OK(gzip_deflate(src, sizeof(src), 1, &z));
	buf_init(&out, MEM_TEST, 4000);
	rc1 = gzip_inflate(z.data, z.len, NULL, &out, &d);
	bool empty = out.len == 0;
	buf_fini(&out);
	/* deflating into a buffer too small for the result fails cleanly too */
	buf_init(&out, MEM_TEST, 10);
	rc2 = gzip_deflate(src, sizeof(src), 1, &out);
	empty = empty && out.len == 0;
	buf_fini(&out);
	buf_fini(&z);
	CHECK_EQ_INT(rc1, -EMBER_ELIMIT);
	CHECK_MSG(contains(d.msg, "buffer limit"), "%s", d.msg);
	CHECK_EQ_INT(rc2, -EMBER_ELIMIT);
	CHECK(empty);
}

TEST(gzip_deflate_fits_a_limit_below_the_worst_case)
{
	static uint8_t zeros[100000];
	struct ember_diag d = {{0}};
	struct buf z, back;
	int rc;

	/* the worst case is past 100 KB, the output about 100 bytes */
	buf_init(&z, MEM_TEST, 2000);
	buf_init(&back, MEM_TEST, SIZE_MAX);
	rc = gzip_deflate(zeros, sizeof(zeros), 1, &z);
	if (rc == 0)
		rc = gzip_inflate(z.data, z.len, NULL, &back, &d);
	bool ok = rc == 0 && z.len < 2000 && back.len == sizeof(zeros) &&
		  memcmp(back.data, zeros, sizeof(zeros)) == 0;
	buf_fini(&z);
	buf_fini(&back);
	CHECK_MSG(ok, "rc %d %s", rc, d.msg);
}

TEST(gzip_alloc_failure)
{
	uint8_t src[20000];
	int n_fail_in = 0, n_fail_out = 0;
	struct buf z;

	fill(src, sizeof(src), true, 11);
	buf_init(&z, MEM_TEST, SIZE_MAX);
	CHECK_OK(gzip_deflate(src, sizeof(src), 1, &z));
	for (uint64_t k = 1; k < 40; k++) {
		struct ember_diag d = {{0}};
		struct buf out;
		int rc;

		buf_init(&out, MEM_TEST, SIZE_MAX);
		mem_fail_after(k);
		rc = gzip_inflate(z.data, z.len, NULL, &out, &d);
		mem_fail_after(0);
		bool ok = rc == 0 ? out.len == sizeof(src) && memcmp(out.data, src, out.len) == 0
				  : rc == -ENOMEM && out.len == 0;
		n_fail_in += rc != 0;
		buf_fini(&out);
		if (!ok)
			buf_fini(&z);
		CHECK_MSG(ok, "inflate with failure at %" PRIu64 ": rc %d (%s)", k, rc, d.msg);

		buf_init(&out, MEM_TEST, SIZE_MAX);
		mem_fail_after(k);
		rc = gzip_deflate(src, sizeof(src), 1, &out);
		mem_fail_after(0);
		ok = rc == 0 || (rc == -ENOMEM && out.len == 0);
		n_fail_out += rc != 0;
		buf_fini(&out);
		if (!ok)
			buf_fini(&z);
		CHECK_MSG(ok, "deflate with failure at %" PRIu64 ": rc %d", k, rc);
	}
	buf_fini(&z);
	/* libdeflate's fast paths allocate the output once each way (their own state is not
	 * counted by mem_*) */
	CHECK(n_fail_in >= 1);
	CHECK(n_fail_out >= 1);
}
