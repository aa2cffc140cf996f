"""hodiff.scipy: differentiable counterparts of scipy functions (``special``, ``linalg`` ...)."""

from . import linalg, special  # noqa: F401
