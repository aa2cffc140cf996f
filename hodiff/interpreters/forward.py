"""Forward mode: dual numbers carrying a primal and a tangent.

A ``Dual`` is the tracer of a ``ForwardTrace``. Applying a primitive computes
the primal answer and adds up each traced argument's JVP-rule contribution;
no reverse graph is ever built. Duals nest: a dual whose primal is itself a
dual (of a lower level) is a hyper-dual, and each level is a distinct
perturbation, so mixed partials come out exactly.

A tangent may carry a leading batch axis (``batched=True``): it is then a
batch tracer (see ``batch.py``) one level below the dual's trace, and every
JVP rule pushes all directions at once without a Python loop.

Speed (nested scalar derivatives apply ``process`` ~2.8^k times for order k):
one- and two-argument ops are unrolled; plain primals (no tracer) are
computed by the primitive's implementation directly (``scalar_impl`` for
floats), and when the tangents are plain too the primitive's ``fast_jvp``
rules replace the general ones (see ``Primitive``). A hyper-dual's primal
and tangents are traced by lower levels: they go through bind and the
general rules, so each level differentiates the rules of the level above.
tests/test_fast_paths.py checks both paths give the same numbers and types.
"""

import numpy as np

from ..core.trace import Trace, Tracer, find_top_trace

__all__ = ["Dual", "ForwardTrace"]

_ops = {}  # set by the primitives package: add, broadcast_to, zeros_like


class ForwardTrace(Trace):
    kind = "forward-mode"
    __slots__ = ("batch_trace",)

    def __init__(self, level=None, batch_trace=None):
        super().__init__(level)
        self.batch_trace = batch_trace  # the trace of batched tangents, if any

    def process(self, primitive, args, params):
        # One and two arguments (nearly every op) are unrolled: this is the cost of each traced op,
        # paid ~2^k times over by k nested jvps. A primal traced by an outer transform (a hyper-dual,
        # or a constant traced at a lower level) goes back through bind and the general rules. Plain
        # primals are computed here without bind, and with plain tangents by the fast rules.
        if len(args) == 2:
            x, y = args
            tx = ty = None
            nested = False
            if isinstance(x, Tracer):
                if x._trace is self:
                    tx = x._tangent
                    x = x._primal
                    if isinstance(x, Tracer):
                        nested = True
                else:
                    nested = True
            if isinstance(y, Tracer):
                if y._trace is self:
                    ty = y._tangent
                    y = y._primal
                    if isinstance(y, Tracer):
                        nested = True
                else:
                    nested = True
            if nested:  # bind, without its search when one live trace holds every traced primal
                if isinstance(x, Tracer):
                    trace = x._trace
                    single = not isinstance(y, Tracer) or y._trace is trace
                else:
                    trace = y._trace
                    single = True
                if single and trace.alive and primitive.differentiable:
                    ans = trace.process(primitive, (x, y), params)
                else:
                    ans = primitive(x, y, **params)
                return self._general2(primitive, x, y, tx, ty, ans, params)
            x_class, y_class = x.__class__, y.__class__
            if x_class in _FLOATS and y_class in _FLOATS and primitive.scalar_impl is not None and not params:
                try:
                    ans = primitive.scalar_impl(x, y)
                except _FAST_ERRORS:
                    ans = primitive.impl(x, y)
            else:
                ans = primitive.impl(x, y, **params) if params else primitive.impl(x, y)
            fast = primitive.fast_jvp
            if fast is None or x_class not in _FAST_TYPES or y_class not in _FAST_TYPES \
                    or ans.__class__ not in _FAST_TYPES \
                    or (tx is not None and tx.__class__ not in _FAST_TANGENTS) \
                    or (ty is not None and ty.__class__ not in _FAST_TANGENTS):
                return self._general2(primitive, x, y, tx, ty, ans, params)
            tangent = None
            try:
                if tx is not None:
                    rule = fast[0]
                    if rule is not None:
                        tangent = rule(tx, ans, x, y, **params) if params else rule(tx, ans, x, y)
                if ty is not None:
                    rule = fast[1]
                    if rule is not None:
                        contribution = rule(ty, ans, x, y, **params) if params else rule(ty, ans, x, y)
                        if tangent is None:
                            tangent = contribution
                        elif tangent.__class__ in _FLOATS and contribution.__class__ in _FLOATS:
                            tangent = tangent + contribution  # what add's implementation does for two floats
                        else:
                            tangent = _ops["add"].impl(tangent, contribution)
            except _FAST_ERRORS:  # Python arithmetic refused (x/0 ...): the general rules decide
                return self._general2(primitive, x, y, tx, ty, ans, params)
        elif len(args) == 1:
            x = args[0]
            if x.__class__ is not Dual or x._trace is not self:  # (bind only sends this trace its own duals)
                return self._general(primitive, args, params)
            tx = x._tangent
            x = x._primal
            if isinstance(x, Tracer):
                return self._general1(primitive, x, tx, _bind1(primitive, x, params), params)
            x_class = x.__class__
            if x_class in _FLOATS and primitive.scalar_impl is not None and not params:
                try:
                    ans = primitive.scalar_impl(x)
                except _FAST_ERRORS:
                    ans = primitive.impl(x)
            else:
                ans = primitive.impl(x, **params) if params else primitive.impl(x)
            fast = primitive.fast_jvp
            if fast is None or x_class not in _FAST_TYPES or ans.__class__ not in _FAST_TYPES \
                    or tx.__class__ not in _FAST_TANGENTS:
                return self._general1(primitive, x, tx, ans, params)
            rule = fast[0]
            try:
                tangent = None if rule is None else rule(tx, ans, x, **params) if params else rule(tx, ans, x)
            except _FAST_ERRORS:
                return self._general1(primitive, x, tx, ans, params)
        else:
            return self._general(primitive, args, params)
        # The fast rules' tangent of the plain answer.
        if tangent is None:
            tangent = _ops["zeros_like"](ans)
        elif primitive.broadcasts and (tangent.__class__ not in _FLOATS or ans.__class__ not in _FLOATS):
            out_shape = np.shape(ans)
            if np.shape(tangent) != out_shape:
                tangent = _ops["broadcast_to"](tangent, shape=out_shape)
        dual = _new(Dual)
        dual._trace = self
        dual._primal = ans
        dual._tangent = tangent
        return dual

    def _general2(self, primitive, x, y, tx, ty, ans, params):
        """The dual of ``ans`` = primitive(x, y) through the general JVP rules (tx, ty: tangents or None).

        The rules' primitives go through bind, so a traced (x, y, ans or tangent) is differentiated by
        its own trace: this is the path of every hyper-dual.
        """
        rules = primitive.jvp
        if rules.__class__ is tuple and len(rules) == 2:
            rule_x, rule_y = rules
        else:
            rule_x = primitive.jvp_rule(0) if tx is not None else None
            rule_y = primitive.jvp_rule(1) if ty is not None else None
        tangent = None
        if tx is not None and rule_x is not None:
            try:
                tangent = rule_x(tx, ans, x, y, **params) if params else rule_x(tx, ans, x, y)
            except Exception as error:
                _annotate(error, primitive, 0)
                raise
        if ty is not None and rule_y is not None:
            try:
                contribution = rule_y(ty, ans, x, y, **params) if params else rule_y(ty, ans, x, y)
            except Exception as error:
                _annotate(error, primitive, 1)
                raise
            tangent = contribution if tangent is None else _bind2(_ops["add"], tangent, contribution, _NO_PARAMS)
        return self._finish(primitive, ans, tangent)

    def _general1(self, primitive, x, tx, ans, params):
        """The dual of ``ans`` = primitive(x) through the general JVP rule."""
        rules = primitive.jvp
        rule = rules[0] if rules.__class__ is tuple and rules else primitive.jvp_rule(0)
        tangent = None
        if rule is not None:
            try:
                tangent = rule(tx, ans, x, **params) if params else rule(tx, ans, x)
            except Exception as error:
                _annotate(error, primitive, 0)
                raise
        return self._finish(primitive, ans, tangent)

    def _general(self, primitive, args, params):
        """Any number of arguments, through bind and the general rules."""
        primals = []
        tangents = []
        nested = False
        for i, arg in enumerate(args):
            if isinstance(arg, Tracer):
                if arg._trace is self:
                    tangents.append((i, arg._tangent))
                    arg = arg._primal
                    if isinstance(arg, Tracer):
                        nested = True
                else:
                    nested = True
            primals.append(arg)
        primals = tuple(primals)
        ans = primitive(*primals, **params) if nested else primitive.impl(*primals, **params)
        tangent = None
        for i, tangent_in in tangents:
            contribution = _contribution(primitive, i, tangent_in, ans, primals, params)
            if contribution is not None:
                tangent = contribution if tangent is None else _ops["add"](tangent, contribution)
        return self._finish(primitive, ans, tangent)

    def _finish(self, primitive, ans, tangent):
        """The dual (ans, tangent): a zero tangent for None, broadcast to the answer's shape if need be."""
        if tangent is None:
            tangent = _ops["zeros_like"](ans)
        elif primitive.broadcasts:
            tangent = _broadcast_tangent(tangent, ans)
        dual = _new(Dual)
        dual._trace = self
        dual._primal = ans
        dual._tangent = tangent
        return dual


def _contribution(primitive, argnum, tangent, ans, primals, params):
    """Argument ``argnum``'s general JVP rule applied to its tangent; None for a zero rule."""
    rules = primitive.jvp
    rule = rules[argnum] if rules.__class__ is tuple and argnum < len(rules) else primitive.jvp_rule(argnum)
    if rule is None:
        return None
    try:
        return rule(tangent, ans, *primals, **params)
    except Exception as error:
        _annotate(error, primitive, argnum)
        raise


def _annotate(error, primitive, argnum):
    error.add_note(f"(in the forward-mode rule of primitive '{primitive.name}', argument {argnum})")


def _broadcast_tangent(tangent, ans):
    """An elementwise op's tangent broadcast to its answer's shape (when an argument was broadcast)."""
    inner_tangent, inner_ans = tangent, ans
    while inner_tangent.__class__ is Dual:
        inner_tangent = inner_tangent._primal
    while inner_ans.__class__ is Dual:
        inner_ans = inner_ans._primal
    if inner_tangent.__class__ in _FLOATS and inner_ans.__class__ in _FLOATS:
        return tangent  # scalars (the chains of nested scalar derivatives): nothing to broadcast
    out_shape = _shape(inner_ans)
    if _shape(inner_tangent) != out_shape:
        return _ops["broadcast_to"](tangent, shape=out_shape)
    return tangent


def _bind2(primitive, x, y, params):
    """bind(primitive, (x, y), params) without its search when one live trace is the only one among x, y."""
    if isinstance(x, Tracer):
        trace = x._trace
        if (not isinstance(y, Tracer) or y._trace is trace) and trace.alive and primitive.differentiable:
            return trace.process(primitive, (x, y), params)
    elif isinstance(y, Tracer):
        trace = y._trace
        if trace.alive and primitive.differentiable:
            return trace.process(primitive, (x, y), params)
    else:
        return primitive.impl(x, y, **params)
    return primitive(x, y, **params)  # bind decides (several traces, an escaped tracer ...)


def _bind1(primitive, x, params):
    """bind(primitive, (x,), params) for a traced x, without its search."""
    trace = x._trace
    if trace.alive and primitive.differentiable:
        return trace.process(primitive, (x,), params)
    return primitive(x, **params)


_new = object.__new__
_NO_PARAMS = {}
_FLOATS = frozenset({float, np.float64})  # scalar_impl takes them (np.float64 is a float)
# Types the fast rules accept: as in reverse mode, no tracer, no Python complex (the primitives send
# it to numpy, Python arithmetic would keep it complex) and no other numpy scalar type. Tangents are
# inexact (jvp gives them their primal's dtype): an int tangent would stay a Python int in the fast
# rules where the primitives make it a numpy integer.
_FAST_TYPES = frozenset({float, int, np.ndarray, np.float64})
_FAST_TANGENTS = frozenset({float, np.ndarray, np.float64})
_FAST_ERRORS = (ArithmeticError, ValueError)  # raised by Python float arithmetic where numpy gives inf/nan


def _shape(value):
    """The shape of a plain or traced value; a chain of duals is walked down to its innermost primal."""
    while value.__class__ is Dual:
        value = value._primal
    value_class = value.__class__
    if value_class is float or value_class is np.float64:
        return ()
    if value_class is np.ndarray or isinstance(value, Tracer):
        return value.shape
    return np.shape(value)


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
