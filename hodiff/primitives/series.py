"""Truncated Taylor-series arithmetic for the Taylor rules of elementwise primitives.

A series is handled here as a Python list of *terms*: ``terms[0]`` is the
primal value and ``terms[k]`` the coefficient of t^k (arrays of the member
shape, possibly traced), for k = 1..K. ``None`` stands for a zero term, so
constant arguments and sparse series cost no operations.

The recurrences are the standard ones (Griewank & Walther, *Evaluating
Derivatives*, ch. 13): for y = f(x(t)) whose derivative f' is expressible
through y and x, equating coefficients of y' = f'(x) x' yields y_k from
y_0..y_{k-1} in O(k) work, so K coefficients cost O(K^2). Every operation is
a hodiff primitive, so the rules built from these helpers are differentiable
by any enclosing transform.
"""

import math

from .elementwise import add, multiply, negative, subtract, true_divide
from .rules import shape_of

__all__ = [
    "terms_of", "order_of", "finish", "t_add", "t_sub", "t_mul", "t_scale", "terms_add", "terms_scale",
    "product_term", "product_terms", "square_terms", "integrate_step", "exp_terms", "log_terms",
    "pow_terms", "reciprocal_terms", "quotient_terms", "riccati_terms", "sin_cos_terms", "compose_terms",
]


# ----------------------------------------------------------------- terms

def order_of(series):
    """K, the number of coefficients after the primal, from the first series that is not None."""
    for s in series:
        if s is not None:
            return shape_of(s)[0]
    raise ValueError("Taylor rule called without any series")


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
    if b is None:
        return a
    return add(a, b)


def t_sub(a, b):
    if b is None:
        return a
    if a is None:
        return negative(b)
    return subtract(a, b)


def t_mul(a, b):
    if a is None or b is None:
        return None
    return multiply(a, b)


def t_scale(a, factor):
    """a * factor for a Python number factor (keeps float32 float32)."""
    if a is None or factor == 0:
        return None
    if factor == 1:
        return a
    return multiply(a, factor)


def terms_add(a, b):
    return [t_add(x, y) for x, y in zip(a, b)]


def terms_scale(a, factor):
    return [t_scale(x, factor) for x in a]


def product_term(a, b, k, low=0):
    """sum_{i=low..k-low} a_i b_{k-i}: coefficient k of a(t) b(t) (low=1 leaves out both primals)."""
    acc = None
    for i in range(low, k - low + 1):
        acc = t_add(acc, t_mul(a[i], b[k - i]))
    return acc


def product_terms(a, b):
    """Terms of a(t) * b(t) (the primal term included)."""
    return [product_term(a, b, k) for k in range(len(a))]


def square_terms(a):
    """Terms of a(t)^2, using the symmetry of the Cauchy product (about half the products)."""
    out = []
    for k in range(len(a)):
        acc = None
        for i in range(0, (k + 1) // 2):
            acc = t_add(acc, t_mul(a[i], a[k - i]))
        acc = t_scale(acc, 2.0)
        if k % 2 == 0:
            acc = t_add(acc, t_mul(a[k // 2], a[k // 2]))
        out.append(acc)
    return out


def integrate_step(x, v, k):
    """y_k for y' = v x':  k y_k = sum_{j=1..k} j x_j v_{k-j}  (needs v up to k-1)."""
    acc = None
    for j in range(1, k + 1):
        acc = t_add(acc, t_scale(t_mul(x[j], v[k - j]), j / k))
    return acc


# ----------------------------------------------------------------- elementary recurrences

def exp_terms(w, y0):
    """y = exp(w) given y0 = exp(w0):  k y_k = sum_{j=1..k} j w_j y_{k-j}."""
    y = [y0]
    for k in range(1, len(w)):
        y.append(integrate_step(w, y, k))
    return y


def log_terms(w, y0):
    """y = log(w) (y0 = log(w0)):  k w0 y_k = k w_k - sum_{j=1..k-1} (k-j) w_j y_{k-j}."""
    y = [y0]
    for k in range(1, len(w)):
        acc = w[k]
        for j in range(1, k):
            acc = t_sub(acc, t_scale(t_mul(w[j], y[k - j]), (k - j) / k))
        y.append(None if acc is None else true_divide(acc, w[0]))
    return y


def pow_terms(w, p, y0):
    """y = w**p for a constant p (y0 = w0**p):  k w0 y_k = sum_{j=1..k} (p j - (k-j)) w_j y_{k-j}."""
    y = [y0]
    for k in range(1, len(w)):
        acc = None
        for j in range(1, k + 1):
            acc = t_add(acc, t_scale(t_mul(w[j], y[k - j]), (p * j - (k - j)) / k))
        y.append(None if acc is None else true_divide(acc, w[0]))
    return y


def quotient_terms(a, b, y0):
    """y = a / b (y0 = a0 / b0):  sum_j b_j y_{k-j} = a_k,  y_k = (a_k - sum_{j>=1} b_j y_{k-j}) / b0."""
    y = [y0]
    for k in range(1, len(b)):
        acc = a[k]
        for j in range(1, k + 1):
            acc = t_sub(acc, t_mul(b[j], y[k - j]))
        y.append(None if acc is None else true_divide(acc, b[0]))
    return y


def reciprocal_terms(w, y0):
    """y = 1 / w (y0 = 1 / w0)."""
    return quotient_terms([None] * len(w), w, y0)


def riccati_terms(x, y0, a, b, c):
    """y = f(x) with y' = (a + b y + c y^2) x' for Python numbers a, b, c.

    tanh: (1, 0, -1); tan: (1, 0, 1); the logistic sigmoid: (0, 1, -1).
    """
    y = [y0]
    z0 = None
    if a:
        z0 = a
    z0 = t_add(z0, t_scale(y0, b)) if b else z0
    z0 = t_add(z0, t_scale(multiply(y0, y0), c)) if c else z0
    z = [z0]
    for k in range(1, len(x)):
        y.append(integrate_step(x, z, k))
        z_k = t_scale(y[k], b) if b else None
        if c:
            z_k = t_add(z_k, t_scale(_square_term(y, k), c))
        z.append(z_k)
    return y


def _square_term(y, k):
    acc = None
    for i in range(0, (k + 1) // 2):
        acc = t_add(acc, t_mul(y[i], y[k - i]))
    acc = t_scale(acc, 2.0)
    if k % 2 == 0:
        acc = t_add(acc, t_mul(y[k // 2], y[k // 2]))
    return acc


def sin_cos_terms(x, s0, c0, hyperbolic=False):
    """(sin, cos) or (sinh, cosh) terms together:  k s_k = sum j x_j c_{k-j},  k c_k = -+ sum j x_j s_{k-j}."""
    s, c = [s0], [c0]
    for k in range(1, len(x)):
        s.append(integrate_step(x, c, k))
        c_k = integrate_step(x, s, k)
        c.append(c_k if hyperbolic or c_k is None else negative(c_k))
    return s, c


def compose_terms(x, coefficients):
    """Terms of f(x(t)) from f's Taylor coefficients at x0: ``coefficients[n]`` = f^(n)(x0) / n!.

    f(x0 + d(t)) = sum_n coefficients[n] d(t)^n with d(t) = x(t) - x0, whose
    powers come from repeated Cauchy products: O(K^3) work, no recurrence
    needed, for functions whose derivatives are known in closed form
    (polygamma, Bessel functions). ``coefficients[0]`` is the primal answer.
    """
    order = len(x) - 1
    delta = [None] + list(x[1:])
    out = [coefficients[0]] + [t_mul(coefficients[1], delta[k]) for k in range(1, order + 1)]
    power = delta
    for n in range(2, order + 1):
        # Coefficient k of d^n is zero for k < n.
        power = [None] * n + [product_term(delta, power, k, low=1) for k in range(n, order + 1)]
        for k in range(n, order + 1):
            out[k] = t_add(out[k], t_mul(coefficients[n], power[k]))
    return out


def factorial_scale(values):
    """[v_n / n!]: derivatives to Taylor coefficients."""
    return [t_scale(v, 1.0 / math.factorial(n)) for n, v in enumerate(values)]
