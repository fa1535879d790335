#include "kernel/vm/vm_devices.h"
#include "kernel/vm/fastpath.h"

#include "guest/acpi_build.h"
#include "guest/vuart.h"
#include "kernel/vm/vm_pci.h"
#include "kernel/vm/vplatform.h"
#include "kernel/vm/vm_virtio.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/mm/mm.h"

/*
 * COM1: the 16550 model (guest/vuart.c). What the guest transmits reaches
 * the host console tagged with the VM's name; what the operator types at
 * `console NAME` enters its receive FIFO from the boot CPU, hence the lock.
 * Its IRQ line (4) is not wired until the VM has an interrupt controller.
 */
struct vm_device_set {
	spinlock_t com1_lock;
	struct vuart com1;
	struct vm *vm;
};

static void com1_tx(void *ctx, uint8_t byte)
{
	struct vm_device_set *d = ctx;
	vm_console_putc(d->vm, (char)byte);
}

static void com1_irq(void *ctx, bool level)
{
	struct vm_device_set *d = ctx;
	if (d->vm->platform) /* COM1 is ISA IRQ 4 */
		vplatform_set_isa_irq(d->vm, 4, level);
}

static uint64_t com1_read(void *opaque, uint64_t off, unsigned size)
{
	struct vm_device_set *d = opaque;
	(void)size;
	spin_lock(&d->com1_lock);
	uint8_t v = vuart_read(&d->com1, (uint16_t)off);
	spin_unlock(&d->com1_lock);
	return v;
}

static void com1_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
	struct vm_device_set *d = opaque;
	(void)size;
	/* a transmitted byte goes on to the console under this lock: nothing takes them the other way */
	spin_lock(&d->com1_lock);
	vuart_write(&d->com1, (uint16_t)off, (uint8_t)value);
	spin_unlock(&d->com1_lock);
}

static void exit_port_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
	(void)off;
	(void)size;
	vm_stop(opaque, VM_STOP_EXIT_PORT, value);
}

/*
 * QEMU's pvpanic device, as the guest DSDT describes it: a read says which
 * events the guest may report (bit 0: panicked), a write reports one. A
 * panic stops the VM, and its on_crash says what comes next.
 */
#define PVPANIC_PANICKED 1u

static uint64_t pvpanic_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)off;
	(void)size;
	return PVPANIC_PANICKED;
}

static void pvpanic_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
	(void)off;
	(void)size;
	if (value & PVPANIC_PANICKED)
		vm_stop(opaque, VM_STOP_PANIC, 0);
}

int vm_devices_init(struct vm *vm)
{
	struct vm_device_set *d = kzalloc(sizeof(*d));
	if (!d)
		return -1;
	vm->devices = d;
	d->vm = vm;
	/* first: the devices below plug their functions into it */
	if (vm_pci_init(vm) < 0)
		return -1;
	vuart_init(&d->com1, com1_tx, com1_irq, d);
	if (iobus_register(&vm->pio, 0x3f8, 8, com1_read, com1_write, d, "com1") < 0 ||
	    iobus_register(&vm->pio, VM_EXIT_PORT, 1, NULL, exit_port_write, vm, "exit-port") < 0 ||
	    iobus_register(&vm->pio, ACPI_BUILD_PVPANIC_PORT, 1, pvpanic_read, pvpanic_write, vm,
			   "pvpanic") < 0)
		return -1;
	/* the 16550 model's handlers are short, under COM1's own lock: the exit fast path calls them */
	iobus_set_fast(&vm->pio, 0x3f8);
	return 0;
}

void vm_devices_reset(struct vm *vm)
{
	struct vm_device_set *d = vm->devices;
	spin_lock(&d->com1_lock);
	vuart_init(&d->com1, com1_tx, com1_irq, d);
	spin_unlock(&d->com1_lock);
	vm_pci_reset(vm); /* BARs where the firmware put them, interrupts off */
}

void vm_devices_free(struct vm *vm)
{
	vm_pci_free(vm);
	kfree(vm->devices);
	vm->devices = NULL;
}

size_t vm_console_input(struct vm *vm, const uint8_t *bytes, size_t n)
{
	struct vm_device_set *d = vm->devices;
	if (!d)
		return 0;
	if (vm->has_hvc) /* `console NAME` talks to hvc0 when there is one */
		return vm_virtio_console_input(vm, bytes, n);
	spin_lock(&d->com1_lock);
	size_t space = vuart_rx_space(&d->com1);
	size_t take = n < space ? n : space;
	if (take)
		vuart_receive(&d->com1, bytes, take);
	spin_unlock(&d->com1_lock);
	return take;
}
