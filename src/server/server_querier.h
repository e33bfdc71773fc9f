/*
 * server_querier.h — the parts of the Connect querier.v1.QuerierService (server_querier*.c):
 * its methods, one decoded request (the union of every method's request fields, strings copied
 * into an arena) and the request decoders for application/proto and application/json
 * (server_querier_dec.c); the response writer is server_querier_out.h. Field numbers follow api/querier/v1/querier.proto and
 * api/types/v1/types.proto of Grafana Pyroscope.
 */
#ifndef EMBER_SERVER_SERVER_QUERIER_H
#define EMBER_SERVER_SERVER_QUERIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"

/* Bounds on a request. */
#define QUERIER_MAX_STRING   8192  /* bytes of one string field */
#define QUERIER_MAX_REPEATED 4096  /* entries of one repeated string field */
#define QUERIER_MAX_SPANS    65536 /* span ids of span_selector */
#define QUERIER_MAX_CALLSITE 1024  /* frames of stack_trace_selector.call_site */
#define QUERIER_MAX_BODY     ((size_t)4 << 20)

enum querier_method {
	QM_PROFILE_TYPES,
	QM_LABEL_NAMES,
	QM_LABEL_VALUES,
	QM_SERIES,
	QM_SELECT_MERGE_STACKTRACES,
	QM_SELECT_MERGE_SPAN_PROFILE,
	QM_SELECT_MERGE_PROFILE,
	QM_SELECT_SERIES,
	QM_DIFF,
	QM_GET_PROFILE_STATS,
	QM_N
};

/* ProfileFormat and TimeSeriesAggregationType values. */
#define QUERIER_FORMAT_FLAMEGRAPH 1
#define QUERIER_FORMAT_TREE	  2
#define QUERIER_AGG_SUM		  0
#define QUERIER_AGG_AVERAGE	  1

struct querier_strs {
	const char **v;
	size_t n, cap;
};

/* One request: which fields are meaningful depends on the method (see the decoders' tables). */
struct querier_req {
	const char *profile_type; /* profile_typeID; NULL = absent */
	const char *label_selector;
	const char *name; /* LabelValues */
	int64_t start_ms, end_ms;
	int64_t max_nodes; /* 0 = absent */
	int64_t limit;	   /* 0 = absent */
	double step_s;
	int format;
	int aggregation;
	struct querier_strs matchers;	  /* LabelNames, LabelValues, Series */
	struct querier_strs label_names;  /* Series */
	struct querier_strs group_by;	  /* SelectSeries */
	struct querier_strs spans;	  /* span_selector */
	struct querier_strs call_site;	  /* stack_trace_selector.call_site[].name, root first */
	struct querier_req *left, *right; /* Diff */
};

/* The method named by the last path element ("SelectSeries"); -1 when unknown. */
int querier_method_of(const char *name);
const char *querier_method_name(enum querier_method m);

/* Decodes a request body (json: protojson, lowerCamel or proto field names, int64 as strings or
 * numbers, enums as names or numbers; else protobuf binary) into *out (zeroed first; strings in
 * a). -EMBER_EFORMAT / -EMBER_ELIMIT with a message naming the field in d. */
int querier_decode(enum querier_method m, const uint8_t *body, size_t len, bool json,
		   struct arena *a, struct querier_req *out, struct ember_diag *d);

#endif
