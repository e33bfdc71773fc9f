/*
 * symb_dwarf.c — source lines and inline frames of an address from DWARF (.debug_info,
 * .debug_line), read with libdw. The unit holding the address comes from libdw's address
 * ranges; within it, a walk from the unit DIE down the DIEs whose ranges hold the address
 * (namespaces and classes are entered too) gives the chain of the function and the inlined
 * subroutines, outer to inner; the innermost frame's line comes from the line table, each outer
 * frame's from the DW_AT_call_file/DW_AT_call_line of the inlined call it holds. The file is
 * hostile: the walk is bounded in depth and in DIEs visited, and libdw checks offsets.
 * Memory: libdw caches every unit it reads until dwarf_end; what was read is estimated per unit
 * (symb_dwarf_bytes) so the owner can bound it and reset the reader.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/hmap.h"
#include "base/mem.h"
#include "symb/symb_dwarf.h"

#define DWARF_MAX_DEPTH	 64
#define DWARF_MAX_VISITS 200000 /* DIEs looked at per lookup */
#define DWARF_UNIT_COST	 5	/* bytes held per byte of unit read (estimate) */
#define DWARF_OVERHEAD	 4096
#define DWARF_MAX_FNS	 (1u << 20) /* function ranges indexed per unit */

/* One address range of a function defined at a unit's top level (or in a namespace/class). */
struct fn_range {
	uint64_t lo, hi; /* [lo, hi) */
	uint64_t die;	 /* DIE offset of the function */
};

/* The functions of one unit by address, built when the unit is first read: a lookup then
 * walks one function's DIEs, not the unit's. */
struct unit_index {
	struct fn_range *r;
	size_t n, cap;
};

struct symb_dwarf {
	Elf *elf;
	Dwarf *dw;
	size_t total;	   /* .debug_* bytes */
	size_t charged;	   /* estimate of what libdw and the indexes hold */
	struct hmap units; /* unit DIE offset -> struct unit_index * */
};

void symb_read_build_id(Elf *elf, uint8_t *out, size_t *len)
{
	Elf_Scn *scn = NULL;
	*len = 0;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    memcmp((const char *)d->d_buf + name_off, "GNU", 4) == 0 &&
			    nh.n_descsz > 0 && nh.n_descsz <= SYMB_BUILD_ID_MAX) {
				memcpy(out, (const char *)d->d_buf + desc_off, nh.n_descsz);
				*len = nh.n_descsz;
				return;
			}
		}
	}
}

bool symb_dwarf_probe(Elf *elf, size_t *bytes)
{
	size_t shstrndx;
	bool info = false, line = false;
	*bytes = 0;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || sh.sh_size == 0)
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strncmp(name, ".debug_", 7) != 0)
			continue;
		uint64_t size = sh.sh_size;
		if (sh.sh_flags & SHF_COMPRESSED) {
			GElf_Chdr ch;
			if (gelf_getchdr(scn, &ch))
				size = ch.ch_size;
		}
		if (size > SIZE_MAX - *bytes)
			*bytes = SIZE_MAX;
		else
			*bytes += (size_t)size;
		info |= strcmp(name, ".debug_info") == 0;
		line |= strcmp(name, ".debug_line") == 0;
	}
	return info && line;
}

int symb_dwarf_open(const char *path, const uint8_t *build_id, size_t build_id_len,
		    struct symb_dwarf **out)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	int rc = 0;
	size_t total = 0;
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		rc = -EMBER_EFORMAT;
	} else if (!symb_dwarf_probe(elf, &total)) {
		rc = -EMBER_ENOTFOUND;
	} else if (total > SYMB_DWARF_MAX_BYTES) {
		rc = -EMBER_ELIMIT;
	} else if (build_id_len > 0) {
		uint8_t id[SYMB_BUILD_ID_MAX];
		size_t len;
		symb_read_build_id(elf, id, &len);
		if (len != build_id_len || memcmp(id, build_id, len) != 0)
			rc = -EMBER_ENOTFOUND; /* another file now has that path */
	}
	/* Mapped (or read, if mmap failed) whole: the descriptor is not needed once libdw has
	 * seen it (it finds the directory of DWZ alternate files through it). FDDONE fails when
	 * FDREAD already let it go. */
	if (rc == 0 && elf_cntl(elf, ELF_C_FDREAD) != 0)
		rc = -EMBER_EFORMAT;
	Dwarf *dw = NULL;
	if (rc == 0 && !(dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL)))
		rc = -EMBER_EFORMAT;
	if (rc == 0)
		(void)elf_cntl(elf, ELF_C_FDDONE);
	close(fd);
	if (rc != 0) {
		if (elf)
			elf_end(elf);
		return rc;
	}
	struct symb_dwarf *d = mem_calloc(MEM_SYMB, 1, sizeof(*d));
	d->elf = elf;
	d->dw = dw;
	d->total = total;
	hmap_init(&d->units, MEM_SYMB);
	*out = d;
	return 0;
}

static void free_units(struct symb_dwarf *d)
{
	size_t it = 0;
	uint64_t k, v;
	while (hmap_next(&d->units, &it, &k, &v)) {
		struct unit_index *u = (struct unit_index *)(uintptr_t)v;
		mem_free(u->r);
		mem_free(u);
	}
	hmap_clear(&d->units);
}

void symb_dwarf_free(struct symb_dwarf *d)
{
	if (!d)
		return;
	if (d->dw)
		dwarf_end(d->dw);
	elf_end(d->elf);
	free_units(d);
	hmap_fini(&d->units);
	mem_free(d);
}

void symb_dwarf_reset(struct symb_dwarf *d)
{
	if (d->dw)
		dwarf_end(d->dw);
	d->dw = dwarf_begin_elf(d->elf, DWARF_C_READ, NULL);
	free_units(d);
	d->charged = 0;
}

size_t symb_dwarf_bytes(const struct symb_dwarf *d)
{
	return sizeof(*d) + DWARF_OVERHEAD + d->charged + d->units.cap * 16;
}

size_t symb_dwarf_total_bytes(const struct symb_dwarf *d)
{
	return d->total;
}

/* The size of the unit of cudie: the distance from its header (just before the unit DIE: 11,
 * 12, 23 or 24 bytes for DWARF 2-4/5, 32/64-bit) to the next unit. */
static size_t unit_size(struct symb_dwarf *d, Dwarf_Off off)
{
	static const Dwarf_Off header_sizes[] = {11, 12, 23, 24};
	for (size_t i = 0; i < sizeof(header_sizes) / sizeof(header_sizes[0]); i++) {
		Dwarf_Off hdr = off - header_sizes[i], next;
		size_t hsize;
		if (off < header_sizes[i] ||
		    dwarf_nextcu(d->dw, hdr, &next, &hsize, NULL, NULL, NULL) != 0 ||
		    hdr + hsize != off || next <= hdr)
			continue;
		return (size_t)(next - hdr);
	}
	return 4096; /* the header is not where expected */
}

static bool is_function(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/* DIEs without ranges of their own whose children may hold functions. */
static bool is_container(int tag)
{
	return tag == DW_TAG_namespace || tag == DW_TAG_module || tag == DW_TAG_class_type ||
	       tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

/* Ranged scopes entered while looking for inlined calls. */
static bool is_scope(int tag)
{
	return is_function(tag) || tag == DW_TAG_lexical_block || tag == DW_TAG_try_block ||
	       tag == DW_TAG_catch_block || tag == DW_TAG_with_stmt;
}

static void index_add(struct unit_index *u, uint64_t lo, uint64_t hi, uint64_t die)
{
	if (lo >= hi || u->n >= DWARF_MAX_FNS)
		return;
	mem_grow(MEM_SYMB, (void **)&u->r, &u->cap, u->n + 1, sizeof(*u->r));
	u->r[u->n++] = (struct fn_range){.lo = lo, .hi = hi, .die = die};
}

/* Indexes the functions with code among the children of parent (entering containers). */
static void index_children(Dwarf_Die *parent, struct unit_index *u, int depth, size_t *visits)
{
	Dwarf_Die child;
	if (depth >= DWARF_MAX_DEPTH || dwarf_child(parent, &child) != 0)
		return;
	do {
		if (++*visits > 16 * (size_t)DWARF_MAX_VISITS)
			return;
		int tag = dwarf_tag(&child);
		if (tag == DW_TAG_subprogram || tag == DW_TAG_entry_point) {
			Dwarf_Addr base, lo, hi;
			ptrdiff_t off = 0;
			int k = 0;
			while (k++ < 64 && (off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0)
				index_add(u, lo, hi, dwarf_dieoffset(&child));
		} else if (is_container(tag) && dwarf_haschildren(&child) > 0) {
			Dwarf_Die next = child;
			index_children(&next, u, depth + 1, visits);
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static int cmp_range(const void *a, const void *b)
{
	const struct fn_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The index of the unit of cudie, built (and charged) the first time. */
static struct unit_index *get_unit(struct symb_dwarf *d, Dwarf_Die *cudie)
{
	Dwarf_Off off = dwarf_dieoffset(cudie);
	uint64_t key = off == HMAP_EMPTY ? 0 : off, v;
	if (hmap_get(&d->units, key, &v))
		return (struct unit_index *)(uintptr_t)v;
	struct unit_index *u = mem_calloc(MEM_SYMB, 1, sizeof(*u));
	size_t visits = 0;
	index_children(cudie, u, 0, &visits);
	if (u->n > 1)
		qsort(u->r, u->n, sizeof(*u->r), cmp_range);
	hmap_put(&d->units, key, (uint64_t)(uintptr_t)u);
	d->charged += DWARF_UNIT_COST * unit_size(d, off) + u->cap * sizeof(*u->r);
	return u;
}

/* The function holding pc: the last range starting at or below pc that holds it (ranges of
 * distinct functions do not overlap; a few before it are checked in case they do). */
static bool find_function(struct symb_dwarf *d, const struct unit_index *u, Dwarf_Addr pc,
			  Dwarf_Die *out)
{
	size_t lo = 0, hi = u->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (u->r[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo, k = 0; i-- > 0 && k < 8; k++)
		if (pc < u->r[i].hi)
			return dwarf_offdie(d->dw, u->r[i].die, out) != NULL;
	return false;
}

struct chain {
	Dwarf_Die die[DWARF_MAX_DEPTH]; /* functions, outer to inner */
	size_t n;
	size_t visits;
};

/* Descends from parent into the child scopes holding pc, appending functions. */
static void walk(Dwarf_Die *parent, Dwarf_Addr pc, struct chain *c, int depth)
{
	Dwarf_Die child;
	if (depth >= DWARF_MAX_DEPTH || dwarf_child(parent, &child) != 0)
		return;
	do {
		if (++c->visits > DWARF_MAX_VISITS)
			return;
		int tag = dwarf_tag(&child);
		if (is_scope(tag)) {
			if (dwarf_haspc(&child, pc) <= 0)
				continue;
			if (tag == DW_TAG_subprogram || tag == DW_TAG_entry_point)
				c->n = 0; /* a nested function is a function of its own */
			if (is_function(tag) && c->n < DWARF_MAX_DEPTH)
				c->die[c->n++] = child;
			Dwarf_Die next = child;
			walk(&next, pc, c, depth + 1);
			return; /* scopes do not overlap: one holds pc */
		}
		if (is_container(tag) && dwarf_haschildren(&child) > 0) {
			size_t before = c->n;
			Dwarf_Die next = child;
			walk(&next, pc, c, depth + 1);
			if (c->n != before)
				return;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *n = NULL;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &a) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a))
		n = dwarf_formstring(&a);
	if (!n && dwarf_attr_integrate(die, DW_AT_name, &a))
		n = dwarf_formstring(&a);
	return n;
}

/* The call site of an inlined subroutine: file and line in the function it was inlined into. */
static void call_site(Dwarf_Die *die, Dwarf_Files *files, size_t n_files, const char **file,
		      uint32_t *line)
{
	Dwarf_Attribute a;
	Dwarf_Word v;
	*file = NULL;
	*line = 0;
	if (dwarf_attr(die, DW_AT_call_file, &a) && dwarf_formudata(&a, &v) == 0 && files &&
	    v < n_files)
		*file = dwarf_filesrc(files, v, NULL, NULL);
	if (dwarf_attr(die, DW_AT_call_line, &a) && dwarf_formudata(&a, &v) == 0)
		*line = v > UINT32_MAX ? 0 : (uint32_t)v;
}

size_t symb_dwarf_lookup(struct symb_dwarf *d, uint64_t vaddr, struct symb_srcline *out, size_t max)
{
	Dwarf_Die cudie;
	if (!d->dw || max == 0 || !dwarf_addrdie(d->dw, vaddr, &cudie))
		return 0;
	struct unit_index *u = get_unit(d, &cudie);
	struct symb_srcline inner = {0};
	Dwarf_Line *l = dwarf_getsrc_die(&cudie, vaddr);
	if (l) {
		int lineno = 0;
		inner.file = dwarf_linesrc(l, NULL, NULL);
		if (dwarf_lineno(l, &lineno) == 0 && lineno > 0)
			inner.line = (uint32_t)lineno;
	}
	struct chain c;
	c.n = 0;
	c.visits = 0;
	Dwarf_Die fn;
	if (find_function(d, u, vaddr, &fn)) {
		c.die[c.n++] = fn;
		walk(&fn, vaddr, &c, 1);
	}
	if (c.n == 0) {
		out[0] = inner;
		return inner.file ? 1 : 0;
	}
	Dwarf_Files *files = NULL;
	size_t n_files = 0;
	if (dwarf_getsrcfiles(&cudie, &files, &n_files) != 0)
		files = NULL;
	/* Frame k (0 = innermost) is chain[n - 1 - k]; its line is where chain[n - k] was
	 * called, or the line table's for the innermost. */
	size_t n = c.n < max ? c.n : max;
	for (size_t k = 0; k < n; k++) {
		size_t ci = k == n - 1 ? 0 : c.n - 1 - k; /* the outermost always kept */
		struct symb_srcline *o = &out[k];
		o->function = die_name(&c.die[ci]);
		if (k == 0) {
			o->file = inner.file;
			o->line = inner.line;
		} else {
			call_site(&c.die[ci + 1], files, n_files, &o->file, &o->line);
		}
	}
	return n;
}
