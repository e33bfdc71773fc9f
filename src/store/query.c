/*
 * query.c — query execution over any number of sources (head tenants and blocks, all in the
 * struct store_sdata shape): matchers resolved on postings, then per source an aggregation
 * into dense per-node arrays (merge), per-step accumulators (select-series, function series) or
 * string sets (label names/values, series). Merged stacks are re-interned into one output
 * profile, symbols copied on first use: a loaded block's sums go first into its tenant's stack
 * space (sspace.c), which its nodes are already mapped into, so each space is copied once per
 * query however many blocks share it; the head's are copied per source. A context (struct
 * store_qctx) accumulates across sources and produces the result in finish. Never logs;
 * never holds a lock (callers do).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "store/store_int.h"

struct group {
	const char *key; /* group key bytes (arena) */
	size_t key_len;
	struct hmap steps; /* step index -> point index */
	int64_t *t;
	double *sum;
	int64_t *cnt, *self, *tot;
	size_t n, cap;
	double total;
};

/* A merge's sums in one stack space's node ids. */
struct space_acc {
	struct store_sspace *sp; /* referenced */
	int64_t *acc;
	size_t cap;
};

struct store_qctx {
	struct store_qargs a;
	struct store_cmatch *cm;
	int64_t start, end;
	struct arena *arena;
	/* MERGE: the output, and per-source scratch reused across sources (no page-fault churn) */
	struct prof *out;
	struct store_xlat x;
	int64_t *acc; /* all zero between sources */
	size_t acc_cap;
	int64_t *out_acc; /* per output node: the value summed over sources */
	size_t out_cap;
	struct space_acc *sacc; /* per stack space met */
	size_t n_sacc, cap_sacc;
	int64_t period;
	uint64_t *spans;  /* sorted */
	uint64_t rollups; /* block series read through their rollup */
	/* NAMES, VALUES, SERIES */
	struct strtab *strs;
	/* SELECT_SERIES, FUNC_SERIES */
	struct strtab *group_keys;
	struct group *groups;
	size_t n_groups, cap_groups;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void store_qctx_free(struct store_qctx *c)
{
	if (!c)
		return;
	store_cmatch_free(c->cm);
	prof_free(c->out);
	store_xlat_fini(&c->x);
	mem_free(c->acc);
	mem_free(c->out_acc);
	for (size_t i = 0; i < c->n_sacc; i++) {
		store_sspace_unref(c->sacc[i].sp);
		mem_free(c->sacc[i].acc);
	}
	mem_free(c->sacc);
	mem_free(c->spans);
	strtab_free(c->strs);
	strtab_free(c->group_keys);
	for (size_t i = 0; i < c->n_groups; i++) {
		struct group *g = &c->groups[i];

		hmap_fini(&g->steps);
		mem_free(g->t);
		mem_free(g->sum);
		mem_free(g->cnt);
		mem_free(g->self);
		mem_free(g->tot);
	}
	mem_free(c->groups);
	if (c->arena)
		arena_free(c->arena);
	mem_free(c);
}

int store_qctx_new(const struct store_qargs *a, struct store_qctx **out, struct ember_diag *d)
{
	struct store_qctx *c = mem_calloc(MEM_STORE, 1, sizeof(*c));
	const struct store_query *q = a->q;
	int rc;

	*out = NULL;
	c->a = *a;
	c->start = q->start_ns;
	c->end = q->end_ns ? q->end_ns : INT64_MAX;
	if (c->end <= c->start) {
		mem_free(c);
		return ember_diag_set(d, -EMBER_EUSAGE, "empty time range");
	}
	if ((a->kind == STORE_Q_MERGE || a->kind == STORE_Q_SELECT_SERIES ||
	     a->kind == STORE_Q_FUNC_SERIES) &&
	    !q->profile_type) {
		mem_free(c);
		return ember_diag_set(d, -EMBER_EUSAGE, "a profile type is required");
	}
	if ((a->kind == STORE_Q_SELECT_SERIES || a->kind == STORE_Q_FUNC_SERIES) &&
	    a->step_ns <= 0) {
		mem_free(c);
		return ember_diag_set(d, -EMBER_EUSAGE, "step must be positive");
	}
	rc = store_cmatch_new(q->matchers, q->n_matchers, q->profile_type, &c->cm, d);
	if (rc) {
		mem_free(c);
		return rc;
	}
	c->arena = arena_new(MEM_STORE, 64 << 10);
	c->strs = strtab_new(MEM_STORE);
	c->group_keys = strtab_new(MEM_STORE);
	if (a->kind == STORE_Q_MERGE) {
		/* name:type:unit:ptype:punit */
		const char *f[5], *s = q->profile_type;
		size_t fl[5], nf = 0;
		struct prof_meta *m;

		while (nf < 5) {
			const char *e = strchr(s, ':');

			f[nf] = s;
			fl[nf++] = e ? (size_t)(e - s) : strlen(s);
			if (!e)
				break;
			s = e + 1;
		}
		if (nf < 5) {
			store_qctx_free(c);
			return ember_diag_set(d, -EMBER_EUSAGE,
					      "profile type \"%.100s\" is not "
					      "name:type:unit:period_type:period_unit",
					      q->profile_type);
		}
		c->out = prof_new();
		prof_add_sample_type(c->out, prof_intern(c->out, f[1], fl[1]),
				     prof_intern(c->out, f[2], fl[2]));
		m = prof_meta(c->out);
		m->period_type.type = prof_intern(c->out, f[3], fl[3]);
		m->period_type.unit = prof_intern(c->out, f[4], fl[4]);
		m->time_ns = c->start;
		m->duration_ns = c->end == INT64_MAX ? 0 : c->end - c->start;
		if (a->n_spans) {
			c->spans = mem_alloc(MEM_STORE, a->n_spans * 8);
			memcpy(c->spans, a->spans, a->n_spans * 8);
			qsort(c->spans, a->n_spans, 8, cmp_u64);
		}
	}
	*out = c;
	return 0;
}

/* Columns of a series: the head's live ones, or a decoded block chunk (then *out == tmp and
 * the caller frees it). samples = false skips the sample columns of a block chunk. */
static int series_cols(const struct store_series_rec *s, struct store_cols *tmp,
		       const struct store_cols **out, bool samples)
{
	int rc;

	if (!s->chunk) {
		if (samples && s->cols.enc) {
			store_cols_expand(&s->cols, tmp);
			*out = tmp;
		} else {
			*out = &s->cols; /* the profile columns, or arrays already */
		}
		return 0;
	}
	rc = store_chunk_decode_cols(s, tmp, samples);
	*out = tmp;
	return rc;
}

static bool span_wanted(const struct store_qctx *c, uint64_t span)
{
	size_t lo = 0, hi = c->a.n_spans;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->spans[mid] == span)
			return true;
		if (c->spans[mid] < span)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Adds the non-zero acc[0..nn) of nodes of src into the output (copying their stacks and
 * symbols) and zeroes them. */
static void out_add(struct store_qctx *c, const struct prof *src, int64_t *acc, size_t nn)
{
	size_t nz = 0;

	for (size_t k = 0; k < nn; k++)
		nz += acc[k] != 0;
	if (!nz)
		return;
	prof_reserve(c->out, 2 * nz, nz); /* stacks share most ancestors */
	store_xlat_init(&c->x, src, c->out);
	for (size_t k = 0; k < nn; k++) {
		uint32_t o;
		int64_t v = acc[k];

		if (!v)
			continue;
		acc[k] = 0;
		o = store_xlat_node(&c->x, (uint32_t)k);
		if (o >= c->out_cap) {
			size_t old = c->out_cap;

			mem_grow(MEM_STORE, (void **)&c->out_acc, &c->out_cap,
				 EMBER_MAX((size_t)o + 1, (size_t)prof_n_nodes(c->out)), 8);
			memset(c->out_acc + old, 0, (c->out_cap - old) * 8);
		}
		c->out_acc[o] += v; /* samples are made once, at the end */
	}
}

/* Adds a block's sums (acc, in its dictionary's nodes) into its stack space's accumulator
 * and zeroes them. */
static void space_add(struct store_qctx *c, const struct store_sdata *sd, int64_t *acc, uint32_t nn)
{
	struct space_acc *sa = NULL;

	for (size_t i = 0; i < c->n_sacc && !sa; i++)
		if (c->sacc[i].sp == sd->space)
			sa = &c->sacc[i];
	if (!sa) {
		mem_grow(MEM_STORE, (void **)&c->sacc, &c->cap_sacc, c->n_sacc + 1,
			 sizeof(*c->sacc));
		sa = &c->sacc[c->n_sacc++];
		memset(sa, 0, sizeof(*sa));
		sa->sp = store_sspace_ref(sd->space);
	}
	if (sd->space_n > sa->cap) {
		size_t old = sa->cap;

		mem_grow(MEM_STORE, (void **)&sa->acc, &sa->cap, sd->space_n, 8);
		memset(sa->acc + old, 0, (sa->cap - old) * 8);
	}
	for (uint32_t k = 0; k < nn; k++) {
		if (!acc[k])
			continue;
		sa->acc[sd->space_node[k]] += acc[k];
		acc[k] = 0;
	}
}

static int feed_merge(struct store_qctx *c, const struct store_sdata *sd, const uint32_t *ids,
		      uint32_t n)
{
	uint32_t nn = prof_n_nodes(sd->dict);
	int64_t *acc;
	int rc = 0;

	if (nn > c->acc_cap) {
		mem_free(c->acc);
		c->acc = mem_calloc(MEM_STORE, nn, 8);
		c->acc_cap = nn;
	}
	acc = c->acc;
	for (uint32_t i = 0; i < n && !rc; i++) {
		const struct store_series_rec *s = &sd->series[ids[i]];
		struct store_cols tmp;
		const struct store_cols *cl;
		uint64_t off = 0;

		if (s->rollup && !c->spans && s->min_t >= c->start && s->max_t < c->end) {
			/* every profile is selected: their sum, precomputed at write time */
			c->period = EMBER_MAX(c->period, s->rollup_period);
			rc = store_rollup_add(s, acc, nn);
			c->rollups++;
			continue;
		}
		rc = series_cols(s, &tmp, &cl, true);
		if (rc)
			break;
		for (size_t p = 0; p < cl->n_prof; p++) {
			uint64_t end = off + cl->n_smp[p];

			if (cl->ts[p] >= c->start && cl->ts[p] < c->end) {
				c->period = EMBER_MAX(c->period, cl->period[p]);
				for (uint64_t j = off; j < end; j++) {
					if (cl->nodes[j] >= nn) {
						rc = -EMBER_ECORRUPT;
						break;
					}
					if (c->spans &&
					    (!cl->spans || !span_wanted(c, cl->spans[j])))
						continue;
					acc[cl->nodes[j]] += cl->values[j];
				}
			}
			off = end;
		}
		if (cl == &tmp)
			store_cols_fini(&tmp);
	}
	if (rc) {
		if (nn)
			memset(acc, 0, (size_t)nn * 8);
	} else if (sd->space) {
		space_add(c, sd, acc, nn);
	} else {
		out_add(c, sd->dict, acc, nn);
	}
	return rc;
}

static const char *label_of(const struct store_sdata *sd, const struct store_series_rec *s,
			    const char *name, size_t *len)
{
	uint32_t id;

	*len = 0;
	if (!prof_find_string(sd->dict, name, &id))
		return "";
	for (uint32_t i = 0; i < s->n_labels; i++)
		if (s->labels[2 * i] == id) {
			*len = prof_string_len(sd->dict, s->labels[2 * i + 1]);
			return prof_string(sd->dict, s->labels[2 * i + 1]);
		}
	return "";
}

static struct group *group_get(struct store_qctx *c, const struct store_sdata *sd,
			       const struct store_series_rec *s)
{
	struct buf key;
	uint32_t id;
	struct group *g;

	buf_init(&key, MEM_STORE, SIZE_MAX);
	if (c->a.kind == STORE_Q_SELECT_SERIES) {
		for (size_t i = 0; i < c->a.so->n_group_by; i++) {
			size_t len;
			const char *v = label_of(sd, s, c->a.so->group_by[i], &len);

			(void)buf_append(&key, v, len);
			(void)buf_putc(&key, 0);
		}
	}
	id = strtab_intern(c->group_keys, key.data ? key.data : (const uint8_t *)"", key.len);
	buf_fini(&key);
	/* id 0 is the empty key: used when there is no group-by */
	if (id < c->n_groups)
		return &c->groups[id];
	mem_grow(MEM_STORE, (void **)&c->groups, &c->cap_groups, (size_t)id + 1, sizeof(*g));
	while (c->n_groups <= id) {
		g = &c->groups[c->n_groups];
		memset(g, 0, sizeof(*g));
		hmap_init(&g->steps, MEM_STORE);
		g->key = strtab_get(c->group_keys, (uint32_t)c->n_groups, &g->key_len);
		c->n_groups++;
	}
	return &c->groups[id];
}

static void group_add(struct group *g, int64_t t, double v, int64_t self, int64_t tot)
{
	bool found;
	uint64_t *slot = hmap_upsert(&g->steps, (uint64_t)t, g->n, &found);
	size_t i = (size_t)*slot;

	if (!found) {
		if (g->n == g->cap) {
			size_t cap = g->cap;

			mem_grow(MEM_STORE, (void **)&g->t, &cap, g->n + 1, 8);
			cap = g->cap;
			mem_grow(MEM_STORE, (void **)&g->sum, &cap, g->n + 1, 8);
			cap = g->cap;
			mem_grow(MEM_STORE, (void **)&g->cnt, &cap, g->n + 1, 8);
			cap = g->cap;
			mem_grow(MEM_STORE, (void **)&g->self, &cap, g->n + 1, 8);
			cap = g->cap;
			mem_grow(MEM_STORE, (void **)&g->tot, &cap, g->n + 1, 8);
			g->cap = cap;
		}
		g->t[i] = t;
		g->sum[i] = 0;
		g->cnt[i] = g->self[i] = g->tot[i] = 0;
		g->n++;
	}
	g->sum[i] += v;
	g->cnt[i]++;
	g->self[i] += self;
	g->tot[i] += tot;
	g->total += v;
}

static int64_t step_time(const struct store_qctx *c, int64_t ts)
{
	int64_t k = (ts - c->start + c->a.step_ns - 1) / c->a.step_ns;

	return c->start + k * c->a.step_ns;
}

/* Per-node flags for a function name: bit 0 = leaf frame is it (self), bit 1 = in the stack. */
static uint8_t *func_flags(const struct prof *dict, const char *fname)
{
	uint32_t nn = prof_n_nodes(dict), nl = prof_n_locations(dict), sid;
	uint8_t *fl = mem_calloc(MEM_STORE, nn ? nn : 1, 1), *lf;

	if (!prof_find_string(dict, fname, &sid))
		return fl;
	lf = mem_calloc(MEM_STORE, (size_t)nl + 1, 1);
	for (uint32_t l = 1; l <= nl; l++) {
		struct prof_location loc;

		prof_location_get(dict, l, &loc);
		for (uint32_t k = 0; k < loc.n_lines; k++) {
			const struct prof_function *f =
				prof_function_get(dict, loc.lines[k].function);
			bool hit = f && (f->name == sid || (!f->name && f->system_name == sid));

			if (hit)
				lf[l] |= k == 0 ? 3 : 2;
		}
	}
	for (uint32_t i = 1; i < nn; i++)
		fl[i] = (uint8_t)(lf[prof_node_location(dict, i)] |
				  (fl[prof_node_parent(dict, i)] & 2));
	mem_free(lf);
	return fl;
}

static int feed_steps(struct store_qctx *c, const struct store_sdata *sd, const uint32_t *ids,
		      uint32_t n)
{
	uint8_t *fl = NULL;
	uint32_t nn = prof_n_nodes(sd->dict);
	int rc = 0;

	if (c->a.kind == STORE_Q_FUNC_SERIES)
		fl = func_flags(sd->dict, c->a.function);
	for (uint32_t i = 0; i < n && !rc; i++) {
		const struct store_series_rec *s = &sd->series[ids[i]];
		struct group *g = group_get(c, sd, s);
		struct store_cols tmp;
		const struct store_cols *cl;
		uint64_t off = 0;

		rc = series_cols(s, &tmp, &cl, fl != NULL);
		if (rc)
			break;
		for (size_t p = 0; p < cl->n_prof; p++) {
			uint64_t end = off + cl->n_smp[p];
			int64_t self = 0, tot = 0;

			if (cl->ts[p] >= c->start && cl->ts[p] < c->end) {
				if (fl) {
					for (uint64_t j = off; j < end; j++) {
						if (cl->nodes[j] >= nn) {
							rc = -EMBER_ECORRUPT;
							break;
						}
						if (fl[cl->nodes[j]] & 1)
							self += cl->values[j];
						if (fl[cl->nodes[j]] & 2)
							tot += cl->values[j];
					}
				}
				group_add(g, step_time(c, cl->ts[p]), (double)cl->total[p], self,
					  tot);
			}
			off = end;
		}
		if (cl == &tmp)
			store_cols_fini(&tmp);
	}
	mem_free(fl);
	return rc;
}

/* Series matching with a profile in range (blocks and head series are pre-filtered by their
 * min/max time only). */
static bool series_in_range(const struct store_qctx *c, const struct store_series_rec *s)
{
	struct store_cols tmp;
	const struct store_cols *cl;
	bool in = false;

	if (s->min_t >= c->start && s->max_t < c->end)
		return true;
	if (series_cols(s, &tmp, &cl, false))
		return false;
	for (size_t p = 0; p < cl->n_prof && !in; p++)
		in = cl->ts[p] >= c->start && cl->ts[p] < c->end;
	if (cl == &tmp)
		store_cols_fini(&tmp);
	return in;
}

static void feed_strings(struct store_qctx *c, const struct store_sdata *sd, const uint32_t *ids,
			 uint32_t n)
{
	uint32_t want = UINT32_MAX;
	struct buf key;

	if (c->a.kind == STORE_Q_VALUES && !prof_find_string(sd->dict, c->a.name, &want))
		return;
	buf_init(&key, MEM_STORE, SIZE_MAX);
	for (uint32_t i = 0; i < n; i++) {
		const struct store_series_rec *s = &sd->series[ids[i]];

		if (!series_in_range(c, s))
			continue;
		buf_reset(&key);
		for (uint32_t k = 0; k < s->n_labels; k++) {
			uint32_t nm = s->labels[2 * k], v = s->labels[2 * k + 1];
			const char *ns = prof_string(sd->dict, nm), *vs = prof_string(sd->dict, v);

			if (c->a.kind == STORE_Q_NAMES)
				strtab_intern(c->strs, ns, strlen(ns));
			else if (c->a.kind == STORE_Q_VALUES && nm == want)
				strtab_intern(c->strs, vs, strlen(vs));
			else if (c->a.kind == STORE_Q_SERIES) {
				(void)buf_append(&key, ns, strlen(ns) + 1);
				(void)buf_append(&key, vs, strlen(vs) + 1);
			}
		}
		if (c->a.kind == STORE_Q_SERIES)
			strtab_intern(c->strs, key.data, key.len);
	}
	buf_fini(&key);
}

int store_qctx_feed(struct store_qctx *c, const struct store_sdata *sd, struct ember_diag *d)
{
	uint32_t *ids, n;
	int rc;

	if (!sd || sd->n_series == 0 || sd->max_t < c->start || sd->min_t >= c->end)
		return 0;
	rc = store_cmatch_select(c->cm, sd, c->start, c->end, &ids, &n, d);
	if (rc)
		return rc;
	switch (c->a.kind) {
	case STORE_Q_MERGE:
		rc = feed_merge(c, sd, ids, n);
		break;
	case STORE_Q_SELECT_SERIES:
	case STORE_Q_FUNC_SERIES:
		rc = feed_steps(c, sd, ids, n);
		break;
	default:
		feed_strings(c, sd, ids, n);
	}
	mem_free(ids);
	if (rc == -EMBER_ECORRUPT)
		ember_diag_set(d, rc, "corrupt sample chunk in tenant %s data", sd->tenant);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct keyref {
	const char *k;
	size_t len;
};

static int cmp_keyref(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int r = memcmp(x->k, y->k, EMBER_MIN(x->len, y->len));

	return r ? r : (x->len > y->len) - (x->len < y->len);
}

static int cmp_group_total(const void *a, const void *b)
{
	const struct group *x = *(struct group *const *)a, *y = *(struct group *const *)b;

	return (x->total < y->total) - (x->total > y->total);
}

static int cmp_point(const void *a, const void *b)
{
	const struct store_point *x = a, *y = b;

	return (x->time_ns > y->time_ns) - (x->time_ns < y->time_ns);
}

/* "n\0v\0n\0v\0" -> labels in arena. */
static struct store_labelset split_key(struct arena *ar, const char *k, size_t len,
				       const char *const *names, size_t n_names)
{
	struct store_labelset ls = {0};
	struct store_label *l;
	size_t n = 0, cap = 0;
	const char *p = k, *end = k + len;

	for (const char *q = k; q < end; q++)
		cap += *q == 0;
	l = arena_calloc(ar, cap ? cap : 1, sizeof(*l));
	if (names) {
		for (size_t i = 0; i < n_names && p < end; i++) {
			l[n].name = arena_strndup(ar, names[i], strlen(names[i]));
			l[n++].value = arena_strndup(ar, p, strlen(p));
			p += strlen(p) + 1;
		}
	} else {
		while (p < end) {
			l[n].name = arena_strndup(ar, p, strlen(p));
			p += strlen(p) + 1;
			l[n].value = arena_strndup(ar, p, strlen(p));
			p += strlen(p) + 1;
			n++;
		}
	}
	ls.n = n;
	ls.labels = l;
	return ls;
}

uint64_t store_qctx_rollups(const struct store_qctx *c)
{
	return c->rollups;
}

int store_qctx_finish(struct store_qctx *c, struct prof **prof, struct store_result **res)
{
	struct store_result *r;

	if (c->a.kind == STORE_Q_MERGE) {
		for (size_t i = 0; i < c->n_sacc; i++) {
			struct space_acc *sa = &c->sacc[i];

			out_add(c, store_sspace_read(sa->sp), sa->acc, sa->cap);
			store_sspace_read_done(sa->sp);
		}
		for (size_t k = 0; k < c->out_cap; k++)
			if (c->out_acc[k])
				prof_add_sample(c->out, (uint32_t)k, 0, &c->out_acc[k]);
		prof_meta(c->out)->period = c->period;
		*prof = c->out;
		c->out = NULL;
		store_qctx_free(c);
		return 0;
	}
	r = mem_calloc(MEM_STORE, 1, sizeof(*r));
	r->arena = c->arena;
	c->arena = NULL;
	if (c->a.kind == STORE_Q_NAMES || c->a.kind == STORE_Q_VALUES) {
		uint32_t n = strtab_count(c->strs);
		const char **v = arena_calloc(r->arena, n ? n : 1, sizeof(*v));

		for (uint32_t i = 1; i < n; i++)
			v[i - 1] = arena_strndup(r->arena, strtab_get(c->strs, i, NULL),
						 strlen(strtab_get(c->strs, i, NULL)));
		/* the empty string (id 0) is a value only if a series has it: values are never
		 * empty in the head (an empty label is no label) */
		qsort(v, n ? n - 1 : 0, sizeof(*v), cmp_str);
		r->strings = v;
		r->n_strings = n ? n - 1 : 0;
	} else if (c->a.kind == STORE_Q_SERIES) {
		uint32_t n = strtab_count(c->strs);
		struct keyref *k = mem_alloc(MEM_STORE, (n ? n : 1) * sizeof(*k));
		struct store_labelset *sets = arena_calloc(r->arena, n ? n : 1, sizeof(*sets));

		for (uint32_t i = 1; i < n; i++)
			k[i - 1].k = strtab_get(c->strs, i, &k[i - 1].len);
		qsort(k, n ? n - 1 : 0, sizeof(*k), cmp_keyref);
		for (uint32_t i = 0; i + 1 < n; i++)
			sets[i] = split_key(r->arena, k[i].k, k[i].len, NULL, 0);
		mem_free(k);
		r->sets = sets;
		r->n_sets = n ? n - 1 : 0;
	} else {
		struct group **gs = mem_alloc(MEM_STORE, (c->n_groups + 1) * sizeof(*gs));
		struct store_series *ser = arena_calloc(r->arena, c->n_groups + 1, sizeof(*ser));
		size_t ng = 0, keep;

		for (size_t i = 0; i < c->n_groups; i++)
			if (c->groups[i].n)
				gs[ng++] = &c->groups[i];
		qsort(gs, ng, sizeof(*gs), cmp_group_total);
		keep = c->a.kind == STORE_Q_SELECT_SERIES && c->a.so->limit && c->a.so->limit < ng
			       ? c->a.so->limit
			       : ng;
		for (size_t i = 0; i < keep; i++) {
			struct group *g = gs[i];
			struct store_point *pt = arena_calloc(r->arena, g->n, sizeof(*pt));

			for (size_t k = 0; k < g->n; k++) {
				pt[k].time_ns = g->t[k];
				pt[k].value = g->sum[k];
				if (c->a.kind == STORE_Q_SELECT_SERIES &&
				    c->a.so->agg == STORE_AGG_AVG && g->cnt[k])
					pt[k].value = g->sum[k] / (double)g->cnt[k];
				pt[k].self = g->self[k];
				pt[k].total = g->tot[k];
				if (c->a.kind == STORE_Q_FUNC_SERIES)
					pt[k].value = (double)g->tot[k];
			}
			qsort(pt, g->n, sizeof(*pt), cmp_point);
			if (c->a.kind == STORE_Q_SELECT_SERIES)
				ser[i].labels = split_key(r->arena, g->key, g->key_len,
							  c->a.so->group_by, c->a.so->n_group_by);
			ser[i].points = pt;
			ser[i].n_points = g->n;
		}
		mem_free(gs);
		r->series = ser;
		r->n_series = keep;
	}
	*res = r;
	store_qctx_free(c);
	return 0;
}

static int cmp_top(const void *a, const void *b)
{
	const struct store_top_row *x = a, *y = b;

	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Top functions: self = leaf frame, total = anywhere in the stack (once per sample). */
int store_top_from_prof(const struct prof *p, size_t limit, struct store_result **out)
{
	struct store_result *r = mem_calloc(MEM_STORE, 1, sizeof(*r));
	struct strtab *names = strtab_new(MEM_STORE);
	int64_t *self = NULL, *tot = NULL;
	size_t *stamp = NULL, cap = 0, n;
	struct store_top_row *rows;
	char tmp[80];

	r->arena = arena_new(MEM_STORE, 16 << 10);
	for (size_t i = 0; i < prof_n_samples(p); i++) {
		struct prof_sample s;
		bool leaf = true;

		prof_sample_get(p, i, &s);
		r->total += s.values[0];
		for (uint32_t nd = s.node; nd; nd = prof_node_parent(p, nd)) {
			uint32_t loc = prof_node_location(p, nd);
			uint32_t nf = prof_location_n_frames(p, loc);

			for (uint32_t f = 0; f < nf; f++) {
				const char *nm = prof_frame_name(p, loc, f, tmp);
				uint32_t id = strtab_intern(names, nm, strlen(nm));

				if (id >= cap) {
					size_t c0 = cap, c1 = cap, c2 = cap;

					mem_grow(MEM_STORE, (void **)&self, &c0, (size_t)id + 1, 8);
					mem_grow(MEM_STORE, (void **)&tot, &c1, (size_t)id + 1, 8);
					mem_grow(MEM_STORE, (void **)&stamp, &c2, (size_t)id + 1,
						 sizeof(size_t));
					memset(self + cap, 0, (c0 - cap) * 8);
					memset(tot + cap, 0, (c0 - cap) * 8);
					memset(stamp + cap, 0, (c0 - cap) * sizeof(size_t));
					cap = c0;
				}
				if (leaf && f == 0)
					self[id] += s.values[0];
				if (stamp[id] != i + 1) {
					stamp[id] = i + 1;
					tot[id] += s.values[0];
				}
			}
			leaf = false;
		}
	}
	n = strtab_count(names);
	rows = arena_calloc(r->arena, n ? n : 1, sizeof(*rows));
	for (uint32_t i = 1; i < n && i < cap; i++) {
		rows[r->n_top].name = arena_strndup(r->arena, strtab_get(names, i, NULL),
						    strlen(strtab_get(names, i, NULL)));
		rows[r->n_top].self = self[i];
		rows[r->n_top].total = tot[i];
		r->n_top++;
	}
	qsort(rows, r->n_top, sizeof(*rows), cmp_top);
	if (limit && r->n_top > limit)
		r->n_top = limit;
	r->top = rows;
	mem_free(self);
	mem_free(tot);
	mem_free(stamp);
	strtab_free(names);
	*out = r;
	return 0;
}
