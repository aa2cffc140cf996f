"""Special functions (scipy.special) and the activations built on them.

One place per primitive: the scipy implementation (float32 stays float32),
the derivative written with hodiff primitives (so every order works:
gammaln' = digamma, digamma' = polygamma(1), polygamma(n)' = polygamma(n + 1),
I_v' = (I_{v-1} + I_{v+1}) / 2, J_v' = (J_{v-1} - J_{v+1}) / 2 (and Y_v alike),
erf' = 2/sqrt(pi) exp(-x^2) ...), batching by
broadcasting, and a Taylor rule:

- from a first-order ODE in composition form (y' = F(x, y) x') where one
  exists: expit, softplus, log_expit, logit, erf, erfc, erfinv, erfcx,
  ndtri, log_ndtr, xlogy, xlog1py;
- from closed-form derivatives at the expansion point composed with the
  input series (``series.compose_terms``): gammaln, digamma, polygamma, the
  Bessel functions I_v and their scaled forms, J_v and Y_v;
- beta and rgamma: exp of the gammaln series (their sign is locally constant);
  erfcinv: the ODE y' = -sqrt(pi)/2 exp(y^2) x'; gammainc, gammaincc, betainc
  (in x only): y' = exp(w(x)) x' with w the log of their closed-form density.

``logsumexp`` is a primitive too (reduction over ``axis``): stable, with the
VJP g * softmax and a Taylor rule that never overflows. softmax and
log_softmax are compositions of it.
"""

import functools
import math

import numpy as np
import scipy.special as sp

from ..core import backends
from ..core.trace import Primitive, Tracer
from ..interpreters.batch import BatchTracer
from . import series as S
from .elementwise import (
    _expit_float,
    _is_complex,
    _logistic_density_float,
    _logistic_density_impl,
    _may_hold_true,
    _sigmoid_series,
    _sin_cos_series,
    _unary_taylor,
    absolute,
    add,
    cos,
    equal,
    exp,
    full_like,
    greater,
    greater_equal,
    isfinite,
    less,
    log,
    log1p,
    logistic_density,
    multiply,
    negative,
    power,
    rint,
    sign,
    sin,
    subtract,
    true_divide,
    where,
)
from .rules import batch_elementwise, dtype_of, elementwise, ndim_of, scalar_fast_unary, shape_of, shift_axis, weak
from .shape import expand_dims, ones_like, reduce_short_last_axis, reshape, squeeze, zeros_like
from .shape import sum as _sum

__all__ = [
    "expit", "logit", "log_expit", "softplus", "relu", "erf", "erfc", "erfinv", "erfcx", "ndtr", "ndtri",
    "log_ndtr", "gammaln", "digamma", "polygamma", "gamma", "betaln", "iv", "ive", "i0", "i1", "i0e", "i1e",
    "jv", "yv", "j0", "j1", "y0", "y1",
    "xlogy", "xlog1py", "logsumexp", "softmax", "log_softmax",
    "beta", "rgamma", "gammasgn", "erfcinv", "gammainc", "gammaincc", "betainc", "multigammaln",
]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_SQRT_TWO_PI = math.sqrt(2.0 * math.pi)
_SQRT_TWO_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_HALF = math.sqrt(0.5)
_ONE_OVER_SQRT_TWO_PI = 1.0 / math.sqrt(2.0 * math.pi)


def _float_result(function):
    """scipy's function, its answer cast to the inputs' float type: several two-argument scipy
    functions (xlogy, xlog1py, polygamma, ...) resolve a Python float beside a float32 array to
    their float64 loop, where numpy's NEP 50 keeps the Python scalar weak and the answer float32."""

    def impl(*args, **params):
        out = function(*args, **params)
        dtype = np.result_type(*args, 0.0)
        return out if np.result_type(out) == dtype else backends.asarray(out).astype(dtype)

    impl.__name__ = getattr(function, "__name__", "impl")
    return impl


def _next_order(name):
    """The rule, in its first argument, of a primitive that is an n-th derivative itself (polygamma,
    erfcx_derivative, ive_derivative, polygamma_drop): g times the same primitive at order n + 1, the other
    arguments as they are. ``name`` is looked up when the rule runs: the primitive is defined after it."""
    def rule(g, ans, *args, n, **params):
        return multiply(g, globals()[name](*args, n=n + 1, **params))

    return rule


# --------------------------------------------------------------- logistic family

expit = elementwise("expit", scalar_fast_unary(_expit_float, sp.expit), (lambda ans, x: logistic_density(x),),
                    taylor=_unary_taylor(lambda ans, x0, xs: _sigmoid_series(ans, x0, xs)))
expit.__doc__ = "The logistic sigmoid 1 / (1 + exp(-x)), stable for all x; derivative expit(x) expit(-x)."
# The sigmoid neuron is the lecture's example: plain-value fast paths as the basic ops have them.
expit.scalar_impl = _expit_float
expit.fast_vjp = expit.fast_jvp = (
    lambda g, ans, x: g * (_logistic_density_float(x) if type(x) is float else _logistic_density_impl(x)),)
expit.inplace_vjp = lambda g, ans, x: np.multiply(g, _logistic_density_impl(x), out=g)
expit.declare_reads(answer=False, arguments=((0,),))


def _integral_of_sigmoid(x0, xs, sign):
    """Series of y with y' = expit(sign x) x' (softplus: sign 1, log_expit: sign -1)."""
    d0 = multiply(x0, sign)
    y0 = expit(d0)
    return S.integrate(xs, y0, _sigmoid_series(y0, d0, S.scale(xs, sign)))


softplus = elementwise(
    "softplus", lambda x: np.logaddexp(x, 0.0),
    (lambda ans, x: expit(x),),
    taylor=_unary_taylor(lambda ans, x0, xs: _integral_of_sigmoid(x0, xs, 1.0)),
)
softplus.__doc__ = "log(1 + exp(x)), stable for all x; derivative expit(x)."

log_expit = elementwise(
    "log_expit", sp.log_expit, (lambda ans, x: expit(negative(x)),),
    taylor=_unary_taylor(lambda ans, x0, xs: _integral_of_sigmoid(x0, xs, -1.0)),
)
log_expit.__doc__ = "log(expit(x)) = -softplus(-x), stable; derivative expit(-x) = 1 - expit(x)."


def _taylor_logit(ans, x0, xs):
    return S.minus(S.log_series(x0, xs), S.log_series(subtract(1.0, x0), S.scale(xs, -1.0)))


logit = elementwise("logit", sp.logit, (lambda ans, x: true_divide(1.0, multiply(x, subtract(1.0, x))),),
                    taylor=_unary_taylor(_taylor_logit))
logit.__doc__ = "log(p / (1 - p)), the inverse of expit; derivative 1 / (p (1 - p))."


def _relu_vjp(g, ans, x):
    return where(greater(x, 0), g, 0.0)


relu = Primitive(
    "relu", lambda x: np.maximum(x, 0),
    vjp=(_relu_vjp,), jvp=(lambda t, ans, x: where(greater(x, 0), t, 0.0),),
    taylor=lambda ans, primals, series: where(greater(primals[0], 0), series[0], 0.0),
    broadcasts=True,
)
relu.batch = batch_elementwise(relu)
relu.__doc__ = "max(x, 0); its derivative is 1 for x > 0 and 0 otherwise, so relu'(0) = 0 (as PyTorch and JAX)."


# --------------------------------------------------------------- error functions

def _integral_of_gaussian(x0, xs, factor):
    """Series of y with y' = factor exp(-x^2) x' (erf, erfc)."""
    gaussian0 = exp(negative(multiply(x0, x0)))
    gaussian = S.exp_series(gaussian0, S.scale(S.square(x0, xs), -1.0))
    return S.integrate(xs, multiply(gaussian0, factor), S.scale(gaussian, factor))


def _erf_derivative(factor):
    return lambda ans, x: multiply(exp(negative(multiply(x, x))), factor)


erf = elementwise("erf", sp.erf, (_erf_derivative(_TWO_OVER_SQRT_PI),),
                  taylor=_unary_taylor(lambda ans, x0, xs: _integral_of_gaussian(x0, xs, _TWO_OVER_SQRT_PI)))
erf.__doc__ = "The error function; derivative 2/sqrt(pi) exp(-x^2). Taylor rule: that ODE."

erfc = elementwise("erfc", sp.erfc, (_erf_derivative(-_TWO_OVER_SQRT_PI),),
                   taylor=_unary_taylor(lambda ans, x0, xs: _integral_of_gaussian(x0, xs, -_TWO_OVER_SQRT_PI)))
erfc.__doc__ = "1 - erf(x), accurate for large x; derivative -2/sqrt(pi) exp(-x^2)."


def _term_rule(build):
    """A one-argument Taylor rule from ``build(ans, terms) -> terms`` (coupled, term-by-term recurrences)."""

    def rule(ans, primals, series, **params):
        x = S.terms_of(primals[0], series[0], S.order_of(series))
        return S.finish(build(ans, x, **params), ans)

    return rule


def _exp_square_ode_terms(ans, x, factor, a):
    """y with y' = factor exp(a y^2) x' (inverse functions of Gaussian integrals: erfinv, ndtri).

    v = factor exp(w), w = a y^2: y_k needs v_0..v_{k-1}, which need y up to k-1.
    """
    y = [ans]
    w = [multiply(multiply(ans, ans), a)]
    v = [multiply(exp(w[0]), factor)]
    for k in range(1, len(x)):
        y.append(S.integrate_step(x, v, k))
        w.append(S.t_scale(S.product_term(y, y, k), a))
        v.append(S.integrate_step(w, v, k))
    return y


erfinv = elementwise(
    "erfinv", sp.erfinv, (lambda ans, x: multiply(exp(multiply(ans, ans)), _SQRT_PI_OVER_TWO),),
    taylor=_term_rule(lambda ans, x: _exp_square_ode_terms(ans, x, _SQRT_PI_OVER_TWO, 1.0)),
)
erfinv.__doc__ = "The inverse of erf on (-1, 1); derivative sqrt(pi)/2 exp(ans^2)."

ndtri = elementwise(
    "ndtri", sp.ndtri, (lambda ans, x: multiply(exp(multiply(multiply(ans, ans), 0.5)), _SQRT_TWO_PI),),
    taylor=_term_rule(lambda ans, x: _exp_square_ode_terms(ans, x, _SQRT_TWO_PI, 0.5)),
)
ndtri.__doc__ = "The standard normal quantile (inverse of ndtr); derivative sqrt(2 pi) exp(ans^2 / 2)."


def _erfcx_recurrences(n):
    """(switch, extra) for the n-th derivative: the forward recurrence below x = switch, the backward one
    from k = n + extra above (tuned against mpmath: each pair keeps the worst relative error near 1e-14
    for n <= 2, 2e-13 at n = 3 and 4e-12 at n = 12; the first derivative, the common one, is the cheapest)."""
    return (5.0, 15) if n == 1 else (3.0, 30) if n <= 3 else (1.5, 80)


def _erfcx_forward(x, y, n):
    """J_n by J_k = (J_{k-2} / 2 - x J_{k-1}) / k from J_{-1} = 2/sqrt(pi), J_0 = y = erfcx(x)."""
    before, current = 2.0 / math.sqrt(math.pi), y
    for k in range(1, n + 1):
        before, current = current, (before / 2 - x * current) / k
    return current


def _erfcx_backward(x, y, n, extra):
    """J_n = y r_1 ... r_n, r_k = J_k / J_{k-1} = 1 / (2x + 2(k+1) r_{k+1}) from k = n + extra down, started
    at the recurrence's fixed point (numpy arrays in place: this loop is most of a gradient's cost)."""
    start = n + extra
    twice = 2.0 * x
    ratio = 1.0 / (x + np.sqrt(x * x + 2.0 * (start + 1)))
    inplace = type(ratio) is np.ndarray
    scaled = y
    for k in range(start, 0, -1):
        if inplace:
            np.multiply(ratio, 2.0 * (k + 1), out=ratio)
            np.add(ratio, twice, out=ratio)
            np.divide(1.0, ratio, out=ratio)
        else:
            ratio = 1.0 / (twice + (2.0 * (k + 1)) * ratio)
        if k <= n:
            scaled = scaled * ratio
    return scaled


def _erfcx_derivative_impl(x, y, n):
    """d^n/dx^n erfcx(x) for n >= 1, given y = erfcx(x) (the caller has it: not computed twice), in float64:
    (-2)^n n! J_n with J_n = exp(x^2) i^n erfc(x) (i^n erfc: erfc's n-th repeated integral, positive everywhere).

    The textbook derivative 2 x erfcx(x) - 2/sqrt(pi) cancels where x is large (it is -1/(sqrt(pi) x^2):
    2% off at x = 1e7, 0 at 1e8, and each order cancels more: the 4th derivative was 27% off at x = 100).
    J_n's recurrence runs forward below a switch, where its terms add (x <= 0) or cancel little, and as
    ratios backward above it (Miller's algorithm: every term positive); ``_erfcx_recurrences`` has the
    switch and the start, tests/test_erfcx.py the check against mpmath.
    """
    switch, extra = _erfcx_recurrences(n)
    dtype = np.result_type(x, 0.0)
    x, y = _widened(x), _widened(y)
    high = x >= switch
    scaled = _piecewise((x, y), [
        (~high, lambda x, y: _erfcx_forward(x, y, n), (0.0, 1.0)),
        (high, lambda x, y: _erfcx_backward(x, y, n, extra), (switch, 1.0)),
    ])
    return _as_dtype((-2.0) ** n * math.factorial(n) * scaled, dtype)


def _series_from_derivatives(ans, x0, xs, derivative):
    """The series of f(x(t)) from f(x0) = ans and f's derivatives at x0, ``derivative(j)`` for j = 1..K."""
    return S.compose(x0, xs, S.factorial_scale([ans] + [derivative(j) for j in range(1, S.order_of([xs]) + 1)]))


def _erfcx_series(ans, x0, y0, xs, first=0):
    """The series of erfcx's first-th derivative (ans at x0) along x(t), y0 = erfcx(x0)."""
    return _series_from_derivatives(ans, x0, xs, lambda j: erfcx_derivative(x0, y0, n=first + j))


erfcx = elementwise("erfcx", sp.erfcx, (lambda ans, x: erfcx_derivative(x, ans, n=1),),
                    taylor=_unary_taylor(lambda ans, x0, xs: _erfcx_series(ans, x0, ans, xs)))
erfcx.__doc__ = "The scaled complementary error function exp(x^2) erfc(x); derivative erfcx_derivative(x, ans, n=1)."


def _taylor_erfcx_derivative(ans, primals, series, n):
    x0, y0 = primals
    if series[0] is None:  # y's series is erfcx(x)'s, already counted through x
        return S.finish_series(None, ans, S.order_of(series))
    return _erfcx_series(ans, x0, y0, series[0], first=n)


erfcx_derivative = Primitive(
    "erfcx_derivative", _erfcx_derivative_impl,
    # y = erfcx(x) is a function of x passed along: its own derivative is x's, so y's rules are zero
    vjp=(_next_order("erfcx_derivative"), None), jvp=(_next_order("erfcx_derivative"), None),
    taylor=_taylor_erfcx_derivative, broadcasts=True,
)
erfcx_derivative.batch = batch_elementwise(erfcx_derivative)
erfcx_derivative.__doc__ = """The n-th derivative of erfcx at x (``n`` a static int >= 1) given y = erfcx(x), without
the cancellation of 2 x erfcx(x) - 2/sqrt(pi) at large x; d/dx is erfcx_derivative(x, y, n + 1), so every order
keeps its digits."""


def _log_ndtr_tails(x):
    """(right, x_right, x_left): x > 0, and x with the other tail's entries replaced by 0.

    phi / Phi is sqrt(2/pi) / erfcx(-x / sqrt 2) on the left (no 0/0 where Phi
    underflows), but erfcx(-x / sqrt 2) overflows on the right (float32 from
    x ~ 13: the derivatives came out nan); there phi / Phi with Phi >= 1/2 is safe.
    Each tail's formula sees only its own entries, so neither makes a nan the other's
    derivative would multiply by zero.
    """
    right = greater(x, 0.0)
    return right, where(right, x, 0.0), where(right, 0.0, x)


def _log_ndtr_derivative(ans, x):
    right, x_right, x_left = _log_ndtr_tails(x)
    phi = multiply(exp(multiply(multiply(x_right, x_right), -0.5)), _ONE_OVER_SQRT_TWO_PI)
    return where(right, true_divide(phi, ndtr(x_right)),
                 true_divide(_SQRT_TWO_OVER_PI, erfcx(multiply(x_left, -_SQRT_HALF))))


def _taylor_log_ndtr(ans, x0, xs):
    """y' = v x' with v = phi / Phi: on the left sqrt(2/pi) / erfcx(u), u = -x / sqrt 2 (the erfcx
    series, then its reciprocal); on the right phi = exp(-x^2 / 2) / sqrt(2 pi), Phi' = phi x', v = phi / Phi."""
    right, r0, l0 = _log_ndtr_tails(x0)
    u0 = multiply(l0, -_SQRT_HALF)
    scaled0 = erfcx(u0)
    scaled = _erfcx_series(scaled0, u0, scaled0, S.scale(xs, -_SQRT_HALF))
    inverse0 = true_divide(1.0, scaled0)
    v_series = S.scale(S.pow_series(inverse0, scaled0, scaled, -1.0), _SQRT_TWO_OVER_PI)
    left_series = S.integrate(xs, multiply(inverse0, _SQRT_TWO_OVER_PI), v_series)
    phi0 = multiply(exp(multiply(multiply(r0, r0), -0.5)), _ONE_OVER_SQRT_TWO_PI)
    phi_series = S.exp_series(phi0, S.scale(S.square(r0, xs), -0.5))
    cdf0 = ndtr(r0)
    cdf_inverse0 = true_divide(1.0, cdf0)
    cdf_inverse = S.pow_series(cdf_inverse0, cdf0, S.integrate(xs, phi0, phi_series), -1.0)
    ratio = S.product(phi0, phi_series, cdf_inverse0, cdf_inverse)
    right_series = S.integrate(xs, multiply(phi0, cdf_inverse0), ratio)
    return where(right, right_series, left_series)


log_ndtr = elementwise("log_ndtr", sp.log_ndtr, (_log_ndtr_derivative,), taylor=_unary_taylor(_taylor_log_ndtr))
log_ndtr.__doc__ = "log of the standard normal CDF, accurate in both tails; derivative phi(x) / Phi(x)."


def ndtr(x):
    """The standard normal CDF, 0.5 erfc(-x / sqrt 2)."""
    return multiply(erfc(multiply(x, -_SQRT_HALF)), 0.5)


# --------------------------------------------------------------- gamma family

def _polygamma_coefficients(ans, x0, first, order):
    """[ans, f'(x0)/1!, ..., f^(K)(x0)/K!] for f with f^(n) = polygamma(first + n - 1)."""
    derivatives = [ans] + [polygamma(x0, n=first + n - 1) for n in range(1, order + 1)]
    return S.factorial_scale(derivatives)


def _compose_with_polygamma(first):
    return _unary_taylor(lambda ans, x0, xs, **params: S.compose(
        x0, xs, _polygamma_coefficients(ans, x0, first + params.get("n", 0), S.order_of([xs]))))


gammaln = elementwise("gammaln", sp.gammaln, (lambda ans, x: digamma(x),), taylor=_compose_with_polygamma(0))
gammaln.__doc__ = "log |Gamma(x)|; derivative digamma(x)."

digamma = elementwise("digamma", sp.digamma, (lambda ans, x: polygamma(x, n=1),), taylor=_compose_with_polygamma(1))
digamma.__doc__ = "psi(x) = Gamma'(x) / Gamma(x); derivative polygamma(1, x)."


def _polygamma_impl(x, n):
    if n and type(x) is not np.ndarray and backends.backend_name(x) != "numpy":
        # scipy's polygamma is Python code that calls np.asarray (computing a Dask array); its formula, on
        # the zeta ufunc, dispatches to the backend instead.
        return (-1.0) ** (n + 1) * sp.gamma(n + 1.0) * sp.zeta(n + 1, x)
    return _float_result(sp.polygamma)(n, x) if n else sp.digamma(x)


polygamma = Primitive(
    "polygamma", _polygamma_impl,
    vjp=(_next_order("polygamma"),), jvp=(_next_order("polygamma"),),
    taylor=_compose_with_polygamma(1), broadcasts=True,
)
polygamma.batch = batch_elementwise(polygamma)
polygamma.__doc__ = "psi^(n)(x), the n-th derivative of digamma (``n`` a static int >= 0); derivative psi^(n+1)."


def _taylor_gamma(ans, x0, xs):
    # Gamma(x(t)) = Gamma(x0) exp(gammaln(x(t)) - gammaln(x0)): the sign of Gamma is locally constant.
    log_series = S.compose(x0, xs, _polygamma_coefficients(gammaln(x0), x0, 0, S.order_of([xs])))
    return S.exp_series(ans, log_series)


gamma = elementwise("gamma", sp.gamma, (lambda ans, x: multiply(ans, digamma(x)),), taylor=_unary_taylor(_taylor_gamma))
gamma.__doc__ = "The Gamma function; derivative Gamma(x) digamma(x)."


def _widened(value):
    """A float16/float32 value in float64 (a Python float or a float64 value as it is)."""
    dtype = getattr(value, "dtype", None)
    return value.astype(np.float64) if dtype is not None and dtype.kind == "f" and dtype.itemsize < 8 else value


def _as_dtype(out, dtype):
    """A float64 result of a widened computation back in the inputs' dtype (a 0-d array as a scalar)."""
    if np.result_type(out) != dtype:
        out = out.astype(dtype)
    return out[()] if type(out) is np.ndarray and out.ndim == 0 else out


def _piecewise(arrays, pieces):
    """One formula per region: ``pieces`` are (mask, function, stand_ins), the masks disjoint and covering
    the arrays' common shape; ``function(*arrays)`` runs on its region's entries alone (numpy arrays: each
    formula sees only the entries it is accurate on, and the work is split, not repeated); a numpy
    scalar takes the one piece whose mask holds. Other backends (Dask: no boolean assignment) run every
    piece on the whole array with the other regions' entries replaced by ``stand_ins``, then choose."""
    first = arrays[0]
    if type(first) is np.ndarray and first.ndim:
        out = None
        for mask, function, _ in pieces:
            if mask.all():
                return function(*arrays)
            if mask.any():
                part = function(*(a[mask] for a in arrays))
                if out is None:
                    out = np.empty(first.shape, np.result_type(part))
                out[mask] = part
        return out
    if np.ndim(first) == 0 and backends.backend_name(first) == "numpy":
        return next(function(*arrays) for mask, function, _ in pieces if mask)
    out = None
    for mask, function, stand_ins in pieces:
        part = function(*(np.where(mask, a, stand_in) for a, stand_in in zip(arrays, stand_ins)))
        out = part if out is None else np.where(mask, part, out)
    return out


# polygamma(x, n) - polygamma(x + h, n) nearly cancels where h << x: betaln's d/da at a = 1e9, b = 7.8 is
# -7.4e-9 against digamma(a) = 20.7, and the difference of scipy's two values was 1e-7 off (its 2nd derivative
# 3e-8; fuzz seed 380071). Each recurrence step and each asymptotic term is a difference of powers instead,
# y^-m - (y + h)^-m = -y^-m expm1(-m log1p(h / y)), which keeps its digits whatever h / y is (_power_drops).
_BERNOULLI = sp.bernoulli(24)[2::2]  # B_2, B_4, ..., B_24


def _power_drops(y, h):
    """m -> y^-m - (y + h)^-m for y > 0 and y + h > 0, without cancellation: -y^-m expm1(-m log1p(h / y))
    (log1p(h / y) and 1 / y computed once for every m)."""
    log_ratio, inverse = np.log1p(h / y), 1.0 / y
    return lambda m: -np.expm1(-m * log_ratio) * inverse ** m


def _polygamma_drop_positive(x, h, n):
    """polygamma(x, n) - polygamma(x + h, n) for x > 0 and x + h > 0: the recurrence psi^(n)(y) =
    psi^(n)(y + 1) - (-1)^n n! y^-(n+1) lifts x to y >= 20 + 2n (each step's difference of powers added),
    where the asymptotic series (DLMF 5.15.8, 12 Bernoulli terms) takes the rest, term by term."""
    lift = np.maximum(np.ceil(20.0 + 2 * n - x), 0.0)
    steps = 0.0
    numpy = backends.backend_name(lift) == "numpy"
    top = int(np.max(lift, initial=0.0)) if numpy else math.ceil(20.0 + 2 * n)  # (Dask: x > 0 bounds it)
    for i in range(top):
        steps = steps + np.where(i < lift, _power_drops(x + i, h)(n + 1), 0.0)
    y = x + lift
    drop = _power_drops(y, h)
    if n == 0:
        tail = -np.log1p(h / y) - 0.5 * drop(1)
        for k, b in enumerate(_BERNOULLI, start=1):
            tail = tail - b / (2 * k) * drop(2 * k)
    else:
        tail = math.factorial(n - 1) * drop(n) + 0.5 * math.factorial(n) * drop(n + 1)
        for k, b in enumerate(_BERNOULLI, start=1):
            tail = tail + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) * drop(2 * k + n)
        tail = (-1.0) ** (n + 1) * tail
    return tail - (-1.0) ** n * math.factorial(n) * steps


def _polygamma_drop_impl(x, h, n):
    # in float64 (a float32 difference would leave rounding alone). Where |h| >= x / 4 the two values differ by
    # log(5/4) or more and scipy's difference loses at most 2 digits (14x faster); x or x + h <= 0 (poles, the
    # reflection region) takes it too
    dtype = np.result_type(x, h, 0.0)
    x, h = np.broadcast_arrays(_widened(x), _widened(h))  # _piecewise takes each region's entries of both
    near = (x > 0) & (x + h > 0) & (4.0 * np.abs(h) < x)
    reflected = ~near & (n <= 1) & (x < 0) & (x + h < 0) & (4.0 * np.abs(h) < 1.0 - x - h) & (x != np.round(x))
    out = _piecewise((x, h), [
        (near, lambda x, h: _polygamma_drop_positive(x, h, n), (1.0, 1.0)),
        (reflected, lambda x, h: _polygamma_drop_reflected(x, h, n), (-0.5, 1e-3)),
        (~near & ~reflected, lambda x, h: _polygamma_impl(x, n) - _polygamma_impl(x + h, n), (1.0, 1.0)),
    ])
    return _as_dtype(out, dtype)


def _sin_pi(x):
    """sin(pi x) with x's integer part taken out exactly first (pi x itself rounds for |x| > 1)."""
    whole = np.round(x)
    return np.where(np.remainder(whole, 2) == 0, 1.0, -1.0) * np.sin(np.pi * (x - whole))


def _polygamma_drop_reflected(x, h, n):
    """psi^(n)(x) - psi^(n)(x + h) for x, x + h < 0 (n = 0, 1) by the reflection psi(x) = psi(1 - x) - pi cot(pi x):
    a drop at y = 1 - x - h > 0 (its positive-side series) and a difference of cot (csc^2) written as one product,
    sin(pi h) / (sin(pi x) sin(pi (x + h))): the plain difference of two polygammas cancelled where h << |x|
    (betaln(-0.3, 1e-8)'s derivative in x was 4.6e-9 off)."""
    y = 1.0 - x - h
    a, b = _sin_pi(x), _sin_pi(x + h)
    if n == 0:
        return -_polygamma_drop_positive(y, h, 0) - np.pi * _sin_pi(h) / (a * b)
    return _polygamma_drop_positive(y, h, 1) + np.pi ** 2 * _sin_pi(h) * _sin_pi(2.0 * x + h) / (a * a * b * b)


def _drop_series(ans, x0, xs, h0, hs, order, drop, at_sum):
    """Series of f(x(t)) - f(x(t) + h(t)), given drop(j) = f^(j)(x0) - f^(j)(x0 + h0) (one value, not a
    difference) and at_sum(j) = f^(j)(x0 + h0).

    With d = x - x0 and e = d + (h - h0), f(x) - f(x + h) = sum_j [drop(j) d^j - at_sum(j) (e^j - d^j)] / j!,
    and e^j - d^j = e (e^(j-1) - d^(j-1)) + (h - h0) d^(j-1): no two near-equal series are subtracted, so where
    h << x (betaln at a >> b) the coefficients keep their digits as the value does.
    """
    from .cauchy import series_product
    from .shape import concatenate, getitem

    def with_zero(series):  # (K,) + s -> (K + 1,) + s, its constant term 0
        series = S.finish_series(series, ans, order)
        return concatenate(zeros_like(getitem(series, index=slice(0, 1))), series, axis=0)

    def tail(series):
        return getitem(series, index=slice(1, None))

    d = None if xs is None else with_zero(xs)
    g = None if hs is None else with_zero(hs)
    e = d if g is None else g if d is None else add(d, g)
    d_power, gap, out = d, g, None  # d^j and e^j - d^j
    for j in range(1, order + 1):
        scale = 1.0 / math.factorial(j)
        if d_power is not None:
            out = S.plus(out, S.times(multiply(drop(j), scale), tail(d_power)))
        if gap is not None:
            out = S.minus(out, S.times(multiply(at_sum(j), scale), tail(gap)))
        if j < order:
            if gap is not None or g is not None:
                gap = S.plus(None if gap is None else series_product(e, gap),
                             None if g is None or d_power is None else series_product(g, d_power))
            if d_power is not None:
                d_power = series_product(d_power, d)
    return S.finish_series(out, ans, order)


def _taylor_polygamma_drop(ans, primals, series, n):
    (x0, h0), (xs, hs) = primals, series
    return _drop_series(ans, x0, xs, h0, hs, S.order_of(series), lambda j: polygamma_drop(x0, h0, n=n + j),
                        lambda j: polygamma(add(x0, h0), n=n + j))


def _polygamma_drop_dh(g, ans, x, h, n):
    return negative(multiply(g, polygamma(add(x, h), n=n + 1)))


polygamma_drop = Primitive(
    "polygamma_drop", _polygamma_drop_impl,
    vjp=(_next_order("polygamma_drop"), _polygamma_drop_dh), jvp=(_next_order("polygamma_drop"), _polygamma_drop_dh),
    taylor=_taylor_polygamma_drop, broadcasts=True,
)
polygamma_drop.batch = batch_elementwise(polygamma_drop)
polygamma_drop.__doc__ = """psi^(n)(x) - psi^(n)(x + h) (``n`` a static int >= 0), subtracted in float64: betaln's
derivatives, which cancel where h << x. d/dx is polygamma_drop(x, h, n + 1), so every order keeps the
difference whole; d/dh = -psi^(n+1)(x + h). Its Taylor rule (``_drop_series``) keeps the differences whole too."""


def _taylor_betaln(ans, primals, series):
    # gammaln(a) + gammaln(b) - gammaln(a + b): the larger of |a| and |b| is paired with a + b, whose gammalns
    # nearly cancel where it is much larger (a negative a beside b = 1e-8 too); the other's series stands alone.
    (a0, b0), order, ndim = primals, S.order_of(series), len(shape_of(ans))
    a_series, b_series = (S.align(s, ndim) for s in series)

    def paired(x0, xs, h0, hs):
        gammaln_drop = _drop_series(ans, x0, xs, h0, hs, order, lambda j: polygamma_drop(x0, h0, n=j - 1),
                                    lambda j: polygamma(add(x0, h0), n=j - 1))
        return S.finish_series(S.plus(gammaln_drop, _gammaln_series(h0, hs, order)), ans, order)

    return where(greater_equal(absolute(a0), absolute(b0)), paired(a0, a_series, b0, b_series),
                 paired(b0, b_series, a0, a_series))


betaln = elementwise(
    "betaln", _float_result(sp.betaln),
    (lambda ans, a, b: polygamma_drop(a, b, n=0), lambda ans, a, b: polygamma_drop(b, a, n=0)),
    taylor=_taylor_betaln,
)
betaln.__doc__ = """log |B(a, b)| = gammaln(a) + gammaln(b) - gammaln(a + b), by scipy (which does not subtract:
at a = 1e6 in float32 the difference of gammalns is 0.7% off); d/da = psi(a) - psi(a + b) (polygamma_drop)."""


# --------------------------------------------------------------- beta, incomplete gamma/beta, erfcinv (issue 13)
# The incomplete functions are differentiated in x only: d/da and d/db have no closed form
# in scipy, so a traced a or b raises (a refusal, never a wrong number).

def _gammaln_series(x0, xs, order):
    """Series of gammaln(x(t)) (None for a constant x)."""
    if xs is None:
        return None
    return S.compose(x0, xs, _polygamma_coefficients(gammaln(x0), x0, 0, order))


def _not_in(name, argument, signature):
    """The rule of an argument hodiff does not differentiate in: raises when a derivative in it is asked for."""
    message = (f"{name}: hodiff differentiates {signature} in x only, not in {argument} (scipy gives no closed "
               f"form for d/d{argument}); {argument} must not depend on the differentiated variables "
               f"(hd.stop_gradient({argument}) treats it as a constant)")

    def rule(*_args):
        raise TypeError(message)

    rule.message = message
    return rule


def _refuse_series(series, rules):
    for s, rule in zip(series, rules):
        if s is not None:
            rule()


def _at_output_shape(ans, primals, series, order):
    """Primals that carry a series, and their series, broadcast to the output's shape (a constant
    stays as it is: a Python float stays weak)."""
    from .shape import broadcast_to

    shape = tuple(shape_of(ans))
    primals = [p if s is None or tuple(shape_of(p)) == shape else broadcast_to(p, shape=shape)
               for p, s in zip(primals, series)]
    series = [None if s is None else S.finish_series(s, ans, order) for s in series]
    return primals, series


def _beta_derivative(first):
    # B (psi(a) - psi(a + b)) with the difference taken whole (polygamma_drop, as betaln's): subtracted, two
    # digammas cancelled where b << a (the Hessian's cross term at (1e8, 1e-3) was 1.4e-2 off)
    def derivative(ans, a, b):
        return multiply(ans, polygamma_drop(a, b, n=0) if first else polygamma_drop(b, a, n=0))

    return derivative


def _taylor_beta(ans, primals, series):
    """B(t) = B(a0, b0) exp(L(t) - L0), L = betaln (its series keeps the gammalns' cancellation whole): the sign
    of B is locally constant."""
    order = S.order_of(series)
    log_series = _taylor_betaln(betaln(*primals), primals, series)
    return S.finish_series(S.exp_series(ans, log_series), ans, order)


beta = elementwise("beta", _float_result(sp.beta), (_beta_derivative(True), _beta_derivative(False)),
                   taylor=_taylor_beta)
beta.__doc__ = ("B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b); d/da = B (digamma(a) - digamma(a + b)) (the "
                 "difference whole: polygamma_drop), d/db alike.")


# rgamma near its zeros x = 0, -1, -2, ...: -rgamma(x) digamma(x) is 0 * inf there, and each nested order
# cancels more (the 3rd derivative at x = -1e-8 was 49% off, float32's at 1e-4 300%). For x < 1/2 the
# derivatives come from the reflection 1 / Gamma(x) = sin(pi x) Gamma(1 - x) / pi instead: Gamma(1 - x) has
# no pole there and sin(pi x) holds the zeros, so neither factor is singular (tests/test_near_branch_points.py).
_REFLECT_BELOW = 0.5


def _sinpi_cospi(x):
    """sin(pi x), cos(pi x), x first reduced by its nearest integer (exact): the zeros stay exact at any x."""
    nearest = rint(x)
    parity = cos(multiply(nearest, math.pi))  # +-1, a constant (rint's derivative is 0)
    reduced = multiply(subtract(x, nearest), math.pi)
    return multiply(parity, sin(reduced)), multiply(parity, cos(reduced))


def _rgamma_split(x):
    """(x < 1/2, x there else 0, x elsewhere else 1): each formula's entries, the others a harmless stand-in."""
    low = less(x, _REFLECT_BELOW)
    return low, where(low, x, 0.0), where(low, 1.0, x)


def _rgamma_derivative(ans, x):
    low, x_low, x_high = _rgamma_split(x)
    sine, cosine = _sinpi_cospi(x_low)
    reflected_x = subtract(1.0, x_low)
    # d/dx [sin(pi x) Gamma(1 - x) / pi] = Gamma(1 - x) (cos(pi x) - sin(pi x) digamma(1 - x) / pi)
    reflected = multiply(gamma(reflected_x),
                         subtract(cosine, multiply(sine, multiply(digamma(reflected_x), 1.0 / math.pi))))
    return where(low, reflected, negative(multiply(ans, digamma(x_high))))


def _taylor_rgamma(ans, x0, xs):
    order = S.order_of([xs])
    low, x_low, x_high = _rgamma_split(x0)
    # away from the zeros: 1/Gamma(x(t)) = ans exp(-(gammaln(x(t)) - gammaln(x0))), Gamma's sign locally constant
    direct = S.exp_series(ans, S.scale(_gammaln_series(x_high, xs, order), -1.0))
    sine, cosine = _sinpi_cospi(x_low)
    sine_series = _sin_cos_series(sine, cosine, S.scale(xs, math.pi))[0]  # of sin(pi x(t))
    reflected_x = subtract(1.0, x_low)
    # Gamma(1 - x(t)) as Gamma(1 - x0) times the series of exp(gammaln(1 - x(t)) - gammaln(1 - x0)), Gamma0
    # multiplied in last: Gamma's own series overflowed next to Gamma0 ~ 1e308 (rgamma' at -170.5 was inf)
    one = ones_like(x_low)
    ratio = S.exp_series(one, _gammaln_series(reflected_x, S.scale(xs, -1.0), order))
    reflected = multiply(S.product(sine, sine_series, one, ratio), multiply(gamma(reflected_x), 1.0 / math.pi))
    return where(low, reflected, direct)


rgamma = elementwise("rgamma", sp.rgamma, (_rgamma_derivative,), taylor=_unary_taylor(_taylor_rgamma))
rgamma.__doc__ = ("1 / Gamma(x), entire: its derivatives come from -rgamma(x) digamma(x) for x >= 1/2 and from the "
                  "reflection sin(pi x) Gamma(1 - x) / pi below, exact at the zeros x = 0, -1, -2, ...")

gammasgn = Primitive("gammasgn", sp.gammasgn, differentiable=False, broadcasts=True)
gammasgn.batch = batch_elementwise(gammasgn)
gammasgn.__doc__ = "The sign of Gamma(x), piecewise constant: its derivative is 0 (as autograd)."

erfcinv = elementwise(
    "erfcinv", sp.erfcinv, (lambda ans, x: multiply(exp(multiply(ans, ans)), -_SQRT_PI_OVER_TWO),),
    taylor=_term_rule(lambda ans, x: _exp_square_ode_terms(ans, x, -_SQRT_PI_OVER_TWO, 1.0)),
)
erfcinv.__doc__ = "The inverse of erfc on (0, 2); derivative -sqrt(pi)/2 exp(ans^2)."


_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)


def _stirling_correction(z):
    """mu(z) = log Gamma(z) - ((z - 1/2) log z - z + log(2 pi) / 2), in float64 (z > 0): its
    asymptotic series for z >= 10, the difference itself below (where it cancels little)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = 1.0 / z
        r2 = r * r  # B_2k / (2k (2k - 1) z^(2k - 1)), k = 1..7: the next term is 3e-17 at z = 10
        series = r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 * (
            1 / 1188 - r2 * (691 / 360360 - r2 / 156))))))
        direct = sp.gammaln(z) - ((z - 0.5) * np.log(z) - z + _HALF_LOG_TWO_PI)
    return np.where(z >= 10.0, series, direct)


def _log1pmx(d, log_ratio):
    """log(1 + d) - d with 1 + d a ratio whose log is ``log_ratio`` (a difference of logs): log1p(d)
    where 1 + d keeps the ratio's digits (above 1/2), and log_ratio nearer 0, where d has lost them to
    rounding (1 + d is 0 for x = 5e-324, a = 10)."""
    return np.where(d > -0.5, np.log1p(d), log_ratio) - d


def _gamma_log_density_impl(a, x):
    """(a - 1) log x - x - gammaln(a), in float64 and without cancelling its O(a log a) terms.

    For a >= 10 it is a (log1p(d) - d) + log(a / x) - log(2 pi a) / 2 - mu(a), with d = (x - a) / a
    and mu Stirling's correction, as Temme writes the incomplete gamma function's prefactor: the three
    big terms cancelled to about eps a log a (4e-7 of the density at a = 1e8 in float64; in float32 at
    a = 1e5 the gradient of gammainc was 12% off, at 1e8 it came out 1.0 for 2.4e-5). The answer is
    cast to the inputs' precision, as scipy's float32 loops compute in double.
    """
    dtype = np.result_type(a, x, 0.0)
    a, x = (backends.asarray(v).astype(np.float64) for v in (a, x))
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = sp.xlogy(a - 1.0, x) - x - sp.gammaln(a)
        big = (a >= 10.0) & (x > 0)
        if not np.any(big):
            return direct.astype(dtype, copy=False)
        log_a, log_x = np.log(a), np.log(x)
        stable = (a * _log1pmx((x - a) / a, log_x - log_a) + 0.5 * log_a - log_x - _HALF_LOG_TWO_PI
                  - _stirling_correction(a))
    return np.where(big, stable, direct).astype(dtype, copy=False)


_gamma_log_density = elementwise(
    "gamma_log_density", _gamma_log_density_impl,
    (lambda ans, a, x: subtract(log(x), digamma(a)), lambda ans, a, x: true_divide(subtract(subtract(a, 1.0), x), x)),
)
_gamma_log_density.__doc__ = ("log(x^(a-1) e^-x / Gamma(a)), the log of d/dx gammainc(a, x), computed without "
                              "cancellation at large a; d/da = log x - digamma(a), d/dx = (a - 1 - x) / x.")


def _gamma_density_impl(a, x):
    """x^(a-1) e^-x / Gamma(a): exp of gamma_log_density for a > 0, rgamma(a) x^(a-1) e^-x (0 at a = 0, -1, ...,
    signed between) for the shifted a <= 0 its derivatives reach; in float64, cast to the inputs' precision."""
    dtype = np.result_type(a, x, 0.0)
    a, x = (backends.asarray(v).astype(np.float64) for v in (a, x))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        positive = np.exp(_gamma_log_density_impl(a, x))
        scale = sp.rgamma(a)
        shifted = np.where(scale == 0, 0.0, scale * np.exp(sp.xlogy(a - 1.0, x) - x))  # a = 0, -1, ...: 0, at x = 0 too
    return np.where(a > 0, positive, shifted).astype(dtype, copy=False)


def _gamma_density_dx(ans, a, x):
    """f_a' = f_a (a - 1 - x) / x, and below x = 1 f_{a-1} - f_a: there the first form's nested derivatives are
    the Bell polynomials of (a - 1) / x, whose terms ((a - 1) / x)^k cancel to the true (a - 1) ... (a - k) / x^k
    (exactly 0 for a natural a <= k: gammainc(2, x)'s 4th derivative at 1e-8 was 6.0 for 3.0). The recurrence
    sums terms of distinct orders in x there; near a big a's mode, where its terms nearly cancel, the first
    form is kept."""
    direct = multiply(ans, true_divide(subtract(subtract(a, 1.0), x), x))
    shifted = subtract(_gamma_density(subtract(a, 1.0), x), ans)
    return where(less(x, 1.0), shifted, direct)


_gamma_density = elementwise("gamma_density", _gamma_density_impl,
                             (_not_in("gamma_density", "a", "gamma_density(a, x)"), _gamma_density_dx))
_gamma_density.__doc__ = "x^(a-1) e^-x / Gamma(a) (d/dx gammainc); d/dx = f_{a-1} - f_a below x = 1, f (a-1-x)/x above."


def _pow_series_of(y0, x0, xs, p):
    """Series of y = x^p for an array p (per entry), y0 = x0^p: k x0 y_k = sum_{j=1..k} (p j - (k - j)) x_j y_{k-j}.
    Along a line x0 + x_1 t it is the one term (p - k + 1) x_1 y_{k-1} / (k x0): no cancellation at small x0."""
    from .shape import getitem, stack

    order = S.order_of((xs,))
    x = [getitem(xs, index=j - 1) for j in range(1, order + 1)]
    y = [y0]
    for k in range(1, order + 1):
        total = None
        for j in range(1, k + 1):
            term = multiply(multiply(subtract(multiply(p, float(j)), float(k - j)), x[j - 1]), y[k - j])
            total = term if total is None else add(total, term)
        y.append(true_divide(total, multiply(x0, float(k))))
    return stack(*y[1:], axis=0)


def _gamma_density_series(a, x0, xs, density0):
    """The series of gammainc's x-derivative: exp of (a - 1) log x - x's series, and below x0 = 1 the product
    of x^(a-1)'s and e^-x's series times 1 / Gamma(a) (exp of a log series cancels there as the nested
    derivatives do; see _gamma_density_dx)."""
    exp_form = S.exp_series(density0, _gamma_exponent_series(a, x0, xs))
    small = less(x0, 1.0)
    if not _may_hold_true(small):
        return exp_form
    x_small = where(small, x0, 0.5)  # the product's branch away from x0 >= 1, where x^(a-1) may overflow
    power0 = power(x_small, subtract(a, 1.0))
    decay0 = exp(negative(x_small))
    product = S.product(power0, _pow_series_of(power0, x_small, xs, subtract(a, 1.0)),
                        decay0, S.exp_series(decay0, negative(xs)))
    return where(small, multiply(product, weak(rgamma(a), a)), exp_form)


def _beta_density_series(a, b, x0, xs, density0):
    """The series of betainc's x-derivative: exp of its exponent's series, and near an end (_near_an_end) the
    product of x^(a-1)'s and (1-x)^(b-1)'s series over B(a, b), as _gamma_density_series."""
    exp_form = S.exp_series(density0, _beta_exponent_series(a, b, x0, xs))
    end = _near_an_end(a, b, x0)
    if not _may_hold_true(end):
        return exp_form
    x_end = where(end, x0, 0.05)  # the product's branch at x0 in range for it
    left0, right0 = power(x_end, subtract(a, 1.0)), power(subtract(1.0, x_end), subtract(b, 1.0))
    product = S.product(left0, _pow_series_of(left0, x_end, xs, subtract(a, 1.0)),
                        right0, _pow_series_of(right0, subtract(1.0, x_end), negative(xs), subtract(b, 1.0)))
    return where(end, multiply(product, weak(exp(negative(betaln(a, b))), a, b)), exp_form)


def _taylor_incomplete(sign, log_density, density_series, refusals):
    """y' = sign exp(w(x)) x' with w = log_density(*constants, x) and exp(w)'s series from
    density_series(*constants, x0, xs, exp(w0)): the x-derivative of the incomplete gamma and beta functions."""

    def rule(ans, primals, series):
        _refuse_series(series[:-1], refusals)
        order = S.order_of(series)
        *constants, x0 = primals
        (x0,), (xs,) = _at_output_shape(ans, (x0,), series[-1:], order)
        density0 = exp(log_density(*constants, x0))
        series = density_series(*constants, x0, xs, density0)
        return S.integrate(xs, multiply(density0, sign), S.scale(series, sign))

    return rule


def _gamma_exponent_series(a, x0, xs):
    """The series of (a - 1) log x - x, as (a - 1 - x0) L + x0 (L - xs / x0) with L that of log x: the
    first coefficients of (a - 1) L and xs nearly cancel at large a (exactly, in the second form)."""
    logs = S.log_series(x0, xs)
    return S.plus(S.times(subtract(subtract(a, 1.0), x0), logs), S.times(x0, S.minus(logs, true_divide(xs, x0))))


def _incomplete_gamma(name, function, sign):
    refuse = _not_in(name, "a", f"{name}(a, x)")
    primitive = elementwise(
        name, _float_result(function),
        (refuse, lambda ans, a, x: multiply(_gamma_density(a, x), sign)),
        taylor=_taylor_incomplete(sign, _gamma_log_density, _gamma_density_series, (refuse,)),
    )
    return primitive


gammainc = _incomplete_gamma("gammainc", sp.gammainc, 1.0)
gammainc.__doc__ = ("The regularized lower incomplete gamma function P(a, x); d/dx = x^(a-1) exp(-x) / Gamma(a). "
                    "Not differentiable in a (a traced a raises).")
gammaincc = _incomplete_gamma("gammaincc", sp.gammaincc, -1.0)
gammaincc.__doc__ = ("The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x); "
                     "d/dx = -x^(a-1) exp(-x) / Gamma(a). Not differentiable in a (a traced a raises).")


def _beta_log_density_impl(a, b, x):
    """(a - 1) log x + (b - 1) log(1 - x) - betaln(a, b), in float64, without cancelling big terms.

    With c = a + b and the mode-like point x0 = a / c, y0 = b / c: a log(x / x0) + b log(y / y0) with
    y = 1 - x is a (log1p(u) - u) + b (log1p(-v) + v) for u = (x - x0) / x0, v = (x - x0) / y0 (a u = b v),
    and log B(a, b) = log(2 pi) / 2 + (a - 1/2) log a + (b - 1/2) log b - (c - 1/2) log c + mu(a) + mu(b)
    - mu(c) (Stirling). The direct form lost eps (a + b): float32's gradient of betainc at a = b = 1e6
    was 2.8% off, float64's 1e-9. The answer is cast to the inputs' precision.
    """
    dtype = np.result_type(a, b, x, 0.0)
    a, b, x = (backends.asarray(v).astype(np.float64) for v in (a, b, x))
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = sp.xlogy(a - 1.0, x) + sp.xlog1py(b - 1.0, -x) - sp.betaln(a, b)
        big = (a + b >= 10.0) & (a > 0) & (b > 0) & (x > 0) & (x < 1)
        if not np.any(big):
            return direct.astype(dtype, copy=False)
        c = a + b
        shift = x - a / c
        log_a, log_b, log_c, log_x, log_y = np.log(a), np.log(b), np.log(c), np.log(x), np.log1p(-x)
        stable = (a * _log1pmx(shift * c / a, log_x - log_a + log_c)
                  + b * _log1pmx(-shift * c / b, log_y - log_b + log_c)
                  + 0.5 * (log_a + log_b - log_c) - _HALF_LOG_TWO_PI
                  - _stirling_correction(a) - _stirling_correction(b) + _stirling_correction(c) - log_x - log_y)
    return np.where(big, stable, direct).astype(dtype, copy=False)


_beta_log_density = elementwise(
    "beta_log_density", _beta_log_density_impl,
    # (betaln's own derivatives: digamma(a) - digamma(a + b) as one drop, which does not cancel at a >> b)
    (lambda ans, a, b, x: subtract(log(x), polygamma_drop(a, b, n=0)),
     lambda ans, a, b, x: subtract(log1p(negative(x)), polygamma_drop(b, a, n=0)),
     lambda ans, a, b, x: subtract(true_divide(subtract(a, 1.0), x), true_divide(subtract(b, 1.0), subtract(1.0, x)))),
)
_beta_log_density.__doc__ = ("log(x^(a-1) (1-x)^(b-1) / B(a, b)), the log of d/dx betainc(a, b, x), computed "
                             "without cancellation at large a + b; d/dx = (a-1)/x - (b-1)/(1-x), "
                             "d/da = log x - d betaln / da.")


def _beta_exponent_series(a, b, x0, xs):
    return S.plus(S.times(subtract(a, 1.0), S.log_series(x0, xs)),
                  S.times(subtract(b, 1.0), S.log_series(subtract(1.0, x0), S.scale(xs, -1.0))))


def _beta_kernel_impl(a, b, x):
    dtype = np.result_type(a, b, x, 0.0)
    a, b, x = (backends.asarray(v).astype(np.float64) for v in (a, b, x))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        kernel = np.exp(sp.xlogy(a - 1.0, x) + sp.xlog1py(b - 1.0, -x))
    return kernel.astype(dtype, copy=False)


# x^(a-1) (1-x)^(b-1), unnormalized: d/dx = (a - 1) kernel(a - 1, b) - (b - 1) kernel(a, b - 1), a sum of terms of
# distinct orders in x and 1 - x at either end of (0, 1), where f ((a - 1)/x - (b - 1)/(1 - x)) nested cancels
_beta_kernel = elementwise(
    "beta_kernel", _beta_kernel_impl,
    (_not_in("beta_kernel", "a", "beta_kernel(a, b, x)"), _not_in("beta_kernel", "b", "beta_kernel(a, b, x)"),
     lambda ans, a, b, x: subtract(multiply(subtract(a, 1.0), _beta_kernel(subtract(a, 1.0), b, x)),
                                   multiply(subtract(b, 1.0), _beta_kernel(a, subtract(b, 1.0), x)))))
_beta_kernel.__doc__ = "x^(a-1) (1-x)^(b-1); d/dx = (a-1) x^(a-2) (1-x)^(b-1) - (b-1) x^(a-1) (1-x)^(b-2)."


def _near_an_end(a, b, x):
    """Where betainc's x-derivative is taken as the kernel over B(a, b): x within 0.1 of 0 or 1 (there the
    density's nested derivatives cancel, see _gamma_density_dx) and a + b <= 50 (the kernel and 1 / B(a, b)
    stay in range; bigger ones are far tails there, whose derivatives do not cancel)."""
    return where(less(add(a, b), 50.0), where(less(x, 0.1), True, greater(x, 0.9)), False)


def _betainc_dx(ans, a, b, x):
    density = exp(_beta_log_density(a, b, x))
    end = _near_an_end(a, b, x)
    if not _may_hold_true(end):
        return density
    return where(end, multiply(_beta_kernel(a, b, x), weak(exp(negative(betaln(a, b))), a, b)), density)


_betainc_refusals = (_not_in("betainc", "a", "betainc(a, b, x)"), _not_in("betainc", "b", "betainc(a, b, x)"))
betainc = elementwise(
    "betainc", _float_result(sp.betainc),
    _betainc_refusals + (_betainc_dx,),
    taylor=_taylor_incomplete(1.0, _beta_log_density, _beta_density_series, _betainc_refusals),
)
betainc.__doc__ = ("The regularized incomplete beta function I_x(a, b); d/dx = x^(a-1) (1-x)^(b-1) / B(a, b). "
                   "Not differentiable in a or b (a traced a or b raises).")

_LOG_PI = math.log(math.pi)


def _every_value(x):
    """The plain values under any tracers (a batched value: all its members, stacked)."""
    while isinstance(x, Tracer):
        x = x.value if isinstance(x, BatchTracer) else x.primal
    return x


def multigammaln(a, d):
    """log of the multivariate gamma function of dimension ``d`` (a static positive int):
    d (d - 1) / 4 log(pi) + sum_{j=0}^{d-1} gammaln(a - j / 2), for a > (d - 1) / 2 (else ValueError,
    as scipy). Same shape as a; derivative sum_j digamma(a - j / 2)."""
    if hasattr(d, "_trace") or np.ndim(d) or float(d) != int(d) or int(d) < 1:
        raise ValueError("multigammaln: d should be a positive integer (dimension), a static Python int")
    d = int(d)
    if np.any(np.asarray(_every_value(a)) <= 0.5 * (d - 1)):
        raise ValueError(f"multigammaln: condition a > 0.5 * (d-1) ({0.5 * (d - 1)}) not met")
    out = gammaln(a)
    for j in range(1, d):
        out = add(out, gammaln(subtract(a, 0.5 * j)))
    return add(out, d * (d - 1) * 0.25 * _LOG_PI)


# --------------------------------------------------------------- modified Bessel functions

def _iv_impl(x, v):
    if v == 0:
        return sp.i0(x)
    if v == 1:
        return sp.i1(x)
    return _float_result(sp.iv)(v, x)


def _ive_impl(x, v):
    if v == 0:
        return sp.i0e(x)
    if v == 1:
        return sp.i1e(x)
    # scipy's ive (AMOS) gives nan from |x| ~ 2e9 (i0e and i1e do not): the asymptotic series is exact there
    far = np.abs(x) >= 1e9
    return _piecewise((x,), [(~far, lambda x: _float_result(sp.ive)(v, x), (0.0,)),
                             (far, lambda x: _as_dtype(_ive_far(_widened(x), float(v), 0), np.result_type(x, 0.0)),
                              (1e9,))])


def _bessel_derivative_coefficients(function, ans, x0, v, order, parity=1):
    """[f(x0), f'(x0)/1!, ..., f^(K)(x0)/K!] for a Bessel family f_v = function(x, v=v).

    parity=1, f = I_v:        I_v^(n) = 2^-n sum_k C(n, k) I_{v-n+2k}        (from I_v' = (I_{v-1} + I_{v+1})/2);
    parity=-1, f = J_v, Y_v:  f_v^(n) = 2^-n sum_k (-1)^k C(n, k) f_{v-n+2k}  (from f_v' = (f_{v-1} - f_{v+1})/2).
    """
    cache = {v: ans}

    def at(order_v):
        if order_v not in cache:
            cache[order_v] = function(x0, v=order_v)
        return cache[order_v]

    coefficients = [ans]
    for n in range(1, order + 1):
        acc = None
        for k in range(n + 1):
            acc = S.t_add(acc, S.t_scale(at(v - n + 2 * k), math.comb(n, k) * parity ** k))
        coefficients.append(S.t_scale(acc, 1.0 / (2.0 ** n * math.factorial(n))))
    return coefficients


iv = Primitive(
    "iv", _iv_impl,
    vjp=(lambda g, ans, x, v: multiply(g, multiply(add(iv(x, v=v - 1), iv(x, v=v + 1)), 0.5)),),
    jvp=(lambda t, ans, x, v: multiply(t, multiply(add(iv(x, v=v - 1), iv(x, v=v + 1)), 0.5)),),
    taylor=_unary_taylor(lambda ans, x0, xs, v: S.compose(
        x0, xs, _bessel_derivative_coefficients(iv, ans, x0, v, S.order_of([xs])))),
    broadcasts=True,
)
iv.batch = batch_elementwise(iv)
iv.__doc__ = "The modified Bessel function I_v(x) of static real order ``v``; I_v' = (I_{v-1} + I_{v+1}) / 2."


# ive's n-th derivative by region. ive_v(x) = exp(-|x|) I_v(x) decays like (2 pi |x|)^-1/2, and its derivatives
# like |x|^(-1/2-n), but the textbook rule (ive_{v-1} + ive_{v+1}) / 2 - sign(x) ive_v, nested n times, is a 2n-th
# difference in the order v of terms near ive_v itself: it keeps ~|x|^-n of their digits (grad(i0e)(1e8) 2e-8 off,
# the 2nd derivative 330% off, the 4th 1e16 times). tests/test_ive.py checks each region against mpmath.
_IVE_TOLERANCE = 1e-17


def _ive_far_ratio(v, n, k):
    """t_{k+1} / t_k times x: DLMF 10.40.1's terms a_k(v) x^-k, differentiated n times."""
    return -(4.0 * v * v - (2 * k + 1) ** 2) / (8.0 * (k + 1)) * (k + n + 0.5) / (k + 0.5)


def _ive_far_terms(v, n, x):
    """How many terms after the first take the series at x > 0 to a relative 1e-17, or None where it
    diverges first (or its terms are 10x its sum: cancellation). Where it converges at x it converges
    at every larger x, each term being smaller there."""
    # the series leaves out a term ~exp(-2x) whose n-th derivative, against the n-th derivative's own
    # size ~(1/2)_n x^-n, is (2x)^n exp(-2x) / (1/2)_n (it decides half-integer v, whose series ends)
    if n * math.log(2.0 * x) - 2.0 * x - math.lgamma(n + 0.5) + math.lgamma(0.5) > math.log(_IVE_TOLERANCE):
        return None
    term = total = biggest = 1.0
    for k in range(400):
        step = _ive_far_ratio(v, n, k) / x
        if abs(step) >= 1.0:
            return None
        term *= step
        total += term
        biggest = max(biggest, abs(term))
        if abs(term) <= _IVE_TOLERANCE * abs(total):
            return k + 1 if biggest <= 10.0 * abs(total) else None
    return None


@functools.lru_cache(maxsize=None)
def _ive_far_switch(v, n):
    """The least x (to 5%) from which ive_v's n-th derivative is its asymptotic series (19 for v = 0 and
    n = 0, 21 for the first derivative, 31 for the 8th; 76 for v = 3's 8th), and the terms needed there."""
    x = 8.0
    while _ive_far_terms(v, n, x) is None:
        x *= 1.05
    return x, _ive_far_terms(v, n, x)


def _ive_far(x, v, n):
    """ive_v^(n)(x) for |x| >= the switch: (-1)^n (2 pi)^-1/2 sum_k (-1)^k a_k(v) (k + 1/2)_n |x|^(-k-n-1/2),
    a_k(v) = prod_{j<=k} (4v^2 - (2j-1)^2) / (8j), with the parity (-1)^(v+n) of integer v where x < 0 (an
    exponentially small e^-2|x| term is left out: below 1e-17 above the switch). As many terms as the
    least |x| needs (numpy; the switch's count elsewhere)."""
    u = np.abs(x)
    terms = _ive_far_switch(v, n)[1]
    if backends.backend_name(u) == "numpy" and np.size(u):
        terms = _ive_far_terms(v, n, float(np.min(u))) or terms
    w = 1.0 / u
    term = (-1.0) ** n * math.prod(0.5 + i for i in range(n)) / math.sqrt(2.0 * math.pi) * np.sqrt(w) * w ** n
    total = term
    for k in range(terms):
        term = term * (_ive_far_ratio(v, n, k) * w)
        total = total + term
    if not float(v).is_integer():  # I_v of a negative x is complex
        total = np.where(x < 0, np.nan, total)
    elif (int(v) + n) % 2:
        total = np.where(x < 0, -total, total)
    return total


def _ive_difference(x, v, n):
    """ive_v^(n)(x) = 2^-n sum_m (-s)^m C(2n, m) ive_{v-n+m}(x), s = sign(x) (from ive' = (ive_{v-1} +
    ive_{v+1}) / 2 - s ive_v); at x = 0, where |x| has a kink, s = 0: 2^-n sum_k C(n, k) ive_{v-n+2k}(0).
    Exact to rounding at small |x|; it loses ~|x|^n of its digits (5e-13 at n = 2 below the switch)."""
    s = np.sign(x)
    values = {}  # I_{-k} = I_k for integer k: each order once, 0 and 1 by scipy's faster i0e and i1e
    out = 0.0
    for m in range(2 * n + 1):
        weight = math.comb(2 * n, m) * (-s) ** m
        if m % 2 == 0:  # at s = 0 the even terms are C(n, m / 2), the odd ones vanish
            weight = np.where(s == 0, math.comb(n, m // 2), weight)
        order = v - n + m
        order = abs(order) if float(order).is_integer() else order
        if order not in values:
            values[order] = _ive_impl(x, order)
        out = out + weight * values[order]
    return out / 2.0 ** n


def _ive_quadrature(x, v, n):
    """ive_v^(n)(x) for integer v, 0 < |x| below the switch: (-1)^n / pi int_0^pi (1 - cos t)^n
    exp(-|x|(1 - cos t)) cos(v t) dt, times the parity (-1)^(v+n) where x < 0. The integrand is smooth and
    periodic, so the trapezoidal rule converges geometrically; its nodes grow with the switch, n and v
    (aliasing falls below 1e-16 against mpmath over every tested v, n)."""
    switch = _ive_far_switch(v, n)[0]
    nodes = math.ceil(0.6 * switch) + n + abs(int(v)) + 20
    theta = np.arange(nodes + 1) * (math.pi / nodes)
    drop = 1.0 - np.cos(theta)
    weights = np.full(nodes + 1, 1.0 / nodes)
    weights[[0, -1]] = 0.5 / nodes
    weights *= drop ** n * np.cos(v * theta) * (-1.0) ** n
    u = np.abs(x)
    total = 0.0
    for weight, d in zip(weights.tolist(), drop.tolist()):
        total = total + weight * np.exp(-d * u)
    if (int(v) + n) % 2:
        total = np.where(x < 0, -total, total)
    return total


def _ive_derivative_impl(x, v, n):
    """d^n/dx^n ive_v(x), n >= 1, in float64 by region of |x|: the asymptotic series above
    ``_ive_far_switch``; below it, for integer v and n >= 3, the trapezoidal quadrature of ive's integral
    from |x| = v/2 up, where ive_v(x) >= 1e-8; the difference of orders everywhere else (it keeps all but
    ~1e-12 for n <= 2 below the switch, and is exact to rounding where |x| < v/2: its terms fall off there,
    while the quadrature's rounding, absolute, swamps a derivative as small as x^(v-n); 1e19 times it at
    v = 7, x = 1e-8)."""
    dtype = np.result_type(x, 0.0)
    x = _widened(x)
    switch = _ive_far_switch(float(v), n)[0]
    far = np.abs(x) >= switch
    if float(v).is_integer() and n >= 3:
        # x = 0, the kink, takes the difference's s = 0. Where ive itself is below 1e-8 (|x| up to ~v^2/36) the
        # quadrature's absolute rounding, ~1e-23, swamps the derivative (the 3rd of ive(100, x) at 60 was 3.3e9
        # times off), while the difference keeps ~1e-12 there.
        small = (np.abs(x) < abs(float(v)) / 2.0) | (x == 0) | (sp.ive(float(v), np.abs(x)) < 1e-8)
        pieces = [(small, lambda x: _ive_difference(x, v, n), (0.0,)),
                  (~far & ~small, lambda x: _ive_quadrature(x, v, n), (1.0,))]
    else:
        pieces = [(~far, lambda x: _ive_difference(x, v, n), (0.0,))]
    pieces.append((far, lambda x: _ive_far(x, float(v), n), (switch,)))
    return _as_dtype(_piecewise((x,), pieces), dtype)


def _ive_series(ans, x0, xs, v, first=0):
    """The series of ive_v's first-th derivative (ans at x0) along x(t)."""
    return _series_from_derivatives(ans, x0, xs, lambda j: ive_derivative(x0, v=v, n=first + j))


ive = Primitive(
    "ive", _ive_impl,
    vjp=(lambda g, ans, x, v: multiply(g, ive_derivative(x, v=v, n=1)),),
    jvp=(lambda t, ans, x, v: multiply(t, ive_derivative(x, v=v, n=1)),),
    taylor=_unary_taylor(lambda ans, x0, xs, v: _ive_series(ans, x0, xs, v)), broadcasts=True,
)
ive_derivative = Primitive(
    "ive_derivative", _ive_derivative_impl,
    vjp=(_next_order("ive_derivative"),), jvp=(_next_order("ive_derivative"),),
    taylor=_unary_taylor(lambda ans, x0, xs, v, n: _ive_series(ans, x0, xs, v, first=n)), broadcasts=True,
)
ive_derivative.batch = batch_elementwise(ive_derivative)
ive_derivative.__doc__ = """The n-th derivative of ive_v at x (static v and n >= 1), accurate where the nested
rule cancels (large |x|); d/dx is ive_derivative(x, v, n + 1)."""
ive.batch = batch_elementwise(ive)
ive.__doc__ = "exp(-|x|) I_v(x), the exponentially scaled Bessel function (no overflow for large x)."


def i0(x):
    """I_0(x)."""
    return iv(x, v=0)


def i1(x):
    """I_1(x); its derivative (I_0 + I_2)/2 is exact at x = 0 to every order."""
    return iv(x, v=1)


def i0e(x):
    """exp(-|x|) I_0(x)."""
    return ive(x, v=0)


def i1e(x):
    """exp(-|x|) I_1(x)."""
    return ive(x, v=1)


# --------------------------------------------------------------- Bessel functions of the first and second kind

def _reflected(function, x, v):
    """f_v(x) for an integer order v < 0 from f_{-v}: J_{-n} = (-1)^n J_n and Y_{-n} = (-1)^n Y_n."""
    out = function(x, -v)
    return np.negative(out) if v % 2 else out


def _jv_impl(x, v):
    if isinstance(v, int) and v < 0:
        return _reflected(_jv_impl, x, v)
    if v == 0:
        return sp.j0(x)
    if v == 1:
        return sp.j1(x)
    return _float_result(sp.jv)(v, x)


def _yv_impl(x, v):
    if isinstance(v, int) and v < 0:
        return _reflected(_yv_impl, x, v)
    if v == 0:
        return sp.y0(x)
    if v == 1:
        return sp.y1(x)
    if isinstance(v, int):
        return _float_result(sp.yn)(v, x)  # scipy's yn takes its int loop to float64: keep float32
    return _float_result(sp.yv)(v, x)


def _cylinder_derivative(function, x, v):
    """d/dx f_v(x) = (f_{v-1}(x) - f_{v+1}(x)) / 2 for f = J, Y; at v = 0 exactly -f_1(x)."""
    if v == 0:
        return negative(function(x, v=1))
    return multiply(subtract(function(x, v=v - 1), function(x, v=v + 1)), 0.5)


def _cylinder_bessel(name, impl, doc):
    primitive = Primitive(
        name, impl,
        vjp=(lambda g, ans, x, v: multiply(g, _cylinder_derivative(primitive, x, v)),),
        jvp=(lambda t, ans, x, v: multiply(t, _cylinder_derivative(primitive, x, v)),),
        taylor=_unary_taylor(lambda ans, x0, xs, v: S.compose(
            x0, xs, _bessel_derivative_coefficients(primitive, ans, x0, v, S.order_of([xs]), parity=-1))),
        broadcasts=True,
    )
    primitive.batch = batch_elementwise(primitive)
    primitive.__doc__ = doc
    return primitive


jv = _cylinder_bessel(
    "jv", _jv_impl,
    "The Bessel function of the first kind J_v(x) of static real order ``v`` (elementwise, x's shape and "
    "float dtype); J_v' = (J_{v-1} - J_{v+1}) / 2. Integer orders use scipy's j0, j1, and J_{-n} = (-1)^n J_n.")
yv = _cylinder_bessel(
    "yv", _yv_impl,
    "The Bessel function of the second kind Y_v(x) of static real order ``v`` (elementwise, x's shape and "
    "float dtype; nan for x < 0); Y_v' = (Y_{v-1} - Y_{v+1}) / 2. Integer orders use scipy's y0, y1, yn.")


def j0(x):
    """J_0(x); its derivative is -J_1(x)."""
    return jv(x, v=0)


def j1(x):
    """J_1(x); its derivative is (J_0(x) - J_2(x)) / 2."""
    return jv(x, v=1)


def y0(x):
    """Y_0(x) (x > 0); its derivative is -Y_1(x)."""
    return yv(x, v=0)


def y1(x):
    """Y_1(x) (x > 0); its derivative is (Y_0(x) - Y_2(x)) / 2."""
    return yv(x, v=1)


def _static_order(v, name, argument="v"):
    if hasattr(v, "_trace") or np.ndim(v):
        raise TypeError(f"{name}: the order {argument} must be a Python number "
                        f"(hodiff does not differentiate in {argument})")
    return float(v) if not float(v).is_integer() else int(v)


# --------------------------------------------------------------- x log y

def _taylor_xlogy(log_of):
    """x(t) log(y(t)) (or log1p): the Cauchy product of x's series with log y's."""

    def rule(ans, primals, series):
        (x0, y0), (xs, ys) = primals, series
        log_y0, log_ys = log_of(y0, ys)
        log_y0 = weak(log_y0, y0)  # y a Python float: log y too
        out = S.finish_series(S.product(x0, xs, log_y0, log_ys), ans, S.order_of(series))
        if xs is None:  # x constant: where it is 0 the function is 0 along the path (not 0 * inf = nan)
            out = where(equal(x0, 0), zeros_like(out), out)
        return out

    return rule


def _x_over(x, y):
    """x / y, and 0 where x = y = 0: the d/dy of x log y with xlogy's 0 log 0 = 0.

    Guarded only where both are 0: a guard at x = 0 alone would make this rule
    constant in x there and lose d2/dxdy (x log y) = 1 / y (found by the fuzzer).
    """
    return true_divide(x, where(equal(y, 0), where(equal(x, 0), 1.0, y), y))


xlogy = elementwise(
    "xlogy", _float_result(sp.xlogy), (lambda ans, x, y: log(y), lambda ans, x, y: _x_over(x, y)),
    taylor=_taylor_xlogy(lambda y0, ys: (log(y0), S.log_series(y0, ys))),
)
xlogy.__doc__ = "x log(y), 0 where x = 0; d/dx = log y, d/dy = x / y (0 where x = 0), as JAX."

xlog1py = elementwise(
    "xlog1py", _float_result(sp.xlog1py), (lambda ans, x, y: log1p(y), lambda ans, x, y: _x_over(x, add(y, 1.0))),
    taylor=_taylor_xlogy(lambda y0, ys: (log1p(y0), S.log_series(add(y0, 1.0), ys))),
)
xlog1py.__doc__ = "x log(1 + y), 0 where x = 0; d/dx = log1p(y), d/dy = x / (1 + y)."


# --------------------------------------------------------------- logsumexp (a reduction)

def _normalize_axis(axis, ndim):
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normalized = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise np.exceptions.AxisError(a, ndim)
        normalized.append(int(a) % max(ndim, 1))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(normalized))


def _logsumexp_impl(x, axis=None, keepdims=False):
    x = backends.asarray(x)
    if not np.issubdtype(x.dtype, np.inexact):
        x = x.astype(np.float64)
    if x.size == 0:
        return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))
    # (the shift's zero may differ in sign from np.max's, which changes no bit of the result)
    shift = reduce_short_last_axis(np.maximum, x, axis, True)
    shift = np.max(x, axis=axis, keepdims=True) if shift is None else shift
    shift = np.where(np.isfinite(shift), shift, 0)  # all -inf (or an inf): no shift
    exps = np.exp(x - shift)
    total = reduce_short_last_axis(np.add, exps, axis, True)
    total = np.sum(exps, axis=axis, keepdims=True) if total is None else total
    with np.errstate(divide="ignore"):
        out = np.log(total) + shift
    if not keepdims:
        out = np.reshape(out, [n for i, n in enumerate(x.shape) if axis is not None and i not in axis])
    return out


def _with_kept_dims(value, x, axis, keepdims):
    """A reduced value reshaped to broadcast against x (reduced axes kept with length 1)."""
    if keepdims:
        return value
    if axis is None:
        return reshape(value, shape=(1,) * ndim_of(x))
    return expand_dims(value, axis)


def _taylor_logsumexp(ans, primals, series, axis=None, keepdims=False):
    """y(t) = c(t) + log(sum(exp(x(t) - c(t)))) with c(t) the series of the largest entry.

    Shifting by the pivot's whole series (not only its value) keeps every exp
    series small: the pivot's own is exactly 1 and the others grow like
    the differences of slopes. (Shifting by y0 alone summed exp series that grow
    like x_1^k and took their log, cancelling them: logsumexp([50 + 215 t, t])
    came out -24 at order 4 in float32 and lost every digit of e^-50 215^k / k!
    in float64.) Tied maxima share the pivot: c is their mean.
    """
    x0, x_series = primals[0], series[0]
    if x_series is None:
        return None
    pivot_series, log_part = _logsumexp_series_parts(x0, x_series, axis)
    return reshape(add(pivot_series, log_part), shape=(shape_of(x_series)[0],) + tuple(shape_of(ans)))


def _logsumexp_series_parts(x0, x_series, axis):
    """(c, l): logsumexp's series as the pivot's series c plus the log of the shifted sum l, both with kept
    dims; x_series - c is exactly 0 at the pivot, so log_softmax's series is (x - c) - l, not x - (c + l),
    whose first coefficient rounded to 0 at a dominant entry (softmax's Taylor rate at [50, -50, 0])."""
    from .reductions import amax

    series_axes = shift_axis(axis, ndim_of(x0))
    top = amax(x0, axis=axis, keepdims=True)
    top = where(isfinite(top), top, 0.0)  # all -inf (or an inf): nan coefficients, as before
    pivots = where(equal(x0, top), full_like(x0, 1.0), full_like(x0, 0.0))  # in x's precision
    count = _sum(pivots, axis=axis, keepdims=True)
    count = where(greater(count, 0.0), count, 1.0)
    pivot_series = true_divide(_sum(multiply(x_series, pivots), axis=series_axes, keepdims=True), count)
    weights0 = exp(subtract(x0, top))
    totals = _sum(S.exp_series(weights0, subtract(x_series, pivot_series)), axis=series_axes, keepdims=True)
    return pivot_series, S.log_series(_sum(weights0, axis=axis, keepdims=True), totals)


def _logsumexp_jvp(t, ans, x, axis=None, keepdims=False):
    p = _weights(x, _with_kept_dims(ans, x, axis, keepdims), axis)
    return _about_the_pivot(t, p, x, axis, keepdims)


def _pivot_rate(t, x, axis):
    """The mean of t over x's largest entries along axis (kept dims); 0 where those are not finite."""
    from .reductions import amax

    top = amax(x, axis=axis, keepdims=True)
    pivots = where(equal(x, top), full_like(x, 1.0), full_like(x, 0.0))
    count = _sum(pivots, axis=axis, keepdims=True)
    count = where(greater(count, 0.0), count, 1.0)
    pivot_rate = true_divide(_sum(multiply(t, pivots), axis=axis, keepdims=True), count)
    return where(isfinite(top), pivot_rate, 0.0)  # all -inf (or an inf): sum(t p) as before


def _about_the_pivot(t, p, x, axis, keepdims):
    """sum(t p) for weights p summing to 1, written as c + sum((t - c) p), c the rate of x's largest entries
    (their mean): the same number, but the nested derivatives of it are moments of t about the dominant
    entry's rate, not raw moments that cancel (nested order 4 of logsumexp([10x, 12x + 1, x]) lost 1.7e-10;
    a steep fuzz case, seed 421908, 1e-5, where Taylor mode matched mpmath to 1e-14)."""
    pivot_rate = _pivot_rate(t, x, axis)
    rest = _sum(multiply(subtract(t, pivot_rate), p), axis=axis, keepdims=keepdims)
    return add(rest, _sum(pivot_rate, axis=axis, keepdims=keepdims))  # (summing over its length-1 axes)


def _softmax_weights_impl(x, lse, axis=None):
    return np.exp(np.subtract(x, lse))


def _weights(x, lse, axis):
    """softmax_weights for the rules: lse guarded to 0 where it is not finite, so a row of -inf has weights 0
    (its gradient through logsumexp 0, not nan), as _softmax_of's were."""
    return softmax_weights(x, where(isfinite(lse), lse, 0.0), axis=axis)


def _centred(t, p, x, axis):
    """t - sum(t p) (log_softmax's JVP) as (t - c) - sum((t - c) p), c the rate of x's largest entry: at a dominant
    entry it is exactly -sum_{j != 0} (t_j - t_0) p_j, where t_0 - sum(t p) rounded to 0."""
    about = subtract(t, _pivot_rate(t, x, axis))
    return subtract(about, _sum(multiply(about, p), axis=axis, keepdims=True))


def _softmax_weights_rule(t, ans, x, lse, axis=None):
    """p (t - sum(t p)), the JVP and (the Jacobian diag(p) - p p^T being symmetric) the VJP, centred: p0 (1 - p0)
    of a dominant entry is then p0 sum_{j != 0} p_j, not p0 - p0^2, which rounds to 0 (the Hessian of logsumexp
    at [0, -40] was 0 for 4.2e-18)."""
    return multiply(ans, _centred(t, ans, x, axis))


def _log_softmax_series(x0, x_series, axis):
    pivot_series, log_part = _logsumexp_series_parts(x0, x_series, axis)
    return subtract(subtract(x_series, pivot_series), log_part)


def _taylor_softmax_weights(ans, primals, series, axis=None):
    x0, x_series = primals[0], series[0]
    if x_series is None:
        return None
    return S.exp_series(ans, _log_softmax_series(x0, x_series, axis))


def _batch_with_lse(primitive):
    """The batch rule of a primitive of (x, lse) along axis: an unbatched one gets a leading axis of 1."""
    def rule(values, batched, axis=None):
        x, lse = (v if is_batched else expand_dims(v, 0) for v, is_batched in zip(values, batched))
        return primitive(x, lse, axis=shift_axis(axis, ndim_of(x) - (1 if batched[0] else 0)))

    return rule


# exp(x - lse) with lse = logsumexp(x, axis, keepdims=True) given, not differentiated: the rules are x's
# whole derivative (the composition's t - d lse cancelled at a dominant entry)
softmax_weights = Primitive("softmax_weights", _softmax_weights_impl, vjp=(_softmax_weights_rule, None),
                            jvp=(_softmax_weights_rule, None), taylor=_taylor_softmax_weights)
softmax_weights.batch = _batch_with_lse(softmax_weights)
softmax_weights.__doc__ = ("softmax(x) along axis as exp(x - lse), lse = logsumexp(x, axis, keepdims=True) passed in "
                           "(a value only); derivative p ((t - c) - sum((t - c) p)), c the largest entry's rate.")


def _log_softmax_jvp(t, ans, x, lse, axis=None):
    """t - d lse, centred (d/dz_y of log_softmax(z)[y] at a confident y rounded to 0)."""
    return _centred(t, _weights(x, lse, axis), x, axis)


def _log_softmax_vjp(g, ans, x, lse, axis=None):
    """g - p sum(g), and at an entry with p > 1/2 (one per line at most) g (1 - p) - p sum_{j != i} g_j with
    1 - p the sum of the other p_j: -log_softmax(z)[y]'s gradient -(1 - p_y) rounded to 0 at a confident y."""
    p = _weights(x, lse, axis)
    dominant = greater(p, 0.5)
    others_p = _sum(where(dominant, 0.0, p), axis=axis, keepdims=True)
    others_g = _sum(where(dominant, 0.0, g), axis=axis, keepdims=True)
    total_g = _sum(g, axis=axis, keepdims=True)
    return where(dominant, subtract(multiply(g, others_p), multiply(p, others_g)), subtract(g, multiply(p, total_g)))


def _taylor_log_softmax(ans, primals, series, axis=None):
    x0, x_series = primals[0], series[0]
    if x_series is None:
        return None
    return _log_softmax_series(x0, x_series, axis)


log_softmax_p = Primitive("log_softmax", lambda x, lse, axis=None: np.subtract(x, lse),
                          vjp=(_log_softmax_vjp, None), jvp=(_log_softmax_jvp, None), taylor=_taylor_log_softmax)
log_softmax_p.batch = _batch_with_lse(log_softmax_p)
log_softmax_p.__doc__ = ("x - lse along axis, lse = logsumexp(x, axis, keepdims=True) passed in (a value only); "
                         "its rules are x's whole derivative, about the dominant entry.")


logsumexp_p = Primitive(
    "logsumexp", _logsumexp_impl,
    vjp=(lambda g, ans, x, axis=None, keepdims=False: multiply(
        _with_kept_dims(g, x, axis, keepdims),
        _weights(x, _with_kept_dims(ans, x, axis, keepdims), axis)),),
    jvp=(_logsumexp_jvp,),
    batch=lambda values, batched, axis=None, keepdims=False: logsumexp_p(
        values[0], axis=shift_axis(axis, ndim_of(values[0]) - 1), keepdims=keepdims),
    taylor=_taylor_logsumexp,
)
logsumexp_p.__doc__ = "log(sum(exp(x), axis)) as one primitive: stable, VJP g * softmax(x), stable Taylor rule."


# ------------------------------------------- weighted logsumexp: log(sum(b exp(a)))

def _weighted_logsumexp_impl(a, b, axis=None, keepdims=False):
    a, b = backends.asarray(a), backends.asarray(b)
    dtype = np.result_type(a, b)
    dtype = dtype if np.issubdtype(dtype, np.inexact) else np.float64
    a, b = a.astype(dtype, copy=False), b.astype(dtype, copy=False)
    # Shift by the largest a that carries weight: an entry with b = 0 adds nothing, however large its a.
    if a.size == 0:
        with np.errstate(divide="ignore"):
            return np.log(np.sum(b * np.exp(a), axis=axis, keepdims=keepdims))
    weighted = b != 0
    shift = np.max(np.where(weighted, a, -np.inf), axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0)
    with np.errstate(over="ignore", invalid="ignore"):
        terms = np.where(weighted, b * np.exp(a - shift), 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (np.log(np.sum(terms, axis=axis, keepdims=True)) + shift).astype(dtype, copy=False)
    if not keepdims:
        out = np.reshape(out, [n for i, n in enumerate(a.shape) if axis is not None and i not in axis])
    return out


def _weights_of(ans, a, axis, keepdims):
    """exp(a - y): d y / d b, with y = log(sum(b exp(a))) kept to broadcast against a (no 1/b anywhere)."""
    return exp(subtract(a, _with_kept_dims(ans, a, axis, keepdims)))


def _taylor_weighted_logsumexp(ans, primals, series, axis=None, keepdims=False):
    """y(t) = c(t) + log(sum(b(t) exp(a(t) - c(t)))), c the series of the largest weighted a (as logsumexp's)."""
    from .reductions import amax

    (a0, b0), (a_series, b_series) = primals, series
    if a_series is None and b_series is None:
        return None
    order = S.order_of(series)
    series_axes = shift_axis(axis, ndim_of(a0))
    candidates = where(equal(b0, 0.0), -np.inf, a0)
    top = amax(candidates, axis=axis, keepdims=True)
    top = where(isfinite(top), top, 0.0)
    pivot_series = None
    if a_series is not None:
        pivots = where(equal(candidates, top), full_like(a0, 1.0), full_like(a0, 0.0))
        count = _sum(pivots, axis=axis, keepdims=True)
        count = where(greater(count, 0.0), count, 1.0)
        pivot_series = true_divide(_sum(multiply(a_series, pivots), axis=series_axes, keepdims=True), count)
    exps0 = exp(subtract(a0, top))
    exps_series = S.exp_series(exps0, S.minus(a_series, pivot_series))
    term_series = S.product(b0, b_series, exps0, exps_series)
    total0 = _sum(multiply(b0, exps0), axis=axis, keepdims=True)
    totals = _sum(S.finish_series(term_series, a0, order), axis=series_axes, keepdims=True)
    result = S.plus(pivot_series, S.log_series(total0, totals))
    return reshape(result, shape=(order,) + tuple(shape_of(ans)))


def _weighted_logsumexp_batch(values, batched, axis=None, keepdims=False):
    from .reductions import broadcast_like

    shape = shape_of(values[0] if batched[0] else values[1])
    a, b = (v if is_batched else broadcast_like(reshape(v, shape=(1,) + tuple(shape_of(v))), shape)
            for v, is_batched in zip(values, batched))
    return weighted_logsumexp_p(a, b, axis=shift_axis(axis, len(shape) - 1), keepdims=keepdims)


weighted_logsumexp_p = Primitive(
    "weighted_logsumexp", _weighted_logsumexp_impl,
    vjp=(lambda g, ans, a, b, axis=None, keepdims=False: multiply(
            _with_kept_dims(g, a, axis, keepdims), multiply(b, _weights_of(ans, a, axis, keepdims))),
         lambda g, ans, a, b, axis=None, keepdims=False: multiply(
            _with_kept_dims(g, a, axis, keepdims), _weights_of(ans, a, axis, keepdims))),
    jvp=(lambda t, ans, a, b, axis=None, keepdims=False: _about_the_pivot(
            t, multiply(b, _weights_of(ans, a, axis, keepdims)), where(equal(b, 0.0), -np.inf, a), axis, keepdims),
         lambda t, ans, a, b, axis=None, keepdims=False: _sum(
            multiply(t, _weights_of(ans, a, axis, keepdims)), axis=axis, keepdims=keepdims)),
    batch=_weighted_logsumexp_batch,
    taylor=_taylor_weighted_logsumexp,
)
weighted_logsumexp_p.__doc__ = (
    "log(sum(b exp(a), axis)) for a and b of one shape: stable; d/da = b exp(a - y), d/db = exp(a - y).")


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """scipy.special.logsumexp: log(sum(b * exp(a), axis)), computed without overflow.

    a: array; axis: None (all entries), an int or a tuple of ints;
    b: optional non-negative weights broadcastable against a (entries with
    b = 0 add nothing; the derivative in b is exp(a - result) there too);
    keepdims as numpy; ``return_sign=True``: (log|sum(b exp(a))|, its sign), b of any sign (scipy's). The result has a's
    shape without the reduced axes (kept with length 1 when keepdims).
    Derivative: g * softmax(a) along the reduced axes.

    >>> import hodiff as hd, hodiff.scipy.special as hsp
    >>> float(hsp.logsumexp([1000.0, 1000.0]))  # no overflow
    1000.6931471805599
    """
    if isinstance(a, (list, tuple)):
        a = np.asarray(a)
    if return_sign:
        return _signed_logsumexp(a, axis, b, keepdims)
    if _is_complex(a):
        raise TypeError("logsumexp: complex input is not supported by hodiff")
    if b is not None:
        # One primitive in (a, b), not logsumexp(a + log b): log's 1/b made nested derivatives in b
        # cancel terms of size 1/b^k (3rd derivative 431 for 0.008 at b = 1e-10) and nan at b = 0.
        from .shape import broadcast_to

        b = np.asarray(b) if isinstance(b, (list, tuple)) else b
        # a Python number is weak (NEP 50) beside the other's array: give it that dtype before broadcasting
        if type(a) in (int, float, bool):
            a = np.asarray(a, dtype=np.result_type(a, dtype_of(b)))
        if type(b) in (int, float, bool):
            b = np.asarray(b, dtype=np.result_type(b, dtype_of(a)))
        shape = np.broadcast_shapes(tuple(shape_of(a)), tuple(shape_of(b)))
        a, b = (v if tuple(shape_of(v)) == shape else broadcast_to(v, shape=shape) for v in (a, b))
        return weighted_logsumexp_p(a, b, axis=_normalize_axis(axis, len(shape)), keepdims=bool(keepdims))
    return logsumexp_p(a, axis=_normalize_axis(axis, ndim_of(a)), keepdims=bool(keepdims))


def _signed_logsumexp(a, axis, b, keepdims):
    """scipy's return_sign=True: (log|s|, sign(s)) for s = sum(b exp(a)), whose weights may be negative.

    With the shift m (the largest a), log|s| = m + log|sum(b exp(a - m))|, whose derivative is ds / s: d/da_i =
    b_i exp(a_i - m) / s_m and d/db_i = exp(a_i - m) / s_m (m's own derivative cancels). Where s = 0 the value is
    -inf and the sign 0, as scipy's.
    """
    from .reductions import amax  # (as _pivot_rate's)

    if not isinstance(a, Tracer) and not isinstance(b, Tracer):
        return sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)  # plain: scipy's own
    if _is_complex(a) or (b is not None and _is_complex(b)):
        raise TypeError("logsumexp: complex input is not supported by hodiff")
    axes = _normalize_axis(axis, ndim_of(a))
    top = amax(a, axis=axes, keepdims=True)
    shift = where(isfinite(top), top, 0.0)  # all -inf (or an inf): no shift
    terms = exp(subtract(a, shift))
    if b is not None:
        terms = multiply(np.asarray(b) if isinstance(b, (list, tuple)) else b, terms)
    total = _sum(terms, axis=axes, keepdims=True)
    value, signs = add(log(absolute(total)), shift), sign(total)
    if not keepdims:
        value, signs = squeeze(value, axis=axes), squeeze(signs, axis=axes)
    return value, signs


def _with_lse(primitive, x, axis):
    """primitive(x, logsumexp(x, axis, keepdims=True), axis): logsumexp checks x and words the errors."""
    if isinstance(x, (list, tuple)):
        x = np.asarray(x)
    return primitive(x, logsumexp(x, axis=axis, keepdims=True), axis=_normalize_axis(axis, ndim_of(x)))


def log_softmax(x, axis=None):
    """x - logsumexp(x, axis, keepdims=True): log-probabilities along ``axis`` (None: all entries)."""
    return _with_lse(log_softmax_p, x, axis)


def softmax(x, axis=None):
    """exp(x - logsumexp(x, axis, keepdims=True)): probabilities along ``axis`` (None: all entries)."""
    return _with_lse(softmax_weights, x, axis)


# --------------------------------------------------------------- scipy.special's names

def _iv_api(v, z):
    return iv(z, v=_static_order(v, "iv"))


def _ive_api(v, z):
    return ive(z, v=_static_order(v, "ive"))


def _jv_api(v, z):
    return jv(z, v=_static_order(v, "jv"))


def _yv_api(v, z):
    return yv(z, v=_static_order(v, "yv"))


def _jn_api(n, x):
    """scipy's jn: jv (any real order n, as scipy)."""
    return jv(x, v=_static_order(n, "jn", "n"))


def _yn_api(n, x):
    """scipy's yn: Y_n of an integer order n."""
    n = _static_order(n, "yn", "n")
    if not isinstance(n, int):
        raise TypeError(f"yn: the order n must be an integer, not {n} (scipy truncates it); use yv for a real order")
    return yv(x, v=n)


def _polygamma_api(n, x):
    if hasattr(n, "_trace") or np.ndim(n) or int(n) != n or n < 0:
        raise TypeError("polygamma: n must be a non-negative Python int (a static order)")
    return polygamma(x, n=int(n))


SCIPY_SPECIAL_API = {
    "expit": expit, "logit": logit, "log_expit": log_expit, "softplus": softplus, "erf": erf, "erfc": erfc,
    "erfinv": erfinv, "erfcx": erfcx, "ndtr": ndtr, "ndtri": ndtri, "log_ndtr": log_ndtr, "gammaln": gammaln,
    "digamma": digamma, "psi": digamma, "polygamma": _polygamma_api, "gamma": gamma, "betaln": betaln,
    "iv": _iv_api, "ive": _ive_api, "i0": i0, "i1": i1, "i0e": i0e, "i1e": i1e,
    "jv": _jv_api, "yv": _yv_api, "jn": _jn_api, "yn": _yn_api, "j0": j0, "j1": j1, "y0": y0, "y1": y1,
    "xlogy": xlogy, "xlog1py": xlog1py, "logsumexp": logsumexp, "softmax": softmax,
    "log_softmax": log_softmax,
    "beta": beta, "rgamma": rgamma, "gammasgn": gammasgn, "erfcinv": erfcinv, "gammainc": gammainc,
    "gammaincc": gammaincc, "betainc": betainc, "multigammaln": multigammaln,
}

_ = shape_of  # re-exported for sibling modules
