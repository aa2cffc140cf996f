"""beta, rgamma, gammasgn, erfcinv, gammainc, gammaincc, betainc, multigammaln (issue 13) against
references nobody here wrote: closed-form first derivatives, and mpmath's derivatives of its own
implementations (mpmath.diff at 30 digits) up to order 6, reached through hd.taylor (the Taylor
rules), nested reverse mode and nested forward mode.
"""

import math

import mpmath
import numpy as np
import pytest
import scipy.special as sp

import hodiff as hd
import hodiff.scipy.special as hsp

ORDER = 6


def _mp(function):
    return lambda t: function(mpmath.mpf(t))


# name, hodiff function of one variable, mpmath reference, points
CASES = [
    ("beta(x, 1.7)", lambda x: hsp.beta(x, 1.7), _mp(lambda t: mpmath.beta(t, 1.7)), [0.4, 1.3, 2.9]),
    ("beta(2.2, x)", lambda x: hsp.beta(2.2, x), _mp(lambda t: mpmath.beta(2.2, t)), [0.6, 1.8]),
    ("beta(x, 2x) negative", lambda x: hsp.beta(x, 0.3 * x), _mp(lambda t: mpmath.beta(t, 0.3 * t)), [-1.4]),
    ("rgamma", hsp.rgamma, _mp(mpmath.rgamma), [0.3, 1.7, 3.5, -1.5]),
    ("erfcinv", hsp.erfcinv, _mp(lambda t: mpmath.erfinv(1 - t)), [0.1, 0.7, 1.0, 1.6]),
    ("gammainc(2.5, x)", lambda x: hsp.gammainc(2.5, x),
     _mp(lambda t: mpmath.gammainc(2.5, 0, t, regularized=True)), [0.4, 1.5, 6.0]),
    ("gammainc(0.6, x)", lambda x: hsp.gammainc(0.6, x),
     _mp(lambda t: mpmath.gammainc(0.6, 0, t, regularized=True)), [0.3, 2.0]),
    ("gammaincc(1.5, x)", lambda x: hsp.gammaincc(1.5, x),
     _mp(lambda t: mpmath.gammainc(1.5, t, mpmath.inf, regularized=True)), [0.5, 3.0]),
    ("betainc(2.5, 1.5, x)", lambda x: hsp.betainc(2.5, 1.5, x),
     _mp(lambda t: mpmath.betainc(2.5, 1.5, 0, t, regularized=True)), [0.15, 0.5, 0.85]),
    ("betainc(0.7, 3, x)", lambda x: hsp.betainc(0.7, 3.0, x),
     _mp(lambda t: mpmath.betainc(0.7, 3, 0, t, regularized=True)), [0.2, 0.6]),
    ("multigammaln(x, 3)", lambda x: hsp.multigammaln(x, 3),
     _mp(lambda t: 3 * 2 / 4 * mpmath.log(mpmath.pi) + sum(mpmath.loggamma(t - mpmath.mpf(j) / 2)
                                                            for j in range(3))), [1.3, 4.5]),
]


def _mpmath_derivatives(reference, x, order):
    with mpmath.workdps(30):
        return np.array([float(mpmath.diff(reference, x, n)) for n in range(order + 1)])


@pytest.mark.parametrize("name, function, reference, points", CASES, ids=[c[0] for c in CASES])
def test_derivatives_to_order_six_match_mpmath(name, function, reference, points):
    factorials = np.array([math.factorial(n) for n in range(ORDER + 1)], dtype=float)
    for x in points:
        expected = _mpmath_derivatives(reference, x, ORDER)
        taylor = np.asarray(hd.taylor(function, x, 1.0, order=ORDER)) * factorials
        np.testing.assert_allclose(taylor, expected, rtol=1e-9, atol=1e-12, err_msg=f"{name} at {x}: taylor")
        nested_rev, nested_fwd = function, function
        for n in range(1, 4):  # nested reverse and forward mode: orders 1..3
            nested_rev, nested_fwd = hd.grad(nested_rev), hd.derivative(nested_fwd)
            np.testing.assert_allclose(float(nested_rev(x)), expected[n], rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name} at {x}: grad^{n}")
            np.testing.assert_allclose(float(nested_fwd(x)), expected[n], rtol=1e-9, atol=1e-12,
                                       err_msg=f"{name} at {x}: derivative^{n}")


def test_first_derivatives_match_their_closed_forms():
    x = np.array([0.2, 0.9, 2.5, 5.0])
    for a in [0.5, 1.0, 3.2]:
        density = x ** (a - 1) * np.exp(-x) / math.gamma(a)
        np.testing.assert_allclose(hd.grad(lambda x: hsp.gammainc(a, x).sum())(x), density, rtol=1e-12)
        np.testing.assert_allclose(hd.grad(lambda x: hsp.gammaincc(a, x).sum())(x), -density, rtol=1e-12)
    u = np.array([0.05, 0.4, 0.7, 0.97])
    for a, b in [(0.5, 0.5), (2.0, 3.5), (1.0, 1.0)]:
        density = u ** (a - 1) * (1 - u) ** (b - 1) / math.gamma(a) / math.gamma(b) * math.gamma(a + b)
        np.testing.assert_allclose(hd.grad(lambda x: hsp.betainc(a, b, x).sum())(u), density, rtol=1e-12)
    y = np.array([0.05, 0.5, 1.0, 1.9])
    np.testing.assert_allclose(hd.grad(lambda y: hsp.erfcinv(y).sum())(y),
                               -math.sqrt(math.pi) / 2 * np.exp(sp.erfcinv(y) ** 2), rtol=1e-12)
    a, b = np.array([0.7, 2.0, -1.5]), np.array([1.3, 0.4, 0.2])
    da, db = hd.grad(lambda a, b: hsp.beta(a, b).sum(), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(da, sp.beta(a, b) * (sp.digamma(a) - sp.digamma(a + b)), rtol=1e-12)
    np.testing.assert_allclose(db, sp.beta(a, b) * (sp.digamma(b) - sp.digamma(a + b)), rtol=1e-12)
    z = np.array([0.4, 1.0, 2.7, -0.5])
    np.testing.assert_allclose(hd.grad(lambda z: hsp.rgamma(z).sum())(z), -sp.digamma(z) / sp.gamma(z), rtol=1e-12)


def test_values_match_scipy_with_array_parameters():
    rng = np.random.default_rng(3)
    a, b, x = rng.uniform(0.3, 4, (2, 3)), rng.uniform(0.3, 4, 3), rng.uniform(0.05, 0.95, (2, 3))
    np.testing.assert_array_equal(hsp.gammainc(a, 3 * x), sp.gammainc(a, 3 * x))
    np.testing.assert_array_equal(hsp.gammaincc(a, 3 * x), sp.gammaincc(a, 3 * x))
    np.testing.assert_array_equal(hsp.betainc(a, b, x), sp.betainc(a, b, x))
    np.testing.assert_array_equal(hsp.beta(a, b), sp.beta(a, b))
    np.testing.assert_array_equal(hsp.gammasgn(x - 1.5), sp.gammasgn(x - 1.5))
    np.testing.assert_allclose(hsp.multigammaln(a + 2, 4), sp.multigammaln(a + 2, 4), rtol=1e-14)
    # an array a broadcast against a scalar x: the Taylor rule's series takes the output's shape
    coefficients = hd.taylor(lambda t: hsp.gammainc(a, t), 1.3, 1.0, order=3)
    assert np.shape(coefficients) == (4, 2, 3)
    np.testing.assert_allclose(coefficients[1], 1.3 ** (a - 1) * np.exp(-1.3) / sp.gamma(a), rtol=1e-12)
    coefficients = hd.taylor(lambda t: hsp.beta(a, t), 1.3, 1.0, order=3)
    assert np.shape(coefficients) == (4, 2, 3)
    np.testing.assert_allclose(coefficients[1], sp.beta(a, 1.3) * (sp.digamma(1.3) - sp.digamma(a + 1.3)),
                               rtol=1e-12)
    # vmap over the parameter a (not a derivative in a): fine
    np.testing.assert_allclose(hd.vmap(lambda a: hsp.gammainc(a, 1.3))(a[0]), sp.gammainc(a[0], 1.3), rtol=1e-15)


def test_gammasgn_has_zero_derivative():
    x = np.array([-2.5, -1.5, 0.5, 3.0])
    np.testing.assert_array_equal(hd.grad(lambda x: hsp.gammasgn(x).sum())(x), 0.0)
    np.testing.assert_array_equal(hd.taylor(hsp.gammasgn, -1.5, 1.0, order=3), [1.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("call, argument", [
    (lambda s: hsp.gammainc(s, 1.0), "a"), (lambda s: hsp.gammaincc(s, 1.0), "a"),
    (lambda s: hsp.betainc(s, 2.0, 0.3), "a"), (lambda s: hsp.betainc(2.0, s, 0.3), "b"),
])
def test_derivatives_in_the_parameters_are_refused(call, argument):
    name = r"\w+"
    pattern = f"{name}: hodiff differentiates .* in x only, not in {argument}"
    for transform in (hd.grad, hd.derivative, lambda f: (lambda s: hd.taylor(f, s, 1.0, order=3))):
        with pytest.raises(TypeError, match=pattern):
            transform(call)(1.5)


def test_multigammaln_refuses_what_scipy_refuses():
    with pytest.raises(ValueError, match="positive integer"):
        hsp.multigammaln(3.0, 1.5)
    with pytest.raises(ValueError, match="positive integer"):
        hd.grad(lambda d: hsp.multigammaln(3.0, d))(2.0)
    with pytest.raises(ValueError, match="not met"):
        hd.grad(lambda a: hsp.multigammaln(a, 4))(1.4)  # a > (d - 1) / 2 = 1.5 fails
    with pytest.raises(ValueError, match="not met"):
        hd.vmap(lambda a: hsp.multigammaln(a, 4))(np.array([2.0, 1.4]))


def test_float32_stays_float32_with_python_float_parameters():
    x = np.float32([0.3, 0.6])
    for function in [lambda x: hsp.gammainc(2.5, x), lambda x: hsp.gammaincc(0.5, x),
                     lambda x: hsp.betainc(2.5, 1.5, x), lambda x: hsp.beta(1.5, x), hsp.erfcinv, hsp.rgamma,
                     lambda x: hsp.multigammaln(x + 3, 2)]:
        assert function(x).dtype == np.float32
        assert hd.grad(lambda x: function(x).sum())(x).dtype == np.float32
        assert hd.taylor(function, x, np.ones_like(x), order=3).dtype == np.float32


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 2e-6)])
def test_betaln_and_its_derivatives_where_the_gammalns_cancel(dtype, rtol):
    # Found by the fuzzer (seed 91545): betaln as gammaln(a) + gammaln(b) - gammaln(a + b), and its d/da as
    # digamma(a) - digamma(a + b), cancel where a >> b; in float32 at a = 1e6 the value was 0.7% off, d/da
    # and Taylor mode's coefficients 14% off. The reference is mpmath at 40 digits. Then (seed 380071) the
    # float64 difference of two digammas itself: d/da at a = 1e9, b = 7.8 was 1e-7 off, at 1e6 7e-10.
    for a, b in [(1e6, 2.5), (3e4, 0.7), (250.0, 4.0), (1.5, 2e5), (1e9, 7.8), (0.3, 1e-6)]:
        with mpmath.workdps(40):
            log_beta = lambda s, t: mpmath.log(mpmath.beta(s, t))
            expected = [float(log_beta(a, b)), float(mpmath.diff(log_beta, (a, b), (1, 0))),
                        float(mpmath.diff(log_beta, (a, b), (0, 1))), float(mpmath.diff(log_beta, (a, b), (2, 0))),
                        float(mpmath.diff(log_beta, (a, b), (1, 1)))]
        a_, b_ = dtype(a), dtype(b)
        d_da, d_db = hd.grad(hsp.betaln, argnums=(0, 1))(a_, b_)
        second = hd.grad(lambda s, t: hd.grad(hsp.betaln)(s, t), argnums=(0, 1))(a_, b_)
        got = [hsp.betaln(a_, b_), d_da, d_db, *second]
        assert all(np.result_type(value) == dtype for value in got)
        # the value is scipy's betaln (6e-11 off at a = 1e6); the derivatives are hodiff's, to rounding
        np.testing.assert_allclose(float(got[0]), expected[0], rtol=max(rtol, 1e-9), err_msg=f"a={a}, b={b}")
        np.testing.assert_allclose(np.array(got[1:], dtype=float), expected[1:], rtol=rtol, err_msg=f"a={a}, b={b}")
        # Taylor mode along (a + t, b + t/2) and (a + t, b): the coefficients cancel as the value does
        for slope in (0.5, 0.0):
            with mpmath.workdps(40):
                along = lambda t: mpmath.log(mpmath.beta(a + t, b + slope * t))
                exact = [float(mpmath.diff(along, 0, k) / math.factorial(k)) for k in range(1, 5)]
            line = lambda t: hsp.betaln(a_ + t, b_ + dtype(slope) * t)
            series = hd.taylor(line, dtype(0.0), dtype(1.0), order=4)[1:]
            assert all(np.result_type(c) == dtype for c in series)
            np.testing.assert_allclose(np.array(series, dtype=float), exact, rtol=5 * rtol,
                                       err_msg=f"Taylor mode at a={a}, b={b}, slope {slope}")


@pytest.mark.parametrize("a, b", [(1e8, 1e-3), (1e-3, 500.0), (3.0, 2.5)])
def test_beta_mixed_derivatives_where_b_is_far_below_a(a, b):
    # d/da B = B (psi(a) - psi(a + b)): the two digammas, subtracted, cancelled where b << a (the Hessian's
    # cross term at (1e8, 1e-3) was 1.4e-2 off, the third derivative d^3/da^2 db 1.5)
    def reference(i, j):
        with mpmath.workdps(40):
            return float(mpmath.diff(mpmath.beta, (mpmath.mpf(a), mpmath.mpf(b)), (i, j)))

    hessian = hd.hessian(lambda a, b: hsp.beta(a, b), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(hessian[0][1], reference(1, 1), rtol=1e-10)
    np.testing.assert_allclose(hessian[0][0], reference(2, 0), rtol=1e-10)
    np.testing.assert_allclose(hd.grad(lambda b: hsp.beta(a, b))(b), reference(0, 1), rtol=1e-10)
    third = hd.derivative(lambda s: hd.grad(lambda t: hsp.beta(s, t))(b), order=2)(a)  # Taylor over reverse
    np.testing.assert_allclose(third, reference(2, 1), rtol=1e-10)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("a, x", [(1e8, 1e8 + 1e4), (1e6, 998000.0), (1e5, 100300.0), (1e4, 10100.0), (50.0, 80.0),
                                  (12.0, 7.0), (0.5, 0.3)])
def test_gammainc_x_derivatives_at_large_a(a, x, dtype, rtol):
    # d/dx = exp((a - 1) log x - x - gammaln(a)): its three terms of ~a log a cancelled to O(1). In float32 the
    # gradient was 1.0 for 2.4e-5 at a = 1e8 and 12% off at a = 1e5; in float64 8.5e-8 off at a = 1e8.
    with mpmath.workdps(40):
        am, xm = mpmath.mpf(float(dtype(a))), mpmath.mpf(float(dtype(x)))
        density = lambda t: mpmath.exp((am - 1) * mpmath.log(t) - t - mpmath.loggamma(am))
        expected = [float(density(xm)), float(mpmath.diff(density, xm))]
    a_, x_ = dtype(a), dtype(x)
    first = hd.grad(lambda t: hsp.gammainc(a_, t))(x_)
    assert first.dtype == dtype
    np.testing.assert_allclose(float(first), expected[0], rtol=rtol)
    np.testing.assert_allclose(float(-hd.grad(lambda t: hsp.gammaincc(a_, t))(x_)), expected[0], rtol=rtol)
    np.testing.assert_allclose(float(hd.taylor(lambda t: hsp.gammainc(a_, t), x_, dtype(1.0), order=1)[1]),
                               expected[0], rtol=rtol)
    if a < 1e8 or dtype is np.float64:  # (in float32, a - 1 rounds to a at 1e8: the second derivative is 1e-4 off)
        second = hd.grad(hd.grad(lambda t: hsp.gammainc(a_, t)))(x_)
        np.testing.assert_allclose(float(second), expected[1], rtol=max(rtol, 1e-10) * 50)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
@pytest.mark.parametrize("a, b, x", [(1e6, 1e6, 0.5005), (1e4, 3e4, 0.252), (1e5, 2.0, 0.99998), (50.0, 30.0, 0.6),
                                     (2.5, 1.5, 0.3), (3.0, 1e7, 2e-7)])
def test_betainc_x_derivatives_at_large_a_and_b(a, b, x, dtype, rtol):
    # d/dx = exp((a - 1) log x + (b - 1) log(1 - x) - betaln(a, b)): 2.8% off in float32 at a = b = 1e6, 1e-9
    # in float64, before the log density was written around x0 = a / (a + b) with Stirling's corrections.
    with mpmath.workdps(40):
        am, bm, xm = (mpmath.mpf(float(dtype(v))) for v in (a, b, x))
        density = lambda t: mpmath.exp((am - 1) * mpmath.log(t) + (bm - 1) * mpmath.log(1 - t)
                                       - mpmath.log(mpmath.beta(am, bm)))
        expected = [float(density(xm)), float(mpmath.diff(density, xm))]
    a_, b_, x_ = dtype(a), dtype(b), dtype(x)
    first = hd.grad(lambda t: hsp.betainc(a_, b_, t))(x_)
    assert first.dtype == dtype
    np.testing.assert_allclose(float(first), expected[0], rtol=rtol)
    # the second derivative is density * ((a - 1) / x - (b - 1) / (1 - x)): that difference's own conditioning
    slopes = ((a - 1) / x, (b - 1) / (1 - x))
    conditioning = sum(abs(s) for s in slopes) / abs(slopes[0] - slopes[1])
    second_rtol = 50 * rtol + 4 * np.finfo(dtype).eps * conditioning
    if second_rtol < 1e-3:  # (not float32 at b = 1e7, where the difference is all rounding)
        second = hd.grad(hd.grad(lambda t: hsp.betainc(a_, b_, t)))(x_)
        np.testing.assert_allclose(float(second), expected[1], rtol=second_rtol)


_AT_THE_ENDS = [("gammainc", (2.0,), [1e-8, 1e-4, 0.3, 0.99, 1.0, 2.0, 40.0]),
                ("gammainc", (3.0,), [1e-8, 1e-3, 0.7, 5.0]),
                ("gammainc", (2.5,), [1e-8, 0.2, 3.0]),
                ("gammainc", (0.5,), [1e-6, 0.5, 2.0]),
                ("gammaincc", (1.0,), [1e-8, 0.5, 7.0]),
                ("betainc", (2.0, 3.0), [1e-8, 1e-3, 0.09, 0.11, 0.5, 0.95, 1 - 1e-7]),
                ("betainc", (1.0, 4.0), [1e-8, 0.3, 1 - 1e-6]),
                ("betainc", (2.5, 0.7), [1e-6, 0.5, 1 - 1e-5]),
                ("betainc", (30.0, 25.0), [0.05, 0.5, 0.93])]


@pytest.mark.parametrize("name, parameters, points", _AT_THE_ENDS,
                         ids=[f"{c[0]}{c[1]}" for c in _AT_THE_ENDS])
def test_incomplete_gamma_and_beta_x_derivatives_near_the_ends(name, parameters, points):
    # The x-derivatives' nested and Taylor forms were exp(log density): its k-th derivative is the density times
    # a Bell polynomial in (a - 1) / x, whose ((a - 1) / x)^k terms cancel at small x to (a - 1) ... (a - k) / x^k,
    # exactly 0 for a natural a <= k: gammainc(2, x)'s 4th derivative at 1e-8 was 6.0 (Taylor: 0.0) for 3.0,
    # betainc(2, 3, x)'s 96 for 72. Reference: sympy's derivatives of the density, in mpmath at 50 digits.
    sympy = pytest.importorskip("sympy")
    x = sympy.Symbol("x")
    s = [sympy.Rational(str(p)) for p in parameters]
    if name == "betainc":
        density = x ** (s[0] - 1) * (1 - x) ** (s[1] - 1) / sympy.beta(s[0], s[1])
    else:
        density = (1 if name == "gammainc" else -1) * x ** (s[0] - 1) * sympy.exp(-x) / sympy.gamma(s[0])
    f = lambda t: getattr(hsp, name)(*parameters, t)  # noqa: E731
    for order in (1, 2, 3, 4):
        reference = sympy.lambdify(x, sympy.diff(density, x, order - 1), "mpmath")
        with mpmath.workdps(50):
            expected = np.array([float(reference(mpmath.mpf(p))) for p in points])
        for mode in ("nested", "taylor"):
            got = hd.derivative(f, order=order, mode=mode)(np.array(points))
            np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-300, err_msg=f"{mode} order {order}")
        rounded = np.array(points, dtype=np.float32)  # float32's own points: 1 - 1e-7 is 1 - 1.19e-7 there
        with mpmath.workdps(50):
            expected = np.array([float(reference(mpmath.mpf(float(p)))) for p in rounded])
        single = hd.derivative(f, order=order, mode="nested")(rounded)
        assert single.dtype == np.float32
        np.testing.assert_allclose(single, expected, rtol=2e-4, atol=1e-30, err_msg=f"float32 order {order}")


def test_rgamma_taylor_next_to_the_float_range_limit():
    # The reflection's Gamma(1 - x) series overflowed next to Gamma(171.5) ~ 1e308: Taylor mode gave inf for
    # rgamma'(-170.5) = 1.55e308; its ratio to Gamma(1 - x0) is now the series, Gamma0 multiplied in last
    for x0, order in ((-170.5, 1), (-170.1, 2), (-0.7, 4)):
        with mpmath.workdps(50):
            expected = float(mpmath.taylor(mpmath.rgamma, x0, order)[order] * math.factorial(order))
        for mode in ("nested", "taylor"):
            np.testing.assert_allclose(hd.derivative(hsp.rgamma, order=order, mode=mode)(x0), expected, rtol=1e-13,
                                       err_msg=f"{mode} at {x0}")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the rule's other branch, (a - 1 - x) / x, divides by 0
def test_gammainc_nested_derivatives_at_zero_for_natural_a():
    # gammainc(1, x) = 1 - e^-x (the exponential distribution's cdf): f_0 = rgamma(0) x^-1 e^-x in the shift
    # recurrence was 0 * inf = nan at x = 0, so its second derivative there was nan for -1. (Taylor mode at
    # exactly x = 0 is still nan: its power series divides by x0.)
    for a, expected in ((1.0, [1.0, -1.0, 1.0, -1.0]), (2.0, [0.0, 1.0, -2.0, 3.0]), (3.0, [0.0, 0.0, 1.0, -3.0])):
        got = [hd.derivative(lambda t: hsp.gammainc(a, t), order=k, mode="nested")(0.0) for k in (1, 2, 3, 4)]
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-300, err_msg=f"a = {a}")


@pytest.mark.parametrize("x", [-0.3, -2.5, -7.25, -100.6])
def test_betaln_derivatives_in_a_negative_argument_beside_a_tiny_one(x):
    # d^k/dx^k betaln(x, b) = psi^(k-1)(x) - psi^(k-1)(x + b): for x < 0 the plain difference of polygammas
    # cancelled where b << |x| (4.6e-9 off at (-0.3, 1e-8), 2.9e-7 at order 2 for -2.5), and Taylor mode paired
    # b, the larger value, with x + b. The reflection psi(x) = psi(1 - x) - pi cot(pi x) keeps orders 1 and 2
    # whole (order 3 and up are still the plain difference). Reference: mpmath, 50 digits.
    for b in (1e-8, 0.01):
        for order in (1, 2):
            with mpmath.workdps(50):
                expected = float(mpmath.psi(order - 1, x) - mpmath.psi(order - 1, x + mpmath.mpf(b)))
            for mode in ("nested", "taylor"):
                got = hd.derivative(lambda t: hsp.betaln(t, b), order=order, mode=mode)(x)
                np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=f"b = {b}, {mode} order {order}")
