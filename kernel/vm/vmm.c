#include "kernel/vm/vmm.h"

#include "guest/mb_loader.h"
#include "include/x86.h"
#include "kernel/config/vmconfig.h"
#include "kernel/cpu/features.h"
#include "kernel/cpu/percpu.h"
#include "kernel/cpu/smp.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/time/timer.h"
#include "kernel/vm/exit.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/msr_policy.h"
#include "kernel/vm/vm.h"
#include "kernel/vm/vm_devices.h"
#include "kernel/vm/vintr.h"

static bool cpu_busy[MAX_CPUS];
static unsigned failed_files; /* VM files that did not give a running VM */
static const char *module_paths[BOOT_MAX_MODULES];
static char module_path_store[BOOT_MAX_MODULES][BOOT_MODNAME_MAX];

/* The backend's per-core setup, run on each core in turn. */
struct enable_result {
	volatile int done;
	int rc;
	char err[128];
};

static void enable_here(void *arg)
{
	struct enable_result *r = arg;
	r->rc = hvm->cpu_enable(r->err, sizeof(r->err));
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
}

static bool enable_all_cpus(void)
{
	bool ok = true;
	for (unsigned i = 0; i < cpu_count; i++) {
		if (!cpus[i].online)
			continue;
		struct enable_result r = {0, -1, ""};
		if (i == 0)
			enable_here(&r);
		else if (!smp_run_on(i, enable_here, &r))
			continue;
		while (!__atomic_load_n(&r.done, __ATOMIC_ACQUIRE))
			cpu_relax();
		if (r.rc < 0) {
			printk("hv: CPU %u cannot run VMs: %s\n", i, r.err);
			ok = false;
			cpu_busy[i] = true; /* never place a vCPU there */
		}
	}
	return ok;
}

static const struct boot_module *find_module(const struct boot_info *bi, const char *path)
{
	for (size_t i = 0; i < bi->nmodules; i++)
		if (strcmp(module_paths[i], path) == 0)
			return &bi->modules[i];
	return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static uint64_t alloc_ram_chunk(void *ctx)
{
	(void)ctx;
	uint64_t hpa = frame_alloc_contig(&host_frames, GPA_CHUNK_SIZE / FRAME_SIZE, GPA_CHUNK_SIZE);
	if (hpa)
		memset(phys_to_virt(hpa), 0, GPA_CHUNK_SIZE); /* never hand over another VM's data */
	return hpa;
}

static void free_ram_chunk(void *ctx, uint64_t hpa)
{
	(void)ctx;
	frame_free_contig(&host_frames, hpa, GPA_CHUNK_SIZE / FRAME_SIZE);
}

static uint64_t alloc_table(void *ctx)
{
	(void)ctx;
	uint64_t pa = frame_alloc(&host_frames);
	if (pa)
		memset(phys_to_virt(pa), 0, FRAME_SIZE);
	return pa;
}

static int guest_write(void *ctx, uint64_t gpa, const void *src, size_t len)
{
	return gpa_write(&((struct vm *)ctx)->map, gpa, src, len);
}

static int guest_zero(void *ctx, uint64_t gpa, size_t len)
{
	return gpa_zero(&((struct vm *)ctx)->map, gpa, len);
}

/* 32-bit protected mode, paging off, flat 4 GiB segments: multiboot's entry state. */
static void multiboot_entry_state(struct vcpu_entry_state *s, uint32_t eip)
{
	struct seg_state code = {0x08, 0xc9b, 0xffffffff, 0}; /* G, D, P, S, exec/read, accessed */
	struct seg_state data = {0x10, 0xc93, 0xffffffff, 0}; /* G, B, P, S, read/write, accessed */
	memset(s, 0, sizeof(*s));
	s->cr0 = 0x11; /* PE, ET */
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = (struct seg_state){0, 0x8b, 0xffff, 0}; /* busy 32-bit TSS, as after reset */
	s->ldtr = (struct seg_state){0, 0x82, 0xffff, 0};
	s->gdtr_limit = 0xffff;
	s->idtr_limit = 0xffff;
	s->rip = eip;
	s->rflags = 0x2;
}

static int pick_cpu(const struct vm_config *cfg, unsigned vcpu)
{
	for (unsigned pass = 0; pass < 2; pass++) {
		/* application processors first: the boot CPU keeps the console */
		for (unsigned i = 1; i <= cpu_count; i++) {
			unsigned c = i % cpu_count;
			if (pass == 0 && c == 0)
				continue;
			if (!cpus[c].online || cpu_busy[c])
				continue;
			if (cfg->pinned && !(cfg->affinity[vcpu].bits[c / 64] >> (c % 64) & 1))
				continue;
			return (int)c;
		}
	}
	return -1;
}

static struct vm *vm_create(const struct vm_config *cfg, const struct boot_info *bi, char *err,
			    size_t errlen)
{
	const struct boot_module *kernel = find_module(bi, cfg->kernel);
	const struct boot_module *ramdisk = cfg->ramdisk[0] ? find_module(bi, cfg->ramdisk) : NULL;
	struct vm *vm = kzalloc(sizeof(*vm));
	if (!vm) {
		format(err, errlen, "out of memory");
		return NULL;
	}
	strlcpy_hv(vm->name, cfg->name, sizeof(vm->name));
	vm->id = vm_count + 1;
	vm->state = VM_CREATED;
	vm->nvcpus = cfg->vcpus;
	if (vm->nvcpus > VCPU_MAX) {
		format(err, errlen, "%u vCPUs: this build runs at most %u per VM", vm->nvcpus,
		       VCPU_MAX);
		goto fail;
	}
	vm->ram_bytes = (cfg->memory_mib << 20);
	vm->ram_bytes = (vm->ram_bytes + GPA_CHUNK_SIZE - 1) & ~(GPA_CHUNK_SIZE - 1);
	uint64_t *chunks = kmalloc(vm->ram_bytes / GPA_CHUNK_SIZE * sizeof(uint64_t));
	if (!chunks || gpa_map_init(&vm->map, vm->ram_bytes, chunks, alloc_ram_chunk,
				    free_ram_chunk, NULL, phys_to_virt) < 0) {
		format(err, errlen, "not enough free host memory for %llu MiB",
		       (unsigned long long)cfg->memory_mib);
		goto fail;
	}
	vm->npt = (struct pagetable){.alloc_table = alloc_table, .phys_to_virt = phys_to_virt};
	if (pt_init(&vm->npt) < 0 || hvm->build_nested(&vm->map, &vm->npt) < 0) {
		format(err, errlen, "out of memory for nested page tables");
		goto fail;
	}
	if (vm_devices_init(vm) < 0) {
		format(err, errlen, "cannot set up the VM's devices");
		goto fail;
	}

	struct mb_guest_mem mem = {vm->ram_bytes, guest_write, guest_zero, vm};
	struct mb_entry entry;
	char lerr[128];
	struct mb_module rd = {ramdisk ? phys_to_virt(ramdisk->start) : NULL,
			       ramdisk ? ramdisk->end - ramdisk->start : 0, cfg->ramdisk};
	if (mb_load(phys_to_virt(kernel->start), kernel->end - kernel->start, &mem, cfg->extra,
		    ramdisk ? &rd : NULL, &entry, lerr, sizeof(lerr)) < 0) {
		format(err, errlen, "kernel %s: %s", cfg->kernel, lerr);
		goto fail;
	}

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = kzalloc(sizeof(*v));
		if (!v) {
			format(err, errlen, "out of memory");
			goto fail;
		}
		vm->vcpus[i] = v;
		v->vm = vm;
		v->id = i;
		int c = pick_cpu(cfg, i);
		if (c < 0) {
			format(err, errlen, "no free core for vCPU %u (one core per vCPU for now)", i);
			goto fail;
		}
		v->pcpu = (unsigned)c;
		cpu_busy[c] = true;
		if (hvm->vcpu_create(v, err, errlen) < 0)
			goto fail;
		hvm->set_nested_root(v, vm->npt.root);
		msr_policy_reset(v);
		vintr_reset(v);
	}
	struct vcpu_entry_state es;
	multiboot_entry_state(&es, entry.eip);
	hvm->vcpu_set_entry_state(vm->vcpus[0], &es);
	vm->vcpus[0]->regs.gpr[X86_RAX] = entry.eax;
	vm->vcpus[0]->regs.gpr[X86_RBX] = entry.ebx;
	return vm;
fail:
	/* a VM that cannot be built takes nothing with it */
	for (unsigned i = 0; i < vm->nvcpus && i < VCPU_MAX; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (!v)
			continue;
		if (v->backend)
			hvm->vcpu_destroy(v);
		cpu_busy[v->pcpu] = false;
		kfree(v);
	}
	gpa_map_release(&vm->map, free_ram_chunk, NULL);
	kfree(vm);
	return NULL;
}

static void vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm_exit e;

	v->active = true;
	while (__atomic_load_n(&v->vm->state, __ATOMIC_ACQUIRE) == VM_RUNNING) {
		vintr_before_entry(v);
		hvm->vcpu_run(v, &e);
		vm_exit_dispatch(v, &e);
	}
	v->active = false;
}

static void create_from_module(const struct boot_info *bi, size_t idx,
			       const struct vmconfig_context *ctx)
{
	static struct xlcfg work;
	static struct vm_config cfg;
	static struct xlcfg_errors errs;
	const struct boot_module *m = &bi->modules[idx];
	char err[160];

	if (!vmconfig_parse(module_paths[idx], phys_to_virt(m->start), m->end - m->start, ctx,
			    &work, &cfg, &errs)) {
		for (unsigned i = 0; i < errs.count; i++) {
			xlcfg_error_format(&errs, i, err, sizeof(err));
			printk("hv: %s\n", err);
		}
		printk("hv: %s: VM not started\n", module_paths[idx]);
		failed_files++;
		return;
	}
	if (!cfg.autostart) {
		printk("hv: vm %s defined (autostart = 0): not started\n", cfg.name);
		return;
	}
	if (vm_count == VM_MAX) {
		printk("hv: %s: too many VMs (at most %u)\n", module_paths[idx], VM_MAX);
		failed_files++;
		return;
	}
	struct vm *vm = vm_create(&cfg, bi, err, sizeof(err));
	if (!vm) {
		printk("hv: vm %s not started: %s\n", cfg.name, err);
		failed_files++;
		return;
	}
	vms[vm_count++] = vm;
	printk("hv: vm %s created: %u vCPU, %llu MiB, vCPU 0 on CPU %u\n", vm->name, vm->nvcpus,
	       (unsigned long long)(vm->ram_bytes >> 20), vm->vcpus[0]->pcpu);
}

unsigned vmm_start(const struct boot_info *bi)
{
	const char *names[VM_MAX];
	size_t ncfg = 0;
	char why[160];

	for (size_t i = 0; i < bi->nmodules; i++) {
		/* a module's path is the first word of its GRUB command line */
		const char *s = bi->modules[i].cmdline;
		size_t n = 0;
		while (s[n] && s[n] != ' ' && n + 1 < BOOT_MODNAME_MAX) {
			module_path_store[i][n] = s[n];
			n++;
		}
		module_path_store[i][n] = 0;
		module_paths[i] = module_path_store[i];
		ncfg += ends_with(module_paths[i], ".cfg");
	}
	if (ncfg == 0)
		return 0;
	if (!hvm_select(why, sizeof(why))) {
		printk("hv: %zu VM file(s) given, but no VM can run: %s\n", ncfg, why);
		failed_files += (unsigned)ncfg;
		return 0;
	}
	if (!enable_all_cpus() && !cpu_busy[0])
		printk("hv: some CPUs cannot run VMs; they are left out\n");

	struct mm_stats ms;
	mm_get_stats(&ms);
	for (size_t i = 0; i < bi->nmodules; i++) {
		if (!ends_with(module_paths[i], ".cfg"))
			continue;
		for (unsigned k = 0; k < vm_count; k++)
			names[k] = vms[k]->name;
		struct vmconfig_context ctx = {
		    .modules = module_paths,
		    .module_count = bi->nmodules,
		    .host_cpus = cpu_count,
		    .max_memory_mib = GPA_RAM_MAX >> 20,
		    .vm_names = names,
		    .vm_count = vm_count,
		};
		create_from_module(bi, i, &ctx);
	}
	unsigned started = 0;
	for (unsigned k = 0; k < vm_count; k++) {
		struct vm *vm = vms[k];
		vm->state = VM_RUNNING;
		if (vm->vcpus[0]->pcpu == 0) {
			started++; /* the boot CPU runs it from vmm_wait_all */
			continue;
		}
		if (!smp_run_on(vm->vcpus[0]->pcpu, vcpu_thread, vm->vcpus[0])) {
			printk("hv: vm %s: CPU %u did not take its vCPU\n", vm->name,
			       vm->vcpus[0]->pcpu);
			vm_stop(vm, VM_STOP_CRASH, 0);
			continue;
		}
		started++;
	}
	return started;
}

static void print_accounting(const struct vm *vm)
{
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
	}
}

bool vmm_wait_all(void)
{
	/* a vCPU placed on the boot CPU runs here, until its VM stops */
	for (unsigned k = 0; k < vm_count; k++)
		if (vms[k]->vcpus[0]->pcpu == 0 && vms[k]->state == VM_RUNNING)
			vcpu_thread(vms[k]->vcpus[0]);
	for (;;) {
		unsigned running = 0;
		for (unsigned k = 0; k < vm_count; k++)
			running += vms[k]->state != VM_STOPPED;
		if (!running)
			break;
		timer_oneshot_us(10000);
		__asm__ volatile("sti; hlt" ::: "memory");
	}
	bool ok = failed_files == 0;
	for (unsigned k = 0; k < vm_count; k++) {
		struct vm *vm = vms[k];
		/* let the vCPU loop leave the guest before reading its counters */
		for (unsigned i = 0; i < vm->nvcpus; i++)
			for (unsigned spin = 0; vm->vcpus[i]->active && spin < 100000000; spin++)
				cpu_relax();
		print_accounting(vm);
		ok &= vm->stop_reason == VM_STOP_POWEROFF ||
		      (vm->stop_reason == VM_STOP_EXIT_PORT && vm->exit_code == 0);
	}
	if (vm_count || failed_files)
		printk("hv: all %u VMs stopped: %s%s\n", vm_count, ok ? "all succeeded" : "some failed",
		       failed_files ? " (and some VM files were rejected)" : "");
	return ok;
}
