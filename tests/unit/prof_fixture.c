/*
 * prof_fixture.c — shared builders for unit tests of the profile model and its operations:
 * profiles from root-first stack strings ("main;a;b", "x+y" = y inlined into x) and random
 * profiles from a seed. Test code only.
 */
#include <stdio.h>
#include <string.h>

#include "prof_fixture.h"

/* Stacks are written root first, "main;a;b"; "x+y" is one location where y is inlined into x. */
uint32_t fx_loc(struct prof *p, const char *spec, size_t len)
{
	struct prof_line lines[8];
	const char *part[8], *s = spec, *end = spec + len;
	size_t plen[8], n = 0;

	while (s <= end && n < 8) {
		const char *q = memchr(s, '+', (size_t)(end - s));

		if (!q)
			q = end;
		part[n] = s;
		plen[n++] = (size_t)(q - s);
		s = q + 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct prof_function f = {.name = prof_intern(p, part[n - 1 - i], plen[n - 1 - i])};

		lines[i] = (struct prof_line){.function = prof_add_function(p, &f), .line = 1};
	}
	return prof_add_location(p, 0, 0, lines, (uint32_t)n, false);
}

uint32_t fx_stack(struct prof *p, const char *stack)
{
	uint32_t node = 0;

	while (*stack) {
		size_t len = strcspn(stack, ";");

		node = prof_node_child(p, node, fx_loc(p, stack, len));
		stack += len;
		if (*stack)
			stack++;
	}
	return node;
}

void fx_add(struct prof *p, const char *stack, uint32_t ls, int64_t v0, int64_t v1)
{
	int64_t v[2] = {v0, v1};

	prof_add_sample(p, fx_stack(p, stack), ls, v);
}

uint64_t fx_rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct prof *fx_types(const char *t0, const char *u0, const char *t1, const char *u1)
{
	struct prof *p = prof_new();

	prof_add_sample_type(p, prof_intern_cstr(p, t0), prof_intern_cstr(p, u0));
	if (t1)
		prof_add_sample_type(p, prof_intern_cstr(p, t1), prof_intern_cstr(p, u1));
	return p;
}

/* A random profile with types samples/count, cpu/nanoseconds; names f0..f(n_names-1). */
struct prof *fx_random(uint64_t seed, int n_stacks, int n_names, int max_depth)
{
	struct prof *p = fx_types("samples", "count", "cpu", "nanoseconds");
	uint64_t r = seed * 2654435761u + 1;
	struct prof_label lab = {.key = prof_intern_cstr(p, "k")};

	for (int s = 0; s < n_stacks; s++) {
		char stack[1024];
		size_t off = 0;
		int depth = 1 + (int)(fx_rng(&r) % (uint64_t)max_depth);
		uint32_t ls = 0;

		for (int d = 0; d < depth; d++) {
			int a = (int)(fx_rng(&r) % (uint64_t)n_names);

			if (fx_rng(&r) % 8 == 0)
				off += (size_t)snprintf(stack + off, sizeof(stack) - off,
							"%sf%d+f%d", d ? ";" : "", a,
							(a + 1) % n_names);
			else
				off += (size_t)snprintf(stack + off, sizeof(stack) - off, "%sf%d",
							d ? ";" : "", a);
		}
		if (fx_rng(&r) % 3 == 0) {
			char v[8];

			snprintf(v, sizeof(v), "v%d", (int)(fx_rng(&r) % 3));
			lab.str = prof_intern_cstr(p, v);
			ls = prof_add_labelset(p, &lab, 1);
		}
		int64_t v = (int64_t)(fx_rng(&r) % 100);

		fx_add(p, stack, ls, v, v * 1000);
	}
	return p;
}
