/*
 * pprof_decode.c — decodes perftools.profiles.Profile (raw or gzipped) into a struct prof, or
 * straight into an existing one (pprof_decode_merge).
 *
 * Zero-copy and two-phase. Phase 1 scans the top-level message once, recording where every
 * table entry lies (spans into the input), then parses and validates the tables into scratch
 * arrays: string references in range, ids nonzero and unique (file ids map to table indices
 * through struct idmap), every reference resolvable. Phase 2 builds the profile with prof_*,
 * which cannot fail, so a merge validates every sample before touching dst. Phase 1 is in
 * pprof_parse.c, the shared decoder state in pprof_dec_int.h; a merge session's (pprof_merger)
 * caches in pprof_mcache.c. Owns only scratch
 * memory, freed before returning; the input is never written and never retained (strings are
 * interned into the prof). Must never abort, read out of bounds or leave *out / dst changed on
 * bad input: every byte is hostile, every size is bounded by the input length first.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/hmap.h"
#include "base/mem.h"
#include "base/wire.h"
#include "format/gzip.h"
#include "format/pprof.h"
#include "format/pprof_int.h"

#include "format/pprof_dec_int.h"

/* ---- merge: sample type matching (reads dst only) ---- */

static bool str_eq(const struct pdec *c, const struct prof *p, uint32_t id, uint32_t idx)
{
	size_t n = prof_string_len(p, id);

	if (idx >= c->strings.n)
		return n == 0;
	return n == c->strings.v[idx].len &&
	       memcmp(prof_string(p, id), c->base + c->strings.v[idx].off, n) == 0;
}

static bool type_eq(const struct pdec *c, const struct prof_value_type *d,
		    const struct prof_value_type *src)
{
	return str_eq(c, c->dst, d->type, src->type) && str_eq(c, c->dst, d->unit, src->unit);
}

static int type_name(const struct pdec *c, uint32_t idx, const char **s)
{
	if (idx >= c->strings.n) {
		*s = "";
		return 0;
	}
	*s = (const char *)c->base + c->strings.v[idx].off;
	return (int)EMBER_MIN(c->strings.v[idx].len, 64u);
}

static int match_types(struct pdec *c)
{
	const struct prof_value_type *dt = prof_sample_types(c->dst);
	size_t nd = prof_n_sample_types(c->dst), ns = c->types.n;
	uint8_t used[PPROF_MAX_SAMPLE_TYPES]; /* dst types already matched */

	for (size_t i = 0; i < ns; i++)
		c->perm[i] = (uint32_t)i;
	if (nd == 0 && (ns == 0 || prof_n_samples(c->dst) == 0)) {
		c->adopt_types = ns > 0;
		return 0;
	}
	if (nd != ns)
		return pdec_fail(c, -EMBER_EFORMAT,
				 "sample types differ: the profile has %zu, the destination %zu",
				 ns, nd);
	memset(used, 0, nd);
	for (size_t i = 0; i < ns; i++) {
		const char *ts, *us;
		int tl, ul;
		size_t j;

		/* the same order is the common case; else the first unused match */
		j = nd;
		if (!used[i] && type_eq(c, &dt[i], &c->vt[i]))
			j = i;
		for (size_t k = 0; j == nd && k < nd; k++)
			if (!used[k] && type_eq(c, &dt[k], &c->vt[i]))
				j = k;
		if (j < nd) {
			used[j] = 1;
			c->perm[i] = (uint32_t)j;
			continue;
		}
		tl = type_name(c, c->vt[i].type, &ts);
		ul = type_name(c, c->vt[i].unit, &us);
		return pdec_fail(c, -EMBER_EFORMAT,
				 "sample types differ: %.*s/%.*s is not among the destination's "
				 "(byte %u)",
				 tl, ts, ul, us, c->types.v[i].off);
	}
	return 0;
}

/* ---- phase 2: building (cannot fail) ---- */

/* File index -> target id, the record added to the target on first use. Each lookup is inline
 * for the common case (done already); the adding is out of line. */
static __attribute__((noinline)) uint32_t str_add(struct pdec *c, uint32_t i)
{
	struct span sp = c->strings.v[i];

	return c->str_dst[i] = prof_intern(c->dst, c->base + sp.off, sp.len);
}

static inline uint32_t str_get(struct pdec *c, uint32_t i)
{
	uint32_t s = c->str_dst[i];

	return s != NONE ? s : str_add(c, i);
}

static __attribute__((noinline)) uint32_t map_add(struct pdec *c, uint32_t mi)
{
	struct prof_mapping m = c->map[mi];

	m.filename = str_get(c, m.filename);
	m.build_id = str_get(c, m.build_id);
	return c->map_dst[mi] = prof_add_mapping(c->dst, &m);
}

static inline uint32_t map_get(struct pdec *c, uint32_t mi)
{
	uint32_t m = c->map_dst[mi];

	return m ? m : map_add(c, mi);
}

static __attribute__((noinline)) uint32_t fn_add(struct pdec *c, uint32_t fi)
{
	struct prof_function f = c->fn[fi];

	f.name = str_get(c, f.name);
	f.system_name = str_get(c, f.system_name);
	f.filename = str_get(c, f.filename);
	return c->fn_dst[fi] = prof_add_function(c->dst, &f);
}

static inline uint32_t fn_get(struct pdec *c, uint32_t fi)
{
	uint32_t f = c->fn_dst[fi];

	return f ? f : fn_add(c, fi);
}

static __attribute__((noinline)) uint32_t loc_add(struct pdec *c, uint32_t li)
{
	const struct ploc *l = &c->loc[li];

	for (uint32_t k = 0; k < l->n_lines; k++) {
		const struct prof_line *ln = &c->lines[l->line0 + k];

		c->line_dst[k] = *ln;
		c->line_dst[k].function = ln->function ? fn_get(c, ln->function - 1) : 0;
	}
	return c->loc_dst[li] =
		       prof_add_location(c->dst, l->mapping ? map_get(c, l->mapping - 1) : 0,
					 l->address, c->line_dst, l->n_lines, l->is_folded);
}

static inline uint32_t loc_get(struct pdec *c, uint32_t li)
{
	uint32_t l = c->loc_dst[li];

	return l ? l : loc_add(c, li);
}

/* Notes the step parent -> child through a location in its memo, most recent first. */
static void memo_step(struct memo *m, uint32_t parent, uint32_t child)
{
	m->parent[1] = m->parent[0];
	m->child[1] = m->child[0];
	m->parent[0] = parent;
	m->child[0] = child;
}

/* Decode: the parsed sample's locations s_loc[0..k) (leaf first) below node, which is new, so
 * none of theirs exist yet: added at once by prof_node_chain. Returns the leaf's node. */
static uint32_t build_new_suffix(struct pdec *c, uint32_t node, size_t k)
{
	uint32_t *locs = c->chain, *nodes = c->chain + k;

	for (size_t j = 0; j < k; j++)
		locs[j] = loc_get(c, c->s_loc[k - 1 - j]);
	prof_node_chain(c->dst, node, locs, k, nodes);
	for (size_t j = 0; j < k; j++) {
		memo_step(&c->memo[c->s_loc[k - 1 - j]], node, nodes[j]);
		node = nodes[j];
	}
	return node;
}

/* The node of the parsed sample's stack. A merge goes through prof_add_stack: dst has usually
 * seen the stack before (from another source) and its whole-stack cache finds it in one lookup.
 * A decode walks from the root with the per-location memo, which skips most prof_node_child
 * calls because stacks share their callers. */
static uint32_t build_stack(struct pdec *c)
{
	uint32_t node = 0;

	if (c->merge) {
		for (size_t k = 0; k < c->s_nloc; k++)
			c->s_loc[k] = loc_get(c, c->s_loc[k]); /* indices -> dst ids, in place */
		return prof_add_stack(c->dst, c->s_loc, c->s_nloc);
	}
	for (size_t k = c->s_nloc; k-- > 0;) {
		struct memo *m = &c->memo[c->s_loc[k]];
		uint32_t child, n_nodes = prof_n_nodes(c->dst);

		if (m->parent[0] == node) {
			node = m->child[0];
			continue;
		}
		if (m->parent[1] == node)
			child = m->child[1];
		else
			child = prof_node_child(c->dst, node, loc_get(c, c->s_loc[k]));
		memo_step(m, node, child);
		node = child;
		if (node == n_nodes && k > 0)
			return build_new_suffix(c, node, k); /* a new node: all below it are new */
	}
	return node;
}

/* The target label set of the sample in c->s_lab (0 when it has none). */
static uint32_t build_labelset(struct pdec *c)
{
	if (!c->s_nlab)
		return 0;
	for (size_t k = 0; k < c->s_nlab; k++) {
		const struct prof_label *lb = &c->s_lab[k];

		c->lab_dst[k].key = str_get(c, lb->key);
		c->lab_dst[k].str = lb->str ? str_get(c, lb->str) : 0;
		c->lab_dst[k].num = lb->num;
		c->lab_dst[k].num_unit = lb->num_unit ? str_get(c, lb->num_unit) : 0;
	}
	return prof_add_labelset(c->dst, c->lab_dst, c->s_nlab);
}

static void build_sample(struct pdec *c)
{
	uint32_t node = build_stack(c), labelset = build_labelset(c);
	const int64_t *vals = c->s_val;

	if (c->merge) {
		for (size_t k = 0; k < c->s_nval; k++)
			c->val_dst[c->perm[k]] = c->s_val[k];
		vals = c->val_dst;
	}
	prof_add_sample(c->dst, node, labelset, vals);
}

static struct prof_value_type vt_get(struct pdec *c, struct prof_value_type vt)
{
	struct prof_value_type out = {str_get(c, vt.type), str_get(c, vt.unit)};

	return out;
}

/* Decode: the profile's own metadata. Merge: combined as pprof merges (see pprof.h); strings
 * are interned only when they are taken. */
static void build_meta(struct pdec *c)
{
	struct prof_meta *m = prof_meta(c->dst);
	struct hmap seen;
	const uint32_t *old;
	size_t n_old;

	if (!c->merge) {
		m->period_type = vt_get(c, c->period_type);
		m->period = c->period;
		m->time_ns = c->time_ns;
		m->duration_ns = c->duration_ns;
		m->drop_frames = str_get(c, (uint32_t)c->drop_frames.idx);
		m->keep_frames = str_get(c, (uint32_t)c->keep_frames.idx);
		m->default_sample_type = str_get(c, (uint32_t)c->default_sample_type.idx);
		m->doc_url = str_get(c, (uint32_t)c->doc_url.idx);
		for (size_t i = 0; i < c->n_comments; i++)
			prof_add_comment(c->dst, str_get(c, (uint32_t)c->comments[i].idx));
		return;
	}
	if (c->time_ns && (!m->time_ns || c->time_ns < m->time_ns))
		m->time_ns = c->time_ns;
	m->duration_ns = (int64_t)((uint64_t)m->duration_ns + (uint64_t)c->duration_ns);
	m->period = EMBER_MAX(m->period, c->period);
	if (!m->period_type.type && !m->period_type.unit)
		m->period_type = vt_get(c, c->period_type);
	if (!m->drop_frames)
		m->drop_frames = str_get(c, (uint32_t)c->drop_frames.idx);
	if (!m->keep_frames)
		m->keep_frames = str_get(c, (uint32_t)c->keep_frames.idx);
	if (!m->default_sample_type)
		m->default_sample_type = str_get(c, (uint32_t)c->default_sample_type.idx);
	if (!m->doc_url)
		m->doc_url = str_get(c, (uint32_t)c->doc_url.idx);
	if (!c->n_comments)
		return;
	hmap_init(&seen, MEM_FORMAT);
	old = prof_comments(c->dst, &n_old);
	for (size_t i = 0; i < n_old; i++)
		hmap_put(&seen, old[i], 1);
	for (size_t i = 0; i < c->n_comments; i++) {
		uint32_t s = str_get(c, (uint32_t)c->comments[i].idx);
		bool found;

		hmap_upsert(&seen, s, 1, &found);
		if (!found)
			prof_add_comment(c->dst, s);
	}
	hmap_fini(&seen);
}

static void build_tables(struct pdec *c)
{
	if (c->merge) {
		if (c->adopt_types)
			for (size_t i = 0; i < c->types.n; i++)
				prof_add_sample_type(c->dst, str_get(c, c->vt[i].type),
						     str_get(c, c->vt[i].unit));
		return;
	}
	/* Decode: everything, in file order, so a profile we wrote reads back with equal ids. */
	for (uint32_t i = 0; i < c->n_str; i++)
		str_get(c, i);
	for (size_t i = 0; i < c->types.n; i++)
		prof_add_sample_type(c->dst, str_get(c, c->vt[i].type), str_get(c, c->vt[i].unit));
	for (uint32_t i = 0; i < c->mappings.n; i++)
		map_get(c, i);
	for (uint32_t i = 0; i < c->functions.n; i++)
		fn_get(c, i);
	for (uint32_t i = 0; i < c->locations.n; i++)
		loc_get(c, i);
}

/* ---- driver ---- */

static int alloc_build(struct pdec *c)
{
	size_t nt = c->types.n, nl = c->locations.n;
	const struct alloc_spec a[] = {
		{(void **)&c->map_dst, c->mappings.n, sizeof(uint32_t), 0},
		{(void **)&c->fn_dst, c->functions.n, sizeof(uint32_t), 0},
		{(void **)&c->str_file, c->merge ? c->n_str : 0, sizeof(uint32_t), 0},
		{(void **)&c->loc_dst, nl, sizeof(uint32_t), 0},
		{(void **)&c->memo, c->merge ? 0 : nl, sizeof(*c->memo), 0xff},
		{(void **)&c->perm, nt, sizeof(uint32_t), 0},
		{(void **)&c->s_val, nt, sizeof(int64_t), 0},
		{(void **)&c->val_dst, nt, sizeof(int64_t), 0},
		{(void **)&c->line_dst, c->max_loc_lines, sizeof(*c->line_dst), 0},
	};

	/* A string table that is absent reads as {""}: str_dst[0] is "" in any profile. */
	c->str_dst[0] = 0;
	return pdec_alloc_all(c, a, EMBER_ARRAY_SIZE(a));
}

static void pdec_fini(struct pdec *c)
{
	struct spans *sp[] = {&c->types,     &c->samples, &c->mappings,	   &c->locations,
			      &c->functions, &c->strings, &c->period_types};
	void *arr[] = {c->comments, c->vt,	c->map,	   c->fn,	c->loc,	    c->lines,
		       c->str_dst,  c->map_dst, c->fn_dst, c->str_file, c->loc_dst, c->memo,
		       c->perm,	    c->s_loc,	c->s_val,  c->s_lab,	c->val_dst, c->lab_dst,
		       c->line_dst, c->k_off,	c->k_loc,  c->k_val,	c->k_lab,   c->k_nls,
		       c->k_ls,	    c->chain};

	for (size_t i = 0; i < EMBER_ARRAY_SIZE(sp); i++)
		mem_free(sp[i]->v);
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(arr); i++)
		mem_free(arr[i]);
	pdec_idmap_fini(&c->map_ids);
	pdec_idmap_fini(&c->fn_ids);
	pdec_idmap_fini(&c->loc_ids);
}

/* The label scratch of the target side grows with the largest label count seen. */
static int fit_labels(struct pdec *c)
{
	return pdec_fit(c, (void **)&c->lab_dst, &c->cap_lab_dst, c->s_nlab, sizeof(*c->lab_dst));
}

/* Room in the kept arrays for every sample, before the first is kept: a location id takes at
 * least one byte. */
static int keep_reserve(struct pdec *c)
{
	size_t nt = c->types.n, sample_bytes = 0;
	int rc;

	for (size_t i = 0; i < c->samples.n; i++)
		sample_bytes += c->samples.v[i].len;
	rc = pdec_fit(c, (void **)&c->k_off, &c->cap_k_off, c->samples.n + 1, sizeof(*c->k_off));
	if (!rc)
		rc = pdec_fit(c, (void **)&c->k_nls, &c->cap_k_nls, c->samples.n,
			      sizeof(*c->k_nls));
	if (!rc)
		rc = pdec_fit(c, (void **)&c->k_ls, &c->cap_k_ls, c->samples.n, sizeof(*c->k_ls));
	if (!rc)
		rc = pdec_fit(c, (void **)&c->k_loc, &c->cap_k_loc, sample_bytes + 1,
			      sizeof(*c->k_loc)); /* + 1: never NULL, even for empty samples */
	if (!rc)
		rc = pdec_fit(c, (void **)&c->k_val, &c->cap_k_val, c->samples.n * (nt ? nt : 1),
			      sizeof(*c->k_val));
	c->k_nloc = c->k_nlab = 0;
	return rc;
}

/* Notes kept sample si, whose c->s_nloc locations and c->s_nlab labels are the next in k_loc and
 * k_lab. */
static void keep_note(struct pdec *c, size_t si)
{
	c->k_off[si].loc = c->k_nloc;
	c->k_off[si].nloc = (uint32_t)c->s_nloc;
	c->k_off[si].lab = c->k_nlab;
	c->k_off[si].nlab = (uint32_t)c->s_nlab;
	c->k_nls[si] = (uint32_t)c->s_nloc;
	c->k_nloc += c->s_nloc;
	c->k_nlab += c->s_nlab;
}

/* Append the just-parsed sample si to the kept arrays (merge only). */
static int keep_sample(struct pdec *c, size_t si)
{
	size_t nt = c->types.n;
	int rc;

	rc = pdec_fit(c, (void **)&c->k_loc, &c->cap_k_loc, c->k_nloc + c->s_nloc,
		      sizeof(*c->k_loc));
	if (!rc)
		rc = pdec_fit(c, (void **)&c->k_val, &c->cap_k_val, (si + 1) * (nt ? nt : 1),
			      sizeof(*c->k_val));
	if (!rc)
		rc = pdec_fit(c, (void **)&c->k_lab, &c->cap_k_lab, c->k_nlab + c->s_nlab + 1,
			      sizeof(*c->k_lab));
	if (rc)
		return rc;
	if (c->s_nloc)
		memcpy(c->k_loc + c->k_nloc, c->s_loc, c->s_nloc * sizeof(*c->s_loc));
	if (nt)
		memcpy(c->k_val + si * nt, c->s_val, nt * sizeof(*c->s_val));
	if (c->s_nlab)
		memcpy(c->k_lab + c->k_nlab, c->s_lab, c->s_nlab * sizeof(*c->s_lab));
	keep_note(c, si);
	return 0;
}

/* The kept samples' locations as target ids, in place, once every location they use has one
 * in loc_dst. */
static void kept_locations_to_target(struct pdec *c)
{
	for (size_t k = 0; k < c->k_nloc; k++)
		c->k_loc[k] = c->loc_dst[c->k_loc[k]];
}

/* Merge, every kept sample at once: first each sample's locations become target ids (in place)
 * and its labels a target label set, in sample order (so locations, strings and label sets get
 * the ids the one-at-a-time build gives them) and its values go to the target's type order (in
 * place); then prof_add_samples adds the stacks and samples in sample order, prefetching the
 * lookups of later samples while it adds earlier ones. */
static void build_kept_samples(struct pdec *c)
{
	size_t nt = c->types.n, loc = 0;
	struct prof_label *s_lab = c->s_lab;
	bool same_order = true;

	for (size_t k = 0; k < nt; k++)
		same_order &= c->perm[k] == k;
	if (c->mc) /* a session translated every location the samples use */
		kept_locations_to_target(c);
	for (size_t si = 0; si < c->samples.n && (!c->mc || c->k_nlab || !same_order); si++) {
		const struct kept *kp = &c->k_off[si];

		for (size_t k = loc; !c->mc && k < loc + kp->nloc; k++)
			c->k_loc[k] = loc_get(c, c->k_loc[k]);
		loc += kp->nloc;
		c->s_nlab = kp->nlab;
		c->s_lab = kp->nlab ? c->k_lab + kp->lab : s_lab;
		c->k_ls[si] = build_labelset(c);
		if (!same_order) {
			int64_t *v = c->k_val + si * nt;

			for (size_t k = 0; k < nt; k++)
				c->val_dst[c->perm[k]] = v[k];
			memcpy(v, c->val_dst, nt * sizeof(*v));
		}
	}
	c->s_lab = s_lab; /* it pointed into k_lab */
	prof_add_samples(c->dst, c->samples.n, c->k_loc, c->k_nls, c->k_nlab ? c->k_ls : NULL,
			 c->k_val);
}

/* Phase 1 up to the samples: scan, tables, metadata, build scratch. */
static int prepare(struct pdec *c, const uint8_t *data, size_t len, const struct pprof_limits *lim,
		   bool merge, struct ember_diag *d)
{
	int rc;

	memset(c, 0, sizeof(*c));
	c->base = data;
	c->len = len;
	c->safe_end = len > PDEC_MARGIN ? data + len - PDEC_MARGIN : data;
	c->d = d;
	c->max_samples = lim ? lim->max_samples : 0;
	c->merge = merge;
	hmap_init(&c->map_ids.sparse, MEM_FORMAT);
	hmap_init(&c->fn_ids.sparse, MEM_FORMAT);
	hmap_init(&c->loc_ids.sparse, MEM_FORMAT);

	rc = pdec_scan_profile(c);
	if (!rc)
		rc = pdec_check_strings(c);
	if (!rc)
		rc = pdec_parse_types(c);
	if (!rc)
		rc = pdec_parse_tables(c);
	if (!rc)
		rc = pdec_check_meta(c);
	if (!rc)
		rc = alloc_build(c);
	return rc;
}

/* Merge, phase 1 for the samples: validate every one before dst changes, keeping them parsed
 * (when they are not huge) so the build need not parse them again. */
static int parse_samples(struct pdec *c)
{
	int rc = 0;

	c->keep = c->len <= PDEC_KEEP_MAX_BYTES;
	if (c->keep && c->samples.n)
		rc = keep_reserve(c);
	for (size_t i = 0; !rc && i < c->samples.n; i++) {
		/* the usual sample straight into the kept arrays, else parsed and copied */
		if (c->keep &&
		    pdec_sample_fast(c, i, c->k_loc + c->k_nloc, c->cap_k_loc - c->k_nloc,
				     c->k_val + i * c->types.n)) {
			keep_note(c, i);
			continue;
		}
		rc = pdec_parse_sample(c, i);
		if (!rc)
			rc = fit_labels(c);
		if (!rc && c->keep)
			rc = keep_sample(c, i);
	}
	return rc;
}

/* Translate the functions of the used locations (marked NONE in loc_dst) through the session's
 * function cache, keyed by the functions' string bytes: a hit costs neither string interning nor
 * a lookup in dst. Misses go the usual way (fn_add) and are cached. */
static void build_functions_cached(struct pdec *c, struct pprof_merger *m)
{
	size_t n = 0;

	for (uint32_t i = 0; i < c->locations.n; i++) {
		const struct ploc *l = &c->loc[i];

		if (c->loc_dst[i] != NONE)
			continue;
		for (uint32_t j = 0; j < l->n_lines; j++) {
			uint32_t f = c->lines[l->line0 + j].function;

			if (f && !c->fn_dst[f - 1]) {
				c->fn_dst[f - 1] = NONE;
				n++;
			}
		}
	}
	pmc_fscratch(m, n, c->n_str);
	n = 0;
	for (uint32_t fi = 0; fi < c->functions.n; fi++) {
		const struct prof_function *f = &c->fn[fi];
		const uint32_t s[3] = {f->name, f->system_name, f->filename};
		struct pmc_fkey *k;
		uint64_t h[3];

		if (c->fn_dst[fi] != NONE)
			continue;
		k = &m->fkeys[n];
		for (int x = 0; x < 3; x++) {
			pdec_src_str(c, s[x], &k->s[x], &k->len[x]);
			h[x] = m->str_hash[s[x]];
			if (!h[x])
				h[x] = m->str_hash[s[x]] = pmc_str_hash(k->s[x], k->len[x]);
		}
		k->start_line = f->start_line;
		m->fhash[n] = pmc_fhash(h[0], h[1], h[2], k->start_line);
		m->fidx[n++] = fi;
	}
	pmc_flookup(m, m->fkeys, m->fhash, n, m->fids);
	for (size_t j = 0; j < n; j++) {
		uint32_t fi = m->fidx[j];

		if (m->fids[j]) {
			c->fn_dst[fi] = m->fids[j];
			continue;
		}
		pmc_finsert(m, &m->fkeys[j], m->fhash[j], fn_add(c, fi));
	}
}

static uint32_t map_find(struct pdec *c, uint32_t mi);

/* Can location l be looked up by address before its functions have target ids (pmc_lookup_file)?
 * Then *mapping is its mapping's target id: one the target has (a location whose mapping is not
 * there yet is not in the cache either). */
static bool by_address(struct pdec *c, const struct ploc *l, uint32_t *mapping)
{
	if (l->n_lines > PMC_MAX_LINES || !l->address)
		return false;
	if (!l->mapping) {
		*mapping = 0;
		return true;
	}
	*mapping = c->map_dst[l->mapping - 1]; /* known after the first: map_find's fast path */
	if (!*mapping)
		*mapping = map_find(c, l->mapping - 1);
	return *mapping != 0;
}

/* With a merge session and kept samples: translate every location the samples use. First every
 * location the cache can find by address, used or not (one batched, prefetched lookup for the
 * whole input; each file function they name is compared with the cached one once, and a hit
 * costs no function lookup): when all are found, which is the usual case once the target has
 * seen a few inputs (a writer lists the locations its samples use), that is all. Else the used
 * ones not found, in file order, as they would be without the first pass (it only finds
 * locations already in the target, so the target's ids are the same): their functions through
 * the function cache, those of at most PMC_MAX_LINES lines by content through the location
 * cache, the others and the cache's misses added as usual. */
static void build_locations_cached(struct pdec *c, struct pprof_merger *m)
{
	size_t n = 0;
	bool all = m->n_slots != 0;

	pmc_scratch(m, c->locations.n);
	for (uint32_t i = 0; i < c->locations.n && m->n_slots; i++) {
		uint32_t mapping;

		if (!by_address(c, &c->loc[i], &mapping)) {
			all = false;
			continue;
		}
		m->hash[n] = pmc_addr_hash(mapping, c->loc[i].address);
		m->idx[n++] = i;
	}
	pmc_lookup_file(m, c, m->idx, m->hash, n, m->ids);
	for (size_t j = 0; j < n; j++) {
		c->loc_dst[m->idx[j]] = m->ids[j];
		all &= m->ids[j] != 0;
	}
	if (all)
		return;
	for (size_t k = 0; k < c->k_nloc; k++)
		if (!c->loc_dst[c->k_loc[k]])
			c->loc_dst[c->k_loc[k]] = NONE; /* used, not translated yet */
	build_functions_cached(c, m);
	n = 0;
	for (uint32_t i = 0; i < c->locations.n; i++) {
		const struct ploc *l = &c->loc[i];
		struct pmc_key *k;

		if (c->loc_dst[i] != NONE)
			continue;
		if (l->n_lines > PMC_MAX_LINES) {
			loc_add(c, i);
			continue;
		}
		k = &m->keys[n];
		memset(k, 0, sizeof(*k));
		k->address = l->address;
		k->mapping = l->mapping ? map_get(c, l->mapping - 1) : 0;
		k->n_lines = (uint8_t)l->n_lines;
		k->is_folded = l->is_folded;
		for (uint32_t j = 0; j < l->n_lines; j++) {
			const struct prof_line *ln = &c->lines[l->line0 + j];

			k->function[j] = ln->function ? fn_get(c, ln->function - 1) : 0;
			k->line[j] = ln->line;
			k->column[j] = ln->column;
		}
		m->hash[n] = pmc_hash(k);
		m->idx[n++] = i;
	}
	pmc_lookup(m, m->keys, m->hash, n, m->ids);
	for (size_t j = 0; j < n; j++) {
		uint32_t i = m->idx[j];

		if (m->ids[j]) {
			c->loc_dst[i] = m->ids[j];
			continue;
		}
		pmc_insert(m, &m->keys[j], m->hash[j], loc_add(c, i));
	}
}

/* Merge, phase 2 into c->dst (types matched, every sample validated): cannot fail. */
static void build_merge(struct pdec *c)
{
	build_tables(c);
	build_meta(c);
	if (c->mc && c->keep)
		build_locations_cached(c, c->mc);
	if (c->keep) {
		build_kept_samples(c);
		return;
	}
	for (size_t i = 0; i < c->samples.n; i++)
		if (pdec_parse_sample(c, i) == 0 && fit_labels(c) == 0)
			build_sample(c); /* parsed fine in phase 1, so it does again */
}

/* Decode the raw protobuf data into dst (merge) or a new profile (*out). */
static int decode_raw(const uint8_t *data, size_t len, const struct pprof_limits *lim,
		      struct prof *dst, struct prof **out, struct ember_diag *d)
{
	struct pdec c;
	int rc;

	rc = prepare(&c, data, len, lim, dst != NULL, d);
	if (rc)
		goto out;
	if (c.merge) {
		c.dst = dst;
		rc = match_types(&c);
		if (!rc)
			rc = parse_samples(&c);
		if (!rc)
			build_merge(&c);
		goto out;
	}
	c.dst = prof_new();
	/* Typical profiles have a few stack nodes per location: size the tables once. */
	prof_reserve(c.dst, EMBER_MIN(c.samples.n + 3 * (size_t)c.locations.n, (size_t)1 << 22),
		     c.samples.n);
	prof_reserve_symbols(c.dst, c.functions.n, c.locations.n, c.n_lines);
	build_tables(&c);
	build_meta(&c);
	for (size_t i = 0; i < c.samples.n; i++) {
		rc = pdec_parse_sample(&c, i);
		if (!rc)
			rc = fit_labels(&c);
		if (!rc)
			rc = pdec_fit(&c, (void **)&c.chain, &c.cap_chain, 2 * c.s_nloc,
				      sizeof(*c.chain));
		if (rc) {
			prof_free(c.dst);
			goto out;
		}
		build_sample(&c);
	}
	*out = c.dst;
out:
	pdec_fini(&c);
	return rc;
}

/* The raw protobuf bytes of the input: data itself, or its inflation into raw. */
static int unwrap(const void *data, size_t len, const struct pprof_limits *lim, struct buf *raw,
		  const uint8_t **p, size_t *n, struct ember_diag *d)
{
	static const uint8_t empty[1];
	size_t max = lim && lim->max_bytes ? lim->max_bytes : PPROF_DEFAULT_MAX_BYTES;
	struct gzip_limits gl = {0, 0};
	int rc;

	if (!data)
		data = empty;

	max = EMBER_MIN(max, (size_t)UINT32_MAX);
	if (gzip_is(data, len)) {
		if (lim)
			gl = lim->gzip;
		gl.max_out = gl.max_out ? EMBER_MIN(gl.max_out, max) : max;
		rc = gzip_inflate(data, len, &gl, raw, d);
		if (rc)
			return rc;
		*p = raw->data;
		*n = raw->len;
		return 0;
	}
	if (len > max)
		return ember_diag_set(d, -EMBER_ELIMIT,
				      "pprof: profile is %zu bytes, more than the limit of %zu",
				      len, max);
	*p = data;
	*n = len;
	return 0;
}

/* Unwrap (gunzip when needed, bounded) and decode into dst, or into a new profile (*out). */
static int decode(const void *data, size_t len, const struct pprof_limits *lim, struct prof *dst,
		  struct prof **out, struct ember_diag *d)
{
	struct buf raw;
	const uint8_t *p = NULL;
	size_t n = 0;
	int rc;

	buf_init(&raw, MEM_FORMAT, SIZE_MAX);
	rc = unwrap(data, len, lim, &raw, &p, &n, d);
	if (!rc)
		rc = decode_raw(p, n, lim, dst, out, d);
	buf_fini(&raw);
	return rc;
}

int pprof_decode(const void *data, size_t len, const struct pprof_limits *lim, struct prof **out,
		 struct ember_diag *d)
{
	return decode(data, len, lim, NULL, out, d);
}

int pprof_decode_merge(struct prof *dst, const void *data, size_t len,
		       const struct pprof_limits *lim, struct ember_diag *d)
{
	return decode(data, len, lim, dst, NULL, d);
}

/* A profile parsed and validated for merging: its decoder state (phase 1 done) and, when the
 * input was gzipped, the inflated bytes it points into. */
struct pprof_parsed {
	struct buf raw;
	struct pdec c;
	bool merged, split;
	bool located; /* split: c.k_loc holds target location ids (pprof_merger_find_stacks) */
};

int pprof_parse(const void *data, size_t len, const struct pprof_limits *lim,
		struct pprof_parsed **out, struct ember_diag *d)
{
	struct pprof_parsed *pp = mem_try_alloc(MEM_FORMAT, sizeof(*pp));
	const uint8_t *p = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if (!pp)
		return ember_diag_set(d, -ENOMEM, "pprof: out of memory");
	buf_init(&pp->raw, MEM_FORMAT, SIZE_MAX);
	pp->merged = pp->split = pp->located = false;
	rc = unwrap(data, len, lim, &pp->raw, &p, &n, d);
	if (rc) {
		buf_fini(&pp->raw);
		mem_free(pp);
		return rc;
	}
	rc = prepare(&pp->c, p, n, lim, true, d);
	if (!rc)
		rc = parse_samples(&pp->c);
	pp->c.d = NULL;
	if (rc) {
		pprof_parsed_free(pp);
		return rc;
	}
	*out = pp;
	return 0;
}

int pprof_gunzip(const void *data, size_t len, const struct pprof_limits *lim, struct buf *raw,
		 struct ember_diag *d)
{
	const uint8_t *p = NULL;
	size_t n = 0;

	return gzip_is(data, len) ? unwrap(data, len, lim, raw, &p, &n, d) : 0;
}

static int parsed_merge(struct prof *dst, struct pprof_merger *m, struct pprof_parsed *pp,
			struct ember_diag *d)
{
	int rc;

	if (pp->merged || pp->split)
		return ember_diag_set(d, -EINVAL, "pprof: a parsed profile merges only once");
	pp->c.d = d;
	pp->c.dst = dst;
	pp->c.mc = m;
	rc = match_types(&pp->c);
	if (!rc) {
		build_merge(&pp->c);
		pp->merged = true;
	}
	pp->c.d = NULL;
	pp->c.dst = NULL;
	pp->c.mc = NULL;
	return rc;
}

int pprof_parsed_merge(struct prof *dst, struct pprof_parsed *pp, struct ember_diag *d)
{
	return parsed_merge(dst, NULL, pp, d);
}

int pprof_merger_add(struct pprof_merger *m, struct pprof_parsed *pp, struct ember_diag *d)
{
	return parsed_merge(m->dst, m, pp, d);
}

void pprof_parsed_free(struct pprof_parsed *pp)
{
	if (!pp)
		return;
	pdec_fini(&pp->c);
	buf_fini(&pp->raw);
	mem_free(pp);
}

/* ---- a parsed profile split for a dictionary store (pprof.h: pprof_parsed_split) ---- */

int pprof_parsed_split(struct pprof_parsed *pp, struct prof **shell, struct pprof_samples *s,
		       struct ember_diag *d)
{
	struct pdec *c = &pp->c;
	struct prof_label *s_lab = c->s_lab;
	uint32_t depth = 0;

	*shell = NULL;
	if (pp->merged || pp->split)
		return ember_diag_set(d, -EINVAL, "pprof: a parsed profile is used only once");
	if (!c->keep)
		return ember_diag_set(d, -EMBER_ELIMIT, "pprof: %zu bytes: too large to split",
				      c->len);
	c->dst = prof_new();
	for (size_t i = 0; i < c->types.n; i++)
		prof_add_sample_type(c->dst, str_get(c, c->vt[i].type), str_get(c, c->vt[i].unit));
	c->merge = false; /* the profile's own metadata */
	build_meta(c);
	c->merge = true;
	for (size_t si = 0; si < c->samples.n; si++) {
		const struct kept *kp = &c->k_off[si];

		depth = EMBER_MAX(depth, kp->nloc);
		if (!c->k_nlab)
			continue;
		c->s_nlab = kp->nlab;
		c->s_lab = kp->nlab ? c->k_lab + kp->lab : s_lab;
		c->k_ls[si] = build_labelset(c);
	}
	c->s_lab = s_lab;
	*shell = c->dst;
	/* the shell's string ids mean nothing to the dictionary pprof_merger_stacks adds to */
	memset(c->str_dst + 1, 0xff, (c->n_str - 1) * sizeof(*c->str_dst));
	c->dst = NULL;
	s->n = c->samples.n;
	s->values = c->k_val;
	s->labelsets = c->k_nlab ? c->k_ls : NULL;
	s->max_depth = depth;
	pp->split = true;
	return 0;
}

/* Read-only lookups for pprof_merger_find_stacks: they change neither the target nor the
 * session, only the input's own translation tables. */

static bool str_find(struct pdec *c, uint32_t i, uint32_t *id)
{
	struct span sp = c->strings.v[i];

	if (c->str_dst[i] == NONE &&
	    !prof_find_bytes(c->dst, c->base + sp.off, sp.len, &c->str_dst[i]))
		return false;
	*id = c->str_dst[i];
	return true;
}

/* The target id of file mapping mi, or 0 when the target has no such mapping. */
static uint32_t map_find(struct pdec *c, uint32_t mi)
{
	struct prof_mapping m;

	if (c->map_dst[mi])
		return c->map_dst[mi];
	m = c->map[mi];
	if (str_find(c, m.filename, &m.filename) && str_find(c, m.build_id, &m.build_id))
		prof_find_mapping(c->dst, &m, &c->map_dst[mi]);
	return c->map_dst[mi];
}

/* Every location the samples use, found by address in the session's cache; false when one
 * is not there or cannot be looked up so. */
static bool find_locations(struct pdec *c, const struct pprof_merger *m)
{
	size_t nl = c->locations.n, n = 0;
	uint32_t *idx = mem_alloc(MEM_FORMAT, (nl + 1) * 2 * sizeof(uint32_t)), *ids = idx + nl + 1;
	uint64_t *hash = mem_alloc(MEM_FORMAT, (nl + 1) * sizeof(*hash));
	bool ok = m->n_slots != 0;

	for (size_t k = 0; k < c->k_nloc; k++)
		c->loc_dst[c->k_loc[k]] = NONE; /* used */
	for (uint32_t i = 0; i < nl && ok; i++) {
		uint32_t mapping = 0;

		if (c->loc_dst[i] != NONE)
			continue;
		ok = by_address(c, &c->loc[i], &mapping);
		hash[n] = pmc_addr_hash(mapping, c->loc[i].address);
		idx[n++] = i;
	}
	if (ok)
		pmc_lookup_file(m, c, idx, hash, n, ids);
	for (size_t j = 0; j < n && ok; j++)
		ok = ids[j] != 0;
	for (size_t j = 0; j < n && ok; j++)
		c->loc_dst[idx[j]] = ids[j];
	mem_free(idx);
	mem_free(hash);
	return ok;
}

bool pprof_merger_find_stacks(const struct pprof_merger *m, struct pprof_parsed *pp, uint32_t *node)
{
	struct pdec *c = &pp->c;
	const uint32_t *loc = c->k_loc;
	bool ok = pp->split && !pp->merged;

	c->dst = m->dst;
	if (ok && !pp->located) {
		ok = find_locations(c, m);
		if (ok)
			kept_locations_to_target(c);
		pp->located = ok;
	}
	if (ok) {
		uint64_t *hash = mem_alloc(MEM_FORMAT, (c->samples.n + 1) * sizeof(*hash));

		ok = prof_find_stacks(m->dst, c->samples.n, loc, c->k_nls, hash, node);
		mem_free(hash);
	}
	c->dst = NULL;
	pp->merged = ok;
	return ok;
}

void pprof_merger_stacks(struct pprof_merger *m, struct pprof_parsed *pp, uint32_t *node)
{
	struct pdec *c = &pp->c;
	const uint32_t *loc = c->k_loc;

	if (!pp->split || pp->merged)
		return;
	c->dst = m->dst;
	c->mc = m;
	if (!pp->located) {
		build_locations_cached(c, m);
		kept_locations_to_target(c);
	}
	for (size_t si = 0; si < c->samples.n; si++) {
		node[si] = prof_add_stack(m->dst, loc, c->k_nls[si]);
		loc += c->k_nls[si];
	}
	pp->merged = true;
	c->dst = NULL;
	c->mc = NULL;
}

size_t pprof_parsed_bytes(const struct pprof_parsed *pp)
{
	const struct pdec *c = &pp->c;

	return pp->raw.cap + c->cap_k_loc * sizeof(*c->k_loc) + c->cap_k_val * sizeof(*c->k_val) +
	       c->cap_k_lab * sizeof(*c->k_lab) + c->cap_k_off * sizeof(*c->k_off) +
	       (c->cap_k_nls + c->cap_k_ls) * sizeof(uint32_t) +
	       (c->locations.n + c->functions.n + c->mappings.n) * 32 + (size_t)c->n_str * 12;
}
