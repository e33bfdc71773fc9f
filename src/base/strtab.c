/*
 * strtab.c — byte-string interning. Bytes live in append-only chunks (never moved, so pointers
 * are stable); an open-addressing index of ids (load <= 0.5) keyed by a 64-bit hash finds
 * duplicates. Invariant: id 0 is the empty string; ids are dense and assigned in insertion order.
 */
#include "base/strtab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

#define CHUNK_BYTES (64 * 1024)
#define SLOT_EMPTY  UINT32_MAX

struct chunk {
	struct chunk *next;
	size_t size, used;
	char data[];
};

struct entry {
	const char *ptr;
	uint32_t len;
	uint32_t hash32;
};

struct strtab {
	struct entry *entries;
	size_t n, cap;
	uint32_t *slots; /* ids or SLOT_EMPTY */
	size_t n_slots;	 /* power of two */
	struct chunk *chunks;
	size_t bytes;
	enum mem_sub sub;
	uint64_t seed;
};

static char *store(struct strtab *st, const void *s, size_t len)
{
	struct chunk *c = st->chunks;
	char *p;

	if (!c || c->size - c->used < len + 1) {
		size_t size = len + 1 > CHUNK_BYTES / 4 ? len + 1 : CHUNK_BYTES;

		c = mem_alloc(st->sub, sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		if (st->chunks && size != CHUNK_BYTES) {
			/* keep the current small chunk at the head for further appends */
			c->next = st->chunks->next;
			st->chunks->next = c;
		} else {
			c->next = st->chunks;
			st->chunks = c;
		}
		st->bytes += sizeof(*c) + size;
	}
	p = c->data + c->used;
	if (len)
		memcpy(p, s, len);
	p[len] = 0;
	c->used += len + 1;
	return p;
}

static void grow_slots(struct strtab *st)
{
	size_t n = st->n_slots ? st->n_slots * 2 : 64;

	mem_free(st->slots);
	st->slots = mem_alloc(st->sub, n * sizeof(uint32_t));
	memset(st->slots, 0xff, n * sizeof(uint32_t));
	st->n_slots = n;
	for (size_t id = 0; id < st->n; id++) {
		size_t j = st->entries[id].hash32 & (n - 1);

		while (st->slots[j] != SLOT_EMPTY)
			j = (j + 1) & (n - 1);
		st->slots[j] = (uint32_t)id;
	}
}

struct strtab *strtab_new(enum mem_sub sub)
{
	struct strtab *st = mem_calloc(sub, 1, sizeof(*st));

	st->sub = sub;
	st->seed = 0x9e3779b97f4a7c15ULL;
	strtab_intern(st, "", 0);
	return st;
}

void strtab_free(struct strtab *st)
{
	struct chunk *c;

	if (!st)
		return;
	c = st->chunks;
	while (c) {
		struct chunk *next = c->next;

		mem_free(c);
		c = next;
	}
	mem_free(st->entries);
	mem_free(st->slots);
	mem_free(st);
}

static size_t probe(const struct strtab *st, const void *s, size_t len, uint32_t h, bool *found)
{
	size_t j = h & (st->n_slots - 1);

	for (;;) {
		uint32_t id = st->slots[j];

		if (id == SLOT_EMPTY) {
			*found = false;
			return j;
		}
		const struct entry *e = &st->entries[id];

		if (e->hash32 == h && e->len == len && memcmp(e->ptr, s, len) == 0) {
			*found = true;
			return j;
		}
		j = (j + 1) & (st->n_slots - 1);
	}
}

/* Interns s (hash h); the body of strtab_intern and strtab_intern_from. */
static uint32_t intern_hashed(struct strtab *st, const void *s, size_t len, uint32_t h)
{
	bool found;
	size_t j;

	if ((st->n + 1) * 2 > st->n_slots)
		grow_slots(st);
	j = probe(st, s, len, h, &found);
	if (found)
		return st->slots[j];
	if (st->n >= UINT32_MAX - 1) {
		fprintf(stderr, "strtab: too many strings\n");
		abort();
	}
	mem_grow(st->sub, (void **)&st->entries, &st->cap, st->n + 1, sizeof(struct entry));
	st->entries[st->n].ptr = store(st, s, len);
	st->entries[st->n].len = (uint32_t)len;
	st->entries[st->n].hash32 = h;
	st->slots[j] = (uint32_t)st->n;
	return (uint32_t)st->n++;
}

uint32_t strtab_intern(struct strtab *st, const void *s, size_t len)
{
	if (len > UINT32_MAX) {
		fprintf(stderr, "strtab: string too long\n");
		abort();
	}
	return intern_hashed(st, s, len, (uint32_t)hash_bytes(s, len, st->seed));
}

uint32_t strtab_intern_from(struct strtab *st, const struct strtab *src, uint32_t id)
{
	const struct entry *e;

	if (id >= src->n)
		return 0; /* "" */
	e = &src->entries[id];
	if (src->seed != st->seed)
		return strtab_intern(st, e->ptr, e->len);
	return intern_hashed(st, e->ptr, e->len, e->hash32);
}

uint32_t strtab_intern_cstr(struct strtab *st, const char *s)
{
	return strtab_intern(st, s, strlen(s));
}

bool strtab_find(const struct strtab *st, const void *s, size_t len, uint32_t *id)
{
	bool found;
	size_t j;

	if (len > UINT32_MAX || !st->n_slots)
		return false;
	j = probe(st, s, len, (uint32_t)hash_bytes(s, len, st->seed), &found);
	if (found && id)
		*id = st->slots[j];
	return found;
}

const char *strtab_get(const struct strtab *st, uint32_t id, size_t *len)
{
	if (id >= st->n) {
		if (len)
			*len = 0;
		return "";
	}
	if (len)
		*len = st->entries[id].len;
	return st->entries[id].ptr;
}

uint32_t strtab_count(const struct strtab *st)
{
	return (uint32_t)st->n;
}

size_t strtab_bytes(const struct strtab *st)
{
	return st->bytes + st->cap * sizeof(struct entry) + st->n_slots * sizeof(uint32_t);
}
