"""The Cauchy product of truncated Taylor series, as one primitive.

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
"""

import numpy as np

from ..core import backends
from ..core.trace import Primitive
from .rules import shape_of

__all__ = ["series_product"]

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
        out = np.sum(a[None, :] * padded[_gather_index(n)], axis=1)
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
