"""Sparse derivatives in scipy (issue 15 part 4): hd.minimize(hessian="sparse") and least_squares with
hd.sparse_jacobian, against hand-written closed-form sparse derivatives and dense hodiff ones."""

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp

import hodiff as hd
import hodiff.numpy as hnp
import hodiff.secondorder
import hodiff.transforms.sparsity


def chained_rosenbrock(x):
    return hnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def chained_rosenbrock_hessian(x):
    """The closed form (tridiagonal): scipy.optimize.rosen_hess as a sparse matrix."""
    diagonal = np.zeros_like(x)
    diagonal[:-1] = 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    diagonal[1:] += 200.0
    off = -400.0 * x[:-1]
    return sp.csr_array(sp.diags_array([off, diagonal, off], offsets=[-1, 0, 1]))


def start(n, seed=0):
    return 1.0 + 0.3 * np.random.default_rng(seed).standard_normal(n)


@pytest.mark.parametrize("method", ["Newton-CG", "trust-constr"])
def test_sparse_hessian_minimize_matches_scipy_with_the_closed_form(method):
    n = 1000
    x0 = start(n)
    result = hd.minimize(chained_rosenbrock, x0, method=method, hessian="sparse", tol=1e-10)
    reference = scipy.optimize.minimize(scipy.optimize.rosen, x0, jac=scipy.optimize.rosen_der,
                                        hess=chained_rosenbrock_hessian, method=method, tol=1e-10)
    assert result.success and reference.success
    assert result.nit == reference.nit
    assert result.nfev == reference.nfev
    np.testing.assert_allclose(result.x, reference.x, atol=1e-10)
    np.testing.assert_allclose(result.x, np.ones(n), atol=1e-6)


def test_the_hess_scipy_receives_is_sparse_and_the_dense_hessian(monkeypatch):
    received = []
    minimize = scipy.optimize.minimize

    def spy(fun, x0, **arguments):
        hess = arguments["hess"]

        def recorded(x):
            matrix = hess(x)
            received.append((np.array(x), matrix))
            return matrix

        return minimize(fun, x0, **dict(arguments, hess=recorded))

    monkeypatch.setattr(hodiff.secondorder.scipy.optimize, "minimize", spy)
    x0 = start(40, seed=1)
    hd.minimize(chained_rosenbrock, x0, method="Newton-CG", hessian="sparse")
    assert len(received) >= 3
    dense = hd.hessian(chained_rosenbrock)
    for x, matrix in received:
        assert sp.issparse(matrix) and matrix.format == "csr" and matrix.shape == (40, 40)
        assert matrix.nnz <= 3 * 40
        np.testing.assert_allclose(matrix.toarray(), dense(x), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(matrix.toarray(), chained_rosenbrock_hessian(x).toarray(), rtol=1e-12, atol=1e-9)


def test_the_pattern_is_detected_once_per_minimize_call(monkeypatch):
    calls = []
    detect = hodiff.transforms.sparsity.hessian_sparsity

    def counted(f, *arguments, **keywords):
        calls.append(1)
        return detect(f, *arguments, **keywords)

    monkeypatch.setattr(hodiff.transforms.sparsity, "hessian_sparsity", counted)
    result = hd.minimize(chained_rosenbrock, start(200), method="trust-constr", hessian="sparse")
    assert result.nhev > 3 and len(calls) == 1
    hd.minimize(chained_rosenbrock, start(200), method="Newton-CG", hessian="sparse")
    assert len(calls) == 2
    pattern = sp.diags_array([1, 1, 1], offsets=[-1, 0, 1], shape=(200, 200), dtype=bool)
    given = hd.minimize(chained_rosenbrock, start(200), method="Newton-CG", hessian="sparse", sparsity=pattern)
    assert len(calls) == 2 and given.success


def test_sparse_hessian_minimize_with_a_pytree_x0():
    def f(p):
        x = hnp.concatenate([p["head"], hnp.reshape(p["tail"], (-1,))])
        return chained_rosenbrock(x)

    flat = start(30, seed=2)
    x0 = {"head": flat[:10], "tail": flat[10:].reshape(4, 5)}
    result = hd.minimize(f, x0, method="Newton-CG", hessian="sparse", tol=1e-10)
    reference = scipy.optimize.minimize(scipy.optimize.rosen, np.concatenate([flat[:10], flat[10:]]),
                                        jac=scipy.optimize.rosen_der, hess=chained_rosenbrock_hessian,
                                        method="Newton-CG", tol=1e-10)
    assert result.x["tail"].shape == (4, 5) and result.nit == reference.nit
    np.testing.assert_allclose(result.x_flat, reference.x, atol=1e-10)


@pytest.mark.parametrize("method", ["trust-ncg", "trust-krylov", "trust-exact", "dogleg", "BFGS"])
def test_sparse_hessian_with_a_method_that_cannot_take_it(method):
    with pytest.raises(ValueError, match="'Newton-CG' or 'trust-constr'"):
        hd.minimize(chained_rosenbrock, np.ones(5), method=method, hessian="sparse")


def test_sparse_hessian_option_errors():
    with pytest.raises(ValueError, match="hessian="):
        hd.minimize(chained_rosenbrock, np.ones(5), method="Newton-CG", hessian="dense")
    with pytest.raises(ValueError, match="sparsity= is the pattern"):
        hd.minimize(chained_rosenbrock, np.ones(5), method="Newton-CG", sparsity=np.eye(5, dtype=bool))


def test_value_dependent_control_flow_says_what_to_do():
    def branchy(x):
        if x[0] > 0:
            return hnp.sum(x ** 4)
        return hnp.sum(x ** 2)

    with pytest.raises(TypeError, match="Pass sparsity=.*hessian='auto'"):
        hd.minimize(branchy, np.ones(4), method="Newton-CG", hessian="sparse")
    # the two ways out the message names both work
    result = hd.minimize(branchy, np.ones(4), method="Newton-CG", hessian="sparse",
                         sparsity=np.eye(4, dtype=bool), tol=1e-12)
    assert np.abs(result.x).max() < 1e-2
    assert hd.minimize(branchy, np.ones(4), method="Newton-CG").success


# ----------------------------------------------------------------- least_squares with hd.sparse_jacobian


def banded_map(x):
    """g(x) in R^(2n-1): g_i = x_i + x_i^3/10 + (x_{i+1} - x_{i-1})/5 (zero ends), then x_i x_{i+1}."""
    zero = hnp.zeros(1)
    coupled = x + 0.1 * x ** 3 + 0.2 * (hnp.concatenate([x[1:], zero]) - hnp.concatenate([zero, x[:-1]]))
    return hnp.concatenate([coupled, x[:-1] * x[1:]])


def banded_map_jacobian(x):
    """The closed form, (2n-1, n) in the numerator layout (scipy's)."""
    n = x.size
    top = sp.diags_array([np.full(n - 1, -0.2), 1.0 + 0.3 * x ** 2, np.full(n - 1, 0.2)], offsets=[-1, 0, 1])
    bottom = sp.diags_array([x[1:], x[:-1]], offsets=[0, 1], shape=(n - 1, n))
    return sp.csr_array(sp.vstack([top, bottom]))


@pytest.mark.parametrize("options", [{"method": "trf"}, {"method": "trf", "tr_solver": "lsmr"},
                                     {"method": "dogbox", "tr_solver": "lsmr"}])
def test_least_squares_with_the_sparse_jacobian_finds_the_known_solution(options):
    n = 2000
    solution = np.random.default_rng(3).uniform(0.5, 1.5, n)
    target = np.asarray(banded_map(solution))

    def residual(x):
        return banded_map(x) - target

    received = []
    jacobian = hd.sparse_jacobian(residual)

    def recorded(x):
        matrix = jacobian(x)
        received.append((np.array(x), matrix))
        return matrix

    result = scipy.optimize.least_squares(residual, np.ones(n), jac=recorded, **options)
    closed = scipy.optimize.least_squares(residual, np.ones(n), jac=banded_map_jacobian, **options)
    assert result.success and closed.success
    np.testing.assert_allclose(result.x, solution, atol=1e-9)
    np.testing.assert_allclose(result.x, closed.x, atol=1e-12)
    assert (result.nfev, result.njev) == (closed.nfev, closed.njev)
    assert jacobian.num_colors == 3
    for x, matrix in received:
        assert matrix.format == "csr" and matrix.shape == (2 * n - 1, n)
        closed_form = banded_map_jacobian(x)
        assert abs(matrix - closed_form).max() <= 1e-12 * abs(closed_form).max()
