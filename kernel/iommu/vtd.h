/*
 * Inside kernel/iommu: one VT-d remapping unit as the hypervisor drives it
 * (vtd_unit.c: bring-up, root/context tables, invalidation by queue or by
 * register; vtd_fault.c: fault reporting). iommu.c builds the contract of
 * iommu.h (domains, devices, interrupt remapping) on top.
 */
#ifndef HV_IOMMU_VTD_H
#define HV_IOMMU_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/cpu/deferred.h"
#include "kernel/iommu/vtd_hw.h"
#include "kernel/lib/spinlock.h"
#include "kernel/mm/pagetable.h"

#define VTD_IRT_ENTRIES 256 /* one 4 KiB table: plenty for the host's and assigned devices' MSIs */
#define VTD_IQ_ENTRIES 256  /* one 4 KiB queue (IQA.QS = 0) */

struct vtd_unit {
	int index;
	uint64_t base;
	uint16_t segment;
	volatile uint8_t *regs;
	uint32_t ver;
	uint64_t cap, ecap;
	unsigned levels; /* 3 or 4 */
	enum page_level largest;
	bool coherent; /* ECAP.C: walks snoop caches; else every table write is flushed */
	bool qi;       /* queued invalidation on */
	bool ir;       /* interrupt remapping on */
	bool x2apic;   /* IRTEs in the x2APIC format (EIM) */
	bool te;       /* DMA remapping on */
	bool no_qi, no_ir; /* the command line's iommu=no-qinval / no-intremap */
	bool no_x2apic;	   /* the DMAR's X2APIC_OPT_OUT: the firmware asks for xAPIC entries */
	char why[96];  /* what is off and why, for the report ("" when all is on) */

	spinlock_t lock; /* tables, queue and registers of this unit */
	uint64_t root_pa;
	uint64_t *root; /* 256 root entries, two qwords each */
	uint64_t ctx_pa[256]; /* context table of each bus, 0: none yet */

	uint64_t iq_pa;
	uint64_t *iq;
	unsigned iq_tail; /* next descriptor index */
	uint64_t wait_pa;
	volatile uint32_t *wait; /* the wait descriptors' status word */
	uint32_t wait_seq;
	unsigned qi_timeouts;

	uint64_t irt_pa;
	uint64_t *irt; /* VTD_IRT_ENTRIES entries, two qwords each */

	/* faults */
	int fault_vector;
	struct deferred fault_work;
	uint64_t faults;	    /* records read */
	uint64_t faults_suppressed; /* not logged (rate limit) */
	uint64_t last_log_us;
	unsigned burst_logged;
	uint64_t burst_keys[4]; /* (source-id, reason, page) logged in this burst */
};

extern struct vtd_unit vtd_units[];
extern unsigned vtd_nunits;
struct acpi_info;
extern const struct acpi_info *vtd_acpi; /* what iommu_init was given (the selftest's IOAPIC) */

/* Writes back cache lines of [p, p+len) when the unit's walks do not snoop. */
void vtd_flush(const struct vtd_unit *u, const void *p, size_t len);

/*
 * Brings a unit up to the point where its tables can be filled: registers
 * mapped, features checked, everything off, faults cleared, root table set,
 * interrupt-remapping table set, queue on, fault interrupt armed. 0, or -1
 * with u->why.
 */
int vtd_unit_setup(struct vtd_unit *u);
/* Global invalidations, then DMA remapping (TE) and interrupt remapping (IRE) on. */
int vtd_unit_enable(struct vtd_unit *u);

/* Sets the context entry for (bus, devfn) (levels/slpt from the unit's view of the domain). -1: no memory. */
int vtd_context_set(struct vtd_unit *u, uint8_t bus, uint8_t devfn, uint64_t slpt, uint16_t did);
/* Clears it (blocked); returns the DID it had, or -1 if none. */
int vtd_context_clear(struct vtd_unit *u, uint8_t bus, uint8_t devfn);

/* Invalidations (queue, else registers). Return 0, or -1 on timeout (logged). Call with u->lock held. */
int vtd_inv_context_device(struct vtd_unit *u, uint16_t did, uint16_t sid);
int vtd_inv_context_global(struct vtd_unit *u);
int vtd_inv_iotlb_domain(struct vtd_unit *u, uint16_t did);
int vtd_inv_iotlb_global(struct vtd_unit *u);
/* [addr, addr+size) of domain did: page-selective (PSI) where the unit has it, else the domain. */
int vtd_inv_iotlb_range(struct vtd_unit *u, uint16_t did, uint64_t addr, uint64_t size);
int vtd_inv_iec(struct vtd_unit *u, int index); /* index < 0: all */

/* Fault reporting (vtd_fault.c): interrupt and deferred work for u; false if no vector. */
bool vtd_fault_setup(struct vtd_unit *u);
/* Reads and clears u's fault records now (the deferred work; also for tests). */
void vtd_fault_poll(struct vtd_unit *u);
/* The owner of a source-id, for fault messages (iommu.c). */
const char *vtd_sid_owner(uint16_t segment, uint16_t sid);

/* iommu.c's view of devices, for iommu_intr.c */
struct pci_dev;
struct dmar_info;
extern struct dmar_info vtd_dmar;
extern bool vtd_have_dmar;
/* The unit whose scope covers d (set up or not), or NULL. */
struct vtd_unit *vtd_unit_of(const struct pci_dev *d);
/* The source-id d's DMA and MSIs arrive with (a PCIe-to-PCI bridge's, behind one). */
uint16_t vtd_dma_alias(const struct pci_dev *d);
/* How many IRTEs of u d holds (iommu_intr.c). */
unsigned vtd_irtes_of(const struct vtd_unit *u, const struct pci_dev *d);

#endif
