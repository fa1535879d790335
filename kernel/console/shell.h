/*
 * The administration shell on the host console (COM1), run by the boot CPU
 * once the autostart VMs are started. Verbs follow Xen's xl; `help` lists
 * them. Between keystrokes the boot CPU sleeps on its APIC timer (1 ms:
 * a 16-byte UART FIFO at 115200 baud fills in 1.4 ms).
 */
#ifndef HV_CONSOLE_SHELL_H
#define HV_CONSOLE_SHELL_H

#include <stdbool.h>

#include "kernel/acpi/acpi.h"

/*
 * prompt_at_once: draw the prompt now; otherwise at the first key (a test
 * harness reading the log sees no prompt unless it types).
 */
void shell_init(const struct acpi_info *acpi, bool prompt_at_once);
/* Runs the shell; returns once until() is true (never when NULL). */
void shell_run(bool (*until)(void));

#endif
