/*
 * ycfg.c — the YAML config reader of ycfg.h: one libyaml document held for the life of the
 * struct ycfg, typed getters that check bounds, and mapping/list walkers that carry the key
 * path for messages. The input is hostile: bounded size, unique keys, no recursion here (the
 * callers' schemas are fixed-depth).
 */
#include "format/ycfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/mem.h"

struct ycfg {
	yaml_document_t doc;
	const char *origin;
	char origin_buf[200];
	struct ember_diag *d;
	const yaml_node_t *key; /* the key of the pair being handled */
	void *user;
};

/* Loads the first document of the parser's input, refusing a second one (a stray "---"). */
static int load_one(struct ycfg *y, yaml_parser_t *parser)
{
	yaml_document_t doc2;
	int err = 0;

	if (!yaml_parser_load(parser, &y->doc))
		return ember_diag_set(y->d, -EMBER_EUSAGE, "%s:%zu: YAML: %s%s%s", y->origin,
				      parser->problem_mark.line + 1,
				      parser->problem ? parser->problem : "syntax error",
				      parser->context ? " " : "",
				      parser->context ? parser->context : "");
	if (!yaml_parser_load(parser, &doc2)) {
		err = ember_diag_set(y->d, -EMBER_EUSAGE, "%s:%zu: YAML: %s", y->origin,
				     parser->problem_mark.line + 1,
				     parser->problem ? parser->problem : "syntax error");
	} else {
		if (yaml_document_get_root_node(&doc2))
			err = ember_diag_set(y->d, -EMBER_EUSAGE,
					     "%s:%zu: only one YAML document is read", y->origin,
					     parser->mark.line + 1);
		yaml_document_delete(&doc2);
	}
	if (err)
		yaml_document_delete(&y->doc);
	return err;
}

int ycfg_load(const char *text, size_t len, const char *origin, struct ycfg **out,
	      struct ember_diag *d)
{
	yaml_parser_t parser;
	struct ycfg *y;
	yaml_node_t *root;
	int err;

	*out = NULL;
	origin = origin ? origin : "config";
	if (len > YCFG_MAX_TEXT)
		return ember_diag_set(d, -EMBER_ELIMIT, "%s: larger than %u bytes", origin,
				      YCFG_MAX_TEXT);
	y = mem_calloc(MEM_BASE, 1, sizeof(*y));
	snprintf(y->origin_buf, sizeof(y->origin_buf), "%s", origin);
	y->origin = y->origin_buf;
	y->d = d;
	if (!yaml_parser_initialize(&parser)) {
		mem_free(y);
		return ember_diag_set(d, -ENOMEM, "%s: cannot start the YAML parser", origin);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""), len);
	err = load_one(y, &parser);
	yaml_parser_delete(&parser);
	if (err) {
		mem_free(y);
		return err;
	}
	root = yaml_document_get_root_node(&y->doc);
	if (root && !ycfg_is_null(root) && root->type != YAML_MAPPING_NODE) {
		err = ycfg_err(y, root, "(top)",
			       "the document must be a mapping (key: value lines)");
		ycfg_free(y);
		return err;
	}
	*out = y;
	return 0;
}

int ycfg_load_file(const char *path, struct ycfg **out, struct ember_diag *d)
{
	struct buf b;
	int err;

	*out = NULL;
	buf_init(&b, MEM_BASE, YCFG_MAX_TEXT);
	err = buf_read_file(&b, path);
	if (err) {
		buf_fini(&b);
		return ember_diag_set(d, err, "%s: %s", path,
				      err == -EMBER_ELIMIT ? "larger than 1 MiB"
							   : ember_strerror(err));
	}
	err = ycfg_load(b.len ? (const char *)b.data : "", b.len, path, out, d);
	buf_fini(&b);
	return err;
}

void ycfg_free(struct ycfg *y)
{
	if (!y)
		return;
	yaml_document_delete(&y->doc);
	mem_free(y);
}

yaml_node_t *ycfg_root(const struct ycfg *y)
{
	yaml_node_t *r = yaml_document_get_root_node((yaml_document_t *)&y->doc);
	return r && !ycfg_is_null(r) ? r : NULL;
}

yaml_node_t *ycfg_node(const struct ycfg *y, int id)
{
	return yaml_document_get_node((yaml_document_t *)&y->doc, id);
}

void ycfg_set_user(struct ycfg *y, void *user)
{
	y->user = user;
}

void *ycfg_user(const struct ycfg *y)
{
	return y->user;
}

void ycfg_path_join(char out[YCFG_PATH_MAX], const char *base, const char *key)
{
	if (base && base[0])
		snprintf(out, YCFG_PATH_MAX, "%.120s.%.120s", base, key);
	else
		snprintf(out, YCFG_PATH_MAX, "%.250s", key);
}

void ycfg_path_index(char out[YCFG_PATH_MAX], const char *base, size_t i)
{
	snprintf(out, YCFG_PATH_MAX, "%.200s[%zu]", base ? base : "", i);
}

int ycfg_err(struct ycfg *y, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	path = path && path[0] ? path : "(top)";
	if (!n)
		return ember_diag_set(y->d, -EMBER_EUSAGE, "%s: %s: %s", y->origin, path, msg);
	return ember_diag_set(y->d, -EMBER_EUSAGE, "%s:%zu: %s: %s", y->origin,
			      (size_t)n->start_mark.line + 1, path, msg);
}

bool ycfg_is_null(const yaml_node_t *n)
{
	const char *v;

	if (!n)
		return true;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

const char *ycfg_type_name(const yaml_node_t *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

int ycfg_scalar(struct ycfg *y, const yaml_node_t *n, const char *path, const char **out)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return ycfg_err(y, n, path, "expected a single value, not %s", ycfg_type_name(n));
	if (n->data.scalar.length > YCFG_MAX_SCALAR)
		return ycfg_err(y, n, path, "value longer than %d bytes", YCFG_MAX_SCALAR);
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
		return ycfg_err(y, n, path, "value contains a NUL byte");
	*out = (const char *)n->data.scalar.value;
	return 0;
}

int ycfg_str(struct ycfg *y, const yaml_node_t *n, const char *path, struct arena *a, size_t max,
	     const char **out)
{
	const char *v = NULL;
	int err = ycfg_scalar(y, n, path, &v);
	size_t len;

	if (err)
		return err;
	len = strlen(v);
	if (!len)
		return ycfg_err(y, n, path, "must not be empty");
	if (len > max)
		return ycfg_err(y, n, path, "longer than %zu bytes", max);
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)v[i] < 0x20 && v[i] != '\t') || v[i] == 0x7f)
			return ycfg_err(y, n, path, "control character at byte %zu", i);
	*out = arena_strndup(a, v, len);
	return 0;
}

int ycfg_u64(struct ycfg *y, const yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
	     uint64_t *out)
{
	const char *v = NULL;
	uint64_t r = 0;
	int err = ycfg_scalar(y, n, path, &v);

	if (err)
		return err;
	if (!*v)
		return ycfg_err(y, n, path, "expected a number");
	for (const char *c = v; *c; c++) {
		if (*c < '0' || *c > '9' || r > (UINT64_MAX - 9) / 10)
			return ycfg_err(y, n, path, "'%.60s' is not a whole number", v);
		r = r * 10 + (uint64_t)(*c - '0');
	}
	if (r < min || r > max)
		return ycfg_err(y, n, path, "%llu is out of range [%llu, %llu]",
				(unsigned long long)r, (unsigned long long)min,
				(unsigned long long)max);
	*out = r;
	return 0;
}

int ycfg_bool(struct ycfg *y, const yaml_node_t *n, const char *path, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "on"};
	static const char *const no[] = {"false", "False", "FALSE", "no", "off"};
	const char *v = NULL;
	int err = ycfg_scalar(y, n, path, &v);

	if (err)
		return err;
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(yes); i++) {
		if (!strcmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return ycfg_err(y, n, path, "'%.60s' is not true or false", v);
}

int ycfg_duration(struct ycfg *y, const yaml_node_t *n, const char *path, int64_t min, int64_t max,
		  int64_t *out)
{
	const char *v = NULL;
	int64_t r = 0;
	int err = ycfg_scalar(y, n, path, &v);

	if (err)
		return err;
	if (ycfg_parse_duration(v, &r))
		return ycfg_err(y, n, path,
				"'%.60s' is not a duration (e.g. 500ms, 15s, 1m30s, 12h, 30d)", v);
	if (r < min || r > max)
		return ycfg_err(y, n, path, "%.60s is out of range", v);
	*out = r;
	return 0;
}

int ycfg_size(struct ycfg *y, const yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
	      uint64_t *out)
{
	const char *v = NULL;
	uint64_t r = 0;
	int err = ycfg_scalar(y, n, path, &v);

	if (err)
		return err;
	if (ycfg_parse_size(v, &r))
		return ycfg_err(y, n, path, "'%.60s' is not a size (e.g. 4096, 512KiB, 16MiB, 1GB)",
				v);
	if (r < min || r > max)
		return ycfg_err(y, n, path, "%.60s is out of range [%llu, %llu] bytes", v,
				(unsigned long long)min, (unsigned long long)max);
	*out = r;
	return 0;
}

int ycfg_each_pair(struct ycfg *y, yaml_node_t *map, const char *path, ycfg_pair_fn fn, void *arg)
{
	char kp[YCFG_PATH_MAX];
	int err;

	if (ycfg_is_null(map))
		return 0;
	if (map->type != YAML_MAPPING_NODE)
		return ycfg_err(y, map, path, "expected a mapping (key: value lines), not %s",
				ycfg_type_name(map));
	for (yaml_node_pair_t *a = map->data.mapping.pairs.start; a < map->data.mapping.pairs.top;
	     a++) {
		yaml_node_t *k = ycfg_node(y, a->key);
		yaml_node_t *v = ycfg_node(y, a->value);

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return ycfg_err(y, k ? k : map, path, "keys must be plain words");
		const char *key = (const char *)k->data.scalar.value;
		if (k->data.scalar.length > YCFG_MAX_KEY_LEN ||
		    strlen(key) != k->data.scalar.length)
			return ycfg_err(y, k, path, "key too long or with a NUL byte");
		ycfg_path_join(kp, path, key);
		for (yaml_node_pair_t *b = map->data.mapping.pairs.start; b < a; b++) {
			yaml_node_t *k2 = ycfg_node(y, b->key);
			if (k2 && k2->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)k2->data.scalar.value, key))
				return ycfg_err(y, k, kp, "duplicate key (first on line %zu)",
						(size_t)k2->start_mark.line + 1);
		}
		if (ycfg_is_null(v))
			continue;
		y->key = k;
		err = fn(y, key, v, kp, arg);
		if (err)
			return err;
	}
	return 0;
}

const yaml_node_t *ycfg_key(const struct ycfg *y)
{
	return y->key;
}

int ycfg_unknown_key(struct ycfg *y, const char *path, const char *known)
{
	if (known)
		return ycfg_err(y, y->key, path, "unknown key (known keys: %s)", known);
	return ycfg_err(y, y->key, path, "unknown key");
}

int ycfg_each_item(struct ycfg *y, yaml_node_t *seq, const char *path, size_t max, ycfg_item_fn fn,
		   void *arg)
{
	char ip[YCFG_PATH_MAX];
	size_t i = 0;
	int err;

	if (ycfg_is_null(seq))
		return 0;
	if (seq->type != YAML_SEQUENCE_NODE)
		return ycfg_err(y, seq, path, "expected a list, not %s", ycfg_type_name(seq));
	if ((size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start) > max)
		return ycfg_err(y, seq, path, "more than %zu items", max);
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++, i++) {
		yaml_node_t *n = ycfg_node(y, *it);
		if (!n)
			continue;
		ycfg_path_index(ip, path, i);
		err = fn(y, n, i, ip, arg);
		if (err)
			return err;
	}
	return 0;
}

/* --- units -------------------------------------------------------------------------------- */

int ycfg_parse_duration(const char *s, int64_t *out_ns)
{
	static const struct {
		const char *u;
		int64_t ns;
	} units[] = {
		{"ms", 1000000},
		{"s", 1000000000},
		{"m", (int64_t)60 * 1000000000},
		{"h", (int64_t)3600 * 1000000000},
		{"d", (int64_t)86400 * 1000000000},
		{"w", (int64_t)7 * 86400 * 1000000000},
	};
	int64_t total = 0;

	if (!s || !*s)
		return -EMBER_EUSAGE;
	if (!strcmp(s, "0")) {
		*out_ns = 0;
		return 0;
	}
	while (*s) {
		uint64_t n = 0;
		size_t best = SIZE_MAX;

		if (*s < '0' || *s > '9')
			return -EMBER_EUSAGE;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (n > 1000000000)
				return -EMBER_EUSAGE;
			n = n * 10 + (uint64_t)(*s - '0');
		}
		for (size_t i = 0; i < EMBER_ARRAY_SIZE(units); i++) {
			size_t ul = strlen(units[i].u);
			if (!strncmp(s, units[i].u, ul) && !(s[ul] >= 'a' && s[ul] <= 'z') &&
			    (best == SIZE_MAX || ul > strlen(units[best].u)))
				best = i;
		}
		if (best == SIZE_MAX)
			return -EMBER_EUSAGE;
		if (n && (uint64_t)units[best].ns > (uint64_t)(INT64_MAX - total) / n)
			return -EMBER_EUSAGE;
		total += (int64_t)n * units[best].ns;
		s += strlen(units[best].u);
	}
	*out_ns = total;
	return 0;
}

int ycfg_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *u;
		uint64_t mul;
	} units[] = {
		{"", 1},
		{"B", 1},
		{"k", 1024},
		{"K", 1024},
		{"KiB", 1024},
		{"KB", 1000},
		{"M", (uint64_t)1 << 20},
		{"MiB", (uint64_t)1 << 20},
		{"MB", 1000000},
		{"G", (uint64_t)1 << 30},
		{"GiB", (uint64_t)1 << 30},
		{"GB", 1000000000},
		{"T", (uint64_t)1 << 40},
		{"TiB", (uint64_t)1 << 40},
		{"TB", 1000000000000},
	};
	uint64_t n = 0;

	if (!s || *s < '0' || *s > '9')
		return -EMBER_EUSAGE;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -EMBER_EUSAGE;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	if (*s == ' ')
		s++;
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(units); i++) {
		if (strcmp(s, units[i].u))
			continue;
		if (n && units[i].mul > UINT64_MAX / n)
			return -EMBER_EUSAGE;
		*out = n * units[i].mul;
		return 0;
	}
	return -EMBER_EUSAGE;
}
