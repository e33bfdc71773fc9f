/*
 * server_scrape.c — placeholder: answers 501 until this endpoint group is implemented.
 */
#include "server/server_int.h"

void server_scrape_targets(const struct server_req *q, struct server_resp *r)
{
	(void)q;
	server_resp_error(r, 501, "not implemented yet");
}

int server_scrape_start(struct server *s, const char *config_path, struct ember_diag *d)
{
	(void)s;
	(void)config_path;
	(void)d;
	return 0;
}

void server_scrape_stop(struct server *s)
{
	(void)s;
}

void server_scrape_metrics(struct server *s, struct buf *b)
{
	(void)s;
	(void)b;
}
