/* The shell's host verbs: info, dmesg, host-reboot, host-poweroff. */
#include "kernel/blk/hostblk.h"
#include "kernel/console/commands.h"
#include "kernel/console/host_power.h"
#include "kernel/console/verbs.h"
#include "kernel/cpu/features.h"
#include "kernel/cpu/percpu.h"
#include "kernel/cpu/smp.h"
#include "kernel/lib/format.h"
#include "kernel/log.h"
#include "kernel/mgmt/mgmt.h"
#include "kernel/net/netdev.h"
#include "kernel/mm/mm.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/vmm.h"

void cmd_info(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct mm_stats ms;
	char feat[200];
	unsigned running = 0, paused = 0, stopped = 0;

	mm_get_stats(&ms);
	host_virt_features(feat, sizeof(feat));
	for (unsigned k = 0; k < vm_count; k++) {
		running += vms[k]->state == VM_RUNNING || vms[k]->state == VM_REBOOTING;
		paused += vms[k]->state == VM_PAUSED;
		stopped += vms[k]->state == VM_STOPPED;
	}
	uint64_t up = uptime_us() / 1000000;
	console_print("host:           hv x86-64 hypervisor, backend %s\n", hvm ? hvm->name : "none");
	console_print("cpu:            %s %s\n", host_cpu.vendor, host_cpu.brand);
	console_print("cores:          %u online, %u listed by ACPI; CPU 0 runs this console\n",
		      cpus_online(), smp_cpus_listed());
	console_print("memory:         %llu MiB managed, %llu MiB free, %llu MiB used\n",
		      (unsigned long long)(ms.managed_bytes >> 20),
		      (unsigned long long)(ms.free_bytes >> 20),
		      (unsigned long long)((ms.managed_bytes - ms.free_bytes) >> 20));
	console_print("virtualization: %s\n", feat);
	console_print("tsc:            %llu kHz\n", (unsigned long long)tsc_khz());
	console_print("vms:            %u running, %u paused, %u stopped\n", running, paused,
		      stopped);
	char mgmt[96];
	mgmt_describe(mgmt, sizeof(mgmt));
	console_print("management:     %s\n", mgmt);
	console_print("uptime:         %llu:%02llu:%02llu\n", (unsigned long long)(up / 3600),
		      (unsigned long long)(up / 60 % 60), (unsigned long long)(up % 60));
}

void cmd_dmesg(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	static char buf[16384];
	size_t n = log_read_ring(buf, sizeof(buf));
	console_write(buf, n);
	if (n && buf[n - 1] != '\n')
		console_write("\n", 1);
}

void cmd_host_reboot(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!shell_confirm("reboot the host, and every VM with it? are you sure? [y/N] ")) {
		console_print("cancelled\n");
		return;
	}
	printk("hv: host reboot requested from the console\n");
	hostblk_shutdown_all(); /* flush and shut the disk controllers down first */
	netdev_shutdown_all(); /* no NIC DMA into memory the next boot uses */
	host_reboot(shell_acpi());
}

void cmd_host_poweroff(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct host_s5 s5;
	char why[120];
	if (!host_find_s5(shell_acpi(), &s5, why, sizeof(why))) {
		shell_error("cannot power off: %s", why);
		return;
	}
	if (!shell_confirm("power the host off, and every VM with it? are you sure? [y/N] ")) {
		console_print("cancelled\n");
		return;
	}
	printk("hv: host power-off requested from the console (ACPI S5)\n");
	hostblk_shutdown_all(); /* flush and shut the disk controllers down first */
	netdev_shutdown_all(); /* no NIC DMA into memory the next boot uses */
	host_poweroff(&s5);
	shell_error("the machine is still on: ACPI S5 did not take");
}
