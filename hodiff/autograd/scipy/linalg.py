"""autograd.scipy.linalg: hodiff.scipy.linalg (differentiable where hodiff is, scipy's for plain values elsewhere)."""

from ...scipy import linalg as _linalg
from ...scipy.linalg import *  # noqa: F401,F403

__all__ = list(_linalg.__all__)


def __getattr__(name):
    return getattr(_linalg, name)
