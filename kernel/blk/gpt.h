/*
 * GUID Partition Tables (UEFI 2.10 §5.3): the primary header at LBA 1 with
 * its entry array, the backup header at the last LBA with its own. Both
 * header CRCs and both entry-array CRCs are checked; the primary is used
 * when it is whole, the backup when only it is. Pure logic over a read
 * callback, so hostile tables are unit-tested hosted.
 *
 * Refused (with the reason in words): no "EFI PART" signature, a header
 * size outside 92..block size, bad CRCs, an entry size that is not
 * 128 * 2^n, more than GPT_MAX_ENTRIES entries, entries outside the usable
 * range, first > last, overlapping partitions, a header whose
 * MyLBA/AlternateLBA disagree with where it was read.
 */
#ifndef HV_KERNEL_BLK_GPT_H
#define HV_KERNEL_BLK_GPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GPT_MAX_ENTRIES 128 /* what the hypervisor reads; more is refused */
#define GPT_MAX_PARTS 128
#define GPT_NAME_MAX 72 /* 36 UTF-16 code units as UTF-8 (non-ASCII as '?') */

struct gpt_part {
	unsigned number;    /* 1-based slot in the entry array (sda2 = slot 2) */
	uint64_t first_lba; /* in the device's logical blocks */
	uint64_t last_lba;  /* inclusive */
	uint8_t type_guid[16];
	uint8_t uuid[16];
	uint64_t attributes;
	char name[GPT_NAME_MAX + 1];
};

struct gpt_table {
	uint8_t disk_guid[16];
	uint64_t first_usable, last_usable;
	bool used_backup;     /* the primary was damaged: the backup was used */
	bool backup_damaged;  /* the primary was used; the backup is damaged or missing */
	unsigned nparts;      /* non-empty entries, in slot order */
	struct gpt_part parts[GPT_MAX_PARTS];
};

/* Reads `count` logical blocks at lba into buf: 0, or -1 on an I/O error. */
typedef int (*gpt_read_fn)(void *ctx, uint64_t lba, unsigned count, void *buf);

enum gpt_result {
	GPT_OK = 0,
	GPT_NONE = 1,	/* neither header has the signature: no GPT (not an error by itself) */
	GPT_BAD = -1,	/* a GPT exists but neither copy is usable; why says so */
	GPT_IOERR = -2, /* the device could not be read */
};

/*
 * Reads the table of a device with `blocks` logical blocks of block_size
 * (512 or 4096) bytes. A protective MBR is not required. *t is filled on
 * GPT_OK; why gets the reason otherwise (and a note such as "primary GPT
 * damaged (header CRC): using the backup" is left in why on GPT_OK).
 */
enum gpt_result gpt_read(gpt_read_fn read, void *ctx, uint64_t blocks, uint32_t block_size,
			 struct gpt_table *t, char *why, size_t whylen);

/* The CRC-32 (IEEE 802.3, reflected, as GPT and zlib use it). */
uint32_t gpt_crc32(const void *buf, size_t len);

/* GUIDs in the mixed-endian text form GPT tools print: "0fc63daf-8483-4772-8e79-3d69d8477de4". */
void gpt_guid_format(const uint8_t guid[16], char *buf, size_t len);
/* Parses that form (case-insensitive); false when malformed. */
bool gpt_guid_parse(const char *s, uint8_t guid[16]);

#endif
