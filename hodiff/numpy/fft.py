"""hodiff.numpy.fft: differentiable discrete Fourier transforms (numpy.fft's names)."""

import numpy as _np

from ..primitives.namespace import FFT_API as _API
from . import _not_differentiable

globals().update(_API)
__all__ = sorted(_API)


def __getattr__(name):
    attr = getattr(_np.fft, name)
    return _not_differentiable(f"fft.{name}", attr) if callable(attr) and not isinstance(attr, type) else attr
