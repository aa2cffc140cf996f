"""hodiff.scipy: differentiable scipy functions (hodiff.scipy.linalg, hodiff.scipy.special ...)."""

from . import special, stats  # noqa: F401
