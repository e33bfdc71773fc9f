/*
 * test_unwind_kernel.c — the in-kernel unwinder on this process: a thread spins at the bottom
 * of 80 frames compiled without frame pointers, in a comparator that libc's qsort calls back,
 * while the BPF sampler (999 Hz, this process only) runs. The first samples come as stack
 * copies (nothing is loaded yet), are unwound in user space and load the process's mappings
 * and the files' rows into the maps (agent_kunwind_sync); later samples must come unwound by
 * the kernel, complete to clone, with the 80 frames and the comparator named. Needs root (the
 * test is skipped otherwise).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/err.h"
#include "test.h"

#define KDEPTH 80

static atomic_int g_stop;
static atomic_int g_tid;
static volatile uint64_t g_ksink;

__attribute__((noinline)) static int kspin_cmp(const void *a, const void *b)
{
	uint64_t x = g_ksink;
	while (!atomic_load_explicit(&g_stop, memory_order_relaxed))
		for (int i = 0; i < 1000; i++)
			x = x * 6364136223846793005ull + 1442695040888963407ull;
	g_ksink = x;
	return *(const int *)a - *(const int *)b;
}

__attribute__((noinline)) static int kdeep(int n)
{
	if (n == 0) {
		int v[2] = {2, 1};
		qsort(v, 2, sizeof(v[0]), kspin_cmp);
		return v[0];
	}
	int r = kdeep(n - 1);
	g_ksink += (uint64_t)r;
	return r + 1;
}

static void *spinner(void *arg)
{
	(void)arg;
	atomic_store(&g_tid, (int)syscall(SYS_gettid));
	return (void *)(intptr_t)kdeep(KDEPTH);
}

struct kctx {
	struct agent_procs *ps;
	struct agent_collector *coll;
	struct agent_kunwind *kun;
	int tid;
	size_t copies, traces, complete, max_user;
	struct ember_trace last; /* the spinner's deepest complete trace (the latest of those):
				  * not merely the last, which may be the thread exiting */
};

static void on_rec(void *ctx, const void *rec, size_t len)
{
	struct kctx *k = ctx;
	uint32_t kind;
	memcpy(&kind, rec, sizeof(kind));
	if (kind == EMBER_REC_SAMPLE && len >= sizeof(struct ember_sample)) {
		agent_collector_add(k->coll, rec);
		agent_kunwind_sync(k->kun, rec);
		k->copies++;
		return;
	}
	if (kind != EMBER_REC_TRACE || len < EMBER_TRACE_HDR_BYTES || len > sizeof(k->last))
		return;
	const struct ember_trace *t = rec;
	if ((int)t->tid != k->tid)
		return;
	k->traces++;
	if (t->n_user > k->max_user)
		k->max_user = t->n_user;
	if (t->stop == EMBER_USTOP_OUTERMOST)
		k->complete++;
	if (t->stop == EMBER_USTOP_OUTERMOST && t->n_user >= k->last.n_user) {
		memset(&k->last, 0, sizeof(k->last));
		memcpy(&k->last, rec, len);
	}
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TEST(unwind_kernel_self_deep)
{
	if (geteuid() != 0)
		SKIP("not root (the eBPF sampler needs root)");
	struct agent_sampler_opts so = {.freq_hz = 999, .filter_pids = true, .ignore_pid = 1};
	struct agent_sampler *s = NULL;
	int rc = agent_sampler_open(&so, &s);
	if (rc == -EPERM || rc == -EACCES)
		SKIP("the BPF sampler cannot load here");
	CHECK_OK(rc);
	CHECK_OK(agent_sampler_add_pid(s, getpid()));
	CHECK_OK(agent_sampler_attach(s));
	struct kctx k;
	memset(&k, 0, sizeof(k));
	k.ps = agent_procs_new(&(struct agent_procs_opts){.no_kernel = true});
	k.coll = agent_collector_new(k.ps, 999);
	k.kun = agent_kunwind_new(s, k.ps);
	atomic_store(&g_stop, 0);
	atomic_store(&g_tid, 0);
	pthread_t th;
	CHECK_OK(pthread_create(&th, NULL, spinner, NULL));
	while (atomic_load(&g_tid) == 0)
		usleep(1000);
	k.tid = atomic_load(&g_tid);
	double t0 = mono_s();
	/* Until 200 stacks came unwound by the kernel (the machine may be busy: up to 10 s). */
	while (mono_s() - t0 < 10 && (k.complete < 200 || mono_s() - t0 < 0.5))
		agent_sampler_poll(s, 50, on_rec, &k);
	atomic_store(&g_stop, 1);
	pthread_join(th, NULL);
	while (agent_sampler_poll(s, 0, on_rec, &k) > 0)
		;
	uint64_t bpf[EMBER_STAT_N];
	agent_sampler_stats(s, bpf);
	const struct agent_kunwind_stats *ks = agent_kunwind_stats(k.kun);
	size_t files_loaded = ks->files_loaded;
	printf("    %zu copies, %zu spinner traces (%zu complete, up to %zu user frames); "
	       "%llu files, %llu rows loaded; copies: new process %llu, file %llu, mapping %llu\n",
	       k.copies, k.traces, k.complete, k.max_user, (unsigned long long)ks->files_loaded,
	       (unsigned long long)ks->rows_loaded, (unsigned long long)bpf[EMBER_STAT_FB_NO_PROC],
	       (unsigned long long)bpf[EMBER_STAT_FB_PENDING],
	       (unsigned long long)bpf[EMBER_STAT_FB_NO_MAP]);
	/* Name the frames of the deepest complete trace (user frames after the kernel ones). */
	size_t n_deep = 0, cmp_at = SIZE_MAX, first_deep = SIZE_MAX;
	for (size_t i = 0;
	     i < k.last.n_user && k.last.n_kernel + i < EMBER_KSTACK_MAX_DEPTH + EMBER_UFRAMES_MAX;
	     i++) {
		struct agent_frame fr;
		uint64_t pc = k.last.pcs[k.last.n_kernel + i];
		agent_procs_symbolize(k.ps, getpid(), i ? pc - 1 : pc, &fr);
		if (fr.name && strcmp(fr.name, "kdeep") == 0 && n_deep++ == 0)
			first_deep = i;
		if (fr.name && strcmp(fr.name, "kspin_cmp") == 0 && cmp_at == SIZE_MAX)
			cmp_at = i;
	}
	agent_kunwind_free(k.kun);
	agent_collector_free(k.coll);
	agent_procs_free(k.ps);
	agent_sampler_close(s);
	CHECK_MSG(k.traces >= 20, "only %zu samples of the spinner unwound in the kernel",
		  k.traces);
	CHECK_MSG(k.complete * 100 >= k.traces * 99, "%zu of %zu kernel-unwound stacks complete",
		  k.complete, k.traces);
	CHECK(k.max_user >= KDEPTH + 3);
	CHECK_MSG(n_deep >= KDEPTH, "%zu kdeep frames", n_deep);
	/* The comparator first, libc's qsort frames, then kdeep. */
	CHECK_MSG(cmp_at != SIZE_MAX && first_deep > cmp_at + 1, "kspin_cmp at %zu, kdeep at %zu",
		  cmp_at, first_deep);
	CHECK(files_loaded >= 2); /* this binary and libc */
}
