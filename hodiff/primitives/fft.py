"""Discrete Fourier transforms (numpy.fft), differentiable.

Three primitives, all linear, with axes stored as negative numbers so that a
leading batch axis never moves them (their batch rules are the op itself):

- ``fft``: the complex transform over ``axes`` (forward or ``inverse``), each
  axis first cut or zero-padded to its length in ``s``;
- ``rfft``: the real-input transform along one axis (n real points -> n//2+1
  complex ones);
- ``irfft``: its inverse (n//2+1 complex points -> n real ones).

The other numpy.fft functions are compositions: fftn/fft2/ifftn/ifft2 are
``fft``; rfftn/irfftn chain ``rfft``/``irfft`` with ``fft`` along the other
axes, in numpy's order; hfft/ihfft use conj; fftshift/ifftshift are
permutations (``take``).

Reverse mode follows JAX's convention for complex values: the VJP of a linear
map is its *transpose*, not its adjoint (no conjugation), and a real input
keeps the real part of its cotangent.

- The DFT matrix is symmetric, so ``fft``'s transpose is ``fft`` itself (same
  direction and norm) followed by the transpose of the cut/pad: pad/cut back
  to the input's length.
- ``rfft`` is a full FFT of length n keeping the first n//2+1 outputs: its
  transpose zero-pads the cotangent to n, applies the FFT and keeps the real
  part (the input is real).
- ``irfft`` reads Re z_0 (and Re z_{n/2} for even n) once and every other z_k
  twice (z_k and its mirror conj(z_k)): with JAX's convention for complex
  cotangents (df/dRe - i df/dIm) its transpose is w_k ifft(g)_k for
  k < n//2+1, with weights w = 1 at 0 and n/2, 2 elsewhere.

Taylor rules come for free (linear ops map over the series).
"""

import numpy as np

from ..core import backends
from ..core.trace import Primitive, Tracer
from . import shape as S
from .elementwise import conj, multiply, real
from .rules import dtype_of, ndim_of, shape_of, taylor_linear

__all__ = ["fft", "rfft", "irfft", "FFT_API"]

_NORMS = ("backward", "ortho", "forward")


def _is_complex(x):
    return np.issubdtype(dtype_of(x), np.complexfloating)


def _resize(x, axis, length):
    """x cut or zero-padded to ``length`` along ``axis`` (a negative axis)."""
    current = shape_of(x)[axis]
    if current == length:
        return x
    trailing = (slice(None),) * (-axis - 1)
    if length < current:
        return S.getitem(x, index=(Ellipsis, slice(0, length)) + trailing)
    pad_shape = list(shape_of(x))
    pad_shape[axis] = length - current
    return S.concatenate(x, np.zeros(pad_shape, dtype=dtype_of(x)), axis=axis)


def _real_if(cotangent, x):
    """A real argument's cotangent is the real part (JAX's transpose of real -> complex)."""
    return cotangent if _is_complex(x) else real(cotangent)


# --------------------------------------------------------------- complex-to-complex

def _whole_along(x, axes):
    """x, with each of ``axes`` in one chunk if it is a Dask array: Dask transforms only whole axes."""
    if type(x) is np.ndarray or backends.backend_name(x) != "dask":
        return x
    return x.rechunk({axis % x.ndim: -1 for axis in axes})


def _fft_impl(x, axes, s, inverse, norm):
    transform = np.fft.ifftn if inverse else np.fft.fftn
    return transform(_whole_along(x, axes), s=s, axes=axes, norm=norm)


def _fft_vjp(g, ans, x, axes, s, inverse, norm):
    out = fft(g, axes=axes, s=s, inverse=inverse, norm=norm)
    for axis in axes:
        out = _resize(out, axis, shape_of(x)[axis])
    return _real_if(out, x)


# x (..., m_1, ..., m_k, ...) -> complex, with the transformed axes of lengths s.
fft = Primitive(
    "fft", _fft_impl,
    vjp=(_fft_vjp,),
    jvp=(lambda t, ans, x, **params: fft(t, **params),),
    batch=lambda values, batched, **params: fft(values[0], **params),
)
fft.taylor = taylor_linear(fft)


# --------------------------------------------------------------- real-to-complex

def _rfft_impl(x, axis, n, norm):
    return np.fft.rfft(_whole_along(x, (axis,)), n=n, axis=axis, norm=norm)


def _rfft_vjp(g, ans, x, axis, n, norm):
    padded = _resize(g, axis, n)
    full = fft(padded, axes=(axis,), s=(n,), inverse=False, norm=norm)
    return real(_resize(full, axis, shape_of(x)[axis]))


# x real (..., m, ...) -> complex (..., n//2+1, ...) along axis.
rfft = Primitive(
    "rfft", _rfft_impl,
    vjp=(_rfft_vjp,),
    jvp=(lambda t, ans, x, **params: rfft(t, **params),),
    batch=lambda values, batched, **params: rfft(values[0], **params),
)
rfft.taylor = taylor_linear(rfft)


# --------------------------------------------------------------- complex-to-real

def _irfft_impl(x, axis, n, norm):
    return np.fft.irfft(_whole_along(x, (axis,)), n=n, axis=axis, norm=norm)


def _hermitian_weights(n, ndim_after, dtype):
    """1 for the terms read once (k = 0, and n/2 for even n), 2 for the others; shaped for the axis."""
    half = n // 2 + 1
    weights = np.full(half, 2.0, dtype=np.dtype(dtype).type(0).real.dtype)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    return weights.reshape((half,) + (1,) * ndim_after)


def _irfft_vjp(g, ans, x, axis, n, norm):
    if _is_complex(g):
        g = real(g)  # the output is real: an imaginary part of its cotangent is meaningless
    spectrum = fft(g, axes=(axis,), s=(n,), inverse=True, norm=norm)
    half = _resize(spectrum, axis, n // 2 + 1)
    weighted = multiply(half, _hermitian_weights(n, -axis - 1, dtype_of(half)))
    return _real_if(_resize(weighted, axis, shape_of(x)[axis]), x)


# z complex (..., m, ...) -> real (..., n, ...) along axis (z cut or padded to n//2+1 first).
irfft = Primitive(
    "irfft", _irfft_impl,
    vjp=(_irfft_vjp,),
    jvp=(lambda t, ans, x, **params: irfft(t, **params),),
    batch=lambda values, batched, **params: irfft(values[0], **params),
)
irfft.taylor = taylor_linear(irfft)


# --------------------------------------------------------------- the numpy.fft names

def _as_array(a):
    if isinstance(a, Tracer):
        return a
    a = backends.asarray(a)
    return a if np.issubdtype(a.dtype, np.inexact) else a.astype(np.float64)


def _norm(norm, name):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise ValueError(f"{name}: invalid norm {norm!r}; expected None, 'backward', 'ortho' or 'forward'")
    return norm


def _swap_norm(norm):
    return {"backward": "forward", "forward": "backward", "ortho": "ortho"}[norm]


def _axis(axis, ndim, name):
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim, msg_prefix=name)
    return axis % ndim - ndim


def _length(n, default, name):
    if n is None or n == -1:
        return default
    if int(n) != n or n < 1:
        raise ValueError(f"{name}: invalid number of data points ({n}) specified")
    return int(n)


def _no_out(out, name):
    if out is not None:
        raise TypeError(f"{name}: out= is not supported (hodiff arrays are immutable)")


def _one_axis(a, n, axis, norm, out, name):
    a = _as_array(a)
    _no_out(out, name)
    if ndim_of(a) == 0:
        raise ValueError(f"{name}: the input must have at least one dimension")
    axis = _axis(axis, ndim_of(a), name)
    return a, axis, _norm(norm, name)


def np_fft(a, n=None, axis=-1, norm=None, out=None):
    """One-dimensional DFT along ``axis`` (numpy.fft.fft); a cut or zero-padded to ``n`` first.

    Linear; the VJP is the transpose (an FFT, no conjugation: JAX's convention).

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.grad(lambda x: hnp.real(hnp.fft.fft(x))[0])(np.array([1.0, 2.0, 3.0]))
    array([1., 1., 1.])
    """
    a, axis, norm = _one_axis(a, n, axis, norm, out, "fft")
    n = _length(n, shape_of(a)[axis], "fft")
    return fft(a, axes=(axis,), s=(n,), inverse=False, norm=norm)


def np_ifft(a, n=None, axis=-1, norm=None, out=None):
    """One-dimensional inverse DFT along ``axis`` (numpy.fft.ifft)."""
    a, axis, norm = _one_axis(a, n, axis, norm, out, "ifft")
    n = _length(n, shape_of(a)[axis], "ifft")
    return fft(a, axes=(axis,), s=(n,), inverse=True, norm=norm)


def np_rfft(a, n=None, axis=-1, norm=None, out=None):
    """DFT of real input along ``axis`` (numpy.fft.rfft): (..., n) real -> (..., n//2+1) complex.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.grad(lambda x: hnp.imag(hnp.fft.rfft(x))[1])(np.zeros(4))
    array([ 0., -1.,  0.,  1.])
    """
    a, axis, norm = _one_axis(a, n, axis, norm, out, "rfft")
    if _is_complex(a):
        raise TypeError("rfft: the input must be real; use fft for complex input")
    n = _length(n, shape_of(a)[axis], "rfft")
    return rfft(a, axis=axis, n=n, norm=norm)


def np_irfft(a, n=None, axis=-1, norm=None, out=None):
    """Inverse of rfft along ``axis`` (numpy.fft.irfft): (..., m) complex -> (..., n) real, n = 2 (m - 1) by default.

    Only Re a_0 (and Re a_{n/2} for even n) is read of those entries, so
    their imaginary parts get zero cotangent.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.grad(lambda z: hnp.fft.irfft(z)[0], holomorphic=False)(np.ones(3, complex))
    array([0.25+0.j, 0.5 +0.j, 0.25+0.j])
    """
    a, axis, norm = _one_axis(a, n, axis, norm, out, "irfft")
    n = _length(n, 2 * (shape_of(a)[axis] - 1), "irfft")
    return irfft(a, axis=axis, n=n, norm=norm)


def np_hfft(a, n=None, axis=-1, norm=None, out=None):
    """DFT of a Hermitian-symmetric signal given by its first half (numpy.fft.hfft): real output."""
    a, axis, norm = _one_axis(a, n, axis, norm, out, "hfft")
    n = _length(n, 2 * (shape_of(a)[axis] - 1), "hfft")
    return irfft(conj(a), axis=axis, n=n, norm=_swap_norm(norm))


def np_ihfft(a, n=None, axis=-1, norm=None, out=None):
    """Inverse of hfft (numpy.fft.ihfft): real (..., n) -> complex (..., n//2+1)."""
    a, axis, norm = _one_axis(a, n, axis, norm, out, "ihfft")
    if _is_complex(a):
        raise TypeError("ihfft: the input must be real")
    n = _length(n, shape_of(a)[axis], "ihfft")
    return conj(rfft(a, axis=axis, n=n, norm=_swap_norm(norm)))


def _axes_and_lengths(a, s, axes, name, last_default=None):
    """numpy's rules for (s, axes): negative axes and the lengths to cut or pad each to."""
    ndim = ndim_of(a)
    if axes is None:
        axes = tuple(range(ndim)) if s is None else tuple(range(ndim - len(s), ndim))
    else:
        axes = (axes,) if isinstance(axes, int) else tuple(axes)
    axes = tuple(_axis(axis, ndim, name) for axis in axes)
    if s is not None:
        s = (s,) if isinstance(s, int) else tuple(s)
        if len(s) != len(axes):
            raise ValueError(f"{name}: shape s and axes have different lengths ({len(s)} != {len(axes)})")
    shape = shape_of(a)
    lengths = []
    for i, axis in enumerate(axes):
        default = shape[axis]
        if last_default is not None and i == len(axes) - 1:
            default = last_default(shape[axis])
        lengths.append(_length(None if s is None else s[i], default, name))
    return axes, tuple(lengths)


def _fftn(a, s, axes, norm, inverse, name):
    if ndim_of(a) == 0:
        raise ValueError(f"{name}: the input must have at least one dimension")
    axes, lengths = _axes_and_lengths(a, s, axes, name)
    if not axes:
        return a
    if len(set(axes)) == len(axes):
        return fft(a, axes=axes, s=lengths, inverse=inverse, norm=norm)
    # A repeated axis is transformed repeatedly, in numpy's order (last listed first).
    for axis, length in reversed(list(zip(axes, lengths))):
        a = fft(a, axes=(axis,), s=(length,), inverse=inverse, norm=norm)
    return a


def np_fftn(a, s=None, axes=None, norm=None, out=None):
    """N-dimensional DFT over ``axes`` (all by default), each cut or padded to ``s`` (numpy.fft.fftn)."""
    _no_out(out, "fftn")
    return _fftn(_as_array(a), s, axes, _norm(norm, "fftn"), False, "fftn")


def np_ifftn(a, s=None, axes=None, norm=None, out=None):
    """N-dimensional inverse DFT (numpy.fft.ifftn)."""
    _no_out(out, "ifftn")
    return _fftn(_as_array(a), s, axes, _norm(norm, "ifftn"), True, "ifftn")


def np_fft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """Two-dimensional DFT over ``axes`` (numpy.fft.fft2)."""
    _no_out(out, "fft2")
    return _fftn(_as_array(a), s, axes, _norm(norm, "fft2"), False, "fft2")


def np_ifft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """Two-dimensional inverse DFT (numpy.fft.ifft2)."""
    _no_out(out, "ifft2")
    return _fftn(_as_array(a), s, axes, _norm(norm, "ifft2"), True, "ifft2")


def np_rfftn(a, s=None, axes=None, norm=None, out=None):
    """N-dimensional DFT of real input (numpy.fft.rfftn): rfft along the last axis, fft along the others."""
    _no_out(out, "rfftn")
    a = _as_array(a)
    if _is_complex(a):
        raise TypeError("rfftn: the input must be real")
    norm = _norm(norm, "rfftn")
    axes, lengths = _axes_and_lengths(a, s, axes, "rfftn")
    if not axes:
        raise ValueError("rfftn: at least one axis must be transformed")
    out = rfft(a, axis=axes[-1], n=lengths[-1], norm=norm)
    if len(axes) > 1:
        out = _fftn(out, lengths[:-1], axes[:-1], norm, False, "rfftn")
    return out


def np_irfftn(a, s=None, axes=None, norm=None, out=None):
    """Inverse of rfftn (numpy.fft.irfftn): ifft along all axes but the last, then irfft along it."""
    _no_out(out, "irfftn")
    a = _as_array(a)
    norm = _norm(norm, "irfftn")
    axes, lengths = _axes_and_lengths(a, s, axes, "irfftn", last_default=lambda m: 2 * (m - 1))
    if not axes:
        raise ValueError("irfftn: at least one axis must be transformed")
    if len(axes) > 1:
        a = _fftn(a, lengths[:-1], axes[:-1], norm, True, "irfftn")
    return irfft(a, axis=axes[-1], n=lengths[-1], norm=norm)


def np_rfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """Two-dimensional rfftn (numpy.fft.rfft2)."""
    return np_rfftn(a, s, axes, norm, out)


def np_irfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """Two-dimensional irfftn (numpy.fft.irfft2)."""
    return np_irfftn(a, s, axes, norm, out)


def _shift(x, axes, sign, name):
    x = _as_array(x)
    ndim = ndim_of(x)
    if axes is None:
        axes = tuple(range(ndim))
    elif isinstance(axes, int):
        axes = (axes,)
    for axis in axes:
        axis = _axis(axis, ndim, name) % ndim
        n = shape_of(x)[axis]
        x = S.take(x, (np.arange(n) - sign * (n // 2)) % n, axis=axis)
    return x


def np_fftshift(x, axes=None):
    """Move the zero-frequency term to the centre (numpy.fft.fftshift): a permutation, so linear.

    >>> import numpy as np, hodiff.numpy as hnp
    >>> hnp.fft.fftshift(np.arange(5.0))
    array([3., 4., 0., 1., 2.])
    """
    return _shift(x, axes, 1, "fftshift")


def np_ifftshift(x, axes=None):
    """Inverse of fftshift (numpy.fft.ifftshift)."""
    return _shift(x, axes, -1, "ifftshift")


FFT_API = {
    "fft": np_fft, "ifft": np_ifft, "rfft": np_rfft, "irfft": np_irfft, "hfft": np_hfft, "ihfft": np_ihfft,
    "fftn": np_fftn, "ifftn": np_ifftn, "fft2": np_fft2, "ifft2": np_ifft2,
    "rfftn": np_rfftn, "irfftn": np_irfftn, "rfft2": np_rfft2, "irfft2": np_irfft2,
    "fftshift": np_fftshift, "ifftshift": np_ifftshift,
    "fftfreq": np.fft.fftfreq, "rfftfreq": np.fft.rfftfreq,
}
for _name, _function in FFT_API.items():
    if _function.__module__ == __name__:
        _function.__name__ = _function.__qualname__ = _name
