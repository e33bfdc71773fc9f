/*
 * proc.c — process tracking for the agent: per process its executable mappings (from
 * /proc/PID/maps, re-read when a PC falls outside them: dlopen, or after exec), per file the
 * ELF symbols (struct symb_elf, keyed by device, inode and path) and per build id the unwind
 * table. Files are opened through /proc/PID/root so processes in other mount namespaces work.
 * Both caches are bounded in bytes. Past its bound the file cache lets go of the least
 * recently used files' ELF data (reopened on demand: the entries stay); the table cache is
 * emptied and refilled on demand; which is why processes refer to files by key, never by
 * pointer. Tables the in-kernel unwinder already holds come from its row array instead (the
 * row source, src/agent/kunwind.c), and the cached copy is then released. Also kernel symbols and JIT perf maps. Never logs; failures
 * leave frames unnamed, never dropped.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/hmap.h"
#include "base/mem.h"
#include "symb/symb.h"

#define DEFAULT_MAX_FILE_BYTES	((size_t)32 << 20)
#define DEFAULT_MAX_TABLE_BYTES ((size_t)32 << 20)
#define DEFAULT_MAX_PROCS	4096
/* A process's maps are re-read for an unknown PC at most this often. */
#define REFRESH_MIN_NS (50 * 1000000ull)

struct file_entry {
	struct symb_elf *elf; /* NULL when the file could not be read, or evicted */
	uint64_t retry_ns;    /* elf NULL: when to try again (0 = never: not an ELF file) */
	uint64_t used;	      /* ps->use_clock at the last use (least recently used goes first) */
	bool evicted;	      /* elf freed to stay within the bound: opened again on use */
	uint64_t build_key;   /* hash of the build id (or of the file key when none) */
	char build_id[2 * SYMB_BUILD_ID_MAX + 1];
};

struct table_entry {
	struct unwind_table *table; /* NULL when the file has no usable CFI */
	uint64_t retry_ns;	    /* table NULL: when to try again (0 = never: no CFI) */
};

/* A file that could not be opened (its process exited before we got to it) is tried again
 * after this long, through another process that maps it. */
#define RETRY_OPEN_NS (1000 * 1000000ull)

struct proc_entry {
	int pid;
	struct symb_maps maps; /* executable mappings only */
	uint64_t *file_keys;   /* per mapping; 0 = no file (anonymous, [vdso]...) */
	uint64_t refreshed_ns;
	uint64_t gen; /* bumped at every re-read of the maps */
	bool loaded;
	struct symb_perfmap *perfmap;
	bool perfmap_tried;
	char exe[512];
	char cgroup[256]; /* the cgroup v2 path ("0::PATH"), else the first hierarchy's */
};

struct agent_procs {
	struct agent_procs_opts o;
	struct hmap procs;  /* pid -> struct proc_entry * */
	struct hmap files;  /* file key -> struct file_entry * */
	struct hmap tables; /* build key -> struct table_entry * */
	size_t file_bytes, table_bytes;
	size_t n_files;	    /* entries in files (evicted ones included) */
	uint64_t use_clock; /* ticks at every get_file */
	struct symb_kallsyms *ksyms;
	bool ksyms_tried;
	agent_row_source_fn row_source; /* tables the kernel holds, asked first */
	void *row_ctx;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* hmap keys must not be HMAP_EMPTY; 0 is our "none". */
static uint64_t fix_key(uint64_t k)
{
	return k == HMAP_EMPTY || k == 0 ? 1 : k;
}

struct agent_procs *agent_procs_new(const struct agent_procs_opts *o)
{
	struct agent_procs *ps = mem_calloc(MEM_AGENT, 1, sizeof(*ps));
	if (o)
		ps->o = *o;
	if (!ps->o.max_file_bytes)
		ps->o.max_file_bytes = DEFAULT_MAX_FILE_BYTES;
	if (!ps->o.max_table_bytes)
		ps->o.max_table_bytes = DEFAULT_MAX_TABLE_BYTES;
	if (!ps->o.max_procs)
		ps->o.max_procs = DEFAULT_MAX_PROCS;
	hmap_init(&ps->procs, MEM_AGENT);
	hmap_init(&ps->files, MEM_AGENT);
	hmap_init(&ps->tables, MEM_AGENT);
	return ps;
}

static void proc_free(struct proc_entry *p)
{
	symb_maps_fini(&p->maps);
	mem_free(p->file_keys);
	symb_perfmap_free(p->perfmap);
	mem_free(p);
}

static void clear_files(struct agent_procs *ps)
{
	size_t it = 0;
	uint64_t k, v;
	while (hmap_next(&ps->files, &it, &k, &v)) {
		struct file_entry *f = (struct file_entry *)(uintptr_t)v;
		symb_elf_free(f->elf);
		mem_free(f);
	}
	hmap_clear(&ps->files);
	ps->file_bytes = 0;
	ps->n_files = 0;
}

/* Entries kept (evicted ones too) before the file map is emptied outright. */
#define MAX_FILE_ENTRIES 65536

static int cmp_used(const void *a, const void *b)
{
	const struct file_entry *x = *(struct file_entry *const *)a;
	const struct file_entry *y = *(struct file_entry *const *)b;
	return x->used < y->used ? -1 : x->used > y->used;
}

/* Frees the least recently used files' ELF data until the cache holds at most 3/4 of its
 * bound, so that hot files (libc and its debug info: tens of ms to read again) stay; their
 * entries remain, marked evicted. keep (an entry the caller still uses) is not evicted; past
 * MAX_FILE_ENTRIES the whole map is emptied instead, but only when there is no such entry. */
static void evict_files(struct agent_procs *ps, const struct file_entry *keep)
{
	if (!keep && ps->n_files > MAX_FILE_ENTRIES) {
		clear_files(ps);
		return;
	}
	struct file_entry **open = mem_alloc(MEM_AGENT, (ps->n_files + 1) * sizeof(*open));
	size_t n = 0, it = 0;
	uint64_t k, v;
	while (hmap_next(&ps->files, &it, &k, &v)) {
		struct file_entry *f = (struct file_entry *)(uintptr_t)v;
		if (f->elf && f != keep && n < ps->n_files)
			open[n++] = f;
	}
	qsort(open, n, sizeof(*open), cmp_used);
	for (size_t i = 0; i < n && ps->file_bytes > ps->o.max_file_bytes / 4 * 3; i++) {
		size_t b = symb_elf_bytes(open[i]->elf);
		ps->file_bytes -= EMBER_MIN(b, ps->file_bytes);
		symb_elf_free(open[i]->elf);
		open[i]->elf = NULL;
		open[i]->evicted = true;
	}
	mem_free(open);
}

static void clear_tables(struct agent_procs *ps)
{
	size_t it = 0;
	uint64_t k, v;
	while (hmap_next(&ps->tables, &it, &k, &v)) {
		struct table_entry *t = (struct table_entry *)(uintptr_t)v;
		unwind_table_free(t->table);
		mem_free(t);
	}
	hmap_clear(&ps->tables);
	ps->table_bytes = 0;
}

static void clear_procs(struct agent_procs *ps)
{
	size_t it = 0;
	uint64_t k, v;
	while (hmap_next(&ps->procs, &it, &k, &v))
		proc_free((struct proc_entry *)(uintptr_t)v);
	hmap_clear(&ps->procs);
}

void agent_procs_free(struct agent_procs *ps)
{
	if (!ps)
		return;
	clear_procs(ps);
	clear_files(ps);
	clear_tables(ps);
	hmap_fini(&ps->procs);
	hmap_fini(&ps->files);
	hmap_fini(&ps->tables);
	symb_kallsyms_free(ps->ksyms);
	mem_free(ps);
}

void agent_procs_forget(struct agent_procs *ps, int pid)
{
	uint64_t v;
	if (!hmap_get(&ps->procs, (uint64_t)pid, &v))
		return;
	struct proc_entry *p = (struct proc_entry *)(uintptr_t)v;
	/* hmap has no delete: keep the slot, drop the contents. */
	symb_maps_fini(&p->maps);
	mem_free(p->file_keys);
	p->file_keys = NULL;
	symb_perfmap_free(p->perfmap);
	p->perfmap = NULL;
	p->perfmap_tried = false;
	p->loaded = false;
	p->refreshed_ns = 0;
	p->exe[0] = 0;
}

static uint64_t file_key(const struct symb_map *m)
{
	if (m->path[0] != '/')
		return 0;
	uint64_t h = hash_bytes(m->path, strlen(m->path), m->inode);
	h ^= hash_u64(((uint64_t)m->dev_major << 32 | m->dev_minor) + 0x9e37);
	return fix_key(h);
}

/* /proc/PID/cgroup: "ID:CONTROLLERS:PATH" lines; the unified hierarchy is "0::PATH". */
static void read_cgroup(struct proc_entry *p)
{
	char path[64], text[4096];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", p->pid);
	p->cgroup[0] = 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	const char *best = NULL;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 && (!best || strncmp(line, "0::", 3) == 0))
			best = c2 + 1;
		line = nl ? nl + 1 : NULL;
	}
	if (best)
		snprintf(p->cgroup, sizeof(p->cgroup), "%s", best);
}

static void refresh(struct agent_procs *ps, struct proc_entry *p)
{
	p->refreshed_ns = now_ns();
	p->loaded = true;
	p->gen++;
	struct symb_maps all;
	symb_maps_init(&all);
	int rc = symb_maps_read(&all, p->pid);
	if (rc != 0 || all.len == 0) {
		/* Gone (or a zombie): keep what we knew, samples may still name it. */
		symb_maps_fini(&all);
		return;
	}
	symb_maps_fini(&p->maps);
	mem_free(p->file_keys);
	p->file_keys = NULL;
	symb_maps_init(&p->maps);
	size_t nx = 0;
	for (size_t i = 0; i < all.len; i++)
		if (all.maps[i].perms & SYMB_MAP_X)
			nx++;
	p->maps.maps = mem_calloc(MEM_AGENT, nx ? nx : 1, sizeof(*p->maps.maps));
	p->maps.cap = nx ? nx : 1;
	p->file_keys = mem_calloc(MEM_AGENT, nx ? nx : 1, sizeof(*p->file_keys));
	for (size_t i = 0; i < all.len; i++) {
		if (!(all.maps[i].perms & SYMB_MAP_X)) {
			mem_free(all.maps[i].path);
			continue;
		}
		p->file_keys[p->maps.len] = file_key(&all.maps[i]);
		p->maps.maps[p->maps.len++] = all.maps[i];
	}
	mem_free(all.maps);
	char link[64];
	snprintf(link, sizeof(link), "/proc/%d/exe", p->pid);
	ssize_t n = readlink(link, p->exe, sizeof(p->exe) - 1);
	p->exe[n > 0 ? n : 0] = 0;
	read_cgroup(p);
	(void)ps;
}

static struct proc_entry *get_proc(struct agent_procs *ps, int pid)
{
	uint64_t v;
	if (hmap_get(&ps->procs, (uint64_t)pid, &v))
		return (struct proc_entry *)(uintptr_t)v;
	if (ps->procs.len >= ps->o.max_procs)
		clear_procs(ps);
	struct proc_entry *p = mem_calloc(MEM_AGENT, 1, sizeof(*p));
	p->pid = pid;
	symb_maps_init(&p->maps);
	hmap_put(&ps->procs, (uint64_t)pid, (uint64_t)(uintptr_t)p);
	return p;
}

/* The mapping of pc in p, refreshing the maps once when pc is unknown: when they were read
 * before the sample was taken (sample_ns, CLOCK_MONOTONIC like bpf_ktime_get_ns), or, without
 * a sample time, when they are older than REFRESH_MIN_NS. */
static const struct symb_map *find_map(struct agent_procs *ps, struct proc_entry *p, uint64_t pc,
				       uint64_t sample_ns, size_t *idx)
{
	if (!p->loaded)
		refresh(ps, p);
	const struct symb_map *m = symb_maps_find(&p->maps, pc);
	bool stale = sample_ns ? sample_ns >= p->refreshed_ns
			       : now_ns() - p->refreshed_ns >= REFRESH_MIN_NS;
	if (!m && stale) {
		refresh(ps, p);
		m = symb_maps_find(&p->maps, pc);
	}
	if (m)
		*idx = (size_t)(m - p->maps.maps);
	return m;
}

/* Candidate paths of mapping m's file, tried in order: through the process's root (other
 * mount namespaces), its map_files link (deleted files), and our own view of the path when it
 * is the same file (device and inode match; the process may have exited). */
/* True when path is the file mapped at m (same inode and device): a path may have been
 * replaced since it was mapped (an upgrade, a rebuild). */
static bool same_file(const char *path, const struct symb_map *m)
{
	struct stat st;
	return !m->deleted && stat(path, &st) == 0 && st.st_ino == m->inode &&
	       major(st.st_dev) == m->dev_major && minor(st.st_dev) == m->dev_minor;
}

static bool file_path(const struct proc_entry *p, const struct symb_map *m, int attempt, char *out,
		      size_t n)
{
	switch (attempt) {
	case 0:
		return snprintf(out, n, "/proc/%d/root%s", p->pid, m->path) < (int)n &&
		       same_file(out, m);
	case 1:
		return snprintf(out, n, "/proc/%d/map_files/%llx-%llx", p->pid,
				(unsigned long long)m->start, (unsigned long long)m->end) < (int)n;
	case 2:
		return same_file(m->path, m) && snprintf(out, n, "%s", m->path) < (int)n;
	default:
		return false;
	}
}

/* Opens the ELF of mapping idx into f; sets retry_ns on a failure that may be transient. */
static void open_file(struct agent_procs *ps, struct proc_entry *p, size_t idx,
		      struct file_entry *f)
{
	const struct symb_map *m = &p->maps.maps[idx];
	char path[4200];
	int rc;
	char root[64];
	snprintf(root, sizeof(root), "/proc/%d/root", p->pid);
	/* Through the root first: debug files are then found in the process's namespace. */
	rc = file_path(p, m, 0, path, sizeof(path)) ? symb_elf_open(m->path, root, &f->elf)
						    : -ENOENT;
	for (int a = 1; a < 3 && rc != 0; a++)
		if (file_path(p, m, a, path, sizeof(path)))
			rc = symb_elf_open(path, NULL, &f->elf);
	if (rc != 0) {
		f->elf = NULL;
		f->retry_ns = rc == -EMBER_EFORMAT ? 0 : now_ns() + RETRY_OPEN_NS;
		return;
	}
	f->retry_ns = 0;
	size_t len;
	const uint8_t *id = symb_elf_build_id(f->elf, &len);
	if (len > 0)
		f->build_key = fix_key(hash_bytes(id, len, 0x6275696c64ull));
	symb_elf_build_id_hex(f->elf, f->build_id, sizeof(f->build_id));
	ps->file_bytes += symb_elf_bytes(f->elf);
}

static struct file_entry *get_file(struct agent_procs *ps, struct proc_entry *p, size_t idx)
{
	uint64_t key = p->file_keys[idx], v;
	if (key == 0)
		return NULL;
	if (hmap_get(&ps->files, key, &v)) {
		struct file_entry *f = (struct file_entry *)(uintptr_t)v;
		f->used = ++ps->use_clock;
		if (!f->elf && (f->evicted || (f->retry_ns && now_ns() >= f->retry_ns))) {
			if (ps->file_bytes > ps->o.max_file_bytes)
				evict_files(ps, f);
			f->evicted = false;
			open_file(ps, p, idx, f);
		}
		return f;
	}
	if (ps->file_bytes > ps->o.max_file_bytes)
		evict_files(ps, NULL);
	struct file_entry *f = mem_calloc(MEM_AGENT, 1, sizeof(*f));
	f->build_key = key;
	f->used = ++ps->use_clock;
	open_file(ps, p, idx, f);
	hmap_put(&ps->files, key, (uint64_t)(uintptr_t)f);
	ps->n_files++;
	return f;
}

static void build_table(struct agent_procs *ps, struct proc_entry *p, size_t idx,
			struct table_entry *t)
{
	char path[4200];
	int rc = -ENOENT;
	for (int a = 0; a < 3 && rc != 0; a++)
		if (file_path(p, &p->maps.maps[idx], a, path, sizeof(path)))
			rc = unwind_table_build(path, &t->table);
	if (rc != 0) {
		t->table = NULL;
		/* No CFI in the file is final; failing to open it may not be. */
		t->retry_ns =
			rc == -EMBER_ENOTFOUND || rc == -EMBER_EFORMAT || rc == -EMBER_EVERSION
				? 0
				: now_ns() + RETRY_OPEN_NS;
		return;
	}
	t->retry_ns = 0;
	ps->table_bytes += unwind_table_bytes(t->table);
}

static const struct unwind_table *get_table(struct agent_procs *ps, struct proc_entry *p,
					    size_t idx, const struct file_entry *f)
{
	uint64_t v;
	if (ps->row_source) {
		const struct unwind_table *view = ps->row_source(ps->row_ctx, f->build_key);
		if (view)
			return view;
	}
	if (hmap_get(&ps->tables, f->build_key, &v)) {
		struct table_entry *t = (struct table_entry *)(uintptr_t)v;
		if (!t->table && t->retry_ns && now_ns() >= t->retry_ns)
			build_table(ps, p, idx, t);
		return t->table;
	}
	if (ps->table_bytes > ps->o.max_table_bytes)
		clear_tables(ps);
	struct table_entry *t = mem_calloc(MEM_AGENT, 1, sizeof(*t));
	build_table(ps, p, idx, t);
	hmap_put(&ps->tables, f->build_key, (uint64_t)(uintptr_t)t);
	return t->table;
}

/* pc -> ELF vaddr of the file mapped at m. */
static bool pc_to_vaddr(const struct file_entry *f, const struct symb_map *m, uint64_t pc,
			uint64_t *vaddr)
{
	return f && f->elf &&
	       symb_elf_offset_to_vaddr(f->elf, pc - m->start + m->offset, vaddr) == 0;
}

struct walk_ctx {
	struct agent_procs *ps;
	struct proc_entry *p;
	uint64_t sample_ns;
};

static bool walk_lookup(void *ctx, uint64_t pc, const struct unwind_table **table, uint64_t *bias)
{
	struct walk_ctx *w = ctx;
	size_t idx;
	const struct symb_map *m = find_map(w->ps, w->p, pc, w->sample_ns, &idx);
	*table = NULL;
	*bias = 0;
	if (!m)
		return false;
	struct file_entry *f = get_file(w->ps, w->p, idx);
	uint64_t vaddr;
	if (!pc_to_vaddr(f, m, pc, &vaddr))
		return true; /* anonymous or unreadable: frame pointers */
	*bias = pc - vaddr;
	*table = get_table(w->ps, w->p, idx, f);
	return true;
}

void agent_procs_unwind(struct agent_procs *ps, const struct ember_sample *s, uint64_t *pcs,
			size_t max_pcs, struct unwind_result *res)
{
	struct walk_ctx w = {.ps = ps, .p = get_proc(ps, (int)s->pid), .sample_ns = s->time_ns};
	struct unwind_regs regs = {.ip = s->ip, .sp = s->sp, .bp = s->bp};
	size_t len = EMBER_MIN((size_t)s->ustack_bytes, sizeof(s->ustack));
	unwind_walk(&regs, s->ustack, len, walk_lookup, &w, pcs, max_pcs, res);
}

void agent_procs_symbolize(struct agent_procs *ps, int pid, uint64_t pc, struct agent_frame *out)
{
	memset(out, 0, sizeof(*out));
	out->build_id = "";
	struct proc_entry *p = get_proc(ps, pid);
	size_t idx;
	const struct symb_map *m = find_map(ps, p, pc, 0, &idx);
	if (!m)
		return;
	out->path = m->path;
	out->map_start = m->start;
	out->map_end = m->end;
	out->map_offset = m->offset;
	/* DWARF readers grow the file cache as they read (below): past its bound the least
	 * recently used files are let go here, as when a new file is opened. */
	if (ps->file_bytes > ps->o.max_file_bytes)
		evict_files(ps, NULL);
	struct file_entry *f = get_file(ps, p, idx);
	uint64_t vaddr;
	if (f) {
		out->build_id = f->build_id;
		if (!pc_to_vaddr(f, m, pc, &vaddr))
			return;
		out->name = symb_elf_lookup(f->elf, vaddr, NULL);
		if (!symb_elf_has_dwarf(f->elf))
			return;
		/* Source lines and inline frames; what the reader caches counts in the cache. */
		size_t before = symb_elf_bytes(f->elf);
		struct symb_srcline sl[AGENT_FRAME_MAX_LINES];
		out->n_lines = symb_elf_srclines(f->elf, vaddr, sl, AGENT_FRAME_MAX_LINES);
		for (size_t i = 0; i < out->n_lines; i++)
			out->lines[i] = (struct agent_frame_line){
				.function = sl[i].function, .file = sl[i].file, .line = sl[i].line};
		ps->file_bytes += symb_elf_bytes(f->elf) - before;
		return;
	}
	if (m->path[0] == 0 || strncmp(m->path, "[anon", 5) == 0) {
		/* Anonymous executable memory: JIT code, named by the perf map if any. */
		if (!p->perfmap_tried) {
			p->perfmap_tried = true;
			char path[128];
			snprintf(path, sizeof(path), "/proc/%d/root/tmp/perf-%d.map", pid, pid);
			if (symb_perfmap_load(path, &p->perfmap) != 0)
				p->perfmap = NULL;
		}
		if (p->perfmap)
			out->name = symb_perfmap_lookup(p->perfmap, pc);
	}
}

void agent_procs_set_row_source(struct agent_procs *ps, agent_row_source_fn fn, void *ctx)
{
	ps->row_source = fn;
	ps->row_ctx = ctx;
}

void agent_procs_release_table(struct agent_procs *ps, uint64_t build_key)
{
	uint64_t v;
	if (!hmap_get(&ps->tables, build_key, &v))
		return;
	struct table_entry *t = (struct table_entry *)(uintptr_t)v;
	if (!t->table)
		return;
	ps->table_bytes -= unwind_table_bytes(t->table);
	unwind_table_free(t->table);
	t->table = NULL;
	t->retry_ns = 1; /* built again if the row source ever lets it go */
}

void agent_procs_prepare(struct agent_procs *ps, int pid, uint64_t pc, uint64_t sample_ns)
{
	struct walk_ctx w = {.ps = ps, .p = get_proc(ps, pid), .sample_ns = sample_ns};
	const struct unwind_table *table;
	uint64_t bias;
	(void)walk_lookup(&w, pc, &table, &bias);
}

size_t agent_procs_kmappings(struct agent_procs *ps, int pid, struct agent_kmapping *out,
			     size_t max, uint64_t *gen)
{
	uint64_t v;
	*gen = 0;
	if (!hmap_get(&ps->procs, (uint64_t)pid, &v))
		return 0;
	struct proc_entry *p = (struct proc_entry *)(uintptr_t)v;
	if (!p->loaded)
		return 0;
	*gen = p->gen;
	size_t n = 0;
	for (size_t i = 0; i < p->maps.len && n < max; i++) {
		const struct symb_map *m = &p->maps.maps[i];
		struct agent_kmapping *k = &out[n++];
		memset(k, 0, sizeof(*k));
		k->start = m->start;
		k->end = m->end;
		uint64_t key = p->file_keys[i], vaddr;
		if (key == 0)
			continue; /* anonymous: frame pointers */
		if (!hmap_get(&ps->files, key, &v)) {
			k->file_pending = true;
			continue;
		}
		const struct file_entry *f = (const struct file_entry *)(uintptr_t)v;
		if (!f->elf) {
			/* Not an ELF file (final): frame pointers; else not opened yet. */
			k->file_pending = f->retry_ns != 0;
			continue;
		}
		if (symb_elf_offset_to_vaddr(f->elf, m->offset, &vaddr) != 0) {
			k->file_pending = true;
			continue;
		}
		k->bias = m->start - vaddr;
		k->build_key = f->build_key;
		if (hmap_get(&ps->tables, f->build_key, &v)) {
			const struct table_entry *t = (const struct table_entry *)(uintptr_t)v;
			k->table = t->table;
			k->no_table = !t->table && t->retry_ns == 0;
		}
	}
	return n;
}

void agent_procs_load_kernel_symbols(struct agent_procs *ps)
{
	if (!ps->ksyms_tried && !ps->o.no_kernel) {
		ps->ksyms_tried = true;
		if (symb_kallsyms_load(NULL, &ps->ksyms) != 0)
			ps->ksyms = NULL;
	}
}

const char *agent_procs_ksym(struct agent_procs *ps, uint64_t addr, const char **module)
{
	*module = NULL;
	agent_procs_load_kernel_symbols(ps);
	return ps->ksyms ? symb_kallsyms_lookup(ps->ksyms, addr, module, NULL) : NULL;
}

const char *agent_procs_exe(struct agent_procs *ps, int pid)
{
	struct proc_entry *p = get_proc(ps, pid);
	if (!p->loaded)
		refresh(ps, p);
	return p->exe;
}

const char *agent_procs_cgroup(struct agent_procs *ps, int pid)
{
	struct proc_entry *p = get_proc(ps, pid);
	if (!p->loaded)
		refresh(ps, p);
	return p->cgroup;
}

/* Parent pid from /proc/PID/stat ("pid (comm) S ppid ..."; comm may hold ')' and spaces). */
static int read_ppid(int pid)
{
	char path[64], text[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	char *rp = strrchr(text, ')');
	if (!rp || rp[1] != ' ' || !rp[2] || rp[3] != ' ')
		return -1;
	long v = 0;
	for (const char *s = rp + 4; *s >= '0' && *s <= '9' && v < 1 << 30; s++)
		v = v * 10 + (*s - '0');
	return (int)v;
}

int agent_proc_descendants(int pid, void (*fn)(void *ctx, int pid), void *ctx)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	struct hmap parent; /* pid -> ppid */
	hmap_init(&parent, MEM_AGENT);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		long v = 0;
		const char *s = de->d_name;
		for (; *s >= '0' && *s <= '9' && v < 1 << 30; s++)
			v = v * 10 + (*s - '0');
		if (*s || v <= 0)
			continue;
		int pp = read_ppid((int)v);
		if (pp >= 0)
			hmap_put(&parent, (uint64_t)v, (uint64_t)pp);
	}
	closedir(d);
	size_t it = 0;
	uint64_t k, v;
	while (hmap_next(&parent, &it, &k, &v)) {
		/* Walk up (bounded) to see whether pid is an ancestor. */
		uint64_t cur = v;
		for (int depth = 0; depth < 4096 && cur > 0; depth++) {
			if (cur == (uint64_t)pid) {
				fn(ctx, (int)k);
				break;
			}
			if (!hmap_get(&parent, cur, &cur))
				break;
		}
	}
	hmap_fini(&parent);
	return 0;
}
