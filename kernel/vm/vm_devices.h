/* The devices every VM gets, registered on its buses. */
#ifndef HV_VM_VM_DEVICES_H
#define HV_VM_VM_DEVICES_H

#include "kernel/vm/vm.h"

#define VM_EXIT_PORT 0xf4 /* isa-debug-exit: a write of v stops the VM with code v */

int vm_devices_init(struct vm *vm);

#endif
