/* What a VM cost: time, exits by reason and by port, in words for the console. */
#include "kernel/vm/vm_account.h"

#include "include/x86.h"
#include "kernel/lib/format.h"
#include "kernel/log.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/vm_virtio.h"
#include "kernel/vm/vmm.h"

void vm_print_accounting(const struct vm *vm)
{
	/* under QEMU -icount shift=0 the TSC counts instructions: a boot's path length */
	if (vm->stop_tsc > vm->start_tsc)
		printk("vm %s ran %llu TSC ticks from start to stop\n", vm->name,
		       (unsigned long long)(vm->stop_tsc - vm->start_tsc));
	/* (its RAM may be given back already: the count was kept) */
	uint64_t zeroed = vm->map.lazy ? gpa_map_zeroed_bytes(&vm->map) : vm->ram_zeroed_bytes;
	if (vm->ram_bytes)
		printk("vm %s RAM zeroed at first use: %llu of %llu MiB\n", vm->name,
		       (unsigned long long)(zeroed >> 20), (unsigned long long)(vm->ram_bytes >> 20));
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		const struct vcpu *v = vm->vcpus[i];
		char line[256];
		size_t n = (size_t)format(line, sizeof(line), "vm %s vcpu %u exits: total %llu",
					  vm->name, i, (unsigned long long)v->exits_total);
		for (unsigned r = 1; r < EXIT_REASON_COUNT && n < sizeof(line); r++)
			if (v->exits[r])
				n += (size_t)format(line + n, sizeof(line) - n, ", %s %llu",
						    vm_exit_reason_name(r),
						    (unsigned long long)v->exits[r]);
		printk("%s\n", line);
		/* the scheduler's view: time on a core, time waiting for one, where, how woken */
		n = (size_t)format(line, sizeof(line),
				   "vm %s vcpu %u sched: cpu %llu ms, steal %llu ms, switched in %llu, "
				   "ran on cores",
				   vm->name, i, (unsigned long long)vmm_vcpu_time_ms(v),
				   (unsigned long long)vmm_vcpu_steal_ms(v),
				   (unsigned long long)v->se.switches_in);
		for (CPUSET_FOR_EACH(c, &v->se.ran_on)) {
			if (n >= sizeof(line))
				break;
			n += (size_t)format(line + n, sizeof(line) - n, " %u", c);
		}
		if (v->wakes)
			format(line + n, sizeof(line) - n, ", wakes %llu, wake latency avg %llu max %llu",
			       (unsigned long long)v->wakes,
			       (unsigned long long)(v->wake_latency_sum / v->wakes),
			       (unsigned long long)v->wake_latency_max);
		printk("%s\n", line);
	}
	exitprof_print(vm);
	pvsched_report(vm);
	vm_print_mmio_ranges(vm, "");
	vm_virtio_report(vm);
	vm_print_busiest_ports(vm, "", 6);
}

void vm_print_mmio_ranges(const struct vm *vm, const char *prefix)
{
	char line[256];
	size_t n = (size_t)format(line, sizeof(line), "%svm %s mmio ranges:", prefix, vm->name);
	for (size_t i = 0; i < vm->mmio.n && n < sizeof(line); i++)
		if (vm->mmio.ranges[i].hits)
			n += (size_t)format(line + n, sizeof(line) - n, " %s %llu", vm->mmio.ranges[i].name,
					    (unsigned long long)vm->mmio.ranges[i].hits);
	if (n < sizeof(line) && vm->mmio.unclaimed)
		format(line + n, sizeof(line) - n, " unclaimed %llu",
		       (unsigned long long)vm->mmio.unclaimed);
	printk("%s\n", line);
}

void vm_print_busiest_ports(const struct vm *vm, const char *prefix, unsigned count)
{
	if (!vm->io_counts)
		return;
	char line[256];
	size_t n = (size_t)format(line, sizeof(line), "%svm %s busiest ports:", prefix, vm->name);
	/* busiest first; ports with equal counts all show at their count */
	uint32_t done = UINT32_MAX;
	for (unsigned shown = 0; shown < count && n < sizeof(line);) {
		uint32_t best = 0;
		for (unsigned p = 0; p < 0x1000; p++)
			if (vm->io_counts[p] < done && vm->io_counts[p] > best)
				best = vm->io_counts[p];
		if (!best)
			break;
		for (unsigned p = 0; p < 0x1000 && shown < count && n < sizeof(line); p++)
			if (vm->io_counts[p] == best) {
				n += (size_t)format(line + n, sizeof(line) - n, " %#x %u", p, best);
				shown++;
			}
		done = best;
	}
	printk("%s\n", line);
}

const char *vmm_state_name(const struct vm *vm)
{
	switch (vm->state) {
	case VM_CREATED:
		return "created";
	case VM_RUNNING:
		return "running";
	case VM_PAUSED:
		return "paused";
	case VM_REBOOTING:
		return "rebooting";
	default:
		return "stopped";
	}
}

uint64_t vmm_vcpu_time_ms(const struct vcpu *v)
{
	uint64_t khz = tsc_khz();
	uint64_t since = v->run_since;
	uint64_t t = v->se.run_ticks + (since ? rdtsc() - since : 0);
	return khz ? t / khz : 0;
}

uint64_t vmm_vcpu_steal_ms(const struct vcpu *v)
{
	uint64_t khz = tsc_khz();
	return khz ? v->se.steal_ticks / khz : 0;
}
