"""Taylor mode: every Taylor rule against nested forward mode on random input series, closed forms to
order 10 (Hermite functions, binomial series), the transforms' conventions (taylor, jet, derivative), and
the rule report."""

import math

import numpy as np
import pytest
from numpy.polynomial import hermite_e

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.core import trace as core_trace
from hodiff.core.trace import Primitive, registry
from hodiff.primitives import shape as S

ORDER = 5  # nested forward mode costs 2^k: order 5 keeps the reference cheap


def path(x0, coefficients):
    """t -> x0 + sum_j coefficients[j-1] t^j, written with hodiff ops so nested jvp can differentiate it."""
    def at(t):
        value = x0
        for j, c in enumerate(coefficients, start=1):
            value = value + c * t ** j
        return value
    return at


def reference_series(f, primals, coefficient_lists, order):
    """Taylor coefficients 1..order of t -> f(x_i(t)) by nested forward mode (derivative(mode="nested"))."""
    paths = [path(x0, cs) for x0, cs in zip(primals, coefficient_lists)]
    g = lambda t: f(*[p(t) for p in paths])
    return [np.asarray(hd.derivative(g, order=k, mode="nested")(0.0)) / math.factorial(k)
            for k in range(1, order + 1)]


def taylor_mode_series(f, primals, coefficient_lists, order):
    """The same coefficients from one Taylor-mode pass (through jet, which takes derivatives)."""
    series = tuple([c * math.factorial(j) for j, c in enumerate(cs, start=1)] for cs in coefficient_lists)
    _, terms = hd.jet(f, tuple(primals), series)
    return [np.asarray(terms[k - 1]) / math.factorial(k) for k in range(1, order + 1)]


rng = np.random.default_rng(7)
POSITIVE = np.array([0.7, 1.3, 2.1])
ANY = np.array([-0.8, 0.2, 1.1])
MATRIX = np.array([[0.3, -0.5, 0.9], [1.2, 0.4, -0.1]])

# One row per primitive with a Taylor rule: (name, f, primals). Input series are random, so every
# input coefficient (not just the first) goes through the rule.
RULES = [
    ("exp", hnp.exp, (ANY,)),
    ("log", hnp.log, (POSITIVE,)),
    ("sin", hnp.sin, (ANY,)),
    ("cos", hnp.cos, (ANY,)),
    ("tanh", hnp.tanh, (ANY,)),
    ("sqrt", hnp.sqrt, (POSITIVE,)),
    ("negative", hnp.negative, (ANY,)),
    ("power, constant 2.5", lambda x: x ** 2.5, (POSITIVE,)),
    ("power, constant -1.5", lambda x: x ** -1.5, (POSITIVE,)),
    ("power, constant 3", lambda x: x ** 3.0, (ANY,)),
    ("power, both vary", hnp.power, (POSITIVE, ANY)),
    ("add", hnp.add, (ANY, POSITIVE)),
    ("subtract", hnp.subtract, (ANY, POSITIVE)),
    ("multiply", hnp.multiply, (ANY, POSITIVE)),
    ("multiply, broadcasting", hnp.multiply, (MATRIX, ANY)),
    ("multiply, scalar by array", hnp.multiply, (np.array(0.6), ANY)),
    ("true_divide", hnp.true_divide, (ANY, POSITIVE)),
    ("true_divide, broadcasting", hnp.true_divide, (np.array(0.9), POSITIVE)),
    ("true_divide, constant numerator", lambda y: 2.0 / y, (POSITIVE,)),
    ("true_divide, constant denominator", lambda x: x / POSITIVE, (ANY,)),
    ("where", lambda x, y: hnp.where(np.array([True, False, True]), x, y), (ANY, POSITIVE)),
    ("reshape", lambda x: hnp.reshape(x, (3, 2)), (MATRIX,)),
    ("transpose", hnp.transpose, (MATRIX,)),
    ("sum", lambda x: hnp.sum(x, axis=1), (MATRIX,)),
    ("getitem", lambda x: x[1, ::-1], (MATRIX,)),
    ("index_add", lambda x: S.index_add(x, index=np.array([0, 2, 0]), shape=(4,)), (ANY,)),
    ("concatenate", lambda x, y: hnp.concatenate([x, y]), (ANY, POSITIVE)),
    ("stack", lambda x, y: hnp.stack([x, y], axis=1), (ANY, POSITIVE)),
    ("concatenate with a constant", lambda x: hnp.concatenate([np.ones(2), x, np.zeros(1)]), (ANY,)),
    ("stack with a constant", lambda x: hnp.stack([np.ones(3), x]), (ANY,)),
    ("broadcast_to", lambda x: hnp.broadcast_to(x, (2, 3)), (ANY,)),
    ("tensordot (nested-forward fallback)", lambda a, b: hnp.tensordot(a, b, axes=1), (MATRIX, ANY)),
]


@pytest.mark.parametrize("name, f, primals", RULES, ids=[row[0] for row in RULES])
def test_taylor_rule_matches_nested_forward_mode(name, f, primals):
    coefficient_lists = [[0.5 * rng.standard_normal(np.shape(x)) for _ in range(ORDER)] for x in primals]
    expected = reference_series(f, primals, coefficient_lists, ORDER)
    actual = taylor_mode_series(f, primals, coefficient_lists, ORDER)
    for k, (a, e) in enumerate(zip(actual, expected), start=1):
        np.testing.assert_allclose(a, e, rtol=1e-9, atol=1e-11, err_msg=f"{name}: coefficient {k}")


# ------------------------------------------------------------------ closed forms to order 10

def test_hermite_function_derivatives_to_order_10():
    x = np.array([-1.7, -0.3, 0.0, 0.8, 2.2])
    gaussian = lambda x: hnp.exp(-x * x / 2.0)
    for n in range(11):
        expected = (-1) ** n * hermite_e.hermeval(x, [0] * n + [1]) * np.exp(-x * x / 2)
        np.testing.assert_allclose(hd.derivative(gaussian, order=n)(x), expected, rtol=1e-10, atol=1e-10,
                                   err_msg=f"order {n}")
        if n <= ORDER:
            np.testing.assert_allclose(hd.derivative(gaussian, order=n, mode="nested")(x), expected,
                                       rtol=1e-10, atol=1e-10)


def test_sin_times_gaussian_to_order_10():
    # Leibniz: g^(n) = sum_k C(n, k) sin(x + k pi/2) (-1)^(n-k) He_(n-k)(x) exp(-x^2/2).
    g = lambda x: hnp.sin(x) * hnp.exp(-x * x / 2)
    x = 0.7
    reference = [0.245682975835, -1.59949411364, 0.430250247209, 8.08198990423, -9.72383304247, -54.3821798567,
                 132.406792226, 441.848777437]
    for n in range(1, 11):
        closed = sum(math.comb(n, k) * np.sin(x + k * np.pi / 2) * (-1) ** (n - k)
                     * hermite_e.hermeval(x, [0] * (n - k) + [1]) * np.exp(-x * x / 2) for k in range(n + 1))
        value = float(hd.derivative(g, order=n)(x))
        np.testing.assert_allclose(value, closed, rtol=1e-10)
        if n <= len(reference):
            np.testing.assert_allclose(value, reference[n - 1], rtol=1e-10)
        if n <= ORDER:
            np.testing.assert_allclose(float(hd.derivative(g, order=n, mode="nested")(x)), value, rtol=1e-12)


@pytest.mark.parametrize("f, coefficient", [
    (hnp.exp, lambda j: 1 / math.factorial(j)),
    (lambda t: hnp.log(1.0 + t), lambda j: 0.0 if j == 0 else (-1) ** (j + 1) / j),
    (lambda t: 1.0 / (1.0 - t), lambda j: 1.0),
    (lambda t: hnp.sqrt(1.0 + t), lambda j: math.prod(0.5 - i for i in range(j)) / math.factorial(j)),
    (lambda t: (1.0 + t) ** -2.5, lambda j: math.prod(-2.5 - i for i in range(j)) / math.factorial(j)),
    (lambda t: hnp.power(2.0, t), lambda j: math.log(2.0) ** j / math.factorial(j)),
    (hnp.sin, lambda j: 0.0 if j % 2 == 0 else (-1) ** (j // 2) / math.factorial(j)),
    (hnp.cos, lambda j: 0.0 if j % 2 else (-1) ** (j // 2) / math.factorial(j)),
    (hnp.tanh, lambda j: {1: 1.0, 3: -1 / 3, 5: 2 / 15, 7: -17 / 315, 9: 62 / 2835}.get(j, 0.0)),
], ids=["exp", "log1p", "geometric", "sqrt1p", "power", "exponential 2^t", "sin", "cos", "tanh"])
def test_taylor_coefficients_at_zero_match_known_series(f, coefficient):
    coefficients = hd.taylor(f, 0.0, 1.0, order=10)
    assert np.shape(coefficients) == (11,)
    np.testing.assert_allclose(coefficients, [coefficient(j) for j in range(11)], rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ the transforms' conventions

def test_taylor_along_a_direction_and_pytrees():
    x, v = np.array([0.2, -0.4]), np.array([1.0, 3.0])
    f = lambda x: hnp.exp(x[0] + x[1])          # f(x + t v) = exp(-0.2 + 4 t)
    c = hd.taylor(f, x, v, order=4)
    np.testing.assert_allclose(c, [np.exp(-0.2) * 4.0 ** j / math.factorial(j) for j in range(5)])
    out = hd.taylor(lambda p: {"prod": p["a"] * p["b"], "a": p["a"]}, {"a": 2.0, "b": np.array([1.0, 2.0])},
                    {"a": 1.0, "b": np.array([0.0, 1.0])}, order=3)
    np.testing.assert_allclose(out["prod"], [[2.0, 4.0], [1.0, 4.0], [0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(out["a"], [2.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(hd.taylor(hnp.sin, 0.5, 1.0, order=0), [np.sin(0.5)])
    const = hd.taylor(lambda x: np.ones(2), 0.5, 1.0, order=2)
    np.testing.assert_allclose(const, [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])


def test_taylor_rejects_bad_input():
    with pytest.raises(ValueError, match="direction of shape"):
        hd.taylor(hnp.sin, np.ones(2), np.ones(3), order=2)
    with pytest.raises(ValueError, match="order"):
        hd.taylor(hnp.sin, 1.0, 1.0, order=-1)
    with pytest.raises(TypeError, match="argument 0"):
        hd.taylor(hnp.sin, np.array([1, 2]), np.array([1, 1]), order=2)


def test_jet_follows_jax_conventions():
    x = 0.3
    out, terms = hd.jet(hnp.sin, (x,), ([1.0, 0.0, 0.0, 0.0],))
    np.testing.assert_allclose(out, np.sin(x))
    np.testing.assert_allclose(terms, [np.cos(x), -np.sin(x), -np.cos(x), np.sin(x)])   # derivatives, not /j!
    # A curve with curvature: x(t) = x + a t + b t^2 / 2 (derivative terms a, b).
    a, b = 0.7, -1.3
    _, (d1, d2) = hd.jet(hnp.exp, (x,), ([a, b],))
    np.testing.assert_allclose([d1, d2], [np.exp(x) * a, np.exp(x) * (a * a + b)])
    # Several primals, one of them with an array of terms; pytree output.
    f = lambda u, w: {"p": u * w, "s": u + w}
    out, terms = hd.jet(f, (np.array([1.0, 2.0]), 3.0), ([np.array([1.0, 0.0]), np.array([0.0, 1.0])],
                                                        np.array([2.0, 0.0])))
    np.testing.assert_allclose(out["p"], [3.0, 6.0])
    np.testing.assert_allclose(terms["p"][0], [1.0 * 3.0 + 1.0 * 2.0, 0.0 + 2.0 * 2.0])
    np.testing.assert_allclose(terms["p"][1], [0.0 + 2 * 1.0 * 2.0, 3.0 + 0.0])
    np.testing.assert_allclose(terms["s"][0], [3.0, 2.0])


def test_jet_rejects_bad_input():
    with pytest.raises(ValueError, match="same number of terms"):
        hd.jet(hnp.multiply, (1.0, 2.0), ([1.0], [1.0, 0.0]))
    with pytest.raises(ValueError, match="2 primals but 1 series"):
        hd.jet(hnp.multiply, (1.0, 2.0), ([1.0],))
    with pytest.raises(ValueError, match="series term of shape"):
        hd.jet(hnp.sin, (np.ones(2),), ([np.ones(3)],))
    with pytest.raises(TypeError, match="one array per argument"):
        hd.jet(hnp.sin, ((1.0, 2.0),), ([1.0],))


def test_derivative_is_elementwise_and_nests_with_other_transforms():
    x = np.linspace(-1.0, 1.0, 7)
    np.testing.assert_allclose(hd.derivative(hnp.sin, order=3)(x), -np.cos(x))
    np.testing.assert_allclose(hd.derivative(hnp.sin, order=0)(x), np.sin(x))
    # Taylor rules are written with hodiff primitives, so Taylor mode is itself differentiable.
    g = lambda x: hnp.tanh(x) * hnp.exp(x / 3.0)
    np.testing.assert_allclose(hd.grad(hd.derivative(g, order=3))(0.4), hd.derivative(g, order=4)(0.4), rtol=1e-12)
    np.testing.assert_allclose(hd.derivative(hd.derivative(g, order=2), order=2)(0.4),
                               hd.derivative(g, order=4)(0.4), rtol=1e-12)
    np.testing.assert_allclose(hd.jacobian(hd.derivative(g, order=2))(x), np.diag(hd.derivative(g, order=3)(x)),
                               rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="mode"):
        hd.derivative(g, order=2, mode="symbolic")
    with pytest.raises(TypeError, match="argument 0"):
        hd.derivative(g, order=2)(np.array([1, 2]))


def test_taylor_mode_cost_grows_like_a_polynomial_not_2_to_the_k():
    """Count primitive applications (not time): a Python loop over coefficient pairs or nested
    forward mode would show here as quadratic or exponential growth."""
    g = lambda x: hnp.sin(x) * hnp.exp(-x * x / 2)
    counts = {}
    original = core_trace.bind

    def counting(primitive, args, params):
        counts[order] = counts.get(order, 0) + 1
        return original(primitive, args, params)

    core_trace.bind = counting
    try:
        for order in (2, 4, 8, 16):
            hd.derivative(g, order=order)(0.7)
    finally:
        core_trace.bind = original
    per_order = [(counts[b] - counts[a]) / (b - a) for a, b in ((2, 4), (4, 8), (8, 16))]
    assert max(per_order) <= 1.5 * min(per_order), counts   # a constant number of primitives per order


# ------------------------------------------------------------------ the rule report

def test_taylor_rule_report_lists_primitives_without_a_rule():
    report = hd.taylor_rule_report()
    assert set(report) == set(registry)
    for name, status in report.items():
        primitive = registry[name]
        expected = ("not differentiable" if not primitive.differentiable
                    else "rule" if primitive.taylor is not None else "nested-forward fallback")
        assert status == expected, name
    lacking = sorted(name for name, status in report.items() if status == "nested-forward fallback")
    print("primitives without a Taylor rule (nested-forward fallback):", ", ".join(lacking) or "none")
    for name in ("exp", "log", "sin", "cos", "tanh", "sqrt", "multiply", "true_divide", "power", "add"):
        assert report[name] == "rule"


def test_primitive_without_a_taylor_rule_falls_back_exactly():
    cube = Primitive("test_cube_without_taylor_rule", lambda x: x ** 3,
                     vjp=(lambda g, ans, x: g * 3.0 * x * x,), jvp=(lambda t, ans, x: t * 3.0 * x * x,))
    try:
        assert hd.taylor_rule_report()["test_cube_without_taylor_rule"] == "nested-forward fallback"
        coefficients = hd.taylor(lambda x: cube(x), 2.0, 1.0, order=4)   # (2 + t)^3
        np.testing.assert_allclose(coefficients, [8.0, 12.0, 6.0, 1.0, 0.0])
    finally:
        registry.pop("test_cube_without_taylor_rule", None)
