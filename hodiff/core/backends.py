"""Array backends: which library a value's arrays come from, and fresh arrays made like it.

hodiff's primitives call numpy functions, and numpy hands a call on a Dask or
CuPy array to that library (NEP 18's ``__array_function__``, NEP 13's
``__array_ufunc__``), so most of hodiff runs on them unchanged. What does not
dispatch is the arrays hodiff makes itself (seeds, zero tangents, Jacobian
bases) and ``np.asarray``, which would compute a Dask array into numpy: those
go through this module, which makes arrays of the kind of a given value.

numpy stays the default and is recognised by type first, so the numpy paths
pay one ``type(x) in set`` test; the other libraries are never imported here
(a Dask array exists only if dask.array was imported).
"""

import sys

import numpy as np

from .errors import BackendError
from .trace import Tracer

__all__ = ["backend_name", "innermost", "first_foreign", "zeros", "ones", "full", "eye", "asarray", "guard",
           "writes_as_fresh"]

_NUMPY_TYPES = frozenset({float, int, complex, bool, np.ndarray, np.float64, np.float32, np.complex128,
                          np.complex64, np.int64, np.int32, np.bool_})
_names = {}  # type -> backend name, filled on first sight of a type


def backend_name(value):
    """'numpy', 'dask' or 'cupy': the library the (plain, untraced) ``value``'s array belongs to."""
    kind = type(value)
    if kind in _NUMPY_TYPES:
        return "numpy"
    name = _names.get(kind)
    if name is None:
        name = _names[kind] = _name_of_type(kind)
    return name


def _name_of_type(kind):
    root = kind.__module__.partition(".")[0]
    if root == "dask":
        array = getattr(sys.modules.get("dask.array"), "Array", None)
        if array is not None and issubclass(kind, array):
            return "dask"
    elif root == "cupy":
        array = getattr(sys.modules.get("cupy"), "ndarray", None)
        if array is not None and issubclass(kind, array):
            return "cupy"
    return "numpy"  # numpy scalars, lists, array-likes numpy converts


def innermost(value):
    """The plain array under any number of tracers (a batched value's whole batch)."""
    while isinstance(value, Tracer):
        inner = getattr(value, "value", None)  # reverse-mode and batch tracers
        value = value.primal if inner is None else inner
    return value


def first_foreign(values):
    """The first of ``values`` (tracers looked through) not of numpy, or None: what fresh arrays are made like."""
    for value in values:
        value = innermost(value)
        if type(value) not in _NUMPY_TYPES and backend_name(value) != "numpy":
            return value
    return None


def _foreign(like):
    """The non-numpy array ``like`` stands for, or None when fresh arrays should be numpy's."""
    if like is None or type(like) in _NUMPY_TYPES:
        return None
    like = innermost(like)
    return None if backend_name(like) == "numpy" else like


def zeros(shape, dtype=float, like=None):
    """np.zeros, of ``like``'s backend."""
    like = _foreign(like)
    return np.zeros(shape, dtype=dtype) if like is None else np.zeros(shape, dtype=dtype, like=like)


def ones(shape, dtype=float, like=None):
    """np.ones, of ``like``'s backend."""
    like = _foreign(like)
    return np.ones(shape, dtype=dtype) if like is None else np.ones(shape, dtype=dtype, like=like)


def full(shape, fill_value, dtype=None, like=None):
    """np.full, of ``like``'s backend."""
    like = _foreign(like)
    if like is None:
        return np.full(shape, fill_value, dtype=dtype)
    return np.full(shape, fill_value, dtype=dtype, like=like)


def eye(size, dtype=float, like=None):
    """np.eye, of ``like``'s backend (dask.array.eye does not take numpy's ``like=`` call, so it is converted)."""
    basis = np.eye(size, dtype=dtype)
    like = _foreign(like)
    return basis if like is None else np.asarray(basis, like=like)


def asarray(value, dtype=None, like=None):
    """np.asarray, except that an array of another backend stays in it (np.asarray would compute a Dask array),
    and a numpy value becomes an array of ``like``'s backend when that is not numpy."""
    if type(value) is np.ndarray and (like is None or type(like) in _NUMPY_TYPES) \
            and (dtype is None or value.dtype == dtype):
        return value  # the numpy path: nothing to do
    if backend_name(value) != "numpy":
        return value if dtype is None or value.dtype == dtype else value.astype(dtype)
    like = _foreign(like)
    return np.asarray(value, dtype=dtype) if like is None else np.asarray(value, dtype=dtype, like=like)


def writes_as_fresh(target, *others):
    """Whether a ufunc of ``target`` and ``others`` written into ``target`` (``out=target``) is laid out as its
    fresh answer would be.

    A fresh answer follows its operands' memory order (numpy's order 'K'), and where they disagree C order
    wins. So a C-contiguous target keeps numpy's layout, and so does any target whose other operands are
    scalars or strided as it is. The values are the same either way; the layout is not, and a reduction or
    matmul downstream sums in the layout's order, so it would differ in the last bits (fuzz seed 1840).
    """
    if target.__class__ is not np.ndarray or target.flags.c_contiguous:
        return True  # (a Dask or CuPy array's layout is its own library's business)
    strides = target.strides
    for other in others:
        if other.__class__ is np.ndarray and other.ndim and other.strides != strides:
            return False
    return True


def _foreign_name(args):
    for arg in args:
        if type(arg) not in _NUMPY_TYPES:
            name = backend_name(arg)
            if name != "numpy":
                return name
    return None


# What a backend's own implementation raises where it falls short of numpy's (chunking, ranks, keywords).
_LIMITATION_ERRORS = (NotImplementedError, ValueError, TypeError, IndexError)


def guard(primitive, refuse=(), limited=(), prepare=None):
    """Make ``primitive`` raise ``BackendError`` (naming it and the backend) on the arrays of some backends.

    refuse:  backends that lack the operation: numpy's implementation would compute a Dask array into
             numpy (NEP 18's fallback) or fail deep inside, so it is refused before it runs;
    limited: backends that have it with restrictions (Dask's linalg wants 2-D arrays in square chunks,
             its FFT one chunk along the axis): their error is re-raised as a BackendError;
    prepare: ``prepare(primitive_name, backend, args) -> args`` for arguments of a non-numpy backend
             (rechunking; it may raise BackendError itself).

    Numpy arguments pay one type test each and a try block.
    """
    impl = getattr(primitive.impl, "__wrapped__", primitive.impl)
    refuse, limited = frozenset(refuse), frozenset(limited)

    def guarded(*args, **params):
        if refuse or prepare is not None:
            name = _foreign_name(args)
            if name is not None and prepare is not None:
                args = prepare(primitive.name, name, args)
            if name in refuse:
                raise BackendError(primitive.name, name, f"{name} has no implementation of it; compute the "
                                   "array to numpy first (x.compute() for Dask)")
        try:
            return impl(*args, **params)
        except _LIMITATION_ERRORS as error:
            name = _foreign_name(args)
            if name not in limited or isinstance(error, BackendError):
                raise
            raise BackendError(primitive.name, name, " ".join(str(error).split())) from error

    guarded.__wrapped__ = impl
    guarded.__name__ = getattr(impl, "__name__", primitive.name)
    primitive.impl = guarded
    return primitive
