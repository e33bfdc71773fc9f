/*
 * bench_server.c — the server ingest benchmark: a load generator for `ember server`.
 *
 * Starts its own `ember server` on a free loopback port with a temporary data directory (or
 * uses --url), then runs (one thread and one keep-alive connection per client):
 *   ingest:  C clients (default 32) push Go-SDK-like CPU profiles as the Go SDK does
 *            (POST /ingest?name=svc.cpu{tags}&from&until&spyName=gospy, multipart/form-data with
 *            a gzipped pprof `profile` part) as fast as they are answered; requests/s, samples/s,
 *            p50/p99/max latency, status counts, the server's CPU time when it is our child;
 *   queries: meanwhile one querier (libcurl) repeats GET /pyroscope/render of one service over
 *            the ingested range (50 ms apart); p50/p99/max latency;
 *   peer:    the same clients on GET /ready (the transport ceiling: libmicrohttpd with nothing
 *            behind it), and `wrk` on /ready when installed; the ratio ingest / ceiling.
 * The clients are, by default, a lean wrk-like HTTP/1.1 client (one blocking TCP socket per
 * thread, each request's head formatted into a stack buffer and sent with the prebuilt body in
 * one sendmsg, the response parsed just enough to get its status and skip its body, which is
 * bounded: a malformed, oversized or 30-s-late response is a transport error, not a hang),
 * because libcurl spends ~100 us of CPU per request on the 2 cores the server also runs on;
 * --curl uses one libcurl easy handle per client instead.
 * The profiles: one synthetic Go program (1,200 functions in 40 packages, 2,000 call sites, 10%
 * with an inlined frame, 2,000 stacks of depth 6..32 grown from a common root, siblings sharing
 * prefixes); each profile draws 10-ms ticks Zipf-wise until it holds 100..500 distinct stacks,
 * with two sample types (samples/count, cpu/nanoseconds) and only the symbols it uses, gzipped
 * as Go writes it. The sizes are printed.
 *
 * Usage: bench_server [--url URL] [--ember PATH] [--clients N] [--seconds S] [--profiles N]
 *                     [--threads N (the server's --threads; default: its default)]
 *                     [--curl (libcurl clients instead of the lean HTTP/1.1 client)]
 *                     [--gen-only (print the profile sizes and exit)]
 * Env: EMBER (the ember binary; default build/ember). Exit 1 on a setup failure or when any
 * ingest request failed with something other than 429.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "base/buf.h"
#include "base/mem.h"
#include "format/pprof.h"
#include "profile/profile.h"

#define N_FUNCS	    1200
#define N_PKGS	    40
#define N_LOCS	    2000
#define N_STACKS    2000
#define ROOT_DEPTH  6
#define MAX_DEPTH   32
#define PERIOD_NS   10000000
#define MAX_CLIENTS 256
#define BOUNDARY    "ember-bench-7d1e9a4c"
#define MAX_LAT	    (1u << 21) /* latencies kept per client */
#define STR_(x)	    #x
#define TO_STR(x)   STR_(x)

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t xr(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the profile generator -------------------------------------------------------------- */

struct world {
	char fname[N_FUNCS][96];
	char ffile[N_FUNCS][64];
	uint32_t loc_fn[N_LOCS][2]; /* function index + 1; [1] = 0 unless a callee was inlined */
	uint32_t loc_line[N_LOCS];
	uint16_t stack[N_STACKS][MAX_DEPTH]; /* location indexes, root first */
	uint8_t depth[N_STACKS];
	double cdf[N_STACKS];
};

static void world_init(struct world *w)
{
	static const char *const kinds[] = {"Handle", "serve",	 "decode", "encode",  "Read",
					    "Write",  "process", "lookup", "compute", "flush"};
	double sum = 0;

	for (int f = 0; f < N_FUNCS; f++) {
		int pkg = f / (N_FUNCS / N_PKGS);

		if (f % 3 == 0)
			snprintf(w->fname[f], sizeof(w->fname[f]),
				 "github.com/acme/shop/internal/pkg%d.(*T%d).%s%d", pkg, f % 17,
				 kinds[f % 10], f);
		else
			snprintf(w->fname[f], sizeof(w->fname[f]),
				 "github.com/acme/shop/internal/pkg%d.%s%d", pkg, kinds[f % 10], f);
		snprintf(w->ffile[f], sizeof(w->ffile[f]),
			 "/home/build/shop/internal/pkg%d/file%d.go", pkg, f % 7);
	}
	for (int l = 0; l < N_LOCS; l++) {
		w->loc_fn[l][0] = (uint32_t)(l % N_FUNCS) + 1;
		w->loc_fn[l][1] = xr() % 10 == 0 ? (uint32_t)(xr() % N_FUNCS) + 1 : 0;
		w->loc_line[l] = 10 + (uint32_t)(xr() % 400);
	}
	for (int i = 0; i < N_STACKS; i++) {
		int d;

		if (i == 0) { /* runtime.goexit -> main -> the server loop ... */
			d = ROOT_DEPTH;
			for (int k = 0; k < d; k++)
				w->stack[i][k] = (uint16_t)(k * 50);
		} else {
			/* a sibling or child of an earlier stack: its prefix, then 1..3 frames
			 * near the caller's (mostly the same package) */
			int from = (int)(xr() % (uint64_t)i);
			int keep = w->depth[from] - (int)(xr() % 3);

			if (keep < 2)
				keep = 2;
			memcpy(w->stack[i], w->stack[from], (size_t)keep * 2);
			d = keep + 1 + (int)(xr() % 3);
			if (d > MAX_DEPTH)
				d = MAX_DEPTH;
			for (int k = keep; k < d; k++)
				w->stack[i][k] =
					(uint16_t)((w->stack[i][k - 1] + 1 + xr() % 40) % N_LOCS);
		}
		w->depth[i] = (uint8_t)d;
	}
	for (int i = 0; i < N_STACKS; i++) {
		sum += 1.0 / pow(i + 1, 1.1);
		w->cdf[i] = sum;
	}
	for (int i = 0; i < N_STACKS; i++)
		w->cdf[i] /= sum;
}

static int zipf(const struct world *w)
{
	double u = (double)(xr() >> 11) / 9007199254740992.0;
	int lo = 0, hi = N_STACKS - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (w->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* One 10-s Go CPU profile with `want` distinct stacks; its samples in *n_samples. */
static struct prof *gen_profile(const struct world *w, int want, size_t *n_samples)
{
	struct prof *p = prof_new();
	uint32_t fn_id[N_FUNCS + 1] = {0}, locs[MAX_DEPTH];
	uint32_t map;
	struct prof_mapping m = {.memory_start = 0x400000,
				 .memory_limit = 0x2400000,
				 .has_functions = true,
				 .has_filenames = true,
				 .has_line_numbers = true};
	int draws = 0;

	prof_add_sample_type(p, prof_intern_cstr(p, "samples"), prof_intern_cstr(p, "count"));
	prof_add_sample_type(p, prof_intern_cstr(p, "cpu"), prof_intern_cstr(p, "nanoseconds"));
	prof_meta(p)->period_type.type = prof_intern_cstr(p, "cpu");
	prof_meta(p)->period_type.unit = prof_intern_cstr(p, "nanoseconds");
	prof_meta(p)->period = PERIOD_NS;
	prof_meta(p)->duration_ns = 10000000000LL;
	m.filename = prof_intern_cstr(p, "/usr/local/bin/shop");
	map = prof_add_mapping(p, &m);
	while (prof_n_samples(p) < (size_t)want && draws < 200000) {
		int s = zipf(w);
		uint32_t n = w->depth[s];
		int64_t v[2] = {1, PERIOD_NS};

		draws++;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t l = w->stack[s][n - 1 - i];
			struct prof_line lines[2];
			uint32_t nl = 0;

			for (int k = 0; k < 2; k++) {
				uint32_t f = w->loc_fn[l][k];

				if (!f)
					continue;
				if (!fn_id[f]) {
					struct prof_function pf = {
						.name = prof_intern_cstr(p, w->fname[f - 1]),
						.system_name = prof_intern_cstr(p, w->fname[f - 1]),
						.filename = prof_intern_cstr(p, w->ffile[f - 1]),
						.start_line = 1 + (f % 300)};
					fn_id[f] = prof_add_function(p, &pf);
				}
				lines[nl++] = (struct prof_line){fn_id[f], w->loc_line[l] + k, 0};
			}
			if (nl == 2) { /* pprof: the inlined callee first */
				struct prof_line t = lines[0];
				lines[0] = lines[1];
				lines[1] = t;
			}
			locs[i] = prof_add_location(p, map, 0x401000 + (uint64_t)l * 48, lines, nl,
						    false);
		}
		prof_add_sample(p, prof_add_stack(p, locs, n), 0, v);
	}
	*n_samples = prof_n_samples(p);
	if (getenv("BENCH_GEN_DEBUG"))
		fprintf(stderr, "samples %zu locations %u functions %u strings %u nodes %u\n",
			prof_n_samples(p), prof_n_locations(p), prof_n_functions(p),
			prof_n_strings(p), prof_n_nodes(p));
	return p;
}

/* --- the HTTP clients ------------------------------------------------------------------- */

struct body {
	struct buf b; /* the multipart form */
	size_t pprof_len, samples;
};

struct lat {
	float *ms;
	size_t n;
};

struct client {
	pthread_t th;
	int id;
	int mode; /* 0 ingest, 1 /ready, 2 query */
	struct lat lat;
	uint64_t ok, n429, other, neterr, samples;
	long last_status;
	char last_err[200];
	/* the lean client's connection: -1 when closed; rbuf holds rlen unread response bytes */
	int fd;
	char *rbuf;
	size_t rlen;
};

static struct {
	const char *url;
	int64_t t0_s; /* wall clock at the start: the ingested range */
	struct body *bodies;
	size_t n_bodies;
	atomic_bool stop;
	atomic_uint_fast64_t seq;
	int n_services;
	bool curl; /* --curl: libcurl clients for ingest and /ready */
	/* the lean client's target, from the URL: address, Host header, path prefix */
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char host[256], path[256];
} g;

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

static void lat_add(struct lat *l, double ms)
{
	if (l->n < MAX_LAT)
		l->ms[l->n++] = (float)ms;
}

/* Counts one answered request: its status and latency (and samples when b is an ingest body). */
static void account(struct client *c, long status, double ms, const struct body *b)
{
	lat_add(&c->lat, ms);
	if (status == 200) {
		c->ok++;
		if (b)
			c->samples += b->samples;
	} else if (status == 429) {
		c->n429++;
	} else {
		c->other++;
		c->last_status = status;
	}
}

static void *curl_client_run(struct client *c)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = NULL;
	char url[1024];
	uint64_t k = 0;

	if (!h)
		return NULL;
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	hdr = curl_slist_append(hdr, "Content-Type: multipart/form-data; boundary=" BOUNDARY);
	hdr = curl_slist_append(hdr, "Expect:"); /* no 100-continue round trip */
	while (!atomic_load(&g.stop)) {
		const struct body *b = NULL;
		long status = 0;
		double t;
		CURLcode rc;

		if (c->mode == 0) {
			uint64_t s = atomic_fetch_add(&g.seq, 1);
			int64_t until = g.t0_s + (int64_t)(s % 50);

			b = &g.bodies[s % g.n_bodies];
			snprintf(url, sizeof(url),
				 "%s/ingest?name=bench-svc%d.cpu%%7Binstance%%3Dpod-%d%%2Cregion%%"
				 "3Deu-west-1%%7D&from=%" PRId64 "&until=%" PRId64
				 "&spyName=gospy&sampleRate=100",
				 g.url, c->id % g.n_services, c->id, until - 10, until);
			curl_easy_setopt(h, CURLOPT_URL, url);
			curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)b->b.data);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->b.len);
		} else if (c->mode == 1) {
			snprintf(url, sizeof(url), "%s/ready", g.url);
			curl_easy_setopt(h, CURLOPT_URL, url);
		} else {
			snprintf(url, sizeof(url),
				 "%s/pyroscope/render?query=process_cpu%%3Acpu%%3Ananoseconds%%"
				 "3Acpu%%3Ananoseconds%%7Bservice_name%%3D%%22bench-svc%d%%22%%7D&"
				 "from=%" PRId64 "&until=%" PRId64 "&format=json",
				 g.url, (int)(k++ % (uint64_t)g.n_services), g.t0_s - 3600,
				 g.t0_s + 3600);
			curl_easy_setopt(h, CURLOPT_URL, url);
		}
		t = now_s();
		rc = curl_easy_perform(h);
		t = (now_s() - t) * 1e3;
		if (rc != CURLE_OK) {
			c->neterr++;
			snprintf(c->last_err, sizeof(c->last_err), "%s", curl_easy_strerror(rc));
			usleep(10000);
			continue;
		}
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		account(c, status, t, b);
		if (c->mode == 2)
			usleep(50000); /* a dashboard refreshing, not a query flood */
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return NULL;
}

/* --- the lean HTTP/1.1 client ----------------------------------------------------------- */

#define RBUF_CAP      16384	     /* response bytes buffered; bounds the response head */
#define MAX_LINE      1024	     /* a chunk-size or trailer line */
#define MAX_RESP_BODY (256ull << 20) /* a response body longer than this is an error */
#define IO_TIMEOUT_S  30

/* Splits an http:// URL into g.addr, g.host (the Host header) and g.path (the prefix before
 * /ingest, as the curl client appends it). 0, or -1 with a message. */
static int lean_target(const char *url)
{
	const char *auth, *slash, *colon;
	char host[256], port[8] = "80";
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
	size_t alen, hlen;
	int rc;

	if (strncmp(url, "http://", 7)) {
		fprintf(stderr,
			"bench_server: the lean client speaks plain http:// only: %s (use "
			"--curl)\n",
			url);
		return -1;
	}
	auth = url + 7;
	slash = strchr(auth, '/');
	alen = slash ? (size_t)(slash - auth) : strlen(auth);
	if (!alen || alen >= sizeof(g.host) || strlen(auth + alen) >= sizeof(g.path)) {
		fprintf(stderr, "bench_server: bad or too long URL: %s\n", url);
		return -1;
	}
	memcpy(g.host, auth, alen);
	g.host[alen] = 0;
	snprintf(g.path, sizeof(g.path), "%s", auth + alen);
	if (g.host[0] == '[') { /* [v6]:port */
		const char *end = strchr(g.host, ']');

		if (!end)
			goto bad;
		hlen = (size_t)(end - g.host - 1);
		memcpy(host, g.host + 1, hlen);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (!colon && end[1])
			goto bad;
	} else {
		colon = strrchr(g.host, ':');
		hlen = colon ? (size_t)(colon - g.host) : alen;
		memcpy(host, g.host, hlen);
	}
	host[hlen] = 0;
	if (colon) {
		if (!colon[1] || strlen(colon + 1) >= sizeof(port) ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1))
			goto bad;
		snprintf(port, sizeof(port), "%s", colon + 1);
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc || !ai || ai->ai_addrlen > sizeof(g.addr)) {
		fprintf(stderr, "bench_server: cannot resolve %s: %s\n", g.host,
			rc ? gai_strerror(rc) : "no address");
		if (ai)
			freeaddrinfo(ai);
		return -1;
	}
	memcpy(&g.addr, ai->ai_addr, ai->ai_addrlen);
	g.addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
bad:
	fprintf(stderr, "bench_server: bad host:port in URL: %s\n", url);
	return -1;
}

__attribute__((format(printf, 2, 3))) static int lean_fail(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->last_err, sizeof(c->last_err), fmt, ap);
	va_end(ap);
	return -1;
}

static void lean_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->rlen = 0;
}

static int lean_connect(struct client *c)
{
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
	int one = 1;

	c->fd = socket(g.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return lean_fail(c, "socket: %s", strerror(errno));
	c->rlen = 0;
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(c->fd, (const struct sockaddr *)&g.addr, g.addr_len)) {
		int e = errno;

		lean_close(c);
		return lean_fail(c, "connect: %s", strerror(e));
	}
	return 0;
}

/* Sends all of iov[0..n) (n <= 2), resuming after partial writes. 0 or -1. */
static int lean_send(struct client *c, struct iovec *iov, int n)
{
	struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};

	while (m.msg_iovlen) {
		ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
		size_t left;

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return lean_fail(c, "send: %s",
					 errno == EAGAIN || errno == EWOULDBLOCK
						 ? "timed out after " TO_STR(IO_TIMEOUT_S) " s"
						 : strerror(errno));
		left = (size_t)w;
		while (m.msg_iovlen && left >= m.msg_iov->iov_len) {
			left -= m.msg_iov->iov_len;
			m.msg_iov++;
			m.msg_iovlen--;
		}
		if (m.msg_iovlen) {
			m.msg_iov->iov_base = (char *)m.msg_iov->iov_base + left;
			m.msg_iov->iov_len -= left;
		}
	}
	return 0;
}

/* Reads what is available into rbuf (at least one byte). 0, or -1 on EOF, an error, a timeout
 * or a full buffer; `what` names the part of the response being read. */
static int lean_read(struct client *c, const char *what)
{
	ssize_t r;

	if (c->rlen >= RBUF_CAP)
		return lean_fail(c, "response: %s over %d bytes", what, RBUF_CAP);
	do
		r = read(c->fd, c->rbuf + c->rlen, RBUF_CAP - c->rlen);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		c->rlen += (size_t)r;
		return 0;
	}
	if (r == 0)
		return lean_fail(c, "response: the server closed the connection in %s", what);
	return lean_fail(c, "response: read in %s: %s", what,
			 errno == EAGAIN || errno == EWOULDBLOCK
				 ? "timed out after " TO_STR(IO_TIMEOUT_S) " s"
				 : strerror(errno));
}

static void lean_consume(struct client *c, size_t n)
{
	memmove(c->rbuf, c->rbuf + n, c->rlen - n);
	c->rlen -= n;
}

/* Reads until `delim` ends within the first `max` buffered bytes; its end offset in *end. */
static int lean_until(struct client *c, const char *delim, size_t max, size_t *end,
		      const char *what)
{
	size_t dl = strlen(delim);

	for (;;) {
		size_t look = c->rlen < max ? c->rlen : max;
		const char *p = memmem(c->rbuf, look, delim, dl);

		if (p) {
			*end = (size_t)(p - c->rbuf) + dl;
			return 0;
		}
		if (c->rlen >= max)
			return lean_fail(c, "response: %s over %zu bytes", what, max);
		if (lean_read(c, what))
			return -1;
	}
}

/* Skips n body bytes, buffered first. */
static int lean_skip(struct client *c, uint64_t n)
{
	while (n) {
		size_t k;

		if (!c->rlen && lean_read(c, "the body"))
			return -1;
		k = c->rlen < n ? c->rlen : (size_t)n;
		lean_consume(c, k);
		n -= k;
	}
	return 0;
}

/* A chunked body: size lines, data, CRLFs, the last chunk and the trailers. */
static int lean_chunked(struct client *c)
{
	uint64_t total = 0;

	for (;;) {
		uint64_t sz = 0;
		size_t end, i, nd = 0;

		if (lean_until(c, "\r\n", MAX_LINE, &end, "a chunk-size line"))
			return -1;
		for (i = 0; i < end - 2 && nd < 16; i++, nd++) {
			int ch = c->rbuf[i], v = ch >= '0' && ch <= '9'	  ? ch - '0'
						 : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
						 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
									  : -1;

			if (v < 0)
				break;
			sz = sz * 16 + (uint64_t)v;
		}
		if (!nd || nd >= 16 ||
		    (i < end - 2 && c->rbuf[i] != ';' && c->rbuf[i] != ' ' && c->rbuf[i] != '\t'))
			return lean_fail(c, "response: malformed chunk-size line");
		lean_consume(c, end);
		if (!sz)
			break;
		total += sz;
		if (total > MAX_RESP_BODY)
			return lean_fail(c, "response: chunked body over %llu bytes",
					 MAX_RESP_BODY);
		if (lean_skip(c, sz) || lean_until(c, "\r\n", 2, &end, "a chunk's CRLF"))
			return -1;
		if (end != 2)
			return lean_fail(c, "response: no CRLF after a chunk");
		lean_consume(c, 2);
	}
	for (int n = 0;; n++) { /* trailers, up to the empty line */
		size_t end;

		if (n > 100)
			return lean_fail(c, "response: over 100 trailer lines");
		if (lean_until(c, "\r\n", MAX_LINE, &end, "the trailers"))
			return -1;
		lean_consume(c, end);
		if (end == 2)
			return 0;
	}
}

/* Up to 40 bytes of p[0..n) for an error message: to the end of the line, unprintables as '?'. */
static const char *snip(const char *p, size_t n, char out[48])
{
	size_t i;

	for (i = 0; i < n && i < 40 && p[i] != '\r' && p[i] != '\n'; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
	out[i] = 0;
	return out;
}

/* Compares header name [p, p+n) with lowercase `name`. */
static bool hdr_is(const char *p, size_t n, const char *name)
{
	return n == strlen(name) && !strncasecmp(p, name, n);
}

/* Reads one response: its status in *status, *keep false when the connection must be closed
 * after it. 0, or -1 with the reason in c->last_err. */
static int lean_response(struct client *c, long *status, bool *keep)
{
	for (int interim = 0;; interim++) {
		size_t hend, pos;
		uint64_t cl = 0;
		bool chunked = false, has_cl = false;
		const char *r = c->rbuf;
		char sn[48];

		if (lean_until(c, "\r\n\r\n", RBUF_CAP, &hend, "the response head"))
			return -1;
		/* HTTP/1.x NNN<SP or CR> */
		if (hend < 16 || memcmp(r, "HTTP/1.", 7) || (r[7] != '0' && r[7] != '1') ||
		    r[8] != ' ' || r[9] < '1' || r[9] > '5' || r[10] < '0' || r[10] > '9' ||
		    r[11] < '0' || r[11] > '9' || (r[12] != ' ' && r[12] != '\r'))
			return lean_fail(c, "response: malformed status line \"%s\"",
					 snip(r, hend, sn));
		*status = (r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0');
		*keep = r[7] == '1';
		pos = (size_t)((const char *)memchr(r, '\n', hend) - r) + 1;
		while (pos < hend - 2) { /* the header lines */
			const char *line = r + pos, *eol = memchr(line, '\r', hend - pos);
			const char *colon = memchr(line, ':', (size_t)(eol - line)), *v, *ve;

			if (!colon || colon == line || eol[1] != '\n')
				return lean_fail(c, "response: malformed header line \"%s\"",
						 snip(line, hend - pos, sn));
			for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
				;
			for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
				;
			if (hdr_is(line, (size_t)(colon - line), "content-length")) {
				uint64_t n = 0;
				size_t d = 0;

				for (; v + d < ve && v[d] >= '0' && v[d] <= '9' && d < 19; d++)
					n = n * 10 + (uint64_t)(v[d] - '0');
				if (!d || v + d != ve || (has_cl && n != cl))
					return lean_fail(c, "response: bad Content-Length \"%s\"",
							 snip(v, (size_t)(ve - v), sn));
				cl = n;
				has_cl = true;
			} else if (hdr_is(line, (size_t)(colon - line), "transfer-encoding")) {
				chunked = memmem(v, (size_t)(ve - v), "chunked", 7) != NULL;
				if (!chunked)
					return lean_fail(c,
							 "response: unsupported Transfer-Encoding "
							 "\"%s\"",
							 snip(v, (size_t)(ve - v), sn));
			} else if (hdr_is(line, (size_t)(colon - line), "connection")) {
				if (memmem(v, (size_t)(ve - v), "close", 5))
					*keep = false;
			}
			pos = (size_t)(eol - r) + 2;
		}
		lean_consume(c, hend);
		if (*status < 200) { /* 100 Continue and the like (we send no Expect) */
			if (*status == 101 || interim >= 4)
				return lean_fail(c, "response: unexpected %ld", *status);
			continue;
		}
		if (*status == 204 || *status == 304)
			return 0;
		if (chunked)
			return lean_chunked(c);
		if (has_cl) {
			if (cl > MAX_RESP_BODY)
				return lean_fail(c,
						 "response: Content-Length %" PRIu64 " over %llu",
						 cl, MAX_RESP_BODY);
			return lean_skip(c, cl);
		}
		/* no length: the body runs to EOF (RFC 9112 6.3) */
		*keep = false;
		for (uint64_t total = 0;;) {
			ssize_t n;

			total += c->rlen;
			c->rlen = 0;
			if (total > MAX_RESP_BODY)
				return lean_fail(c, "response: body to EOF over %llu bytes",
						 MAX_RESP_BODY);
			do
				n = read(c->fd, c->rbuf, RBUF_CAP);
			while (n < 0 && errno == EINTR);
			if (!n)
				return 0;
			if (n < 0)
				return lean_fail(c, "response: read in the body: %s",
						 strerror(errno));
			c->rlen = (size_t)n;
		}
	}
}

static void *lean_client_run(struct client *c)
{
	/* g.path and g.host are under 256 bytes each: a head is at most ~850 bytes */
	char pre[1024], head[2048];
	int pre_len;

	c->fd = -1;
	c->rbuf = mem_alloc(MEM_TEST, RBUF_CAP);
	/* what does not change from one request to the next: the head up to from= */
	if (c->mode == 0)
		pre_len = snprintf(pre, sizeof(pre),
				   "POST %s/ingest?name=bench-svc%d.cpu%%7Binstance%%3Dpod-%d%%"
				   "2Cregion%%3Deu-west-1%%7D&from=",
				   g.path, c->id % g.n_services, c->id);
	else
		pre_len = snprintf(pre, sizeof(pre),
				   "GET %s/ready HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\n\r\n",
				   g.path, g.host);
	while (!atomic_load(&g.stop)) {
		const struct body *b = NULL;
		struct iovec iov[2];
		long status = 0;
		bool keep = true;
		double t;
		int n = 1;

		if (c->mode == 0) {
			uint64_t s = atomic_fetch_add(&g.seq, 1);
			int64_t until = g.t0_s + (int64_t)(s % 50);
			int hl;

			b = &g.bodies[s % g.n_bodies];
			memcpy(head, pre, (size_t)pre_len);
			hl = snprintf(head + pre_len, sizeof(head) - (size_t)pre_len,
				      "%" PRId64 "&until=%" PRId64
				      "&spyName=gospy&sampleRate=100 HTTP/1.1\r\nHost: %s\r\n"
				      "Accept: */*\r\nContent-Type: multipart/form-data; "
				      "boundary=" BOUNDARY "\r\nContent-Length: %zu\r\n\r\n",
				      until - 10, until, g.host, b->b.len);
			iov[0] = (struct iovec){head, (size_t)pre_len + (size_t)hl};
			iov[1] = (struct iovec){b->b.data, b->b.len};
			n = 2;
		} else {
			iov[0] = (struct iovec){pre, (size_t)pre_len};
		}
		t = now_s();
		if ((c->fd < 0 && lean_connect(c)) || lean_send(c, iov, n) ||
		    lean_response(c, &status, &keep)) {
			c->neterr++;
			lean_close(c);
			usleep(10000);
			continue;
		}
		t = (now_s() - t) * 1e3;
		if (!keep || c->rlen) /* closing, or bytes we did not ask for */
			lean_close(c);
		account(c, status, t, b);
	}
	lean_close(c);
	mem_free(c->rbuf);
	return NULL;
}

static void *client_run(void *arg)
{
	struct client *c = arg;

	return g.curl || c->mode == 2 ? curl_client_run(c) : lean_client_run(c);
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

struct summary {
	uint64_t ok, n429, other, neterr, samples;
	double p50, p99, max;
	long last_status;
	char last_err[200];
};

/* Runs n clients in `mode` for `secs` (after `warm` seconds not counted) and sums them up;
 * a querier (mode 2) runs alongside when qsum is given. */
static void run_phase(int mode, int n, double warm, double secs, struct summary *sum,
		      struct summary *qsum)
{
	int total = n + (qsum ? 1 : 0);
	struct client *cs = mem_calloc(MEM_TEST, (size_t)total, sizeof(*cs));

	atomic_store(&g.stop, false);
	for (int i = 0; i < total; i++) {
		cs[i].id = i;
		cs[i].mode = i < n ? mode : 2;
		cs[i].lat.ms = mem_alloc(MEM_TEST, MAX_LAT * sizeof(float));
		pthread_create(&cs[i].th, NULL, client_run, &cs[i]);
	}
	if (warm > 0) {
		usleep((useconds_t)(warm * 1e6));
		for (int i = 0; i < total; i++) { /* racy: a request or two either way */
			cs[i].lat.n = 0;
			cs[i].ok = cs[i].n429 = cs[i].other = cs[i].samples = 0;
		}
	}
	usleep((useconds_t)(secs * 1e6));
	atomic_store(&g.stop, true);
	for (int i = 0; i < total; i++)
		pthread_join(cs[i].th, NULL);
	for (int q = 0; q < 2; q++) {
		struct summary *s = q ? qsum : sum;
		int lo = q ? n : 0, hi = q ? total : n;
		size_t cnt = 0, k = 0;
		float *all;

		if (!s)
			continue;
		memset(s, 0, sizeof(*s));
		for (int i = lo; i < hi; i++)
			cnt += cs[i].lat.n;
		all = mem_alloc(MEM_TEST, (cnt ? cnt : 1) * sizeof(float));
		for (int i = lo; i < hi; i++) {
			memcpy(all + k, cs[i].lat.ms, cs[i].lat.n * sizeof(float));
			k += cs[i].lat.n;
			s->ok += cs[i].ok;
			s->n429 += cs[i].n429;
			s->other += cs[i].other;
			s->neterr += cs[i].neterr;
			s->samples += cs[i].samples;
			if (cs[i].last_status)
				s->last_status = cs[i].last_status;
			if (cs[i].last_err[0])
				memcpy(s->last_err, cs[i].last_err, sizeof(s->last_err));
		}
		qsort(all, k, sizeof(float), cmp_float);
		if (k) {
			s->p50 = all[k / 2];
			s->p99 = all[(size_t)((double)(k - 1) * 0.99)];
			s->max = all[k - 1];
		}
		mem_free(all);
	}
	for (int i = 0; i < total; i++)
		mem_free(cs[i].lat.ms);
	mem_free(cs);
}

/* --- the server under test -------------------------------------------------------------- */

static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	if (!bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &sl))
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static bool ready(const char *base)
{
	CURL *h = curl_easy_init();
	char url[512];
	long st = 0;
	CURLcode rc;

	if (!h)
		return false;
	snprintf(url, sizeof(url), "%s/ready", base);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1000L);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(h);
	return rc == CURLE_OK && st == 200;
}

/* The CPU seconds of process pid so far: user time in *user_s (may be NULL), user + system
 * returned. */
static double proc_cpu_s(pid_t pid, double *user_s)
{
	char path[64], line[1024];
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f)) {
		char *p = strrchr(line, ')');

		/* after the command: state ppid pgrp session tty tpgid flags minflt cminflt
		 * majflt cmajflt utime stime */
		if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
				 &st) != 2)
			ut = st = 0;
	}
	fclose(f);
	if (user_s)
		*user_s = (double)ut / (double)sysconf(_SC_CLK_TCK);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* `wrk` on /ready: requests/s, or 0 when wrk is not installed or fails. */
static double wrk_ready(const char *base, int clients, int secs)
{
	char cmd[700], line[512];
	double rps = 0;
	FILE *f;

	if (system("command -v wrk >/dev/null 2>&1") != 0)
		return 0;
	snprintf(cmd, sizeof(cmd), "wrk -t2 -c%d -d%ds %s/ready 2>/dev/null", clients, secs, base);
	f = popen(cmd, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Requests/sec: %lf", &rps) == 1)
			break;
	while (fgets(line, sizeof(line), f))
		;
	pclose(f);
	return rps;
}

static void usage(void)
{
	fputs("usage: bench_server [--url URL] [--ember PATH] [--clients N] [--seconds S] "
	      "[--profiles N] [--threads N] [--curl] [--gen-only]\n",
	      stderr);
	exit(2);
}

static const char *thr_s(int n)
{
	static char b[16];

	snprintf(b, sizeof(b), "%d", n);
	return b;
}

/* Starts `ember server` (--threads when threads > 0) on a free port with data under tmp; 0 and
 * *pid, or -1. */
static int start_server(const char *ember, int threads, char *tmp, char *base, size_t base_cap,
			pid_t *pid)
{
	char data[300], logp[300];
	int port = free_port();

	if (port < 0 || !mkdtemp(tmp)) {
		fprintf(stderr, "bench_server: no port or temp dir: %s\n", strerror(errno));
		return -1;
	}
	snprintf(data, sizeof(data), "%s/data", tmp);
	snprintf(logp, sizeof(logp), "%s/server.log", tmp);
	snprintf(base, base_cap, "http://127.0.0.1:%d", port);
	*pid = fork();
	if (*pid == 0) {
		char listen[64], thr[16];
		int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
		snprintf(thr, sizeof(thr), "%d", threads);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (threads)
			execl(ember, ember, "server", "--listen", listen, "--data-dir", data,
			      "--threads", thr, (char *)NULL);
		else
			execl(ember, ember, "server", "--listen", listen, "--data-dir", data,
			      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !ready(base); i++)
		usleep(100000);
	if (!ready(base)) {
		fprintf(stderr, "bench_server: %s server did not become ready (log %s)\n", ember,
			logp);
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		return -1;
	}
	printf("bench_server: started %s server on %s (%s%s worker threads), data in %s\n", ember,
	       base, threads ? "" : "default", threads ? thr_s(threads) : "", data);
	return 0;
}

int main(int argc, char **argv)
{
	const char *ember = getenv("EMBER") ? getenv("EMBER") : "build/ember";
	int clients = 32, n_prof = 256, gen_only = 0, threads = 0, rc = 0;
	double secs = 10, ceil_secs, cpu0 = 0, cpu1 = 0, usr0 = 0, usr1 = 0, self0, self1, susr0,
	       susr1, t_in, psz = 0, pmin = 1e18, pmax = 0, smp = 0, bsz = 0, rps, ceil_rps, wrk;
	char base[256] = "", tmp[] = "/tmp/ember-bench-server.XXXXXX";
	pid_t pid = 0;
	struct world *w;
	struct summary in, q, rd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--gen-only")) {
			gen_only = 1;
			continue;
		}
		if (!strcmp(argv[i], "--curl")) {
			g.curl = true;
			continue;
		}
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--url"))
			snprintf(base, sizeof(base), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--ember"))
			ember = argv[++i];
		else if (!strcmp(argv[i], "--clients"))
			clients = (int)strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seconds"))
			secs = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--threads"))
			threads = (int)strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--profiles"))
			n_prof = (int)strtol(argv[++i], NULL, 10);
		else
			usage();
	}
	if (clients < 1 || clients > MAX_CLIENTS || !(secs > 0 && secs <= 3600) || n_prof < 1 ||
	    n_prof > 100000 || threads < 0 || threads > 256)
		usage();
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);

	/* The profiles, each wrapped as the Go SDK's form. */
	w = mem_calloc(MEM_TEST, 1, sizeof(*w));
	world_init(w);
	g.bodies = mem_calloc(MEM_TEST, (size_t)n_prof, sizeof(*g.bodies));
	g.n_bodies = (size_t)n_prof;
	g.n_services = clients < 8 ? clients : 8;
	for (int i = 0; i < n_prof; i++) {
		struct body *b = &g.bodies[i];
		struct buf pb;
		struct prof *p = gen_profile(w, 100 + (int)(xr() % 401), &b->samples);

		buf_init(&pb, MEM_TEST, SIZE_MAX);
		if (pprof_encode(p, true, &pb)) {
			fprintf(stderr, "bench_server: pprof_encode failed\n");
			return 1;
		}
		b->pprof_len = pb.len;
		buf_init(&b->b, MEM_TEST, SIZE_MAX);
		buf_puts(&b->b,
			 "--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"profile\"; "
			 "filename=\"profile.pprof\"\r\nContent-Type: "
			 "application/octet-stream\r\n\r\n");
		buf_append(&b->b, pb.data, pb.len);
		buf_puts(&b->b, "\r\n--" BOUNDARY "--\r\n");
		psz += (double)pb.len;
		pmin = (double)pb.len < pmin ? (double)pb.len : pmin;
		pmax = (double)pb.len > pmax ? (double)pb.len : pmax;
		smp += (double)b->samples;
		bsz += (double)b->b.len;
		buf_fini(&pb);
		prof_free(p);
	}
	mem_free(w);
	printf("bench_server: %d distinct Go-SDK-like 10-s CPU profiles: %.0f samples each on "
	       "average (100..500), gzipped pprof %.1f KB on average (%.1f..%.1f KB), form body "
	       "%.1f KB\n",
	       n_prof, smp / n_prof, psz / n_prof / 1024, pmin / 1024, pmax / 1024,
	       bsz / n_prof / 1024);
	if (gen_only)
		return 0;

	if (!base[0] && start_server(ember, threads, tmp, base, sizeof(base), &pid))
		return 1;
	g.url = base;
	g.t0_s = (int64_t)time(NULL);
	if (!g.curl && lean_target(base)) {
		rc = 1;
		goto out;
	}
	printf("bench_server: clients: %s\n",
	       g.curl ? "libcurl (--curl), one easy handle per client thread"
		      : "lean HTTP/1.1 keep-alive, one blocking socket per client thread (--curl: "
			"libcurl)");

	cpu0 = pid ? proc_cpu_s(pid, &usr0) : 0;
	self0 = proc_cpu_s(getpid(), &susr0);
	t_in = now_s();
	run_phase(0, clients, 1.0, secs, &in, &q);
	t_in = now_s() - t_in;
	cpu1 = pid ? proc_cpu_s(pid, &usr1) : 0;
	self1 = proc_cpu_s(getpid(), &susr1);
	rps = (double)in.ok / secs;
	printf("ingest: %d clients, %.1f s measured (after 1 s warm-up): %.0f profiles/s, %.0f "
	       "samples/s; latency p50 %.2f ms, p99 %.2f ms, max %.1f ms; %" PRIu64 " ok, %" PRIu64
	       " 429, %" PRIu64 " other",
	       clients, secs, rps, (double)in.samples / secs, in.p50, in.p99, in.max, in.ok,
	       in.n429, in.other);
	if (in.other)
		printf(" (last status %ld)", in.last_status);
	printf(", %" PRIu64 " transport errors%s%s\n", in.neterr, in.neterr ? ": " : "",
	       in.last_err);
	if (pid)
		printf("ingest: server CPU %.2f s (%.2f user) over %.1f s wall (%.2f cores), %.0f "
		       "us "
		       "of server CPU per profile\n",
		       cpu1 - cpu0, usr1 - usr0, t_in, (cpu1 - cpu0) / t_in,
		       in.ok ? (cpu1 - cpu0) / ((double)in.ok * (t_in / secs)) * 1e6 : 0);
	printf("ingest: client CPU (this process, %s) %.2f s (%.2f user; loopback TCP bills "
	       "part of the receiver's work to the sender's system time), %.0f us per profile\n",
	       g.curl ? "libcurl" : "lean", self1 - self0, susr1 - susr0,
	       in.ok ? (self1 - self0) / ((double)in.ok * (t_in / secs)) * 1e6 : 0);
	printf("query under load: GET /pyroscope/render (one service, the ingested range), 1 "
	       "querier, 50 ms pause: %" PRIu64 " ok, %" PRIu64
	       " failed; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
	       q.ok, q.other + q.neterr, q.p50, q.p99, q.max);

	ceil_secs = secs < 5 ? secs : 5;
	run_phase(1, clients, 0.5, ceil_secs, &rd, NULL);
	ceil_rps = (double)rd.ok / ceil_secs;
	printf("peer (transport ceiling): GET /ready, the same %d %s clients: %.0f "
	       "requests/s, p50 %.2f ms, p99 %.2f ms; ingest is %.1f%% of it\n",
	       clients, g.curl ? "libcurl" : "lean", ceil_rps, rd.p50, rd.p99,
	       ceil_rps > 0 ? 100.0 * rps / ceil_rps : 0);
	wrk = wrk_ready(base, clients, 5);
	if (wrk > 0)
		printf("peer: wrk -t2 -c%d -d5s GET /ready (same server): %.0f requests/s; ingest "
		       "is %.1f%% of it\n",
		       clients, wrk, 100.0 * rps / wrk);
	else
		printf("peer: wrk is not installed; only the ceiling above\n");
	printf("target: >= 5000 profiles/s with p99 <= 50 ms: %s (%.0f profiles/s, p99 %.1f ms)\n",
	       rps >= 5000 && in.p99 <= 50 ? "met" : "NOT met", rps, in.p99);
	if (in.other || in.neterr)
		rc = 1;

out:
	if (pid) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	for (size_t i = 0; i < g.n_bodies; i++)
		buf_fini(&g.bodies[i].b);
	mem_free(g.bodies);
	curl_global_cleanup();
	return rc;
}
