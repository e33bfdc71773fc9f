/*
 * merge.h — combining profiles: merge (symbols re-deduplicated), scale, compatibility checks.
 */
#ifndef EMBER_PROFILE_MERGE_H
#define EMBER_PROFILE_MERGE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "profile/profile.h"

/* Add every sample of src to dst, re-interning strings, mappings, functions, locations, label
 * sets and stacks. When dst has no sample types yet it takes src's (and src's metadata);
 * otherwise src must have the same sample types (type and unit, any order) or the call fails
 * with -EMBER_EFORMAT and a message in d, leaving dst unchanged. Metadata as pprof merges it:
 * time = earliest non-zero, duration = summed, period = largest, comments unioned. */
int prof_merge(struct prof *dst, const struct prof *src, struct ember_diag *d);

/* prof_merge restricted to the samples i of src with keep[i] true (keep NULL = all, which is
 * prof_merge). Only symbols reachable from the kept samples are copied. Used by prof_filter. */
int prof_merge_subset(struct prof *dst, const struct prof *src, const bool *keep,
		      struct ember_diag *d);

/* A string label given by its text. */
struct prof_kv {
	const char *key;
	const char *value;
};

/* prof_merge, every merged sample also labelled with the string labels extra (which replace
 * a sample label of the same key): how several processes' profiles become one profile whose
 * samples say which process they are from. dst must not be src. */
int prof_merge_labeled(struct prof *dst, const struct prof *src, const struct prof_kv *extra,
		       size_t n_extra, struct ember_diag *d);

/* Multiply every value by ratio, rounding to nearest. */
void prof_scale(struct prof *p, double ratio);

/* A new profile holding only sample type vi of p (all symbols kept). */
struct prof *prof_select_type(const struct prof *p, size_t vi);

#endif
