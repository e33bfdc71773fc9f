/*
 * hmap.c — open-addressing uint64 -> uint64 map with linear probing. Invariant: len <= cap / 2,
 * cap a power of two, empty slots hold HMAP_EMPTY. There is no delete (clear only).
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
	mem_free(m->keys);
	mem_free(m->vals);
	m->keys = m->vals = NULL;
	m->cap = m->len = 0;
}

void hmap_clear(struct hmap *m)
{
	if (m->keys)
		memset(m->keys, 0xff, m->cap * sizeof(uint64_t));
	m->len = 0;
}

static void rehash(struct hmap *m, size_t cap)
{
	uint64_t *ok = m->keys, *ov = m->vals;
	size_t ocap = m->cap;

	m->keys = mem_alloc(m->sub, cap * sizeof(uint64_t));
	m->vals = mem_alloc(m->sub, cap * sizeof(uint64_t));
	memset(m->keys, 0xff, cap * sizeof(uint64_t));
	m->cap = cap;
	for (size_t i = 0; i < ocap; i++) {
		if (ok[i] == HMAP_EMPTY)
			continue;
		size_t j = hash_u64(ok[i]) & (cap - 1);

		while (m->keys[j] != HMAP_EMPTY)
			j = (j + 1) & (cap - 1);
		m->keys[j] = ok[i];
		m->vals[j] = ov[i];
	}
	mem_free(ok);
	mem_free(ov);
}

void hmap_reserve(struct hmap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 16;

	while (cap / 2 < n)
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
		uint64_t k = m->keys[j];

		if (k == key) {
			if (val)
				*val = m->vals[j];
			return true;
		}
		if (k == HMAP_EMPTY)
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
	if (m->len + 1 > m->cap / 2)
		hmap_reserve(m, m->len + 1);
	j = hash_u64(key) & (m->cap - 1);
	for (;;) {
		uint64_t k = m->keys[j];

		if (k == key) {
			if (found)
				*found = true;
			return &m->vals[j];
		}
		if (k == HMAP_EMPTY) {
			m->keys[j] = key;
			m->vals[j] = dflt;
			m->len++;
			if (found)
				*found = false;
			return &m->vals[j];
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

		if (m->keys[i] != HMAP_EMPTY) {
			if (key)
				*key = m->keys[i];
			if (val)
				*val = m->vals[i];
			return true;
		}
	}
	return false;
}
