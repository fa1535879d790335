"""hvboot.efi: OVMF boots the hypervisor with no GRUB at all.

The EFI system partition holds only the loader (as the firmware's default
\\EFI\\BOOT\\BOOTX64.EFI), hv.cfg, hv.elf and a test VM; QEMU serves it from a
directory (fat:) or as the image scripts/mkesp.sh builds (`make usb-esp`).
Errors before the hand-over are printed on the firmware console, which OVMF
mirrors to the serial port, where the test reads them.
"""

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from hvrun import BUILD, GRUB_CFG, HV_ELF, ROOT, guest, qemu, vm_stops

HVBOOT = os.path.join(BUILD, "hvboot.efi")

CFG = """# hvboot test
[global]
default=hv
[hv]
options=debug_exit=0xf4 console=com1 {options}
kernel=hv.elf
module=vms/cpuid.cfg /boot/vms/cpuid.cfg
module=vms/cpuid.elf /boot/vms/cpuid.elf
"""


def plain(log):
    """The serial log without the firmware console's ANSI escapes."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", log)


@pytest.fixture
def esp():
    assert os.path.exists(HVBOOT), "missing %s: run make" % HVBOOT
    d = tempfile.mkdtemp(prefix="hvesp-")
    boot = os.path.join(d, "EFI", "BOOT")
    os.makedirs(os.path.join(boot, "vms"))
    shutil.copy(HVBOOT, os.path.join(boot, "BOOTX64.EFI"))
    shutil.copy(HV_ELF, os.path.join(boot, "hv.elf"))
    shutil.copy(guest("cpuid"), os.path.join(boot, "vms", "cpuid.elf"))
    with open(os.path.join(boot, "vms", "cpuid.cfg"), "w") as f:
        f.write('name = "cpuid"\nvcpus = 1\nmemory = 16\nkernel = "/boot/vms/cpuid.elf"\n')
    yield d
    shutil.rmtree(d, ignore_errors=True)


def write_cfg(esp_dir, text):
    with open(os.path.join(esp_dir, "EFI", "BOOT", "hv.cfg"), "w") as f:
        f.write(text)


def check_booted(run):
    rep = run.report()
    assert rep.get("boot loader") == "hvboot.efi (multiboot2)", run
    assert rep.get("firmware") == "UEFI", run
    assert rep.get("acpi rsdp") == "ACPI 2.0+, from the boot loader", run
    assert rep.get("cores online") == "4", run
    assert rep.get("boot modules") == "2", run
    assert vm_stops(run.log) == {"cpuid": ("exit-port", 0)}, run
    assert "[cpuid] GUEST cpuid: PASS" in run.log, run
    assert run.status == 0, run


def test_ovmf_boots_hvboot_without_grub(esp):
    write_cfg(esp, CFG.format(options=""))
    files = sorted(os.path.relpath(os.path.join(dp, f), esp)
                   for dp, _, fs in os.walk(esp) for f in fs)
    assert files == ["EFI/BOOT/BOOTX64.EFI", "EFI/BOOT/hv.cfg", "EFI/BOOT/hv.elf",
                     "EFI/BOOT/vms/cpuid.cfg", "EFI/BOOT/vms/cpuid.elf"]
    run = qemu(esp=esp, timeout=300)
    log = plain(run.log)
    assert "hvboot: booting [hv]: hv.elf" in log, run
    check_booted(run)


def test_usb_esp_image_boots(esp):
    """The GPT disk image mkesp.sh writes (what `make usb-esp` builds)."""
    write_cfg(esp, CFG.format(options=""))
    boot = os.path.join(esp, "EFI", "BOOT")
    img = os.path.join(esp, "stick.img")
    subprocess.run([os.path.join(ROOT, "scripts", "mkesp.sh"), img, HVBOOT, HV_ELF,
                    os.path.join(boot, "hv.cfg"), os.path.join(boot, "vms", "cpuid.cfg"),
                    os.path.join(boot, "vms", "cpuid.elf")], check=True)
    out = subprocess.run(["sgdisk", "-p", img], capture_output=True, text=True).stdout
    assert re.search(r"^\s+1\s+2048\s+\d+.*EF00", out, re.M), out
    run = qemu(esp=img, timeout=300)
    check_booted(run)


def test_menu_when_no_default(esp):
    """Two entries and no default=: a menu on the console, waiting for a key."""
    write_cfg(esp, "[first]\nkernel=hv.elf\n[second]\nkernel=hv.elf\n")
    run = qemu(esp=esp, timeout=240, until=r"press 1-2")
    log = plain(run.log)
    assert "1) first" in log and "2) second" in log, run
    assert "hv: x86-64 hypervisor starting" not in log, run


@pytest.mark.parametrize("case", ["bad_line", "missing_module", "bad_kernel"])
def test_broken_config_is_reported_and_waits(esp, case):
    if case == "bad_line":
        write_cfg(esp, CFG.format(options="") + "ramdisk=initrd.img\nnonsense\n")
        want = ["hvboot: hv.cfg:9: unknown key (options, kernel, module) 'ramdisk'",
                "hvboot: hv.cfg:10: expected key=value or [section], got 'nonsense'"]
    elif case == "missing_module":
        write_cfg(esp, CFG.format(options="") + "module=vms/nope.elf\n")
        want = ["hvboot: cannot open \\EFI\\BOOT\\vms\\nope.elf: Not Found"]
    else:
        write_cfg(esp, CFG.format(options="").replace("kernel=hv.elf", "kernel=vms/cpuid.cfg"))
        want = ["hvboot: vms/cpuid.cfg is not an x86-64 ELF executable"]
    run = qemu(esp=esp, timeout=240, until=r"Press a key to return to the firmware")
    log = plain(run.log)
    for w in want:
        assert w in log, run
    assert "Press a key to return to the firmware" in log, run
    assert "hv: x86-64 hypervisor starting" not in log, run


@pytest.mark.parametrize("medium", ["cd", "disk"])
def test_grub_menu_of_the_iso_chainloads_hvboot(esp, medium):
    """The image mkiso.sh builds: GRUB's hvboot entry (from scripts/grub.cfg) chainloads
    hvboot.efi, which reads its hv.cfg from the ESP: from a CD (GRUB cannot see the
    El Torito ESP; hvboot finds it) and as a disk (a USB stick: GRUB finds the ESP)."""
    with open(os.path.join(ROOT, "scripts", "grub.cfg")) as f:
        entry = re.search(r'^if \[ "\$grub_platform" = "efi" \]; then\n.*?^fi\n', f.read(),
                          re.S | re.M).group(0)
    serial_lines = GRUB_CFG.split("menuentry")[0]
    work = tempfile.mkdtemp(prefix="hviso-")
    try:
        extra = os.path.join(work, "esp")
        hv = os.path.join(extra, "EFI", "hv")
        shutil.copytree(os.path.join(esp, "EFI", "BOOT"), hv)
        os.unlink(os.path.join(hv, "BOOTX64.EFI"))
        shutil.copy(HVBOOT, os.path.join(hv, "hvboot.efi"))
        with open(os.path.join(hv, "hv.cfg"), "w") as f:
            f.write(CFG.format(options=""))
        cfg = os.path.join(work, "grub.cfg")
        with open(cfg, "w") as f:
            f.write(serial_lines + entry)
        iso = os.path.join(work, "hv.iso")
        subprocess.run([os.path.join(ROOT, "scripts", "mkiso.sh"), iso, HV_ELF, cfg], check=True,
                       env=dict(os.environ, HV_ESP_EXTRA=extra))
        run = qemu(firmware="uefi", iso=iso, iso_as_disk=medium == "disk", timeout=300)
        check_booted(run)
    finally:
        shutil.rmtree(work, ignore_errors=True)
