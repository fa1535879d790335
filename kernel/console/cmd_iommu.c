/* The `iommu` verb: the VT-d units, and where each PCI device's DMA goes. */
#include "kernel/console/commands.h"
#include "kernel/log.h"
#include "kernel/iommu/iommu.h"

static void print_line(void *ctx, const char *s)
{
	(void)ctx;
	console_print("%s\n", s);
}

void cmd_iommu(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	iommu_report(print_line, NULL);
	iommu_report_devices(print_line, NULL);
}
