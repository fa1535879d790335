/* The shell's verbs (cmd_vm.c, cmd_host.c) and what they may ask of the shell (shell.c). */
#ifndef HV_CONSOLE_COMMANDS_H
#define HV_CONSOLE_COMMANDS_H

#include <stdbool.h>

#include "kernel/acpi/acpi.h"
#include "kernel/vm/vm.h"

/* VMs */
void cmd_list(int argc, char **argv);
void cmd_create(int argc, char **argv);
void cmd_destroy(int argc, char **argv);
void cmd_shutdown(int argc, char **argv);
void cmd_reboot(int argc, char **argv);
void cmd_pause(int argc, char **argv);
void cmd_unpause(int argc, char **argv);
void cmd_console(int argc, char **argv);
void cmd_vcpu_list(int argc, char **argv);
void cmd_vcpu_pin(int argc, char **argv);
void cmd_sched_credit(int argc, char **argv);
void cmd_pci_list(int argc, char **argv);
void cmd_block_list(int argc, char **argv);
void cmd_nic_list(int argc, char **argv);

/* networking (cmd_net.c) */
void cmd_net_list(int argc, char **argv);

/* the host */
void cmd_info(int argc, char **argv);
void cmd_dmesg(int argc, char **argv);
void cmd_iommu(int argc, char **argv);
void cmd_host_reboot(int argc, char **argv);
void cmd_host_poweroff(int argc, char **argv);

/* from the shell */
void shell_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Asks a yes/no question; true only for "y" or "yes". */
bool shell_confirm(const char *question);
/* Attaches the console to the VM's serial line until Ctrl-] (or the VM stops). */
void shell_attach(struct vm *vm);
const struct acpi_info *shell_acpi(void);

#define SHELL_SHUTDOWN_TIMEOUT_MS 3000

#endif
