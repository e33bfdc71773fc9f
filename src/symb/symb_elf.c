/*
 * symb_elf.c — what symbolization needs from one ELF file, read with libelf and then closed:
 * the GNU build id, the PT_LOAD segments (file offset -> virtual address), and the function
 * symbols sorted by address with their names in one blob. Symbols come from .symtab, else from
 * a separate debug file (root/usr/lib/debug/.build-id/xx/yyyy.debug, then .gnu_debuglink next
 * to the file or under /usr/lib/debug), else debuginfod when DEBUGINFOD_URLS is set, else
 * MiniDebugInfo (.gnu_debugdata: an xz-compressed ELF with a .symtab, symb_minidebug.c), plus
 * .dynsym. The first of the file and its debug files with DWARF gets a DWARF reader
 * (symb_dwarf.c) for source lines and inline frames.
 * The file is hostile: counts and name lengths are bounded, libelf reports bad offsets.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <elfutils/debuginfod.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "symb/symb.h"
#include "symb/symb_dwarf.h"

#define ELF_MAX_SYMBOLS	   (4u << 20)
#define ELF_MAX_NAME	   1024
#define ELF_MAX_NAME_BYTES ((size_t)512 << 20)
#define ELF_MAX_LOADS	   64

struct elf_sym {
	uint64_t addr;
	uint64_t size;
	uint32_t name;
	uint8_t bind;
	uint8_t pad[3];
};

struct elf_load {
	uint64_t offset, filesz, vaddr;
};

struct symb_elf {
	int type;
	uint8_t build_id[SYMB_BUILD_ID_MAX];
	size_t build_id_len;
	struct elf_load loads[ELF_MAX_LOADS];
	size_t n_loads;
	struct elf_sym *syms;
	size_t n_syms, cap_syms;
	struct buf names;
	bool has_symtab;
	enum symb_sym_source src;
	struct symb_dwarf *dwarf; /* NULL without DWARF */
};

static int open_elf(const char *path, int *fd, Elf **elf)
{
	elf_version(EV_CURRENT);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return -errno;
	*elf = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!*elf || elf_kind(*elf) != ELF_K_ELF) {
		if (*elf)
			elf_end(*elf);
		close(*fd);
		return -EMBER_EFORMAT;
	}
	return 0;
}

static void read_loads(Elf *elf, struct symb_elf *e)
{
	size_t n = 0;
	if (elf_getphdrnum(elf, &n) != 0)
		return;
	for (size_t i = 0; i < n && e->n_loads < ELF_MAX_LOADS; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		e->loads[e->n_loads++] = (struct elf_load){
			.offset = ph.p_offset, .filesz = ph.p_filesz, .vaddr = ph.p_vaddr};
	}
}

/* Loads function symbols of the first section of type `type`; returns how many. */
static size_t load_symbols(Elf *elf, struct symb_elf *e, uint32_t type)
{
	Elf_Scn *scn = NULL;
	size_t added = 0;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || sh.sh_entsize == 0)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		size_t n = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; i < n; i++) {
			GElf_Sym s;
			if (!gelf_getsym(d, (int)i, &s))
				break;
			int t = GELF_ST_TYPE(s.st_info);
			if ((t != STT_FUNC && t != STT_GNU_IFUNC) || s.st_value == 0 ||
			    s.st_shndx == SHN_UNDEF)
				continue;
			const char *name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name || !*name)
				continue;
			if (e->n_syms >= ELF_MAX_SYMBOLS)
				return added;
			size_t nl = strnlen(name, ELF_MAX_NAME);
			/* "name@@VERSION" / "name@VERSION": the version is not part of the name. */
			const char *at = memchr(name, '@', nl);
			if (at && at > name)
				nl = (size_t)(at - name);
			if (e->names.len > UINT32_MAX - ELF_MAX_NAME - 1)
				return added;
			struct elf_sym es = {.addr = s.st_value,
					     .size = s.st_size,
					     .name = (uint32_t)e->names.len,
					     .bind = (uint8_t)GELF_ST_BIND(s.st_info)};
			if (buf_append(&e->names, name, nl) != 0 || buf_putc(&e->names, 0) != 0)
				return added;
			mem_grow(MEM_SYMB, (void **)&e->syms, &e->cap_syms, e->n_syms + 1,
				 sizeof(*e->syms));
			e->syms[e->n_syms++] = es;
			added++;
		}
		break;
	}
	return added;
}

static int bind_rank(uint8_t b)
{
	return b == STB_GLOBAL ? 0 : b == STB_WEAK ? 1 : 2;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct elf_sym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	int rx = bind_rank(x->bind), ry = bind_rank(y->bind);
	if (rx != ry)
		return rx - ry;
	return x->size > y->size ? -1 : x->size < y->size;
}

/* Sorts, and keeps one symbol per address (global before weak before local). */
static void finish_symbols(struct symb_elf *e)
{
	if (e->n_syms == 0)
		return;
	qsort(e->syms, e->n_syms, sizeof(*e->syms), cmp_sym);
	size_t w = 1;
	for (size_t r = 1; r < e->n_syms; r++)
		if (e->syms[r].addr != e->syms[w - 1].addr)
			e->syms[w++] = e->syms[r];
	e->n_syms = w;
}

/* The DWARF reader of path, when e has none yet and path has DWARF. */
static void try_dwarf(Elf *elf, const char *path, struct symb_elf *e)
{
	size_t bytes;
	if (e->dwarf || !symb_dwarf_probe(elf, &bytes))
		return;
	if (symb_dwarf_open(path, e->build_id, e->build_id_len, &e->dwarf) != 0)
		e->dwarf = NULL;
}

/* A separate debug file: its .symtab when want_syms, its DWARF when e has none yet. True when
 * symbols came from it. */
static bool use_debug_file(const char *path, struct symb_elf *e, bool want_syms)
{
	int fd;
	Elf *elf;
	if (open_elf(path, &fd, &elf) != 0)
		return false;
	size_t n = want_syms ? load_symbols(elf, e, SHT_SYMTAB) : 0;
	try_dwarf(elf, path, e);
	elf_end(elf);
	close(fd);
	return n > 0;
}

static const char *debuglink(Elf *elf, char *out, size_t n)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".gnu_debuglink") != 0)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || d->d_size < 2)
			return NULL;
		size_t len = strnlen(d->d_buf, d->d_size);
		if (len == 0 || len >= d->d_size || len >= n || memchr(d->d_buf, '/', len))
			return NULL;
		memcpy(out, d->d_buf, len);
		out[len] = 0;
		return out;
	}
	return NULL;
}

/* Separate debug files, by build id then by debuglink, for symbols (want_syms) and DWARF;
 * stops when both are found. True when symbols came from one. */
static bool load_debug_file(Elf *elf, const char *path, const char *root, struct symb_elf *e,
			    bool want_syms)
{
	char p[4096];
	const char *r = root ? root : "";
	bool got = false;
#define DONE() ((got || !want_syms) && e->dwarf)
	if (e->build_id_len >= 2) {
		char hex[2 * SYMB_BUILD_ID_MAX + 1];
		for (size_t i = 0; i < e->build_id_len; i++)
			snprintf(hex + 2 * i, 3, "%02x", e->build_id[i]);
		int w = snprintf(p, sizeof(p), "%s/usr/lib/debug/.build-id/%.2s/%s.debug", r, hex,
				 hex + 2);
		if (w > 0 && (size_t)w < sizeof(p))
			got |= use_debug_file(p, e, want_syms && !got);
		if (DONE())
			return got;
	}
	char link[256];
	if (!debuglink(elf, link, sizeof(link)))
		return got;
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path) : 0;
	int w = snprintf(p, sizeof(p), "%s%.*s/.debug/%s", r, dir_len, path, link);
	if (w > 0 && (size_t)w < sizeof(p))
		got |= use_debug_file(p, e, want_syms && !got);
	if (DONE())
		return got;
	w = snprintf(p, sizeof(p), "%s/usr/lib/debug%.*s/%s", r, dir_len, path, link);
	if (w > 0 && (size_t)w < sizeof(p))
		got |= use_debug_file(p, e, want_syms && !got);
#undef DONE
	return got;
}

/* debuginfod, only when DEBUGINFOD_URLS names a server (it may block on the network for up to
 * DEBUGINFOD_TIMEOUT; the client caches what it fetched). */
static bool load_debuginfod(struct symb_elf *e)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	if (!urls || !*urls || e->build_id_len == 0)
		return false;
	debuginfod_client *c = debuginfod_begin();
	if (!c)
		return false;
	bool ok = false;
	int fd = debuginfod_find_debuginfo(c, e->build_id, (int)e->build_id_len, NULL);
	if (fd >= 0) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		ok = use_debug_file(p, e, true);
		close(fd);
	}
	debuginfod_end(c);
	return ok;
}

/* MiniDebugInfo: the .symtab of the xz-compressed ELF in .gnu_debugdata. */
static bool load_minidebug(Elf *elf, struct symb_elf *e)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".gnu_debugdata") != 0)
			continue;
		Elf_Data *d = elf_rawdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size == 0)
			return false;
		void *img;
		size_t len;
		if (symb_xz_decode(d->d_buf, d->d_size, &img, &len) != 0)
			return false;
		size_t n = 0;
		Elf *inner = elf_memory(img, len);
		if (inner && elf_kind(inner) == ELF_K_ELF)
			n = load_symbols(inner, e, SHT_SYMTAB);
		if (inner)
			elf_end(inner);
		mem_free(img);
		return n > 0;
	}
	return false;
}

/* Everything but the file's own DWARF from an open ELF. path NULL: an image in memory (no
 * debug files). */
static int load_elf(Elf *elf, const char *path, const char *root, struct symb_elf *e)
{
	GElf_Ehdr eh;
	if (!gelf_getehdr(elf, &eh))
		return -EMBER_EFORMAT;
	e->type = eh.e_type;
	symb_read_build_id(elf, e->build_id, &e->build_id_len);
	read_loads(elf, e);
	e->src = SYMB_SRC_DYNSYM;
	if (load_symbols(elf, e, SHT_SYMTAB) > 0)
		e->src = SYMB_SRC_SYMTAB;
	if (path && (e->src == SYMB_SRC_DYNSYM || !e->dwarf) &&
	    load_debug_file(elf, path, root, e, e->src == SYMB_SRC_DYNSYM))
		e->src = SYMB_SRC_DEBUGFILE;
	if (path && e->src == SYMB_SRC_DYNSYM && load_debuginfod(e))
		e->src = SYMB_SRC_DEBUGFILE;
	if (e->src == SYMB_SRC_DYNSYM && load_minidebug(elf, e))
		e->src = SYMB_SRC_MINIDEBUG;
	e->has_symtab = e->src != SYMB_SRC_DYNSYM;
	/* .dynsym too: stripped files keep exported functions only there, and a .symtab may
	 * lack them when it came from a partial debug file. Duplicates are dropped. */
	load_symbols(elf, e, SHT_DYNSYM);
	finish_symbols(e);
	return 0;
}

static struct symb_elf *new_elf(void)
{
	struct symb_elf *e = mem_calloc(MEM_SYMB, 1, sizeof(*e));
	buf_init(&e->names, MEM_SYMB, ELF_MAX_NAME_BYTES);
	return e;
}

int symb_elf_open(const char *path, const char *root, struct symb_elf **out)
{
	char full[4096];
	int w = snprintf(full, sizeof(full), "%s%s", root ? root : "", path);
	if (w < 0 || (size_t)w >= sizeof(full))
		return -ENAMETOOLONG;
	int fd;
	Elf *elf;
	int rc = open_elf(full, &fd, &elf);
	if (rc != 0)
		return rc;
	struct symb_elf *e = new_elf();
	/* The build id first: a DWARF reader checks it. */
	symb_read_build_id(elf, e->build_id, &e->build_id_len);
	try_dwarf(elf, full, e);
	rc = load_elf(elf, path, root, e);
	elf_end(elf);
	close(fd);
	if (rc != 0) {
		symb_elf_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

int symb_elf_open_mem(const void *data, size_t n, struct symb_elf **out)
{
	elf_version(EV_CURRENT);
	char *img = mem_alloc(MEM_SYMB, n ? n : 1);
	if (n)
		memcpy(img, data, n);
	Elf *elf = elf_memory(img, n);
	int rc = -EMBER_EFORMAT;
	struct symb_elf *e = NULL;
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		e = new_elf();
		rc = load_elf(elf, NULL, NULL, e);
	}
	if (elf)
		elf_end(elf);
	mem_free(img);
	if (rc != 0) {
		symb_elf_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

void symb_elf_free(struct symb_elf *e)
{
	if (!e)
		return;
	mem_free(e->syms);
	buf_fini(&e->names);
	symb_dwarf_free(e->dwarf);
	mem_free(e);
}

int symb_elf_type(const struct symb_elf *e)
{
	return e->type;
}

const uint8_t *symb_elf_build_id(const struct symb_elf *e, size_t *len)
{
	*len = e->build_id_len;
	return e->build_id;
}

void symb_elf_build_id_hex(const struct symb_elf *e, char *out, size_t n)
{
	if (n == 0)
		return;
	out[0] = 0;
	for (size_t i = 0; i < e->build_id_len && 2 * i + 2 < n; i++)
		snprintf(out + 2 * i, 3, "%02x", e->build_id[i]);
}

int symb_elf_offset_to_vaddr(const struct symb_elf *e, uint64_t file_offset, uint64_t *vaddr)
{
	for (size_t i = 0; i < e->n_loads; i++) {
		const struct elf_load *l = &e->loads[i];
		if (file_offset >= l->offset && file_offset - l->offset < l->filesz) {
			*vaddr = file_offset - l->offset + l->vaddr;
			return 0;
		}
	}
	/* Not inside a segment's file part: use the first executable-looking rule. */
	if (e->n_loads > 0 && e->type == ET_EXEC) {
		*vaddr = file_offset - e->loads[0].offset + e->loads[0].vaddr;
		return 0;
	}
	return -EMBER_ENOTFOUND;
}

const char *symb_elf_lookup(const struct symb_elf *e, uint64_t vaddr, uint64_t *off)
{
	size_t lo = 0, hi = e->n_syms;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->syms[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct elf_sym *s = &e->syms[lo - 1];
	uint64_t d = vaddr - s->addr;
	/* Sized symbols cover [addr, addr+size); a zero-size one (hand-written assembly) runs
	 * to the next symbol, within a bound. */
	if (s->size ? d >= s->size : d >= 65536)
		return NULL;
	if (off)
		*off = d;
	return (const char *)e->names.data + s->name;
}

size_t symb_elf_n_symbols(const struct symb_elf *e)
{
	return e->n_syms;
}

bool symb_elf_has_symtab(const struct symb_elf *e)
{
	return e->has_symtab;
}

size_t symb_elf_bytes(const struct symb_elf *e)
{
	return sizeof(*e) + e->cap_syms * sizeof(*e->syms) + e->names.cap +
	       (e->dwarf ? symb_dwarf_bytes(e->dwarf) : 0);
}

enum symb_sym_source symb_elf_sym_source(const struct symb_elf *e)
{
	return e->src;
}

bool symb_elf_has_dwarf(const struct symb_elf *e)
{
	return e->dwarf != NULL;
}

size_t symb_elf_dwarf_bytes(const struct symb_elf *e)
{
	return e->dwarf ? symb_dwarf_total_bytes(e->dwarf) : 0;
}

size_t symb_elf_srclines(struct symb_elf *e, uint64_t vaddr, struct symb_srcline *out, size_t max)
{
	return e->dwarf ? symb_dwarf_lookup(e->dwarf, vaddr, out, max) : 0;
}

void symb_elf_dwarf_reset(struct symb_elf *e)
{
	if (e->dwarf)
		symb_dwarf_reset(e->dwarf);
}
