/*
 * hvboot.efi: boots the hypervisor straight from UEFI firmware, without
 * GRUB. It reads hv.cfg from its own directory on the ESP, loads hv.elf's
 * segments at their physical addresses and the modules below 4 GiB,
 * collects the memory map, ACPI RSDP, SMBIOS and the GOP framebuffer, exits
 * boot services and enters hv.elf exactly as a multiboot2 loader does
 * (Multiboot2 spec §3.3: 32-bit protected mode, paging off, EAX the magic,
 * EBX the information structure), so the hypervisor has one entry path.
 *
 * Every failure before the hand-over is printed on the firmware console
 * (which OVMF and most servers mirror to the serial port) and waits for a
 * key, then returns to the firmware's boot manager.
 *
 * Built against Debian's gnu-efi (see the Makefile); firmware calls go
 * through uefi_call_wrapper (System V to Microsoft calling convention).
 */
#include <efi.h>
#include <efilib.h>

#include "loader/elfimage.h"
#include "loader/hvcfg.h"
#include "loader/mb2info.h"

#define LOADER_NAME "hvboot.efi"
#define CFG_NAME "hv.cfg"
#define MB2_LOADER_MAGIC 0x36d76289u
#define BELOW_4G 0xffffffffull

/* handover.S: copied below 4 GiB and called there. */
extern char handover_start[], handover_end[];
typedef void (*handover_fn)(uint32_t entry, uint32_t mbi);

static EFI_HANDLE image_handle;
static EFI_FILE_HANDLE root;
static CHAR16 dir[512]; /* the loader's directory, ending in '\' */
static struct hvcfg cfg;

static void wait_key(void)
{
	EFI_INPUT_KEY key;
	UINTN index;
	/* drop keys typed earlier, then wait for a fresh one */
	while (uefi_call_wrapper(ST->ConIn->ReadKeyStroke, 2, ST->ConIn, &key) == EFI_SUCCESS)
		;
	uefi_call_wrapper(BS->WaitForEvent, 3, 1, &ST->ConIn->WaitForKey, &index);
	uefi_call_wrapper(ST->ConIn->ReadKeyStroke, 2, ST->ConIn, &key);
}

static CHAR16 read_key(void)
{
	EFI_INPUT_KEY key;
	UINTN index;
	uefi_call_wrapper(BS->WaitForEvent, 3, 1, &ST->ConIn->WaitForKey, &index);
	if (uefi_call_wrapper(ST->ConIn->ReadKeyStroke, 2, ST->ConIn, &key) != EFI_SUCCESS)
		return 0;
	return key.UnicodeChar;
}

/* "\EFI\BOOT\" + "vms/x.elf" as "\EFI\BOOT\vms\x.elf"; false when too long. */
static BOOLEAN make_path(CHAR16 *out, UINTN size, const char *rel)
{
	UINTN n = 0;
	for (UINTN i = 0; dir[i]; i++) {
		if (n + 1 >= size)
			return FALSE;
		out[n++] = dir[i];
	}
	for (; *rel; rel++) {
		if (n + 1 >= size)
			return FALSE;
		out[n++] = *rel == '/' ? L'\\' : (CHAR16)(uint8_t)*rel;
	}
	out[n] = 0;
	return TRUE;
}

/*
 * Opens rel and learns its size. Errors are printed here, naming the file
 * as the user wrote it in hv.cfg.
 */
static EFI_STATUS open_file(const char *rel, EFI_FILE_HANDLE *fh, UINT64 *size)
{
	CHAR16 path[1024];
	if (!make_path(path, sizeof(path) / sizeof(path[0]), rel)) {
		Print(L"hvboot: the path %a is too long\n", rel);
		return EFI_INVALID_PARAMETER;
	}
	EFI_STATUS st = uefi_call_wrapper(root->Open, 5, root, fh, path, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st)) {
		Print(L"hvboot: cannot open %s: %r\n", path, st);
		return st;
	}
	EFI_FILE_INFO *info = LibFileInfo(*fh);
	if (!info) {
		Print(L"hvboot: cannot learn the size of %s\n", path);
		uefi_call_wrapper((*fh)->Close, 1, *fh);
		return EFI_DEVICE_ERROR;
	}
	*size = info->FileSize;
	BOOLEAN is_dir = (info->Attribute & EFI_FILE_DIRECTORY) != 0;
	FreePool(info);
	if (is_dir) {
		Print(L"hvboot: %s is a directory, not a file\n", path);
		uefi_call_wrapper((*fh)->Close, 1, *fh);
		return EFI_INVALID_PARAMETER;
	}
	return EFI_SUCCESS;
}

static EFI_STATUS read_all(EFI_FILE_HANDLE fh, const char *rel, void *buf, UINT64 size)
{
	UINT8 *p = buf;
	UINT64 done = 0;
	while (done < size) {
		UINTN n = size - done;
		EFI_STATUS st = uefi_call_wrapper(fh->Read, 3, fh, &n, p + done);
		if (EFI_ERROR(st) || n == 0) {
			Print(L"hvboot: reading %a failed after %ld of %ld bytes: %r\n", rel, done,
			      size, EFI_ERROR(st) ? st : EFI_END_OF_FILE);
			return EFI_ERROR(st) ? st : EFI_END_OF_FILE;
		}
		done += n;
	}
	return EFI_SUCCESS;
}

/* A whole file in pool memory (the configuration, the kernel image). */
static EFI_STATUS load_pool(const char *rel, void **buf, UINT64 *size)
{
	EFI_FILE_HANDLE fh;
	EFI_STATUS st = open_file(rel, &fh, size);
	if (EFI_ERROR(st))
		return st;
	*buf = AllocatePool(*size ? *size : 1);
	if (!*buf) {
		Print(L"hvboot: no memory for %a (%ld bytes)\n", rel, *size);
		st = EFI_OUT_OF_RESOURCES;
	} else {
		st = read_all(fh, rel, *buf, *size);
	}
	uefi_call_wrapper(fh->Close, 1, fh);
	return st;
}

/* Pages below 4 GiB (the multiboot2 tags and our boot page tables reach no further). */
static EFI_STATUS alloc_low(UINT64 bytes, EFI_MEMORY_TYPE type, EFI_PHYSICAL_ADDRESS *pa)
{
	*pa = BELOW_4G;
	return uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, type,
				 EFI_SIZE_TO_PAGES(bytes ? bytes : 1), pa);
}

/* A module: page-aligned below 4 GiB, as GRUB's module2 places them. */
static EFI_STATUS load_module(const struct hvcfg_module *m, struct mb2_module_in *out)
{
	EFI_FILE_HANDLE fh;
	UINT64 size;
	EFI_STATUS st = open_file(m->path, &fh, &size);
	if (EFI_ERROR(st))
		return st;
	EFI_PHYSICAL_ADDRESS pa;
	st = alloc_low(size, EfiLoaderData, &pa);
	if (EFI_ERROR(st)) {
		Print(L"hvboot: no memory below 4 GiB for %a (%ld bytes): %r\n", m->path, size, st);
	} else {
		st = read_all(fh, m->path, (void *)(UINTN)pa, size);
		out->start = pa;
		out->end = pa + size;
		out->cmdline = m->cmdline;
	}
	uefi_call_wrapper(fh->Close, 1, fh);
	return st;
}

/*
 * hv.elf's loadable segments at their physical addresses: the image is
 * linked to run there. Memory already taken is an error in words.
 */
static EFI_STATUS load_kernel(const char *rel, UINT32 *entry)
{
	void *file;
	UINT64 size;
	static struct elfimage img;
	EFI_STATUS st = load_pool(rel, &file, &size);
	if (EFI_ERROR(st))
		return st;
	const char *why = elfimage_check(file, size, &img);
	if (why) {
		Print(L"hvboot: %a %a\n", rel, why);
		return EFI_LOAD_ERROR;
	}
	EFI_PHYSICAL_ADDRESS taken_end = 0; /* pages this image already has (segments may share one) */
	for (unsigned i = 0; i < img.nseg; i++) {
		const struct elfimage_segment *p = &img.seg[i];
		EFI_PHYSICAL_ADDRESS base = p->paddr & ~0xfffull;
		EFI_PHYSICAL_ADDRESS end = (p->paddr + p->memsz + 0xfff) & ~0xfffull;
		if (base < taken_end && end > base)
			base = taken_end < end ? taken_end : end;
		if (end > base) {
			EFI_PHYSICAL_ADDRESS at = base;
			st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAddress, EfiLoaderData,
					       EFI_SIZE_TO_PAGES(end - base), &at);
			if (EFI_ERROR(st)) {
				Print(L"hvboot: %a needs memory at %lx-%lx, which the firmware uses "
				      L"(%r);\n        this machine cannot run this image (it is not "
				      L"relocatable)\n",
				      rel, p->paddr, p->paddr + p->memsz - 1, st);
				return st;
			}
		}
		if (end > taken_end)
			taken_end = end;
		CopyMem((void *)(UINTN)p->paddr, (UINT8 *)file + p->offset, p->filesz);
		ZeroMem((void *)(UINTN)(p->paddr + p->filesz), p->memsz - p->filesz);
	}
	*entry = img.entry;
	FreePool(file);
	return EFI_SUCCESS;
}

static BOOLEAN guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
	const UINT8 *x = (const UINT8 *)a, *y = (const UINT8 *)b;
	for (int i = 0; i < 16; i++)
		if (x[i] != y[i])
			return FALSE;
	return TRUE;
}

/* The ACPI RSDP (2.0 preferred, 1.0 as fallback) and SMBIOS (3.0 preferred). */
static void find_tables(struct mb2_input *in)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	EFI_GUID smbios3 = SMBIOS3_TABLE_GUID, smbios = SMBIOS_TABLE_GUID;
	const UINT8 *rsdp1 = NULL, *rsdp2 = NULL, *sm2 = NULL, *sm3 = NULL;

	for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];
		if (guid_eq(&t->VendorGuid, &acpi20))
			rsdp2 = t->VendorTable;
		else if (guid_eq(&t->VendorGuid, &acpi10))
			rsdp1 = t->VendorTable;
		else if (guid_eq(&t->VendorGuid, &smbios3))
			sm3 = t->VendorTable;
		else if (guid_eq(&t->VendorGuid, &smbios))
			sm2 = t->VendorTable;
	}
	if (rsdp2 && rsdp2[15] >= 2) {
		in->rsdp = rsdp2;
		in->rsdp_len = 36;
	} else if (rsdp2 || rsdp1) {
		in->rsdp = rsdp1 ? rsdp1 : rsdp2;
		in->rsdp_len = 20;
	}
	if (sm3 && sm3[6] >= 24) {
		in->smbios = sm3; /* "_SM3_": length at 6, version at 7 and 8 */
		in->smbios_len = sm3[6];
		in->smbios_major = sm3[7];
		in->smbios_minor = sm3[8];
	} else if (sm2 && sm2[5] >= 31) {
		in->smbios = sm2; /* "_SM_": length at 5, version at 6 and 7 */
		in->smbios_len = sm2[5];
		in->smbios_major = sm2[6];
		in->smbios_minor = sm2[7];
	}
}

static void mask_field(UINT32 mask, uint8_t *pos, uint8_t *size)
{
	*pos = 0;
	*size = 0;
	if (!mask)
		return;
	while (!(mask & 1)) {
		mask >>= 1;
		(*pos)++;
	}
	while (mask & 1) {
		mask >>= 1;
		(*size)++;
	}
}

/* The GOP framebuffer in its current mode (the firmware's console mode). */
static BOOLEAN find_framebuffer(struct mb2_framebuffer_in *fb)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	if (EFI_ERROR(LibLocateProtocol(&GraphicsOutputProtocol, (void **)&gop)) || !gop ||
	    !gop->Mode || !gop->Mode->Info)
		return FALSE;
	EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *mi = gop->Mode->Info;
	fb->addr = gop->Mode->FrameBufferBase;
	fb->width = mi->HorizontalResolution;
	fb->height = mi->VerticalResolution;
	fb->bpp = 32;
	fb->pitch = mi->PixelsPerScanLine * 4;
	switch (mi->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor:
		*fb = (struct mb2_framebuffer_in){fb->addr, fb->pitch, fb->width, fb->height, 32,
						  0, 8, 8, 8, 16, 8};
		break;
	case PixelBlueGreenRedReserved8BitPerColor:
		*fb = (struct mb2_framebuffer_in){fb->addr, fb->pitch, fb->width, fb->height, 32,
						  16, 8, 8, 8, 0, 8};
		break;
	case PixelBitMask:
		mask_field(mi->PixelInformation.RedMask, &fb->red_pos, &fb->red_size);
		mask_field(mi->PixelInformation.GreenMask, &fb->green_pos, &fb->green_size);
		mask_field(mi->PixelInformation.BlueMask, &fb->blue_pos, &fb->blue_size);
		break;
	default:
		return FALSE; /* blt-only: no framebuffer to write */
	}
	return fb->addr != 0;
}

/* hv.cfg's entry to boot: default=, the only one, or the user's choice. */
static int choose_entry(void)
{
	if (cfg.default_index >= 0)
		return cfg.default_index;
	if (cfg.nsections == 1)
		return 0;
	Print(L"hvboot: boot entries in " CFG_NAME L":\n");
	for (unsigned i = 0; i < cfg.nsections; i++)
		Print(L"  %d) %a\n", i + 1, cfg.sections[i].name);
	for (;;) {
		Print(L"hvboot: press 1-%d: ", cfg.nsections);
		CHAR16 c = read_key();
		if (c >= L'1' && c < L'1' + (CHAR16)cfg.nsections) {
			Print(L"%c\n", c);
			return c - L'1';
		}
		Print(L"\n");
	}
}

/* The loader's own directory on its volume, from LoadedImage->FilePath. */
static EFI_STATUS find_dir(EFI_LOADED_IMAGE *li)
{
	CHAR16 *p = DevicePathToStr(li->FilePath);
	if (!p)
		return EFI_NOT_FOUND;
	UINTN n = 0, last = 0;
	for (; p[n] && n + 2 < sizeof(dir) / sizeof(dir[0]); n++) {
		dir[n] = p[n] == L'/' ? L'\\' : p[n];
		if (dir[n] == L'\\')
			last = n + 1;
	}
	dir[last] = 0;
	if (!last) {
		dir[0] = L'\\';
		dir[1] = 0;
	}
	FreePool(p);
	return EFI_SUCCESS;
}

/*
 * The volume holding the loader's directory and hv.cfg: its own, or, when
 * GRUB chainloaded it from a CD's ISO 9660 tree (which UEFI cannot read),
 * the FAT volume that has the same directory with an hv.cfg (the ISO's ESP).
 */
static EFI_FILE_HANDLE find_root(EFI_HANDLE own)
{
	CHAR16 path[1024];
	EFI_FILE_HANDLE r, fh;
	if (!make_path(path, sizeof(path) / sizeof(path[0]), CFG_NAME))
		return NULL;
	r = own ? LibOpenRoot(own) : NULL;
	if (r) {
		if (!EFI_ERROR(uefi_call_wrapper(r->Open, 5, r, &fh, path, EFI_FILE_MODE_READ, 0))) {
			uefi_call_wrapper(fh->Close, 1, fh);
			return r;
		}
		uefi_call_wrapper(r->Close, 1, r);
	}
	UINTN n = 0;
	EFI_HANDLE *handles = NULL;
	if (EFI_ERROR(LibLocateHandle(ByProtocol, &FileSystemProtocol, NULL, &n, &handles)))
		return NULL;
	for (UINTN i = 0; i < n; i++) {
		if (handles[i] == own || !(r = LibOpenRoot(handles[i])))
			continue;
		if (!EFI_ERROR(uefi_call_wrapper(r->Open, 5, r, &fh, path, EFI_FILE_MODE_READ, 0))) {
			uefi_call_wrapper(fh->Close, 1, fh);
			Print(L"hvboot: %s is not on this loader's volume: using another one's\n",
			      path);
			FreePool(handles);
			return r;
		}
		uefi_call_wrapper(r->Close, 1, r);
	}
	FreePool(handles);
	return NULL;
}

static EFI_STATUS boot(void)
{
	EFI_LOADED_IMAGE *li;
	EFI_STATUS st = uefi_call_wrapper(BS->HandleProtocol, 3, image_handle,
					  &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(st)) {
		Print(L"hvboot: the firmware does not say where this loader came from: %r\n", st);
		return st;
	}
	if (EFI_ERROR(find_dir(li))) {
		Print(L"hvboot: cannot tell this loader's directory\n");
		return EFI_NOT_FOUND;
	}
	root = find_root(li->DeviceHandle);
	if (!root) {
		Print(L"hvboot: no FAT volume has %s" CFG_NAME L" (the loader's directory)\n", dir);
		return EFI_NOT_FOUND;
	}
	Print(L"hvboot: reading %s" CFG_NAME L"\n", dir);

	char *text;
	UINT64 len;
	st = load_pool(CFG_NAME, (void **)&text, &len);
	if (EFI_ERROR(st))
		return st;
	if (!hvcfg_parse(&cfg, text, len)) {
		char line[256];
		for (unsigned i = 0; i < cfg.nerrors; i++) {
			hvcfg_error_format(&cfg, i, CFG_NAME, line, sizeof(line));
			Print(L"hvboot: %a\n", line);
		}
		if (cfg.errors_dropped)
			Print(L"hvboot: (and more errors)\n");
		return EFI_INVALID_PARAMETER;
	}
	FreePool(text);
	const struct hvcfg_section *sec = &cfg.sections[choose_entry()];
	Print(L"hvboot: booting [%a]: %a %a\n", sec->name, sec->kernel, sec->options);

	UINT32 entry;
	st = load_kernel(sec->kernel, &entry);
	if (EFI_ERROR(st))
		return st;
	static struct mb2_module_in mods[HVCFG_MAX_MODULES];
	for (unsigned i = 0; i < sec->nmodules; i++) {
		st = load_module(&sec->modules[i], &mods[i]);
		if (EFI_ERROR(st))
			return st;
	}

	static struct mb2_framebuffer_in fb;
	struct mb2_input in = {
		.cmdline = sec->options,
		.loader_name = LOADER_NAME,
		.modules = mods,
		.nmodules = sec->nmodules,
		.efi_systab = (UINT64)(UINTN)ST,
	};
	find_tables(&in);
	if (!in.rsdp)
		Print(L"hvboot: warning: the firmware gives no ACPI tables\n");
	if (find_framebuffer(&fb))
		in.fb = &fb;

	/* the hand-over code must run where it stays mapped with paging off */
	EFI_PHYSICAL_ADDRESS ho;
	UINTN ho_len = (UINTN)(handover_end - handover_start);
	st = alloc_low(ho_len, EfiLoaderCode, &ho);
	if (EFI_ERROR(st)) {
		Print(L"hvboot: no memory below 4 GiB for the hand-over: %r\n", st);
		return st;
	}
	CopyMem((void *)(UINTN)ho, handover_start, ho_len);

	/*
	 * Room for the final memory map and the information built from it,
	 * allocated now: between GetMemoryMap and ExitBootServices nothing
	 * may allocate. The slack covers the descriptors these allocations add.
	 */
	UINTN map_size = 0, key, desc_size;
	UINT32 desc_ver;
	uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, NULL, &key, &desc_size, &desc_ver);
	if (!desc_size) {
		Print(L"hvboot: the firmware gives no memory map\n");
		return EFI_DEVICE_ERROR;
	}
	UINTN map_cap = map_size + 32 * desc_size;
	in.efi_desc_size = desc_size;
	UINTN info_cap = mb2_size_bound(&in, map_cap);
	UINTN scratch_n = map_cap / desc_size + 1;
	EFI_PHYSICAL_ADDRESS info_pa;
	void *map = AllocatePool(map_cap);
	struct mb2_mmap_entry *scratch = AllocatePool(scratch_n * sizeof(*scratch));
	st = alloc_low(info_cap, EfiLoaderData, &info_pa);
	if (!map || !scratch || EFI_ERROR(st)) {
		Print(L"hvboot: no memory for the memory map\n");
		return EFI_OUT_OF_RESOURCES;
	}

	Print(L"hvboot: entering the hypervisor at %x\n", entry);
	/* once more if the map changed between the two calls (UEFI 2.9 §7.4) */
	for (int attempt = 0; attempt < 2; attempt++) {
		map_size = map_cap;
		st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, map, &key, &desc_size,
				       &desc_ver);
		if (EFI_ERROR(st)) {
			if (attempt == 0)
				Print(L"hvboot: GetMemoryMap failed: %r\n", st);
			return st;
		}
		in.efi_map = map;
		in.efi_map_size = map_size;
		in.efi_desc_size = desc_size;
		in.efi_desc_version = desc_ver;
		if (!mb2_build(&in, (uint8_t *)(UINTN)info_pa, info_cap, scratch, scratch_n)) {
			if (attempt == 0)
				Print(L"hvboot: the boot information does not fit\n");
			return EFI_BUFFER_TOO_SMALL;
		}
		st = uefi_call_wrapper(BS->ExitBootServices, 2, image_handle, key);
		if (!EFI_ERROR(st)) {
			__asm__ volatile("cli");
			((handover_fn)(UINTN)ho)(entry, (UINT32)info_pa);
		}
	}
	/* boot services may be half gone: try to say so anyway */
	Print(L"hvboot: ExitBootServices failed twice: %r\n", st);
	return st;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	InitializeLib(image, systab);
	image_handle = image;
	Print(L"\nhvboot: " LOADER_NAME L", the hypervisor's UEFI loader\n");
	EFI_STATUS st = boot();
	Print(L"hvboot: not booted (%r). Press a key to return to the firmware.\n", st);
	wait_key();
	return st;
}
