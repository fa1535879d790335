/*
 * The VM verbs as one command layer, shared by the serial shell
 * (cmd_vm.c) and the management API (kernel/mgmt/api.c): the same vmm
 * calls, the same checks, the same error text, so the two cannot diverge.
 * The names and the result enum are pure (api.c is tested hosted); the
 * functions that act are in verbs.c.
 */
#ifndef HV_CONSOLE_VERBS_H
#define HV_CONSOLE_VERBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vm_verb { VM_VERB_SHUTDOWN, VM_VERB_DESTROY, VM_VERB_REBOOT, VM_VERB_PAUSE, VM_VERB_UNPAUSE,
	       VM_VERBS };

enum verb_result {
	VERB_OK,
	VERB_NO_VM,  /* no VM of that name (err says so) */
	VERB_FAILED, /* vmm refused: err says why (not running, already shutting down, ...) */
};

static inline const char *vm_verb_name(enum vm_verb v)
{
	static const char *const names[VM_VERBS] = {"shutdown", "destroy", "reboot", "pause",
						    "unpause"};
	return v < VM_VERBS ? names[v] : "?";
}

/* What the shell prints after "vm NAME " when the verb worked; NULL: nothing (vm_stop speaks). */
static inline const char *vm_verb_done(enum vm_verb v)
{
	switch (v) {
	case VM_VERB_REBOOT: return "restarted";
	case VM_VERB_PAUSE: return "paused";
	case VM_VERB_UNPAUSE: return "unpaused";
	default: return NULL;
	}
}

/* The error for a name no VM has, as both the shell and the API say it. */
#define VERB_NO_VM_FMT "no VM named '%.40s' (`list` shows them)"

/* Runs the verb on the VM named name; `shutdown` forces it off after SHELL_SHUTDOWN_TIMEOUT_MS. */
enum verb_result vm_verb_run(const char *name, enum vm_verb v, char *err, size_t errlen);
/* `create PATH` (a boot module). */
enum verb_result vm_verb_create(const char *path, char *err, size_t errlen);
/* A VM's CPU time: the sum of its vCPUs', in milliseconds. */
struct vm;
uint64_t vm_verb_time_ms(const struct vm *vm);
/* A vCPU's state as `vcpu-list` shows it: running, runnable, blocked, paused, halted, offline, stopped. */
struct vcpu;
const char *vm_vcpu_state_name(const struct vcpu *v);
/* The host's virtualization features as `info` shows them. */
void host_virt_features(char *buf, size_t size);
/* `list`'s last column for a stopped VM: "poweroff code=0"; "" for others. */
void vm_verb_last_stop(const struct vm *vm, char *buf, size_t size);

#endif
