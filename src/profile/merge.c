/*
 * merge.c — combining profiles: merge (every record of src re-interned into dst), scale, and
 * selecting one sample type.
 *
 * A merge translates ids table by table through memo arrays (src id -> dst id) filled on first
 * use, so each src record is interned into dst once per call; stack nodes are translated in id
 * order (parents come before children) after marking the nodes the copied samples reach. One
 * scratch block per call, no per-record allocation. Compatibility is checked before dst is
 * touched, so a failed merge leaves dst unchanged. Never logs.
 */
#include "profile/merge.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"

#define UNMAPPED UINT32_MAX

/* One translation from src to dst. */
struct mctx {
	struct prof *dst;
	const struct prof *src;
	uint32_t n_str, n_map, n_fn, n_loc, n_ls, n_nodes;
	uint32_t *memo; /* one block: the arrays below */
	uint32_t *str;	/* [n_str] */
	uint32_t *map;	/* [n_map + 1] */
	uint32_t *fn;	/* [n_fn + 1] */
	uint32_t *loc;	/* [n_loc + 1] */
	uint32_t *ls;	/* [n_ls] */
	uint32_t *node; /* [n_nodes]: 0 = not needed, later the dst node */
	struct prof_line *lines;
	size_t cap_lines;
	struct prof_label *labels;
	size_t cap_labels;
	uint32_t *stack; /* scratch: one stack's dst locations, leaf first */
	size_t cap_stack;
	int64_t *vals;		     /* [n dst sample types] */
	const struct prof_kv *extra; /* string labels added to every sample (dst ids below) */
	size_t n_extra;
	uint32_t *extra_ids; /* [2 * n_extra]: key, value in dst */
	uint32_t ls0;	     /* the dst label set of src's empty one (extras only) */
};

static void mctx_init(struct mctx *c, struct prof *dst, const struct prof *src, size_t n_vals)
{
	size_t n;

	memset(c, 0, sizeof(*c));
	c->dst = dst;
	c->src = src;
	c->n_str = prof_n_strings(src);
	c->n_map = prof_n_mappings(src);
	c->n_fn = prof_n_functions(src);
	c->n_loc = prof_n_locations(src);
	c->n_ls = prof_n_labelsets(src);
	c->n_nodes = prof_n_nodes(src);
	n = (size_t)c->n_str + c->n_map + 1 + c->n_fn + 1 + c->n_loc + 1 + c->n_ls;
	c->memo = mem_alloc(MEM_PROFILE, (n + c->n_nodes) * sizeof(uint32_t));
	memset(c->memo, 0xff, n * sizeof(uint32_t));
	c->str = c->memo;
	c->map = c->str + c->n_str;
	c->fn = c->map + c->n_map + 1;
	c->loc = c->fn + c->n_fn + 1;
	c->ls = c->loc + c->n_loc + 1;
	c->node = c->ls + c->n_ls;
	memset(c->node, 0, c->n_nodes * sizeof(uint32_t));
	c->vals = mem_calloc(MEM_PROFILE, n_vals ? n_vals : 1, sizeof(int64_t));
}

static void mctx_fini(struct mctx *c)
{
	mem_free(c->memo);
	mem_free(c->lines);
	mem_free(c->labels);
	mem_free(c->stack);
	mem_free(c->vals);
}

static uint32_t map_str(struct mctx *c, uint32_t id)
{
	if (id == 0 || id >= c->n_str)
		return 0;
	if (c->str[id] == UNMAPPED)
		c->str[id] = prof_intern_from(c->dst, c->src, id);
	return c->str[id];
}

static uint32_t map_mapping(struct mctx *c, uint32_t id)
{
	struct prof_mapping m;

	if (id == 0 || id > c->n_map)
		return 0;
	if (c->map[id] != UNMAPPED)
		return c->map[id];
	m = *prof_mapping_get(c->src, id);
	m.filename = map_str(c, m.filename);
	m.build_id = map_str(c, m.build_id);
	c->map[id] = prof_add_mapping(c->dst, &m);
	return c->map[id];
}

static uint32_t map_function(struct mctx *c, uint32_t id)
{
	struct prof_function f;

	if (id == 0 || id > c->n_fn)
		return 0;
	if (c->fn[id] != UNMAPPED)
		return c->fn[id];
	f = *prof_function_get(c->src, id);
	f.name = map_str(c, f.name);
	f.system_name = map_str(c, f.system_name);
	f.filename = map_str(c, f.filename);
	c->fn[id] = prof_add_function(c->dst, &f);
	return c->fn[id];
}

static uint32_t map_location(struct mctx *c, uint32_t id)
{
	struct prof_location l;

	if (id == 0 || id > c->n_loc)
		return 0;
	if (c->loc[id] != UNMAPPED)
		return c->loc[id];
	prof_location_get(c->src, id, &l);
	mem_grow(MEM_PROFILE, (void **)&c->lines, &c->cap_lines, l.n_lines ? l.n_lines : 1,
		 sizeof(*c->lines));
	for (uint32_t i = 0; i < l.n_lines; i++) {
		c->lines[i] = l.lines[i];
		c->lines[i].function = map_function(c, l.lines[i].function);
	}
	c->loc[id] = prof_add_location(c->dst, map_mapping(c, l.mapping), l.address, c->lines,
				       l.n_lines, l.is_folded);
	return c->loc[id];
}

static uint32_t map_labelset(struct mctx *c, uint32_t id)
{
	const struct prof_label *src;
	size_t n, k = 0;

	if (id >= c->n_ls || (id == 0 && !c->n_extra))
		return 0;
	if (id == 0 && c->ls0 != UNMAPPED)
		return c->ls0;
	if (id && c->ls[id] != UNMAPPED)
		return c->ls[id];
	src = id ? prof_labelset_get(c->src, id, &n) : NULL;
	if (!id)
		n = 0;
	mem_grow(MEM_PROFILE, (void **)&c->labels, &c->cap_labels, n + c->n_extra + 1,
		 sizeof(*c->labels));
	for (size_t i = 0; i < n; i++) {
		uint32_t key = map_str(c, src[i].key);
		bool over = false;

		for (size_t e = 0; e < c->n_extra && !over; e++)
			over = c->extra_ids[2 * e] == key; /* an extra label replaces it */
		if (over)
			continue;
		c->labels[k].key = key;
		c->labels[k].str = map_str(c, src[i].str);
		c->labels[k].num = src[i].num;
		c->labels[k++].num_unit = map_str(c, src[i].num_unit);
	}
	for (size_t e = 0; e < c->n_extra; e++)
		c->labels[k++] = (struct prof_label){.key = c->extra_ids[2 * e],
						     .str = c->extra_ids[2 * e + 1]};
	if (!id)
		return c->ls0 = prof_add_labelset(c->dst, c->labels, k);
	c->ls[id] = prof_add_labelset(c->dst, c->labels, k);
	return c->ls[id];
}

/* Translate the stack nodes marked non-zero in c->node (and, first, their ancestors). */
static void map_nodes(struct mctx *c)
{
	const struct prof *src = c->src;

	for (uint32_t n = c->n_nodes; n-- > 1;)
		if (c->node[n])
			c->node[prof_node_parent(src, n)] = 1;
	if (c->n_nodes)
		c->node[0] = 0;
	for (uint32_t n = 1; n < c->n_nodes; n++) {
		if (!c->node[n])
			continue;
		c->node[n] = prof_node_child(c->dst, c->node[prof_node_parent(src, n)],
					     map_location(c, prof_node_location(src, n)));
	}
}

/* The dst node of src node n, translating its stack location by location (leaf first) and
 * letting prof_add_stack find the whole stack with one lookup. */
static uint32_t map_stack(struct mctx *c, uint32_t n)
{
	size_t depth = 0;

	for (uint32_t m = n; m && m < c->n_nodes; m = prof_node_parent(c->src, m)) {
		mem_grow(MEM_PROFILE, (void **)&c->stack, &c->cap_stack, depth + 1,
			 sizeof(uint32_t));
		c->stack[depth++] = map_location(c, prof_node_location(c->src, m));
	}
	return prof_add_stack(c->dst, c->stack, depth);
}

/* Copy the kept samples of src; value j of src goes to dst index perm[j] (SIZE_MAX = dropped).
 * Stacks are translated per sample when samples are few next to the nodes (a fresh profile:
 * each whole-stack lookup replaces one lookup per node), otherwise node by node. */
static void copy_samples(struct mctx *c, const bool *keep, const size_t *perm, size_t n_src_vals,
			 size_t n_dst_vals)
{
	size_t n = prof_n_samples(c->src);
	bool per_sample = n * 16 < c->n_nodes;
	struct prof_sample s;

	if (!per_sample) {
		for (size_t i = 0; i < n; i++) {
			if (keep && !keep[i])
				continue;
			prof_sample_get(c->src, i, &s);
			if (s.node < c->n_nodes)
				c->node[s.node] = 1;
		}
		map_nodes(c);
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t node;

		if (keep && !keep[i])
			continue;
		prof_sample_get(c->src, i, &s);
		memset(c->vals, 0, (n_dst_vals ? n_dst_vals : 1) * sizeof(int64_t));
		for (size_t j = 0; j < n_src_vals; j++)
			if (perm[j] != SIZE_MAX)
				c->vals[perm[j]] = s.values[j];
		if (s.node >= c->n_nodes)
			node = 0;
		else
			node = per_sample ? map_stack(c, s.node) : c->node[s.node];
		prof_add_sample(c->dst, node, map_labelset(c, s.labelset), c->vals);
	}
}

static bool str_eq(const struct prof *a, uint32_t ia, const struct prof *b, uint32_t ib)
{
	size_t la = prof_string_len(a, ia);

	return la == prof_string_len(b, ib) &&
	       memcmp(prof_string(a, ia), prof_string(b, ib), la) == 0;
}

static void format_types(const struct prof *p, char *out, size_t cap)
{
	const struct prof_value_type *t = prof_sample_types(p);
	size_t n = prof_n_sample_types(p), off = 0;

	out[0] = 0;
	if (n == 0) {
		snprintf(out, cap, "(none)");
		return;
	}
	for (size_t i = 0; i < n && off < cap; i++) {
		int w = snprintf(out + off, cap - off, "%s%s/%s", i ? ", " : "",
				 prof_string(p, t[i].type), prof_string(p, t[i].unit));

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/* perm[j] = index in dst of src's sample type j. 0, or -EMBER_EFORMAT when the sets differ. */
static int match_types(const struct prof *dst, const struct prof *src, size_t *perm,
		       struct ember_diag *d)
{
	size_t nd = prof_n_sample_types(dst), ns = prof_n_sample_types(src);
	const struct prof_value_type *td = prof_sample_types(dst), *ts = prof_sample_types(src);
	char have[200], got[200];
	bool ok = true;

	if (nd == 0 && prof_n_samples(dst) == 0) {
		for (size_t j = 0; j < ns; j++)
			perm[j] = j;
		return 0; /* dst adopts src's types */
	}
	if (ns == 0 && prof_n_samples(src) == 0)
		return 0; /* nothing to add */
	if (nd != ns) {
		ok = false;
	} else {
		for (size_t j = 0; j < ns && ok; j++) {
			perm[j] = SIZE_MAX;
			for (size_t i = 0; i < nd; i++) {
				bool used = false;

				for (size_t k = 0; k < j && !used; k++)
					used = perm[k] == i;
				if (!used && str_eq(dst, td[i].type, src, ts[j].type) &&
				    str_eq(dst, td[i].unit, src, ts[j].unit)) {
					perm[j] = i;
					break;
				}
			}
			ok = perm[j] != SIZE_MAX;
		}
	}
	if (ok)
		return 0;
	format_types(dst, have, sizeof(have));
	format_types(src, got, sizeof(got));
	return ember_diag_set(d, -EMBER_EFORMAT,
			      "cannot merge profiles with different sample types: [%s] and [%s]",
			      have, got);
}

static void merge_meta(struct mctx *c)
{
	struct prof_meta *dm = prof_meta(c->dst);
	const struct prof_meta *sm = prof_meta_get(c->src);
	const uint32_t *dc, *sc;
	size_t n_dc, n_sc;

	if (!dm->period_type.type && !dm->period_type.unit) {
		dm->period_type.type = map_str(c, sm->period_type.type);
		dm->period_type.unit = map_str(c, sm->period_type.unit);
	}
	if (sm->period > dm->period)
		dm->period = sm->period;
	if (sm->time_ns && (!dm->time_ns || sm->time_ns < dm->time_ns))
		dm->time_ns = sm->time_ns;
	dm->duration_ns += sm->duration_ns;
	if (!dm->drop_frames)
		dm->drop_frames = map_str(c, sm->drop_frames);
	if (!dm->keep_frames)
		dm->keep_frames = map_str(c, sm->keep_frames);
	if (!dm->default_sample_type)
		dm->default_sample_type = map_str(c, sm->default_sample_type);
	if (!dm->doc_url)
		dm->doc_url = map_str(c, sm->doc_url);
	sc = prof_comments(c->src, &n_sc);
	for (size_t j = 0; j < n_sc; j++) {
		uint32_t s = map_str(c, sc[j]);
		bool seen = false;

		dc = prof_comments(c->dst, &n_dc);
		for (size_t i = 0; i < n_dc && !seen; i++)
			seen = dc[i] == s;
		if (!seen)
			prof_add_comment(c->dst, s);
	}
}

/* dst == src: every kept sample counts twice. */
static void merge_self(struct prof *p, const bool *keep)
{
	size_t nt = prof_n_sample_types(p), n = prof_n_samples(p);

	for (size_t i = 0; i < n; i++) {
		int64_t *v = prof_sample_values(p, i);

		if (keep && !keep[i])
			continue;
		for (size_t j = 0; j < nt; j++)
			v[j] *= 2;
	}
	prof_meta(p)->duration_ns *= 2;
}

static int merge_with(struct prof *dst, const struct prof *src, const bool *keep,
		      const struct prof_kv *extra, size_t n_extra, struct ember_diag *d);

int prof_merge_subset(struct prof *dst, const struct prof *src, const bool *keep,
		      struct ember_diag *d)
{
	return merge_with(dst, src, keep, NULL, 0, d);
}

int prof_merge_labeled(struct prof *dst, const struct prof *src, const struct prof_kv *extra,
		       size_t n_extra, struct ember_diag *d)
{
	if (dst == src)
		return ember_diag_set(d, -EMBER_EUSAGE, "prof_merge_labeled: dst is src");
	return merge_with(dst, src, NULL, extra, n_extra, d);
}

static int merge_with(struct prof *dst, const struct prof *src, const bool *keep,
		      const struct prof_kv *extra, size_t n_extra, struct ember_diag *d)
{
	size_t ns = prof_n_sample_types(src), nd, perm_small[16], *perm = perm_small;
	struct mctx c;
	int rc;

	if (dst == src) {
		merge_self(dst, keep);
		return 0;
	}
	if (ns > EMBER_ARRAY_SIZE(perm_small))
		perm = mem_alloc(MEM_PROFILE, ns * sizeof(*perm));
	rc = match_types(dst, src, perm, d);
	if (rc < 0)
		goto out;
	nd = prof_n_sample_types(dst);
	mctx_init(&c, dst, src, EMBER_MAX(nd, ns));
	if (n_extra) {
		c.extra = extra;
		c.n_extra = n_extra;
		c.ls0 = UNMAPPED;
		c.extra_ids = mem_alloc(MEM_PROFILE, 2 * n_extra * sizeof(*c.extra_ids));
		for (size_t e = 0; e < n_extra; e++) {
			c.extra_ids[2 * e] = prof_intern_cstr(dst, extra[e].key);
			c.extra_ids[2 * e + 1] = prof_intern_cstr(dst, extra[e].value);
		}
	}
	if (nd == 0 && ns > 0) {
		const struct prof_value_type *ts = prof_sample_types(src);

		for (size_t j = 0; j < ns; j++)
			prof_add_sample_type(dst, map_str(&c, ts[j].type), map_str(&c, ts[j].unit));
		nd = ns;
	}
	merge_meta(&c);
	if (nd == ns)
		copy_samples(&c, keep, perm, ns, nd);
	mem_free(c.extra_ids);
	mctx_fini(&c);
out:
	if (perm != perm_small)
		mem_free(perm);
	return rc;
}

int prof_merge(struct prof *dst, const struct prof *src, struct ember_diag *d)
{
	return prof_merge_subset(dst, src, NULL, d);
}

static int64_t scale_value(int64_t v, double ratio)
{
	double x = (double)v * ratio;

	if (isnan(x))
		return 0;
	if (x >= 9223372036854775807.0)
		return INT64_MAX;
	if (x <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)llround(x);
}

void prof_scale(struct prof *p, double ratio)
{
	size_t nt = prof_n_sample_types(p), n = prof_n_samples(p);

	if (ratio == 1.0)
		return;
	for (size_t i = 0; i < n; i++) {
		int64_t *v = prof_sample_values(p, i);

		for (size_t j = 0; j < nt; j++)
			v[j] = scale_value(v[j], ratio);
	}
}

struct prof *prof_select_type(const struct prof *p, size_t vi)
{
	size_t ns = prof_n_sample_types(p), *perm;
	const struct prof_value_type *t;
	struct prof *out;
	struct mctx c;

	if (vi >= ns)
		return NULL;
	out = prof_new();
	mctx_init(&c, out, p, 1);
	/* Every record, in id order: the copy keeps all symbols and their ids. */
	for (uint32_t i = 1; i < c.n_str; i++)
		map_str(&c, i);
	for (uint32_t i = 1; i <= c.n_map; i++)
		map_mapping(&c, i);
	for (uint32_t i = 1; i <= c.n_fn; i++)
		map_function(&c, i);
	for (uint32_t i = 1; i <= c.n_loc; i++)
		map_location(&c, i);
	for (uint32_t i = 1; i < c.n_ls; i++)
		map_labelset(&c, i);
	for (uint32_t i = 1; i < c.n_nodes; i++)
		c.node[i] = 1;
	t = prof_sample_types(p);
	prof_add_sample_type(out, map_str(&c, t[vi].type), map_str(&c, t[vi].unit));
	merge_meta(&c);
	if (!str_eq(p, prof_meta_get(p)->default_sample_type, p, t[vi].type))
		prof_meta(out)->default_sample_type = 0;
	perm = mem_alloc(MEM_PROFILE, ns * sizeof(*perm));
	for (size_t j = 0; j < ns; j++)
		perm[j] = j == vi ? 0 : SIZE_MAX;
	copy_samples(&c, NULL, perm, ns, 1);
	mem_free(perm);
	mctx_fini(&c);
	return out;
}
