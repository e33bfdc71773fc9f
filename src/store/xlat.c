/*
 * xlat.c — copying symbols and stacks from one dictionary (struct prof) into another, each
 * record on first use and once: used by queries (source dictionary -> output profile) and by
 * compaction (block dictionaries -> the merged block's). The maps are owned by struct
 * store_xlat (store_xlat_fini). Never logs; ids are trusted (validated when decoded).
 */
#include <string.h>

#include "base/mem.h"
#include "store/store_int.h"

/* Grows *arr to n entries (keeping the allocation across sources) and marks all unmapped. */
static void map_reset(uint32_t **arr, size_t *cap, size_t n)
{
	if (n > *cap) {
		mem_free(*arr);
		*arr = mem_alloc(MEM_STORE, n * 4);
		*cap = n;
	}
	memset(*arr, 0xff, n * 4);
	(*arr)[0] = 0;
}

/* How far the maps reach (what store_xlat_extend keeps). */
static void remember(struct store_xlat *x)
{
	const struct prof *s = x->src;

	x->n[0] = (size_t)prof_n_strings(s) + 1;
	x->n[1] = (size_t)prof_n_mappings(s) + 1;
	x->n[2] = (size_t)prof_n_functions(s) + 1;
	x->n[3] = (size_t)prof_n_locations(s) + 1;
	x->n[4] = (size_t)prof_n_nodes(s) + 1;
}

void store_xlat_init(struct store_xlat *x, const struct prof *src, struct prof *dst)
{
	x->src = src;
	x->dst = dst;
	map_reset(&x->str, &x->cap[0], (size_t)prof_n_strings(src) + 1);
	map_reset(&x->map, &x->cap[1], (size_t)prof_n_mappings(src) + 1);
	map_reset(&x->fn, &x->cap[2], (size_t)prof_n_functions(src) + 1);
	map_reset(&x->loc, &x->cap[3], (size_t)prof_n_locations(src) + 1);
	map_reset(&x->node, &x->cap[4], (size_t)prof_n_nodes(src) + 1);
	remember(x);
}

/* Grows *arr from its n_old mapped entries to n, the new ones unmapped. */
static void map_extend(uint32_t **arr, size_t *cap, size_t n_old, size_t n)
{
	if (n <= n_old)
		return;
	if (n > *cap) {
		size_t c = EMBER_MAX(n, *cap + *cap / 2);

		*arr = mem_realloc(MEM_STORE, *arr, c * 4);
		*cap = c;
	}
	memset(*arr + n_old, 0xff, (n - n_old) * 4);
}

void store_xlat_extend(struct store_xlat *x)
{
	const struct prof *s = x->src;

	map_extend(&x->str, &x->cap[0], x->n[0], (size_t)prof_n_strings(s) + 1);
	map_extend(&x->map, &x->cap[1], x->n[1], (size_t)prof_n_mappings(s) + 1);
	map_extend(&x->fn, &x->cap[2], x->n[2], (size_t)prof_n_functions(s) + 1);
	map_extend(&x->loc, &x->cap[3], x->n[3], (size_t)prof_n_locations(s) + 1);
	map_extend(&x->node, &x->cap[4], x->n[4], (size_t)prof_n_nodes(s) + 1);
	remember(x);
}

void store_xlat_fini(struct store_xlat *x)
{
	mem_free(x->str);
	mem_free(x->map);
	mem_free(x->fn);
	mem_free(x->loc);
	mem_free(x->node);
	memset(x, 0, sizeof(*x));
}

uint32_t store_xlat_str(struct store_xlat *x, uint32_t id)
{
	if (x->str[id] == UINT32_MAX)
		x->str[id] = prof_intern_from(x->dst, x->src, id);
	return x->str[id];
}

static uint32_t x_map(struct store_xlat *x, uint32_t id)
{
	if (x->map[id] == UINT32_MAX) {
		struct prof_mapping m = *prof_mapping_get(x->src, id);

		m.filename = store_xlat_str(x, m.filename);
		m.build_id = store_xlat_str(x, m.build_id);
		x->map[id] = prof_add_mapping(x->dst, &m);
	}
	return x->map[id];
}

static uint32_t x_fn(struct store_xlat *x, uint32_t id)
{
	if (x->fn[id] == UINT32_MAX) {
		struct prof_function f = *prof_function_get(x->src, id);

		f.name = store_xlat_str(x, f.name);
		f.system_name = store_xlat_str(x, f.system_name);
		f.filename = store_xlat_str(x, f.filename);
		x->fn[id] = prof_add_function(x->dst, &f);
	}
	return x->fn[id];
}

static uint32_t x_loc(struct store_xlat *x, uint32_t id)
{
	if (x->loc[id] == UINT32_MAX) {
		struct prof_location l;
		struct prof_line small[16], *lines = small;

		prof_location_get(x->src, id, &l);
		if (l.n_lines > 16)
			lines = mem_alloc(MEM_STORE, l.n_lines * sizeof(*lines));
		for (uint32_t k = 0; k < l.n_lines; k++) {
			lines[k] = l.lines[k];
			lines[k].function = x_fn(x, lines[k].function);
		}
		x->loc[id] = prof_add_location(x->dst, x_map(x, l.mapping), l.address, lines,
					       l.n_lines, l.is_folded);
		if (lines != small)
			mem_free(lines);
	}
	return x->loc[id];
}

uint32_t store_xlat_node(struct store_xlat *x, uint32_t id)
{
	uint32_t stack[64], n = 0, cur = id;

	while (x->node[cur] == UINT32_MAX) {
		if (n == 64) {
			/* deep stack: recurse on the parent chunk */
			store_xlat_node(x, cur);
			break;
		}
		stack[n++] = cur;
		cur = prof_node_parent(x->src, cur);
	}
	while (n--) {
		uint32_t nd = stack[n];

		x->node[nd] = prof_node_child(x->dst, x->node[prof_node_parent(x->src, nd)],
					      x_loc(x, prof_node_location(x->src, nd)));
	}
	return x->node[id];
}
