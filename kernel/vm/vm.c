#include "kernel/vm/vm.h"

#include "kernel/sched/sched.h"

#include "drivers/lapic.h"
#include "include/x86.h"
#include "kernel/cpu/idt.h"
#include "kernel/cpu/percpu.h"
#include "kernel/config/vmconfig.h"
#include "kernel/lib/format.h"
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

/* The console `console NAME` shows for vm: hvc0 when it has one. */
static enum vm_console_id attached_console(const struct vm *vm)
{
	return vm->has_hvc ? VM_CONSOLE_HVC : VM_CONSOLE_COM1;
}

static void flush_line(struct vm *vm, enum vm_console_id id)
{
	struct vm_line_buffer *b = &vm->out[id].line;
	if (!b->len)
		return;
	b->text[b->len] = 0;
	exitprof_console_line(vm, b->text);
	if (__atomic_load_n(&attached, __ATOMIC_ACQUIRE) != vm || attached_console(vm) != id) {
		char tag[VM_NAME_LEN + 8];
		format(tag, sizeof(tag), id == VM_CONSOLE_HVC ? "%s/hvc0" : "%s", vm->name);
		console_vm_line(tag, b->text);
	}
	b->len = 0;
}

static void console_out(struct vm *vm, enum vm_console_id id, char c)
{
	struct vm_output *o = &vm->out[id];
	spin_lock(&vm->output_lock);
	o->ring[o->total++ % VM_OUTPUT_RING] = c;
	bool raw = __atomic_load_n(&attached, __ATOMIC_ACQUIRE) == vm && attached_console(vm) == id;
	spin_unlock(&vm->output_lock);
	if (raw) {
		/* attached: the operator's terminal interprets the guest's bytes */
		console_write_raw(&c, 1);
		o->line.len = 0;
		return;
	}

	struct vm_line_buffer *b = &o->line;
	if (c == '\r')
		return;
	if (c == '\n') {
		flush_line(vm, id);
		return;
	}
	/* keep the host console clean: control characters become '?' */
	b->text[b->len++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? c : '?';
	if (b->len == sizeof(b->text) - 1)
		flush_line(vm, id);
}

void vm_console_putc(struct vm *vm, char c)
{
	console_out(vm, VM_CONSOLE_COM1, c);
}

void vm_hvc_putc(struct vm *vm, char c)
{
	console_out(vm, VM_CONSOLE_HVC, c);
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
	const struct vm_output *o = &vm->out[attached_console(vm)];
	uint64_t flags = console_lock();
	spin_lock(&vm->output_lock);
	uint64_t total = o->total;
	size_t n = total < VM_OUTPUT_RING ? (size_t)total : VM_OUTPUT_RING;
	for (size_t i = 0; i < n; i++)
		replay[i] = o->ring[(total - n + i) % VM_OUTPUT_RING];
	__atomic_store_n(&attached, vm, __ATOMIC_RELEASE);
	spin_unlock(&vm->output_lock);
	console_write_raw_locked(replay, n);
	console_unlock(flags);
}

size_t vm_console_read(struct vm *vm, uint64_t since, char *buf, size_t size, uint64_t *from,
		       uint64_t *total)
{
	const struct vm_output *o = &vm->out[attached_console(vm)];
	spin_lock(&vm->output_lock);
	uint64_t end = o->total;
	uint64_t start = end > VM_OUTPUT_RING ? end - VM_OUTPUT_RING : 0;
	if (since > start)
		start = since < end ? since : end;
	size_t n = (size_t)(end - start) < size ? (size_t)(end - start) : size;
	for (size_t i = 0; i < n; i++)
		buf[i] = o->ring[(start + i) % VM_OUTPUT_RING];
	spin_unlock(&vm->output_lock);
	*from = start;
	*total = end;
	return n;
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

	for (unsigned i = 0; i < VM_CONSOLES; i++)
		flush_line(vm, i);
	printk("vm %s stopped: %s code=%llu\n", vm->name, vm_stop_reason_name(reason),
	       (unsigned long long)code);
	/* vCPUs running elsewhere leave the guest on the next host interrupt */
	vm_kick(vm);
}
