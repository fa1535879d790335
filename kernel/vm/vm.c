#include "kernel/vm/vm.h"

#include "kernel/sched/sched.h"

#include "drivers/lapic.h"
#include "include/x86.h"
#include "kernel/cpu/idt.h"
#include "kernel/cpu/percpu.h"
#include "kernel/config/vmconfig.h"
#include "kernel/log.h"

struct vm *vms[VM_MAX];
unsigned vm_count;

const char *vm_stop_reason_name(enum vm_stop_reason r)
{
	switch (r) {
	case VM_STOP_POWEROFF:
		return "poweroff";
	case VM_STOP_EXIT_PORT:
		return "exit-port";
	case VM_STOP_TRIPLE_FAULT:
		return "triple-fault";
	case VM_STOP_HALTED:
		return "halted";
	case VM_STOP_DESTROYED:
		return "destroyed";
	case VM_STOP_CRASH:
		return "crash";
	case VM_STOP_REBOOT:
		return "reboot";
	case VM_STOP_PANIC:
		return "panic";
	default:
		return "none";
	}
}

static struct vm *volatile attached; /* the VM whose console the operator sees */

static void flush_console(struct vm *vm)
{
	struct vm_line_buffer *b = &vm->console;
	if (!b->len)
		return;
	b->text[b->len] = 0;
	if (__atomic_load_n(&attached, __ATOMIC_ACQUIRE) != vm)
		console_vm_line(vm->name, b->text);
	b->len = 0;
}

void vm_console_putc(struct vm *vm, char c)
{
	spin_lock(&vm->output_lock);
	vm->output[vm->output_total++ % VM_OUTPUT_RING] = c;
	bool raw = __atomic_load_n(&attached, __ATOMIC_ACQUIRE) == vm;
	spin_unlock(&vm->output_lock);
	if (raw) {
		/* attached: the operator's terminal interprets the guest's bytes */
		console_write_raw(&c, 1);
		vm->console.len = 0;
		return;
	}

	struct vm_line_buffer *b = &vm->console;
	if (c == '\r')
		return;
	if (c == '\n') {
		flush_console(vm);
		return;
	}
	/* keep the host console clean: control characters become '?' */
	b->text[b->len++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? c : '?';
	if (b->len == sizeof(b->text) - 1)
		flush_console(vm);
}

void vm_console_attach(struct vm *vm)
{
	static char replay[VM_OUTPUT_RING];
	if (!vm) {
		__atomic_store_n(&attached, NULL, __ATOMIC_RELEASE);
		console_mute_vm_lines(false);
		return;
	}
	console_mute_vm_lines(true);
	/*
	 * Under the console lock, so that bytes the guest writes meanwhile come
	 * out after the replay (the vCPU takes the ring lock, then the console's).
	 */
	uint64_t flags = console_lock();
	spin_lock(&vm->output_lock);
	uint64_t total = vm->output_total;
	size_t n = total < VM_OUTPUT_RING ? (size_t)total : VM_OUTPUT_RING;
	for (size_t i = 0; i < n; i++)
		replay[i] = vm->output[(total - n + i) % VM_OUTPUT_RING];
	__atomic_store_n(&attached, vm, __ATOMIC_RELEASE);
	spin_unlock(&vm->output_lock);
	console_write_raw_locked(replay, n);
	console_unlock(flags);
}

struct vm *vm_console_attached(void)
{
	return __atomic_load_n(&attached, __ATOMIC_ACQUIRE);
}

void vm_kick(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (v)
			sched_kick(v);
	}
}

void vm_stop(struct vm *vm, enum vm_stop_reason reason, uint64_t code)
{
	spin_lock(&vm->lock);
	if (vm->state == VM_STOPPED) {
		spin_unlock(&vm->lock);
		return;
	}
	vm->stop_reason = reason;
	vm->exit_code = code;
	vm->stop_tsc = rdtsc();
	/* xl's on_poweroff / on_reboot / on_crash: the VM manager restarts it */
	if (vm->config) {
		enum vm_action a = VM_ACTION_DESTROY;
		if (reason == VM_STOP_POWEROFF)
			a = vm->config->on_poweroff;
		else if (reason == VM_STOP_REBOOT)
			a = vm->config->on_reboot;
		else if (reason == VM_STOP_TRIPLE_FAULT || reason == VM_STOP_CRASH ||
			 reason == VM_STOP_PANIC)
			a = vm->config->on_crash;
		vm->restart_pending = a == VM_ACTION_RESTART;
	}
	__atomic_store_n(&vm->state, VM_STOPPED, __ATOMIC_RELEASE);
	spin_unlock(&vm->lock);

	flush_console(vm);
	printk("vm %s stopped: %s code=%llu\n", vm->name, vm_stop_reason_name(reason),
	       (unsigned long long)code);
	/* vCPUs running elsewhere leave the guest on the next host interrupt */
	vm_kick(vm);
}
