"""How many entries a command-line function's result will have, from its arguments' shapes alone.

The command line refuses any value with more than ``LIMITS["value_size"]``
entries. Checking the result after computing it is too late: ``outer(x, x)``
of a 10,000-entry point would first allocate 800 MB. So before each node of an
expression is evaluated, its size is predicted from the shapes of its
(already computed, already checked) arguments with numpy's own shape rules:
broadcasting for elementwise functions and operators, the product of the
sizes for ``outer`` and ``kron``, the contraction rules of ``dot``, ``inner``,
``matmul`` and ``tensordot``, ``(n + |k|)**2`` for ``diag`` of a vector, and
"no larger than the largest argument" for reductions, reshapes and indexing.

``predicted_size(name, args, kwargs)`` returns that number of entries, or
``None`` when the arguments do not fit together (the function itself then
raises its own, located, error). Every name in ``FUNCTIONS`` has a rule here
(tests/test_cli.py checks it).

>>> import numpy as np
>>> predicted_size("outer", [np.ones(10_000), np.ones(10_000)], {})
100000000
>>> predicted_size("add", [np.ones((3, 1)), np.ones(4)], {})
12
"""

import math

import numpy as np

__all__ = ["predicted_size", "RULES"]


def _shape(value):
    shape = getattr(value, "shape", None)
    return tuple(shape) if shape is not None else tuple(np.shape(value))


def _size(value):
    return math.prod(_shape(value))


def _broadcast(args, kwargs):
    try:
        return math.prod(np.broadcast_shapes(*(_shape(a) for a in args)))
    except ValueError:
        return None


def _largest(args, kwargs):
    """Reductions, reshapes, transposes, inverses, solves: never more entries than an argument."""
    return max((_size(a) for a in args), default=1)


def _product(args, kwargs):
    """outer and kron: every entry of one times every entry of the other."""
    if len(args) != 2:
        return None
    return _size(args[0]) * _size(args[1])


def _dot(args, kwargs):
    if len(args) != 2:
        return None
    a, b = _shape(args[0]), _shape(args[1])
    if not a or not b:
        return math.prod(a) * math.prod(b)
    if len(b) == 1:
        return math.prod(a[:-1])
    return math.prod(a[:-1]) * math.prod(b[:-2]) * b[-1]


def _inner(args, kwargs):
    if len(args) != 2:
        return None
    a, b = _shape(args[0]), _shape(args[1])
    if not a or not b:
        return math.prod(a) * math.prod(b)
    return math.prod(a[:-1]) * math.prod(b[:-1])


def _matmul(args, kwargs):
    if len(args) != 2:
        return None
    a, b = _shape(args[0]), _shape(args[1])
    if not a or not b:
        return None
    a = a if len(a) >= 2 else (1,) + a
    b = b if len(b) >= 2 else b + (1,)
    try:
        batch = np.broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        return None
    return math.prod(batch) * a[-2] * b[-1]


def _tensordot(args, kwargs):
    if len(args) < 2:
        return None
    a, b = _shape(args[0]), _shape(args[1])
    axes = args[2] if len(args) > 2 else kwargs.get("axes", 2)
    try:
        if np.ndim(axes) == 0:
            k = int(axes)
            if not 0 <= k <= min(len(a), len(b)):
                return None
            axes_a, axes_b = list(range(len(a) - k, len(a))), list(range(k))
        else:
            axes_a, axes_b = axes
            axes_a = [int(i) for i in np.atleast_1d(axes_a)]
            axes_b = [int(i) for i in np.atleast_1d(axes_b)]
        kept_a = [n for i, n in enumerate(a) if i not in {j % len(a) for j in axes_a}]
        kept_b = [n for i, n in enumerate(b) if i not in {j % len(b) for j in axes_b}]
    except (TypeError, ValueError, ZeroDivisionError):
        return _size(args[0]) * _size(args[1])  # an upper bound; tensordot reports bad axes itself
    return math.prod(kept_a) * math.prod(kept_b)


def _diag(args, kwargs):
    if not args:
        return None
    shape = _shape(args[0])
    k = args[1] if len(args) > 1 else kwargs.get("k", 0)
    if len(shape) == 1:
        try:
            k = abs(int(np.asarray(k)))
        except (TypeError, ValueError):
            return None
        return (shape[0] + k) ** 2
    return min(shape) if len(shape) == 2 else _size(args[0])  # the diagonal of a matrix (k = 0: exact)


def _total(args, kwargs):
    """A list literal [a, b, ...] (stacked): the entries of its items together."""
    return sum(_size(a) for a in args)


def _joined(args, kwargs):
    """concatenate / stack of a list of arrays (the entries of them all) or of one stacked array."""
    if args and isinstance(args[0], list):
        return _total(args[0], kwargs)
    return _largest(args, kwargs)


_ELEMENTWISE = [
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "cbrt", "square", "reciprocal",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
    "arctanh", "absolute", "abs", "sign", "floor", "ceil", "maximum", "minimum", "where", "clip", "power",
    "arctan2", "hypot", "sinc", "logaddexp", "deg2rad", "rad2deg",
    "sigmoid", "relu", "leaky_relu", "softplus", "gelu", "softmax", "log_softmax", "cross_entropy", "mse",
    "erf", "expit", "logit", "gammaln",
    # the operators
    "add", "subtract", "multiply", "true_divide", "negative", "less", "less_equal", "greater",
    "greater_equal", "equal", "not_equal",
]
_LARGEST = ["sum", "mean", "prod", "var", "std", "amax", "amin", "max", "min", "cumsum", "cumprod", "trace",
            "transpose", "reshape", "diagonal", "ravel", "norm", "det", "inv", "solve", "logsumexp", "index"]

RULES = {name: _broadcast for name in _ELEMENTWISE}
RULES.update({name: _largest for name in _LARGEST})
RULES.update(outer=_product, kron=_product, dot=_dot, inner=_inner, matmul=_matmul, tensordot=_tensordot,
             diag=_diag, list=_total, concatenate=_joined, stack=_joined)


def predicted_size(name, args, kwargs):
    """Entries of ``name(*args, **kwargs)`` from the arguments' shapes (``None``: they do not fit).

    A name without a rule raises ``KeyError``: a function added to the
    command line needs its size rule here.
    """
    return RULES[name](args, kwargs)
