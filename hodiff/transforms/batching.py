"""``vmap``: map a function over a leading axis of its arguments in one pass.

Used by the Jacobian and Hessian transforms to push many tangents or
cotangents at once; public as ``hd.vmap`` for users who want it.
"""

import functools

import numpy as np

from ..core.trace import Tracer
from ..core.tree import tree_flatten, tree_map, tree_unflatten
from ..interpreters.batch import BatchTrace, BatchTracer, materialize
from ..interpreters.forward import lift_inner_duals
from ._args import check_output_leaves

__all__ = ["vmap"]


def vmap(f, in_axes=0, out_axes=0):
    """Return f mapped over axis ``in_axes`` of its arguments; the outputs carry the batch at ``out_axes``.

    ``in_axes`` is an int (every argument is mapped over that axis), or a
    tuple with an int or None per argument (None: the argument is shared by
    all members); keyword arguments are mapped over their axis 0 (as JAX).
    ``out_axes`` is an int for every output, or a tuple with an int per entry
    of a tuple output (a namedtuple keeps its type). Negative axes count from the end (of the
    argument; of the output including its batch axis), as in JAX. Every
    mapped argument must have the same length along its axis.

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> hd.vmap(lambda v, w: hnp.sum(v * w), in_axes=(0, None))(np.eye(2), np.array([3.0, 4.0]))
    array([3., 4.])
    >>> hd.vmap(lambda col: 2 * col, in_axes=1, out_axes=1)(np.ones((3, 2))).shape
    (3, 2)
    """

    @functools.wraps(f)
    def batched_f(*args, **kwargs):
        axes = (in_axes,) * len(args) if not isinstance(in_axes, (tuple, list)) else tuple(in_axes)
        if len(axes) != len(args):
            raise ValueError(f"vmap: in_axes has {len(axes)} entries for {len(args)} arguments")
        if kwargs:  # keyword arguments are mapped over their axis 0, as JAX maps them: one more (dict) argument
            def positional(*values):
                return f(*values[:-1], **values[-1])

            return vmap(positional, in_axes=axes + (0,), out_axes=out_axes)(*args, kwargs)
        sizes = set()
        moved = []
        for i, (arg, axis) in enumerate(zip(args, axes)):
            if axis is None:
                moved.append(arg)
                continue
            if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
                raise TypeError(f"vmap: in_axes entries are ints or None, got {axis!r} for argument {i}")
            _refuse_list_of_numbers(arg, i)
            leaves, tree = tree_flatten(arg)
            new_leaves = []
            for leaf in leaves:
                shape = leaf.shape if isinstance(leaf, Tracer) else np.shape(leaf)
                if not shape:
                    raise ValueError(f"vmap: mapped argument {i} has no axis {axis} (it is a scalar)")
                if not -len(shape) <= axis < len(shape):
                    raise ValueError(f"vmap: in_axes={axis} is out of range for argument {i} of shape {shape}")
                a = int(axis) % len(shape)
                sizes.add(shape[a])
                new_leaves.append(leaf if a == 0 else _moveaxis(leaf, a, 0))
            moved.append(tree_unflatten(tree, new_leaves))
        if not sizes:
            raise ValueError("vmap: no argument is mapped (every in_axes entry is None, or f has no arguments); "
                             "map at least one argument over an axis")
        if len(sizes) != 1:
            raise ValueError(f"vmap: mapped arguments must share one size along their in_axes, got {sorted(sizes)}")
        (size,) = sizes
        trace = BatchTrace()
        wrapped = [tree_map(lambda leaf: BatchTracer(leaf, trace), arg) if axis is not None else arg
                   for arg, axis in zip(moved, axes)]
        try:
            out = lift_inner_duals(f(*wrapped), trace)
        finally:
            trace.alive = False
        if isinstance(out_axes, (tuple, list)):
            if not isinstance(out, tuple) or len(out) != len(out_axes):
                raise ValueError(f"vmap: out_axes has {len(out_axes)} entries, but f returned "
                                 f"{type(out).__name__ if not isinstance(out, tuple) else len(out)}")
            entries = [_batched_output(o, trace, size, a) for o, a in zip(out, out_axes)]
            return type(out)._make(entries) if hasattr(out, "_fields") else tuple(entries)  # a namedtuple stays one
        return _batched_output(out, trace, size, out_axes)

    return batched_f


def _batched_output(out, trace, size, out_axis):
    """The output pytree, its batch (axis 0 while mapped) moved to ``out_axis``."""
    if out_axis is None or isinstance(out_axis, bool) or not isinstance(out_axis, (int, np.integer)):
        raise TypeError(f"vmap: out_axes entries are ints, got {out_axis!r}")
    flat, tree = tree_flatten(out)
    leaves = []
    for leaf in flat:
        if isinstance(leaf, tuple) and hasattr(leaf, "_fields"):  # a namedtuple (lstsq, slogdet, ...): its fields
            leaves.append(type(leaf)._make(_batched_output(tuple(leaf), trace, size, out_axis)))
            continue
        check_output_leaves((leaf,), "vmap")
        leaf = materialize(leaf, trace, size)
        ndim = len(leaf.shape if isinstance(leaf, Tracer) else np.shape(leaf))
        if not -ndim <= out_axis < ndim:
            raise ValueError(f"vmap: out_axes={out_axis} is out of range for an output with {ndim} axes "
                             "(the batch axis included)")
        a = int(out_axis) % ndim
        leaves.append(leaf if a == 0 else _moveaxis(leaf, 0, a))
    return tree_unflatten(tree, leaves)


def _moveaxis(x, source, destination):
    from ..primitives.shape import moveaxis

    return moveaxis(x, source, destination)


def _refuse_list_of_numbers(arg, i):
    """A list of numbers is a pytree of scalars, not an array: say so, and how to stack it."""
    if isinstance(arg, (list, tuple)) and arg and all(
            isinstance(leaf, (int, float, complex, np.number)) or
            (isinstance(leaf, Tracer) and not leaf.shape) for leaf in tree_flatten(arg)[0]):
        raise TypeError(
            f"vmap: argument {i} is a {type(arg).__name__} of numbers, which hodiff (like JAX) treats as a "
            f"pytree of separate scalars, not an array, so it has no axis to map over; stack it first: "
            f"hnp.array(x) (or hnp.stack(x) for a list of arrays)")
