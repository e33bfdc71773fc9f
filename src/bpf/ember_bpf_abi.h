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

#define EMBER_BPF_ABI_VERSION 3

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
#define EMBER_REC_TRACE	 5 /* struct ember_trace: a stack unwound in the kernel */
#define EMBER_REC_WAKE	 6 /* struct ember_wake: an off-CPU thread runs again */

/* ember_sample.flags */
#define EMBER_SAMPLE_USER_REGS	0x1 /* ip/sp/bp hold the user-mode registers */
#define EMBER_SAMPLE_IN_KERNEL	0x2 /* interrupted in kernel mode (kstack is the leaf part) */
#define EMBER_SAMPLE_KTHREAD	0x4 /* kernel thread: no user stack */
#define EMBER_SAMPLE_USTACK_CUT 0x8 /* the copy ended early (the end of the stack mapping) */
#define EMBER_SAMPLE_OFFCPU \
	0x10 /* an off-CPU stack: the thread blocks there (ember_wake
					      * says for how long) */

/* ember_sample.fallback */
#define EMBER_FB_NONE	 0 /* in-kernel unwinding is off (or a kernel thread) */
#define EMBER_FB_NO_PROC 1 /* the process's mappings are not loaded */
#define EMBER_FB_PENDING 2 /* a mapping's file or its rows are not loaded */
#define EMBER_FB_NO_MAP	 3 /* a pc in no loaded mapping (dlopen, mmap since the load) */

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
	__u32 fallback;	    /* why the kernel did not unwind it: EMBER_FB_* */
	char comm[EMBER_COMM_LEN];
	__u64 fallback_pc; /* EMBER_FB_PENDING, EMBER_FB_NO_MAP: the pc it stopped at */
	__u64 value_ns;	   /* 0 (the time of an off-CPU stack comes in its ember_wake) */
	__u64 kstack[EMBER_KSTACK_MAX_DEPTH]; /* leaf first */
	__u8 ustack[EMBER_USTACK_MAX_BYTES];
};

/* User frames the BPF program unwinds (the first is the sampled pc). */
#define EMBER_UFRAMES_MAX 128

/* Why a user stack walk ended (the same values as user space's enum unwind_stop). */
#define EMBER_USTOP_OUTERMOST	0 /* a frame whose return address is undefined: complete */
#define EMBER_USTOP_ZERO_RA	1 /* return address 0 (end of a frame-pointer chain) */
#define EMBER_USTOP_NO_MAPPING	2 /* a pc outside every known executable mapping */
#define EMBER_USTOP_READ	3 /* stack memory could not be read */
#define EMBER_USTOP_NO_CFI	4 /* no row and no usable frame pointer */
#define EMBER_USTOP_UNSUPPORTED 5 /* a rule the walker cannot evaluate */
#define EMBER_USTOP_BAD_FRAME	6 /* the CFA did not move up the stack */
#define EMBER_USTOP_MAX_FRAMES	7
#define EMBER_USTOP_NONE	8 /* no user part (kernel thread, no user registers) */

/*
 * One CPU sample whose user stack was unwound in the kernel: pcs holds n_kernel kernel
 * frames (leaf first) then n_user user frames (leaf first: the sampled pc, then return
 * addresses). Sent with only the filled part of pcs: 64 + 8 * (n_kernel + n_user) bytes.
 * An off-CPU stack (EMBER_SAMPLE_OFFCPU) is taken as the thread blocks; its kernel part shows
 * where. The time comes later, in the thread's ember_wake.
 */
struct ember_trace {
	__u32 kind; /* EMBER_REC_TRACE */
	__u32 pid;
	__u32 tid;
	__u32 cpu;
	__u64 time_ns;
	__u32 flags; /* EMBER_SAMPLE_* */
	__u16 n_kernel;
	__u16 n_user;
	__u32 stop; /* EMBER_USTOP_* */
	__u32 n_fp; /* user frames found through frame pointers */
	char comm[EMBER_COMM_LEN];
	__u64 value_ns; /* 0 (reserved) */
	__u64 pcs[EMBER_KSTACK_MAX_DEPTH + EMBER_UFRAMES_MAX];
};
#define EMBER_TRACE_HDR_BYTES 64

/*
 * In-kernel unwinding maps, filled by user space (src/agent/kunwind.c):
 *   krows   ARRAY of ember_unwind_row: every loaded file's rows, one after the other;
 *   kfiles  ARRAY by file id of ember_kfile: where a file's rows are in krows;
 *   kprocs  HASH tgid -> ember_kproc: the executable mappings of a process, sorted by start.
 * A pc of an unknown process, of a mapping or file marked pending, makes the BPF program send
 * the raw stack copy (struct ember_sample) instead; user space unwinds that one and loads
 * what was missing.
 */
#define EMBER_KROWS_MAX	 (1u << 22) /* 64 MiB of kernel memory */
#define EMBER_KFILES_MAX 8192
#define EMBER_KMAPS_MAX	 256
#define EMBER_KPROCS_MAX 8192

#define EMBER_KFILE_PENDING  0 /* rows not loaded (yet): the stack goes to user space */
#define EMBER_KFILE_LOADED   1
#define EMBER_KFILE_NO_TABLE 2 /* the file has no CFI: frame pointers */

struct ember_kfile {
	__u32 first; /* index in krows */
	__u32 n;
	__u32 state; /* EMBER_KFILE_* */
	__u32 pad;
};

#define EMBER_KMAP_PENDING 0x1 /* the file is not known yet: the stack goes to user space */

struct ember_kmapping {
	__u64 start; /* [start, end) in the process */
	__u64 end;
	__u64 bias;    /* pc - ELF vaddr */
	__u32 file_id; /* index in kfiles; 0 = no file (anonymous, vdso): frame pointers */
	__u32 flags;   /* EMBER_KMAP_* */
};

struct ember_kproc {
	__u32 n; /* mappings used, sorted by start, not overlapping */
	__u32 pad;
	struct ember_kmapping maps[EMBER_KMAPS_MAX];
};

/* The thread tid of pid, whose off-CPU stack was sent when it blocked, runs again after
 * value_ns (times the sampling factor off_cpu_every). */
struct ember_wake {
	__u32 kind; /* EMBER_REC_WAKE */
	__u32 pid;
	__u32 tid;
	__u32 pad;
	__u64 value_ns;
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
#define EMBER_STAT_SAMPLES	0  /* samples taken (after filtering) */
#define EMBER_STAT_LOST		1  /* ring buffer full: sample dropped */
#define EMBER_STAT_USTACK_FAULT 2  /* no user stack copy at all */
#define EMBER_STAT_USTACK_SHORT 3  /* shortened user stack copy */
#define EMBER_STAT_KSTACK_FAIL	4  /* bpf_get_stack failed */
#define EMBER_STAT_EVENTS_LOST	5  /* exec/exit/fork notifications dropped */
#define EMBER_STAT_FILTER_FULL	6  /* pid filter full: a child was not followed */
#define EMBER_STAT_TRACES	7  /* samples unwound in the kernel (ember_trace sent) */
#define EMBER_STAT_FB_NO_PROC	8  /* sent as a stack copy: process not loaded */
#define EMBER_STAT_FB_PENDING	9  /* sent as a stack copy: a file not loaded */
#define EMBER_STAT_FB_NO_MAP	10 /* sent as a stack copy: a pc in no loaded mapping */
#define EMBER_STAT_OFFCPU	11 /* off-CPU stacks taken (a thread blocked) */
#define EMBER_STAT_OFFCPU_BUSY	12 /* off-CPU stacks skipped: the ring was a quarter full */
#define EMBER_STAT_N		13

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
		       96 + 8 * EMBER_KSTACK_MAX_DEPTH + EMBER_USTACK_MAX_BYTES,
	       "ember_sample layout");
_Static_assert(sizeof(struct ember_proc_event) == 24, "ember_proc_event layout");
_Static_assert(sizeof(struct ember_wake) == 24, "ember_wake layout");
_Static_assert(sizeof(struct ember_unwind_row) == 16, "ember_unwind_row layout");
_Static_assert(sizeof(struct ember_trace) ==
		       EMBER_TRACE_HDR_BYTES + 8 * (EMBER_KSTACK_MAX_DEPTH + EMBER_UFRAMES_MAX),
	       "ember_trace layout");
_Static_assert(sizeof(struct ember_kfile) == 16, "ember_kfile layout");
_Static_assert(sizeof(struct ember_kmapping) == 32, "ember_kmapping layout");
_Static_assert(sizeof(struct ember_kproc) == 8 + 32 * EMBER_KMAPS_MAX, "ember_kproc layout");
#endif

#endif
