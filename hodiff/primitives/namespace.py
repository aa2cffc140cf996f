"""Collects each primitives module's ``NUMPY_API`` (and linalg/fft tables) for hodiff.numpy."""

from . import contraction, creation, elementwise, fft, indexing, linalg, numeric, reductions, shape, special

NUMPY_API = {}
LINALG_API = {}
FFT_API = {}
# Later modules' names win: elementwise's zeros_like takes dtype.
for _module in (shape, elementwise, special, reductions, contraction, linalg, fft, creation, numeric, indexing):
    NUMPY_API.update(getattr(_module, "NUMPY_API", {}))
    LINALG_API.update(getattr(_module, "LINALG_API", {}))
    FFT_API.update(getattr(_module, "FFT_API", {}))
