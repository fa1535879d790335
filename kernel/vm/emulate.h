/*
 * Instruction emulation for exits that need it: an access to MMIO (nested
 * page fault / EPT violation outside RAM) and string port I/O (INS/OUTS).
 * The instruction is fetched at the guest's RIP through its paging, decoded
 * and emulated here, the same way on both backends (QEMU TCG's SVM has no
 * decode assists, so nothing is taken from exit information that only some
 * CPUs give). Guest RAM, the VM's MMIO bus and its port bus are the
 * targets; every architectural fault met on the way (#PF while fetching or
 * walking, #GP/#SS on a segment or non-canonical address, #UD for an invalid
 * encoding) is injected into the guest.
 */
#ifndef HV_VM_EMULATE_H
#define HV_VM_EMULATE_H

#include "kernel/vm/vm.h"

/*
 * Each returns NULL when the exit was handled (the instruction emulated, or
 * an exception injected for the guest to handle), or a reason to stop the
 * VM: an instruction that is valid but not emulated, or guest memory that
 * cannot be reached (page tables outside RAM).
 */
const char *vm_emulate_mmio(struct vcpu *v, const struct vm_exit *e);
const char *vm_emulate_string_io(struct vcpu *v, const struct vm_exit *e);

#endif
