/*
 * fuzz_otlp.c — libFuzzer target for the OTLP profiles decoder (format/otlp.c).
 *
 * Every input must decode or fail cleanly with a message. What decodes must hold its
 * invariants: one sample type per profile, service_name as the first label, label names made
 * of [A-Za-z0-9_.] and within the limits, a non-empty profile name; and every profile must
 * survive a pprof encode/decode round trip with the same sample count and total. Nothing may
 * leak: everything is freed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "format/otlp.h"
#include "format/pprof.h"
#include "profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int name_ok(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

static uint64_t total(const struct prof *p)
{
	uint64_t t = 0;

	for (size_t i = 0; i < prof_n_samples(p); i++) {
		struct prof_sample s;

		prof_sample_get(p, i, &s);
		t += (uint64_t)s.values[0];
	}
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct otlp_limits lim = {.max_profiles = 16,
				  .max_table = 4096,
				  .max_samples = 4096,
				  .max_stack_depth = 64,
				  .max_labels = 8,
				  .max_label_value_len = 64};
	struct otlp_request *req = NULL;
	struct ember_diag d;

	d.msg[0] = 0;
	if (otlp_decode(data, size, &lim, &req, &d) != 0) {
		if (req || !d.msg[0])
			abort();
		return 0;
	}
	if (req->n_profiles > lim.max_profiles)
		abort();
	for (size_t i = 0; i < req->n_profiles; i++) {
		const struct otlp_profile *op = &req->profiles[i];
		struct prof *q = NULL;
		struct buf out;

		if (prof_n_sample_types(op->prof) != 1 || !op->name || !op->name[0])
			abort();
		if (op->n_labels < 1 || op->n_labels > lim.max_labels + 1 ||
		    strcmp(op->labels[0].name, "service_name"))
			abort();
		for (size_t k = 0; k < op->n_labels; k++)
			if (!name_ok(op->labels[k].name) ||
			    strlen(op->labels[k].value) > lim.max_label_value_len + 32)
				abort();
		buf_init(&out, MEM_TEST, SIZE_MAX);
		if (pprof_encode(op->prof, false, &out) != 0 ||
		    pprof_decode(out.data, out.len, NULL, &q, &d) != 0)
			abort();
		if (prof_n_samples(q) != prof_n_samples(op->prof) || total(q) != total(op->prof))
			abort();
		prof_free(q);
		buf_fini(&out);
	}
	otlp_request_free(req);
	return 0;
}
