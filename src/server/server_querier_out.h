/*
 * server_querier_out.h — the querier's response writer (server_querier_out.c): one sequence of
 * calls that produces either protobuf or protojson, plus the FlameGraph and google.v1.Profile
 * messages. Kept apart from server_querier.h because jansson (the decoder's JSON parser) and
 * format/json.h both name a json_null.
 */
#ifndef EMBER_SERVER_SERVER_QUERIER_OUT_H
#define EMBER_SERVER_SERVER_QUERIER_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "format/json.h"
#include "profile/flame.h"
#include "profile/profile.h"

/* A response written either as protobuf or as protojson (lowerCamel names, int64 as strings,
 * default values omitted). Nested messages: begin/end pairs, at most QOUT_MAX_DEPTH deep. In
 * JSON a repeated field is a key with an array: call qout_rep_begin/qout_rep_end around its
 * elements (proto ignores them); elements then pass field names NULL. */
#define QOUT_MAX_DEPTH 8

struct qout {
	bool json;
	struct buf *b;
	struct json_writer jw;
	size_t marks[QOUT_MAX_DEPTH];
	uint32_t fields[QOUT_MAX_DEPTH];
	int depth;
	int err; /* first buffer error; sticky */
};

void qout_init(struct qout *w, bool json, struct buf *b);
void qout_msg_begin(struct qout *w, uint32_t field, const char *name);
void qout_msg_end(struct qout *w);
void qout_rep_begin(struct qout *w, const char *name);
void qout_rep_end(struct qout *w);
void qout_str(struct qout *w, uint32_t field, const char *name, const char *s);
void qout_int64(struct qout *w, uint32_t field, const char *name, int64_t v);
void qout_uint64(struct qout *w, uint32_t field, const char *name, uint64_t v);
void qout_double(struct qout *w, uint32_t field, const char *name, double v);
void qout_bool(struct qout *w, uint32_t field, const char *name, bool v);
/* A packed repeated int64 (proto) / array of strings (json); omitted when n == 0. */
void qout_int64s(struct qout *w, uint32_t field, const char *name, const int64_t *v, size_t n);
/* 0, or the first buffer error. */
int qout_finish(struct qout *w);

/* FlameGraph {names=1, levels=2 {values=1}, total=3, max_self=4} (or FlameGraphDiff with
 * leftTicks=5, rightTicks=6 for a diff flame: left = base) as a nested message `field`. */
void qout_flamegraph(struct qout *w, uint32_t field, const char *name, const struct flame *f);
/* A google.v1.Profile as protojson (the top level object). */
void qout_profile_json(struct qout *w, const struct prof *p);

#endif
