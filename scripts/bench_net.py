#!/usr/bin/python3
"""VM-to-VM networking through the hypervisor's internal switch, against bare QEMU (issue 14).

Two stock Debian cloud kernels (scripts/build-linux-guest.sh's /init): one
sends 16 MiB of random bytes over TCP with busybox nc (hv.ncsend), the
other receives it (hv.ncrecv); the sender's guest clock times the stream.

  hv     both guests as VMs of the hypervisor (QEMU TCG, SVM), each with
         virtio-net on the internal switch `lab`
  bare   the same two guests, each on its own bare QEMU TCG (-smp 1,
         virtio-net-pci disable-legacy=on), joined by `-netdev socket`

Two passes:
  real time (no icount), hypervisor on -smp 2 (one core per VM, as the two
  bare QEMUs have one thread each): MiB/s by the sender's clock, hv and
  bare, and their ratio (the issue's goal: >= 0.8).

  -icount shift=0,sleep=off, hypervisor on -smp 1: under icount every vCPU
  of one QEMU shares a single clock that counts the instructions of all of
  them, and QEMU's round-robin gives each vCPU long slices, so a two-core
  run would measure QEMU's scheduling, not the path. On one core the clock
  counts exactly what ran: both guests and the hypervisor. A bare pair is
  two QEMUs with two clocks that only meet in real time, so it has no
  icount figure; the instructions column is therefore the whole path
  (sender + receiver + hypervisor) per frame, and the hypervisor's share
  is its change from one build to the next. From the NICs' report lines
  and the vCPUs' exit lines:
    frames      frames the sender's NIC sent (TSO frames count once)
    B/frame     bytes per sent frame (how much TSO merges)
    per notify  frames per transmit notify (the goal: >= 8 at load)
    exits/frame each VM's exits over the sender's frames
    irq/frame   each NIC's interrupts over the sender's frames
    insn/frame  the transfer's guest-clock ns over frames (1 ns = 1 insn)
  each the 16 MiB run less one that sends 1 MiB (boot, ping, connection
  set-up and slow start cancel out), over the frames the 15 MiB added.

  scripts/bench_net.py [--bare | --icount]   (--bare: the bare pair only;
                        --icount: the icount pass only)
  BENCH_NET_LOG=PATH keeps the hypervisor's last log there.

Prints a table; no thresholds: this is a benchmark, not a test. Exits 1
when a run fails.
"""

import os
import re
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from hvrun import BUILD, qemu, vm_file  # noqa: E402

GUEST = os.path.join(BUILD, "linux-guest")
KERNEL, INITRD = os.path.join(GUEST, "vmlinuz"), os.path.join(GUEST, "initrd.img")
ICOUNT = ("-icount", "shift=0,sleep=off")
MIB = 16
RECV_OPTS = "hv.net=10.0.0.1/24 hv.ping=10.0.0.2 hv.ncrecv=5001"
SEND_OPTS = "hv.net=10.0.0.2/24 hv.ping=10.0.0.1 hv.ncsend=10.0.0.1:5001:%d"
BASE_MIB = 1  # the icount baseline: boot, ping and 1 MiB, taken off the 16 MiB run

MARK = re.compile(r"^(?:\[(\S+)\] )?(LINUX-GUEST-[A-Z]+) ?(.*)$", re.M)
NIC = re.compile(r"^vm (\S+) nic (\S+): tx (\d+) frames (\d+) bytes .*?rx (\d+) frames (\d+) bytes "
                 r".*?, (\d+) notifies \((\d+) transmit: [\d.]+ frames each\), (\d+) interrupts",
                 re.M)
EXITS = re.compile(r"^vm (\S+) vcpu 0 exits: total (\d+)(.*)$", re.M)


class Failed(Exception):
    pass


def marks(log, name=None):
    out = {}
    for m in MARK.finditer(log.replace("\r", "")):
        if name is None or m.group(1) == name:
            out.setdefault(m.group(2), []).append(m.group(3).strip())
    return out


def sent(log, what):
    """The sender's figures: bytes and ns of the stream, checked against the receiver's sha."""
    m = marks(log, "nb" if what.startswith("hv") else None)
    s = m.get("LINUX-GUEST-NCSEND", [""])[0]
    if not s.startswith("ok"):
        raise Failed("%s: the sender says %r\n%s" % (what, s, log[-3000:]))
    return dict(kv.split("=", 1) for kv in s.split()[1:])


def received(log, what):
    m = marks(log, "na" if what.startswith("hv") else None)
    r = m.get("LINUX-GUEST-NCRECV", [""])[0]
    if not r.startswith("ok"):
        raise Failed("%s: the receiver says %r\n%s" % (what, r, log[-3000:]))
    return dict(kv.split("=", 1) for kv in r.split()[1:])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def bare_cmd(opts, mac, netdev):
    return ["qemu-system-x86_64", "-M", "q35", "-cpu", "max", "-m", "256", "-smp", "1",
            "-display", "none", "-vga", "none", "-monitor", "none", "-serial", "stdio",
            "-no-reboot", "-kernel", KERNEL, "-initrd", INITRD,
            "-append", "console=ttyS0 quiet " + opts, "-netdev", netdev,
            "-device", "virtio-net-pci,netdev=n0,mac=%s,disable-legacy=on,disable-modern=off" % mac]


def bare():
    """The two guests on bare QEMU, joined by a TCP socket between the two QEMUs."""
    port = free_port()
    work = tempfile.mkdtemp(prefix="hvbench-net-")
    logs = [os.path.join(work, n) for n in ("recv.log", "send.log")]
    with open(logs[0], "w") as f0, open(logs[1], "w") as f1:
        recv = subprocess.Popen(bare_cmd(RECV_OPTS, "52:54:00:00:00:01",
                                         "socket,id=n0,listen=127.0.0.1:%d" % port),
                                stdin=subprocess.DEVNULL, stdout=f0, stderr=subprocess.STDOUT)
        send = None
        try:
            # the listener is up once the port answers
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.1).close()
                    break
                except OSError:
                    if recv.poll() is not None:
                        break
                    subprocess.run(["sleep", "0.1"])
            send = subprocess.Popen(bare_cmd(SEND_OPTS % MIB, "52:54:00:00:00:02",
                                             "socket,id=n0,connect=127.0.0.1:%d" % port),
                                    stdin=subprocess.DEVNULL, stdout=f1, stderr=subprocess.STDOUT)
            for p in (send, recv):
                p.wait(timeout=600)
        except subprocess.TimeoutExpired:
            pass
        finally:
            for p in (send, recv):
                if p and p.poll() is None:
                    p.kill()
                    p.wait()
    rlog, slog = (open(p, errors="replace").read() for p in logs)
    s, r = sent(slog, "bare sender"), received(rlog, "bare receiver")
    if s["sha"] != r["sha"]:
        raise Failed("bare: the receiver's sha256 differs from the sender's")
    return {"bytes": int(s["bytes"]), "ns": int(s["ns"])}


def net_vm(name, opts, memory=160):
    more = ('ramdisk = "/boot/vms/%s"\n' % os.path.basename(INITRD) +
            "vif = [ 'bridge=lab' ]\n")
    return vm_file(name, KERNEL, memory=memory, extra="console=ttyS0 quiet " + opts, more=more)


def hv(smp, extra_args=(), mib=MIB):
    run = qemu(smp=smp, mem="1G", timeout=1200, extra_args=extra_args, modules=[
        net_vm("na", RECV_OPTS), KERNEL, INITRD, net_vm("nb", SEND_OPTS % mib, memory=192)])
    if os.environ.get("BENCH_NET_LOG"):
        with open(os.environ["BENCH_NET_LOG"], "w") as f:
            f.write(run.log)
    what = "hv (-smp %d%s)" % (smp, ", icount" if extra_args else "")
    s, r = sent(run.log, what), received(run.log, what)
    if s["sha"] != r["sha"]:
        raise Failed("%s: the receiver's sha256 differs from the sender's" % what)
    nics = {m.group(1): {"tx": int(m.group(3)), "tx_bytes": int(m.group(4)),
                         "rx": int(m.group(5)), "notifies": int(m.group(7)),
                         "tx_notifies": int(m.group(8)), "irqs": int(m.group(9))}
            for m in NIC.finditer(run.log)}
    exits = {}
    for m in EXITS.finditer(run.log):
        by = dict((kv.rsplit(" ", 1)[0], int(kv.rsplit(" ", 1)[1]))
                  for kv in m.group(3).split(", ") if kv.strip())
        by["total"] = int(m.group(2))
        exits[m.group(1)] = by
    if set(nics) != {"na", "nb"} or set(exits) < {"na", "nb"}:
        raise Failed("%s: no NIC or exit report lines\n%s" % (what, run.log[-3000:]))
    return {"bytes": int(s["bytes"]), "ns": int(s["ns"]), "nics": nics, "exits": exits}


def mibs(r):
    return r["bytes"] / (1 << 20) / (r["ns"] / 1e9)


def main():
    bare_only = "--bare" in sys.argv[1:]
    icount_only = "--icount" in sys.argv[1:]
    for f in (KERNEL, INITRD):
        if not os.path.exists(f):
            sys.exit("bench_net: no %s: run make linux-guest" % f)
    failed, b, h, hi, lo = None, None, None, None, None
    try:
        if not icount_only:
            b = bare()
        if not bare_only and not icount_only:
            h = hv(2)
        if not bare_only:
            lo = hv(1, ICOUNT, mib=BASE_MIB)
            hi = hv(1, ICOUNT)
    except Failed as e:
        failed = str(e)

    print("network: %d MiB over TCP (busybox nc) between two cloud-kernel guests, "
          "sender's guest clock (QEMU TCG, SVM)" % MIB)
    print("%-22s %9s %9s %6s" % ("", "hv MiB/s", "bare", "ratio"))
    if b:
        print("%-22s %9s %9.1f %6s" % ("real time, hv -smp 2", "%.1f" % mibs(h) if h else "-",
                                       mibs(b), "%.2f" % (mibs(h) / mibs(b)) if h else "-"))
    if hi:
        print("icount shift=0, hv -smp 1 (1 ns = 1 instruction): %.1f MiB/s; per frame of the "
              "%d MiB run less the %d MiB one:" % (mibs(hi), MIB, BASE_MIB))
        s, r = hi["nics"]["nb"], hi["nics"]["na"]
        s0, r0 = lo["nics"]["nb"], lo["nics"]["na"]
        fr = s["tx"] - s0["tx"]
        print("%8s %8s %10s %11s %11s %11s %11s %11s" % (
            "frames", "B/frame", "per notify", "exits tx", "exits rx", "irq tx", "irq rx",
            "insn/frame"))
        print("%8d %8d %10.1f %11.2f %11.2f %11.2f %11.2f %11.0f" % (
            fr, (s["tx_bytes"] - s0["tx_bytes"]) / fr,
            fr / max(s["tx_notifies"] - s0["tx_notifies"], 1),
            (hi["exits"]["nb"]["total"] - lo["exits"]["nb"]["total"]) / fr,
            (hi["exits"]["na"]["total"] - lo["exits"]["na"]["total"]) / fr,
            (s["irqs"] - s0["irqs"]) / fr, (r["irqs"] - r0["irqs"]) / fr,
            (hi["ns"] - lo["ns"]) / fr))
        for vm, who in (("nb", "sender"), ("na", "receiver")):
            by = ", ".join("%s %.2f" % (k, (v - lo["exits"][vm].get(k, 0)) / fr)
                           for k, v in sorted(hi["exits"][vm].items(), key=lambda kv: -kv[1])
                           if k != "total" and (v - lo["exits"][vm].get(k, 0)) / fr >= 0.01)
            print("  %s exits per frame: %s" % (who, by))
        print("(insn/frame: both guests and the hypervisor on one core; see the docstring)")
    if bare_only:
        print("(--bare: the hypervisor's half not run)")
    if failed:
        sys.exit("bench_net: " + failed)


if __name__ == "__main__":
    main()
