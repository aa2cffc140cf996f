"""Argument handling shared by the transforms: argnums, dtype checks, output checks."""

import numbers

import numpy as np

from ..core.trace import Tracer
from ..core.tree import tree_flatten

__all__ = ["normalize_argnums", "check_differentiable", "is_inexact"]


def normalize_argnums(argnums, num_args, transform):
    """(tuple of argnums, whether a single int was given)."""
    single = isinstance(argnums, numbers.Integral)
    argnums_tuple = (argnums,) if single else tuple(argnums)
    if not argnums_tuple:
        raise ValueError(f"{transform}: argnums is empty; name at least one argument")
    for argnum in argnums_tuple:
        if not isinstance(argnum, numbers.Integral):
            raise TypeError(f"{transform}: argnums must be ints, got {argnum!r}")
        if not -num_args <= argnum < num_args:
            raise ValueError(
                f"{transform}: argnums={argnums!r} is out of range for a function called "
                f"with {num_args} positional argument{'s' if num_args != 1 else ''}"
            )
    return tuple(a % num_args for a in argnums_tuple), single


def dtype_of_value(x):
    if isinstance(x, Tracer):
        return x.dtype
    if isinstance(x, bool):
        return np.dtype(bool)
    if isinstance(x, numbers.Integral) and not isinstance(x, np.generic):
        return np.dtype(int)
    return np.result_type(x)


def is_inexact(x):
    return np.issubdtype(dtype_of_value(x), np.inexact)


_INEXACT_KINDS = "fc"


def check_differentiable(tree, argnum, transform, argnums_hint=True):
    """TypeError naming the argument when a leaf is not float or complex (as JAX does)."""
    kind = type(tree)
    if kind is float or (kind is np.ndarray and tree.dtype.kind in _INEXACT_KINDS):
        return
    for leaf in tree_flatten(tree)[0]:
        kind = type(leaf)
        if kind is float or kind is complex or (kind is np.ndarray and leaf.dtype.kind in _INEXACT_KINDS):
            continue  # the common cases, decided without numpy's dtype machinery
        if isinstance(leaf, (dict, list, tuple)):  # a subclass (OrderedDict, defaultdict) is not a pytree node
            raise TypeError(
                f"{transform}: argument {argnum} holds a {type(leaf).__name__}, which is not one of the pytree "
                f"containers (dict, list, tuple, namedtuple); convert it, e.g. dict(x)")
        try:
            dtype = dtype_of_value(leaf)
        except (TypeError, ValueError):
            raise TypeError(
                f"{transform}: argument {argnum} holds a {type(leaf).__name__}, which is not an array "
                "or a number; differentiated arguments must be float or complex arrays (or pytrees of them)"
            ) from None
        if not np.issubdtype(dtype, np.inexact):
            raise TypeError(
                f"{transform} requires real- or complex-valued inputs (float or complex dtype), but "
                f"argument {argnum} has dtype {dtype}. Pass floats (2.0, not 2) or use x.astype(float)"
                + ("; to hold an argument fixed, leave it out of argnums." if argnums_hint else ".")
            )


def check_output_leaves(leaves, transform):
    """TypeError for an output leaf of f that is not an array or a number: a dict subclass, a dataclass or a set
    is one leaf to tree_flatten (hodiff's pytree containers are dict, list, tuple, namedtuple and None), and
    a transform would broadcast, differentiate or silently zero it."""
    for leaf in leaves:
        if isinstance(leaf, Tracer) or type(leaf) in (float, int, complex, bool, np.ndarray):
            continue
        kind = None
        if not isinstance(leaf, (dict, list, tuple)):
            try:
                kind = dtype_of_value(leaf).kind
            except (TypeError, ValueError):
                pass
        if kind is None or kind not in "biufc":
            raise TypeError(f"{transform}: f returned a {type(leaf).__name__}, which is not an array, a number or "
                            "one of the pytree containers (dict, list, tuple, namedtuple, None); convert it, "
                            "e.g. dict(x)")


def list_of_numbers_hint(args, argnums, transform):
    """A sentence for an error raised inside f when a differentiated argument is a list/tuple of numbers:
    hodiff (like JAX) treats it as a pytree of separate scalars, not an array. None when none is."""
    for argnum in argnums:
        arg = args[argnum]
        if isinstance(arg, (list, tuple)) and arg and all(
                type(leaf) in (int, float, complex) or isinstance(leaf, np.number) or
                (isinstance(leaf, Tracer) and not leaf.shape) for leaf in tree_flatten(arg)[0]):
            return (f"{transform}: argument {argnum} is a {type(arg).__name__} of numbers, which hodiff "
                    f"(like JAX) treats as a pytree of separate scalars, not an array (its gradient is a "
                    f"{type(arg).__name__} too); to use it as an array, pass np.array(x), or stack it "
                    f"inside f with hnp.array(x) / hnp.stack(x)")
    return None
