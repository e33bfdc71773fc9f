/*
 * gzip.c — gzip/zlib inflation with bomb protection, and gzip deflation, over libdeflate and zlib.
 *
 * Owns nothing past a call: each call sets up and tears down its own z_stream, whose memory
 * comes from mem_try_* (so allocation failures are injectable and surface as -ENOMEM).
 * Inflation accepts gzip or zlib framing and concatenated gzip members, and stops with
 * -EMBER_ELIMIT as soon as the output passes max_out or max_ratio × the compressed size; it must
 * never grow the output past that bound nor leave partial output behind on error (out is
 * restored to its length on entry).
 *
 * Fast path: a gzip input whose trailer (ISIZE) announces a size within the limits is first
 * inflated in one call by libdeflate (several times faster than zlib) into exactly that room;
 * anything else — several members, a wrong ISIZE, corrupt data, a bomb — falls back to the zlib
 * loop, which produces the precise diagnostics. Deflation is libdeflate's alone (about three
 * times zlib's speed at level 1, with smaller output), in one call into room for its worst case.
 * libdeflate's state is allocated per call with its own allocator (not counted by mem_*).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <libdeflate.h>
#include <zlib.h>

#include "base/mem.h"
#include "format/gzip.h"

#define GZIP_DEFAULT_MAX_OUT   ((size_t)512 << 20)
#define GZIP_DEFAULT_MAX_RATIO 1000u
/* First output reservation, and the largest single growth step. */
#define GZIP_MIN_CHUNK ((size_t)16 << 10)
#define GZIP_MAX_CHUNK ((size_t)64 << 20)

static voidpf gz_alloc(voidpf opaque, uInt items, uInt size)
{
	(void)opaque;
	if (size != 0 && items > SIZE_MAX / size)
		return Z_NULL;
	return mem_try_alloc(MEM_FORMAT, (size_t)items * size);
}

static void gz_free(voidpf opaque, voidpf p)
{
	(void)opaque;
	mem_free(p);
}

bool gzip_is(const void *data, size_t len)
{
	const uint8_t *p = data;

	return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

/* Restore out to len bytes, keeping the buffer's NUL-termination invariant. */
static void buf_truncate(struct buf *out, size_t len)
{
	out->len = len;
	if (out->data && len < out->cap)
		out->data[len] = 0;
}

/* Bytes we may write past out->len, keeping the byte buf keeps for its terminating NUL. */
static size_t free_room(const struct buf *out)
{
	return out->cap > out->len ? out->cap - out->len - 1 : 0;
}

/* Reserve up to n more bytes in out, fewer when its bound is closer; -EMBER_ELIMIT at the bound. */
static int out_grow(struct buf *out, size_t n)
{
	size_t allowed = out->max > out->len ? out->max - out->len : 0;

	n = EMBER_MIN(n, allowed);
	if (n == 0)
		return -EMBER_ELIMIT;
	return buf_reserve(out, n);
}

/* Give the stream all of the free room in out (at least one byte), growing out when it is full.
 * `want` is how many more bytes we may still accept (limit + 1 - produced). */
static int out_room(z_stream *zs, struct buf *out, size_t produced, size_t in_len, size_t want)
{
	size_t room = free_room(out);

	if (room == 0) {
		size_t grow = produced ? produced : in_len * 4;
		int rc;

		grow = EMBER_MAX(grow, GZIP_MIN_CHUNK);
		grow = EMBER_MIN(grow, GZIP_MAX_CHUNK);
		rc = out_grow(out, EMBER_MIN(grow, want));
		if (rc)
			return rc;
		room = free_room(out);
	}
	room = EMBER_MIN(room, want);
	zs->next_out = out->data + out->len;
	zs->avail_out = (uInt)EMBER_MIN(room, (size_t)UINT_MAX);
	return 0;
}

/* 1 when done, 0 to fall back to zlib, or a negative error (-ENOMEM). */
static int inflate_fast(const uint8_t *in, size_t len, size_t limit, struct buf *out)
{
	struct libdeflate_decompressor *dec;
	enum libdeflate_result r;
	size_t isize, got = 0;
	int rc;

	if (len < 18 || !gzip_is(in, len))
		return 0;
	isize = (size_t)in[len - 4] | (size_t)in[len - 3] << 8 | (size_t)in[len - 2] << 16 |
		(size_t)in[len - 1] << 24;
	if (isize > limit || isize == 0)
		return 0;
	rc = buf_reserve(out, isize);
	if (rc)
		return rc == -EMBER_ELIMIT ? 0 : rc;
	dec = libdeflate_alloc_decompressor();
	if (!dec)
		return -ENOMEM;
	r = libdeflate_gzip_decompress(dec, in, len, out->data + out->len, isize, &got);
	libdeflate_free_decompressor(dec);
	if (r != LIBDEFLATE_SUCCESS || got != isize)
		return 0;
	out->len += got;
	out->data[out->len] = 0;
	return 1;
}

int gzip_inflate(const void *data, size_t len, const struct gzip_limits *lim, struct buf *out,
		 struct ember_diag *d)
{
	static const uint8_t empty[1];
	const uint8_t *in = data ? data : empty, *in_end = in + len;
	size_t max_out = lim && lim->max_out ? lim->max_out : GZIP_DEFAULT_MAX_OUT;
	uint32_t ratio = lim && lim->max_ratio ? lim->max_ratio : GZIP_DEFAULT_MAX_RATIO;
	size_t limit, start = out->len, produced = 0;
	unsigned members = 0;
	z_stream zs;
	int rc = 0, zrc;

	limit = len > SIZE_MAX / ratio ? SIZE_MAX : len * ratio;
	limit = EMBER_MIN(limit, max_out);
	if (limit == SIZE_MAX)
		limit--;
	if (len == 0)
		return ember_diag_set(d, -EMBER_EFORMAT, "gzip: empty input");
	rc = inflate_fast(in, len, limit, out);
	if (rc == 1)
		return 0;
	if (rc < 0)
		return ember_diag_set(d, rc, "gzip: out of memory inflating %zu bytes", len);

	memset(&zs, 0, sizeof(zs));
	zs.zalloc = gz_alloc;
	zs.zfree = gz_free;
	/* 15 + 32: a 32 KiB window, gzip or zlib header detected automatically. */
	zrc = inflateInit2(&zs, 15 + 32);
	if (zrc != Z_OK)
		return ember_diag_set(d, zrc == Z_MEM_ERROR ? -ENOMEM : -EINVAL,
				      "gzip: cannot set up inflation (zlib error %d)", zrc);
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = 0;

	for (;;) {
		size_t before, got;

		if (zs.avail_in == 0 && zs.next_in < in_end) {
			size_t left = (size_t)(in_end - zs.next_in);

			zs.avail_in = (uInt)EMBER_MIN(left, (size_t)UINT_MAX);
		}
		rc = out_room(&zs, out, produced, len, limit + 1 - produced);
		if (rc == -EMBER_ELIMIT) {
			rc = ember_diag_set(d, rc,
					    "gzip: output exceeds the buffer limit of %zu bytes at "
					    "compressed byte %zu",
					    out->max, (size_t)(zs.next_in - in));
			break;
		}
		if (rc)
			break;
		before = zs.avail_out;
		zrc = inflate(&zs, Z_NO_FLUSH);
		got = before - zs.avail_out;
		out->len += got;
		produced += got;
		if (produced > limit) {
			rc = ember_diag_set(
				d, -EMBER_ELIMIT,
				"gzip: inflated size passes the limit of %zu bytes "
				"(max_out %zu, ratio %u x %zu compressed bytes) at compressed "
				"byte %zu; refusing a possible gzip bomb",
				limit, max_out, ratio, len, (size_t)(zs.next_in - in));
			break;
		}
		if (zrc == Z_STREAM_END) {
			const uint8_t *next = zs.next_in;

			members++;
			if (next == in_end)
				break;
			if (!gzip_is(next, (size_t)(in_end - next))) {
				rc = ember_diag_set(
					d, -EMBER_EFORMAT,
					"gzip: %zu bytes of trailing garbage after member %u "
					"at compressed byte %zu",
					(size_t)(in_end - next), members, (size_t)(next - in));
				break;
			}
			zrc = inflateReset(&zs);
			if (zrc != Z_OK) {
				rc = -EINVAL;
				break;
			}
			continue;
		}
		if (zrc == Z_OK)
			continue;
		if (zrc == Z_BUF_ERROR) {
			if (zs.avail_in == 0 && zs.next_in == in_end) {
				rc = ember_diag_set(
					d, -EMBER_EFORMAT,
					"gzip: truncated stream: input ends at compressed "
					"byte %zu inside member %u",
					len, members + 1);
				break;
			}
			continue; /* no room: out_room grows out next round */
		}
		if (zrc == Z_MEM_ERROR) {
			rc = ember_diag_set(d, -ENOMEM, "gzip: out of memory inflating member %u",
					    members + 1);
			break;
		}
		rc = ember_diag_set(d, -EMBER_EFORMAT,
				    "gzip: corrupt data in member %u at compressed byte %zu: %s",
				    members + 1, (size_t)(zs.next_in - in),
				    zs.msg ? zs.msg : "invalid stream");
		break;
	}
	inflateEnd(&zs);
	if (rc)
		buf_truncate(out, start);
	else
		buf_truncate(out, out->len);
	return rc;
}

int gzip_deflate(const void *data, size_t len, int level, struct buf *out)
{
	struct libdeflate_compressor *z;
	size_t got = 0;
	int rc;

	if (level < 1 || level > 9)
		return -EINVAL;
	z = libdeflate_alloc_compressor(level);
	if (!z)
		return -ENOMEM;
	/* room for the worst case, or as much as out's limit allows (which may still do) */
	rc = out_grow(out, libdeflate_gzip_compress_bound(z, len));
	if (rc == 0)
		got = libdeflate_gzip_compress(z, data, len, out->data + out->len, free_room(out));
	libdeflate_free_compressor(z);
	if (rc)
		return rc;
	if (got == 0)
		return -EMBER_ELIMIT;
	out->len += got;
	out->data[out->len] = 0;
	return 0;
}
