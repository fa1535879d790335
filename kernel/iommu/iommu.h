/*
 * The host's IOMMU (Intel VT-d), as the rest of the hypervisor sees it:
 * which devices can be given to VMs, DMA domains, and interrupt remapping.
 * The VT-d specifics (DMAR parsing, root/context tables, queued
 * invalidation, the fault handler, IRTEs) live behind this header in
 * kernel/iommu/; device assignment (kernel/vm/passthrough, guest config
 * space) uses only what is declared here.
 *
 * Domains:
 *   - the blocking domain: a context entry that is not present (or a
 *     domain with no mappings); every DMA faults. Devices nobody uses, and
 *     devices handed back from a VM (quarantine), sit here.
 *   - a VM domain: second-level tables that translate the VM's
 *     guest-physical addresses to the host frames backing its RAM, written
 *     from the VM's gpa_map (ept/gpa_map.h); nothing else is mapped, so a
 *     device given to a VM can reach that VM's RAM and nothing more.
 *   - the hypervisor domain: for the devices the hypervisor drives itself
 *     (NVMe, AHCI, NICs): an identity map of the RAM the frame allocator
 *     hands out (driver buffers, and VMs' RAM that block requests DMA
 *     into), without the hypervisor image; plus RMRR regions, identity.
 *     Devices with RMRRs sit there from boot and are never given to VMs.
 *
 * VM domains' tables are separate from EPT/NPT (ept/vtd_slpt.c says why)
 * and written once: a VM's guest-physical map does not change while it
 * exists, so only detach, destroy and iommu_domain_unmap need IOTLB
 * invalidations (done here).
 *
 * Interrupt remapping, when a unit has it: every MSI/MSI-X of a device
 * behind it goes through an IRTE with source-id checking (the host's own
 * through pci_msi.c; an assigned device's through iommu_msi_remap), and
 * compatibility-format interrupts are blocked (CFI off): the host programs
 * no IOAPIC pin, and INTx of an assigned device must use
 * iommu_ioapic_remap's remappable RTE.
 *
 * Locking: every function here may sleep-free spin on the IOMMU's own
 * lock; none may be called from an interrupt handler.
 */
#ifndef HV_KERNEL_IOMMU_IOMMU_H
#define HV_KERNEL_IOMMU_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pci_dev;
struct gpa_map;
struct iommu_domain;

/*
 * At boot, after ACPI and host PCI enumeration, before drivers bind
 * (pci_host_init calls it): finds and enables the units. acpi may be NULL.
 */
struct acpi_info;
void iommu_init(const struct acpi_info *acpi);
/*
 * The command line's `iommu=` (Xen's spelling, comma-separated): "off" (or
 * "0", "no"): VT-d left off; "no-qinval": invalidation through the
 * registers only (bring-up; also turns interrupt remapping off, which
 * needs the queue); "no-intremap": DMA remapping only. Before iommu_init.
 */
void iommu_options(const char *cmdline);

/*
 * For pci_host_init's binding: puts `d`, about to be driven by one of the
 * hypervisor's own drivers, in the hypervisor domain (owner "hv"). 0, or -1
 * with the reason (the device is then left blocked and must not be bound).
 * 0 without doing anything when DMA remapping is off.
 */
int iommu_attach_hv(struct pci_dev *d, char *err, size_t errlen);

/*
 * True when DMA remapping is on and covers `d` (a DRHD scope or
 * INCLUDE_PCI_ALL). Otherwise false, with the reason in words in `why`
 * ("no DMAR table: the firmware has VT-d off or the machine has none").
 * d == NULL asks about the host as a whole.
 */
bool iommu_covers(const struct pci_dev *d, char *why, size_t whylen);
/* True when interrupt remapping is on for `d`'s unit. */
bool iommu_intremap(const struct pci_dev *d);

/*
 * A domain for a VM: second-level tables for every RAM run of `map`
 * (read/write), and nothing else. NULL, with the reason in `err`, when
 * memory or the units' capabilities (address width, page sizes) do not
 * allow it. `name` is the VM's, for fault messages.
 */
struct iommu_domain *iommu_domain_create(const struct gpa_map *map, const char *name, char *err,
					 size_t errlen);
/* Detaches every device still attached (to the blocking domain), flushes, frees. */
void iommu_domain_destroy(struct iommu_domain *dom);
/*
 * Takes [gpa, gpa+size) (4 KiB aligned) out of dom, for a VM whose map
 * shrinks: the tables change, then every unit's IOTLB is invalidated for
 * that range (page-selective where the unit can) before it returns, so no
 * device reaches the old pages afterwards. 0, or -1 (no memory to split a
 * large page: nothing changed).
 */
int iommu_domain_unmap(struct iommu_domain *dom, uint64_t gpa, uint64_t size);

/*
 * Puts `d` in `dom` (context entry, context-cache and IOTLB invalidation
 * for its source-id). Devices behind a PCIe-to-PCI bridge share its
 * source-id and go together. 0, or -1 with the reason.
 */
int iommu_attach(struct iommu_domain *dom, struct pci_dev *d, char *err, size_t errlen);
/* Back to the blocking domain (quarantine), with the invalidations it needs. */
void iommu_block(struct pci_dev *d);

/*
 * Interrupt remapping for one MSI/MSI-X vector of `d`: programs the IRTE
 * for (host vector, destination APIC ID), with source-id checking for `d`,
 * and gives the remappable-format address/data to write into the device.
 * `slot` names the vector within the device (MSI-X entry index, or 0 for
 * MSI); the same (d, slot) reuses its IRTE. -1 when remapping is off for
 * `d`'s unit: the caller then composes a compatibility-format message
 * itself (pci_msi_message).
 */
int iommu_msi_remap(struct pci_dev *d, unsigned slot, uint8_t vector, uint32_t apic_id,
		    uint64_t *addr, uint32_t *data);
/* Frees every IRTE of `d` (its MSIs are off). */
void iommu_msi_release(struct pci_dev *d);

/*
 * Interrupt remapping for pin `pin` of the host IOAPIC with ID `ioapic_id`
 * (INTx of an assigned device): programs an IRTE for (vector, apic_id,
 * level or edge) that only that IOAPIC (its DMAR scope's source-id) may
 * use, and gives the remappable-format redirection entry to write (low
 * dword in bits 31:0, high in 63:32; polarity bit 13 and mask bit 16 are
 * the caller's to set). 1 when interrupt remapping is off (the caller
 * writes an ordinary RTE); -1, with the reason, when remapping is on but
 * cannot serve this IOAPIC (its interrupts would be blocked).
 */
int iommu_ioapic_remap(uint8_t ioapic_id, unsigned pin, uint8_t vector, uint32_t apic_id,
		       bool level, uint64_t *rte, char *err, size_t errlen);
/* Frees that pin's IRTE (after masking the pin). */
void iommu_ioapic_release(uint8_t ioapic_id, unsigned pin);

/* Who is using `d`'s DMA, for faults: the VM's name, "hv", or NULL. Set by attach. */
const char *iommu_owner(const struct pci_dev *d);

/* `iommu` verb / boot report: one line per unit and what it supports. */
void iommu_report(void (*line)(void *ctx, const char *s), void *ctx);
/* `iommu` verb: one line per PCI device: its unit, its domain (or blocked), its IRTEs. */
void iommu_report_devices(void (*line)(void *ctx, const char *s), void *ctx);

#endif
