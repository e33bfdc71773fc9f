/*
 * pprof_dec_int.h — the pprof decoder's internals shared by its two files: pprof_parse.c
 * (phase 1: scanning and validating the input into scratch tables) and pprof_decode.c (phase 2:
 * building the profile, merge type matching, the public entry points). Not for other modules.
 */
#ifndef EMBER_FORMAT_PPROF_DEC_INT_H
#define EMBER_FORMAT_PPROF_DEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/hash.h"
#include "base/hmap.h"
#include "profile/profile.h"

#define PPROF_DEFAULT_MAX_BYTES ((size_t)512 << 20)
/* Real profiles have a handful; more is an attack on the merge's type matching. */
#define PPROF_MAX_SAMPLE_TYPES 1024
/* decode_merge keeps parsed samples (about 4 bytes per input byte at most) up to this input. */
#define PDEC_KEEP_MAX_BYTES ((size_t)64 << 20)
#define NONE		    UINT32_MAX
#define PDEC_MARGIN	    16

/* Where one length-delimited entry's payload lies in the input. */
struct span {
	uint32_t off;
	uint32_t len;
};

struct spans {
	struct span *v;
	size_t n, cap;
};

/* A string-table index read from the input, and the byte it was read at. */
struct sref {
	uint64_t idx;
	uint32_t off;
};

/* File ids (arbitrary nonzero uint64) to table index + 1. Ids 1..n_dense, which is what nearly
 * every writer produces, live in a flat array; others in the hash map. */
struct idmap {
	uint32_t *dense;
	size_t n_dense;
	struct hmap sparse;
	uint32_t max_id_val; /* the entry for id UINT64_MAX, which hmap cannot hold; 0 = none */
};

/* A parsed Location. mapping is a mapping index + 1 (0 = none); lines are c->lines[line0..). */
struct ploc {
	uint64_t address;
	uint32_t mapping;
	uint32_t line0;
	uint32_t n_lines;
	bool is_folded;
};

/* A location's content in target ids, for the merge session's cache (pprof_mcache.c); only for
 * locations of at most PMC_MAX_LINES lines. */
#define PMC_MAX_LINES 2
struct pmc_key {
	uint64_t address;
	int64_t line[PMC_MAX_LINES], column[PMC_MAX_LINES];
	uint32_t function[PMC_MAX_LINES];
	uint32_t mapping;
	uint8_t n_lines, is_folded;
};

/* A cached location: 32 bytes, in an array aligned so that each lies in one cache line. The
 * usual key (each line in 32 bits, no column) is inline; any other is kept whole in the
 * session's wide keys (pprof_mcache.c's PMC_E_WIDE), at the index in line[0]. */
struct pmc_ent {
	uint64_t address;
	uint32_t function[PMC_MAX_LINES];
	int32_t line[PMC_MAX_LINES];
	uint32_t meta; /* the key's mapping, n_lines and is_folded, and PMC_E_WIDE */
	uint32_t id;
};
/* Keys of larger target mapping ids are not cached (their locations are found in the target). */
#define PMC_E_MAPPING_MAX ((1u << 28) - 1)

/* A function by content: its three strings' bytes (name, system_name, filename) and start line.
 * Entries of the function cache keep the bytes in the session's arena: at off the name, then
 * system_name unless sys_is_name; at file_off the filename, whose bytes every entry of the same
 * file shares (pprof_mcache.c's fent_str). */
struct pmc_fkey {
	const uint8_t *s[3];
	uint32_t len[3];
	int64_t start_line;
};

struct pmc_fent {
	int64_t start_line;
	uint32_t off, file_off, len[3];
	bool sys_is_name; /* system_name has the same bytes as name (Go's functions) */
};

/* A merge session (pprof.h): the target and its location and function caches, plus per-input
 * scratch. */
struct pprof_merger {
	struct prof *dst;
	/* functions: content -> target id */
	uint64_t *fslots;
	size_t n_fslots;
	struct pmc_fent *fent; /* 64-byte aligned inside fent_block */
	void *fent_block;
	uint32_t *fent_id; /* per entry: the target's function id (apart: only hits read it) */
	size_t n_fent, cap_fent;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	/* the filenames in the arena, by content: tag << 32 | file_off + 1; 0 = free */
	uint64_t *file_slots;
	size_t n_file_slots, n_files;
	struct pmc_fkey *fkeys;
	uint64_t *fhash, *str_hash;
	uint32_t *fids, *fidx;
	size_t cap_fscratch, cap_str_hash;
	uint32_t *fent_of; /* target function id -> its entry index + 1 (0 = not cached) */
	size_t cap_fent_of;
	/* locations */
	uint64_t *slots; /* tag << 32 | entry index + 1; 0 = free */
	size_t n_slots;
	struct pmc_ent *ent; /* 64-byte aligned inside ent_block */
	void *ent_block;
	size_t n_ent, cap_ent;
	struct pmc_key *wide; /* the keys of wide entries */
	size_t n_wide, cap_wide;
	/* scratch for one input's locations */
	struct pmc_key *keys;
	uint64_t *hash;
	uint32_t *ids, *idx;
	size_t cap_scratch;
};

/* A location key's hash: by mapping and address alone when the address is known (what sets
 * locations apart in practice, and what pmc_lookup_file can hash before it knows the target ids
 * of the location's functions), else by the whole content. */
static inline uint64_t pmc_addr_hash(uint32_t mapping, uint64_t address)
{
	return hash_u64(hash_mix(address, mapping));
}
uint64_t pmc_hash(const struct pmc_key *k);
/* ids[j] = the cached target id of keys[j] (hash[j] = pmc_hash), or 0 when not cached. */
void pmc_lookup(const struct pprof_merger *m, const struct pmc_key *keys, const uint64_t *hash,
		size_t n, uint32_t *ids);
void pmc_insert(struct pprof_merger *m, const struct pmc_key *k, uint64_t h, uint32_t id);
/* The same for n locations of the input c, by their file indices idx[j] (each of at most
 * PMC_MAX_LINES lines, with a nonzero address and its mapping, if any, in c->map_dst;
 * hash[j] = pmc_addr_hash of those): an entry matches when its address, mapping, fold and lines are the
 * location's and each line's function is the file function's, which is decided by the function
 * cache's bytes of the target function and then noted in c->fn_dst (so each file function is
 * compared once per input, and only when a location needs it). */
struct pdec;
void pmc_lookup_file(const struct pprof_merger *m, struct pdec *c, const uint32_t *idx,
		     const uint64_t *hash, size_t n, uint32_t *ids);
/* Scratch arrays for n keys. */
void pmc_scratch(struct pprof_merger *m, size_t n);

/* The same for the function cache; a key's hash combines its strings' pmc_str_hash. */
uint64_t pmc_str_hash(const uint8_t *p, size_t n);
uint64_t pmc_fhash(uint64_t name_h, uint64_t system_name_h, uint64_t filename_h,
		   int64_t start_line);
void pmc_flookup(const struct pprof_merger *m, const struct pmc_fkey *keys, const uint64_t *hash,
		 size_t n, uint32_t *ids);
void pmc_finsert(struct pprof_merger *m, const struct pmc_fkey *k, uint64_t h, uint32_t id);
/* Scratch for n functions and n_str string hashes (zeroed: 0 = not computed yet). */
void pmc_fscratch(struct pprof_merger *m, size_t n, size_t n_str);

/* The decoder. Table structs hold *file* string indices and *file table* indices + 1 until
 * phase 2 converts them to ids of the target profile. */
struct pdec {
	const uint8_t *base;
	size_t len;
	/* the input less PDEC_MARGIN bytes (or base): a field ending before it can be read with
	 * pprof_varint_nocheck, whose reads stay inside the input */
	const uint8_t *safe_end;
	struct ember_diag *d;
	size_t max_samples;

	/* phase 1: the top-level scan */
	struct spans types, samples, mappings, locations, functions, strings, period_types;
	struct sref *comments;
	size_t n_comments, cap_comments;
	struct sref drop_frames, keep_frames, default_sample_type, doc_url;
	int64_t time_ns, duration_ns, period;

	/* phase 1: parsed tables */
	uint32_t n_str;
	struct prof_value_type *vt;
	struct prof_value_type period_type;
	struct prof_mapping *map;
	struct prof_function *fn;
	struct ploc *loc;
	struct prof_line *lines; /* function = function index + 1 */
	size_t n_lines, cap_lines;
	uint32_t max_loc_lines;
	struct idmap map_ids, fn_ids, loc_ids;

	/* phase 2: file index -> target id (NONE / 0 = not yet added), and stack memo */
	struct prof *dst;
	struct pprof_merger *mc; /* the merge session's cache, or NULL */
	bool merge;
	uint32_t *str_dst, *map_dst, *fn_dst, *loc_dst;
	/* merge session: file string -> the arena offset + 1 of the cached filename found to have
	 * its bytes (0 = not compared yet), so each is compared once per input */
	uint32_t *str_file;
	struct memo *memo; /* per location; decode only */
	uint32_t *chain;   /* decode: a new stack suffix's locations, then its nodes */
	size_t cap_chain;
	uint32_t *perm; /* file value index -> target value index */
	bool adopt_types;

	/* one sample at a time */
	uint32_t *s_loc; /* location indices, leaf first */
	size_t s_nloc, cap_loc;
	int64_t *s_val;
	size_t s_nval;
	struct prof_label *s_lab; /* file string indices */
	size_t s_nlab, cap_lab;
	/* merge: every sample as parsed during validation, so it is parsed once (keep) */
	bool keep;
	struct kept {
		size_t loc, lab;
		uint32_t nloc, nlab;
	} * k_off;
	size_t cap_k_off;
	uint32_t *k_loc;
	size_t k_nloc, cap_k_loc;
	int64_t *k_val;
	size_t cap_k_val;
	struct prof_label *k_lab;
	size_t k_nlab, cap_k_lab;
	uint32_t *k_nls, *k_ls; /* per sample: its location count, its target label set */
	size_t cap_k_nls, cap_k_ls;

	int64_t *val_dst;
	struct prof_label *lab_dst;
	size_t cap_lab_dst;
	struct prof_line *line_dst;
};

/* The bytes of file string i ("" when the input has no string table). */
static inline void pdec_src_str(const struct pdec *c, uint32_t i, const uint8_t **p, uint32_t *len)
{
	if (i < c->strings.n) {
		*p = c->base + c->strings.v[i].off;
		*len = c->strings.v[i].len;
	} else {
		*p = NULL;
		*len = 0;
	}
}

/* Per source location, the last two (parent node -> child node) steps taken through it, most
 * recent first: most stacks share their callers, so most steps skip prof_node_child. */
struct memo {
	uint32_t parent[2];
	uint32_t child[2];
};

#define PDEC_NO_FILL (-1)
struct alloc_spec {
	void **arr;
	size_t n, elem;
	int fill; /* byte to fill with, or PDEC_NO_FILL (the caller writes every entry) */
};

/* Phase 1 (pprof_parse.c). Each returns 0 or a negative code with a message in c->d. */
int pdec_fail(struct pdec *c, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int pdec_grow(struct pdec *c, void **arr, size_t *cap, size_t need, size_t elem);
/* pdec_grow with the common case (room enough) inline. */
static inline int pdec_fit(struct pdec *c, void **arr, size_t *cap, size_t need, size_t elem)
{
	return need <= *cap ? 0 : pdec_grow(c, arr, cap, need, elem);
}
int pdec_alloc_all(struct pdec *c, const struct alloc_spec *a, size_t n);
void pdec_idmap_fini(struct idmap *m);
int pdec_scan_profile(struct pdec *c);
int pdec_check_strings(struct pdec *c);
int pdec_parse_types(struct pdec *c);
int pdec_parse_tables(struct pdec *c);
int pdec_check_meta(struct pdec *c);
/* Parses and validates sample si into c->s_loc / s_val / s_lab (file indices). */
int pdec_parse_sample(struct pdec *c, size_t si);
/* Sample si as writers lay it out (packed location_id, then packed value, no label), read
 * without a bounds check per byte like the table entries: its location indices into loc (room
 * for that many) and its values into val; c->s_nloc, s_nval and s_nlab say how many. Anything
 * else (or too little room) returns false having changed nothing but the contents of loc and
 * val, and pdec_parse_sample's general path reads it (and reports any error). */
bool pdec_sample_fast(struct pdec *c, size_t si, uint32_t *loc, size_t room, int64_t *val);

#endif
