/*
 * test_relabel.c — the agent's selectors and Prometheus-style relabel rules (agent/relabel.h):
 * each action on a process's discovered labels, $-expansion, defaults, scratch "__" labels,
 * include/exclude, and the errors for bad rules.
 */
#include <stdio.h>
#include <string.h>

#include "agent/relabel.h"
#include "test.h"

static struct agent_labels *proc_labels(void)
{
	static struct agent_labels ls;

	memset(&ls, 0, sizeof(ls));
	agent_labels_set(&ls, "service_name", "python3.11");
	agent_labels_set(&ls, "pid", "4242");
	agent_labels_set(&ls, "comm", "gunicorn");
	agent_labels_set(&ls, "executable", "/usr/bin/python3.11");
	agent_labels_set(&ls, "cgroup", "/system.slice/shop-api.service");
	agent_labels_set(&ls, "systemd_unit", "shop-api.service");
	return &ls;
}

static struct agent_relabel *one_rule(const struct agent_relabel_spec *s)
{
	struct agent_relabel *r = agent_relabel_new();
	struct ember_diag d = {{0}};
	if (agent_relabel_add(r, s, &d))
		fprintf(stderr, "rule refused: %s\n", d.msg); /* then the test's checks fail */
	return r;
}

TEST(relabel_labels_set_get_delete)
{
	struct agent_labels ls = {0};
	char big[AGENT_LABEL_VALUE_MAX + 50];

	CHECK_OK(agent_labels_set(&ls, "a", "1"));
	CHECK_OK(agent_labels_set(&ls, "b", "2"));
	CHECK_OK(agent_labels_set(&ls, "a", "3"));
	CHECK_EQ_INT(ls.n, 2);
	CHECK_EQ_STR(agent_labels_get(&ls, "a"), "3");
	CHECK_EQ_STR(agent_labels_get(&ls, "zz"), "");
	CHECK_OK(agent_labels_set(&ls, "a", ""));
	CHECK_EQ_INT(ls.n, 1);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	CHECK_OK(agent_labels_set(&ls, "big", big));
	CHECK_EQ_INT(strlen(agent_labels_get(&ls, "big")), AGENT_LABEL_VALUE_MAX - 1);
	for (int i = 0; ls.n < AGENT_LABELS_MAX; i++) {
		char name[16];
		snprintf(name, sizeof(name), "l%d", i);
		CHECK_OK(agent_labels_set(&ls, name, "v"));
	}
	CHECK(agent_labels_set(&ls, "one_too_many", "v") == -EMBER_ELIMIT);
	CHECK(agent_label_name_ok("service_name"));
	CHECK(agent_label_name_ok("k8s.pod"));
	CHECK(!agent_label_name_ok("9lives"));
	CHECK(!agent_label_name_ok("a-b"));
	CHECK(!agent_label_name_ok(""));
}

TEST(relabel_replace_from_cgroup_sets_service_name)
{
	const char *src[] = {"cgroup"};
	struct agent_relabel_spec s = {.source_labels = src,
				       .n_source = 1,
				       .regex = "/system\\.slice/(.+)\\.service",
				       .target_label = "service_name"};
	struct agent_relabel *r = one_rule(&s);
	struct agent_labels *ls = proc_labels();

	CHECK(agent_relabel_apply(r, ls));
	CHECK_EQ_STR(agent_labels_get(ls, "service_name"), "shop-api");
	/* No match: nothing changes. */
	agent_labels_set(ls, "cgroup", "/user.slice/x.scope");
	agent_labels_set(ls, "service_name", "keep-me");
	CHECK(agent_relabel_apply(r, ls));
	CHECK_EQ_STR(agent_labels_get(ls, "service_name"), "keep-me");
	agent_relabel_free(r);
}

TEST(relabel_replace_expansion_and_join)
{
	const char *src[] = {"comm", "pid"};
	struct agent_relabel_spec s = {.source_labels = src,
				       .n_source = 2,
				       .separator = "@",
				       .regex = "(?<who>[a-z]+)@(\\d+)",
				       .target_label = "id_$1",
				       .replacement = "${who}-${2}x$$ $2x ${nope"};
	struct agent_relabel *r = one_rule(&s);
	struct agent_labels *ls = proc_labels();

	CHECK(agent_relabel_apply(r, ls));
	/* $2x names a group "2x" that does not exist: empty, as in Prometheus (Go's Expand). */
	CHECK_EQ_STR(agent_labels_get(ls, "id_gunicorn"), "gunicorn-4242x$  ${nope");
	agent_relabel_free(r);
}

TEST(relabel_replace_empty_result_deletes_and_defaults)
{
	/* Defaults: regex (.*), replacement $1; an empty source value deletes the target. */
	const char *src[] = {"container_id"};
	struct agent_relabel_spec s = {.source_labels = src, .n_source = 1, .target_label = "pid"};
	struct agent_relabel *r = one_rule(&s);
	struct agent_labels *ls = proc_labels();

	CHECK(agent_relabel_apply(r, ls));
	CHECK_EQ_STR(agent_labels_get(ls, "pid"), "");
	CHECK_EQ_STR(agent_labels_get(ls, "comm"), "gunicorn");
	agent_relabel_free(r);
}

TEST(relabel_keep_drop_and_equal)
{
	const char *src[] = {"comm"};
	struct agent_relabel_spec keep = {
		.action = "keep", .source_labels = src, .n_source = 1, .regex = "guni.*"};
	struct agent_relabel_spec drop = {
		.action = "drop", .source_labels = src, .n_source = 1, .regex = "guni"};
	struct agent_relabel *r = one_rule(&keep);
	struct agent_labels *ls = proc_labels();

	CHECK(agent_relabel_apply(r, ls));
	agent_labels_set(ls, "comm", "bash");
	CHECK(!agent_relabel_apply(r, ls));
	agent_relabel_free(r);

	/* Anchored: "guni" does not match "gunicorn". */
	r = one_rule(&drop);
	ls = proc_labels();
	CHECK(agent_relabel_apply(r, ls));
	agent_labels_set(ls, "comm", "guni");
	CHECK(!agent_relabel_apply(r, ls));
	agent_relabel_free(r);

	const char *src2[] = {"comm"};
	struct agent_relabel_spec eq = {.action = "keepequal",
					.source_labels = src2,
					.n_source = 1,
					.target_label = "service_name"};
	r = one_rule(&eq);
	ls = proc_labels();
	CHECK(!agent_relabel_apply(r, ls));
	agent_labels_set(ls, "service_name", "gunicorn");
	CHECK(agent_relabel_apply(r, ls));
	agent_relabel_free(r);
}

TEST(relabel_label_actions_and_scratch)
{
	struct agent_relabel *r = agent_relabel_new();
	struct ember_diag d = {{0}};
	const char *src[] = {"executable"};
	struct agent_relabel_spec rules[] = {
		/* copy to scratch, map it back under a new name, drop pid and the scratch */
		{.source_labels = src, .n_source = 1, .target_label = "__exe"},
		{.action = "labelmap", .regex = "__(.*)", .replacement = "bin_$1"},
		{.action = "labeldrop", .regex = "pid|cgroup"},
		{.action = "uppercase",
		 .source_labels = (const char *[]){"comm"},
		 .n_source = 1,
		 .target_label = "COMM"},
	};
	struct agent_labels *ls = proc_labels();

	for (size_t i = 0; i < EMBER_ARRAY_SIZE(rules); i++)
		CHECK_OK(agent_relabel_add(r, &rules[i], &d));
	CHECK(agent_relabel_apply(r, ls));
	CHECK_EQ_STR(agent_labels_get(ls, "bin_exe"), "/usr/bin/python3.11");
	CHECK_EQ_STR(agent_labels_get(ls, "__exe"), "");
	CHECK_EQ_STR(agent_labels_get(ls, "pid"), "");
	CHECK_EQ_STR(agent_labels_get(ls, "cgroup"), "");
	CHECK_EQ_STR(agent_labels_get(ls, "COMM"), "GUNICORN");
	CHECK_EQ_STR(agent_labels_get(ls, "systemd_unit"), "shop-api.service");
	agent_relabel_free(r);

	r = agent_relabel_new();
	struct agent_relabel_spec keep = {.action = "labelkeep", .regex = "service_name|comm"};
	CHECK_OK(agent_relabel_add(r, &keep, &d));
	ls = proc_labels();
	CHECK(agent_relabel_apply(r, ls));
	agent_labels_sort(ls);
	CHECK_EQ_INT(ls->n, 2);
	CHECK_EQ_STR(ls->l[0].name, "comm");
	CHECK_EQ_STR(ls->l[1].name, "service_name");
	agent_relabel_free(r);
}

TEST(relabel_include_exclude)
{
	struct agent_relabel *r = agent_relabel_new();
	struct ember_diag d = {{0}};
	const char *n1[] = {"comm"}, *re1[] = {"guni.*|nginx"};
	const char *n2[] = {"comm", "pid"}, *re2[] = {"nginx", "1"};
	const char *n3[] = {"comm"}, *re3[] = {"gunicorn"};
	struct agent_labels *ls;

	CHECK_OK(agent_relabel_select(r, false, n1, re1, 1, &d));
	CHECK_OK(agent_relabel_select(r, false, n2, re2, 2, &d));
	ls = proc_labels();
	CHECK(agent_relabel_apply(r, ls));
	agent_labels_set(ls, "comm", "bash");
	CHECK(!agent_relabel_apply(r, ls));
	CHECK_OK(agent_relabel_select(r, true, n3, re3, 1, &d));
	ls = proc_labels();
	CHECK(!agent_relabel_apply(r, ls));
	agent_labels_set(ls, "comm", "nginx");
	CHECK(agent_relabel_apply(r, ls));
	CHECK_EQ_INT(agent_relabel_n_rules(r), 3);
	agent_relabel_free(r);

	/* Only excludes: everything else is kept. */
	r = agent_relabel_new();
	CHECK_OK(agent_relabel_select(r, true, n3, re3, 1, &d));
	ls = proc_labels();
	CHECK(!agent_relabel_apply(r, ls));
	agent_labels_set(ls, "comm", "postgres");
	CHECK(agent_relabel_apply(r, ls));
	agent_relabel_free(r);
}

TEST(relabel_errors_name_the_field)
{
	const struct {
		struct agent_relabel_spec s;
		const char *want;
	} cases[] = {
		{{.action = "hashmod", .target_label = "x"}, "action: 'hashmod' is not"},
		{{.action = "replace", .regex = "(", .target_label = "x"}, "regex: bad regex"},
		{{.action = "replace", .regex = "x"}, "target_label: needed by action replace"},
		{{.action = "keep"}, "source_labels: needed by action keep"},
		{{.action = "labeldrop", .source_labels = (const char *[]){"a"}, .n_source = 1},
		 "source_labels: not used by action labeldrop"},
		{{.action = "lowercase",
		  .source_labels = (const char *[]){"a"},
		  .n_source = 1,
		  .target_label = "a-b"},
		 "target_label: 'a-b' is not a label name"},
		{{.source_labels = (const char *[]){"a b"}, .n_source = 1, .target_label = "x"},
		 "source_labels: 'a b' is not a label name"},
	};
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(cases); i++) {
		struct agent_relabel *r = agent_relabel_new();
		struct ember_diag d = {{0}};
		int err = agent_relabel_add(r, &cases[i].s, &d);

		CHECK_MSG(err < 0, "case %zu accepted", i);
		CHECK_MSG(strstr(d.msg, cases[i].want) != NULL, "case %zu: got '%s', want '%s'", i,
			  d.msg, cases[i].want);
		CHECK_EQ_INT(agent_relabel_n_rules(r), 0);
		agent_relabel_free(r);
	}
	struct agent_relabel *r = agent_relabel_new();
	struct ember_diag d = {{0}};
	const char *n[] = {"comm"}, *re[] = {"(a"};
	CHECK(agent_relabel_select(r, false, n, re, 1, &d) < 0);
	CHECK(strstr(d.msg, "comm: bad regex") != NULL);
	agent_relabel_free(r);
}

TEST(relabel_pathological_regex_is_bounded)
{
	const char *src[] = {"comm"};
	struct agent_relabel_spec s = {
		.action = "keep", .source_labels = src, .n_source = 1, .regex = "(a+)+b"};
	struct agent_relabel *r = one_rule(&s);
	struct agent_labels *ls = proc_labels();
	char v[200];

	memset(v, 'a', sizeof(v) - 1);
	v[sizeof(v) - 1] = 0;
	agent_labels_set(ls, "comm", v);
	/* The match limit stops it: counted as no match, so keep drops the process. */
	CHECK(!agent_relabel_apply(r, ls));
	agent_relabel_free(r);
}
