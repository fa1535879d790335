/*
 * The VM manager: VMs declared by the boot modules (.cfg files) are
 * created, handed to the scheduler, steered by the console (pause, reboot,
 * destroy, move a vCPU) and given back their memory and cores once stopped.
 * Every function here runs on the boot CPU (boot path and shell).
 */
#ifndef HV_VM_VMM_H
#define HV_VM_VMM_H

#include <stdbool.h>
#include <stddef.h>

#include "kernel/boot/bootinfo.h"
#include "kernel/vm/vm.h"

/*
 * Creates and starts every autostart VM; returns how many started.
 * boot_cpu_ok: CPU 0 runs vCPUs too, between turns of the console (test
 * harnesses); otherwise it keeps the console for itself.
 */
unsigned vmm_start(const struct boot_info *bi, bool boot_cpu_ok);
/* True when no VM is running, paused or rebooting. */
bool vmm_all_stopped(void);
/*
 * Prints each VM's exit counts and the summary line; true if all ended well
 * (code 0 or poweroff) and no VM file was rejected at boot.
 */
bool vmm_report(void);

/* Housekeeping, called often: forced shutdowns due, memory of stopped VMs given back. */
void vmm_poll(void);

/* The console's verbs. Each returns 0, or -1 with a one-line reason in err. */
struct vm *vmm_find(const char *name);
/* The boot module at `path` (GRUB's module2 path), or NULL. */
const struct boot_module *vmm_find_module(const char *path);
/* Creates and starts a VM from the boot module at path (errors are printed). */
int vmm_create(const char *path, char *err, size_t errlen);
/*
 * Creates and starts a VM from the text of a VM file that is not a boot
 * module (the management API's POST /v1/vms); label names it in messages
 * ("api:web.cfg"). Its name goes to name. It is not remembered for `list`
 * once gone, as a boot module's VM is.
 */
int vmm_create_text(const char *label, const char *text, size_t len, char *name, size_t namelen,
		    char *err, size_t errlen);
int vmm_destroy(struct vm *vm, char *err, size_t errlen);
/* Asks the guest to power off; forces it off after timeout_ms. */
int vmm_shutdown(struct vm *vm, unsigned timeout_ms, char *err, size_t errlen);
int vmm_reboot(struct vm *vm, char *err, size_t errlen);
int vmm_pause(struct vm *vm, char *err, size_t errlen);
int vmm_unpause(struct vm *vm, char *err, size_t errlen);
int vmm_vcpu_pin(struct vm *vm, unsigned vcpu, unsigned cpu, char *err, size_t errlen);

/* VM files that checked out but were not started (autostart = 0), for `list`. */
struct vmm_defined {
	char name[VM_NAME_LEN];
	char path[VM_PATH_LEN];
	unsigned vcpus, weight, cap;
	uint64_t memory_mib;
};
size_t vmm_defined(const struct vmm_defined **out);
/* The state as `list` shows it: running, blocked, paused, rebooting, stopped. */
const char *vmm_state_name(const struct vm *vm);
/* A vCPU's CPU time (time it held a core) in milliseconds, up to now. */
uint64_t vmm_vcpu_time_ms(const struct vcpu *v);
/* Its steal time: runnable, but its core ran another vCPU (or its VM's cap held it). */
uint64_t vmm_vcpu_steal_ms(const struct vcpu *v);

#endif
