/*
 * arena.h — bump allocator for phase-shaped lifetimes (one per request, per query, per drain
 * cycle). Allocations are freed all at once by arena_reset or arena_free; never individually.
 */
#ifndef EMBER_BASE_ARENA_H
#define EMBER_BASE_ARENA_H

#include <stddef.h>

#include "base/mem.h"

struct arena;

struct arena *arena_new(enum mem_sub sub, size_t chunk_bytes);
void arena_free(struct arena *a);
/* Memory aligned to 16 bytes, uninitialized. Aborts on OOM. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_calloc(struct arena *a, size_t count, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Drop every allocation but keep the first chunk for reuse. */
void arena_reset(struct arena *a);
size_t arena_bytes(const struct arena *a);

#endif
