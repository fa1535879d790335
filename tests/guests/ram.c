/*
 * ram: every byte of the guest's RAM above its own image holds what was
 * written there, and the 16 MiB past the end of RAM reads as all ones and
 * ignores writes (the guest ABI: no device there).
 *
 * Options:
 *   seed=N  the pattern's seed (default 1); the word at address A is
 *           pattern(A, N) below, so two runs with the same seed and memory
 *           map print the same checksum
 *   bare    skip the beyond-RAM checks (bare QEMU makes no promise there)
 *   full    read every dword of the beyond-RAM window, not a sample
 *   (unless bare, the RAM tested must read zero before it is written: a
 *   VM's RAM holds nothing of a VM that had it before)
 *
 * Output: "ram seed=N checksum=0x..." where checksum folds the verified words
 * in address order: c = rotl(c, 5) ^ word, from c = 0.
 */
#include "guest.h"

const char guest_name[] = "ram";

#define MIB 0x100000u
#define PAGE 4096u
#define BEYOND_BYTES (16u * MIB)
#define E820_RAM 1

static uint32_t pattern(uint32_t addr, uint32_t seed)
{
	/* A cheap integer hash (multiply/xor-shift), so neighbouring words differ. */
	uint32_t x = addr * 0x9e3779b1u + seed * 0x85ebca77u + 0x27d4eb2fu;
	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	x *= 0x297a2d39u;
	x ^= x >> 15;
	return x;
}

struct range {
	uint32_t start, end;	/* [start, end), page aligned */
};

/* The usable RAM above the image and the loader's data, below 4 GiB. */
static int usable_ranges(struct range *out, int max, uint32_t floor)
{
	int n = 0;

	for (int i = 0; i < boot.mmap_count && n < max; i++) {
		const struct guest_mmap_entry *e = &boot.mmap[i];
		uint64_t s = e->base, end = e->base + e->len;
		if (e->type != E820_RAM || end <= floor || s >= 0x100000000ull)
			continue;
		if (s < floor)
			s = floor;
		if (end > 0xfffff000ull)
			end = 0xfffff000ull;
		s = (s + PAGE - 1) & ~(uint64_t)(PAGE - 1);
		end &= ~(uint64_t)(PAGE - 1);
		if (s < end)
			out[n++] = (struct range){ (uint32_t)s, (uint32_t)end };
	}
	if (n == 0 && (boot.info_flags & 1) && max > 0) {
		uint32_t end = (MIB + boot.mem_upper * 1024u) & ~(PAGE - 1);
		if (end > floor)
			out[n++] = (struct range){ floor, end };
	}
	return n;
}

/* The end of RAM: the top of the highest usable entry, extended over entries
 * of any type that continue it without a gap (firmware tables at the top). */
static uint32_t ram_end(void)
{
	uint64_t end = 0;
	for (int i = 0; i < boot.mmap_count; i++)
		if (boot.mmap[i].type == E820_RAM && boot.mmap[i].base + boot.mmap[i].len > end)
			end = boot.mmap[i].base + boot.mmap[i].len;
	for (bool grew = true; grew;) {
		grew = false;
		for (int i = 0; i < boot.mmap_count; i++)
			if (boot.mmap[i].base == end && boot.mmap[i].len) {
				end += boot.mmap[i].len;
				grew = true;
			}
	}
	if (end == 0 && (boot.info_flags & 1))
		end = MIB + (uint64_t)boot.mem_upper * 1024;
	return end > 0xffffffffull ? 0xffffffffu : (uint32_t)end;
}

static void test_ram(uint32_t seed)
{
	uint32_t floor = (uint32_t)__image_end;
	struct range r[GUEST_MMAP_MAX];

	if (boot.loader_data_end > floor)
		floor = boot.loader_data_end;
	floor = (floor + PAGE - 1) & ~(PAGE - 1);
	int n = usable_ranges(r, GUEST_MMAP_MAX, floor);
	if (!check(n > 0, "no usable RAM above 0x%08x in the memory map", floor))
		return;

	if (!opt_present("bare")) {
		uint32_t dirty = 0;
		for (int i = 0; i < n; i++) {
			for (uint32_t a = r[i].start; a < r[i].end; a += 4) {
				uint32_t got = *(volatile uint32_t *)a;
				if (got && dirty++ < 4)
					check(false, "RAM at 0x%08x holds 0x%08x before any write", a, got);
			}
		}
		check(dirty == 0, "%u RAM words were not zero at start", dirty);
		printf("ram: zero at start\n");
	}

	uint32_t total = 0;
	for (int i = 0; i < n; i++) {
		printf("ram: testing 0x%08x-0x%08x (%u KiB)\n", r[i].start, r[i].end,
		       (r[i].end - r[i].start) / 1024);
		total += r[i].end - r[i].start;
		for (uint32_t a = r[i].start; a < r[i].end; a += 4)
			*(volatile uint32_t *)a = pattern(a, seed);
	}

	uint32_t checksum = 0, bad = 0;
	for (int i = 0; i < n; i++) {
		for (uint32_t a = r[i].start; a < r[i].end; a += 4) {
			uint32_t got = *(volatile uint32_t *)a, want = pattern(a, seed);
			if (got != want && bad++ < 4)
				check(false, "RAM at 0x%08x holds 0x%08x, wrote 0x%08x", a, got,
				      want);
			checksum = (checksum << 5 | checksum >> 27) ^ got;
		}
	}
	check(bad == 0, "%u RAM words differ from what was written", bad);
	printf("ram: %u KiB verified\n", total / 1024);
	printf("ram seed=%u checksum=0x%08x\n", seed, checksum);
}

/* Reads one word beyond RAM; counts and reports words that are not all ones. */
static void expect_ones(uint32_t a, uint32_t *bad)
{
	uint32_t got = *(volatile uint32_t *)a;
	if (got != 0xffffffffu && (*bad)++ < 4)
		check(false, "beyond RAM 0x%08x reads 0x%08x, want 0xffffffff", a, got);
}

static void test_beyond(uint32_t seed, bool full)
{
	uint32_t start = ram_end();
	uint32_t end = start + BEYOND_BYTES;
	uint32_t bad = 0, reads = 0;

	if (end < start || end > 0xfec00000u)
		end = 0xfec00000u;	/* below the IOAPIC and the firmware at 4 GiB */
	if (!check(start < end, "no room beyond RAM end 0x%08x", start))
		return;
	printf("ram: beyond RAM 0x%08x-0x%08x (%s)\n", start, end,
	       full ? "every dword" : "sampled");

	/*
	 * Every dword of the first and last page, then (unless full) the first
	 * dword and one seeded dword of each page: an access there may cost an
	 * exit, and 4M exits would take minutes nested under TCG.
	 */
	for (uint32_t a = start; a < end; a += 4) {
		bool edge = a < start + PAGE || a >= end - PAGE;
		if (!full && !edge) {
			uint32_t page = a & ~(PAGE - 1);
			expect_ones(page, &bad);
			expect_ones(page + (pattern(page, seed) & (PAGE - 4)), &bad);
			reads += 2;
			a = page + PAGE - 4;
			continue;
		}
		expect_ones(a, &bad);
		reads++;
	}

	/*
	 * Writes are dropped: one per MiB and the last dword, each read back
	 * after all were written. "Ignored" means the word still reads what it
	 * read before the write, whatever that was.
	 */
	uint32_t addr[BEYOND_BYTES / MIB + 1], before[BEYOND_BYTES / MIB + 1];
	uint32_t count = 0, stuck = 0;
	for (uint32_t a = start; a < end && count < BEYOND_BYTES / MIB; a += MIB)
		addr[count++] = a;
	addr[count++] = end - 4;
	for (uint32_t i = 0; i < count; i++)
		before[i] = *(volatile uint32_t *)addr[i];
	for (uint32_t i = 0; i < count; i++)
		*(volatile uint32_t *)addr[i] = ~before[i];
	for (uint32_t i = 0; i < count; i++) {
		uint32_t got = *(volatile uint32_t *)addr[i];
		if (got != before[i] && stuck++ < 4)
			check(false, "beyond RAM 0x%08x kept a write: 0x%08x -> 0x%08x", addr[i],
			      before[i], got);
	}
	printf("ram: beyond RAM: %u reads, %u not all ones; writes %s\n", reads, bad,
	       stuck ? "kept" : "ignored");
	check(bad == 0, "beyond RAM: %u of %u reads not all ones", bad, reads);
}

void guest_main(void)
{
	uint32_t seed = (uint32_t)opt_u64("seed", 1);

	printf("ram: image 0x%08x-0x%08x, loader data up to 0x%08x, %d memory map entries\n",
	       (uint32_t)__image_start, (uint32_t)__image_end, boot.loader_data_end,
	       boot.mmap_count);
	for (int i = 0; i < boot.mmap_count; i++)
		printf("ram:   0x%08llx-0x%08llx type %u\n", boot.mmap[i].base,
		       boot.mmap[i].base + boot.mmap[i].len, boot.mmap[i].type);
	check(boot.info_flags & (1u << 6), "no memory map in the multiboot info (flags 0x%x)",
	      boot.info_flags);

	test_ram(seed);
	if (opt_present("bare"))
		printf("ram: bare: beyond-RAM checks skipped\n");
	else
		test_beyond(seed, opt_present("full"));
}
