/*
 * Intel VT-d (Virtualization Technology for Directed I/O, rev 4.1): the
 * register block, capability bits, and the in-memory formats the hardware
 * reads (root/context entries, queued-invalidation descriptors, interrupt
 * remapping table entries), with pure encoders (vtd_enc.c) so the unit
 * tests check every bit. Legacy (non-scalable) mode only.
 */
#ifndef HV_IOMMU_VTD_HW_H
#define HV_IOMMU_VTD_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register offsets (§11.4) */
#define VTD_VER 0x00
#define VTD_CAP 0x08
#define VTD_ECAP 0x10
#define VTD_GCMD 0x18
#define VTD_GSTS 0x1c
#define VTD_RTADDR 0x20
#define VTD_CCMD 0x28
#define VTD_FSTS 0x34
#define VTD_FECTL 0x38
#define VTD_FEDATA 0x3c
#define VTD_FEADDR 0x40
#define VTD_FEUADDR 0x44
#define VTD_PMEN 0x64
#define VTD_IQH 0x80
#define VTD_IQT 0x88
#define VTD_IQA 0x90
#define VTD_ICS 0x9c
#define VTD_IRTA 0xb8

/* GCMD / GSTS bits (same positions) */
#define VTD_GCMD_TE (1u << 31)
#define VTD_GCMD_SRTP (1u << 30)
#define VTD_GCMD_WBF (1u << 27)
#define VTD_GCMD_QIE (1u << 26)
#define VTD_GCMD_IRE (1u << 25)
#define VTD_GCMD_SIRTP (1u << 24)
#define VTD_GCMD_CFI (1u << 23)
/* the persistent states a GCMD write must carry over (one-shot bits left out) */
#define VTD_GSTS_KEEP (VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI)

/* CAP (§11.4.2) */
#define VTD_CAP_ND(c) ((unsigned)((c)&7))
#define VTD_CAP_RWBF (1ull << 4)
#define VTD_CAP_PLMR (1ull << 5)
#define VTD_CAP_PHMR (1ull << 6)
#define VTD_CAP_CM (1ull << 7)
#define VTD_CAP_SAGAW(c) ((unsigned)(((c) >> 8) & 0x1f))
#define VTD_SAGAW_39 (1u << 1) /* 3-level tables */
#define VTD_SAGAW_48 (1u << 2) /* 4-level tables */
#define VTD_CAP_MGAW(c) ((unsigned)(((c) >> 16) & 0x3f) + 1)
#define VTD_CAP_FRO(c) ((unsigned)(((c) >> 24) & 0x3ff) * 16)
#define VTD_CAP_SLLPS(c) ((unsigned)(((c) >> 34) & 0xf))
#define VTD_SLLPS_2M 1u
#define VTD_SLLPS_1G 2u
#define VTD_CAP_PSI (1ull << 39)
#define VTD_CAP_NFR(c) ((unsigned)(((c) >> 40) & 0xff) + 1)
#define VTD_CAP_MAMV(c) ((unsigned)(((c) >> 48) & 0x3f))

/* ECAP (§11.4.3) */
#define VTD_ECAP_C (1ull << 0) /* page walks snoop the CPU caches */
#define VTD_ECAP_QI (1ull << 1)
#define VTD_ECAP_DT (1ull << 2)
#define VTD_ECAP_IR (1ull << 3)
#define VTD_ECAP_EIM (1ull << 4)
#define VTD_ECAP_PT (1ull << 6)
#define VTD_ECAP_SC (1ull << 7)
#define VTD_ECAP_IRO(e) ((unsigned)(((e) >> 8) & 0x3ff) * 16)

/* CCMD (64-bit) */
#define VTD_CCMD_ICC (1ull << 63)
#define VTD_CCMD_GLOBAL (1ull << 61)
#define VTD_CCMD_DOMAIN (2ull << 61)
#define VTD_CCMD_DEVICE (3ull << 61)
#define VTD_CCMD_DID(d) ((uint64_t)(d))
#define VTD_CCMD_SID(s) ((uint64_t)(s) << 16)

/* IOTLB invalidate register (at ECAP.IRO + 8; IVA at IRO) */
#define VTD_IOTLB_IVT (1ull << 63)
#define VTD_IOTLB_GLOBAL (1ull << 60)
#define VTD_IOTLB_DOMAIN (2ull << 60)
#define VTD_IOTLB_PAGE (3ull << 60)
#define VTD_IOTLB_DR (1ull << 49)
#define VTD_IOTLB_DW (1ull << 48)
#define VTD_IOTLB_DID(d) ((uint64_t)(d) << 32)

/* FSTS / FECTL */
#define VTD_FSTS_PFO (1u << 0)
#define VTD_FSTS_PPF (1u << 1)
#define VTD_FSTS_IQE (1u << 4)
#define VTD_FSTS_ICE (1u << 5)
#define VTD_FSTS_ITE (1u << 6)
#define VTD_FSTS_FRI(s) (((s) >> 8) & 0xff)
#define VTD_FECTL_IM (1u << 31)

/* Fault recording register (16 bytes): hi qword fields */
#define VTD_FRCD_F (1ull << 63)
#define VTD_FRCD_T (1ull << 62) /* 1: read, 0: write (legacy) */
#define VTD_FRCD_FR(hi) ((unsigned)(((hi) >> 32) & 0xff))
#define VTD_FRCD_SID(hi) ((uint16_t)((hi)&0xffff))

/* ICS */
#define VTD_ICS_IWC 1u

/* Second-level page-table entries (§9.8): R bit 0, W bit 1, PS bit 7 */
#define VTD_SL_R (1ull << 0)
#define VTD_SL_W (1ull << 1)
#define VTD_SL_PS (1ull << 7)

/* ---- root and context entries (§9.1, §9.3) ---- */
struct vtd_entry {
	uint64_t lo, hi;
};

/* A root entry pointing at a context table (physical, 4 KiB aligned). */
struct vtd_entry vtd_root_entry(uint64_t context_table);
/*
 * A context entry: translate through second-level tables at `slpt` with
 * `levels` (3 or 4), domain `did`. Fault processing stays on.
 */
struct vtd_entry vtd_context_entry(uint64_t slpt, unsigned levels, uint16_t did);

/* ---- queued-invalidation descriptors (§6.5.2) ---- */
struct vtd_entry vtd_qi_context_global(void);
struct vtd_entry vtd_qi_context_domain(uint16_t did);
struct vtd_entry vtd_qi_context_device(uint16_t did, uint16_t sid);
struct vtd_entry vtd_qi_iotlb_global(void);
struct vtd_entry vtd_qi_iotlb_domain(uint16_t did);
/* Pages [addr, addr + 2^am pages) of domain did (addr aligned to that size). */
struct vtd_entry vtd_qi_iotlb_page(uint16_t did, uint64_t addr, unsigned am);
struct vtd_entry vtd_qi_iec_global(void);
/* Interrupt entries [index, index + 2^im). */
struct vtd_entry vtd_qi_iec_index(uint16_t index, unsigned im);
/* Wait: writes `status` to the 4-byte-aligned physical address when everything before is done. */
struct vtd_entry vtd_qi_wait(uint32_t status, uint64_t status_addr);

/* ---- interrupt remapping (§9.10, §5.1.5) ---- */
/*
 * A remapped, fixed, edge-triggered interrupt of `vector` to `apic_id`
 * (physical destination), from source-id `sid` only (SVT 1, SQ 0: all 16
 * bits compared). x2apic: the 32-bit ID as is; else the xAPIC ID in bits
 * 15:8 of the destination field (dest << 8).
 */
struct vtd_entry vtd_irte(uint8_t vector, uint32_t apic_id, bool x2apic, uint16_t sid);
/* The same, level-triggered (an IOAPIC pin's INTx: the EOI goes back to the IOAPIC). */
struct vtd_entry vtd_irte_level(uint8_t vector, uint32_t apic_id, bool x2apic, uint16_t sid);
/* The remappable-format MSI address/data naming IRTE `handle` (subhandle unused). */
void vtd_msi_remappable(uint16_t handle, uint64_t *addr, uint32_t *data);
/* A remappable IOAPIC RTE naming IRTE `handle` for `vector` (its low/high dwords as one qword). */
uint64_t vtd_ioapic_rte_remappable(uint16_t handle, uint8_t vector, bool level, bool masked);

/* ---- decoding, in words ---- */
/* The reason of fault record code `fr` ("second-level entry not present (write)"...). */
const char *vtd_fault_reason(unsigned fr);
/* Domains a unit supports (CAP.ND). */
unsigned vtd_domains(uint64_t cap);
/* Table levels to use: 4 if SAGAW has 48-bit, else 3 if 39-bit, else 0. */
unsigned vtd_levels(uint64_t cap);
/*
 * Describes what the unit offers and lacks in words, for the boot line:
 * "48-bit (4-level), 2M+1G pages, 256 domains, queued invalidation,
 * interrupt remapping (xAPIC only: no EIM), page walks not coherent".
 */
void vtd_describe(uint64_t cap, uint64_t ecap, char *buf, size_t len);

#endif
