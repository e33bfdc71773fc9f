/*
 * server_push.h — the decoded body of a Connect push.v1.PusherService/Push call
 * (server_push_dec.c): series of labels and raw pprof profiles, from the binary proto or the
 * Connect JSON encoding. Everything points into the request body or lives in the caller's
 * arena. Kept apart from the handler so the fuzz target can reach the decoders.
 */
#ifndef EMBER_SERVER_SERVER_PUSH_H
#define EMBER_SERVER_SERVER_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "store/store.h"

struct server_push_sample {
	const uint8_t *raw; /* pprof, gzipped or not */
	size_t len;
};

struct server_push_series {
	size_t n_labels;
	struct store_label *labels; /* names checked: [A-Za-z_][A-Za-z0-9_.]* */
	size_t n_samples;
	struct server_push_sample *samples;
};

struct server_push_req {
	size_t n_series;
	struct server_push_series *series;
};

struct server_push_limits {
	size_t max_series;	    /* 0 = 1000 */
	size_t max_samples;	    /* raw profiles in the request; 0 = 1000 */
	size_t max_labels;	    /* per series; 0 = 32 */
	size_t max_label_value_len; /* 0 = 2048 */
};

/* PushRequest as binary proto / as Connect JSON (camelCase or proto field names, bytes in
 * standard or URL-safe base64). -EMBER_EFORMAT or -EMBER_ELIMIT with the field named in d. */
int server_push_decode_proto(const uint8_t *body, size_t len, const struct server_push_limits *lim,
			     struct arena *a, struct server_push_req *out, struct ember_diag *d);
int server_push_decode_json(const uint8_t *body, size_t len, const struct server_push_limits *lim,
			    struct arena *a, struct server_push_req *out, struct ember_diag *d);

#endif
