/*
 * test_store_fixture.h — helpers shared by the store unit tests (test_store*.c): building small
 * profiles from "root;a;b" stack strings, opening a store in the test directory, and reading a
 * merged profile back as (stack string, value) pairs. Header-only (static functions).
 */
#ifndef EMBER_TESTS_UNIT_STORE_FIXTURE_H
#define EMBER_TESTS_UNIT_STORE_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "profile/profile.h"
#include "store/store.h"

#define T_PTYPE "process_cpu:cpu:nanoseconds:cpu:nanoseconds"

static inline uint32_t fx_loc(struct prof *p, const char *name, size_t len)
{
	struct prof_function f = {.name = prof_intern(p, name, len)};
	struct prof_line l = {.function = prof_add_function(p, &f), .line = 1};

	return prof_add_location(p, 0, 0, &l, 1, false);
}

static inline uint32_t fx_stack(struct prof *p, const char *stack)
{
	uint32_t node = 0;

	while (*stack) {
		size_t len = strcspn(stack, ";");

		node = prof_node_child(p, node, fx_loc(p, stack, len));
		stack += len;
		if (*stack)
			stack++;
	}
	return node;
}

static inline struct prof *fx_prof_new(void)
{
	struct prof *p = prof_new();

	prof_add_sample_type(p, prof_intern_cstr(p, "cpu"), prof_intern_cstr(p, "nanoseconds"));
	prof_meta(p)->period_type.type = prof_intern_cstr(p, "cpu");
	prof_meta(p)->period_type.unit = prof_intern_cstr(p, "nanoseconds");
	prof_meta(p)->period = 10000000;
	prof_meta(p)->duration_ns = 10000000000LL;
	return p;
}

/* span: 0 = none, else the sample gets label span_id=<16 hex>. */
static inline void fx_add(struct prof *p, const char *stack, int64_t v, uint64_t span)
{
	uint32_t ls = 0;

	if (span) {
		char hex[17];
		struct prof_label l = {.key = prof_intern_cstr(p, STORE_SAMPLE_LABEL_SPAN)};

		snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)span);
		l.str = prof_intern_cstr(p, hex);
		ls = prof_add_labelset(p, &l, 1);
	}
	prof_add_sample(p, fx_stack(p, stack), ls, &v);
}

static inline int fx_append(struct store *s, const char *tenant, const char *service, int64_t t,
			    const struct prof *p, struct ember_diag *d)
{
	struct store_label l[1] = {{STORE_LABEL_SERVICE, service}};
	struct store_append a = {.tenant = tenant,
				 .labels = l,
				 .n_labels = 1,
				 .name = "process_cpu",
				 .time_ns = t,
				 .prof = p};

	return store_append(s, &a, d);
}

/* A merge over all time of the T_PTYPE series where label `name` equals `value` (name NULL:
 * every series); NULL when the query fails. */
static inline struct prof *fx_merge(struct store *s, const char *name, const char *value)
{
	struct store_matcher m = {name, value, STORE_MATCH_EQ};
	struct store_query q = {
		.profile_type = T_PTYPE, .matchers = &m, .n_matchers = name ? 1 : 0};
	struct prof *p;

	return store_select_merge(s, &q, &p, NULL) ? NULL : p;
}

/* Its total; -1 when the query fails. */
static inline int64_t fx_total(struct store *s, const char *name, const char *value)
{
	struct prof *p = fx_merge(s, name, value);
	int64_t t;

	if (!p)
		return -1;
	t = prof_total(p, 0);
	prof_free(p);
	return t;
}

static inline int fx_open(const char *dir, const struct store_io *io, struct store **s)
{
	struct store_opts o = {.dir = dir, .io = io};
	struct ember_diag d = {{0}};
	int rc = store_open(&o, s, &d);

	if (rc)
		fprintf(stderr, "store_open: %s\n", d.msg);
	return rc;
}

/* Value of the stack "a;b;c" (root first) in p, summed over samples with exactly that stack. */
static inline int64_t fx_value(const struct prof *p, const char *stack)
{
	int64_t sum = 0;

	for (size_t i = 0; i < prof_n_samples(p); i++) {
		struct prof_sample s;
		char buf[512];
		uint32_t nodes[64], n = 0;
		size_t len = 0;

		prof_sample_get(p, i, &s);
		for (uint32_t nd = s.node; nd && n < 64; nd = prof_node_parent(p, nd))
			nodes[n++] = nd;
		buf[0] = 0;
		while (n--) {
			char tmp[80];
			const char *nm =
				prof_frame_name(p, prof_node_location(p, nodes[n]), 0, tmp);

			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
						len ? ";" : "", nm);
			if (len >= sizeof(buf))
				break;
		}
		if (!strcmp(buf, stack))
			sum += s.values[0];
	}
	return sum;
}

#endif
