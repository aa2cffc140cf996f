"""autograd.scipy.signal: autograd's own ``convolve`` (written with hodiff primitives); other names are
scipy.signal's for plain values, and traced values are refused by name."""

import numpy as _np
import scipy.signal as _signal

from ... import numpy as _hnp
from ...numpy import _not_differentiable

__all__ = ["convolve"]


def _shape(x):
    return tuple(x.shape) if hasattr(x, "shape") else _np.shape(x)


def convolve(A, B, axes=None, dot_axes=[(), ()], mode="full"):  # noqa: B006  (autograd's signature)
    """autograd.scipy.signal.convolve: an N-d convolution of A and B over ``axes`` (a pair of axis lists),
    contracting ``dot_axes`` (a pair), with numpy's modes 'full', 'valid', 'same'.

    The result's axes: A's other axes, then B's other axes, then the convolved ones (autograd's order).
    Built from hodiff primitives (pad, slices, stack, flip, tensordot): every derivative is hodiff's.
    """
    if mode not in ("valid", "full", "same"):
        raise ValueError(f"Mode {mode} undefined, it can be one of 'valid', 'full', and 'same'")
    A_shape, B_shape = _shape(A), _shape(B)
    A_ndim, B_ndim = len(A_shape), len(B_shape)
    if axes is None:
        axes = [list(range(A_ndim)), list(range(A_ndim))]
    axes = [list(axes[0]), list(axes[1])]
    dot_axes = [list(dot_axes[0]), list(dot_axes[1])]
    wrong_order = any(B_shape[b] < A_shape[a] for a, b in zip(*axes))
    if wrong_order:
        if mode == "valid" and not all(B_shape[b] <= A_shape[a] for a, b in zip(*axes)):
            raise ValueError("One array must be larger than the other along all convolved dimensions")
        if mode == "valid" or (mode == "full" and _np.prod(B_shape) <= _np.prod(A_shape)):
            i1 = B_ndim - len(dot_axes[1]) - len(axes[1])
            i2 = i1 + A_ndim - len(dot_axes[0]) - len(axes[0])
            i3 = i2 + len(axes[0])
            order = list(range(i1, i2)) + list(range(i1)) + list(range(i2, i3))
            return _hnp.transpose(convolve(B, A, axes=axes[::-1], dot_axes=dot_axes[::-1], mode=mode), order)
    if mode == "same":  # not commutative: B (the one padded and slid over) is the original A
        A, B = B, A
        A_shape, B_shape, A_ndim, B_ndim = B_shape, A_shape, B_ndim, A_ndim
        axes, dot_axes = axes[::-1], dot_axes[::-1]
    if mode != "valid":
        pad = [(0, 0)] * B_ndim
        for a, b in zip(*axes):
            if mode == "full":
                pad[b] = (A_shape[a] - 1,) * 2
            else:
                right = (A_shape[a] - 1) // 2
                pad[b] = (A_shape[a] - 1 - right, right)
        B = _hnp.pad(B, pad, mode="constant")
        B_shape = _shape(B)
    # B's windows: along each convolved axis b, length A's (a), and a new last axis over the positions
    B_view = B
    for a, b in zip(*axes):
        positions = abs(B_shape[b] - A_shape[a]) + 1
        windows = []
        for p in range(positions):
            index = [slice(None)] * len(_shape(B_view))
            index[b] = slice(p, p + A_shape[a])
            windows.append(B_view[tuple(index)])
        B_view = _hnp.stack(windows, axis=-1)
    flipped = [slice(None)] * A_ndim
    for a in axes[0]:
        flipped[a] = slice(None, None, -1)
    A_view = A[tuple(flipped)]
    all_axes = [axes[i] + dot_axes[i] for i in (0, 1)]
    if mode == "same":
        i1 = B_ndim - len(dot_axes[1]) - len(axes[1])
        i2 = i1 + len(axes[0])
        i3 = i2 + A_ndim - len(dot_axes[0]) - len(axes[0])
        order = list(range(i1)) + list(range(i2, i3)) + list(range(i1, i2))
        return _hnp.transpose(_hnp.tensordot(B_view, A_view, (all_axes[1], all_axes[0])), order)
    return _hnp.tensordot(A_view, B_view, (all_axes[0], all_axes[1]))


def __getattr__(name):
    attr = getattr(_signal, name)
    if callable(attr) and not isinstance(attr, type):
        return _not_differentiable(name, attr, "hodiff.autograd.scipy.signal")
    return attr
