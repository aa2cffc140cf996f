"""benchmarks/w10_sparse.py --quick runs, its sparse results equal dense, and its colour counts reach the
structural optimum it states (timing targets are printed, never asserted: the machines are shared)."""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_quick_run_agrees_with_dense_and_reaches_the_optimal_colours(tmp_path):
    out = tmp_path / "w10.json"
    results = tmp_path / "RESULTS.md"
    results.write_text("# results\n\n## W9: other\n\nkept\n\n"
                       "## W10: sparse Jacobians and Hessians (an older run)\n\nstale\n")
    completed = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "w10_sparse.py"), "--quick", "--no-asdex",
                                "--json", str(out), "--results", str(results)],
                               capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr[-3000:]
    verdicts = [line for line in completed.stdout.splitlines() if line.startswith("- [")]
    agreement = [line for line in verdicts if "|sparse - dense|" in line]
    colours = [line for line in verdicts if "optimum" in line]
    assert len(agreement) == 8 and len(colours) == 6, verdicts
    for line in agreement + colours:
        assert line.startswith("- [met]"), line
    assert json.loads(out.read_text())["records"]
    written = results.read_text()
    assert "kept" in written and "stale" not in written and written.count("## W10") == 1
    assert "| arrow | 100 | J |" in written and "Targets:" in written
