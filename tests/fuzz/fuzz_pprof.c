/*
 * fuzz_pprof.c — libFuzzer target for the pprof decoder (raw and gzipped input).
 *
 * Every input must decode or fail cleanly. What decodes must re-encode (alternately raw and
 * gzipped), decode again with the same sample types, sample count and totals, and decode_merge
 * twice into a fresh profile giving twice the totals; any mismatch aborts. A failed
 * decode_merge must leave its destination untouched. The two-step merge (pprof_parse, then
 * pprof_parsed_merge) must succeed and fail on the same inputs as decode_merge into a fresh
 * profile, with the same totals, and a merge session (pprof_merger) of the input and its
 * re-encoding must give what the two decode_merges give; and the split for a dictionary store
 * must keep the totals and give the same nodes twice (split_twice). Nothing may leak:
 * everything is freed.
 */
#include <stdint.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "format/pprof.h"
#include "profile/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sum of sample type vi with wrapping arithmetic: fuzzed values overflow int64. */
static uint64_t total(const struct prof *p, size_t vi)
{
	uint64_t t = 0;

	for (size_t i = 0; i < prof_n_samples(p); i++) {
		struct prof_sample s;

		prof_sample_get(p, i, &s);
		t += (uint64_t)s.values[vi];
	}
	return t;
}

static void check_same(const struct prof *a, const struct prof *b, uint64_t times)
{
	if (prof_n_sample_types(a) != prof_n_sample_types(b))
		abort();
	for (size_t k = 0; k < prof_n_sample_types(a); k++)
		if (total(a, k) * times != total(b, k))
			abort();
}

/* The input split for a dictionary store (pprof_parsed_split): the shell has p's sample
 * types and the samples p's totals; their stacks added to a dictionary (pprof_merger_stacks)
 * are all in it; a second split of the same input finds (pprof_merger_find_stacks) or adds
 * exactly the same nodes. */
static void split_twice(const uint8_t *data, size_t size, const struct pprof_limits *lim,
			const struct prof *p)
{
	struct prof *dict = prof_new(), *shell[2] = {NULL, NULL};
	struct pprof_merger *ms = pprof_merger_new(dict);
	struct pprof_parsed *pp[2] = {NULL, NULL};
	struct pprof_samples smp[2];
	uint32_t *node[2] = {NULL, NULL};
	struct ember_diag d;
	size_t nt = prof_n_sample_types(p);

	for (int r = 0; r < 2; r++) {
		if (pprof_parse(data, size, lim, &pp[r], &d) != 0 ||
		    pprof_parsed_split(pp[r], &shell[r], &smp[r], &d) != 0)
			abort();
		if (prof_n_sample_types(shell[r]) != nt || smp[r].n < prof_n_samples(p))
			abort();
		for (size_t k = 0; k < nt; k++) {
			uint64_t t = 0;

			for (size_t i = 0; i < smp[r].n; i++)
				t += (uint64_t)smp[r].values[i * nt + k];
			if (t != total(p, k))
				abort();
		}
		node[r] = mem_alloc(MEM_TEST, (smp[r].n + 1) * sizeof(uint32_t));
		if (r == 0 || !pprof_merger_find_stacks(ms, pp[r], node[r]))
			pprof_merger_stacks(ms, pp[r], node[r]);
		for (size_t i = 0; i < smp[r].n; i++)
			if (node[r][i] >= prof_n_nodes(dict) || node[r][i] != node[0][i])
				abort();
	}
	for (int r = 0; r < 2; r++) {
		mem_free(node[r]);
		prof_free(shell[r]);
		pprof_parsed_free(pp[r]);
	}
	pprof_merger_free(ms);
	prof_free(dict);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* small bounds keep the fuzzer fast; the limits themselves are under test too */
	struct pprof_limits lim = {{4u << 20, 0}, 4u << 20, 100000};
	struct prof *p = NULL, *q = NULL, *m, *mp;
	struct pprof_parsed *pp = NULL;
	struct pprof_merger *ms;
	struct ember_diag d;
	struct buf out;

	if (pprof_decode(data, size, &lim, &p, &d) != 0) {
		/* the same input must fail to merge too, leaving dst empty */
		m = prof_new();
		if (pprof_decode_merge(m, data, size, &lim, &d) == 0 || prof_n_samples(m) != 0 ||
		    prof_n_strings(m) != 1)
			abort();
		prof_free(m);
		if (pprof_parse(data, size, &lim, &pp, &d) == 0 || pp)
			abort();
		return 0;
	}
	buf_init(&out, MEM_TEST, SIZE_MAX);
	if (pprof_encode(p, size & 1, &out) != 0)
		abort();
	if (pprof_decode(out.data, out.len, NULL, &q, &d) != 0)
		abort();
	if (prof_n_samples(p) != prof_n_samples(q))
		abort();
	check_same(p, q, 1);

	m = prof_new();
	if (pprof_decode_merge(m, data, size, &lim, &d) != 0 ||
	    pprof_decode_merge(m, out.data, out.len, NULL, &d) != 0)
		abort();
	if (prof_n_samples(m) != prof_n_samples(p))
		abort();
	check_same(p, m, 2);

	mp = prof_new();
	if (pprof_parse(data, size, &lim, &pp, &d) != 0 || pprof_parsed_merge(mp, pp, &d) != 0 ||
	    pprof_parsed_merge(mp, pp, &d) == 0)
		abort();
	pprof_parsed_free(pp);
	check_same(p, mp, 1);
	prof_free(mp);

	/* a merge session (location cache across inputs) over the input and its re-encoding: the
	 * same samples, locations and totals as the two decode_merges into m */
	mp = prof_new();
	ms = pprof_merger_new(mp);
	pp = NULL;
	if (pprof_parse(data, size, &lim, &pp, &d) != 0 || pprof_merger_add(ms, pp, &d) != 0)
		abort();
	pprof_parsed_free(pp);
	pp = NULL;
	if (pprof_parse(out.data, out.len, NULL, &pp, &d) != 0 || pprof_merger_add(ms, pp, &d) != 0)
		abort();
	pprof_parsed_free(pp);
	if (prof_n_samples(mp) != prof_n_samples(m) || prof_n_locations(mp) != prof_n_locations(m))
		abort();
	check_same(p, mp, 2);
	pprof_merger_free(ms);
	prof_free(mp);

	split_twice(data, size, &lim, p);
	prof_free(m);
	prof_free(q);
	prof_free(p);
	buf_fini(&out);
	return 0;
}
