/*
 * cmd_agent.c — `ember agent [--config FILE] [--frequency HZ] [--interval DUR] --server URL |
 * --output DIR`: the whole-host sampler. Options come from the YAML file (agent/agent_config.h)
 * and the flags (which win). Every interval agent_flush (agent/flush.h) builds one profile per
 * process, labels, selects and relabels it, merges processes with the same labels and writes
 * and/or queues the result; then a log line reports samples, losses, unwind results and push
 * counters and, with --metrics-addr, the same counters go to Prometheus (agent_metrics.h). On
 * SIGTERM the shipper gets ~2 s to send what is queued. This file parses options and runs the
 * loop.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/agent_metrics.h"
#include "agent/agent_config.h"
#include "agent/flush.h"
#include "agent/push.h"
#include "base/err.h"
#include "base/hmap.h"
#include "base/log.h"
#include "cli/cli.h"

static const char agent_usage[] =
	"usage: ember agent [--config FILE] [--frequency HZ] [--interval DUR] [--duration DUR]\n"
	"                   [--off-cpu] (--server URL | --output DIR | both)\n"
	"\n"
	"Sample every process on this host with the eBPF sampler (complete native stacks\n"
	"without frame pointers, kernel stacks) and, each interval, push one pprof per process\n"
	"to a Pyroscope-compatible server (POST URL/ingest, service_name = the executable's\n"
	"name, labels hostname, pid, comm, executable, build_id, cgroup, container_id,\n"
	"pod_uid, systemd_unit)\n"
	"and/or write it into DIR, named COMM-PID-UNIXTIME.pb.gz. Needs root.\n"
	"With --config, include/exclude selectors and Prometheus-style relabel_configs choose\n"
	"the processes and their labels; processes left with the same labels (say, after\n"
	"dropping pid) are merged into one profile (docs/cli.md).\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE    YAML: the options below plus include, exclude and\n"
	"                       relabel_configs (flags given here win over the file)\n"
	"      --check-config   read and check the --config file, then exit\n"
	"  -F, --frequency HZ   samples per second per CPU (default 19)\n"
	"  -i, --interval DUR   how often profiles are written: 10s, 500ms, 1m (default 10s)\n"
	"  -d, --duration DUR   stop after this long (default: until SIGINT/SIGTERM)\n"
	"  -s, --server URL     push to this server, e.g. http://127.0.0.1:4040; retried with\n"
	"                       backoff while it is down, from a bounded backlog\n"
	"      --push-backlog BYTES  backlog bound, oldest dropped when full (default 64 MiB)\n"
	"      --push-batch     push one profile per interval for the whole host, each\n"
	"                       sample labelled with its process group's labels (the server\n"
	"                       makes one series per label set, as Ember and Pyroscope do\n"
	"                       with sample labels): one request instead of one per group\n"
	"  -o, --output DIR     directory for the profiles (created if missing)\n"
	"      --no-kernel      do not record kernel stacks\n"
	"      --kernel-unwind  unwind user stacks in the kernel from tables loaded into BPF\n"
	"                       maps (the default; a new process's first samples are copied)\n"
	"      --user-unwind    copy every user stack (16 KiB) to user space and unwind it\n"
	"                       there (costs more CPU per sample)\n"
	"      --off-cpu        also record where threads block and for how long (a third\n"
	"                       sample type, off_cpu/nanoseconds; sched_switch)\n"
	"      --off-cpu-every N  record one block in N at random, its time times N, to bound\n"
	"                       the cost on hosts that switch a lot (default 1: every one)\n"
	"      --metrics-addr HOST:PORT  serve Prometheus /metrics (the agent's CPU, memory,\n"
	"                       samples, unwinding, symbolization and shipping counters)\n"
	"  -h, --help           show this help\n"
	"\n" CLI_EXIT_HELP;

static volatile sig_atomic_t agent_stop;

static void on_signal(int sig)
{
	(void)sig;
	agent_stop = 1;
}

/* "10s", "500ms", "2m", "1h", or plain seconds, into milliseconds in [1, 30 days]. */
static int parse_duration(const char *s, long *ms)
{
	long v = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > 100000000)
			return -1;
		v = v * 10 + (*p - '0');
	}
	long mul = strcmp(p, "ms") == 0		    ? 1
		   : strcmp(p, "s") == 0 || *p == 0 ? 1000
		   : strcmp(p, "m") == 0	    ? 60000
		   : strcmp(p, "h") == 0	    ? 3600000
						    : 0;
	if (mul == 0 || v == 0 || v > 30L * 86400000 / mul)
		return -1;
	*ms = v * mul;
	return 0;
}

struct agent_run {
	struct agent_procs *procs;
	struct agent_collector *coll;
	struct agent_kunwind *kun; /* NULL with --user-unwind */
	struct hmap exited;	   /* pids to forget after the next flush */
	struct agent_flush_stats fst;
};

static void on_rec(void *ctx, const void *rec, size_t len)
{
	struct agent_run *r = ctx;
	if (agent_take_record(r->procs, r->coll, r->kun, rec, len) == EMBER_REC_EXIT) {
		int pid = (int)((const struct ember_proc_event *)rec)->pid;
		/* Its samples may still wait for the flush, which needs its maps. */
		hmap_put(&r->exited, (uint64_t)pid, 1);
		if (r->kun)
			agent_kunwind_forget(r->kun, pid);
	}
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Flushes the interval's profiles and forgets the processes that exited. */
static int flush(struct agent_run *r, const struct agent_flush_opts *fo)
{
	int written = agent_flush(r->procs, r->coll, fo, &r->fst);
	size_t it = 0;
	uint64_t pid, one;

	while (hmap_next(&r->exited, &it, &pid, &one))
		agent_procs_forget(r->procs, (int)pid);
	hmap_clear(&r->exited);
	return written;
}

/* The agent's own resident set (VmRSS, MB) and CPU time (user + system, s). */
static void self_usage(double *rss_mb, double *cpu_s)
{
	*rss_mb = 0;
	*cpu_s = 0;
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		*cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return;
	char line[256];
	long kb;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			*rss_mb = (double)kb / 1024;
	fclose(f);
}

static void print_push(const char *cmd, const struct agent_push_stats *ps)
{
	fprintf(stderr,
		"%s: push: pushed %llu, retried %llu, dropped_full %llu, dropped_rejected %llu, "
		"backlog %llu profiles %llu bytes%s%s\n",
		cmd, (unsigned long long)ps->pushed, (unsigned long long)ps->retried,
		(unsigned long long)ps->dropped_full, (unsigned long long)ps->dropped_rejected,
		(unsigned long long)ps->backlog_n, (unsigned long long)ps->backlog_bytes,
		ps->last_error[0] ? "; last error: " : "", ps->last_error);
}

/* The Prometheus exposition of the agent's counters (--metrics-addr). */
static void publish_metrics(struct agent_metrics *am, struct agent_sampler *s,
			    const struct agent_run *r, struct agent_push *push)
{
	uint64_t bpf[EMBER_STAT_N];
	const struct agent_collect_stats *st = agent_collector_stats(r->coll);
	double rss_mb, cpu_s;
	struct buf b;

	if (!am)
		return;
	agent_sampler_stats(s, bpf);
	self_usage(&rss_mb, &cpu_s);
	buf_init(&b, MEM_CLI, (size_t)1 << 20);
#define METRIC(name, type, help, fmt, ...)                                                   \
	buf_printf(&b, "# HELP " name " " help "\n# TYPE " name " " type "\n" name fmt "\n", \
		   __VA_ARGS__)
	METRIC("ember_agent_cpu_seconds_total", "counter", "CPU time of the agent (user + system).",
	       " %.3f", cpu_s);
	METRIC("ember_agent_resident_memory_bytes", "gauge", "Resident set size of the agent.",
	       " %.0f", rss_mb * 1048576);
	METRIC("ember_agent_samples_total", "counter", "Samples received from the kernel.", " %llu",
	       (unsigned long long)st->samples);
	METRIC("ember_agent_samples_lost_total", "counter",
	       "Samples dropped because the ring buffer was full.", " %llu",
	       (unsigned long long)bpf[EMBER_STAT_LOST]);
	METRIC("ember_agent_kernel_unwound_total", "counter",
	       "Samples whose user stack was unwound in the kernel.", " %llu",
	       (unsigned long long)st->kernel_unwound);
	METRIC("ember_agent_stack_copies_total", "counter",
	       "Samples sent as stack copies, by why the kernel did not unwind them.",
	       "{reason=\"new_process\"} %llu\nember_agent_stack_copies_total{reason=\"file_not_"
	       "loaded\"} %llu\nember_agent_stack_copies_total{reason=\"unknown_mapping\"} %llu",
	       (unsigned long long)bpf[EMBER_STAT_FB_NO_PROC],
	       (unsigned long long)bpf[EMBER_STAT_FB_PENDING],
	       (unsigned long long)bpf[EMBER_STAT_FB_NO_MAP]);
	buf_puts(&b,
		 "# HELP ember_agent_user_stacks_total User stacks by how their unwinding ended "
		 "(complete: to the outermost frame; max_frames: truncated).\n"
		 "# TYPE ember_agent_user_stacks_total counter\n");
	for (int i = 0; i < UNWIND_STOP_N; i++)
		buf_printf(&b, "ember_agent_user_stacks_total{stop=\"%s\"} %llu\n",
			   unwind_stop_name((enum unwind_stop)i), (unsigned long long)st->stop[i]);
	METRIC("ember_agent_frames_total", "counter", "Frames in the profiles flushed.", " %llu",
	       (unsigned long long)r->fst.frames);
	METRIC("ember_agent_symbolization_misses_total", "counter",
	       "Frames flushed without a name (kept with their mapping and address).", " %llu",
	       (unsigned long long)r->fst.unnamed);
	METRIC("ember_agent_profiles_total", "counter", "Profiles written or queued.", " %llu",
	       (unsigned long long)r->fst.profiles);
	METRIC("ember_agent_processes_dropped_total", "counter",
	       "Processes left out by an include/exclude selector or a keep/drop rule.", " %llu",
	       (unsigned long long)r->fst.procs_dropped);
	METRIC("ember_agent_processes_merged_total", "counter",
	       "Processes merged into another process's profile (same labels after relabeling).",
	       " %llu", (unsigned long long)r->fst.procs_merged);
	if (push) {
		struct agent_push_stats ps;

		agent_push_stats(push, &ps);
		METRIC("ember_agent_push_total", "counter", "Profiles by what the shipper did.",
		       "{result=\"pushed\"} %llu\nember_agent_push_total{result=\"retried\"} "
		       "%llu\nember_agent_push_total{result=\"dropped_full\"} %llu\n"
		       "ember_agent_push_total{result=\"dropped_rejected\"} %llu",
		       (unsigned long long)ps.pushed, (unsigned long long)ps.retried,
		       (unsigned long long)ps.dropped_full,
		       (unsigned long long)ps.dropped_rejected);
		METRIC("ember_agent_push_backlog_bytes", "gauge", "Bytes waiting to be pushed.",
		       " %llu", (unsigned long long)ps.backlog_bytes);
	}
#undef METRIC
	agent_metrics_publish(am, (const char *)b.data, b.len);
	buf_fini(&b);
}

struct agent_args {
	long freq, interval_ms, duration_ms, backlog;
	const char *dir, *server, *metrics_addr;
	bool no_kernel, user_unwind, off_cpu, push_batch;
	long off_cpu_every;
	struct agent_relabel *relabel;
};

/* Starts the shipper, the sampler and the metrics endpoint, then samples and flushes until
 * stopped; returns the exit code. */
static int run_agent(const char *cmd, const struct agent_args *a)
{
	long freq = a->freq, interval_ms = a->interval_ms, duration_ms = a->duration_ms;
	const char *dir = a->dir, *server = a->server, *metrics_addr = a->metrics_addr;
	bool no_kernel = a->no_kernel, user_unwind = a->user_unwind;
	if (!dir && !server)
		return cli_usage_error(cmd, "--server URL or --output DIR is required");
	struct agent_push *push = NULL;
	if (server) {
		struct agent_push_opts po = {.url = server,
					     .max_backlog_bytes = (size_t)a->backlog,
					     .sample_rate_hz = (int)freq};
		int prc = agent_push_new(&po, &push);
		if (prc == -EINVAL)
			return cli_usage_error(
				cmd, "bad --server '%s' (want http[s]://host[:port])", server);
		if (prc != 0) {
			cli_error(cmd, "cannot start the shipper: %s", ember_strerror(prc));
			return CLI_EXIT_ERR;
		}
	}
	char host[256] = "unknown";
	if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = 0;
	if (dir && mkdir(dir, 0755) != 0 && errno != EEXIST) {
		agent_push_free(push, 0, NULL);
		cli_error(cmd, "%s: %s", dir, strerror(errno));
		return CLI_EXIT_ERR;
	}
	/* The ring must absorb ~2 s of stack copies (17 KB each: the first samples of processes
	 * not loaded yet) while the reader is busy building a large table; most records are
	 * kernel-unwound stacks of ~1 KB. Its pages count twice in the RSS: no bigger than that. */
	long n_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want =
		(size_t)freq * (size_t)(n_cpus > 0 ? n_cpus : 1) * 2 * sizeof(struct ember_sample);
	size_t ring = (size_t)1 << 20;
	while (ring < want && ring < ((size_t)8 << 20))
		ring <<= 1;
	struct agent_sampler_opts so = {.freq_hz = (int)freq,
					.no_kernel = no_kernel,
					.user_unwind = user_unwind,
					.ring_bytes = ring,
					.off_cpu = a->off_cpu,
					.off_cpu_every = (uint32_t)a->off_cpu_every};
	struct agent_sampler *s = NULL;
	int rc = agent_sampler_open(&so, &s);
	if (rc == 0)
		rc = agent_sampler_attach(s);
	if (rc != 0) {
		cli_error(cmd, "cannot start the BPF sampler: %s%s", ember_strerror(rc),
			  rc == -EPERM || rc == -EACCES ? " (needs root)" : "");
		agent_sampler_close(s);
		agent_push_free(push, 0, NULL);
		return CLI_EXIT_ERR;
	}
	struct agent_run run = {0};
	struct agent_metrics *am = NULL;
	if (metrics_addr) {
		struct ember_diag md = {""};
		int mrc = agent_metrics_start(metrics_addr, &am, &md);
		if (mrc != 0) {
			agent_sampler_close(s);
			agent_push_free(push, 0, NULL);
			if (mrc == -EMBER_EUSAGE)
				return cli_usage_error(cmd, "%s", md.msg);
			cli_error(cmd, "%s", md.msg);
			return CLI_EXIT_ERR;
		}
	}
	/* Large blocks (unwind tables being built, profiles) straight from mmap, so that freeing
	 * them returns the memory (glibc would otherwise raise the threshold and keep them). */
	mallopt(M_MMAP_THRESHOLD, 256 << 10);
	/* Tables go to the kernel's row array once loaded (and are freed here then): the user
	 * space cache only holds those not loaded yet, or too large for it. */
	run.procs = agent_procs_new(&(struct agent_procs_opts){
		.no_kernel = no_kernel, .max_table_bytes = user_unwind ? 0 : (size_t)16 << 20});
	/* A start-up cost: not in the middle of the first flush. */
	agent_procs_load_kernel_symbols(run.procs);
	run.coll = agent_collector_new(run.procs, (int)freq);
	agent_collector_set_off_cpu(run.coll, a->off_cpu);
	run.kun = user_unwind ? NULL : agent_kunwind_new(s, run.procs);
	hmap_init(&run.exited, MEM_CLI);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	agent_stop = 0;
	const struct agent_flush_opts fo = {.dir = dir,
					    .push = push,
					    .host = host,
					    .interval_ms = interval_ms,
					    .relabel = a->relabel,
					    .batch = a->push_batch};
	double t0 = mono_s(), next = t0 + (double)interval_ms / 1000, next_metrics = t0;
	int ret = CLI_EXIT_OK;
	for (;;) {
		int n = agent_sampler_poll(s, 100, on_rec, &run);
		if (n < 0) {
			cli_error(cmd, "ring buffer: %s", ember_strerror(n));
			ret = CLI_EXIT_ERR;
			break;
		}
		double now = mono_s();
		bool done =
			agent_stop || (duration_ms > 0 && now - t0 >= (double)duration_ms / 1000);
		if (am && now >= next_metrics) {
			publish_metrics(am, s, &run, push);
			next_metrics = now + 1;
		}
		if (now >= next || done) {
			int w = flush(&run, &fo);
			uint64_t bpf[EMBER_STAT_N];
			agent_sampler_stats(s, bpf);
			const struct agent_collect_stats *st = agent_collector_stats(run.coll);
			double rss_mb, cpu_s;
			self_usage(&rss_mb, &cpu_s);
			fprintf(stderr,
				"%s: wrote %d profiles; samples %llu (lost %llu), complete stacks "
				"%llu, kernel threads %llu, unwound in the kernel %llu (copies: "
				"new "
				"process %llu, file not loaded %llu, unknown mapping %llu); rss "
				"%.1f MB, "
				"cpu %.2f s\n",
				cmd, w, (unsigned long long)st->samples,
				(unsigned long long)bpf[EMBER_STAT_LOST],
				(unsigned long long)st->stop[UNWIND_STOP_OUTERMOST],
				(unsigned long long)st->kernel_only,
				(unsigned long long)st->kernel_unwound,
				(unsigned long long)bpf[EMBER_STAT_FB_NO_PROC],
				(unsigned long long)bpf[EMBER_STAT_FB_PENDING],
				(unsigned long long)bpf[EMBER_STAT_FB_NO_MAP], rss_mb, cpu_s);
			if (a->relabel)
				fprintf(stderr,
					"%s: processes: %llu merged into a group, %llu left out by "
					"the config\n",
					cmd, (unsigned long long)run.fst.procs_merged,
					(unsigned long long)run.fst.procs_dropped);
			if (run.kun) {
				const struct agent_kunwind_stats *ks = agent_kunwind_stats(run.kun);
				fprintf(stderr,
					"%s: in-kernel tables: %llu processes written, %llu files "
					"(%llu rows) loaded, %llu resets, %llu errors\n",
					cmd, (unsigned long long)ks->procs_pushed,
					(unsigned long long)ks->files_loaded,
					(unsigned long long)ks->rows_loaded,
					(unsigned long long)ks->resets,
					(unsigned long long)ks->errors);
			}
			if (push) {
				struct agent_push_stats ps;
				agent_push_stats(push, &ps);
				print_push(cmd, &ps);
			}
			next = now + (double)interval_ms / 1000;
		}
		if (done)
			break;
	}
	agent_metrics_stop(am);
	agent_sampler_close(s);
	if (push) {
		/* Up to ~2 s to send what is queued, then what is left is dropped. */
		struct agent_push_stats ps;
		agent_push_free(push, 2000, &ps);
		print_push(cmd, &ps);
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	agent_kunwind_free(run.kun);
	agent_collector_free(run.coll);
	agent_procs_free(run.procs);
	hmap_fini(&run.exited);
	return ret;
}

int cmd_agent(int argc, char **argv)
{
	const char *cmd = argv[0];
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'C'},
		{"frequency", required_argument, NULL, 'F'},
		{"interval", required_argument, NULL, 'i'},
		{"duration", required_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"server", required_argument, NULL, 's'},
		{"push-backlog", required_argument, NULL, 'B'},
		{"push-batch", no_argument, NULL, 'P'},
		{"no-kernel", no_argument, NULL, 'K'},
		{"user-unwind", no_argument, NULL, 'U'},
		{"kernel-unwind", no_argument, NULL, 'N'},
		{"metrics-addr", required_argument, NULL, 'M'},
		{"off-cpu", no_argument, NULL, 'O'},
		{"off-cpu-every", required_argument, NULL, 'E'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	/* 0, NULL or -1 = not given on the command line (then the file, then the default). */
	long freq = 0, interval_ms = 0, duration_ms = 0, backlog = 0;
	const char *dir = NULL, *server = NULL, *metrics_addr = NULL, *config_path = NULL;
	int no_kernel = -1, user_unwind = -1, off_cpu = -1, push_batch = -1;
	long off_every = 0;
	bool check_only = false;
	int c;
	while ((c = getopt_long(argc, argv, "c:F:i:d:o:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'C':
			check_only = true;
			break;
		case 'F':
			if (cli_parse_long(cmd, "--frequency", optarg, 1, 10000, &freq))
				return CLI_EXIT_USAGE;
			break;
		case 'i':
			if (parse_duration(optarg, &interval_ms) != 0)
				return cli_usage_error(cmd, "bad --interval '%s'", optarg);
			break;
		case 'd':
			if (parse_duration(optarg, &duration_ms) != 0)
				return cli_usage_error(cmd, "bad --duration '%s'", optarg);
			break;
		case 'o':
			dir = optarg;
			break;
		case 's':
			server = optarg;
			break;
		case 'B':
			if (cli_parse_long(cmd, "--push-backlog", optarg, 1L << 16, 1L << 40,
					   &backlog))
				return CLI_EXIT_USAGE;
			break;
		case 'K':
			no_kernel = 1;
			break;
		case 'P':
			push_batch = 1;
			break;
		case 'U':
			user_unwind = 1;
			break;
		case 'N':
			user_unwind = 0;
			break;
		case 'M':
			metrics_addr = optarg;
			break;
		case 'O':
			off_cpu = 1;
			break;
		case 'E':
			if (cli_parse_long(cmd, "--off-cpu-every", optarg, 1, 1000000, &off_every))
				return CLI_EXIT_USAGE;
			break;
		case 'h':
			fputs(agent_usage, stdout);
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", cmd);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	struct agent_config *cfg = NULL;
	if (config_path) {
		struct ember_diag cd = {""};
		int crc = agent_config_load(config_path, &cfg, &cd);
		if (crc != 0) {
			if (crc == -EMBER_EUSAGE)
				return cli_usage_error(cmd, "%s", cd.msg);
			cli_error(cmd, "%s", ember_diag_msg(&cd, crc));
			return CLI_EXIT_ERR;
		}
		if (check_only) {
			printf("%s: ok (%zu selectors and relabel rules)\n", config_path,
			       cfg->relabel ? agent_relabel_n_rules(cfg->relabel) : 0);
			agent_config_free(cfg);
			return CLI_EXIT_OK;
		}
		freq = freq ? freq : cfg->frequency;
		interval_ms = interval_ms ? interval_ms : cfg->interval_ms;
		duration_ms = duration_ms ? duration_ms : cfg->duration_ms;
		backlog = backlog ? backlog : cfg->push_backlog;
		dir = dir ? dir : cfg->output;
		server = server ? server : cfg->server;
		metrics_addr = metrics_addr ? metrics_addr : cfg->metrics_addr;
		if (no_kernel < 0 && cfg->kernel_stacks >= 0)
			no_kernel = !cfg->kernel_stacks;
		if (user_unwind < 0)
			user_unwind = cfg->user_unwind;
		if (off_cpu < 0)
			off_cpu = cfg->off_cpu;
		if (push_batch < 0)
			push_batch = cfg->push_batch;
		off_every = off_every ? off_every : cfg->off_cpu_every;
	}
	if (check_only)
		return cli_usage_error(cmd, "--check-config needs --config FILE");
	freq = freq ? freq : 19;
	interval_ms = interval_ms ? interval_ms : 10000;
	backlog = backlog ? backlog : 64L << 20;
	no_kernel = no_kernel > 0;
	user_unwind = user_unwind > 0;
	off_cpu = off_cpu > 0;
	push_batch = push_batch > 0;
	off_every = off_every ? off_every : 1;
	int ret = run_agent(cmd, &(struct agent_args){.freq = freq,
						      .interval_ms = interval_ms,
						      .duration_ms = duration_ms,
						      .backlog = backlog,
						      .dir = dir,
						      .server = server,
						      .metrics_addr = metrics_addr,
						      .no_kernel = no_kernel,
						      .user_unwind = user_unwind,
						      .off_cpu = off_cpu,
						      .push_batch = push_batch,
						      .off_cpu_every = off_every,
						      .relabel = cfg ? cfg->relabel : NULL});
	agent_config_free(cfg);
	return ret;
}
