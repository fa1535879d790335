#include "kernel/report.h"

#include "drivers/i8042.h"
#include "drivers/lapic.h"
#include "kernel/console/screen.h"
#include "kernel/cpu/features.h"
#include "kernel/cpu/percpu.h"
#include "kernel/cpu/smp.h"
#include "kernel/iommu/iommu.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mgmt/mgmt.h"
#include "kernel/mgmt/mgmt_config.h"
#include "kernel/mm/mm.h"
#include "kernel/time/timer.h"
#include "kernel/time/tsc.h"
#include "kernel/time/wallclock.h"

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static void report_line(void *ctx, const char *s)
{
	(void)ctx;
	printk("%s\n", s);
}

static void report_virtualization(const struct cpu_features *f, const struct acpi_info *acpi)
{
	if (f->svm) {
		printk("virtualization: AMD-V (SVM)%s\n",
		       f->svm_firmware_disabled ? ", disabled by firmware (VM_CR.SVMDIS)" : "");
		printk("svm npt: %s\n", yes_no(f->npt));
		printk("svm asids: %u\n", f->asids);
		printk("svm next-rip save: %s\n", yes_no(f->nrip_save));
		printk("svm decode assists: %s\n", yes_no(f->decode_assists));
		printk("svm flush by asid: %s\n", yes_no(f->flush_by_asid));
	} else if (f->vmx) {
		printk("virtualization: Intel VT-x (VMX)%s\n",
		       f->vmx_firmware_disabled
			   ? ", disabled by firmware (IA32_FEATURE_CONTROL locked without VMX)"
			   : "");
		printk("vmx ept: %s%s%s\n", yes_no(f->ept), f->ept_2m ? ", 2M pages" : "",
		       f->ept_1g ? ", 1G pages" : "");
		printk("vmx vpid: %s\n", yes_no(f->vpid));
		printk("vmx unrestricted guest: %s\n", yes_no(f->unrestricted_guest));
	} else {
		printk("virtualization: none (this CPU has neither VMX nor SVM; no VM can run)\n");
	}
	if (acpi && acpi->dmar_address)
		printk("vt-d: present (%u remapping units, %u-bit addresses)\n", acpi->dmar_units,
		       acpi->dmar_host_address_width);
	else
		printk("vt-d: not present\n");
	iommu_report(report_line, NULL);
}

/*
 * How the other cores came up: how many, how long (all started at once), and
 * the APIC IDs (sparse on multi-socket machines). The TSC ticks are the
 * deterministic form: under QEMU -icount they count instructions.
 */
static void report_bringup(void)
{
	const struct smp_bringup *b = smp_bringup_stats();
	char ids[160];

	printk("cores limit: %u (this build)\n", MAX_CPUS);
	smp_format_apic_ids(ids, sizeof(ids));
	printk("cores apic ids: %s\n", ids);
	if (!b->tried)
		return;
	uint64_t khz = tsc_khz() ? tsc_khz() : 1;
	uint64_t us = b->ticks * 1000 / khz, per = us * 1000 / b->tried; /* per: ns */
	printk("cores bring-up: %u of %u started in %llu.%03llu ms, %llu.%03llu ms per core, "
	       "%llu TSC ticks\n",
	       b->online, b->tried, (unsigned long long)(us / 1000), (unsigned long long)(us % 1000),
	       (unsigned long long)(per / 1000000), (unsigned long long)(per / 1000 % 1000),
	       (unsigned long long)b->ticks);
}

void boot_report(const struct boot_info *bi, const struct acpi_info *acpi)
{
	const struct cpu_features *f = &host_cpu;
	struct mm_stats ms;

	mm_get_stats(&ms);
	printk("hv: boot report\n");
	printk("cpu vendor: %s\n", f->vendor);
	printk("cpu model: %s (family %#x model %#x stepping %u)\n", f->brand, f->family, f->model,
	       f->stepping);
	if (f->running_nested)
		printk("running nested: yes (under another hypervisor)\n");
	printk("cores listed: %u\n", smp_cpus_listed());
	printk("cores online: %u\n", cpus_online());
	report_bringup();
	printk("memory usable: %llu MiB\n", (unsigned long long)(ms.usable_bytes >> 20));
	printk("memory free: %llu MiB\n", (unsigned long long)(ms.free_bytes >> 20));
	printk("hypervisor image: %llu KiB\n", (unsigned long long)(ms.image_bytes >> 10));
	printk("host paging: %s pages, nx %s, %u page-table pages\n", ms.gbpages ? "1G" : "2M",
	       yes_no(ms.nx), ms.page_tables);
	report_virtualization(f, acpi);
	printk("tsc frequency: %llu kHz (%s)\n", (unsigned long long)tsc_khz(), tsc_source_name());
	printk("tsc invariant: %s\n", yes_no(tsc_invariant()));
	char when[96];
	wallclock_describe(when, sizeof(when));
	printk("wall clock: %s\n", when);
	if (lapic_x2apic_mode())
		printk("local apic: x2apic\n");
	else
		printk("local apic: xapic at %#llx\n", (unsigned long long)lapic_mmio_base());
	if (timer_uses_tsc_deadline())
		printk("apic timer: tsc-deadline\n");
	else
		printk("apic timer: one-shot, %llu Hz\n", (unsigned long long)timer_apic_hz());
	printk("apic timer working: %u of %u cores\n", smp_timer_ok_count(), cpus_online());
	if (bi->rsdp_len)
		printk("acpi rsdp: ACPI %s, %s\n", bi->rsdp_len >= 36 && bi->rsdp[15] >= 2 ? "2.0+" : "1.0",
		       bi->rsdp_from_loader ? "from the boot loader" : "found in BIOS memory");
	if (acpi) {
		char sigs[ACPI_MAX_TABLES * 5 + 1];
		size_t n = 0;
		for (size_t i = 0; i < acpi->ntables; i++)
			n += (size_t)format(sigs + n, sizeof(sigs) - n, "%s%s", i ? " " : "",
					    acpi->tables[i].signature);
		sigs[n] = 0;
		printk("acpi: revision %u, oem %s, tables %s\n", acpi->rsdp_revision, acpi->oem_id,
		       sigs);
		printk("ioapics: %zu\n", acpi->nioapics);
		if (acpi->pm_timer_port)
			printk("acpi pm timer: port %#x, %s-bit\n", acpi->pm_timer_port,
			       acpi->pm_timer_32bit ? "32" : "24");
		for (size_t i = 0; i < acpi->nmcfg; i++)
			printk("pci ecam: segment %u buses %u-%u at %#llx\n", acpi->mcfg[i].segment,
			       acpi->mcfg[i].bus_start, acpi->mcfg[i].bus_end,
			       (unsigned long long)acpi->mcfg[i].base);
		if (acpi->hpet_base)
			printk("hpet: %#llx\n", (unsigned long long)acpi->hpet_base);
	} else {
		printk("acpi: not found\n");
	}
	printk("firmware: %s\n", bi->efi ? "UEFI" : "BIOS");
	printk("boot loader: %s (multiboot%d)\n", bi->loader_name[0] ? bi->loader_name : "unknown",
	       bi->protocol);
	printk("boot modules: %zu\n", bi->nmodules);
	char screen[96];
	screen_describe(screen, sizeof(screen));
	printk("screen console: %s\n", screen);
	printk("keyboard: %s\n", i8042_present() ? "i8042" : "none");
	char line[sizeof(bi->cmdline) + 8];
	mgmt_redact_cmdline(line, sizeof(line), bi->cmdline); /* the API token stays off the log */
	printk("command line: %s\n", line);
	char mgmt[96];
	mgmt_describe(mgmt, sizeof(mgmt));
	printk("management: %s\n", mgmt);
	printk("uptime: %llu ms\n", (unsigned long long)(uptime_us() / 1000));
	printk("hv: boot report end\n");
}
