/*
 * agent_gen.h — the benchmarks' generator of agent-like data (header-only: each bench .c file is
 * its own program): 200 processes in 20 services, 19 Hz x 16 CPUs of host ticks shared by the
 * processes with Zipf-like weights, 10-s profiles, Zipf-distributed stacks over 50k distinct
 * stacks of depth 2..40 sharing prefixes, 4000 functions named like Go functions.
 *
 * The stack set comes from gen_init; each profile's draws come from the calling thread's
 * random state, which gen_seed sets from (process, window) so that a profile is the same
 * whichever thread or program generates it.
 */
#ifndef EMBER_BENCH_AGENT_GEN_H
#define EMBER_BENCH_AGENT_GEN_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "profile/profile.h"

#define N_FUNCS	   4000
#define N_STACKS   50000
#define MAX_DEPTH  40
#define N_PROCS	   200
#define N_SERVICES 20
#define WINDOW_S   10
#define HOST_TICKS (19 * 16 * WINDOW_S)
#define PERIOD_NS  52631578

static _Thread_local uint64_t gen_rng = 88172645463325252ULL;

static uint64_t xr(void)
{
	gen_rng ^= gen_rng << 13;
	gen_rng ^= gen_rng >> 7;
	gen_rng ^= gen_rng << 17;
	return gen_rng;
}

/* The calling thread's draws for process `proc` in window `w` (splitmix64 of both). */
static inline void gen_seed(int proc, int64_t w)
{
	uint64_t z = ((uint64_t)w << 16 | (uint64_t)proc) + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	gen_rng = (z ^ (z >> 31)) | 1;
}

struct gen {
	uint16_t stacks[N_STACKS][MAX_DEPTH]; /* function index, root first */
	uint8_t depth[N_STACKS];
	double cdf[N_STACKS];
	int ticks[N_PROCS];
	char names[N_FUNCS][48]; /* "github.com/acme/pkg<f % 97>.Func<f>" */
	uint8_t name_len[N_FUNCS];
};

/* The calling thread's location id of each function in the profile being generated, valid
 * where loc_serial matches gen_serial (bumped by gen_new): the generator builds each frame's
 * location once per profile, as the same profile built frame by frame would dedupe them. */
static _Thread_local uint32_t gen_serial, gen_loc_serial[N_FUNCS], gen_loc[N_FUNCS];

static inline void gen_init(struct gen *g)
{
	double sum = 0, w[N_PROCS], wsum = 0;

	for (int i = 0; i < N_STACKS; i++) {
		int d;

		if (i < 200) {
			d = 5 + (int)(xr() % 11);
			for (int k = 0; k < d; k++)
				g->stacks[i][k] = (uint16_t)(xr() % N_FUNCS);
		} else {
			int from = (int)(xr() % (uint64_t)i),
			    keep = 2 + (int)(xr() % g->depth[from]);
			int add = 1 + (int)(xr() % 6);

			if (keep > g->depth[from])
				keep = g->depth[from];
			memcpy(g->stacks[i], g->stacks[from], (size_t)keep * 2);
			d = keep + add > MAX_DEPTH ? MAX_DEPTH : keep + add;
			for (int k = keep; k < d; k++)
				g->stacks[i][k] = (uint16_t)(xr() % N_FUNCS);
		}
		g->depth[i] = (uint8_t)d;
	}
	for (int f = 0; f < N_FUNCS; f++)
		g->name_len[f] = (uint8_t)snprintf(g->names[f], sizeof(g->names[f]),
						   "github.com/acme/pkg%d.Func%d", f % 97, f);
	for (int i = 0; i < N_STACKS; i++) {
		sum += 1.0 / pow(i + 1, 1.05);
		g->cdf[i] = sum;
	}
	for (int i = 0; i < N_STACKS; i++)
		g->cdf[i] /= sum;
	for (int p = 0; p < N_PROCS; p++)
		wsum += w[p] = 1.0 / pow(p + 1, 0.8);
	for (int p = 0; p < N_PROCS; p++)
		g->ticks[p] = 1 + (int)(HOST_TICKS * w[p] / wsum);
}

static inline int zipf(const struct gen *g)
{
	double u = (double)(xr() >> 11) / 9007199254740992.0;
	int lo = 0, hi = N_STACKS - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (g->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static inline struct prof *gen_new(int64_t t)
{
	struct prof *p = prof_new();

	prof_add_sample_type(p, prof_intern_cstr(p, "cpu"), prof_intern_cstr(p, "nanoseconds"));
	prof_meta(p)->period_type.type = prof_intern_cstr(p, "cpu");
	prof_meta(p)->period_type.unit = prof_intern_cstr(p, "nanoseconds");
	prof_meta(p)->period = PERIOD_NS;
	prof_meta(p)->time_ns = t;
	prof_meta(p)->duration_ns = WINDOW_S * 1000000000LL;
	gen_serial++;
	return p;
}

/* Adds process proc's ticks of one window to p, its samples in label set ls. */
static inline void gen_add(const struct gen *g, struct prof *p, int proc, uint32_t ls)
{
	uint32_t locs[MAX_DEPTH], file = prof_intern_cstr(p, "main.go");

	for (int k = 0; k < g->ticks[proc]; k++) {
		int s = (zipf(g) + (proc % N_SERVICES) * 2500) % N_STACKS;
		int64_t v = PERIOD_NS;
		uint32_t n = g->depth[s];

		for (uint32_t i = 0; i < n; i++) {
			int f = g->stacks[s][n - 1 - i];
			struct prof_function fn;
			struct prof_line line = {0};

			if (gen_loc_serial[f] == gen_serial) {
				locs[i] = gen_loc[f];
				continue;
			}
			fn = (struct prof_function){
				.name = prof_intern(p, g->names[f], g->name_len[f]),
				.filename = file};
			line.function = prof_add_function(p, &fn);
			line.line = f % 300;
			locs[i] = gen_loc[f] = prof_add_location(p, 0, 0x400000 + (uint64_t)f * 64,
								 &line, 1, false);
			gen_loc_serial[f] = gen_serial;
		}
		prof_add_sample(p, prof_add_stack(p, locs, n), ls, &v);
	}
}

/* The series labels of process proc. */
static inline void gen_labels(int proc, char svc[16], char pid[16])
{
	snprintf(pid, 16, "%d", 1000 + proc);
	snprintf(svc, 16, "svc-%02d", proc % N_SERVICES);
}

/* One process's 10-s profile of window w starting at t. */
static inline struct prof *gen_profile(const struct gen *g, int proc, int64_t w, int64_t t)
{
	struct prof *p = gen_new(t);

	gen_seed(proc, w);
	gen_add(g, p, proc, 0);
	return p;
}

/* The whole host's 10-s profile of window w, as an agent that ships one profile per host
 * sends it: every process's samples (the same draws as gen_profile) under sample labels
 * service_name and pid, which the store lifts into series labels. */
static inline struct prof *gen_host_profile(const struct gen *g, int64_t w, int64_t t)
{
	struct prof *p = gen_new(t);

	for (int proc = 0; proc < N_PROCS; proc++) {
		char svc[16], pid[16];
		struct prof_label l[2];

		gen_labels(proc, svc, pid);
		l[0] = (struct prof_label){.key = prof_intern_cstr(p, "service_name"),
					   .str = prof_intern_cstr(p, svc)};
		l[1] = (struct prof_label){.key = prof_intern_cstr(p, "pid"),
					   .str = prof_intern_cstr(p, pid)};
		gen_seed(proc, w);
		gen_add(g, p, proc, prof_add_labelset(p, l, 2));
	}
	return p;
}

#endif
