/*
 * unwind.h — compact unwind tables and the user-space stack walker (x86-64).
 *
 * A table (struct unwind_table) is built once per ELF file from its .eh_frame (located through
 * .eh_frame_hdr) with elfutils' CFI API: for every FDE, every row of its CFA program becomes an
 * ember_unwind_row (bpf/ember_bpf_abi.h) keyed by ELF virtual address, so the same rows can be
 * loaded into BPF maps for in-kernel unwinding later. Gaps between FDEs get an UNDEFINED row.
 *
 * The walker (unwind_walk) runs the rows over a copy of the top of a thread's user stack: for
 * each frame it asks a caller-supplied lookup for the table and load bias of the PC, computes
 * the CFA, reads the return address and the saved rbp from the copy, and repeats. Where no
 * table covers a PC it follows the frame-pointer chain instead. It never reads memory outside
 * the copy it is given; every bound below is enforced.
 */
#ifndef EMBER_AGENT_UNWIND_H
#define EMBER_AGENT_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpf/ember_bpf_abi.h"

/* Rows per table: tables larger than this are cut (a 100 MB libxul has ~2 M rows). */
#define UNWIND_TABLE_MAX_ROWS (8u << 20)
/* Frames per stack. */
#define UNWIND_MAX_FRAMES 256

struct unwind_table;

/* Builds the table of the ELF file at path. -EMBER_ENOTFOUND when it has no usable
 * .eh_frame_hdr/.eh_frame (the walker then uses frame pointers there). */
int unwind_table_build(const char *path, struct unwind_table **out);
/* A table over n sorted rows owned by the caller (the in-kernel unwinder's row array, mapped
 * read-only), valid while they are; freeing it leaves the rows alone. */
struct unwind_table *unwind_table_view(const struct ember_unwind_row *rows, size_t n);
void unwind_table_free(struct unwind_table *t);
size_t unwind_table_n_rows(const struct unwind_table *t);
const struct ember_unwind_row *unwind_table_rows(const struct unwind_table *t);
/* The row covering vaddr, or NULL (below the first row). */
const struct ember_unwind_row *unwind_table_find(const struct unwind_table *t, uint64_t vaddr);
size_t unwind_table_bytes(const struct unwind_table *t);

/* Why a walk ended. */
enum unwind_stop {
	UNWIND_STOP_OUTERMOST,	 /* reached a frame whose return address is undefined: complete */
	UNWIND_STOP_ZERO_RA,	 /* return address 0 (the end of a frame-pointer chain) */
	UNWIND_STOP_NO_MAPPING,	 /* a PC outside any known executable mapping */
	UNWIND_STOP_STACK_COPY,	 /* needed stack bytes beyond the copy */
	UNWIND_STOP_NO_CFI,	 /* no table row and no usable frame pointer */
	UNWIND_STOP_UNSUPPORTED, /* a CFI rule we cannot evaluate */
	UNWIND_STOP_BAD_FRAME,	 /* the CFA did not move up the stack (a loop or garbage) */
	UNWIND_STOP_MAX_FRAMES,
	UNWIND_STOP_N
};
/* The BPF walker reports the same reasons (EMBER_USTOP_*). */
_Static_assert(UNWIND_STOP_OUTERMOST == EMBER_USTOP_OUTERMOST &&
		       UNWIND_STOP_ZERO_RA == EMBER_USTOP_ZERO_RA &&
		       UNWIND_STOP_NO_MAPPING == EMBER_USTOP_NO_MAPPING &&
		       UNWIND_STOP_STACK_COPY == EMBER_USTOP_READ &&
		       UNWIND_STOP_NO_CFI == EMBER_USTOP_NO_CFI &&
		       UNWIND_STOP_UNSUPPORTED == EMBER_USTOP_UNSUPPORTED &&
		       UNWIND_STOP_BAD_FRAME == EMBER_USTOP_BAD_FRAME &&
		       UNWIND_STOP_MAX_FRAMES == EMBER_USTOP_MAX_FRAMES,
	       "unwind_stop matches EMBER_USTOP_*");

const char *unwind_stop_name(enum unwind_stop s);

/* The lookup the walker calls per frame: the table (NULL = none: use frame pointers) and
 * the bias (runtime address - ELF vaddr) for pc. Returns false when pc is in no executable
 * mapping of the process. */
typedef bool (*unwind_lookup_fn)(void *ctx, uint64_t pc, const struct unwind_table **table,
				 uint64_t *bias);

struct unwind_regs {
	uint64_t ip, sp, bp;
};

struct unwind_result {
	size_t n;	       /* frames in pcs[] */
	enum unwind_stop stop; /* why it ended */
	size_t n_fp_frames;    /* frames recovered with frame pointers */
};

/* Walks from regs over stack[0..stack_len) (the bytes at user address regs->sp). pcs[0] is
 * regs->ip; later entries are return addresses (callers subtract 1 to name the call). */
void unwind_walk(const struct unwind_regs *regs, const uint8_t *stack, size_t stack_len,
		 unwind_lookup_fn lookup, void *ctx, uint64_t *pcs, size_t max_pcs,
		 struct unwind_result *res);

#endif
