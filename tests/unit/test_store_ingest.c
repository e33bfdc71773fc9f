/*
 * test_store_ingest.c — the ingest path's building blocks against naive references: the
 * (node, span) sort and duplicate merge of a profile's samples (random, sorted, reversed and
 * all-equal inputs), and the head's sample stream (store_cols_add / store_cols_expand) round
 * trip with values that are and are not multiples of the period, negative values and span ids.
 */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "store/store_int.h"
#include "test.h"

static uint64_t rs = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static int cmp_ref(const void *a, const void *b)
{
	const struct store_smp *x = a, *y = b;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (x->span != y->span)
		return x->span < y->span ? -1 : 1;
	return 0;
}

static size_t merge_ref(struct store_smp *s, size_t n)
{
	size_t o = 0;

	qsort(s, n, sizeof(*s), cmp_ref);
	for (size_t i = 0; i < n; i++) {
		if (o && !cmp_ref(&s[o - 1], &s[i]))
			s[o - 1].value += s[i].value;
		else
			s[o++] = s[i];
	}
	return o;
}

TEST(store_smp_merge_matches_reference)
{
	static const size_t sizes[] = {0, 1, 2, 15, 16, 17, 100, 1000, 5000};

	for (int shape = 0; shape < 4; shape++) {
		for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			size_t n = sizes[si], na, nb;
			struct store_smp *a = mem_alloc(MEM_TEST, (n + 1) * sizeof(*a));
			struct store_smp *b = mem_alloc(MEM_TEST, (n + 1) * sizeof(*b));

			for (size_t i = 0; i < n; i++) {
				uint32_t node = shape == 0   ? (uint32_t)(rnd() % (n / 3 + 1))
						: shape == 1 ? (uint32_t)i
						: shape == 2 ? (uint32_t)(n - i)
							     : 7;
				a[i] = (struct store_smp){node, rnd() % 3 == 0 ? rnd() % 4 : 0,
							  (int64_t)(rnd() % 1000) - 100};
			}
			memcpy(b, a, n * sizeof(*a));
			na = store_smp_merge(a, n);
			nb = merge_ref(b, n);
			CHECK_EQ_INT(na, nb);
			for (size_t i = 0; i < na; i++)
				CHECK(a[i].node == b[i].node && a[i].span == b[i].span &&
				      a[i].value == b[i].value);
			mem_free(a);
			mem_free(b);
		}
	}
}

TEST(store_cols_stream_round_trip)
{
	struct store_cols c = {0}, out;
	struct store_smp s[64];
	int64_t want_v[8][64];
	uint64_t want_sp[8][64];
	uint32_t want_node[8][64];
	size_t want_n[8];
	const int64_t periods[8] = {10000000, 10000000, 1, 0, 52631578, 10000000, 3, 10000000};

	for (int p = 0; p < 8; p++) {
		size_t n = 1 + rnd() % 60;
		uint32_t node = 0;

		for (size_t i = 0; i < n; i++) {
			node += 1 + (uint32_t)(rnd() % 50);
			/* profile 1 has one value off the period grid; 5 has negative values; 7
			 * has span ids */
			int64_t v = (int64_t)(1 + rnd() % 500) * (periods[p] ? periods[p] : 1);
			if (p == 1 && i == n / 2)
				v += 1;
			if (p == 5 && i % 2)
				v = -v;
			s[i] = (struct store_smp){node, p == 7 ? rnd() : 0, v};
			want_node[p][i] = node;
			want_v[p][i] = v;
			want_sp[p][i] = s[i].span;
		}
		want_n[p] = n;
		store_cols_add(&c, 1000 + p, 10, periods[p], s, n);
	}
	store_cols_expand(&c, &out);
	CHECK_EQ_INT(out.n_prof, 8);
	for (size_t p = 0, j = 0; p < 8; p++) {
		int64_t total = 0;

		CHECK_EQ_INT(out.n_smp[p], want_n[p]);
		CHECK_EQ_INT(out.period[p], periods[p]);
		for (size_t i = 0; i < want_n[p]; i++, j++) {
			CHECK_EQ_INT(out.nodes[j], want_node[p][i]);
			CHECK_EQ_INT(out.values[j], want_v[p][i]);
			CHECK_EQ_INT(out.spans ? out.spans[j] : 0, want_sp[p][i]);
			total += want_v[p][i];
		}
		CHECK_EQ_INT(out.total[p], total);
	}
	store_cols_fini(&out);
	store_cols_fini(&c);
}
