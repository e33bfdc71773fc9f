/*
 * collect.c — counts identical stacks and turns them into profiles. Stacks arrive either unwound
 * by the kernel (struct ember_trace: kernel then user PCs) or as stack copies unwound here
 * (agent_procs_unwind). A stack key is the bytes (pid, comm, number of user and kernel frames,
 * the PCs) interned in a strtab, so a stack is a dense id and its count an array slot (why not a
 * BPF count map: docs/internals/agent.md). User frames are named when first seen, while the
 * process and its maps still exist (a memo keyed by pid, exec generation and PC), so a process
 * that exits or execs before the profile is built keeps its names; with DWARF, a memoized frame
 * keeps its inline frames too, and its location gets one line per frame, innermost first, each
 * function with its source file. Building a profile emits locations leaf first: kernel frames
 * (named "sym_[k]", mapping [kernel.kallsyms]) then user frames. Owns its strtabs, memo and
 * counts; borrows the agent_procs.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/hmap.h"
#include "base/mem.h"
#include "base/strtab.h"
#include "symb/symb.h"

struct stack_hdr {
	uint32_t pid;
	uint16_t n_user;
	uint16_t n_kernel;
	uint32_t gen;  /* exec generation of pid */
	uint32_t kind; /* STACK_CPU or STACK_OFFCPU (also keeps the PCs 8-byte aligned) */
	char comm[EMBER_COMM_LEN];
};

/* A user frame named at sampling time. Strings are ids in the collector's names strtab. */
struct frame_memo {
	uint32_t name; /* raw symbol name, 0 = unknown */
	uint32_t path; /* mapping path, 0 = no mapping */
	uint32_t build_id;
	uint32_t first_line; /* its source lines: memo_lines[first_line .. + n_lines) */
	uint32_t n_lines;    /* 0 without DWARF */
	uint32_t pad;
	uint64_t map_start, map_end, map_offset;
};

/* One source line of a memoized frame (struct agent_frame_line, strings as ids). */
struct memo_line {
	uint32_t function; /* raw name, 0 = unknown */
	uint32_t file;	   /* 0 = unknown */
	uint32_t line;
};

#define STACK_CPU    0 /* counts[id]: samples */
#define STACK_OFFCPU 1 /* counts[id]: nanoseconds blocked */

/* An off-CPU stack sent as its thread blocked; counted with the time when the thread's wake
 * arrives. Kept across flushes (a thread may block for minutes). */
struct pending {
	uint32_t pid, tid;
	uint16_t nu, nk;
	char comm[EMBER_COMM_LEN];
	uint64_t time_ns;
	uint64_t *pcs; /* nu user PCs then nk kernel PCs */
};

#define PENDING_MAX	   32768
#define PENDING_MAX_AGE_NS (3600 * 1000000000ull)

struct agent_collector {
	struct agent_procs *ps;
	int freq_hz;
	bool off_cpu;	       /* profiles get the off_cpu/nanoseconds sample type */
	struct strtab *stacks; /* id -> stack key bytes; id 0 is "" (unused) */
	uint64_t *counts;      /* by stack id */
	size_t cap_counts;
	struct hmap pid_set;
	struct hmap gens;     /* pid -> exec generation */
	struct hmap procinfo; /* pid << 32 | gen -> (exe id << 32 | cgroup id) in names */
	struct strtab *names; /* memo strings */
	struct hmap memo;     /* hash(pid, gen, pc, leaf) -> index into frames */
	struct frame_memo *frames;
	size_t n_frames, cap_frames;
	struct memo_line *memo_lines;
	size_t n_memo_lines, cap_memo_lines;
	int *pids;
	size_t n_pids, cap_pids;
	struct pending *pending; /* off-CPU stacks waiting for their thread's wake */
	size_t n_pending, cap_pending;
	struct hmap pending_by_tid; /* tid -> index in pending */
	struct agent_collect_stats st;
};

struct agent_collector *agent_collector_new(struct agent_procs *ps, int freq_hz)
{
	struct agent_collector *c = mem_calloc(MEM_AGENT, 1, sizeof(*c));
	c->ps = ps;
	c->freq_hz = freq_hz > 0 ? freq_hz : 19;
	c->stacks = strtab_new(MEM_AGENT);
	c->names = strtab_new(MEM_AGENT);
	hmap_init(&c->pid_set, MEM_AGENT);
	hmap_init(&c->gens, MEM_AGENT);
	hmap_init(&c->procinfo, MEM_AGENT);
	hmap_init(&c->memo, MEM_AGENT);
	hmap_init(&c->pending_by_tid, MEM_AGENT);
	return c;
}

void agent_collector_free(struct agent_collector *c)
{
	if (!c)
		return;
	strtab_free(c->stacks);
	strtab_free(c->names);
	mem_free(c->counts);
	mem_free(c->pids);
	mem_free(c->frames);
	mem_free(c->memo_lines);
	for (size_t i = 0; i < c->n_pending; i++)
		mem_free(c->pending[i].pcs);
	mem_free(c->pending);
	hmap_fini(&c->pending_by_tid);
	hmap_fini(&c->pid_set);
	hmap_fini(&c->gens);
	hmap_fini(&c->procinfo);
	hmap_fini(&c->memo);
	mem_free(c);
}

static void pending_expire(struct agent_collector *c);

void agent_collector_reset(struct agent_collector *c)
{
	pending_expire(c);
	strtab_free(c->stacks);
	c->stacks = strtab_new(MEM_AGENT);
	if (c->counts)
		memset(c->counts, 0, c->cap_counts * sizeof(*c->counts));
	hmap_clear(&c->pid_set);
	c->n_pids = 0;
	strtab_free(c->names);
	c->names = strtab_new(MEM_AGENT);
	hmap_clear(&c->memo);
	hmap_clear(&c->gens);
	hmap_clear(&c->procinfo);
	c->n_frames = 0;
	c->n_memo_lines = 0;
}

void agent_collector_exec(struct agent_collector *c, int pid)
{
	bool found;
	uint64_t *g = hmap_upsert(&c->gens, (uint64_t)pid, 0, &found);
	(*g)++;
}

static uint64_t memo_key(uint32_t pid, uint32_t gen, uint64_t pc, bool leaf)
{
	uint64_t k = hash_u64(pc ^ hash_u64(((uint64_t)pid << 32 | gen) * 2 + leaf));
	return k == HMAP_EMPTY ? 0 : k;
}

static uint32_t memo_str(struct agent_collector *c, const char *s)
{
	return s ? strtab_intern_cstr(c->names, s) : 0;
}

/* Names the user frame now (once per pid, generation, pc). */
static void memo_frame(struct agent_collector *c, uint32_t pid, uint32_t gen, uint64_t pc,
		       bool leaf)
{
	bool found;
	uint64_t *slot = hmap_upsert(&c->memo, memo_key(pid, gen, pc, leaf), 0, &found);
	if (found)
		return;
	*slot = c->n_frames;
	struct agent_frame fr;
	agent_procs_symbolize(c->ps, (int)pid, leaf ? pc : pc - 1, &fr);
	mem_grow(MEM_AGENT, (void **)&c->frames, &c->cap_frames, c->n_frames + 1,
		 sizeof(*c->frames));
	struct frame_memo *m = &c->frames[c->n_frames++];
	memset(m, 0, sizeof(*m));
	m->name = memo_str(c, fr.name);
	m->path = memo_str(c, fr.path);
	m->build_id = memo_str(c, fr.build_id);
	m->map_start = fr.map_start;
	m->map_end = fr.map_end;
	m->map_offset = fr.map_offset;
	if (fr.n_lines == 0 || c->n_memo_lines > UINT32_MAX - AGENT_FRAME_MAX_LINES)
		return;
	size_t nl = EMBER_MIN(fr.n_lines, (size_t)AGENT_FRAME_MAX_LINES);
	mem_grow(MEM_AGENT, (void **)&c->memo_lines, &c->cap_memo_lines, c->n_memo_lines + nl,
		 sizeof(*c->memo_lines));
	m->first_line = (uint32_t)c->n_memo_lines;
	m->n_lines = (uint32_t)nl;
	for (size_t i = 0; i < nl; i++)
		c->memo_lines[c->n_memo_lines++] =
			(struct memo_line){.function = memo_str(c, fr.lines[i].function),
					   .file = memo_str(c, fr.lines[i].file),
					   .line = fr.lines[i].line};
}

const struct agent_collect_stats *agent_collector_stats(const struct agent_collector *c)
{
	return &c->st;
}

size_t agent_collector_pids(struct agent_collector *c, const int **pids)
{
	*pids = c->pids;
	return c->n_pids;
}

void agent_collector_set_off_cpu(struct agent_collector *c, bool on)
{
	c->off_cpu = on;
}

/* Names the nu user frames at pcs (leaf first) of pid now, while its maps are there;
 * returns pid's exec generation. */
static uint32_t name_user_frames(struct agent_collector *c, uint32_t pid, const uint64_t *pcs,
				 size_t nu)
{
	uint64_t gen = 0;
	hmap_get(&c->gens, pid, &gen);
	for (size_t i = 0; i < nu; i++)
		memo_frame(c, pid, (uint32_t)gen, pcs[i], i == 0);
	return (uint32_t)gen;
}

/* Counts one stack (add: 1 sample, or the nanoseconds an off-CPU stack was blocked): key =
 * header, then nu user PCs (leaf first, already in place after the header), then nk kernel
 * PCs. */
static void count_stack(struct agent_collector *c, uint64_t *key, uint32_t pid, const char *comm,
			size_t nu, size_t nk, uint32_t kind, uint64_t add)
{
	struct stack_hdr h;
	memset(&h, 0, sizeof(h));
	h.pid = pid;
	h.kind = kind;
	memcpy(h.comm, comm, sizeof(h.comm));
	h.comm[EMBER_COMM_LEN - 1] = 0;
	if (h.comm[0] == 0)
		h.comm[0] = '?';
	h.n_user = (uint16_t)nu;
	h.n_kernel = (uint16_t)nk;
	h.gen = name_user_frames(c, pid, key + sizeof(h) / 8, nu);
	uint64_t pg = (uint64_t)h.pid << 32 | h.gen;
	if (!hmap_get(&c->procinfo, pg, NULL)) {
		uint64_t exe = memo_str(c, agent_procs_exe(c->ps, (int)h.pid));
		uint64_t cg = memo_str(c, agent_procs_cgroup(c->ps, (int)h.pid));
		hmap_put(&c->procinfo, pg, exe << 32 | cg);
	}
	memcpy(key, &h, sizeof(h));
	uint32_t id = strtab_intern(c->stacks, key, sizeof(h) + 8 * (nu + nk));
	if (id >= c->cap_counts) {
		size_t old = c->cap_counts;
		mem_grow(MEM_AGENT, (void **)&c->counts, &c->cap_counts, (size_t)id + 1,
			 sizeof(*c->counts));
		memset(c->counts + old, 0, (c->cap_counts - old) * sizeof(*c->counts));
	}
	c->counts[id] += add;
	bool found;
	hmap_upsert(&c->pid_set, pid, 1, &found);
	if (!found) {
		mem_grow(MEM_AGENT, (void **)&c->pids, &c->cap_pids, c->n_pids + 1,
			 sizeof(*c->pids));
		c->pids[c->n_pids++] = (int)pid;
	}
}

#define KEY_WORDS \
	((sizeof(struct stack_hdr) + 8 * (UNWIND_MAX_FRAMES + EMBER_KSTACK_MAX_DEPTH)) / 8)
_Static_assert(sizeof(struct stack_hdr) % 8 == 0, "stack_hdr keeps PCs aligned");
_Static_assert(EMBER_UFRAMES_MAX <= UNWIND_MAX_FRAMES, "kernel-unwound stacks fit a key");

#define PENDING_NONE UINT64_MAX /* pending_by_tid has no delete: this value means none */

static void pending_drop(struct agent_collector *c, size_t i)
{
	hmap_put(&c->pending_by_tid, c->pending[i].tid, PENDING_NONE);
	mem_free(c->pending[i].pcs);
	c->pending[i] = c->pending[--c->n_pending];
	if (i < c->n_pending)
		hmap_put(&c->pending_by_tid, c->pending[i].tid, i);
}

/* Keeps an off-CPU stack (user PCs then kernel PCs at pcs) until its thread's wake; names its
 * user frames now, while the process's maps are there. */
static void pending_add(struct agent_collector *c, uint32_t pid, uint32_t tid, const char *comm,
			uint64_t time_ns, const uint64_t *pcs, size_t nu, size_t nk)
{
	uint64_t at;

	if (hmap_get(&c->pending_by_tid, tid, &at) && at < c->n_pending)
		pending_drop(c, (size_t)at); /* its wake was lost */
	if (c->n_pending >= PENDING_MAX) {
		c->st.off_cpu_dropped++;
		return;
	}
	/* The kernel stack starts in the tracepoint that took it (the BPF program, the trace
	 * runner): from the scheduler down is what the thread blocked on. */
	size_t skip = 0;
	while (skip < nk) {
		const char *module, *name = agent_procs_ksym(c->ps, pcs[nu + skip], &module);
		if (!name || (strncmp(name, "bpf_", 4) && strncmp(name, "__bpf_", 6) &&
			      strncmp(name, "__traceiter_", 12) && strncmp(name, "trace_", 6)))
			break;
		skip++;
	}
	name_user_frames(c, pid, pcs, nu);
	mem_grow(MEM_AGENT, (void **)&c->pending, &c->cap_pending, c->n_pending + 1,
		 sizeof(*c->pending));
	struct pending *pe = &c->pending[c->n_pending];
	pe->pid = pid;
	pe->tid = tid;
	pe->nu = (uint16_t)nu;
	pe->nk = (uint16_t)(nk - skip);
	memcpy(pe->comm, comm, sizeof(pe->comm));
	pe->time_ns = time_ns;
	pe->pcs = mem_alloc(MEM_AGENT, (nu + nk ? nu + nk : 1) * 8);
	memcpy(pe->pcs, pcs, nu * 8);
	memcpy(pe->pcs + nu, pcs + nu + skip, (nk - skip) * 8);
	hmap_put(&c->pending_by_tid, tid, c->n_pending++);
}

void agent_collector_wake(struct agent_collector *c, const struct ember_wake *w)
{
	uint64_t key[KEY_WORDS], at;

	if (!hmap_get(&c->pending_by_tid, w->tid, &at) || at >= c->n_pending)
		return;
	struct pending *pe = &c->pending[at];
	if (pe->pid == w->pid && w->value_ns) {
		memcpy(key + sizeof(struct stack_hdr) / 8, pe->pcs, (pe->nu + pe->nk) * 8);
		count_stack(c, key, pe->pid, pe->comm, pe->nu, pe->nk, STACK_OFFCPU, w->value_ns);
		c->st.off_cpu_ns += w->value_ns;
	}
	pending_drop(c, (size_t)at);
}

/* Drops off-CPU stacks whose wake never came (an hour: the thread is gone) and rebuilds the
 * tid index without the threads seen since. */
static void pending_expire(struct agent_collector *c)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	for (size_t i = 0; i < c->n_pending;) {
		if (now_ns > c->pending[i].time_ns + PENDING_MAX_AGE_NS)
			pending_drop(c, i);
		else
			i++;
	}
	hmap_clear(&c->pending_by_tid);
	for (size_t i = 0; i < c->n_pending; i++)
		hmap_put(&c->pending_by_tid, c->pending[i].tid, i);
}

/* Where a stack's figures go: a CPU sample counts in the collector's stats; an off-CPU stack
 * counts as one and its unwinding figures (which are of CPU samples) go to *scratch. */
static struct agent_collect_stats *stats_for(struct agent_collector *c, bool off,
					     struct agent_collect_stats *scratch)
{
	if (!off) {
		c->st.samples++;
		return &c->st;
	}
	c->st.off_cpu++;
	memset(scratch, 0, sizeof(*scratch));
	return scratch;
}

/* Counts a CPU sample's stack, or keeps an off-CPU one until its thread's wake. */
static void take_stack(struct agent_collector *c, uint64_t *key, bool off, uint32_t pid,
		       uint32_t tid, const char *comm, uint64_t time_ns, size_t nu, size_t nk)
{
	if (!off)
		count_stack(c, key, pid, comm, nu, nk, STACK_CPU, 1);
	else if (c->off_cpu)
		pending_add(c, pid, tid, comm, time_ns, key + sizeof(struct stack_hdr) / 8, nu, nk);
}

void agent_collector_add(struct agent_collector *c, const struct ember_sample *s)
{
	uint64_t key[KEY_WORDS];
	uint64_t *pcs = key + sizeof(struct stack_hdr) / 8;
	bool off = (s->flags & EMBER_SAMPLE_OFFCPU) != 0;
	struct agent_collect_stats scratch, *st = stats_for(c, off, &scratch);
	size_t nk = EMBER_MIN((size_t)s->kstack_bytes / 8, (size_t)EMBER_KSTACK_MAX_DEPTH);
	size_t nu = 0;
	if (s->flags & EMBER_SAMPLE_KTHREAD) {
		st->kernel_only++;
	} else if (!(s->flags & EMBER_SAMPLE_USER_REGS)) {
		st->no_user_regs++;
	} else {
		struct unwind_result res;
		agent_procs_unwind(c->ps, s, pcs, UNWIND_MAX_FRAMES, &res);
		nu = res.n;
		st->stop[res.stop]++;
		st->user_frames += nu;
	}
	memcpy(pcs + nu, s->kstack, nk * 8);
	take_stack(c, key, off, s->pid, s->tid, s->comm, s->time_ns, nu, nk);
}

void agent_collector_add_trace(struct agent_collector *c, const struct ember_trace *t, size_t len)
{
	uint64_t key[KEY_WORDS];
	uint64_t *pcs = key + sizeof(struct stack_hdr) / 8;
	size_t nk = EMBER_MIN((size_t)t->n_kernel, (size_t)EMBER_KSTACK_MAX_DEPTH);
	size_t nu = EMBER_MIN((size_t)t->n_user, (size_t)EMBER_UFRAMES_MAX);
	if (len < EMBER_TRACE_HDR_BYTES || (len - EMBER_TRACE_HDR_BYTES) / 8 < nk + nu)
		return; /* a short record: not ours */
	bool off = (t->flags & EMBER_SAMPLE_OFFCPU) != 0;
	struct agent_collect_stats scratch, *st = stats_for(c, off, &scratch);
	if (!(t->flags & EMBER_SAMPLE_USER_REGS)) {
		st->no_user_regs++;
		nu = 0;
	} else {
		st->kernel_unwound++;
		st->stop[t->stop < UNWIND_STOP_N ? t->stop : UNWIND_STOP_UNSUPPORTED]++;
		st->user_frames += nu;
	}
	/* The record holds kernel frames then user frames; the key user then kernel. */
	memcpy(pcs, t->pcs + nk, nu * 8);
	memcpy(pcs + nu, t->pcs, nk * 8);
	take_stack(c, key, off, t->pid, t->tid, t->comm, t->time_ns, nu, nk);
}

static uint32_t kernel_location(struct prof *p, uint32_t kmap, struct agent_procs *ps,
				uint64_t addr, bool leaf)
{
	const char *module;
	uint64_t at = leaf ? addr : addr - 1;
	const char *name = agent_procs_ksym(ps, at, &module);
	char buf[600];
	if (name)
		snprintf(buf, sizeof(buf), "%s_[k]", name);
	else
		snprintf(buf, sizeof(buf), "0x%llx_[k]", (unsigned long long)addr);
	struct prof_function fn = {.name = prof_intern_cstr(p, buf)};
	fn.system_name = fn.name;
	struct prof_line line = {.function = prof_add_function(p, &fn)};
	return prof_add_location(p, kmap, at, &line, 1, false);
}

/* The function of a raw name (and source file) in the names strtab, demangled; "??" when
 * DWARF has a line but no name. */
static uint32_t user_function(struct prof *p, struct agent_collector *c, uint32_t name,
			      uint32_t file)
{
	const char *raw = name ? strtab_get(c->names, name, NULL) : "??";
	char dem[1024];
	struct prof_function fn = {.system_name = prof_intern_cstr(p, raw)};
	fn.name = symb_demangle(raw, dem, sizeof(dem)) ? prof_intern_cstr(p, dem) : fn.system_name;
	if (file)
		fn.filename = prof_intern_cstr(p, strtab_get(c->names, file, NULL));
	return prof_add_function(p, &fn);
}

static uint32_t user_location(struct prof *p, struct agent_collector *c, const struct stack_hdr *h,
			      uint64_t pc, bool leaf)
{
	uint64_t at = leaf ? pc : pc - 1, idx;
	if (!hmap_get(&c->memo, memo_key(h->pid, h->gen, pc, leaf), &idx) || idx >= c->n_frames)
		return prof_add_location(p, 0, at, NULL, 0, false);
	const struct frame_memo *fm = &c->frames[idx];
	uint32_t map = 0;
	if (fm->path) {
		struct prof_mapping m = {
			.memory_start = fm->map_start,
			.memory_limit = fm->map_end,
			.file_offset = fm->map_offset,
			.filename = prof_intern_cstr(p, strtab_get(c->names, fm->path, NULL)),
			.build_id = prof_intern_cstr(p, strtab_get(c->names, fm->build_id, NULL)),
			.has_functions = true,
		};
		map = prof_add_mapping(p, &m);
	}
	if (fm->n_lines > 0 && fm->first_line + (size_t)fm->n_lines <= c->n_memo_lines) {
		/* Inline frames, innermost first as pprof wants them; the outermost is named by
		 * the symbol table when it can be (the name the frame has without DWARF). */
		struct prof_line lines[AGENT_FRAME_MAX_LINES];
		size_t n = EMBER_MIN((size_t)fm->n_lines, (size_t)AGENT_FRAME_MAX_LINES);
		for (size_t i = 0; i < n; i++) {
			const struct memo_line *ml = &c->memo_lines[fm->first_line + i];
			uint32_t fname = i == n - 1 && fm->name ? fm->name : ml->function;
			lines[i] = (struct prof_line){
				.function = user_function(p, c, fname, ml->file), .line = ml->line};
		}
		return prof_add_location(p, map, at, lines, (uint32_t)n, false);
	}
	if (!fm->name)
		return prof_add_location(p, map, at, NULL, 0, false);
	struct prof_line line = {.function = user_function(p, c, fm->name, 0)};
	return prof_add_location(p, map, at, &line, 1, false);
}

int agent_collector_build(struct agent_collector *c, int pid, struct prof **out)
{
	struct prof *p = prof_new();
	prof_add_sample_type(p, prof_intern_cstr(p, "samples"), prof_intern_cstr(p, "count"));
	prof_add_sample_type(p, prof_intern_cstr(p, "cpu"), prof_intern_cstr(p, "nanoseconds"));
	if (c->off_cpu)
		prof_add_sample_type(p, prof_intern_cstr(p, "off_cpu"),
				     prof_intern_cstr(p, "nanoseconds"));
	struct prof_meta *meta = prof_meta(p);
	meta->period_type.type = prof_intern_cstr(p, "cpu");
	meta->period_type.unit = prof_intern_cstr(p, "nanoseconds");
	meta->period = 1000000000LL / c->freq_hz;
	struct prof_mapping km = {.memory_start = 0xffff800000000000ull,
				  .memory_limit = UINT64_MAX,
				  .filename = prof_intern_cstr(p, "[kernel.kallsyms]"),
				  .has_functions = true};
	uint32_t kmap = 0;
	uint32_t k_pid = prof_intern_cstr(p, "pid"), k_comm = prof_intern_cstr(p, "comm");
	uint32_t k_exe = prof_intern_cstr(p, "executable");
	uint32_t k_cgroup = prof_intern_cstr(p, "cgroup");
	uint32_t locs[UNWIND_MAX_FRAMES + EMBER_KSTACK_MAX_DEPTH];
	uint32_t n = strtab_count(c->stacks);
	for (uint32_t id = 1; id < n && id < c->cap_counts; id++) {
		if (c->counts[id] == 0)
			continue;
		size_t len;
		const char *key = strtab_get(c->stacks, id, &len);
		struct stack_hdr h;
		if (len < sizeof(h))
			continue;
		memcpy(&h, key, sizeof(h));
		if (pid >= 0 && h.pid != (uint32_t)pid)
			continue;
		size_t nl = 0;
		const uint8_t *pcs = (const uint8_t *)key + sizeof(h);
		for (size_t i = 0; i < h.n_kernel; i++) {
			uint64_t a;
			memcpy(&a, pcs + 8 * (h.n_user + i), 8);
			if (!kmap)
				kmap = prof_add_mapping(p, &km);
			locs[nl++] = kernel_location(p, kmap, c->ps, a, i == 0);
		}
		for (size_t i = 0; i < h.n_user; i++) {
			uint64_t a;
			memcpy(&a, pcs + 8 * i, 8);
			locs[nl++] = user_location(p, c, &h, a, i == 0);
		}
		struct prof_label labels[4] = {
			{.key = k_pid, .num = h.pid},
			{.key = k_comm,
			 .str = prof_intern(p, h.comm, strnlen(h.comm, sizeof(h.comm)))},
		};
		size_t n_labels = 2;
		uint64_t info;
		if (hmap_get(&c->procinfo, (uint64_t)h.pid << 32 | h.gen, &info)) {
			uint32_t exe = (uint32_t)(info >> 32), cg = (uint32_t)info;
			if (exe)
				labels[n_labels++] = (struct prof_label){
					.key = k_exe,
					.str = prof_intern_cstr(p,
								strtab_get(c->names, exe, NULL))};
			if (cg)
				labels[n_labels++] = (struct prof_label){
					.key = k_cgroup,
					.str = prof_intern_cstr(p, strtab_get(c->names, cg, NULL))};
		}
		int64_t values[3] = {(int64_t)c->counts[id], (int64_t)c->counts[id] * meta->period,
				     0};
		if (h.kind == STACK_OFFCPU)
			values[0] = values[1] = 0, values[2] = (int64_t)c->counts[id];
		uint32_t node = prof_add_stack(p, locs, nl);
		prof_add_sample(p, node, prof_add_labelset(p, labels, n_labels), values);
		meta = prof_meta(p);
	}
	*out = p;
	return 0;
}

uint32_t agent_take_record(struct agent_procs *ps, struct agent_collector *c,
			   struct agent_kunwind *k, const void *rec, size_t len)
{
	uint32_t kind;

	if (len < sizeof(kind))
		return 0;
	memcpy(&kind, rec, sizeof(kind));
	if (kind == EMBER_REC_TRACE && len >= EMBER_TRACE_HDR_BYTES) {
		agent_collector_add_trace(c, rec, len);
	} else if (kind == EMBER_REC_SAMPLE && len >= sizeof(struct ember_sample)) {
		agent_collector_add(c, rec);
		if (k)
			agent_kunwind_sync(k, rec);
	} else if (kind == EMBER_REC_WAKE && len >= sizeof(struct ember_wake)) {
		agent_collector_wake(c, rec);
	} else if (kind == EMBER_REC_EXEC && len >= sizeof(struct ember_proc_event)) {
		int pid = (int)((const struct ember_proc_event *)rec)->pid;
		agent_procs_forget(ps, pid);
		agent_collector_exec(c, pid);
		if (k)
			agent_kunwind_forget(k, pid);
	} else if (kind != EMBER_REC_EXIT || len < sizeof(struct ember_proc_event)) {
		return 0;
	}
	return kind;
}
