"""The backprop lecture's worked numbers, computed by hodiff (and printed by ``hodiff demo``)."""

import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.cli.demo import LECTURE_POINT, neuron, sigmoid_staged
from hodiff.cli.main import main
from hodiff.nn import relu, sigmoid
from hodiff.viz import trace_graph

LECTURE_GRAD = (-0.1966, 0.3932, -0.3932, -0.5898, 0.1966)  # (w0, x0, w1, x1, w2), to 4 decimals
finite = st.floats(-10, 10, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


# ---------------------------------------------------------------------- the sigmoid neuron

def test_neuron_value_and_gradient():
    point = tuple(LECTURE_POINT.values())
    value, grads = hd.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4))(*point)
    assert round(float(value), 2) == 0.73
    np.testing.assert_allclose(grads, LECTURE_GRAD, atol=5e-5)
    # dsigma/dz = (1 - s) s = 0.2 times dz/d(w0, x0, w1, x1, w2) = (x0, w0, x1, w1, 1).
    s = float(value)
    w0, x0, w1, x1, _ = point
    np.testing.assert_allclose(grads, (1 - s) * s * np.array([x0, w0, x1, w1, 1.0]), rtol=1e-12)


def test_neuron_by_the_graph_api_matches_grad():
    names = list(LECTURE_POINT)
    variables = [hd.Variable(value, name=name) for name, value in LECTURE_POINT.items()]
    f = neuron(*variables)
    f.backward()
    np.testing.assert_allclose([float(v.grad) for v in variables],
                               hd.grad(neuron, argnums=(0, 1, 2, 3, 4))(*LECTURE_POINT.values()), rtol=1e-14)
    assert [v.name for v in variables] == names


def test_staged_gates_local_gradients():
    # The lecture's stages: *-1 (local -1), exp (local e^x), +1 (local 1), 1/x (local -1/x^2).
    graph = trace_graph(neuron, *LECTURE_POINT.values())
    locals_by_gate = {graph.op_label(edge.child): float(edge.local) for edge in graph.edges
                      if edge.child.primitive.name in ("negative", "exp", "true_divide")
                      or graph.op_label(edge.child) == "+1"}
    assert locals_by_gate["*-1"] == -1.0
    assert locals_by_gate["exp"] == pytest.approx(np.exp(-1.0))           # e^x at x = -1: 0.37
    assert locals_by_gate["+1"] == 1.0
    assert locals_by_gate["1/x"] == pytest.approx(-1 / (1 + np.exp(-1.0)) ** 2)  # -1/1.37^2 = -0.53
    assert round(locals_by_gate["1/x"], 2) == -0.53


def test_sigmoid_shortcut():
    # d sigmoid/dz = (1 - sigma) sigma: at z = 1, (1 - 0.73) * 0.73 = 0.2, as backprop through the four gates.
    s, ds = hd.value_and_grad(sigmoid_staged)(1.0)
    assert float(ds) == pytest.approx((1 - float(s)) * float(s), rel=1e-14)
    assert round(float(ds), 1) == 0.2


def test_nn_sigmoid_matches_the_staged_gates():
    for z in (-3.0, 1.0, 4.0):
        assert float(hd.grad(sigmoid)(z)) == pytest.approx(float(hd.grad(sigmoid_staged)(z)), rel=1e-12)


# ---------------------------------------------------------------------- gate patterns

@given(finite, finite, finite)
def test_add_distributes(x, y, upstream):
    _, vjp_fn = hd.vjp(lambda a, b: a + b, x, y)
    assert vjp_fn(upstream) == (upstream, upstream)


@given(finite, finite, finite)
def test_multiply_swaps(x, y, upstream):
    _, vjp_fn = hd.vjp(lambda a, b: a * b, x, y)
    dx, dy = vjp_fn(upstream)
    assert dx == upstream * y and dy == upstream * x


@given(finite, finite, finite)
def test_copy_adds(x, y, upstream):
    # x is used by two gates; its gradient is the sum of the two branches.
    _, vjp_fn = hd.vjp(lambda a, b: a * b + hnp.sin(a), x, y)
    dx, _ = vjp_fn(upstream)
    assert float(dx) == pytest.approx(upstream * y + upstream * np.cos(x), rel=1e-12, abs=1e-12)


@given(finite, finite, finite)
def test_max_routes(x, y, upstream):
    if x == y:
        return  # ties share the gradient (API.md section 11); the lecture's max has a winner
    _, vjp_fn = hd.vjp(hnp.maximum, x, y)
    dx, dy = vjp_fn(upstream)
    assert (float(dx), float(dy)) == ((upstream, 0.0) if x > y else (0.0, upstream))


def test_the_lectures_circuit():
    # f = 2 (x y + max(z, w)) at x = 3, y = -4, z = 2, w = -1: every pattern in one graph.
    f = lambda x, y, z, w: 2.0 * (x * y + hnp.maximum(z, w))
    value, grads = hd.value_and_grad(f, argnums=(0, 1, 2, 3))(3.0, -4.0, 2.0, -1.0)
    assert float(value) == -20.0
    assert [float(g) for g in grads] == [-8.0, 6.0, 2.0, 0.0]


# ---------------------------------------------------------------------- ReLU, matrix product

def test_relu_vjp_never_builds_the_jacobian():
    x = np.array([1.0, -2.0, 3.0, -1.0])
    y, vjp_fn = hd.vjp(relu, x)
    np.testing.assert_array_equal(y, [1.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(vjp_fn(np.array([4.0, -1.0, 5.0, 9.0]))[0], [4.0, 0.0, 5.0, 0.0])


def test_relu_jacobian_both_layouts():
    x = np.array([1.0, -2.0, 3.0, -1.0])
    for layout in ("numerator", "denominator"):
        np.testing.assert_array_equal(hd.jacobian(relu, layout=layout)(x), np.diag([1.0, 0.0, 1.0, 0.0]))


X = np.array([[2.0, 1.0, -3.0], [-3.0, 4.0, 2.0]])
W = np.array([[3.0, 2.0, 1.0, -1.0], [2.0, 1.0, 3.0, 2.0], [3.0, 2.0, 1.0, -2.0]])
DL_DY = np.array([[2.0, 3.0, -3.0, 9.0], [-8.0, 1.0, 4.0, 6.0]])


def product(x, w):
    return hnp.tensordot(x, w, axes=1)


def test_matmul_backprop_shortcut():
    y, vjp_fn = hd.vjp(product, X, W)
    dx, dw = vjp_fn(DL_DY)
    np.testing.assert_allclose(dx, DL_DY @ W.T)   # dL/dx = dL/dy W^T
    np.testing.assert_allclose(dw, X.T @ DL_DY)   # dL/dW = x^T dL/dy
    np.testing.assert_allclose(dx, [[0.0, 16.0, -9.0], [-24.0, 9.0, -30.0]])


def test_matmul_jacobian_is_4d():
    J = hd.jacobian(product, argnums=0)(X, W)
    assert J.shape == (2, 4, 2, 3)  # (N, M, N, D), numerator layout
    np.testing.assert_allclose(np.tensordot(DL_DY, J, axes=([0, 1], [0, 1])), DL_DY @ W.T)
    assert hd.jacobian(product, argnums=0, layout="denominator")(X, W).shape == (2, 3, 2, 4)


# ---------------------------------------------------------------------- higher order

def test_hessian_by_differentiating_the_backward_pass():
    p = LECTURE_POINT
    w = [hd.Variable(p[name]) for name in ("w0", "w1", "w2")]
    f = neuron(w[0], p["x0"], w[1], p["x1"], w[2])
    f.backward(create_graph=True)
    H = np.array([[float(g) for g in hd.grad_of(wi.grad, w)] for wi in w])
    s = float(f.value)
    x = np.array([p["x0"], p["x1"], 1.0])
    np.testing.assert_allclose(H, s * (1 - s) * (1 - 2 * s) * np.outer(x, x), rtol=1e-12)


def test_higher_derivatives_of_the_sigmoid():
    g = sigmoid_staged
    derivatives = []
    for _ in range(3):
        g = hd.grad(g)
        derivatives.append(float(g(1.0)))
    s = float(sigmoid_staged(1.0))
    np.testing.assert_allclose(derivatives, [s * (1 - s), s * (1 - s) * (1 - 2 * s),
                                             s * (1 - s) * (1 - 6 * s + 6 * s * s)], rtol=1e-12)


def test_hd_hessian_of_the_neuron():
    p = LECTURE_POINT
    H = hd.hessian(lambda w: neuron(w[0], p["x0"], w[1], p["x1"], w[2]))(np.array([p["w0"], p["w1"], p["w2"]]))
    s = float(neuron(*p.values()))
    x = np.array([p["x0"], p["x1"], 1.0])
    np.testing.assert_allclose(H, s * (1 - s) * (1 - 2 * s) * np.outer(x, x), rtol=1e-10)


# ---------------------------------------------------------------------- hodiff demo

def test_demo_prints_the_lectures_numbers(capsys, tmp_path):
    assert main(["demo", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "f = 0.7311; gradient (df/dw0, df/dx0, df/dw1, df/dx1, df/dw2) = " \
           "(-0.1966, 0.3932, -0.3932, -0.5898, 0.1966)" in out
    assert "= (1 - 0.7311) x 0.7311 = 0.1966" in out
    assert "max routes:      z (the larger) gets 2, w gets 0." in out
    assert "multiply swaps:  x gets y x upstream = -8, y gets x x upstream = 6." in out
    assert "its branches send back -4 and 1, and da = their sum = -3." in out
    assert "upstream [4, -1, 5, 9] -> downstream [4, 0, 5, 0]" in out
    assert "dL/dx = dL/dy W^T = [[0, 16, -9], [-24, 9, -30]]   (VJP: [[0, 16, -9], [-24, 9, -30]])" in out
    assert "(256 GiB in float32)" in out
    assert "d^k sigmoid/dz^k at z = 1, k = 1..5, by nesting grad: 0.1966, -0.09086, -0.03533" in out
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(files) == 3 and all(name.endswith((".svg", ".dot")) for name in files)
    for name in files:
        assert f"wrote {tmp_path / 'out' / name}" in out
        if name.endswith(".svg"):
            assert ET.parse(tmp_path / "out" / name).getroot().tag.endswith("svg")


def test_demo_json(capsys):
    assert main(["demo", "--no-files", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(list(data["neuron"]["grad"].values()), LECTURE_GRAD, atol=5e-5)
    assert data["gates"]["grad"] == {"x": -8.0, "y": 6.0, "z": 2.0, "w": 0.0}
    assert data["relu"]["vjp"] == [4.0, 0.0, 5.0, 0.0]
    assert data["files"] == []
    assert "skipped" not in data
    np.testing.assert_array_equal(data["relu"]["numerator"], np.diag([1.0, 0.0, 1.0, 0.0]))
    np.testing.assert_array_equal(data["relu"]["denominator"], np.diag([1.0, 0.0, 1.0, 0.0]))
    assert data["matmul"]["jacobian_shape"] == [2, 4, 2, 3]
    np.testing.assert_allclose(data["matmul"]["contracted"], data["matmul"]["shortcut_dx"])
    np.testing.assert_allclose(data["matmul"]["shortcut_dx"], [[0.0, 16.0, -9.0], [-24.0, 9.0, -30.0]])
    np.testing.assert_allclose(data["higher"]["hessian"], data["higher"]["hessian_graph"], rtol=1e-10)
    np.testing.assert_allclose(data["higher"]["taylor"], data["higher"]["sigmoid_derivatives"], rtol=1e-10)
