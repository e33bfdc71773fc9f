/*
 * test_scrape.c — unit tests for the scraper's pure parts: Prometheus durations, the
 * scrape_configs YAML (defaults, every key, and errors that name the key and line), and the
 * per-stack deltas of cumulative profiles (first scrape primes, counter resets, new and vanished
 * stacks, gauge columns untouched, all-zero samples dropped, labels keep stacks apart).
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "prof_fixture.h"
#include "format/ycfg.h"
#include "server/server_scrape.h"
#include "test.h"

TEST(ycfg_duration_parse)
{
	int64_t ns = 0;

	CHECK_OK(ycfg_parse_duration("15s", &ns));
	CHECK_EQ_INT(ns, 15000000000LL);
	CHECK_OK(ycfg_parse_duration("1m30s", &ns));
	CHECK_EQ_INT(ns, 90000000000LL);
	CHECK_OK(ycfg_parse_duration("500ms", &ns));
	CHECK_EQ_INT(ns, 500000000LL);
	CHECK_OK(ycfg_parse_duration("1h", &ns));
	CHECK_EQ_INT(ns, 3600000000000LL);
	CHECK_OK(ycfg_parse_duration("2d", &ns));
	CHECK_EQ_INT(ns, 172800000000000LL);
	CHECK(ycfg_parse_duration("", &ns) < 0);
	CHECK(ycfg_parse_duration("10", &ns) < 0);
	CHECK(ycfg_parse_duration("s", &ns) < 0);
	CHECK(ycfg_parse_duration("10x", &ns) < 0);
	CHECK(ycfg_parse_duration("-1s", &ns) < 0);
	CHECK(ycfg_parse_duration("99999999999999999999s", &ns) < 0);
}

static int parse(const char *yaml, struct scrape_config **c, struct ember_diag *d)
{
	memset(d, 0, sizeof(*d));
	return server_scrape_config_parse(yaml, strlen(yaml), "t.yaml", c, d);
}

TEST(scrape_config_defaults)
{
	static const char y[] = "server:\n"
				"  listen: 127.0.0.1:4040\n"
				"scrape_configs:\n"
				"  - job_name: api\n"
				"    static_configs:\n"
				"      - targets: ['127.0.0.1:6060', 'localhost:6061']\n";
	struct scrape_config *c;
	struct ember_diag d;

	CHECK_OK(parse(y, &c, &d));
	CHECK_EQ_INT(c->n_jobs, 1);
	CHECK_EQ_INT(c->n_targets, 2);
	const struct scrape_job *j = &c->jobs[0];
	CHECK_EQ_STR(j->name, "api");
	CHECK_EQ_STR(j->tenant, "anonymous");
	CHECK_EQ_STR(j->scheme, "http");
	CHECK_EQ_INT(j->interval_ns, 15000000000LL);
	CHECK_EQ_INT(j->timeout_ns, 15000000000LL);
	CHECK_EQ_INT(server_scrape_cpu_seconds(j), 14);
	CHECK(j->prof[SCRAPE_CPU].enabled && j->prof[SCRAPE_MEMORY].enabled &&
	      j->prof[SCRAPE_GOROUTINE].enabled && j->prof[SCRAPE_MUTEX].enabled &&
	      j->prof[SCRAPE_BLOCK].enabled);
	CHECK(!j->prof[SCRAPE_ALLOCS].enabled);
	CHECK_EQ_STR(j->prof[SCRAPE_MEMORY].path, "/debug/pprof/heap");
	CHECK_EQ_STR(j->prof[SCRAPE_CPU].path, "/debug/pprof/profile");
	CHECK(j->prof[SCRAPE_MUTEX].delta && !j->prof[SCRAPE_GOROUTINE].delta);
	CHECK_EQ_STR(j->targets[1].instance, "localhost:6061");
	CHECK_EQ_INT(j->targets[0].n_labels, 0);
	server_scrape_config_free(c);

	/* No scrape_configs at all, or an empty document: no jobs. */
	CHECK_OK(parse("server:\n  listen: x\n", &c, &d));
	CHECK_EQ_INT(c->n_jobs, 0);
	server_scrape_config_free(c);
	CHECK_OK(parse("", &c, &d));
	CHECK_EQ_INT(c->n_jobs, 0);
	server_scrape_config_free(c);
	CHECK_OK(parse("scrape_configs:\n", &c, &d));
	CHECK_EQ_INT(c->n_jobs, 0);
	server_scrape_config_free(c);
}

TEST(scrape_config_all_keys)
{
	static const char y[] = "scrape_configs:\n"
				"  - job_name: go-app\n"
				"    scrape_interval: 10s\n"
				"    scrape_timeout: 5s\n"
				"    scheme: https\n"
				"    tenant: team-a\n"
				"    static_configs:\n"
				"      - targets: [\"[::1]:6060\"]\n"
				"        labels: {env: prod, service_name: checkout}\n"
				"      - targets: [\"10.0.0.2:6060\"]\n"
				"    profiling_config:\n"
				"      path_prefix: /svc/\n"
				"      pprof_config:\n"
				"        process_cpu: {seconds: 3, path: /prof?x=1}\n"
				"        memory: {enabled: false}\n"
				"        allocs: {delta: false}\n"
				"        mutex:\n"
				"        block: {enabled: false}\n"
				"  - job_name: other\n"
				"    scrape_interval: 1m\n";
	struct scrape_config *c;
	struct ember_diag d;

	CHECK_MSG(parse(y, &c, &d) == 0, "%s", d.msg);
	CHECK_EQ_INT(c->n_jobs, 2);
	const struct scrape_job *j = &c->jobs[0];
	CHECK_EQ_INT(j->interval_ns, 10000000000LL);
	CHECK_EQ_INT(j->timeout_ns, 5000000000LL);
	CHECK_EQ_STR(j->scheme, "https");
	CHECK_EQ_STR(j->tenant, "team-a");
	CHECK_EQ_STR(j->path_prefix, "/svc");
	CHECK_EQ_INT(server_scrape_cpu_seconds(j), 3);
	CHECK_EQ_STR(j->prof[SCRAPE_CPU].path, "/prof?x=1");
	CHECK(!j->prof[SCRAPE_MEMORY].enabled);
	CHECK(j->prof[SCRAPE_ALLOCS].enabled && !j->prof[SCRAPE_ALLOCS].delta);
	CHECK(j->prof[SCRAPE_MUTEX].enabled && j->prof[SCRAPE_MUTEX].delta);
	CHECK(!j->prof[SCRAPE_BLOCK].enabled);
	CHECK_EQ_INT(j->n_targets, 2);
	CHECK_EQ_STR(j->targets[0].instance, "[::1]:6060");
	CHECK_EQ_INT(j->targets[0].n_labels, 2);
	CHECK_EQ_STR(j->targets[0].labels[1].name, "service_name");
	CHECK_EQ_STR(j->targets[0].labels[1].value, "checkout");
	CHECK_EQ_INT(j->targets[1].n_labels, 0);
	CHECK_EQ_INT(c->jobs[1].interval_ns, 60000000000LL);
	CHECK_EQ_INT(c->jobs[1].n_targets, 0);
	server_scrape_config_free(c);
}

TEST(scrape_config_errors)
{
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{"scrape_configs: {a: 1}\n", "t.yaml:1: scrape_configs: want a list"},
		{"scrape_configs:\n  - scrape_interval: 1s\n",
		 "t.yaml:2: scrape_configs[0]: job_name is required"},
		{"scrape_configs:\n  - job_name: a\n    scrape_intervl: 1s\n",
		 "t.yaml:3: scrape_configs[0]: unknown key 'scrape_intervl'"},
		{"scrape_configs:\n  - job_name: a\n    scrape_interval: 10x\n",
		 "t.yaml:3: scrape_configs[0].scrape_interval: '10x' is not a duration"},
		{"scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: "
		 "6s\n",
		 "t.yaml:4: scrape_configs[0]: scrape_timeout must be within "
		 "100ms..scrape_interval"},
		{"scrape_configs:\n  - job_name: a\n    scrape_interval: 1s\n",
		 "t.yaml:3: scrape_configs[0]: scrape_timeout must be at least 2s when "
		 "process_cpu"},
		{"scrape_configs:\n  - job_name: a\n  - job_name: a\n",
		 "t.yaml:3: scrape_configs[1]: duplicate job_name 'a' (also at line 2)"},
		{"scrape_configs:\n  - job_name: a\n    job_name: b\n",
		 "t.yaml:3: scrape_configs[0]: duplicate key 'job_name'"},
		{"scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: "
		 "[http://x:1]\n",
		 "t.yaml:4: scrape_configs[0].static_configs[0].targets[0]: 'http://x:1' is not "
		 "host:port"},
		{"scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: "
		 "['x:0']\n",
		 "is not host:port"},
		{"scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['x:1', "
		 "'x:1']\n",
		 "duplicate target 'x:1'"},
		{"scrape_configs:\n  - job_name: a\n    static_configs:\n      - labels: {__x: "
		 "y}\n",
		 "t.yaml:4: scrape_configs[0].static_configs[0].labels: bad label name '__x'"},
		{"scrape_configs:\n  - job_name: a\n    static_configs:\n      - labels: {a: "
		 "[1]}\n",
		 "t.yaml:4: scrape_configs[0].static_configs[0].labels.a: expected a single value, "
		 "not a list"},
		{"scrape_configs:\n  - job_name: a\n    scheme: ftp\n",
		 "t.yaml:3: scrape_configs[0].scheme: 'ftp' is not http or https"},
		{"scrape_configs:\n  - job_name: a\n    tenant: 'a b'\n",
		 "scrape_configs[0].tenant: 'a b' is not a tenant"},
		{"scrape_configs:\n  - job_name: a\n    profiling_config:\n      pprof_config:\n   "
		 "     fgprof: {}\n",
		 "t.yaml:5: scrape_configs[0].profiling_config.pprof_config: unknown profile "
		 "'fgprof'"},
		{"scrape_configs:\n  - job_name: a\n    profiling_config:\n      pprof_config:\n   "
		 "     heap: {}\n",
		 "unknown profile 'heap'"},
		{"scrape_configs:\n  - job_name: a\n    profiling_config:\n      pprof_config:\n   "
		 "     memory: {enabled: maybe}\n",
		 "t.yaml:5: scrape_configs[0].profiling_config.pprof_config.memory.enabled: "
		 "'maybe' "
		 "is not true or false"},
		{"scrape_configs:\n  - job_name: a\n    profiling_config:\n      pprof_config:\n   "
		 "     memory: {path: 'debug'}\n",
		 "memory.path: 'debug' is not a URL path"},
		{"scrape_configs:\n  - job_name: a\n    profiling_config:\n      pprof_config:\n   "
		 "     allocs: {}\n",
		 "t.yaml:5: scrape_configs[0]: memory and allocs are the same Go heap profile"},
		{"scrape_configs:\n  - job_name: a\n    profiling_config:\n      pprof_config:\n   "
		 "     goroutine: {delta: true}\n",
		 "goroutine: a gauge profile has no delta"},
		{"scrape_configs:\n  - job_name: a\n    profiling_config:\n      pprof_config:\n   "
		 "     process_cpu: {delta: false}\n",
		 "process_cpu: delta must be true"},
		{"scrape_configs:\n  - job_name: a\n    profiling_config:\n      pprof_config:\n   "
		 "     process_cpu: {seconds: 15}\n",
		 "process_cpu: seconds (15) must be below scrape_timeout"},
		{"scrape_configs:\n  - job_name: a\n    profiling_config:\n      pprof_config:\n   "
		 "     mutex: {seconds: 1}\n",
		 "mutex: seconds is for process_cpu only"},
		{"scrape_configs:\n  - job_name: a\n    profiling_config: {path_prefix: x}\n",
		 "profiling_config.path_prefix: 'x' is not a URL path"},
		{"scrape_configs:\n  - job_name: [a]\n",
		 "scrape_configs[0].job_name: expected a single value, not a list"},
		{"scrape_configs:\n  - job_name: 'a\"b'\n", "is not a job name"},
		{"scrape_configs:\n  - job_name: a\n   bad: [\n", "t.yaml:3:"},
		{"scrape_configs:\n  - 42\n",
		 "t.yaml:2: scrape_configs[0]: want a mapping with job_name"},
		{"scrape_configs: [1]\nscrape_configs: [2]\n", "duplicate key 'scrape_configs'"},
		{"- a\n- b\n", "t.yaml:1: (top): the document must be a mapping"},
	};
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(cases); i++) {
		struct scrape_config *c = (void *)1;
		struct ember_diag d;
		int rc = parse(cases[i].yaml, &c, &d);

		CHECK_MSG(rc < 0, "case %zu parsed: %s", i, cases[i].yaml);
		CHECK_MSG(c == NULL, "case %zu returned a config", i);
		CHECK_MSG(strstr(d.msg, cases[i].want) != NULL, "case %zu: message '%s', want '%s'",
			  i, d.msg, cases[i].want);
	}
}

TEST(scrape_config_limits)
{
	static char y[400000];
	struct scrape_config *c;
	struct ember_diag d;
	size_t o = 0;

	o += (size_t)snprintf(y + o, sizeof(y) - o,
			      "scrape_configs:\n  - job_name: a\n    static_configs:\n      - "
			      "targets:\n");
	for (int i = 0; i <= SCRAPE_MAX_TARGETS && o + 64 < sizeof(y); i++)
		o += (size_t)snprintf(y + o, sizeof(y) - o, "        - 'h%d:1'\n", i);
	CHECK(parse(y, &c, &d) < 0);
	CHECK_MSG(strstr(d.msg, "more than 4096 targets"), "%s", d.msg);

	o = (size_t)snprintf(y, sizeof(y),
			     "scrape_configs:\n  - job_name: a\n    static_configs:\n      - "
			     "labels:\n");
	for (int i = 0; i <= SCRAPE_MAX_LABELS; i++)
		o += (size_t)snprintf(y + o, sizeof(y) - o, "          l%d: v\n", i);
	CHECK(parse(y, &c, &d) < 0);
	CHECK_MSG(strstr(d.msg, "more than 24 labels"), "%s", d.msg);

	/* A missing file names the file. */
	CHECK(server_scrape_config_load("/nonexistent/ember.yaml", &c, &d) < 0);
	CHECK_MSG(strstr(d.msg, "/nonexistent/ember.yaml"), "%s", d.msg);
}

/* --- deltas ------------------------------------------------------------------------------ */

/* The value of sample type vi for a root-first stack (all label sets), or -1 when absent. */
static int64_t value_of(struct prof *p, const char *stack, size_t vi)
{
	uint32_t node = fx_stack(p, stack);
	int64_t v = -1;

	for (size_t i = 0; i < prof_n_samples(p); i++) {
		struct prof_sample s;

		prof_sample_get(p, i, &s);
		if (s.node == node)
			v = (v < 0 ? 0 : v) + s.values[vi];
	}
	return v;
}

static struct prof *mutex_prof(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
	struct prof *p = fx_types("contentions", "count", "delay", "nanoseconds");

	if (a0 || a1)
		fx_add(p, "main;lock;a", 0, a0, a1);
	if (b0 || b1)
		fx_add(p, "main;lock;b", 0, b0, b1);
	return p;
}

TEST(scrape_delta_mutex)
{
	struct scrape_delta st;
	struct prof *p, *out;
	int64_t from;
	uint64_t mask;

	server_scrape_delta_init(&st);
	/* First scrape: only primes. */
	p = mutex_prof(10, 1000, 5, 500);
	mask = server_scrape_cumulative_mask(p, SCRAPE_MUTEX);
	CHECK_EQ_INT(mask, 3);
	CHECK_OK(server_scrape_delta_apply(&st, p, mask, 100, &out, &from, NULL));
	CHECK(out == NULL);
	prof_free(p);

	/* Second: a grows, b unchanged (dropped: all zero). */
	p = mutex_prof(13, 1600, 5, 500);
	CHECK_OK(server_scrape_delta_apply(&st, p, mask, 200, &out, &from, NULL));
	CHECK(out != NULL);
	CHECK_EQ_INT(from, 100);
	CHECK_EQ_INT(prof_n_samples(out), 1);
	CHECK_EQ_INT(value_of(out, "main;lock;a", 0), 3);
	CHECK_EQ_INT(value_of(out, "main;lock;a", 1), 600);
	CHECK_EQ_INT(value_of(out, "main;lock;b", 0), -1);
	prof_free(out);
	prof_free(p);

	/* Third: a resets (restart: 2 < 13, the delta is the new value), b vanished, c is new. */
	p = mutex_prof(2, 50, 0, 0);
	fx_add(p, "main;lock;c", 0, 7, 70);
	CHECK_OK(server_scrape_delta_apply(&st, p, mask, 300, &out, &from, NULL));
	CHECK_EQ_INT(from, 200);
	CHECK_EQ_INT(value_of(out, "main;lock;a", 0), 2);
	CHECK_EQ_INT(value_of(out, "main;lock;a", 1), 50);
	CHECK_EQ_INT(value_of(out, "main;lock;c", 0), 7);
	CHECK_EQ_INT(value_of(out, "main;lock;c", 1), 70);
	CHECK_EQ_INT(value_of(out, "main;lock;b", 0), -1);
	for (size_t i = 0; i < prof_n_samples(out); i++) {
		struct prof_sample s;
		prof_sample_get(out, i, &s);
		CHECK(s.values[0] >= 0 && s.values[1] >= 0);
	}
	prof_free(out);
	prof_free(p);

	/* Fourth: b reappears after vanishing: counted from zero (the baseline forgot it). */
	p = mutex_prof(2, 50, 6, 600);
	fx_add(p, "main;lock;c", 0, 7, 70);
	CHECK_OK(server_scrape_delta_apply(&st, p, mask, 400, &out, &from, NULL));
	CHECK_EQ_INT(prof_n_samples(out), 1);
	CHECK_EQ_INT(value_of(out, "main;lock;b", 1), 600);
	prof_free(out);
	prof_free(p);
	server_scrape_delta_fini(&st);
}

TEST(scrape_delta_heap_gauges_kept)
{
	struct scrape_delta st;
	struct prof *p, *out;
	int64_t from;
	uint64_t mask;
	int64_t v[4];

	server_scrape_delta_init(&st);
	p = prof_new();
	prof_add_sample_type(p, prof_intern_cstr(p, "alloc_objects"), prof_intern_cstr(p, "count"));
	prof_add_sample_type(p, prof_intern_cstr(p, "alloc_space"), prof_intern_cstr(p, "bytes"));
	prof_add_sample_type(p, prof_intern_cstr(p, "inuse_objects"), prof_intern_cstr(p, "count"));
	prof_add_sample_type(p, prof_intern_cstr(p, "inuse_space"), prof_intern_cstr(p, "bytes"));
	mask = server_scrape_cumulative_mask(p, SCRAPE_MEMORY);
	CHECK_EQ_INT(mask, 3);
	CHECK_EQ_INT(server_scrape_cumulative_mask(p, SCRAPE_GOROUTINE), 0);
	v[0] = 100, v[1] = 6400, v[2] = 4, v[3] = 256;
	prof_add_sample(p, fx_stack(p, "main;alloc"), 0, v);
	v[0] = 10, v[1] = 640, v[2] = 0, v[3] = 0;
	prof_add_sample(p, fx_stack(p, "main;tmp"), 0, v);
	CHECK_OK(server_scrape_delta_apply(&st, p, mask, 1, &out, &from, NULL));
	CHECK(out == NULL);
	prof_free(p);

	p = prof_new();
	prof_add_sample_type(p, prof_intern_cstr(p, "alloc_objects"), prof_intern_cstr(p, "count"));
	prof_add_sample_type(p, prof_intern_cstr(p, "alloc_space"), prof_intern_cstr(p, "bytes"));
	prof_add_sample_type(p, prof_intern_cstr(p, "inuse_objects"), prof_intern_cstr(p, "count"));
	prof_add_sample_type(p, prof_intern_cstr(p, "inuse_space"), prof_intern_cstr(p, "bytes"));
	/* main;alloc: no new allocations but still in use -> kept with alloc 0, inuse as is. */
	v[0] = 100, v[1] = 6400, v[2] = 4, v[3] = 256;
	prof_add_sample(p, fx_stack(p, "main;alloc"), 0, v);
	/* main;tmp: 5 more allocations, none in use. */
	v[0] = 15, v[1] = 960, v[2] = 0, v[3] = 0;
	prof_add_sample(p, fx_stack(p, "main;tmp"), 0, v);
	CHECK_OK(server_scrape_delta_apply(&st, p, mask, 2, &out, &from, NULL));
	CHECK(out != NULL);
	CHECK_EQ_INT(prof_n_samples(out), 2);
	CHECK_EQ_INT(value_of(out, "main;alloc", 0), 0);
	CHECK_EQ_INT(value_of(out, "main;alloc", 3), 256);
	CHECK_EQ_INT(value_of(out, "main;tmp", 0), 5);
	CHECK_EQ_INT(value_of(out, "main;tmp", 1), 320);
	CHECK_EQ_INT(value_of(out, "main;tmp", 2), 0);
	prof_free(out);
	prof_free(p);
	server_scrape_delta_fini(&st);
}

TEST(scrape_delta_labels_and_shape)
{
	struct scrape_delta st;
	struct prof *p, *out;
	struct prof_label l;
	uint32_t ls;
	int64_t from;

	server_scrape_delta_init(&st);
	/* The same stack under two label sets: separate counters. */
	p = mutex_prof(10, 100, 0, 0);
	l = (struct prof_label){.key = prof_intern_cstr(p, "worker"),
				.str = prof_intern_cstr(p, "x")};
	ls = prof_add_labelset(p, &l, 1);
	fx_add(p, "main;lock;a", ls, 20, 200);
	CHECK_OK(server_scrape_delta_apply(&st, p, 3, 1, &out, &from, NULL));
	CHECK(out == NULL);
	prof_free(p);

	p = mutex_prof(11, 110, 0, 0);
	l = (struct prof_label){.key = prof_intern_cstr(p, "worker"),
				.str = prof_intern_cstr(p, "x")};
	ls = prof_add_labelset(p, &l, 1);
	fx_add(p, "main;lock;a", ls, 25, 250);
	CHECK_OK(server_scrape_delta_apply(&st, p, 3, 2, &out, &from, NULL));
	CHECK_EQ_INT(prof_n_samples(out), 2);
	CHECK_EQ_INT(value_of(out, "main;lock;a", 0), 1 + 5);
	CHECK_EQ_INT(value_of(out, "main;lock;a", 1), 10 + 50);
	prof_free(out);
	prof_free(p);

	/* Other sample types: the baseline is primed again, nothing is emitted. */
	p = fx_types("contentions", "count", NULL, NULL);
	fx_add(p, "main;lock;a", 0, 30, 0);
	CHECK_OK(server_scrape_delta_apply(&st, p, 1, 3, &out, &from, NULL));
	CHECK(out == NULL);
	prof_free(p);

	/* Negative counters (a hostile target) are taken as zero: no negative delta. */
	p = fx_types("contentions", "count", NULL, NULL);
	fx_add(p, "main;lock;a", 0, -5, 0);
	CHECK_OK(server_scrape_delta_apply(&st, p, 1, 4, &out, &from, NULL));
	CHECK(out != NULL);
	CHECK_EQ_INT(prof_n_samples(out), 0);
	prof_free(out);
	prof_free(p);
	server_scrape_delta_fini(&st);
}

TEST(scrape_delta_identity_by_content)
{
	struct scrape_delta st;
	struct prof *p, *out;
	int64_t from;

	/* The same stacks built in another order get other ids; the baseline matches them by
	 * content, so equal counters give an empty delta and a grown one only its growth. */
	server_scrape_delta_init(&st);
	p = mutex_prof(0, 0, 0, 0);
	fx_add(p, "main;x;lock", 0, 4, 40);
	fx_add(p, "main;y;lock", 0, 9, 90);
	fx_add(p, "other;z", 0, 1, 10);
	CHECK_OK(server_scrape_delta_apply(&st, p, 3, 1, &out, &from, NULL));
	CHECK(out == NULL);
	prof_free(p);

	p = mutex_prof(0, 0, 0, 0);
	fx_add(p, "other;z", 0, 1, 10);
	fx_add(p, "main;y;lock", 0, 9, 95);
	fx_add(p, "main;x;lock", 0, 4, 40);
	CHECK_OK(server_scrape_delta_apply(&st, p, 3, 2, &out, &from, NULL));
	CHECK_EQ_INT(prof_n_samples(out), 1);
	CHECK_EQ_INT(value_of(out, "main;y;lock", 0), 0);
	CHECK_EQ_INT(value_of(out, "main;y;lock", 1), 5);
	prof_free(out);
	prof_free(p);
	server_scrape_delta_fini(&st);
}
