/*
 * burn.c — a CPU workload whose true distribution is known, for the agent/record tests. Built
 * by the tests with -O2 -fomit-frame-pointer. Work is handed out in fixed units round-robin
 * by weight 5:3:2 (in a random order, of random lengths) to three leaves, each reached through DEPTH >= 60 recursive frames, plus a
 * qsort whose comparator (called back from libc) does most of its work. The true shares are
 * measured, not assumed: each thread times every call with CLOCK_THREAD_CPUTIME_ID and at exit
 * the program prints "NAME SECONDS" for recurse_a/recurse_b/recurse_c/sort_work and "total"
 * (process CPU time), to stdout or to the file named by $BURN_OUT.
 * Each thread runs until it has used SECONDS of CPU time (or 10 x SECONDS of wall time on a
 * starved machine), so the number of samples does not depend on the machine's load.
 * Usage: burn SECONDS [THREADS]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define DEPTH 64

static volatile uint64_t sink;
static _Thread_local volatile int leaf_iters = 200000;

__attribute__((noinline)) static void leaf_a(void)
{
	uint64_t x = sink;
	for (int i = 0; i < leaf_iters; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	sink = x;
}

__attribute__((noinline)) static void leaf_b(void)
{
	uint64_t x = sink;
	for (int i = 0; i < leaf_iters; i++)
		x = x * 2862933555777941757ull + 3037000493ull;
	sink = x;
}

__attribute__((noinline)) static void leaf_c(void)
{
	uint64_t x = sink;
	for (int i = 0; i < leaf_iters; i++)
		x = x * 3935559000370003845ull + 2691343689449507681ull;
	sink = x;
}

/* Not a tail call: the work after the call keeps every frame on the stack. */
__attribute__((noinline)) static int recurse(int depth, void (*leaf)(void))
{
	if (depth == 0) {
		leaf();
		return 1;
	}
	int r = recurse(depth - 1, leaf);
	sink += (uint64_t)r;
	return r + 1;
}

__attribute__((noinline)) static int cmp_ints(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	/* Some work in the callback itself so it dominates qsort's own time. */
	for (int i = 0; i < 40; i++)
		x = x * 6364136223846793005ull + 1, y = y * 6364136223846793005ull + 1;
	return x < y ? -1 : x > y;
}

__attribute__((noinline)) static void sort_work(void)
{
	uint64_t v[512];
	uint64_t s = sink | 1;
	for (int i = 0; i < 512; i++)
		v[i] = s = s * 6364136223846793005ull + 1;
	qsort(v, 512, sizeof(v[0]), cmp_ints);
	sink += v[0];
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double seconds = 3;
static double spent[4];
static pthread_mutex_t spent_lock = PTHREAD_MUTEX_INITIALIZER;

static double cpu_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The units of work are dealt in a random order with random lengths, so the workload has no
 * period a fixed-rate sampler could alias with; the truth is measured per unit anyway. */
static void *run(void *arg)
{
	double mine[4] = {0, 0, 0, 0};
	void (*leaves[3])(void) = {leaf_a, leaf_b, leaf_c};
	int deck[10] = {0, 0, 0, 0, 0, 1, 1, 1, 2, 2};
	uint64_t rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)arg;
	double wall_end = now_s() + 10 * seconds;
	double cpu_end = cpu_s(CLOCK_THREAD_CPUTIME_ID) + seconds;
	while (cpu_s(CLOCK_THREAD_CPUTIME_ID) < cpu_end && now_s() < wall_end) {
		for (int i = 9; i > 0; i--) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			int j = (int)(rng % (uint64_t)(i + 1)), t = deck[i];
			deck[i] = deck[j];
			deck[j] = t;
		}
		for (int i = 0; i < 10; i++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			leaf_iters = 100000 + (int)(rng % 200000);
			double t = cpu_s(CLOCK_THREAD_CPUTIME_ID);
			recurse(DEPTH, leaves[deck[i]]);
			mine[deck[i]] += cpu_s(CLOCK_THREAD_CPUTIME_ID) - t;
		}
		double t = cpu_s(CLOCK_THREAD_CPUTIME_ID);
		sort_work();
		mine[3] += cpu_s(CLOCK_THREAD_CPUTIME_ID) - t;
	}
	pthread_mutex_lock(&spent_lock);
	for (int i = 0; i < 4; i++)
		spent[i] += mine[i];
	pthread_mutex_unlock(&spent_lock);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		seconds = strtod(argv[1], NULL);
	int threads = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 1;
	pthread_t t[16];
	if (threads < 1)
		threads = 1;
	if (threads > 16)
		threads = 16;
	for (int i = 1; i < threads; i++)
		pthread_create(&t[i], NULL, run, (void *)(uintptr_t)i);
	run(NULL);
	for (int i = 1; i < threads; i++)
		pthread_join(t[i], NULL);
	const char *path = getenv("BURN_OUT");
	FILE *f = path ? fopen(path, "w") : stdout;
	if (!f)
		return 1;
	fprintf(f, "recurse_a %.6f\nrecurse_b %.6f\nrecurse_c %.6f\nsort_work %.6f\n", spent[0],
		spent[1], spent[2], spent[3]);
	fprintf(f, "total %.6f\nsink %llu\n", cpu_s(CLOCK_PROCESS_CPUTIME_ID),
		(unsigned long long)sink);
	return f == stdout ? 0 : fclose(f) != 0;
}
