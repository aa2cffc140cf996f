"""hodiff.scipy: differentiable scipy functions (hodiff.scipy.linalg, hodiff.scipy.special ...)."""

from . import special  # noqa: F401
