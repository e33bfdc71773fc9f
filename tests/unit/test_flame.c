/*
 * test_flame.c — unit tests for src/profile/flame.c: the tree shape (preorder, links, names,
 * depth, inline frames outermost first), total = self + children on random profiles, max_nodes
 * truncation into "other" nodes with exact totals, and diff trees against two plain trees.
 */
#include <stdbool.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/strtab.h"
#include "profile/flame.h"
#include "profile/profile.h"
#include "prof_fixture.h"
#include "test.h"

static bool t_is_other(const struct flame *f, uint32_t i)
{
	return strcmp(flame_name(f, flame_node(f, i)->name), "other") == 0;
}

/* "total;main;a" for node i. */
static void t_path(const struct flame *f, uint32_t i, char *out, size_t cap)
{
	uint32_t chain[128];
	size_t n = 0, off = 0;

	for (;;) {
		chain[n++] = i;
		if (i == 0 || n == 128)
			break;
		i = flame_node(f, i)->parent;
	}
	out[0] = 0;
	while (n-- > 0 && off < cap) {
		int w = snprintf(out + off, cap - off, "%s%s", off ? ";" : "",
				 flame_name(f, flame_node(f, chain[n])->name));

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/* Structural invariants; *out = the number of "other" nodes, or -1 after a failed check. */
static void t_check_tree_into(const struct flame *f, int *out)
{
	uint32_t n = flame_n_nodes(f), reached = 0, *stack;
	size_t top = 0;
	int n_other = 0;
	bool ok = true;

	*out = -1;
	CHECK_MSG(n >= 1, "no root");
	CHECK_EQ_STR(flame_name(f, flame_node(f, 0)->name), "total");
	CHECK_EQ_INT(flame_node(f, 0)->depth, 0);
	stack = mem_alloc(MEM_TEST, n * sizeof(*stack));
	stack[top++] = 0;
	while (top && ok) {
		uint32_t i = stack[--top];
		const struct flame_node *nd = flame_node(f, i);
		int64_t sum = nd->self, bsum = nd->base_self;
		const char *prev = NULL;

		reached++;
		if (i && t_is_other(f, i))
			n_other++;
		for (uint32_t c = nd->first_child; c; c = flame_node(f, c)->next_sibling) {
			const struct flame_node *cn = flame_node(f, c);
			const char *name = flame_name(f, cn->name);

			ok = ok && cn->parent == i && cn->depth == nd->depth + 1 && c > i;
			ok = ok && (!prev || strcmp(prev, name) < 0 || t_is_other(f, c));
			ok = ok && (!t_is_other(f, c) || cn->next_sibling == 0);
			ok = ok && cn->depth <= flame_max_depth(f);
			ok = ok && cn->self <= flame_max_self(f);
			prev = name;
			sum += cn->total;
			bsum += cn->base_total;
			if (top < n)
				stack[top++] = c;
		}
		ok = ok && sum == nd->total && bsum == nd->base_total;
		ok = ok && (flame_is_diff(f) || (nd->base_total == 0 && nd->base_self == 0));
		if (!ok) {
			char path[512];

			t_path(f, i, path, sizeof(path));
			test_fail(__FILE__, __LINE__, "invariant broken at node %u (%s)", i, path);
		}
	}
	mem_free(stack);
	if (!ok)
		return;
	CHECK_EQ_INT(reached, n);
	*out = n_other;
}

static int t_check_tree(const struct flame *f)
{
	int n_other;

	t_check_tree_into(f, &n_other);
	return n_other;
}

/* Every node's total by path, from a tree: (paths, totals, base totals). */
struct t_index {
	struct strtab *paths;
	int64_t *total, *base;
};

static void t_index_init(struct t_index *ix, const struct flame *f)
{
	char path[1024];

	ix->paths = strtab_new(MEM_TEST);
	ix->total = mem_calloc(MEM_TEST, flame_n_nodes(f) + 1, sizeof(int64_t));
	ix->base = mem_calloc(MEM_TEST, flame_n_nodes(f) + 1, sizeof(int64_t));
	for (uint32_t i = 0; i < flame_n_nodes(f); i++) {
		uint32_t id;

		t_path(f, i, path, sizeof(path));
		id = strtab_intern_cstr(ix->paths, path);
		ix->total[id] = flame_node(f, i)->total;
		ix->base[id] = flame_node(f, i)->base_total;
	}
}

static bool t_index_get(const struct t_index *ix, const char *path, int64_t *total, int64_t *base)
{
	uint32_t id;

	*total = *base = 0;
	if (!strtab_find(ix->paths, path, strlen(path), &id))
		return false;
	*total = ix->total[id];
	*base = ix->base[id];
	return true;
}

static void t_index_fini(struct t_index *ix)
{
	strtab_free(ix->paths);
	mem_free(ix->total);
	mem_free(ix->base);
}

TEST(flame_basic_shape)
{
	struct prof *p = fx_types("samples", "count", "cpu", "nanoseconds");
	int64_t root_v[2] = {2, 20};
	const struct flame_node *n;
	struct flame *f;

	fx_add(p, "main;a;b", 0, 10, 100);
	fx_add(p, "main;a", 0, 5, 50);
	fx_add(p, "main;c", 0, 3, 30);
	fx_add(p, "main;d", 0, 0, 7); /* zero in type 0: not in that tree */
	prof_add_sample(p, 0, 0, root_v);
	f = flame_new(p, 0, 0);
	CHECK(!flame_is_diff(f));
	CHECK_EQ_INT(flame_n_nodes(f), 5);
	n = flame_node(f, 0);
	CHECK_EQ_STR(flame_name(f, n->name), "total");
	CHECK_EQ_INT(n->name, 0);
	CHECK_EQ_INT(n->total, 20);
	CHECK_EQ_INT(n->self, 2);
	CHECK_EQ_INT(n->first_child, 1);
	n = flame_node(f, 1);
	CHECK_EQ_STR(flame_name(f, n->name), "main");
	CHECK_EQ_INT(n->total, 18);
	CHECK_EQ_INT(n->self, 0);
	CHECK_EQ_INT(n->depth, 1);
	CHECK_EQ_INT(n->first_child, 2);
	n = flame_node(f, 2);
	CHECK_EQ_STR(flame_name(f, n->name), "a");
	CHECK_EQ_INT(n->total, 15);
	CHECK_EQ_INT(n->self, 5);
	CHECK_EQ_INT(n->parent, 1);
	CHECK_EQ_INT(n->first_child, 3);
	CHECK_EQ_INT(n->next_sibling, 4);
	n = flame_node(f, 3);
	CHECK_EQ_STR(flame_name(f, n->name), "b");
	CHECK_EQ_INT(n->self, 10);
	CHECK_EQ_INT(n->depth, 3);
	CHECK_EQ_INT(n->next_sibling, 0);
	n = flame_node(f, 4);
	CHECK_EQ_STR(flame_name(f, n->name), "c");
	CHECK_EQ_INT(n->total, 3);
	CHECK_EQ_INT(n->parent, 1);
	CHECK(flame_node(f, 5) == NULL);
	CHECK_EQ_INT(flame_max_depth(f), 3);
	CHECK_EQ_INT(flame_max_self(f), 10);
	CHECK_EQ_INT(flame_n_names(f), 5);
	CHECK(t_check_tree(f) == 0);
	flame_free(f);
	f = flame_new(p, 1, 0);
	CHECK_EQ_INT(flame_n_nodes(f), 6);
	CHECK_EQ_INT(flame_node(f, 0)->total, 207);
	CHECK_EQ_STR(flame_name(f, flame_node(f, 5)->name), "d");
	flame_free(f);
	prof_free(p);
}

TEST(flame_inline_frames_outermost_first)
{
	struct prof *p = fx_types("cpu", "nanoseconds", NULL, NULL);
	struct flame *f;
	char path[256];

	fx_add(p, "main;outer+mid+inner;leaf", 0, 4, 0);
	fx_add(p, "main;outer", 0, 1, 0);
	f = flame_new(p, 0, 0);
	CHECK_EQ_INT(flame_n_nodes(f), 6);
	t_path(f, 5, path, sizeof(path));
	CHECK_EQ_STR(path, "total;main;outer;mid;inner;leaf");
	CHECK_EQ_INT(flame_node(f, 2)->total, 5);
	CHECK_EQ_INT(flame_node(f, 2)->self, 1);
	CHECK_EQ_STR(flame_name(f, flame_node(f, 2)->name), "outer");
	CHECK_EQ_INT(flame_max_depth(f), 5);
	CHECK(t_check_tree(f) == 0);
	flame_free(f);
	prof_free(p);
}

TEST(flame_empty_and_bad_type)
{
	struct prof *p = prof_new();
	struct flame *f = flame_new(p, 0, 10);

	CHECK_EQ_INT(flame_n_nodes(f), 1);
	CHECK_EQ_INT(flame_node(f, 0)->total, 0);
	CHECK_EQ_STR(flame_name(f, 0), "total");
	flame_free(f);
	prof_free(p);
	p = fx_random(1, 20, 5, 4);
	f = flame_new(p, 7, 0);
	CHECK_EQ_INT(flame_n_nodes(f), 1);
	flame_free(f);
	prof_free(p);
}

TEST(flame_random_invariants)
{
	for (uint64_t seed = 1; seed <= 6; seed++) {
		struct prof *p = fx_random(seed, 300, 12, 10);

		for (size_t vi = 0; vi < 2; vi++) {
			struct flame *f = flame_new(p, vi, 0);
			int64_t self_sum = 0;

			CHECK_EQ_INT(flame_node(f, 0)->total, prof_total(p, vi));
			CHECK(t_check_tree(f) == 0);
			for (uint32_t i = 0; i < flame_n_nodes(f); i++) {
				self_sum += flame_node(f, i)->self;
				CHECK(i == 0 || flame_node(f, i)->total > 0);
			}
			CHECK_EQ_INT(self_sum, prof_total(p, vi));
			flame_free(f);
		}
		prof_free(p);
	}
}

TEST(flame_truncation_keeps_totals)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct prof *p = fx_random(seed, 400, 15, 10);
		struct flame *full = flame_new(p, 1, 0);
		uint32_t n_full = flame_n_nodes(full);
		size_t caps[] = {1, 2, 3, 10, 50, 200, n_full - 1, n_full, n_full + 5};
		struct t_index ix;

		t_index_init(&ix, full);
		for (size_t k = 0; k < EMBER_ARRAY_SIZE(caps); k++) {
			struct flame *f = flame_new(p, 1, caps[k]);
			uint32_t n = flame_n_nodes(f), n_real = 0;
			int n_other = t_check_tree(f);
			char path[1024];

			CHECK(n_other >= 0);
			CHECK_EQ_INT(flame_node(f, 0)->total, prof_total(p, 1));
			for (uint32_t i = 0; i < n; i++) {
				int64_t total, base;

				if (t_is_other(f, i)) {
					CHECK_EQ_INT(flame_node(f, i)->first_child, 0);
					CHECK(flame_node(f, i)->total > 0);
					continue;
				}
				n_real++;
				t_path(f, i, path, sizeof(path));
				CHECK_MSG(t_index_get(&ix, path, &total, &base), "%s", path);
				CHECK_EQ_INT(flame_node(f, i)->total, total);
			}
			CHECK_MSG(n_real <= caps[k], "%u real nodes for max %zu", n_real, caps[k]);
			CHECK(n <= caps[k] + (size_t)n_other);
			if (caps[k] >= n_full) {
				CHECK_EQ_INT(n, n_full);
				CHECK_EQ_INT(n_other, 0);
			} else {
				CHECK(n_other > 0);
				CHECK_EQ_INT(n_real, caps[k]); /* values are distinct enough */
			}
			flame_free(f);
		}
		t_index_fini(&ix);
		flame_free(full);
		prof_free(p);
	}
}

/* Every node of a plain tree is in the diff with the same total on the given side. */
static void t_check_side(const struct flame *plain, const struct t_index *diff, bool base_side)
{
	char path[1024];

	for (uint32_t i = 0; i < flame_n_nodes(plain); i++) {
		int64_t total, base;

		t_path(plain, i, path, sizeof(path));
		CHECK_MSG(t_index_get(diff, path, &total, &base), "%s missing", path);
		CHECK_EQ_INT(base_side ? base : total, flame_node(plain, i)->total);
	}
}

TEST(flame_diff_union)
{
	struct prof *base = fx_random(11, 300, 10, 8), *cur = fx_random(12, 300, 12, 8);
	struct flame *d = flame_new_diff(base, 1, cur, 0, 0);
	struct flame *pb = flame_new(base, 1, 0), *pc = flame_new(cur, 0, 0);
	struct t_index ix, ib, ic;
	int64_t max_self = 0;
	char path[1024];

	CHECK(flame_is_diff(d));
	CHECK_EQ_INT(flame_node(d, 0)->total, prof_total(cur, 0));
	CHECK_EQ_INT(flame_node(d, 0)->base_total, prof_total(base, 1));
	CHECK(t_check_tree(d) == 0);
	t_index_init(&ix, d);
	t_index_init(&ib, pb);
	t_index_init(&ic, pc);
	t_check_side(pb, &ix, true);
	t_check_side(pc, &ix, false);
	/* and nothing else: every diff node is in one of the plain trees with its values */
	for (uint32_t i = 0; i < flame_n_nodes(d); i++) {
		const struct flame_node *n = flame_node(d, i);
		int64_t t1, b1, t2, b2;
		bool in_b, in_c;

		t_path(d, i, path, sizeof(path));
		in_b = t_index_get(&ib, path, &t1, &b1);
		in_c = t_index_get(&ic, path, &t2, &b2);
		CHECK_MSG(in_b || in_c, "%s in neither", path);
		CHECK_EQ_INT(n->base_total, t1);
		CHECK_EQ_INT(n->total, t2);
		max_self = EMBER_MAX(max_self, EMBER_MAX(n->self, n->base_self));
	}
	CHECK_EQ_INT(flame_max_self(d), max_self);
	CHECK(flame_n_nodes(d) >= flame_n_nodes(pb) && flame_n_nodes(d) >= flame_n_nodes(pc));
	t_index_fini(&ix);
	t_index_fini(&ib);
	t_index_fini(&ic);
	flame_free(d);
	flame_free(pb);
	flame_free(pc);
	prof_free(base);
	prof_free(cur);
}

TEST(flame_diff_truncation)
{
	struct prof *base = fx_random(21, 300, 10, 8), *cur = fx_random(22, 300, 10, 8);

	for (size_t cap = 1; cap < 400; cap = cap * 3 + 1) {
		struct flame *d = flame_new_diff(base, 1, cur, 1, cap);
		int n_other = t_check_tree(d);
		uint32_t n_real = 0;

		CHECK(n_other >= 0);
		CHECK_EQ_INT(flame_node(d, 0)->total, prof_total(cur, 1));
		CHECK_EQ_INT(flame_node(d, 0)->base_total, prof_total(base, 1));
		for (uint32_t i = 0; i < flame_n_nodes(d); i++)
			n_real += !t_is_other(d, i);
		CHECK(n_real <= cap);
		flame_free(d);
	}
	prof_free(base);
	prof_free(cur);
}
