"""hodiff.scipy: differentiable scipy functions (hodiff.scipy.linalg, .special, .stats)."""

from . import linalg, special, stats  # noqa: F401
