"""The administration shell on the host console, driven like an operator would.

One QEMU boot (4 cores, AMD-V under TCG) carries most checks, in order:
VM files `web` and `ticker` (autostart), `spare` (autostart = 0) and a broken
one; the tests type at COM1 through pexpect and read what comes back. The
guests are tests/guests/echo.c: each answers a line typed at its serial line
with "echo: LINE" upper-cased; `ticker` also prints a tick line now and then.
"""

import os
import re
import time

import pexpect
import pytest

from hvconsole import ESC_LEFT, ESC_UP, PROMPT, boot, command
from hvrun import guest, vm_file

def list_rows(child):
    """`list` as {name: (id, state, vcpus, mem, time)}."""
    out = command(child, "list")
    rows = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and f[0] != "Name":
            rows[f[0]] = (f[1], f[2], int(f[3]), int(f[4]), float(f[5]))
    return rows


@pytest.fixture(scope="module")
def host():
    echo = guest("echo")
    broken = vm_file("broken", echo, memory=0)
    vms = [(vm_file("web", echo), echo),
           (vm_file("ticker", echo, extra="tick=4000"), echo),
           (vm_file("spare", echo, more="autostart = 0\nweight = 512\n"), echo),
           (broken, echo)]
    child = boot(vms)
    # the broken file is named with line and column, and the good VMs still start
    child.expect_exact("hv: vm spare defined (autostart = 0)")
    child.expect_exact("hv: /boot/vms/broken.cfg:3:10: memory: 0 is out of range")
    child.expect_exact("[web] echo: ready")
    child.send("\r")  # with debug_exit the prompt waits for the first key
    child.expect_exact(PROMPT)
    yield child
    if child.isalive():
        child.terminate(force=True)


def test_help_and_mistakes(host):
    out = command(host, "help")
    for verb in ("list", "create", "destroy", "shutdown", "reboot", "pause", "unpause",
                 "console", "vcpu-list", "vcpu-pin", "sched-credit", "pci-list", "info",
                 "dmesg", "host-reboot", "host-poweroff"):
        assert verb in out, out
    out = command(host, "frobnicate now")
    assert "error: unknown command 'frobnicate'" in out
    assert "error: usage: destroy NAME" in command(host, "destroy")
    assert "error: no VM named 'nosuch'" in command(host, "pause nosuch")
    assert "error: 'x' is not a number" in command(host, "vcpu-pin web x 1")


def test_list_shows_vms_and_states(host):
    rows = list_rows(host)
    assert rows["web"][1:4] == ("running", 1, 16), rows
    assert rows["ticker"][1] == "running", rows
    assert rows["spare"][:2] == ("-", "off"), rows
    assert "broken" not in rows


def test_pci_list_shows_the_host_bridge(host):
    """Every VM's PCI bus has the host bridge at 00:00.0 (Q35's IDs, class 06/00/00)."""
    out = command(host, "pci-list web")
    assert re.search(r"^00:00\.0 8086:29c0 class 060000 host-bridge", out, re.M), out
    assert re.search(r"^\d+ functions?; 0 bad MSI messages dropped", out, re.M), out
    assert "error: no VM named 'nosuch'" in command(host, "pci-list nosuch")
    # without a name: the host's own devices
    assert re.search(r"^\d+ devices? on 1 segment \(ECAM\)", command(host, "pci-list"), re.M)


def test_vm_output_does_not_garble_the_typed_line(host):
    """A VM line arriving while the operator types goes above the prompt,
    and the half-typed line is drawn again after it."""
    host.send("lis")
    host.expect(r"\[ticker\] echo: tick \d+\r+\n\r\x1b\[Khv> lis", timeout=30)
    host.send("t\r")
    host.expect_exact("Name")
    host.expect_exact(PROMPT)


def test_line_editing_ctrl_c_and_history(host):
    host.send("garbage")
    host.send("\x03")
    host.expect(r"\^C\r+\n")
    host.expect_exact(PROMPT)
    # "lst", two steps left, "i": "list"
    host.send("lst" + ESC_LEFT + ESC_LEFT + "i\r")
    host.expect_exact("Name")
    host.expect_exact(PROMPT)
    host.send("info\r")
    host.expect_exact("uptime:")
    host.expect_exact(PROMPT)
    # up twice: "list" again
    host.send(ESC_UP + ESC_UP + "\r")
    host.expect_exact("Mem(MiB)")
    host.expect_exact(PROMPT)


def test_console_attach_type_detach(host):
    host.sendline("console web")
    host.expect_exact("[attached to web")
    host.expect_exact("echo: ready")  # the replay of its recent output
    host.send("hello world\r")
    host.expect_exact("echo: HELLO WORLD")
    host.sendcontrol("]")
    host.expect_exact("[detached from web]")
    host.expect_exact(PROMPT)
    # lines typed while detached do not reach the VM; the shell answers them
    assert "error: unknown command 'hello'" in command(host, "hello")


def cpu_time_advances(child, name, since, within=15):
    """True once `list` shows the VM's CPU time past `since` (0.1 s steps)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if list_rows(child)[name][4] > since:
            return True
        time.sleep(0.5)
    return False


def test_pause_stops_cpu_time_and_unpause_resumes(host):
    assert cpu_time_advances(host, "web", list_rows(host)["web"][4])
    assert "vm web paused" in command(host, "pause web")
    p0 = list_rows(host)["web"]
    time.sleep(2)
    p1 = list_rows(host)["web"]
    assert p0[1] == p1[1] == "paused"
    assert p0[4] == p1[4], (p0, p1)
    assert "paused" in command(host, "vcpu-list web")
    assert "error: vm web is already paused" in command(host, "pause web")
    assert "vm web unpaused" in command(host, "unpause web")
    assert cpu_time_advances(host, "web", p1[4])
    host.sendline("console web")
    host.expect_exact("[attached to web")
    host.send("still here\r")
    host.expect_exact("echo: STILL HERE")
    host.sendcontrol("]")
    host.expect_exact(PROMPT)


def test_reboot_restarts_from_the_kernel(host):
    out = command(host, "reboot web", expect=r"vm web restarted")
    assert "vm web rebooting" in out
    if "[web] echo: ready" not in out:
        host.expect_exact("[web] echo: ready")
    assert list_rows(host)["web"][1] == "running"
    host.sendline("console web")
    host.expect_exact("[attached to web")
    host.send("again\r")
    host.expect_exact("echo: AGAIN")
    host.sendcontrol("]")
    host.expect_exact(PROMPT)


def test_destroy_pin_and_create_again(host):
    first_id = list_rows(host)["ticker"][0]
    assert "vm ticker stopped: destroyed code=0" in command(host, "destroy ticker")
    rows = list_rows(host)
    assert rows["ticker"][1] == "stopped", rows
    assert "error: vm ticker is not running" in command(host, "pause ticker")
    # web's vCPU moves to another core, and may run there only
    assert "error: there is no CPU 9 online" in command(host, "vcpu-pin web 0 9")
    out = command(host, "vcpu-list web")
    cpu_before = int(re.search(r"web\s+\d+\s+0\s+(\d+)", out).group(1))
    target = 2 if cpu_before != 2 else 1
    out = command(host, "vcpu-pin web 0 %d" % target)
    assert "vm web vCPU 0 now on CPU %d" % target in out, out
    # now on the new core, and allowed there only (it ran on both)
    assert re.search(r"web\s+\d+\s+0\s+%d\s+(running|blocked|runnable)\s+\S+\s+\S+\s+%d\s" %
                     (target, target), command(host, "vcpu-list web")), out
    host.sendline("console web")
    host.expect_exact("[attached to web")
    host.send("moved\r")
    host.expect_exact("echo: MOVED")
    host.sendcontrol("]")
    host.expect_exact(PROMPT)
    # and the destroyed one comes back, with a new id
    command(host, "create /boot/vms/ticker.cfg", expect=r"hv: vm ticker created")
    host.expect(r"\[ticker\] echo: (ready|tick)")
    rows = list_rows(host)
    assert rows["ticker"][1] == "running" and rows["ticker"][0] != first_id, rows


def test_create_defined_vm_then_shutdown(host):
    command(host, "create /boot/vms/spare.cfg", expect=r"hv: vm spare created")
    host.expect_exact("[spare] echo: ready")
    out = command(host, "sched-credit")
    assert re.search(r"spare\s+\d+\s+512\s+0\s+\d+\.\d+\s+shared", out), out
    command(host, "shutdown spare", expect=r"does not listen to the ACPI power button")
    host.expect_exact("vm spare stopped: destroyed code=0", timeout=30)
    host.send("\r")
    host.expect_exact(PROMPT)
    assert list_rows(host)["spare"][1] == "stopped"


def test_create_errors(host):
    out = command(host, "create /boot/vms/broken.cfg")
    assert "hv: /boot/vms/broken.cfg:3:10: memory: 0 is out of range" in out, out
    assert "error: /boot/vms/broken.cfg: not created" in out
    out = command(host, "create /boot/vms/web.cfg")
    assert "web.cfg:1:" in out and "error:" in out, out
    assert "no such boot module" in command(host, "create /boot/vms/nothere.cfg")


def test_host_verbs(host):
    out = command(host, "info")
    assert "cores:          4 online" in out and "memory:" in out and "AMD-V" in out, out
    assert "hv: boot report" in command(host, "dmesg")
    host.sendline("host-reboot")
    host.expect_exact("are you sure? [y/N] ")
    host.sendline("n")
    host.expect_exact("cancelled")
    host.expect_exact(PROMPT)
    # QEMU's DSDT has \_S5: the host powers off and QEMU ends
    host.sendline("host-poweroff")
    host.expect_exact("are you sure? [y/N] ")
    host.sendline("y")
    host.expect_exact("ACPI S5")
    host.expect(pexpect.EOF, timeout=30)


def test_without_debug_exit_the_boot_cpu_keeps_the_console():
    """On a real server (no debug_exit) the prompt comes at once and no vCPU
    takes CPU 0: on 2 cores both VMs share CPU 1."""
    echo = guest("echo")
    child = boot([(vm_file("one", echo), echo), (vm_file("two", echo), echo)], smp=2,
                 debug_exit=False)
    try:
        child.expect_exact("hv: console ready")
        child.expect_exact(PROMPT)
        rows = list_rows(child)
        assert sorted(rows) == ["one", "two"], rows
        out = command(child, "vcpu-list")
        assert re.search(r"^one\s+\d+\s+0\s+1\s", out, re.M), out
        assert re.search(r"^two\s+\d+\s+0\s+1\s", out, re.M), out
        out = command(child, "vcpu-pin one 0 0")
        assert "error: CPU 0 does not run vCPUs (it runs the console)" in out, out
    finally:
        child.terminate(force=True)


LINUX_KERNEL = os.path.join(os.path.dirname(guest("echo")), "..", "linux-guest", "vmlinuz")
LINUX_INITRD = os.path.join(os.path.dirname(guest("echo")), "..", "linux-guest", "initrd.img")


@pytest.mark.skipif(not os.path.exists(LINUX_KERNEL), reason="no Linux guest: make linux-guest")
def test_attach_to_a_linux_shell_and_run_a_command():
    """The demo setup: a Debian Linux VM keeps a busybox shell on its serial
    line; the operator attaches, runs a command in the guest, detaches, and
    shuts the VM down gracefully."""
    cfg = vm_file("deb", LINUX_KERNEL, memory=128, extra="console=ttyS0 quiet hv.shell",
                  more='ramdisk = "/boot/vms/initrd.img"\n')
    child = boot([(cfg, LINUX_KERNEL), (cfg, LINUX_INITRD)], smp=2, debug_exit=False)
    try:
        child.expect_exact("[deb] busybox shell on the console", timeout=180)
        child.expect_exact(PROMPT)
        child.sendline("console deb")
        child.expect_exact("[attached to deb")
        child.send("\r")  # a fresh shell prompt
        child.send("echo kernel-$(uname -r) cpus-$(nproc)\r")
        child.expect(r"kernel-6\.\d+\.\d+-\S+-amd64 cpus-1", timeout=30)
        child.sendcontrol("]")
        child.expect_exact("[detached from deb]")
        child.expect_exact(PROMPT)
        rows = list_rows(child)
        assert rows["deb"][1] == "running", rows
        # a graceful shutdown: the ACPI power button reaches the guest's acpid,
        # which powers the guest off before the 3 s force-off
        out = command(child, "shutdown deb")
        assert "vm deb: ACPI power button pressed" in out, out
        child.expect_exact("LINUX-GUEST-POWER-BUTTON: powering off", timeout=60)
        child.expect_exact("vm deb stopped: poweroff code=0", timeout=60)
    finally:
        child.terminate(force=True)
