#include "kernel/vm/vmm.h"

#include "include/x86.h"
#include "kernel/config/vmconfig.h"
#include "kernel/vm/vm_passthru.h"
#include "kernel/vm/vm_virtio.h"
#include "kernel/cpu/features.h"
#include "kernel/cpu/percpu.h"
#include "kernel/cpu/smp.h"
#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/mm.h"
#include "kernel/sched/sched.h"
#include "kernel/time/timer.h"
#include "kernel/time/tsc.h"
#include "kernel/vm/exit.h"
#include "kernel/vm/hvm.h"
#include "kernel/vm/msr_policy.h"
#include "kernel/vm/vm.h"
#include "kernel/vm/vm_devices.h"
#include "kernel/vm/vintr.h"
#include "kernel/vm/vm_account.h"
#include "kernel/vm/vm_load.h"
#include "kernel/vm/vplatform.h"
#include "kernel/time/tsc.h"

_Static_assert(VM_MAX_VCPUS == VCPU_MAX, "a VM file may ask for what a VM can have");

static unsigned failed_files;	/* VM files that did not give a running VM at boot */
static const char *module_paths[BOOT_MAX_MODULES];
static char module_path_store[BOOT_MAX_MODULES][BOOT_MODNAME_MAX];
static const struct boot_info *boot;
static char no_vms_why[160] = "no VM file was given at boot";
static bool vms_possible;
static unsigned next_vm_id = 1;
/* VM files given at boot but not started (autostart = 0): one per module at most */
static struct vmm_defined defined[BOOT_MAX_MODULES];
static size_t defined_count;

/*
 * The backend's per-core setup, run on each core in turn: a few microseconds
 * a core on hardware. Not all at once: the setup allocates memory, and
 * hundreds of cores queueing on the allocator's lock is slower than one
 * after another (under an emulator that runs them on a few threads, minutes
 * instead of half a second for 200 cores).
 */
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
		if (!cpus[i]->online)
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
			sched_core_set_usable(i, false); /* never place a vCPU there */
		}
	}
	return ok;
}

static int find_module_index(const char *path)
{
	for (size_t i = 0; i < boot->nmodules; i++)
		if (strcmp(module_paths[i], path) == 0)
			return (int)i;
	return -1;
}

static const struct boot_module *find_module(const char *path)
{
	int i = find_module_index(path);
	return i < 0 ? NULL : &boot->modules[i];
}

const struct boot_module *vmm_find_module(const char *path)
{
	return boot ? find_module(path) : NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void free_ram_chunk(void *ctx, uint64_t hpa);

/*
 * Another VM's data is never handed over: the chunk is zeroed at its first
 * use (gpa_map's lazy zeroing), before anyone can read it.
 */
static uint64_t alloc_ram_chunk_lazy(void *ctx)
{
	(void)ctx;
	return frame_alloc_contig(&host_frames, GPA_CHUNK_SIZE / FRAME_SIZE, GPA_CHUNK_SIZE);
}

/*
 * The VM's RAM, zeroed at each chunk's first use rather than now (creating
 * a 6 GiB VM wrote all of it before its guest started: 12 s under QEMU TCG,
 * seconds on hardware, for RAM a booting guest mostly never touches). A VM
 * whose devices DMA through an IOMMU has it all zeroed now: a device's
 * access cannot fault into the zeroing.
 */
static int alloc_ram(struct vm *vm, const struct vm_config *cfg)
{
	uint64_t *chunks = kmalloc(vm->ram_bytes / GPA_CHUNK_SIZE * sizeof(uint64_t));
	if (!chunks)
		return -1;
	if (gpa_map_init(&vm->map, vm->ram_bytes, chunks, alloc_ram_chunk_lazy, free_ram_chunk, NULL,
			 phys_to_virt) < 0) {
		kfree(chunks);
		vm->map.chunk_hpa = NULL;
		return -1;
	}
	size_t words = gpa_lazy_words(&vm->map);
	struct gpa_lazy *l = kmalloc(sizeof(*l) + 2 * words * sizeof(uint64_t));
	if (!l) {
		gpa_map_release(&vm->map, free_ram_chunk, NULL);
		kfree(chunks);
		vm->map.chunk_hpa = NULL;
		return -1;
	}
	uint64_t *bits = (uint64_t *)(l + 1);
	gpa_map_set_lazy(&vm->map, l, bits, bits + words);
	if (cfg->pci_count)
		gpa_map_zero_now(&vm->map);
	return 0;
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

/* A fresh backend state for the vCPU, as after power-on. */
static int vcpu_setup(struct vcpu *v, char *err, size_t errlen)
{
	memset(&v->regs, 0, sizeof(v->regs));
	if (!v->fpu.area && fpu_state_alloc(&v->fpu) < 0) {
		format(err, errlen, "out of memory for FPU state");
		return -1;
	}
	fpu_state_reset(&v->fpu);
	if (hvm->vcpu_create(v, err, errlen) < 0)
		return -1;
	hvm->set_nested_root(v, v->vm->npt.root);
	msr_policy_reset(v);
	vintr_reset(v);
	return 0;
}

/* Loads the VM's kernel (and ramdisk) into its RAM and points vCPU 0 at it. */
/* The nested tables' builder, limited by gpa_map_fault to one chunk. */
static int map_chunk(void *ctx)
{
	struct vm *vm = ctx;
	return hvm->build_nested(&vm->map, &vm->npt);
}

static int load_kernel(struct vm *vm, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->config;
	const struct boot_module *kernel = find_module(cfg->kernel);
	const struct boot_module *ramdisk = cfg->ramdisk[0] ? find_module(cfg->ramdisk) : NULL;
	if (!kernel || (cfg->ramdisk[0] && !ramdisk)) {
		format(err, errlen, "boot module %s is gone", kernel ? cfg->ramdisk : cfg->kernel);
		return -1;
	}
	if (vm_load_kernel(vm, kernel, ramdisk, err, errlen) < 0)
		return -1;
	/* the chunks the loader wrote are zeroed: mapped now, not at the guest's first touch */
	if (gpa_map_expose_zeroed(&vm->map, map_chunk, vm) < 0) {
		format(err, errlen, "out of memory for nested page tables");
		return -1;
	}
	return 0;
}

/*
 * Frees a tree of second-level tables; level 4 is the root, level 1 holds
 * leaves. An entry is there when any of bits 2:0 is set (NPT: P; EPT: R, W,
 * X) and is a large leaf when bit 7 is (NPT: PS; EPT: large page).
 */
static void free_tables(uint64_t pa, unsigned level)
{
	uint64_t *t = phys_to_virt(pa);
	for (unsigned i = 0; level > 1 && i < 512; i++)
		if ((t[i] & 7) && !(t[i] & PTE_PS))
			free_tables(t[i] & PTE_ADDR_MASK, level - 1);
	frame_free(&host_frames, pa);
}

/* Bytes of a tree of second-level tables (as free_tables walks it). */
static uint64_t table_bytes(uint64_t pa, unsigned level)
{
	const uint64_t *t = phys_to_virt(pa);
	uint64_t n = FRAME_SIZE;
	for (unsigned i = 0; level > 1 && i < 512; i++)
		if ((t[i] & 7) && !(t[i] & PTE_PS))
			n += table_bytes(t[i] & PTE_ADDR_MASK, level - 1);
	return n;
}

/* Host memory in use now: frames taken, with heap pages counted by the bytes they hand out. */
static uint64_t host_bytes_used(void)
{
	struct mm_stats st;
	mm_get_stats(&st);
	return st.managed_bytes - st.free_bytes - st.heap_pages * FRAME_SIZE + st.heap_bytes;
}

/* Gives back what a VM holds: vCPU state, cores, RAM, tables, devices. Its loops have left. */
static void vm_free_resources(struct vm *vm)
{
	for (unsigned i = 0; vm->vcpus && i < vm->nvcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (!v)
			continue;
		if (v->backend)
			hvm->vcpu_destroy(v);
		fpu_state_free(&v->fpu);
	}
	sched_vm_release(vm);
	/* passed-through devices quarantined (blocked, reset) before their RAM goes */
	vm_passthru_free(vm);
	/* no disk may still DMA into the RAM given back (a stuck one keeps it, leaked) */
	if (vm_virtio_quiesce(vm))
		gpa_map_release(&vm->map, free_ram_chunk, NULL);
	kfree(vm->map.chunk_hpa);
	vm->map.chunk_hpa = NULL;
	vm->ram_zeroed_bytes = gpa_map_zeroed_bytes(&vm->map); /* for the final report */
	kfree(vm->map.lazy);
	vm->map.lazy = NULL;
	if (vm->npt.root)
		free_tables(vm->npt.root, 4);
	vm->npt.root = 0;
	vm_virtio_free(vm); /* its disks are free for other VMs again */
	if (vm->devices)
		vm_devices_free(vm);
	vm->released = true;
}

/* Frees the VM itself; only once released (or never started). */
static void vm_free(struct vm *vm)
{
	for (unsigned i = 0; vm->vcpus && i < vm->nvcpus; i++) {
		if (vm->vcpus[i]) {
			kfree(vm->vcpus[i]->xprof.sum);
			kfree(vm->vcpus[i]->xprof.count);
		}
		kfree(vm->vcpus[i]);
	}
	kfree(vm->vcpus);
	vplatform_free(vm);
	kfree(vm->config);
	kfree(vm->io_counts);
	kfree(vm->pio.fast_map);
	kfree(vm);
}

static struct vm *vm_create(const struct vm_config *cfg, const char *path, char *err,
			    size_t errlen)
{
	uint64_t used_before = host_bytes_used();
	struct vm *vm = kzalloc(sizeof(*vm));
	if (!vm) {
		format(err, errlen, "out of memory");
		return NULL;
	}
	strlcpy_hv(vm->name, cfg->name, sizeof(vm->name));
	strlcpy_hv(vm->path, path, sizeof(vm->path));
	vm->state = VM_CREATED;
	vm->nvcpus = cfg->vcpus;
	vm->io_counts = kzalloc(0x1000 * sizeof(uint32_t)); /* accounting only: may be NULL */
	if (vm->nvcpus == 0 || vm->nvcpus > VCPU_MAX) {
		format(err, errlen, "%u vCPUs: this build runs 1 to %u per VM", vm->nvcpus,
		       VCPU_MAX);
		vm->nvcpus = 0;
		goto fail;
	}
	vm->vcpus = kzalloc(vm->nvcpus * sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		format(err, errlen, "out of memory");
		goto fail;
	}
	/* only its vCPUs' affinities: the rest of the 64 KiB table would be per-VM waste */
	vm->config = kmalloc(VMCONFIG_SIZE(vm->nvcpus));
	if (!vm->config) {
		format(err, errlen, "out of memory");
		goto fail;
	}
	memcpy(vm->config, cfg, VMCONFIG_SIZE(vm->nvcpus));
	vm->ram_bytes = (cfg->memory_mib << 20);
	vm->ram_bytes = (vm->ram_bytes + GPA_CHUNK_SIZE - 1) & ~(GPA_CHUNK_SIZE - 1);
	if (alloc_ram(vm, cfg) < 0) {
		format(err, errlen, "not enough free host memory for %llu MiB",
		       (unsigned long long)cfg->memory_mib);
		goto fail;
	}
	vm->npt = (struct pagetable){.alloc_table = alloc_table, .phys_to_virt = phys_to_virt};
	if (pt_init(&vm->npt) < 0 || hvm->build_nested(&vm->map, &vm->npt) < 0) {
		format(err, errlen, "out of memory for nested page tables");
		goto fail;
	}
	if (vm_devices_init(vm) < 0 || vplatform_init(vm) < 0) {
		format(err, errlen, "cannot set up the VM's devices");
		goto fail;
	}
	if (vm_virtio_init(vm, err, errlen) < 0)
		goto fail;
	if (vm_passthru_init(vm, err, errlen) < 0)
		goto fail;

	sched_share_init(&vm->share, cfg->weight, cfg->cap);
	vm->exclusive = cfg->exclusive;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = kzalloc(sizeof(*v));
		if (!v) {
			format(err, errlen, "out of memory");
			goto fail;
		}
		vm->vcpus[i] = v;
		v->vm = vm;
		v->id = i;
		v->move_to = -1;
		if (cfg->pinned)
			v->se.affinity = cfg->affinity[i];
		else
			cpuset_fill(&v->se.affinity, CPUSET_MAX);
		if (vcpu_setup(v, err, errlen) < 0)
			goto fail;
	}
	if (vm->exclusive && sched_vm_claim_cores(vm, err, errlen) < 0)
		goto fail;
	if (load_kernel(vm, err, errlen) < 0)
		goto fail;
	vm->id = next_vm_id++;
	/* approximate when another core allocated meanwhile (a running VM's device, say) */
	uint64_t used = host_bytes_used() - used_before;
	vm->overhead_bytes = used > vm->ram_bytes ? used - vm->ram_bytes : 0;
	vm->npt_bytes = vm->npt.root ? table_bytes(vm->npt.root, 4) : 0;
	return vm;
fail:
	/* a VM that cannot be built takes nothing with it */
	vm_free_resources(vm);
	vm_free(vm);
	return NULL;
}

/* Puts the vCPU on a run queue; APs wait there for the guest's INIT and STARTUP IPIs. */
static int start_vcpu(struct vcpu *v, char *err, size_t errlen)
{
	v->waiting_sipi = v->id != 0;
	return sched_vcpu_attach(v, err, errlen);
}

static void start_vm(struct vm *vm)
{
	vm->start_tsc = rdtsc();
	vm->state = VM_RUNNING;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		char err[160];
		if (start_vcpu(vm->vcpus[i], err, sizeof(err)) < 0) {
			printk("hv: vm %s: %s\n", vm->name, err);
			vm_stop(vm, VM_STOP_CRASH, 0);
			return;
		}
	}
}

static bool vcpu_left(const struct vcpu *v)
{
	return !v->active;
}

static bool vcpu_parked(const struct vcpu *v)
{
	return !v->active || v->se.state == SCHED_PAUSED; /* its core has stopped it */
}

/* Waits (kicking every millisecond) until done() holds for each vCPU; false after ms. */
static bool wait_vcpus(struct vm *vm, bool (*done)(const struct vcpu *), unsigned ms)
{
	for (unsigned t = 0;; t++) {
		bool all = true;
		for (unsigned i = 0; i < vm->nvcpus; i++)
			all &= done(vm->vcpus[i]);
		if (all)
			return true;
		if (t == ms)
			return false;
		vm_kick(vm);
		sched_wait_a_little(1000);
	}
}

static bool name_taken(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/*
 * Parses and checks a VM file (file_name: for the messages); prints every
 * error, and copies the first (with how many more there are) into first.
 */
static bool check_text(const char *file_name, const char *text, size_t len, bool at_boot,
		       struct vm_config *cfg, char *first, size_t firstlen)
{
	static struct xlcfg work;
	static struct xlcfg_errors errs;
	static const char *names[VM_MAX + BOOT_MAX_MODULES]; /* like work: one caller at a time */
	size_t n = 0;
	char line[200];

	/* names in use: live VMs, and (at boot) the files defined before this one */
	for (unsigned k = 0; k < vm_count; k++)
		if (vms[k]->state != VM_STOPPED)
			names[n++] = vms[k]->name;
	for (size_t k = 0; at_boot && k < defined_count; k++)
		if (!name_taken(names, n, defined[k].name))
			names[n++] = defined[k].name;
	struct vmconfig_context ctx = {
	    .modules = module_paths,
	    .module_count = boot->nmodules,
	    .host_cpus = cpu_count,
	    .max_memory_mib = GPA_RAM_MAX >> 20,
	    .vm_names = names,
	    .vm_count = n,
	};
	if (vmconfig_parse(file_name, text, len, &ctx, &work, cfg, &errs))
		return true;
	for (unsigned i = 0; i < errs.count; i++) {
		xlcfg_error_format(&errs, i, line, sizeof(line));
		printk("hv: %s\n", line);
		if (i == 0 && first) {
			unsigned more = errs.count - 1 + errs.dropped;
			if (more)
				format(first, firstlen, "%s (and %u more error%s in the log)", line,
				       more, more == 1 ? "" : "s");
			else
				format(first, firstlen, "%s", line);
		}
	}
	printk("hv: %s: VM not started\n", file_name);
	return false;
}

/* The VM file at module idx. */
static bool check_file(size_t idx, bool at_boot, struct vm_config *cfg, char *first,
		       size_t firstlen)
{
	const struct boot_module *m = &boot->modules[idx];
	return check_text(module_paths[idx], phys_to_virt(m->start), m->end - m->start, at_boot,
			  cfg, first, firstlen);
}

static void remember_defined(const struct vm_config *cfg, const char *path)
{
	for (size_t k = 0; k < defined_count; k++)
		if (strcmp(defined[k].name, cfg->name) == 0)
			return;
	if (defined_count == BOOT_MAX_MODULES)
		return;
	struct vmm_defined *d = &defined[defined_count++];
	strlcpy_hv(d->name, cfg->name, sizeof(d->name));
	strlcpy_hv(d->path, path, sizeof(d->path));
	d->vcpus = cfg->vcpus;
	d->memory_mib = cfg->memory_mib;
	d->weight = cfg->weight;
	d->cap = cfg->cap;
}

static void announce(const struct vm *vm)
{
	printk("hv: vm %s created: %u vCPU, %llu MiB, weight %u, cap %u%s\n", vm->name, vm->nvcpus,
	       (unsigned long long)(vm->ram_bytes >> 20), vm->share.weight, vm->share.cap,
	       vm->exclusive ? ", owns its cores" : "");
}

/* What the VM costs the host beyond its RAM (issue 18's goal: at most 1 MiB plus page tables). */
static void announce_overhead(const struct vm *vm)
{
	uint64_t npt = vm->npt_bytes, rest = vm->overhead_bytes > npt ? vm->overhead_bytes - npt : 0;
	printk("hv: vm %s overhead: %llu KiB beyond its RAM (%llu KiB page tables, %llu KiB for "
	       "%u vCPUs, devices and rings)\n",
	       vm->name, (unsigned long long)(vm->overhead_bytes >> 10),
	       (unsigned long long)(npt >> 10), (unsigned long long)(rest >> 10), vm->nvcpus);
}

/* Where the VM's RAM starts in host memory: what a rogue-DMA test aims at (not a secret here). */
static void announce_ram(const struct vm *vm)
{
	if (vm->map.nchunks)
		printk("hv: vm %s RAM starts at host %#llx\n", vm->name,
		       (unsigned long long)vm->map.chunk_hpa[0]);
}

static void create_at_boot(size_t idx)
{
	static struct vm_config cfg;
	char err[160];

	if (!check_file(idx, true, &cfg, NULL, 0)) {
		failed_files++;
		return;
	}
	if (!cfg.autostart) {
		remember_defined(&cfg, module_paths[idx]);
		printk("hv: vm %s defined (autostart = 0): not started; `create %s` starts it\n",
		       cfg.name, module_paths[idx]);
		return;
	}
	if (vm_count == VM_MAX) {
		printk("hv: %s: too many VMs (at most %u)\n", module_paths[idx], VM_MAX);
		failed_files++;
		return;
	}
	struct vm *vm = vm_create(&cfg, module_paths[idx], err, sizeof(err));
	if (!vm) {
		printk("hv: vm %s not started: %s\n", cfg.name, err);
		failed_files++;
		return;
	}
	remember_defined(&cfg, module_paths[idx]);
	vms[vm_count++] = vm;
	announce(vm);
	announce_ram(vm);
	announce_overhead(vm);
}

unsigned vmm_start(const struct boot_info *bi, bool boot_cpu_ok)
{
	size_t ncfg = 0;

	boot = bi;
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
	if (!hvm_select(no_vms_why, sizeof(no_vms_why))) {
		printk("hv: %zu VM file(s) given, but no VM can run: %s\n", ncfg, no_vms_why);
		failed_files += (unsigned)ncfg;
		return 0;
	}
	vms_possible = true;
	sched_init();
	for (unsigned c = 0; c < cpu_count; c++)
		sched_core_set_usable(c, cpus[c]->online && (c != 0 || boot_cpu_ok));
	if (!enable_all_cpus() && sched_core_usable(0))
		printk("hv: some CPUs cannot run VMs; they are left out\n");

	for (size_t i = 0; i < bi->nmodules; i++)
		if (ends_with(module_paths[i], ".cfg"))
			create_at_boot(i);
	unsigned started = 0;
	for (unsigned k = 0; k < vm_count; k++) {
		start_vm(vms[k]);
		started += vms[k]->state == VM_RUNNING;
	}
	return started;
}

bool vmm_all_stopped(void)
{
	for (unsigned k = 0; k < vm_count; k++)
		if (vms[k]->state != VM_STOPPED || vms[k]->restart_pending)
			return false;
	return true;
}

bool vmm_report(void)
{
	bool ok = failed_files == 0;
	for (unsigned k = 0; k < vm_count; k++) {
		struct vm *vm = vms[k];
		/* let the vCPU loop leave the guest before reading its counters */
		wait_vcpus(vm, vcpu_left, 1000);
		vm_print_accounting(vm);
		ok &= vm->stop_reason == VM_STOP_POWEROFF ||
		      (vm->stop_reason == VM_STOP_EXIT_PORT && vm->exit_code == 0);
	}
	/* what sharing the cores cost: switches between vCPUs' states */
	for (unsigned c = 0; c < cpu_count && vm_count; c++) {
		struct sched_core_stats st;
		sched_core_stats(c, &st);
		if (st.switches)
			printk("sched core %u: %llu switches, %llu TSC ticks per switch (median %llu), "
			       "at most %u vCPUs queued\n", c, (unsigned long long)st.switches,
			       (unsigned long long)(st.switch_ticks / st.switches),
			       (unsigned long long)st.switch_median, st.most);
	}
	if (vm_count || failed_files)
		printk("hv: all %u VMs stopped: %s%s\n", vm_count, ok ? "all succeeded" : "some failed",
		       failed_files ? " (and some VM files were rejected)" : "");
	return ok;
}

void vmm_poll(void)
{
	uint64_t now = rdtsc();
	for (unsigned k = 0; k < vm_count; k++) {
		struct vm *vm = vms[k];
		if (vm->shutdown_deadline && vm->state != VM_STOPPED &&
		    (int64_t)(now - vm->shutdown_deadline) >= 0) {
			printk("vm %s did not power off in time: forcing it off\n", vm->name);
			vm_stop(vm, VM_STOP_DESTROYED, 0);
		}
		if (vm->state != VM_STOPPED || vm->released)
			continue;
		/* decided once its loops have left: they may leave between two looks */
		if (!wait_vcpus(vm, vcpu_left, 0)) {
			vm_kick(vm); /* the stop's own kick may have come before it entered */
			continue;
		}
		if (vm->restart_pending) {
			/* on_reboot/on_crash = "restart": the same VM, its kernel loaded afresh */
			char err[160];
			vm->restart_pending = false;
			vm->restarts++;
			vm->state = VM_PAUSED; /* what vmm_reboot restarts from */
			if (vmm_reboot(vm, err, sizeof(err)) < 0)
				printk("hv: %s\n", err);
			continue;
		}
		vm_free_resources(vm);
	}
}

struct vm *vmm_find(const char *name)
{
	for (unsigned k = 0; k < vm_count; k++)
		if (strcmp(vms[k]->name, name) == 0)
			return vms[k];
	return NULL;
}

/* The slot a new VM named `name` goes in: its stopped predecessor's, a free one, or a stopped one's. */
static int slot_for(const char *name, char *err, size_t errlen)
{
	int reuse = -1;
	for (unsigned k = 0; k < vm_count; k++) {
		if (strcmp(vms[k]->name, name) == 0) {
			reuse = (int)k;
			break;
		}
	}
	if (reuse < 0 && vm_count < VM_MAX)
		return (int)vm_count;
	for (unsigned k = 0; reuse < 0 && k < vm_count; k++)
		if (vms[k]->state == VM_STOPPED)
			reuse = (int)k;
	if (reuse < 0) {
		format(err, errlen, "too many VMs (at most %u)", VM_MAX);
		return -1;
	}
	struct vm *old = vms[reuse];
	if (old->state != VM_STOPPED) {
		format(err, errlen, "vm %s is already %s", name, vmm_state_name(old));
		return -1;
	}
	vmm_poll();
	if (!old->released && !wait_vcpus(old, vcpu_left, 1000)) {
		format(err, errlen, "vm %s is still stopping; try again", old->name);
		return -1;
	}
	if (!old->released)
		vm_free_resources(old);
	return reuse;
}

/* Creates and starts the VM of a checked file; path: where it came from (for `list`), or NULL. */
static int create_checked(struct vm_config *cfg, const char *path, const char *label, char *err,
			  size_t errlen)
{
	int slot = slot_for(cfg->name, err, errlen);
	if (slot < 0)
		return -1;
	char why[160];
	struct vm *vm = vm_create(cfg, label, why, sizeof(why));
	if (!vm) {
		format(err, errlen, "vm %s not started: %s", cfg->name, why);
		return -1;
	}
	if ((unsigned)slot < vm_count)
		vm_free(vms[slot]);
	vms[slot] = vm;
	if ((unsigned)slot == vm_count)
		vm_count++;
	if (path)
		remember_defined(cfg, path);
	announce(vm);
	announce_ram(vm);
	announce_overhead(vm);
	start_vm(vm);
	return 0;
}

int vmm_create(const char *path, char *err, size_t errlen)
{
	static struct vm_config cfg;
	char first[200];

	if (!vms_possible) {
		format(err, errlen, "no VM can run: %s", no_vms_why);
		return -1;
	}
	int idx = boot ? find_module_index(path) : -1;
	if (idx < 0) {
		format(err, errlen, "%s: no such boot module (VM files are GRUB modules)", path);
		return -1;
	}
	if (!ends_with(path, ".cfg")) {
		format(err, errlen, "%s: not a VM file (its name must end in .cfg)", path);
		return -1;
	}
	if (!check_file((size_t)idx, false, &cfg, first, sizeof(first))) {
		format(err, errlen, "%s: not created: %s", path, first);
		return -1;
	}
	return create_checked(&cfg, path, path, err, errlen);
}

int vmm_create_text(const char *label, const char *text, size_t len, char *name, size_t namelen,
		    char *err, size_t errlen)
{
	static struct vm_config cfg;
	char first[200];

	if (!vms_possible) {
		format(err, errlen, "no VM can run: %s", no_vms_why);
		return -1;
	}
	if (!check_text(label, text, len, false, &cfg, first, sizeof(first))) {
		format(err, errlen, "%s: not created: %s", label, first);
		return -1;
	}
	if (name)
		strlcpy_hv(name, cfg.name, namelen);
	return create_checked(&cfg, NULL, label, err, errlen);
}

static bool live(struct vm *vm, char *err, size_t errlen)
{
	if (vm->state == VM_STOPPED) {
		format(err, errlen, "vm %s is not running (stopped: %s)", vm->name,
		       vm_stop_reason_name(vm->stop_reason));
		return false;
	}
	if (vm->state == VM_REBOOTING || vm->state == VM_CREATED) {
		format(err, errlen, "vm %s is %s; try again", vm->name, vmm_state_name(vm));
		return false;
	}
	return true;
}

int vmm_destroy(struct vm *vm, char *err, size_t errlen)
{
	if (!live(vm, err, errlen))
		return -1;
	vm_stop(vm, VM_STOP_DESTROYED, 0);
	vmm_poll(); /* gives its memory back at once if its loops have left */
	if (!vm->released && wait_vcpus(vm, vcpu_left, 1000))
		vm_free_resources(vm);
	return 0;
}

int vmm_shutdown(struct vm *vm, unsigned timeout_ms, char *err, size_t errlen)
{
	if (!live(vm, err, errlen))
		return -1;
	if (vm->shutdown_deadline) {
		format(err, errlen, "vm %s is already shutting down", vm->name);
		return -1;
	}
	if (vplatform_power_button(vm))
		printk("vm %s: ACPI power button pressed; forcing it off in %u ms if it does not "
		       "power off\n",
		       vm->name, timeout_ms);
	else
		printk("vm %s: the guest does not listen to the ACPI power button; forcing it off "
		       "in %u ms\n",
		       vm->name, timeout_ms);
	vm->shutdown_deadline = rdtsc() + (uint64_t)timeout_ms * tsc_khz();
	return 0;
}

int vmm_reboot(struct vm *vm, char *err, size_t errlen)
{
	char why[160];

	spin_lock(&vm->lock);
	bool ok = vm->state == VM_RUNNING || vm->state == VM_PAUSED;
	if (ok)
		__atomic_store_n(&vm->state, VM_REBOOTING, __ATOMIC_RELEASE);
	spin_unlock(&vm->lock);
	if (!ok) {
		live(vm, err, errlen);
		return -1;
	}
	printk("vm %s rebooting: its kernel is loaded again into zeroed RAM\n", vm->name);
	if (!wait_vcpus(vm, vcpu_left, 2000)) {
		format(err, errlen, "vm %s: a vCPU did not leave the guest", vm->name);
		vm_stop(vm, VM_STOP_CRASH, 0);
		return -1;
	}
	if (vm->state != VM_REBOOTING) { /* stopped on its way out */
		format(err, errlen, "vm %s stopped while rebooting", vm->name);
		return -1;
	}
	/* devices first: a NIC's frame from another VM must not land in the zeroed RAM */
	vm_virtio_reset(vm);
	vm_passthru_reset(vm);
	gpa_zero_all(&vm->map);
	vm_devices_reset(vm);
	vplatform_reset(vm); /* a restarted kernel finds its chips as at power-on */
	for (unsigned i = 0; i < VM_CONSOLES; i++)
		vm->out[i].line.len = 0;
	vm->shutdown_deadline = 0;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		hvm->vcpu_destroy(v);
		if (vcpu_setup(v, why, sizeof(why)) < 0)
			goto crash;
	}
	if (load_kernel(vm, why, sizeof(why)) < 0)
		goto crash;
	__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (start_vcpu(vm->vcpus[i], why, sizeof(why)) < 0)
			goto crash;
	return 0;
crash:
	format(err, errlen, "vm %s cannot restart: %s", vm->name, why);
	__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE); /* so that vm_stop reports it */
	vm_stop(vm, VM_STOP_CRASH, 0);
	return -1;
}

int vmm_pause(struct vm *vm, char *err, size_t errlen)
{
	spin_lock(&vm->lock);
	bool ok = vm->state == VM_RUNNING;
	if (ok)
		__atomic_store_n(&vm->state, VM_PAUSED, __ATOMIC_RELEASE);
	spin_unlock(&vm->lock);
	if (!ok) {
		if (vm->state == VM_PAUSED)
			format(err, errlen, "vm %s is already paused", vm->name);
		else
			live(vm, err, errlen);
		return -1;
	}
	/* its CPU time stops once each vCPU sleeps; a kick each millisecond gets it there */
	wait_vcpus(vm, vcpu_parked, 1000);
	return 0;
}

int vmm_unpause(struct vm *vm, char *err, size_t errlen)
{
	spin_lock(&vm->lock);
	bool ok = vm->state == VM_PAUSED;
	if (ok)
		__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
	spin_unlock(&vm->lock);
	if (!ok) {
		if (vm->state == VM_RUNNING)
			format(err, errlen, "vm %s is not paused", vm->name);
		else
			live(vm, err, errlen);
		return -1;
	}
	vm_kick(vm);
	return 0;
}

int vmm_vcpu_pin(struct vm *vm, unsigned id, unsigned cpu, char *err, size_t errlen)
{
	if (!live(vm, err, errlen))
		return -1;
	if (id >= vm->nvcpus) {
		format(err, errlen, "vm %s has no vCPU %u (it has %u)", vm->name, id, vm->nvcpus);
		return -1;
	}
	if (cpu >= cpu_count || !cpus[cpu]->online) {
		format(err, errlen, "there is no CPU %u online (CPUs 0-%u)", cpu, cpu_count - 1);
		return -1;
	}
	return sched_vcpu_pin(vm->vcpus[id], cpu, err, errlen);
}

size_t vmm_defined(const struct vmm_defined **out)
{
	*out = defined;
	return defined_count;
}
