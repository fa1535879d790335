/*
 * NVM Express as the driver sees it: controller registers, CAP/CC/CSTS
 * fields, queue entry layouts, admin and NVM opcodes, and the status field
 * of a completion (NVMe base specification 1.4, sections 3.1, 4, 5 and 6).
 * Pure definitions: the queue logic's hosted tests include it too.
 */
#ifndef HV_DRIVERS_NVME_NVME_REGS_H
#define HV_DRIVERS_NVME_NVME_REGS_H

#include <stdint.h>

/* ---- controller registers (BAR0, §3.1) ---- */
#define NVME_REG_CAP 0x00   /* 64-bit */
#define NVME_REG_VS 0x08
#define NVME_REG_INTMS 0x0c
#define NVME_REG_INTMC 0x10
#define NVME_REG_CC 0x14
#define NVME_REG_CSTS 0x1c
#define NVME_REG_NSSR 0x20
#define NVME_REG_AQA 0x24
#define NVME_REG_ASQ 0x28   /* 64-bit */
#define NVME_REG_ACQ 0x30   /* 64-bit */
#define NVME_REG_DOORBELL 0x1000

/* Doorbell of queue q: SQ tail (cq = 0) or CQ head (cq = 1); stride 4 << CAP.DSTRD bytes. */
static inline uint32_t nvme_doorbell_offset(uint16_t q, int cq, unsigned dstrd)
{
	return NVME_REG_DOORBELL + (2u * q + (cq ? 1u : 0u)) * (4u << dstrd);
}

/* CAP fields */
#define NVME_CAP_MQES(cap) ((uint32_t)((cap) & 0xffff)) /* zero-based */
#define NVME_CAP_CQR(cap) ((unsigned)(((cap) >> 16) & 1))
#define NVME_CAP_TO(cap) ((unsigned)(((cap) >> 24) & 0xff)) /* 500 ms units */
#define NVME_CAP_DSTRD(cap) ((unsigned)(((cap) >> 32) & 0xf))
#define NVME_CAP_NSSRS(cap) ((unsigned)(((cap) >> 36) & 1))
#define NVME_CAP_CSS(cap) ((unsigned)(((cap) >> 37) & 0xff))
#define NVME_CAP_CSS_NVM 0x01
#define NVME_CAP_MPSMIN(cap) ((unsigned)(((cap) >> 48) & 0xf)) /* 2^(12 + n) bytes */
#define NVME_CAP_MPSMAX(cap) ((unsigned)(((cap) >> 52) & 0xf))

/* CC fields */
#define NVME_CC_EN (1u << 0)
#define NVME_CC_CSS_NVM (0u << 4)
#define NVME_CC_MPS(shift) (((uint32_t)(shift) - 12) << 7) /* host page = 2^shift */
#define NVME_CC_AMS_RR (0u << 11)
#define NVME_CC_SHN_MASK (3u << 14)
#define NVME_CC_SHN_NORMAL (1u << 14)
#define NVME_CC_IOSQES(n) ((uint32_t)(n) << 16) /* log2 of the SQ entry size: 6 */
#define NVME_CC_IOCQES(n) ((uint32_t)(n) << 20) /* log2 of the CQ entry size: 4 */

/* CSTS fields */
#define NVME_CSTS_RDY (1u << 0)
#define NVME_CSTS_CFS (1u << 1)
#define NVME_CSTS_SHST_MASK (3u << 2)
#define NVME_CSTS_SHST_DONE (2u << 2)

/* AQA: admin queue sizes, zero-based */
#define NVME_AQA(sq_entries, cq_entries) \
	((((uint32_t)(cq_entries) - 1) << 16) | ((uint32_t)(sq_entries) - 1))

/* ---- queue entries (§4.2, §4.6) ---- */
struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags; /* FUSE 1:0, PSDT 7:6 (0: PRPs) */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2, cdw3;
	uint64_t mptr;
	uint64_t prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
_Static_assert(sizeof(struct nvme_sqe) == 64, "NVMe SQ entry is 64 bytes");

struct nvme_cqe {
	uint32_t dw0; /* command specific */
	uint32_t dw1;
	uint16_t sqhd; /* the SQ head the controller has reached */
	uint16_t sqid;
	uint16_t cid;
	uint16_t status; /* bit 0: phase tag; 15:1 the status field */
};
_Static_assert(sizeof(struct nvme_cqe) == 16, "NVMe CQ entry is 16 bytes");

#define NVME_SQES_LOG2 6
#define NVME_CQES_LOG2 4

/* Status field (status >> 1): SC 7:0, SCT 10:8, CRD 12:11, More 13, DNR 14. */
#define NVME_STATUS_PHASE(st) ((st) & 1u)
#define NVME_STATUS_SC(st) (((st) >> 1) & 0xffu)
#define NVME_STATUS_SCT(st) (((st) >> 9) & 0x7u)
#define NVME_STATUS_DNR(st) (((st) >> 15) & 1u)
#define NVME_STATUS_OK(st) ((((st) >> 1) & 0x7ffu) == 0) /* SCT 0, SC 0 */
#define NVME_SC_ABORT_REQUESTED 0x07 /* generic: Command Abort Requested */

/* ---- admin opcodes (§5) ---- */
#define NVME_ADMIN_DELETE_SQ 0x00
#define NVME_ADMIN_CREATE_SQ 0x01
#define NVME_ADMIN_DELETE_CQ 0x04
#define NVME_ADMIN_CREATE_CQ 0x05
#define NVME_ADMIN_IDENTIFY 0x06
#define NVME_ADMIN_ABORT 0x08
#define NVME_ADMIN_SET_FEATURES 0x09
#define NVME_ADMIN_GET_FEATURES 0x0a

/* Identify CNS values */
#define NVME_CNS_NAMESPACE 0x00
#define NVME_CNS_CONTROLLER 0x01
#define NVME_CNS_ACTIVE_NS_LIST 0x02

/* Feature identifiers */
#define NVME_FEAT_NUM_QUEUES 0x07

/* Create I/O CQ cdw11 / Create I/O SQ cdw11 */
#define NVME_QUEUE_PC (1u << 0)   /* physically contiguous */
#define NVME_CQ_IEN (1u << 1)	  /* interrupts enabled */
#define NVME_CQ_IV(v) ((uint32_t)(v) << 16)
#define NVME_SQ_CQID(q) ((uint32_t)(q) << 16)

/* ---- NVM command set opcodes (§6) ---- */
#define NVME_CMD_FLUSH 0x00
#define NVME_CMD_WRITE 0x01
#define NVME_CMD_READ 0x02
#define NVME_CMD_WRITE_ZEROES 0x08
#define NVME_CMD_DSM 0x09
#define NVME_DSM_AD (1u << 2) /* cdw11: attribute Deallocate */

/* A Dataset Management range (§6.7). */
struct nvme_dsm_range {
	uint32_t attributes;
	uint32_t nlb; /* logical blocks, not zero-based */
	uint64_t slba;
};
_Static_assert(sizeof(struct nvme_dsm_range) == 16, "DSM range is 16 bytes");

/* ---- Identify Controller data (§5.15.2.2), byte offsets ---- */
#define NVME_IDC_SN 4	   /* 20 ASCII bytes, space padded */
#define NVME_IDC_MN 24	   /* 40 */
#define NVME_IDC_FR 64	   /* 8 */
#define NVME_IDC_MDTS 77   /* 2^n units of CAP.MPSMIN; 0: no limit */
#define NVME_IDC_VER 80
#define NVME_IDC_RTD3E 88  /* shutdown latency, microseconds; 0: not reported */
#define NVME_IDC_ACL 258   /* abort command limit, zero-based */
#define NVME_IDC_SQES 512
#define NVME_IDC_CQES 513
#define NVME_IDC_NN 516	   /* 32-bit: number of namespaces */
#define NVME_IDC_ONCS 520  /* 16-bit */
#define NVME_IDC_VWC 525
#define NVME_ONCS_DSM (1u << 2)
#define NVME_ONCS_WRITE_ZEROES (1u << 3)
#define NVME_VWC_PRESENT (1u << 0)

/* ---- Identify Namespace data (§6.1.5), byte offsets ---- */
#define NVME_IDNS_NSZE 0   /* 64-bit, logical blocks */
#define NVME_IDNS_NCAP 8
#define NVME_IDNS_NUSE 16
#define NVME_IDNS_NLBAF 25 /* zero-based number of formats */
#define NVME_IDNS_FLBAS 26 /* 3:0 the format in use; 4: metadata at the end of the block */
#define NVME_IDNS_DPS 29
#define NVME_IDNS_NSATTR 99 /* bit 0: write protected */
#define NVME_IDNS_LBAF 128 /* 16 x 4 bytes: MS 15:0, LBADS 23:16, RP 25:24 */

#define NVME_LBAF_MS(f) ((f) & 0xffffu)
#define NVME_LBAF_LBADS(f) (((f) >> 16) & 0xffu)

#endif
