/*
 * test_store.c — unit tests of the store API on the local backend: round trip through WAL
 * replay and blocks, matchers, label names/values/series, select-series (sum, avg, group by),
 * function series, top, diff, span selection, limits, selector parsing, group commit with
 * concurrent appenders, queries and cuts concurrent with appends, torn WAL tails and
 * quarantined blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/buf.h"
#include "store/store.h"
#include "test.h"
#include "test_store_fixture.h"

#define SEC 1000000000LL

static int add_std(struct store *s, const char *tenant, const char *svc, int64_t t, int64_t k)
{
	struct prof *p = fx_prof_new();
	int rc;

	fx_add(p, "main;work;hash", 10 * k, 0);
	fx_add(p, "main;work", 5 * k, 0);
	fx_add(p, "main;idle", 1 * k, 0);
	rc = fx_append(s, tenant, svc, t, p, NULL);
	prof_free(p);
	return rc;
}

static int merged(struct store *s, const char *svc, int64_t start, int64_t end, struct prof **p)
{
	struct store_matcher m = {STORE_LABEL_SERVICE, svc, STORE_MATCH_EQ};
	struct store_query q = {.profile_type = T_PTYPE,
				.matchers = &m,
				.n_matchers = svc ? 1 : 0,
				.start_ns = start,
				.end_ns = end};

	return store_select_merge(s, &q, p, NULL);
}

TEST(store_round_trip)
{
	struct store *s;
	struct prof *p;

	CHECK_OK(fx_open(test_tmpdir(), NULL, &s));
	for (int i = 0; i < 10; i++)
		CHECK_OK(add_std(s, NULL, "api", (100 + i) * SEC, 1));
	CHECK_OK(merged(s, "api", 0, 0, &p));
	CHECK_EQ_INT(fx_value(p, "main;work;hash"), 100);
	CHECK_EQ_INT(prof_total(p, 0), 160);
	prof_free(p);
	/* reopen: WAL replay */
	store_close(s);
	CHECK_OK(fx_open(test_tmpdir(), NULL, &s));
	CHECK_OK(merged(s, "api", 0, 0, &p));
	CHECK_EQ_INT(fx_value(p, "main;work"), 50);
	prof_free(p);
	/* cut to a block, more in the head, reopen */
	CHECK_OK(store_cut(s, NULL));
	CHECK_OK(add_std(s, NULL, "api", 200 * SEC, 2));
	{
		struct store_stats st;

		store_get_stats(s, &st);
		CHECK_EQ_INT(st.blocks, 1);
		CHECK_EQ_INT(st.block_samples, 30);
		CHECK_EQ_INT(st.head_samples, 3);
	}
	store_close(s);
	CHECK_OK(fx_open(test_tmpdir(), NULL, &s));
	CHECK_OK(merged(s, "api", 0, 0, &p));
	CHECK_EQ_INT(fx_value(p, "main;work;hash"), 120);
	CHECK_EQ_INT(fx_value(p, "main;idle"), 12);
	CHECK_EQ_INT(prof_n_sample_types(p), 1);
	CHECK_EQ_STR(prof_string(p, prof_sample_types(p)[0].type), "cpu");
	CHECK_EQ_INT(prof_meta_get(p)->period, 10000000);
	prof_free(p);
	/* time range: only the block's first half */
	CHECK_OK(merged(s, "api", 100 * SEC, 105 * SEC, &p));
	CHECK_EQ_INT(fx_value(p, "main;work;hash"), 50);
	prof_free(p);
	/* a second cut holds only the new head data; then everything is in blocks */
	CHECK_OK(store_cut(s, NULL));
	store_close(s);
	CHECK_OK(fx_open(test_tmpdir(), NULL, &s));
	CHECK_OK(merged(s, "api", 0, 0, &p));
	CHECK_EQ_INT(prof_total(p, 0), 192);
	prof_free(p);
	store_close(s);
}

TEST(store_matchers_and_labels)
{
	struct store *s;
	struct prof *p;
	struct store_result *r;
	struct ember_diag d = {{0}};

	CHECK_OK(fx_open(test_tmpdir(), NULL, &s));
	CHECK_OK(add_std(s, NULL, "api", 10 * SEC, 1));
	CHECK_OK(add_std(s, NULL, "web", 11 * SEC, 2));
	CHECK_OK(add_std(s, NULL, "worker", 12 * SEC, 4));
	CHECK_OK(add_std(s, "other", "api", 12 * SEC, 100));
	CHECK_OK(store_cut(s, NULL));
	CHECK_OK(add_std(s, NULL, "web", 13 * SEC, 8));
	{
		struct store_matcher m = {STORE_LABEL_SERVICE, "w.*", STORE_MATCH_RE};
		struct store_query q = {.profile_type = T_PTYPE, .matchers = &m, .n_matchers = 1};

		CHECK_OK(store_select_merge(s, &q, &p, NULL));
		CHECK_EQ_INT(prof_total(p, 0), 16 * 14);
		prof_free(p);
		m.op = STORE_MATCH_NRE;
		CHECK_OK(store_select_merge(s, &q, &p, NULL));
		CHECK_EQ_INT(prof_total(p, 0), 16);
		prof_free(p);
		m.op = STORE_MATCH_NEQ;
		m.value = "web";
		CHECK_OK(store_select_merge(s, &q, &p, NULL));
		CHECK_EQ_INT(prof_total(p, 0), 16 * 5);
		prof_free(p);
		/* regex is anchored: "w" alone matches nothing */
		m.op = STORE_MATCH_RE;
		m.value = "w";
		CHECK_OK(store_select_merge(s, &q, &p, NULL));
		CHECK_EQ_INT(prof_total(p, 0), 0);
		prof_free(p);
		/* missing label matches "" */
		m.name = "env";
		m.value = "";
		m.op = STORE_MATCH_EQ;
		CHECK_OK(store_select_merge(s, &q, &p, NULL));
		CHECK_EQ_INT(prof_total(p, 0), 16 * 15);
		prof_free(p);
		m.value = "(";
		m.op = STORE_MATCH_RE;
		CHECK_EQ_INT(store_select_merge(s, &q, &p, &d), -EMBER_EUSAGE);
		CHECK(strstr(d.msg, "bad regex") != NULL);
	}
	{
		struct store_query q = {0};

		CHECK_OK(store_label_values(s, &q, STORE_LABEL_SERVICE, &r, NULL));
		CHECK_EQ_INT(r->n_strings, 3);
		CHECK_EQ_STR(r->strings[0], "api");
		CHECK_EQ_STR(r->strings[2], "worker");
		store_result_free(r);
		q.tenant = "other";
		CHECK_OK(store_label_values(s, &q, STORE_LABEL_SERVICE, &r, NULL));
		CHECK_EQ_INT(r->n_strings, 1);
		store_result_free(r);
		q.tenant = NULL;
		q.start_ns = 12 * SEC;
		CHECK_OK(store_label_values(s, &q, STORE_LABEL_SERVICE, &r, NULL));
		CHECK_EQ_INT(r->n_strings, 2); /* web (13 s), worker (12 s) */
		store_result_free(r);
		q.start_ns = 0;
		CHECK_OK(store_label_names(s, &q, &r, NULL));
		CHECK_EQ_INT(r->n_strings, 3);
		CHECK_EQ_STR(r->strings[0], STORE_LABEL_NAME);
		CHECK_EQ_STR(r->strings[1], STORE_LABEL_PROFILE_TYPE);
		CHECK_EQ_STR(r->strings[2], STORE_LABEL_SERVICE);
		store_result_free(r);
		CHECK_OK(store_series_list(s, &q, &r, NULL));
		CHECK_EQ_INT(r->n_sets, 3);
		CHECK_EQ_INT(r->sets[0].n, 3);
		CHECK_EQ_STR(r->sets[0].labels[1].value, T_PTYPE);
		CHECK_EQ_STR(r->sets[0].labels[2].value, "api");
		store_result_free(r);
	}
	store_close(s);
}

TEST(store_select_series_and_functions)
{
	struct store *s;
	struct store_result *r;

	CHECK_OK(fx_open(test_tmpdir(), NULL, &s));
	for (int i = 0; i < 6; i++) {
		CHECK_OK(add_std(s, NULL, "api", (i * 10 + 1) * SEC, 1));
		CHECK_OK(add_std(s, NULL, "web", (i * 10 + 2) * SEC, 2));
		if (i == 2)
			CHECK_OK(store_cut(s, NULL));
	}
	{
		const char *gb[] = {STORE_LABEL_SERVICE};
		struct store_series_opts o = {.step_ns = 20 * SEC, .group_by = gb, .n_group_by = 1};
		struct store_query q = {.profile_type = T_PTYPE, .start_ns = 0, .end_ns = 60 * SEC};

		CHECK_OK(store_select_series(s, &q, &o, &r, NULL));
		CHECK_EQ_INT(r->n_series, 2);
		/* ordered by total: web first */
		CHECK_EQ_STR(r->series[0].labels.labels[0].value, "web");
		CHECK_EQ_INT(r->series[0].n_points, 3); /* steps at 20, 40 and 60 s */
		CHECK_EQ_INT(r->series[0].points[0].time_ns, 20 * SEC);
		CHECK(r->series[0].points[0].value == 2 * 32.0);
		store_result_free(r);
		o.agg = STORE_AGG_AVG;
		o.n_group_by = 0;
		o.limit = 1;
		CHECK_OK(store_select_series(s, &q, &o, &r, NULL));
		CHECK_EQ_INT(r->n_series, 1);
		CHECK(r->series[0].points[0].value == (16.0 + 32.0 + 16.0 + 32.0) / 4);
		store_result_free(r);
	}
	{
		struct store_query q = {.profile_type = T_PTYPE};

		CHECK_OK(store_function_series(s, &q, "work", 100 * SEC, &r, NULL));
		CHECK_EQ_INT(r->n_series, 1);
		CHECK_EQ_INT(r->series[0].n_points, 1);
		CHECK_EQ_INT(r->series[0].points[0].self, 6 * 15);
		CHECK_EQ_INT(r->series[0].points[0].total, 6 * 45);
		store_result_free(r);
		CHECK_OK(store_top(s, &q, 2, &r, NULL));
		CHECK_EQ_INT(r->n_top, 2);
		CHECK_EQ_STR(r->top[0].name, "hash");
		CHECK_EQ_INT(r->top[0].self, 6 * 30);
		CHECK_EQ_STR(r->top[1].name, "work");
		CHECK_EQ_INT(r->top[1].total, 6 * 45);
		CHECK_EQ_INT(r->total, 6 * 48);
		store_result_free(r);
	}
	{
		struct store_matcher m = {STORE_LABEL_SERVICE, "api", STORE_MATCH_EQ};
		struct store_query a = {.profile_type = T_PTYPE, .matchers = &m, .n_matchers = 1};
		struct store_query b = a;
		struct prof *l, *rr;

		a.end_ns = 30 * SEC;
		b.start_ns = 30 * SEC;
		CHECK_OK(store_diff(s, &a, &b, &l, &rr, NULL));
		CHECK_EQ_INT(prof_total(l, 0), 3 * 16);
		CHECK_EQ_INT(prof_total(rr, 0), 3 * 16);
		prof_free(l);
		prof_free(rr);
	}
	store_close(s);
}

TEST(store_spans)
{
	struct store *s;
	struct prof *p = fx_prof_new(), *out;
	uint64_t want[] = {0xabc};
	struct store_query q = {.profile_type = T_PTYPE};

	CHECK_OK(fx_open(test_tmpdir(), NULL, &s));
	fx_add(p, "main;a", 5, 0xabc);
	fx_add(p, "main;a", 7, 0xdef);
	fx_add(p, "main;b", 3, 0xabc);
	fx_add(p, "main;c", 1, 0);
	CHECK_OK(fx_append(s, NULL, "api", 5 * SEC, p, NULL));
	prof_free(p);
	CHECK_OK(store_select_spans(s, &q, want, 1, &out, NULL));
	CHECK_EQ_INT(prof_total(out, 0), 8);
	CHECK_EQ_INT(fx_value(out, "main;a"), 5);
	prof_free(out);
	CHECK_OK(store_cut(s, NULL));
	CHECK_OK(store_select_spans(s, &q, want, 1, &out, NULL));
	CHECK_EQ_INT(prof_total(out, 0), 8);
	prof_free(out);
	CHECK_OK(store_select_merge(s, &q, &out, NULL));
	CHECK_EQ_INT(prof_total(out, 0), 16);
	CHECK_EQ_INT(fx_value(out, "main;a"), 12);
	prof_free(out);
	store_close(s);
}

TEST(store_limits)
{
	struct store_opts o = {.dir = test_tmpdir()};
	struct store *s;
	struct ember_diag d = {{0}};
	struct prof *p = fx_prof_new();
	char deep[4096] = "";

	o.limits.max_series_per_tenant = 2;
	o.limits.max_stack_depth = 8;
	o.limits.max_label_value_len = 64;
	CHECK_OK(store_open(&o, &s, &d));
	fx_add(p, "main;x", 1, 0);
	CHECK_OK(fx_append(s, NULL, "a", SEC, p, &d));
	CHECK_OK(fx_append(s, NULL, "b", SEC, p, &d));
	CHECK_OK(fx_append(s, NULL, "a", 2 * SEC, p, &d));
	CHECK_EQ_INT(fx_append(s, NULL, "c", SEC, p, &d), -EMBER_ELIMIT);
	CHECK(strstr(d.msg, "too many series") != NULL);
	CHECK_EQ_INT(fx_append(s, "bad/tenant", "a", SEC, p, &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(fx_append(s, NULL,
			       "0123456789012345678901234567890123456789"
			       "0123456789012345678901234567890123456789",
			       SEC, p, &d),
		     -EMBER_ELIMIT);
	prof_free(p);
	p = fx_prof_new();
	for (int i = 0; i < 9; i++)
		memcpy(deep + strlen(deep), i ? ";f" : "f", i ? 3 : 2);
	fx_add(p, deep, 1, 0);
	CHECK_EQ_INT(fx_append(s, NULL, "a", SEC, p, &d), -EMBER_ELIMIT);
	CHECK(strstr(d.msg, "deeper") != NULL);
	prof_free(p);
	{
		struct store_label l[2] = {{"x", "1"}, {"x", "2"}};
		struct prof *q = fx_prof_new();
		struct store_append a = {.labels = l, .n_labels = 2, .prof = q, .time_ns = 1};

		fx_add(q, "main", 1, 0);
		CHECK_EQ_INT(store_append(s, &a, &d), -EMBER_EUSAGE);
		l[1].name = "1bad";
		CHECK_EQ_INT(store_append(s, &a, &d), -EMBER_EUSAGE);
		prof_free(q);
	}
	store_close(s);
}

TEST(store_selector_parse)
{
	struct arena *a = arena_new(MEM_TEST, 4096);
	struct store_matcher *m;
	size_t n;
	struct ember_diag d = {{0}};

	CHECK_OK(store_matchers_parse("{service_name=\"api\", env=~\"prod.*\",x!='y', z !~ "
				      "\"a\\\"b\"}",
				      a, &m, &n, &d));
	CHECK_EQ_INT(n, 4);
	CHECK_EQ_STR(m[0].name, "service_name");
	CHECK_EQ_STR(m[0].value, "api");
	CHECK_EQ_INT(m[1].op, STORE_MATCH_RE);
	CHECK_EQ_INT(m[2].op, STORE_MATCH_NEQ);
	CHECK_EQ_INT(m[3].op, STORE_MATCH_NRE);
	CHECK_EQ_STR(m[3].value, "a\"b");
	CHECK_OK(store_matchers_parse("{}", a, &m, &n, &d));
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(store_matchers_parse("{a=\"x\"", a, &m, &n, &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(store_matchers_parse("{a=x}", a, &m, &n, &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(store_matchers_parse("{a==\"x\"}", a, &m, &n, &d), -EMBER_EUSAGE);
	CHECK_EQ_INT(store_span_id_parse("00000000000000ff", 16), 255);
	CHECK_EQ_INT(store_span_id_parse("xyz", 3), 0);
	arena_free(a);
}

struct gc_arg {
	struct store *s;
	int id;
	int fails;
};

static void *gc_thread(void *arg)
{
	struct gc_arg *g = arg;

	for (int i = 0; i < 50; i++)
		if (add_std(g->s, NULL, "svc", (g->id * 1000 + i + 1) * SEC, 1))
			g->fails++;
	return NULL;
}

TEST(store_group_commit)
{
	struct store_opts o = {.dir = test_tmpdir(), .commit_delay_us = 200};
	struct store *s;
	pthread_t th[8];
	struct gc_arg ga[8];
	struct store_stats st;
	struct prof *p;

	CHECK_OK(store_open(&o, &s, NULL));
	for (int i = 0; i < 8; i++) {
		ga[i] = (struct gc_arg){s, i, 0};
		pthread_create(&th[i], NULL, gc_thread, &ga[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ_INT(ga[i].fails, 0);
	}
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.appends, 400);
	CHECK(st.fsyncs < st.appends); /* shared fsyncs */
	CHECK_OK(merged(s, "svc", 0, 0, &p));
	CHECK_EQ_INT(prof_total(p, 0), 400 * 16);
	prof_free(p);
	store_close(s);
}

static int count_files(const char *dir)
{
	char cmd[1200];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls '%s' | wc -l", dir);
	f = popen(cmd, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

TEST(store_torn_wal_and_corrupt_block)
{
	struct store *s;
	struct store_stats st;
	struct prof *p;
	char path[1024], cmd[1024];
	const char *dir = test_tmpdir();

	CHECK_OK(fx_open(dir, NULL, &s));
	CHECK_OK(add_std(s, NULL, "api", SEC, 1));
	CHECK_OK(store_cut(s, NULL));
	CHECK_OK(add_std(s, NULL, "api", 2 * SEC, 2));
	CHECK_OK(add_std(s, NULL, "api", 3 * SEC, 4));
	store_close(s);
	/* chop 3 bytes off the last WAL record, flip a byte in the middle of the block */
	snprintf(cmd, sizeof(cmd),
		 "cd '%s/wal' && f=$(ls | tail -n 1) && truncate -s -3 $f && cd ../blocks/* && "
		 "printf '\\x55' | dd of=anonymous.blk bs=1 seek=60 conv=notrunc status=none",
		 dir);
	CHECK_OK(system(cmd));
	CHECK_OK(fx_open(dir, NULL, &s));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.replayed, 1);
	CHECK(st.truncated_bytes > 0);
	CHECK_EQ_INT(st.quarantined, 1);
	CHECK_EQ_INT(st.blocks, 0);
	CHECK_OK(merged(s, "api", 0, 0, &p));
	CHECK_EQ_INT(prof_total(p, 0), 32);
	prof_free(p);
	/* the store stays writable */
	CHECK_OK(add_std(s, NULL, "api", 4 * SEC, 1));
	store_close(s);
	snprintf(path, sizeof(path), "%s/quarantine", dir);
	CHECK_EQ_INT(count_files(path), 1);
	CHECK_OK(fx_open(dir, NULL, &s));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.truncated_bytes, 0);
	CHECK_EQ_INT(st.replayed, 2);
	store_close(s);
}

TEST(store_crc32c)
{
	uint8_t b[100];

	CHECK_EQ_INT(store_crc32c(0, "123456789", 9), 0xe3069283);
	for (int i = 0; i < 100; i++)
		b[i] = (uint8_t)(i * 7);
	CHECK_EQ_INT(store_crc32c(store_crc32c(0, b, 37), b + 37, 63), store_crc32c(0, b, 100));
}

/* Queries and cuts running while appenders write: every merge sees each append at most once
 * and at least every append acknowledged before it started (cuts are atomic for readers). */
struct conc {
	struct store *s;
	atomic_int started, acked, stop, bad, fails;
};

static void *conc_appender(void *arg)
{
	struct conc *c = arg;

	for (int i = 0; !atomic_load(&c->stop) && i < 400; i++) {
		atomic_fetch_add(&c->started, 1);
		if (add_std(c->s, NULL, "svc", (i + 1) * SEC, 1))
			atomic_fetch_add(&c->fails, 1);
		else
			atomic_fetch_add(&c->acked, 1);
	}
	return NULL;
}

static void *conc_reader(void *arg)
{
	struct conc *c = arg;

	while (!atomic_load(&c->stop)) {
		int before = atomic_load(&c->acked);
		struct prof *p;

		if (merged(c->s, "svc", 0, 0, &p)) {
			atomic_fetch_add(&c->bad, 1);
			continue;
		}
		if (prof_total(p, 0) % 16 || prof_total(p, 0) / 16 < before ||
		    prof_total(p, 0) / 16 > atomic_load(&c->started))
			atomic_fetch_add(&c->bad, 1);
		prof_free(p);
	}
	return NULL;
}

TEST(store_concurrent_queries_and_cuts)
{
	struct conc c = {0};
	pthread_t app[2], rd;
	struct prof *p;

	CHECK_OK(fx_open(test_tmpdir(), NULL, &c.s));
	pthread_create(&app[0], NULL, conc_appender, &c);
	pthread_create(&app[1], NULL, conc_appender, &c);
	pthread_create(&rd, NULL, conc_reader, &c);
	for (int i = 0; i < 10; i++) {
		usleep(20000);
		if (store_cut(c.s, NULL))
			atomic_fetch_add(&c.bad, 1);
	}
	pthread_join(app[0], NULL);
	pthread_join(app[1], NULL);
	atomic_store(&c.stop, 1);
	pthread_join(rd, NULL);
	CHECK_EQ_INT(atomic_load(&c.fails), 0);
	CHECK_EQ_INT(atomic_load(&c.bad), 0);
	CHECK_OK(merged(c.s, "svc", 0, 0, &p));
	CHECK_EQ_INT(prof_total(p, 0), 16 * atomic_load(&c.acked));
	prof_free(p);
	store_close(c.s);
}

/* A record whose checksum holds but whose payload is not a record is skipped; the records
 * after it still replay. */
TEST(store_wal_skips_undecodable_record)
{
	const char *dir = test_tmpdir();
	struct store *s;
	struct store_stats st;
	struct prof *p;
	char path[1024];
	struct buf seg, out;
	uint8_t bad[9] = {1, 0, 0, 0, 0, 0, 0, 0, 7}; /* length 1, payload "\x07" */

	CHECK_OK(fx_open(dir, NULL, &s));
	CHECK_OK(add_std(s, NULL, "api", SEC, 1));
	store_close(s);
	snprintf(path, sizeof(path), "%s/wal/0000000000000001.wal", dir);
	buf_init(&seg, MEM_TEST, 1 << 20);
	buf_init(&out, MEM_TEST, 1 << 20);
	CHECK_OK(buf_read_file(&seg, path));
	{
		uint32_t crc = store_crc32c(store_crc32c(0, bad, 4), bad + 8, 1);

		for (int i = 0; i < 4; i++)
			bad[4 + i] = (uint8_t)(crc >> (8 * i));
	}
	CHECK_OK(buf_append(&out, seg.data, 16));
	CHECK_OK(buf_append(&out, bad, sizeof(bad)));
	CHECK_OK(buf_append(&out, seg.data + 16, seg.len - 16));
	CHECK_OK(buf_write_file(&out, path));
	buf_fini(&seg);
	buf_fini(&out);
	CHECK_OK(fx_open(dir, NULL, &s));
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.skipped_records, 1);
	CHECK_EQ_INT(st.replayed, 1);
	CHECK_OK(merged(s, "api", 0, 0, &p));
	CHECK_EQ_INT(prof_total(p, 0), 16);
	prof_free(p);
	store_close(s);
}
