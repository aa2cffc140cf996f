"""Shape primitives: reshape, broadcast, reduce-by-sum, index, join.

These are linear in their array argument(s), so each has a JVP that is the op
itself, a VJP that is its transpose (another primitive here), a batch rule
that keeps the batch axis in front, and a Taylor rule that maps the op over
the series axis.
"""

import numpy as np

from ..core import backends
from ..core.errors import BackendError
from ..core.trace import Primitive, Tracer
from .rules import dtype_of, linear, ndim_of, shape_of, shift_axis, taylor_bilinear, taylor_linear

__all__ = [
    "reshape", "broadcast_to", "sum", "sum_to_shape", "expand_dims", "getitem", "take",
    "index_add", "concatenate", "stack", "transpose", "tensordot", "zeros_like", "ones_like",
]

_sum = sum  # Python's builtin, before the primitive shadows it


def size_of(x):
    return int(np.prod(shape_of(x), dtype=np.int64))


def zeros_like(x):
    """Zeros of x's member shape and dtype (and array backend): a constant, never traced."""
    return backends.zeros(shape_of(x), dtype=dtype_of(x), like=x)


def ones_like(x):
    return backends.ones(shape_of(x), dtype=dtype_of(x), like=x)


# --------------------------------------------------------------- reshape

def _reshape_impl(x, shape):
    try:
        return np.reshape(x, shape)
    except NotImplementedError as error:  # Dask reshapes only by merging or splitting whole chunks
        raise _backend_error("reshape", x, error) from error


def _member_shape(member, shape):
    """``shape`` with its -1 resolved for a member of shape ``member``: beside a batch of 0 members the batched
    array has size 0, from which numpy cannot infer the -1 (a member's size tells it)."""
    shape = tuple(shape)
    if -1 not in shape:
        return shape
    known = int(np.prod([n for n in shape if n != -1], dtype=np.int64))
    size = int(np.prod(member, dtype=np.int64))
    if known == 0 or size % known:
        np.empty(member, dtype=bool).reshape(shape)  # numpy's own error for an impossible shape
    return tuple(size // known if n == -1 else n for n in shape)


reshape = linear(
    "reshape", _reshape_impl,
    transpose=lambda g, x, shape: reshape(g, shape=shape_of(x)),
    batch=lambda values, batched, shape: reshape(
        values[0], shape=shape_of(values[0])[:1] + _member_shape(shape_of(values[0])[1:], shape)),
)


def expand_dims(x, axis):
    shape = list(shape_of(x))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    ndim = len(shape) + len(axes)
    for a in sorted(a % ndim for a in axes):
        shape.insert(a, 1)
    return reshape(x, shape=tuple(shape))


# --------------------------------------------------------------- sum and broadcast

def _sum_transpose(g, x, axis=None, keepdims=False):
    shape = shape_of(x)
    if not keepdims and axis is not None and shape:  # numpy allows axis=0/-1 on 0-d input: nothing to expand
        axes = (axis,) if isinstance(axis, int) else axis
        g = expand_dims(g, tuple(a % len(shape) for a in axes))
    elif not keepdims:
        g = reshape(g, shape=(1,) * len(shape))
    return broadcast_to(g, shape=shape)


def reduce_short_last_axis(ufunc, x, axis, keepdims):
    """``ufunc.reduce(x, axis)`` (np.add, np.maximum, np.minimum) when ``axis`` is x's last and it is short
    (2-7 entries), else None (the caller asks numpy).

    numpy reduces a short last axis row by row (GradBench gmm's (1000, 5, 2) summed over its 2: 96 us);
    column by column it is 5 us, in numpy's own order (x_0, x_1, ... one after the other below 8 terms,
    a sum starting from +0), so every bit is numpy's. float16 is left to numpy (it sums halves in float32).
    """
    if type(x) is not np.ndarray or x.ndim < 2 or x.size < 256 or x.dtype.char not in "fd":
        return None
    last = axis if type(axis) is int else axis[0] if type(axis) is tuple and len(axis) == 1 else None
    if last is None or last % x.ndim != x.ndim - 1 or not 2 <= x.shape[-1] <= 7:
        return None
    total = ufunc(x[..., 0], x[..., 1])
    for i in range(2, x.shape[-1]):
        ufunc(total, x[..., i], out=total)
    if ufunc is np.add:
        total += 0.0  # a sum of -0.0s is +0.0, as numpy's from +0
    return total[..., None] if keepdims else total


def _sum_impl(x, axis=None, keepdims=False):
    short = reduce_short_last_axis(np.add, x, axis, keepdims)
    return np.sum(x, axis=axis, keepdims=keepdims) if short is None else short


sum = linear(
    "sum", _sum_impl,
    transpose=_sum_transpose,
    batch=lambda values, batched, axis=None, keepdims=False: sum(
        values[0], axis=shift_axis(axis, ndim_of(values[0]) - 1), keepdims=keepdims),
)


def sum_to_shape(x, shape):
    """Sum x down to ``shape`` (undo numpy broadcasting)."""
    x_shape = shape_of(x)
    lead = len(x_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, (n, m) in enumerate(zip(shape, x_shape[lead:])) if n == 1 and m != 1
    )
    if axes:
        x = sum(x, axis=axes, keepdims=False)
    return reshape(x, shape=tuple(shape)) if shape_of(x) != tuple(shape) else x


def _broadcast_batch(values, batched, shape):
    x = values[0]
    x_shape = shape_of(x)
    missing = len(shape) - (len(x_shape) - 1)
    if missing:
        x = reshape(x, shape=x_shape[:1] + (1,) * missing + x_shape[1:])
    return broadcast_to(x, shape=x_shape[:1] + tuple(shape))


broadcast_to = linear(
    "broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
    transpose=lambda g, x, shape: sum_to_shape(g, shape_of(x)),
    batch=_broadcast_batch,
)


# --------------------------------------------------------------- transpose

def _transpose_batch(values, batched, axes=None):
    x = values[0]
    member_ndim = ndim_of(x) - 1
    axes = tuple(reversed(range(member_ndim))) if axes is None else axes
    return transpose(x, axes=(0,) + tuple(a % member_ndim + 1 for a in axes))


transpose = linear(
    "transpose", lambda x, axes=None: np.transpose(x, axes),
    transpose=lambda g, x, axes=None: transpose(
        g, axes=None if axes is None else tuple(np.argsort([a % len(axes) for a in axes]))),
    batch=_transpose_batch,
)


# --------------------------------------------------------------- indexing

def _is_advanced_item(item):
    """Arrays (int or bool, any ndim) and bool scalars make numpy's indexing 'advanced'."""
    return isinstance(item, (np.ndarray, bool, np.bool_))


def _advanced_layout(index):
    """Where numpy puts the dimensions made by an index's advanced (array) items.

    Returns ``None`` for basic indexing or when the advanced items are
    adjacent (their dimensions stay in place), else the number of dimensions
    they make, which numpy moves to the front of the result. Integers count
    as advanced items once any array is present; ``None``, slices and
    ``Ellipsis`` (even one that stands for no axis) separate them.
    """
    items = index if isinstance(index, tuple) else (index,)
    if not any(_is_advanced_item(item) for item in items):
        return None
    positions = [i for i, item in enumerate(items)
                 if _is_advanced_item(item) or isinstance(item, (int, np.integer))]
    if positions[-1] - positions[0] + 1 == len(positions):
        return None
    shapes = []
    for item in positions:
        item = items[item]
        if isinstance(item, (bool, np.bool_)) or (isinstance(item, np.ndarray) and item.dtype == bool):
            shapes.append((int(np.count_nonzero(item)),))  # a mask makes one axis
        else:
            shapes.append(np.shape(item))
    return len(np.broadcast_shapes(*shapes))


def _batched_index(index):
    """The same index with a leading full slice for the batch axis."""
    if not isinstance(index, tuple):
        index = (index,)
    return (slice(None),) + index


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return not any(_is_advanced_item(item) for item in items)


def _dask_index_problem(index):
    """Why Dask would index differently from numpy (or not at all), or None."""
    items = index if isinstance(index, tuple) else (index,)
    arrays = [item for item in items if isinstance(item, np.ndarray) and item.ndim]
    if not arrays:
        return None
    if any(item.dtype == bool and item.ndim > 1 for item in arrays):
        return "Dask takes boolean masks over one axis only"
    if len(arrays) + _sum(isinstance(item, (int, np.integer)) for item in items) > 1:
        # numpy broadcasts such indices together (and may move their axes first); Dask does not
        return "Dask indexes with one index array at a time, and with an integer beside it lays the axes out " \
            "differently from numpy"
    return None


def takes_along_last_axis(index):
    """Whether ``index`` is (:, ..., :, integer array): getitem runs it as np.take along that axis."""
    return (type(index) is tuple and len(index) > 1 and type(index[-1]) is np.ndarray
            and index[-1].dtype.kind in "iu" and index[-1].ndim >= 1
            and all(type(item) is slice and item == _FULL for item in index[:-1]))


def _index_impl(x, index):
    # A gather along a later axis (x[:, i], as batching and ``take`` make it): numpy's fancy
    # indexing builds it in a transposed layout, ~3x slower than take and copied again by any
    # later reshape; take gives the same entries C-contiguously.
    if type(x) is np.ndarray and takes_along_last_axis(index):
        return np.take(x, index[-1], axis=len(index) - 1)
    if x.__class__ is not np.ndarray and backends.backend_name(x) == "dask":
        problem = _dask_index_problem(index)
        if problem is not None:
            raise BackendError("getitem", "dask", problem)
    try:
        out = x[index]
    except NotImplementedError as error:  # Dask's indexing lacks some of numpy's (several index arrays)
        raise _backend_error("getitem", x, error) from error
    if x.__class__ is not np.ndarray and backends.backend_name(x) == "dask" and any(n != n for n in out.shape):
        # Dask leaves the length of a boolean mask's selection unknown (nan) until it computes it.
        raise BackendError("getitem", "dask", "this boolean mask gives Dask an unknown shape; index with the "
                           "integer positions instead (np.flatnonzero(mask) for a 1-D mask)")
    return out


def _backend_error(name, value, error):
    return BackendError(name, backends.backend_name(value), str(error).strip())


_FULL = slice(None)


def _index_add_impl(g, index, shape):
    dtype = np.result_type(g)
    if type(g) is np.ndarray or backends.backend_name(g) == "numpy":
        out = np.zeros(shape, dtype=dtype)
    elif backends.backend_name(g) == "dask":  # (Dask's setitem handles fewer indices than numpy's, and no ufunc.at)
        return _index_add_by_bincount(g, index, shape, dtype)
    else:
        out = backends.zeros(shape, dtype=dtype, like=g)
    if _is_basic(index):
        out[index] = g  # basic indexing never selects an entry twice: no accumulation needed
    else:
        np.add.at(out, index, g)
    return out


def _index_add_by_bincount(g, index, shape, dtype):
    """index_add for Dask, which has no ufunc.at: each entry of g is a weight on the flat position it goes to."""
    positions = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)[index].reshape(-1)  # static
    weights = g.reshape(-1)
    positions = np.asarray(positions, like=weights).rechunk(weights.chunks)

    def summed(part):
        return np.bincount(positions, weights=part, minlength=int(np.prod(shape, dtype=np.int64)))

    flat = summed(weights.real) + 1j * summed(weights.imag) if dtype.kind == "c" else summed(weights)
    return flat.reshape(shape).astype(dtype, copy=False)


def _getitem_batch(values, batched, index):
    out = getitem(values[0], index=_batched_index(index))
    front = _advanced_layout(index)
    if front is None:
        return out
    # numpy put the advanced dimensions first and the batch axis after them: bring it back to the front.
    order = (front,) + tuple(i for i in range(ndim_of(out)) if i != front)
    return transpose(out, axes=order)


def _index_add_batch(values, batched, index, shape):
    g = values[0]
    front = _advanced_layout(index)
    if front is not None:
        # the batched index makes (advanced dims, batch, rest): move g's batch axis there.
        rest = list(range(1, ndim_of(g)))
        g = transpose(g, axes=tuple(rest[:front]) + (0,) + tuple(rest[front:]))
    return index_add(g, index=_batched_index(index), shape=shape_of(values[0])[:1] + tuple(shape))


getitem = linear(
    "getitem", _index_impl,
    transpose=lambda g, x, index: index_add(g, index=index, shape=shape_of(x)),
    batch=_getitem_batch,
)
getitem.__doc__ = """x[index] for a static index (ints, slices, None, Ellipsis, int and bool arrays).

Basic indexing returns a view. The VJP scatters the cotangent back with
``index_add`` (accumulating repeated entries of integer-array indices).
"""


def _getitem_accumulate_vjp(total, g, ans, x, index):
    """total + index_add(g, index, x's shape) written into total (a fresh zero array when None), for a basic
    index: it selects each entry once, so the slice's cotangent is added where it belongs. Other indices
    may repeat entries (np.add.at sums those in another order): None, the rule runs."""
    if g.__class__ is not np.ndarray or not _is_basic(index):
        return None
    if total is None:
        total = np.zeros(shape_of(x), dtype=g.dtype)  # index_add's own zeros and assignment
        total[index] = g
        return total
    if total.shape != tuple(shape_of(x)) or total.dtype != g.dtype:
        return None
    part = total[index]
    if part.__class__ is np.ndarray:
        np.add(part, g, out=part)
    else:  # every axis indexed by an integer: numpy gives a scalar, not a view
        total[index] = part + g
    return total


getitem.accumulate_vjp = _getitem_accumulate_vjp

index_add = linear(
    "index_add", _index_add_impl,
    transpose=lambda g, x, index, shape: getitem(g, index=index),
    batch=_index_add_batch,
)
index_add.__doc__ = """zeros(shape) with g added at ``index`` (repeated entries accumulate): getitem's transpose."""


def take(a, indices, axis=None, out=None, mode="raise"):
    """numpy.take: entries of ``a`` at integer ``indices`` along ``axis`` (None: of the flattened a).

    Out-of-range indices raise IndexError (numpy's mode="raise"; "wrap" and
    "clip" remap the indices first).
    """
    if out is not None:
        raise TypeError("hodiff.numpy.take: out= is not supported")
    a = _array(a)
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    if mode != "raise":
        length = size_of(a) if axis is None else shape_of(a)[_normalize_axis(axis, ndim_of(a))]
        indices = np.asarray(indices)
        indices = indices % length if mode == "wrap" else np.clip(indices, 0, length - 1)
    if axis is None:
        a = reshape(a, shape=(-1,))
        axis = 0
    axis = _normalize_axis(axis, ndim_of(a))
    return getitem(a, index=(slice(None),) * axis + (np.asarray(indices),))


# --------------------------------------------------------------- joining

def _split_sizes(args, axis):
    return [shape_of(a)[axis] for a in args]


def _concatenate_vjp(argnum):
    def rule(g, ans, *args, axis=0):
        axis_n = axis % ndim_of(ans)
        start = _sum(_split_sizes(args[:argnum], axis_n))
        stop = start + shape_of(args[argnum])[axis_n]
        return getitem(g, index=(slice(None),) * axis_n + (slice(start, stop),))

    return rule


def _concatenate_batch(values, batched, axis=0):
    size = next(shape_of(v)[0] for v, b in zip(values, batched) if b)
    member_ndim = next(ndim_of(v) - 1 for v, b in zip(values, batched) if b)
    aligned = [v if b else broadcast_to(v, shape=(size,) + shape_of(v)) for v, b in zip(values, batched)]
    return concatenate(*aligned, axis=shift_axis(axis, member_ndim))


concatenate = Primitive(
    "concatenate", lambda *arrays, axis=0: np.concatenate(arrays, axis=axis),
    vjp=_concatenate_vjp,
    jvp=lambda argnum: lambda t, ans, *args, axis=0: concatenate(
        *[t if i == argnum else zeros_like(a) for i, a in enumerate(args)], axis=axis),
    batch=_concatenate_batch,
)
concatenate.taylor = taylor_linear(concatenate)
concatenate.joint_jvp = lambda tangents, ans, *args, axis=0: concatenate(
    *[zeros_like(a) if t is None else t for t, a in zip(tangents, args)], axis=axis)
concatenate.declare_reads(answer=False)  # the rules read shapes and dtypes only


def _stack_batch(values, batched, axis=0):
    size = next(shape_of(v)[0] for v, b in zip(values, batched) if b)
    member_ndim = next(ndim_of(v) - 1 for v, b in zip(values, batched) if b)
    aligned = [v if b else broadcast_to(v, shape=(size,) + shape_of(v)) for v, b in zip(values, batched)]
    return stack(*aligned, axis=shift_axis(axis, member_ndim + 1))


def _stack_impl(*arrays, axis=0):
    return np.stack(arrays, axis=axis)


stack = Primitive(
    "stack", _stack_impl,
    vjp=lambda argnum: lambda g, ans, *args, axis=0: getitem(
        g, index=(slice(None),) * (axis % ndim_of(ans)) + (argnum,)),
    jvp=lambda argnum: lambda t, ans, *args, axis=0: stack(
        *[t if i == argnum else zeros_like(a) for i, a in enumerate(args)], axis=axis),
    batch=_stack_batch,
)
stack.taylor = taylor_linear(stack)
stack.joint_jvp = lambda tangents, ans, *args, axis=0: stack(
    *[zeros_like(a) if t is None else t for t, a in zip(tangents, args)], axis=axis)
stack.declare_reads(answer=False)


# --------------------------------------------------------------- contraction

def _normalize_axes(axes, a_ndim, b_ndim):
    if isinstance(axes, int):
        return tuple(range(a_ndim - axes, a_ndim)), tuple(range(axes))
    a_axes, b_axes = axes
    a_axes = (a_axes,) if isinstance(a_axes, int) else tuple(a_axes)
    b_axes = (b_axes,) if isinstance(b_axes, int) else tuple(b_axes)
    return tuple(a % a_ndim for a in a_axes), tuple(b % b_ndim for b in b_axes)


def _tensordot_vjp_a(g, ans, a, b, axes=2):
    a_ndim, b_ndim = ndim_of(a), ndim_of(b)
    a_axes, b_axes = _normalize_axes(axes, a_ndim, b_ndim)
    a_free = [i for i in range(a_ndim) if i not in a_axes]
    b_free = [i for i in range(b_ndim) if i not in b_axes]
    # g has axes a_free + b_free; contract its b_free part with b's free axes.
    n_a_free = len(a_free)
    out = tensordot(g, b, axes=(tuple(range(n_a_free, n_a_free + len(b_free))), tuple(b_free)))
    # out has axes a_free + b_axes (in b_axes order) -> permute to a's order.
    current = a_free + [a_axes[b_axes.index(i)] for i in sorted(b_axes)]
    return transpose(out, axes=tuple(np.argsort(current)))


def _tensordot_vjp_b(g, ans, a, b, axes=2):
    a_ndim, b_ndim = ndim_of(a), ndim_of(b)
    a_axes, b_axes = _normalize_axes(axes, a_ndim, b_ndim)
    a_free = [i for i in range(a_ndim) if i not in a_axes]
    b_free = [i for i in range(b_ndim) if i not in b_axes]
    n_a_free = len(a_free)
    out = tensordot(a, g, axes=(tuple(a_free), tuple(range(n_a_free))))
    # out has axes a_axes-order remaining of a (i.e. a_axes sorted) + b_free.
    a_contracted_sorted = sorted(a_axes)
    current = [b_axes[a_axes.index(i)] for i in a_contracted_sorted] + b_free
    return transpose(out, axes=tuple(np.argsort(current)))


def _tensordot_batch(values, batched, axes=2):
    a, b = values
    a_batched, b_batched = batched
    a_ndim = ndim_of(a) - a_batched
    b_ndim = ndim_of(b) - b_batched
    a_axes, b_axes = _normalize_axes(axes, a_ndim, b_ndim)
    if a_batched and not b_batched:
        return tensordot(a, b, axes=(tuple(x + 1 for x in a_axes), b_axes))
    if b_batched and not a_batched:
        # Contract with b first so the batch axis comes out in front: (B,) + b_free + a_free. The
        # result is then contiguous (no transposed batch axis slowing every later elementwise op),
        # and needs no transpose at all when either side has no free axes (matrix-vector products).
        out = tensordot(b, a, axes=(tuple(x + 1 for x in b_axes), a_axes))
        n_a_free = a_ndim - len(a_axes)
        n_b_free = b_ndim - len(b_axes)
        if n_a_free == 0 or n_b_free == 0:
            return out
        order = (0,) + tuple(range(1 + n_b_free, 1 + n_b_free + n_a_free)) + tuple(range(1, 1 + n_b_free))
        return transpose(out, axes=order)
    # Both batched: the batch axis is shared, not contracted and not outer-multiplied.
    from .contraction import einsum, letters

    batch_letter, *names = letters(1 + a_ndim + b_ndim)
    a_names, b_names = names[:a_ndim], names[a_ndim:]
    for i, j in zip(a_axes, b_axes):
        b_names[j] = a_names[i]
    out_names = [a_names[i] for i in range(a_ndim) if i not in a_axes] + \
        [b_names[j] for j in range(b_ndim) if j not in b_axes]
    subscripts = f"{batch_letter}{''.join(a_names)},{batch_letter}{''.join(b_names)}->" \
                 f"{batch_letter}{''.join(out_names)}"
    return einsum(a, b, subscripts=subscripts)


tensordot = Primitive(
    "tensordot", lambda a, b, axes=2: np.tensordot(a, b, axes=axes),
    vjp=(_tensordot_vjp_a, _tensordot_vjp_b),
    jvp=(lambda t, ans, a, b, axes=2: tensordot(t, b, axes=axes),
         lambda t, ans, a, b, axes=2: tensordot(a, t, axes=axes)),
    batch=_tensordot_batch,
)
tensordot.taylor = taylor_bilinear(tensordot)
tensordot.declare_reads(answer=False, arguments=((1,), (0,)))


# --------------------------------------------------------------- gathering along an axis

def _normalize_axis(axis, ndim):
    if not -ndim <= axis < max(ndim, 1):
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim if ndim else 0


def _along_axis_index(indices, axis, shape):
    """A full integer index that scatters an ``indices``-shaped array into ``shape`` along ``axis``.

    Axes of ``shape`` of length 1 that ``indices`` broadcasts over index 0, so
    scattering accumulates what ``take_along_axis`` broadcast.
    """
    ndim = len(shape)
    index = []
    for d in range(ndim):
        if d == axis:
            index.append(indices)
            continue
        positions = np.arange(shape[d]) if shape[d] != 1 else np.zeros(1, dtype=np.intp)
        index.append(positions.reshape((-1,) + (1,) * (ndim - d - 1)))
    return tuple(index)


def _take_along_axis_impl(x, indices, axis):
    return np.take_along_axis(x, indices, axis=axis)


def _scatter_along_axis_impl(g, indices, axis, shape):
    out = np.zeros(shape, dtype=np.result_type(g))
    np.add.at(out, _along_axis_index(indices, axis, shape), g)
    return out


def _along_axis_batch(primitive):
    """Batch rule of take_along_axis / its transpose: the indices may be batched too."""

    def rule(values, batched, axis, **params):
        x, indices = values
        x_batched, indices_batched = batched
        if not x_batched:
            x = reshape(x, shape=(1,) + tuple(shape_of(x)))  # numpy broadcasts the length-1 batch axis
        if not indices_batched:
            indices = reshape(indices, shape=(1,) + tuple(shape_of(indices)))
        if "shape" in params:  # the scatter: its output has the full batch
            size = shape_of(values[0])[0] if x_batched else shape_of(values[1])[0]
            params = {"shape": (size,) + tuple(params["shape"])}
        return primitive(x, indices, axis=axis + 1, **params)

    return rule


def _along_axis_taylor(primitive):
    def rule(ans, primals, series, axis, **params):
        return primitive.batch([series[0], primals[1]], [True, False], axis=axis, **params)

    return rule


take_along_axis_p = Primitive(
    "take_along_axis", _take_along_axis_impl,
    vjp=(lambda g, ans, x, indices, axis: scatter_along_axis(g, indices, axis=axis, shape=shape_of(x)), None),
    jvp=(lambda t, ans, x, indices, axis: take_along_axis_p(t, indices, axis=axis), None),
)
take_along_axis_p.__doc__ = """out[..., i, ...] = x[..., indices[..., i, ...], ...] along ``axis`` (axis >= 0).

x and indices have the same ndim; other axes broadcast. ``indices`` is an
integer array with zero derivative (it may be batched, e.g. from argsort).
"""
take_along_axis_p.batch = _along_axis_batch(take_along_axis_p)
take_along_axis_p.taylor = _along_axis_taylor(take_along_axis_p)

scatter_along_axis = Primitive(
    "scatter_along_axis", _scatter_along_axis_impl,
    vjp=(lambda g, ans, x, indices, axis, shape: take_along_axis_p(g, indices, axis=axis), None),
    jvp=(lambda t, ans, x, indices, axis, shape: scatter_along_axis(t, indices, axis=axis, shape=shape), None),
)
scatter_along_axis.__doc__ = """zeros(shape) with g added at ``indices`` along ``axis``: take_along_axis's transpose."""
scatter_along_axis.batch = _along_axis_batch(scatter_along_axis)
scatter_along_axis.taylor = _along_axis_taylor(scatter_along_axis)


def take_along_axis(arr, indices, axis=-1):
    """numpy.take_along_axis: gather ``arr`` at integer ``indices`` along ``axis``.

    ``indices`` has arr's ndim (other axes broadcast); ``axis=None`` works on
    the flattened arr with 1-D indices. The VJP scatters (and accumulates).

    >>> import numpy as np, hodiff.numpy as hnp
    >>> hnp.take_along_axis(np.array([[10., 30., 20.]]), np.array([[0, 2, 1]]), axis=1)
    array([[10., 20., 30.]])
    """
    arr = _array(arr)
    if not isinstance(indices, Tracer):
        indices = np.asarray(indices)
        if not np.issubdtype(indices.dtype, np.integer):
            raise IndexError(f"take_along_axis: indices must be integers, got dtype {indices.dtype}")
    if axis is None:
        arr = reshape(arr, shape=(-1,))
        axis = 0
    if ndim_of(indices) != ndim_of(arr):
        raise ValueError(f"take_along_axis: indices has {ndim_of(indices)} dimensions and arr has "
                         f"{ndim_of(arr)}; they must match (use expand_dims)")
    return take_along_axis_p(arr, indices, axis=_normalize_axis(axis, ndim_of(arr)))


# --------------------------------------------------------------- reshaping compositions

def _array(x):
    """Tracers as they are; anything else as an array of its backend (lists and tuples holding tracers: stacked)."""
    if isinstance(x, Tracer):
        return x
    if isinstance(x, (list, tuple)):
        from .creation import asarray  # lists of traced values: numpy's shape and dtype, stacked

        return asarray(x)
    return backends.asarray(x)


def reshape_in_order(a, shape, order="C", name="reshape"):
    """numpy.reshape(a, shape, order): 'C' row-major, 'F' column-major (the reversed axes reshaped row-major
    to the reversed shape, reversed back). 'A' and 'K' follow a plain array's memory layout, as numpy's do; a
    traced value has none, so they are refused for it."""
    a = _array(a)
    if order == "C":
        return reshape(a, shape=shape)
    if order == "F":
        return transpose(reshape(transpose(a), shape=tuple(reversed(shape))))
    if order in ("A", "K") and not isinstance(a, Tracer):
        return np.ravel(a, order=order).reshape(shape) if name == "ravel" else np.reshape(a, shape, order=order)
    choices = "'C', 'F', 'A' or 'K'" if name == "ravel" else "'C', 'F' or 'A'"
    if order in ("A", "K"):
        raise ValueError(f"hodiff.numpy.{name}: order={order!r} follows an array's memory layout, which a traced "
                         "value does not have; use order='C' or order='F'")
    raise ValueError(f"hodiff.numpy.{name}: order must be {choices}, got {order!r}")


def ravel(a, order="C"):
    """numpy.ravel: a 1-D view of a's entries, in ``order`` ('C' row-major, 'F' column-major)."""
    return reshape_in_order(a, (-1,), order, "ravel")


def squeeze(a, axis=None):
    """numpy.squeeze: drop length-1 axes (all of them, or those in ``axis``)."""
    a = _array(a)
    shape = shape_of(a)
    if axis is None:
        axes = {i for i, n in enumerate(shape) if n == 1}
    else:
        axes = {_normalize_axis(ax, len(shape)) for ax in ((axis,) if isinstance(axis, int) else axis)}
        for ax in axes:
            if shape[ax] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return reshape(a, shape=tuple(n for i, n in enumerate(shape) if i not in axes))


def moveaxis(a, source, destination):
    """numpy.moveaxis: move axes ``source`` to positions ``destination`` (ints or sequences)."""
    a = _array(a)
    ndim = ndim_of(a)
    source = [_normalize_axis(ax, ndim) for ax in np.atleast_1d(source).tolist()]
    destination = [_normalize_axis(ax, ndim) for ax in np.atleast_1d(destination).tolist()]
    if len(source) != len(destination):
        raise ValueError("moveaxis: `source` and `destination` arguments must have the same number of elements")
    order = [n for n in range(ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(a, axes=tuple(order))


def swapaxes(a, axis1, axis2):
    """numpy.swapaxes."""
    a = _array(a)
    ndim = ndim_of(a)
    order = list(range(ndim))
    axis1, axis2 = _normalize_axis(axis1, ndim), _normalize_axis(axis2, ndim)
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return transpose(a, axes=tuple(order))


def _atleast(a, ndim):
    a = _array(a)
    shape = tuple(shape_of(a))
    if len(shape) >= ndim:
        return a
    if ndim == 2:
        shape = (1,) * (2 - len(shape)) + shape
    elif ndim == 3:  # numpy: (N,) -> (1, N, 1), (M, N) -> (M, N, 1)
        shape = {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}[len(shape)]
    else:
        shape = (1,)
    return reshape(a, shape=shape)


def _atleast_nd(ndim):
    def function(*arys):
        out = [_atleast(a, ndim) for a in arys]
        return out[0] if len(out) == 1 else tuple(out)

    function.__name__ = f"atleast_{ndim}d"
    function.__doc__ = f"numpy.atleast_{ndim}d: views with at least {ndim} dimensions."
    return function


atleast_1d, atleast_2d, atleast_3d = _atleast_nd(1), _atleast_nd(2), _atleast_nd(3)


def _concatenate(arrays, axis=0):
    arrays = [_array(a) for a in arrays]
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays = [reshape(a, shape=(-1,)) for a in arrays]
        axis = 0
    return concatenate(*arrays, axis=axis)


def _np_transpose(a, axes=None):
    return transpose(a, axes=None if axes is None else tuple(axes))


def concat(arrays, axis=0, out=None, dtype=None, casting=None):
    """numpy.concat (the array API's name for concatenate); axis None joins the flattened arrays."""
    if out is not None or dtype is not None or casting is not None:
        raise TypeError("hodiff.numpy.concat: arguments out, dtype and casting not supported")
    return _concatenate(arrays, axis=axis)


def matrix_transpose(x):
    """numpy.matrix_transpose: the last two axes swapped, of an array with at least 2 of them."""
    x = _array(x)
    if ndim_of(x) < 2:
        raise ValueError(f"hodiff.numpy.matrix_transpose: x needs at least 2 dimensions, got shape {shape_of(x)}")
    return swapaxes(x, -1, -2)


def unstack(x, axis=0):
    """numpy.unstack: the tuple of x's slices along ``axis`` (each without it)."""
    x = _array(x)
    axis = _normalize_axis(axis, ndim_of(x))
    return tuple(getitem(x, index=(slice(None),) * axis + (i,)) for i in range(shape_of(x)[axis]))


def hstack(tup):
    """numpy.hstack: join along axis 1 (axis 0 for 1-D arrays)."""
    arrays = [atleast_1d(a) for a in tup]
    return _concatenate(arrays, axis=0 if arrays and ndim_of(arrays[0]) == 1 else 1)


def vstack(tup):
    """numpy.vstack: join along axis 0 after making each array at least 2-D."""
    return _concatenate([atleast_2d(a) for a in tup], axis=0)


def dstack(tup):
    """numpy.dstack: join along axis 2 after making each array at least 3-D."""
    return _concatenate([atleast_3d(a) for a in tup], axis=2)


def column_stack(tup):
    """numpy.column_stack: 1-D arrays become columns; join along axis 1."""
    arrays = []
    for a in tup:
        a = _array(a)
        if ndim_of(a) < 2:
            a = reshape(a, shape=(-1, 1))
        arrays.append(a)
    return _concatenate(arrays, axis=1)


def array_split(ary, indices_or_sections, axis=0):
    """numpy.array_split: a list of views of ``ary`` split along ``axis`` (sections may differ by one)."""
    ary = _array(ary)
    axis = _normalize_axis(axis, ndim_of(ary))
    length = shape_of(ary)[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extra = divmod(length, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [length]
    lead = (slice(None),) * axis
    return [getitem(ary, index=lead + (slice(start, stop),)) for start, stop in zip(bounds[:-1], bounds[1:])]


def split(ary, indices_or_sections, axis=0):
    """numpy.split: like array_split, but an int must divide the axis length evenly."""
    if isinstance(indices_or_sections, (int, np.integer)):
        length = shape_of(_array(ary))[_normalize_axis(axis, ndim_of(ary))]
        if indices_or_sections <= 0 or length % indices_or_sections:
            raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def vsplit(ary, indices_or_sections):
    """numpy.vsplit: split along axis 0 (arrays of 2 or more dimensions)."""
    if ndim_of(_array(ary)) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


def hsplit(ary, indices_or_sections):
    """numpy.hsplit: split along axis 1 (axis 0 for 1-D arrays)."""
    ndim = ndim_of(_array(ary))
    if ndim == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(ary, indices_or_sections, 1 if ndim > 1 else 0)


def dsplit(ary, indices_or_sections):
    """numpy.dsplit: split along axis 2 (arrays of 3 or more dimensions)."""
    if ndim_of(_array(ary)) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


def rollaxis(a, axis, start=0):
    """numpy.rollaxis: move ``axis`` to sit before position ``start`` (a transpose)."""
    a = _array(a)
    n = ndim_of(a)
    axis = _normalize_axis(axis, n)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"'start' arg requires {-n} <= start < {n + 1}, but {start} was passed in")
    if axis < start:
        start -= 1
    if axis == start:
        return a
    axes = list(range(n))
    axes.remove(axis)
    axes.insert(start, axis)
    return transpose(a, axes=tuple(axes))


def flip(m, axis=None):
    """numpy.flip: reverse the order along ``axis`` (all axes for None): a view."""
    m = _array(m)
    ndim = ndim_of(m)
    axes = range(ndim) if axis is None else [_normalize_axis(ax, ndim) for ax in np.atleast_1d(axis).tolist()]
    index = [slice(None)] * ndim
    for ax in axes:
        index[ax] = slice(None, None, -1)
    return getitem(m, index=tuple(index))


def roll(a, shift, axis=None):
    """numpy.roll: entries shifted cyclically along ``axis`` (the flattened array for None)."""
    a = _array(a)
    if axis is None:
        return reshape(roll(reshape(a, shape=(-1,)), shift, 0), shape=shape_of(a))
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    total = {}
    for s, ax in zip(shifts.ravel().tolist(), axes.ravel().tolist()):
        ax = _normalize_axis(ax, ndim_of(a))
        total[ax] = total.get(ax, 0) + s
    for ax, s in total.items():
        length = shape_of(a)[ax]
        if length and s % length:
            a = take(a, (np.arange(length) - s) % length, axis=ax)
    return a


def tile(A, reps):
    """numpy.tile: A repeated ``reps`` times along each axis (broadcast, then reshape)."""
    A = _array(A)
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    ndim = max(ndim_of(A), len(reps))
    shape = (1,) * (ndim - ndim_of(A)) + tuple(shape_of(A))
    reps = (1,) * (ndim - len(reps)) + reps
    interleaved = tuple(n for pair in zip((1,) * ndim, shape) for n in pair)
    expanded = tuple(n for pair in zip(reps, shape) for n in pair)
    out = broadcast_to(reshape(A, shape=interleaved), shape=expanded)
    return reshape(out, shape=tuple(r * n for r, n in zip(reps, shape)))


def repeat(a, repeats, axis=None):
    """numpy.repeat: each entry repeated ``repeats`` times along ``axis`` (flattened for None)."""
    a = _array(a)
    if axis is None:
        a = reshape(a, shape=(-1,))
        axis = 0
    axis = _normalize_axis(axis, ndim_of(a))
    repeats = np.asarray(repeats)
    if repeats.ndim == 0 or repeats.size == 1:
        count = int(repeats.reshape(()))
        if count < 0:
            raise ValueError("repeat: negative dimensions are not allowed")
        shape = tuple(shape_of(a))
        out = broadcast_to(expand_dims(a, axis + 1), shape=shape[:axis + 1] + (count,) + shape[axis + 1:])
        return reshape(out, shape=shape[:axis] + (shape[axis] * count,) + shape[axis + 1:])
    return take(a, np.repeat(np.arange(shape_of(a)[axis]), repeats), axis=axis)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """numpy.diagonal: the ``offset`` diagonal of the (axis1, axis2) planes, as a new last axis."""
    a = _array(a)
    ndim = ndim_of(a)
    if ndim < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    axis1, axis2 = _normalize_axis(axis1, ndim), _normalize_axis(axis2, ndim)
    if axis1 == axis2:
        raise ValueError("axis1 and axis2 cannot be the same")
    rows, cols = shape_of(a)[axis1], shape_of(a)[axis2]
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(0, min(rows - start_row, cols - start_col))
    order = tuple(d for d in range(ndim) if d not in (axis1, axis2)) + (axis1, axis2)
    planes = transpose(a, axes=order) if order != tuple(range(ndim)) else a
    return getitem(planes, index=(Ellipsis, np.arange(start_row, start_row + length),
                                  np.arange(start_col, start_col + length)))


def diag(v, k=0):
    """numpy.diag: the k-th diagonal of a 2-D array, or a 2-D array with 1-D ``v`` on its k-th diagonal."""
    v = _array(v)
    if ndim_of(v) == 2:
        return diagonal(v, k)
    if ndim_of(v) != 1:
        raise ValueError("Input must be 1- or 2-d.")
    length = shape_of(v)[0]
    n = length + abs(k)
    rows = np.arange(length) + max(-k, 0)
    return index_add(v, index=(rows, rows + k), shape=(n, n))


def _triangle(m, keep):
    m = _array(m)
    shape = tuple(shape_of(m))
    if len(shape) < 1:
        raise ValueError("triu/tril need an array of at least one dimension")
    mask = keep(*(shape[-2:] if len(shape) >= 2 else shape * 2))
    from .elementwise import where

    return where(mask, m, np.zeros((), dtype=dtype_of(m)))


def triu(m, k=0):
    """numpy.triu: zeros below the k-th diagonal of the last two axes (1-D m: of the (N, N) broadcast)."""
    return _triangle(m, lambda rows, cols: ~np.tri(rows, cols, k - 1, dtype=bool))


def tril(m, k=0):
    """numpy.tril: zeros above the k-th diagonal of the last two axes."""
    return _triangle(m, lambda rows, cols: np.tri(rows, cols, k, dtype=bool))


def append(arr, values, axis=None):
    """numpy.append: ``values`` joined after ``arr`` (both flattened when axis is None)."""
    return _concatenate([arr, values], axis=axis)


def rot90(m, k=1, axes=(0, 1)):
    """numpy.rot90: rotate by 90 degrees k times in the plane of ``axes`` (flips and a transpose: views)."""
    m = _array(m)
    ndim = ndim_of(m)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    first, second = _normalize_axis(axes[0], ndim), _normalize_axis(axes[1], ndim)
    if first == second:
        raise ValueError("Axes must be different.")
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, first), second)
    order = list(range(ndim))
    order[first], order[second] = order[second], order[first]
    if k == 1:
        return transpose(flip(m, second), axes=tuple(order))
    return flip(transpose(m, axes=tuple(order)), second)


_GATHER_PAD_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(array, pad_width, mode="constant", **kwargs):
    """numpy.pad for modes constant, edge, reflect, symmetric and wrap.

    Constant padding joins constant blocks (``constant_values``, default 0);
    the other modes gather entries of ``array`` (their index along each axis
    is numpy.pad of an arange), so the VJP accumulates into the entries that
    were copied. reflect/symmetric use reflect_type="even".
    """
    array = _array(array)
    ndim = ndim_of(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2)).tolist() if ndim else []
    if any(w < 0 for pair in widths for w in pair):
        raise ValueError("index can't contain negative values")
    if mode == "constant":
        from .elementwise import full  # (elementwise imports this module); full takes a traced fill value

        unexpected = set(kwargs) - {"constant_values"}
        constant = kwargs.get("constant_values", 0)
        if isinstance(constant, Tracer) and ndim_of(constant) == 0:  # one traced value: every block's fill
            values = [[constant, constant]] * ndim
        else:  # (a traced array of per-axis values is numpy's error below: refused, not differentiated)
            values = np.broadcast_to(np.asarray(constant), (ndim, 2)).tolist() if ndim else []
    else:
        unexpected = set(kwargs) - ({"reflect_type"} if mode in ("reflect", "symmetric") else set())
        if kwargs.get("reflect_type", "even") != "even":
            raise ValueError("hodiff.numpy.pad supports reflect_type='even' only")
    if unexpected:
        raise ValueError(f"unsupported keyword arguments for mode '{mode}': {sorted(unexpected)}")
    if mode not in ("constant",) + _GATHER_PAD_MODES:
        raise ValueError(f"hodiff.numpy.pad supports modes {('constant',) + _GATHER_PAD_MODES}, got {mode!r}")
    out = array
    for axis, (before, after) in enumerate(widths):
        if not before and not after:
            continue
        if mode == "constant":
            shape = list(shape_of(out))
            blocks = []
            for width, value in ((before, values[axis][0]), (after, values[axis][1])):
                shape[axis] = width
                blocks.append(full(tuple(shape), value, dtype=dtype_of(array)) if width else None)
            parts = [b for b in (blocks[0], out, blocks[1]) if b is not None]
            out = concatenate(*parts, axis=axis)
        else:
            length = shape_of(out)[axis]
            if length == 0:
                raise ValueError(f"can't extend empty axis {axis} using modes other than 'constant' or 'empty'")
            out = take(out, np.pad(np.arange(length), (before, after), mode=mode), axis=axis)
    return out


# --------------------------------------------------------------- the numpy namespace's names

def _axis_param(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _np_sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    # out=None is in the signature because numpy.sum(tracer) calls tracer.sum(axis=..., out=None)
    if out is not None or initial is not None or where is not None:
        raise TypeError("hodiff.numpy.sum: out=, initial= and where= are not supported")
    from .elementwise import accumulated_as  # (elementwise imports this module)

    return sum(accumulated_as(_array(a), dtype), axis=_axis_param(axis), keepdims=bool(keepdims))


def _np_reshape(a, shape=None, order="C", *, newshape=None):
    shape = newshape if shape is None else shape
    return reshape_in_order(a, (shape,) if isinstance(shape, int) else tuple(shape), order)


NUMPY_API = {
    "sum": _np_sum,
    "reshape": _np_reshape,
    "transpose": _np_transpose,
    "broadcast_to": lambda array, shape: broadcast_to(
        array, shape=(shape,) if isinstance(shape, int) else tuple(shape)),
    "expand_dims": lambda a, axis: expand_dims(a, _axis_param(axis)),
    "concatenate": _concatenate,
    "concat": concat,
    "permute_dims": _np_transpose,  # the array API's name
    "matrix_transpose": matrix_transpose,
    "unstack": unstack,
    "stack": lambda arrays, axis=0: stack(*arrays, axis=axis),
    "tensordot": lambda a, b, axes=2: tensordot(a, b, axes=axes if isinstance(axes, int) else
                                                (tuple(np.atleast_1d(axes[0])), tuple(np.atleast_1d(axes[1])))),
    "take": take,
    "take_along_axis": take_along_axis,
    "ravel": ravel,
    "squeeze": squeeze,
    "moveaxis": moveaxis,
    "swapaxes": swapaxes,
    "atleast_1d": atleast_1d,
    "atleast_2d": atleast_2d,
    "atleast_3d": atleast_3d,
    "hstack": hstack,
    "vstack": vstack,
    "dstack": dstack,
    "column_stack": column_stack,
    "split": split,
    "array_split": array_split,
    "vsplit": vsplit,
    "hsplit": hsplit,
    "dsplit": dsplit,
    "row_stack": vstack,
    "rollaxis": rollaxis,
    "flip": flip,
    "fliplr": lambda m: flip(m, 1),
    "flipud": lambda m: flip(m, 0),
    "roll": roll,
    "tile": tile,
    "repeat": repeat,
    "diagonal": diagonal,
    "diag": diag,
    "triu": triu,
    "tril": tril,
    "pad": pad,
    "append": append,
    "rot90": rot90,
    "zeros_like": zeros_like,
    "ones_like": ones_like,
}
