/*
 * prof_fixture.h — shared builders for unit tests of the profile model and its operations.
 * Stacks are written root first, "main;a;b"; "x+y" is one location where y is inlined into x.
 */
#ifndef EMBER_TESTS_UNIT_PROF_FIXTURE_H
#define EMBER_TESTS_UNIT_PROF_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "profile/profile.h"

/* The location for one frame spec of len bytes ("x" or "x+y"). */
uint32_t fx_loc(struct prof *p, const char *spec, size_t len);
/* The node of a root-first stack string. */
uint32_t fx_stack(struct prof *p, const char *stack);
/* Add values (v0, v1) for a stack with label set ls (the profile has two sample types). */
void fx_add(struct prof *p, const char *stack, uint32_t ls, int64_t v0, int64_t v1);
/* xorshift64; *s must not be 0. */
uint64_t fx_rng(uint64_t *s);
/* A new profile with one or two sample types (t1 NULL for one). */
struct prof *fx_types(const char *t0, const char *u0, const char *t1, const char *u1);
/* A random profile with types samples/count, cpu/nanoseconds; names f0..f(n_names-1); about a
 * third of the samples carry a label k=v0|v1|v2. */
struct prof *fx_random(uint64_t seed, int n_stacks, int n_names, int max_depth);

#endif
