/*
 * arena.c — a bump allocator over a list of chunks. Large requests get a chunk of their own.
 * Owns its chunks; never frees individual allocations.
 */
#include "base/arena.h"

#include <string.h>

struct chunk {
	struct chunk *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct chunk *head;
	size_t chunk_bytes;
	size_t total;
	enum mem_sub sub;
};

struct arena *arena_new(enum mem_sub sub, size_t chunk_bytes)
{
	struct arena *a = mem_calloc(sub, 1, sizeof(*a));

	a->sub = sub;
	a->chunk_bytes = chunk_bytes ? chunk_bytes : 64 * 1024;
	return a;
}

static struct chunk *chunk_new(struct arena *a, size_t min)
{
	size_t size = min > a->chunk_bytes ? min : a->chunk_bytes;
	struct chunk *c = mem_alloc(a->sub, sizeof(*c) + size);

	c->size = size;
	c->used = 0;
	c->next = a->head;
	a->head = c;
	a->total += size;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct chunk *c = a->head;
	size_t need = (n + 15) & ~(size_t)15;

	if (need < n)
		need = n; /* overflow: let mem_alloc abort below */
	if (!c || c->size - c->used < need)
		c = chunk_new(a, need);
	void *p = c->data + c->used;
	c->used += need;
	return p;
}

void *arena_calloc(struct arena *a, size_t count, size_t size)
{
	size_t n = count * size;
	void *p;

	if (size && count > SIZE_MAX / size)
		n = SIZE_MAX;
	p = arena_alloc(a, n);
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void arena_reset(struct arena *a)
{
	struct chunk *c = a->head;

	if (!c)
		return;
	while (c->next) {
		struct chunk *next = c->next;

		a->total -= next->size;
		c->next = next->next;
		mem_free(next);
	}
	c->used = 0;
}

size_t arena_bytes(const struct arena *a)
{
	return a->total;
}

void arena_free(struct arena *a)
{
	struct chunk *c;

	if (!a)
		return;
	c = a->head;
	while (c) {
		struct chunk *next = c->next;

		mem_free(c);
		c = next;
	}
	mem_free(a);
}
