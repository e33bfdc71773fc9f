/*
 * test_svg.c — the SVG flame graph, judged by Python's XML parser (and xmllint when present):
 * well-formed, self-contained (inline script with zoom/search/keyboard handling, inline style,
 * no external references), one frame per drawn node with the right geometry (flame and
 * icicle), tooltips with values and percentages, label clipping, XML escaping of hostile names,
 * culling of sub-0.1 px nodes with totals intact, and diff colours and tooltips.
 */
#include <stdlib.h>

#include "base/buf.h"
#include "base/err.h"
#include "fmt_check.h"
#include "format/folded.h"
#include "format/svg.h"
#include "profile/flame.h"
#include "test.h"

/* Parses the SVG into F (frames in document order), by (name -> frame), S (script text),
 * T (texts by id), W/H; each test appends its assertions. */
static const char prelude_py[] =
	"import sys, xml.etree.ElementTree as ET\n"
	"data = sys.stdin.buffer.read()\n"
	"root = ET.fromstring(data)\n"
	"N = '{http://www.w3.org/2000/svg}'\n"
	"fr = root.find('.//' + N + \"g[@id='frames']\")\n"
	"F = []\n"
	"for g in fr.findall(N + 'g'):\n"
	"    t = g.find(N + 'title').text\n"
	"    r = g.find(N + 'rect')\n"
	"    tx = g.find(N + 'text')\n"
	"    F.append(dict(d=int(g.get('data-d')), s=int(g.get('data-s')), "
	"v=int(g.get('data-v')),\n"
	"             name=t.split('\\n')[0], title=t, x=float(r.get('x')), y=float(r.get('y')),\n"
	"             w=float(r.get('width')), fill=r.get('fill'), label=tx.text or ''))\n"
	"by = {f['name']: f for f in F}\n"
	"S = ''.join(s.text for s in root.findall(N + 'script'))\n"
	"CSS = ''.join(s.text for s in root.findall(N + 'style'))\n"
	"T = {t.get('id'): (t.text or '') for t in root.iter(N + 'text') if t.get('id')}\n"
	"W = float(root.get('width'))\n"
	"H = float(root.get('height'))\n"
	"assert b'href' not in data and b'src=' not in data and b'@import' not in data\n"
	"def near(a, b):\n"
	"    return abs(a - b) < 0.011\n";

static struct prof *folded(const char *s)
{
	struct prof *p = NULL;
	struct ember_diag d = {{0}};

	folded_read(s, strlen(s), NULL, NULL, &p, &d);
	return p;
}

/* Writes the SVG of f, checks it with xmllint (when installed) and runs prelude + checks,
 * which must print "ok". 1 = pass, -1 = no python, 0 = failure (printed). */
static int svg_check(const struct flame *f, const struct svg_opts *o, const char *checks)
{
	struct buf b, script;
	char out[4096], path[512], cmd[700];
	int rc;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	buf_init(&script, MEM_TEST, SIZE_MAX);
	rc = svg_write(f, o, &b);
	if (rc != 0) {
		fprintf(stderr, "svg_write: %d\n", rc);
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/out.svg", test_tmpdir());
	if (fmt_check_write(path, b.data, b.len) != 0)
		goto fail;
	if (system("command -v xmllint >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof(cmd), "xmllint --noout '%s'", path);
		if (system(cmd) != 0) {
			fprintf(stderr, "xmllint rejects %s\n", path);
			goto fail;
		}
	}
	buf_puts(&script, prelude_py);
	buf_puts(&script, checks);
	buf_puts(&script, "print('ok')\n");
	rc = fmt_check_python((const char *)script.data, b.data, b.len, out, sizeof(out));
	if (rc > 0 || (rc == 0 && strcmp(out, "ok\n") != 0)) {
		fprintf(stderr, "check failed (%d): %s\n", rc, out);
		rc = 0;
	} else {
		rc = rc < 0 ? -1 : 1;
	}
	buf_fini(&b);
	buf_fini(&script);
	return rc;
fail:
	buf_fini(&b);
	buf_fini(&script);
	return 0;
}

/* Runs svg_check on the flame of a folded text (diff when base is given). */
static int check_folded(const char *cur, const char *base, const struct svg_opts *o,
			const char *checks)
{
	struct prof *p = folded(cur), *q = base ? folded(base) : NULL;
	struct flame *f;
	int r;

	if (!p || (base && !q)) {
		prof_free(p);
		prof_free(q);
		return 0;
	}
	f = base ? flame_new_diff(q, 0, p, 0, 0) : flame_new(p, 0, 0);
	r = svg_check(f, o, checks);
	flame_free(f);
	prof_free(p);
	prof_free(q);
	return r;
}

#define RUN(expr)                                      \
	do {                                           \
		int r_ = (expr);                       \
		if (r_ < 0)                            \
			SKIP("python3 not available"); \
		CHECK(r_ == 1);                        \
	} while (0)

TEST(svg_structure_and_script)
{
	RUN(check_folded(
		"main;foo;bar 5\nmain;foo 3\nmain;baz 2\nother 1\n", NULL, NULL,
		/* one frame per node, pre-order with children by name */
		"assert [f['name'] for f in F] == "
		"['total', 'main', 'baz', 'foo', 'bar', 'other'], F\n"
		"assert [f['d'] for f in F] == [0, 1, 2, 2, 3, 1]\n"
		/* geometry: 1200 wide, 10 px pads, root at the bottom of 4 rows */
		"assert W == 1200 and H == 40 + 4 * 16 + 30\n"
		"assert near(by['total']['x'], 10) and near(by['total']['w'], 1180)\n"
		"assert by['total']['y'] == 40 + 3 * 16 and by['bar']['y'] == 40\n"
		"assert near(by['main']['w'], 1180 * 10 / 11)\n"
		"assert near(by['baz']['x'], 10) and near(by['foo']['x'], 10 + 1180 * 2 / 11)\n"
		"assert near(by['other']['x'], 10 + 1180 * 10 / 11)\n"
		"assert by['foo']['s'] == 2 and by['foo']['v'] == 8\n"
		/* tooltips */
		"assert by['total']['title'] == 'total\\n11 samples (100.00%), self 0 (0.00%)'\n"
		"assert by['foo']['title'] == 'foo\\n8 samples (72.73%), self 3 (27.27%)'\n"
		"assert by['foo']['label'] == 'foo'\n"
		/* warm colours: red >= green >= blue, and stable per name */
		"import re\n"
		"for f in F:\n"
		"    r, g, b = map(int, re.match(r'rgb\\((\\d+),(\\d+),(\\d+)\\)$', "
		"f['fill']).groups())\n"
		"    assert r >= g >= b and r > 150, f\n"
		/* interactive and self-contained */
		"for word in ['RegExp', 'prompt(', \"'click'\", \"'keydown'\", 'ctrlKey', 'F3',\n"
		"             'Matched: ', 'Escape', 'Reset Search']:\n"
		"    assert word in S, word\n"
		"assert b'<![CDATA[' in data and '.anc' in CSS\n"
		"assert T['title'] == 'Flame Graph' and T['search'] == 'Search'\n"
		"assert T['unzoom'] == 'Reset Zoom' and 'matched' in T and 'details' in T\n"));
}

TEST(svg_icicle_and_options)
{
	struct svg_opts o = {
		.title = "CPU <of> \"app\" & co", .unit = "bytes", .width = 600, .icicle = true};

	RUN(check_folded(
		"a;b 3\na 1\n", NULL, &o,
		"assert W == 600 and T['title'] == 'CPU <of> \"app\" & co'\n"
		"assert by['total']['y'] == 40 and by['a']['y'] == 56 and by['b']['y'] == 72\n"
		"assert near(by['total']['w'], 580) and near(by['b']['w'], 580 * 3 / 4)\n"
		"assert by['b']['title'] == 'b\\n3 bytes (75.00%), self 3 (75.00%)'\n"));
}

TEST(svg_escapes_names)
{
	RUN(check_folded(
		"a<b>&\"'c;bad\xff\xfe utf8 1\n"
		"ctl\x01x;\xc3\xa9t\xc3\xa9 1\n",
		NULL, NULL,
		"names = sorted(f['name'] for f in F)\n"
		"assert names == sorted(['total', 'a<b>&\"\\'c', 'bad\\ufffd\\ufffd utf8',\n"
		"                        'ctl\\ufffdx', '\\u00e9t\\u00e9']), names\n"
		"assert by['a<b>&\"\\'c']['label'] == 'a<b>&\"\\'c'\n"));
}

TEST(svg_clips_labels)
{
	/* 60 px of 1180 is about 7 characters: the label is cut and marked with "..". */
	RUN(check_folded(
		"a_rather_long_function_name_that_cannot_fit 5\nbig 95\n", NULL, NULL,
		"f = by['a_rather_long_function_name_that_cannot_fit']\n"
		"assert near(f['w'], 59)\n"
		"assert f['label'].endswith('..') and 3 <= len(f['label']) <= 59 / 7.1, f\n"
		"assert f['name'].startswith(f['label'][:-2])\n"
		"assert by['big']['label'] == 'big'\n"));
}

TEST(svg_culls_narrow_nodes)
{
	/* tiny and big;child are 1.2e-6 px wide: not drawn, but counted in every total. */
	RUN(check_folded(
		"big 1000000000\nbig;child 1\ntiny 1\n", NULL, NULL,
		"assert [f['name'] for f in F] == ['total', 'big'], F\n"
		"assert by['total']['title'].startswith('total\\n1,000,000,002 samples "
		"(100.00%)')\n"
		"assert by['big']['title'].startswith('big\\n1,000,000,001 samples (100.00%)')\n"
		"assert H == 40 + 2 * 16 + 30\n"));
}

TEST(svg_diff_colours)
{
	/* Base total 40, new total 80. same keeps its 25% share (white); grow goes from 25% to
	 * 50% (+100%, red); shrink from 50% to 25% (blue). */
	RUN(check_folded(
		"main;grow 40\nmain;shrink 20\nmain;same 20\n",
		"main;grow 10\nmain;shrink 20\nmain;same 10\n", NULL,
		"assert T['title'] == 'Differential Flame Graph'\n"
		"assert by['same']['fill'] == 'rgb(255,255,255)'\n"
		"assert by['main']['fill'] == 'rgb(255,255,255)'\n"
		"assert by['grow']['fill'] == 'rgb(255,150,150)', by['grow']\n"
		"assert by['shrink']['fill'] == 'rgb(150,150,255)', by['shrink']\n"
		"assert near(by['grow']['w'], 1180 / 2)\n"
		"assert by['grow']['title'] == ('grow\\nnew: 40 samples (50.00%), self 40\\n'\n"
		"    'base: 10 samples (25.00%), self 10\\n'\n"
		"    'delta: +30 samples (share +25.00 pp); self share +100.0%'), by['grow']\n"
		"assert by['shrink']['title'].endswith('delta: +0 samples (share -25.00 pp); '\n"
		"    'self share -50.0%')\n"));
}

TEST(svg_empty_profile)
{
	struct prof *p = prof_new();
	struct flame *f;
	int r;

	prof_add_sample_type(p, prof_intern_cstr(p, "samples"), prof_intern_cstr(p, "count"));
	f = flame_new(p, 0, 0);
	r = svg_check(f, NULL, "assert F == [] and b'No samples' in data and 'RegExp' in S\n");
	flame_free(f);
	prof_free(p);
	if (r < 0)
		SKIP("python3 not available");
	CHECK(r == 1);
}

TEST(svg_buffer_limit)
{
	struct prof *p = folded("a;b 1\n");
	struct flame *f;
	struct buf b;

	CHECK(p);
	f = flame_new(p, 0, 0);
	buf_init(&b, MEM_TEST, 1000);
	CHECK_EQ_INT(svg_write(f, NULL, &b), -EMBER_ELIMIT);
	buf_fini(&b);
	flame_free(f);
	prof_free(p);
}
