/*
 * test_store_split.c — sample labels lifted into series labels (src/store/split.c) through the
 * local store: one series per distinct label set, a sample label winning over a request label
 * of the same name, span_id (and the legacy profile_id) kept per sample, trace_id, numeric
 * and "__" labels not lifted, bad sample labels refused, and the same series after a reopen
 * (WAL replay) and after a cut (blocks).
 */
#include <string.h>

#include "store/store.h"
#include "test.h"
#include "test_store_fixture.h"

#define SEC 1000000000LL

/* Adds a sample with string labels k0=v0, k1=v1 ... (NULL-terminated). */
static void add_lab(struct prof *p, const char *stack, int64_t v, const char *const *kv)
{
	struct prof_label l[8];
	size_t n = 0;

	for (; kv[2 * n]; n++)
		l[n] = (struct prof_label){.key = prof_intern_cstr(p, kv[2 * n]),
					   .str = prof_intern_cstr(p, kv[2 * n + 1])};
	prof_add_sample(p, fx_stack(p, stack), n ? prof_add_labelset(p, l, n) : 0, &v);
}

static const char *label_of(const struct store_labelset *ls, const char *name)
{
	for (size_t i = 0; i < ls->n; i++)
		if (!strcmp(ls->labels[i].name, name))
			return ls->labels[i].value;
	return NULL;
}

static void check_split(struct store *s)
{
	struct store_query q = {0};
	struct store_result *r;
	uint64_t span = 0x1122334455667788ULL;
	struct prof *out;

	CHECK_OK(store_series_list(s, &q, &r, NULL));
	CHECK_EQ_INT(r->n_sets, 4);
	for (size_t i = 0; i < r->n_sets; i++) {
		const char *ep = label_of(&r->sets[i], "endpoint");

		CHECK_EQ_STR(label_of(&r->sets[i], STORE_LABEL_SERVICE), "api");
		CHECK(label_of(&r->sets[i], "trace_id") == NULL);
		CHECK(label_of(&r->sets[i], "span_id") == NULL);
		CHECK(label_of(&r->sets[i], "__hidden") == NULL);
		CHECK(label_of(&r->sets[i], "bytes") == NULL);
		if (ep && !strcmp(ep, "/b"))
			CHECK_EQ_STR(label_of(&r->sets[i], "env"), "dev");
		else
			CHECK_EQ_STR(label_of(&r->sets[i], "env"), "prod");
	}
	store_result_free(r);
	CHECK_EQ_INT(fx_total(s, "endpoint", "/a"), 5 + 2 + 11);
	CHECK_EQ_INT(fx_total(s, "endpoint", "/b"), 7);
	CHECK_EQ_INT(fx_total(s, "endpoint", ""), 3 + 13 + 17);
	CHECK_EQ_INT(fx_total(s, "env", "prod"), 5 + 2 + 11 + 3 + 13 + 17);
	CHECK_EQ_INT(fx_total(s, "env", "dev"), 7);
	CHECK_EQ_INT(fx_total(s, "region", "eu"), 17);
	CHECK_EQ_INT(fx_total(s, STORE_LABEL_SERVICE, "api"), 58);
	/* span ids stay per sample, from span_id or profile_id */
	q.profile_type = T_PTYPE;
	CHECK_OK(store_select_spans(s, &q, &span, 1, &out, NULL));
	CHECK_EQ_INT(prof_total(out, 0), 2 + 11);
	prof_free(out);
}

TEST(store_split_sample_labels_into_series)
{
	struct store *s;
	struct prof *p = fx_prof_new();
	struct store_label req[] = {{STORE_LABEL_SERVICE, "api"}, {"env", "prod"}};
	struct store_append a = {
		.labels = req, .n_labels = 2, .name = "process_cpu", .time_ns = 5 * SEC, .prof = p};
	const char *const a1[] = {"endpoint", "/a", NULL};
	const char *const a2[] = {"endpoint", "/a", "span_id", "1122334455667788", NULL};
	const char *const a3[] = {"profile_id", "1122334455667788",
				  "endpoint",	"/a",
				  "trace_id",	"0123456789abcdef0123456789abcdef",
				  NULL};
	const char *const b1[] = {"endpoint", "/b", "env", "dev", NULL};
	const char *const none[] = {"__hidden", "x", "endpoint", "", NULL};
	const char *const eu[] = {"region", "eu", NULL};
	struct prof_label num = {.key = prof_intern_cstr(p, "bytes"), .num = 42};
	int64_t v = 13;

	CHECK_OK(fx_open(test_tmpdir(), NULL, &s));
	add_lab(p, "main;a", 5, a1);
	add_lab(p, "main;a", 2, a2);
	add_lab(p, "main;b", 11, a3);
	add_lab(p, "main;b", 7, b1);
	add_lab(p, "main;c", 3, none);
	prof_add_sample(p, fx_stack(p, "main;d"), prof_add_labelset(p, &num, 1), &v);
	add_lab(p, "main;e", 17, eu);
	CHECK_OK(store_append(s, &a, NULL));
	prof_free(p);
	check_split(s);
	store_close(s);
	CHECK_OK(fx_open(test_tmpdir(), NULL, &s)); /* WAL replay splits the same way */
	check_split(s);
	CHECK_OK(store_cut(s, NULL));
	check_split(s);
	store_close(s);
}

TEST(store_split_refuses_bad_sample_labels)
{
	struct store *s;
	struct ember_diag d = {{0}};
	struct store_label req[] = {{STORE_LABEL_SERVICE, "api"}};
	struct store_append a = {.labels = req, .n_labels = 1, .name = "process_cpu"};
	const char *const bad_name[] = {"9lives", "x", NULL};
	char big[3000];
	const char *const long_value[] = {"k", big, NULL};
	struct store_opts o = {.dir = test_tmpdir(), .limits = {.max_labels_per_series = 5}};

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	CHECK_OK(store_open(&o, &s, NULL));
	for (int k = 0; k < 3; k++) {
		struct prof *p = fx_prof_new();
		const char *const many[] = {"a", "1", "b", "2", "c", "3", NULL};

		add_lab(p, "main;a", 1, k == 0 ? bad_name : k == 1 ? long_value : many);
		a.prof = p;
		a.time_ns = (k + 1) * SEC;
		CHECK(store_append(s, &a, &d) < 0);
		CHECK(strstr(d.msg, k == 0   ? "bad sample label name"
				    : k == 1 ? "longer than"
					     : "labels per series") != NULL);
		prof_free(p);
	}
	{ /* a request label without a name, next to sample labels: refused, not read */
		struct store_label bad[] = {{NULL, "x"}};
		struct store_append b = {.labels = bad, .n_labels = 1, .name = "process_cpu"};
		struct prof *p = fx_prof_new();
		const char *const ep[] = {"endpoint", "/a", NULL};

		add_lab(p, "main;a", 1, ep);
		b.prof = p;
		CHECK_EQ_INT(store_append(s, &b, &d), -EMBER_EUSAGE);
		CHECK(strstr(d.msg, "bad label name") != NULL);
		prof_free(p);
	}
	{
		struct store_query q = {0};
		struct store_result *r;

		CHECK_OK(store_series_list(s, &q, &r, NULL));
		CHECK_EQ_INT(r->n_sets, 0); /* nothing half-appended */
		store_result_free(r);
	}
	store_close(s);
}
