/*
 * lowmem: a multiboot1 kernel linked at 0x8000 (GUEST_LOAD_lowmem in the
 * Makefile), where loaders traditionally put the multiboot information. The
 * loader must put the information elsewhere and say where in EBX; this
 * guest checks that it runs from 0x8000, that the information lies outside
 * its image and is whole (command line, memory map, memory sizes, loader
 * name), and that its own image was not written over (a pattern in .data).
 *
 * Options: token=WORD  a word the test puts on the command line, read back
 *          ram=MIB     the VM's RAM, to check the memory map's top
 */
#include "guest.h"

const char guest_name[] = "lowmem";

#define LOAD_ADDR 0x8000u
#define PATTERN_WORDS 2048 /* 8 KiB: as large as the information area it must not meet */
#define E820_RAM 1

static uint32_t pattern_value(uint32_t i)
{
	return i * 0x9e3779b1u ^ 0x5a5aa5a5u;
}

/* Initialised data, so it comes from the file: a loader that wrote here would show. */
#define P(i) (uint32_t)((i) * 0x9e3779b1u ^ 0x5a5aa5a5u)
#define P4(i) P(i), P(i + 1), P(i + 2), P(i + 3)
#define P16(i) P4(i), P4(i + 4), P4(i + 8), P4(i + 12)
#define P64(i) P16(i), P16(i + 16), P16(i + 32), P16(i + 48)
#define P256(i) P64(i), P64(i + 64), P64(i + 128), P64(i + 192)
#define P1024(i) P256(i), P256(i + 256), P256(i + 512), P256(i + 768)
static volatile uint32_t pattern[PATTERN_WORDS] = { P1024(0), P1024(1024) };

static bool str_equal(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

void guest_main(void)
{
	uint32_t start = (uint32_t)__image_start, end = (uint32_t)__image_end;
	uint32_t info = boot.info_addr;

	printf("lowmem: image 0x%x-0x%x, multiboot information at 0x%x\n", start, end, info);
	check(start == LOAD_ADDR, "image starts at 0x%x, want 0x%x", start, LOAD_ADDR);
	check(end <= 0x9fc00, "image ends at 0x%x, past low memory", end);
	check(info + 88 <= start || info >= end,
	      "multiboot information at 0x%x inside the image 0x%x-0x%x", info, start, end);
	check(info >= 0x1000, "multiboot information at 0x%x, in page 0", info);

	unsigned bad = 0;
	for (uint32_t i = 0; i < PATTERN_WORDS; i++)
		if (pattern[i] != pattern_value(i))
			bad++;
	check(bad == 0, "%u words of the image's data were overwritten", bad);

	/* the command line, through the information */
	char token[64];
	check(opt_str("token", token, sizeof(token)), "no token= on the command line \"%s\"",
	      boot.cmdline);
	printf("lowmem: token \"%s\", loader \"%s\"\n", token, boot.loader_name);
	check(str_equal(boot.loader_name, "hv"), "loader name \"%s\", want \"hv\"",
	      boot.loader_name);

	/* memory sizes and map */
	check(boot.info_flags & 1, "no memory sizes (flags 0x%x)", boot.info_flags);
	check(boot.info_flags & (1u << 6), "no memory map (flags 0x%x)", boot.info_flags);
	check(boot.mem_lower == 639, "mem_lower %u KiB, want 639", boot.mem_lower);
	uint64_t top = 0;
	bool low_usable = false;
	for (int i = 0; i < boot.mmap_count; i++) {
		const struct guest_mmap_entry *e = &boot.mmap[i];
		printf("lowmem: map 0x%llx-0x%llx type %u\n", (unsigned long long)e->base,
		       (unsigned long long)(e->base + e->len), e->type);
		if (e->type == E820_RAM && e->base + e->len > top)
			top = e->base + e->len;
		/* our image, and the information, lie in usable memory */
		if (e->type == E820_RAM && e->base <= start && e->base + e->len >= end)
			low_usable = true;
	}
	check(boot.mmap_count >= 2, "memory map of %d entries", boot.mmap_count);
	check(low_usable, "the image 0x%x-0x%x is not in usable memory", start, end);
	check(top == 0x100000ull + boot.mem_upper * 1024ull,
	      "map ends at 0x%llx, mem_upper says 0x%llx", (unsigned long long)top,
	      0x100000ull + boot.mem_upper * 1024ull);
	uint64_t ram_mib = opt_u64("ram", 0);
	if (ram_mib)
		check(top == ram_mib << 20, "map ends at 0x%llx, the VM has %llu MiB",
		      (unsigned long long)top, (unsigned long long)ram_mib);
}
