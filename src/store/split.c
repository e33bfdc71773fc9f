/*
 * split.c — sample labels lifted into series labels, as Pyroscope does with a pprof's sample
 * labels: every distinct set of (request labels + a sample's string labels) is its own series
 * "group", and each sample belongs to the group of its label set. span_id stays per sample
 * (the legacy profile_id is read as span_id), trace_id is not a series label, numeric labels
 * and labels named "__..." (reserved) are not lifted, an empty value is no label, and a sample
 * label wins over a request label of the same name. Both backends split through here, so
 * they agree on the series an append makes. One call per append; owns its arrays only (label
 * strings are borrowed from the request and the profile).
 */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/strtab.h"
#include "store/split.h"
#include "store/store_int.h"

void store_labels_sort(struct store_label *l, size_t n)
{
	for (size_t i = 1; i < n; i++) { /* a few labels: insertion sort */
		struct store_label x = l[i];
		size_t j = i;

		for (; j > 0 && strcmp(l[j - 1].name, x.name) > 0; j--)
			l[j] = l[j - 1];
		l[j] = x;
	}
}

bool store_split_key_is_span(const char *k)
{
	return !strcmp(k, STORE_SAMPLE_LABEL_SPAN) || !strcmp(k, "profile_id");
}

/* Whether a sample label of key k becomes a series label (by first byte first: this runs for
 * every label of every label set of every append). */
static bool liftable(const char *k)
{
	switch (k[0]) {
	case '_':
		return k[1] != '_';
	case 's':
	case 'p':
		return !store_split_key_is_span(k);
	case 't':
		return strcmp(k, "trace_id") != 0;
	default:
		return true;
	}
}

/* Checks the lifted labels of labelset ls; their count in *n. */
static int check_labelset(const struct prof *p, uint32_t ls, const struct store_limits *lim,
			  size_t *n, struct ember_diag *d)
{
	size_t nl;
	const struct prof_label *l = prof_labelset_get(p, ls, &nl);

	*n = 0;
	for (size_t i = 0; i < nl; i++) {
		const char *k = prof_string(p, l[i].key);
		size_t kn = prof_string_len(p, l[i].key);

		if (!l[i].str || !prof_string_len(p, l[i].str) || !liftable(k))
			continue;
		if (!store_label_name_ok(k, kn))
			return ember_diag_set(d, -EMBER_EUSAGE, "bad sample label name \"%.64s\"",
					      k);
		if (kn > lim->max_label_name_len)
			return ember_diag_set(d, -EMBER_ELIMIT,
					      "sample label name \"%.64s...\" longer than %u bytes",
					      k, lim->max_label_name_len);
		if (prof_string_len(p, l[i].str) > lim->max_label_value_len)
			return ember_diag_set(d, -EMBER_ELIMIT,
					      "value of sample label %.64s longer than %u bytes", k,
					      lim->max_label_value_len);
		(*n)++;
	}
	return 0;
}

/* The merged labels of labelset ls into out (room for n_req + lifted), sorted by name. */
static size_t merge_labels(const struct prof *p, uint32_t ls, const struct store_label *req,
			   size_t n_req, struct store_label *out)
{
	size_t nl, n = 0;
	const struct prof_label *l = prof_labelset_get(p, ls, &nl);

	for (size_t i = 0; i < nl; i++) {
		const char *k = prof_string(p, l[i].key);
		bool dup = false;

		if (!l[i].str || !prof_string_len(p, l[i].str) || !liftable(k))
			continue;
		for (size_t j = 0; j < n && !dup; j++)
			dup = !strcmp(out[j].name, k); /* a repeated key: the first one counts */
		if (!dup)
			out[n++] = (struct store_label){k, prof_string(p, l[i].str)};
	}
	for (size_t i = 0, lifted = n; i < n_req; i++) {
		bool over = false;

		for (size_t j = 0; j < lifted && !over; j++)
			over = !strcmp(out[j].name, req[i].name);
		if (!over)
			out[n++] = req[i];
	}
	store_labels_sort(out, n);
	return n;
}

void store_split_single(const struct prof *p, const struct store_label *req, size_t n_req,
			struct store_split *sp)
{
	uint32_t n_ls = prof_n_labelsets(p);

	sp->n_groups = 1;
	sp->group_of = mem_calloc(MEM_STORE, n_ls ? n_ls : 1, sizeof(*sp->group_of));
	sp->sets = mem_calloc(MEM_STORE, 1, sizeof(*sp->sets));
	sp->owned = mem_alloc(MEM_STORE, (n_req ? n_req : 1) * sizeof(*sp->owned));
	if (n_req)
		memcpy(sp->owned, req, n_req * sizeof(*req));
	sp->sets[0] = (struct store_labelset){n_req, sp->owned};
}

/* The request's own labels: count, name syntax, lengths, no name twice. */
static int check_request(const struct store_label *req, size_t n_req,
			 const struct store_limits *lim, struct ember_diag *d)
{
	if (n_req + 2 > lim->max_labels_per_series)
		return ember_diag_set(d, -EMBER_ELIMIT, "%zu labels per series (limit %u)",
				      n_req + 2, lim->max_labels_per_series);
	for (size_t i = 0; i < n_req; i++) {
		const struct store_label *l = &req[i];

		if (!l->name || !l->value || !store_label_name_ok(l->name, strlen(l->name)))
			return ember_diag_set(d, -EMBER_EUSAGE, "bad label name \"%.64s\"",
					      l->name ? l->name : "(null)");
		if (strlen(l->name) > lim->max_label_name_len)
			return ember_diag_set(d, -EMBER_ELIMIT,
					      "label name \"%.64s...\" longer than %u bytes",
					      l->name, lim->max_label_name_len);
		if (strlen(l->value) > lim->max_label_value_len)
			return ember_diag_set(d, -EMBER_ELIMIT,
					      "value of label %.64s longer than %u bytes", l->name,
					      lim->max_label_value_len);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(req[k].name, l->name))
				return ember_diag_set(d, -EMBER_EUSAGE, "duplicate label %.64s",
						      l->name);
	}
	return 0;
}

int store_split_build(const struct prof *p, const struct store_label *req, size_t n_req,
		      const struct store_limits *lim, struct store_split *sp, struct ember_diag *d)
{
	uint32_t n_ls = prof_n_labelsets(p);
	size_t max_lifted = 0, *n_lifted = mem_calloc(MEM_STORE, n_ls, sizeof(*n_lifted));
	struct strtab *keys = NULL;
	uint32_t *group_of_key = NULL;
	size_t cap_keys = 0;
	struct store_label *tmp = NULL;
	size_t *offs, n_owned = 0, cap_owned = 0;
	struct buf key;
	int rc = 0;

	memset(sp, 0, sizeof(*sp));
	rc = check_request(req, n_req, lim, d);
	for (uint32_t i = 1; i < n_ls && !rc; i++) {
		rc = check_labelset(p, i, lim, &n_lifted[i], d);
		max_lifted = EMBER_MAX(max_lifted, n_lifted[i]);
	}
	if (!rc && n_req + max_lifted + 2 > lim->max_labels_per_series)
		rc = ember_diag_set(d, -EMBER_ELIMIT, "%zu labels per series (limit %u)",
				    n_req + max_lifted + 2, lim->max_labels_per_series);
	if (rc) {
		mem_free(n_lifted);
		return rc;
	}
	if (max_lifted == 0) { /* the common case: one group, the request's labels */
		store_split_single(p, req, n_req, sp);
		mem_free(n_lifted);
		return 0;
	}
	sp->group_of = mem_calloc(MEM_STORE, n_ls, sizeof(*sp->group_of));
	/* Each label set's merged labels, keyed by their bytes: equal sets share a group. A
	 * group's labels are copied to `owned` (offsets in sets[].n until the end, as owned moves
	 * while it grows). */
	tmp = mem_alloc(MEM_STORE, (n_req + max_lifted) * sizeof(*tmp));
	sp->sets = mem_calloc(MEM_STORE, n_ls, sizeof(*sp->sets));
	offs = mem_alloc(MEM_STORE, (size_t)n_ls * sizeof(*offs));
	keys = strtab_new(MEM_STORE);
	buf_init(&key, MEM_STORE, SIZE_MAX);
	for (uint32_t i = 0; i < n_ls; i++) {
		size_t n = merge_labels(p, i, req, n_req, tmp);
		uint32_t kid;

		buf_reset(&key);
		for (size_t k = 0; k < n; k++) {
			buf_append(&key, tmp[k].name, strlen(tmp[k].name) + 1);
			buf_append(&key, tmp[k].value, strlen(tmp[k].value) + 1);
		}
		kid = strtab_intern(keys, key.len ? (const void *)key.data : "", key.len);
		if (kid >= cap_keys) {
			size_t old = cap_keys;

			mem_grow(MEM_STORE, (void **)&group_of_key, &cap_keys, (size_t)kid + 1,
				 sizeof(*group_of_key));
			memset(group_of_key + old, 0xff, (cap_keys - old) * sizeof(*group_of_key));
		}
		if (group_of_key[kid] == UINT32_MAX) {
			mem_grow(MEM_STORE, (void **)&sp->owned, &cap_owned, n_owned + n + 1,
				 sizeof(*sp->owned));
			memcpy(sp->owned + n_owned, tmp, n * sizeof(*tmp));
			offs[sp->n_groups] = n_owned;
			n_owned += n;
			group_of_key[kid] = sp->n_groups;
			sp->sets[sp->n_groups++].n = n;
		}
		sp->group_of[i] = group_of_key[kid];
	}
	for (uint32_t g = 0; g < sp->n_groups; g++)
		sp->sets[g].labels = sp->owned + offs[g];
	mem_free(offs);
	mem_free(tmp);
	buf_fini(&key);
	strtab_free(keys);
	mem_free(group_of_key);
	mem_free(n_lifted);
	return 0;
}

void store_split_fini(struct store_split *sp)
{
	mem_free(sp->group_of);
	mem_free(sp->sets);
	mem_free(sp->owned);
	memset(sp, 0, sizeof(*sp));
}
