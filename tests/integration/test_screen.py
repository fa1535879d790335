"""The console on the screen (console=com1,vga) and the i8042 keyboard.

QEMU's standard VGA, with a monitor socket for `screendump`, `xp` and
`sendkey`:
- OVMF + hvboot.efi: the GOP framebuffer. The dump is read back cell by cell
  against the hypervisor's own font (kernel/console/font.c, rendered here as
  screen.c draws it: 8x16 cells, the 5x7 glyph from column 1, each row twice
  from pixel row 1), and the boot report's lines must be there, exactly.
- SeaBIOS + GRUB: VGA text mode. The text is read from the VGA memory at
  0xb8000, and the dump must show that many rows of text.
- Keys typed into the VM's keyboard reach the shell.
- With no serial port at all the console is on the screen; a panic reaches it.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from hvrun import BUILD, HV_ELF, OVMF_CODE, OVMF_VARS, ROOT, make_iso

HVBOOT = os.path.join(BUILD, "hvboot.efi")
FONT_C = os.path.join(ROOT, "kernel", "console", "font.c")
READY = "hv: console ready"


class Monitor:
    """QEMU's human monitor on a unix socket."""

    def __init__(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.s.settimeout(60)
        self._until_prompt()

    def _until_prompt(self):
        buf = b""
        while not buf.endswith(b"(qemu) "):
            chunk = self.s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf.decode("utf-8", "replace")

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\n")
        return self._until_prompt()


def boot(firmware, work, esp=None, iso=None, timeout=300, serial_port=True, ready=READY):
    log = os.path.join(work, "serial.log")
    mon = os.path.join(work, "mon.sock")
    args = ["qemu-system-x86_64", "-machine", "q35,accel=tcg", "-cpu", "max", "-smp", "2",
            "-m", "1G", "-display", "none", "-vga", "std", "-no-reboot",
            "-serial", ("file:" + log) if serial_port else "none",
            "-monitor", "unix:%s,server,nowait" % mon]
    if firmware == "uefi":
        shutil.copy(OVMF_VARS, os.path.join(work, "vars.fd"))
        args += ["-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
                 "-drive", "if=pflash,format=raw,file=" + os.path.join(work, "vars.fd")]
    if esp:
        args += ["-drive", "format=raw,if=ide,media=disk,file=fat:rw:" + esp]
    else:
        args += ["-cdrom", iso, "-boot", "d"]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    start = time.monotonic()
    while serial_port and time.monotonic() - start < timeout:
        if ready in serial(log) or proc.poll() is not None:
            break
        time.sleep(0.5)
    return proc, log, Monitor(mon)


def vga_text(mon):
    """The 80x25 text in the VGA memory at 0xb8000, one string per row."""
    out = mon.cmd("xp /2000hx 0xb8000")
    words = [int(v, 16) for line in re.findall(r"^[0-9a-f]+: (.*)$", out, re.M)
             for v in re.findall(r"0x([0-9a-f]{4})\b", line)]
    assert len(words) == 2000, out[:500]
    return ["".join(chr(c & 0xff) for c in words[r * 80:(r + 1) * 80]).rstrip()
            for r in range(25)]


def serial(log):
    try:
        with open(log, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\r", "")
    except FileNotFoundError:
        return ""


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    w, h = int(m.group(1)), int(m.group(2))
    return w, h, data[m.end():]


def lit_rows(w, h, px):
    """Which pixel rows have any lit pixel."""
    return [any(px[(y * w + x) * 3] > 127 or px[(y * w + x) * 3 + 1] > 127 or
                px[(y * w + x) * 3 + 2] > 127 for x in range(w)) for y in range(h)]


def font():
    """The glyphs of font.c, in order from 0x20."""
    with open(FONT_C) as f:
        rows = re.findall(r"\{((?:0x[0-9a-f]{2}, ){6}0x[0-9a-f]{2})\}", f.read())
    assert len(rows) == 95
    return {chr(0x20 + i): [int(v, 16) for v in r.split(", ")] for i, r in enumerate(rows)}


def render(glyph):
    """An 8x16 cell as screen.c draws it: 16 rows of 8 bits, bit 7 the leftmost pixel."""
    cell = [0] * 16
    for r, bits in enumerate(glyph):
        line = 0
        for c in range(5):
            if bits & (1 << (4 - c)):
                line |= 1 << (7 - (1 + c))
        cell[1 + 2 * r] = cell[2 + 2 * r] = line
    return tuple(cell)


def read_screen(w, h, px):
    """The framebuffer's text, each cell matched exactly against the rendered font."""
    cells = {render(g): ch for ch, g in font().items()}
    lines = []
    for cy in range(h // 16):
        text = []
        for cx in range(w // 8):
            cell = []
            for py in range(16):
                o = ((cy * 16 + py) * w + cx * 8) * 3
                line = 0
                for x in range(8):
                    if px[o + 3 * x] > 127 or px[o + 3 * x + 1] > 127 or px[o + 3 * x + 2] > 127:
                        line |= 1 << (7 - x)
                cell.append(line)
            text.append(cells.get(tuple(cell), "\0"))  # the cursor cell: no glyph
        lines.append("".join(text).rstrip())
    return lines


def sendkeys(mon, text):
    names = {" ": "spc", "\n": "ret", "-": "minus"}
    for ch in text:
        mon.cmd("sendkey " + names.get(ch, ch))
        time.sleep(0.05)


def check_framebuffer(work, log, mon, loader):
    """The screendump shows the boot report, read back cell by cell with the font."""
    text = serial(log)
    assert READY in text, text[-3000:]
    assert re.search(r"screen console: framebuffer \d+x\d+x(?:24|32) at 0x[0-9a-f]+, \d+x\d+ text",
                     text), text[-3000:]
    # the screen is drawn at its own pace: look again until the report's end is there
    dump = os.path.join(work, "screen.ppm")
    deadline = time.monotonic() + 90
    while True:
        time.sleep(1)
        mon.cmd("screendump " + dump)
        w, h, px = read_ppm(dump)
        screen = read_screen(w, h, px)
        if "hv: boot report end" in screen or time.monotonic() > deadline:
            break
    shown = [l for l in screen if l.strip()]
    # every line on the screen is one the serial port printed
    for line in shown:
        if "\0" not in line and not line.startswith("hv>"):
            assert line in text, (line, screen)
    for want in ("boot loader: " + loader, "firmware: UEFI",
                 "acpi rsdp: ACPI 2.0+, from the boot loader", "hv: boot report end"):
        assert want in screen, (want, screen)
    assert len(shown) >= 30, screen


def test_grub_framebuffer_under_ovmf():
    """UEFI -> GRUB -> hv: GRUB's GOP mode, handed over in the multiboot2 framebuffer tag."""
    work = tempfile.mkdtemp(prefix="hvscreen-")
    try:
        proc, log, mon = boot("uefi", work, iso=make_iso("console=com1,vga mgmt=off"))
        try:
            text = serial(log)
            m = re.search(r"boot loader: (GRUB [^\n]*)", text)
            assert m, text[-3000:]
            check_framebuffer(work, log, mon, m.group(1))
        finally:
            mon.cmd("quit")
            proc.wait(30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_gop_framebuffer_under_ovmf_shows_the_boot_report_and_takes_keys():
    assert os.path.exists(HVBOOT), "missing %s: run make" % HVBOOT
    work = tempfile.mkdtemp(prefix="hvscreen-")
    try:
        esp = os.path.join(work, "esp")
        boot_dir = os.path.join(esp, "EFI", "BOOT")
        os.makedirs(boot_dir)
        shutil.copy(HVBOOT, os.path.join(boot_dir, "BOOTX64.EFI"))
        shutil.copy(HV_ELF, os.path.join(boot_dir, "hv.elf"))
        with open(os.path.join(boot_dir, "hv.cfg"), "w") as f:
            f.write("[hv]\noptions=console=com1,vga mgmt=off\n")
        proc, log, mon = boot("uefi", work, esp=esp)
        try:
            check_framebuffer(work, log, mon, "hvboot.efi (multiboot2)")
            assert "keyboard: i8042" in serial(log)

            sendkeys(mon, "help info\n")
            deadline = time.monotonic() + 60
            while "the host: cores, memory" not in serial(log) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert "the host: cores, memory, virtualization, uptime" in serial(log), \
                serial(log)[-2000:]
        finally:
            mon.cmd("quit")
            proc.wait(30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_vga_text_mode_under_bios():
    work = tempfile.mkdtemp(prefix="hvscreen-")
    try:
        iso = make_iso("console=com1,vga mgmt=off")
        proc, log, mon = boot("bios", work, iso=iso)
        try:
            text = serial(log)
            assert READY in text, text[-3000:]
            assert re.search(r"screen console: text mode 80x25 at 0xb8000", text), text[-3000:]
            # the text itself, from the VGA memory: 80x25 cells of character and attribute
            deadline = time.monotonic() + 90
            while True:
                time.sleep(1)
                rows = vga_text(mon)
                if "hv: boot report end" in rows or time.monotonic() > deadline:
                    break
            assert "hv: boot report end" in rows, rows
            assert any(r.startswith("boot loader: GRUB") for r in rows), rows
            assert any(r.startswith("screen console: text mode 80x25") for r in rows), rows
            for r in rows:
                if r and not r.startswith("hv>"):
                    assert r in text, (r, rows)
            # and QEMU shows them: one band of lit pixels per text row in the dump
            dump = os.path.join(work, "screen.ppm")
            mon.cmd("screendump " + dump)
            w, h, px = read_ppm(dump)
            lit = lit_rows(w, h, px)
            cell_h = h // 25
            drawn = sum(1 for r in range(25) if any(lit[r * cell_h:(r + 1) * cell_h]))
            assert drawn == sum(1 for r in rows if r.strip()), (drawn, rows)
            assert drawn >= 20, rows
        finally:
            mon.cmd("quit")
            proc.wait(30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_no_serial_port_falls_back_to_the_screen():
    """No UART at all (-serial none): the console is the screen, though console= said com1."""
    work = tempfile.mkdtemp(prefix="hvscreen-")
    try:
        proc, log, mon = boot("bios", work, iso=make_iso("console=com1 mgmt=off"),
                              serial_port=False)
        try:
            rows = []
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not any(r.startswith("hv>") for r in rows):
                time.sleep(1)
                rows = vga_text(mon)
            assert any(r.startswith("hv>") for r in rows), rows
            assert "screen console: text mode 80x25 at 0xb8000" in rows, rows
            assert "hv: boot report end" in rows, rows
            # console=com1 alone: the screen is on because no UART answered
            # and the keyboard drives the shell there
            sendkeys(mon, "help info\n")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                rows = vga_text(mon)
                if any("the host: cores, memory" in r for r in rows):
                    break
                time.sleep(1)
            assert any("the host: cores, memory, virtualization, uptime" in r for r in rows), rows
        finally:
            mon.cmd("quit")
            proc.wait(30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_panic_is_on_the_screen():
    """A fatal exception's dump reaches the screen before the CPUs stop."""
    work = tempfile.mkdtemp(prefix="hvscreen-")
    try:
        proc, log, mon = boot("bios", work, iso=make_iso("console=com1,vga mgmt=off test_fault=ud"),
                              ready="hv: all CPUs stopped")
        try:
            assert "hv: all CPUs stopped" in serial(log), serial(log)[-3000:]
            rows = vga_text(mon)
            shown = [r for r in rows if r]
            assert shown[-1] == "hv: all CPUs stopped", rows
            assert "backtrace:" in rows, rows
        finally:
            mon.cmd("quit")
            proc.wait(30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
