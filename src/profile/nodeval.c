/*
 * nodeval.c — per-node sums of one sample type and the "needed" marks (nodeval.h).
 */
#include "profile/nodeval.h"

#include "base/mem.h"
#include "profile/profile.h"

int64_t *prof_node_values(const struct prof *p, size_t vi, uint8_t *need, int64_t *total)
{
	uint32_t n_nodes = prof_n_nodes(p);
	size_t n_samples = prof_n_samples(p);
	int64_t *nv = mem_calloc(MEM_PROFILE, n_nodes ? n_nodes : 1, sizeof(int64_t));
	int64_t sum = 0;

	for (size_t i = 0; i < n_samples; i++) {
		struct prof_sample s;

		prof_sample_get(p, i, &s);
		if (s.node < n_nodes)
			nv[s.node] += s.values[vi];
		sum += s.values[vi];
	}
	if (total)
		*total += sum;
	/* Children have larger ids than their parents: one backward pass marks whole paths. */
	for (uint32_t n = n_nodes; n-- > 1;)
		if (nv[n] || need[n])
			need[n] = need[prof_node_parent(p, n)] = 1;
	return nv;
}
