/*
 * Device assignment: host PCI functions given to a VM (`pci = [...]` in its
 * file), behind the IOMMU (kernel/iommu/iommu.h).
 *
 * At VM build (vm_passthru_init): each function is checked (the IOMMU is on
 * and covers it, the hypervisor does not drive it, no other VM has it, it
 * is an endpoint with MSI, MSI-X or a routable INTx, and a working reset
 * method), claimed,
 * reset, put in the VM's DMA domain (built from its guest-physical map:
 * the device reaches the VM's RAM and nothing else) and plugged into the
 * VM's PCI bus with a virtual config space (guest/pci/passthru.h). Any
 * failure refuses the whole VM with the reason; other VMs are untouched.
 *
 * While the VM runs: the guest's COMMAND goes to the host (bus mastering
 * off until the guest sets it; INTx enabled only while the guest allows it
 * and has MSI and MSI-X off); memory BARs are
 * mapped straight into the VM's nested tables, uncached, at the guest's BAR
 * addresses (moved when the guest moves them), except the MSI-X table/PBA
 * pages and sub-page BARs, which trap and are forwarded; I/O BARs trap and
 * are forwarded. The guest's MSI/MSI-X programming is emulated; each
 * enabled vector has a host vector (remapped through the IOMMU when it
 * remaps interrupts) whose handler raises deferred work that injects the
 * guest's own message (its masks and pending bits kept by the model).
 * INTx: the host GSI (pci_intx.h) gets a level-triggered IOAPIC pin and a
 * host vector shared by every function on it; the handler masks the pin,
 * the deferred work asserts the guest's INTA pin for each function whose
 * STATUS.INTERRUPT is set, and at the guest's EOI (vplatform_pt_intx) it is
 * checked again and the host pin unmasked once nobody waits for an EOI.
 *
 * On reboot (vm_passthru_reset) and on stop/destroy (vm_passthru_free) the
 * device is quiesced and reset; on hand-back it is quarantined: blocking
 * domain, MSI/MSI-X off, INTx off, bus mastering off, and only then is the
 * VM's RAM given back.
 */
#ifndef HV_VM_VM_PASSTHRU_H
#define HV_VM_VM_PASSTHRU_H

#include <stdbool.h>
#include <stddef.h>

struct vm;
struct vm_config;

/* Gives the VM its `pci` functions (after its PCI bus exists). 0, or -1 with the reason. */
int vm_passthru_init(struct vm *vm, char *err, size_t errlen);
/* A reboot: each function quiesced and reset (no vCPU runs; before the RAM is zeroed). */
void vm_passthru_reset(struct vm *vm);
/* Hand-back: quarantine, reset, release, domain destroyed. Before the VM's RAM is freed. */
void vm_passthru_free(struct vm *vm);

/* `pci-assignable-list`: one line per host function, whether a VM can have it and why not. */
void vm_passthru_assignable_list(void (*line)(void *ctx, const char *s), void *ctx);

#endif
