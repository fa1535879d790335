"""The hypervisor's own virtio-net driver (drivers/net/virtio_net.c) on QEMU's
virtio-net-pci with the user network: the NIC registers as eth0 with its
MAC, link and interrupt mode, and `test_net=64` sends 64 ARP requests to
QEMU's gateway one after another, each answered (TX, RX and the rings'
wrap-around end to end) - with MSI-X, and with polling when the device has
no MSI-X (`vectors=0`), and without the control queue's RX mode commands. A transitional device is driven through its modern
capabilities, a legacy-only one is refused with a message. At the console,
`pci-list` shows the driver bound, and the link going down and up at
QEMU's monitor is seen through the configuration-change interrupt.
"""

import os
import re
import socket
import tempfile
import time

from hvconsole import PROMPT, boot, command
from hvrun import qemu

DONE = r"hv: exit status \d+"
MAC = r"52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}"


def nic(device, addr, netdev="n0"):
    return ["-netdev", "user,id=%s" % netdev,
            "-device", "%s,netdev=%s,addr=%s" % (device, netdev, addr)]


def net_test(device, rounds=64):
    args = ["-nic", "none"] + nic(device, "4")
    run = qemu(smp=2, cmdline="test_net=%d" % rounds, extra_args=args, timeout=90, until=DONE)
    assert run.status == 0, run
    assert "net-test: eth0: %d of %d ARP round trips ok" % (rounds, rounds) in run.log, run
    assert "FAILED" not in run.log and "refused" not in run.log, run
    return run


def test_modern_msix():
    run = net_test("virtio-net-pci,disable-legacy=on")
    assert re.search(r"^net: eth0: virtio-net %s at 0000:00:04\.0, link up, msi-x$" % MAC,
                     run.log, re.M), run
    assert re.search(r"^pci 0000:00:04\.0: 1af4:1041 Ethernet controller "
                     r"\[driver virtio-net: eth0\]$", run.log, re.M), run
    assert re.search(r"^net-test: eth0: ARP reply from 10\.0\.2\.2 at 52:55:0a:00:02:02 after "
                     r"\d+ us$", run.log, re.M), run


def test_polling_without_msix():
    run = net_test("virtio-net-pci,disable-legacy=on,vectors=0")
    assert re.search(r"^net: eth0: virtio-net %s at 0000:00:04\.0, link up, polling$" % MAC,
                     run.log, re.M), run


def test_no_ctrl_rx_speed_and_wrap_around():
    """Without CTRL_RX (nothing to tell the device), with a speed; 300 rounds go
    round the 256-entry rings."""
    run = net_test("virtio-net-pci,disable-legacy=on,ctrl_rx=off,speed=1000,duplex=full", 300)
    assert re.search(r"^net: eth0: virtio-net %s at 0000:00:04\.0, link up 1000 Mb/s, msi-x$"
                     % MAC, run.log, re.M), run


def test_transitional_and_legacy_only():
    """1af4:1000 with the modern capabilities is eth0; one without them is refused."""
    args = (["-nic", "none"] + nic("virtio-net-pci", "4") +
            nic("virtio-net-pci,disable-modern=on,mac=52:54:00:00:00:05", "5", "n1"))
    run = qemu(smp=2, cmdline="test_net=8", extra_args=args, timeout=90, until=DONE)
    assert run.status == 0, run
    assert re.search(r"^net: eth0: virtio-net %s at 0000:00:04\.0, link up, msi-x$" % MAC,
                     run.log, re.M), run
    assert re.search(r"^pci 0000:00:05\.0: virtio-net: legacy-only virtio-net; this driver "
                     r"needs virtio 1\.x$", run.log, re.M), run
    assert re.search(r"^pci 0000:00:05\.0: 1af4:1000 Ethernet controller \[driver virtio-net: "
                     r"failed: legacy-only", run.log, re.M), run
    assert "net-test: eth0: 8 of 8 ARP round trips ok" in run.log, run
    assert "eth1" not in run.log, run


def monitor(path, line):
    """One command at QEMU's human monitor on a Unix socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.settimeout(5)
        s.sendall((line + "\n").encode())
        time.sleep(0.3)
        try:
            s.recv(4096)
        except socket.timeout:
            pass


def link_cycle(child, mon):
    monitor(mon, "set_link n0 off")
    child.expect_exact("net: eth0: link down", timeout=20)
    monitor(mon, "set_link n0 on")
    child.expect_exact("net: eth0: link up", timeout=20)


def test_pci_list_and_link_changes():
    for device, mode in (("virtio-net-pci,disable-legacy=on", "msi-x"),
                         ("virtio-net-pci,disable-legacy=on,vectors=0", "polling")):
        work = tempfile.mkdtemp(prefix="hnic-")
        mon = os.path.join(work, "mon.sock")
        args = ["-nic", "none", "-monitor", "unix:%s,server=on,wait=off" % mon] + \
            nic(device, "4")
        child = boot([], smp=2, debug_exit=False, extra_args=args)
        try:
            child.expect(r"net: eth0: virtio-net \S+ at 0000:00:04\.0, link up, %s" % mode,
                         timeout=60)
            child.expect_exact(PROMPT, timeout=60)
            out = command(child, "pci-list")
            assert re.search(r"^0000:00:04\.0 1af4:1041 class 020000 Ethernet controller; .*"
                             r"driver virtio-net: eth0\r*$", out, re.M), out
            link_cycle(child, mon)
        finally:
            child.terminate(force=True)
