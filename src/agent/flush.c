/*
 * flush.c — agent_flush (flush.h): build each process's profile, label it, select and
 * relabel, group by the final label set (a hash of the canonical "name\0value\0..." key), merge
 * the members of a group, then write and/or queue one pprof per group.
 */
#include "agent/flush.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/cgroup.h"
#include "base/buf.h"
#include "base/hash.h"
#include "base/hmap.h"
#include "base/log.h"
#include "base/mem.h"
#include "format/pprof.h"
#include "profile/merge.h"

struct group {
	char *key; /* sorted "name\0value\0" pairs */
	size_t key_len;
	size_t next; /* the next group with the same hash, or SIZE_MAX */
	struct prof *p;
	int64_t best; /* the busiest member's sample count */
	int pid;      /* the busiest member */
	char comm[EMBER_COMM_LEN + 1];
};

struct flush_run {
	struct agent_procs *procs;
	const struct agent_flush_opts *o;
	struct agent_flush_stats *st;
	struct agent_labels ls;
	struct group *groups;
	size_t n_groups, cap_groups;
	struct hmap by_hash; /* hash(key) -> first group index */
};

/* Writes b to path through a temporary file and a rename (readers never see a partial file),
 * without fsync: dozens of profiles per interval on a busy host, and losing the last ones in a
 * power cut is acceptable, an fsync each is not (it was the agent's largest cost). */
static int write_profile(const struct buf *b, const char *path)
{
	char tmp[4200];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	FILE *f = fopen(tmp, "we");
	int rc = 0;
	if (!f)
		rc = -errno;
	else if (fwrite(b->data, 1, b->len, f) != b->len)
		rc = -EIO;
	if (f && fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0) {
		if (f)
			unlink(tmp);
		log_msg(LOG_LEVEL_WARN, "agent: %s: %s", path, ember_strerror(rc));
	}
	return rc;
}

/* The comm of the largest sample (a process that exec'd has samples under its old name too),
 * made safe for a file name, and the process's sample count. */
static int64_t busiest_comm(const struct prof *p, char comm[EMBER_COMM_LEN + 1])
{
	int64_t best = -1, total = 0;

	snprintf(comm, EMBER_COMM_LEN + 1, "unknown");
	for (size_t si = 0; si < prof_n_samples(p); si++) {
		struct prof_sample smp;
		size_t nl;

		prof_sample_get(p, si, &smp);
		total += smp.values[0];
		if (smp.values[0] <= best)
			continue;
		const struct prof_label *l = prof_labelset_get(p, smp.labelset, &nl);
		for (size_t k = 0; k < nl; k++) {
			if (strcmp(prof_string(p, l[k].key), "comm") == 0 && l[k].str) {
				snprintf(comm, EMBER_COMM_LEN + 1, "%s", prof_string(p, l[k].str));
				best = smp.values[0];
			}
		}
	}
	for (char *c = comm; *c; c++)
		if (*c == '/' || *c == ' ' || (unsigned char)*c < 0x20)
			*c = '_';
	return total;
}

/* A process's discovered labels (empty values left out): see flush.h. */
static void process_labels(struct flush_run *r, const struct prof *p, int pid, const char *comm)
{
	struct agent_cgroup_info ci;
	struct agent_labels *ls = &r->ls;
	const char *exe = agent_procs_exe(r->procs, pid);
	const char *cg = agent_procs_cgroup(r->procs, pid);
	const char *build_id = "", *service = comm;
	char pid_s[24];

	ls->n = 0;
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	if (exe && *exe) {
		const char *base = strrchr(exe, '/');
		service = base && base[1] ? base + 1 : exe;
		for (uint32_t m = 1; m <= prof_n_mappings(p); m++) {
			const struct prof_mapping *pm = prof_mapping_get(p, m);
			if (pm && strcmp(prof_string(p, pm->filename), exe) == 0) {
				build_id = prof_string(p, pm->build_id);
				break;
			}
		}
	}
	agent_cgroup_parse(cg, cg ? strlen(cg) : 0, &ci);
	agent_labels_set(ls, "service_name", service);
	agent_labels_set(ls, "pid", pid_s);
	agent_labels_set(ls, "hostname", r->o->host);
	agent_labels_set(ls, "comm", comm);
	agent_labels_set(ls, "executable", exe);
	agent_labels_set(ls, "build_id", build_id);
	agent_labels_set(ls, "cgroup", cg);
	agent_labels_set(ls, "container_id", ci.container_id);
	agent_labels_set(ls, "pod_uid", ci.pod_uid);
	agent_labels_set(ls, "systemd_unit", ci.unit);
}

/* The group of the current label set (sorted), created when new. */
static struct group *group_of(struct flush_run *r)
{
	char key[AGENT_LABELS_MAX * (AGENT_LABEL_NAME_MAX + AGENT_LABEL_VALUE_MAX)];
	size_t len = 0;
	bool found;

	agent_labels_sort(&r->ls);
	for (size_t i = 0; i < r->ls.n; i++) {
		size_t a = strlen(r->ls.l[i].name) + 1, b = strlen(r->ls.l[i].value) + 1;
		memcpy(key + len, r->ls.l[i].name, a);
		memcpy(key + len + a, r->ls.l[i].value, b);
		len += a + b;
	}
	uint64_t h = hash_bytes(key, len, 0x656d626572);
	uint64_t *first = hmap_upsert(&r->by_hash, h, SIZE_MAX, &found);
	for (size_t g = (size_t)*first; g != SIZE_MAX; g = r->groups[g].next)
		if (r->groups[g].key_len == len && !memcmp(r->groups[g].key, key, len))
			return &r->groups[g];
	mem_grow(MEM_AGENT, (void **)&r->groups, &r->cap_groups, r->n_groups + 1,
		 sizeof(*r->groups));
	struct group *g = &r->groups[r->n_groups];
	memset(g, 0, sizeof(*g));
	g->key = mem_alloc(MEM_AGENT, len ? len : 1);
	memcpy(g->key, key, len);
	g->key_len = len;
	g->next = (size_t)*first;
	g->best = -1;
	*first = r->n_groups++;
	return g;
}

/* A group's labels from its key, at most AGENT_LABELS_MAX; returns how many. */
static size_t key_labels(const struct group *g, struct prof_kv kv[AGENT_LABELS_MAX])
{
	size_t n = 0;

	for (size_t at = 0; at < g->key_len && n < AGENT_LABELS_MAX;) {
		const char *k = g->key + at, *v = k + strlen(k) + 1;

		at += strlen(k) + strlen(v) + 2;
		kv[n++] = (struct prof_kv){k, v};
	}
	return n;
}

/* Writes and/or queues one group's profile; 1 when written or queued. */
static int ship(struct flush_run *r, struct group *g, time_t now)
{
	const struct agent_flush_opts *o = r->o;
	struct agent_push_tag tags[AGENT_LABELS_MAX];
	const char *service = g->comm;
	size_t nt = 0;
	int done = 0;
	struct buf out;

	if (!o->dir && o->batch)
		return 0; /* pushed by ship_batch */
	struct prof_meta *m = prof_meta(g->p);
	m->time_ns = ((int64_t)now - o->interval_ms / 1000) * 1000000000LL;
	m->duration_ns = (int64_t)o->interval_ms * 1000000LL;
	buf_init(&out, MEM_AGENT, SIZE_MAX);
	if (pprof_encode(g->p, true, &out) != 0) {
		buf_fini(&out);
		return 0;
	}
	if (o->dir) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s-%d-%lld.pb.gz", o->dir, g->comm, g->pid,
			 (long long)now);
		if (write_profile(&out, path) == 0)
			done = 1;
	}
	if (o->push && !o->batch) {
		struct prof_kv kv[AGENT_LABELS_MAX];
		size_t n = key_labels(g, kv);

		for (size_t i = 0; i < n; i++) {
			if (!strcmp(kv[i].key, "service_name"))
				service = kv[i].value;
			else
				tags[nt++] = (struct agent_push_tag){kv[i].key, kv[i].value};
		}
		size_t len;
		uint8_t *body = buf_steal(&out, &len);
		if (agent_push_enqueue(o->push, service, tags, nt,
				       (int64_t)now - o->interval_ms / 1000, (int64_t)now, body,
				       len) == 0)
			done = 1;
	}
	buf_fini(&out);
	return done;
}

/* --push-batch: every group's profile merged into one, each sample labelled with its group's
 * labels, pushed once (the server lifts sample labels into series labels, so the series are
 * those of the per-group pushes); 1 when queued. */
static int ship_batch(struct flush_run *r, time_t now)
{
	const struct agent_flush_opts *o = r->o;
	struct prof *host = prof_new();
	struct prof_kv kv[AGENT_LABELS_MAX];
	struct buf out;
	size_t len;
	uint8_t *body;
	int done = 0;

	for (size_t i = 0; i < r->n_groups; i++) {
		const struct group *g = &r->groups[i];
		size_t n = key_labels(g, kv);

		if (prof_merge_labeled(host, g->p, kv, n, NULL) != 0)
			log_msg(LOG_LEVEL_WARN,
				"agent: pid %d: cannot add its profile to the batch", g->pid);
	}
	prof_meta(host)->time_ns = ((int64_t)now - o->interval_ms / 1000) * 1000000000LL;
	prof_meta(host)->duration_ns = (int64_t)o->interval_ms * 1000000LL;
	buf_init(&out, MEM_AGENT, SIZE_MAX);
	if (prof_n_samples(host) && pprof_encode(host, true, &out) == 0) {
		body = buf_steal(&out, &len);
		/* the request's service is a fallback: every sample carries its own service_name */
		if (agent_push_enqueue(o->push, "ember-agent", NULL, 0,
				       (int64_t)now - o->interval_ms / 1000, (int64_t)now, body,
				       len) == 0)
			done = 1;
	}
	buf_fini(&out);
	prof_free(host);
	return done;
}

int agent_flush(struct agent_procs *procs, struct agent_collector *coll,
		const struct agent_flush_opts *o, struct agent_flush_stats *st)
{
	struct flush_run *r = mem_calloc(MEM_AGENT, 1, sizeof(*r));
	const int *pids;
	size_t n = agent_collector_pids(coll, &pids);
	time_t now = time(NULL);
	int written = 0;

	r->procs = procs;
	r->o = o;
	r->st = st;
	hmap_init(&r->by_hash, MEM_AGENT);
	for (size_t i = 0; i < n; i++) {
		struct prof *p = NULL;
		char comm[EMBER_COMM_LEN + 1];

		if (agent_collector_build(coll, pids[i], &p) != 0)
			continue;
		for (uint32_t loc = 1; loc <= prof_n_locations(p); loc++, st->frames++)
			if (prof_location_n_frames(p, loc) == 0)
				st->unnamed++;
		int64_t total = busiest_comm(p, comm);
		process_labels(r, p, pids[i], comm);
		if (o->relabel && !agent_relabel_apply(o->relabel, &r->ls)) {
			st->procs_dropped++;
			prof_free(p);
			continue;
		}
		if (!agent_labels_get(&r->ls, "service_name")[0])
			agent_labels_set(&r->ls, "service_name", comm);
		struct group *g = group_of(r);
		if (!g->p) {
			g->p = p;
		} else {
			st->procs_merged++;
			if (prof_merge(g->p, p, NULL) != 0)
				log_msg(LOG_LEVEL_WARN, "agent: pid %d: cannot merge its profile",
					pids[i]);
			prof_free(p);
		}
		if (total > g->best) {
			g->best = total;
			g->pid = pids[i];
			snprintf(g->comm, sizeof(g->comm), "%s", comm);
		}
	}
	for (size_t i = 0; i < r->n_groups; i++)
		written += ship(r, &r->groups[i], now);
	if (o->push && o->batch && r->n_groups)
		written += ship_batch(r, now);
	for (size_t i = 0; i < r->n_groups; i++) {
		prof_free(r->groups[i].p);
		mem_free(r->groups[i].key);
	}
	st->profiles += (uint64_t)written;
	agent_collector_reset(coll);
	mem_free(r->groups);
	hmap_fini(&r->by_hash);
	mem_free(r);
	/* Give the heap freed by this interval (profiles, tables built and released) back to the
	 * system: the agent's resident size should follow what it holds, not its peaks. */
	malloc_trim(0);
	return written;
}
