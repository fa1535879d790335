"""The management endpoint on lwIP, under QEMU's user network (e1000e, virtio-net).

The hypervisor gets its address by DHCP from QEMU (10.0.2.15/24, gateway
10.0.2.2) and logs it; `info` shows it; its log reaches a syslog listener
on the host side (QEMU's user network maps 10.0.2.2 to the host's
127.0.0.1); the API answers through a forwarded port. The API itself is
tested in test_mgmt_api.py.
"""

import re
import socket
import time

import pytest

from hvconsole import boot, command
from hvrun import qemu

TOKEN = "t0k3n-for-the-test"
DHCP_LINE = re.compile(r"mgmt: (\d+\.\d+\.\d+\.\d+/\d+ gw \d+\.\d+\.\d+\.\d+) \(dhcp\)")
# RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG
SYSLOG = re.compile(r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) - (.*)$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nic(hostfwd_port, device="e1000e"):
    return ["-nic", "none",
            "-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:%d-:8080" % hostfwd_port,
            "-device", "%s,netdev=n0" % device]


def http_get(port, path, token=None, timeout=30):
    """One request with Connection: close; returns (status, headers+body as text)."""
    req = "GET %s HTTP/1.1\r\nHost: hv\r\nConnection: close\r\n" % path
    if token:
        req += "Authorization: Bearer %s\r\n" % token
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as c:
        c.sendall((req + "\r\n").encode())
        data = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            data += b
    text = data.decode("utf-8", "replace")
    m = re.match(r"HTTP/1\.1 (\d{3}) ", text)
    assert m, "not an HTTP response: %r" % text[:200]
    return int(m.group(1)), text


def collect(sock, seconds, until=None):
    """Syslog datagrams that arrive within seconds (or until one matches `until`)."""
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        sock.settimeout(max(0.05, end - time.monotonic()))
        try:
            d, _ = sock.recvfrom(4096)
        except socket.timeout:
            break
        out.append(d.decode("utf-8", "replace"))
        if until and until.search(out[-1]):
            break
    return out


@pytest.mark.parametrize("device", ["e1000e", "virtio-net-pci"])
def test_dhcp_info_syslog_and_http(device):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    syslog_port = udp.getsockname()[1]
    http_port = free_tcp_port()
    child = boot([], smp=2, debug_exit=False, extra_args=nic(http_port, device),
                 cmdline="mgmt_token=%s syslog=10.0.2.2:%d" % (TOKEN, syslog_port))
    try:
        child.expect(r"mgmt: waiting for dhcp on eth0", timeout=90)
        child.expect(r"mgmt: API on port 8080", timeout=30)
        child.expect(r"syslog: sending the log to 10\.0\.2\.2:%d" % syslog_port, timeout=30)
        child.expect(r"command line: (.*)\r", timeout=30)
        assert TOKEN not in child.match.group(1)  # the token stays off the log
        assert "mgmt_token=***" in child.match.group(1)
        child.expect(DHCP_LINE.pattern, timeout=60)
        assert child.match.group(1) == "10.0.2.15/24 gw 10.0.2.2"
        child.expect_exact("hv> ", timeout=30)

        out = command(child, "info")
        assert re.search(r"^management: +10\.0\.2\.15/24 gw 10\.0\.2\.2 \(dhcp\)\r*$", out, re.M), out

        # the log over syslog: the boot log from the start, then the DHCP line, each framed by RFC 5424
        grams = collect(udp, 60, until=DHCP_LINE)
        assert grams, "no syslog datagram arrived"
        parsed = [SYSLOG.match(g) for g in grams]
        assert all(parsed), [g for g, p in zip(grams, parsed) if not p][:3]
        assert any("hv: x86-64 hypervisor starting" in p.group(7) for p in parsed)
        dhcp = [p for p in parsed if DHCP_LINE.search(p.group(7))]
        assert dhcp, grams[-5:]
        pri, ts, host, app, procid, msgid, msg = dhcp[0].groups()
        assert int(pri) == 3 * 8 + 6  # daemon.info
        assert TIMESTAMP.match(ts), ts
        assert (host, app, procid, msgid) == ("10.0.2.15", "hv", "-", "mgmt")
        assert msg == "mgmt: 10.0.2.15/24 gw 10.0.2.2 (dhcp)"
        # a line logged now arrives too: the API logs a request without the token
        status, text = http_get(http_port, "/v1/host")
        assert status == 401, text[:300]
        later = collect(udp, 30, until=re.compile(r"request without a token"))
        assert later and "request without a token" in later[-1], later[-5:]
        assert SYSLOG.match(later[-1]), later[-1]

        # the API through the forwarded port
        status, text = http_get(http_port, "/v1/host", TOKEN)
        assert status == 200, text[:300]
        assert "10.0.2.15/24 gw 10.0.2.2 (dhcp)" in text
        # two pipelined requests on one kept-alive connection
        with socket.create_connection(("127.0.0.1", http_port), timeout=30) as c:
            req = ("GET /v1/host HTTP/1.1\r\nHost: hv\r\nAuthorization: Bearer %s\r\n\r\n" % TOKEN)
            c.sendall((req + req).encode())
            data = b""
            while data.count(b"HTTP/1.1 200") < 2:
                b = c.recv(65536)
                assert b, data
                data += b
    finally:
        child.terminate(force=True)
        udp.close()


def test_static_address_without_token():
    run = qemu(cmdline="mgmt=10.0.2.20/24,gw=10.0.2.2", smp=1, extra_args=nic(free_tcp_port()),
               timeout=90)
    assert run.status == 0, run
    assert "mgmt: 10.0.2.20/24 gw 10.0.2.2 (static)" in run.log, run
    assert "mgmt: API off: no mgmt_token= given" in run.log, run
    assert run.report().get("management") == "10.0.2.20/24 gw 10.0.2.2 (static)", run


def test_no_nic_and_bad_options():
    run = qemu(cmdline="mgmt=10.0.2.20 mgmt_token=x", smp=1, extra_args=["-nic", "none"], timeout=90)
    assert run.status == 0, run
    assert "mgmt: mgmt=10.0.2.20: give ADDR/PREFIX, dhcp or off" in run.log, run
    assert "mgmt: off (no NIC)" in run.log, run
    assert run.report().get("management") == "off (no NIC)", run
    run = qemu(cmdline="mgmt=off", smp=1, extra_args=nic(free_tcp_port()), timeout=90)
    assert "mgmt: off (mgmt=off)" in run.log, run
    assert run.report().get("management") == "off (mgmt=off)", run


def test_connection_cap_idle_timeout_and_many_connections():
    http_port = free_tcp_port()
    child = boot([], smp=2, debug_exit=False, extra_args=nic(http_port),
                 cmdline="mgmt_token=%s" % TOKEN)
    held = []
    try:
        child.expect(DHCP_LINE.pattern, timeout=90)
        # more connections, one after another, than lwIP has pcbs (closed ones linger in TIME_WAIT)
        for _ in range(40):
            status, _ = http_get(http_port, "/v1/host", TOKEN)
            assert status == 200
        # four silent connections fill the API (HTTP_MAX_CONNS); a fifth is refused
        for _ in range(4):
            c = socket.create_connection(("127.0.0.1", http_port), timeout=30)
            c.sendall(b"GET /v1/ho")  # an unfinished request: the slot is taken
            held.append(c)
        time.sleep(1)
        # QEMU accepts the forwarded connection itself: the refusal shows as a close without a reply
        with socket.create_connection(("127.0.0.1", http_port), timeout=30) as c:
            c.sendall(b"GET /v1/host HTTP/1.1\r\nHost: hv\r\nAuthorization: Bearer %s\r\n\r\n"
                      % TOKEN.encode())
            try:
                assert c.recv(100) == b""
            except ConnectionResetError:
                pass
        child.expect(r"mgmt: connection from 10\.0\.2\.2 refused: too many connections", timeout=30)
        # the silent ones are closed after HTTP_IDLE_MS (10 s); then the API answers again
        for c in held:
            c.settimeout(30)
            try:
                assert c.recv(100) == b""
            except ConnectionResetError:
                pass
        status, _ = http_get(http_port, "/v1/host", TOKEN)
        assert status == 200
    finally:
        for c in held:
            c.close()
        child.terminate(force=True)
