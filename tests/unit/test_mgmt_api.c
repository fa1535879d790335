// SOURCES: kernel/mgmt/api.c kernel/mgmt/http_conn.c kernel/mgmt/http_parse.c kernel/mgmt/json.c kernel/lib/format.c kernel/lib/string.c
/*
 * The management API end to end above TCP: bytes into one connection
 * (http_conn.c), the bearer token, the routes (api.c), and the responses,
 * against a fake hypervisor (the functions of api_backend.h, here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel/mgmt/api.h"
#include "kernel/mgmt/api_backend.h"
#include "kernel/mgmt/http_conn.h"

/* ---- the fake hypervisor ---- */

static uint64_t now_ms = 1000;
static unsigned log_lines;
static char last_log[256];
static unsigned verb_calls;
static enum vm_verb last_verb;
static char created_text[256];

static const char *const fake_names[] = {"web", "db"};

static void fake_vm(unsigned i, struct api_vm *out)
{
	memset(out, 0, sizeof(*out));
	strcpy(out->name, fake_names[i]);
	out->id = i + 1;
	out->state = i ? "stopped" : "running";
	if (i)
		strcpy(out->last_stop, "poweroff code=0");
	snprintf(out->path, sizeof(out->path), "/boot/vms/%s.cfg", fake_names[i]);
	out->vcpus = 2;
	out->memory_mib = 256;
	out->time_ms = 1234;
	out->vcpu[0] = (struct api_vcpu){"running", 1, 1000, 5, 77};
	out->vcpu[1] = (struct api_vcpu){"blocked", -1, 234, 0, 3};
	out->nexits = 2;
	out->exits[0] = (struct api_count){"io", 70};
	out->exits[1] = (struct api_count){"hlt", 10};
	out->ndisks = 1;
	out->disks[0] = (struct api_disk){"xvda", 10, 8, 2, 0, 4096, 1024, 0};
}

/* "web", "db", "idle", then (many_vms) running copies of "web" named vmN */
static unsigned many_vms;

unsigned api_vm_count(void)
{
	return 3 + many_vms;
}

bool api_vm_at(unsigned i, struct api_vm *out)
{
	if (i < 2) {
		fake_vm(i, out);
		return true;
	}
	if (i > 2 && i < 3 + many_vms) {
		fake_vm(0, out);
		snprintf(out->name, sizeof(out->name), "vm%u", i);
		out->id = i + 1;
		return true;
	}
	memset(out, 0, sizeof(*out));
	strcpy(out->name, "idle");
	out->state = "off";
	strcpy(out->path, "/boot/vms/idle.cfg");
	out->vcpus = 1;
	out->memory_mib = 64;
	return true;
}

bool api_vm_get(const char *name, struct api_vm *out)
{
	for (unsigned i = 0; i < 2; i++) {
		if (strcmp(name, fake_names[i]) == 0) {
			fake_vm(i, out);
			return true;
		}
	}
	return false;
}

void api_vm_nics_json(const char *name, struct json_out *j)
{
	json_arr_begin(j);
	json_obj_begin(j);
	json_kv_str(j, "spec", name);
	json_obj_end(j);
	json_arr_end(j);
}

enum verb_result api_vm_verb(const char *name, enum vm_verb v, char *err, size_t errlen)
{
	verb_calls++;
	last_verb = v;
	if (!api_vm_get(name, &(struct api_vm){0})) {
		snprintf(err, errlen, VERB_NO_VM_FMT, name);
		return VERB_NO_VM;
	}
	if (strcmp(name, "db") == 0) {
		snprintf(err, errlen, "vm db is not running (stopped: poweroff)");
		return VERB_FAILED;
	}
	return VERB_OK;
}

enum verb_result api_vm_create_module(const char *path, char *name, size_t namelen, char *err,
				      size_t errlen)
{
	if (strcmp(path, "/boot/vms/web.cfg") != 0) {
		snprintf(err, errlen, "%s: no such boot module (VM files are GRUB modules)", path);
		return VERB_FAILED;
	}
	snprintf(name, namelen, "web");
	return VERB_OK;
}

enum verb_result api_vm_create_text(const char *text, size_t len, char *name, size_t namelen,
				    char *err, size_t errlen)
{
	snprintf(created_text, sizeof(created_text), "%.*s", (int)len, text);
	if (!strstr(created_text, "name")) {
		snprintf(err, errlen, "request body: name is missing");
		return VERB_FAILED;
	}
	snprintf(name, namelen, "web");
	return VERB_OK;
}

bool api_vm_console(const char *name, uint64_t since, char *buf, size_t size, size_t *n,
		    uint64_t *from, uint64_t *total)
{
	static const char out[] = "boot\r\nlogin: \x1b[0m\xff";
	if (strcmp(name, "web") != 0)
		return false;
	*total = 100 + sizeof(out) - 1;
	*from = since < 100 ? 100 : since > *total ? *total : since;
	*n = *total - *from;
	if (*n > size)
		*n = size;
	memcpy(buf, out + (*from - 100), *n);
	return true;
}

void api_host_get(struct api_host *h)
{
	memset(h, 0, sizeof(*h));
	strcpy(h->backend, "VMX");
	strcpy(h->cpu, "GenuineIntel Fake");
	strcpy(h->features, "Intel VT-x (VMX) ept");
	h->cores_online = 4;
	h->mem_managed = 1ull << 30;
	h->mem_free = 512ull << 20;
	h->running = 1;
	h->stopped = 1;
	h->uptime_s = 42;
}

void api_for_each_port(void (*fn)(void *ctx, const struct api_port *p), void *ctx)
{
	struct api_port p = {"lab", "web.0", "vm", 1, 60, 0, 2, 3, 180, 4};
	fn(ctx, &p);
}

uint64_t api_now_ms(void)
{
	return now_ms;
}

void api_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_log, sizeof(last_log), fmt, ap);
	va_end(ap);
	log_lines++;
}

void *api_alloc(size_t size)
{
	return malloc(size);
}

void api_free(void *p)
{
	free(p);
}

/* ---- helpers ---- */

static struct http_conn *conn;
static unsigned status;
static char body[HTTP_RESPONSE_LIMIT];
static char head[4096];

static int setup(void **state)
{
	(void)state;
	conn = calloc(1, sizeof(*conn));
	assert_int_equal(http_conn_open(conn, 0x0202000a), 0); /* 10.0.2.2 */
	http_set_token("s3cret");
	log_lines = verb_calls = 0;
	many_vms = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	http_conn_close(conn);
	free(conn);
	return 0;
}

/* Splits the response out: status, head, body; checks Content-Length and Content-Type. */
static void take_response(void)
{
	assert_true(conn->out_len > 0);
	char *r = conn->out;
	assert_true(conn->out_len < conn->out_cap);
	r[conn->out_len] = 0;
	assert_memory_equal(r, "HTTP/1.1 ", 9);
	status = (unsigned)atoi(r + 9);
	char *end = strstr(r, "\r\n\r\n");
	assert_non_null(end);
	size_t hl = (size_t)(end - r) + 4;
	assert_true(hl < sizeof(head));
	memcpy(head, r, hl);
	head[hl] = 0;
	size_t bl = conn->out_len - hl;
	memcpy(body, r + hl, bl);
	body[bl] = 0;
	char *cl = strstr(head, "Content-Length: ");
	assert_non_null(cl);
	assert_int_equal((size_t)atol(cl + 16), bl);
	assert_non_null(strstr(head, "Content-Type: "));
}

static enum http_conn_result send_raw(const char *req)
{
	enum http_conn_result res = http_conn_input(conn, (const uint8_t *)req, strlen(req));
	if (res != HTTP_CONN_MORE)
		take_response();
	return res;
}

/* One authorized request; returns the status. */
static unsigned request(const char *method, const char *path, const char *type, const char *data)
{
	char req[8192];
	size_t n = (size_t)snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: hv\r\n"
				    "Authorization: Bearer s3cret\r\n", method, path);
	if (type)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "Content-Type: %s\r\n", type);
	if (data)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "Content-Length: %zu\r\n",
				      strlen(data));
	snprintf(req + n, sizeof(req) - n, "\r\n%s", data ? data : "");
	assert_int_equal(send_raw(req), HTTP_CONN_RESPOND);
	assert_int_equal(http_conn_sent(conn), HTTP_CONN_MORE);
	return status;
}

/* ---- tests ---- */

static void token_off(void **state)
{
	(void)state;
	http_set_token(NULL);
	assert_int_equal(send_raw("GET /v1/vms HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n"),
			 HTTP_CONN_RESPOND);
	assert_int_equal(status, 503);
	assert_non_null(strstr(body, "\"error\":\"the management API is off"));
}

static void token_wrong_or_missing(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "POST /v1/vms/web/destroy HTTP/1.1\r\n\r\n",
	    "POST /v1/vms/web/destroy HTTP/1.1\r\nAuthorization: Bearer s3cre\r\n\r\n",
	    "POST /v1/vms/web/destroy HTTP/1.1\r\nAuthorization: Bearer s3cret2\r\n\r\n",
	    "POST /v1/vms/web/destroy HTTP/1.1\r\nAuthorization: Basic s3cret\r\n\r\n",
	    "POST /v1/vms/web/destroy HTTP/1.1\r\nAuthorization: Bearer\r\n\r\n",
	    "POST /v1/vms/web/destroy HTTP/1.1\r\nAuthorization: s3cret\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(send_raw(bad[i]), HTTP_CONN_RESPOND);
		assert_int_equal(status, 401);
		assert_non_null(strstr(head, "WWW-Authenticate: Bearer"));
		assert_non_null(strstr(body, "\"error\":"));
		assert_int_equal(http_conn_sent(conn), HTTP_CONN_MORE);
	}
	assert_int_equal(verb_calls, 0); /* nothing changed state */
	/* logged once (the peer's address), the rest within the second held back */
	assert_int_equal(log_lines, 1);
	assert_non_null(strstr(last_log, "10.0.2.2"));
	now_ms += 1500;
	send_raw(bad[0]);
	http_conn_sent(conn);
	assert_int_equal(log_lines, 2);
	assert_non_null(strstr(last_log, "5 more"));
	/* the scheme in any case, spaces after it */
	assert_int_equal(send_raw("GET /v1/host HTTP/1.1\r\nAuthorization: bEARER   s3cret\r\n\r\n"),
			 HTTP_CONN_RESPOND);
	assert_int_equal(status, 200);
}

static void list_and_show(void **state)
{
	(void)state;
	assert_int_equal(request("GET", "/v1/vms", NULL, NULL), 200);
	assert_non_null(strstr(head, "Content-Type: application/json"));
	assert_non_null(strstr(body, "{\"vms\":[{\"name\":\"web\",\"id\":1,\"state\":\"running\","
				     "\"vcpus\":2,\"memory_mib\":256,\"cpu_time_ms\":1234"));
	assert_non_null(strstr(body, "{\"name\":\"idle\",\"id\":null,\"state\":\"off\""));

	assert_int_equal(request("GET", "/v1/vms/web", NULL, NULL), 200);
	assert_non_null(strstr(body, "\"vcpu_list\":[{\"id\":0,\"state\":\"running\",\"cpu\":1,"
				     "\"time_ms\":1000,\"steal_ms\":5,\"exits\":77}"));
	assert_non_null(strstr(body, "\"cpu\":null"));
	assert_non_null(strstr(body, "\"exits\":{\"io\":70,\"hlt\":10}"));
	assert_non_null(strstr(body, "\"disks\":[{\"name\":\"xvda\",\"requests\":10"));
	assert_non_null(strstr(body, "\"nics\":[{\"spec\":\"web\"}]"));

	assert_int_equal(request("GET", "/v1/vms/nope", NULL, NULL), 404);
	assert_string_equal(body, "{\"error\":\"no VM named 'nope' (`list` shows them)\"}");
	assert_int_equal(request("GET", "/v1/vms/w%65b", NULL, NULL), 200); /* percent-decoded */
	assert_int_equal(request("GET", "/v1/vms/w%6", NULL, NULL), 400);
}

static void verbs(void **state)
{
	(void)state;
	assert_int_equal(request("POST", "/v1/vms/web/pause", NULL, NULL), 200);
	assert_int_equal(last_verb, VM_VERB_PAUSE);
	assert_string_equal(body, "{\"name\":\"web\",\"result\":\"paused\",\"state\":\"running\"}");
	assert_int_equal(request("POST", "/v1/vms/web/shutdown", NULL, NULL), 202);
	assert_int_equal(last_verb, VM_VERB_SHUTDOWN);
	assert_int_equal(request("POST", "/v1/vms/web/reboot", NULL, NULL), 200);
	assert_int_equal(request("POST", "/v1/vms/web/unpause", NULL, NULL), 200);
	assert_int_equal(request("POST", "/v1/vms/web/destroy", NULL, NULL), 200);
	assert_int_equal(last_verb, VM_VERB_DESTROY);
	assert_int_equal(request("POST", "/v1/vms/db/destroy", NULL, NULL), 409);
	assert_string_equal(body, "{\"error\":\"vm db is not running (stopped: poweroff)\"}");
	assert_int_equal(request("POST", "/v1/vms/zz/destroy", NULL, NULL), 404);
	assert_int_equal(verb_calls, 7);
	assert_int_equal(request("GET", "/v1/vms/web/destroy", NULL, NULL), 405);
	assert_non_null(strstr(head, "Allow: POST\r\n"));
	assert_int_equal(request("POST", "/v1/vms/web/explode", NULL, NULL), 404);
	assert_int_equal(verb_calls, 7);
}

static void create(void **state)
{
	(void)state;
	assert_int_equal(request("POST", "/v1/vms", "application/json",
				 "{\"module\": \"/boot/vms/web.cfg\"}"), 201);
	assert_string_equal(body, "{\"name\":\"web\",\"state\":\"running\"}");
	assert_int_equal(request("POST", "/v1/vms", "application/json",
				 "{\"module\": \"/boot/nope.cfg\"}"), 400);
	assert_non_null(strstr(body, "no such boot module"));
	assert_int_equal(request("POST", "/v1/vms", "application/json; charset=utf-8",
				 "{\"config\": \"name = \\\"web\\\"\\nmemory = 64\\n\"}"), 201);
	assert_string_equal(created_text, "name = \"web\"\nmemory = 64\n");
	assert_int_equal(request("POST", "/v1/vms", "text/plain", "name = 'web'\n"), 201);
	assert_string_equal(created_text, "name = 'web'\n");
	assert_int_equal(request("POST", "/v1/vms", "text/plain", "memory = 1\n"), 400);
	assert_string_equal(body, "{\"error\":\"request body: name is missing\"}");

	static const char *const bad_json[] = {
	    "{\"module\": \"/boot/vms/web.cfg\",}", "{\"module\": 1}", "[\"module\"]",
	    "{\"module\": \"a\", \"config\": \"b\"}", "{\"other\": \"x\"}",
	    "{\"module\": \"a\\u0000b\"}", "", "{\"module\": \"\xff\"}",
	};
	for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
		assert_int_equal(request("POST", "/v1/vms", "application/json", bad_json[i]), 400);
		assert_non_null(strstr(body, "{\"error\":"));
	}
	assert_int_equal(request("POST", "/v1/vms", "application/json", "{"), 400);
	assert_string_equal(body, "{\"error\":\"bad JSON at byte 1: expected a member name (a "
				  "string)\"}");
	assert_int_equal(request("POST", "/v1/vms", "application/x-www-form-urlencoded", "a=b"),
			 415);
	assert_int_equal(request("POST", "/v1/vms", "application/json", NULL), 411);
	assert_int_equal(request("DELETE", "/v1/vms", NULL, NULL), 405);
	assert_non_null(strstr(head, "Allow: GET, POST\r\n"));
}

static void console(void **state)
{
	(void)state;
	assert_int_equal(request("GET", "/v1/vms/web/console", NULL, NULL), 200);
	assert_string_equal(body, "{\"name\":\"web\",\"from\":100,\"next\":118,\"total\":118,"
				  "\"truncated\":true,\"text\":\"boot\\r\\nlogin: \\u001b[0m\xef\xbf\xbd\"}");
	assert_int_equal(request("GET", "/v1/vms/web/console?since=106", NULL, NULL), 200);
	assert_non_null(strstr(body, "\"from\":106,\"next\":118,\"total\":118,\"truncated\":false,"
				     "\"text\":\"login: "));
	assert_int_equal(request("GET", "/v1/vms/web/console?since=1000", NULL, NULL), 200);
	assert_non_null(strstr(body, "\"text\":\"\""));
	assert_int_equal(request("GET", "/v1/vms/web/console?since=-1", NULL, NULL), 400);
	assert_int_equal(request("GET", "/v1/vms/web/console?since=", NULL, NULL), 400);
	assert_int_equal(request("GET", "/v1/vms/web/console?since=99999999999999999999", NULL,
				 NULL), 400);
	assert_int_equal(request("GET", "/v1/vms/db2/console", NULL, NULL), 404);
}

/*
 * Hundreds of VMs: /metrics and /v1/vms outgrow the first 256 KiB buffer and
 * are answered whole from a bigger one; nothing is cut or left out.
 */
static void many_vms_fit(void **state)
{
	(void)state;
	many_vms = 1000;
	assert_int_equal(request("GET", "/metrics", NULL, NULL), 200);
	assert_true(conn->out_cap > HTTP_RESPONSE_MAX);
	assert_true(strlen(body) > HTTP_RESPONSE_MAX);
	assert_non_null(strstr(body, "hv_vm_state{vm=\"vm3\",state=\"running\"} 1\n"));
	assert_non_null(strstr(body, "hv_vm_state{vm=\"vm1002\",state=\"running\"} 1\n"));
	/* the last family is there too: the text was not cut */
	assert_non_null(strstr(body, "# TYPE hv_port_dropped_frames_total counter"));

	assert_int_equal(request("GET", "/v1/vms", NULL, NULL), 200);
	assert_non_null(strstr(body, "{\"name\":\"vm1002\""));
	assert_non_null(strstr(body, "}]}"));
	/* the connection goes on with its bigger buffer */
	assert_int_equal(request("GET", "/v1/vms/web", NULL, NULL), 200);
}

/* Past HTTP_RESPONSE_LIMIT the answer is a 500 that says why, and nothing else breaks. */
static void too_many_vms_is_a_clear_500(void **state)
{
	(void)state;
	many_vms = 250000;
	assert_int_equal(request("GET", "/v1/vms", NULL, NULL), 500);
	assert_non_null(strstr(body, "too large"));
	assert_int_equal(conn->out_cap, HTTP_RESPONSE_LIMIT);
	many_vms = 0;
	assert_int_equal(request("GET", "/v1/vms", NULL, NULL), 200);
}

static void host_and_metrics(void **state)
{
	(void)state;
	assert_int_equal(request("GET", "/v1/host", NULL, NULL), 200);
	assert_non_null(strstr(body, "\"backend\":\"VMX\""));
	assert_non_null(strstr(body, "\"memory_managed_mib\":1024,\"memory_free_mib\":512"));
	assert_int_equal(request("POST", "/v1/host", NULL, NULL), 405);

	assert_int_equal(request("GET", "/metrics", NULL, NULL), 200);
	assert_non_null(strstr(head, "Content-Type: text/plain; version=0.0.4"));
	static const char *const lines[] = {
	    "# TYPE hv_vm_cpu_seconds_total counter\n",
	    "hv_vm_cpu_seconds_total{vm=\"web\"} 1.234\n",
	    "hv_vcpu_cpu_seconds_total{vm=\"db\",vcpu=\"1\"} 0.234\n",
	    "hv_vm_exits_total{vm=\"web\",reason=\"io\"} 70\n",
	    "hv_vm_memory_bytes{vm=\"web\"} 268435456\n",
	    "hv_disk_requests_total{vm=\"web\",disk=\"xvda\"} 10\n",
	    "hv_port_frames_total{switch=\"lab\",port=\"web.0\",kind=\"vm\",direction=\"in\"} 1\n",
	    "hv_port_bytes_total{switch=\"lab\",port=\"web.0\",kind=\"vm\",direction=\"out\"} 180\n",
	    "hv_port_dropped_frames_total{switch=\"lab\",port=\"web.0\",kind=\"vm\",reason=\"spoofed\"} 2\n",
	    "hv_host_memory_bytes{kind=\"free\"} 536870912\n",
	    "hv_vm_state{vm=\"db\",state=\"stopped\"} 1\n",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (!strstr(body, lines[i]))
			fail_msg("missing: %s", lines[i]);
	assert_null(strstr(body, "vm=\"idle\"")); /* only defined: no figures */
	assert_int_equal(body[strlen(body) - 1], '\n');
}

static void not_found(void **state)
{
	(void)state;
	static const char *const paths[] = {"/", "/v1", "/v1/", "/v2/vms", "/v1/vms/", "/v1/vmsx",
					    "/v1/vms/web/console/x", "/metrics/", "//v1/vms",
					    "/v1/vms/web/a/b/c/d"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (request("GET", paths[i], NULL, NULL) != 404)
			fail_msg("%s: %u", paths[i], status);
	}
}

static void malformed_then_good(void **state)
{
	(void)state;
	assert_int_equal(send_raw("GARBAGE\r\n\r\n"), HTTP_CONN_RESPOND_CLOSE);
	assert_int_equal(status, 400);
	assert_non_null(strstr(head, "Connection: close"));
	assert_non_null(strstr(body, "{\"error\":\"malformed request line\"}"));
	/* after it, the connection takes nothing more */
	assert_int_equal(send_raw("GET /v1/vms HTTP/1.1\r\n\r\n"), HTTP_CONN_MORE);
	assert_int_equal(http_conn_sent(conn), HTTP_CONN_MORE);
	/* a new connection works */
	teardown(state);
	setup(state);
	assert_int_equal(request("GET", "/v1/vms", NULL, NULL), 200);
	/* 431, 413, 411, 505 close too */
	teardown(state);
	setup(state);
	assert_int_equal(send_raw("POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"),
			 HTTP_CONN_RESPOND_CLOSE);
	assert_int_equal(status, 413);
	teardown(state);
	setup(state);
	assert_int_equal(send_raw("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
			 HTTP_CONN_RESPOND_CLOSE);
	assert_int_equal(status, 411);
	teardown(state);
	setup(state);
	static char big[HTTP_HEADER_MAX + 100];
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(send_raw(big), HTTP_CONN_RESPOND_CLOSE);
	assert_int_equal(status, 431);
}

static void keep_alive_and_pipelining(void **state)
{
	(void)state;
	const char *two = "GET /v1/host HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n"
			  "GET /v1/vms/web HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n"
			  "Connection: close\r\n\r\n";
	/* byte by byte */
	enum http_conn_result r = HTTP_CONN_MORE;
	size_t i = 0, n = strlen(two);
	for (; i < n && r == HTTP_CONN_MORE; i++)
		r = http_conn_input(conn, (const uint8_t *)two + i, 1);
	assert_int_equal(r, HTTP_CONN_RESPOND);
	take_response();
	assert_int_equal(status, 200);
	assert_non_null(strstr(body, "\"backend\""));
	/* the rest arrives while the first answer is out */
	assert_int_equal(http_conn_input(conn, (const uint8_t *)two + i, n - i), HTTP_CONN_MORE);
	assert_int_equal(http_conn_sent(conn), HTTP_CONN_RESPOND_CLOSE);
	take_response();
	assert_non_null(strstr(body, "\"name\":\"web\""));
	assert_non_null(strstr(head, "Connection: close"));
	assert_int_equal(conn->requests, 2);

	/* HTTP/1.0 closes unless asked not to */
	teardown(state);
	setup(state);
	assert_int_equal(send_raw("GET /v1/host HTTP/1.0\r\nAuthorization: Bearer s3cret\r\n\r\n"),
			 HTTP_CONN_RESPOND_CLOSE);
	teardown(state);
	setup(state);
	assert_int_equal(send_raw("GET /v1/host HTTP/1.0\r\nAuthorization: Bearer s3cret\r\n"
				  "Connection: keep-alive\r\n\r\n"),
			 HTTP_CONN_RESPOND);
	assert_non_null(strstr(head, "Connection: keep-alive"));
}

static void pipelining_overflow(void **state)
{
	(void)state;
	/* one whole request and then more than in[] holds while its answer is out */
	static char flood[sizeof(conn->in) + 100];
	const char *first = "GET /v1/host HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n";
	assert_int_equal(send_raw(first), HTTP_CONN_RESPOND);
	memset(flood, 'x', sizeof(flood));
	memcpy(flood, first, strlen(first));
	assert_int_equal(http_conn_input(conn, (uint8_t *)flood, sizeof(flood)), HTTP_CONN_MORE);
	assert_int_equal(http_conn_sent(conn), HTTP_CONN_RESPOND); /* the whole one in it */
	take_response();
	assert_int_equal(status, 200);
	assert_int_equal(http_conn_sent(conn), HTTP_CONN_RESPOND_CLOSE);
	take_response();
	assert_true(status == 503 || status == 431);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(token_off, setup, teardown),
	    cmocka_unit_test_setup_teardown(token_wrong_or_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(list_and_show, setup, teardown),
	    cmocka_unit_test_setup_teardown(verbs, setup, teardown),
	    cmocka_unit_test_setup_teardown(create, setup, teardown),
	    cmocka_unit_test_setup_teardown(console, setup, teardown),
	    cmocka_unit_test_setup_teardown(host_and_metrics, setup, teardown),
	    cmocka_unit_test_setup_teardown(many_vms_fit, setup, teardown),
	    cmocka_unit_test_setup_teardown(too_many_vms_is_a_clear_500, setup, teardown),
	    cmocka_unit_test_setup_teardown(not_found, setup, teardown),
	    cmocka_unit_test_setup_teardown(malformed_then_good, setup, teardown),
	    cmocka_unit_test_setup_teardown(keep_alive_and_pipelining, setup, teardown),
	    cmocka_unit_test_setup_teardown(pipelining_overflow, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
