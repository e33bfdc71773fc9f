/*
 * sdata.c — a tenant's data in one place (head or block): the series table keyed by label
 * pairs, the postings (name=value -> ascending series ids), and the columnar sample chunks of
 * a series with their encoding (delta-of-delta timestamps, varints; zstd is applied by the
 * block writer). Owns what struct store_sdata points to, except block chunks (borrowed from the
 * block's mapping). Never logs; chunk decoding treats its input as hostile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/mem.h"
#include "store/store_int.h"

/* A random seed for a head's path hashes, so that no input can aim at a collision. */
static uint64_t stack_seed(void)
{
	uint64_t x = 0;

	if (getrandom(&x, sizeof(x), 0) != sizeof(x)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = hash_u64((uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^ (uintptr_t)&x);
	}
	return x;
}

void store_sdata_init(struct store_sdata *sd, const char *tenant)
{
	memset(sd, 0, sizeof(*sd));
	snprintf(sd->tenant, sizeof(sd->tenant), "%s", tenant);
	sd->dict = prof_new();
	sd->series_keys = strtab_new(MEM_STORE);
	hmap_init(&sd->posting_index, MEM_STORE);
	hmap_init(&sd->stacks, MEM_STORE);
	sd->stack_seed = stack_seed();
	sd->min_t = INT64_MAX;
	sd->max_t = INT64_MIN;
}

void store_cols_fini(struct store_cols *c)
{
	mem_free(c->ts);
	mem_free(c->dur);
	mem_free(c->period);
	mem_free(c->total);
	mem_free(c->n_smp);
	mem_free(c->nodes);
	mem_free(c->values);
	mem_free(c->spans);
	mem_free(c->enc);
	memset(c, 0, sizeof(*c));
}

void store_sdata_fini(struct store_sdata *sd)
{
	store_sspace_release(sd);
	if (sd->xcache)
		sd->xcache_free(sd->xcache);
	prof_free(sd->dict);
	strtab_free(sd->series_keys);
	for (uint32_t i = 0; i < sd->n_series; i++) {
		mem_free(sd->series[i].labels);
		store_cols_fini(&sd->series[i].cols);
	}
	mem_free(sd->series);
	for (uint32_t i = 0; i < sd->n_postings; i++)
		mem_free(sd->postings[i].ids);
	mem_free(sd->postings);
	hmap_fini(&sd->posting_index);
	hmap_fini(&sd->stacks);
	memset(sd, 0, sizeof(*sd));
}

bool store_sdata_find_series(const struct store_sdata *sd, const uint32_t *pairs, uint32_t n_labels,
			     uint32_t *id)
{
	uint32_t k;

	if (!strtab_find(sd->series_keys, pairs, (size_t)n_labels * 8, &k) || k == 0)
		return false;
	*id = k - 1;
	return true;
}

uint32_t store_sdata_series(struct store_sdata *sd, const uint32_t *pairs, uint32_t n_labels)
{
	uint32_t k = strtab_intern(sd->series_keys, pairs, (size_t)n_labels * 8), id;
	size_t cap = sd->cap_series;

	/* n_labels >= 1 always (__name__), so k >= 1 */
	id = k - 1;
	if (id < sd->n_series)
		return id;
	mem_grow(MEM_STORE, (void **)&sd->series, &cap, (size_t)id + 1, sizeof(*sd->series));
	sd->cap_series = (uint32_t)cap;
	memset(&sd->series[id], 0, sizeof(sd->series[id]));
	sd->series[id].labels = mem_alloc(MEM_STORE, (size_t)n_labels * 8);
	memcpy(sd->series[id].labels, pairs, (size_t)n_labels * 8);
	sd->series[id].n_labels = n_labels;
	sd->series[id].min_t = INT64_MAX;
	sd->series[id].max_t = INT64_MIN;
	sd->n_series = id + 1;
	for (uint32_t i = 0; i < n_labels; i++)
		store_sdata_add_posting(sd, pairs[2 * i], pairs[2 * i + 1], id);
	return id;
}

void store_sdata_add_posting(struct store_sdata *sd, uint32_t name, uint32_t value, uint32_t series)
{
	bool found;
	uint64_t *slot = hmap_upsert(&sd->posting_index, (uint64_t)name << 32 | value,
				     sd->n_postings, &found);
	struct store_posting *pp;

	if (!found) {
		size_t cap = sd->cap_postings;

		mem_grow(MEM_STORE, (void **)&sd->postings, &cap, (size_t)sd->n_postings + 1,
			 sizeof(*sd->postings));
		sd->cap_postings = (uint32_t)cap;
		pp = &sd->postings[sd->n_postings++];
		memset(pp, 0, sizeof(*pp));
		pp->name = name;
		pp->value = value;
	} else {
		pp = &sd->postings[*slot];
	}
	if (pp->n && pp->ids[pp->n - 1] >= series)
		return; /* ids arrive ascending; duplicates ignored */
	{
		size_t cap = pp->cap;

		mem_grow(MEM_STORE, (void **)&pp->ids, &cap, (size_t)pp->n + 1, sizeof(uint32_t));
		pp->cap = (uint32_t)cap;
	}
	pp->ids[pp->n++] = series;
}

const struct store_posting *store_sdata_posting(const struct store_sdata *sd, uint32_t name,
						uint32_t value)
{
	uint64_t i;

	if (!hmap_get(&sd->posting_index, (uint64_t)name << 32 | value, &i))
		return NULL;
	return &sd->postings[i];
}

static inline bool smp_lt(const struct store_smp *x, const struct store_smp *y)
{
	return x->node != y->node ? x->node < y->node : x->span < y->span;
}

static void smp_swap(struct store_smp *a, struct store_smp *b)
{
	struct store_smp t = *a;

	*a = *b;
	*b = t;
}

/* Sorts by (node, span): an inlined quicksort (median of three, the smaller side recursed,
 * insertion sort below 16), several times faster than qsort's callback per comparison on the
 * ingest path. Samples of one profile usually arrive nearly sorted (stack tree order). */
static void smp_sort(struct store_smp *s, size_t n)
{
	while (n > 16) {
		size_t mid = n / 2, i = 0, j = n - 1;
		struct store_smp pivot;

		if (smp_lt(&s[mid], &s[0]))
			smp_swap(&s[mid], &s[0]);
		if (smp_lt(&s[n - 1], &s[0]))
			smp_swap(&s[n - 1], &s[0]);
		if (smp_lt(&s[n - 1], &s[mid]))
			smp_swap(&s[n - 1], &s[mid]);
		pivot = s[mid];
		for (;;) { /* Hoare partition: [0, j] <= pivot <= [j + 1, n) */
			while (smp_lt(&s[i], &pivot))
				i++;
			while (smp_lt(&pivot, &s[j]))
				j--;
			if (i >= j)
				break;
			smp_swap(&s[i++], &s[j--]);
		}
		if (j + 1 < n - j - 1) {
			smp_sort(s, j + 1);
			s += j + 1;
			n -= j + 1;
		} else {
			smp_sort(s + j + 1, n - j - 1);
			n = j + 1;
		}
	}
	for (size_t i = 1; i < n; i++) {
		struct store_smp x = s[i];
		size_t k = i;

		for (; k > 0 && smp_lt(&x, &s[k - 1]); k--)
			s[k] = s[k - 1];
		s[k] = x;
	}
}

void store_smp_sort(struct store_smp *s, size_t n)
{
	bool sorted = true;

	for (size_t i = 1; i < n && sorted; i++)
		sorted = !smp_lt(&s[i], &s[i - 1]);
	if (!sorted)
		smp_sort(s, n);
}

size_t store_smp_merge(struct store_smp *s, size_t n)
{
	size_t o = 0;

	store_smp_sort(s, n);
	for (size_t i = 0; i < n; i++) {
		if (o && s[o - 1].node == s[i].node && s[o - 1].span == s[i].span)
			s[o - 1].value += s[i].value;
		else
			s[o++] = s[i];
	}
	return o;
}

static void enc_uv(uint8_t **p, uint64_t v)
{
	while (v >= 0x80) {
		*(*p)++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*(*p)++ = (uint8_t)v;
}

static uint64_t dec_uv(const uint8_t **p)
{
	uint64_t v = 0;

	for (unsigned shift = 0;; shift += 7) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80) || shift >= 63)
			return v;
	}
}

/* Grows *arr to hold need elements: by a quarter (not doubling) since head columns live for the
 * whole head and their slack is memory per sample. */
static void cols_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap + *cap / 4 + 16;

	if (need <= *cap)
		return;
	if (c < need)
		c = need;
	*arr = mem_realloc(MEM_STORE, *arr, c * elem);
	*cap = c;
}

/* Zig-zag varints of the samples after the flags byte at out[0]; values divided by div when
 * div > 0. Returns the end, or NULL at the first value div does not divide. */
static uint8_t *enc_samples(uint8_t *p, const struct store_smp *s, size_t n, bool spans,
			    int64_t div, int64_t *total)
{
	uint32_t prev = 0;

	*total = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t v = s[i].value;

		if (div) {
			int64_t q = v / div;

			if (q * div != v)
				return NULL;
			v = q;
		}
		enc_uv(&p, s[i].node - prev);
		prev = s[i].node;
		enc_uv(&p, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
		if (spans)
			enc_uv(&p, s[i].span);
		*total += s[i].value;
	}
	return p;
}

size_t store_smp_encode(uint8_t *out, const struct store_smp *s, size_t n, int64_t period,
			int64_t *total)
{
	bool spans = false;
	uint8_t *end = NULL;

	for (size_t i = 0; i < n && !spans; i++)
		spans = s[i].span != 0;
	if (period > 1) /* divided by the period when every value is a multiple of it */
		end = enc_samples(out + 1, s, n, spans, period, total);
	out[0] = (uint8_t)(spans | (end != NULL) << 1);
	if (!end)
		end = enc_samples(out + 1, s, n, spans, 0, total);
	return (size_t)(end - out);
}

/* Room for one profile more in the per-profile columns and len more stream bytes. */
static void cols_room(struct store_cols *c, size_t len)
{
	size_t cap;

	if (c->n_prof == c->cap_prof) {
		cap = c->cap_prof;
		cols_grow((void **)&c->ts, &cap, c->n_prof + 1, 8);
		cap = c->cap_prof;
		cols_grow((void **)&c->dur, &cap, c->n_prof + 1, 8);
		cap = c->cap_prof;
		cols_grow((void **)&c->period, &cap, c->n_prof + 1, 8);
		cap = c->cap_prof;
		cols_grow((void **)&c->total, &cap, c->n_prof + 1, 8);
		cap = c->cap_prof;
		cols_grow((void **)&c->n_smp, &cap, c->n_prof + 1, 4);
		c->cap_prof = cap;
	}
	cols_grow((void **)&c->enc, &c->enc_cap, c->enc_len + len, 1);
}

static void cols_push(struct store_cols *c, int64_t ts, int64_t dur, int64_t period, int64_t total,
		      size_t n)
{
	c->ts[c->n_prof] = ts;
	c->dur[c->n_prof] = dur;
	c->period[c->n_prof] = period;
	c->total[c->n_prof] = total;
	c->n_smp[c->n_prof] = (uint32_t)n;
	c->n_prof++;
	c->n_smp_all += n;
}

void store_cols_add(struct store_cols *c, int64_t ts, int64_t dur, int64_t period,
		    const struct store_smp *s, size_t n)
{
	int64_t total;

	cols_room(c, STORE_SMP_ENC_MAX(n));
	c->enc_len += store_smp_encode(c->enc + c->enc_len, s, n, period, &total);
	cols_push(c, ts, dur, period, total, n);
}

void store_cols_add_stream(struct store_cols *c, int64_t ts, int64_t dur, int64_t period,
			   int64_t total, size_t n, const uint8_t *enc, size_t len)
{
	cols_room(c, len);
	memcpy(c->enc + c->enc_len, enc, len);
	c->enc_len += len;
	cols_push(c, ts, dur, period, total, n);
}

void store_cols_expand(const struct store_cols *in, struct store_cols *out)
{
	size_t np = in->n_prof ? in->n_prof : 1, ns = in->n_smp_all ? in->n_smp_all : 1;
	const uint8_t *p = in->enc;
	uint64_t j = 0;

	memset(out, 0, sizeof(*out));
	out->n_prof = out->cap_prof = in->n_prof;
	out->ts = mem_alloc(MEM_STORE, np * 8);
	out->dur = mem_alloc(MEM_STORE, np * 8);
	out->period = mem_alloc(MEM_STORE, np * 8);
	out->total = mem_alloc(MEM_STORE, np * 8);
	out->n_smp = mem_alloc(MEM_STORE, np * 4);
	if (in->n_prof) {
		memcpy(out->ts, in->ts, in->n_prof * 8);
		memcpy(out->dur, in->dur, in->n_prof * 8);
		memcpy(out->period, in->period, in->n_prof * 8);
		memcpy(out->total, in->total, in->n_prof * 8);
		memcpy(out->n_smp, in->n_smp, in->n_prof * 4);
	}
	out->n_smp_all = out->cap_smp = in->n_smp_all;
	out->nodes = mem_alloc(MEM_STORE, ns * 4);
	out->values = mem_alloc(MEM_STORE, ns * 8);
	if (!in->enc) { /* arrays already */
		if (in->n_smp_all) {
			memcpy(out->nodes, in->nodes, in->n_smp_all * 4);
			memcpy(out->values, in->values, in->n_smp_all * 8);
		}
		if (in->spans) {
			out->spans = mem_alloc(MEM_STORE, ns * 8);
			memcpy(out->spans, in->spans, in->n_smp_all * 8);
		}
		return;
	}
	for (size_t k = 0; k < in->n_prof; k++) {
		uint64_t flags = dec_uv(&p);
		bool spans = flags & 1;
		int64_t scale = flags & 2 ? in->period[k] : 1;
		uint32_t prev = 0;

		if (spans && !out->spans)
			out->spans = mem_calloc(MEM_STORE, ns, 8);
		for (uint32_t i = 0; i < in->n_smp[k]; i++, j++) {
			uint64_t v;

			prev += (uint32_t)dec_uv(&p);
			out->nodes[j] = prev;
			v = dec_uv(&p);
			out->values[j] = ((int64_t)(v >> 1) ^ -(int64_t)(v & 1)) * scale;
			if (spans)
				out->spans[j] = dec_uv(&p);
		}
	}
}

int store_chunk_decode(const struct store_series_rec *s, struct store_cols *c)
{
	return store_chunk_decode_cols(s, c, true);
}

/* Order of profiles by time (stable), and each profile's first sample index. */
static int cmp_idx(const void *a, const void *b, void *ctx)
{
	const int64_t *ts = ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (ts[x] != ts[y])
		return ts[x] < ts[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

void store_cols_order(const struct store_cols *c, uint32_t **idx, uint64_t **off)
{
	uint32_t *ix = mem_alloc(MEM_STORE, (c->n_prof ? c->n_prof : 1) * sizeof(*ix));
	uint64_t *of = mem_alloc(MEM_STORE, (c->n_prof + 1) * sizeof(*of));
	bool sorted = true;

	of[0] = 0;
	for (size_t i = 0; i < c->n_prof; i++) {
		ix[i] = (uint32_t)i;
		of[i + 1] = of[i] + c->n_smp[i];
		if (i && c->ts[i] < c->ts[i - 1])
			sorted = false;
	}
	if (!sorted)
		qsort_r(ix, c->n_prof, sizeof(*ix), cmp_idx, c->ts);
	*idx = ix;
	*off = of;
}

int store_rollup_add(const struct store_series_rec *s, int64_t *acc, uint32_t nn)
{
	uint8_t *raw = NULL;
	size_t raw_len;
	struct store_rd r;
	uint64_t n, node = 0;
	int rc;

	if (store_crc32c(0, s->rollup, s->rollup_len) != s->rollup_crc)
		return -EMBER_ECORRUPT;
	rc = store_zstd_get(s->rollup, s->rollup_len, s->rollup_raw, &raw, &raw_len);
	if (rc)
		return rc;
	store_rd_init(&r, raw, raw_len);
	n = store_rd_count(&r, 2, nn);
	for (uint64_t i = 0; i < n && !r.err; i++) {
		uint64_t d = store_rd_uv(&r);
		int64_t v = store_rd_sv(&r);

		if (d >= nn - node || (i && d == 0)) {
			r.err = -EMBER_ECORRUPT;
			break;
		}
		node += d;
		acc[node] += v;
	}
	if (!r.err && r.p != r.end)
		r.err = -EMBER_ECORRUPT;
	mem_free(raw);
	return r.err;
}

/* Chunk encoding: docs/internals/storage.md "Sample chunk". */
void store_chunk_encode(struct store_wr *w, const struct store_cols *c, size_t *split)
{
	uint32_t *ix;
	uint64_t *of;
	int64_t prev_t = 0, prev_d = 0, prev_dur = 0, prev_per = 0;

	store_cols_order(c, &ix, &of);
	store_wr_uv(w, c->n_prof);
	for (size_t k = 0; k < c->n_prof; k++) {
		int64_t t = c->ts[ix[k]], d = (int64_t)((uint64_t)t - (uint64_t)prev_t);

		if (k == 0)
			store_wr_sv(w, t);
		else
			store_wr_sv(w, (int64_t)((uint64_t)d - (uint64_t)prev_d));
		if (k)
			prev_d = d;
		prev_t = t;
	}
	for (size_t k = 0; k < c->n_prof; k++) {
		store_wr_sv(w, (int64_t)((uint64_t)c->dur[ix[k]] - (uint64_t)prev_dur));
		prev_dur = c->dur[ix[k]];
	}
	for (size_t k = 0; k < c->n_prof; k++) {
		store_wr_sv(w, (int64_t)((uint64_t)c->period[ix[k]] - (uint64_t)prev_per));
		prev_per = c->period[ix[k]];
	}
	for (size_t k = 0; k < c->n_prof; k++)
		store_wr_sv(w, c->total[ix[k]]);
	for (size_t k = 0; k < c->n_prof; k++)
		store_wr_uv(w, c->n_smp[ix[k]]);
	store_wr_uv(w, c->spans ? 1 : 0);
	*split = w->b->len; /* the profile columns end here, the sample columns start */
	for (size_t k = 0; k < c->n_prof; k++) {
		uint32_t prev = 0;

		for (uint64_t j = of[ix[k]]; j < of[ix[k] + 1]; j++) {
			store_wr_uv(w, c->nodes[j] - prev);
			prev = c->nodes[j];
		}
	}
	for (size_t k = 0; k < c->n_prof; k++)
		for (uint64_t j = of[ix[k]]; j < of[ix[k] + 1]; j++)
			store_wr_sv(w, c->values[j]);
	if (c->spans)
		for (size_t k = 0; k < c->n_prof; k++)
			for (uint64_t j = of[ix[k]]; j < of[ix[k] + 1]; j++)
				store_wr_uv(w, c->spans[j]);
	mem_free(ix);
	mem_free(of);
}

int store_chunk_decode_cols(const struct store_series_rec *s, struct store_cols *c, bool samples)
{
	uint8_t *raw = NULL;
	size_t raw_len;
	struct store_rd r;
	int64_t prev_t = 0, prev_d = 0, prev_dur = 0, prev_per = 0;
	uint64_t n, total_smp = 0, has_spans;
	int rc;

	memset(c, 0, sizeof(*c));
	if (store_crc32c(0, s->chunk, s->chunk_len) != s->chunk_crc)
		return -EMBER_ECORRUPT;
	rc = store_zstd_get(s->chunk, s->chunk_a_len, s->chunk_a_raw, &raw, &raw_len);
	if (rc)
		return rc;
	store_rd_init(&r, raw, raw_len);
	n = store_rd_count(&r, 5, UINT32_MAX);
	if (r.err || n != s->n_prof)
		goto bad;
	c->n_prof = c->cap_prof = n;
	c->ts = mem_alloc(MEM_STORE, (n ? n : 1) * 8);
	c->dur = mem_alloc(MEM_STORE, (n ? n : 1) * 8);
	c->period = mem_alloc(MEM_STORE, (n ? n : 1) * 8);
	c->total = mem_alloc(MEM_STORE, (n ? n : 1) * 8);
	c->n_smp = mem_alloc(MEM_STORE, (n ? n : 1) * 4);
	for (uint64_t k = 0; k < n; k++) {
		int64_t v = store_rd_sv(&r);

		if (k == 0) {
			prev_t = v;
		} else {
			prev_d = (int64_t)((uint64_t)prev_d + (uint64_t)v);
			prev_t = (int64_t)((uint64_t)prev_t + (uint64_t)prev_d);
		}
		c->ts[k] = prev_t;
	}
	for (uint64_t k = 0; k < n; k++)
		c->dur[k] = prev_dur = (int64_t)((uint64_t)prev_dur + (uint64_t)store_rd_sv(&r));
	for (uint64_t k = 0; k < n; k++)
		c->period[k] = prev_per = (int64_t)((uint64_t)prev_per + (uint64_t)store_rd_sv(&r));
	for (uint64_t k = 0; k < n; k++)
		c->total[k] = store_rd_sv(&r);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t m = store_rd_uv(&r);

		if (m > UINT32_MAX)
			goto bad;
		c->n_smp[k] = (uint32_t)m;
		total_smp += m;
	}
	has_spans = store_rd_uv(&r);
	if (r.err || has_spans > 1 || total_smp != s->n_smp || r.p != r.end)
		goto bad;
	mem_free(raw);
	raw = NULL;
	if (!samples) /* profile columns only: n_smp_all stays 0 */
		return 0;
	rc = store_zstd_get(s->chunk + s->chunk_a_len, s->chunk_len - s->chunk_a_len,
			    s->chunk_b_raw, &raw, &raw_len);
	if (rc) {
		store_cols_fini(c);
		return rc;
	}
	store_rd_init(&r, raw, raw_len);
	if (total_smp > raw_len / 2)
		goto bad;
	c->n_smp_all = c->cap_smp = total_smp;
	c->nodes = mem_alloc(MEM_STORE, (total_smp ? total_smp : 1) * 4);
	c->values = mem_alloc(MEM_STORE, (total_smp ? total_smp : 1) * 8);
	if (has_spans)
		c->spans = mem_alloc(MEM_STORE, (total_smp ? total_smp : 1) * 8);
	{
		uint64_t j = 0;

		for (uint64_t k = 0; k < n; k++) {
			uint64_t prev = 0;

			for (uint32_t i = 0; i < c->n_smp[k]; i++, j++) {
				prev += store_rd_uv(&r);
				if (prev >= UINT32_MAX)
					goto bad;
				c->nodes[j] = (uint32_t)prev;
			}
		}
	}
	for (uint64_t j = 0; j < total_smp; j++)
		c->values[j] = store_rd_sv(&r);
	if (has_spans)
		for (uint64_t j = 0; j < total_smp; j++)
			c->spans[j] = store_rd_uv(&r);
	if (r.err || r.p != r.end)
		goto bad;
	mem_free(raw);
	return 0;
bad:
	mem_free(raw);
	store_cols_fini(c);
	return -EMBER_ECORRUPT;
}
