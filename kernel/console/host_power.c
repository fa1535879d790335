#include "kernel/console/host_power.h"

#include "include/x86.h"
#include "kernel/console/acpi_s5.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/lib/unaligned.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/time/tsc.h"

/* FADT field offsets (ACPI 6.5 §5.2.9, Table 5.9). */
#define FADT_DSDT 40
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1B_CNT_BLK 68
#define FADT_X_DSDT 140
#define ACPI_HEADER_LEN 36

#define PM1_SCI_EN (1u << 0)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN (1u << 13)

bool host_find_s5(const struct acpi_info *ai, struct host_s5 *s5, char *why, size_t whylen)
{
	memset(s5, 0, sizeof(*s5));
	const struct acpi_table_ref *fadt = ai ? acpi_table(ai, "FACP") : NULL;
	if (!fadt || !ai->pm1a_control_port) {
		format(why, whylen, "no ACPI FADT with a PM1 control block");
		return false;
	}
	const uint8_t *f = phys_to_virt(fadt->address);
	uint64_t dsdt = rd32(f + FADT_DSDT);
	if (fadt->length >= FADT_X_DSDT + 8 && rd64(f + FADT_X_DSDT))
		dsdt = rd64(f + FADT_X_DSDT);
	if (!dsdt) {
		format(why, whylen, "the FADT names no DSDT");
		return false;
	}
	const uint8_t *d = phys_to_virt(dsdt);
	uint32_t len = rd32(d + 4);
	if (memcmp(d, "DSDT", 4) != 0 || len < ACPI_HEADER_LEN) {
		format(why, whylen, "the DSDT at %#llx is not one", (unsigned long long)dsdt);
		return false;
	}
	if (!acpi_find_s5(d + ACPI_HEADER_LEN, len - ACPI_HEADER_LEN, &s5->slp_typa,
			  &s5->slp_typb)) {
		format(why, whylen, "the DSDT defines no plain \\_S5 package (soft-off)");
		return false;
	}
	s5->pm1a_control = (uint16_t)ai->pm1a_control_port;
	s5->pm1b_control = (uint16_t)rd32(f + FADT_PM1B_CNT_BLK);
	s5->smi_command = rd32(f + FADT_SMI_CMD);
	s5->acpi_enable = f[FADT_ACPI_ENABLE];
	return true;
}

void host_poweroff(const struct host_s5 *s5)
{
	/* in legacy mode, ask the firmware for ACPI mode first (ACPI 6.5 §4.8.2.5) */
	if (!(inw(s5->pm1a_control) & PM1_SCI_EN) && s5->smi_command && s5->acpi_enable) {
		outb((uint16_t)s5->smi_command, s5->acpi_enable);
		for (unsigned ms = 0; ms < 300 && !(inw(s5->pm1a_control) & PM1_SCI_EN); ms++)
			udelay(1000);
	}
	irq_disable();
	outw(s5->pm1a_control, (uint16_t)(s5->slp_typa << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
	if (s5->pm1b_control)
		outw(s5->pm1b_control, (uint16_t)(s5->slp_typb << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
	udelay(1000000);
	irq_enable();
}

__attribute__((noreturn)) void host_reboot(const struct acpi_info *ai)
{
	irq_disable();
	/* the FADT's reset register (ACPI 6.5 §4.8.3.6), in I/O or memory space */
	if (ai && ai->reset_supported) {
		const struct acpi_gas *r = &ai->reset_register;
		if (r->space == ACPI_SPACE_IO)
			outb((uint16_t)r->address, ai->reset_value);
		else if (r->space == ACPI_SPACE_MEMORY)
			*(volatile uint8_t *)phys_to_virt(r->address) = ai->reset_value;
		udelay(50000);
	}
	/* the PCH/ICH reset control register: system reset, then full reset */
	outb(0xcf9, 0x02);
	udelay(50);
	outb(0xcf9, 0x0e);
	udelay(50000);
	/* the keyboard controller's reset line (8042 command 0xFE) */
	for (unsigned i = 0; i < 100000 && (inb(0x64) & 0x02); i++)
		udelay(10);
	outb(0x64, 0xfe);
	udelay(50000);
	/* last resort: no IDT, then an exception: a triple fault resets the CPU */
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} none = {0, 0};
	__asm__ volatile("lidt %0; int3" ::"m"(none));
	for (;;)
		halt();
}
