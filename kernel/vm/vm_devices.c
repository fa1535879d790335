#include "kernel/vm/vm_devices.h"

#include "kernel/lib/string.h"
#include "kernel/mm/mm.h"

/*
 * COM1, 16550-compatible, transmit only for now: what the guest writes
 * reaches the host console, tagged with the VM's name. The full model with
 * receive and interrupts lives in guest/vuart.c once it is wired here.
 */
struct com1 {
	struct vm *vm;
	uint8_t ier, lcr, mcr, scr, dll, dlm;
};

struct vm_device_set {
	struct com1 com1;
};

static uint64_t com1_read(void *opaque, uint64_t off, unsigned size)
{
	struct com1 *u = opaque;
	(void)size;
	bool dlab = u->lcr & 0x80;
	switch (off) {
	case 0:
		return dlab ? u->dll : 0;
	case 1:
		return dlab ? u->dlm : u->ier;
	case 2:
		return 0xc1; /* FIFOs enabled, no interrupt pending */
	case 3:
		return u->lcr;
	case 4:
		return u->mcr;
	case 5:
		return 0x60; /* transmitter empty, nothing received */
	case 6:
		return 0xb0; /* DCD, DSR, CTS */
	default:
		return u->scr;
	}
}

static void com1_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
	struct com1 *u = opaque;
	uint8_t v = (uint8_t)value;
	(void)size;
	bool dlab = u->lcr & 0x80;
	switch (off) {
	case 0:
		if (dlab)
			u->dll = v;
		else
			vm_console_putc(u->vm, (char)v);
		break;
	case 1:
		if (dlab)
			u->dlm = v;
		else
			u->ier = v & 0x0f;
		break;
	case 3:
		u->lcr = v;
		break;
	case 4:
		u->mcr = v & 0x1f;
		break;
	case 7:
		u->scr = v;
		break;
	default:
		break;
	}
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
	d->com1.vm = vm;
	if (iobus_register(&vm->pio, 0x3f8, 8, com1_read, com1_write, &d->com1, "com1") < 0 ||
	    iobus_register(&vm->pio, VM_EXIT_PORT, 1, NULL, exit_port_write, vm, "exit-port") < 0)
		return -1;
	return 0;
}
