/*
 * block_read.c — opens an immutable block file (mmap, read-only) and parses it into a
 * struct store_sdata: checks the header, the footer and every section checksum before trusting
 * a byte, decodes the symbol dictionary, the series table and the postings; sample chunks stay
 * compressed in the mapping and are decoded per query (store_chunk_decode, which re-checks the
 * chunk checksum). Any defect returns -EMBER_ECORRUPT with the byte offset where it was found.
 * Blocks are reference-counted: queries hold a reference while they read. Never logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"
#include "store/store_int.h"

#define BLOCK_HDR_BYTES	   40
#define BLOCK_FOOTER_BYTES 128
#define MAX_SECTION_RAW	   (1ull << 30)

struct section {
	const uint8_t *p;
	size_t n;
	size_t off;
};

static int parse_series(struct store_block *b, const struct section *sec,
			const struct section *chunks, uint32_t version, size_t *bad_off)
{
	struct store_sdata *sd = &b->sd;
	uint8_t *raw;
	size_t raw_len;
	struct store_rd r;
	uint64_t n, ns = prof_n_strings(sd->dict);
	int rc = store_zstd_get(sec->p, sec->n, MAX_SECTION_RAW, &raw, &raw_len);

	*bad_off = sec->off;
	if (rc)
		return rc;
	store_rd_init(&r, raw, raw_len);
	n = store_rd_count(&r, 10, UINT32_MAX - 1);
	sd->series = mem_calloc(MEM_STORE, n ? n : 1, sizeof(*sd->series));
	sd->cap_series = (uint32_t)(n ? n : 1);
	for (uint64_t i = 0; i < n && !r.err; i++) {
		struct store_series_rec *s = &sd->series[i];
		uint64_t nl = store_rd_count(&r, 2, 4096), off, len;

		s->labels = mem_alloc(MEM_STORE, (nl ? nl : 1) * 8);
		s->n_labels = (uint32_t)nl;
		sd->n_series = (uint32_t)i + 1;
		for (uint64_t k = 0; k < 2 * nl; k++) {
			uint64_t v = store_rd_uv(&r);

			if (v >= ns)
				r.err = -EMBER_ECORRUPT;
			s->labels[k] = (uint32_t)v;
		}
		s->min_t = store_rd_sv(&r);
		s->max_t = store_rd_sv(&r);
		s->n_prof = store_rd_uv(&r);
		s->n_smp = store_rd_uv(&r);
		off = store_rd_uv(&r);
		len = store_rd_uv(&r);
		s->chunk_a_len = (size_t)store_rd_uv(&r);
		s->chunk_a_raw = (size_t)store_rd_uv(&r);
		s->chunk_b_raw = (size_t)store_rd_uv(&r);
		s->chunk_crc = (uint32_t)store_rd_uv(&r);
		if (r.err || off > chunks->n || len > chunks->n - off || s->min_t > s->max_t ||
		    s->chunk_a_len > len || s->chunk_a_raw > MAX_SECTION_RAW ||
		    s->chunk_b_raw > MAX_SECTION_RAW) {
			r.err = -EMBER_ECORRUPT;
			break;
		}
		s->chunk = chunks->p + off;
		s->chunk_len = (size_t)len;
		if (version >= 2 && (s->rollup_len = (size_t)store_rd_uv(&r))) {
			s->rollup_raw = (size_t)store_rd_uv(&r);
			s->rollup_crc = (uint32_t)store_rd_uv(&r);
			s->rollup_period = store_rd_sv(&r);
			if (r.err || s->rollup_len > chunks->n - off - len ||
			    s->rollup_raw > MAX_SECTION_RAW) {
				r.err = -EMBER_ECORRUPT;
				break;
			}
			s->rollup = s->chunk + len;
		}
		sd->n_prof += s->n_prof;
		sd->n_smp += s->n_smp;
	}
	if (!r.err && r.p != r.end)
		r.err = -EMBER_ECORRUPT;
	mem_free(raw);
	return r.err;
}

static int parse_postings(struct store_block *b, const struct section *sec, size_t *bad_off)
{
	struct store_sdata *sd = &b->sd;
	uint8_t *raw;
	size_t raw_len;
	struct store_rd r;
	uint64_t n, ns = prof_n_strings(sd->dict);
	int rc = store_zstd_get(sec->p, sec->n, MAX_SECTION_RAW, &raw, &raw_len);

	*bad_off = sec->off;
	if (rc)
		return rc;
	store_rd_init(&r, raw, raw_len);
	n = store_rd_count(&r, 3, UINT32_MAX - 1);
	sd->postings = mem_calloc(MEM_STORE, n ? n : 1, sizeof(*sd->postings));
	sd->cap_postings = (uint32_t)(n ? n : 1);
	for (uint64_t i = 0; i < n && !r.err; i++) {
		struct store_posting *p = &sd->postings[i];
		uint64_t name = store_rd_uv(&r), value = store_rd_uv(&r);
		uint64_t cnt = store_rd_count(&r, 1, sd->n_series), prev = 0;
		bool found;

		if (r.err || name >= ns || value >= ns) {
			r.err = -EMBER_ECORRUPT;
			break;
		}
		p->name = (uint32_t)name;
		p->value = (uint32_t)value;
		p->ids = mem_alloc(MEM_STORE, (cnt ? cnt : 1) * 4);
		p->cap = (uint32_t)(cnt ? cnt : 1);
		sd->n_postings = (uint32_t)i + 1;
		for (uint64_t k = 0; k < cnt; k++) {
			uint64_t d = store_rd_uv(&r);

			prev += d;
			if ((k && d == 0) || prev >= sd->n_series) {
				r.err = -EMBER_ECORRUPT;
				break;
			}
			p->ids[k] = (uint32_t)prev;
		}
		p->n = (uint32_t)cnt;
		hmap_upsert(&sd->posting_index, name << 32 | value, i, &found);
		if (found)
			r.err = -EMBER_ECORRUPT;
	}
	if (!r.err && r.p != r.end)
		r.err = -EMBER_ECORRUPT;
	mem_free(raw);
	return r.err;
}

int store_block_parse(const uint8_t *p, size_t n, struct store_block *b, size_t *bad_off)
{
	const uint8_t *f;
	struct section sec[5];
	uint32_t n_series, version;
	int rc;

	memset(b, 0, sizeof(*b));
	atomic_init(&b->ref, 1);
	store_sdata_init(&b->sd, "");
	*bad_off = 0;
	if (n < BLOCK_HDR_BYTES + BLOCK_FOOTER_BYTES || memcmp(p, "EMBERBLK", 8) ||
	    store_get_u32le(p + 36) != store_crc32c(0, p, 36))
		return -EMBER_ECORRUPT;
	version = store_get_u32le(p + 8);
	if (version < 1 || version > 2) /* 2 adds rollups */
		return -EMBER_EVERSION;
	n_series = store_get_u32le(p + 12);
	b->sd.min_t = (int64_t)store_get_u64le(p + 16);
	b->sd.max_t = (int64_t)store_get_u64le(p + 24);
	f = p + n - BLOCK_FOOTER_BYTES;
	*bad_off = n - BLOCK_FOOTER_BYTES;
	if (memcmp(f + 120, "EMBEREND", 8) || store_get_u32le(f + 116) != store_crc32c(0, f, 116) ||
	    store_get_u32le(f) != 4)
		return -EMBER_ECORRUPT;
	for (uint32_t i = 0; i < 4; i++) {
		const uint8_t *e = f + 4 + 24 * i;
		uint64_t off = store_get_u64le(e + 8), len = store_get_u64le(e + 16);

		*bad_off = n - BLOCK_FOOTER_BYTES + 4 + 24 * i;
		if (store_get_u32le(e) != i + 1 || off < BLOCK_HDR_BYTES ||
		    off > n - BLOCK_FOOTER_BYTES || len > n - BLOCK_FOOTER_BYTES - off)
			return -EMBER_ECORRUPT;
		*bad_off = (size_t)off;
		if (store_crc32c(0, p + off, (size_t)len) != store_get_u32le(e + 4))
			return -EMBER_ECORRUPT;
		sec[i + 1].p = p + off;
		sec[i + 1].n = (size_t)len;
		sec[i + 1].off = (size_t)off;
	}
	/* symbols */
	{
		uint8_t *raw;
		size_t raw_len;
		struct store_rd r;
		struct prof *dict;

		*bad_off = sec[1].off;
		rc = store_zstd_get(sec[1].p, sec[1].n, MAX_SECTION_RAW, &raw, &raw_len);
		if (rc)
			return rc;
		store_rd_init(&r, raw, raw_len);
		rc = store_prof_decode(&r, &dict);
		if (!rc && r.p != r.end) {
			prof_free(dict);
			rc = -EMBER_ECORRUPT;
		}
		mem_free(raw);
		if (rc)
			return rc;
		prof_free(b->sd.dict);
		b->sd.dict = dict;
	}
	rc = parse_series(b, &sec[2], &sec[4], version, bad_off);
	if (rc)
		return rc;
	if (b->sd.n_series != n_series) {
		*bad_off = 12;
		return -EMBER_ECORRUPT;
	}
	rc = parse_postings(b, &sec[3], bad_off);
	if (rc)
		return rc;
	if (b->sd.n_prof != store_get_u64le(f + 100) || b->sd.n_smp != store_get_u64le(f + 108)) {
		*bad_off = n - BLOCK_FOOTER_BYTES + 100;
		return -EMBER_ECORRUPT;
	}
	b->map = (void *)p;
	b->map_len = n;
	return 0;
}

void store_block_fini(struct store_block *b)
{
	store_sdata_fini(&b->sd);
	if (b->mapped && b->map)
		munmap(b->map, b->map_len);
	mem_free(b->path);
	b->map = NULL;
	b->path = NULL;
}

int store_block_open(const char *path, struct store_block **out, size_t *bad_off)
{
	struct store_block *b;
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	*out = NULL;
	*bad_off = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (st.st_size < BLOCK_HDR_BYTES + BLOCK_FOOTER_BYTES) {
		close(fd);
		return -EMBER_ECORRUPT;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -errno;
	b = mem_alloc(MEM_STORE, sizeof(*b));
	rc = store_block_parse(map, (size_t)st.st_size, b, bad_off);
	b->map = map;
	b->map_len = (size_t)st.st_size;
	b->mapped = true;
	if (rc) {
		store_block_fini(b);
		mem_free(b);
		return rc;
	}
	b->path = mem_strdup(MEM_STORE, path);
	*out = b;
	return 0;
}

void store_block_unref(struct store_block *b)
{
	if (b && atomic_fetch_sub(&b->ref, 1) == 1) {
		store_block_fini(b);
		mem_free(b);
	}
}
