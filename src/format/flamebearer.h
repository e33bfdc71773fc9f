/*
 * flamebearer.h — the Pyroscope "flamebearer" JSON (names + levels, delta-encoded x offsets;
 * 4-tuples per node, 7-tuples for diffs with leftTicks/rightTicks), as /pyroscope/render returns.
 */
#ifndef EMBER_FORMAT_FLAMEBEARER_H
#define EMBER_FORMAT_FLAMEBEARER_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "format/json.h"
#include "profile/flame.h"

/* The render timeline: the value of each step from start_s, step_s seconds apart. */
struct flamebearer_timeline {
	int64_t start_s;
	int64_t step_s;
	const int64_t *samples;
	size_t n_samples;
};

struct flamebearer_meta {
	const char *name;			     /* app name; NULL = "" */
	const char *spy_name;			     /* NULL = "unknown" */
	const char *units;			     /* NULL = "samples" */
	int64_t sample_rate;			     /* 0 = 100 */
	const struct flamebearer_timeline *timeline; /* NULL = "timeline":null */
};

/* Just the "flamebearer" object {names, levels, numTicks, maxSelf} (+ leftTicks/rightTicks). */
void flamebearer_write_object(const struct flame *f, struct json_writer *w);
/* The whole render response: {"version":1,"flamebearer":{..},"metadata":{..},...}. */
int flamebearer_write(const struct flame *f, const struct flamebearer_meta *m, struct buf *out);

#endif
