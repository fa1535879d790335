/*
 * The boot path of the bootstrap processor: from the loader's hand-off to
 * a running, reporting host with every core online.
 */
#include "drivers/i8042.h"
#include "drivers/i8259.h"
#include "drivers/lapic.h"
#include "drivers/uart16550.h"
#include "include/x86.h"
#include "kernel/acpi/acpi.h"
#include "kernel/acpi/acpi_dump.h"
#include "kernel/blk/hostblk.h"
#include "kernel/boot/bootinfo.h"
#include "kernel/blk/hostdisk_ram.h"
#include "kernel/cmdline.h"
#include "kernel/console/screen.h"
#include "kernel/vm/exitprof.h"
#include "kernel/vm/pvsched.h"
#include "kernel/vm/fastpath.h"
#include "kernel/console/shell.h"
#include "kernel/cpu/features.h"
#include "kernel/cpu/idt.h"
#include "kernel/cpu/percpu.h"
#include "kernel/cpu/smp.h"
#include "kernel/hvexit.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mgmt/mgmt.h"
#include "kernel/net/netdev.h"
#include "kernel/mm/mm.h"
#include "kernel/net/uplink.h"
#include "kernel/panic.h"
#include "kernel/iommu/iommu.h"
#include "kernel/pci/pci.h"
#include "kernel/report.h"
#include "kernel/time/wallclock.h"
#include "kernel/selftest.h"
#include "kernel/time/timer.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/vm.h"
#include "kernel/vm/vmm.h"

extern char boot_stack_bottom[], boot_stack_top[];

static struct boot_info boot_info;
static struct acpi_info acpi;
static bool acpi_ok;

/* The BSP's exception stacks: static, since they are needed before memory is. */
static uint8_t bsp_ist_stacks[IST_COUNT][4096] __attribute__((aligned(4096)));

static const void *phys_ptr(uint64_t phys)
{
	return phys_to_virt(phys);
}

static void bsp_cpu_init(void)
{
	struct cpu *c = cpus[0];
	c->index = 0;
	c->stack = (struct stack_range){(uint64_t)boot_stack_bottom, (uint64_t)boot_stack_top};
	for (int i = 1; i <= IST_COUNT; i++)
		c->ist[i] = (struct stack_range){(uint64_t)bsp_ist_stacks[i - 1],
						 (uint64_t)bsp_ist_stacks[i - 1] + 4096};
	c->online = true;
	cpuset_add(&cpus_online_set, 0);
	cpu_count = 1;
	idt_init();
	cpu_local_init(c);
}

static bool screen_wanted;

/*
 * console= picks the serial port, the screen or both (Xen: console=com1,vga).
 * With no UART at all the screen is the console, whatever was asked.
 */
static void console_init(const char *cmdline)
{
	struct serial_params sp;
	char err[128];
	int bad = cmdline_serial(cmdline, &sp, err, sizeof(err));
	bool serial, vga;
	cmdline_console(cmdline, &serial, &vga);
	screen_wanted = vga;

	if (!uart_init(&sp)) {
		struct serial_params com1 = {0x3f8, 115200, 8, 'n', 1};
		if (uart_init(&com1)) {
			printk("hv: no UART answers at port %#x; console stays on COM1\n", sp.port);
		} else {
			serial = false;
			screen_wanted = true;
			printk("hv: no serial port found; the console is on the screen\n");
		}
	}
	console_serial_enable(serial);
	if (bad)
		printk("hv: ignoring a bad console option: %s\n", err);
}

/* The screen console, once memory is up (it maps the framebuffer). */
static void screen_console_init(void)
{
	i8042_init();
	if (!screen_wanted)
		return;
	if (!screen_init(&boot_info) && !console_serial_enabled()) {
		/* nothing to draw on: back to COM1 rather than silence */
		console_serial_enable(true);
		printk("hv: no screen to use; the console is back on the serial port\n");
	}
}

static void parse_boot_info(uint32_t magic, uint32_t info)
{
	int r;
	if (magic == MB2_BOOTLOADER_MAGIC)
		r = bootinfo_parse_mb2(&boot_info, phys_to_virt(info), info);
	else if (magic == MB1_BOOTLOADER_MAGIC)
		r = bootinfo_parse_mb1(&boot_info, phys_to_virt(info), info, phys_ptr);
	else
		panic("not started by a multiboot loader (EAX=%#x); boot hv.elf with GRUB's "
		      "multiboot2 command",
		      magic);
	if (r < 0)
		panic("the boot loader's multiboot%d information is malformed", boot_info.protocol);
	if (boot_info.nregions == 0)
		panic("the boot loader gave no memory map");
	/*
	 * Without an RSDP from the loader, look where BIOS firmware keeps it;
	 * done now, while page zero (the EBDA pointer) is still mapped.
	 */
	if (!boot_info.rsdp_len && !boot_info.efi) {
		uint64_t a = acpi_find_rsdp_bios(phys_ptr);
		if (a) {
			const uint8_t *p = phys_to_virt(a);
			boot_info.rsdp_len = p[15] >= 2 ? 36 : 20;
			memcpy(boot_info.rsdp, p, boot_info.rsdp_len);
		}
	}
}

static void acpi_init(void)
{
	char err[128];
	const uint8_t *rsdp = boot_info.rsdp;
	size_t len = boot_info.rsdp_len;

	if (!len) {
		printk("hv: no ACPI RSDP found: assuming one CPU, no PM timer\n");
		return;
	}
	if (acpi_parse(&acpi, rsdp, len, phys_ptr, err, sizeof(err)) < 0) {
		printk("hv: ACPI tables unusable (%s): assuming one CPU\n", err);
		return;
	}
	acpi_ok = true;
	const char *v;
	size_t vlen;
	if (cmdline_find(boot_info.cmdline, "acpi_dump", &v, &vlen))
		acpi_dump(rsdp, len, &acpi, phys_ptr);
	for (size_t i = 0; i < acpi.ntables; i++)
		if (!acpi.tables[i].checksum_ok)
			printk("hv: ACPI table %s at %#llx has a bad checksum; ignored\n",
			       acpi.tables[i].signature, (unsigned long long)acpi.tables[i].address);
}

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	char err[128];

	log_init();
	bsp_cpu_init();
	parse_boot_info(magic, info);
	console_init(boot_info.cmdline);
	printk("\nhv: x86-64 hypervisor starting (multiboot%d%s)\n", boot_info.protocol,
	       boot_info.efi ? ", UEFI" : "");
	hv_exit_init(boot_info.cmdline);

	if (mm_init(&boot_info, err, sizeof(err)) < 0)
		panic("memory: %s", err);
	screen_console_init();
	acpi_init();
	iommu_options(boot_info.cmdline); /* pci_host_init sets the IOMMU up before drivers bind */
	i8259_disable();
	if (!lapic_setup_bsp())
		panic("this CPU has no local APIC");
	cpus[0]->apic_id = lapic_id();
	if (!tsc_init(acpi_ok ? &acpi : NULL))
		printk("hv: could not learn the TSC frequency; timing will be off\n");
	wallclock_init(acpi_ok ? &acpi : NULL);
	timer_setup_bsp();
	timer_enable_this_cpu();
	irq_enable();
	if (!smp_timer_selftest())
		printk("hv: CPU 0: the local APIC timer did not fire\n");

	if (acpi_ok)
		smp_boot(&acpi);
	else
		printk("hv: without ACPI the other CPUs cannot be found; using the boot CPU only\n");
	smp_wait_timer_checks();
	/* the host's own devices: once every CPU is up (their TLBs see the new mappings) */
	char kept[256];
	if (cmdline_get_str(boot_info.cmdline, "pciback", kept, sizeof(kept)))
		pci_host_keep_for_vms(kept);
	pci_host_init(acpi_ok ? &acpi : NULL);
	char nic[16]; /* the NICs the drivers found: one bridged to the `uplink` switch */
	uplink_init(cmdline_get_str(boot_info.cmdline, "uplink_nic", nic, sizeof(nic)) ? nic : NULL);

	cpu_features_detect(&host_cpu);
	mgmt_init(&boot_info); /* on the uplink NIC; the report shows its address */
	boot_report(&boot_info, acpi_ok ? &acpi : NULL);

	selftest_run(boot_info.cmdline);
	/* host disks before VMs: their disk targets resolve against them */
	hostdisk_ram_init(&boot_info);

	/*
	 * With debug_exit a test harness runs us: the boot CPU runs vCPUs too,
	 * between turns of the console, and once every VM has stopped the run
	 * ends with the summary and the exit status. Otherwise the boot CPU
	 * belongs to the console.
	 */
	bool harness = hv_exit_configured();
	exitprof_init(boot_info.cmdline);
	pvsched_init(boot_info.cmdline);
	fastpath_init(boot_info.cmdline);
	/*
	 * cpu0=console: CPU 0 keeps the console under a harness too. QEMU 7.2's
	 * TCG loses updates to CPU 0's nested-paging and GIF state when another
	 * CPU restores x87 state at the same time (tests/integration/hvrun.py,
	 * spare_cpu0): a harness under QEMU gives us one CPU more and this.
	 */
	char cpu0[16];
	bool cpu0_console = cmdline_get_str(boot_info.cmdline, "cpu0", cpu0, sizeof(cpu0)) &&
			    strcmp(cpu0, "console") == 0;
	if (harness && cpu0_console)
		printk("hv: cpu0=console: CPU 0 runs no vCPUs\n");
	vmm_start(&boot_info, harness && !cpu0_console);
	if (!harness && vm_count == 0)
		printk("hv: nothing to run; idle\n");
	shell_init(acpi_ok ? &acpi : NULL, !harness);
	if (harness) {
		shell_run(vmm_all_stopped);
		bool ok = vmm_report();
		hostblk_shutdown_all(); /* the harness powers off: disks shut down as on host-poweroff */
		netdev_shutdown_all();
		hv_exit_status(ok ? 0 : 1);
		if (vm_count == 0)
			printk("hv: nothing to run; idle\n");
	}
	shell_run(NULL);
	for (;;)
		halt();
}
