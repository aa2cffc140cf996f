"""The papers/ scripts fail loudly when their claim does not hold.

tests/test_examples.py runs every papers/*.py with --quick; here each script's
check function is fed numbers that break its claim (it must report a
failure) and numbers that satisfy it (it must not), and two scripts are run
end to end with a claim broken on purpose (they must exit non-zero).
"""

import importlib.util
import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

PAPERS = pathlib.Path(__file__).resolve().parent.parent / "papers"


def load(name):
    """Import papers/<name>.py as a module, undoing its environment and sys.path changes."""
    environ, path = dict(os.environ), list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location(f"papers_{name}", PAPERS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        os.environ.clear()
        os.environ.update(environ)
        sys.path[:] = path
    return module


# ----------------------------------------------------------------- Pearlmutter

def test_pearlmutter_checks():
    paper = load("pearlmutter_hvp")
    good = [dict(n=100, err_modes=1e-15, err_fd=1e-9)]
    assert paper.check_exactness(good) == []
    assert "dense Hessian" in paper.check_exactness([dict(n=100, err_modes=1e-6, err_fd=1e-9)])[0]
    assert paper.check_cost({100: 2.0, 1000: 2.1}, {100: 2.5, 1000: 3.0}) == []
    too_costly = paper.check_cost({100: 2.0, 1000: 30.0})
    assert any("not a small constant" in m for m in too_costly) and any("changes with n" in m for m in too_costly)
    assert "time" in paper.check_cost({100: 2.0}, {100: 50.0})[0]


def test_pearlmutter_work_count_sees_matmul_flops():
    paper = load("pearlmutter_hvp")
    import hodiff.numpy as hnp

    a, b = np.ones((3, 4)), np.ones((4, 5))
    with paper.counting_work() as work:
        hnp.matmul(hnp.tanh(a), b)
    assert work["matmul"] == 2 * 3 * 4 * 5 and work["tanh"] == 12


# ----------------------------------------------------------------- perturbation confusion

def test_perturbation_confusion_check():
    paper = load("perturbation_confusion")
    expected = {"E1": 1.0}
    assert paper.check({"E1": {"jvp.jvp": 1.0}}, expected, {"E1": 2.0}) == []
    assert "E1 via jvp.jvp" in paper.check({"E1": {"jvp.jvp": 2.0}}, expected, {"E1": 2.0})[0]
    assert "no longer demonstrates" in paper.check({"E1": {"jvp.jvp": 1.0}}, expected, {"E1": 1.0})[0]


def test_perturbation_confusion_operators():
    paper = load("perturbation_confusion")
    example, closed = paper.EXAMPLES["E1"]
    assert example(paper.dual_D, paper.dual_D, 1.0) == closed(1.0) == 1.0
    assert example(paper.raw_dual_D, paper.raw_dual_D, 1.0) == 1.0  # raw Duals: a fresh perturbation each
    assert example(paper.shared_D, paper.shared_D, 1.0) == 2.0


def test_perturbation_confusion_exits_nonzero_when_a_mode_confuses(monkeypatch, capsys):
    paper = load("perturbation_confusion")
    monkeypatch.setitem(paper.MODES, "confused", (paper.shared_D, paper.shared_D))
    monkeypatch.setattr(paper, "EXAMPLES", {"E1": paper.EXAMPLES["E1"]})
    with pytest.raises(SystemExit) as exit_info:
        paper.main(["--quick"])
    assert "CLAIM NOT REPRODUCED" in str(exit_info.value.code) and "E1 via confused" in str(exit_info.value.code)


# ----------------------------------------------------------------- Taylor mode

def test_taylor_mode_checks():
    paper = load("taylor_mode")
    quadratic = {k: 10 * k * k for k in range(1, 13)}
    doubling = {k: 10 * 2.0 ** k for k in range(1, 9)}
    assert paper.check({("f", "taylor", 3): 1e-15}, quadratic, doubling) == []
    assert "relative error" in paper.check({("f", "taylor", 3): 1e-6}, quadratic, doubling)[0]
    assert "faster than k^" in paper.check({}, doubling, doubling)[0]
    assert "grows only" in paper.check({}, quadratic, {k: 10 * k for k in range(1, 9)})[0]
    assert "Taylor mode took" in paper.check({}, quadratic, doubling, {8: 1.0}, {8: 0.1})[0]


def test_taylor_mode_closed_forms():
    paper = load("taylor_mode")
    x = 0.3
    assert math.isclose(paper.gaussian_closed(2, x), (4 * x * x - 2) * math.exp(-x * x), rel_tol=1e-14)
    # d/dx sin(x) e^{-x^2} = cos(x) e^{-x^2} - 2 x sin(x) e^{-x^2}
    assert math.isclose(paper.sin_gaussian_closed(1, x), (math.cos(x) - 2 * x * math.sin(x)) * math.exp(-x * x),
                        rel_tol=1e-14)


# ----------------------------------------------------------------- Hessian density

def test_hessian_density_compare_and_check():
    paper = load("hessian_density")
    import hodiff as hd
    import hodiff.numpy as hnp

    # A quadratic with a known, smooth spectrum (a gamma sample): H = diag(eigenvalues).
    eigenvalues = np.sort(np.random.default_rng(0).gamma(2.0, 1.0, 200))
    f = lambda x: 0.5 * hnp.sum(eigenvalues * x * x)
    x = np.zeros(200)
    density = hd.hessian_density(f, x, runs=8, steps=30, seed=0)
    top = hd.hessian_eigs(f, x, k=3, return_eigenvectors=False).values
    result = paper.compare(eigenvalues, density, top)
    assert paper.check(result) == []
    shifted = density._replace(nodes=density.nodes + 1.0)  # a biased estimate: every check on it must fail
    failures = paper.check(paper.compare(eigenvalues, shifted, top + 1e-3))
    assert any("standard errors" in m for m in failures) and any("Wasserstein" in m for m in failures)
    assert any("eigsh" in m for m in failures) and any("Ritz" in m for m in failures)


# ----------------------------------------------------------------- influence functions

def test_influence_functions_checks_and_fit():
    paper = load("influence_functions")
    import hodiff as hd

    actual = np.array([0.1, -0.2, 0.3, 0.05])
    assert paper.check(1e-12, {0: paper.agreement(actual * 0.95, actual)}) == []
    assert "dense solve" in paper.check(1e-3, {0: paper.agreement(actual, actual)})[0]
    assert "Pearson" in paper.check(0.0, {0: paper.agreement(-actual, actual)})[0]
    assert "slope" in paper.check(0.0, {0: paper.agreement(actual / 2, actual)})[0]

    X, y, _, _ = paper.make_data(30, 0, 3)
    objective = paper.make_objective(X, y)
    theta = paper.fit(objective, np.ones(30), np.zeros(3))
    assert np.abs(hd.grad(objective)(theta, np.ones(30))).max() < 1e-14


# ----------------------------------------------------------------- Hessian-free

def test_hessian_free_cg_solves_an_spd_system():
    paper = load("hessian_free")
    diagonal = np.linspace(1.0, 50.0, 30)
    b = np.random.default_rng(0).standard_normal(30)
    x, phi, used = paper.truncated_cg(lambda v: diagonal * v, b, np.zeros(30), 100)
    quadratic = lambda v: 0.5 * v @ (diagonal * v) - b @ v
    assert used < 100 and quadratic(x) <= 0.999 * quadratic(b / diagonal)  # within 0.1% of the optimum (< 0)
    assert math.isclose(phi, quadratic(x), rel_tol=1e-12)  # the model value CG returns, from its residual
    x, _, used = paper.truncated_cg(lambda v: diagonal * v, b, b / diagonal, 100)  # warm start at the solution
    assert np.allclose(x, b / diagonal, rtol=1e-12) and used == 0


def test_hessian_free_meter_counts_every_call_and_stops_at_the_budget():
    paper = load("hessian_free")
    meter = paper.Meter(dict(gradient=1.0, loss=0.25), budget=3.5)
    values = iter([5.0, 3.0, 4.0, 1.0])
    counted = meter.counted(lambda theta: (next(values), None))
    for theta in range(3):
        counted(np.array([theta]))
    assert meter.counts == {"gradient": 3} and meter.work == 3.0
    assert meter.curve == [(1.0, 5.0), (2.0, 3.0), (3.0, 3.0)] and meter.best_theta.tolist() == [1.0]
    with pytest.raises(paper.BudgetSpent):
        counted(np.array([3]))  # a fourth gradient would spend 4 > 3.5: not evaluated, not charged
    assert meter.work == 3.0 and next(values) == 1.0
    meter.charge("loss", 2)
    assert meter.work == 3.5 and meter.counts["loss"] == 2 and meter.at(2.5) == 3.0 and meter.at(0.5) == np.inf


def test_hessian_free_methods_spend_the_budget_on_a_tiny_autoencoder():
    paper = load("hessian_free")
    images = np.random.default_rng(0).uniform(size=(6, 5))
    net = paper.Autoencoder(images, (3, 2))
    checks = paper.ggn_checks(net, net.theta0)
    assert checks["error"] < 1e-12 and checks["min_ggn"] >= -1e-12 and checks["min_hessian"] < 0
    prices = paper.measure_prices(net)
    assert 0 < prices["loss"] < 1 < prices["product"] < 3, prices
    start = float(net.loss(net.theta0))
    meters = {name: paper.Meter(prices, 60) for name in ("hf", "lbfgs", "momentum")}
    log = paper.hessian_free(net, meters["hf"])
    assert paper.lbfgs(net, meters["lbfgs"]) == "stopped by the budget"
    paper.momentum(net, meters["momentum"], 0.05, 0.9)
    for name, meter in meters.items():
        # the work is the evaluations made, each at its price, and stays within the budget
        assert math.isclose(meter.work, sum(prices[kind] * count for kind, count in meter.counts.items())), name
        assert 0.9 * 60 <= meter.work <= 60 and meter.best < start, name
        assert math.isclose(meter.best, float(net.loss(meter.best_theta)), rel_tol=1e-12), name
    assert meters["lbfgs"].counts == {"gradient": 60} and meters["momentum"].counts == {"gradient": 60}
    hf = meters["hf"].counts
    assert hf["gradient"] == hf["curvature"] == hf["loss"] == len(log)
    assert hf["product"] == sum(used + 1 for used, _, _ in log)  # CG's iterations and its first residual
    assert net.floor() < meters["hf"].best and net.squared_error(net.theta0) > 0


def test_hessian_free_check_flags_each_broken_claim():
    paper = load("hessian_free")
    exact = {"net": dict(n=10, error=1e-15, min_ggn=-1e-16, max_ggn=1.0, min_hessian=-1.0)}
    floor, budget = 10.0, 100

    def results(hf=5.0, lbfgs=5.2, momentum=7.0, work=100.0):
        return {"hf": dict(loss=floor + hf, work=work), "lbfgs": dict(loss=floor + lbfgs, work=100.0),
                "momentum": dict(loss=floor + momentum, work=100.0)}

    assert paper.check(exact, results(), floor, budget) == []
    assert "dense J^T" in paper.check({"net": dict(exact["net"], error=1e-6)}, results(), floor, budget)[0]
    assert "not PSD" in paper.check({"net": dict(exact["net"], min_ggn=-0.1)}, results(), floor, budget)[0]
    assert "positive semidefinite" in paper.check({"net": dict(exact["net"], min_hessian=0.0)}, results(), floor,
                                                  budget)[0]
    assert "not at equal work" in paper.check(exact, results(work=80.0), floor, budget)[0]
    assert "not at equal work" in paper.check(exact, results(work=101.0), floor, budget)[0]
    assert "best momentum" in paper.check(exact, results(momentum=5.5), floor, budget)[0]
    assert "no longer describes" in paper.check(exact, results(lbfgs=3.0), floor, budget)[0]  # L-BFGS far ahead
    assert "no longer describes" in paper.check(exact, results(lbfgs=7.0), floor, budget)[0]  # HF far ahead
    assert paper.check(exact, results(momentum=5.5, lbfgs=3.0), floor, budget, compare=False) == []


# ----------------------------------------------------------------- the lecture

def test_backprop_lecture_checks(monkeypatch):
    paper = load("backprop_lecture")
    assert paper.check_neuron(0.7311, (-0.1966, -0.3932, 0.1966), (0.3932, -0.5898), True) == []
    assert "the notes say" in paper.check_neuron(0.75, (-0.1966, -0.3932, 0.1966), (0.3932, -0.5898), True)[0]
    assert paper.check_close("x", [1.0, 2.0], [1.0, 2.0 + 1e-6])
    monkeypatch.setattr(paper, "NOTES_GATES", (-8.0, 6.0, 1.0, 1.0))  # max sharing its gradient: wrong
    with pytest.raises(SystemExit) as exit_info:
        paper.main(["--quick"])
    assert "gate patterns" in str(exit_info.value.code)


# ----------------------------------------------------------------- Hutch++

def test_hutchpp_checks():
    paper = load("hutchpp")
    theory = [0.1, 0.05]

    def row(hutchinson, hutchpp, needed=(500.0, 40.0)):
        return dict(errors={"hutchinson": [0.1 * hutchinson, 0.05 * hutchinson]}, theory=theory,
                    slopes={"hutchinson": -0.5, "hutch++": hutchpp},
                    needed={"hutchinson": needed[0], "hutch++": needed[1]})

    assert paper.check({1: row(1.0, -1.0), 2: row(1.1, -2.0)}) == []
    assert "closed form" in paper.check({1: row(2.0, -1.0), 2: row(1.0, -2.0)})[0]
    assert "c = 1: Hutch++'s error falls" in paper.check({1: row(1.0, -0.55), 2: row(1.0, -2.0)})[0]
    assert "steeper" in paper.check({1: row(1.0, -1.0), 2: row(1.0, -0.6)})[0]
    assert "products for 1% error" in paper.check({1: row(1.0, -1.0, (500.0, 300.0)), 2: row(1.0, -2.0)})[0]
    # The slope and the budget for a target come from a least-squares line through the errors.
    fit = paper.slope(np.array([10, 100, 1000]), np.array([1.0, 0.1, 0.01]))
    assert abs(fit[0] + 1.0) < 1e-12 and abs(paper.matvecs_for(0.001, fit) - 10000) < 1e-6


# ----------------------------------------------------------------- Baydin et al.'s traces

def test_baydin_traces_checks():
    paper = load("baydin_traces")
    result = paper.traces(*paper.POINT)
    assert paper.check_traces(result) == []

    def broken(part, label, value):
        rows = [(name, text, value if name == label else old) for name, text, old in result[part]]
        return dict(result, **{part: rows})

    assert "primal trace: v[3]" in paper.check_traces(broken("primal", "v[3]", -0.95))[0]
    assert "tangent trace: vdot[2]" in paper.check_traces(broken("tangent", "vdot[2]", 2.0))[0]
    failures = paper.check_traces(dict(result, adjoint=result["adjoint"][::-1]))
    assert "adjoint trace visits" in failures[0]
    failures = paper.check_traces(dict(result, gradient=(5.5, 1.72)))
    assert any("dy/dx2 (reverse)" in m and "closed form" in m for m in failures)
    assert any("paper prints 1.716" in m for m in failures)
    failures = paper.check_traces(dict(result, final_adjoints=dict(result["final_adjoints"], **{"v[0]": 2.0})))
    assert "accumulates to 2.0" in failures[0]


def test_baydin_traces_read_the_paper_numbers_from_the_graph():
    paper = load("baydin_traces")
    result = paper.traces(2.0, 5.0)
    # The survey's Table 3 adjoint trace, by hand: vbar0 = vbar3 cos 5, then + vbar2 x1; vbar-1 = x2, then + 1/x1.
    adjoint = [value for _, _, value in result["adjoint"]]
    assert adjoint[5] == math.cos(5.0) * -1.0 and adjoint[7] == -math.cos(5.0) + 2.0
    assert adjoint[6] == 5.0 and adjoint[8] == 5.5
    assert [label for label, _, _ in result["primal"]] == ["v[-1]", "v[0]", "v[1]", "v[2]", "v[3]", "v[4]", "v[5]"]
    assert paper.printed(-0.0) == "0" and paper.printed(10.0) == "10" and paper.printed(-0.2836) == "-0.284"


def test_baydin_finite_differences():
    sympy = pytest.importorskip("sympy")
    paper = load("baydin_traces")
    x = sympy.Symbol("x")
    f = 64 * x * (1 - x) * (1 - 2 * x) ** 2 * (1 - 8 * x + 8 * x ** 2) ** 2
    point = sympy.Rational(0.2)  # the double nearest 0.2, exactly
    assert paper.exact_derivatives(0.2) == tuple(float(sympy.diff(f, x, k).subs(x, point)) for k in range(3))

    good = dict(truncation=1.0, roundoff=-1.0, center=2.0, best_step=1e-8, best_forward=1e-7, best_center=1e-10,
                ad_error=0.0)
    assert paper.check_differences(good) == []
    assert "truncation side" in paper.check_differences(dict(good, truncation=2.0))[0]
    assert "round-off side" in paper.check_differences(dict(good, roundoff=0.0))[0]
    assert "center differences, truncation" in paper.check_differences(dict(good, center=1.0))[0]
    assert "best at h = 1.0e-05" in paper.check_differences(dict(good, best_step=1e-5))[0]
    assert "not below" in paper.check_differences(dict(good, best_center=1e-6))[0]
    assert "hodiff's derivative" in paper.check_differences(dict(good, ad_error=1e-10))[0]
    # An error that is a pure h (no round-off) has no V: its small-h slope is +1, and the check says so.
    h = 10.0 ** -np.arange(1.0, 16.0)
    assert "round-off side" in paper.check_differences(
        dict(good, roundoff=paper.window_slope(h, h, paper.ROUNDOFF_WINDOW)))[0]


def test_baydin_exits_nonzero_when_a_printed_number_disagrees(monkeypatch):
    paper = load("baydin_traces")
    monkeypatch.setattr(paper, "PAPER_GRADIENT", (5.5, 1.717))
    with pytest.raises(SystemExit) as exit_info:
        paper.main(["--quick"])
    assert "CLAIM NOT REPRODUCED" in str(exit_info.value.code) and "1.717" in str(exit_info.value.code)


# ----------------------------------------------------------------- run_all.py

def test_run_all_runs_the_named_scripts_and_tabulates_them(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(PAPERS.parent))
    result = subprocess.run([sys.executable, str(PAPERS / "run_all.py"), "--quick", "--only", "baydin_traces",
                             "--png-dir", str(tmp_path / "figures")],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    row = [line for line in result.stdout.splitlines() if line.startswith("baydin_traces.py  ")][-1]
    assert "PASS" in row and "Reproduced: Tables 2 and 3" in row and "all 1 reproductions passed" in result.stdout


def test_claim_lines_are_printed_and_parsed(capsys):
    claims = load("_claims")
    claims.claim("y", 11.652, "11.652", "Table 2 | 3")
    printed = capsys.readouterr().out
    assert printed.startswith("@@claim {")
    stdout = "a table\n" + printed + "@@claim not json\n"
    with pytest.raises(ValueError, match="malformed"):
        claims.parse_claims(stdout)
    assert claims.parse_claims("x\n" + printed) == [
        dict(what="y", published="11.652", ours="11.652", reference="Table 2 | 3")]
    with pytest.raises(ValueError, match="exactly the fields"):
        claims.parse_claims('@@claim {"what": "y"}')


def test_every_paper_script_prints_claim_lines():
    scripts = [path for path in sorted(PAPERS.glob("*.py")) if path.name not in ("run_all.py", "_claims.py")]
    assert len(scripts) >= 13
    silent = [path.name for path in scripts if "from papers._claims import claim" not in path.read_text()
              or "claim(" not in path.read_text().split("from papers._claims import claim", 1)[1]]
    assert silent == [], f"scripts that print no @@claim line: {silent}"


def test_run_all_writes_the_published_and_ours_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Papers\n\nintro\n\n## Published and ours\n\nstale\n\n## Later\n\nkept\n")
    env = dict(os.environ, PYTHONPATH=str(PAPERS.parent))
    result = subprocess.run([sys.executable, str(PAPERS / "run_all.py"), "--quick", "--only", "baydin_traces",
                             "--png-dir", str(tmp_path / "figures"), "--readme", str(readme)],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    text = readme.read_text()
    assert text.startswith("# Papers\n\nintro\n\n## Published and ours\n") and "stale" not in text
    assert text.count("## Published and ours") == 1 and text.endswith("## Later\n\nkept\n")
    assert "**quick mode**" in text and "--only baydin_traces" in text
    rows = [line for line in text.splitlines() if line.startswith("| `baydin_traces.py`")]
    assert any("| 11.652 | 11.652 |" in row and row.endswith("| PASS |") for row in rows)
    assert any("| 1.716 | 1.716 |" in row for row in rows)
    run_all = load("run_all")
    appended = run_all.with_section("# T\n", "## Published and ours\n\nnew\n")
    assert appended == "# T\n\n## Published and ours\n\nnew\n"


def test_run_all_fails_when_a_claim_fails(tmp_path):
    (tmp_path / "good.py").write_text('print("Reproduced: fine")\n')
    (tmp_path / "bad.py").write_text('import sys\nsys.exit("bad.py: CLAIM NOT REPRODUCED\\n  x = 3, expected 2")\n')
    (tmp_path / "run_all.py").write_text("raise SystemExit('run_all must not run itself')\n")
    result = subprocess.run([sys.executable, str(PAPERS / "run_all.py"), "--dir", str(tmp_path),
                             "--png-dir", str(tmp_path / "figures")],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("bad.py") and "FAIL" in line and "x = 3, expected 2" in line for line in lines)
    assert any(line.startswith("good.py") and "PASS" in line and "Reproduced: fine" in line for line in lines)
    assert "1 of 2 reproductions failed: bad.py" in result.stderr
    paper = load("run_all")
    assert paper.summary_line(1, "", "Traceback ...\nValueError: boom\n") == "ValueError: boom"

# ----------------------------------------------------------------- collapsed Taylor

def test_collapsed_taylor_checks():
    paper = load("collapsed_taylor")

    def fit(collapsed_ms, collapsed_mib, standard_ms):
        return {"nested": {"ms": 10.0, "mib": 2.0}, "standard": {"ms": standard_ms, "mib": 5.0},
                "collapsed": {"ms": collapsed_ms, "mib": collapsed_mib}}

    assert paper.check(fit(5.0, 1.0, 14.0), 0.0, quick=False) == []
    assert "time per datum is 0.70x" in paper.check(fit(7.0, 1.0, 14.0), 0.0, quick=False)[0]
    assert "memory per datum is 0.80x" in paper.check(fit(5.0, 1.6, 14.0), 0.0, quick=False)[0]
    assert "faster than the paper" in paper.check(fit(5.0, 1.0, 6.0), 0.0, quick=False)[0]
    assert "closed form" in paper.check(fit(5.0, 1.0, 14.0), 1e-6, quick=True)[0]
    assert paper.check(fit(9.0, 9.0, 1.0), 0.0, quick=True) == []  # quick mode checks no timing
    # slopes are least-squares lines through time and memory against batch size
    figures = {"results": [{"batch": b, "routes": {"nested": {"ms": 1 + 2 * b, "mib": 3 * b},
                                                   "stochastic (9 probes)": {"ms": 0, "mib": 0}}}
                           for b in (1, 2, 4)]}
    assert paper.slopes(figures) == {"nested": {"ms": pytest.approx(2.0), "mib": pytest.approx(3.0)}}
    assert paper.closed_form_check() < 1e-12


# ----------------------------------------------------------------- Bettencourt et al., Fig. 1

def test_bettencourt_taylor_checks():
    paper = load("bettencourt_taylor")
    orders = list(range(10))
    good = {("sin", "nested"): {k: 1e-5 * 2.0 ** k for k in orders}, ("sin", "taylor"): {k: 1e-4 for k in orders}}
    assert paper.check({("sin", "taylor", 3): 1e-15}, good, orders) == []
    assert "relative error" in paper.check({("sin", "taylor", 3): 1e-6}, good, orders)[0]
    slow_taylor = {**good, ("sin", "taylor"): {k: 1.0 for k in orders}}
    assert "not faster" in paper.check({}, slow_taylor, orders)[0]
    flat = {("sin", "nested"): {k: 1e-2 for k in orders}, ("sin", "taylor"): {k: 1e-4 for k in orders}}
    assert "grows only" in paper.check({}, flat, orders)[0]


def test_bettencourt_taylor_references():
    paper = load("bettencourt_taylor")
    assert math.isclose(paper.sympy_derivative(paper.PRIMITIVES["sin"][1], 3, 0.7), -math.cos(0.7), rel_tol=1e-14)
    weights = paper.mlp_weights(width=4)
    f = paper.mlp_mpmath(weights)
    step = 1e-6  # the mpmath reference's first derivative against a central difference of the numpy MLP
    W1, b1 = weights[0]
    W2, b2 = weights[1]
    W3, b3 = weights[2]

    def numpy_mlp(x):
        return (np.tanh(np.tanh(x * W1 + b1) @ W2 + b2) @ W3 + b3).item()

    central = (numpy_mlp(0.3 + step) - numpy_mlp(0.3 - step)) / (2 * step)
    assert math.isclose(paper.mpmath_derivative(f, 1, 0.3), central, rel_tol=1e-7)


# ----------------------------------------------------------------- Dagreou et al., HVP modes

def test_dagreou_hvp_checks():
    paper = load("dagreou_hvp")
    assert paper.check({"fwd-rev vs dense": 1e-15}, {("fwd-rev", 2, 16): 2.5}) == []
    assert "relative error" in paper.check({"fwd-rev vs dense": 1e-5}, {})[0]
    assert "gradients >" in paper.check({}, {("rev-rev", 8, 256): 20.0})[0]


def test_dagreou_hvp_routes_match_dense_hessian():
    paper = load("dagreou_hvp")
    import hodiff as hd
    import hodiff.numpy as hnp

    shapes, w, X, y, v = paper.problem(2, 5, 3)
    f = paper.loss(shapes, X, y, hnp.tanh, hnp.reshape, hnp.mean)
    # reference outside hd.hvp: central differences of the gradient along v
    g = hd.grad(f)
    fd = (g(w + 1e-5 * v) - g(w - 1e-5 * v)) / 2e-5
    for mode in paper.MODES:
        assert np.allclose(paper.hvp_value(paper.routes(shapes, X, y, "hodiff")[mode](w, v)), fd, rtol=1e-6, atol=1e-8)


# ----------------------------------------------------------------- Pearlmutter & Siskind's saddle and particle

def test_saddle_particle_pieces():
    paper = load("saddle_particle")
    f = lambda y: paper.saddle_f((1.0, 2.0), y)  # noqa: E731
    g = lambda x: paper.saddle_f(x, (3.0, 4.0))  # noqa: E731
    for mode in paper.MODES.values():
        assert tuple(mode(f)((3.0, 4.0))) == (-6.0, -8.0) and tuple(mode(g)((1.0, 2.0))) == (2.0, 4.0)
    # the field of the Euler loop, either inner mode, against the closed form
    charges = ((10.0, 9.7), (10.0, 0.0))
    closed = paper.field_closed_form(charges, math.sqrt)((1.5, 6.0))
    for mode in paper.MODES.values():
        assert np.allclose(mode(paper.potential(charges))((1.5, 6.0)), closed, rtol=1e-14, atol=0)
    # the complex-step reference gradient against central differences of the float objective
    h, objective = 1e-6, paper.particle_reference_objective
    central = (objective((0.1 + h,)) - objective((0.1 - h,))) / (2 * h)
    assert math.isclose(paper.particle_reference_gradient((0.1,))[0], central, rel_tol=1e-6)


def test_saddle_particle_one_step_of_each_variant():
    paper = load("saddle_particle")
    reference = paper.saddle_reference(paper.START, max_steps=1)
    for variant in paper.VARIANTS:
        outer, inner = paper.MODES[variant[0]], paper.MODES[variant[1]]
        # d/dx max_y f(x, y) = 2x exactly: the inner iterates do not depend on x
        assert paper.saddle_parts(outer, inner)[1]((0.5, -0.25)) == (1.0, -0.5)
        assert paper.saddle(outer, inner, paper.START, max_steps=1) == reference
    # the particle's outer gradient through the whole Euler loop, the two mixed nestings, against the complex step
    want = paper.particle_reference_gradient((0.1,))[0]
    for variant in ("fr", "rf"):
        objective, gradient = paper.particle_parts(paper.MODES[variant[0]], paper.MODES[variant[1]])
        assert math.isclose(float(gradient((0.1,))[0]), want, rel_tol=1e-12)


def test_saddle_particle_check_reports_wrong_outputs():
    paper = load("saddle_particle")
    out = {v: (0.2071918746486119,) for v in paper.VARIANTS}
    grads = {v: (-19.4,) for v in paper.VARIANTS}
    good = dict(reference=(0.2071918746486119,), gradients=grads, reference_gradient=(-19.4,),
                gradbench=paper.GRADBENCH["particle"])
    assert paper.check("particle", out, **good) == []
    assert "against GradBench's" in paper.check("particle", dict(out, rf=(0.2073,)), **good)[0]
    failures = paper.check("particle", dict(out, fr=(0.20719187464,)), **good)
    assert any("hodiff-free reference" in m for m in failures) and any("fr" in m and "disagree" in m for m in failures)
    wrong_gradient = dict(good, gradients=dict(grads, ff=(-19.5,)))
    assert "perturbation confusion?" in paper.check("particle", out, **wrong_gradient)[0]


def test_saddle_particle_exits_nonzero_when_forward_mode_confuses(monkeypatch):
    """Every forward-mode invocation on one shared hd.Perturbation (the confused implementation) must be caught."""
    paper = load("saddle_particle")
    import hodiff as hd

    shared = hd.Perturbation()

    def confused(f):
        def gradient(x):
            seeds = [tuple(hd.Dual(a, float(i == j), tag=shared) for j, a in enumerate(x)) for i in range(len(x))]
            return tuple(shared.tangent(f(seed)) for seed in seeds)
        return gradient

    monkeypatch.setitem(paper.MODES, "f", confused)
    monkeypatch.setattr(paper, "VARIANTS", ("ff", "rr"))
    with pytest.raises(SystemExit) as exit_info:
        paper.main(["--quick"])
    message = str(exit_info.value.code)
    assert "CLAIM NOT REPRODUCED" in message and "particle ff" in message and "perturbation confusion?" in message
