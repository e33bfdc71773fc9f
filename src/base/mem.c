/*
 * mem.c — the allocator wrapper. Each block carries a 16-byte header (size, subsystem) so frees
 * can be attributed; counters are relaxed atomics. mem_alloc & co. abort on OOM; mem_try_* return
 * NULL and count down the injected-failure counter. This file is the only caller of malloc/free.
 */
#include "base/mem.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mem_hdr {
	uint64_t size;
	uint64_t sub;
};

static _Atomic int64_t counts[MEM_N_SUB];
static _Atomic uint64_t fail_countdown; /* 0 = off; 1 = the next try fails */
static _Atomic int fail_active;

static const char *const names[MEM_N_SUB] = {
	"base", "profile", "format", "symb", "agent", "store", "server", "cli", "test",
};

const char *mem_sub_name(enum mem_sub sub)
{
	return (unsigned)sub < MEM_N_SUB ? names[sub] : "?";
}

static void *raw_alloc(enum mem_sub sub, void *old, size_t n)
{
	struct mem_hdr *h = old ? (struct mem_hdr *)old - 1 : NULL;
	size_t old_size = h ? h->size : 0;
	enum mem_sub old_sub = h ? (enum mem_sub)h->sub : sub;

	if (n > SIZE_MAX - sizeof(*h))
		return NULL;
	h = realloc(h, sizeof(*h) + n);
	if (!h)
		return NULL;
	atomic_fetch_sub_explicit(&counts[old_sub], (int64_t)old_size, memory_order_relaxed);
	atomic_fetch_add_explicit(&counts[sub], (int64_t)n, memory_order_relaxed);
	h->size = n;
	h->sub = (uint64_t)sub;
	return h + 1;
}

static void oom(size_t n)
{
	fprintf(stderr, "ember: out of memory allocating %zu bytes\n", n);
	abort();
}

void *mem_alloc(enum mem_sub sub, size_t n)
{
	void *p = raw_alloc(sub, NULL, n);

	if (!p)
		oom(n);
	return p;
}

void *mem_calloc(enum mem_sub sub, size_t count, size_t size)
{
	void *p;

	if (size && count > SIZE_MAX / size)
		oom(SIZE_MAX);
	p = mem_alloc(sub, count * size);
	memset(p, 0, count * size);
	return p;
}

void *mem_realloc(enum mem_sub sub, void *p, size_t n)
{
	void *q = raw_alloc(sub, p, n);

	if (!q)
		oom(n);
	return q;
}

char *mem_strndup(enum mem_sub sub, const char *s, size_t n)
{
	char *p = mem_alloc(sub, n + 1);

	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *mem_strdup(enum mem_sub sub, const char *s)
{
	return mem_strndup(sub, s, strlen(s));
}

void mem_free(void *p)
{
	struct mem_hdr *h;

	if (!p)
		return;
	h = (struct mem_hdr *)p - 1;
	atomic_fetch_sub_explicit(&counts[h->sub], (int64_t)h->size, memory_order_relaxed);
	free(h);
}

static int injected_failure(void)
{
	uint64_t left;

	if (!atomic_load_explicit(&fail_active, memory_order_relaxed))
		return 0;
	left = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
	if (left <= 1)
		return 1;
	atomic_store_explicit(&fail_countdown, left - 1, memory_order_relaxed);
	return 0;
}

void *mem_try_alloc(enum mem_sub sub, size_t n)
{
	if (injected_failure())
		return NULL;
	return raw_alloc(sub, NULL, n);
}

void *mem_try_realloc(enum mem_sub sub, void *p, size_t n)
{
	if (injected_failure())
		return NULL;
	return raw_alloc(sub, p, n);
}

void mem_grow(enum mem_sub sub, void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 8;

	if (need <= *cap)
		return;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			oom(SIZE_MAX);
		c *= 2;
	}
	if (elem && c > SIZE_MAX / elem)
		oom(SIZE_MAX);
	*arr = mem_realloc(sub, *arr, c * elem);
	*cap = c;
}

int64_t mem_bytes(enum mem_sub sub)
{
	return (unsigned)sub < MEM_N_SUB ? atomic_load(&counts[sub]) : 0;
}

int64_t mem_bytes_total(void)
{
	int64_t t = 0;

	for (int i = 0; i < MEM_N_SUB; i++)
		t += atomic_load(&counts[i]);
	return t;
}

void mem_fail_after(uint64_t n)
{
	atomic_store(&fail_countdown, n);
	atomic_store(&fail_active, n != 0);
}

void mem_tune_batch(void)
{
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	mallopt(M_TOP_PAD, 16 << 20);
}
