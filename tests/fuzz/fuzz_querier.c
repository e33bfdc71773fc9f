/*
 * fuzz_querier.c — libFuzzer target for the querier.v1.QuerierService request decoders
 * (server_querier_dec.c), protobuf binary and protojson.
 *
 * The first input byte picks the method (low nibble, modulo the method count) and the encoding
 * (bit 4: JSON); the rest is the body. Every body must decode or fail with a message; what
 * decodes must respect the decoder's bounds (string lengths, repeated counts, no NUL inside a
 * string, Diff's sub-requests only on Diff). Nothing may leak: the arena is freed each time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/mem.h"
#include "server/server_querier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_strs(const struct querier_strs *s, size_t max)
{
	if (s->n > max || (s->n && !s->v))
		abort();
	for (size_t i = 0; i < s->n; i++)
		if (!s->v[i] || strlen(s->v[i]) > QUERIER_MAX_STRING)
			abort();
}

static void check_str(const char *s)
{
	if (s && strlen(s) > QUERIER_MAX_STRING)
		abort();
}

static void check_req(const struct querier_req *r, int depth)
{
	check_str(r->profile_type);
	check_str(r->label_selector);
	check_str(r->name);
	check_strs(&r->matchers, QUERIER_MAX_REPEATED);
	check_strs(&r->label_names, QUERIER_MAX_REPEATED);
	check_strs(&r->group_by, QUERIER_MAX_REPEATED);
	check_strs(&r->spans, QUERIER_MAX_SPANS);
	check_strs(&r->call_site, QUERIER_MAX_CALLSITE);
	if (r->format < 0 || r->format > 4 || r->aggregation < 0 || r->aggregation > 1)
		abort();
	if (depth && (r->left || r->right))
		abort();
	if (r->left)
		check_req(r->left, depth + 1);
	if (r->right)
		check_req(r->right, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a;
	struct querier_req req;
	struct ember_diag d = {{0}};
	int m, err;

	if (size < 1)
		return 0;
	m = (data[0] & 15) % QM_N;
	a = arena_new(MEM_TEST, 4096);
	err = querier_decode((enum querier_method)m, data + 1, size - 1, (data[0] & 16) != 0, a,
			     &req, &d);
	if (err) {
		if (err >= 0 || !d.msg[0])
			abort();
	} else {
		if ((req.left || req.right) && m != QM_DIFF)
			abort();
		check_req(&req, 0);
	}
	arena_free(a);
	return 0;
}
