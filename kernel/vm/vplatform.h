/*
 * The PC a VM sees: the chip models of guest/ (8259 pair, 8254, CMOS RTC,
 * HPET unless the VM file says hpet = 0, IOAPIC, a local APIC per vCPU)
 * wired to the VM's buses and to each other,
 * plus the small things a PC kernel touches: ACPI PM1 and PM timer, the
 * 0xCF9 and keyboard-controller resets, port 0x80. The PCI bus is
 * kernel/vm/vm_pci.c; its INTx and MSI come in through here.
 * Interrupt lines go ISA IRQ -> 8259 and IOAPIC (IRQ 0 on GSI 2, as the
 * guest's MADT says) -> local APIC -> the vCPU. In the HPET's legacy
 * replacement mode its timers 0 and 1 drive IRQ 0 and 8 instead of the PIT
 * and RTC; its other routes are IOAPIC pins 20-23.
 */
#ifndef HV_VM_VPLATFORM_H
#define HV_VM_VPLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/vm/vm.h"

#define VPLATFORM_PM_BASE 0x600  /* PM1a event 0x600, control 0x604, timer 0x608 */
#define VPLATFORM_PM_TIMER (VPLATFORM_PM_BASE + 8)
#define VPLATFORM_SCI_IRQ 9

int vplatform_init(struct vm *vm);
/* Frees the VM's chips (its loops have left; nothing delivers to them any more). */
void vplatform_free(struct vm *vm);
/* Bytes of host memory the VM's chips take (the per-VM overhead report). */
size_t vplatform_bytes(const struct vm *vm);
/*
 * The IOAPIC's ID, after the local APICs' 0..n-1 while that fits its 8-bit
 * register below the broadcast ID; else 0, as QEMU gives it (an IOAPIC ID
 * only has to differ from other IOAPICs').
 */
static inline uint8_t vplatform_ioapic_id(unsigned nvcpus)
{
	return nvcpus < 255 ? (uint8_t)nvcpus : 0;
}
/* The chips back to power-on state (a reboot), with guest time starting again. */
void vplatform_reset(struct vm *vm);
/* The vCPU's guest TSC is the host's plus `offset` (see msr_policy.c). */
void vplatform_set_tsc_offset(struct vcpu *v, uint64_t offset);
/* Guest time in ns (what the chip models count), and back to host TSC. */
uint64_t vplatform_now(const struct vm *vm);
uint64_t vplatform_ns_to_tsc(const struct vm *vm, uint64_t ns);
/* The host TSC at the VM's power-on: its guest time 0. */
uint64_t vplatform_t0(const struct vm *vm);
/* MSRs the platform owns (APIC base, x2APIC, TSC deadline): 1 handled, 0 not, -1 #GP. */
int vplatform_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int vplatform_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);
/*
 * A WRMSR the exit fast path may finish with no lock (the x2APIC EOI that
 * makes nothing pending): true if done, false for the slow path (nothing
 * changed then).
 */
bool vplatform_fast_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);

/*
 * KVM's PV EOI (kernel/vm/pveoi.h) on v's local APIC: the EOI the guest
 * signalled through its word, and whether its next EOI may be left to the
 * word (vlapic_pv_eoi_ok).
 */
void vplatform_pv_eoi(struct vcpu *v);
bool vplatform_pv_eoi_ok(struct vcpu *v);
/*
 * Before entering v: runs due timers, and returns the vector of the
 * interrupt to inject now if `can_inject`, or -1. *pending says whether an
 * interrupt is waiting (so the caller asks for an interrupt window);
 * *due_tsc is the host TSC at which a chip next needs attention
 * (UINT64_MAX: never), for the caller's timer: nothing here arms one.
 */
int vplatform_next_interrupt(struct vcpu *v, bool can_inject, bool *pending, uint64_t *due_tsc);
/*
 * After vplatform_next_interrupt found nothing for v: points v's fast path
 * at the generation word and the value that said so (kernel/vm/fastpath.h).
 */
void vplatform_fast_watch(struct vcpu *v);
/*
 * INIT and STARTUP IPIs that reached v's local APIC (SDM Vol. 3A §8.4):
 * *init set if an INIT arrived; returns the SIPI vector, or -1.
 */
int vplatform_take_startup(struct vcpu *v, bool *init);
/*
 * The NMIs that reached v's local APIC since the last call (0..2), from
 * IPIs, the IOAPIC's NMI entries or LINT1 (kernel/vm/vnmi.h latches them).
 */
unsigned vplatform_take_nmis(struct vcpu *v);
/*
 * Whether a chip may still raise an NMI by itself (an unmasked IOAPIC entry
 * in NMI delivery mode): a VM whose vCPUs all halted with IF=0 is not dead.
 */
bool vplatform_nmi_possible(struct vm *vm);
/*
 * Presses the ACPI power button: PWRBTN_STS and an SCI. Returns whether the
 * guest has enabled the event (an ACPI-aware OS that will act on it).
 */
bool vplatform_power_button(struct vm *vm);
/* Drives an ISA interrupt line (0-15). */
void vplatform_set_isa_irq(struct vm *vm, unsigned irq, bool level);
/* Drives IOAPIC pin `gsi` (PCI INTx: 16-19, shared and level-triggered) under the platform lock. */
void vplatform_set_gsi(struct vm *vm, unsigned gsi, bool level);
/*
 * A passed-through function's INTx on IOAPIC pin `gsi` (platform lock
 * taken): level-triggered and resampled at the guest's EOI. Asserted, the
 * pin stays up (with whatever the PCI bus drives there) until the guest
 * EOIs the pin's vector; then it drops and the hook set with
 * vplatform_set_pt_eoi runs (under the platform lock: it may only note the
 * EOI and raise work), whose owner asserts again if the device still does.
 */
void vplatform_pt_intx(struct vm *vm, unsigned gsi, bool level);
void vplatform_set_pt_eoi(void (*fn)(struct vm *vm, unsigned gsi));
/*
 * An MSI/MSI-X message (address, data: guest/pci/msi.h) to the local APICs,
 * under the platform lock (the innermost: callers may hold the PCI bus lock).
 */
void vplatform_deliver_msi(struct vm *vm, uint64_t address, uint32_t data);
/* Messages dropped: outside 0xfeexxxxx, reserved or unmodelled delivery modes. */
uint64_t vplatform_msi_dropped(const struct vm *vm);

/*
 * v is about to run on this core: its xAPIC page accesses are its own (the
 * core also looks at other, blocked vCPUs' chips between runs).
 */
void vplatform_vcpu_entering(struct vcpu *v);

#endif
