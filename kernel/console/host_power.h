/* Resetting and powering off the host machine (the console's host-reboot and host-poweroff). */
#ifndef HV_CONSOLE_HOST_POWER_H
#define HV_CONSOLE_HOST_POWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/acpi/acpi.h"

struct host_s5 {
	uint16_t pm1a_control, pm1b_control; /* ports; 0: none */
	uint8_t slp_typa, slp_typb;
	uint32_t smi_command; /* to switch the firmware into ACPI mode, if it is not */
	uint8_t acpi_enable;
};

/* Finds how to enter S5 from the FADT and the DSDT; false with the reason. */
bool host_find_s5(const struct acpi_info *ai, struct host_s5 *s5, char *why, size_t whylen);
/* Enters S5; returns only if the machine is still on a second later. */
void host_poweroff(const struct host_s5 *s5);
/* Resets the machine: the FADT reset register, port 0xCF9, the 8042, a triple fault. */
__attribute__((noreturn)) void host_reboot(const struct acpi_info *ai);

#endif
