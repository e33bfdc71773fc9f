/*
 * unwind_table.c — builds compact unwind tables (ember_unwind_row) from an ELF file's
 * .eh_frame. The FDE start addresses come from .eh_frame_hdr's sorted search table; elfutils
 * (dwarf_getcfi_elf, dwarf_cfi_addrframe, dwarf_frame_info) evaluates each FDE's CFA program
 * row by row, and each row's CFA, rbp and return-address rules are reduced to the few forms
 * the walker and a later BPF unwinder can evaluate. Owns the row array; never keeps the file
 * open. The file is hostile: the header table is bounds-checked, rows are capped.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/unwind.h"
#include "base/err.h"
#include "base/mem.h"

#define X86_REG_RBP 6
#define X86_REG_RSP 7
#define X86_REG_RA  16

struct unwind_table {
	struct ember_unwind_row *rows;
	size_t n, cap;
	bool borrowed; /* a view of rows owned elsewhere (unwind_table_view) */
};

/* libdw returns each Dwarf_Frame malloc'ed and documents that the caller releases it with
 * free(); it is not ours to route through mem_free. */
static void release_frame(Dwarf_Frame *f)
{
	(free)(f);
}

/* Decodes a DW_EH_PE pointer at d[*pos] (field address base_addr + *pos). */
static bool read_encoded(const uint8_t *d, size_t len, size_t *pos, uint8_t enc, uint64_t base_addr,
			 uint64_t *out)
{
	if (enc == DW_EH_PE_omit)
		return false;
	uint64_t field = base_addr + *pos, v;
	size_t sz;
	switch (enc & 0x0f) {
	case DW_EH_PE_udata4:
	case DW_EH_PE_sdata4:
		sz = 4;
		break;
	case DW_EH_PE_udata8:
	case DW_EH_PE_sdata8:
	case DW_EH_PE_absptr:
		sz = 8;
		break;
	default:
		return false;
	}
	if (*pos > len || len - *pos < sz)
		return false;
	if (sz == 4) {
		uint32_t u;
		memcpy(&u, d + *pos, 4);
		v = (enc & 0x0f) == DW_EH_PE_sdata4 ? (uint64_t)(int64_t)(int32_t)u : u;
	} else {
		memcpy(&v, d + *pos, 8);
	}
	*pos += sz;
	switch (enc & 0x70) {
	case DW_EH_PE_absptr:
		break;
	case DW_EH_PE_pcrel:
		v += field;
		break;
	case DW_EH_PE_datarel:
		v += base_addr;
		break;
	default:
		return false;
	}
	*out = v;
	return true;
}

static Elf_Scn *find_section(Elf *elf, const char *want, GElf_Shdr *sh)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (!gelf_getshdr(scn, sh))
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh->sh_name);
		if (name && strcmp(name, want) == 0)
			return scn;
	}
	return NULL;
}

/* The FDE start addresses from .eh_frame_hdr, sorted. */
static int fde_starts(Elf *elf, uint64_t **out, size_t *n_out)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_section(elf, ".eh_frame_hdr", &sh);
	if (!scn || sh.sh_type == SHT_NOBITS)
		return -EMBER_ENOTFOUND;
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!d || d->d_size < 4)
		return -EMBER_EFORMAT;
	const uint8_t *p = d->d_buf;
	size_t len = d->d_size, pos = 4;
	if (p[0] != 1)
		return -EMBER_EVERSION;
	uint64_t eh_ptr, count;
	if (!read_encoded(p, len, &pos, p[1], sh.sh_addr, &eh_ptr) ||
	    !read_encoded(p, len, &pos, p[2], sh.sh_addr, &count))
		return -EMBER_EFORMAT;
	uint8_t tenc = p[3];
	size_t entry =
		(tenc & 0x0f) == DW_EH_PE_udata4 || (tenc & 0x0f) == DW_EH_PE_sdata4 ? 8 : 16;
	if (count == 0 || count > (len - pos) / entry)
		return -EMBER_EFORMAT;
	uint64_t *starts = mem_alloc(MEM_AGENT, count * sizeof(*starts));
	for (size_t i = 0; i < count; i++) {
		uint64_t fde;
		if (!read_encoded(p, len, &pos, tenc, sh.sh_addr, &starts[i]) ||
		    !read_encoded(p, len, &pos, tenc, sh.sh_addr, &fde)) {
			mem_free(starts);
			return -EMBER_EFORMAT;
		}
	}
	*out = starts;
	*n_out = count;
	return 0;
}

static void push_row(struct unwind_table *t, const struct ember_unwind_row *r)
{
	if (t->n > 0) {
		struct ember_unwind_row *last = &t->rows[t->n - 1];
		if (last->pc == r->pc) {
			*last = *r; /* an empty row range: the later row wins */
			return;
		}
		/* Identical consecutive rules: one row suffices. */
		if (last->cfa_type == r->cfa_type && last->cfa_offset == r->cfa_offset &&
		    last->rbp_type == r->rbp_type && last->rbp_offset == r->rbp_offset &&
		    last->flags == r->flags)
			return;
	}
	mem_grow(MEM_AGENT, (void **)&t->rows, &t->cap, t->n + 1, sizeof(*t->rows));
	t->rows[t->n++] = *r;
}

static bool fits_s16(int64_t v)
{
	return v >= INT16_MIN && v <= INT16_MAX;
}

/* Reduces one CFI row to the compact form. */
static void convert_frame(Dwarf_Frame *f, bool signal, struct ember_unwind_row *r)
{
	Dwarf_Op *ops, mem[3];
	size_t nops;
	r->cfa_type = EMBER_CFA_UNSUPPORTED;
	r->rbp_type = EMBER_RBP_SAME;
	r->flags = signal ? EMBER_ROW_SIGNAL : 0;

	if (dwarf_frame_register(f, X86_REG_RA, mem, &ops, &nops) == 0 && nops == 0 && ops == mem) {
		r->cfa_type = EMBER_CFA_OUTERMOST;
		return;
	}
	if (dwarf_frame_cfa(f, &ops, &nops) != 0 || nops == 0)
		return;
	if (signal && nops == 2 && ops[0].atom == DW_OP_breg7 &&
	    ops[0].number == EMBER_UCONTEXT_RSP && ops[1].atom == DW_OP_deref) {
		/* glibc's __restore_rt: CFA = the rsp saved in the ucontext at rsp. */
		r->cfa_type = EMBER_CFA_SIGNAL;
		return;
	}
	if (nops == 1 && ops[0].atom == DW_OP_bregx && fits_s16((int64_t)ops[0].number2)) {
		if (ops[0].number == X86_REG_RSP)
			r->cfa_type = EMBER_CFA_RSP;
		else if (ops[0].number == X86_REG_RBP)
			r->cfa_type = EMBER_CFA_RBP;
		else
			return;
		r->cfa_offset = (int16_t)(int64_t)ops[0].number2;
	} else if (nops >= 2 && ops[0].atom == DW_OP_breg7 && ops[0].number == 8 &&
		   ops[1].atom == DW_OP_breg16) {
		r->cfa_type = EMBER_CFA_PLT; /* the lazy-binding PLT expression */
		r->cfa_offset = 8;
	} else {
		return;
	}
	if (dwarf_frame_register(f, X86_REG_RBP, mem, &ops, &nops) != 0) {
		r->rbp_type = EMBER_RBP_UNSUPPORTED;
	} else if (nops == 0) {
		r->rbp_type = EMBER_RBP_SAME; /* same value, or undefined (unused here) */
	} else if (nops == 2 && ops[0].atom == DW_OP_call_frame_cfa &&
		   ops[1].atom == DW_OP_plus_uconst && fits_s16((int64_t)ops[1].number)) {
		r->rbp_type = EMBER_RBP_OFFSET;
		r->rbp_offset = (int16_t)(int64_t)ops[1].number;
	} else {
		r->rbp_type = EMBER_RBP_UNSUPPORTED;
	}
}

/* Rows of the FDE starting at start, up to (not past) limit. */
static void walk_fde(Dwarf_CFI *cfi, uint64_t start, uint64_t limit, struct unwind_table *t)
{
	uint64_t pc = start;
	for (int guard = 0; guard < 100000 && pc < limit && t->n < UNWIND_TABLE_MAX_ROWS; guard++) {
		Dwarf_Frame *f;
		if (dwarf_cfi_addrframe(cfi, pc, &f) != 0)
			break;
		Dwarf_Addr lo, hi;
		bool signal = false;
		if (dwarf_frame_info(f, &lo, &hi, &signal) < 0 || hi <= pc) {
			release_frame(f);
			break;
		}
		struct ember_unwind_row r = {.pc = pc};
		convert_frame(f, signal, &r);
		release_frame(f);
		push_row(t, &r);
		pc = hi;
	}
	/* The end of the FDE: no CFI until the next one begins. */
	if (pc < limit && t->n < UNWIND_TABLE_MAX_ROWS) {
		struct ember_unwind_row gap = {.pc = pc, .cfa_type = EMBER_CFA_UNDEFINED};
		push_row(t, &gap);
	}
}

/* The ELF entry point (_start) is the outermost frame of the main thread: when no FDE covers it
 * (ld.so's _start has none), an OUTERMOST row there ends walks as complete. */
static void mark_entry_point(Elf *elf, struct unwind_table *t)
{
	GElf_Ehdr eh;
	if (!gelf_getehdr(elf, &eh) || eh.e_entry == 0 || t->n >= UNWIND_TABLE_MAX_ROWS)
		return;
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->rows[mid].pc <= eh.e_entry)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* lo = index of the first row past the entry point. */
	if (lo > 0 && t->rows[lo - 1].cfa_type != EMBER_CFA_UNDEFINED)
		return; /* covered by CFI: trust it */
	struct ember_unwind_row r = {.pc = eh.e_entry, .cfa_type = EMBER_CFA_OUTERMOST};
	if (lo > 0 && t->rows[lo - 1].pc == eh.e_entry) {
		t->rows[lo - 1] = r;
		return;
	}
	mem_grow(MEM_AGENT, (void **)&t->rows, &t->cap, t->n + 1, sizeof(*t->rows));
	memmove(&t->rows[lo + 1], &t->rows[lo], (t->n - lo) * sizeof(*t->rows));
	t->rows[lo] = r;
	t->n++;
}

int unwind_table_build(const char *path, struct unwind_table **out)
{
	elf_version(EV_CURRENT);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return -EMBER_EFORMAT;
	}
	uint64_t *starts = NULL;
	size_t n_starts = 0;
	int rc = fde_starts(elf, &starts, &n_starts);
	Dwarf_CFI *cfi = rc == 0 ? dwarf_getcfi_elf(elf) : NULL;
	if (rc == 0 && !cfi)
		rc = -EMBER_ENOTFOUND;
	if (rc != 0) {
		mem_free(starts);
		elf_end(elf);
		close(fd);
		return rc;
	}
	struct unwind_table *t = mem_calloc(MEM_AGENT, 1, sizeof(*t));
	for (size_t i = 0; i < n_starts && t->n < UNWIND_TABLE_MAX_ROWS; i++) {
		uint64_t limit = i + 1 < n_starts ? starts[i + 1] : UINT64_MAX;
		if (limit <= starts[i])
			continue; /* unsorted or duplicate entries: skip */
		walk_fde(cfi, starts[i], limit, t);
	}
	mark_entry_point(elf, t);
	dwarf_cfi_end(cfi);
	mem_free(starts);
	elf_end(elf);
	close(fd);
	if (t->n == 0) {
		unwind_table_free(t);
		return -EMBER_ENOTFOUND;
	}
	*out = t;
	return 0;
}

struct unwind_table *unwind_table_view(const struct ember_unwind_row *rows, size_t n)
{
	struct unwind_table *t = mem_calloc(MEM_AGENT, 1, sizeof(*t));
	t->rows = (struct ember_unwind_row *)(uintptr_t)rows; /* never written through */
	t->n = n;
	t->borrowed = true;
	return t;
}

void unwind_table_free(struct unwind_table *t)
{
	if (!t)
		return;
	if (!t->borrowed)
		mem_free(t->rows);
	mem_free(t);
}

size_t unwind_table_n_rows(const struct unwind_table *t)
{
	return t->n;
}

const struct ember_unwind_row *unwind_table_rows(const struct unwind_table *t)
{
	return t->rows;
}

const struct ember_unwind_row *unwind_table_find(const struct unwind_table *t, uint64_t vaddr)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->rows[mid].pc <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? NULL : &t->rows[lo - 1];
}

size_t unwind_table_bytes(const struct unwind_table *t)
{
	return sizeof(*t) + (t->borrowed ? 0 : t->cap * sizeof(*t->rows));
}
