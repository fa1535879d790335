"""The management API end to end (issue 14): the hypervisor under QEMU TCG
with QEMU's e1000e on its user network, the API forwarded to a port on
127.0.0.1, driven the way an operator drives it: scripts/hvctl and curl.

  - hvctl list shows the VMs as the serial shell's `list` does;
  - hvctl shutdown stops a VM, and list then shows it stopped;
  - a wrong token gets 401 and changes nothing;
  - a malformed request gets 400, and the next good one still works;
  - a VM file POSTed in the body starts a VM, and its console ring is read;
  - /metrics parses as Prometheus text (prometheus_client's own parser).
"""

import json
import os
import re
import subprocess
import time

import pytest

from hvconsole import boot, command
from hvrun import guest, vm_file
from test_console import list_rows
from test_mgmt_net import DHCP_LINE, free_tcp_port, nic

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
HVCTL = os.path.join(ROOT, "scripts", "hvctl")
TOKEN = "api-test-token-0123"


def hvctl(port, *args, token=TOKEN):
    r = subprocess.run(["/usr/bin/python3", HVCTL, "--host", "127.0.0.1", "--port", str(port),
                        "--token", token] + list(args),
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def curl(port, *args):
    """curl's status code and body."""
    r = subprocess.run(["curl", "-sS", "-m", "30", "-o", "-", "-w", "\n%{http_code}"] + list(args) +
                       [], capture_output=True, text=True, timeout=60)
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def raw(port, data):
    """Bytes sent as they are on a fresh connection; the response's status."""
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
        c.sendall(data)
        got = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += b
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", got)
    assert m, got[:200]
    return int(m.group(1)), got


@pytest.fixture(scope="module")
def host():
    spin, echo = guest("spin"), guest("echo")
    vms = [(vm_file("web", spin), spin), (vm_file("db", echo), echo)]
    port = free_tcp_port()
    child = boot(vms, smp=2, debug_exit=False, extra_args=nic(port),
                 cmdline="mgmt_token=%s" % TOKEN)
    child.expect(DHCP_LINE.pattern, timeout=120)
    child.expect_exact("hv> ", timeout=60)
    yield child, port
    child.terminate(force=True)


def test_hvctl_list_matches_the_shell(host):
    child, port = host
    rc, out, err = hvctl(port, "list")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:6] == ["Name", "ID", "State", "VCPUs", "Mem(MiB)", "Time(s)"], out
    rows = {f[0]: f for f in (l.split() for l in lines[1:]) if f}
    shell = list_rows(child)
    for name in ("web", "db"):
        assert name in rows, out
        assert rows[name][1] == shell[name][0]   # id
        assert rows[name][2] == shell[name][1]   # state
        assert int(rows[name][3]) == shell[name][2]  # vCPUs
        assert int(rows[name][4]) == shell[name][3]  # memory
    assert rows["web"][2] == "running", out


def test_wrong_token_gets_401_and_changes_nothing(host):
    child, port = host
    rc, out, err = hvctl(port, "pause", "web", token="not-the-token")
    assert rc == 1 and err.startswith("error:"), (rc, out, err)
    code, body = curl(port, "-X", "POST", "-H", "Authorization: Bearer wrong",
                      "http://127.0.0.1:%d/v1/vms/web/pause" % port)
    assert code == 401, body
    code, body = curl(port, "-X", "POST", "http://127.0.0.1:%d/v1/vms/web/pause" % port)
    assert code == 401, body
    assert list_rows(child)["web"][1] == "running"


def test_malformed_request_gets_400_and_the_next_one_works(host):
    _, port = host
    status, _ = raw(port, b"GARBAGE\r\n\r\n")
    assert status == 400
    status, _ = raw(port, b"GET /v1/vms HTTP/1.1\r\nAuthorization: Bearer " + TOKEN.encode() +
                    b"\r\nBad Header Line\r\n\r\n")
    assert status == 400
    code, body = curl(port, "-X", "POST", "-H", "Authorization: Bearer " + TOKEN,
                      "-H", "Content-Type: application/json", "--data", "{\"module\": ",
                      "http://127.0.0.1:%d/v1/vms" % port)
    assert code == 400 and "error" in json.loads(body), body
    code, body = curl(port, "-H", "Authorization: Bearer " + TOKEN,
                      "http://127.0.0.1:%d/v1/nothing-here" % port)
    assert code == 404, body
    code, body = curl(port, "-H", "Authorization: Bearer " + TOKEN,
                      "http://127.0.0.1:%d/v1/vms" % port)
    assert code == 200, body
    names = {v["name"] for v in json.loads(body)["vms"]} if isinstance(json.loads(body), dict) \
        else {v["name"] for v in json.loads(body)}
    assert {"web", "db"} <= names, body


def test_vm_details_and_the_same_errors_as_the_shell(host):
    child, port = host
    code, body = curl(port, "-H", "Authorization: Bearer " + TOKEN,
                      "http://127.0.0.1:%d/v1/vms/web" % port)
    assert code == 200, body
    vm = json.loads(body)
    assert vm["name"] == "web" and vm["state"] == "running", vm
    rc, out, err = hvctl(port, "pause", "nosuchvm")
    shell = command(child, "pause nosuchvm")
    assert rc == 1, (out, err)
    assert err.strip() == shell.strip().splitlines()[0].strip(), (err, shell)


def test_create_from_a_body_and_read_its_console(host):
    child, port = host
    echo = guest("echo")
    # the kernel named in the file is a boot module already there (db's)
    text = 'name = "posted"\nkernel = "/boot/vms/%s"\nmemory = 16\nvcpus = 1\n' % \
        os.path.basename(echo)
    code, body = curl(port, "-X", "POST", "-H", "Authorization: Bearer " + TOKEN,
                      "-H", "Content-Type: text/plain", "--data-binary", text,
                      "http://127.0.0.1:%d/v1/vms" % port)
    assert code == 201, body
    deadline = time.monotonic() + 60
    out = ""
    while time.monotonic() < deadline:
        code, out = curl(port, "-H", "Authorization: Bearer " + TOKEN,
                         "http://127.0.0.1:%d/v1/vms/posted/console?since=0" % port)
        if code == 200 and "echo" in out:
            break
        time.sleep(1)
    assert code == 200 and "echo" in out, out[-500:]
    assert "posted" in list_rows(child)


def test_shutdown_then_seen_stopped(host):
    child, port = host
    rc, out, err = hvctl(port, "shutdown", "web")
    assert rc == 0, err
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rc, out, err = hvctl(port, "list")
        row = [l.split() for l in out.splitlines() if l.startswith("web ")]
        if row and row[0][2] == "stopped":
            break
        time.sleep(1)
    assert row and row[0][2] == "stopped", out
    assert list_rows(child)["web"][1] == "stopped"


def test_metrics_parse_as_prometheus_text(host):
    from prometheus_client.parser import text_string_to_metric_families
    _, port = host
    code, body = curl(port, "-H", "Authorization: Bearer " + TOKEN,
                      "http://127.0.0.1:%d/metrics" % port)
    assert code == 200, body
    families = {f.name: f for f in text_string_to_metric_families(body)}
    assert families, body[:500]
    samples = [s for f in families.values() for s in f.samples]
    vms = {s.labels.get("vm") for s in samples if "vm" in s.labels}
    assert "db" in vms, sorted(families)
    # CPU time and exits per VM, frames per switch port (the host's own interface at least)
    assert any("cpu" in n for n in families), sorted(families)
    assert any("exit" in n for n in families), sorted(families)
    assert any("port" in n or "frames" in n for n in families), sorted(families)
    code, _ = curl(port, "http://127.0.0.1:%d/metrics" % port)
    assert code == 401
