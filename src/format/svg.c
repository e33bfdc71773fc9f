/*
 * svg.c — a self-contained interactive SVG flame graph from a flame tree (svg.h).
 *
 * Layout: the root spans the usable width; each node's children start at its left edge in the
 * tree's order, so its self part is the gap on the right. Widths are total / root total of the
 * usable width; nodes (with their subtrees) narrower than SVG_MIN_PX are not emitted, which
 * only drops ink: every tooltip percentage is computed from the tree's totals. Flame graphs put
 * the root at the bottom, icicles at the top. Colours: a warm hue hashed from the name, or for
 * diff trees red (growth) / blue (reduction) / white with saturation by the relative change of
 * the node's self share between base and new. Names are XML-escaped, invalid UTF-8 and
 * characters XML cannot carry become U+FFFD. The script and style (svg_script.c) are inline;
 * nothing is loaded from anywhere. Format notes: docs/internals/format.md "## SVG flame graphs".
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "format/svg.h"
#include "format/svg_script.h"
#include "format/utf8.h"

#define SVG_PAD_X     10
#define SVG_FRAME_H   16  /* row pitch; rectangles are one pixel shorter */
#define SVG_TOP	      40  /* title row */
#define SVG_BOTTOM    30  /* details row */
#define SVG_CHAR_W    7.1 /* average glyph width of the 12 px font, for label clipping */
#define SVG_MIN_PX    0.1 /* narrower nodes are not drawn */
#define SVG_MAX_WIDTH 100000

struct svg_item {
	uint32_t node;
	uint32_t depth;
	int64_t start; /* in value units from the root's left edge */
};

struct svg_ctx {
	const struct flame *f;
	const struct svg_opts *o;
	struct buf *out;
	bool diff;
	int width;
	double usable; /* pixels between the side paddings */
	int64_t total, base_total;
	const char *unit;
	int rc;
};

static void put(struct svg_ctx *c, const char *s)
{
	if (c->rc == 0)
		c->rc = buf_puts(c->out, s);
}

static void putf(struct svg_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct svg_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->rc)
		return;
	va_start(ap, fmt);
	c->rc = buf_vprintf(c->out, fmt, ap);
	va_end(ap);
}

/*
 * Escaped text or attribute content. At most max_chars characters (0 = all); when cut, the
 * last two kept characters become "..". Characters XML 1.0 cannot carry (controls other than
 * tab/newline, U+FFFE/U+FFFF) and invalid UTF-8 become U+FFFD; newlines become spaces.
 */
static void put_xml(struct svg_ctx *c, const char *s, size_t max_chars)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = strlen(s), i = 0, chars = 0, total_chars = 0;

	if (max_chars) {
		for (size_t k = 0; k < n; total_chars++) {
			uint32_t cp;

			k += utf8_next(p + k, n - k, &cp);
		}
		if (total_chars > max_chars)
			max_chars -= 2;
		else
			max_chars = 0;
	}
	while (i < n && c->rc == 0) {
		uint32_t cp;
		size_t adv = utf8_next(p + i, n - i, &cp);
		char enc[4];

		if (max_chars && chars == max_chars) {
			put(c, "..");
			return;
		}
		chars++;
		switch (cp) {
		case '&':
			put(c, "&amp;");
			break;
		case '<':
			put(c, "&lt;");
			break;
		case '>':
			put(c, "&gt;");
			break;
		case '"':
			put(c, "&quot;");
			break;
		case '\'':
			put(c, "&apos;");
			break;
		case '\n':
		case '\r':
		case '\t':
			put(c, " ");
			break;
		default:
			if (cp == UTF8_BAD || cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF)
				cp = 0xFFFD;
			c->rc = buf_append(c->out, enc, utf8_encode(cp, enc));
		}
		i += adv;
	}
}

/* 1234567 -> "1,234,567". */
static const char *group_digits(int64_t v, char out[32])
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v), o = 0, start = tmp[0] == '-';

	if (start)
		out[o++] = '-';
	for (int i = start; i < n; i++) {
		if (i > start && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = 0;
	return out;
}

static double pct(int64_t v, int64_t of)
{
	return of ? 100.0 * (double)v / (double)of : 0.0;
}

/* 64-bit FNV-1a of a name, for stable colours. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

/* HSL (h in degrees, s and l in [0,1]) to "rgb(r,g,b)". */
static void hsl_rgb(double h, double s, double l, char out[24])
{
	double ch = (1 - fabs(2 * l - 1)) * s, hp = h / 60.0, x = ch * (1 - fabs(fmod(hp, 2) - 1));
	double r = 0, g = 0, b = 0, m = l - ch / 2;

	if (hp < 1)
		r = ch, g = x;
	else if (hp < 2)
		r = x, g = ch;
	else
		g = ch, b = x;
	snprintf(out, 24, "rgb(%d,%d,%d)", (int)lround((r + m) * 255), (int)lround((g + m) * 255),
		 (int)lround((b + m) * 255));
}

/* The relative change of a node's self share, in [-1, 1]: +1 = only in new, -1 = gone. */
static double self_change(const struct svg_ctx *c, const struct flame_node *nd)
{
	double rn = c->total > 0 ? (double)nd->self / (double)c->total : 0;
	double rb = c->base_total > 0 ? (double)nd->base_self / (double)c->base_total : 0;
	double m = fmax(fabs(rn), fabs(rb));

	if (m <= 0 || rn == rb)
		return 0;
	return fmax(-1.0, fmin(1.0, (rn - rb) / m));
}

static void fill_colour(const struct svg_ctx *c, const struct flame_node *nd, const char *name,
			char out[24])
{
	if (c->diff) {
		double ch = self_change(c, nd);
		int fade = (int)lround(255 - fabs(ch) * 210);

		if (ch > 0)
			snprintf(out, 24, "rgb(255,%d,%d)", fade, fade);
		else if (ch < 0)
			snprintf(out, 24, "rgb(%d,%d,255)", fade, fade);
		else
			snprintf(out, 24, "rgb(255,255,255)");
		return;
	}
	if (strcmp(name, "-") == 0 || strcmp(name, "other") == 0) {
		snprintf(out, 24, "rgb(190,190,190)");
		return;
	}
	uint64_t h = name_hash(name);
	double u1 = (double)(h & 0xffff) / 65535.0, u2 = (double)((h >> 16) & 0xffff) / 65535.0;
	double u3 = (double)((h >> 32) & 0xffff) / 65535.0;

	/* Red through orange to a dark yellow: hue 0..52, strong saturation, mid lightness. */
	hsl_rgb(52 * u1, 0.78 + 0.2 * u2, 0.52 + 0.1 * u3, out);
}

/* The self share change for tooltips, the usual way round: relative to the base share. */
static void self_change_text(const struct svg_ctx *c, const struct flame_node *nd, char out[40])
{
	double rn = c->total > 0 ? (double)nd->self / (double)c->total : 0;
	double rb = c->base_total > 0 ? (double)nd->base_self / (double)c->base_total : 0;

	if (rn == rb)
		snprintf(out, 40, "unchanged");
	else if (rb == 0)
		snprintf(out, 40, "new");
	else
		snprintf(out, 40, "%+.1f%%", 100 * (rn - rb) / fabs(rb));
}

static void put_title(struct svg_ctx *c, const struct flame_node *nd, const char *name)
{
	char a[32], b[32], s1[32], s2[32], ch[40];

	put_xml(c, name, 0);
	if (!c->diff) {
		putf(c, "&#10;%s %s (%.2f%%), self %s (%.2f%%)", group_digits(nd->total, a),
		     c->unit, pct(nd->total, c->total), group_digits(nd->self, b),
		     pct(nd->self, c->total));
		return;
	}
	putf(c, "&#10;new: %s %s (%.2f%%), self %s", group_digits(nd->total, a), c->unit,
	     pct(nd->total, c->total), group_digits(nd->self, s1));
	putf(c, "&#10;base: %s %s (%.2f%%), self %s", group_digits(nd->base_total, b), c->unit,
	     pct(nd->base_total, c->base_total), group_digits(nd->base_self, s2));
	self_change_text(c, nd, ch);
	putf(c, "&#10;delta: %s%s %s (share %+.2f pp); self share %s",
	     nd->total >= nd->base_total ? "+" : "", group_digits(nd->total - nd->base_total, a),
	     c->unit, pct(nd->total, c->total) - pct(nd->base_total, c->base_total), ch);
}

/* Collects the nodes wide enough to draw, pre-order; returns their number, or 0 on none. */
static size_t collect(const struct svg_ctx *c, struct svg_item **items, uint32_t *max_depth)
{
	const struct flame *f = c->f;
	uint32_t n_nodes = flame_n_nodes(f);
	struct svg_item *stack = NULL, *res = NULL;
	size_t n_stack = 0, cap_stack = 0, n = 0, cap = 0;
	double scale = c->usable / (double)c->total;

	*max_depth = 0;
	mem_grow(MEM_FORMAT, (void **)&stack, &cap_stack, 1, sizeof(*stack));
	stack[n_stack++] = (struct svg_item){0, 0, 0};
	while (n_stack > 0) {
		struct svg_item it = stack[--n_stack];
		const struct flame_node *nd = flame_node(f, it.node);
		int64_t x = it.start;
		size_t first = n_stack;

		if ((double)nd->total * scale < SVG_MIN_PX)
			continue;
		mem_grow(MEM_FORMAT, (void **)&res, &cap, n + 1, sizeof(*res));
		res[n++] = it;
		*max_depth = EMBER_MAX(*max_depth, it.depth);
		for (uint32_t k = nd->first_child; k != 0 && k < n_nodes;
		     k = flame_node(f, k)->next_sibling) {
			const struct flame_node *ch = flame_node(f, k);

			mem_grow(MEM_FORMAT, (void **)&stack, &cap_stack, n_stack + 1,
				 sizeof(*stack));
			stack[n_stack++] = (struct svg_item){k, it.depth + 1, x};
			x += ch->total > 0 ? ch->total : 0;
		}
		/* Reverse the pushed children so the first is drawn first (document order). */
		for (size_t a = first, b = n_stack; a + 1 < b; a++, b--) {
			struct svg_item t = stack[a];

			stack[a] = stack[b - 1];
			stack[b - 1] = t;
		}
	}
	mem_free(stack);
	*items = res;
	return n;
}

static void put_header(struct svg_ctx *c, int height)
{
	const char *title = c->o && c->o->title ? c->o->title
			    : c->diff		? "Differential Flame Graph"
						: "Flame Graph";

	putf(c,
	     "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
	     "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	     "height=\"%d\" viewBox=\"0 0 %d %d\">\n",
	     c->width, height, c->width, height);
	put(c, "<style type=\"text/css\"><![CDATA[\n");
	put(c, svg_style_css);
	put(c, "]]></style>\n");
	put(c, "<defs><linearGradient id=\"bg\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
	       "<stop stop-color=\"#eeeeee\" offset=\"5%\"/>"
	       "<stop stop-color=\"#eeeeb0\" offset=\"95%\"/></linearGradient></defs>\n");
	putf(c, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"url(#bg)\"/>\n", c->width,
	     height);
	putf(c, "<text id=\"title\" x=\"%d\" y=\"24\" text-anchor=\"middle\">", c->width / 2);
	put_xml(c, title, 0);
	put(c, "</text>\n");
	putf(c, "<text id=\"unzoom\" class=\"hide\" x=\"%d\" y=\"24\">Reset Zoom</text>\n",
	     SVG_PAD_X);
	putf(c, "<text id=\"search\" x=\"%d\" y=\"24\" text-anchor=\"end\">Search</text>\n",
	     c->width - SVG_PAD_X);
	putf(c, "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n", SVG_PAD_X, height - 10);
	putf(c, "<text id=\"matched\" x=\"%d\" y=\"%d\" text-anchor=\"end\"> </text>\n",
	     c->width - SVG_PAD_X, height - 10);
}

static void put_frame(struct svg_ctx *c, const struct svg_item *it, uint32_t levels)
{
	const struct flame_node *nd = flame_node(c->f, it->node);
	const char *name = it->node == 0 ? "total" : flame_name(c->f, nd->name);
	double scale = c->usable / (double)c->total;
	double x = SVG_PAD_X + (double)it->start * scale, w = (double)nd->total * scale;
	int row = c->o && c->o->icicle ? (int)it->depth : (int)(levels - 1 - it->depth);
	int y = SVG_TOP + row * SVG_FRAME_H;
	int fit = (int)floor((w - 6) / SVG_CHAR_W);
	char fill[24];

	fill_colour(c, nd, name, fill);
	putf(c,
	     "<g class=\"f\" data-s=\"%" PRId64 "\" data-v=\"%" PRId64 "\" data-d=\"%u\"><title>",
	     it->start, nd->total, it->depth);
	put_title(c, nd, name);
	putf(c,
	     "</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\" "
	     "rx=\"2\" ry=\"2\"/><text x=\"%.2f\" y=\"%d\">",
	     x, y, w, SVG_FRAME_H - 1, fill, x + 3, y + SVG_FRAME_H - 5);
	if (fit >= 3)
		put_xml(c, name, (size_t)fit);
	put(c, "</text></g>\n");
}

int svg_write(const struct flame *f, const struct svg_opts *o, struct buf *out)
{
	struct svg_ctx c = {.f = f, .o = o, .out = out, .diff = flame_is_diff(f)};
	struct svg_item *items = NULL;
	size_t n_items = 0;
	uint32_t max_depth = 0, levels;
	int height;

	c.width = o && o->width > 0 ? EMBER_MIN(EMBER_MAX(o->width, 200), SVG_MAX_WIDTH) : 1200;
	c.usable = c.width - 2 * SVG_PAD_X;
	c.unit = o && o->unit ? o->unit : "samples";
	if (flame_n_nodes(f) > 0) {
		c.total = flame_node(f, 0)->total;
		c.base_total = c.diff ? flame_node(f, 0)->base_total : 0;
	}
	if (c.total > 0)
		n_items = collect(&c, &items, &max_depth);
	levels = n_items ? max_depth + 1 : 1;
	height = SVG_TOP + (int)levels * SVG_FRAME_H + SVG_BOTTOM;

	put_header(&c, height);
	putf(&c,
	     "<g id=\"frames\"%s data-total=\"%" PRId64 "\" data-pad=\"%d\" data-width=\"%d\" "
	     "data-cw=\"%.2f\">\n",
	     c.diff ? " class=\"diff\"" : "", c.total, SVG_PAD_X, c.width, SVG_CHAR_W);
	for (size_t i = 0; i < n_items && c.rc == 0; i++)
		put_frame(&c, &items[i], levels);
	put(&c, "</g>\n");
	if (n_items == 0)
		putf(&c, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">No samples</text>\n",
		     c.width / 2, SVG_TOP + 12);
	put(&c, "<script type=\"text/ecmascript\"><![CDATA[\n");
	put(&c, svg_script_js);
	put(&c, "]]></script>\n</svg>\n");
	mem_free(items);
	return c.rc;
}
