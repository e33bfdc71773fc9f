/*
 * flamebearer.c — Pyroscope's flamebearer JSON from a flame tree (flamebearer.h).
 *
 * names[0] is "total" (the root); equal names share one index. levels[d] holds the nodes of
 * depth d left to right as [x, total, self, name] (diff: [lx, ltotal, lself, rx, rtotal, rself,
 * name], left = base, right = new). Within a node's interval its self width comes first, then
 * its children in the flame tree's order; x is delta-encoded per level as the gap from the end
 * of the previous node of that level (prev_x + prev_total), separately for left and right.
 * A pre-order walk emits every level left to right. numTicks is the root total (diff: both
 * totals added, as Pyroscope does). Format notes: docs/internals/format.md "## Flamebearer JSON".
 */
#include <string.h>

#include "base/err.h"
#include "base/hmap.h"
#include "base/mem.h"
#include "base/strtab.h"
#include "format/flamebearer.h"

struct fb_level {
	int64_t *v; /* width values per node */
	size_t n, cap;
};

struct fb_visit {
	uint32_t node;
	uint32_t depth;
	int64_t x;  /* absolute start, new values */
	int64_t bx; /* absolute start, base values (diff) */
};

struct fb_names {
	struct strtab *st;  /* name bytes -> strtab id */
	struct hmap index;  /* strtab id -> names[] index */
	const char **names; /* borrowed from the flame */
	size_t n, cap;
};

static uint32_t name_index(struct fb_names *nm, const char *s)
{
	uint32_t id = strtab_intern_cstr(nm->st, s);
	uint64_t *slot;
	bool found;

	slot = hmap_upsert(&nm->index, id, nm->n, &found);
	if (!found) {
		mem_grow(MEM_FORMAT, (void **)&nm->names, &nm->cap, nm->n + 1, sizeof(*nm->names));
		nm->names[nm->n++] = s;
	}
	return (uint32_t)*slot;
}

static void level_push(struct fb_level *l, const int64_t *v, size_t width)
{
	mem_grow(MEM_FORMAT, (void **)&l->v, &l->cap, l->n + width, sizeof(*l->v));
	memcpy(l->v + l->n, v, width * sizeof(*v));
	l->n += width;
}

/* Offsets at column col become gaps from the end (x + total) of the previous node. */
static void delta_encode(struct fb_level *l, size_t col, size_t width)
{
	int64_t end = 0;

	for (size_t i = col; i + width - col <= l->n; i += width) {
		int64_t x = l->v[i];

		l->v[i] = x - end;
		end = x + l->v[i + 1];
	}
}

void flamebearer_write_object(const struct flame *f, struct json_writer *w)
{
	bool diff = flame_is_diff(f);
	size_t width = diff ? 7 : 4, n_levels = 0, cap_levels = 0, n_stack = 0, cap_stack = 0;
	uint32_t n_nodes = flame_n_nodes(f), *kids = NULL;
	size_t cap_kids = 0;
	struct fb_level *levels = NULL;
	struct fb_visit *stack = NULL;
	struct fb_names nm = {0};
	int64_t max_self = 0, num_ticks = 0, left_ticks = 0, right_ticks = 0;

	nm.st = strtab_new(MEM_FORMAT);
	hmap_init(&nm.index, MEM_FORMAT);
	name_index(&nm, "total");
	if (n_nodes > 0) {
		mem_grow(MEM_FORMAT, (void **)&stack, &cap_stack, 1, sizeof(*stack));
		stack[n_stack++] = (struct fb_visit){0};
		right_ticks = flame_node(f, 0)->total;
		left_ticks = diff ? flame_node(f, 0)->base_total : 0;
	}
	while (n_stack > 0) {
		struct fb_visit v = stack[--n_stack];
		const struct flame_node *nd = flame_node(f, v.node);
		int64_t t[7], x = v.x + nd->self, bx = v.bx + nd->base_self;
		size_t nk = 0;

		if (v.depth >= n_levels) {
			mem_grow(MEM_FORMAT, (void **)&levels, &cap_levels, v.depth + 1,
				 sizeof(*levels));
			memset(levels + n_levels, 0, (v.depth + 1 - n_levels) * sizeof(*levels));
			n_levels = v.depth + 1;
		}
		t[0] = diff ? v.bx : v.x;
		t[1] = diff ? nd->base_total : nd->total;
		t[2] = diff ? nd->base_self : nd->self;
		if (diff) {
			t[3] = v.x;
			t[4] = nd->total;
			t[5] = nd->self;
		}
		t[width - 1] = v.node == 0 ? 0 : name_index(&nm, flame_name(f, nd->name));
		level_push(&levels[v.depth], t, width);
		max_self = EMBER_MAX(max_self, nd->self);
		if (diff)
			max_self = EMBER_MAX(max_self, nd->base_self);

		/* Children in order: self first, then each child after the previous one. Pushed in
		 * reverse so the first child is visited next (pre-order keeps levels sorted). */
		for (uint32_t c = nd->first_child; c != 0 && c < n_nodes;
		     c = flame_node(f, c)->next_sibling) {
			mem_grow(MEM_FORMAT, (void **)&kids, &cap_kids, nk + 1, sizeof(*kids));
			kids[nk++] = c;
		}
		mem_grow(MEM_FORMAT, (void **)&stack, &cap_stack, n_stack + nk, sizeof(*stack));
		for (size_t k = 0; k < nk; k++) {
			const struct flame_node *c = flame_node(f, kids[k]);

			stack[n_stack + nk - 1 - k] =
				(struct fb_visit){kids[k], v.depth + 1, x, bx};
			x += c->total;
			bx += c->base_total;
		}
		n_stack += nk;
	}
	if (n_levels == 0) { /* no tree at all: a zero root keeps decoders happy */
		int64_t t[7] = {0};

		mem_grow(MEM_FORMAT, (void **)&levels, &cap_levels, 1, sizeof(*levels));
		memset(levels, 0, sizeof(*levels));
		level_push(&levels[0], t, width);
		n_levels = 1;
	}
	num_ticks = diff ? left_ticks + right_ticks : right_ticks;

	json_obj_begin(w);
	json_key(w, "names");
	json_arr_begin(w);
	for (size_t i = 0; i < nm.n; i++)
		json_str(w, nm.names[i]);
	json_arr_end(w);
	json_key(w, "levels");
	json_arr_begin(w);
	for (size_t d = 0; d < n_levels; d++) {
		delta_encode(&levels[d], 0, width);
		if (diff)
			delta_encode(&levels[d], 3, width);
		json_arr_begin(w);
		for (size_t i = 0; i < levels[d].n; i++)
			json_int(w, levels[d].v[i]);
		json_arr_end(w);
		mem_free(levels[d].v);
	}
	json_arr_end(w);
	json_key(w, "numTicks");
	json_int(w, num_ticks);
	json_key(w, "maxSelf");
	json_int(w, max_self);
	if (diff) {
		json_key(w, "leftTicks");
		json_int(w, left_ticks);
		json_key(w, "rightTicks");
		json_int(w, right_ticks);
	}
	json_obj_end(w);

	mem_free(levels);
	mem_free(stack);
	mem_free(kids);
	mem_free(nm.names);
	hmap_fini(&nm.index);
	strtab_free(nm.st);
}

int flamebearer_write(const struct flame *f, const struct flamebearer_meta *m, struct buf *out)
{
	struct json_writer w;
	bool diff = flame_is_diff(f);

	json_init(&w, out);
	json_obj_begin(&w);
	json_key(&w, "version");
	json_int(&w, 1);
	json_key(&w, "flamebearer");
	flamebearer_write_object(f, &w);
	json_key(&w, "metadata");
	json_obj_begin(&w);
	json_key(&w, "format");
	json_str(&w, diff ? "double" : "single");
	json_key(&w, "spyName");
	json_str(&w, m && m->spy_name ? m->spy_name : "unknown");
	json_key(&w, "sampleRate");
	json_int(&w, m && m->sample_rate ? m->sample_rate : 100);
	json_key(&w, "units");
	json_str(&w, m && m->units ? m->units : "samples");
	json_key(&w, "name");
	json_str(&w, m && m->name ? m->name : "");
	json_obj_end(&w);
	json_key(&w, "timeline");
	if (m && m->timeline) {
		const struct flamebearer_timeline *t = m->timeline;

		json_obj_begin(&w);
		json_key(&w, "startTime");
		json_int(&w, t->start_s);
		json_key(&w, "samples");
		json_arr_begin(&w);
		for (size_t i = 0; i < t->n_samples; i++)
			json_int(&w, t->samples[i]);
		json_arr_end(&w);
		json_key(&w, "durationDelta");
		json_int(&w, t->step_s);
		json_key(&w, "watermarks");
		json_obj_begin(&w);
		json_obj_end(&w);
		json_obj_end(&w);
	} else {
		json_null(&w);
	}
	json_key(&w, "groups"); /* an empty map, as Pyroscope's single render sends */
	json_obj_begin(&w);
	json_obj_end(&w);
	json_key(&w, "heatmap");
	json_null(&w);
	if (diff && flame_n_nodes(f) > 0) {
		/* Pyroscope's own responses carry these at the top level (FlamebearerProfileV1). */
		json_key(&w, "leftTicks");
		json_int(&w, flame_node(f, 0)->base_total);
		json_key(&w, "rightTicks");
		json_int(&w, flame_node(f, 0)->total);
	}
	json_obj_end(&w);
	return json_finish(&w);
}
