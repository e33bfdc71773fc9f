/*
 * codec.c — the store's byte-level building blocks: CRC-32C, varints with a sticky error and
 * zstd framing (the profile encoding built on them is pcodec.c). Decoding treats every byte as
 * hostile: counts are bounded by the bytes left. Owns nothing beyond the call; never logs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/wire.h"
#include "store/store_int.h"

/* CRC-32C: the SSE4.2 instruction when the CPU has it, else slicing by 8 over tables built
 * once (pthread_once). */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static bool crc_hw;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
					  crc_table[0][crc_table[t - 1][i] & 0xff];
#if defined(__x86_64__) && !defined(STORE_CRC_NO_HW)
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
#endif
}

#if defined(__x86_64__) && !defined(STORE_CRC_NO_HW)
__attribute__((target("sse4.2"))) static uint32_t crc_sse42(uint32_t crc, const uint8_t *b,
							    size_t n)
{
	uint64_t c = crc;

	while (n >= 8) {
		uint64_t v;

		memcpy(&v, b, 8);
		c = __builtin_ia32_crc32di(c, v);
		b += 8;
		n -= 8;
	}
	while (n--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *b++);
	return (uint32_t)c;
}
#endif

uint32_t store_crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
#if defined(__x86_64__) && !defined(STORE_CRC_NO_HW)
	if (crc_hw)
		return ~crc_sse42(crc, b, n);
#endif
	while (n >= 8) {
		uint32_t lo = crc ^ store_get_u32le(b), hi = store_get_u32le(b + 4);

		crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		      crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		      crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
		b += 8;
		n -= 8;
	}
	while (n--)
		crc = crc_table[0][(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* Readers. */

void store_rd_init(struct store_rd *r, const void *p, size_t n)
{
	r->p = p;
	r->base = p;
	r->end = r->p + n;
	r->err = 0;
}

uint64_t store_rd_uv(struct store_rd *r)
{
	uint64_t v = 0;

	if (r->err)
		return 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		if (r->p >= r->end)
			break;
		b = *r->p++;
		if (shift == 63 && b > 1)
			break;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->err = -EMBER_ECORRUPT;
	return 0;
}

int64_t store_rd_sv(struct store_rd *r)
{
	uint64_t u = store_rd_uv(r);

	return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

uint64_t store_rd_count(struct store_rd *r, size_t min_item_bytes, uint64_t max)
{
	uint64_t n = store_rd_uv(r);
	size_t left = (size_t)(r->end - r->p);

	if (r->err)
		return 0;
	if (n > max || (min_item_bytes && n > left / min_item_bytes)) {
		r->err = -EMBER_ECORRUPT;
		return 0;
	}
	return n;
}

const uint8_t *store_rd_bytes(struct store_rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->err)
		return NULL;
	if ((size_t)(r->end - r->p) < n) {
		r->err = -EMBER_ECORRUPT;
		return NULL;
	}
	r->p += n;
	return p;
}

/* Writers. */

void store_wr_uv_slow(struct store_wr *w, uint64_t v)
{
	struct buf *b = w->b;

	if (w->err)
		return;
	if ((b->cap - b->len < 12 || b->max - b->len < 11) && (w->err = buf_reserve(b, 11)) != 0)
		return;
	store_wr_uv(w, v);
}

void store_wr_bytes(struct store_wr *w, const void *p, size_t n)
{
	if (!w->err && n)
		w->err = buf_append(w->b, p, n);
}

void store_put_u32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void store_put_u64le(uint8_t *p, uint64_t v)
{
	store_put_u32le(p, (uint32_t)v);
	store_put_u32le(p + 4, (uint32_t)(v >> 32));
}

void store_wr_u32le(struct store_wr *w, uint32_t v)
{
	uint8_t b[4];

	store_put_u32le(b, v);
	store_wr_bytes(w, b, 4);
}

void store_wr_u64le(struct store_wr *w, uint64_t v)
{
	uint8_t b[8];

	store_put_u64le(b, v);
	store_wr_bytes(w, b, 8);
}

/* zstd. */

void store_zstd_put(struct store_wr *w, const void *p, size_t n)
{
	size_t bound = ZSTD_compressBound(n), got;

	if (w->err)
		return;
	w->err = buf_reserve(w->b, bound);
	if (w->err)
		return;
	/* level 9: blocks are written in the background (cuts, compactions), and against level 3
	 * it saves 3.6% of the bytes at rest for 1.7x the cut and compaction time (bench_store) */
	got = ZSTD_compress(w->b->data + w->b->len, bound, p, n, 9);
	if (ZSTD_isError(got)) {
		w->err = -EIO;
		return;
	}
	w->b->len += got;
}

/* One decompression context per thread, created on first use and freed at thread exit (a
 * context costs more to set up than decompressing a small chunk). */
static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;

static void dctx_free(void *p)
{
	ZSTD_freeDCtx(p);
}

static void dctx_init(void)
{
	(void)pthread_key_create(&dctx_key, dctx_free);
}

static ZSTD_DCtx *dctx_get(void)
{
	ZSTD_DCtx *c;

	pthread_once(&dctx_once, dctx_init);
	c = pthread_getspecific(dctx_key);
	if (!c) {
		c = ZSTD_createDCtx();
		if (!c) {
			fprintf(stderr, "store: out of memory for a zstd context\n");
			abort();
		}
		(void)pthread_setspecific(dctx_key, c);
	}
	return c;
}

int store_zstd_get(const uint8_t *p, size_t n, size_t max_raw, uint8_t **out, size_t *out_len)
{
	unsigned long long sz = ZSTD_getFrameContentSize(p, n);
	uint8_t *dst;
	size_t got;

	*out = NULL;
	*out_len = 0;
	/* a declared size is believed only up to a compression ratio no real section reaches */
	if (sz == ZSTD_CONTENTSIZE_ERROR || sz == ZSTD_CONTENTSIZE_UNKNOWN || sz > max_raw ||
	    sz > (unsigned long long)n * STORE_ZSTD_MAX_RATIO + (64u << 10))
		return -EMBER_ECORRUPT;
	dst = mem_try_alloc(MEM_STORE, sz ? (size_t)sz : 1);
	if (!dst)
		return -ENOMEM;
	got = ZSTD_decompressDCtx(dctx_get(), dst, (size_t)sz, p, n);
	if (ZSTD_isError(got) || got != sz) {
		mem_free(dst);
		return -EMBER_ECORRUPT;
	}
	*out = dst;
	*out_len = got;
	return 0;
}
