/*
 * flame.h — the flame graph tree: stacks aggregated by frame display name, root first, the shape
 * every flame graph writer consumes (SVG, flamebearer JSON, the UI). Optionally a diff tree with
 * a base value next to every new value. Truncation: when more than max_nodes nodes would result,
 * the smallest subtrees are folded into one "other" child per parent, so the totals stay exact.
 *
 * Node 0 is the root ("total"). Children of a node are in ascending name order, "other" last.
 */
#ifndef EMBER_PROFILE_FLAME_H
#define EMBER_PROFILE_FLAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile/profile.h"

struct flame_node {
	uint32_t name;	       /* id in flame_name() */
	uint32_t parent;       /* 0 for the root's children; the root's own parent is 0 too */
	uint32_t first_child;  /* 0 = none */
	uint32_t next_sibling; /* 0 = none */
	uint32_t depth;	       /* root = 0 */
	int64_t self;
	int64_t total;
	int64_t base_self; /* diff trees only: the base selection's values */
	int64_t base_total;
};

struct flame;

/* max_nodes 0 = no limit. */
struct flame *flame_new(const struct prof *p, size_t vi, size_t max_nodes);
/* Union of both trees; total/self from cur, base_total/base_self from base. */
struct flame *flame_new_diff(const struct prof *base, size_t base_vi, const struct prof *cur,
			     size_t cur_vi, size_t max_nodes);
void flame_free(struct flame *f);

bool flame_is_diff(const struct flame *f);
uint32_t flame_n_nodes(const struct flame *f);
const struct flame_node *flame_node(const struct flame *f, uint32_t i);
const char *flame_name(const struct flame *f, uint32_t name_id);
uint32_t flame_n_names(const struct flame *f);
uint32_t flame_max_depth(const struct flame *f);
int64_t flame_max_self(const struct flame *f);

#endif
