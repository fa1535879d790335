/*
 * The host's PCI: configuration access (ECAM from the ACPI MCFG, CF8/CFC as
 * the fallback), enumeration behind bridges, BARs, capabilities, MSI/MSI-X,
 * and binding the hypervisor's own drivers (NVMe, AHCI) to the devices.
 *
 * Layering: pci_cfg.c reaches configuration space through `struct pci_cfg`
 * (function pointers), so the enumeration, BAR sizing and capability walks
 * in pci_enum.c / pci_bar.c / pci_cap.c run hosted over a fake config space
 * in the unit tests. pci_host.c is the thin hardware part (port I/O, ECAM
 * mapping, uncached BAR mapping, the driver table, the boot report).
 *
 * Devices are found once, at boot, before any VM exists; the list does not
 * change afterwards (no hot-plug), so readers need no lock.
 */
#ifndef HV_KERNEL_PCI_PCI_H
#define HV_KERNEL_PCI_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_MAX_DEVICES 256
#define PCI_MAX_BARS 6

/* Configuration-space offsets (PCI 3.0 §6.1, PCIe 5.0 §7.5). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_SUB 0x0a
#define PCI_CLASS_BASE 0x0b
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_PRIMARY_BUS 0x18   /* type 1 */
#define PCI_SECONDARY_BUS 0x19 /* type 1 */
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_CMD_IO (1u << 0)
#define PCI_CMD_MEM (1u << 1)
#define PCI_CMD_MASTER (1u << 2)
#define PCI_CMD_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAP_LIST (1u << 4)

#define PCI_CAP_ID_PM 0x01
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_PCIE 0x10
#define PCI_CAP_ID_MSIX 0x11

/* Class codes the drivers bind by. */
#define PCI_CLASS_STORAGE 0x01
#define PCI_SUBCLASS_SATA 0x06 /* prog-if 0x01: AHCI 1.0 */
#define PCI_SUBCLASS_NVM 0x08  /* prog-if 0x02: NVM Express */
#define PCI_CLASS_BRIDGE 0x06
#define PCI_SUBCLASS_PCI_BRIDGE 0x04

/* How configuration space is reached: one segment, bus/dev/fn, a dword-aligned offset. */
struct pci_cfg {
	uint32_t (*read32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
	void (*write32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v);
	void *ctx;
	uint16_t max_offset; /* 0x1000 with ECAM, 0x100 with CF8/CFC */
	uint8_t bus_start, bus_end; /* the buses this access method reaches */
	/* where pci_enumerate reports what it skips (one line, no newline); NULL: silent */
	void (*log)(void *ctx, const char *line);
};

struct pci_bar {
	uint64_t base; /* bus (= host physical) address; 0: not assigned */
	uint64_t size; /* 0: no BAR here (or the upper half of a 64-bit one) */
	bool io;
	bool is64;
	bool prefetch;
};

struct pci_dev;

/* A driver of the hypervisor's own: bound at boot to each device it matches. */
struct pci_driver {
	const char *name;
	/* true if this driver takes d (by class or by IDs) */
	bool (*match)(const struct pci_dev *d);
	/*
	 * Sets d up; 0, or -1 with the reason in err (logged as
	 * "pci 0000:01:00.0: nvme: REASON"; the device is then left off,
	 * bus mastering disabled).
	 */
	int (*probe)(struct pci_dev *d, char *err, size_t errlen);
};

struct pci_dev {
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t class_base, class_sub, prog_if, revision;
	uint8_t header_type; /* low 7 bits: 0 device, 1 PCI-PCI bridge */
	uint8_t secondary_bus, subordinate_bus; /* bridges */
	struct pci_bar bar[PCI_MAX_BARS];
	uint8_t cap_msi, cap_msix, cap_pcie, cap_pm; /* offsets, 0 when absent */
	const struct pci_driver *driver; /* bound driver, or NULL */
	const char *status;		 /* driver's state for the report: "nvme0", "failed: ..." */
	void *driver_data;
	const struct pci_cfg *cfg;
	/* MSI-X as the host set it up (pci_msix_enable) */
	volatile uint32_t *msix_table; /* mapped, uncached */
	unsigned msix_vectors;
};

/* ---- pure logic (pci_enum.c, pci_bar.c, pci_cap.c): hosted-testable ---- */

uint32_t pci_read32(const struct pci_dev *d, uint16_t off);
uint16_t pci_read16(const struct pci_dev *d, uint16_t off);
uint8_t pci_read8(const struct pci_dev *d, uint16_t off);
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v);
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v); /* read-modify-write of the dword */
void pci_write8(const struct pci_dev *d, uint16_t off, uint8_t v);

/*
 * Walks the buses reachable through cfg from bus_start down through every
 * bridge (secondary buses as the firmware numbered them; a bridge whose
 * secondary bus is 0 or not above its own bus, outside cfg's buses, or
 * already claimed by another bridge is reported through cfg->log, marked in
 * its status and not walked, so no bus is walked twice). Then every other
 * bus in cfg's range that lies behind no bridge and answers is walked the
 * same way: the peer root buses of multi-socket servers, which no bridge
 * leads to. Buses are walked in ascending order, so out is sorted by bus.
 * Multi-function devices are found (function 0's header bit 7). Fills up to
 * max entries of out, sizes every BAR (decoding off while it probes,
 * restored afterwards) and records the capabilities. Returns how many
 * devices it found (more than max: the rest are counted, not stored).
 */
size_t pci_enumerate(const struct pci_cfg *cfg, uint16_t segment, struct pci_dev *out, size_t max);

/* Sizes BAR i of d (and i+1 for a 64-bit one) into d->bar[]; returns the next BAR index. */
unsigned pci_bar_probe(struct pci_dev *d, unsigned i);

/* Offset of the first capability with id, or 0 (loops and bad pointers end the walk). */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id);
/* Offset of a PCIe extended capability (>= 0x100), or 0. */
uint16_t pci_find_ext_cap(const struct pci_dev *d, uint16_t id);

/*
 * Whether the comma-separated list of "BB:DD.F" (or "0000:BB:DD.F")
 * addresses names d: the `pciback=` list of functions kept for VMs.
 * Malformed entries name nothing.
 */
bool pci_list_has(const char *list, const struct pci_dev *d);

/* "0000:01:00.0" */
void pci_dev_name(const struct pci_dev *d, char *buf, size_t len);
/* A short English class name: "NVM Express controller", "SATA controller (AHCI)", ... */
const char *pci_class_name(uint8_t base, uint8_t sub, uint8_t prog_if);

/*
 * The MSI address/data for a fixed, edge-triggered interrupt of `vector` on
 * the CPU with `apic_id` (physical destination; x2APIC IDs above 255 go in
 * the extended-destination bits 11:5 as QEMU/KVM accept, else refused).
 * Returns false when apic_id cannot be expressed.
 */
bool pci_msi_message(uint32_t apic_id, uint8_t vector, uint64_t *addr, uint32_t *data);

/* ---- host glue (pci_host.c, pci_msi.c) ---- */

/* The hypervisor's own drivers, tried in order on each device (pci_drivers.c); NULLs skipped. */
extern const struct pci_driver *const pci_drivers[];
extern const size_t pci_driver_count;

/*
 * At boot, once, after the CPUs are up: picks the access method (ECAM of
 * each MCFG entry, else CF8/CFC after checking it answers), enumerates,
 * binds drivers (the table in pci_drivers.c: nvme, ahci) and prints the boot
 * report's PCI lines. acpi may be NULL.
 */
struct acpi_info;
void pci_host_init(const struct acpi_info *acpi);

/*
 * Before pci_host_init: functions (pci_list_has syntax) no driver of the
 * hypervisor binds, so that a VM can be given them (`pciback=` on the
 * command line, as Xen's xen-pciback.hide). They stay blocked by the IOMMU.
 */
void pci_host_keep_for_vms(const char *list);

extern struct pci_dev pci_devices[PCI_MAX_DEVICES];
extern size_t pci_device_count;

/* The `pci-list` host verb: every device, its class, BARs and driver. */
void pci_host_list(void);

/* Turns on memory (and I/O) decoding and bus mastering as asked. */
void pci_enable(struct pci_dev *d, bool mem, bool io, bool master);

/*
 * Maps memory BAR i uncached (PCD|PWT, never executable) and returns its
 * virtual address, or NULL (an I/O BAR, no BAR, or no page tables left).
 */
volatile void *pci_bar_map(struct pci_dev *d, unsigned i);

/*
 * A driver's probe of a device with registers in memory BAR i: checks the
 * BAR is memory, assigned and at least min_size bytes, turns on memory
 * decoding and bus mastering, and maps it. NULL with err set ("BAR0 is not
 * a memory BAR of at least 8 KiB", "cannot map BAR0").
 */
volatile uint8_t *pci_probe_mmio_bar(struct pci_dev *d, unsigned i, uint64_t min_size, char *err,
				     size_t errlen);

/*
 * MSI-X: maps the table, masks every vector, enables MSI-X with the
 * function masked, and returns how many vectors the device has (0: no
 * MSI-X). Then pci_msix_set() programs vector idx and unmasks it, and
 * pci_msix_unmask_function() lets them through. INTx is disabled.
 */
unsigned pci_msix_enable(struct pci_dev *d);
bool pci_msix_set(struct pci_dev *d, unsigned idx, uint8_t vector, uint32_t apic_id);
void pci_msix_mask(struct pci_dev *d, unsigned idx, bool masked);
void pci_msix_unmask_function(struct pci_dev *d);
/* MSI (one vector): false when the device has no MSI capability. */
bool pci_msi_enable(struct pci_dev *d, uint8_t vector, uint32_t apic_id);
/* MSI and MSI-X off again (a failed probe, host shutdown). */
void pci_msi_disable(struct pci_dev *d);

#endif
