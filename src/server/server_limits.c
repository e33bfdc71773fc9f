/*
 * server_limits.c — per-tenant limits of `ember server`: the effective limits of a tenant (its
 * override laid over the defaults) and a token bucket per tenant for the ingest rate (profiles
 * per second, refilled continuously, `burst` deep). A request that finds the bucket empty gets
 * 429 with Retry-After (the seconds until one token is back), and other tenants' buckets are
 * untouched. Also the per-tenant counters shown in /metrics.
 *
 * The table of tenants is bounded (SERVER_LIMITER_MAX_TENANTS): beyond it, unknown tenants
 * share one overflow entry with the default limits, so hostile tenant ids cannot grow memory.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/hmap.h"
#include "base/mem.h"
#include "server/server_int.h"

#define SERVER_LIMITER_MAX_TENANTS  4096
#define SERVER_DEFAULT_DECOMPRESSED ((size_t)64 << 20)
#define SERVER_DEFAULT_RATIO	    1000

struct limiter_tenant {
	char name[65];
	struct server_limits lim; /* effective */
	double tokens;		  /* in the bucket */
	int64_t last_ns;	  /* of the last refill; -1 = never */
	uint64_t n_limited;	  /* 429s */
	uint64_t n_ingest;	  /* ingest requests let through */
};

struct server_limiter {
	pthread_mutex_t mu;
	struct server_limits defaults; /* effective defaults */
	size_t server_max_body;	       /* no tenant's body limit exceeds it */
	const struct server_tenant_limits *overrides;
	size_t n_overrides;
	struct hmap idx; /* hash of the name -> index in tenants */
	struct limiter_tenant *tenants;
	size_t n_tenants, cap_tenants;
	struct limiter_tenant overflow;
};

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h == HMAP_EMPTY ? 0 : h;
}

/* Fields of o that are set replace those of base. */
static void limits_overlay(struct server_limits *base, const struct server_limits *o)
{
	if (o->ingest_rate > 0)
		base->ingest_rate = o->ingest_rate;
	if (o->ingest_burst)
		base->ingest_burst = o->ingest_burst;
	if (o->max_body_bytes)
		base->max_body_bytes = o->max_body_bytes;
	if (o->max_decompressed_bytes)
		base->max_decompressed_bytes = o->max_decompressed_bytes;
	if (o->max_ratio)
		base->max_ratio = o->max_ratio;
	if (o->max_series)
		base->max_series = o->max_series;
	if (o->max_labels)
		base->max_labels = o->max_labels;
	if (o->max_label_value_len)
		base->max_label_value_len = o->max_label_value_len;
}

static void limits_finish(struct server_limits *l)
{
	if (l->ingest_rate > 0 && !l->ingest_burst)
		l->ingest_burst = l->ingest_rate < 1 ? 1 : (uint32_t)ceil(l->ingest_rate);
}

static void tenant_init(struct server_limiter *m, struct limiter_tenant *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->lim = m->defaults;
	for (size_t i = 0; i < m->n_overrides; i++)
		if (!strcmp(m->overrides[i].tenant, name))
			limits_overlay(&t->lim, &m->overrides[i].lim);
	limits_finish(&t->lim);
	if (t->lim.max_body_bytes > m->server_max_body)
		t->lim.max_body_bytes = m->server_max_body;
	t->tokens = t->lim.ingest_burst;
	t->last_ns = -1;
}

/* The entry of a tenant (created on first use); m->mu held. */
static struct limiter_tenant *tenant_get(struct server_limiter *m, const char *name)
{
	uint64_t h = name_hash(name), i;

	if (hmap_get(&m->idx, h, &i))
		return strcmp(m->tenants[i].name, name) ? &m->overflow : &m->tenants[i];
	if (m->n_tenants >= SERVER_LIMITER_MAX_TENANTS || strlen(name) > 64)
		return &m->overflow;
	mem_grow(MEM_SERVER, (void **)&m->tenants, &m->cap_tenants, m->n_tenants + 1,
		 sizeof(*m->tenants));
	tenant_init(m, &m->tenants[m->n_tenants], name);
	hmap_put(&m->idx, h, m->n_tenants);
	return &m->tenants[m->n_tenants++];
}

struct server_limiter *server_limiter_new(const struct server_limits *defaults,
					  const struct server_tenant_limits *overrides,
					  size_t n_overrides, size_t server_max_body)
{
	struct server_limiter *m = mem_calloc(MEM_SERVER, 1, sizeof(*m));

	pthread_mutex_init(&m->mu, NULL);
	m->defaults = *defaults;
	m->server_max_body = server_max_body;
	if (!m->defaults.max_body_bytes || m->defaults.max_body_bytes > server_max_body)
		m->defaults.max_body_bytes = server_max_body;
	if (!m->defaults.max_decompressed_bytes)
		m->defaults.max_decompressed_bytes = SERVER_DEFAULT_DECOMPRESSED;
	if (!m->defaults.max_ratio)
		m->defaults.max_ratio = SERVER_DEFAULT_RATIO;
	m->overrides = overrides;
	m->n_overrides = n_overrides;
	hmap_init(&m->idx, MEM_SERVER);
	tenant_init(m, &m->overflow, "_overflow");
	/* Configured tenants first, so that they always have their own entry. */
	for (size_t i = 0; i < n_overrides; i++)
		server_limiter_tenant(m, overrides[i].tenant);
	return m;
}

void server_limiter_free(struct server_limiter *m)
{
	if (!m)
		return;
	hmap_fini(&m->idx);
	mem_free(m->tenants);
	pthread_mutex_destroy(&m->mu);
	mem_free(m);
}

void server_limiter_tenant(struct server_limiter *m, const char *tenant)
{
	pthread_mutex_lock(&m->mu);
	tenant_get(m, tenant);
	pthread_mutex_unlock(&m->mu);
}

void server_limiter_get(struct server_limiter *m, const char *tenant, bool create,
			struct server_limits *out)
{
	uint64_t i;

	pthread_mutex_lock(&m->mu);
	if (create)
		*out = tenant_get(m, tenant)->lim;
	else if (hmap_get(&m->idx, name_hash(tenant), &i) && !strcmp(m->tenants[i].name, tenant))
		*out = m->tenants[i].lim;
	else
		*out = m->overflow.lim;
	pthread_mutex_unlock(&m->mu);
}

unsigned int server_limiter_take(struct server_limiter *m, const char *tenant, int64_t now_ns)
{
	struct limiter_tenant *t;
	unsigned int retry = 0;

	pthread_mutex_lock(&m->mu);
	t = tenant_get(m, tenant);
	if (t->lim.ingest_rate > 0) {
		if (t->last_ns >= 0 && now_ns > t->last_ns)
			t->tokens += (double)(now_ns - t->last_ns) / 1e9 * t->lim.ingest_rate;
		if (t->tokens > t->lim.ingest_burst)
			t->tokens = t->lim.ingest_burst;
		t->last_ns = now_ns;
		if (t->tokens >= 1) {
			t->tokens -= 1;
		} else {
			double wait_s = (1 - t->tokens) / t->lim.ingest_rate;
			retry = wait_s < 1 ? 1 : wait_s > 3600 ? 3600 : (unsigned int)ceil(wait_s);
			t->n_limited++;
		}
	}
	if (!retry)
		t->n_ingest++;
	pthread_mutex_unlock(&m->mu);
	return retry;
}

void server_limiter_each(struct server_limiter *m,
			 void (*fn)(void *arg, const char *tenant, uint64_t n_ingest,
				    uint64_t n_limited),
			 void *arg)
{
	/* Copy under the lock, report outside it: fn may be slow (store calls). */
	struct limiter_tenant *copy;
	size_t n;

	pthread_mutex_lock(&m->mu);
	n = m->n_tenants;
	copy = mem_alloc(MEM_SERVER, (n + 1) * sizeof(*copy));
	if (n)
		memcpy(copy, m->tenants, n * sizeof(*copy));
	copy[n] = m->overflow;
	pthread_mutex_unlock(&m->mu);
	for (size_t i = 0; i <= n; i++)
		if (i < n || copy[i].n_ingest || copy[i].n_limited)
			fn(arg, copy[i].name, copy[i].n_ingest, copy[i].n_limited);
	mem_free(copy);
}
