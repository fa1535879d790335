/*
 * The host's block devices as the hypervisor's own drivers find them, with
 * their GPT partitions, named as Linux names them: nvme<ctrl>n<ns> and
 * nvme0n1p<k>, sd<a..> and sda<k> (k: the GPT slot number).
 *
 * Drivers call hostblk_add() for each disk once it answers I/O; the GPT is
 * read then (synchronously, at boot). VM disks resolve their targets here
 * and open a view (part_dev.h) bounded to the partition or whole device.
 *
 * The boot medium (a disk carrying this hypervisor's own image: an ISO 9660
 * volume at byte 32768, as on the hybrid USB stick) is marked, and is never
 * given to a VM by label or UUID: only a target naming it by device name
 * (`sda`, `sda2`) reaches it.
 */
#ifndef HV_KERNEL_BLK_HOSTBLK_H
#define HV_KERNEL_BLK_HOSTBLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/blk/blkdev.h"
#include "kernel/blk/gpt.h"

#define HOSTBLK_MAX 32
#define HOSTBLK_MODEL_MAX 40
#define HOSTBLK_SERIAL_MAX 20

struct hostblk {
	char name[BLK_NAME_LEN]; /* "nvme0n1", "sda" */
	char model[HOSTBLK_MODEL_MAX + 1];
	char serial[HOSTBLK_SERIAL_MAX + 1];
	struct blkdev *dev; /* the whole device; its name is set to `name` */
	bool boot_medium;
	enum gpt_result gpt;	/* GPT_OK, GPT_NONE, GPT_BAD, GPT_IOERR */
	char gpt_note[128];	/* why it is bad, or "using the backup GPT" */
	struct gpt_table *table; /* on GPT_OK (allocated) */
	bool offline;		 /* its driver gave up on it (hostblk_offline) */
	char offline_why[96];
};

/* How long a synchronous host read (the GPT, the boot-medium check) may take. */
#define HOSTBLK_IO_TIMEOUT_MS 5000u

/*
 * Host controllers register what must happen on host-poweroff and
 * host-reboot (flush, NVMe shutdown notification), and drivers report
 * offline devices through hostblk_offline().
 */
struct hostblk_controller {
	const char *name; /* "nvme0", "ahci0" */
	void (*shutdown)(void *arg);
	void *arg;
	struct hostblk_controller *next;
};

/*
 * Registers a disk a driver brought up (its blkdev answers submit with
 * real I/O, completions through deferred work) under the next name for
 * `kind`: hostblk_add(dev, "nvme", 0, 1, ...) -> "nvme0n1";
 * hostblk_add(dev, "sd", 0, 0, ...) -> "sda", "sdb", ... in call order.
 * Reads its GPT and logs one boot line per disk and per partition.
 * Returns the entry, or NULL when the table is full (or the name is
 * taken). Called from a driver's probe, never from deferred work or an
 * interrupt: it waits for its own reads, running deferred work meanwhile.
 */
struct hostblk *hostblk_add(struct blkdev *dev, const char *kind, unsigned ctrl, unsigned nsid,
			    const char *model, const char *serial);
void hostblk_controller_register(struct hostblk_controller *c);
/*
 * A driver gave up on dev (a controller that failed its reset): logged once,
 * shown by block-list, and refused to VMs created from now on. The driver
 * itself fails every request on it with BLK_EIO.
 */
void hostblk_offline(struct blkdev *dev, const char *why);
/* host-poweroff / host-reboot: every controller's shutdown, in registration order. */
void hostblk_shutdown_all(void);

size_t hostblk_count(void);
struct hostblk *hostblk_get(size_t i);
struct hostblk *hostblk_find(const char *name);

/* What a VM disk target names: a device and a range of 512-byte sectors on it. */
struct hostblk_target {
	struct hostblk *hb;
	uint64_t first_sector; /* 512-byte units */
	uint64_t sectors;
	char canonical[BLK_NAME_LEN]; /* "nvme0n1p2" or "nvme0n1": the claim's key */
	char label[GPT_NAME_MAX + 1];
	char uuid[40];
};

/*
 * Resolves `partlabel:NAME`, `partuuid:UUID`, a partition name (`nvme0n1p3`,
 * `sda2`), a whole device (`nvme0n1`, `sda`), each also with a `/dev/`
 * prefix. 0, or -1 with the reason: "no partition labelled NAME on any host
 * disk", "partition label NAME is on two disks (nvme0n1p2, sda1): use
 * partuuid:", "sda has no usable GPT: REASON", "partition label NAME is on
 * the boot medium sda: name it as sda2 to use it", "nvme0n1 is offline:
 * WHY", ... Also /dev/disk/by-partlabel/NAME and /dev/disk/by-partuuid/UUID.
 */
int hostblk_resolve(const char *target, struct hostblk_target *out, char *err, size_t errlen);

/* The `block-list` host verb: devices and partitions, size, label, UUID and the VMs using them. */
void hostblk_list(void);

/* "64.0 MiB": bytes in binary units with one decimal (the boot lines, block-list). */
void hostblk_size_text(char *buf, size_t len, uint64_t bytes);

#ifdef HV_HOSTED
/* Unit tests: forget every disk and controller. */
void hostblk_reset(void);
#endif

#endif
