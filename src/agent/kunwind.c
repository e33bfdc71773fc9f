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
 * One copy of the rows: once a file's rows are in `krows`, its cached table is freed, and when
 * the user-space walker (for the stacks still sent as copies) needs it again, agent_procs gets
 * a view of the kernel's rows (unwind_table_view over a read-only mapping of just that file's
 * pages, made on first use; all views are unmapped past VIEW_BUDGET bytes, as every mapped page
 * counts in the RSS). Owns its bookkeeping and the views; the maps belong to the sampler, the
 * tables it loads from to agent_procs.
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

/* Rows written per mapped window or batch update (bounds the key scratch: 256 KiB). */
#define BATCH_ROWS 65536
/* A file with more rows than this stays with user-space unwinding. */
#define MAX_FILE_ROWS (EMBER_KROWS_MAX * 3 / 8)
/* Bytes of krows mapped for views before they are all unmapped. */
#define VIEW_BUDGET ((size_t)8 << 20)
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
	bool mmapable;	/* krows can be mapped (else no views: tables stay cached) */
	size_t page;
	/* By file id: where its rows are, and its view (mapped on first use) when it has one. */
	uint32_t first[EMBER_KFILES_MAX], n[EMBER_KFILES_MAX];
	struct unwind_table *views[EMBER_KFILES_MAX];
	void *vmap[EMBER_KFILES_MAX];
	size_t vspan[EMBER_KFILES_MAX];
	size_t view_bytes;
	struct ember_kproc kp;
	struct agent_kmapping km[EMBER_KMAPS_MAX];
	struct agent_kunwind_stats st;
};

static void drop_views(struct agent_kunwind *k)
{
	for (size_t i = 0; i < EMBER_KFILES_MAX; i++) {
		if (!k->views[i])
			continue;
		unwind_table_free(k->views[i]);
		munmap(k->vmap[i], k->vspan[i]);
		k->views[i] = NULL;
		k->vmap[i] = NULL;
	}
	k->view_bytes = 0;
}

/* agent_procs' row source: a view of a loaded file's rows in krows, mapped on first use. */
static const struct unwind_table *row_source(void *ctx, uint64_t build_key)
{
	struct agent_kunwind *k = ctx;
	uint64_t v;
	if (!hmap_get(&k->files, build_key, &v) || FV_STATE(v) != EMBER_KFILE_LOADED ||
	    FV_ID(v) >= EMBER_KFILES_MAX)
		return NULL;
	uint32_t id = FV_ID(v);
	if (k->views[id])
		return k->views[id];
	size_t at = (size_t)k->first[id] * sizeof(struct ember_unwind_row);
	size_t len = (size_t)k->n[id] * sizeof(struct ember_unwind_row);
	size_t base = at / k->page * k->page;
	size_t span = (at - base + len + k->page - 1) / k->page * k->page;
	if (k->view_bytes + span > VIEW_BUDGET)
		drop_views(k);
	void *m = mmap(NULL, span, PROT_READ, MAP_SHARED, k->fd.rows, (off_t)base);
	if (m == MAP_FAILED)
		return NULL; /* the cache builds the table again */
	k->vmap[id] = m;
	k->vspan[id] = span;
	k->view_bytes += span;
	k->views[id] = unwind_table_view(
		(const struct ember_unwind_row *)(const void *)((char *)m + (at - base)), k->n[id]);
	return k->views[id];
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
	k->page = page > 0 ? (size_t)page : 4096;
	/* Can the array be mapped? (A one-page probe.) */
	void *m = mmap(NULL, k->page, PROT_READ, MAP_SHARED, k->fd.rows, 0);
	if (m != MAP_FAILED) {
		munmap(m, k->page);
		k->mmapable = true;
		agent_procs_set_row_source(ps, row_source, k);
	}
	return k;
}

void agent_kunwind_free(struct agent_kunwind *k)
{
	if (!k)
		return;
	if (k->mmapable) {
		agent_procs_set_row_source(k->ps, NULL, NULL);
		drop_views(k);
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

/* Writes rows[0..n) at krows[first..): through a writable mapping of the array, a window of
 * BATCH_ROWS rows at a time, unmapped at once so the pages do not stay in the agent's RSS
 * (a plain copy: ~100x faster than element-wise batch updates); batch updates when the array
 * cannot be mapped. */
static int write_rows(struct agent_kunwind *k, uint32_t first, const struct ember_unwind_row *rows,
		      uint32_t n)
{
	long page = sysconf(_SC_PAGESIZE);
	for (uint32_t off = 0; off < n; off += BATCH_ROWS) {
		uint32_t cnt = n - off < BATCH_ROWS ? n - off : BATCH_ROWS;
		size_t at = (size_t)(first + off) * sizeof(*rows), len = cnt * sizeof(*rows);
		if (page > 0) {
			size_t base = at / (size_t)page * (size_t)page;
			size_t span =
				(at - base + len + (size_t)page - 1) / (size_t)page * (size_t)page;
			void *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_SHARED, k->fd.rows,
				       (off_t)base);
			if (m != MAP_FAILED) {
				memcpy((char *)m + (at - base), rows + off, len);
				munmap(m, span);
				continue;
			}
		}
		for (uint32_t i = 0; i < cnt; i++)
			k->keys[i] = first + off + i;
		__u32 done = cnt;
		if (bpf_map_update_batch(k->fd.rows, k->keys, rows + off, &done, NULL) == 0)
			continue;
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
	if (id < EMBER_KFILES_MAX) {
		k->first[id] = first;
		k->n[id] = (uint32_t)n;
	}
	if (k->mmapable)
		agent_procs_release_table(k->ps, km->build_key); /* views from now on */
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
