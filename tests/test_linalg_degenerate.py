"""Decompositions at repeated eigen- and singular values.

There the vectors of a repeated value are not functions of the matrix: any rotation within its space
serves, and a perturbation picks one by a jump. Their rates are 0/0, whose limit depends on how the
cotangent varies, which the point does not show: V diag(w) V^T (the matrix itself) and the projector onto
the repeated value's space meet the same cotangent pattern there, and their gradients differ. So hodiff's
derivative is nan wherever a cotangent or tangent reaches such a pair, and right where none does (the
values alone, the other vectors, a direction that keeps the basis). Masking the rates to zero, as hodiff
did, gave finite wrong gradients (V diag(w) V^T's off by 1.3 in entries of 4) and Hessians
(sum(eigvalsh(A)**3)'s off by 8.5 in entries of 18); JAX and PyTorch divide by the rounding-level gap
instead and return ~1e13.

References: scipy.differentiate central differences of numpy's own decompositions
(hodiff.testing.numerical_jacobian), and closed forms.
"""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.testing import numerical_jacobian

_Q = np.linalg.qr(np.random.default_rng(37).standard_normal((3, 3)))[0]
_Q2 = np.linalg.qr(np.random.default_rng(38).standard_normal((4, 3)))[0]
_WEIGHTS = np.arange(9.0).reshape(3, 3) - 4.0
_E = np.random.default_rng(39).standard_normal((3, 3))
_E = _E + _E.T  # a symmetric direction that turns the repeated eigenvalue's space


def _symmetric(values, q=_Q):
    a = q @ np.diag(values) @ q.T
    return (a + a.T) / 2


REPEATED = _symmetric([1.0, 1.0, 2.0])  # eigenvalue 1 twice
DISTINCT = _symmetric([1.0, 1.5, 2.0])


def _projector(eigh, a):
    """Onto the space of the two smallest eigenvalues: invariant under rotations within it."""
    _, v = eigh(a)
    return v[:, :2] @ v[:, :2].T


def _gradient_reference(f, a):
    return numerical_jacobian(f, a).reshape(a.shape)


# --------------------------------------------------------------------- eigh

def _rebuilt(eigh, a):
    w, v = eigh(a)
    return np.sum(((v * w) @ v.T) * _WEIGHTS) if eigh is np.linalg.eigh else hnp.sum(((v * w) @ v.T) * _WEIGHTS)


def test_functions_of_a_repeated_eigenvalues_vectors_are_nan_where_masking_gave_wrong_numbers():
    # V diag(w) V^T is the matrix itself: its gradient exists (the weights, onto the lower triangle),
    # but through the vectors' 0/0 rates; masked to 0 they gave [[-3.05, 0, 0], [-4.58, -0.14, 0], ...]
    # for [[-4, 0, 0], [-4, 0, 0], [0, 4, 4]].
    reference = _gradient_reference(lambda a: _rebuilt(np.linalg.eigh, a), REPEATED)
    np.testing.assert_allclose(reference, np.tril(_WEIGHTS + _WEIGHTS.T) - np.diag(np.diag(_WEIGHTS)), atol=1e-8)
    assert np.isnan(hd.grad(lambda a: _rebuilt(hnp.linalg.eigh, a))(REPEATED)).all()
    # the projector onto the repeated eigenvalue's space meets the same pattern: nan too
    assert np.isnan(hd.grad(lambda a: hnp.sum(_projector(hnp.linalg.eigh, a) * _WEIGHTS))(REPEATED)).all()
    # at distinct eigenvalues both are right
    for f, numpy_f in ((lambda a: _rebuilt(hnp.linalg.eigh, a), lambda a: _rebuilt(np.linalg.eigh, a)),
                       (lambda a: hnp.sum(_projector(hnp.linalg.eigh, a) * _WEIGHTS),
                        lambda a: np.sum(_projector(np.linalg.eigh, a) * _WEIGHTS))):
        np.testing.assert_allclose(hd.grad(f)(DISTINCT), _gradient_reference(numpy_f, DISTINCT), atol=1e-7)


def test_the_vectors_of_the_other_eigenvalues_keep_their_gradient():
    got = hd.grad(lambda a: hnp.linalg.eigh(a)[1][0, 2] ** 2)(REPEATED)
    np.testing.assert_allclose(got, _gradient_reference(lambda a: np.linalg.eigh(a)[1][0, 2] ** 2, REPEATED),
                               atol=1e-7)


def test_a_repeated_eigenvalues_own_vectors_have_no_gradient_nan_not_a_guess():
    got = hd.grad(lambda a: hnp.linalg.eigh(a)[1][0, 0] ** 2)(REPEATED)
    assert np.isnan(got).all()
    # at distinct eigenvalues the same function's gradient is the finite-difference one
    got = hd.grad(lambda a: hnp.linalg.eigh(a)[1][0, 0] ** 2)(DISTINCT)
    np.testing.assert_allclose(got, _gradient_reference(lambda a: np.linalg.eigh(a)[1][0, 0] ** 2, DISTINCT),
                               atol=1e-7)


def test_eigh_tangent_is_nan_for_the_turned_pair_only():
    (w, v), (dw, dv) = hd.jvp(lambda a: tuple(hnp.linalg.eigh(a)), (REPEATED,), (_E,))
    assert np.isnan(dv[:, :2]).all()
    # The values' tangent: the distinct one's, and the repeated pair's sum (each of the two has a kink
    # there; hodiff's pair is diag(V^T dA V) in numpy's basis, as JAX's and PyTorch's), against central
    # differences of numpy's values; and the distinct eigenvector's (squared: free of numpy's sign).
    values = numerical_jacobian(np.linalg.eigvalsh, REPEATED).reshape(3, 9) @ _E.ravel()
    np.testing.assert_allclose([dw[0] + dw[1], dw[2]], [values[0] + values[1], values[2]], atol=1e-8)
    np.testing.assert_allclose(2 * v[:, 2] * dv[:, 2],
                               numerical_jacobian(lambda a: np.linalg.eigh(a)[1][:, 2] ** 2, REPEATED)
                               .reshape(3, 9) @ _E.ravel(), atol=1e-8)


def test_a_direction_that_keeps_the_repeated_space_has_a_finite_tangent():
    # diag(1, 1, 2) moved along diag(1, 3, 0): the basis stays e1, e2, e3 (no rotation), the values move
    (_, v), (dw, dv) = hd.jvp(lambda a: tuple(hnp.linalg.eigh(a)), (np.diag([1.0, 1.0, 2.0]),),
                              (np.diag([1.0, 3.0, 0.0]),))
    np.testing.assert_array_equal(dv, np.zeros((3, 3)))
    np.testing.assert_allclose(dw, [1.0, 3.0, 0.0])


def _trace_cube_hessian(a):
    """Closed form: f(a) = tr(S^3), S = the symmetric matrix eigh reads from a's lower triangle;
    d^2 f [E, F] = 3 tr(S (dS_E dS_F + dS_F dS_E))."""
    def read(x):
        return np.tril(x) + np.tril(x, -1).T
    s, n = read(a), a.size
    basis = [read(e.reshape(a.shape)) for e in np.eye(n)]
    return np.array([[3 * np.trace(s @ (e @ f + f @ e)) for f in basis] for e in basis]).reshape(a.shape * 2)


def test_second_derivatives_through_repeated_eigenvalues_are_nan_and_right_elsewhere():
    def f(a):
        return hnp.sum(hnp.linalg.eigvalsh(a) ** 3)

    # The Hessian exists at REPEATED (f is tr(A^3)) but goes through the eigenvectors' rates there,
    # which do not: masked, it came out finite and 8.5 off in entries of size 18.
    assert np.isnan(hd.hessian(f)(REPEATED)).all()
    np.testing.assert_allclose(hd.hessian(f)(DISTINCT), _trace_cube_hessian(DISTINCT), atol=1e-10)
    # first derivatives of the values alone stay right at the repeated value (3 S^2, onto the lower triangle)
    s2 = 3 * REPEATED @ REPEATED
    np.testing.assert_allclose(hd.grad(f)(REPEATED), np.tril(2 * s2) - np.diag(np.diag(s2)), atol=1e-12)


def test_a_stack_mixing_repeated_and_distinct_eigenvalues_is_nan_only_where_repeated():
    def f(a):
        return hnp.linalg.eigh(a)[1][0, 0] ** 2

    stack = np.stack([REPEATED, DISTINCT])
    got = hd.vmap(hd.grad(f))(stack)
    assert np.isnan(got[0]).all() and np.isfinite(got[1]).all()
    np.testing.assert_allclose(got[1], hd.grad(f)(DISTINCT), rtol=1e-12)
    # and a stack through eigh's own batch axis: the repeated member's projector gradient stays right
    got = hd.grad(lambda a: hnp.sum(_projector(hnp.linalg.eigh, a[0]) * _WEIGHTS))(stack)
    np.testing.assert_allclose(got[0], hd.grad(lambda a: hnp.sum(_projector(hnp.linalg.eigh, a) * _WEIGHTS))(REPEATED),
                               rtol=1e-10, atol=1e-12)


def test_float32_keeps_its_dtype_at_a_repeated_eigenvalue():
    a = REPEATED.astype(np.float32)
    values = hd.grad(lambda a: hnp.sum(hnp.linalg.eigvalsh(a) ** 3))(a)
    undefined = hd.grad(lambda a: hnp.linalg.eigh(a)[1][0, 0] ** 2)(a)
    assert values.dtype == np.float32 and undefined.dtype == np.float32
    assert np.isnan(undefined).all()
    s2 = 3 * REPEATED @ REPEATED
    np.testing.assert_allclose(values, np.tril(2 * s2) - np.diag(np.diag(s2)), atol=1e-4)


# --------------------------------------------------------------------- svd

TALL_REPEATED = _Q2 @ np.diag([2.0, 2.0, 1.0]) @ _Q.T  # 4 x 3, singular value 2 twice
TALL_RANK_2 = _Q2 @ np.diag([3.0, 1.0, 0.0]) @ _Q.T  # a zero singular value: U's last column is free


def _left(svd, a):
    """U of the reduced SVD."""
    return svd(a, full_matrices=False)[0]


def test_functions_of_repeated_singular_vectors_are_nan_where_masking_gave_wrong_numbers():
    # U S V^T rebuilt is the matrix: its gradient is the weights; masked, it came out 2.2 off in entries of 6
    weights = np.arange(12.0).reshape(4, 3) - 6.0

    def rebuilt(a):
        u, s, vh = hnp.linalg.svd(a, full_matrices=False)
        return hnp.sum(((u * s) @ vh) * weights)

    assert np.isnan(hd.grad(rebuilt)(TALL_REPEATED)).all()
    np.testing.assert_allclose(hd.grad(rebuilt)(TALL_RANK_2 + TALL_REPEATED), weights, atol=1e-10)
    # the singular values alone keep their gradient: sum(s^2) = ||A||^2
    np.testing.assert_allclose(hd.grad(lambda a: hnp.sum(hnp.linalg.svd(a, compute_uv=False) ** 2))(TALL_REPEATED),
                               2 * TALL_REPEATED, atol=1e-10)


def test_repeated_singular_values_own_vectors_have_no_derivative():
    assert np.isnan(hd.grad(lambda a: _left(hnp.linalg.svd, a)[0, 0] ** 2)(TALL_REPEATED)).all()
    _, (du, ds, dvh) = hd.jvp(lambda a: tuple(hnp.linalg.svd(a, full_matrices=False)), (TALL_REPEATED,),
                              (np.random.default_rng(40).standard_normal((4, 3)),))
    assert np.isnan(du[:, :2]).all() and np.isfinite(ds).all()
    # the distinct singular value's vectors keep their derivative
    got = hd.grad(lambda a: _left(hnp.linalg.svd, a)[1, 2] ** 2)(TALL_REPEATED)
    np.testing.assert_allclose(got, _gradient_reference(lambda a: _left(np.linalg.svd, a)[1, 2] ** 2, TALL_REPEATED),
                               atol=1e-7)


def test_a_zero_singular_values_left_vector_has_no_derivative_but_the_values_do():
    # U's third column spans a direction of the 2-dimensional left null space: any unit vector of it serves
    assert np.isnan(hd.grad(lambda a: _left(hnp.linalg.svd, a)[0, 2] ** 2)(TALL_RANK_2)).all()
    np.testing.assert_allclose(hd.grad(lambda a: hnp.sum(hnp.linalg.svd(a, compute_uv=False) ** 2))(TALL_RANK_2),
                               2 * TALL_RANK_2, atol=1e-10)
    # a nonzero value's vectors keep theirs
    got = hd.grad(lambda a: _left(hnp.linalg.svd, a)[1, 0] ** 2)(TALL_RANK_2)
    np.testing.assert_allclose(got, _gradient_reference(lambda a: _left(np.linalg.svd, a)[1, 0] ** 2, TALL_RANK_2),
                               atol=1e-7)


def test_two_zero_singular_values_vectors_have_no_derivative():
    a = _Q @ np.diag([2.0, 0.0, 0.0]) @ _Q.T
    assert np.isnan(hd.grad(lambda a: _left(hnp.linalg.svd, a)[0, 1] ** 2)(a)).all()
    got = hd.grad(lambda a: _left(hnp.linalg.svd, a)[0, 0] ** 2)(a)
    np.testing.assert_allclose(got, _gradient_reference(lambda a: _left(np.linalg.svd, a)[0, 0] ** 2, a), atol=1e-7)


# --------------------------------------------------------------------- eig

_P = np.array([[1.0, 0.5, 0.2], [0.1, 1.0, 0.4], [0.3, -0.2, 1.0]])
EIG_REPEATED = _P @ np.diag([1.0, 1.0, 3.0]) @ np.linalg.inv(_P)  # diagonalizable, eigenvalue 1 twice


@pytest.mark.parametrize("which", ["values", "repeated vector", "distinct vector"])
def test_eig_at_a_repeated_eigenvalue(which):
    if which == "values":  # sum(w^2) = tr(A^2): gradient 2 A^T
        got = hd.grad(lambda a: hnp.sum(hnp.real(hnp.linalg.eig(a)[0]) ** 2))(EIG_REPEATED)
        np.testing.assert_allclose(got, 2 * EIG_REPEATED.T, atol=1e-9)
    elif which == "repeated vector":
        w = np.linalg.eig(EIG_REPEATED)[0].real
        column = int(np.argmin(w))
        got = hd.grad(lambda a: hnp.real(hnp.linalg.eig(a)[1][0, column]) ** 2)(EIG_REPEATED)
        assert np.isnan(got).all()
    else:
        def entry(eig, a):
            w, v = eig(a)
            return (v[1, np.argmax(w.real)].real) ** 2  # numpy's unit eigenvector, squared: sign-free

        got = hd.grad(lambda a: entry(hnp.linalg.eig, a))(EIG_REPEATED)
        np.testing.assert_allclose(got, _gradient_reference(lambda a: entry(np.linalg.eig, a), EIG_REPEATED),
                                   atol=1e-7)
