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
from .rules import batch_elementwise, dtype_of, elementwise, taylor_bilinear, taylor_linear

__all__ = [
    "add", "subtract", "multiply", "true_divide", "negative", "power", "exp", "log",
    "sin", "cos", "tanh", "sqrt", "where",
]


def _series_list(series):
    return [series[j] for j in range(series.shape[0])]


def _stack(terms):
    from .shape import stack

    return stack(*terms, axis=0)


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
multiply.taylor = taylor_bilinear(multiply)


def _taylor_divide(ans, primals, series):
    """y = a / b:  sum_j b_j y_{k-j} = a_k,  so  y_k = (a_k - sum_{j>=1} b_j y_{k-j}) / b_0."""
    b0 = primals[1]
    a_series, b_series = series
    if b_series is None:
        return true_divide(a_series, b0)
    order = b_series.shape[0]
    a_terms = _series_list(a_series) if a_series is not None else [0.0] * order
    b_terms = _series_list(b_series)
    y = [ans]
    for k in range(1, order + 1):
        acc = a_terms[k - 1]
        for j in range(1, k + 1):
            acc = subtract(acc, multiply(b_terms[j - 1], y[k - j]))
        y.append(true_divide(acc, b0))
    return _stack(y[1:])


true_divide = elementwise(
    "true_divide", np.true_divide,
    (lambda ans, x, y: true_divide(1.0, y), lambda ans, x, y: negative(true_divide(ans, y))),
    taylor=_taylor_divide,
)


def _taylor_exp_from(y0, x_series):
    """Series of y = exp(x):  k y_k = sum_{j=1..k} j x_j y_{k-j}."""
    x = _series_list(x_series)
    y = [y0]
    for k in range(1, len(x) + 1):
        acc = 0.0
        for j in range(1, k + 1):
            acc = add(acc, multiply(x[j - 1], y[k - j]) * (j / k))
        y.append(acc)
    return _stack(y[1:])


def _taylor_log_from(x0, x_series):
    """Series of y = log(x):  k x_0 y_k = k x_k - sum_{j=1..k-1} (k-j) x_j y_{k-j}."""
    x = _series_list(x_series)
    y = [None]
    for k in range(1, len(x) + 1):
        acc = x[k - 1]
        for j in range(1, k):
            acc = subtract(acc, multiply(x[j - 1], y[k - j]) * ((k - j) / k))
        y.append(true_divide(acc, x0))
    return _stack(y[1:])


def _taylor_pow_const(y0, x0, x_series, p):
    """Series of y = x**p for constant p:  k x_0 y_k = sum_{j=1..k} (p j - (k - j)) x_j y_{k-j}."""
    x = _series_list(x_series)
    y = [y0]
    for k in range(1, len(x) + 1):
        acc = 0.0
        for j in range(1, k + 1):
            acc = add(acc, multiply(x[j - 1], y[k - j]) * ((p * j - (k - j)) / k))
        y.append(true_divide(acc, x0))
    return _stack(y[1:])


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


def _sin_cos_series(s0, c0, x_series):
    """sin and cos series together:  k s_k = sum j x_j c_{k-j},  k c_k = -sum j x_j s_{k-j}."""
    x = _series_list(x_series)
    s, c = [s0], [c0]
    for k in range(1, len(x) + 1):
        s_acc, c_acc = 0.0, 0.0
        for j in range(1, k + 1):
            weight = j / k
            s_acc = add(s_acc, multiply(x[j - 1], c[k - j]) * weight)
            c_acc = subtract(c_acc, multiply(x[j - 1], s[k - j]) * weight)
        s.append(s_acc)
        c.append(c_acc)
    return _stack(s[1:]), _stack(c[1:])


sin = elementwise("sin", np.sin, (lambda ans, x: cos(x),),
                  taylor=lambda ans, primals, series: _sin_cos_series(ans, cos(primals[0]), series[0])[0])

cos = elementwise("cos", np.cos, (lambda ans, x: negative(sin(x)),),
                  taylor=lambda ans, primals, series: _sin_cos_series(sin(primals[0]), ans, series[0])[1])


def _taylor_tanh(ans, primals, series):
    """y = tanh(x), y' = (1 - y^2) x':  k y_k = sum_j j x_j z_{k-j} with z = 1 - y^2."""
    x = _series_list(series[0])
    y = [ans]
    z = [subtract(1.0, multiply(ans, ans))]
    for k in range(1, len(x) + 1):
        acc = 0.0
        for j in range(1, k + 1):
            acc = add(acc, multiply(x[j - 1], z[k - j]) * (j / k))
        y.append(acc)
        z_k = 0.0
        for i in range(k + 1):
            z_k = subtract(z_k, multiply(y[i], y[k - i]))
        z.append(z_k)
    return _stack(y[1:])


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
    if x is None or y is None:  # where(c, x) would reach numpy as where(c, x, None): an object array
        raise TypeError("hodiff.numpy.where needs x and y; for indices use numpy.nonzero")
    return where(condition, x, y)


NUMPY_API = {
    "add": add, "subtract": subtract, "multiply": multiply, "divide": true_divide,
    "true_divide": true_divide, "negative": negative, "power": power, "exp": exp, "log": log,
    "sin": sin, "cos": cos, "tanh": tanh, "sqrt": sqrt, "where": _where,
}
