/*
 * ycfg.h — reading YAML configuration files (libyaml's document API) the one way every Ember
 * config does it: one document, a mapping at the top, bounded values, unique keys, and every
 * error naming the file, the line and the key path ("agent.yaml:12: relabel_configs[1].regex:
 * ..."). The server's config, its scrape_configs and the agent's config read through this.
 *
 * Paths are strings built with ycfg_path_join/ycfg_path_index into YCFG_PATH_MAX bytes.
 * A plain scalar that YAML reads as null ("", "~", "null") counts as absent: each_pair skips
 * it and each_item/map iteration treat a null list or mapping as empty.
 */
#ifndef EMBER_FORMAT_YCFG_H
#define EMBER_FORMAT_YCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "base/err.h"

#define YCFG_PATH_MAX	 256
#define YCFG_MAX_SCALAR	 4096
#define YCFG_MAX_TEXT	 (1u << 20) /* a config file larger than 1 MiB is refused */
#define YCFG_MAX_KEY_LEN 128

struct arena;
struct ycfg;

/* Parses text (at most YCFG_MAX_TEXT bytes) as one YAML document; a second document, a syntax
 * error or a top level that is not a mapping (or empty) fails with the line in d. Later errors
 * of the getters below go to the same d. origin names the file in messages. */
int ycfg_load(const char *text, size_t len, const char *origin, struct ycfg **out,
	      struct ember_diag *d);
/* Reads the file at path (at most YCFG_MAX_TEXT bytes) and loads it. */
int ycfg_load_file(const char *path, struct ycfg **out, struct ember_diag *d);
void ycfg_free(struct ycfg *y);

/* The top mapping, or NULL for an empty document. */
yaml_node_t *ycfg_root(const struct ycfg *y);
yaml_node_t *ycfg_node(const struct ycfg *y, int id);
/* A caller's context, for callbacks. */
void ycfg_set_user(struct ycfg *y, void *user);
void *ycfg_user(const struct ycfg *y);

void ycfg_path_join(char out[YCFG_PATH_MAX], const char *base, const char *key);
void ycfg_path_index(char out[YCFG_PATH_MAX], const char *base, size_t i);

/* "<origin>:<line>: <path>: <message>" into d (without the line when n is NULL); returns
 * -EMBER_EUSAGE. */
int ycfg_err(struct ycfg *y, const yaml_node_t *n, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
bool ycfg_is_null(const yaml_node_t *n);
/* "a value", "a list", "a mapping". */
const char *ycfg_type_name(const yaml_node_t *n);

/* A scalar of at most YCFG_MAX_SCALAR bytes without NUL; *out points into the document. */
int ycfg_scalar(struct ycfg *y, const yaml_node_t *n, const char *path, const char **out);
/* A non-empty scalar of at most max bytes without control characters (tab allowed), copied
 * into a. */
int ycfg_str(struct ycfg *y, const yaml_node_t *n, const char *path, struct arena *a, size_t max,
	     const char **out);
int ycfg_u64(struct ycfg *y, const yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
	     uint64_t *out);
/* true/false (also True/TRUE/yes/on and False/FALSE/no/off). */
int ycfg_bool(struct ycfg *y, const yaml_node_t *n, const char *path, bool *out);
/* A duration such as 500ms, 90s, 1m30s, 12h, 30d, 2w, or "0"; in [min, max] ns. */
int ycfg_duration(struct ycfg *y, const yaml_node_t *n, const char *path, int64_t min, int64_t max,
		  int64_t *out);
/* A size such as 4096, 512KiB, 16MiB, 1GB; in [min, max] bytes. */
int ycfg_size(struct ycfg *y, const yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
	      uint64_t *out);

/* Calls fn for each pair of a mapping whose value is not null, in file order, with the key's
 * path; keys must be unique scalars of at most YCFG_MAX_KEY_LEN bytes. Stops at the first
 * error. A null map is empty. */
typedef int (*ycfg_pair_fn)(struct ycfg *y, const char *key, yaml_node_t *val, const char *path,
			    void *arg);
int ycfg_each_pair(struct ycfg *y, yaml_node_t *map, const char *path, ycfg_pair_fn fn, void *arg);
/* Inside a ycfg_pair_fn: the key being handled, and the "unknown key" error on it (known
 * lists the keys that are allowed there, or is NULL). */
const yaml_node_t *ycfg_key(const struct ycfg *y);
int ycfg_unknown_key(struct ycfg *y, const char *path, const char *known);

/* Calls fn for each item of a list (a null list is empty; at most max items), with the
 * item's path "base[i]". */
typedef int (*ycfg_item_fn)(struct ycfg *y, yaml_node_t *item, size_t i, const char *path,
			    void *arg);
int ycfg_each_item(struct ycfg *y, yaml_node_t *seq, const char *path, size_t max, ycfg_item_fn fn,
		   void *arg);

/* The text parsers behind ycfg_duration and ycfg_size, for flags. */
int ycfg_parse_duration(const char *s, int64_t *out_ns);
int ycfg_parse_size(const char *s, uint64_t *out);

#endif
