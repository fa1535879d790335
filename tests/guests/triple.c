/*
 * triple: a deliberate triple fault. With an IDT of limit 0, INT3 cannot be
 * delivered (#GP), nor can the #GP (#DF), nor the #DF: the CPU shuts down
 * (SDM Vol. 3A §6.15, "Interrupt 8—Double Fault Exception"). Our hypervisor
 * stops this VM with reason triple-fault and keeps the others running; bare
 * QEMU with -no-reboot exits (status 0).
 */
#include "guest.h"

const char guest_name[] = "triple";

void guest_main(void)
{
	printf("triple: faulting now\n");
	load_idt(0, 0);
	__asm__ volatile("int3");
	/* Reached only if the fault was swallowed. */
	guest_fail_now("still running after int3 with an empty IDT");
}
