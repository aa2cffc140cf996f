"""``hodiff laplacian`` (issue 14 item 5): values against sympy's Laplacians, output, limits, bad input.

The expected values are sympy's sums of second derivatives of the same expressions, written
again in sympy's notation; the trace of the dense Hessian that the command prints beside the
collapsed Taylor value is checked to be an independent second route (each is replaced by a
wrong stand-in in turn).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import hodiff as hd
from hodiff.cli.commands import MAX_CROSS_CHECK
from hodiff.cli.main import main

from .test_cli import _grow, _leaves

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_json(capsys, *argv):
    status, out, err = run(capsys, *argv, "--json")
    assert status == 0, err
    return json.loads(out)


def refused(capsys, *argv, status=2):
    got, out, err = run(capsys, *argv)
    assert got == status, err
    assert out == "" and err.count("\n") == 1 and err.startswith("hodiff laplacian") and "Traceback" not in err
    return err


def sympy_laplacian(expression, symbols, point):
    """sum_u d2f/du2 over ``symbols``, at ``point`` (a dict symbol -> number), as a float."""
    return float(sum(sp.diff(expression, u, 2) for u in symbols).subs(point))


x0, x1, x2 = sp.symbols("x0 x1 x2")
SCALAR_CASES = [
    # (expression for the command line, the same in sympy, point)
    ("x0**2*x1**3 + sin(x2)", x0**2 * x1**3 + sp.sin(x2), {x0: 1.0, x1: 2.0, x2: 0.5}),
    ("exp(x0*x1)/(1 + x2**2)", sp.exp(x0 * x1) / (1 + x2**2), {x0: 0.3, x1: -1.2, x2: 0.7}),
    ("tanh(x0 - 2*x1) * log(1 + x2**2) + sqrt(x0)", sp.tanh(x0 - 2 * x1) * sp.log(1 + x2**2) + sp.sqrt(x0),
     {x0: 0.8, x1: 0.1, x2: -1.5}),
]


@pytest.mark.parametrize("text, expression, point", SCALAR_CASES, ids=[c[0] for c in SCALAR_CASES])
def test_scalar_variables_against_sympy(capsys, text, expression, point):
    data = run_json(capsys, "laplacian", text, "--at", *[f"{u}={v!r}" for u, v in point.items()])
    expected = sympy_laplacian(expression, [x0, x1, x2], point)
    assert data["laplacian"] == pytest.approx(expected, rel=1e-12)
    assert data["hessian_trace"] == pytest.approx(expected, rel=1e-12)
    assert data["value"] == pytest.approx(float(expression.subs(point)), rel=1e-14)
    assert data["method"] == "exact" and data["variables"] == ["x0", "x1", "x2"] and data["entries"] == 3


def test_the_closed_form_of_the_brief(capsys):
    # x0**2 x1**3 + sin(x2): Laplacian 2 x1**3 + 6 x0**2 x1 - sin(x2) = 16 + 12 - sin(0.5) at (1, 2, 0.5)
    data = run_json(capsys, "laplacian", "x0**2*x1**3 + sin(x2)", "--at", "x0=1", "x1=2", "x2=0.5")
    assert data["laplacian"] == pytest.approx(28.0 - np.sin(0.5), rel=1e-14)


def test_wrt_restricts_the_trace(capsys):
    # d2/dx0^2 + d2/dx2^2 of x0**2 x1**3 + sin(x2): 2 x1**3 - sin(x2); x1 is a constant
    data = run_json(capsys, "laplacian", "x0**2*x1**3 + sin(x2)", "--at", "x0=1", "x1=2", "x2=0.5",
                    "--wrt", "x0,x2")
    assert data["laplacian"] == pytest.approx(16.0 - np.sin(0.5), rel=1e-14)
    assert data["variables"] == ["x0", "x2"] and data["entries"] == 2
    assert data["hessian_trace"] == pytest.approx(16.0 - np.sin(0.5), rel=1e-14)


def test_vector_and_matrix_variables_against_sympy(capsys):
    # sum(tanh(W @ x)) + s * sum(x**3): the trace over the 6 entries of W, the 3 of x and s
    W_value = [[0.5, -1.0, 0.25], [0.3, 0.8, -0.6]]
    x_value = [0.7, -0.2, 1.1]
    W = sp.Matrix(2, 3, lambda i, j: sp.Symbol(f"W{i}{j}"))
    x = sp.Matrix(3, 1, lambda i, j: sp.Symbol(f"x{i}"))
    s = sp.Symbol("s")
    expression = sum(sp.tanh(e) for e in W * x) + s * sum(e**3 for e in x)
    point = {W[i, j]: W_value[i][j] for i in range(2) for j in range(3)}
    point.update({x[i]: x_value[i] for i in range(3)})
    point[s] = 1.5
    data = run_json(capsys, "laplacian", "sum(tanh(W @ x)) + s*sum(x**3)", "--at", f"W={W_value}",
                    f"x={x_value}", "s=1.5")
    expected = sympy_laplacian(expression, list(W) + list(x) + [s], point)
    assert data["laplacian"] == pytest.approx(expected, rel=1e-12)
    assert data["hessian_trace"] == pytest.approx(expected, rel=1e-12)
    assert data["entries"] == 10 and data["variables"] == ["W", "x", "s"]
    data = run_json(capsys, "laplacian", "sum(tanh(W @ x)) + s*sum(x**3)", "--at", f"W={W_value}",
                    f"x={x_value}", "s=1.5", "--wrt", "W")
    assert data["laplacian"] == pytest.approx(sympy_laplacian(expression, list(W), point), rel=1e-12)
    assert data["entries"] == 6


def test_text_output(capsys):
    status, out, err = run(capsys, "laplacian", "x0**2*x1**3 + sin(x2)", "--at", "x0=1", "x1=2", "x2=0.5",
                           "--precision", "8")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[:2] == ["f = x0**2*x1**3 + sin(x2)", "at x0 = 1, x1 = 2, x2 = 0.5"]
    assert lines[3].split() == ["value", f"{8 + np.sin(0.5):.8g}"]
    assert lines[4].split()[:2] == ["Laplacian", f"{28 - np.sin(0.5):.8g}"]
    assert "collapsed Taylor mode" in lines[4] and "3 entries of x0, x1, x2" in lines[4]
    assert lines[5].startswith("trace of the dense Hessian") and f"{28 - np.sin(0.5):.8g}" in lines[5]


def test_the_laplacian_is_hd_laplacian_and_the_check_is_independent(capsys, monkeypatch):
    calls = []
    real_laplacian, real_hessian = hd.laplacian, hd.hessian

    def wrong_laplacian(f):
        calls.append("laplacian")
        return lambda x: real_laplacian(f)(x) + 1.0

    monkeypatch.setattr(hd, "laplacian", wrong_laplacian)
    data = run_json(capsys, "laplacian", "x0**2*x1**3 + sin(x2)", "--at", "x0=1", "x1=2", "x2=0.5")
    assert calls == ["laplacian"]
    assert data["laplacian"] == pytest.approx(29.0 - np.sin(0.5), rel=1e-14)
    assert data["hessian_trace"] == pytest.approx(28.0 - np.sin(0.5), rel=1e-14)

    monkeypatch.setattr(hd, "laplacian", real_laplacian)
    monkeypatch.setattr(hd, "hessian", lambda f, **kw: lambda x: 2.0 * real_hessian(f, **kw)(x))
    data = run_json(capsys, "laplacian", "x0**2*x1**3 + sin(x2)", "--at", "x0=1", "x1=2", "x2=0.5")
    assert data["laplacian"] == pytest.approx(28.0 - np.sin(0.5), rel=1e-14)
    assert data["hessian_trace"] == pytest.approx(2 * (28.0 - np.sin(0.5)), rel=1e-14)


def test_no_dense_hessian_beyond_the_cross_check_size(capsys, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("hd.hessian must not be called")

    monkeypatch.setattr(hd, "hessian", boom)
    n = MAX_CROSS_CHECK + 1
    v = np.linspace(-1.0, 1.0, n)
    data = run_json(capsys, "laplacian", "sum(sin(v))", "--at", f"v={v.tolist()}")
    assert data["laplacian"] == pytest.approx(-np.sin(v).sum(), abs=1e-12)
    assert data["hessian_trace"] is None and data["entries"] == n
    status, out, _ = run(capsys, "laplacian", "sum(sin(v))", "--at", f"v={v.tolist()}")
    assert status == 0 and f"not computed (more than {MAX_CROSS_CHECK} entries)" in out


def test_too_many_directions_are_refused_before_computing(capsys, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("hd.laplacian must not be called")

    monkeypatch.setattr(hd, "laplacian", boom)
    err = refused(capsys, "laplacian", "x[0]", "--at", f"x={[0.5] * 4000}")
    assert "4000 unit directions, 16000000 entries; the command line builds at most 10000000" in err
    assert "--wrt" in err and "--method stochastic" in err
    err = refused(capsys, "laplacian", "x[0]", "--at", f"x={[0.5] * 4000}", "--method", "stochastic",
                  "--samples", "3000")
    assert "3000 random probes, 12000000 entries; the command line builds at most 10000000" in err
    assert "fewer --samples" in err
    # 1000 directions through a 10**6-entry outer product: 10**9 entries
    err = refused(capsys, "laplacian", "sum(outer(x, x))", "--at", f"x={[0.5] * 1000}")
    assert "carries 1000 directions" in err and "'outer(x, x)'" in err and "(nothing was computed)" in err
    err = refused(capsys, "laplacian", "sum(outer(x, x))", "--at", f"x={[0.5] * 1000}", "--method", "stochastic",
                  "--samples", "20")
    assert "carries 20 random probes (--samples)" in err and "20000000 entries" in err


BAD_INPUTS = [
    (["laplacian", "x*2", "--at", "x=[1,2]"], "laplacian needs an expression with one value, but 'x*2' has shape (2,)"),
    (["laplacian", "x", "--at", "x=abc"], "--at x='abc': not a number or a list of numbers"),
    (["laplacian", "sum(x)", "--at", "x=[[1,2],[3]]"], "ragged"),
    (["laplacian", "x", "--at", "x=NaN"], "the value is not finite"),
    (["laplacian", "x + q", "--at", "x=1"], "no value for variable q"),
    (["laplacian", "x*x", "--at", "x=1", "y=2"], "'y' does not appear in the expression"),
    (["laplacian", "x*y", "--at", "x=1", "y=2", "--wrt", "z"], "--wrt 'z': not a variable"),
    (["laplacian", "sqrt(x)", "--at", "x=0"], "the Laplacian is not finite (nan or inf) at this point"),
    (["laplacian", "log(x)", "--at", "x=-1"], "the value is nan at this point, in 'log(x)'"),
    (["laplacian", "__import__('os')", "--at", "x=1"], "names starting with '_' are not allowed"),
    (["laplacian", "x.real", "--at", "x=1"], "attribute access ('.real') is not allowed"),
    (["laplacian", "--at", "x=1", "x*x"], "the expression goes right after the command"),
    (["laplacian", "2 + 3"], "the expression has no variables"),
    (["laplacian", "x", "--at", "x=1", "--precision", "0"], "--precision 0: use 1 to 17"),
    (["laplacian", "x*x", "--at", "x=1", "--method", "hutch++"], "argument --method: invalid choice: 'hutch++'"),
    (["laplacian", "x*x", "--at", "x=1", "--method", "stochastic", "--samples", "1"],
     "--samples 1: the stochastic estimate needs at least 2 samples"),
    (["laplacian", "x*x", "--at", "x=1", "--method", "stochastic", "--samples", "0"], "--samples 0: "),
    (["laplacian", "x*x", "--at", "x=1", "--method", "stochastic", "--samples", "-5"], "--samples -5: "),
    (["laplacian", "x*x", "--at", "x=1", "--method", "stochastic", "--samples", "ten"],
     "argument --samples: invalid int value: 'ten'"),
    (["laplacian", "x*x", "--at", "x=1", "--method", "stochastic", "--seed", "-1"], "--seed -1: use an integer >= 0"),
    (["laplacian", "x*x", "--at", "x=1", "--method", "stochastic", "--seed", "1.5"],
     "argument --seed: invalid int value: '1.5'"),
    (["laplacian", "x*x", "--at", "x=1", "--samples", "10"], "--samples 10: applies to --method stochastic only"),
    (["laplacian", "x*x", "--at", "x=1", "--seed", "3"], "--seed 3: applies to --method stochastic only"),
    (["laplacian", "x*2", "--at", "x=[1,2]", "--method", "stochastic"], "laplacian needs an expression with one"),
]


@pytest.mark.parametrize("argv, message", BAD_INPUTS, ids=[" ".join(b[0])[:40] for b in BAD_INPUTS])
def test_bad_input_is_one_clear_line(capsys, argv, message):
    assert message in refused(capsys, *argv)


def test_listed_in_the_help(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0 and "laplacian" in out
    status, out, _ = run(capsys, "laplacian", "--help")
    assert status == 0 and "collapsed Taylor mode" in " ".join(out.split())


def test_python_m_hodiff_laplacian():
    env = dict(os.environ, PYTHONPATH=ROOT)
    argv = [sys.executable, "-m", "hodiff", "laplacian", "x0**2*x1**3 + sin(x2)", "--at", "x0=1", "x1=2", "x2=0.5"]
    result = subprocess.run(argv + ["--json"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["laplacian"] == pytest.approx(28.0 - np.sin(0.5), rel=1e-14)
    result = subprocess.run(argv[:4] + ["x*2", "--at", "x=[1,2]"], capture_output=True, text=True, cwd=ROOT,
                            env=env, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@given(expression=st.recursive(_leaves, _grow, max_leaves=8),
       x=st.sampled_from(["0", "1.5", "-0.5", "[1,2]", "[[1,2],[3,4]]", "[0.5,-1,2]"]),
       y=st.sampled_from(["2", "-1", "[1,2]", "[0,0]"]),
       method=st.sampled_from([[], ["--method", "stochastic", "--samples", "4"]]))
def test_random_expressions_never_crash(expression, x, y, method):
    # test_cli.py's random expressions: a value, or one line and exit status 1 or 2, never a traceback
    import contextlib
    import io

    names = [n for n in ("x", "y") if n in expression.replace("exp", "").replace("max", "")]
    argv = ["laplacian", expression, "--at", *[f"{n}={x if n == 'x' else y}" for n in names], *method]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    assert status in (0, 1, 2), err.getvalue()
    if status:
        assert err.getvalue().count("\n") == 1 and "Traceback" not in err.getvalue()


# ---------------------------------------------------------------------- --method stochastic

def _hessian_at(expression, symbols, point):
    return np.array(sp.hessian(expression, symbols).subs(point).evalf(), dtype=float)


# (command line, sympy, point): Hessians with off-diagonal entries, so the estimate has a spread
STOCHASTIC_CASES = [SCALAR_CASES[0], SCALAR_CASES[1],
                    ("x0*x1*x2 + (x0 + x1 + x2)**3", x0 * x1 * x2 + (x0 + x1 + x2)**3, {x0: 0.4, x1: -0.3, x2: 0.9})]


@pytest.mark.parametrize("text, expression, point", STOCHASTIC_CASES, ids=[c[0] for c in STOCHASTIC_CASES])
def test_stochastic_estimate_within_4_stderr_of_sympy(capsys, text, expression, point):
    at = [f"{u}={v!r}" for u, v in point.items()]
    exact = sympy_laplacian(expression, [x0, x1, x2], point)
    for seed in ("0", "1", "2"):
        data = run_json(capsys, "laplacian", text, "--at", *at, "--method", "stochastic", "--samples", "400",
                        "--seed", seed)
        assert data["method"] == "stochastic" and data["samples"] == 400 and data["seed"] == int(seed)
        assert abs(data["laplacian"] - exact) < 4 * data["stderr"]
        assert data["hessian_trace"] == pytest.approx(exact, rel=1e-12)
        # Rademacher probes: Var(v^T H v) = 2 sum_{i != j} H_ij^2, so the standard error is near
        # sqrt(2 sum_{i != j} H_ij^2 / S) (a 400-sample standard deviation is within 30% of it)
        H = _hessian_at(expression, [x0, x1, x2], point)
        expected_stderr = np.sqrt(2 * (np.sum(H**2) - np.sum(np.diag(H)**2)) / 400)
        assert 0.7 * expected_stderr < data["stderr"] < 1.3 * expected_stderr


def test_stochastic_values_are_the_documented_probes_draw(capsys):
    # hd.laplacian(method="stochastic", seed=s) draws rng.choice([-1., 1.], size=(S, D)) with
    # rng = np.random.default_rng(s) (its docstring); the estimate is the mean of v^T H v with sympy's H
    text, expression, point = STOCHASTIC_CASES[2]
    H = _hessian_at(expression, [x0, x1, x2], point)
    for samples, seed in [(10, 7), (37, 123456789)]:
        probes = np.random.default_rng(seed).choice(np.array([-1.0, 1.0]), size=(samples, 3))
        values = np.einsum("si,ij,sj->s", probes, H, probes)
        data = run_json(capsys, "laplacian", text, "--at", *[f"{u}={v!r}" for u, v in point.items()],
                        "--method", "stochastic", "--samples", str(samples), "--seed", str(seed))
        assert data["laplacian"] == pytest.approx(values.mean(), rel=1e-12)
        assert data["stderr"] == pytest.approx(values.std(ddof=1) / np.sqrt(samples), rel=1e-10)


def test_stochastic_defaults_and_reproducibility(capsys):
    argv = ["laplacian", STOCHASTIC_CASES[2][0], "--at", "x0=0.4", "x1=-0.3", "x2=0.9", "--method", "stochastic"]
    default = run_json(capsys, *argv)
    assert default["samples"] == 100 and default["seed"] == 0 and default["distribution"] == "rademacher"
    assert run_json(capsys, *argv, "--samples", "100", "--seed", "0") == default
    assert run_json(capsys, *argv, "--seed", "1")["laplacian"] != default["laplacian"]


def test_stochastic_calls_hd_laplacian_with_the_options(capsys, monkeypatch):
    calls = []
    real = hd.laplacian

    def spy(f, *args, **kwargs):
        calls.append((args, kwargs))
        return real(f, *args, **kwargs)

    monkeypatch.setattr(hd, "laplacian", spy)
    run_json(capsys, "laplacian", "x*y**2", "--at", "x=1", "y=2", "--method", "stochastic", "--samples", "6",
             "--seed", "5")
    assert calls == [((), {"method": "stochastic", "samples": 6, "seed": 5})]


def test_stochastic_with_vector_variables_and_a_diagonal_hessian(capsys, monkeypatch):
    # sum(x**4): H = diag(12 x**2); Rademacher probes give v^T H v = tr H exactly, stderr 0; with 4000 entries
    # the exact method's 4000 x 4000 directions are refused, the stochastic estimate is not
    x = np.linspace(-1.0, 1.0, 4000)
    monkeypatch.setattr(hd, "hessian", lambda *a, **k: pytest.fail("no dense Hessian for 4000 entries"))
    data = run_json(capsys, "laplacian", "sum(x**4)", "--at", f"x={x.tolist()}", "--method", "stochastic",
                    "--samples", "8")
    assert data["laplacian"] == pytest.approx(12 * np.sum(x**2), rel=1e-12) and data["stderr"] == 0
    assert data["entries"] == 4000 and data["hessian_trace"] is None
    monkeypatch.undo()
    # a matrix and a scalar: the trace over all 5 entries, sympy's Laplacian within 4 stderr
    A = sp.Matrix(2, 2, lambda i, j: sp.Symbol(f"A{i}{j}"))
    s = sp.Symbol("s")
    expression = sp.log(1 + (A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0])**2) * s + s**2 * A[0, 1]
    point = {A[0, 0]: 1.0, A[0, 1]: 0.5, A[1, 0]: -0.3, A[1, 1]: 0.8, s: 0.7}
    exact = sympy_laplacian(expression, list(A) + [s], point)
    data = run_json(capsys, "laplacian", "log(1 + det(A)**2)*s + s**2*A[0, 1]", "--at",
                    "A=[[1, 0.5], [-0.3, 0.8]]", "s=0.7", "--method", "stochastic", "--samples", "1000")
    assert data["entries"] == 5 and data["stderr"] > 0
    assert abs(data["laplacian"] - exact) < 4 * data["stderr"]


def test_stochastic_text_output(capsys):
    status, out, err = run(capsys, "laplacian", "x0*x1", "--at", "x0=1", "x1=2", "--method", "stochastic",
                           "--samples", "2", "--seed", "0")
    assert status == 0, err
    # f = x0 x1: H = [[0, 1], [1, 0]], v^T H v = 2 v0 v1 = +-2 for each probe
    probes = np.random.default_rng(0).choice(np.array([-1.0, 1.0]), size=(2, 2))
    values = 2 * probes[:, 0] * probes[:, 1]
    line = out.splitlines()[4]
    assert line.split()[:4] == ["Laplacian", f"{values.mean():.6g}", "+-",
                                f"{values.std(ddof=1) / np.sqrt(2):.6g}"]
    assert "over 2 random +-1 probes v of the 2 entries of x0, x1, seed 0; +- one standard error" in line
