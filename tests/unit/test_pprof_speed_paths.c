/*
 * test_pprof_speed_paths.c — the decoder's and the profile model's fast paths, each checked
 * against the general path it stands in for, so that a broken fast path fails here rather than
 * only in the benchmarks: hmap_put_new (the node index's insertion of keys known to be new).
 */
#include <stdbool.h>
#include <stdint.h>

#include "base/hmap.h"
#include "base/mem.h"
#include "test.h"

/* hmap_put_new gives the map hmap_put gives: every key found with its value, the same length,
 * also when probes collide and wrap around the end of the table. */
TEST(hmap_put_new_matches_put)
{
	struct hmap a, b;
	bool same = true;
	uint64_t v;

	hmap_init(&a, MEM_TEST);
	hmap_init(&b, MEM_TEST);
	hmap_reserve(&a, 3000);
	for (uint64_t k = 0; k < 3000; k++) {
		uint64_t key = k * 0x9e3779b97f4a7c15ULL >> 7; /* spread, never HMAP_EMPTY */

		hmap_put_new(&a, key, k);
		hmap_put(&b, key, k);
	}
	CHECK_EQ_INT(a.len, 3000);
	CHECK_EQ_INT(a.len, b.len);
	for (uint64_t k = 0; k < 3000; k++) {
		uint64_t key = k * 0x9e3779b97f4a7c15ULL >> 7;

		same &= hmap_get(&a, key, &v) && v == k;
	}
	CHECK(same);
	/* a full cluster: consecutive keys of a small table, inserted until it is at its load */
	hmap_clear(&a);
	hmap_reserve(&a, 8);
	for (uint64_t k = 1; k <= 8; k++)
		hmap_put_new(&a, k, k + 100);
	for (uint64_t k = 1; k <= 8; k++)
		same &= hmap_get(&a, k, &v) && v == k + 100;
	CHECK(same);
	CHECK_EQ_INT(a.len, 8);
	hmap_fini(&a);
	hmap_fini(&b);
}
