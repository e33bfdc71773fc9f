/*
 * top.h — the top table: flat and cumulative value per function name, like `pprof -top`.
 * flat: value of samples whose leaf frame (innermost inline line of the leaf location) is the
 * function; cum: value of samples with the function anywhere in the stack, counted once.
 */
#ifndef EMBER_PROFILE_TOP_H
#define EMBER_PROFILE_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile/profile.h"

struct prof_top_row {
	const char *name; /* borrowed from the top table */
	int64_t flat;
	int64_t cum;
};

struct prof_top;

/* Sorted by flat (or cum when by_cum) descending, ties by name. */
struct prof_top *prof_top_new(const struct prof *p, size_t vi, bool by_cum);
void prof_top_free(struct prof_top *t);
size_t prof_top_len(const struct prof_top *t);
const struct prof_top_row *prof_top_row(const struct prof_top *t, size_t i);
int64_t prof_top_total(const struct prof_top *t);

#endif
