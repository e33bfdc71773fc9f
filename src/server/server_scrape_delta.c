/*
 * server_scrape_delta.c — deltas of cumulative pprof profiles between two scrapes of the same
 * target (Go's alloc_* heap columns, mutex and block counters), per stack.
 *
 * A stack's identity across scrapes is a 64-bit hash of its frames (address, mapping file and
 * build id, and every line's function names, file and line number, leaf to root) and of its
 * sample labels, so two profiles decoded separately agree on it. The baseline keeps the previous
 * scrape's counters per stack; a counter below its baseline (the process restarted) counts from
 * zero. Negative counters from a hostile target are taken as zero. Owns the baseline; borrows
 * the profiles it is given.
 */
#include <string.h>

#include "base/hash.h"
#include "base/mem.h"
#include "profile/merge.h"
#include "server/server_scrape.h"

#define SEED 0x5c7a9e13d1b2f4a7ULL

static uint64_t mix(uint64_t h, uint64_t v)
{
	return hash_u64(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}

static uint64_t str_hash(const struct prof *p, uint32_t id)
{
	return hash_bytes(prof_string(p, id), prof_string_len(p, id), SEED);
}

static uint64_t location_hash(const struct prof *p, uint32_t loc)
{
	struct prof_location l;
	uint64_t h;

	prof_location_get(p, loc, &l);
	h = mix(SEED, l.address);
	if (l.mapping) {
		const struct prof_mapping *m = prof_mapping_get(p, l.mapping);
		h = mix(h, str_hash(p, m->filename));
		h = mix(h, str_hash(p, m->build_id));
		h = mix(h, l.address - m->memory_start + m->file_offset);
	}
	for (uint32_t i = 0; i < l.n_lines; i++) {
		h = mix(h, (uint64_t)l.lines[i].line);
		if (l.lines[i].function) {
			const struct prof_function *f = prof_function_get(p, l.lines[i].function);
			h = mix(h, str_hash(p, f->name));
			h = mix(h, str_hash(p, f->system_name));
			h = mix(h, str_hash(p, f->filename));
		}
	}
	return h;
}

static uint64_t labelset_hash(const struct prof *p, uint32_t id)
{
	size_t n;
	const struct prof_label *l = prof_labelset_get(p, id, &n);
	uint64_t h = mix(SEED, n);

	for (size_t i = 0; i < n; i++) {
		h = mix(h, str_hash(p, l[i].key));
		h = mix(h, l[i].str ? str_hash(p, l[i].str) : (uint64_t)l[i].num);
		h = mix(h, str_hash(p, l[i].num_unit));
	}
	return h;
}

/* Per sample, the stack key: node hashes (parents come before children), label set hashes. */
static uint64_t *sample_keys(const struct prof *p)
{
	uint32_t n_nodes = prof_n_nodes(p), n_locs = prof_n_locations(p);
	uint32_t n_ls = prof_n_labelsets(p);
	size_t n = prof_n_samples(p);
	uint64_t *loc_h = mem_alloc(MEM_SERVER, ((size_t)n_locs + 1) * sizeof(uint64_t));
	uint64_t *node_h = mem_alloc(MEM_SERVER, ((size_t)n_nodes + 1) * sizeof(uint64_t));
	uint64_t *ls_h = mem_alloc(MEM_SERVER, ((size_t)n_ls + 1) * sizeof(uint64_t));
	uint64_t *keys = mem_alloc(MEM_SERVER, (n ? n : 1) * sizeof(uint64_t));

	for (uint32_t i = 1; i <= n_locs; i++)
		loc_h[i] = location_hash(p, i);
	node_h[0] = SEED;
	for (uint32_t i = 1; i < n_nodes; i++)
		node_h[i] = mix(node_h[prof_node_parent(p, i)], loc_h[prof_node_location(p, i)]);
	for (uint32_t i = 0; i < n_ls; i++)
		ls_h[i] = labelset_hash(p, i);
	for (size_t i = 0; i < n; i++) {
		struct prof_sample s;

		prof_sample_get(p, i, &s);
		keys[i] = mix(node_h[s.node], ls_h[s.labelset]);
		if (keys[i] == HMAP_EMPTY)
			keys[i] = HMAP_EMPTY - 1;
	}
	mem_free(loc_h);
	mem_free(node_h);
	mem_free(ls_h);
	return keys;
}

static uint64_t shape_of(const struct prof *p, uint64_t mask)
{
	const struct prof_value_type *t = prof_sample_types(p);
	uint64_t h = mix(SEED, mask);

	for (size_t i = 0; i < prof_n_sample_types(p); i++) {
		h = mix(h, str_hash(p, t[i].type));
		h = mix(h, str_hash(p, t[i].unit));
	}
	return h;
}

void server_scrape_delta_init(struct scrape_delta *st)
{
	memset(st, 0, sizeof(*st));
	hmap_init(&st->idx, MEM_SERVER);
}

void server_scrape_delta_fini(struct scrape_delta *st)
{
	hmap_fini(&st->idx);
	mem_free(st->vals);
	memset(st, 0, sizeof(*st));
}

uint64_t server_scrape_cumulative_mask(const struct prof *p, enum scrape_kind k)
{
	const struct prof_value_type *t = prof_sample_types(p);
	size_t n = prof_n_sample_types(p);
	uint64_t mask = 0;

	for (size_t i = 0; i < n && i < 64; i++) {
		const char *name = prof_string(p, t[i].type);

		if (((k == SCRAPE_MEMORY || k == SCRAPE_ALLOCS) && !strncmp(name, "alloc_", 6)) ||
		    k == SCRAPE_MUTEX || k == SCRAPE_BLOCK)
			mask |= (uint64_t)1 << i;
	}
	return mask;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

int server_scrape_delta_apply(struct scrape_delta *st, struct prof *p, uint64_t mask,
			      int64_t now_ns, struct prof **out, int64_t *window_start_ns,
			      struct ember_diag *d)
{
	size_t n = prof_n_samples(p), nc = prof_n_sample_types(p);
	uint64_t shape = shape_of(p, mask);
	bool first = !st->primed || st->shape != shape || st->n_cols != nc;
	struct hmap idx;
	int64_t *vals;
	size_t n_slots = 0;
	uint64_t *keys;
	bool *keep, *done;
	int err = 0;

	*out = NULL;
	*window_start_ns = st->time_ns;
	if (nc > 64)
		return ember_diag_set(d, -EMBER_ELIMIT, "more than 64 sample types");
	keys = sample_keys(p);
	hmap_init(&idx, MEM_SERVER);
	hmap_reserve(&idx, n);
	vals = mem_calloc(MEM_SERVER, (n ? n : 1) * (nc ? nc : 1), sizeof(int64_t));
	keep = mem_calloc(MEM_SERVER, n ? n : 1, sizeof(bool));
	done = mem_calloc(MEM_SERVER, n ? n : 1, sizeof(bool));

	/* The new baseline: counters summed per key (two samples share a key only on a hash
	 * collision; their delta is then carried by the first of them). */
	for (size_t i = 0; i < n; i++) {
		bool found;
		uint64_t *slot = hmap_upsert(&idx, keys[i], n_slots, &found);
		const int64_t *v = prof_sample_values(p, i);
		int64_t *b;

		if (!found)
			n_slots++;
		b = vals + *slot * nc;
		for (size_t j = 0; j < nc; j++)
			if (mask & ((uint64_t)1 << j))
				b[j] = sat_add(b[j], v[j] > 0 ? v[j] : 0);
	}
	if (!first) {
		for (size_t i = 0; i < n; i++) {
			uint64_t slot = 0, old_slot;
			int64_t *v = prof_sample_values(p, i);
			const int64_t *cur, *old = NULL;
			bool any = false;

			hmap_get(&idx, keys[i], &slot);
			cur = vals + slot * nc;
			if (hmap_get(&st->idx, keys[i], &old_slot))
				old = st->vals + old_slot * nc;
			for (size_t j = 0; j < nc; j++) {
				if (mask & ((uint64_t)1 << j)) {
					int64_t c = cur[j], o = old ? old[j] : 0;
					v[j] = done[slot] ? 0 : c >= o ? c - o : c;
				}
				any |= v[j] != 0;
			}
			done[slot] = true;
			keep[i] = any;
		}
		*out = prof_new();
		err = prof_merge_subset(*out, p, keep, d);
		if (err) {
			prof_free(*out);
			*out = NULL;
		}
	}
	if (!err) {
		hmap_fini(&st->idx);
		mem_free(st->vals);
		st->idx = idx;
		st->vals = vals;
		st->n_slots = st->cap_slots = n_slots;
		st->n_cols = nc;
		st->shape = shape;
		st->primed = true;
		st->time_ns = now_ns;
	} else {
		hmap_fini(&idx);
		mem_free(vals);
	}
	mem_free(keys);
	mem_free(keep);
	mem_free(done);
	return err;
}
