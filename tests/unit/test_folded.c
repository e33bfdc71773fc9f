/*
 * test_folded.c — folded stacks: reading (aggregation, tolerance for CRLF/blank lines/spaces in
 * names/decimal counts, one function and location per name), every error with its line number,
 * the bounds (line length, depth, total), and writing (sorted, merged, inline frames outer to
 * inner, label sets merged, zero stacks omitted, names sanitized) with exact round trips.
 */
#include <errno.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "format/folded.h"
#include "test.h"

static int read_str(const char *s, struct prof **p, struct ember_diag *d)
{
	return folded_read(s, strlen(s), NULL, NULL, p, d);
}

/* folded_write of p into a NUL-terminated heap string (mem_free it). */
static char *write_str(const struct prof *p, size_t vi)
{
	struct buf b;
	size_t n;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	if (folded_write(p, vi, &b) != 0 || buf_putc(&b, 0) != 0) {
		buf_fini(&b);
		return NULL;
	}
	return (char *)buf_steal(&b, &n);
}

TEST(folded_read_basic)
{
	struct prof *p;
	struct ember_diag d = {{0}};
	const struct prof_value_type *vt;

	CHECK_OK(read_str("main;foo 10\nmain;foo;bar 5\nmain;baz 3\nmain;foo 2\n", &p, &d));
	CHECK_EQ_INT(prof_n_sample_types(p), 1);
	vt = prof_sample_types(p);
	CHECK_EQ_STR(prof_string(p, vt[0].type), "samples");
	CHECK_EQ_STR(prof_string(p, vt[0].unit), "count");
	CHECK_EQ_INT(prof_total(p, 0), 20);
	CHECK_EQ_INT(prof_n_samples(p), 3); /* main;foo aggregated */
	CHECK_EQ_INT(prof_n_functions(p), 4);
	CHECK_EQ_INT(prof_n_locations(p), 4);
	for (uint32_t i = 1; i <= prof_n_locations(p); i++) {
		struct prof_location l;

		prof_location_get(p, i, &l);
		CHECK_EQ_INT(l.n_lines, 1);
		CHECK(l.lines[0].function >= 1);
	}
	/* The stack of the main;foo;bar sample, leaf up. */
	for (size_t i = 0; i < prof_n_samples(p); i++) {
		struct prof_sample s;
		char tmp[80];
		uint32_t n;

		prof_sample_get(p, i, &s);
		if (s.values[0] != 5)
			continue;
		CHECK_EQ_INT(prof_node_depth(p, s.node), 3);
		CHECK_EQ_STR(prof_frame_name(p, prof_node_location(p, s.node), 0, tmp), "bar");
		n = prof_node_parent(p, s.node);
		CHECK_EQ_STR(prof_frame_name(p, prof_node_location(p, n), 0, tmp), "foo");
		n = prof_node_parent(p, n);
		CHECK_EQ_STR(prof_frame_name(p, prof_node_location(p, n), 0, tmp), "main");
		CHECK_EQ_INT(prof_node_parent(p, n), 0);
	}
	prof_free(p);

	/* Given sample type and unit. */
	CHECK_OK(folded_read("a 1\n", 4, "cpu", "nanoseconds", &p, &d));
	vt = prof_sample_types(p);
	CHECK_EQ_STR(prof_string(p, vt[0].type), "cpu");
	CHECK_EQ_STR(prof_string(p, vt[0].unit), "nanoseconds");
	prof_free(p);
}

TEST(folded_read_tolerant)
{
	static const char in[] = "\r\n"
				 "a b;c d 4\r\n" /* spaces in names */
				 "\n"
				 "   \t \n"	    /* blank */
				 "x;y\t\t2.5  \r\n" /* tabs, rounded up */
				 "x;y 2.4\n"	    /* rounded down */
				 "x;z .5\n"	    /* rounds to 1 */
				 "x;w 7.\n"	    /* trailing point */
				 "x;;w 1\n"	    /* empty frame skipped */
				 "zero;stack 0\n"   /* skipped */
				 "x;z 0.4\n"	    /* rounds to 0: skipped */
				 "last 3";	    /* no final newline */
	struct prof *p;
	struct ember_diag d = {{0}};
	char *out;

	CHECK_OK(read_str(in, &p, &d));
	CHECK_EQ_INT(prof_total(p, 0), 4 + 3 + 2 + 1 + 7 + 1 + 3);
	out = write_str(p, 0);
	CHECK(out);
	CHECK_EQ_STR(out, "a b;c d 4\n"
			  "last 3\n"
			  "x;w 8\n"
			  "x;y 5\n"
			  "x;z 1\n");
	mem_free(out);
	prof_free(p);
}

/* Expects folded_read(in) to fail with err and a diag starting with prefix. */
static int fails(const char *in, size_t n, int err, const char *prefix)
{
	struct prof *p = (struct prof *)1;
	struct ember_diag d = {{0}};
	int rc = folded_read(in, n, NULL, NULL, &p, &d);

	if (rc != err || p != NULL || strncmp(d.msg, prefix, strlen(prefix)) != 0) {
		fprintf(stderr, "rc %d, diag '%s', expected %d '%s'\n", rc, d.msg, err, prefix);
		return 0;
	}
	return 1;
}

TEST(folded_read_errors)
{
	CHECK(fails("a 1\n\nb x\n", 9, -EMBER_EFORMAT, "folded: line 3: bad count 'x'"));
	CHECK(fails("nocount\n", 8, -EMBER_EFORMAT, "folded: line 1: expected"));
	CHECK(fails("a 1\r\n42\r\n", 9, -EMBER_EFORMAT, "folded: line 2: expected"));
	CHECK(fails("a -1\n", 5, -EMBER_EFORMAT, "folded: line 1: bad count '-1'"));
	CHECK(fails("a 1e3\n", 6, -EMBER_EFORMAT, "folded: line 1: bad count"));
	CHECK(fails("a 1.2.3\n", 8, -EMBER_EFORMAT, "folded: line 1: bad count"));
	CHECK(fails("a .\n", 4, -EMBER_EFORMAT, "folded: line 1: bad count"));
	CHECK(fails("a 1\nb 99999999999999999999\n", 26, -EMBER_EFORMAT,
		    "folded: line 2: count too large"));
	CHECK(fails("a 9223372036854775807.5\n", 24, -EMBER_EFORMAT,
		    "folded: line 1: count too large"));
	CHECK(fails("a 9223372036854775807\nb 1\n", 26, -EMBER_EFORMAT,
		    "folded: line 2: total count overflows"));
	CHECK(fails("x 1\n; 5\n", 8, -EMBER_EFORMAT, "folded: line 2: empty stack"));
	CHECK(fails("a 1\n;;; 5\n", 10, -EMBER_EFORMAT, "folded: line 2: empty stack"));
	CHECK(fails("a\0b 1\n", 6, -EMBER_EFORMAT, "folded: line 1: NUL byte"));
}

TEST(folded_read_bounds)
{
	struct buf b;
	struct prof *p;
	struct ember_diag d = {{0}};

	/* 4096 frames are fine, 4097 are not. */
	buf_init(&b, MEM_TEST, SIZE_MAX);
	for (int i = 0; i < 4096; i++)
		CHECK_OK(buf_puts(&b, i ? ";f" : "f"));
	CHECK_OK(buf_puts(&b, " 1\n"));
	CHECK_OK(folded_read((const char *)b.data, b.len, NULL, NULL, &p, &d));
	CHECK_EQ_INT(prof_total(p, 0), 1);
	prof_free(p);
	buf_reset(&b);
	CHECK_OK(buf_puts(&b, "ok 1\n"));
	for (int i = 0; i < 4097; i++)
		CHECK_OK(buf_puts(&b, i ? ";f" : "f"));
	CHECK_OK(buf_puts(&b, " 1\n"));
	CHECK(fails((const char *)b.data, b.len, -EMBER_ELIMIT, "folded: line 2: more than 4096"));

	/* A line of more than 1 MiB. */
	buf_reset(&b);
	CHECK_OK(buf_puts(&b, "ok 1\n\n"));
	for (int i = 0; i < (1 << 20); i++)
		CHECK_OK(buf_putc(&b, 'x'));
	CHECK_OK(buf_puts(&b, " 1\n"));
	CHECK(fails((const char *)b.data, b.len, -EMBER_ELIMIT, "folded: line 3: longer than"));
	buf_fini(&b);
}

/* A profile with two sample types, labels, an inlined location and an unsymbolized one. */
static struct prof *build_profile(void)
{
	struct prof *p = prof_new();
	struct prof_function f = {0};
	struct prof_line lines[2] = {{0}};
	struct prof_label lab = {0};
	uint32_t fn_main, fn_outer, fn_inl, fn_semi, l_main, l_inl, l_raw, l_semi, stack[3];
	uint32_t ls1, ls2, n1, n2, n3;
	int64_t v[2];

	prof_add_sample_type(p, prof_intern_cstr(p, "samples"), prof_intern_cstr(p, "count"));
	prof_add_sample_type(p, prof_intern_cstr(p, "cpu"), prof_intern_cstr(p, "nanoseconds"));
	f.name = prof_intern_cstr(p, "main");
	fn_main = prof_add_function(p, &f);
	f.name = prof_intern_cstr(p, "outer");
	fn_outer = prof_add_function(p, &f);
	f.name = prof_intern_cstr(p, "inl");
	fn_inl = prof_add_function(p, &f);
	f.name = prof_intern_cstr(p, "java;Ljava/lang/String;\nx");
	fn_semi = prof_add_function(p, &f);
	lines[0].function = fn_main;
	l_main = prof_add_location(p, 0, 0x10, lines, 1, false);
	lines[0].function = fn_inl; /* innermost first */
	lines[1].function = fn_outer;
	l_inl = prof_add_location(p, 0, 0x20, lines, 2, false);
	l_raw = prof_add_location(p, 0, 0x1234, NULL, 0, false);
	lines[0].function = fn_semi;
	l_semi = prof_add_location(p, 0, 0x30, lines, 1, false);

	lab.key = prof_intern_cstr(p, "thread");
	lab.str = prof_intern_cstr(p, "a");
	ls1 = prof_add_labelset(p, &lab, 1);
	lab.str = prof_intern_cstr(p, "b");
	ls2 = prof_add_labelset(p, &lab, 1);

	stack[0] = l_inl; /* leaf first */
	stack[1] = l_main;
	n1 = prof_add_stack(p, stack, 2);
	stack[0] = l_raw;
	stack[1] = l_inl;
	stack[2] = l_main;
	n2 = prof_add_stack(p, stack, 3);
	stack[0] = l_semi;
	stack[1] = l_main;
	n3 = prof_add_stack(p, stack, 2);

	v[0] = 1, v[1] = 100;
	prof_add_sample(p, n1, ls1, v);
	v[0] = 2, v[1] = 200;
	prof_add_sample(p, n1, ls2, v); /* same stack, other labels: merged on output */
	v[0] = 3, v[1] = 0;		/* zero for cpu: omitted there */
	prof_add_sample(p, n2, 0, v);
	v[0] = 4, v[1] = 50;
	prof_add_sample(p, n3, 0, v);
	return p;
}

TEST(folded_write_expands_and_merges)
{
	struct prof *p = build_profile(), *q;
	struct ember_diag d = {{0}};
	char *out;

	out = write_str(p, 0);
	CHECK(out);
	CHECK_EQ_STR(out, "main;java:Ljava/lang/String: x 4\n"
			  "main;outer;inl 3\n"
			  "main;outer;inl;0x1234 3\n");
	mem_free(out);
	out = write_str(p, 1);
	CHECK(out);
	CHECK_EQ_STR(out, "main;java:Ljava/lang/String: x 50\n"
			  "main;outer;inl 300\n");
	/* Reading the output back gives the same total and one line per stack again. */
	CHECK_OK(read_str(out, &q, &d));
	CHECK_EQ_INT(prof_total(q, 0), prof_total(p, 1));
	CHECK_EQ_INT(prof_n_samples(q), 2);
	prof_free(q);
	mem_free(out);
	CHECK_EQ_INT(folded_write(p, 2, NULL), -EINVAL);
	prof_free(p);
}

TEST(folded_roundtrip_exact)
{
	static const char in[] = "b;c 1\n"
				 "a;b;c 7\n"
				 "a 2\n"
				 "a;b 5\n"
				 "\xc3\xa9t\xc3\xa9;f\xff 9\n"
				 "a;b;c 3\n";
	struct prof *p, *q;
	struct ember_diag d = {{0}};
	char *out, *out2;

	CHECK_OK(read_str(in, &p, &d));
	out = write_str(p, 0);
	CHECK(out);
	CHECK_EQ_STR(out, "a 2\n"
			  "a;b 5\n"
			  "a;b;c 10\n"
			  "b;c 1\n"
			  "\xc3\xa9t\xc3\xa9;f\xff 9\n");
	CHECK_OK(read_str(out, &q, &d));
	CHECK_EQ_INT(prof_total(q, 0), 27);
	out2 = write_str(q, 0);
	CHECK(out2);
	CHECK_EQ_STR(out2, out);
	mem_free(out);
	mem_free(out2);
	prof_free(p);
	prof_free(q);
}

TEST(folded_write_empty_stack)
{
	/* A sample on the root (no frames, allowed by pprof) and an unnamed function keep their
	 * frame count so the output reads back with the same total. */
	struct prof *p = prof_new(), *q;
	struct prof_function f = {0};
	struct prof_line line = {0};
	struct ember_diag d = {{0}};
	uint32_t loc, node;
	int64_t v = 6;
	char *out;

	prof_add_sample_type(p, prof_intern_cstr(p, "samples"), prof_intern_cstr(p, "count"));
	prof_add_sample(p, 0, 0, &v);
	f.name = prof_intern_cstr(p, " ");
	line.function = prof_add_function(p, &f);
	loc = prof_add_location(p, 0, 0, &line, 1, false);
	node = prof_add_stack(p, &loc, 1);
	v = 4;
	prof_add_sample(p, node, 0, &v);
	out = write_str(p, 0);
	CHECK(out);
	CHECK_EQ_STR(out, "[unknown] 10\n");
	CHECK_OK(read_str(out, &q, &d));
	CHECK_EQ_INT(prof_total(q, 0), 10);
	prof_free(q);
	mem_free(out);
	prof_free(p);
}
