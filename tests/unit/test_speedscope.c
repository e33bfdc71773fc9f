/*
 * test_speedscope.c — speedscope export judged by Python's json module: schema URL, exporter,
 * name, activeProfileIndex = the default sample type, one sampled profile per sample type with
 * the mapped unit, weights summing to endValue = the profile total, samples root first with
 * inline frames expanded outer to inner, frames shared and deduplicated (file/line kept).
 */
#include "base/buf.h"
#include "base/err.h"
#include "fmt_check.h"
#include "format/folded.h"
#include "format/speedscope.h"
#include "test.h"

static const char summary_py[] =
	"import json, sys\n"
	"d = json.load(sys.stdin)\n"
	"assert d['$schema'] == 'https://www.speedscope.app/file-format-schema.json'\n"
	"fr = d['shared']['frames']\n"
	"names = [f['name'] for f in fr]\n"
	"assert len(set((f['name'], f.get('file'), f.get('line')) for f in fr)) == len(fr)\n"
	"print(d['exporter'], d.get('name'), d['activeProfileIndex'], len(fr))\n"
	"for f in fr:\n"
	"    if 'file' in f or 'line' in f:\n"
	"        print('frame', f['name'], f.get('file'), f.get('line'))\n"
	"for p in d['profiles']:\n"
	"    assert p['type'] == 'sampled' and p['startValue'] == 0\n"
	"    assert len(p['samples']) == len(p['weights'])\n"
	"    assert sum(p['weights']) == p['endValue']\n"
	"    assert all(w > 0 for w in p['weights'])\n"
	"    print(p['name'], p['unit'], p['endValue'])\n"
	"    for s in sorted(';'.join(names[i] for i in s) + ' ' + str(w)\n"
	"                    for s, w in zip(p['samples'], p['weights'])):\n"
	"        print(' ', s)\n";

/* Runs the summary script over speedscope_write(p, name). */
static int summary(const struct prof *p, const char *name, char *out, size_t cap)
{
	struct buf b;
	int rc;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	rc = speedscope_write(p, name, &b);
	if (rc == 0)
		rc = fmt_check_python(summary_py, b.data, b.len, out, cap);
	else
		rc = 1000 - rc;
	buf_fini(&b);
	return rc;
}

TEST(speedscope_from_folded)
{
	static const char in[] = "main;foo;bar 5\nmain;foo 10\nmain;baz 3\nmain;foo 2\n";
	struct prof *p;
	struct ember_diag d = {{0}};
	char out[2048];
	int rc;

	CHECK_OK(folded_read(in, sizeof(in) - 1, NULL, NULL, &p, &d));
	rc = summary(p, "my \"app\"", out, sizeof(out));
	prof_free(p);
	if (rc == -1)
		SKIP("python3 not available");
	CHECK_MSG(rc == 0, "python failed (%d): %s", rc, out);
	CHECK_EQ_STR(out, "ember my \"app\" 0 4\n"
			  "samples none 20\n"
			  "  main;baz 3\n"
			  "  main;foo 12\n"
			  "  main;foo;bar 5\n");
}

TEST(speedscope_types_inline_units)
{
	struct prof *p = prof_new();
	struct prof_function f = {0};
	struct prof_line lines[2] = {{0}};
	struct prof_label lab = {0};
	uint32_t fn_main, fn_outer, fn_inl, l_main, l_inl, l_raw, stack[3], n1, n2;
	int64_t v[3];
	char out[2048];
	int rc;

	prof_add_sample_type(p, prof_intern_cstr(p, "samples"), prof_intern_cstr(p, "count"));
	prof_add_sample_type(p, prof_intern_cstr(p, "cpu"), prof_intern_cstr(p, "nanoseconds"));
	prof_add_sample_type(p, prof_intern_cstr(p, "alloc_space"), prof_intern_cstr(p, "bytes"));
	prof_meta(p)->default_sample_type = prof_intern_cstr(p, "cpu");
	f.name = prof_intern_cstr(p, "main");
	f.filename = prof_intern_cstr(p, "src/main.c");
	f.start_line = 10;
	fn_main = prof_add_function(p, &f);
	memset(&f, 0, sizeof(f));
	f.name = prof_intern_cstr(p, "outer");
	fn_outer = prof_add_function(p, &f);
	f.name = prof_intern_cstr(p, "inl");
	fn_inl = prof_add_function(p, &f);
	lines[0].function = fn_main;
	lines[0].line = 12;
	l_main = prof_add_location(p, 0, 0x10, lines, 1, false);
	lines[0].function = fn_inl;
	lines[1].function = fn_outer;
	l_inl = prof_add_location(p, 0, 0x20, lines, 2, false);
	l_raw = prof_add_location(p, 0, 0xbeef, NULL, 0, false);
	stack[0] = l_inl;
	stack[1] = l_main;
	n1 = prof_add_stack(p, stack, 2);
	stack[0] = l_raw;
	stack[1] = l_inl;
	stack[2] = l_main;
	n2 = prof_add_stack(p, stack, 3);
	lab.key = prof_intern_cstr(p, "k");
	lab.str = prof_intern_cstr(p, "v");
	v[0] = 1, v[1] = 10, v[2] = 0;
	prof_add_sample(p, n1, 0, v);
	v[0] = 2, v[1] = 20, v[2] = 512;
	prof_add_sample(p, n1, prof_add_labelset(p, &lab, 1), v);
	v[0] = 4, v[1] = 0, v[2] = 1024;
	prof_add_sample(p, n2, 0, v);

	rc = summary(p, NULL, out, sizeof(out));
	prof_free(p);
	if (rc == -1)
		SKIP("python3 not available");
	CHECK_MSG(rc == 0, "python failed (%d): %s", rc, out);
	CHECK_EQ_STR(out, "ember None 1 4\n"
			  "frame main src/main.c 10\n"
			  "samples none 7\n"
			  "  main;outer;inl 3\n"
			  "  main;outer;inl;0xbeef 4\n"
			  "cpu nanoseconds 30\n"
			  "  main;outer;inl 30\n"
			  "alloc_space bytes 1536\n"
			  "  main;outer;inl 512\n"
			  "  main;outer;inl;0xbeef 1024\n");
}

TEST(speedscope_empty_profile)
{
	struct prof *p = prof_new();
	char out[512];
	int rc;

	rc = summary(p, "empty", out, sizeof(out));
	prof_free(p);
	if (rc == -1)
		SKIP("python3 not available");
	CHECK_MSG(rc == 0, "python failed (%d): %s", rc, out);
	CHECK_EQ_STR(out, "ember empty 0 0\n");
}

TEST(speedscope_buffer_limit)
{
	struct prof *p;
	struct ember_diag d = {{0}};
	struct buf b;

	CHECK_OK(folded_read("a;b 1\n", 6, NULL, NULL, &p, &d));
	buf_init(&b, MEM_TEST, 32);
	CHECK_EQ_INT(speedscope_write(p, "x", &b), -EMBER_ELIMIT);
	buf_fini(&b);
	prof_free(p);
}
