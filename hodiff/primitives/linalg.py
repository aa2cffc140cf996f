"""Linear algebra primitives: numpy.linalg and scipy.linalg, differentiable.

Every function works on stacks of matrices: an argument of shape (..., m, n)
is a stack of m x n matrices, and stack axes broadcast as numpy does. Batch
rules are therefore the op itself (the batch axis is one more stack axis).

Multi-output functions return ONE packed array from their primitive, which the
public function unpacks by (differentiable) indexing:

- ``slogdet``: (..., 2) holding [sign, log|det|];
- ``eigh``: (..., n+1, n) holding the eigenvalues in row 0, the eigenvectors
  (as columns) below;
- ``svd`` (reduced, k = min(m, n)): (..., m+1+n, k) holding U, then s as one
  row, then V = Vh^T;
- ``qr`` (m >= n; wide matrices are composed from a square QR): (..., m+n, n)
  holding Q, then R.

Conventions (as JAX and PyTorch):

- ``cholesky``, ``eigh``/``eigvalsh`` (and scipy's ``cholesky``,
  ``cho_factor``, ``eigh``, ``solve(assume_a='sym'/'her'/'pos')``) read one
  triangle, as numpy and scipy do, and are differentiated as exactly that
  function: the matrix is rebuilt from the read triangle (mirrored, conjugated
  for Hermitian; a complex diagonal keeps its real part) before the
  symmetric decomposition, so the derivative is zero in the unread triangle
  and an off-diagonal entry of the read one stands for both mirror entries
  (HIPS autograd's convention). A symmetric input and a symmetric direction
  get the derivative of the symmetric function; a gradient is not symmetric
  (JAX, which symmetrizes (A + A^H)/2 first, returns the symmetric one:
  G_jax = (G + G^T)/2 off the diagonal).
- ``eigh``/``svd``/``eig`` at repeated eigen- or singular values (equal to
  rounding): the vectors of a repeated value are not functions of the matrix,
  and their rates 1/(w_j - w_i) are 0/0. Where a cotangent or tangent reaches
  such a pair the derivative is nan (a refusal: its limit depends on how the
  cotangent varies, which the point does not show); where none does it is
  exact, so first derivatives of the values alone (``eigvalsh``,
  ``svd(compute_uv=False)``, ``norm(ord='nuc')``) and of the other values'
  vectors are right. Second derivatives through repeated values are nan.
  A zero singular value of a non-square matrix does the same for its vector's
  rate 1/s into the extra subspace. (section "rates over spectral gaps").
- ``det``'s derivative is the adjugate (from an SVD: exact at singular
  matrices, of any rank, for first and second derivatives; third ones use the
  inverse). ``inv`` and ``solve`` raise a LinAlgError naming themselves at a
  singular matrix (as numpy); ``slogdet``'s derivative there is inf/nan.
- Complex matrices: ``inv``, ``solve``, ``det``, ``matrix_power``,
  ``solve_triangular``, ``lu_factor``/``lu_solve``, ``solve_sylvester``,
  ``expm`` and ``sqrtm`` are holomorphic and their rules (plain transposes, no
  conjugation) follow JAX's convention for complex values; the Frobenius and
  vector norms take |x|. ``eigh`` (Hermitian), ``svd`` and ``eig`` are
  differentiated for complex matrices too (the transposes of their JVPs under
  the pairing Re(sum(a b))); complex eigen/singular vectors of eigh/svd are
  defined up to a phase, so only phase-invariant functions of them are the
  derivative of numpy's (eig keeps LAPACK's gauge: its vectors' derivative is
  numpy's). cholesky, qr, slogdet and pinv are differentiated for real
  matrices only, and say so when given a traced complex matrix.

Taylor rules: ``inv`` and ``solve`` (the recurrence
A_0 X_k = B_k - sum_j A_j X_{k-j}), ``det`` and ``slogdet`` (through the
series of the inverse), ``cholesky`` (L_0 L_k^T + L_k L_0^T = A_k - ...),
``solve_triangular``, ``sqrtm`` (a Sylvester equation per order) and ``expm``
(the exponential of the block-Toeplitz matrix of the series); the others use
the nested-forward fallback.
"""

import collections
import operator

import numpy as np
import scipy.linalg as _sla

from ..core import backends
from ..core.errors import BackendError
from ..core.trace import Primitive, Tracer
from . import shape as S
from .contraction import _both_plain, matmul, outer, trace
from .elementwise import (
    _may_hold_true,
    _power_of_two_scale,
    absolute,
    add,
    cone_root,
    conj,
    equal,
    greater,
    imag,
    less,
    multiply,
    negative,
    not_equal,
    power,
    real,
    reciprocal,
    sign,
    subtract,
    true_divide,
    where,
)
from .reductions import amax, amin, argmax, cumsum_p, tie_mean
from .rules import batch_elementwise, dtype_of, ndim_of, shape_of
from .series import plus
from .shape import diagonal

__all__ = [
    "inv", "solve", "det", "slogdet", "cholesky", "eigh", "eig", "svd", "qr", "pinv",
    "solve_triangular", "lu", "expm", "sqrtm", "solve_sylvester", "solve_banded",
    "LINALG_API", "SCIPY_LINALG_API",
]


# ===================================================================== helpers (hodiff ops only)

def _mT(x):
    """Transpose of the last two axes (a stack of matrices transposed)."""
    n = ndim_of(x)
    return S.transpose(x, axes=tuple(range(n - 2)) + (n - 1, n - 2))


def _sym(x):
    return multiply(add(x, _mT(x)), 0.5)


def _is_complex(x):
    return np.issubdtype(dtype_of(x), np.complexfloating)


def _H(x):
    """Conjugate transpose of the last two axes (the transpose for real stacks)."""
    return conj(_mT(x)) if _is_complex(x) else _mT(x)


def _herm(x):
    """(x + x^H) / 2: the Hermitian (symmetric, for real x) part."""
    return multiply(add(x, _H(x)), 0.5)


def _real_dtype(dtype):
    return np.dtype(dtype).type(0).real.dtype


def _hermitian_from_triangle(a, lower):
    """The Hermitian (real: symmetric) matrix that LAPACK sees when it reads one triangle of ``a``.

    Lower (``lower``) or upper triangle of a stack (..., n, n) mirrored onto the
    other; a complex diagonal keeps its real part only (as ``heevd``/``potrf``
    read it). The rebuilt matrix holds the read triangle bit for bit, so a
    decomposition of it gives the very numbers of numpy's call on ``a``.
    """
    n = shape_of(a)[-1]
    real_dtype = _real_dtype(dtype_of(a))
    strict = multiply(a, _triangle_mask(n, lower, True, real_dtype))
    diagonal_part = multiply(real(a) if _is_complex(a) else a, _eye(n, real_dtype))
    return add(add(strict, _H(strict)), diagonal_part)


def _diagonal(x):
    """(..., n, n) -> (..., n): the diagonals of a stack."""
    n = shape_of(x)[-1]
    index = np.arange(n)
    return S.getitem(x, index=(Ellipsis, index, index))


def _trace(x):
    return S.sum(_diagonal(x), axis=-1)


def _eye(n, dtype):
    return np.eye(n, dtype=dtype)


def _diag_embed(v):
    """(..., n) -> (..., n, n) with v on the diagonals."""
    n = shape_of(v)[-1]
    return multiply(S.expand_dims(v, -1), _eye(n, dtype_of(v)))


def _scale_columns(x, v):
    """x @ diag(v): column j of x times v[..., j]."""
    return multiply(x, S.expand_dims(v, -2))


def _scale_rows(x, v):
    """diag(v) @ x: row i of x times v[..., i]."""
    return multiply(x, S.expand_dims(v, -1))


def _trailing(x):
    """x[..., None, None]: a stack of scalars against a stack of matrices."""
    return S.reshape(x, shape=tuple(shape_of(x)) + (1, 1))


def _series_terms(series):
    return [S.getitem(series, index=k) for k in range(shape_of(series)[0])]


def _stack_terms(terms):
    return S.stack(*terms, axis=0)


def _align_stacks(values, batched, core_ndims):
    """Batched arguments with the same number of stack axes behind the batch axis.

    Unbatched arguments broadcast from the right as numpy does; a batched
    argument with fewer stack axes than another argument gets length-1 axes
    after its batch axis, so that its batch axis stays aligned with the others'.
    """
    stack_ndims = [ndim_of(v) - int(b) - c for v, b, c in zip(values, batched, core_ndims)]
    depth = max(stack_ndims)
    aligned = []
    for value, is_batched, k in zip(values, batched, stack_ndims):
        if is_batched and k < depth:
            shape = shape_of(value)
            value = S.reshape(value, shape=shape[:1] + (1,) * (depth - k) + tuple(shape[1:]))
        aligned.append(value)
    return aligned


def _batch_stacked(primitive, core_ndims):
    """Batch rule of an op on broadcasting stacks of matrices: the op itself, stacks aligned."""

    def rule(values, batched, **params):
        return primitive(*_align_stacks(values, batched, core_ndims), **params)

    return rule


def _batch_unary(primitive):
    """Batch rule of an op on one stack of matrices: the batch axis is one more stack axis."""
    return lambda values, batched, **params: primitive(values[0], **params)


def _abs2(x):
    """|x|^2, elementwise."""
    return real(multiply(x, conj(x))) if _is_complex(x) else multiply(x, x)


def _not_close_mask(diff, scale, n, dtype):
    """Where |diff| is above rounding level relative to ``scale`` (both compared squared).

    A plain value (no derivative flows through comparisons): where two eigen/singular values
    coincide to rounding, or a singular value is zero to rounding.
    """
    eps = np.finfo(_real_dtype(dtype)).eps
    tolerance = (4.0 * n * eps) ** 2
    return greater(_abs2(diff), multiply(scale, tolerance))


def _check_square(a, name):
    shape = shape_of(a)
    if len(shape) < 2:
        raise np.linalg.LinAlgError(
            f"{name}: {len(shape)}-dimensional array given. Array must be at least two-dimensional")
    if shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError(f"{name}: last 2 dimensions of the array must be square, got {tuple(shape)}")


def _check_matrix(a, name):
    if ndim_of(a) < 2:
        raise np.linalg.LinAlgError(
            f"{name}: {ndim_of(a)}-dimensional array given. Array must be at least two-dimensional")


def _check_real(a, name):
    if np.issubdtype(dtype_of(a), np.complexfloating) and isinstance(a, Tracer):
        raise TypeError(f"{name}: differentiating complex matrices is not supported (real matrices only)")


def _untraced_numpy(x):
    """No tracer and no Dask or CuPy array: numpy's own function serves. Other backends go through the
    primitives, which refuse by name what their backend lacks."""
    return not isinstance(x, Tracer) and backends.backend_name(x) == "numpy"


def _inexact(x):
    """Integer inputs become float64 (as numpy.linalg does)."""
    if isinstance(x, Tracer):
        return x
    if isinstance(x, (list, tuple)):  # a list may hold traced values: hnp.array stacks them differentiably
        from .shape import _array

        x = _array(x)
        if isinstance(x, Tracer):
            return x
    x = backends.asarray(x)
    return x if np.issubdtype(x.dtype, np.inexact) else x.astype(np.float64)


# ===================================================================== inv

def _inv_series(x0, a_series):
    """Series of X = A^{-1} from A's:  A_0 X_k = -sum_{j=1..k} A_j X_{k-j}."""
    a_terms = _series_terms(a_series)
    x = [x0]
    for k in range(1, len(a_terms) + 1):
        acc = matmul(a_terms[0], x[k - 1])
        for j in range(2, k + 1):
            acc = add(acc, matmul(a_terms[j - 1], x[k - j]))
        x.append(negative(matmul(x0, acc)))
    return x


def _singular(name, error):
    return np.linalg.LinAlgError(
        f"{name}: singular matrix ({error}): the inverse, and so its derivatives, does not exist there "
        f"(numpy.linalg.{name} raises too); for a least-squares or pseudo-inverse answer use "
        f"hodiff.numpy.linalg.lstsq or pinv")


def _inv_impl(a):
    try:
        out = np.linalg.inv(a)
    except np.linalg.LinAlgError as error:
        raise _singular("inv", error) from None
    return out if out.dtype == a.dtype else out.astype(a.dtype)  # Dask's inv of float32 is float64 (its LU's)


def _solve_impl(a, b):
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError as error:
        raise _singular("solve", error) from None


inv = Primitive(
    "inv", _inv_impl,
    vjp=(lambda g, ans, a: negative(matmul(_mT(ans), matmul(g, _mT(ans)))),),
    jvp=(lambda t, ans, a: negative(matmul(ans, matmul(t, ans))),),
    taylor=lambda ans, primals, series: _stack_terms(_inv_series(ans, series[0])[1:]),
)
inv.batch = _batch_unary(inv)


# ===================================================================== solve

def _solve_taylor(ans, primals, series):
    """A X = B:  A_0 X_k = B_k - sum_{j=1..k} A_j X_{k-j}."""
    a0, _ = primals
    a_series, b_series = series
    if a_series is None:
        return solve.batch([a0, b_series], [False, True])
    a_terms = _series_terms(a_series)
    b_terms = _series_terms(b_series) if b_series is not None else [None] * len(a_terms)
    x = [ans]
    for k in range(1, len(a_terms) + 1):
        acc = matmul(a_terms[0], x[k - 1])
        for j in range(2, k + 1):
            acc = add(acc, matmul(a_terms[j - 1], x[k - j]))
        rhs = negative(acc) if b_terms[k - 1] is None else subtract(b_terms[k - 1], acc)
        x.append(solve(a0, rhs))
    return _stack_terms(x[1:])


# A (..., n, n), B (..., n, k): X = A^{-1} B, stack axes broadcasting.
solve = Primitive(
    "solve", _solve_impl,
    vjp=(lambda g, ans, a, b: negative(matmul(solve(_mT(a), g), _mT(ans))),
         lambda g, ans, a, b: solve(_mT(a), g)),
    jvp=(lambda t, ans, a, b: negative(solve(a, matmul(t, ans))),
         lambda t, ans, a, b: solve(a, t)),
    taylor=_solve_taylor,
    broadcasts=True,
)
solve.batch = _batch_stacked(solve, (2, 2))


# ===================================================================== det and slogdet

def _logdet_series(a0, a_series, inverse):
    """Series of log|det A(t)|:  k l_k = sum_{j=1..k} j tr(X_{k-j} A_j), X = A^{-1}."""
    a_terms = _series_terms(a_series)
    x = _inv_series(inverse, a_series)
    logdet = [None]
    for k in range(1, len(a_terms) + 1):
        acc = multiply(_trace(matmul(x[k - 1], a_terms[0])), 1.0 / k)
        for j in range(2, k + 1):
            acc = add(acc, multiply(_trace(matmul(x[k - j], a_terms[j - 1])), j / k))
        logdet.append(acc)
    return logdet


def _det_taylor(ans, primals, series):
    """det A(t) = det A_0 exp(l(t) - l_0):  k y_k = sum_{j=1..k} j l_j y_{k-j}."""
    a0 = primals[0]
    logdet = _logdet_series(a0, series[0], inv(a0))
    y = [ans]
    for k in range(1, len(logdet)):
        acc = multiply(multiply(logdet[1], y[k - 1]), 1.0 / k)
        for j in range(2, k + 1):
            acc = add(acc, multiply(multiply(logdet[j], y[k - j]), j / k))
        y.append(acc)
    return _stack_terms(y[1:])


# ----- the adjugate: det's derivative, exact at singular matrices too
#
# adj(A) = det(A) A^{-1} where A is invertible, and a polynomial in A's entries
# everywhere (the transposed cofactors), so d det A = tr(adj(A) dA) holds at
# every matrix. It is computed from an SVD A = U diag(s) V^H, exact at any rank:
# adj(X Y) = adj(Y) adj(X) and adj(W) = det(W) W^H for unitary W give
#     adj(A) = det(U) det(V^H) V diag(p) U^H,   p_i = prod_{k != i} s_k,
# and, with F = U^H E V, its derivative in a direction E
#     d adj(A)[E] = det(U) det(V^H) V D U^H,    D_ij = -F_ij q_ij (i != j),
#     D_ii = sum_{k != i} q_ik F_kk,            q_ij = prod_{k != i, j} s_k,
# products taken without division (at rank n-1 one p_i is nonzero, at rank n-2
# adj(A) = 0 while some q_ij, and so d adj, is not).

def _exclusive_products(s):
    """(..., n) -> (..., n): prod_{k != i} s[..., k] for each i, by prefix and suffix products."""
    ones = np.ones_like(s[..., :1])
    prefix = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    suffix = np.flip(np.cumprod(np.concatenate([ones, np.flip(s[..., 1:], axis=-1)], axis=-1), axis=-1), axis=-1)
    return prefix * suffix


def _adjugate_frame(a):
    """SVD of a stack (..., n, n): (c, U, s, V) with c = det(U) det(V^H), A = U diag(s) V^H."""
    u, s, vh = np.linalg.svd(a)
    s = s.astype(a.dtype, copy=False)
    c = np.linalg.det(u) * np.linalg.det(vh)
    return c[..., None, None], u, s, np.conj(np.swapaxes(vh, -1, -2))


def _adjugate_impl(a):
    a = np.asarray(a)
    if a.shape[-1] == 0:
        return np.zeros_like(a)
    c, u, s, v = _adjugate_frame(a)
    return (c * (v * _exclusive_products(s)[..., None, :]) @ np.conj(np.swapaxes(u, -1, -2))).astype(a.dtype)


def _adjugate_jvp_impl(a, e):
    a, e = np.asarray(a), np.asarray(e)
    dtype = np.result_type(a, e)
    n = a.shape[-1]
    if n == 0:
        return np.zeros(np.broadcast_shapes(a.shape, e.shape), dtype)
    c, u, s, v = _adjugate_frame(a)
    f = np.conj(np.swapaxes(u, -1, -2)) @ e @ v
    pairs = np.broadcast_to(s[..., None, :], s.shape + (n,)).copy()
    pairs[..., np.arange(n), np.arange(n)] = 1
    q = _exclusive_products(pairs)                     # q[..., i, j] = prod_{k != i, j} s_k (i != j)
    q[..., np.arange(n), np.arange(n)] = 0
    d = -f * q
    d[..., np.arange(n), np.arange(n)] = np.einsum("...ik,...k->...i", q, np.diagonal(f, axis1=-2, axis2=-1))
    return (c * v @ d @ np.conj(np.swapaxes(u, -1, -2))).astype(dtype, copy=False)


def _adjugate_third_jvp(t, ans, a, e):
    """d/dA (d adj(A)[E])[T] where A is invertible (X = A^{-1}, symmetric in E and T):
    det A [tr(XT)(tr(XE) X - XEX) - tr(XTXE) X - tr(XE) XTX + XTXEX + XEXTX]."""
    x, d = inv(a), _trailing(det(a))
    xt, xe = matmul(x, t), matmul(x, e)
    xtx, xex = matmul(xt, x), matmul(xe, x)
    tr_xt, tr_xe = _trailing(_trace(xt)), _trailing(_trace(xe))
    total = multiply(tr_xt, subtract(multiply(tr_xe, x), xex))
    total = subtract(total, multiply(_trailing(_trace(matmul(xt, xe))), x))
    total = subtract(total, multiply(tr_xe, xtx))
    total = add(total, add(matmul(xt, xex), matmul(xe, xtx)))
    return multiply(d, total)


def _adjugate_third_vjp(g, ans, a, e):
    """The transpose of T -> _adjugate_third_jvp(T, ..., a, e) applied to G."""
    x, d = inv(a), _trailing(det(a))
    xe = matmul(x, e)
    xex = matmul(xe, x)
    gt = _mT(g)
    tr_xe = _trailing(_trace(xe))
    tr_gx = _trailing(_trace(matmul(gt, x)))
    tr_gxex = _trailing(_trace(matmul(gt, xex)))
    total = multiply(subtract(multiply(tr_xe, tr_gx), tr_gxex), x)
    total = subtract(total, multiply(tr_xe, matmul(x, matmul(gt, x))))
    total = subtract(total, multiply(tr_gx, xex))
    total = add(total, add(matmul(xex, matmul(gt, x)), matmul(x, matmul(gt, xex))))
    return multiply(d, _mT(total))


# (..., n, n) -> (..., n, n): adj(A), with A @ adj(A) = det(A) I.
adjugate = Primitive(
    "adjugate", _adjugate_impl,
    vjp=(lambda g, ans, a: _mT(adjugate_jvp(a, _mT(g))),),
    jvp=(lambda t, ans, a: adjugate_jvp(a, t),),
)
adjugate.batch = _batch_unary(adjugate)

# A (..., n, n), E (..., n, n) -> d adj(A)[E], linear in E (exact at any rank); its derivative
# in A (third derivatives of det) uses the inverse, so it needs an invertible A.
adjugate_jvp = Primitive(
    "adjugate_jvp", _adjugate_jvp_impl,
    vjp=(_adjugate_third_vjp, lambda g, ans, a, e: _mT(adjugate_jvp(a, _mT(g)))),
    jvp=(_adjugate_third_jvp, lambda t, ans, a, e: adjugate_jvp(a, t)),
    broadcasts=True,
)
adjugate_jvp.batch = _batch_stacked(adjugate_jvp, (2, 2))


# d det A = tr(adj(A) dA): the adjugate, not det(A) A^{-1}, so that first and second
# derivatives are exact at singular matrices as well (JAX's choice for the first).
det = Primitive(
    "det", np.linalg.det,
    vjp=(lambda g, ans, a: multiply(_trailing(g), _mT(adjugate(a))),),
    jvp=(lambda t, ans, a: _trace(matmul(adjugate(a), t)),),
    taylor=_det_taylor,
)
det.batch = _batch_unary(det)


def _inverse_with_poles_impl(a):
    """A^{-1}, and adj(A)/det(A) = adj(A)/0 (inf, or nan where adj is 0) where A is exactly singular."""
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        pass
    a = np.asarray(a)
    out = np.empty_like(a)
    for index in np.ndindex(a.shape[:-2]):
        try:
            out[index] = np.linalg.inv(a[index])
        except np.linalg.LinAlgError:
            with np.errstate(divide="ignore", invalid="ignore"):
                out[index] = _adjugate_impl(a[index]) / a.dtype.type(0)
    return out


# The derivative of log|det A| is A^{-T}, which is infinite at a singular matrix (as log|det A|
# is -inf there): the inverse, or its poles, rather than numpy.linalg.inv's LinAlgError.
inverse_with_poles = Primitive(
    "inverse_with_poles", _inverse_with_poles_impl,
    vjp=(lambda g, ans, a: negative(matmul(_mT(ans), matmul(g, _mT(ans)))),),
    jvp=(lambda t, ans, a: negative(matmul(ans, matmul(t, ans))),),
    taylor=lambda ans, primals, series: _stack_terms(_inv_series(ans, series[0])[1:]),
)
inverse_with_poles.batch = _batch_unary(inverse_with_poles)


def _slogdet_impl(a):
    sign, logabsdet = np.linalg.slogdet(a)
    return np.stack([sign, logabsdet], axis=-1)


def _slogdet_taylor(ans, primals, series):
    a0 = primals[0]
    logdet = _logdet_series(a0, series[0], inverse_with_poles(a0))[1:]
    zeros = S.zeros_like(logdet[0])
    return _stack_terms([S.stack(zeros, term, axis=-1) for term in logdet])


def _slogdet_jvp(t, ans, a):
    dlogdet = _trace(matmul(inverse_with_poles(a), t))
    return S.stack(S.zeros_like(dlogdet), dlogdet, axis=-1)


# (..., n, n) -> (..., 2): [sign, log|det|]; the sign has zero derivative.
slogdet = Primitive(
    "slogdet", _slogdet_impl,
    vjp=(lambda g, ans, a: multiply(_trailing(S.getitem(g, index=(Ellipsis, 1))), _mT(inverse_with_poles(a))),),
    jvp=(_slogdet_jvp,),
    taylor=_slogdet_taylor,
)
slogdet.batch = _batch_unary(slogdet)


# ===================================================================== triangular solves

def _trans_code(trans):
    codes = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2, "n": 0, "t": 1, "c": 2}
    if trans not in codes:
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2 or 'N', 'T', 'C', got {trans!r}")
    return codes[trans]


def _triangle_mask(n, lower, strict, dtype):
    mask = np.tril(np.ones((n, n), dtype=dtype), -1 if strict else 0)
    return mask if lower else mask.T


def _solve_triangular_impl(a, b, lower=False, trans=0, unit_diagonal=False):
    return _sla.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)


def _used_part(x, lower, unit_diagonal):
    """The entries of A a triangular solve reads: one triangle, without the diagonal if unit."""
    n = shape_of(x)[-1]
    return multiply(x, _triangle_mask(n, lower, unit_diagonal, dtype_of(x)))


def _op(x, trans):
    return x if trans == 0 else _mT(x)


def _solve_triangular_vjp_a(g, ans, a, b, lower=False, trans=0, unit_diagonal=False):
    # X = op(A)^{-1} B  =>  dX = -op(A)^{-1} op(dA) X; its transpose:
    b_bar = solve_triangular(a, g, lower=lower, trans=1 - trans, unit_diagonal=unit_diagonal)
    product = negative(matmul(b_bar, _mT(ans)) if trans == 0 else matmul(ans, _mT(b_bar)))
    return _used_part(product, lower, unit_diagonal)


def _solve_triangular_jvp_a(t, ans, a, b, lower=False, trans=0, unit_diagonal=False):
    used = _op(_used_part(t, lower, unit_diagonal), trans)
    return negative(solve_triangular(a, matmul(used, ans), lower=lower, trans=trans, unit_diagonal=unit_diagonal))


def _solve_triangular_taylor(ans, primals, series, lower=False, trans=0, unit_diagonal=False):
    a0, _ = primals
    a_series, b_series = series
    params = dict(lower=lower, trans=trans, unit_diagonal=unit_diagonal)
    if a_series is None:
        return solve_triangular.batch([a0, b_series], [False, True], **params)
    a_terms = [_op(_used_part(term, lower, unit_diagonal), trans) for term in _series_terms(a_series)]
    b_terms = _series_terms(b_series) if b_series is not None else [None] * len(a_terms)
    x = [ans]
    for k in range(1, len(a_terms) + 1):
        acc = matmul(a_terms[0], x[k - 1])
        for j in range(2, k + 1):
            acc = add(acc, matmul(a_terms[j - 1], x[k - j]))
        rhs = negative(acc) if b_terms[k - 1] is None else subtract(b_terms[k - 1], acc)
        x.append(solve_triangular(a0, rhs, **params))
    return _stack_terms(x[1:])


# A (..., n, n) triangular, B (..., n, k): X = op(A)^{-1} B with op = identity (trans=0)
# or transpose (trans=1); only A's triangle (without the diagonal if unit_diagonal) is read.
solve_triangular = Primitive(
    "solve_triangular", _solve_triangular_impl,
    vjp=(_solve_triangular_vjp_a,
         lambda g, ans, a, b, lower=False, trans=0, unit_diagonal=False: solve_triangular(
             a, g, lower=lower, trans=1 - trans, unit_diagonal=unit_diagonal)),
    jvp=(_solve_triangular_jvp_a,
         lambda t, ans, a, b, lower=False, trans=0, unit_diagonal=False: solve_triangular(
             a, t, lower=lower, trans=trans, unit_diagonal=unit_diagonal)),
    taylor=_solve_triangular_taylor,
    broadcasts=True,
)
solve_triangular.batch = _batch_stacked(solve_triangular, (2, 2))


# ===================================================================== cholesky

def _phi(x):
    """Lower triangle of x with its diagonal halved."""
    n = shape_of(x)[-1]
    dtype = dtype_of(x)
    return multiply(x, np.tril(np.ones((n, n), dtype=dtype), -1) + 0.5 * _eye(n, dtype))


def _inner(low, x):
    """L^{-1} x L^{-T} by two triangular solves."""
    y = solve_triangular(low, x, lower=True)
    return _mT(solve_triangular(low, _mT(y), lower=True))


def _cholesky_jvp(t, ans, a):
    # L L^T = A  =>  L^{-1} dA L^{-T} = Phi^{-1}(L^{-1} dL) symmetrized, i.e. dL = L Phi(L^{-1} dA L^{-T}).
    return matmul(ans, _phi(_inner(ans, _sym(t))))


def _cholesky_vjp(g, ans, a):
    # The transpose of the JVP: sym(L^{-T} Phi(L^T G) L^{-1}).
    y = solve_triangular(ans, _phi(matmul(_mT(ans), g)), lower=True, trans=1)
    return _sym(_mT(solve_triangular(ans, _mT(y), lower=True, trans=1)))


def _cholesky_taylor(ans, primals, series):
    """L_0 L_k^T + L_k L_0^T = A_k - sum_{j=1..k-1} L_j L_{k-j}^T."""
    a_terms = _series_terms(series[0])
    low = [ans]
    for k in range(1, len(a_terms) + 1):
        rhs = _sym(a_terms[k - 1])
        for j in range(1, k):
            rhs = subtract(rhs, matmul(low[j], _mT(low[k - j])))
        low.append(matmul(ans, _phi(_inner(ans, rhs))))
    return _stack_terms(low[1:])


# A (..., n, n) symmetric positive definite -> L (..., n, n) lower triangular with L L^T = A.
cholesky = Primitive("cholesky", np.linalg.cholesky, vjp=(_cholesky_vjp,), jvp=(_cholesky_jvp,),
                     taylor=_cholesky_taylor)
cholesky.batch = _batch_unary(cholesky)


# ===================================================================== rates over spectral gaps
#
# A decomposition's vectors move at rates q / gap: q_ij / (w_j - w_i) between two eigen- or singular
# values, q_j / s_j into a singular vector's extra subspace. Where a gap is zero to rounding, the vectors
# of the repeated value are not functions of the matrix, and the rate is 0/0 at best: its limit depends on
# how q varies, which the point does not show (V diag(w) V^T, the matrix itself, and the projector V_b V_b^T
# onto the repeated value's space give the same q there; the limits differ). So such an entry is nan, unless
# nothing couples the pair (q zero on it: the values alone, a direction that keeps the vectors) and it is 0,
# and every derivative of a rate at a zero gap is nan (a Hessian through repeated values). A refusal, not
# the finite guess that masking the terms to 0 gave (grad of sum(W * V diag(w) V^T) off by 1.3 of 4).

def _gap_quotient_impl(q, gap, defined, undefined, singular):
    dtype = np.result_type(q, gap)
    quotient = np.true_divide(q, np.where(defined, gap, 1))
    return np.where(defined, quotient, np.where(undefined, dtype.type(np.nan), dtype.type(0)))


def _gap_quotient_jvp_q(t, ans, q, gap, defined, undefined, singular):
    return gap_quotient(t, gap, defined, singular, singular)


def _gap_quotient_jvp_gap(t, ans, q, gap, defined, undefined, singular):
    return gap_quotient(negative(multiply(ans, t)), gap, defined, singular, singular)


def _real_like(cotangent, x):
    """A real argument's cotangent is the real part (the pairing Re(sum(a * b)))."""
    return real(cotangent) if _is_complex(cotangent) and not _is_complex(x) else cotangent


def _gap_quotient_vjp_q(g, ans, q, gap, defined, undefined, singular):
    return _real_like(gap_quotient(g, gap, defined, singular, singular), q)


def _gap_quotient_vjp_gap(g, ans, q, gap, defined, undefined, singular):
    return _real_like(gap_quotient(negative(multiply(g, ans)), gap, defined, singular, singular), gap)


# (q, gap, defined, undefined, singular) -> q / gap where ``defined``; elsewhere nan where ``undefined``
# (a nonzero rate at a zero gap), else 0. ``singular`` (the zero gaps outside the gauge) is where the
# rule's own derivatives are nan. The three masks are plain booleans.
gap_quotient = Primitive("gap_quotient", _gap_quotient_impl,
                         vjp=(_gap_quotient_vjp_q, _gap_quotient_vjp_gap, None, None, None),
                         jvp=(_gap_quotient_jvp_q, _gap_quotient_jvp_gap, None, None, None), broadcasts=True)
gap_quotient.batch = batch_elementwise(gap_quotient)


def _matrix_size(x):
    """sum |x_ij|^2 of each matrix of a stack, shaped (..., 1, 1)."""
    return S.sum(_abs2(x), axis=(-2, -1), keepdims=True)


def _above_rounding(size, reference, entries, n, dtype):
    """Plain mask: the ``entries`` where ``size`` (a squared modulus) is above rounding level of
    ``reference`` (a squared size, broadcasting): where a rate meets a zero gap, so no derivative exists."""
    eps = np.finfo(_real_dtype(dtype)).eps
    return where(entries, greater(size, multiply(reference, (16.0 * n * eps) ** 2)), False)


def _unit_scaled(values):
    """values (..., n) scaled by the power of two that takes their largest modulus to [1, 2) (each matrix's), for the
    masks' squared comparisons: |s_j^2 - s_i^2|^2 against sum s^4 overflowed past s = 1e77 (and underflowed
    below 1e-77), so every pair of singular values looked coincident and svd's derivatives were 59% off at
    1e100. A power of two scales exactly, and it is a constant for every derivative."""
    return multiply(values, _power_of_two_scale(amax(absolute(values), axis=-1, keepdims=True), dtype_of(values)))


def _pair_gaps(values, squared=False):
    """(gap, distinct, coincident) of the pairs of ``values`` (..., n).

    gap[..., i, j] = v_j - v_i (v = values, or their squares); ``distinct`` where |gap| is above
    rounding level of the values' scale; ``coincident`` the other off-diagonal pairs (the diagonal is
    the gauge, always 0). The masks are plain values, compared at unit scale.
    """
    n = shape_of(values)[-1]
    v = multiply(values, values) if squared else values
    gap = subtract(S.expand_dims(v, -2), S.expand_dims(v, -1))
    unit = _unit_scaled(values)
    unit = multiply(unit, unit) if squared else unit
    scale = S.expand_dims(S.sum(_abs2(unit), axis=-1, keepdims=True), -1)
    distinct = _not_close_mask(subtract(S.expand_dims(unit, -2), S.expand_dims(unit, -1)), scale, n, dtype_of(values))
    return gap, distinct, where(distinct, False, ~np.eye(n, dtype=bool))


def _pair_rates(q, gaps, undefined):
    """q_ij / (v_j - v_i): the rates of a decomposition's vectors, nan where ``undefined``."""
    gap, distinct, coincident = gaps
    return gap_quotient(q, gap, distinct, undefined, coincident)


def _cluster_mean(t, values, squared=False, coupled=None):
    """t (..., n) averaged over each run of coincident ``values`` (sorted; squared: compared as squares).

    A repeated eigen- or singular value is not differentiable one by one: diag(V^H dA V) in numpy's
    basis gave the tangents of eigvalsh(I) along S as diag(S), not even the one-sided rates (the
    eigenvalues of S). Their mean is basis-free, exact for every symmetric function of the values
    (trace, sums of powers, norms), and sort's convention at ties. ``coupled`` (..., n, n), for a
    tangent: only the values of pairs it couples are averaged; a direction that keeps numpy's basis
    (no coupling) keeps its exact one-sided rates, which its zero vector rates match.
    """
    n = shape_of(values)[-1]
    if n < 2:
        return t
    v = _unit_scaled(values)
    v = multiply(v, v) if squared else v
    step = subtract(S.getitem(v, index=(Ellipsis, slice(1, None))), S.getitem(v, index=(Ellipsis, slice(None, -1))))
    distinct = _not_close_mask(step, S.sum(_abs2(v), axis=-1, keepdims=True), n, dtype_of(values))
    if not _may_hold_true(equal(distinct, False)):
        return t
    starts = where(distinct, S.ones_like(step), S.zeros_like(step))  # (in the values' precision)
    first = S.getitem(S.ones_like(starts), index=(Ellipsis, slice(0, 1)))
    labels = cumsum_p(S.concatenate(first, starts, axis=-1), axis=ndim_of(step) - 1)
    if coupled is not None:  # the others get labels of their own (negative: no cluster has them)
        own = np.arange(-1.0, -n - 1.0, -1.0).astype(dtype_of(labels))
        labels = where(amax(where(coupled, 1, 0), axis=-1) > 0, labels, own)
    return tie_mean(t, labels, axis=ndim_of(t) - 1)


def _cotangent_couples(ks, gaps):
    """Plain mask: the coincident pairs (i, j) that a cotangent's k = V^T gV (each of ``ks``) reaches,
    through k_ij or k_ji."""
    size, reference = _abs2(ks[0]), _matrix_size(ks[0])
    for k in ks[1:]:
        size, reference = add(size, _abs2(k)), add(reference, _matrix_size(k))
    return _above_rounding(add(size, _mT(size)), reference, gaps[2], shape_of(size)[-1], dtype_of(ks[0]))


def _tangent_couples(m, gaps):
    """Plain mask: the coincident pairs (i, j) whose vectors a tangent's m = V^-1 dA V couples to any other
    (m_ik or m_ki for k != i, or the same for j). Where it couples neither, both stay eigen/singular
    vectors along the direction, and their rate is exactly 0."""
    n = shape_of(m)[-1]
    off = multiply(_abs2(m), (1 - np.eye(n)).astype(_real_dtype(dtype_of(m))))
    row = add(S.sum(off, axis=-1), S.sum(off, axis=-2))
    return _above_rounding(add(S.expand_dims(row, -1), S.expand_dims(row, -2)), _matrix_size(m), gaps[2], n,
                           dtype_of(m))


# ===================================================================== eigh

def _eigh_impl(a, UPLO="L"):
    w, v = np.linalg.eigh(a, UPLO=UPLO)
    return np.concatenate([w[..., None, :], v], axis=-2)


def _eigh_parts(packed):
    """(eigenvalues (..., n), eigenvectors (..., n, n)) of eigh's packed output (values real)."""
    values = S.getitem(packed, index=(Ellipsis, 0, slice(None)))
    vectors = S.getitem(packed, index=(Ellipsis, slice(1, None), slice(None)))
    return (real(values) if _is_complex(values) else values), vectors


def _eigh_jvp(t, ans, a, UPLO="L"):
    # H = (t + t^H)/2, M = V^H H V: dw = Re diag(M), dV = V (F o M), the gauge
    # where V^H dV has a zero diagonal (JAX's); for real V it is numpy's.
    w, v = _eigh_parts(ans)
    m = matmul(_H(v), matmul(_herm(t), v))
    dw = _diagonal(m)
    gaps = _pair_gaps(w)
    couples = _tangent_couples(m, gaps)
    dw = _cluster_mean(real(dw) if _is_complex(dw) else dw, w, coupled=couples)
    dv = matmul(v, _pair_rates(m, gaps, couples))
    if _is_complex(dv) and not _is_complex(dw):
        dw = multiply(dw, 1.0 + 0.0j)
    return S.concatenate(S.expand_dims(dw, -2), dv, axis=-2)


def _eigh_vjp(g, ans, a, UPLO="L"):
    # The transpose of the JVP under the pairing Re(sum(a * b)) (no conjugation).
    w, v = _eigh_parts(ans)
    gw, gv = _eigh_parts(g)
    k = matmul(_mT(v), gv)
    gaps = _pair_gaps(w)
    inner = add(_diag_embed(_cluster_mean(gw, w)), _pair_rates(k, gaps, _cotangent_couples((k,), gaps)))
    return _herm(matmul(conj(v) if _is_complex(v) else v, matmul(inner, _mT(v))))


# A (..., n, n) Hermitian (real: symmetric) -> (..., n+1, n): eigenvalues (ascending) in row 0,
# eigenvectors below. Its rules are those of the Hermitian function (tangents made Hermitian);
# np_eigh hands it the matrix rebuilt from the triangle numpy reads.
eigh = Primitive("eigh", _eigh_impl, vjp=(_eigh_vjp,), jvp=(_eigh_jvp,))
eigh.batch = _batch_unary(eigh)


# ===================================================================== svd (reduced)

def _svd_impl(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.concatenate([u, s[..., None, :].astype(u.dtype), np.conj(np.swapaxes(vh, -1, -2))], axis=-2)


def _svd_parts(packed, m):
    """(U (..., m, k), s (..., k) real, V (..., n, k)) of svd's packed output; A = U diag(s) V^H."""
    u = S.getitem(packed, index=(Ellipsis, slice(0, m), slice(None)))
    s = S.getitem(packed, index=(Ellipsis, m, slice(None)))
    v = S.getitem(packed, index=(Ellipsis, slice(m + 1, None), slice(None)))
    return u, (real(s) if _is_complex(s) else s), v


def _zero_values(s):
    """(nonzero, zero): plain masks of the singular values (..., k) above / at rounding level of the largest."""
    unit = _unit_scaled(s)
    nonzero = _not_close_mask(unit, S.sum(multiply(unit, unit), axis=-1, keepdims=True), shape_of(s)[-1], dtype_of(s))
    return nonzero, equal(nonzero, False)


def _column_rates(q, s, reference):
    """q_j / s_j for each column j of q (..., m, k): a singular vector's rate into the extra subspace (or
    its phase's); nan where s_j is zero and column j of q is not (next to ``reference``'s size)."""
    nonzero, zero = (S.expand_dims(mask, -2) for mask in _zero_values(s))
    undefined = _above_rounding(S.sum(_abs2(q), axis=-2, keepdims=True), _matrix_size(reference), zero,
                                shape_of(q)[-2], dtype_of(q))
    return gap_quotient(q, S.expand_dims(s, -2), nonzero, undefined, zero)


def _phase_term(dp, s):
    """i Im(diag(dP)) / s as a diagonal matrix: the phase change of complex singular vectors,
    put on U (JAX's and autograd's gauge); nan at a zero singular value that dP turns."""
    phase = _column_rates(S.expand_dims(imag(_diagonal(dp)), -2), s, dp)
    return _diag_embed(multiply(S.getitem(phase, index=(Ellipsis, 0, slice(None))), 1j))


def _svd_jvp(t, ans, a):
    m, n = shape_of(a)[-2:]
    k = min(m, n)
    u, s, v = _svd_parts(ans, m)
    complex_case = _is_complex(u) or _is_complex(t)
    dp = matmul(_H(u), matmul(t, v))
    ds = _diagonal(dp)
    gaps = _pair_gaps(s, squared=True)
    undefined = _tangent_couples(dp, gaps)
    ds = _cluster_mean(real(ds) if _is_complex(ds) else ds, s, squared=True, coupled=undefined)
    x = _scale_columns(dp, s)
    y = _scale_rows(dp, s)
    du = matmul(u, _pair_rates(add(x, _H(x)), gaps, undefined))
    dv = matmul(v, _pair_rates(add(y, _H(y)), gaps, undefined))
    if complex_case:
        du = add(du, matmul(u, _phase_term(dp, s)))
    if m > k:
        tv = matmul(t, v)
        du = add(du, _column_rates(subtract(tv, matmul(u, matmul(_H(u), tv))), s, tv))
    if n > k:
        tu = matmul(_H(t), u)
        dv = add(dv, _column_rates(subtract(tu, matmul(v, matmul(_H(v), tu))), s, tu))
    if _is_complex(du) and not _is_complex(ds):
        ds = multiply(ds, 1.0 + 0.0j)
    return S.concatenate(du, S.expand_dims(ds, -2), dv, axis=-2)


def _svd_vjp(g, ans, a):
    # The transpose of the JVP above, term by term, under the pairing Re(sum(a * b)).
    m, n = shape_of(a)[-2:]
    k = min(m, n)
    u, s, v = _svd_parts(ans, m)
    gu, gs, gv = _svd_parts(g, m)
    complex_case = _is_complex(u) or _is_complex(g)
    gaps = _pair_gaps(s, squared=True)
    utgu = matmul(_mT(u), gu)
    vtgv = matmul(_mT(v), gv)
    undefined = _cotangent_couples((utgu, vtgv), gaps)
    hu = _pair_rates(utgu, gaps, undefined)
    hv = _pair_rates(vtgv, gaps, undefined)
    gs = _cluster_mean(gs, s, squared=True)
    dp_bar = add(add(_diag_embed(gs), _scale_columns(add(hu, _H(hu)), s)), _scale_rows(add(hv, _H(hv)), s))
    if complex_case:  # transpose of i Im(diag dP)/s: i Im(diag(U^T gU))/s
        dp_bar = add(dp_bar, _phase_term(utgu, s))
    u_left = conj(u) if _is_complex(u) else u
    a_bar = matmul(u_left, matmul(dp_bar, _mT(v)))
    if m > k:  # transpose of t -> (I - U U^H) t V S^{-1}
        r = subtract(gu, matmul(u_left, utgu))
        a_bar = add(a_bar, matmul(_column_rates(r, s, gu), _mT(v)))
    if n > k:  # transpose of t -> (I - V V^H) t^H U S^{-1}, then of t -> t^H
        v_left = conj(v) if _is_complex(v) else v
        r = subtract(gv, matmul(v_left, vtgv))
        a_bar = add(a_bar, _H(matmul(_column_rates(r, s, gv), _mT(u))))
    return a_bar


# A (..., m, n) -> (..., m+1+n, k), k = min(m, n): U, then s (descending) as one row, then
# V = Vh^H (for real A, Vh^T); complex A gives a complex packed array (s with zero imaginary part).
svd = Primitive("svd", _svd_impl, vjp=(_svd_vjp,), jvp=(_svd_jvp,))
svd.batch = _batch_unary(svd)


# ===================================================================== eig (general square matrices)

def _eig_impl(a):
    w, v = np.linalg.eig(a)
    return np.concatenate([w[..., None, :], v], axis=-2)


def _largest_entry_mask(v):
    """E (..., n, n): 1 at the entry of largest modulus of each column of v, 0 elsewhere (a plain value).

    LAPACK's geev makes that entry of each (unit) eigenvector real: its gauge.
    """
    n = shape_of(v)[-2]
    modulus = real(multiply(v, conj(v))) if _is_complex(v) else multiply(v, v)
    rows = np.arange(n).reshape((n, 1))
    return where(equal(S.expand_dims(argmax(modulus, axis=-2), -2), rows),
                 np.ones((), dtype=_real_dtype(dtype_of(v))), np.zeros((), dtype=_real_dtype(dtype_of(v))))


def _eig_parts(packed):
    return (S.getitem(packed, index=(Ellipsis, 0, slice(None))),
            S.getitem(packed, index=(Ellipsis, slice(1, None), slice(None))))


def _eig_jvp(t, ans, a):
    # M = V^{-1} dA V: dw = diag(M); dV = V (F o M) + V diag(alpha), alpha keeping numpy's gauge:
    # unit columns (Re v_j^H dv_j = 0) whose largest entry stays real (Im dv_j[p_j] = 0).
    w, v = _eig_parts(ans)
    m = solve(v, matmul(t, v))
    dw = _diagonal(m)
    gaps = _pair_gaps(w)
    du = matmul(v, _pair_rates(m, gaps, _tangent_couples(m, gaps)))
    if not (_is_complex(du) or _is_complex(v)):  # real eigenvectors: only their norm is fixed
        alpha = negative(S.sum(multiply(v, du), axis=-2))
        return S.concatenate(S.expand_dims(dw, -2), add(du, _scale_columns(v, alpha)), axis=-2)
    mask = _largest_entry_mask(v)
    norm_part = real(S.sum(multiply(conj(v), du), axis=-2))
    phase_part = true_divide(imag(S.sum(multiply(mask, du), axis=-2)), real(S.sum(multiply(mask, v), axis=-2)))
    alpha = add(negative(norm_part), multiply(phase_part, -1j))
    return S.concatenate(S.expand_dims(dw, -2), add(du, _scale_columns(v, alpha)), axis=-2)


def _eig_vjp(g, ans, a):
    # The transpose of the JVP under the pairing Re(sum(a * b)).
    w, v = _eig_parts(ans)
    gw, gv = _eig_parts(g)
    du_bar = gv
    if not (_is_complex(v) or _is_complex(g)):
        du_bar = subtract(du_bar, _scale_columns(v, S.sum(multiply(v, gv), axis=-2)))
    else:
        mask = _largest_entry_mask(v)
        weight = S.sum(multiply(v, gv), axis=-2)  # cotangent of alpha
        vp = real(S.sum(multiply(mask, v), axis=-2))
        du_bar = subtract(du_bar, _scale_columns(conj(v), real(weight)))
        du_bar = subtract(du_bar, multiply(_scale_columns(mask, true_divide(imag(weight), vp)), 1j))
    k = matmul(_mT(v), du_bar)
    gaps = _pair_gaps(w)
    m_bar = add(_pair_rates(k, gaps, _cotangent_couples((k,), gaps)), _diag_embed(gw))
    a_bar = solve(_mT(v), matmul(m_bar, _mT(v)))
    return real(a_bar) if _is_complex(a_bar) and not _is_complex(a) else a_bar


# A (..., n, n) -> (..., n+1, n): eigenvalues in row 0, unit eigenvectors (columns, largest entry
# real: LAPACK's gauge) below; complex unless numpy finds every eigenvalue of the stack real.
eig = Primitive("eig", _eig_impl, vjp=(_eig_vjp,), jvp=(_eig_jvp,))
eig.batch = _batch_unary(eig)


# ===================================================================== qr (m >= n)

def _qr_impl(a):
    q, r = np.linalg.qr(a, mode="reduced")
    return np.concatenate([q, r], axis=-2)


def _qr_parts(packed, m):
    return (S.getitem(packed, index=(Ellipsis, slice(0, m), slice(None))),
            S.getitem(packed, index=(Ellipsis, slice(m, None), slice(None))))


def _strict_lower(x):
    n = shape_of(x)[-1]
    return multiply(x, np.tril(np.ones((n, n), dtype=dtype_of(x)), -1))


def _qr_jvp(t, ans, a):
    # C = dA R^{-1}, M = Q^T C, Omega = tril(M, -1) - tril(M, -1)^T (antisymmetric):
    # dQ = Q (Omega - M) + C, dR = (M - Omega) R.
    m = shape_of(a)[-2]
    q, r = _qr_parts(ans, m)
    c = _mT(solve_triangular(r, _mT(t), lower=False, trans=1))
    mm = matmul(_mT(q), c)
    low = _strict_lower(mm)
    omega = subtract(low, _mT(low))
    k = subtract(mm, omega)
    dq = subtract(c, matmul(q, k))
    dr = matmul(k, r)
    return S.concatenate(dq, dr, axis=-2)


def _qr_vjp(g, ans, a):
    m = shape_of(a)[-2]
    q, r = _qr_parts(ans, m)
    gq, gr = _qr_parts(g, m)
    k_bar = subtract(matmul(gr, _mT(r)), matmul(_mT(q), gq))
    m_bar = subtract(k_bar, _strict_lower(subtract(k_bar, _mT(k_bar))))
    c_bar = add(gq, matmul(q, m_bar))
    # A_bar = C_bar R^{-T}
    return _mT(solve_triangular(r, _mT(c_bar), lower=False))


# A (..., m, n) with m >= n -> (..., m+n, n): Q (m x n, orthonormal columns), then R (n x n, upper).
qr = Primitive("qr", _qr_impl, vjp=(_qr_vjp,), jvp=(_qr_jvp,))
qr.batch = _batch_unary(qr)


# ===================================================================== LU (scipy.linalg.lu_factor)

def _lu_impl(a):
    return _sla.lu_factor(a, check_finite=False)[0]


def _pivots_impl(a):
    return _sla.lu_factor(a, check_finite=False)[1]


def _permutation_from_pivots(piv, dtype):
    """P (..., n, n) with P A = L U, from LAPACK's pivots (row i was swapped with row piv[i], in order)."""
    piv = np.asarray(piv)
    n = piv.shape[-1]
    flat = piv.reshape(-1, n)
    out = np.zeros((flat.shape[0], n, n), dtype=dtype)
    for k, pivots in enumerate(flat):
        order = np.arange(n)
        for i, j in enumerate(pivots):
            order[i], order[j] = order[j], order[i]
        out[k, np.arange(n), order] = 1
    return out.reshape(piv.shape[:-1] + (n, n))


# The row permutation of the LU factorization as a matrix; a plain (zero-derivative) value.
lu_permutation = Primitive(
    "lu_permutation", lambda piv, dtype: _permutation_from_pivots(piv, dtype), differentiable=False,
    batch=lambda values, batched, dtype: lu_permutation(values[0], dtype=dtype))
# LAPACK's pivot indices of the LU factorization (integers, zero derivative).
lu_pivots = Primitive("lu_pivots", _pivots_impl, differentiable=False,
                      batch=lambda values, batched: lu_pivots(values[0]))


def _lu_factors(packed):
    n = shape_of(packed)[-1]
    dtype = dtype_of(packed)
    lower = add(multiply(packed, np.tril(np.ones((n, n), dtype=dtype), -1)), _eye(n, dtype))
    upper = multiply(packed, np.triu(np.ones((n, n), dtype=dtype)))
    return lower, upper


def _lu_jvp(t, ans, a):
    # P A = L U  =>  L^{-1} P dA U^{-1} = L^{-1} dL + dU U^{-1} =: X, so dL = L tril(X, -1), dU = triu(X) U.
    lower, upper = _lu_factors(ans)
    perm = lu_permutation(lu_pivots(a), dtype=np.dtype(dtype_of(a)).name)
    y = solve_triangular(lower, matmul(perm, t), lower=True, unit_diagonal=True)
    x = _mT(solve_triangular(upper, _mT(y), lower=False, trans=1))
    n = shape_of(a)[-1]
    dtype = dtype_of(x)
    return add(matmul(lower, multiply(x, np.tril(np.ones((n, n), dtype=dtype), -1))),
               matmul(multiply(x, np.triu(np.ones((n, n), dtype=dtype))), upper))


def _lu_vjp(g, ans, a):
    lower, upper = _lu_factors(ans)
    n = shape_of(a)[-1]
    dtype = dtype_of(g)
    x_bar = add(multiply(matmul(_mT(lower), g), np.tril(np.ones((n, n), dtype=dtype), -1)),
                multiply(matmul(g, _mT(upper)), np.triu(np.ones((n, n), dtype=dtype))))
    # X = L^{-1} P dA U^{-1}  =>  A_bar = P^T L^{-T} X_bar U^{-T}.
    y = solve_triangular(lower, x_bar, lower=True, trans=1, unit_diagonal=True)
    z = _mT(solve_triangular(upper, _mT(y), lower=False))
    perm = lu_permutation(lu_pivots(a), dtype=np.dtype(dtype_of(a)).name)
    return matmul(_mT(perm), z)


# A (..., n, n) -> LU (..., n, n): L (unit lower, strictly below the diagonal) and U (upper) packed,
# with P A = L U for the row permutation P of the pivots (scipy.linalg.lu_factor's first output).
lu = Primitive("lu", _lu_impl, vjp=(_lu_vjp,), jvp=(_lu_jvp,))
lu.batch = _batch_unary(lu)


# ===================================================================== pinv

def _pinv_impl(a, rcond=None, hermitian=False):
    if rcond is None:
        return np.linalg.pinv(a, hermitian=hermitian)
    return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian)


def _projector_term(projector, build):
    """build(), the term of I - A P (or I - P A), or 0 where that projector is rounding: its squared Frobenius
    norm is the rank A lacks on that side (an integer), or of size (eps cond)^2 where A has full rank. The
    term is zero near such an A, but the rounding of I - A P, times P P^T's cond^2, made pinv's second
    derivative 7% off at cond 1e8 (inv's: 3e-9). None where every matrix has full rank there."""
    full = less(S.sum(_abs2(projector), axis=(-2, -1), keepdims=True), 0.5)
    if not _may_hold_true(equal(full, False)):
        return None
    return where(full, 0.0, build())


def _pinv_jvp(t, ans, a, rcond=None, hermitian=False):
    # Golub & Pereyra (1973), valid where the rank is locally constant:
    # dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P.
    p = ans
    m, n = shape_of(a)[-2:]
    rows = subtract(_eye(m, dtype_of(p)), matmul(a, p))
    columns = subtract(_eye(n, dtype_of(p)), matmul(p, a))
    out = negative(matmul(p, matmul(t, p)))
    out = plus(out, _projector_term(rows, lambda: matmul(matmul(p, _mT(p)), matmul(_mT(t), rows))))
    return plus(out, _projector_term(columns, lambda: matmul(columns, matmul(_mT(t), matmul(_mT(p), p)))))


def _pinv_vjp(g, ans, a, rcond=None, hermitian=False):
    p = ans
    m, n = shape_of(a)[-2:]
    rows = subtract(_eye(m, dtype_of(p)), matmul(a, p))
    columns = subtract(_eye(n, dtype_of(p)), matmul(p, a))
    out = negative(matmul(_mT(p), matmul(g, _mT(p))))
    out = plus(out, _projector_term(rows, lambda: matmul(rows, matmul(_mT(g), matmul(p, _mT(p))))))
    return plus(out, _projector_term(columns, lambda: matmul(matmul(_mT(p), p), matmul(_mT(g), columns))))


# A (..., m, n) -> P (..., n, m), the Moore-Penrose pseudo-inverse.
pinv = Primitive("pinv", _pinv_impl, vjp=(_pinv_vjp,), jvp=(_pinv_jvp,))
pinv.batch = _batch_unary(pinv)


# ===================================================================== expm

def _block_upper(a, e):
    """[[a, e], [0, a]] for stacks of n x n matrices."""
    zeros = S.zeros_like(a) if not isinstance(a, Tracer) else np.zeros(shape_of(a), dtype=dtype_of(a))
    top = S.concatenate(a, e, axis=-1)
    bottom = S.concatenate(zeros, a, axis=-1)
    return S.concatenate(top, bottom, axis=-2)


def _frechet(a, e):
    """L(A, E), the derivative of expm at A in direction E: the top right block of expm([[A, E], [0, A]])."""
    n = shape_of(a)[-1]
    big = expm(_block_upper(a, e))
    return S.getitem(big, index=(Ellipsis, slice(0, n), slice(n, None)))


def _expm_taylor(ans, primals, series):
    """exp of the block-Toeplitz matrix T of the series (T_{rc} = A_{c-r}): its top block row is the series of exp.

    A(t) -> T is an algebra homomorphism of truncated power series of matrices, so exp commutes with it.
    """
    a0 = primals[0]
    terms = [a0] + _series_terms(series[0])
    order = len(terms) - 1
    n = shape_of(a0)[-1]
    zeros = np.zeros(shape_of(a0), dtype=dtype_of(ans))
    rows = [S.concatenate(*([zeros] * r + terms[:order + 1 - r]), axis=-1) for r in range(order + 1)]
    big = expm(S.concatenate(*rows, axis=-2))
    return _stack_terms([S.getitem(big, index=(Ellipsis, slice(0, n), slice(j * n, (j + 1) * n)))
                         for j in range(1, order + 1)])


# A (..., n, n) -> exp(A) (..., n, n); its derivative is the Frechet derivative (block-matrix trick),
# the VJP the Frechet derivative at A^T.
expm = Primitive(
    "expm", _sla.expm,
    vjp=(lambda g, ans, a: _frechet(_mT(a), g),),
    jvp=(lambda t, ans, a: _frechet(a, t),),
    taylor=_expm_taylor,
)
expm.batch = _batch_unary(expm)


# ===================================================================== Sylvester equations and sqrtm

def _solve_sylvester_impl(a, b, q):
    return _sla.solve_sylvester(a, b, q)


# A (..., n, n), B (..., m, m), Q (..., n, m): X with A X + X B = Q.
# With S(X) = A X + X B, S^T(Y) = A^T Y + Y B^T, so the cotangent of Q is solve_sylvester(A^T, B^T, G).
solve_sylvester = Primitive(
    "solve_sylvester", _solve_sylvester_impl,
    vjp=(lambda g, ans, a, b, q: negative(matmul(solve_sylvester(_mT(a), _mT(b), g), _mT(ans))),
         lambda g, ans, a, b, q: negative(matmul(_mT(ans), solve_sylvester(_mT(a), _mT(b), g))),
         lambda g, ans, a, b, q: solve_sylvester(_mT(a), _mT(b), g)),
    jvp=(lambda t, ans, a, b, q: solve_sylvester(a, b, negative(matmul(t, ans))),
         lambda t, ans, a, b, q: solve_sylvester(a, b, negative(matmul(ans, t))),
         lambda t, ans, a, b, q: solve_sylvester(a, b, t)),
    broadcasts=True,
)
solve_sylvester.batch = _batch_stacked(solve_sylvester, (2, 2, 2))


def _sqrtm_impl(a):
    out = _sla.sqrtm(a)
    if not np.iscomplexobj(a) and np.iscomplexobj(out):
        # scipy returns a complex result when rounding leaves tiny imaginary parts (then the real
        # part is the real root), or when A has negative eigenvalues: then its complex principal
        # root is the answer (as scipy's), of the complex dtype of a's precision.
        scale = max(1.0, float(np.abs(out).max(initial=0.0)))
        if np.abs(out.imag).max(initial=0.0) <= 100 * np.finfo(out.real.dtype).eps * scale:
            return out.real.astype(a.dtype, copy=False)
        return out.astype(np.result_type(a.dtype, np.complex64), copy=False)
    return out.astype(np.result_type(a, out.dtype) if np.iscomplexobj(a) else a.dtype, copy=False)


def _real_for_real_input(g, a):
    """The real part of a cotangent for a real input (the output was complex)."""
    return real(g) if _is_complex(g) and not _is_complex(a) else g


def _sqrtm_taylor(ans, primals, series):
    """X_0 X_k + X_k X_0 = A_k - sum_{j=1..k-1} X_j X_{k-j}."""
    a_terms = _series_terms(series[0])
    x = [ans]
    for k in range(1, len(a_terms) + 1):
        rhs = a_terms[k - 1]
        for j in range(1, k):
            rhs = subtract(rhs, matmul(x[j], x[k - j]))
        x.append(solve_sylvester(ans, ans, rhs))
    return _stack_terms(x[1:])


# A (..., n, n) -> X = sqrtm(A) with X X = A:  X dX + dX X = dA.
sqrtm = Primitive(
    "sqrtm", _sqrtm_impl,
    vjp=(lambda g, ans, a: _real_for_real_input(solve_sylvester(_mT(ans), _mT(ans), g), a),),
    jvp=(lambda t, ans, a: solve_sylvester(ans, ans, t),),
    taylor=_sqrtm_taylor,
)
sqrtm.batch = _batch_unary(sqrtm)


# ===================================================================== banded systems (scipy.linalg.solve_banded)
#
# scipy's layout: ab (l + u + 1, n) holds A[i, j] at ab[u + i - j, j]; row r of ab is the diagonal
# of offset u - r (superdiagonals first). Entries of ab outside the band's positions are ignored.

def _band_positions(lo, up, n, shift):
    """(indices, mask): for each (r, j) of an (lo + up + 1, n) array, the column j + shift(r) clipped
    into [0, n) and whether it is in range (plain integer / boolean arrays)."""
    r = np.arange(lo + up + 1)[:, None]
    column = np.arange(n)[None, :] + shift(r)
    valid = (column >= 0) & (column < n)
    return np.clip(column, 0, n - 1), valid


def _gather(x, indices, axis_from_end):
    """take_along_axis of x along axis ndim - axis_from_end, indices broadcast over the leading axes."""
    nd = ndim_of(x)
    indices = indices.reshape((1,) * (nd - indices.ndim) + indices.shape)
    return S.take_along_axis_p(x, indices, axis=nd - axis_from_end)


def _band_mask(valid, like):
    return valid.astype(dtype_of(like))


def _banded_matvec(ab, x, lo, up):
    """A x for the banded A of ab (..., m, n) and x (..., n, K):  y_i = sum_r ab[r, i + up - r] x[i + up - r]."""
    n = shape_of(ab)[-1]
    indices, valid = _band_positions(lo, up, n, lambda r: up - r)
    products = multiply(S.expand_dims(ab, -1), S.expand_dims(x, -3))  # (..., m, n, K)
    picked = _gather(products, indices[:, :, None], 2)
    return S.sum(multiply(picked, _band_mask(valid, picked)[:, :, None]), axis=-3)


def _banded_transpose(ab, lo, up):
    """The ab (..., m, n) of A^T (whose band is (up, lo)):  abT[r, j] = ab[m - 1 - r, j + r - lo]."""
    n = shape_of(ab)[-1]
    indices, valid = _band_positions(lo, up, n, lambda r: r - lo)
    flipped = S.getitem(ab, index=(Ellipsis, slice(None, None, -1), slice(None)))
    return multiply(_gather(flipped, indices, 1), _band_mask(valid, flipped))


def _banded_outer(gb, x, lo, up):
    """The band of gb x^T (gb, x (..., n, K)) in ab's layout:  out[r, j] = sum_K gb[j - up + r, K] x[j, K]."""
    n = shape_of(x)[-2]
    indices, valid = _band_positions(lo, up, n, lambda r: r - up)
    rows = _gather(S.expand_dims(gb, -3), indices[:, :, None], 2)  # (..., m, n, K)
    out = S.sum(multiply(rows, S.expand_dims(x, -3)), axis=-1)
    return multiply(out, _band_mask(valid, out))


def _solve_banded_impl(ab, b, lo, up):
    stack = np.broadcast_shapes(ab.shape[:-2], b.shape[:-2])
    out = np.empty(stack + b.shape[-2:], dtype=np.result_type(ab, b))
    abs_ = np.broadcast_to(ab, stack + ab.shape[-2:])
    bs = np.broadcast_to(b, stack + b.shape[-2:])
    for index in np.ndindex(*stack):
        try:
            out[index] = _sla.solve_banded((lo, up), abs_[index], bs[index], check_finite=False)
        except np.linalg.LinAlgError as error:
            raise np.linalg.LinAlgError(
                f"solve_banded: singular matrix ({error}): the solution, and so its derivatives, does not "
                f"exist there (scipy.linalg.solve_banded raises too); for a least-squares answer use "
                f"hodiff.numpy.linalg.lstsq on the dense matrix") from None
    return out


def _solve_banded_vjp_ab(g, ans, ab, b, lo, up):
    gb = solve_banded(_banded_transpose(ab, lo, up), g, lo=up, up=lo)
    out = negative(_banded_outer(gb, ans, lo, up))
    return _real_for_real_input(S.sum_to_shape(out, shape_of(ab)), ab)


def _solve_banded_vjp_b(g, ans, ab, b, lo, up):
    gb = solve_banded(_banded_transpose(ab, lo, up), g, lo=up, up=lo)
    return _real_for_real_input(S.sum_to_shape(gb, shape_of(b)), b)


# ab (..., l + u + 1, n), b (..., n, K) -> x (..., n, K) with A x = b (stacks broadcast).
# dx = A^{-1} (db - dA x); the cotangents: b's A^{-T} g, ab's the band of -(A^{-T} g) x^T in ab's layout.
solve_banded = Primitive(
    "solve_banded", _solve_banded_impl,
    vjp=(_solve_banded_vjp_ab, _solve_banded_vjp_b),
    jvp=(lambda t, ans, ab, b, lo, up: negative(solve_banded(ab, _banded_matvec(t, ans, lo, up), lo=lo, up=up)),
         lambda t, ans, ab, b, lo, up: solve_banded(ab, t, lo=lo, up=up)),
)
solve_banded.batch = _batch_stacked(solve_banded, (2, 2))


# ===================================================================== public functions (numpy.linalg)

SlogdetResult = collections.namedtuple("SlogdetResult", ["sign", "logabsdet"])
EighResult = collections.namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = collections.namedtuple("SVDResult", ["U", "S", "Vh"])
QRResult = collections.namedtuple("QRResult", ["Q", "R"])
LstsqResult = collections.namedtuple("LstsqResult", ["x", "residuals", "rank", "s"])


def np_inv(a):
    """Inverse of each matrix in a stack (..., n, n) -> (..., n, n).

    d(A^{-1}) = -A^{-1} dA A^{-1}; the VJP is -A^{-T} G A^{-T}.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> A = np.array([[2.0, 0.0], [0.0, 4.0]])
    >>> hd.grad(lambda A: hnp.sum(hnp.linalg.inv(A)))(A)
    array([[-0.25  , -0.125 ],
           [-0.125 , -0.0625]])
    """
    a = _inexact(a)
    _check_square(a, "inv")
    return inv(a)


def np_solve(a, b):
    """x with a @ x = b; numpy 2 semantics.

    a: (..., M, M). b: (M,) is one vector (the result has shape (..., M));
    otherwise b is a stack of matrices (..., M, K) and the result (..., M, K).
    Stack axes broadcast.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> A = np.array([[2.0, 0.0], [0.0, 4.0]])
    >>> hd.grad(lambda b: hnp.sum(hnp.linalg.solve(A, b)))(np.array([1.0, 1.0]))
    array([0.5 , 0.25])
    """
    a, b = _inexact(a), _inexact(b)
    _check_square(a, "solve")
    b_shape = shape_of(b)
    n = shape_of(a)[-1]
    if len(b_shape) == 1:
        if b_shape[0] != n:
            raise ValueError(f"solve: b has shape {b_shape}, expected ({n},) for a of shape {shape_of(a)}")
        return S.getitem(solve(a, S.expand_dims(b, -1)), index=(Ellipsis, 0))
    if len(b_shape) < 1 or b_shape[-2] != n:
        raise ValueError(f"solve: b has shape {b_shape}; expected (..., {n}, K) or ({n},) for a of shape "
                         f"{shape_of(a)}")
    return solve(a, b)


def np_det(a):
    """Determinants of a stack (..., n, n) -> (...). d det A = tr(adj(A) dA) (= det A tr(A^{-1} dA)).

    The adjugate makes first and second derivatives exact at singular matrices
    too: the gradient of det at [[1, 2], [2, 4]] is [[4, -2], [-2, 1]].

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.grad(hnp.linalg.det)(np.array([[2.0, 1.0], [1.0, 3.0]]))
    array([[ 3., -1.],
           [-1.,  2.]])
    """
    a = _inexact(a)
    _check_square(a, "det")
    return det(a)


def np_slogdet(a):
    """(sign, logabsdet) of a stack (..., n, n), each (...). d log|det A| = tr(A^{-1} dA); sign: zero.

    Real matrices only when differentiated.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.grad(lambda A: hnp.linalg.slogdet(A)[1])(np.diag([2.0, -4.0]))
    array([[ 0.5 ,  0.  ],
           [ 0.  , -0.25]])
    """
    a = _inexact(a)
    _check_square(a, "slogdet")
    if _untraced_numpy(a):
        return SlogdetResult(*np.linalg.slogdet(a))
    _check_real(a, "slogdet")
    packed = slogdet(a)
    # One matrix: numpy scalars, as np.linalg.slogdet gives on the plain path (x[..., 1] would be a 0-d
    # array, which later ops compute along other loops: f(x) and its replay differed in the last bit).
    sign, logabsdet = (0, 1) if len(shape_of(packed)) == 1 else ((Ellipsis, 0), (Ellipsis, 1))
    return SlogdetResult(S.getitem(packed, index=sign), S.getitem(packed, index=logabsdet))


def np_cholesky(a, /, *, upper=False):
    """Cholesky factor of symmetric positive definite matrices (..., n, n): L lower with L L^T = A.

    ``upper=True`` returns U = L^T. As numpy, only one triangle of A is read
    (the lower one; the upper one if ``upper``), and the derivative is that of
    this function: zero in the other triangle, an off-diagonal entry of the
    read triangle standing for both mirror entries. For a symmetric A and a
    symmetric direction dA this is the derivative of the symmetric function;
    a gradient, unlike JAX's symmetric one, lives in the read triangle.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> out, tangent = hd.jvp(hnp.linalg.cholesky, (np.eye(2) * 4.0,), (np.eye(2),))
    >>> tangent
    array([[0.25, 0.  ],
           [0.  , 0.25]])
    """
    a = _inexact(a)
    _check_square(a, "cholesky")
    if _untraced_numpy(a):
        return np.linalg.cholesky(a, upper=upper)
    _check_real(a, "cholesky")
    low = cholesky(_hermitian_from_triangle(a, lower=not upper))
    return _mT(low) if upper else low


def np_eigh(a, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors (columns) of Hermitian (real: symmetric) matrices (..., n, n).

    Returns ``EighResult(eigenvalues (..., n) real, eigenvectors (..., n, n))``.
    As numpy, only the lower triangle of A is read (the upper one if
    ``UPLO='U'``; the imaginary part of a complex diagonal is ignored), and the
    derivative is that of this function in every mode: zero in the unread
    triangle. A symmetric A gets, for a symmetric direction dA,
    dw_i = v_i^H dA v_i (right even with repeated eigenvalues); its gradient
    G lives in the read triangle (G = 2 tril(S, -1) + diag(S) for UPLO='L',
    with S the symmetric gradient JAX returns). Eigenvector derivatives need
    distinct eigenvalues: at a repeated one they are nan where a cotangent
    or tangent reaches its vectors (module docstring). Complex eigenvectors have an
    arbitrary phase: their derivative is the one with V^H dV zero on the
    diagonal, so only phase-invariant functions of them (|v|, v v^H) match
    numpy's to finite differences.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.grad(lambda A: hnp.linalg.eigh(A)[0][1])(np.diag([1.0, 3.0]))
    array([[0., 0.],
           [0., 1.]])
    >>> hd.grad(lambda A: hnp.linalg.eigvalsh(A)[1])(np.array([[1.0, 1.0], [1.0, 1.0]]))
    array([[0.5, 0. ],
           [1. , 0.5]])
    """
    a = _inexact(a)
    _check_square(a, "eigh")
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    if _untraced_numpy(a):
        return EighResult(*np.linalg.eigh(a, UPLO=UPLO))
    w, v = _eigh_parts(eigh(_hermitian_from_triangle(a, UPLO == "L"), UPLO=UPLO))
    return EighResult(w, v)


EigResult = collections.namedtuple("EigResult", ["eigenvalues", "eigenvectors"])


def np_eig(a):
    """Eigenvalues and right eigenvectors (columns) of general square matrices (..., n, n).

    Returns ``EigResult(eigenvalues (..., n), eigenvectors (..., n, n))`` as
    numpy: complex unless every eigenvalue is real, eigenvectors of unit norm
    with their largest entry real (LAPACK's gauge). Differentiated for real
    and complex input, in both modes: dw = diag(V^{-1} dA V); the eigenvector
    derivative keeps numpy's normalization and gauge, so it is the derivative
    of numpy's own eigenvectors (up to a sign flip of a real eigenvector, a
    constant). Needs distinct eigenvalues (the derivative of the vectors, and
    of the values beyond first order, does not exist at repeated ones: nan
    where a cotangent or tangent reaches them). A real input gets a real gradient.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.grad(lambda A: hnp.real(hnp.linalg.eig(A)[0][0]))(np.array([[2.0, 1.0], [0.0, 1.0]]))  # u v^T
    array([[1., 0.],
           [1., 0.]])
    """
    a = _inexact(a)
    _check_square(a, "eig")
    if _untraced_numpy(a):
        return EigResult(*np.linalg.eig(a))
    return EigResult(*_eig_parts(eig(a)))


def np_eigvals(a):
    """Eigenvalues of general square matrices (..., n, n) -> (..., n) (see eig)."""
    a = _inexact(a)
    if _untraced_numpy(a):
        _check_square(a, "eigvals")
        return np.linalg.eigvals(a)
    return np_eig(a)[0]


def np_eigvalsh(a, UPLO="L"):
    """Eigenvalues (ascending) of Hermitian matrices (..., n, n) -> (..., n), reading one triangle (see eigh)."""
    return np_eigh(a, UPLO)[0]


def np_svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition of a stack (..., m, n): ``SVDResult(U, S, Vh)`` with A = U diag(S) Vh.

    Differentiated: the reduced SVD (``full_matrices=False``, U (..., m, k),
    S (..., k), Vh (..., k, n), k = min(m, n)); ``full_matrices=True`` is
    differentiable only for square matrices (where it is the same), since the
    extra columns are not unique. ``compute_uv=False`` gives S alone, whose
    derivative U^T dA V (diagonal) holds even with repeated singular values;
    that of U and Vh needs distinct, nonzero singular values (at repeated or
    zero ones it is nan where a cotangent or tangent reaches them: module docstring).

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.grad(lambda A: hnp.linalg.svd(A, compute_uv=False)[0])(np.diag([3.0, 1.0]))
    array([[1., 0.],
           [0., 0.]])
    """
    a = _inexact(a)
    _check_matrix(a, "svd")
    if _untraced_numpy(a):
        if not compute_uv:
            return np.linalg.svd(a, full_matrices=full_matrices, compute_uv=False, hermitian=hermitian)
        return SVDResult(*np.linalg.svd(a, full_matrices=full_matrices, hermitian=hermitian))
    m, n = shape_of(a)[-2:]
    if compute_uv and full_matrices and m != n:
        raise ValueError("svd: differentiating full_matrices=True is only possible for square matrices "
                         "(the extra singular vectors are not unique); pass full_matrices=False")
    if hermitian:
        return _hermitian_svd(a, compute_uv)
    u, s, v = _svd_parts(svd(a), m)
    if not compute_uv:
        return s
    return SVDResult(u, s, _H(v))


def _hermitian_svd(a, compute_uv):
    """numpy's hermitian SVD, from eigh of the lower triangle: S = |w| descending, U the eigenvectors in that order,
    Vh = (U sign(w))^H. The general SVD of the same matrix may flip a pair of singular vectors, which is another
    function (derivatives of U or Vh against numpy's differed in sign)."""
    from .reductions import argsort, sort

    w, u = np_eigh(a, "L")
    if not compute_uv:
        return sort(absolute(w), axis=-1)[..., ::-1]
    order = argsort(absolute(w), axis=-1)[..., ::-1]
    s = S.take_along_axis(absolute(w), order, axis=-1)
    signs = S.take_along_axis(sign(w), order, axis=-1)
    u = S.take_along_axis(u, order[..., None, :], axis=-1)
    return SVDResult(u, s, _H(multiply(u, signs[..., None, :])))


def np_qr(a, mode="reduced"):
    """QR decomposition of a stack (..., m, n): ``QRResult(Q, R)`` (mode 'reduced'), or R (mode 'r').

    Q (..., m, k) has orthonormal columns, R (..., k, n) is upper triangular,
    k = min(m, n). Wide matrices (m < n) are decomposed as A = [X | Y] with
    X = Q R_1 square, R = [R_1 | Q^T Y]. Mode 'complete' is differentiable
    for m <= n (where it equals 'reduced'); 'raw' is not differentiable.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.grad(lambda A: hnp.linalg.qr(A)[1][0, 0] ** 2)(np.array([[3.0], [4.0]]))
    array([[6.],
           [8.]])
    """
    a = _inexact(a)
    _check_matrix(a, "qr")
    if mode not in ("reduced", "complete", "r", "raw"):
        raise ValueError(f"qr: unrecognized mode {mode!r}")
    if _untraced_numpy(a):
        out = np.linalg.qr(a, mode=mode)
        return QRResult(*out) if mode in ("reduced", "complete") else out
    _check_real(a, "qr")
    m, n = shape_of(a)[-2:]
    if mode == "raw" or (mode == "complete" and m > n):
        raise ValueError(f"qr: mode {mode!r} is not differentiable (use mode='reduced')")
    if m >= n:
        q, r = _qr_parts(qr(a), m)
    else:
        left = S.getitem(a, index=(Ellipsis, slice(None), slice(0, m)))
        right = S.getitem(a, index=(Ellipsis, slice(None), slice(m, None)))
        q, r_left = _qr_parts(qr(left), m)
        r = S.concatenate(r_left, matmul(_mT(q), right), axis=-1)
    return r if mode == "r" else QRResult(q, r)


def np_pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """Moore-Penrose pseudo-inverse of a stack (..., m, n) -> (..., n, m).

    The derivative (Golub & Pereyra) holds where the rank is locally constant,
    including rank-deficient matrices; it does not go through the SVD, so
    repeated singular values are fine. A cutoff (rcond/rtol) above numpy's
    default gives the truncated SVD's pseudo-inverse, differentiated through
    the SVD; ``hermitian=True`` reads the lower triangle (docs/linalg.md).

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.grad(lambda A: hnp.linalg.pinv(A)[0, 0])(np.array([[2.0], [0.0]]))
    array([[-0.25],
           [ 0.  ]])
    """
    a = _inexact(a)
    _check_matrix(a, "pinv")
    if rtol is not None and rcond is not None:
        raise ValueError("pinv: pass rcond or rtol, not both")
    _check_real(a, "pinv")
    if hermitian and not _untraced_numpy(a):
        a = _hermitian_from_triangle(a, True)  # numpy's hermitian pinv reads the lower triangle (eigh's 'L')
    return _pinv_with_cutoff(a, rtol if rtol is not None else rcond, bool(hermitian))


def _pinv_with_cutoff(a, cutoff, hermitian=False, atol=0.0):
    """pinv(a) dropping singular values s <= atol + cutoff * s_max (numpy's rcond/rtol, None: numpy's default;
    scipy's atol).

    A cutoff above numpy's default (max(m, n) eps) drops singular values that are not rounding: P is then
    the pseudo-inverse of the truncated SVD, V_k S_k^-1 U_k^T, whose derivative moves with the kept singular
    vectors. Golub and Pereyra's formula (the primitive's rules) is for a constant rank of A itself and gave
    0.15 wrong JVPs there; that P is built from the differentiable SVD instead (derivatives exist where no
    singular value sits at the cut).
    """
    m, n = shape_of(a)[-2:]
    default = max(m, n) * np.finfo(_real_dtype(dtype_of(a))).eps
    if atol == 0 and (cutoff is None or cutoff <= default or _untraced_numpy(a)):
        return pinv(a, rcond=cutoff, hermitian=hermitian)
    u, s, vh = np_svd(a, full_matrices=False)
    cutoff = default if cutoff is None else cutoff
    kept = greater(s, add(multiply(S.getitem(s, index=(Ellipsis, slice(0, 1))), cutoff), atol))
    inverse = where(kept, reciprocal(where(kept, s, 1.0)), 0.0)  # 1/s of the kept, 0 (no 0 * inf) elsewhere
    return matmul(multiply(_mT(vh), S.expand_dims(inverse, -2)), _mT(u))


def np_matrix_power(a, n):
    """a @ a @ ... (n times) for a stack (..., m, m); n = 0 gives identities, n < 0 powers of inv(a).

    Composed of matrix products (binary powering), so every rule comes from theirs.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.grad(lambda A: hnp.sum(hnp.linalg.matrix_power(A, 3)))(np.eye(2))
    array([[3., 3.],
           [3., 3.]])
    """
    a = _inexact(a)
    _check_square(a, "matrix_power")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError("matrix_power: exponent must be an integer") from None
    if n == 0:
        return S.broadcast_to(_eye(shape_of(a)[-1], dtype_of(a)), shape=tuple(shape_of(a)))
    if n < 0:
        a, n = inv(a), -n
    result, power = None, a
    while True:
        if n & 1:
            result = power if result is None else matmul(result, power)
        n >>= 1
        if not n:
            return result
        power = matmul(power, power)


def np_multi_dot(arrays, *, out=None):
    """Chained product of matrices; the first may be a vector (..., as a row) and the last a vector.

    Products are taken in the cheapest order (the matrix-chain order), each a
    differentiable matrix product.

    >>> import numpy as np, hodiff.numpy as hnp
    >>> float(hnp.linalg.multi_dot([np.ones(2), np.eye(2), np.ones(2)]))
    2.0
    """
    if out is not None:
        raise TypeError("multi_dot: out= is not supported (hodiff arrays are immutable)")
    arrays = [_inexact(x) for x in arrays]
    if len(arrays) < 2:
        raise ValueError("multi_dot: expecting at least two arrays")
    first_vector = ndim_of(arrays[0]) == 1
    last_vector = ndim_of(arrays[-1]) == 1
    if first_vector:
        arrays[0] = S.expand_dims(arrays[0], 0)
    if last_vector:
        arrays[-1] = S.expand_dims(arrays[-1], -1)
    for x in arrays:
        if ndim_of(x) != 2:
            raise ValueError(f"multi_dot: {ndim_of(x)}-dimensional array given; arrays must be 2-D "
                             "(the first and last may be 1-D)")
    result = _chain_product(arrays, _chain_order([shape_of(x) for x in arrays]), 0, len(arrays) - 1)
    if first_vector:
        result = S.getitem(result, index=0)
    if last_vector:
        result = S.getitem(result, index=(Ellipsis, 0))
    return result


def _chain_order(shapes):
    """split[i][j]: where to split the product of matrices i..j (cheapest, by dynamic programming)."""
    dims = [shapes[0][0]] + [s[1] for s in shapes]
    count = len(shapes)
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain_product(arrays, split, i, j):
    if i == j:
        return arrays[i]
    k = split[i][j]
    return matmul(_chain_product(arrays, split, i, k), _chain_product(arrays, split, k + 1, j))


def np_lstsq(a, b, rcond=None):
    """Least-squares solution of a @ x = b: ``LstsqResult(x, residuals, rank, s)`` as numpy.linalg.lstsq.

    a: (M, N); b: (M,) or (M, K). x = pinv(a) @ b is differentiable in a and
    b (where the rank is locally constant; a real, b real or complex), as are the residuals (the squared
    2-norms of b - a x, given when rank == N < M) and s, the singular values
    of a; rank is a plain integer, computed from the value of a. Under vmap
    over a, each member gets its own rank and cutoff (as a loop of
    numpy.linalg.lstsq): rank is then a batched integer array when the members'
    ranks differ. residuals is refused (ValueError) when some members have
    rank == N < M and others not, since their residuals differ in shape.
    """
    a, b = _inexact(a), _inexact(b)
    if ndim_of(a) != 2 or ndim_of(b) not in (1, 2):
        raise np.linalg.LinAlgError("lstsq: a must be 2-D and b 1-D or 2-D")
    m, n = shape_of(a)
    if shape_of(b)[0] != m:
        raise np.linalg.LinAlgError(f"lstsq: incompatible dimensions a {shape_of(a)}, b {shape_of(b)}")
    if _untraced_numpy(a) and _untraced_numpy(b):
        return LstsqResult(*np.linalg.lstsq(a, b, rcond=rcond))
    _check_real(a, "lstsq")  # pinv's rules are real (they gave wrong derivatives of a complex a: 0.9 off)
    from ..core.errors import TracedConversionError
    from ..core.trace import concrete_value

    try:
        a_value, batched = concrete_value(a), False
    except TracedConversionError:  # mapped over by vmap: the members, stacked in front
        a_value, batched = _lstsq_stacked_value(a), True
    if backends.backend_name(a_value) != "numpy":  # the rank decides the output's shape: it must be known now
        raise BackendError("lstsq", backends.backend_name(a_value), "its rank (from the singular values) "
                           "decides the result's shape, and pinv has no Dask implementation; compute a first")
    cutoff = np.finfo(np.result_type(a_value).type(0).real.dtype).eps * max(m, n) \
        if rcond is None else rcond
    s_values = np.linalg.svd(a_value, compute_uv=False)
    ranks = np.sum(s_values > cutoff * (s_values[..., :1] if s_values.size else 0.0), axis=-1)
    rank = int(ranks.flat[0]) if ranks.size else 0
    if batched and np.any(ranks != rank):  # members differ: a batched rank, from the batched singular values
        from .elementwise import greater

        s_traced = np_svd(a, compute_uv=False)
        rank = S.sum(greater(s_traced, multiply(S.getitem(s_traced, index=(slice(0, 1),)), cutoff)), axis=-1)
        if m > n and np.any(ranks == n):
            raise ValueError(
                f"lstsq under vmap: the members' ranks differ ({sorted(set(ranks.ravel().tolist()))} of N = {n}),"
                " so residuals would have shape (K,) for the full-rank members and (0,) for the others;"
                " compute x = hodiff.numpy.linalg.pinv(a) @ b and the residuals sum((b - a @ x)**2) yourself")
    vector = ndim_of(b) == 1
    b_matrix = S.expand_dims(b, -1) if vector else b
    x = matmul(_pinv_with_cutoff(a, cutoff), b_matrix)
    if m > n and bool(np.all(ranks == n)):
        r = subtract(b_matrix, matmul(a, x))
        residuals = S.sum(_abs2(r), axis=0)  # |r|^2: for complex b, r * r was complex and wrong
    else:
        residuals = np.empty((0,), dtype=dtype_of(x))
    if vector:
        x = S.getitem(x, index=(Ellipsis, 0))
    s = np_svd(a, compute_uv=False) if isinstance(a, Tracer) else s_values
    return LstsqResult(x, residuals, np.int32(rank) if isinstance(rank, int) else rank, s)  # numpy's LAPACK int


def _lstsq_stacked_value(x):
    """The plain value under tracers, vmap's members stacked in front: shape (..., M, N)."""
    from ..interpreters.batch import BatchTracer

    while isinstance(x, Tracer):
        x = x.value if isinstance(x, BatchTracer) else x.primal
    return x


def np_tensorinv(a, ind=2):
    """Inverse of a as a tensor operator: a (*i, *j) with prod(i) == prod(j) -> (*j, *i)."""
    a = _inexact(a)
    shape = shape_of(a)
    if ind <= 0:
        raise ValueError("tensorinv: ind must be > 0")
    out_shape = tuple(shape[ind:]) + tuple(shape[:ind])
    rows = int(np.prod(shape[:ind]))
    cols = int(np.prod(shape[ind:]))
    if rows != cols:
        raise np.linalg.LinAlgError(f"tensorinv: prod(a.shape[:ind]) = {rows} != prod(a.shape[ind:]) = {cols}")
    return S.reshape(inv(S.reshape(a, shape=(rows, cols))), shape=out_shape)


def np_tensorsolve(a, b, axes=None):
    """x with tensordot(a, x, x.ndim) = b (numpy.linalg.tensorsolve)."""
    a, b = _inexact(a), _inexact(b)
    ndim = ndim_of(a)
    if axes is not None:
        order = [k for k in range(ndim) if k not in [ax % ndim for ax in axes]] + [ax % ndim for ax in axes]
        a = S.transpose(a, axes=tuple(order))
    shape = shape_of(a)
    x_shape = tuple(shape[-(ndim - ndim_of(b)):]) if ndim > ndim_of(b) else ()
    rows = int(np.prod(shape_of(b)))
    cols = int(np.prod(x_shape))
    if rows != cols:
        raise np.linalg.LinAlgError("tensorsolve: the leading dimensions of a must match b and the problem "
                                    "must be square")
    x = np_solve(S.reshape(a, shape=(rows, cols)), S.reshape(b, shape=(rows,)))
    return S.reshape(x, shape=x_shape)


def np_matrix_transpose(x, /):
    """Transpose of each matrix in a stack (..., m, n) -> (..., n, m)."""
    _check_matrix(x, "matrix_transpose")
    return _mT(x)


# ------------------------------------------------------------------ norms

def _two_norm(x, axes, keepdims):
    """sqrt(sum |x|^2) over ``axes``: at the zero vector derivative 0 (not nan), as PyTorch, and nan from order 2
    on (cone_root), as the cone has no curvature there."""
    squares = real(multiply(x, conj(x))) if np.issubdtype(dtype_of(x), np.complexfloating) else multiply(x, x)
    return cone_root(S.sum(squares, axis=axes, keepdims=keepdims), 0.5)


def _constant_ord(ord):
    """ord chooses the norm: as a traced value, ``ord == 2`` would freeze that branch (derivative 0 in ord)."""
    if isinstance(ord, Tracer):
        raise TypeError("norm: ord is a traced value; it chooses which norm (2, 1, inf, 'fro', ...) and must be a "
                        "constant. For a p-norm differentiable in p, write hnp.sum(hnp.abs(x) ** p) ** (1 / p)")


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return _two_norm(x, (axis,), keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
    magnitude = absolute(x)
    if ord == np.inf:
        return amax(magnitude, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return amin(magnitude, axis=axis, keepdims=keepdims)
    if ord == 0:  # the number of nonzero entries: zero derivative
        nonzero = where(not_equal(x, 0), S.ones_like(magnitude), S.zeros_like(magnitude))
        return S.sum(nonzero, axis=(axis,), keepdims=keepdims)
    if ord == 1:
        return S.sum(magnitude, axis=(axis,), keepdims=keepdims)
    # sum(|x|^p)^(1/p), with derivative 0 at the zero vector and nan from order 2 on, as the 2-norm.
    total = S.sum(power(magnitude, float(ord)), axis=(axis,), keepdims=keepdims)
    return cone_root(total, 1.0 / float(ord))


def _svdvals_over(x, axes):
    """Singular values of the (axes[0], axes[1]) planes, stack axes in order first."""
    ndim = ndim_of(x)
    order = tuple(d for d in range(ndim) if d not in axes) + tuple(axes)
    return np_svd(S.transpose(x, axes=order), compute_uv=False)


def _matrix_norm(x, ord, axes, keepdims):
    row_axis, col_axis = axes
    if ord is None or ord == "fro":
        result = _two_norm(x, axes, False)
    elif ord == "nuc":
        result = S.sum(_svdvals_over(x, axes), axis=-1)
    elif ord in (2, -2):
        values = _svdvals_over(x, axes)
        result = S.getitem(values, index=(Ellipsis, 0 if ord == 2 else -1))
    elif ord in (1, -1, np.inf, -np.inf):
        summed, other = (row_axis, col_axis) if ord in (1, -1) else (col_axis, row_axis)
        sums = S.sum(absolute(x), axis=(summed,))
        other = other - 1 if other > summed else other
        result = (amax if ord > 0 else amin)(sums, axis=other)
    else:
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices")
    if keepdims:
        shape = list(shape_of(x))
        shape[row_axis] = shape[col_axis] = 1
        result = S.reshape(result, shape=tuple(shape))
    return result


def np_norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm (numpy.linalg.norm), differentiable.

    Vector norms (1-D x, or ``axis`` an int): ord None/2 (Euclidean), 1,
    inf, -inf, 0 (count of nonzeros, zero derivative), any other p
    (sum |x|^p)^(1/p). Matrix norms (2-D x, or ``axis`` a pair): None/'fro',
    'nuc' (sum of singular values), 2 / -2 (largest / smallest singular
    value), 1, -1, inf, -inf (max/min absolute column or row sums). ord=None
    with axis=None is the 2-norm of x flattened, whatever its shape.

    Derivatives: the Euclidean/Frobenius and p-norms have derivative 0 at the
    zero vector (as PyTorch, where JAX gives nan); at kinks of abs, max and
    min the conventions of those functions apply (abs'(0) = 0, ties share);
    the spectral norms follow svd (the largest singular value's derivative
    u_1 v_1^T needs it to be simple).

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.grad(hnp.linalg.norm)(np.array([3.0, 4.0]))
    array([0.6, 0.8])
    >>> hd.grad(hnp.linalg.norm)(np.zeros(2))
    array([0., 0.])
    """
    _constant_ord(ord)
    x = _inexact(x)
    ndim = ndim_of(x)
    if axis is None:
        if ord is None:
            result = _two_norm(x, tuple(range(ndim)), False)
            return S.reshape(result, shape=(1,) * ndim) if keepdims else result
        if ndim not in (1, 2):
            raise ValueError("norm: improper number of dimensions to norm (ord given, axis None: x must be 1-D or 2-D)")
        axis = tuple(range(ndim))
    elif isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    else:
        axis = tuple(int(a) for a in axis)
    for a in axis:
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(a, ndim)
    axis = tuple(a % ndim for a in axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis[0], keepdims)
    if len(axis) == 2:
        if axis[0] == axis[1]:
            raise ValueError("norm: duplicate axes given")
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError("norm: improper number of dimensions to norm (axis must be an int or a pair)")


def np_vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """numpy.linalg.vector_norm: the vector ``ord``-norm over ``axis``.

    axis None: all entries as one vector; a tuple: those axes as one vector.
    """
    _constant_ord(ord)
    x = _inexact(x)
    ndim = ndim_of(x)
    axes = tuple(range(ndim)) if axis is None else ((axis,) if isinstance(axis, (int, np.integer)) else tuple(axis))
    axes = tuple(int(a) % ndim for a in axes) if ndim else ()
    others = tuple(d for d in range(ndim) if d not in axes)
    merged = S.reshape(S.transpose(x, axes=others + axes),
                       shape=tuple(shape_of(x)[d] for d in others) + (-1,))
    result = _vector_norm(merged, ord, len(others), False)
    if keepdims:
        shape = [1 if d in axes else shape_of(x)[d] for d in range(ndim)]
        result = S.reshape(result, shape=tuple(shape))
    return result


def np_matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """numpy.linalg.matrix_norm: the matrix ``ord``-norm of each matrix of a stack (..., m, n)."""
    _constant_ord(ord)
    x = _inexact(x)
    _check_matrix(x, "matrix_norm")
    ndim = ndim_of(x)
    return _matrix_norm(x, ord, (ndim - 2, ndim - 1), keepdims)


def np_svdvals(x, /):
    """numpy.linalg.svdvals: singular values (descending) of a stack (..., m, n) -> (..., min(m, n))."""
    return np_svd(x, compute_uv=False)


def np_cond(x, p=None):
    """Condition number (numpy.linalg.cond): s_max / s_min for p None/2 (s_min / s_max for -2),
    else norm(x, p) * norm(inv(x), p)."""
    x = _inexact(x)
    _check_matrix(x, "cond")
    if p is None or p in (2, -2):
        values = np_svd(x, compute_uv=False)
        largest = S.getitem(values, index=(Ellipsis, 0))
        smallest = S.getitem(values, index=(Ellipsis, -1))
        return true_divide(smallest, largest) if p == -2 else true_divide(largest, smallest)
    _check_square(x, "cond")
    ndim = ndim_of(x)
    axes = (ndim - 2, ndim - 1)
    return multiply(_matrix_norm(x, p, axes, False), _matrix_norm(inv(x), p, axes, False))


def np_trace(x, /, *, offset=0, dtype=None):
    """numpy.linalg.trace: the sum of the ``offset`` diagonal of each matrix in a stack (..., m, n)."""
    return trace(_inexact(x), offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def np_diagonal(x, /, *, offset=0):
    """numpy.linalg.diagonal: the ``offset`` diagonal of each matrix in a stack (..., m, n)."""
    return diagonal(_inexact(x), offset, -2, -1)


def np_outer(x1, x2, /):
    """numpy.linalg.outer: the outer product of two vectors."""
    if ndim_of(x1) != 1 or ndim_of(x2) != 1:
        raise ValueError("outer: both inputs must be 1-D")
    return outer(x1, x2)


def np_vecdot(x1, x2, /, *, axis=-1):
    """numpy.linalg.vecdot: sum(conj(x1) * x2) over ``axis`` (broadcasting)."""
    if _both_plain(x1, x2):
        return np.linalg.vecdot(x1, x2, axis=axis)  # numpy's exact answer and dtype (integers stay integers)
    x1, x2 = _inexact(x1), _inexact(x2)
    if np.issubdtype(dtype_of(x1), np.complexfloating):
        x1 = conj(x1)
    return S.sum(multiply(x1, x2), axis=axis)


def np_tensordot(x1, x2, /, *, axes=2):
    """numpy.linalg.tensordot (hodiff.numpy.tensordot)."""
    from .namespace import NUMPY_API

    return NUMPY_API["tensordot"](x1, x2, axes=axes)


def np_linalg_matmul(x1, x2, /):
    """numpy.linalg.matmul (hodiff.numpy.matmul)."""
    from .namespace import NUMPY_API

    return NUMPY_API["matmul"](x1, x2)


LINALG_API = {
    "inv": np_inv, "solve": np_solve, "det": np_det, "slogdet": np_slogdet, "cholesky": np_cholesky,
    "eigh": np_eigh, "eigvalsh": np_eigvalsh, "eig": np_eig, "eigvals": np_eigvals, "svd": np_svd, "qr": np_qr,
    "pinv": np_pinv,
    "matrix_power": np_matrix_power, "multi_dot": np_multi_dot, "lstsq": np_lstsq,
    "tensorinv": np_tensorinv, "tensorsolve": np_tensorsolve, "matrix_transpose": np_matrix_transpose,
    "norm": np_norm, "vector_norm": np_vector_norm, "matrix_norm": np_matrix_norm, "svdvals": np_svdvals,
    "cond": np_cond, "trace": np_trace, "diagonal": np_diagonal, "outer": np_outer, "vecdot": np_vecdot,
    "tensordot": np_tensordot, "matmul": np_linalg_matmul,
}


# ===================================================================== public functions (scipy.linalg)

def sp_solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, check_finite=True):
    """x with op(a) x = b for triangular a (scipy.linalg.solve_triangular).

    a: (..., M, M), only its lower (``lower=True``) or upper triangle read,
    with an implicit unit diagonal if ``unit_diagonal``; op is the identity
    (trans=0/'N') or the transpose (1/'T'; 2/'C' is the conjugate transpose,
    the transpose for real matrices). b: (M,) or a stack (..., M, K).
    Cotangents of a are zero outside the triangle that is read.

    >>> import numpy as np, hodiff as hd, hodiff.scipy.linalg as hsl
    >>> L = np.array([[2.0, 0.0], [1.0, 1.0]])
    >>> hsl.solve_triangular(L, np.array([2.0, 3.0]), lower=True)
    array([1., 2.])
    """
    del overwrite_b
    a, b = _inexact(a), _inexact(b)
    _check_square(a, "solve_triangular")
    code = _trans_code(trans)
    if code == 2:
        if np.issubdtype(dtype_of(a), np.complexfloating):
            if isinstance(a, Tracer) or isinstance(b, Tracer):
                raise TypeError("solve_triangular: trans='C' of a complex matrix is not differentiable")
            return _sla.solve_triangular(a, b, trans=2, lower=lower, unit_diagonal=unit_diagonal)
        code = 1
    if check_finite:  # plain values only: batched (vmap) values have no single value to look at
        for name, x in (("a", a), ("b", b)):
            if not isinstance(x, Tracer) and not np.all(np.isfinite(x)):
                raise ValueError(f"solve_triangular: {name} must not contain infs or NaNs")
    n = shape_of(a)[-1]
    params = dict(lower=bool(lower), trans=code, unit_diagonal=bool(unit_diagonal))
    if ndim_of(b) == 1:
        if shape_of(b)[0] != n:
            raise ValueError(f"solve_triangular: shapes of a {shape_of(a)} and b {shape_of(b)} are incompatible")
        return S.getitem(solve_triangular(a, S.expand_dims(b, -1), **params), index=(Ellipsis, 0))
    if shape_of(b)[-2] != n:
        raise ValueError(f"solve_triangular: shapes of a {shape_of(a)} and b {shape_of(b)} are incompatible")
    return solve_triangular(a, b, **params)


def sp_cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """Cholesky factor (scipy.linalg.cholesky): upper U with U^T U = A by default, lower L if ``lower``.

    A (..., n, n) symmetric positive definite; as scipy, only the upper
    triangle is read (the lower one if ``lower``), and the derivative is that
    of this function (zero in the unread triangle).
    """
    if _untraced_numpy(a):
        return _sla.cholesky(a, lower=lower, check_finite=check_finite)
    return np_cholesky(a, upper=not lower)


def sp_cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(c, lower) for ``cho_solve``: c holds the Cholesky factor in its lower (``lower``) or upper triangle.

    Unlike scipy, whose other triangle holds arbitrary data, c is zero there
    (cho_solve never reads it).
    """
    return sp_cholesky(a, lower=lower), bool(lower)


def sp_cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """x with A x = b, given ``(c, lower)`` from ``cho_factor`` (A = L L^T or U^T U).

    b: (n,) or (..., n, k). Two triangular solves, both differentiable in c and b.
    """
    c, lower = c_and_lower
    if lower:
        y = sp_solve_triangular(c, b, lower=True, check_finite=check_finite)
        return sp_solve_triangular(c, y, trans=1, lower=True, check_finite=check_finite)
    y = sp_solve_triangular(c, b, trans=1, lower=False, check_finite=check_finite)
    return sp_solve_triangular(c, y, lower=False, check_finite=check_finite)


def sp_lu_factor(a, overwrite_a=False, check_finite=True):
    """(lu, piv) as scipy.linalg.lu_factor: P A = L U with L unit lower (below lu's diagonal), U upper.

    lu is differentiable (valid where the pivoting does not change); piv is a
    plain integer array.
    """
    a = _inexact(a)
    _check_square(a, "lu_factor")
    return lu(a), lu_pivots(a)


def sp_lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """x with A x = b (trans 0), A^T x = b (trans 1) or A^H x = b (trans 2), from ``lu_factor``'s (lu, piv);
    b (n,) or (..., n, k).

    Differentiable in lu and b: two triangular solves and the (constant) row permutation; A^H x = b is
    A^T conj(x) = conj(b).
    """
    packed, piv = lu_and_piv
    if _untraced_numpy(packed) and _untraced_numpy(b):
        return _sla.lu_solve((packed, piv), b, trans=trans, overwrite_b=overwrite_b, check_finite=check_finite)
    packed, b = _inexact(packed), _inexact(b)
    code = _trans_code(trans)
    code = 1 if code == 2 and not np.issubdtype(dtype_of(packed), np.complexfloating) else code
    if code == 2:
        return conj(sp_lu_solve((packed, piv), conj(b), trans=1))
    n = shape_of(packed)[-1]
    vector = ndim_of(b) == 1
    if (shape_of(b)[0] if vector else shape_of(b)[-2]) != n:
        raise ValueError(f"lu_solve: shapes of lu {shape_of(packed)} and b {shape_of(b)} are incompatible")
    rhs = S.expand_dims(b, -1) if vector else b
    perm = lu_permutation(piv, dtype=np.dtype(dtype_of(packed)).name)
    if code == 0:  # x = U^{-1} L^{-1} P b
        y = solve_triangular(packed, matmul(perm, rhs), lower=True, unit_diagonal=True)
        x = solve_triangular(packed, y, lower=False)
    else:  # A^T = U^T L^T P: x = P^T L^{-T} U^{-T} b
        y = solve_triangular(packed, rhs, lower=False, trans=1)
        x = matmul(_mT(perm), solve_triangular(packed, y, lower=True, trans=1, unit_diagonal=True))
    return S.getitem(x, index=(Ellipsis, 0)) if vector else x


def sp_expm(A):
    """Matrix exponential of a stack (..., n, n); differentiable to any order.

    The JVP is the Frechet derivative, the top-right block of
    expm([[A, dA], [0, A]]); the VJP is the Frechet derivative at A^T.

    >>> import numpy as np, hodiff as hd, hodiff.scipy.linalg as hsl, hodiff.numpy as hnp
    >>> round(float(hd.grad(lambda t: hnp.sum(hsl.expm(t * np.eye(2))))(0.0)), 12)
    2.0
    """
    a = _inexact(A)
    _check_square(a, "expm")
    return expm(a)


def sp_sqrtm(A, disp=True, blocksize=64):
    """Principal square root of a stack (..., n, n): X with X @ X = A (scipy.linalg.sqrtm).

    The derivative solves the Sylvester equation X dX + dX X = dA. A real
    matrix with negative eigenvalues has no real root: its complex principal
    root is returned (complex128, complex64 for float32 input), as scipy's, and
    the derivative in the real A is the real part of the complex one's
    transpose. ``disp=False`` returns (X, errest) with scipy's error estimate
    ||X X - A||_F^2 / ||A||_F (computed with hodiff ops); ``blocksize`` is
    accepted and has no effect on the result.
    """
    del blocksize
    a = _inexact(A)
    _check_square(a, "sqrtm")
    x = sqrtm(a)
    if disp is False:
        residual = _two_norm(subtract(matmul(x, x), a), (-2, -1), False)
        return x, true_divide(multiply(residual, residual), _two_norm(a, (-2, -1), False))
    return x


def sp_solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """x with A x = b for the banded A (scipy.linalg.solve_banded).

    ``l_and_u = (l, u)``: the numbers of nonzero lower and upper diagonals
    (plain ints). ab: (l + u + 1, M) in scipy's layout, A[i, j] = ab[u + i - j, j]
    (entries of ab outside the band's positions are not read, and their
    cotangents are zero); b: (M,) or (M, K). Differentiable in ab and b:
    dx = A^{-1} (db - dA x). A singular A raises a LinAlgError naming
    solve_banded. ``overwrite_*`` are accepted (nothing is overwritten).

    >>> import numpy as np, hodiff.scipy.linalg as hsl
    >>> hsl.solve_banded((1, 0), np.array([[2.0, 4.0], [1.0, 0.0]]), np.array([2.0, 5.0]))
    array([1., 1.])
    """
    del overwrite_ab, overwrite_b
    try:
        lo, up = (operator.index(v) for v in l_and_u)
    except TypeError:
        raise TypeError(f"solve_banded: l_and_u must be a pair of ints (the numbers of lower and upper "
                        f"diagonals), got {l_and_u!r}") from None
    if lo < 0 or up < 0:
        raise ValueError(f"solve_banded: l and u must be nonnegative, got {(lo, up)}")
    ab, b = _inexact(ab), _inexact(b)
    if ndim_of(ab) != 2:
        raise ValueError(f"solve_banded: ab must be 2-D (l + u + 1, M), got shape {tuple(shape_of(ab))}")
    if shape_of(ab)[0] != lo + up + 1:
        raise ValueError(f"solve_banded: invalid values for the number of lower and upper diagonals: "
                         f"l+u+1 ({lo + up + 1}) does not equal ab.shape[0] ({shape_of(ab)[0]})")
    n = shape_of(ab)[-1]
    if ndim_of(b) not in (1, 2) or shape_of(b)[0] != n:
        raise ValueError(f"solve_banded: shapes of ab {tuple(shape_of(ab))} and b {tuple(shape_of(b))} "
                         f"are not compatible (b must be (M,) or (M, K) with M = ab.shape[1])")
    if check_finite:  # plain values only: batched (vmap) values have no single value to look at
        for name, x in (("ab", ab), ("b", b)):
            if not isinstance(x, Tracer) and not np.all(np.isfinite(x)):
                raise ValueError(f"solve_banded: {name} must not contain infs or NaNs")
    if ndim_of(b) == 1:
        return S.getitem(solve_banded(ab, S.expand_dims(b, -1), lo=lo, up=up), index=(Ellipsis, 0))
    return solve_banded(ab, b, lo=lo, up=up)


def sp_solve_sylvester(a, b, q):
    """X with a X + X b = q (scipy.linalg.solve_sylvester); a (..., n, n), b (..., m, m), q (..., n, m)."""
    a, b, q = _inexact(a), _inexact(b), _inexact(q)
    _check_square(a, "solve_sylvester")
    _check_square(b, "solve_sylvester")
    return solve_sylvester(a, b, q)


def sp_eigh(a, b=None, *, lower=True, eigvals_only=False, **options):
    """Eigenvalues (and eigenvectors) of symmetric a (scipy.linalg.eigh, standard problem only)."""
    if b is not None:
        raise NotImplementedError("hodiff.scipy.linalg.eigh: the generalized problem (b=...) is not supported")
    if options:
        raise TypeError(f"hodiff.scipy.linalg.eigh: unsupported options {sorted(options)}")
    w, v = np_eigh(a, UPLO="L" if lower else "U")
    return w if eigvals_only else (w, v)


def sp_eigvalsh(a, b=None, *, lower=True, **options):
    return sp_eigh(a, b, lower=lower, eigvals_only=True, **options)


def sp_det(a, overwrite_a=False, check_finite=True):
    return np_det(a)


def sp_inv(a, overwrite_a=False, check_finite=True):
    return np_inv(a)


def sp_solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True, assume_a=None,
             transposed=False):
    """x with a x = b (a transposed if ``transposed``); b (n,) or (..., n, k) (as scipy.linalg.solve).

    As scipy, ``assume_a`` says which entries of a are read, and the
    derivative is that of this function (zero for the entries not read):
    'sym'/'her'/'pos' (and their long names) read the upper triangle (the
    lower one if ``lower``), mirrored (conjugated for 'her'/'pos'; a complex
    diagonal keeps its real part there); 'diagonal', 'tridiagonal', 'upper
    triangular', 'lower triangular' read those entries; None, 'gen',
    'general' and 'banded' read all of a.
    """
    a = _inexact(a)
    if assume_a is not None and assume_a not in _ASSUME_A:
        raise ValueError(f"solve: assume_a must be one of {sorted(_ASSUME_A)} or None, got {assume_a!r}")
    if _untraced_numpy(a) and _untraced_numpy(b):
        return _sla.solve(a, b, lower=lower, check_finite=check_finite, assume_a=assume_a, transposed=transposed)
    _check_square(a, "solve")
    a = _read_by_solve(a, _ASSUME_A.get(assume_a, "general"), bool(lower))
    if transposed:
        a = _mT(a)
    return np_solve(a, b)


_ASSUME_A = {
    "gen": "general", "general": "general", "banded": "general",
    "sym": "symmetric", "symmetric": "symmetric", "her": "hermitian", "hermitian": "hermitian",
    "pos": "hermitian", "positive definite": "hermitian", "diagonal": "diagonal",
    "tridiagonal": "tridiagonal", "upper triangular": "upper", "lower triangular": "lower",
}


def _read_by_solve(a, structure, lower):
    """The matrix scipy.linalg.solve works with, given ``assume_a``'s structure (see sp_solve)."""
    n = shape_of(a)[-1]
    real_dtype = _real_dtype(dtype_of(a))
    if structure == "general":
        return a
    if structure == "hermitian" or (structure == "symmetric" and not _is_complex(a)):
        return _hermitian_from_triangle(a, lower)
    if structure == "symmetric":  # complex symmetric: mirrored without conjugation
        strict = multiply(a, _triangle_mask(n, lower, True, real_dtype))
        return add(add(strict, _mT(strict)), multiply(a, _eye(n, real_dtype)))
    if structure == "diagonal":
        return multiply(a, _eye(n, real_dtype))
    if structure == "tridiagonal":
        band = np.triu(np.tril(np.ones((n, n), dtype=real_dtype), 1), -1)
        return multiply(a, band)
    return multiply(a, _triangle_mask(n, structure == "lower", False, real_dtype))


def sp_pinv(a, *, atol=None, rtol=None, return_rank=False, check_finite=True):
    """Pseudo-inverse (scipy.linalg.pinv): singular values s <= atol + rtol * s_max are dropped (scipy's defaults:
    atol 0, rtol max(m, n) eps).

    Differentiable where the rank is locally constant (see hodiff.numpy.linalg.pinv).
    """
    if _untraced_numpy(a):
        return _sla.pinv(a, atol=atol, rtol=rtol, return_rank=return_rank, check_finite=check_finite)
    a = _inexact(a)
    _check_matrix(a, "pinv")
    atol = 0.0 if atol is None else float(atol)
    if atol < 0 or (rtol is not None and rtol < 0):
        raise ValueError("pinv: atol and rtol values must be positive")
    result = _pinv_with_cutoff(a, rtol, atol=atol)
    if return_rank:
        from ..core.trace import concrete_value

        values = np.linalg.svd(concrete_value(a), compute_uv=False)
        relative = max(shape_of(a)[-2:]) * np.finfo(values.dtype).eps if rtol is None else rtol
        return result, np.sum(values > atol + relative * values[..., :1], axis=-1)
    return result


SCIPY_LINALG_API = {
    "solve_triangular": sp_solve_triangular, "cholesky": sp_cholesky, "cho_factor": sp_cho_factor,
    "cho_solve": sp_cho_solve, "expm": sp_expm, "sqrtm": sp_sqrtm, "solve_sylvester": sp_solve_sylvester,
    "solve_banded": sp_solve_banded, "lu_factor": sp_lu_factor, "lu_solve": sp_lu_solve,
    "eigh": sp_eigh, "eigvalsh": sp_eigvalsh, "det": sp_det, "inv": sp_inv, "solve": sp_solve,
    "pinv": sp_pinv,
}
for _table in (LINALG_API, SCIPY_LINALG_API):  # numpy's / scipy's names in help() and errors
    for _name, _function in _table.items():
        _function.__name__ = _function.__qualname__ = _name
