"""Conventions of the elementwise primitives: kinks, ties, complex numbers, dtypes, errors.

The systematic table (tables/elementwise.py) checks every primitive away from
its kinks; this file pins down what happens *at* them (abs'(0) = 0,
relu'(0) = 0, sign' = 0, ties of maximum/minimum share the gradient), the
JAX convention for complex inputs, and random compositions of primitives
against finite differences (hypothesis).
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hodiff as hd
import hodiff.nn as nn
import hodiff.numpy as hnp
import hodiff.scipy.special as hsp

# ----------------------------------------------------------------- kinks


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_abs_derivative_at_zero_is_zero(mode):
    x = np.array([-1.5, 0.0, 2.0])
    if mode == "rev":
        gradient = hd.grad(lambda x: hnp.sum(hnp.abs(x)))(x)
    else:
        gradient = np.array([hd.jvp(lambda x: hnp.sum(hnp.abs(x)), (x,), (e,))[1] for e in np.eye(3)])
    np.testing.assert_array_equal(gradient, [-1.0, 0.0, 1.0])
    assert float(hd.grad(hd.grad(hnp.abs))(0.0)) == 0.0
    assert float(hd.grad(lambda x: abs(x))(0.0)) == 0.0  # the builtin, through Tracer.__abs__


def test_relu_and_leaky_relu_at_zero():
    assert float(hd.grad(nn.relu)(0.0)) == 0.0
    assert float(hd.jvp(nn.relu, (0.0,), (1.0,))[1]) == 0.0
    np.testing.assert_array_equal(hd.grad(lambda x: hnp.sum(nn.relu(x)))(np.array([-1.0, 0.0, 1.0])), [0, 0, 1])
    assert float(hd.grad(lambda x: nn.leaky_relu(x, 0.2))(0.0)) == pytest.approx(0.2)
    assert float(hd.taylor(nn.relu, 0.0, 1.0, order=2)[1]) == 0.0


def test_sign_and_rounding_have_zero_derivative_everywhere():
    x = np.array([-1.2, 0.0, 0.7])
    for function in [hnp.sign, hnp.floor, hnp.ceil, hnp.round, hnp.rint, hnp.trunc, lambda x: x // 0.5]:
        np.testing.assert_array_equal(hd.grad(lambda x: hnp.sum(function(x) * 3.0))(x), 0.0)
        assert hd.jvp(lambda x: hnp.sum(function(x)), (x,), (np.ones(3),))[1] == 0.0
    # Their answers are plain values: usable as masks and integers.
    hd.grad(lambda x: hnp.sum(x[hnp.sign(x) > 0]))(x)


@pytest.mark.parametrize("function,expected_x,expected_y", [
    (hnp.maximum, 0.5, 0.5), (hnp.minimum, 0.5, 0.5), (hnp.fmax, 0.5, 0.5), (hnp.fmin, 0.5, 0.5),
])
def test_ties_share_the_gradient_equally(function, expected_x, expected_y):
    gx, gy = hd.grad(lambda x, y: function(x, y), argnums=(0, 1))(1.5, 1.5)
    assert (float(gx), float(gy)) == (expected_x, expected_y)
    # Through forward mode and Taylor mode too.
    assert float(hd.jvp(lambda x: function(x, 1.5), (1.5,), (1.0,))[1]) == 0.5
    np.testing.assert_allclose(hd.taylor(lambda x: function(x, 1.5), 1.5, 1.0, order=2), [1.5, 0.5, 0.0])
    # Away from a tie the whole gradient goes to the selected argument.
    gx, gy = hd.grad(lambda x, y: function(x, y), argnums=(0, 1))(2.0, 1.0)
    assert {float(gx), float(gy)} == {0.0, 1.0}


def test_max_of_x_with_itself_has_derivative_one():
    assert float(hd.grad(lambda x: hnp.maximum(x, x))(0.3)) == 1.0


def test_fmax_ignores_nan_and_gives_the_gradient_to_the_number():
    gx, gy = hd.grad(lambda x, y: hnp.fmax(x, y), argnums=(0, 1))(2.0, np.nan)
    assert (float(gx), float(gy)) == (1.0, 0.0)
    gx, gy = hd.grad(lambda x, y: hnp.fmin(x, y), argnums=(0, 1))(np.nan, -1.0)
    assert (float(gx), float(gy)) == (0.0, 1.0)


def test_clip_at_a_bound_shares_the_gradient():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(hd.grad(lambda x: hnp.sum(hnp.clip(x, -1.0, 1.0)))(x), [0, 0.5, 1, 0.5, 0])
    g_low = hd.grad(lambda low: hnp.sum(hnp.clip(x, low, 1.0)))(-1.0)
    assert float(g_low) == 1.5  # x = -2 (clipped: 1) and the tie at x = -1 (1/2)
    with pytest.raises(ValueError, match="a_min"):
        hnp.clip(x)


def test_hypot_and_angle_at_the_origin_have_zero_derivative():
    gx, gy = hd.grad(hnp.hypot, argnums=(0, 1))(0.0, 0.0)
    assert (float(gx), float(gy)) == (0.0, 0.0)
    assert complex(hd.grad(hnp.angle)(0j)) == 0
    assert complex(hd.grad(hnp.abs)(0j)) == 0


def test_sinc_is_exact_at_zero_to_every_order():
    # sinc(x) = sum_n (-1)^n (pi x)^(2n) / (2n+1)!
    expected = [1.0, 0.0, -math.pi ** 2 / 6, 0.0, math.pi ** 4 / 120, 0.0, -math.pi ** 6 / 5040]
    np.testing.assert_allclose(hd.taylor(hnp.sinc, 0.0, 1.0, order=6), expected, atol=1e-12)
    for mode in ("taylor", "nested"):
        assert float(hd.derivative(hnp.sinc, order=2, mode=mode)(0.0)) == pytest.approx(-math.pi ** 2 / 3)
    assert float(hd.grad(hnp.sinc)(0.0)) == 0.0


def _sinc_derivative_mpmath(x, k):
    """The k-th derivative of sin(pi x)/(pi x) at x, to 40 digits: its Maclaurin series
    sum_m (-1)^m pi^(2m) x^(2m) / (2m+1)!, differentiated term by term (entire, converges at any x)."""
    import mpmath

    with mpmath.workdps(60):
        x, total, m = mpmath.mpf(x), mpmath.mpf(0), (k + 1) // 2
        while True:
            term = ((-1) ** m * mpmath.pi ** (2 * m) / mpmath.factorial(2 * m + 1)
                    * mpmath.ff(2 * m, k) * x ** (2 * m - k))
            total += term
            if m > k + 40 and abs(term) < mpmath.mpf(10) ** -45 * max(1, abs(total)):
                return float(total)
            m += 1


@pytest.mark.parametrize("x", [1e-7, -3e-5, 1e-4, 7e-4, -2e-3, 0.01, 0.31, 1.7, -4.2, 12.3])
def test_sinc_derivatives_near_and_away_from_zero_in_every_mode(x):
    # On main the quotient rule lost up to 43% at 0 < |x| < 1e-3 in every mode, and the
    # Taylor rule went wrong from order 16 at ordinary points.
    assert float(hd.grad(hnp.sinc)(x)) == pytest.approx(_sinc_derivative_mpmath(x, 1), rel=1e-13, abs=1e-300)
    assert float(hd.jvp(hnp.sinc, (x,), (1.0,))[1]) == pytest.approx(_sinc_derivative_mpmath(x, 1), rel=1e-13)
    for k in range(1, 6):
        for mode in ("taylor", "nested"):
            assert float(hd.derivative(hnp.sinc, order=k, mode=mode)(x)) == pytest.approx(
                _sinc_derivative_mpmath(x, k), rel=1e-12, abs=1e-12 * math.pi ** k), (k, mode)
    for k in (16, 24, 40):
        assert float(hd.derivative(hnp.sinc, order=k)(x)) == pytest.approx(
            _sinc_derivative_mpmath(x, k), rel=1e-11, abs=1e-12 * math.pi ** k), k


def test_sinc_derivatives_keep_float32_accurately_near_zero():
    x = np.float32(3e-4)
    for k in range(1, 4):
        got = hd.derivative(hnp.sinc, order=k)(x)
        assert got.dtype == np.float32
        assert float(got) == pytest.approx(_sinc_derivative_mpmath(float(x), k), rel=1e-6, abs=1e-6)


def test_sinc_of_complex_input_matches_its_series():
    z = 0.4 + 0.3j
    expected = sum((-1) ** m * math.pi ** (2 * m) * 2 * m * z ** (2 * m - 1) / math.factorial(2 * m + 1)
                   for m in range(1, 40))
    assert complex(hd.jvp(hnp.sinc, (z,), (1.0 + 0j,))[1]) == pytest.approx(expected, rel=1e-13)


def test_bessel_i1_derivatives_are_exact_at_zero():
    # I_1(x) = x/2 + x^3/16 + x^5/384 + ...
    np.testing.assert_allclose(hd.taylor(hsp.i1, 0.0, 1.0, order=5), [0, 0.5, 0, 1 / 16, 0, 1 / 384], atol=1e-14)
    assert float(hd.grad(hd.grad(hd.grad(hsp.i1)))(0.0)) == pytest.approx(3 / 8)


def test_remainder_derivatives():
    gx, gy = hd.grad(lambda x, y: x % y, argnums=(0, 1))(7.5, 2.0)
    assert (float(gx), float(gy)) == (1.0, -3.0)
    gx, gy = hd.grad(hnp.fmod, argnums=(0, 1))(-7.5, 2.0)
    assert (float(gx), float(gy)) == (1.0, 3.0)  # trunc(-3.75) = -3


# ----------------------------------------------------------------- numerical stability


def test_logsumexp_is_stable_and_its_gradient_is_softmax():
    x = np.array([1000.0, 1000.0, -np.inf])
    assert float(hsp.logsumexp(x)) == pytest.approx(1000 + math.log(2))
    np.testing.assert_allclose(hd.grad(hsp.logsumexp)(x), [0.5, 0.5, 0.0])
    all_minus_inf = np.full(3, -np.inf)
    assert float(hsp.logsumexp(all_minus_inf)) == -np.inf
    np.testing.assert_array_equal(hd.grad(hsp.logsumexp)(all_minus_inf), 0.0)
    # softmax along an axis sums to one and does not overflow
    probabilities = nn.softmax(np.array([[1000.0, 0.0], [0.0, 0.0]]))
    np.testing.assert_allclose(probabilities, [[1, 0], [0.5, 0.5]])


def test_logsumexp_matches_scipy_with_weights_and_keepdims():
    import scipy.special as sp

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.uniform(0.1, 2, (3, 4))
    for axis in [None, 0, 1, (0, 1), -1]:
        for keepdims in [False, True]:
            np.testing.assert_allclose(hsp.logsumexp(a, axis=axis, b=b, keepdims=keepdims),
                                       sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims))
    value, sign = hsp.logsumexp(a, return_sign=True)  # supported now: scipy's (tests/test_reductions.py)
    want_value, want_sign = sp.logsumexp(a, return_sign=True)
    assert float(value) == pytest.approx(float(want_value), rel=1e-14) and sign == want_sign
    with pytest.raises(TypeError, match="complex"):
        hsp.logsumexp(a + 1j)
    with pytest.raises(np.exceptions.AxisError):
        hsp.logsumexp(a, axis=2)


def test_activations_are_stable_for_large_inputs():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        assert float(nn.sigmoid(-1000.0)) == 0.0
        assert float(hd.grad(nn.sigmoid)(-1000.0)) == 0.0
        assert float(nn.softplus(1000.0)) == 1000.0
        assert float(hd.grad(nn.softplus)(1000.0)) == 1.0
        assert float(nn.log_sigmoid(-1000.0)) == -1000.0
        assert float(hd.grad(nn.log_sigmoid)(-1000.0)) == 1.0
        assert float(hd.grad(lambda x: hnp.logaddexp(x, 0.0))(-np.inf)) == 0.0
        assert float(hd.grad(hsp.log_ndtr)(-30.0)) == pytest.approx(30.0332, rel=1e-4)  # phi/Phi ~ -x - 1/x
        assert float(hd.grad(hsp.i0e)(500.0)) == pytest.approx(float(hsp.i1e(500.0) - hsp.i0e(500.0)))


def test_float32_stays_float32_through_higher_derivatives_and_taylor():
    x = np.float32(0.4)
    for function in [hsp.expit, hsp.erf, hnp.arcsin, hnp.tan, hsp.gammaln, nn.gelu, hnp.cbrt]:
        assert hd.grad(hd.grad(function))(x).dtype == np.float32
        assert hd.taylor(function, np.full(2, x), np.ones(2, np.float32), order=3).dtype == np.float32
    assert hd.grad(lambda x: hsp.polygamma(2, x))(x).dtype == np.float32


# ----------------------------------------------------------------- complex numbers (JAX's convention)


def test_grad_of_abs_squared_is_two_conj_z():
    z = 1.5 - 0.5j
    np.testing.assert_allclose(hd.grad(lambda z: hnp.abs(z) ** 2)(z), 2 * np.conj(z))
    np.testing.assert_allclose(hd.grad(lambda z: hnp.real(z * hnp.conj(z)))(z), 2 * np.conj(z))


@pytest.mark.parametrize("function,expected", [
    (hnp.real, lambda z: 1.0),
    (hnp.imag, lambda z: -1j),
    (hnp.abs, lambda z: np.conj(z) / abs(z)),
    (hnp.angle, lambda z: -1j / z),
    (lambda z: hnp.real(z * z), lambda z: 2 * z),  # d/dx - i d/dy of x^2 - y^2
    (lambda z: hnp.imag(hnp.exp(z)), lambda z: -1j * np.exp(z)),
])
def test_grad_of_real_functions_of_complex_z_follows_jax(function, expected):
    """JAX and autograd: grad f = df/dx - i df/dy for real f of z = x + iy."""
    z = np.array(0.8 + 0.6j)
    np.testing.assert_allclose(hd.grad(function)(z), expected(z))
    x, y = 0.8, 0.6
    d_dx = hd.grad(lambda x: function(x + 1j * y))(x)
    d_dy = hd.grad(lambda y: function(x + 1j * y))(y)
    np.testing.assert_allclose(hd.grad(function)(z), d_dx - 1j * d_dy)


def test_holomorphic_grad_is_the_complex_derivative():
    z = 0.3 + 0.4j
    for function, derivative in [(hnp.exp, np.exp), (hnp.arctan, lambda z: 1 / (1 + z * z)),
                                 (hnp.tan, lambda z: 1 / np.cos(z) ** 2), (hnp.sinh, np.cosh),
                                 (hnp.log1p, lambda z: 1 / (1 + z)), (hnp.square, lambda z: 2 * z)]:
        np.testing.assert_allclose(hd.grad(function, holomorphic=True)(z), derivative(z))


@pytest.mark.parametrize("function", [
    hnp.real, hnp.imag, hnp.conj, hnp.abs, hnp.angle, hnp.exp, hnp.expm1, hnp.log1p, hnp.sinh, hnp.cosh,
    hnp.tan, hnp.arcsin, hnp.arctan, hnp.arcsinh, hnp.square, hnp.reciprocal, hnp.log2,
    lambda z: hnp.abs(hnp.sin(z)) ** 2 * hnp.angle(z),
    lambda z: hnp.astype(z * 1j, np.float64),
    lambda z: hnp.real(z).astype(np.complex128) * z,
], ids=lambda f: getattr(f, "__name__", "composition"))
def test_complex_functions_pass_check_grads(function):
    z = np.array([0.4 + 0.3j, -0.5 + 0.6j])
    hd.check_grads(function, (z,), order=2, rtol=1e-5, atol=1e-6)


def test_real_input_through_complex_intermediates():
    """Cotangents of real values may pick up imaginary parts on the way; they must not leak."""
    f = lambda x: hnp.real(hnp.exp(1j * x)) * hnp.abs(x * (1 + 1j)) + hnp.angle(x + 2j)
    x = np.array([0.7, -1.3])
    hd.check_grads(f, (x,), order=2)
    gradient = hd.grad(lambda x: hnp.sum(f(x)))(x)
    assert gradient.dtype == np.float64


def test_astype_casts_like_numpy():
    z = np.array([1.0 + 2.0j, -0.5 + 0.25j])
    np.testing.assert_array_equal(hnp.astype(z, np.float64), [1.0, -0.5])  # real part, no ComplexWarning
    np.testing.assert_allclose(hd.grad(lambda z: hnp.sum(z.astype(np.float64) * 3.0))(z), [3.0, 3.0])
    x = np.array([1.7, -2.2])
    assert hd.grad(lambda x: hnp.sum(x.astype(np.float32)))(x).dtype == np.float64
    np.testing.assert_array_equal(hd.grad(lambda x: hnp.sum(x * x.astype(int)))(x), [1.0, -2.0])
    assert hnp.full_like(x, 3).dtype == np.float64 and hnp.zeros_like(x, dtype=np.float32).dtype == np.float32


# ----------------------------------------------------------------- namespace and errors


def test_numpy_ufuncs_on_tracers_dispatch_to_hodiff():
    x = 0.3
    for ufunc, function in [(np.arcsin, hnp.arcsin), (np.expm1, hnp.expm1), (np.abs, hnp.abs),
                            (np.conjugate, hnp.conj), (np.cbrt, hnp.cbrt)]:
        assert float(hd.grad(ufunc)(x)) == pytest.approx(float(hd.grad(function)(x)))
    assert float(hd.grad(lambda x: np.maximum(x, 0.0) + np.logaddexp(x, x))(x)) == pytest.approx(2.0)


def test_bad_input_errors_name_the_problem():
    with pytest.raises(TypeError, match="polygamma: n must be"):
        hsp.polygamma(1.5, 2.0)
    with pytest.raises(TypeError, match="order v"):
        hd.grad(lambda v: hsp.iv(v, 1.0))(1.0)
    with pytest.raises(ValueError, match="approximate"):
        nn.gelu(1.0, approximate="erf")
    with pytest.raises(hd.core.errors.TracedConversionError, match="scipy.special.spence"):
        hd.grad(lambda x: hsp.spence(x))(1.0)


def test_cross_entropy_with_labels_and_probabilities():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((4, 3))
    labels = np.array([0, 2, 1, 2])
    one_hot = np.eye(3)[labels]
    log_probabilities = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -np.mean(np.sum(one_hot * log_probabilities, axis=1))
    assert float(nn.cross_entropy(logits, labels)) == pytest.approx(expected)
    assert float(nn.cross_entropy(logits, one_hot)) == pytest.approx(expected)
    softmax = np.exp(log_probabilities)
    np.testing.assert_allclose(hd.grad(nn.cross_entropy)(logits, labels), (softmax - one_hot) / 4)
    np.testing.assert_allclose(nn.cross_entropy(logits, labels, reduction="none"),
                               -np.sum(one_hot * log_probabilities, axis=1))
    # Per-example losses under vmap, with batched labels.
    per_example = hd.vmap(lambda row, label: nn.cross_entropy(row, label))(logits, labels)
    np.testing.assert_allclose(per_example, -np.sum(one_hot * log_probabilities, axis=1))


def test_cross_entropy_errors():
    logits = np.zeros((2, 3))
    with pytest.raises(ValueError, match="labels must lie in"):
        nn.cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(ValueError, match="labels need shape"):
        nn.cross_entropy(logits, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="same shape"):
        nn.cross_entropy(logits, np.ones((2, 4)) / 4)
    with pytest.raises(ValueError, match="reduction"):
        nn.cross_entropy(logits, np.array([0, 1]), reduction="avg")


def test_mse():
    predictions, targets = np.array([1.0, 2.0, 4.0]), np.array([0.0, 2.0, 1.0])
    assert float(nn.mse(predictions, targets)) == pytest.approx(10 / 3)
    np.testing.assert_allclose(hd.grad(nn.mse)(predictions, targets), 2 * (predictions - targets) / 3)
    assert float(nn.mse(predictions, targets, reduction="sum")) == 10.0


def test_special_values_match_scipy():
    import scipy.special as sp

    x = np.linspace(0.2, 0.8, 4)
    for name in ["expit", "logit", "log_expit", "erf", "erfc", "erfinv", "erfcx", "ndtr", "ndtri", "log_ndtr",
                 "gammaln", "digamma", "gamma", "i0", "i1", "i0e", "i1e", "softplus"]:
        np.testing.assert_allclose(getattr(hsp, name)(x), getattr(sp, name)(x), rtol=1e-14, err_msg=name)
    np.testing.assert_allclose(hsp.polygamma(2, x), sp.polygamma(2, x))
    np.testing.assert_allclose(hsp.iv(1.5, x), sp.iv(1.5, x))
    np.testing.assert_allclose(hsp.betaln(x, 2 * x), sp.betaln(x, 2 * x))
    np.testing.assert_allclose(hsp.xlogy(0.0, 0.0), 0.0)
    assert float(hd.grad(hsp.xlogy, argnums=1)(0.0, 0.0)) == 0.0


def test_gelu_matches_its_definitions():
    import scipy.special as sp

    x = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(nn.gelu(x), x * sp.ndtr(x))
    tanh_form = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(nn.gelu(x, approximate="tanh"), tanh_form)
    np.testing.assert_allclose(nn.gelu(x, approximate=True), tanh_form)


# ----------------------------------------------------------------- random compositions (hypothesis)

_UNARY = {
    "sin": hnp.sin, "cos": hnp.cos, "tanh": hnp.tanh, "arctan": hnp.arctan, "arcsinh": hnp.arcsinh,
    "expit": hsp.expit, "softplus": nn.softplus, "erf": hsp.erf, "square": hnp.square, "sinh∘tanh": lambda u: hnp.sinh(
        hnp.tanh(u)), "log1p(u^2)": lambda u: hnp.log1p(u * u), "exp∘sin": lambda u: hnp.exp(hnp.sin(u)),
    "cbrt(2+u^2)": lambda u: hnp.cbrt(2.0 + u * u), "expm1∘cos": lambda u: hnp.expm1(hnp.cos(u)),
    "sqrt(1+u^2)": lambda u: hnp.sqrt(1.0 + u * u), "arctanh∘tanh/2": lambda u: hnp.arctanh(0.5 * hnp.tanh(u)),
}
_BINARY = {
    "add": hnp.add, "subtract": hnp.subtract, "multiply": hnp.multiply, "logaddexp": hnp.logaddexp,
    "arctan2(a, 1+b^2)": lambda a, b: hnp.arctan2(a, 1.0 + b * b), "hypot(a, 1+b^2)": lambda a, b: hnp.hypot(
        a, 1.0 + b * b), "a/(1+b^2)": lambda a, b: a / (1.0 + b * b), "xlogy(a, 1+b^2)": lambda a, b: hsp.xlogy(
        a, 1.0 + b * b),
}


def _expressions():
    leaves = st.sampled_from(["x", "y"])
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.tuples(st.sampled_from(sorted(_UNARY)), children),
            st.tuples(st.sampled_from(sorted(_BINARY)), children, children),
        ),
        max_leaves=5,
    )


def _build(expression):
    if isinstance(expression, str):
        return lambda x, y: x if expression == "x" else y
    if len(expression) == 2:
        inner = _build(expression[1])
        return lambda x, y: _UNARY[expression[0]](inner(x, y))
    left, right = _build(expression[1]), _build(expression[2])
    return lambda x, y: _BINARY[expression[0]](left(x, y), right(x, y))


@given(expression=_expressions(), seed=st.integers(0, 2 ** 16))
def test_random_compositions_against_finite_differences(expression, seed):
    f = _build(expression)
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-1.5, 1.5, 3), rng.uniform(-1.5, 1.5, 3)
    hd.check_grads(f, (x, y), order=2, seed=seed)
    # Taylor mode (the Taylor rules) agrees with nested forward mode along a random direction.
    vx, vy = rng.standard_normal(3), rng.standard_normal(3)
    g = lambda xy: f(xy[:3], xy[3:])
    point, direction = np.concatenate([x, y]), np.concatenate([vx, vy])
    coefficients = hd.taylor(g, point, direction, order=3)
    along = lambda t: g(point + t * direction)
    first = lambda t: hd.jvp(along, (t,), (1.0,))[1]
    second = lambda t: hd.jvp(first, (t,), (1.0,))[1]
    third = hd.jvp(second, (0.0,), (1.0,))[1]
    np.testing.assert_allclose(coefficients[1], first(0.0), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(coefficients[2], second(0.0) / 2, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(coefficients[3], third / 6, rtol=1e-9, atol=1e-12)


def test_vmap_of_zero_derivative_ops_on_batched_values():
    """Core fix: a non-differentiable primitive applied to a batched value (no derivative tracer) is batched."""
    xs = np.array([[-1.5, 0.5], [2.5, -0.2]])
    np.testing.assert_array_equal(hd.vmap(hnp.sign)(xs), np.sign(xs))
    np.testing.assert_array_equal(hd.vmap(lambda x: hnp.where(x > 0, x, 0.0))(xs), np.maximum(xs, 0))
    np.testing.assert_array_equal(hd.vmap(lambda x: hnp.floor(x) + hnp.isfinite(x))(xs), np.floor(xs) + 1)


def test_traced_gradient_of_a_real_input_is_real():
    """Core fix: a real input's gradient stays real when an outer transform traces it (jvp of grad)."""
    f = lambda x: hnp.abs(x * (1 + 1j)) ** 2
    gradient_tangent = hd.jvp(hd.grad(f), (0.5,), (1.0,))[1]
    assert not np.iscomplexobj(gradient_tangent)
    assert float(gradient_tangent) == pytest.approx(4.0)  # f = 2 x^2


def test_power_second_derivatives_where_the_exponent_is_zero():
    # Found by the differential fuzzer: guarding y - 1 at y = 0 dropped d/dy of
    # the x-rule, so nested/Hessian routes were wrong wherever a traced exponent was 0.
    import sympy as sp

    s, t = sp.symbols("s t")
    f = s**t
    point = {s: 2, t: 0}
    expected = np.array([[float(sp.diff(f, a, b).subs(point)) for b in (s, t)] for a in (s, t)])
    for mode in ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd"):
        H = hd.hessian(lambda v: hnp.power(v[0], v[1]), mode=mode)(np.array([2.0, 0.0]))
        np.testing.assert_allclose(H, expected, rtol=1e-12, atol=1e-12)
    u = sp.symbols("u")
    third = float(sp.diff((sp.Rational(3, 2) + u) ** (u + 1), u, 3).subs(u, 1))
    nested = hd.derivative(lambda x: hnp.power(1.5 + x, x + 1.0), order=3, mode="nested")(1.0)
    np.testing.assert_allclose(nested, third, rtol=1e-12)


@pytest.mark.parametrize("name, shift", [("xlogy", 0), ("xlog1py", 1)])
def test_xlogy_mixed_second_derivative_at_x_zero(name, shift):
    # Found by the differential fuzzer: the d/dy rule x / y was guarded to 0 at
    # x = 0, which made it constant in x there: d2/dxdy came out 0, not 1 / y.
    import sympy as sp

    function = getattr(hsp, name)
    s, t = sp.symbols("s t")
    f = s * sp.log(t + shift)
    point = {s: 0, t: 2}
    expected = np.array([[float(sp.diff(f, a, b).subs(point)) for b in (s, t)] for a in (s, t)])
    for mode in ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd"):
        H = hd.hessian(lambda v: function(v[0], v[1]), mode=mode)(np.array([0.0, 2.0]))
        np.testing.assert_allclose(H, expected, rtol=1e-14, atol=1e-14)
    # The convention at the 0 log 0 point itself is kept: d/dy = 0 there.
    assert hd.grad(lambda v: function(v[0], v[1]))(np.array([0.0, -float(shift)]))[1] == 0.0


@pytest.mark.parametrize("exponent", [-3.0, -2.0, 3.0, 4.0, 5, 7.0, 1e20, np.inf, -np.inf, 2.5])
def test_power_of_negative_bases_is_numpys_at_special_values(exponent):
    # hodiff computes a negative base to an integer exponent as copysign(|x|**y, x) (numpy's SIMD pow only
    # serves nonnegative bases): every zero's sign, infinity and nan stays np.power's
    base = np.array([-0.0, 0.0, -np.inf, np.inf, np.nan, -2.0, -1.0, 1e-310, -1e-310, -1e200, 3.0] * 20)
    with np.errstate(all="ignore"):
        expected, got = np.power(base, exponent), hnp.power(base, exponent)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


def test_power_of_negative_bases_broadcast_and_dtypes():
    rng = np.random.default_rng(7)
    x = 3.0 * rng.standard_normal((300, 1))
    y = rng.integers(-6, 7, size=(1, 50))
    for exponent in (y.astype(float), y, 3.0, 3):
        for dtype in (np.float32, np.float64):
            base = x.astype(dtype)
            expected = np.power(base, exponent)
            got = hnp.power(base, exponent)
            assert got.dtype == expected.dtype
            np.testing.assert_allclose(got, expected, rtol=2 * np.finfo(expected.dtype).eps, atol=0)
    # its derivatives go through the same implementation: d/dx x**3 = 3 x**2, d^2 = 6 x
    t = -1.0 + np.arange(200) * 0.01
    np.testing.assert_allclose(hd.grad(lambda v: hnp.sum(v ** 3.0))(t), 3 * t * t, rtol=1e-15)
    np.testing.assert_allclose(hd.derivative(lambda v: v ** 5.0, order=2)(t), 20 * t ** 3, rtol=1e-14)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_hypot_and_complex_abs_have_no_second_derivative_at_the_origin():
    # First derivative 0 there by convention; the cone has no curvature to report, so the Hessian is nan
    # (PyTorch's too). A divisor guarded to 1 made hypot's Hessian 0 and complex abs's the identity.
    for f in (lambda v: hnp.hypot(v[0], v[1]), lambda v: hnp.abs(v[0] + 1j * v[1])):
        np.testing.assert_array_equal(hd.grad(f)(np.zeros(2)), [0.0, 0.0])
        assert np.all(np.isnan(hd.hessian(f)(np.zeros(2))))
        v = np.array([3.0, 4.0])  # elsewhere (I - u u^T) / |v|
        np.testing.assert_allclose(hd.hessian(f)(v), (np.eye(2) - np.outer(v, v) / 25.0) / 5.0, rtol=1e-14)


def _central(f, z, v, h=1e-6):
    return (f(z + h * v) - f(z - h * v)) / (2 * h)


def test_complex_sign_negative_real_base_and_complex_arccosh_against_closed_forms():
    # Found by an audit, each silently wrong: sign(z) = z/|z| (numpy 2) had derivative 0 as a piecewise constant
    # primitive; (-2.0) ** z had nan derivatives (the real log of the base); Taylor mode of arccosh(z) for
    # Re z < 0 gave -arccosh' (the principal root of z^2 - 1). References: closed forms, central differences.
    z = np.array([0.7 + 0.4j, -1.2 + 0.9j, -0.3 - 2.0j])
    v = np.array([1.0, 1j, 0.6 - 0.8j])
    closed = v / np.abs(z) - z * np.real(np.conj(z) * v) / np.abs(z) ** 3
    np.testing.assert_allclose(hd.jvp(hnp.sign, (z,), (v,))[1], closed, rtol=1e-13)
    np.testing.assert_allclose(closed, _central(np.sign, z, v), rtol=1e-8)
    np.testing.assert_allclose(hnp.sign(z), np.sign(z), rtol=1e-15)
    assert hnp.sign(np.array([0j]))[0] == 0 and hd.grad(hnp.sign)(-2.0) == 0  # real sign: zero derivative
    for base in (-2.0, np.full(3, -2.0)):
        closed = np.log(-2.0 + 0j) * (-2.0 + 0j) ** z * v
        np.testing.assert_allclose(hd.jvp(lambda w: hnp.power(base, w), (z,), (v,))[1], closed, rtol=1e-13)
    np.testing.assert_allclose(closed, _central(lambda w: (-2.0 + 0j) ** w, z, v), rtol=1e-8)
    slope = 1 / (np.sqrt(z - 1) * np.sqrt(z + 1))
    np.testing.assert_allclose(slope, _central(np.arccosh, z, 1.0), rtol=1e-8)
    for mode in ("taylor", "nested"):
        np.testing.assert_allclose(hd.derivative(hnp.arccosh, order=1, mode=mode)(z), slope, rtol=1e-13,
                                   err_msg=mode)
    second = -z / ((z - 1) * (z + 1)) * slope  # d/dz (z^2 - 1)^(-1/2) on arccosh's branch
    np.testing.assert_allclose(hd.derivative(hnp.arccosh, order=2, mode="taylor")(z), second, rtol=1e-12)
