"""hodiff.scipy: differentiable scipy functions (hodiff.scipy.linalg, .special, .stats, .integrate)."""

from . import integrate, linalg, special, stats  # noqa: F401
