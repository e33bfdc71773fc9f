// SPDX-License-Identifier: GPL-2.0
/*
 * profile.bpf.c — Ember's CPU sampler. Attached to one cpu-clock perf event per CPU, it records
 * pid, tid, comm, the kernel stack, the user registers and a copy of the top of the user stack,
 * and sends them to user space through the `events` ring buffer, where they are unwound with
 * compact .eh_frame tables (ember_bpf_abi.h). With `filter_pids` set only the thread groups in
 * `pid_filter` are sampled; the fork tracepoint adds their children, so a whole process tree is
 * followed. Exec and exit notifications let user space refresh its process maps.
 * Never blocks and never loops unboundedly; every failure is counted in `stats`.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "bpf/ember_bpf_abi.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 filter_pids = 0; /* 1: sample only thread groups in pid_filter */
const volatile __u32 ignore_tgid = 0; /* the agent itself, never sampled */
const volatile __u32 want_kernel = 1; /* record kernel stacks */

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

SEC("perf_event")
int ember_on_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct ember_sample *e;
	struct task_struct *task;
	struct pt_regs *regs;
	long n;

	if (tid == 0 || !wanted(tgid))
		return 0;
	stat_inc(EMBER_STAT_SAMPLES);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(EMBER_STAT_LOST);
		return 0;
	}
	e->kind = EMBER_REC_SAMPLE;
	e->pid = tgid;
	e->tid = tid;
	e->cpu = bpf_get_smp_processor_id();
	e->time_ns = bpf_ktime_get_ns();
	e->flags = 0;
	e->pad0 = 0;
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

	task = bpf_get_current_task_btf();
	if (!task->mm) {
		e->flags |= EMBER_SAMPLE_KTHREAD;
		bpf_ringbuf_submit(e, 0);
		return 0;
	}
	/* A full-width load: the context only allows 8-byte reads of pt_regs fields. */
	if ((*(volatile __u64 *)&ctx->regs.cs & 3) == 3) {
		e->ip = ctx->regs.ip;
		e->sp = ctx->regs.sp;
		e->bp = ctx->regs.bp;
	} else {
		e->flags |= EMBER_SAMPLE_IN_KERNEL;
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
		e->ip = BPF_CORE_READ(regs, ip);
		e->sp = BPF_CORE_READ(regs, sp);
		e->bp = BPF_CORE_READ(regs, bp);
	}
	e->flags |= EMBER_SAMPLE_USER_REGS;
	e->ustack_bytes = copy_ustack(e, e->sp);
	if (e->ustack_bytes == 0)
		stat_inc(EMBER_STAT_USTACK_FAULT);
	else if (e->ustack_bytes <= EMBER_USTACK_MAX_BYTES - EMBER_PAGE_BYTES)
		e->flags |= EMBER_SAMPLE_USTACK_CUT, stat_inc(EMBER_STAT_USTACK_SHORT);
	bpf_ringbuf_submit(e, 0);
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
	bpf_ringbuf_submit(ev, 0);
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

	if (wanted(tgid))
		send_proc_event(EMBER_REC_EXEC, tgid, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ember_on_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;

	/* Only the thread group leader's exit ends the process. */
	if (p->pid != p->tgid || !wanted(tgid))
		return 0;
	send_proc_event(EMBER_REC_EXIT, tgid, 0);
	return 0;
}
