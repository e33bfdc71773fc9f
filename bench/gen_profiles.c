/*
 * gen_profiles.c — writes realistic synthetic Go-style CPU profiles for the merge benchmark.
 *
 * One program's symbol universe (2,000 functions in 40 packages, ~5,000 call-site locations,
 * 10% of them with an inlined frame) and 5,000 distinct stacks of depth 10..60 that reuse
 * prefixes of earlier stacks with Zipf-skewed popularity. Each profile holds 500 samples (stacks
 * drawn Zipf-wise, values samples/count and cpu/nanoseconds) and numbers its strings, functions
 * and locations in first-use order over its own shuffled samples, as Go's runtime writer does,
 * so no two files share id orders. Files are gzip (level 1, like Go's).
 *
 * Usage: gen_profiles OUTDIR [N=1000] [SEED=1]   writes OUTDIR/profile-NNNN.pb.gz
 * Never reads input; deterministic for a given seed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/strtab.h"
#include "base/wire.h"
#include "format/gzip.h"

#define N_FUNCS	      2000
#define N_PKGS	      40
#define N_STACKS      5000
#define MIN_DEPTH     10
#define MAX_DEPTH     60
#define N_SAMPLES     500
#define PERIOD_NS     10000000
#define MAP_START     0x400000ULL
#define MAP_LIMIT     0x2400000ULL
#define MAX_LOCS      (N_FUNCS * 5)
#define FUNC_NAME_MAX 128

struct gen_func {
	char name[FUNC_NAME_MAX];
	char file[FUNC_NAME_MAX];
	int64_t start_line;
};

struct gen_loc {
	uint64_t address;
	uint32_t n_lines; /* 1, or 2 when a callee was inlined into the call site */
	uint32_t func[2]; /* innermost first */
	int64_t line[2];
};

struct gen_stack {
	uint32_t depth;
	uint32_t *locs; /* root first */
};

struct gen_world {
	struct gen_func funcs[N_FUNCS];
	struct gen_loc *locs;
	uint32_t n_locs;
	struct gen_stack stacks[N_STACKS];
	double *stack_cdf; /* Zipf popularity of stacks */
};

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng_next() % n);
}

static double rng_unit(void)
{
	return (double)(rng_next() >> 11) / (double)(1ULL << 53);
}

/* Index in [0, n) from a cumulative distribution. */
static uint32_t pick_cdf(const double *cdf, uint32_t n)
{
	double u = rng_unit() * cdf[n - 1];
	uint32_t lo = 0, hi = n - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static double *zipf_cdf(uint32_t n, double s)
{
	double *cdf = mem_alloc(MEM_TEST, n * sizeof(*cdf));
	double acc = 0;
	for (uint32_t i = 0; i < n; i++) {
		acc += 1.0 / pow((double)i + 1, s);
		cdf[i] = acc;
	}
	return cdf;
}

static void make_funcs(struct gen_world *w)
{
	static const char *const verbs[] = {
		"Handle", "Serve",   "Decode",	"Encode", "Marshal", "parse", "lookup", "Write",
		"Read",	  "process", "compute", "scan",	  "flush",   "Get",   "Put",	"do"};
	static const char *const kinds[] = {"Server",  "Client",  "Conn", "Buffer", "Cache",
					    "Encoder", "Decoder", "Pool", "Tree",   "Table"};
	for (uint32_t i = 0; i < N_FUNCS; i++) {
		struct gen_func *f = &w->funcs[i];
		uint32_t pkg = i % N_PKGS;
		const char *verb = verbs[rng_below(EMBER_ARRAY_SIZE(verbs))];
		const char *kind = kinds[rng_below(EMBER_ARRAY_SIZE(kinds))];
		if (pkg < 6) /* runtime-ish packages */
			snprintf(f->name, sizeof(f->name), "runtime%s.%s%u", pkg ? "/internal" : "",
				 verb, i);
		else if (i % 3 == 0)
			snprintf(f->name, sizeof(f->name), "github.com/acme/svc/pkg%02u.(*%s).%s%u",
				 pkg, kind, verb, i);
		else
			snprintf(f->name, sizeof(f->name), "github.com/acme/svc/pkg%02u.%s%s%u",
				 pkg, verb, kind, i);
		snprintf(f->file, sizeof(f->file), "/src/github.com/acme/svc/pkg%02u/%s.go", pkg,
			 kind);
		f->start_line = 10 + rng_below(2000);
	}
}

static void make_locs(struct gen_world *w)
{
	w->locs = mem_calloc(MEM_TEST, MAX_LOCS, sizeof(*w->locs));
	uint64_t addr = MAP_START + 0x1000;
	for (uint32_t fi = 0; fi < N_FUNCS; fi++) {
		uint32_t sites = 1 + rng_below(4); /* 1..4 call sites per function: ~5k */
		for (uint32_t k = 0; k < sites && w->n_locs < MAX_LOCS; k++) {
			struct gen_loc *l = &w->locs[w->n_locs++];
			addr += 16 + rng_below(400);
			l->address = addr;
			l->n_lines = 1;
			l->func[0] = fi;
			l->line[0] = w->funcs[fi].start_line + 1 + rng_below(80);
			if (rng_below(10) == 0) { /* a small callee inlined here */
				l->n_lines = 2;
				l->func[1] = fi;
				l->line[1] = l->line[0];
				l->func[0] = rng_below(N_FUNCS);
				l->line[0] = w->funcs[l->func[0]].start_line + 1 + rng_below(10);
			}
		}
	}
}

static void make_stacks(struct gen_world *w)
{
	/* Roots are few (runtime.goexit-style entry points); inner frames any location. */
	double *reuse = zipf_cdf(N_STACKS, 1.0);
	for (uint32_t i = 0; i < N_STACKS; i++) {
		struct gen_stack *s = &w->stacks[i];
		s->depth = MIN_DEPTH + rng_below(MAX_DEPTH - MIN_DEPTH + 1);
		s->locs = mem_alloc(MEM_TEST, s->depth * sizeof(*s->locs));
		uint32_t n = 0;
		if (i > 0 && rng_below(10) < 9) {
			const struct gen_stack *parent = &w->stacks[pick_cdf(reuse, i)];
			uint32_t keep = 1 + rng_below(parent->depth);
			keep = EMBER_MIN(keep, s->depth - 1);
			memcpy(s->locs, parent->locs, keep * sizeof(*s->locs));
			n = keep;
		} else {
			s->locs[n++] = rng_below(8); /* one of a few root locations */
		}
		while (n < s->depth)
			s->locs[n++] = rng_below(w->n_locs);
	}
	mem_free(reuse);
	w->stack_cdf = zipf_cdf(N_STACKS, 0.9);
}

/* Per-profile first-use numbering of functions, locations and strings. */
struct gen_ids {
	uint32_t *loc_id;  /* world location -> profile id (0 = not yet) */
	uint32_t *func_id; /* world function -> profile id */
	uint32_t *loc_order;
	uint32_t n_loc;
	uint32_t *func_order;
	uint32_t n_func;
	struct strtab *strings;
};

static uint32_t str_id(struct gen_ids *ids, const char *s)
{
	return strtab_intern_cstr(ids->strings, s);
}

static void use_loc(struct gen_world *w, struct gen_ids *ids, uint32_t loc)
{
	if (ids->loc_id[loc])
		return;
	ids->loc_id[loc] = ++ids->n_loc;
	ids->loc_order[ids->n_loc - 1] = loc;
	for (uint32_t k = 0; k < w->locs[loc].n_lines; k++) {
		uint32_t f = w->locs[loc].func[k];
		if (!ids->func_id[f]) {
			ids->func_id[f] = ++ids->n_func;
			ids->func_order[ids->n_func - 1] = f;
		}
	}
}

static int put_value_type(struct buf *b, uint32_t field, uint32_t type, uint32_t unit)
{
	size_t m = wire_begin(b);
	int rc = wire_put_uint(b, 1, type);
	rc = rc ? rc : wire_put_uint(b, 2, unit);
	return rc ? rc : wire_end(b, field, m);
}

static int encode_profile(struct gen_world *w, struct gen_ids *ids, int64_t t_ns, struct buf *b)
{
	uint32_t picked[N_SAMPLES];
	int64_t counts[N_SAMPLES];
	uint8_t *used = mem_calloc(MEM_TEST, N_STACKS, 1);
	for (uint32_t i = 0; i < N_SAMPLES; i++) {
		uint32_t s;
		do
			s = pick_cdf(w->stack_cdf, N_STACKS);
		while (used[s]);
		used[s] = 1;
		picked[i] = s;
		counts[i] = 1 + (int64_t)(4.0 / (0.05 + rng_unit()));
	}
	mem_free(used);

	memset(ids->loc_id, 0, w->n_locs * sizeof(*ids->loc_id));
	memset(ids->func_id, 0, N_FUNCS * sizeof(*ids->func_id));
	ids->n_loc = ids->n_func = 0;
	ids->strings = strtab_new(MEM_TEST);

	int rc = 0;
	uint32_t st_samples = str_id(ids, "samples"), st_count = str_id(ids, "count");
	uint32_t st_cpu = str_id(ids, "cpu"), st_ns = str_id(ids, "nanoseconds");
	rc = rc ? rc : put_value_type(b, 1, st_samples, st_count);
	rc = rc ? rc : put_value_type(b, 1, st_cpu, st_ns);

	for (uint32_t i = 0; i < N_SAMPLES && !rc; i++) {
		const struct gen_stack *s = &w->stacks[picked[i]];
		size_t m = wire_begin(b);
		size_t pm = wire_begin(b);
		for (uint32_t k = s->depth; k-- > 0;) { /* leaf first */
			use_loc(w, ids, s->locs[k]);
			rc = rc ? rc : wire_put_varint(b, ids->loc_id[s->locs[k]]);
		}
		rc = rc ? rc : wire_end(b, 1, pm);
		pm = wire_begin(b);
		rc = rc ? rc : wire_put_varint(b, (uint64_t)counts[i]);
		rc = rc ? rc : wire_put_varint(b, (uint64_t)(counts[i] * PERIOD_NS));
		rc = rc ? rc : wire_end(b, 2, pm);
		rc = rc ? rc : wire_end(b, 2, m);
	}

	/* Mapping 1: the main binary. */
	size_t m = wire_begin(b);
	rc = rc ? rc : wire_put_uint(b, 1, 1);
	rc = rc ? rc : wire_put_uint(b, 2, MAP_START);
	rc = rc ? rc : wire_put_uint(b, 3, MAP_LIMIT);
	rc = rc ? rc : wire_put_uint(b, 5, str_id(ids, "/usr/local/bin/svc"));
	rc = rc ? rc : wire_put_uint(b, 6, str_id(ids, "4f1c2a9be07d3e5a8c6b1d0e9f7a2b3c4d5e6f70"));
	rc = rc ? rc : wire_put_uint(b, 7, 1);
	rc = rc ? rc : wire_put_uint(b, 8, 1);
	rc = rc ? rc : wire_put_uint(b, 9, 1);
	rc = rc ? rc : wire_put_uint(b, 10, 1);
	rc = rc ? rc : wire_end(b, 3, m);

	for (uint32_t i = 0; i < ids->n_loc && !rc; i++) {
		const struct gen_loc *l = &w->locs[ids->loc_order[i]];
		m = wire_begin(b);
		rc = rc ? rc : wire_put_uint(b, 1, i + 1);
		rc = rc ? rc : wire_put_uint(b, 2, 1);
		rc = rc ? rc : wire_put_uint(b, 3, l->address);
		for (uint32_t k = 0; k < l->n_lines; k++) {
			size_t lm = wire_begin(b);
			rc = rc ? rc : wire_put_uint(b, 1, ids->func_id[l->func[k]]);
			rc = rc ? rc : wire_put_int(b, 2, l->line[k]);
			rc = rc ? rc : wire_end(b, 4, lm);
		}
		rc = rc ? rc : wire_end(b, 4, m);
	}
	for (uint32_t i = 0; i < ids->n_func && !rc; i++) {
		const struct gen_func *f = &w->funcs[ids->func_order[i]];
		uint32_t name = str_id(ids, f->name);
		m = wire_begin(b);
		rc = rc ? rc : wire_put_uint(b, 1, i + 1);
		rc = rc ? rc : wire_put_uint(b, 2, name);
		rc = rc ? rc : wire_put_uint(b, 3, name);
		rc = rc ? rc : wire_put_uint(b, 4, str_id(ids, f->file));
		rc = rc ? rc : wire_put_int(b, 5, f->start_line);
		rc = rc ? rc : wire_end(b, 5, m);
	}
	uint32_t n_str = strtab_count(ids->strings);
	for (uint32_t i = 0; i < n_str && !rc; i++) {
		size_t len;
		const char *s = strtab_get(ids->strings, i, &len);
		rc = wire_put_bytes(b, 6, s, len);
	}
	rc = rc ? rc : wire_put_int(b, 9, t_ns);
	rc = rc ? rc : wire_put_int(b, 10, 10000000000LL);
	rc = rc ? rc : put_value_type(b, 11, st_cpu, st_ns);
	rc = rc ? rc : wire_put_int(b, 12, PERIOD_NS);
	strtab_free(ids->strings);
	ids->strings = NULL;
	return rc;
}

static int write_file(const char *path, const struct buf *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t off = 0;
	while (off < b->len) {
		ssize_t n = write(fd, b->data + off, b->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = -errno;
			close(fd);
			return err;
		}
		off += (size_t)n;
	}
	return close(fd) == 0 ? 0 : -errno;
}

static long parse_arg(const char *s, const char *what)
{
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > 1000000) {
		fprintf(stderr, "gen_profiles: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: gen_profiles OUTDIR [N=1000] [SEED=1]\n");
		return 2;
	}
	const char *dir = argv[1];
	long n = argc > 2 ? parse_arg(argv[2], "N") : 1000;
	rng_state = argc > 3 ? (uint64_t)parse_arg(argv[3], "SEED") : 1;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "gen_profiles: %s: %s\n", dir, strerror(errno));
		return 1;
	}

	struct gen_world *w = mem_calloc(MEM_TEST, 1, sizeof(*w));
	make_funcs(w);
	make_locs(w);
	make_stacks(w);
	struct gen_ids ids = {
		.loc_id = mem_calloc(MEM_TEST, w->n_locs, sizeof(uint32_t)),
		.func_id = mem_calloc(MEM_TEST, N_FUNCS, sizeof(uint32_t)),
		.loc_order = mem_calloc(MEM_TEST, w->n_locs, sizeof(uint32_t)),
		.func_order = mem_calloc(MEM_TEST, N_FUNCS, sizeof(uint32_t)),
	};

	struct buf raw, gz, path;
	buf_init(&raw, MEM_TEST, SIZE_MAX);
	buf_init(&gz, MEM_TEST, SIZE_MAX);
	buf_init(&path, MEM_TEST, 4096);
	int64_t t0 = 1767225600LL * 1000000000LL; /* 2026-01-01 */
	size_t raw_total = 0, gz_total = 0;
	int rc = 0;
	for (long i = 0; i < n && rc == 0; i++) {
		buf_reset(&raw);
		buf_reset(&gz);
		buf_reset(&path);
		rc = encode_profile(w, &ids, t0 + i * 10000000000LL, &raw);
		rc = rc ? rc : gzip_deflate(raw.data, raw.len, 1, &gz);
		rc = rc ? rc : buf_printf(&path, "%s/profile-%04ld.pb.gz", dir, i);
		rc = rc ? rc : write_file((const char *)path.data, &gz);
		raw_total += raw.len;
		gz_total += gz.len;
	}
	if (rc) {
		fprintf(stderr, "gen_profiles: %s\n", ember_strerror(rc));
		return 1;
	}
	printf("gen_profiles: %ld profiles in %s: %.1f MB raw, %.1f MB gzip, %u locations, "
	       "%d functions, %d stacks\n",
	       n, dir, (double)raw_total / 1e6, (double)gz_total / 1e6, w->n_locs, N_FUNCS,
	       N_STACKS);

	buf_fini(&raw);
	buf_fini(&gz);
	buf_fini(&path);
	for (uint32_t i = 0; i < N_STACKS; i++)
		mem_free(w->stacks[i].locs);
	mem_free(w->stack_cdf);
	mem_free(w->locs);
	mem_free(ids.loc_id);
	mem_free(ids.func_id);
	mem_free(ids.loc_order);
	mem_free(ids.func_order);
	mem_free(w);
	return 0;
}
