/* The devices every VM gets, registered on its buses. */
#ifndef HV_VM_VM_DEVICES_H
#define HV_VM_VM_DEVICES_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/vm/vm.h"

#define VM_EXIT_PORT 0xf4 /* isa-debug-exit: a write of v stops the VM with code v */

int vm_devices_init(struct vm *vm);
/* Puts every device back in its power-on state (the VM reboots). */
void vm_devices_reset(struct vm *vm);
/* Frees the device models; the VM's vCPUs must have left for good. */
void vm_devices_free(struct vm *vm);
/*
 * Bytes typed at the VM's console: hvc0 when it has a virtio console, else
 * its serial line (COM1's receive FIFO). Returns how
 * many were taken; the rest do not fit until the guest reads.
 */
size_t vm_console_input(struct vm *vm, const uint8_t *bytes, size_t n);

#endif
