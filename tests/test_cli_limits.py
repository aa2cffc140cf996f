"""The command line's numbers and limits (issue 12 item 6, issue 19 "Command line", "Demo").

Constant sub-expressions are exact (checked against Python's own integer arithmetic), value sizes are
refused before anything is computed (checked with spies that must never be called, and against
numpy's own result shapes), and every refusal is one short line naming what is wrong.
"""

import json

import numpy as np
import pytest

import hodiff as hd
from hodiff.cli.expressions import FUNCTIONS, LIMITS
from hodiff.cli.main import main


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def grad_json(capsys, expression, *at):
    status, out, err = run(capsys, "grad", expression, "--at", *at, "--json")
    assert status == 0, err
    return json.loads(out)


def refused(capsys, *argv, status=2):
    got, out, err = run(capsys, *argv)
    assert got == status, err
    assert out == "" and err.count("\n") == 1 and err.startswith("hodiff") and "Traceback" not in err
    return err


# ---------------------------------------------------------------------- constants are exact (issue 12)

EXACT = [
    # (expression in x, d/dx at x = 1 computed by Python's exact integers / floats)
    ("x*(2**52)**2", float(2**104)),              # int64 wraps this to 0
    ("x*(3037000500*3037000500)", float(3037000500 * 3037000500)),  # just past 2**63
    ("square(3037000500)*x", float(3037000500**2)),
    ("x*(10**20 - 10**20 + 1)", 1.0),              # 10**20 is not an int64
    ("x*2**-1", 0.5),                              # numpy: "Integers to negative integer powers"
    ("x*(-2)**63", float((-2) ** 63)),
    ("x*(2**62 + 2**62)", float(2**63)),
]


@pytest.mark.parametrize("expression, expected", EXACT)
def test_integer_constants_are_exact(capsys, expression, expected):
    data = grad_json(capsys, expression, "x=1")
    assert data["grad"]["x"] == expected
    assert data["value"] == expected


@pytest.mark.parametrize("expression", ["x*(2**60)**100", "x*(1e200)**2", "x*(1e308 + 1e308)"])
def test_constants_beyond_float64_are_refused(capsys, expression):
    err = refused(capsys, "grad", expression, "--at", "x=1")
    assert "overflows float64" in err


def test_a_folded_constant_exponent_obeys_the_exponent_limit(capsys):
    assert "the exponent 1e+10 is too large (the limit is 100)" in refused(capsys, "grad", "x**10**10", "--at", "x=1")
    assert "the exponent 101 is too large" in refused(capsys, "grad", "x**(50+51)", "--at", "x=1")
    assert grad_json(capsys, "x**(50+50)", "x=1")["grad"]["x"] == 100.0


# ---------------------------------------------------------------------- sizes checked before computing

def _spy(monkeypatch, name):
    calls = []
    original = FUNCTIONS[name]

    def spy(*args, **kwargs):
        calls.append([np.shape(a) for a in args])
        return original(*args, **kwargs)

    monkeypatch.setitem(FUNCTIONS, name, spy)
    return calls


def test_outer_too_big_is_refused_without_computing_it(capsys, monkeypatch):
    calls = _spy(monkeypatch, "outer")
    err = refused(capsys, "grad", "sum(outer(x, x))", "--at", f"x={[0.5] * 10_000}")
    assert "would have 100000000 entries; the limit is 10000000 (nothing was computed)" in err
    assert "'outer(x, x)'" in err
    assert calls == []


def test_a_kron_chain_stops_before_the_product_that_is_too_big(capsys, monkeypatch):
    calls = _spy(monkeypatch, "kron")
    err = refused(capsys, "grad", "sum(kron(kron(x, x), x))", "--at", f"x={[0.5] * 300}")
    assert "would have 27000000 entries" in err
    assert calls == [[(300,), (300,)]]  # the inner kron (90,000 entries) only


@pytest.mark.parametrize("argv, transform", [
    (["hessian", "sum(outer(x, x))", "--at", f"x={[0.5] * 1000}"], "hessian"),
    (["jacobian", "sum(outer(x, x), axis=0)", "--at", f"x={[0.5] * 1000}", "--mode", "fwd"], "jacobian"),
    (["derivative", "sum(outer(x*v, v))", "--at", "x=0.5", f"v={[0.5] * 1000}", "--wrt", "x", "--order", "20"],
     "derivative"),
    # nested mode carries 2**k components: measured 583 MB at order 6 before this check
    (["derivative", "sum(outer(sin(x*v), v))", "--at", "x=0.5", f"v={[0.5] * 1000}", "--wrt", "x", "--order", "6",
      "--mode", "nested"], "derivative"),
])
def test_batched_transforms_are_refused_before_computing(capsys, monkeypatch, argv, transform):
    # Each holds one copy of the 10**6-entry outer product per tangent (1000, 1000, 21 of them).
    def boom(*args, **kwargs):
        raise AssertionError(f"hd.{transform} must not be called")

    monkeypatch.setattr(hd, transform, boom)
    err = refused(capsys, *argv)
    assert ("tangents at once" in err or "carries 64 components" in err) and "(nothing was computed)" in err
    assert "'outer(" in err


def test_every_function_has_a_size_rule():
    from hodiff.cli.shapes import RULES

    assert set(FUNCTIONS) <= set(RULES)


SIZE_CASES = [
    # (function, args, kwargs): the predicted size must bound numpy's (hodiff's) actual result size
    ("outer", [np.ones(3), np.ones((2, 2))], {}),
    ("kron", [np.ones((2, 3)), np.ones((4, 1))], {}),
    ("dot", [np.ones((2, 3)), np.ones((3, 4))], {}),
    ("dot", [np.ones((2, 3, 4)), np.ones((5, 4, 6))], {}),
    ("dot", [np.ones(3), np.ones(3)], {}),
    ("dot", [2.0, np.ones((3, 2))], {}),
    ("inner", [np.ones((2, 3)), np.ones((4, 3))], {}),
    ("matmul", [np.ones((5, 2, 3)), np.ones((3, 4))], {}),
    ("matmul", [np.ones(3), np.ones((2, 3, 4))], {}),
    ("tensordot", [np.ones((2, 3)), np.ones((3, 4))], {"axes": 1}),
    ("tensordot", [np.ones((2, 3)), np.ones((4, 5))], {"axes": 0}),
    ("tensordot", [np.ones((2, 3, 4)), np.ones((4, 3, 5)), ((1, 2), (1, 0))], {}),
    ("diag", [np.ones(4)], {"k": -2}),
    ("diag", [np.ones((3, 3))], {}),
    ("add", [np.ones((3, 1)), np.ones(4)], {}),
    ("where", [np.ones((2, 1)) > 0, np.ones(3), 0.0], {}),
    ("sum", [np.ones((3, 4))], {"axis": 0}),
    ("reshape", [np.ones(6), (2, 3)], {}),
    ("concatenate", [np.ones((2, 3))], {}),
    ("cumsum", [np.ones((2, 3))], {}),
]


@pytest.mark.parametrize("name, args, kwargs", SIZE_CASES, ids=[c[0] for c in SIZE_CASES])
def test_predicted_sizes_bound_the_real_ones(name, args, kwargs):
    from hodiff.cli.shapes import predicted_size

    function = FUNCTIONS.get(name) or {"add": np.add}[name]
    actual = np.size(function(*args, **kwargs))
    predicted = predicted_size(name, args, kwargs)
    assert predicted >= actual
    if name not in ("sum", "concatenate"):  # reductions: bounded by the argument, not exact
        assert predicted == actual


# ---------------------------------------------------------------------- nested mode's order (issue 12)

def test_nested_mode_orders_above_8_are_refused_with_the_way_out(capsys, monkeypatch):
    # Measured on this project's CI machine: order 8 of a 20-node expression 0.6 s, 10 5 s, 12 39 s.
    def boom(*args, **kwargs):
        raise AssertionError("hd.derivative must not be called")

    monkeypatch.setattr(hd, "derivative", boom)
    err = refused(capsys, "derivative", "sin(x)*exp(-x**2/2)", "--at", "x=0.7", "--order", "9", "--mode", "nested")
    assert "nests at most 8 times; use --mode taylor" in err


def test_taylor_mode_gives_order_12_that_nested_mode_refuses(capsys):
    status, out, err = run(capsys, "derivative", "exp(2*x)", "--at", "x=0.1", "--order", "12", "--json")
    assert status == 0, err
    assert json.loads(out)["derivative"] == pytest.approx(2**12 * np.exp(0.2), rel=1e-12)


# ---------------------------------------------------------------------- issue 19: the command line

def test_reshape_and_transpose_take_shape_constants(capsys):
    data = grad_json(capsys, "sum(reshape(x, (2, 1)) * reshape(x, [1, 2]))", "x=[1,2]")
    assert data["value"] == 9.0 and data["grad"]["x"] == [6.0, 6.0]  # (x0 + x1)**2
    data = grad_json(capsys, "transpose(W, (1, 0))[0, 1]", "W=[[1,2],[3,4]]")
    assert data["value"] == 3.0 and data["grad"]["W"] == [[0.0, 0.0], [1.0, 0.0]]
    data = grad_json(capsys, "sum(x, (0, 1))", "x=[[1,2],[3,4]]")
    assert data["value"] == 10.0


def test_out_of_range_point_values_say_so_in_a_short_line(capsys):
    err = refused(capsys, "grad", "x", "--at", "x=" + "9" * 400)
    assert "out of range" in err and "ragged" not in err and len(err) < 300
    err = refused(capsys, "grad", "sum(x)", "--at", "x=[1, " + "9" * 5000 + "]")
    assert "out of range" in err and len(err) < 300
    assert "out of range" in refused(capsys, "grad", "x", "--at", "x=1e400")


@pytest.mark.parametrize("argv", [
    ["grad", "x", "--at", "x=1\nhodiff: forged line"],
    ["grad", "x", "--at", "x=1", "--wrt", "y\nhodiff: forged line"],
    ["grad", "x", "--at", "x\ny=1"],
    ["grad", "x", "--at", "x=[" + "1," * 85_000 + "1]"],           # 170 KB
    ["grad", "x", "--at", "x=1", "--wrt", "y" * 170_000],
    ["grad", "x", "--at", "x=[" + "1," * 85_000 + "1"],            # not JSON
])
def test_values_are_never_echoed_raw(capsys, argv):
    err = refused(capsys, *argv)
    assert "forged" not in err.split("\n", 1)[-1]
    assert len(err) < 400


def test_operation_counts_and_depth(capsys):
    err = refused(capsys, "grad", "+".join(["x"] * 1000), "--at", "x=1")
    assert "too many operations" in err and "deep" not in err
    assert "too many operations in a row" in refused(capsys, "grad", "+".join(["x"] * 100), "--at", "x=1")
    assert "nests 65 levels deep" in refused(capsys, "grad", "-" * 80 + "x", "--at", "x=1")


def test_non_ascii_names_are_refused_as_such(capsys):
    err = refused(capsys, "grad", "sin(x) + π", "--at", "x=1")
    assert "non-ASCII names are not allowed" in err and "--at π" not in err and "write pi" in err
    assert "ASCII" in refused(capsys, "grad", "sin(x)", "--at", "x=1", "π=3")


@pytest.mark.parametrize("name, suggestion", [("print", None), ("loadtxt", None), ("sigmod", "sigmoid"),
                                              ("tanhh", "tanh"), ("arcsine", "arcsin")])
def test_suggestions_only_for_close_names(capsys, name, suggestion):
    err = refused(capsys, "grad", f"{name}(x)", "--at", "x=1")
    if suggestion is None:
        assert "did you mean" not in err
    else:
        assert f"did you mean {suggestion!r}?" in err


def test_bad_calls_name_the_function_as_written(capsys):
    err = refused(capsys, "grad", "sum(x, foo=1)", "--at", "x=[1,2]")
    assert "_np_sum" not in err and "sum() got an unexpected keyword argument 'foo'" in err
    # the missing argument, not the variable that has no place in the expression
    assert "exp takes 1 argument, got 0" in refused(capsys, "grad", "exp()", "--at", "x=1")
    assert "sum() missing a required argument" in refused(capsys, "grad", "sum() + x", "--at", "x=1")


def test_option_help_texts(capsys):
    for command, option, words in [("jacobian", "--layout", "output axes first"),
                                   ("jacobian", "--mode", "batched over the input entries"),
                                   ("hessian", "--mode", "all four give the same matrix"),
                                   ("derivative", "--mode", "orders up to 8")]:
        status, out, _ = run(capsys, command, "--help")
        assert status == 0
        assert words in " ".join(out.split()), (command, option)


def test_matrix_cells_keep_the_table_aligned(capsys):
    status, out, err = run(capsys, "grad", "sum(W*W)*y", "--at", "W=[[1,2],[3,4]]", "y=1")
    assert status == 0, err
    lines = out.splitlines()
    assert lines[1] == "at W = [[1, 2], [3, 4]], y = 1"
    table = lines[lines.index(next(line for line in lines if line.startswith("variable"))):]
    assert len(table) == 4  # header, rule, W, y: one line per row
    assert table[2].split("  ")[0] == "W" and "[[2, 4], [6, 8]]" in table[2]
    assert table[3].index("30") == table[2].index("[[2, 4]")


def test_graph_max_nodes_limits_the_table_too(capsys):
    expression = "+".join(f"sin({k}*x)" for k in range(1, 21))
    status, out, err = run(capsys, "graph", expression, "--at", "x=0.5", "--max-nodes", "10")
    assert status == 0, err
    lines = out.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("----"))
    assert lines[rule + 11] == "... 50 earlier nodes not shown (of 60)"
    assert [line.split()[0] for line in lines[rule + 1:rule + 11]][-1] == "f"


# ---------------------------------------------------------------------- issue 19: the demo

def test_demo_without_graphviz_says_how_to_get_pictures(capsys, tmp_path, monkeypatch):
    import shlex
    import sys

    monkeypatch.setenv("PATH", str(tmp_path))  # no dot program
    monkeypatch.setitem(sys.modules, "graphviz", None)
    status, out, err = run(capsys, "demo", "--out", str(tmp_path / "my pictures"))
    assert status == 0, err
    line = next(line for line in out.splitlines() if "dot -Tsvg" in line)
    command = line[line.index("`dot -Tsvg") + 1:line.rindex("`")]
    source, target = shlex.split(command)[2], shlex.split(command)[4]
    assert (tmp_path / "my pictures" / "sigmoid_neuron.dot").samefile(source) and target.endswith(".svg")
    assert "apt-get install graphviz" in line


@pytest.mark.parametrize("where", ["/proc/nope", "a file"])
def test_demo_out_that_cannot_be_a_directory(capsys, tmp_path, where):
    if where == "a file":
        where = tmp_path / "taken"
        where.write_text("")
    err = refused(capsys, "demo", "--out", str(where), status=1)
    assert "cannot create directory" in err and "internal error" not in err


def test_demo_pictures_read_as_the_lecture(capsys, tmp_path, monkeypatch):
    import sys

    monkeypatch.setenv("PATH", str(tmp_path))  # DOT text, so the test needs no Graphviz
    monkeypatch.setitem(sys.modules, "graphviz", None)
    status, out, err = run(capsys, "demo", "--out", str(tmp_path))
    assert status == 0, err
    second = (tmp_path / "second_order.dot").read_text()
    assert '"x0" [' in second and '"x1" [' in second       # inputs kept, not folded into "*-1", "*-2"
    assert '"x0" -> "df/dw0"' in second                    # df/dw0 = x0 * upstream, drawn from x0
    assert "Each purple (dashed) node is one operation of a gate&#x27;s backward rule" in second
    assert 'size="7.5,10"' in second and "rankdir=TB" in second
    gates = (tmp_path / "gate_patterns.dot").read_text()
    assert "f = *2" not in gates and "<b>f</b><br/><b>*2</b>" in gates
    # the two gradients converging on max (from z and w) are each tied to their own edge
    for parent in ("z", "w"):
        edge = next(line for line in gates.splitlines() if line.startswith(f'  "{parent}" -> '))
        assert "decorate=true" in edge


def test_default_parameters_are_not_in_op_labels():
    import hodiff.numpy as hnp

    graph = hd.trace_graph(lambda x: hnp.sum(x * x) + hnp.sum(x, axis=0, keepdims=True)[0], np.ones(3))
    ops = [row["op"] for row in graph.rows()]
    assert "sum" in ops and "sum(axis=0, keepdims=True)" in ops
    assert not any("keepdims=False" in op for op in ops)


def test_the_values_together_are_bounded_before_computing(capsys, monkeypatch):
    # each outer product has 9e6 entries (under the per-value limit); a gradient keeps them all:
    # 795 MB RSS before this check. 9e6 x 6 > 5e7: the fourth outer product is never computed.
    calls = _spy(monkeypatch, "outer")
    err = refused(capsys, "grad", "sum(outer(x,x)*outer(x,x)*outer(x,x)*outer(x,x)*outer(x,x))",
                  "--at", f"x={[0.5] * 3000}")
    assert "add up to 54000000 entries" in err and f"the limit is {LIMITS['total_size']}" in err
    assert len(calls) == 3


def test_inputs_the_dask_and_cli_audit_found(capsys):
    # a variable as norm's ord gave derivative 0 (7 and df/dy = 0; sympy: -4.7804); full-width x was read as x;
    # 1e-400 became 0; concatenate of different lengths failed inside numpy; --max-nodes 0 printed nonsense
    assert "argument 2 of norm() must be a constant" in refused(capsys, "grad", "norm(x, y)", "--at", "x=[3,4]",
                                                                 "y=1")
    assert "non-ASCII names are not allowed ('\uff58' at column 3)" in refused(capsys, "grad", "x*\uff58", "--at",
                                                                                "x=3")
    assert "underflows to 0" in refused(capsys, "grad", "x*1e-400", "--at", "x=3")
    assert "1e-400 underflows to 0" in refused(capsys, "grad", "x*x", "--at", "x=[1e-400, 2]")
    assert "must be at least 1" in refused(capsys, "graph", "x*x", "--at", "x=3", "--max-nodes", "0")
    assert "--wrt names no variable" in refused(capsys, "grad", "x*x", "--at", "x=3", "--wrt", "")
    assert "write maximum(a, b)" in refused(capsys, "grad", "max(x, y)", "--at", "x=1", "y=2")  # y was an axis
    out = grad_json(capsys, "sum(concatenate([x, y]) ** 2)", "x=[1,2]", "y=[3]")
    assert out["grad"] == {"x": [2.0, 4.0], "y": [6.0]}
