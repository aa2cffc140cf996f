"""The fast paths of the array workloads give the slow paths' numbers (to rounding) and dtypes.

Each fast path is checked against an independent reference (numpy, a Python
loop over batch members, a closed form) and, where it changes how a rule
computes, under nesting (a derivative of the fast path) as well.
"""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.primitives import elementwise as E

RNG = np.random.default_rng(11)


def _random(*shape, dtype=np.float64):
    return RNG.uniform(-1, 1, shape).astype(dtype)


# ----------------------------------------------------------------- matmul with one batched operand

# (member shape of a, member shape of b, which operand is batched)
ONE_SIDE_BATCHED = [
    ((4,), (4, 3), "a"),        # rows of a Jacobian against a matrix: one (B, k) @ (k, m)
    ((4,), (4,), "a"),          # batched vectors against a vector: (B, k) @ (k,)
    ((2, 4), (4, 3), "a"),      # batched matrices: stacked into (B * 2, k) rows
    ((2, 5, 4), (4,), "a"),     # stacked members against a vector
    ((3, 4), (4,), "b"),        # a @ b_i for B vectors b_i: b @ a.T
    ((4,), (4,), "b"),
    ((4,), (2, 4, 3), "a"),     # b has stack axes: numpy's own loop (no fast path)
    ((2, 3, 4), (4,), "b"),     # a has stack axes: numpy's own loop
    ((3, 4), (4, 2), "b"),      # batched matrices b: numpy's own loop
]


@pytest.mark.parametrize("a_shape, b_shape, side", ONE_SIDE_BATCHED, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128], ids=lambda d: np.dtype(d).name)
def test_matmul_with_one_batched_operand_matches_a_loop(a_shape, b_shape, side, dtype):
    size = 5
    a = _random(*(((size,) if side == "a" else ()) + a_shape), dtype=dtype)
    b = _random(*(((size,) if side == "b" else ()) + b_shape), dtype=dtype)
    if dtype == np.complex128:
        a = a + 1j * _random(*a.shape)
        b = b + 1j * _random(*b.shape)
    out = hd.vmap(hnp.matmul, in_axes=(0, None) if side == "a" else (None, 0))(a, b)
    expected = np.stack([a[i] @ b if side == "a" else a @ b[i] for i in range(size)])
    assert out.dtype == expected.dtype and out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-5 if dtype == np.float32 else 1e-13)


def test_matmul_batch_fast_path_keeps_numpys_shape_errors():
    with pytest.raises(ValueError, match="contracted dimensions differ"):
        hd.vmap(hnp.matmul, in_axes=(0, None))(np.ones((3, 4)), np.ones((5, 2)))
    with pytest.raises(ValueError, match="contracted dimensions differ"):
        hd.vmap(hnp.matmul, in_axes=(None, 0))(np.ones((2, 4)), np.ones((3, 5)))


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_jacobians_of_matrix_vector_products(mode):
    A, x = _random(6, 4), _random(4)
    J = hd.jacobian(lambda x: hnp.tanh(hnp.matmul(A, x)), mode=mode)(x)
    np.testing.assert_allclose(J, (1 - np.tanh(A @ x) ** 2)[:, None] * A, rtol=1e-13)
    J = hd.jacobian(lambda x: hnp.tanh(hnp.matmul(x, A.T)), mode=mode)(x)  # the vector on the left
    np.testing.assert_allclose(J, (1 - np.tanh(A @ x) ** 2)[:, None] * A, rtol=1e-13)


def test_matrix_vector_vjps_without_stack_axes():
    A, x, y = _random(3, 4), _random(4), _random(3)
    gA, gx = hd.grad(lambda A, x: hnp.sum(hnp.sin(hnp.matmul(A, x))), argnums=(0, 1))(A, x)
    c = np.cos(A @ x)
    np.testing.assert_allclose(gA, np.outer(c, x), rtol=1e-13)
    np.testing.assert_allclose(gx, A.T @ c, rtol=1e-13)
    gy, gA = hd.grad(lambda y, A: hnp.sum(hnp.sin(hnp.matmul(y, A))), argnums=(0, 1))(y, A)
    c = np.cos(y @ A)
    np.testing.assert_allclose(gy, A @ c, rtol=1e-13)
    np.testing.assert_allclose(gA, np.outer(y, c), rtol=1e-13)
    # nested: the Hessian of the fast-path gradient, every mode
    f = lambda x: hnp.sum(hnp.sin(hnp.matmul(A, x)))  # noqa: E731
    expected = -(A.T * np.sin(A @ x)) @ A
    for mode in ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd"):
        np.testing.assert_allclose(hd.hessian(f, mode=mode)(x), expected, rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------- logaddexp's derivative: expit(x - y)

def test_logaddexp_weight_is_the_softmax_weight():
    x = np.array([-1.0, 0.5, 3.0, -40.0, 800.0, np.inf, -np.inf, np.inf, 1.0])
    y = np.array([2.0, 0.5, -2.0, 0.0, 0.0, np.inf, -np.inf, 1.0, np.nan])
    with np.errstate(invalid="ignore", over="ignore"):
        expected = np.exp(x - np.logaddexp(x, y))
    expected[[5, 6]] = 0.5  # the same infinity twice: the weights split evenly
    expected[7] = 1.0  # x = inf outweighs any finite y
    np.testing.assert_allclose(E.logaddexp_weight(x, y), expected, rtol=1e-14)
    np.testing.assert_allclose(E.logaddexp_weight(x, y) + E.logaddexp_weight(y, x), np.where(np.isnan(y), np.nan, 1))
    np.testing.assert_allclose(E.logaddexp2_weight(x[:5], y[:5]), 2.0 ** x[:5] / (2.0 ** x[:5] + 2.0 ** y[:5]),
                               rtol=1e-15)


@pytest.mark.parametrize("function, log_base", [(hnp.logaddexp, 1.0), (hnp.logaddexp2, np.log(2.0))])
def test_logaddexp_derivatives_to_third_order(function, log_base):
    x, y = np.array([0.3, -1.2, 2.0]), np.array([-0.4, 0.7, 2.0])
    w = 1.0 / (1.0 + np.exp(-log_base * (x - y)))
    gx, gy = hd.grad(lambda x, y: hnp.sum(function(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, w, rtol=1e-14)
    np.testing.assert_allclose(gy, 1 - w, rtol=1e-14)
    second = log_base * w * (1 - w)
    np.testing.assert_allclose(hd.hessian(lambda x: hnp.sum(function(x, y)))(x), np.diag(second), rtol=1e-13)
    third = log_base ** 2 * w * (1 - w) * (1 - 2 * w)
    d3 = hd.grad(hd.grad(hd.grad(lambda t: function(t, 0.25))))
    for xi, expected in zip(x, log_base ** 2 * (lambda w: w * (1 - w) * (1 - 2 * w))(
            1.0 / (1.0 + np.exp(-log_base * (x - 0.25))))):
        assert float(d3(xi)) == pytest.approx(expected, rel=1e-12)
    assert third.shape == x.shape


def test_logaddexp_weight_keeps_float32_and_limits():
    x = np.array([0.5, -3.0], dtype=np.float32)
    assert hd.grad(lambda x: hnp.sum(hnp.logaddexp(0.0, x)))(x).dtype == np.float32
    assert hd.hessian(lambda x: hnp.sum(hnp.logaddexp2(x, 0.0)))(x).dtype == np.float32
    with np.errstate(invalid="raise", divide="raise", over="raise"):
        assert float(hd.grad(lambda x: hnp.logaddexp(x, 0.0))(-np.inf)) == 0.0
        assert float(hd.grad(lambda x: hnp.logaddexp(x, 0.0))(np.inf)) == 1.0
        assert float(hd.grad(hd.grad(lambda x: hnp.logaddexp(x, 0.0)))(800.0)) == 0.0


def test_softplus_hessian_of_the_benchmark_objective():
    A, x = _random(30, 8), _random(8)

    def f(x):
        return hnp.sum(hnp.logaddexp(0.0, hnp.matmul(A, x))) + 0.5 * hnp.matmul(x, x)

    s = 1 / (1 + np.exp(-(A @ x)))
    expected = (A.T * (s * (1 - s))) @ A + np.eye(8)
    for mode in ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd"):
        np.testing.assert_allclose(hd.hessian(f, mode=mode)(x), expected, rtol=1e-12)
