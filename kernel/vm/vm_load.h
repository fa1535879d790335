/* Loading a VM's kernel and setting up its vCPUs' entry states. */
#ifndef HV_VM_VM_LOAD_H
#define HV_VM_VM_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/boot/bootinfo.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/vm.h"

/*
 * Loads kernel (and ramdisk, or NULL) into the VM's RAM by the boot protocol
 * its header names, and sets vCPU 0's entry state. 0, or -1 with err.
 */
int vm_load_kernel(struct vm *vm, const struct boot_module *kernel,
		   const struct boot_module *ramdisk, char *err, size_t errlen);

/* Real mode at CS = vector << 8, IP 0: where a STARTUP IPI starts an AP. */
void vm_sipi_entry_state(struct vcpu_entry_state *s, uint8_t vector);

/* INIT puts an AP back to waiting for its STARTUP IPI; a SIPI while waiting starts it. */
void vm_check_startup(struct vcpu *v);

#endif
