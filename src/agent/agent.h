/*
 * agent.h — the sampler and what turns its samples into profiles, shared by `ember record`
 * and `ember agent`.
 *
 *   agent_sampler  the BPF side: loads profile.bpf.c, opens one cpu-clock perf event per CPU,
 *                  and hands each ring-buffer record to a callback. Lifecycle (docs/internals/
 *                  agent.md): OPEN -> CONFIGURED -> LOADED (agent_sampler_open) -> ATTACHED
 *                  (agent_sampler_attach) -> DRAINING (agent_sampler_poll) -> DETACHED
 *                  (agent_sampler_close).
 *   agent_procs    process tracking: /proc/PID/maps per process, ELF symbols and unwind tables
 *                  per file (bounded caches), kernel symbols; unwinds and names frames.
 *   agent_kunwind  fills the BPF maps of the in-kernel unwinder (rows, files, mappings) from
 *                  what agent_procs knows, after each stack the kernel could not unwind.
 *   agent_collector counts identical stacks (a user-space hash) and builds struct prof.
 *
 * Nothing here prints; errors are 0/-errno/-EMBER_E* and the CLI reports them.
 */
#ifndef EMBER_AGENT_AGENT_H
#define EMBER_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/unwind.h"
#include "bpf/ember_bpf_abi.h"
#include "profile/profile.h"

/* ---- sampler ----------------------------------------------------------------------------- */

struct agent_sampler;

struct agent_sampler_opts {
	int freq_hz;		/* samples per second per CPU (default 19) */
	bool filter_pids;	/* sample only pids added with agent_sampler_add_pid (+ children) */
	bool no_kernel;		/* skip kernel stacks */
	uint32_t ignore_pid;	/* never sampled (the agent itself); 0 = getpid() */
	bool user_unwind;	/* always copy the stack to user space (no in-kernel unwinding) */
	size_t ring_bytes;	/* ring buffer size, a power of two >= 1 MiB (default 8 MiB); it
				counts twice in the RSS (the data pages are mapped twice) */
	bool off_cpu;		/* also record where threads block, and for how long */
	uint32_t off_cpu_every; /* record one block in this many (time scaled up); 0 = 1 */
};

/* The in-kernel unwinder's maps (ember_bpf_abi.h). */
struct agent_kmap_fds {
	int rows, files, procs;
};

/* Called for every ring-buffer record (struct ember_sample or ember_proc_event, by kind). */
typedef void (*agent_record_fn)(void *ctx, const void *rec, size_t len);

/* Opens, configures and loads the BPF program. -EPERM/-EACCES without privilege. */
int agent_sampler_open(const struct agent_sampler_opts *o, struct agent_sampler **out);
int agent_sampler_add_pid(struct agent_sampler *s, int pid);
/* Opens the perf events on every online CPU and attaches the programs. */
int agent_sampler_attach(struct agent_sampler *s);
/* Waits up to timeout_ms for records and delivers them; returns how many, or -errno. */
int agent_sampler_poll(struct agent_sampler *s, int timeout_ms, agent_record_fn fn, void *ctx);
void agent_sampler_kmaps(struct agent_sampler *s, struct agent_kmap_fds *out);
/* Sums of the BPF counters (EMBER_STAT_*). */
void agent_sampler_stats(struct agent_sampler *s, uint64_t out[EMBER_STAT_N]);
void agent_sampler_close(struct agent_sampler *s);

/* ---- process tracking and symbolization -------------------------------------------------- */

struct agent_procs;

struct agent_procs_opts {
	size_t max_file_bytes;	/* ELF symbol cache bound (default 32 MiB) */
	size_t max_table_bytes; /* unwind table cache bound (default 32 MiB) */
	size_t max_procs;	/* tracked processes (default 4096) */
	bool no_kernel;		/* do not load kallsyms */
};

struct agent_procs *agent_procs_new(const struct agent_procs_opts *o);
void agent_procs_free(struct agent_procs *ps);
/* Drops what is known about pid (exec, exit). */
void agent_procs_forget(struct agent_procs *ps, int pid);
/* Unwinds a sample's user stack into pcs. */
void agent_procs_unwind(struct agent_procs *ps, const struct ember_sample *s, uint64_t *pcs,
			size_t max_pcs, struct unwind_result *res);

/* Inline frames kept per PC (the innermost ones and the outermost past that). */
#define AGENT_FRAME_MAX_LINES 8

/* One source frame of a PC: a function (raw name) and the line reached in it. */
struct agent_frame_line {
	const char *function; /* NULL when DWARF does not name it */
	const char *file;     /* NULL when unknown */
	uint32_t line;	      /* 0 when unknown */
};

/* A named (or unnamed) user frame. Strings are borrowed until the next call on ps. With DWARF,
 * lines[0] is the innermost (inlined) function at the PC, lines[n_lines - 1] the function
 * holding it (named `name` when the symbol table has it); without, n_lines is 0. */
struct agent_frame {
	const char *name;     /* raw symbol name, NULL when unknown */
	const char *path;     /* mapping path, NULL when no mapping */
	const char *build_id; /* hex, "" when none */
	uint64_t map_start, map_end, map_offset;
	size_t n_lines;
	struct agent_frame_line lines[AGENT_FRAME_MAX_LINES];
};

void agent_procs_symbolize(struct agent_procs *ps, int pid, uint64_t pc, struct agent_frame *out);
/* Reads /proc/kallsyms now (once; ~75 ms of CPU on a 120k-symbol kernel) rather than at the
 * first kernel frame named. */
void agent_procs_load_kernel_symbols(struct agent_procs *ps);
/* Kernel symbol of addr (NULL when unknown); *module NULL for vmlinux. */
const char *agent_procs_ksym(struct agent_procs *ps, uint64_t addr, const char **module);
/* The pid's executable path and cgroup path (empty strings when unknown). */
const char *agent_procs_exe(struct agent_procs *ps, int pid);
const char *agent_procs_cgroup(struct agent_procs *ps, int pid);

/* What the in-kernel unwinder needs of one executable mapping, from the caches only (nothing
 * is opened or built here: what is missing is marked and comes with a later user-space walk). */
struct agent_kmapping {
	uint64_t start, end, bias;
	uint64_t build_key;		  /* 0: no file (anonymous, vdso): frame pointers */
	const struct unwind_table *table; /* rows, when built */
	bool file_pending;		  /* the ELF is not open yet */
	bool no_table;			  /* the file has no CFI (final) */
};

/* Where tables come from before the cache is asked: the in-kernel unwinder's rows, mapped
 * read-only (NULL: not there). Tables found there are neither built nor cached. */
typedef const struct unwind_table *(*agent_row_source_fn)(void *ctx, uint64_t build_key);
void agent_procs_set_row_source(struct agent_procs *ps, agent_row_source_fn fn, void *ctx);
/* Frees the cached table of build_key: the kernel holds its rows now. */
void agent_procs_release_table(struct agent_procs *ps, uint64_t build_key);
/* Reads what the in-kernel unwinder needs for pc in pid: the maps (re-read when pc is in none
 * and they predate sample_ns), the file's ELF and its unwind table. */
void agent_procs_prepare(struct agent_procs *ps, int pid, uint64_t pc, uint64_t sample_ns);
/* The pid's executable mappings (sorted by start), at most max; *gen changes whenever they
 * are re-read. 0 when the pid is not known. */
size_t agent_procs_kmappings(struct agent_procs *ps, int pid, struct agent_kmapping *out,
			     size_t max, uint64_t *gen);

/* Children, grandchildren... of pid from /proc (for `record -p`). Calls fn for each. */
int agent_proc_descendants(int pid, void (*fn)(void *ctx, int pid), void *ctx);

/* ---- in-kernel unwinding tables --------------------------------------------------------- */

struct agent_kunwind;

struct agent_kunwind_stats {
	uint64_t files_loaded, rows_loaded, procs_pushed, resets, errors;
};

struct agent_kunwind *agent_kunwind_new(struct agent_sampler *s, struct agent_procs *ps);
void agent_kunwind_free(struct agent_kunwind *k);
/* Loads what is now known of the sample's process (its mappings, the rows of its files walked
 * so far and of the one the kernel stopped at) into the maps: called after a stack the kernel
 * sent as a copy (s->fallback != EMBER_FB_NONE) was unwound in user space. */
void agent_kunwind_sync(struct agent_kunwind *k, const struct ember_sample *s);
/* pid exec'd or exited: its mappings are dropped. */
void agent_kunwind_forget(struct agent_kunwind *k, int pid);
const struct agent_kunwind_stats *agent_kunwind_stats(const struct agent_kunwind *k);

/* ---- collection -------------------------------------------------------------------------- */

struct agent_collector;

struct agent_collect_stats {
	uint64_t samples;
	uint64_t kernel_only; /* kernel threads */
	uint64_t no_user_regs;
	uint64_t stop[UNWIND_STOP_N]; /* user unwinds by how they ended */
	uint64_t user_frames;
	uint64_t kernel_unwound;  /* of samples: user stacks unwound in the kernel */
	uint64_t off_cpu;	  /* off-CPU stacks (not in samples) */
	uint64_t off_cpu_ns;	  /* off-CPU time counted */
	uint64_t off_cpu_dropped; /* off-CPU stacks dropped: too many threads waiting */
};

struct agent_collector *agent_collector_new(struct agent_procs *ps, int freq_hz);
void agent_collector_free(struct agent_collector *c);
/* Off-CPU stacks are counted (else ignored) and profiles get a third sample type,
 * off_cpu/nanoseconds: the time threads were blocked at each stack. */
void agent_collector_set_off_cpu(struct agent_collector *c, bool on);
/* A process exec'd: its later samples are named against the new image. */
void agent_collector_exec(struct agent_collector *c, int pid);
/* Unwinds, names and counts one sample. */
void agent_collector_add(struct agent_collector *c, const struct ember_sample *s);
/* Names and counts one stack unwound in the kernel (len: the record's bytes). */
void agent_collector_add_trace(struct agent_collector *c, const struct ember_trace *t, size_t len);
/* Hands one ring-buffer record to the collector (stacks, wakes), the process cache and the
 * in-kernel tables (k may be NULL) — what `ember agent` and `ember record` both do with it.
 * Returns the record's kind (EMBER_REC_*; 0 when shorter than its kind). An exit is left to the
 * caller: the process's maps are still needed until its samples are flushed. */
uint32_t agent_take_record(struct agent_procs *ps, struct agent_collector *c,
			   struct agent_kunwind *k, const void *rec, size_t len);
/* An off-CPU thread runs again: its pending stack (from when it blocked) gets the time. */
void agent_collector_wake(struct agent_collector *c, const struct ember_wake *w);
/* Builds a profile of the stacks counted so far: all of them (pid < 0) or one process's.
 * Sample types samples/count and cpu/nanoseconds (and off_cpu/nanoseconds, see above); labels
 * pid, comm, executable and cgroup
 * (the last two as of the process's first sample in each exec generation). */
int agent_collector_build(struct agent_collector *c, int pid, struct prof **out);
/* Distinct pids seen since the last reset; *pids is owned by c until the next call. */
size_t agent_collector_pids(struct agent_collector *c, const int **pids);
void agent_collector_reset(struct agent_collector *c);
const struct agent_collect_stats *agent_collector_stats(const struct agent_collector *c);

#endif
