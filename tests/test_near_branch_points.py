"""arcsin, arccos, arctanh and arccosh near |x| = 1 (and expm1 far left), against mpmath: their derivatives
hold 1 - x^2 (x^2 - 1), which x * x rounds away there (the first derivative was 4e-9 off at x = 1 - 1e-12);
(1 - x)(1 + x) keeps the digits."""

import mpmath
import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
import hodiff.scipy.special as hsp

mpmath.mp.dps = 50
_GAPS = 10.0 ** np.linspace(-14, -2, 13)

CASES = [
    ("arcsin", hnp.arcsin, mpmath.asin, 1 - _GAPS),
    ("arccos", hnp.arccos, mpmath.acos, -1 + _GAPS),
    ("arctanh", hnp.arctanh, mpmath.atanh, 1 - _GAPS),
    ("arccosh", hnp.arccosh, mpmath.acosh, 1 + _GAPS),
]


@pytest.mark.parametrize("name, f, reference, points", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_derivatives_near_one_match_mpmath(name, f, reference, points, order):
    expected = np.array([float(mpmath.diff(reference, mpmath.mpf(float(x)), order)) for x in points])
    for mode in ("nested", "taylor"):
        got = hd.derivative(f, order=order, mode=mode)(points)
        np.testing.assert_allclose(got, expected, rtol=1e-13, err_msg=f"{name} {mode} order {order}")


@pytest.mark.parametrize("order", [1, 2, 3])
def test_expm1_keeps_its_derivatives_far_left(order):
    # expm1' = exp(x): the rule ans + 1 (JAX's and PyTorch's) cancels where x << 0 (1.7e-4 off at -30, 0 below -37)
    points = np.array([-700.0, -40.0, -30.0, -5.0, -1e-9, 0.0, 3.0])
    expected = np.array([float(mpmath.exp(float(x))) for x in points])  # every derivative of expm1 is exp
    for mode in ("nested", "taylor"):
        got = hd.derivative(hnp.expm1, order=order, mode=mode)(points)
        np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0, err_msg=f"{mode} order {order}")
    # log1mexp(x) = log(-expm1(-x)): its gradient exp(-x) / -expm1(-x) where exp(-x) is all that is left
    x = 40.0
    assert hd.grad(lambda t: hnp.log(-hnp.expm1(-t)))(x) == pytest.approx(
        float(mpmath.exp(-x) / -mpmath.expm1(-x)), rel=1e-15)


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_rgamma_at_and_near_its_zeros(order):
    # -rgamma(x) digamma(x) is 0 * inf at x = 0, -1, -2, ... (nan there; the 3rd derivative at -1e-8 was 49% off)
    points = np.array([-30.3, -8.0, -3.0, -1.0, -1e-8, 0.0, 1e-8, 0.3, 0.5, 0.7, 3.0, 30.0])
    expected = np.array([float(mpmath.diff(mpmath.rgamma, mpmath.mpf(float(x)), order)) for x in points])
    points32 = points[1:-1].astype(np.float32)  # float32 rounds 0.3 and 1e-8: the reference is at its points
    expected32 = np.array([float(mpmath.diff(mpmath.rgamma, mpmath.mpf(float(x)), order)) for x in points32])
    for mode in ("nested", "taylor"):
        got = hd.derivative(hsp.rgamma, order=order, mode=mode)(points)
        np.testing.assert_allclose(got, expected, rtol=3e-13, atol=0, err_msg=f"{mode} order {order}")
        got32 = hd.derivative(hsp.rgamma, order=order, mode=mode)(points32)
        assert got32.dtype == np.float32
        # atol: near x = 0.3 the 2nd derivative (0.0075) is a sum of terms of order 1, each rounded in float32
        np.testing.assert_allclose(got32, expected32, rtol=3e-5, atol=3e-6, err_msg=f"float32 {mode} order {order}")


@pytest.mark.parametrize("name, f, reference", [c[:3] for c in CASES[:3]], ids=[c[0] for c in CASES[:3]])
def test_second_derivatives_near_zero_keep_their_digits(name, f, reference):
    # the derivative of (1 - x)(1 + x) is -(1 + x) + (1 - x), which cancels near 0 (float32 arcsin'' at 1e-4
    # was 1.7e-4 off): below |x| = 1/2 the rules hold 1 - x*x, whose derivative is -2x exactly
    for dtype, points, rtol in ((np.float64, np.array([1e-8, -3e-5, 0.2]), 1e-14),
                                (np.float32, np.array([1e-4, -3e-3, 0.2]), 1e-6)):
        x = points.astype(dtype)
        expected = np.array([float(mpmath.diff(reference, mpmath.mpf(float(v)), 2)) for v in x])
        for mode in ("nested", "taylor"):
            got = hd.derivative(f, order=2, mode=mode)(x)
            np.testing.assert_allclose(got, expected, rtol=rtol, atol=0, err_msg=f"{name} {mode} {dtype.__name__}")


def _sympy_derivatives(name, order):
    """The order-th derivative of arcsinh or arccosh by sympy, as an mpmath function (mpmath's own diff
    steps by an absolute h, which vanishes next to x = 1e100)."""
    sympy = pytest.importorskip("sympy")
    x = sympy.symbols("x")
    function = sympy.asinh(x) if name == "arcsinh" else sympy.acosh(x)
    return sympy.lambdify(x, sympy.diff(function, x, order), "mpmath")


@pytest.mark.parametrize("name, f", [("arcsinh", hnp.arcsinh), ("arccosh", hnp.arccosh)])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_inverse_hyperbolic_derivatives_past_where_x_squared_overflows(name, f, order):
    # their derivatives are ~1/x, -1/x^2, 2/x^3: x^2 + 1 overflows past |x| = 1.3e154, and arcsinh'(1e200) was
    # 0 for 1e-200; the reference is sympy's derivative evaluated by mpmath, whose exponents do not overflow
    points = np.array([1.5, 3e7, 1e100, 1e154, 2e154, 1e200, 1e300, 1.7e308])
    if name == "arcsinh":
        points = np.concatenate([points, -points, [0.0, 1e-300]])
    derivative = _sympy_derivatives(name, order)
    with mpmath.workdps(40):
        expected = np.array([float(derivative(mpmath.mpf(float(x)))) for x in points])
    for mode in ("nested", "taylor"):
        got = hd.derivative(f, order=order, mode=mode)(points)
        np.testing.assert_allclose(got, expected, rtol=4e-15, atol=0, err_msg=f"{name} {mode} order {order}")


@pytest.mark.parametrize("dtype, y0, x0, rtol", [
    (np.float64, 1e100, -2e100, 4e-15), (np.float64, 1e-100, 3e-100, 4e-15), (np.float64, 2.0, 1.0, 4e-15),
    (np.float32, 3e10, -2e10, 1e-5), (np.float32, 1e-11, 3e-11, 1e-5)])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_arctan2_derivatives_where_x2_plus_y2_over_or_underflows(dtype, y0, x0, rtol, order):
    # theta' holds 1 / (x^2 + y^2): its square overflowed at (1e100, 2e100), giving 0 for 1e-200 at order 2,
    # and underflowed at (1e-100, 3e-100), giving inf; hypot and a power-of-two scaling (Taylor) keep them
    sympy = pytest.importorskip("sympy")
    t = sympy.symbols("t")
    for a, b in ((1.0, -0.7), (1.0, 0.0), (0.0, 1.0)):
        derivative = sympy.lambdify(t, sympy.diff(sympy.atan2(y0 + a * t, x0 + b * t), t, order), "mpmath")
        with mpmath.workdps(40):
            expected = float(derivative(mpmath.mpf(0)))
        y, x = dtype(y0), dtype(x0)
        for mode in ("nested", "taylor"):
            got = hd.derivative(lambda s: hnp.arctan2(y + a * s, x + b * s), order=order, mode=mode)(dtype(0.0))
            assert got.dtype == dtype
            np.testing.assert_allclose(got, expected, rtol=rtol, atol=0, err_msg=f"{mode} along ({a}, {b})")


@pytest.mark.parametrize("f", [hnp.arcsinh, hnp.arccosh], ids=["arcsinh", "arccosh"])
def test_inverse_hyperbolic_first_derivative_float32_past_where_x_squared_overflows(f):
    # float32's x^2 overflows past 1.8e19: the derivative 1/x there is far from float32's limits
    points = np.array([3.0, 2e19, 1e25, 3e37], dtype=np.float32)
    expected = 1 / np.sqrt(points.astype(np.float64) ** 2 + (1.0 if f is hnp.arcsinh else -1.0))
    for mode in ("nested", "taylor"):
        got = hd.derivative(f, order=1, mode=mode)(points)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=3e-7, atol=0, err_msg=mode)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_arctan_derivatives_past_where_the_square_of_x_squared_overflows(order):
    # arctan's k-th derivative is ~1/x^(k+1); the rule 1/(x^2 + 1) made the nested 2nd derivative hold
    # (x^2 + 1)^2, which overflows past 1e77: arctan''(1e100) was 0 for -2e-300
    sympy = pytest.importorskip("sympy")
    x = sympy.symbols("x")
    derivative = sympy.lambdify(x, sympy.diff(sympy.atan(x), x, order), "mpmath")
    points = np.array([2.0, -3e7, 1e60, 1e100, -3e100, 1e-100, 0.0])
    with mpmath.workdps(40):
        expected = np.array([float(derivative(mpmath.mpf(float(p)))) for p in points])
    for mode in ("nested", "taylor"):
        got = hd.derivative(hnp.arctan, order=order, mode=mode)(points)
        np.testing.assert_allclose(got, expected, rtol=4e-15, atol=0, err_msg=f"{mode} order {order}")


@pytest.mark.parametrize("order", [2, 3])
def test_log_cosh_derivatives_where_one_over_cosh_squared_underflows(order):
    # log(cosh u)'' = 1 - tanh^2 comes, in nested mode, as cosh/cosh - sinh (1/c)/c sinh: (1/c)/c underflows past
    # u = 355 while sinh^2 would overflow, and the second derivative at u = 562 was 1.0 for 0; true_divide's
    # y-rule now multiplies the incoming cotangent into x/y before dividing by y again
    sympy = pytest.importorskip("sympy")
    u = sympy.symbols("u")
    derivative = sympy.lambdify(u, sympy.diff(sympy.log(sympy.cosh(u)), u, order), "mpmath")
    points = np.array([3.0, -30.0, 300.0, 562.0, -562.0, 700.0])
    with mpmath.workdps(40):
        expected = np.array([float(derivative(mpmath.mpf(float(p)))) for p in points])
    f = lambda s: hnp.log(hnp.cosh(s))  # noqa: E731
    for mode in ("nested", "taylor"):
        got = hd.derivative(f, order=order, mode=mode)(points)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15, err_msg=f"{mode} order {order}")
    if order == 2:
        hessians = [hd.hessian(lambda v: hnp.sum(f(v)))(np.array([p])) for p in points]
        np.testing.assert_allclose(np.ravel(hessians), expected, rtol=1e-12, atol=1e-15, err_msg="hessian")


_LOGISTIC = [("expit", hsp.expit, lambda s: 1 / (1 + s.exp(-s.Symbol("x"))), 0),
             ("softplus", hsp.softplus, lambda s: s.log(1 + s.exp(s.Symbol("x"))), 1),
             ("log_expit", hsp.log_expit, lambda s: -s.log(1 + s.exp(-s.Symbol("x"))), 1)]


@pytest.mark.parametrize("name, f, expression, shift", _LOGISTIC, ids=[c[0] for c in _LOGISTIC])
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_logistic_derivatives_where_the_sigmoid_saturates_and_near_zero(name, f, expression, shift, order):
    # expit' was ans (1 - ans), which cancels where expit rounds to 1 (expit'(30) 1e-3 off, expit'(40) 0 for
    # 4.2e-18; softplus'' and log_expit'' the same), and expit'' held 1 - 2 ans, which cancels at x ~ 0
    # (6e-9 off at 1e-8). Now w = expit(x) expit(-x) and w' = -w tanh(x / 2). Reference: sympy's derivative in
    # mpmath at 250 digits (its own terms cancel at x = 200 below ~180).
    sympy = pytest.importorskip("sympy")
    order += shift  # softplus' and log_expit' are sigmoids: their first derivatives were already exact
    x = sympy.Symbol("x")
    derivative = sympy.lambdify(x, sympy.diff(expression(sympy), x, order), "mpmath")
    points = np.array([-200.0, -40.0, -30.0, -20.0, -1e-8, 1e-8, 0.7, 20.0, 30.0, 40.0, 200.0])
    with mpmath.workdps(250):
        expected = np.array([float(derivative(mpmath.mpf(float(p)))) for p in points])
    for mode in ("nested", "taylor"):
        got = hd.derivative(f, order=order, mode=mode)(points)
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0, err_msg=f"{name} {mode} order {order}")
    if order == 1:  # the plain-value fast paths, Python floats and arrays
        np.testing.assert_allclose([hd.grad(f)(float(p)) for p in points], expected, rtol=1e-14, atol=0)
        np.testing.assert_allclose(hd.grad(lambda v: hnp.sum(f(v)))(points), expected, rtol=1e-14, atol=0)
    single = hd.derivative(f, order=order, mode="nested")(points.astype(np.float32))
    assert single.dtype == np.float32
    normal = np.abs(expected) > np.finfo(np.float32).tiny
    np.testing.assert_allclose(single[normal], expected[normal], rtol=2e-6, err_msg="float32")
