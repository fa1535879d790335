/* The management API's routes (see api.h). */
#include "kernel/mgmt/api.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/mgmt/api_backend.h"
#include "kernel/mgmt/json.h"

#define API_VMS_MAX 2048 /* created VMs the metrics list (VM_MAX and more) */
#define SEGMENTS 5

/* Large and used one request at a time (the management context is single). */
static struct api_vm vm_buf;
/*
 * The metrics' VMs: their indices for api_vm_at, each fetched again into
 * vm_buf when a family is written (one api_vm, not one per VM: a VM with
 * many vCPUs is large, and there may be hundreds of VMs).
 */
static unsigned snap_idx[API_VMS_MAX];

static const struct api_vm *snap_at(unsigned i)
{
	if (!api_vm_at(snap_idx[i], &vm_buf))
		memset(&vm_buf, 0, sizeof(vm_buf)); /* gone meanwhile: no figures */
	if (!vm_buf.state)
		vm_buf.state = "";
	return &vm_buf;
}
static struct api_host host_buf;

void api_error(struct api_response *r, unsigned status, const char *why)
{
	struct json_out j;
	r->status = status;
	r->content_type = API_JSON;
	json_init(&j, r->body, r->cap);
	json_obj_begin(&j);
	json_kv_str(&j, "error", why);
	json_obj_end(&j);
	r->len = j.len;
}

/* Takes a finished JSON text as the response, or says it did not fit. */
static void json_reply(struct api_response *r, unsigned status, const struct json_out *j)
{
	if (!json_done(j)) {
		api_error(r, 500, "the response is too large");
		r->too_small = true;
		return;
	}
	r->status = status;
	r->content_type = API_JSON;
	r->len = j->len;
}

static void method_not_allowed(struct api_response *r, const char *allow)
{
	api_error(r, 405, "method not allowed");
	r->allow = allow;
}

/* ---- VMs ---- */

static void vm_summary(struct json_out *j, const struct api_vm *vm)
{
	json_kv_str(j, "name", vm->name);
	if (vm->id)
		json_kv_u64(j, "id", vm->id);
	else {
		json_key(j, "id");
		json_null(j);
	}
	json_kv_str(j, "state", vm->state);
	json_kv_u64(j, "vcpus", vm->vcpus);
	json_kv_u64(j, "memory_mib", vm->memory_mib);
	json_kv_u64(j, "cpu_time_ms", vm->time_ms);
	json_kv_str(j, "last_stop", vm->last_stop);
	json_kv_str(j, "path", vm->path);
}

static void list_vms(struct api_response *r)
{
	struct json_out j;
	json_init(&j, r->body, r->cap);
	json_obj_begin(&j);
	json_key(&j, "vms");
	json_arr_begin(&j);
	unsigned n = api_vm_count();
	for (unsigned i = 0; i < n; i++) {
		if (!api_vm_at(i, &vm_buf))
			continue;
		json_obj_begin(&j);
		vm_summary(&j, &vm_buf);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_reply(r, 200, &j);
}

static void no_vm(struct api_response *r, const char *name)
{
	char why[80];
	format(why, sizeof(why), VERB_NO_VM_FMT, name);
	api_error(r, 404, why);
}

static void show_vm(struct api_response *r, const char *name)
{
	const struct api_vm *vm = &vm_buf;
	if (!api_vm_get(name, &vm_buf)) {
		no_vm(r, name);
		return;
	}
	struct json_out j;
	json_init(&j, r->body, r->cap);
	json_obj_begin(&j);
	vm_summary(&j, vm);
	json_kv_u64(&j, "restarts", vm->restarts);
	json_kv_u64(&j, "overhead_bytes", vm->overhead_bytes);
	json_key(&j, "vcpu_list");
	json_arr_begin(&j);
	for (unsigned i = 0; i < vm->vcpus && i < API_VCPUS; i++) {
		const struct api_vcpu *v = &vm->vcpu[i];
		json_obj_begin(&j);
		json_kv_u64(&j, "id", i);
		json_kv_str(&j, "state", v->state ? v->state : "");
		json_key(&j, "cpu");
		if (v->cpu >= 0)
			json_u64(&j, (uint64_t)v->cpu);
		else
			json_null(&j);
		json_kv_u64(&j, "time_ms", v->time_ms);
		json_kv_u64(&j, "steal_ms", v->steal_ms);
		json_kv_u64(&j, "exits", v->exits);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "exits");
	json_obj_begin(&j);
	for (unsigned i = 0; i < vm->nexits && i < API_EXIT_KINDS; i++)
		json_kv_u64(&j, vm->exits[i].name, vm->exits[i].n);
	json_obj_end(&j);
	json_key(&j, "disks");
	json_arr_begin(&j);
	for (unsigned i = 0; i < vm->ndisks && i < API_DISKS; i++) {
		const struct api_disk *d = &vm->disks[i];
		json_obj_begin(&j);
		json_kv_str(&j, "name", d->name);
		json_kv_u64(&j, "requests", d->requests);
		json_kv_u64(&j, "reads", d->reads);
		json_kv_u64(&j, "writes", d->writes);
		json_kv_u64(&j, "flushes", d->flushes);
		json_kv_u64(&j, "bytes_read", d->bytes_read);
		json_kv_u64(&j, "bytes_written", d->bytes_written);
		json_kv_u64(&j, "errors", d->errors);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_key(&j, "nics");
	api_vm_nics_json(vm->name, &j);
	json_obj_end(&j);
	json_reply(r, 200, &j);
}

static bool verb_of(const char *s, enum vm_verb *v)
{
	for (unsigned i = 0; i < VM_VERBS; i++) {
		if (strcmp(s, vm_verb_name((enum vm_verb)i)) == 0) {
			*v = (enum vm_verb)i;
			return true;
		}
	}
	return false;
}

static void run_verb(struct api_response *r, const char *name, enum vm_verb v)
{
	char err[200];
	switch (api_vm_verb(name, v, err, sizeof(err))) {
	case VERB_NO_VM:
		api_error(r, 404, err);
		return;
	case VERB_FAILED:
		api_error(r, 409, err);
		return;
	case VERB_OK:
		break;
	}
	static const char *const results[VM_VERBS] = {
	    [VM_VERB_SHUTDOWN] = "shutting down", [VM_VERB_DESTROY] = "destroyed",
	    [VM_VERB_REBOOT] = "restarted",	   [VM_VERB_PAUSE] = "paused",
	    [VM_VERB_UNPAUSE] = "unpaused",
	};
	struct json_out j;
	json_init(&j, r->body, r->cap);
	json_obj_begin(&j);
	json_kv_str(&j, "name", name);
	json_kv_str(&j, "result", results[v]);
	if (api_vm_get(name, &vm_buf))
		json_kv_str(&j, "state", vm_buf.state);
	json_obj_end(&j);
	json_reply(r, v == VM_VERB_SHUTDOWN ? 202 : 200, &j);
}

/* The media type of a Content-Type value, without parameters: is it `type`? */
static bool media_type_is(struct http_str ct, const char *type)
{
	size_t n = 0;
	while (n < ct.len && ct.p[n] != ';' && ct.p[n] != ' ' && ct.p[n] != '\t')
		n++;
	return http_str_ieq((struct http_str){ct.p, n}, type);
}

static void created(struct api_response *r, const char *name)
{
	struct json_out j;
	json_init(&j, r->body, r->cap);
	json_obj_begin(&j);
	json_kv_str(&j, "name", name);
	if (api_vm_get(name, &vm_buf))
		json_kv_str(&j, "state", vm_buf.state);
	json_obj_end(&j);
	json_reply(r, 201, &j);
}

#define CREATE_TOKENS 16

static void create_vm(const struct http_request *req, struct api_response *r)
{
	static struct json_tok tok[CREATE_TOKENS];
	static char value[HTTP_BODY_MAX + 1];
	char err[240], name[API_NAME_LEN];
	const char *text = req->body.p;
	size_t len = req->body.len;
	enum verb_result res;

	if (!req->has_length) {
		api_error(r, 411, "a VM file or {\"module\": PATH} in a body with Content-Length");
		return;
	}
	if (media_type_is(req->content_type, "text/plain")) {
		res = api_vm_create_text(text, len, name, sizeof(name), err, sizeof(err));
		if (res != VERB_OK) {
			api_error(r, 400, err);
			return;
		}
		created(r, name);
		return;
	}
	if (!media_type_is(req->content_type, "application/json")) {
		api_error(r, 415, "send Content-Type: application/json ({\"module\": PATH} or "
				  "{\"config\": TEXT}) or text/plain (the VM file)");
		return;
	}

	struct json_error je;
	int n = json_parse(text, len, tok, CREATE_TOKENS, &je);
	if (n < 0) {
		format(err, sizeof(err), "bad JSON at byte %zu: %s", je.at, je.why);
		api_error(r, 400, err);
		return;
	}
	if (tok[0].type != JSON_OBJECT || tok[0].count != 1 || tok[2].type != JSON_STRING) {
		api_error(r, 400, "expected {\"module\": PATH} or {\"config\": TEXT}");
		return;
	}
	size_t vlen;
	if (!json_string(text, &tok[2], value, sizeof(value), &vlen) || strlen(value) != vlen) {
		api_error(r, 400, "the value holds a NUL character");
		return;
	}
	if (json_string_eq(text, &tok[1], "module")) {
		res = api_vm_create_module(value, name, sizeof(name), err, sizeof(err));
		if (res != VERB_OK) {
			api_error(r, 400, err);
			return;
		}
		created(r, name);
		return;
	}
	if (json_string_eq(text, &tok[1], "config")) {
		res = api_vm_create_text(value, vlen, name, sizeof(name), err, sizeof(err));
		if (res != VERB_OK) {
			api_error(r, 400, err);
			return;
		}
		created(r, name);
		return;
	}
	api_error(r, 400, "expected {\"module\": PATH} or {\"config\": TEXT}");
}

static void console(const struct http_request *req, struct api_response *r, const char *name)
{
	static char text[16384];
	uint64_t since = 0;
	struct http_str v;
	if (http_query_param(req->query, "since", &v)) {
		size_t used = v.len ? parse_u64(v.p, v.len, &since) : 0;
		bool digits = v.len && v.len <= 19;
		for (size_t i = 0; i < v.len; i++)
			digits &= v.p[i] >= '0' && v.p[i] <= '9';
		if (!digits || used != v.len) {
			api_error(r, 400, "since must be a decimal number");
			return;
		}
	}
	size_t n;
	uint64_t from, total;
	if (!api_vm_console(name, since, text, sizeof(text), &n, &from, &total)) {
		no_vm(r, name);
		return;
	}
	struct json_out j;
	json_init(&j, r->body, r->cap);
	json_obj_begin(&j);
	json_kv_str(&j, "name", name);
	json_kv_u64(&j, "from", from);
	json_kv_u64(&j, "next", from + n);
	json_kv_u64(&j, "total", total);
	json_kv_bool(&j, "truncated", from > since);
	json_key(&j, "text");
	json_strn(&j, text, n);
	json_obj_end(&j);
	json_reply(r, 200, &j);
}

/* ---- the host ---- */

static void host(struct api_response *r)
{
	const struct api_host *h = &host_buf;
	api_host_get(&host_buf);
	struct json_out j;
	json_init(&j, r->body, r->cap);
	json_obj_begin(&j);
	json_kv_str(&j, "backend", h->backend);
	json_kv_str(&j, "cpu", h->cpu);
	json_kv_u64(&j, "cores_online", h->cores_online);
	json_kv_u64(&j, "cores_listed", h->cores_listed);
	json_kv_u64(&j, "memory_managed_mib", h->mem_managed >> 20);
	json_kv_u64(&j, "memory_free_mib", h->mem_free >> 20);
	json_kv_str(&j, "virtualization", h->features);
	json_kv_u64(&j, "tsc_khz", h->tsc_khz);
	json_kv_u64(&j, "vms_running", h->running);
	json_kv_u64(&j, "vms_paused", h->paused);
	json_kv_u64(&j, "vms_stopped", h->stopped);
	json_kv_u64(&j, "uptime_s", h->uptime_s);
	json_kv_str(&j, "mgmt", h->mgmt);
	json_obj_end(&j);
	json_reply(r, 200, &j);
}

/* ---- metrics (Prometheus text format 0.0.4) ---- */

struct text {
	char *buf;
	size_t cap, len;
	bool overflow;
};

static void tput(struct text *t, const char *s, size_t n)
{
	if (t->overflow || n > t->cap - 1 - t->len) {
		t->overflow = true;
		return;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = 0;
}

static void tputs(struct text *t, const char *s)
{
	tput(t, s, strlen(s));
}

static void tfmt(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tfmt(struct text *t, const char *fmt, ...)
{
	char line[160];
	va_list ap;
	va_start(ap, fmt);
	int n = format_v(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		t->overflow = true;
		return;
	}
	tput(t, line, (size_t)n);
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	tfmt(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label(struct text *t, const char *key, const char *value, bool first)
{
	if (!first)
		tput(t, ",", 1);
	tputs(t, key);
	tput(t, "=\"", 2);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			tput(t, "\\", 1), tput(t, p, 1);
		else if (*p == '\n')
			tput(t, "\\n", 2);
		else
			tput(t, p, 1);
	}
	tput(t, "\"", 1);
}

static void u64_value(struct text *t, uint64_t v)
{
	tfmt(t, "} %llu\n", (unsigned long long)v);
}

static void seconds_value(struct text *t, uint64_t ms)
{
	tfmt(t, "} %llu.%03llu\n", (unsigned long long)(ms / 1000),
	     (unsigned long long)(ms % 1000));
}

static void sample_vm(struct text *t, const char *metric, const struct api_vm *vm)
{
	tputs(t, metric);
	tput(t, "{", 1);
	label(t, "vm", vm->name, true);
}

struct port_pass {
	struct text *t;
	unsigned what; /* 0: frames, 1: bytes, 2: drops */
};

static void port_labels(struct text *t, const char *metric, const struct api_port *p)
{
	tputs(t, metric);
	tput(t, "{", 1);
	label(t, "switch", p->sw, true);
	label(t, "port", p->name, false);
	label(t, "kind", p->kind, false);
}

static void port_metric(void *ctx, const struct api_port *p)
{
	struct port_pass *pp = ctx;
	struct text *t = pp->t;
	static const char *const names[] = {"hv_port_frames_total", "hv_port_bytes_total",
					    "hv_port_dropped_frames_total"};
	const char *m = names[pp->what];
	if (pp->what < 2) {
		port_labels(t, m, p);
		label(t, "direction", "in", false);
		u64_value(t, pp->what ? p->in_bytes : p->in_frames);
		port_labels(t, m, p);
		label(t, "direction", "out", false);
		u64_value(t, pp->what ? p->out_bytes : p->out_frames);
		return;
	}
	port_labels(t, m, p);
	label(t, "reason", "malformed", false);
	u64_value(t, p->in_errors);
	port_labels(t, m, p);
	label(t, "reason", "spoofed", false);
	u64_value(t, p->spoofed);
	port_labels(t, m, p);
	label(t, "reason", "no_room", false);
	u64_value(t, p->out_drops);
}

static void metrics(struct api_response *r)
{
	struct text t = {.buf = r->body, .cap = r->cap};
	unsigned n = 0, count = api_vm_count();
	char num[12];

	for (unsigned i = 0; i < count && n < API_VMS_MAX; i++)
		if (api_vm_at(i, &vm_buf) && vm_buf.id)
			snap_idx[n++] = i; /* created VMs only: a defined one has no figures */

	api_host_get(&host_buf);
	family(&t, "hv_host_memory_bytes", "gauge", "Host memory the hypervisor manages.");
	tfmt(&t, "hv_host_memory_bytes{kind=\"managed\"} %llu\n",
	     (unsigned long long)host_buf.mem_managed);
	tfmt(&t, "hv_host_memory_bytes{kind=\"free\"} %llu\n", (unsigned long long)host_buf.mem_free);
	family(&t, "hv_host_uptime_seconds", "gauge", "Time since the hypervisor booted.");
	tfmt(&t, "hv_host_uptime_seconds %llu\n", (unsigned long long)host_buf.uptime_s);

	family(&t, "hv_vm_state", "gauge", "1 for the state the VM is in.");
	for (unsigned i = 0; i < n; i++) {
		const struct api_vm *vm = snap_at(i);
		sample_vm(&t, "hv_vm_state", vm);
		label(&t, "state", vm->state, false);
		u64_value(&t, 1);
	}
	family(&t, "hv_vm_vcpus", "gauge", "vCPUs of the VM.");
	for (unsigned i = 0; i < n; i++) {
		const struct api_vm *vm = snap_at(i);
		sample_vm(&t, "hv_vm_vcpus", vm);
		u64_value(&t, vm->vcpus);
	}
	family(&t, "hv_vm_memory_bytes", "gauge", "Guest RAM of the VM.");
	for (unsigned i = 0; i < n; i++) {
		const struct api_vm *vm = snap_at(i);
		sample_vm(&t, "hv_vm_memory_bytes", vm);
		u64_value(&t, vm->memory_mib << 20);
	}
	family(&t, "hv_vm_cpu_seconds_total", "counter", "CPU time of the VM's vCPUs.");
	for (unsigned i = 0; i < n; i++) {
		const struct api_vm *vm = snap_at(i);
		sample_vm(&t, "hv_vm_cpu_seconds_total", vm);
		seconds_value(&t, vm->time_ms);
	}
	family(&t, "hv_vcpu_cpu_seconds_total", "counter", "CPU time of one vCPU.");
	for (unsigned i = 0; i < n; i++) {
		const struct api_vm *vm = snap_at(i);
		for (unsigned v = 0; v < vm->vcpus && v < API_VCPUS; v++) {
			format(num, sizeof(num), "%u", v);
			sample_vm(&t, "hv_vcpu_cpu_seconds_total", vm);
			label(&t, "vcpu", num, false);
			seconds_value(&t, vm->vcpu[v].time_ms);
		}
	}
	family(&t, "hv_vcpu_steal_seconds_total", "counter",
	       "Time a vCPU was runnable while its core ran something else.");
	for (unsigned i = 0; i < n; i++) {
		const struct api_vm *vm = snap_at(i);
		for (unsigned v = 0; v < vm->vcpus && v < API_VCPUS; v++) {
			format(num, sizeof(num), "%u", v);
			sample_vm(&t, "hv_vcpu_steal_seconds_total", vm);
			label(&t, "vcpu", num, false);
			seconds_value(&t, vm->vcpu[v].steal_ms);
		}
	}
	family(&t, "hv_vm_exits_total", "counter", "VM exits by reason.");
	for (unsigned i = 0; i < n; i++) {
		const struct api_vm *vm = snap_at(i);
		for (unsigned e = 0; e < vm->nexits && e < API_EXIT_KINDS; e++) {
			sample_vm(&t, "hv_vm_exits_total", vm);
			label(&t, "reason", vm->exits[e].name, false);
			u64_value(&t, vm->exits[e].n);
		}
	}
	static const struct {
		const char *name, *help;
		size_t off;
	} disk_metrics[] = {
	    {"hv_disk_requests_total", "Requests a VM's virtio disk served.",
	     offsetof(struct api_disk, requests)},
	    {"hv_disk_reads_total", "Read requests.", offsetof(struct api_disk, reads)},
	    {"hv_disk_writes_total", "Write requests.", offsetof(struct api_disk, writes)},
	    {"hv_disk_read_bytes_total", "Bytes read.", offsetof(struct api_disk, bytes_read)},
	    {"hv_disk_written_bytes_total", "Bytes written.",
	     offsetof(struct api_disk, bytes_written)},
	    {"hv_disk_errors_total", "Requests that failed.", offsetof(struct api_disk, errors)},
	};
	for (size_t m = 0; m < sizeof(disk_metrics) / sizeof(disk_metrics[0]); m++) {
		family(&t, disk_metrics[m].name, "counter", disk_metrics[m].help);
		for (unsigned i = 0; i < n; i++) {
		const struct api_vm *vm = snap_at(i);
			for (unsigned d = 0; d < vm->ndisks && d < API_DISKS; d++) {
				const struct api_disk *disk = &vm->disks[d];
				uint64_t v;
				memcpy(&v, (const char *)disk + disk_metrics[m].off, sizeof(v));
				sample_vm(&t, disk_metrics[m].name, vm);
				label(&t, "disk", disk->name, false);
				u64_value(&t, v);
			}
		}
	}

	struct port_pass pp = {.t = &t};
	family(&t, "hv_port_frames_total", "counter", "Frames through a virtual switch port.");
	pp.what = 0;
	api_for_each_port(port_metric, &pp);
	family(&t, "hv_port_bytes_total", "counter", "Bytes through a virtual switch port.");
	pp.what = 1;
	api_for_each_port(port_metric, &pp);
	family(&t, "hv_port_dropped_frames_total", "counter", "Frames a port's switch dropped.");
	pp.what = 2;
	api_for_each_port(port_metric, &pp);

	if (t.overflow) {
		api_error(r, 500, "the metrics do not fit in a response");
		r->too_small = true;
		return;
	}
	r->status = 200;
	r->content_type = API_METRICS_TYPE;
	r->len = t.len;
}

/* ---- routing ---- */

/*
 * Splits the path after its leading '/' into percent-decoded segments; -1
 * (400) for a bad escape, 0 for an empty segment or too many (404).
 */
static int split(struct http_str path, char seg[SEGMENTS][API_NAME_LEN * 2], unsigned *n)
{
	*n = 0;
	size_t start = 1;
	for (size_t i = 1; i <= path.len; i++) {
		if (i < path.len && path.p[i] != '/')
			continue;
		if (i == start || *n == SEGMENTS)
			return 0;
		if (!http_pct_decode((struct http_str){path.p + start, i - start}, seg[*n],
				     sizeof(seg[0])))
			return i - start >= sizeof(seg[0]) ? 0 : -1;
		(*n)++;
		start = i + 1;
	}
	return 1;
}

/* The routes: what a path names, and the method it takes. */
enum route { R_NONE, R_METRICS, R_HOST, R_VMS, R_VM, R_CONSOLE, R_VERB };

static enum route route_of(char seg[SEGMENTS][API_NAME_LEN * 2], unsigned n, enum vm_verb *v)
{
	if (n == 1 && strcmp(seg[0], "metrics") == 0)
		return R_METRICS;
	if (n < 2 || strcmp(seg[0], "v1") != 0)
		return R_NONE;
	if (n == 2 && strcmp(seg[1], "host") == 0)
		return R_HOST;
	if (strcmp(seg[1], "vms") != 0)
		return R_NONE;
	if (n == 2)
		return R_VMS;
	if (n == 3)
		return R_VM;
	if (n == 4 && strcmp(seg[3], "console") == 0)
		return R_CONSOLE;
	if (n == 4 && verb_of(seg[3], v))
		return R_VERB;
	return R_NONE;
}

void api_handle(const struct http_request *req, struct api_response *r)
{
	static char seg[SEGMENTS][API_NAME_LEN * 2];
	unsigned n;
	enum vm_verb v = VM_VERB_SHUTDOWN;
	bool get = req->method == HTTP_GET, post = req->method == HTTP_POST;

	r->allow = NULL;
	r->len = 0;
	int ok = split(req->path, seg, &n);
	if (ok < 0) {
		api_error(r, 400, "a bad percent escape in the path");
		return;
	}
	enum route route = ok ? route_of(seg, n, &v) : R_NONE;
	switch (route) {
	case R_NONE:
		api_error(r, 404, "no such path (the API is under /v1/: vms, vms/NAME, host; and "
				  "/metrics)");
		break;
	case R_METRICS:
		if (get)
			metrics(r);
		else
			method_not_allowed(r, "GET");
		break;
	case R_HOST:
		if (get)
			host(r);
		else
			method_not_allowed(r, "GET");
		break;
	case R_VMS:
		if (get)
			list_vms(r);
		else if (post)
			create_vm(req, r);
		else
			method_not_allowed(r, "GET, POST");
		break;
	case R_VM:
		if (get)
			show_vm(r, seg[2]);
		else
			method_not_allowed(r, "GET");
		break;
	case R_CONSOLE:
		if (get)
			console(req, r, seg[2]);
		else
			method_not_allowed(r, "GET");
		break;
	case R_VERB:
		if (post)
			run_verb(r, seg[2], v);
		else
			method_not_allowed(r, "POST");
		break;
	}
}
