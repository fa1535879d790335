#include "kernel/hvexit.h"

#include "include/x86.h"
#include "kernel/cmdline.h"
#include "kernel/log.h"

static uint16_t exit_port;

void hv_exit_init(const char *cmdline)
{
	uint64_t port;
	if (cmdline_get_u64(cmdline, "debug_exit", &port) && port > 0 && port < 0x10000)
		exit_port = (uint16_t)port;
}

bool hv_exit_configured(void)
{
	return exit_port != 0;
}

void hv_exit_status(uint8_t status)
{
	if (!exit_port)
		return;
	printk("hv: exit status %u\n", status);
	outb(exit_port, status);
}
