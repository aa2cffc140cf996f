"""Collapsed Taylor mode (Dangel et al., NeurIPS 2025): ``collapsed_taylor``, ``laplacian``, ``weighted_laplacian``,
``bilaplacian``.

A linear differential operator written as a weighted sum of K-th directional
derivatives, ``L f(x) = sum_r w_r d^K/dt^K f(x + t v_r) at t=0``, is linear in
the K-th Taylor coefficients. Collapsed mode therefore propagates each
direction's coefficients 1..K-1 (a leading axis of size R) but only ONE
weighted sum of the K-th coefficients. For every primitive with Taylor rule T:

    lower_out[:, r] = T(x0; x1_r..x{K-1}_r)                    (coefficients 1..K-1, per direction)
    top_out         = sum_r w_r T_K(x0; x1_r..x{K-1}_r, 0) + J(x0) top

where J(x0) top is the order-1 rule applied once to the summed top
coefficient. For primitives linear in their traced arguments (add, sum,
reshape, matmul by a constant, ...) the first term is zero and is skipped, so
linear layers touch the collapsed coefficient once, not R times.
Everything is written with hodiff primitives, so the result is differentiable
by every transform and works under ``vmap``.
"""

import functools
import math
import typing

import numpy as np

from ..core.trace import Trace, Tracer, bind
from ..core.tree import tree_flatten
from ..interpreters.forward import lift_inner_duals
from ..interpreters.taylor import _ops, nested_forward_series
from ..primitives.elementwise import greater, sqrt, where
from ..primitives.shape import concatenate, reshape, tensordot
from ..primitives.shape import sum as _sum
from ._args import check_differentiable, dtype_of_value
from .batching import vmap
from .taylor import _as_array

__all__ = ["collapsed_taylor", "laplacian", "weighted_laplacian", "OperatorEstimate", "bilaplacian"]

# Primitives linear in every traced argument: their T_K with a zero top coefficient vanishes.
_LINEAR = frozenset(["add", "subtract", "negative", "sum", "reshape", "transpose", "broadcast_to", "getitem",
                     "concatenate", "stack", "expand_dims", "squeeze", "sum_to_shape", "real", "conj",
                     "moveaxis", "swapaxes", "ravel", "mean", "positive", "copy"])
# Linear when exactly these argument positions are the only traced ones.
_LINEAR_IN = {"multiply": {(0,), (1,)}, "matmul": {(0,), (1,)}, "dot": {(0,), (1,)},
              "divide": {(0,)}, "true_divide": {(0,)}, "tensordot": {(0,), (1,)}, "einsum": None}


# Smooth unary elementwise primitives: at order 2 they take the forward-Laplacian path
# (lower_out = f'(x0) x1_r, top_out = f'(x0) top + f''(x0)/2 sum_r w_r x1_r^2), with f' and f''/2
# read off the primitive's own Taylor rule at the point, once.
_UNARY_SMOOTH = frozenset(["exp", "log", "sin", "cos", "tanh", "sqrt", "expm1", "log1p", "log2", "log10", "exp2",
                           "cbrt", "square", "reciprocal", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh",
                           "arcsinh", "arccosh", "arctanh", "logistic", "expit", "erf", "softplus"])


def _shape(x):
    return tuple(x.shape) if isinstance(x, Tracer) else np.shape(x)


class CollapsedTracer(Tracer):
    """primal x0; ``lower``: (K-1, R) + x0.shape coefficients per direction; ``top``: x0.shape, the weighted sum."""

    __slots__ = ("_primal", "lower", "top")

    def __init__(self, primal, lower, top, trace):
        self._trace = trace
        self._primal = primal
        self.lower = lower
        self.top = top

    @property
    def primal(self):
        return self._primal


class CollapsedTrace(Trace):
    kind = "collapsed-Taylor"
    __slots__ = ("order", "weights")

    def __init__(self, order, weights, level=None):
        super().__init__(level)
        self.order = order
        self.weights = weights  # (R,) array, or None for all ones

    def weighted_sum(self, series):
        """sum_r w_r series[r] for series of shape (R,) + s: a plain sum for unit weights, else one GEMV."""
        if self.weights is None:
            return _sum(series, axis=0)
        return tensordot(self.weights, series, axes=1)

    def process(self, primitive, args, params):
        traced = [i for i, a in enumerate(args) if isinstance(a, CollapsedTracer) and a._trace is self]
        primals = tuple(a.primal if i in traced else a for i, a in enumerate(args))
        ans = bind(primitive, primals, params)
        rule = primitive.taylor
        if rule is None:
            def rule(ans_, primals_, series_, **p):
                k = next(s for s in series_ if s is not None).shape[0]
                return nested_forward_series(primitive, primals_, series_, p, k)

        def apply(series_list):
            full = [None] * len(args)
            for i, s in zip(traced, series_list):
                full[i] = s
            out = rule(ans, primals, full, **params)
            if primitive.broadcasts:
                out = _ops["broadcast_series"](out, ans)
            return out

        K = self.order
        if (K >= 2 and primitive.name in _UNARY_SMOOTH and len(args) == 1 and not params and traced == [0]
                and rule is primitive.taylor and _shape(ans) == _shape(primals[0])):
            if K == 2:
                return self._forward_laplacian(primitive, ans, primals, args[0])
            return self._unary_composition(primitive, ans, primals, args[0])
        try:
            # the linear part, once: J(x0) top
            top = apply([reshape(args[i].top, shape=(1,) + _shape(args[i].top)) for i in traced])[0]
            linear = primitive.name in _LINEAR or (
                primitive.name in _LINEAR_IN and _LINEAR_IN[primitive.name] is not None
                and tuple(traced) in _LINEAR_IN[primitive.name])
            if K == 1:
                lower = None
            else:
                per_direction = vmap(lambda *s: apply(list(s)), in_axes=1, out_axes=1)
                if linear:
                    lower = per_direction(*[args[i].lower for i in traced])
                else:
                    padded = []
                    for i in traced:
                        low = args[i].lower
                        zero = np.zeros((1,) + _shape(low)[1:], dtype=dtype_of_value(low))
                        padded.append(concatenate(low, zero, axis=0))
                    series = per_direction(*padded)  # (K, R) + ans.shape
                    lower = series[: K - 1]
                    top = top + self.weighted_sum(series[K - 1])
        except Exception as error:
            error.add_note(f"(in the collapsed-Taylor rule of primitive '{primitive.name}')")
            raise
        return CollapsedTracer(ans, lower, top, self)


    def _forward_laplacian(self, primitive, ans, primals, arg):
        try:
            dtype = dtype_of_value(arg.top)
            unit = np.zeros((2,) + _shape(ans), dtype=dtype)
            unit[0] = 1.0
            coefficients = primitive.taylor(ans, primals, [unit])  # (f'(x0), f''(x0)/2)
            d1, d2 = coefficients[0], coefficients[1]
            low = arg.lower[0]  # (R,) + shape
            # the square term first: its (R,) + shape temporary is freed before d1 * low is made,
            # so a layer holds three direction-sized arrays at its peak, not five
            top = d1 * arg.top + d2 * self.weighted_sum(low * low)
            lower = reshape(d1 * low, shape=(1,) + _shape(low))
        except Exception as error:
            error.add_note(f"(in the forward-Laplacian path of primitive '{primitive.name}')")
            raise
        return CollapsedTracer(ans, lower, top, self)

    def _unary_composition(self, primitive, ans, primals, arg):
        """K >= 3 for a smooth unary elementwise y = g(x): y(t) = sum_k g_k u(t)^k (Faa di Bruno).

        g_k = g^(k)(x0) / k! are read once from the primitive's Taylor rule at the point (shape of
        x0, no direction axis); u(t) = sum_j x_j t^j per direction. The powers u^k are truncated
        Cauchy products of the (R,) + shape coefficients; only their degree-K coefficient is
        collapsed (sum over r with the weights). This replaces the rule's order-K recurrence
        on (K, R) + shape arrays by ~K^3/6 products of (R,) + shape arrays, with no zero padding.
        """
        K = self.order
        try:
            dtype = dtype_of_value(arg.top)
            unit = np.zeros((K,) + _shape(ans), dtype=dtype)
            unit[0] = 1.0
            g = primitive.taylor(ans, primals, [unit])  # (K,) + shape: g_1 .. g_K
            u = [None] + [arg.lower[j - 1] for j in range(1, K)]  # u[j]: (R,) + shape, degree j
            # power[d] = coefficient of t^d in u(t)^k (d = k..K; d = K only needed collapsed)
            power = {d: u[d] for d in range(1, K)}
            lower = [g[0] * u[j] for j in range(1, K)]  # k = 1
            collapsed = None
            for k in range(2, K + 1):
                power = {d: _sum_products(power, u, d, k) for d in range(k, K + 1)}
                for d in range(k, K):
                    lower[d - 1] = lower[d - 1] + g[k - 1] * power[d]
                term = g[k - 1] * power[K]
                collapsed = term if collapsed is None else collapsed + term
            top = g[0] * arg.top + self.weighted_sum(collapsed)
            lower = concatenate(*[reshape(c, shape=(1,) + _shape(c)) for c in lower], axis=0)
        except Exception as error:
            error.add_note(f"(in the unary Taylor-composition path of primitive '{primitive.name}')")
            raise
        return CollapsedTracer(ans, lower, top, self)


def _sum_products(power, u, degree, k):
    """Degree-``degree`` coefficient of u^k = u^(k-1) * u, from ``power`` (the coefficients of u^(k-1))."""
    total = None
    for j in range(1, degree - (k - 1) + 1):  # u's degree j, u^(k-1)'s degree >= k - 1
        term = power[degree - j] * u[j]
        total = term if total is None else total + term
    return total


def _real_dtype(value):
    dtype = dtype_of_value(value)
    return dtype if np.issubdtype(dtype, np.inexact) else np.dtype(float)


def collapsed_taylor(f, x, directions, weights=None, order=2):
    """sum_r w_r d^K/dt^K f(x + t v_r) at t = 0, in collapsed Taylor mode.

    ``x``: an array (shape s); ``directions``: shape (R,) + s (v_r = directions[r]);
    ``weights``: shape (R,) (default all ones); ``order``: K >= 1. f maps an array of
    shape s to an array of any shape m (the operator is applied entry by entry
    of the output); the result has shape m. Derivatives, not Taylor
    coefficients: the K! factor is included.

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> float(hd.collapsed_taylor(lambda x: hnp.sum(x ** 3), np.array([1.0, 2.0]), np.eye(2)))  # 6x1 + 6x2
    18.0
    """
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise ValueError(f"collapsed_taylor: order must be an integer >= 1, got {order!r}")
    order = int(order)
    check_differentiable(x, 0, "collapsed_taylor")
    if not isinstance(x, Tracer):
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.inexact):
            x = x.astype(float)
    xshape = _shape(x)
    dtype = _real_dtype(x)
    directions = _as_array(directions, x)
    dshape = _shape(directions)
    if len(dshape) != len(xshape) + 1 or dshape[1:] != xshape:
        raise ValueError(f"collapsed_taylor: directions must have shape (R,) + x.shape = (R,) + {xshape}, "
                         f"got {dshape}")
    R = dshape[0]
    if weights is not None:
        weights = _as_array(weights, x)
        if _shape(weights) != (R,):
            raise ValueError(f"collapsed_taylor: weights must have shape (R,) = ({R},), got {_shape(weights)}")
    trace = CollapsedTrace(order, weights)
    lower = None
    if order > 1:
        first = reshape(directions, shape=(1,) + dshape)
        if order > 2:
            rest = np.zeros((order - 2,) + dshape, dtype=dtype_of_value(directions))
            lower = concatenate(first, rest, axis=0)
        else:
            lower = first
    top = np.zeros(xshape, dtype=dtype)
    if order == 1:  # the operator is linear in the first coefficient: sum_r w_r v_r, one jvp
        top = trace.weighted_sum(directions)
    tracer = CollapsedTracer(x, lower, top, trace)
    try:
        result = lift_inner_duals(f(tracer), trace)
    finally:
        trace.alive = False
    flat, _ = tree_flatten(result)
    if len(flat) != 1:
        raise TypeError(f"collapsed_taylor: f must return one array, got {len(flat)} outputs")
    out = flat[0]
    if not (isinstance(out, CollapsedTracer) and out._trace is trace):
        return np.zeros(_shape(out), dtype=_real_dtype(out))
    scale = np.asarray(float(math.factorial(order)), dtype=np.finfo(_real_dtype(out.top)).dtype)
    return out.top * scale


def _point_check(name, x):
    """TypeError for a point the operators do not take: a pytree, or complex entries (their trace would run
    over real directions only, not the plane's Laplacian)."""
    if isinstance(x, (dict, list, tuple)) and not isinstance(x, Tracer):
        raise TypeError(f"{name}: x must be one real array (the operator sums over its entries), got a "
                        f"{type(x).__name__}; stack a pytree's leaves into one array first")
    if np.issubdtype(dtype_of_value(x), np.complexfloating):
        raise TypeError(f"{name}: x is complex ({dtype_of_value(x)}); the operator needs a real x. For f of "
                        "z = a + ib, differentiate lambda v: f(v[0] + 1j * v[1]) in the real pair v = (a, b)")


def _scalar_check(name, f):
    @functools.wraps(f)
    def checked(x):
        out = f(x)
        if _shape(out) != ():
            raise TypeError(f"{name}: f must return a scalar, got an output of shape {_shape(out)}")
        return out

    return checked


class OperatorEstimate(typing.NamedTuple):
    """A stochastic estimate of a differential operator at one point (``method="stochastic"``).

    estimate: the mean of the probe values, unbiased (for the Laplacian: v^T H v averaged over
              probes v with E[v v^T] = I); a hodiff value, differentiable by every transform
    stderr:   std(samples, ddof=1) / sqrt(G), the standard error of the estimate (NaN when
              G = 1: one group has no spread to estimate it from); a hodiff value (where it is 0,
              e.g. Rademacher on a diagonal H, its derivative is taken as 0, a subgradient)
    samples:  (G,) the per-group estimates (each the mean of its group's probe values), whose
              mean is ``estimate``; with the default G = number of probes, the probe values
    """

    estimate: typing.Any
    stderr: typing.Any
    samples: typing.Any


_METHODS = ("exact", "stochastic")
_DISTRIBUTIONS = ("rademacher", "gaussian")


def _check_method(name, method):
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"{name}: method={method!r}; choose one of {', '.join(map(repr, _METHODS))}")


def _check_stochastic(name, samples, seed, distribution, groups, distributions=_DISTRIBUTIONS):
    """Validate the stochastic keywords of operator ``name``; return the number of groups G."""
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)):
        raise TypeError(f"{name}: samples={samples!r} must be an integer (the number of random probes)")
    if samples < 1:
        raise ValueError(f"{name}: samples={samples!r} must be >= 1 (the number of random probes)")
    if not isinstance(distribution, str) or distribution not in distributions:
        raise ValueError(f"{name}: distribution={distribution!r}; choose one of "
                         f"{', '.join(map(repr, distributions))}")
    if groups is None:
        groups = samples
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"{name}: groups={groups!r} must be an integer (or None: one group per probe)")
    if not 1 <= groups <= samples or samples % groups:
        raise ValueError(f"{name}: groups={groups!r} must divide samples={samples!r} "
                         "(1 <= groups <= samples and samples % groups == 0)")
    if not (seed is None or isinstance(seed, np.random.Generator)
            or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0)):
        raise TypeError(f"{name}: seed={seed!r} must be an integer >= 0, a numpy Generator or None")
    return int(groups)


def _draw_probes(seed, distribution, count, shape, dtype):
    """(count,) + shape random probes (probe r = row r), in ONE call of ``np.random.default_rng(seed)``.

    "rademacher": ``rng.choice(np.array([-1.0, 1.0], dtype), size=(count,) + shape)`` (for a
    vector x these are the probes of ``hessian_trace(..., seed=seed)``);
    "gaussian": ``rng.standard_normal((count,) + shape)`` in float64, cast to dtype.
    """
    rng = np.random.default_rng(seed)
    size = (int(count),) + tuple(shape)
    if distribution == "rademacher":
        return rng.choice(np.array([-1.0, 1.0], dtype=dtype), size=size)
    return rng.standard_normal(size).astype(dtype, copy=False)


def _stochastic(operator_pass, probes, groups):
    """The group machinery of a stochastic operator; returns an ``OperatorEstimate``.

    ``probes``: shape (S,) + p, the S random probes in draw order (an array or a traced value);
    ``operator_pass(group)``: for one group's probes, shape (S/G,) + p, the SUM of their
    probe values, a scalar, in one collapsed pass. The probes are split into G
    consecutive groups (group g: probes[g*S/G : (g+1)*S/G]) and the G passes run as one
    batched evaluation (``vmap`` over the group axis keeps collapsed mode collapsed).
    samples[g] = group sum / (S/G); estimate = mean(samples);
    stderr = std(samples, ddof=1) / sqrt(G), NaN for G = 1 (derivative 0 where it is 0).
    """
    shape = _shape(probes)
    per_group = shape[0] // groups
    grouped = reshape(probes, shape=(groups, per_group) + tuple(shape[1:]))
    sums = vmap(operator_pass)(grouped)
    dtype = np.finfo(_real_dtype(sums)).dtype
    if _shape(sums) != (groups,):  # f independent of x: one unbatched zero
        sums = sums + np.zeros((groups,), dtype=dtype)
    values = sums * np.asarray(1.0 / per_group, dtype=dtype)
    # shifted by the first value, so equal values give exactly their value and a spread of exactly 0
    shift = values[0]
    centred = values - shift
    offset = _sum(centred, axis=0) * np.asarray(1.0 / groups, dtype=dtype)
    estimate = shift + offset
    if groups == 1:
        stderr = estimate * np.asarray(np.nan, dtype=dtype)
    else:
        deviations = centred - offset
        variance = _sum(deviations * deviations, axis=0) * np.asarray(1.0 / (groups - 1), dtype=dtype)
        # sqrt has an infinite slope at 0 (equal group values: Rademacher on a diagonal H); take the
        # subgradient 0 there, through a where on both sides so no inf * 0 = NaN reaches the derivative
        spread = greater(variance, np.zeros((), dtype=dtype))
        safe = where(spread, variance, np.ones((), dtype=dtype))
        stderr = where(spread, sqrt(safe * np.asarray(1.0 / groups, dtype=dtype)), np.zeros((), dtype=dtype))
    return OperatorEstimate(estimate, stderr, values)


def laplacian(f, method="exact", *, samples=100, seed=0, distribution="rademacher", groups=None):
    """Return x -> trace of the Hessian of scalar f at x (sum_i d^2 f / dx_i^2), in collapsed Taylor mode.

    x: an array of any shape s (the trace runs over all x.size entries). Works
    under ``vmap`` over points and is differentiable by every transform.

    ``method="exact"`` (default): the trace, an array. ``method="stochastic"``
    (Hutchinson): ``samples`` random probes v of shape s (``distribution``
    "rademacher", entries +-1, or "gaussian", N(0, I); E[v v^T] = I) drawn by
    ``_draw_probes`` from ``np.random.default_rng(seed)`` (an integer seed draws the
    same probes at every call, a Generator fresh ones); probe values v^T H v.
    The probes form ``groups`` consecutive groups G (default: one per probe, the
    classical per-probe standard error; samples % G == 0); each group's sum is ONE
    collapsed pass and the G passes run as one ``vmap`` over groups. Returns
    ``OperatorEstimate(estimate, stderr, samples)``: samples (G,) the group means,
    estimate their mean, stderr = std(samples, ddof=1) / sqrt(G) (NaN for G = 1).
    Rademacher probes are exact for a diagonal Hessian.

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> float(hd.laplacian(lambda x: hnp.sum(x ** 2))(np.ones(3)))
    6.0
    >>> est = hd.laplacian(lambda x: hnp.sum(x ** 4), method="stochastic", samples=8)(np.ones(3))
    >>> float(est.estimate), float(est.stderr)   # 12 * 3: Rademacher is exact on a diagonal Hessian
    (36.0, 0.0)
    """
    _check_method("laplacian", method)
    groups = _check_stochastic("laplacian", samples, seed, distribution, groups)
    checked = _scalar_check("laplacian", f)

    def lap(x):
        _point_check("laplacian", x)
        shape = _shape(x)
        if method == "stochastic":
            probes = _draw_probes(seed, distribution, samples, shape, _real_dtype(x))
            return _stochastic(lambda group: collapsed_taylor(checked, x, group, order=2), probes, groups)
        size = int(np.prod(shape, dtype=int))
        basis = np.eye(size, dtype=_real_dtype(x)).reshape((size,) + shape)
        return collapsed_taylor(checked, x, basis, order=2)

    return lap


def weighted_laplacian(f, sigma, method="exact", *, samples=100, seed=0, distribution="rademacher", groups=None):
    """Return x -> tr(sigma sigma^T Hess f(x)) for scalar f of a vector x of shape (D,).

    ``sigma``: shape (D, R) (its columns are the directions; R may differ from D).
    ``method="exact"`` (default): the value, an array. ``method="stochastic"``: as
    ``laplacian``'s, with probes v of shape (R,), directions sigma @ v and probe values
    (sigma v)^T H (sigma v); returns ``OperatorEstimate(estimate, stderr, samples)``.
    """
    _check_method("weighted_laplacian", method)
    groups = _check_stochastic("weighted_laplacian", samples, seed, distribution, groups)
    checked = _scalar_check("weighted_laplacian", f)
    sigma_shape = _shape(sigma)

    def wlap(x):
        _point_check("weighted_laplacian", x)
        shape = _shape(x)
        if len(shape) != 1:
            raise ValueError(f"weighted_laplacian: x must be a vector of shape (D,), got shape {shape}")
        if len(sigma_shape) != 2 or sigma_shape[0] != shape[0]:
            raise ValueError(f"weighted_laplacian: sigma must have shape (D, R) = ({shape[0]}, R) for x of "
                             f"shape {shape}, got {sigma_shape}")
        directions = sigma.T if isinstance(sigma, Tracer) else np.asarray(sigma, dtype=_real_dtype(x)).T
        if method == "stochastic":
            probes = _draw_probes(seed, distribution, samples, (sigma_shape[1],), _real_dtype(x))
            # row r of probes @ sigma^T is the direction sigma @ v_r
            return _stochastic(lambda group: collapsed_taylor(checked, x, group @ directions, order=2),
                               probes, groups)
        return collapsed_taylor(checked, x, directions, order=2)

    return wlap


def _bilaplacian_directions(shape, dtype):
    """Directions (R,) + shape and weights (R,) with sum_r w_r D^4_{v_r} f = Delta^2 f.

    From D^4_{e_i+e_j} f + D^4_{e_i-e_j} f = 2 f_iiii + 2 f_jjjj + 12 f_iijj (the odd terms cancel):
    Delta^2 f = sum_i f_iiii + 2 sum_{i<j} f_iijj
              = (4 - D)/3 sum_i D^4_{e_i} f + 1/6 sum_{i<j} (D^4_{e_i+e_j} f + D^4_{e_i-e_j} f),
    the polynomial identity 6 |x|^4 = 2 (4 - D) sum_i x_i^4 + sum_{i<j} ((x_i+x_j)^4 + (x_i-x_j)^4).
    R = D^2 (D (D-1) at D = 4, where the unit directions have weight 0).
    """
    size = int(np.prod(shape, dtype=int))
    eye = np.eye(size, dtype=dtype)
    i, j = np.triu_indices(size, 1)
    blocks, weights = [], []
    if size != 4:
        blocks.append(eye)
        weights.append(np.full(size, (4 - size) / 3, dtype=dtype))
    blocks += [eye[i] + eye[j], eye[i] - eye[j]]
    weights.append(np.full(2 * len(i), 1 / 6, dtype=dtype))
    directions = np.concatenate(blocks, axis=0).reshape((-1,) + tuple(shape))
    return directions, np.concatenate(weights)


def bilaplacian(f, method="exact", *, samples=100, seed=0, distribution="gaussian", groups=None):
    """Return x -> Delta^2 f(x) = sum_{i,j} d^4 f / dx_i^2 dx_j^2 for scalar f, from ONE collapsed order-4 pass.

    x: an array of any shape s (the indices run over all D = x.size entries). The
    operator is the weighted sum of 4th directional derivatives

        Delta^2 f = (4 - D)/3 sum_i D^4_{e_i} f + 1/6 sum_{i<j} (D^4_{e_i+e_j} f + D^4_{e_i-e_j} f)

    (D^4_v f = d^4/dt^4 f(x + t v) at t = 0), handed to ``collapsed_taylor(..., order=4)``:
    D^2 directions (D (D-1) at D = 4, where the unit directions drop out). Dangel et al.
    (NeurIPS 2025, as jet-for-pytorch) interpolate the mixed partials after Griewank, Utke &
    Walther (2000) from the directions 4 e_i, 3 e_i + e_j (i != j) and 2 e_i + 2 e_j (i < j):
    D (3D - 1)/2 directions; the +- pairs above need D (D - 1)/2 fewer. Works under ``vmap``
    over points and is differentiable by every transform.

    ``method="stochastic"``: the STDE estimator (Shi et al., NeurIPS 2024). For Gaussian
    v ~ N(0, I) of shape s, E[D^4_v f] = 3 Delta^2 f (Isserlis: E[v_i v_j v_k v_l] pairs the
    indices in 3 ways), so the probe values are D^4_v f / 3. ``samples`` probes are drawn as
    ``np.random.default_rng(seed).standard_normal((samples,) + s)`` (cast to x's dtype;
    ``distribution`` must be "gaussian": Rademacher probes give sum_i f_iiii + 3 sum_{i!=j}
    f_iijj, a biased estimate); ``groups``, ``seed`` and the returned
    ``OperatorEstimate(estimate, stderr, samples)`` are as for ``laplacian``: each group is
    one collapsed order-4 pass over its probes, all groups in one ``vmap``.

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> float(hd.bilaplacian(lambda x: hnp.sum(x ** 2) ** 2)(np.ones(3)))  # Delta^2 |x|^4 = 8 D (D + 2)
    120.0
    >>> est = hd.bilaplacian(lambda x: hnp.sum(x ** 4), method="stochastic", samples=50)(np.ones(3))
    >>> bool(abs(est.estimate - 72.0) < 4 * est.stderr)   # 24 per entry
    True
    """
    _check_method("bilaplacian", method)
    if method == "stochastic" and distribution == "rademacher":
        raise ValueError("bilaplacian: distribution='rademacher' is biased for the bi-Laplacian "
                         "(E[D^4_v f] = sum_i f_iiii + 3 sum_{i!=j} f_iijj for +-1 entries); use 'gaussian'")
    groups = _check_stochastic("bilaplacian", samples, seed, distribution, groups, distributions=("gaussian",))
    checked = _scalar_check("bilaplacian", f)

    def bilap(x):
        _point_check("bilaplacian", x)
        dtype = _real_dtype(x)
        if method == "stochastic":
            probes = _draw_probes(seed, distribution, samples, _shape(x), dtype)
            third = np.asarray(1 / 3, dtype=dtype)
            return _stochastic(lambda group: collapsed_taylor(checked, x, group, order=4) * third, probes, groups)
        directions, weights = _bilaplacian_directions(_shape(x), dtype)
        return collapsed_taylor(checked, x, directions, weights, order=4)

    return bilap
