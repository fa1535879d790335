/*
 * The management API's routes (HTTP/1.1, JSON; api.c). Pure: it answers
 * one parsed, authorized request from the data api_backend.h gives it.
 *
 *   GET  /v1/vms                    {"vms": [{name, id, state, vcpus, memory_mib, ...}]}
 *   POST /v1/vms                    create: Content-Type application/json with
 *                                   {"module": "/boot/vms/x.cfg"} (a boot module, as the
 *                                   shell's `create`) or {"config": "<VM file text>"};
 *                                   or Content-Type text/plain with the VM file as the body.
 *                                   201 {"name": ...}
 *   GET  /v1/vms/NAME               state, vCPUs, memory, CPU time, exits, disks, NICs
 *   POST /v1/vms/NAME/VERB          shutdown (202), destroy, reboot, pause, unpause (200)
 *   GET  /v1/vms/NAME/console?since=N  the output ring from offset N:
 *                                   {"from", "next", "total", "truncated", "text"}
 *   GET  /v1/host                   what `info` shows
 *   GET  /metrics                   Prometheus text format 0.0.4
 *
 * Errors are {"error": "..."} with the shell's text: 404 (no such VM, path),
 * 405 (with Allow), 400 (bad JSON, bad VM file), 409 (the verb was refused:
 * not running, already shutting down...), 411, 415, 500 (a response too big).
 */
#ifndef HV_MGMT_API_H
#define HV_MGMT_API_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/mgmt/http_parse.h"

struct api_response {
	unsigned status;
	const char *content_type; /* static */
	const char *allow;	  /* for 405: the methods the path takes; else NULL */
	char *body;		  /* the caller's buffer */
	size_t cap, len;
	/*
	 * Set with a 500 when the body did not fit in cap: the caller may run a
	 * read-only request again with a bigger buffer (http_conn.c does).
	 */
	bool too_small;
};

/* Fills r (status, type, body into r->body[0..cap)) for req. */
void api_handle(const struct http_request *req, struct api_response *r);
/* An error response: {"error": why}. */
void api_error(struct api_response *r, unsigned status, const char *why);

#define API_JSON "application/json"
#define API_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
