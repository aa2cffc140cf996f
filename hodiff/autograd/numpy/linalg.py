"""autograd.numpy.linalg: hodiff.numpy.linalg (differentiable where hodiff is, numpy's for plain values elsewhere)."""

from ...numpy import linalg as _linalg
from ...numpy.linalg import *  # noqa: F401,F403

__all__ = list(_linalg.__all__)


def __getattr__(name):
    return getattr(_linalg, name)


def T(x):
    """autograd.numpy.linalg.T: x with its last two axes swapped (a batch of transposes)."""
    from ... import numpy as hnp

    return hnp.swapaxes(x, -1, -2)


def _dot(a, b):
    """autograd.numpy.linalg._dot: batched matrix product ``einsum('...ij,...jk->...ik')``."""
    from ... import numpy as hnp

    return hnp.einsum("...ij,...jk->...ik", a, b)
