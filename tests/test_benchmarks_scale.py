"""benchmarks/scale.py works: a quick run (a cap 96 MiB over the imports, ~10 s) and its RESULTS.md section.

The 4 GiB figures themselves are not measured here (about 5 minutes): see benchmarks/README.md.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import report, run, scale  # noqa: E402
from benchmarks import workloads as wl  # noqa: E402

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status and forks probes")


def test_hessian_inputs_are_w5s_draw():
    A, x = scale.hessian_inputs(50)
    A50, x50 = wl.w5_inputs()["n50"]
    assert np.array_equal(A, A50) and np.array_equal(x, x50)


@pytest.mark.parametrize("text, expected", [("4G", (False, 4 << 30)), ("384M", (False, 384 << 20)),
                                            ("+96M", (True, 96 << 20)), ("1.5GiB", (False, 3 << 29)),
                                            ("1000", (False, 1000))])
def test_parse_limit(text, expected):
    assert scale.parse_limit(text) == expected


@pytest.mark.parametrize("text", ["lots", "-1G", "0"])
def test_parse_limit_rejects_nonsense(text):
    with pytest.raises(Exception, match="size|positive"):
        scale.parse_limit(text)


def test_with_section_replaces_only_its_own_section():
    text = "# Title\n\n## Results\n\nold table\n\n## Scale (1 GiB)\n\nstale\n\n## Errors\n\nkept\n"
    new = report.with_section(text, "## Scale (4 GiB)\n\nfresh\n")
    assert new == "# Title\n\n## Results\n\nold table\n\n## Scale (4 GiB)\n\nfresh\n\n## Errors\n\nkept\n"
    assert report.with_section("# Title\n", "## Scale (4 GiB)\n\nx\n") == "# Title\n\n## Scale (4 GiB)\n\nx\n"


def test_a_harness_run_keeps_the_other_scripts_sections_and_drops_its_own_stale_ones():
    old = ("# hodiff benchmark results\n\n## Results\n\nold\n\n## Errors, timeouts and wrong results\n\nstale\n\n"
           "## W9: Laplacian (batch 1-128)\n\nw9 table\n\n## Scale (4 GiB)\n\nscale\n")
    new = "# hodiff benchmark results\n\n## Results\n\nfresh\n\n## Scale (4 GiB)\n\nscale again\n"
    kept = report.keep_other_sections(new, old)
    assert kept == new + "\n## W9: Laplacian (batch 1-128)\n\nw9 table\n"
    assert report.sections(kept).keys() == {"## Results", "## Scale", "## W9: Laplacian"}


@linux_only
def test_a_stalled_probe_did_not_fit_under_a_cap_and_is_an_error_without_one(monkeypatch):
    # CI once saw a chain probe 10% over the cap hang instead of raising MemoryError.
    monkeypatch.setitem(scale.WORKLOADS, "stall", (lambda size: (lambda: time.sleep(60)), None))
    capped = scale.run_probe("stall", 1, 1 << 40, timeout=1)
    assert capped["fit"] is False and capped["why"].startswith("out of time under the cap")
    uncapped = scale.run_probe("stall", 1, 0, timeout=1)
    assert uncapped["fit"] is None and uncapped["why"].startswith("out of time")
    assert capped["wall"] < 30 and uncapped["wall"] < 30


@linux_only
def test_quick_run_finds_both_limits_and_updates_results(tmp_path):
    figures, results = tmp_path / "scale.json", tmp_path / "RESULTS.md"
    results.write_text("# hodiff benchmark results\n\n## Results\n\nthe table\n\n## Scale (8 GiB)\n\nstale\n")
    # An unbounded time budget: the search stops at its resolution, never at the clock, so a
    # loaded machine makes the run slower but not different (the quick budget of 12 s once
    # left no time for a capped probe and failed).
    completed = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scale.py"), "--quick",
                                "--budget", "1e6", "--json", str(figures), "--results", str(results)],
                               capture_output=True, text=True, cwd=tmp_path, timeout=240)
    assert completed.returncode == 0, completed.stderr[-3000:]
    data = json.loads(figures.read_text())
    cap = data["meta"]["limit"]
    assert [r["workload"] for r in data["results"]] == ["hessian", "chain"]
    for result in data["results"]:
        assert "error" not in result, result["error"]
        good, bad = result["good"], result["bad"]
        assert good is not None, f"{result['workload']}: no capped probe ran"
        assert result["base_as"] < good["peak_as"] <= cap
        assert good["rel_err"] <= good["tol"]
        assert bad is None or (bad["size"] > good["size"] and bad["fit"] is False)
        assert any(probe["capped"] and probe["fit"] for probe in result["probes"])
    text = results.read_text()
    assert text.startswith("# hodiff benchmark results\n\n## Results\n\nthe table\n\n## Scale (")
    assert "stale" not in text and "| W5 full Hessian (n)" in text and "| W8 scalar chain (steps)" in text
    assert completed.stdout.startswith("| workload")

    # run.py --from-json keeps the section: it renders it again from the figures' file.
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps({"meta": {
        "date": "today", "mode": "quick", "wall_seconds": 1.0, "command": "python benchmarks/run.py",
        "cpu_model": "cpu", "cpu_count": 2, "memory_gib": 1.0, "platform": "linux", "python": "3.11",
        "threads": 1, "pinning": "not pinned", "openblas_coretype": "unset"}, "records": []}))
    rendered = tmp_path / "RENDERED.md"
    assert run.main(["--from-json", str(saved), "--results", str(rendered), "--scale", str(figures)]) == 0
    assert report.scale_section(data) in rendered.read_text()
    assert run.main(["--from-json", str(saved), "--results", str(rendered),
                     "--scale", str(tmp_path / "missing.json")]) == 0
    assert "## Scale" not in rendered.read_text()
