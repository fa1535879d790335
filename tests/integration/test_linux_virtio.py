"""The stock Debian kernels with the hypervisor's own virtio devices (issue
12): virtio-blk on RAM disks made from boot modules, virtio-console (hvc0)
and virtio-rng, each a modern virtio-pci function with MSI-X on the VM's
PCI bus. The guest's checks (scripts/build-linux-guest.sh's /init) were
held to QEMU's own virtio devices first
(test_linux_guest_virtio_reference.py): here the same guest must see the
same on the hypervisor's.

What each Linux VM reports and the tests check:
  LINUX-GUEST-PCI      its functions (lspci-like, from sysfs), bound to virtio-pci
  LINUX-GUEST-VIRTIO-IRQS  its virtio interrupts in /proc/interrupts (MSI-X: one a queue)
  LINUX-GUEST-BLK      /dev/vda (ext4 from mke2fs -d) mounted, every file's sha256 as
                       built, a new file written, the disk remounted, the file read back
  LINUX-GUEST-BLK2     /dev/vdb (raw, read-only): size and the sha256 of its first MiB
  LINUX-GUEST-HWRNG    64 bytes from /dev/hwrng (virtio_rng.0)
  LINUX-GUEST-HVC      hvc0 exists; the guest greets there and runs a shell on it
"""

import hashlib
import os
import re
import shutil
import subprocess

import pytest

from hvconsole import PROMPT, boot, command
from hvrun import BUILD, ROOT, bochs, qemu, vm_file, vm_stops
from test_linux import check_linux, generic_files

GUEST = os.path.join(BUILD, "linux-guest")
KERNEL, INITRD = os.path.join(GUEST, "vmlinuz"), os.path.join(GUEST, "initrd.img")
DISK, DATA = os.path.join(GUEST, "disk.img"), os.path.join(GUEST, "data.img")
WORK = os.path.join(BUILD, "test-linux-virtio")

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(f) for f in (KERNEL, INITRD, DISK, DATA)),
    reason="no Linux guest or disk images: run make linux-guest")

MARK = re.compile(r"^\[(\S+?)\] (LINUX-GUEST-[\w-]+) ?(.*?)\r?$", re.M)


def marks(log, name):
    """{marker: [lines]} of VM name's COM1 output."""
    out = {}
    for m in MARK.finditer(log):
        if m.group(1) == name:
            out.setdefault(m.group(2), []).append(m.group(3))
    return out


def copy(src, name):
    """A copy of src named name (VM files name modules by base name)."""
    os.makedirs(WORK, exist_ok=True)
    dst = os.path.join(WORK, name)
    if not os.path.exists(dst) or os.path.getmtime(dst) < os.path.getmtime(src):
        shutil.copyfile(src, dst)
    return dst


def data_image(tag, mib=64):
    """A raw image of mib MiB whose every sector names `tag` (build-disk-images.sh --data)."""
    os.makedirs(WORK, exist_ok=True)
    path = os.path.join(WORK, "data-%s.img" % tag)
    if not os.path.exists(path):
        subprocess.run([os.path.join(ROOT, "scripts", "build-disk-images.sh"), "--data", tag,
                        path, str(mib)], check=True, capture_output=True)
    return path


def first_mib_sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read(1 << 20)).hexdigest()


def linux_virtio_vm(name, kernel, initrd, disk, data, vcpus=1, extra="quiet", console=True,
                    memory=192):
    more = ('ramdisk = "/boot/vms/%s"\n' % os.path.basename(initrd) +
            "disk = [ 'format=raw, vdev=xvda, access=rw, target=/boot/vms/%s',\n"
            "         'vdev=xvdb, access=ro, target=/boot/vms/%s' ]\n" % (
                os.path.basename(disk), os.path.basename(data)))
    if console:
        more += "virtio_console = 1\n"
    return vm_file(name, kernel, memory=memory, vcpus=vcpus, extra="console=ttyS0 " + extra,
                   more=more)


def check_virtio(log, name, data):
    m = marks(log, name)
    assert "LINUX-GUEST-DONE" in m, log[-6000:]
    assert m["LINUX-GUEST-MODULES"] == ["loaded=%s failed=none" % m["LINUX-GUEST-MODULES"][0]
                                        .split("loaded=")[1].split()[0]], m
    # the functions at the slots vm_virtio.h promises, bound to the stock driver
    pci = {line.split()[0]: line.split()[1:] for line in m["LINUX-GUEST-PCI"]}
    assert pci["0000:00:00.0"][0] == "8086:29c0", pci
    want = {"0000:00:03.0": "1af4:1043", "0000:00:04.0": "1af4:1044",
            "0000:00:08.0": "1af4:1042", "0000:00:09.0": "1af4:1042"}
    for slot, ids in want.items():
        assert pci[slot][0] == ids and pci[slot][2] == "virtio-pci", (slot, pci)
    # MSI-X: a config vector and one a queue for each device (2 disks x 2,
    # console 3, rng 2 = 9); with INTx Linux would name none of them this way
    irqs = m["LINUX-GUEST-VIRTIO-IRQS"][0].split()
    assert int(irqs[0]) >= 9, m["LINUX-GUEST-VIRTIO-IRQS"]
    names = " ".join(" ".join(line.split()[1:]) for line in m["LINUX-GUEST-VIRTIO-IRQS"])
    assert re.search(r"virtio\d-req\.0", names) and re.search(r"virtio\d-config", names), names
    assert m["LINUX-GUEST-BLK"] == ["ok files=5 write=ok"], m
    blk2 = dict(kv.split("=", 1) for kv in m["LINUX-GUEST-BLK2"][0].split())
    assert blk2["size"] == str(os.path.getsize(data)) and blk2["ro"] == "1", blk2
    assert blk2["sha"] == first_mib_sha(data), blk2
    assert m["LINUX-GUEST-HWRNG"][0].startswith("ok bytes=64"), m
    assert m["LINUX-GUEST-HVC"] == ["ok"], m
    assert "[%s/hvc0] LINUX-GUEST-HVC-HELLO" % name in log, log[-4000:]


def test_generic_and_cloud_kernels_with_their_own_disks_on_svm():
    """Two VMs at once, the generic kernel (what servers run) and the cloud
    one, each with its own two disks: each reads its own data, neither the
    other's, and writes to its own ext4 disk survive a remount."""
    gk, gi = generic_files()
    data_a, data_b = data_image("vm-a"), data_image("vm-b")
    disk_a, disk_b = copy(DISK, "disk-a.img"), copy(DISK, "disk-b.img")
    run = qemu(smp=2, spare_cpu0=True, mem="1G", timeout=400, modules=[
        linux_virtio_vm("gen", gk, gi, disk_a, data_a), gk, gi, disk_a, data_a,
        linux_virtio_vm("cloud", KERNEL, INITRD, disk_b, data_b), KERNEL, INITRD, disk_b,
        data_b])
    assert vm_stops(run.log) == {"gen": ("poweroff", 0), "cloud": ("poweroff", 0)}, run
    check_linux(run, "gen", cpus=1, memory=192, flavour="generic")
    check_linux(run, "cloud", cpus=1, memory=192)
    check_virtio(run.log, "gen", data_a)
    check_virtio(run.log, "cloud", data_b)
    assert first_mib_sha(data_a) != first_mib_sha(data_b)
    assert "unknown MSR" not in run.log and "needs reset" not in run.log, run
    assert run.status == 0, run


def test_cloud_kernel_with_virtio_devices_on_vmx_under_bochs():
    """The cloud kernel on Intel VT-x (Bochs Haswell; a few minutes, nested in
    an emulator): the whole Linux check, and the same four devices found and used.
    Two things cut its time, neither what it checks: a 2 MiB read-only disk
    instead of the 64 MiB data.img (GRUB reads every module through Bochs'
    BIOS at about 1-2 MiB/s: 64 MiB were a third of the test), and
    cryptomgr.notests (the kernel's crypto self-tests took a third of the
    guest's boot under Bochs' SIMD emulation; they test Linux, not the
    hypervisor, whose one vCPU here never shares its FPU state)."""
    disk = copy(DISK, "disk-x.img")
    data = data_image("bochs", mib=2)
    run = bochs(smp=2, mem_mb=512, timeout=900, until=r"vm vx stopped", modules=[
        linux_virtio_vm("vx", KERNEL, INITRD, disk, data, memory=160,
                        extra="quiet cryptomgr.notests"), KERNEL, INITRD, disk, data])
    assert run.report()["virtualization"] == "Intel VT-x (VMX)"
    assert vm_stops(run.log).get("vx") == ("poweroff", 0), run
    check_linux(run, "vx", cpus=1, memory=160)
    check_virtio(run.log, "vx", data)


def test_shell_on_hvc0_and_the_device_verbs():
    """`console NAME` reaches the guest's shell on hvc0 (COM1 goes on as
    before); pci-list and block-list show the devices and what the guest
    did with its disks."""
    disk = copy(DISK, "disk-s.img")
    cfg = linux_virtio_vm("sh", KERNEL, INITRD, disk, DATA, extra="quiet hv.shell")
    child = boot([(cfg, KERNEL), (cfg, INITRD), (cfg, disk), (cfg, DATA)], smp=2)
    try:
        child.expect(r"\[sh\] LINUX-GUEST-DONE", timeout=300)
        child.send("\r")
        child.expect_exact(PROMPT, timeout=30)
        pci = command(child, "pci-list sh")
        blocks = command(child, "block-list sh")
        child.sendline("console sh")
        child.expect(r"hvc0# ", timeout=30)
        child.sendline("echo hvc-$((6*7)) on $(tty)")
        child.expect(r"hvc-42 on /dev/hvc0", timeout=30)
        child.send("\x1d")  # Ctrl-]: detach
        child.expect_exact(PROMPT, timeout=30)
    finally:
        child.terminate(force=True)
    for slot, ids in (("00:03.0", "1af4:1043"), ("00:04.0", "1af4:1044"),
                      ("00:08.0", "1af4:1042"), ("00:09.0", "1af4:1042")):
        assert re.search(r"%s\s+%s" % (re.escape(slot), ids), pci), pci
    assert "MSI-X" in pci, pci
    rows = {line.split()[0]: line.split() for line in blocks.splitlines() if line[:3] == "xvd"}
    assert set(rows) == {"xvda", "xvdb"}, blocks
    # xvda: 24 MiB, writable, written by the guest's check; xvdb: read-only, read only
    assert "24 MiB" in " ".join(rows["xvda"]) and "rw" in rows["xvda"], blocks
    # Vdev Slot State Size(2 words) RW Reads Writes ...: the guest wrote its file
    assert int(rows["xvda"][7]) > 0 and int(rows["xvda"][6]) > 0, blocks
    assert "ro" in rows["xvdb"] and "active" in rows["xvdb"], blocks
    assert "/boot/vms/disk-s.img" in blocks and "/boot/vms/data.img" in blocks, blocks


def test_intx_when_the_driver_does_not_use_msi():
    """With `pci=nomsi` Linux drives the same devices through INTA and the
    ISR register: the _PRT's GSIs 16-19, level-triggered and shared."""
    disk = copy(DISK, "disk-i.img")
    run = qemu(smp=2, spare_cpu0=True, mem="1G", timeout=300, modules=[
        linux_virtio_vm("intx", KERNEL, INITRD, disk, DATA, extra="quiet pci=nomsi"),
        KERNEL, INITRD, disk, DATA])
    assert vm_stops(run.log) == {"intx": ("poweroff", 0)}, run
    m = marks(run.log, "intx")
    assert m["LINUX-GUEST-VIRTIO-IRQS"][0].split()[0] == "0", m  # no MSI vector at all
    assert m["LINUX-GUEST-BLK"] == ["ok files=5 write=ok"], m
    assert m["LINUX-GUEST-BLK2"][0].split()[2] == "sha=" + first_mib_sha(DATA), m
    assert m["LINUX-GUEST-HWRNG"][0].startswith("ok bytes=64"), m
    assert m["LINUX-GUEST-HVC"] == ["ok"], m
    # the guest's ISR reads acknowledged its interrupts
    isr = re.findall(r"^vm intx disk xvd[ab]: .* (\d+) interrupts, (\d+) isr reads", run.log,
                     re.M)
    assert isr and all(int(i) > 0 and int(r) > 0 for i, r in isr), run
