"""autograd.tracer's public names: ``primitive``, ``notrace_primitive``, ``isbox``, ``getval``.

A box is a hodiff tracer (of any transform).
"""

import functools

from ..core.trace import Tracer as Box
from ..core.trace import concrete_value as getval

__all__ = ["primitive", "notrace_primitive", "isbox", "getval", "Box"]


def isbox(x):
    """Whether x is traced by some transform (autograd: boxed)."""
    return isinstance(x, Box)


def notrace_primitive(f_raw):
    """f applied to the plain values behind its arguments: its result is never traced (zero derivative)."""
    @functools.wraps(f_raw)
    def f_wrapped(*args, **kwargs):
        return f_raw(*(getval(a) for a in args), **{k: getval(v) for k, v in kwargs.items()})

    return f_wrapped


from .extend import primitive  # noqa: E402  (extend imports Box and notrace_primitive from here)
