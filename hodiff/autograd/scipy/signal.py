"""autograd.scipy.signal: scipy.signal's functions for plain values; traced values are refused by name."""

import scipy.signal as _signal

from ...numpy import _not_differentiable


def __getattr__(name):
    attr = getattr(_signal, name)
    return _not_differentiable(f"scipy.signal.{name}", attr) if callable(attr) and not isinstance(attr, type) else attr
