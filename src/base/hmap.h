/*
 * hmap.h — open-addressing hash map from uint64_t keys to uint64_t values (linear probing,
 * power-of-two capacity, load <= 0.5, or <= 0.75 for maps of 64k slots or more). The key
 * UINT64_MAX is reserved as the empty marker and must never be inserted. Grows by rehashing;
 * never shrinks except on hmap_clear.
 */
#ifndef EMBER_BASE_HMAP_H
#define EMBER_BASE_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/hash.h"
#include "base/mem.h"

#define HMAP_EMPTY UINT64_MAX

/* A key and its value side by side: a probe that finds its key has the value in the same
 * cache line. */
struct hmap_slot {
	uint64_t key; /* HMAP_EMPTY where free */
	uint64_t val;
};

struct hmap {
	struct hmap_slot *slots; /* owned */
	size_t cap;		 /* 0 or a power of two */
	size_t len;
	enum mem_sub sub;
};

void hmap_init(struct hmap *m, enum mem_sub sub);
void hmap_fini(struct hmap *m);
void hmap_clear(struct hmap *m);
void hmap_reserve(struct hmap *m, size_t n);
/* Returns true and sets *val when found. */
bool hmap_get(const struct hmap *m, uint64_t key, uint64_t *val);
void hmap_put(struct hmap *m, uint64_t key, uint64_t val);
/* Pointer to the value slot for key, inserting `dflt` if absent; *found says which. The
 * pointer is valid until the next insertion. */
uint64_t *hmap_upsert(struct hmap *m, uint64_t key, uint64_t dflt, bool *found);
/* The slot where key's probe starts (m must not be empty): what a lookup reads first, for
 * callers that prefetch it or peek at it before the real lookup. */
static inline const struct hmap_slot *hmap_home(const struct hmap *m, uint64_t key)
{
	return &m->slots[hash_u64(key) & (m->cap - 1)];
}
/* Inserts key, which must be absent (and never HMAP_EMPTY), into a map with room for it
 * (hmap_reserve), its probe starting at slot j (hash_u64(key) & (cap - 1), which a caller that
 * prefetched the slot has at hand): the first free slot takes it, with no key compares. For
 * callers that know their keys are new. */
static inline void hmap_put_new_at(struct hmap *m, size_t j, uint64_t key, uint64_t val)
{
	size_t mask = m->cap - 1;

	while (m->slots[j].key != HMAP_EMPTY)
		j = (j + 1) & mask;
	m->slots[j].key = key;
	m->slots[j].val = val;
	m->len++;
}
/* The same, the probe starting where key's does. */
static inline void hmap_put_new(struct hmap *m, uint64_t key, uint64_t val)
{
	hmap_put_new_at(m, hash_u64(key) & (m->cap - 1), key, val);
}
/* Iterate: start with *it = 0; returns false at the end. */
bool hmap_next(const struct hmap *m, size_t *it, uint64_t *key, uint64_t *val);

#endif
