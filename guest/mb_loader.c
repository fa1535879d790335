/*
 * Multiboot1 guest loader (see mb_loader.h). Two passes: plan (parse and
 * check every header against the file and guest RAM), then write.
 */
#include "guest/mb_loader.h"

#include "kernel/lib/format.h"
#include "kernel/lib/string.h"
#include "kernel/lib/unaligned.h"

/* ELF32 (System V ABI, Intel386 supplement): the fields we read, by offset. */
#define ELF_EHDR_SIZE 52
#define ELF_PHDR_SIZE 32
#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define PT_LOAD 1

#define PAGE_SIZE 4096u
#define MAX_SEGMENTS 16

/* The flags in bits 0-15 we can honour (§3.1.2: refuse any other required bit). */
#define MB_HFLAGS_KNOWN (MB_HFLAG_PAGE_ALIGN | MB_HFLAG_MEMINFO | MB_HFLAG_VIDEO)

struct segment {
	uint32_t file_off, filesz;
	uint32_t paddr, memsz;
};

struct plan {
	struct segment seg[MAX_SEGMENTS];
	int nseg;
	uint32_t entry;
	uint32_t kernel_start, kernel_end;
};

/* Areas in the low 1 MiB a kernel may not load over (the EBDA/VGA/ROM hole,
 * where the VM's ACPI tables live too); see the layout in mb_loader.h. */
static const struct {
	uint32_t start, end;
	const char *what;
} low_areas[] = {
	{ MB_LOW_RAM_END, MB_HIGH_RAM, "the reserved area below 1 MiB" },
};

static void set_err(char *err, size_t errlen, const char *what)
{
	if (err && errlen)
		strlcpy_hv(err, what, errlen);
}

int mb_find_header(const uint8_t *image, size_t len, struct mb_header *out)
{
	size_t limit = len < MB_HEADER_SEARCH ? len : MB_HEADER_SEARCH;
	bool magic_seen = false;

	if (!image || !out)
		return MB_ERR_INVAL;
	for (size_t off = 0; off + 12 <= limit; off += 4) {
		const uint8_t *h = image + off;
		if (rd32(h) != MB_HEADER_MAGIC)
			continue;
		magic_seen = true;
		uint32_t flags = rd32(h + 4);
		if ((uint32_t)(MB_HEADER_MAGIC + flags + rd32(h + 8)) != 0)
			continue;
		memset(out, 0, sizeof(*out));
		out->offset = (uint32_t)off;
		out->flags = flags;
		if (flags & MB_HFLAG_AOUT_KLUDGE) {
			if (off + 32 > len)
				return MB_ERR_TRUNCATED;
			out->header_addr = rd32(h + 12);
			out->load_addr = rd32(h + 16);
			out->load_end_addr = rd32(h + 20);
			out->bss_end_addr = rd32(h + 24);
			out->entry_addr = rd32(h + 28);
		}
		return MB_OK;
	}
	return magic_seen ? MB_ERR_CHECKSUM : MB_ERR_NO_HEADER;
}

bool mb_is_multiboot(const uint8_t *image, size_t len)
{
	struct mb_header h;
	return mb_find_header(image, len, &h) == MB_OK;
}

/* Checks one range of guest-physical memory the kernel will occupy. */
static int check_range(const struct mb_guest_mem *mem, uint64_t start, uint64_t size,
		       const char *what, char *err, size_t errlen)
{
	uint64_t end = start + size;

	if (size == 0)
		return MB_OK;
	if (end > mem->ram_bytes || end > 0x100000000ull) {
		format(err, errlen, "%s 0x%llx-0x%llx lies beyond guest RAM (0x%llx bytes)", what,
		       (unsigned long long)start, (unsigned long long)end,
		       (unsigned long long)mem->ram_bytes);
		return MB_ERR_RANGE;
	}
	for (size_t i = 0; i < sizeof(low_areas) / sizeof(low_areas[0]); i++) {
		if (start < low_areas[i].end && end > low_areas[i].start) {
			format(err, errlen, "%s 0x%llx-0x%llx overlaps %s (0x%x-0x%x)", what,
			       (unsigned long long)start, (unsigned long long)end,
			       low_areas[i].what, low_areas[i].start, low_areas[i].end);
			return MB_ERR_RANGE;
		}
	}
	return MB_OK;
}

static void plan_add(struct plan *p, uint32_t file_off, uint32_t filesz, uint32_t paddr,
		     uint32_t memsz)
{
	p->seg[p->nseg++] = (struct segment){ file_off, filesz, paddr, memsz };
	if (p->nseg == 1 || paddr < p->kernel_start)
		p->kernel_start = paddr;
	if (paddr + memsz > p->kernel_end)
		p->kernel_end = paddr + memsz;
}

/* The a.out kludge: the header says where the file goes (§3.1.3). */
static int plan_aout(const struct mb_header *h, size_t len, const struct mb_guest_mem *mem,
		     struct plan *p, char *err, size_t errlen)
{
	if (h->load_addr > h->header_addr || h->header_addr - h->load_addr > h->offset) {
		format(err, errlen,
		       "a.out kludge: load_addr 0x%x and header_addr 0x%x do not fit the header's "
		       "file offset 0x%x",
		       h->load_addr, h->header_addr, h->offset);
		return MB_ERR_FORMAT;
	}
	uint32_t file_off = h->offset - (h->header_addr - h->load_addr);
	uint64_t load_size;
	if (h->load_end_addr == 0) {
		load_size = len - file_off;
	} else if (h->load_end_addr < h->load_addr) {
		format(err, errlen, "a.out kludge: load_end_addr 0x%x below load_addr 0x%x",
		       h->load_end_addr, h->load_addr);
		return MB_ERR_FORMAT;
	} else {
		load_size = h->load_end_addr - h->load_addr;
	}
	if (file_off + load_size > len) {
		format(err, errlen,
		       "truncated image: a.out kludge loads 0x%llx bytes from file offset "
		       "0x%x, the file has 0x%zx",
		       (unsigned long long)load_size, file_off, len);
		return MB_ERR_TRUNCATED;
	}
	uint64_t mem_size = load_size;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < h->load_addr + load_size) {
			format(err, errlen,
			       "a.out kludge: bss_end_addr 0x%x below the loaded end 0x%llx",
			       h->bss_end_addr, (unsigned long long)(h->load_addr + load_size));
			return MB_ERR_FORMAT;
		}
		mem_size = h->bss_end_addr - h->load_addr;
	}
	int rc = check_range(mem, h->load_addr, mem_size, "a.out kludge image", err, errlen);
	if (rc)
		return rc;
	if (mem_size == 0) {
		set_err(err, errlen, "a.out kludge: nothing to load");
		return MB_ERR_FORMAT;
	}
	if (h->entry_addr < h->load_addr || h->entry_addr - h->load_addr >= mem_size) {
		format(err, errlen, "a.out kludge: entry_addr 0x%x outside the image 0x%x-0x%llx",
		       h->entry_addr, h->load_addr, (unsigned long long)(h->load_addr + mem_size));
		return MB_ERR_FORMAT;
	}
	plan_add(p, file_off, (uint32_t)load_size, h->load_addr, (uint32_t)mem_size);
	p->entry = h->entry_addr;
	return MB_OK;
}

/* An ELF32 x86 executable, loaded by its PT_LOAD program headers at p_paddr. */
static int plan_elf(const uint8_t *image, size_t len, const struct mb_guest_mem *mem,
		    struct plan *p, char *err, size_t errlen)
{
	if (len < 4 || memcmp(image, "\177ELF", 4) != 0) {
		set_err(err, errlen, "not an ELF file, and the multiboot header has no load "
				     "addresses (flag 16)");
		return MB_ERR_FORMAT;
	}
	if (len < ELF_EHDR_SIZE) {
		format(err, errlen, "truncated image: 0x%zx bytes, shorter than an ELF header",
		       len);
		return MB_ERR_TRUNCATED;
	}
	if (image[EI_CLASS] == ELFCLASS64) {
		set_err(err, errlen, "ELF64 kernel: a multiboot1 kernel must be ELF32 (i386)");
		return MB_ERR_FORMAT;
	}
	if (image[EI_CLASS] != ELFCLASS32 || image[EI_DATA] != ELFDATA2LSB) {
		format(err, errlen, "unsupported ELF class %u / data encoding %u", image[EI_CLASS],
		       image[EI_DATA]);
		return MB_ERR_FORMAT;
	}
	uint16_t type = rd16(image + 16), machine = rd16(image + 18);
	if (type != ET_EXEC || machine != EM_386) {
		format(err, errlen,
		       "ELF type %u machine %u: want an i386 executable (type 2, machine 3)", type,
		       machine);
		return MB_ERR_FORMAT;
	}
	uint32_t entry = rd32(image + 24), phoff = rd32(image + 28);
	uint16_t phentsize = rd16(image + 42), phnum = rd16(image + 44);
	if (phnum == 0 || phentsize < ELF_PHDR_SIZE) {
		format(err, errlen, "ELF: %u program headers of %u bytes", phnum, phentsize);
		return MB_ERR_FORMAT;
	}
	if ((uint64_t)phoff + (uint64_t)phnum * phentsize > len) {
		format(err, errlen,
		       "truncated image: program headers end at 0x%llx, the file at 0x%zx",
		       (unsigned long long)phoff + (unsigned long long)phnum * phentsize, len);
		return MB_ERR_TRUNCATED;
	}

	bool entry_found = false;
	uint32_t entry_paddr = entry;
	for (uint16_t i = 0; i < phnum; i++) {
		const uint8_t *ph = image + phoff + (size_t)i * phentsize;
		if (rd32(ph) != PT_LOAD)
			continue;
		uint32_t off = rd32(ph + 4), vaddr = rd32(ph + 8), paddr = rd32(ph + 12);
		uint32_t filesz = rd32(ph + 16), memsz = rd32(ph + 20);
		if (memsz == 0)
			continue;
		if (filesz > memsz) {
			format(err, errlen,
			       "ELF segment %u: p_filesz 0x%x larger than p_memsz 0x%x", i, filesz,
			       memsz);
			return MB_ERR_FORMAT;
		}
		if ((uint64_t)off + filesz > len) {
			format(err, errlen,
			       "truncated image: ELF segment %u needs file bytes 0x%x-0x%llx, "
			       "the file has 0x%zx",
			       i, off, (unsigned long long)off + filesz, len);
			return MB_ERR_TRUNCATED;
		}
		char what[32];
		format(what, sizeof(what), "ELF segment %u", i);
		int rc = check_range(mem, paddr, memsz, what, err, errlen);
		if (rc)
			return rc;
		if (p->nseg == MAX_SEGMENTS) {
			format(err, errlen, "ELF: more than %d loadable segments", MAX_SEGMENTS);
			return MB_ERR_FORMAT;
		}
		plan_add(p, off, filesz, paddr, memsz);
		/* The entry is a virtual address; like GRUB, translate it through its segment. */
		if (!entry_found && entry >= vaddr && entry - vaddr < memsz) {
			entry_paddr = paddr + (entry - vaddr);
			entry_found = true;
		}
	}
	if (p->nseg == 0) {
		set_err(err, errlen, "ELF: no loadable (PT_LOAD) segment");
		return MB_ERR_FORMAT;
	}
	if (!entry_found) {
		format(err, errlen, "ELF entry point 0x%x lies in no loadable segment", entry);
		return MB_ERR_FORMAT;
	}
	p->entry = entry_paddr;
	return MB_OK;
}

static int mem_write(const struct mb_guest_mem *mem, uint64_t gpa, const void *src, size_t len,
		     char *err, size_t errlen)
{
	if (len == 0 || mem->write(mem->ctx, gpa, src, len) == 0)
		return MB_OK;
	format(err, errlen, "writing 0x%zx bytes of guest memory at 0x%llx failed", len,
	       (unsigned long long)gpa);
	return MB_ERR_MEM;
}

static int mem_zero(const struct mb_guest_mem *mem, uint64_t gpa, size_t len, char *err,
		    size_t errlen)
{
	if (len == 0 || mem->zero(mem->ctx, gpa, len) == 0)
		return MB_OK;
	format(err, errlen, "zeroing 0x%zx bytes of guest memory at 0x%llx failed", len,
	       (unsigned long long)gpa);
	return MB_ERR_MEM;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/*
 * The lowest MB_INFO_ALIGN-aligned address at or above `from` where `size`
 * bytes below `limit` meet neither a kernel segment, the module, nor the
 * reserved area; 0 when there is none.
 */
static uint64_t free_spot(const struct plan *p, uint64_t mod_start, uint64_t mod_end,
			  uint64_t from, uint64_t limit, uint64_t size)
{
	uint64_t at = align_up(from, MB_INFO_ALIGN);
	bool moved = true;

	while (moved) {
		moved = false;
		if (at + size > limit)
			return 0;
		for (int i = 0; i <= p->nseg + 1; i++) {
			uint64_t s, e;
			if (i < p->nseg) {
				s = p->seg[i].paddr;
				e = s + p->seg[i].memsz;
			} else if (i == p->nseg) {
				s = mod_start;
				e = mod_end;
			} else {
				s = MB_LOW_RAM_END;
				e = MB_HIGH_RAM;
			}
			if (s < e && at < e && s < at + size) {
				at = align_up(e, MB_INFO_ALIGN);
				moved = true;
				break;
			}
		}
	}
	return at;
}

/* Where the information area goes (the order in mb_loader.h); 0: nowhere. */
static uint64_t place_info(const struct plan *p, uint64_t mod_start, uint64_t mod_end,
			   uint64_t ram_bytes)
{
	uint64_t top = ram_bytes < 0x100000000ull ? ram_bytes : 0x100000000ull;
	uint64_t at = free_spot(p, mod_start, mod_end, MB_INFO_BASE,
				MB_INFO_BASE + MB_INFO_AREA_SIZE, MB_INFO_AREA_SIZE);
	if (at == MB_INFO_BASE)
		return at;
	at = free_spot(p, mod_start, mod_end, MB_INFO_LOW_START, MB_LOW_RAM_END, MB_INFO_AREA_SIZE);
	if (at)
		return at;
	return free_spot(p, mod_start, mod_end, MB_HIGH_RAM, top, MB_INFO_AREA_SIZE);
}

/* The memory map every guest sees (mb_loader.h). */
static void build_mmap(uint8_t *buf, uint64_t ram_bytes)
{
	static const struct {
		uint64_t base, end;
		uint32_t type;
	} fixed[MB_MMAP_ENTRIES - 1] = {
		{ 0, MB_LOW_RAM_END, MB_MMAP_USABLE },
		{ MB_LOW_RAM_END, 0xa0000, MB_MMAP_RESERVED },
		{ MB_BIOS_AREA, MB_HIGH_RAM, MB_MMAP_RESERVED },
	};
	for (int i = 0; i < MB_MMAP_ENTRIES; i++) {
		uint8_t *e = buf + i * MB_MMAP_ENTRY_SIZE;
		uint64_t base = i < 3 ? fixed[i].base : MB_HIGH_RAM;
		uint64_t end = i < 3 ? fixed[i].end : ram_bytes;
		wr32(e, MB_MMAP_ENTRY_SIZE - 4);	/* "size" does not count itself */
		wr64(e + 4, base);
		wr64(e + 12, end - base);
		wr32(e + 20, i < 3 ? fixed[i].type : MB_MMAP_USABLE);
	}
}

int mb_load(const uint8_t *image, size_t len, const struct mb_guest_mem *mem, const char *cmdline,
	    const struct mb_module *module, struct mb_entry *out, char *err, size_t errlen)
{
	struct mb_header hdr;
	struct plan plan;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!image || !mem || !mem->write || !mem->zero || !out ||
	    (module && !module->data && module->len)) {
		set_err(err, errlen, "mb_load: missing argument");
		return MB_ERR_INVAL;
	}
	if (mem->ram_bytes < 2 * MB_HIGH_RAM) {
		format(err, errlen,
		       "guest RAM of 0x%llx bytes: a multiboot guest needs at least 2 MiB",
		       (unsigned long long)mem->ram_bytes);
		return MB_ERR_RANGE;
	}

	/* Pass 1: plan and check everything. */
	rc = mb_find_header(image, len, &hdr);
	if (rc == MB_ERR_NO_HEADER) {
		format(err, errlen, "no multiboot1 header (magic 0x%x) in the first %u bytes",
		       MB_HEADER_MAGIC, MB_HEADER_SEARCH);
		return rc;
	}
	if (rc == MB_ERR_CHECKSUM) {
		set_err(err, errlen,
			"multiboot1 header checksum is wrong (magic + flags + checksum != 0)");
		return rc;
	}
	if (rc == MB_ERR_TRUNCATED) {
		set_err(err, errlen,
			"truncated image: the multiboot header's address fields are cut off");
		return rc;
	}
	uint32_t unknown = hdr.flags & 0xffffu & ~MB_HFLAGS_KNOWN;
	if (unknown) {
		format(err, errlen, "multiboot header requires features 0x%x this loader lacks",
		       unknown);
		return MB_ERR_FLAGS;
	}

	memset(&plan, 0, sizeof(plan));
	if (hdr.flags & MB_HFLAG_AOUT_KLUDGE)
		rc = plan_aout(&hdr, len, mem, &plan, err, errlen);
	else
		rc = plan_elf(image, len, mem, &plan, err, errlen);
	if (rc)
		return rc;

	const char *cmd = cmdline ? cmdline : "";
	size_t cmd_len = strnlen(cmd, MB_CMDLINE_MAX);
	if (cmd_len >= MB_CMDLINE_MAX) {
		format(err, errlen, "command line longer than %u bytes", MB_CMDLINE_MAX - 1);
		return MB_ERR_TOO_LONG;
	}

	uint64_t mod_start = 0, mod_end = 0;
	const char *mod_name = "";
	size_t mod_name_len = 0;
	if (module) {
		mod_name = module->name ? module->name : "";
		mod_name_len = strnlen(mod_name, MB_MODNAME_MAX);
		if (mod_name_len >= MB_MODNAME_MAX) {
			format(err, errlen, "module name longer than %u bytes", MB_MODNAME_MAX - 1);
			return MB_ERR_TOO_LONG;
		}
		mod_start = plan.kernel_end < MB_HIGH_RAM ? MB_HIGH_RAM : plan.kernel_end;
		mod_start = (mod_start + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
		mod_end = mod_start + module->len;
		if (mod_end > mem->ram_bytes || mod_end > 0xffffffffull) {
			format(err, errlen,
			       "module of 0x%zx bytes at 0x%llx does not fit in guest RAM "
			       "(0x%llx bytes)",
			       module->len, (unsigned long long)mod_start,
			       (unsigned long long)mem->ram_bytes);
			return MB_ERR_RANGE;
		}
	}

	uint64_t base = place_info(&plan, mod_start, mod_end, mem->ram_bytes);
	if (!base) {
		format(err, errlen,
		       "no room for the multiboot information (0x%x bytes): the kernel 0x%x-0x%x "
		       "and module leave no free space in guest RAM (0x%llx bytes)",
		       MB_INFO_AREA_SIZE, plan.kernel_start, plan.kernel_end,
		       (unsigned long long)mem->ram_bytes);
		return MB_ERR_RANGE;
	}

	/* Pass 2: the kernel, its BSS, the module, then the information. */
	for (int i = 0; i < plan.nseg; i++) {
		const struct segment *s = &plan.seg[i];
		rc = mem_write(mem, s->paddr, image + s->file_off, s->filesz, err, errlen);
		if (!rc)
			rc = mem_zero(mem, (uint64_t)s->paddr + s->filesz, s->memsz - s->filesz,
				      err, errlen);
		if (rc)
			return rc;
	}
	if (module) {
		rc = mem_write(mem, mod_start, module->data, module->len, err, errlen);
		if (rc)
			return rc;
	}

	uint8_t info[MB_INFO_SIZE];
	memset(info, 0, sizeof(info));
	uint32_t flags = MB_INFO_MEM | MB_INFO_CMDLINE | MB_INFO_MMAP | MB_INFO_LOADER_NAME;
	wr32(info + MB_INFO_OFF_MEM_LOWER, MB_MEM_LOWER_KIB);
	uint64_t upper_kib = (mem->ram_bytes - MB_HIGH_RAM) / 1024;
	wr32(info + MB_INFO_OFF_MEM_UPPER,
	      upper_kib > 0xffffffffull ? 0xffffffffu : (uint32_t)upper_kib);
	wr32(info + MB_INFO_OFF_CMDLINE, (uint32_t)(base + MB_AREA_CMDLINE));
	wr32(info + MB_INFO_OFF_MMAP_LENGTH, MB_MMAP_ENTRIES * MB_MMAP_ENTRY_SIZE);
	wr32(info + MB_INFO_OFF_MMAP_ADDR, (uint32_t)(base + MB_AREA_MMAP));
	wr32(info + MB_INFO_OFF_LOADER_NAME, (uint32_t)(base + MB_AREA_LOADER_NAME));
	if (module) {
		uint8_t mod[MB_MODULE_SIZE];
		flags |= MB_INFO_MODS;
		wr32(info + MB_INFO_OFF_MODS_COUNT, 1);
		wr32(info + MB_INFO_OFF_MODS_ADDR, (uint32_t)(base + MB_AREA_MODS));
		wr32(mod, (uint32_t)mod_start);
		wr32(mod + 4, (uint32_t)mod_end);
		wr32(mod + 8, (uint32_t)(base + MB_AREA_MODNAME));
		wr32(mod + 12, 0);
		rc = mem_write(mem, base + MB_AREA_MODS, mod, sizeof(mod), err, errlen);
		if (!rc)
			rc = mem_write(mem, base + MB_AREA_MODNAME, mod_name, mod_name_len + 1, err,
				       errlen);
		if (rc)
			return rc;
	}
	wr32(info + MB_INFO_OFF_FLAGS, flags);

	uint8_t mmap[MB_MMAP_ENTRIES * MB_MMAP_ENTRY_SIZE];
	build_mmap(mmap, mem->ram_bytes);
	rc = mem_write(mem, base + MB_AREA_MMAP, mmap, sizeof(mmap), err, errlen);
	if (!rc)
		rc = mem_write(mem, base + MB_AREA_LOADER_NAME, MB_LOADER_NAME,
			       sizeof(MB_LOADER_NAME), err, errlen);
	if (!rc)
		rc = mem_write(mem, base + MB_AREA_CMDLINE, cmd, cmd_len + 1, err, errlen);
	if (!rc)
		rc = mem_write(mem, base + MB_AREA_INFO, info, sizeof(info), err, errlen);
	if (rc)
		return rc;

	out->eip = plan.entry;
	out->eax = MB_BOOT_MAGIC;
	out->ebx = (uint32_t)(base + MB_AREA_INFO);
	out->kernel_start = plan.kernel_start;
	out->kernel_end = plan.kernel_end;
	out->module_start = (uint32_t)mod_start;
	out->module_end = (uint32_t)mod_end;
	return MB_OK;
}
