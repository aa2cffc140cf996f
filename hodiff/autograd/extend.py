"""autograd.extend: define primitives and their rules with autograd's signatures, on hodiff primitives.

- ``primitive(f)`` is ``hd.primitive``: transforms see one operation and use
  the rules given here (positional arguments may be traced, keyword
  arguments are static);
- ``defvjp(fun, *makers, argnums=None)``: ``maker(ans, *args, **kwargs) -> (g -> cotangent)``,
  one per argument (``None``: zero derivative);
- ``defjvp(fun, *rules, argnums=None)``: ``rule(g, ans, *args, **kwargs) -> tangent``;
  ``None`` for zero, ``"same"`` for a function linear in that argument;
- ``defvjp_argnum(fun, maker)``: ``maker(argnum, ans, args, kwargs) -> (g -> cotangent)``;
- ``defvjp_argnums(fun, maker)``: ``maker(argnums, ans, args, kwargs) -> (g -> cotangents)``;
- ``defjvp_argnum(fun, rule)``: ``rule(argnum, g, ans, args, kwargs)``;
- ``defjvp_argnums(fun, rule)``: ``rule(argnums, gs, ans, args, kwargs)``;
- ``def_linear(fun)``: fun is linear in every argument (forward rule: fun itself).

Rules written with ``hodiff.autograd.numpy`` are differentiable in turn, so
higher orders work; an argument without a rule raises ``MissingRuleError``
naming the primitive and the mode (autograd: NotImplementedError).
"""

from itertools import count

from ..core.errors import MissingRuleError
from ..core.trace import Primitive
from ..transforms.custom import _user_rule
from ..transforms.custom import primitive as _hd_primitive
from .wrap_util import substitute

__all__ = ["primitive", "defvjp", "defjvp", "defvjp_argnum", "defvjp_argnums", "defjvp_argnum",
           "defjvp_argnums", "def_linear", "notrace_primitive", "Box"]


def primitive(f_raw):
    """``f_raw`` as a hodiff primitive: opaque to the transforms, differentiated by its defvjp/defjvp rules."""
    return _hd_primitive(f_raw)


def _require(fun, what):
    if not isinstance(fun, Primitive):
        raise TypeError(f"{what} takes a function made with @primitive, got {type(fun).__name__}")


def _table(fun, kind, rules_by_argnum):
    """A rule table argnum -> rule (None: zero) that refuses the arguments without one."""
    def rule_for(argnum):
        try:
            return rules_by_argnum[argnum]
        except KeyError:
            raise MissingRuleError(fun.name, kind,
                                   f"no {kind.upper()} rule was defined for argument {argnum}") from None

    return rule_for


def defvjp(fun, *vjpmakers, argnums=None):
    """Reverse-mode rules ``maker(ans, *args, **kwargs) -> (lambda g: cotangent)``.

    For ``argnums`` (default 0, 1, ...).
    """
    _require(fun, "defvjp")
    rules = {}
    for argnum, maker in zip(count() if argnums is None else argnums, vjpmakers):
        if maker is None:
            rules[argnum] = None
        elif callable(maker):
            rules[argnum] = _vjp_rule(fun, argnum, maker)
        else:
            raise TypeError(f"defvjp: bad VJP {maker!r} for '{fun.name}' argument {argnum}")
    fun.vjp = _table(fun, "vjp", rules)


def _vjp_rule(fun, argnum, maker):
    def rule(g, ans, *args, **kwargs):
        return _user_rule(fun, "VJP", argnum, lambda: maker(ans, *args, **kwargs)(g))

    return rule


def defjvp(fun, *jvpfuns, argnums=None):
    """Forward-mode rules ``rule(g, ans, *args, **kwargs) -> tangent`` (``"same"``: linear in the argument)."""
    _require(fun, "defjvp")
    rules = {}
    for argnum, jvpfun in zip(count() if argnums is None else argnums, jvpfuns):
        if jvpfun is None:
            rules[argnum] = None
        elif isinstance(jvpfun, str) and jvpfun == "same":
            rules[argnum] = _linear_rule(fun, argnum)
        elif callable(jvpfun):
            rules[argnum] = _jvp_rule(fun, argnum, jvpfun)
        else:
            raise TypeError(f"defjvp: bad JVP {jvpfun!r} for '{fun.name}' argument {argnum}")
    fun.jvp = _table(fun, "jvp", rules)


def _jvp_rule(fun, argnum, user_rule):
    def rule(g, ans, *args, **kwargs):
        return _user_rule(fun, "JVP", argnum, lambda: user_rule(g, ans, *args, **kwargs))

    return rule


def _linear_rule(fun, argnum):
    def rule(g, ans, *args, **kwargs):
        return fun(*substitute(args, argnum, g), **kwargs)

    return rule


def defvjp_argnum(fun, vjpmaker):
    """One maker for every argument: ``vjpmaker(argnum, ans, args, kwargs) -> (lambda g: cotangent)``."""
    _require(fun, "defvjp_argnum")

    def rule_for(argnum):
        def rule(g, ans, *args, **kwargs):
            return _user_rule(fun, "VJP", argnum, lambda: vjpmaker(argnum, ans, args, kwargs)(g))

        return rule

    fun.vjp = rule_for


def defvjp_argnums(fun, vjpmaker):
    """``vjpmaker(argnums, ans, args, kwargs) -> (lambda g: cotangents for argnums)``, asked one argnum at a time."""
    _require(fun, "defvjp_argnums")

    def rule_for(argnum):
        def rule(g, ans, *args, **kwargs):
            def call():
                (cotangent,) = tuple(vjpmaker((argnum,), ans, args, kwargs)(g))
                return cotangent

            return _user_rule(fun, "VJP", argnum, call)

        return rule

    fun.vjp = rule_for


def defjvp_argnum(fun, jvpmaker):
    """One rule for every argument: ``jvpmaker(argnum, g, ans, args, kwargs) -> tangent``."""
    _require(fun, "defjvp_argnum")

    def rule_for(argnum):
        def rule(g, ans, *args, **kwargs):
            return _user_rule(fun, "JVP", argnum, lambda: jvpmaker(argnum, g, ans, args, kwargs))

        return rule

    fun.jvp = rule_for


def defjvp_argnums(fun, jvpmaker):
    """``jvpmaker(argnums, gs, ans, args, kwargs) -> tangent``, asked one argnum at a time (contributions add)."""
    _require(fun, "defjvp_argnums")

    def rule_for(argnum):
        def rule(g, ans, *args, **kwargs):
            return _user_rule(fun, "JVP", argnum, lambda: jvpmaker((argnum,), (g,), ans, args, kwargs))

        return rule

    fun.jvp = rule_for


def def_linear(fun):
    """Declare ``fun`` linear in every argument: its forward rule for argument i is fun with g in place i."""
    _require(fun, "def_linear")
    fun.jvp = lambda argnum: _linear_rule(fun, argnum)


from .tracer import Box, notrace_primitive  # noqa: E402  (tracer imports primitive from here)
