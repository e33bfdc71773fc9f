/*
 * codec.c — the store's byte-level building blocks: CRC-32C, varints with a sticky error, zstd
 * framing, and the "prof codec" that serializes a struct prof (WAL records, block symbol
 * sections). Decoding treats every byte as hostile: counts are bounded by the bytes left and
 * every id is checked against its table before it reaches the prof_* API (which trusts ids).
 * Owns nothing beyond the call; never logs.
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
	got = ZSTD_compress(w->b->data + w->b->len, bound, p, n, 3);
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

/* The prof codec (docs/internals/storage.md, "Profile encoding"). */

void store_prof_encode(struct store_wr *w, const struct prof *p, bool with_samples)
{
	const struct prof_meta *m = prof_meta_get(p);
	uint32_t ns = prof_n_strings(p), nn = prof_n_nodes(p);
	size_t nt = prof_n_sample_types(p);

	store_wr_uv(w, ns);
	for (uint32_t i = 0; i < ns; i++) {
		size_t len = prof_string_len(p, i);

		store_wr_uv(w, len);
		store_wr_bytes(w, prof_string(p, i), len);
	}
	store_wr_uv(w, nt);
	for (size_t i = 0; i < nt; i++) {
		store_wr_uv(w, prof_sample_types(p)[i].type);
		store_wr_uv(w, prof_sample_types(p)[i].unit);
	}
	store_wr_uv(w, m->period_type.type);
	store_wr_uv(w, m->period_type.unit);
	store_wr_sv(w, m->period);
	store_wr_sv(w, m->time_ns);
	store_wr_sv(w, m->duration_ns);
	store_wr_uv(w, m->drop_frames);
	store_wr_uv(w, m->keep_frames);
	store_wr_uv(w, m->default_sample_type);
	store_wr_uv(w, m->doc_url);
	store_wr_uv(w, prof_n_mappings(p));
	for (uint32_t i = 1; i <= prof_n_mappings(p); i++) {
		const struct prof_mapping *mp = prof_mapping_get(p, i);

		store_wr_uv(w, mp->memory_start);
		store_wr_uv(w, mp->memory_limit);
		store_wr_uv(w, mp->file_offset);
		store_wr_uv(w, mp->filename);
		store_wr_uv(w, mp->build_id);
		store_wr_uv(w, (uint64_t)(mp->has_functions | mp->has_filenames << 1 |
					  mp->has_line_numbers << 2 | mp->has_inline_frames << 3));
	}
	store_wr_uv(w, prof_n_functions(p));
	for (uint32_t i = 1; i <= prof_n_functions(p); i++) {
		const struct prof_function *f = prof_function_get(p, i);

		store_wr_uv(w, f->name);
		store_wr_uv(w, f->system_name);
		store_wr_uv(w, f->filename);
		store_wr_sv(w, f->start_line);
	}
	store_wr_uv(w, prof_n_locations(p));
	for (uint32_t i = 1; i <= prof_n_locations(p); i++) {
		struct prof_location l;

		prof_location_get(p, i, &l);
		store_wr_uv(w, l.mapping);
		store_wr_uv(w, l.address);
		store_wr_uv(w, l.is_folded);
		store_wr_uv(w, l.n_lines);
		for (uint32_t k = 0; k < l.n_lines; k++) {
			store_wr_uv(w, l.lines[k].function);
			store_wr_sv(w, l.lines[k].line);
			store_wr_sv(w, l.lines[k].column);
		}
	}
	store_wr_uv(w, nn - 1);
	for (uint32_t i = 1; i < nn; i++) {
		store_wr_uv(w, i - prof_node_parent(p, i)); /* >= 1: parents come first */
		store_wr_uv(w, prof_node_location(p, i));
	}
	if (!with_samples) {
		store_wr_uv(w, 0);
		store_wr_uv(w, 0);
		return;
	}
	store_wr_uv(w, prof_n_labelsets(p) - 1);
	for (uint32_t i = 1; i < prof_n_labelsets(p); i++) {
		size_t n;
		const struct prof_label *l = prof_labelset_get(p, i, &n);

		store_wr_uv(w, n);
		for (size_t k = 0; k < n; k++) {
			store_wr_uv(w, l[k].key);
			store_wr_uv(w, l[k].str);
			store_wr_sv(w, l[k].num);
			store_wr_uv(w, l[k].num_unit);
		}
	}
	store_wr_uv(w, prof_n_samples(p));
	for (size_t i = 0; i < prof_n_samples(p); i++) {
		struct prof_sample s;

		prof_sample_get(p, i, &s);
		store_wr_uv(w, s.node);
		store_wr_uv(w, s.labelset);
		for (size_t k = 0; k < nt; k++)
			store_wr_sv(w, s.values[k]);
	}
}

#define BAD(r)                              \
	do {                                \
		(r)->err = -EMBER_ECORRUPT; \
		goto out;                   \
	} while (0)

static uint32_t rd_id(struct store_rd *r, uint64_t limit_incl)
{
	uint64_t v = store_rd_uv(r);

	if (v > limit_incl) {
		r->err = -EMBER_ECORRUPT;
		return 0;
	}
	return (uint32_t)v;
}

int store_prof_decode(struct store_rd *r, struct prof **out)
{
	struct prof *p = prof_new();
	struct prof_line *lines = NULL;
	int64_t *vals = NULL;
	uint64_t n, ns, nt;

	*out = NULL;
	ns = store_rd_count(r, 1, UINT32_MAX - 1);
	if (ns == 0)
		BAD(r);
	for (uint64_t i = 0; i < ns && !r->err; i++) {
		uint64_t len = store_rd_count(r, 1, UINT32_MAX);
		const uint8_t *s = store_rd_bytes(r, (size_t)len);

		if (r->err)
			goto out;
		if (prof_intern(p, s, (size_t)len) != i)
			BAD(r); /* duplicate string, or string 0 not empty */
	}
	nt = store_rd_count(r, 2, 64);
	for (uint64_t i = 0; i < nt && !r->err; i++) {
		uint32_t t = rd_id(r, ns - 1), u = rd_id(r, ns - 1);

		prof_add_sample_type(p, t, u);
	}
	{
		struct prof_meta *m = prof_meta(p);

		m->period_type.type = rd_id(r, ns - 1);
		m->period_type.unit = rd_id(r, ns - 1);
		m->period = store_rd_sv(r);
		m->time_ns = store_rd_sv(r);
		m->duration_ns = store_rd_sv(r);
		m->drop_frames = rd_id(r, ns - 1);
		m->keep_frames = rd_id(r, ns - 1);
		m->default_sample_type = rd_id(r, ns - 1);
		m->doc_url = rd_id(r, ns - 1);
	}
	n = store_rd_count(r, 6, UINT32_MAX - 1);
	for (uint64_t i = 0; i < n && !r->err; i++) {
		struct prof_mapping mp = {0};
		uint64_t fl;

		mp.memory_start = store_rd_uv(r);
		mp.memory_limit = store_rd_uv(r);
		mp.file_offset = store_rd_uv(r);
		mp.filename = rd_id(r, ns - 1);
		mp.build_id = rd_id(r, ns - 1);
		fl = store_rd_uv(r);
		mp.has_functions = fl & 1;
		mp.has_filenames = fl >> 1 & 1;
		mp.has_line_numbers = fl >> 2 & 1;
		mp.has_inline_frames = fl >> 3 & 1;
		if (!r->err && (fl > 15 || prof_add_mapping(p, &mp) != i + 1))
			BAD(r);
	}
	n = store_rd_count(r, 4, UINT32_MAX - 1);
	for (uint64_t i = 0; i < n && !r->err; i++) {
		struct prof_function f = {0};

		f.name = rd_id(r, ns - 1);
		f.system_name = rd_id(r, ns - 1);
		f.filename = rd_id(r, ns - 1);
		f.start_line = store_rd_sv(r);
		if (!r->err && prof_add_function(p, &f) != i + 1)
			BAD(r);
	}
	n = store_rd_count(r, 4, UINT32_MAX - 1);
	for (uint64_t i = 0; i < n && !r->err; i++) {
		uint32_t mapping = rd_id(r, prof_n_mappings(p));
		uint64_t addr = store_rd_uv(r), folded = store_rd_uv(r);
		uint64_t nl = store_rd_count(r, 3, 4096);

		if (r->err || folded > 1)
			BAD(r);
		lines = mem_realloc(MEM_STORE, lines, (nl ? nl : 1) * sizeof(*lines));
		for (uint64_t k = 0; k < nl; k++) {
			lines[k].function = rd_id(r, prof_n_functions(p));
			lines[k].line = store_rd_sv(r);
			lines[k].column = store_rd_sv(r);
		}
		if (r->err)
			goto out;
		if (prof_add_location(p, mapping, addr, lines, (uint32_t)nl, folded) != i + 1)
			BAD(r);
	}
	n = store_rd_count(r, 2, UINT32_MAX - 2);
	for (uint64_t i = 1; i <= n && !r->err; i++) {
		uint64_t back = store_rd_uv(r);
		uint32_t loc = rd_id(r, prof_n_locations(p));

		if (r->err || back == 0 || back > i)
			BAD(r);
		if (prof_node_child(p, (uint32_t)(i - back), loc) != i)
			BAD(r);
	}
	n = store_rd_count(r, 1, UINT32_MAX - 1);
	for (uint64_t i = 1; i <= n && !r->err; i++) {
		uint64_t nl = store_rd_count(r, 4, 4096);
		struct prof_label *lb = mem_calloc(MEM_STORE, nl ? nl : 1, sizeof(*lb));

		for (uint64_t k = 0; k < nl; k++) {
			lb[k].key = rd_id(r, ns - 1);
			lb[k].str = rd_id(r, ns - 1);
			lb[k].num = store_rd_sv(r);
			lb[k].num_unit = rd_id(r, ns - 1);
		}
		if (!r->err && (nl == 0 || prof_add_labelset(p, lb, nl) != i))
			r->err = -EMBER_ECORRUPT;
		mem_free(lb);
	}
	n = store_rd_count(r, 2 + nt, SIZE_MAX);
	vals = mem_calloc(MEM_STORE, nt ? nt : 1, sizeof(*vals));
	for (uint64_t i = 0; i < n && !r->err; i++) {
		uint32_t node = rd_id(r, prof_n_nodes(p) - 1);
		uint32_t ls = rd_id(r, prof_n_labelsets(p) - 1);

		for (uint64_t k = 0; k < nt; k++)
			vals[k] = store_rd_sv(r);
		if (!r->err)
			prof_add_sample(p, node, ls, vals);
	}
out:
	mem_free(lines);
	mem_free(vals);
	if (r->err) {
		prof_free(p);
		return r->err;
	}
	*out = p;
	return 0;
}
