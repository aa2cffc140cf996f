"""Every Taylor rule of the elementwise and special primitives against the nested-forward fallback.

For each row, random input series of order 5 are pushed through the
primitive's Taylor rule (a ``TaylorTracer``) and through
``nested_forward_series`` (differentiating t -> f(x(t)) five times with
nested jvp), with every argument carrying a series and with each one held
constant in turn. A registry test makes sure no Taylor rule in those modules
goes unchecked.
"""

import dataclasses
import math
import zlib
from typing import Callable

import mpmath
import numpy as np
import pytest
import scipy.special as sp

import hodiff as hd
import hodiff.numpy as hnp
import hodiff.scipy.special as hsp
from hodiff.core.trace import Primitive
from hodiff.interpreters.taylor import TaylorTrace, TaylorTracer, nested_forward_series
from hodiff.primitives import elementwise as E
from hodiff.primitives import shape as S
from hodiff.primitives import special as P

from . import every_mode
from .tables.elementwise import SERIES_EXP_ROWS

ORDER = 5


@dataclasses.dataclass
class TaylorRow:
    name: str
    primitive: Primitive
    args: Callable  # rng -> tuple of arrays
    params: dict = dataclasses.field(default_factory=dict)
    traced: tuple = None  # indices of the arguments that may carry a series (default: all)
    rtol: float = 1e-9

    def __str__(self):
        return self.name


def _with_logsumexp(x, axis):
    return x, sp.logsumexp(x, axis=axis, keepdims=True)


def _u(*shapes, low=-2.0, high=2.0):
    return lambda rng: tuple(rng.uniform(low, high, size=s) for s in shapes)


def _pos(*shapes, low=0.3, high=2.0):
    return _u(*shapes, low=low, high=high)


def _unit(*shapes):
    return _u(*shapes, low=-0.9, high=0.9)


def _signed(*shapes, low=0.3, high=2.0):
    return lambda rng: tuple(rng.choice([-1.0, 1.0], size=s) * rng.uniform(low, high, size=s) for s in shapes)


def _complex(*shapes):
    return lambda rng: tuple(rng.standard_normal(s) + 1j * rng.standard_normal(s) for s in shapes)


def _with_erfcx(low, high):
    """(x, erfcx(x)): erfcx_derivative's arguments (its second is x's erfcx, not a free variable)."""
    def args(rng):
        x = rng.uniform(low, high, size=(3,))
        return x, sp.erfcx(x)

    return args


def _untied(shape):
    def args(rng):
        x = rng.uniform(-2, 2, size=shape)
        return x, x + rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 1.0, size=shape)

    return args


ROWS = [
    # arithmetic and the seed functions
    TaylorRow("add[broadcast]", E.add, _u((2, 3), (3,))),
    TaylorRow("subtract", E.subtract, _u((3,), (3,))),
    TaylorRow("negative", E.negative, _u((3,))),
    TaylorRow("multiply[broadcast]", E.multiply, _u((2, 3), (3,))),
    TaylorRow("true_divide", E.true_divide, lambda rng: (rng.uniform(-2, 2, 3), rng.uniform(0.5, 2, 3))),
    TaylorRow("power[const exponent]", E.power, lambda rng: (rng.uniform(0.3, 2, 3), 2.5), traced=(0,)),
    TaylorRow("power[array exponent]", E.power, _pos((3,), (3,))),
    TaylorRow("series_product", E.series_product, _u((4, 3), (4, 3))),
    TaylorRow("series_product[broadcast]", E.series_product, _u((4, 2, 3), (4, 2, 1))),
    TaylorRow("series_product[one series each]", E.series_product, _u((6,), (6,))),
    TaylorRow("series_exp", E.series_exp, _u((3,), (4, 3))),
    TaylorRow("series_exp[one entry]", E.series_exp, _u((), (6,))),
    TaylorRow("series_exp[broadcast y0]", E.series_exp, _u((3,), (4, 2, 3))),
    TaylorRow("series_exp[sin_cos]", E.series_exp, _u((2, 3), (4, 3)), params={"kind": "sin_cos"}),
    TaylorRow("series_exp[sin_cos, one entry]", E.series_exp, _u((2,), (5,)), params={"kind": "sin_cos"}),
    TaylorRow("series_exp[cosh_sinh, broadcast]", E.series_exp, _u((2, 1), (4, 2, 3)), params={"kind": "cosh_sinh"}),
    TaylorRow("exp", E.exp, _u((3,))),
    TaylorRow("log", E.log, _pos((3,))),
    TaylorRow("sin", E.sin, _u((3,))),
    TaylorRow("cos", E.cos, _u((3,))),
    TaylorRow("tanh", E.tanh, _u((3,))),
    TaylorRow("sqrt", E.sqrt, _pos((3,))),
    TaylorRow("where", E.where, lambda rng: (rng.random(3) < 0.5, rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 3)),
              traced=(1, 2)),
    # elementary functions
    TaylorRow("expm1", E.expm1, _u((3,))),
    TaylorRow("log1p", E.log1p, _u((3,), low=-0.6)),
    TaylorRow("log2", E.log2, _pos((3,))),
    TaylorRow("log10", E.log10, _pos((3,))),
    TaylorRow("exp2", E.exp2, _u((3,))),
    TaylorRow("cbrt", E.cbrt, _signed((3,))),
    TaylorRow("square", E.square, _u((3,))),
    TaylorRow("reciprocal", E.reciprocal, _signed((3,), low=0.5)),
    TaylorRow("tan", E.tan, _unit((3,))),
    TaylorRow("sinh", E.sinh, _u((3,))),
    TaylorRow("cosh", E.cosh, _u((3,))),
    TaylorRow("arcsin", E.arcsin, _unit((3,))),
    TaylorRow("arccos", E.arccos, _unit((3,))),
    TaylorRow("arctan", E.arctan, _u((3,))),
    TaylorRow("arcsinh", E.arcsinh, _u((3,))),
    TaylorRow("arccosh", E.arccosh, _u((3,), low=1.3, high=3.0)),
    TaylorRow("arctanh", E.arctanh, _unit((3,))),
    TaylorRow("arctan2[broadcast]", E.arctan2, lambda rng: (rng.uniform(-2, 2, (2, 3)), rng.uniform(-2, 2, (3,)))),
    TaylorRow("hypot[broadcast]", E.hypot, _u((2, 3), (3,))),
    TaylorRow("logaddexp[broadcast]", E.logaddexp, _u((2, 3), (3,))),
    TaylorRow("logaddexp2", E.logaddexp2, _u((3,), (3,))),
    TaylorRow("hypot_cos[broadcast]", E.hypot_cos, _u((2, 3), (3,))),
    TaylorRow("cone_root[2-norm]", E.cone_root, lambda rng: (rng.uniform(0.3, 2, 3), 0.5), traced=(0,)),
    TaylorRow("cone_root[3-norm]", E.cone_root, lambda rng: (rng.uniform(0.3, 2, 3), 1 / 3), traced=(0,)),
    TaylorRow("cone_root_slope", E.cone_root_slope, lambda rng: (rng.uniform(0.3, 2, 3), 0.25), traced=(0,)),
    TaylorRow("tanh_chain[broadcast]", E.tanh_chain, _u((2, 3), (3,))),
    TaylorRow("tanh_chain_tangent[broadcast]", E.tanh_chain_tangent, _u((2, 3), (3,), (2, 3), (2, 1))),
    TaylorRow("multiply3[broadcast]", E.multiply3, _u((2, 3), (3,), (2, 1)), params={"scale": -2.0}),
    TaylorRow("logaddexp_weight[broadcast]", E.logaddexp_weight, _u((2, 1), (2, 3), (3,))),
    TaylorRow("logaddexp2_weight", E.logaddexp2_weight, _u((3,), (3,), (3,))),
    TaylorRow("maximum", E.maximum, _untied((4,))),
    TaylorRow("minimum", E.minimum, _untied((4,))),
    TaylorRow("fmax", E.fmax, _untied((4,))),
    TaylorRow("fmin", E.fmin, _untied((4,))),
    TaylorRow("remainder", E.remainder, lambda rng: (np.array([2.3, -1.7, 0.4]), np.array([0.9, 1.3, -0.7]))),
    TaylorRow("fmod", E.fmod, lambda rng: (np.array([2.3, -1.7, 0.4]), np.array([0.9, 1.3, -0.7]))),
    # complex parts, abs, casts
    TaylorRow("real[complex]", E.real, _complex((3,))),
    TaylorRow("imag[complex]", E.imag, _complex((3,))),
    TaylorRow("conj[complex]", E.conj, _complex((3,))),
    TaylorRow("absolute", E.absolute, _signed((4,))),
    TaylorRow("absolute[complex]", E.absolute, _complex((3,))),
    TaylorRow("angle[complex]", E.angle, _complex((3,))),
    TaylorRow("angle[real]", E.angle, _signed((3,))),
    TaylorRow("sinc_derivative[k=0]", E.sinc_derivative, lambda rng: (np.array([0.0, 1e-4, -0.3]),), params={"k": 0}),
    TaylorRow("sinc_derivative[k=3]", E.sinc_derivative, lambda rng: (np.array([0.0, 2e-3, 1.7]),), params={"k": 3}),
    TaylorRow("astype[float32]", E.astype, _u((3,)), params={"dtype": np.dtype(np.float32)},
              rtol=1e-6),
    TaylorRow("astype[complex]", E.astype, _u((3,)), params={"dtype": np.dtype(np.complex128)}),
    # special functions
    TaylorRow("expit", P.expit, _u((3,), low=-4, high=4)),
    TaylorRow("expit[saturated]", P.expit, _u((3,), low=25, high=40)),
    TaylorRow("logistic_density", P.logistic_density, _u((3,), low=-4, high=4)),
    TaylorRow("logistic_density[saturated]", P.logistic_density, _u((3,), low=-40, high=-25)),
    TaylorRow("softplus", P.softplus, _u((3,), low=-4, high=4)),
    TaylorRow("log_expit", P.log_expit, _u((3,), low=-4, high=4)),
    TaylorRow("logit", P.logit, _u((3,), low=0.1, high=0.9)),
    TaylorRow("relu", P.relu, _signed((4,))),
    TaylorRow("erf", P.erf, _u((3,))),
    TaylorRow("erfc", P.erfc, _u((3,))),
    TaylorRow("erfinv", P.erfinv, _unit((3,))),
    TaylorRow("ndtri", P.ndtri, _u((3,), low=0.05, high=0.95)),
    TaylorRow("erfcx", P.erfcx, _u((3,), low=-1, high=3)),
    TaylorRow("erfcx_derivative[n=1]", P.erfcx_derivative, _with_erfcx(low=-1, high=7), params={"n": 1},
              traced=(0,)),
    TaylorRow("erfcx_derivative[n=3, both recurrences]", P.erfcx_derivative, _with_erfcx(low=0.5, high=6),
              params={"n": 3}, traced=(0,)),
    TaylorRow("log_ndtr", P.log_ndtr, _u((3,), low=-5, high=3)),
    TaylorRow("gammaln", P.gammaln, _pos((3,), low=0.5, high=4)),
    TaylorRow("digamma", P.digamma, _pos((3,), low=0.5, high=4)),
    TaylorRow("polygamma[n=2]", P.polygamma, _pos((3,), low=0.5, high=4), params={"n": 2}),
    TaylorRow("polygamma_drop[n=0]", P.polygamma_drop, _pos((3,), (3,), low=0.5, high=4), params={"n": 0}),
    TaylorRow("polygamma_drop[n=1, broadcast]", P.polygamma_drop, _pos((2, 3), (3,), low=0.5, high=4),
              params={"n": 1}),
    TaylorRow("betaln[broadcast]", P.betaln, _pos((3,), (2, 3), low=0.5, high=4)),
    TaylorRow("gamma", P.gamma, _pos((3,), low=0.5, high=3)),
    TaylorRow("beta", P.beta, _pos((3,), (3,), low=0.5, high=3)),
    TaylorRow("rgamma", P.rgamma, _pos((3,), low=0.5, high=3)),
    TaylorRow("erfcinv", P.erfcinv, _u((3,), low=0.1, high=1.9)),
    TaylorRow("gammainc", P.gammainc, _pos((3,), (3,), low=0.5, high=3), traced=(1,)),
    TaylorRow("gammaincc", P.gammaincc, _pos((3,), (3,), low=0.5, high=3), traced=(1,)),
    TaylorRow("betainc", P.betainc, lambda rng: (rng.uniform(0.5, 3, 3), rng.uniform(0.5, 3, 3),
                                                 rng.uniform(0.2, 0.8, 3)), traced=(2,)),
    TaylorRow("iv[v=0]", P.iv, _u((3,)), params={"v": 0}),
    TaylorRow("iv[v=1]", P.iv, _u((3,)), params={"v": 1}),
    TaylorRow("iv[v=2.5]", P.iv, _pos((3,)), params={"v": 2.5}),
    TaylorRow("ive[v=0]", P.ive, _signed((3,)), params={"v": 0}),
    TaylorRow("ive[v=1.5]", P.ive, _pos((3,)), params={"v": 1.5}),
    TaylorRow("ive_derivative[v=0, n=1, difference and series]", P.ive_derivative, _signed((4,), low=3, high=40),
              params={"v": 0, "n": 1}),
    TaylorRow("ive_derivative[v=1, n=3, quadrature and series]", P.ive_derivative, _signed((4,), low=3, high=40),
              params={"v": 1, "n": 3}),
    TaylorRow("jv[v=0]", P.jv, _u((3,), low=-6, high=6), params={"v": 0}),
    TaylorRow("jv[v=3]", P.jv, _u((3,), low=-6, high=6), params={"v": 3}),
    TaylorRow("jv[v=2.5]", P.jv, _pos((3,), low=0.5, high=6), params={"v": 2.5}),
    TaylorRow("yv[v=0]", P.yv, _pos((3,), low=0.5, high=6), params={"v": 0}),
    TaylorRow("yv[v=-2]", P.yv, _pos((3,), low=0.8, high=6), params={"v": -2}),
    TaylorRow("yv[v=1.5]", P.yv, _pos((3,), low=0.8, high=6), params={"v": 1.5}),
    TaylorRow("xlogy", P.xlogy, lambda rng: (rng.uniform(-2, 2, 3), rng.uniform(0.3, 2, 3))),
    TaylorRow("xlog1py", P.xlog1py, lambda rng: (rng.uniform(-2, 2, 3), rng.uniform(-0.6, 2, 3))),
    TaylorRow("logsumexp[all]", P.logsumexp_p, _u((2, 3))),
    TaylorRow("logsumexp[axis=1]", P.logsumexp_p, _u((2, 3, 4)), params={"axis": (1,), "keepdims": False}),
    TaylorRow("logsumexp[axes,keepdims]", P.logsumexp_p, _u((2, 3, 4)), params={"axis": (0, 2), "keepdims": True}),
    TaylorRow("softmax_weights[axis=1]", P.softmax_weights,
              lambda rng: _with_logsumexp(rng.uniform(-2, 2, (2, 3)), (1,)), params={"axis": (1,)}, traced=(0,)),
    TaylorRow("log_softmax[axis=0, dominant]", P.log_softmax_p,
              lambda rng: _with_logsumexp(rng.uniform(-2, 2, (3, 2)) + 40 * np.eye(3, 2), (0,)),
              params={"axis": (0,)}, traced=(0,)),
    TaylorRow("softmax_weights[all, dominant]", P.softmax_weights,
              lambda rng: _with_logsumexp(rng.uniform(-2, 2, (2, 3)) + 40 * np.eye(2, 3), None),
              params={"axis": None}, traced=(0,)),
    TaylorRow("weighted_logsumexp[all]", P.weighted_logsumexp_p, lambda rng: (rng.uniform(-2, 2, (2, 3)),
                                                                          rng.uniform(0.2, 2, (2, 3)))),
    TaylorRow("weighted_logsumexp[axis=1, a zero weight]", P.weighted_logsumexp_p,
              lambda rng: (rng.uniform(-2, 2, (2, 3)), rng.uniform(0.2, 2, (2, 3)) * [1.0, 0.0, 1.0]),
              params={"axis": (1,), "keepdims": False}),
]


def _series_configurations(row, args):
    """Which arguments carry a series: all traced ones, and (with two or more) each one alone."""
    traced = row.traced if row.traced is not None else tuple(range(len(args)))
    configurations = [traced]
    if len(traced) > 1:
        configurations += [(i,) for i in traced]
    return configurations


def _random_series(rng, arg):
    shape = (ORDER,) + np.shape(arg)
    series = rng.standard_normal(shape)
    if np.iscomplexobj(arg):
        series = series + 1j * rng.standard_normal(shape)
    return series * 0.5


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_taylor_rule_matches_nested_forward(row):
    rng = np.random.default_rng(zlib.crc32(row.name.encode()))
    args = row.args(rng)
    assert row.primitive.taylor is not None, f"{row.primitive.name} has no Taylor rule"
    for traced in _series_configurations(row, args):
        series = tuple(_random_series(rng, a) if i in traced else None for i, a in enumerate(args))
        trace = TaylorTrace(ORDER)
        inputs = [a if s is None else TaylorTracer(a, s, trace) for a, s in zip(args, series)]
        try:
            out = row.primitive(*inputs, **row.params)
        finally:
            trace.alive = False
        expected = nested_forward_series(row.primitive, tuple(args), series, row.params, ORDER)
        np.testing.assert_allclose(out.series, expected, rtol=row.rtol, atol=row.rtol / 10,
                                   err_msg=f"{row.name}, series on arguments {traced}")
        assert np.shape(out.series) == (ORDER,) + np.shape(out.primal)


def _taylor_primitives(module):
    return {value for value in vars(module).values() if isinstance(value, Primitive) and value.taylor is not None}


def test_every_taylor_rule_is_checked():
    covered = {row.primitive for row in ROWS}
    ours = (_taylor_primitives(E) | _taylor_primitives(P)) - _taylor_primitives(S)  # shape ops imported there
    missing = sorted(p.name for p in ours - covered)
    assert not missing, f"Taylor rules without a row in test_taylor_rules.py: {missing}"


# ----------------------------------------------------------------- rules inside other transforms

@pytest.mark.parametrize("function,x", [
    (hnp.arcsin, 0.3), (hnp.tan, 0.4), (hsp.erf, 0.7), (hsp.expit, -0.5), (hsp.gammaln, 1.7),
    (hsp.erfinv, 0.2), (lambda x: hnp.logaddexp(x, 0.5 * x), 0.3), (hsp.i1e, 0.8),
])
def test_taylor_rules_are_differentiable(function, x):
    """d/dx c_4(x) = 5 c_5(x): reverse mode through the Taylor rules (their primitives' VJPs)."""
    c4_gradient = hd.grad(lambda x: hd.taylor(function, x, 1.0, order=4)[4])(x)
    c5 = hd.taylor(function, x, 1.0, order=5)[5]
    np.testing.assert_allclose(c4_gradient, 5 * c5, rtol=1e-8)


@pytest.mark.parametrize("function", [hnp.arctan, hnp.cosh, hsp.log_ndtr, hsp.digamma, hsp.softplus])
def test_taylor_rules_batch(function):
    """vmap over Taylor mode (the batch rules of every primitive a Taylor rule uses)."""
    xs = np.linspace(0.2, 1.4, 4)
    batched = hd.vmap(lambda x: hd.taylor(function, x, 1.0, order=4))(xs)
    one_at_a_time = np.stack([hd.taylor(function, x, 1.0, order=4) for x in xs])
    np.testing.assert_allclose(batched, one_at_a_time, rtol=1e-12)


def test_high_order_taylor_matches_known_series():
    """arctan(t) = t - t^3/3 + t^5/5 - ...; erf(t) = 2/sqrt(pi) (t - t^3/3 + t^5/10 - ...)."""
    coefficients = hd.taylor(hnp.arctan, 0.0, 1.0, order=9)
    expected = [0, 1, 0, -1 / 3, 0, 1 / 5, 0, -1 / 7, 0, 1 / 9]
    np.testing.assert_allclose(coefficients, expected, atol=1e-14)
    erf_coefficients = hd.taylor(hsp.erf, 0.0, 1.0, order=7)
    scale = 2 / np.sqrt(np.pi)
    np.testing.assert_allclose(erf_coefficients, scale * np.array([0, 1, 0, -1 / 3, 0, 1 / 10, 0, -1 / 42]),
                               atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
def test_series_product_of_two_series_is_the_truncated_polynomial_product(dtype):
    """The 1-D path (numpy's convolution) against numpy.polynomial, and against the general path."""
    rng = np.random.default_rng(7)
    a, b = (rng.standard_normal(9).astype(dtype) for _ in range(2))
    if np.iscomplexobj(a):
        a, b = a + 1j * rng.standard_normal(9), b - 1j * rng.standard_normal(9)
    product = E.series_product(a, b)
    assert product.dtype == dtype and product.shape == (9,)
    tolerance = 10 * np.finfo(dtype).eps
    np.testing.assert_allclose(product, np.polynomial.polynomial.polymul(a, b)[:9], rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(product, E.series_product(a[:, None], b[:, None])[:, 0], rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("check, row", every_mode.cases(SERIES_EXP_ROWS))
def test_series_exp_in_every_mode(check, row):
    """vmap, Taylor mode over it (its reference recurrence), Duals and Variables (test_systematic: fwd/rev)."""
    check(row)


@pytest.mark.parametrize("kind, start", [("exp", 0.7), ("sin_cos", [0.3, -0.4]), ("cosh_sinh", [1.2, 0.5])])
def test_series_exp_of_one_entry_on_floats_is_its_numpy_recurrence(kind, start):
    """The Python-float path (one entry) against the numpy path (the same entry as a (1,) member)."""
    w = np.random.default_rng(3).standard_normal(12)
    start = np.asarray(start)
    floats = E.series_exp(start, w, kind=kind)
    arrays = E.series_exp(start[..., None], w[:, None], kind=kind)[..., 0]
    np.testing.assert_allclose(floats, arrays, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("kind, reference", [
    ("exp", lambda t: mpmath.exp(0.5 * t - t ** 3)),
    ("sin_cos", lambda t: mpmath.sin(0.3 + 0.5 * t - t ** 3)),
    ("cosh_sinh", lambda t: mpmath.sinh(0.3 + 0.5 * t - t ** 3)),
])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-5)])
def test_series_exp_against_mpmath(kind, reference, dtype, rtol):
    """Twelve coefficients of exp, sin and sinh of 0.3 + 0.5 t - t^3 against mpmath; float32 stays float32."""
    w = np.zeros(12, dtype)
    w[0], w[2] = 0.5, -1.0
    start = {"exp": 1.0, "sin_cos": [np.cos(0.3), np.sin(0.3)], "cosh_sinh": [np.cosh(0.3), np.sinh(0.3)]}[kind]
    got = E.series_exp(np.asarray(start, dtype), w, kind=kind)
    assert got.dtype == dtype
    got = got if kind == "exp" else got[:, 1]
    with mpmath.workdps(40):
        expected = np.array([float(c) for c in mpmath.taylor(reference, 0, 12)])[1:]
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


def test_series_of_a_broadcast_argument_gets_the_output_shape():
    """Core fix: (x + y) with only the lower-rank y traced gives a (K,) + output-shape series."""
    x = np.arange(6.0).reshape(2, 3)
    coefficients = hd.taylor(lambda y: (x + y) * (x + y), np.ones(3), np.ones(3), order=2)
    np.testing.assert_allclose(coefficients, np.stack([(x + 1) ** 2, 2 * (x + 1), np.ones((2, 3))]))


# Integer powers are polynomials in their base: their Taylor rule multiplies
# series (binary powering), exact at a zero base and stable to high order.
# Issue 12: the division recurrence gave nan at base 0 and lost every digit by
# order 24 for a non-linear base. Reference: mpmath at 60 digits.
INTEGER_POWERS = [
    ("sin(x)**2", lambda x: hnp.sin(x) ** 2, lambda t: mpmath.sin(t) ** 2),
    ("cos(x)**3", lambda x: hnp.cos(x) ** 3, lambda t: mpmath.cos(t) ** 3),
    ("tanh(x)**2", lambda x: hnp.tanh(x) ** 2, lambda t: mpmath.tanh(t) ** 2),
    ("(1+x**2)**2", lambda x: (1 + x ** 2) ** 2, lambda t: (1 + t ** 2) ** 2),
    ("sin(x)**7.0", lambda x: hnp.sin(x) ** 7.0, lambda t: mpmath.sin(t) ** 7),
]


@pytest.mark.parametrize("order", [16, 24, 64])
@pytest.mark.parametrize("name, f, reference", INTEGER_POWERS, ids=[p[0] for p in INTEGER_POWERS])
@pytest.mark.parametrize("x0", [0.0, 0.3])
def test_integer_powers_are_exact_to_high_order(name, f, reference, order, x0):
    with mpmath.workdps(60):
        expected = np.array([float(c) for c in mpmath.taylor(reference, mpmath.mpf(x0), order)])
    got = hd.taylor(f, x0, 1.0, order=order)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-14 * np.abs(expected).max())


# Issue 12 (fuzz seed 130308): logsumexp's Taylor rule summed the exp series of
# x - y0 and took their log, cancelling terms of size x_1^k: with one dominant
# entry of slope 215 its coefficients were -24 at order 4 in float32 and 4e-8 in
# float64, for a true ~1e-16. Reference: mpmath at 60 digits.
@pytest.mark.parametrize("dtype, atol", [(np.float64, 1e-14), (np.float32, 1e-5)])
def test_logsumexp_with_a_dominant_steep_entry_is_exact_to_high_order(dtype, atol):
    start, slope = np.array([50.0, 0.0, -1.0], dtype), np.array([215.0, 1.0, -3.0], dtype)

    def reference(t):
        return mpmath.log(sum(mpmath.exp(float(a) + float(b) * t) for a, b in zip(start, slope)))

    with mpmath.workdps(60):
        expected = np.array([float(c) for c in mpmath.taylor(reference, mpmath.mpf(0), 12)])
    got = hd.taylor(lambda t: hsp.logsumexp(start + slope * t), dtype(0.0), dtype(1.0), order=12)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol * np.abs(expected).max())


# Issue 12 (fuzz seed 201518): log_ndtr's derivatives divided by erfcx(-x / sqrt 2), which
# overflows in float32 from x ~ 13 (nan) and lost 6% at x = 10. Reference: mpmath.
# Tolerance: relative to each coefficient, or to the largest one (the left tail's recurrence
# cancels, in float32 to 1e-5 of the largest, as it did before).
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-9), (np.float32, 2e-4)])
@pytest.mark.parametrize("x0", [-30.0, -5.0, 0.0, 0.3, 5.0, 10.0, 13.0, 30.0])
def test_log_ndtr_derivatives_in_both_tails(dtype, rtol, x0):
    with mpmath.workdps(500):
        expected = np.array([float(c) for c in mpmath.taylor(lambda t: mpmath.log(mpmath.ncdf(t)), x0, 4)])
    floor = max(1e3 * np.finfo(dtype).tiny, 0.05 * rtol * np.abs(expected).max())
    taylor = hd.taylor(hsp.log_ndtr, dtype(x0), dtype(1.0), order=4)
    nested = [hd.derivative(hsp.log_ndtr, order=k, mode="nested")(dtype(x0)) / math.factorial(k) for k in (1, 2)]
    assert taylor.dtype == dtype and np.all(np.isfinite(taylor)) and np.all(np.isfinite(nested))
    np.testing.assert_allclose(taylor, expected, rtol=rtol, atol=floor)
    np.testing.assert_allclose(nested, expected[1:3], rtol=rtol, atol=floor)


@pytest.mark.parametrize("p", [2, 3, 4, 5])
def test_integer_powers_at_a_zero_base_in_an_array(p):
    x = np.array([0.0, 1.0, -2.0])
    for k in range(1, p + 2):
        expected = math.perm(p, k) * x ** (p - k) if k <= p else np.zeros(3)
        np.testing.assert_allclose(hd.derivative(lambda x: x ** p, order=k)(x), expected, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(hd.derivative(lambda x: x ** p, order=k, mode="nested")(x), expected,
                                   rtol=1e-13, atol=1e-13)


# Fractional and negative powers at a zero base (issue 12 item 1): the recurrence divides by
# the base, so main gave nan at every order. Reference: nested differentiation (the
# derivatives numpy's own formulas give): equal where it is finite, non-finite where it is not.
ZERO_BASE = [
    ("x**2.5", lambda x: x ** 2.5),
    ("2*x**3.5", lambda x: 2 * x ** 3.5),
    ("(x+x**2)**2.5", lambda x: (x + x ** 2) ** 2.5),
    ("sin(x)**1.5", lambda x: hnp.sin(x) ** 1.5),
    ("x**4.5*cos(x)", lambda x: x ** 4.5 * hnp.cos(x)),
    ("sqrt(x)", hnp.sqrt),
    ("cbrt(x)", hnp.cbrt),
    ("x**-2.0", lambda x: x ** -2.0),
    ("arcsin(1-x)", lambda x: hnp.arcsin(1 - x)),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name, f", ZERO_BASE, ids=[c[0] for c in ZERO_BASE])
def test_taylor_mode_at_a_zero_base_agrees_with_nested_mode(name, f):
    x = np.array([0.0, 0.5, 2.0])
    for k in range(1, 7):
        taylor, nested = hd.derivative(f, order=k)(x), hd.derivative(f, order=k, mode="nested")(x)
        assert np.array_equal(np.isfinite(taylor), np.isfinite(nested)), (k, taylor, nested)
        finite = np.isfinite(nested)
        np.testing.assert_allclose(taylor[finite], nested[finite], rtol=1e-12, atol=1e-12, err_msg=f"order {k}")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_constant_zero_base_to_a_varying_exponent_has_zero_derivatives(dtype):
    # b**y has k-th derivative b**y log(b)**k; at b = 0 (y > 0) it is 0 for every y, so every derivative is 0.
    # Taylor mode took exp(y log 0) and gave nan where nested mode (and autograd's rule) give 0.
    bases = np.array([0.0, 2.0, 0.5], dtype=dtype)
    for base in (bases, 0.0):
        for k in range(1, 5):
            expected = np.where(np.asarray(base) == 0, 0.0, np.asarray(base, float) ** 2 * np.log(
                np.where(np.asarray(base) == 0, 1.0, base)) ** k)
            for mode in ("taylor", "nested"):
                got = hd.derivative(lambda y, base=base: hnp.power(base, y), order=k, mode=mode)(dtype(2))
                assert got.dtype == dtype, (mode, k, got.dtype)
                np.testing.assert_allclose(got, expected, rtol=1e-12 if dtype == np.float64 else 1e-5,
                                           err_msg=f"{mode} order {k}")


@pytest.mark.parametrize("exponent", [np.complex128(1.5 + 0.5j), 1.5 + 0.5j, 2.0 + 0.0j])
def test_a_constant_complex_exponent_in_taylor_mode(exponent):
    # z**p has k-th derivative p (p - 1) ... (p - k + 1) z**(p - k) (mpmath). Taylor mode took float(p): the real
    # part's derivatives for a numpy complex p (ComplexWarning only), a TypeError for a Python complex one.
    for base in (1.1 - 0.5j, 2.0):
        for k in range(1, 5):
            expected = complex(mpmath.ff(mpmath.mpc(exponent), k) * mpmath.mpc(base) ** (mpmath.mpc(exponent) - k))
            got = complex(hd.derivative(lambda z: z ** exponent, order=k)(base))
            assert abs(got - expected) <= 1e-12 * max(1.0, abs(expected)), (base, k, got, expected)


def test_fractional_power_at_zero_is_exact_below_its_order():
    # t**2.5 along x(t) = t: coefficients 0, 0, 0 then 0**(-1/2) = inf; and x**2.5 in float32
    for dtype in (np.float64, np.float32):
        coefficients = hd.taylor(lambda x: x ** 2.5, dtype(0), dtype(1), order=4)
        assert coefficients.dtype == dtype
        assert coefficients[:3].tolist() == [0.0, 0.0, 0.0] and np.isinf(coefficients[3])
    # and under reverse mode and vmap, the second derivative of x**3.5 at 0 (0) and at 1 (8.75)
    assert float(hd.grad(hd.derivative(lambda y: y ** 3.5, order=2))(0.0)) == 0.0
    np.testing.assert_allclose(hd.vmap(hd.derivative(lambda y: y ** 3.5, order=2))(np.array([0.0, 1.0])),
                               [0.0, 8.75], rtol=1e-14)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fractional_power_of_a_base_that_starts_at_a_higher_order_is_not_a_made_up_zero():
    # d = c t^m + ... with m > 1: d**p ~ |t|^(m p) has coefficients 0 below t^(m p) and none from there on.
    # std of a constant row along v is |t| std(v): its first coefficient came out 0, where the jvp is nan.
    row, v = np.ones(3), np.array([1.0, 2.0, 4.0])
    assert np.isnan(hd.taylor(hnp.std, row, v, order=1)[1]) and np.isnan(hd.jvp(hnp.std, (row,), (v,))[1])
    cases = [(lambda t: hnp.sqrt(t ** 2), 1), (lambda t: (t ** 2) ** 2.5, 5), (lambda t: hnp.sqrt(t ** 4 + t ** 5), 2),
             (lambda t: hnp.cbrt(t ** 3), 1)]
    for f, first_undefined in cases:
        coefficients = hd.taylor(f, 0.0, 1.0, order=6)
        assert coefficients[:first_undefined].tolist() == [0.0] * first_undefined
        assert np.all(np.isnan(coefficients[first_undefined:]))
    # a base starting at t^1 keeps its one-sided series (t**2.5: 0, 0, 0, then inf)
    assert hd.taylor(lambda t: t ** 2.5, 0.0, 1.0, order=3)[:3].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_non_finite_high_coefficient_does_not_reach_the_lower_ones():
    # series_product gathered a_j (j > k) against a zero row for y_k: nan * 0 made every coefficient nan,
    # so sum(eigvalsh(A)**2) at A = I (c_2 undefined through the repeated eigenvalues) lost its c_1 = 2 tr(S).
    from hodiff.primitives.cauchy import series_product

    a, b = np.array([[1.0], [2.0], [np.nan]]), np.array([[1.0], [3.0], [4.0]])
    for got in (series_product(a, b), series_product(b, a)):
        assert got[:2].ravel().tolist() == [1.0, 5.0] and np.isnan(got[2, 0])
    s = np.array([[1.0, 0.5, -2.0], [0.5, 0.3, 1.0], [-2.0, 1.0, 2.0]])
    coefficients = hd.taylor(lambda m: hnp.sum(hnp.linalg.eigvalsh(m) ** 2), np.eye(3), s, order=2)
    np.testing.assert_allclose(coefficients[:2], [3.0, 2 * np.trace(s)], rtol=1e-14)
    assert np.isnan(coefficients[2])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_xlogy_with_x_identically_zero_is_zero_in_taylor_mode_at_y_zero():
    # xlogy(0, y) = 0 for every y, so every coefficient is 0, as grad and nested mode give; Taylor mode
    # gave 0 * log's series at y = 0, nan (the JAX-vs-hodiff audit's find). xlog1py at y = -1 the same.
    for f, y0 in ((lambda y: hsp.xlogy(0.0, y), 0.0), (lambda y: hsp.xlog1py(0.0, y), -1.0)):
        assert hd.taylor(f, y0, 1.0, order=3).tolist() == [0.0, 0.0, 0.0, 0.0]
        assert float(hd.derivative(f, order=2, mode="nested")(y0)) == 0.0
    # x moving too: x log y ~ t log t at (0, 0) has no series; that stays non-finite
    assert np.all(np.isnan(hd.taylor(lambda t: hsp.xlogy(t, t), 0.0, 1.0, order=2)[1:]))


def test_taylor_mode_over_the_derivative_of_sort_and_median():
    # tie_mean's Taylor rule read a constant tangent's series (None) and raised "cannot broadcast a non-scalar to
    # a scalar array" (the nested-transforms audit). Closed forms: sort is a permutation, so d2 sort = 0,
    # d2 (median(x) x) = 2 (d median)(d x) = 2 along ones, and d2 sort(x)^3 = 6 sort(x) P.
    x = np.array([0.4, -0.7, 1.1])
    np.testing.assert_array_equal(hd.derivative(hd.derivative(hnp.sort))(x), np.zeros(3))
    np.testing.assert_allclose(hd.derivative(hd.derivative(lambda x: hnp.median(x) * x))(x), [2.0, 2.0, 2.0])
    cubed = hd.taylor(hd.jacfwd(lambda x: hnp.sort(x) ** 3), x, np.ones(3), 2)[1]
    np.testing.assert_allclose(cubed, 3 * 2 * np.sort(x)[:, None] * np.eye(3)[np.argsort(x)], rtol=1e-14)
    stacked = np.stack([x, 0.8 * x])
    assert hd.vmap(lambda y: hd.taylor(hd.jacfwd(hnp.sort), y, np.ones(3), 1))(stacked).shape == (2, 2, 3, 3)
