"""Hessians: four modes, HVPs and VHPs against analytic Hessians; the layout rule for vector-valued f;
derivative tensors; and the stress test in which every route to a Hessian agrees."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.testing import assert_modes_agree

HESSIAN_MODES = ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd")
HVP_MODES = ("fwd-rev", "rev-rev", "rev-fwd")


def sigmoid(z):
    return 1.0 / (1.0 + hnp.exp(-z))


@given(n=st.integers(1, 4), seed=st.integers(0, 2 ** 16))
def test_quadratic_form_hessian_in_every_mode(n, seed):
    rng = np.random.default_rng(seed)
    A, b, x, v = rng.standard_normal((n, n)), rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(n)
    f = lambda x: 0.5 * hnp.sum(x * hnp.tensordot(A, x, axes=1)) + hnp.sum(b * x)
    expected = 0.5 * (A + A.T)
    for mode in HESSIAN_MODES:
        np.testing.assert_allclose(hd.hessian(f, mode=mode)(x), expected, atol=1e-12)
    for mode in HVP_MODES:
        (Hv,) = hd.hvp(f, (x,), (v,), mode=mode)
        np.testing.assert_allclose(Hv, expected @ v, atol=1e-12)
    np.testing.assert_allclose(hd.vhp(f, (x,), (v,))[0], v @ expected, atol=1e-12)


@given(m=st.integers(1, 5), n=st.integers(1, 4), seed=st.integers(0, 2 ** 16))
def test_logistic_loss_hessian_is_a_transpose_diag_a(m, n, seed):
    rng = np.random.default_rng(seed)
    A, w, v = rng.standard_normal((m, n)), rng.standard_normal(n), rng.standard_normal(n)
    # L(w) = sum log(1 + exp(A w)):  gradient A^T s,  Hessian A^T diag(s (1 - s)) A,  s = sigmoid(A w).
    loss = lambda w: hnp.sum(hnp.log(1.0 + hnp.exp(hnp.tensordot(A, w, axes=1))))
    s = 1.0 / (1.0 + np.exp(-(A @ w)))
    expected = A.T @ np.diag(s * (1 - s)) @ A
    np.testing.assert_allclose(hd.grad(loss)(w), A.T @ s, atol=1e-12)
    for mode in HESSIAN_MODES:
        np.testing.assert_allclose(hd.hessian(loss, mode=mode)(w), expected, atol=1e-12)
    for mode in HVP_MODES:
        np.testing.assert_allclose(hd.hvp(loss, (w,), (v,), mode=mode)[0], expected @ v, atol=1e-12)
    assert_modes_agree(loss, (w,), order=2)


def test_hvp_and_vhp_return_one_entry_per_primal():
    f = lambda x, y: hnp.sum(x * x * y) + hnp.sum(hnp.sin(y))
    x, y = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    vx, vy = np.array([1.0, 0.0]), np.array([0.0, 2.0])
    # H = [[diag(2y), diag(2x)], [diag(2x), -diag(sin y)]]
    expected_x = 2 * y * vx + 2 * x * vy
    expected_y = 2 * x * vx - np.sin(y) * vy
    for mode in HVP_MODES:
        result = hd.hvp(f, (x, y), (vx, vy), mode=mode)
        assert isinstance(result, tuple) and len(result) == 2
        np.testing.assert_allclose(result[0], expected_x)
        np.testing.assert_allclose(result[1], expected_y)
    result = hd.vhp(f, (x, y), (vx, vy))
    assert isinstance(result, tuple) and len(result) == 2
    np.testing.assert_allclose(result[0], expected_x)
    np.testing.assert_allclose(result[1], expected_y)
    # Pytree primals keep their structure.
    g = lambda p: hnp.sum(p["a"] ** 3) * p["b"]
    (hv,) = hd.hvp(g, ({"a": x, "b": 2.0},), ({"a": vx, "b": 1.0},))
    np.testing.assert_allclose(hv["a"], 6 * x * vx * 2.0 + 3 * x ** 2 * 1.0)
    np.testing.assert_allclose(hv["b"], np.sum(3 * x ** 2 * vx))


def test_hvp_rejects_bad_arguments():
    f = lambda x: hnp.sum(x * x)
    with pytest.raises(ValueError, match="fwd-fwd"):
        hd.hvp(f, (np.ones(2),), (np.ones(2),), mode="fwd-fwd")
    with pytest.raises(TypeError, match="tuples"):
        hd.hvp(f, np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="structure"):
        hd.hvp(f, (np.ones(2),), ((np.ones(2), 1.0),))
    with pytest.raises(ValueError, match="mode"):
        hd.hessian(f, mode="fwd")


def test_vector_valued_hessian_layout_rule():
    # y = (x0^2 x1, sin(x0) x1^3): out_shape (2,), in_shape (2,).
    f = lambda x: hnp.stack([x[0] ** 2 * x[1], hnp.sin(x[0]) * x[1] ** 3])
    x = np.array([0.4, 1.3])
    x0, x1 = x
    expected = np.array([  # numerator: [i, j, k] = d^2 y_i / dx_j dx_k
        [[2 * x1, 2 * x0], [2 * x0, 0.0]],
        [[-np.sin(x0) * x1 ** 3, 3 * np.cos(x0) * x1 ** 2], [3 * np.cos(x0) * x1 ** 2, 6 * np.sin(x0) * x1]],
    ])
    for mode in HESSIAN_MODES:
        numerator = hd.hessian(f, mode=mode)(x)
        denominator = hd.hessian(f, mode=mode, layout="denominator")(x)
        np.testing.assert_allclose(numerator, expected, atol=1e-12)                       # out + in + in
        np.testing.assert_allclose(denominator, np.moveaxis(expected, 0, -1), atol=1e-12)  # in + in + out
    # Consistent with jacobian of jacobian in the same layout.
    np.testing.assert_allclose(hd.jacobian(hd.jacobian(f, layout="denominator"), layout="denominator")(x),
                               np.moveaxis(expected, 0, -1), atol=1e-12)


def test_hessian_with_tuple_argnums_nests():
    f = lambda x, y: hnp.sum(x * x) * y
    x, y = np.array([1.0, 2.0]), 3.0
    for mode in HESSIAN_MODES:
        (Hxx, Hxy), (Hyx, Hyy) = hd.hessian(f, argnums=(0, 1), mode=mode)(x, y)
        np.testing.assert_allclose(Hxx, 2 * y * np.eye(2))
        np.testing.assert_allclose(Hxy, 2 * x)
        np.testing.assert_allclose(Hyx, 2 * x)
        assert float(Hyy) == 0.0


@given(n=st.integers(1, 3), seed=st.integers(0, 2 ** 16))
def test_derivative_tensor_of_a_cubic(n, seed):
    rng = np.random.default_rng(seed)
    T = rng.standard_normal((n, n, n))
    T = sum(np.transpose(T, p) for p in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]) / 6
    x = rng.standard_normal(n)
    cubic = lambda x: hnp.sum(hnp.tensordot(hnp.tensordot(T, x, axes=1), x, axes=1) * x)
    np.testing.assert_allclose(hd.derivative_tensor(cubic, order=3)(x), 6 * T, atol=1e-11)
    np.testing.assert_allclose(hd.derivative_tensor(cubic, order=2)(x), 6 * T @ x, atol=1e-11)
    np.testing.assert_allclose(hd.derivative_tensor(cubic, order=1)(x), 3 * (T @ x) @ x, atol=1e-11)
    assert hd.derivative_tensor(cubic, order=4)(x).shape == (n,) * 4
    np.testing.assert_allclose(hd.derivative_tensor(cubic, order=4)(x), 0.0, atol=1e-11)


def test_derivative_tensor_refuses_a_complex_input_in_its_own_words():
    # it said "jacfwd requires real-valued inputs ... pass holomorphic=True", an option derivative_tensor lacks
    with pytest.raises(TypeError, match="derivative_tensor: real inputs only"):
        hd.derivative_tensor(lambda z: hnp.sum(hnp.abs(z) ** 2), 2)(np.array([1 + 1j, 2.0]))


def test_derivative_tensor_is_symmetric_and_matches_hessian():
    f = lambda x: hnp.exp(x[0] * x[1]) * hnp.sin(x[2] + x[0])
    x = np.array([0.3, -0.5, 0.8])
    D3 = hd.derivative_tensor(f, order=3)(x)
    for perm in [(0, 2, 1), (1, 0, 2), (2, 1, 0)]:
        np.testing.assert_allclose(D3, np.transpose(D3, perm), atol=1e-12)
    np.testing.assert_allclose(hd.derivative_tensor(f, order=2)(x), hd.hessian(f)(x), atol=1e-12)
    np.testing.assert_allclose(D3, hd.jacobian(hd.hessian(f))(x), atol=1e-12)
    with pytest.raises(ValueError, match="order"):
        hd.derivative_tensor(f, order=-1)


# ------------------------------------------------------------------ the stress test

W = np.array([[1.0, 0.5, -0.3], [0.2, -1.0, 0.4], [0.0, 0.3, 0.7]])


def stress_function(x):
    return (hnp.sum(hnp.sin(x) * hnp.exp(x[::-1] * 0.5))
            + hnp.tanh(hnp.sum(x * hnp.tensordot(W, x, axes=1)))
            + hnp.sqrt(1.0 + x[0] ** 2) / (2.0 + x[1])
            + hnp.log(1.0 + x[2] * x[2]) * x[0])


def all_routes_to_the_hessian(f, x):
    n = x.size
    basis = np.eye(n)
    routes = {
        "jacfwd(jacrev)": hd.jacfwd(hd.jacrev(f))(x),
        "jacrev(jacrev)": hd.jacrev(hd.jacrev(f))(x),
        "jacrev(jacfwd)": hd.jacrev(hd.jacfwd(f))(x),
        "jacfwd(jacfwd)": hd.jacfwd(hd.jacfwd(f))(x),
        "jacobian(grad)": hd.jacobian(hd.grad(f))(x),
        "grad of grad entries": np.array([[hd.grad(lambda y, i=i: hd.grad(f)(y)[i])(x)[j] for j in range(n)]
                                          for i in range(n)]),
        "vhp rows": np.array([hd.vhp(f, (x,), (basis[i],))[0] for i in range(n)]),
        "linearize(grad) columns": np.array([hd.linearize(hd.grad(f), x)[1](basis[i]) for i in range(n)]).T,
        "jvp(grad) columns": np.array([hd.jvp(hd.grad(f), (x,), (basis[i],))[1] for i in range(n)]).T,
        "grad of batched dual": hd.grad(f)(hd.Dual(x, basis, batched=True)).tangent,
        "derivative_tensor(order=2)": hd.derivative_tensor(f, order=2)(x),
    }
    for mode in HESSIAN_MODES:
        routes[f"hessian({mode})"] = hd.hessian(f, mode=mode)(x)
    for mode in HVP_MODES:
        routes[f"hvp({mode}) columns"] = np.array([hd.hvp(f, (x,), (basis[i],), mode=mode)[0] for i in range(n)]).T
    variable = hd.Variable(x)
    gradient = hd.grad_of(f(variable), variable, create_graph=True)[0]
    routes["graph API create_graph rows"] = np.array([np.asarray(hd.grad_of(gradient[i], variable)[0])
                                                      for i in range(n)])
    for i in range(n):  # .backward(create_graph=True), then backward of each gradient entry, PyTorch-style
        variable = hd.Variable(x)
        f(variable).backward(create_graph=True)
        first = variable.grad
        variable.zero_grad()
        first[i].backward()
        routes.setdefault("graph API backward rows", []).append(np.asarray(variable.grad.value
                                                                           if isinstance(variable.grad, hd.Variable)
                                                                           else variable.grad))
    routes["graph API backward rows"] = np.array(routes["graph API backward rows"])
    return routes


@pytest.mark.parametrize("x", [np.array([0.3, -0.7, 1.1]), np.array([-1.2, 0.4, 0.05])])
def test_every_route_to_the_hessian_agrees(x):
    routes = all_routes_to_the_hessian(stress_function, x)
    reference = routes["jacfwd(jacrev)"]
    assert reference.shape == (3, 3)
    np.testing.assert_allclose(reference, reference.T, atol=1e-12)
    for name, H in routes.items():
        np.testing.assert_allclose(H, reference, rtol=1e-10, atol=1e-12, err_msg=name)
    numeric = hd.numerical_jacobian(hd.grad(stress_function), x)
    np.testing.assert_allclose(numeric, reference, rtol=1e-6, atol=1e-8)


def test_fwd_rev_hessian_evaluates_f_once_with_all_tangents_batched():
    calls = []

    def f(x):
        calls.append(type(x).__name__)
        return hnp.sum(hnp.exp(x) * x)

    x = np.linspace(-1.0, 1.0, 50)
    H = hd.hessian(f)(x)
    np.testing.assert_allclose(H, np.diag(np.exp(x) * (x + 2)), atol=1e-12)
    assert len(calls) == 1   # one forward pass, n = 50 tangents carried together


def test_hessian_of_a_pytree_input_nests_dicts_like_jax():
    f = lambda p: hnp.sum(p["a"] ** 2) * p["b"]
    p = {"a": np.array([1.0, 2.0]), "b": 3.0}
    for mode in HESSIAN_MODES:
        H = hd.hessian(f, mode=mode)(p)
        np.testing.assert_allclose(H["a"]["a"], 2 * 3.0 * np.eye(2))
        np.testing.assert_allclose(H["a"]["b"], [2.0, 4.0])
        np.testing.assert_allclose(H["b"]["a"], [2.0, 4.0])
        assert float(H["b"]["b"]) == 0.0


def test_forward_sweep_drops_intermediate_tangents_and_keeps_the_outputs():
    """A sweep (linearize, full Hessians) holds a tangent only until its last consumer read it."""
    from hodiff.interpreters.reverse import forward_sweep
    from hodiff.transforms.recording import Recording

    x = np.array([0.3, -0.4, 1.2])
    recording = Recording(lambda x: hnp.sin(x * 2.0) * hnp.exp(x) + x, (x,))
    (leaf,), (root,) = recording.input_nodes, recording.roots
    tangent = np.array([1.0, 2.0, -1.0])
    swept = forward_sweep([root], {leaf: tangent})
    assert set(swept) == {leaf, root}  # the four intermediate nodes' tangents are gone
    expected = (2 * np.cos(2 * x) * np.exp(x) + np.sin(2 * x) * np.exp(x) + 1) * tangent
    np.testing.assert_allclose(swept[root], expected, rtol=1e-14)
