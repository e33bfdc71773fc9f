/*
 * unwind.c — the user-space stack walker over a copied stack window (see unwind.h). Evaluates
 * compact rows: CFA from rsp/rbp plus an offset (or the PLT rule), the return address at
 * CFA - 8, the caller's rbp at CFA + offset when saved; falls back to the frame-pointer chain
 * where no row exists. Reads only inside the copy, and requires the stack pointer to move up
 * at every step, so a corrupt stack ends the walk instead of looping.
 */
#include <string.h>

#include "agent/unwind.h"

static const char *const stop_names[UNWIND_STOP_N] = {
	[UNWIND_STOP_OUTERMOST] = "complete",	 [UNWIND_STOP_ZERO_RA] = "zero_return_address",
	[UNWIND_STOP_NO_MAPPING] = "no_mapping", [UNWIND_STOP_STACK_COPY] = "stack_copy_too_short",
	[UNWIND_STOP_NO_CFI] = "no_cfi",	 [UNWIND_STOP_UNSUPPORTED] = "unsupported_cfi",
	[UNWIND_STOP_BAD_FRAME] = "bad_frame",	 [UNWIND_STOP_MAX_FRAMES] = "max_frames",
};

const char *unwind_stop_name(enum unwind_stop s)
{
	return (unsigned)s < UNWIND_STOP_N ? stop_names[s] : "unknown";
}

struct window {
	const uint8_t *data;
	size_t len;
	uint64_t base; /* user address of data[0] */
};

/* 0 on success, -1 when [addr, addr+8) is not inside the copy. */
static int read_u64(const struct window *w, uint64_t addr, uint64_t *out)
{
	if (addr < w->base)
		return -1;
	uint64_t off = addr - w->base;
	if (off > w->len || w->len - off < 8)
		return -1;
	memcpy(out, w->data + off, 8);
	return 0;
}

void unwind_walk(const struct unwind_regs *regs, const uint8_t *stack, size_t stack_len,
		 unwind_lookup_fn lookup, void *ctx, uint64_t *pcs, size_t max_pcs,
		 struct unwind_result *res)
{
	struct window w = {.data = stack, .len = stack_len, .base = regs->sp};
	uint64_t ip = regs->ip, sp = regs->sp, bp = regs->bp;
	bool exact_pc = true; /* the interrupted pc, or a signal frame's: not a return address */
	memset(res, 0, sizeof(*res));
	if (max_pcs == 0) {
		res->stop = UNWIND_STOP_MAX_FRAMES;
		return;
	}
	pcs[res->n++] = ip;
	for (;;) {
		const struct unwind_table *table = NULL;
		uint64_t bias = 0;
		uint64_t at = exact_pc ? ip : ip - 1;
		if (!lookup(ctx, at, &table, &bias)) {
			res->stop = UNWIND_STOP_NO_MAPPING;
			return;
		}
		const struct ember_unwind_row *row =
			table ? unwind_table_find(table, at - bias) : NULL;
		uint64_t cfa, ra, new_bp = bp;
		bool signal = false;
		if (row && row->cfa_type == EMBER_CFA_OUTERMOST) {
			res->stop = UNWIND_STOP_OUTERMOST;
			return;
		}
		if (row && (row->cfa_type == EMBER_CFA_RSP || row->cfa_type == EMBER_CFA_RBP ||
			    row->cfa_type == EMBER_CFA_PLT)) {
			if (row->cfa_type == EMBER_CFA_RSP)
				cfa = sp + (uint64_t)(int64_t)row->cfa_offset;
			else if (row->cfa_type == EMBER_CFA_RBP)
				cfa = bp + (uint64_t)(int64_t)row->cfa_offset;
			else
				cfa = sp + 8 + ((ip & 15) >= 11 ? 8 : 0);
			if (read_u64(&w, cfa - 8, &ra) != 0) {
				res->stop = UNWIND_STOP_STACK_COPY;
				return;
			}
			if (row->rbp_type == EMBER_RBP_OFFSET &&
			    read_u64(&w, cfa + (uint64_t)(int64_t)row->rbp_offset, &new_bp) != 0) {
				res->stop = UNWIND_STOP_STACK_COPY;
				return;
			}
			signal = row->flags & EMBER_ROW_SIGNAL;
		} else if (row && row->cfa_type == EMBER_CFA_SIGNAL) {
			/* The interrupted registers, saved by the kernel in the ucontext. */
			if (read_u64(&w, sp + EMBER_UCONTEXT_RIP, &ra) != 0 ||
			    read_u64(&w, sp + EMBER_UCONTEXT_RSP, &cfa) != 0 ||
			    read_u64(&w, sp + EMBER_UCONTEXT_RBP, &new_bp) != 0) {
				res->stop = UNWIND_STOP_STACK_COPY;
				return;
			}
			signal = true;
		} else if (row && row->cfa_type == EMBER_CFA_UNSUPPORTED) {
			res->stop = UNWIND_STOP_UNSUPPORTED;
			return;
		} else {
			/* No CFI here: the frame-pointer chain, if rbp points into the copy. */
			if (bp < sp || read_u64(&w, bp + 8, &ra) != 0 ||
			    read_u64(&w, bp, &new_bp) != 0) {
				res->stop = bp < sp || bp - sp > stack_len ? UNWIND_STOP_NO_CFI
									   : UNWIND_STOP_STACK_COPY;
				return;
			}
			cfa = bp + 16;
			res->n_fp_frames++;
		}
		if (cfa <= sp) {
			res->stop = UNWIND_STOP_BAD_FRAME;
			return;
		}
		if (ra == 0) {
			res->stop = UNWIND_STOP_ZERO_RA;
			return;
		}
		if (res->n >= max_pcs) {
			res->stop = UNWIND_STOP_MAX_FRAMES;
			return;
		}
		ip = ra;
		sp = cfa;
		bp = new_bp;
		exact_pc = signal;
		pcs[res->n++] = ip;
	}
}
