/*
 * The shell's loop: read the UART, edit the line, run the verb; or, while
 * attached to a VM, pass keystrokes to its serial line until Ctrl-].
 */
#include "kernel/console/shell.h"
#include "kernel/cpu/deferred.h"

#include "kernel/sched/sched.h"

#include "drivers/i8042.h"
#include "drivers/uart16550.h"
#include "include/x86.h"
#include "kernel/console/commands.h"
#include "kernel/console/lineedit.h"
#include "kernel/console/screen.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mgmt/mgmt.h"
#include "kernel/time/timer.h"
#include "kernel/vm/vm_devices.h"
#include "kernel/vm/vmm.h"

#define PROMPT "hv> "
#define DETACH_KEY 0x1d /* Ctrl-], as xl console and telnet */
#define MAX_ARGS 8
#define POLL_US 1000

struct shell_cmd {
	const char *name;
	const char *args;
	const char *help;
	int min_args, max_args; /* after the verb */
	void (*run)(int argc, char **argv);
};

static void cmd_help(int argc, char **argv);

static const struct shell_cmd commands[] = {
    {"help", "", "this list", 0, 1, cmd_help},
    {"list", "", "VMs: id, state, vCPUs, memory, CPU time", 0, 0, cmd_list},
    {"info", "", "the host: cores, memory, virtualization, uptime", 0, 0, cmd_info},
    {"create", "PATH", "start a VM from its .cfg boot module", 1, 1, cmd_create},
    {"destroy", "NAME", "stop a VM at once", 1, 1, cmd_destroy},
    {"shutdown", "NAME", "ask a VM to power off (forced after 3 s)", 1, 1, cmd_shutdown},
    {"reboot", "NAME", "restart a VM from its kernel, RAM zeroed", 1, 1, cmd_reboot},
    {"pause", "NAME", "stop running a VM's vCPUs", 1, 1, cmd_pause},
    {"unpause", "NAME", "run them again", 1, 1, cmd_unpause},
    {"console", "NAME", "attach to a VM's serial line (Ctrl-] detaches)", 1, 1, cmd_console},
    {"vcpu-list", "[NAME]", "vCPUs: core, state, CPU and steal time, affinity", 0, 1,
     cmd_vcpu_list},
    {"vcpu-pin", "NAME VCPU CPU", "let a vCPU run on that core only (it moves there)", 3, 3,
     cmd_vcpu_pin},
    {"sched-credit", "[-d NAME [-w WEIGHT] [-c CAP]]", "show or set weights and caps", 0, 6,
     cmd_sched_credit},
    {"pci-list", "[NAME]", "the host's PCI devices, or a VM's PCI functions", 0, 1,
     cmd_pci_list},
    {"pci-assignable-list", "", "host PCI functions a VM can be given, and why not the others",
     0, 0, cmd_pci_assignable_list},
    {"block-list", "[NAME]", "host disks and partitions, or a VM's disks and their I/O", 0, 1,
     cmd_block_list},
    {"nic-list", "NAME", "a VM's NICs: MAC, switch, port, frames and drops", 1, 1,
     cmd_nic_list},
    {"net-list", "", "virtual switches: ports, their counters, learned MACs", 0, 0, cmd_net_list},
    {"dmesg", "", "the hypervisor's log", 0, 0, cmd_dmesg},
    {"iommu", "", "VT-d units, and each PCI device's DMA domain", 0, 0, cmd_iommu},
    {"host-reboot", "", "reset the machine (asks first)", 0, 0, cmd_host_reboot},
    {"host-poweroff", "", "power the machine off (asks first)", 0, 0, cmd_host_poweroff},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static struct line_editor editor;
static const struct acpi_info *host_acpi;
static bool prompt_enabled;

static struct vm *attached;
static uint8_t to_guest[64]; /* typed, not yet taken by the guest's receive FIFO */
static size_t to_guest_len;

/* The editor's echo, written with the console lock held. */
static void echo_out(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	console_write_raw_locked(s, n);
}

static void redraw(void *ctx)
{
	le_redraw(ctx);
}

static void show_prompt(struct line_editor *e)
{
	console_set_prompt(redraw, e);
	uint64_t f = console_lock();
	console_prompt_restore_locked();
	console_unlock(f);
}

/*
 * A key from the serial port or the keyboard at the screen, whichever has
 * one; the screen is drawn here too (the shell's loop is where it waits).
 */
static int console_key(void)
{
	screen_poll();
	int c = console_serial_enabled() ? uart_getc() : -1; /* no UART reads as 0xff bytes */
	return c >= 0 ? c : i8042_getc();
}

static void sleep_a_little(void)
{
	if (sched_core_usable(0)) {
		sched_run_boot_cpu(POLL_US); /* the boot CPU's vCPUs, under a test harness */
		return;
	}
	irq_disable();
	timer_oneshot_us(POLL_US);
	__asm__ volatile("sti; hlt" ::: "memory"); /* STI's shadow covers HLT */
	deferred_run();
}

void shell_error(const char *fmt, ...)
{
	char buf[200];
	va_list ap;
	va_start(ap, fmt);
	format_v(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_print("error: %s\n", buf);
}

const struct acpi_info *shell_acpi(void)
{
	return host_acpi;
}

static void cmd_help(int argc, char **argv)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct shell_cmd *c = &commands[i];
		if (argc == 1 && strcmp(argv[0], c->name) != 0)
			continue;
		char usage[40];
		format(usage, sizeof(usage), "%s %s", c->name, c->args);
		console_print("  %-28s %s\n", usage, c->help);
	}
	if (argc == 0)
		console_print("Keys: arrows edit and recall, Ctrl-C clears the line.\n");
}

static void execute(char *line)
{
	char *argv[MAX_ARGS + 1];
	int argc = le_split(line, argv, MAX_ARGS + 1);
	if (argc == 0)
		return;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct shell_cmd *c = &commands[i];
		if (strcmp(argv[0], c->name) != 0)
			continue;
		if (argc - 1 < c->min_args || argc - 1 > c->max_args) {
			shell_error("usage: %s %s", c->name, c->args);
			return;
		}
		c->run(argc - 1, argv + 1);
		return;
	}
	shell_error("unknown command '%.40s'; `help` lists them", argv[0]);
}

static void detach(const char *why)
{
	struct vm *vm = attached;
	attached = NULL;
	to_guest_len = 0;
	vm_console_attach(NULL);
	console_print("\n[detached from %s%s]\n", vm->name, why);
	show_prompt(&editor);
}

void shell_attach(struct vm *vm)
{
	console_print("[attached to %s%s: Ctrl-] detaches; its recent output follows]\n", vm->name,
		      vm->has_hvc ? " (hvc0)" : "");
	attached = vm;
	to_guest_len = 0;
	vm_console_attach(vm);
}

/* While attached: pass what was typed on, and notice the VM stopping. */
static void attached_poll(void)
{
	if (attached->state == VM_STOPPED) {
		detach(": it stopped");
		return;
	}
	if (to_guest_len) {
		size_t n = vm_console_input(attached, to_guest, to_guest_len);
		memmove(to_guest, to_guest + n, to_guest_len - n);
		to_guest_len -= n;
	}
}

static void attached_key(uint8_t c)
{
	if (c == DETACH_KEY) {
		detach("");
		return;
	}
	if (to_guest_len < sizeof(to_guest))
		to_guest[to_guest_len++] = c; /* beyond that, lost: the guest is not reading */
}

static void prompt_key(char c)
{
	if (!prompt_enabled) {
		prompt_enabled = true;
		show_prompt(&editor);
	}
	uint64_t f = console_lock();
	console_prompt_restore_locked();
	enum le_result r = le_feed(&editor, c);
	console_unlock(f);
	if (r == LE_MORE)
		return;
	console_set_prompt(NULL, NULL);
	if (r == LE_LINE) {
		char line[LE_LINE_MAX + 1];
		strlcpy_hv(line, editor.buf, sizeof(line));
		execute(line);
	}
	le_reset(&editor);
	if (!attached)
		show_prompt(&editor);
}

void shell_init(const struct acpi_info *acpi, bool prompt_at_once)
{
	host_acpi = acpi;
	le_init(&editor, PROMPT, true, echo_out, NULL);
	if (prompt_at_once) {
		prompt_enabled = true;
		console_print("hv: console ready: `help` lists the commands\n");
		show_prompt(&editor);
	}
}

void shell_run(bool (*until)(void))
{
	for (;;) {
		vmm_poll();
		mgmt_poll(); /* the management network runs here, never in an interrupt */
		console_drain();
		if (attached)
			attached_poll();
		if (until && until()) {
			if (attached)
				detach("");
			if (prompt_enabled) {
				console_set_prompt(NULL, NULL);
				console_write_raw("\r\033[K", 4); /* the summary goes where the prompt was */
			}
			return;
		}
		unsigned got = 0;
		int c;
		while (got < 64 && (c = console_key()) >= 0) {
			got++;
			if (attached)
				attached_key((uint8_t)c);
			else
				prompt_key((char)c);
		}
		if (!got)
			sleep_a_little();
	}
}

bool shell_confirm(const char *question)
{
	static struct line_editor ask;
	le_init(&ask, question, false, echo_out, NULL);
	show_prompt(&ask);
	enum le_result r = LE_MORE;
	while (r == LE_MORE) {
		vmm_poll();
		mgmt_poll(); /* the management network runs here, never in an interrupt */
		console_drain();
		int c = console_key();
		if (c < 0) {
			sleep_a_little();
			continue;
		}
		uint64_t f = console_lock();
		console_prompt_restore_locked();
		r = le_feed(&ask, (char)c);
		console_unlock(f);
	}
	console_set_prompt(NULL, NULL);
	return r == LE_LINE && (strcmp(ask.buf, "y") == 0 || strcmp(ask.buf, "yes") == 0 ||
				strcmp(ask.buf, "Y") == 0);
}
