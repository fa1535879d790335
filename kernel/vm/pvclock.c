/* The KVM clock MSRs and pages (pvclock.h): what a vCPU's writes set up. */
#include "kernel/vm/pvclock.h"

#include "kernel/time/tsc.h"
#include "kernel/time/wallclock.h"
#include "kernel/vm/vm.h"
#include "kernel/vm/vplatform.h"

/*
 * Writes a version-guarded structure: version made odd first, the fields,
 * then the version even again, so that a reader on another vCPU (Linux's
 * vDSO reads vCPU 0's page from every CPU) retries instead of mixing old
 * and new fields.
 */
static void guarded_write(struct vm *vm, uint64_t gpa, void *data, size_t len)
{
	uint32_t version = 0;
	if (gpa_read(&vm->map, gpa, &version, sizeof(version)) < 0)
		return; /* not RAM: nothing to write, as KVM leaves it */
	version = (version + 1) | 1;
	*(uint32_t *)data = version;
	gpa_write(&vm->map, gpa, &version, sizeof(version));
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	gpa_write(&vm->map, gpa, data, len);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	version++;
	gpa_write(&vm->map, gpa, &version, sizeof(version));
}

/*
 * The vCPU's page: system time 0 at the guest TSC that went with the VM's
 * power-on (its platform's t0 plus this vCPU's offset), so every vCPU reads
 * the VM's time since power-on, the clock its PIT, HPET and RTC keep too.
 */
static void write_time_page(struct vcpu *v)
{
	uint64_t msr = v->msrs.kvm_system_time;
	if (!(msr & 1))
		return;
	uint32_t mul;
	int8_t shift;
	pvclock_scale((uint32_t)tsc_khz(), &mul, &shift);
	struct pvclock_time_info t = {
	    .tsc_timestamp = vplatform_t0(v->vm) + v->msrs.tsc_offset,
	    .system_time = 0,
	    .tsc_to_system_mul = mul,
	    .tsc_shift = shift,
	    .flags = PVCLOCK_TSC_STABLE_BIT,
	};
	guarded_write(v->vm, msr & ~1ull, &t, sizeof(t));
}

static void write_wall_clock(struct vcpu *v, uint64_t gpa)
{
	int64_t sec = wallclock_unix_at(vplatform_t0(v->vm));
	struct pvclock_wall_clock w = {.sec = (uint32_t)sec, .nsec = 0};
	guarded_write(v->vm, gpa, &w, sizeof(w));
}

int pvclock_msr_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	if (msr == MSR_KVM_SYSTEM_TIME_NEW)
		*value = v->msrs.kvm_system_time;
	else if (msr == MSR_KVM_WALL_CLOCK_NEW)
		*value = v->msrs.kvm_wall_clock;
	else
		return 0;
	return 1;
}

int pvclock_msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	if (msr == MSR_KVM_SYSTEM_TIME_NEW) {
		v->msrs.kvm_system_time = value;
		write_time_page(v);
	} else if (msr == MSR_KVM_WALL_CLOCK_NEW) {
		v->msrs.kvm_wall_clock = value;
		write_wall_clock(v, value);
	} else {
		return 0;
	}
	return 1;
}

void pvclock_tsc_moved(struct vcpu *v)
{
	write_time_page(v);
}
