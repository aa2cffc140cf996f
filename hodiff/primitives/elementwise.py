"""Elementwise primitives: arithmetic and the elementary functions.

Each entry is one place: numpy implementation, partial derivatives (which give
the VJP and JVP), batching by broadcasting, and the Taylor rule. Taylor rules
use the standard recurrences (Griewank & Walther, *Evaluating Derivatives*,
ch. 13): for y = f(x(t)) with f' expressible through y and x, equating
coefficients of y' = f'(x) x' gives y_k from y_0..y_{k-1} in O(k) work, so a
K-th order series costs O(K^2).

Conventions at kinks (documented, as the API asks): abs'(0) = 0, sign' = 0
(sign, floor, ceil, round, trunc, rint, isnan ... are zero-derivative
primitives); maximum/minimum/fmax/fmin share a tie's derivative equally;
remainder and fmod have d/dx = 1 between their jumps. Complex values follow
JAX: the VJP multiplies by the derivative without conjugating it (real, imag,
abs and angle have JAX's rules, see their section). Taylor rules of the
functions added after the seed ones use the series helpers of ``series.py``.

>>> import hodiff as hd, hodiff.numpy as hnp
>>> float(hd.grad(hnp.abs)(0.0)), float(hd.grad(lambda x: hnp.maximum(x, 1.0))(1.0))
(0.0, 0.5)
>>> complex(hd.grad(lambda z: hnp.abs(z) ** 2)(1.0 + 2.0j))  # 2 conj(z), as JAX
(2-4j)
"""

import functools
import math
import operator

import numpy as np
from scipy.special import expit as _expit

from ..core import backends
from ..core.errors import TracedConversionError
from ..core.trace import Primitive, Tracer, concrete_value
from . import shape as _S  # shape ops for the Taylor rules (shape.py does not import this module)
from .cauchy import series_exp, series_product
from .rules import (
    batch_elementwise,
    dtype_of,
    elementwise,
    scalar_fast_binary,
    scalar_fast_unary,
    shape_of,
    taylor_bilinear,
    taylor_linear,
)
from .shape import zeros_like

__all__ = [
    "add", "subtract", "multiply", "true_divide", "negative", "power", "exp", "log",
    "sin", "cos", "tanh", "sqrt", "where", "less", "less_equal", "greater", "greater_equal",
    "equal", "not_equal",
    "expm1", "log1p", "log2", "log10", "exp2", "cbrt", "square", "reciprocal", "tan", "arcsin",
    "arccos", "arctan", "arctan2", "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "sinc", "sinc_derivative",
    "hypot", "hypot_cos", "cone_root", "cone_root_slope", "logaddexp", "logaddexp2", "maximum", "minimum", "fmax",
    "fmin", "clip", "remainder", "fmod", "copysign",
    "absolute", "real", "imag", "conj", "angle", "sign", "floor", "ceil", "trunc", "rint", "round_",
    "floor_divide", "isfinite", "isnan", "isinf", "signbit", "heaviside", "astype", "cast", "divmod_", "fabs",
    "full", "full_like", "deg2rad", "rad2deg", "float_power", "accumulated_as",
]


# --------------------------------------------------------------- Taylor recurrences, vectorized
#
# The recurrences below have the form
#     y_k = sum_{j=1..k} M[k-1, j-1] * h_{k-j}   (+ a known term),
# where M = weights * (an input series) is built once, for all k, as a
# (K, K) + shape array, and h is a history of output coefficients kept as ONE
# array, newest first: H = [h_{k-1}, ..., h_0]. Each k then costs a few
# whole-array primitives (slice row k of M, multiply by H, sum over the
# coefficient axis, prepend the new coefficient to H) rather than a Python
# loop over coefficient pairs.

_weight_cache = {}


def _weights(kind, order, p=None):
    """(K, K) numpy weights W[k-1, j-1] for j <= k (zero above the diagonal)."""
    key = (kind, order, p)
    weights = _weight_cache.get(key)
    if weights is None:
        k = np.arange(1, order + 1, dtype=float)[:, None]
        j = np.arange(1, order + 1, dtype=float)[None, :]
        if kind == "j/k":  # exp, sin, cos, tanh:  k y_k = sum j x_j h_{k-j}
            weights = j / k
        elif kind == "(k-j)/k":  # log
            weights = (k - j) / k
        elif kind == "ones":  # division
            weights = np.ones((order, order))
        else:  # "power": k x0 y_k = sum (p j - (k - j)) x_j y_{k-j}
            weights = (p * j - (k - j)) / k
        weights = np.where(j <= k, weights, 0.0)
        weights.setflags(write=False)
        weights = _weight_cache.setdefault(key, weights)
    return weights


class _RecurrenceRows:
    """The rows M[k-1, :k] = weights[k-1, :k] * series[:k] of a recurrence matrix, one k at a time.

    Never the whole (K, K) + member shape array: a row is made when the
    recurrence reaches it (O(K x entries) memory, the cost of the history).
    """

    __slots__ = ("weights", "series")

    def __init__(self, weights, series):
        member_ndim = len(shape_of(series)) - 1
        # numpy weights in the series' precision: float64 weights would turn float32 series into float64.
        precision = np.finfo(dtype_of(series)).dtype
        self.weights = weights.astype(precision).reshape(weights.shape + (1,) * member_ndim)
        self.series = series

    def row(self, k):
        return multiply(self.weights[k - 1, :k], _S.getitem(self.series, index=slice(0, k)))


def _recurrence_matrix(weights, series):
    """M[k-1, j-1] = weights[k-1, j-1] * series[j-1], handed out row by row (see _RecurrenceRows)."""
    return _RecurrenceRows(weights, series)


def _history(value):
    """A coefficient as a one-entry history (leading axis of length 1)."""
    return _S.reshape(value, shape=(1,) + tuple(shape_of(value)))


def _next_coefficient(matrix, k, history):
    """sum_{j=1..k} matrix[k-1, j-1] * history[j-1], kept with a leading axis of length 1."""
    return _S.sum(multiply(matrix.row(k), history), axis=0, keepdims=True)


def _prepend(coefficient, history):
    return _S.concatenate(coefficient, history, axis=0)


def _in_order(history, order):
    """Coefficients 1..K in order from a newest-first history [y_K, ..., y_0] (y_0 dropped)."""
    return _S.getitem(history, index=slice(order - 1, None, -1))


def _linear_recurrence(matrix, y0, order, known=None):
    """y_k = known_k + sum_{j=1..k} matrix[k-1, j-1] y_{k-j}; returns y_1..y_K as a (K,) + shape array.

    ``known`` is a (K,) + shape series (or None for zero).
    """
    history = _history(y0)
    for k in range(1, order + 1):
        coefficient = _next_coefficient(matrix, k, history)
        if known is not None:
            coefficient = add(_S.getitem(known, index=slice(k - 1, k)), coefficient)
        history = _prepend(coefficient, history)
    return _in_order(history, order)


# --------------------------------------------------------------- arithmetic

add = Primitive("add", scalar_fast_binary(operator.add, np.add), vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: g),
                jvp=(lambda t, ans, x, y: t, lambda t, ans, x, y: t), broadcasts=True)
add.batch = batch_elementwise(add)
add.taylor = taylor_linear(add)

subtract = Primitive("subtract", scalar_fast_binary(operator.sub, np.subtract),
                     vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: negative(g)),
                     jvp=(lambda t, ans, x, y: t, lambda t, ans, x, y: negative(t)), broadcasts=True)
subtract.batch = batch_elementwise(subtract)
subtract.taylor = taylor_linear(subtract)

negative = Primitive("negative", scalar_fast_unary(operator.neg, np.negative), vjp=(lambda g, ans, x: negative(g),),
                     jvp=(lambda t, ans, x: negative(t),), broadcasts=True)
negative.batch = batch_elementwise(negative)
negative.taylor = taylor_linear(negative)

multiply = Primitive("multiply", scalar_fast_binary(operator.mul, np.multiply),
                     vjp=(lambda g, ans, x, y: multiply(g, y), lambda g, ans, x, y: multiply(g, x)),
                     jvp=(lambda t, ans, x, y: multiply(t, y), lambda t, ans, x, y: multiply(x, t)),
                     broadcasts=True)
multiply.batch = batch_elementwise(multiply)

add.declare_reads(answer=False, arguments=((), ()))
subtract.declare_reads(answer=False, arguments=((), ()))
negative.declare_reads(answer=False, arguments=((),))
multiply.declare_reads(answer=False, arguments=((1,), (0,)))


def _full_series(primal, series, ndim):
    """[primal, c_1, ..., c_K] as one (K+1,) + shape array, its member rank raised to ``ndim``."""
    shape = tuple(shape_of(primal))
    shape = (1,) * (ndim - len(shape)) + shape
    series = _aligned(series, ndim)
    return _S.concatenate(_S.reshape(primal, shape=(1,) + shape), series, axis=0)


def _taylor_multiply(ans, primals, series):
    """Cauchy product y_k = sum_{j=0..k} a_j b_{k-j}, all k in one ``series_product`` call.

    O(K x entries) memory (no (K, K) Toeplitz array), one primitive whatever K is.
    """
    (a0, b0), (a_series, b_series) = primals, series
    if a_series is None or b_series is None:
        return _taylor_multiply_one_series(ans, primals, series)
    ndim = max(len(shape_of(a0)), len(shape_of(b0)), len(shape_of(a_series)) - 1, len(shape_of(b_series)) - 1)
    product = series_product(_full_series(a0, a_series, ndim), _full_series(b0, b_series, ndim))
    return _S.getitem(product, index=slice(1, None))


_taylor_multiply_one_series = taylor_bilinear(multiply)  # one constant factor: a batched multiply
multiply.taylor = _taylor_multiply


def _aligned(series, ndim):
    """A (K,) + shape series with its member rank raised to ``ndim`` (leading ones), for broadcasting."""
    shape = shape_of(series)
    missing = ndim - (len(shape) - 1)
    return _S.reshape(series, shape=shape[:1] + (1,) * missing + shape[1:]) if missing > 0 else series


def _taylor_divide(ans, primals, series):
    """y = a / b:  sum_j b_j y_{k-j} = a_k,  so  y_k = a_k / b_0 - sum_{j>=1} (b_j / b_0) y_{k-j}."""
    b0 = primals[1]
    ndim = len(shape_of(ans))
    a_series, b_series = (None if s is None else _aligned(s, ndim) for s in series)
    if b_series is None:
        return true_divide(a_series, b0)
    order = b_series.shape[0]
    matrix = _recurrence_matrix(_weights("ones", order), negative(true_divide(b_series, b0)))
    known = true_divide(a_series, b0) if a_series is not None else None
    return _linear_recurrence(matrix, ans, order, known)


true_divide = elementwise(
    "true_divide", scalar_fast_binary(operator.truediv, np.true_divide),
    (lambda ans, x, y: true_divide(1.0, y), None),
    taylor=_taylor_divide,
)
# d/dy = -(g (x/y)) / y, not g (-(x/y) / y): x/y^2 alone over- or underflows where the chain's product does
# not. log(cosh(u))'' at u = 562 is sinh (1/c) / c sinh with c = 1e244: (1/c)/c is 0, (sinh (1/c)) / c is not.
true_divide.vjp = (true_divide.vjp[0], lambda g, ans, x, y: negative(true_divide(multiply(g, ans), y)))
true_divide.jvp = (true_divide.jvp[0], lambda t, ans, x, y: negative(true_divide(multiply(t, ans), y)))


def _taylor_exp_from(y0, x_series):
    """Series of y = y0 exp(x - x0):  k y_k = sum_{j=1..k} j x_j y_{k-j}, one ``series_exp`` call."""
    return series_exp(y0, _aligned(x_series, len(shape_of(y0))))


def _taylor_log_from(x0, x_series):
    """Series of y = log(x):  y_k = x_k / x_0 - sum_{j=1..k-1} ((k-j)/k) (x_j / x_0) y_{k-j}.

    The weight of y_0 is zero, so the history starts from a zero placeholder.
    """
    order = x_series.shape[0]
    scaled = true_divide(x_series, x0)
    matrix = _recurrence_matrix(_weights("(k-j)/k", order), negative(scaled))
    return _linear_recurrence(matrix, _S.zeros_like(x0), order, known=scaled)


def _taylor_pow_const(y0, x0, x_series, p):
    """Series of y = x**p for constant p:  k x_0 y_k = sum_{j=1..k} (p j - (k - j)) x_j y_{k-j}.

    The recurrence divides by x_0; where x_0 = 0 the coefficients are those of
    nested differentiation instead (``_pow_series_at_zero``): 0 below order p,
    inf/nan above it, as numpy's 0**(p - k) gives.
    """
    order = x_series.shape[0]
    at_zero = equal(x0, 0)
    if not _may_hold_true(at_zero):
        matrix = _recurrence_matrix(_weights("power", order, p), true_divide(x_series, x0))
        return _linear_recurrence(matrix, y0, order)
    safe_x0 = where(at_zero, 1.0, x0)
    matrix = _recurrence_matrix(_weights("power", order, p), true_divide(x_series, safe_x0))
    recurrence = _linear_recurrence(matrix, where(at_zero, 1.0, y0), order)
    return where(at_zero, _pow_series_at_zero(x0, x_series, p), recurrence)


def _may_hold_true(mask):
    """Whether a boolean mask may hold True: its value where it has one (one member under vmap
    would not stand for the batch, so a batched mask may always; a lazy Dask one is not computed for it)."""
    try:
        value = concrete_value(mask)
    except TracedConversionError:
        return True
    if backends.backend_name(value) != "numpy":
        return True  # a Dask mask would be computed here, in the middle of the transform: may hold
    return bool(np.any(value))


def _pow_series_at_zero(x0, x_series, p):
    """Series of d(t)**p with d(0) = 0 (d = x_series): Faa di Bruno's sum_n f^(n)(0)/n! d^n with
    f^(n)(0) = p (p-1) ... (p-n+1) 0**(p-n): 0 for n < p, +-inf for n > p (p not natural).
    A power of d whose coefficient is exactly 0 contributes 0 (not inf * 0 = nan), as in nested mode.

    That holds where d starts at t^1. Where d = d_m t^m + ... with m > 1, d**p ~ |t|^(m p): the
    coefficients below t^(m p) are 0 and the others do not exist (sqrt(t^2) = |t|), so they are nan;
    the sum above gave t^1's 0 and inf after it (std of a constant row: its first-order Taylor
    coefficient was 0 where the jvp is nan). A d with no nonzero coefficient up to K counts m = K + 1.
    """
    order = x_series.shape[0]
    real = np.dtype(dtype_of(x_series)).type  # constants in its precision: where(mask, 0.0, nan) is float64
    zero, one = real(0), real(1)
    # m - 1: the number of d's leading coefficients that are exactly 0 (a plain mask, as at_zero)
    run = leading_zeros = where(equal(_S.getitem(x_series, index=0), 0), one, zero)
    for j in range(1, order):
        run = multiply(run, where(equal(_S.getitem(x_series, index=j), 0), one, zero))
        leading_zeros = add(leading_zeros, run)
    starts_later = greater(leading_zeros, 0.0)
    out = _pow_series_with_first_order_start(x0, x_series, p)
    if not _may_hold_true(starts_later):
        return out
    orders = np.arange(1, order + 1, dtype=np.result_type(x_series)).reshape((order,) + (1,) * (x_series.ndim - 1))
    below = less(orders, multiply(add(leading_zeros, 1.0), p))
    return where(starts_later, where(below, zero, real(np.nan)), out)


def _pow_series_with_first_order_start(x0, x_series, p):
    order = x_series.shape[0]
    zero = _S.zeros_like(x0)
    out, power, falling = _S.zeros_like(x_series), x_series, 1.0
    for n in range(1, order + 1):
        if n > 1:
            power = _taylor_multiply(None, (zero, zero), (x_series, power))
        falling *= p - n + 1
        if n > p and falling != 0.0:
            is_zero = equal(power, 0)
            term = multiply(math.copysign(math.inf, falling), where(is_zero, 1.0, power))
            out = add(out, where(is_zero, 0.0, term))
    return out


def _taylor_pow_natural(x0, x_series, n):
    """Series of x**n for a constant natural n by binary powering of truncated series.

    Cauchy products only, no division by x_0: exact where x_0 = 0 (x**n is a
    polynomial, analytic everywhere) and free of the recurrence's error growth
    at high order. O(log n) products of O(K^2) terms each.
    """
    if n == 0:
        return _S.zeros_like(x_series)
    result, base = None, (x0, x_series)
    while True:
        if n & 1:
            if result is None:
                result = base
            else:
                value = multiply(result[0], base[0])
                result = (value, _taylor_multiply(value, (result[0], base[0]), (result[1], base[1])))
        n >>= 1
        if not n:
            return result[1]
        value = multiply(base[0], base[0])
        base = (value, _taylor_multiply(value, (base[0], base[0]), (base[1], base[1])))



def _taylor_power(ans, primals, series):
    (x0, p0), (x_series, p_series) = primals, series
    if p_series is None and np.ndim(p0) == 0 and not hasattr(p0, "_trace") and not _is_complex(p0):
        p = float(p0)
        if p.is_integer() and 0 <= p <= 1024:
            return _taylor_pow_natural(x0, x_series, int(p))
        return _taylor_pow_const(ans, x0, x_series, p)
    # x**p = exp(p log x) when the exponent varies too (x > 0) or is complex (the recurrence's weights are
    # real); a constant base 0 has the nested rule's limit.
    log_x = log(x0) if x_series is not None else _log_base(x0)
    log_series = _taylor_log_from(x0, x_series) if x_series is not None else None
    product = taylor_bilinear(multiply)(multiply(p0, log_x), (p0, log_x), (p_series, log_series))
    return _taylor_exp_from(ans, product)


def _power_dx(ans, x, y):
    # y * x**(y-1), written so that y = 0 gives 0 rather than 0 * inf at x = 0. A Python exponent
    # stays a Python number: where() would make it a float64/int64 array, and float32 ** that is float64.
    if type(y) is int or type(y) is float:
        return multiply(y, power(x, y - 1 if y != 0 else 1))
    # A traced exponent is guarded only where both x and y are 0: guarding at y = 0
    # alone would freeze y - 1 there and drop this rule's own derivative in y
    # (x**(y-1) + y x**(y-1) log x), a wrong second derivative of x**y.
    exponent = subtract(y, 1)
    return multiply(y, power(x, where(y != 0, exponent, where(x != 0, exponent, 1))))


def _power_dy(ans, x, y):
    # log(x) * x**y, with the limit 0 at x = 0; a Python base stays a Python number. A real
    # base to a complex power takes the complex log: (-2.0) ** z is numpy's finite complex power, its real log nan
    if _is_complex(ans) and not _is_complex(x):
        x = complex(x) if type(x) is int or type(x) is float else multiply(x, 1.0 + 0.0j)
    return multiply(ans, _log_base(x))


def _log_base(x):
    """log(x), with log(1) = 0 at x = 0: d/dy 0**y is 0 (0**y is 0 for y > 0), as autograd has it."""
    if type(x) is int or type(x) is float or type(x) is complex:
        return log(x if x != 0 else 1.0)
    return log(where(x != 0, x, 1))


def _real_power_defined(x, y):
    # Python turns a negative base to a fractional power into a complex number; numpy gives nan.
    return x >= 0 or float(y).is_integer()


_NUMPY_SHORTCUT_EXPONENTS = (0, 1, 2, -1, 0.5)  # np.power turns these into copies, square, reciprocal, sqrt


def _array_power(x, y):
    """np.power, with a negative float base to an integer-valued exponent as copysign(|x|**y, x) where y is
    odd: numpy's SIMD pow serves nonnegative bases and takes a scalar loop for the rest (x**3.0 on 1e6 normal
    entries 57 ms against 4; GradBench llsq's t**j 120 against 11). The values are pow's own to an ulp (its
    sign, zeros and infinities included: tests/test_elementwise_conventions.py)."""
    if (type(x) is np.ndarray and x.dtype.kind == "f" and max(x.size, np.size(y)) >= 128 and _integer_valued(y)
            and not (type(y) in (int, float) and y in _NUMPY_SHORTCUT_EXPONENTS) and x.min() < 0):
        out = np.power(np.abs(x), y)
        odd = np.abs(np.fmod(y, 2)) == 1  # inf is no odd integer: |x|**inf is pow's value
        if np.all(odd):
            np.copysign(out, x, out=out)
        elif np.any(odd):  # a sign source, not copysign's where=: its masked loop is slower than a where pass
            np.copysign(out, np.where(odd, x, 1), out=out)
        return out
    return np.power(x, y)


def _integer_valued(y):
    """Whether y (a Python number or numpy array) has integer values only (inf counts; nan does not)."""
    if type(y) is int:
        return True
    if type(y) is float:
        return y.is_integer() or abs(y) == math.inf
    if type(y) is np.ndarray or isinstance(y, np.generic):
        return y.dtype.kind in "iu" or y.dtype.kind == "f" and bool(np.all(np.trunc(y) == y))
    return False


_array_power.__name__ = _array_power.__qualname__ = "power"
power = elementwise("power", scalar_fast_binary(operator.pow, _array_power, guard=_real_power_defined),
                    (_power_dx, _power_dy), taylor=_taylor_power)


# --------------------------------------------------------------- elementary functions

exp = elementwise("exp", scalar_fast_unary(math.exp, np.exp), (lambda ans, x: ans,),
                  taylor=lambda ans, primals, series: _taylor_exp_from(ans, series[0]))

log = elementwise("log", scalar_fast_unary(math.log, np.log), (lambda ans, x: true_divide(1.0, x),),
                  taylor=lambda ans, primals, series: _taylor_log_from(primals[0], series[0]))


def _sin_cos_series(s0, c0, x_series, kind="sin_cos"):
    """sin and cos series together, one ``series_exp`` call on the pair (c, s):
    k s_k = sum j x_j c_{k-j},  k c_k = -sum j x_j s_{k-j}  (kind "cosh_sinh": +sum, for sinh and cosh)."""
    both = series_exp(_S.stack(c0, s0, axis=0), _aligned(x_series, len(shape_of(s0))), kind=kind)  # (K, 2) + shape
    return _S.getitem(both, index=(slice(None), 1)), _S.getitem(both, index=(slice(None), 0))


exp.declare_reads(answer=True, arguments=((),))
log.declare_reads(answer=False, arguments=((0,),))

sin = elementwise("sin", scalar_fast_unary(math.sin, np.sin), (lambda ans, x: cos(x),),
                  taylor=lambda ans, primals, series: _sin_cos_series(ans, cos(primals[0]), series[0])[0])

cos = elementwise("cos", scalar_fast_unary(math.cos, np.cos), (lambda ans, x: negative(sin(x)),),
                  taylor=lambda ans, primals, series: _sin_cos_series(sin(primals[0]), ans, series[0])[1])
sin.declare_reads(answer=False, arguments=((0,),))
cos.declare_reads(answer=False, arguments=((0,),))


def _taylor_tanh(ans, primals, series):
    """y = tanh(x), y' = (1 - y^2) x':  k y_k = sum_j j x_j z_{k-j} with z = 1 - y^2, z_k = -sum_i y_i y_{k-i}."""
    order = series[0].shape[0]
    matrix = _recurrence_matrix(_weights("j/k", order), series[0])
    y_newest_first = y_oldest_first = _history(ans)
    z_history = _history(subtract(1.0, multiply(ans, ans)))
    for k in range(1, order + 1):
        y_k = _next_coefficient(matrix, k, z_history)
        y_newest_first = _prepend(y_k, y_newest_first)
        if k < order:
            y_oldest_first = _S.concatenate(y_oldest_first, y_k, axis=0)
            z_k = negative(_S.sum(multiply(y_oldest_first, y_newest_first), axis=0, keepdims=True))
            z_history = _prepend(z_k, z_history)
    return _in_order(y_newest_first, order)


_FLOAT_SCALARS = (float, np.float64)


def _tanh_chain_impl(t, y):
    if type(t) in _FLOAT_SCALARS and type(y) in _FLOAT_SCALARS:
        return t * (1.0 - y * y)
    slope = np.multiply(y, y)
    if slope.ndim == 0:
        return np.multiply(t, 1.0 - slope)
    np.subtract(1.0, slope, out=slope)  # one buffer for y*y and 1 - y*y
    if np.shape(t) == slope.shape and np.result_type(t, slope) == slope.dtype and backends.writes_as_fresh(slope, t):
        return np.multiply(t, slope, out=slope)
    return np.multiply(t, slope)


def _taylor_tanh_chain(ans, primals, series):
    (t0, y0), (ts, ys) = primals, _binary_series(ans, series)
    slope_series = S.scale(S.square(y0, ys), -1.0)  # of 1 - y^2
    slope = subtract(1.0, multiply(y0, y0))
    return S.finish_series(S.product(t0, ts, slope, slope_series), ans, S.order_of(series))


def _tanh_chain_dt(g, ans, t, y):
    return tanh_chain(g, y)


def _tanh_chain_dy(g, ans, t, y):
    return multiply3(t, y, g, scale=-2.0)


tanh_chain = Primitive("tanh_chain", _tanh_chain_impl, vjp=(_tanh_chain_dt, _tanh_chain_dy),
                       jvp=(_tanh_chain_dt, _tanh_chain_dy), taylor=_taylor_tanh_chain, broadcasts=True)
tanh_chain.batch = batch_elementwise(tanh_chain)
tanh_chain.__doc__ = """t * (1 - y**2): tanh's chain-rule factor (y = tanh(x)) applied to a tangent or cotangent t.

One primitive in tanh's JVP and VJP instead of three (y*y, 1 - ., t * .): one
output array, y*y computed in place; the same rounding as t * (1 - y*y).
"""


def _multiply3_impl(a, b, c, scale=1.0):
    if type(a) in _FLOAT_SCALARS and type(b) in _FLOAT_SCALARS and type(c) in _FLOAT_SCALARS:
        return a * b * scale * c
    out = np.multiply(a, b)
    if np.ndim(out) == 0:
        return np.multiply(np.multiply(out, scale), c)
    np.multiply(out, scale, out=out)
    if np.shape(c) == out.shape and np.result_type(out, c) == out.dtype and backends.writes_as_fresh(out, c):
        return np.multiply(out, c, out=out)
    return np.multiply(out, c)


def _multiply3_rule(position):
    def rule(g, ans, a, b, c, scale=1.0):
        others = [x for i, x in enumerate((a, b, c)) if i != position]
        return multiply3(others[0], others[1], g, scale=scale)  # trilinear: the same product with g in place

    return rule


def _taylor_multiply3(ans, primals, series, scale=1.0):
    (a0, b0, c0), (a_s, b_s, c_s) = primals, _binary_series(ans, series)
    ab_series = S.product(a0, a_s, b0, b_s)
    return S.finish_series(S.scale(S.product(multiply(a0, b0), ab_series, c0, c_s), scale), ans, S.order_of(series))


multiply3 = Primitive("multiply3", _multiply3_impl, vjp=tuple(_multiply3_rule(i) for i in range(3)),
                      jvp=tuple(_multiply3_rule(i) for i in range(3)), taylor=_taylor_multiply3, broadcasts=True)
multiply3.batch = batch_elementwise(multiply3)
multiply3.__doc__ = """a * b * scale * c (scale a Python number) in one output array: the second-order
terms of the rules (tanh_chain's -2 t y dy) without two temporaries; rounds as ((a * b) * scale) * c."""


def _tanh_chain_tangent_impl(dt, t, y, dy):
    out = _tanh_chain_impl(dt, y)
    second = _multiply3_impl(t, y, dy, -2.0)
    if type(out) is np.ndarray and out.shape == np.shape(second) and np.result_type(out, second) == out.dtype \
            and backends.writes_as_fresh(out, second):
        return np.add(out, second, out=out)  # out is this call's own array
    return np.add(out, second)


def _taylor_tanh_chain_tangent(ans, primals, series):
    (dt0, t0, y0, dy0), (dts, ts, ys, dys) = primals, _binary_series(ans, series)
    slope = subtract(1.0, multiply(y0, y0))
    first = S.product(dt0, dts, slope, S.scale(S.square(y0, ys), -1.0))
    ty_series = S.product(t0, ts, y0, ys)
    second = S.scale(S.product(multiply(t0, y0), ty_series, dy0, dys), -2.0)
    return S.finish_series(S.plus(first, second), ans, S.order_of(series))


def _tanh_chain_tangent_dy_mixed(g, ans, dt, t, y, dy):
    return multiply(g, multiply(add(multiply(dt, y), multiply(t, dy)), -2.0))


_tanh_chain_tangent_rules = (
    lambda g, ans, dt, t, y, dy: tanh_chain(g, y),
    lambda g, ans, dt, t, y, dy: multiply3(y, dy, g, scale=-2.0),
    _tanh_chain_tangent_dy_mixed,
    lambda g, ans, dt, t, y, dy: multiply3(t, y, g, scale=-2.0),
)
tanh_chain_tangent = Primitive("tanh_chain_tangent", _tanh_chain_tangent_impl, vjp=_tanh_chain_tangent_rules,
                               jvp=_tanh_chain_tangent_rules, taylor=_taylor_tanh_chain_tangent, broadcasts=True)
tanh_chain_tangent.batch = batch_elementwise(tanh_chain_tangent)
tanh_chain_tangent.__doc__ = """dt * (1 - y**2) - 2 t y dy: the tangent of tanh_chain(t, y) when both t and y
carry one (forward over reverse through tanh). One output array; the same rounding as
tanh_chain(dt, y) + multiply3(t, y, dy, scale=-2.0)."""


def _tanh_rule(incoming, ans, x):
    return tanh_chain(incoming, ans)


tanh = Primitive("tanh", scalar_fast_unary(math.tanh, np.tanh), vjp=(_tanh_rule,), jvp=(_tanh_rule,),
                 taylor=_taylor_tanh, broadcasts=True)
tanh.batch = batch_elementwise(tanh)
tanh.declare_reads(answer=True, arguments=((),))

sqrt = elementwise("sqrt", scalar_fast_unary(math.sqrt, np.sqrt), (lambda ans, x: true_divide(0.5, ans),),
                   taylor=lambda ans, primals, series: _taylor_pow_const(ans, primals[0], series[0], 0.5))


# --------------------------------------------------------------- fast paths of the basic ops
#
# For plain values (no outer transform recording) the interpreters call these
# instead of the rules above (see Primitive: scalar_impl, fast_vjp, fast_jvp).
# Each computes exactly what its general rule computes then: the general rules
# call the primitives, whose implementations reduce to the same Python float
# operator or numpy ufunc on plain values (scalar_fast_unary/_binary). Python
# float arithmetic raises where numpy returns inf or nan (x / 0.0, math.log(0));
# the interpreters then fall back to the general rules. tests/test_fast_paths.py
# compares both paths, numbers and types.



def _through(math_function, ufunc):
    """math_function for (numpy) floats, ufunc otherwise: the dispatch of scalar_fast_unary."""

    def plain(x):
        kind = x.__class__
        if kind is float:
            return math_function(x)
        return np.float64(math_function(x)) if kind is np.float64 else ufunc(x)

    return plain


_plain_sin, _plain_cos = _through(math.sin, np.sin), _through(math.cos, np.cos)

add.scalar_impl = operator.add
add.fast_vjp = add.vjp
add.fast_jvp = add.jvp
subtract.scalar_impl = operator.sub
subtract.fast_vjp = (lambda g, ans, x, y: g, lambda g, ans, x, y: -g)
subtract.fast_jvp = (lambda t, ans, x, y: t, lambda t, ans, x, y: -t)
negative.scalar_impl = operator.neg
negative.fast_vjp = (lambda g, ans, x: -g,)
negative.fast_jvp = (lambda t, ans, x: -t,)
multiply.scalar_impl = operator.mul
multiply.fast_vjp = (lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x)
multiply.fast_jvp = (lambda t, ans, x, y: t * y, lambda t, ans, x, y: x * t)
true_divide.scalar_impl = operator.truediv
true_divide.fast_vjp = (lambda g, ans, x, y: g * (1.0 / y), lambda g, ans, x, y: -(g * ans) / y)
true_divide.fast_jvp = (lambda t, ans, x, y: t * (1.0 / y), lambda t, ans, x, y: -(t * ans) / y)
true_divide.declare_reads(answer=(1,), arguments=((1,), (1,)))  # x's rules read y; y's read x / y too
exp.scalar_impl = math.exp
exp.fast_vjp = (lambda g, ans, x: g * ans,)
exp.fast_jvp = (lambda t, ans, x: t * ans,)
log.scalar_impl = math.log
log.fast_vjp = (lambda g, ans, x: g * (1.0 / x),)
log.fast_jvp = (lambda t, ans, x: t * (1.0 / x),)
sin.scalar_impl = math.sin
sin.fast_vjp = (lambda g, ans, x: g * _plain_cos(x),)
sin.fast_jvp = (lambda t, ans, x: t * _plain_cos(x),)
cos.scalar_impl = math.cos
cos.fast_vjp = (lambda g, ans, x: g * -_plain_sin(x),)
cos.fast_jvp = (lambda t, ans, x: t * -_plain_sin(x),)
tanh.scalar_impl = math.tanh
tanh.fast_vjp = (lambda g, ans, x: g * (1.0 - ans * ans),)
tanh.fast_jvp = (lambda t, ans, x: t * (1.0 - ans * ans),)
sqrt.scalar_impl = math.sqrt
sqrt.fast_vjp = (lambda g, ans, x: g * (0.5 / ans),)
sqrt.fast_jvp = (lambda t, ans, x: t * (0.5 / ans),)

# The fast VJPs above as Primitive.inplace_vjp: the same products, written into the cotangent.
_multiply_into = np.multiply
negative.inplace_vjp = lambda g, ans, x: np.negative(g, out=g)
exp.inplace_vjp = lambda g, ans, x: _multiply_into(g, ans, out=g)
log.inplace_vjp = lambda g, ans, x: _multiply_into(g, 1.0 / x, out=g)
sin.inplace_vjp = lambda g, ans, x: _multiply_into(g, np.cos(x), out=g)
cos.inplace_vjp = lambda g, ans, x: _multiply_into(g, -np.sin(x), out=g)
tanh.inplace_vjp = lambda g, ans, x: _multiply_into(g, 1.0 - ans * ans, out=g)
sqrt.inplace_vjp = lambda g, ans, x: _multiply_into(g, 0.5 / ans, out=g)


# --------------------------------------------------------------- more elementary functions
# Taylor rules below use the series helpers of ``series.py`` (imported as S at
# the end of this module; rules only run after import).

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def _unary_taylor(build):
    """A Taylor rule from ``build(ans, x0, x_series, **params) -> output series`` (one argument)."""

    def rule(ans, primals, series, **params):
        return build(ans, primals[0], series[0], **params)

    return rule


# expm1' = exp(x), not ans + 1: that cancels where x << 0 (1.7e-4 off at x = -30, 0 below -37; JAX and
# PyTorch use ans + 1), and log1mexp = log(-expm1(-x)) there needs it to the last digit
expm1 = elementwise("expm1", np.expm1, (lambda ans, x: exp(x),),
                    taylor=_unary_taylor(lambda ans, x0, xs: S.exp_series(exp(x0), xs)))

log1p = elementwise("log1p", np.log1p, (lambda ans, x: true_divide(1.0, add(x, 1.0)),),
                    taylor=_unary_taylor(lambda ans, x0, xs: S.log_series(add(x0, 1.0), xs)))

log2 = elementwise("log2", np.log2, (lambda ans, x: true_divide(1.0 / _LN2, x),),
                   taylor=_unary_taylor(lambda ans, x0, xs: S.scale(S.log_series(x0, xs), 1.0 / _LN2)))

log10 = elementwise("log10", np.log10, (lambda ans, x: true_divide(1.0 / _LN10, x),),
                    taylor=_unary_taylor(lambda ans, x0, xs: S.scale(S.log_series(x0, xs), 1.0 / _LN10)))

exp2 = elementwise("exp2", np.exp2, (lambda ans, x: multiply(ans, _LN2),),
                   taylor=_unary_taylor(lambda ans, x0, xs: S.exp_series(ans, S.scale(xs, _LN2))))

cbrt = elementwise("cbrt", np.cbrt, (lambda ans, x: true_divide(1.0 / 3.0, multiply(ans, ans)),),
                   taylor=_unary_taylor(lambda ans, x0, xs: S.pow_series(ans, x0, xs, 1.0 / 3.0)))

square = elementwise("square", np.square, (lambda ans, x: multiply(x, 2.0),),
                     taylor=_unary_taylor(lambda ans, x0, xs: S.square(x0, xs)))


def _square_fast_vjp(g, ans, x):
    local = x * 2.0
    if local.__class__ is np.ndarray and g.__class__ is np.ndarray and g.shape == local.shape \
            and g.dtype == local.dtype and backends.writes_as_fresh(local, g):
        return _multiply_into(g, local, out=local)  # g * local in the fresh local: one big array, not two
    return g * local


square.fast_vjp = (_square_fast_vjp,)
square.fast_jvp = (lambda t, ans, x: t * (x * 2.0),)
square.inplace_vjp = lambda g, ans, x: _multiply_into(g, x * 2.0, out=g)
square.declare_reads(answer=False, arguments=((0,),))

reciprocal = elementwise("reciprocal", np.reciprocal, (None,),
                         taylor=_unary_taylor(lambda ans, x0, xs: S.pow_series(ans, x0, xs, -1.0)))
# -(g (1/x)) (1/x), not g -(1/x)^2, as true_divide's y-rule: (1/x)^2 alone underflows where g/x^2 need not
reciprocal.vjp = (lambda g, ans, x: negative(multiply(multiply(g, ans), ans)),)
reciprocal.jvp = (lambda t, ans, x: negative(multiply(multiply(t, ans), ans)),)

tan = elementwise("tan", np.tan, (lambda ans, x: add(multiply(ans, ans), 1.0),),
                  taylor=_unary_taylor(lambda ans, x0, xs: S.riccati(ans, xs, 1, 0, 1)))

sinh = elementwise("sinh", np.sinh, (lambda ans, x: cosh(x),),
                   taylor=_unary_taylor(lambda ans, x0, xs: _sin_cos_series(ans, cosh(x0), xs, "cosh_sinh")[0]))

cosh = elementwise("cosh", np.cosh, (lambda ans, x: sinh(x),),
                   taylor=_unary_taylor(lambda ans, x0, xs: _sin_cos_series(sinh(x0), ans, xs, "cosh_sinh")[1]))


def _integral_with(x_series, w0, w_series, p):
    """Series of y with y' = w^p x' (w0, w_series: the series of w along x(t); y0 is the caller's)."""
    v0 = power(w0, p)
    return S.integrate(x_series, v0, S.pow_series(v0, w0, w_series, p))


# 1 - x^2 as (1 - x)(1 + x) near |x| = 1, where x * x rounds away the digits of the difference (arcsin's
# derivative was 4e-9 off there; 1 - x is exact), and as 1 - x * x below |x| = 1/2, where the derivative of
# the product, -(1 + x) + (1 - x), cancels (float32 arcsin'' at 1e-4 was 1.7e-4 off) and -2x does not.
def _one_minus_x2(x):
    return where(less(absolute(x), 0.5), subtract(1.0, multiply(x, x)), multiply(subtract(1.0, x), add(1.0, x)))


def _one_minus_square(x0, xs):
    return _one_minus_x2(x0), S.scale(S.square(x0, xs), -1.0)


def _one_plus_square(x0, xs):
    return add(multiply(x0, x0), 1.0), S.square(x0, xs)


arcsin = elementwise(
    "arcsin", np.arcsin, (lambda ans, x: true_divide(1.0, sqrt(_one_minus_x2(x))),),
    taylor=_unary_taylor(lambda ans, x0, xs: _integral_with(xs, *_one_minus_square(x0, xs), -0.5)))

arccos = elementwise(
    "arccos", np.arccos, (lambda ans, x: true_divide(-1.0, sqrt(_one_minus_x2(x))),),
    taylor=_unary_taylor(lambda ans, x0, xs: S.scale(_integral_with(xs, *_one_minus_square(x0, xs), -0.5), -1.0)))


def _hypot_one(x):
    """sqrt(x^2 + 1): hypot for real x (no x^2 to overflow), the formula for complex x (hypot is real only)."""
    if np.issubdtype(dtype_of(x), np.complexfloating):
        return sqrt(add(multiply(x, x), 1.0))
    return hypot(x, 1.0)


def _inverse_square_hypot_one(x):
    """1/(x^2 + 1) as (1/h)/h, h = hypot(x, 1): the derivatives of 1/(x^2 + 1) hold (x^2 + 1)^2, which
    overflows past |x| = 1e77 (arctan''(1e100) was 0 for -2e-300); h's powers stay in range while the
    derivatives do."""
    h = _hypot_one(x)
    return true_divide(true_divide(1.0, h), h)


def _rsqrt_integral(x0, xs, shifted_square):
    """Series of y with y' = x' / sqrt(w), w = ``shifted_square(x, 1)``: x^2 + 1 or (x - 1)(x + 1), taken
    at (sigma x, sigma) with sigma the power of two scaling max(|x|, 1) to [1, 2): w^(-1/2) is
    sigma w(sigma x, sigma)^(-1/2), and nothing overflows where x^2 would (past 1.3e154 in float64, 1.8e19
    in float32: arcsinh'(1e200) was 0, not 1e-200). A power of two scales exactly: below |x| = 2, sigma = 1."""
    sigma = _power_of_two_scale(maximum(absolute(x0), 1.0), dtype_of(x0))
    scaled = multiply(x0, sigma)
    w0 = shifted_square(scaled, sigma)
    return multiply(_integral_with(xs, w0, S.square(scaled, multiply(xs, sigma)), -0.5), sigma)


arctan = elementwise(
    "arctan", np.arctan, (lambda ans, x: _inverse_square_hypot_one(x),),
    taylor=_unary_taylor(lambda ans, x0, xs: _integral_with(xs, *_one_plus_square(x0, xs), -1.0)))

arcsinh = elementwise(
    "arcsinh", np.arcsinh, (lambda ans, x: true_divide(1.0, _hypot_one(x)),),
    taylor=_unary_taylor(lambda ans, x0, xs: _rsqrt_integral(
        x0, xs, lambda x, c: add(multiply(x, x), multiply(c, c)))))

def _arccosh_slope(x):
    return true_divide(1.0, multiply(sqrt(subtract(x, 1.0)), sqrt(add(x, 1.0))))


def _taylor_arccosh(ans, x0, xs):
    shifted_square = lambda x, c: multiply(subtract(x, c), add(x, c))  # noqa: E731  (digits kept near x = 1)
    series = _rsqrt_integral(x0, xs, shifted_square)
    if not _is_complex(x0):
        return series
    # complex x: the series' ((x - 1)(x + 1))^(-1/2) is the principal root's, the negative of arccosh's slope
    # 1 / (sqrt(x - 1) sqrt(x + 1)) left of the imaginary axis (Taylor mode gave -arccosh' at -1.2 + 0.9i); the
    # recurrence is linear in its start, so the whole series takes the sign of their ratio
    sigma = _power_of_two_scale(maximum(absolute(x0), 1.0), dtype_of(x0))
    principal = multiply(power(shifted_square(multiply(x0, sigma), sigma), -0.5), sigma)
    flipped = less(real(multiply(_arccosh_slope(x0), conj(principal))), 0.0)
    return multiply(series, where(flipped, -1.0, 1.0))


arccosh = elementwise("arccosh", np.arccosh, (lambda ans, x: _arccosh_slope(x),), taylor=_unary_taylor(_taylor_arccosh))

arctanh = elementwise(
    "arctanh", np.arctanh, (lambda ans, x: true_divide(1.0, _one_minus_x2(x)),),
    taylor=_unary_taylor(lambda ans, x0, xs: _integral_with(xs, *_one_minus_square(x0, xs), -1.0)))


def _broadcast_like(series, value):
    """A (K,) + s series broadcast to (K,) + value.shape (None stays None)."""
    from .shape import broadcast_to

    if series is None:
        return None
    series = S.align(series, len(shape_of(value)))
    target = tuple(shape_of(series))[:1] + tuple(shape_of(value))
    return series if tuple(shape_of(series)) == target else broadcast_to(series, shape=target)


def _binary_series(ans, series):
    """Both arguments' series with their ranks aligned to the output's (None stays None)."""
    ndim = len(shape_of(ans))
    return [S.align(s, ndim) for s in series]


def _taylor_arctan2(ans, primals, series):
    """theta = arctan2(y, x):  theta' (x^2 + y^2) = x y' - y x'  (a coupled recurrence, term by term).

    With r = x^2 + y^2 and q = x y' - y x' (q_m = sum_i (i+1)(x_{m-i} y_{i+1} - y_{m-i} x_{i+1})),
    k r_0 theta_k = q_{k-1} - sum_{j=1..k-1} j theta_j r_{k-j}.
    """
    order = S.order_of(series)
    # theta is the same for (sigma x, sigma y): scaled to |(x, y)| ~ 1, r does not overflow past 1.3e154 or
    # underflow below 1e-154 (float32: 1.8e19, 1e-19), and with sigma a power of two nothing else changes
    sigma = _power_of_two_scale(maximum(absolute(primals[0]), absolute(primals[1])), dtype_of(ans))
    y, x = (S.terms_of(multiply(p, sigma), None if s is None else multiply(s, sigma), order)
            for p, s in zip(primals, _binary_series(ans, series)))
    r = [S.t_add(S.product_term(x, x, k), S.product_term(y, y, k)) for k in range(order + 1)]
    theta = [ans]
    for k in range(1, order + 1):
        acc = None
        for i in range(k):
            cross = S.t_sub(S.t_mul(x[k - 1 - i], y[i + 1]), S.t_mul(y[k - 1 - i], x[i + 1]))
            acc = S.t_add(acc, S.t_scale(cross, float(i + 1)))
        for j in range(1, k):
            acc = S.t_sub(acc, S.t_scale(S.t_mul(theta[j], r[k - j]), float(j)))
        theta.append(None if acc is None else true_divide(acc, multiply(r[0], float(k))))
    return S.finish(theta, ans)


def _power_of_two_scale(m, dtype):
    """2^-e in ``dtype``'s precision, e an integer, taking m > 0 to [1, 2) (a scaling by it is exact); 1 where
    m is 0, inf or nan. e stops where 2^-e would overflow (subnormal m)."""
    dtype = np.finfo(dtype).dtype  # (complex: its real part's)
    bound = dtype.type(np.finfo(dtype).maxexp - 2)
    exponent = floor(log2(where(isfinite(m), where(equal(m, 0), 1.0, m), 1.0)))  # (floor: a constant)
    scale = exp2(negative(clip(exponent, -bound, bound)))
    return scale if dtype_of(scale) == dtype else astype(scale, dtype=dtype)  # (a Python float's m is float64)


def _arctan2_over_r2(numerator, y, x):
    """numerator / (x^2 + y^2) as (numerator / h) / h, h = hypot(x, y): x^2 + y^2 over- and underflows where
    arctan2's derivatives do not (they were 0 at (1e200, 1e200) for 5e-201 and inf at (1e-200, 1e-200))."""
    h = hypot(x, y)
    return true_divide(true_divide(numerator, h), h)


arctan2 = elementwise(
    "arctan2", np.arctan2,
    (lambda ans, y, x: _arctan2_over_r2(x, y, x), lambda ans, y, x: _arctan2_over_r2(negative(y), y, x)),
    taylor=_taylor_arctan2,
)


def _safe_nonzero(value):
    """value with zeros replaced by ones (a divisor that cannot be 0; callers zero those entries)."""
    return where(equal(value, 0), 1.0, value)


def _hypot_angle_series(x0, y0, xs, ys):
    """(cos, sin) of phi = arctan2(y, x) at (x0, y0), that is (x, y) / hypot, and their series along
    (x(t), y(t)) from phi's (arctan2's recurrence, then the rotation (cos, sin)' = (-sin, cos) phi')."""
    c0, s0 = hypot_cos(x0, y0), hypot_cos(y0, x0)
    phi0 = arctan2(y0, x0)
    s_series, c_series = _sin_cos_series(s0, c0, _taylor_arctan2(phi0, (y0, x0), (ys, xs)))
    return c0, s0, c_series, s_series


def _taylor_hypot(ans, primals, series):
    """h' = c x' + s y' with (c, s) = (x, y) / h, each integrated from the angle's series. Not the square root's
    recurrence on x^2 + y^2: there the 2nd coefficient y^2 / (2 h^3) came out of 1 - (x / h)^2, which keeps
    ~(y / x)^2 / eps of its digits (1.3% off in float32 at x = 0.5, y = 1e-3: smooth abs, sqrt(x^2 + eps^2))."""
    (x0, y0), (xs, ys) = primals, _binary_series(ans, series)
    c0, s0, c_series, s_series = _hypot_angle_series(x0, y0, xs, ys)
    parts = [S.integrate(_broadcast_like(own, ans), weight, weight_series)
             for own, weight, weight_series in ((xs, c0, c_series), (ys, s0, s_series)) if own is not None]
    return S.finish_series(parts[0] if len(parts) == 1 else S.plus(*parts), ans, S.order_of(series))


hypot = elementwise(
    "hypot", np.hypot, (lambda ans, x, y: hypot_cos(x, y), lambda ans, x, y: hypot_cos(y, x)),
    taylor=_taylor_hypot,
)
hypot.__doc__ = ("sqrt(x^2 + y^2) entrywise; its derivative at x = y = 0 is taken as 0 (as abs'(0) = 0), its second "
                 "derivative there is nan.")


def _hypot_cos_impl(x, y):
    h = np.hypot(x, y)
    return np.true_divide(x, np.where(h == 0, 1, h))  # x = y = 0: 0 (hypot's derivative there, by convention)


def _taylor_hypot_cos(ans, primals, series):
    (x0, y0), (xs, ys) = primals, _binary_series(ans, series)
    return S.finish_series(_hypot_angle_series(x0, y0, xs, ys)[2], ans, S.order_of(series))


# d/dx (x / h) = y^2 / h^3 and d/dy = -x y / h^3, as products of the primitive itself: 1 / h - x^2 / h^3
# (the quotient rule's) cancels where y << x. At x = y = 0 they are 0 / 0 = nan: hypot's first derivative
# there is 0 by convention, its second does not exist (the cone's curvature is infinite; PyTorch gives
# nan too); a divisor guarded to 1 made hypot's Hessian at the origin 0.
hypot_cos = elementwise(
    "hypot_cos", _hypot_cos_impl,
    (lambda ans, x, y: true_divide(square(hypot_cos(y, x)), hypot(x, y)),
     lambda ans, x, y: negative(true_divide(multiply(ans, hypot_cos(y, x)), hypot(x, y)))),
    taylor=_taylor_hypot_cos,
)
hypot_cos.__doc__ = "x / hypot(x, y) (0 at x = y = 0): hypot's derivative in x; in y it is hypot_cos(y, x)."


# --------------------------------------------------------------- the norms' root: a cone at s = 0
#
# ||x|| = s**q with s = sum |x|^p, q = 1/p. Its first derivative at x = 0 is 0 by convention (as PyTorch's);
# the second does not exist (the cone's curvature is infinite). A where-guarded s**q made every order 0 there,
# so the Hessian of norm at the zero vector was 0. cone_root's slope is its own primitive, 0 at s = 0, whose
# derivative (q - 1) slope / s is 0 / 0 = nan there: order 1 is 0, every higher order nan, as for hypot.

def _cone_root_impl(s, q):
    return np.sqrt(s) if q == 0.5 else np.power(s, q)


def _cone_root_slope_impl(s, q):
    positive = s > 0
    safe = np.where(positive, s, 1)
    slope = 0.5 / np.sqrt(safe) if q == 0.5 else q * np.power(safe, q - 1)
    return np.where(positive, slope, 0)


def _coefficient_rows(series):
    """The orders 1..K of a (K,) + shape series, shaped to broadcast against it."""
    order = series.shape[0]
    return np.arange(1, order + 1).reshape((order,) + (1,) * (series.ndim - 1))


def _taylor_cone_root(ans, primals, series):
    s0, q = primals
    # at s0 = 0, as nested mode: order 1 is the slope 0 times s_1, order k > 1 holds the slope's nan derivative
    # (whatever s's series: abs's convention makes |x|^p's series 0 at x = 0)
    at_zero = np.where(_coefficient_rows(series[0]) == 1, 0.0, np.nan).astype(dtype_of(series[0]))
    return where(equal(s0, 0), at_zero, _taylor_pow_const(ans, s0, series[0], q))


def _taylor_cone_root_slope(ans, primals, series):
    s0, q = primals
    out = _taylor_pow_const(ans, s0, series[0], q - 1)  # q s^(q-1): the recurrence is linear in ans
    return where(equal(s0, 0), np.nan, out)


cone_root = elementwise("cone_root", _cone_root_impl, (lambda ans, s, q: cone_root_slope(s, q), None),
                        taylor=_taylor_cone_root)
cone_root.__doc__ = "s**q for s >= 0 (a norm's root, q = 1/p): derivative 0 at s = 0, higher ones nan there."
cone_root_slope = elementwise("cone_root_slope", _cone_root_slope_impl, (None, None), taylor=_taylor_cone_root_slope)
# d/ds = (q - 1) ans / s, with the incoming g multiplied in before the division: next to s = 0, ans / s alone
# overflows (s = 1e-300: 1e450) where g (~ ds) brings the product back (a 2-norm's Hessian at 1e-150 was inf)
cone_root_slope.vjp = (lambda g, ans, s, q: true_divide(multiply(multiply(g, ans), q - 1.0), s), None)
cone_root_slope.jvp = (lambda t, ans, s, q: true_divide(multiply(multiply(t, ans), q - 1.0), s), None)
cone_root_slope.__doc__ = "q s**(q - 1), and 0 at s = 0: cone_root's derivative; its own is nan at s = 0."


def _expit_float(x):
    """scipy's expit for a Python float, bit for bit (scipy computes 1 / (1 + exp(-x)) too);
    math.exp overflows (x < -709.78) where scipy returns 0.0: the caller then asks scipy."""
    return 1.0 / (1.0 + math.exp(-x))


def _logistic_density_float(x):
    """expit(x) expit(-x) = e / (1 + e)^2 with e = exp(-|x|) <= 1: one exp, no overflow, no cancellation."""
    e = math.exp(-abs(x))
    return e / ((1.0 + e) * (1.0 + e))


_logistic_density_impl = scalar_fast_unary(_logistic_density_float,
                                           lambda x: np.multiply(_expit(x), _expit(np.negative(x))))


def _sigmoid_series(y0, d0, d_series, with_slope=False):
    """Series of y = expit(d(t)), y0 = expit(d0) (and of its slope w, with_slope) from the Riccati recurrence
    y' = y (1 - y) d', told w(d0) and 1 - 2 y0 = -tanh(d0 / 2) exactly: y0 (1 - y0) and 1 - 2 y0 round them
    away at saturation and at d0 ~ 0. For expit, softplus, log_expit and logaddexp's weights."""
    return S.riccati(y0, d_series, 0, 1, -1, slope0=logistic_density(d0), rate0=negative(tanh(multiply(d0, 0.5))),
                     with_slope=with_slope)


def _traced_expit(x):
    from .special import expit  # special.py's primitive, built on this module

    return expit(x)


# expit'(x) = w(x) = expit(x) expit(-x), not ans (1 - ans): that cancels where expit saturates (expit'(30) was
# 1e-3 off and expit'(40) 0 for 4.2e-18); w' = -w tanh(x / 2), not w (1 - 2 ans), which cancels at x ~ 0
logistic_density = elementwise(
    "logistic_density", _logistic_density_impl,
    (lambda ans, x: negative(multiply(ans, tanh(multiply(x, 0.5)))),),
    taylor=_unary_taylor(lambda ans, x0, xs: _sigmoid_series(_traced_expit(x0), x0, xs, with_slope=True)[1]))
logistic_density.__doc__ = "expit(x) expit(-x), the logistic density (expit's derivative); derivative -w tanh(x / 2)."


def _weight_argument(x, y, log_base):
    """d = ln(b) (x - y), whose expit is logaddexp's weight of x; 0 where x and y are the same infinity (the
    weights split evenly there)."""
    difference = subtract(x, y)
    difference = where(isinf(x), where(equal(x, y), 0.0, difference), difference)
    return difference if log_base == 1.0 else multiply(difference, log_base)


def _softmax_weight(name, log_base):
    """g times the derivative of logaddexp (log_base 1) or logaddexp2 (log_base ln 2) in x.

    d/dx log_b(b^x + b^y) = b^x / (b^x + b^y) = w = expit(ln(b) (x - y)), the
    logistic sigmoid of the difference (softplus' = expit). The primitive is
    g * w, the whole JVP (g a tangent) or VJP (g a cotangent), so that
    derivatives of it see one node: its slope in x is ln(b) g w (1 - w),
    computed on the unbatched g, x, y before it meets a batch of tangents
    (one pass over a Hessian's (n, ...) tangents instead of two). The weight
    of y is the same primitive on (g, y, x). Where x and y are the same
    infinity the difference is nan and the two weights split evenly (1/2).
    """

    def weight_of(x, y):
        with np.errstate(invalid="ignore"):
            difference = np.subtract(x, y)
        if log_base != 1.0:
            difference = np.multiply(difference, log_base)
        weight = _expit(difference)
        if np.isnan(weight).any():
            weight = np.where(np.equal(x, y), np.asarray(0.5, dtype=np.result_type(weight)), weight)
        return weight

    def impl(g, x, y):
        return np.multiply(g, weight_of(x, y))

    def linear_in_g(t, ans, g, x, y):
        return primitive(t, x, y)

    def slope(sign):
        def rule(t, ans, g, x, y):
            # ln(b) g w(d), the logistic density of d = ln(b) (x - y): w (1 - w) of the rounded weight cancelled
            # where it saturates (logaddexp(x, 0)'' at x = 30 was 1e-3 off). x = y = inf: d = 0, w = 1/4, as
            # the weights' even split
            density = logistic_density(_weight_argument(x, y, log_base))
            return multiply(t, multiply(multiply(g, density), sign * log_base))

        return rule

    def taylor(ans, primals, series):
        g0, x0, y0 = primals
        gs, xs, ys = _binary_series(ans, series)
        difference = S.scale(S.minus(xs, ys), log_base)
        w0 = primitive(1.0, x0, y0)
        ws = None if difference is None else _sigmoid_series(w0, _weight_argument(x0, y0, log_base),
                                                             _broadcast_like(difference, w0))
        return S.finish_series(S.product(g0, gs, w0, ws), ans, S.order_of(series))

    rules = (linear_in_g, slope(1.0), slope(-1.0))
    primitive = Primitive(name, impl, vjp=rules, jvp=rules, taylor=taylor, broadcasts=True)
    primitive.batch = batch_elementwise(primitive)
    argument = "x - y" if log_base == 1.0 else "ln(2) (x - y)"
    primitive.__doc__ = f"g * expit({argument}): g times d/dx of {name[:-len('_weight')]}(x, y)."
    return primitive


logaddexp_weight = _softmax_weight("logaddexp_weight", 1.0)
logaddexp2_weight = _softmax_weight("logaddexp2_weight", _LN2)


def _logaddexp_rules(weight):
    rules = (lambda g, ans, x, y: weight(g, x, y), lambda g, ans, x, y: weight(g, y, x))
    return {"vjp": rules, "jvp": rules}


def _logaddexp_series(ans, x0, y0, xs, ys):
    """log(e^x + e^y) through its derivative w x' + (1 - w) y', w = expit(x - y) and 1 - w = expit(y - x) each
    from its own Riccati series. Not log(e^{x(t)-ans} + e^{y(t)-ans}): with an argument's coefficients of size
    c the exponentials' grow like c^k / k! and the log divides them back (logaddexp(p, 3) of a quintic p with
    coefficients ~300 kept 5 digits of its 5th coefficient and none of its 6th; fuzz seed 350176).

    xs and ys are the arguments' own series (unaligned); the weights have the output's shape.
    """
    w0, v0 = logaddexp_weight(1.0, x0, y0), logaddexp_weight(1.0, y0, x0)
    xs, ys = _broadcast_like(xs, w0), _broadcast_like(ys, w0)
    difference = S.minus(xs, ys)
    if difference is None:
        return None
    d0 = _weight_argument(x0, y0, 1.0)
    parts = []
    for own, weight, sign in ((xs, w0, 1.0), (ys, v0, -1.0)):
        if own is not None:
            series = _sigmoid_series(weight, multiply(d0, sign), S.scale(difference, sign))
            parts.append(S.integrate(own, weight, series))
    return parts[0] if len(parts) == 1 else S.plus(*parts)


def _taylor_logaddexp(ans, primals, series):
    xs, ys = series
    return S.finish_series(_logaddexp_series(ans, *primals, xs, ys), ans, S.order_of(series))


logaddexp = Primitive("logaddexp", np.logaddexp, taylor=_taylor_logaddexp, broadcasts=True,
                      **_logaddexp_rules(logaddexp_weight))
logaddexp.batch = batch_elementwise(logaddexp)
logaddexp.__doc__ = "log(exp(x) + exp(y)) without overflow; d/dx = expit(x - y) (logaddexp_weight)."


def _taylor_logaddexp2(ans, primals, series):
    # log2(2^x + 2^y) = logaddexp(x ln2, y ln2) / ln2.
    (x0, y0), (xs, ys) = primals, series
    natural = _logaddexp_series(multiply(ans, _LN2), multiply(x0, _LN2), multiply(y0, _LN2),
                                S.scale(xs, _LN2), S.scale(ys, _LN2))
    return S.finish_series(S.scale(natural, 1.0 / _LN2), ans, S.order_of(series))


logaddexp2 = Primitive("logaddexp2", np.logaddexp2, taylor=_taylor_logaddexp2, broadcasts=True,
                       **_logaddexp_rules(logaddexp2_weight))
logaddexp2.batch = batch_elementwise(logaddexp2)


# --------------------------------------------------------------- selection between arguments

def _float_dtype(value):
    dtype = dtype_of(value)
    return dtype if np.issubdtype(dtype, np.inexact) else np.dtype(np.float64)


def _selection_weight(ans, x, y):
    """1 where x alone gave the answer, 1/2 at a tie with y, 0 elsewhere (autograd's convention)."""
    # Built in the answer's precision (where() of Python floats would be a float64 array).
    dtype = _float_dtype(ans)
    hit_x = astype(equal(x, ans), dtype=dtype)
    return subtract(hit_x, multiply(multiply(hit_x, astype(equal(y, ans), dtype=dtype)), 0.5))


def _taylor_selection(ans, primals, series):
    """The series of the selected argument (at a tie, the average): consistent with the JVP rule."""
    (x0, y0), (xs, ys) = primals, _binary_series(ans, series)
    out = S.plus(S.times(_selection_weight(ans, x0, y0), xs), S.times(_selection_weight(ans, y0, x0), ys))
    return S.finish_series(out, ans, S.order_of(series))


def _selection(name, impl, what):
    primitive = elementwise(
        name, impl,
        (lambda ans, x, y: _selection_weight(ans, x, y), lambda ans, x, y: _selection_weight(ans, y, x)),
        taylor=_taylor_selection,
    )
    primitive.__doc__ = (
        f"{what} entrywise. The derivative goes to the argument that gave the answer; at a tie "
        "(x == y) each argument gets half of it, as autograd does."
    )
    return primitive


maximum = _selection("maximum", np.maximum, "The larger of x and y (NaN if either is NaN)")
minimum = _selection("minimum", np.minimum, "The smaller of x and y (NaN if either is NaN)")
fmax = _selection("fmax", np.fmax, "The larger of x and y, ignoring a NaN")
fmin = _selection("fmin", np.fmin, "The smaller of x and y, ignoring a NaN")


def clip(a, a_min=None, a_max=None, *, min=None, max=None):  # noqa: A002 (numpy's names)
    """numpy.clip: ``minimum(maximum(a, a_min), a_max)``, either bound may be None (or an array).

    The derivative follows from ``maximum`` and ``minimum``: 1 strictly inside
    the bounds, 0 outside, and at a bound it is shared equally between ``a``
    and that bound (the tie convention). Bounds are differentiable too.
    """
    low = a_min if min is None else min
    high = a_max if max is None else max
    if low is None and high is None:
        raise ValueError("clip needs at least one of a_min and a_max")
    if low is not None:
        a = maximum(a, low)
    if high is not None:
        a = minimum(a, high)
    return a


# --------------------------------------------------------------- remainders

def _taylor_remainder(quotient):
    """x - q y with the integer quotient q = floor(x0 / y0) (or trunc) constant along the series."""

    def rule(ans, primals, series):
        xs, ys = _binary_series(ans, series)
        q = quotient(true_divide(primals[0], primals[1]))
        return S.finish_series(S.minus(xs, S.times(q, ys)), ans, S.order_of(series))

    return rule


remainder = elementwise(
    "remainder", np.remainder,
    (lambda ans, x, y: 1.0, lambda ans, x, y: negative(floor(true_divide(x, y)))),
    taylor=_taylor_remainder(lambda q: floor(q)),
)
remainder.__doc__ = (
    "x mod y with the sign of y (numpy.remainder, Python's %): x - floor(x / y) * y. "
    "d/dx = 1 and d/dy = -floor(x / y) away from the jumps, as autograd and JAX."
)

fmod = elementwise(
    "fmod", np.fmod,
    (lambda ans, x, y: 1.0, lambda ans, x, y: negative(trunc(true_divide(x, y)))),
    taylor=_taylor_remainder(lambda q: trunc(q)),
)
fmod.__doc__ = "C's fmod (sign of x): x - trunc(x / y) * y; d/dx = 1, d/dy = -trunc(x / y) away from jumps."


# --------------------------------------------------------------- sinc

@functools.cache
def _sinc_bessel_weights(k):
    """c with d^k/dz^k [sin(z)/z] = sum_n c[n] j_n(z), n = 0..k (spherical Bessel functions j_n).

    From j_0 = sin(z)/z and j_n' = (n j_{n-1} - (n+1) j_{n+1}) / (2n+1): each step keeps
    sum |c[n]| <= 1 and |j_n| <= 1, so the sum has no cancellation at any z, where the
    quotient rule's (z cos z - sin z) / z^2 ... loses every digit near 0.
    """
    weights = np.zeros(k + 1)
    weights[0] = 1.0
    for step in range(k):
        nxt = np.zeros(k + 1)
        for n in range(step + 1):
            nxt[n + 1] -= weights[n] * (n + 1) / (2 * n + 1)
            if n:
                nxt[n - 1] += weights[n] * n / (2 * n + 1)
        weights = nxt
    return weights


def _sinc_derivative_impl(x, k):
    """numpy.sinc's k-th derivative, pi^k j_0^(k)(pi x), in x's precision (numpy's sinc for k = 0)."""
    if k == 0:
        return np.sinc(x)
    import scipy.special

    dtype = np.result_type(x, 0.0)
    z = np.pi * np.asarray(x, dtype=np.complex128 if dtype.kind == "c" else np.float64)
    weights = _sinc_bessel_weights(k)
    out = sum(weights[n] * scipy.special.spherical_jn(n, z) for n in range(k % 2, k + 1, 2))
    out = np.asarray(out * np.pi ** k).astype(dtype, copy=False)
    return out if np.ndim(x) else out[()]


def _taylor_sinc(ans, x0, xs, k):
    order = S.order_of([xs])
    derivatives = [ans] + [sinc_derivative(x0, k=k + n) for n in range(1, order + 1)]
    return S.compose(x0, xs, S.factorial_scale(derivatives))


sinc_derivative = Primitive(
    "sinc_derivative", _sinc_derivative_impl,
    vjp=(lambda g, ans, x, k: multiply(g, sinc_derivative(x, k=k + 1)),),
    jvp=(lambda t, ans, x, k: multiply(t, sinc_derivative(x, k=k + 1)),),
    taylor=_unary_taylor(_taylor_sinc), broadcasts=True,
)
sinc_derivative.batch = batch_elementwise(sinc_derivative)
sinc_derivative.__doc__ = (
    "The k-th derivative of numpy.sinc, sin(pi x) / (pi x), as a function of x: a weighted sum of "
    "spherical Bessel functions j_n(pi x), accurate to rounding at every x, 0 included; its "
    "derivative is sinc_derivative(k + 1)."
)


def sinc(x):
    """numpy.sinc: sin(pi x) / (pi x), 1 at x = 0; derivatives of every order accurate at every x."""
    return sinc_derivative(x, k=0)


# --------------------------------------------------------------- selection by a mask

def _where_taylor(ans, primals, series):
    condition = primals[0]
    x_series = series[1] if series[1] is not None else 0.0
    y_series = series[2] if series[2] is not None else 0.0
    return where.batch([condition, x_series, y_series], [False, series[1] is not None, series[2] is not None])


where = Primitive(
    "where", np.where,
    vjp=(None, lambda g, ans, c, x, y: where(c, g, 0.0), lambda g, ans, c, x, y: where(c, 0.0, g)),
    jvp=(None, lambda t, ans, c, x, y: where(c, t, 0.0), lambda t, ans, c, x, y: where(c, 0.0, t)),
    taylor=_where_taylor, broadcasts=True,
)
where.batch = batch_elementwise(where)

_ = dtype_of  # re-exported helper used by sibling modules


# --------------------------------------------------------------- comparisons (zero derivative)

def _comparison(name, impl):
    primitive = Primitive(name, impl, differentiable=False)
    primitive.batch = batch_elementwise(primitive)
    primitive.keywords = False
    return primitive


less = _comparison("less", np.less)
less_equal = _comparison("less_equal", np.less_equal)
greater = _comparison("greater", np.greater)
greater_equal = _comparison("greater_equal", np.greater_equal)
equal = _comparison("equal", np.equal)
not_equal = _comparison("not_equal", np.not_equal)


# --------------------------------------------------------------- zero derivative everywhere

def _nondiff(name, impl, doc=None):
    """An elementwise op whose derivative is zero wherever it exists (only batching maps it)."""
    primitive = Primitive(name, impl, differentiable=False, broadcasts=True)
    primitive.batch = batch_elementwise(primitive)
    primitive.keywords = False
    if doc:
        primitive.__doc__ = doc
    return primitive


sign = _nondiff("sign", np.sign, "sign(x) of real x: piecewise constant, derivative 0 everywhere (sign'(0) = 0 too).")


def _sign(x):
    """numpy's sign: piecewise constant for real x (the primitive above); for complex z, z / |z| (numpy 2), which is
    smooth away from 0: as hypot_cos(re, im) + i hypot_cos(im, re), 0 at z = 0 with a nan derivative there (its
    zero derivative as a complex primitive made d sign(z) 0 for v/|z| - z Re(conj(z) v)/|z|^3)."""
    if not _is_complex(x):
        return sign(x)
    re, im = real(x), imag(x)
    return add(hypot_cos(re, im), multiply(hypot_cos(im, re), 1j))


floor = _nondiff("floor", np.floor)
ceil = _nondiff("ceil", np.ceil)
trunc = _nondiff("trunc", np.trunc)
rint = _nondiff("rint", np.rint)
round_ = _nondiff("round", lambda x, decimals=0: np.round(x, decimals))
round_.keywords = True  # decimals
floor_divide = _nondiff("floor_divide", np.floor_divide)
isfinite = _nondiff("isfinite", np.isfinite)
isnan = _nondiff("isnan", np.isnan)
isinf = _nondiff("isinf", np.isinf)
signbit = _nondiff("signbit", np.signbit)
_step = _nondiff("heaviside", np.heaviside, "heaviside(x, h0): 0, h0, 1 for x <0, =0, >0; a constant.")


def heaviside(x1, x2, **ufunc_keywords):
    """numpy.heaviside: 0 for x1 < 0, x2 where x1 == 0, 1 for x1 > 0. The value x2 is taken where x1 is 0, so
    the derivative in x2 is 1 there (the primitive's zero derivative in both arguments lost it); in x1, 0.
    (ufunc keywords: numpy's, on plain arrays; refused on traced ones, as every ufunc's.)"""
    if ufunc_keywords or not isinstance(x2, Tracer):
        return _step(x1, x2, **ufunc_keywords)
    return where(equal(x1, 0), x2, _step(x1, 0.5))


# --------------------------------------------------------------- complex parts and abs
# JAX's convention: the VJP is the transpose of the JVP under the real pairing
# <a, b> = Re(a b) (no conjugation). So real's VJP is real(g) (as a complex
# cotangent), imag's is -1j real(g), and a real-valued function of complex z
# gets grad = df/dx - i df/dy; e.g. grad |z|^2 = 2 conj(z). Cotangents of
# real values may carry an imaginary part picked up on the way (from a
# complex factor); it is meaningless, so rules that lead from a real output
# back to a complex input take real(g) first.

def _is_complex(x):
    return np.issubdtype(dtype_of(x), np.complexfloating)


real = Primitive("real", np.real, vjp=(lambda g, ans, x: real(g),), jvp=(lambda t, ans, x: real(t),))
real.batch = batch_elementwise(real)
real.taylor = taylor_linear(real)
real.__doc__ = "Real part; VJP real(g) as a complex cotangent (JAX's transpose of real)."


def _imag_vjp(g, ans, x):
    if _is_complex(x):
        return multiply(real(g), -1j)
    return zeros_like(x)


imag = Primitive("imag", np.imag, vjp=(_imag_vjp,), jvp=(lambda t, ans, x: imag(t),))
imag.batch = batch_elementwise(imag)
imag.taylor = taylor_linear(imag)
imag.__doc__ = "Imaginary part (zeros for real x); VJP -1j real(g) (JAX's transpose of imag)."

conj = Primitive("conjugate", np.conjugate, vjp=(lambda g, ans, x: conj(g),), jvp=(lambda t, ans, x: conj(t),))
conj.batch = batch_elementwise(conj)
conj.taylor = taylor_linear(conj)
conj.__doc__ = "Complex conjugate (identity for real x); linear, VJP conj(g)."


def _unit_conjugate(ans, x):
    """conj(x) / |x|, and 0 where x = 0 (the abs'(0) = 0 convention), as (re - i im) / hypot(re, im)
    through hypot_cos, whose own derivative is nan there: |z| is a cone at 0, with no second derivative
    (conj(x) over a divisor guarded to 1 gave the identity for its Hessian)."""
    re, im = real(x), imag(x)
    return subtract(hypot_cos(re, im), multiply(hypot_cos(im, re), 1j))


def _abs_vjp(g, ans, x):
    if _is_complex(x):
        return multiply(real(g), _unit_conjugate(ans, x))
    return multiply(g, sign(x))


def _abs_jvp(t, ans, x):
    if _is_complex(x):
        return real(multiply(t, _unit_conjugate(ans, x)))
    return multiply(t, sign(x))


def _taylor_abs(ans, primals, series):
    x0 = primals[0]
    if _is_complex(x0):
        from ..interpreters.taylor import nested_forward_series

        return nested_forward_series(absolute, primals, series, {}, S.order_of(series))
    # |x(t)| = sign(x0) x(t) near x0 (and all zero at x0 = 0, matching abs'(0) = 0).
    return multiply(sign(x0), series[0])


absolute = Primitive("absolute", np.absolute, vjp=(_abs_vjp,), jvp=(_abs_jvp,), taylor=_taylor_abs)
absolute.batch = batch_elementwise(absolute)
absolute.__doc__ = (
    "|x|. Real x: derivative sign(x), so abs'(0) = 0 (by convention, as the API asks; JAX uses 1). "
    "Complex z: JVP real(conj(z) t / |z|), VJP real(g) conj(z) / |z| (JAX's rule), 0 at z = 0."
)


def _conj_over_abs2(x):
    """conj(x) / |x|^2 = 1 / x, and 0 at x = 0."""
    abs2 = real(multiply(x, conj(x)))
    return true_divide(conj(x), _safe_nonzero(abs2))


def _angle_vjp(g, ans, x):
    if _is_complex(x):
        return multiply(real(g), multiply(_conj_over_abs2(x), -1j))
    return zeros_like(x)


def _angle_jvp(t, ans, x):
    if _is_complex(x):
        return imag(multiply(t, _conj_over_abs2(x)))
    return zeros_like(ans)


def _taylor_angle(ans, primals, series):
    x0, xs = primals[0], series[0]
    if not _is_complex(x0):
        return S.finish_series(None, ans, S.order_of(series))  # 0 or pi: constant
    # angle(z(t)) = Im log z(t) along the series (z0 != 0; the branch cut is never crossed locally).
    return imag(S.log_series(x0, xs))


angle = Primitive("angle", lambda x: np.angle(x), vjp=(_angle_vjp,), jvp=(_angle_jvp,), taylor=_taylor_angle)
angle.batch = batch_elementwise(angle)
angle.__doc__ = (
    "Argument of z in radians (0 or pi for real x, zero derivative there). For complex z the "
    "JVP is Im(t / z), the VJP -1j real(g) / z (arctan2(imag, real) differentiated); 0 at z = 0."
)


# --------------------------------------------------------------- dtype casts and constants

def _astype_impl(x, dtype):
    x = backends.asarray(x)
    if np.iscomplexobj(x) and not np.issubdtype(dtype, np.complexfloating):
        x = x.real  # numpy's cast, without its ComplexWarning
    return x.astype(dtype)


def _astype_vjp(g, ans, x, dtype):
    target = dtype_of(x)
    if _is_complex(g) and not np.issubdtype(target, np.complexfloating):
        g = real(g)
    return g if dtype_of(g) == target else astype(g, dtype=target)


astype = Primitive("astype", _astype_impl, vjp=(_astype_vjp,), jvp=(lambda t, ans, x, dtype: astype(t, dtype=dtype),))
astype.batch = batch_elementwise(astype)
astype.taylor = taylor_linear(astype)
astype.__doc__ = "x cast to a float or complex ``dtype`` (complex to real keeps the real part, as numpy)."

_astype_discrete = Primitive("astype_discrete", _astype_impl, differentiable=False)
_astype_discrete.batch = batch_elementwise(_astype_discrete)


def cast(x, dtype, copy=True, order="K", casting="unsafe", subok=True):
    """numpy.astype / ndarray.astype: x as ``dtype``.

    To a float or complex dtype the cast is differentiable (its cotangent is
    cast back to x's dtype; complex to real keeps the real part, so the
    cotangent is real(g) made complex). To an integer or bool dtype the
    result is a constant (zero derivative), as in JAX. ``casting`` refuses what
    numpy's refuses (``np.can_cast``); ``order`` and ``subok`` do not matter for a
    traced value, which has no memory layout of its own.
    """
    dtype = np.dtype(dtype)
    if casting != "unsafe" and not np.can_cast(dtype_of(x), dtype, casting=casting):
        raise TypeError(f"Cannot cast array data from dtype('{np.dtype(dtype_of(x))}') to {dtype!r} according to "
                        f"the rule {casting!r}")
    if order not in ("K", "A", "C", "F"):
        raise ValueError(f"astype: order must be one of 'K', 'A', 'C' or 'F', got {order!r}")
    if np.issubdtype(dtype, np.inexact):
        return x if (dtype_of(x) == dtype and not copy) else astype(x, dtype=dtype)
    return _astype_discrete(x, dtype=dtype)


def accumulated_as(a, dtype):
    """a in a reduction's ``dtype=`` (None: as it is). numpy casts the entries to the accumulator's type
    first, so this is that cast: differentiable to a float or complex type, a constant to an integer one
    (as ``astype``)."""
    return a if dtype is None else cast(a, dtype, copy=False)


def full_like(a, fill_value, dtype=None, shape=None):
    """numpy.full_like: an array of a's shape (or ``shape``) and dtype filled with ``fill_value``.

    A constant unless ``fill_value`` is itself traced, in which case the
    result is the broadcast fill value (differentiable in it).
    """
    from .shape import broadcast_to

    dtype = dtype_of(a) if dtype is None else np.dtype(dtype)
    shape = shape_of(a) if shape is None else ((shape,) if isinstance(shape, int) else tuple(shape))
    if isinstance(fill_value, Tracer) or backends.backend_name(fill_value) != "numpy":  # (np.full copies it into numpy)
        return broadcast_to(cast(fill_value, dtype), shape=shape)
    return backends.full(shape, fill_value, dtype=dtype, like=a)


def fabs(x):
    """numpy.fabs: |x| of real x; complex x is refused, as numpy's fabs refuses it."""
    if _is_complex(x):
        raise TypeError("hodiff.numpy.fabs: complex input is not supported (numpy's fabs is for real x); "
                        "use hodiff.numpy.abs for |z|")
    return absolute(x)


def copysign(x1, x2, **ufunc_keywords):
    """numpy.copysign: |x1| with the sign (bit) of x2; d/dx1 = +-1 (whether the signs differ), d/dx2 = 0."""
    if ufunc_keywords or not (isinstance(x1, Tracer) or isinstance(x2, Tracer)):
        return np.copysign(x1, x2, **ufunc_keywords)
    dtype = np.result_type(dtype_of(x1), dtype_of(x2))
    x1 = x1 if dtype_of(x1) == dtype else cast(x1, dtype)
    return where(not_equal(signbit(x1), signbit(x2)), negative(x1), x1)


def divmod_(x, y):
    """numpy.divmod: (floor_divide(x, y), remainder(x, y)), the quotient a constant."""
    return floor_divide(x, y), remainder(x, y)


def full(shape, fill_value, dtype=None, order="C", *, like=None):
    """numpy.full: an array of ``shape`` filled with ``fill_value`` (broadcast to it, as numpy does).

    A constant unless ``fill_value`` is traced; then it is the broadcast fill value, whose gradient sums
    the cotangent back to the fill's shape. dtype: numpy's (the fill value's, or ``dtype``).
    """
    from .shape import broadcast_to

    if not isinstance(fill_value, Tracer):
        return np.full(shape, fill_value, dtype=dtype, order=order, **({} if like is None else {"like": like}))
    dtype = dtype_of(fill_value) if dtype is None else np.dtype(dtype)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return broadcast_to(cast(fill_value, dtype), shape=shape)


def _zeros_like(a, dtype=None, shape=None):
    """numpy.zeros_like: a constant (never traced) of a's shape and dtype."""
    return full_like(a, 0, dtype=dtype, shape=shape)


def _ones_like(a, dtype=None, shape=None):
    """numpy.ones_like: a constant (never traced) of a's shape and dtype."""
    return full_like(a, 1, dtype=dtype, shape=shape)


# --------------------------------------------------------------- compositions under numpy names

def deg2rad(x):
    """Degrees to radians: x * pi / 180."""
    return multiply(x, math.pi / 180.0)


def rad2deg(x):
    """Radians to degrees: x * 180 / pi."""
    return multiply(x, 180.0 / math.pi)


def float_power(x, y):
    """numpy.float_power: x ** y computed in float64 (complex128 for complex input)."""
    wide = np.complex128 if (_is_complex(x) or _is_complex(y)) else np.float64
    return power(cast(x, wide, copy=False), cast(y, wide, copy=False))


def _np_round(a, decimals=0):
    return round_(a, decimals=int(decimals))


def _np_angle(z, deg=False):
    out = angle(z)
    return rad2deg(out) if deg else out


# --------------------------------------------------------------- the numpy namespace's names

def _where(condition, x=None, y=None):
    if x is None and y is None:  # numpy's where(c): the indices of c's nonzero entries (a value-only function)
        from .. import numpy as hnp  # (the namespace imports the primitives)

        return hnp.nonzero(condition)
    if x is None or y is None:  # where(c, x) would reach numpy as where(c, x, None): an object array
        raise ValueError("hodiff.numpy.where: either both or neither of x and y should be given (as numpy)")
    return where(condition, x, y)


NUMPY_API = {
    "add": add, "subtract": subtract, "multiply": multiply, "divide": true_divide,
    "true_divide": true_divide, "negative": negative, "power": power, "pow": power, "exp": exp, "log": log,
    "sin": sin, "cos": cos, "tanh": tanh, "sqrt": sqrt, "where": _where,
    "less": less, "less_equal": less_equal, "greater": greater, "greater_equal": greater_equal,
    "equal": equal, "not_equal": not_equal,
    # elementary functions
    "expm1": expm1, "log1p": log1p, "log2": log2, "log10": log10, "exp2": exp2, "cbrt": cbrt,
    "square": square, "reciprocal": reciprocal, "tan": tan, "arcsin": arcsin, "arccos": arccos,
    "arctan": arctan, "arctan2": arctan2, "sinh": sinh, "cosh": cosh, "arcsinh": arcsinh,
    "arccosh": arccosh, "arctanh": arctanh, "asin": arcsin, "acos": arccos, "atan": arctan,
    "atan2": arctan2, "asinh": arcsinh, "acosh": arccosh, "atanh": arctanh, "sinc": sinc,
    "hypot": hypot, "logaddexp": logaddexp, "logaddexp2": logaddexp2,
    "deg2rad": deg2rad, "radians": deg2rad, "rad2deg": rad2deg, "degrees": rad2deg,
    "float_power": float_power, "positive": lambda x: x,
    # selection, remainders
    "maximum": maximum, "minimum": minimum, "fmax": fmax, "fmin": fmin, "clip": clip,
    "remainder": remainder, "mod": remainder, "fmod": fmod, "divmod": divmod_, "copysign": copysign,
    # complex parts, abs
    "absolute": absolute, "abs": absolute, "fabs": fabs, "real": real, "imag": imag,
    "conj": conj, "conjugate": conj, "angle": _np_angle,
    # zero derivative
    "sign": _sign, "floor": floor, "ceil": ceil, "trunc": trunc, "fix": trunc, "rint": rint,
    "round": _np_round, "around": _np_round, "floor_divide": floor_divide, "isfinite": isfinite,
    "isnan": isnan, "isinf": isinf, "signbit": signbit, "heaviside": heaviside,
    # dtype and constants
    "astype": cast, "full": full, "full_like": full_like, "zeros_like": _zeros_like, "ones_like": _ones_like,
}

# A primitive named after a numpy ufunc takes no parameters of its own: a keyword is one of the ufunc's (out=,
# where=, dtype=, casting=, ...), refused on traced values and handed to numpy's ufunc on plain ones.
for _primitive in NUMPY_API.values():
    if isinstance(_primitive, Primitive) and isinstance(getattr(np, _primitive.name, None), np.ufunc):
        _primitive.keywords = False

from . import series as S  # noqa: E402  (Taylor term helpers; they use the primitives above)
