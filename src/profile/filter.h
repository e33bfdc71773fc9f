/*
 * filter.h — pprof-style sample filters: focus/ignore by function regex (any frame of the
 * stack, unanchored match on the display name, like pprof's -focus/-ignore), and keeping only
 * samples whose labels match. Regexes are PCRE2 with match limits.
 */
#ifndef EMBER_PROFILE_FILTER_H
#define EMBER_PROFILE_FILTER_H

#include "base/err.h"
#include "profile/profile.h"

struct prof_filter_opts {
	const char *focus;     /* keep samples with a frame matching; NULL = all */
	const char *ignore;    /* drop samples with a frame matching; NULL = none */
	const char *label_key; /* keep samples whose label label_key ... */
	const char *label_re;  /* ... matches this regex (anchored); NULL = no label filter */
};

/* A new profile with the samples of p that pass; NULL with -EMBER_EUSAGE and a message in d for
 * a bad regex. */
int prof_filter(const struct prof *p, const struct prof_filter_opts *o, struct prof **out,
		struct ember_diag *d);

#endif
