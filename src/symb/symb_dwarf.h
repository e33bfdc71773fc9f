/*
 * symb_dwarf.h — private to src/symb: the DWARF reader of one ELF file (symb_dwarf.c), held by
 * a struct symb_elf, and the ELF helpers symb_elf.c shares with it.
 */
#ifndef EMBER_SYMB_DWARF_H
#define EMBER_SYMB_DWARF_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symb/symb.h"

struct symb_dwarf;

/* The GNU build id note of elf into out (*len 0 when none). */
void symb_read_build_id(Elf *elf, uint8_t *out, size_t *len);
/* True when elf has .debug_info and .debug_line with contents; *bytes = the sizes of its
 * .debug_* sections (uncompressed). */
bool symb_dwarf_probe(Elf *elf, size_t *bytes);
/* Opens the DWARF of the file at path, which must carry build_id (when build_id_len > 0).
 * The file is mapped and its descriptor closed. -EMBER_ENOTFOUND without DWARF,
 * -EMBER_ELIMIT past SYMB_DWARF_MAX_BYTES. */
int symb_dwarf_open(const char *path, const uint8_t *build_id, size_t build_id_len,
		    struct symb_dwarf **out);
void symb_dwarf_free(struct symb_dwarf *d);
/* See symb_elf_srclines. */
size_t symb_dwarf_lookup(struct symb_dwarf *d, uint64_t vaddr, struct symb_srcline *out,
			 size_t max);
/* Estimated bytes held: 5 x the size of every unit read so far (its DIEs, abbreviations, line
 * table and the mapped pages libdw touched; measured on libc's DWARF), their function indexes,
 * and a fixed overhead. */
size_t symb_dwarf_bytes(const struct symb_dwarf *d);
/* Drops what libdw cached (units, line tables); the mapping stays. */
void symb_dwarf_reset(struct symb_dwarf *d);
/* The whole DWARF size of the file (its .debug_* sections). */
size_t symb_dwarf_total_bytes(const struct symb_dwarf *d);

#endif
