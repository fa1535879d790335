/*
 * The Intel 8257x/82583 family (e1000e) as the driver sees it: register
 * offsets in BAR0, their fields, and the legacy RX/TX descriptor layouts
 * (Intel 82574 GbE Controller Family datasheet, chapters 7 and 10).
 * Pure definitions: the ring logic's hosted tests include them too.
 *
 * Queue registers sit at a base plus 0x100 per queue, as in the rest of the
 * Intel GbE line (igb and ixgbe move the bases, not the idea): a driver for
 * those parts adds its own bases next to these.
 */
#ifndef HV_DRIVERS_NET_E1000E_REGS_H
#define HV_DRIVERS_NET_E1000E_REGS_H

#include <stdint.h>

/* ---- general ---- */
#define E1000_CTRL 0x00000
#define E1000_STATUS 0x00008
#define E1000_EECD 0x00010
#define E1000_EERD 0x00014
#define E1000_CTRL_EXT 0x00018
#define E1000_MDIC 0x00020

#define E1000_CTRL_FD (1u << 0)
#define E1000_CTRL_GIO_MASTER_DISABLE (1u << 2)
#define E1000_CTRL_ASDE (1u << 5)
#define E1000_CTRL_SLU (1u << 6)
#define E1000_CTRL_ILOS (1u << 7)
#define E1000_CTRL_FRCSPD (1u << 11)
#define E1000_CTRL_FRCDPX (1u << 12)
#define E1000_CTRL_RST (1u << 26)
#define E1000_CTRL_VME (1u << 30)
#define E1000_CTRL_PHY_RST (1u << 31)

#define E1000_STATUS_FD (1u << 0)
#define E1000_STATUS_LU (1u << 1)
#define E1000_STATUS_SPEED(s) (((s) >> 6) & 3) /* 0: 10, 1: 100, 2 or 3: 1000 Mb/s */
#define E1000_STATUS_GIO_MASTER_ENABLE (1u << 19)

#define E1000_EECD_AUTO_RD (1u << 9) /* the NVM's auto-read after reset is done */

#define E1000_EERD_START (1u << 0)
#define E1000_EERD_DONE (1u << 1)
#define E1000_EERD_ADDR_SHIFT 2
#define E1000_EERD_DATA(v) ((uint16_t)((v) >> 16))

#define E1000_CTRL_EXT_PBA_CLR (1u << 31) /* MSI-X: PBA bits clear with their ICR bits */

/* ---- interrupts ---- */
#define E1000_ICR 0x000c0
#define E1000_ITR 0x000c4
#define E1000_ICS 0x000c8
#define E1000_IMS 0x000d0
#define E1000_IMC 0x000d8
#define E1000_EIAC 0x000dc /* 82574: which MSI-X causes clear themselves on their message */
#define E1000_IAM 0x000e0
#define E1000_IVAR 0x000e4 /* 82574: cause to MSI-X vector */
#define E1000_EITR(n) (0x000e8 + 4u * (n)) /* 82574: per-vector throttling */

#define E1000_ICR_TXDW (1u << 0)
#define E1000_ICR_TXQE (1u << 1)
#define E1000_ICR_LSC (1u << 2)
#define E1000_ICR_RXSEQ (1u << 3)
#define E1000_ICR_RXDMT0 (1u << 4)
#define E1000_ICR_RXO (1u << 6)
#define E1000_ICR_RXT0 (1u << 7)
#define E1000_ICR_RXQ0 (1u << 20) /* the 82574's per-queue causes, for MSI-X */
#define E1000_ICR_TXQ0 (1u << 22)
#define E1000_ICR_OTHER (1u << 24)
#define E1000_ICR_ASSERTED (1u << 31)

/* IVAR: 4 bits per cause (vector 2:0, valid 3): RX queue 0, RX 1, TX 0, TX 1, other */
#define E1000_IVAR_VALID 8u
#define E1000_IVAR_RXQ0(v) ((E1000_IVAR_VALID | (v)) << 0)
#define E1000_IVAR_TXQ0(v) ((E1000_IVAR_VALID | (v)) << 8)
#define E1000_IVAR_OTHER(v) ((E1000_IVAR_VALID | (v)) << 16)
#define E1000_IVAR_INT_ON_ALL_WB (1u << 31) /* a TX interrupt for every write-back */

/* ---- receive ---- */
#define E1000_RCTL 0x00100
#define E1000_RCTL_EN (1u << 1)
#define E1000_RCTL_SBP (1u << 2)
#define E1000_RCTL_UPE (1u << 3)
#define E1000_RCTL_MPE (1u << 4)
#define E1000_RCTL_LPE (1u << 5)
#define E1000_RCTL_RDMTS_HALF (0u << 8)
#define E1000_RCTL_MO_SHIFT 12
#define E1000_RCTL_BAM (1u << 15)
#define E1000_RCTL_BSIZE_2048 (0u << 16) /* with BSEX clear */
#define E1000_RCTL_BSEX (1u << 25)
#define E1000_RCTL_SECRC (1u << 26)

#define E1000_RFCTL 0x05008
#define E1000_RFCTL_EXTEN (1u << 15) /* extended descriptors; clear: legacy */
#define E1000_RXCSUM 0x05000
#define E1000_MTA 0x05200 /* 128 dwords: the multicast hash table */
#define E1000_MTA_WORDS 128
#define E1000_RAL(n) (0x05400 + 8u * (n))
#define E1000_RAH(n) (0x05404 + 8u * (n))
#define E1000_RAH_AV (1u << 31)
#define E1000_RAR_ENTRIES 16 /* 82574 */

#define E1000_RDBAL(q) (0x02800 + 0x100u * (q))
#define E1000_RDBAH(q) (0x02804 + 0x100u * (q))
#define E1000_RDLEN(q) (0x02808 + 0x100u * (q))
#define E1000_RDH(q) (0x02810 + 0x100u * (q))
#define E1000_RDT(q) (0x02818 + 0x100u * (q))
#define E1000_RDTR 0x02820
#define E1000_RXDCTL(q) (0x02828 + 0x100u * (q))
#define E1000_RADV 0x0282c

/* ---- transmit ---- */
#define E1000_TCTL 0x00400
#define E1000_TCTL_EN (1u << 1)
#define E1000_TCTL_PSP (1u << 3)
#define E1000_TCTL_CT(n) ((uint32_t)(n) << 4)
#define E1000_TCTL_COLD(n) ((uint32_t)(n) << 12)
#define E1000_TCTL_RTLC (1u << 24)
#define E1000_TIPG 0x00410
#define E1000_TIPG_VALUE(ipgt, ipgr1, ipgr2) \
	((uint32_t)(ipgt) | ((uint32_t)(ipgr1) << 10) | ((uint32_t)(ipgr2) << 20))

#define E1000_TDBAL(q) (0x03800 + 0x100u * (q))
#define E1000_TDBAH(q) (0x03804 + 0x100u * (q))
#define E1000_TDLEN(q) (0x03808 + 0x100u * (q))
#define E1000_TDH(q) (0x03810 + 0x100u * (q))
#define E1000_TDT(q) (0x03818 + 0x100u * (q))
#define E1000_TIDV 0x03820
#define E1000_TXDCTL(q) (0x03828 + 0x100u * (q))
#define E1000_TADV 0x0382c
#define E1000_TARC(q) (0x03840 + 0x100u * (q))

/* TXDCTL: write back one descriptor at a time (WTHRESH 1, GRAN descriptors), bit 22 as Intel sets it */
#define E1000_TXDCTL_WTHRESH(n) ((uint32_t)(n) << 16)
#define E1000_TXDCTL_GRAN (1u << 24)
#define E1000_TXDCTL_COUNT_DESC (1u << 22)
/* TARC0 bit 10 enables the queue: QEMU's e1000e sends nothing on a TCTL write without it */
#define E1000_TARC_ENABLE (1u << 10)
#define E1000_TARC_SET_82574 (0xfu << 23) /* bits 23-26, as Intel's 8257x init sets them */

/* ---- statistics (clear on read) ---- */
#define E1000_CRCERRS 0x04000
#define E1000_MPC 0x04010 /* missed packets: no descriptor free */

/* ---- descriptors ---- */
/* Ring lengths (RDLEN/TDLEN) are multiples of 128 bytes: 8 descriptors. */
#define E1000_RING_ALIGN_DESC 8

struct e1000_rx_desc {
	uint64_t addr;
	uint16_t len;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
} __attribute__((packed));

#define E1000_RXD_STAT_DD (1u << 0)
#define E1000_RXD_STAT_EOP (1u << 1)
/* errors: CRC or alignment, symbol, sequence, RX data (the frame is bad) */
#define E1000_RXD_ERR_CE (1u << 0)
#define E1000_RXD_ERR_SE (1u << 1)
#define E1000_RXD_ERR_SEQ (1u << 2)
#define E1000_RXD_ERR_RXE (1u << 7)
#define E1000_RXD_ERR_FRAME (E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | E1000_RXD_ERR_SEQ | E1000_RXD_ERR_RXE)

struct e1000_tx_desc {
	uint64_t addr;
	uint16_t len;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
} __attribute__((packed));

#define E1000_TXD_CMD_EOP (1u << 0)
#define E1000_TXD_CMD_IFCS (1u << 1)
#define E1000_TXD_CMD_RS (1u << 3)
#define E1000_TXD_CMD_DEXT (1u << 5)
#define E1000_TXD_STAT_DD (1u << 0)
#define E1000_TXD_STAT_EC (1u << 1) /* excess collisions */
#define E1000_TXD_STAT_LC (1u << 2) /* late collision */

_Static_assert(sizeof(struct e1000_rx_desc) == 16, "legacy RX descriptor");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "legacy TX descriptor");

#endif
