/*
 * block_write.c — writes one tenant's frozen head data as an immutable block file: header,
 * symbol section (the tenant dictionary, prof codec, zstd), series table, postings, per-series
 * sample chunks (zstd), footer with a checksummed section table. Format: docs/internals/
 * storage.md "Block file". The file is written to the path given (under tmp/) and fsynced;
 * renaming it into place is the caller's (I2). Owns nothing after return; never logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"
#include "store/store_int.h"

#define BLOCK_HDR_BYTES	   40
#define BLOCK_FOOTER_BYTES 128

static void section_end(struct buf *b, size_t start, uint8_t *toc, uint32_t id)
{
	store_put_u32le(toc, id);
	store_put_u32le(toc + 4, store_crc32c(0, b->data + start, b->len - start));
	store_put_u64le(toc + 8, start);
	store_put_u64le(toc + 16, b->len - start);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The rollup of cols (docs/internals/storage.md "Rollup") into w, when it is small enough to be
 * worth it: every profile's samples summed per node, nodes ascending, zero sums left out.
 * acc (nn zeros), seen (nn zeros) and touched (nn entries) are scratch, left zeroed. Returns
 * the raw length, 0 for none. */
static size_t rollup_encode(struct store_wr *w, const struct store_cols *c, int64_t *acc,
			    uint8_t *seen, uint32_t *touched, uint32_t nn)
{
	size_t n = 0, nz = 0, start = w->b->len;
	uint32_t prev = 0;

	for (size_t i = 0; i < c->n_smp_all; i++) {
		uint32_t node = c->nodes[i];

		if (node >= nn)
			continue; /* cannot happen: the ids are the block dictionary's */
		if (!seen[node]) {
			seen[node] = 1;
			touched[n++] = node;
		}
		acc[node] += c->values[i];
	}
	for (size_t k = 0; k < n; k++)
		nz += acc[touched[k]] != 0;
	if (nz && nz * STORE_ROLLUP_MIN_GAIN <= c->n_smp_all) {
		qsort(touched, n, sizeof(*touched), cmp_u32);
		store_wr_uv(w, nz);
		for (size_t k = 0; k < n; k++) {
			if (!acc[touched[k]])
				continue;
			store_wr_uv(w, touched[k] - prev);
			prev = touched[k];
			store_wr_sv(w, acc[touched[k]]);
		}
	}
	for (size_t k = 0; k < n; k++) {
		acc[touched[k]] = 0;
		seen[touched[k]] = 0;
	}
	return w->b->len - start;
}

int store_block_write(const struct store_io *io, const char *path, const struct store_sdata *sd)
{
	struct buf out, tmp, chunks;
	struct store_wr w = {&out, 0}, t = {&tmp, 0}, c = {&chunks, 0};
	uint8_t footer[BLOCK_FOOTER_BYTES] = {0}, *hdr;
	uint64_t *chunk_off, *chunk_len, *chunk_a_len, *chunk_a_raw, *chunk_b_raw;
	uint32_t *chunk_crc, *rollup_crc, nn = prof_n_nodes(sd->dict);
	uint64_t *rollup_len, *rollup_raw;
	int64_t *rollup_per, *acc = mem_calloc(MEM_STORE, (size_t)nn + 1, 8);
	uint32_t *touched = mem_alloc(MEM_STORE, ((size_t)nn + 1) * 4);
	uint8_t *seen = mem_calloc(MEM_STORE, (size_t)nn + 1, 1);
	int fd, rc;

	buf_init(&out, MEM_STORE, SIZE_MAX);
	buf_init(&tmp, MEM_STORE, SIZE_MAX);
	buf_init(&chunks, MEM_STORE, SIZE_MAX);
	chunk_off = mem_alloc(MEM_STORE, ((size_t)sd->n_series + 1) * 8);
	chunk_len = mem_alloc(MEM_STORE, ((size_t)sd->n_series + 1) * 8);
	chunk_a_len = mem_alloc(MEM_STORE, ((size_t)sd->n_series + 1) * 8);
	chunk_a_raw = mem_alloc(MEM_STORE, ((size_t)sd->n_series + 1) * 8);
	chunk_b_raw = mem_alloc(MEM_STORE, ((size_t)sd->n_series + 1) * 8);
	chunk_crc = mem_alloc(MEM_STORE, ((size_t)sd->n_series + 1) * 4);
	rollup_crc = mem_alloc(MEM_STORE, ((size_t)sd->n_series + 1) * 4);
	rollup_len = mem_alloc(MEM_STORE, ((size_t)sd->n_series + 1) * 8);
	rollup_raw = mem_alloc(MEM_STORE, ((size_t)sd->n_series + 1) * 8);
	rollup_per = mem_alloc(MEM_STORE, ((size_t)sd->n_series + 1) * 8);

	/* header */
	store_wr_bytes(&w, "EMBERBLK", 8);
	store_wr_u32le(&w, 2);
	store_wr_u32le(&w, sd->n_series);
	store_wr_u64le(&w, (uint64_t)sd->min_t);
	store_wr_u64le(&w, (uint64_t)sd->max_t);
	store_wr_u32le(&w, 0);
	if (!w.err) {
		hdr = out.data;
		store_wr_u32le(&w, store_crc32c(0, hdr, 36));
	}
	/* chunks first into their own buffer (offsets are needed by the series table) */
	for (uint32_t i = 0; i < sd->n_series; i++) {
		size_t start = chunks.len;

		size_t split = 0;

		struct store_cols cols;

		buf_reset(&tmp);
		store_cols_expand(&sd->series[i].cols, &cols);
		store_chunk_encode(&t, &cols, &split);
		if (t.err) {
			store_cols_fini(&cols);
			break;
		}
		chunk_a_raw[i] = split;
		chunk_b_raw[i] = tmp.len - split;
		store_zstd_put(&c, tmp.data, split);
		chunk_a_len[i] = chunks.len - start;
		store_zstd_put(&c, tmp.data + split, tmp.len - split);
		if (c.err) {
			store_cols_fini(&cols);
			break;
		}
		chunk_off[i] = start;
		chunk_len[i] = chunks.len - start;
		chunk_crc[i] = store_crc32c(0, chunks.data + start, chunks.len - start);
		rollup_per[i] = 0;
		for (size_t k = 0; k < cols.n_prof; k++)
			rollup_per[i] = EMBER_MAX(rollup_per[i], cols.period[k]);
		buf_reset(&tmp);
		rollup_raw[i] = rollup_encode(&t, &cols, acc, seen, touched, nn);
		rollup_len[i] = 0;
		if (rollup_raw[i]) {
			size_t r0 = chunks.len;

			store_zstd_put(&c, tmp.data, tmp.len);
			rollup_len[i] = chunks.len - r0;
			rollup_crc[i] = store_crc32c(0, chunks.data + r0, chunks.len - r0);
		}
		store_cols_fini(&cols);
		if (t.err || c.err)
			break;
	}
	/* 1: symbols */
	{
		size_t start = out.len;

		buf_reset(&tmp);
		store_prof_encode(&t, sd->dict, false);
		if (!t.err)
			store_zstd_put(&w, tmp.data, tmp.len);
		if (!w.err)
			section_end(&out, start, footer + 4, 1);
	}
	/* 2: series */
	{
		size_t start = out.len;

		buf_reset(&tmp);
		store_wr_uv(&t, sd->n_series);
		for (uint32_t i = 0; i < sd->n_series; i++) {
			const struct store_series_rec *s = &sd->series[i];

			store_wr_uv(&t, s->n_labels);
			for (uint32_t k = 0; k < 2 * s->n_labels; k++)
				store_wr_uv(&t, s->labels[k]);
			store_wr_sv(&t, s->min_t);
			store_wr_sv(&t, s->max_t);
			store_wr_uv(&t, s->cols.n_prof);
			store_wr_uv(&t, s->cols.n_smp_all);
			store_wr_uv(&t, chunk_off[i]);
			store_wr_uv(&t, chunk_len[i]);
			store_wr_uv(&t, chunk_a_len[i]);
			store_wr_uv(&t, chunk_a_raw[i]);
			store_wr_uv(&t, chunk_b_raw[i]);
			store_wr_uv(&t, chunk_crc[i]);
			store_wr_uv(&t, rollup_len[i]);
			if (rollup_len[i]) {
				store_wr_uv(&t, rollup_raw[i]);
				store_wr_uv(&t, rollup_crc[i]);
				store_wr_sv(&t, rollup_per[i]);
			}
		}
		if (!t.err)
			store_zstd_put(&w, tmp.data, tmp.len);
		if (!w.err)
			section_end(&out, start, footer + 28, 2);
	}
	/* 3: postings */
	{
		size_t start = out.len;

		buf_reset(&tmp);
		store_wr_uv(&t, sd->n_postings);
		for (uint32_t i = 0; i < sd->n_postings; i++) {
			const struct store_posting *p = &sd->postings[i];
			uint32_t prev = 0;

			store_wr_uv(&t, p->name);
			store_wr_uv(&t, p->value);
			store_wr_uv(&t, p->n);
			for (uint32_t k = 0; k < p->n; k++) {
				store_wr_uv(&t, p->ids[k] - prev);
				prev = p->ids[k];
			}
		}
		if (!t.err)
			store_zstd_put(&w, tmp.data, tmp.len);
		if (!w.err)
			section_end(&out, start, footer + 52, 3);
	}
	/* 4: chunks */
	{
		size_t start = out.len;

		store_wr_bytes(&w, chunks.data, chunks.len);
		if (!w.err)
			section_end(&out, start, footer + 76, 4);
	}
	store_put_u32le(footer, 4);
	store_put_u64le(footer + 100, sd->n_prof);
	store_put_u64le(footer + 108, sd->n_smp);
	store_put_u32le(footer + 116, store_crc32c(0, footer, 116));
	memcpy(footer + 120, "EMBEREND", 8);
	store_wr_bytes(&w, footer, sizeof(footer));
	rc = w.err ? w.err : t.err ? t.err : c.err;
	if (!rc) {
		fd = store_io_open(io, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			rc = fd;
		} else {
			rc = store_io_write_all(io, fd, out.data, out.len);
			if (!rc)
				rc = store_io_fsync(io, fd);
			close(fd);
		}
	}
	buf_fini(&out);
	buf_fini(&tmp);
	buf_fini(&chunks);
	mem_free(chunk_off);
	mem_free(chunk_len);
	mem_free(chunk_a_len);
	mem_free(chunk_a_raw);
	mem_free(chunk_b_raw);
	mem_free(chunk_crc);
	mem_free(rollup_crc);
	mem_free(rollup_len);
	mem_free(rollup_raw);
	mem_free(rollup_per);
	mem_free(acc);
	mem_free(touched);
	mem_free(seen);
	return rc;
}
