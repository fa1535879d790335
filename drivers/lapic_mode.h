/*
 * The host local APIC's mode and how it names CPUs, apart from the hardware:
 * which mode to run in, which APIC IDs that mode can reach, how an IPI's
 * destination is written, how the ID register reads. Pure logic: the
 * driver (drivers/lapic.c) and the AP bring-up (kernel/cpu/smp.c) use it,
 * and tests/unit/test_lapic_mode.c drives it with IDs a lab machine's
 * emulator cannot give (above 255, sparse, 32-bit).
 */
#ifndef HV_DRIVERS_LAPIC_MODE_H
#define HV_DRIVERS_LAPIC_MODE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * x2APIC when the firmware handed the APIC over in x2APIC mode (there is no
 * way back to xAPIC short of disabling it, SDM Vol. 3A §11.12.5), and
 * wherever the CPU has it (CPUID.01H:ECX[21]): IDs above 254 need it, and
 * its ICR is one MSR write with no delivery-status wait. xAPIC otherwise.
 */
static inline bool lapic_want_x2apic(bool cpu_has_x2apic, bool firmware_enabled_x2apic)
{
	return firmware_enabled_x2apic || cpu_has_x2apic;
}

/*
 * Whether an IPI can name this APIC ID: 8 bits in xAPIC mode, where 0xFF is
 * the broadcast; 32 bits in x2APIC mode, where 0xFFFFFFFF is.
 */
static inline bool lapic_id_reachable(bool x2apic, uint32_t apic_id)
{
	return x2apic ? apic_id != 0xffffffffu : apic_id < 0xff;
}

/* The x2APIC ICR (MSR 0x830): the destination in bits 63:32 (SDM Vol. 3A §11.12.9). */
static inline uint64_t lapic_icr_x2apic(uint32_t apic_id, uint32_t icr_low)
{
	return (uint64_t)apic_id << 32 | icr_low;
}

/* The xAPIC ICR high dword: the destination in bits 31:24 (§11.6.1). */
static inline uint32_t lapic_icr_high_xapic(uint32_t apic_id)
{
	return (apic_id & 0xff) << 24;
}

/* The APIC ID from the ID register: all 32 bits in x2APIC mode, bits 31:24 in xAPIC mode. */
static inline uint32_t lapic_id_from_register(bool x2apic, uint32_t reg)
{
	return x2apic ? reg : reg >> 24;
}

/*
 * Where an arriving AP reads its own APIC ID before it has a stack
 * (boot/entry.S): CPUID.0BH:EDX holds all 32 bits of the x2APIC ID;
 * CPUID.01H:EBX[31:24] only 8. Leaf 0BH when the APIC runs in x2APIC mode
 * and the CPU has the leaf.
 */
static inline bool lapic_ap_id_from_leaf_0b(bool x2apic, uint32_t max_basic_leaf)
{
	return x2apic && max_basic_leaf >= 0xb;
}

#endif
