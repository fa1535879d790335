/*
 * Function-level reset of a host PCI function before and after a VM has
 * it (device assignment): which method the function offers, and doing it.
 *
 * The methods, in the order tried (as Linux's pci_reset_function and the
 * assignment stacks do; see IO-NOTES §3.2):
 *   1. FLR: PCIe Device Capabilities bit 28; Device Control bit 15 starts
 *      it (PCIe 4.0 §6.6.2), after Transactions Pending has cleared.
 *   2. AF FLR: the Advanced Features capability (id 0x13) with TP and FLR
 *      capable bits; AF Control bit 0 starts it.
 *   3. PM: D3hot then D0 through PMCSR, only when No_Soft_Reset is clear
 *      (PCI PM 1.2 §3.2.4: with it set, D3hot->D0 keeps the state).
 *   4. Secondary bus reset on the bridge above, only when the function is
 *      the only device on that bus (the reset hits every device there).
 * None of these: the function cannot be given to a VM.
 *
 * A reset clears BARs and COMMAND: pci_reset_do saves the header's BARs
 * and restores them (decoding and bus mastering left off). Pure logic over
 * pci_read/pci_write; the caller gives the delay.
 */
#ifndef HV_KERNEL_PCI_PCI_RESET_H
#define HV_KERNEL_PCI_PCI_RESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/pci/pci.h"

#define PCI_CAP_ID_AF 0x13

enum pci_reset_method {
	PCI_RESET_NONE,
	PCI_RESET_FLR,
	PCI_RESET_AF_FLR,
	PCI_RESET_PM,
	PCI_RESET_BUS,
};

/* What a function offers, read from its config space (pci_reset_probe) or made up by a test. */
struct pci_reset_facts {
	bool flr;	      /* PCIe DevCap bit 28 */
	bool af_flr;	      /* AF capability with TP and FLR */
	bool pm;	      /* a PM capability */
	bool pm_no_soft_reset; /* PMCSR bit 3: D3hot->D0 does not reset */
	bool has_bridge;      /* a bridge above (not on a root bus) */
	unsigned on_bus;      /* devices (any function) on the function's bus */
};

/* The first method the facts allow. */
enum pci_reset_method pci_reset_select(const struct pci_reset_facts *f);
/* "FLR", "AF FLR", "PM D3hot->D0", "secondary bus reset", "none" */
const char *pci_reset_method_name(enum pci_reset_method m);
/*
 * Why a function with these facts has no method, in words, for
 * pci-assignable-list and the refusal ("no FLR, no PM reset (No_Soft_Reset
 * set), shares its bus with 2 other devices").
 */
void pci_reset_why_none(const struct pci_reset_facts *f, char *buf, size_t len);

/*
 * Reads d's facts; devs[0..n) is every host function (for the bridge above
 * and the bus's other devices). *bridge gets the bridge above, or NULL.
 */
void pci_reset_probe(const struct pci_dev *d, const struct pci_dev *devs, size_t n,
		     struct pci_reset_facts *out, const struct pci_dev **bridge);

/*
 * Resets d by method m (bridge: the one above, for PCI_RESET_BUS), waiting
 * with delay_us as the specifications ask, and restores its BARs. 0, or -1
 * with the reason (the function did not come back, transactions stayed
 * pending).
 */
int pci_reset_do(struct pci_dev *d, const struct pci_dev *bridge, enum pci_reset_method m,
		 void (*delay_us)(uint64_t us), char *err, size_t errlen);

#endif
