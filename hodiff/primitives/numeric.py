"""numpy's numeric helpers as compositions: diff, gradient, cross, select, nan_to_num, partition, copy,
polyval, trapezoid, interp (with searchsorted, a zero-derivative primitive).

Each is written with hodiff primitives (slices, arithmetic, ``where``,
``take_along_axis``), so every mode works with no rules of their own; the one
new primitive, ``argpartition``, has zero derivative (like argsort) and a
batch rule. With no traced argument numpy itself is called, so plain values
get numpy's exact answers and errors.
"""

import warnings

import numpy as np

from ..core import backends
from ..core.errors import BackendError
from ..core.trace import Primitive, Tracer
from .contraction import outer
from .elementwise import cast, clip, conj, equal, greater, imag, isfinite, isnan, less, real, remainder, where
from .reductions import argsort
from .rules import dtype_of, ndim_of, shape_of
from .shape import (
    _array,
    _normalize_axis,
    broadcast_to,
    concatenate,
    flip,
    getitem,
    index_add,
    moveaxis,
    reshape,
    stack,
    take,
    take_along_axis_p,
)
from .shape import sum as _sum

__all__ = ["diff", "gradient", "cross", "select", "nan_to_num", "partition", "argpartition", "copy", "polyval",
           "trapezoid", "searchsorted", "interp", "convolve", "correlate"]


def _traced(*values):
    from .creation import _holds_tracer

    return any(_holds_tracer(v) for v in values)


def _along(axis, ndim, item):
    """An index that applies ``item`` along ``axis`` and takes everything elsewhere."""
    return (slice(None),) * axis + (item,) + (slice(None),) * (ndim - axis - 1)


# --------------------------------------------------------------- diff

def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    """numpy.diff: the n-th forward difference along ``axis`` (a[1:] - a[:-1], n times).

    ``prepend``/``append`` are joined first (scalars broadcast to one slice),
    as in numpy; they may be traced too.
    """
    if not _traced(a, None if prepend is np._NoValue else prepend, None if append is np._NoValue else append):
        return np.diff(a, n, axis, prepend, append)
    if n == 0:
        return a
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    a = _array(a)
    ndim = ndim_of(a)
    if ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = _normalize_axis(axis, ndim)
    parts = []
    for extra in (prepend, None, append):
        if extra is None:
            parts.append(a)
            continue
        if extra is np._NoValue:
            continue
        extra = _array(extra)
        if ndim_of(extra) == 0:
            shape = list(shape_of(a))
            shape[axis] = 1
            extra = broadcast_to(extra, shape=tuple(shape))
        parts.append(extra)
    if len(parts) > 1:
        dtype = np.result_type(*[dtype_of(p) for p in parts])
        a = concatenate(*[cast(p, dtype, copy=False) if isinstance(p, Tracer) else backends.asarray(p, dtype)
                          for p in parts], axis=axis)
    upper, lower = _along(axis, ndim, slice(1, None)), _along(axis, ndim, slice(None, -1))
    for _ in range(n):
        a = getitem(a, index=upper) - getitem(a, index=lower)
    return a


# --------------------------------------------------------------- gradient

def gradient(f, *varargs, axis=None, edge_order=1):
    """numpy.gradient: second-order central differences inside, one-sided ones at the edges.

    Differentiable in ``f`` (spacings are plain: scalars or 1-D coordinates).
    Returns one array for one axis, else a tuple with one array per axis,
    each of f's shape and dtype (float64 for integer f), as numpy.
    """
    if not _traced(f):
        return np.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    if _traced(*varargs):
        raise TypeError("hodiff.numpy.gradient is differentiable in f only: pass plain spacings "
                        "(use hd.stop_gradient on traced ones)")
    f = _array(f)
    ndim = ndim_of(f)
    axes = tuple(range(ndim)) if axis is None else tuple(np.lib.array_utils.normalize_axis_tuple(axis, ndim))
    spacings = _spacings(varargs, axes, shape_of(f))
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    otype = dtype_of(f) if np.issubdtype(dtype_of(f), np.inexact) else np.dtype(np.float64)
    f = cast(f, otype, copy=False)
    outs = []
    for ax, dx in zip(axes, spacings):
        if shape_of(f)[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")

        def part(item, ax=ax):
            return getitem(f, index=_along(ax, ndim, item))

        uniform = np.ndim(dx) == 0
        # Spacings are plain numbers: kept weak (a Python float) or in f's precision, so a float64 grid
        # does not widen a float32 f's tangents and cotangents (its Hessians came out float64).
        dx = float(dx) if uniform else dx.astype(np.result_type(otype, np.float32), copy=False)
        if uniform:
            interior = (part(slice(2, None)) - part(slice(None, -2))) / (2.0 * dx)
        else:
            shape = [1] * ndim
            shape[ax] = -1
            dx1, dx2 = dx[:-1], dx[1:]
            a = (-dx2 / (dx1 * (dx1 + dx2))).reshape(shape)
            b = ((dx2 - dx1) / (dx1 * dx2)).reshape(shape)
            c = (dx1 / (dx2 * (dx1 + dx2))).reshape(shape)
            interior = a * part(slice(None, -2)) + b * part(slice(1, -1)) + c * part(slice(2, None))
        first, last = slice(0, 1), slice(-1, None)
        if edge_order == 1:
            start = (part(slice(1, 2)) - part(first)) / (dx if uniform else dx[0])
            end = (part(last) - part(slice(-2, -1))) / (dx if uniform else dx[-1])
        else:
            if uniform:
                a, b, c = -1.5 / dx, 2.0 / dx, -0.5 / dx
            else:
                dx1, dx2 = dx[0], dx[1]
                a = -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2))
                b = (dx1 + dx2) / (dx1 * dx2)
                c = -dx1 / (dx2 * (dx1 + dx2))
            start = a * part(first) + b * part(slice(1, 2)) + c * part(slice(2, 3))
            if uniform:
                a, b, c = 0.5 / dx, -2.0 / dx, 1.5 / dx
            else:
                dx1, dx2 = dx[-2], dx[-1]
                a = dx2 / (dx1 * (dx1 + dx2))
                b = -(dx2 + dx1) / (dx1 * dx2)
                c = (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2))
            end = a * part(slice(-3, -2)) + b * part(slice(-2, -1)) + c * part(last)
        out = concatenate(*[cast(p, otype, copy=False) for p in (start, interior, end)], axis=ax)
        outs.append(out)
    return outs[0] if len(axes) == 1 else tuple(outs)


def _spacings(varargs, axes, shape):
    """numpy.gradient's spacing per axis: a scalar, or the differences of 1-D coordinates."""
    if not varargs:
        return [1.0] * len(axes)
    if len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        return list(varargs) * len(axes)
    if len(varargs) != len(axes):
        raise TypeError("invalid number of arguments")
    spacings = []
    for ax, distances in zip(axes, varargs):
        distances = np.asanyarray(distances)
        if distances.ndim == 0:
            spacings.append(distances)
            continue
        if distances.ndim != 1:
            raise ValueError("distances must be either scalars or 1d")
        if len(distances) != shape[ax]:
            raise ValueError("when 1d, distances must match the length of the corresponding dimension")
        if np.issubdtype(distances.dtype, np.integer):
            distances = distances.astype(np.float64)
        steps = np.diff(distances)
        spacings.append(steps[0] if (steps == steps[0]).all() else steps)
    return spacings


# --------------------------------------------------------------- cross

def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """numpy.cross of 3-vectors (and 2-vectors, deprecated in numpy 2) along the given axes.

    Broadcasts over the other axes; the components are products of a's and
    b's components, so it is bilinear in (a, b).
    """
    if not _traced(a, b):
        return np.cross(a, b, axisa, axisb, axisc, axis)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _array(a), _array(b)
    a = moveaxis(a, _normalize_axis(axisa, ndim_of(a)), -1)
    b = moveaxis(b, _normalize_axis(axisb, ndim_of(b)), -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be 2 or 3)")
    if na == 2 or nb == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of 3-dimensional vectors "
                      "instead. (deprecated in NumPy 2.0)", DeprecationWarning, stacklevel=2)
    dtype = np.result_type(dtype_of(a), dtype_of(b))
    a, b = cast(a, dtype, copy=False), cast(b, dtype, copy=False)
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    z = a0 * b1 - a1 * b0
    if na == 2 and nb == 2:
        return z
    if na == 3 and nb == 3:
        a2, b2 = a[..., 2], b[..., 2]
        x, y = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    elif na == 2:
        b2 = b[..., 2]
        x, y = a1 * b2, -(a0 * b2)
    else:
        a2 = a[..., 2]
        x, y = -(a2 * b1), a2 * b0
    shape = np.broadcast_shapes(tuple(shape_of(x)), tuple(shape_of(y)), tuple(shape_of(z)))
    out = stack(*[broadcast_to(c, shape=shape) if tuple(shape_of(c)) != shape else c for c in (x, y, z)],
                axis=-1)
    return moveaxis(out, -1, _normalize_axis(axisc, len(shape) + 1))


# --------------------------------------------------------------- select, nan_to_num

def select(condlist, choicelist, default=0):
    """numpy.select: choicelist[i] where condlist[i] is the first true condition, else ``default``.

    A chain of ``where`` from the last condition to the first (conditions
    are bool arrays; choices and default may be traced).
    """
    if not _traced(condlist, choicelist, default):
        return np.select(condlist, choicelist, default)
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not condlist:
        raise ValueError("select with an empty condition list is not possible")
    choices = [_array(c) for c in choicelist] + [_array(default)]
    # A Python-scalar default is weak (NEP 50), as in numpy.select: float32 choices stay float32.
    weak = type(default) in (bool, int, float, complex)
    dtype = np.result_type(*[dtype_of(c) for c in choices[:-1]], *([default] if weak else [dtype_of(choices[-1])]))
    for i, cond in enumerate(condlist):
        cond_dtype = dtype_of(cond) if isinstance(cond, Tracer) else np.asarray(cond).dtype
        if cond_dtype != np.bool_:
            raise TypeError(f"invalid entry {i} in condlist: should be boolean ndarray")
    choices = [cast(c, dtype, copy=False) if isinstance(c, Tracer) else backends.asarray(c, dtype) for c in choices]
    result = choices[-1]
    for cond, choice in zip(reversed(condlist), reversed(choices[:-1])):
        result = where(cond, choice, result)
    return result


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """numpy.nan_to_num: NaN -> ``nan``, +inf -> ``posinf`` (default: the largest float), -inf -> ``neginf``.

    The replaced entries are constants (zero derivative); the others pass
    through (derivative one). Complex values: real and imaginary parts alike.
    """
    if not _traced(x, nan, posinf, neginf):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    x = _array(x)
    dtype = dtype_of(x)
    if not np.issubdtype(dtype, np.inexact):
        return x
    if np.issubdtype(dtype, np.complexfloating):
        parts = [nan_to_num(part, nan=nan, posinf=posinf, neginf=neginf) for part in (real(x), imag(x))]
        return cast(parts[0], dtype) + cast(parts[1], dtype) * 1j
    info = np.finfo(dtype)
    fills = [(isnan(x), nan), (equal(x, np.inf), info.max if posinf is None else posinf),
             (equal(x, -np.inf), info.min if neginf is None else neginf)]
    for mask, fill in fills:
        fill = cast(fill, dtype, copy=False) if isinstance(fill, Tracer) else backends.asarray(fill, dtype=dtype)
        x = where(mask, fill, x)
    return x


# --------------------------------------------------------------- partition

def _argpartition_batch(values, batched, kth, axis):
    return argpartition_p(values[0], kth=kth, axis=axis + 1)


argpartition_p = Primitive("argpartition", lambda x, kth, axis: np.argpartition(x, kth, axis=axis),
                           differentiable=False)
argpartition_p.batch = _argpartition_batch
argpartition_p.__doc__ = "numpy.argpartition along a non-negative ``axis`` (zero derivative; batched under vmap)."


def _partition_args(a, kth, axis):
    a = _array(a)
    if axis is None:
        a, axis = reshape(a, shape=(-1,)), 0
    axis = _normalize_axis(axis, ndim_of(a))
    kth = int(kth) if np.ndim(kth) == 0 else tuple(int(k) for k in np.ravel(kth))
    return a, kth, axis


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """numpy.argpartition (zero derivative; batched under vmap)."""
    if order is not None:
        raise TypeError("hodiff.numpy.argpartition: order= is not supported")
    a, kth, axis = _partition_args(a, kth, axis)
    return argpartition_p(a, kth=kth, axis=axis)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """numpy.partition: ``a`` gathered along ``axis`` by argpartition, so the k-th entry is in sorted place.

    The derivative follows the entries where they moved (take_along_axis).
    """
    if not _traced(a):
        return np.partition(a, kth, axis=axis, kind=kind, order=order)
    if order is not None:
        raise TypeError("hodiff.numpy.partition: order= is not supported")
    a, kth, axis = _partition_args(a, kth, axis)
    return take_along_axis_p(a, argpartition_p(a, kth=kth, axis=axis), axis=axis)


def copy(a, order="K", subok=False):
    """numpy.copy: a traced value is its own copy (traced values are immutable), a list of them an array."""
    if not _traced(a):
        return np.copy(a, order=order, subok=subok)
    return a if isinstance(a, Tracer) else _array(a)


def polyval(p, x):
    """numpy.polyval: p[0] x^(N-1) + ... + p[N-1] by Horner's rule; p (N,) and x may both be traced."""
    if not _traced(p, x):
        return np.polyval(p, x)
    p = _array(p)
    if ndim_of(p) != 1:
        raise ValueError(f"polyval: p must be one-dimensional (the coefficients), got shape {shape_of(p)}")
    y = 0.0 * x
    for i in range(shape_of(p)[0]):
        y = y * x + getitem(p, index=(i,))
    return y


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """numpy.trapezoid: the trapezoidal rule along ``axis``, sum((y[1:] + y[:-1]) / 2 * diff(x)) (spacing ``dx``
    without x); y, x and dx may be traced."""
    if not _traced(y, x, dx):
        return np.trapezoid(y, x=x, dx=dx, axis=axis)
    y = _array(y)
    ndim = ndim_of(y)
    axis = _normalize_axis(axis, ndim)
    if x is None:
        spacing = dx
    else:
        x = _array(x)
        spacing = diff(x, axis=axis if ndim_of(x) == ndim else -1)
        if ndim_of(x) == 1 and ndim > 1:  # one abscissa for every line along axis: numpy's broadcast
            shape = [1] * ndim
            shape[axis] = shape_of(spacing)[0]
            spacing = reshape(spacing, shape=tuple(shape))
    n = shape_of(y)[axis]
    heights = getitem(y, index=_along(axis, ndim, slice(1, n))) + getitem(y, index=_along(axis, ndim, slice(0, n - 1)))
    return _sum(heights * spacing, axis=axis) / 2.0


def _searchsorted_batch(values, batched, side="left"):
    a, v = values
    if not batched[0]:  # one sorted array: v's batch axis is one more axis of v
        return searchsorted_p(a, v, side=side)
    return stack(*(searchsorted_p(getitem(a, index=(i,)), getitem(v, index=(i,)) if batched[1] else v, side=side)
                   for i in range(shape_of(a)[0])))


def _searchsorted_impl(a, v, side="left"):
    # Dask's searchsorted wants a Dask v when a is one (its numpy v fails inside Dask)
    return np.searchsorted(a, backends.asarray(v, like=a), side=side)


searchsorted_p = Primitive("searchsorted", _searchsorted_impl, differentiable=False)
searchsorted_p.batch = _searchsorted_batch


def searchsorted(a, v, side="left", sorter=None):
    """numpy.searchsorted (zero derivative: integer positions; batched under vmap)."""
    if not _traced(a, v):
        return np.searchsorted(a, v, side=side, sorter=sorter)
    a = _array(a)
    if sorter is not None:
        a = take(a, sorter)
    return searchsorted_p(a, _array(v), side=side)


def interp(x, xp, fp, left=None, right=None, period=None):
    """numpy.interp: piecewise-linear interpolation of (xp, fp) at x; x, xp, fp, left and right may be traced.

    Between knots the derivative in x is the segment's slope; at an interior knot it is the slope of the
    segment to its right (numpy puts the knot there), at xp[-1] that of the last segment; beyond the ends
    it is zero (left/right are constants of x). ``period`` wraps x and xp as numpy does.
    """
    if not _traced(x, xp, fp, left, right, period):
        return np.interp(x, xp, fp, left=left, right=right, period=period)
    foreign = backends.first_foreign((x, xp, fp))
    if foreign is not None:  # Dask's searchsorted fails inside on a numpy xp; take_along_axis it has not
        name = backends.backend_name(backends.innermost(foreign))
        raise BackendError("interp", name, f"it needs searchsorted and take_along_axis, which {name} does not "
                           "provide for this; compute x first")
    x, xp, fp = _array(x), _array(xp), _array(fp)
    if ndim_of(xp) != 1 or ndim_of(fp) != 1 or shape_of(xp) != shape_of(fp):
        raise ValueError(f"interp: xp and fp must be one-dimensional of one length, got shapes {shape_of(xp)} "
                         f"and {shape_of(fp)}")
    if period is not None:  # numpy's wrapping: x and xp taken mod period, xp sorted and padded by one period
        if period == 0:
            raise ValueError("period must be a non-zero value")
        period = abs(period)
        left = right = None
        x, xp = remainder(x, period), remainder(xp, period)
        order = argsort(xp)
        xp, fp = take(xp, order), take(fp, order)
        xp = concatenate(getitem(xp, index=(slice(-1, None),)) - period, xp, getitem(xp, index=(slice(0, 1),)) + period,
                         axis=0)
        fp = concatenate(getitem(fp, index=(slice(-1, None),)), fp, getitem(fp, index=(slice(0, 1),)), axis=0)
    n = shape_of(xp)[0]
    first, last = getitem(fp, index=(0,)), getitem(fp, index=(n - 1,))
    left = first if left is None else left
    right = last if right is None else right
    if n == 1:
        y = first + 0.0 * x
    else:
        j = reshape(clip(searchsorted(xp, x, side="right") - 1, 0, n - 2), shape=(-1,))

        def at(values, positions):  # a gather whose (integer) positions may be batched under vmap
            return reshape(take_along_axis_p(values, positions, axis=0), shape=shape_of(x))

        x0, f0 = at(xp, j), at(fp, j)
        slope = (at(fp, j + 1) - f0) / (at(xp, j + 1) - x0)
        y = where(isfinite(slope), slope * (x - x0) + f0, f0)  # at a knot, f0 + slope * 0 is f0 exactly
        end = getitem(xp, index=(n - 1,))
        y = where(equal(x, end), last + slope * (x - end), y)  # numpy gives fp[-1] there exactly
    return where(less(x, getitem(xp, index=(0,))), left, where(greater(x, getitem(xp, index=(n - 1,))), right, y))


def convolve(a, v, mode="full"):
    """numpy.convolve of 1-D a and v, differentiable in both: c[k] = sum_i a[i] v[k - i] ('full', length
    n + m - 1; 'same': the max(n, m) central entries; 'valid': the max - min + 1 where they overlap fully).

    The outer product's entries a[i] v[j] are added at i + j (``index_add``), so the VJP gathers there.
    """
    if not _traced(a, v):
        return np.convolve(a, v, mode=mode)
    a, v = _array(a), _array(v)
    if ndim_of(a) != 1 or ndim_of(v) != 1:
        raise ValueError(f"convolve: a and v must be 1-D, got shapes {shape_of(a)} and {shape_of(v)}")
    n, m = shape_of(a)[0], shape_of(v)[0]
    if n == 0 or m == 0:
        raise ValueError("v cannot be empty" if m == 0 else "a cannot be empty")
    positions = (np.arange(n)[:, None] + np.arange(m)[None, :]).ravel()
    full = index_add(reshape(outer(a, v), shape=(n * m,)), index=(positions,), shape=(n + m - 1,))
    short, long = min(n, m), max(n, m)
    if mode == "full":
        return full
    if mode == "same":
        start = (short - 1) // 2
        return getitem(full, index=(slice(start, start + long),))
    if mode == "valid":
        return getitem(full, index=(slice(short - 1, long),))
    raise ValueError(f"convolve: mode must be 'full', 'same' or 'valid', got {mode!r}")


def correlate(a, v, mode="valid"):
    """numpy.correlate of 1-D a and v: convolve(a, conj(v) reversed, mode), as numpy computes it; for a v longer
    than a, numpy correlates (v, a) and reverses (and conjugates) that, which moves 'same''s window."""
    if not _traced(a, v):
        return np.correlate(a, v, mode=mode)
    a, v = _array(a), _array(v)
    if ndim_of(a) == 1 and ndim_of(v) == 1 and shape_of(v)[0] > shape_of(a)[0]:
        return conj(flip(correlate(v, a, mode), 0))
    return convolve(a, flip(conj(v), 0), mode)


NUMPY_API = {
    "convolve": convolve, "correlate": correlate,
    "diff": diff, "gradient": gradient, "cross": cross, "select": select, "nan_to_num": nan_to_num,
    "partition": partition, "argpartition": argpartition, "copy": copy, "polyval": polyval, "trapezoid": trapezoid,
    "searchsorted": searchsorted, "interp": interp,
}
