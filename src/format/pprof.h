/*
 * pprof.h — the pprof profile.proto codec (perftools.profiles.Profile), raw or gzipped.
 *
 * Decoding is zero-copy over the input and strict: truncated varints, wrong wire types,
 * out-of-range string/function/mapping/location references, duplicate or zero ids, value counts
 * that do not match sample_type, absurd counts, or a gzip bomb give -EMBER_EFORMAT/-EMBER_ELIMIT
 * with a message naming what is wrong and the byte offset; on error nothing is returned.
 * Every field of profile.proto is read and written.
 */
#ifndef EMBER_FORMAT_PPROF_H
#define EMBER_FORMAT_PPROF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "format/gzip.h"
#include "profile/profile.h"

struct pprof_limits {
	struct gzip_limits gzip;
	size_t max_bytes;   /* largest (decompressed) profile; 0 = default 512 MiB */
	size_t max_samples; /* 0 = no limit beyond what the size implies */
};

/* Decode data (gzip detected by its magic) into a new profile. */
int pprof_decode(const void *data, size_t len, const struct pprof_limits *lim, struct prof **out,
		 struct ember_diag *d);
/* Decode and merge into dst (sample types must match, as prof_merge); dst is unchanged on error.
 * Faster than decode + prof_merge. */
int pprof_decode_merge(struct prof *dst, const void *data, size_t len,
		       const struct pprof_limits *lim, struct ember_diag *d);

/* pprof_decode_merge in two steps, so that the first can run on another thread while dst is
 * busy: pprof_parse unwraps, decodes and validates data without any target (data must stay
 * valid and unchanged until pprof_parsed_free); pprof_parsed_merge then matches the sample types
 * against dst and adds everything (dst unchanged on error; once per parsed profile). Errors are
 * those of pprof_decode_merge, except that a bad sample is reported before different types. */
struct pprof_parsed;
int pprof_parse(const void *data, size_t len, const struct pprof_limits *lim,
		struct pprof_parsed **out, struct ember_diag *d);
int pprof_parsed_merge(struct prof *dst, struct pprof_parsed *pp, struct ember_diag *d);
void pprof_parsed_free(struct pprof_parsed *pp);
/* About the memory pp holds (its inflated input and parsed tables). */
size_t pprof_parsed_bytes(const struct pprof_parsed *pp);
/* pprof_parse's gunzip alone, for a caller that inflates on one thread and parses on another:
 * gzipped data is inflated into raw (appended) within the limits pprof_parse applies, and
 * pprof_parse of raw's bytes then gives what pprof_parse of data gives; an error is the one
 * pprof_parse would report. Data that is not gzip is left alone: 0, raw unchanged. */
int pprof_gunzip(const void *data, size_t len, const struct pprof_limits *lim, struct buf *raw,
		 struct ember_diag *d);

/* A merge session into dst, for merging many inputs: pprof_merger_add is pprof_parsed_merge
 * (same result, same errors) with a location cache kept across inputs, which makes each input
 * after the first cheaper. dst must outlive the session; it may grow meanwhile by other means
 * (the cache maps to ids, which never change), but must not be freed or replaced. */
struct pprof_merger;
struct pprof_merger *pprof_merger_new(struct prof *dst);
int pprof_merger_add(struct pprof_merger *m, struct pprof_parsed *pp, struct ember_diag *d);
void pprof_merger_free(struct pprof_merger *m);
/* The memory the session's caches hold. */
size_t pprof_merger_bytes(const struct pprof_merger *m);

/* A parsed profile taken apart for a store that keeps one symbol dictionary (a struct prof)
 * and the samples elsewhere: pprof_parsed_split gives a shell profile with the input's sample
 * types, metadata, comments and label sets but no symbols, stacks or samples, and the samples
 * in s (pointing into pp, valid until pprof_parsed_free), in input order, duplicates not
 * summed; pprof_merger_stacks then adds the samples' stacks to the session's target with
 * their symbols, as pprof_merger_add would, writing each sample's leaf node (0: no locations)
 * to node[0..s->n), and cannot fail. Each step once per parsed profile, the second only after
 * the first; a profile split cannot be merged. -EMBER_ELIMIT when the input was too large for
 * pprof_parse to keep its samples parsed (then decode it whole). */
struct pprof_samples {
	size_t n;
	const int64_t *values;	   /* n x the shell's sample types */
	const uint32_t *labelsets; /* the shell's label set of each sample; NULL: none has one */
	uint32_t max_depth;	   /* the most locations of a sample */
};
int pprof_parsed_split(struct pprof_parsed *pp, struct prof **shell, struct pprof_samples *s,
		       struct ember_diag *d);
void pprof_merger_stacks(struct pprof_merger *m, struct pprof_parsed *pp, uint32_t *node);
/* pprof_merger_stacks when the target has every symbol and stack already: writes node[] and
 * returns true without changing the target or the session, so it may run alongside other
 * lookups of the same session and other readers of its target (not alongside changes). False
 * when something is missing (or a location has no address to find it by): then
 * pprof_merger_stacks, as if this had not run. */
bool pprof_merger_find_stacks(const struct pprof_merger *m, struct pprof_parsed *pp,
			      uint32_t *node);

/* Append the encoding of p to out, gzipped (level 1) when gzip is set. */
int pprof_encode(const struct prof *p, bool gzip, struct buf *out);

#endif
