"""Taylor mode: propagate truncated power series through a computation.

A ``TaylorTracer`` holds x(t) = x0 + c1 t + ... + cK t^K as the primal x0 and
a ``series`` array of shape (K,) + x0.shape holding c1..cK (Taylor
coefficients, not derivatives). A primitive's ``taylor`` rule maps input
series to output series in O(K^2) work; a primitive without one falls back to
nested forward mode on t -> f(x(t)), which costs O(2^K) (see
``taylor_rule_report``). Series arithmetic uses hodiff primitives, so Taylor
mode nests inside every other transform.
"""

import math

from ..core.trace import Trace, Tracer, bind

__all__ = ["TaylorTrace", "TaylorTracer"]

_ops = {}  # set by the primitives package: stack, zeros_like, horner, broadcast_series


class TaylorTracer(Tracer):
    __slots__ = ("_primal", "series")

    def __init__(self, primal, series, trace):
        self._trace = trace
        self._primal = primal
        self.series = series

    @property
    def primal(self):
        return self._primal

    def __repr__(self):
        return f"TaylorTracer({self._primal!r}, series={self.series!r})"


class TaylorTrace(Trace):
    kind = "Taylor-mode"
    __slots__ = ("order",)

    def __init__(self, order, level=None):
        super().__init__(level)
        self.order = order

    def process(self, primitive, args, params):
        primals = list(args)
        series = [None] * len(args)
        for i, arg in enumerate(args):
            if isinstance(arg, TaylorTracer) and arg._trace is self:
                primals[i] = arg.primal
                series[i] = arg.series
        primals = tuple(primals)
        ans = bind(primitive, primals, params)
        rule = primitive.taylor
        try:
            if rule is None:
                out_series = nested_forward_series(primitive, primals, series, params, self.order)
            else:
                out_series = rule(ans, primals, series, **params)
            if primitive.broadcasts:
                # A series from a lower-rank argument alone (x + y, only y traced) has that
                # argument's shape: broadcast it to the answer's, here, as forward mode does.
                out_series = _ops["broadcast_series"](out_series, ans)
        except Exception as error:
            error.add_note(f"(in the Taylor-mode rule of primitive '{primitive.name}')")
            raise
        return TaylorTracer(ans, out_series, self)


def nested_forward_series(primitive, primals, series, params, order):
    """Output series of a primitive that has no Taylor rule, by nested ``jvp``.

    g(t) = primitive(x_i(t) for each argument) is differentiated ``order``
    times in t at t = 0 with nested forward mode; coefficient k is g^(k)(0)/k!.
    Exact, but the cost doubles with each order.
    """
    from ..transforms.forward import jvp

    horner = _ops["horner"]

    def g(t):
        args = tuple(p if s is None else horner(p, s, t) for p, s in zip(primals, series))
        return bind(primitive, args, params)

    # derivatives(t) returns [g(t), g'(t), ..., g^(k)(t)]; each level adds one jvp.
    def extend(derivatives):
        def more(t):
            values, tangents = jvp(derivatives, (t,), (1.0,))
            return values + [tangents[-1]]

        return more

    derivatives = lambda t: [g(t)]  # noqa: E731
    for _ in range(order):
        derivatives = extend(derivatives)
    values = derivatives(0.0)
    return _ops["stack"]([values[k] * (1.0 / math.factorial(k)) for k in range(1, order + 1)])
