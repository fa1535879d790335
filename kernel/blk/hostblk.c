/*
 * The host's block devices (see hostblk.h): a table filled at boot as the
 * drivers find their disks, each with its GPT read once then, and what VM
 * disk targets resolve against. Entries are never removed, so readers walk
 * the published ones without a lock.
 */
#include "kernel/blk/hostblk.h"

#include <stdarg.h>

#include "kernel/blk/blk_sync.h"
#include "kernel/blk/disk_claim.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"

#define ISO_SECTOR 64 /* byte 32768: the first ISO 9660 volume descriptor */

static struct hostblk disks[HOSTBLK_MAX];
static size_t ndisks; /* published: entries below it are complete */
static unsigned nsd, nram;
static spinlock_t add_lock = SPINLOCK_INIT;
static struct hostblk_controller *controllers;
static spinlock_t ctrl_lock = SPINLOCK_INIT;

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format_v(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

void hostblk_size_text(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	unsigned u = 0;

	while (u < 5 && bytes >> (10 * (u + 1)))
		u++;
	if (!u) {
		format(buf, len, "%llu B", (unsigned long long)bytes);
		return;
	}
	uint64_t whole = bytes >> (10 * u);
	uint64_t rest = bytes & ((1ull << (10 * u)) - 1); /* < 2^50: times 10 fits */
	format(buf, len, "%llu.%llu %s", (unsigned long long)whole,
	       (unsigned long long)((rest * 10) >> (10 * u)), units[u]);
}

static uint64_t sectors_per_block(const struct blkdev *d)
{
	return d->block_size > BLK_SECTOR_SIZE ? d->block_size / BLK_SECTOR_SIZE : 1;
}

static bool ends_with_digit(const char *s)
{
	size_t n = strlen(s);
	return n && s[n - 1] >= '0' && s[n - 1] <= '9';
}

/* Linux's rule: nvme0n1 + 2 -> nvme0n1p2, sda + 2 -> sda2. */
static void part_name(char *buf, size_t len, const char *disk, unsigned number)
{
	format(buf, len, "%s%s%u", disk, ends_with_digit(disk) ? "p" : "", number);
}

/* sda, sdb, ..., sdz, sdaa, ... (bijective base 26, as Linux names them) */
static void sd_name(char *buf, size_t len, unsigned index)
{
	char letters[8];
	int n = 0;

	index++;
	while (index && n < 7) {
		index--;
		letters[n++] = (char)('a' + index % 26);
		index /= 26;
	}
	char rev[8];
	for (int i = 0; i < n; i++)
		rev[i] = letters[n - 1 - i];
	rev[n] = 0;
	format(buf, len, "sd%s", rev);
}

static int gpt_read_blocks(void *ctx, uint64_t lba, unsigned count, void *buf)
{
	struct blkdev *d = ctx;
	uint64_t per = sectors_per_block(d);

	if (lba > UINT64_MAX / per || (uint64_t)count * per > UINT32_MAX)
		return -1;
	return blk_read_sync(d, lba * per, buf, (uint32_t)(count * per), HOSTBLK_IO_TIMEOUT_MS) ==
			       BLK_OK
		       ? 0
		       : -1;
}

/* The hybrid USB image: an ISO 9660 volume ("CD001" at byte 32769) on a disk. */
static bool has_iso9660(struct blkdev *d)
{
	uint64_t per = sectors_per_block(d);
	bool found = false;

	if (d->sectors < ISO_SECTOR + per)
		return false;
	uint8_t *buf = kmalloc(per * BLK_SECTOR_SIZE);
	if (!buf)
		return false;
	if (blk_read_sync(d, ISO_SECTOR, buf, (uint32_t)per, HOSTBLK_IO_TIMEOUT_MS) == BLK_OK)
		found = memcmp(buf + 1, "CD001", 5) == 0;
	kfree(buf);
	return found;
}

static void read_table(struct hostblk *hb)
{
	struct blkdev *d = hb->dev;
	uint64_t per = sectors_per_block(d);
	struct gpt_table *t = kmalloc(sizeof(*t));

	if (!t) {
		hb->gpt = GPT_IOERR;
		format(hb->gpt_note, sizeof(hb->gpt_note), "out of memory for the GPT");
		return;
	}
	hb->gpt = gpt_read(gpt_read_blocks, d, d->sectors / per, (uint32_t)(per * BLK_SECTOR_SIZE),
			   t, hb->gpt_note, sizeof(hb->gpt_note));
	if (hb->gpt == GPT_OK)
		hb->table = t;
	else
		kfree(t);
}

static void log_disk(const struct hostblk *hb)
{
	const struct blkdev *d = hb->dev;
	char size[24], what[160], extra[120];
	size_t n = 0;

	hostblk_size_text(size, sizeof(size), d->sectors * BLK_SECTOR_SIZE);
	switch (hb->gpt) {
	case GPT_OK:
		format(what, sizeof(what), "GPT with %u partition%s", hb->table->nparts,
		       hb->table->nparts == 1 ? "" : "s");
		break;
	case GPT_NONE:
		format(what, sizeof(what), "no GPT");
		break;
	case GPT_BAD:
		format(what, sizeof(what), "GPT unusable: %s", hb->gpt_note);
		break;
	default:
		format(what, sizeof(what), "GPT unreadable: %s", hb->gpt_note);
		break;
	}
	extra[0] = 0;
	if (d->block_size > BLK_SECTOR_SIZE)
		n += (size_t)format(extra + n, sizeof(extra) - n, ", %u-byte blocks", d->block_size);
	if (d->read_only && n < sizeof(extra))
		n += (size_t)format(extra + n, sizeof(extra) - n, ", read-only");
	if (hb->boot_medium && n < sizeof(extra))
		n += (size_t)format(extra + n, sizeof(extra) - n, ", boot medium");
	if (hb->model[0] && n < sizeof(extra))
		format(extra + n, sizeof(extra) - n, " (%s%s%s)", hb->model, hb->serial[0] ? " " : "",
		       hb->serial);
	printk("blk: %s: %s, %s%s\n", hb->name, size, what, extra);
	if (hb->gpt == GPT_OK && hb->gpt_note[0])
		printk("blk: %s: %s\n", hb->name, hb->gpt_note);
	if (hb->gpt != GPT_OK)
		return;
	for (unsigned i = 0; i < hb->table->nparts; i++) {
		const struct gpt_part *p = &hb->table->parts[i];
		char name[BLK_NAME_LEN], uuid[40];

		part_name(name, sizeof(name), hb->name, p->number);
		hostblk_size_text(size, sizeof(size),
				  (p->last_lba - p->first_lba + 1) * (uint64_t)d->block_size);
		gpt_guid_format(p->uuid, uuid, sizeof(uuid));
		printk("blk: %s \"%s\" %s partuuid %s\n", name, p->name, size, uuid);
	}
}

struct hostblk *hostblk_add(struct blkdev *dev, const char *kind, unsigned ctrl, unsigned nsid,
			    const char *model, const char *serial)
{
	char name[BLK_NAME_LEN];
	struct hostblk *hb;
	size_t n;

	if (!dev->block_size)
		dev->block_size = BLK_SECTOR_SIZE;
	spin_lock(&add_lock);
	n = ndisks;
	if (n == HOSTBLK_MAX) {
		spin_unlock(&add_lock);
		printk("blk: more than %u host disks: %s %u/%u ignored\n", HOSTBLK_MAX, kind, ctrl,
		       nsid);
		return NULL;
	}
	if (strcmp(kind, "nvme") == 0)
		format(name, sizeof(name), "nvme%un%u", ctrl, nsid);
	else if (strcmp(kind, "sd") == 0)
		sd_name(name, sizeof(name), nsd);
	else if (strcmp(kind, "ram") == 0)
		format(name, sizeof(name), "ram%u", nram);
	else
		format(name, sizeof(name), "%.16s%u", kind, ctrl);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(disks[i].name, name) == 0) {
			spin_unlock(&add_lock);
			printk("blk: %s registered twice; the second ignored\n", name);
			return NULL;
		}
	}
	nsd += strcmp(kind, "sd") == 0;
	nram += strcmp(kind, "ram") == 0;
	hb = &disks[n];
	memset(hb, 0, sizeof(*hb));
	strlcpy_hv(hb->name, name, sizeof(hb->name));
	strlcpy_hv(hb->model, model ? model : "", sizeof(hb->model));
	strlcpy_hv(hb->serial, serial ? serial : "", sizeof(hb->serial));
	hb->dev = dev;
	strlcpy_hv(dev->name, name, sizeof(dev->name));
	/* the reads go through the driver's completions: the lock only orders registrations */
	hb->boot_medium = has_iso9660(dev);
	read_table(hb);
	__atomic_store_n(&ndisks, n + 1, __ATOMIC_RELEASE);
	spin_unlock(&add_lock);
	log_disk(hb);
	return hb;
}

void hostblk_controller_register(struct hostblk_controller *c)
{
	struct hostblk_controller **p;

	spin_lock(&ctrl_lock);
	c->next = NULL;
	for (p = &controllers; *p; p = &(*p)->next)
		;
	*p = c;
	spin_unlock(&ctrl_lock);
}

void hostblk_shutdown_all(void)
{
	for (struct hostblk_controller *c = controllers; c; c = c->next) {
		if (!c->shutdown)
			continue;
		printk("blk: shutting %s down\n", c->name);
		c->shutdown(c->arg);
	}
}

size_t hostblk_count(void)
{
	return __atomic_load_n(&ndisks, __ATOMIC_ACQUIRE);
}

struct hostblk *hostblk_get(size_t i)
{
	return i < hostblk_count() ? &disks[i] : NULL;
}

struct hostblk *hostblk_find(const char *name)
{
	size_t n = hostblk_count();

	for (size_t i = 0; i < n; i++)
		if (strcmp(disks[i].name, name) == 0)
			return &disks[i];
	return NULL;
}

void hostblk_offline(struct blkdev *dev, const char *why)
{
	size_t n = hostblk_count();

	for (size_t i = 0; i < n; i++) {
		struct hostblk *hb = &disks[i];

		if (hb->dev != dev || hb->offline)
			continue;
		strlcpy_hv(hb->offline_why, why, sizeof(hb->offline_why));
		__atomic_store_n(&hb->offline, true, __ATOMIC_RELEASE);
		printk("blk: %s offline: %s\n", hb->name, why);
	}
}

/* ---- targets ---- */

static void fill_part(struct hostblk_target *out, struct hostblk *hb, const struct gpt_part *p)
{
	uint64_t per = sectors_per_block(hb->dev);

	out->hb = hb;
	/* last_lba < the disk's blocks (gpt.c): both products fit */
	out->first_sector = p->first_lba * per;
	out->sectors = (p->last_lba - p->first_lba + 1) * per;
	part_name(out->canonical, sizeof(out->canonical), hb->name, p->number);
	strlcpy_hv(out->label, p->name, sizeof(out->label));
	gpt_guid_format(p->uuid, out->uuid, sizeof(out->uuid));
}

static int check_online(const struct hostblk *hb, char *err, size_t errlen)
{
	if (__atomic_load_n(&hb->offline, __ATOMIC_ACQUIRE))
		return fail(err, errlen, "%s is offline: %s", hb->name, hb->offline_why);
	return 0;
}

/* Appends "; sdb's GPT is unusable: REASON" for the first disk a search could not look into. */
static void note_unreadable(char *err, size_t errlen)
{
	size_t n = hostblk_count(), used = strlen(err);

	for (size_t i = 0; i < n && used < errlen; i++) {
		const struct hostblk *hb = &disks[i];

		if (hb->gpt == GPT_BAD || hb->gpt == GPT_IOERR) {
			format(err + used, errlen - used, " (%s's GPT is unusable: %s)", hb->name,
			       hb->gpt_note);
			return;
		}
	}
}

/*
 * partlabel: or partuuid: over every disk's table. A match on the boot
 * medium never counts: it is named by device name or not at all.
 */
static int resolve_search(const char *what, const char *label, const uint8_t *uuid,
			  struct hostblk_target *out, char *err, size_t errlen)
{
	size_t n = hostblk_count();
	unsigned found = 0;
	char names[3][BLK_NAME_LEN], boot_name[BLK_NAME_LEN] = "";
	struct hostblk *first_hb = NULL, *boot_hb = NULL;
	const struct gpt_part *first_p = NULL;
	bool other_disk = false;

	for (size_t i = 0; i < n; i++) {
		struct hostblk *hb = &disks[i];

		if (hb->gpt != GPT_OK)
			continue;
		for (unsigned k = 0; k < hb->table->nparts; k++) {
			const struct gpt_part *p = &hb->table->parts[k];

			if (label ? strcmp(p->name, label) != 0 : memcmp(p->uuid, uuid, 16) != 0)
				continue;
			if (hb->boot_medium) {
				if (!boot_hb) {
					boot_hb = hb;
					part_name(boot_name, sizeof(boot_name), hb->name, p->number);
				}
				continue;
			}
			if (found < 3)
				part_name(names[found], sizeof(names[found]), hb->name, p->number);
			if (!found) {
				first_hb = hb;
				first_p = p;
			} else if (hb != first_hb) {
				other_disk = true;
			}
			found++;
		}
	}
	if (found == 1) {
		if (check_online(first_hb, err, errlen) < 0)
			return -1;
		fill_part(out, first_hb, first_p);
		return 0;
	}
	if (found > 1) {
		const char *hint = label ? "use partuuid:" : "name the partition instead";
		if (found == 2)
			return fail(err, errlen, "%s is on two %s (%s, %s): %s", what,
				    other_disk ? "disks" : "partitions", names[0], names[1], hint);
		return fail(err, errlen, "%s is on %u partitions (%s, %s, %s%s): %s", what, found,
			    names[0], names[1], names[2], found > 3 ? ", ..." : "", hint);
	}
	if (boot_hb)
		return fail(err, errlen, "%s is on the boot medium %s: name it as %s to use it", what,
			    boot_hb->name, boot_name);
	if (label)
		fail(err, errlen, "no partition labelled \"%s\" on any host disk", label);
	else
		fail(err, errlen, "no %s on any host disk", what);
	if (!n)
		format(err + strlen(err), errlen - strlen(err), " (no host disks were found)");
	else
		note_unreadable(err, errlen);
	return -1;
}

/* nvme0n1, nvme0n1p3, sda, sda2, ram0p1: a disk by name, and a partition slot. */
static int resolve_name(const char *name, struct hostblk_target *out, char *err, size_t errlen)
{
	size_t n = hostblk_count();

	for (size_t i = 0; i < n; i++) {
		struct hostblk *hb = &disks[i];
		size_t len = strlen(hb->name);
		const char *rest = name + len;
		unsigned number = 0;

		if (strncmp(name, hb->name, len) != 0)
			continue;
		if (*rest) {
			if (ends_with_digit(hb->name) && *rest++ != 'p')
				continue;
			if (!str_all_digits(rest))
				continue;
			if (strlen(rest) > 3)
				return fail(err, errlen, "%s has no partition %s", hb->name, rest);
			for (; *rest; rest++)
				number = number * 10 + (unsigned)(*rest - '0');
		}
		if (check_online(hb, err, errlen) < 0)
			return -1;
		if (!number) {
			if (name[len]) /* "sda0", "nvme0n1p0" */
				return fail(err, errlen, "%s has no partition 0 (GPT slots count from 1)",
					    hb->name);
			out->hb = hb;
			out->first_sector = 0;
			out->sectors = hb->dev->sectors;
			strlcpy_hv(out->canonical, hb->name, sizeof(out->canonical));
			return 0;
		}
		if (hb->gpt == GPT_NONE)
			return fail(err, errlen, "%s has no GPT, so no partition %u", hb->name, number);
		if (hb->gpt != GPT_OK)
			return fail(err, errlen, "%s has no usable GPT: %s", hb->name, hb->gpt_note);
		for (unsigned k = 0; k < hb->table->nparts; k++) {
			if (hb->table->parts[k].number == number) {
				fill_part(out, hb, &hb->table->parts[k]);
				return 0;
			}
		}
		return fail(err, errlen, "%s has no partition %u", hb->name, number);
	}
	fail(err, errlen, "no host disk named %s", name);
	if (!n) {
		format(err + strlen(err), errlen - strlen(err), " (no host disks were found)");
		return -1;
	}
	size_t used = strlen(err);
	for (size_t i = 0; i < n && used < errlen; i++)
		used += (size_t)format(err + used, errlen - used, "%s%s", i ? ", " : " (host disks: ",
				       disks[i].name);
	if (used < errlen)
		format(err + used, errlen - used, ")");
	return -1;
}

int hostblk_resolve(const char *target, struct hostblk_target *out, char *err, size_t errlen)
{
	static const char by_label[] = "/dev/disk/by-partlabel/", by_uuid[] = "/dev/disk/by-partuuid/";
	const char *t = target, *label = NULL, *uuid_text = NULL;

	memset(out, 0, sizeof(*out));
	if (strncmp(t, "partlabel:", 10) == 0)
		label = t + 10;
	else if (strncmp(t, by_label, sizeof(by_label) - 1) == 0)
		label = t + sizeof(by_label) - 1;
	else if (strncmp(t, "partuuid:", 9) == 0)
		uuid_text = t + 9;
	else if (strncmp(t, by_uuid, sizeof(by_uuid) - 1) == 0)
		uuid_text = t + sizeof(by_uuid) - 1;
	if (label) {
		char what[GPT_NAME_MAX + 32];

		if (!*label)
			return fail(err, errlen, "%s names no partition label", target);
		if (strlen(label) > GPT_NAME_MAX)
			return fail(err, errlen, "partition label \"%.40s...\" is longer than a GPT "
				    "label (36 characters)", label);
		format(what, sizeof(what), "partition label \"%s\"", label);
		return resolve_search(what, label, NULL, out, err, errlen);
	}
	if (uuid_text) {
		uint8_t uuid[16];
		char what[64], text[40];

		if (!gpt_guid_parse(uuid_text, uuid))
			return fail(err, errlen, "%.60s is not a GPT partition UUID (like "
				    "0fc63daf-8483-4772-8e79-3d69d8477de4)", uuid_text);
		gpt_guid_format(uuid, text, sizeof(text));
		format(what, sizeof(what), "partition UUID %s", text);
		return resolve_search(what, NULL, uuid, out, err, errlen);
	}
	if (strncmp(t, "/dev/", 5) == 0)
		t += 5;
	return resolve_name(t, out, err, errlen);
}

/* ---- block-list ---- */

static void list_line(const char *name, uint64_t bytes, const char *label, const char *uuid,
		      const char *device, uint64_t first, uint64_t count)
{
	char size[24], users[120];

	hostblk_size_text(size, sizeof(size), bytes);
	if (!disk_claim_users(&disk_claims_host, device, first, count, users, sizeof(users)))
		format(users, sizeof(users), "-");
	console_print("%-12s %10s  %-20s %-36s  %s\n", name, size, label, uuid, users);
}

void hostblk_list(void)
{
	size_t n = hostblk_count();
	bool any_boot = false;

	if (!n) {
		console_print("no host disks\n");
		return;
	}
	console_print("%-12s %10s  %-20s %-36s  %s\n", "Device", "Size", "Label", "PartUUID",
		      "Used by");
	for (size_t i = 0; i < n; i++) {
		const struct hostblk *hb = &disks[i];
		char name[BLK_NAME_LEN + 4], what[32];

		format(name, sizeof(name), "%s%s", hb->name, hb->boot_medium ? " *" : "");
		any_boot |= hb->boot_medium;
		if (hb->offline)
			format(what, sizeof(what), "(offline)");
		else if (hb->gpt == GPT_OK)
			format(what, sizeof(what), "(GPT, %u partition%s)", hb->table->nparts,
			       hb->table->nparts == 1 ? "" : "s");
		else if (hb->gpt == GPT_NONE)
			format(what, sizeof(what), "(no GPT)");
		else
			format(what, sizeof(what), "(GPT unusable)");
		list_line(name, hb->dev->sectors * BLK_SECTOR_SIZE, what, hb->model, hb->name, 0,
			  hb->dev->sectors);
		if (hb->gpt != GPT_OK)
			continue;
		uint64_t per = sectors_per_block(hb->dev);
		for (unsigned k = 0; k < hb->table->nparts; k++) {
			const struct gpt_part *p = &hb->table->parts[k];
			char pname[BLK_NAME_LEN + 2], uuid[40];
			uint64_t blocks = p->last_lba - p->first_lba + 1;

			part_name(pname, sizeof(pname), hb->name, p->number);
			format(name, sizeof(name), "  %s", pname);
			gpt_guid_format(p->uuid, uuid, sizeof(uuid));
			list_line(name, blocks * per * BLK_SECTOR_SIZE, p->name[0] ? p->name : "-",
				  uuid, hb->name, p->first_lba * per, blocks * per);
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct hostblk *hb = &disks[i];

		if (hb->offline)
			console_print("%s: offline: %s\n", hb->name, hb->offline_why);
		else if (hb->gpt_note[0] && hb->gpt != GPT_NONE)
			console_print("%s: %s\n", hb->name, hb->gpt_note);
	}
	if (any_boot)
		console_print("* the boot medium: a VM gets it only by naming its device\n");
}

#ifdef HV_HOSTED
void hostblk_reset(void)
{
	for (size_t i = 0; i < ndisks; i++)
		kfree(disks[i].table);
	memset(disks, 0, sizeof(disks));
	ndisks = 0;
	nsd = nram = 0;
	controllers = NULL;
}
#endif
