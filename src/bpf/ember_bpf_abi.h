/*
 * ember_bpf_abi.h — the one header shared by the BPF programs (src/bpf/NAME.bpf.c) and user space
 * (src/agent/). It defines the records the sampler sends through its ring buffer, the stats
 * counters, and the compact unwind row format. Only fixed-width __u/__s types, explicit padding
 * and EMBER_-prefixed names; sizes are checked with _Static_assert on the user side. Any change
 * to a layout bumps EMBER_BPF_ABI_VERSION. Must never include anything but linux/types.h.
 */
#ifndef EMBER_BPF_ABI_H
#define EMBER_BPF_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define EMBER_BPF_ABI_VERSION 1

/* Kernel frames per sample (bpf_get_stack; the kernel's PERF_MAX_STACK_DEPTH is 127). */
#define EMBER_KSTACK_MAX_DEPTH 128
/* Bytes of user stack copied from the sampled sp upwards (a power of two). */
#define EMBER_USTACK_MAX_BYTES 16384
/* The stack is copied in pages of this size, up to the first unreadable one. */
#define EMBER_PAGE_BYTES 4096
#define EMBER_COMM_LEN	 16
/* Processes the pid filter holds (ember record's process tree). */
#define EMBER_PID_FILTER_MAX 16384

/* Ring buffer record kinds: the first __u32 of every record. */
#define EMBER_REC_SAMPLE 1 /* struct ember_sample */
#define EMBER_REC_EXEC	 2 /* struct ember_proc_event: pid exec'd a new image */
#define EMBER_REC_EXIT	 3 /* struct ember_proc_event: process (thread group) exited */
#define EMBER_REC_FORK	 4 /* struct ember_proc_event: child process added to the filter */

/* ember_sample.flags */
#define EMBER_SAMPLE_USER_REGS	0x1 /* ip/sp/bp hold the user-mode registers */
#define EMBER_SAMPLE_IN_KERNEL	0x2 /* interrupted in kernel mode (kstack is the leaf part) */
#define EMBER_SAMPLE_KTHREAD	0x4 /* kernel thread: no user stack */
#define EMBER_SAMPLE_USTACK_CUT 0x8 /* the copy ended early (the end of the stack mapping) */

/* One CPU sample. ustack holds ustack_bytes bytes read from user address sp upwards. */
struct ember_sample {
	__u32 kind; /* EMBER_REC_SAMPLE */
	__u32 pid;  /* thread group id (user-visible pid) in the root pid namespace */
	__u32 tid;
	__u32 cpu;
	__u64 time_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) */
	__u64 ip;      /* user registers at the sample (or at kernel entry) */
	__u64 sp;
	__u64 bp;
	__u32 flags;	    /* EMBER_SAMPLE_* */
	__u32 kstack_bytes; /* bytes of kstack filled (8 per frame), 0 for none */
	__u32 ustack_bytes; /* bytes of ustack filled */
	__u32 pad0;
	char comm[EMBER_COMM_LEN];
	__u64 kstack[EMBER_KSTACK_MAX_DEPTH]; /* leaf first */
	__u8 ustack[EMBER_USTACK_MAX_BYTES];
};

/* Exec/exit/fork notifications. */
struct ember_proc_event {
	__u32 kind; /* EMBER_REC_EXEC, EMBER_REC_EXIT or EMBER_REC_FORK */
	__u32 pid;
	__u32 ppid; /* parent (fork), else 0 */
	__u32 pad0;
	__u64 time_ns;
};

/* Counters in the per-CPU `stats` array, summed by user space. */
#define EMBER_STAT_SAMPLES	0 /* samples taken (after filtering) */
#define EMBER_STAT_LOST		1 /* ring buffer full: sample dropped */
#define EMBER_STAT_USTACK_FAULT 2 /* no user stack copy at all */
#define EMBER_STAT_USTACK_SHORT 3 /* shortened user stack copy */
#define EMBER_STAT_KSTACK_FAIL	4 /* bpf_get_stack failed */
#define EMBER_STAT_EVENTS_LOST	5 /* exec/exit/fork notifications dropped */
#define EMBER_STAT_FILTER_FULL	6 /* pid filter full: a child was not followed */
#define EMBER_STAT_N		8

/*
 * Compact unwind rows (x86-64). A table is an array sorted by pc (ELF virtual address of the
 * file, not of the process); a row applies from its pc up to the next row's pc. Built in user
 * space from .eh_frame/.debug_frame; laid out so the same rows can be loaded into a BPF array
 * for in-kernel unwinding later (16 bytes, no pointers).
 *   CFA = (cfa_type == RSP ? rsp : rbp) + cfa_offset; return address at CFA - 8;
 *   caller rbp = rbp_type == OFFSET ? *(CFA + rbp_offset) : rbp (unchanged).
 */
#define EMBER_CFA_UNDEFINED   0 /* no CFI here (gap between FDEs): stop or fall back */
#define EMBER_CFA_RSP	      1
#define EMBER_CFA_RBP	      2
#define EMBER_CFA_PLT	      3 /* the PLT expression: rsp + 8, or + 16 when (rip & 15) >= 11 */
#define EMBER_CFA_OUTERMOST   4 /* return address undefined: _start, clone (a complete stack) */
#define EMBER_CFA_UNSUPPORTED 5 /* an expression or register rule we cannot evaluate */
#define EMBER_CFA_SIGNAL      6 /* signal trampoline: registers in the ucontext at rsp */

/* Offsets in the x86-64 ucontext (rt_sigframe.uc, at rsp in the trampoline) of the saved
 * rbp, rsp and rip: uc_flags, uc_link, uc_stack (40 bytes), then gregs r8..r15, rdi, rsi,
 * rbp, rbx, rdx, rax, rcx, rsp, rip. */
#define EMBER_UCONTEXT_RBP 120
#define EMBER_UCONTEXT_RSP 160
#define EMBER_UCONTEXT_RIP 168

#define EMBER_RBP_SAME	      0 /* rbp unchanged in the caller */
#define EMBER_RBP_OFFSET      1 /* saved at CFA + rbp_offset */
#define EMBER_RBP_UNSUPPORTED 2

#define EMBER_ROW_SIGNAL 0x1 /* signal trampoline frame (return address is exact) */

struct ember_unwind_row {
	__u64 pc;
	__u8 cfa_type;
	__u8 rbp_type;
	__s16 cfa_offset;
	__s16 rbp_offset;
	__u16 flags;
};

#ifndef __VMLINUX_H__
_Static_assert(sizeof(struct ember_sample) ==
		       80 + 8 * EMBER_KSTACK_MAX_DEPTH + EMBER_USTACK_MAX_BYTES,
	       "ember_sample layout");
_Static_assert(sizeof(struct ember_proc_event) == 24, "ember_proc_event layout");
_Static_assert(sizeof(struct ember_unwind_row) == 16, "ember_unwind_row layout");
#endif

#endif
