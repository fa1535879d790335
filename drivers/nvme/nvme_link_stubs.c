/*
 * TEMPORARY, delete once main has the host block devices (branch blk):
 * weak stand-ins for the hostblk functions the NVMe driver calls, so that
 * the kernel links before they land. The real definitions override them,
 * so merging that branch first is harmless. Until then the namespaces are
 * brought up but not registered anywhere (the `test_nvme` self-check
 * still reaches them).
 */
#include "kernel/blk/hostblk.h"

#define WEAK __attribute__((weak))

WEAK struct hostblk *hostblk_add(struct blkdev *dev, const char *kind, unsigned ctrl,
				 unsigned nsid, const char *model, const char *serial)
{
	static struct hostblk placeholder;
	(void)dev;
	(void)kind;
	(void)ctrl;
	(void)nsid;
	(void)model;
	(void)serial;
	return &placeholder; /* not NULL: the driver would report a full table */
}

WEAK void hostblk_controller_register(struct hostblk_controller *c)
{
	(void)c;
}
