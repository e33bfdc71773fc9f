/*
 * block_write.c — writes one tenant's frozen head data as an immutable block file: header,
 * symbol section (the tenant dictionary, prof codec, zstd), series table, postings, per-series
 * sample chunks (zstd), footer with a checksummed section table. Format: docs/internals/
 * storage.md "Block file". The file is written to the path given (under tmp/) and fsynced;
 * renaming it into place is the caller's (I2). Owns nothing after return; never logs.
 */
#include <errno.h>
#include <fcntl.h>
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

int store_block_write(const struct store_io *io, const char *path, const struct store_sdata *sd)
{
	struct buf out, tmp, chunks;
	struct store_wr w = {&out, 0}, t = {&tmp, 0}, c = {&chunks, 0};
	uint8_t footer[BLOCK_FOOTER_BYTES] = {0}, *hdr;
	uint64_t *chunk_off, *chunk_len, *chunk_a_len, *chunk_a_raw, *chunk_b_raw;
	uint32_t *chunk_crc;
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

	/* header */
	store_wr_bytes(&w, "EMBERBLK", 8);
	store_wr_u32le(&w, 1);
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
		store_cols_fini(&cols);
		if (t.err)
			break;
		chunk_a_raw[i] = split;
		chunk_b_raw[i] = tmp.len - split;
		store_zstd_put(&c, tmp.data, split);
		chunk_a_len[i] = chunks.len - start;
		store_zstd_put(&c, tmp.data + split, tmp.len - split);
		if (c.err)
			break;
		chunk_off[i] = start;
		chunk_len[i] = chunks.len - start;
		chunk_crc[i] = store_crc32c(0, chunks.data + start, chunks.len - start);
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
	return rc;
}
