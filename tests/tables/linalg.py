"""Rows for numpy.linalg and scipy.linalg (hodiff/primitives/linalg.py).

Inputs are well conditioned: square matrices are random + a multiple of the
identity; symmetric positive definite ones are made inside the row's function
as M M^T + n I from a random M (so the derivative checked is that of the
symmetric function, as cholesky/eigh define it). Functions of eigen/singular
vectors are checked through sign-invariant expressions (squares,
reconstructions).
"""

import numpy as np

import hodiff.numpy as hnp
import hodiff.scipy.linalg as hsl

from . import Row, uniform

mT = hnp.linalg.matrix_transpose


def square(*shapes, shift=4.0):
    """Random matrices (stacks allowed) plus shift * identity: well conditioned."""
    def draw(rng):
        return tuple(rng.standard_normal(shape) + shift * np.eye(shape[-1]) if len(shape) >= 2 and
                     shape[-1] == shape[-2] else rng.standard_normal(shape) for shape in shapes)
    return draw


def normal(*shapes):
    return lambda rng: tuple(rng.standard_normal(shape) for shape in shapes)


def banded(lo, up, n, *rhs):
    """ab (l + u + 1, n) in scipy's banded layout, its main diagonal (row u) shifted by 4: A well
    conditioned; then right-hand sides of the given shapes."""
    def draw(rng):
        ab = rng.standard_normal((lo + up + 1, n))
        ab[up] += 4.0
        return (ab,) + tuple(rng.standard_normal(shape) for shape in rhs)
    return draw


def negative_eigenvalues(m):
    """A symmetric matrix with eigenvalues near -3, 2 and 4 (no real square root) from any 3x3 m."""
    return 0.2 * (m + mT(m)) + np.diag([-3.0, 2.0, 4.0]).astype(m.dtype)


def spd(m):
    """A symmetric positive definite matrix (stack) from any square m."""
    n = m.shape[-1]
    return m @ mT(m) + n * np.eye(n, dtype=m.dtype)


def distinct_spd(m):
    """SPD with well separated eigenvalues (for eigenvector derivatives)."""
    n = m.shape[-1]
    return spd(m) * 0.1 + np.diag(np.arange(1.0, n + 1.0) * 3.0).astype(m.dtype)


def flat(*arrays):
    """One vector holding several outputs (rows check one array)."""
    return hnp.concatenate([hnp.reshape(a, (-1,)) for a in arrays])


def complex_of(re, im):
    return re + 1j * im


def svd_abs(a):
    """|U|, s, |Vh| of a complex matrix: invariant under the singular pairs' arbitrary phases."""
    u, s, vh = hnp.linalg.svd(a, full_matrices=False)
    return flat(hnp.abs(u), s, hnp.abs(vh))


def eig_abs(a):
    w, v = hnp.linalg.eig(a)
    return flat(hnp.abs(w), hnp.abs(v))


def svd_usv(a):
    u, s, vh = hnp.linalg.svd(a, full_matrices=False)
    return flat(u * u, s, vh * vh)


ROWS = [
    # ---------------------------------------------------------------- inverse, solve, det
    Row("linalg.inv", hnp.linalg.inv, square((3, 3))),
    Row("linalg.inv[stack]", hnp.linalg.inv, square((2, 3, 3))),
    Row("linalg.solve[matrix]", hnp.linalg.solve, square((3, 3), (3, 2))),
    Row("linalg.solve[vector]", hnp.linalg.solve, square((3, 3), (3,))),
    Row("linalg.solve[vector, stacked a]", hnp.linalg.solve, square((2, 3, 3), (3,))),
    Row("linalg.solve[broadcast stacks]", hnp.linalg.solve, square((2, 1, 3, 3), (4, 3, 2))),
    Row("linalg.det", hnp.linalg.det, square((3, 3))),
    Row("linalg.det[stack]", hnp.linalg.det, square((2, 3, 3))),
    Row("linalg.slogdet[logabsdet]", lambda a: hnp.linalg.slogdet(a)[1], square((2, 3, 3))),
    Row("linalg.slogdet[sign * logabsdet]", lambda a: hnp.linalg.slogdet(a)[0] * hnp.linalg.slogdet(a)[1],
        square((3, 3), shift=-4.0)),
    Row("linalg.matrix_power[3]", lambda a: hnp.linalg.matrix_power(a * 0.3, 3), square((2, 3, 3), shift=1.0)),
    Row("linalg.matrix_power[-2]", lambda a: hnp.linalg.matrix_power(a, -2), square((3, 3))),
    Row("linalg.matrix_power[0]", lambda a: hnp.linalg.matrix_power(a, 0) + a, square((3, 3))),
    Row("linalg.multi_dot", lambda a, b, c, d: hnp.linalg.multi_dot([a, b, c, d]),
        normal((3,), (3, 4), (4, 2), (2,))),
    Row("linalg.tensorinv", lambda a: hnp.linalg.tensorinv(a, ind=1),
        lambda rng: ((rng.standard_normal((6, 6)) + 4 * np.eye(6)).reshape(6, 2, 3),)),
    Row("linalg.tensorsolve", hnp.linalg.tensorsolve,
        lambda rng: ((rng.standard_normal((6, 6)) + 4 * np.eye(6)).reshape(2, 3, 6), rng.standard_normal((2, 3)))),
    # ---------------------------------------------------------------- factorizations
    Row("linalg.cholesky", lambda m: hnp.linalg.cholesky(spd(m)), normal((3, 3))),
    Row("linalg.cholesky[stack, upper]", lambda m: hnp.linalg.cholesky(spd(m), upper=True), normal((2, 3, 3))),
    Row("linalg.eigh[values]", lambda m: hnp.linalg.eigh(spd(m))[0], normal((2, 3, 3))),
    Row("linalg.eigh[vectors squared]", lambda m: hnp.linalg.eigh(distinct_spd(m))[1] ** 2, normal((2, 3, 3))),
    Row("linalg.eigh[UPLO=U, reconstruct]", lambda m: _reconstruct_eigh(hnp.linalg.eigh(spd(m), UPLO="U")),
        normal((3, 3))),
    Row("linalg.eigvalsh", lambda m: hnp.linalg.eigvalsh(spd(m)), normal((4, 4))),
    Row("linalg.svd[values, tall]", lambda a: hnp.linalg.svd(a, compute_uv=False), normal((2, 4, 3))),
    Row("linalg.svd[U, s, Vh, tall]", svd_usv, normal((4, 3))),
    Row("linalg.svd[U, s, Vh, wide]", svd_usv, normal((2, 3, 5))),
    Row("linalg.svd[square, full_matrices]", lambda a: hnp.linalg.svd(a)[0] ** 2, normal((3, 3))),
    Row("linalg.qr[tall]", lambda a: flat(*hnp.linalg.qr(a)), normal((2, 4, 3))),
    Row("linalg.qr[square, r]", lambda a: hnp.linalg.qr(a, mode="r"), normal((3, 3))),
    Row("linalg.qr[wide]", lambda a: flat(*hnp.linalg.qr(a)), normal((3, 5))),
    Row("linalg.pinv[tall]", hnp.linalg.pinv, normal((4, 3))),
    Row("linalg.pinv[wide, stack]", hnp.linalg.pinv, normal((2, 2, 4))),
    Row("linalg.lstsq", lambda a, b: hnp.linalg.lstsq(a, b)[0], normal((5, 3), (5,))),
    Row("linalg.lstsq[residuals]", lambda a, b: hnp.linalg.lstsq(a, b)[1], normal((5, 3), (5, 2))),
    # ---------------------------------------------------------------- complex decompositions and eig
    # (complex inputs from two real arguments, real outputs: checked against central differences of
    # the real-imaginary split; phase-invariant functions of the vectors)
    Row("linalg.eigh[complex, values, |vectors|]",
        lambda re, im: flat(*[hnp.abs(x) for x in hnp.linalg.eigh(complex_of(re, im))]),
        normal((4, 4), (4, 4))),
    Row("linalg.eigh[complex, UPLO=U, stack]",
        lambda re, im: hnp.linalg.eigvalsh(complex_of(re, im), UPLO="U"), normal((2, 3, 3), (2, 3, 3))),
    Row("linalg.svd[complex, |U|, s, |Vh|, tall]", lambda re, im: svd_abs(complex_of(re, im)), normal((4, 3), (4, 3))),
    Row("linalg.svd[complex, |U|, s, |Vh|, wide, stack]", lambda re, im: svd_abs(complex_of(re, im)),
        normal((2, 2, 3), (2, 2, 3))),
    Row("linalg.svd[complex, square, reconstruct]",
        lambda re, im: (lambda usv: hnp.abs((usv[0] * usv[1][..., None, :]) @ usv[2]))(
            hnp.linalg.svd(complex_of(re, im))), normal((3, 3), (3, 3))),
    Row("linalg.norm[nuc, complex]", lambda re, im: hnp.linalg.norm(complex_of(re, im), "nuc"), normal((4, 3), (4, 3))),
    Row("linalg.eig[real, |w|, |v|]", eig_abs, normal((4, 4))),
    Row("linalg.eig[complex, w parts, |v|]",
        lambda re, im: (lambda wv: flat(hnp.real(wv[0]), hnp.imag(wv[0]), hnp.abs(wv[1])))(
            hnp.linalg.eig(complex_of(re, im))), normal((4, 4), (4, 4))),
    Row("linalg.eig[complex, stack, vectors' parts]",
        lambda re, im: (lambda v: flat(hnp.real(v), hnp.imag(v)))(hnp.linalg.eig(complex_of(re, im))[1]),
        normal((2, 3, 3), (2, 3, 3))),
    Row("linalg.eigvals[real, spectrum shifted real]", lambda a: hnp.real(hnp.linalg.eigvals(a @ mT(a) + a * 0.1)),
        normal((3, 3))),
    # ---------------------------------------------------------------- norms
    Row("linalg.norm[2, vector]", hnp.linalg.norm, normal((5,))),
    Row("linalg.norm[fro, flattened 3-D]", hnp.linalg.norm, normal((2, 3, 2))),
    Row("linalg.norm[1, axis=0]", lambda x: hnp.linalg.norm(x, 1, axis=0), normal((3, 4))),
    Row("linalg.norm[inf, axis=1, keepdims]", lambda x: hnp.linalg.norm(x, np.inf, axis=1, keepdims=True),
        normal((3, 4))),
    Row("linalg.norm[p=3]", lambda x: hnp.linalg.norm(x, 3), normal((4,))),
    Row("linalg.norm[nuc]", lambda x: hnp.linalg.norm(x, "nuc"), normal((4, 3))),
    Row("linalg.norm[2, matrix]", lambda x: hnp.linalg.norm(x, 2), normal((3, 4))),
    Row("linalg.norm[-inf, axes=(1, 0)]", lambda x: hnp.linalg.norm(x, -np.inf, axis=(1, 0)), normal((3, 4))),
    Row("linalg.vector_norm[axes=(0, 2)]", lambda x: hnp.linalg.vector_norm(x, axis=(0, 2)), normal((2, 3, 4))),
    Row("linalg.matrix_norm[fro, stack]", hnp.linalg.matrix_norm, normal((2, 3, 4))),
    Row("linalg.cond", hnp.linalg.cond, square((3, 3))),
    # ---------------------------------------------------------------- scipy.linalg
    Row("scipy.linalg.solve_triangular[lower]", lambda a, b: hsl.solve_triangular(a, b, lower=True),
        square((3, 3), (3, 2))),
    Row("scipy.linalg.solve_triangular[upper, trans=T, stack]",
        lambda a, b: hsl.solve_triangular(a, b, trans="T"), square((2, 3, 3), (3,))),
    Row("scipy.linalg.solve_triangular[unit_diagonal, trans=1]",
        lambda a, b: hsl.solve_triangular(a * 0.3, b, lower=True, trans=1, unit_diagonal=True),
        normal((3, 3), (3, 2))),
    Row("scipy.linalg.cholesky[upper]", lambda m: hsl.cholesky(spd(m)), normal((3, 3))),
    Row("scipy.linalg.cho_solve[lower]", lambda m, b: hsl.cho_solve(hsl.cho_factor(spd(m), lower=True), b),
        normal((3, 3), (3,))),
    Row("scipy.linalg.cho_solve[upper, stack]", lambda m, b: hsl.cho_solve(hsl.cho_factor(spd(m)), b),
        normal((2, 3, 3), (3, 2))),
    Row("scipy.linalg.lu_factor[lu]", lambda a: hsl.lu_factor(a)[0], normal((2, 3, 3))),
    Row("scipy.linalg.lu_solve", lambda a, b: hsl.lu_solve(hsl.lu_factor(a), b), normal((3, 3), (3, 2))),
    Row("scipy.linalg.lu_solve[trans=1, vector]", lambda a, b: hsl.lu_solve(hsl.lu_factor(a), b, trans=1),
        normal((3, 3), (3,))),
    Row("scipy.linalg.expm", lambda a: hsl.expm(a * 0.5), normal((3, 3))),
    Row("scipy.linalg.expm[stack]", lambda a: hsl.expm(a * 0.5), normal((2, 2, 2))),
    Row("scipy.linalg.sqrtm", lambda m: hsl.sqrtm(spd(m)), normal((3, 3))),
    Row("scipy.linalg.sqrtm[negative eigenvalues: complex root]",
        lambda m: flat(hnp.real(r := hsl.sqrtm(negative_eigenvalues(m))), hnp.imag(r)), normal((3, 3))),
    Row("scipy.linalg.solve_banded[(1, 1), vector]", lambda ab, b: hsl.solve_banded((1, 1), ab, b),
        banded(1, 1, 5, (5,))),
    Row("scipy.linalg.solve_banded[(2, 0), matrix rhs]", lambda ab, b: hsl.solve_banded((2, 0), ab, b),
        banded(2, 0, 4, (4, 2))),
    Row("scipy.linalg.solve_banded[(0, 2)]", lambda ab, b: hsl.solve_banded((0, 2), ab, b),
        banded(0, 2, 4, (4,))),
    Row("scipy.linalg.solve_sylvester", hsl.solve_sylvester, square((3, 3), (2, 2), (3, 2))),
    Row("scipy.linalg.solve[transposed]", lambda a, b: hsl.solve(a, b, transposed=True), square((3, 3), (3,))),
    Row("scipy.linalg.det/inv", lambda a: hsl.det(a) * hsl.inv(a), square((3, 3))),
]


def _reconstruct_eigh(result):
    w, v = result
    return (v * w[..., None, :]) @ mT(v)


_ = uniform  # the shared input helpers
