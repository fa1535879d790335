/*
 * What the management API (api.c, http_conn.c) asks of the rest of the
 * hypervisor: a thin layer of plain data, so that the parser, the
 * connection and the routing are tested hosted against a fake (the unit
 * tests implement these functions) and the kernel's side stays in one file
 * (api_backend.c). Everything here runs in the management context (lwIP's,
 * on the boot CPU; see mgmt.h).
 */
#ifndef HV_MGMT_API_BACKEND_H
#define HV_MGMT_API_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/console/verbs.h"
#include "kernel/mgmt/json.h"

#define API_NAME_LEN 32
#define API_VCPUS 512 /* VCPU_MAX: every vCPU of the largest VM */
#define API_EXIT_KINDS 48
#define API_DISKS 8

struct api_count {
	const char *name; /* static */
	uint64_t n;
};

struct api_vcpu {
	const char *state; /* as `vcpu-list` says it */
	int cpu;	   /* the core whose run queue holds it; -1: none */
	uint64_t time_ms, steal_ms, exits;
};

struct api_disk {
	char name[8]; /* xvda */
	uint64_t requests, reads, writes, flushes, bytes_read, bytes_written, errors;
};

struct api_vm {
	char name[API_NAME_LEN];
	unsigned id;	   /* 0: defined by a boot module but not created */
	const char *state; /* `list`'s: running, blocked, paused, rebooting, stopped; "off" */
	char last_stop[48]; /* "poweroff code=0" for a stopped VM, else "" */
	char path[128];	    /* its VM file */
	unsigned vcpus;
	uint64_t memory_mib;
	uint64_t overhead_bytes; /* host memory beyond its RAM (kernel/vm/vm.h) */
	uint64_t time_ms;
	unsigned restarts;
	struct api_vcpu vcpu[API_VCPUS]; /* vcpus of them (at most API_VCPUS) */
	unsigned nexits;		 /* exits by reason, summed over its vCPUs */
	struct api_count exits[API_EXIT_KINDS];
	unsigned ndisks;
	struct api_disk disks[API_DISKS];
};

struct api_host {
	char backend[16];   /* "VMX", "SVM", "none" */
	char cpu[112];	    /* vendor and brand */
	char features[200]; /* as `info` says them */
	unsigned cores_online, cores_listed;
	uint64_t mem_managed, mem_free; /* bytes */
	uint64_t tsc_khz, uptime_s;
	unsigned running, paused, stopped;
	char mgmt[80]; /* mgmt_describe(), or "" */
};

/* A port of a virtual switch, for the metrics. */
struct api_port {
	const char *sw, *name, *kind; /* kind: vm, uplink, host */
	uint64_t in_frames, in_bytes, in_errors, spoofed, out_frames, out_bytes, out_drops;
};

/* The VMs as `list` shows them: created ones, then those only defined; i < api_vm_count(). */
unsigned api_vm_count(void);
bool api_vm_at(unsigned i, struct api_vm *out);
bool api_vm_get(const char *name, struct api_vm *out);
/*
 * The hook for a VM's NICs in GET /v1/vms/NAME: writes one JSON array
 * (of objects: mac, bridge, port counters...) for the VM named name.
 */
void api_vm_nics_json(const char *name, struct json_out *j);

/* The verbs (verbs.h): the shell's layer, the shell's error text. */
enum verb_result api_vm_verb(const char *name, enum vm_verb v, char *err, size_t errlen);
/* A boot module (as `create PATH`); the new VM's name goes to name. */
enum verb_result api_vm_create_module(const char *path, char *name, size_t namelen, char *err,
				      size_t errlen);
/* From a VM file's text; the new VM's name goes to name. */
enum verb_result api_vm_create_text(const char *text, size_t len, char *name, size_t namelen,
				    char *err, size_t errlen);
/*
 * The VM's console output from offset since (vm_console_read); false if
 * there is no VM of that name.
 */
bool api_vm_console(const char *name, uint64_t since, char *buf, size_t size, size_t *n,
		    uint64_t *from, uint64_t *total);

void api_host_get(struct api_host *h);
void api_for_each_port(void (*fn)(void *ctx, const struct api_port *p), void *ctx);

/* The environment. */
uint64_t api_now_ms(void);
void api_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *api_alloc(size_t size);
void api_free(void *p);

#endif
