#!/usr/bin/python3
"""Runs hosted cmocka unit-test binaries and sums their results.

Usage: run-unit-tests.py BINARY...

Each binary's output is streamed as it runs. The last line printed is
exactly "unit: N passed, N failed", counting test cases from cmocka's
"[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)" lines. A binary that
crashes before its summary (a sanitizer abort, a signal) counts the case it
was running, and at least one, as failed. The exit status is non-zero if any
binary failed, crashed or could not be run.
"""

import os
import re
import subprocess
import sys

PASSED_RE = re.compile(r"^\[  PASSED  \] (\d+) test\(s\)\.")
FAILED_RE = re.compile(r"^\[  FAILED  \] (\d+) test\(s\)")
RUN_RE = re.compile(r"^\[ RUN      \] ")
CASE_OK_RE = re.compile(r"^\[       OK \] ")
CASE_FAILED_RE = re.compile(r"^\[  FAILED  \] (?!\d+ test\(s\))")


def run_one(binary):
    """Runs one binary; returns (passed, failed, ok) where ok is False on any failure."""
    env = dict(os.environ)
    env["CMOCKA_MESSAGE_OUTPUT"] = "STDOUT"  # the summary format parsed below
    try:
        proc = subprocess.Popen(
            [binary],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            bufsize=1,
            text=True,
            errors="replace",
        )
    except OSError as e:
        print(f"{binary}: cannot run: {e}", flush=True)
        return 0, 1, False

    passed = failed = 0
    summary = False
    started = case_ok = case_failed = 0
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        m = PASSED_RE.match(line)
        if m:
            passed += int(m.group(1))
            summary = True
            continue
        m = FAILED_RE.match(line)
        if m:
            failed += int(m.group(1))
            summary = True
            continue
        if summary:
            continue  # the list of failed names after the summary
        if RUN_RE.match(line):
            started += 1
        elif CASE_OK_RE.match(line):
            case_ok += 1
        elif CASE_FAILED_RE.match(line):
            case_failed += 1
    rc = proc.wait()

    if rc < 0:
        print(f"{binary}: killed by signal {-rc}", flush=True)
    elif rc != 0:
        print(f"{binary}: exit status {rc}", flush=True)

    if not summary:
        # it died before cmocka's summary: cases reported OK passed, the case
        # it was running (or the binary itself) failed
        passed = case_ok
        failed = case_failed + max(1, started - case_ok - case_failed)
        print(f"{binary}: no cmocka summary (crashed?)", flush=True)
    elif rc != 0 and failed == 0:
        # a clean summary but a bad exit (a leak report at exit, say)
        failed = 1
    return passed, failed, rc == 0 and failed == 0


def main(argv):
    if len(argv) < 2:
        print("usage: run-unit-tests.py BINARY...", file=sys.stderr)
        print("unit: 0 passed, 0 failed")
        return 2
    total_passed = total_failed = 0
    all_ok = True
    for binary in argv[1:]:
        print(f"== {binary}", flush=True)
        passed, failed, ok = run_one(binary)
        total_passed += passed
        total_failed += failed
        all_ok = all_ok and ok
    print(f"unit: {total_passed} passed, {total_failed} failed", flush=True)
    return 0 if all_ok and total_failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
