/*
 * Fuzz target for the management API above TCP: one HTTP connection
 * (kernel/mgmt/http_conn.c) with the request parser, the bearer token, the
 * routes and the JSON they read (http_parse.c, api.c, json.c), against a
 * fake hypervisor. The input's first byte says how the rest arrives (in
 * chunks of 1..255 bytes, 0: at once); every answer must be a whole HTTP
 * response (a status line, Content-Type, a Content-Length equal to the
 * body's length), and nothing may change state without the token.
 */
#define _GNU_SOURCE /* memmem */
#include "tests/fuzz/fuzz_guest.h"

#include <stdarg.h>

#include "kernel/mgmt/api.h"
#include "kernel/mgmt/api_backend.h"
#include "kernel/mgmt/http_conn.h"

#define TOKEN "s3cret"

/* ---- the fake hypervisor ---- */

static unsigned changes; /* verbs and creations that went through */
static bool authorized;	 /* the input holds the token somewhere */

static void fake_vm(const char *name, struct api_vm *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->id = 1;
	out->state = "running";
	snprintf(out->path, sizeof(out->path), "/boot/vms/%s.cfg", name);
	out->vcpus = 2;
	out->memory_mib = 64;
	out->nexits = 1;
	out->exits[0] = (struct api_count){"io \"quoted\"\n", 5};
	out->ndisks = 1;
	snprintf(out->disks[0].name, sizeof(out->disks[0].name), "xvda");
}

unsigned api_vm_count(void)
{
	return 2;
}

bool api_vm_at(unsigned i, struct api_vm *out)
{
	fake_vm(i ? "db" : "web", out);
	return true;
}

bool api_vm_get(const char *name, struct api_vm *out)
{
	if (strcmp(name, "web") != 0 && strcmp(name, "db") != 0)
		return false;
	fake_vm(name, out);
	return true;
}

void api_vm_nics_json(const char *name, struct json_out *j)
{
	json_arr_begin(j);
	json_str(j, name);
	json_arr_end(j);
}

enum verb_result api_vm_verb(const char *name, enum vm_verb v, char *err, size_t errlen)
{
	CHECK(authorized);
	CHECK(v < VM_VERBS);
	if (strcmp(name, "web") != 0) {
		snprintf(err, errlen, VERB_NO_VM_FMT, name);
		return VERB_NO_VM;
	}
	changes++;
	return VERB_OK;
}

enum verb_result api_vm_create_module(const char *path, char *name, size_t namelen, char *err,
				      size_t errlen)
{
	CHECK(authorized);
	CHECK(strlen(path) < HTTP_BODY_MAX);
	snprintf(err, errlen, "%s: no such boot module", path);
	(void)name, (void)namelen;
	return VERB_FAILED;
}

enum verb_result api_vm_create_text(const char *text, size_t len, char *name, size_t namelen,
				    char *err, size_t errlen)
{
	CHECK(authorized);
	CHECK(len <= HTTP_BODY_MAX);
	if (len && text[0] == 'n') {
		snprintf(name, namelen, "web");
		changes++;
		return VERB_OK;
	}
	snprintf(err, errlen, "request body:1: bad");
	return VERB_FAILED;
}

bool api_vm_console(const char *name, uint64_t since, char *buf, size_t size, size_t *n,
		    uint64_t *from, uint64_t *total)
{
	static const char ring[] = "login: \x1b[1m\xff\xfe\0x\r\n";
	if (strcmp(name, "web") != 0)
		return false;
	*total = sizeof(ring) - 1;
	*from = since < *total ? since : *total;
	*n = *total - *from < size ? *total - *from : size;
	memcpy(buf, ring + *from, *n);
	return true;
}

void api_host_get(struct api_host *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->backend, sizeof(h->backend), "VMX");
}

void api_for_each_port(void (*fn)(void *ctx, const struct api_port *p), void *ctx)
{
	struct api_port p = {"uplink", "hv", "host", 1, 2, 3, 4, 5, 6, 7};
	fn(ctx, &p);
}

uint64_t api_now_ms(void)
{
	static uint64_t t;
	return t += 100;
}

void api_log(const char *fmt, ...)
{
	(void)fmt;
}

static char out_buf[HTTP_RESPONSE_MAX];

void *api_alloc(size_t size)
{
	if (size > sizeof(out_buf))
		return NULL; /* no growth: a too-large answer stays a 500 */
	return out_buf; /* one connection at a time: no malloc per run */
}

void api_free(void *p)
{
	CHECK(p == out_buf || p == NULL);
}

/* ---- the target ---- */

static struct http_conn conn;

static bool check_response(void)
{
	CHECK(conn.out_len > 0 && conn.out_len < HTTP_RESPONSE_MAX);
	const char *r = conn.out;
	CHECK(memcmp(r, "HTTP/1.1 ", 9) == 0);
	unsigned status = (unsigned)atoi(r + 9);
	CHECK(status >= 200 && status <= 599);
	const char *end = memmem(r, conn.out_len, "\r\n\r\n", 4);
	CHECK(end);
	size_t head = (size_t)(end - r) + 4;
	const char *cl = memmem(r, head, "\r\nContent-Length: ", 18);
	CHECK(cl);
	CHECK((size_t)strtoul(cl + 18, NULL, 10) == conn.out_len - head);
	CHECK(memmem(r, head, "\r\nContent-Type: ", 16));
	if (status == 401)
		CHECK(memmem(r, head, "WWW-Authenticate: Bearer", 24));
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = data[0] ? data[0] : size;
	data++, size--;
	/* without the token anywhere in the input, no verb may reach the hypervisor */
	authorized = memmem(data, size, TOKEN, strlen(TOKEN)) != NULL;
	http_set_token(TOKEN);
	CHECK(http_conn_open(&conn, 0x0100007f) == 0);
	for (size_t at = 0; at < size;) {
		size_t n = size - at < chunk ? size - at : chunk;
		enum http_conn_result r = http_conn_input(&conn, data + at, n);
		at += n;
		while (r != HTTP_CONN_MORE) {
			check_response();
			if (r == HTTP_CONN_RESPOND_CLOSE)
				goto done;
			r = http_conn_sent(&conn);
		}
	}
done:
	CHECK(conn.in_len <= sizeof(conn.in));
	http_conn_close(&conn);
	return 0;
}

static size_t fuzz_seed(unsigned i, uint8_t *buf, size_t cap)
{
	static const char *const seeds[] = {
	    "\x00GET /v1/vms HTTP/1.1\r\nHost: hv\r\nAuthorization: Bearer " TOKEN "\r\n\r\n",
	    "\x07GET /v1/vms/web HTTP/1.1\r\nAuthorization: Bearer " TOKEN "\r\n\r\n"
	    "POST /v1/vms/web/reboot HTTP/1.1\r\nAuthorization: Bearer " TOKEN "\r\n\r\n",
	    "\x00POST /v1/vms HTTP/1.1\r\nAuthorization: Bearer " TOKEN
	    "\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r\n"
	    "{\"module\": \"/boot/vms/x.cfg\"}  ",
	    "\x03POST /v1/vms HTTP/1.1\r\nAuthorization: Bearer " TOKEN
	    "\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nname = 'a'\n\n",
	    "\x00GET /v1/vms/web/console?since=3 HTTP/1.1\r\nAuthorization: Bearer " TOKEN
	    "\r\nConnection: close\r\n\r\n",
	    "\x00GET /metrics HTTP/1.0\r\nAuthorization: bearer " TOKEN "\r\n\r\n",
	    "\x00GET /v1/host HTTP/1.1\r\nAuthorization: Bearer wrong\r\n\r\n",
	    "\x01POST /v1/vms/web/destroy HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "\x00GET /v1/vms/w%65b HTTP/1.1\nAuthorization: Bearer " TOKEN "\n\n",
	    "\x00POST /v1/vms HTTP/1.1\r\nAuthorization: Bearer " TOKEN
	    "\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
	    "{\"config\": \"name = \\\"a\\\"\\n\\u00e9\"}      ",
	};
	if (i >= sizeof(seeds) / sizeof(seeds[0]))
		return 0;
	/* seeds start with a chunk byte, which may be NUL: its length is the rest's + 1 */
	size_t n = 1 + strlen(seeds[i] + 1);
	if (n > cap)
		n = cap;
	memcpy(buf, seeds[i], n);
	return n;
}
