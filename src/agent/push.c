/*
 * push.c — ships the agent's profiles to a Pyroscope-compatible server over libcurl.
 *
 * Owns a FIFO of queued profiles (each: the `name` argument, from/until, the gzipped pprof body)
 * and one sender thread; each is POSTed as multipart/form-data (a `profile` part). The sampling loop only appends under a mutex the sender never holds
 * across network I/O, so enqueue is O(1) and never waits on the server. When the backlog bound
 * (bytes or count) is reached the oldest queued profiles are dropped and counted. The sender
 * takes the head, POSTs it, and on a connection error, 5xx or 429 keeps it and retries after an
 * exponential backoff (0.5 s doubling to 30 s, +-25% jitter); any other non-2xx answer drops it
 * as rejected. Response bodies are hostile: they are discarded, only the status is used.
 * Must never print, and never block the caller beyond the mutex.
 */
#include "agent/push.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/mem.h"

#define PUSH_DEFAULT_BYTES  (64u << 20)
#define PUSH_DEFAULT_N	    4096
#define PUSH_MAX_NAME	    1024
#define PUSH_BACKOFF_MIN_MS 500
#define PUSH_BACKOFF_MAX_MS 30000

struct push_item {
	struct push_item *next;
	char *name; /* service{k=v,...}, unescaped */
	int64_t from_s, until_s;
	uint8_t *body;
	size_t len;
};

struct agent_push {
	char *url; /* without a trailing '/' */
	int rate_hz;
	size_t max_bytes, max_n;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct push_item *head, *tail; /* queued, not in flight */
	size_t n_queued;
	size_t backlog_bytes;  /* queued + in flight */
	bool stopping;	       /* flush then exit */
	atomic_bool abort_now; /* flush deadline passed: abandon the transfer */
	struct timespec deadline;
	struct agent_push_stats st;
	unsigned int seed;
};

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void item_free(struct push_item *it)
{
	if (!it)
		return;
	mem_free(it->name);
	mem_free(it->body);
	mem_free(it);
}

static size_t item_bytes(const struct push_item *it)
{
	return it->len + strlen(it->name) + sizeof(*it);
}

static void ts_add_ms(struct timespec *ts, long ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Under p->mu. */
static bool past_deadline(const struct agent_push *p)
{
	struct timespec now;
	if (!p->stopping)
		return false;
	clock_gettime(CLOCK_REALTIME, &now);
	return !ts_before(&now, &p->deadline);
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	(void)ptr;
	(void)ctx;
	return size * nmemb;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct agent_push *p = ctx;
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return atomic_load(&p->abort_now) ? 1 : 0;
}

enum push_result {
	PUSH_OK,
	PUSH_RETRY,
	PUSH_REJECTED
};

/* One POST; err gets a message on failure. */
static enum push_result post_one(struct agent_push *p, CURL *h, const struct push_item *it,
				 char *err, size_t err_len)
{
	enum push_result res = PUSH_RETRY;
	struct buf url;
	char *name = curl_easy_escape(h, it->name, (int)strlen(it->name));
	if (!name) {
		snprintf(err, err_len, "cannot escape the name");
		return PUSH_REJECTED;
	}
	buf_init(&url, MEM_AGENT, SIZE_MAX);
	buf_printf(&url, "%s/ingest?name=%s&from=%lld&until=%lld&spyName=ember&sampleRate=%d",
		   p->url, name, (long long)it->from_s, (long long)it->until_s, p->rate_hz);
	curl_free(name);

	/* multipart/form-data with the gzipped pprof in a `profile` part, as the Go SDK sends */
	curl_easy_reset(h);
	curl_mime *form = curl_mime_init(h);
	curl_mimepart *part = form ? curl_mime_addpart(form) : NULL;
	if (!part || curl_mime_name(part, "profile") != CURLE_OK ||
	    curl_mime_filename(part, "profile.pprof") != CURLE_OK ||
	    curl_mime_type(part, "application/octet-stream") != CURLE_OK ||
	    curl_mime_data(part, (const char *)it->body, it->len) != CURLE_OK) {
		curl_mime_free(form);
		buf_fini(&url);
		snprintf(err, err_len, "cannot build the multipart body");
		return PUSH_RETRY;
	}
	curl_easy_setopt(h, CURLOPT_URL, (const char *)url.data);
	curl_easy_setopt(h, CURLOPT_MIMEPOST, form);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_body);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, p);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ember-agent");
	CURLcode cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		snprintf(err, err_len, "%s", curl_easy_strerror(cc));
	} else {
		long code = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200 && code < 300)
			res = PUSH_OK;
		else if (code == 429 || code >= 500)
			snprintf(err, err_len, "HTTP %ld", code);
		else {
			snprintf(err, err_len, "HTTP %ld (rejected)", code);
			res = PUSH_REJECTED;
		}
	}
	curl_mime_free(form);
	buf_fini(&url);
	return res;
}

static long backoff_ms(struct agent_push *p, int attempt)
{
	long ms = PUSH_BACKOFF_MIN_MS;
	for (int i = 1; i < attempt && ms < PUSH_BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > PUSH_BACKOFF_MAX_MS)
		ms = PUSH_BACKOFF_MAX_MS;
	long j = ms / 4;
	return ms - j + (long)(rand_r(&p->seed) % (unsigned int)(2 * j + 1));
}

static void *sender(void *arg)
{
	struct agent_push *p = arg;
	CURL *h = curl_easy_init();
	struct push_item *cur = NULL;
	int attempt = 0;
	char err[sizeof(p->st.last_error)];

	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (!cur) {
			while (!p->head && !p->stopping)
				pthread_cond_wait(&p->cv, &p->mu);
			if (!p->head || atomic_load(&p->abort_now) || past_deadline(p))
				break;
			cur = p->head;
			p->head = cur->next;
			if (!p->head)
				p->tail = NULL;
			p->n_queued--;
			attempt = 0;
		}
		pthread_mutex_unlock(&p->mu);
		enum push_result res = PUSH_RETRY;
		err[0] = 0;
		if (h)
			res = post_one(p, h, cur, err, sizeof(err));
		else
			snprintf(err, sizeof(err), "curl_easy_init failed");
		pthread_mutex_lock(&p->mu);
		if (err[0])
			memcpy(p->st.last_error, err, sizeof(err));
		if (res == PUSH_RETRY && !atomic_load(&p->abort_now)) {
			p->st.retried++;
			attempt++;
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			ts_add_ms(&until, backoff_ms(p, attempt));
			/* Woken by enqueues (ignored) and by the stop, which means one try now and
			 * then waits capped by the flush deadline. */
			bool was_stopping = p->stopping;
			while (!atomic_load(&p->abort_now)) {
				if (p->stopping && !was_stopping)
					break;
				struct timespec t = until;
				if (p->stopping && ts_before(&p->deadline, &t))
					t = p->deadline;
				if (pthread_cond_timedwait(&p->cv, &p->mu, &t) == ETIMEDOUT)
					break;
			}
			if (!atomic_load(&p->abort_now) && !past_deadline(p))
				continue;
		}
		if (res == PUSH_OK)
			p->st.pushed++;
		else if (res == PUSH_REJECTED)
			p->st.dropped_rejected++;
		else /* the flush deadline passed: left unsent */
			p->st.dropped_full++;
		p->backlog_bytes -= item_bytes(cur);
		item_free(cur);
		cur = NULL;
		if (atomic_load(&p->abort_now))
			break;
	}
	pthread_mutex_unlock(&p->mu);
	if (h)
		curl_easy_cleanup(h);
	return NULL;
}

int agent_push_new(const struct agent_push_opts *o, struct agent_push **out)
{
	*out = NULL;
	const char *u = o->url;
	if (!u || (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0))
		return -EINVAL;
	size_t ul = strlen(u);
	if (ul > 2048 || ul <= strlen("https://") - 1 || strchr(u, '?') || strchr(u, '#'))
		return -EINVAL;
	for (const char *c = u; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			return -EINVAL;
	while (ul > 0 && u[ul - 1] == '/')
		ul--;

	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, curl_init_once);

	struct agent_push *p = mem_calloc(MEM_AGENT, 1, sizeof(*p));
	p->url = mem_strndup(MEM_AGENT, u, ul);
	p->rate_hz = o->sample_rate_hz > 0 ? o->sample_rate_hz : 100;
	p->max_bytes = o->max_backlog_bytes ? o->max_backlog_bytes : PUSH_DEFAULT_BYTES;
	p->max_n = o->max_backlog_n ? o->max_backlog_n : PUSH_DEFAULT_N;
	p->seed = (unsigned int)time(NULL) ^ (unsigned int)(uintptr_t)p;
	atomic_init(&p->abort_now, false);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);

	/* The sender must not take the CLI's SIGINT/SIGTERM. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&p->thread, NULL, sender, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		mem_free(p->url);
		mem_free(p);
		return -rc;
	}
	*out = p;
	return 0;
}

/* Copies s into b with every byte outside the allowed set replaced by '_'. */
static void put_clean(struct buf *b, const char *s, bool is_value)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' || c == '/';
		if (is_value)
			ok = c > 0x20 && c < 0x7f && c != ',' && c != '{' && c != '}' && c != '=';
		buf_putc(b, ok ? c : '_');
	}
}

static bool key_ok(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_' || *k == '.'))
			return false;
	return true;
}

int agent_push_enqueue(struct agent_push *p, const char *service, const struct agent_push_tag *tags,
		       size_t n_tags, int64_t from_s, int64_t until_s, uint8_t *body, size_t len)
{
	struct buf name;
	buf_init(&name, MEM_AGENT, PUSH_MAX_NAME);
	put_clean(&name, service && *service ? service : "unknown", false);
	if (n_tags) {
		buf_putc(&name, '{');
		for (size_t i = 0; i < n_tags; i++) {
			if (!key_ok(tags[i].key)) {
				buf_fini(&name);
				mem_free(body);
				return -EINVAL;
			}
			buf_printf(&name, "%s%s=", i ? "," : "", tags[i].key);
			put_clean(&name, tags[i].value ? tags[i].value : "", true);
		}
		buf_putc(&name, '}');
	}
	if (buf_putc(&name, 0) != 0) { /* over PUSH_MAX_NAME */
		buf_fini(&name);
		mem_free(body);
		return -EINVAL;
	}
	struct push_item *it = mem_calloc(MEM_AGENT, 1, sizeof(*it));
	size_t nl;
	it->name = (char *)buf_steal(&name, &nl);
	it->from_s = from_s;
	it->until_s = until_s;
	it->body = body;
	it->len = len;
	size_t bytes = item_bytes(it);

	struct push_item *dropped = NULL;
	pthread_mutex_lock(&p->mu);
	if (bytes > p->max_bytes || p->stopping) {
		p->st.dropped_full++;
		dropped = it;
		it = NULL;
	} else {
		while (p->head &&
		       (p->backlog_bytes + bytes > p->max_bytes || p->n_queued + 1 > p->max_n)) {
			struct push_item *old = p->head;
			p->head = old->next;
			if (!p->head)
				p->tail = NULL;
			p->n_queued--;
			p->backlog_bytes -= item_bytes(old);
			p->st.dropped_full++;
			old->next = dropped;
			dropped = old;
		}
		if (p->tail)
			p->tail->next = it;
		else
			p->head = it;
		p->tail = it;
		p->n_queued++;
		p->backlog_bytes += bytes;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	/* Freed outside the lock; a handful of frees at most per call when the backlog is full. */
	while (dropped) {
		struct push_item *n = dropped->next;
		item_free(dropped);
		dropped = n;
	}
	return 0;
}

void agent_push_stats(struct agent_push *p, struct agent_push_stats *out)
{
	pthread_mutex_lock(&p->mu);
	*out = p->st;
	out->backlog_bytes = p->backlog_bytes;
	out->backlog_n = p->n_queued;
	pthread_mutex_unlock(&p->mu);
}

void agent_push_free(struct agent_push *p, long flush_ms, struct agent_push_stats *final)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	clock_gettime(CLOCK_REALTIME, &p->deadline);
	ts_add_ms(&p->deadline, flush_ms > 0 ? flush_ms : 0);
	pthread_cond_broadcast(&p->cv);
	/* Wait for the queue to drain or the deadline, then abandon what is left. */
	while (p->head || p->backlog_bytes > 0) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		if (!ts_before(&now, &p->deadline))
			break;
		pthread_mutex_unlock(&p->mu);
		nanosleep(&(struct timespec){0, 50000000L}, NULL);
		pthread_mutex_lock(&p->mu);
	}
	atomic_store(&p->abort_now, true);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	while (p->head) {
		struct push_item *n = p->head->next;
		p->backlog_bytes -= item_bytes(p->head);
		p->st.dropped_full++;
		item_free(p->head);
		p->head = n;
	}
	p->n_queued = 0;
	if (final) {
		*final = p->st;
		final->backlog_bytes = p->backlog_bytes;
		final->backlog_n = 0;
	}
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	mem_free(p->url);
	mem_free(p);
}
