/* Fatal host errors: report, stop every CPU, tell the harness. */
#ifndef HV_PANIC_H
#define HV_PANIC_H

#include <stdbool.h>

#include "kernel/cpu/idt.h"

void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Dumps an exception's state with a backtrace, then stops the machine. */
void panic_exception(const struct trap_frame *f) __attribute__((noreturn));
bool panic_in_progress(void);

#endif
