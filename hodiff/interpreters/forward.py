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

import weakref

import numpy as np

from ..core import backends
from ..core.errors import EscapedTracerError
from ..core.trace import Trace, Tracer, find_top_trace, new_level
from ..core.tree import tree_map

__all__ = ["Dual", "ForwardTrace", "Perturbation"]

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
                    if x_class is not float:  # math.* gives a float for an np.float64: keep it strong
                        ans = np.float64(ans)
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
        if primitive.joint_jvp is not None:
            return self._finish(primitive, ans, _joint(primitive, [tx, ty], ans, (x, y), params))
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
        if primitive.joint_jvp is not None:
            return self._finish(primitive, ans, _joint(primitive, [tx], ans, (x,), params))
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
        if primitive.joint_jvp is not None and tangents:
            every = [None] * len(primals)
            for i, tangent_in in tangents:
                every[i] = tangent_in
            return self._finish(primitive, ans, _joint(primitive, every, ans, primals, params))
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


def _joint(primitive, tangents, ans, primals, params):
    """The primitive's joint JVP rule on every argument's tangent (None: a constant argument)."""
    try:
        return primitive.joint_jvp(tangents, ans, *primals, **params)
    except Exception as error:
        _annotate(error, primitive, next(i for i, t in enumerate(tangents) if t is not None))
        raise


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


def _checked_dtypes(primal, tangent):
    """The rule every transform follows: a float or complex primal (an integer one is refused as
    grad and jvp refuse it); an integer tangent is taken in the primal's precision, as jvp does."""
    if primal.__class__ is float and tangent.__class__ is float:
        return primal, tangent  # the common case, without numpy's dtype machinery
    if not isinstance(primal, Tracer):
        from ..transforms._args import check_differentiable

        check_differentiable(primal, "0 (the primal)", "Dual", argnums_hint=False)
    if not isinstance(tangent, Tracer) and np.result_type(tangent).kind in "biu":
        dtype = primal.dtype if hasattr(primal, "dtype") else np.result_type(primal)
        tangent = backends.asarray(tangent).astype(dtype)
        tangent = tangent[()] if tangent.ndim == 0 and backends.backend_name(tangent) == "numpy" else tangent
    return primal, tangent


class Dual(Tracer):
    """A dual number or dual array: ``primal + tangent * eps`` with eps**2 = 0.

    ``Dual(primal, tangent)`` makes a fresh perturbation eps, inner to every
    perturbation and transform that exists when it is made (like a ``jvp``
    called at that point), so a derivative operator written with Duals nests
    without perturbation confusion. Arithmetic mixing Duals of different
    perturbations works like nested ``jvp``: the answer is a Dual of the
    innermost (latest) perturbation among the arguments, whose ``.primal`` and
    ``.tangent`` carry the outer ones (they are Duals themselves).

    ``tag=`` puts several Duals on one perturbation: a ``Perturbation``
    (``hd.Perturbation()``, or ``d.perturbation`` of an existing Dual ``d``),
    or any hashable key (the duals made with one key while any of them lives
    share a perturbation). With ``batched=True`` the tangent has a leading axis
    of B directions, pushed through at once; ``.tangent`` then has shape
    (B,) + primal shape.

    >>> import hodiff as hd
    >>> D = lambda f: lambda x: f(hd.Dual(x, 1.0)).tangent
    >>> float(D(lambda x: x * D(lambda y: x + y)(1.0))(1.0))  # Siskind & Pearlmutter: 1, not 2
    1.0
    """

    __slots__ = ("_primal", "_tangent")

    def __init__(self, primal, tangent, *, batched=False, tag=None):
        primal, tangent = _checked_dtypes(primal, tangent)
        trace = _user_trace(tag, (primal, tangent))
        primal_shape = np.shape(primal) if not isinstance(primal, Tracer) else primal.shape
        tangent_shape = np.shape(tangent) if not isinstance(tangent, Tracer) else tangent.shape
        expected = tangent_shape[1:] if batched else tangent_shape
        if expected != primal_shape:
            what = "tangent.shape[1:]" if batched else "tangent shape"
            raise ValueError(f"Dual: {what} {expected} does not match primal shape {primal_shape}")
        if batched:
            from .batch import BatchTracer

            tangent = BatchTracer(tangent, trace.batch_trace_for_user())
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
        """The value with this Dual's perturbation set to 0 (a Dual of the outer perturbations, if any)."""
        return self._primal

    @property
    def tangent(self):
        """The coefficient of this Dual's own perturbation (the innermost it carries).

        A value of the primal's shape that carries the outer perturbations; for
        batched duals an array of shape (B,) + primal shape. To read the
        derivative with respect to a perturbation that may not be the
        innermost (or may be absent), use ``Perturbation.tangent``.
        """
        tangent = self._tangent
        batch_trace = self._trace.batch_trace
        if batch_trace is not None:
            from .batch import materialize

            return materialize(tangent, batch_trace)
        return tangent

    @property
    def perturbation(self):
        """This Dual's perturbation: pass it as ``tag=`` to put other Duals on it, or read parts with it."""
        trace = self._trace
        if not isinstance(trace, Perturbation):
            raise TypeError(f"this Dual is a value traced by a {trace.kind} transform (hd.jvp, jacfwd, ...), "
                            "not a hand-made hd.Dual; it has no user perturbation")
        return trace

    def __repr__(self):
        return f"Dual({self._primal!r}, {self.tangent!r})"


class Perturbation(ForwardTrace):
    """One infinitesimal eps (eps**2 = 0) that hand-made Duals can share.

    ``eps = hd.Perturbation()`` is inner to every perturbation and transform
    made before it. ``hd.Dual(x, v, tag=eps)`` is ``x + v eps``; Duals on one
    perturbation add their directional derivatives. ``eps.tangent(y)`` is the
    coefficient of eps in ``y`` (the derivative along the seeded directions),
    ``eps.primal(y)`` the rest; both take a pytree, read through values that
    carry perturbations inner to eps (keeping those), and give zeros/the value
    itself for values that do not carry eps. So a derivative operator that is
    right even when f ignores its argument is::

        def D(f):
            def df(x):
                eps = hd.Perturbation()
                return eps.tangent(f(hd.Dual(x, 1.0, tag=eps)))
            return df

    >>> import hodiff as hd
    >>> eps = hd.Perturbation()
    >>> x, y = hd.Dual(2.0, 1.0, tag=eps), hd.Dual(5.0, 3.0, tag=eps)
    >>> float((x * y).tangent)  # d/dt [(2 + t)(5 + 3t)] at 0 = 5 + 2 * 3
    11.0
    """

    kind = "hand-made Dual (forward-mode)"
    __slots__ = ("_batch_level",)

    def __init__(self):
        # Batched tangents live one level below their duals: that level is reserved now, the batch
        # trace made when the first batched Dual of this perturbation is.
        self._batch_level = new_level()
        super().__init__(level=new_level())

    def batch_trace_for_user(self):
        if self.batch_trace is None:
            from .batch import BatchTrace

            self.batch_trace = BatchTrace(level=self._batch_level)
        return self.batch_trace

    def tangent(self, value):
        """The coefficient of this perturbation in ``value`` (a pytree): zeros where it is absent."""
        return tree_map(lambda leaf: _part(leaf, self, True, False), value)

    def primal(self, value):
        """``value`` (a pytree) with this perturbation set to 0: the value itself where it is absent."""
        return tree_map(lambda leaf: _part(leaf, self, False, False), value)

    def __repr__(self):
        return f"<hd.Perturbation level={self.level}>"


def _part(value, perturbation, tangent, inside):
    """The primal part (tangent=False) or the coefficient of ``perturbation`` in ``value``.

    A value carrying perturbations inner to it is a Dual (or batch tracer) of those, built of the
    parts of its components; ``inside``: we are within such an inner value.
    """
    if not isinstance(value, Tracer):
        return _ops["zeros_like"](value) if tangent else value
    trace = value._trace
    if trace is perturbation:
        if not tangent:
            return value._primal
        if inside and isinstance(value._tangent, Tracer) and value._tangent._trace is trace.batch_trace:
            raise NotImplementedError(
                "reading the batched tangent of a perturbation through a value that carries an inner "
                "perturbation is not supported; read the inner perturbation's parts first")
        return value.tangent
    if trace.level < perturbation.level:  # an outer value: it cannot carry the (inner) perturbation
        return _ops["zeros_like"](value) if tangent else value
    if not trace.alive:
        raise EscapedTracerError(
            f"reading a part of a value traced by a {trace.kind} transform that has already returned "
            "(an escaped tracer)")
    if value.__class__ is Dual:
        return Dual._make(_part(value._primal, perturbation, tangent, True),
                          _part(value._tangent, perturbation, tangent, True), trace)
    from .batch import BatchTracer

    if value.__class__ is BatchTracer:  # (batched tangents of an inner Dual, or an inner vmap)
        return BatchTracer(_part(value.value, perturbation, tangent, True), trace)
    raise TypeError(
        f"Perturbation.{'tangent' if tangent else 'primal'}: the value is traced by a {trace.kind} "
        "transform running inside the perturbation; read the perturbation's part of the result "
        "outside that transform (its parts commute with differentiation)")


_tagged_perturbations = weakref.WeakValueDictionary()  # tag -> Perturbation, forgotten with its last Dual


def _user_trace(tag, values):
    """The perturbation of a hand-made Dual: a fresh one, ``tag`` itself, or the one of key ``tag``."""
    if tag is None:
        return Perturbation()  # above every level handed out so far, so above any tracer in values
    if isinstance(tag, Perturbation):
        trace = tag
    else:
        try:
            trace = _tagged_perturbations.get(tag)
        except TypeError:
            raise TypeError(f"Dual: tag must be an hd.Perturbation or hashable, got {type(tag).__name__}") from None
        if trace is None:
            trace = _tagged_perturbations[tag] = Perturbation()
    base = find_top_trace(values)
    if base is not None and base.level >= trace.level:
        raise ValueError(
            f"Dual with tag {tag!r}: the primal or tangent carries a perturbation or transform made "
            "after the tag's, which would have to sit inside it; make the tag's perturbation first, "
            "or write x + v * hd.Dual(0.0, 1.0, tag=...) (arithmetic nests them correctly)")
    return trace


# ------------------------------------------------------------- hand-made Duals returned from a transform
#
# A Dual made inside a transform's function is inner to the transform (its perturbation is newer), so
# when f returns one that depends on the transform's input, say p + t eps with p and t traced by the
# transform, the transform would see a constant. ``lift_inner_duals`` rewrites such an output, while
# the transform's trace is still alive, as attach(p, t) = p + t eps: a primitive applied to the
# transform's tracers, whose rules are linear (jvp: tp + tt eps; vjp: ct and ct eps; ...), so every
# transform differentiates it like any other op and hands back Duals of the inner perturbation.

def _embed_tangent(value, perturbation):
    """``value * eps`` (zero primal), as a Dual of ``perturbation`` (value: plain or traced below it)."""
    if not isinstance(value, Tracer) or value._trace.level < perturbation.level:
        return Dual._make(_ops["zeros_like"](value), value, perturbation)
    return _ops["multiply"](value, Dual._make(0.0, 1.0, perturbation))  # (a value inner to eps: arithmetic nests)


def _attach_impl(primal, tangent, *, perturbation):
    return Dual._make(primal, tangent, perturbation)


def _attach_jvp_tangent(tangent_in, ans, primal, tangent, *, perturbation):
    return _embed_tangent(tangent_in, perturbation)


def _attach_vjp_tangent(cotangent, ans, primal, tangent, *, perturbation):
    return _embed_tangent(cotangent, perturbation)


def _attach_batch(values, batched, *, perturbation):
    primal, tangent = values  # an unbatched one broadcasts against the batched one's leading axis
    return _ops["add"](primal, _embed_tangent(tangent, perturbation))


def _attach_taylor(ans, primals, series, *, perturbation):
    primal_series, tangent_series = series
    if tangent_series is None:
        return primal_series
    embedded = _embed_tangent(tangent_series, perturbation)
    return embedded if primal_series is None else _ops["add"](primal_series, embedded)


def _identity_rule(gradient, ans, primal, tangent, *, perturbation):
    return gradient


def _attach_primitive():
    from ..core.trace import Primitive

    return Primitive("attach_perturbation", _attach_impl, register=False,
                     jvp=(_identity_rule, _attach_jvp_tangent), vjp=(_identity_rule, _attach_vjp_tangent),
                     batch=_attach_batch, taylor=_attach_taylor)


attach_perturbation = _attach_primitive()


def lift_inner_duals(result, trace):
    """f's ``result`` for the transform of ``trace``, with the hand-made Duals made inside f re-expressed.

    Call it while ``trace`` is alive. A leaf that is a Dual of a perturbation inner to ``trace``
    and depends on the transform's input becomes ``attach_perturbation`` applied to its (lifted)
    parts: a tracer of ``trace``, so the transform differentiates it, and its outputs are Duals of
    that perturbation. A graph Variable wrapping a traced value (``hd.Variable(x)`` of the transform's
    input) becomes that value. Other leaves are returned as they are.
    """
    result_class = result.__class__
    if result_class is float or result_class is np.ndarray or (
            isinstance(result, Tracer) and result._trace is trace):
        return result  # nearly every call: nothing to lift
    def lifted(leaf):
        if leaf.__class__ is Dual:
            return _lift(leaf, trace)
        if isinstance(leaf, Tracer) and leaf.graph_variable and isinstance(leaf.value, Tracer):
            return leaf.value  # a graph Variable made inside f from a traced value: the graph sits below it
        return leaf

    return tree_map(lifted, result)


def _lift(value, trace):
    if value.__class__ is not Dual:
        return value
    perturbation = value._trace
    if perturbation.level <= trace.level or not isinstance(perturbation, Perturbation):
        return value  # outer to the transform (its tracers hold it), or the transform's own
    primal = _lift(value._primal, trace)
    tangent = value._tangent
    batched = isinstance(tangent, Tracer) and tangent._trace is perturbation.batch_trace
    if not batched:
        tangent = _lift(tangent, trace)
    if not (_inner_to(primal, trace) or _inner_to(tangent if not batched else tangent.value, trace)):
        return value  # made inside f but independent of the transform's input: a constant to it
    if batched:
        raise NotImplementedError(
            "f returned a hand-made Dual with batched tangents that depends on the transform's input; "
            "read its .tangent (or .primal) inside f, or make the Dual before calling the transform")
    return attach_perturbation(primal, tangent, perturbation=perturbation)


def _inner_to(value, trace):
    return isinstance(value, Tracer) and value._trace.level >= trace.level
