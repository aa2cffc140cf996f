"""benchmarks/scale_out.py --quick runs on 1- and 2-worker LocalClusters, its sharded results equal
single-process, and its tables have their rows (timing targets are printed, never asserted: the machine is
shared)."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_quick_run_equals_single_process_and_has_its_rows(tmp_path):
    pytest.importorskip("distributed", reason="dask.distributed not installed (extra: dask): scale_out.py needs it")
    out = tmp_path / "scale_out.json"
    results = tmp_path / "RESULTS.md"
    results.write_text("# results\n\n## Other\n\nkept\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, str(ROOT / "benchmarks" / "scale_out.py"), "--quick", "--json", str(out),
               "--results", str(results)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)
    assert completed.returncode == 0, completed.stderr[-3000:] + completed.stdout[-3000:]
    lines = completed.stdout.splitlines()
    equal = [line for line in lines if line.startswith("- [") and "equal single-process" in line]
    assert len(equal) == 2 and all(line.startswith("- [met]") for line in equal), equal
    rows = [line for line in lines if line.startswith("| quick MLP |")]
    main = [row.split("|")[2:5] for row in rows if row.count("|") == 16]
    cache = [row.split("|")[2:5] for row in rows if row.count("|") == 10]
    # single process; in-process (none) x 1, 2 shards; dask on 1 and 2 workers x 1, 2 shards
    assert [[cell.strip() for cell in row] for row in main] == [
        ["single process, whole loss", "-", "-"], ["none", "-", "1"], ["none", "-", "2"],
        ["dask LocalCluster", "1", "1"], ["dask LocalCluster", "1", "2"],
        ["dask LocalCluster", "2", "1"], ["dask LocalCluster", "2", "2"]], rows
    transport = [row.split("|")[11].strip() for row in rows if row.count("|") == 16 and "dask" in row]
    assert len(transport) == 4 and all(float(cell) > 0 for cell in transport), rows  # the no-compute fan-out
    assert [[cell.strip() for cell in row] for row in cache] == [
        ["none", "-", "1"], ["none", "-", "2"], ["dask", "2", "1"], ["dask", "2", "2"]], rows
    assert sum("overhead" in line for line in lines if line.startswith("- [")) == 4
    assert any(line.startswith("| 8 |") for line in lines)  # the projection's N = 8 row
    data = json.loads(out.read_text())
    assert {p for size in data["sizes"] for p in size["worker_hodiff"]} == {str(ROOT / "hodiff" / "__init__.py")}
    text = results.read_text()
    assert "## Other\n\nkept" in text and "## Scale-out" in text
