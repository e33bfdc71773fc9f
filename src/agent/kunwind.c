/*
 * kunwind.c — fills the in-kernel unwinder's BPF maps (bpf/ember_bpf_abi.h) from what
 * agent_procs knows: a file id per build key, each file's rows appended to the shared `krows`
 * array (bump allocation; when it is full every file is unloaded and the array refills on
 * demand), the file index `kfiles`, and per process its executable mappings in `kprocs`.
 * The work is driven by the stacks the kernel could not unwind (a new process, a file not
 * loaded yet, a pc in no loaded mapping): after user space has unwound such a stack,
 * agent_kunwind_sync prepares the pc the kernel stopped at and rewrites the process's entry
 * when it changed. Rows are written before the file entry that makes them visible.
 *
 * One copy of the rows: `krows` is also mapped read-only here, and agent_procs takes its tables
 * from that mapping (unwind_table_view) for every loaded file, so the user-space walker (for the
 * stacks still sent as copies) needs no table of its own: the cached one is freed as soon as
 * its rows are in the kernel. Owns its bookkeeping and the views; the maps belong to the
 * sampler, the tables it loads from to agent_procs.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "agent/agent.h"
#include "base/hash.h"
#include "base/hmap.h"
#include "base/mem.h"

/* Rows written per batch update (bounds the key scratch: 256 KiB). */
#define BATCH_ROWS 65536
/* A file with more rows than this stays with user-space unwinding. */
#define MAX_FILE_ROWS (EMBER_KROWS_MAX * 3 / 8)
/* Remembered process entries before the memo is emptied (entries are rewritten then). */
#define MAX_PUSHED 65536

/* Value of k->files: id | state << 32 | too_big << 40. */
#define FV_ID(v)      ((uint32_t)(v))
#define FV_STATE(v)   ((uint32_t)((v) >> 32) & 0xff)
#define FV_TOO_BIG    (1ull << 40)
#define FV(id, state) ((uint64_t)(id) | (uint64_t)(state) << 32)

struct agent_kunwind {
	struct agent_kmap_fds fd;
	struct agent_procs *ps;
	struct hmap files;  /* build key -> FV(...) */
	struct hmap pushed; /* pid -> hash of the entry last written, 0 = none */
	uint32_t next_id;   /* file ids from 1 (0 is "no file") */
	uint32_t next_row;
	uint32_t *keys; /* BATCH_ROWS row indexes */
	const struct ember_unwind_row *rows; /* krows, mapped read-only (NULL: no views) */
	size_t rows_len;
	struct unwind_table *views[EMBER_KFILES_MAX]; /* by file id, loaded files only */
	struct ember_kproc kp;
	struct agent_kmapping km[EMBER_KMAPS_MAX];
	struct agent_kunwind_stats st;
};

static void drop_views(struct agent_kunwind *k)
{
	for (size_t i = 0; i < EMBER_KFILES_MAX; i++) {
		unwind_table_free(k->views[i]);
		k->views[i] = NULL;
	}
}

/* agent_procs' row source: the view of a loaded file. */
static const struct unwind_table *row_source(void *ctx, uint64_t build_key)
{
	struct agent_kunwind *k = ctx;
	uint64_t v;
	if (!hmap_get(&k->files, build_key, &v) || FV_STATE(v) != EMBER_KFILE_LOADED ||
	    FV_ID(v) >= EMBER_KFILES_MAX)
		return NULL;
	return k->views[FV_ID(v)];
}

struct agent_kunwind *agent_kunwind_new(struct agent_sampler *s, struct agent_procs *ps)
{
	struct agent_kunwind *k = mem_calloc(MEM_AGENT, 1, sizeof(*k));
	agent_sampler_kmaps(s, &k->fd);
	k->ps = ps;
	hmap_init(&k->files, MEM_AGENT);
	hmap_init(&k->pushed, MEM_AGENT);
	k->next_id = 1;
	k->keys = mem_alloc(MEM_AGENT, BATCH_ROWS * sizeof(*k->keys));
	long page = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)EMBER_KROWS_MAX * sizeof(struct ember_unwind_row);
	k->rows_len = page > 0 ? (len + (size_t)page - 1) / (size_t)page * (size_t)page : len;
	void *m = mmap(NULL, k->rows_len, PROT_READ, MAP_SHARED, k->fd.rows, 0);
	if (m != MAP_FAILED) {
		k->rows = m;
		agent_procs_set_row_source(ps, row_source, k);
	}
	return k;
}

void agent_kunwind_free(struct agent_kunwind *k)
{
	if (!k)
		return;
	if (k->rows) {
		agent_procs_set_row_source(k->ps, NULL, NULL);
		drop_views(k);
		munmap((void *)(uintptr_t)k->rows, k->rows_len);
	}
	hmap_fini(&k->files);
	hmap_fini(&k->pushed);
	mem_free(k->keys);
	mem_free(k);
}

const struct agent_kunwind_stats *agent_kunwind_stats(const struct agent_kunwind *k)
{
	return &k->st;
}

static void write_file(struct agent_kunwind *k, uint32_t id, uint32_t first, uint32_t n,
		       uint32_t state)
{
	struct ember_kfile f = {.first = first, .n = n, .state = state};
	if (bpf_map_update_elem(k->fd.files, &id, &f, BPF_ANY) != 0)
		k->st.errors++;
}

/* The row array is full: every file goes back to PENDING (the kernel then sends its stacks to
 * user space, which loads them again), and the array refills from the start. */
static void reset_rows(struct agent_kunwind *k)
{
	size_t it = 0;
	uint64_t key, v;
	while (hmap_next(&k->files, &it, &key, &v)) {
		if (FV_STATE(v) != EMBER_KFILE_LOADED)
			continue;
		write_file(k, FV_ID(v), 0, 0, EMBER_KFILE_PENDING);
		hmap_put(&k->files, key, FV(FV_ID(v), EMBER_KFILE_PENDING) | (v & FV_TOO_BIG));
	}
	drop_views(k);
	k->next_row = 0;
	k->st.resets++;
}

/* File ids ran out: forget every file and every process entry. */
static void reset_all(struct agent_kunwind *k)
{
	for (uint32_t id = 1; id < k->next_id && id < EMBER_KFILES_MAX; id++)
		write_file(k, id, 0, 0, EMBER_KFILE_PENDING);
	uint32_t pid, next;
	void *prev = NULL;
	while (bpf_map_get_next_key(k->fd.procs, prev, &next) == 0) {
		pid = next;
		bpf_map_delete_elem(k->fd.procs, &pid);
		prev = NULL; /* the deleted key cannot be a cursor: start over */
	}
	hmap_clear(&k->files);
	hmap_clear(&k->pushed);
	drop_views(k);
	k->next_id = 1;
	k->next_row = 0;
	k->st.resets++;
}

/* Writes rows[0..n) at krows[first..). */
static int write_rows(struct agent_kunwind *k, uint32_t first, const struct ember_unwind_row *rows,
		      uint32_t n)
{
	for (uint32_t off = 0; off < n; off += BATCH_ROWS) {
		uint32_t cnt = n - off < BATCH_ROWS ? n - off : BATCH_ROWS;
		for (uint32_t i = 0; i < cnt; i++)
			k->keys[i] = first + off + i;
		__u32 done = cnt;
		if (bpf_map_update_batch(k->fd.rows, k->keys, rows + off, &done, NULL) == 0)
			continue;
		/* Kernels without batch updates on arrays: one element at a time. */
		for (uint32_t i = 0; i < cnt; i++)
			if (bpf_map_update_elem(k->fd.rows, &k->keys[i], &rows[off + i], BPF_ANY) !=
			    0)
				return -errno;
	}
	return 0;
}

/* The file id of a mapping's file, loading its rows (or its "no table" state) when known. */
static uint32_t file_load(struct agent_kunwind *k, const struct agent_kmapping *km)
{
	bool found;
	uint64_t *slot = hmap_upsert(&k->files, km->build_key, 0, &found);
	if (!found) {
		if (k->next_id >= EMBER_KFILES_MAX) {
			reset_all(k);
			slot = hmap_upsert(&k->files, km->build_key, 0, &found);
		}
		*slot = FV(k->next_id++, EMBER_KFILE_PENDING);
	}
	uint64_t v = *slot;
	uint32_t id = FV_ID(v);
	if (FV_STATE(v) != EMBER_KFILE_PENDING || (v & FV_TOO_BIG))
		return id;
	if (km->no_table) {
		write_file(k, id, 0, 0, EMBER_KFILE_NO_TABLE);
		*slot = FV(id, EMBER_KFILE_NO_TABLE);
		return id;
	}
	if (!km->table)
		return id; /* not built yet: the kernel sends these stacks to user space */
	size_t n = unwind_table_n_rows(km->table);
	if (n == 0 || n > MAX_FILE_ROWS) {
		*slot = v | FV_TOO_BIG;
		return id;
	}
	if (k->next_row + n > EMBER_KROWS_MAX) {
		reset_rows(k);
		slot = hmap_upsert(&k->files, km->build_key, 0, &found);
	}
	uint32_t first = k->next_row;
	if (write_rows(k, first, unwind_table_rows(km->table), (uint32_t)n) != 0) {
		k->st.errors++;
		return id;
	}
	k->next_row += (uint32_t)n;
	write_file(k, id, first, (uint32_t)n, EMBER_KFILE_LOADED);
	*slot = FV(id, EMBER_KFILE_LOADED);
	k->st.files_loaded++;
	k->st.rows_loaded += n;
	if (k->rows && id < EMBER_KFILES_MAX) {
		/* From now on user space reads these rows from the kernel's copy. */
		unwind_table_free(k->views[id]);
		k->views[id] = unwind_table_view(k->rows + first, n);
		agent_procs_release_table(k->ps, km->build_key);
	}
	return id;
}

void agent_kunwind_sync(struct agent_kunwind *k, const struct ember_sample *s)
{
	if (s->fallback == EMBER_FB_NONE || !(s->flags & EMBER_SAMPLE_USER_REGS))
		return;
	int pid = (int)s->pid;
	if (s->fallback_pc)
		agent_procs_prepare(k->ps, pid, s->fallback_pc, s->time_ns);
	uint64_t gen; /* (the content hash below notices any change) */
	size_t n = agent_procs_kmappings(k->ps, pid, k->km, EMBER_KMAPS_MAX, &gen);
	if (n == 0)
		return;
	memset(&k->kp, 0, sizeof(k->kp));
	for (size_t i = 0; i < n; i++) {
		const struct agent_kmapping *km = &k->km[i];
		struct ember_kmapping *m = &k->kp.maps[i];
		m->start = km->start;
		m->end = km->end;
		m->bias = km->bias;
		if (km->file_pending)
			m->flags = EMBER_KMAP_PENDING;
		else if (km->build_key)
			m->file_id = file_load(k, km);
	}
	k->kp.n = (uint32_t)n;
	size_t len = offsetof(struct ember_kproc, maps) + n * sizeof(k->kp.maps[0]);
	uint64_t h = hash_bytes(&k->kp, len, 0x6b70726f63ull) | 1;
	uint64_t last = 0;
	/* Unless the kernel says the entry is gone (an exit or exec we did not hear of). */
	if (s->fallback != EMBER_FB_NO_PROC && hmap_get(&k->pushed, (uint64_t)pid, &last) &&
	    last == h)
		return;
	uint32_t key = (uint32_t)pid;
	if (bpf_map_update_elem(k->fd.procs, &key, &k->kp, BPF_ANY) != 0) {
		k->st.errors++; /* full: this process stays with user-space unwinding */
		return;
	}
	if (k->pushed.len >= MAX_PUSHED)
		hmap_clear(&k->pushed);
	hmap_put(&k->pushed, (uint64_t)pid, h);
	k->st.procs_pushed++;
}

void agent_kunwind_forget(struct agent_kunwind *k, int pid)
{
	uint32_t key = (uint32_t)pid;
	uint64_t last;
	bpf_map_delete_elem(k->fd.procs, &key);
	if (hmap_get(&k->pushed, (uint64_t)pid, &last) && last)
		hmap_put(&k->pushed, (uint64_t)pid, 0);
}
