/*
 * Finding the \_S5 (soft-off) sleep type in a DSDT's AML, the cheap way:
 * the name _S5_ defined by NameOp, holding a Package whose first two
 * elements are SLP_TYPa and SLP_TYPb (ACPI 6.5 §7.4.2 and §20.2: NameOp
 * 0x08, PackageOp 0x12, PkgLength, NumElements, BytePrefix 0x0A / ZeroOp /
 * OneOp). No interpreter: a _S5 computed by a method is not found.
 * Pure logic, unit-tested on the host.
 */
#ifndef HV_CONSOLE_ACPI_S5_H
#define HV_CONSOLE_ACPI_S5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool acpi_find_s5(const uint8_t *aml, size_t len, uint8_t *slp_typa, uint8_t *slp_typb);

#endif
