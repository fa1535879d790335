/* The host's local APIC, in xAPIC (MMIO) or x2APIC (MSR) mode. */
#ifndef HV_DRIVERS_LAPIC_H
#define HV_DRIVERS_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Register offsets (xAPIC MMIO offsets; x2APIC MSR = 0x800 + offset/16), SDM Vol. 3A §11.4 */
#define LAPIC_ID 0x20
#define LAPIC_VERSION 0x30
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ESR 0x280
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INITIAL 0x380
#define LAPIC_TIMER_CURRENT 0x390
#define LAPIC_TIMER_DIVIDE 0x3e0

#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_NMI (4u << 8)
#define ICR_FIXED 0u
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_ALL_BUT_SELF (3u << 18)

/* Detects the mode (x2APIC where the CPU has it) on the BSP; false if no APIC. */
bool lapic_setup_bsp(void);
/* Enables this CPU's local APIC in the chosen mode. */
void lapic_enable_this_cpu(void);
bool lapic_ready(void);
bool lapic_x2apic_mode(void);
uint64_t lapic_mmio_base(void);

uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
uint32_t lapic_id(void);
void lapic_eoi(void);
/* Sends an IPI (ICR low dword, vector included) to one APIC ID; false on timeout. */
bool lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);
void lapic_send_nmi_all_but_self(void);

#endif
