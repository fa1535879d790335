/* The VM verbs shared by the shell and the management API (verbs.h). */
#include "kernel/console/verbs.h"

#include "kernel/console/commands.h"
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
