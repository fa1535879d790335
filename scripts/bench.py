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
from hvrun import guest, qemu, vm_file  # noqa: E402

# Each exit is a full world switch in TCG, slow under icount (~3 ms): 100,000
# exits take about ten minutes. The per-exit figure is exact at any N (the
# same at 1,000 and 100,000), so the default is smaller; BENCH_N overrides.
N = int(os.environ.get("BENCH_N", "20000"))
ICOUNT = ("-icount", "shift=0,sleep=off")
LINE = re.compile(r"bench (\w+): (\d+) exits, (\d+) tsc, (\d+) per exit")


def parse(log):
    return {m.group(1): int(m.group(4)) for m in LINE.finditer(log)}


def bare():
    out = subprocess.run(
        ["qemu-system-x86_64", "-machine", "pc", "-cpu", "max", "-m", "32M", "-display", "none",
         "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
         "-kernel", guest("bench"), "-append", "n=%d" % N] + list(ICOUNT),
        capture_output=True, text=True, timeout=300)
    return parse(out.stdout)


def svm():
    run = qemu(smp=2, mem="512M", timeout=1800, extra_args=ICOUNT,
               modules=[vm_file("bench", guest("bench"), extra="n=%d" % N), guest("bench")])
    if run.status != 0:
        sys.exit("bench: the SVM run failed:\n" + run.log[-3000:])
    return parse(run.log)


def main():
    b, s = bare(), svm()
    print("instructions per exit (QEMU TCG, -icount shift=0; %d exits each)" % N)
    print("%-26s %12s %12s %14s" % ("exit", "bare QEMU", "hv on SVM", "hypervisor"))
    for kind, label in (("cpuid", "CPUID"), ("pio", "port I/O (out 0x80)")):
        if kind in b and kind in s:
            print("%-26s %12d %12d %14d" % (label, b[kind], s[kind], s[kind] - b[kind]))
    print("VMX (Bochs) is measured once the Intel backend exists.")


if __name__ == "__main__":
    main()
