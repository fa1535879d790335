/*
 * A host PCI function as a VM sees it when it is passed through (device
 * assignment): the configuration space is the model's (vpci.h), built from
 * the host function's, so nothing the guest writes reaches the host's
 * config space except through kernel/vm/vm_passthru.c's checks.
 *
 *   - IDs, class, revision and subsystem IDs: the host's.
 *   - BARs: the host BARs' types and sizes, at guest addresses the VM's bus
 *     lays out (the guest may move them); no expansion ROM (0x30 reads 0).
 *   - Capabilities, in the host's order, only these: PM (read-only, D0),
 *     PCI Express (read-only: the guest cannot start an FLR or change
 *     payload sizes), MSI (one vector, the host's address width and
 *     per-vector masking; the model keeps the guest's mask and pending
 *     bits) and MSI-X (the host's table and PBA offsets, at most
 *     VPCI_MSIX_MAX vectors; emulated by the model). Vendor-specific and
 *     every other capability are dropped; the extended space reads 0.
 *   - COMMAND: I/O, memory, bus master and INTx-disable are the guest's to
 *     write (the glue applies them to the host); every other register write
 *     is dropped.
 *   - INTx: when the host can route the function's INTx (`intx`), the
 *     guest sees pin INTA (its slot's GSI in the VM); the glue asserts it,
 *     and STATUS.INTERRUPT reads the host function's (ops->intx_status).
 *     Without, no pin; a function with neither MSI, MSI-X nor INTx is
 *     refused.
 *
 * Which parts of a memory BAR go straight to the host BAR (mapped in the
 * VM's nested tables) and which trap: the page(s) holding the MSI-X table
 * and PBA trap (the model emulates them, other registers there are
 * forwarded), and a BAR smaller than a page traps whole (a guest page must
 * not reach another BAR's registers). Pure logic.
 */
#ifndef HV_GUEST_PCI_PASSTHRU_H
#define HV_GUEST_PCI_PASSTHRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/pci/vpci.h"
#include "kernel/pci/pci.h"

#define VPT_PAGE 4096ull

/*
 * Builds f from host function d (its config space read through d->cfg, its
 * BARs as enumerated); `intx`: the guest gets an INTx pin. 0, or -1 with
 * the reason ("0000:01:00.0 has neither MSI nor MSI-X, and no INTx the
 * host can route").
 */
int vpt_func_build(struct vpci_func *f, const char *name, const struct pci_dev *d, bool intx,
		   const struct vpci_func_ops *ops, void *opaque, char *err, size_t errlen);

/*
 * The part of memory BAR `bar` that traps, as offsets [*lo, *hi); lo == hi:
 * none. host_nvec is the host table's size (the guest may be offered
 * fewer): every page of the host's table and PBA traps, so the guest never
 * reaches a host entry directly.
 */
void vpt_trap_window(const struct vpci_func *f, unsigned bar, unsigned host_nvec, uint64_t *lo,
		     uint64_t *hi);
/*
 * Whether [offset, offset+size) of BAR `bar` touches the host's MSI-X table
 * or PBA (host_nvec entries): such accesses the model handles or drops,
 * they are never forwarded.
 */
bool vpt_msix_host_range(const struct vpci_func *f, unsigned bar, unsigned host_nvec,
			 uint64_t offset, unsigned size);

/*
 * The pieces of memory BAR `bar` to map straight to the host: up to two
 * (before and after the trapped window), as offsets and lengths. Returns
 * how many.
 */
unsigned vpt_direct_ranges(const struct vpci_func *f, unsigned bar, unsigned host_nvec,
			   uint64_t off[2], uint64_t len[2]);

/*
 * The host function's MSI capability programmed with the message the
 * hypervisor chose for it (a host vector, or an interrupt-remapping
 * handle): disabled while it is written, one vector, the per-vector masks
 * (if any) clear, then enabled. vpt_host_msi_off disables it again.
 */
void vpt_host_msi_program(const struct pci_dev *h, uint64_t addr, uint32_t data);
void vpt_host_msi_off(const struct pci_dev *h);

#endif
