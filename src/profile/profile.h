/*
 * profile.h — the in-memory profile model every Ember module shares.
 *
 * A profile owns deduplicated tables (strings, mappings, functions, locations with inline
 * lines, label sets), a stack tree and its samples:
 *
 *   - strings: interned; id 0 is "". Every name in the model is a string id.
 *   - mappings, functions, locations: 1-based ids (0 = none), deduplicated by content, so adding
 *     the same record twice returns the same id. Ids are dense: 1..prof_n_<table>(p).
 *   - label sets: a sample's labels as one interned id (0 = no labels); order-insensitive.
 *   - stack tree: a parent-pointer tree of locations. Node 0 is the root (no location); every
 *     other node has a parent and a location. One node id is one unique stack (root..leaf), so a
 *     stack is one integer. Node ids are dense: 0..prof_n_nodes(p)-1, parents before children.
 *   - samples: (node, label set, values[n_sample_types]); adding a sample whose (node, label set)
 *     exists adds its values element by element, so samples are unique per (node, label set).
 *
 * Sample types must be declared before the first sample. Allocation failure aborts (sizes here
 * are bounded by the decoders' input limits). Pointers returned by getters stay valid until the
 * next call that adds to the same table.
 */
#ifndef EMBER_PROFILE_PROFILE_H
#define EMBER_PROFILE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct prof;

struct prof_value_type {
	uint32_t type; /* string id, e.g. "cpu" */
	uint32_t unit; /* string id, e.g. "nanoseconds" */
};

struct prof_mapping {
	uint64_t memory_start;
	uint64_t memory_limit;
	uint64_t file_offset;
	uint32_t filename; /* string id */
	uint32_t build_id; /* string id */
	bool has_functions;
	bool has_filenames;
	bool has_line_numbers;
	bool has_inline_frames;
};

struct prof_function {
	uint32_t name;	      /* string id: human-readable (demangled) name */
	uint32_t system_name; /* string id: e.g. mangled name */
	uint32_t filename;    /* string id */
	int64_t start_line;
};

struct prof_line {
	uint32_t function; /* function id, 0 = none */
	int64_t line;
	int64_t column;
};

/* A location as returned by prof_location_get. lines[0] is the innermost (inlined) callee, the
 * last line the caller it was inlined into, as in pprof. */
struct prof_location {
	uint32_t mapping; /* mapping id, 0 = none */
	uint64_t address;
	bool is_folded;
	uint32_t n_lines;
	const struct prof_line *lines; /* borrowed */
};

struct prof_label {
	uint32_t key;	   /* string id */
	uint32_t str;	   /* string id, 0 when numeric */
	int64_t num;	   /* numeric value when str == 0 */
	uint32_t num_unit; /* string id, 0 = none */
};

struct prof_sample {
	uint32_t node;
	uint32_t labelset;
	const int64_t *values; /* borrowed; prof_n_sample_types(p) entries */
};

/* Scalar profile fields. String fields are string ids (0 = unset). */
struct prof_meta {
	struct prof_value_type period_type;
	int64_t period;
	int64_t time_ns;
	int64_t duration_ns;
	uint32_t drop_frames;
	uint32_t keep_frames;
	uint32_t default_sample_type;
	uint32_t doc_url;
};

struct prof *prof_new(void);
void prof_free(struct prof *p);

/* Scalars: the returned struct may be written directly. */
struct prof_meta *prof_meta(struct prof *p);
const struct prof_meta *prof_meta_get(const struct prof *p);

/* Strings. */
uint32_t prof_intern(struct prof *p, const void *s, size_t len);
uint32_t prof_intern_cstr(struct prof *p, const char *s);
/* Interns string id of src (its hash reused). */
uint32_t prof_intern_from(struct prof *p, const struct prof *src, uint32_t id);
const char *prof_string(const struct prof *p, uint32_t id); /* NUL-terminated; "" if out of range */
size_t prof_string_len(const struct prof *p, uint32_t id);
uint32_t prof_n_strings(const struct prof *p);
/* Id of s when interned already. */
bool prof_find_string(const struct prof *p, const char *s, uint32_t *id);

/* Sample types: only before the first sample; returns the index. */
size_t prof_add_sample_type(struct prof *p, uint32_t type, uint32_t unit);
/* Rename sample type i (e.g. a client's display name and unit); i must be < n_sample_types. */
void prof_set_sample_type(struct prof *p, size_t i, uint32_t type, uint32_t unit);
size_t prof_n_sample_types(const struct prof *p);
const struct prof_value_type *prof_sample_types(const struct prof *p);
/* Index of the sample type named `type` (unit ignored when NULL), or -1. */
int prof_find_sample_type(const struct prof *p, const char *type, const char *unit);
/* The index pprof shows by default: default_sample_type when set and found, else the last. */
size_t prof_default_sample_type(const struct prof *p);

void prof_add_comment(struct prof *p, uint32_t str);
const uint32_t *prof_comments(const struct prof *p, size_t *n);

/* Tables. The add functions deduplicate and return the 1-based id. */
uint32_t prof_add_mapping(struct prof *p, const struct prof_mapping *m);
uint32_t prof_add_function(struct prof *p, const struct prof_function *f);
uint32_t prof_add_location(struct prof *p, uint32_t mapping, uint64_t address,
			   const struct prof_line *lines, uint32_t n_lines, bool is_folded);
uint32_t prof_n_mappings(const struct prof *p);
uint32_t prof_n_functions(const struct prof *p);
uint32_t prof_n_locations(const struct prof *p);
const struct prof_mapping *prof_mapping_get(const struct prof *p, uint32_t id);
const struct prof_function *prof_function_get(const struct prof *p, uint32_t id);
void prof_location_get(const struct prof *p, uint32_t id, struct prof_location *out);

/* Label sets: labels are copied and sorted; returns the id (0 for n == 0). */
uint32_t prof_add_labelset(struct prof *p, const struct prof_label *labels, size_t n);
const struct prof_label *prof_labelset_get(const struct prof *p, uint32_t id, size_t *n);
uint32_t prof_n_labelsets(const struct prof *p); /* including the empty set 0 */

/* Stack tree. */
uint32_t prof_node_child(struct prof *p, uint32_t parent, uint32_t location);
/* n new nodes below parent, which must have no children (the caller just created it), one per
 * location, root first: each the child of the one before. nodes[i] = the node of locations[i].
 * The same as n calls to prof_node_child, with the index's misses overlapped. */
void prof_node_chain(struct prof *p, uint32_t parent, const uint32_t *locations_root_first,
		     size_t n, uint32_t *nodes);
/* The child of parent at location when it exists (no insertion). */
bool prof_node_find(const struct prof *p, uint32_t parent, uint32_t location, uint32_t *node);
/* The node for a stack given leaf first (pprof order). n == 0 gives the root. */
uint32_t prof_add_stack(struct prof *p, const uint32_t *locations_leaf_first, size_t n);
/* Read-only lookups, safe alongside other readers of p: a string by its bytes, a mapping by
 * its content (strings as ids of p), and the nodes of n stacks laid one after the other, leaf
 * first (n_locations[i] locations each; the lookups of later ones overlapped with the compares
 * of earlier ones; hash: scratch for n), false as soon as p lacks a node of one (node[] then
 * partly written). */
bool prof_find_bytes(const struct prof *p, const void *s, size_t len, uint32_t *id);
bool prof_find_mapping(const struct prof *p, const struct prof_mapping *m, uint32_t *id);
bool prof_find_stacks(const struct prof *p, size_t n, const uint32_t *locations_leaf_first,
		      const uint32_t *n_locations, uint64_t *hash, uint32_t *node);
uint32_t prof_n_nodes(const struct prof *p);
/* The stack tree as an array, for loops over every node: nodes[i] for i < prof_n_nodes(p)
 * (node 0 is the root); valid until the next node is added. */
struct prof_node {
	uint32_t parent, location;
};
const struct prof_node *prof_nodes(const struct prof *p);
uint32_t prof_node_parent(const struct prof *p, uint32_t node);
uint32_t prof_node_location(const struct prof *p, uint32_t node);
/* Number of locations from node up to the root. */
uint32_t prof_node_depth(const struct prof *p, uint32_t node);

/* Size the stack tree and sample tables for about this many more nodes and samples (a decoder
 * knows them up front); saves rehashing. Optional. */
void prof_reserve(struct prof *p, size_t n_nodes, size_t n_samples);
/* The same for about this many more functions, locations and location lines. Optional. */
void prof_reserve_symbols(struct prof *p, size_t n_functions, size_t n_locations, size_t n_lines);

/* Samples. */
void prof_add_sample(struct prof *p, uint32_t node, uint32_t labelset, const int64_t *values);
/* n samples at once, with the same result as prof_add_stack then prof_add_sample for each in
 * order: sample j's stack is the next n_locations[j] entries of locations_leaf_first (the stacks
 * one after the other), its label set labelsets[j] (NULL: all 0) and its values
 * values[j * n_types ...]. Faster for many samples: their lookups are prefetched in a pipeline. */
void prof_add_samples(struct prof *p, size_t n, const uint32_t *locations_leaf_first,
		      const uint32_t *n_locations, const uint32_t *labelsets,
		      const int64_t *values);
size_t prof_n_samples(const struct prof *p);
void prof_sample_get(const struct prof *p, size_t i, struct prof_sample *out);
/* Mutable values of sample i (for scaling). */
int64_t *prof_sample_values(struct prof *p, size_t i);
/* Sum of values of sample type vi over all samples. */
int64_t prof_total(const struct prof *p, size_t vi);

/* Frames: a location expands to max(1, n_lines) frames, innermost first. The display name of
 * frame i of a location: its function's name, else system name, else "<mapping basename>+0x<off>"
 * or "0x<addr>" formatted into tmp. */
uint32_t prof_location_n_frames(const struct prof *p, uint32_t loc);
const char *prof_frame_name(const struct prof *p, uint32_t loc, uint32_t i, char tmp[80]);

/* Memory held by the profile, for limits and metrics. */
size_t prof_bytes(const struct prof *p);

#endif
