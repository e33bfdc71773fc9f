/*
 * nodeval.h — per-node values of a profile's stack tree, the first step of every view that
 * aggregates by node (top table, flame graph): the sum of one sample type's values of the
 * samples at each node, and which nodes lie on a path to a non-zero value.
 */
#ifndef EMBER_PROFILE_NODEVAL_H
#define EMBER_PROFILE_NODEVAL_H

#include <stddef.h>
#include <stdint.h>

struct prof;

/* Returns a new array (MEM_PROFILE, prof_n_nodes(p) entries, at least 1) of the values of type
 * vi summed per node; sets need[n] = 1 for every node on a path from the root to a node with a
 * non-zero value (need has prof_n_nodes(p) entries, zeroed by the caller; need[0] is left as the
 * walk leaves it). Adds every sample's value to *total when total is not NULL. */
int64_t *prof_node_values(const struct prof *p, size_t vi, uint8_t *need, int64_t *total);

#endif
