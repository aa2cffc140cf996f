"""hodiff.scipy.linalg: differentiable scipy.linalg functions.

solve_triangular, cholesky, cho_factor, cho_solve, expm, sqrtm,
solve_sylvester, solve_banded, eigh, eigvalsh, det, inv, solve and pinv accept traced values
(see hodiff.primitives.linalg for the maths and conventions); any other
scipy.linalg name passes through for plain values and raises a clear error
when a traced value reaches it.
"""

import scipy.linalg as _sla

from ..numpy import _not_differentiable
from ..primitives.linalg import SCIPY_LINALG_API as _API

globals().update(_API)
__all__ = sorted(_API)


def __getattr__(name):
    attr = getattr(_sla, name)
    return _not_differentiable(name, attr, "hodiff.scipy.linalg") if callable(attr) and not isinstance(attr, type) \
        else attr
