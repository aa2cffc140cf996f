"""Reductions: values as numpy's, and the conventions at zeros and ties."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hodiff as hd
import hodiff.numpy as hnp

X = np.random.default_rng(0).uniform(-2, 2, (3, 4, 5))

VALUE_CASES = [
    ("mean", {}), ("mean", {"axis": 1}), ("mean", {"axis": (0, -1), "keepdims": True}),
    ("prod", {"axis": -1}), ("prod", {"axis": (0, 2)}),
    ("var", {}), ("var", {"axis": 0, "ddof": 1}), ("std", {"axis": (1, 2), "keepdims": True}),
    ("max", {}), ("max", {"axis": 1}), ("min", {"axis": -1, "keepdims": True}), ("amax", {"axis": (0, 1)}),
    ("amin", {}), ("ptp", {"axis": 2}),
    ("cumsum", {}), ("cumsum", {"axis": -2}), ("cumprod", {"axis": 0}), ("cumprod", {}),
    ("sort", {}), ("sort", {"axis": 0}), ("sort", {"axis": None}),
    ("argsort", {"axis": 1}), ("argmax", {}), ("argmax", {"axis": 1, "keepdims": True}), ("argmin", {"axis": -1}),
    ("median", {}), ("median", {"axis": 1}), ("median", {"axis": (0, 2), "keepdims": True}),
    ("average", {"axis": 1}),
]


@pytest.mark.parametrize("name, kwargs", VALUE_CASES, ids=lambda c: str(c))
def test_values_match_numpy(name, kwargs):
    expected = getattr(np, name)(X, **kwargs)
    got = getattr(hnp, name)(X, **kwargs)
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("shape", [(1000, 5, 2), (300, 3), (100, 7), (64, 4, 6), (50, 8), (40, 9), (2000, 1), (9, 2)])
def test_sum_over_a_short_last_axis_is_numpys_bit_for_bit(shape, dtype):
    # The primitive adds a short last axis up column by column (faster than numpy's row-by-row loop):
    # it must be numpy's own order, so every bit (and the sign of a zero) is numpy's.
    from hodiff.primitives.shape import sum as sum_primitive

    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3, shape)).astype(dtype)
    x[np.abs(x) < 1e-2] = -0.0
    x.flat[::7] = 0.0
    x.flat[5] = np.inf
    for axis in (-1, len(shape) - 1, (-1,)):
        for keepdims in (False, True):
            expected = np.sum(x, axis=axis, keepdims=keepdims)
            got = sum_primitive(x, axis=axis, keepdims=keepdims)
            assert got.dtype == expected.dtype and got.shape == expected.shape
            np.testing.assert_array_equal(got, expected)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))
    strided = np.asarray(x, dtype=np.float64)[::2, ..., ::-1]
    np.testing.assert_array_equal(sum_primitive(strided, axis=-1), np.sum(strided, axis=-1))


@pytest.mark.parametrize("shape", [(1000, 5), (300, 3, 2), (100, 7)])
def test_logsumexp_over_a_short_last_axis_is_scipys(shape):
    # its max and sum take the column-by-column path above; rows of -inf, inf and nan keep scipy's answers
    import scipy.special

    import hodiff.scipy.special as hsp

    x = np.random.default_rng(len(shape)).standard_normal(shape) * 30
    x[1] = -np.inf
    x[2, 0], x[3, 1], x[4, 0] = np.inf, np.nan, -np.inf
    with np.errstate(invalid="ignore"):
        expected = scipy.special.logsumexp(x, axis=-1)
        got = hd.value_and_grad(lambda x: hnp.sum(hsp.logsumexp(x, axis=-1)[5:]))(x)[0]
        values = hd.jvp(lambda x: hsp.logsumexp(x, axis=-1), (x,), (np.ones_like(x),))[0]  # the primitive's impl
    np.testing.assert_allclose(values, expected, rtol=1e-15, atol=0)
    assert got == pytest.approx(np.sum(expected[5:]), rel=1e-14)


@pytest.mark.parametrize("b0", [1e-10, 0.0, 0.5])
def test_logsumexp_derivatives_in_its_weights_against_mpmath(b0):
    # logsumexp(a, b=b) was logsumexp(a + log b): nested reverse derivatives in b cancelled terms of
    # size 1/b^k (the 3rd came out 431 for 0.0081 at b = 1e-10) and were nan at b = 0, where they exist.
    mpmath = pytest.importorskip("mpmath")
    import hodiff.scipy.special as hsp

    a = np.array([0.3, 1.2, -0.5])
    rest = np.array([0.0, 2.0, 3.0])

    def f(b):
        return hsp.logsumexp(a, b=rest + b * np.array([1.0, 0.0, 0.0]))

    with mpmath.workdps(40):
        def exact(t):
            return mpmath.log(mpmath.exp(0.3) * t + 2 * mpmath.exp(1.2) + 3 * mpmath.exp(-0.5))
        expected = [float(mpmath.diff(exact, mpmath.mpf(b0), k)) for k in (0, 1, 2, 3)]
    nested = f
    for k in (1, 2, 3):
        nested = hd.grad(nested)
        assert float(nested(b0)) == pytest.approx(expected[k], rel=1e-12), f"reverse order {k}"
        assert float(hd.derivative(f, order=k)(b0)) == pytest.approx(expected[k], rel=1e-12), f"Taylor order {k}"
    assert float(f(b0)) == pytest.approx(expected[0], rel=1e-15)


def test_logsumexp_nested_forward_derivatives_of_steep_entries_against_mpmath():
    # The JVP sum(t p) nested raw moments of the entries' rates, which cancel: order 4 of this was 1.7e-10
    # off, a steeper fuzz case (seed 421908) 1e-5. Written about the dominant entry's rate, it is exact.
    mpmath = pytest.importorskip("mpmath")
    import hodiff.scipy.special as hsp

    def f(x):
        return hsp.logsumexp(hnp.stack([x * 10, x * 12 + 1, x]))

    with mpmath.workdps(40):
        expected = [float(mpmath.diff(lambda x: mpmath.log(mpmath.exp(10 * x) + mpmath.exp(12 * x + 1)
                                                           + mpmath.exp(x)), mpmath.mpf(2), k)) for k in (2, 4, 6)]
    got = [float(hd.derivative(f, order=k, mode="nested")(2.0)) for k in (2, 4, 6)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_logsumexp_with_weights_is_scipys_and_its_gradients_are_closed_forms():
    import scipy.special

    import hodiff.scipy.special as hsp

    a = np.array([[1000.0, 0.5, -2.0], [0.3, -1.0, 4.0]])
    b = np.array([[0.0, 2.0, 1.0], [1.5, 0.0, 0.25]])  # a weightless 1000 must not shift the sum away
    np.testing.assert_allclose(hsp.logsumexp(a, axis=1, b=b), scipy.special.logsumexp(a, axis=1, b=b), rtol=1e-15)
    y = scipy.special.logsumexp(a, axis=1, b=b, keepdims=True)
    da, db = hd.grad(lambda a, b: hnp.sum(hsp.logsumexp(a, axis=1, b=b)), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(db, np.exp(a - y), rtol=1e-14)  # at b = 0 too: e^a / sum(b e^a)
    np.testing.assert_allclose(da, b * np.exp(a - y), rtol=1e-14)
    hessian = hd.hessian(lambda b: hsp.logsumexp(a[1], b=b))(b[1])
    w = np.exp(a[1] - y[1])
    np.testing.assert_allclose(hessian, -np.outer(w, w), rtol=1e-14)


def test_float32_values_and_gradients_stay_float32():
    x = X.astype(np.float32)
    for function in (hnp.mean, hnp.prod, hnp.var, hnp.std, hnp.max, hnp.sort, hnp.cumprod, hnp.median):
        assert np.result_type(function(x)) == np.float32, function.__name__
        gradient = hd.grad(lambda v: hnp.sum(function(v)))(x)
        assert gradient.dtype == np.float32, function.__name__


# --------------------------------------------------------------- prod and cumprod at zeros

def _prod_hessian(x):
    """d2 prod / dx_i dx_j = prod of the entries other than i and j (0 on the diagonal)."""
    n = len(x)
    hessian = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                hessian[i, j] = np.prod(np.delete(x, [i, j]))
    return hessian


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, -1.5], [0.0, 4.0, 0.0, 2.0], [0.0, 0.0, 0.0, 1.0]])
def test_prod_derivatives_are_exact_with_zeros(x):
    x = np.array(x)
    expected_gradient = np.array([np.prod(np.delete(x, i)) for i in range(len(x))])
    np.testing.assert_array_equal(hd.grad(hnp.prod)(x), expected_gradient)
    np.testing.assert_array_equal(hd.jvp(hnp.prod, (x,), (np.ones(4),))[1], expected_gradient.sum())
    for mode in ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd"):
        np.testing.assert_allclose(hd.hessian(hnp.prod, mode=mode)(x), _prod_hessian(x), atol=1e-14, err_msg=mode)
    # third order in Taylor mode: prod is a polynomial, so its Taylor series is exact
    v = np.array([1.0, -2.0, 0.5, 3.0])
    coefficients = hd.taylor(hnp.prod, x, v, order=4)
    expected = np.polynomial.polynomial.polyfromroots([])  # build prod(x + t v) as a polynomial in t
    for xi, vi in zip(x, v):
        expected = np.polynomial.polynomial.polymul(expected, [xi, vi])
    np.testing.assert_allclose(coefficients, expected, atol=1e-12)


def test_prod_with_zeros_along_an_axis_and_under_vmap():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.0, 2.0, 3.0]])
    gradient = hd.grad(lambda v: hnp.sum(hnp.prod(v, axis=1)))(x)
    np.testing.assert_array_equal(gradient, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]])
    rows = hd.vmap(hd.grad(hnp.prod))(x)
    np.testing.assert_array_equal(rows, gradient)
    hd.check_grads(lambda v: hnp.prod(v, axis=0), (x,), order=2)


def test_cumprod_derivatives_with_zeros():
    x = np.array([2.0, 0.0, 3.0, 0.0, 1.5])
    jacobian = hd.jacobian(hnp.cumprod)(x)
    expected = np.zeros((5, 5))
    for i in range(5):
        for k in range(i + 1):
            expected[i, k] = np.prod(np.delete(x[:i + 1], k))
    np.testing.assert_array_equal(jacobian, expected)
    np.testing.assert_array_equal(hd.jacfwd(hnp.cumprod)(x), expected)
    hd.check_grads(hnp.cumprod, (x,), order=2)  # cumprod is polynomial: finite differences are exact enough


# --------------------------------------------------------------- ties share the derivative

def test_max_ties_share_the_gradient_equally():
    x = np.array([1.0, 3.0, 3.0, -2.0, 3.0])
    np.testing.assert_allclose(hd.grad(hnp.max)(x), [0, 1 / 3, 1 / 3, 0, 1 / 3])
    np.testing.assert_allclose(hd.grad(hnp.min)(-x), [0, 1 / 3, 1 / 3, 0, 1 / 3])
    np.testing.assert_allclose(hd.grad(lambda v: v.max())(x), hd.grad(hnp.amax)(x))
    tangent = np.array([5.0, 1.0, 2.0, 7.0, 6.0])
    assert hd.jvp(hnp.max, (x,), (tangent,))[1] == pytest.approx(3.0)  # mean over the tied entries
    # forward and reverse agree (the JVP is the VJP's transpose)
    np.testing.assert_allclose(hd.jacfwd(hnp.max)(x), hd.jacrev(hnp.max)(x))


def test_max_ties_along_an_axis():
    x = np.array([[1.0, 4.0, 4.0], [2.0, 2.0, 2.0]])
    gradient = hd.grad(lambda v: hnp.sum(hnp.max(v, axis=1) * np.array([1.0, 3.0])))(x)
    np.testing.assert_allclose(gradient, [[0, 0.5, 0.5], [1, 1, 1]])
    gradient = hd.grad(lambda v: hnp.sum(hnp.min(v, axis=0, keepdims=True)))(x)
    np.testing.assert_allclose(gradient, [[1, 0, 0], [0, 1, 1]])


def test_sort_ties_share_cotangents_and_agree_with_max():
    x = np.array([3.0, 1.0, 3.0, 2.0])
    weights = np.arange(4.0)  # sorted: [1, 2, 3, 3] -> the two 3s get (2 + 3) / 2 each
    np.testing.assert_allclose(hd.grad(lambda v: hnp.sum(hnp.sort(v) * weights))(x), [2.5, 0, 2.5, 1])
    np.testing.assert_allclose(hd.grad(lambda v: hnp.sort(v)[-1])(x), hd.grad(hnp.max)(x))
    # the JVP averages the tangents of tied entries, whatever order numpy gives them
    tangent = np.array([10.0, 1.0, 20.0, 2.0])
    np.testing.assert_allclose(hd.jvp(hnp.sort, (x,), (tangent,))[1], [1, 2, 15, 15])
    np.testing.assert_allclose(hd.jacfwd(hnp.sort)(x), hd.jacrev(hnp.sort)(x))


def test_sort_without_ties_is_the_permutation():
    x = np.array([[0.5, -1.0, 2.0], [3.0, 1.0, 2.0]])
    jacobian = hd.jacobian(lambda v: hnp.sort(v, axis=1))(x)
    order = np.argsort(x, axis=1)
    for row in range(2):
        for position in range(3):
            expected = np.zeros((2, 3))
            expected[row, order[row, position]] = 1
            np.testing.assert_array_equal(jacobian[row, position], expected)


@given(st.lists(st.sampled_from([-1.0, 0.0, 0.5, 2.0]), min_size=1, max_size=7))
def test_sort_and_max_jacobians_are_consistent_with_many_ties(values):
    x = np.array(values)
    jacobian = hd.jacobian(hnp.sort)(x)
    np.testing.assert_allclose(jacobian.sum(axis=1), 1.0)  # each output is an average of inputs
    np.testing.assert_allclose(jacobian.sum(axis=0), 1.0)  # and every input is used once in total
    np.testing.assert_allclose(jacobian[-1], hd.grad(hnp.max)(x))
    np.testing.assert_allclose(jacobian[0], hd.grad(hnp.min)(x))


# --------------------------------------------------------------- zero-derivative arg-reductions

def test_arg_reductions_are_constant_and_batch():
    x = np.array([[0.3, 2.0, -1.0], [5.0, 1.0, 4.0]])
    gradient = hd.grad(lambda v: hnp.sum(hnp.take_along_axis(v, hnp.argsort(v, axis=1), axis=1) * 2.0))(x)
    np.testing.assert_array_equal(gradient, np.full((2, 3), 2.0))
    np.testing.assert_array_equal(hd.vmap(hnp.argmax)(x), [1, 0])
    np.testing.assert_array_equal(hd.vmap(lambda v: hnp.argmin(v, keepdims=True))(x), [[2], [1]])
    np.testing.assert_array_equal(hd.vmap(hnp.argsort)(x), np.argsort(x, axis=1))
    np.testing.assert_array_equal(hd.vmap(lambda v: hnp.all(v > 0))(x), [False, True])
    np.testing.assert_array_equal(hd.vmap(lambda v: hnp.any(v < 0, keepdims=True))(x), [[True], [False]])
    # sorting a batch by argsort and take_along_axis, the indices themselves batched
    np.testing.assert_array_equal(
        hd.vmap(lambda v: hnp.take_along_axis(v, hnp.argsort(v), axis=0))(x), np.sort(x, axis=1))


def test_methods_on_tracers():
    x = X[0]

    def f(v):
        return (v.sum() + v.mean(axis=0).sum() + v.max() + v.min(axis=1).sum() + v.prod(axis=0).sum()
                + v.var() + v.std(axis=1).sum() + v.cumsum(axis=1)[:, -1].sum() + v.cumprod()[-1])

    hd.check_grads(f, (x,), order=1)
    assert int(hd.vmap(lambda v: v.argmax())(x[None])[0]) == int(np.argmax(x))


def test_unsupported_arguments_and_bad_axes_are_clear_errors():
    with pytest.raises(TypeError, match="dtype=int64 is not supported"):
        hnp.mean(X, dtype=np.int64)
    with pytest.raises(TypeError, match="out"):  # on a traced value; a plain one is numpy's call
        hd.grad(lambda x: hnp.max(x, out=np.empty(())))(X)
    out = np.empty(())
    assert hnp.max(X, out=out) is out and out == X.max()
    with pytest.raises(np.exceptions.AxisError):
        hnp.prod(X, axis=3)
    with pytest.raises(ValueError, match="duplicate"):
        hnp.max(X, axis=(0, -3))


def test_var_and_std_edge_cases():
    x = np.array([1.0, 2.0, 4.0])
    assert hnp.var(x, ddof=1) == pytest.approx(np.var(x, ddof=1))
    np.testing.assert_allclose(hd.grad(lambda v: hnp.var(v, ddof=1))(x), 2 * (x - x.mean()) / 2)
    np.testing.assert_allclose(hd.grad(hnp.std)(x), (x - x.mean()) / (x.size * np.std(x)))
    assert hnp.var(np.float64(3.0)) == 0.0


def test_vmap_of_grad_through_batched_indices():
    # under vmap the argsort indices are batched while the cotangent seed is shared: scatter's batch rule
    x = np.random.default_rng(5).standard_normal((4, 5))
    weights = np.arange(5.0)
    for function in (lambda v: hnp.sum(hnp.take_along_axis(v, hnp.argsort(v), axis=0) * weights),
                     lambda v: hnp.sum(hnp.take_along_axis(v, hnp.argsort(v), axis=0)),
                     lambda v: hnp.sum(hnp.sort(v) * weights)):
        batched = hd.vmap(hd.grad(function))(x)
        np.testing.assert_allclose(batched, np.stack([hd.grad(function)(member) for member in x]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logsumexp_and_softmax_hessians_where_one_entry_dominates(dtype):
    # The Hessian of logsumexp is diag(p) - p p^T; at a dominant entry p0 - p0^2 rounded to 0 (4.2e-18 at
    # [0, -40, -800]) and the softmax's Jacobian p (t - sum(t p)) the same. softmax_weights' rule takes t about
    # the dominant entry's rate, so p0 (1 - p0) comes as p0 sum_{j != 0} p_j. Reference: mpmath, 50 digits.
    import mpmath

    import hodiff.scipy.special as hsp

    x = np.array([0.0, -40.0, -80.0 if dtype == np.float32 else -800.0, -45.0])
    with mpmath.workdps(50):
        e = [mpmath.exp(mpmath.mpf(v)) for v in x]
        p = [v / mpmath.fsum(e) for v in e]
        lse_hessian = np.array([[float((i == j) * p[i] - p[i] * p[j]) for j in range(4)] for i in range(4)])
        # d^2 p_0 / dx_i dx_j = p_0 ((d_0i - p_i)(d_0j - p_j) - (d_ij p_i - p_i p_j))
        softmax_hessian = np.array([[float(p[0] * (((i == 0) - p[i]) * ((j == 0) - p[j]) - ((i == j) - p[j]) * p[i]))
                                     for j in range(4)] for i in range(4)])
    rtol = 1e-13 if dtype == np.float64 else 1e-5  # float32: exp(-80 - lse) rounds -80.05 (its cond: 80 eps)
    normal = np.abs(lse_hessian) > np.finfo(dtype).tiny
    got = hd.hessian(hsp.logsumexp)(x.astype(dtype))
    assert got.dtype == dtype
    np.testing.assert_allclose(got[normal], lse_hessian[normal], rtol=rtol)
    got = hd.hessian(lambda v: hsp.softmax(v)[0])(x.astype(dtype))
    normal = np.abs(softmax_hessian) > np.finfo(dtype).tiny
    np.testing.assert_allclose(got[normal], softmax_hessian[normal], rtol=rtol)
    along = np.array([1.0, 0.5, -1.0, 2.0], dtype=dtype)  # third order, nested and Taylor, against mpmath
    with mpmath.workdps(50):
        third = float(mpmath.diff(lambda s: mpmath.log(mpmath.fsum(
            mpmath.exp(mpmath.mpf(float(v)) + s * float(d)) for v, d in zip(x, along))), 0, 3))
    for mode in ("nested", "taylor"):
        got = hd.derivative(lambda s: hsp.logsumexp(x.astype(dtype) + s * along), order=3, mode=mode)(dtype(0))
        np.testing.assert_allclose(got, third, rtol=1e-9 if dtype == np.float64 else 1e-4, err_msg=mode)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_softmax_derivatives_at_a_confident_entry(dtype):
    # d log_softmax(z)_y / dz = e_y - p: at a confident y, 1 - p_y rounded to 0 in t_y - d lse (forward) and in
    # g - p sum(g) (reverse), so -log_softmax(z)[y]'s gradient was 0 at y for -(1 - p_y) = -4.3e-18. The rules
    # now take 1 - p_y as the sum of the other p_j. Reference: the closed form in mpmath.
    import mpmath

    import hodiff.nn as hnn

    z = np.array([[0.0, -40.0, -45.0], [-3.0, 1.0, 0.5]], dtype=dtype)
    with mpmath.workdps(50):
        jac = []
        for row in z:
            e = [mpmath.exp(mpmath.mpf(float(v))) for v in row]
            p = [v / mpmath.fsum(e) for v in e]
            jac.append([[float((i == j) - p[j]) for j in range(3)] for i in range(3)])
    jac = np.array(jac)  # (row, output i, input j)
    for mode in ("rev", "fwd"):
        got = hd.jacobian(lambda v: hnn.log_softmax(v, axis=1), mode=mode)(z)  # (2, 3, 2, 3)
        assert got.dtype == dtype
        for r in range(2):
            np.testing.assert_allclose(got[r, :, r, :], jac[r], rtol=1e-13 if dtype == np.float64 else 1e-6,
                                       err_msg=mode)
    for r in range(2):  # Taylor mode's first coefficient: (x - c) - l, not x - (c + l), which rounded to 0
        for k in range(3):
            got = hd.derivative(lambda s: hnn.log_softmax(z[r] + s * np.eye(3, dtype=dtype)[k])[k], mode="taylor")(
                dtype(0))
            np.testing.assert_allclose(got, jac[r, k, k], rtol=1e-13 if dtype == np.float64 else 1e-6)
    gradient = hd.grad(lambda v: -hnn.log_softmax(v, axis=1)[0, 0])(z)
    np.testing.assert_allclose(gradient[0], -jac[0, 0], rtol=1e-13 if dtype == np.float64 else 1e-6)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_softmax_of_a_row_of_minus_infinity_is_scipys_nan_and_logsumexps_gradient_there_is_zero():
    import scipy.special

    import hodiff.nn as hnn
    import hodiff.scipy.special as hsp

    x = np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf]])
    np.testing.assert_allclose(hsp.softmax(x, axis=1), scipy.special.softmax(x, axis=1), rtol=1e-15)  # nan row
    np.testing.assert_allclose(hsp.log_softmax(x, axis=1), scipy.special.log_softmax(x, axis=1), rtol=1e-15)
    np.testing.assert_array_equal(hd.grad(lambda v: hnp.sum(hsp.logsumexp(v, axis=1)[1]))(x)[1], np.zeros(3))
    np.testing.assert_array_equal(hd.grad(lambda v: hnn.log_softmax(v, axis=1)[1, 0])(x)[1], [1.0, 0.0, 0.0])


@pytest.mark.parametrize("name", ["sum", "prod", "mean", "var", "std", "cumsum", "cumprod", "trace"])
def test_a_reductions_dtype_is_its_accumulators_as_in_numpy(name):
    # dtype= was refused (autograd's convnet example calls np.prod(shape, dtype=int)). numpy casts the entries to
    # the accumulator's type first; reference: numpy's own call, and the gradient without dtype.
    ours, numpys = getattr(hnp, name), getattr(np, name)
    x = np.array([[1.5, -2.0], [0.25, 3.0]])
    got = ours(x, dtype=np.float32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, numpys(x, dtype=np.float32), rtol=1e-6)
    grad32 = hd.grad(lambda x: hnp.sum(ours(x, dtype=np.float32)))(x)
    np.testing.assert_allclose(grad32, hd.grad(lambda x: hnp.sum(ours(x)))(x), rtol=1e-5)
    if name in ("mean", "var", "std"):  # numpy truncates an integer mean's quotient: refused, not guessed
        with pytest.raises(TypeError, match=f"hodiff.numpy.{name}: dtype=int64 is not supported"):
            ours(x, dtype=np.int64)
    else:
        np.testing.assert_array_equal(ours(x, dtype=np.int64), numpys(x, dtype=np.int64))
    assert hnp.prod((2, 3), dtype=int) == 6


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_take_numpys_initial(name):
    # initial= was refused (autograd's max takes it). numpy: one more entry; an empty reduction is it alone.
    ours, numpys = getattr(hnp, name), getattr(np, name)
    x = np.array([[1.0, 5.0], [3.0, 2.0]])
    for kwargs in ({"initial": 4.0}, {"axis": 0, "initial": 4.0}, {"axis": 1, "initial": 2.5, "keepdims": True}):
        np.testing.assert_array_equal(ours(x, **kwargs), numpys(x, **kwargs))
        grad = hd.grad(lambda x: hnp.sum(ours(x, **kwargs)))(x)
        # no ties at x: numpy's function is linear near it, so central differences are exact
        steps = np.eye(x.size).reshape((x.size,) + x.shape) * 1e-3
        central = [(np.sum(numpys(x + e, **kwargs)) - np.sum(numpys(x - e, **kwargs))) / 2e-3 for e in steps]
        np.testing.assert_allclose(grad, np.reshape(central, x.shape), atol=1e-12)
    empty = np.zeros((0, 3))
    np.testing.assert_array_equal(ours(empty, axis=0, initial=1.5), numpys(empty, axis=0, initial=1.5))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log 0 in the row whose weighted sum is 0
def test_logsumexp_return_sign_with_weights_of_either_sign_is_scipys():
    # return_sign=True raised NotImplementedError (autograd's logsumexp takes it). Reference: scipy's own value
    # and central differences of it; log|s| has derivative ds / s.
    import scipy.special

    import hodiff.scipy.special as hsp

    a = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]])
    b = np.array([[1.0, -1.0, 2.0], [1.0, -1.0, 0.0]])  # row 1 sums to 0: -inf and sign 0
    value, sign = hd.jvp(lambda a: hsp.logsumexp(a, b=b, axis=1, return_sign=True), (a,), (np.ones_like(a),))[0]
    want_value, want_sign = scipy.special.logsumexp(a, b=b, axis=1, return_sign=True)
    np.testing.assert_allclose(value, want_value, rtol=1e-14)
    np.testing.assert_array_equal(sign, want_sign)
    row = lambda a, b: scipy.special.logsumexp(a, b=b, return_sign=True)[0]  # noqa: E731
    grad_a = hd.grad(lambda a: hsp.logsumexp(a, b=b[0], return_sign=True)[0])(a[0])
    grad_b = hd.grad(lambda b: hsp.logsumexp(a[0], b=b, return_sign=True)[0])(b[0])
    h, eye = 1e-6, np.eye(3)
    np.testing.assert_allclose(grad_a, [(row(a[0] + h * e, b[0]) - row(a[0] - h * e, b[0])) / (2 * h) for e in eye],
                               rtol=1e-7)
    np.testing.assert_allclose(grad_b, [(row(a[0], b[0] + h * e) - row(a[0], b[0] - h * e)) / (2 * h) for e in eye],
                               rtol=1e-7)
    assert hsp.logsumexp(a, return_sign=True) == scipy.special.logsumexp(a, return_sign=True)  # plain: scipy's
