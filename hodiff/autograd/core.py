"""What of autograd.core maps onto hodiff: unary ``make_vjp(fun, x)`` / ``make_jvp(fun, x)``, and the rule registries.

``primitive_vjps`` / ``primitive_jvps`` are views of the rule tables of
primitives made with ``primitive`` (hodiff keeps each primitive's rules on
it): ``primitive_vjps[f]`` is f's VJP table, ``pop`` removes it (the
derivative is then refused) and assignment restores it. autograd's VSpace
machinery and node classes are internals with no hodiff counterpart
(hodiff's values are numpy values and pytrees of them).
"""

from collections.abc import MutableMapping

from ..core.trace import Primitive
from .differential_operators import _make_jvp as make_jvp
from .differential_operators import _make_vjp as make_vjp

__all__ = ["make_vjp", "make_jvp", "primitive_vjps", "primitive_jvps"]


class _RuleTables(MutableMapping):
    """primitive -> its ``vjp`` (or ``jvp``) rule table, for the primitives that have one."""

    def __init__(self, kind):
        self.kind = kind
        self._known = {}  # id -> primitive whose table was set through this view

    def __getitem__(self, fun):
        table = getattr(fun, self.kind, None) if isinstance(fun, Primitive) else None
        if table is None:
            raise KeyError(fun)
        return table

    def __setitem__(self, fun, table):
        if not isinstance(fun, Primitive):
            raise TypeError(f"primitive_{self.kind}s: {fun!r} is not a hodiff primitive (make it with @primitive)")
        setattr(fun, self.kind, table)
        self._known[id(fun)] = fun

    def __delitem__(self, fun):
        self[fun]  # KeyError when there is nothing to remove
        setattr(fun, self.kind, None)

    def __iter__(self):
        return iter([fun for fun in self._known.values() if getattr(fun, self.kind) is not None])

    def __len__(self):
        return sum(1 for _ in self)


primitive_vjps = _RuleTables("vjp")
primitive_jvps = _RuleTables("jvp")
