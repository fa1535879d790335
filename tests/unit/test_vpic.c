// SOURCES: guest/vpic.c kernel/lib/string.c kernel/lib/format.c
/*
 * The 8259A pair driven as Linux's arch/x86/kernel/i8259.c drives it (probe,
 * init_8259A, mask_and_ack, the spurious-IRQ check through OCW3), plus the
 * modes other guests use: auto-EOI, rotation, special mask, poll, special
 * fully nested, level triggering through ELCR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guest/vpic.h"

#define MASTER_CMD 0x20
#define MASTER_IMR 0x21
#define SLAVE_CMD 0xa0
#define SLAVE_IMR 0xa1

static struct vpic pic;
static bool intr;
static unsigned intr_rises;

static void int_output(void *ctx, bool level)
{
	assert_ptr_equal(ctx, &pic);
	assert_true(level != intr);
	if (level)
		intr_rises++;
	intr = level;
}

/* Port-addressed access, as the core's bus would route it. */
static void outb(uint8_t v, uint16_t port)
{
	switch (port) {
	case 0x20: case 0x21: vpic_write(&pic, VPIC_MASTER, port - 0x20, v); break;
	case 0xa0: case 0xa1: vpic_write(&pic, VPIC_SLAVE, port - 0xa0, v); break;
	case 0x4d0: case 0x4d1: vpic_elcr_write(&pic, port - 0x4d0, v); break;
	default: fail();
	}
}

static uint8_t inb(uint16_t port)
{
	switch (port) {
	case 0x20: case 0x21: return vpic_read(&pic, VPIC_MASTER, port - 0x20);
	case 0xa0: case 0xa1: return vpic_read(&pic, VPIC_SLAVE, port - 0xa0);
	case 0x4d0: case 0x4d1: return vpic_elcr_read(&pic, port - 0x4d0);
	default: fail();
	}
	return 0;
}

/* init_8259A(auto_eoi) with ISA_IRQ_VECTOR(0) = 0x30, then unmask all. */
static void linux_init(bool auto_eoi)
{
	outb(0xff, MASTER_IMR);
	outb(0xff, SLAVE_IMR);
	outb(0x11, MASTER_CMD);
	outb(0x30, MASTER_IMR);
	outb(1u << 2, MASTER_IMR);
	outb(auto_eoi ? 0x03 : 0x01, MASTER_IMR);
	outb(0x11, SLAVE_CMD);
	outb(0x38, SLAVE_IMR);
	outb(2, SLAVE_IMR);
	outb(0x01, SLAVE_IMR);
	outb(0x00, MASTER_IMR);
	outb(0x00, SLAVE_IMR);
}

/* mask_and_ack_8259A() followed by the handler's unmask (EOI variant). */
static void linux_eoi(unsigned irq)
{
	if (irq & 8) {
		outb(0x60 + (irq & 7), SLAVE_CMD);
		outb(0x60 + 2, MASTER_CMD);
	} else {
		outb(0x60 + irq, MASTER_CMD);
	}
}

static void pulse(unsigned irq)
{
	vpic_set_irq(&pic, irq, true);
	vpic_set_irq(&pic, irq, false);
}

static int setup(void **state)
{
	(void)state;
	intr = false;
	intr_rises = 0;
	vpic_init(&pic, int_output, &pic);
	return 0;
}

static int setup_linux(void **state)
{
	setup(state);
	linux_init(false);
	return 0;
}

static void test_reset_state(void **state)
{
	(void)state;
	assert_int_equal(inb(MASTER_IMR), 0xfb);
	assert_int_equal(inb(SLAVE_IMR), 0xff);
	assert_int_equal(inb(0x4d0), 0);
	assert_int_equal(inb(0x4d1), 0);
	/* BIOS vectors: IRQ 0 at 0x08, IRQ 8 at 0x70. */
	outb(0xfa, MASTER_IMR);
	pulse(0);
	assert_true(intr);
	assert_int_equal(vpic_ack(&pic), 0x08);
	outb(0x20, MASTER_CMD);
	outb(0xfe, SLAVE_IMR);
	pulse(8);
	assert_int_equal(vpic_ack(&pic), 0x70);
}

/* probe_8259A(): the IMR must read back what was written. */
static void test_linux_probe(void **state)
{
	(void)state;
	outb(0xff, SLAVE_IMR);
	outb((uint8_t)~(1u << 2), MASTER_IMR);
	assert_int_equal(inb(MASTER_IMR), (uint8_t)~(1u << 2));
	outb(0xff, MASTER_IMR);
	assert_int_equal(inb(MASTER_IMR), 0xff);
	assert_false(intr);
}

static void test_linux_timer_and_keyboard(void **state)
{
	(void)state;
	pulse(0);
	assert_true(intr);
	assert_true(vpic_has_interrupt(&pic));
	assert_int_equal(vpic_ack(&pic), 0x30);
	assert_false(intr);
	/* IRQ 1 has lower priority than in-service IRQ 0: held off. */
	pulse(1);
	assert_false(intr);
	linux_eoi(0);
	assert_true(intr);
	assert_int_equal(vpic_ack(&pic), 0x31);
	linux_eoi(1);
	assert_false(intr);
	assert_false(vpic_has_interrupt(&pic));
}

static void test_priority_nesting(void **state)
{
	(void)state;
	pulse(5);
	assert_int_equal(vpic_ack(&pic), 0x35);
	/* A higher-priority request interrupts the in-service one. */
	pulse(3);
	assert_true(intr);
	assert_int_equal(vpic_ack(&pic), 0x33);
	/* Non-specific EOI ends the highest in service (3), not 5. */
	outb(0x20, MASTER_CMD);
	outb(0x0b, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 1u << 5);
	outb(0x20, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 0);
	/* Two requests at once: the lower number wins. */
	outb(0x0a, MASTER_CMD);
	pulse(7);
	pulse(4);
	assert_int_equal(inb(MASTER_CMD), 0x90); /* IRR */
	assert_int_equal(vpic_ack(&pic), 0x34);
	assert_int_equal(inb(MASTER_CMD), 0x80);
}

static void test_slave_cascade(void **state)
{
	(void)state;
	pulse(12);
	assert_true(intr);
	assert_int_equal(vpic_ack(&pic), 0x3c);
	assert_false(intr);
	/* Both chips have it in service. */
	outb(0x0b, MASTER_CMD);
	outb(0x0b, SLAVE_CMD);
	assert_int_equal(inb(MASTER_CMD), 1u << 2);
	assert_int_equal(inb(SLAVE_CMD), 1u << 4);
	/* IRQ 3 is lower priority than the cascade (IR2) on the master. */
	pulse(3);
	assert_false(intr);
	/* A higher slave request waits for the master's IR2 EOI (no SFNM). */
	pulse(9);
	assert_false(intr);
	linux_eoi(12);
	assert_true(intr);
	assert_int_equal(vpic_ack(&pic), 0x39);
	linux_eoi(9);
	assert_int_equal(vpic_ack(&pic), 0x33);
	linux_eoi(3);
	assert_false(intr);
	assert_int_equal(inb(MASTER_CMD), 0);
	assert_int_equal(inb(SLAVE_CMD), 0);
}

static void test_mask(void **state)
{
	(void)state;
	outb(1u << 4, MASTER_IMR);
	pulse(4);
	assert_false(intr);
	outb(0x0a, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 1u << 4); /* requested, masked */
	outb(0, MASTER_IMR);
	assert_true(intr);
	/* Masking again while pending drops INT. */
	outb(1u << 4, MASTER_IMR);
	assert_false(intr);
	/* Masking the cascade hides the slave. */
	outb(1u << 2 | 1u << 4, MASTER_IMR);
	pulse(10);
	assert_false(intr);
	outb(0, MASTER_IMR);
	assert_true(intr);
	/* The cascade (IR2) outranks IR4. */
	assert_int_equal(vpic_ack(&pic), 0x3a);
	linux_eoi(10);
	assert_int_equal(vpic_ack(&pic), 0x34);
	/* Slave masked. */
	linux_eoi(4);
	outb(1u << 3, SLAVE_IMR);
	pulse(11);
	assert_false(intr);
}

/* i8259A_irq_real(): a spurious IRQ 7 is not in service. */
static void test_spurious_irq7(void **state)
{
	(void)state;
	outb(0xff, SLAVE_IMR);
	/* A level-triggered request that goes away before INTA. */
	outb(1u << 5, 0x4d0);
	vpic_set_irq(&pic, 5, true);
	assert_true(intr);
	vpic_set_irq(&pic, 5, false);
	assert_false(intr);
	/* The CPU had already latched INTR and runs INTA anyway. */
	assert_int_equal(vpic_ack(&pic), 0x37);
	outb(0x0b, MASTER_CMD);
	uint8_t isr = inb(MASTER_CMD);
	outb(0x0a, MASTER_CMD);
	assert_int_equal(isr & 0x80, 0); /* Linux: spurious, no EOI */
	assert_int_equal(isr, 0);
	/* A real IRQ 7 is in service. */
	pulse(7);
	assert_int_equal(vpic_ack(&pic), 0x37);
	outb(0x0b, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 0x80);
}

/* A slave level request that goes away takes the master's IR2 with it. */
static void test_slave_request_withdrawn(void **state)
{
	(void)state;
	outb(1u << 1, 0x4d1); /* IRQ 9 level */
	vpic_set_irq(&pic, 9, true);
	assert_true(intr);
	outb(0x0a, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 1u << 2);
	vpic_set_irq(&pic, 9, false);
	assert_false(intr);
	assert_int_equal(inb(MASTER_CMD), 0);
	/* An INTA the CPU had already started gets the master's IR7. */
	assert_int_equal(vpic_ack(&pic), 0x37);
	outb(0x0b, SLAVE_CMD);
	outb(0x0b, MASTER_CMD);
	assert_int_equal(inb(SLAVE_CMD), 0);
	assert_int_equal(inb(MASTER_CMD), 0);
}

static void test_level_triggered(void **state)
{
	(void)state;
	outb(0x20, 0x4d1); /* IRQ 13 has no ELCR bit */
	assert_int_equal(inb(0x4d1), 0);
	outb(0xff, 0x4d0);
	assert_int_equal(inb(0x4d0), 0xf8); /* IRQ 0-2 always edge */
	outb(0xff, 0x4d1);
	assert_int_equal(inb(0x4d1), 0xde);
	outb(0, 0x4d0);

	outb(1u << 3, 0x4d1); /* IRQ 11 level */
	vpic_set_irq(&pic, 11, true);
	assert_int_equal(vpic_ack(&pic), 0x3b);
	linux_eoi(11);
	/* Still high after EOI: requested again. */
	assert_true(intr);
	assert_int_equal(vpic_ack(&pic), 0x3b);
	vpic_set_irq(&pic, 11, false); /* the device was serviced */
	linux_eoi(11);
	assert_false(intr);

	/* The same with edge triggering: one edge, one interrupt. */
	outb(0, 0x4d1);
	vpic_set_irq(&pic, 11, true);
	assert_int_equal(vpic_ack(&pic), 0x3b);
	linux_eoi(11);
	assert_false(intr);
	vpic_set_irq(&pic, 11, true); /* no edge */
	assert_false(intr);
	vpic_set_irq(&pic, 11, false);
	vpic_set_irq(&pic, 11, true);
	assert_true(intr);
}

static void test_elcr_switch_follows_line(void **state)
{
	(void)state;
	vpic_set_irq(&pic, 10, true);
	assert_int_equal(vpic_ack(&pic), 0x3a);
	linux_eoi(10);
	assert_false(intr);
	/* Switching a high line to level makes it request. */
	outb(1u << 2, 0x4d1);
	assert_true(intr);
	vpic_set_irq(&pic, 10, false);
	assert_false(intr);
}

static void test_auto_eoi(void **state)
{
	setup(state);
	linux_init(true);
	pulse(0);
	assert_int_equal(vpic_ack(&pic), 0x30);
	outb(0x0b, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 0); /* nothing in service */
	/* So a lower-priority request is delivered without an EOI. */
	pulse(6);
	assert_true(intr);
	assert_int_equal(vpic_ack(&pic), 0x36);
	/* Slave in normal EOI mode (Linux's slave ICW4 has no AEOI). */
	pulse(8);
	assert_int_equal(vpic_ack(&pic), 0x38);
	outb(0x0b, SLAVE_CMD);
	assert_int_equal(inb(SLAVE_CMD), 1);
	outb(0x0b, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 0);
}

static void test_rotation(void **state)
{
	(void)state;
	/* Rotate on non-specific EOI: the serviced level becomes lowest. */
	pulse(1);
	assert_int_equal(vpic_ack(&pic), 0x31);
	outb(0xa0, MASTER_CMD);
	pulse(0);
	pulse(3);
	/* Priority order is now 2,3,4,...,7,0,1: IRQ 3 wins over IRQ 0. */
	assert_int_equal(vpic_ack(&pic), 0x33);
	outb(0xa0, MASTER_CMD); /* 3 is lowest: order 4..7,0,1,2,3 */
	assert_int_equal(vpic_ack(&pic), 0x30);
	outb(0x20, MASTER_CMD);
	/* Set priority: make 5 the lowest, so 6 is highest. */
	outb(0xc5, MASTER_CMD);
	pulse(5);
	pulse(6);
	assert_int_equal(vpic_ack(&pic), 0x36);
	/* 5 is lower than 6, so held while 6 is in service. */
	assert_false(intr);
	/* Rotate on specific EOI 6: 7 becomes highest, 6 lowest. */
	outb(0xe6, MASTER_CMD);
	assert_int_equal(vpic_ack(&pic), 0x35);
	outb(0x65, MASTER_CMD);
	assert_false(intr);
	/* Rotate in auto-EOI mode. */
	setup(state);
	linux_init(true);
	outb(0x80, MASTER_CMD);
	pulse(4);
	assert_int_equal(vpic_ack(&pic), 0x34);
	pulse(3);
	pulse(5);
	assert_int_equal(vpic_ack(&pic), 0x35); /* 4 lowest: 5 highest */
	outb(0x00, MASTER_CMD); /* clear rotate in AEOI */
	assert_int_equal(vpic_ack(&pic), 0x33); /* 5 lowest now: order 6,7,0..5 */
}

static void test_specific_eoi(void **state)
{
	(void)state;
	pulse(6);
	assert_int_equal(vpic_ack(&pic), 0x36);
	pulse(2 + 1);
	assert_int_equal(vpic_ack(&pic), 0x33);
	outb(0x66, MASTER_CMD); /* end 6, leave 3 */
	outb(0x0b, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 1u << 3);
	outb(0x40, MASTER_CMD); /* OCW2 no-op */
	assert_int_equal(inb(MASTER_CMD), 1u << 3);
}

static void test_special_mask_mode(void **state)
{
	(void)state;
	pulse(1);
	assert_int_equal(vpic_ack(&pic), 0x31);
	pulse(4);
	assert_false(intr); /* lower than in-service 1 */
	/* The handler masks its own level and enters special mask mode. */
	outb(1u << 1, MASTER_IMR);
	outb(0x68, MASTER_CMD);
	assert_true(intr);
	assert_int_equal(vpic_ack(&pic), 0x34);
	outb(0x64, MASTER_CMD);
	outb(0x48, MASTER_CMD); /* reset special mask */
	outb(0, MASTER_IMR);
	pulse(5);
	assert_false(intr); /* 1 is in service again without SMM */
	outb(0x61, MASTER_CMD);
	assert_int_equal(vpic_ack(&pic), 0x35);
}

static void test_poll_mode(void **state)
{
	(void)state;
	outb(0xff, MASTER_IMR);
	outb(0x0c, MASTER_CMD); /* poll */
	assert_int_equal(inb(MASTER_CMD), 0); /* nothing */
	outb(0x0c, MASTER_CMD);
	outb(0xfb, MASTER_IMR);
	pulse(0);
	outb(0xfa, MASTER_IMR);
	pulse(0);
	assert_true(intr);
	outb(0x0c, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 0x80);
	assert_false(intr);
	/* The poll acknowledged it: in service, request gone. */
	outb(0x0b, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 1);
	outb(0x20, MASTER_CMD);
	/* The read after a poll is a one-shot; then OCW3's register again. */
	assert_int_equal(inb(MASTER_CMD), 0);
	/* Polling the slave. */
	outb(0xff, MASTER_IMR);
	pulse(14);
	outb(0x0c, SLAVE_CMD);
	assert_int_equal(inb(SLAVE_CMD), 0x86);
	outb(0x0a, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 0); /* cascade request serviced */
}

static void test_special_fully_nested(void **state)
{
	(void)state;
	outb(0x11, MASTER_CMD);
	outb(0x30, MASTER_IMR);
	outb(0x04, MASTER_IMR);
	outb(0x11, MASTER_IMR); /* 8086, SFNM */
	outb(0xfa, MASTER_IMR);
	pulse(12);
	assert_int_equal(vpic_ack(&pic), 0x3c);
	/* A higher slave request gets through the in-service cascade. */
	pulse(9);
	assert_true(intr);
	assert_int_equal(vpic_ack(&pic), 0x39);
	/* A lower one does not (the slave's own ISR blocks it). */
	pulse(13);
	assert_false(intr);
}

static void test_init_clears_state(void **state)
{
	(void)state;
	pulse(3);
	assert_int_equal(vpic_ack(&pic), 0x33);
	pulse(4);
	vpic_set_irq(&pic, 6, true); /* stays high across the re-init */
	outb(0x11, MASTER_CMD);
	outb(0x20, MASTER_IMR);
	/* ICW3 and ICW4 still expected: these are not OCW1. */
	outb(0x04, MASTER_IMR);
	outb(0x01, MASTER_IMR);
	assert_int_equal(inb(MASTER_IMR), 0); /* ICW1 cleared the mask */
	outb(0x0b, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 0);
	outb(0x0a, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 0); /* edge sense reset */
	assert_false(intr);
	/* A high line must go low and high again. */
	vpic_set_irq(&pic, 6, true);
	assert_false(intr);
	vpic_set_irq(&pic, 6, false);
	vpic_set_irq(&pic, 6, true);
	assert_int_equal(vpic_ack(&pic), 0x26);
}

static void test_icw_sequences(void **state)
{
	(void)state;
	/* Single mode without ICW4: ICW2 ends the sequence. */
	outb(0x12, MASTER_CMD);
	outb(0x48, MASTER_IMR);
	outb(0xfe, MASTER_IMR); /* OCW1 */
	assert_int_equal(inb(MASTER_IMR), 0xfe);
	pulse(0);
	assert_int_equal(vpic_ack(&pic), 0x48);
	/* Cascade without ICW4: ICW3 ends it. */
	outb(0x10, SLAVE_CMD);
	outb(0x58, SLAVE_IMR);
	outb(0x02, SLAVE_IMR);
	outb(0x7f, SLAVE_IMR);
	assert_int_equal(inb(SLAVE_IMR), 0x7f);
	/* ICW2's low three bits are not part of the base. */
	outb(0x11, MASTER_CMD);
	outb(0x37, MASTER_IMR);
	outb(0x04, MASTER_IMR);
	outb(0x01, MASTER_IMR);
	pulse(1);
	assert_int_equal(vpic_ack(&pic), 0x31);
}

static void test_spurious_when_nothing_pending(void **state)
{
	(void)state;
	assert_false(vpic_has_interrupt(&pic));
	assert_int_equal(vpic_ack(&pic), 0x37);
	outb(0x0b, MASTER_CMD);
	assert_int_equal(inb(MASTER_CMD), 0);
}

static void test_ignored_inputs(void **state)
{
	(void)state;
	vpic_set_irq(&pic, 2, true); /* the cascade is not an input */
	vpic_set_irq(&pic, 16, true);
	assert_false(intr);
	assert_int_equal(vpic_read(&pic, 2, 0), 0xff);
	assert_int_equal(vpic_read(&pic, VPIC_MASTER, 2), 0xff);
	assert_int_equal(vpic_elcr_read(&pic, 2), 0xff);
	vpic_write(&pic, 2, 0, 0x11);
	vpic_elcr_write(&pic, 2, 0xff);
	assert_int_equal(intr_rises, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_state, setup),
		cmocka_unit_test_setup(test_linux_probe, setup),
		cmocka_unit_test_setup(test_linux_timer_and_keyboard, setup_linux),
		cmocka_unit_test_setup(test_priority_nesting, setup_linux),
		cmocka_unit_test_setup(test_slave_cascade, setup_linux),
		cmocka_unit_test_setup(test_mask, setup_linux),
		cmocka_unit_test_setup(test_spurious_irq7, setup_linux),
		cmocka_unit_test_setup(test_slave_request_withdrawn, setup_linux),
		cmocka_unit_test_setup(test_level_triggered, setup_linux),
		cmocka_unit_test_setup(test_elcr_switch_follows_line, setup_linux),
		cmocka_unit_test_setup(test_auto_eoi, setup),
		cmocka_unit_test_setup(test_rotation, setup_linux),
		cmocka_unit_test_setup(test_specific_eoi, setup_linux),
		cmocka_unit_test_setup(test_special_mask_mode, setup_linux),
		cmocka_unit_test_setup(test_poll_mode, setup_linux),
		cmocka_unit_test_setup(test_special_fully_nested, setup_linux),
		cmocka_unit_test_setup(test_init_clears_state, setup_linux),
		cmocka_unit_test_setup(test_icw_sequences, setup_linux),
		cmocka_unit_test_setup(test_spurious_when_nothing_pending, setup_linux),
		cmocka_unit_test_setup(test_ignored_inputs, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
