/* The legacy 8259A interrupt controller pair: the host does not use it. */
#ifndef HV_DRIVERS_I8259_H
#define HV_DRIVERS_I8259_H

/*
 * Remaps both PICs away from the exception vectors and masks every line, so a
 * legacy timer interrupt cannot arrive as vector 8 and look like a #DF.
 */
void i8259_disable(void);

#endif
