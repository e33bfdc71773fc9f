/*
 * server_pprof.c — a pprof body decoded for the store the way it stores it cheapest. Where the
 * store takes separate stacks (store_takes_stacks), the body is parsed and split: the store
 * gets a shell profile (sample types, metadata, label sets) and the samples, and has the
 * stacks added to the tenant's dictionary under its lock by pprof_merger_stacks, through a
 * merge session it keeps per dictionary, so the symbols are hashed and deduplicated once,
 * into the dictionary, instead of once into a profile and again into the dictionary. Else
 * (or for a body too large to split) the body is decoded into a whole profile.
 * Owns the decoded state until server_pprof_fini.
 */
#include <string.h>

#include "base/err.h"
#include "format/pprof.h"
#include "server/server_int.h"

static void translate(void *ctx, struct prof *dict, void **cache, uint32_t *node)
{
	if (!*cache)
		*cache = pprof_merger_new(dict);
	pprof_merger_stacks(*cache, ctx, node);
}

static bool find(void *ctx, const struct prof *dict, const void *cache, uint32_t *node)
{
	(void)dict; /* the session's target */
	return pprof_merger_find_stacks(cache, ctx, node);
}

static void cache_free(void *cache)
{
	pprof_merger_free(cache);
}

static size_t cache_bytes(const void *cache)
{
	return pprof_merger_bytes(cache);
}

int server_pprof_decode(struct store *store, const void *body, size_t len,
			const struct pprof_limits *lim, struct server_pprof *x,
			struct ember_diag *d)
{
	struct pprof_samples smp;
	int rc;

	memset(x, 0, sizeof(*x));
	if (!store_takes_stacks(store))
		return pprof_decode(body, len, lim, &x->prof, d);
	rc = pprof_parse(body, len, lim, &x->pp, d);
	if (rc)
		return rc;
	rc = pprof_parsed_split(x->pp, &x->prof, &smp, d);
	if (rc == -EMBER_ELIMIT) { /* too large to keep parsed: decode it whole */
		pprof_parsed_free(x->pp);
		x->pp = NULL;
		return pprof_decode(body, len, lim, &x->prof, d);
	}
	if (rc) {
		server_pprof_fini(x);
		return rc;
	}
	x->st = (struct store_stacks){.n = smp.n,
				      .values = smp.values,
				      .labelsets = smp.labelsets,
				      .max_depth = smp.max_depth,
				      .translate = translate,
				      .find = find,
				      .cache_free = cache_free,
				      .cache_bytes = cache_bytes,
				      .ctx = x->pp};
	return 0;
}

size_t server_pprof_n_samples(const struct server_pprof *x)
{
	return x->pp ? x->st.n : prof_n_samples(x->prof);
}

size_t server_pprof_bytes(const struct server_pprof *x)
{
	return prof_bytes(x->prof) + (x->pp ? pprof_parsed_bytes(x->pp) : 0);
}

void server_pprof_to_append(const struct server_pprof *x, struct store_append *ap)
{
	ap->prof = x->prof;
	ap->stacks = x->pp ? &x->st : NULL;
}

void server_pprof_fini(struct server_pprof *x)
{
	prof_free(x->prof);
	pprof_parsed_free(x->pp);
	memset(x, 0, sizeof(*x));
}
