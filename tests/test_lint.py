"""The package, its tests, benchmarks, examples and papers pass their own lint configuration
(pyproject's [tool.ruff]; ruff: the test extra)."""

import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _ruff():
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:
        found = shutil.which("ruff")
        return [found] if found else None
    return [find_ruff_bin()]


@pytest.mark.skipif(_ruff() is None, reason="ruff is not installed (pip install '.[test]')")
def test_ruff_check_is_clean():
    result = subprocess.run(_ruff() + ["check", "--no-cache", "--output-format", "concise",
                                      "hodiff", "tests", "benchmarks", "examples", "papers"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
