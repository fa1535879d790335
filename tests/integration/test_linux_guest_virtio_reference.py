"""The Linux test guest's virtio checks against QEMU's own virtio-pci devices,
on bare QEMU with no hypervisor (issue 12): the reference the hypervisor's
virtio block, console and entropy devices are held to. If this fails, the
guest's checks are wrong; if it passes and the same guest fails on the
hypervisor, the hypervisor's devices are.

The VM is scripts/qemu-virtio-reference.sh's (modern-only virtio-pci: two
block devices, entropy, a console port), here with the console port on a
socket so the test can see the guest's hello there and drive the shell it
starts on hvc0."""

import hashlib
import os
import re
import select
import shutil
import socket
import subprocess
import time

import pytest

from hvrun import BUILD

GUEST = os.path.join(BUILD, "linux-guest")
FILES = [os.path.join(GUEST, f) for f in ("vmlinuz", "initrd.img", "disk.img", "data.img")]

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(f) for f in FILES) or not shutil.which("qemu-system-x86_64"),
    reason="no Linux guest or disk images: run make linux-guest")


def boot(tmp_path, timeout=120):
    """Boots the cloud kernel with hv.shell (it stays up after its checks),
    returns (serial log, what hvc0 said, the disk copy's path) once the guest
    has printed LINUX-GUEST-DONE and answered on hvc0's shell."""
    disk = str(tmp_path / "disk.img")
    shutil.copyfile(os.path.join(GUEST, "disk.img"), disk)
    sock_path = str(tmp_path / "hvc0.sock")
    modern = ",disable-legacy=on,disable-modern=off"
    cmd = [
        "qemu-system-x86_64", "-M", "q35", "-cpu", "max", "-m", "256", "-smp", "1",
        "-display", "none", "-vga", "none", "-nic", "none", "-monitor", "none",
        "-serial", "stdio", "-no-reboot",
        "-kernel", FILES[0], "-initrd", FILES[1],
        "-append", "console=ttyS0 quiet hv.shell",
        "-drive", "file=%s,if=none,id=d0,format=raw" % disk,
        "-device", "virtio-blk-pci,drive=d0" + modern,
        "-drive", "file=%s,if=none,id=d1,format=raw,readonly=on" % FILES[3],
        "-device", "virtio-blk-pci,drive=d1" + modern,
        "-device", "virtio-rng-pci" + modern,
        "-device", "virtio-serial-pci" + modern,
        "-chardev", "socket,id=c1,path=%s,server=on,wait=off" % sock_path,
        "-device", "virtconsole,chardev=c1",
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    serial, hvc = b"", b""
    sock = None
    deadline = time.monotonic() + timeout
    asked = False
    try:
        # connect before the guest boots, so its hello is not lost
        while sock is None and time.monotonic() < deadline:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(sock_path)
                sock = s
            except OSError:
                s.close()
                time.sleep(0.05)
        assert sock is not None, "QEMU never listened on %s" % sock_path
        while time.monotonic() < deadline:
            if b"LINUX-GUEST-DONE" in serial and not asked and b"LINUX-GUEST-HVC-HELLO" in hvc:
                # the shell on hvc0: a command and its answer
                sock.sendall(b"echo hvc-shell-$((6*7))\n")
                asked = True
            if asked and re.search(rb"\bhvc-shell-42\s", hvc):
                break
            ready, _, _ = select.select([proc.stdout, sock], [], [], 0.5)
            if proc.stdout in ready:
                data = os.read(proc.stdout.fileno(), 65536)
                if not data:
                    break
                serial += data
            if sock in ready:
                data = sock.recv(65536)
                if data:
                    hvc += data
        if asked:
            # end the VM from its own virtio console
            sock.sendall(b"poweroff -f\n")
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
    finally:
        if sock is not None:
            sock.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        serial += proc.stdout.read() or b""
        proc.stdout.close()
    return serial.decode(errors="replace").replace("\r", ""), hvc.decode(errors="replace"), disk


def markers(log):
    """Every marker line as (name, rest), in order."""
    return re.findall(r"^(LINUX-GUEST-[\w-]+) ?(.*)$", log, re.M)


def test_guest_virtio_checks_pass_on_qemus_own_devices(tmp_path):
    start = time.monotonic()
    log, hvc, disk = boot(tmp_path)
    took = time.monotonic() - start
    m = markers(log)
    one = {k: v for k, v in m}
    assert "LINUX-GUEST-DONE" in one, log[-3000:]
    assert one["LINUX-GUEST-MODULES"].startswith("loaded=") and one["LINUX-GUEST-MODULES"].endswith(
        "failed=none"), one

    # the four virtio functions (modern-only device IDs: 0x1040 + type),
    # each bound to virtio-pci
    pci = [v.split() for k, v in m if k == "LINUX-GUEST-PCI"]
    virtio = sorted((ids, cls, drv) for _, ids, cls, drv in pci if ids.startswith("1af4:"))
    assert virtio == [("1af4:1042", "0x010000", "virtio-pci"), ("1af4:1042", "0x010000", "virtio-pci"),
                      ("1af4:1043", "0x078000", "virtio-pci"), ("1af4:1044", "0x00ff00", "virtio-pci")], pci

    # MSI-X: a config vector and a queue vector per block device at least
    irq_lines = [v.split() for k, v in m if k == "LINUX-GUEST-VIRTIO-IRQS"]
    names = [n for line in irq_lines for n in line[1:]]
    assert int(irq_lines[0][0]) == len(names) >= 6, irq_lines
    for want in ("virtio0-config", "virtio0-req.0", "virtio1-config", "virtio1-req.0"):
        assert want in names, names

    # vda: every file of the manifest read back, a write that survived an
    # unmount; vdb: the first MiB of data.img as the host has it
    assert one["LINUX-GUEST-BLK"] == "ok files=5 write=ok", one
    with open(FILES[3], "rb") as f:
        first_mib = hashlib.sha256(f.read(1 << 20)).hexdigest()
    assert one["LINUX-GUEST-BLK2"] == "size=67108864 ro=1 sha=%s tag=data.img" % first_mib

    assert one["LINUX-GUEST-HWRNG"] == "ok bytes=64 rng=virtio_rng.0", one
    assert one["LINUX-GUEST-HVC"] == "ok", one
    assert "LINUX-GUEST-HVC-HELLO" in hvc, hvc
    assert re.search(r"\bhvc-shell-42\s", hvc), hvc

    # what the guest wrote reached the image file: its 1 MiB and sha256 line
    if shutil.which("debugfs"):
        def cat(path):
            return subprocess.run(["debugfs", "-R", "cat " + path, disk], capture_output=True).stdout
        data, line = cat("/guest-write.bin"), cat("/guest-write.sha256").decode()
        assert len(data) == 1 << 20
        assert line.split() == [hashlib.sha256(data).hexdigest(), "guest-write.bin"], line
    print("bare-QEMU virtio reference boot: %.1f s; hvc0 said %r" % (took, hvc[-300:]))
