"""benchmarks/replay_bench.py --quick runs and its replays equal the interpreted calls bit for bit (its timing
target is printed, never asserted: the machines are shared)."""

import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_quick_run_replays_every_workload_exactly(tmp_path):
    out = tmp_path / "replay.json"
    completed = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "replay_bench.py"), "--quick",
                                "--json", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "- [met] replay equals the interpreted call bit for bit" in completed.stdout
    rows = json.loads(out.read_text())
    assert [r["workload"] for r in rows] == ["W1 value_and_grad", "W2 value_and_grad", "W4 hvp", "W6 k=1", "W6 k=4",
                                            "W6 k=8"]
    assert all(r["replays"] >= 2 and r["applications"] > 0 for r in rows)
