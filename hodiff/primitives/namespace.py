"""Collects each primitives module's ``NUMPY_API`` (and linalg/fft tables) for hodiff.numpy."""

from . import elementwise, fft, linalg, shape, special

NUMPY_API = {}
LINALG_API = {}
FFT_API = {}
for _module in (shape, elementwise, special, linalg, fft):  # later modules' names win: elementwise's zeros_like
    NUMPY_API.update(getattr(_module, "NUMPY_API", {}))
    LINALG_API.update(getattr(_module, "LINALG_API", {}))
    FFT_API.update(getattr(_module, "FFT_API", {}))
