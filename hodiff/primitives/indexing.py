"""Functional index updates: ``x.at[index].set(v)`` and friends, and a differentiable put_along_axis.

``x[index] = v`` mutates, which no tracer can allow; ``x.at[index].set(v)``
(JAX's spelling) returns the updated copy instead. Traced arrays (tracers,
Duals, Variables) have the ``.at`` property; plain numpy arrays cannot get an
attribute, so ``hnp.at(x)[index]`` is the same thing for any array. Every
update is a composition of ``getitem``, ``index_add`` (getitem's transpose),
``where`` and elementwise ops, so it works in every mode and order,
differentiable in both x and v.

Indices are numpy's: ints, slices, None, Ellipsis, integer arrays (lists
too) and boolean masks, checked by numpy itself (an index out of bounds
raises IndexError, as ``x[index] = v`` does; JAX clamps or drops instead).
``v`` broadcasts to the shape of ``x[index]`` and is cast to x's dtype (to an
integer x it is then a constant, as numpy's assignment truncates).

Repeated entries of an integer-array index (``x.at[[0, 0]]``):

- ``add`` accumulates every occurrence (numpy's ``np.add.at``);
- ``multiply``, ``divide``, ``power``, ``min``, ``max`` apply every
  occurrence in turn, in the C order of the index (``np.multiply.at`` ...);
- ``set`` keeps the *last* occurrence in that order, which is what numpy's
  ``x[index] = v`` does in practice (numpy does not promise it; JAX leaves it
  unspecified). The other occurrences get zero derivative.
"""

import numpy as np

from ..core import backends
from ..core.errors import BackendError
from ..core.trace import Tracer
from .elementwise import cast, maximum, minimum, multiply, power, subtract, true_divide, where
from .rules import dtype_of, shape_of
from .shape import _array, _is_basic, _normalize_axis, broadcast_to, getitem, index_add, reshape, size_of

__all__ = ["at", "put_along_axis", "normalize_index"]


_PLAIN_INDEX_TYPES = frozenset({int, slice, type(None), type(Ellipsis), np.ndarray, bool, np.int64, tuple})


def normalize_index(index):
    """An index for ``x[index]``: lists, and tuples and ranges inside it, become arrays (numpy's integer-array
    indexes); traced indices are refused, but for a trace that reads them as values (``hd.record``: a guard,
    re-recorded when the index changes)."""
    items = index if isinstance(index, tuple) else (index,)
    normalized = []
    for item in items:
        if isinstance(item, Tracer) and item._trace.reads_as_guards:
            item = np.asarray(item)
        if isinstance(item, Tracer):
            raise TypeError("a traced value cannot be used as an index; index with plain integers or arrays "
                            "(under vmap: gather with hnp.take_along_axis, select with hnp.where)")
        if isinstance(item, (list, tuple, range)):
            item = np.asarray(item)
        elif item.__class__ not in _PLAIN_INDEX_TYPES and backends.backend_name(item) != "numpy":
            # A Dask mask or index array is lazy: the result's shape would be unknown until computed.
            name = backends.backend_name(item)
            raise BackendError("getitem", name, f"the index is a {name} array, so the result's shape is unknown "
                               "until it is computed; index with a numpy array (mask.compute() for Dask)")
        normalized.append(item)
    return tuple(normalized) if isinstance(index, tuple) else normalized[0]


class _Target:
    """Where ``index`` writes into an array of ``shape``: flat positions (numpy's own indexing), mask, repeats."""

    __slots__ = ("index", "shape", "positions", "basic", "repeated", "_mask")

    def __init__(self, shape, index):
        self.index = index
        self.shape = tuple(shape)
        self.positions = np.asarray(np.arange(int(np.prod(self.shape, dtype=np.int64))).reshape(self.shape)[index])
        self.basic = _is_basic(index)
        self.repeated = (not self.basic and self.positions.size > 1
                         and np.unique(self.positions).size < self.positions.size)
        self._mask = None

    @property
    def mask(self):
        """Bool array of ``shape``: True where the index writes."""
        if self._mask is None:
            mask = np.zeros(int(np.prod(self.shape, dtype=np.int64)), dtype=bool)
            mask[self.positions.ravel()] = True
            self._mask = mask.reshape(self.shape)
        return self._mask


def _values_for(x, target, values):
    """``values`` cast to x's dtype and broadcast to the shape of x[index] (numpy's assignment rules)."""
    values = _array(values)
    dtype = dtype_of(x)
    if dtype_of(values) != dtype:
        values = cast(values, dtype, copy=False)
    wanted = target.positions.shape
    shape = tuple(shape_of(values))
    extra = len(shape) - len(wanted)
    if extra > 0:  # numpy drops leading length-1 axes of the values
        if any(n != 1 for n in shape[:extra]):
            raise ValueError(f"could not broadcast input array from shape {shape} into shape {wanted}")
        values = reshape(values, shape=shape[extra:])
        shape = shape[extra:]
    if shape != wanted:
        try:
            np.broadcast_shapes(shape, wanted)
        except ValueError:
            raise ValueError(f"could not broadcast input array from shape {shape} into shape {wanted}") from None
        values = broadcast_to(values, shape=wanted)
    return values


def _place(x, target, values):
    """x with ``values`` (shaped like x[index], no repeated positions) written at the index."""
    return where(target.mask, index_add(values, index=target.index, shape=target.shape), x)


def _flat_rounds(positions):
    """Occurrence numbers of repeated positions: round r holds the r-th occurrence of each position."""
    order = np.argsort(positions, kind="stable")
    ordered = positions[order]
    starts = np.r_[0, np.flatnonzero(ordered[1:] != ordered[:-1]) + 1]
    group_start = np.repeat(starts, np.diff(np.r_[starts, ordered.size]))
    rank = np.empty_like(order)
    rank[order] = np.arange(ordered.size) - group_start
    return [np.flatnonzero(rank == r) for r in range(int(rank.max()) + 1)]


def _combine(x, target, values, op):
    """x with op(x[index], values) written at the index, repeated positions applied in turn."""
    dtype = dtype_of(x)
    if not target.repeated:
        new = op(getitem(x, index=target.index), values)
        return _place(x, target, cast(new, dtype, copy=False) if dtype_of(new) != dtype else new)
    size = int(np.prod(target.shape, dtype=np.int64))
    flat, flat_values = reshape(x, shape=(size,)), reshape(values, shape=(-1,))
    positions = target.positions.ravel()
    for occurrences in _flat_rounds(positions):
        where_ = positions[occurrences]
        new = op(getitem(flat, index=where_), getitem(flat_values, index=occurrences))
        if dtype_of(new) != dtype:
            new = cast(new, dtype, copy=False)
        flat = _place(flat, _Target((size,), where_), new)
    return reshape(flat, shape=target.shape)


class _IndexedUpdate:
    """``x.at[index]``: the updates of x at ``index``; each returns a new array (x is unchanged)."""

    __slots__ = ("_array", "_target")

    def __init__(self, array, index):
        self._array = array
        self._target = _Target(shape_of(array), normalize_index(index))

    def get(self):
        """x[index]."""
        return getitem(self._array, index=self._target.index)

    def set(self, values):
        """x with x[index] = values (a repeated position keeps its last value)."""
        x, target = self._array, self._target
        values = _values_for(x, target, values)
        if target.positions.size == 0:
            return x
        if not target.repeated:
            return _place(x, target, values)
        positions = target.positions.ravel()
        # the last occurrence of each position wins: the first one of the reversed order
        unique, first_reversed = np.unique(positions[::-1], return_index=True)
        winners = positions.size - 1 - first_reversed
        size = int(np.prod(target.shape, dtype=np.int64))
        chosen = getitem(reshape(values, shape=(-1,)), index=winners)
        flat = _place(reshape(x, shape=(size,)), _Target((size,), unique), chosen)
        return reshape(flat, shape=target.shape)

    def add(self, values):
        """x with values added at index (repeated positions accumulate: np.add.at)."""
        x, target = self._array, self._target
        values = _values_for(x, target, values)
        if target.positions.size == 0:
            return x
        return x + index_add(values, index=target.index, shape=target.shape)

    def subtract(self, values):
        """x with values subtracted at index (np.subtract.at)."""
        x, target = self._array, self._target
        values = _values_for(x, target, values)
        if target.positions.size == 0:
            return x
        return subtract(x, index_add(values, index=target.index, shape=target.shape))

    def _apply(self, values, op):
        x, target = self._array, self._target
        values = _values_for(x, target, values)
        if target.positions.size == 0:
            return x
        return _combine(x, target, values, op)

    def multiply(self, values):
        """x with x[index] multiplied by values (np.multiply.at: repeated positions multiply in turn)."""
        return self._apply(values, multiply)

    def divide(self, values):
        """x with x[index] divided by values (np.divide.at)."""
        return self._apply(values, true_divide)

    def power(self, values):
        """x with x[index] raised to values (np.power.at)."""
        return self._apply(values, power)

    def min(self, values):
        """x with x[index] = minimum(x[index], values) (np.minimum.at; a tie shares the derivative)."""
        return self._apply(values, minimum)

    def max(self, values):
        """x with x[index] = maximum(x[index], values) (np.maximum.at; a tie shares the derivative)."""
        return self._apply(values, maximum)

    def __repr__(self):
        return f"_IndexedUpdate(index={self._target.index!r})"


class _IndexUpdater:
    """``x.at``: index it, ``x.at[index]``, then call an update (set, add, multiply ...)."""

    __slots__ = ("_array",)

    def __init__(self, array):
        self._array = array

    def __getitem__(self, index):
        return _IndexedUpdate(self._array, index)

    def __repr__(self):
        return "<hodiff index updater: x.at[index].set(v) / .add(v) / .multiply(v) / .get() ...>"


def at(x):
    """Functional index updates of any array: ``hnp.at(x)[index].set(v)`` is ``x.at[index].set(v)``.

    Returns a new array; x (a numpy array, a list, or a traced value) is
    never modified. See the module docstring for indices, dtypes and
    repeated indices.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hnp.at(np.zeros(4))[[0, 2, 2]].add(1.0)
    array([1., 0., 2., 0.])
    >>> hd.grad(lambda v: hnp.sum(hnp.at(np.ones(3))[1].set(v) ** 2))(3.0)
    np.float64(6.0)
    """
    return _IndexUpdater(_array(x))


# --------------------------------------------------------------- put_along_axis

def _along_axis_fancy_index(shape, indices, axis):
    """numpy's _make_along_axis_idx: the integer-array index that put_along_axis assigns through."""
    if not np.issubdtype(indices.dtype, np.integer):
        raise IndexError("`indices` must be an integer array")
    if len(shape) != indices.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    ones = (1,) * indices.ndim
    index = []
    for dim, n in enumerate(shape):
        index.append(indices if dim == axis else np.arange(n).reshape(ones[:dim] + (-1,) + ones[dim + 1:]))
    return tuple(index)


def put_along_axis(arr, indices, values, axis, inplace=True):
    """numpy.put_along_axis, differentiable: with ``inplace=False`` it returns the updated copy.

    ``arr[..., indices[..., i, ...], ...] = values`` along ``axis`` (values
    broadcast; a repeated index keeps its last value, as ``at[...].set``).
    With ``inplace=True`` (numpy's behaviour, the default) a plain numpy
    ``arr`` is modified and None returned; a traced one cannot be modified,
    so that raises and says to pass ``inplace=False`` (as JAX does).
    ``indices`` are plain integers (under vmap they cannot be batched).
    """
    traced = any(isinstance(v, Tracer) for v in (arr, indices, values))
    if inplace:
        if traced:
            raise TypeError("hodiff.numpy.put_along_axis cannot modify a traced array in place; write "
                            "arr = hnp.put_along_axis(arr, indices, values, axis, inplace=False) "
                            "(or arr.at[index].set(values)) to get the updated copy")
        return np.put_along_axis(arr, indices, values, axis)
    if isinstance(indices, Tracer):
        raise TypeError("hodiff.numpy.put_along_axis: indices must be plain integers, not traced values")
    arr = _array(arr)
    indices = np.asarray(indices)
    if axis is None:
        if indices.ndim != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        shape = tuple(shape_of(arr))
        flat = reshape(arr, shape=(size_of(arr),))
        return reshape(at(flat)[_along_axis_fancy_index(shape_of(flat), indices, 0)].set(values), shape=shape)
    axis = _normalize_axis(axis, len(shape_of(arr)))
    return at(arr)[_along_axis_fancy_index(shape_of(arr), indices, axis)].set(values)


NUMPY_API = {"at": at, "put_along_axis": put_along_axis}
