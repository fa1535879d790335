/*
 * The ACPI DMAR table (Intel VT-d 4.1 §8): the remapping units (DRHD) with
 * the devices each one covers, the memory the firmware's devices keep using
 * (RMRR), the root ports with ATS (ATSR), and which IOAPIC and HPET sit
 * behind which unit (for interrupt remapping's source-ids).
 *
 * Pure logic, hostile input: every length is checked against the table and
 * against its container; what does not fit is skipped with a warning in
 * words, never read past. Device-scope paths are resolved to bus/devfn by
 * dmar_resolve with a callback that reads bridges' bus numbers, so the
 * parser runs hosted in the unit tests.
 */
#ifndef HV_IOMMU_DMAR_H
#define HV_IOMMU_DMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DMAR_MAX_UNITS 8
#define DMAR_MAX_RMRR 16
#define DMAR_MAX_ATSR 8
#define DMAR_MAX_SCOPES 64 /* all structures together */
#define DMAR_MAX_PATH 8    /* (device, function) hops of one scope */
#define DMAR_MAX_WARN 6

/* DMAR header flags (§8.1) */
#define DMAR_FLAG_INTR_REMAP (1u << 0)
#define DMAR_FLAG_X2APIC_OPT_OUT (1u << 1)
#define DMAR_FLAG_DMA_CTRL_OPT_IN (1u << 2)

/* Device-scope types (§8.3.1) */
enum dmar_scope_type {
	DMAR_SCOPE_ENDPOINT = 1,
	DMAR_SCOPE_BRIDGE = 2, /* a bridge and everything behind it */
	DMAR_SCOPE_IOAPIC = 3,
	DMAR_SCOPE_HPET = 4,
	DMAR_SCOPE_ACPI = 5,
};

struct dmar_scope {
	uint8_t type;
	uint8_t enum_id; /* IOAPIC ID, HPET number, ACPI device number */
	uint8_t start_bus;
	uint8_t npath;
	uint8_t path[DMAR_MAX_PATH][2]; /* (device, function) from start_bus on */
	/* dmar_resolve's result: the device's bus and devfn; buses behind a bridge */
	bool resolved;
	uint8_t bus, devfn;
	uint8_t sec_bus, sub_bus; /* DMAR_SCOPE_BRIDGE: the buses behind it */
};

struct dmar_drhd {
	uint64_t base; /* register block */
	uint16_t segment;
	bool include_all; /* INCLUDE_PCI_ALL: every device of the segment no other unit claims */
	unsigned first_scope, nscopes;
};

struct dmar_rmrr {
	uint64_t base, limit; /* [base, limit], limit inclusive (as in the table) */
	uint16_t segment;
	unsigned first_scope, nscopes;
};

struct dmar_atsr {
	uint16_t segment;
	bool all_ports;
	unsigned first_scope, nscopes;
};

struct dmar_info {
	uint8_t haw; /* host address width in bits (the table holds width - 1) */
	uint8_t flags;
	struct dmar_drhd drhd[DMAR_MAX_UNITS];
	unsigned ndrhd;
	struct dmar_rmrr rmrr[DMAR_MAX_RMRR];
	unsigned nrmrr;
	struct dmar_atsr atsr[DMAR_MAX_ATSR];
	unsigned natsr;
	struct dmar_scope scopes[DMAR_MAX_SCOPES];
	unsigned nscopes;
	unsigned other; /* RHSA, ANDD, SATC, unknown types: counted, not used */
	/* what was skipped or looked wrong, in words (the first DMAR_MAX_WARN) */
	char warn[DMAR_MAX_WARN][96];
	unsigned nwarn; /* may exceed DMAR_MAX_WARN */
};

/*
 * Parses the DMAR table t of buf_len readable bytes. 0, or -1 with the
 * reason in err when the table itself is unusable (bad signature, length or
 * checksum, no remapping unit). Damaged structures are skipped with a
 * warning (info->warn) and parsing goes on where the lengths allow.
 */
int dmar_parse(struct dmar_info *info, const uint8_t *t, size_t buf_len, char *err, size_t errlen);

/*
 * Reads the bus numbers of the bridge at (bus, devfn) of `segment`: false
 * when no bridge answers there.
 */
typedef bool (*dmar_bridge_fn)(void *ctx, uint16_t segment, uint8_t bus, uint8_t devfn,
			       uint8_t *secondary, uint8_t *subordinate);

/* Resolves every PCI scope's path to bus/devfn (and a bridge's bus range). */
void dmar_resolve(struct dmar_info *info, dmar_bridge_fn bridge, void *ctx);

/*
 * The unit that translates DMA from (segment, bus, devfn): a unit whose
 * scope names the device or a bridge above it, else the segment's
 * INCLUDE_PCI_ALL unit. -1 when none covers it.
 */
int dmar_unit_for(const struct dmar_info *info, uint16_t segment, uint8_t bus, uint8_t devfn);

/* Whether scope s of RMRR r names (segment, bus, devfn). */
bool dmar_rmrr_names(const struct dmar_info *info, const struct dmar_rmrr *r, uint16_t segment,
		     uint8_t bus, uint8_t devfn);

/* The IOAPIC with `id`: its unit and source-id (bus << 8 | devfn); false if no scope names it. */
bool dmar_ioapic_sid(const struct dmar_info *info, uint8_t id, int *unit, uint16_t *sid);

#endif
