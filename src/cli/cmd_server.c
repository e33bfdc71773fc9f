/*
 * cmd_server.c — `ember server [--config FILE] [options]`: loads the YAML configuration (if
 * any), lays the command-line options over it (flags win), opens the store and serves the
 * ingest and query APIs (src/server/) until SIGINT or SIGTERM, then stops accepting, lets
 * running requests finish and closes the store. This file only parses options and waits for the
 * signal; SIGINT/SIGTERM are blocked in every thread and taken with sigwait here.
 * A bad option or configuration exits with status 2 and a message naming the file and line.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "cli/cli.h"
#include "server/server.h"
#include "server/server_config.h"

static const char server_usage[] =
	"usage: ember server [--config FILE] [options]\n"
	"\n"
	"Serve the Pyroscope-compatible ingest API (POST /ingest, /pyroscope/ingest with\n"
	"folded, lines or pprof bodies), the query APIs, /ready and Prometheus /metrics,\n"
	"storing profiles in DIR. Runs until SIGINT or SIGTERM, then finishes the running\n"
	"requests and closes the store. Tenant: the X-Scope-OrgID header (default anonymous)\n"
	"or the tenant of the bearer token. Every option of the YAML file (docs/config.md)\n"
	"has a flag; flags win over the file.\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE           YAML configuration file\n"
	"  -l, --listen ADDR:PORT      IPv4 address and port (default 127.0.0.1:4040)\n"
	"  -D, --data-dir DIR          data directory, created if missing (default ./data)\n"
	"      --storage URL           local (default: the data directory) or\n"
	"                              clickhouse://host:8123/db[?cluster=NAME]\n"
	"      --threads N             worker threads (default 32; handlers wait on the\n"
	"                              WAL fsync, so more threads share one fsync)\n"
	"      --max-body SIZE         request body limit (default 16MiB)\n"
	"      --tls-cert FILE         PEM certificate chain: serve HTTPS only (with --tls-key)\n"
	"      --tls-key FILE          PEM private key\n"
	"      --shutdown-grace DUR    how long SIGTERM waits for running requests (default 30s)\n"
	"      --retention DUR         drop blocks older than DUR (e.g. 30d; default keep)\n"
	"      --retention-bytes SIZE  drop the oldest blocks beyond SIZE on disk\n"
	"      --block-duration DUR    head time span cut into a block (default 1h)\n"
	"      --head-max-bytes SIZE   head memory that triggers a cut (default 512MiB)\n"
	"      --commit-delay DUR      group commit: wait up to DUR (<= 1s) for more appends\n"
	"                              before one fsync (default 0s)\n"
	"      --no-compaction         do not merge blocks into 4h, 12h and 7d windows\n"
	"      --max-tenants N         tenants the store accepts (default 1000)\n"
	"      --max-stack-depth N     frames kept per stack (default 1024)\n"
	"      --max-sample-types N    sample types per profile (default 16)\n"
	"      --max-label-name-len N  label name length (default 256)\n"
	"      --max-profile-bytes SIZE encoded size of one append (default 64MiB)\n"
	"      --ingest-rate N         default per-tenant ingest rate, profiles/s (0 = unlimited)\n"
	"      --ingest-burst N        default per-tenant burst (default max(1, rate))\n"
	"      --max-decompressed SIZE default limit of an inflated body (default 64MiB)\n"
	"      --max-ratio N           default limit of inflated/compressed (default 1000)\n"
	"      --max-series N          default series per tenant (default 100000)\n"
	"      --max-labels N          default labels per series (default 32)\n"
	"      --max-label-value-len N default label value length (default 2048)\n"
	"      --log-level LEVEL       error, warn, info, debug or trace (default info)\n"
	"      --log-format FORMAT     text or json\n"
	"  -h, --help                  show this help\n"
	"\n"
	"SIZE: bytes with an optional unit (KiB, MiB, GiB, KB, MB, GB). DUR: 90s, 12h, 30d, "
	"1h30m.\n"
	"Exit status 2 on a bad option or configuration.\n"
	"\n" CLI_EXIT_HELP;

enum {
	OPT_THREADS = 256,
	OPT_MAX_BODY,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_GRACE,
	OPT_RETENTION,
	OPT_RETENTION_BYTES,
	OPT_BLOCK_DURATION,
	OPT_HEAD_MAX,
	OPT_INGEST_RATE,
	OPT_INGEST_BURST,
	OPT_MAX_DECOMP,
	OPT_MAX_RATIO,
	OPT_MAX_SERIES,
	OPT_MAX_LABELS,
	OPT_MAX_LVLEN,
	OPT_LOG_LEVEL,
	OPT_LOG_FORMAT,
	OPT_STORAGE,
	OPT_COMMIT_DELAY,
	OPT_NO_COMPACTION,
	OPT_MAX_PROFILE,
	OPT_STORE_U32, /* OPT_STORE_U32 + i: server_store_u32s[i] */
};

static const struct option server_longopts[] = {
	{"config", required_argument, NULL, 'c'},
	{"listen", required_argument, NULL, 'l'},
	{"data-dir", required_argument, NULL, 'D'},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"max-body", required_argument, NULL, OPT_MAX_BODY},
	{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
	{"tls-key", required_argument, NULL, OPT_TLS_KEY},
	{"shutdown-grace", required_argument, NULL, OPT_GRACE},
	{"retention", required_argument, NULL, OPT_RETENTION},
	{"retention-bytes", required_argument, NULL, OPT_RETENTION_BYTES},
	{"block-duration", required_argument, NULL, OPT_BLOCK_DURATION},
	{"head-max-bytes", required_argument, NULL, OPT_HEAD_MAX},
	{"ingest-rate", required_argument, NULL, OPT_INGEST_RATE},
	{"ingest-burst", required_argument, NULL, OPT_INGEST_BURST},
	{"max-decompressed", required_argument, NULL, OPT_MAX_DECOMP},
	{"max-ratio", required_argument, NULL, OPT_MAX_RATIO},
	{"max-series", required_argument, NULL, OPT_MAX_SERIES},
	{"max-labels", required_argument, NULL, OPT_MAX_LABELS},
	{"max-label-value-len", required_argument, NULL, OPT_MAX_LVLEN},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	{"storage", required_argument, NULL, OPT_STORAGE},
	{"commit-delay", required_argument, NULL, OPT_COMMIT_DELAY},
	{"no-compaction", no_argument, NULL, OPT_NO_COMPACTION},
	{"max-profile-bytes", required_argument, NULL, OPT_MAX_PROFILE},
	{"max-tenants", required_argument, NULL, OPT_STORE_U32 + 0},
	{"max-stack-depth", required_argument, NULL, OPT_STORE_U32 + 1},
	{"max-sample-types", required_argument, NULL, OPT_STORE_U32 + 2},
	{"max-label-name-len", required_argument, NULL, OPT_STORE_U32 + 3},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Installed so that SIGINT/SIGTERM are not ignored (a shell's background job inherits SIGINT
 * ignored); they stay blocked and are taken by sigwait, so this never runs. */
static void server_on_signal(int sig)
{
	(void)sig;
}

static int flag_size(const char *cmd, const char *opt, const char *s, uint64_t min, uint64_t max,
		     uint64_t *out)
{
	if (server_config_size(s, out) || *out < min || *out > max)
		return cli_usage_error(cmd, "--%s: '%s' is not a size in [%llu, %llu] bytes", opt,
				       s, (unsigned long long)min, (unsigned long long)max);
	return 0;
}

static int flag_duration(const char *cmd, const char *opt, const char *s, int64_t min, int64_t max,
			 int64_t *out)
{
	if (server_config_duration(s, out) || *out < min || *out > max)
		return cli_usage_error(cmd, "--%s: '%s' is not a duration in range (e.g. 30s, 12h)",
				       opt, s);
	return 0;
}

static int flag_u32(const char *cmd, const char *opt, const char *s, long min, long max,
		    uint32_t *out)
{
	long v;

	if (cli_parse_long(cmd, opt, s, min, max, &v))
		return CLI_EXIT_USAGE;
	*out = (uint32_t)v;
	return 0;
}

/* Lays one option over the configuration; CLI_EXIT_USAGE (after a message) when bad. */
static int server_flag(const char *cmd, int c, const char *arg, struct server_config *cfg)
{
	struct server_opts *o = &cfg->opts;
	struct server_limits *l = &o->limits;
	uint64_t u = 0;
	int64_t ns = 0;
	int err = 0;

	switch (c) {
	case 'l':
		o->listen = arg;
		break;
	case 'D':
		o->data_dir = arg;
		break;
	case OPT_THREADS:
		err = flag_u32(cmd, "--threads", arg, 1, 256, &o->n_threads);
		break;
	case OPT_MAX_BODY:
		err = flag_size(cmd, "max-body", arg, 1024, (uint64_t)1 << 30, &u);
		o->max_body_bytes = (size_t)u;
		break;
	case OPT_TLS_CERT:
		o->tls_cert = arg;
		break;
	case OPT_TLS_KEY:
		o->tls_key = arg;
		break;
	case OPT_GRACE:
		err = flag_duration(cmd, "shutdown-grace", arg, 0, (int64_t)3600 * 1000000000, &ns);
		o->shutdown_grace_ns = ns;
		break;
	case OPT_RETENTION:
		err = flag_duration(cmd, "retention", arg, 0, INT64_MAX, &cfg->store.retention_ns);
		break;
	case OPT_RETENTION_BYTES:
		err = flag_size(cmd, "retention-bytes", arg, 0, UINT64_MAX,
				&cfg->store.retention_bytes);
		break;
	case OPT_BLOCK_DURATION:
		err = flag_duration(cmd, "block-duration", arg, (int64_t)60 * 1000000000,
				    (int64_t)7 * 86400 * 1000000000, &cfg->store.block_duration_ns);
		break;
	case OPT_HEAD_MAX:
		err = flag_size(cmd, "head-max-bytes", arg, (uint64_t)1 << 20, (uint64_t)1 << 40,
				&u);
		cfg->store.head_max_bytes = (size_t)u;
		break;
	case OPT_COMMIT_DELAY:
		err = flag_duration(cmd, "commit-delay", arg, 0, 1000000000, &ns);
		cfg->store.commit_delay_us = (uint32_t)(ns / 1000);
		break;
	case OPT_NO_COMPACTION:
		cfg->store.no_compaction = true;
		break;
	case OPT_MAX_PROFILE:
		err = flag_size(cmd, "max-profile-bytes", arg, 1024, (uint64_t)1 << 32,
				&cfg->store.limits.max_profile_bytes);
		break;
	case OPT_INGEST_RATE: {
		char *end;
		double r = strtod(arg, &end);
		if (!*arg || *end || !(r >= 0 && r <= 1e6))
			return cli_usage_error(cmd, "--ingest-rate: '%s' is not in [0, 1000000]",
					       arg);
		l->ingest_rate = r;
		break;
	}
	case OPT_INGEST_BURST:
		err = flag_u32(cmd, "--ingest-burst", arg, 1, 1000000, &l->ingest_burst);
		break;
	case OPT_MAX_DECOMP:
		err = flag_size(cmd, "max-decompressed", arg, 1024, (uint64_t)1 << 32, &u);
		l->max_decompressed_bytes = (size_t)u;
		break;
	case OPT_MAX_RATIO:
		err = flag_u32(cmd, "--max-ratio", arg, 1, 1000000, &l->max_ratio);
		break;
	case OPT_MAX_SERIES:
		err = flag_u32(cmd, "--max-series", arg, 1, 100000000, &l->max_series);
		break;
	case OPT_MAX_LABELS:
		err = flag_u32(cmd, "--max-labels", arg, 3, 1024, &l->max_labels);
		break;
	case OPT_MAX_LVLEN:
		err = flag_u32(cmd, "--max-label-value-len", arg, 1, 1 << 20,
			       &l->max_label_value_len);
		break;
	case OPT_LOG_LEVEL:
		if (log_parse_level(arg, &cfg->log_level))
			return cli_usage_error(cmd,
					       "--log-level: '%s' is not error, warn, info, "
					       "debug or trace",
					       arg);
		cfg->log_level_set = true;
		break;
	case OPT_LOG_FORMAT:
		if (strcmp(arg, "json") && strcmp(arg, "text"))
			return cli_usage_error(cmd, "--log-format: '%s' is not text or json", arg);
		cfg->log_json = !strcmp(arg, "json");
		break;
	case OPT_STORAGE: {
		struct ember_diag d = {{0}};

		if (server_storage_parse(arg, &cfg->store, &d))
			return cli_usage_error(cmd, "--storage: %s", d.msg);
		break;
	}
	default:
		if (c >= OPT_STORE_U32 && c < OPT_STORE_U32 + SERVER_STORE_U32_N) {
			const struct server_store_u32 *su = &server_store_u32s[c - OPT_STORE_U32];
			char opt[64];

			snprintf(opt, sizeof(opt), "--%s", su->flag);
			err = flag_u32(cmd, opt, arg, su->min, su->max,
				       server_store_u32_field(&cfg->store.limits, su));
			break;
		}
		return CLI_EXIT_USAGE;
	}
	return err ? CLI_EXIT_USAGE : 0;
}

/* The configuration file named by --config, if any (found before the other flags, so that the
 * flags can be laid over it in one pass). */
static const char *server_config_arg(int argc, char **argv)
{
	const char *path = NULL;
	int c;

	cli_getopt_reset();
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:l:D:h", server_longopts, NULL)) != -1)
		if (c == 'c')
			path = optarg;
	opterr = 1;
	cli_getopt_reset();
	return path;
}

static int server_run(const char *cmd, struct server_config *cfg)
{
	struct server_opts *o = &cfg->opts;
	struct ember_diag d = {{0}};
	struct server *s = NULL;
	sigset_t set;
	int sig = 0, err;

	if (!o->listen)
		o->listen = "127.0.0.1:4040";
	if (!o->data_dir)
		o->data_dir = "./data";
	log_set_level(cfg->log_level_set ? cfg->log_level : LOG_LEVEL_INFO);
	log_set_structured(true);
	log_set_json(cfg->log_json);

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = server_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts */
	err = server_start(o, &s, &d);
	if (err) {
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		cli_error(cmd, "%s", ember_diag_msg(&d, err));
		return err == -EMBER_EUSAGE ? CLI_EXIT_USAGE : CLI_EXIT_ERR;
	}
	fprintf(stderr, "ember server: listening on %s://%s, data in %s\n",
		o->tls_cert ? "https" : "http", o->listen,
		cfg->store.url ? cfg->store.url : o->data_dir);
	if (sigwait(&set, &sig) != 0)
		sig = 0;
	LOG_INFO("server: signal %d, shutting down", sig);
	server_stop(s);
	LOG_INFO("server: stopped");
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	return CLI_EXIT_OK;
}

int cmd_server(int argc, char **argv)
{
	const char *cmd = argv[0];
	const char *config_path = server_config_arg(argc, argv);
	struct server_config *cfg = NULL;
	struct ember_diag d = {{0}};
	unsigned char addr[4];
	unsigned short port;
	int c, rc;

	if (config_path) {
		rc = server_config_load(config_path, &cfg, &d);
		if (rc) {
			cli_error(cmd, "%s", ember_diag_msg(&d, rc));
			return CLI_EXIT_USAGE;
		}
	} else {
		cfg = server_config_new();
	}
	while ((c = getopt_long(argc, argv, "c:l:D:h", server_longopts, NULL)) != -1) {
		if (c == 'c')
			continue;
		if (c == 'h') {
			fputs(server_usage, stdout);
			server_config_free(cfg);
			return CLI_EXIT_OK;
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, "Try '%s --help' for more information.\n", cmd);
			server_config_free(cfg);
			return CLI_EXIT_USAGE;
		}
		rc = server_flag(cmd, c, optarg, cfg);
		if (rc) {
			server_config_free(cfg);
			return rc;
		}
	}
	rc = CLI_EXIT_USAGE;
	if (optind < argc)
		cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	else if (cfg->opts.listen && server_listen_parse(cfg->opts.listen, addr, &port, &d))
		cli_usage_error(cmd, "--listen: %s", d.msg);
	else if (cfg->opts.data_dir && !*cfg->opts.data_dir)
		cli_usage_error(cmd, "--data-dir must not be empty");
	else if (!cfg->opts.tls_cert != !cfg->opts.tls_key)
		cli_usage_error(cmd, "--tls-cert and --tls-key go together");
	else
		rc = server_run(cmd, cfg);
	server_config_free(cfg);
	return rc;
}
