/*
 * The PC keyboard through the i8042 controller, polled, for the shell at
 * the physical console (firmware often emulates it for USB keyboards).
 * Scan code set 1 as the controller translates it by default; US layout.
 */
#ifndef HV_DRIVERS_I8042_H
#define HV_DRIVERS_I8042_H

#include <stdbool.h>
#include <stdint.h>

/* Looks for the controller; false when none answers (its status reads 0xff). */
bool i8042_init(void);
bool i8042_present(void);
/*
 * The next character typed, or -1. Arrow keys come as the ANSI sequences a
 * serial terminal sends (ESC [ A..D), one byte per call.
 */
int i8042_getc(void);

/* Pure: one scan code byte into characters (out gets up to 3); hosted-tested. */
struct kbd_state {
	bool shift, ctrl, caps, e0;
};
unsigned kbd_scancode(struct kbd_state *s, uint8_t code, char out[3]);

#endif
