#include "kernel/vm/vm_devices.h"

#include "guest/vuart.h"
#include "kernel/lib/string.h"
#include "kernel/mm/mm.h"

/*
 * COM1: the 16550 model (guest/vuart.c). What the guest transmits reaches
 * the host console tagged with the VM's name. Its IRQ line (4) is not wired
 * until the VM has an interrupt controller.
 */
struct vm_device_set {
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
	(void)ctx;
	(void)level; /* no interrupt controller yet */
}

static uint64_t com1_read(void *opaque, uint64_t off, unsigned size)
{
	(void)size;
	return vuart_read(opaque, (uint16_t)off);
}

static void com1_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
	(void)size;
	vuart_write(opaque, (uint16_t)off, (uint8_t)value);
}

static void exit_port_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
	(void)off;
	(void)size;
	vm_stop(opaque, VM_STOP_EXIT_PORT, value);
}

int vm_devices_init(struct vm *vm)
{
	struct vm_device_set *d = kzalloc(sizeof(*d));
	if (!d)
		return -1;
	vm->devices = d;
	d->vm = vm;
	vuart_init(&d->com1, com1_tx, com1_irq, d);
	if (iobus_register(&vm->pio, 0x3f8, 8, com1_read, com1_write, &d->com1, "com1") < 0 ||
	    iobus_register(&vm->pio, VM_EXIT_PORT, 1, NULL, exit_port_write, vm, "exit-port") < 0)
		return -1;
	return 0;
}
