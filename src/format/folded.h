/*
 * folded.h — Brendan Gregg's folded stacks ("root;child;leaf 42", one line per stack, count after
 * the last whitespace). Reading builds a profile with one sample type (samples/count unless
 * given); frames become functions by name. Writing emits one line per unique stack of sample
 * type vi, frames by display name (inline frames expanded), lines sorted.
 */
#ifndef EMBER_FORMAT_FOLDED_H
#define EMBER_FORMAT_FOLDED_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "profile/profile.h"

/* type/unit may be NULL for "samples"/"count". Bad lines fail with the line number in d. */
int folded_read(const char *text, size_t len, const char *type, const char *unit, struct prof **out,
		struct ember_diag *d);
int folded_write(const struct prof *p, size_t vi, struct buf *out);

#endif
