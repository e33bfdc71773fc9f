/*
 * compact.c — merges several blocks of one tenant into one in-memory tenant dataset (struct
 * store_sdata) ready for store_block_write: symbols and stacks are re-deduplicated into one
 * new dictionary, series are matched by their label strings, and every profile's samples are
 * re-mapped to the new node ids (re-sorted, duplicates summed). The file juggling (write,
 * rename, delete the sources) is local.c's. Owns only the output; never logs.
 */
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "store/store_int.h"

static int merge_one(struct store_sdata *out, const struct store_sdata *in)
{
	struct store_xlat x = {0};
	uint32_t *pairs = NULL;
	struct store_smp *smp = NULL;
	size_t cap_pairs = 0, cap_smp = 0;
	int rc = 0;

	store_xlat_init(&x, in->dict, out->dict);
	for (uint32_t i = 0; i < in->n_series && !rc; i++) {
		const struct store_series_rec *s = &in->series[i];
		struct store_cols c;
		uint32_t sid, nn = prof_n_nodes(in->dict);
		uint64_t off = 0;

		mem_grow(MEM_STORE, (void **)&pairs, &cap_pairs, (size_t)s->n_labels * 2 + 1, 4);
		for (uint32_t k = 0; k < 2 * s->n_labels; k++)
			pairs[k] = store_xlat_str(&x, s->labels[k]);
		sid = store_sdata_series(out, pairs, s->n_labels);
		if (s->chunk)
			rc = store_chunk_decode(s, &c);
		else
			store_cols_expand(&s->cols, &c); /* a head series */
		if (rc)
			break;
		for (size_t p = 0; p < c.n_prof && !rc; p++) {
			size_t n = c.n_smp[p];
			struct store_series_rec *o = &out->series[sid];

			mem_grow(MEM_STORE, (void **)&smp, &cap_smp, n + 1, sizeof(*smp));
			for (size_t j = 0; j < n; j++) {
				if (c.nodes[off + j] >= nn) {
					rc = -EMBER_ECORRUPT;
					break;
				}
				smp[j].node = store_xlat_node(&x, c.nodes[off + j]);
				smp[j].value = c.values[off + j];
				smp[j].span = c.spans ? c.spans[off + j] : 0;
			}
			if (rc)
				break;
			n = store_smp_merge(smp, n);
			store_cols_add(&o->cols, c.ts[p], c.dur[p], c.period[p], smp, n);
			o->min_t = EMBER_MIN(o->min_t, c.ts[p]);
			o->max_t = EMBER_MAX(o->max_t, c.ts[p]);
			out->min_t = EMBER_MIN(out->min_t, c.ts[p]);
			out->max_t = EMBER_MAX(out->max_t, c.ts[p]);
			out->n_prof++;
			out->n_smp += n;
			off += c.n_smp[p];
		}
		store_cols_fini(&c);
	}
	store_xlat_fini(&x);
	mem_free(pairs);
	mem_free(smp);
	return rc;
}

int store_compact_merge(const struct store_sdata *const *in, size_t n, const char *tenant,
			struct store_sdata *out)
{
	store_sdata_init(out, tenant);
	for (size_t i = 0; i < n; i++) {
		int rc = merge_one(out, in[i]);

		if (rc) {
			store_sdata_fini(out);
			return rc;
		}
	}
	return 0;
}
