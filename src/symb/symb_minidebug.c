/*
 * symb_minidebug.c — MiniDebugInfo: the `.gnu_debugdata` section some distributions (Fedora,
 * RHEL) add to stripped binaries, an xz stream holding a small ELF whose .symtab names the
 * local functions .dynsym lacks. This file only decodes the xz stream, bounded in input size,
 * output size and expansion ratio (a decompression bomb stops at the bound), with liblzma's
 * own memory limit; the inner ELF is then read by symb_elf.c like any other hostile file.
 */
#include <errno.h>
#include <lzma.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "symb/symb.h"

#define XZ_MEMLIMIT ((uint64_t)64 << 20) /* the decoder's dictionary and state */

size_t symb_xz_out_bound(size_t in_len)
{
	if (in_len > SYMB_XZ_MAX_IN)
		return 0;
	size_t by_ratio = in_len * SYMB_XZ_MAX_RATIO + 65536;
	return by_ratio < SYMB_XZ_MAX_OUT ? by_ratio : SYMB_XZ_MAX_OUT;
}

int symb_xz_decode(const void *in, size_t in_len, void **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (in_len > SYMB_XZ_MAX_IN)
		return -EMBER_ELIMIT;
	size_t max = symb_xz_out_bound(in_len);
	lzma_stream s = LZMA_STREAM_INIT;
	if (lzma_stream_decoder(&s, XZ_MEMLIMIT, 0) != LZMA_OK)
		return -ENOMEM;
	size_t cap = in_len * 4 + 4096;
	if (cap > max)
		cap = max;
	uint8_t *buf = mem_alloc(MEM_SYMB, cap);
	s.next_in = in;
	s.avail_in = in_len;
	s.next_out = buf;
	s.avail_out = cap;
	int rc = 0;
	for (;;) {
		lzma_ret r = lzma_code(&s, LZMA_FINISH);
		if (r == LZMA_STREAM_END)
			break;
		if (r == LZMA_OK && s.avail_out == 0) {
			size_t used = cap;
			if (cap >= max) {
				rc = -EMBER_ELIMIT; /* larger than the bound: a bomb or not MiniDebugInfo */
				break;
			}
			cap = cap * 2 < max ? cap * 2 : max;
			buf = mem_realloc(MEM_SYMB, buf, cap);
			s.next_out = buf + used;
			s.avail_out = cap - used;
			continue;
		}
		if (r == LZMA_OK && s.avail_in == 0) {
			rc = -EMBER_EFORMAT; /* truncated stream */
			break;
		}
		if (r == LZMA_MEMLIMIT_ERROR || r == LZMA_MEM_ERROR)
			rc = -EMBER_ELIMIT;
		else if (r != LZMA_OK)
			rc = -EMBER_EFORMAT;
		if (rc != 0)
			break;
	}
	size_t len = cap - s.avail_out;
	lzma_end(&s);
	if (rc != 0) {
		mem_free(buf);
		return rc;
	}
	*out = buf;
	*out_len = len;
	return 0;
}
