"""Taylor mode: ``taylor``, ``jet``, ``derivative`` and ``taylor_rule_report``.

Taylor mode pushes a truncated power series x(t) = x_0 + c_1 t + ... + c_K t^K
through f in one pass; each primitive maps input coefficients to output
coefficients with its Taylor rule (O(K^2) work, vectorized over the
coefficient axis), so the K-th derivative costs about K^2 rather than the
2^K of nesting first-order derivatives K times. A primitive without a rule
falls back to nested forward mode for its own output (exact, but 2^K);
``taylor_rule_report()`` lists which primitives do.

Conventions: ``taylor`` works with Taylor *coefficients* (c_j = f^(j)/j!);
``jet`` follows JAX and works with *derivatives* (not divided by j!).
"""

import functools
import math
import numbers

import numpy as np

from ..core import backends
from ..core.trace import Tracer, registry
from ..core.tree import tree_flatten, tree_unflatten
from ..interpreters.forward import lift_inner_duals
from ..interpreters.taylor import TaylorTrace, TaylorTracer
from ..primitives.shape import concatenate, reshape
from ._args import check_differentiable, check_output_leaves, dtype_of_value
from .forward import jvp

__all__ = ["taylor", "jet", "derivative", "taylor_rule_report", "DERIVATIVE_MODES"]

DERIVATIVE_MODES = ("taylor", "nested")


def _shape(x):
    return tuple(x.shape) if isinstance(x, Tracer) else np.shape(x)


def _check_order(order, transform, minimum=0):
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order < minimum:
        raise ValueError(f"{transform}: order must be an integer >= {minimum}, got {order!r}")
    return int(order)


def _propagate(f, flat_primals, flat_series, in_tree, order):
    """Run f(*args) on Taylor tracers (``in_tree``: structure of the args tuple).

    Returns (output leaves, their (K,) + shape series, output tree).
    """
    trace = TaylorTrace(order)
    tracers = [TaylorTracer(p, s, trace) for p, s in zip(flat_primals, flat_series)]
    try:
        result = lift_inner_duals(f(*tree_unflatten(in_tree, tracers)), trace)
    finally:
        trace.alive = False
    flat_out, out_tree = tree_flatten(result)
    check_output_leaves(flat_out, "taylor")
    primals_out, series_out = [], []
    for leaf in flat_out:
        if isinstance(leaf, TaylorTracer) and leaf._trace is trace:
            primals_out.append(leaf.primal)
            series_out.append(leaf.series)
        else:  # an output that does not depend on the input: a constant series
            primals_out.append(leaf)
            series_out.append(backends.zeros((order,) + _shape(leaf), dtype=_inexact_dtype(leaf), like=leaf))
    return primals_out, series_out, out_tree


def _inexact_dtype(value):
    dtype = dtype_of_value(value)
    return dtype if np.issubdtype(dtype, np.inexact) else np.dtype(float)


def _as_array(value, like):
    """A direction or series term as an array in its point's precision (float32 stays float32, as for jvp's
    tangents); a complex one for a real point stays complex, in the point's precision."""
    if isinstance(value, Tracer):
        return value
    dtype = _inexact_dtype(like)
    if dtype.kind != "c" and np.result_type(value).kind == "c":
        dtype = np.result_type(dtype, np.complex64)
    return backends.asarray(value, dtype=dtype, like=like)


def taylor(f, x, v, order):
    """Taylor coefficients c_0..c_order of t -> f(x + t v) at t = 0.

    ``c_j = (d^j/dt^j f(x + t v) at t=0) / j!``. ``x`` and ``v`` have the same
    structure (an array, a scalar or a pytree, passed to f as ONE argument).
    Each output leaf of shape s gives an array of shape ``(order + 1,) + s``
    (coefficients first), in f's output structure. One Taylor-mode pass:
    cost ~order^2, not 2^order.

    >>> import hodiff as hd, hodiff.numpy as hnp
    >>> [round(float(c), 6) for c in hd.taylor(hnp.exp, 0.0, 1.0, order=3)]   # 1, 1, 1/2, 1/6
    [1.0, 1.0, 0.5, 0.166667]
    """
    order = _check_order(order, "taylor")
    check_differentiable(x, 0, "taylor")
    flat_x, in_tree = tree_flatten(x)
    flat_v, v_tree = tree_flatten(v)
    if v_tree != in_tree:
        raise ValueError(f"taylor: v has structure {v_tree!r}, but x has {in_tree!r}")
    flat_v = [_as_array(d, p) for d, p in zip(flat_v, flat_x)]
    for p, d in zip(flat_x, flat_v):
        if _shape(p) != _shape(d):
            raise ValueError(f"taylor: direction of shape {_shape(d)} for a point of shape {_shape(p)}")
    if order == 0:
        out = f(x)
        flat_out, out_tree = tree_flatten(out)
        return tree_unflatten(out_tree, [reshape(leaf, shape=(1,) + _shape(leaf)) for leaf in flat_out])
    # x(t) = x + t v: the input series is (v, 0, ..., 0).
    flat_series = []
    for d in flat_v:
        rest = backends.zeros((order - 1,) + _shape(d), dtype=_inexact_dtype(d), like=d)
        flat_series.append(concatenate(reshape(d, shape=(1,) + _shape(d)), rest, axis=0) if order > 1
                           else reshape(d, shape=(1,) + _shape(d)))
    primals_out, series_out, out_tree = _propagate(f, flat_x, flat_series, tree_flatten((x,))[1], order)
    coefficients = [concatenate(reshape(p, shape=(1,) + _shape(p)), s, axis=0)
                    for p, s in zip(primals_out, series_out)]
    return tree_unflatten(out_tree, coefficients)


def _series_to_array(terms, primal, position):
    """One primal's JAX-style series (a list of K terms, or a (K,) + shape array) as a (K,) + shape array."""
    shape = _shape(primal)
    if isinstance(terms, (list, tuple)):
        terms = [_as_array(t, primal) for t in terms]
        for term in terms:
            if _shape(term) != shape:
                raise ValueError(f"jet: series term of shape {_shape(term)} for primal {position} of shape {shape}")
        if not terms:
            return None
        from ..primitives.shape import stack

        return stack(*terms, axis=0)
    array = _as_array(terms, primal)
    if _shape(array)[1:] != shape:
        raise ValueError(f"jet: series for primal {position} must be a list of arrays of shape {shape} "
                         f"(or one array of shape (K,) + {shape}), got shape {_shape(array)}")
    return array


def jet(f, primals, series):
    """Propagate truncated Taylor series through f, with JAX's conventions.

    ``primals`` is a tuple of arrays (one per argument of f); ``series`` a
    tuple of the same length whose entry i lists K terms
    ``[x_1, ..., x_K]`` for primal i, each shaped like it (a (K,) + shape
    array works too). Terms are *derivatives* along the curve (not divided
    by j!): x(t) = x_0 + sum_j x_j t^j / j!. Returns
    ``(f(*primals), out_series)`` where ``out_series`` is a list of K output
    derivatives (per output leaf, in f's output structure).

    >>> import hodiff as hd, hodiff.numpy as hnp
    >>> out, (d1, d2, d3) = hd.jet(hnp.exp, (0.0,), ([1.0, 0.0, 0.0],))
    >>> float(out), float(d1), float(d2), float(d3)
    (1.0, 1.0, 1.0, 1.0)
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(series, (tuple, list)):
        raise TypeError("jet: primals and series must be tuples (one entry per argument of f)")
    if len(primals) != len(series):
        raise ValueError(f"jet: {len(primals)} primals but {len(series)} series")
    flat_primals = []
    for i, primal in enumerate(primals):
        if isinstance(primal, (tuple, list, dict)):
            raise TypeError(f"jet: primal {i} is a {type(primal).__name__}; jet takes one array per argument")
        check_differentiable(primal, i, "jet")
        flat_primals.append(primal)
    arrays = [_series_to_array(s, p, i) for i, (s, p) in enumerate(zip(series, primals))]
    orders = {_shape(a)[0] for a in arrays if a is not None}
    if len(orders) > 1:
        raise ValueError(f"jet: every primal's series must have the same number of terms, got {sorted(orders)}")
    order = orders.pop() if orders else 0
    if order == 0:
        out = f(*primals)
        return out, tree_unflatten(tree_flatten(out)[1], [[] for _ in tree_flatten(out)[0]])
    # Derivatives -> Taylor coefficients: divide term j by j!.
    to_coefficients = np.array([1.0 / math.factorial(j) for j in range(1, order + 1)])
    flat_series = []
    for array, primal in zip(arrays, flat_primals):
        if array is None:
            array = backends.zeros((order,) + _shape(primal), dtype=_inexact_dtype(primal), like=primal)
        flat_series.append(array * _weights_like(to_coefficients, array).reshape((order,) + (1,) * len(_shape(primal))))
    in_tree = tree_flatten(tuple(primals))[1]
    primals_out, series_out, out_tree = _propagate(f, flat_primals, flat_series, in_tree, order)
    to_derivatives = np.array([float(math.factorial(j)) for j in range(1, order + 1)])
    terms_out = []
    for s, p in zip(series_out, primals_out):
        derivatives = s * _weights_like(to_derivatives, s).reshape((order,) + (1,) * len(_shape(p)))
        terms_out.append([derivatives[j] for j in range(order)])
    return tree_unflatten(out_tree, primals_out), tree_unflatten(out_tree, terms_out)


def _weights_like(weights, value):
    """numpy weights in ``value``'s real precision (float32 series stay float32)."""
    return weights.astype(np.finfo(_inexact_dtype(value)).dtype, copy=False)


def derivative(f, order=1, *, mode="taylor"):
    """Return a function giving the ``order``-th derivative of a scalar or elementwise f.

    ``derivative(f, order=k)(x)`` is d^k/dt^k f(x + t) at t = 0 taken entry by
    entry: for a scalar x the ordinary k-th derivative, for an array x and an
    elementwise f the k-th derivative of each entry (for other f it is the
    k-th derivative along the all-ones direction). Same shape as f(x).

    mode: ``"taylor"`` (one Taylor-mode pass, cost ~k^2) or ``"nested"``
    (forward mode nested k times, cost ~2^k; the cross-check).

    >>> import hodiff as hd, hodiff.numpy as hnp
    >>> round(float(hd.derivative(hnp.sin, order=3)(0.0)), 12)   # -cos(0)
    -1.0
    """
    order = _check_order(order, "derivative")
    if mode not in DERIVATIVE_MODES:
        raise ValueError(f"derivative: mode must be one of {DERIVATIVE_MODES}, got {mode!r}")
    factorial = float(math.factorial(order))

    @functools.wraps(f)
    def taylor_derivative(x):
        if order == 0:
            return f(x)
        check_differentiable(x, 0, "derivative")
        primals_out, series_out, out_tree = _propagate(f, [x], [_unit_series(x, order)], _SINGLE, order)
        return tree_unflatten(out_tree, [s[order - 1] * factorial for s in series_out])

    @functools.wraps(f)
    def nested_derivative(x):
        check_differentiable(x, 0, "derivative")
        direction = backends.ones(_shape(x), dtype=_inexact_dtype(x), like=x)
        g = f
        for _ in range(order):
            g = _directional(g, direction)
        return g(x)

    return taylor_derivative if mode == "taylor" else nested_derivative


def _directional(g, direction):
    return lambda x: jvp(g, (x,), (direction,))[1]


_unit_cache = {}
_SINGLE = tree_flatten((0.0,))[1]  # the argument tree of f(x) with one array x


def _unit_series(x, order):
    """The series (1, 0, ..., 0) of x(t) = x + t, shape (order,) + x's shape."""
    shape = _shape(x)
    dtype = _inexact_dtype(x)
    key = (order, shape, dtype)
    series = _unit_cache.get(key)
    if series is None:
        series = np.zeros((order,) + shape, dtype=dtype)
        series[0] = 1
        series.setflags(write=False)
        if len(_unit_cache) < 256:
            _unit_cache[key] = series
    return backends.asarray(series, like=x)  # numpy's own for a numpy x; a Dask x gets a Dask series


def taylor_rule_report():
    """For each registered primitive, how Taylor mode handles it.

    Returns a dict ``{primitive name: status}`` (sorted by name) with status

    - ``"rule"``: the primitive has its own Taylor rule (O(K^2));
    - ``"nested-forward fallback"``: no rule; Taylor mode differentiates the
      primitive with nested forward mode (exact, but cost doubles per order);
    - ``"not differentiable"``: zero derivative everywhere (comparisons,
      sign ...): its output series is zero, no rule needed.

    >>> import hodiff as hd
    >>> hd.taylor_rule_report()["exp"]
    'rule'
    """
    report = {}
    for name in sorted(registry):
        primitive = registry[name]
        if not primitive.differentiable:
            report[name] = "not differentiable"
        elif primitive.taylor is not None:
            report[name] = "rule"
        else:
            report[name] = "nested-forward fallback"
    return report
