/*
 * push.h — the agent's shipper: profiles queued by the sampling loop are POSTed by a sender
 * thread to a Pyroscope-compatible server (`POST {URL}/ingest?name=...`, multipart/form-data
 * with the gzipped pprof in a `profile` part, as the Pyroscope Go SDK sends it). The backlog is bounded (oldest dropped and counted when full); enqueue never
 * waits on the network; transient failures (connection errors, 5xx, 429) are retried with
 * exponential backoff and jitter, other rejections are dropped and counted.
 *
 * Nothing here prints; the CLI reads the counters and reports them.
 */
#ifndef EMBER_AGENT_PUSH_H
#define EMBER_AGENT_PUSH_H

#include <stddef.h>
#include <stdint.h>

struct agent_push;

struct agent_push_opts {
	const char *url;	  /* http://host:port[/prefix]; /ingest is appended */
	size_t max_backlog_bytes; /* default 64 MiB */
	size_t max_backlog_n;	  /* queued profiles; default 4096 */
	int sample_rate_hz;	  /* sampleRate= */
};

struct agent_push_tag {
	const char *key; /* [A-Za-z0-9_.]; others are rejected */
	const char *value;
};

struct agent_push_stats {
	uint64_t pushed;
	uint64_t retried;
	uint64_t dropped_full;
	uint64_t dropped_rejected;
	uint64_t backlog_bytes;
	uint64_t backlog_n;
	char last_error[160]; /* the latest failure, "" when none */
};

/* Validates the URL and starts the sender thread. -EINVAL on a bad URL. */
int agent_push_new(const struct agent_push_opts *o, struct agent_push **out);
/* Queues one gzipped pprof body (ownership of body, a mem_* allocation, passes to p in every
 * case). service: [A-Za-z0-9_.-/], other bytes become '_'; tag values lose ",{}=" the same way.
 * from_s/until_s are unix seconds. Never blocks on the network. Returns 0, or -EINVAL. */
int agent_push_enqueue(struct agent_push *p, const char *service, const struct agent_push_tag *tags,
		       size_t n_tags, int64_t from_s, int64_t until_s, uint8_t *body, size_t len);
void agent_push_stats(struct agent_push *p, struct agent_push_stats *out);
/* Sends what is queued for up to flush_ms, then stops the sender and frees everything; the
 * final counters go to *final when not NULL (what was left unsent counts as dropped_full). */
void agent_push_free(struct agent_push *p, long flush_ms, struct agent_push_stats *final);

#endif
