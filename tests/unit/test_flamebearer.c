/*
 * test_flamebearer.c — flamebearer JSON: exact levels for a small tree, and for larger single
 * and diff trees an independent decoder (Python) that undoes the delta encoding, rebuilds the
 * tree by interval containment the way Grafana's decoder does, checks that every node's
 * children are packed right after its self part in order, and prints the tree; the print must
 * equal a pre-order walk of the flame tree. Also names dedup, numTicks, maxSelf, metadata.
 */
#include "base/buf.h"
#include "base/err.h"
#include "fmt_check.h"
#include "format/flamebearer.h"
#include "format/folded.h"
#include "profile/flame.h"
#include "test.h"

/* Decodes levels (width 4 or 7) into a tree, validating names, offsets and packing. Prints a
 * header line, then "depth name values..." per node in pre-order. */
static const char decode_py[] =
	"import json, sys\n"
	"d = json.load(sys.stdin)\n"
	"fb = d['flamebearer']\n"
	"md = d['metadata']\n"
	"diff = md['format'] == 'double'\n"
	"W = 7 if diff else 4\n"
	"names = fb['names']\n"
	"assert names[0] == 'total' and len(set(names)) == len(names)\n"
	"sides = [0, 3] if diff else [0]\n"
	"levels = []\n"
	"for lv in fb['levels']:\n"
	"    assert len(lv) % W == 0\n"
	"    nodes = []\n"
	"    ends = {s: 0 for s in sides}\n"
	"    for i in range(0, len(lv), W):\n"
	"        t = lv[i:i + W]\n"
	"        n = {'name': names[t[W - 1]], 'kids': []}\n"
	"        for s in sides:\n"
	"            x = ends[s] + t[s]\n"
	"            n[s] = (x, t[s + 1], t[s + 2])\n"
	"            ends[s] = x + t[s + 1]\n"
	"        nodes.append(n)\n"
	"    levels.append(nodes)\n"
	"assert len(levels[0]) == 1\n"
	"def inside(p, c):\n"
	"    return all(p[s][0] + p[s][2] <= c[s][0] and c[s][0] + c[s][1] <= p[s][0] + p[s][1]\n"
	"               for s in sides)\n"
	"for dep in range(1, len(levels)):\n"
	"    for c in levels[dep]:\n"
	"        ps = [p for p in levels[dep - 1] if inside(p, c)]\n"
	"        assert ps, ('orphan', dep, c)\n"
	"        ps[0]['kids'].append(c)\n"
	"ticks = [levels[0][0][s][1] for s in sides]\n"
	"assert fb['numTicks'] == sum(ticks)\n"
	"if diff:\n"
	"    assert fb['leftTicks'] == ticks[0] and fb['rightTicks'] == ticks[1]\n"
	"    assert d['leftTicks'] == ticks[0] and d['rightTicks'] == ticks[1]\n"
	"ms = max(n[s][2] for lv in levels for n in lv for s in sides)\n"
	"assert fb['maxSelf'] == ms, (fb['maxSelf'], ms)\n"
	"assert d['version'] == 1 and d['timeline'] is None and d['groups'] == {}\n"
	"print(md['format'], md['spyName'], md['sampleRate'], md['units'], repr(md['name']),\n"
	"      fb['numTicks'], fb['maxSelf'])\n"
	"def walk(n, dep):\n"
	"    vals = []\n"
	"    for s in sides:\n"
	"        vals += [n[s][1], n[s][2]]\n"
	"    print(dep, n['name'], *vals)\n"
	"    for s in sides:\n"
	"        x = n[s][0] + n[s][2]\n"
	"        for k in n['kids']:\n"
	"            assert k[s][0] == x, ('not packed', n['name'], k['name'])\n"
	"            x += k[s][1]\n"
	"    for k in n['kids']:\n"
	"        walk(k, dep + 1)\n"
	"walk(levels[0][0], 0)\n";

/* The expected decoder output: a pre-order walk of the flame tree. */
static void expect_walk(const struct flame *f, uint32_t i, struct buf *b)
{
	const struct flame_node *n = flame_node(f, i);

	if (flame_is_diff(f))
		buf_printf(b, "%u %s %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n", n->depth,
			   i ? flame_name(f, n->name) : "total", n->base_total, n->base_self,
			   n->total, n->self);
	else
		buf_printf(b, "%u %s %" PRId64 " %" PRId64 "\n", n->depth,
			   i ? flame_name(f, n->name) : "total", n->total, n->self);
	for (uint32_t c = n->first_child; c; c = flame_node(f, c)->next_sibling)
		expect_walk(f, c, b);
}

static struct prof *folded(const char *s)
{
	struct prof *p = NULL;
	struct ember_diag d = {{0}};

	folded_read(s, strlen(s), NULL, NULL, &p, &d);
	return p;
}

/* Decodes flamebearer_write(f, m) and compares with header + the flame walk. 1 = pass,
 * -1 = no python, 0 = mismatch (printed). */
static int decode_matches(const struct flame *f, const struct flamebearer_meta *m,
			  const char *header)
{
	struct buf b, want;
	char out[8192];
	int rc, ok;

	buf_init(&b, MEM_TEST, SIZE_MAX);
	buf_init(&want, MEM_TEST, SIZE_MAX);
	if (flamebearer_write(f, m, &b) != 0) {
		buf_fini(&b);
		buf_fini(&want);
		return 0;
	}
	buf_puts(&want, header);
	expect_walk(f, 0, &want);
	rc = fmt_check_python(decode_py, b.data, b.len, out, sizeof(out));
	ok = rc == 0 && strcmp(out, (const char *)want.data) == 0;
	if (rc == 0 && !ok)
		fprintf(stderr, "decoded:\n%s\nexpected:\n%s\njson: %s\n", out,
			(const char *)want.data, (const char *)b.data);
	else if (rc > 0)
		fprintf(stderr, "decoder failed (%d): %s\njson: %s\n", rc, out,
			(const char *)b.data);
	buf_fini(&b);
	buf_fini(&want);
	return rc < 0 ? -1 : ok;
}

TEST(flamebearer_exact_small)
{
	struct prof *p = folded("a;b 2\na 1\nc 3\n");
	struct flame *f;
	struct buf b;
	struct json_writer w;

	CHECK(p);
	f = flame_new(p, 0, 0);
	buf_init(&b, MEM_TEST, SIZE_MAX);
	json_init(&w, &b);
	flamebearer_write_object(f, &w);
	CHECK_OK(json_finish(&w));
	/* b starts after a's self (1); c follows a on level 1 with no gap. */
	CHECK_EQ_STR((const char *)b.data, "{\"names\":[\"total\",\"a\",\"b\",\"c\"],"
					   "\"levels\":[[0,6,0,0],[0,3,1,1,0,3,3,3],[1,2,2,2]],"
					   "\"numTicks\":6,\"maxSelf\":3}");
	buf_fini(&b);
	flame_free(f);
	prof_free(p);
}

TEST(flamebearer_decodes_single)
{
	struct prof *p = folded("main;foo;bar 5\nmain;foo 3\nmain;bar;foo 2\nmain 4\n"
				"other;x 1\nmain;foo;bar;baz 7\nzzz 9\nmain;a\"q 2\n");
	struct flamebearer_meta m = {
		.name = "app.cpu", .spy_name = "ebpfspy", .units = "samples", .sample_rate = 19};
	struct flame *f;
	int r;

	CHECK(p);
	f = flame_new(p, 0, 0);
	r = decode_matches(f, &m, "single ebpfspy 19 samples 'app.cpu' 33 9\n");
	flame_free(f);
	prof_free(p);
	if (r < 0)
		SKIP("python3 not available");
	CHECK(r == 1);
}

TEST(flamebearer_decodes_diff)
{
	struct prof *base = folded("main;foo 10\nmain;bar 5\nold;x 3\nmain 2\n");
	struct prof *cur = folded("main;foo 20\nmain;baz 4\nmain;bar 5\nmain;foo;new 6\n");
	struct flame *f;
	int r;

	CHECK(base && cur);
	f = flame_new_diff(base, 0, cur, 0, 0);
	CHECK(flame_is_diff(f));
	r = decode_matches(f, NULL, "double unknown 100 samples '' 55 20\n");
	flame_free(f);
	prof_free(base);
	prof_free(cur);
	if (r < 0)
		SKIP("python3 not available");
	CHECK(r == 1);
}

TEST(flamebearer_empty_and_limit)
{
	struct prof *p = prof_new();
	struct flame *f;
	struct buf b;
	struct json_writer w;

	prof_add_sample_type(p, prof_intern_cstr(p, "samples"), prof_intern_cstr(p, "count"));
	f = flame_new(p, 0, 0);
	buf_init(&b, MEM_TEST, SIZE_MAX);
	json_init(&w, &b);
	flamebearer_write_object(f, &w);
	CHECK_OK(json_finish(&w));
	CHECK_EQ_STR((const char *)b.data, "{\"names\":[\"total\"],\"levels\":[[0,0,0,0]],"
					   "\"numTicks\":0,\"maxSelf\":0}");
	buf_fini(&b);
	buf_init(&b, MEM_TEST, 40);
	CHECK_EQ_INT(flamebearer_write(f, NULL, &b), -EMBER_ELIMIT);
	buf_fini(&b);
	flame_free(f);
	prof_free(p);
}

TEST(flamebearer_timeline)
{
	struct prof *p = folded("a 2\n");
	static const int64_t samples[] = {0, 2, 5};
	struct flamebearer_timeline tl = {
		.start_s = 100, .step_s = 10, .samples = samples, .n_samples = 3};
	struct flamebearer_meta m = {.name = "app", .timeline = &tl};
	struct flame *f;
	struct buf b;

	CHECK(p);
	f = flame_new(p, 0, 0);
	buf_init(&b, MEM_TEST, SIZE_MAX);
	CHECK_OK(flamebearer_write(f, &m, &b));
	CHECK_MSG(strstr((const char *)b.data,
			 "\"timeline\":{\"startTime\":100,\"samples\":[0,2,5],"
			 "\"durationDelta\":10,\"watermarks\":{}}"),
		  "timeline missing: %s", (const char *)b.data);
	buf_reset(&b);
	m.timeline = NULL;
	CHECK_OK(flamebearer_write(f, &m, &b));
	CHECK(strstr((const char *)b.data, "\"timeline\":null") != NULL);
	buf_fini(&b);
	flame_free(f);
	prof_free(p);
}
