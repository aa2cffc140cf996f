"""autograd.scipy.integrate: ``odeint`` is hodiff.scipy.integrate.odeint (adjoint-method reverse mode, as
autograd's, plus forward mode by the sensitivity equations); scipy.integrate's other functions are scipy's for
plain values, and traced values are refused by name."""

import scipy.integrate as _integrate

from ...numpy import _not_differentiable
from ...scipy.integrate import odeint

__all__ = ["odeint"]


def __getattr__(name):
    attr = getattr(_integrate, name)
    if callable(attr) and not isinstance(attr, type):
        return _not_differentiable(name, attr, "hodiff.autograd.scipy.integrate")
    return attr
