# The hypervisor's build. `make` builds build/hv.elf, `make iso` the bootable
# image, `make run` boots it under QEMU, `make test` runs every test.

BUILD := build
CC := gcc
PYTHON := /usr/bin/python3

KERNEL_DIRS := boot kernel drivers vmx svm ept guest
KERNEL_C := $(shell find $(KERNEL_DIRS) -name '*.c' 2>/dev/null | sort)
KERNEL_S := $(shell find $(KERNEL_DIRS) -name '*.S' 2>/dev/null | sort)
KERNEL_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(KERNEL_C)) $(patsubst %.S,$(BUILD)/obj/%.o,$(KERNEL_S))

# lwIP 2.1.3, the management interface's TCP/IP stack: Debian's source
# package, unpacked into $(LWIP_SRC_CACHE) by scripts/fetch-lwip.sh on the
# first build (never committed), compiled freestanding with our
# kernel/mgmt/lwip/lwipopts.h and arch/cc.h. The files of lwIP 2.1.3's
# src/core, src/core/ipv4 and src/netif/ethernet.c (what the options turn
# off compiles to nothing).
LWIP_SRC_CACHE ?= $(BUILD)/lwip-src
LWIP_STAMP := $(LWIP_SRC_CACHE)/src/include/lwip/init.h
LWIP_FILES := $(addprefix core/,altcp.c altcp_alloc.c altcp_tcp.c def.c dns.c inet_chksum.c init.c \
	ip.c mem.c memp.c netif.c pbuf.c raw.c stats.c sys.c tcp.c tcp_in.c tcp_out.c timeouts.c udp.c) \
	$(addprefix core/ipv4/,autoip.c dhcp.c etharp.c icmp.c igmp.c ip4.c ip4_addr.c ip4_frag.c) \
	netif/ethernet.c
LWIP_OBJ := $(patsubst %.c,$(BUILD)/obj/lwip/%.o,$(LWIP_FILES))
LWIP_INC := -Ikernel/mgmt/lwip -Ikernel/mgmt/lwip/libc -I$(LWIP_SRC_CACHE)/src/include
KERNEL_OBJ += $(LWIP_OBJ)

# Freestanding, no SSE/x87 state in the host kernel, frame pointers for backtraces.
KCFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-builtin -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) -I. \
	-mno-red-zone -mgeneral-regs-only -mno-mmx -mno-sse -mno-sse2 -mno-80387 \
	-mcmodel=small -fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer \
	-fno-asynchronous-unwind-tables -fno-strict-aliasing -fcf-protection=none \
	-MMD -MP
KASFLAGS := -g -I. -D__ASSEMBLY__ -MMD -MP
KLDFLAGS := -nostdlib -static -no-pie -Wl,-T,linker.ld -Wl,-z,max-page-size=0x1000 \
	-Wl,--build-id=none -Wl,-z,noexecstack

.PHONY: all iso usb-esp run test test-slow unit integration bench fuzz deps clean help
all: $(BUILD)/hv.elf $(BUILD)/hvboot.efi

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -c $< -o $@

# Third-party code: the kernel's flags, its warnings shown but not fatal.
$(LWIP_STAMP):
	@scripts/fetch-lwip.sh $(LWIP_SRC_CACHE)
# (objects' dependency files name lwIP's sources: a cache removed since is fetched again)
$(LWIP_SRC_CACHE)/src/%.c: | $(LWIP_STAMP)
	@:

$(LWIP_OBJ): $(BUILD)/obj/lwip/%.o: | $(LWIP_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      lwip/$*.c"
	@$(CC) $(filter-out -Werror,$(KCFLAGS)) $(LWIP_INC) -c $(LWIP_SRC_CACHE)/src/$*.c -o $@

# The management glue includes lwIP's headers.
MGMT_OBJ := $(filter $(BUILD)/obj/kernel/mgmt/%,$(KERNEL_OBJ))
$(MGMT_OBJ): KCFLAGS += $(LWIP_INC)
$(MGMT_OBJ): | $(LWIP_STAMP)

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(KASFLAGS) -c $< -o $@

# Two link passes: the second adds the symbol table that backtraces print,
# generated from the first (code addresses do not move: the table sits in .rodata).
$(BUILD)/hv-nosyms.elf: $(KERNEL_OBJ) linker.ld
	@echo "  LD      $@"
	@$(CC) $(KLDFLAGS) -o $@ $(KERNEL_OBJ) -lgcc

$(BUILD)/ksyms.o: $(BUILD)/hv-nosyms.elf scripts/gen-ksyms.sh
	@scripts/gen-ksyms.sh $< > $(BUILD)/ksyms.S
	@$(CC) $(KASFLAGS) -c $(BUILD)/ksyms.S -o $@

$(BUILD)/hv.elf: $(KERNEL_OBJ) $(BUILD)/ksyms.o linker.ld
	@echo "  LD      $@"
	@$(CC) $(KLDFLAGS) -o $@ $(KERNEL_OBJ) $(BUILD)/ksyms.o -lgcc
	@scripts/check-image.sh $@ $(BUILD)/hv-nosyms.elf

# hvboot.efi, the UEFI loader (loader/): built against Debian's gnu-efi
# (scripts/install-deps.sh installs it; nothing of it is committed). A
# position-independent ELF shared object linked with gnu-efi's start code and
# script, then turned into a PE32+ application by objcopy (gnu-efi README).
GNUEFI_LDS := /usr/lib/elf_x86_64_efi.lds
GNUEFI_CRT0 := /usr/lib/crt0-efi-x86_64.o
EFI_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -I. -I/usr/include/efi -I/usr/include/efi/x86_64 \
	-ffreestanding -fpic -fshort-wchar -mno-red-zone -fno-stack-protector -fno-strict-aliasing \
	-maccumulate-outgoing-args -mgeneral-regs-only -fcf-protection=none \
	-Wno-unused-parameter -MMD -MP
EFI_OBJ := $(BUILD)/efi/hvboot.o $(BUILD)/efi/hvcfg.o $(BUILD)/efi/mb2info.o $(BUILD)/efi/elfimage.o \
	$(BUILD)/efi/handover.o

$(BUILD)/efi/%.o: loader/%.c | $(GNUEFI_LDS)
	@mkdir -p $(dir $@)
	@echo "  CCEFI   $<"
	@$(CC) $(EFI_CFLAGS) -c $< -o $@

$(BUILD)/efi/%.o: loader/%.S
	@mkdir -p $(dir $@)
	@echo "  ASEFI   $<"
	@$(CC) -c $< -o $@

$(GNUEFI_LDS):
	@scripts/install-deps.sh

$(BUILD)/hvboot.so: $(EFI_OBJ)
	@echo "  LDEFI   $@"
	@ld -nostdlib -znocombreloc -shared -Bsymbolic --no-undefined -T $(GNUEFI_LDS) \
		$(GNUEFI_CRT0) $(EFI_OBJ) -o $@ -L/usr/lib -lefi -lgnuefi

$(BUILD)/hvboot.efi: $(BUILD)/hvboot.so
	@echo "  EFI     $@"
	@objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela -j .rel.* \
		-j .rela.* -j .reloc --target efi-app-x86_64 --subsystem=10 $< $@

# The image carries the demo VMs: the Linux guest (from Debian's packages)
# and a small test guest; GRUB's first entry starts them.
DEMO_VMS := scripts/demo-vms/linux.cfg scripts/demo-vms/echo.cfg $(BUILD)/guests/echo.elf \
	$(BUILD)/linux-guest/vmlinuz $(BUILD)/linux-guest/initrd.img $(BUILD)/linux-guest/disk.img \
	$(BUILD)/mgmt.token
# Its EFI system partition also holds hvboot.efi with scripts/hv-iso.cfg,
# hv.elf and the small echo VM under \EFI\hv\ (GRUB's menu chainloads it).
ISO_ESP_FILES := $(BUILD)/hvboot.efi $(BUILD)/hv.elf scripts/hv-iso.cfg $(BUILD)/mgmt.token \
	scripts/demo-vms/echo.cfg $(BUILD)/guests/echo.elf
iso: $(BUILD)/hv.iso
$(BUILD)/hv.iso: $(BUILD)/hv.elf scripts/mkiso.sh scripts/xorriso-esp.sh scripts/grub.cfg $(DEMO_VMS) \
		$(ISO_ESP_FILES)
	@rm -rf $(BUILD)/iso-esp && mkdir -p $(BUILD)/iso-esp/EFI/hv/vms
	@cp $(BUILD)/hvboot.efi $(BUILD)/hv.elf $(BUILD)/iso-esp/EFI/hv/
	@cp scripts/hv-iso.cfg $(BUILD)/iso-esp/EFI/hv/hv.cfg
	@cp $(BUILD)/mgmt.token scripts/demo-vms/echo.cfg $(BUILD)/guests/echo.elf $(BUILD)/iso-esp/EFI/hv/vms/
	HV_ESP_EXTRA=$(BUILD)/iso-esp scripts/mkiso.sh $@ $(BUILD)/hv.elf scripts/grub.cfg $(DEMO_VMS)

# A disk image for a USB stick that boots on UEFI without GRUB: one EFI
# system partition with hvboot.efi as \EFI\BOOT\BOOTX64.EFI, hv.cfg, hv.elf
# and the demo VMs (mtools and sgdisk; see the README).
usb-esp: $(BUILD)/hv-esp.img
$(BUILD)/hv-esp.img: $(BUILD)/hvboot.efi $(BUILD)/hv.elf scripts/hv.cfg scripts/mkesp.sh $(DEMO_VMS)
	scripts/mkesp.sh $@ $(BUILD)/hvboot.efi $(BUILD)/hv.elf scripts/hv.cfg $(DEMO_VMS)

# The management API's token for the image's demo entry (mgmt_token_file=):
# random, made once per build tree, never committed. hvctl and curl use it.
$(BUILD)/mgmt.token:
	@mkdir -p $(dir $@)
	@od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >$@.tmp && echo >>$@.tmp && mv $@.tmp $@
	@echo "  TOKEN   $@ (the demo's management API token)"

$(BUILD)/linux-guest/vmlinuz $(BUILD)/linux-guest/initrd.img: scripts/build-linux-guest.sh scripts/linux-guest/blkread.c
	@scripts/build-linux-guest.sh cloud $(BUILD)/linux-guest

# The disks the Linux guest checks its virtio block devices against (an ext4
# image with a manifest, a raw data image); both kernels use the same pair.
$(BUILD)/linux-guest/disk.img $(BUILD)/linux-guest/data.img: scripts/build-disk-images.sh scripts/mke2fs.conf
	@scripts/build-disk-images.sh $(BUILD)/linux-guest

# The generic kernel every Debian server runs (machine checks, more drivers).
$(BUILD)/linux-guest-generic/vmlinuz $(BUILD)/linux-guest-generic/initrd.img: scripts/build-linux-guest.sh scripts/linux-guest/blkread.c
	@scripts/build-linux-guest.sh generic $(BUILD)/linux-guest-generic

deps:
	@scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory guests iso
	scripts/run-qemu.sh $(BUILD)/hv.iso

# Hosted unit tests: each tests/unit/test_*.c names the sources it tests on a
# line "// SOURCES: a.c b.c" and is built against cmocka.
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -I. -DHV_HOSTED -fsanitize=address,undefined \
	-fno-omit-frame-pointer

ALL_HEADERS := $(shell find $(KERNEL_DIRS) include tests/unit -name '*.h' 2>/dev/null)
$(BUILD)/unit/%: tests/unit/%.c $(KERNEL_C) $(ALL_HEADERS) $(wildcard loader/*.c loader/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $< $(shell sed -n 's@^// SOURCES:@@p' $<) -lcmocka

# Test guests: each tests/guests/NAME.c becomes build/guests/NAME.elf, a 32-bit
# multiboot1 kernel linked at 1 MiB (GUEST_LOAD_NAME := ADDR links it elsewhere)
# with the runtime in tests/guests/lib/.
# Linked with ld directly: no 32-bit libc or libgcc is needed (see the runtime).
GUEST_LOAD_lowmem := 0x8000
GUEST_ELFS := $(patsubst tests/guests/%.c,$(BUILD)/guests/%.elf,$(wildcard tests/guests/*.c))
GUEST_LIB_OBJ := $(patsubst tests/guests/lib/%,$(BUILD)/guests/lib/%.o,$(wildcard tests/guests/lib/*.c tests/guests/lib/*.S))
GUEST_CFLAGS := -m32 -std=gnu11 -ffreestanding -fno-pic -fno-pie -nostdlib -static -O2 -Wall -Wextra \
	-Werror -fno-builtin -fno-stack-protector -mgeneral-regs-only -fcf-protection=none \
	-fno-asynchronous-unwind-tables -Itests/guests/lib -MMD -MP
.PHONY: guests
guests: $(GUEST_ELFS)
.SECONDARY: $(GUEST_LIB_OBJ) $(GUEST_ELFS:.elf=.c.o)

$(BUILD)/guests/%.o: tests/guests/%
	@mkdir -p $(dir $@)
	@echo "  CC32    $<"
	@$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guests/%.elf: $(BUILD)/guests/%.c.o $(GUEST_LIB_OBJ) tests/guests/lib/guest.ld
	@echo "  LD32    $@"
	@ld -m elf_i386 -nostdlib -static --defsym=GUEST_LOAD=$(or $(GUEST_LOAD_$*),0x100000) \
		-T tests/guests/lib/guest.ld -z max-page-size=0x1000 --build-id=none -o $@ $< \
		$(GUEST_LIB_OBJ)

# Host tools the integration tests use (the kernel's parsers on real firmware data).
$(BUILD)/tools/acpi_inspect: tests/tools/acpi_inspect.c kernel/acpi/acpi.c guest/acpi_build.c \
		guest/acpi_dsdt.c guest/aml.c kernel/lib/string.c kernel/lib/format.c
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) -o $@ $^

unit: deps guests linux-guest $(UNIT_TESTS)
	@$(PYTHON) scripts/run-unit-tests.py $(UNIT_TESTS)

# The Linux test guests: the stock Debian kernels (cloud and generic) and a
# busybox initramfs.
.PHONY: linux-guest
linux-guest: deps $(BUILD)/linux-guest/vmlinuz $(BUILD)/linux-guest-generic/vmlinuz \
	$(BUILD)/linux-guest/disk.img

integration: deps iso guests linux-guest $(BUILD)/tools/acpi_inspect
	$(PYTHON) -m pytest -q --durations=25 tests/integration

# The compiles first, on every core (CI runs a plain `make test`; the 80 unit
# test binaries alone take minutes one at a time); the Linux guests' downloads
# and the tests themselves stay serial.
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: deps
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) $(BUILD)/hv.elf $(BUILD)/hvboot.efi guests \
		$(UNIT_TESTS) $(BUILD)/tools/acpi_inspect
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

# What takes minutes under emulation and stays out of `make test`: the
# generic Debian kernel SMP on VT-x under Bochs.
test-slow: deps
	@$(MAKE) --no-print-directory iso guests linux-guest
	HV_SLOW=1 $(PYTHON) -m pytest -q tests/integration/test_linux.py -k generic_kernel_smp_on_vmx

bench: deps iso guests linux-guest
	$(PYTHON) scripts/bench.py
	$(PYTHON) scripts/bench.py sched
	$(PYTHON) scripts/bench.py scale
	$(PYTHON) scripts/bench.py cores
	$(PYTHON) scripts/bench_virtio.py
	$(PYTHON) scripts/bench_storage.py
	$(PYTHON) scripts/bench_net.py
	$(PYTHON) scripts/bench_passthru.py edu

# Fuzzes the VM file parser, the virtqueue, virtio-blk, virtio-net and the GPT reader (libFuzzer, installed on demand;
# FUZZ_TARGET=vmconfig|virtqueue|virtio_blk|virtio_net|gpt|net_offload|http|json|dmar|hvcfg picks one, FUZZ_RUNS=N); not part of `make test`.
fuzz:
	tests/fuzz/run-fuzz.sh $(or $(FUZZ_TARGET),all) $(FUZZ_RUNS)

clean:
	rm -rf $(BUILD)

help:
	@echo "make run   - boot the hypervisor under QEMU (serial console on this terminal)"
	@echo "make test  - unit and integration tests"
	@echo "make iso   - build/hv.iso, bootable from CD or USB stick (BIOS and UEFI)"
	@echo "make usb-esp - build/hv-esp.img, a UEFI USB stick image without GRUB (hvboot.efi)"
	@echo "make fuzz  - fuzz the VM file parser, virtqueue, virtio-blk, virtio-net, the GPT reader, the net offloads, HTTP, JSON, DMAR and hv.cfg (FUZZ_TARGET=, FUZZ_RUNS=N)"

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
-include $(wildcard $(BUILD)/guests/*.d $(BUILD)/guests/lib/*.d $(BUILD)/efi/*.d)
