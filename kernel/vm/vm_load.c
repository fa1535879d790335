/*
 * Putting a guest kernel into a VM: the loader is chosen by the image's
 * header (Linux bzImage, or multiboot1), and vCPU 0 gets the entry state that
 * boot protocol defines. Application processors start from a SIPI.
 */
#include "kernel/vm/vm_load.h"
#include "kernel/vm/pveoi.h"

#include "guest/acpi_build.h"
#include "guest/e820.h"
#include "guest/vhpet.h"
#include "guest/linux_loader.h"
#include "guest/mb_loader.h"
#include "kernel/config/vmconfig.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/vplatform.h"

static int guest_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	return gpa_write(&((struct vm *)ctx)->map, gpa, src, len);
}

static int guest_zero(void *ctx, uint64_t gpa, size_t len)
{
	return gpa_zero(&((struct vm *)ctx)->map, gpa, len);
}

/* 32-bit protected mode, paging off, flat 4 GiB segments: multiboot's entry state. */
static void multiboot_entry_state(struct vcpu_entry_state *s, uint32_t eip)
{
	struct seg_state code = {0x08, 0xc9b, 0xffffffff, 0}; /* G, D, P, S, exec/read, accessed */
	struct seg_state data = {0x10, 0xc93, 0xffffffff, 0}; /* G, B, P, S, read/write, accessed */
	memset(s, 0, sizeof(*s));
	s->cr0 = 0x11; /* PE, ET */
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = (struct seg_state){0, 0x8b, 0xffff, 0}; /* busy 32-bit TSS, as after reset */
	s->ldtr = (struct seg_state){0, 0x82, 0xffff, 0};
	s->gdtr_limit = 0xffff;
	s->idtr_limit = 0xffff;
	s->rip = eip;
	s->rflags = 0x2;
}

/*
 * ACPI tables for the VM's platform in the BIOS area, where the RSDP scan
 * of ACPI 6.5 §5.2.5.1 finds them (multiboot guests look there; a Linux
 * guest is also told the RSDP's address). Both loaders keep guest RAM below
 * 1 MiB from 0x9fc00 up free of their own data.
 */
#define GUEST_ACPI_BASE 0xe0000u

static int write_acpi_tables(struct vm *vm, uint64_t *rsdp, char *err, size_t errlen)
{
	static uint8_t tables[0x10000]; /* VMs are loaded one at a time */
	size_t used;
	struct acpi_build_config acfg = {.vcpus = vm->nvcpus,
					 .pm1_base = VPLATFORM_PM_BASE,
					 .pm_timer_port = VPLATFORM_PM_TIMER,
					 .has_8042 = false, /* no keyboard: Linux then skips its 10,000-poll probe */
					 .hpet = vm->config->hpet,
					 .hpet_id = (uint32_t)vhpet_capabilities(),
					 .ioapic_id = vplatform_ioapic_id(vm->nvcpus),
					 .pci = true};
	if (acpi_build(&acfg, tables, sizeof(tables), GUEST_ACPI_BASE, &used, rsdp) < 0 ||
	    gpa_write(&vm->map, GUEST_ACPI_BASE, tables, used) < 0) {
		format(err, errlen, "cannot build the guest's ACPI tables");
		return -1;
	}
	return 0;
}

/*
 * A Linux bzImage: ACPI tables, the kernel, initrd and zero page by the
 * boot protocol, and vCPU 0 at the 64-bit entry with the loader's page
 * tables and GDT (Linux boot.rst, "64-bit boot protocol").
 */
static int load_linux(struct vm *vm, const uint8_t *image, size_t image_len,
		      const struct boot_module *ramdisk, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->config;
	char lerr[128];
	uint64_t rsdp;
	if (write_acpi_tables(vm, &rsdp, err, errlen) < 0)
		return -1;

	/* the TSC rate, so the kernel need not calibrate it against emulated timers */
	static char cmdline[VM_EXTRA_MAX + 64];
	format(cmdline, sizeof(cmdline), "%s tsc_early_khz=%llu", cfg->extra,
	       (unsigned long long)tsc_khz());
	/* RAM, and the ECAM window reserved as the MCFG table needs (Linux checks it) */
	static struct e820_map map;
	struct e820_layout layout = {.ram_bytes = vm->map.low_bytes,
				     .high_ram_bytes = vm->map.high_bytes,
				     .pci_ecam = true};
	if (e820_build(&layout, &map) != E820_OK) {
		format(err, errlen, "cannot describe %llu bytes of guest RAM in an e820 map",
		       (unsigned long long)vm->ram_bytes);
		return -1;
	}
	/* the loader places everything in the RAM below the hole; the e820 map has the rest */
	struct linux_guest_mem mem = {vm->map.low_bytes, guest_write, guest_zero, vm};
	struct linux_boot_config bcfg = {
	    .e820 = &map,
	    .cmdline = cmdline,
	    .initrd = ramdisk ? phys_to_virt(ramdisk->start) : NULL,
	    .initrd_len = ramdisk ? ramdisk->end - ramdisk->start : 0,
	    .acpi_rsdp = rsdp,
	};
	struct linux_entry e;
	if (linux_load(image, image_len, &mem, &bcfg, &e, lerr, sizeof(lerr)) < 0) {
		format(err, errlen, "kernel %s: %s", cfg->kernel, lerr);
		return -1;
	}

	struct vcpu_entry_state s;
	memset(&s, 0, sizeof(s));
	s.cr0 = e.cr0;
	s.cr3 = e.cr3;
	s.cr4 = e.cr4;
	s.efer = e.efer;
	s.cs = (struct seg_state){e.cs, 0xa9b, 0xffffffff, 0}; /* G, L, P, S, exec/read */
	s.ds = (struct seg_state){e.ds, 0xc93, 0xffffffff, 0};
	s.es = s.ss = s.ds;
	s.fs = s.gs = s.ds;
	s.tr = (struct seg_state){0, 0x8b, 0xffff, 0}; /* busy TSS */
	s.ldtr = (struct seg_state){0, 0x82, 0xffff, 0};
	s.gdtr_base = e.gdt_base;
	s.gdtr_limit = e.gdt_limit;
	s.idtr_limit = 0;
	s.rip = e.rip;
	s.rsp = e.rsp;
	s.rflags = 0x2;
	hvm->vcpu_set_entry_state(vm->vcpus[0], &s);
	vm->vcpus[0]->regs.gpr[X86_RSI] = e.rsi;
	printk("hv: vm %s: Linux boot protocol %u.%02u, kernel at %#llx, initrd %llu KiB\n", vm->name,
	       e.version >> 8, e.version & 0xff, (unsigned long long)e.kernel_start,
	       (unsigned long long)((e.initrd_end - e.initrd_start) >> 10));
	return 0;
}

/*
 * An application processor starts where its STARTUP IPI says: real mode,
 * CS = vector << 8, IP = 0 (SDM Vol. 3A §8.4.4).
 */
void vm_sipi_entry_state(struct vcpu_entry_state *s, uint8_t vector)
{
	memset(s, 0, sizeof(*s));
	s->cr0 = 0x10; /* ET */
	s->cs = (struct seg_state){(uint16_t)(vector << 8), 0x9b, 0xffff, (uint64_t)vector << 12};
	s->ds = (struct seg_state){0, 0x93, 0xffff, 0};
	s->es = s->fs = s->gs = s->ss = s->ds;
	s->tr = (struct seg_state){0, 0x8b, 0xffff, 0};
	s->ldtr = (struct seg_state){0, 0x82, 0xffff, 0};
	s->gdtr_limit = 0xffff;
	s->idtr_limit = 0xffff;
	s->rflags = 0x2;
}

void vm_check_startup(struct vcpu *v)
{
	bool init;
	int vector = vplatform_take_startup(v, &init);
	if (init) {
		pveoi_reset(v); /* as KVM's INIT does */
		pvsched_reset(v);
	}
	if (init && v->id != 0) {
		v->waiting_sipi = true;
		v->hlt_nmi_only = false; /* INIT: waits for a SIPI, NMIs no longer wake it */
		vnmi_reset(&v->nmi);
	}
	/* a boot CPU halted with interrupts off stays so (no INIT reset of vCPU 0 yet) */
	if (vector >= 0 && v->waiting_sipi) {
		struct vcpu_entry_state s;
		vm_sipi_entry_state(&s, (uint8_t)vector);
		memset(&v->regs, 0, sizeof(v->regs));
		hvm->vcpu_set_entry_state(v, &s);
		v->waiting_sipi = false;
		v->hlt_nmi_only = false;
	}
}

int vm_load_kernel(struct vm *vm, const struct boot_module *kernel,
		   const struct boot_module *ramdisk, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->config;
	const uint8_t *image = phys_to_virt(kernel->start);
	size_t image_len = kernel->end - kernel->start;
	if (linux_is_bzimage(image, image_len))
		return load_linux(vm, image, image_len, ramdisk, err, errlen);

	/* a multiboot guest is told of the RAM below the hole only (its fixed mmap) */
	struct mb_guest_mem mem = {vm->map.low_bytes, guest_write, guest_zero, vm};
	struct mb_entry entry;
	char lerr[128];
	struct mb_module rd = {ramdisk ? phys_to_virt(ramdisk->start) : NULL,
			       ramdisk ? ramdisk->end - ramdisk->start : 0, cfg->ramdisk};
	if (mb_load(phys_to_virt(kernel->start), kernel->end - kernel->start, &mem, cfg->extra,
		    ramdisk ? &rd : NULL, &entry, lerr, sizeof(lerr)) < 0) {
		format(err, errlen, "kernel %s: %s", cfg->kernel, lerr);
		return -1;
	}
	uint64_t rsdp;
	if (write_acpi_tables(vm, &rsdp, err, errlen) < 0)
		return -1;
	struct vcpu_entry_state es;
	multiboot_entry_state(&es, entry.eip);
	hvm->vcpu_set_entry_state(vm->vcpus[0], &es);
	vm->vcpus[0]->regs.gpr[X86_RAX] = entry.eax;
	vm->vcpus[0]->regs.gpr[X86_RBX] = entry.ebx;
	return 0;
}
