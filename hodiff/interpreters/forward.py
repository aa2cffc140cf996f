"""Forward mode: dual numbers carrying a primal and a tangent.

A ``Dual`` is the tracer of a ``ForwardTrace``. Applying a primitive computes
the primal answer and adds up each traced argument's JVP-rule contribution;
no reverse graph is ever built. Duals nest: a dual whose primal is itself a
dual (of a lower level) is a hyper-dual, and each level is a distinct
perturbation, so mixed partials come out exactly.

A tangent may carry a leading batch axis (``batched=True``): it is then a
batch tracer (see ``batch.py``) one level below the dual's trace, and every
JVP rule pushes all directions at once without a Python loop.
"""

import numpy as np

from ..core.trace import Trace, Tracer, bind, find_top_trace

__all__ = ["Dual", "ForwardTrace"]

_ops = {}  # set by the primitives package: add, broadcast_to, zeros_like


class ForwardTrace(Trace):
    kind = "forward-mode"
    __slots__ = ("batch_trace",)

    def __init__(self, level=None, batch_trace=None):
        super().__init__(level)
        self.batch_trace = batch_trace  # the trace of batched tangents, if any

    def process(self, primitive, args, params):
        primals = list(args)
        tangents = []
        for i, arg in enumerate(args):
            if isinstance(arg, Dual) and arg._trace is self:
                primals[i] = arg.primal
                tangents.append((i, arg._tangent))
        primals = tuple(primals)
        ans = bind(primitive, primals, params)
        tangent_out = None
        add = _ops["add"]
        for i, tangent in tangents:
            rule = primitive.jvp_rule(i)
            if rule is None:
                continue
            try:
                contribution = rule(tangent, ans, *primals, **params)
            except Exception as error:
                error.add_note(f"(in the forward-mode rule of primitive '{primitive.name}', argument {i})")
                raise
            tangent_out = contribution if tangent_out is None else add(tangent_out, contribution)
        if tangent_out is None:
            tangent_out = _ops["zeros_like"](ans)
        elif primitive.broadcasts:
            out_shape = np.shape(ans) if not isinstance(ans, Tracer) else ans.shape
            tangent_shape = tangent_out.shape if hasattr(tangent_out, "shape") else np.shape(tangent_out)
            if tangent_shape != out_shape:
                tangent_out = _ops["broadcast_to"](tangent_out, shape=out_shape)
        return Dual._make(ans, tangent_out, self)


class Dual(Tracer):
    """A dual number or dual array: ``primal + tangent * eps`` with eps**2 = 0.

    ``Dual(primal, tangent)`` makes a dual on a shared default trace, so duals
    built separately combine as one perturbation. ``tag=...`` (any hashable)
    selects another perturbation: duals of different tags nest (hyper-duals),
    the later-created tag being the inner one. With ``batched=True`` the
    tangent has a leading axis of B directions, pushed through at once;
    ``.tangent`` then has shape (B,) + primal shape.
    """

    __slots__ = ("_primal", "_tangent")

    def __init__(self, primal, tangent, *, batched=False, tag=None):
        trace = _user_trace(tag, (primal, tangent))
        primal_shape = np.shape(primal) if not isinstance(primal, Tracer) else primal.shape
        tangent_shape = np.shape(tangent) if not isinstance(tangent, Tracer) else tangent.shape
        expected = tangent_shape[1:] if batched else tangent_shape
        if expected != primal_shape:
            what = "tangent.shape[1:]" if batched else "tangent shape"
            raise ValueError(f"Dual: {what} {expected} does not match primal shape {primal_shape}")
        if batched:
            from .batch import BatchTracer

            tangent = BatchTracer(tangent, trace.batch_trace)
        self._trace = trace
        self._primal = primal
        self._tangent = tangent

    @classmethod
    def _make(cls, primal, tangent, trace):
        dual = cls.__new__(cls)
        dual._trace = trace
        dual._primal = primal
        dual._tangent = tangent
        return dual

    @property
    def primal(self):
        return self._primal

    @property
    def tangent(self):
        """The tangent; for batched duals an array of shape (B,) + primal shape."""
        tangent = self._tangent
        batch_trace = self._trace.batch_trace
        if batch_trace is not None:
            from .batch import materialize

            return materialize(tangent, batch_trace)
        return tangent

    def __repr__(self):
        return f"Dual({self._primal!r}, {self.tangent!r})"


_tagged_traces = {}


def _user_trace(tag, values):
    """The persistent trace behind user-made duals of ``tag``.

    With tag=None the trace sits just above the innermost trace among
    ``values``, so duals built inside a transform work and duals built side
    by side in one scope share one perturbation.
    """
    base = find_top_trace(values)
    if tag is None:
        holder = base if base is not None else _ROOT
        if holder.default_child is None:
            holder.default_child = _new_user_trace()
        return holder.default_child
    trace = _tagged_traces.get(tag)
    if trace is None:
        trace = _tagged_traces[tag] = _new_user_trace()
    if base is not None and base.level >= trace.level:
        raise ValueError(
            f"Dual with tag {tag!r} wraps a value traced at a deeper level; "
            "create the inner dual's tag after the outer one's"
        )
    return trace


def _new_user_trace():
    # User duals may mix batched and plain tangents, so each has a batch trace
    # (created first: batched tangents live one level below their duals).
    from .batch import BatchTrace

    return ForwardTrace(batch_trace=BatchTrace())


class _Root:
    default_child = None


_ROOT = _Root()
