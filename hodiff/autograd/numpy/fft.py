"""autograd.numpy.fft: hodiff.numpy.fft (differentiable where hodiff is, numpy's for plain values elsewhere)."""

from ...numpy import fft as _fft
from ...numpy.fft import *  # noqa: F401,F403

__all__ = list(_fft.__all__)


def __getattr__(name):
    return getattr(_fft, name)
