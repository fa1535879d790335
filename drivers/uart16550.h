/* 16550-compatible UART on an I/O port (PC COM ports). */
#ifndef HV_DRIVERS_UART16550_H
#define HV_DRIVERS_UART16550_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/cmdline.h"

/* Programs the UART; returns false if nothing answers at that port. */
bool uart_init(const struct serial_params *p);
void uart_putc(char c);
/* Returns a received byte, or -1 if none is waiting. */
int uart_getc(void);
uint16_t uart_port(void);

#endif
