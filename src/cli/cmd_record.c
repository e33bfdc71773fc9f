/*
 * cmd_record.c — `ember record [-F HZ] [-o FILE] [--format FMT] -- CMD [ARGS]` and
 * `ember record -p PID [-d SECONDS]`: the agent's sampler limited to one process tree (children
 * and threads included, followed by the BPF fork tracepoint), writing one profile on exit.
 * CMD is forked, held on a pipe until the sampler is attached, then exec'd. Samples are
 * unwound and counted while the processes live (their maps and files are needed); the profile
 * is built, encoded and written atomically at the end. Parsing and the run loop only.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/err.h"
#include "base/log.h"
#include "cli/cli.h"
#include "format/flamebearer.h"
#include "format/folded.h"
#include "format/pprof.h"
#include "format/speedscope.h"
#include "format/svg.h"
#include "profile/flame.h"
#include "profile/merge.h"

static const char record_usage[] =
	"usage: ember record [-F HZ] [-o FILE] [--format FMT] [--no-kernel] [--off-cpu]\n"
	"                    [--kernel-unwind|--user-unwind]\n"
	"                    -- CMD [ARGS]\n"
	"       ember record -p PID [-d SECONDS] [-F HZ] [-o FILE] [--format FMT]\n"
	"\n"
	"Sample the CPU stacks of a command (or of a running process), its threads and its\n"
	"child processes with the eBPF sampler, and write one profile when it exits (or after\n"
	"-d seconds, or on Ctrl-C). Native stacks are unwound with .eh_frame tables, so code\n"
	"built without frame pointers gets complete stacks; kernel frames end in '_[k]'.\n"
	"Needs root (or CAP_BPF + CAP_PERFMON).\n"
	"\n"
	"Options:\n"
	"  -F, --frequency HZ      samples per second per CPU (default 99)\n"
	"  -o, --output FILE       where to write (default ember.pb.gz; '-' = standard output)\n"
	"  -f, --format FMT        pprof | folded | speedscope | svg | json; default from FILE's\n"
	"                          extension, else pprof\n"
	"  -p, --pid PID           profile a running process and its descendants\n"
	"  -d, --duration SECONDS  stop after this long (default: until CMD or PID exits)\n"
	"      --no-kernel         do not record kernel stacks\n"
	"      --off-cpu           also record where threads block and for how long: a third\n"
	"                          sample type, off_cpu/nanoseconds, which the folded, svg,\n"
	"                          speedscope and json formats then show\n"
	"      --kernel-unwind     unwind user stacks in the kernel from tables loaded into\n"
	"                          BPF maps (the default; a new process's first samples are\n"
	"                          copied)\n"
	"      --user-unwind       copy every user stack (16 KiB) to user space and unwind it\n"
	"                          there (costs more CPU per sample)\n"
	"  -h, --help              show this help\n"
	"\n" CLI_EXIT_HELP;

static volatile sig_atomic_t record_stop;

static void on_signal(int sig)
{
	(void)sig;
	record_stop = 1;
}

struct record_run {
	struct agent_procs *procs;
	struct agent_collector *coll;
	struct agent_kunwind *kun; /* NULL with --user-unwind */
};

static void on_rec(void *ctx, const void *rec, size_t len)
{
	struct record_run *r = ctx;
	agent_take_record(r->procs, r->coll, r->kun, rec, len);
}

static void add_desc(void *ctx, int pid)
{
	if (agent_sampler_add_pid(ctx, pid) != 0)
		LOG_WARN("cannot follow pid %d", pid);
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int render(const char *cmd, enum cli_out_format fmt, const char *name, struct prof *p,
		  const char *unit, struct buf *out)
{
	switch (fmt) {
	case CLI_OUT_PPROF:
	case CLI_OUT_NONE:
		return pprof_encode(p, true, out);
	case CLI_OUT_SPEEDSCOPE:
		return speedscope_write(p, name, out);
	case CLI_OUT_FOLDED:
		return folded_write(p, 0, out);
	case CLI_OUT_FLAMEBEARER:
	case CLI_OUT_SVG: {
		struct flame *f = flame_new(p, 0, 8192);
		int rc;
		if (fmt == CLI_OUT_SVG) {
			struct svg_opts so = {.title = name, .unit = unit};
			rc = svg_write(f, &so, out);
		} else {
			struct flamebearer_meta m = {.name = name};
			cli_flamebearer_units(p, 0, &m.units, &m.sample_rate);
			rc = flamebearer_write(f, &m, out);
		}
		flame_free(f);
		return rc;
	}
	}
	(void)cmd;
	return -EMBER_EUSAGE;
}

static void print_summary(const char *cmd, const struct agent_collect_stats *st,
			  const uint64_t bpf[EMBER_STAT_N], const char *out)
{
	uint64_t user = st->samples - st->kernel_only - st->no_user_regs;
	double complete =
		user ? 100.0 * (double)st->stop[UNWIND_STOP_OUTERMOST] / (double)user : 0.0;
	fprintf(stderr,
		"%s: %llu samples (%llu lost, %llu unwound in the kernel), %.1f%% of user stacks "
		"complete",
		cmd, (unsigned long long)st->samples, (unsigned long long)bpf[EMBER_STAT_LOST],
		(unsigned long long)st->kernel_unwound, complete);
	for (int i = 1; i < UNWIND_STOP_N; i++)
		if (st->stop[i])
			fprintf(stderr, ", %s %llu", unwind_stop_name((enum unwind_stop)i),
				(unsigned long long)st->stop[i]);
	if (st->off_cpu)
		fprintf(stderr, "; %llu off-CPU stacks, %.3f s blocked (%llu skipped: ring busy)",
			(unsigned long long)st->off_cpu, (double)st->off_cpu_ns / 1e9,
			(unsigned long long)bpf[EMBER_STAT_OFFCPU_BUSY]);
	fprintf(stderr, "; wrote %s\n", out);
}

int cmd_record(int argc, char **argv)
{
	const char *cmd = argv[0];
	static const struct option longopts[] = {
		{"frequency", required_argument, NULL, 'F'},
		{"output", required_argument, NULL, 'o'},
		{"format", required_argument, NULL, 'f'},
		{"pid", required_argument, NULL, 'p'},
		{"duration", required_argument, NULL, 'd'},
		{"no-kernel", no_argument, NULL, 'K'},
		{"off-cpu", no_argument, NULL, 'O'},
		{"user-unwind", no_argument, NULL, 'U'},
		{"kernel-unwind", no_argument, NULL, 'N'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long freq = 99, pid = 0, duration = 0;
	const char *out_path = "ember.pb.gz", *fmt_name = NULL;
	bool no_kernel = false, user_unwind = false, off_cpu = false;
	int c;
	while ((c = getopt_long(argc, argv, "+F:o:f:p:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (cli_parse_long(cmd, "-F", optarg, 1, 10000, &freq))
				return CLI_EXIT_USAGE;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'f':
			fmt_name = optarg;
			break;
		case 'p':
			if (cli_parse_long(cmd, "-p", optarg, 1, 1 << 30, &pid))
				return CLI_EXIT_USAGE;
			break;
		case 'd':
			if (cli_parse_long(cmd, "-d", optarg, 1, 86400 * 365, &duration))
				return CLI_EXIT_USAGE;
			break;
		case 'K':
			no_kernel = true;
			break;
		case 'O':
			off_cpu = true;
			break;
		case 'U':
			user_unwind = true;
			break;
		case 'N':
			user_unwind = false;
			break;
		case 'h':
			fputs(record_usage, stdout);
			return CLI_EXIT_OK;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", cmd);
			return CLI_EXIT_USAGE;
		}
	}
	char **child_argv = argv + optind;
	int n_child = argc - optind;
	if (pid == 0 && n_child == 0)
		return cli_usage_error(cmd, "nothing to record: give -- CMD [ARGS] or -p PID");
	if (pid != 0 && n_child > 0)
		return cli_usage_error(cmd, "-p and a command are exclusive");
	enum cli_out_format fmt = CLI_OUT_PPROF;
	if (fmt_name) {
		fmt = cli_out_format_parse(fmt_name);
		if (fmt == CLI_OUT_NONE)
			return cli_usage_error(cmd, "unknown format '%s'", fmt_name);
	} else if (strcmp(out_path, "-") != 0 &&
		   cli_out_format_from_path(out_path) != CLI_OUT_NONE) {
		fmt = cli_out_format_from_path(out_path);
	}

	struct agent_sampler_opts so = {.freq_hz = (int)freq,
					.filter_pids = true,
					.no_kernel = no_kernel,
					.user_unwind = user_unwind,
					.off_cpu = off_cpu};
	struct agent_sampler *s = NULL;
	int rc = agent_sampler_open(&so, &s);
	if (rc != 0) {
		cli_error(cmd, "cannot load the BPF sampler: %s%s", ember_strerror(rc),
			  rc == -EPERM || rc == -EACCES ? " (needs root)" : "");
		return CLI_EXIT_ERR;
	}
	int go[2] = {-1, -1}, exec_err[2] = {-1, -1};
	pid_t child = -1;
	if (n_child > 0) {
		if (pipe(go) != 0 || pipe2(exec_err, O_CLOEXEC) != 0) {
			cli_error(cmd, "pipe: %s", strerror(errno));
			agent_sampler_close(s);
			return CLI_EXIT_ERR;
		}
		child = fork();
		if (child < 0) {
			cli_error(cmd, "fork: %s", strerror(errno));
			agent_sampler_close(s);
			return CLI_EXIT_ERR;
		}
		if (child == 0) {
			char b;
			close(go[1]);
			if (read(go[0], &b, 1) != 1)
				_exit(127);
			close(go[0]);
			close(exec_err[0]);
			execvp(child_argv[0], child_argv);
			int e = errno;
			if (write(exec_err[1], &e, sizeof(e)) != (ssize_t)sizeof(e))
				_exit(126);
			_exit(127);
		}
		close(go[0]);
		close(exec_err[1]);
		pid = child;
	}
	rc = agent_sampler_add_pid(s, (int)pid);
	if (rc == 0 && child < 0)
		rc = agent_proc_descendants((int)pid, add_desc, s);
	if (rc == 0)
		rc = agent_sampler_attach(s);
	if (rc != 0) {
		cli_error(cmd, "cannot start sampling: %s", ember_strerror(rc));
		if (child > 0) {
			close(go[1]);
			close(exec_err[0]);
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
		}
		agent_sampler_close(s);
		return CLI_EXIT_ERR;
	}
	struct record_run run;
	run.procs = agent_procs_new(&(struct agent_procs_opts){.no_kernel = no_kernel});
	run.coll = agent_collector_new(run.procs, (int)freq);
	agent_collector_set_off_cpu(run.coll, off_cpu);
	run.kun = user_unwind ? NULL : agent_kunwind_new(s, run.procs);

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	record_stop = 0;
	if (child > 0) {
		if (write(go[1], "g", 1) != 1)
			LOG_WARN("cannot release the child");
		close(go[1]);
		/* EOF when exec succeeded (the write end is close-on-exec), else its errno. */
		int e = 0;
		ssize_t n = read(exec_err[0], &e, sizeof(e));
		close(exec_err[0]);
		if (n == (ssize_t)sizeof(e)) {
			cli_error(cmd, "%s: %s", child_argv[0], strerror(e));
			waitpid(child, NULL, 0);
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			agent_sampler_close(s);
			agent_kunwind_free(run.kun);
			agent_collector_free(run.coll);
			agent_procs_free(run.procs);
			return CLI_EXIT_ERR;
		}
	}
	double t0 = mono_s();
	int exit_status = 0;
	for (;;) {
		int n = agent_sampler_poll(s, 100, on_rec, &run);
		if (n < 0) {
			cli_error(cmd, "ring buffer: %s", ember_strerror(n));
			break;
		}
		if (record_stop || (duration > 0 && mono_s() - t0 >= (double)duration))
			break;
		if (child > 0) {
			int st;
			if (waitpid(child, &st, WNOHANG) == child) {
				exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				child = -1;
				break;
			}
		} else if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
			break;
		}
	}
	/* The samples still in the ring buffer. */
	while (agent_sampler_poll(s, 0, on_rec, &run) > 0)
		;
	uint64_t bpf[EMBER_STAT_N];
	agent_sampler_stats(s, bpf);
	agent_sampler_close(s);
	if (child > 0) {
		/* Stopped by -d or a signal: the command keeps running, as with perf -p. */
		kill(child, SIGTERM);
		waitpid(child, NULL, 0);
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);

	struct prof *p = NULL;
	agent_collector_build(run.coll, -1, &p);
	struct buf out;
	buf_init(&out, MEM_CLI, SIZE_MAX);
	const char *name = n_child > 0 ? cli_basename(child_argv[0]) : "pid";
	if (off_cpu && fmt != CLI_OUT_PPROF) {
		/* The text formats show one sample type: the off-CPU time that was asked for. */
		struct prof *q = prof_select_type(p, 2);
		prof_free(p);
		p = q;
	}
	rc = render(cmd, fmt, name, p, off_cpu ? "nanoseconds" : "samples", &out);
	int ret = CLI_EXIT_OK;
	if (rc != 0) {
		cli_error(cmd, "cannot encode the profile: %s", ember_strerror(rc));
		ret = CLI_EXIT_ERR;
	} else if (cli_write(cmd, &out, out_path) != 0) {
		ret = CLI_EXIT_ERR;
	} else {
		print_summary(cmd, agent_collector_stats(run.coll), bpf,
			      strcmp(out_path, "-") ? out_path : "stdout");
	}
	buf_fini(&out);
	prof_free(p);
	agent_kunwind_free(run.kun);
	agent_collector_free(run.coll);
	agent_procs_free(run.procs);
	if (ret == CLI_EXIT_OK && exit_status != 0)
		LOG_INFO("command exited with status %d", exit_status);
	return ret;
}
