"""hodiff.scipy: differentiable counterparts of scipy functions (``hodiff.scipy.special`` ...)."""

from . import special  # noqa: F401
