"""The hodiff command line: every subcommand, bad input, and refused injection attempts."""

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.cli.expressions import FUNCTIONS, LIMITS, Expression, ExpressionError, parse_point
from hodiff.cli.main import main
from hodiff.core.trace import Primitive

NEURON = "1/(1 + exp(-(w0*x0 + w1*x1 + w2)))"
LECTURE_AT = ["w0=2", "x0=-1", "w1=-3", "x1=-2", "w2=-3"]
LECTURE_GRAD = {"w0": -0.19661193, "x0": 0.39322387, "w1": -0.39322387, "x1": -0.58983580, "w2": 0.19661193}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_json(capsys, *argv):
    status, out, err = run(capsys, *argv, "--json")
    assert status == 0, err
    return json.loads(out)


# ---------------------------------------------------------------------- good input

def test_grad_of_the_lecture_neuron(capsys):
    data = run_json(capsys, "grad", NEURON, "--at", *LECTURE_AT)
    assert data["value"] == pytest.approx(0.7310585786)
    assert list(data["grad"]) == list(LECTURE_GRAD)
    for name, value in LECTURE_GRAD.items():
        assert data["grad"][name] == pytest.approx(value, rel=1e-7)
    status, out, _ = run(capsys, "grad", NEURON, "--at", *LECTURE_AT, "--precision", "4")
    assert status == 0
    assert "value  0.7311" in out
    assert out.splitlines()[-5].split() == ["w0", "2", "-0.1966"]


def test_grad_with_sigmoid_as_in_the_api_example(capsys):
    data = run_json(capsys, "grad", "sigmoid(w0*x0 + w1*x1 + w2)", "--at", *LECTURE_AT)
    for name, value in LECTURE_GRAD.items():
        assert data["grad"][name] == pytest.approx(value, rel=1e-7)


def test_grad_of_arrays_and_wrt(capsys):
    data = run_json(capsys, "grad", "sum(x*x*y)", "--at", "x=[1,-2,3]", "y=2")
    assert data["grad"]["x"] == [4.0, -8.0, 12.0]
    assert data["grad"]["y"] == pytest.approx(14.0)
    data = run_json(capsys, "grad", "sum(x*x*y)", "--at", "x=[1,-2,3]", "y=2", "--wrt", "y")
    assert list(data["grad"]) == ["y"]
    data = run_json(capsys, "grad", "W[0, 1] * x[-1] + sum(W[:, 0])", "--at", "W=[[1,2],[3,4]]", "x=[5,6]")
    assert data["grad"]["W"] == [[1.0, 6.0], [1.0, 0.0]]
    assert data["grad"]["x"] == [0.0, 2.0]
    data = run_json(capsys, "grad", "-x**2 + pi*x", "--at", "x=1.5")
    assert data["grad"]["x"] == pytest.approx(-3.0 + np.pi)
    data = run_json(capsys, "grad", "--", "-x**2", "--at", "x=1.5")
    assert data["grad"]["x"] == pytest.approx(-3.0)


def test_list_literals_build_arrays(capsys):
    data = run_json(capsys, "grad", "sum([x, 2*x, y] * [1, 2, 3])", "--at", "x=1", "y=2")
    assert data["grad"] == {"x": pytest.approx(5.0), "y": pytest.approx(3.0)}


def test_jacobian_of_relu_in_both_layouts(capsys):
    data = run_json(capsys, "jacobian", "relu(x)", "--at", "x=[1,-2,3,-1]", "--layout", "both")
    expected = np.diag([1.0, 0.0, 1.0, 0.0]).tolist()
    assert data["jacobian"]["x"] == {"numerator": expected, "denominator": expected}
    assert data["value"] == [1.0, 0.0, 3.0, 0.0]


@pytest.mark.parametrize("mode", ["auto", "fwd", "rev"])
def test_jacobian_layouts_of_a_matrix_product(capsys, mode):
    x = [[2.0, 1.0, -3.0], [-3.0, 4.0, 2.0]]
    W = [[3.0, 2.0, 1.0, -1.0], [2.0, 1.0, 3.0, 2.0], [3.0, 2.0, 1.0, -2.0]]
    data = run_json(capsys, "jacobian", "tensordot(x, W, 1)", "--at", f"x={x}", f"W={W}", "--layout", "both",
                    "--mode", mode)
    numerator = np.array(data["jacobian"]["x"]["numerator"])
    denominator = np.array(data["jacobian"]["x"]["denominator"])
    assert numerator.shape == (2, 4, 2, 3) and denominator.shape == (2, 3, 2, 4)
    np.testing.assert_allclose(numerator, np.einsum("ac,db->abcd", np.eye(2), np.array(W)))
    np.testing.assert_allclose(denominator, numerator.transpose(2, 3, 0, 1))


def test_hessian_flattens_the_variables(capsys):
    data = run_json(capsys, "hessian", "x**2*y + y**3", "--at", "x=1", "y=2")
    assert data["labels"] == ["x", "y"]
    np.testing.assert_allclose(data["hessian"], [[4.0, 2.0], [2.0, 12.0]])
    data = run_json(capsys, "hessian", "sum(v**3) + v[0]*s", "--at", "v=[1,2]", "s=3", "--mode", "rev-rev")
    assert data["labels"] == ["v[0]", "v[1]", "s"]
    np.testing.assert_allclose(data["hessian"], [[6.0, 0.0, 1.0], [0.0, 12.0, 0.0], [1.0, 0.0, 0.0]])


@pytest.mark.parametrize("mode", ["taylor", "nested"])
def test_derivative_of_order_8(capsys, mode):
    data = run_json(capsys, "derivative", "sin(x)*exp(-x**2/2)", "--at", "x=0.7", "--order", "8", "--mode", mode)
    expected = _nested(lambda x: hnp.sin(x) * hnp.exp(-x ** 2 / 2), 8)(0.7)
    assert data["derivative"] == pytest.approx(float(expected), rel=1e-8)


def test_check(capsys):
    status, out, err = run(capsys, "check", "tanh(x*y) + sum(v*v)", "--at", "x=0.5", "y=2", "v=[1,2]")
    assert status == 0, err
    assert "ok: fwd and rev mode agree with finite differences up to order 2" in out


def test_graph_table_dot_and_picture(capsys, tmp_path):
    status, out, err = run(capsys, "graph", NEURON, "--at", *LECTURE_AT, "-o", str(tmp_path / "g.dot"),
                           "--local", "--precision", "4")
    assert status == 0, err
    assert "13 nodes:" in out and f"wrote {tmp_path / 'g.dot'}" in out
    assert "n5    exp    n4      0.3679  -0.5344" in out
    dot = (tmp_path / "g.dot").read_text()
    assert dot.startswith("digraph") and "up 1 x local -0.5344" in dot
    data = run_json(capsys, "graph", NEURON, "--at", *LECTURE_AT, "--dot")
    assert [node["name"] for node in data["nodes"]][:5] == list(LECTURE_GRAD)
    assert data["nodes"][-1] == {"name": "f", "kind": "output", "op": "1/x", "inputs": ["1", "n6"],
                                 "value": pytest.approx(0.7310585786), "grad": 1.0}
    assert data["dot"].startswith("digraph")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_graph_writes_svg(capsys, tmp_path):
    status, _, err = run(capsys, "graph", NEURON, "--at", *LECTURE_AT, "-o", str(tmp_path / "neuron.svg"))
    assert status == 0, err
    assert ET.parse(tmp_path / "neuron.svg").getroot().tag.endswith("svg")


def test_graph_without_graphviz_says_how_to_install_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "graphviz", None)
    status, out, err = run(capsys, "graph", NEURON, "--at", *LECTURE_AT, "-o", str(tmp_path / "g.svg"))
    assert status == 1
    assert err.count("\n") == 1 and "apt-get install graphviz" in err and "pip install 'hodiff[viz]'" in err
    assert "-o " + str(tmp_path / "g") + ".dot" in err


def test_help_and_version(capsys):
    assert run(capsys, "--help")[0] == 0
    status, out, _ = run(capsys, "--version")
    assert status == 0 and out.startswith("hodiff ")
    status, out, _ = run(capsys, "jacobian", "--help")
    assert status == 0 and "denominator" in out


# ---------------------------------------------------------------------- the CLI's plumbing, with stand-ins
# Stand-ins for transforms other branches provide, built from hd.vjp/hd.grad, so that argument
# passing, layouts, flattening and output are tested now; the real ones are tested above.

def _nested(f, order):
    for _ in range(order):
        f = hd.grad(f)
    return f


def _standin_jacobian(f, argnums=0, *, layout="numerator", mode="auto"):
    def jacobian_f(*args):
        def of_one(x):
            full = list(args)
            full[argnums] = x
            return f(*full)

        y, vjp_fn = hd.vjp(of_one, args[argnums])
        out_shape, in_shape = np.shape(y), np.shape(args[argnums])
        rows = [vjp_fn(e.reshape(out_shape))[0] for e in np.eye(int(np.prod(out_shape)))]
        J = np.reshape(rows, out_shape + in_shape)
        if layout == "denominator":
            J = np.transpose(J, tuple(range(len(out_shape), J.ndim)) + tuple(range(len(out_shape))))
        return J

    return jacobian_f


@pytest.fixture
def standins(monkeypatch):
    calls = []

    def jacobian(f, argnums=0, *, layout="numerator", mode="auto"):
        calls.append(("jacobian", argnums, layout, mode))
        return _standin_jacobian(f, argnums, layout=layout)

    def hessian(f, argnums=0, *, mode="fwd-rev"):
        calls.append(("hessian", mode))
        return _standin_jacobian(hd.grad(f, argnums))

    def derivative(f, order=1, *, mode="taylor"):
        calls.append(("derivative", order, mode))
        return _nested(f, order)

    def check_grads(f, args, modes=("fwd", "rev"), order=2):
        calls.append(("check_grads", modes, order))
        numeric = (f(args[0] + 1e-6, *args[1:]) - f(args[0] - 1e-6, *args[1:])) / 2e-6
        if abs(hd.grad(f)(*args) - numeric) > 1e-4:
            raise AssertionError(f"rev mode: analytic {hd.grad(f)(*args)}\nvs numeric {numeric}")

    for name, function in [("jacobian", jacobian), ("hessian", hessian), ("derivative", derivative),
                           ("check_grads", check_grads)]:
        monkeypatch.setattr(hd, name, function, raising=False)
    return calls


def test_jacobian_plumbing(capsys, standins):
    data = run_json(capsys, "jacobian", "x * tanh(y)", "--at", "x=[1,2]", "y=[0.5,-1]", "--layout", "both",
                    "--mode", "rev")
    t = np.tanh([0.5, -1.0])
    np.testing.assert_allclose(data["jacobian"]["x"]["numerator"], np.diag(t))
    np.testing.assert_allclose(data["jacobian"]["y"]["denominator"], np.diag([1.0, 2.0] * (1 - t ** 2)))
    assert ("jacobian", 1, "denominator", "rev") in standins
    status, out, _ = run(capsys, "jacobian", "tensordot(x, W, 1)", "--at", "x=[[1,2]]", "W=[[1,2,3],[4,5,6]]",
                         "--layout", "denominator", "--wrt", "x")
    assert status == 0
    assert "dfdx" not in out and "df/dx, denominator layout" in out and "shape (1, 2, 1, 3)" in out


def test_hessian_plumbing(capsys, standins):
    data = run_json(capsys, "hessian", "sum(v**3) + v[0]*s + s**2", "--at", "v=[1,2]", "s=3",
                    "--mode", "rev-fwd")
    assert data["labels"] == ["v[0]", "v[1]", "s"] and data["mode"] == "rev-fwd"
    np.testing.assert_allclose(data["hessian"], [[6.0, 0.0, 1.0], [0.0, 12.0, 0.0], [1.0, 0.0, 2.0]])
    status, out, _ = run(capsys, "hessian", "x**2*y", "--at", "x=1", "y=2")
    assert status == 0 and "Hessian d2f/d(row)d(column), fwd-rev mode (variables flattened in order):" in out


def test_derivative_and_check_plumbing(capsys, standins):
    data = run_json(capsys, "derivative", "exp(2*x)", "--at", "x=0.1", "--order", "4", "--mode", "nested")
    assert data["derivative"] == pytest.approx(16 * np.exp(0.2))
    assert ("derivative", 4, "nested") in standins
    data = run_json(capsys, "derivative", "x*y", "--at", "x=3", "y=2", "--wrt", "x", "--order", "1")
    assert data["derivative"] == pytest.approx(2.0) and data["variable"] == "x"
    status, out, _ = run(capsys, "check", "x*sin(x)", "--at", "x=0.3", "--modes", "rev", "--order", "1")
    assert status == 0 and "ok: rev mode" in out


def test_failed_check_exits_1(capsys, monkeypatch):
    def failing(f, args, modes=("fwd", "rev"), order=2):
        raise AssertionError("rev mode, order 1:\nanalytic 1.0\nnumeric 2.0")

    monkeypatch.setattr(hd, "check_grads", failing)
    status, out, err = run(capsys, "check", "x*x", "--at", "x=1")
    assert status == 1 and out == ""
    assert err == "hodiff check: error: check failed: rev mode, order 1: analytic 1.0 numeric 2.0\n"


def test_whitelisted_functions_are_hodiffs_own(capsys):
    # Never plain numpy (hodiff.numpy passes unknown names through to it): that would not differentiate.
    for name, function in FUNCTIONS.items():
        assert isinstance(function, Primitive) or function.__module__.startswith("hodiff."), name
    data = run_json(capsys, "grad", "sum(abs(x)) + max(x) + sigmoid(x[0]) + logsumexp(x)", "--at", "x=[1,-2]")
    softmax = np.exp([1.0, -2.0]) / np.exp([1.0, -2.0]).sum()
    np.testing.assert_allclose(data["grad"]["x"], [1.0 + 1.0 + 0.19661193, -1.0] + softmax, rtol=1e-7)


# ---------------------------------------------------------------------- bad input: one line, no traceback

BAD_INPUTS = [
    # (argv, exit status, part of the one-line message)
    (["grad", "x +", "--at", "x=1"], 2, "syntax error at the end of 'x +': invalid syntax"),
    (["grad", "exp(x", "--at", "x=1"], 2, "syntax error at column 4 of 'exp(x': '(' was never closed"),
    (["grad", "foo(x)", "--at", "x=1"], 2, "unknown function 'foo'"),
    (["grad", "x + q", "--at", "x=1"], 2, "no value for variable q used in the expression; give it with --at q="),
    (["grad", "x*x", "--at", "x=1", "y=2"], 2, "'y' does not appear in the expression"),
    (["grad", "sum(x + y)", "--at", "x=[1,2,3]", "y=[1,2]"], 2,
     "shape mismatch: operands could not be broadcast together with shapes (3,) (2,), in 'x + y' at column 5"),
    (["grad", "x*2", "--at", "x=[1,2]"], 2, "grad needs an expression with one value, but 'x*2' has shape (2,)"),
    (["grad", "log(x) + 1", "--at", "x=-1"], 2, "the value is nan at this point, in 'log(x)' at column 1"),
    (["grad", "1/x", "--at", "x=0"], 2, "the value is infinite at this point, in '1/x'"),
    (["grad", "sqrt(x)", "--at", "x=0"], 2, "the gradient is not finite (nan or inf) at this point"),
    (["grad", "x", "--at", "x:1"], 2, "--at expects name=value, got 'x:1'"),
    (["grad", "x", "--at", "x=abc"], 2, "--at x='abc': not a number or a list of numbers"),
    (["grad", "sum(x)", "--at", "x=[[1,2],[3]]"], 2, "ragged"),
    (["grad", "x", "--at", "x=NaN"], 2, "--at x='NaN': the value is not finite"),
    (["grad", "x", "--at", "x=1", "x=2"], 2, "'x' is given twice"),
    (["grad", "exp(x)", "--at", "exp=1"], 2, "'exp' is the name of a function"),
    (["grad", "x", "--at", "x=true"], 2, "values must be numbers"),
    (["grad", "x", "--at", "x=[]"], 2, "the list is empty"),
    (["grad", "--at", "x=1", "x*x"], 2, "the expression goes right after the command"),
    (["grad", ""], 2, "the expression is empty"),
    (["grad", "2 + 3"], 2, "the expression has no variables"),
    (["frobnicate"], 2, "invalid choice: 'frobnicate'"),
    ([], 2, "the following arguments are required: COMMAND"),
    (["derivative", "x*y", "--at", "x=1", "y=2", "--order", "2"], 2, "choose one with --wrt"),
    (["derivative", "x", "--at", "x=1", "--order", "-1"], 2, "the order must be between 0 and 64 in taylor mode"),
    (["derivative", "x", "--at", "x=1", "--order", "20", "--mode", "nested"], 2, "nests at most 8 times"),
    (["derivative", "x", "--at", "x=1", "--order", "65", "--mode", "nested"], 2, "between 0 and 8 in nested mode"),
    (["jacobian", "tensordot(x, x, 0)", "--at", f"x={[1.0] * 2000}"], 2, "the Jacobian would have 8000000000 entries"),
    (["grad", "sum(tensordot(tensordot(x, x, 0), x, 0))", "--at", f"x={[1.0] * 300}"], 2,
     "the value would have 27000000 entries; the limit is 10000000 (nothing was computed)"),
    (["grad", "sum(x)", "--at", f"x={[1.0] * 20000}"], 2, "20000 entries; the limit is 10000"),
    (["derivative", "sum(x)", "--at", "x=[1,2]", "--order", "2"], 2, "needs a scalar or elementwise expression"),
    (["derivative", "x", "--at", "x=1", "--order", "two"], 2, "argument --order: invalid int value: 'two'"),
    (["hessian", "x*x", "--at", "x=[1,2]"], 2, "hessian needs an expression with one value"),
    (["grad", "x*y", "--at", "x=1", "y=2", "--wrt", "z"], 2, "--wrt 'z': not a variable"),
    (["jacobian", "x", "--at", "x=1", "--layout", "upside"], 2, "invalid choice: 'upside'"),
    (["graph", "x*x", "--at", "x=1", "-o", "g.xyz"], 2, "unknown format 'xyz'"),
    (["grad", "x", "--at", "x=1", "--precision", "0"], 2, "--precision 0: use 1 to 17"),
    (["grad", "exp(x, x)", "--at", "x=1"], 2, "bad arguments: exp takes 1 argument, got 2, in 'exp(x, x)'"),
    (["grad", "sum(x, axis=3)", "--at", "x=[1,2]"], 2, "axis 3 is out of bounds"),
    (["grad", "x[5]", "--at", "x=[1,2]"], 2, "index 5 is out of bounds"),
    (["grad", "exp + 1", "--at", "x=1"], 2, "'exp' is a function; call it, as in exp(x)"),
    (["grad", "x % 2", "--at", "x=1"], 2, "the operator '%' is not supported"),
]


@pytest.mark.parametrize("argv, status, message", BAD_INPUTS, ids=[" ".join(b[0])[:40] for b in BAD_INPUTS])
def test_bad_input_is_one_clear_line(capsys, argv, status, message):
    got_status, out, err = run(capsys, *argv)
    assert got_status == status, err
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith("hodiff")
    assert message in err
    assert "Traceback" not in err


INJECTIONS = [
    ("__import__('os').system('touch {marker}')", "attribute access ('.system') is not allowed"),
    ("__import__('os')", "names starting with '_' are not allowed ('__import__')"),
    ("x.__class__", "attribute access ('.__class__') is not allowed"),
    ("x.real", "attribute access ('.real') is not allowed"),
    ("exp(x).sum()", "attribute access ('.sum') is not allowed"),
    ("(lambda: 1)() + x", "lambda is not allowed"),
    ("sum([y for y in x])", "comprehensions are not allowed"),
    ("sum(y for y in x)", "comprehensions are not allowed"),
    ("open('{marker}')", "unknown function 'open'"),
    ("eval('1') + x", "unknown function 'eval'"),
    ("globals()", "unknown function 'globals'"),
    ("x + 'a'", "strings are not allowed"),
    ("x[__import__]", "indices must be integer constants"),
    ("sum(x, axis=__import__('os'))", "the keyword argument axis= must be a constant"),
    ("exp(*x)", "* unpacking is not allowed"),
    ("x**10000", "the exponent 10000 is too large"),
    ("x**-1000", "the exponent -1000 is too large"),
    ("2**2**2**2 + x", "towers of powers"),
    ("10**1000000000000000000000", "too large"),
    ("(" * 100 + "x" + ")" * 100, "nests brackets 100 deep"),
    ("-" * 80 + "x", "levels deep"),
    ("sum([" + ", ".join(["x"] * 600) + "])", "too big"),
    ("+".join(["x"] * 100), "levels deep"),
    ("x" + " " * LIMITS["length"], "characters long"),
    ("(x := 1)", "':=' is not allowed"),
    ("x if x else 1", "where(c, a, b)"),
    ("{{'a': x}}", "dict literals are not allowed"),
]


@pytest.mark.parametrize("expression, message", INJECTIONS, ids=[i[0][:30] for i in INJECTIONS])
def test_injection_attempts_are_refused(capsys, tmp_path, expression, message):
    marker = tmp_path / "pwned"
    status, out, err = run(capsys, "grad", expression.format(marker=marker), "--at", "x=1")
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not marker.exists()


def test_expressions_are_never_evaluated_by_python():
    # The whitelist walk, not eval: a dunder in any position is refused before anything runs.
    for text in ["__builtins__", "x.__dict__", "sum(x, __x=1)", "_x + 1"]:
        with pytest.raises(ExpressionError, match="not allowed"):
            Expression(text)
    assert Expression("sin(a)*b + a").names == ["a", "b"]


def test_parse_point():
    point = parse_point(["a=1", "b=-2.5e-3", "c=[[1,2],[3,4]]"])
    assert point["a"] == 1.0 and isinstance(point["a"], float)
    assert point["c"].dtype == np.float64 and point["c"].shape == (2, 2)


# ---------------------------------------------------------------------- as a process

def _process(*argv):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, "-m", "hodiff", *argv], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


def test_python_m_hodiff():
    result = _process("grad", NEURON, "--at", *LECTURE_AT, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["grad"]["w0"] == pytest.approx(-0.19661193)
    result = _process("grad", "__import__('os')", "--at", "x=1")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


# ---------------------------------------------------------------------- fuzzing: never a traceback

_leaves = st.sampled_from(["x", "y", "1.5", "2", "-1", "x[0]", "y[-1]", "[1, 2]", "x[1:]", "pi", "0"])


def _grow(children):
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**", "@", ">"]), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})")
    unary = st.tuples(st.sampled_from(["exp", "log", "sqrt", "sin", "tanh", "sum", "relu", "transpose", "-"]),
                      children).map(lambda t: f"{t[0]}({t[1]})")
    two = st.tuples(st.sampled_from(["where", "dot", "tensordot", "power", "maximum"]), children, children).map(
        lambda t: f"{t[0]}({t[1]}, {t[2]})")
    axis = st.tuples(children, st.sampled_from([0, 1, -1])).map(lambda t: f"sum({t[0]}, axis={t[1]})")
    return binary | unary | two | axis


@given(expression=st.recursive(_leaves, _grow, max_leaves=8),
       command=st.sampled_from(["grad", "graph", "hessian", "jacobian", "derivative"]),
       x=st.sampled_from(["0", "1.5", "-0.5", "[1,2]", "[[1,2],[3,4]]", "[0.5,-1,2]"]),
       y=st.sampled_from(["2", "-1", "[1,2]", "[0,0]"]))
def test_random_expressions_never_crash(expression, command, x, y):
    import contextlib
    import io

    names = [n for n in ("x", "y") if n in expression.replace("exp", "").replace("max", "")]
    argv = [command, expression, "--at", *[f"{n}={x if n == 'x' else y}" for n in names]]
    if command == "derivative":
        argv += ["--order", "2"]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    assert status in (0, 1, 2), err.getvalue()
    if status:
        assert err.getvalue().count("\n") == 1 and "Traceback" not in err.getvalue()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_demo_sigmoid_neuron_picture_fits_a_page_unscaled(tmp_path):
    from hodiff.cli.demo import run_demo

    run_demo(out_dir=tmp_path)
    root = ET.parse(tmp_path / "sigmoid_neuron.svg").getroot()
    assert float(root.get("width").removesuffix("pt")) <= 7.5 * 72  # was 1463pt wide (rankdir LR)
    assert "scale(1 1)" in ET.tostring(root, encoding="unicode")  # fits without shrinking the text
