/*
 * replay.c — applying WAL records to a head on open: whole-profile records (type 1) through
 * store_head_apply, delta records (type 2) by continuing the dictionary they were written
 * against. Per tenant and segment that is normally the head's own dictionary (a segment
 * begins with its head, I6); a segment written after a cut rotated to a fresh head, but
 * whose cut never finished, continues an empty dictionary of its own, which is rebuilt here
 * and translated into the head's. Used by the local backend and the WAL fuzzer. Never logs.
 */
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/mem.h"
#include "store/store_int.h"

struct replay_dict {
	char tenant[STORE_TENANT_MAX + 1];
	struct prof *seg; /* NULL: the head's own */
	struct store_xlat x;
};

struct store_replay {
	struct store_head *h;
	struct arena *arena;
	struct replay_dict *dicts; /* of the current segment */
	size_t n_dicts, cap_dicts;
};

struct store_replay *store_replay_new(struct store_head *h)
{
	struct store_replay *rp = mem_calloc(MEM_STORE, 1, sizeof(*rp));

	rp->h = h;
	rp->arena = arena_new(MEM_STORE, 64 << 10);
	return rp;
}

void store_replay_segment_end(struct store_replay *rp)
{
	for (size_t i = 0; i < rp->n_dicts; i++) {
		prof_free(rp->dicts[i].seg);
		store_xlat_fini(&rp->dicts[i].x);
	}
	rp->n_dicts = 0;
}

void store_replay_free(struct store_replay *rp)
{
	if (!rp)
		return;
	store_replay_segment_end(rp);
	mem_free(rp->dicts);
	arena_free(rp->arena);
	mem_free(rp);
}

static struct replay_dict *dict_find(struct store_replay *rp, const char *tenant)
{
	for (size_t i = 0; i < rp->n_dicts; i++)
		if (!strcmp(rp->dicts[i].tenant, tenant))
			return &rp->dicts[i];
	return NULL;
}

/* store_drec_decode's dict_for: the dictionary a record's delta continues. */
static struct prof *dict_for(void *ctx, const char *tenant, const struct store_dict_mark *at)
{
	static const struct store_dict_mark empty = {1, 0, 0, 0, 1}; /* that of prof_new() */
	struct store_replay *rp = ctx;
	struct replay_dict *e = dict_find(rp, tenant);
	struct store_dict_mark cur;
	struct prof *hd;

	if (!store_tenant_ok(tenant))
		return NULL;
	hd = store_head_dict(rp->h, tenant);
	if (e)
		return e->seg ? e->seg : hd;
	mem_grow(MEM_STORE, (void **)&rp->dicts, &rp->cap_dicts, rp->n_dicts + 1,
		 sizeof(*rp->dicts));
	e = &rp->dicts[rp->n_dicts];
	memset(e, 0, sizeof(*e));
	snprintf(e->tenant, sizeof(e->tenant), "%s", tenant);
	store_dict_mark(hd, &cur);
	if (!store_dict_mark_eq(at, &cur)) {
		if (!store_dict_mark_eq(at, &empty))
			return NULL; /* continues neither: corrupt */
		e->seg = prof_new();
		store_xlat_init(&e->x, e->seg, hd);
	}
	rp->n_dicts++;
	return e->seg ? e->seg : hd;
}

int store_replay_record(struct store_replay *rp, const uint8_t *p, size_t n)
{
	struct store_rec r;
	struct store_drec dr;
	struct prof *prof = NULL;
	int err;

	arena_reset(rp->arena);
	if (store_rec_type(p, n) == 2) {
		err = store_drec_decode(p, n, rp->arena, dict_for, rp, &dr);
		if (!err) {
			struct replay_dict *e = dict_find(rp, dr.tenant);

			store_head_replay(rp->h, &dr, e && e->seg ? &e->x : NULL);
		}
		return err;
	}
	err = store_rec_decode(p, n, rp->arena, &r, &prof);
	if (!err && (!store_tenant_ok(r.tenant) || prof_n_sample_types(prof) == 0))
		err = -EMBER_ECORRUPT;
	if (!err)
		store_head_apply(rp->h, &r);
	prof_free(prof);
	return err;
}
