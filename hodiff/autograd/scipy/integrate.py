"""autograd.scipy.integrate: scipy.integrate's functions for plain values; traced values are refused by name."""

import scipy.integrate as _integrate

from ...numpy import _not_differentiable


def __getattr__(name):
    attr = getattr(_integrate, name)
    return _not_differentiable(f"scipy.integrate.{name}", attr) if callable(attr) and not isinstance(attr, type) else attr
