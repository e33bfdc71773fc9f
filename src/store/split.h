/*
 * split.h — sample labels lifted into series labels (split.c), shared by both backends so
 * they agree on the series an append makes.
 */
#ifndef EMBER_STORE_SPLIT_H
#define EMBER_STORE_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "profile/profile.h"
#include "store/store.h"

/* The series groups of one append: every sample's label set maps to a group, and a group's
 * labels are the request's plus the sample's lifted string labels (in no set order; the
 * request's __name__/__profile_type__ are passed through for the backend to replace). One
 * group with the request's labels when no sample carries a liftable label. */
struct store_split {
	uint32_t n_groups;
	uint32_t *group_of;	     /* per label set of the profile */
	struct store_labelset *sets; /* per group */
	struct store_label *owned;   /* storage behind sets[].labels */
};

/* Sorts labels by name (a series has a few: insertion sort, no callback per comparison). */
void store_labels_sort(struct store_label *l, size_t n);
/* Whether a sample label key carries the span id (span_id, or the legacy profile_id). */
bool store_split_key_is_span(const char *k);
/* Checks the request's labels and the sample labels against lim (name syntax, lengths,
 * duplicate names, labels per series) before it reads them. */
int store_split_build(const struct prof *p, const struct store_label *req, size_t n_req,
		      const struct store_limits *lim, struct store_split *sp, struct ember_diag *d);
/* One group with the request's labels, every label set in it (no check). */
void store_split_single(const struct prof *p, const struct store_label *req, size_t n_req,
			struct store_split *sp);
void store_split_fini(struct store_split *sp);

#endif
