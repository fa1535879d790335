/* The VM verbs shared by the shell and the management API (verbs.h). */
#include "kernel/console/verbs.h"

#include "kernel/console/commands.h"
#include "kernel/cpu/features.h"
#include "kernel/lib/format.h"
#include "kernel/vm/vmm.h"

static int shutdown_default(struct vm *vm, char *err, size_t errlen)
{
	return vmm_shutdown(vm, SHELL_SHUTDOWN_TIMEOUT_MS, err, errlen);
}

enum verb_result vm_verb_run(const char *name, enum vm_verb v, char *err, size_t errlen)
{
	static int (*const fns[VM_VERBS])(struct vm *, char *, size_t) = {
	    [VM_VERB_SHUTDOWN] = shutdown_default, [VM_VERB_DESTROY] = vmm_destroy,
	    [VM_VERB_REBOOT] = vmm_reboot,	   [VM_VERB_PAUSE] = vmm_pause,
	    [VM_VERB_UNPAUSE] = vmm_unpause,
	};
	struct vm *vm = vmm_find(name);
	if (!vm) {
		format(err, errlen, VERB_NO_VM_FMT, name);
		return VERB_NO_VM;
	}
	if (v >= VM_VERBS) {
		format(err, errlen, "unknown verb");
		return VERB_FAILED;
	}
	return fns[v](vm, err, errlen) < 0 ? VERB_FAILED : VERB_OK;
}

enum verb_result vm_verb_create(const char *path, char *err, size_t errlen)
{
	return vmm_create(path, err, errlen) < 0 ? VERB_FAILED : VERB_OK;
}

uint64_t vm_verb_time_ms(const struct vm *vm)
{
	uint64_t ms = 0;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		ms += vmm_vcpu_time_ms(vm->vcpus[i]);
	return ms;
}

void vm_verb_last_stop(const struct vm *vm, char *buf, size_t size)
{
	buf[0] = 0;
	if (vm->state == VM_STOPPED)
		format(buf, size, "%s code=%llu", vm_stop_reason_name(vm->stop_reason),
		       (unsigned long long)vm->exit_code);
}

const char *vm_vcpu_state_name(const struct vcpu *v)
{
	if (v->vm->state == VM_STOPPED)
		return "stopped";
	if (!v->active)
		return "offline";
	if (v->waiting_sipi)
		return v->id ? "offline" : "halted"; /* a guest AP not started yet */
	switch (v->se.state) {
	case SCHED_RUNNING:
		return "running";
	case SCHED_RUNNABLE:
		return "runnable";
	case SCHED_BLOCKED:
		return "blocked";
	case SCHED_PAUSED:
		return "paused";
	default:
		return "offline";
	}
}

void host_virt_features(char *buf, size_t size)
{
	const struct cpu_features *f = &host_cpu;
	size_t n = 0;
#define ADD(cond, text)                                                                            \
	do {                                                                                       \
		if ((cond) && n < size)                                                            \
			n += (size_t)format(buf + n, size - n, "%s", text);                        \
	} while (0)
	ADD(f->svm, "AMD-V (SVM)");
	ADD(f->svm_firmware_disabled, " disabled-by-firmware");
	ADD(f->npt, " npt");
	ADD(f->nrip_save, " nrip-save");
	ADD(f->decode_assists, " decode-assists");
	ADD(f->flush_by_asid, " flush-by-asid");
	ADD(f->vmx, "Intel VT-x (VMX)");
	ADD(f->vmx_firmware_disabled, " disabled-by-firmware");
	ADD(f->ept, " ept");
	ADD(f->vpid, " vpid");
	ADD(f->unrestricted_guest, " unrestricted-guest");
	ADD(!f->svm && !f->vmx, "none");
	ADD(f->running_nested, "; nested under another hypervisor");
#undef ADD
}
