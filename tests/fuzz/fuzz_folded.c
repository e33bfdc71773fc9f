/*
 * fuzz_folded.c — libFuzzer target for the folded reader and writer. Any input either fails to
 * read (with a diag) or reads into a profile whose folded output reads back with the same
 * total; writing that again is a fixed point (the writer's normalisation of names is stable).
 * Any other outcome aborts. Everything is freed, so leaks show up under ASan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "format/folded.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* folded_write of p into b (reset first); aborts on failure. */
static void write_or_die(const struct prof *p, struct buf *b)
{
	buf_reset(b);
	if (folded_write(p, 0, b) != 0) {
		fprintf(stderr, "fuzz_folded: folded_write failed\n");
		abort();
	}
}

static struct prof *reread_or_die(const struct buf *b)
{
	struct prof *p = NULL;
	struct ember_diag d = {{0}};

	if (folded_read((const char *)b->data, b->len, NULL, NULL, &p, &d) != 0) {
		fprintf(stderr, "fuzz_folded: own output does not read back: %s\n", d.msg);
		abort();
	}
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prof *p = NULL, *q, *r;
	struct ember_diag d = {{0}};
	struct buf b1, b2;

	if (folded_read((const char *)data, size, NULL, NULL, &p, &d) != 0) {
		if (p || strncmp(d.msg, "folded: line ", 13) != 0) {
			fprintf(stderr, "fuzz_folded: failure without diag or with a profile\n");
			abort();
		}
		return 0;
	}
	buf_init(&b1, MEM_TEST, SIZE_MAX);
	buf_init(&b2, MEM_TEST, SIZE_MAX);
	write_or_die(p, &b1);
	q = reread_or_die(&b1);
	if (prof_total(p, 0) != prof_total(q, 0)) {
		fprintf(stderr, "fuzz_folded: totals differ: %lld vs %lld\n",
			(long long)prof_total(p, 0), (long long)prof_total(q, 0));
		abort();
	}
	write_or_die(q, &b1);
	r = reread_or_die(&b1);
	write_or_die(r, &b2);
	if (b1.len != b2.len || (b1.len && memcmp(b1.data, b2.data, b1.len) != 0)) {
		fprintf(stderr, "fuzz_folded: output is not a fixed point\n");
		abort();
	}
	buf_fini(&b1);
	buf_fini(&b2);
	prof_free(p);
	prof_free(q);
	prof_free(r);
	return 0;
}
