"""det, slogdet, inv and solve at singular matrices (issue 12 item 6).

References nobody here wrote: sympy's exact adjugate and derivatives of the
symbolic determinant, and central differences of numpy's own det.
"""

import itertools

import numpy as np
import pytest
import sympy

import hodiff as hd
import hodiff.numpy as hnp

HESSIAN_MODES = ["fwd-rev", "rev-rev", "fwd-fwd", "rev-fwd"]


def _symbolic_det(n):
    entries = sympy.symbols(f"a0:{n * n}")
    return entries, sympy.Matrix(n, n, entries).det()


def _sympy_derivatives(a, order):
    """The exact derivative tensor of det of order 1 (n, n), 2 (n, n, n, n) or 3 at the matrix a."""
    n = a.shape[0]
    entries, determinant = _symbolic_det(n)
    point = dict(zip(entries, [sympy.Rational(str(v)) if float(v).is_integer() else sympy.nsimplify(v)
                               for v in a.ravel().tolist()]))
    out = np.empty((n * n,) * order)
    for index in itertools.product(range(n * n), repeat=order):
        out[index] = float(sympy.diff(determinant, *[entries[i] for i in index]).subs(point))
    return out.reshape((n, n) * order)


def _rank_deficient(n, rank, seed):
    rng = np.random.default_rng(seed)
    return np.round(rng.normal(size=(n, rank)) @ rng.normal(size=(rank, n)), 6) if rank else np.zeros((n, n))


# (name, matrix): integer or rounded entries so that sympy's value is exact.
SINGULAR = [
    ("2x2 rank 1", np.array([[1.0, 2.0], [2.0, 4.0]])),
    ("2x2 rank 0", np.zeros((2, 2))),
    ("3x3 rank 2", np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])),
    ("3x3 rank 1", np.outer([1.0, -2.0, 3.0], [2.0, 1.0, -1.0])),
    ("3x3 diag rank 1", np.diag([0.0, 3.0, 0.0])),
    ("4x4 rank 3", np.array([[2.0, 0, 1, 1], [0, 1, 0, 1], [2, 1, 1, 2], [1, 3, -1, 0]])),
    ("4x4 rank 2", np.array([[1.0, 2, 0, 1], [0, 1, 1, 1], [1, 3, 1, 2], [2, 5, 1, 3]])),
]


@pytest.mark.parametrize("name, a", SINGULAR, ids=[row[0] for row in SINGULAR])
def test_grad_of_det_at_a_singular_matrix_is_the_adjugate(name, a):
    assert abs(np.linalg.det(a)) < 1e-12 and np.linalg.matrix_rank(a) < a.shape[0]
    expected = _sympy_derivatives(a, 1)
    adjugate = np.array(sympy.Matrix(a.astype(int) if np.all(a == np.round(a)) else a).adjugate(),
                        dtype=float)
    np.testing.assert_allclose(expected, adjugate.T, atol=1e-12)
    np.testing.assert_allclose(hd.grad(hnp.linalg.det)(a), expected, atol=1e-12)
    # forward mode, one direction per entry, and central differences of numpy's det
    rng = np.random.default_rng(1)
    direction = rng.normal(size=a.shape)
    _, tangent = hd.jvp(hnp.linalg.det, (a,), (direction,))
    np.testing.assert_allclose(tangent, np.sum(expected * direction), atol=1e-12)
    h = 1e-4
    central = (np.linalg.det(a + h * direction) - np.linalg.det(a - h * direction)) / (2 * h)
    np.testing.assert_allclose(tangent, central, atol=1e-6)
    np.testing.assert_allclose(hd.jacobian(hnp.linalg.det, mode="fwd")(a), expected, atol=1e-12)


@pytest.mark.parametrize("name, a", SINGULAR, ids=[row[0] for row in SINGULAR])
@pytest.mark.parametrize("mode", HESSIAN_MODES)
def test_hessian_of_det_at_a_singular_matrix(name, a, mode):
    expected = _sympy_derivatives(a, 2)
    np.testing.assert_allclose(hd.hessian(hnp.linalg.det, mode=mode)(a), expected, atol=1e-11)


def test_third_derivatives_of_det_at_an_invertible_matrix():
    a = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, -1.0, 4.0]])
    expected = _sympy_derivatives(a, 3)
    for outer in (hd.jacfwd, hd.jacrev):
        np.testing.assert_allclose(outer(hd.hessian(hnp.linalg.det))(a), expected, atol=1e-10)


def test_det_gradients_of_stacks_under_vmap_and_float32_and_complex():
    stack = np.stack([a for _, a in SINGULAR[2:5]])
    expected = np.stack([_sympy_derivatives(a, 1) for a in stack])
    np.testing.assert_allclose(hd.vmap(hd.grad(hnp.linalg.det))(stack), expected, atol=1e-12)
    np.testing.assert_allclose(hd.grad(lambda s: hnp.sum(hnp.linalg.det(s)))(stack), expected, atol=1e-12)
    single = hd.grad(hnp.linalg.det)(SINGULAR[2][1].astype(np.float32))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, expected[0], atol=1e-5)
    # complex, holomorphic: the adjugate of a singular complex matrix (sympy's)
    z = np.array([[1 + 1j, 2 - 1j], [2 + 2j, 1 - 3j]])
    z[1] = (1 - 2j) * z[0]
    adjugate = np.array(sympy.Matrix(z.tolist()).adjugate().evalf(), dtype=complex)
    np.testing.assert_allclose(hd.grad(hnp.linalg.det, holomorphic=True)(z), adjugate.T, atol=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_slogdet_at_a_singular_matrix_gives_numpys_infinity_not_an_error():
    a = SINGULAR[0][1]
    sign, logabsdet = hnp.linalg.slogdet(a)
    assert sign == 0 and logabsdet == -np.inf
    gradient = hd.grad(lambda m: hnp.linalg.slogdet(m)[1])(a)
    # d log|det| = tr(adj(A) dA) / det(A): the adjugate's signs over zero
    np.testing.assert_array_equal(gradient, np.array([[np.inf, -np.inf], [-np.inf, np.inf]]))
    _, tangent = hd.jvp(lambda m: hnp.linalg.slogdet(m)[1], (a,), (np.eye(2),))
    assert not np.isfinite(tangent)  # inf * 0 terms of tr(A^{-1} E) make it nan, as numpy would
    assert np.all(np.isnan(hd.grad(lambda m: hnp.linalg.slogdet(m)[1])(np.zeros((3, 3)))))
    # an invertible member of a stack keeps its finite gradient
    stack = np.stack([a, np.diag([2.0, -4.0])])
    gradients = hd.grad(lambda m: hnp.sum(hnp.linalg.slogdet(m)[1]))(stack)
    np.testing.assert_allclose(gradients[1], np.diag([0.5, -0.25]))
    assert np.all(np.isinf(gradients[0]))


@pytest.mark.parametrize("route", ["grad", "jvp", "hessian", "value"])
def test_inv_and_solve_at_a_singular_matrix_refuse_by_name(route):
    a = SINGULAR[0][1]
    functions = {"inv": lambda m: hnp.sum(hnp.linalg.inv(m)),
                 "solve": lambda m: hnp.sum(hnp.linalg.solve(m, np.ones(2)))}
    for name, f in functions.items():
        call = {"grad": lambda: hd.grad(f)(a), "jvp": lambda: hd.jvp(f, (a,), (a,)),
                "hessian": lambda: hd.hessian(f)(a), "value": lambda: f(a)}[route]
        with pytest.raises(np.linalg.LinAlgError, match=rf"^{name}: singular matrix.*pinv"):
            call()
