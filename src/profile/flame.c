/*
 * flame.c — the flame graph tree: stacks aggregated by display-name path from the root, inline
 * frames expanded (outermost caller first), plain or diff (a base value next to every value).
 *
 * Built in three steps: (1) every stack node that leads to a non-zero value is mapped to a tree
 * node found by (parent, name) in a hash map, its value added to that node's self; (2) totals
 * are summed bottom-up (tree nodes are created parents first); (3) with a max_nodes cap, the
 * nodes whose total (max of both sides for a diff) is below the max_nodes-th largest are folded
 * into one "other" child per parent, then the kept nodes are laid out in preorder with children
 * sorted by name, "other" last. Folding never changes a kept node's total. Owns its name strtab.
 */
#include "profile/flame.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hmap.h"
#include "base/mem.h"
#include "base/strtab.h"
#include "profile/nodeval.h"

struct flame {
	struct strtab *strs; /* owns the name bytes */
	const char **names;  /* compact name id -> string, names[0] = "total" */
	uint32_t n_names;
	struct flame_node *nodes; /* preorder, [0] = root */
	uint32_t n_nodes;
	uint32_t max_depth;
	int64_t max_self;
	bool diff;
};

/* A tree node while building. */
struct bnode {
	uint32_t name; /* strtab id */
	uint32_t parent;
	int64_t self, total, bself, btotal;
};

struct builder {
	struct strtab *strs;
	struct bnode *nodes;
	size_t n, cap;
	struct hmap index; /* parent << 32 | name -> node */
	uint32_t total_name, other_name;
};

static uint32_t bnode_child(struct builder *b, uint32_t parent, uint32_t name)
{
	bool found;
	uint64_t *slot = hmap_upsert(&b->index, (uint64_t)parent << 32 | name, b->n, &found);

	if (found)
		return (uint32_t)*slot;
	mem_grow(MEM_PROFILE, (void **)&b->nodes, &b->cap, b->n + 1, sizeof(*b->nodes));
	memset(&b->nodes[b->n], 0, sizeof(b->nodes[b->n]));
	b->nodes[b->n].name = name;
	b->nodes[b->n].parent = parent;
	return (uint32_t)b->n++;
}

/* Add profile p's values of type vi to the tree (into self, or bself when base). */
static void build_side(struct builder *b, const struct prof *p, size_t vi, bool base)
{
	uint32_t n_nodes = prof_n_nodes(p), n_loc = prof_n_locations(p);
	size_t n_fn = 0, cap_fn = 0;
	uint32_t *fnode, *off, *fnames = NULL;
	uint8_t *need;
	int64_t *nv;
	char tmp[80];

	if (vi >= prof_n_sample_types(p) || n_nodes == 0)
		return;
	need = mem_calloc(MEM_PROFILE, n_nodes, 1);
	nv = prof_node_values(p, vi, need, NULL);
	fnode = mem_calloc(MEM_PROFILE, n_nodes, sizeof(*fnode));
	off = mem_alloc(MEM_PROFILE, ((size_t)n_loc + 1) * sizeof(*off));
	memset(off, 0xff, ((size_t)n_loc + 1) * sizeof(*off));
	for (uint32_t n = 1; n < n_nodes; n++) {
		uint32_t loc = prof_node_location(p, n), nf, cur;

		if (!need[n])
			continue;
		if (loc > n_loc)
			loc = 0;
		nf = prof_location_n_frames(p, loc);
		if (off[loc] == UINT32_MAX) {
			mem_grow(MEM_PROFILE, (void **)&fnames, &cap_fn, n_fn + nf,
				 sizeof(*fnames));
			off[loc] = (uint32_t)n_fn;
			for (uint32_t i = 0; i < nf; i++)
				fnames[n_fn++] = strtab_intern_cstr(
					b->strs, prof_frame_name(p, loc, i, tmp));
		}
		/* frames are innermost first: walk them backwards, caller to callee */
		cur = fnode[prof_node_parent(p, n)];
		for (uint32_t i = nf; i-- > 0;)
			cur = bnode_child(b, cur, fnames[off[loc] + i]);
		fnode[n] = cur;
	}
	for (uint32_t n = 0; n < n_nodes; n++) {
		if (!nv[n])
			continue;
		if (base)
			b->nodes[fnode[n]].bself += nv[n];
		else
			b->nodes[fnode[n]].self += nv[n];
	}
	mem_free(fnames);
	mem_free(off);
	mem_free(fnode);
	mem_free(need);
	mem_free(nv);
}

static int64_t node_key(const struct bnode *n)
{
	return EMBER_MAX(n->total, n->btotal);
}

/* The k-th largest (0-based) of a[0..n), reordering a. */
static int64_t kth_largest(int64_t *a, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;

	while (lo < hi) {
		int64_t x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi], pivot, t;
		ptrdiff_t i = lo, j = hi;

		/* median of three */
		pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
		while (i <= j) {
			while (a[i] > pivot)
				i++;
			while (a[j] < pivot)
				j--;
			if (i <= j) {
				t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				j--;
			}
		}
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			return a[kk];
	}
	return a[kk];
}

/* nz[i] = the subtree of i holds a non-zero self value (on either side). */
static uint8_t *nonzero_subtrees(const struct builder *b)
{
	uint8_t *nz = mem_calloc(MEM_PROFILE, b->n, 1);

	for (size_t i = b->n; i-- > 0;) {
		if (b->nodes[i].self || b->nodes[i].bself)
			nz[i] = 1;
		if (nz[i] && i > 0)
			nz[b->nodes[i].parent] = 1;
	}
	return nz;
}

/* Marks in keep[] the nodes to lay out: the root and the candidates (nz), at most max_nodes
 * nodes in all when max_nodes > 0. Returns the number of candidates left out. */
static size_t choose_kept(const struct builder *b, const uint8_t *nz, size_t max_nodes,
			  uint8_t *keep)
{
	const struct bnode *nd = b->nodes;
	size_t n = b->n, n_cand = 0, budget, kept = 0;
	int64_t *keys, thr;

	for (size_t i = 1; i < n; i++)
		n_cand += nz[i];
	keep[0] = 1;
	if (max_nodes == 0 || n_cand + 1 <= max_nodes) {
		for (size_t i = 1; i < n; i++)
			keep[i] = nz[i];
		return 0;
	}
	budget = max_nodes - 1;
	if (budget == 0)
		return n_cand;
	keys = mem_alloc(MEM_PROFILE, n_cand * sizeof(*keys));
	for (size_t i = 1, j = 0; i < n; i++)
		if (nz[i])
			keys[j++] = node_key(&nd[i]);
	thr = kth_largest(keys, n_cand, budget - 1);
	mem_free(keys);
	/* Strictly above the threshold first (at most budget - 1 nodes), then ties in id order
	 * while room is left. With non-negative values a parent's key is >= its children's, so
	 * the parent of a kept node is kept. */
	for (size_t i = 1; i < n; i++) {
		if (nz[i] && keep[nd[i].parent] && node_key(&nd[i]) > thr) {
			keep[i] = 1;
			kept++;
		}
	}
	for (size_t i = 1; i < n && kept < budget; i++) {
		if (nz[i] && !keep[i] && keep[nd[i].parent] && node_key(&nd[i]) == thr) {
			keep[i] = 1;
			kept++;
		}
	}
	return n_cand - kept;
}

/* Adds one "other" child to every kept parent of a folded candidate; keep[] grows with it. */
static void add_others(struct builder *b, uint8_t **keep, const uint8_t *cand)
{
	size_t n = b->n;
	uint32_t *other = mem_calloc(MEM_PROFILE, n, sizeof(*other));

	for (size_t i = 1; i < n; i++) {
		uint32_t par = b->nodes[i].parent;
		struct bnode *o;

		if (!cand[i] || (*keep)[i] || !(*keep)[par])
			continue;
		if (!other[par]) {
			mem_grow(MEM_PROFILE, (void **)&b->nodes, &b->cap, b->n + 1,
				 sizeof(*b->nodes));
			other[par] = (uint32_t)b->n;
			o = &b->nodes[b->n++];
			memset(o, 0, sizeof(*o));
			o->name = b->other_name;
			o->parent = par;
		}
		o = &b->nodes[other[par]];
		o->self += b->nodes[i].total;
		o->total += b->nodes[i].total;
		o->bself += b->nodes[i].btotal;
		o->btotal += b->nodes[i].btotal;
	}
	*keep = mem_realloc(MEM_PROFILE, *keep, b->n);
	memset(*keep + n, 1, b->n - n);
	mem_free(other);
}

struct name_ref {
	const char *s;
	uint32_t id;
};

static int cmp_name_ref(const void *a, const void *b)
{
	return strcmp(((const struct name_ref *)a)->s, ((const struct name_ref *)b)->s);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* rank[strtab id] = position of the name in byte order. */
static uint32_t *name_ranks(const struct strtab *strs)
{
	uint32_t n = strtab_count(strs);
	struct name_ref *refs = mem_alloc(MEM_PROFILE, n * sizeof(*refs));
	uint32_t *rank = mem_alloc(MEM_PROFILE, n * sizeof(*rank));

	for (uint32_t i = 0; i < n; i++) {
		refs[i].s = strtab_get(strs, i, NULL);
		refs[i].id = i;
	}
	qsort(refs, n, sizeof(*refs), cmp_name_ref);
	for (uint32_t i = 0; i < n; i++)
		rank[refs[i].id] = i;
	mem_free(refs);
	return rank;
}

/* Lays the kept nodes out in preorder, children by name, "other" last. */
static void layout(struct flame *f, const struct builder *b, const uint8_t *keep,
		   size_t first_other)
{
	size_t n = b->n, n_kept = 0, top = 0;
	uint32_t *rank = name_ranks(b->strs), *start, *out_id, *stack, *name_map, k = 0;
	uint64_t *kids;

	for (size_t i = 0; i < n; i++)
		n_kept += keep[i];
	start = mem_calloc(MEM_PROFILE, n + 2, sizeof(*start));
	kids = mem_alloc(MEM_PROFILE, (n_kept ? n_kept : 1) * sizeof(*kids));
	out_id = mem_alloc(MEM_PROFILE, n * sizeof(*out_id));
	stack = mem_alloc(MEM_PROFILE, (n_kept + 1) * sizeof(*stack));
	name_map = mem_alloc(MEM_PROFILE, strtab_count(b->strs) * sizeof(*name_map));
	memset(name_map, 0xff, strtab_count(b->strs) * sizeof(*name_map));
	/* children of each kept node as (sort key << 32 | node), grouped by parent (CSR) */
	for (size_t i = 1; i < n; i++)
		if (keep[i])
			start[b->nodes[i].parent + 2]++;
	for (size_t i = 0; i < n; i++)
		start[i + 2] += start[i + 1];
	for (size_t i = 1; i < n; i++) {
		uint64_t key = i >= first_other ? UINT32_MAX : rank[b->nodes[i].name];

		if (keep[i])
			kids[start[b->nodes[i].parent + 1]++] = key << 32 | i;
	}
	for (size_t i = 0; i < n; i++)
		if (start[i + 1] - start[i] > 1)
			qsort(kids + start[i], start[i + 1] - start[i], sizeof(*kids), cmp_u64);

	f->nodes = mem_calloc(MEM_PROFILE, n_kept, sizeof(*f->nodes));
	f->names = mem_alloc(MEM_PROFILE, (strtab_count(b->strs) + 1) * sizeof(*f->names));
	name_map[b->total_name] = 0;
	f->names[f->n_names++] = strtab_get(b->strs, b->total_name, NULL);
	f->max_self = INT64_MIN;
	stack[top++] = 0;
	while (top) {
		uint32_t v = stack[--top], o = k++;
		const struct bnode *bn = &b->nodes[v];
		struct flame_node *fn = &f->nodes[o];

		out_id[v] = o;
		if (name_map[bn->name] == UINT32_MAX) {
			name_map[bn->name] = f->n_names;
			f->names[f->n_names++] = strtab_get(b->strs, bn->name, NULL);
		}
		fn->name = name_map[bn->name];
		fn->parent = v == 0 ? 0 : out_id[bn->parent];
		fn->depth = v == 0 ? 0 : f->nodes[fn->parent].depth + 1;
		fn->self = bn->self;
		fn->total = bn->total;
		fn->base_self = bn->bself;
		fn->base_total = bn->btotal;
		f->max_depth = EMBER_MAX(f->max_depth, fn->depth);
		f->max_self = EMBER_MAX(f->max_self, fn->self);
		if (f->diff)
			f->max_self = EMBER_MAX(f->max_self, fn->base_self);
		for (uint32_t c = start[v + 1]; c-- > start[v];)
			stack[top++] = (uint32_t)(kids[c] & UINT32_MAX);
	}
	f->n_nodes = k;
	/* links, now that every node has its output id */
	for (size_t v = 0; v < n; v++) {
		uint32_t prev = 0;

		if (!keep[v])
			continue;
		for (uint32_t c = start[v]; c < start[v + 1]; c++) {
			uint32_t id = out_id[kids[c] & UINT32_MAX];

			if (c == start[v])
				f->nodes[out_id[v]].first_child = id;
			else
				f->nodes[prev].next_sibling = id;
			prev = id;
		}
	}
	mem_free(name_map);
	mem_free(stack);
	mem_free(out_id);
	mem_free(kids);
	mem_free(start);
	mem_free(rank);
}

static struct flame *flame_build(const struct prof *base, size_t base_vi, const struct prof *cur,
				 size_t cur_vi, size_t max_nodes)
{
	struct flame *f = mem_calloc(MEM_PROFILE, 1, sizeof(*f));
	struct builder b = {0};
	uint8_t *keep, *nz;
	size_t first_other;

	f->diff = base != NULL;
	f->strs = strtab_new(MEM_PROFILE);
	b.strs = f->strs;
	hmap_init(&b.index, MEM_PROFILE);
	b.total_name = strtab_intern_cstr(b.strs, "total");
	b.other_name = strtab_intern_cstr(b.strs, "other");
	mem_grow(MEM_PROFILE, (void **)&b.nodes, &b.cap, 1, sizeof(*b.nodes));
	memset(&b.nodes[0], 0, sizeof(b.nodes[0]));
	b.nodes[0].name = b.total_name;
	b.n = 1;
	if (base)
		build_side(&b, base, base_vi, true);
	build_side(&b, cur, cur_vi, false);
	hmap_fini(&b.index);
	for (size_t i = 0; i < b.n; i++) {
		b.nodes[i].total += b.nodes[i].self;
		b.nodes[i].btotal += b.nodes[i].bself;
	}
	for (size_t i = b.n; i-- > 1;) {
		b.nodes[b.nodes[i].parent].total += b.nodes[i].total;
		b.nodes[b.nodes[i].parent].btotal += b.nodes[i].btotal;
	}
	nz = nonzero_subtrees(&b);
	keep = mem_calloc(MEM_PROFILE, b.n, 1);
	first_other = b.n;
	if (choose_kept(&b, nz, max_nodes, keep) > 0)
		add_others(&b, &keep, nz);
	layout(f, &b, keep, first_other);
	mem_free(nz);
	mem_free(keep);
	mem_free(b.nodes);
	return f;
}

struct flame *flame_new(const struct prof *p, size_t vi, size_t max_nodes)
{
	return flame_build(NULL, 0, p, vi, max_nodes);
}

struct flame *flame_new_diff(const struct prof *base, size_t base_vi, const struct prof *cur,
			     size_t cur_vi, size_t max_nodes)
{
	return flame_build(base, base_vi, cur, cur_vi, max_nodes);
}

void flame_free(struct flame *f)
{
	if (!f)
		return;
	strtab_free(f->strs);
	mem_free(f->names);
	mem_free(f->nodes);
	mem_free(f);
}

bool flame_is_diff(const struct flame *f)
{
	return f->diff;
}

uint32_t flame_n_nodes(const struct flame *f)
{
	return f->n_nodes;
}

const struct flame_node *flame_node(const struct flame *f, uint32_t i)
{
	return i < f->n_nodes ? &f->nodes[i] : NULL;
}

const char *flame_name(const struct flame *f, uint32_t name_id)
{
	return name_id < f->n_names ? f->names[name_id] : "";
}

uint32_t flame_n_names(const struct flame *f)
{
	return f->n_names;
}

uint32_t flame_max_depth(const struct flame *f)
{
	return f->max_depth;
}

int64_t flame_max_self(const struct flame *f)
{
	return f->max_self;
}
