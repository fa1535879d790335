"""VMs' virtio-net NICs on the hypervisor's virtual switches (issue 14),
under QEMU TCG on the SVM path: the stock Debian cloud kernel's virtio_net
driver against the hypervisor's device (guest/virtio/virtio_net.c), one per
`vif`, each a port of the switch its `bridge=` names.

What the Linux guest does (scripts/build-linux-guest.sh's /init, driven by
hv.* options on its kernel command line):
  LINUX-GUEST-NET      eth0 up with hv.net=IP/PREFIX (after hv.netmac=MAC, if given)
  LINUX-GUEST-PING     hv.ping=IP: the peer answers
  LINUX-GUEST-NCRECV   hv.ncrecv=PORT: one TCP stream received with busybox nc, its sha256
  LINUX-GUEST-NCSEND   hv.ncsend=IP:PORT:MIB: MIB MiB of random bytes sent, their sha256
And what the hypervisor reports for each NIC when its VM goes:
  vm NAME nic PORT: tx N frames ... (N dropped, N spoofed), rx N frames ...,
  N notifies (N transmit: F frames each), N interrupts, N found by N polls
"""

import os
import re

import pytest

from hvrun import BUILD, qemu, vm_file, vm_stops
from test_linux_virtio import marks

GUEST = os.path.join(BUILD, "linux-guest")
KERNEL, INITRD = os.path.join(GUEST, "vmlinuz"), os.path.join(GUEST, "initrd.img")

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(f) for f in (KERNEL, INITRD)),
    reason="no Linux guest: run make linux-guest")

NIC = re.compile(r"^vm (\S+) nic (\S+): tx (\d+) frames (\d+) bytes \((\d+) dropped, (\d+) "
                 r"spoofed\), rx (\d+) frames (\d+) bytes \((\d+) dropped\), (\d+) notifies "
                 r"\((\d+) transmit: ([\d.]+) frames each\), (\d+) interrupts, (\d+) found by "
                 r"(\d+) polls", re.M)


def nics(log):
    """{port: {field: value}} from the NICs' report lines."""
    out = {}
    for m in NIC.finditer(log):
        keys = ("vm", "port", "tx", "tx_bytes", "tx_dropped", "spoofed", "rx", "rx_bytes",
                "rx_dropped", "notifies", "tx_notifies", "per_notify", "interrupts", "polled",
                "polls")
        vals = list(m.groups())
        out[m.group(2)] = dict(zip(keys, vals[:2] + [float(v) if "." in v else int(v)
                                                     for v in vals[2:]]))
    return out


def net_vm(name, opts, vifs=("bridge=lab",), memory=160):
    more = ('ramdisk = "/boot/vms/%s"\n' % os.path.basename(INITRD) +
            "vif = [ %s ]\n" % ", ".join("'%s'" % v for v in vifs))
    return vm_file(name, KERNEL, memory=memory, extra="console=ttyS0 quiet " + opts, more=more)


def test_two_vms_ping_each_other_and_move_16_mib():
    """Two VMs on the internal switch `lab`: each pings the other, then one
    sends 16 MiB to the other with busybox nc, and the receiver's sha256 is
    the sender's. The NICs sit at 00:18.0 with the MACs derived from the
    VMs' names (Xen's OUI); transmit goes many frames per notify."""
    run = qemu(smp=2, spare_cpu0=True, mem="1G", timeout=600, modules=[
        net_vm("na", "hv.net=10.0.0.1/24 hv.ping=10.0.0.2 hv.ncrecv=5001"), KERNEL, INITRD,
        net_vm("nb", "hv.net=10.0.0.2/24 hv.ping=10.0.0.1 hv.ncsend=10.0.0.1:5001:16",
               memory=192)])
    assert vm_stops(run.log) == {"na": ("poweroff", 0), "nb": ("poweroff", 0)}, run
    a, b = marks(run.log, "na"), marks(run.log, "nb")
    for m in (a, b):
        assert "LINUX-GUEST-DONE" in m, run.log[-6000:]
        pci = {line.split()[0]: line.split()[1:] for line in m["LINUX-GUEST-PCI"]}
        assert pci["0000:00:18.0"][0] == "1af4:1041", pci
        assert pci["0000:00:18.0"][2] == "virtio-pci", pci
    assert re.match(r"ok eth0 mac=00:16:3e:[0-9a-f:]{8} ip=10\.0\.0\.1/24$",
                    a["LINUX-GUEST-NET"][0]), a
    assert b["LINUX-GUEST-NET"][0].startswith("ok eth0 mac=00:16:3e:"), b
    assert a["LINUX-GUEST-PING"][0].startswith("ok 10.0.0.2 sent=5 recv="), a
    assert b["LINUX-GUEST-PING"][0].startswith("ok 10.0.0.1 sent=5 recv="), b
    sent = dict(kv.split("=", 1) for kv in b["LINUX-GUEST-NCSEND"][0].split()[1:])
    got = dict(kv.split("=", 1) for kv in a["LINUX-GUEST-NCRECV"][0].split()[1:])
    assert b["LINUX-GUEST-NCSEND"][0].startswith("ok"), b
    assert a["LINUX-GUEST-NCRECV"][0].startswith("ok"), a
    assert sent["bytes"] == got["bytes"] == str(16 << 20), (sent, got)
    assert sent["sha"] == got["sha"], (sent, got)
    n = nics(run.log)
    assert set(n) == {"na.0", "nb.0"}, run.log[-4000:]
    assert n["nb.0"]["spoofed"] == 0 and n["na.0"]["spoofed"] == 0, n
    # the sender's frames reached the receiver, none lost for want of buffers
    assert n["nb.0"]["tx_bytes"] >= 16 << 20, n
    assert n["na.0"]["rx_bytes"] >= 16 << 20, n
    mib_s = 16.0 / (int(sent["ns"]) / 1e9)
    print("vm-to-vm: 16 MiB in %.2f s (guest clock): %.1f MiB/s; sender %s" % (
        int(sent["ns"]) / 1e9, mib_s, n["nb.0"]))
    print("receiver %s" % n["na.0"])
    assert "needs reset" not in run.log, run
    assert run.status == 0, run


def test_a_foreign_source_mac_is_dropped_and_counted():
    """A guest that changes its MAC (`ip link set eth0 address`, which the
    device does not hear of) sends frames the switch drops: its pings get
    no answer, and the drops are counted for its port, as spoofed."""
    run = qemu(smp=2, spare_cpu0=True, mem="1G", timeout=400, modules=[
        net_vm("peer", "hv.net=10.0.1.1/24 hv.ping=10.0.1.2 hv.pingwait=15",
               vifs=("bridge=lab2",)), KERNEL, INITRD,
        net_vm("spoof", "hv.net=10.0.1.2/24 hv.netmac=00:16:3e:66:66:66 hv.ping=10.0.1.1 "
               "hv.pingwait=8", vifs=("mac=00:16:3e:00:00:42, bridge=lab2",)),
    ])
    assert vm_stops(run.log).get("spoof") == ("poweroff", 0), run
    s, p = marks(run.log, "spoof"), marks(run.log, "peer")
    assert s["LINUX-GUEST-NET"] == ["ok eth0 mac=00:16:3e:66:66:66 ip=10.0.1.2/24"], s
    assert s["LINUX-GUEST-PING"][0].startswith("fail 10.0.1.1"), s
    assert p["LINUX-GUEST-PING"][0].startswith("fail 10.0.1.2"), p
    n = nics(run.log)
    assert n["spoof.0"]["spoofed"] > 0 and n["spoof.0"]["spoofed"] == n["spoof.0"]["tx"], n
    assert n["peer.0"]["rx"] == 0, n  # nothing of the spoofer's got through
    assert "spoofed" in run.log


@pytest.mark.parametrize("nic", ["e1000e", "virtio-net-pci,disable-legacy=on"])
def test_a_vm_on_uplink_gets_a_dhcp_lease_and_reaches_the_gateway(nic):
    """A VM whose vif is on `uplink` is bridged through the host NIC (QEMU's
    e1000e, or its virtio-net as when nested under KVM) to QEMU's user
    network: it gets a lease from its DHCP server and sends 1 MiB to
    10.0.2.2, which QEMU hands to a listener of this test on the host; the
    bytes arrive intact. The hypervisor's own interface is on the same
    switch and gets its lease too."""
    import hashlib
    import socket
    import threading

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(400)
    port = srv.getsockname()[1]
    got = {}

    def receive():
        try:
            conn, _ = srv.accept()
            data = b""
            conn.settimeout(120)
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            got["bytes"], got["sha"] = len(data), hashlib.sha256(data).hexdigest()
        except OSError as e:
            got["error"] = str(e)

    t = threading.Thread(target=receive, daemon=True)
    t.start()
    try:
        run = qemu(smp=2, spare_cpu0=True, mem="1G", timeout=400, cmdline="mgmt=dhcp", modules=[
            net_vm("up", "hv.net=dhcp hv.ncsend=10.0.2.2:%d:1" % port, vifs=("bridge=uplink",)),
            KERNEL, INITRD],
            extra_args=("-netdev", "user,id=n0", "-device", "%s,netdev=n0" % nic))
    finally:
        srv.close()
    t.join(5)
    assert vm_stops(run.log).get("up") == ("poweroff", 0), run
    m = marks(run.log, "up")
    assert re.match(r"ok eth0 mac=00:16:3e:[0-9a-f:]{8} ip=10\.0\.2\.\d+/24$",
                    m["LINUX-GUEST-NET"][0]), m
    assert m["LINUX-GUEST-NCSEND"][0].startswith("ok bytes=1048576 "), m
    sent = dict(kv.split("=", 1) for kv in m["LINUX-GUEST-NCSEND"][0].split()[1:])
    assert got.get("bytes") == 1 << 20 and got.get("sha") == sent["sha"], (got, sent)
    assert re.search(r"^mgmt: 10\.0\.2\.\d+/24 gw 10\.0\.2\.2 \(dhcp\)", run.log, re.M), run
    n = nics(run.log)
    assert n["up.0"]["spoofed"] == 0 and n["up.0"]["tx_bytes"] >= 1 << 20, n
