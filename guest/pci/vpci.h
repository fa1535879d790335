/*
 * A VM's PCI bus (PCI Local Bus 3.0, PCI Express Base 4.0 §7): the functions
 * a guest finds by configuration cycles, their BARs, capabilities and
 * interrupts. Pure logic, tested hosted; kernel/vm wires it to the VM's
 * port and MMIO buses and to its interrupt controllers.
 *
 * Configuration space is reached two ways, both decoded here:
 *   - mechanism #1: the address latch at port 0xcf8 (enable bit 31, bus
 *     23:16, device 15:11, function 10:8, register 7:2) and the data window
 *     0xcfc-0xcff, any width inside one dword;
 *   - ECAM (PCIe §7.2.2): a 1 MiB window per bus at ecam_base, offset
 *     bus << 20 | device << 15 | function << 12 | register (4 KiB each).
 * Only bus 0 exists. Slot 0 is the host bridge; devices take slots 1-31,
 * function 0. A function's space is 256 bytes; the extended space
 * (0x100-0xfff) reads 0 (no extended capabilities) and ignores writes.
 *
 * BARs are laid out by the hypervisor, which plays the firmware: memory BARs
 * in the 32-bit window (a 64-bit BAR too unless it is prefetchable), 64-bit
 * prefetchable ones in the 64-bit window, I/O BARs in the I/O window, each
 * naturally aligned. Memory and I/O decoding are then enabled in COMMAND.
 * A guest sizes, moves and disables BARs by config writes as on hardware
 * (all-ones then read back; the size is the low clear bits); accesses are
 * dispatched on the BARs' current addresses, only while the function's
 * COMMAND enables that space, and only inside the windows the bus decodes
 * (the windows the guest's ACPI tables give Linux: it keeps BARs there).
 *
 * Interrupts: INTx pin A-D of slot s is wired to IOAPIC pin
 * vpci_intx_gsi(s, pin) (a fixed swizzle onto GSI 16-19, what the DSDT's
 * _PRT says); MSI and MSI-X messages go out through the bus's msi callback
 * as (address, data), for the platform to decode (guest/pci/msi.h) and
 * deliver to the vLAPICs. MSI-X (PCI 3.0 §6.8.2): the table and PBA live in
 * a BAR of the function; per-vector mask bits and the function mask hold a
 * message back as a pending bit, sent when unmasked; the device model only
 * calls vpci_msix_notify().
 *
 * Locking is the caller's: one lock around every call on a bus.
 */
#ifndef HV_GUEST_PCI_VPCI_H
#define HV_GUEST_PCI_VPCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VPCI_SLOTS 32
#define VPCI_CFG_SIZE 256
#define VPCI_ECAM_FUNC_SIZE 4096
#define VPCI_MSIX_MAX 64 /* vectors a function may have */

/* Standard header offsets (PCI 3.0 §6.1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REVISION 0x08 /* revision 7:0, prog-if 15:8, subclass 23:16, class 31:24 */
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO (1u << 0)
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS_INTERRUPT (1u << 3)
#define PCI_STATUS_CAP_LIST (1u << 4)

#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

enum vpci_bar_type {
	VPCI_BAR_NONE,
	VPCI_BAR_IO,	/* I/O space */
	VPCI_BAR_MEM32, /* 32-bit memory */
	VPCI_BAR_MEM64, /* 64-bit memory: takes this BAR and the next */
};

struct vpci_bar {
	enum vpci_bar_type type;
	bool prefetchable;
	uint64_t size; /* a power of two: >= 16 for memory, >= 4 for I/O; 0: none */
	uint64_t addr; /* where it decodes now (what the guest last wrote, size-aligned) */
};

/* A function's accesses to its own BAR regions (offset inside the BAR). */
struct vpci_func_ops {
	uint64_t (*bar_read)(void *opaque, unsigned bar, uint64_t offset, unsigned size);
	void (*bar_write)(void *opaque, unsigned bar, uint64_t offset, unsigned size, uint64_t value);
	/* The guest changed COMMAND or a BAR (may be NULL): a device may drop cached mappings. */
	void (*config_changed)(void *opaque);
	/*
	 * STATUS.INTERRUPT of a function whose INTx the model does not drive (a
	 * passed-through one: the host function's bit); NULL: the model's own.
	 */
	bool (*intx_status)(void *opaque);
};

struct vpci_msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl; /* ctrl bit 0: vector masked */
};

struct vpci_bus;

struct vpci_func {
	uint8_t cfg[VPCI_CFG_SIZE];
	uint8_t wmask[VPCI_CFG_SIZE];	/* bits the guest may write */
	uint8_t w1cmask[VPCI_CFG_SIZE]; /* bits a written 1 clears (STATUS errors) */
	struct vpci_bar bars[6];
	const struct vpci_func_ops *ops;
	void *opaque;
	const char *name; /* for pci-list: "virtio-blk" */
	struct vpci_bus *bus;
	unsigned slot; /* on the bus; 0 until added */
	uint8_t next_cap; /* where the next capability goes */
	uint8_t intx_pin; /* 1-4 = INTA-INTD; 0: none */
	bool intx_level;  /* the device asserts its line (before INTX_DISABLE) */
	uint8_t msi_cap;  /* offset of the MSI capability; 0: none */
	struct {
		uint8_t cap; /* offset of the capability; 0: none */
		uint16_t nvec;
		uint8_t bar;
		uint32_t table_off, pba_off;
		struct vpci_msix_entry entries[VPCI_MSIX_MAX];
		uint64_t pending; /* the PBA */
	} msix;
	uint64_t msi_sent, msi_masked; /* counters: messages sent; held back by a mask */
	bool intx_out; /* what the function drives onto its GSI now (the bus counts it) */
	/* The configuration space as the firmware left it (vpci_bus_add): vpci_func_reset's target. */
	uint8_t cfg_reset[VPCI_CFG_SIZE];
};

struct vpci_window {
	uint64_t base, size; /* size 0: none */
};

struct vpci_bus_config {
	uint64_t ecam_base;	     /* 1 MiB: bus 0 only */
	struct vpci_window mem32;    /* below 4 GiB */
	struct vpci_window mem64;    /* above 4 GiB */
	struct vpci_window io;	     /* I/O ports */
	void (*msi)(void *ctx, uint64_t address, uint32_t data);
	void (*set_gsi)(void *ctx, unsigned gsi, bool level); /* INTx, already swizzled */
	void *ctx;
	/*
	 * Config writes only mark functions whose config_changed is due; the
	 * caller calls it after dropping its lock (vpci_bus_take_changed), so a
	 * device may take its own lock there. false: called at once.
	 */
	bool defer_config_changed;
};

struct vpci_bus {
	struct vpci_bus_config cfg;
	struct vpci_func host_bridge;
	struct vpci_func *slots[VPCI_SLOTS];
	uint32_t cf8; /* the address latch */
	uint64_t mem32_next, mem64_next, io_next; /* the firmware's allocation cursors */
	unsigned gsi_count[4]; /* INTx lines asserted per GSI 16-19 (they are shared) */
	uint32_t changed;    /* slots whose config_changed is due (defer_config_changed) */
	uint64_t bad_config; /* config accesses of a width or place no bus cycle has: dropped */
};

/*
 * Where a VM's PCI bus lives (the same for every VM; the guest's ACPI
 * tables and E820 say so). Guest RAM below 4 GiB ends at 3 GiB at most (GPA_LOW_RAM_MAX); the rest of a
 * big VM's RAM lies from 4 GiB up to VPCI_MEM64_BASE (GPA_HIGH_RAM_END).
 */
#define VPCI_ECAM_BASE 0xc0000000ull /* 1 MiB: bus 0 */
#define VPCI_ECAM_SIZE 0x100000ull
#define VPCI_MEM32_BASE 0xc1000000ull /* up to the IOAPIC at 0xfec00000 */
#define VPCI_MEM32_SIZE (0xfec00000ull - VPCI_MEM32_BASE)
#define VPCI_MEM64_BASE 0x1000000000ull /* 64 GiB: inside any 40-bit physical space */
#define VPCI_MEM64_SIZE 0x1000000000ull
#define VPCI_IO_BASE 0xc000u
#define VPCI_IO_SIZE 0x4000u

#define VPCI_INTX_GSI_BASE 16
/* The IOAPIC pin INTx pin (1-4) of slot s reaches; the DSDT's _PRT says the same. */
static inline unsigned vpci_intx_gsi(unsigned slot, unsigned pin)
{
	return VPCI_INTX_GSI_BASE + (slot + pin - 1) % 4;
}

/* ---- functions ---- */

/*
 * A type 0 header: IDs, class (class << 16 | subclass << 8 | prog_if),
 * revision, subsystem IDs. Nothing is writable yet but COMMAND's I/O,
 * memory, master and INTx-disable bits, STATUS's error bits (write 1 to
 * clear) and INTERRUPT_LINE.
 */
void vpci_func_init(struct vpci_func *f, const char *name, uint16_t vendor, uint16_t device,
		    uint32_t class_code, uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id,
		    const struct vpci_func_ops *ops, void *opaque);
/* BAR idx (a 64-bit one takes idx+1 too); -1 on a bad index, size or overlap. */
int vpci_func_add_bar(struct vpci_func *f, unsigned idx, enum vpci_bar_type type, uint64_t size,
		      bool prefetchable);
/*
 * Appends a capability (id, then len-2 bytes of body after the id and next
 * pointer) to the list; returns its offset, or 0 when it does not fit.
 * The body is read-only to the guest unless the caller sets wmask.
 */
uint8_t vpci_func_add_cap(struct vpci_func *f, uint8_t id, const uint8_t *body, uint8_t len);
/* INTx pin 1-4. */
void vpci_func_set_intx_pin(struct vpci_func *f, uint8_t pin);
/* An MSI-X capability with nvec vectors, its table and PBA at those BAR offsets. */
int vpci_func_add_msix(struct vpci_func *f, unsigned nvec, unsigned bar, uint32_t table_off,
		       uint32_t pba_off);

/* Whether the guest enabled MSI-X (and the function is not masked as a whole). */
bool vpci_msix_enabled(const struct vpci_func *f);
/*
 * The device signals MSI-X vector `vec`: sent now, or left pending in the
 * PBA while masked. A vector beyond the table is dropped. Returns whether a
 * message went out.
 */
bool vpci_msix_notify(struct vpci_func *f, unsigned vec);
/* The device's INTx line (sent unless COMMAND.INTX_DISABLE; STATUS.INTERRUPT follows it). */
void vpci_func_set_intx(struct vpci_func *f, bool level);
/* Back to the power-on state the bus left it in (BARs where the firmware put them). */
void vpci_func_reset(struct vpci_func *f);

/*
 * An MSI capability (PCI 3.0 §6.8.1): nvec (1, 2, 4 .. 32) vectors, a 64-bit
 * address if addr64, per-vector mask and pending bits if per_vector_mask.
 * 0, or -1 (bad nvec, no room, already has one).
 */
int vpci_func_add_msi(struct vpci_func *f, unsigned nvec, bool addr64, bool per_vector_mask);
/* Whether the guest enabled MSI. */
bool vpci_msi_enabled(const struct vpci_func *f);
/*
 * The device signals MSI vector `vec` (below the count the guest enabled):
 * sent now, or held in the Pending bits while masked. Returns whether a
 * message went out.
 */
bool vpci_msi_notify(struct vpci_func *f, unsigned vec);

/*
 * The function's configuration space as a config cycle sees it: reg
 * 0-0xfff, size 1, 2 or 4; an access crossing a dword is split at the dword
 * boundary. The extended space (0x100+) reads 0. The bus calls these.
 */
uint32_t vpci_func_config_read(struct vpci_func *f, unsigned reg, unsigned size);
void vpci_func_config_write(struct vpci_func *f, unsigned reg, unsigned size, uint32_t value);

/*
 * The MSI-X table and PBA of f when they hold (bar, offset .. +size);
 * false when the access is elsewhere in the BAR (the device's own).
 * Table entries take aligned dwords and qwords (PCI 3.0 §6.8.2: other
 * writes are dropped; reads of any width return the bytes); the PBA is
 * read-only.
 */
bool vpci_msix_mmio_read(struct vpci_func *f, unsigned bar, uint64_t offset, unsigned size,
			 uint64_t *value);
bool vpci_msix_mmio_write(struct vpci_func *f, unsigned bar, uint64_t offset, unsigned size,
			  uint64_t value);

/* ---- the bus ---- */

void vpci_bus_init(struct vpci_bus *b, const struct vpci_bus_config *cfg);
/*
 * Plugs f into `slot` (1-31; 0: the first free one) and lays out its BARs.
 * Returns the slot, or -1 (slot taken, windows full).
 */
int vpci_bus_add(struct vpci_bus *b, struct vpci_func *f, unsigned slot);

/* Ports 0xcf8-0xcff (offset 0-7 from 0xcf8); 0xcf9 is not ours (reset control). */
uint64_t vpci_cf8_read(struct vpci_bus *b, unsigned offset, unsigned size);
void vpci_cf8_write(struct vpci_bus *b, unsigned offset, unsigned size, uint64_t value);
/* The ECAM window, offset from ecam_base. */
uint64_t vpci_ecam_read(struct vpci_bus *b, uint64_t offset, unsigned size);
void vpci_ecam_write(struct vpci_bus *b, uint64_t offset, unsigned size, uint64_t value);
/*
 * A memory or I/O access inside the windows: dispatched to the BAR that
 * decodes it (MSI-X tables and PBAs handled here). Returns false when none
 * does (the caller reads all ones / drops the write).
 */
bool vpci_mem_read(struct vpci_bus *b, uint64_t addr, unsigned size, uint64_t *value);
bool vpci_mem_write(struct vpci_bus *b, uint64_t addr, unsigned size, uint64_t value);
bool vpci_io_read(struct vpci_bus *b, uint64_t port, unsigned size, uint64_t *value);
bool vpci_io_write(struct vpci_bus *b, uint64_t port, unsigned size, uint64_t value);

/* Every function back to its power-on state (a VM reboot). */
void vpci_bus_reset(struct vpci_bus *b);

/*
 * Which BAR decodes a memory (or I/O) access now: its function, the BAR and
 * the offset in it. The whole access must lie inside the BAR, the BAR
 * inside one of the bus's windows, and the function's COMMAND must enable
 * that space. vpci_mem_read and the others are this, then the MSI-X
 * structures or the function's ops; a caller whose device ops take locks of
 * their own calls the ops itself, outside the bus lock.
 */
struct vpci_hit {
	struct vpci_func *f;
	unsigned bar;
	uint64_t offset;
};
bool vpci_mem_decode(struct vpci_bus *b, uint64_t addr, unsigned size, struct vpci_hit *h);
bool vpci_io_decode(struct vpci_bus *b, uint64_t port, unsigned size, struct vpci_hit *h);

/*
 * With defer_config_changed: the slots (bits) whose config_changed is due,
 * cleared. The caller calls f->ops->config_changed for each, unlocked.
 */
uint32_t vpci_bus_take_changed(struct vpci_bus *b);
/* The function in `slot` (0: the host bridge), or NULL. */
struct vpci_func *vpci_bus_func(struct vpci_bus *b, unsigned slot);

#endif
