"""autograd.numpy on hodiff: ``hodiff.numpy`` under autograd's module names.

Every name resolves to hodiff.numpy's (the differentiable functions are
hodiff primitives; the rest are numpy's for plain values and refuse traced
ones by name). ``random`` is numpy.random; ``linalg`` and ``fft`` are
hodiff.numpy.linalg and hodiff.numpy.fft.
"""

import importlib as _importlib

import numpy as _np

from ... import numpy as _hnp
from ...numpy import *  # noqa: F401,F403

__all__ = list(_hnp.__all__)

random = _importlib.import_module(f"{__name__}.random")
linalg = _importlib.import_module(f"{__name__}.linalg")
fft = _importlib.import_module(f"{__name__}.fft")


def __getattr__(name):
    return getattr(_hnp, name)


# ----------------------------------------------------------------- autograd's value-only functions
# autograd evaluates these on the values behind its boxes (they have no derivative: predicates,
# indices, counts), so `assert np.allclose(x, y)` and `if np.iscomplex(x):` work inside a
# differentiated function. hodiff.numpy refuses them on traced values; here they see the values.
# Under vmap a value-dependent answer would be the whole batch's, so a batched value is refused.

from ...core.trace import Tracer as _Tracer  # noqa: E402
from ...core.trace import concrete_value as _concrete_value  # noqa: E402
from ...core.tree import tree_leaves as _tree_leaves  # noqa: E402
from ...core.tree import tree_map as _tree_map  # noqa: E402


def _value_only(name, function):
    def on_values(*args, **kwargs):
        from ...interpreters.batch import BatchTracer

        def value(leaf):
            probe = leaf
            while isinstance(probe, _Tracer):
                if isinstance(probe, BatchTracer):
                    raise TypeError(
                        f"autograd.numpy.{name} looks at values, and under hd.vmap a value is the whole "
                        f"batch's; compute it outside vmap or with hodiff.numpy's elementwise functions")
                probe = probe.primal
            return probe

        return function(*_tree_map(value, args), **_tree_map(value, kwargs))

    on_values.__name__ = name
    on_values.__doc__ = f"numpy.{name} of the values behind traced arguments (no derivative, as in autograd)."
    return on_values


_VALUE_ONLY = (
    "argwhere", "nonzero", "flatnonzero", "count_nonzero", "searchsorted", "logical_and", "logical_or",
    "logical_not", "logical_xor", "isneginf", "isposinf", "allclose", "isclose", "array_equal",
    "array_equiv", "iscomplexobj", "iscomplex", "isreal", "isrealobj", "result_type",
)
for _name in _VALUE_ONLY:
    if _name not in _hnp.__all__:
        globals()[_name] = _value_only(_name, getattr(_np, _name))


def ndim(x):
    """The number of axes of x (of a traced value: of the value it stands for)."""
    return len(shape(x))


def shape(x):
    """The shape of x (of a traced value: of the value it stands for)."""
    return tuple(x.shape) if isinstance(x, _Tracer) else _np.shape(x)


def size(x, axis=None):
    """The number of elements of x (along ``axis``)."""
    s = shape(x)
    return int(_np.prod(s, dtype=_np.int64)) if axis is None else s[axis]


def make_diagonal(D, offset=0, axis1=0, axis2=1):
    """autograd's inverse of ``diagonal``: an array of ndim D.ndim + 1 whose (axis1, axis2) diagonals are D.

    D's last axis (length n) becomes an n x n diagonal at axes ``axis1``, ``axis2`` of the result;
    only ``offset=0`` (as in autograd). Built from hodiff primitives (differentiable in every mode).
    """
    if offset != 0:
        raise NotImplementedError("make_diagonal: only offset=0 (as in autograd)")
    n = shape(D)[-1]
    square = _hnp.multiply(_hnp.expand_dims(D, -1), _np.eye(n))
    ndim_out = len(shape(D)) + 1
    a1, a2 = axis1 % ndim_out, axis2 % ndim_out
    if a1 == a2:
        raise ValueError("make_diagonal: axis1 and axis2 must differ")
    return _hnp.moveaxis(square, (-2, -1), (a1, a2))


def where(condition, x=None, y=None):
    """autograd's where: ``where(c)`` is ``nonzero(c)``; a Python-bool condition between two non-arrays
    picks one of them as it is (``where(True, 1, 2)`` is the int 1); otherwise hodiff.numpy.where
    (differentiable in x and y)."""
    if x is None and y is None:
        return _np.nonzero(_concrete_value(condition))
    if x is None or y is None:
        raise ValueError("autograd.numpy.where takes a condition alone, or a condition with both x and y")
    if isinstance(condition, (bool, _np.bool_)) and not _any_array(x) and not _any_array(y):
        return x if condition else y
    return _hnp.where(condition, x, y)


def _any_array(x):
    import builtins  # this module's `any` is numpy's

    return builtins.any(isinstance(leaf, (_np.ndarray, _np.generic, _Tracer)) for leaf in _tree_leaves(x))


def real_if_close(a, tol=100):
    """numpy.real_if_close, differentiable: the real part of a complex a whose imaginary parts are all
    within ``tol`` machine epsilons of 0 (decided on the values), else a itself."""
    value = _concrete_value(a)
    if not _np.iscomplexobj(value):
        return a
    if _np.asarray(_np.real_if_close(value, tol)).dtype.kind == "c":
        return a
    return _hnp.real(a)
