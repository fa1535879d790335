"""The hypervisor's own e1000e driver (drivers/net/e1000e.c) on QEMU's 82574L:
bound at boot, registered as eth0 with its MAC, link and MSI-X, and its TX
and RX paths checked end to end by `test_net=N` (N ARP requests to the user
network's gateway, each waiting for its reply); a run longer than the
rings (256 descriptors) wraps them twice over. `pci-list` shows the driver.

Not covered here: the MSI and polling fallbacks. QEMU 7.2's e1000e always
offers MSI-X (no property turns it off) and the hypervisor has no option to
refuse it, so only MSI-X is exercised under QEMU.
"""

import re
import socket
import time

from hvconsole import PROMPT, boot, command
from hvrun import qemu

DONE = r"hv: exit status \d+"
REGISTERED = (r"^net: eth0: e1000e (52:54:00:[0-9a-f:]{8}) at (0000:[0-9a-f]{2}:[0-9a-f]{2}\.\d), "
              r"link up 1000 Mb/s, msi-x$")
STOPPED = (r"^net: eth0: stopped: rx (\d+) frames \((\d+) dropped, (\d+) bad\), "
           r"tx (\d+) \((\d+) dropped, (\d+) errors\), (\d+) interrupts$")


def nic(extra=""):
    return ["-nic", "none", "-netdev", "user,id=n0", "-device", "e1000e,netdev=n0" + extra]


def test_e1000e_arp_round_trips_with_msix():
    # mgmt=off: the NIC's counters are the self-test's alone (no DHCP from the hypervisor)
    run = qemu(smp=2, cmdline="test_net=64 mgmt=off", extra_args=nic(), timeout=90, until=DONE)
    assert run.status == 0, run
    m = re.search(REGISTERED, run.log, re.M)
    assert m, run
    assert m.group(1) == "52:54:00:12:34:56", run  # QEMU's default, from RAL/RAH
    bdf = m.group(2)
    assert re.search(r"^pci %s: 8086:10d3 Ethernet controller \[driver e1000e: eth0\]$"
                     % re.escape(bdf), run.log, re.M), run
    assert "net: eth0: Intel 82574L, 256 RX and 256 TX descriptors of 2048 bytes" in run.log, run
    assert re.search(r"^net-test: eth0: ARP reply from 10\.0\.2\.2 at 52:55:0a:00:02:02 after "
                     r"\d+ us$", run.log, re.M), run
    assert "net-test: eth0: 64 of 64 ARP round trips ok" in run.log, run
    assert "FAILED" not in run.log, run
    # the harness's power-off stops the NIC; the counters say the interrupts came
    m = re.search(STOPPED, run.log, re.M)
    assert m, run
    rx, rx_drop, rx_bad, tx, tx_drop, tx_err, irqs = map(int, m.groups())
    assert tx == 64 and tx_drop == 0 and tx_err == 0, run
    assert rx >= 64 and rx_bad == 0, run
    assert irqs >= 64, run


def test_e1000e_rings_wrap_behind_a_root_port():
    """600 round trips: both rings wrap twice; a MAC of our choosing, a NIC on bus 1, one CPU."""
    args = ["-nic", "none", "-netdev", "user,id=n0",
            "-device", "pcie-root-port,id=rp1,chassis=1,slot=1,addr=5",
            "-device", "e1000e,netdev=n0,bus=rp1,mac=52:54:00:ab:cd:ef"]
    run = qemu(smp=1, cmdline="test_net=600 mgmt=off", extra_args=args, timeout=150, until=DONE)
    assert run.status == 0, run
    m = re.search(REGISTERED, run.log, re.M)
    assert m and m.group(1) == "52:54:00:ab:cd:ef" and m.group(2) == "0000:01:00.0", run
    assert "net-test: eth0: 600 of 600 ARP round trips ok" in run.log, run
    m = re.search(STOPPED, run.log, re.M)
    assert m, run
    assert int(m.group(4)) == 600 and int(m.group(1)) >= 600, run


def test_e1000e_in_pci_list():
    child = boot([], smp=2, debug_exit=False, extra_args=nic(",addr=4"))
    try:
        child.expect_exact(PROMPT, timeout=60)
        out = command(child, "pci-list")
        assert re.search(r"^0000:00:04\.0 8086:10d3 class 020000 Ethernet controller; .*; msix 5; "
                         r"msi; driver e1000e: eth0\r*$", out, re.M), out
    finally:
        child.terminate(force=True)


def monitor(path, line):
    """One human-monitor command over QEMU's unix socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        for _ in range(50):
            try:
                s.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.1)
        s.sendall((line + "\n").encode())
        time.sleep(0.5)


def test_e1000e_link_changes(tmp_path):
    """The cable pulled and put back (QEMU's set_link): LSC through the "other" MSI-X vector."""
    sock = str(tmp_path / "mon.sock")
    args = nic(",addr=4") + ["-monitor", "unix:%s,server=on,wait=off" % sock]
    child = boot([], smp=2, debug_exit=False, extra_args=args)
    try:
        child.expect_exact(PROMPT, timeout=60)
        monitor(sock, "set_link n0 off")
        child.expect_exact("net: eth0: link down", timeout=20)
        monitor(sock, "set_link n0 on")
        child.expect_exact("net: eth0: link up", timeout=20)
    finally:
        child.terminate(force=True)
