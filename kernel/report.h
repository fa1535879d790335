/*
 * The boot report: one "key: value" per line, so that people and scripts
 * (the integration tests among them) can read what the machine is.
 */
#ifndef HV_REPORT_H
#define HV_REPORT_H

#include "kernel/acpi/acpi.h"
#include "kernel/boot/bootinfo.h"

void boot_report(const struct boot_info *bi, const struct acpi_info *acpi);

#endif
