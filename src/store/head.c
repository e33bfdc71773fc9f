/*
 * head.c — the in-memory head: per tenant a symbol dictionary (a struct prof) into which every
 * appended profile is re-interned, so strings, mappings, functions, locations and stacks are
 * stored once per tenant, and per series the columnar samples of its profiles. Validation
 * against the limits (store_head_check) is separate from insertion (store_head_apply), which
 * cannot fail: a record that reached the WAL must always be appliable on replay.
 * Owns the tenants' sdata. Locking is the caller's (the head rwlock in local.c). Never logs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/mem.h"
#include "store/store_int.h"

struct store_head *store_head_new(void)
{
	struct store_head *h = mem_calloc(MEM_STORE, 1, sizeof(*h));

	h->tenant_keys = strtab_new(MEM_STORE);
	h->min_t = INT64_MAX;
	h->max_t = INT64_MIN;
	return h;
}

void store_head_free(struct store_head *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_tenants; i++) {
		store_sdata_fini(h->tenants[i]);
		mem_free(h->tenants[i]);
	}
	mem_free(h->tenants);
	strtab_free(h->tenant_keys);
	mem_free(h);
}

struct store_sdata *store_head_tenant(const struct store_head *h, const char *tenant)
{
	uint32_t id;

	if (!strtab_find(h->tenant_keys, tenant, strlen(tenant), &id) || id == 0)
		return NULL;
	return h->tenants[id - 1];
}

static struct store_sdata *tenant_get(struct store_head *h, const char *tenant)
{
	uint32_t id = strtab_intern(h->tenant_keys, tenant, strlen(tenant));

	if (id - 1 < h->n_tenants)
		return h->tenants[id - 1];
	mem_grow(MEM_STORE, (void **)&h->tenants, &h->cap_tenants, h->n_tenants + 1,
		 sizeof(*h->tenants));
	h->tenants[h->n_tenants] = mem_alloc(MEM_STORE, sizeof(struct store_sdata));
	store_sdata_init(h->tenants[h->n_tenants], tenant);
	return h->tenants[h->n_tenants++];
}

/* The profile type id of sample type vi. */
static void profile_type(const struct store_rec *r, size_t vi, char *out, size_t cap)
{
	const struct prof *p = r->prof;
	const struct prof_value_type *t = &prof_sample_types(p)[vi];
	const struct prof_meta *m = prof_meta_get(p);

	snprintf(out, cap, "%s:%s:%s:%s:%s", r->name, prof_string(p, t->type),
		 prof_string(p, t->unit), prof_string(p, m->period_type.type),
		 prof_string(p, m->period_type.unit));
}

bool store_tenant_ok(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > STORE_TENANT_MAX || t[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
		      (t[i] >= '0' && t[i] <= '9') || t[i] == '_' || t[i] == '-' || t[i] == '.'))
			return false;
	return true;
}

bool store_label_name_ok(const char *s, size_t n)
{
	if (n == 0 ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '_' ||
		      s[i] == '.' || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

/* A series' labels as ps[0..n), sorted by name: the group's own, then __name__ and the profile
 * type id pt (profile_type) of its sample type. Returns n. */
static size_t pair_sources(const struct store_rec *r, const struct store_labelset *ls,
			   const char *pt, struct store_label *ps)
{
	size_t n = 0;

	for (size_t i = 0; i < ls->n; i++) {
		if (!strcmp(ls->labels[i].name, STORE_LABEL_PROFILE_TYPE) ||
		    !strcmp(ls->labels[i].name, STORE_LABEL_NAME) || !ls->labels[i].value[0])
			continue; /* computed here; an empty value is no label */
		ps[n].name = ls->labels[i].name;
		ps[n++].value = ls->labels[i].value;
	}
	ps[n].name = STORE_LABEL_NAME;
	ps[n++].value = r->name;
	ps[n].name = STORE_LABEL_PROFILE_TYPE;
	ps[n++].value = pt;
	store_labels_sort(ps, n);
	return n;
}

int store_head_check(const struct store_head *h, const struct store_rec *r,
		     const struct store_limits *lim, struct ember_diag *d)
{
	const struct prof *p = r->prof;
	const struct store_sdata *sd = store_head_tenant(h, r->tenant);
	size_t nt = prof_n_sample_types(p), new_series = 0;
	uint32_t nn = prof_n_nodes(p), *depth, *pairs;
	const struct prof_node *pn = prof_nodes(p);
	struct store_label *ps;
	const struct store_split *sp = r->split;
	size_t max_n;
	char pt[4 * 2048 + 256];

	if (!sd && h->n_tenants >= lim->max_tenants)
		return ember_diag_set(d, -EMBER_ELIMIT, "too many tenants (limit %u)",
				      lim->max_tenants);
	if (nt == 0)
		return ember_diag_set(d, -EMBER_EUSAGE, "profile has no sample types");
	if (nt > lim->max_sample_types)
		return ember_diag_set(d, -EMBER_ELIMIT, "profile has %zu sample types (limit %u)",
				      nt, lim->max_sample_types);
	if (strlen(r->name) > lim->max_label_value_len || !r->name[0])
		return ember_diag_set(d, -EMBER_EUSAGE, "bad profile name");
	for (size_t vi = 0; vi < nt; vi++) {
		const struct prof_value_type *t = &prof_sample_types(p)[vi];
		const struct prof_meta *m = prof_meta_get(p);

		if (prof_string_len(p, t->type) + prof_string_len(p, t->unit) +
			    prof_string_len(p, m->period_type.type) +
			    prof_string_len(p, m->period_type.unit) + strlen(r->name) + 4 >
		    lim->max_label_value_len)
			return ember_diag_set(d, -EMBER_ELIMIT, "profile type id too long");
	}
	if (r->stacks && r->stacks->max_depth > lim->max_stack_depth)
		return ember_diag_set(d, -EMBER_ELIMIT, "stack deeper than %u frames",
				      lim->max_stack_depth);
	/* stack depth: parents come before children */
	depth = mem_alloc(MEM_STORE, (size_t)nn * sizeof(*depth));
	depth[0] = 0;
	for (uint32_t i = 1; i < nn; i++) {
		depth[i] = depth[pn[i].parent] + 1;
		if (depth[i] > lim->max_stack_depth) {
			mem_free(depth);
			return ember_diag_set(d, -EMBER_ELIMIT, "stack deeper than %u frames",
					      lim->max_stack_depth);
		}
	}
	mem_free(depth);
	/* series per tenant: one per split group and sample type; counted only when so many new
	 * ones could pass the limit */
	if ((sd ? sd->n_series : 0) + (size_t)sp->n_groups * nt <= lim->max_series_per_tenant)
		return 0;
	max_n = 0;
	for (uint32_t g = 0; g < sp->n_groups; g++)
		max_n = EMBER_MAX(max_n, sp->sets[g].n);
	ps = mem_alloc(MEM_STORE, (max_n + 2) * sizeof(*ps));
	pairs = mem_alloc(MEM_STORE, (max_n + 2) * 2 * sizeof(*pairs));
	for (size_t vi = 0; vi < nt; vi++) {
		profile_type(r, vi, pt, sizeof(pt));
		for (uint32_t g = 0; g < sp->n_groups; g++) {
			uint32_t sid;
			size_t n = pair_sources(r, &sp->sets[g], pt, ps);
			bool known = sd != NULL;

			for (size_t i = 0; i < n && known; i++)
				known = prof_find_string(sd->dict, ps[i].name, &pairs[2 * i]) &&
					prof_find_string(sd->dict, ps[i].value, &pairs[2 * i + 1]);
			if (!known || !store_sdata_find_series(sd, pairs, (uint32_t)n, &sid))
				new_series++;
		}
	}
	mem_free(ps);
	mem_free(pairs);
	if (new_series && (sd ? sd->n_series : 0) + new_series > lim->max_series_per_tenant)
		return ember_diag_set(d, -EMBER_ELIMIT,
				      "tenant %s: too many series (limit %u per tenant)", r->tenant,
				      lim->max_series_per_tenant);
	return 0;
}

/* Remapping of the incoming profile's ids into the tenant dictionary. */
struct remap {
	uint32_t *str, *map, *fn, *loc, *node;
	uint32_t *snode;   /* store_stacks: each sample's node in the dictionary */
	uint64_t *ls_span; /* span id per label set */
};

/* Sample i of r: its dictionary node, label set and values. */
static inline void rec_sample(const struct store_rec *r, const struct remap *m, size_t i,
			      uint32_t *node, uint32_t *labelset, const int64_t **values)
{
	const struct store_stacks *st = r->stacks;
	struct prof_sample x;

	if (st) {
		*node = m->snode[i];
		*labelset = st->labelsets ? st->labelsets[i] : 0;
		*values = st->values + i * prof_n_sample_types(r->prof);
		return;
	}
	prof_sample_get(r->prof, i, &x);
	*node = m->node[x.node];
	*labelset = x.labelset;
	*values = x.values;
}

static size_t rec_n_samples(const struct store_rec *r)
{
	return r->stacks ? r->stacks->n : prof_n_samples(r->prof);
}

/* The incoming profile's sampled stacks in the dictionary. A stack is found by its path hash
 * (a seeded 64-bit hash of its dictionary location ids, root first: one lookup per sampled
 * stack in the tenant's stack index, sd->stacks, instead of one per node of the incoming
 * tree, about 5x fewer cache misses for an agent's host profile), checked against the leaf's
 * location. A stack not yet indexed is walked node by node (prof_node_child, which adds the
 * nodes the dictionary lacks, a stack's new nodes together) and indexed. Nodes no sample uses
 * are not added. Two different stacks share a path hash with probability about n^2 / 2^65 for
 * n indexed stacks (1e-9 for an hour's 200k); the leaf check catches most of those too. */
static void remap_nodes(struct store_sdata *sd, const struct prof *p, struct remap *m)
{
	const struct prof_node *pn = prof_nodes(p);
	struct prof *dict = sd->dict;
	uint32_t nn = prof_n_nodes(p), *up = NULL;
	uint64_t *ph = mem_alloc(MEM_STORE, (size_t)nn * 8);
	size_t cap_up = 0, ns = prof_n_samples(p);

	m->node = mem_alloc(MEM_STORE, (size_t)nn * 4);
	memset(m->node, 0xff, (size_t)nn * 4);
	m->node[0] = 0;
	ph[0] = sd->stack_seed;
	for (uint32_t i = 1; i < nn; i++) /* parents come before children */
		ph[i] = hash_mix(ph[pn[i].parent], m->loc[pn[i].location]);
	for (size_t k = 0; k < ns; k++) {
		struct prof_sample x;
		uint32_t i, n_up = 0;
		uint64_t key, v;

		prof_sample_get(p, k, &x);
		i = x.node;
		if (m->node[i] != UINT32_MAX)
			continue;
		key = ph[i] == HMAP_EMPTY ? 0 : ph[i];
		if (hmap_get(&sd->stacks, key, &v) &&
		    prof_nodes(dict)[v].location == m->loc[pn[i].location]) {
			m->node[i] = (uint32_t)v;
			continue;
		}
		for (uint32_t a = i; m->node[a] == UINT32_MAX; a = pn[a].parent) {
			mem_grow(MEM_STORE, (void **)&up, &cap_up, n_up + 1, sizeof(*up));
			up[n_up++] = a;
		}
		while (n_up--) { /* root side first */
			uint32_t a = up[n_up];

			m->node[a] = prof_node_child(dict, m->node[pn[a].parent],
						     m->loc[pn[a].location]);
		}
		hmap_put(&sd->stacks, key, m->node[i]);
	}
	mem_free(up);
	mem_free(ph);
}

static void remap_symbols(struct store_sdata *sd, const struct prof *p, struct remap *m)
{
	uint32_t ns = prof_n_strings(p);
	struct prof *dict = sd->dict;

	m->str = mem_alloc(MEM_STORE, (size_t)ns * 4);
	for (uint32_t i = 0; i < ns; i++)
		m->str[i] = prof_intern_from(dict, p, i);
	m->map = mem_alloc(MEM_STORE, ((size_t)prof_n_mappings(p) + 1) * 4);
	m->map[0] = 0;
	for (uint32_t i = 1; i <= prof_n_mappings(p); i++) {
		struct prof_mapping x = *prof_mapping_get(p, i);

		x.filename = m->str[x.filename];
		x.build_id = m->str[x.build_id];
		m->map[i] = prof_add_mapping(dict, &x);
	}
	m->fn = mem_alloc(MEM_STORE, ((size_t)prof_n_functions(p) + 1) * 4);
	m->fn[0] = 0;
	for (uint32_t i = 1; i <= prof_n_functions(p); i++) {
		struct prof_function x = *prof_function_get(p, i);

		x.name = m->str[x.name];
		x.system_name = m->str[x.system_name];
		x.filename = m->str[x.filename];
		m->fn[i] = prof_add_function(dict, &x);
	}
	m->loc = mem_alloc(MEM_STORE, ((size_t)prof_n_locations(p) + 1) * 4);
	m->loc[0] = 0;
	for (uint32_t i = 1; i <= prof_n_locations(p); i++) {
		struct prof_location l;
		struct prof_line small[16], *lines = small;

		prof_location_get(p, i, &l);
		if (l.n_lines > 16)
			lines = mem_alloc(MEM_STORE, l.n_lines * sizeof(*lines));
		for (uint32_t k = 0; k < l.n_lines; k++) {
			lines[k] = l.lines[k];
			lines[k].function = m->fn[lines[k].function];
		}
		m->loc[i] = prof_add_location(dict, m->map[l.mapping], l.address, lines, l.n_lines,
					      l.is_folded);
		if (lines != small)
			mem_free(lines);
	}
}

/* The stacks of store_stacks samples, added by their decoder (its state for this dictionary
 * kept in sd->xcache; one from another decoder is dropped), or only found (ro): false when
 * the dictionary lacks some. */
static bool remap_stacks(struct store_sdata *sd, const struct store_stacks *st, struct remap *m,
			 bool ro)
{
	m->snode = mem_alloc(MEM_STORE, (st->n ? st->n : 1) * sizeof(*m->snode));
	if (ro)
		return sd->xcache && sd->xcache_free == st->cache_free && st->find &&
		       st->find(st->ctx, sd->dict, sd->xcache, m->snode);
	if (sd->xcache && sd->xcache_free != st->cache_free) {
		sd->xcache_free(sd->xcache);
		sd->xcache = NULL;
	}
	sd->xcache_free = st->cache_free;
	st->translate(st->ctx, sd->dict, &sd->xcache, m->snode);
	sd->xcache_bytes = sd->xcache && st->cache_bytes ? st->cache_bytes(sd->xcache) : 0;
	return true;
}

/* The head memory of a tenant's dictionary and its indexes. */
static size_t dict_bytes(const struct store_sdata *sd)
{
	return prof_bytes(sd->dict) + sd->stacks.cap * sizeof(struct hmap_slot) + sd->xcache_bytes;
}

/* false: ro and the dictionary lacks a stack (m is then to be freed by remap_fini). */
static bool remap_build(struct store_sdata *sd, const struct store_rec *r, struct remap *m, bool ro)
{
	const struct prof *p = r->prof;

	memset(m, 0, sizeof(*m));
	if (r->stacks) {
		if (!remap_stacks(sd, r->stacks, m, ro))
			return false;
	} else {
		remap_symbols(sd, p, m);
		remap_nodes(sd, p, m);
	}
	m->ls_span = mem_calloc(MEM_STORE, prof_n_labelsets(p), 8);
	for (uint32_t i = 1; i < prof_n_labelsets(p); i++) {
		size_t n;
		const struct prof_label *l = prof_labelset_get(p, i, &n);

		for (size_t k = 0; k < n && !m->ls_span[i]; k++)
			if (l[k].str && store_split_key_is_span(prof_string(p, l[k].key)))
				m->ls_span[i] = store_span_id_parse(prof_string(p, l[k].str),
								    prof_string_len(p, l[k].str));
	}
	return true;
}

static void remap_fini(struct remap *m)
{
	mem_free(m->str);
	mem_free(m->map);
	mem_free(m->fn);
	mem_free(m->loc);
	mem_free(m->node);
	mem_free(m->snode);
	mem_free(m->ls_span);
}

/* The dictionary as an append sees it: strings interned, or only found (ro; a missing one is
 * noted in missing). */
struct dict_use {
	struct prof *dict;
	bool ro, missing;
};

static uint32_t dict_str(struct dict_use *du, const char *s)
{
	uint32_t id = 0;

	if (!du->ro)
		return prof_intern_cstr(du->dict, s);
	du->missing |= !prof_find_string(du->dict, s, &id);
	return id;
}

/* A label string's dictionary id, interned once per distinct pointer (the groups' label
 * names, and many values, are the same few strings). */
static uint32_t intern_ptr(struct hmap *seen, struct dict_use *du, const char *s)
{
	bool found;
	uint64_t *v = hmap_upsert(seen, (uint64_t)(uintptr_t)s, 0, &found);

	if (!found)
		*v = dict_str(du, s);
	return (uint32_t)*v;
}

bool store_head_prepare(struct store_head *h, const struct store_rec *r, struct store_wr *w,
			struct store_pending *pd, bool ro)
{
	const struct prof *p = r->prof;
	struct store_sdata *sd = ro ? store_head_tenant(h, r->tenant) : tenant_get(h, r->tenant);
	size_t nt = prof_n_sample_types(p), ns = rec_n_samples(r), max_n = 0, *start;
	size_t before;
	size_t n_smp = 0, n_pairs = 0, n_enc = 0;
	struct remap m;
	struct store_split own;
	struct store_dict_mark mark;
	const struct store_split *sp = r->split;
	struct store_smp *order;
	struct store_label *ps;
	uint32_t *gpairs, *gn, *gpt;
	struct hmap seen;
	struct dict_use du;
	char pt[4 * 2048 + 256];

	if (!sd || (ro && !r->stacks))
		return false; /* found-only appends are for existing tenants' store_stacks */
	before = dict_bytes(sd);
	du = (struct dict_use){sd->dict, ro, false};
	store_dict_mark(sd->dict, &mark);
	if (!remap_build(sd, r, &m, ro)) { /* ro: a stack is missing */
		remap_fini(&m);
		return false;
	}
	order = mem_alloc(MEM_STORE, (ns ? ns : 1) * sizeof(*order));
	if (!sp) { /* replay: the record passed store_head_check when it was appended */
		struct store_limits any = {.max_labels_per_series = UINT32_MAX,
					   .max_label_name_len = UINT32_MAX,
					   .max_label_value_len = UINT32_MAX};

		if (store_split_build(p, r->labels, r->n_labels, &any, &own, NULL))
			store_split_single(p, r->labels, r->n_labels, &own);
		sp = &own;
	}
	for (uint32_t g = 0; g < sp->n_groups; g++)
		max_n = EMBER_MAX(max_n, sp->sets[g].n);
	ps = mem_alloc(MEM_STORE, (max_n + 2) * sizeof(*ps));
	memset(pd, 0, sizeof(*pd));
	pd->sd = sd;
	pd->time_ns = r->time_ns;
	pd->series = mem_calloc(MEM_STORE, nt * sp->n_groups, sizeof(*pd->series));
	pd->pairs_mem = mem_alloc(MEM_STORE, nt * sp->n_groups * (max_n + 2) * 8);
	pd->smp_mem = mem_alloc(MEM_STORE, (nt * ns + 1) * sizeof(*pd->smp_mem));
	/* every series' stream: a flags byte each, at most 25 bytes a sample */
	pd->enc_mem = mem_alloc(MEM_STORE, nt * sp->n_groups + STORE_SMP_ENC_MAX(nt * ns));
	/* The samples bucketed by group, each bucket in (node, span) order, once for every
	 * sample type: value = sample index. */
	start = mem_calloc(MEM_STORE, (size_t)sp->n_groups + 1, sizeof(*start));
	for (size_t i = 0; i < ns; i++) {
		uint32_t node, ls;
		const int64_t *v;

		rec_sample(r, &m, i, &node, &ls, &v);
		start[sp->group_of[ls] + 1]++;
	}
	for (uint32_t g = 0; g < sp->n_groups; g++)
		start[g + 1] += start[g];
	for (size_t i = 0; i < ns; i++) {
		uint32_t node, ls;
		const int64_t *v;

		rec_sample(r, &m, i, &node, &ls, &v);
		order[start[sp->group_of[ls]]++] =
			(struct store_smp){node, m.ls_span[ls], (int64_t)i};
	}
	for (uint32_t g = sp->n_groups; g > 0; g--) /* back to bucket starts */
		start[g] = start[g - 1];
	start[0] = 0;
	for (uint32_t g = 0; g < sp->n_groups; g++)
		store_smp_sort(order + start[g], start[g + 1] - start[g]);
	/* each group's label pairs, interned once for all sample types: only the profile type's
	 * value differs (gpt[g]: that pair's index) */
	hmap_init(&seen, MEM_STORE);
	hmap_reserve(&seen, 256); /* a host's services and pids: no regrowth */
	gpairs = mem_alloc(MEM_STORE, (size_t)sp->n_groups * (max_n + 2) * 2 * sizeof(*gpairs));
	gn = mem_alloc(MEM_STORE, (size_t)sp->n_groups * 2 * sizeof(*gn));
	gpt = gn + sp->n_groups;
	for (uint32_t g = 0; g < sp->n_groups && !du.missing; g++) {
		uint32_t *gp = gpairs + (size_t)g * (max_n + 2) * 2;

		if (start[g + 1] == start[g] && sp->n_groups > 1)
			continue; /* a label set no sample uses */
		gn[g] = (uint32_t)pair_sources(r, &sp->sets[g], "", ps);
		for (uint32_t i = 0; i < gn[g]; i++) {
			gp[2 * i] = intern_ptr(&seen, &du, ps[i].name);
			gp[2 * i + 1] = intern_ptr(&seen, &du, ps[i].value);
			if (!strcmp(ps[i].name, STORE_LABEL_PROFILE_TYPE))
				gpt[g] = i;
		}
	}
	for (size_t vi = 0; vi < nt && !du.missing; vi++) {
		uint32_t pt_id;

		profile_type(r, vi, pt, sizeof(pt));
		pt_id = dict_str(&du, pt);
		for (uint32_t g = 0; g < sp->n_groups; g++) {
			struct store_smp *o = order + start[g], *s = pd->smp_mem + n_smp;
			struct store_dseries *x = &pd->series[pd->n_series];
			size_t no = start[g + 1] - start[g], n = gn[g], k = 0;

			if (!no && sp->n_groups > 1)
				continue; /* a label set no sample uses */
			x->pairs = pd->pairs_mem + n_pairs;
			x->n_pairs = (uint32_t)n;
			n_pairs += 2 * n;
			memcpy(x->pairs, gpairs + (size_t)g * (max_n + 2) * 2,
			       2 * n * sizeof(uint32_t));
			x->pairs[2 * gpt[g] + 1] = pt_id;
			for (size_t i = 0; i < no;
			     i++) { /* zero values dropped, duplicates summed */
				uint32_t node, ls;
				const int64_t *y;

				rec_sample(r, &m, (size_t)o[i].value, &node, &ls, &y);
				if (!y[vi])
					continue;
				if (k && s[k - 1].node == o[i].node && s[k - 1].span == o[i].span) {
					s[k - 1].value += y[vi];
					continue;
				}
				s[k].node = o[i].node;
				s[k].span = o[i].span;
				s[k].value = y[vi];
				k++;
			}
			x->smp = s;
			x->n_smp = k;
			x->dur = prof_meta_get(p)->duration_ns;
			x->period = prof_meta_get(p)->period;
			/* encoded once: the record carries these bytes and the head copies them */
			x->enc = pd->enc_mem + n_enc;
			x->enc_len =
				store_smp_encode(pd->enc_mem + n_enc, s, k, x->period, &x->total);
			n_enc += x->enc_len;
			n_smp += k;
			pd->n_series++;
		}
	}
	if (w && !du.missing) { /* the WAL record: what the dictionary gained, then the series */
		store_drec_encode_head(w, r->tenant, r->time_ns);
		store_dict_encode_since(w, sd->dict, &mark);
		pd->rec_dict_end = w->b->len;
		store_drec_encode_series(w, pd->series, pd->n_series);
	}
	if (!ro)
		h->bytes += dict_bytes(sd) - before;
	if (du.missing)
		store_pending_fini(pd);
	remap_fini(&m);
	if (sp == &own)
		store_split_fini(&own);
	mem_free(start);
	mem_free(order);
	mem_free(ps);
	mem_free(gpairs);
	mem_free(gn);
	hmap_fini(&seen);
	return !du.missing;
}

/* Adds one series' profile to sd; returns the head memory it took. */
static size_t commit_series(struct store_head *h, struct store_sdata *sd, int64_t t,
			    const struct store_dseries *x)
{
	uint32_t sid = store_sdata_series(sd, x->pairs, x->n_pairs);
	struct store_series_rec *sr = &sd->series[sid];
	size_t before = sr->cols.enc_cap + sr->cols.cap_prof * 36; /* memory, not length */

	if (x->enc) /* an append: the stream its record carries */
		store_cols_add_stream(&sr->cols, t, x->dur, x->period, x->total, x->n_smp, x->enc,
				      x->enc_len);
	else /* replay */
		store_cols_add(&sr->cols, t, x->dur, x->period, x->smp, x->n_smp);
	sr->min_t = EMBER_MIN(sr->min_t, t);
	sr->max_t = EMBER_MAX(sr->max_t, t);
	sd->n_prof++;
	sd->n_smp += x->n_smp;
	h->n_prof++;
	h->n_smp += x->n_smp;
	return sr->cols.enc_cap + sr->cols.cap_prof * 36 - before;
}

static void commit_times(struct store_head *h, struct store_sdata *sd, int64_t t)
{
	sd->min_t = EMBER_MIN(sd->min_t, t);
	sd->max_t = EMBER_MAX(sd->max_t, t);
	h->min_t = EMBER_MIN(h->min_t, t);
	h->max_t = EMBER_MAX(h->max_t, t);
}

void store_head_commit(struct store_head *h, const struct store_pending *pd)
{
	for (size_t i = 0; i < pd->n_series; i++)
		h->bytes += commit_series(h, pd->sd, pd->time_ns, &pd->series[i]);
	commit_times(h, pd->sd, pd->time_ns);
}

void store_pending_fini(struct store_pending *pd)
{
	mem_free(pd->series);
	mem_free(pd->pairs_mem);
	mem_free(pd->smp_mem);
	mem_free(pd->enc_mem);
	memset(pd, 0, sizeof(*pd));
}

void store_head_apply(struct store_head *h, const struct store_rec *r)
{
	struct store_pending pd;

	store_head_prepare(h, r, NULL, &pd, false);
	store_head_commit(h, &pd);
	store_pending_fini(&pd);
}

struct prof *store_head_dict(struct store_head *h, const char *tenant)
{
	return tenant_get(h, tenant)->dict;
}

void store_head_replay(struct store_head *h, const struct store_drec *dr, struct store_xlat *x)
{
	struct store_sdata *sd = tenant_get(h, dr->tenant);

	if (!x) { /* the record's ids are the head's own */
		for (size_t i = 0; i < dr->n_series; i++)
			h->bytes += commit_series(h, sd, dr->time_ns, &dr->series[i]);
		commit_times(h, sd, dr->time_ns);
		return;
	}
	store_xlat_extend(x);
	for (size_t i = 0; i < dr->n_series; i++) {
		struct store_dseries t = dr->series[i];
		struct store_smp *smp =
			mem_alloc(MEM_STORE, (t.n_smp ? t.n_smp : 1) * sizeof(*smp));
		uint32_t *pairs = mem_alloc(MEM_STORE, (size_t)t.n_pairs * 8);

		for (uint32_t k = 0; k < 2 * t.n_pairs; k++) /* names keep their order */
			pairs[k] = store_xlat_str(x, t.pairs[k]);
		for (size_t k = 0; k < t.n_smp; k++) {
			smp[k] = t.smp[k];
			smp[k].node = store_xlat_node(x, t.smp[k].node);
		}
		t.pairs = pairs;
		t.smp = smp;
		t.n_smp = store_smp_merge(smp, t.n_smp);
		h->bytes += commit_series(h, sd, dr->time_ns, &t);
		mem_free(smp);
		mem_free(pairs);
	}
	commit_times(h, sd, dr->time_ns);
}
