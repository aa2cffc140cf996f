"""Every examples/*.py and papers/*.py script runs, in quick mode, as a subprocess: none may rot.

A script lists the hodiff functions it needs beyond the core on a line
``# requires: jacobian, nn.relu``; while this build lacks one, the script is
skipped with a reason naming it. Scripts must accept ``--quick``.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

from .requires import missing

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPTS = sorted(ROOT.glob("examples/*.py")) + sorted(ROOT.glob("papers/*.py"))


def required(script):
    match = re.search(r"^# requires: ([\w., ]+)", script.read_text(), re.M)
    return [name.strip() for name in match.group(1).split(",")] if match else []


def test_there_are_examples():
    names = {script.name for script in SCRIPTS}
    assert {"lecture_sigmoid_neuron.py", "gate_patterns.py", "relu_jacobian.py", "matmul_backprop.py",
            "higher_order.py", "layouts.py"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=[f"{s.parent.name}/{s.name}" for s in SCRIPTS])
def test_script_runs(script, tmp_path):
    absent = missing(*required(script))
    if absent:
        pytest.skip("requires " + ", ".join(f"hodiff.{name}" for name in absent) + " (not in this build yet)")
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    # In a scratch directory, so files the script writes do not land in the repository.
    result = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    assert result.stdout.strip(), f"{script.name} printed nothing"
