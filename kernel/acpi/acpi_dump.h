/*
 * `acpi_dump` on the command line prints the RSDP and every ACPI table in
 * hex, so the test suite can check the parser against the tables that real
 * firmware (QEMU's SeaBIOS and OVMF, Bochs) builds.
 */
#ifndef HV_ACPI_ACPI_DUMP_H
#define HV_ACPI_ACPI_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/acpi/acpi.h"

void acpi_dump(const uint8_t *rsdp, size_t rsdp_len, const struct acpi_info *ai,
	       acpi_phys_fn phys);

#endif
