"""Every examples/*.py and papers/*.py script runs, in quick mode, as a subprocess: none may rot.

Scripts must accept ``--quick``; a script that fails (say, a hodiff function
it calls is gone) fails its test.
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPTS_FOUND = sorted(ROOT.glob("examples/*.py")) + sorted(ROOT.glob("papers/*.py"))
# papers/run_all.py runs every papers/*.py again (not itself): here it would double the papers' CI time;
# tests/test_papers.py runs it on one script instead.
SKIPPED = {"papers/run_all.py", "papers/_claims.py"}  # _claims.py: a helper module, not a script
SCRIPTS = [s for s in SCRIPTS_FOUND if f"{s.parent.name}/{s.name}" not in SKIPPED]


def test_there_are_examples():
    names = {script.name for script in SCRIPTS}
    assert {"lecture_sigmoid_neuron.py", "gate_patterns.py", "relu_jacobian.py", "matmul_backprop.py",
            "higher_order.py", "layouts.py"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=[f"{s.parent.name}/{s.name}" for s in SCRIPTS])
def test_script_runs(script, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    # In a scratch directory, so files the script writes do not land in the repository.
    result = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    assert result.stdout.strip(), f"{script.name} printed nothing"
