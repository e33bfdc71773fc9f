/*
 * fuzz_minidebug.c — libFuzzer target for the ELF symbol reader on hostile images, MiniDebugInfo
 * included: the bytes are opened as an ELF image (its .gnu_debugdata, if any, is xz-decoded
 * and its inner ELF read), then decoded as an xz stream whose output is opened as an ELF image
 * too, so mutations reach the inner ELF directly. Whatever they contain, this must not crash,
 * leak or read out of bounds; decoded sizes stay within the bounds; symbol lookups return
 * NUL-terminated names within the name bound and offsets within the symbol. Anything else
 * aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "symb/symb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_minidebug: %s\n", what);
		abort();
	}
}

static void probe(const void *img, size_t n)
{
	struct symb_elf *e = NULL;
	if (symb_elf_open_mem(img, n, &e) != 0)
		return;
	check(!symb_elf_has_dwarf(e), "DWARF opened from memory");
	/* Lookups at addresses taken from the image itself and around them. */
	const uint8_t *b = img;
	for (size_t i = 0; i + 8 <= n && i < 4096; i += 8) {
		uint64_t a, off = 0;
		memcpy(&a, b + i, 8);
		const char *name = symb_elf_lookup(e, a, &off);
		if (name)
			check(strlen(name) < 1024 && off <= a, "bad symbol lookup");
		uint64_t va;
		(void)symb_elf_offset_to_vaddr(e, a, &va);
	}
	char hex[2 * SYMB_BUILD_ID_MAX + 1];
	symb_elf_build_id_hex(e, hex, sizeof(hex));
	check(strlen(hex) <= 2 * SYMB_BUILD_ID_MAX, "build id too long");
	symb_elf_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	probe(data, size);
	void *out = NULL;
	size_t len = 0;
	if (symb_xz_decode(data, size, &out, &len) == 0) {
		check(len <= symb_xz_out_bound(size), "xz output past its bound");
		probe(out, len);
		mem_free(out);
	} else {
		check(out == NULL, "xz failure left output");
	}
	return 0;
}
