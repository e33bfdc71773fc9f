/*
 * test_filter.c — unit tests for src/profile/filter.c: focus/ignore over every frame (inline
 * frames included), anchored label filters on string and numeric labels, bad regexes, match
 * limits, and agreement with a per-sample reference on random profiles.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "profile/filter.h"
#include "profile/profile.h"
#include "prof_fixture.h"
#include "test.h"

/*
 * The fixture, root first ("x+y": y inlined into x):
 *   main;foo;bar     1     thread=t1
 *   main;baz        10     thread=t2, bytes=64
 *   main;qux+zap   100     (no labels)
 *   main;foo;zap  1000     thread=t10
 */
static struct prof *t_fixture(void)
{
	struct prof *p = fx_types("cpu", "nanoseconds", NULL, NULL);
	uint32_t thread = prof_intern_cstr(p, "thread");
	struct prof_label l1 = {.key = thread, .str = prof_intern_cstr(p, "t1")};
	struct prof_label l2[2] = {{.key = thread, .str = prof_intern_cstr(p, "t2")},
				   {.key = prof_intern_cstr(p, "bytes"), .num = 64}};
	struct prof_label l10 = {.key = thread, .str = prof_intern_cstr(p, "t10")};

	fx_add(p, "main;foo;bar", prof_add_labelset(p, &l1, 1), 1, 0);
	fx_add(p, "main;baz", prof_add_labelset(p, l2, 2), 10, 0);
	fx_add(p, "main;qux+zap", 0, 100, 0);
	fx_add(p, "main;foo;zap", prof_add_labelset(p, &l10, 1), 1000, 0);
	prof_meta(p)->period = 10000000;
	prof_meta(p)->duration_ns = 42;
	prof_add_comment(p, prof_intern_cstr(p, "fixture"));
	return p;
}

/* Total of the filtered fixture, or a negative error. */
static int64_t t_filtered_total(const char *focus, const char *ignore, const char *key,
				const char *re)
{
	struct prof *p = t_fixture(), *out = NULL;
	struct prof_filter_opts o = {
		.focus = focus, .ignore = ignore, .label_key = key, .label_re = re};
	struct ember_diag d = {{0}};
	int rc = prof_filter(p, &o, &out, &d);
	int64_t total = rc < 0 ? rc : prof_total(out, 0);

	prof_free(out);
	prof_free(p);
	return total;
}

TEST(filter_focus_any_frame)
{
	CHECK_EQ_INT(t_filtered_total(NULL, NULL, NULL, NULL), 1111);
	CHECK_EQ_INT(t_filtered_total("bar", NULL, NULL, NULL), 1);
	CHECK_EQ_INT(t_filtered_total("zap", NULL, NULL, NULL), 1100); /* inline frame too */
	CHECK_EQ_INT(t_filtered_total("qux", NULL, NULL, NULL), 100);  /* its caller */
	CHECK_EQ_INT(t_filtered_total("^ba", NULL, NULL, NULL), 11);   /* unanchored search */
	CHECK_EQ_INT(t_filtered_total("a", NULL, NULL, NULL), 1111);   /* main */
	CHECK_EQ_INT(t_filtered_total("fo+", NULL, NULL, NULL), 1001);
	CHECK_EQ_INT(t_filtered_total("^(bar|baz)$", NULL, NULL, NULL), 11);
	CHECK_EQ_INT(t_filtered_total("nothing", NULL, NULL, NULL), 0);
	CHECK_EQ_INT(t_filtered_total("", NULL, NULL, NULL), 1111);
}

TEST(filter_ignore_and_both)
{
	CHECK_EQ_INT(t_filtered_total(NULL, "foo", NULL, NULL), 110);
	CHECK_EQ_INT(t_filtered_total(NULL, "zap", NULL, NULL), 11); /* inline frame too */
	CHECK_EQ_INT(t_filtered_total(NULL, "main", NULL, NULL), 0);
	CHECK_EQ_INT(t_filtered_total("main", "zap", NULL, NULL), 11);
	CHECK_EQ_INT(t_filtered_total("foo", "bar", NULL, NULL), 1000);
}

TEST(filter_labels_anchored)
{
	CHECK_EQ_INT(t_filtered_total(NULL, NULL, "thread", "t1"), 1); /* not t10 */
	CHECK_EQ_INT(t_filtered_total(NULL, NULL, "thread", "t1.*"), 1001);
	CHECK_EQ_INT(t_filtered_total(NULL, NULL, "thread", "t1|t2"), 11);
	CHECK_EQ_INT(t_filtered_total(NULL, NULL, "thread", "1"), 0);
	CHECK_EQ_INT(t_filtered_total(NULL, NULL, "thread", ".*"), 1011); /* has the label */
	CHECK_EQ_INT(t_filtered_total(NULL, NULL, "thread", NULL), 1011);
	CHECK_EQ_INT(t_filtered_total(NULL, NULL, "bytes", "64"), 10); /* numeric as decimal */
	CHECK_EQ_INT(t_filtered_total(NULL, NULL, "bytes", "6[0-9]"), 10);
	CHECK_EQ_INT(t_filtered_total(NULL, NULL, "bytes", "4"), 0);
	CHECK_EQ_INT(t_filtered_total(NULL, NULL, "missing", ".*"), 0);
	CHECK_EQ_INT(t_filtered_total("zap", NULL, "thread", "t.*"), 1000);
}

TEST(filter_output_keeps_meta_and_prunes_symbols)
{
	struct prof *p = t_fixture(), *out = NULL;
	struct prof_filter_opts o = {.focus = "bar"};
	const uint32_t *c;
	size_t n;

	CHECK_OK(prof_filter(p, &o, &out, NULL));
	CHECK_EQ_INT(prof_n_sample_types(out), 1);
	CHECK_EQ_STR(prof_string(out, prof_sample_types(out)[0].unit), "nanoseconds");
	CHECK_EQ_INT(prof_meta_get(out)->period, 10000000);
	CHECK_EQ_INT(prof_meta_get(out)->duration_ns, 42);
	c = prof_comments(out, &n);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(prof_string(out, c[0]), "fixture");
	CHECK_EQ_INT(prof_n_samples(out), 1);
	CHECK_EQ_INT(prof_n_functions(out), 3); /* main foo bar */
	CHECK_EQ_INT(prof_n_locations(out), 3);
	/* the input is untouched */
	CHECK_EQ_INT(prof_total(p, 0), 1111);
	prof_free(out);
	out = NULL;
	CHECK_OK(prof_filter(p, NULL, &out, NULL));
	CHECK_EQ_INT(prof_n_samples(out), 4);
	prof_free(out);
	prof_free(p);
}

TEST(filter_bad_regex_and_usage)
{
	struct prof *p = t_fixture(), *out = (struct prof *)1;
	struct prof_filter_opts o = {.focus = "ma(in"};
	struct ember_diag d = {{0}};

	CHECK_EQ_INT(prof_filter(p, &o, &out, &d), -EMBER_EUSAGE);
	CHECK(out == NULL);
	CHECK(strstr(d.msg, "focus") != NULL);
	CHECK(strstr(d.msg, "ma(in") != NULL);
	CHECK(strstr(d.msg, "offset 5") != NULL);
	o = (struct prof_filter_opts){.ignore = "[z-a]"};
	CHECK_EQ_INT(prof_filter(p, &o, &out, &d), -EMBER_EUSAGE);
	CHECK(strstr(d.msg, "ignore") != NULL);
	o = (struct prof_filter_opts){.label_key = "thread", .label_re = "*"};
	CHECK_EQ_INT(prof_filter(p, &o, &out, &d), -EMBER_EUSAGE);
	CHECK(strstr(d.msg, "label") != NULL);
	o = (struct prof_filter_opts){.label_re = "t1"};
	CHECK_EQ_INT(prof_filter(p, &o, &out, &d), -EMBER_EUSAGE);
	CHECK(out == NULL);
	prof_free(p);
}

TEST(filter_match_limit)
{
	struct prof *p = fx_types("cpu", "nanoseconds", NULL, NULL), *out = NULL;
	struct prof_filter_opts o = {.focus = "^(a|aa)+$"};
	struct ember_diag d = {{0}};
	char name[64];
	int rc;

	memset(name, 'a', 40);
	name[40] = 'b';
	name[41] = 0;
	fx_add(p, name, 0, 1, 0);
	rc = prof_filter(p, &o, &out, &d);
	/* catastrophic backtracking is cut off by the match limit instead of hanging */
	CHECK_EQ_INT(rc, -EMBER_ELIMIT);
	CHECK(out == NULL);
	CHECK(strstr(d.msg, "limit") != NULL);
	prof_free(p);
}

TEST(filter_alloc_failure)
{
	struct prof *p = t_fixture();
	struct prof_filter_opts o = {
		.focus = "fo+|zap", .ignore = "bar", .label_key = "thread", .label_re = "t.*"};
	int n_ok = 0;

	/* pcre2 allocates through mem_try_alloc: every failure point is -ENOMEM, never a leak */
	for (uint64_t k = 1; k <= 40; k++) {
		struct prof *out = NULL;
		int rc;

		mem_fail_after(k);
		rc = prof_filter(p, &o, &out, NULL);
		mem_fail_after(0);
		CHECK_MSG(rc == 0 || rc == -ENOMEM, "fail_after %d: rc %d", (int)k, rc);
		CHECK(rc == 0 || out == NULL);
		if (rc == 0) {
			CHECK_EQ_INT(prof_total(out, 0), 1000);
			n_ok++;
		}
		prof_free(out);
	}
	CHECK(n_ok > 0 && n_ok < 40);
	prof_free(p);
}

/* Reference: does any frame of the sample's stack contain the literal `lit`? */
static bool t_stack_has(const struct prof *p, uint32_t node, const char *lit)
{
	char tmp[80];

	for (; node; node = prof_node_parent(p, node)) {
		uint32_t loc = prof_node_location(p, node);

		for (uint32_t i = 0; i < prof_location_n_frames(p, loc); i++)
			if (strstr(prof_frame_name(p, loc, i, tmp), lit))
				return true;
	}
	return false;
}

TEST(filter_random_matches_reference)
{
	static const char *const lits[] = {"f1", "f7", "f12", "f3"};

	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct prof *p = fx_random(seed, 300, 20, 8);

		for (size_t a = 0; a < 4; a++) {
			const char *focus = lits[a], *ignore = lits[(a + 1) % 4];
			struct prof_filter_opts o = {.focus = focus, .ignore = ignore};
			struct prof *out = NULL;
			int64_t want = 0;

			for (size_t i = 0; i < prof_n_samples(p); i++) {
				struct prof_sample s;

				prof_sample_get(p, i, &s);
				if (t_stack_has(p, s.node, focus) &&
				    !t_stack_has(p, s.node, ignore))
					want += s.values[1];
			}
			CHECK_OK(prof_filter(p, &o, &out, NULL));
			CHECK_EQ_INT(prof_total(out, 1), want);
			for (size_t i = 0; i < prof_n_samples(out); i++) {
				struct prof_sample s;

				prof_sample_get(out, i, &s);
				CHECK(t_stack_has(out, s.node, focus));
				CHECK(!t_stack_has(out, s.node, ignore));
			}
			prof_free(out);
		}
		prof_free(p);
	}
}
