/*
 * ch_store.c — struct store_ops on ClickHouse: open (URL, schema check/creation on every listed
 * node), append (validates and formats one append's rows per table, then hands them to the
 * writer of ch_batch.c, which acknowledges them only after the INSERTs holding them
 * succeeded), stats, close, and ch_store_query for the read side (ch_query.c) on a connection
 * of its own (up to 4 reads at once), so reads never wait behind inserts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "store/clickhouse/ch.h"
#include "store/split.h"

#define CH_BATCH_MAX  ((size_t)256 << 20) /* bytes of one table's rows in one append */
#define CH_READ_CONNS 4			  /* reads running at once */

struct ch_store {
	struct store base;
	struct store_limits limits;
	pthread_mutex_t lock; /* read connections and appends */
	pthread_cond_t conn_free;
	struct ch_conn conn[CH_READ_CONNS]; /* reads, separate from the writer's */
	bool conn_busy[CH_READ_CONNS];
	struct ch_writer *writer;
	uint64_t appends;
};

static uint64_t ch_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define CH_FNV_INIT 0xcbf29ce484222325ULL

bool ch_tenant_ok(const char *t)
{
	size_t i, n = strlen(t);

	if (!n || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
		      (t[i] >= '0' && t[i] <= '9') || strchr("_.-", t[i])))
			return false;
	return true;
}

static int ch_label_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_label *)a)->name, ((const struct store_label *)b)->name);
}

/* One append's rows, one buffer per table. */
struct ch_fmt {
	struct ch_rows r;
	const char *tenant;
	const struct prof *p;
	uint64_t *node_stack; /* stack id per node, 0 = not computed */
	uint8_t *loc_done;    /* symbols of this location written */
	uint64_t *frames;     /* scratch: symbol ids of one stack */
	size_t n_frames_cap;
};

static int ch_tsv_str(struct buf *b, const char *s)
{
	return ch_tsv_escape(b, s, strlen(s));
}

static uint64_t ch_symbol_id(const char *name, const char *file)
{
	return ch_fnv(ch_fnv(CH_FNV_INIT, name, strlen(name) + 1), file, strlen(file));
}

static const char *ch_frame_file(const struct prof *p, uint32_t loc, uint32_t i)
{
	struct prof_location l;
	const struct prof_function *f;

	prof_location_get(p, loc, &l);
	if (i >= l.n_lines || !l.lines[i].function)
		return "";
	f = prof_function_get(p, l.lines[i].function);
	return f ? prof_string(p, f->filename) : "";
}

/* The stack id of a node (leaf), writing stacks/symbols rows the first time. */
static int ch_stack(struct ch_fmt *b, uint32_t node, uint32_t max_depth, uint64_t *out,
		    struct ember_diag *d)
{
	const struct prof *p = b->p;
	size_t n = 0, k;
	uint32_t nd, depth = 0;
	uint64_t h = CH_FNV_INIT;
	int rc = 0;

	if (b->node_stack[node]) {
		*out = b->node_stack[node];
		return 0;
	}
	for (nd = node; nd; nd = prof_node_parent(p, nd)) {
		uint32_t loc = prof_node_location(p, nd), nf = prof_location_n_frames(p, loc), i;

		if (++depth > max_depth)
			return ember_diag_set(d, -EMBER_ELIMIT,
					      "clickhouse: stack deeper than %u locations",
					      max_depth);
		for (i = 0; i < nf; i++) {
			char tmp[80];
			const char *name = prof_frame_name(p, loc, i, tmp);
			const char *file = ch_frame_file(p, loc, i);
			uint64_t sid = ch_symbol_id(name, file);

			if (n == b->n_frames_cap)
				mem_grow(MEM_STORE, (void **)&b->frames, &b->n_frames_cap, n + 1,
					 sizeof(*b->frames));
			b->frames[n++] = sid;
			h = ch_fnv(h, &sid, sizeof(sid));
			if (b->loc_done[loc])
				continue;
			rc = rc ?: ch_tsv_str(&b->r.t[CH_T_SYMBOLS], b->tenant);
			rc = rc
				     ?: buf_printf(&b->r.t[CH_T_SYMBOLS], "\t%llu\t",
						   (unsigned long long)sid);
			rc = rc ?: ch_tsv_str(&b->r.t[CH_T_SYMBOLS], name);
			rc = rc ?: buf_putc(&b->r.t[CH_T_SYMBOLS], '\t');
			rc = rc ?: ch_tsv_str(&b->r.t[CH_T_SYMBOLS], file);
			rc = rc ?: buf_putc(&b->r.t[CH_T_SYMBOLS], '\n');
		}
		b->loc_done[loc] = 1;
	}
	if (!h)
		h = 1;
	rc = rc ?: ch_tsv_str(&b->r.t[CH_T_STACKS], b->tenant);
	rc = rc ?: buf_printf(&b->r.t[CH_T_STACKS], "\t%llu\t[", (unsigned long long)h);
	for (k = 0; !rc && k < n; k++)
		rc = buf_printf(&b->r.t[CH_T_STACKS], "%s%llu", k ? "," : "",
				(unsigned long long)b->frames[k]);
	rc = rc ?: buf_append(&b->r.t[CH_T_STACKS], "]\n", 2);
	if (rc)
		return ember_diag_set(d, rc, "clickhouse: append batch larger than %zu bytes",
				      CH_BATCH_MAX);
	b->node_stack[node] = h;
	*out = h;
	return 0;
}

static uint64_t ch_sample_span(const struct prof *p, uint32_t labelset)
{
	size_t n, i;
	const struct prof_label *l = prof_labelset_get(p, labelset, &n);

	for (i = 0; l && i < n; i++)
		if (l[i].str && store_split_key_is_span(prof_string(p, l[i].key)))
			return store_span_id_parse(prof_string(p, l[i].str),
						   prof_string_len(p, l[i].str));
	return 0;
}

/* Rows for the series of sample type `vi` and series group g of the split. */
static int ch_series_rows(struct ch_store *s, struct ch_fmt *b, const struct store_split *sp,
			  uint32_t g, const char *name, int64_t t, size_t vi, struct ember_diag *d)
{
	const struct prof *p = b->p;
	const struct prof_meta *m = prof_meta_get(p);
	const struct prof_value_type *vt = &prof_sample_types(p)[vi];
	const struct store_labelset *gl = &sp->sets[g];
	size_t n = gl->n + 2, i, j, ns = prof_n_samples(p), nst = prof_n_sample_types(p);
	struct store_label *ls;
	char ptype[1024];
	uint64_t fp = CH_FNV_INIT;
	int64_t total = 0;
	uint32_t n_out = 0;
	int rc = 0;

	snprintf(ptype, sizeof(ptype), "%s:%s:%s:%s:%s", name, prof_string(p, vt->type),
		 prof_string(p, vt->unit), prof_string(p, m->period_type.type),
		 prof_string(p, m->period_type.unit));
	ls = mem_calloc(MEM_STORE, n, sizeof(*ls));
	for (i = j = 0; i < gl->n; i++)
		if (strcmp(gl->labels[i].name, STORE_LABEL_NAME) &&
		    strcmp(gl->labels[i].name, STORE_LABEL_PROFILE_TYPE))
			ls[j++] = gl->labels[i];
	ls[j++] = (struct store_label){STORE_LABEL_NAME, name};
	ls[j++] = (struct store_label){STORE_LABEL_PROFILE_TYPE, ptype};
	n = j;
	qsort(ls, n, sizeof(*ls), ch_label_cmp);
	for (i = 0; i < n; i++) {
		fp = ch_fnv(fp, ls[i].name, strlen(ls[i].name) + 1);
		fp = ch_fnv(fp, ls[i].value, strlen(ls[i].value) + 1);
	}
	rc = rc ?: ch_tsv_str(&b->r.t[CH_T_SERIES], b->tenant);
	rc = rc ?: buf_printf(&b->r.t[CH_T_SERIES], "\t%llu\t", (unsigned long long)fp);
	rc = rc ?: ch_tsv_str(&b->r.t[CH_T_SERIES], ptype);
	rc = rc ?: buf_putc(&b->r.t[CH_T_SERIES], '\t');
	rc = rc ?: ch_tsv_str(&b->r.t[CH_T_SERIES], name);
	for (j = 0; j < 2; j++) {
		rc = rc ?: buf_append(&b->r.t[CH_T_SERIES], "\t[", 2);
		for (i = 0; !rc && i < n; i++) {
			const char *v = j ? ls[i].value : ls[i].name;

			/* Array elements in TabSeparated: quoted as in SQL, tabs and newlines
			 * escaped by ch_sql_quote, no second level of escaping. */
			rc = rc ?: (i ? buf_putc(&b->r.t[CH_T_SERIES], ',') : 0);
			rc = rc ?: ch_sql_quote(&b->r.t[CH_T_SERIES], v, strlen(v));
		}
		rc = rc ?: buf_putc(&b->r.t[CH_T_SERIES], ']');
	}
	rc = rc ?: buf_putc(&b->r.t[CH_T_SERIES], '\n');
	mem_free(ls);
	for (i = 0; !rc && i < ns; i++) {
		struct prof_sample smp;
		uint64_t sid = 0;

		prof_sample_get(p, i, &smp);
		if (vi >= nst || !smp.values[vi] || sp->group_of[smp.labelset] != g)
			continue;
		rc = ch_stack(b, smp.node, s->limits.max_stack_depth, &sid, d);
		if (rc)
			return rc;
		rc = ch_tsv_str(&b->r.t[CH_T_SAMPLES], b->tenant);
		rc = rc
			     ?: buf_printf(&b->r.t[CH_T_SAMPLES],
					   "\t%llu\t%lld\t%llu\t%lld\t%llu\n",
					   (unsigned long long)fp, (long long)t,
					   (unsigned long long)sid, (long long)smp.values[vi],
					   (unsigned long long)ch_sample_span(p, smp.labelset));
		total += smp.values[vi];
		n_out++;
		b->r.n_samples++;
	}
	rc = rc ?: ch_tsv_str(&b->r.t[CH_T_PROFILES], b->tenant);
	rc = rc
		     ?: buf_printf(&b->r.t[CH_T_PROFILES], "\t%llu\t%lld\t%lld\t%lld\t%lld\t%u\n",
				   (unsigned long long)fp, (long long)t, (long long)m->duration_ns,
				   (long long)m->period, (long long)total, n_out);
	if (rc)
		return ember_diag_set(d, rc, "clickhouse: append batch larger than %zu bytes",
				      CH_BATCH_MAX);
	return 0;
}

static int ch_append(struct store *st, const struct store_append *a, struct ember_diag *d)
{
	struct ch_store *s = (struct ch_store *)st;
	const struct prof *p = a->prof;
	struct ch_fmt b = {0};
	struct store_split sp;
	const char *name = a->name;
	int64_t t = a->time_ns;
	size_t i, nst;
	int rc = 0;

	if (!p || !prof_n_samples(p))
		return ember_diag_set(d, -EMBER_EUSAGE, "clickhouse: empty profile");
	b.tenant = a->tenant && *a->tenant ? a->tenant : "anonymous";
	if (!ch_tenant_ok(b.tenant))
		return ember_diag_set(d, -EMBER_EUSAGE, "clickhouse: bad tenant \"%.80s\"",
				      b.tenant);
	nst = prof_n_sample_types(p);
	if (!nst || nst > s->limits.max_sample_types)
		return ember_diag_set(d, -EMBER_ELIMIT, "clickhouse: %zu sample types (1..%u)", nst,
				      s->limits.max_sample_types);
	if (a->n_labels + 2 > s->limits.max_labels_per_series)
		return ember_diag_set(d, -EMBER_ELIMIT, "clickhouse: more than %u labels",
				      s->limits.max_labels_per_series);
	for (i = 0; i < a->n_labels; i++) {
		if (!a->labels[i].name || !a->labels[i].value || !*a->labels[i].name)
			return ember_diag_set(d, -EMBER_EUSAGE, "clickhouse: label %zu is empty",
					      i);
		if (strlen(a->labels[i].name) > s->limits.max_label_name_len ||
		    strlen(a->labels[i].value) > s->limits.max_label_value_len)
			return ember_diag_set(d, -EMBER_ELIMIT,
					      "clickhouse: label \"%.64s\" too long",
					      a->labels[i].name);
		if (!name && !strcmp(a->labels[i].name, STORE_LABEL_NAME))
			name = a->labels[i].value;
	}
	if (!name || !*name)
		name = "unknown";
	if (!t)
		t = prof_meta_get(p)->time_ns;
	rc = store_split_build(p, a->labels, a->n_labels, &s->limits, &sp, d);
	if (rc)
		return rc;
	b.p = p;
	b.r.t_min = b.r.t_max = t;
	for (i = 0; i < CH_T_N; i++)
		buf_init(&b.r.t[i], MEM_STORE, CH_BATCH_MAX);
	b.node_stack = mem_calloc(MEM_STORE, prof_n_nodes(p) + 1, sizeof(*b.node_stack));
	b.loc_done = mem_calloc(MEM_STORE, prof_n_locations(p) + 1, 1);
	for (uint32_t g = 0; !rc && g < sp.n_groups; g++)
		for (i = 0; !rc && i < nst; i++)
			rc = ch_series_rows(s, &b, &sp, g, name, t, i, d);
	store_split_fini(&sp);
	/* The writer inserts dictionaries first, samples last: a reader never sees a sample
	 * whose stack is missing; a failure leaves at most unreferenced dictionary rows. */
	rc = rc ?: ch_writer_append(s->writer, &b.r, d);
	if (!rc) {
		pthread_mutex_lock(&s->lock);
		s->appends++;
		pthread_mutex_unlock(&s->lock);
	}
	for (i = 0; i < CH_T_N; i++)
		buf_fini(&b.r.t[i]);
	mem_free(b.node_stack);
	mem_free(b.loc_done);
	mem_free(b.frames);
	return rc;
}

/* Runs one read statement; see ch.h. */
int ch_store_query(struct store *st, const char *sql, struct buf *out, struct ember_diag *d)
{
	struct ch_store *s = (struct ch_store *)st;
	size_t i;
	int rc;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		for (i = 0; i < CH_READ_CONNS && s->conn_busy[i]; i++)
			;
		if (i < CH_READ_CONNS)
			break;
		pthread_cond_wait(&s->conn_free, &s->lock);
	}
	s->conn_busy[i] = true;
	pthread_mutex_unlock(&s->lock);
	rc = ch_query(&s->conn[i], sql, NULL, out, d);
	pthread_mutex_lock(&s->lock);
	s->conn_busy[i] = false;
	pthread_cond_signal(&s->conn_free);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

const char *ch_store_db(struct store *st)
{
	return ((struct ch_store *)st)->conn[0].db;
}

static int ch_cut(struct store *st, struct ember_diag *d)
{
	(void)st, (void)d;
	return 0; /* nothing acknowledged is buffered: appends return after their batch */
}

static int ch_compact(struct store *st, struct ember_diag *d)
{
	(void)st, (void)d;
	return 0; /* ClickHouse merges parts itself; retention: TTL or the writer's drops */
}

static void ch_stats(struct store *st, struct store_stats *out)
{
	struct ch_store *s = (struct ch_store *)st;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->lock);
	out->appends = s->appends;
	pthread_mutex_unlock(&s->lock);
	out->error = ch_writer_health(s->writer); /* -EAGAIN while ClickHouse is unreachable */
}

static void ch_close(struct store *st)
{
	struct ch_store *s = (struct ch_store *)st;

	ch_writer_stop(s->writer);
	for (size_t i = 0; i < CH_READ_CONNS; i++)
		ch_conn_fini(&s->conn[i]);
	pthread_cond_destroy(&s->conn_free);
	pthread_mutex_destroy(&s->lock);
	mem_free(s);
}

static const struct store_ops ch_ops = {
	.name = "clickhouse",
	.append = ch_append,
	.label_names = ch_op_label_names,
	.label_values = ch_op_label_values,
	.series = ch_op_series,
	.select_merge = ch_op_select_merge,
	.select_series = ch_op_select_series,
	.function_series = ch_op_function_series,
	.top = ch_op_top,
	.cut = ch_cut,
	.compact = ch_compact,
	.stats = ch_stats,
	.close = ch_close,
};

static uint32_t ch_def(uint32_t v, uint32_t def)
{
	return v ? v : def;
}

int store_clickhouse_open(const struct store_opts *o, struct store **out, struct ember_diag *d)
{
	struct ch_store *s;
	struct ch_url *u;
	size_t h;
	int rc;

	*out = NULL;
	s = mem_calloc(MEM_STORE, 1, sizeof(*s));
	s->base.ops = &ch_ops;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->conn_free, NULL);
	s->limits = o->limits;
	s->limits.max_labels_per_series = ch_def(o->limits.max_labels_per_series, 32);
	s->limits.max_label_name_len = ch_def(o->limits.max_label_name_len, 256);
	s->limits.max_label_value_len = ch_def(o->limits.max_label_value_len, 2048);
	s->limits.max_stack_depth = ch_def(o->limits.max_stack_depth, 1024);
	s->limits.max_sample_types = ch_def(o->limits.max_sample_types, 16);
	u = mem_calloc(MEM_STORE, 1, sizeof(*u));
	rc = ch_url_parse(o->url, u, d);
	if (!rc && !u->retention_days && o->retention_ns > 0)
		u->retention_days = (uint32_t)EMBER_MIN(
			(o->retention_ns + 86400LL * 1000000000 - 1) / (86400LL * 1000000000),
			(int64_t)36600);
	/* No distributed DDL (it needs ZooKeeper): the schema is made on every listed node. */
	for (h = 0; !rc && h < u->n_hosts; h++) {
		struct ch_conn c;

		rc = ch_conn_open(&c, u, h, d);
		rc = rc ?: ch_schema_ensure(&c, u->cluster, u->retention_days, d);
		ch_conn_fini(&c);
	}
	for (h = 0; !rc && h < CH_READ_CONNS; h++)
		rc = ch_conn_open(&s->conn[h], u, 0, d);
	rc = rc ?: ch_writer_start(u, &s->writer, d);
	mem_free(u);
	if (rc) {
		ch_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}
