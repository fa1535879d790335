/*
 * The AHCI driver's pure logic, hosted-testable: command FISes, command
 * headers, PRDTs built from host-physical pieces, a block request cut into
 * commands, IDENTIFY DEVICE data, and the text the driver prints.
 * No kernel dependencies beyond blkdev.h (an interface) and format().
 */
#ifndef HV_DRIVERS_AHCI_AHCI_CMD_H
#define HV_DRIVERS_AHCI_AHCI_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/ahci/ahci_regs.h"
#include "kernel/blk/blkdev.h"

/* A command list entry (AHCI §4.2.2). */
struct ahci_cmd_header {
	uint32_t dw0;	/* PRDTL 31:16, flags, CFL 4:0 */
	uint32_t prdbc; /* bytes the HBA moved */
	uint32_t ctba;	/* command table, 128-byte aligned */
	uint32_t ctbau;
	uint32_t reserved[4];
};

/* A physical region descriptor (AHCI §4.2.3.3). */
struct ahci_prd {
	uint32_t dba; /* bit 0 must be 0: word aligned */
	uint32_t dbau;
	uint32_t reserved;
	uint32_t dbc; /* byte count - 1 (bit 0 set: an even count), I in bit 31 */
};

_Static_assert(sizeof(struct ahci_cmd_header) == 32, "command header is 32 bytes");
_Static_assert(sizeof(struct ahci_prd) == 16, "PRD is 16 bytes");

/* One 4 KiB page per command table: the 128-byte header part and 248 PRDs. */
#define AHCI_CMD_TABLE_BYTES 4096u
#define AHCI_PRDT_ENTRIES ((AHCI_CMD_TABLE_BYTES - AHCI_CMD_TABLE_PRDT) / sizeof(struct ahci_prd))

/* ---- command FISes: fis is 20 bytes (5 dwords), overwritten ---- */

/*
 * READ DMA EXT (0x25) / WRITE DMA EXT (0x35) of count sectors (1..65536) at
 * lba. false when the range does not fit 48-bit addressing.
 */
bool ahci_fis_rw_dma_ext(uint8_t *fis, bool write, uint64_t lba, uint32_t count);
/* READ/WRITE FPDMA QUEUED (0x60/0x61): NCQ tag 0..31, count in the features field. */
bool ahci_fis_fpdma(uint8_t *fis, bool write, uint64_t lba, uint32_t count, unsigned tag,
		    bool fua);
/* FLUSH CACHE EXT (0xEA). */
void ahci_fis_flush_ext(uint8_t *fis);
/* IDENTIFY DEVICE (0xEC): 512 bytes PIO in. */
void ahci_fis_identify(uint8_t *fis);

/* Fills a command header for an H2D register FIS command with prdtl PRDs at table_phys. */
void ahci_cmd_header_set(struct ahci_cmd_header *h, uint64_t table_phys, bool write,
			 unsigned prdtl);

/* ---- PRDT ---- */

struct ahci_prdt {
	struct ahci_prd *prd;
	unsigned max; /* entries prd can hold */
	unsigned n;   /* entries used */
	uint64_t bytes;
	bool addr64; /* the HBA reaches above 4 GiB (CAP.S64A) */
};

enum ahci_prdt_result {
	AHCI_PRDT_OK,
	AHCI_PRDT_FULL,	  /* more entries than are left: end the command before this piece */
	AHCI_PRDT_BOUNCE, /* odd address or length, or above 4 GiB without S64A */
};

void ahci_prdt_init(struct ahci_prdt *t, struct ahci_prd *prd, unsigned max, bool addr64);
/*
 * Appends [addr, addr + len): merged into the last entry when it continues
 * it, split into entries of at most 4 MiB. All or nothing: on FULL or
 * BOUNCE the table is as it was. len 0 is OK and adds nothing.
 */
enum ahci_prdt_result ahci_prdt_add(struct ahci_prdt *t, uint64_t addr, uint64_t len);
/* Takes bytes off the end (a command must end on a logical block boundary). */
void ahci_prdt_trim(struct ahci_prdt *t, uint64_t bytes);

/* ---- a block request cut into commands ---- */

/* How far into a request's data the commands so far reach. */
struct ahci_pos {
	unsigned seg;  /* segment index */
	uint32_t off;  /* bytes into that segment */
	uint64_t done; /* bytes of the request before this point */
};

struct ahci_chunk {
	uint64_t bytes; /* the next command's share, whole logical blocks */
	bool bounce;	/* its data goes through the bounce buffer; t is left empty */
};

/*
 * The next command of READ/WRITE request r from pos: its pieces, one page at
 * a time through r->mem->dma_addr, go into t until t is full, max_bytes
 * are reached, the request ends or a piece cannot be expressed; the command
 * is then cut back to the last whole logical block (`block` bytes). When not
 * even one block can go in place, the chunk bounces instead: up to
 * bounce_bytes (a multiple of block) through a buffer the caller owns.
 * pos is not moved (ahci_pos_advance does that once the command is set up).
 * Returns the chunk; bytes 0 only when the request has no data left.
 */
struct ahci_chunk ahci_map_chunk(const struct blk_request *r, const struct ahci_pos *pos,
				 uint32_t block, uint64_t max_bytes, uint64_t bounce_bytes,
				 struct ahci_prdt *t);
void ahci_pos_advance(const struct blk_request *r, struct ahci_pos *pos, uint64_t bytes);
/*
 * Copies bytes of r's data from pos between guest memory and buf:
 * to_guest (a bounced read completing) or from it (a bounced write being
 * set up). 0, or -1 when guest memory could not be reached.
 */
int ahci_bounce_copy(const struct blk_request *r, const struct ahci_pos *pos, void *buf,
		     uint64_t bytes, bool to_guest);

/* ---- IDENTIFY DEVICE (ATA8-ACS §7.16) ---- */

struct ata_identity {
	char model[41];	   /* words 27-46, trimmed */
	char serial[21];   /* words 10-19, trimmed */
	char firmware[9];  /* words 23-26, trimmed */
	bool ata;	   /* word 0 bit 15 clear: an ATA (not ATAPI) device */
	bool dma;	   /* word 49 bit 8 */
	bool lba48;	   /* word 83 bit 10 */
	bool flush_ext;	   /* word 83 bit 13: FLUSH CACHE EXT */
	uint64_t sectors;  /* logical sectors: words 100-103 with LBA48, else 60-61 */
	uint32_t logical_size;	/* bytes: words 106, 117-118; 512 when not reported */
	uint32_t physical_size; /* bytes: word 106 bits 3:0 */
	bool write_cache;	/* word 82 bit 5: supported */
	bool write_cache_on;	/* word 85 bit 5: enabled */
	bool ncq;		/* word 76 bit 8 */
	unsigned queue_depth;	/* word 75 bits 4:0, + 1 */
	bool checksum;		/* word 255 carries a checksum (0xA5 signature) */
};

/*
 * Parses 512 bytes of IDENTIFY data (little-endian words as the device sent
 * them). 0, or -1 with the reason in err when the data is not to be
 * trusted (a checksum that does not add up, all zeros or all ones).
 */
int ata_identify_parse(const uint8_t *buf, struct ata_identity *id, char *err, size_t errlen);
/* Whether the driver can use the disk (LBA48, DMA, 512 or 4096-byte sectors); -1 with why. */
int ata_identity_usable(const struct ata_identity *id, char *err, size_t errlen);
/* The disk's capacity in 512-byte sectors. */
uint64_t ata_identity_sectors512(const struct ata_identity *id);

/* ---- error handling ---- */

/*
 * After a fatal port error: the issued slots that may hold the failed
 * command. On an error reported by the device (PxIS.TFES and the like)
 * every slot issued since the last look, those the HBA has cleared from
 * PxCI included: not every HBA leaves the failed non-queued command in PxCI
 * (QEMU before 8.1 clears it and goes on with the next), and PxCMD.CCS is
 * not kept by all. After a timeout, the slots still in PxCI (ci), the rest
 * having completed.
 */
uint32_t ahci_error_suspects(uint32_t issued, uint32_t ci, bool timeout);

/* "ABRT UNC"-style names of the ATA error register's bits, "-" when none. */
void ata_error_names(uint8_t err, char *buf, size_t len);

/*
 * Rate limit for error lines: the first of a burst is printed, the rest
 * counted, and at most one line a second (carrying the count) after that.
 */
struct ahci_ratelimit {
	uint64_t last;	     /* time of the last printed line (caller's unit) */
	uint64_t suppressed; /* lines not printed since */
	bool primed;
};
/*
 * true: print now (and *suppressed receives how many were held back);
 * false: counted. interval in the same unit as now.
 */
bool ahci_ratelimit_ok(struct ahci_ratelimit *rl, uint64_t now, uint64_t interval,
		       uint64_t *suppressed);
/* Held-back lines to report once interval has passed with no new error: count, or 0. */
uint64_t ahci_ratelimit_flush(struct ahci_ratelimit *rl, uint64_t now, uint64_t interval);

/* ---- text ---- */

/* "64.0 MiB", "1.8 TiB" (binary units, one decimal, rounded down). */
void ahci_size_str(char *buf, size_t len, uint64_t bytes);
/*
 * The boot line for a disk: "sda: QEMU HARDDISK (serial QM00001), 64.0 MiB,
 * 512-byte sectors, write cache: yes, port 2 of ahci0 (MSI)".
 */
void ahci_disk_line(char *buf, size_t len, const char *name, const struct ata_identity *id,
		    unsigned port, const char *ctrl, const char *irq_mode);

#endif
