"""benchmarks/pagefaults.py replays cases and reports per-call time, kernel time and page faults."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = str(ROOT / "benchmarks" / "pagefaults.py")

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="getrusage page faults and CPU pinning")


def _run(*args):
    # A subprocess: the script pins its process to one CPU.
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


@linux_only
def test_reports_one_row_per_case_in_order():
    done = _run("W1:floor:vg", "W1:hodiff:vg", "--calls", "3")
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[1:]]
    assert [row[0] for row in rows] == ["W1:floor:vg", "W1:hodiff:vg"]
    for _, wall, kernel, faults in rows:
        assert float(wall) > 0 and float(kernel) >= 0 and float(faults) >= 0


@pytest.mark.parametrize("spec, message", [("W9:hodiff:vg", "bad case"), ("W1:nobody:vg", "bad case"),
                                           ("W1:hodiff:nothing", "has no case")])
def test_bad_cases_are_named(spec, message):
    done = _run(spec)
    assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr


def test_calls_must_be_positive():
    done = _run("W1:floor:vg", "--calls", "0")
    assert done.returncode == 2 and "--calls" in done.stderr
