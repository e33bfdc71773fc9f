/*
 * test_scrape_loop.c — the scrape loop end to end without Go: an in-process libmicrohttpd target
 * serves a cumulative mutex profile whose counters grow with every request, a goroutine gauge
 * and a 404 heap; a second target is a closed port, a third accepts connections and never
 * answers. server_scrape_start reads a YAML file with three jobs; after a few 1-second scrapes
 * the store holds exactly the telescoped deltas (last - first), the gauge once per scrape, the
 * labels service_name/job/instance plus a static label, /api/v1/targets and /metrics report
 * up/errors, and server_scrape_stop returns promptly with a transfer in flight.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "format/pprof.h"
#include "prof_fixture.h"
#include "server/server_int.h"
#include "server/server_scrape.h"
#include "test.h"

static atomic_int n_mutex, n_goroutine;

static struct prof *target_profile(const char *url)
{
	struct prof *p;

	if (!strcmp(url, "/debug/pprof/mutex")) {
		int64_t n = atomic_fetch_add(&n_mutex, 1) + 1;

		p = fx_types("contentions", "count", "delay", "nanoseconds");
		fx_add(p, "main;worker;sync.(*Mutex).Unlock", 0, 10 * n, 1000 * n);
		fx_add(p, "main;other;sync.(*Mutex).Unlock", 0, 1, 100); /* constant: no delta */
		prof_meta(p)->period_type.type = prof_intern_cstr(p, "contentions");
		prof_meta(p)->period_type.unit = prof_intern_cstr(p, "count");
		prof_meta(p)->period = 1;
		return p;
	}
	if (!strcmp(url, "/debug/pprof/goroutine")) {
		atomic_fetch_add(&n_goroutine, 1);
		p = fx_types("goroutine", "count", NULL, NULL);
		fx_add(p, "main;park;runtime.gopark", 0, 5, 0);
		prof_meta(p)->period_type.type = prof_intern_cstr(p, "goroutine");
		prof_meta(p)->period_type.unit = prof_intern_cstr(p, "count");
		prof_meta(p)->period = 1;
		return p;
	}
	return NULL;
}

static enum MHD_Result on_target(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *upload,
				 size_t *upload_size, void **con_cls)
{
	struct prof *p = target_profile(url);
	struct MHD_Response *resp;
	struct buf b;
	enum MHD_Result ret;

	(void)cls, (void)method, (void)version, (void)upload, (void)upload_size, (void)con_cls;
	buf_init(&b, MEM_TEST, SIZE_MAX);
	if (p) {
		pprof_encode(p, true, &b);
		prof_free(p);
	} else {
		buf_puts(&b, "404 page not found\n");
	}
	resp = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
	ret = MHD_queue_response(c, p ? 200 : 404, resp);
	MHD_destroy_response(resp);
	buf_fini(&b);
	return ret;
}

/* A loopback socket that accepts connections (the kernel does) and never answers. */
static int silent_listener(unsigned short *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A loopback port with nothing listening (bound, then closed). */
static unsigned short closed_port(void)
{
	unsigned short port = 0;
	int fd = silent_listener(&port);

	if (fd >= 0)
		close(fd);
	return port;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t stored_total(struct store *st, const char *type, const char *service,
			    const char *extra_name, const char *extra_value)
{
	struct store_matcher m[2] = {{STORE_LABEL_SERVICE, service, STORE_MATCH_EQ},
				     {extra_name, extra_value, STORE_MATCH_EQ}};
	struct store_query q = {.tenant = "anonymous",
				.profile_type = type,
				.matchers = m,
				.n_matchers = extra_name ? 2 : 1};
	struct prof *p = NULL;
	int64_t t;

	if (store_select_merge(st, &q, &p, NULL))
		return -1;
	t = prof_n_sample_types(p) ? prof_total(p, 0) : 0;
	prof_free(p);
	return t;
}

TEST(scrape_loop_end_to_end)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct MHD_Daemon *mhd;
	struct server s = {0};
	struct store_opts so = {.backend = "local", .dir = NULL};
	struct ember_diag d = {{0}};
	char path[512], dir[512], yaml[2048];
	unsigned short port, closed, silent_port;
	int silent;
	struct buf b;
	struct server_req q = {.srv = &s, .tenant = "anonymous"};
	struct server_resp r = {.status = 0};

	atomic_store(&n_mutex, 0);
	atomic_store(&n_goroutine, 0);
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
			       on_target, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			       MHD_OPTION_END);
	CHECK(mhd != NULL);
	port = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
	closed = closed_port();
	silent = silent_listener(&silent_port);
	CHECK(silent >= 0);

	snprintf(dir, sizeof(dir), "%s/data", test_tmpdir());
	snprintf(path, sizeof(path), "%s/ember.yaml", test_tmpdir());
	snprintf(yaml, sizeof(yaml),
		 "server: {listen: '127.0.0.1:1'}\n"
		 "scrape_configs:\n"
		 "  - job_name: go\n"
		 "    scrape_interval: 1s\n"
		 "    static_configs:\n"
		 "      - targets: ['127.0.0.1:%u']\n"
		 "        labels: {env: test}\n"
		 "      - targets: ['127.0.0.1:%u']\n"
		 "    profiling_config:\n"
		 "      pprof_config:\n"
		 "        process_cpu: {enabled: false}\n"
		 "        block: {enabled: false}\n"
		 "  - job_name: hang\n"
		 "    scrape_interval: 30s\n"
		 "    static_configs: [{targets: ['127.0.0.1:%u']}]\n"
		 "    profiling_config:\n"
		 "      pprof_config:\n"
		 "        process_cpu: {enabled: false}\n"
		 "        memory: {enabled: false}\n"
		 "        mutex: {enabled: false}\n"
		 "        block: {enabled: false}\n",
		 port, closed, silent_port);
	buf_init(&b, MEM_TEST, SIZE_MAX);
	buf_puts(&b, yaml);
	CHECK_OK(buf_write_file(&b, path));
	buf_fini(&b);

	so.dir = dir;
	CHECK_OK(store_open(&so, &s.store, &d));
	CHECK_MSG(server_scrape_start(&s, path, &d) == 0, "start: %s", d.msg);
	CHECK(s.scrape != NULL);
	/* Scrapes at about 0, 1 and 2 s. */
	for (int i = 0; i < 60 && atomic_load(&n_mutex) < 3; i++)
		usleep(100000);
	usleep(300000);

	/* The targets API and /metrics. */
	buf_init(&r.body, MEM_TEST, SIZE_MAX);
	server_scrape_targets(&q, &r);
	CHECK_EQ_INT(r.status, 200);
	const char *j = (const char *)r.body.data;
	char want[200];
	snprintf(want, sizeof(want),
		 "{\"job\":\"go\",\"instance\":\"127.0.0.1:%u\",\"type\":\"mutex\",\"url\":\"http:"
		 "//127.0.0.1:%u/debug/pprof/mutex\",\"tenant\":\"anonymous\",\"up\":true",
		 port, port);
	CHECK_MSG(strstr(j, want), "no '%s' in %s", want, j);
	snprintf(want, sizeof(want), "\"instance\":\"127.0.0.1:%u\",\"type\":\"memory\"", port);
	CHECK_MSG(strstr(j, want), "%s", j);
	CHECK_MSG(strstr(j, "\"last_error\":\"HTTP 404: 404 page not found\""), "%s", j);
	CHECK_MSG(strstr(j, "Failed to connect to 127.0.0.1 port"), "closed port error missing: %s",
		  j);
	CHECK_MSG(strstr(j, "\"labels\":{\"env\":\"test\",\"service_name\":\"go\",\"job\":\"go\""),
		  "%s", j);
	buf_reset(&r.body);
	/* Another tenant sees none of them. */
	q.tenant = "team-b";
	server_scrape_targets(&q, &r);
	CHECK_EQ_STR((const char *)r.body.data, "{\"targets\":[]}\n");
	buf_fini(&r.body);

	buf_init(&b, MEM_TEST, SIZE_MAX);
	server_scrape_metrics(&s, &b);
	const char *m = (const char *)b.data;
	snprintf(want, sizeof(want),
		 "ember_scrape_up{job=\"go\",instance=\"127.0.0.1:%u\",type=\"goroutine\"} 1\n",
		 port);
	CHECK_MSG(strstr(m, want), "no '%s' in %s", want, m);
	snprintf(want, sizeof(want),
		 "ember_scrape_up{job=\"go\",instance=\"127.0.0.1:%u\",type=\"mutex\"} 0\n",
		 closed);
	CHECK_MSG(strstr(m, want), "no '%s' in %s", want, m);
	snprintf(want, sizeof(want),
		 "ember_scrape_errors_total{job=\"go\",instance=\"127.0.0.1:%u\",type=\"memory\"} ",
		 port);
	const char *e = strstr(m, want);
	CHECK_MSG(e && e[strlen(want)] >= '1', "memory 404s not counted: %s", m);
	CHECK(strstr(m, "# TYPE ember_scrape_duration_seconds gauge\n"));
	CHECK(strstr(m, "ember_scrape_up{job=\"hang\""));
	buf_fini(&b);

	/* Stop with the hang job's transfer in flight: prompt. */
	int64_t t0 = mono_ms();
	server_scrape_stop(&s);
	int64_t stop_ms = mono_ms() - t0;
	CHECK_MSG(stop_ms < 1000, "stop took %lld ms", (long long)stop_ms);
	CHECK(s.scrape == NULL);

	/* Deltas telescope: the sum of the stored deltas is last - first for the growing stack,
	 * zero for the constant one; the first scrape only primed. */
	int served = atomic_load(&n_mutex);
	int64_t got = stored_total(s.store, "mutex:contentions:count:contentions:count", "go", NULL,
				   NULL);
	CHECK_MSG(served >= 3, "only %d mutex scrapes", served);
	CHECK_MSG(got % 10 == 0 && got >= 10 * (served - 2) && got <= 10 * (served - 1),
		  "stored contentions %lld after %d scrapes", (long long)got, served);
	got = stored_total(s.store, "mutex:delay:nanoseconds:contentions:count", "go", "env",
			   "test");
	CHECK_MSG(got % 1000 == 0 && got >= 1000 * (served - 2), "delay %lld", (long long)got);
	/* The gauge is stored by every scrape. */
	int gs = atomic_load(&n_goroutine);
	char inst[64];
	snprintf(inst, sizeof(inst), "127.0.0.1:%u", port);
	got = stored_total(s.store, "goroutine:goroutine:count:goroutine:count", "go", "instance",
			   inst);
	CHECK_MSG(got >= 5 * (gs - 1) && got <= 5 * gs && got > 0, "goroutines %lld after %d",
		  (long long)got, gs);

	/* Stopping twice, or a server that never scraped, is harmless. */
	server_scrape_stop(&s);
	store_close(s.store);
	MHD_stop_daemon(mhd);
	close(silent);
}

TEST(scrape_start_errors)
{
	struct server s = {0};
	struct ember_diag d = {{0}};
	char path[512];
	struct buf b;

	/* No config: nothing to do. */
	CHECK_OK(server_scrape_start(&s, NULL, &d));
	CHECK(s.scrape == NULL);
	server_scrape_stop(&s);
	/* A bad config fails the start, naming the key and line. */
	snprintf(path, sizeof(path), "%s/bad.yaml", test_tmpdir());
	buf_init(&b, MEM_TEST, SIZE_MAX);
	buf_puts(&b, "scrape_configs:\n  - job_name: a\n    scrape_timeout: 1h\n");
	CHECK_OK(buf_write_file(&b, path));
	buf_fini(&b);
	CHECK(server_scrape_start(&s, path, &d) < 0);
	CHECK_MSG(strstr(d.msg, "bad.yaml:3: scrape_configs[0]: scrape_timeout"), "%s", d.msg);
	CHECK(s.scrape == NULL);
	/* Jobs without targets: nothing runs. */
	snprintf(path, sizeof(path), "%s/empty.yaml", test_tmpdir());
	buf_init(&b, MEM_TEST, SIZE_MAX);
	buf_puts(&b, "scrape_configs:\n  - job_name: a\n");
	CHECK_OK(buf_write_file(&b, path));
	buf_fini(&b);
	CHECK_OK(server_scrape_start(&s, path, &d));
	CHECK(s.scrape == NULL);
}
