// SPDX-License-Identifier: GPL-2.0
/*
 * profile.bpf.c — Ember's CPU sampler. Attached to one cpu-clock perf event per CPU, it records
 * pid, tid, comm, the kernel stack and the user stack, and sends them to user space through the
 * `events` ring buffer. The user stack is unwound here, in the kernel, with the compact
 * .eh_frame rows user space loaded into `krows`/`kfiles`/`kprocs` (ember_bpf_abi.h): per frame
 * the pc's mapping (binary search in the process's mappings), its file's row (binary search in
 * the file's rows), the CFA from rsp or rbp, the return address and saved rbp read with
 * bpf_probe_read_user; frame pointers where a file has no rows. The frame loop runs under
 * bpf_loop (up to EMBER_UFRAMES_MAX frames). When something is not loaded yet (a new process, a
 * new file, a pc in no known mapping) or with `kernel_unwind` off, it sends a copy of the top of
 * the user stack instead, which user space unwinds (and then loads what was missing).
 * With `filter_pids` set only the thread groups in `pid_filter` are sampled; the fork
 * tracepoint adds their children, so a whole process tree is followed. Exec and exit
 * notifications let user space refresh its process maps. Kernel-unwound stacks are sent without
 * waking the reader until the ring is a quarter full (the reader polls on a timer).
 * With `off_cpu` set, sched_switch unwinds a user thread that blocks (not one preempted; one
 * block in `off_cpu_every` chosen at random) while it is still current, so its memory is
 * readable, and sends that stack marked EMBER_SAMPLE_OFFCPU; it notes the time in
 * `offcpu_start`, and when the thread is switched in again sends an ember_wake with the time
 * blocked (times off_cpu_every). User space adds that time to the thread's pending stack.
 * (Not a kprobe on finish_task_switch, which would run in the woken thread: kernels without
 * CONFIG_KPROBES have none.)
 * Never blocks and never loops unboundedly; every failure is counted in `stats`.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "bpf/ember_bpf_abi.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 filter_pids = 0;	     /* 1: sample only thread groups in pid_filter */
const volatile __u32 ignore_tgid = 0;	     /* the agent itself, never sampled */
const volatile __u32 want_kernel = 1;	     /* record kernel stacks */
const volatile __u32 kernel_unwind = 1;	     /* unwind user stacks here (else always copy them) */
const volatile __u64 wakeup_bytes = 1 << 20; /* wake the reader past this much queued data */
const volatile __u32 off_cpu = 0;	     /* record off-CPU stacks */
const volatile __u32 off_cpu_every = 1;	     /* one block in this many is recorded */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EMBER_PID_FILTER_MAX);
	__type(key, __u32);
	__type(value, __u32);
} pid_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EMBER_KROWS_MAX);
	__uint(map_flags, BPF_F_MMAPABLE); /* user space reads the rows too */
	__type(key, __u32);
	__type(value, struct ember_unwind_row);
} krows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EMBER_KFILES_MAX);
	__type(key, __u32);
	__type(value, struct ember_kfile);
} kfiles SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, EMBER_KPROCS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct ember_kproc);
} kprocs SEC(".maps");

/* tid -> when it blocked (bpf_ktime_get_ns), for off-CPU time. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} offcpu_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EMBER_STAT_N);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += 1;
}

/* Kernel-unwound stacks wake the reader only when a good part of the ring is waiting (it also
 * polls on a timer). Copies asked for by the unwinder and exec events force a wakeup: they are
 * rare once processes are loaded, and a new process's maps must be read before it moves on
 * (an exec replaces them, an exit removes them). */
static __always_inline __u64 rb_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
									     : BPF_RB_NO_WAKEUP;
}

static __always_inline int wanted(__u32 tgid)
{
	if (tgid == 0 || tgid == ignore_tgid)
		return 0;
	if (!filter_pids)
		return 1;
	return bpf_map_lookup_elem(&pid_filter, &tgid) != NULL;
}

/* Copies the top of the user stack page by page, from sp to the next page boundary and then
 * whole pages, stopping at the first page that cannot be read (the end of the stack mapping:
 * a read is all-or-nothing, so one large read would fail near the top of the stack). */
static __always_inline __u32 copy_ustack(struct ember_sample *e, __u64 sp)
{
	__u32 first = EMBER_PAGE_BYTES - (sp & (EMBER_PAGE_BYTES - 1));
	__u32 got;

	if (first > EMBER_PAGE_BYTES)
		return 0;
	if (bpf_probe_read_user(e->ustack, first, (const void *)sp) != 0)
		return 0;
	got = first;
	/* A bounded loop (verified since 5.3), not unrolled. */
	for (int i = 0; i < EMBER_USTACK_MAX_BYTES / EMBER_PAGE_BYTES; i++) {
		if (got > EMBER_USTACK_MAX_BYTES - EMBER_PAGE_BYTES)
			break;
		if (bpf_probe_read_user(e->ustack + got, EMBER_PAGE_BYTES,
					(const void *)(sp + got)) != 0)
			break;
		got += EMBER_PAGE_BYTES;
	}
	return got;
}

/* The user registers saved at kernel entry. */
static __always_inline void task_user_regs(struct task_struct *task, __u64 *ip, __u64 *sp,
					   __u64 *bp, __u32 *flags)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

	*flags |= EMBER_SAMPLE_IN_KERNEL | EMBER_SAMPLE_USER_REGS;
	*ip = BPF_CORE_READ(regs, ip);
	*sp = BPF_CORE_READ(regs, sp);
	*bp = BPF_CORE_READ(regs, bp);
}

/* The user registers at the sample: from the perf context when it hit user mode (perf: ctx is
 * a bpf_perf_event_data), else the ones saved at kernel entry. */
static __always_inline void user_regs(void *ctx, int perf, struct task_struct *task, __u64 *ip,
				      __u64 *sp, __u64 *bp, __u32 *flags)
{
	struct bpf_perf_event_data *pctx = ctx;

	/* A full-width load: the context only allows 8-byte reads of pt_regs fields. */
	if (perf && (*(volatile __u64 *)&pctx->regs.cs & 3) == 3) {
		*ip = pctx->regs.ip;
		*sp = pctx->regs.sp;
		*bp = pctx->regs.bp;
		*flags |= EMBER_SAMPLE_USER_REGS;
		return;
	}
	task_user_regs(task, ip, sp, bp, flags);
}

/* The fallback: the registers and a copy of the top of the user stack, unwound in user space. */
static __always_inline void send_copy(void *ctx, int perf, struct task_struct *task, __u32 tgid,
				      __u32 tid, __u32 fallback, __u64 fallback_pc, int offcpu)
{
	struct ember_sample *e;
	long n;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(EMBER_STAT_LOST);
		return;
	}
	e->kind = EMBER_REC_SAMPLE;
	e->pid = tgid;
	e->tid = tid;
	e->cpu = bpf_get_smp_processor_id();
	e->time_ns = bpf_ktime_get_ns();
	e->flags = offcpu ? EMBER_SAMPLE_OFFCPU : 0;
	e->value_ns = 0;
	e->fallback = fallback;
	e->fallback_pc = fallback_pc;
	e->ip = e->sp = e->bp = 0;
	e->ustack_bytes = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));

	e->kstack_bytes = 0;
	if (want_kernel) {
		n = bpf_get_stack(ctx, e->kstack, sizeof(e->kstack), 0);
		if (n > 0)
			e->kstack_bytes = n;
		else if (n < 0)
			stat_inc(EMBER_STAT_KSTACK_FAIL);
	}
	if (!task->mm) {
		e->flags |= EMBER_SAMPLE_KTHREAD;
		bpf_ringbuf_submit(e, 0);
		return;
	}
	user_regs(ctx, perf, task, &e->ip, &e->sp, &e->bp, &e->flags);
	e->ustack_bytes = copy_ustack(e, e->sp);
	if (e->ustack_bytes == 0)
		stat_inc(EMBER_STAT_USTACK_FAULT);
	else if (e->ustack_bytes <= EMBER_USTACK_MAX_BYTES - EMBER_PAGE_BYTES)
		e->flags |= EMBER_SAMPLE_USTACK_CUT, stat_inc(EMBER_STAT_USTACK_SHORT);
	/* A copy the in-kernel unwinder asked for (a new process, a new mapping) must reach user
	 * space while the process lives: its maps are read then. The default (adaptive) wakeup
	 * would not come while kernel-unwound records sent without a wakeup are waiting. */
	bpf_ringbuf_submit(e, fallback != EMBER_FB_NONE ? BPF_RB_FORCE_WAKEUP : 0);
}

/* ---- the in-kernel unwinder ---------------------------------------------------------------- */

/* The walk's state. It lives in a per-CPU map value, not on the stack: the verifier treats map
 * contents as unknown, so it checks each bpf_loop callback once instead of once per value of
 * every counter (which would take it near its 1M-instruction limit). */
struct walk {
	__u64 ip, sp, bp;
	__u64 fallback_pc;
	__u32 tgid;
	__u32 nk;	/* kernel frames at the start of t.pcs */
	__u32 nu;	/* user frames after them */
	__u32 stop;	/* EMBER_USTOP_* once ended */
	__u32 exact;	/* ip is not a return address (the sampled pc, a signal frame's) */
	__u32 n_fp;	/* frames from the frame-pointer chain */
	__u32 fallback; /* EMBER_FB_*: send the copy instead */
	__u32 last_fp;	/* the last frame came from the frame-pointer chain */
};

/* A binary search: lo ends as the number of entries at or below key. */
struct search {
	__u64 key;
	__u32 tgid; /* mappings: the process */
	__u32 lo, hi;
	__u32 pad;
};

/* The trace being built and the walk, in a 4 KiB buffer so that a size masked with 4095 is
 * always inside it, whatever the compiler does with a bounds check. */
#define SCRATCH_BYTES 4096
struct scratch_buf {
	struct ember_trace t;
	struct walk w;
	struct search q;
	__u8 pad[SCRATCH_BYTES - sizeof(struct ember_trace) - sizeof(struct walk) -
		 sizeof(struct search)];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch_buf);
} scratch SEC(".maps");

static __always_inline struct scratch_buf *get_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

static __always_inline int read_u64(__u64 addr, __u64 *out)
{
	return bpf_probe_read_user(out, sizeof(*out), (const void *)addr);
}

static long map_search_step(__u64 index, void *arg)
{
	struct scratch_buf *sb = get_scratch();
	const struct ember_kproc *pr;
	struct search *q;
	__u32 mid;

	if (!sb)
		return 1;
	q = &sb->q;
	if (q->lo >= q->hi)
		return 1;
	mid = q->lo + (q->hi - q->lo) / 2;
	pr = bpf_map_lookup_elem(&kprocs, &q->tgid);
	if (!pr || mid >= EMBER_KMAPS_MAX)
		return 1;
	mid &= EMBER_KMAPS_MAX - 1;
	if (pr->maps[mid].start <= q->key)
		q->lo = mid + 1;
	else
		q->hi = mid;
	return 0;
}

static long row_search_step(__u64 index, void *arg)
{
	struct scratch_buf *sb = get_scratch();
	const struct ember_unwind_row *r;
	struct search *q;
	__u32 mid;

	if (!sb)
		return 1;
	q = &sb->q;
	if (q->lo >= q->hi)
		return 1;
	mid = q->lo + (q->hi - q->lo) / 2;
	r = bpf_map_lookup_elem(&krows, &mid);
	if (!r)
		return 1;
	if (r->pc <= q->key)
		q->lo = mid + 1;
	else
		q->hi = mid;
	return 0;
}

/* The mapping of pc in the process's sorted mappings, or NULL. */
static __always_inline const struct ember_kmapping *find_mapping(struct scratch_buf *sb,
								 const struct ember_kproc *pr,
								 __u32 tgid, __u64 pc)
{
	__u32 i, n = pr->n;

	sb->q.key = pc;
	sb->q.tgid = tgid;
	sb->q.lo = 0;
	sb->q.hi = n > EMBER_KMAPS_MAX ? EMBER_KMAPS_MAX : n;
	bpf_loop(9, map_search_step, NULL, 0); /* 9 steps cover 256 */
	i = sb->q.lo;
	if (i == 0 || i > EMBER_KMAPS_MAX)
		return NULL;
	/* A mask (EMBER_KMAPS_MAX is a power of two) the verifier sees on the register used. */
	i = (i - 1) & (EMBER_KMAPS_MAX - 1);
	if (pc >= pr->maps[i].end)
		return NULL;
	return &pr->maps[i];
}

/* The row covering vaddr in the file's rows, or NULL (below its first row). */
static __always_inline const struct ember_unwind_row *find_row(struct scratch_buf *sb,
							       const struct ember_kfile *f,
							       __u64 vaddr)
{
	__u32 first = f->first, n = f->n, i;

	if (n > EMBER_KROWS_MAX || first > EMBER_KROWS_MAX - n)
		return NULL;
	sb->q.key = vaddr;
	sb->q.lo = first;
	sb->q.hi = first + n;
	bpf_loop(23, row_search_step, NULL, 0); /* 23 steps cover EMBER_KROWS_MAX */
	i = sb->q.lo;
	if (i == first)
		return NULL;
	i--;
	return bpf_map_lookup_elem(&krows, &i);
}

/* One frame: from (ip, sp, bp) to the caller's; returns 1 when the walk ended. */
static long walk_step(__u64 index, void *arg)
{
	struct scratch_buf *sb = get_scratch();
	const struct ember_unwind_row *row = NULL;
	const struct ember_kmapping *m;
	const struct ember_kproc *pr;
	const struct ember_kfile *f;
	struct walk *w;
	__u64 at, cfa = 0, ra = 0, bp;
	__u32 exact = 0, fp = 0, idx;

	if (!sb)
		return 1;
	w = &sb->w;
	bp = w->bp;
	pr = bpf_map_lookup_elem(&kprocs, &w->tgid);
	if (!pr) {
		w->fallback = EMBER_FB_NO_PROC;
		return 1;
	}
	at = w->exact ? w->ip : w->ip - 1;
	m = find_mapping(sb, pr, w->tgid, at);
	if (!m) {
		/* After a frame-pointer step this is usually a garbage return address; else the
		 * mapping may be new (dlopen): user space re-reads the maps. */
		if (w->last_fp) {
			w->stop = EMBER_USTOP_NO_MAPPING;
		} else {
			w->fallback = EMBER_FB_NO_MAP;
			w->fallback_pc = at;
		}
		return 1;
	}
	if (m->flags & EMBER_KMAP_PENDING) {
		w->fallback = EMBER_FB_PENDING;
		w->fallback_pc = at;
		return 1;
	}
	if (m->file_id != 0) {
		idx = m->file_id;
		f = bpf_map_lookup_elem(&kfiles, &idx);
		if (!f || f->state == EMBER_KFILE_PENDING) {
			w->fallback = EMBER_FB_PENDING;
			w->fallback_pc = at;
			return 1;
		}
		if (f->state == EMBER_KFILE_LOADED)
			row = find_row(sb, f, at - m->bias);
	}
	if (row && row->cfa_type == EMBER_CFA_OUTERMOST) {
		w->stop = EMBER_USTOP_OUTERMOST;
		return 1;
	}
	if (row && (row->cfa_type == EMBER_CFA_RSP || row->cfa_type == EMBER_CFA_RBP ||
		    row->cfa_type == EMBER_CFA_PLT)) {
		if (row->cfa_type == EMBER_CFA_RSP)
			cfa = w->sp + (__u64)(__s64)row->cfa_offset;
		else if (row->cfa_type == EMBER_CFA_RBP)
			cfa = w->bp + (__u64)(__s64)row->cfa_offset;
		else
			cfa = w->sp + 8 + ((w->ip & 15) >= 11 ? 8 : 0);
		if (read_u64(cfa - 8, &ra) != 0 ||
		    (row->rbp_type == EMBER_RBP_OFFSET &&
		     read_u64(cfa + (__u64)(__s64)row->rbp_offset, &bp) != 0)) {
			w->stop = EMBER_USTOP_READ;
			return 1;
		}
		exact = row->flags & EMBER_ROW_SIGNAL;
	} else if (row && row->cfa_type == EMBER_CFA_SIGNAL) {
		/* The interrupted registers, saved by the kernel in the ucontext at rsp. */
		if (read_u64(w->sp + EMBER_UCONTEXT_RIP, &ra) != 0 ||
		    read_u64(w->sp + EMBER_UCONTEXT_RSP, &cfa) != 0 ||
		    read_u64(w->sp + EMBER_UCONTEXT_RBP, &bp) != 0) {
			w->stop = EMBER_USTOP_READ;
			return 1;
		}
		exact = 1;
	} else if (row && row->cfa_type == EMBER_CFA_UNSUPPORTED) {
		w->stop = EMBER_USTOP_UNSUPPORTED;
		return 1;
	} else {
		/* No rows here: the frame-pointer chain. */
		if (w->bp < w->sp || read_u64(w->bp + 8, &ra) != 0 || read_u64(w->bp, &bp) != 0) {
			w->stop = EMBER_USTOP_NO_CFI;
			return 1;
		}
		cfa = w->bp + 16;
		fp = 1;
	}
	if (cfa <= w->sp) {
		w->stop = EMBER_USTOP_BAD_FRAME;
		return 1;
	}
	if (ra == 0) {
		w->stop = EMBER_USTOP_ZERO_RA;
		return 1;
	}
	idx = w->nk + w->nu;
	if (w->nu >= EMBER_UFRAMES_MAX || idx >= EMBER_KSTACK_MAX_DEPTH + EMBER_UFRAMES_MAX) {
		w->stop = EMBER_USTOP_MAX_FRAMES;
		return 1;
	}
	sb->t.pcs[idx] = ra;
	w->nu++;
	w->n_fp += fp;
	w->last_fp = fp;
	w->ip = ra;
	w->sp = cfa;
	w->bp = bp;
	w->exact = exact;
	return 0;
}

/* Unwinds in the kernel and sends an ember_trace; returns 0, or an EMBER_FB_* reason to send
 * the stack copy instead (and in *fb_pc the pc it stopped at). */
static __always_inline int send_trace(void *ctx, int perf, struct task_struct *task, __u32 tgid,
				      __u32 tid, __u64 *fb_pc, int offcpu)
{
	struct scratch_buf *sb;
	struct ember_trace *t;
	struct walk *w;
	__u32 size, n, nk = 0;
	long kn;

	if (!bpf_map_lookup_elem(&kprocs, &tgid))
		return EMBER_FB_NO_PROC;
	sb = get_scratch();
	if (!sb)
		return EMBER_FB_NO_PROC;
	t = &sb->t;
	w = &sb->w;
	t->kind = EMBER_REC_TRACE;
	t->pid = tgid;
	t->tid = tid;
	t->cpu = bpf_get_smp_processor_id();
	t->time_ns = bpf_ktime_get_ns();
	t->flags = offcpu ? EMBER_SAMPLE_OFFCPU : 0;
	t->value_ns = 0;
	bpf_get_current_comm(t->comm, sizeof(t->comm));
	if (want_kernel) {
		kn = bpf_get_stack(ctx, t->pcs, EMBER_KSTACK_MAX_DEPTH * 8, 0);
		if (kn < 0)
			stat_inc(EMBER_STAT_KSTACK_FAIL);
		else
			nk = (__u32)kn / 8;
	}
	if (nk > EMBER_KSTACK_MAX_DEPTH)
		nk = EMBER_KSTACK_MAX_DEPTH;
	user_regs(ctx, perf, task, &w->ip, &w->sp, &w->bp, &t->flags);
	t->pcs[nk & (EMBER_KSTACK_MAX_DEPTH * 2 - 1)] = w->ip;
	w->tgid = tgid;
	w->nk = nk;
	w->nu = 1;
	w->exact = 1;
	w->n_fp = 0;
	w->last_fp = 0;
	w->fallback = EMBER_FB_NONE;
	w->fallback_pc = 0;
	w->stop = EMBER_USTOP_MAX_FRAMES; /* unless a step ends the walk first */
	bpf_loop(EMBER_UFRAMES_MAX - 1, walk_step, NULL, 0);
	if (w->fallback) {
		*fb_pc = w->fallback_pc;
		return (int)w->fallback;
	}
	n = w->nu;
	if (n > EMBER_UFRAMES_MAX)
		n = EMBER_UFRAMES_MAX;
	t->n_kernel = (__u16)nk;
	t->n_user = (__u16)n;
	t->stop = w->stop;
	t->n_fp = w->n_fp;
	size = (EMBER_TRACE_HDR_BYTES + 8 * (nk + n)) & (SCRATCH_BYTES - 1);
	if (bpf_ringbuf_output(&events, t, size, rb_flags()) != 0)
		stat_inc(EMBER_STAT_LOST);
	else
		stat_inc(EMBER_STAT_TRACES);
	return 0;
}

/* Unwinds and sends the current thread's stack: in the kernel when it can, else as a copy. */
static __always_inline void send_stack(void *ctx, int perf, __u32 tgid, __u32 tid, int offcpu)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 fb_pc = 0;
	int fb = 0;

	if (kernel_unwind && task->mm) {
		fb = send_trace(ctx, perf, task, tgid, tid, &fb_pc, offcpu);
		if (fb == 0)
			return;
		stat_inc(fb == EMBER_FB_NO_PROC	 ? EMBER_STAT_FB_NO_PROC
			 : fb == EMBER_FB_NO_MAP ? EMBER_STAT_FB_NO_MAP
						 : EMBER_STAT_FB_PENDING);
	}
	send_copy(ctx, perf, task, tgid, tid, (__u32)fb, fb_pc, offcpu);
}

SEC("perf_event")
int ember_on_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;

	if (tid == 0 || !wanted(tgid))
		return 0;
	stat_inc(EMBER_STAT_SAMPLES);
	send_stack(ctx, 1, tgid, tid, 0);
	return 0;
}

/* ---- off-CPU ------------------------------------------------------------------------------ */

struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

static __always_inline void send_wake(__u32 tgid, __u32 tid, __u64 ns)
{
	struct ember_wake *w = bpf_ringbuf_reserve(&events, sizeof(*w), 0);

	if (!w) {
		stat_inc(EMBER_STAT_LOST);
		return;
	}
	w->kind = EMBER_REC_WAKE;
	w->pid = tgid;
	w->tid = tid;
	w->pad = 0;
	w->value_ns = ns;
	bpf_ringbuf_submit(w, rb_flags());
}

/* prev leaves the CPU: when it blocks (not when it is preempted), send its stack and note the
 * time; next runs again: if its block was noted, send the time it was blocked. */
SEC("tp_btf/sched_switch")
int BPF_PROG(ember_on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 tgid = prev->tgid, tid = prev->pid, ntid = next->pid;
	__u64 now = bpf_ktime_get_ns(), *start;

	if (!off_cpu)
		return 0;
	start = ntid ? bpf_map_lookup_elem(&offcpu_start, &ntid) : NULL;
	if (start) {
		__u64 d = now > *start ? now - *start : 0;

		bpf_map_delete_elem(&offcpu_start, &ntid);
		if (d)
			send_wake(next->tgid, ntid, d * off_cpu_every);
	}
	if (tid == 0 || !prev->mm || preempt || task_state(prev) == 0 || !wanted(tgid))
		return 0;
	if (off_cpu_every > 1 && bpf_get_prandom_u32() % off_cpu_every != 0)
		return 0;
	/* Off-CPU stacks must not crowd CPU samples out of the ring. */
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes) {
		stat_inc(EMBER_STAT_OFFCPU_BUSY);
		return 0;
	}
	if (bpf_map_update_elem(&offcpu_start, &tid, &now, BPF_ANY) != 0)
		return 0;
	stat_inc(EMBER_STAT_OFFCPU);
	send_stack(ctx, 0, tgid, tid, 1);
	return 0;
}

static __always_inline void send_proc_event(__u32 kind, __u32 pid, __u32 ppid)
{
	struct ember_proc_event *ev;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		stat_inc(EMBER_STAT_EVENTS_LOST);
		return;
	}
	ev->kind = kind;
	ev->pid = pid;
	ev->ppid = ppid;
	ev->pad0 = 0;
	ev->time_ns = bpf_ktime_get_ns();
	/* An exec wakes the reader at once (its maps are read early); the others adaptively. */
	bpf_ringbuf_submit(ev, kind == EMBER_REC_EXEC ? BPF_RB_FORCE_WAKEUP : 0);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(ember_on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid, one = 1;

	if (ptgid == ctgid || !filter_pids)
		return 0;
	if (!bpf_map_lookup_elem(&pid_filter, &ptgid))
		return 0;
	if (bpf_map_update_elem(&pid_filter, &ctgid, &one, BPF_ANY) != 0) {
		stat_inc(EMBER_STAT_FILTER_FULL);
		return 0;
	}
	send_proc_event(EMBER_REC_FORK, ctgid, ptgid);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ember_on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;

	/* The old image's mappings are gone: user space loads the new ones. */
	bpf_map_delete_elem(&kprocs, &tgid);
	if (wanted(tgid))
		send_proc_event(EMBER_REC_EXEC, tgid, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ember_on_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;

	/* Only the thread group leader's exit ends the process. */
	if (p->pid != p->tgid)
		return 0;
	bpf_map_delete_elem(&kprocs, &tgid);
	if (!wanted(tgid))
		return 0;
	send_proc_event(EMBER_REC_EXIT, tgid, 0);
	return 0;
}
