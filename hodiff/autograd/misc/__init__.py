"""autograd.misc on hodiff: ``flatten`` (pytrees to one vector and back), ``const_graph`` (record once,
replay), and ``optimizers`` / ``fixed_points``, written with hodiff's own transforms."""

from .flatten import flatten  # noqa: F401
from .tracers import const_graph  # noqa: F401
