"""benchmarks/gradbench: hodiff's GradBench evals validate, a wrong derivative is
rejected, and the tool speaks GradBench's JSON-lines protocol (no peers, no timing)."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hodiff as hd
from benchmarks.gradbench import EVALS
from benchmarks.gradbench import run as gb_run
from benchmarks.gradbench.common import difference, mismatches
from benchmarks.gradbench.tool import serve

ROOT = Path(__file__).resolve().parents[1]
INTEGER_KEYS = ("rows", "cols", "repeated")


@pytest.mark.parametrize("name", EVALS)
def test_quick_validation_passes(name):
    assert gb_run.validate_eval(gb_run.load(name), quick=True) == []


def test_tolerance_is_gradbenchs():
    # |x - y| / max(|x| + |y|, 1): absolute below 1, relative above
    assert difference(0.0, 1e-4) == pytest.approx(1e-4)
    assert difference(1000.0, 1000.2) == pytest.approx(0.2 / 2000.2)
    assert mismatches([1.0, 2.0], [1.0, 2.0 + 5e-5]) == []
    assert len(mismatches([1.0, 2.0], [1.0, 2.01])) == 1
    assert mismatches([1.0, 2.0], [1.0]) != []
    assert mismatches([1.0], [np.nan]) != []


@pytest.mark.parametrize("name, primal, derivative",
                         [("lse", "primal", "gradient"), ("llsq", "primal", "gradient"),
                          ("det", "primal", "gradient"), ("kmeans", "cost", "dir"),
                          ("gmm", "objective", "jacobian"), ("ode", "primal", "gradient"),
                          ("lstm", "objective", "jacobian"), ("ba", "objective", "jacobian"),
                          ("ht", "objective", "jacobian")])
def test_wrong_derivative_is_rejected(name, primal, derivative):
    module = gb_run.load(name)
    right = module.FUNCTIONS[derivative]
    # off by a factor 1.01 (e.g. a dropped term's worth): must fail
    # (in a dict only the values: ba's integer rows, cols and repeat counts stay right)
    scaled = lambda v: {k: x if k in INTEGER_KEYS else scaled(x) for k, x in v.items()} if isinstance(v, dict) else 1.01 * np.asarray(v)  # noqa: E501, E731
    wrong = dict(module.FUNCTIONS, **{derivative: lambda inp: scaled(right(inp))})
    assert gb_run.validate_eval(module, quick=True, functions=wrong)
    # a primal close to right but off by 1e-2
    shifted = lambda v: {k: x if k in INTEGER_KEYS else shifted(x) for k, x in v.items()} if isinstance(v, dict) else np.asarray(v) + 1e-2  # noqa: E501, E731
    wrong_primal = dict(module.FUNCTIONS, **{primal: lambda inp: shifted(module.FUNCTIONS[primal](inp))})
    assert gb_run.validate_eval(module, quick=True, functions=wrong_primal)


def test_kmeans_wrong_hessian_is_rejected():
    # the Newton direction with H taken as 1 (J alone) instead of 2 |cluster|
    module = gb_run.load("kmeans")
    wrong = dict(module.FUNCTIONS, dir=lambda inp: module.hd.grad(module.cost)(inp["centroids"], inp["points"]))
    assert gb_run.validate_eval(module, quick=True, functions=wrong)


def test_wrong_hello_double_is_rejected():
    module = gb_run.load("hello")
    wrong = dict(module.FUNCTIONS, double=lambda x: 2.0 * x + 1e-3)
    assert gb_run.validate_eval(module, quick=True, functions=wrong)


def test_references_are_independent_closed_forms():
    # det's Jacobi formula against central differences of numpy's det
    module = gb_run.load("det")
    rng = np.random.default_rng(0)
    A = rng.random(9)
    g = module.reference("gradient", {"A": A, "ell": 3})
    h = 1e-6
    fd = [(np.linalg.det((A + h * e).reshape(3, 3)) - np.linalg.det((A - h * e).reshape(3, 3))) / (2 * h)
          for e in np.eye(9)]
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    # llsq's closed-form gradient against central differences of its closed-form primal
    module = gb_run.load("llsq")
    inp = {"x": rng.random(4), "n": 7}
    g = module.reference("gradient", inp)
    fd = [(module.reference("primal", {"x": inp["x"] + h * e, "n": 7})
           - module.reference("primal", {"x": inp["x"] - h * e, "n": 7})) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)
    # kmeans' closed-form direction: J / diag(H) from central differences of the closed-form cost
    module = gb_run.load("kmeans")
    P = rng.random((12, 2))
    C = P[-3:].copy()
    cost = lambda c: module.reference("cost", {"points": P, "centroids": c.reshape(3, 2)})  # noqa: E731
    c0, E = C.ravel(), np.eye(6) * 1e-4
    J = np.array([(cost(c0 + e) - cost(c0 - e)) / 2e-4 for e in E])
    H = np.array([(cost(c0 + e) - 2 * cost(c0) + cost(c0 - e)) / 1e-8 for e in E])
    np.testing.assert_allclose(module.reference("dir", {"points": P, "centroids": C}).ravel(), J / H,
                               rtol=1e-5, atol=1e-8)


def test_gmm_references_against_differences():
    # the closed-form gradient against central differences of the definition-based objective
    module = gb_run.load("gmm")
    inp = module.generate(5, 3, 2, 6, m=1, gamma=0.7)
    g = module.reference("jacobian", inp)
    h = 1e-6
    for key in module.INDEPENDENT:
        fd = np.zeros_like(inp[key])
        for index in np.ndindex(inp[key].shape):
            plus, minus = dict(inp, **{key: inp[key].copy()}), dict(inp, **{key: inp[key].copy()})
            plus[key][index] += h
            minus[key][index] -= h
            fd[index] = (module.reference("objective", plus) - module.reference("objective", minus)) / (2 * h)
        np.testing.assert_allclose(g[key], fd, rtol=1e-6, atol=1e-6)
    # a dict output with a key missing is a mismatch
    assert mismatches(g, {k: v for k, v in g.items() if k != "l"})


def test_ode_references_against_differences_and_exact_solution():
    module = gb_run.load("ode")
    h = 1e-6
    for _, description, inp in module.inputs(quick=True)[1::2]:
        # the hand-written RK4 adjoint against central differences of the reference primal
        x, s = inp["x"], inp["s"]
        fd = [(module.reference("primal", {"x": x + h * e, "s": s})[-1]
               - module.reference("primal", {"x": x - h * e, "s": s})[-1]) / (2 * h) for e in np.eye(len(x))]
        np.testing.assert_allclose(module.reference("gradient", inp), fd, rtol=1e-6, atol=1e-9, err_msg=description)
        # RK4 is exact on this nilpotent linear system for n <= 4: GradBench's manual gradient agrees there
        if len(x) <= 4:
            np.testing.assert_allclose(module.reference("gradient", inp), module.exact_gradient(inp), rtol=1e-12)
    # the quick gradients are large enough for the 1e-4 tolerance to see a 1% error
    assert max(np.abs(module.reference("gradient", inp)).max() for _, _, inp in module.inputs(quick=True)) > 1.0


def test_lstm_references_against_differences():
    # the hand-written backpropagation through time against central differences of the reference objective
    module = gb_run.load("lstm")
    np.random.seed(3)
    inp = module.gen_lstm(module._text(), 2, 4)
    g = module.reference("jacobian", inp)
    h = 1e-6
    fd = []
    for key in ("main_params", "extra_params"):
        for index in np.ndindex(inp[key].shape):
            plus, minus = dict(inp, **{key: inp[key].copy()}), dict(inp, **{key: inp[key].copy()})
            plus[key][index] += h
            minus[key][index] -= h
            fd.append((module.reference("objective", plus) - module.reference("objective", minus)) / (2 * h))
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    assert g.shape == (inp["main_params"].size + inp["extra_params"].size,)
    # swapping the main_params rows of weights and biases (a layout error) is caught
    module_wrong = dict(module.FUNCTIONS, jacobian=lambda inp: np.concatenate(
        [module.FUNCTIONS["jacobian"](inp)[:inp["main_params"].size].reshape(inp["main_params"].shape)[::-1].ravel(),
         module.FUNCTIONS["jacobian"](inp)[inp["main_params"].size:]]))
    assert gb_run.validate_eval(module, quick=True, functions=module_wrong)


def test_ba_layout_and_wrong_blocks():
    module = gb_run.load("ba")
    inp = module.inputs(quick=True)[-1][2]
    n, m, p = inp["n"], inp["m"], inp["p"]
    out = module.FUNCTIONS["jacobian"](inp)
    # ba.hpp's SparseMat: CSR row pointers, 15 entries per reprojection row, 1 per weight row
    assert list(out["rows"][:3]) == [0, 15, 30] and out["rows"][-1] == 31 * p
    assert list(out["cols"][:11]) == list(range(11)) and list(out["cols"][11:15]) == [11 * n, 11 * n + 1,
                                                                                      11 * n + 2, 11 * n + 3 * m]
    assert out["cols"][-1] == 11 * n + 3 * m + p - 1
    assert out["vals"][-1] == pytest.approx(-2 * inp["w"])
    # the two reprojection rows swapped: rejected
    swapped = lambda inp: dict(out, vals=np.concatenate([out["vals"][15:30], out["vals"][:15], out["vals"][30:]]))  # noqa: E731
    assert gb_run.validate_eval(module, quick=True, functions=dict(module.FUNCTIONS, jacobian=swapped))


def test_ht_layout_and_wrong_columns():
    module = gb_run.load("ht")
    (_, _, simple), (_, _, complicated) = module.inputs(quick=True)[::2]
    J = module.FUNCTIONS["jacobian"](complicated)
    npts = len(complicated["us"])
    # GradBench's manual layout: rows 3 i + j, columns [d/du_i0, d/du_i1, 26 theta]; the
    # residual is points - model, so the global translation theta[3:6] gives -I per point
    assert J.shape == (3 * npts, 28)
    assert module.FUNCTIONS["jacobian"](simple).shape == (3 * len(simple["data"]["points"]), 26)
    np.testing.assert_array_equal(J[:, 2 + 3:2 + 6], -np.tile(np.eye(3), (npts, 1)))
    # the us columns swapped, or the theta columns before them: rejected
    right = module.FUNCTIONS["jacobian"]
    for permute in (lambda J: J[:, [1, 0] + list(range(2, 28))], lambda J: np.roll(J, 2, axis=1)):
        wrong = lambda inp, permute=permute: permute(right(inp)) if len(inp["us"]) else right(inp)  # noqa: E731
        assert gb_run.validate_eval(module, quick=True, functions=dict(module.FUNCTIONS, jacobian=wrong))


def test_ht_small_global_rotation_is_the_identity():
    # ht.hpp: below norm 1e-4 the global rotation is the identity; the manual tool's derivative there is 0
    module = gb_run.load("ht")
    inp = module.synthetic(4, True, seed=5)
    inp["theta"][:3] = [3e-5, 0.0, -2e-5]
    np.testing.assert_allclose(module.FUNCTIONS["objective"](inp), module.reference("objective", inp), atol=1e-12)
    J = module.FUNCTIONS["jacobian"](inp)
    assert np.all(J[:, 2:5] == 0.0) and np.any(J[:, 5:] != 0.0)


def test_ht_real_data_and_tool():
    # GradBench's first data file of each variant (read from the mirror), and one served by the tool as JSON
    module = gb_run.load("ht")
    try:
        cases = [module.read_instance(variant, 1) for variant in ("simple_small", "complicated_big")]
    except FileNotFoundError as error:
        pytest.skip(str(error))
    for description, inp in cases:
        for function in ("objective", "jacobian"):
            assert mismatches(module.reference(function, inp), module.FUNCTIONS[function](inp)) == [], description
    from benchmarks.gradbench.common import to_json
    description, inp = cases[1]
    as_json = {"theta": inp["theta"].tolist(), "us": inp["us"].tolist(),
               "data": {"correspondences": inp["data"]["correspondences"].tolist(),
                        "points": inp["data"]["points"].tolist(),
                        "model": {k: v.tolist() if isinstance(v, np.ndarray) else v
                                  for k, v in inp["data"]["model"].items()}}}
    message = {"id": 1, "kind": "evaluate", "module": "ht", "function": "jacobian",
               "input": dict(json.loads(json.dumps(as_json)), min_runs=1, min_seconds=0)}
    out = io.StringIO()
    serve(io.StringIO(json.dumps(message) + "\n"), out)
    response = json.loads(out.getvalue())
    assert response["success"], response.get("error")
    assert mismatches(to_json(module.reference("jacobian", inp)), response["output"]) == []
    # the nested model arrives as arrays (indices as ints), the bone names as a list
    from benchmarks.gradbench.tool import _input
    model = _input(message["input"])["data"]["model"]
    assert model["triangles"].dtype.kind == "i" and model["base_positions"].shape == (10000, 4)
    assert model["bone_names"][0] == "wrist" and model["is_mirrored"] is False


def test_driver_quick_runs():
    result = subprocess.run([sys.executable, "benchmarks/gradbench/run.py", "--quick"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"validated {len(EVALS)} evals: ok" in result.stdout


def test_driver_rejects_unknown_eval_and_peer_in_one_line(capsys):
    for argv, message in ((["--quick", "--evals", "nope"], "--evals: unknown eval 'nope'"),
                          (["--quick", "--evals", "hello", "--peers", "nope"], "--peers: unknown peer 'nope'")):
        with pytest.raises(SystemExit) as exit_info:
            gb_run.main(argv)
        assert exit_info.value.code == 2
        error = capsys.readouterr().err
        assert message in error and "Traceback" not in error


def test_tool_protocol_fake_eval():
    """A message sequence as GradBench's lse and hello evals send it; the tool's answers checked."""
    x = [0.5, 1.5, -2.0]
    messages = [
        {"id": 0, "kind": "start", "eval": "lse"},
        {"id": 1, "kind": "define", "module": "lse"},
        {"id": 2, "kind": "evaluate", "module": "lse", "function": "primal",
         "input": {"x": x, "min_runs": 3, "min_seconds": 0}, "description": "n=3"},
        {"id": 3, "kind": "analysis", "of": 2, "valid": True},
        {"id": 4, "kind": "evaluate", "module": "lse", "function": "gradient",
         "input": {"x": x, "min_runs": 1, "min_seconds": 0}},
        {"id": 5, "kind": "evaluate", "module": "hello", "function": "double", "input": 3.0},
        {"id": 6, "kind": "define", "module": "saddle"},
        {"id": 7, "kind": "evaluate", "module": "lse", "function": "hessian", "input": {"x": x}},
        {"id": 8, "kind": "end"},
        {"id": 9, "kind": "start"},  # after end: not answered
    ]
    out = io.StringIO()
    serve(io.StringIO("".join(json.dumps(m) + "\n" for m in messages)), out)
    responses = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["id"] for r in responses] == list(range(8))
    assert responses[0]["tool"] == "hodiff"
    assert responses[1]["success"] is True
    lse_value = np.log(np.sum(np.exp(x)))
    assert responses[2]["success"] and responses[2]["output"] == pytest.approx(lse_value, rel=1e-12)
    assert len(responses[2]["timings"]) == 3
    assert all(t["name"] == "evaluate" and t["nanoseconds"] > 0 for t in responses[2]["timings"])
    assert responses[3] == {"id": 3}
    softmax = np.exp(x) / np.sum(np.exp(x))
    np.testing.assert_allclose(responses[4]["output"], softmax, rtol=1e-12)
    assert responses[5]["output"] == pytest.approx(6.0)
    assert responses[6]["success"] is False and "'saddle'" in responses[6]["error"]
    assert responses[7]["success"] is False and "hessian" in responses[7]["error"]


@pytest.mark.parametrize("name", EVALS)
def test_installed_peers_validate_on_the_quick_inputs(name):
    # the peers are the comparison's other half: one computing something else makes every ratio wrong
    module = gb_run.load(name)
    peers = module.peers()
    if not peers:
        pytest.skip("no peer (autograd, torch, jax) is installed: extra 'bench'")
    for peer, functions in peers.items():
        assert gb_run.validate_eval(module, quick=True, functions=functions) == [], peer


@pytest.mark.parametrize("name", [name for name in EVALS if hasattr(gb_run.load(name), "REPLAYED")])
def test_replayed_functions_replay_and_equal_the_direct_ones_exactly(name):
    module = gb_run.load(name)
    recorders = []

    def record(f):
        recorders.append(hd.record(f))
        return recorders[-1]

    replayed = module._functions(record)
    for _ in range(3):  # record, replay, replay compiled
        for function, _description, inp in module.inputs(quick=True):
            assert mismatches(module.FUNCTIONS[function](inp), replayed[function](inp), tolerance=0) == []
    assert recorders and all(r.replays > 0 for r in recorders)
    assert all(r.recordings <= len(module.inputs(quick=True)) for r in recorders)  # once per signature


@pytest.mark.parametrize("flags", [[], ["--replay"]])
def test_tool_as_subprocess(flags):
    lines = json.dumps({"id": 0, "kind": "start", "eval": "llsq"}) + "\n" + json.dumps(
        {"id": 1, "kind": "evaluate", "module": "llsq", "function": "gradient",
         "input": {"x": [0.1, 0.2, 0.3], "n": 5, "min_runs": 3, "min_seconds": 0}}) + "\n"
    result = subprocess.run([sys.executable, "benchmarks/gradbench/tool.py", *flags], cwd=ROOT, input=lines,
                            capture_output=True, text=True, timeout=120)
    responses = [json.loads(line) for line in result.stdout.splitlines()]
    expected = gb_run.load("llsq").reference("gradient", {"x": np.array([0.1, 0.2, 0.3]), "n": 5})
    np.testing.assert_allclose(responses[1]["output"], expected, rtol=1e-10)


def _worker(eval_name, tool, *flags):
    done = subprocess.run([sys.executable, "benchmarks/gradbench/run.py", "--worker", eval_name, tool, *flags],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [json.loads(line[len(gb_run.MARKER):]) for line in done.stdout.splitlines()
            if line.startswith(gb_run.MARKER)]


def test_a_worker_times_one_tool_on_the_timed_cases_and_validates_them():
    records = _worker("hello", "hodiff+replay", "--keep-freed-memory")  # (without the flag: one call fewer)
    assert [(r["function"], r["case"]) for r in records] == [("square", "x=1"), ("double", "x=1")]
    assert all(r["ms"] > 0 and "invalid" not in r and "error" not in r for r in records)


def test_the_results_header_names_the_malloc_setting():
    module = gb_run.load("hello")
    rows = [{"eval": "hello", "function": "square", "case": "x=1", "hodiff": 1.0, "ratio": None, "replay/jit": None}]
    assert "malloc: glibc's default" in gb_run.results_section([module], rows, [], [])
    tuned = gb_run.results_section([module], rows, [], [], True)
    assert "called hd.keep_freed_memory() first" in tuned
    assert tuned.startswith("## GradBench: hello (benchmarks/gradbench/run.py, --keep-freed-memory)")  # its own


def test_a_worker_names_a_peer_the_eval_leaves_out():
    assert _worker("lstm", "jax") == [{"skipped": gb_run.load("lstm").UNTIMED_PEERS["jax"]}]


def test_rows_put_a_peers_failure_in_its_cell(monkeypatch):
    module = gb_run.load("hello")
    cases = [("square", "x=1"), ("double", "x=1")]
    times = {"hodiff": 2.0, "hodiff+replay": 1.0, "torch": 4.0, "jax+jit": 0.5}

    def fake_worker(module, tool, expected_cases, keep_freed_memory=False):
        assert expected_cases == cases
        if tool == "jax":
            return {case: {"error": "CaseTimeout"} for case in cases}
        if tool == "autograd":
            return {case: {"ms": 1.0, "invalid": "(0,): expected 2.0, got 3.0"} for case in cases}
        return {case: {"ms": times[tool]} for case in cases}

    monkeypatch.setattr(gb_run, "_run_worker", fake_worker)
    rows = gb_run.time_eval(module, ["autograd", "torch", "jax", "jax+jit"])
    assert [row["function"] for row in rows] == ["square", "double"]
    row = rows[0]
    assert row["jax"] is None and row["jax!"] == "CaseTimeout"
    assert row["autograd"] == 1.0 and row["autograd!"].startswith("(0,)")
    assert row["ratio"] == 2.0 / 4.0  # the fastest valid eager peer: torch (autograd's answer was wrong)
    assert row["replay/jit"] == 1.0 / 0.5
    assert "failed" in gb_run.table(rows, ["autograd", "torch", "jax", "jax+jit"])


def test_a_hodiff_failure_stops_the_run(monkeypatch):
    monkeypatch.setattr(gb_run, "_run_worker", lambda module, tool, cases, keep_freed_memory=False: {
        case: {"error": "ValueError: boom"} if tool == "hodiff" else {"ms": 1.0} for case in cases})
    with pytest.raises(RuntimeError, match="hodiff hello square x=1: ValueError: boom"):
        gb_run.time_eval(gb_run.load("hello"), [])
