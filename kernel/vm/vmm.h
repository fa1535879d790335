/*
 * The VM manager: VMs declared by the boot modules (.cfg files) are
 * created, started on their cores and watched until they stop.
 */
#ifndef HV_VM_VMM_H
#define HV_VM_VMM_H

#include <stdbool.h>

#include "kernel/boot/bootinfo.h"

/* Creates and starts every autostart VM; returns how many started. */
unsigned vmm_start(const struct boot_info *bi);
/*
 * Waits until every VM has stopped; true if all ended well (code 0 or
 * poweroff) and no VM file was rejected.
 */
bool vmm_wait_all(void);

#endif
