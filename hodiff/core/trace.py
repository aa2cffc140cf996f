"""Primitives, ``bind``, and the trace/tracer protocol every interpreter follows.

A *primitive* is a numpy-level function plus rule tables. Applying one goes
through ``bind``: it finds the innermost (highest-level) live trace among the
arguments and lets that trace interpret the call; a value carrying any other
trace is a constant to it. With no tracer among the arguments ``bind`` simply
calls the numpy implementation. Each transform call makes a trace with a fresh,
higher level, so nested transforms never mix their perturbations.

Rules (VJP, JVP, batch, Taylor) are written with hodiff primitives, so when an
outer transform is active the rule's own computation is traced by it: that is
how gradients become differentiable and every order of derivative works.
"""

import itertools
import weakref

import numpy as np

from .errors import EscapedTracerError, MissingRuleError, TracedConversionError
from .tree import tree_flatten, tree_unflatten

__all__ = ["Primitive", "Trace", "Tracer", "bind", "new_level", "registry", "find_top_trace"]

# Every primitive by name: the registry test walks it to find missing rules.
registry = {}
# Every primitive, users' included (hodiff.core.work counts their applications); and the hook
# core.work sets while it counts, to count primitives made inside its block too.
all_primitives = weakref.WeakSet()
_on_new_primitive = None

_levels = itertools.count(1)  # level 0 is the graph API's persistent trace


def new_level():
    """A fresh trace level, higher than every level handed out before."""
    return next(_levels)


class Primitive:
    """A differentiable operation: a numpy implementation and its rules.

    Positional arguments are the (possibly traced) arrays; keyword arguments
    are static parameters (axis, shape, ...), never differentiated.

    Rule tables, all optional (a missing one raises ``MissingRuleError`` when a
    transform needs it):

    - ``vjp[i](cotangent, ans, *args, **params)``: cotangent for argument i,
      ``None`` entry for an argument with zero derivative (a variadic
      primitive gives a function ``argnum -> rule`` instead of a tuple);
    - ``jvp[i](tangent, ans, *args, **params)``: output tangent contributed by
      argument i's tangent, ``None`` for zero;
    - ``batch(args, batched, **params) -> out``: the op on arguments whose
      ``batched[i]`` ones carry a leading batch axis; ``out`` has one too;
    - ``taylor(ans, primals, series, **params) -> out_series``: Taylor
      coefficients 1..K (a leading axis of length K) of the output, given the
      primals and each argument's series (``None`` for a constant argument).

    ``differentiable=False`` marks ops with zero derivative everywhere
    (comparisons, sign, floor, argmax ...): ``bind`` strips derivative
    tracers from their arguments, so their answers are plain values (usable
    as masks and indices), except under batching, which still maps them.

    ``broadcasts=True`` marks elementwise primitives whose arguments broadcast
    against each other: reverse mode then sums cotangents back to each
    argument's shape, and forward mode broadcasts tangents to the output's
    shape, in one place (the interpreters), so rules need not.

    Optional accelerators (speed only; tests/test_fast_paths.py checks that
    they give the very numbers and dtypes of the general path):

    - ``scalar_impl(*floats)``: the implementation when every argument is a
      Python float (forward mode: or np.float64, whose type forward mode
      restores on a unary result) and there are no parameters
      (a C function such as ``math.sin`` or ``operator.mul``); an
      ``ArithmeticError`` or ``ValueError`` from it means "use ``impl``";
    - ``fast_vjp[i]`` / ``fast_jvp[i]``: rule i for plain values only (floats,
      ints and ndarrays, no tracer anywhere), computing exactly what
      ``vjp[i]`` / ``jvp[i]`` compute then, with numpy and Python arithmetic
      instead of nested primitive calls. The interpreters use them when no
      outer transform is recording; an ``ArithmeticError`` or ``ValueError``
      falls back to the general rules;
    - ``reads``, set by ``declare_reads``: which values the vjp and jvp
      rules (general and fast) read; a reverse-mode recording stores stubs for the
      rest (``ReverseTrace(lean=True)``), so ``tanh(X @ W + b)`` keeps
      tanh's answer, not ``X @ W`` nor ``X @ W + b``. Without it a recording
      keeps every value;
    - ``inplace_vjp(g, ans, x) -> g`` (one-argument primitives with
      ``fast_vjp``): ``fast_vjp[0]``'s result written into ``g``'s buffer,
      used by the backward pass when it holds the only reference to ``g``;
    - ``accumulate_vjp(total, g, ans, x, **params) -> total`` (one-argument primitives):
      ``add(total, vjp[0](g, ans, x))`` written into ``total``, an array of the
      pass's own shaped like x's cotangent (None: none yet, return a fresh
      one), or None to decline; the backward pass uses it for plain
      cotangents (getitem: a slice's cotangent lands in its place);
    - ``joint_jvp(tangents, ans, *args, **params)``: the output tangent from
      every argument's tangent at once (``None`` for a constant argument),
      computing what the sum of the ``jvp[i]`` contributions computes. Forward
      mode uses it instead of them: for variadic linear ops (stack,
      concatenate) each ``jvp[i]`` builds a full-size output, so n traced
      arguments cost n such outputs and n - 1 additions instead of one.
    """

    def __init__(self, name, impl, *, vjp=None, jvp=None, batch=None, taylor=None, broadcasts=False,
                 differentiable=True, register=True, scalar_impl=None, fast_vjp=None, fast_jvp=None):
        self.name = name
        self.impl = impl
        self.vjp = tuple(vjp) if isinstance(vjp, (list, tuple)) else vjp
        self.jvp = tuple(jvp) if isinstance(jvp, (list, tuple)) else jvp
        self.batch = batch
        self.taylor = taylor
        self.broadcasts = broadcasts
        self.differentiable = differentiable
        self.scalar_impl = scalar_impl
        self.fast_vjp = tuple(fast_vjp) if fast_vjp is not None else None
        self.fast_jvp = tuple(fast_jvp) if fast_jvp is not None else None
        self.reads = None
        self.keywords = True  # False: no static parameters (numpy's ufunc keywords are refused on traced values)
        self._kept = {}  # (traced argnums, nargs) -> ``kept_for``'s answer
        self.inplace_vjp = None
        self.accumulate_vjp = None
        self.joint_jvp = None
        if register:  # hodiff's own primitives; users' (hd.primitive) stay out of the registry
            registry[name] = self
        all_primitives.add(self)
        if _on_new_primitive is not None:
            _on_new_primitive(self)

    def __call__(self, *args, **params):
        # bind's fast path, inlined: this is the cost of every operation.
        if len(args) == 1:
            x = args[0]
            if isinstance(x, Tracer):
                if params and not self.keywords:
                    raise _keywords_refused(self, params)
                trace = x._trace  # one argument: its trace is the top one, no search
                if trace.alive and self.differentiable:
                    return trace.process(self, args, params)
                return _bind_traced(self, args, params)
            if params:
                return self.impl(x, **params) if self.keywords else _with_ufunc_keywords(self, args, params)
            return self.impl(x)
        for arg in args:
            if isinstance(arg, Tracer):
                if params and not self.keywords:
                    raise _keywords_refused(self, params)
                return _bind_traced(self, args, params)
        if params:
            return self.impl(*args, **params) if self.keywords else _with_ufunc_keywords(self, args, params)
        return self.impl(*args)

    def __repr__(self):
        return f"<hodiff primitive {self.name}>"

    def declare_reads(self, answer, arguments=None):
        """What the rules (vjp and jvp, general and fast) read: argument i's rules read the answer if
        ``answer`` is True or a tuple holding i, and the arguments in ``arguments[i]``.

        The declaration holds for applications to ``len(arguments)`` arguments (einsum's of two operands
        says nothing of three); ``arguments=None`` (variadic primitives: concatenate, stack): no rule reads
        any argument, however many. Shapes and dtypes do not count as reads.
        tests/test_array_fast_paths.py checks each declaration by perturbing the values it says are not read.
        """
        answer = answer if isinstance(answer, bool) else tuple(answer)
        arguments = None if arguments is None else tuple(tuple(read) for read in arguments)
        self.reads = (answer, arguments)
        self._kept = {}

    def argument_reads(self, argnum, nargs):
        """The argnums that argument ``argnum``'s rules read in an application to ``nargs`` arguments;
        None where nothing is declared for it (they may read anything)."""
        if self.reads is None:
            return None
        arguments = self.reads[1]
        if arguments is None:
            return ()
        return arguments[argnum] if len(arguments) == nargs else None

    def answer_read_by(self, argnum, nargs):
        """Whether argument ``argnum``'s rules read the answer in an application to ``nargs`` arguments."""
        if self.argument_reads(argnum, nargs) is None:
            return True
        answer = self.reads[0]
        return answer if answer.__class__ is bool else argnum in answer

    def kept_for(self, argnums, nargs):
        """(keep the answer?, the argnums whose values to keep, None for all) for a recorded application to
        ``nargs`` arguments whose traced ones are ``argnums``: only their rules ever run, forward or
        backward, so a value only another argument's rule reads is not kept (k in ``h * k``, h a constant)."""
        key = (argnums, nargs)
        kept = self._kept.get(key)
        if kept is None:
            reads = [self.argument_reads(a, nargs) for a in argnums]
            kept = (True, None) if None in reads else (any(self.answer_read_by(a, nargs) for a in argnums),
                                                        frozenset(i for read in reads for i in read))
            self._kept[key] = kept
        return kept

    def vjp_rule(self, argnum):
        rules = self.vjp
        if callable(rules):  # variadic primitives (concatenate, stack) give rules per argnum
            return rules(argnum)
        if rules is None or argnum >= len(rules):
            raise MissingRuleError(self.name, "vjp", f"no reverse-mode rule for argument {argnum}")
        return rules[argnum]

    def jvp_rule(self, argnum):
        rules = self.jvp
        if callable(rules):
            return rules(argnum)
        if rules is None or argnum >= len(rules):
            raise MissingRuleError(self.name, "jvp", f"no forward-mode rule for argument {argnum}")
        return rules[argnum]


def bind(primitive, args, params):
    """Apply ``primitive``: the highest-level trace among ``args`` interprets it."""
    for arg in args:
        if isinstance(arg, Tracer):
            return _bind_traced(primitive, args, params)
    return primitive.impl(*args, **params)


def _bind_traced(primitive, args, params):
    top = None
    for arg in args:
        if isinstance(arg, Tracer):
            trace = arg._trace
            if top is None or (trace is not top and trace.level > top.level):
                top = trace
    if not primitive.differentiable and not top.maps_nondiff:
        # Strip derivative tracers; a trace that maps non-differentiable ops (batching) then processes it.
        return bind(primitive, tuple(_strip_derivatives(arg) for arg in args), params)
    if not top.alive:
        raise EscapedTracerError(
            f"'{primitive.name}' was applied to a value traced by a {top.kind} transform "
            "that has already returned (an escaped tracer). Values made inside hd.grad, "
            "hd.jvp, ... must not be kept and used after the transform returns; "
            "return them from the function instead."
        )
    return top.process(primitive, args, params)


def _strip_derivatives(x):
    while isinstance(x, Tracer) and not x._trace.maps_nondiff:
        x = x.primal
    return x


def find_top_trace(values):
    """The highest-level trace among ``values``, or None."""
    top = None
    for value in values:
        if isinstance(value, Tracer):
            trace = value._trace
            if top is None or trace.level > top.level:
                top = trace
    return top


class Trace:
    """One interpreter instance at one level; subclasses define ``process``."""

    kind = "abstract"
    maps_nondiff = False  # see Primitive(differentiable=False)
    reads_as_guards = False  # its tracers may be read as values, each read a guard (hd.record's): indices,
    # value-only functions (``read_guarded``)
    __slots__ = ("level", "alive", "__weakref__")

    def __init__(self, level=None):
        self.level = new_level() if level is None else level
        self.alive = True

    def process(self, primitive, args, params):  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__} level={self.level}>"


def _shape(x):
    if x.__class__ is float:
        return ()  # the scalar chains of nested forward mode ask this at every level
    return x.shape if hasattr(x, "shape") else np.shape(x)


class Tracer:
    """A value being traced by one trace. Subclasses store what their trace needs.

    Operators and array methods dispatch to hodiff primitives; the numpy
    namespace installs them (see ``install_array_methods``) so this core stays
    independent of it. ``__array_ufunc__`` sends numpy ufuncs called on a
    tracer to the matching hodiff primitive, and refuses the rest clearly.
    """

    __slots__ = ("_trace",)
    graph_variable = False  # hd.Variable's is True: a graph node that may hold a transform's traced value
    __array_priority__ = 1000

    # Filled in by the numpy namespace: a numpy/scipy.special function -> hodiff's, or None.
    _counterpart = staticmethod(lambda function: None)

    @property
    def primal(self):  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def shape(self):
        return _shape(self.primal)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def dtype(self):
        return np.result_type(self.primal)

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d traced value")
        return shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        # Control flow on a traced value is allowed: it reads the primal value.
        return bool(concrete_value(self))

    def __float__(self):
        raise TracedConversionError(_conversion_message("float()"))

    def __int__(self):
        raise TracedConversionError(_conversion_message("int()"))

    def __complex__(self):
        raise TracedConversionError(_conversion_message("complex()"))

    def item(self, *args):
        """Refused as float(x) is: a Python number would drop the derivative."""
        raise TracedConversionError(_conversion_message(".item()"))

    def __index__(self):
        raise TracedConversionError("a traced value cannot be used as an index or size")

    @property
    def tangent(self):
        # Dual's property; any other traced value reaching .tangent is a Dual read inside a transform above it
        raise TypeError(f"a {self._trace.kind}-traced value has no .tangent: a transform traces this value (a "
                        "Dual made outside hd.grad and read inside it, say); read the Dual's .tangent outside that "
                        "transform, or use its perturbation's eps.tangent(value)")

    def __array__(self, dtype=None, copy=None):
        if np.dtype(self.dtype).kind in "biu":  # no derivative to drop: an index or mask, most likely
            raise TracedConversionError(
                f"a {self._trace.kind}-traced {np.dtype(self.dtype)} value reached plain numpy code (as an index "
                "into a numpy array, say), which cannot take it: a value that depends on the mapped or "
                "differentiated input is no constant; gather with hnp.take_along_axis, select with hnp.where, "
                "or keep the index plain")
        raise TracedConversionError(
            f"a {self._trace.kind}-traced value reached plain numpy code, which would "
            "drop its derivative. Use the hodiff.numpy function of the same name "
            "(import hodiff.numpy as hnp), or hd.stop_gradient(x) to treat it as a constant."
        )

    # numpy's dispatch protocols (NEP 13 and NEP 18) give one rule for plain numpy and
    # scipy.special called on a traced value: hodiff's function of the same name runs
    # (np.where(x > 0, x, 0) is hnp.where(...)); a function hodiff does not differentiate is
    # refused by name. Duck-typed helpers such as np.shape keep numpy's own implementation.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        function = self._counterpart(ufunc) if method == "__call__" and not kwargs else None
        if function is None:
            suffix = "" if method == "__call__" else "." + method
            raise TracedConversionError(_not_differentiable_message(ufunc, suffix, bool(kwargs)))
        return function(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        function = self._counterpart(func)
        if function is not None:
            return function(*args, **kwargs)
        try:
            return func._implementation(*args, **kwargs)
        except TracedConversionError as error:
            raise TracedConversionError(_not_differentiable_message(func)) from error

    def __setitem__(self, index, value):
        raise TypeError(
            "traced arrays are immutable: x[i] = v would silently break the derivative. "
            "Build the array functionally: x = x.at[i].set(v) (or .add(v) for x[i] += v), hnp.where(mask, v, x), "
            "hnp.concatenate([...]) or hnp.stack([...])."
        )

    def __hash__(self):
        return id(self)


def _with_ufunc_keywords(primitive, args, params):
    """A plain call with ufunc keywords (out=, where=, dtype=, ...): numpy's ufunc of the primitive's name,
    which takes them (the implementations are fast paths that do not)."""
    ufunc = getattr(np, primitive.name, None)
    if not isinstance(ufunc, np.ufunc):
        raise _keywords_refused(primitive, params, "it is not a numpy ufunc")
    return ufunc(*args, **params)


def _keywords_refused(primitive, params, why=None):
    """The TypeError for numpy's ufunc keywords (out=, where=, dtype=, casting=, ...) on traced values, raised
    before anything is computed (an out= buffer stays untouched)."""
    names = ", ".join(f"{name}=" for name in params)
    verb = "is" if len(params) == 1 else "are"
    if why is not None:
        return TypeError(f"hodiff.numpy.{primitive.name}: {names} {verb} not supported ({why})")
    return TypeError(f"hodiff.numpy.{primitive.name}: {names} {verb} not supported on traced values (a traced "
                     "result is a new array: no out= or where=; cast with astype for a dtype); they work on plain "
                     "arrays, as numpy's")


def _not_differentiable_message(function, suffix="", keywords=False):
    from ..primitives.install import _qualified_name

    name = _qualified_name(function)
    hodiff_name = "hodiff." + name
    if keywords:
        return (f"{name}{suffix} was called on a traced value with keyword arguments hodiff does not "
                f"differentiate; call {hodiff_name} without them (write out= and where= functionally)")
    return (f"{name}{suffix} is not differentiable by hodiff and was called on a traced value; use a "
            f"differentiable function of {hodiff_name.rsplit('.', 1)[0]} (its __all__ lists them), "
            "hd.stop_gradient(x) to treat the value as a constant, or @hd.primitive with rules")


def _conversion_message(conversion):
    return (f"{conversion} of a traced value would drop its derivative; use hd.stop_gradient(x) first "
            "if that is what you mean. (numpy calls float() when a traced value is written into a numpy "
            "array, y[i] = x: build the array functionally, hnp.array([...]) or y = hnp.at(y)[i].set(x).)")


def read_guarded(tree):
    """tree (args, kwargs, ...) with its tracers read as plain values when every one belongs to a trace that
    reads values as guards (``hd.record``: a different value on replay records afresh); None when a tracer of
    another trace (a derivative, a batch) is among them, for which a value-only function must be refused."""
    leaves, structure = tree_flatten(tree)
    tracers = [leaf for leaf in leaves if isinstance(leaf, Tracer)]
    if not all(tracer._trace.reads_as_guards for tracer in tracers):
        return None
    return tree_unflatten(structure, [np.asarray(leaf) if isinstance(leaf, Tracer) else leaf for leaf in leaves])


def concrete_value(x):
    """The innermost plain value under any number of tracers."""
    while isinstance(x, Tracer):
        x = x.primal
    return x
