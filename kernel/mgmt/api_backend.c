/* The management API's view of the hypervisor (api_backend.h), for the kernel. */
#include "kernel/mgmt/api_backend.h"

#include <stdarg.h>

#include "kernel/console/verbs.h"
#include "kernel/config/vmconfig.h"
#include "kernel/cpu/features.h"
#include "kernel/cpu/percpu.h"
#include "kernel/cpu/smp.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mgmt/mgmt.h"
#include "kernel/mm/mm.h"
#include "kernel/net/netdev.h"
#include "kernel/net/switch.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/vm.h"
#include "kernel/vm/vm_exit.h"
#include "kernel/vm/vm_virtio.h"
#include "kernel/vm/vmm.h"

static void fill_vm(const struct vm *vm, struct api_vm *out)
{
	memset(out, 0, sizeof(*out));
	strlcpy_hv(out->name, vm->name, sizeof(out->name));
	out->id = vm->id;
	out->state = vmm_state_name(vm);
	vm_verb_last_stop(vm, out->last_stop, sizeof(out->last_stop));
	strlcpy_hv(out->path, vm->path, sizeof(out->path));
	out->vcpus = vm->nvcpus;
	out->memory_mib = vm->ram_bytes >> 20;
	out->overhead_bytes = vm->overhead_bytes;
	out->time_ms = vm_verb_time_ms(vm);
	out->restarts = vm->restarts;
	uint64_t exits[EXIT_REASON_COUNT] = {0};
	_Static_assert(API_VCPUS >= VCPU_MAX, "the API shows every vCPU");
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		const struct vcpu *v = vm->vcpus[i];
		if (!v)
			continue;
		if (i < API_VCPUS) {
			struct api_vcpu *a = &out->vcpu[i];
			a->state = vm_vcpu_state_name(v);
			a->cpu = v->active ? (int)v->se.cpu : -1;
			a->time_ms = vmm_vcpu_time_ms(v);
			a->steal_ms = vmm_vcpu_steal_ms(v);
			a->exits = v->exits_total;
		}
		for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
			exits[r] += v->exits[r];
	}
	for (unsigned r = 0; r < EXIT_REASON_COUNT && r < API_EXIT_KINDS; r++) {
		out->exits[r].name = vm_exit_reason_name((enum vm_exit_reason)r);
		out->exits[r].n = exits[r];
		out->nexits++;
	}
	if (vm->virtio && !vm->released) {
		struct vm_disk_stats d[API_DISKS];
		unsigned n = vm_virtio_disk_stats(vm, d, API_DISKS);
		for (unsigned i = 0; i < n; i++) {
			struct api_disk *a = &out->disks[i];
			strlcpy_hv(a->name, d[i].vdev, sizeof(a->name));
			a->requests = d[i].requests;
			a->reads = d[i].reads;
			a->writes = d[i].writes;
			a->flushes = d[i].flushes;
			a->bytes_read = d[i].bytes_read;
			a->bytes_written = d[i].bytes_written;
			a->errors = d[i].errors;
		}
		out->ndisks = n;
	}
}

/* A VM file defined at boot (autostart = 0) whose VM does not exist: `list` shows it "off". */
static void fill_defined(const struct vmm_defined *d, struct api_vm *out)
{
	memset(out, 0, sizeof(*out));
	strlcpy_hv(out->name, d->name, sizeof(out->name));
	out->state = "off";
	strlcpy_hv(out->path, d->path, sizeof(out->path));
	out->vcpus = d->vcpus;
	out->memory_mib = d->memory_mib;
}

unsigned api_vm_count(void)
{
	const struct vmm_defined *d;
	return vm_count + (unsigned)vmm_defined(&d);
}

bool api_vm_at(unsigned i, struct api_vm *out)
{
	if (i < vm_count) {
		fill_vm(vms[i], out);
		return true;
	}
	const struct vmm_defined *d;
	size_t n = vmm_defined(&d);
	i -= vm_count;
	if (i >= n || vmm_find(d[i].name))
		return false;
	fill_defined(&d[i], out);
	return true;
}

bool api_vm_get(const char *name, struct api_vm *out)
{
	const struct vm *vm = vmm_find(name);
	if (!vm)
		return false;
	fill_vm(vm, out);
	return true;
}

struct nic_ctx {
	struct json_out *j;
	const char *port;
};

static void nic_port(void *ctx, const struct net_switch *sw, const struct net_port *p)
{
	struct nic_ctx *n = ctx;
	if (strcmp(p->name, n->port) != 0)
		return;
	json_kv_str(n->j, "switch", net_switch_name(sw));
	json_kv_str(n->j, "port", p->name);
	json_kv_u64(n->j, "in_frames", p->stats.in_frames);
	json_kv_u64(n->j, "in_bytes", p->stats.in_bytes);
	json_kv_u64(n->j, "out_frames", p->stats.out_frames);
	json_kv_u64(n->j, "out_bytes", p->stats.out_bytes);
	json_kv_u64(n->j, "dropped", p->stats.in_errors + p->stats.spoofed + p->stats.out_drops);
}

/*
 * The VM's NICs: each `vif` as written and as parsed (MAC, switch), with the
 * counters of its switch port (vifname, or NAME.N) while the VM has it.
 */
void api_vm_nics_json(const char *name, struct json_out *j)
{
	const struct vm *vm = vmm_find(name);
	json_arr_begin(j);
	for (unsigned i = 0; vm && vm->config && i < vm->config->vif_count; i++) {
		const struct vm_vif *vif = &vm->config->vifs[i];
		char port[48], mac[18];
		json_obj_begin(j);
		json_kv_u64(j, "index", i);
		json_kv_str(j, "spec", vm->config->vif[i]);
		net_format_mac(mac, vif->mac);
		json_kv_str(j, "mac", mac);
		json_kv_str(j, "bridge", vif->bridge);
		if (vif->vifname[0])
			strlcpy_hv(port, vif->vifname, sizeof(port));
		else
			format(port, sizeof(port), "%s.%u", vm->name, i);
		struct nic_ctx ctx = {.j = j, .port = port};
		net_switch_for_each_port(nic_port, &ctx);
		json_obj_end(j);
	}
	json_arr_end(j);
}

enum verb_result api_vm_verb(const char *name, enum vm_verb v, char *err, size_t errlen)
{
	return vm_verb_run(name, v, err, errlen);
}

enum verb_result api_vm_create_module(const char *path, char *name, size_t namelen, char *err,
				      size_t errlen)
{
	enum verb_result r = vm_verb_create(path, err, errlen);
	name[0] = 0;
	for (unsigned k = 0; r == VERB_OK && k < vm_count; k++)
		if (vms[k]->state != VM_STOPPED && strcmp(vms[k]->path, path) == 0)
			strlcpy_hv(name, vms[k]->name, namelen);
	return r;
}

enum verb_result api_vm_create_text(const char *text, size_t len, char *name, size_t namelen,
				    char *err, size_t errlen)
{
	return vmm_create_text("request body", text, len, name, namelen, err, errlen) < 0
		       ? VERB_FAILED
		       : VERB_OK;
}

bool api_vm_console(const char *name, uint64_t since, char *buf, size_t size, size_t *n,
		    uint64_t *from, uint64_t *total)
{
	struct vm *vm = vmm_find(name);
	if (!vm)
		return false;
	*n = vm_console_read(vm, since, buf, size, from, total);
	return true;
}

void api_host_get(struct api_host *h)
{
	struct mm_stats ms;
	memset(h, 0, sizeof(*h));
	strlcpy_hv(h->backend, hvm ? hvm->name : "none", sizeof(h->backend));
	format(h->cpu, sizeof(h->cpu), "%s %s", host_cpu.vendor, host_cpu.brand);
	host_virt_features(h->features, sizeof(h->features));
	h->cores_online = cpus_online();
	h->cores_listed = smp_cpus_listed();
	mm_get_stats(&ms);
	h->mem_managed = ms.managed_bytes;
	h->mem_free = ms.free_bytes;
	h->tsc_khz = tsc_khz();
	h->uptime_s = uptime_us() / 1000000;
	for (unsigned k = 0; k < vm_count; k++) {
		h->running += vms[k]->state == VM_RUNNING || vms[k]->state == VM_REBOOTING;
		h->paused += vms[k]->state == VM_PAUSED;
		h->stopped += vms[k]->state == VM_STOPPED;
	}
	mgmt_describe(h->mgmt, sizeof(h->mgmt));
}

struct port_ctx {
	void (*fn)(void *ctx, const struct api_port *p);
	void *ctx;
};

static void each_port(void *ctx, const struct net_switch *sw, const struct net_port *p)
{
	struct port_ctx *pc = ctx;
	static const char *const kinds[] = {[NET_PORT_VM] = "vm", [NET_PORT_UPLINK] = "uplink",
					    [NET_PORT_HOST] = "host"};
	struct api_port a = {
	    .sw = net_switch_name(sw),
	    .name = p->name,
	    .kind = p->kind <= NET_PORT_HOST ? kinds[p->kind] : "?",
	    .in_frames = p->stats.in_frames,
	    .in_bytes = p->stats.in_bytes,
	    .in_errors = p->stats.in_errors,
	    .spoofed = p->stats.spoofed,
	    .out_frames = p->stats.out_frames,
	    .out_bytes = p->stats.out_bytes,
	    .out_drops = p->stats.out_drops,
	};
	pc->fn(pc->ctx, &a);
}

void api_for_each_port(void (*fn)(void *ctx, const struct api_port *p), void *ctx)
{
	struct port_ctx pc = {.fn = fn, .ctx = ctx};
	net_switch_for_each_port(each_port, &pc);
}

uint64_t api_now_ms(void)
{
	return uptime_us() / 1000;
}

void api_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void *api_alloc(size_t size)
{
	return kmalloc(size);
}

void api_free(void *p)
{
	kfree(p);
}
