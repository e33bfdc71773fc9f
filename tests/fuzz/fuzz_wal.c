/*
 * fuzz_wal.c — libFuzzer target for the WAL reader: parses the input as a WAL segment
 * (store_wal_parse) and replays every checksum-valid record into a scratch head through
 * store_replay (whole-profile records through the prof codec, delta records through the
 * dictionary-delta codec and, for a delta that starts from an empty dictionary while the
 * head's is not, the translation into the head's). Must never crash, leak or read out of
 * bounds on any input.
 * Seeds: tests/fuzz/corpus/wal/ (real segments written by the store).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/store_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_record(void *ctx, const uint8_t *rec, size_t n)
{
	(void)store_replay_record(ctx, rec, n);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_head *h = store_head_new();
	struct store_replay *rp = store_replay_new(h);
	size_t valid;

	(void)store_wal_parse(data, size, on_record, rp, &valid);
	/* the same segment again: its deltas now continue neither the head's dictionary nor an
	 * empty one, or start a segment dictionary of their own */
	store_replay_segment_end(rp);
	(void)store_wal_parse(data, size, on_record, rp, &valid);
	/* also try the bytes as a bare record (the checksum gate makes that path rare) */
	store_replay_segment_end(rp);
	if (size < (1u << 16))
		(void)on_record(rp, data, size);
	store_replay_free(rp);
	store_head_free(h);
	return 0;
}
