"""Scale (issue 18, the VM side): many vCPUs in one VM, many VMs, big VMs.

Each test is short under QEMU TCG on a loaded machine (its time is in the
README's test list); the assertions count and compare, never time.
"""

import re

import pytest

from hvrun import guest, qemu, vm_file, vm_stops


def test_64_vcpus_start_and_check_their_topology_on_4_cores():
    """A 64-vCPU VM on a 4-core host: the guest starts every AP by INIT/SIPI."""
    smp = guest("smp")
    cfg = vm_file("smp64", smp, memory=16, vcpus=64, extra="cpus=64")
    # spare_cpu0: vCPUs on 4 other cores (the QEMU 7.2 CPU-0 race, hvrun.qemu)
    run = qemu(smp=4, mem="1G", modules=[cfg, smp], timeout=240, spare_cpu0=True)
    assert "[smp64] smp: MADT lists 64 processors (64 local APIC, 0 local x2APIC entries)" \
        in run.log, run
    assert "[smp64] smp: 63 of 63 APs up" in run.log, run
    assert "[smp64] smp: 64 vCPUs checked their topology" in run.log, run
    assert "[smp64] GUEST smp: PASS" in run.log, run
    assert vm_stops(run.log) == {"smp64": ("exit-port", 0)}, run
    assert run.status == 0, run


def test_64_small_vms_start_run_stop_and_list_shows_them_all():
    """64 VMs on a 4-core host: each runs (answers on its serial line), `list` shows all
    64 running, 63 are destroyed and `list` shows them stopped, the last one with the
    host's "all 64 VMs stopped"; each start line says
    what the VM costs beyond its RAM."""
    from hvconsole import PROMPT, boot, command

    echo = guest("echo")
    names = ["s%02d" % i for i in range(64)]
    # CPU 0 keeps the console and runs no vCPU, 4 cores run them: under QEMU
    # 7.2's TCG, CPU 0 can lose its nested-paging flag while other cores
    # switch vCPUs (hvrun.qemu's spare_cpu0); a guest there then ran on the
    # host's tables once in about six runs (its IDTR was the host's idt)
    child = boot([(vm_file(n, echo, memory=4), echo) for n in names], smp=5,
                 cmdline="cpu0=console")
    try:
        overhead = {}
        ready = set()
        while len(ready) < len(names):
            i = child.expect([r"hv: vm (s\d\d) overhead: (\d+) KiB beyond its RAM "
                              r"\((\d+) KiB page tables",
                              r"\[(s\d\d)\] echo: ready"], timeout=240)
            if i == 0:
                overhead[child.match.group(1)] = (int(child.match.group(2)),
                                                  int(child.match.group(3)))
            else:
                ready.add(child.match.group(1))
        assert sorted(overhead) == names, overhead
        worst = max(o for o, _ in overhead.values())
        print("per-VM overhead (KiB, page tables): %r" % (overhead["s00"],))
        assert worst <= 1024 + max(p for _, p in overhead.values()), overhead
        child.send("\r")
        child.expect_exact(PROMPT)

        def rows():
            out = command(child, "list", timeout=60)
            return {f[0]: f[2] for f in (line.split() for line in out.splitlines())
                    if len(f) >= 6 and f[0] in names}

        listed = rows()
        assert sorted(listed) == names and set(listed.values()) == {"running"}, listed
        for n in names[:-1]:
            assert "vm %s stopped: destroyed" % n in command(child, "destroy " + n), n
        listed = rows()
        assert sorted(listed) == names, listed
        assert [n for n in names if listed[n] != "stopped"] == names[-1:], listed
        # the last one stopped, the harness's host stops too and says so for all 64
        child.sendline("destroy " + names[-1])
        child.expect_exact("hv: all 64 VMs stopped", timeout=120)
    finally:
        if child.isalive():
            child.terminate(force=True)


def linux_big(name, memory, vcpus):
    import os
    from hvrun import BUILD
    kernel = os.path.join(BUILD, "linux-guest", "vmlinuz")
    initrd = os.path.join(BUILD, "linux-guest", "initrd.img")
    cfg = vm_file(name, kernel, memory=memory, vcpus=vcpus, extra="console=ttyS0 quiet",
                  more='ramdisk = "/boot/vms/%s"\n' % os.path.basename(initrd))
    return [cfg, kernel, initrd]


def check_big_linux(run, name, vcpus, memory):
    up = re.search(r"^\[%s\] LINUX-GUEST-UP \S+ cpus=(\d+) mem=(\d+)$" % name, run.log, re.M)
    assert up, run
    assert int(up.group(1)) == vcpus, run
    mem_kb = int(up.group(2))
    assert memory * 1024 * 0.9 < mem_kb < memory * 1024, up.group(0)
    high = re.search(r"^\[%s\] LINUX-GUEST-MEMHIGH (.*)$" % name, run.log, re.M)
    # 3 GiB below the hole, the rest from 4 GiB
    end = (4 << 30) + ((memory << 20) - (3 << 30)) - 1
    assert high and high.group(1) == "100000000-%x" % end, run
    assert "[%s] LINUX-GUEST-DONE" % name in run.log, run
    assert vm_stops(run.log) == {name: ("poweroff", 0)}, run
    assert run.status == 0, run


def test_linux_with_16_vcpus_and_6_gib():
    """The Debian cloud kernel in a VM of 16 vCPUs and 6 GiB: all 16 come up
    (cpus=16) and the 3 GiB past the 32-bit hole is RAM it finds (e820) and
    uses (MemTotal). (It covers what a 1-vCPU 6 GiB test checked.)

    QEMU gets two cores for the vCPUs (8 a core) plus CPU 0 for the console
    (spare_cpu0, which also avoids QEMU 7.2's CPU-0 race): each emulated core
    is a host thread, and with -smp 4 on a 2-core machine the host kernel
    deschedules emulated cores for milliseconds at a time, a second level of
    overcommit the hypervisor cannot see. Every cross-vCPU wait (IPIs of TLB
    flushes and text patching, stop_machine) then waits on both levels: the
    vCPUs' average wake latency went from about 3.5 ms to 16-23 ms and the
    run from about 35 s to 45-100 s. A 16-vCPU VM on the 2 cores of a
    real machine is what this runs: 17-28 s on an idle 2-core machine (VM
    RAM is zeroed at first use, not at creation), 45-75 s beside another
    emulator; the timeout is for a loaded machine."""
    run = qemu(smp=2, mem="7G", modules=linux_big("big16", 6144, 16), timeout=400,
               spare_cpu0=True)
    check_big_linux(run, "big16", 16, 6144)
    # RAM zeroed at first use: a booting Linux touches a part of its 6 GiB only
    z = re.search(r"^vm big16 RAM zeroed at first use: (\d+) of 6144 MiB$", run.log, re.M)
    assert z and 0 < int(z.group(1)) < 6144, run
