#!/usr/bin/python3
"""Instructions per VM exit, measured deterministically.

Under QEMU's `-icount shift=0,sleep=off` the virtual TSC advances by one per
instruction executed, so the bench guest's RDTSC deltas count instructions:
those of the guest loop plus everything the hypervisor runs for each exit
(the SVM world switch is one instruction, VMRUN, to QEMU). The same guest on
bare QEMU (no hypervisor, no exits) gives the loop's own cost; the difference
is the hypervisor's path length per exit. Prints a table; no thresholds.
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from hvrun import bochs, guest, qemu, vm_file  # noqa: E402

# The per-exit figure is exact at any N; BENCH_N overrides the count.
N = int(os.environ.get("BENCH_N", "100000"))
ICOUNT = ("-icount", "shift=0,sleep=off")
LINE = re.compile(r"bench (\w+): (\d+) exits, (\d+) tsc, (\d+) per exit")


PROF = re.compile(r"^exitprof vm bench vcpu 0 (\S+)( \(fast\))?: (\d+) exits, per exit: (.*), "
                  r"total (\d+)$", re.M)


def parse(log):
    return {m.group(1): int(m.group(4)) for m in LINE.finditer(log)}


def profile(log):
    """{(reason, fast): (exits, [(segment, instructions)...], total)} from `exitprof` lines."""
    out = {}
    for m in PROF.finditer(log):
        segs = [(a, int(b)) for a, b in re.findall(r"(\S+) (\d+)", m.group(4))]
        out[(m.group(1), bool(m.group(2)))] = (int(m.group(3)), segs, int(m.group(5)))
    return out


def bare():
    out = subprocess.run(
        ["qemu-system-x86_64", "-machine", "pc", "-cpu", "max", "-m", "32M", "-display", "none",
         "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
         "-kernel", guest("bench"), "-append", "n=%d" % N] + list(ICOUNT),
        capture_output=True, text=True, timeout=300)
    return parse(out.stdout)


def svm(cmdline=""):
    run = qemu(cmdline=cmdline, smp=2, mem="512M", timeout=1800, extra_args=ICOUNT,
               modules=[vm_file("bench", guest("bench"), extra="n=%d" % N), guest("bench")])
    if run.status != 0:
        sys.exit("bench: the SVM run failed:\n" + run.log[-3000:])
    return parse(run.log) if "exitprof" not in cmdline else profile(run.log)


def vmx(cmdline=""):
    """Bochs counts time in instructions too (clock: sync=none; its TSC ticks
    once per instruction), so the same guest measures the VMX path."""
    run = bochs(cmdline=cmdline, smp=2, timeout=1800,
                modules=[vm_file("bench", guest("bench"), extra="n=%d" % N), guest("bench")])
    if run.status != 0:
        sys.exit("bench: the VMX run failed:\n" + run.log[-3000:])
    return parse(run.log) if "exitprof" not in cmdline else profile(run.log)


def print_profile(name, prof):
    """The exit path's breakdown (hypervisor option exitprof: each mark costs
    some 40 instructions of its own, so the segments add up to more than the
    unprofiled round trip)."""
    for (reason, fast), (n, segs, total) in sorted(prof.items()):
        if n < 100:
            continue
        print("  %s %-5s %-4s %s, total %d" % (name, reason, "fast" if fast else "slow",
                                                ", ".join("%s %d" % s for s in segs), total))


def linux(more=""):
    """The cloud kernel under icount (1 vCPU): exits to its first marker
    (LINUX-GUEST-UP, printed by /init) and to its poweroff, by reason, and
    the busiest ports. MORE: extra VM configuration lines."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
    from test_linux import INITRD, KERNEL, linux_vm  # noqa: E402
    run = qemu(cmdline="exitmark=LINUX-GUEST-UP", smp=2, mem="512M", timeout=1800,
               extra_args=ICOUNT, modules=[linux_vm("linux", more=more), KERNEL, INITRD])
    if "vm linux stopped: poweroff" not in run.log:
        sys.exit("bench: the Linux run failed:\n" + run.log[-3000:])
    return [l for l in run.log.splitlines()
            if l.startswith("vm linux vcpu 0 exits:") or l.startswith("vm linux busiest ports:")
            or l.startswith("vm linux ran ") or l.startswith("exitmark vm linux")
            or l.startswith("vm linux mmio ranges:")]


ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))


def sched(backend="svm"):
    """Three VMs on one core, time counted in instructions (QEMU under icount
    for SVM, Bochs for VMX): two spinning (weights 2:1) and the intr guest,
    which sleeps in HLT until its timer interrupts wake it."""
    spin = guest("spin")
    if backend == "vmx":
        emulate = lambda **kw: bochs(smp=2, timeout=3600, **kw)  # noqa: E731
    else:
        emulate = lambda **kw: qemu(smp=2, mem="512M", timeout=1800, extra_args=ICOUNT, **kw)  # noqa: E731
    run = emulate(modules=[
        vm_file("heavy", spin, extra="rounds=%d report=1 seed=1" % ROUNDS,
                more='cpus = "1"\nweight = 512\n'), spin,
        vm_file("light", spin, extra="rounds=%d report=1 seed=2" % ROUNDS,
                more='cpus = "1"\nweight = 256\n'),
        vm_file("intr", guest("intr"), more='cpus = "1"\n'), guest("intr")])
    if run.status != 0:
        sys.exit("bench: the scheduler run failed:\n" + run.log[-3000:])
    log = run.log
    # rounds are equal work: when heavy is done, light should be halfway
    upto = log[:log.index("vm heavy stopped")]
    light = [int(n) for n in re.findall(r"^\[light\] spin: round (\d+)", upto, re.M)]
    got = light[-1] if light else 0
    wake = re.search(r"^vm intr vcpu 0 sched: .*wake latency avg (\d+) max (\d+)", log, re.M)
    switch = re.search(r"^sched core 1: (\d+) switches, (\d+) TSC ticks per switch "
                       r"\(median (\d+)\)", log, re.M)
    return {"fairness": abs(got / (ROUNDS / 2.0) - 1.0) * 100, "light": got,
            "wake_avg": wake.group(1) if wake else "-", "wake_max": wake.group(2) if wake else "-",
            "switches": switch.group(1) if switch else "-",
            "switch": switch.group(2) if switch else "-",
            "switch_median": switch.group(3) if switch else "-"}


OVERHEAD = re.compile(r"^hv: vm (\S+) overhead: (\d+) KiB beyond its RAM \((\d+) KiB page tables",
                      re.M)


def scale():
    """Per-VM host memory beyond guest RAM, as each VM's start line says it:
    the smp test guest with 1, 16 and 64 vCPUs, and RAM from 16 MiB to 1 GiB."""
    smp = guest("smp")
    shapes = [("v1m16", 1, 16), ("v16m64", 16, 64), ("v64m256", 64, 256), ("v1m1024", 1, 1024)]
    mods = []
    for name, vcpus, mem in shapes:
        mods.append(vm_file(name, smp, memory=mem, vcpus=vcpus, extra="cpus=%d" % vcpus))
    run = qemu(smp=4, mem="2G", timeout=600, modules=mods + [smp])
    got = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in OVERHEAD.finditer(run.log)}
    if run.status != 0 or len(got) != len(shapes):
        sys.exit("bench: the scale run failed:\n" + run.log[-3000:])
    return [(name, vcpus, mem) + got[name] for name, vcpus, mem in shapes]


BRINGUP = re.compile(r"^cores bring-up: (\d+) of (\d+) started in ([\d.]+) ms, .* (\d+) TSC ticks$",
                     re.M)


def cores(smp, mem):
    """The bench guest on a host of `smp` cores: the host's AP bring-up and
    the exits' cost. Not under icount: there QEMU runs the cores round-robin
    on one thread, and every wait of one core for the others (bring-up, TLB
    shootdowns) costs a whole round of 200 cores, minutes in all. So these
    are TCG's wall-clock TSC ticks: noisy under load, compared side by side."""
    run = qemu(smp=smp, mem=mem, timeout=3600,
               modules=[vm_file("bench", guest("bench"), extra="n=%d" % N), guest("bench")])
    if run.status != 0:
        sys.exit("bench: the %s-core run failed:\n%s" % (smp, run.log[-3000:]))
    m = BRINGUP.search(run.log)
    return parse(run.log), (int(m.group(1)), float(m.group(3)), int(m.group(4))) if m else None


def main():
    if "scale" in sys.argv[1:]:
        print("per-VM overhead: host memory beyond its RAM (goal: <= 1 MiB plus page tables)")
        print("%-10s %6s %9s %14s %16s" % ("VM", "vCPUs", "RAM MiB", "overhead KiB",
                                            "of it tables KiB"))
        for name, vcpus, mem, kib, tables in scale():
            print("%-10s %6d %9d %14d %16d" % (name, vcpus, mem, kib, tables))
        return
    if "cores" in sys.argv[1:]:
        rows = [(n, cores(n, mem)) for n, mem in ((4, "1G"), (200, "8G"))]
        print("host cores: AP bring-up and exit cost by core count (QEMU TCG SVM, wall-clock "
              "TSC ticks: compare the columns, not the figures)")
        print("%-34s %14s %14s" % ("", "4 cores", "200 cores"))
        print("%-34s %14s %14s" % ("APs started (in parallel)",
                                   *[str(r[1][0]) if r[1] else "-" for _, r in rows]))
        print("%-34s %14s %14s" % ("bring-up, ms (all APs at once)",
                                   *[str(r[1][1]) if r[1] else "-" for _, r in rows]))
        print("%-34s %14s %14s" % ("bring-up, TSC ticks",
                                   *[str(r[1][2]) if r[1] else "-" for _, r in rows]))
        print("%-34s %14s %14s" % ("bring-up per AP, TSC ticks",
                                   *[str(r[1][2] // max(r[1][0], 1)) if r[1] else "-"
                                     for _, r in rows]))
        for kind, label in (("cpuid", "CPUID exit, TSC ticks"),
                            ("pio", "port I/O exit, TSC ticks"),
                            ("uart", "UART exit, TSC ticks"),
                            ("eoi", "x2APIC EOI exit, TSC ticks")):
            print("%-34s %14s %14s" % (label, *[r[0].get(kind, "-") for _, r in rows]))
        return
    if "linux" in sys.argv[1:]:
        # "linux hpet": the same VM with the opt-in HPET
        more = "hpet = 1\n" if "hpet" in sys.argv[1:] else ""
        print("Linux boot (cloud kernel, 1 vCPU, QEMU TCG SVM, -icount shift=0)%s" %
              (", hpet = 1" if more else ""))
        for line in linux(more):
            print("  " + line)
        return
    if "profile" in sys.argv[1:]:
        print("the exit path, instructions per exit between named points (exitprof)")
        print_profile("SVM", svm("exitprof"))
        print_profile("VMX", vmx("exitprof"))
        return
    if "sched" in sys.argv[1:]:
        vmx_too = "vmx" in sys.argv[1:]
        r = sched("vmx" if vmx_too else "svm")
        print("scheduler, one core shared by 3 VMs (%s: TSC = instructions)" % (
            "Bochs VMX" if vmx_too else "QEMU TCG SVM, -icount shift=0"))
        print("%-44s %s" % ("wake-up latency, interrupt to guest entry",
                            "avg %s, max %s instructions" % (r["wake_avg"], r["wake_max"])))
        # the median is the figure: the TSC counts every emulated core's
        # instructions, so a window that the console core's work lands in
        # (once in a run, say) moves the average, not the median
        print("%-44s %s" % ("context switch, one vCPU's exit to the next's",
                            "median %s, avg %s instructions (%s switches)" % (
                                r["switch_median"], r["switch"], r["switches"])))
        print("%-44s %.1f%% (light at round %d of %d when heavy ended; 2:1 says %d)" % (
            "fairness error, weights 2:1", r["fairness"], r["light"], ROUNDS, ROUNDS // 2))
        return
    b, s, x = bare(), svm(), vmx()
    print("instructions per exit round trip (%d exits each)" % N)
    print("  SVM: QEMU TCG -cpu max under -icount shift=0 (TSC = instructions)")
    print("  VMX: Bochs corei7_haswell_4770 (TSC = instructions)")
    print("%-22s %10s %10s %10s %10s" % ("exit", "bare QEMU", "hv SVM", "hv VMX",
                                         "SVM - bare"))
    for kind, label in (("cpuid", "CPUID"), ("pio", "port I/O (out 0x80)"),
                        ("uart", "UART (in 0x3fd)"), ("eoi", "x2APIC EOI (wrmsr)")):
        print("%-22s %10s %10s %10s %10s" % (
            label, b.get(kind, "-"), s.get(kind, "-"), x.get(kind, "-"),
            s[kind] - b[kind] if kind in s and kind in b else "-"))


if __name__ == "__main__":
    main()
