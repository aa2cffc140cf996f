"""The scalar fast paths give exactly the general path's numbers and types.

Primitives may carry accelerators (see ``Primitive``): ``scalar_impl`` for
Python floats and ``fast_jvp`` / ``fast_vjp`` rules for plain values. Two
levels of checks:

- rule by rule, over every registered primitive that has them: on plain
  inputs (floats, np.float64, ints, 0-d and broadcast arrays, values where
  Python arithmetic raises) the fast rule returns what the general rule
  returns, bit for bit and of the same type, or raises an error the
  interpreters fall back on;
- forward mode end to end: ``ForwardTrace.process`` (unrolled paths, plain
  primals without bind, fast rules) against a trace that always takes the
  general path (bind and the general rules), on jvps nested up to three
  deep, so hyper-duals, constants of other levels and perturbation confusion
  are covered too. The fast rules must never see a tracer;
- reverse mode end to end: ``value_and_grad`` (``ReverseTrace.process`` with
  ``scalar_impl``, the backward pass's inline fast rules for one and two
  traced arguments) against the same call with every fast path removed from
  the registry, alone and under an outer ``grad``.
"""

import itertools
import math

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.core import backends
from hodiff.core.trace import Tracer, registry
from hodiff.interpreters import forward as forward_interpreter
from hodiff.interpreters import reverse as reverse_interpreter
from hodiff.primitives.shape import getitem
from hodiff.transforms import forward as forward_transform

FAST_ERRORS = (ArithmeticError, ValueError)  # the interpreters' fallback signal

_TRANSPOSED = np.array([[0.2, -0.5, 1.5], [0.9, 0.1, -1.2]]).T  # Fortran order: layouts must follow numpy's
UNARY_INPUTS = [0.7, -1.3, 0.0, 2.5, 800.0, np.float64(0.4), np.float64(-2.0), 3,
                np.array(0.3), np.array([0.2, -0.5, 0.0, 1.5]), np.array([[0.1, 0.9]]), _TRANSPOSED]
BINARY_INPUTS = [(0.7, -1.3), (2.0, 0.0), (0.0, 0.0), (1e300, 1e300), (np.float64(0.4), 3), (2, 0.5),
                 (np.float64(1.5), np.float64(-0.25)), (np.array(0.3), 1.2), (0.6, np.array([0.2, -0.5, 1.5])),
                 (np.array([[0.1], [2.0]]), np.array([0.2, -0.5, 1.5])), (np.array([1.0, 0.0]), np.array([0.0, 0.0])),
                 (_TRANSPOSED, 0.5), (_TRANSPOSED, np.ascontiguousarray(_TRANSPOSED) + 1.0)]
INCOMING = [1.0, np.float64(-0.5), np.array(2.0), 0.0]  # tangents / cotangents of scalar answers


def _same(a, b):
    """Bit-for-bit equal and of the same type (and dtype and shape for arrays); nan equals nan."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, Tracer):
        _same(a.primal, b.primal)
        _same(a._tangent, b._tangent)
        return
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    if isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape, (a, b)
    if isinstance(a, np.ndarray):  # the layout too: a reduction downstream sums in its order
        assert a.strides == b.strides, (a.strides, b.strides)
    np.testing.assert_array_equal(a, b)


def _outcome(function, *args, **params):
    """('value', result) or ('fallback', None) when the call raises an error the interpreters catch."""
    with np.errstate(all="ignore"):
        try:
            return "value", function(*args, **params)
        except FAST_ERRORS:
            return "fallback", None


def _with_fast(attribute):
    return sorted((name for name, p in registry.items() if getattr(p, attribute) is not None))


def _inputs(primitive):
    arity = len(primitive.jvp) if isinstance(primitive.jvp, tuple) else len(primitive.fast_jvp)
    return UNARY_INPUTS if arity == 1 else BINARY_INPUTS if arity == 2 else []


def _args(inputs):
    return inputs if isinstance(inputs, tuple) else (inputs,)


def test_there_are_fast_paths_to_check():
    assert {"add", "multiply", "sin", "exp"} <= set(_with_fast("fast_jvp")) & set(_with_fast("scalar_impl"))


@pytest.mark.parametrize("name", _with_fast("scalar_impl"))
def test_scalar_impl_is_the_implementation_on_floats(name):
    primitive = registry[name]
    floats = [0.7, -1.3, 0.0, 800.0, 1e300, np.float64(0.4), np.float64(-2.0), np.float64(0.0)]
    arity = len(primitive.jvp) if isinstance(primitive.jvp, tuple) else 1
    cases = [(x,) for x in floats] if arity == 1 else [(x, y) for x in floats for y in floats]
    for args in cases:
        kind, fast = _outcome(primitive.scalar_impl, *args)
        if kind == "value":  # (an error means: use impl)
            if arity == 1 and type(args[0]) is np.float64:
                fast = np.float64(fast)  # math.* gives a float: the forward interpreter restores the type
            with np.errstate(all="ignore"):
                _same(fast, primitive.impl(*args))


@pytest.mark.parametrize(("name", "table"), [(name, table) for table in ("fast_jvp", "fast_vjp")
                                              for name in _with_fast(table)])
def test_fast_rules_are_the_general_rules_on_plain_values(name, table):
    primitive = registry[name]
    fast_rules = getattr(primitive, table)
    general = primitive.jvp_rule if table == "fast_jvp" else primitive.vjp_rule
    checked = 0
    for inputs in _inputs(primitive):
        args = _args(inputs)
        with np.errstate(all="ignore"):
            ans = primitive(*args)
        for argnum, fast_rule in enumerate(fast_rules):
            rule = general(argnum)
            if fast_rule is None:
                assert rule is None
                continue
            # A tangent has its argument's shape; a cotangent the answer's.
            incoming_shape = np.shape(args[argnum]) if table == "fast_jvp" else np.shape(ans)
            for incoming in INCOMING:
                if np.shape(incoming) != () and incoming_shape != ():
                    continue
                if incoming_shape == ():
                    incomings = [incoming]
                else:  # in C order, and in Fortran order where that differs
                    incomings = [np.full(incoming_shape, incoming), np.full(incoming_shape, incoming, order="F")]
                for incoming in incomings:
                    kind, fast = _outcome(fast_rule, incoming, ans, *args)
                    if kind == "fallback":
                        continue
                    with np.errstate(all="ignore"):
                        _same(fast, rule(incoming, ans, *args))
                    checked += 1
    assert checked > 10


@pytest.mark.parametrize("name", _with_fast("inplace_vjp"))
def test_inplace_vjp_is_the_fast_vjp_written_into_the_cotangent(name):
    primitive = registry[name]
    rng = np.random.default_rng(5)
    written = 0
    for dtype, x_order, cotangent_order in itertools.product((np.float64, np.float32), "CF", "CF"):
        x = np.asarray(rng.uniform(0.2, 2.0, (3, 5)).astype(dtype), order=x_order)
        ans = primitive(x)
        cotangent = np.asarray(rng.uniform(-1, 1, ans.shape).astype(dtype), order=cotangent_order)
        expected = primitive.fast_vjp[0](cotangent, ans, x)
        buffer = cotangent.copy(order="K")
        if not reverse_interpreter._may_overwrite(buffer, ans):
            assert (x_order, cotangent_order) == ("C", "F")  # the fresh answer is in C order: not this buffer
            continue
        result = primitive.inplace_vjp(buffer, ans, x)
        assert result is buffer
        _same(result, expected)
        written += 1
    assert written == 6


# ----------------------------------------------------------------- forward mode, end to end

class GeneralForwardTrace(forward_interpreter.ForwardTrace):
    """Forward mode without its fast paths: every op through bind and the general rules."""

    __slots__ = ()

    def process(self, primitive, args, params):
        return self._general(primitive, args, params)


@pytest.fixture
def no_tracers_in_fast_rules(monkeypatch):
    """Every fast_jvp rule asserts it gets plain values only; yields the list of rules called."""
    called = []

    def guarded(name, rule):
        def check(*args, **params):
            assert not any(isinstance(a, Tracer) for a in args), f"{name}'s fast rule got a tracer"
            called.append(name)
            return rule(*args, **params)
        return check

    for name in _with_fast("fast_jvp"):
        primitive = registry[name]
        rules = tuple(None if r is None else guarded(name, r) for r in primitive.fast_jvp)
        monkeypatch.setattr(primitive, "fast_jvp", rules)
    return called


def _run_both(monkeypatch, compute):
    """compute() with the fast forward paths and with the general one only."""
    fast = compute()
    with monkeypatch.context() as patch:
        patch.setattr(forward_transform, "ForwardTrace", GeneralForwardTrace)
        general = compute()
    return fast, general


def _nested_derivatives(f, x, depth):
    """[f(x), f'(x), ..., f^(depth)(x)] along ones, by jvp nested ``depth`` deep (each level also
    returns its primal, so every primal and tangent of every level is compared)."""
    def level(g):
        def h(x):
            direction = np.ones(np.shape(x)) if not isinstance(x, Tracer) else np.ones(x.shape)
            return hd.jvp(g, (x,), (direction,))
        return h

    g = f
    for _ in range(depth):
        g = level(g)
    return g(x)


SCALAR_FUNCTIONS = {
    "benchmark W6": lambda x: hnp.sin(x) * hnp.exp(-x * x / 2),
    "quotient": lambda x: x / (1.0 + x * x) - 2 / x,
    "log, sqrt": lambda x: hnp.log(x * x) + hnp.sqrt(x * x + 1.0),
    "tanh, cos, negative": lambda x: -hnp.tanh(hnp.cos(x) - x),
    "no fast rule": lambda x: hnp.arctan2(x, 2.0) * hnp.power(x, 3) + hnp.maximum(x, 0.5),
    "int constants": lambda x: 3 * x - 2 + x * 2,
    "x minus x": lambda x: (x - x) * hnp.exp(x),
    "constant output": lambda x: 2.5,
}
POINTS = [0.7, -1.2, np.float64(0.3), np.array(1.1), np.array([0.5, -0.8, 2.0]),
          np.array([0.5, 1.5], dtype=np.float32)]


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("point", POINTS, ids=repr)
@pytest.mark.parametrize("name", SCALAR_FUNCTIONS)
def test_forward_fast_paths_match_the_general_path(monkeypatch, no_tracers_in_fast_rules, name, point, depth):
    f = SCALAR_FUNCTIONS[name]
    fast, general = _run_both(monkeypatch, lambda: _nested_derivatives(f, point, depth))
    _same(fast, general)


@pytest.mark.parametrize("x", [0.0, 1e200, -1e200])
def test_forward_falls_back_where_python_arithmetic_raises(monkeypatch, x):
    def f(x):  # 1/0, log(0), exp overflow, x * x overflow: Python raises or gives inf where numpy warns
        return 1.0 / x + hnp.log(hnp.abs(x)) + hnp.exp(x) + x * x

    with np.errstate(all="ignore"):
        fast, general = _run_both(monkeypatch, lambda: _nested_derivatives(f, x, 2))
    _same(fast, general)


def test_forward_broadcasting_and_mixed_levels_match_the_general_path(monkeypatch, no_tracers_in_fast_rules):
    A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    v = np.array([0.1, 0.2, 0.3])

    def f(x, y):
        # x (3,) broadcast against (2, 3) constants; y scalar broadcast; an inner jvp closing over x
        inner = hd.jvp(lambda t: hnp.sin(t * x) * y, (0.4,), (1.0,))[1]
        broadcast = hnp.sum(x + A) + hnp.sum(y - A) + hnp.sum(-(A - x))  # tangents broadcast to (2, 3)
        return hnp.sum(hnp.exp(A * x) / (1.0 + y * y)) + hnp.sum(inner * A) + broadcast

    def compute():
        first = hd.jvp(f, (v, 0.6), (np.ones(3), 0.5))
        second = hd.jvp(lambda x: hd.jvp(lambda y: f(x, y), (0.6,), (1.0,))[1], (v,), (np.ones(3),))
        return first, second

    fast, general = _run_both(monkeypatch, compute)
    _same(fast, general)
    assert no_tracers_in_fast_rules  # the fast rules did run


def test_nested_scalar_derivatives_use_the_fast_rules_at_the_plain_level(no_tracers_in_fast_rules):
    value = hd.derivative(SCALAR_FUNCTIONS["benchmark W6"], order=4, mode="nested")(0.7)
    assert value == pytest.approx(8.08198990423, rel=1e-10)
    assert {"multiply", "add", "sin", "exp"} <= set(no_tracers_in_fast_rules)


def test_perturbation_confusion_on_the_fast_paths(monkeypatch):
    def compute():
        # d/dx [x * d/dy (x * y)] = 2x: the inner derivative treats the outer x as a constant
        f = lambda x: x * hd.jvp(lambda y: x * y, (1.0,), (1.0,))[1]  # noqa: E731
        g = lambda x: x * hd.jvp(lambda y: x + y, (1.0,), (1.0,))[1]  # noqa: E731
        return hd.jvp(f, (3.0,), (1.0,)), hd.jvp(g, (1.0,), (1.0,))

    fast, general = _run_both(monkeypatch, compute)
    _same(fast, general)
    (value, slope), (_, one) = fast
    assert (float(value), float(slope), float(one)) == (9.0, 6.0, 1.0)


def test_user_duals_with_int_tangents_or_tags_match_the_general_rules():
    # An int tangent is taken in the primal's precision (as jvp takes it): a float64 scalar,
    # not a fast-rule Python float, so these go through the general rules.
    _same((hd.Dual(2.0, 1) * 3).tangent, hnp.multiply(np.float64(1.0), 3))
    shared = hd.Perturbation()
    _same((hd.Dual(2.0, 1, tag=shared) * hd.Dual(0.5, 2, tag=shared)).tangent,
          hnp.add(hnp.multiply(np.float64(1.0), 0.5), hnp.multiply(2.0, np.float64(2.0))))
    # hyper-duals of two tags: d2/dxdy [sin(x y) y] = 2 y cos(x y) - x y^2 sin(x y)
    x = hd.Dual(2.0, 1.0, tag="fast-paths-inner")
    y = hd.Dual(3.0, 1.0, tag="fast-paths-outer")
    out = hnp.sin(x * y) * y
    assert out.tangent.tangent == pytest.approx(6.0 * math.cos(6.0) - 18.0 * math.sin(6.0), rel=1e-14)


# ----------------------------------------------------------------- reverse mode, end to end

def _without_fast_paths(monkeypatch):
    """Every registered primitive without its accelerators: the general path only."""
    for primitive in registry.values():
        for attribute in ("scalar_impl", "fast_vjp", "fast_jvp", "inplace_vjp", "accumulate_vjp"):
            if getattr(primitive, attribute) is not None:
                monkeypatch.setattr(primitive, attribute, None)


BINARY_FUNCTIONS = {
    "the lecture's neuron": lambda w0, x0, w1, x1, w2: hd.nn.sigmoid(w0 * x0 + w1 * x1 + w2),
    "product and quotient": lambda x, y, *rest: x * y + x / y - y / x,
    "difference, reused": lambda x, y, *rest: (x - y) * (y - x) + hnp.exp(x) * hnp.sin(y),
    "W8 step": lambda x, y, *rest: x * 1.0000001 + 1e-7 * hnp.sin(y) + x * y,
    "mixed types": lambda x, y, *rest: x * np.float64(2.0) + 3 * y - np.array(1.5) * x,
}
ARGUMENTS = [(2.0, -1.0, -3.0, -2.0, -3.0), (0.5, 0.0, 1.0, 1.0, 1.0), (0.0, 0.0, 1.0, 1.0, 1.0),
             (1e200, 1e200, 1.0, 1.0, 1.0), (np.float64(0.3), -0.7, 1.0, 2.0, 3.0)]


@pytest.mark.parametrize("arguments", ARGUMENTS, ids=repr)
@pytest.mark.parametrize("name", BINARY_FUNCTIONS)
def test_reverse_fast_paths_match_the_general_path(monkeypatch, name, arguments):
    f = BINARY_FUNCTIONS[name]
    argnums = (0, 1, 2, 3, 4)

    def compute():
        with np.errstate(all="ignore"):
            value, gradient = hd.value_and_grad(f, argnums=argnums)(*arguments)
            # Under an outer grad every inner value is traced: the general rules, recorded.
            second = hd.grad(lambda x: hd.grad(f, argnums=1)(x, *arguments[1:]))(arguments[0])
        return value, gradient, second

    fast = compute()
    with monkeypatch.context() as patch:
        _without_fast_paths(patch)
        general = compute()
    _same(fast, general)


def test_reverse_inplace_rules_reuse_only_cotangents_nothing_else_holds(monkeypatch):
    """Big arrays: the backward pass writes unary rules' results into cotangents it alone holds."""
    x = np.random.default_rng(6).uniform(0.2, 2.0, (80, 60))  # 4,800 elements: big enough

    def f(x):
        shared = hnp.sin(x)  # two consumers: its cotangent is a sum the pass allocated
        y = hnp.tanh(hnp.exp(shared) * 0.5) + 2.0 * hnp.sqrt(hd.nn.sigmoid(hnp.cos(x)) + 1.0) \
            - hnp.log(x * x + 1.0) + shared * shared
        z = y * 3.0 + hnp.tanh(y)  # one cotangent handed to both terms: tanh must not write into it
        return hnp.sum(-hnp.tanh(z) * x)

    seed = np.full((80, 60), 0.5)  # a cotangent the caller keeps: never written into
    seed_before = seed.copy()

    def compute():
        value, pullback = hd.vjp(lambda x: -hnp.tanh(hnp.exp(x) * 0.3), x)
        return hd.value_and_grad(f)(x), pullback(seed)

    calls = []
    with monkeypatch.context() as patch:
        for primitive in registry.values():
            if primitive.inplace_vjp is not None:
                def counted(g, ans, x, inplace=primitive.inplace_vjp, name=primitive.name):
                    calls.append(name)
                    return inplace(g, ans, x)
                patch.setattr(primitive, "inplace_vjp", counted)
        fast = compute()
    from hodiff.interpreters.reverse import _SOLE_OWNER_REFS

    if _SOLE_OWNER_REFS > 0:  # (off where sys.getrefcount may not count every reference)
        assert {"tanh", "exp", "sin", "negative", "sqrt", "expit", "cos", "log"} <= set(calls)
    np.testing.assert_array_equal(seed, seed_before)
    with monkeypatch.context() as patch:
        _without_fast_paths(patch)
        general = compute()
    _same(fast, general)


def test_reverse_slices_add_their_cotangents_in_place_and_match_the_general_path(monkeypatch):
    """getitem's accumulate_vjp: each slice's cotangent is added where it belongs in the total the pass owns."""
    rng = np.random.default_rng(12)
    x = rng.uniform(-1, 1, (60, 80))
    weights = rng.uniform(-1, 1, (60, 80))
    seed = rng.uniform(-1, 1, (60, 80))  # the caller's cotangent: never written into
    seed_before = seed.copy()

    def f(x):
        parts = [x[1:] * x[:-1], x[:, ::-2] ** 2, x[5], x[3, 7] * x[..., None][2:4, 2:4, 0], hnp.sin(x)[::3, 1:]]
        x32 = hnp.astype(x, np.float32)  # float32 slices of a float32 value: their own total
        return sum(hnp.sum(p) for p in parts) + hnp.sum(x32[2:] * x32[:-2]) + hnp.sum(x * weights)

    def g(x):  # its output is the caller's seed's total; slices of it then reach the same node
        y = x * 1.5
        return y, y[1:] + y[:-1]

    def compute():
        gradient = hd.grad(f)(x)
        value, pullback = hd.vjp(g, x)
        (cotangent,) = pullback((seed, seed[1:]))
        return gradient, cotangent

    calls = []
    accumulate = getitem.accumulate_vjp
    with monkeypatch.context() as patch:
        patch.setattr(getitem, "accumulate_vjp", lambda *a, **k: calls.append(1) or accumulate(*a, **k))
        fast = compute()
    assert len(calls) >= 10
    np.testing.assert_array_equal(seed, seed_before)
    with monkeypatch.context() as patch:
        _without_fast_paths(patch)
        general = compute()
    _same(fast, general)
    # and the numbers themselves, by hand
    expected = weights + np.cos(x) * (np.arange(60)[:, None] % 3 == 0) * (np.arange(80) >= 1)
    expected[1:] += x[:-1]
    expected[:-1] += x[1:]
    expected[:, ::-2] += 2 * x[:, ::-2]
    expected[5] += 1.0
    expected[3, 7] += x[2:4, 2:4].sum()
    expected[2:4, 2:4] += x[3, 7]
    x32 = x.astype(np.float32).astype(float)
    expected[2:] += x32[:-2]
    expected[:-2] += x32[2:]
    np.testing.assert_allclose(fast[0], expected, rtol=1e-6, atol=1e-6)
    expected_vjp = 1.5 * seed
    expected_vjp[1:] += 1.5 * seed[1:]
    expected_vjp[:-1] += 1.5 * seed[1:]
    np.testing.assert_allclose(fast[1], expected_vjp, rtol=1e-14, atol=1e-15)


def _layouts():
    """(name, array) pairs of one (4, 6, 5) block in several memory orders, plus broadcast and scalar operands."""
    base = np.random.default_rng(8).uniform(-1, 1, (4, 6, 5))
    yield "C", base.copy()
    yield "F", np.asfortranarray(base)
    for axes in ((1, 0, 2), (2, 0, 1), (0, 2, 1)):
        yield f"permuted {axes}", np.ascontiguousarray(base.transpose(axes)).transpose(np.argsort(axes))


def test_writes_as_fresh_is_numpys_own_layout():
    # Checked against numpy itself: whenever writing into the target is allowed, the fresh answer of the
    # same ufunc is laid out as the target, whichever operand order.
    others = list(_layouts()) + [("row", np.arange(5.0)), ("0-d", np.array(2.0)), ("float", 2.0)]
    allowed = 0
    for (target_name, target), (other_name, other) in itertools.product(_layouts(), others):
        if backends.writes_as_fresh(target, other):
            allowed += 1
            for fresh in (np.add(target, other), np.multiply(other, target)):
                assert fresh.strides == target.strides, (target_name, other_name)
        else:
            assert not target.flags.c_contiguous
    assert allowed >= 20


def _fortran_ordered_layer(a, b, bias):
    """(a @ b)^T + bias: a (80, 70) answer in Fortran order. bias's gradient sums the cotangent over axis 0,
    and numpy's sum adds up a contiguous axis in another order than a strided one: any layout a rule gets
    wrong shows in its last bits."""
    return hnp.transpose(a @ b) + bias


@pytest.mark.parametrize("case", ["tanh's rules", "a sum of cotangents"])
def test_reverse_pass_keeps_numpys_layouts(monkeypatch, case):
    # Found by the long fuzz run (seed 1840): tanh's fast rule gave its cotangent in C order and its general
    # rule (tanh_chain, what hd.record replays) in the Fortran order of tanh's answer; the backward pass's
    # in-place sums of cotangents kept the first one's order where a fresh sum is in C order.
    rng = np.random.default_rng(9)
    a, b, c = rng.uniform(-1, 1, (70, 60)), rng.uniform(-1, 1, (60, 80)), rng.uniform(-1, 1, (70, 50))
    bias = rng.uniform(-1, 1, 70)
    if case == "tanh's rules":
        def f(a, bias):
            return hnp.sum((hnp.tanh(_fortran_ordered_layer(a, b, bias)) @ c) ** 2)  # a C-ordered cotangent
    else:
        def f(a, bias):  # cotangents of t in Fortran, Fortran and then C order
            t = _fortran_ordered_layer(a, b, bias)
            return hnp.sum((t @ c) ** 2) + hnp.sum(hnp.exp(t)) + hnp.sum(hnp.sin(t))

    grad = hd.grad(f, argnums=(0, 1))
    fast = grad(a, bias)
    recorded = hd.record(grad)
    for _ in range(3):  # the recording, an interpreted replay, the compiled replay
        _same(recorded(a, bias), fast)
    with monkeypatch.context() as patch:
        _without_fast_paths(patch)
        _same(grad(a, bias), fast)


PLAIN_CALLS = [  # (name, arguments, keywords): hodiff.numpy's plain-ndarray fast paths
    ("sum", (np.arange(12.0).reshape(3, 4),), {"axis": 1, "keepdims": True}),
    ("sum", (np.arange(6, dtype=np.float32),), {}),
    ("prod", (np.linspace(0.5, 2.0, 6).reshape(2, 3),), {"axis": 0}),
    ("max", (np.array([[1.0, 3.0], [3.0, -1.0]]),), {"axis": -1}),
    ("min", (np.arange(5),), {}),
    ("amax", (np.arange(6.0).reshape(2, 3),), {"axis": (0, 1)}),
    ("amin", (np.arange(6.0).reshape(2, 3),), {"keepdims": True}),
    ("cumsum", (np.arange(6.0).reshape(2, 3),), {"axis": 1}),
    ("cumprod", (np.linspace(1.0, 2.0, 4),), {}),
    ("outer", (np.arange(3.0), np.arange(2.0)), {}),
    ("tensordot", (np.ones((2, 3, 4)), np.ones((4, 3))), {"axes": ([1, 2], [1, 0])}),
    # broadcast (stride-0) views, where numpy's kernels differ most (numpy's dot against matmul: dot and inner
    # take hodiff's own path for that reason, tests/test_differential.py)
    ("tensordot", (np.broadcast_to(np.linspace(-1.3, 2.1, 12).reshape(1, 3, 4), (2, 3, 4)),
                   np.linspace(0.7, -1.9, 12).reshape(4, 3)), {"axes": ([1, 2], [1, 0])}),
    ("sum", (np.broadcast_to(np.linspace(-1.3, 2.1, 5), (7, 5)),), {"axis": 1}),
    ("cumsum", (np.broadcast_to(np.linspace(-1.3, 2.1, 5), (7, 5)),), {"axis": 1}),
    ("zeros_like", (np.ones((2, 2), dtype=np.float32),), {}),
    ("ones_like", (np.ones(3, dtype=np.int64),), {}),
    ("broadcast_to", (np.arange(3.0), (2, 3)), {}),
    ("concatenate", ([np.ones(2), np.zeros(3)],), {}),
    ("stack", ([np.ones(2), np.zeros(2)],), {"axis": 1}),
    ("vstack", ([np.ones(2), np.zeros(2)],), {}),
    ("hstack", ((np.ones(2), np.zeros(2, dtype=np.float32)),), {}),
]


@pytest.mark.parametrize("name, args, kwargs", PLAIN_CALLS, ids=[c[0] for c in PLAIN_CALLS])
def test_plain_ndarray_calls_equal_hodiffs_own_path(name, args, kwargs):
    fast = getattr(hnp, name)
    assert fast.__wrapped__ is not fast  # the fast path exists (else this test checks nothing)
    plain, general = fast(*args, **kwargs), fast.__wrapped__(*args, **kwargs)
    assert type(plain) is type(general) and np.shape(plain) == np.shape(general)
    assert np.result_type(plain) == np.result_type(general)
    np.testing.assert_array_equal(plain, general)


def test_plain_fast_paths_leave_traced_and_failing_calls_to_hodiff():
    x = np.array([1.0, 2.0, 3.0])
    # a traced argument anywhere (not only the first) goes to hodiff's path
    np.testing.assert_allclose(hd.grad(lambda w: hnp.dot(np.ones(3), w))(x), np.ones(3))
    np.testing.assert_allclose(hd.grad(lambda w: hnp.sum(hnp.stack([x, w])))(x), np.ones(3))
    # a call numpy rejects still raises, naming the problem
    with pytest.raises(ValueError, match="dimension"):
        hnp.concatenate([np.ones((2, 2)), x])
