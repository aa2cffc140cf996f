"""Shape primitives: reshape, broadcast, reduce-by-sum, index, join.

These are linear in their array argument(s), so each has a JVP that is the op
itself, a VJP that is its transpose (another primitive here), a batch rule
that keeps the batch axis in front, and a Taylor rule that maps the op over
the series axis.
"""

import numpy as np

from ..core.trace import Primitive
from .rules import dtype_of, linear, ndim_of, shape_of, shift_axis, taylor_linear

__all__ = [
    "reshape", "broadcast_to", "sum", "sum_to_shape", "expand_dims", "getitem", "take",
    "index_add", "concatenate", "stack", "transpose", "tensordot", "zeros_like", "ones_like",
]

_sum = sum  # Python's builtin, before the primitive shadows it


def zeros_like(x):
    """Zeros of x's member shape and dtype: a constant, never traced."""
    return np.zeros(shape_of(x), dtype=dtype_of(x))


def ones_like(x):
    return np.ones(shape_of(x), dtype=dtype_of(x))


# --------------------------------------------------------------- reshape

reshape = linear(
    "reshape", lambda x, shape: np.reshape(x, shape),
    transpose=lambda g, x, shape: reshape(g, shape=shape_of(x)),
    batch=lambda values, batched, shape: reshape(values[0], shape=shape_of(values[0])[:1] + tuple(shape)),
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
    if not keepdims and axis is not None:
        axes = (axis,) if isinstance(axis, int) else axis
        g = expand_dims(g, tuple(a % len(shape) for a in axes))
    elif not keepdims:
        g = reshape(g, shape=(1,) * len(shape))
    return broadcast_to(g, shape=shape)


sum = linear(
    "sum", lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
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

def _batched_index(index):
    """The same index with a leading full slice for the batch axis."""
    if not isinstance(index, tuple):
        index = (index,)
    return (slice(None),) + index


def _index_impl(x, index):
    return x[index]


def _index_add_impl(g, index, shape):
    out = np.zeros(shape, dtype=np.result_type(g))
    np.add.at(out, index, g)
    return out


getitem = linear(
    "getitem", _index_impl,
    transpose=lambda g, x, index: index_add(g, index=index, shape=shape_of(x)),
    batch=lambda values, batched, index: getitem(values[0], index=_batched_index(index)),
)

index_add = linear(
    "index_add", _index_add_impl,
    transpose=lambda g, x, index, shape: getitem(g, index=index),
    batch=lambda values, batched, index, shape: index_add(
        values[0], index=_batched_index(index), shape=shape_of(values[0])[:1] + tuple(shape)),
)


def take(x, indices, axis=0):
    """x's entries at integer ``indices`` along ``axis`` (numpy.take without mode)."""
    axis = axis % ndim_of(x)
    return getitem(x, index=(slice(None),) * axis + (np.asarray(indices),))


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
    from ..interpreters.batch import loop_over_batch

    return loop_over_batch(tensordot, values, batched, {"axes": axes})


tensordot = Primitive(
    "tensordot", lambda a, b, axes=2: np.tensordot(a, b, axes=axes),
    vjp=(_tensordot_vjp_a, _tensordot_vjp_b),
    jvp=(lambda t, ans, a, b, axes=2: tensordot(t, b, axes=axes),
         lambda t, ans, a, b, axes=2: tensordot(a, t, axes=axes)),
    batch=_tensordot_batch,
)


# --------------------------------------------------------------- the numpy namespace's names

def _axis_param(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _np_sum(a, axis=None, dtype=None, keepdims=False):
    if dtype is not None:
        raise TypeError("hodiff.numpy.sum: the dtype argument is not supported; cast the input first")
    return sum(a, axis=_axis_param(axis), keepdims=bool(keepdims))


def _np_reshape(a, shape=None, *, newshape=None):
    shape = newshape if shape is None else shape
    return reshape(a, shape=(shape,) if isinstance(shape, int) else tuple(shape))


NUMPY_API = {
    "sum": _np_sum,
    "reshape": _np_reshape,
    "transpose": lambda a, axes=None: transpose(a, axes=None if axes is None else tuple(axes)),
    "broadcast_to": lambda array, shape: broadcast_to(
        array, shape=(shape,) if isinstance(shape, int) else tuple(shape)),
    "expand_dims": lambda a, axis: expand_dims(a, _axis_param(axis)),
    "concatenate": lambda arrays, axis=0: concatenate(*arrays, axis=axis),
    "stack": lambda arrays, axis=0: stack(*arrays, axis=axis),
    "tensordot": lambda a, b, axes=2: tensordot(a, b, axes=axes if isinstance(axes, int) else
                                                (tuple(np.atleast_1d(axes[0])), tuple(np.atleast_1d(axes[1])))),
    "take": take,
    "zeros_like": zeros_like,
    "ones_like": ones_like,
}
