/*
 * cmd_server.c — `ember server [--listen ADDR:PORT] [--data-dir DIR]`: opens the store and
 * serves the ingest and query APIs (src/server/) until SIGINT or SIGTERM, then stops accepting,
 * lets running requests finish and closes the store. This file only parses options and waits
 * for the signal; SIGINT/SIGTERM are blocked in every thread and taken with sigwait here.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "cli/cli.h"
#include "server/server.h"

static const char server_usage[] =
	"usage: ember server [--listen ADDR:PORT] [--data-dir DIR]\n"
	"\n"
	"Serve the Pyroscope-compatible ingest API (POST /ingest, /pyroscope/ingest with\n"
	"folded, lines or pprof bodies), the legacy query API (GET /pyroscope/render,\n"
	"/pyroscope/label-values, /pyroscope/labels), /ready and Prometheus /metrics, storing\n"
	"profiles in DIR. Runs until SIGINT or SIGTERM. Tenant: the X-Scope-OrgID header\n"
	"(default anonymous).\n"
	"\n"
	"Options:\n"
	"  -l, --listen ADDR:PORT  IPv4 address and port to listen on (default 127.0.0.1:4040)\n"
	"  -D, --data-dir DIR      data directory, created if missing (default ./data)\n"
	"  -h, --help              show this help\n"
	"\n" CLI_EXIT_HELP;

/* Installed so that SIGINT/SIGTERM are not ignored (a shell's background job inherits SIGINT
 * ignored); they stay blocked and are taken by sigwait, so this never runs. */
static void server_on_signal(int sig)
{
	(void)sig;
}

int cmd_server(int argc, char **argv)
{
	const char *cmd = argv[0];
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"data-dir", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct server_opts o = {.listen = "127.0.0.1:4040", .data_dir = "./data"};
	struct ember_diag d = {{0}};
	struct server *s = NULL;
	unsigned char addr[4];
	unsigned short port;
	sigset_t set;
	int c, sig = 0, err;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "l:D:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.listen = optarg;
			break;
		case 'D':
			o.data_dir = optarg;
			break;
		case 'h':
			fputs(server_usage, stdout);
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", cmd);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (server_listen_parse(o.listen, addr, &port, &d))
		return cli_usage_error(cmd, "--listen: %s", d.msg);
	if (!*o.data_dir)
		return cli_usage_error(cmd, "--data-dir must not be empty");

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
	err = server_start(&o, &s, &d);
	if (err) {
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		cli_error(cmd, "%s", d.msg[0] ? d.msg : ember_strerror(err));
		return CLI_EXIT_ERR;
	}
	fprintf(stderr, "ember server: listening on http://%s, data in %s\n", o.listen, o.data_dir);
	if (sigwait(&set, &sig) != 0)
		sig = 0;
	LOG_INFO("server: signal %d, shutting down", sig);
	server_stop(s);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	return CLI_EXIT_OK;
}
