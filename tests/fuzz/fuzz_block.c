/*
 * fuzz_block.c — libFuzzer target for the block reader: parses the input as a block file
 * (store_block_parse: header, footer, section checksums, symbols, series, postings), then
 * decodes every series chunk and rollup and runs a label query and a merge over the result.
 * Checksums are verified first, so the section checksums are also recomputed for a second try,
 * and for inputs of odd length the chunk and rollup checksums too, so mutated bytes reach the
 * decoders behind the gates; the prof codec is also reached through fuzz_wal. Seeds: tests/fuzz/corpus/block/.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rewrites the header, footer and section checksums so mutations reach the decoders behind
 * them (chunk checksums, inside the compressed series table, stay as they are). */
static void fix_checksums(uint8_t *p, size_t n)
{
	uint8_t *f;

	if (n < 168)
		return;
	store_put_u32le(p + 36, store_crc32c(0, p, 36));
	f = p + n - 128;
	for (uint32_t i = 0; i < 4; i++) {
		uint8_t *e = f + 4 + 24 * i;
		uint64_t off = store_get_u64le(e + 8), len = store_get_u64le(e + 16);

		if (off <= n - 128 && len <= n - 128 - off)
			store_put_u32le(e + 4, store_crc32c(0, p + off, (size_t)len));
	}
	store_put_u32le(f + 116, store_crc32c(0, f, 116));
}

static void one(uint8_t *copy, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = mem_alloc(MEM_TEST, size ? size : 1);

	memcpy(copy, data, size);
	one(copy, size);
	memcpy(copy, data, size);
	fix_checksums(copy, size);
	one(copy, size);
	mem_free(copy);
	return 0;
}

static void one(uint8_t *copy, size_t size)
{
	struct store_block b;
	size_t bad;

	if (store_block_parse(copy, size, &b, &bad) == 0) {
		struct store_query q = {.profile_type = NULL};
		struct store_qargs a = {.kind = STORE_Q_SERIES, .q = &q};
		struct store_qctx *c;
		struct store_result *r = NULL;

		for (uint32_t i = 0; i < b.sd.n_series; i++) {
			struct store_series_rec *sr = &b.sd.series[i];
			uint32_t nn = prof_n_nodes(b.sd.dict);
			struct store_cols cols;

			if (size & 1) { /* past the chunk and rollup checksums into the decoders */
				sr->chunk_crc = store_crc32c(0, sr->chunk, sr->chunk_len);
				if (sr->rollup)
					sr->rollup_crc =
						store_crc32c(0, sr->rollup, sr->rollup_len);
			}
			if (store_chunk_decode(sr, &cols) == 0)
				store_cols_fini(&cols);
			if (sr->rollup) {
				int64_t *acc = mem_calloc(MEM_TEST, nn ? nn : 1, 8);

				(void)store_rollup_add(sr, acc, nn);
				mem_free(acc);
			}
		}
		if (store_qctx_new(&a, &c, NULL) == 0) {
			if (store_qctx_feed(c, &b.sd, NULL) == 0)
				(void)store_qctx_finish(c, NULL, &r);
			else
				store_qctx_free(c);
		}
		store_result_free(r);
		if (b.sd.n_series) {
			/* a merge over the block's first profile type, if it has one */
			const struct store_series_rec *s = &b.sd.series[0];

			for (uint32_t k = 0; k < s->n_labels; k++) {
				const char *nm = prof_string(b.sd.dict, s->labels[2 * k]);
				struct prof *p = NULL;

				if (strcmp(nm, STORE_LABEL_PROFILE_TYPE))
					continue;
				q.profile_type = prof_string(b.sd.dict, s->labels[2 * k + 1]);
				a.kind = STORE_Q_MERGE;
				if (store_qctx_new(&a, &c, NULL) == 0) {
					if (store_qctx_feed(c, &b.sd, NULL) == 0)
						(void)store_qctx_finish(c, &p, NULL);
					else
						store_qctx_free(c);
				}
				prof_free(p);
				break;
			}
		}
	}
	store_block_fini(&b);
}
