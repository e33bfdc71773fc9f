/*
 * fuzz_procmaps.c — libFuzzer target for the /proc and /tmp text parsers of src/symb: the same
 * bytes are parsed as /proc/PID/maps, /proc/kallsyms and a perf map. Whatever they contain,
 * parsing must not crash, leak or read out of bounds, and the results must be consistent:
 * every mapping found for an address contains it, lookups on the parsed tables return names
 * that are NUL-terminated within the bounds. Any other outcome aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "symb/symb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_procmaps: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct symb_maps m;
	symb_maps_init(&m);
	if (symb_maps_parse(&m, text, size) == 0) {
		for (size_t i = 0; i < m.len; i++) {
			const struct symb_map *x = &m.maps[i];
			check(x->start <= x->end, "mapping with end < start");
			check(strlen(x->path) <= SYMB_MAPS_MAX_LINE, "path too long");
			if (x->start < x->end) {
				const struct symb_map *f = symb_maps_find(&m, x->start);
				check(f && f->start <= x->start && x->start < f->end,
				      "find returned a mapping without the address");
			}
		}
	}
	symb_maps_fini(&m);

	struct symb_kallsyms *k = NULL;
	if (symb_kallsyms_parse(text, size, &k) == 0) {
		const char *mod;
		uint64_t off;
		for (size_t i = 0; i + 8 <= size && i < 256; i += 8) {
			uint64_t a;
			memcpy(&a, data + i, 8);
			const char *n = symb_kallsyms_lookup(k, a, &mod, &off);
			if (n)
				check(strlen(n) <= 1024 && off <= a, "bad kallsyms lookup");
		}
		symb_kallsyms_free(k);
	}

	struct symb_perfmap *pm = NULL;
	if (symb_perfmap_parse(text, size, &pm) == 0) {
		for (size_t i = 0; i + 8 <= size && i < 256; i += 8) {
			uint64_t a;
			memcpy(&a, data + i, 8);
			const char *n = symb_perfmap_lookup(pm, a);
			if (n)
				check(strlen(n) <= 1024, "perf map name too long");
		}
		symb_perfmap_free(pm);
	}
	return 0;
}
