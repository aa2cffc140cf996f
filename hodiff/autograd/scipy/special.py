"""autograd.scipy.special: hodiff.scipy.special (differentiable where hodiff is, scipy's for plain values elsewhere)."""

from ...scipy import special as _special
from ...scipy.special import *  # noqa: F401,F403

__all__ = list(_special.__all__)


def __getattr__(name):
    return getattr(_special, name)
