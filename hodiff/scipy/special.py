"""hodiff.scipy.special: scipy.special, differentiable.

The functions hodiff differentiates (expit, logit, log_expit, softplus, erf, erfc,
erfinv, erfcx, ndtr, ndtri, log_ndtr, gammaln, digamma/psi, polygamma, gamma,
betaln, beta, rgamma, gammasgn, erfcinv, gammainc, gammaincc, betainc,
multigammaln, iv, ive, i0, i1, i0e, i1e, jv, yv, jn, yn, j0, j1, y0, y1, xlogy,
xlog1py, logsumexp, softmax, log_softmax) accept traced values and have rules of
every order; they follow scipy's signatures (``polygamma(n, x)``, ``iv(v, z)``,
``jv(v, z)``, ``yv(v, z)``, ``jn(n, x)``, ``yn(n, x)`` take a static order first:
a traced order raises a TypeError naming the function and the argument, as
hodiff does not differentiate in the order; ``yn`` needs an integer n, where
scipy truncates; ``multigammaln(a, d)`` takes a static dimension d).
gammainc(a, x), gammaincc(a, x) and betainc(a, b, x) are differentiated in x
only: a traced a or b raises a TypeError naming the function and argument.
gammasgn has derivative 0. Any other scipy.special name passes through for
plain values and raises a clear error when a traced value reaches it.

>>> import hodiff as hd, hodiff.scipy.special as hsp
>>> round(float(hd.grad(hsp.gammaln)(3.0)), 6)  # digamma(3)
0.922784
"""

import scipy.special as _sp

from ..numpy import _not_differentiable
from ..primitives.special import SCIPY_SPECIAL_API as _API

globals().update(_API)
__all__ = sorted(_API)


def __getattr__(name):
    attr = getattr(_sp, name)  # AttributeError names the missing function
    if not callable(attr) or isinstance(attr, type):
        return attr
    return _not_differentiable(name, attr, "hodiff.scipy.special")

