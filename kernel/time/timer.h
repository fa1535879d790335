/* Per-CPU one-shot timer on the local APIC (TSC-deadline mode where present). */
#ifndef HV_TIME_TIMER_H
#define HV_TIME_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/* On the BSP, once: picks the mode and calibrates the APIC timer. */
void timer_setup_bsp(void);
/* On every CPU: installs the timer for this CPU. */
void timer_enable_this_cpu(void);
/* Fires VECTOR_TIMER once, about `us` microseconds from now. */
void timer_oneshot_us(uint64_t us);
/*
 * Fires VECTOR_TIMER at host TSC value tsc; cheap when that is what is armed
 * already (the VM-exit path asks for the same deadline over and over).
 */
void timer_oneshot_at(uint64_t tsc);
bool timer_uses_tsc_deadline(void);
/* APIC timer input frequency (bus clock / divider), Hz; 0 in TSC-deadline mode. */
uint64_t timer_apic_hz(void);

#endif
