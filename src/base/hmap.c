/*
 * hmap.c — open-addressing uint64 -> uint64 map with linear probing. Invariant: len <= room(cap)
 * (half the slots, three quarters from HMAP_DENSE_CAP slots on), cap a power of two, empty
 * slots hold HMAP_EMPTY as key. There is no delete (clear only).
 */
#include "base/hmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

void hmap_init(struct hmap *m, enum mem_sub sub)
{
	memset(m, 0, sizeof(*m));
	m->sub = sub;
}

void hmap_fini(struct hmap *m)
{
	mem_free(m->slots);
	m->slots = NULL;
	m->cap = m->len = 0;
}

void hmap_clear(struct hmap *m)
{
	if (m->slots)
		memset(m->slots, 0xff, m->cap * sizeof(*m->slots));
	m->len = 0;
}

/* Large maps are lookups that miss the cache whatever their load: there a denser table (more
 * probes, but in the same or the next cache line) keeps more of it cached and takes a third
 * less memory (an hour's stack-node index of the store head: 8 -> 4 MiB). */
#define HMAP_DENSE_CAP 65536

static size_t room(size_t cap)
{
	return cap < HMAP_DENSE_CAP ? cap / 2 : cap - cap / 4;
}

static void rehash(struct hmap *m, size_t cap)
{
	struct hmap_slot *old = m->slots;
	size_t ocap = m->cap;

	m->slots = mem_alloc(m->sub, cap * sizeof(*m->slots));
	memset(m->slots, 0xff, cap * sizeof(*m->slots));
	m->cap = cap;
	for (size_t i = 0; i < ocap; i++) {
		if (old[i].key == HMAP_EMPTY)
			continue;
		size_t j = hash_u64(old[i].key) & (cap - 1);

		while (m->slots[j].key != HMAP_EMPTY)
			j = (j + 1) & (cap - 1);
		m->slots[j] = old[i];
	}
	mem_free(old);
}

void hmap_reserve(struct hmap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 16;

	while (room(cap) < n)
		cap *= 2;
	if (cap != m->cap)
		rehash(m, cap);
}

bool hmap_get(const struct hmap *m, uint64_t key, uint64_t *val)
{
	size_t j;

	if (!m->cap)
		return false;
	j = hash_u64(key) & (m->cap - 1);
	for (;;) {
		const struct hmap_slot *s = &m->slots[j];

		if (s->key == key) {
			if (val)
				*val = s->val;
			return true;
		}
		if (s->key == HMAP_EMPTY)
			return false;
		j = (j + 1) & (m->cap - 1);
	}
}

uint64_t *hmap_upsert(struct hmap *m, uint64_t key, uint64_t dflt, bool *found)
{
	size_t j;

	if (key == HMAP_EMPTY) {
		fprintf(stderr, "hmap: reserved key inserted\n");
		abort();
	}
	if (m->len + 1 > room(m->cap))
		hmap_reserve(m, m->len + 1);
	j = hash_u64(key) & (m->cap - 1);
	for (;;) {
		struct hmap_slot *s = &m->slots[j];

		if (s->key == key) {
			if (found)
				*found = true;
			return &s->val;
		}
		if (s->key == HMAP_EMPTY) {
			s->key = key;
			s->val = dflt;
			m->len++;
			if (found)
				*found = false;
			return &s->val;
		}
		j = (j + 1) & (m->cap - 1);
	}
}

void hmap_put(struct hmap *m, uint64_t key, uint64_t val)
{
	*hmap_upsert(m, key, val, NULL) = val;
}

bool hmap_next(const struct hmap *m, size_t *it, uint64_t *key, uint64_t *val)
{
	while (*it < m->cap) {
		size_t i = (*it)++;

		if (m->slots[i].key != HMAP_EMPTY) {
			if (key)
				*key = m->slots[i].key;
			if (val)
				*val = m->slots[i].val;
			return true;
		}
	}
	return false;
}
