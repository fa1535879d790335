/* The shell's VM verbs, after xl's: list, create, destroy, ... (xl(1)). */
#include "kernel/blk/hostblk.h"
#include "kernel/console/commands.h"
#include "kernel/console/verbs.h"
#include "include/x86.h"
#include "kernel/config/vmconfig.h"
#include "kernel/cpu/percpu.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/pci/pci.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/vm_passthru.h"
#include "kernel/vm/vm_pci.h"
#include "kernel/vm/vm_virtio.h"
#include "kernel/vm/vmm.h"
#include "kernel/vm/vplatform.h"

#define HEADER_NAME "%-20s"

static struct vm *vm_named(const char *name)
{
	struct vm *vm = vmm_find(name);
	if (!vm)
		shell_error(VERB_NO_VM_FMT, name);
	return vm;
}

/* Milliseconds as seconds with three decimals. */
static void seconds(char *buf, size_t size, uint64_t ms)
{
	format(buf, size, "%llu.%03llu", (unsigned long long)(ms / 1000),
	       (unsigned long long)(ms % 1000));
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
		seconds(t, sizeof(t), vm_verb_time_ms(vm));
		char why[40];
		vm_verb_last_stop(vm, why, sizeof(why));
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
			      "off", d[i].vcpus, (unsigned long long)d[i].memory_mib, "0.000",
			      d[i].path);
	}
}

void cmd_create(int argc, char **argv)
{
	(void)argc;
	char err[200];
	if (vm_verb_create(argv[0], err, sizeof(err)) != VERB_OK)
		shell_error("%s", err);
}

/* The verbs that take one VM name (verbs.c: the same layer as the management API's). */
static void on_vm(const char *name, enum vm_verb v)
{
	char err[200];
	if (vm_verb_run(name, v, err, sizeof(err)) != VERB_OK)
		shell_error("%s", err);
	else if (vm_verb_done(v))
		console_print("vm %s %s\n", name, vm_verb_done(v));
}

void cmd_destroy(int argc, char **argv)
{
	(void)argc;
	on_vm(argv[0], VM_VERB_DESTROY); /* vm_stop says "stopped: destroyed" */
}

void cmd_shutdown(int argc, char **argv)
{
	(void)argc;
	on_vm(argv[0], VM_VERB_SHUTDOWN);
}

void cmd_reboot(int argc, char **argv)
{
	(void)argc;
	on_vm(argv[0], VM_VERB_REBOOT);
}

void cmd_pause(int argc, char **argv)
{
	(void)argc;
	on_vm(argv[0], VM_VERB_PAUSE);
}

void cmd_unpause(int argc, char **argv)
{
	(void)argc;
	on_vm(argv[0], VM_VERB_UNPAUSE);
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

/* A set of host cores as a list: "0-3,6"; "all" for every core of the host. */
static void cpu_list(char *buf, size_t size, const struct cpuset *set)
{
	struct cpuset host;
	cpuset_fill(&host, cpu_count);
	if (cpuset_subset(&host, set)) {
		format(buf, size, "all");
		return;
	}
	cpuset_format(set, buf, size);
}

void cmd_vcpu_list(int argc, char **argv)
{
	char t[24], st[24], aff[40], ran[40];
	console_print(HEADER_NAME " %4s %4s %4s %-8s %10s %10s  %-8s %s\n", "Name", "ID", "VCPU",
		      "CPU", "State", "Time(s)", "Steal(s)", "Affinity", "Ran on");
	for (unsigned k = 0; k < vm_count; k++) {
		const struct vm *vm = vms[k];
		if (argc == 1 && strcmp(vm->name, argv[0]) != 0)
			continue;
		for (unsigned i = 0; i < vm->nvcpus; i++) {
			const struct vcpu *v = vm->vcpus[i];
			char cpu[8] = "-";
			if (v->active)
				format(cpu, sizeof(cpu), "%u", v->se.cpu);
			seconds(t, sizeof(t), vmm_vcpu_time_ms(v));
			seconds(st, sizeof(st), vmm_vcpu_steal_ms(v));
			cpu_list(aff, sizeof(aff), &v->se.affinity);
			cpu_list(ran, sizeof(ran), &v->se.ran_on);
			console_print(HEADER_NAME " %4u %4u %4s %-8s %10s %10s  %-8s %s\n", vm->name,
				      vm->id, i, cpu, vm_vcpu_state_name(v), t, st, aff,
				      cpuset_empty(&v->se.ran_on) ? "-" : ran);
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

static void sched_show(void)
{
	char t[24];
	console_print(HEADER_NAME " %4s %6s %4s %10s  %s\n", "Name", "ID", "Weight", "Cap",
		      "Time(s)", "Cores");
	for (unsigned k = 0; k < vm_count; k++) {
		const struct vm *vm = vms[k];
		seconds(t, sizeof(t), vm_verb_time_ms(vm));
		console_print(HEADER_NAME " %4u %6u %4u %10s  %s\n", vm->name, vm->id,
			      vm->share.weight, vm->share.cap, t, vm->exclusive ? "owned" : "shared");
	}
	const struct vmm_defined *d;
	size_t n = vmm_defined(&d);
	for (size_t i = 0; i < n; i++)
		if (!vmm_find(d[i].name))
			console_print(HEADER_NAME " %4s %6u %4u %10s  %s\n", d[i].name, "-",
				      d[i].weight, d[i].cap, "0.000", "-");
	console_print("uptime %llu ms\n", (unsigned long long)(rdtsc() / (tsc_khz() ? tsc_khz() : 1)));
}

/* xl sched-credit [-d NAME [-w WEIGHT] [-c CAP]] */
void cmd_sched_credit(int argc, char **argv)
{
	if (argc == 0) {
		sched_show();
		return;
	}
	if (strcmp(argv[0], "-d") != 0 || argc < 2 || argc % 2) {
		shell_error("usage: sched-credit [-d NAME [-w WEIGHT] [-c CAP]]");
		return;
	}
	struct vm *vm = vm_named(argv[1]);
	if (!vm)
		return;
	unsigned weight = vm->share.weight, cap = vm->share.cap;
	for (int i = 2; i < argc; i += 2) {
		unsigned *dst = strcmp(argv[i], "-w") == 0 ? &weight
				: strcmp(argv[i], "-c") == 0 ? &cap
							     : NULL;
		if (!dst) {
			shell_error("unknown option '%.10s' (-w WEIGHT, -c CAP)", argv[i]);
			return;
		}
		if (!number(argv[i + 1], dst))
			return;
	}
	if (weight < 1) {
		shell_error("weight %u is out of range 1..65535", weight);
		return;
	}
	if (cap > 100 * vm->nvcpus) {
		shell_error("cap %u is out of range 0..%u (100 per vCPU)", cap, 100 * vm->nvcpus);
		return;
	}
	vm->share.weight = weight;
	vm->share.cap = cap;
	console_print(HEADER_NAME " %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
	console_print(HEADER_NAME " %4u %6u %4u\n", vm->name, vm->id, weight, cap);
}

/* One line per PCI function of the VM, by slot; then what its APICs refused. */
void cmd_pci_list(int argc, char **argv)
{
	if (argc == 0) {
		pci_host_list(); /* the host's own devices */
		return;
	}
	struct vm *vm = vm_named(argv[0]);
	if (!vm)
		return;
	if (!vm->pci) {
		shell_error("vm %s has no PCI bus now (stopped and released)", vm->name);
		return;
	}
	char line[320];
	unsigned n = 0;
	for (unsigned slot = 0; slot < VPCI_SLOTS; slot++) {
		if (!vm_pci_describe(vm, slot, line, sizeof(line)))
			continue;
		console_print("%s\n", line);
		n++;
	}
	console_print("%u function%s; %llu bad MSI messages dropped\n", n, n == 1 ? "" : "s",
		      (unsigned long long)vplatform_msi_dropped(vm));
}

static void print_line(void *ctx, const char *s)
{
	(void)ctx;
	console_print("%s\n", s);
}

/* Every host function: whether a VM can have it (`pci = [...]`), and why not. */
void cmd_pci_assignable_list(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	vm_passthru_assignable_list(print_line, NULL);
}

/* The VM named so, if it still has its devices (else an error, and NULL). */
static struct vm *vm_with_devices(const char *name)
{
	struct vm *vm = vm_named(name);
	if (vm && !vm->virtio) {
		shell_error("vm %s has no devices now (stopped and released)", vm->name);
		return NULL;
	}
	return vm;
}

/*
 * Without a name: the host's disks and partitions, with the VMs using them. With one: a
 * line per disk of the VM: where it comes from, its size, what the guest did with it.
 */
void cmd_block_list(int argc, char **argv)
{
	if (argc == 0) {
		hostblk_list();
		return;
	}
	struct vm *vm = vm_with_devices(argv[0]);
	if (vm)
		vm_virtio_block_list(vm);
}

/* A VM's NICs: a line each, with what its switch port counted. */
void cmd_nic_list(int argc, char **argv)
{
	(void)argc;
	struct vm *vm = vm_with_devices(argv[0]);
	if (vm)
		vm_virtio_nic_list(vm);
}
