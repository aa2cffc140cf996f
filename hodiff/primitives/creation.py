"""Building arrays from traced values: array, asarray, r_, c_, linspace and numpy's integer types.

"Build a vector from scalars" (``hnp.array([x, 2 * x, 3.0])``) is the
commonest idiom of autograd code. These are compositions: nested lists and
tuples holding traced values become ``stack`` calls (of ``cast`` entries),
so every mode (reverse, forward, batching, Taylor, the graph API) works with
no rules of their own. Without a traced value anywhere, numpy is called
directly, so plain values get numpy's exact answer and type.

The shape and dtype of a built array are numpy's: numpy itself builds the
array of the structure with each traced value replaced by zeros of its shape
and dtype (so a ragged list raises numpy's ValueError, and
``[float32 tracer, 1.0]`` is float64 as numpy makes it).
"""

import numpy as np

from ..core import backends
from ..core.trace import Tracer
from .elementwise import cast, floor, where
from .rules import dtype_of, ndim_of, shape_of
from .shape import concatenate, moveaxis, reshape, stack, transpose

__all__ = ["array", "asarray", "r_", "c_", "linspace", "block", "INTEGER_TYPES"]


def _holds_tracer(x):
    if isinstance(x, Tracer):
        return True
    if isinstance(x, (list, tuple)):
        return any(_holds_tracer(item) for item in x)
    return False


def _skeleton(x):
    """The structure with every tracer replaced by zeros of its (member) shape and dtype."""
    if isinstance(x, Tracer):
        return np.zeros(x.shape, dtype=x.dtype)
    if isinstance(x, (list, tuple)):
        return [_skeleton(item) for item in x]
    return x


def _build(x, dtype):
    if isinstance(x, Tracer):
        return cast(x, dtype, copy=False)
    if isinstance(x, (list, tuple)) and _holds_tracer(x):
        return stack(*[_build(item, dtype) for item in x], axis=0)
    return backends.asarray(x, dtype=dtype)


def _with_ndmin(x, ndmin):
    missing = ndmin - ndim_of(x)
    return reshape(x, shape=(1,) * missing + tuple(shape_of(x))) if missing > 0 else x


def array(object, dtype=None, *, copy=True, order="K", subok=False, ndmin=0, like=None):
    """numpy.array, also of (nested) lists and tuples that hold traced values.

    With a traced value inside, the result is traced: entries are cast to
    the dtype numpy would pick (or ``dtype``) and stacked, level by level. To
    an integer or bool dtype the result is a constant (zero derivative), as
    ``astype`` is. ``copy``, ``order`` and ``subok`` do not matter for traced
    values (they are immutable). Shapes: nested lists of shape-s arrays give
    (len, ..., ) + s, as numpy.

    >>> import hodiff as hd, hodiff.numpy as hnp
    >>> hd.grad(lambda x: hnp.sum(hnp.array([[x, 2 * x], [x ** 2, 1.0]])))(3.0)
    np.float64(9.0)
    """
    if not _holds_tracer(object):
        if like is not None:
            return np.array(object, dtype=dtype, copy=copy, order=order, subok=subok, ndmin=ndmin, like=like)
        return np.array(object, dtype=dtype, copy=copy, order=order, subok=subok, ndmin=ndmin)
    if like is not None:
        raise TypeError("hodiff.numpy.array: like= is not supported for traced values")
    skeleton = np.array(_skeleton(object), dtype=dtype)  # numpy's shape, dtype and ragged-list errors
    if skeleton.dtype == np.object_:
        raise ValueError("hodiff.numpy.array: these traced values do not make a rectangular numeric array")
    return _with_ndmin(_build(object, skeleton.dtype), ndmin)


def asarray(a, dtype=None, order=None, *, copy=None, like=None, **kwargs):
    """numpy.asarray: ``a`` itself when it is already an array (or traced) of ``dtype``; see ``array``."""
    if not _holds_tracer(a):
        if like is not None:
            kwargs["like"] = like
        return np.asarray(a, dtype=dtype, order=order, copy=copy, **kwargs)
    if isinstance(a, Tracer):
        return a if dtype is None else cast(a, dtype, copy=False)
    return array(a, dtype=dtype)


# --------------------------------------------------------------- r_ and c_

class _AxisConcatenator:
    """numpy's r_ / c_ (numpy.lib AxisConcatenator), with traced items joined by ``concatenate``.

    Items: arrays and scalars (traced or not), slices (``1:10``, ``0:1:5j``:
    numpy's arange / linspace, constants) and a first string directive
    ``"axis"``, ``"axis,ndmin"`` or ``"axis,ndmin,trans1d"``. The matrix
    directives ``"r"``/``"c"`` make numpy.matrix objects: plain values only.
    """

    def __init__(self, numpy_object, axis, ndmin, trans1d):
        self._numpy = numpy_object
        self._defaults = (axis, ndmin, trans1d)

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        if not any(_holds_tracer(item) for item in items):
            return self._numpy[key]
        axis, ndmin, trans1d = self._defaults
        objs, types = [], []
        for k, item in enumerate(items):
            scalar = False
            if isinstance(item, slice):
                new = np.r_[item]  # arange or linspace: numpy's own
                if ndmin > 1:
                    new = np.array(new, copy=None, ndmin=ndmin)
                    if trans1d != -1:
                        new = new.swapaxes(-1, trans1d)
            elif isinstance(item, str):
                if k != 0:
                    raise ValueError("special directives must be the first entry.")
                if item in ("r", "c"):
                    raise TypeError("hodiff.numpy.r_/c_: the matrix directives 'r' and 'c' make numpy.matrix "
                                    "objects, which cannot hold traced values; use the array result")
                try:
                    numbers = [int(part) for part in item.split(",")]
                except ValueError as error:
                    raise ValueError(f"unknown special directive {item!r}") from error
                if len(numbers) > 3:
                    raise ValueError(f"unknown special directive {item!r}")
                axis = numbers[0]
                if len(numbers) > 1:
                    ndmin = numbers[1]
                if len(numbers) > 2:
                    trans1d = numbers[2]
                continue
            elif type(item) in np.ScalarType:
                scalar = True
                new = item
            else:
                item_ndim = ndim_of(item) if isinstance(item, Tracer) else np.ndim(item)
                new = _with_ndmin(asarray(item), ndmin)
                if trans1d != -1 and item_ndim < ndmin:
                    k2 = ndmin - item_ndim
                    k1 = trans1d + k2 + 1 if trans1d < 0 else trans1d
                    default = list(range(ndmin))
                    new = transpose(new, axes=tuple(default[:k1] + default[k2:] + default[k1:k2]))
            objs.append(new)
            types.append(item if scalar else dtype_of(new))
        if not objs:
            return self._numpy[key]
        final = np.result_type(*types)  # Python scalars are weak here, as in numpy
        objs = [_with_ndmin(cast(o, final, copy=False) if isinstance(o, Tracer) else backends.asarray(o, dtype=final),
                            ndmin) for o in objs]
        return concatenate(*objs, axis=axis)

    def __len__(self):
        return 0


r_ = _AxisConcatenator(np.r_, axis=0, ndmin=1, trans1d=-1)
r_.__doc__ = "numpy.r_: join items along the first axis; traced items are differentiable."
c_ = _AxisConcatenator(np.c_, axis=-1, ndmin=2, trans1d=0)
c_.__doc__ = "numpy.c_: join items along the last axis, 1-D items as columns; traced items are differentiable."


# --------------------------------------------------------------- linspace

def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    """numpy.linspace, differentiable in ``start`` and ``stop`` (scalars or arrays that broadcast).

    The result has shape (num,) + broadcast shape (the new axis at ``axis``);
    entry i is start + i * step, step = (stop - start) / (num - 1) (``num``
    with endpoint=False), and the last entry is ``stop`` itself, as in numpy.
    With plain ``start`` and ``stop`` numpy is called (its exact values).
    """
    if not (isinstance(start, Tracer) or isinstance(stop, Tracer)):
        return np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    if device not in (None, "cpu"):
        raise ValueError(f"hodiff.numpy.linspace: device must be None or 'cpu', got {device!r}")
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    start, stop = asarray(start), asarray(stop)
    working = np.result_type(dtype_of(start), dtype_of(stop), float(num))
    start, stop = cast(start, working, copy=False), cast(stop, working, copy=False)
    delta = stop - start
    delta_ndim = ndim_of(delta)
    steps = np.arange(0, num, dtype=working).reshape((-1,) + (1,) * delta_ndim)
    if div > 0:
        step = delta / float(div)
        y = steps * step
    else:
        step = np.nan * delta  # numpy: step is NaN when there is no division
        y = steps * delta
    y = y + start
    if endpoint and num > 1:
        last = np.zeros((num,) + (1,) * delta_ndim, dtype=bool)
        last[-1] = True
        y = where(last, stop, y)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None and np.issubdtype(np.dtype(dtype), np.integer):
        y = floor(y)
    if dtype is not None:
        y = cast(y, dtype, copy=False)
    return (y, step) if retstep else y


# --------------------------------------------------------------- integer types that cast traced values

def _integer_type(numpy_type):
    """A subclass of ``numpy_type`` whose constructor casts traced values (a constant: zero derivative).

    ``hnp.int64(x)`` of a traced array is ``x.astype(np.int64)``; as a dtype,
    in ``isinstance`` checks against hnp's type and everywhere else it is
    numpy's type (autograd's ``wrap_intdtype`` does the same).
    """

    def __new__(cls, *args, **kwargs):
        if args and _holds_tracer(args[0]):
            value = args[0]
            value = value if isinstance(value, Tracer) else array(value)
            return cast(value, numpy_type)
        return numpy_type(*args, **kwargs)

    return type(numpy_type.__name__, (numpy_type,), {"__new__": __new__, "__module__": "hodiff.numpy",
                                                      "__doc__": f"numpy.{numpy_type.__name__}, also of traced values"
                                                                 " (a constant, zero derivative)."})


def block(arrays):
    """numpy.block of (nested lists of) traced values: the innermost lists joined along the last axis, the
    next ones along the one before, each entry first given leading axes of length 1 up to the result's rank.

    numpy checks the structure (ragged depths, tuples, mismatched shapes raise its errors) on zeros standing
    for the traced values; without a traced value it is numpy's call.
    """
    if not _holds_tracer(arrays):
        return np.block(arrays)
    result = np.block(_skeleton(arrays))  # numpy's structure checks, rank and dtype
    depth = 0
    level = arrays
    while isinstance(level, list):
        depth, level = depth + 1, level[0]

    def joined(x, level):
        if isinstance(x, list):
            return concatenate(*[joined(item, level + 1) for item in x], axis=level - depth)
        x = _build(x, result.dtype)
        return reshape(x, shape=(1,) * (result.ndim - ndim_of(x)) + tuple(shape_of(x)))

    return joined(arrays, 0)


INTEGER_TYPES = {name: _integer_type(getattr(np, name))
                 for name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                              "intp", "uintp", "intc", "uintc", "int_", "uint", "longlong", "ulonglong",
                              "short", "ushort", "byte", "ubyte", "long", "ulong")
                 if hasattr(np, name)}

NUMPY_API = {"array": array, "asarray": asarray, "asanyarray": asarray, "r_": r_, "c_": c_,
             "linspace": linspace, "block": block, **INTEGER_TYPES}
