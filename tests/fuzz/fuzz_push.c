/*
 * fuzz_push.c — libFuzzer target for the push.v1 PushRequest decoders (server/server_push_dec.c):
 * the first byte picks binary proto (even) or Connect JSON (odd), the rest is the body.
 *
 * Every input must decode or fail cleanly with a message. What decodes must respect the
 * limits (series, raw profiles, labels per series, label value length) and give only label
 * names of [A-Za-z_][A-Za-z0-9_.]* and raw profiles inside the input (proto) or the arena
 * (JSON). Nothing may leak: the arena holds everything.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/mem.h"
#include "server/server_push.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int name_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct server_push_limits lim = {
		.max_series = 8, .max_samples = 16, .max_labels = 6, .max_label_value_len = 32};
	struct arena *a;
	struct server_push_req req;
	struct ember_diag d;
	size_t n_raw = 0;
	int json, err;

	if (size < 1)
		return 0;
	json = data[0] & 1;
	a = arena_new(MEM_TEST, 4096);
	d.msg[0] = 0;
	err = json ? server_push_decode_json(data + 1, size - 1, &lim, a, &req, &d)
		   : server_push_decode_proto(data + 1, size - 1, &lim, a, &req, &d);
	if (err) {
		if (!d.msg[0])
			abort();
		arena_free(a);
		return 0;
	}
	if (req.n_series > lim.max_series)
		abort();
	for (size_t i = 0; i < req.n_series; i++) {
		const struct server_push_series *s = &req.series[i];

		if (s->n_labels > lim.max_labels)
			abort();
		for (size_t k = 0; k < s->n_labels; k++)
			if (!name_ok(s->labels[k].name) ||
			    strlen(s->labels[k].value) > lim.max_label_value_len)
				abort();
		for (size_t k = 0; k < s->n_samples; k++) {
			const uint8_t *p = s->samples[k].raw;

			if (!json && s->samples[k].len &&
			    (p < data + 1 || p + s->samples[k].len > data + size))
				abort();
		}
		n_raw += s->n_samples;
	}
	if (n_raw > lim.max_samples)
		abort();
	arena_free(a);
	return 0;
}
