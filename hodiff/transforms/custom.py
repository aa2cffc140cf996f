"""Custom derivative rules: ``primitive``/``defvjp``/``defjvp`` (autograd's) and
``custom_vjp``/``custom_jvp`` (JAX's).

- ``@hd.primitive`` makes a numpy-level function opaque to hodiff: transforms
  see one operation and use the rules given with ``defvjp``/``defjvp``
  (autograd's signatures). Without a rule for the mode a transform needs,
  ``MissingRuleError`` names the primitive and the mode. Batching loops over
  the batch (the function is opaque); Taylor mode nests its JVP rule.
- ``@hd.custom_jvp`` keeps a function written with hodiff ops but replaces
  its derivative by a JVP rule; reverse mode transposes that rule (it is
  linear in the tangents), as JAX does.
- ``@hd.custom_vjp`` replaces the reverse-mode derivative by ``fwd``/``bwd``
  functions; forward mode of such a function is refused, as in JAX.

Rules written with ``hodiff.numpy`` are differentiable in turn, so higher
orders work. A rule that is not (it calls plain numpy on a traced value)
fails at the order where it is first differentiated, with an error naming
the primitive and the rule.
"""

import functools

from ..core.errors import TracedConversionError
from ..core.trace import Primitive, Tracer, bind, find_top_trace
from ..interpreters.batch import BatchTrace
from ..interpreters.reverse import Node, ReverseTrace
from .batching import vmap

__all__ = ["primitive", "defvjp", "defjvp", "custom_vjp", "custom_jvp"]


def primitive(function):
    """Turn a numpy-level function into a hodiff primitive (rules: ``defvjp``, ``defjvp``).

    Positional arguments may be traced; keyword arguments are static.

    >>> import numpy as np, hodiff as hd
    >>> @hd.primitive
    ... def cube(x):
    ...     return np.asarray(x) ** 3
    >>> hd.defvjp(cube, lambda ans, x: lambda g: g * 3 * x ** 2)
    >>> float(hd.grad(cube)(2.0))
    12.0
    """
    prim = Primitive(getattr(function, "__name__", "primitive"), function, register=False)
    functools.update_wrapper(prim, function, updated=())
    return prim


def _require_primitive(prim, what):
    if not isinstance(prim, Primitive):
        raise TypeError(f"{what} takes a function made with @hd.primitive, got {type(prim).__name__}")


def defvjp(prim, *vjp_makers):
    """Attach reverse-mode rules: ``maker_i(ans, *args, **kwargs) -> (lambda g: cotangent_i)``.

    One maker per positional argument, ``None`` for an argument with zero derivative.
    """
    _require_primitive(prim, "defvjp")

    def adapt(maker, argnum):
        if maker is None:
            return None

        def rule(g, ans, *args, **kwargs):
            return _user_rule(prim, "VJP", argnum, lambda: maker(ans, *args, **kwargs)(g))

        return rule

    prim.vjp = tuple(adapt(maker, i) for i, maker in enumerate(vjp_makers))


def defjvp(prim, *jvp_rules):
    """Attach forward-mode rules: ``rule_i(tangent_i, ans, *args, **kwargs) -> output tangent``."""
    _require_primitive(prim, "defjvp")

    def adapt(user_rule, argnum):
        if user_rule is None:
            return None

        def rule(t, ans, *args, **kwargs):
            return _user_rule(prim, "JVP", argnum, lambda: user_rule(t, ans, *args, **kwargs))

        return rule

    prim.jvp = tuple(adapt(user_rule, i) for i, user_rule in enumerate(jvp_rules))


def _user_rule(prim, kind, argnum, call):
    try:
        return call()
    except TracedConversionError as error:
        raise TracedConversionError(
            f"the {kind} rule of primitive '{prim.name}' (argument {argnum}) is not differentiable: it "
            f"applied plain numpy to a traced value, which happens when a derivative of the rule itself "
            f"is needed (a higher order, or a transform over the rule). Write the rule with hodiff.numpy "
            f"operations. ({error})"
        ) from None


# ----------------------------------------------------------------- JAX-style decorators

class custom_jvp:
    """A function written with hodiff ops whose derivative is given by a JVP rule (JAX's custom_jvp).

    ``f.defjvp(rule)`` with ``rule(primals, tangents) -> (primal_out, tangent_out)``;
    it may be used as a decorator. The output is one array.

    >>> import hodiff as hd, hodiff.numpy as hnp
    >>> @hd.custom_jvp
    ... def log1pexp(x):
    ...     return hnp.log(1.0 + hnp.exp(x))
    >>> @log1pexp.defjvp
    ... def _(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return log1pexp(x), t * (1.0 - 1.0 / (1.0 + hnp.exp(x)))
    >>> round(float(hd.grad(log1pexp)(3.0)), 6)  # sigmoid(3)
    0.952574
    """

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.jvp_rule = None
        name = getattr(fun, "__name__", "custom_jvp")
        self.primitive = Primitive(name, self._evaluate, register=False)
        self.primitive.jvp = self._jvp_for
        self.primitive.vjp = self._vjp_for
        self.primitive.batch = self._batch

    def defjvp(self, jvp_rule):
        self.jvp_rule = jvp_rule
        return jvp_rule

    def __call__(self, *args):
        if find_top_trace(args) is None:
            return self.fun(*args)
        if self.jvp_rule is None:
            raise TypeError(f"custom_jvp function '{self.primitive.name}' has no rule yet: call .defjvp(rule)")
        return bind(self.primitive, args, {})

    def _evaluate(self, *args):
        return self.fun(*args)

    def _tangent_along(self, argnum, tangent, args):
        from ..primitives.shape import zeros_like

        tangents = tuple(tangent if i == argnum else zeros_like(a) for i, a in enumerate(args))
        return self.jvp_rule(tuple(args), tangents)[1]

    def _jvp_for(self, argnum):
        return lambda t, ans, *args: self._tangent_along(argnum, t, args)

    def _vjp_for(self, argnum):
        # The JVP rule is linear in the tangent: its transpose is the VJP (reverse mode over it).
        from ..primitives.shape import zeros_like
        from .reverse import vjp

        def rule(g, ans, *args):
            _, pullback = vjp(lambda t: self._tangent_along(argnum, t, args), zeros_like(args[argnum]))
            return pullback(g)[0]

        return rule

    def _batch(self, values, batched):
        # The batched function keeps the rule, batched too: running vmap(self.fun) on values that an outer
        # transform traces would differentiate the body instead of the rule (vmap inside jvp/grad).
        in_axes = tuple(0 if b else None for b in batched)
        batched_function = custom_jvp(vmap(self.fun, in_axes=in_axes))
        count = len(values)
        batched_rule = vmap(lambda *both: self.jvp_rule(both[:count], both[count:]), in_axes=in_axes + in_axes)
        batched_function.defjvp(lambda primals, tangents: batched_rule(*primals, *tangents))
        return batched_function(*values)


class custom_vjp:
    """A function whose reverse-mode derivative is given by ``fwd``/``bwd`` (JAX's custom_vjp).

    ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (out, residuals)``, ``bwd(residuals, g) ->``
    a tuple with one cotangent per argument. The output is one array. Forward
    mode of a custom_vjp function is refused (as in JAX): use custom_jvp.

    >>> import hodiff as hd, hodiff.numpy as hnp
    >>> @hd.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (hnp.clip(g, -1.0, 1.0),))
    >>> float(hd.grad(lambda x: 5.0 * clip_gradient(x))(2.0))
    1.0
    """

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.fwd = self.bwd = None
        name = getattr(fun, "__name__", "custom_vjp")
        self.primitive = Primitive(name, self._evaluate, register=False)
        self.primitive.vjp = self._vjp_for
        self.primitive.batch = self._batch

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd

    def _evaluate(self, *args, **_residual_params):
        return self.fun(*args)

    def __call__(self, *args):
        top = find_top_trace(args)
        if top is None:
            return self.fun(*args)
        if self.fwd is None:
            raise TypeError(f"custom_vjp function '{self.primitive.name}' has no rule yet: call .defvjp(fwd, bwd)")
        if isinstance(top, ReverseTrace):
            return self._record(top, args)
        if isinstance(top, BatchTrace):
            return bind(self.primitive, args, {})  # _batch: the rule is kept for transforms below the batch
        raise TypeError(
            f"can't apply forward-mode differentiation ({top.kind}) to the custom_vjp function "
            f"'{self.primitive.name}' (as in JAX); use hd.custom_jvp, or reverse mode (hd.hessian(..., mode='rev-rev'))"
        )

    def _batch(self, values, batched):
        # fwd and bwd batched with the function: vmap(self.fun) alone would make a transform below the batch
        # (grad of a vmap) differentiate the body. An unbatched argument's cotangent sums over the members.
        from ..primitives.shape import sum as _sum

        in_axes = tuple(0 if b else None for b in batched)
        batched_function = custom_vjp(vmap(self.fun, in_axes=in_axes))

        def bwd(residuals, g):
            cotangents = vmap(lambda r, g: tuple(self.bwd(r, g)))(residuals, g)
            return tuple(c if b or c is None else _sum(c, axis=0) for c, b in zip(cotangents, batched))

        batched_function.defvjp(vmap(self.fwd, in_axes=in_axes), bwd)
        return batched_function(*values)

    def _record(self, trace, args):
        values, parents, argnums = [], [], []
        for i, arg in enumerate(args):
            if isinstance(arg, Tracer) and arg._trace is trace:
                parents.append(arg.node)
                argnums.append(i)
                arg = arg.value
            values.append(arg)
        out, residuals = self.fwd(*values)
        params = {"residuals": residuals, "cache": {}}
        node = Node(self.primitive, tuple(values), params, out, tuple(parents), tuple(argnums))
        return trace.make_tracer(out, trace.add_node(node))

    def _vjp_for(self, argnum):
        def rule(g, ans, *args, residuals, cache):
            # bwd gives every argument's cotangent at once: compute it once per incoming g.
            if cache.get("g") is not g:
                cotangents = self.bwd(residuals, g)
                if not isinstance(cotangents, (tuple, list)) or len(cotangents) != len(args):
                    raise TypeError(
                        f"custom_vjp '{self.primitive.name}': bwd must return a tuple with one cotangent "
                        f"per argument ({len(args)}), got {type(cotangents).__name__}")
                cache["g"], cache["cotangents"] = g, cotangents
            return cache["cotangents"][argnum]

        return rule
