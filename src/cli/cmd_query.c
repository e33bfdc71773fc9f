/*
 * cmd_query.c — `ember query SUBCOMMAND`: the query API of an `ember server` from a terminal
 * (libcurl). top prints the pprof-style table of /api/v1/top; folded and pprof save the merged
 * selection from /api/v1/export; series prints /api/v1/series; labels, label-values and types
 * list what the server holds. --tenant sets X-Scope-OrgID, --token an Authorization bearer.
 *
 * Errors: an unreachable server or a 5xx is exit 1, a 4xx (the server rejected the query or an
 * argument given on the command line) is exit 2; both print the server's message. Answers are
 * read into memory up to CLI_MAX_INPUT_BYTES. Never writes a binary profile to a terminal.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "cli/cli.h"

#define QUERY_DEFAULT_SERVER "http://127.0.0.1:4040"
#define QUERY_MAX_URL	     16384

static const char query_usage[] =
	"usage: ember query SUBCOMMAND [OPTIONS] [ARGS]\n"
	"\n"
	"Query an ember server (or any server with Ember's /api/v1 API). QUERY is\n"
	"'<profile_type>{matchers}', e.g. "
	"'process_cpu:cpu:nanoseconds:cpu:nanoseconds{service_name=\"app\"}'\n"
	"(see 'ember query types' for the profile types).\n"
	"\n"
	"Subcommands:\n"
	"  top QUERY               the functions with the largest self values (like 'ember top')\n"
	"  folded QUERY            the merged selection as folded stacks (stdout, or -o FILE)\n"
	"  pprof QUERY -o FILE     the merged selection as a gzipped pprof file\n"
	"  series QUERY            the selection's total per step, one line per point\n"
	"  labels [QUERY]          label names ('{matchers}' or QUERY restricts them)\n"
	"  label-values NAME [QUERY]  the values of label NAME\n"
	"  types                   the profile types with data in the range\n"
	"\n"
	"Options:\n"
	"  -s, --server URL        server address (default $EMBER_SERVER, "
	"else " QUERY_DEFAULT_SERVER ")\n"
	"      --from TIME         start: unix seconds/ms/us/ns, YYYYMMDD, now, now-1h (default "
	"now-1h)\n"
	"      --until TIME        end, inclusive (default now)\n"
	"      --tenant ID         tenant (X-Scope-OrgID header)\n"
	"      --token TOKEN       bearer token (Authorization: Bearer TOKEN)\n"
	"  -n N                    top: rows to print (default 20; 0 = all)\n"
	"      --focus RE          top/folded/pprof: keep samples with a function matching RE\n"
	"      --ignore RE         top/folded/pprof: drop samples with a function matching RE\n"
	"      --raw               top: exact integers in the profile's unit\n"
	"      --step SECONDS      series: step (default (until-from)/300, at least 10)\n"
	"      --group-by LABEL    series: one series per value of LABEL\n"
	"      --agg sum|avg       series: how profiles within a step combine (default sum)\n"
	"      --limit N           series: keep the N largest series\n"
	"  -o, --output FILE       folded/pprof: write to FILE ('-' = stdout)\n"
	"      --json              print the server's JSON answer as it is\n"
	"  -h, --help              show this help\n"
	"\n"
	"Exit status: 0 on success, 1 when the server cannot be reached or fails, 2 on a usage\n"
	"error, including a query or argument the server rejects (HTTP 4xx).\n";

struct query_opts {
	const char *server, *from, *until, *tenant, *token, *output;
	const char *focus, *ignore, *step, *group_by, *agg, *limit;
	long n;
	bool raw, json;
};

/* A URL under construction: base + path + "?k=v&..." with escaped values. */
struct qurl {
	struct buf b;
	CURL *h;
	char sep;
};

static void url_init(struct qurl *u, CURL *h, const char *server, const char *path)
{
	size_t l = strlen(server);

	buf_init(&u->b, MEM_CLI, QUERY_MAX_URL);
	while (l && server[l - 1] == '/')
		l--;
	buf_append(&u->b, server, l);
	buf_puts(&u->b, path);
	u->h = h;
	u->sep = '?';
}

static void url_arg(struct qurl *u, const char *k, const char *v)
{
	char *e;

	if (!v)
		return;
	e = curl_easy_escape(u->h, v, (int)strlen(v));
	if (!e)
		return;
	buf_printf(&u->b, "%c%s=%s", u->sep, k, e);
	curl_free(e);
	u->sep = '&';
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;

	return buf_append(b, p, size * n) ? 0 : size * n;
}

/* The "error" (or Connect "message") of a JSON error body, else the body's start. */
static void print_http_error(const char *cmd, long status, const struct buf *body)
{
	json_error_t je;
	json_t *j = body->len ? json_loadb((const char *)body->data, body->len, 0, &je) : NULL;
	json_t *e = j ? json_object_get(j, "error") : NULL;

	if (!e && j)
		e = json_object_get(j, "message");
	if (e && json_is_string(e))
		cli_error(cmd, "server answered HTTP %ld: %s", status, json_string_value(e));
	else
		cli_error(cmd, "server answered HTTP %ld: %.300s", status,
			  body->len ? (const char *)body->data : "(empty body)");
	json_decref(j);
}

/* GETs url into body; exit code. */
static int http_get(const char *cmd, CURL *h, const struct query_opts *o, struct qurl *u,
		    struct buf *body)
{
	struct curl_slist *hdr = NULL;
	char line[4200], err[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;

	if (u->b.len >= QUERY_MAX_URL - 1) {
		cli_error(cmd, "the query is too long");
		return CLI_EXIT_USAGE;
	}
	if (o->tenant) {
		snprintf(line, sizeof(line), "X-Scope-OrgID: %s", o->tenant);
		hdr = curl_slist_append(hdr, line);
	}
	if (o->token) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", o->token);
		hdr = curl_slist_append(hdr, line);
	}
	curl_easy_setopt(h, CURLOPT_URL, (const char *)u->b.data);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 300000L);
	rc = curl_easy_perform(h);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		if (rc == CURLE_WRITE_ERROR)
			cli_error(cmd, "%s: answer larger than %zu bytes", o->server,
				  CLI_MAX_INPUT_BYTES);
		else
			cli_error(cmd, "cannot reach %s: %s", o->server,
				  err[0] ? err : curl_easy_strerror(rc));
		return CLI_EXIT_ERR;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		print_http_error(cmd, status, body);
		return status >= 400 && status < 500 ? CLI_EXIT_USAGE : CLI_EXIT_ERR;
	}
	return CLI_EXIT_OK;
}

static json_t *parse_json(const char *cmd, const struct buf *body)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)body->data, body->len, 0, &je);

	if (!j)
		cli_error(cmd, "the server's answer is not JSON: %s", je.text);
	return j;
}

static int print_top(const char *cmd, const struct query_opts *o, json_t *j)
{
	json_t *rows = json_object_get(j, "rows");
	const char *unit = json_string_value(json_object_get(j, "unit"));
	int64_t total = (int64_t)json_integer_value(json_object_get(j, "total"));
	size_t n_rows = json_array_size(rows), i;
	size_t show = o->n == 0 ? n_rows : EMBER_MIN(n_rows, (size_t)o->n);
	int64_t shown = 0, min_value = 0, sum = 0;
	struct cli_scale sc;
	char a[64], b[64], c[64];
	json_t *r;

	if (!json_is_array(rows)) {
		cli_error(cmd, "the server's answer has no rows");
		return CLI_EXIT_ERR;
	}
	for (i = 0; i < show; i++) {
		r = json_array_get(rows, i);
		int64_t self = (int64_t)json_integer_value(json_object_get(r, "self"));
		int64_t cum = (int64_t)json_integer_value(json_object_get(r, "total"));
		int64_t v = self ? self : cum;

		shown += self;
		v = v < 0 ? -v : v;
		if (v && (!min_value || v < min_value))
			min_value = v;
	}
	cli_scale_pick(&sc, unit ? unit : "", min_value, total, o->raw);
	cli_scale_format(&sc, a, sizeof(a), shown);
	cli_format_percent(b, sizeof(b), shown, total);
	cli_scale_format(&sc, c, sizeof(c), total);
	printf("Unit: %s\n", unit ? unit : "");
	printf("Showing nodes accounting for %s, %s of %s total\n", a, b, c);
	if (show < n_rows)
		printf("Showing top %zu nodes out of %zu\n", show, n_rows);
	printf("%10s %6s %6s %10s %6s\n", "flat", "flat%", "sum%", "cum", "cum%");
	for (i = 0; i < show; i++) {
		char flat[64], flat_pct[32], sum_pct[32], cum[64], cum_pct[32];
		int64_t self, tot;

		r = json_array_get(rows, i);
		self = (int64_t)json_integer_value(json_object_get(r, "self"));
		tot = (int64_t)json_integer_value(json_object_get(r, "total"));
		sum += self;
		cli_scale_format(&sc, flat, sizeof(flat), self);
		cli_format_percent(flat_pct, sizeof(flat_pct), self, total);
		cli_format_percent(sum_pct, sizeof(sum_pct), sum, total);
		cli_scale_format(&sc, cum, sizeof(cum), tot);
		cli_format_percent(cum_pct, sizeof(cum_pct), tot, total);
		printf("%10s %6s %6s %10s %6s  %s\n", flat, flat_pct, sum_pct, cum, cum_pct,
		       json_string_value(json_object_get(r, "name")));
	}
	return CLI_EXIT_OK;
}

static void print_time(int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[64];

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s", s);
}

static int print_series(const char *cmd, json_t *j)
{
	json_t *series = json_object_get(j, "series"), *s;
	size_t i;

	if (!json_is_array(series)) {
		cli_error(cmd, "the server's answer has no series");
		return CLI_EXIT_ERR;
	}
	printf("# unit %s, step %llds\n", json_string_value(json_object_get(j, "unit")),
	       (long long)json_integer_value(json_object_get(j, "step")));
	json_array_foreach(series, i, s)
	{
		json_t *labels = json_object_get(s, "labels"), *v, *pt;
		const char *k;
		size_t n;
		bool first = true;

		printf("# series {");
		json_object_foreach(labels, k, v)
		{
			printf("%s%s=\"%s\"", first ? "" : ",", k, json_string_value(v));
			first = false;
		}
		printf("}\n");
		json_array_foreach(json_object_get(s, "points"), n, pt)
		{
			print_time((int64_t)json_integer_value(json_array_get(pt, 0)));
			printf(" %lld\n", (long long)json_integer_value(json_array_get(pt, 1)));
		}
	}
	return CLI_EXIT_OK;
}

/* Prints a JSON array of strings (or the "id"s of the "types" objects) one per line. */
static int print_lines(const char *cmd, json_t *j)
{
	json_t *arr = json_is_array(j) ? j : json_object_get(j, "types"), *v;
	size_t i;

	if (!json_is_array(arr)) {
		cli_error(cmd, "unexpected answer from the server");
		return CLI_EXIT_ERR;
	}
	json_array_foreach(arr, i, v)
	{
		if (json_is_object(v))
			v = json_object_get(v, "id");
		if (json_is_string(v))
			printf("%s\n", json_string_value(v));
	}
	return CLI_EXIT_OK;
}

enum {
	OPT_FROM = 256,
	OPT_UNTIL,
	OPT_TENANT,
	OPT_TOKEN,
	OPT_FOCUS,
	OPT_IGNORE,
	OPT_RAW,
	OPT_STEP,
	OPT_GROUP_BY,
	OPT_AGG,
	OPT_LIMIT,
	OPT_JSON
};

static int parse_opts(const char *cmd, int argc, char **argv, struct query_opts *o)
{
	static const struct option longopts[] = {
		{"server", required_argument, NULL, 's'},
		{"from", required_argument, NULL, OPT_FROM},
		{"until", required_argument, NULL, OPT_UNTIL},
		{"tenant", required_argument, NULL, OPT_TENANT},
		{"token", required_argument, NULL, OPT_TOKEN},
		{"focus", required_argument, NULL, OPT_FOCUS},
		{"ignore", required_argument, NULL, OPT_IGNORE},
		{"raw", no_argument, NULL, OPT_RAW},
		{"step", required_argument, NULL, OPT_STEP},
		{"group-by", required_argument, NULL, OPT_GROUP_BY},
		{"agg", required_argument, NULL, OPT_AGG},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{"output", required_argument, NULL, 'o'},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "s:n:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->server = optarg;
			break;
		case OPT_FROM:
			o->from = optarg;
			break;
		case OPT_UNTIL:
			o->until = optarg;
			break;
		case OPT_TENANT:
			o->tenant = optarg;
			break;
		case OPT_TOKEN:
			o->token = optarg;
			break;
		case OPT_FOCUS:
			o->focus = optarg;
			break;
		case OPT_IGNORE:
			o->ignore = optarg;
			break;
		case OPT_RAW:
			o->raw = true;
			break;
		case OPT_STEP:
			o->step = optarg;
			break;
		case OPT_GROUP_BY:
			o->group_by = optarg;
			break;
		case OPT_AGG:
			o->agg = optarg;
			break;
		case OPT_LIMIT:
			o->limit = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'n':
			if (cli_parse_long(cmd, "-n", optarg, 0, 1000000000, &o->n))
				return CLI_EXIT_USAGE;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'h':
			fputs(query_usage, stdout);
			return -1;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", cmd);
			return CLI_EXIT_USAGE;
		}
	}
	if ((o->tenant && strpbrk(o->tenant, "\r\n")) || (o->token && strpbrk(o->token, "\r\n")))
		return cli_usage_error(cmd, "--tenant and --token may not hold line breaks");
	if ((o->tenant && strlen(o->tenant) > 1024) || (o->token && strlen(o->token) > 4096))
		return cli_usage_error(cmd, "--tenant or --token is too long");
	return CLI_EXIT_OK;
}

enum qsub {
	Q_TOP,
	Q_FOLDED,
	Q_PPROF,
	Q_SERIES,
	Q_LABELS,
	Q_LABEL_VALUES,
	Q_TYPES
};

static const struct {
	const char *name;
	enum qsub sub;
	int min_args, max_args; /* positional arguments after the subcommand */
} subs[] = {
	{"top", Q_TOP, 1, 1},	    {"folded", Q_FOLDED, 1, 1},
	{"pprof", Q_PPROF, 1, 1},   {"series", Q_SERIES, 1, 1},
	{"labels", Q_LABELS, 0, 1}, {"label-values", Q_LABEL_VALUES, 1, 2},
	{"types", Q_TYPES, 0, 0},
};

/* The request URL of a subcommand. */
static void build_url(struct qurl *u, CURL *h, enum qsub sub, const struct query_opts *o,
		      char **args)
{
	static const char *const paths[] = {
		[Q_TOP] = "/api/v1/top",
		[Q_FOLDED] = "/api/v1/export",
		[Q_PPROF] = "/api/v1/export",
		[Q_SERIES] = "/api/v1/series",
		[Q_LABELS] = "/pyroscope/labels",
		[Q_LABEL_VALUES] = "/pyroscope/label-values",
		[Q_TYPES] = "/api/v1/profile-types",
	};

	url_init(u, h, o->server, paths[sub]);
	if (sub == Q_LABEL_VALUES) {
		url_arg(u, "label", args[0]);
		url_arg(u, "query", args[1]);
	} else if (sub != Q_TYPES) {
		url_arg(u, "query", args[0]);
	}
	url_arg(u, "from", o->from);
	url_arg(u, "until", o->until);
	if (sub == Q_FOLDED)
		url_arg(u, "format", "folded");
	if (sub == Q_PPROF)
		url_arg(u, "format", "pprof");
	if (sub == Q_TOP || sub == Q_FOLDED || sub == Q_PPROF) {
		url_arg(u, "focus", o->focus);
		url_arg(u, "ignore", o->ignore);
	}
	if (sub == Q_TOP)
		url_arg(u, "limit", "0");
	if (sub == Q_SERIES) {
		url_arg(u, "step", o->step);
		url_arg(u, "group_by", o->group_by);
		url_arg(u, "agg", o->agg);
		url_arg(u, "limit", o->limit);
	}
}

static int show(const char *cmd, enum qsub sub, const struct query_opts *o, struct buf *body)
{
	json_t *j;
	int rc;

	if (sub == Q_FOLDED || sub == Q_PPROF)
		return cli_write(cmd, body, o->output ? o->output : "-");
	if (o->json) {
		fwrite(body->data, 1, body->len, stdout);
		return CLI_EXIT_OK;
	}
	j = parse_json(cmd, body);
	if (!j)
		return CLI_EXIT_ERR;
	if (sub == Q_TOP)
		rc = print_top(cmd, o, j);
	else if (sub == Q_SERIES)
		rc = print_series(cmd, j);
	else
		rc = print_lines(cmd, j);
	json_decref(j);
	return rc;
}

int cmd_query(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct query_opts o = {.n = 20};
	struct qurl u;
	struct buf body;
	int rc, si = -1;
	CURL *h;

	rc = parse_opts(cmd, argc, argv, &o);
	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (optind >= argc)
		return cli_usage_error(cmd, "no subcommand (top, folded, pprof, series, labels, "
					    "label-values, types)");
	for (size_t i = 0; i < EMBER_ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[optind], subs[i].name))
			si = (int)i;
	if (si < 0)
		return cli_usage_error(cmd, "unknown subcommand '%s'", argv[optind]);
	int n_args = argc - optind - 1;
	if (n_args < subs[si].min_args || n_args > subs[si].max_args)
		return cli_usage_error(cmd, "%s takes %d to %d arguments, not %d", subs[si].name,
				       subs[si].min_args, subs[si].max_args, n_args);
	enum qsub sub = subs[si].sub;
	if (sub == Q_PPROF && !o.output && isatty(STDOUT_FILENO))
		return cli_usage_error(cmd, "pprof: give -o FILE (the profile is binary)");
	if (!o.server)
		o.server = getenv("EMBER_SERVER");
	if (!o.server || !*o.server)
		o.server = QUERY_DEFAULT_SERVER;
	char *args[2] = {n_args > 0 ? argv[optind + 1] : NULL,
			 n_args > 1 ? argv[optind + 2] : NULL};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = curl_easy_init();
	if (!h) {
		cli_error(cmd, "cannot start libcurl");
		return CLI_EXIT_ERR;
	}
	buf_init(&body, MEM_CLI, CLI_MAX_INPUT_BYTES);
	build_url(&u, h, sub, &o, args);
	rc = http_get(cmd, h, &o, &u, &body);
	if (rc == CLI_EXIT_OK)
		rc = show(cmd, sub, &o, &body);
	buf_fini(&u.b);
	buf_fini(&body);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return rc;
}
