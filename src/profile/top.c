/*
 * top.c — the top table: flat and cumulative value per frame display name, as `pprof -top`
 * computes them.
 *
 * Values are summed per stack node first (one stack node is one unique stack), so the work is
 * per unique stack, not per sample. Each location's frame names are interned once into the
 * table's own strtab (which also owns the row names). flat goes to the leaf frame (innermost
 * inline line of the leaf location); cum to every distinct name on the path, deduplicated per
 * stack with a generation-stamped "seen" array, so recursion counts once.
 */
#include "profile/top.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/strtab.h"
#include "profile/nodeval.h"

struct prof_top {
	struct strtab *names;
	struct prof_top_row *rows;
	size_t n_rows;
	int64_t total;
};

/* Frame names of locations, interned: names of loc are frame_names[off[loc] ..+ n_frames]. */
struct frame_cache {
	const struct prof *p;
	struct strtab *names;
	uint32_t n_loc;
	uint32_t *off; /* [n_loc + 1], UINT32_MAX = not yet */
	uint32_t *frame_names;
	size_t n_frame_names, cap_frame_names;
};

static const uint32_t *location_names(struct frame_cache *fc, uint32_t loc, uint32_t *n)
{
	char tmp[80];

	if (loc > fc->n_loc)
		loc = 0;
	*n = prof_location_n_frames(fc->p, loc);
	if (fc->off[loc] == UINT32_MAX) {
		mem_grow(MEM_PROFILE, (void **)&fc->frame_names, &fc->cap_frame_names,
			 fc->n_frame_names + *n, sizeof(uint32_t));
		fc->off[loc] = (uint32_t)fc->n_frame_names;
		for (uint32_t i = 0; i < *n; i++)
			fc->frame_names[fc->n_frame_names++] =
				strtab_intern_cstr(fc->names, prof_frame_name(fc->p, loc, i, tmp));
	}
	return fc->frame_names + fc->off[loc];
}

static int cmp_flat(const void *a, const void *b)
{
	const struct prof_top_row *x = a, *y = b;

	if (x->flat != y->flat)
		return x->flat > y->flat ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_cum(const void *a, const void *b)
{
	const struct prof_top_row *x = a, *y = b;

	if (x->cum != y->cum)
		return x->cum > y->cum ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void build_rows(struct prof_top *t, const int64_t *flat, const int64_t *cum, bool by_cum)
{
	uint32_t n_names = strtab_count(t->names);

	t->rows = mem_alloc(MEM_PROFILE, (n_names ? n_names : 1) * sizeof(*t->rows));
	for (uint32_t id = 0; id < n_names; id++) {
		if (!flat[id] && !cum[id])
			continue;
		t->rows[t->n_rows].name = strtab_get(t->names, id, NULL);
		t->rows[t->n_rows].flat = flat[id];
		t->rows[t->n_rows].cum = cum[id];
		t->n_rows++;
	}
	qsort(t->rows, t->n_rows, sizeof(*t->rows), by_cum ? cmp_cum : cmp_flat);
}

struct prof_top *prof_top_new(const struct prof *p, size_t vi, bool by_cum)
{
	struct prof_top *t = mem_calloc(MEM_PROFILE, 1, sizeof(*t));
	uint32_t n_nodes = prof_n_nodes(p), n_names, gen = 0, nf;
	struct frame_cache fc = {.p = p};
	int64_t *nv, *flat, *cum;
	uint32_t *seen;
	uint8_t *need;

	t->names = strtab_new(MEM_PROFILE);
	if (vi >= prof_n_sample_types(p))
		return t;
	need = mem_calloc(MEM_PROFILE, n_nodes ? n_nodes : 1, 1);
	nv = prof_node_values(p, vi, need, &t->total);
	fc.names = t->names;
	fc.n_loc = prof_n_locations(p);
	fc.off = mem_alloc(MEM_PROFILE, ((size_t)fc.n_loc + 1) * sizeof(uint32_t));
	memset(fc.off, 0xff, ((size_t)fc.n_loc + 1) * sizeof(uint32_t));
	/* Intern the names of every location on a needed path, then size the per-name arrays. */
	for (uint32_t n = 1; n < n_nodes; n++)
		if (need[n])
			location_names(&fc, prof_node_location(p, n), &nf);
	n_names = strtab_count(t->names);
	flat = mem_calloc(MEM_PROFILE, n_names, sizeof(*flat));
	cum = mem_calloc(MEM_PROFILE, n_names, sizeof(*cum));
	seen = mem_calloc(MEM_PROFILE, n_names, sizeof(*seen));
	for (uint32_t n = 1; n < n_nodes; n++) {
		if (nv[n] == 0)
			continue;
		flat[location_names(&fc, prof_node_location(p, n), &nf)[0]] += nv[n];
		gen++;
		for (uint32_t m = n; m != 0; m = prof_node_parent(p, m)) {
			const uint32_t *names = location_names(&fc, prof_node_location(p, m), &nf);

			for (uint32_t i = 0; i < nf; i++) {
				if (seen[names[i]] != gen) {
					seen[names[i]] = gen;
					cum[names[i]] += nv[n];
				}
			}
		}
	}
	build_rows(t, flat, cum, by_cum);
	mem_free(need);
	mem_free(nv);
	mem_free(fc.off);
	mem_free(fc.frame_names);
	mem_free(flat);
	mem_free(cum);
	mem_free(seen);
	return t;
}

void prof_top_free(struct prof_top *t)
{
	if (!t)
		return;
	strtab_free(t->names);
	mem_free(t->rows);
	mem_free(t);
}

size_t prof_top_len(const struct prof_top *t)
{
	return t->n_rows;
}

const struct prof_top_row *prof_top_row(const struct prof_top *t, size_t i)
{
	return i < t->n_rows ? &t->rows[i] : NULL;
}

int64_t prof_top_total(const struct prof_top *t)
{
	return t->total;
}
