"""Driving the host console like an operator: boot an ISO under QEMU with
COM1 on a pexpect pty, type commands at the prompt, read their output."""

import os
import re

import pexpect

from hvrun import DEBUG_EXIT_PORT, make_iso

PROMPT = "hv> "
ESC_UP = "\x1b[A"
ESC_LEFT = "\x1b[D"


def boot(vms, smp=4, debug_exit=True, extra_args=(), cmdline=""):
    """Boots an ISO with these (cfg, kernel) pairs; returns the pexpect child on COM1.

    extra_args go to QEMU as they are (devices for the host, say); cmdline
    is added to the hypervisor's command line."""
    modules = []
    for cfg, kernel in vms:
        for m in (cfg, kernel):
            if m not in modules:
                modules.append(m)
    if debug_exit:
        cmdline = ("debug_exit=0x%x " % DEBUG_EXIT_PORT + cmdline).strip()
    iso = make_iso(cmdline, modules)
    args = ["-machine", "q35,accel=tcg", "-cpu", "max", "-smp", str(smp), "-m", "1G",
            "-display", "none", "-no-reboot", "-monitor", "none",
            # COM1 on stdio, with ^C and ^] passed to the guest instead of QEMU
            "-chardev", "stdio,id=com1,signal=off", "-serial", "chardev:com1",
            "-device", "isa-debug-exit,iobase=0x%x,iosize=0x04" % DEBUG_EXIT_PORT,
            "-cdrom", iso, "-boot", "d"] + list(extra_args)
    child = pexpect.spawn("qemu-system-x86_64", args, encoding="utf-8",
                          codec_errors="replace", timeout=60)
    child.logfile_read = open(os.path.join(os.path.dirname(iso), "console-test.log"), "w")
    return child


def command(child, line, expect=None, timeout=30):
    """Types a command at the prompt; returns its output up to the next prompt."""
    child.sendline(line)
    # the editor echoes what was typed, then CR LF (the pty may add a CR)
    child.expect(re.escape(line) + r"\r+\n", timeout=timeout)
    out = ""
    if expect:
        child.expect(expect, timeout=timeout)
        out = child.before + child.after
    child.expect_exact(PROMPT, timeout=timeout)
    return out + child.before
