"""Connects the primitive tables to the core, which does not import them.

- the interpreters get the primitives they combine values with (adding
  cotangents, undoing broadcasting, stacking a batch ...);
- every tracer gets numpy's operators and array methods;
- numpy functions and ufuncs, and scipy.special's, called on tracers are
  routed to hodiff's function of the same name (``numpy.sin(x)``,
  ``numpy.where(...)`` work on a traced ``x``; NEP 13 and NEP 18).
"""

import functools

import numpy as np

from ..core.backends import backend_name, guard
from ..core.errors import BackendError
from ..core.trace import Primitive, Tracer, _bind_traced, registry
from ..interpreters import batch, forward, reverse, taylor
from . import namespace
from .elementwise import add, multiply
from .indexing import at as _at
from .indexing import normalize_index as _normalize_index
from .shape import (
    broadcast_to,
    expand_dims,
    getitem,
    reshape,
    reshape_in_order,
    stack,
    sum_to_shape,
    transpose,
    zeros_like,
)

_NO_PARAMS = {}


def _horner(primal, series, t):
    """primal + series[0] t + series[1] t^2 + ... evaluated at t."""
    result = 0.0
    for k in range(series.shape[0] - 1, -1, -1):
        result = multiply(add(result, series[k]), t)
    return add(primal, result)


def _broadcast_series(series, ans):
    """A (K,) + s series as (K,) + ans.shape, the ranks aligned behind the coefficient axis."""
    series_shape = tuple(series.shape) if isinstance(series, Tracer) else np.shape(series)
    ans_shape = tuple(ans.shape) if isinstance(ans, Tracer) else np.shape(ans)
    if series_shape[1:] == ans_shape:
        return series
    missing = len(ans_shape) - (len(series_shape) - 1)
    if missing > 0:
        series = reshape(series, shape=series_shape[:1] + (1,) * missing + series_shape[1:])
    return broadcast_to(series, shape=series_shape[:1] + ans_shape)


def _index(x, k):
    return getitem(x, index=k)


def install_interpreter_ops():
    reverse._ops.update(add=add, sum_to_shape=sum_to_shape, broadcast_to=broadcast_to)
    forward._ops.update(add=add, multiply=multiply, broadcast_to=broadcast_to, zeros_like=zeros_like)
    batch._ops.update(stack=lambda xs: stack(*xs, axis=0), index=_index, broadcast_to=broadcast_to,
                      expand_dims=expand_dims, shape=np.shape)
    taylor._ops.update(stack=lambda xs: stack(*xs, axis=0), zeros_like=zeros_like, horner=_horner,
                       broadcast_series=_broadcast_series)


_NUMPY_ARRAY_UFUNC = np.ndarray.__array_ufunc__
_NEVER_DEFER = frozenset([float, int, complex, bool, np.ndarray, np.float64, np.float32, np.int64, np.complex128])


def _defers_to(other):
    """NEP 13's rule for ``tracer <op> other``: give way (NotImplemented) to a type that overrides
    ``__array_ufunc__`` (xarray.DataArray, pandas objects ...) or sets it to None, as ndarray and
    autograd's Box do: ``other``'s reflected operator, then its ``__array_ufunc__``, handle the
    tracer (which reaches hodiff again through numpy's ufunc).

    Array backends (Dask, CuPy) are the values tracers carry, not wrappers around them: a tracer
    handles ``tracer * dask_array`` itself (Dask defers to the tracer too, so deferring would leave
    nobody to do it)."""
    kind = type(other)
    if kind in _NEVER_DEFER or isinstance(other, Tracer) or backend_name(other) != "numpy":
        return False
    override = getattr(kind, "__array_ufunc__", _NUMPY_ARRAY_UFUNC)
    return override is None or override is not _NUMPY_ARRAY_UFUNC


def install_array_methods():
    api = namespace.NUMPY_API

    def binary(name, reflected=False):
        method = _binary(name, reflected)
        if reflected:
            return method

        def deferring(self, other):
            if type(other) not in _NEVER_DEFER and not isinstance(other, Tracer) and _defers_to(other):
                return NotImplemented
            return method(self, other)

        return deferring

    def _binary(name, reflected=False):
        function = api[name]
        if isinstance(function, Primitive) and function.differentiable:
            # self is a tracer: when other is a constant or a tracer of the same trace, that
            # trace is the top one and bind reduces to its process (the cost of x * y).
            if reflected:
                def method(self, other):
                    trace = self._trace
                    if (not isinstance(other, Tracer) or other._trace is trace) and trace.alive:
                        return trace.process(function, (other, self), _NO_PARAMS)
                    return _bind_traced(function, (other, self), _NO_PARAMS)
            else:
                def method(self, other):
                    trace = self._trace
                    if (not isinstance(other, Tracer) or other._trace is trace) and trace.alive:
                        return trace.process(function, (self, other), _NO_PARAMS)
                    return _bind_traced(function, (self, other), _NO_PARAMS)
            return method
        if isinstance(function, Primitive):  # self is a tracer: skip bind's search for one
            if reflected:
                return lambda self, other: _bind_traced(function, (other, self), _NO_PARAMS)
            return lambda self, other: _bind_traced(function, (self, other), _NO_PARAMS)
        if reflected:
            return lambda self, other: function(other, self)
        return lambda self, other: function(self, other)

    for dunder, name in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                         ("truediv", "true_divide"), ("pow", "power"), ("matmul", "matmul"),
                         ("mod", "remainder"), ("floordiv", "floor_divide")]:
        if name in api:
            setattr(Tracer, f"__{dunder}__", binary(name))
            setattr(Tracer, f"__r{dunder}__", binary(name, reflected=True))
    negative = api["negative"]

    def neg(self):
        trace = self._trace
        if trace.alive:
            return trace.process(negative, (self,), _NO_PARAMS)
        return _bind_traced(negative, (self,), _NO_PARAMS)

    Tracer.__neg__ = neg
    Tracer.__pos__ = lambda self: self
    if "absolute" in api:
        Tracer.__abs__ = lambda self: api["absolute"](self)
    for dunder, name in [("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                         ("ge", "greater_equal"), ("eq", "equal"), ("ne", "not_equal")]:
        if name in api:
            setattr(Tracer, f"__{dunder}__", binary(name))
    Tracer.__getitem__ = lambda self, index: getitem(self, index=_normalize_index(index))
    Tracer.at = property(_at, doc="Functional index updates: x.at[index].set(v), .add(v), .multiply(v), .get() ...")
    Tracer.T = property(lambda self: transpose(self))
    Tracer.reshape = lambda self, *shape, order="C": reshape_in_order(
        self, tuple(shape[0]) if len(shape) == 1 and not isinstance(shape[0], int) else shape, order)
    for method in ["sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "cumprod", "dot",
                   "ravel", "flatten", "squeeze", "transpose", "conj", "conjugate", "clip", "astype", "trace",
                   "diagonal", "swapaxes", "repeat", "take", "round", "argmax", "argmin", "argsort", "all", "any",
                   "copy", "ptp"]:
        name = {"flatten": "ravel"}.get(method, method)
        if name in api and method != "transpose":
            setattr(Tracer, method, _method(api[name]))
    Tracer.transpose = lambda self, *axes: transpose(
        self, axes=(tuple(axes[0]) if len(axes) == 1 and axes[0] is not None
                    else None if axes in ((), (None,)) else axes))
    if "matrix_transpose" in api:
        Tracer.mT = property(lambda self: api["matrix_transpose"](self))
    if "divmod" in api:
        Tracer.__divmod__ = lambda self, other: api["divmod"](self, other)
        Tracer.__rdivmod__ = lambda self, other: api["divmod"](other, self)
    if "real" in api:
        Tracer.real = property(lambda self: api["real"](self))
        Tracer.imag = property(lambda self: api["imag"](self))
    Tracer._counterpart = staticmethod(counterpart)


def _namespaces():
    """(where users find a function, numpy's module, hodiff's differentiable API for it)."""
    import scipy.special

    from .special import SCIPY_SPECIAL_API

    return [("numpy", np, namespace.NUMPY_API), ("numpy.linalg", np.linalg, namespace.LINALG_API),
            ("numpy.fft", np.fft, namespace.FFT_API), ("scipy.special", scipy.special, SCIPY_SPECIAL_API)]


@functools.lru_cache(maxsize=None)
def _home(function):
    """(qualified name, hodiff's function or None) of a numpy/scipy.special function or ufunc."""
    name = getattr(function, "__name__", None)
    for prefix, module, api in _namespaces():
        if getattr(module, name, None) is function:
            return f"{prefix}.{name}", api.get(name)
    return f"{getattr(function, '__module__', 'numpy')}.{name}", None


def counterpart(function):
    """hodiff's differentiable function standing for a numpy or scipy.special function or
    ufunc (``np.where`` -> ``hnp.where``, ``scipy.special.expit`` -> ``hsp.expit``), or None."""
    return _home(function)[1]


def _qualified_name(function):
    """'numpy.linalg.norm', 'scipy.special.expit': where a user finds the function."""
    return _home(function)[0]


def _method(function):
    return lambda self, *args, **kwargs: function(self, *args, **kwargs)


# Primitives Dask has no implementation of: numpy's NEP 18 fallback (or scipy's np.asarray) would compute
# the arrays into numpy and return numpy, leaving the backend silently. Refused by name instead.
DASK_LACKS = ("det", "slogdet", "eigh", "eig", "pinv", "lu", "lu_pivots", "lu_permutation", "solve_triangular",
              "solve_banded", "solve_sylvester", "expm", "sqrtm", "adjugate", "adjugate_jvp", "inverse_with_poles",
              "take_along_axis", "scatter_along_axis", "sort", "argsort", "argpartition")
# Primitives Dask has with restrictions (2-D arrays only for linalg, which get one chunk per matrix here;
# the FFTs rechunk their axes themselves; fewer keywords): Dask's error is re-raised as a BackendError
# naming the primitive.
DASK_LIMITED = ("inv", "solve", "cholesky", "qr", "svd", "fft", "rfft", "irfft")
_MATRIX_PRIMITIVES = frozenset({"inv", "solve", "cholesky", "qr", "svd"})


def _whole_matrices(primitive_name, backend, args):
    """Dask's linalg takes one 2-D matrix whose chunks are square (LU, Cholesky) or span its columns (QR,
    SVD): one chunk per matrix (and right-hand side) is always accepted."""
    if backend != "dask":
        return args
    if any(backend_name(arg) == "dask" and arg.ndim > 2 for arg in args):
        # (numpy.linalg.cholesky on a stack of Dask matrices computes it into numpy, without a word)
        raise BackendError(primitive_name, "dask", "Dask's linalg takes one 2-D matrix, not a "
                           "stack of them (nor a vmap over matrices)")
    return tuple(arg.rechunk(-1) if backend_name(arg) == "dask" else arg for arg in args)


def install_backend_guards():
    for name in DASK_LACKS:
        guard(registry[name], refuse={"dask"})
    for name in DASK_LIMITED:
        guard(registry[name], limited={"dask"}, prepare=_whole_matrices if name in _MATRIX_PRIMITIVES else None)


def install():
    install_interpreter_ops()
    install_array_methods()
    install_backend_guards()
