/* The shell's VM verbs, after xl's: list, create, destroy, ... (xl(1)). */
#include "kernel/console/commands.h"
#include "kernel/config/vmconfig.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/vm/vmm.h"

#define HEADER_NAME "%-20s"

static struct vm *vm_named(const char *name)
{
	struct vm *vm = vmm_find(name);
	if (!vm)
		shell_error("no VM named '%.40s' (`list` shows them)", name);
	return vm;
}

/* Milliseconds as seconds with one decimal. */
static void seconds(char *buf, size_t size, uint64_t ms)
{
	format(buf, size, "%llu.%llu", (unsigned long long)(ms / 1000),
	       (unsigned long long)(ms % 1000 / 100));
}

static uint64_t vm_time_ms(const struct vm *vm)
{
	uint64_t ms = 0;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		ms += vmm_vcpu_time_ms(vm->vcpus[i]);
	return ms;
}

void cmd_list(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char t[24];
	console_print(HEADER_NAME " %4s %-9s %5s %8s %9s  %s\n", "Name", "ID", "State", "VCPUs",
		      "Mem(MiB)", "Time(s)", "Last stop");
	for (unsigned k = 0; k < vm_count; k++) {
		const struct vm *vm = vms[k];
		seconds(t, sizeof(t), vm_time_ms(vm));
		char why[40] = "";
		if (vm->state == VM_STOPPED)
			format(why, sizeof(why), "%s code=%llu", vm_stop_reason_name(vm->stop_reason),
			       (unsigned long long)vm->exit_code);
		console_print(HEADER_NAME " %4u %-9s %5u %8llu %9s  %s\n", vm->name, vm->id,
			      vmm_state_name(vm), vm->nvcpus,
			      (unsigned long long)(vm->ram_bytes >> 20), t, why);
	}
	const struct vmm_defined *d;
	size_t n = vmm_defined(&d);
	for (size_t i = 0; i < n; i++) {
		if (vmm_find(d[i].name))
			continue;
		console_print(HEADER_NAME " %4s %-9s %5u %8llu %9s  create %s\n", d[i].name, "-",
			      "off", d[i].vcpus, (unsigned long long)d[i].memory_mib, "0.0",
			      d[i].path);
	}
}

void cmd_create(int argc, char **argv)
{
	(void)argc;
	char err[200];
	if (vmm_create(argv[0], err, sizeof(err)) < 0)
		shell_error("%s", err);
}

/* The verbs that take one VM name and call one vmm function. */
static void on_vm(const char *name, int (*fn)(struct vm *, char *, size_t), const char *done)
{
	struct vm *vm = vm_named(name);
	if (!vm)
		return;
	char err[200];
	if (fn(vm, err, sizeof(err)) < 0)
		shell_error("%s", err);
	else if (done)
		console_print("vm %s %s\n", vm->name, done);
}

void cmd_destroy(int argc, char **argv)
{
	(void)argc;
	on_vm(argv[0], vmm_destroy, NULL); /* vm_stop says "stopped: destroyed" */
}

static int shutdown_default(struct vm *vm, char *err, size_t errlen)
{
	return vmm_shutdown(vm, SHELL_SHUTDOWN_TIMEOUT_MS, err, errlen);
}

void cmd_shutdown(int argc, char **argv)
{
	(void)argc;
	on_vm(argv[0], shutdown_default, NULL);
}

void cmd_reboot(int argc, char **argv)
{
	(void)argc;
	on_vm(argv[0], vmm_reboot, "restarted");
}

void cmd_pause(int argc, char **argv)
{
	(void)argc;
	on_vm(argv[0], vmm_pause, "paused");
}

void cmd_unpause(int argc, char **argv)
{
	(void)argc;
	on_vm(argv[0], vmm_unpause, "unpaused");
}

void cmd_console(int argc, char **argv)
{
	(void)argc;
	struct vm *vm = vm_named(argv[0]);
	if (!vm)
		return;
	if (vm->state == VM_STOPPED) {
		shell_error("vm %s is not running (stopped: %s)", vm->name,
			    vm_stop_reason_name(vm->stop_reason));
		return;
	}
	shell_attach(vm);
}

static const char *vcpu_state(const struct vcpu *v)
{
	if (v->vm->state == VM_STOPPED)
		return "stopped";
	if (!v->active)
		return v->id ? "offline" : "starting"; /* guest APs are not started yet */
	if (v->parked)
		return "paused";
	if (v->halted)
		return "blocked";
	return "running";
}

void cmd_vcpu_list(int argc, char **argv)
{
	char t[24];
	console_print(HEADER_NAME " %4s %4s %4s %-8s %9s\n", "Name", "ID", "VCPU", "CPU", "State",
		      "Time(s)");
	for (unsigned k = 0; k < vm_count; k++) {
		const struct vm *vm = vms[k];
		if (argc == 1 && strcmp(vm->name, argv[0]) != 0)
			continue;
		for (unsigned i = 0; i < vm->nvcpus; i++) {
			const struct vcpu *v = vm->vcpus[i];
			char cpu[8] = "-";
			if (!vm->released)
				format(cpu, sizeof(cpu), "%u", v->pcpu);
			seconds(t, sizeof(t), vmm_vcpu_time_ms(v));
			console_print(HEADER_NAME " %4u %4u %4s %-8s %9s\n", vm->name, vm->id, i, cpu,
				      vcpu_state(v), t);
		}
	}
	if (argc == 1 && !vmm_find(argv[0]))
		shell_error("no VM named '%.40s'", argv[0]);
}

static bool number(const char *s, unsigned *out)
{
	uint64_t v;
	size_t n = strlen(s);
	if (n == 0 || parse_u64(s, n, &v) != n || v > 0xffff) {
		shell_error("'%.20s' is not a number", s);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

void cmd_vcpu_pin(int argc, char **argv)
{
	(void)argc;
	unsigned vcpu, cpu;
	struct vm *vm = vm_named(argv[0]);
	if (!vm || !number(argv[1], &vcpu) || !number(argv[2], &cpu))
		return;
	char err[200];
	if (vmm_vcpu_pin(vm, vcpu, cpu, err, sizeof(err)) < 0)
		shell_error("%s", err);
	else
		console_print("vm %s vCPU %u now on CPU %u\n", vm->name, vcpu, cpu);
}

void cmd_sched_credit(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	console_print("no scheduler yet: each vCPU has a core to itself, so weights and caps do "
		      "not act;\nthey are kept from the VM files for when one comes.\n");
	console_print(HEADER_NAME " %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
	for (unsigned k = 0; k < vm_count; k++) {
		const struct vm *vm = vms[k];
		console_print(HEADER_NAME " %4u %6u %4u\n", vm->name, vm->id, vm->config->weight,
			      vm->config->cap);
	}
	const struct vmm_defined *d;
	size_t n = vmm_defined(&d);
	for (size_t i = 0; i < n; i++)
		if (!vmm_find(d[i].name))
			console_print(HEADER_NAME " %4s %6u %4u\n", d[i].name, "-", d[i].weight,
				      d[i].cap);
}
