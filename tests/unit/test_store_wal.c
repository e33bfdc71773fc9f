/*
 * test_store_wal.c — the WAL's delta records: an append repeats none of the symbols the
 * head's dictionary already has (the log grows by samples, not by symbol tables), a reopen
 * replays them into the same data, and a segment written against a fresh, empty head (as
 * after a cut whose blocks were never written) is replayed through its own dictionary and
 * translated into the head's; and a segment of whole-profile records (type 1, what earlier
 * versions wrote) is still replayed, with delta records after it continuing its dictionary.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "store/store.h"
#include "store/store_int.h"
#include "test.h"
#include "test_store_fixture.h"

#define SEC 1000000000LL

/* A profile of 200 distinct stacks of depth 12 drawn from 50 functions. */
static struct prof *wide_prof(int salt)
{
	struct prof *p = fx_prof_new();

	for (int i = 0; i < 200; i++) {
		char stack[512];
		size_t len = 0;

		for (int d = 0; d < 12; d++)
			len += (size_t)snprintf(stack + len, sizeof(stack) - len, "%sfn_%d",
						d ? ";" : "", (i * 7 + d * 13 + salt) % 50);
		fx_add(p, stack, 1 + i % 5, 0);
	}
	return p;
}

/* Bytes of records in segment file f (the header and records, not the zeros the WAL extends
 * a segment with ahead of them); -1 when unreadable. */
static long seg_used(const char *f)
{
	struct buf b;
	size_t valid = 0;
	long n = -1;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	if (!buf_read_file(&b, f) && !store_wal_parse(b.data, b.len, NULL, NULL, &valid))
		n = (long)valid;
	buf_fini(&b);
	return n;
}

/* Bytes of records in the store's WAL directory. */
static long wal_bytes(const char *dir)
{
	char path[600];
	DIR *d;
	struct dirent *e;
	long sum = 0;

	snprintf(path, sizeof(path), "%s/wal", dir);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char f[900];
		struct stat st;

		snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
		if (e->d_name[0] != '.' && !stat(f, &st))
			sum += seg_used(f);
	}
	closedir(d);
	return sum;
}

TEST(store_wal_records_carry_only_new_symbols)
{
	char dir[600];
	struct store *s;
	struct prof *p = wide_prof(0);
	long one, ten;
	int64_t want = prof_total(p, 0);

	snprintf(dir, sizeof(dir), "%s/a", test_tmpdir());
	CHECK_OK(fx_open(dir, NULL, &s));
	CHECK_OK(fx_append(s, NULL, "api", 1 * SEC, p, NULL));
	one = wal_bytes(dir);
	for (int i = 2; i <= 10; i++)
		CHECK_OK(fx_append(s, NULL, "api", i * SEC, p, NULL));
	ten = wal_bytes(dir);
	/* the nine repeats carry 200 samples each and no symbols */
	CHECK(ten - one < 9 * 200 * 8);
	CHECK(ten - one < one);
	store_close(s);
	CHECK_OK(fx_open(dir, NULL, &s));
	CHECK_EQ_INT(fx_total(s, STORE_LABEL_SERVICE, "api"), 10 * want);
	store_close(s);
	prof_free(p);
}

/* Copies the only WAL segment of store directory `from` into `to` as segment `seq`. */
static int copy_segment(const char *from, const char *to, unsigned seq)
{
	char cmd[2000];

	snprintf(cmd, sizeof(cmd),
		 "set -e; f=$(ls '%s'/wal/*.wal); [ $(echo \"$f\" | wc -l) = 1 ]; "
		 "cp \"$f\" '%s'/wal/%016x.wal",
		 from, to, seq);
	return system(cmd);
}

TEST(store_wal_segment_with_its_own_dictionary)
{
	char a[600], b[600];
	struct store *s;
	struct prof *x = wide_prof(1), *y = wide_prof(2), *z = fx_prof_new(), *out;
	struct store_query q = {.profile_type = T_PTYPE};

	snprintf(a, sizeof(a), "%s/a", test_tmpdir());
	snprintf(b, sizeof(b), "%s/b", test_tmpdir());
	fx_add(z, "main;only_in_b", 7, 0x77);
	/* a: two appends against its head's dictionary */
	CHECK_OK(fx_open(a, NULL, &s));
	CHECK_OK(fx_append(s, NULL, "x", 1 * SEC, x, NULL));
	CHECK_OK(fx_append(s, NULL, "y", 2 * SEC, y, NULL));
	store_close(s);
	/* b: a segment that starts from an empty dictionary, with other ids for the same
	 * symbols and one symbol a does not have */
	CHECK_OK(fx_open(b, NULL, &s));
	CHECK_OK(fx_append(s, NULL, "z", 3 * SEC, z, NULL));
	CHECK_OK(fx_append(s, NULL, "y", 4 * SEC, y, NULL));
	store_close(s);
	CHECK_EQ_INT(copy_segment(b, a, 0x50), 0);
	CHECK_OK(fx_open(a, NULL, &s));
	CHECK_EQ_INT(fx_total(s, STORE_LABEL_SERVICE, "x"), prof_total(x, 0));
	CHECK_EQ_INT(fx_total(s, STORE_LABEL_SERVICE, "y"), 2 * prof_total(y, 0));
	CHECK_EQ_INT(fx_total(s, STORE_LABEL_SERVICE, "z"), 7);
	CHECK_OK(store_select_merge(s, &q, &out, NULL));
	CHECK_EQ_INT(fx_value(out, "main;only_in_b"), 7);
	{
		const char *st = "fn_2;fn_15;fn_28;fn_41;fn_4;fn_17;fn_30;fn_43;fn_6;fn_19;fn_32;"
				 "fn_45";

		CHECK(fx_value(y, st) > 0);
		CHECK_EQ_INT(fx_value(out, st), fx_value(x, st) + 2 * fx_value(y, st));
	}
	prof_free(out);
	{
		uint64_t span = 0x77;

		CHECK_OK(store_select_spans(s, &q, &span, 1, &out, NULL));
		CHECK_EQ_INT(prof_total(out, 0), 7);
		prof_free(out);
	}
	/* appends after the reopen continue the head's dictionary, and survive another */
	CHECK_OK(fx_append(s, NULL, "z", 5 * SEC, z, NULL));
	store_close(s);
	CHECK_OK(fx_open(a, NULL, &s));
	CHECK_EQ_INT(fx_total(s, STORE_LABEL_SERVICE, "z"), 14);
	CHECK_EQ_INT(fx_total(s, STORE_LABEL_SERVICE, "y"), 2 * prof_total(y, 0));
	store_close(s);
	prof_free(x);
	prof_free(y);
	prof_free(z);
}

TEST(store_wal_whole_profile_records_still_replay)
{
	char dir[600], wal_dir[700];
	struct store *s;
	struct store_wal *w;
	struct prof *p = wide_prof(3), *q = wide_prof(4);
	struct store_label l[] = {{STORE_LABEL_SERVICE, "old"}};
	struct store_rec r = {.tenant = STORE_DEFAULT_TENANT,
			      .labels = l,
			      .n_labels = 1,
			      .name = "process_cpu",
			      .time_ns = 3 * SEC,
			      .prof = p};
	struct buf b;
	struct store_wr wr = {&b, 0};
	struct store_wal_ticket ticket = {0};

	snprintf(dir, sizeof(dir), "%s/old", test_tmpdir());
	snprintf(wal_dir, sizeof(wal_dir), "%s/wal", dir);
	CHECK_EQ_INT(mkdir(dir, 0755), 0);
	CHECK_EQ_INT(mkdir(wal_dir, 0755), 0);
	/* segment 1 as an earlier version wrote it: one whole-profile record */
	buf_init(&b, MEM_TEST, SIZE_MAX);
	store_wr_bytes(&wr, "\0\0\0\0\0\0\0\0", 8);
	store_rec_encode(&wr, &r);
	CHECK_OK(wr.err);
	CHECK_OK(store_wal_open(wal_dir, NULL, 1, 0, NULL, NULL, &w));
	CHECK_OK(store_wal_enqueue(w, b.data, b.len, NULL, &ticket));
	CHECK_OK(store_wal_wait(w, &ticket));
	store_wal_close(w);
	buf_fini(&b);
	CHECK_OK(fx_open(dir, NULL, &s));
	CHECK_EQ_INT(fx_total(s, STORE_LABEL_SERVICE, "old"), prof_total(p, 0));
	CHECK_OK(fx_append(s, NULL, "new", 4 * SEC, q, NULL)); /* a delta record, segment 2 */
	store_close(s);
	CHECK_OK(fx_open(dir, NULL, &s));
	CHECK_EQ_INT(fx_total(s, STORE_LABEL_SERVICE, "old"), prof_total(p, 0));
	CHECK_EQ_INT(fx_total(s, STORE_LABEL_SERVICE, "new"), prof_total(q, 0));
	store_close(s);
	prof_free(p);
	prof_free(q);
}

/* A record carries each series' samples as the head keeps them: values divided by the period
 * when every one is a multiple of it (flag bit 1), as they are otherwise; both replay exactly,
 * with and without span ids. */
TEST(store_wal_samples_per_period_replay_exactly)
{
	struct store_opts o = {.dir = test_tmpdir(), .no_compaction = true};
	const int64_t per = 10000000; /* fx_prof_new's period */
	struct store *s;
	struct prof *p, *out;

	CHECK_OK(store_open(&o, &s, NULL));
	p = fx_prof_new(); /* multiples of the period: stored divided */
	fx_add(p, "main;a", 3 * per, 0);
	fx_add(p, "main;b", -2 * per, 0x77);
	CHECK_OK(fx_append(s, NULL, "api", 1000 * SEC, p, NULL));
	prof_free(p);
	p = fx_prof_new(); /* one value off the period: stored as it is */
	fx_add(p, "main;a", 5, 0);
	fx_add(p, "main;c", 4 * per, 0);
	CHECK_OK(fx_append(s, NULL, "api", 1001 * SEC, p, NULL));
	prof_free(p);
	store_close(s);

	CHECK_OK(store_open(&o, &s, NULL)); /* replayed from the WAL */
	out = fx_merge(s, NULL, NULL);
	CHECK(out != NULL);
	if (out) {
		CHECK_EQ_INT(fx_value(out, "main;a"), 3 * per + 5);
		CHECK_EQ_INT(fx_value(out, "main;b"), -2 * per);
		CHECK_EQ_INT(fx_value(out, "main;c"), 4 * per);
		prof_free(out);
	}
	store_close(s);
}

/* Group commit under contention: appenders, each record with a cookie, while segments rotate.
 * Every wait returns 0 only after the leader's on_durable has seen its cookie, each cookie is
 * seen exactly once, in queue order within a group, and the segments hold every record. */
#define GC_THREADS 8
#define GC_RECORDS 300

struct gc_wal {
	struct store_wal *w;
	atomic_int seen[GC_THREADS * GC_RECORDS];
	atomic_int early, fails, stop;
};

static void gc_on_durable(void *ctx, void *const *ck, size_t n)
{
	struct gc_wal *g = ctx;

	for (size_t i = 0; i < n; i++)
		atomic_fetch_add(&g->seen[(uintptr_t)ck[i] - 1], 1); /* cookie k + 1 */
}

struct gc_app {
	struct gc_wal *g;
	int id;
};

static void *gc_appender(void *arg)
{
	struct gc_app *a = arg;
	uint8_t frame[8 + 16];

	for (int i = 0; i < GC_RECORDS; i++) {
		int k = a->id * GC_RECORDS + i;
		struct store_wal_ticket t;

		memset(frame + 8, (uint8_t)k, sizeof(frame) - 8);
		if (store_wal_enqueue(a->g->w, frame, sizeof(frame), (void *)(uintptr_t)(k + 1),
				      &t) ||
		    store_wal_wait(a->g->w, &t)) {
			atomic_fetch_add(&a->g->fails, 1);
			continue;
		}
		if (atomic_load(&a->g->seen[k]) != 1)
			atomic_fetch_add(&a->g->early, 1);
	}
	return NULL;
}

static int gc_count(void *ctx, const uint8_t *rec, size_t n)
{
	(void)rec;
	(void)n;
	++*(int *)ctx;
	return 0;
}

TEST(store_wal_group_commit_under_contention)
{
	static struct gc_wal g;
	struct gc_app a[GC_THREADS];
	pthread_t th[GC_THREADS];
	char dir[1024];
	uint64_t seq = 1;
	int records = 0;

	memset(&g, 0, sizeof(g));
	snprintf(dir, sizeof(dir), "%s/wal", test_tmpdir());
	CHECK_EQ_INT(mkdir(dir, 0755), 0);
	CHECK_OK(store_wal_open(dir, NULL, seq, 0, gc_on_durable, &g, &g.w));
	for (int i = 0; i < GC_THREADS; i++) {
		a[i] = (struct gc_app){&g, i};
		pthread_create(&th[i], NULL, gc_appender, &a[i]);
	}
	for (int r = 0; r < 5; r++) {
		usleep(2000);
		CHECK_OK(store_wal_rotate(g.w, ++seq));
	}
	for (int i = 0; i < GC_THREADS; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ_INT(store_wal_error(g.w), 0);
	store_wal_close(g.w);
	CHECK_EQ_INT(atomic_load(&g.fails), 0);
	CHECK_EQ_INT(atomic_load(&g.early), 0);
	for (int k = 0; k < GC_THREADS * GC_RECORDS; k++)
		if (atomic_load(&g.seen[k]) != 1)
			CHECK_EQ_INT(atomic_load(&g.seen[k]), 1);
	for (uint64_t s = 1; s <= seq; s++) {
		char path[1100];
		struct buf b;
		size_t valid = 0;

		snprintf(path, sizeof(path), "%s/%016llx.wal", dir, (unsigned long long)s);
		buf_init(&b, MEM_TEST, SIZE_MAX);
		CHECK_OK(buf_read_file(&b, path));
		CHECK_OK(store_wal_parse(b.data, b.len, gc_count, &records, &valid));
		CHECK_EQ_INT(valid, b.len);
		buf_fini(&b);
	}
	CHECK_EQ_INT(records, GC_THREADS * GC_RECORDS);
}

/* The size of the only WAL segment of store directory dir, and its bytes of records. */
static void seg_sizes(const char *dir, long *size, long *used)
{
	char path[700];
	DIR *d;
	struct dirent *e;

	*size = *used = -1;
	snprintf(path, sizeof(path), "%s/wal", dir);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char f[1000];
		struct stat st;

		snprintf(f, sizeof(f), "%s/%s", path, e->d_name);
		if (e->d_name[0] != '.' && !stat(f, &st)) {
			*size = (long)st.st_size;
			*used = seg_used(f);
		}
	}
	closedir(d);
}

/* An open segment is extended with zeros ahead of its records (so a group's fdatasync writes
 * data alone); a copy taken while it is open (as a crash leaves it) replays every record and
 * calls nothing torn; a clean close trims the zeros. */
TEST(store_wal_preallocated_tail)
{
	char dir[600], copy[600], cmd[2000];
	struct store *s, *c;
	struct prof *p = wide_prof(3);
	struct store_stats st;
	long size, used;
	int64_t want = prof_total(p, 0);

	snprintf(dir, sizeof(dir), "%s/pre", test_tmpdir());
	snprintf(copy, sizeof(copy), "%s/pre_copy", test_tmpdir());
	CHECK_OK(fx_open(dir, NULL, &s));
	for (int i = 1; i <= 3; i++)
		CHECK_OK(fx_append(s, NULL, "api", i * SEC, p, NULL));
	seg_sizes(dir, &size, &used);
	CHECK(used > 1000);
	CHECK_MSG(size >= (1L << 20) && size > used, "segment %ld bytes, %ld used", size, used);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/wal' && cp '%s'/wal/*.wal '%s/wal/'", copy, dir,
		 copy);
	CHECK_EQ_INT(system(cmd), 0);
	CHECK_OK(fx_open(copy, NULL, &c));
	CHECK_EQ_INT(fx_total(c, STORE_LABEL_SERVICE, "api"), 3 * want);
	store_get_stats(c, &st);
	CHECK_EQ_INT(st.replayed, 3);
	CHECK_EQ_INT(st.truncated_bytes, 0);
	store_close(c);
	store_close(s);
	seg_sizes(dir, &size, &used);
	CHECK_MSG(size == used, "closed segment %ld bytes, %ld used", size, used);
	CHECK_OK(fx_open(dir, NULL, &s));
	CHECK_EQ_INT(fx_total(s, STORE_LABEL_SERVICE, "api"), 3 * want);
	store_get_stats(s, &st);
	CHECK_EQ_INT(st.truncated_bytes, 0);
	store_close(s);
	prof_free(p);
}
