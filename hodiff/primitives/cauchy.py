"""The Cauchy product of truncated Taylor series, and the exponential's recurrence, as primitives.

``series_product(a, b)`` takes two coefficient arrays of shape (N,) + s_a and
(N,) + s_b (the coefficient axis first, member shapes broadcasting against
each other and of the same rank) and returns c of shape (N,) + broadcast(s_a, s_b),

    c_k = sum_{j=0..k} a_j b_{k-j},   k = 0..N-1,

the coefficients of a(t) b(t) truncated after t^(N-1). It is the product
every Taylor rule is built from (products, integer powers, integrals
y' = v x', compositions). As one primitive it costs one call whatever N is
and holds O(N x entries) memory, where a gather of the (N, N) Toeplitz array
would hold O(N^2 x entries); its rules are written with itself:

- bilinear: JVP ``series_product(da, b) + series_product(a, db)``;
- VJP (the transpose): ``ga_j = sum_{k>=j} g_k b_{k-j}``, a correlation, which
  is ``reverse(series_product(reverse(g), b))`` along the coefficient axis,
  summed back to a's shape where a was broadcast;
- batch: the coefficient axis moves behind the batch axis (parameter ``axis``).

>>> import numpy as np
>>> series_product(np.array([1.0, 1.0, 0.0]), np.array([1.0, 1.0, 0.0]))   # (1 + t)^2
array([1., 2., 1.])

``series_exp`` (below) is the recurrence of exp, sin/cos and sinh/cosh in one
call, for the same reason: the K steps of k y_k = sum_j j w_j y_{k-j} as
primitives were K multiplies, sums, slices and concatenations each (99 of the
replayed 8th derivative of W6's sin(x) exp(-x^2/2) were these).
"""

import numpy as np

from ..core import backends
from ..core.trace import Primitive
from .rules import dtype_of, shape_of

__all__ = ["series_product", "series_exp"]

_GATHER_LIMIT = 1 << 15  # below N * N * entries this many numbers, one gather beats N numpy calls
_gather_index_cache = {}


def _gather_index(n):
    """index[k, j] = k - j for j <= k, else n (a zero row appended after b_0..b_{n-1})."""
    index = _gather_index_cache.get(n)
    if index is None:
        k = np.arange(n)[:, None]
        j = np.arange(n)[None, :]
        index = _gather_index_cache[n] = np.where(j <= k, k - j, n)
    return index


def _series_product_impl(a, b, axis=0):
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == b.ndim == 1 and 0 < len(a) == len(b):
        # one series each (a scalar's derivatives, W6): numpy's convolution, 1.7 us against 25 us below
        return np.convolve(a, b)[:len(a)].astype(np.result_type(a, b), copy=False)
    a = backends.asarray(a)
    b = backends.asarray(b)
    if a.ndim != b.ndim:
        raise ValueError(f"series_product: arguments of rank {a.ndim} and {b.ndim}; align their member "
                         "ranks first (series.align)")
    if axis:
        a = np.moveaxis(a, axis, 0)
        b = np.moveaxis(b, axis, 0)
    n = a.shape[0]
    if b.shape[0] != n:
        raise ValueError(f"series_product: {a.shape[0]} and {b.shape[0]} coefficients")
    member = np.broadcast_shapes(a.shape[1:], b.shape[1:])
    dtype = np.result_type(a, b)
    entries = int(np.prod(member, dtype=np.int64))
    if not (type(a) is np.ndarray and type(b) is np.ndarray) and backends.first_foreign((a, b)) is not None:
        # Dask and CuPy: no 2-D gather index (Dask) nor out= into a fresh numpy array; one sum per coefficient.
        out = np.stack([np.broadcast_to(np.sum(np.multiply(a[:k + 1], b[k::-1]), axis=0), member)
                        for k in range(n)]).astype(dtype, copy=False)
    elif n * n * entries <= _GATHER_LIMIT:
        padded = np.concatenate([b, np.zeros((1,) + b.shape[1:], dtype=b.dtype)], axis=0)
        terms = a[None, :] * padded[_gather_index(n)]
        if not np.all(np.isfinite(a)):  # a_j (j > k) times the zero row is nan: it must not reach y_k
            index = _gather_index(n).reshape((n, n) + (1,) * (a.ndim - 1))
            terms = np.where(index < n, terms, 0)
        out = np.sum(terms, axis=1)
        out = np.broadcast_to(out, (n,) + member).astype(dtype, copy=False)
    else:
        out = np.empty((n,) + member, dtype=dtype)
        for k in range(n):  # O(n x entries) at a time, never the (n, n) Toeplitz array
            np.sum(np.multiply(a[:k + 1], b[k::-1]), axis=0, out=out[k])
    return np.moveaxis(out, 0, axis) if axis else out


def _reverse(x, axis):
    from .shape import getitem

    index = (slice(None),) * axis + (slice(None, None, -1),)
    return getitem(x, index=index)


def _vjp(position):
    def rule(g, ans, a, b, axis=0):
        from .shape import sum_to_shape

        other = b if position == 0 else a
        mine = a if position == 0 else b
        contribution = _reverse(series_product(_reverse(g, axis), other, axis=axis), axis)
        shape = tuple(shape_of(mine))
        return contribution if tuple(shape_of(contribution)) == shape else sum_to_shape(contribution, shape)

    return rule


def _jvp_a(t, ans, a, b, axis=0):
    return series_product(t, b, axis=axis)


def _jvp_b(t, ans, a, b, axis=0):
    return series_product(a, t, axis=axis)


def _batch(values, batched, axis=0):
    from .shape import reshape

    member_ndim = max(len(shape_of(v)) - (1 if is_batched else 0) for v, is_batched in zip(values, batched))
    aligned = []
    for value, is_batched in zip(values, batched):
        shape = tuple(shape_of(value))
        if not is_batched:
            value = reshape(value, shape=(1,) + shape)
        aligned.append(value)
    for value in aligned:
        if len(shape_of(value)) != member_ndim + 1:
            raise ValueError("series_product: batched arguments of different ranks")
    return series_product(*aligned, axis=axis + 1)


def _taylor(ans, primals, series, axis=0):
    from .rules import taylor_bilinear

    return taylor_bilinear(series_product)(ans, primals, series, axis=axis)


series_product = Primitive("series_product", _series_product_impl, vjp=(_vjp(0), _vjp(1)),
                           jvp=(_jvp_a, _jvp_b), batch=_batch, taylor=_taylor)
series_product.__doc__ = __doc__.split("\n\n", 1)[1].split(">>>", 1)[0].strip()


# --------------------------------------------------------------- series_exp

# kind -> sigma of the channel pair (c, s): s' = c w', c' = sigma s w'. "exp" has no channel axis.
_PAIR_SIGN = {"sin_cos": -1.0, "cosh_sinh": 1.0}
_SCALAR_LIMIT = 64  # coefficients up to which one entry's recurrence runs on Python floats
_SCALAR_START = {"exp": (), "sin_cos": (2,), "cosh_sinh": (2,)}  # y0's shape for one entry


def _check_series_exp(y0_shape, w_shape, kind):
    if kind != "exp" and kind not in _PAIR_SIGN:
        raise ValueError(f"series_exp: kind must be 'exp', 'sin_cos' or 'cosh_sinh', not {kind!r}")
    if len(w_shape) < 1:
        raise ValueError("series_exp: w needs a leading coefficient axis (w_1 .. w_K)")
    member = y0_shape if kind == "exp" else y0_shape[1:]
    if kind != "exp" and y0_shape[:1] != (2,):
        raise ValueError(f"series_exp({kind!r}): y0 holds the pair (c_0, s_0) on a leading axis of length 2, "
                         f"not shape {y0_shape}")
    if len(member) > len(w_shape) - 1:
        raise ValueError(f"series_exp: y0's member rank {len(member)} exceeds w's {len(w_shape) - 1}; "
                         "raise w's member rank first (leading ones)")
    return np.broadcast_shapes(member, w_shape[1:])


def _rotate(y, sign):
    """A (c, s) = (sign s, c) on the channel axis 0 of a numpy coefficient."""
    return np.stack([sign * y[1], y[0]])


def _series_exp_scalar(y0, w, kind):
    """One entry's recurrence on Python floats: w of shape (K,), y0 of shape () or (2,)."""
    jw = [(j + 1) * v for j, v in enumerate(w.tolist())]
    order = len(jw)
    if kind == "exp":
        y = [float(y0)]
        for k in range(1, order + 1):
            total = 0.0
            for j in range(1, k + 1):
                total += jw[j - 1] * y[k - j]
            y.append(total / k)
        return np.array(y[1:])
    sign = _PAIR_SIGN[kind]
    c, s = y0.tolist()
    c, s = [c], [s]
    for k in range(1, order + 1):
        total_c = total_s = 0.0
        for j in range(1, k + 1):
            total_s += jw[j - 1] * c[k - j]
            total_c += jw[j - 1] * s[k - j]
        c.append(sign * total_c / k)
        s.append(total_s / k)
    return np.array([c[1:], s[1:]]).T.copy()


def _series_exp_impl(y0, w, kind="exp"):
    if type(w) is np.ndarray and w.ndim == 1 and w.dtype == np.float64 and len(w) <= _SCALAR_LIMIT and (
            type(y0) in (float, np.float64) and kind == "exp"
            or type(y0) is np.ndarray and y0.dtype == np.float64 and y0.shape == _SCALAR_START.get(kind)):
        return _series_exp_scalar(y0, w, kind)  # one entry (a scalar's derivatives, W6)
    dtype = np.result_type(y0, w, 1.0)  # a Python y0 stays weak: float32 w gives float32
    y0 = backends.asarray(y0)
    w = backends.asarray(w)
    member = _check_series_exp(np.shape(y0), np.shape(w), kind)
    order = w.shape[0]
    numpy_only = type(y0) is np.ndarray and type(w) is np.ndarray
    channels = () if kind == "exp" else (2,)
    if order == 0:
        return np.zeros((0,) + channels + member, dtype=dtype)
    weights = np.arange(1, order + 1).astype(np.finfo(dtype).dtype).reshape((order,) + (1,) * (w.ndim - 1))
    jw = (w * weights).astype(dtype, copy=False)
    if channels:
        jw = jw[:, None]
    pad = (1,) * (len(member) - (y0.ndim - len(channels)))  # y0's member right-aligned against w's
    y0 = np.broadcast_to(y0.reshape(channels + pad + y0.shape[len(channels):]), channels + member).astype(dtype)
    sign = _PAIR_SIGN.get(kind)
    generated = (lambda y: y) if sign is None else (lambda y: _rotate(y, sign))
    if numpy_only:
        z = np.empty((order,) + channels + member, dtype=dtype)  # z_k = A y_k, newest last
        out = np.empty((order,) + channels + member, dtype=dtype)
        z[0] = generated(y0)
        for k in range(1, order + 1):
            out[k - 1] = np.sum(jw[:k] * z[k - 1::-1], axis=0) / k
            if k < order:
                z[k] = generated(out[k - 1])
        return out
    # Dask and CuPy: no item assignment into a numpy buffer; one sum per coefficient
    z, ys = [generated(y0)], []
    for k in range(1, order + 1):
        total = jw[0] * z[k - 1]
        for j in range(2, k + 1):
            total = total + jw[j - 1] * z[k - j]
        ys.append((total / k).astype(dtype, copy=False))
        z.append(generated(ys[-1]))
    return np.stack(ys)


def _channel_count(kind):
    return 0 if kind == "exp" else 1


def _generated_history(ans, y0, kind):
    """[A y_0, A y_1, ..., A y_{K-1}]: the (K,) + ans-member array the product rules multiply by."""
    from .elementwise import multiply
    from .shape import broadcast_to, concatenate, getitem, reshape

    shape = tuple(shape_of(ans))
    if type(y0) in (int, float):  # a Python start (the VJP's unit response) in the answer's precision
        y0 = np.asarray(y0, dtype=dtype_of(ans))
    start = tuple(shape_of(y0))
    channels = shape[1:1 + _channel_count(kind)]
    member = shape[1 + len(channels):]
    pad = len(member) - (len(start) - len(channels))
    if pad:
        y0 = reshape(y0, shape=channels + (1,) * pad + start[len(channels):])
    if tuple(shape_of(y0)) != shape[1:]:
        y0 = broadcast_to(y0, shape=shape[1:])
    history = concatenate(reshape(y0, shape=(1,) + shape[1:]), getitem(ans, index=slice(0, shape[0] - 1)), axis=0)
    if kind == "exp":
        return history
    signs = np.array([_PAIR_SIGN[kind], 1.0], dtype=np.finfo(np.result_type(dtype_of(ans), 1.0)).dtype)
    swapped = getitem(history, index=(slice(None), slice(None, None, -1)))
    return multiply(swapped, signs.reshape((1, 2) + (1,) * len(member)))


def _with_channel_axis(w, kind):
    from .shape import reshape

    if kind == "exp":
        return w
    shape = tuple(shape_of(w))
    return reshape(w, shape=shape[:1] + (1,) + shape[1:])


def _series_exp_jvp_y0(t, ans, y0, w, kind="exp"):
    return series_exp(t, w, kind=kind)  # linear in y0


def _series_exp_jvp_w(t, ans, y0, w, kind="exp"):
    # y(t) = M(w(t) - w_0) y_0 with A M = M A and dM/dw = A M: dy_k = sum_{j=1..k} dw_j (A y)_{k-j}
    return series_product(_with_channel_axis(t, kind), _generated_history(ans, y0, kind))


def _series_exp_vjp_y0(g, ans, y0, w, kind="exp"):
    from .elementwise import multiply
    from .shape import stack, sum, sum_to_shape

    start = tuple(shape_of(y0))
    if kind == "exp":
        response = series_exp(1.0, w)  # d y_k / d y_0 (elementwise)
        return sum_to_shape(sum(multiply(g, response), axis=0), start)
    precision = np.finfo(np.result_type(dtype_of(w), 1.0)).dtype
    parts = []
    for channel in range(2):  # d y_k / d y_0[channel]: the response to a unit start in that channel
        unit = np.zeros(2, dtype=precision)
        unit[channel] = 1.0
        response = series_exp(unit, w, kind=kind)  # (K, 2) + w's member
        parts.append(sum_to_shape(sum(multiply(g, response), axis=(0, 1)), start[1:]))
    return stack(*parts, axis=0)


def _series_exp_vjp_w(g, ans, y0, w, kind="exp"):
    from .shape import sum, sum_to_shape

    contribution = _reverse(series_product(_reverse(g, 0), _generated_history(ans, y0, kind)), 0)
    if kind != "exp":
        contribution = sum(contribution, axis=1)
    shape = tuple(shape_of(w))
    return contribution if tuple(shape_of(contribution)) == shape else sum_to_shape(contribution, shape)


def _series_exp_batch(values, batched, kind="exp"):
    from .shape import moveaxis, reshape

    y0, w = values
    channels = _channel_count(kind)
    if batched[1]:
        w = moveaxis(w, 0, 1)  # (K, B) + member
    else:
        shape = tuple(shape_of(w))
        w = reshape(w, shape=shape[:1] + (1,) + shape[1:])
    if batched[0]:
        if channels:
            y0 = moveaxis(y0, 0, 1)  # (2, B) + member
        shape = tuple(shape_of(y0))
        pad = (len(shape_of(w)) - 1) - (len(shape) - channels)
        if pad:
            y0 = reshape(y0, shape=shape[:channels + 1] + (1,) * pad + shape[channels + 1:])
    return moveaxis(series_exp(y0, w, kind=kind), 1 + channels, 0)


def _series_exp_reference(y0, w, kind):
    """The recurrence written with primitives, one coefficient at a time (what series_exp computes):
    Taylor mode over series_exp runs it, each step's primitives carrying their own series."""
    from .elementwise import add, multiply, true_divide
    from .shape import getitem, reshape, stack

    order = shape_of(w)[0]
    sign = _PAIR_SIGN.get(kind)
    if sign is not None:  # the pair axis ahead of a member shape of w's rank
        start = tuple(shape_of(y0))
        pad = (len(shape_of(w)) - 1) - (len(start) - 1)
        if pad:
            y0 = reshape(y0, shape=start[:1] + (1,) * pad + start[1:])

    def generated(y):
        return y if sign is None else stack(multiply(sign, getitem(y, index=1)), getitem(y, index=0), axis=0)

    jw = [multiply(float(j), getitem(w, index=j - 1)) for j in range(1, order + 1)]
    z, ys = [generated(y0)], []
    for k in range(1, order + 1):
        total = multiply(jw[0], z[k - 1])
        for j in range(2, k + 1):
            total = add(total, multiply(jw[j - 1], z[k - j]))
        ys.append(true_divide(total, float(k)))
        z.append(generated(ys[-1]))
    return stack(*ys, axis=0)


def _series_exp_taylor(ans, primals, series, kind="exp"):
    from ..interpreters.taylor import TaylorTrace, TaylorTracer
    from .shape import broadcast_to

    order = next(shape_of(s)[0] for s in series if s is not None)
    trace = TaylorTrace(order)
    args = [p if s is None else TaylorTracer(p, s, trace) for p, s in zip(primals, series)]
    try:
        out = _series_exp_reference(*args, kind=kind)
    finally:
        trace.alive = False
    out_series = out.series
    shape = (order,) + tuple(shape_of(ans))
    return out_series if tuple(shape_of(out_series)) == shape else broadcast_to(out_series, shape=shape)


series_exp = Primitive("series_exp", _series_exp_impl, vjp=(_series_exp_vjp_y0, _series_exp_vjp_w),
                       jvp=(_series_exp_jvp_y0, _series_exp_jvp_w), batch=_series_exp_batch,
                       taylor=_series_exp_taylor)
series_exp.__doc__ = """Coefficients 1..K of y(t) = M(w(t) - w_0) y_0, the exponential's recurrence in one call.

``w`` has shape (K,) + s_w (coefficients w_1..w_K; w_0 plays no part), ``y0``
shape s_0 of rank <= len(s_w) (``kind="exp"``) or (2,) + s_0, the pair
(c_0, s_0) (``"sin_cos"``, ``"cosh_sinh"``). The result has shape (K,) + s
or (K, 2) + s, s = broadcast(s_0, s_w):

- ``"exp"``: y = y_0 exp(w - w_0), k y_k = sum_{j=1..k} j w_j y_{k-j};
- ``"sin_cos"``: (c, s) rotated by w - w_0 (the series of cos and sin of x
  from c_0 = cos x_0, s_0 = sin x_0 and w = x's series): k s_k = sum j w_j c_{k-j},
  k c_k = -sum j w_j s_{k-j};
- ``"cosh_sinh"``: the same with k c_k = +sum j w_j s_{k-j}.

Linear in y_0; in w, dy_k = sum_{j=1..k} dw_j (A y)_{k-j} (A = 1, or the pair's
rotation), a ``series_product``, whose transpose is the VJP.
"""
