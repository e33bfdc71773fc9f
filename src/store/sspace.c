/*
 * sspace.c — stack spaces: per tenant, one dictionary into which the stacks of every loaded
 * block are mapped once, when the block is loaded. A merge over many blocks then sums their
 * samples in the space's node ids and copies stacks and symbols into its output once, instead
 * of once per block (that copying was about 70% of a 24-h flame graph over 10 blocks).
 *
 * A space only grows. Blocks that are dropped (compaction, retention) leave their stacks in
 * it, so when a space holds more than STORE_SSPACE_SLACK times the nodes of the live blocks
 * mapped into it, the next block of the tenant starts a new space; the old one is freed with
 * the last block that refers to it. A query may thus see two spaces of a tenant (it keeps
 * one accumulator per space).
 *
 * Locks: a space's rwlock guards its dictionary (written while a block is mapped, read while
 * a query copies from it); the registry's mutex guards its tenant list. Never logs.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "store/store_int.h"

struct store_sspace {
	atomic_int ref;
	pthread_rwlock_t lock;
	struct prof *dict;		 /* guarded by lock */
	atomic_uint_fast64_t nodes;	 /* prof_n_nodes(dict), readable without the lock */
	atomic_uint_fast64_t live_nodes; /* the nodes of the live blocks mapped into it */
};

struct sspace_ent {
	char tenant[STORE_TENANT_MAX + 1];
	struct store_sspace *sp; /* the space new blocks go to; holds a reference */
};

struct store_sspaces {
	pthread_mutex_t mu;
	struct sspace_ent *e; /* guarded by mu */
	size_t n, cap;
};

static struct store_sspace *space_new(void)
{
	struct store_sspace *sp = mem_calloc(MEM_STORE, 1, sizeof(*sp));

	atomic_init(&sp->ref, 1);
	pthread_rwlock_init(&sp->lock, NULL);
	sp->dict = prof_new();
	atomic_init(&sp->nodes, prof_n_nodes(sp->dict));
	return sp;
}

static void space_unref(struct store_sspace *sp)
{
	if (sp && atomic_fetch_sub(&sp->ref, 1) == 1) {
		prof_free(sp->dict);
		pthread_rwlock_destroy(&sp->lock);
		mem_free(sp);
	}
}

struct store_sspaces *store_sspaces_new(void)
{
	struct store_sspaces *r = mem_calloc(MEM_STORE, 1, sizeof(*r));

	pthread_mutex_init(&r->mu, NULL);
	return r;
}

void store_sspaces_free(struct store_sspaces *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		space_unref(r->e[i].sp);
	mem_free(r->e);
	pthread_mutex_destroy(&r->mu);
	mem_free(r);
}

/* The tenant's current space, referenced for the caller; a new one when the current one is
 * mostly stacks of dropped blocks. Under r->mu. */
static struct store_sspace *current(struct store_sspaces *r, const char *tenant, uint64_t add)
{
	struct sspace_ent *e = NULL;

	for (size_t i = 0; i < r->n && !e; i++)
		if (!strcmp(r->e[i].tenant, tenant))
			e = &r->e[i];
	if (!e) {
		mem_grow(MEM_STORE, (void **)&r->e, &r->cap, r->n + 1, sizeof(*r->e));
		e = &r->e[r->n++];
		snprintf(e->tenant, sizeof(e->tenant), "%s", tenant);
		e->sp = space_new();
	} else if (atomic_load(&e->sp->nodes) > STORE_SSPACE_MIN_NODES &&
		   atomic_load(&e->sp->nodes) >
			   STORE_SSPACE_SLACK * atomic_load(&e->sp->live_nodes)) {
		space_unref(e->sp);
		e->sp = space_new();
	}
	atomic_fetch_add(&e->sp->ref, 1);
	atomic_fetch_add(&e->sp->live_nodes, add);
	return e->sp;
}

void store_sspaces_map(struct store_sspaces *r, struct store_sdata *sd)
{
	uint32_t nn = prof_n_nodes(sd->dict);
	struct store_xlat x = {0};
	struct store_sspace *sp;

	pthread_mutex_lock(&r->mu);
	sp = current(r, sd->tenant, nn);
	pthread_mutex_unlock(&r->mu);
	pthread_rwlock_wrlock(&sp->lock);
	store_xlat_init(&x, sd->dict, sp->dict);
	for (uint32_t k = 1; k < nn; k++) /* parents first: each step is one lookup */
		(void)store_xlat_node(&x, k);
	sd->space_n = prof_n_nodes(sp->dict);
	atomic_store(&sp->nodes, sd->space_n);
	pthread_rwlock_unlock(&sp->lock);
	sd->space = sp;
	sd->space_node = x.node; /* node -> space node, nn + 1 entries */
	x.node = NULL;
	store_xlat_fini(&x);
}

void store_sspace_release(struct store_sdata *sd)
{
	if (!sd->space)
		return;
	atomic_fetch_sub(&sd->space->live_nodes, prof_n_nodes(sd->dict));
	space_unref(sd->space);
	mem_free(sd->space_node);
	sd->space = NULL;
	sd->space_node = NULL;
}

struct store_sspace *store_sspace_ref(struct store_sspace *sp)
{
	atomic_fetch_add(&sp->ref, 1);
	return sp;
}

void store_sspace_unref(struct store_sspace *sp)
{
	space_unref(sp);
}

const struct prof *store_sspace_read(struct store_sspace *sp)
{
	pthread_rwlock_rdlock(&sp->lock);
	return sp->dict;
}

void store_sspace_read_done(struct store_sspace *sp)
{
	pthread_rwlock_unlock(&sp->lock);
}

uint64_t store_sspace_nodes(const struct store_sspace *sp)
{
	return atomic_load(&sp->nodes);
}
