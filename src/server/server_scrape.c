/*
 * server_scrape.c — pull scraping of pprof endpoints (Go's net/http/pprof) for `ember server`:
 * the config's scrape_configs (server_scrape_config.c) become one task per target and profile
 * kind, run by one thread on one libcurl multi handle, so a 14-second CPU profile never delays
 * the heap profile of the same target. Each task is due every scrape_interval; its body is
 * bounded (64 MiB) and timed out (scrape_timeout), decoded by the pprof decoder, turned into
 * deltas for cumulative kinds (server_scrape_delta.c) and appended to the store with the labels
 * service_name, job, instance and the target's static labels.
 *
 * Owns the tasks, their baselines and the curl handles; the handlers read the tasks' status
 * under a mutex (GET /api/v1/targets: the request tenant's targets; the ember_scrape_* lines of
 * /metrics: all). Stop aborts the
 * transfers in flight at once (a wakeup of the multi handle) and joins the thread. Response
 * bodies are hostile: bounded, decoded strictly, quoted in errors only as sanitized text.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/hash.h"
#include "base/log.h"
#include "base/mem.h"
#include "format/json.h"
#include "format/pprof.h"
#include "server/server_int.h"
#include "server/server_scrape.h"

#define SCRAPE_MAX_ERROR 256
#define SCRAPE_POLL_MS	 1000
/* Transfers in flight at once; due tasks beyond it start as soon as a transfer ends. */
#define SCRAPE_MAX_INFLIGHT 1024
/* First scrapes are spread over min(interval, this) by a hash of job, target and kind. */
#define SCRAPE_MAX_SPREAD_NS ((int64_t)5 * 1000000000)

/* What the handlers show of a task; written by the scrape thread under sc->mu. */
struct scrape_status {
	bool up;
	int64_t last_scrape_ms; /* unix ms of the last finished scrape's start; 0 = never */
	int64_t last_duration_ms;
	uint64_t scrapes, errors;
	uint64_t samples; /* stored by the last scrape */
	char last_error[SCRAPE_MAX_ERROR];
};

struct scrape_task {
	const struct scrape_job *job;
	const struct scrape_target_cfg *tgt;
	enum scrape_kind kind;
	char *url;
	struct store_label *labels;
	size_t n_labels;
	/* The transfer in flight (easy != NULL) and its body. */
	CURL *easy;
	struct buf body;
	bool too_large;
	char errbuf[CURL_ERROR_SIZE];
	int64_t due_mono_ns;
	int64_t start_mono_ns, start_real_ns;
	struct scrape_delta delta;
	struct scrape_status st; /* under sc->mu */
};

struct server_scrape {
	struct server *srv;
	struct scrape_config *cfg;
	struct scrape_task *tasks;
	size_t n_tasks;
	CURLM *multi;
	size_t n_inflight;
	pthread_t thread;
	pthread_mutex_t mu;
	atomic_bool stop;
};

/* Guards server->scrape itself, so a handler never sees it freed under its feet. */
static pthread_mutex_t scrape_ptr_mu = PTHREAD_MUTEX_INITIALIZER;

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct scrape_task *t = ctx;
	size_t n = size * nmemb;

	if (buf_append(&t->body, ptr, n) < 0) {
		t->too_large = true;
		return 0; /* aborts the transfer */
	}
	return n;
}

/* Printable text of at most max bytes from a hostile body. */
static void sanitize(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < cap; i++) {
		uint8_t ch = p[i];

		if (ch == '\n' || ch == '\r' || ch == '\t')
			ch = ' ';
		dst[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	while (o && dst[o - 1] == ' ')
		o--;
	dst[o] = 0;
}

static void start_transfer(struct server_scrape *sc, struct scrape_task *t, int64_t now)
{
	CURL *h = curl_easy_init();
	long timeout_ms = (long)(t->job->timeout_ns / 1000000);

	t->start_mono_ns = now;
	t->start_real_ns = server_now_ns();
	t->due_mono_ns += t->job->interval_ns;
	if (t->due_mono_ns <= now)
		t->due_mono_ns = now + t->job->interval_ns; /* missed beats are skipped */
	t->too_large = false;
	t->errbuf[0] = 0;
	buf_init(&t->body, MEM_SERVER, SCRAPE_MAX_BODY_BYTES);
	if (!h) {
		t->easy = NULL;
		return;
	}
	curl_easy_setopt(h, CURLOPT_URL, t->url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(h, CURLOPT_PRIVATE, t);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)SCRAPE_MAX_BODY_BYTES);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ember-scraper");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (curl_multi_add_handle(sc->multi, h) != CURLM_OK) {
		curl_easy_cleanup(h);
		h = NULL;
	}
	t->easy = h;
}

/* Decodes, deltas and stores one body; 0 or -1 with a message in err. */
static int store_body(struct server_scrape *sc, struct scrape_task *t, uint64_t *n_samples,
		      char *err, size_t err_len)
{
	struct pprof_limits lim = {.gzip = {.max_out = SCRAPE_MAX_DECODED_BYTES},
				   .max_bytes = SCRAPE_MAX_DECODED_BYTES};
	const struct scrape_kind_info *ki = server_scrape_kind(t->kind);
	struct ember_diag d = {{0}};
	struct prof *p = NULL, *delta = NULL, *keep;
	int64_t time_ns = t->start_real_ns, duration_ns = 0;
	int rc;

	*n_samples = 0;
	rc = pprof_decode(t->body.data, t->body.len, &lim, &p, &d);
	if (rc) {
		snprintf(err, err_len, "pprof: %.200s", ember_diag_msg(&d, rc));
		return -1;
	}
	keep = p;
	if (t->kind == SCRAPE_CPU) {
		duration_ns = server_scrape_cpu_seconds(t->job) * 1000000000;
	} else if (ki->cumulative_possible && t->job->prof[t->kind].delta) {
		uint64_t mask = server_scrape_cumulative_mask(p, t->kind);

		if (mask) {
			int64_t from;

			rc = server_scrape_delta_apply(&t->delta, p, mask, t->start_real_ns, &delta,
						       &from, &d);
			if (rc) {
				snprintf(err, err_len, "delta: %.200s", ember_diag_msg(&d, rc));
				prof_free(p);
				return -1;
			}
			keep = delta; /* NULL: the first scrape only primes the baseline */
			time_ns = from;
			duration_ns = t->start_real_ns - from;
		}
	}
	if (keep && prof_n_samples(keep) > 0) {
		struct prof_meta *m = prof_meta(keep);
		struct store_append ap = {.tenant = t->job->tenant,
					  .labels = t->labels,
					  .n_labels = t->n_labels,
					  .name = ki->name,
					  .time_ns = time_ns,
					  .prof = keep};

		m->time_ns = time_ns;
		if (duration_ns > 0)
			m->duration_ns = duration_ns;
		rc = store_append(sc->srv->store, &ap, &d);
		if (rc) {
			snprintf(err, err_len, "store: %.200s", ember_diag_msg(&d, rc));
			prof_free(delta);
			prof_free(p);
			return -1;
		}
		*n_samples = prof_n_samples(keep);
	}
	prof_free(delta);
	prof_free(p);
	return 0;
}

static void finish_transfer(struct server_scrape *sc, struct scrape_task *t, CURLcode res)
{
	char err[SCRAPE_MAX_ERROR] = "";
	long code = 0;
	uint64_t n_samples = 0;
	int64_t end = mono_ns();
	int ok = 0;

	if (t->easy)
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	if (!t->easy) {
		snprintf(err, sizeof(err), "cannot create a transfer");
	} else if (res != CURLE_OK) {
		if (t->too_large || res == CURLE_FILESIZE_EXCEEDED)
			snprintf(err, sizeof(err), "body larger than %zu MiB",
				 SCRAPE_MAX_BODY_BYTES >> 20);
		else
			snprintf(err, sizeof(err), "%.200s",
				 t->errbuf[0] ? t->errbuf : curl_easy_strerror(res));
	} else if (code != 200) {
		char snippet[128];

		sanitize(snippet, sizeof(snippet), t->body.data, t->body.len);
		snprintf(err, sizeof(err), "HTTP %ld%s%s", code, snippet[0] ? ": " : "", snippet);
	} else {
		ok = store_body(sc, t, &n_samples, err, sizeof(err)) == 0;
	}
	if (t->easy) {
		curl_multi_remove_handle(sc->multi, t->easy);
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
		sc->n_inflight--;
	}
	buf_fini(&t->body);

	pthread_mutex_lock(&sc->mu);
	bool was_up = t->st.up, first = t->st.scrapes == 0;
	t->st.scrapes++;
	t->st.up = ok;
	t->st.last_scrape_ms = t->start_real_ns / 1000000;
	t->st.last_duration_ms = (end - t->start_mono_ns) / 1000000;
	if (ok) {
		t->st.samples = n_samples;
		t->st.last_error[0] = 0;
	} else {
		t->st.errors++;
		t->st.samples = 0;
		snprintf(t->st.last_error, sizeof(t->st.last_error), "%s", err);
	}
	pthread_mutex_unlock(&sc->mu);
	if (!ok && (was_up || first))
		LOG_WARN("scrape: %s %s %s: %s", t->job->name, t->tgt->instance,
			 server_scrape_kind(t->kind)->key, err);
	else if (ok && !was_up && !first)
		LOG_INFO("scrape: %s %s %s is up again", t->job->name, t->tgt->instance,
			 server_scrape_kind(t->kind)->key);
}

static void *scrape_main(void *arg)
{
	struct server_scrape *sc = arg;

	while (!atomic_load(&sc->stop)) {
		int64_t now = mono_ns(), wait_ms = SCRAPE_POLL_MS;
		int running = 0, left;
		CURLMsg *m;

		for (size_t i = 0; i < sc->n_tasks; i++) {
			struct scrape_task *t = &sc->tasks[i];

			if (!t->easy && now >= t->due_mono_ns &&
			    sc->n_inflight < SCRAPE_MAX_INFLIGHT) {
				start_transfer(sc, t, now);
				if (t->easy)
					sc->n_inflight++;
				else
					finish_transfer(sc, t, CURLE_FAILED_INIT);
			}
			if (!t->easy && t->due_mono_ns > now) {
				int64_t ms = (t->due_mono_ns - now) / 1000000 + 1;
				if (ms < wait_ms)
					wait_ms = ms;
			}
		}
		curl_multi_perform(sc->multi, &running);
		while ((m = curl_multi_info_read(sc->multi, &left))) {
			struct scrape_task *t = NULL;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
			if (t)
				finish_transfer(sc, t, m->data.result);
		}
		if (atomic_load(&sc->stop))
			break;
		if (curl_multi_poll(sc->multi, NULL, 0, (int)(wait_ms > 0 ? wait_ms : 0), NULL) !=
		    CURLM_OK)
			usleep(100000); /* never spin on a failing poll */
	}
	/* Abort whatever is in flight. */
	for (size_t i = 0; i < sc->n_tasks; i++) {
		struct scrape_task *t = &sc->tasks[i];

		if (t->easy) {
			curl_multi_remove_handle(sc->multi, t->easy);
			curl_easy_cleanup(t->easy);
			t->easy = NULL;
			buf_fini(&t->body);
		}
	}
	return NULL;
}

static char *task_url(const struct scrape_job *j, const struct scrape_target_cfg *tg,
		      enum scrape_kind k)
{
	struct buf b;
	const char *path = j->prof[k].path;

	buf_init(&b, MEM_SERVER, SIZE_MAX);
	buf_printf(&b, "%s://%s%s%s", j->scheme, tg->instance, j->path_prefix, path);
	if (k == SCRAPE_CPU)
		buf_printf(&b, "%cseconds=%lld", strchr(path, '?') ? '&' : '?',
			   (long long)server_scrape_cpu_seconds(j));
	return (char *)buf_steal(&b, NULL);
}

static void set_label(struct store_label *l, size_t *n, const char *name, const char *value)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(l[i].name, name))
			return; /* a static label wins */
	l[(*n)++] = (struct store_label){name, value};
}

static void task_init(struct scrape_task *t, const struct scrape_job *j,
		      const struct scrape_target_cfg *tg, enum scrape_kind k, int64_t now)
{
	t->job = j;
	t->tgt = tg;
	t->kind = k;
	t->url = task_url(j, tg, k);
	t->labels = mem_calloc(MEM_SERVER, tg->n_labels + 3, sizeof(*t->labels));
	for (size_t i = 0; i < tg->n_labels; i++)
		t->labels[t->n_labels++] = tg->labels[i];
	set_label(t->labels, &t->n_labels, STORE_LABEL_SERVICE, j->name);
	set_label(t->labels, &t->n_labels, "job", j->name);
	set_label(t->labels, &t->n_labels, "instance", tg->instance);
	uint64_t h = hash_bytes(j->name, strlen(j->name), k);
	h = hash_bytes(tg->instance, strlen(tg->instance), h);
	t->due_mono_ns =
		now + (int64_t)(h % (uint64_t)EMBER_MIN(j->interval_ns, SCRAPE_MAX_SPREAD_NS));
	server_scrape_delta_init(&t->delta);
}

static void scrape_free(struct server_scrape *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->n_tasks; i++) {
		struct scrape_task *t = &sc->tasks[i];

		server_scrape_delta_fini(&t->delta);
		mem_free(t->labels);
		mem_free(t->url);
	}
	mem_free(sc->tasks);
	if (sc->multi)
		curl_multi_cleanup(sc->multi);
	server_scrape_config_free(sc->cfg);
	pthread_mutex_destroy(&sc->mu);
	mem_free(sc);
}

int server_scrape_start(struct server *s, const char *config_path, struct ember_diag *d)
{
	struct scrape_config *cfg;
	struct server_scrape *sc;
	size_t n = 0;
	int64_t now = mono_ns();
	int err;

	if (!config_path)
		return 0;
	err = server_scrape_config_load(config_path, &cfg, d);
	if (err)
		return err;
	for (size_t j = 0; j < cfg->n_jobs; j++)
		for (size_t k = 0; k < SCRAPE_N_KINDS; k++)
			if (cfg->jobs[j].prof[k].enabled)
				n += cfg->jobs[j].n_targets;
	if (n == 0) {
		server_scrape_config_free(cfg);
		return 0;
	}
	sc = mem_calloc(MEM_SERVER, 1, sizeof(*sc));
	sc->srv = s;
	sc->cfg = cfg;
	pthread_mutex_init(&sc->mu, NULL);
	sc->tasks = mem_calloc(MEM_SERVER, n, sizeof(*sc->tasks));
	for (size_t j = 0; j < cfg->n_jobs; j++) {
		const struct scrape_job *job = &cfg->jobs[j];

		for (size_t ti = 0; ti < job->n_targets; ti++)
			for (size_t k = 0; k < SCRAPE_N_KINDS; k++)
				if (job->prof[k].enabled)
					task_init(&sc->tasks[sc->n_tasks++], job, &job->targets[ti],
						  (enum scrape_kind)k, now);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sc->multi = curl_multi_init();
	if (!sc->multi) {
		scrape_free(sc);
		curl_global_cleanup();
		return ember_diag_set(d, -ENOMEM, "scrape: cannot create a curl multi handle");
	}
	err = pthread_create(&sc->thread, NULL, scrape_main, sc);
	if (err) {
		scrape_free(sc);
		curl_global_cleanup();
		return ember_diag_set(d, -err, "scrape: cannot start the thread: %s",
				      ember_strerror(-err));
	}
	pthread_mutex_lock(&scrape_ptr_mu);
	s->scrape = sc;
	pthread_mutex_unlock(&scrape_ptr_mu);
	LOG_INFO("scrape: %zu jobs, %zu targets, %zu scrape tasks from %s", cfg->n_jobs,
		 cfg->n_targets, sc->n_tasks, config_path);
	return 0;
}

void server_scrape_stop(struct server *s)
{
	struct server_scrape *sc;

	pthread_mutex_lock(&scrape_ptr_mu);
	sc = s->scrape;
	s->scrape = NULL;
	pthread_mutex_unlock(&scrape_ptr_mu);
	if (!sc)
		return;
	atomic_store(&sc->stop, true);
	curl_multi_wakeup(sc->multi);
	pthread_join(sc->thread, NULL);
	scrape_free(sc);
	curl_global_cleanup();
}

/* Prometheus label value escaping: backslash, double quote, newline. */
static void prom_value(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_putc(b, '\\');
		if (*s == '\n') {
			buf_puts(b, "\\n");
			continue;
		}
		buf_putc(b, *s);
	}
}

static void prom_labels(struct buf *b, const struct scrape_task *t)
{
	buf_puts(b, "{job=\"");
	prom_value(b, t->job->name);
	buf_puts(b, "\",instance=\"");
	prom_value(b, t->tgt->instance);
	buf_printf(b, "\",type=\"%s\"}", server_scrape_kind(t->kind)->key);
}

void server_scrape_metrics(struct server *s, struct buf *b)
{
	static const struct {
		const char *name, *type, *help;
	} m[] = {
		{"ember_scrape_up", "gauge", "1 when the last scrape of the target succeeded."},
		{"ember_scrape_duration_seconds", "gauge", "Duration of the last scrape."},
		{"ember_scrape_errors_total", "counter", "Scrapes of the target that failed."},
		{"ember_scrape_samples", "gauge", "Samples stored by the last scrape."},
	};
	struct server_scrape *sc;

	pthread_mutex_lock(&scrape_ptr_mu);
	sc = s->scrape;
	if (sc) {
		pthread_mutex_lock(&sc->mu);
		for (size_t k = 0; k < EMBER_ARRAY_SIZE(m); k++) {
			buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", m[k].name, m[k].help,
				   m[k].name, m[k].type);
			for (size_t i = 0; i < sc->n_tasks; i++) {
				const struct scrape_task *t = &sc->tasks[i];

				buf_puts(b, m[k].name);
				prom_labels(b, t);
				if (k == 0)
					buf_printf(b, " %d\n", t->st.up ? 1 : 0);
				else if (k == 1)
					buf_printf(b, " %.3f\n",
						   (double)t->st.last_duration_ms / 1e3);
				else if (k == 2)
					buf_printf(b, " %llu\n", (unsigned long long)t->st.errors);
				else
					buf_printf(b, " %llu\n", (unsigned long long)t->st.samples);
			}
		}
		pthread_mutex_unlock(&sc->mu);
	}
	pthread_mutex_unlock(&scrape_ptr_mu);
}

void server_scrape_targets(const struct server_req *q, struct server_resp *r)
{
	struct server_scrape *sc;
	struct json_writer w;

	r->status = MHD_HTTP_OK;
	r->ctype = "application/json";
	json_init(&w, &r->body);
	json_obj_begin(&w);
	json_key(&w, "targets");
	json_arr_begin(&w);
	pthread_mutex_lock(&scrape_ptr_mu);
	sc = q->srv->scrape;
	if (sc) {
		pthread_mutex_lock(&sc->mu);
		for (size_t i = 0; i < sc->n_tasks; i++) {
			const struct scrape_task *t = &sc->tasks[i];

			if (q->tenant && strcmp(q->tenant, t->job->tenant))
				continue; /* another tenant's targets */
			json_obj_begin(&w);
			json_key(&w, "job");
			json_str(&w, t->job->name);
			json_key(&w, "instance");
			json_str(&w, t->tgt->instance);
			json_key(&w, "type");
			json_str(&w, server_scrape_kind(t->kind)->key);
			json_key(&w, "url");
			json_str(&w, t->url);
			json_key(&w, "tenant");
			json_str(&w, t->job->tenant);
			json_key(&w, "up");
			json_bool(&w, t->st.up);
			json_key(&w, "last_scrape_ms");
			json_int(&w, t->st.last_scrape_ms);
			json_key(&w, "last_duration_ms");
			json_int(&w, t->st.last_duration_ms);
			json_key(&w, "last_error");
			json_str(&w, t->st.last_error);
			json_key(&w, "scrapes");
			json_uint(&w, t->st.scrapes);
			json_key(&w, "errors");
			json_uint(&w, t->st.errors);
			json_key(&w, "samples");
			json_uint(&w, t->st.samples);
			json_key(&w, "labels");
			json_obj_begin(&w);
			for (size_t l = 0; l < t->n_labels; l++) {
				json_key(&w, t->labels[l].name);
				json_str(&w, t->labels[l].value);
			}
			json_obj_end(&w);
			json_obj_end(&w);
		}
		pthread_mutex_unlock(&sc->mu);
	}
	pthread_mutex_unlock(&scrape_ptr_mu);
	json_arr_end(&w);
	json_obj_end(&w);
	if (json_finish(&w)) {
		server_resp_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "response too large");
		return;
	}
	buf_putc(&r->body, '\n');
}
