/*
 * mem.h — the one allocator wrapper. Every heap allocation in Ember goes through here so that
 * bytes are counted per subsystem (for self-observability) and tests can make allocation fail.
 *
 * Two families:
 *  - mem_alloc/mem_calloc/mem_realloc/mem_strdup: internal, bounded sizes. On out-of-memory they
 *    log and abort, so call sites carry no NULL checks.
 *  - mem_try_alloc/mem_try_realloc: sizes that come from input. They return NULL on failure and
 *    honour injected failures (mem_fail_after); callers must handle NULL.
 * Raw malloc/free are banned elsewhere (make lint).
 */
#ifndef EMBER_BASE_MEM_H
#define EMBER_BASE_MEM_H

#include <stddef.h>
#include <stdint.h>

enum mem_sub {
	MEM_BASE,
	MEM_PROFILE,
	MEM_FORMAT,
	MEM_SYMB,
	MEM_AGENT,
	MEM_STORE,
	MEM_SERVER,
	MEM_CLI,
	MEM_TEST,
	MEM_N_SUB
};

void *mem_alloc(enum mem_sub sub, size_t n);
void *mem_calloc(enum mem_sub sub, size_t count, size_t size);
void *mem_realloc(enum mem_sub sub, void *p, size_t n);
char *mem_strdup(enum mem_sub sub, const char *s);
char *mem_strndup(enum mem_sub sub, const char *s, size_t n);
void mem_free(void *p);

void *mem_try_alloc(enum mem_sub sub, size_t n);
void *mem_try_realloc(enum mem_sub sub, void *p, size_t n);

/* Grow-array helper: ensure *cap >= need for an array of elem-sized items (doubling).
 * Aborts on overflow or OOM. */
void mem_grow(enum mem_sub sub, void **arr, size_t *cap, size_t need, size_t elem);

/* Bytes currently allocated by a subsystem, and in all. */
int64_t mem_bytes(enum mem_sub sub);
int64_t mem_bytes_total(void);
const char *mem_sub_name(enum mem_sub sub);

/* For batch processes (the CLI, benchmarks): keep freed memory in the process instead of handing
 * it back to the kernel and faulting it in again for the next file, which on virtual machines
 * costs more than decoding. Not for long-running daemons with RSS targets. */
void mem_tune_batch(void);

/* Test hook: the n-th next mem_try_* call (1-based) and all after it fail; 0 disables. */
void mem_fail_after(uint64_t n);

#endif
