"""Truncated Taylor-series arithmetic for the Taylor rules of elementwise primitives.

Two representations:

- a *series array* of shape (K,) + member shape holds the coefficients
  c_1..c_K of t^1..t^K (the primal is kept apart); ``None`` is the zero
  series (a constant argument). The functions here work on whole series
  with a fixed number of primitives per coefficient (the vectorized
  recurrences of ``elementwise.py``), so a K-th order rule costs O(K)
  primitive calls on (K, K)-sized arrays;
- a *term list* ``[primal, c_1, ..., c_K]`` (``None`` for a zero term), for
  the coupled recurrences (erfinv, erfcx, arctan2 ...) whose coefficient k
  needs everything before it.

The recurrences are the standard ones (Griewank & Walther, *Evaluating
Derivatives*, ch. 13): for y = f(x(t)) with f' expressible through y and x,
equating coefficients of y' = f'(x) x' gives y_k from y_0..y_{k-1}. Every
operation is a hodiff primitive, so the rules built from these helpers are
differentiable by any enclosing transform.
"""

import math

import numpy as np

from .elementwise import (
    _history,
    _in_order,
    _next_coefficient,
    _prepend,
    _recurrence_matrix,
    _taylor_exp_from,
    _taylor_log_from,
    _taylor_multiply,
    _taylor_pow_const,
    _weights,
    add,
    multiply,
    negative,
    subtract,
)
from .rules import dtype_of, shape_of

__all__ = [
    "order_of", "align", "finish_series", "scale", "plus", "minus", "times", "product", "square",
    "exp_series", "log_series", "pow_series", "integrate", "riccati", "compose",
    "terms_of", "finish", "t_add", "t_sub", "t_mul", "t_scale", "product_term", "integrate_step",
    "factorial_scale",
]


# ----------------------------------------------------------------- series arrays

def order_of(series):
    """K, the number of coefficients after the primal, from the first series that is not None."""
    for s in series:
        if s is not None:
            return shape_of(s)[0]
    raise ValueError("Taylor rule called without any series")


def align(series, ndim):
    """A (K,) + shape series reshaped to (K,) + (1,) * (ndim - len(shape)) + shape.

    Member shapes broadcast against each other from the right; a series has
    the extra coefficient axis in front, so a lower-rank argument's series
    needs its missing axes spelled out before it meets another series.
    """
    from .shape import reshape

    if series is None:
        return None
    shape = shape_of(series)
    missing = ndim - (len(shape) - 1)
    if missing <= 0:
        return series
    return reshape(series, shape=shape[:1] + (1,) * missing + tuple(shape[1:]))


def finish_series(series, ans, order):
    """The output series of shape (K,) + ans.shape (zeros for None)."""
    from .elementwise import full_like
    from .shape import broadcast_to

    out_shape = tuple(shape_of(ans))
    if series is None:
        return full_like(ans, 0, shape=(order,) + out_shape)
    series = align(series, len(out_shape))
    if tuple(shape_of(series)) != (order,) + out_shape:
        series = broadcast_to(series, shape=(order,) + out_shape)
    return series


def scale(series, factor):
    """series * factor for a Python number (keeps float32 float32)."""
    if series is None or factor == 0:
        return None
    return series if factor == 1 else multiply(series, factor)


def plus(a, b):
    if a is None:
        return b
    return a if b is None else add(a, b)


def minus(a, b):
    if b is None:
        return a
    return negative(b) if a is None else subtract(a, b)


def times(value, series):
    """A member-shaped value times every coefficient of a series."""
    return None if series is None else multiply(value, series)


def product(a0, a_series, b0, b_series):
    """Series of a(t) b(t) (the Cauchy product), given both primals and series."""
    if a_series is None and b_series is None:
        return None
    return _taylor_multiply(None, (a0, b0), (a_series, b_series))


def square(x0, x_series):
    return product(x0, x_series, x0, x_series)


def exp_series(y0, w_series):
    """Series of y = exp(w) with y0 = exp(w0)."""
    return None if w_series is None else _taylor_exp_from(y0, w_series)


def log_series(w0, w_series):
    """Series of y = log(w)."""
    return None if w_series is None else _taylor_log_from(w0, w_series)


def pow_series(y0, w0, w_series, p):
    """Series of y = w**p for a constant p, with y0 = w0**p (p = -1: the reciprocal)."""
    return None if w_series is None else _taylor_pow_const(y0, w0, w_series, p)


_integrate_weights_cache = {}


def _integrate_weights(order, dtype):
    """(j, 1/k) as numpy columns of shape (K+1,) and (K,) in the series' precision (j = 0..K, k = 1..K)."""
    key = (order, np.dtype(dtype))
    weights = _integrate_weights_cache.get(key)
    if weights is None:
        j = np.arange(order + 1, dtype=dtype)
        weights = _integrate_weights_cache[key] = (j, (1.0 / j[1:]).astype(dtype))
    return weights


def integrate(x_series, v0, v_series):
    """Series of y with y' = v(t) x'(t) (y0 is the caller's):  y_k = (1/k) sum_{j=1..k} j x_j v_{k-j}.

    v is known in full, so all K coefficients are one Cauchy product of
    (0, 1 x_1, ..., K x_K) with (v_0, ..., v_K), scaled by 1/k: O(K x entries) memory.
    """
    from .cauchy import series_product
    from .shape import concatenate, getitem, reshape, zeros_like

    if v_series is None:  # v constant: y_k = x_k v0
        return multiply(x_series, v0)
    order = shape_of(x_series)[0]
    ndim = max(len(shape_of(x_series)), len(shape_of(v_series))) - 1
    x_series, v_series = align(x_series, ndim), align(v_series, ndim)
    precision = np.finfo(np.result_type(dtype_of(x_series), dtype_of(v_series))).dtype
    j, inverse_k = _integrate_weights(order, precision)
    member = (1,) * ndim
    first = reshape(zeros_like(getitem(x_series, index=slice(0, 1))), shape=(1,) + tuple(shape_of(x_series))[1:])
    scaled_x = concatenate(first, multiply(x_series, j[1:].reshape((order,) + member)), axis=0)
    v0_shape = tuple(shape_of(v0))
    v0 = reshape(v0, shape=(1,) + (1,) * (ndim - len(v0_shape)) + v0_shape)
    v_full = concatenate(v0, v_series, axis=0)
    product = series_product(scaled_x, v_full)
    return multiply(getitem(product, index=slice(1, None)), inverse_k.reshape((order,) + member))


def riccati(y0, x_series, a, b, c, *, slope0=None, rate0=None, with_slope=False):
    """Series of y with y' = (a + b y + c y^2) x' for Python numbers a, b, c.

    tan: (1, 0, 1); the logistic sigmoid: (0, 1, -1) (tanh is (1, 0, -1)).
    z = a + b y + c y^2 is carried along: z_k = (b + 2 c y_0) y_k + c sum_{i=1..k-1} y_i y_{k-i}.
    ``slope0`` = z(y_0) and ``rate0`` = b + 2 c y_0 are the caller's where it knows them better than the
    polynomials round: the sigmoid's y0 (1 - y0) cancels at saturation, where expit(x) expit(-x) does not, and
    its 1 - 2 y0 cancels at x ~ 0, where -tanh(x / 2) does not. ``with_slope``: also return z's series.
    """
    from .shape import concatenate, sum

    order = shape_of(x_series)[0]
    matrix = _recurrence_matrix(_weights("j/k", order), x_series)
    if slope0 is None:
        for coefficient, value in ((b, y0), (c, multiply(y0, y0))):
            if coefficient:
                slope0 = plus(slope0, scale(value, coefficient))
        slope0 = add(slope0, a) if a else slope0
    if rate0 is None:
        rate0 = add(scale(y0, 2 * c), b) if c else b
    y_newest_first = _history(y0)
    inner_oldest = inner_newest = None  # y_1..y_{k-1}, oldest and newest first
    z_history = _history(slope0)
    for k in range(1, order + 1):
        y_k = _next_coefficient(matrix, k, z_history)
        y_newest_first = _prepend(y_k, y_newest_first)
        if k < order or with_slope:
            z_k = multiply(y_k, rate0)
            if c and inner_oldest is not None:
                z_k = add(z_k, scale(sum(multiply(inner_oldest, inner_newest), axis=0, keepdims=True), c))
            z_history = _prepend(z_k, z_history)
            inner_oldest = y_k if inner_oldest is None else concatenate(inner_oldest, y_k, axis=0)
            inner_newest = y_k if inner_newest is None else _prepend(y_k, inner_newest)
    ys = _in_order(y_newest_first, order)
    return (ys, _in_order(z_history, order)) if with_slope else ys


def _is_linear_path(x_series):
    """Whether x(t) = x0 + c_1 t exactly: a plain array (no transform traces it) with c_2..c_K all zero."""
    return isinstance(x_series, np.ndarray) and not np.any(x_series[1:])


def compose(x0, x_series, coefficients):
    """Series of f(x(t)) from f's Taylor coefficients at x0: ``coefficients[n]`` = f^(n)(x0) / n!, n = 1..K.

    f(x0 + d) = sum_n coefficients[n] d^n with d(t) = x(t) - x0; the powers of
    d come from K - 1 Cauchy products (O(K^3 x entries) work, O(K x entries)
    memory). Along a straight line x0 + c_1 t (``derivative`` and ``taylor``
    of a plain input) d^n = c_1^n t^n, no products needed. For functions whose
    derivatives are known in closed form but obey no short recurrence
    (polygamma, Bessel, sinc).
    """
    from .cauchy import series_product
    from .shape import concatenate, getitem, reshape, stack, zeros_like

    order = shape_of(x_series)[0]
    if _is_linear_path(x_series):
        slope = x_series[0]
        terms = [multiply(coefficients[n], slope ** n) for n in range(1, order + 1)]
        out_shape = np.broadcast_shapes(*(tuple(shape_of(term)) for term in terms))
        return stack(*[term if tuple(shape_of(term)) == out_shape else _broadcast_to(term, out_shape)
                       for term in terms], axis=0)
    shape = tuple(shape_of(x_series))[1:]
    zero = reshape(zeros_like(getitem(x_series, index=0)), shape=(1,) + shape)
    d = concatenate(zero, x_series, axis=0)  # d(t) = x(t) - x0 with its zero constant term
    power = d
    out = times(coefficients[1], x_series)
    for n in range(2, order + 1):
        power = series_product(power, d)
        out = plus(out, times(coefficients[n], getitem(power, index=slice(1, None))))
    return out


def _broadcast_to(value, shape):
    from .shape import broadcast_to

    return broadcast_to(value, shape=shape)


def factorial_scale(values):
    """[v_n / n!]: derivatives to Taylor coefficients."""
    return [t_scale(v, 1.0 / math.factorial(n)) for n, v in enumerate(values)]


# ----------------------------------------------------------------- term lists

def terms_of(primal, series, order):
    """[primal, c1, ..., cK] from a (K, ...) series array; all-None terms for a constant (series None)."""
    if series is None:
        return [primal] + [None] * order
    return [primal] + [series[j] for j in range(order)]


def finish(terms, ans):
    """The (K, ...) output series from terms[1:], zeros for None and broadcast to ans's shape."""
    from .shape import broadcast_to, stack, zeros_like

    out_shape = shape_of(ans)
    coefficients = []
    for term in terms[1:]:
        if term is None:
            term = zeros_like(ans)
        elif shape_of(term) != out_shape:
            term = broadcast_to(term, shape=out_shape)
        coefficients.append(term)
    return stack(*coefficients, axis=0)


def t_add(a, b):
    if a is None:
        return b
    return a if b is None else add(a, b)


def t_sub(a, b):
    return minus(a, b)


def t_mul(a, b):
    if a is None or b is None:
        return None
    return multiply(a, b)


def t_scale(a, factor):
    return scale(a, factor)


def product_term(a, b, k, low=0):
    """sum_{i=low..k-low} a_i b_{k-i}: coefficient k of a(t) b(t) (low=1 leaves out both primals)."""
    acc = None
    for i in range(low, k - low + 1):
        acc = t_add(acc, t_mul(a[i], b[k - i]))
    return acc


def integrate_step(x, v, k):
    """y_k for y' = v x':  k y_k = sum_{j=1..k} j x_j v_{k-j}  (needs v up to k-1)."""
    acc = None
    for j in range(1, k + 1):
        acc = t_add(acc, t_scale(t_mul(x[j], v[k - j]), j / k))
    return acc
