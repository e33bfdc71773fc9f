/*
 * sampler.c — the BPF side of the agent: opens profile.bpf.c's skeleton, sets its read-only
 * configuration, loads it, attaches the fork/exec/exit tracepoints and one cpu-clock perf event
 * per online CPU, and drains the ring buffer into a callback. Lifecycle and the function that
 * makes each transition:
 *
 *   OPEN --agent_sampler_open: rodata--> CONFIGURED --load--> LOADED
 *   LOADED --agent_sampler_attach--> ATTACHED --agent_sampler_poll--> DRAINING (repeats)
 *   any --agent_sampler_close--> DETACHED (perf events closed, links destroyed, freed)
 *
 * Owns the skeleton, the perf event fds and links, and the ring buffer. The BPF side wakes the
 * reader only when a quarter of the ring is waiting, so a poll waits its whole timeout and then
 * drains what arrived (a few wakeups per second instead of one per sample). Never prints:
 * libbpf's own messages go to the log at debug level.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "agent/agent.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "profile.skel.h"

#define MAX_CPUS 4096

enum sampler_state {
	SAMPLER_OPEN,
	SAMPLER_CONFIGURED,
	SAMPLER_LOADED,
	SAMPLER_ATTACHED,
	SAMPLER_DRAINING,
	SAMPLER_DETACHED
};

struct agent_sampler {
	enum sampler_state state;
	struct agent_sampler_opts o;
	struct profile_bpf *skel;
	struct ring_buffer *rb;
	int *fds;
	struct bpf_link **links;
	int n_cpus;
	agent_record_fn fn; /* set for the duration of a poll */
	void *ctx;
	int delivered;
	uint64_t deadline_ns; /* a poll hands back control after this (CLOCK_MONOTONIC) */
};

/* The longest a poll spends delivering records: a backlog (a burst of new processes, each
 * needing its files read) must not delay the caller's interval flushes. */
#define POLL_BUDGET_NS (250 * 1000000ull)

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 2, 0))) static int libbpf_log(enum libbpf_print_level level,
							    const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || log_level_current < LOG_LEVEL_DEBUG)
		return 0;
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	if (n > 0 && msg[n - 1] == '\n')
		msg[n - 1] = 0;
	LOG_DEBUG("libbpf: %s", msg);
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct agent_sampler *s = ctx;
	if (size >= sizeof(uint32_t) && s->fn)
		s->fn(s->ctx, data, size);
	s->delivered++;
	/* Stop here (this record is consumed); the rest waits for the next poll. */
	if (mono_ns() > s->deadline_ns)
		return -ECANCELED;
	return 0;
}

int agent_sampler_open(const struct agent_sampler_opts *o, struct agent_sampler **out)
{
	libbpf_set_print(libbpf_log);
	struct agent_sampler *s = mem_calloc(MEM_AGENT, 1, sizeof(*s));
	s->o = *o;
	if (s->o.freq_hz <= 0)
		s->o.freq_hz = 19;
	s->state = SAMPLER_OPEN;
	int rc = 0;
	s->skel = profile_bpf__open();
	if (!s->skel) {
		rc = errno ? -errno : -EINVAL;
		goto fail;
	}
	s->skel->rodata->filter_pids = o->filter_pids ? 1 : 0;
	s->skel->rodata->ignore_tgid = o->ignore_pid ? o->ignore_pid : (uint32_t)getpid();
	if (o->ring_bytes) {
		rc = bpf_map__set_max_entries(s->skel->maps.events, (uint32_t)o->ring_bytes);
		if (rc != 0)
			goto fail;
	}
	s->skel->rodata->want_kernel = o->no_kernel ? 0 : 1;
	s->skel->rodata->kernel_unwind = o->user_unwind ? 0 : 1;
	s->skel->rodata->wakeup_bytes = bpf_map__max_entries(s->skel->maps.events) / 4;
	s->skel->rodata->off_cpu = o->off_cpu ? 1 : 0;
	s->skel->rodata->off_cpu_every = o->off_cpu_every ? o->off_cpu_every : 1;
	if (!o->off_cpu)
		bpf_program__set_autoload(s->skel->progs.ember_on_switch, false);
	s->state = SAMPLER_CONFIGURED;
	rc = profile_bpf__load(s->skel);
	if (rc != 0)
		goto fail;
	s->state = SAMPLER_LOADED;
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), on_record, s, NULL);
	if (!s->rb) {
		rc = errno ? -errno : -ENOMEM;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	agent_sampler_close(s);
	return rc < 0 ? rc : -rc;
}

int agent_sampler_add_pid(struct agent_sampler *s, int pid)
{
	uint32_t key = (uint32_t)pid, one = 1;
	if (bpf_map__update_elem(s->skel->maps.pid_filter, &key, sizeof(key), &one, sizeof(one),
				 BPF_ANY) != 0)
		return -errno;
	return 0;
}

static int open_cpu_clock(int cpu, int freq)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.freq = 1;
	attr.sample_freq = (uint64_t)freq;
	long fd = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : (int)fd;
}

int agent_sampler_attach(struct agent_sampler *s)
{
	if (s->state != SAMPLER_LOADED)
		return -EINVAL;
	int rc = profile_bpf__attach(s->skel); /* the tracepoints; perf_event is ours */
	if (rc != 0)
		return rc;

	int n = libbpf_num_possible_cpus();
	if (n <= 0 || n > MAX_CPUS)
		return n < 0 ? n : -EMBER_ELIMIT;
	s->n_cpus = n;
	s->fds = mem_calloc(MEM_AGENT, (size_t)n, sizeof(*s->fds));
	s->links = mem_calloc(MEM_AGENT, (size_t)n, sizeof(*s->links));
	int attached = 0;
	for (int cpu = 0; cpu < n; cpu++) {
		s->fds[cpu] = open_cpu_clock(cpu, s->o.freq_hz);
		if (s->fds[cpu] < 0) {
			if (s->fds[cpu] == -ENODEV)
				continue; /* offline CPU */
			return s->fds[cpu];
		}
		s->links[cpu] =
			bpf_program__attach_perf_event(s->skel->progs.ember_on_sample, s->fds[cpu]);
		if (!s->links[cpu])
			return errno ? -errno : -EINVAL;
		attached++;
	}
	if (attached == 0)
		return -ENODEV;
	s->state = SAMPLER_ATTACHED;
	return 0;
}

int agent_sampler_poll(struct agent_sampler *s, int timeout_ms, agent_record_fn fn, void *ctx)
{
	if (s->state != SAMPLER_ATTACHED && s->state != SAMPLER_DRAINING)
		return -EINVAL;
	s->state = SAMPLER_DRAINING;
	s->fn = fn;
	s->ctx = ctx;
	s->delivered = 0;
	s->deadline_ns = mono_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ull +
			 POLL_BUDGET_NS;
	int rc = ring_buffer__poll(s->rb, timeout_ms);
	/* Records sent without a wakeup are not seen by the poll: take them now. */
	if (rc >= 0 || rc == -EINTR || rc == -ECANCELED)
		rc = ring_buffer__consume(s->rb);
	if (rc == -ECANCELED)
		rc = 0;
	s->fn = NULL;
	s->ctx = NULL;
	if (rc == -EINTR)
		rc = 0;
	return rc < 0 ? rc : s->delivered;
}

void agent_sampler_kmaps(struct agent_sampler *s, struct agent_kmap_fds *out)
{
	out->rows = bpf_map__fd(s->skel->maps.krows);
	out->files = bpf_map__fd(s->skel->maps.kfiles);
	out->procs = bpf_map__fd(s->skel->maps.kprocs);
}

void agent_sampler_stats(struct agent_sampler *s, uint64_t out[EMBER_STAT_N])
{
	memset(out, 0, sizeof(uint64_t) * EMBER_STAT_N);
	int n = libbpf_num_possible_cpus();
	if (n <= 0 || n > MAX_CPUS)
		return;
	uint64_t *vals = mem_calloc(MEM_AGENT, (size_t)n, sizeof(*vals));
	for (uint32_t k = 0; k < EMBER_STAT_N; k++) {
		if (bpf_map__lookup_elem(s->skel->maps.stats, &k, sizeof(k), vals,
					 sizeof(*vals) * (size_t)n, 0) != 0)
			continue;
		for (int c = 0; c < n; c++)
			out[k] += vals[c];
	}
	mem_free(vals);
}

void agent_sampler_close(struct agent_sampler *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n_cpus; i++) {
		if (s->links && s->links[i])
			bpf_link__destroy(s->links[i]);
		if (s->fds && s->fds[i] > 0)
			close(s->fds[i]);
	}
	mem_free(s->links);
	mem_free(s->fds);
	ring_buffer__free(s->rb);
	profile_bpf__destroy(s->skel);
	s->state = SAMPLER_DETACHED;
	mem_free(s);
}
