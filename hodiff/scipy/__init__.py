"""hodiff.scipy: differentiable counterparts of scipy functions (``hodiff.scipy.special``, ``hodiff.scipy.linalg`` ...)."""

from . import linalg, special  # noqa: F401
