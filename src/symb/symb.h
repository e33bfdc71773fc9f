/*
 * symb.h — symbolization: /proc/PID/maps parsing, ELF symbol tables (.symtab/.dynsym, separate
 * debug files by build id or debuglink), kernel symbols from /proc/kallsyms, JIT perf maps
 * (/tmp/perf-PID.map), C++/Rust demangling, MiniDebugInfo and DWARF source lines with inline
 * frames. Every byte read here comes from files a process or the kernel controls: sizes are
 * bounded, malformed lines are skipped, nothing asserts on input. This module never logs: it returns 0 or -errno/-EMBER_E* and the caller reports.
 * Objects are immutable after load (but for the DWARF reader of an ELF file, opened on its
 * first line lookup); lookups return borrowed pointers valid until the _free.
 */
#ifndef EMBER_SYMB_SYMB_H
#define EMBER_SYMB_SYMB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- /proc/PID/maps -------------------------------------------------------------------- */

#define SYMB_MAP_R 0x1
#define SYMB_MAP_W 0x2
#define SYMB_MAP_X 0x4
#define SYMB_MAP_P 0x8 /* private */

/* Bounds: lines longer than this are skipped, and at most this many mappings are kept. */
#define SYMB_MAPS_MAX_LINE  8192
#define SYMB_MAPS_MAX_COUNT 65536

/* One mapping, a plain value. path is owned by the symb_maps that holds it ("" = anonymous;
 * "[vdso]", "[stack]"... for the kernel's pseudo paths; " (deleted)" is stripped and noted). */
struct symb_map {
	uint64_t start;
	uint64_t end;
	uint64_t offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t perms; /* SYMB_MAP_* */
	bool deleted;
	char *path;
};

struct symb_maps {
	struct symb_map *maps; /* owned, sorted by start as the kernel writes them */
	size_t len;
	size_t cap;
};

void symb_maps_init(struct symb_maps *m);
void symb_maps_fini(struct symb_maps *m);
/* Parses maps text into m (appending). Bad lines are skipped; -EMBER_ELIMIT past the count
 * bound. */
int symb_maps_parse(struct symb_maps *m, const char *text, size_t len);
/* Reads /proc/PID/maps. -ENOENT when the process is gone. */
int symb_maps_read(struct symb_maps *m, int pid);
/* The mapping holding addr, or NULL. */
const struct symb_map *symb_maps_find(const struct symb_maps *m, uint64_t addr);

/* ---- ELF files ------------------------------------------------------------------------- */

#define SYMB_BUILD_ID_MAX 64

struct symb_elf;

/* Opens an ELF file and loads what symbolization needs (build id, PT_LOAD segments, function
 * symbols from .symtab, else from a separate debug file found by build id or .gnu_debuglink
 * under root + "/usr/lib/debug", else .dynsym). root is the process's root directory prefix
 * ("/proc/PID/root") or NULL. The file is closed before returning. */
int symb_elf_open(const char *path, const char *root, struct symb_elf **out);
void symb_elf_free(struct symb_elf *e);
/* ELF type (ET_EXEC, ET_DYN...). */
int symb_elf_type(const struct symb_elf *e);
/* Raw build id bytes (*len 0 when none). */
const uint8_t *symb_elf_build_id(const struct symb_elf *e, size_t *len);
/* Build id as lowercase hex into out (empty when none). */
void symb_elf_build_id_hex(const struct symb_elf *e, char *out, size_t n);
/* Converts a file offset to the ELF virtual address through the PT_LOAD holding it. */
int symb_elf_offset_to_vaddr(const struct symb_elf *e, uint64_t file_offset, uint64_t *vaddr);
/* The function symbol covering vaddr (raw, possibly mangled name) and *off from its start;
 * NULL when none. */
const char *symb_elf_lookup(const struct symb_elf *e, uint64_t vaddr, uint64_t *off);
size_t symb_elf_n_symbols(const struct symb_elf *e);
/* True when the symbols came from .symtab (or a debug file's), false for .dynsym only. */
bool symb_elf_has_symtab(const struct symb_elf *e);
/* Bytes held, for cache bounds (the DWARF reader's estimate included once it is open). */
size_t symb_elf_bytes(const struct symb_elf *e);
/* Opens an ELF image held in memory (tests, fuzzing): build id, PT_LOADs, .symtab, else
 * MiniDebugInfo, plus .dynsym; no separate debug files, no DWARF. data is copied. */
int symb_elf_open_mem(const void *data, size_t n, struct symb_elf **out);

/* Where the function symbols came from. */
enum symb_sym_source {
	SYMB_SRC_DYNSYM,    /* .dynsym only */
	SYMB_SRC_SYMTAB,    /* the file's own .symtab */
	SYMB_SRC_DEBUGFILE, /* a separate debug file (build id, debuglink, debuginfod) */
	SYMB_SRC_MINIDEBUG, /* .gnu_debugdata */
};
enum symb_sym_source symb_elf_sym_source(const struct symb_elf *e);

/* ---- MiniDebugInfo (xz) ----------------------------------------------------------------- */

#define SYMB_XZ_MAX_IN	  ((size_t)16 << 20) /* compressed bytes */
#define SYMB_XZ_MAX_OUT	  ((size_t)64 << 20) /* decompressed bytes */
#define SYMB_XZ_MAX_RATIO 64		     /* decompressed / compressed (+ 64 KiB) */

/* Decodes one xz stream into *out (mem_alloc'd, *out_len bytes). -EMBER_ELIMIT past the
 * bounds above, -EMBER_EFORMAT when it is not a valid, complete xz stream. */
int symb_xz_decode(const void *in, size_t in_len, void **out, size_t *out_len);
/* The output bound for in_len compressed bytes (0 when in_len is over SYMB_XZ_MAX_IN). */
size_t symb_xz_out_bound(size_t in_len);

/* ---- DWARF source lines and inline frames ------------------------------------------------ */

#define SYMB_MAX_INLINE	     16			 /* frames returned per address */
#define SYMB_DWARF_MAX_BYTES ((size_t)512 << 20) /* larger DWARF is not opened */

/* One frame of an address: the function and the source line reached in it. */
struct symb_srcline {
	const char *function; /* raw (linkage) name, NULL when DWARF has none */
	const char *file;     /* NULL when unknown */
	uint32_t line;	      /* 0 when unknown */
};

/* True when the file (or its separate debug file with the same build id) has .debug_info and
 * .debug_line: symb_elf_open then maps that file (no descriptor kept) for a DWARF reader. */
bool symb_elf_has_dwarf(const struct symb_elf *e);
/* The size of that DWARF (its .debug_* sections, uncompressed); 0 without. */
size_t symb_elf_dwarf_bytes(const struct symb_elf *e);
/* The frames at vaddr, innermost first: out[0] is the function inlined deepest with the line
 * of vaddr, each next one the function it was inlined into with the line of the call, the last
 * the function holding vaddr. Deeper nests keep the innermost max - 1 and the outermost.
 * Returns how many (0: no DWARF, or vaddr in no unit). Strings are borrowed until the next
 * symb_elf_dwarf_reset or symb_elf_free. The reader caches the units it reads: symb_elf_bytes
 * grows by an estimate of what they hold. */
size_t symb_elf_srclines(struct symb_elf *e, uint64_t vaddr, struct symb_srcline *out, size_t max);
/* Drops what the DWARF reader cached (symb_elf_bytes shrinks back). */
void symb_elf_dwarf_reset(struct symb_elf *e);

/* ---- kernel symbols ---------------------------------------------------------------------- */

struct symb_kallsyms;

/* Parses kallsyms text (text symbols only: t/T/w/W). */
int symb_kallsyms_parse(const char *text, size_t len, struct symb_kallsyms **out);
/* Loads path (NULL = /proc/kallsyms). -EACCES-like -EMBER_ENOTFOUND when addresses are all
 * zero (kptr_restrict). */
int symb_kallsyms_load(const char *path, struct symb_kallsyms **out);
void symb_kallsyms_free(struct symb_kallsyms *k);
/* The symbol holding addr, its module (NULL for vmlinux) and offset; NULL when addr is below
 * the first symbol or past the last one by more than a page. */
const char *symb_kallsyms_lookup(const struct symb_kallsyms *k, uint64_t addr, const char **module,
				 uint64_t *off);
size_t symb_kallsyms_count(const struct symb_kallsyms *k);

/* ---- perf maps (JIT) --------------------------------------------------------------------- */

struct symb_perfmap;

int symb_perfmap_parse(const char *text, size_t len, struct symb_perfmap **out);
/* Reads path; -ENOENT when absent. */
int symb_perfmap_load(const char *path, struct symb_perfmap **out);
void symb_perfmap_free(struct symb_perfmap *pm);
/* The name covering addr; when entries overlap, the one written last wins. */
const char *symb_perfmap_lookup(const struct symb_perfmap *pm, uint64_t addr);
size_t symb_perfmap_count(const struct symb_perfmap *pm);

/* ---- demangling -------------------------------------------------------------------------- */

/* Demangles a C++ (_Z...) or Rust (_ZN...h<hash>E legacy, _R v0) name into out. Returns false
 * (out untouched) when name is not mangled or does not demangle; truncates to n - 1 bytes. */
bool symb_demangle(const char *name, char *out, size_t n);

#endif
