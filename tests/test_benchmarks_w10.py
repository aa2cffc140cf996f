"""benchmarks/w10_sparse.py --quick runs, its sparse results equal dense, and its colour counts reach the
structural optimum it states (timing targets are printed, never asserted: the machines are shared)."""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_quick_run_agrees_with_dense_and_reaches_the_optimal_colours(tmp_path):
    out = tmp_path / "w10.json"
    completed = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "w10_sparse.py"), "--quick", "--no-asdex",
                                "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    verdicts = [line for line in completed.stdout.splitlines() if line.startswith("- [")]
    agreement = [line for line in verdicts if "|sparse - dense|" in line]
    colours = [line for line in verdicts if "optimum" in line]
    assert len(agreement) == 8 and len(colours) == 6, verdicts
    for line in agreement + colours:
        assert line.startswith("- [met]"), line
    assert json.loads(out.read_text())
