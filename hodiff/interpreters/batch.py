"""Batching: run a computation on many inputs at once along a leading axis.

This is the interpreter behind batched tangents (``Dual(x, V, batched=True)``,
``jacfwd``), batched cotangents (``jacrev``: every row of a Jacobian from one
backward pass) and batched Hessians. A ``BatchTracer`` holds a value whose
axis 0 is the batch; its ``shape`` is that of one member. Each primitive's
``batch`` rule maps the op over the batch; a primitive without one falls back
to a Python loop over the members (correct, slower, and listed by the
registry test).
"""

from ..core.errors import TracedConversionError
from ..core.trace import Trace, Tracer, bind

__all__ = ["BatchTrace", "BatchTracer", "materialize", "loop_over_batch"]

_ops = {}  # set by the primitives package: stack, index (x[i]), broadcast_to


class BatchTracer(Tracer):
    __slots__ = ("value",)

    def __init__(self, value, trace):
        self._trace = trace
        self.value = value

    @property
    def shape(self):
        return self.value.shape[1:]

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def primal(self):
        raise TracedConversionError(
            "a batched value has one member per batch entry, not a single value; "
            "control flow on it (if/while/bool) cannot be batched"
        )

    def __repr__(self):
        return f"BatchTracer({self.value!r})"


class BatchTrace(Trace):
    kind = "batching"
    maps_nondiff = True  # comparisons etc. stay batched under this trace
    __slots__ = ()

    def process(self, primitive, args, params):
        values = list(args)
        batched = [False] * len(args)
        for i, arg in enumerate(args):
            if isinstance(arg, BatchTracer) and arg._trace is self:
                values[i] = arg.value
                batched[i] = True
        rule = primitive.batch
        try:
            if rule is None:
                out = loop_over_batch(primitive, values, batched, params)
            else:
                out = rule(values, batched, **params)
        except Exception as error:
            error.add_note(f"(in the batching rule of primitive '{primitive.name}')")
            raise
        return BatchTracer(out, self)


def loop_over_batch(primitive, values, batched, params):
    size = next(v.shape[0] for v, b in zip(values, batched) if b)
    index = _ops["index"]
    members = []
    for k in range(size):
        member_args = tuple(index(v, k) if b else v for v, b in zip(values, batched))
        members.append(bind(primitive, member_args, params))
    return _ops["stack"](members)


def materialize(value, trace, size=None):
    """The batched array behind ``value``: shape (B,) + member shape.

    A value that does not carry ``trace`` is the same for every member; it is
    broadcast to ``size`` members when ``size`` is given, else returned as is.
    """
    if isinstance(value, BatchTracer) and value._trace is trace:
        return value.value
    if value.__class__ is not BatchTracer and isinstance(value, Tracer) and value._trace.level > trace.level:
        from .forward import Dual, Perturbation

        if value.__class__ is Dual and isinstance(value._trace, Perturbation):
            # A hand-made Dual made inside the batched function (see forward.lift_inner_duals): its parts
            return Dual._make(materialize(value._primal, trace, size), materialize(value._tangent, trace, size),
                              value._trace)
    if size is None:
        return value
    shape = value.shape if isinstance(value, Tracer) else _ops["shape"](value)
    return _ops["broadcast_to"](_ops["expand_dims"](value, axis=0), shape=(size,) + tuple(shape))
