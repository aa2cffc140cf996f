"""hodiff.scipy: differentiable counterparts of scipy functions (``special``, ``linalg``, ``stats`` ...)."""

from . import linalg, special, stats  # noqa: F401
