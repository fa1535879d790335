/* Boot modules as host disks (see hostdisk_ram.h). */
#include "kernel/blk/hostdisk_ram.h"

#include "kernel/blk/hostblk.h"
#include "kernel/blk/ramdisk.h"
#include "kernel/cmdline.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"

struct ram_host_disk {
	struct ramdisk rd;
	char path[BOOT_MODNAME_MAX];
	const struct hostblk *hb;
};

static struct ram_host_disk rams[HOSTDISK_RAM_MAX];
static unsigned nrams;

/* A module's path is the first word of its command line (as vmm.c reads it). */
static const struct boot_module *find_module(const struct boot_info *bi, const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < bi->nmodules; i++) {
		const char *c = bi->modules[i].cmdline;
		if (strncmp(c, path, len) == 0 && (c[len] == 0 || c[len] == ' '))
			return &bi->modules[i];
	}
	return NULL;
}

static void add_one(const struct boot_info *bi, const char *path)
{
	const struct boot_module *m = find_module(bi, path);
	struct ram_host_disk *r;

	if (!m) {
		printk("hv: hostdisk=%s: no such boot module\n", path);
		return;
	}
	if (hostdisk_ram_of_module(path)) {
		printk("hv: hostdisk=%s: given twice\n", path);
		return;
	}
	if (nrams == HOSTDISK_RAM_MAX) {
		printk("hv: hostdisk=%s: at most %u RAM host disks\n", path, HOSTDISK_RAM_MAX);
		return;
	}
	r = &rams[nrams];
	if (ramdisk_init(&r->rd, "ram", phys_to_virt(m->start), m->end - m->start, false) < 0) {
		printk("hv: hostdisk=%s: %llu bytes, not a disk\n", path,
		       (unsigned long long)(m->end - m->start));
		return;
	}
	strlcpy_hv(r->path, path, sizeof(r->path));
	char model[HOSTBLK_MODEL_MAX + 1];
	format(model, sizeof(model), "boot module %s", path);
	r->hb = hostblk_add(&r->rd.dev, "ram", nrams, 0, model, "");
	if (r->hb)
		nrams++;
}

void hostdisk_ram_init(const struct boot_info *bi)
{
	char list[BOOT_CMDLINE_MAX];

	if (!cmdline_get_str(bi->cmdline, "hostdisk", list, sizeof(list)))
		return;
	for (char *p = list; *p;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = 0;
		if (*p)
			add_one(bi, p);
		if (!comma)
			break;
		p = comma + 1;
	}
}

const char *hostdisk_ram_of_module(const char *path)
{
	for (unsigned i = 0; i < nrams; i++)
		if (strcmp(rams[i].path, path) == 0)
			return rams[i].hb->name;
	return NULL;
}
