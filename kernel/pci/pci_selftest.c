/* See pci_selftest.h. QEMU's edu device: docs/specs/edu.rst in QEMU's tree. */
#include "kernel/pci/pci_selftest.h"

#include "include/x86.h"
#include "kernel/cmdline.h"
#include "kernel/cpu/irqvec.h"
#include "kernel/cpu/percpu.h"
#include "kernel/log.h"
#include "kernel/pci/pci.h"
#include "kernel/time/tsc.h"

#define EDU_VENDOR 0x1234
#define EDU_DEVICE 0x11e8
#define EDU_IDENT 0x00
#define EDU_LIVENESS 0x04 /* reads back the complement */
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64

struct edu {
	volatile uint32_t *regs;
	volatile unsigned interrupts;
	volatile unsigned on_cpu;
};

static void edu_interrupt(void *arg)
{
	struct edu *e = arg;
	uint32_t status = e->regs[EDU_IRQ_STATUS / 4];
	e->regs[EDU_IRQ_ACK / 4] = status; /* MSI is edge: acked for the next one */
	e->on_cpu = this_cpu()->index;
	e->interrupts++;
}

static struct pci_dev *find(uint16_t vendor, uint16_t device, uint8_t class_base, uint8_t class_sub)
{
	for (size_t i = 0; i < pci_device_count; i++) {
		struct pci_dev *d = &pci_devices[i];
		if (vendor ? d->vendor == vendor && d->device == device
			   : d->class_base == class_base && d->class_sub == class_sub)
			return d;
	}
	return NULL;
}

static void test_edu_msi(void)
{
	static struct edu e;
	struct pci_dev *d = find(EDU_VENDOR, EDU_DEVICE, 0, 0);
	if (!d) {
		printk("pci selftest: no edu device (add -device edu)\n");
		return;
	}
	e.regs = (volatile uint32_t *)pci_bar_map(d, 0);
	if (!e.regs) {
		printk("pci selftest: edu: BAR0 cannot be mapped\n");
		return;
	}
	pci_enable(d, true, false, true); /* an MSI is a memory write: bus mastering */
	e.regs[EDU_LIVENESS / 4] = 0x12345678;
	if ((e.regs[EDU_IDENT / 4] & 0xff) != 0xed || e.regs[EDU_LIVENESS / 4] != ~0x12345678u) {
		printk("pci selftest: edu: registers do not answer through the mapping\n");
		return;
	}
	unsigned cpu = irqvec_pick_cpu();
	uint32_t apic_id;
	int vec = irqvec_alloc(cpu, edu_interrupt, &e, &apic_id);
	if (vec < 0 || !pci_msi_enable(d, (uint8_t)vec, apic_id)) {
		printk("pci selftest: edu: no vector or no MSI\n");
		return;
	}
	for (unsigned round = 0; round < 2; round++) {
		unsigned before = e.interrupts;
		e.regs[EDU_IRQ_RAISE / 4] = 1u << round;
		uint64_t deadline = rdtsc() + tsc_khz() * 500;
		while (e.interrupts == before && (int64_t)(rdtsc() - deadline) < 0)
			cpu_relax();
	}
	printk("pci selftest: edu MSI vector %#x to CPU %u: %u interrupts taken on CPU %u, "
	       "counted %llu\n",
	       vec, cpu, e.interrupts, e.on_cpu, (unsigned long long)irqvec_count(vec));
	pci_msi_disable(d);
	irqvec_free(vec);
}

static void test_nvme_msix(void)
{
	struct pci_dev *d = find(0, 0, PCI_CLASS_STORAGE, PCI_SUBCLASS_NVM);
	if (!d || d->driver)
		return; /* none, or a driver owns it */
	unsigned n = pci_msix_enable(d);
	if (!n) {
		printk("pci selftest: nvme: MSI-X cannot be enabled\n");
		return;
	}
	uint32_t where = pci_read32(d, d->cap_msix + 4);
	volatile uint32_t *bar = (volatile uint32_t *)pci_bar_map(d, where & 7);
	bool ok = bar != NULL && pci_msix_set(d, 0, 0x41, cpus[0]->apic_id);
	if (ok) {
		volatile uint32_t *ent = bar + (where & ~7u) / 4;
		uint64_t addr;
		uint32_t data;
		pci_msi_message(cpus[0]->apic_id, 0x41, &addr, &data);
		ok = ent[0] == (uint32_t)addr && ent[1] == (uint32_t)(addr >> 32) && ent[2] == data &&
		     (ent[3] & 1) == 0 && (ent[7] & 1) == 1; /* entry 1 still masked */
	}
	uint16_t ctrl = pci_read16(d, d->cap_msix + 2);
	printk("pci selftest: nvme MSI-X %u vectors, enabled %s, function masked %s, entry 0 %s\n",
	       n, ctrl & 0x8000 ? "yes" : "no", ctrl & 0x4000 ? "yes" : "no",
	       ok ? "reads back" : "WRONG");
	pci_msix_mask(d, 0, true);
	pci_msi_disable(d);
}

/* ivshmem-plain's BAR2 is plain RAM: a large 64-bit BAR the firmware may place above RAM. */
static void test_ivshmem_bar(void)
{
	struct pci_dev *d = find(0x1af4, 0x1110, 0, 0);
	if (!d)
		return;
	const struct pci_bar *b = &d->bar[2];
	volatile uint32_t *p = (volatile uint32_t *)pci_bar_map(d, 2);
	bool ok = false;
	if (p) {
		pci_enable(d, true, false, false);
		volatile uint32_t *last = p + b->size / 4 - 1;
		*p = 0x600dcafe;
		*last = 0x5eed1e55;
		ok = *p == 0x600dcafe && *last == 0x5eed1e55;
	}
	printk("pci selftest: ivshmem BAR2 %#llx+%#llx %s\n", (unsigned long long)b->base,
	       (unsigned long long)b->size, ok ? "reads back" : "WRONG");
}

void pci_selftest(const char *cmdline)
{
	const char *v;
	size_t len;
	if (!cmdline_find(cmdline, "test_pci_msi", &v, &len))
		return;
	test_edu_msi();
	test_nvme_msix();
	test_ivshmem_bar();
}
