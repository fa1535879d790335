/* See iommu_selftest.h. QEMU's edu device: docs/specs/edu.rst in QEMU's tree. */
#include "kernel/iommu/iommu_selftest.h"


#include "ept/gpa_map.h"
#include "kernel/acpi/acpi.h"
#include "include/x86.h"
#include "kernel/cmdline.h"
#include "kernel/cpu/deferred.h"
#include "kernel/cpu/irqvec.h"
#include "kernel/iommu/iommu.h"
#include "kernel/iommu/vtd.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/pci/pci.h"
#include "kernel/pci/pci_intx.h"
#include "kernel/time/tsc.h"

#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_COUNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_START 1u
#define EDU_DMA_TO_RAM 2u
#define EDU_BUF 0x40000u /* the device's own buffer, in its DMA address space */
/* QEMU 7.2's edu refuses (aborts on) a transfer that ends exactly at its buffer's end */
#define XFER 2048u

extern char __image_start[];

static volatile uint8_t *regs;
static volatile unsigned interrupts;

static void w64(unsigned off, uint64_t v)
{
	*(volatile uint64_t *)(regs + off) = v;
}

static uint32_t r32(unsigned off)
{
	return *(volatile uint32_t *)(regs + off);
}

static void w32(unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(regs + off) = v;
}

/* Waits up to ms for cond(), running deferred work meanwhile (a safe point: no locks held). */
static bool wait_for(bool (*cond)(void), unsigned ms)
{
	uint64_t deadline = uptime_us() + ms * 1000ull;
	while (!cond()) {
		if (uptime_us() > deadline)
			return cond();
		deferred_run();
		cpu_relax();
	}
	return true;
}

static bool dma_idle(void)
{
	return !(r32(EDU_DMA_CMD) & EDU_DMA_START);
}

static bool dma(uint64_t src, uint64_t dst, uint32_t len, bool to_ram)
{
	w64(EDU_DMA_SRC, src);
	w64(EDU_DMA_DST, dst);
	w64(EDU_DMA_COUNT, len);
	w32(EDU_DMA_CMD, EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0));
	return wait_for(dma_idle, 3000); /* edu finishes a DMA 100 ms (virtual) after it starts */
}

static uint64_t fault_count(void)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < vtd_nunits; i++)
		n += vtd_units[i].faults;
	return n;
}

static uint64_t faults_before;

static bool new_fault(void)
{
	/* the fault interrupt raises the work; polling too covers a lost interrupt */
	for (unsigned i = 0; i < vtd_nunits; i++)
		vtd_fault_poll(&vtd_units[i]);
	return fault_count() > faults_before;
}

static bool burst_over(void)
{
	for (unsigned i = 0; i < vtd_nunits; i++)
		if (vtd_units[i].burst_logged)
			return false;
	return true;
}

static void edu_irq(void *arg)
{
	(void)arg;
	w32(EDU_IRQ_ACK, r32(EDU_IRQ_STATUS));
	interrupts++;
}

static unsigned irqs_before;

static bool got_irq(void)
{
	return interrupts > irqs_before;
}

#define VM_CHUNKS 2 /* 4 MiB of "guest RAM" */

static uint64_t chunk_alloc(void *ctx)
{
	(void)ctx;
	return frame_alloc_contig(&host_frames, GPA_CHUNK_SIZE / FRAME_SIZE, GPA_CHUNK_SIZE);
}

static void chunk_free(void *ctx, uint64_t hpa)
{
	(void)ctx;
	frame_free_contig(&host_frames, hpa, GPA_CHUNK_SIZE / FRAME_SIZE);
}

static bool vm_domain_check(struct pci_dev *d)
{
	static uint64_t chunks[VM_CHUNKS];
	struct gpa_map map;
	char err[128];
	if (gpa_map_init(&map, VM_CHUNKS * GPA_CHUNK_SIZE, chunks, chunk_alloc, chunk_free, NULL,
			 phys_to_virt) < 0) {
		printk("iommu selftest: no memory for a VM's RAM; VM domain not checked\n");
		return true;
	}
	bool ok = false;
	struct iommu_domain *dom = iommu_domain_create(&map, "selftest", err, sizeof(err));
	if (!dom) {
		printk("iommu selftest: VM domain: %s\n", err);
		goto out;
	}
	if (iommu_attach(dom, d, err, sizeof(err)) < 0) {
		printk("iommu selftest: VM domain: attach: %s\n", err);
		iommu_domain_destroy(dom);
		goto out;
	}
	bool owner_ok = iommu_owner(d) && strcmp(iommu_owner(d), "selftest") == 0;
	/* guest-physical 2 MiB + 0x3000 is the second chunk's fourth page */
	uint64_t gpa = GPA_CHUNK_SIZE + 0x3000, hpa;
	gpa_to_hpa(&map, gpa, &hpa);
	uint8_t *host = phys_to_virt(hpa), *first = phys_to_virt(map.chunk_hpa[0]);
	memset(host, 0, XFER);
	for (unsigned i = 0; i < XFER; i++)
		first[i] = (uint8_t)(i * 7 + 3);
	faults_before = fault_count();
	/* guest-physical 0 into the device, and out again to the other chunk */
	bool done = dma(0, EDU_BUF, XFER, false) && dma(EDU_BUF, gpa, XFER, true);
	bool landed = true;
	for (unsigned i = 0; i < XFER; i++)
		landed &= host[i] == (uint8_t)(i * 7 + 3);
	bool clean = fault_count() == faults_before;
	printk("iommu selftest: DMA to guest-physical %#llx in a VM's domain: %s\n",
	       (unsigned long long)gpa, done && landed && clean && owner_ok ? "ok" : "FAILED");
	/*
	 * The unit now caches that translation (QEMU keeps an IOTLB): take the
	 * second chunk out of the domain, and the same DMA must fault and leave
	 * the page alone, which only holds if the invalidation reached it.
	 */
	memset(host, 0xa5, XFER);
	faults_before = fault_count();
	bool unmapped = iommu_domain_unmap(dom, GPA_CHUNK_SIZE, GPA_CHUNK_SIZE) == 0;
	dma(EDU_BUF, gpa, XFER, true);
	bool stale = !wait_for(new_fault, 2000);
	for (unsigned i = 0; i < XFER; i++)
		stale |= host[i] != 0xa5;
	printk("iommu selftest: DMA after the page left the VM's domain: %s\n",
	       unmapped && !stale ? "blocked" : "NOT BLOCKED (stale IOTLB)");
	/* past the VM's RAM: faults, naming the VM */
	faults_before = fault_count();
	dma(EDU_BUF, VM_CHUNKS * GPA_CHUNK_SIZE, XFER, true);
	bool faulted = wait_for(new_fault, 2000);
	printk("iommu selftest: DMA past the VM's RAM: %s\n", faulted ? "blocked" : "NOT BLOCKED");
	iommu_domain_destroy(dom);
	bool blocked = iommu_owner(d) == NULL;
	ok = done && landed && clean && owner_ok && unmapped && !stale && faulted && blocked;
out:
	gpa_map_release(&map, chunk_free, NULL);
	return ok;
}

/*
 * 6. edu's INTx through the host IOAPIC with a remappable RTE (what INTx
 * passthrough needs), at the GSI the firmware's _PRT gives (pci_intx.h).
 */
#define IOREGSEL 0x00
#define IOWIN 0x10

static volatile uint32_t *ioapic;

static void ioapic_write(unsigned reg, uint32_t v)
{
	ioapic[IOREGSEL / 4] = reg;
	ioapic[IOWIN / 4] = v;
}

static bool intx_check(struct pci_dev *d)
{
	uint32_t gsi;
	uint8_t ioapic_id;
	uint64_t ioapic_addr;
	unsigned pin;
	char why[160];
	if (pci_intx_route(d, &gsi, &ioapic_id, &ioapic_addr, &pin, why, sizeof(why)) < 0) {
		printk("iommu selftest: INTx: FAILED (no route: %s)\n", why);
		return false;
	}
	ioapic = mm_map_mmio(ioapic_addr, 0x1000);
	uint32_t apic;
	int vec = irqvec_alloc(irqvec_pick_cpu(), edu_irq, NULL, &apic);
	uint64_t rte = 0;
	char err[96] = "";
	int r = vec < 0 || !ioapic ? -1
				  : iommu_ioapic_remap(ioapic_id, pin, (uint8_t)vec, apic, true, &rte,
						       err, sizeof(err));
	if (r != 0) {
		printk("iommu selftest: INTx through a remappable RTE: FAILED (%s)\n",
		       err[0] ? err : "no vector or IOAPIC");
		return false;
	}
	rte |= 1u << 13; /* PCI INTx: active low */
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) & ~PCI_CMD_INTX_DISABLE);
	ioapic_write(0x11 + 2 * pin, (uint32_t)(rte >> 32));
	ioapic_write(0x10 + 2 * pin, (uint32_t)rte);
	unsigned got = 0;
	for (unsigned round = 0; round < 2; round++) {
		/* twice: the second needs the first's EOI to have reached the IOAPIC */
		irqs_before = interrupts;
		w32(EDU_IRQ_RAISE, 1u << round);
		got += wait_for(got_irq, 2000);
	}
	ioapic_write(0x10 + 2 * pin, 1u << 16); /* masked again */
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_CMD_INTX_DISABLE);
	iommu_ioapic_release(ioapic_id, pin);
	irqvec_free(vec);
	printk("iommu selftest: edu INTx (GSI %u) through a remappable RTE (%#llx): %u of 2 "
	       "delivered\n",
	       gsi, (unsigned long long)rte, got);
	return got == 2;
}

void iommu_selftest(const char *cmdline)
{
	const char *v;
	size_t vlen;
	char why[128];
	if (!cmdline_find(cmdline, "test_iommu", &v, &vlen))
		return;
	struct pci_dev *d = NULL;
	for (size_t i = 0; i < pci_device_count && !d; i++)
		if (pci_devices[i].vendor == 0x1234 && pci_devices[i].device == 0x11e8)
			d = &pci_devices[i];
	if (!d) {
		printk("iommu selftest: no edu device (add -device edu)\n");
		return;
	}
	if (!iommu_covers(d, why, sizeof(why))) {
		printk("iommu selftest: skipped: %s\n", why);
		return;
	}
	regs = pci_probe_mmio_bar(d, 0, 4096, why, sizeof(why));
	if (!regs) {
		printk("iommu selftest: edu: %s\n", why);
		return;
	}
	bool ok = true;

	/* 1. allowed: a frame to the device and back into another frame, in the hypervisor domain */
	uint64_t src = frame_alloc_zeroed(1), dst = frame_alloc_zeroed(1), victim = frame_alloc_zeroed(1);
	if (!src || !dst || !victim || iommu_attach_hv(d, why, sizeof(why)) < 0) {
		printk("iommu selftest: setup failed: %s\n", why[0] ? why : "no memory");
		return;
	}
	uint8_t *s = phys_to_virt(src), *t = phys_to_virt(dst), *x = phys_to_virt(victim);
	for (unsigned i = 0; i < 4096; i++)
		s[i] = (uint8_t)(i * 7 + 3);
	faults_before = fault_count();
	bool done = dma(src, EDU_BUF, XFER, false) && dma(EDU_BUF, dst, XFER, true);
	bool same = memcmp(s, t, XFER) == 0;
	printk("iommu selftest: DMA in the hypervisor domain: %s\n",
	       done && same && fault_count() == faults_before ? "ok" : "FAILED");
	ok &= done && same && fault_count() == faults_before;

	/* 2. the hypervisor image is outside the domain: a read of it faults */
	faults_before = fault_count();
	uint64_t image = (uint64_t)(uintptr_t)__image_start;
	dma(image, EDU_BUF, 64, false);
	bool faulted = wait_for(new_fault, 2000);
	printk("iommu selftest: DMA read of the hypervisor image at %#llx: %s\n",
	       (unsigned long long)image, faulted ? "blocked" : "NOT BLOCKED");
	ok &= faulted;

	/* 3. blocked: a write into a host frame faults and leaves it as it was */
	iommu_block(d);
	faults_before = fault_count();
	memset(x, 0x5a, 4096);
	dma(EDU_BUF, victim, XFER, true);
	faulted = wait_for(new_fault, 2000);
	bool intact = true;
	for (unsigned i = 0; i < 4096; i++)
		intact &= x[i] == 0x5a;
	printk("iommu selftest: DMA write by a blocked device: %s, memory %s\n",
	       faulted ? "blocked" : "NOT BLOCKED", intact ? "unchanged" : "CHANGED");
	ok &= faulted && intact;

	/* 3b. a storm from the blocked device: one line, then a count when it calms down */
	uint64_t storm_start = fault_count();
	for (unsigned i = 0; i < 8; i++) {
		faults_before = fault_count();
		dma(EDU_BUF, victim, 64, true);
		wait_for(new_fault, 2000);
	}
	bool summed = wait_for(burst_over, 4000);
	printk("iommu selftest: a burst of %llu faults: %s\n",
	       (unsigned long long)(fault_count() - storm_start), summed ? "summed up" : "NOT SUMMED");
	ok &= summed && fault_count() - storm_start == 8;

	/* 4. a VM's domain: guest-physical addresses reach the VM's RAM, nothing past it */
	ok &= vm_domain_check(d);

	/* 5. its MSI through an interrupt-remapping entry */
	if (iommu_intremap(d)) {
		uint32_t apic;
		int vec = irqvec_alloc(irqvec_pick_cpu(), edu_irq, NULL, &apic);
		bool msi = vec >= 0 && pci_msi_enable(d, (uint8_t)vec, apic);
		uint32_t addr_lo = msi ? pci_read32(d, d->cap_msi + 4) : 0;
		irqs_before = interrupts;
		if (msi)
			w32(EDU_IRQ_RAISE, 1);
		bool got = msi && wait_for(got_irq, 2000);
		/* bit 4: the remappable format, so the unit translated it */
		printk("iommu selftest: edu MSI through an IRTE (address %#x): %s\n", addr_lo,
		       got && (addr_lo & 0x10) ? "delivered" : "FAILED");
		ok &= got && (addr_lo & 0x10);
		pci_msi_disable(d);
		if (vec >= 0)
			irqvec_free(vec);
		ok &= intx_check(d);
	} else {
		printk("iommu selftest: interrupt remapping is off for edu; MSI not checked\n");
	}
	pci_enable(d, true, false, false);
	pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) & ~PCI_CMD_MASTER);
	frame_free(&host_frames, src);
	frame_free(&host_frames, dst);
	frame_free(&host_frames, victim);
	printk("iommu selftest: %s\n", ok ? "ok" : "FAILED");
}
