/*
 * Telling a test harness how the run went: with `debug_exit=PORT` on the
 * command line, the hypervisor writes its status to that port (QEMU's
 * isa-debug-exit device) when it has nothing left to run.
 */
#ifndef HV_HVEXIT_H
#define HV_HVEXIT_H

#include <stdbool.h>
#include <stdint.h>

void hv_exit_init(const char *cmdline);
/* True when the command line names a debug-exit port (a test harness runs us). */
bool hv_exit_configured(void);
/* Writes status to the debug-exit port if one is configured; returns if not. */
void hv_exit_status(uint8_t status);

#endif
