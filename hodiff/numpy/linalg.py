"""hodiff.numpy.linalg: differentiable linear algebra (numpy.linalg's names)."""

import numpy as _np

from ..primitives.namespace import LINALG_API as _API
from . import _not_differentiable

globals().update(_API)
__all__ = sorted(_API)


def __getattr__(name):
    attr = getattr(_np.linalg, name)
    return _not_differentiable(f"linalg.{name}", attr) if callable(attr) and not isinstance(attr, type) else attr
