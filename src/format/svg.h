/*
 * svg.h — a self-contained interactive SVG flame graph (click to zoom, search with % matched,
 * reset; inline script and style, works offline). For a diff flame tree (flame_is_diff), widths
 * come from the new values and colour is red for growth, blue for reduction, saturation by the
 * relative change of self.
 */
#ifndef EMBER_FORMAT_SVG_H
#define EMBER_FORMAT_SVG_H

#include "base/buf.h"
#include "profile/flame.h"

struct svg_opts {
	const char *title; /* NULL = "Flame Graph" / "Differential Flame Graph" */
	const char *unit;  /* label for values, e.g. "samples"; NULL = "samples" */
	int width;	   /* pixels; 0 = 1200 */
	bool icicle;	   /* root at top */
};

int svg_write(const struct flame *f, const struct svg_opts *o, struct buf *out);

#endif
