"""Rows for the elementwise primitives of hodiff.numpy (order 3).

Domains keep every point (and the finite-difference stencils around it)
away from kinks, jumps and singularities: |x| >= 0.3 for abs and sign,
fractional parts away from the jumps of floor/round/remainder, ties of
maximum/minimum at least 0.3 apart.
"""

import numpy as np

import hodiff.numpy as hnp
from hodiff.primitives.cauchy import series_exp

from . import Row, positive, uniform, unit


def _away_from_zero(*shapes, low=0.3, high=2.0):
    def args(rng):
        return tuple(rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape) for shape in shapes)

    return args


def _untied(shape):
    """(x, y) with |x - y| >= 0.3 entrywise, so maximum/minimum have no tie near the point."""

    def args(rng):
        x = rng.uniform(-2.0, 2.0, size=shape)
        gap = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.3, 1.0, size=shape)
        return x, x + gap

    return args


def _fractional(shape, integers=(-3, 3), fractions=(0.15, 0.35)):
    """Values k + f, f in ``fractions`` or 1 - f: away from integers and from half-integers."""

    def args(rng):
        whole = rng.integers(*integers, size=shape)
        fraction = rng.uniform(*fractions, size=shape)
        fraction = np.where(rng.random(size=shape) < 0.5, fraction, 1.0 - fraction)
        return (whole + fraction,)

    return args


def _remainder_args(shape):
    """(x, y) with x / y away from integers, so floor(x / y) is constant near the point."""

    def args(rng):
        y = rng.uniform(0.7, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        (quotient,) = _fractional(shape)(rng)
        return quotient * y, y

    return args


def _clip_args(shape):
    """(a, low, high) with low < high and a at least 0.2 from either bound."""

    def args(rng):
        low = rng.uniform(-1.5, -0.5, size=shape)
        high = rng.uniform(0.5, 1.5, size=shape)
        a = rng.uniform(-2.5, 2.5, size=shape)
        too_close = (np.abs(a - low) < 0.2) | (np.abs(a - high) < 0.2)
        return np.where(too_close, 0.0, a), low, high

    return args


ROWS = [
    # exponentials and logarithms
    Row("expm1", hnp.expm1, uniform((4,)), order=3),
    Row("log1p", hnp.log1p, uniform((4,), low=-0.6, high=2.0), order=3),
    Row("log2", hnp.log2, positive((4,)), order=3),
    Row("log10", hnp.log10, positive((4,)), order=3),
    Row("exp2", hnp.exp2, uniform((4,)), order=3),
    Row("logaddexp[broadcast]", hnp.logaddexp, uniform((3, 4), (4,)), order=3),
    Row("logaddexp2", hnp.logaddexp2, uniform((4,), (4,)), order=3),
    # powers
    Row("cbrt", hnp.cbrt, _away_from_zero((4,)), order=3),
    Row("square", hnp.square, uniform((4,)), order=3),
    Row("reciprocal", hnp.reciprocal, _away_from_zero((4,), low=0.5), order=3),
    Row("hypot[broadcast]", hnp.hypot, uniform((2, 3), (3,)), order=3),
    Row("float_power", hnp.float_power, positive((4,), (4,)), order=3, float32=False),
    # trigonometric and hyperbolic
    Row("tan", hnp.tan, unit((4,)), order=3),
    Row("arcsin", hnp.arcsin, unit((4,)), order=3),
    Row("arccos", hnp.arccos, unit((4,)), order=3),
    Row("arctan", hnp.arctan, uniform((4,)), order=3),
    Row("arctan2", hnp.arctan2, lambda rng: (rng.uniform(-2, 2, (4,)), rng.uniform(0.3, 2, (4,))), order=3),
    Row("arctan2[broadcast]", hnp.arctan2, lambda rng: (rng.uniform(0.3, 2, (2, 3)), rng.uniform(-2, 2, (3,))),
        order=3),
    Row("sinh", hnp.sinh, uniform((4,)), order=3),
    Row("cosh", hnp.cosh, uniform((4,)), order=3),
    Row("arcsinh", hnp.arcsinh, uniform((4,)), order=3),
    Row("arccosh", hnp.arccosh, uniform((4,), low=1.3, high=3.0), order=3),
    Row("arctanh", hnp.arctanh, unit((4,)), order=3),
    Row("sinc", hnp.sinc, uniform((4,)), order=3),
    Row("deg2rad", lambda x: hnp.sin(hnp.deg2rad(x)), uniform((4,), low=-90, high=90), order=3),
    Row("rad2deg", hnp.rad2deg, uniform((4,)), order=3),
    # selection
    Row("maximum", hnp.maximum, _untied((5,)), order=3),
    Row("minimum", hnp.minimum, _untied((5,)), order=3),
    Row("fmax", hnp.fmax, _untied((5,)), order=3),
    Row("fmin", hnp.fmin, _untied((5,)), order=3),
    Row("maximum[broadcast scalar]", lambda x: hnp.maximum(x, 0.1) * x, _away_from_zero((4,)), order=3),
    Row("clip", hnp.clip, _clip_args((6,)), order=3),
    Row("clip[method, lower only]", lambda a: a.clip(-0.5), _away_from_zero((5,), low=0.7), order=3),
    # remainders
    Row("remainder", hnp.remainder, _remainder_args((5,)), order=3),
    Row("mod[operator]", lambda x, y: x % y, _remainder_args((5,)), order=3),
    Row("fmod", hnp.fmod, _remainder_args((5,)), order=3),
    # abs and the complex parts on real input
    Row("abs", hnp.abs, _away_from_zero((5,)), order=3),
    Row("abs[operator]", lambda x: abs(x) * x, _away_from_zero((5,)), order=3),
    Row("real,imag,conj[real input]", lambda x: hnp.real(x) * 2 + hnp.imag(x) + hnp.conj(x), uniform((4,)), order=3),
    Row("astype[via complex]", lambda x: hnp.real(x.astype(np.result_type(x.dtype, np.complex64)) * (1 + 2j)),
        uniform((4,)), order=3),
    Row("astype[to int: constant]", lambda x: x * x.astype(np.int64), _fractional((4,)), order=3, float32=False),
    Row("full_like[traced fill]", lambda x, y: x * hnp.full_like(x, hnp.sum(y)), uniform((3,), (2,)), order=3),
    Row("ones_like,zeros_like", lambda x: x * hnp.ones_like(x) + hnp.zeros_like(x, dtype=x.dtype), uniform((3,)),
        order=3),
    # zero derivative: the function must still be differentiable through its neighbours
    Row("sign", lambda x: hnp.sign(x) * x ** 2, _away_from_zero((5,)), order=3),
    Row("floor,ceil,trunc,rint,round", lambda x: x * (hnp.floor(x) + hnp.ceil(x) + hnp.trunc(x) + hnp.rint(x)
                                                    + hnp.round(x, 1)), _fractional((5,)), order=3),
    Row("floor_divide[operator]", lambda x: x * (x // 0.5), _fractional((5,)), order=3),
    Row("isfinite,isnan,isinf,signbit", lambda x: hnp.where(hnp.isfinite(x) & ~hnp.isnan(x) & ~hnp.isinf(x)
                                                             & ~hnp.signbit(x), x, -x), _away_from_zero((5,)), order=3),
    Row("heaviside", lambda x: hnp.heaviside(x, 0.5) * x, _away_from_zero((5,)), order=3),
]

# the exponential's recurrence as one primitive (Taylor mode's exp, sin/cos, sinh/cosh): y_0 and w's series
SERIES_EXP_ROWS = [
    Row("series_exp", lambda y0, w: series_exp(y0, w), uniform((3,), (4, 3)), order=2),
    Row("series_exp[one entry]", lambda y0, w: series_exp(y0, w), uniform((), (6,)), order=2),
    Row("series_exp[broadcast y0]", lambda y0, w: series_exp(y0, w), uniform((3,), (3, 2, 3)), order=2),
    Row("series_exp[sin_cos]", lambda y0, w: series_exp(y0, w, kind="sin_cos"), uniform((2, 3), (4, 3)),
        order=2),
    Row("series_exp[sin_cos, one entry]", lambda y0, w: series_exp(y0, w, kind="sin_cos"), uniform((2,), (5,)),
        order=2),
    Row("series_exp[cosh_sinh, broadcast]", lambda y0, w: series_exp(y0, w, kind="cosh_sinh"),
        uniform((2, 1), (3, 2, 3)), order=2),
]
ROWS += SERIES_EXP_ROWS
