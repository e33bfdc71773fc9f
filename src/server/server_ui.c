/*
 * server_ui.c — placeholder: answers 501 until this endpoint group is implemented.
 */
#include "server/server_int.h"

void server_ui(const struct server_req *q, struct server_resp *r)
{
	(void)q;
	server_resp_error(r, 501, "not implemented yet");
}
