/* Boot modules as VMs' RAM disks (see ramdisk_module.h). */
#include "kernel/blk/ramdisk_module.h"

#include "kernel/blk/disk_claim.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/mm/mm.h"

int ramdisk_attach(struct ramdisk *rd, const struct vm_disk *disk, const struct boot_module *m,
		   const char *vm_name, char *err, size_t errlen)
{
	char name[BLK_NAME_LEN];
	uint64_t bytes = m->end > m->start ? m->end - m->start : 0;

	memset(rd, 0, sizeof(*rd));
	rd->claim = -1;
	if (bytes < BLK_SECTOR_SIZE) {
		format(err, errlen, "disk target %s is %llu bytes: a disk needs at least %u",
		       disk->target, (unsigned long long)bytes, BLK_SECTOR_SIZE);
		return -1;
	}
	int claim = disk_claim_take(&disk_claims_host, disk->target, vm_name, !disk->read_only,
				    err, errlen);
	if (claim < 0)
		return -1;
	format(name, sizeof(name), "ram:%s", disk->target);
	/* the module lies in the host's identity map: its bytes are the disk, in place */
	ramdisk_init(rd, name, phys_to_virt(m->start), bytes, disk->read_only);
	rd->claim = claim;
	return 0;
}

void ramdisk_detach(struct ramdisk *rd)
{
	disk_claim_release(&disk_claims_host, rd->claim);
	memset(rd, 0, sizeof(*rd));
	rd->claim = -1;
}
