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

__all__ = ["vmap"]


def vmap(f, in_axes=0):
    """Return f mapped over axis 0 of the arguments whose ``in_axes`` entry is 0.

    ``in_axes`` is 0 (every argument), or a tuple with 0 or None per
    argument (None: the argument is shared by all members). Outputs carry
    the batch as their axis 0.

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> hd.vmap(lambda v, w: hnp.sum(v * w), in_axes=(0, None))(np.eye(2), np.array([3.0, 4.0]))
    array([3., 4.])
    """

    @functools.wraps(f)
    def batched_f(*args):
        axes = (in_axes,) * len(args) if not isinstance(in_axes, (tuple, list)) else tuple(in_axes)
        if len(axes) != len(args):
            raise ValueError(f"vmap: in_axes has {len(axes)} entries for {len(args)} arguments")
        sizes = set()
        for arg, axis in zip(args, axes):
            if axis is None:
                continue
            if axis != 0:
                raise ValueError("vmap: only in_axes entries 0 and None are supported")
            for leaf in tree_flatten(arg)[0]:
                shape = leaf.shape if isinstance(leaf, Tracer) else np.shape(leaf)
                if not shape:
                    raise ValueError("vmap: a mapped argument has no axis 0 (it is a scalar)")
                sizes.add(shape[0])
        if len(sizes) != 1:
            raise ValueError(f"vmap: mapped arguments must share one axis-0 size, got {sorted(sizes)}")
        (size,) = sizes
        trace = BatchTrace()
        wrapped = [tree_map(lambda leaf: BatchTracer(leaf, trace), arg) if axis == 0 else arg
                   for arg, axis in zip(args, axes)]
        try:
            out = lift_inner_duals(f(*wrapped), trace)
        finally:
            trace.alive = False
        flat, tree = tree_flatten(out)
        return tree_unflatten(tree, [materialize(leaf, trace, size) for leaf in flat])

    return batched_f
