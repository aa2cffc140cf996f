"""Reductions and scans: mean, prod, max/min, cumsum/cumprod, sort, var/std, arg-reductions.

Axis parameters follow numpy (None, an int or a tuple; negative values
count from the end; ``keepdims``); the primitives store them as a tuple of
non-negative axes so rules and batch rules have one case.

Conventions (the derivative where numpy's function has none):

- ``max``/``min``/``amax``/``amin``: entries tied for the extremum share the
  cotangent equally (as autograd does): d max([1, 3, 3]) = [0, 1/2, 1/2].
- ``sort``: the cotangent goes back through the sorting permutation, and
  entries tied in value share their cotangents equally (their average), so
  the result does not depend on how numpy orders ties and agrees with max:
  sort(x)[-1] has max's gradient.
- ``prod`` and ``cumprod`` are exact when entries are zero: their rules use
  products of the other entries (prefix and suffix products), never
  division by x, to every order.
- ``std`` at a constant input is sqrt at 0: its derivative is infinite.
"""

import itertools

import numpy as np

from ..core.trace import Primitive
from . import elementwise as _elementwise
from .elementwise import _astype_discrete, accumulated_as, add, equal, multiply, sqrt, subtract, true_divide
from .rules import dtype_of, linear, ndim_of, shape_of, stack_series
from .shape import (
    _array,
    _normalize_axis,
    _sum_transpose,
    concatenate,
    flip,
    getitem,
    ones_like,
    reshape,
    scatter_along_axis,
    sum,
    take_along_axis_p,
    transpose,
    zeros_like,
)

__all__ = [
    "mean", "prod", "amax", "amin", "cumsum", "cumprod", "sort", "argsort", "argmax", "argmin",
    "var", "std", "tie_mean", "series_multiply",
]

_builtin_max = max


# --------------------------------------------------------------- axis helpers

def _axes(axis, ndim):
    """numpy's axis argument as a sorted tuple of non-negative axes (None: all)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        axes = tuple(_normalize_axis(int(a), ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"duplicate value in 'axis': {axis}")
        return tuple(sorted(axes))
    return (_normalize_axis(int(axis), ndim),)


def _reduced_count(shape, axes):
    count = 1
    for a in axes:
        count *= shape[a]
    return count


def _keepdims_shape(shape, axes):
    return tuple(1 if d in axes else n for d, n in enumerate(shape))


def _expand_reduced(g, x, axes, keepdims):
    """A reduction's output (or cotangent) with the reduced axes back as length 1."""
    return g if keepdims else reshape(g, shape=_keepdims_shape(shape_of(x), axes))


def _batch_axes(axes):
    return tuple(a + 1 for a in axes)


def _shift(x, steps, axis, fill):
    """x moved ``steps`` places towards higher indices along ``axis``; ``fill`` enters at the front."""
    shape = tuple(shape_of(x))
    length = shape[axis]
    steps = min(steps, length)
    if steps == 0:
        return x
    block = np.full(shape[:axis] + (steps,) + shape[axis + 1:], fill, dtype=dtype_of(x))
    if steps == length:
        return block  # nothing of x is left: a constant
    body = getitem(x, index=(slice(None),) * axis + (slice(0, length - steps),))
    return concatenate(block, body, axis=axis)


# --------------------------------------------------------------- mean

def _mean_transpose(g, x, axis, keepdims):
    count = _reduced_count(shape_of(x), axis)
    return _sum_transpose(multiply(g, 1.0 / count if count else np.nan), x, axis=axis, keepdims=keepdims)


mean_p = linear(
    "mean", lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims),
    transpose=_mean_transpose,
    batch=lambda values, batched, axis, keepdims: mean_p(values[0], axis=_batch_axes(axis), keepdims=keepdims),
)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """numpy.mean over ``axis`` (None: all axes). Float32 stays float32."""
    _unsupported("mean", out=out, where=where)
    a = accumulated_as(_array(a), _float_accumulator("mean", dtype))
    return mean_p(a, axis=_axes(axis, ndim_of(a)), keepdims=bool(keepdims))


# --------------------------------------------------------------- cumulative sum and product

cumsum_p = linear(
    "cumsum",
    lambda x, axis, reverse=False: (np.flip(np.cumsum(np.flip(x, axis), axis), axis) if reverse
                                    else np.cumsum(x, axis)),
    transpose=lambda g, x, axis, reverse=False: cumsum_p(g, axis=axis, reverse=not reverse),
    batch=lambda values, batched, axis, reverse=False: cumsum_p(values[0], axis=axis + 1, reverse=reverse),
)
cumsum_p.__doc__ = "Running sums along ``axis`` (from the end when ``reverse``): the transposes of each other."


def _linear_recurrence(a, b, axis):
    """u with u_i = b_i + a_i u_{i-1} (u_{-1} = 0) along ``axis``, linear in b.

    Hillis-Steele scan on the pairs (a, b), whose composition is associative:
    log2(n) rounds of whole-array products, no Python loop over entries and
    no division, so zeros in ``a`` are exact.
    """
    length = shape_of(b)[axis]
    step = 1
    while step < length:
        b = add(b, multiply(a, _shift(b, step, axis, 0)))
        if 2 * step < length:
            a = multiply(a, _shift(a, step, axis, 1))
        step *= 2
    return b


def _cumprod_jvp(t, ans, x, axis):
    # d y_i = sum_{k<=i} t_k prod_{j<=i, j!=k} x_j:  d_i = t_i P_i + x_i d_{i-1}, P the exclusive prefix products
    return _linear_recurrence(x, multiply(t, _shift(ans, 1, axis, 1)), axis)


def _cumprod_vjp(g, ans, x, axis):
    # gx_k = P_k S_k with S_k = g_k + x_{k+1} S_{k+1}: the same recurrence run from the end
    backwards = _linear_recurrence(_shift(flip(x, axis), 1, axis, 0), flip(g, axis), axis)
    return multiply(_shift(ans, 1, axis, 1), flip(backwards, axis))


def _cauchy(order):
    tensor = np.zeros((order, order, order))
    for i, j in itertools.product(range(order), repeat=2):
        if i + j < order:
            tensor[i + j, i, j] = 1
    return tensor


def series_multiply(p, q):
    """Truncated product of power series p, q of shape (K+1, ...): coefficient k is sum_j p_j q_{k-j}."""
    from .contraction import einsum

    cauchy = _cauchy(shape_of(p)[0]).astype(dtype_of(p))
    return einsum("kij,i...,j...->k...", cauchy, p, q)


def _unit_series(shape, dtype):
    block = np.zeros(shape, dtype=dtype)
    block[0] = 1
    return block


def _cumprod_taylor(ans, primals, series, axis):
    full = stack_series(primals[0], series[0])  # (K+1, ...)
    axis += 1
    shape = tuple(shape_of(full))
    length = shape[axis]
    step = 1
    while step < length:
        unit = _unit_series(shape[:axis] + (step,) + shape[axis + 1:], dtype_of(full))
        body = getitem(full, index=(slice(None),) * axis + (slice(0, length - step),))
        full = series_multiply(concatenate(unit, body, axis=axis), full)
        step *= 2
    return getitem(full, index=slice(1, None))


cumprod_p = Primitive(
    "cumprod", lambda x, axis: np.cumprod(x, axis=axis),
    vjp=(_cumprod_vjp,), jvp=(_cumprod_jvp,),
    batch=lambda values, batched, axis: cumprod_p(values[0], axis=axis + 1),
    taylor=_cumprod_taylor,
)
cumprod_p.__doc__ = "Running products along ``axis``; rules exact with zeros (no division)."


def _scan(name, primitive):
    def function(a, axis=None, dtype=None, out=None):
        _unsupported(name, out=out)
        a = accumulated_as(_array(a), dtype)
        if axis is None:
            a = reshape(a, shape=(-1,))
            axis = 0
        return primitive(a, axis=_normalize_axis(axis, ndim_of(a)))

    function.__name__ = name
    function.__doc__ = f"numpy.{name} along ``axis`` (None: of the flattened array)."
    return function


cumsum = _scan("cumsum", cumsum_p)
cumprod = _scan("cumprod", cumprod_p)


def _cumulative(name, scan, identity_like):
    """numpy.cumulative_sum / cumulative_prod (the array API's scans): ``axis`` may be None for 1-D x only,
    and ``include_initial`` puts the identity first (length n + 1 along axis)."""
    def function(x, axis=None, dtype=None, out=None, include_initial=False):
        _unsupported(name, out=out)
        x = accumulated_as(_array(x), dtype)
        if axis is None:
            if ndim_of(x) > 1:
                raise ValueError(f"hodiff.numpy.{name}: axis must be given for an array of {ndim_of(x)} dimensions")
            axis = 0
        axis = _normalize_axis(axis, ndim_of(x))
        result = scan(x, axis=axis)
        if not include_initial:
            return result
        first = identity_like(getitem(x, index=(slice(None),) * axis + (slice(0, 1),)))
        return concatenate(first, result, axis=axis)

    function.__name__ = name
    function.__doc__ = _cumulative.__doc__
    return function


cumulative_sum = _cumulative("cumulative_sum", cumsum, zeros_like)
cumulative_prod = _cumulative("cumulative_prod", cumprod, ones_like)


# --------------------------------------------------------------- prod

def _to_last(x, axes):
    """x with ``axes`` moved to the end and merged into one; and how to undo it."""
    shape = tuple(shape_of(x))
    kept = [d for d in range(len(shape)) if d not in axes]
    order = tuple(kept) + tuple(axes)
    moved = transpose(x, axes=order) if order != tuple(range(len(shape))) else x
    merged = reshape(moved, shape=tuple(shape[d] for d in kept) + (_reduced_count(shape, axes),))

    def undo(y):
        y = reshape(y, shape=tuple(shape[d] for d in order))
        return transpose(y, axes=tuple(np.argsort(order))) if order != tuple(range(len(shape))) else y

    return merged, undo


def _product_of_others(x, axes):
    """For each entry, the product of the other entries of its reduced group (zero-safe)."""
    merged, undo = _to_last(x, axes)
    last = ndim_of(merged) - 1
    before = _shift(cumprod_p(merged, axis=last), 1, last, 1)
    after = flip(_shift(cumprod_p(flip(merged, last), axis=last), 1, last, 1), last)
    return undo(multiply(before, after))


def _prod_vjp(g, ans, x, axis, keepdims):
    return multiply(_expand_reduced(g, x, axis, keepdims), _product_of_others(x, axis))


def _prod_jvp(t, ans, x, axis, keepdims):
    return sum(multiply(t, _product_of_others(x, axis)), axis=axis, keepdims=keepdims)


def _prod_taylor(ans, primals, series, axis, keepdims):
    full = stack_series(primals[0], series[0])  # (K+1, ...)
    order = shape_of(full)[0]
    merged, _ = _to_last(full, _batch_axes(axis))
    while shape_of(merged)[-1] > 1:
        length = shape_of(merged)[-1]
        if length % 2:
            unit = _unit_series(tuple(shape_of(merged))[:-1] + (1,), dtype_of(merged))
            merged = concatenate(merged, unit, axis=-1)
        merged = series_multiply(getitem(merged, index=(Ellipsis, slice(0, None, 2))),
                                 getitem(merged, index=(Ellipsis, slice(1, None, 2))))
    if shape_of(merged)[-1] == 0:  # empty product: the constant 1
        return np.zeros((order - 1,) + tuple(shape_of(ans)), dtype=dtype_of(full))
    out = reshape(merged, shape=(order,) + tuple(shape_of(ans)))
    return getitem(out, index=slice(1, None))


prod_p = Primitive(
    "prod", lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
    vjp=(_prod_vjp,), jvp=(_prod_jvp,),
    batch=lambda values, batched, axis, keepdims: prod_p(values[0], axis=_batch_axes(axis), keepdims=keepdims),
    taylor=_prod_taylor,
)
prod_p.__doc__ = "Product over ``axis`` (a tuple); derivatives are products of the other entries, exact with zeros."


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """numpy.prod over ``axis``. Exact derivatives with zero entries (no division by x):

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> hd.grad(hnp.prod)(np.array([2.0, 0.0, 3.0]))
    array([0., 6., 0.])
    """
    _unsupported("prod", out=out, initial=initial, where=where)
    a = accumulated_as(_array(a), dtype)
    return prod_p(a, axis=_axes(axis, ndim_of(a)), keepdims=bool(keepdims))


# --------------------------------------------------------------- max and min

def _ties(x, ans, axis, keepdims):
    """(hits, counts): 1 on x's entries equal to their group's extremum and 0 elsewhere (the mask cast,
    not where(mask, ones, zeros): no full-size constants), and how many per group, in the answer's shape."""
    hits = _astype_discrete(equal(x, _expand_reduced(ans, x, axis, keepdims)), dtype=dtype_of(x))
    return hits, sum(hits, axis=axis, keepdims=keepdims)


# Tied entries share the derivative equally. The division by the count is done on the answer's
# (small) shape, so each rule makes one array of x's size, not two.
def _extremum_vjp(g, ans, x, axis, keepdims):
    hits, counts = _ties(x, ans, axis, keepdims)
    return multiply(hits, _expand_reduced(true_divide(g, counts), x, axis, keepdims))


def _extremum_jvp(t, ans, x, axis, keepdims):
    hits, counts = _ties(x, ans, axis, keepdims)
    return true_divide(sum(multiply(t, hits), axis=axis, keepdims=keepdims), counts)


def _extremum_taylor(ans, primals, series, axis, keepdims):
    hits, counts = _ties(primals[0], ans, axis, keepdims)
    return true_divide(sum(multiply(series[0], hits), axis=_batch_axes(axis), keepdims=keepdims), counts)


def _extremum(name, impl):
    primitive = Primitive(
        name, impl, vjp=(_extremum_vjp,), jvp=(_extremum_jvp,),
        batch=lambda values, batched, axis, keepdims: primitive(values[0], axis=_batch_axes(axis),
                                                                keepdims=keepdims),
        taylor=_extremum_taylor,
    )
    primitive.__doc__ = f"numpy.{name} over ``axis`` (a tuple); tied entries share the derivative equally."
    return primitive


amax_p = _extremum("max", lambda x, axis, keepdims: np.max(x, axis=axis, keepdims=keepdims))
amin_p = _extremum("min", lambda x, axis, keepdims: np.min(x, axis=axis, keepdims=keepdims))


def _extremum_function(name, primitive, combine):
    def function(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        _unsupported(name, out=out, where=where)
        a = _array(a)
        axes = _axes(axis, ndim_of(a))
        if initial is None:
            return primitive(a, axis=axes, keepdims=bool(keepdims))
        if _reduced_count(shape_of(a), axes) == 0:  # numpy: the initial value alone
            return primitive(concatenate(a, _initial_block(a, axes, initial), axis=axes[0]), axis=axes,
                             keepdims=bool(keepdims))
        # numpy's initial takes part as one more entry (a tie with it shares the derivative, as entries do)
        return combine(primitive(a, axis=axes, keepdims=bool(keepdims)), initial)

    function.__name__ = name
    function.__doc__ = (f"numpy.{name} over ``axis``. Entries tied for the {name}imum share the gradient "
                        "equally (as autograd does).")
    return function


def _initial_block(a, axes, initial):
    """A block of ``initial`` one long along the first reduced axis, to join an empty reduction's operand."""
    shape = list(shape_of(a))
    shape[axes[0]] = 1
    return np.full(tuple(shape), initial, dtype=np.result_type(dtype_of(a), np.asarray(initial).dtype))


amax = _extremum_function("max", amax_p, lambda value, initial: _elementwise.maximum(value, initial))
amin = _extremum_function("min", amin_p, lambda value, initial: _elementwise.minimum(value, initial))


def ptp(a, axis=None, out=None, keepdims=False):
    """numpy.ptp: max - min over ``axis``."""
    return subtract(amax(a, axis, out, keepdims), amin(a, axis, None, keepdims))


# --------------------------------------------------------------- variance

def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None, correction=None):
    """numpy.var: mean squared deviation over ``axis``, divided by (n - ddof) instead of n."""
    _unsupported("var", out=out, where=where, mean=mean)
    if correction is not None:
        ddof = correction
    a = accumulated_as(_array(a), _float_accumulator("var", dtype))
    axes = _axes(axis, ndim_of(a))
    deviation = subtract(a, mean_p(a, axis=axes, keepdims=True))
    if np.issubdtype(dtype_of(a), np.complexfloating):
        from . import namespace

        real, conjugate = namespace.NUMPY_API.get("real"), namespace.NUMPY_API.get("conjugate")
        if real is None or conjugate is None:
            raise TypeError("hodiff.numpy.var of complex values needs hodiff.numpy.real and conjugate")
        squares = real(multiply(deviation, conjugate(deviation)))
    else:
        squares = multiply(deviation, deviation)
    dof = _reduced_count(shape_of(a), axes) - ddof
    with np.errstate(divide="ignore"):
        scale = float(np.divide(1.0, _builtin_max(dof, 0)))
    return multiply(sum(squares, axis=axes, keepdims=bool(keepdims)), scale)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None, correction=None):
    """numpy.std: sqrt(var). Its derivative is infinite where std is 0 (a constant input).

    Except over one element with ddof=0: std is then identically 0, and so is
    its derivative (of every order); it is computed as the (zero) variance.
    """
    _float_accumulator("std", dtype)
    a = _array(a)
    if ddof == 0 and correction is None and _reduced_count(shape_of(a), _axes(axis, ndim_of(a))) == 1:
        return var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean)
    return sqrt(var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction))


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """numpy.average: the weighted mean sum(a * w) / sum(w) over ``axis`` (both differentiable)."""
    a = _array(a)
    if weights is None:
        result = mean(a, axis, keepdims=keepdims)
        if returned:
            count = _reduced_count(shape_of(a), _axes(axis, ndim_of(a)))
            return result, np.full(shape_of(result), count, dtype=dtype_of(result))
        return result
    weights = _array(weights)
    if shape_of(weights) != shape_of(a):
        if axis is None or ndim_of(weights) != 1:
            raise TypeError("average: weights differ in shape from a; give axis and 1-D weights of its length")
        axis = _normalize_axis(axis, ndim_of(a))
        if shape_of(weights)[0] != shape_of(a)[axis]:
            raise ValueError("average: length of weights differs from the length of a along axis")
        weights = reshape(weights, shape=tuple(-1 if d == axis else 1 for d in range(ndim_of(a))))
    axes = _axes(axis, ndim_of(a))
    total = sum(multiply(a, weights), axis=axes, keepdims=keepdims)
    scale = sum(multiply(weights, ones_like(a)), axis=axes, keepdims=keepdims)
    result = true_divide(total, scale)
    return (result, scale) if returned else result


# --------------------------------------------------------------- zero-derivative reductions

def _arg_batch(primitive):
    def rule(values, batched, axis=None, **params):
        x = values[0]
        shape = tuple(shape_of(x))
        if axis is None:  # numpy flattens each member
            # (the member's size, not -1: numpy cannot infer it beside a batch of 0 members)
            out = primitive(reshape(x, shape=(shape[0], int(np.prod(shape[1:], dtype=np.int64)))), axis=1, **params)
            if params.get("keepdims"):
                out = reshape(out, shape=(shape[0],) + (1,) * (len(shape) - 1))
            return out
        return primitive(x, axis=_normalize_axis(axis, len(shape) - 1) + 1, **params)

    return rule


def _nondifferentiable(name, impl, batch_rule):
    primitive = Primitive(name, impl, differentiable=False)
    primitive.batch = batch_rule(primitive)
    return primitive


argmax_p = _nondifferentiable("argmax", lambda x, axis=None, keepdims=False: np.argmax(x, axis, keepdims=keepdims),
                              _arg_batch)
argmin_p = _nondifferentiable("argmin", lambda x, axis=None, keepdims=False: np.argmin(x, axis, keepdims=keepdims),
                              _arg_batch)
argsort_p = _nondifferentiable("argsort", lambda x, axis=-1, kind=None: np.argsort(x, axis=axis, kind=kind),
                               _arg_batch)


def _logical_batch(primitive):
    return lambda values, batched, axis, keepdims: primitive(values[0], axis=_batch_axes(axis), keepdims=keepdims)


all_p = _nondifferentiable("all", lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims), _logical_batch)
any_p = _nondifferentiable("any", lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims), _logical_batch)


def argmax(a, axis=None, out=None, *, keepdims=False):
    """numpy.argmax (zero derivative; batched under vmap)."""
    _unsupported("argmax", out=out)
    return argmax_p(_array(a), axis=axis, keepdims=bool(keepdims))


def argmin(a, axis=None, out=None, *, keepdims=False):
    """numpy.argmin (zero derivative; batched under vmap)."""
    _unsupported("argmin", out=out)
    return argmin_p(_array(a), axis=axis, keepdims=bool(keepdims))


def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """numpy.argsort (zero derivative; batched under vmap)."""
    _unsupported("argsort", order=order)
    if stable:
        kind = "stable"
    return argsort_p(_array(a), axis=axis, kind=kind)


def _logical(name, primitive):
    def function(a, axis=None, out=None, keepdims=False, *, where=None):
        _unsupported(name, out=out, where=where)
        a = _array(a)
        return primitive(a, axis=_axes(axis, ndim_of(a)), keepdims=bool(keepdims))

    function.__name__ = name
    function.__doc__ = f"numpy.{name} (a boolean result: zero derivative; batched under vmap)."
    return function


all_ = _logical("all", all_p)
any_ = _logical("any", any_p)


# --------------------------------------------------------------- sort

def _tie_mean_impl(t, s, axis):
    s = np.asarray(s)
    t = np.broadcast_to(t, s.shape) if np.shape(t) != s.shape else np.asarray(t)
    moved_s = np.moveaxis(s, axis, -1)
    starts = np.ones(moved_s.shape, dtype=bool)
    starts[..., 1:] = moved_s[..., 1:] != moved_s[..., :-1]  # NaNs never tie
    if starts.all():
        return t  # no ties: the identity
    group = np.cumsum(starts.ravel()) - 1  # every row starts a group, so ids never cross rows
    counts = np.bincount(group)
    moved_t = np.moveaxis(t, axis, -1).ravel()
    if np.iscomplexobj(moved_t):
        sums = np.bincount(group, moved_t.real) + 1j * np.bincount(group, moved_t.imag)
    else:
        sums = np.bincount(group, moved_t)
    means = (sums / counts)[group].reshape(moved_s.shape).astype(np.result_type(t), copy=False)
    return np.moveaxis(means, -1, axis)


def _tie_mean_batch(values, batched, axis):
    t, s = values
    if not batched[0]:
        t = broadcast_like(t, shape_of(s))
    if not batched[1]:
        s = reshape(s, shape=(1,) + tuple(shape_of(s)))
        s = broadcast_like(s, shape_of(t))
    return tie_mean(t, s, axis=axis + 1)


def broadcast_like(x, shape):
    from .shape import broadcast_to

    return x if tuple(shape_of(x)) == tuple(shape) else broadcast_to(x, shape=tuple(shape))


tie_mean = Primitive(
    "tie_mean", _tie_mean_impl,
    vjp=(lambda g, ans, t, s, axis: tie_mean(g, s, axis=axis), None),  # an orthogonal projection: self-adjoint
    jvp=(lambda dt, ans, t, s, axis: tie_mean(dt, s, axis=axis), None),
    batch=_tie_mean_batch,
    taylor=lambda ans, primals, series, axis: _tie_mean_taylor(ans, primals, series, axis),
)


def _tie_mean_taylor(ans, primals, series, axis):
    """Linear in t; piecewise constant in s (its ties), so only t's series moves the output: a constant t with
    a traced s (Taylor mode over sort's derivative) gives the zero series (t's series was read as None)."""
    if series[0] is None:
        order = shape_of(series[1])[0]
        return zeros_like(broadcast_like(reshape(ans, shape=(1,) + tuple(shape_of(ans))),
                                         (order,) + tuple(shape_of(ans))))
    return tie_mean.batch([series[0], primals[1]], [True, False], axis=axis)
tie_mean.__doc__ = """t averaged over each run of equal values of ``s`` (sorted along ``axis``); linear in t.

This is how sort's derivative shares cotangents among tied entries.
"""


def _sort_jvp(t, ans, x, axis):
    order = argsort_p(x, axis=axis, kind="stable")
    return tie_mean(take_along_axis_p(t, order, axis=axis), ans, axis=axis)


def _sort_vjp(g, ans, x, axis):
    order = argsort_p(x, axis=axis, kind="stable")
    return scatter_along_axis(tie_mean(g, ans, axis=axis), order, axis=axis, shape=shape_of(x))


def _sort_taylor(ans, primals, series, axis):
    order = argsort_p(primals[0], axis=axis, kind="stable")
    sorted_series = take_along_axis_p.batch([series[0], order], [True, False], axis=axis)
    return tie_mean.batch([sorted_series, ans], [True, False], axis=axis)


sort_p = Primitive(
    "sort", lambda x, axis: np.sort(x, axis=axis),
    vjp=(_sort_vjp,), jvp=(_sort_jvp,),
    batch=lambda values, batched, axis: sort_p(values[0], axis=axis + 1),
    taylor=_sort_taylor,
)


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """numpy.sort along ``axis`` (None: the flattened array).

    The derivative follows the sorting permutation; entries tied in value
    share their cotangents equally (the average over the tie), so it does
    not depend on how ties are ordered:

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> hd.grad(lambda x: hnp.sort(x)[-1])(np.array([1.0, 3.0, 3.0]))
    array([0. , 0.5, 0.5])
    """
    _unsupported("sort", order=order)
    a = _array(a)
    if axis is None:
        a = reshape(a, shape=(-1,))
        axis = 0
    return sort_p(a, axis=_normalize_axis(axis, ndim_of(a)))


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """numpy.median: the middle of the sorted values (mean of the two middle ones for even counts)."""
    _unsupported("median", out=out)
    a = _array(a)
    axes = _axes(axis, ndim_of(a))
    merged, _ = _to_last(a, axes)
    length = shape_of(merged)[-1]
    if length == 0:
        raise ValueError("median of an empty array")
    ordered = sort_p(merged, axis=ndim_of(merged) - 1)
    middle = slice((length - 1) // 2, length // 2 + 1)
    result = mean_p(getitem(ordered, index=(Ellipsis, middle)), axis=(ndim_of(merged) - 1,), keepdims=False)
    if keepdims:
        result = reshape(result, shape=_keepdims_shape(shape_of(a), axes))
    return result


# --------------------------------------------------------------- the numpy namespace's names

def _float_accumulator(name, dtype):
    """A mean's dtype=: float or complex. numpy's integer mean truncates the quotient, which is refused."""
    if dtype is not None and not np.issubdtype(np.dtype(dtype), np.inexact):
        raise TypeError(f"hodiff.numpy.{name}: dtype={np.dtype(dtype)} is not supported (numpy truncates the "
                        "quotient to an integer); use a float dtype, or cast the result")
    return dtype


def _unsupported(name, **arguments):
    given = [key for key, value in arguments.items() if value is not None]
    if given:
        raise TypeError(f"hodiff.numpy.{name}: argument{'s' if len(given) > 1 else ''} {', '.join(given)} "
                        "not supported")


NUMPY_API = {
    "mean": mean, "prod": prod, "var": var, "std": std, "average": average, "median": median,
    "max": amax, "min": amin, "amax": amax, "amin": amin, "ptp": ptp,
    "cumsum": cumsum, "cumprod": cumprod, "cumulative_sum": cumulative_sum, "cumulative_prod": cumulative_prod,
    "argmax": argmax, "argmin": argmin, "argsort": argsort, "sort": sort,
    "all": all_, "any": any_,
}
