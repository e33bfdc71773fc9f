/*
 * agent_metrics.h — the agent's Prometheus endpoint (`ember agent --metrics-addr HOST:PORT`):
 * a libmicrohttpd daemon on its own thread answering GET /metrics with the last exposition
 * text the agent's loop published (agent_metrics_publish copies it under a mutex, so the loop
 * never waits on a scraper). Any other path is 404, any other method 405.
 */
#ifndef EMBER_AGENT_AGENT_METRICS_H
#define EMBER_AGENT_AGENT_METRICS_H

#include <stddef.h>

#include "base/err.h"

struct agent_metrics;

/* Listens on addr ("HOST:PORT", HOST an IPv4 address or "localhost"; PORT 1..65535).
 * -EMBER_EUSAGE with a message when addr is malformed, -errno when the port cannot be bound. */
int agent_metrics_start(const char *addr, struct agent_metrics **out, struct ember_diag *d);
/* Replaces what /metrics answers (text/plain; version=0.0.4). */
void agent_metrics_publish(struct agent_metrics *m, const char *text, size_t len);
void agent_metrics_stop(struct agent_metrics *m);

#endif
