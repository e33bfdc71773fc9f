/*
 * ch_tool.c — test driver for tests/integration/clickhouse_basic.sh: opens the ClickHouse
 * backend at the URL given (creating the schema), appends N generated profiles (two sample
 * types, three stacks, one sample with a span id) through the store interface and prints
 * "appended N total0 total1" for the script to compare with SQL results. Also checks that a
 * label value with quotes and an apostrophe reads back intact. Exit 0 on success.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"
#include "store/store.h"

static uint32_t loc(struct prof *p, const char *fn, uint64_t addr)
{
	struct prof_function f = {.name = prof_intern_cstr(p, fn),
				  .filename = prof_intern_cstr(p, "main.c")};
	struct prof_line l = {.function = prof_add_function(p, &f), .line = 10};

	return prof_add_location(p, 0, addr, &l, 1, false);
}

static struct prof *gen(int k, int64_t *tot0, int64_t *tot1)
{
	struct prof *p = prof_new();
	uint32_t a = loc(p, "main", 0x10), b = loc(p, "work", 0x20), c = loc(p, "it's\ttab", 0x30);
	uint32_t s1[] = {b, a}, s2[] = {c, b, a}, s3[] = {a};
	struct prof_label span = {.key = prof_intern_cstr(p, "span_id"),
				  .str = prof_intern_cstr(p, "00000000000000ff")};
	uint32_t ls = prof_add_labelset(p, &span, 1);
	int64_t v1[] = {10 + k, 1000}, v2[] = {5, 500 + k}, v3[] = {1, 0};

	prof_add_sample_type(p, prof_intern_cstr(p, "samples"), prof_intern_cstr(p, "count"));
	prof_add_sample_type(p, prof_intern_cstr(p, "cpu"), prof_intern_cstr(p, "nanoseconds"));
	prof_meta(p)->period_type.type = prof_intern_cstr(p, "cpu");
	prof_meta(p)->period_type.unit = prof_intern_cstr(p, "nanoseconds");
	prof_meta(p)->period = 10000000;
	prof_meta(p)->duration_ns = 10000000000LL;
	prof_meta(p)->time_ns = 1700000000000000000LL + (int64_t)k * 10000000000LL;
	prof_add_sample(p, prof_add_stack(p, s1, 2), 0, v1);
	prof_add_sample(p, prof_add_stack(p, s2, 3), ls, v2);
	prof_add_sample(p, prof_add_stack(p, s3, 1), 0, v3);
	*tot0 += v1[0] + v2[0] + v3[0];
	*tot1 += v1[1] + v2[1] + v3[1];
	return p;
}

int main(int argc, char **argv)
{
	struct store_opts o = {.backend = "clickhouse"};
	struct store_label labels[] = {{"service_name", "svc-a"}, {"env", "it's \"prod\""}};
	struct store_query q = {0};
	struct store_result *r = NULL;
	struct ember_diag d = {""};
	struct store *s;
	int64_t t0 = 0, t1 = 0;
	int i, n, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: ch_tool URL N\n");
		return 2;
	}
	o.url = argv[1];
	n = (int)strtol(argv[2], NULL, 10);
	rc = store_open(&o, &s, &d);
	if (rc) {
		fprintf(stderr, "ch_tool: open: %d %s\n", rc, d.msg);
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct store_append a = {
			.tenant = "t1", .labels = labels, .n_labels = 2, .name = "process_cpu"};
		struct prof *p = gen(i, &t0, &t1);

		a.prof = p;
		rc = store_append(s, &a, &d);
		prof_free(p);
		if (rc) {
			fprintf(stderr, "ch_tool: append %d: %d %s\n", i, rc, d.msg);
			store_close(s);
			return 1;
		}
	}
	/* A value with quotes and an apostrophe comes back intact through the read side. */
	q.tenant = "t1";
	rc = store_label_values(s, &q, "env", &r, &d);
	if (rc || r->n_strings != 1 || strcmp(r->strings[0], labels[1].value)) {
		fprintf(stderr, "ch_tool: label_values(env) gave %d \"%s\" (%zu values: %s)\n", rc,
			d.msg, r ? r->n_strings : 0, r && r->n_strings ? r->strings[0] : "");
		store_result_free(r);
		store_close(s);
		return 1;
	}
	store_result_free(r);
	store_close(s);
	printf("appended %d %lld %lld\n", n, (long long)t0, (long long)t1);
	return 0;
}
