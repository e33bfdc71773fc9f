/*
 * ch_query.c — the read side of the ClickHouse backend: label names and values, series and
 * select-merge (with span ids), each a few SELECTs with the aggregation in ClickHouse
 * (GROUP BY stack_id; DISTINCT label pairs), results read as TabSeparated. Top and diff use
 * the generic paths over select-merge (store.c). Select-series sums profile totals per group and
 * step in ClickHouse (a join of profiles with the group-by labels of their series); function
 * series sums per step the values of the stacks whose leaf is the function (self) or that hold
 * it (total).
 *
 * Matchers: `=`, `!=`, `=~`, `!~` on label_values[indexOf(label_names, NAME)] (a missing
 * label reads as '': Prometheus semantics), `__profile_type__` on the profile_type column;
 * regexes anchored as ^(?:RE)$ (ClickHouse's RE2). Every string goes through ch_sql_quote.
 * Result bodies are hostile: bounded (CH_RESULT_MAX), rows and fields checked, numbers parsed
 * strictly; a malformed body is -EMBER_EFORMAT naming the query.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/hmap.h"
#include "base/mem.h"
#include "store/clickhouse/ch.h"
#include "store/store_int.h"

#define CH_MAX_FIELDS 4

/* --- SQL ------------------------------------------------------------------------------------ */

struct qsql {
	struct buf b;
	const char *db;
	const char *tenant;
	int rc;
};

static void sql_quote(struct qsql *s, const char *v)
{
	s->rc = s->rc ?: ch_sql_quote(&s->b, v, strlen(v));
}

static void sql_puts(struct qsql *s, const char *v)
{
	s->rc = s->rc ?: buf_puts(&s->b, v);
}

static void sql_printf(struct qsql *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql_printf(struct qsql *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s->rc = s->rc ?: buf_vprintf(&s->b, fmt, ap);
	va_end(ap);
}

static int sql_begin(struct store *st, struct qsql *s, const struct store_query *q,
		     struct ember_diag *d)
{
	s->tenant = q->tenant && *q->tenant ? q->tenant : "anonymous";
	if (!ch_tenant_ok(s->tenant))
		return ember_diag_set(d, -EMBER_EUSAGE, "clickhouse backend: bad tenant '%.64s'",
				      s->tenant);
	s->db = ch_store_db(st);
	s->rc = 0;
	buf_init(&s->b, MEM_STORE, (size_t)4 << 20);
	return 0;
}

/* " AND <matchers>" on a series row (profile type too when q has one). */
static void sql_matchers(struct qsql *s, const struct store_query *q)
{
	if (q->profile_type) {
		sql_puts(s, " AND profile_type = ");
		sql_quote(s, q->profile_type);
	}
	for (size_t i = 0; i < q->n_matchers; i++) {
		const struct store_matcher *m = &q->matchers[i];
		bool re = m->op == STORE_MATCH_RE || m->op == STORE_MATCH_NRE;

		sql_puts(s, m->op == STORE_MATCH_NRE ? " AND NOT " : " AND ");
		sql_puts(s, re ? "match(" : "(");
		if (!strcmp(m->name, STORE_LABEL_PROFILE_TYPE)) {
			sql_puts(s, "profile_type");
		} else {
			sql_puts(s, "label_values[indexOf(label_names, ");
			sql_quote(s, m->name);
			sql_puts(s, ")]");
		}
		if (re) {
			struct buf r;

			buf_init(&r, MEM_STORE, (size_t)1 << 20);
			s->rc = s->rc ?: buf_printf(&r, "^(?:%s)$", m->value);
			sql_puts(s, ", ");
			if (!s->rc)
				sql_quote(s, (const char *)r.data);
			buf_fini(&r);
		} else {
			sql_puts(s, m->op == STORE_MATCH_EQ ? " = " : " != ");
			sql_quote(s, m->value);
		}
		sql_puts(s, ")");
	}
}

/* "SELECT fingerprint FROM db.series WHERE tenant = T AND <matchers>" */
static void sql_fingerprints(struct qsql *s, const struct store_query *q)
{
	sql_printf(s, "SELECT fingerprint FROM %s.series WHERE tenant = ", s->db);
	sql_quote(s, s->tenant);
	sql_matchers(s, q);
}

/* " AND time_ns >= S AND time_ns < E" */
static void sql_range(struct qsql *s, const struct store_query *q)
{
	sql_printf(s, " AND time_ns >= %" PRId64 " AND time_ns < %" PRId64, q->start_ns,
		   q->end_ns ? q->end_ns : INT64_MAX);
}

/* The series (label rows) of q that have profiles in its range. */
static void sql_series_where(struct qsql *s, const struct store_query *q)
{
	sql_puts(s, " WHERE tenant = ");
	sql_quote(s, s->tenant);
	sql_matchers(s, q);
	sql_printf(s, " AND fingerprint IN (SELECT fingerprint FROM %s.profiles WHERE tenant = ",
		   s->db);
	sql_quote(s, s->tenant);
	sql_range(s, q);
	sql_puts(s, ")");
}

/* Runs s's statement: 0 with the body in *out (caller frees), or an error. */
static int sql_run(struct store *st, struct qsql *s, struct buf *out, const char *what,
		   struct ember_diag *d)
{
	int rc = s->rc;

	buf_init(out, MEM_STORE, CH_RESULT_MAX);
	if (rc)
		rc = ember_diag_set(d, rc, "clickhouse backend: %s: query too large", what);
	else
		rc = ch_store_query(st, (const char *)s->b.data, out, d);
	/* ch_tsv_row needs a byte past the body for the last field's NUL */
	if (!rc && buf_putc(out, 0) != 0)
		rc = ember_diag_set(d, -EMBER_ELIMIT,
				    "clickhouse backend: %s: result over %zu bytes", what,
				    (size_t)CH_RESULT_MAX);
	else if (!rc)
		out->len--;
	buf_fini(&s->b);
	if (rc)
		buf_fini(out);
	return rc;
}

static struct store_result *result_new(void)
{
	struct store_result *r = mem_calloc(MEM_STORE, 1, sizeof(*r));

	r->arena = arena_new(MEM_STORE, 64 << 10);
	return r;
}

static int bad_body(struct ember_diag *d, const char *what)
{
	return ember_diag_set(d, -EMBER_EFORMAT, "clickhouse backend: %s: malformed result row",
			      what);
}

/* --- label names and values, series ---------------------------------------------------------- */

/* One string per row (label names or values) into r->strings (already sorted, distinct). */
static int strings_of(struct buf *body, struct store_result *r, const char *what,
		      struct ember_diag *d)
{
	struct ch_tsv t = {(char *)body->data, (char *)body->data + body->len};
	size_t n = 0, cap = 16, len[CH_MAX_FIELDS];
	const char **v = arena_alloc(r->arena, cap * sizeof(*v));
	char *f[CH_MAX_FIELDS];
	int k;

	while ((k = ch_tsv_row(&t, f, len, 1)) > 0) {
		if (n == cap) {
			const char **nv = arena_alloc(r->arena, 2 * cap * sizeof(*v));

			memcpy(nv, v, cap * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		v[n++] = arena_strndup(r->arena, f[0], len[0]);
	}
	if (k < 0)
		return bad_body(d, what);
	r->strings = v;
	r->n_strings = n;
	return 0;
}

int ch_op_label_names(struct store *st, const struct store_query *q, struct store_result **out,
		      struct ember_diag *d)
{
	struct qsql s;
	struct buf body;
	int rc;

	*out = NULL;
	if ((rc = sql_begin(st, &s, q, d)))
		return rc;
	sql_printf(&s,
		   "SELECT DISTINCT n FROM %s.series ARRAY JOIN label_names AS n, "
		   "label_values AS v",
		   s.db);
	sql_series_where(&s, q);
	sql_puts(&s, " AND v != '' ORDER BY n FORMAT TabSeparated");
	if ((rc = sql_run(st, &s, &body, "label names", d)))
		return rc;
	*out = result_new();
	rc = strings_of(&body, *out, "label names", d);
	buf_fini(&body);
	if (rc) {
		store_result_free(*out);
		*out = NULL;
	}
	return rc;
}

int ch_op_label_values(struct store *st, const struct store_query *q, const char *name,
		       struct store_result **out, struct ember_diag *d)
{
	struct qsql s;
	struct buf body;
	int rc;

	*out = NULL;
	if (!name)
		return ember_diag_set(d, -EMBER_EUSAGE, "store: label name required");
	if ((rc = sql_begin(st, &s, q, d)))
		return rc;
	if (!strcmp(name, STORE_LABEL_PROFILE_TYPE)) {
		sql_printf(&s, "SELECT DISTINCT profile_type AS lv FROM %s.series", s.db);
	} else {
		sql_puts(&s, "SELECT DISTINCT label_values[indexOf(label_names, ");
		sql_quote(&s, name);
		sql_printf(&s, ")] AS lv FROM %s.series", s.db);
	}
	sql_series_where(&s, q);
	sql_puts(&s, " AND lv != '' ORDER BY lv FORMAT TabSeparated");
	if ((rc = sql_run(st, &s, &body, "label values", d)))
		return rc;
	*out = result_new();
	rc = strings_of(&body, *out, "label values", d);
	buf_fini(&body);
	if (rc) {
		store_result_free(*out);
		*out = NULL;
	}
	return rc;
}

static int cmp_set(const void *a, const void *b)
{
	const struct store_labelset *x = a, *y = b;

	for (size_t i = 0; i < x->n && i < y->n; i++) {
		int c = strcmp(x->labels[i].name, y->labels[i].name);

		if (!c)
			c = strcmp(x->labels[i].value, y->labels[i].value);
		if (c)
			return c;
	}
	return x->n < y->n ? -1 : x->n > y->n;
}

int ch_op_series(struct store *st, const struct store_query *q, struct store_result **out,
		 struct ember_diag *d)
{
	struct qsql s;
	struct buf body;
	struct ch_tsv t;
	struct store_result *r;
	size_t *first = NULL, *count = NULL; /* per set: its first label and how many */
	struct store_label *labels = NULL;
	size_t n_sets = 0, cap_sets = 0, n_labels = 0, cap_labels = 0, len[CH_MAX_FIELDS];
	uint64_t last = 0, fp;
	char *f[CH_MAX_FIELDS];
	int rc, k;

	*out = NULL;
	if ((rc = sql_begin(st, &s, q, d)))
		return rc;
	sql_printf(&s,
		   "SELECT DISTINCT fingerprint, n, v FROM %s.series ARRAY JOIN label_names "
		   "AS n, label_values AS v",
		   s.db);
	sql_series_where(&s, q);
	sql_puts(&s, " AND v != '' ORDER BY fingerprint, n FORMAT TabSeparated");
	if ((rc = sql_run(st, &s, &body, "series", d)))
		return rc;
	r = result_new();
	t = (struct ch_tsv){(char *)body.data, (char *)body.data + body.len};
	/* Rows come grouped by fingerprint, labels sorted by name: a set per fingerprint. */
	while ((k = ch_tsv_row(&t, f, len, 3)) > 0) {
		if (k != 3 || !ch_parse_u64(f[0], &fp)) {
			k = -1;
			break;
		}
		if (!n_sets || fp != last) {
			if (n_sets == cap_sets) {
				cap_sets = cap_sets ? 2 * cap_sets : 16;
				first = mem_realloc(MEM_STORE, first, cap_sets * sizeof(*first));
				count = mem_realloc(MEM_STORE, count, cap_sets * sizeof(*count));
			}
			first[n_sets] = n_labels;
			count[n_sets++] = 0;
			last = fp;
		}
		if (n_labels == cap_labels) {
			cap_labels = cap_labels ? 2 * cap_labels : 64;
			labels = mem_realloc(MEM_STORE, labels, cap_labels * sizeof(*labels));
		}
		labels[n_labels].name = arena_strndup(r->arena, f[1], len[1]);
		labels[n_labels].value = arena_strndup(r->arena, f[2], len[2]);
		n_labels++;
		count[n_sets - 1]++;
	}
	buf_fini(&body);
	if (k < 0) {
		mem_free(first);
		mem_free(count);
		mem_free(labels);
		store_result_free(r);
		return bad_body(d, "series");
	}
	/* The labels move into the arena. */
	{
		struct store_label *al =
			arena_alloc(r->arena, (n_labels ? n_labels : 1) * sizeof(*al));
		struct store_labelset *as =
			arena_alloc(r->arena, (n_sets ? n_sets : 1) * sizeof(*as));

		if (n_labels)
			memcpy(al, labels, n_labels * sizeof(*al));
		for (size_t i = 0; i < n_sets; i++) {
			as[i].n = count[i];
			as[i].labels = al + first[i];
		}
		qsort(as, n_sets, sizeof(*as), cmp_set);
		r->sets = as;
		r->n_sets = n_sets;
	}
	mem_free(first);
	mem_free(count);
	mem_free(labels);
	*out = r;
	return 0;
}

/* --- select-merge ---------------------------------------------------------------------------- */

/* " FROM db.samples WHERE tenant = T AND <range> AND fingerprint IN (<series>) [AND span_id IN
 * (...)]" */
static void sql_samples(struct qsql *s, const struct store_query *q, const uint64_t *spans,
			size_t n_spans)
{
	sql_printf(s, " FROM %s.samples WHERE tenant = ", s->db);
	sql_quote(s, s->tenant);
	sql_range(s, q);
	sql_puts(s, " AND fingerprint IN (");
	sql_fingerprints(s, q);
	sql_puts(s, ")");
	if (n_spans) {
		sql_puts(s, " AND span_id IN (");
		for (size_t i = 0; i < n_spans; i++)
			sql_printf(s, "%s%" PRIu64, i ? "," : "", spans[i]);
		sql_puts(s, ")");
	}
}

struct merge {
	struct prof *p;
	struct hmap stack_at; /* stack id -> index into syms_first/syms_n */
	struct hmap loc_of;   /* symbol id -> location id */
	uint64_t *syms;	      /* every stack's symbol ids, leaf first */
	size_t n_syms, cap_syms;
	uint32_t *first, *count;
	size_t n_stacks, cap_stacks;
};

/* "[1,2,3]" into m->syms. */
static bool parse_id_array(struct merge *m, char *s, size_t len, uint32_t *n)
{
	char *e = s + len;

	*n = 0;
	if (len < 2 || s[0] != '[' || e[-1] != ']')
		return false;
	e[-1] = 0;
	for (char *p = s + 1; *p;) {
		char *comma = strchr(p, ',');
		uint64_t v;

		if (comma)
			*comma = 0;
		if (!ch_parse_u64(p, &v))
			return false;
		mem_grow(MEM_STORE, (void **)&m->syms, &m->cap_syms, m->n_syms + 1,
			 sizeof(*m->syms));
		m->syms[m->n_syms++] = v;
		(*n)++;
		if (!comma)
			break;
		p = comma + 1;
	}
	return true;
}

static void merge_fini(struct merge *m)
{
	hmap_fini(&m->stack_at);
	hmap_fini(&m->loc_of);
	mem_free(m->syms);
	mem_free(m->first);
	mem_free(m->count);
	prof_free(m->p);
}

/* The profile's sample type and period type from "name:type:unit:ptype:punit". */
static int merge_types(struct merge *m, const char *pt, struct ember_diag *d)
{
	const char *f[5];
	size_t fl[5], i = 0;
	const char *c = pt;

	for (; i < 5; i++) {
		const char *colon = i < 4 ? strchr(c, ':') : c + strlen(c);

		if (!colon)
			break;
		f[i] = c;
		fl[i] = (size_t)(colon - c);
		c = colon + 1;
	}
	if (i < 5 || strchr(f[4], ':'))
		return ember_diag_set(d, -EMBER_EUSAGE,
				      "store: profile type '%.200s': want "
				      "name:type:unit:period_type:period_unit",
				      pt);
	prof_add_sample_type(m->p, prof_intern(m->p, f[1], fl[1]), prof_intern(m->p, f[2], fl[2]));
	prof_meta(m->p)->period_type.type = prof_intern(m->p, f[3], fl[3]);
	prof_meta(m->p)->period_type.unit = prof_intern(m->p, f[4], fl[4]);
	return 0;
}

int ch_op_select_merge(struct store *st, const struct store_query *q, const uint64_t *span_ids,
		       size_t n_span_ids, struct prof **out, struct ember_diag *d)
{
	struct merge m = {0};
	struct qsql s;
	struct buf body;
	struct ch_tsv t;
	char *f[CH_MAX_FIELDS];
	size_t len[CH_MAX_FIELDS];
	int rc, k;

	*out = NULL;
	if (!q->profile_type)
		return ember_diag_set(d, -EMBER_EUSAGE, "store: select-merge needs a profile type");
	m.p = prof_new();
	hmap_init(&m.stack_at, MEM_STORE);
	hmap_init(&m.loc_of, MEM_STORE);
	if ((rc = merge_types(&m, q->profile_type, d)))
		goto out;

	/* 1. the symbols of every stack of the selection */
	if ((rc = sql_begin(st, &s, q, d)))
		goto out;
	sql_printf(&s,
		   "SELECT symbol_id, any(name), any(file) FROM %s.symbols WHERE tenant = ", s.db);
	sql_quote(&s, s.tenant);
	sql_printf(&s,
		   " AND symbol_id IN (SELECT arrayJoin(symbols) FROM %s.stacks WHERE tenant = ",
		   s.db);
	sql_quote(&s, s.tenant);
	sql_puts(&s, " AND stack_id IN (SELECT stack_id");
	sql_samples(&s, q, span_ids, n_span_ids);
	sql_puts(&s, ")) GROUP BY symbol_id FORMAT TabSeparated");
	if ((rc = sql_run(st, &s, &body, "select-merge symbols", d)))
		goto out;
	t = (struct ch_tsv){(char *)body.data, (char *)body.data + body.len};
	while ((k = ch_tsv_row(&t, f, len, 3)) > 0) {
		uint64_t id;

		if (k != 3 || !ch_parse_u64(f[0], &id) || id == UINT64_MAX) {
			k = -1;
			break;
		}
		struct prof_function fn = {.name = prof_intern(m.p, f[1], len[1]),
					   .filename = prof_intern(m.p, f[2], len[2])};
		struct prof_line line = {.function = prof_add_function(m.p, &fn)};

		hmap_put(&m.loc_of, id, prof_add_location(m.p, 0, 0, &line, 1, false));
	}
	buf_fini(&body);
	if (k < 0) {
		rc = bad_body(d, "select-merge symbols");
		goto out;
	}

	/* 2. the stacks */
	if ((rc = sql_begin(st, &s, q, d)))
		goto out;
	sql_printf(&s, "SELECT stack_id, any(symbols) FROM %s.stacks WHERE tenant = ", s.db);
	sql_quote(&s, s.tenant);
	sql_puts(&s, " AND stack_id IN (SELECT stack_id");
	sql_samples(&s, q, span_ids, n_span_ids);
	sql_puts(&s, ") GROUP BY stack_id FORMAT TabSeparated");
	if ((rc = sql_run(st, &s, &body, "select-merge stacks", d)))
		goto out;
	t = (struct ch_tsv){(char *)body.data, (char *)body.data + body.len};
	while ((k = ch_tsv_row(&t, f, len, 2)) > 0) {
		uint64_t id;
		uint32_t n;
		uint32_t at = (uint32_t)m.n_syms;

		if (k != 2 || !ch_parse_u64(f[0], &id) || id == UINT64_MAX ||
		    !parse_id_array(&m, f[1], len[1], &n)) {
			k = -1;
			break;
		}
		mem_grow(MEM_STORE, (void **)&m.first, &m.cap_stacks, m.n_stacks + 1,
			 sizeof(*m.first));
		m.count = mem_realloc(MEM_STORE, m.count, m.cap_stacks * sizeof(*m.count));
		m.first[m.n_stacks] = at;
		m.count[m.n_stacks] = n;
		hmap_put(&m.stack_at, id, m.n_stacks++);
	}
	buf_fini(&body);
	if (k < 0) {
		rc = bad_body(d, "select-merge stacks");
		goto out;
	}

	/* 3. the values per stack, summed in ClickHouse */
	if ((rc = sql_begin(st, &s, q, d)))
		goto out;
	sql_puts(&s, "SELECT stack_id, sum(value)");
	sql_samples(&s, q, span_ids, n_span_ids);
	sql_puts(&s, " GROUP BY stack_id FORMAT TabSeparated");
	if ((rc = sql_run(st, &s, &body, "select-merge values", d)))
		goto out;
	t = (struct ch_tsv){(char *)body.data, (char *)body.data + body.len};
	while ((k = ch_tsv_row(&t, f, len, 2)) > 0) {
		uint64_t id, at, loc;
		int64_t v;
		uint32_t locs[1024], n = 0;

		if (k != 2 || !ch_parse_u64(f[0], &id) || id == UINT64_MAX ||
		    !ch_parse_i64(f[1], &v)) {
			k = -1;
			break;
		}
		if (!v || !hmap_get(&m.stack_at, id, &at))
			continue; /* a stack row not merged in yet: ClickHouse inserts it first */
		for (uint32_t i = 0; i < m.count[at] && n < 1024; i++)
			if (hmap_get(&m.loc_of, m.syms[m.first[at] + i], &loc))
				locs[n++] = (uint32_t)loc;
		prof_add_sample(m.p, prof_add_stack(m.p, locs, n), 0, &v);
	}
	buf_fini(&body);
	if (k < 0) {
		rc = bad_body(d, "select-merge values");
		goto out;
	}

	/* 4. the period: the largest of the selected profiles' */
	if ((rc = sql_begin(st, &s, q, d)))
		goto out;
	sql_printf(&s, "SELECT max(period) FROM %s.profiles WHERE tenant = ", s.db);
	sql_quote(&s, s.tenant);
	sql_range(&s, q);
	sql_puts(&s, " AND fingerprint IN (");
	sql_fingerprints(&s, q);
	sql_puts(&s, ") FORMAT TabSeparated");
	if ((rc = sql_run(st, &s, &body, "select-merge period", d)))
		goto out;
	t = (struct ch_tsv){(char *)body.data, (char *)body.data + body.len};
	if ((k = ch_tsv_row(&t, f, len, 1)) == 1) {
		int64_t period;

		if (!ch_parse_i64(f[0], &period))
			k = -1;
		else
			prof_meta(m.p)->period = period;
	}
	buf_fini(&body);
	if (k < 0) {
		rc = bad_body(d, "select-merge period");
		goto out;
	}
	*out = m.p;
	m.p = NULL;
out:
	merge_fini(&m);
	return rc;
}

/* One group of select-series: its label values and points (ascending time). */
struct sgroup {
	char **vals;
	size_t n, cap;
	int64_t *t;
	double *sum;
	uint64_t *cnt;
	double total;
};

static int cmp_sgroup(const void *a, const void *b)
{
	const struct sgroup *x = *(struct sgroup *const *)a, *y = *(struct sgroup *const *)b;

	return (x->total < y->total) - (x->total > y->total);
}

#define CH_MAX_GROUP_BY 16

int ch_op_select_series(struct store *st, const struct store_query *q,
			const struct store_series_opts *o, struct store_result **out,
			struct ember_diag *d)
{
	size_t ng = o->n_group_by, n_groups = 0, cap_groups = 0, len[CH_MAX_GROUP_BY + 3];
	struct sgroup *groups = NULL, **order = NULL;
	struct store_result *r = NULL;
	char *f[CH_MAX_GROUP_BY + 3];
	int64_t start = q->start_ns, step = o->step_ns;
	struct qsql s;
	struct buf body;
	struct ch_tsv t;
	int rc, k;

	*out = NULL;
	if (!q->profile_type)
		return ember_diag_set(d, -EMBER_EUSAGE,
				      "store: select-series needs a profile type");
	if (step <= 0)
		return ember_diag_set(d, -EMBER_EUSAGE, "step must be positive");
	if (ng > CH_MAX_GROUP_BY)
		return ember_diag_set(d, -EMBER_ELIMIT, "store: at most %d group-by labels",
				      CH_MAX_GROUP_BY);
	if ((rc = sql_begin(st, &s, q, d)))
		return rc;
	/* Per group and step (the end of the step a profile falls in, as the embedded store
	 * counts it): sum and count of the profiles' totals. */
	sql_puts(&s, "SELECT ");
	for (size_t i = 0; i < ng; i++)
		sql_printf(&s, "k%zu, ", i);
	sql_printf(&s,
		   "t, sum(total), count() FROM (SELECT fingerprint, total, %" PRId64
		   " + intDiv(time_ns - %" PRId64 " + %" PRId64 " - 1, %" PRId64 ") * %" PRId64
		   " AS t FROM %s.profiles WHERE tenant = ",
		   start, start, step, step, step, s.db);
	sql_quote(&s, s.tenant);
	sql_range(&s, q);
	sql_puts(&s, " AND fingerprint IN (");
	sql_fingerprints(&s, q);
	sql_puts(&s, "))");
	if (ng) {
		sql_puts(&s, " ANY INNER JOIN (SELECT fingerprint");
		for (size_t i = 0; i < ng; i++) {
			sql_puts(&s, ", any(label_values[indexOf(label_names, ");
			sql_quote(&s, o->group_by[i]);
			sql_printf(&s, ")]) AS k%zu", i);
		}
		sql_printf(&s, " FROM %s.series WHERE tenant = ", s.db);
		sql_quote(&s, s.tenant);
		sql_matchers(&s, q);
		sql_puts(&s, " GROUP BY fingerprint) USING fingerprint");
	}
	sql_puts(&s, " GROUP BY ");
	for (size_t i = 0; i < ng; i++)
		sql_printf(&s, "k%zu, ", i);
	sql_puts(&s, "t ORDER BY t FORMAT TabSeparated");
	if ((rc = sql_run(st, &s, &body, "select-series", d)))
		return rc;
	r = result_new();
	t = (struct ch_tsv){(char *)body.data, (char *)body.data + body.len};
	while ((k = ch_tsv_row(&t, f, len, ng + 3)) > 0) {
		int64_t ts, sum;
		uint64_t cnt;
		struct sgroup *g = NULL;

		if ((size_t)k != ng + 3 || !ch_parse_i64(f[ng], &ts) ||
		    !ch_parse_i64(f[ng + 1], &sum) || !ch_parse_u64(f[ng + 2], &cnt)) {
			k = -1;
			break;
		}
		for (size_t i = 0; i < n_groups && !g; i++) {
			size_t j = 0;

			while (j < ng && !strcmp(groups[i].vals[j], f[j]))
				j++;
			if (j == ng)
				g = &groups[i];
		}
		if (!g) {
			mem_grow(MEM_STORE, (void **)&groups, &cap_groups, n_groups + 1,
				 sizeof(*groups));
			g = &groups[n_groups++];
			memset(g, 0, sizeof(*g));
			g->vals = arena_alloc(r->arena, (ng ? ng : 1) * sizeof(*g->vals));
			for (size_t j = 0; j < ng; j++)
				g->vals[j] = arena_strndup(r->arena, f[j], len[j]);
		}
		if (g->n == g->cap) {
			g->cap = g->cap ? 2 * g->cap : 16;
			g->t = mem_realloc(MEM_STORE, g->t, g->cap * sizeof(*g->t));
			g->sum = mem_realloc(MEM_STORE, g->sum, g->cap * sizeof(*g->sum));
			g->cnt = mem_realloc(MEM_STORE, g->cnt, g->cap * sizeof(*g->cnt));
		}
		g->t[g->n] = ts;
		g->sum[g->n] = (double)sum;
		g->cnt[g->n++] = cnt;
		g->total += (double)sum;
	}
	buf_fini(&body);
	if (k >= 0) {
		size_t keep;
		struct store_series *ser =
			arena_calloc(r->arena, n_groups ? n_groups : 1, sizeof(*ser));

		order = mem_alloc(MEM_STORE, (n_groups ? n_groups : 1) * sizeof(*order));
		for (size_t i = 0; i < n_groups; i++)
			order[i] = &groups[i];
		qsort(order, n_groups, sizeof(*order), cmp_sgroup);
		keep = o->limit && o->limit < n_groups ? o->limit : n_groups;
		for (size_t i = 0; i < keep; i++) {
			struct sgroup *g = order[i];
			struct store_point *pt =
				arena_calloc(r->arena, g->n ? g->n : 1, sizeof(*pt));
			struct store_label *l = arena_calloc(r->arena, ng ? ng : 1, sizeof(*l));

			for (size_t j = 0; j < g->n; j++) {
				pt[j].time_ns = g->t[j];
				pt[j].value = o->agg == STORE_AGG_AVG && g->cnt[j]
						      ? g->sum[j] / (double)g->cnt[j]
						      : g->sum[j];
			}
			for (size_t j = 0; j < ng; j++) {
				l[j].name = arena_strndup(r->arena, o->group_by[j],
							  strlen(o->group_by[j]));
				l[j].value = g->vals[j];
			}
			ser[i] = (struct store_series){
				.labels = {.n = ng, .labels = l}, .n_points = g->n, .points = pt};
		}
		r->series = ser;
		r->n_series = keep;
	}
	for (size_t i = 0; i < n_groups; i++) {
		mem_free(groups[i].t);
		mem_free(groups[i].sum);
		mem_free(groups[i].cnt);
	}
	mem_free(groups);
	mem_free(order);
	if (k < 0) {
		store_result_free(r);
		return bad_body(d, "select-series");
	}
	*out = r;
	return 0;
}

int ch_op_function_series(struct store *st, const struct store_query *q, const char *function,
			  int64_t step_ns, struct store_result **out, struct ember_diag *d)
{
	int64_t start = q->start_ns;
	size_t n = 0, cap = 0, len[4];
	struct store_point *pt = NULL;
	struct store_result *r;
	char *f[4];
	struct qsql s;
	struct buf body;
	struct ch_tsv t;
	int rc, k;

	*out = NULL;
	if (!q->profile_type || !function)
		return ember_diag_set(d, -EMBER_EUSAGE,
				      "store: function series needs a profile type and a function");
	if (step_ns <= 0)
		return ember_diag_set(d, -EMBER_EUSAGE, "step must be positive");
	if ((rc = sql_begin(st, &s, q, d)))
		return rc;
	/* self: the stack's leaf (innermost) symbol is the function; total: any of its symbols is
	 * (a stack counts once however often the function recurses in it). */
	sql_printf(&s,
		   "SELECT %" PRId64 " + intDiv(time_ns - %" PRId64 " + %" PRId64 " - 1, %" PRId64
		   ") * %" PRId64 " AS t, sumIf(value, stack_id IN (SELECT stack_id FROM %s.stacks "
		   "WHERE tenant = ",
		   start, start, step_ns, step_ns, step_ns, s.db);
	sql_quote(&s, s.tenant);
	sql_printf(&s,
		   " AND symbols[1] IN (SELECT symbol_id FROM %s.symbols WHERE tenant = ", s.db);
	sql_quote(&s, s.tenant);
	sql_puts(&s, " AND name = ");
	sql_quote(&s, function);
	sql_printf(&s,
		   "))), sumIf(value, stack_id IN (SELECT stack_id FROM %s.stacks WHERE tenant = ",
		   s.db);
	sql_quote(&s, s.tenant);
	sql_printf(&s,
		   " AND hasAny(symbols, (SELECT groupArray(symbol_id) FROM %s.symbols WHERE "
		   "tenant = ",
		   s.db);
	sql_quote(&s, s.tenant);
	sql_puts(&s, " AND name = ");
	sql_quote(&s, function);
	sql_puts(&s, "))))");
	sql_samples(&s, q, NULL, 0);
	sql_puts(&s, " GROUP BY t ORDER BY t FORMAT TabSeparated");
	if ((rc = sql_run(st, &s, &body, "function series", d)))
		return rc;
	r = result_new();
	t = (struct ch_tsv){(char *)body.data, (char *)body.data + body.len};
	while ((k = ch_tsv_row(&t, f, len, 3)) > 0) {
		int64_t ts, self, tot;

		if (k != 3 || !ch_parse_i64(f[0], &ts) || !ch_parse_i64(f[1], &self) ||
		    !ch_parse_i64(f[2], &tot)) {
			k = -1;
			break;
		}
		if (n == cap) {
			struct store_point *np =
				arena_calloc(r->arena, cap ? 2 * cap : 64, sizeof(*np));

			if (n)
				memcpy(np, pt, n * sizeof(*np));
			pt = np;
			cap = cap ? 2 * cap : 64;
		}
		pt[n++] = (struct store_point){
			.time_ns = ts, .value = (double)tot, .self = self, .total = tot};
	}
	buf_fini(&body);
	if (k < 0) {
		store_result_free(r);
		return bad_body(d, "function series");
	}
	{
		struct store_series *ser = arena_calloc(r->arena, 1, sizeof(*ser));

		ser->points = pt;
		ser->n_points = n;
		r->series = ser;
		r->n_series = 1;
	}
	*out = r;
	return 0;
}

int ch_op_top(struct store *st, const struct store_query *q, size_t limit,
	      struct store_result **out, struct ember_diag *d)
{
	struct prof *p;
	int rc = ch_op_select_merge(st, q, NULL, 0, &p, d);

	*out = NULL;
	if (rc)
		return rc;
	rc = store_top_from_prof(p, limit, out);
	prof_free(p);
	return rc;
}
