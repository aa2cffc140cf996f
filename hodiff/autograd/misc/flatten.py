"""``flatten(value) -> (vector, unflatten)``: a pytree of arrays as one 1-D array, differentiably.

Leaves in ``hd.tree_flatten`` order (dict keys sorted, as autograd's), each raveled in C order and
concatenated; ``unflatten(vector)`` rebuilds the structure, shapes and Python-number leaves. Both
directions are hodiff operations, so gradients flow through them (autograd's ``flatten_func`` relies on it).
"""

import numpy as _np

from ...core.tree import tree_flatten, tree_unflatten
from ...numpy import concatenate, ravel, reshape

__all__ = ["flatten", "flatten_func"]


def flatten(value):
    """(1-D array of every leaf's entries, unflatten) for a pytree ``value`` (nested tuples, lists, dicts)."""
    leaves, tree = tree_flatten(value)
    shapes = [_np.shape(leaf) for leaf in leaves]
    sizes = [int(_np.prod(shape, dtype=int)) for shape in shapes]
    scalars = [not hasattr(leaf, "shape") for leaf in leaves]  # Python numbers come back as 0-d arrays' items

    def unflatten(vector):
        out, start = [], 0
        for shape, size, scalar in zip(shapes, sizes, scalars):
            piece = vector[start:start + size]
            out.append(piece[0] if scalar else reshape(piece, shape))
            start += size
        return tree_unflatten(tree, out)

    if not leaves:
        return _np.zeros(0), unflatten
    return concatenate([ravel(leaf) for leaf in leaves]), unflatten


def flatten_func(func, example):
    """(flat_func, unflatten, flat_example): ``flat_func(vector, *args) = func(unflatten(vector), *args)``."""
    flat_example, unflatten = flatten(example)

    def flat_func(vector, *args, **kwargs):
        return flatten(func(unflatten(vector), *args, **kwargs))[0]

    return flat_func, unflatten, flat_example
