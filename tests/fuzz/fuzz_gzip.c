/*
 * fuzz_gzip.c — libFuzzer target for gzip_inflate (gzip, zlib, concatenated members, bombs).
 *
 * Every input must inflate or fail cleanly with the output buffer as it was. What inflates
 * must deflate again (at a level chosen by the input) and inflate back to exactly the same
 * bytes; any mismatch aborts. Nothing may leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "format/gzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gzip_limits lim = {1u << 20, 0}, loose = {1u << 20, UINT32_MAX};
	struct buf out, z, back;
	struct ember_diag d;

	buf_init(&out, MEM_TEST, SIZE_MAX);
	if (gzip_inflate(data, size, &lim, &out, &d) != 0) {
		if (out.len != 0)
			abort();
		buf_fini(&out);
		return 0;
	}
	buf_init(&z, MEM_TEST, SIZE_MAX);
	buf_init(&back, MEM_TEST, SIZE_MAX);
	if (gzip_deflate(out.data, out.len, 1 + (int)(size % 9), &z) != 0)
		abort();
	/* re-deflated data may compress better than the input did: no ratio limit here */
	if (gzip_inflate(z.data, z.len, &loose, &back, &d) != 0)
		abort();
	if (back.len != out.len || (out.len && memcmp(back.data, out.data, out.len) != 0))
		abort();
	buf_fini(&back);
	buf_fini(&z);
	buf_fini(&out);
	return 0;
}
