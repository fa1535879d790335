#include "kernel/mm/mm.h"

#include "include/x86.h"
#include "kernel/cpu/smp.h"
#include "kernel/lib/format.h"
#include "kernel/lib/spinlock.h"
#include "kernel/lib/string.h"
#include "kernel/log.h"
#include "kernel/mm/heap.h"
#include "kernel/mm/pagetable.h"

extern char __image_start[], __text_end[], __rodata_end[], __image_end[];
extern char boot_stack_guard[];

struct frame_allocator host_frames;
static struct pagetable host_pt;
static struct heap host_heap;
static uint64_t trampoline_page;
static uint64_t usable_bytes;
static bool have_nx, have_gbpages;
static unsigned phys_bits;
static const struct boot_info *boot_map; /* the firmware's memory map, kept by the caller */
/* one writer of the host tables at a time, once other CPUs run */
static spinlock_t host_pt_lock = SPINLOCK_INIT;

#define MSR_IA32_PAT 0x277

static void *identity(uint64_t phys)
{
	return phys_to_virt(phys);
}

static uint64_t alloc_zeroed_frame(void *arg)
{
	(void)arg;
	uint64_t f = frame_alloc(&host_frames);
	if (f)
		memset(phys_to_virt(f), 0, FRAME_SIZE);
	return f;
}

static void *heap_alloc_pages(void *arg, size_t n)
{
	(void)arg;
	uint64_t f = frame_alloc_contig(&host_frames, n, FRAME_SIZE);
	return f ? phys_to_virt(f) : NULL;
}

static void heap_free_pages(void *arg, void *p, size_t n)
{
	(void)arg;
	frame_free_contig(&host_frames, (uint64_t)(uintptr_t)p, n);
}

static uint64_t nx(void)
{
	return have_nx ? PTE_NX : 0;
}

static int build_host_tables(const struct boot_info *bi)
{
	uint64_t top = 4ull << 30; /* always cover the 32-bit MMIO hole (LAPIC, IOAPIC, ECAM) */
	for (size_t i = 0; i < bi->nregions; i++) {
		uint64_t end = bi->regions[i].base + bi->regions[i].length;
		if (end > top)
			top = end;
	}
	top = (top + (1ull << 30) - 1) & ~((1ull << 30) - 1);

	host_pt = (struct pagetable){.alloc_table = alloc_zeroed_frame, .phys_to_virt = identity};
	if (pt_init(&host_pt) < 0)
		return -1;
	enum page_level big = have_gbpages ? PAGE_1G : PAGE_2M;
	/* all memory: read/write data, never executable */
	if (pt_map(&host_pt, 0, 0, top, PTE_W | nx(), big) < 0)
		return -1;
	/* the image: text RX, rodata R, data and bss RW (W^X) */
	uint64_t s = (uint64_t)__image_start, t = (uint64_t)__text_end;
	uint64_t r = (uint64_t)__rodata_end, e = (uint64_t)__image_end;
	if (pt_map(&host_pt, s, s, t - s, 0, PAGE_4K) < 0 ||
	    pt_map(&host_pt, t, t, r - t, nx(), PAGE_4K) < 0 ||
	    pt_map(&host_pt, r, r, e - r, PTE_W | nx(), PAGE_4K) < 0)
		return -1;
	/* page zero stays unmapped so a NULL dereference faults */
	if (pt_unmap(&host_pt, 0, FRAME_SIZE) < 0)
		return -1;
	if (pt_unmap(&host_pt, (uint64_t)boot_stack_guard, FRAME_SIZE) < 0)
		return -1;
	return 0;
}

void mm_load_host_tables(void)
{
	if (have_nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
	write_cr0(read_cr0() | CR0_WP); /* the kernel too obeys read-only pages */
	write_cr3(host_pt.root);
}

int mm_init(const struct boot_info *bi, char *err, size_t errlen)
{
	struct phys_range reserved[BOOT_MAX_MODULES + 3];
	size_t nres = 0;
	struct cpuid_regs ext;

	cpuid(0x80000001, &ext);
	have_nx = ext.edx & (1u << 20);
	have_gbpages = ext.edx & (1u << 26);
	cpuid(0x80000000, &ext);
	phys_bits = 36; /* what a CPU without leaf 0x80000008 has (SDM Vol. 3A §4.1.4) */
	if (ext.eax >= 0x80000008) {
		cpuid(0x80000008, &ext);
		phys_bits = ext.eax & 0xff;
	}
	boot_map = bi;

	reserved[nres++] = (struct phys_range){(uint64_t)__image_start, (uint64_t)__image_end};
	reserved[nres++] = (struct phys_range){bi->info_start, bi->info_end};
	for (size_t i = 0; i < bi->nmodules; i++)
		reserved[nres++] = (struct phys_range){bi->modules[i].start, bi->modules[i].end};

	usable_bytes = bootinfo_usable_bytes(bi);
	if (frame_init(&host_frames, bi->regions, bi->nregions, reserved, nres, 1ull << 20,
		       identity) < 0) {
		format(err, errlen, "no usable RAM above 1 MiB in the firmware memory map");
		return -1;
	}
	/* the AP trampoline needs one page below 1 MiB that nothing else uses */
	trampoline_page = phys_find_free(bi->regions, bi->nregions, reserved, nres, 0x1000,
					 0x100000, FRAME_SIZE, FRAME_SIZE);
	if (trampoline_page == UINT64_MAX)
		trampoline_page = 0;

	if (build_host_tables(bi) < 0) {
		format(err, errlen, "out of memory building the host page tables");
		return -1;
	}
	mm_load_host_tables();

	struct heap_page_ops ops = {heap_alloc_pages, heap_free_pages, NULL};
	heap_init(&host_heap, &ops);
	return 0;
}

uint64_t mm_trampoline_page(void)
{
	return trampoline_page;
}

uint64_t frame_alloc_zeroed(unsigned n)
{
	uint64_t pa = frame_alloc_contig(&host_frames, n, FRAME_SIZE);
	if (pa)
		memset(phys_to_virt(pa), 0, n * FRAME_SIZE);
	return pa;
}

int mm_unmap_page(uint64_t va)
{
	uint64_t flags = spin_lock_irqsave(&host_pt_lock);
	int r = pt_unmap(&host_pt, va & ~(FRAME_SIZE - 1), FRAME_SIZE);
	spin_unlock_irqrestore(&host_pt_lock, flags);
	if (r < 0)
		return -1;
	invlpg(va);
	return 0;
}

/* Emits [start, end) minus the reserved ranges from index i on. */
static void emit_minus(uint64_t start, uint64_t end, const struct phys_range *res, size_t nres,
		       size_t i, void (*fn)(void *ctx, uint64_t start, uint64_t end), void *ctx)
{
	for (; start < end && i < nres; i++) {
		uint64_t rs = res[i].start & ~(FRAME_SIZE - 1);
		uint64_t re = (res[i].end + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
		if (re <= start || rs >= end)
			continue;
		if (rs > start)
			emit_minus(start, rs, res, nres, i + 1, fn, ctx);
		start = re;
	}
	if (start < end)
		fn(ctx, start, end);
}

void mm_for_each_frame_range(void (*fn)(void *ctx, uint64_t start, uint64_t end), void *ctx)
{
	struct phys_range res[BOOT_MAX_MODULES + 2];
	size_t nres = 0;
	if (!boot_map)
		return;
	res[nres++] = (struct phys_range){(uint64_t)__image_start, (uint64_t)__image_end};
	res[nres++] = (struct phys_range){boot_map->info_start, boot_map->info_end};
	for (size_t i = 0; i < boot_map->nmodules; i++)
		res[nres++] = (struct phys_range){boot_map->modules[i].start, boot_map->modules[i].end};
	for (size_t i = 0; i < boot_map->nregions; i++) {
		const struct mem_region *r = &boot_map->regions[i];
		if (r->type != MEM_USABLE)
			continue;
		uint64_t s = (r->base + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);
		uint64_t e = (r->base + r->length) & ~(FRAME_SIZE - 1);
		if (s < (1ull << 20))
			s = 1ull << 20;
		if (s < e)
			emit_minus(s, e, res, nres, 0, fn, ctx);
	}
}

/* RAM in the firmware's map (usable or ACPI's): never to be mapped uncached. */
static bool overlaps_ram(uint64_t start, uint64_t end)
{
	for (size_t i = 0; boot_map && i < boot_map->nregions; i++) {
		const struct mem_region *r = &boot_map->regions[i];
		if (r->type != MEM_USABLE && r->type != MEM_ACPI_RECLAIMABLE &&
		    r->type != MEM_ACPI_NVS)
			continue;
		if (start < r->base + r->length && r->base < end)
			return true;
	}
	return false;
}

void *mm_map_mmio(uint64_t pa, uint64_t size)
{
	uint64_t start = pa & ~(FRAME_SIZE - 1);
	uint64_t end = (pa + size + FRAME_SIZE - 1) & ~(FRAME_SIZE - 1);

	/* the identity map puts va = pa: both must fit the lower canonical half */
	uint64_t limit = phys_bits < 47 ? 1ull << phys_bits : 1ull << 47;
	if (!size || end <= start || end > limit) {
		printk("hv: cannot map MMIO %#llx+%#llx: beyond the %u-bit physical address space\n",
		       (unsigned long long)pa, (unsigned long long)size, phys_bits);
		return NULL;
	}
	if (overlaps_ram(start, end)) {
		printk("hv: refusing to map %#llx+%#llx uncached: the firmware lists RAM there\n",
		       (unsigned long long)pa, (unsigned long long)size);
		return NULL;
	}
	/* PCD|PWT select PAT entry 3: UC at power-on, and nothing here reprograms the PAT */
	static bool pat_checked;
	if (!pat_checked) {
		struct cpuid_regs leaf1;
		cpuid(1, &leaf1);
		uint64_t pat3 = leaf1.edx & (1u << 16) ? (rdmsr(MSR_IA32_PAT) >> 24) & 7 : 0;
		if (pat3 != 0)
			printk("hv: the firmware set PAT entry 3 to type %llu, not UC: device memory "
			       "may be cached\n",
			       (unsigned long long)pat3);
		pat_checked = true;
	}
	uint64_t flags = spin_lock_irqsave(&host_pt_lock);
	int r = pt_map(&host_pt, start, start, end - start, PTE_W | PTE_PCD | PTE_PWT | nx(),
		       PAGE_4K);
	spin_unlock_irqrestore(&host_pt_lock, flags);
	if (r < 0) {
		printk("hv: out of memory for page tables mapping MMIO %#llx+%#llx\n",
		       (unsigned long long)pa, (unsigned long long)size);
		return NULL;
	}
	/*
	 * The range may have been part of a large cached page (below 4 GiB the
	 * identity map covers the MMIO hole with 1 GiB or 2 MiB pages). This
	 * CPU reloads CR3 (the host uses no global pages, so that drops every
	 * host translation). The other CPUs may hold the old large page too:
	 * in xAPIC mode each touches its LAPIC page at 0xFEE00000, which lies
	 * in the same 1 GiB page as most 32-bit BARs and the ECAM window. A
	 * stale entry would let a driver's access from that CPU go through the
	 * write-back mapping, so they flush as well before we return.
	 */
	write_cr3(read_cr3());
	smp_flush_tlb_others();
	return phys_to_virt(pa);
}

int mm_alloc_stack(unsigned pages, uint64_t *bottom, uint64_t *top)
{
	uint64_t base = frame_alloc_contig(&host_frames, pages + 1, FRAME_SIZE);
	if (!base)
		return -1;
	if (mm_unmap_page(base) < 0)
		return -1;
	*bottom = base + FRAME_SIZE;
	*top = base + (uint64_t)(pages + 1) * FRAME_SIZE;
	return 0;
}

void *kmalloc(size_t size)
{
	return heap_alloc(&host_heap, size);
}

void *kzalloc(size_t size)
{
	return heap_zalloc(&host_heap, size);
}

void kfree(void *p)
{
	heap_free(&host_heap, p);
}

void mm_get_stats(struct mm_stats *s)
{
	s->usable_bytes = usable_bytes;
	s->managed_bytes = host_frames.managed_frames * FRAME_SIZE;
	s->free_bytes = host_frames.free_frames * FRAME_SIZE;
	s->image_bytes = (uint64_t)(__image_end - __image_start);
	s->page_tables = host_pt.tables;
	spin_lock(&host_heap.lock);
	s->heap_bytes = host_heap.bytes_in_use;
	s->heap_pages = host_heap.pages_in_use;
	spin_unlock(&host_heap.lock);
	s->nx = have_nx;
	s->gbpages = have_gbpages;
}
