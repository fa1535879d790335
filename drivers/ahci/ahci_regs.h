/*
 * AHCI 1.3.1 register layout, FIS types and the ATA commands the driver
 * issues (ATA8-ACS). Offsets are bytes from ABAR (BAR5) or from a port's
 * register block at ABAR + 0x100 + 0x80 * port.
 */
#ifndef HV_DRIVERS_AHCI_AHCI_REGS_H
#define HV_DRIVERS_AHCI_AHCI_REGS_H

/* ---- generic host control (AHCI §3.1) ---- */
#define AHCI_CAP 0x00
#define AHCI_GHC 0x04
#define AHCI_IS 0x08
#define AHCI_PI 0x0c
#define AHCI_VS 0x10
#define AHCI_CAP2 0x24
#define AHCI_BOHC 0x28

#define AHCI_CAP_NP(cap) (((cap) & 0x1f) + 1)	     /* ports, 1-based */
#define AHCI_CAP_NCS(cap) ((((cap) >> 8) & 0x1f) + 1) /* command slots, 1-based */
#define AHCI_CAP_SSS (1u << 27)			     /* staggered spin-up: SUD is ours to set */
#define AHCI_CAP_SNCQ (1u << 30)
#define AHCI_CAP_S64A (1u << 31)

#define AHCI_GHC_HR (1u << 0)
#define AHCI_GHC_IE (1u << 1)
#define AHCI_GHC_AE (1u << 31)

#define AHCI_CAP2_BOH (1u << 0) /* BIOS/OS handoff supported */
#define AHCI_BOHC_BOS (1u << 0) /* BIOS owned */
#define AHCI_BOHC_OOS (1u << 1) /* OS owned */
#define AHCI_BOHC_BB (1u << 4)	/* BIOS busy */

#define AHCI_MAX_PORTS 32
#define AHCI_MAX_SLOTS 32

/* ---- port registers (AHCI §3.3) ---- */
#define AHCI_PORT_BASE(p) (0x100u + 0x80u * (p))
#define AHCI_PxCLB 0x00
#define AHCI_PxCLBU 0x04
#define AHCI_PxFB 0x08
#define AHCI_PxFBU 0x0c
#define AHCI_PxIS 0x10
#define AHCI_PxIE 0x14
#define AHCI_PxCMD 0x18
#define AHCI_PxTFD 0x20
#define AHCI_PxSIG 0x24
#define AHCI_PxSSTS 0x28
#define AHCI_PxSCTL 0x2c
#define AHCI_PxSERR 0x30
#define AHCI_PxSACT 0x34
#define AHCI_PxCI 0x38

/* PxIS / PxIE */
#define AHCI_PxIS_DHRS (1u << 0) /* D2H register FIS: a non-queued command ended */
#define AHCI_PxIS_PSS (1u << 1)	 /* PIO setup FIS */
#define AHCI_PxIS_DSS (1u << 2)	 /* DMA setup FIS */
#define AHCI_PxIS_SDBS (1u << 3) /* set device bits FIS (NCQ) */
#define AHCI_PxIS_UFS (1u << 4)
#define AHCI_PxIS_DPS (1u << 5)
#define AHCI_PxIS_PCS (1u << 6)
#define AHCI_PxIS_DMPS (1u << 7)
#define AHCI_PxIS_PRCS (1u << 22)
#define AHCI_PxIS_IPMS (1u << 23)
#define AHCI_PxIS_OFS (1u << 24)  /* overflow */
#define AHCI_PxIS_INFS (1u << 26) /* interface non-fatal */
#define AHCI_PxIS_IFS (1u << 27)  /* interface fatal */
#define AHCI_PxIS_HBDS (1u << 28) /* host bus data error */
#define AHCI_PxIS_HBFS (1u << 29) /* host bus fatal error */
#define AHCI_PxIS_TFES (1u << 30) /* task file error: the device set ERR */
#define AHCI_PxIS_CPDS (1u << 31)
/* the errors that stop the port's command processing (AHCI §6.1.2) */
#define AHCI_PxIS_FATAL \
	(AHCI_PxIS_TFES | AHCI_PxIS_HBFS | AHCI_PxIS_HBDS | AHCI_PxIS_IFS | AHCI_PxIS_OFS)

/* PxCMD */
#define AHCI_PxCMD_ST (1u << 0)
#define AHCI_PxCMD_SUD (1u << 1)
#define AHCI_PxCMD_POD (1u << 2)
#define AHCI_PxCMD_CLO (1u << 3)
#define AHCI_PxCMD_FRE (1u << 4)
#define AHCI_PxCMD_CCS(cmd) (((cmd) >> 8) & 0x1f)
#define AHCI_PxCMD_FR (1u << 14)
#define AHCI_PxCMD_CR (1u << 15)
#define AHCI_PxCMD_CPD (1u << 20)
#define AHCI_PxCMD_ICC_MASK (0xfu << 28)
#define AHCI_PxCMD_ICC_ACTIVE (1u << 28)

/* PxTFD: the device's status (7:0) and error (15:8) registers */
#define AHCI_TFD_STS(tfd) ((tfd) & 0xff)
#define AHCI_TFD_ERR(tfd) (((tfd) >> 8) & 0xff)

/* PxSSTS / PxSCTL */
#define AHCI_SSTS_DET(s) ((s) & 0xf)
#define AHCI_SSTS_DET_PRESENT_PHY 3 /* device present, phy communication established */
#define AHCI_SSTS_DET_PRESENT 1	    /* device present, no phy communication */
#define AHCI_SSTS_SPD(s) (((s) >> 4) & 0xf)
#define AHCI_SSTS_IPM(s) (((s) >> 8) & 0xf)
#define AHCI_SCTL_DET_MASK 0xfu
#define AHCI_SCTL_DET_COMRESET 1u
#define AHCI_SCTL_IPM_NONE (3u << 8) /* no partial/slumber transitions */

/* PxSIG: what the device's first D2H FIS said it is */
#define AHCI_SIG_ATA 0x00000101u
#define AHCI_SIG_ATAPI 0xeb140101u
#define AHCI_SIG_SEMB 0xc33c0101u /* enclosure management bridge */
#define AHCI_SIG_PM 0x96690101u	  /* port multiplier */

/* ---- memory structures (AHCI §4.2) ---- */
#define AHCI_CMD_LIST_BYTES 1024 /* 32 headers of 32 bytes, 1 KiB aligned */
#define AHCI_FIS_AREA_BYTES 256	 /* 256-byte aligned without FIS-based switching */
#define AHCI_CMD_TABLE_ALIGN 128
#define AHCI_CMD_TABLE_PRDT 0x80 /* the PRDT starts here in a command table */
#define AHCI_PRD_MAX_BYTES (4u << 20)

/* command header DW0 */
#define AHCI_CMDH_CFL(dwords) ((dwords) & 0x1f) /* command FIS length, 2..16 dwords */
#define AHCI_CMDH_A (1u << 5)			/* ATAPI */
#define AHCI_CMDH_W (1u << 6)			/* write: host to device */
#define AHCI_CMDH_P (1u << 7)			/* prefetchable */
#define AHCI_CMDH_R (1u << 8)			/* reset */
#define AHCI_CMDH_C (1u << 10)			/* clear busy upon R_OK */
#define AHCI_CMDH_PRDTL(n) ((uint32_t)(n) << 16)

/* PRD DW3 */
#define AHCI_PRD_I (1u << 31) /* interrupt on completion of this entry */

/* received-FIS area offsets */
#define AHCI_RFIS_DSFIS 0x00
#define AHCI_RFIS_PSFIS 0x20
#define AHCI_RFIS_RFIS 0x40 /* the last D2H register FIS */
#define AHCI_RFIS_SDBFIS 0x58

/* ---- FIS (SATA 3.x §10.5) ---- */
#define FIS_TYPE_REG_H2D 0x27
#define FIS_TYPE_REG_D2H 0x34
#define FIS_TYPE_DMA_SETUP 0x41
#define FIS_TYPE_PIO_SETUP 0x5f
#define FIS_TYPE_SET_DEV_BITS 0xa1
#define FIS_H2D_C 0x80 /* byte 1: the FIS carries a command (not device control) */
#define FIS_H2D_DWORDS 5

/* ---- ATA status/error and commands (ATA8-ACS) ---- */
#define ATA_STS_ERR 0x01
#define ATA_STS_DRQ 0x08
#define ATA_STS_DF 0x20
#define ATA_STS_DRDY 0x40
#define ATA_STS_BSY 0x80

#define ATA_ERR_AMNF 0x01
#define ATA_ERR_ABRT 0x04
#define ATA_ERR_IDNF 0x10
#define ATA_ERR_UNC 0x40
#define ATA_ERR_ICRC 0x80

#define ATA_DEV_LBA 0x40 /* device register: LBA addressing */

#define ATA_CMD_READ_DMA_EXT 0x25
#define ATA_CMD_WRITE_DMA_EXT 0x35
#define ATA_CMD_READ_FPDMA_QUEUED 0x60
#define ATA_CMD_WRITE_FPDMA_QUEUED 0x61
#define ATA_CMD_FLUSH_CACHE 0xe7
#define ATA_CMD_FLUSH_CACHE_EXT 0xea
#define ATA_CMD_IDENTIFY 0xec
#define ATA_CMD_IDENTIFY_PACKET 0xa1

#define ATA_LBA48_MAX (1ull << 48)
#define ATA_EXT_MAX_COUNT 65536u /* sector count 0 means 65536 in the 48-bit commands */

#endif
