"""autograd.numpy.linalg: hodiff.numpy.linalg (differentiable where hodiff is, numpy's for plain values elsewhere)."""

from ...numpy import linalg as _linalg
from ...numpy.linalg import *  # noqa: F401,F403

__all__ = list(_linalg.__all__)


def __getattr__(name):
    return getattr(_linalg, name)
