/*
 * The VM's PCI bus (guest/pci/vpci.h) on its port and MMIO buses:
 * mechanism #1 at 0xcf8/0xcfc-0xcff (0xcf9 stays the platform's reset
 * control), ECAM at VPCI_ECAM_BASE, the memory and I/O windows that BARs
 * decode in, INTx onto IOAPIC pins 16-19 and MSI into the local APICs
 * (vplatform_set_gsi, vplatform_deliver_msi).
 *
 * Locking: one spinlock, the bus lock, around every call on the bus. The
 * order is a device's own lock, then the bus lock, then the platform lock:
 * a device may hold its lock while it calls vm_pci_msix_notify and the
 * other wrappers here (from any vCPU's exit, any core). The bus never calls
 * a device with the bus lock held: BAR accesses outside the MSI-X table and
 * PBA, and config_changed, are called after it drops it (so a device's
 * handlers may take the device's lock, and may race a BAR move or a
 * COMMAND write by another vCPU, as on hardware). Code that calls vpci.h
 * functions on a plugged function directly takes vm_pci_lock first.
 * The lock is a plain spinlock, taken with interrupts on (exits are
 * handled so): nothing may take it from a host interrupt handler, which
 * could interrupt its holder on the same core; a host driver's completion
 * interrupt hands the notify to thread context first.
 */
#ifndef HV_VM_VM_PCI_H
#define HV_VM_VM_PCI_H

#include <stdbool.h>
#include <stddef.h>

#include "guest/pci/vpci.h"
#include "kernel/vm/vm.h"

/* The bus with its host bridge, registered on the VM's buses; vm->pci. */
int vm_pci_init(struct vm *vm);
/* Every function as at power-on (a reboot; no vCPU runs). */
void vm_pci_reset(struct vm *vm);
void vm_pci_free(struct vm *vm);

/*
 * Plugs a device's function (BARs and capabilities already added) into
 * `slot` (1-31, 0: the first free one) at VM build time. Returns the slot,
 * or -1 (taken, windows full).
 */
int vm_pci_add(struct vm *vm, struct vpci_func *f, unsigned slot);

void vm_pci_lock(struct vm *vm);
void vm_pci_unlock(struct vm *vm);
/* vpci_msix_notify, vpci_msi_notify and vpci_func_set_intx under the bus lock. */
bool vm_pci_msix_notify(struct vm *vm, struct vpci_func *f, unsigned vec);
bool vm_pci_msi_notify(struct vm *vm, struct vpci_func *f, unsigned vec);
void vm_pci_set_intx(struct vm *vm, struct vpci_func *f, bool level);

/*
 * The function in `slot` as one line for `pci-list` (no newline). Returns
 * false when the slot is empty or the VM has no bus (released).
 */
bool vm_pci_describe(struct vm *vm, unsigned slot, char *buf, size_t len);

#endif
