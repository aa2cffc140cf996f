"""autograd.numpy on hodiff: ``hodiff.numpy`` under autograd's module names.

Every name resolves to hodiff.numpy's (the differentiable functions are
hodiff primitives; the rest are numpy's for plain values and refuse traced
ones by name). ``random`` is numpy.random; ``linalg`` and ``fft`` are
hodiff.numpy.linalg and hodiff.numpy.fft.
"""

import importlib as _importlib

from ... import numpy as _hnp
from ...numpy import *  # noqa: F401,F403

__all__ = list(_hnp.__all__)

random = _importlib.import_module(f"{__name__}.random")
linalg = _importlib.import_module(f"{__name__}.linalg")
fft = _importlib.import_module(f"{__name__}.fft")


def __getattr__(name):
    return getattr(_hnp, name)
