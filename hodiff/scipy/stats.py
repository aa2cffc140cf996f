"""hodiff.scipy.stats: scipy.stats distributions whose densities and CDFs are differentiable.

Each distribution is an object with scipy's method names and signatures, and
every method is a composition of hodiff primitives (hodiff.numpy,
hodiff.scipy.special, hodiff.scipy.linalg), so it has derivatives of every
order in every argument, in forward and reverse mode:

| distribution | methods |
| --- | --- |
| ``norm`` | logpdf, pdf, cdf, logcdf, sf, logsf, ppf, isf  (x, loc=0, scale=1) |
| ``t`` | logpdf, pdf, cdf, logcdf, sf, logsf  (x, df, loc=0, scale=1) |
| ``gamma`` | logpdf, pdf, cdf, logcdf, sf, logsf  (x, a, loc=0, scale=1) |
| ``chi2`` | logpdf, pdf, cdf, logcdf, sf, logsf  (x, df, loc=0, scale=1) |
| ``beta`` | logpdf, pdf, cdf, logcdf, sf, logsf  (x, a, b, loc=0, scale=1) |
| ``poisson`` | logpmf, pmf, cdf, logcdf, sf, logsf  (k, mu, loc=0) |
| ``dirichlet`` | logpdf, pdf  (x, alpha) |
| ``multivariate_normal`` | logpdf, pdf  (x, mean=None, cov=1, allow_singular=False), entropy  (mean=None, cov=1) |

Arguments broadcast against each other as in numpy. As in scipy, values
outside the support give logpdf = -inf (pdf = 0), with zero derivative, and
invalid parameters (scale <= 0, a <= 0, df <= 0, mu < 0) give nan.

The CDFs of t, gamma, beta and poisson need the regularized incomplete gamma
and beta functions. They are written here with hodiff ops (a power series and
a continued fraction for the incomplete gamma function, the continued fraction
of Numerical Recipes' ``betacf`` for the incomplete beta function, evaluated
bottom-up to a depth chosen from the arguments' magnitudes and measured to
reach full precision), so their derivatives in the shape parameters come out
exactly like those in x. Accuracy against scipy, relative: ~1e-13 for shape
parameters from 0.1 to 100, ~1e-12 below 0.1 (the upper tail of the incomplete
gamma function is then 1 minus a number near 1) and at 1e3, ~1e-10 at 1e4 (the
exponent a log x - x - log Gamma(a) loses digits as it grows).

>>> import hodiff as hd, hodiff.scipy.stats as hst
>>> round(float(hd.grad(hst.norm.cdf)(0.0)), 6)            # the pdf at 0: 1/sqrt(2 pi)
0.398942
>>> round(float(hd.grad(hst.gamma.cdf, argnums=1)(2.0, 3.0)), 6)   # d/da of P(a, x) at a=3, x=2
-0.231849
"""

import functools
import math

import numpy as np

from .. import numpy as hnp
from ..core import backends
from ..core.errors import BackendError
from ..core.trace import Tracer
from ..interpreters.batch import BatchTracer
from ..primitives import special as _special_primitives
from ..primitives.rules import dtype_of, shape_of
from . import linalg as _linalg
from . import special as _special

__all__ = ["norm", "t", "gamma", "chi2", "beta", "poisson", "dirichlet", "multivariate_normal"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


# ----------------------------------------------------------------- helpers (hodiff ops only)

def _concrete(x):
    """The plain numbers behind a possibly traced value (a batch tracer gives all its members)."""
    while isinstance(x, Tracer):
        x = x.value if isinstance(x, BatchTracer) else x.primal
    return np.asarray(x, dtype=float)


def _largest(values, mask=None, default=1.0):
    """The largest finite |value| (where ``mask``), from the plain numbers behind traced values."""
    plain = _masked(values, mask)
    return float(plain.max()) if plain.size else default


def _smallest(values, mask=None, default=1.0):
    plain = _masked(values, mask)
    return float(plain.min()) if plain.size else default


def _masked(values, mask):
    """The finite |values| where ``mask`` holds (both broadcast), as a flat numpy array."""
    plain = np.abs(_concrete(values))
    if mask is not None:
        plain, mask = np.broadcast_arrays(plain, _concrete(mask).astype(bool))
        plain = plain[mask]
    return plain[np.isfinite(plain)]


# Numbers of terms, measured to reach full double precision (the terms needed grow like the
# square root of the shape parameters; the gamma continued fraction also slows down near x = 1).
# Past _CAP terms a series would be cut short and its value wrong (gamma.cdf at a = 1e6 was 0.498977
# for 0.500332 with 3000 terms), so it is refused instead.
_CAP = 12000


def _terms(needed, what, size):
    if needed > _CAP:
        raise ValueError(f"hodiff.scipy.stats: the {what} for a shape parameter of {size:.3g} needs {needed} terms "
                         f"for double precision, more than the {_CAP} hodiff evaluates; its value would be wrong")
    return needed


def _series_terms(a_max):
    return _terms(int(20 + 9 * math.sqrt(a_max)), "incomplete gamma series", a_max)


def _gamma_fraction_terms(a_max, x_min):
    return _terms(int(20 + 80 / math.sqrt(max(x_min, 1.0)) + 3 * math.sqrt(a_max)),
                  "incomplete gamma continued fraction", a_max)


def _beta_fraction_terms(ab_max):
    return _terms(int(20 + 4 * math.sqrt(ab_max)), "incomplete beta continued fraction", ab_max)


def _and(p, q):
    """Elementwise p and q for boolean masks (plain, or batched under vmap)."""
    if not isinstance(p, Tracer) and not isinstance(q, Tracer):
        return np.logical_and(p, q)
    return hnp.where(p, q, False)


def _or(p, q):
    if not isinstance(p, Tracer) and not isinstance(q, Tracer):
        return np.logical_or(p, q)
    return hnp.where(p, True, q)


def _nan_unless(valid, value):
    """value where ``valid`` (a plain boolean array), nan elsewhere (scipy's answer to bad parameters)."""
    if np.all(_concrete(valid)):
        return value
    return hnp.where(valid, value, np.nan)


def _is_python_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _log(x):
    """log x; a Python number stays a Python number, so it does not promote float32 arrays."""
    if _is_python_number(x):
        return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)
    return hnp.log(x)


def _arrays_dtype(values):
    """The dtype numpy gives values' arrays (traced values, lists) with Python numbers beside them, which are weak:
    float32 arrays stay float32. None where there is no array (None and bools do not count)."""
    arrays = [v for v in values if not _is_python_number(v) and v is not None and not isinstance(v, bool)]
    if not arrays:
        return None
    return np.result_type(*[np.asarray(v).dtype if isinstance(v, (list, tuple)) else dtype_of(v) for v in arrays],
                          0.0)


def _numbers_like_the_arrays(values):
    """values with their Python numbers as arrays of _arrays_dtype(values); unchanged if there is no array."""
    dtype = _arrays_dtype(values)
    if dtype is None:
        return list(values)
    return [np.asarray(v, dtype=dtype) if _is_python_number(v) else v for v in values]


def _keep_weak(function):
    """function with numpy's promotion of Python numbers: all Python numbers give a Python float;
    mixed with arrays, the Python numbers take the arrays' dtype (hodiff.scipy.special's functions
    would otherwise promote float32 arrays to float64)."""
    def weak(*args):
        if all(_is_python_number(a) for a in args):
            return float(function(*args))
        return function(*_numbers_like_the_arrays(args))

    return weak


_gammaln = _keep_weak(_special.gammaln)
_betaln = _keep_weak(_special.betaln)
_gamma_log_density = _keep_weak(_special_primitives._gamma_log_density)
_beta_log_density = _keep_weak(_special_primitives._beta_log_density)
_LOG_GAMMA_HALF = 0.5 * math.log(math.pi)
_xlogy = _keep_weak(_special.xlogy)
_xlog1py = _keep_weak(_special.xlog1py)


def _broadcast(*values):
    """The values broadcast to one shape; Python numbers become arrays of the others' dtype
    (as numpy's promotion treats them: float32 arrays stay float32)."""
    arrays = [v for v in values if not _is_python_number(v)]
    shape = np.broadcast_shapes(*[shape_of(v) for v in arrays]) if arrays else ()
    dtype = _arrays_dtype(values)
    dtype = np.dtype(float) if dtype is None else dtype
    return [np.full(shape, v, dtype=dtype) if _is_python_number(v)
            else (v if shape_of(v) == shape else hnp.broadcast_to(v, shape)) for v in values]


def _standardize(x, loc, scale):
    return hnp.true_divide(hnp.subtract(x, loc), scale)


def _refuse_differentiated_series_on_dask(name, *values):
    """Refuse, by name, the incomplete gamma and beta series differentiated on Dask arrays.

    Their loops of hodiff ops become, under a transform, Dask graphs many thousands of
    tasks deep: t.cdf's HVP took 148 s to build, and gamma.cdf's gradient overflowed
    Python's recursion limit when computed. A refusal beats both; their plain values on
    Dask (no transform) still run.
    """
    if not any(isinstance(v, Tracer) for v in values):
        return
    foreign = backends.first_foreign(values)
    if foreign is not None and backends.backend_name(foreign) == "dask":
        raise BackendError(name, "dask", "its series (the t, gamma, chi2, beta and poisson cdf, sf, logcdf "
                           "and logsf) differentiated on Dask would be a graph thousands of tasks deep; "
                           "compute the inputs into numpy arrays first")


def gammainc_pair(a, x, log=False):
    """(P, Q): the regularized lower and upper incomplete gamma functions P(a, x) and 1 - P(a, x).

    Written with hodiff ops, so differentiable in a and in x to any order. For x < a + 1 the
    power series P = x^a e^-x / Gamma(a+1) * sum_n x^n / ((a+1)...(a+n)); otherwise the
    continued fraction Q = x^a e^-x / Gamma(a) / (x + 1 - a - 1(1-a)/(x + 3 - a - 2(2-a)/...)),
    each on the side where it converges fast, and the other as 1 minus it. x <= 0 gives (0, 1)
    (the gamma distribution's CDF below its support; scipy.special.gammainc gives nan for x < 0),
    x = inf gives (1, 0).
    Each branch is fed only arguments in its own range (the other entries get a harmless
    stand-in), so the unused branch contributes no inf or nan to derivatives. ``log=True`` gives
    (log P, log Q), the small side in log space (no underflow: its derivatives stay finite far in
    the tails, where P or Q is below the smallest double), the other as log1p(-exp(.)).

    >>> import numpy as np, scipy.special
    >>> P, Q = gammainc_pair(np.array([0.5, 3.0, 30.0]), np.array([2.0, 1.0, 35.0]))
    >>> bool(np.allclose(P, scipy.special.gammainc([0.5, 3.0, 30.0], [2.0, 1.0, 35.0]), rtol=1e-13))
    True
    """
    _refuse_differentiated_series_on_dask("gammainc_pair", a, x)
    a, x = _broadcast(a, x)
    positive = hnp.greater(x, 0)
    infinite = hnp.isinf(x)
    use_series = hnp.less(x, hnp.add(a, 1.0))
    in_series = _and(use_series, positive)
    in_fraction = _and(np.logical_not(_concrete(use_series)), np.logical_not(_concrete(infinite)))
    # Series branch, on its own inputs.
    a_s = hnp.where(in_series, a, 1.0)
    x_s = hnp.where(in_series, x, 0.5)
    term = total = hnp.ones_like(x_s)
    for n in range(1, _series_terms(_largest(a, in_series)) + 1):
        term = term * x_s / (a_s + n)
        total = total + term
    # log(x^a e^-x / Gamma(a + 1)) through the log density, which does not cancel its a log a terms
    log_front_s = _gamma_log_density(a_s, x_s) + hnp.log(x_s) - hnp.log(a_s)
    # Continued-fraction branch, on its own inputs (x = inf has Q = 0 and is set below).
    a_c = hnp.where(use_series, 1.0, a)
    x_c = hnp.where(_or(use_series, infinite), 2.0, x)
    tail = hnp.zeros_like(x_c)
    for n in range(_gamma_fraction_terms(_largest(a, in_fraction), _smallest(x, in_fraction)), 0, -1):
        tail = (n * (n - a_c)) / (x_c + (2 * n + 1) - a_c - tail)
    log_front_c = _gamma_log_density(a_c, x_c) + hnp.log(x_c)
    denominator = x_c + 1.0 - a_c - tail
    if log:
        log_P_series = log_front_s + hnp.log(total)
        log_Q_fraction = hnp.where(infinite, -np.inf, log_front_c - hnp.log(denominator))
        log_P = hnp.where(use_series, log_P_series, _log1m_exp(log_Q_fraction))
        log_Q = hnp.where(use_series, _log1m_exp(log_P_series), log_Q_fraction)
        return hnp.where(positive, log_P, -np.inf), hnp.where(positive, log_Q, 0.0)
    P_series = hnp.exp(log_front_s) * total
    Q_fraction = hnp.where(infinite, 0.0, hnp.exp(log_front_c) / denominator)
    P = hnp.where(use_series, P_series, 1.0 - Q_fraction)
    Q = hnp.where(use_series, 1.0 - P_series, Q_fraction)
    return hnp.where(positive, P, 0.0), hnp.where(positive, Q, 1.0)


def _log1m_exp(log_p):
    """log(1 - p) from log p: as accurate as 1 - p, the complement the linear pair takes too."""
    return hnp.log1p(-hnp.exp(log_p))


def betainc_pair(a, b, x, y=None, log=False):
    """(I, J): the regularized incomplete beta function I_x(a, b) and 1 - I_x(a, b).

    ``y`` is 1 - x, passed separately when the caller has it more accurately than
    by subtraction (the beta distribution's upper end). Continued fraction (Numerical
    Recipes' betacf) evaluated bottom-up, on x < (a+1)/(a+b+2) directly and
    otherwise through I_x(a, b) = 1 - I_{1-x}(b, a). x <= 0 gives (0, 1), x >= 1 (1, 0).
    Differentiable in a, b and x to any order. ``log=True`` gives (log I, log J), the small side in
    log space (as gammainc_pair's).

    >>> import numpy as np, scipy.special
    >>> I, J = betainc_pair(2.0, 3.0, np.array([0.1, 0.5, 0.9]))
    >>> bool(np.allclose(I, scipy.special.betainc(2.0, 3.0, [0.1, 0.5, 0.9]), rtol=1e-13))
    True
    """
    if y is None:
        y = 1.0 - x
    a, b, x, y = _broadcast(a, b, x, y)
    swap = hnp.greater(x, (a + 1.0) / (a + b + 2.0))
    aa, bb = hnp.where(swap, b, a), hnp.where(swap, a, b)
    xx, yy = hnp.where(swap, y, x), hnp.where(swap, x, y)
    edge = hnp.less_equal(xx, 0.0)  # I_0 = 0 on the side evaluated
    stand_in = 0.5 * (aa + 1.0) / (aa + bb + 2.0)
    xx = hnp.where(edge, stand_in, xx)
    yy = hnp.where(edge, 1.0 - stand_in, yy)
    tail = _beta_fraction(aa, bb, xx, _beta_fraction_terms(max(_largest(a), _largest(b))))
    # log(x^a y^b / (a B(a, b))) through the log density, which does not cancel its (a + b) terms
    log_front = _beta_log_density(aa, bb, xx) + hnp.log(xx) + hnp.log(yy) - hnp.log(aa)
    if log:  # the small side in log space, as gammainc_pair's
        log_small = hnp.where(edge, -np.inf, log_front + hnp.log(tail))
        log_large = _log1m_exp(log_small)
        return hnp.where(swap, log_large, log_small), hnp.where(swap, log_small, log_large)
    small = hnp.where(edge, 0.0, hnp.exp(log_front) * tail)
    return hnp.where(swap, 1.0 - small, small), hnp.where(swap, small, 1.0 - small)


def _beta_fraction(a, b, x, depth):
    """1/(1 + d1/(1 + d2/(1 + ...))), the continued fraction of I_x(a, b) (Numerical Recipes' betacf),
    so that I_x(a, b) = x^a (1-x)^b / (a B(a, b)) times it; evaluated bottom-up, ``depth`` pairs."""
    _refuse_differentiated_series_on_dask("betainc_pair", a, b, x)
    tail = hnp.zeros_like(x)
    for j in range(2 * depth, 0, -1):
        m = j // 2
        if j % 2:  # d_{2m+1}
            d = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1.0))
        else:  # d_{2m}
            d = m * (b - m) * x / ((a + 2 * m - 1.0) * (a + 2 * m))
        tail = d / (1.0 + tail)
    return 1.0 / (1.0 + tail)


def _numbers_take_the_arrays_dtype(method):
    """method with numpy's promotion of Python numbers among its arguments: beside arrays (or traced values)
    they take those arguments' dtype, so a float32 parameter with x = 0.3 and loc = 0.0 gives float32 values
    and derivatives of every order (the methods' hnp ops on Python numbers alone would give strong float64)."""
    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        values = _numbers_like_the_arrays(list(args) + list(kwargs.values()))
        return method(self, *values[:len(args)], **dict(zip(kwargs, values[len(args):])))

    return wrapped


class _Distribution:
    """A namespace of functions under scipy.stats names (the object itself holds no state)."""

    name = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for attribute, value in list(vars(cls).items()):
            if callable(value) and not attribute.startswith("_"):
                setattr(cls, attribute, _numbers_take_the_arrays_dtype(value))

    def __repr__(self):
        return f"<hodiff.scipy.stats.{self.name}>"


# ----------------------------------------------------------------- normal

class _Normal(_Distribution):
    """The normal distribution N(loc, scale^2) (scipy.stats.norm)."""

    name = "norm"

    def logpdf(self, x, loc=0.0, scale=1.0):
        """log of exp(-z^2/2) / (sqrt(2 pi) scale), z = (x - loc) / scale.

        >>> import hodiff.scipy.stats as hst
        >>> round(float(hst.norm.logpdf(1.0, 0.0, 2.0)), 6)
        -1.737086
        """
        z = _standardize(x, loc, scale)
        return _nan_unless(hnp.greater(scale, 0), -0.5 * z * z - _LOG_SQRT_2PI - _log(scale))

    def pdf(self, x, loc=0.0, scale=1.0):
        return hnp.exp(self.logpdf(x, loc, scale))

    def cdf(self, x, loc=0.0, scale=1.0):
        """P(X <= x) = ndtr((x - loc) / scale)."""
        return _nan_unless(hnp.greater(scale, 0), _special.ndtr(_standardize(x, loc, scale)))

    def logcdf(self, x, loc=0.0, scale=1.0):
        """log P(X <= x), accurate far into the lower tail (log_ndtr)."""
        return _nan_unless(hnp.greater(scale, 0), _special.log_ndtr(_standardize(x, loc, scale)))

    def sf(self, x, loc=0.0, scale=1.0):
        """P(X > x) = ndtr(-(x - loc) / scale)."""
        return _nan_unless(hnp.greater(scale, 0), _special.ndtr(-_standardize(x, loc, scale)))

    def logsf(self, x, loc=0.0, scale=1.0):
        return _nan_unless(hnp.greater(scale, 0), _special.log_ndtr(-_standardize(x, loc, scale)))

    def ppf(self, q, loc=0.0, scale=1.0):
        """The quantile: loc + scale * ndtri(q) for q in [0, 1]."""
        return _nan_unless(hnp.greater(scale, 0), loc + scale * _special.ndtri(q))

    def isf(self, q, loc=0.0, scale=1.0):
        """The inverse survival function: loc - scale * ndtri(q)."""
        return _nan_unless(hnp.greater(scale, 0), loc - scale * _special.ndtri(q))


# ----------------------------------------------------------------- Student's t

class _StudentT(_Distribution):
    """Student's t distribution with ``df`` degrees of freedom (scipy.stats.t)."""

    name = "t"

    def logpdf(self, x, df, loc=0.0, scale=1.0):
        """log Gamma((df+1)/2) - log Gamma(df/2) - log(sqrt(df pi) scale) - (df+1)/2 log(1 + z^2/df), the first
        two as log Gamma(1/2) - betaln(1/2, df/2).

        >>> import hodiff.scipy.stats as hst
        >>> round(float(hst.t.logpdf(0.5, 3.0)), 6)
        -1.160974
        """
        z = _standardize(x, loc, scale)
        half = 0.5 * (df + 1.0)
        # log Gamma((df+1)/2) - log Gamma(df/2) as log Gamma(1/2) - betaln(1/2, df/2): the difference of two
        # gammalns (and of two digammas in its derivative) cancelled at large df (d/d(df) 0.18 off at 1e7)
        value = (_LOG_GAMMA_HALF - _betaln(0.5, 0.5 * df) - 0.5 * _log(df * math.pi)
                 - _log(scale) - half * hnp.log1p(z * z / df))
        return _nan_unless(_and(hnp.greater(scale, 0), hnp.greater(df, 0)), value)

    def pdf(self, x, df, loc=0.0, scale=1.0):
        return hnp.exp(self.logpdf(x, df, loc, scale))

    def _cdf_sf(self, x, df, loc, scale, log=False):
        z = _standardize(x, loc, scale)
        infinite = hnp.isinf(z)
        z, df = _broadcast(hnp.where(infinite, 0.0, z), df)
        # With w = z^2/(df+z^2): P(|T| <= |z|) = I_w(1/2, df/2) and P(|T| > |z|) = I_{1-w}(df/2, 1/2).
        # Near the centre (w < 3/(5+df)) the first continued fraction converges; it is written with
        # z itself, z / sqrt(df+z^2) for sqrt(w), so it is smooth through z = 0. In the tails, the second.
        # Also central where that loses less: the tail fraction's terms tend to -1 as df grows, its
        # relative error ~ eps / w, while 0.5 - half_signed loses ~ eps / (2 tail), the tail being about
        # ndtr(-|z|) or heavier (the centre's fraction itself is well conditioned for |z| < 5). Derivatives
        # in df are O(1/df^2) made of O(1/df) terms, so they magnify that error by df: d/d(df) of
        # t.cdf(-2, 1e7) was 8e-4 off through the tail fraction, 1e-8 through the centre's.
        w = z * z / (df + z * z)
        centre_loses_less = _and(hnp.less(z * z, 25.0), hnp.less(0.5 * w, _special.ndtr(-hnp.abs(z))))
        central = _or(hnp.less(w, 3.0 / (5.0 + df)), centre_loses_less)
        depth = _beta_fraction_terms(max(0.5, 0.5 * _largest(df)))
        log_beta = _betaln(0.5, 0.5 * df)
        zc = hnp.where(central, z, 0.0)
        sc = df + zc * zc
        half_signed = (zc / hnp.sqrt(sc) * hnp.exp(-0.5 * df * hnp.log1p(zc * zc / df) - log_beta)
                       * _beta_fraction(0.5, 0.5 * df, zc * zc / sc, depth))
        zt = hnp.where(central, hnp.sqrt(99.0 * df), z)  # stand-in: w = 0.99, deep in the tail branch
        st = df + zt * zt
        # log P(|T| > |z|) / 2: in log space, so a tail far below the smallest double keeps its derivatives
        log_half_tail = (hnp.log(hnp.abs(zt)) - 0.5 * hnp.log(st) - 0.5 * df * hnp.log1p(zt * zt / df) - log_beta
                         - hnp.log(df) + hnp.log(_beta_fraction(0.5 * df, 0.5, df / st, depth)))
        negative = hnp.less(z, 0)
        above = hnp.greater(x, loc)
        valid = _and(hnp.greater(scale, 0), hnp.greater(df, 0))
        if log:
            log_near = _log1m_exp(log_half_tail)
            log_cdf = hnp.where(central, hnp.log(0.5 + half_signed), hnp.where(negative, log_half_tail, log_near))
            log_sf = hnp.where(central, hnp.log(0.5 - half_signed), hnp.where(negative, log_near, log_half_tail))
            zero = hnp.zeros_like(log_cdf)  # (Python numbers in where would make float64)
            log_cdf = hnp.where(infinite, hnp.where(above, zero, zero - np.inf), log_cdf)
            log_sf = hnp.where(infinite, hnp.where(above, zero - np.inf, zero), log_sf)
            return _nan_unless(valid, log_cdf), _nan_unless(valid, log_sf)
        half_tail = hnp.exp(log_half_tail)
        cdf = hnp.where(central, 0.5 + half_signed, hnp.where(negative, half_tail, 1.0 - half_tail))
        sf = hnp.where(central, 0.5 - half_signed, hnp.where(negative, 1.0 - half_tail, half_tail))
        cdf = hnp.where(infinite, hnp.where(above, hnp.ones_like(cdf), hnp.zeros_like(cdf)), cdf)
        sf = hnp.where(infinite, hnp.where(above, hnp.zeros_like(sf), hnp.ones_like(sf)), sf)
        return _nan_unless(valid, cdf), _nan_unless(valid, sf)

    def cdf(self, x, df, loc=0.0, scale=1.0):
        """P(T <= x), through the incomplete beta function (accurate in both tails).

        >>> import hodiff.scipy.stats as hst
        >>> round(float(hst.t.cdf(-2.0, 4.0)), 8)
        0.05805826
        """
        return self._cdf_sf(x, df, loc, scale)[0]

    def logcdf(self, x, df, loc=0.0, scale=1.0):
        return self._cdf_sf(x, df, loc, scale, log=True)[0]

    def sf(self, x, df, loc=0.0, scale=1.0):
        return self._cdf_sf(x, df, loc, scale)[1]

    def logsf(self, x, df, loc=0.0, scale=1.0):
        return self._cdf_sf(x, df, loc, scale, log=True)[1]


# ----------------------------------------------------------------- gamma

class _Gamma(_Distribution):
    """The gamma distribution with shape ``a`` (scipy.stats.gamma): density z^(a-1) e^-z / Gamma(a) / scale."""

    name = "gamma"

    def logpdf(self, x, a, loc=0.0, scale=1.0):
        """(a-1) log z - z - log Gamma(a) - log scale for z = (x - loc)/scale >= 0, -inf below.

        >>> import hodiff.scipy.stats as hst
        >>> round(float(hst.gamma.logpdf(2.0, 3.0)), 6)
        -1.306853
        """
        z = _standardize(x, loc, scale)
        inside = hnp.greater_equal(z, 0)
        z_safe = hnp.where(inside, z, 1.0)
        value = _xlogy(a - 1.0, z_safe) - z_safe - _gammaln(a) - _log(scale)
        return _nan_unless(_and(hnp.greater(scale, 0), hnp.greater(a, 0)), hnp.where(inside, value, -np.inf))

    def pdf(self, x, a, loc=0.0, scale=1.0):
        return hnp.exp(self.logpdf(x, a, loc, scale))

    def _cdf_sf(self, x, a, loc, scale, log=False):
        P, Q = gammainc_pair(a, _standardize(x, loc, scale), log=log)
        valid = _and(hnp.greater(scale, 0), hnp.greater(a, 0))
        return _nan_unless(valid, P), _nan_unless(valid, Q)

    def cdf(self, x, a, loc=0.0, scale=1.0):
        """P(a, z): the regularized lower incomplete gamma function at z = (x - loc)/scale."""
        return self._cdf_sf(x, a, loc, scale)[0]

    def logcdf(self, x, a, loc=0.0, scale=1.0):
        return self._cdf_sf(x, a, loc, scale, log=True)[0]

    def sf(self, x, a, loc=0.0, scale=1.0):
        """Q(a, z) = 1 - P(a, z), computed directly (accurate in the upper tail)."""
        return self._cdf_sf(x, a, loc, scale)[1]

    def logsf(self, x, a, loc=0.0, scale=1.0):
        return self._cdf_sf(x, a, loc, scale, log=True)[1]


# ----------------------------------------------------------------- chi-squared

def _times_two(scale):
    return 2.0 * scale if _is_python_number(scale) else hnp.multiply(scale, 2.0)


def _half(df):
    return 0.5 * df if _is_python_number(df) else hnp.multiply(df, 0.5)


class _ChiSquared(_Distribution):
    """The chi-squared distribution with ``df`` degrees of freedom (scipy.stats.chi2):
    the gamma distribution with shape df/2 and scale 2 (times ``scale``), so its CDF is
    P(df/2, z/2), the regularized lower incomplete gamma function (``gammainc_pair``,
    differentiable in x and in df). df need not be an integer; df <= 0 gives nan."""

    name = "chi2"

    def logpdf(self, x, df, loc=0.0, scale=1.0):
        """(df/2 - 1) log z - z/2 - log Gamma(df/2) - (df/2) log 2 - log scale for z = (x - loc)/scale >= 0.

        >>> import hodiff.scipy.stats as hst
        >>> round(float(hst.chi2.logpdf(2.0, 3.0)), 6)
        -1.572365
        """
        return gamma.logpdf(x, _half(df), loc, _times_two(scale))

    def pdf(self, x, df, loc=0.0, scale=1.0):
        return hnp.exp(self.logpdf(x, df, loc, scale))

    def cdf(self, x, df, loc=0.0, scale=1.0):
        """P(df/2, z/2), z = (x - loc)/scale (0 below the support).

        >>> import hodiff.scipy.stats as hst
        >>> round(float(hst.chi2.cdf(2.0, 3.0)), 8)
        0.42759329
        """
        return gamma.cdf(x, _half(df), loc, _times_two(scale))

    def logcdf(self, x, df, loc=0.0, scale=1.0):
        return gamma.logcdf(x, _half(df), loc, _times_two(scale))

    def sf(self, x, df, loc=0.0, scale=1.0):
        """Q(df/2, z/2) = 1 - P(df/2, z/2), computed directly (accurate in the upper tail)."""
        return gamma.sf(x, _half(df), loc, _times_two(scale))

    def logsf(self, x, df, loc=0.0, scale=1.0):
        return gamma.logsf(x, _half(df), loc, _times_two(scale))


# ----------------------------------------------------------------- beta

class _Beta(_Distribution):
    """The beta distribution on [loc, loc + scale] (scipy.stats.beta)."""

    name = "beta"

    def logpdf(self, x, a, b, loc=0.0, scale=1.0):
        """(a-1) log z + (b-1) log(1-z) - log B(a, b) - log scale on 0 <= z <= 1, -inf outside.

        >>> import hodiff.scipy.stats as hst
        >>> round(float(hst.beta.logpdf(0.3, 2.0, 5.0)), 6)
        0.770525
        """
        z = _standardize(x, loc, scale)
        inside = _and(hnp.greater_equal(z, 0), hnp.less_equal(z, 1))
        z_safe = hnp.where(inside, z, 0.5)
        value = (_xlogy(a - 1.0, z_safe) + _xlog1py(b - 1.0, -z_safe)
                 - _betaln(a, b) - _log(scale))
        valid = _and(_and(hnp.greater(scale, 0), hnp.greater(a, 0)), hnp.greater(b, 0))
        return _nan_unless(valid, hnp.where(inside, value, -np.inf))

    def pdf(self, x, a, b, loc=0.0, scale=1.0):
        return hnp.exp(self.logpdf(x, a, b, loc, scale))

    def _cdf_sf(self, x, a, b, loc, scale, log=False):
        z = _standardize(x, loc, scale)
        below, above = betainc_pair(a, b, z, _standardize(_keep_weak(hnp.add)(loc, scale) - x, 0.0, scale),
                                    log=log)
        valid = _and(_and(hnp.greater(scale, 0), hnp.greater(a, 0)), hnp.greater(b, 0))
        return _nan_unless(valid, below), _nan_unless(valid, above)

    def cdf(self, x, a, b, loc=0.0, scale=1.0):
        """I_z(a, b), the regularized incomplete beta function at z = (x - loc)/scale."""
        return self._cdf_sf(x, a, b, loc, scale)[0]

    def logcdf(self, x, a, b, loc=0.0, scale=1.0):
        return self._cdf_sf(x, a, b, loc, scale, log=True)[0]

    def sf(self, x, a, b, loc=0.0, scale=1.0):
        return self._cdf_sf(x, a, b, loc, scale)[1]

    def logsf(self, x, a, b, loc=0.0, scale=1.0):
        return self._cdf_sf(x, a, b, loc, scale, log=True)[1]


# ----------------------------------------------------------------- Poisson

class _Poisson(_Distribution):
    """The Poisson distribution with mean ``mu`` (scipy.stats.poisson).

    k is a count (data): differentiable in mu; in k the pmf is defined on
    integers only and the cdf is a step function (derivative 0).
    """

    name = "poisson"

    def logpmf(self, k, mu, loc=0):
        """k log mu - mu - log k! for integer k >= 0, -inf otherwise (0 log 0 = 0: mu = 0 works).

        >>> import hodiff.scipy.stats as hst
        >>> round(float(hst.poisson.logpmf(3, 2.5)), 6)
        -1.542887
        """
        k = hnp.subtract(k, loc)
        inside = _and(hnp.greater_equal(k, 0), hnp.equal(hnp.floor(k), k))
        k_safe = hnp.where(inside, k, 0.0)
        value = _xlogy(k_safe, mu) - mu - _gammaln(k_safe + 1.0)
        return _nan_unless(hnp.greater_equal(mu, 0), hnp.where(inside, value, -np.inf))

    def pmf(self, k, mu, loc=0):
        return hnp.exp(self.logpmf(k, mu, loc))

    def _cdf_sf(self, k, mu, loc, log=False):
        k = hnp.floor(hnp.subtract(k, loc))
        nonnegative = hnp.greater_equal(k, 0)
        # P(K <= k) = Q(k + 1, mu), the upper regularized incomplete gamma function.
        P, Q = gammainc_pair(hnp.where(nonnegative, k, 0.0) + 1.0, mu, log=log)
        valid = hnp.greater_equal(mu, 0)
        zero, one = (-np.inf, 0.0) if log else (0.0, 1.0)
        return (_nan_unless(valid, hnp.where(nonnegative, Q, zero)),
                _nan_unless(valid, hnp.where(nonnegative, P, one)))

    def cdf(self, k, mu, loc=0):
        """P(K <= k) = Q(floor(k) + 1, mu); 0 for k < 0."""
        return self._cdf_sf(k, mu, loc)[0]

    def logcdf(self, k, mu, loc=0):
        return self._cdf_sf(k, mu, loc, log=True)[0]

    def sf(self, k, mu, loc=0):
        """P(K > k) = P(floor(k) + 1, mu); 1 for k < 0."""
        return self._cdf_sf(k, mu, loc)[1]

    def logsf(self, k, mu, loc=0):
        return self._cdf_sf(k, mu, loc, log=True)[1]


# ----------------------------------------------------------------- Dirichlet

class _Dirichlet(_Distribution):
    """The Dirichlet distribution with concentrations ``alpha`` (scipy.stats.dirichlet).

    As in scipy, x's FIRST axis holds the components: x is (K,) for one point or
    (K, N...) for many, or has K - 1 components (the last is then 1 - their sum);
    alpha is (K,), all > 0. x must lie on the simplex (entries in [0, 1] summing to 1
    within 1e-9 (4 K ulps in float32), an entry 0 only where alpha >= 1), else ValueError with scipy's message.
    The value is sum_i (alpha_i - 1) log x_i - log B(alpha), shape x.shape[1:] squeezed
    (scipy's output: length-1 axes removed). Derivatives in x are the partial derivatives
    of that formula (x_i as independent variables; compose with x / sum(x) to stay on the
    simplex), derivatives in alpha are digamma(sum alpha) - digamma(alpha_i) + log x_i
    and on, to any order.
    """

    name = "dirichlet"

    def _checked(self, x, alpha):
        alpha_plain = _concrete(alpha)
        if alpha_plain.size and np.min(alpha_plain) <= 0:
            raise ValueError("dirichlet: all parameters alpha must be greater than 0")
        if len(shape_of(alpha)) != 1:
            raise ValueError(f"dirichlet: parameter vector 'alpha' must be one dimensional, "
                             f"but alpha.shape = {shape_of(alpha)}")
        k = shape_of(alpha)[0]
        x_shape = shape_of(x)
        if not x_shape or (x_shape[0] != k and x_shape[0] + 1 != k):
            raise ValueError(f"dirichlet: x must have either the same number of entries in its first axis as, "
                             f"or one entry fewer than, alpha, but alpha.shape = {shape_of(alpha)} "
                             f"and x.shape = {x_shape}")
        if x_shape[0] + 1 == k:
            x = hnp.concatenate([x, hnp.expand_dims(1.0 - hnp.sum(x, axis=0), 0)], axis=0)
        x_plain = _concrete(x)
        if np.min(x_plain) < 0:
            raise ValueError("dirichlet: each entry in 'x' must be greater than or equal to zero")
        if np.max(x_plain) > 1:
            raise ValueError("dirichlet: each entry in 'x' must be smaller or equal one")
        alpha_column = hnp.reshape(alpha, (k,) + (1,) * (len(shape_of(x)) - 1))
        if np.any(_concrete(_and(hnp.equal(x, 0), hnp.less(alpha_column, 1)))):
            raise ValueError("dirichlet: each entry in 'x' must be greater than zero if its alpha is less than one")
        total = _concrete(hnp.sum(x, axis=0))
        # scipy's tolerance, 1e-9; float32 points are rounded to ~1e-7, so theirs is a few ulps per entry
        dtype = np.result_type(dtype_of(x), np.float16)
        if np.any(np.abs(total - 1.0) > max(10e-10, 4 * k * float(np.finfo(dtype).eps))):
            raise ValueError(f"dirichlet: the input vector 'x' must lie within the normal simplex, "
                             f"but sum(x, axis=0) = {total}")
        return x, alpha_column

    def logpdf(self, x, alpha):
        """sum_i (alpha_i - 1) log x_i + log Gamma(sum alpha) - sum_i log Gamma(alpha_i).

        >>> import numpy as np, hodiff.scipy.stats as hst
        >>> round(float(hst.dirichlet.logpdf(np.array([0.2, 0.3, 0.5]), np.array([1.5, 2.0, 3.0]))), 6)
        1.695211
        """
        x, alpha_column = self._checked(x, alpha)
        log_b = hnp.sum(_gammaln(alpha)) - _gammaln(hnp.sum(alpha))
        return hnp.squeeze(hnp.sum(_xlogy(alpha_column - 1.0, x), axis=0) - log_b)

    def pdf(self, x, alpha):
        return hnp.exp(self.logpdf(x, alpha))


# ----------------------------------------------------------------- multivariate normal

class _MultivariateNormal(_Distribution):
    """The multivariate normal N(mean, cov) (scipy.stats.multivariate_normal).

    x: (..., d) (leading axes are points; with d = 1 a 1-D x is d = 1 points, as scipy
    reads it). mean: (d,), a scalar for d = 1, or None (zeros). cov: a scalar (cov * I),
    a vector (a diagonal) or a (d, d) symmetric positive (semi)definite matrix, used through
    its Cholesky factor (only its lower triangle is read, as scipy's eigh reads it, so
    derivatives in cov live there too; parametrize cov = A A^T + ... or symmetrize to
    differentiate through a symmetric matrix). d comes from mean, else cov, else x.
    The result has shape x.shape[:-1] with length-1 axes removed (scipy's squeeze).

    Singularity is judged as scipy judges it: eigenvalues of cov (in float64) at most
    1e6 * eps * their largest |value| are zero; a negative eigenvalue below that raises
    ValueError; a zero one raises LinAlgError unless allow_singular=True. Then, as scipy,
    the density is over the support mean + range(cov): the pseudo-determinant and the
    pseudo-inverse (from eigh), -inf for x off the support. Its derivatives in x and mean
    are those along the support (the component across it is 0: the pseudo-inverse); a
    derivative in cov at a singular cov is refused (the density jumps where the rank
    changes), as is batching cov there.
    """

    name = "multivariate_normal"

    def _dimension(self, mean, cov):
        """(d, cov's number of axes) from mean, else cov, else 1 (as scipy: with both defaults a vector x holds
        points of dimension 1), with scipy's shape checks."""
        cov_shape = shape_of(cov)
        if len(cov_shape) > 2:
            raise ValueError(f"multivariate_normal: cov must be a scalar, a vector or a matrix, "
                             f"got {len(cov_shape)} axes")
        if len(cov_shape) == 2 and cov_shape[0] != cov_shape[1]:
            raise ValueError(f"multivariate_normal: cov must be square if it is two dimensional, "
                             f"but cov.shape = {cov_shape}")
        if mean is not None:
            d = int(np.prod(shape_of(mean), dtype=int))
            if len(shape_of(mean)) > 1 or (len(shape_of(mean)) == 0 and len(cov_shape) and cov_shape[-1] != 1):
                raise ValueError(f"multivariate_normal: mean must be a vector of length d (a scalar for d = 1), "
                                 f"got shape {shape_of(mean)}")
        elif cov_shape:
            d = cov_shape[-1]
        else:
            d = 1
        if cov_shape and cov_shape[-1] != d:
            raise ValueError(f"multivariate_normal: cov has shape {cov_shape}, expected ({d}, {d})"
                             if len(cov_shape) == 2 else
                             f"multivariate_normal: cov has {cov_shape[-1]} variances, expected {d}")
        return d, len(cov_shape)

    def _spectrum(self, cov, d, cov_ndim, allow_singular):
        """(eigenvalues, eigenvectors or None, eps, singular) of cov's plain numbers, as scipy's _PSD."""
        plain = _concrete(cov)
        if cov_ndim == 2:
            if np.all(np.isfinite(plain)):
                spectrum, vectors = np.linalg.eigh(plain)  # numpy's eigh reads the lower triangle
            else:
                raise ValueError("multivariate_normal: cov has a non-finite entry")
        else:
            spectrum, vectors = np.broadcast_to(plain, (d,)), None
        eps = 1e6 * np.finfo(float).eps * np.max(np.abs(spectrum))
        if np.min(spectrum) < -eps:
            raise ValueError("multivariate_normal: the covariance must be symmetric positive semidefinite "
                             f"(it has the eigenvalue {np.min(spectrum):.3g})")
        singular = bool(np.any(spectrum <= eps))
        if singular and not allow_singular:
            raise np.linalg.LinAlgError(
                "multivariate_normal: when allow_singular is False, the covariance must be symmetric positive "
                "definite (it has a zero eigenvalue); pass allow_singular=True for the density on its support")
        if singular and isinstance(cov, Tracer):
            raise ValueError(
                "multivariate_normal: the derivative in cov (and batching over cov) at a singular covariance "
                "(allow_singular=True) is not defined: the pseudo-determinant jumps where the rank changes. "
                "Differentiate in x and mean only (cov a constant), or give a full-rank cov")
        if vectors is None:
            vectors = np.eye(d)
        return spectrum, vectors, eps, singular

    def _log_det(self, cov, d, cov_ndim):
        """(log det cov, its Cholesky factor or None) for a positive definite cov (a diagonal directly)."""
        if cov_ndim < 2:
            return (hnp.sum(hnp.log(cov)) if cov_ndim else d * _log(cov)), None
        factor = hnp.linalg.cholesky(cov)
        index = np.arange(d)
        return 2.0 * hnp.sum(hnp.log(factor[index, index])), factor

    def logpdf(self, x, mean=None, cov=1.0, allow_singular=False):
        """-(r log(2 pi) + log pdet cov + (x - mean)^T cov^+ (x - mean)) / 2, r = rank cov (d if nonsingular).

        >>> import numpy as np, hodiff.scipy.stats as hst
        >>> cov = np.array([[2.0, 0.5], [0.5, 1.0]])
        >>> round(float(hst.multivariate_normal.logpdf(np.array([1.0, -1.0]), np.zeros(2), cov)), 6)
        -3.260542
        """
        d, cov_ndim = self._dimension(mean, cov)
        x_shape = shape_of(x)
        if not x_shape:
            x = hnp.reshape(x, (1,))
        elif len(x_shape) == 1:
            x = hnp.expand_dims(x, -1 if d == 1 else 0)
        x_shape = shape_of(x)
        if x_shape[-1] != d:
            raise ValueError(f"multivariate_normal: x has {x_shape[-1]} components in its last axis, "
                             f"but the distribution has dimension {d}")
        diff = x if mean is None else x - (hnp.reshape(mean, (1,)) if not shape_of(mean) else mean)
        spectrum, vectors, eps, singular = self._spectrum(cov, d, cov_ndim, allow_singular)
        if singular:  # cov is a constant here: pseudo-inverse and pseudo-determinant from its eigh
            kept = spectrum > eps
            dtype = dtype_of(diff)
            whiten = (vectors[:, kept] / np.sqrt(spectrum[kept])).astype(dtype)
            across = vectors[:, ~kept].astype(dtype)
            rank, log_det = int(kept.sum()), float(np.sum(np.log(spectrum[kept])))
            maha = hnp.sum(hnp.square(hnp.matmul(diff, whiten)), axis=-1)
            off = hnp.sum(hnp.square(hnp.matmul(diff, across)), axis=-1)
            value = -0.5 * (rank * math.log(2 * math.pi) + log_det + maha)
            return hnp.squeeze(hnp.where(hnp.less(off, (1e3 * eps) ** 2), value, -np.inf))
        if cov_ndim < 2:  # cov * I or a diagonal: no factorization
            variances = hnp.zeros_like(diff) + cov
            maha = hnp.sum(diff * diff / variances, axis=-1)
            log_det = hnp.sum(hnp.log(variances), axis=-1)
        else:
            log_det, factor = self._log_det(cov, d, cov_ndim)
            flat = hnp.reshape(diff, (-1, d))
            whitened = _linalg.solve_triangular(factor, hnp.transpose(flat), lower=True)  # (d, N)
            maha = hnp.reshape(hnp.sum(whitened * whitened, axis=0), x_shape[:-1])
        return hnp.squeeze(-0.5 * (d * math.log(2 * math.pi) + log_det + maha))

    def pdf(self, x, mean=None, cov=1.0, allow_singular=False):
        return hnp.exp(self.logpdf(x, mean, cov, allow_singular))

    def entropy(self, mean=None, cov=1.0):
        """(r (log(2 pi) + 1) + log pdet cov) / 2, r = rank cov; singular covariances allowed, as in scipy.

        mean only sets d (the entropy does not depend on it: its derivative there is 0).

        >>> import numpy as np, hodiff.scipy.stats as hst
        >>> round(float(hst.multivariate_normal.entropy(np.zeros(2), np.array([[2.0, 0.5], [0.5, 1.0]]))), 6)
        3.117685
        """
        d, cov_ndim = self._dimension(mean, cov)
        spectrum, _, eps, singular = self._spectrum(cov, d, cov_ndim, True)
        if singular:
            kept = spectrum[spectrum > eps]
            value = 0.5 * (kept.size * (math.log(2 * math.pi) + 1.0) + float(np.sum(np.log(kept))))
            return np.asarray(value, dtype=np.result_type(dtype_of(cov), 0.0) if cov_ndim else float)
        log_det, _ = self._log_det(cov, d, cov_ndim)
        value = 0.5 * (d * (math.log(2 * math.pi) + 1.0) + log_det)
        return value


norm = _Normal()
t = _StudentT()
gamma = _Gamma()
chi2 = _ChiSquared()
beta = _Beta()
poisson = _Poisson()
dirichlet = _Dirichlet()
multivariate_normal = _MultivariateNormal()
