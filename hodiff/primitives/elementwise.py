"""Elementwise primitives: arithmetic and the elementary functions.

Each entry is one place: numpy implementation, partial derivatives (which give
the VJP and JVP), batching by broadcasting, and the Taylor rule. Taylor rules
use the standard recurrences (Griewank & Walther, *Evaluating Derivatives*,
ch. 13): for y = f(x(t)) with f' expressible through y and x, equating
coefficients of y' = f'(x) x' gives y_k from y_0..y_{k-1} in O(k) work, so a
K-th order series costs O(K^2).

Conventions at kinks (documented, as the API asks): abs'(0) = 0, sign' = 0.
Complex values follow JAX: the VJP multiplies by the derivative without
conjugating it.
"""

import numpy as np

from ..core.trace import Primitive
from . import shape as _S  # shape ops for the Taylor rules (shape.py does not import this module)
from .rules import batch_elementwise, dtype_of, elementwise, shape_of, taylor_bilinear, taylor_linear

__all__ = [
    "add", "subtract", "multiply", "true_divide", "negative", "power", "exp", "log",
    "sin", "cos", "tanh", "sqrt", "where",
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


def _recurrence_matrix(weights, series, channels=None):
    """M[k-1, j-1] = weights[k-1, j-1] * series[j-1], shape (K, K) + member shape.

    With ``channels`` (a 1-d numpy array of signs) M gets a channel axis after
    the two coefficient axes: M[k-1, j-1, c] = channels[c] * weights * series.
    """
    shape = shape_of(series)
    member_ndim = len(shape) - 1
    if channels is None:
        weights = weights.reshape(weights.shape + (1,) * member_ndim)
        return multiply(weights, _S.reshape(series, shape=(1,) + shape))
    weights = (weights[:, :, None] * channels).reshape(weights.shape + channels.shape + (1,) * member_ndim)
    return multiply(weights, _S.reshape(series, shape=(1,) + shape[:1] + (1,) + shape[1:]))


def _history(value):
    """A coefficient as a one-entry history (leading axis of length 1)."""
    return _S.reshape(value, shape=(1,) + tuple(shape_of(value)))


def _next_coefficient(matrix, k, history):
    """sum_{j=1..k} matrix[k-1, j-1] * history[j-1], kept with a leading axis of length 1."""
    return _S.sum(multiply(_S.getitem(matrix, index=(k - 1, slice(0, k))), history), axis=0, keepdims=True)


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

add = Primitive("add", np.add, vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: g),
                jvp=(lambda t, ans, x, y: t, lambda t, ans, x, y: t), broadcasts=True)
add.batch = batch_elementwise(add)
add.taylor = taylor_linear(add)

subtract = Primitive("subtract", np.subtract,
                     vjp=(lambda g, ans, x, y: g, lambda g, ans, x, y: negative(g)),
                     jvp=(lambda t, ans, x, y: t, lambda t, ans, x, y: negative(t)), broadcasts=True)
subtract.batch = batch_elementwise(subtract)
subtract.taylor = taylor_linear(subtract)

negative = Primitive("negative", np.negative, vjp=(lambda g, ans, x: negative(g),),
                     jvp=(lambda t, ans, x: negative(t),), broadcasts=True)
negative.batch = batch_elementwise(negative)
negative.taylor = taylor_linear(negative)

multiply = Primitive("multiply", np.multiply,
                     vjp=(lambda g, ans, x, y: multiply(g, y), lambda g, ans, x, y: multiply(g, x)),
                     jvp=(lambda t, ans, x, y: multiply(t, y), lambda t, ans, x, y: multiply(x, t)),
                     broadcasts=True)
multiply.batch = batch_elementwise(multiply)


_cauchy_index_cache = {}


def _cauchy_index(order):
    """index[k-1, j] = k - j for j <= k, else K + 1 (a zero row appended after b_0..b_K)."""
    index = _cauchy_index_cache.get(order)
    if index is None:
        k = np.arange(1, order + 1)[:, None]
        j = np.arange(order + 1)[None, :]
        index = _cauchy_index_cache[order] = np.where(j <= k, k - j, order + 1)
    return index


def _taylor_multiply(ans, primals, series):
    """Cauchy product y_k = sum_{j=0..k} a_j b_{k-j}, all k at once.

    The b coefficients are gathered into a (K, K+1) + shape Toeplitz array
    (zero-padded above the anti-diagonal), multiplied by a_0..a_K and summed
    over j: a fixed number of primitives whatever K is.
    """
    (a0, b0), (a_series, b_series) = primals, series
    if a_series is None or b_series is None:
        return _taylor_multiply_one_series(ans, primals, series)
    a_shape, b_shape = shape_of(a0), shape_of(b0)
    ndim = max(len(a_shape), len(b_shape))
    a_shape = (1,) * (ndim - len(a_shape)) + tuple(a_shape)
    b_shape = (1,) * (ndim - len(b_shape)) + tuple(b_shape)
    order = shape_of(a_series)[0]
    a = _S.concatenate(_S.reshape(a0, shape=(1, 1) + a_shape),
                       _S.reshape(a_series, shape=(1, order) + a_shape), axis=1)
    b_first = _S.reshape(b0, shape=(1,) + b_shape)
    b = _S.concatenate(b_first, _S.reshape(b_series, shape=(order,) + b_shape), _S.zeros_like(b_first), axis=0)
    return _S.sum(multiply(a, _S.getitem(b, index=_cauchy_index(order))), axis=1)


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
    "true_divide", np.true_divide,
    (lambda ans, x, y: true_divide(1.0, y), lambda ans, x, y: negative(true_divide(ans, y))),
    taylor=_taylor_divide,
)


def _taylor_exp_from(y0, x_series):
    """Series of y = exp(x):  k y_k = sum_{j=1..k} j x_j y_{k-j}."""
    order = x_series.shape[0]
    return _linear_recurrence(_recurrence_matrix(_weights("j/k", order), x_series), y0, order)


def _taylor_log_from(x0, x_series):
    """Series of y = log(x):  y_k = x_k / x_0 - sum_{j=1..k-1} ((k-j)/k) (x_j / x_0) y_{k-j}.

    The weight of y_0 is zero, so the history starts from a zero placeholder.
    """
    order = x_series.shape[0]
    scaled = true_divide(x_series, x0)
    matrix = _recurrence_matrix(_weights("(k-j)/k", order), negative(scaled))
    return _linear_recurrence(matrix, _S.zeros_like(x0), order, known=scaled)


def _taylor_pow_const(y0, x0, x_series, p):
    """Series of y = x**p for constant p:  k x_0 y_k = sum_{j=1..k} (p j - (k - j)) x_j y_{k-j}."""
    order = x_series.shape[0]
    matrix = _recurrence_matrix(_weights("power", order, p), true_divide(x_series, x0))
    return _linear_recurrence(matrix, y0, order)


def _taylor_power(ans, primals, series):
    (x0, p0), (x_series, p_series) = primals, series
    if p_series is None and np.ndim(p0) == 0 and not hasattr(p0, "_trace"):
        return _taylor_pow_const(ans, x0, x_series, float(p0))
    # x**p = exp(p log x) when the exponent varies too (x > 0).
    log_x = log(x0)
    log_series = _taylor_log_from(x0, x_series) if x_series is not None else None
    product = taylor_bilinear(multiply)(multiply(p0, log_x), (p0, log_x), (p_series, log_series))
    return _taylor_exp_from(ans, product)


def _power_dx(ans, x, y):
    # y * x**(y-1), written so that y = 0 gives 0 rather than 0 * inf at x = 0.
    return multiply(y, power(x, where(y != 0, subtract(y, 1), 1)))


def _power_dy(ans, x, y):
    # log(x) * x**y, with the limit 0 at x = 0 (as autograd does).
    return multiply(ans, log(where(x != 0, x, 1)))


power = elementwise("power", np.power, (_power_dx, _power_dy), taylor=_taylor_power)


# --------------------------------------------------------------- elementary functions

exp = elementwise("exp", np.exp, (lambda ans, x: ans,),
                  taylor=lambda ans, primals, series: _taylor_exp_from(ans, series[0]))

log = elementwise("log", np.log, (lambda ans, x: true_divide(1.0, x),),
                  taylor=lambda ans, primals, series: _taylor_log_from(primals[0], series[0]))


_COS_SIN_SIGNS = np.array([1.0, -1.0])
_SWAP = np.array([1, 0])


def _sin_cos_series(s0, c0, x_series):
    """sin and cos series together:  k s_k = sum j x_j c_{k-j},  k c_k = -sum j x_j s_{k-j}.

    One history holds (c_j, s_j) pairs along a channel axis, so each k is one
    multiply and one sum for both series.
    """
    order = x_series.shape[0]
    matrix = _recurrence_matrix(_weights("j/k", order), x_series, channels=_COS_SIN_SIGNS)
    history = _history(_S.stack(c0, s0, axis=0))  # (1, 2) + shape: [[c_0, s_0]]
    for k in range(1, order + 1):
        s_and_c = _next_coefficient(matrix, k, history)  # [[s_k, c_k]]
        history = _prepend(_S.getitem(s_and_c, index=(slice(None), _SWAP)), history)
    both = _in_order(history, order)  # (K, 2) + shape
    return _S.getitem(both, index=(slice(None), 1)), _S.getitem(both, index=(slice(None), 0))


sin = elementwise("sin", np.sin, (lambda ans, x: cos(x),),
                  taylor=lambda ans, primals, series: _sin_cos_series(ans, cos(primals[0]), series[0])[0])

cos = elementwise("cos", np.cos, (lambda ans, x: negative(sin(x)),),
                  taylor=lambda ans, primals, series: _sin_cos_series(sin(primals[0]), ans, series[0])[1])


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


tanh = elementwise("tanh", np.tanh, (lambda ans, x: subtract(1.0, multiply(ans, ans)),), taylor=_taylor_tanh)

sqrt = elementwise("sqrt", np.sqrt, (lambda ans, x: true_divide(0.5, ans),),
                   taylor=lambda ans, primals, series: _taylor_pow_const(ans, primals[0], series[0], 0.5))


# --------------------------------------------------------------- selection

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


# --------------------------------------------------------------- the numpy namespace's names

def _where(condition, x=None, y=None):
    if x is None and y is None:
        raise TypeError("hodiff.numpy.where needs x and y; for indices use numpy.nonzero")
    return where(condition, x, y)


NUMPY_API = {
    "add": add, "subtract": subtract, "multiply": multiply, "divide": true_divide,
    "true_divide": true_divide, "negative": negative, "power": power, "exp": exp, "log": log,
    "sin": sin, "cos": cos, "tanh": tanh, "sqrt": sqrt, "where": _where,
}
