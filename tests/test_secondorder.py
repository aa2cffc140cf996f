"""Second-order tools: the Hessian operator, its spectrum and trace, minimize, Gauss-Newton."""

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse.linalg
from hypothesis import given
from hypothesis import strategies as st

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.secondorder import _lanczos

# ----------------------------------------------------------------- problems with known Hessians


def quadratic_plus_cos(A, b):
    """f(x) = x^T A x / 2 + b^T x + sum(cos x):  H = A - diag(cos x) for symmetric A."""
    return lambda x: 0.5 * hnp.tensordot(x, hnp.tensordot(A, x, axes=1), axes=1) + hnp.sum(b * x) + hnp.sum(hnp.cos(x))


def exact_quadratic_hessian(A, x):
    return A - np.diag(np.cos(x))


def mlp_loss(X, onehot):
    """A small tanh MLP with cross-entropy, parameters as a dict pytree: a dense, indefinite Hessian."""

    def loss(p):
        h = hnp.tanh(hnp.tensordot(X, p["W1"], axes=1) + p["b1"])
        logits = hnp.tensordot(h, p["W2"], axes=1) + p["b2"]
        log_normalizer = hnp.log(hnp.sum(hnp.exp(logits), axis=1))
        return hnp.sum(log_normalizer - hnp.sum(onehot * logits, axis=1)) / X.shape[0]

    return loss


def mlp_problem(seed=0, inputs=3, hidden=4, classes=3, samples=7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, inputs))
    onehot = np.eye(classes)[rng.integers(0, classes, samples)]
    params = {"W1": rng.standard_normal((inputs, hidden)), "b1": rng.standard_normal(hidden) * 0.1,
              "W2": rng.standard_normal((hidden, classes)), "b2": rng.standard_normal(classes) * 0.1}
    return mlp_loss(X, onehot), params


def reference_hessian(f, x):
    """Dense Hessian of f at a vector x by hd.hessian (batched forward-over-reverse, no linearize)."""
    return np.asarray(hd.hessian(f)(x))


def flat_function(f, template):
    """f of a pytree as a function of its flat vector (leaves in tree_flatten order)."""
    leaves, tree = hd.tree_flatten(template)
    sizes = [np.size(leaf) for leaf in leaves]
    offsets = np.cumsum([0] + sizes)

    def flat_f(vector):
        parts = [hnp.reshape(vector[int(a):int(b)], np.shape(leaf))
                 for a, b, leaf in zip(offsets[:-1], offsets[1:], leaves)]
        return f(hd.tree_unflatten(tree, parts))

    return flat_f, np.concatenate([np.ravel(leaf) for leaf in leaves])


@pytest.fixture(scope="module")
def mlp():
    loss, params = mlp_problem()
    flat_loss, flat_params = flat_function(loss, params)
    return loss, params, reference_hessian(flat_loss, flat_params)


# ----------------------------------------------------------------- the operator


@given(st.integers(2, 6), st.integers(0, 2**31 - 1))
def test_operator_dense_equals_exact_hessian(n, seed):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    A, b, x = M + M.T, rng.standard_normal(n), rng.standard_normal(n)
    operator = hd.hessian_operator(quadratic_plus_cos(A, b), x)
    assert isinstance(operator, scipy.sparse.linalg.LinearOperator)
    assert operator.shape == (n, n) and operator.dtype == np.float64
    np.testing.assert_allclose(operator.dense(), exact_quadratic_hessian(A, x), rtol=1e-12, atol=1e-12)


def test_operator_matches_reference_hessian_on_pytree_mlp(mlp):
    loss, params, H = mlp
    operator = hd.hessian_operator(loss, params)
    assert operator.shape == H.shape
    np.testing.assert_allclose(operator.dense(), H, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(operator.dense(block=5), H, rtol=1e-10, atol=1e-12)  # blocks of columns


def test_matvec_rmatvec_matmat_and_scipy_operators(mlp):
    loss, params, H = mlp
    operator = hd.hessian_operator(loss, params)
    rng = np.random.default_rng(3)
    v = rng.standard_normal(operator.n)
    V = rng.standard_normal((operator.n, 4))
    np.testing.assert_allclose(operator.matvec(v), H @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(operator.rmatvec(v), H @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(operator @ v, H @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(operator.matvec(v[:, None]), (H @ v)[:, None], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(operator.matmat(V), H @ V, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(operator.T @ V, H @ V, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose((2.0 * operator + operator) @ v, 3 * H @ v, rtol=1e-10, atol=1e-12)
    assert operator.matmat(np.zeros((operator.n, 0))).shape == (operator.n, 0)


@pytest.mark.parametrize("mode", ["fwd-rev", "rev-rev"])
def test_operator_products_equal_hd_hvp_on_pytrees(mlp, mode):
    loss, params, _ = mlp
    operator = hd.hessian_operator(loss, params)
    rng = np.random.default_rng(5)
    direction = {key: rng.standard_normal(value.shape) for key, value in params.items()}
    (expected,) = hd.hvp(loss, (params,), (direction,), mode=mode)
    product = operator.hvp(direction)
    for key in params:
        np.testing.assert_allclose(product[key], expected[key], rtol=1e-10, atol=1e-12)


def test_products_replay_the_recording_without_calling_f():
    calls = []
    loss, params = mlp_problem()

    def counted(p):
        calls.append(1)
        return loss(p)

    operator = hd.hessian_operator(counted, params)
    assert len(calls) == 1  # f (and its gradient) recorded once
    v = np.ones(operator.n)
    operator.matvec(v)
    operator.matmat(np.eye(operator.n)[:, :3])
    hd.hessian_eigs(operator, k=2)
    assert len(calls) == 1


def test_value_and_gradient_of_the_operator(mlp):
    loss, params, _ = mlp
    operator = hd.hessian_operator(loss, params)
    np.testing.assert_allclose(operator.value, loss(params), rtol=1e-14)
    np.testing.assert_allclose(operator.gradient, operator.flatten(hd.grad(loss)(params)), rtol=1e-14)


def test_pytrees_round_trip(mlp):
    loss, params, H = mlp
    operator = hd.hessian_operator(loss, params)
    flat = operator.flatten(params)
    back = operator.unflatten(flat)
    assert set(back) == set(params)
    for key in params:
        assert back[key].shape == params[key].shape and back[key].dtype == params[key].dtype
        np.testing.assert_array_equal(back[key], params[key])
    direction = {key: np.ones_like(value) for key, value in params.items()}
    product = operator.hvp(direction)
    assert set(product) == set(params) and all(product[k].shape == params[k].shape for k in params)
    np.testing.assert_allclose(operator.flatten(product), H @ np.ones(operator.n), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="structure"):
        operator.flatten([params["W1"]])


def test_nested_tuple_and_list_pytrees():
    f = lambda p: hnp.sum(p[0] ** 2 * p[1][0]) + hnp.sum(hnp.sin(p[1][1]))
    x = (np.array([1.0, 2.0]), [np.array(3.0), np.array([[0.5, -0.5]])])
    operator = hd.hessian_operator(f, x)
    assert operator.n == 5
    flat_f, flat_x = flat_function(f, x)
    np.testing.assert_allclose(operator.dense(), reference_hessian(flat_f, flat_x), rtol=1e-12, atol=1e-12)
    back = operator.unflatten(operator.flatten(x))
    assert isinstance(back, tuple) and isinstance(back[1], list) and back[1][1].shape == (1, 2)


def test_extra_arguments_are_passed_to_f():
    f = lambda x, scale, power=2.0: scale * hnp.sum(x ** power)
    operator = hd.hessian_operator(f, np.array([1.0, 2.0]), args=(3.0,), kwargs={"power": 3.0})
    np.testing.assert_allclose(operator.dense(), np.diag(3.0 * 6.0 * np.array([1.0, 2.0])))


def test_float32_operator_keeps_float32():
    x = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    operator = hd.hessian_operator(lambda x: hnp.sum(hnp.exp(x) * x), x)
    assert operator.dtype == np.float32
    product = operator.matvec(np.ones(3))
    assert product.dtype == np.float32
    np.testing.assert_allclose(product, np.exp(x) * (x + 2), rtol=1e-6)


def test_operator_errors_are_clear():
    with pytest.raises(TypeError, match="dtype int"):
        hd.hessian_operator(lambda x: hnp.sum(x ** 2), np.array([1, 2]))
    with pytest.raises(TypeError, match="scalar"):
        hd.hessian_operator(lambda x: x ** 2, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="no leaves"):
        hd.hessian_operator(lambda x: 0.0, {})
    with pytest.raises(TypeError, match="complex"):
        hd.hessian_operator(lambda z: hnp.sum(z * z), np.array([1.0 + 1j]))
    operator = hd.hessian_operator(lambda x: hnp.sum(x ** 2), np.ones(3))
    with pytest.raises(ValueError):
        operator.matvec(np.ones(4))


# ----------------------------------------------------------------- eigenvalues


@pytest.mark.parametrize("which", ["LA", "SA", "LM", "BE"])
def test_eigs_agree_with_numpy(mlp, which):
    loss, params, H = mlp
    exact = np.linalg.eigvalsh(H)
    k = 4
    result = hd.hessian_eigs(loss, params, k=k, which=which)
    expected = {
        "LA": exact[::-1][:k], "SA": exact[:k],
        "LM": exact[np.argsort(-np.abs(exact))][:k],
        "BE": np.sort(np.concatenate([exact[:k // 2], exact[-(k - k // 2):]])),
    }[which]
    np.testing.assert_allclose(result.values, expected, rtol=1e-8, atol=1e-10)
    # Eigenvectors: orthonormal columns with H v = lambda v.
    np.testing.assert_allclose(result.vectors.T @ result.vectors, np.eye(k), atol=1e-8)
    np.testing.assert_allclose(H @ result.vectors, result.vectors * result.values, atol=1e-8)


def test_smallest_magnitude_eigs():
    # "SM" needs a spectrum whose small end is well separated (the MLP's has a cluster of exact zeros).
    spectrum = np.linspace(-3.0, 3.0, 24) + 0.1
    f = quadratic_plus_cos(np.diag(spectrum), np.zeros(24))
    result = hd.hessian_eigs(f, np.full(24, np.pi / 2), k=2, which="SM")
    np.testing.assert_allclose(result.values, spectrum[np.argsort(np.abs(spectrum))][:2], rtol=1e-8)


def test_eigs_dense_fallback_and_operator_input():
    A = np.diag([1.0, -2.0, 5.0])
    f = quadratic_plus_cos(A, np.zeros(3))
    x = np.full(3, np.pi / 2)  # cos = 0: H = A exactly
    result = hd.hessian_eigs(f, x, k=3)  # k >= n - 1: beyond ARPACK, dense eigh
    np.testing.assert_allclose(result.values, [5.0, 1.0, -2.0], atol=1e-12)
    operator = hd.hessian_operator(f, x)
    np.testing.assert_allclose(hd.hessian_eigs(operator, k=2, which="SA").values, [-2.0, 1.0], atol=1e-12)
    vector = result.unflatten(result.vectors[:, 0])
    assert vector.shape == (3,) and abs(abs(vector[2]) - 1) < 1e-12


def test_eigenvectors_unflatten_to_the_parameters_pytree(mlp):
    loss, params, _ = mlp
    result = hd.hessian_eigs(loss, params, k=2, return_eigenvectors=True)
    top = result.unflatten(result.vectors[:, 0])
    assert set(top) == set(params) and all(top[k].shape == params[k].shape for k in params)
    assert hd.hessian_eigs(loss, params, k=2, return_eigenvectors=False).vectors is None


def test_eigs_reject_bad_arguments():
    f = lambda x: hnp.sum(x ** 2)
    with pytest.raises(ValueError, match="which"):
        hd.hessian_eigs(f, np.ones(5), which="largest")
    with pytest.raises(ValueError, match="k=6"):
        hd.hessian_eigs(f, np.ones(5))
    with pytest.raises(ValueError, match="k=0"):
        hd.hessian_eigs(f, np.ones(5), k=0)


# ----------------------------------------------------------------- trace


def test_trace_agrees_with_numpy_within_the_reported_error(mlp):
    loss, params, H = mlp
    estimate = hd.hessian_trace(loss, params, samples=200, seed=1)
    assert estimate.stderr > 0 and estimate.samples.shape == (200,)
    assert abs(estimate.trace - np.trace(H)) < 4 * estimate.stderr
    # The standard error is what it says: probe values have the Hutchinson variance 2 sum_{i!=j} H_ij^2.
    off_diagonal = H - np.diag(np.diag(H))
    predicted = np.sqrt(2 * np.sum(off_diagonal ** 2) / 200)
    assert 0.7 * predicted < estimate.stderr < 1.3 * predicted


def test_trace_is_exact_for_a_diagonal_hessian_and_reproducible():
    f = lambda x: hnp.sum(hnp.exp(x))
    x = np.linspace(-1, 1, 7)
    estimate = hd.hessian_trace(f, x, samples=5, seed=0)
    assert estimate.stderr == 0.0
    np.testing.assert_allclose(estimate.trace, np.sum(np.exp(x)), rtol=1e-14)
    loss, params = mlp_problem()
    first = hd.hessian_trace(loss, params, samples=40, seed=7, block=16)
    again = hd.hessian_trace(loss, params, samples=40, seed=7, block=7)  # blocks do not change the probes
    np.testing.assert_allclose(first.samples, again.samples, rtol=1e-12)
    with pytest.raises(ValueError, match="samples"):
        hd.hessian_trace(f, x, samples=1)


def _quadratic_with_spectrum(eigenvalues, seed=0):
    """f(x) = x^T A x / 2 with A = U diag(eigenvalues) U^T for a random orthogonal U; returns (f, A)."""
    n = len(eigenvalues)
    basis, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    matrix = (basis * eigenvalues) @ basis.T
    return (lambda x: 0.5 * hnp.dot(x, matrix @ x)), matrix


def _counted(operator):
    """The operator, with a count of the HVPs its matmat computes (one per column)."""
    counts = [0]
    matmat = operator.matmat

    def counting(block):
        counts[0] += np.shape(block)[1]
        return matmat(block)

    operator.matmat = counting
    return operator, counts


def test_hutchpp_is_exact_when_the_sketch_holds_the_hessian():
    # rank 5 <= samples // 3 = 6: the low-rank part is the whole trace, the deflated rest is zero.
    rank = np.zeros(40)
    rank[:5] = [3.0, -2.0, 1.5, 0.7, 0.2]
    f, matrix = _quadratic_with_spectrum(rank)
    operator, counts = _counted(hd.hessian_operator(f, np.zeros(40)))
    estimate = hd.hessian_trace(operator, samples=18, seed=3, method="hutch++")
    np.testing.assert_allclose(estimate.trace, np.trace(matrix), rtol=0, atol=1e-12)
    assert estimate.stderr < 1e-12
    assert estimate.matvecs == counts[0] == 18


def test_hutchpp_is_unbiased_and_beats_hutchinson_on_a_decaying_spectrum():
    # Meyer et al. 2021: with eigenvalues i^-2 most of the trace sits in a few directions,
    # which the sketch captures; Hutchinson's error comes from all of them.
    n, budget = 120, 30
    f, matrix = _quadratic_with_spectrum(np.arange(1, n + 1, dtype=float) ** -2.0, seed=1)
    operator = hd.hessian_operator(f, np.zeros(n))
    exact = np.trace(matrix)
    plus = np.array([hd.hessian_trace(operator, samples=budget, seed=s, method="hutch++").trace for s in range(60)])
    plain = np.array([hd.hessian_trace(operator, samples=budget, seed=s).trace for s in range(60)])
    assert abs(plus.mean() - exact) < 4 * plus.std(ddof=1) / np.sqrt(plus.size)  # unbiased
    assert np.median(np.abs(plus - exact)) < np.median(np.abs(plain - exact)) / 3


@pytest.mark.parametrize("method", ["hutchinson", "hutch++"])
def test_trace_stops_at_the_target_relative_error(method):
    f, matrix = _quadratic_with_spectrum(np.linspace(1.0, 2.0, 50), seed=2)
    operator, counts = _counted(hd.hessian_operator(f, np.zeros(50)))
    estimate = hd.hessian_trace(operator, samples=3000, seed=0, method=method, rtol=0.01, block=8)
    assert estimate.matvecs == counts[0] < 3000
    assert estimate.stderr <= 0.01 * abs(estimate.trace)
    assert abs(estimate.trace - np.trace(matrix)) < 0.05 * np.trace(matrix)


def test_trace_refuses_bad_options_by_name():
    f = lambda x: hnp.sum(x ** 4)
    x = np.ones(3)
    with pytest.raises(ValueError, match="method='hutch'"):
        hd.hessian_trace(f, x, method="hutch")
    with pytest.raises(ValueError, match="samples=3 must be an integer >= 4 for method='hutch\\+\\+'"):
        hd.hessian_trace(f, x, samples=3, method="hutch++")
    with pytest.raises(ValueError, match="rtol=-1"):
        hd.hessian_trace(f, x, rtol=-1)
    with pytest.raises(ValueError, match="block=0"):
        hd.hessian_trace(f, x, block=0)


# ----------------------------------------------------------------- spectral density


def test_lanczos_quadrature_matches_moments():
    """Gauss quadrature from m Lanczos steps is exact for polynomials of degree < 2m: q^T H^p q."""
    rng = np.random.default_rng(0)
    M = rng.standard_normal((12, 12))
    A = (M + M.T) / 4
    x = np.full(12, np.pi / 2)
    operator = hd.hessian_operator(quadratic_plus_cos(A, np.zeros(12)), x)
    starts = rng.standard_normal((12, 3))
    steps = 4
    for r, (alpha, beta) in enumerate(_lanczos(operator, starts, steps)):
        T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
        theta, U = np.linalg.eigh(T)
        q = starts[:, r] / np.linalg.norm(starts[:, r])
        for p in range(2 * steps):
            exact = q @ np.linalg.matrix_power(A, p) @ q
            np.testing.assert_allclose(np.sum(U[0] ** 2 * theta ** p), exact, rtol=1e-9, atol=1e-9)


def test_lanczos_stops_at_an_invariant_subspace():
    operator = hd.hessian_operator(lambda x: hnp.sum(x ** 2), np.ones(6))  # H = 2 I
    (alpha, beta), = _lanczos(operator, np.ones((6, 1)), 5)
    np.testing.assert_allclose(alpha, [2.0])
    assert beta.size == 0


def test_density_integrates_to_one_and_finds_the_spectrum(mlp):
    loss, params, H = mlp
    exact = np.linalg.eigvalsh(H)
    result = hd.hessian_density(loss, params, runs=4, steps=H.shape[0], seed=3)
    np.testing.assert_allclose(np.trapezoid(result.density, result.grid), 1.0, rtol=1e-12)
    assert np.all(result.density >= 0)
    np.testing.assert_allclose(np.sum(result.weights, axis=1), 1.0, rtol=1e-10)
    # With as many steps as parameters, the Ritz values carrying weight are eigenvalues of H.
    nodes = result.nodes[result.weights > 1e-8]
    assert np.max(np.min(np.abs(nodes[:, None] - exact[None, :]), axis=1)) < 1e-6
    assert result.grid[0] < exact[0] and result.grid[-1] > exact[-1]


def test_density_puts_mass_where_the_eigenvalues_are():
    # H = diag(-1 x 30, 3 x 10): a quarter of the mass near 3, three quarters near -1.
    curvature = np.concatenate([np.full(30, -1.0), np.full(10, 3.0)])
    f = lambda x: 0.5 * hnp.sum(curvature * x ** 2)
    result = hd.hessian_density(f, np.zeros(40), runs=16, steps=10, sigma=0.1, seed=0)
    high = result.grid > 1.0
    mass_high = np.trapezoid(result.density[high], result.grid[high])
    assert abs(mass_high - 0.25) < 0.1
    assert abs(result.grid[np.argmax(result.density)] + 1.0) < 0.05
    np.testing.assert_allclose(np.trapezoid(result.density, result.grid), 1.0, rtol=1e-12)
    # The first moment estimates tr(H) / n (Hutchinson with normalized Gaussian probes).
    mean = np.trapezoid(result.grid * result.density, result.grid)
    assert abs(mean - np.mean(curvature)) < 0.4


def test_density_rejects_bad_arguments():
    f = lambda x: hnp.sum(x ** 2)
    for bad in ({"runs": 0}, {"steps": 2.5}, {"grid_size": -1}, {"sigma": 0.0}):
        with pytest.raises(ValueError):
            hd.hessian_density(f, np.ones(3), **bad)


# ----------------------------------------------------------------- minimize


def logistic_problem(seed=0, samples=60, features=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, features))
    y = (X @ rng.standard_normal(features) + 0.5 * rng.standard_normal(samples) > 0).astype(float)

    def loss(p, l2=0.1):
        z = hnp.tensordot(X, p["w"], axes=1) + p["b"]
        # log(1 + e^z) - y z, written as softplus that stays finite for large |z| on this data
        return hnp.sum(hnp.log(1.0 + hnp.exp(z)) - y * z) / samples + l2 * hnp.sum(p["w"] ** 2)

    return loss, {"w": np.zeros(features), "b": np.array(0.0)}


@pytest.mark.parametrize("method", ["trust-krylov", "trust-ncg", "Newton-CG", "trust-constr", "dogleg",
                                    "trust-exact", "BFGS", "L-BFGS-B", "CG", "Nelder-Mead"])
def test_minimize_methods_reach_the_same_optimum(method):
    loss, x0 = logistic_problem()
    options = ({"options": {"maxiter": 3000, "xatol": 1e-8, "fatol": 1e-12}} if method == "Nelder-Mead"
               else {"tol": 1e-8})
    result = hd.minimize(loss, x0, method=method, **options)
    assert result.success, result.message
    reference = hd.minimize(loss, x0, method="trust-exact", options={"gtol": 1e-12})
    tolerance = 1e-4 if method == "Nelder-Mead" else 1e-5
    for key in x0:
        np.testing.assert_allclose(result.x[key], reference.x[key], atol=tolerance)
        assert result.x[key].shape == x0[key].shape


def test_minimize_matches_finite_difference_scipy_in_fewer_iterations():
    loss, x0 = logistic_problem(seed=1, features=6)
    flat_loss, flat_x0 = flat_function(loss, x0)
    plain = lambda v: float(flat_loss(v))  # hodiff functions run on plain numpy values
    finite_differences = scipy.optimize.minimize(plain, flat_x0, method="BFGS")  # jac by 2-point differences
    for method in ("trust-exact", "Newton-CG", "trust-krylov"):
        exact = hd.minimize(loss, x0, method=method)
        assert exact.success
        np.testing.assert_allclose(exact.x_flat, finite_differences.x, atol=1e-4)
        assert exact.nit < finite_differences.nit, (method, exact.nit, finite_differences.nit)
        assert exact.fun <= finite_differences.fun + 1e-10


def test_minimize_rosenbrock_with_pytree_and_unflattened_result():
    def f(p):
        x = hnp.concatenate([p[0], hnp.reshape(p[1]["tail"], (2,))])
        return hnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    x0 = (np.array([1.3, 0.7], dtype=np.float32), {"tail": np.array([[0.8, 1.9]])})
    result = hd.minimize(f, x0, method="trust-exact", options={"gtol": 1e-10})
    assert result.success
    assert isinstance(result.x, tuple) and result.x[0].dtype == np.float32 and result.x[1]["tail"].shape == (1, 2)
    np.testing.assert_allclose(result.x_flat, np.ones(4), atol=1e-6)
    assert isinstance(result.jac, tuple) and result.jac[1]["tail"].shape == (1, 2)
    np.testing.assert_allclose(result.fun, scipy.optimize.rosen(result.x_flat), rtol=1e-12, atol=1e-20)


def test_minimize_records_one_gradient_per_point():
    calls = []
    loss, x0 = logistic_problem()

    def counted(p):
        calls.append(1)
        return loss(p)

    result = hd.minimize(counted, x0, method="trust-krylov")
    assert result.nhev > len(calls)  # many Hessian products per point, one recording each
    assert len(calls) <= result.nfev + 1


def test_minimize_passes_args_kwargs_options_and_calls_back_with_pytrees():
    f = lambda p, target, weight=1.0: weight * hnp.sum((p["a"] - target) ** 2)
    seen = []
    result = hd.minimize(f, {"a": np.zeros(3)}, method="Newton-CG", args=(np.array([1.0, 2.0, 3.0]),),
                         kwargs={"weight": 2.0}, callback=lambda xk: seen.append(xk), tol=1e-10)
    np.testing.assert_allclose(result.x["a"], [1.0, 2.0, 3.0], atol=1e-8)
    assert seen and isinstance(seen[0], dict) and seen[0]["a"].shape == (3,)
    intermediate = []
    hd.minimize(f, {"a": np.zeros(3)}, method="trust-constr", args=(np.ones(3),),
                callback=lambda intermediate_result: intermediate.append(intermediate_result.x))
    assert intermediate and isinstance(intermediate[-1], dict)


def test_minimize_with_bounds_on_the_flat_vector():
    f = lambda p: hnp.sum((p - 2.0) ** 2)
    result = hd.minimize(f, np.zeros((2, 2)), method="L-BFGS-B", bounds=[(0, 1)] * 4)
    np.testing.assert_allclose(result.x, np.ones((2, 2)), atol=1e-8)


def test_minimize_rejects_user_derivatives_and_bad_x0():
    f = lambda x: hnp.sum(x ** 2)
    with pytest.raises(TypeError, match="jac"):
        hd.minimize(f, np.ones(2), jac=lambda x: 2 * x)
    with pytest.raises(TypeError, match="hessp"):
        hd.minimize(f, np.ones(2), hessp=lambda x, p: 2 * p)
    with pytest.raises(TypeError, match="dtype int"):
        hd.minimize(f, np.array([1, 2]))


# ----------------------------------------------------------------- Gauss-Newton


def test_ggn_is_the_hessian_for_a_linear_model_with_squared_loss():
    rng = np.random.default_rng(0)
    A, target = rng.standard_normal((5, 3)), rng.standard_normal(5)
    model = lambda w: hnp.tensordot(A, w, axes=1)
    loss = lambda z: 0.5 * hnp.sum((z - target) ** 2)
    w, v = rng.standard_normal(3), rng.standard_normal(3)
    np.testing.assert_allclose(hd.ggn_vp(model, loss, w, v), A.T @ A @ v, rtol=1e-12)
    H = hd.hessian_operator(lambda w: loss(model(w)), w).dense()
    np.testing.assert_allclose(hd.ggn_operator(model, loss, w).dense(), H, rtol=1e-12)


def test_ggn_equals_jt_hloss_j_and_is_psd_for_cross_entropy():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6, 3))
    onehot = np.eye(3)[rng.integers(0, 3, 6)]
    params = {"W": rng.standard_normal((3, 4)), "V": rng.standard_normal((4, 3))}
    model = lambda p: hnp.tensordot(hnp.tanh(hnp.tensordot(X, p["W"], axes=1)), p["V"], axes=1)
    loss = lambda z: hnp.sum(hnp.log(hnp.sum(hnp.exp(z), axis=1)) - hnp.sum(onehot * z, axis=1))
    operator = hd.ggn_operator(model, loss, params)
    G = operator.dense()
    # Reference: J (18 x 24) by forward columns, H_loss (18 x 18) by forward-over-reverse columns.
    flat_model, flat_params = flat_function(model, params)
    J = np.stack([np.ravel(hd.jvp(flat_model, (flat_params,), (e,))[1]) for e in np.eye(operator.n)], axis=1)
    z = model(params)
    H_loss = reference_hessian(lambda flat_z: loss(hnp.reshape(flat_z, z.shape)), np.ravel(z))
    np.testing.assert_allclose(G, J.T @ H_loss @ J, rtol=1e-10, atol=1e-12)
    assert np.min(np.linalg.eigvalsh(G)) > -1e-10  # positive semidefinite
    v = {key: rng.standard_normal(value.shape) for key, value in params.items()}
    product = hd.ggn_vp(model, loss, params, v)
    np.testing.assert_allclose(operator.flatten(product), G @ operator.flatten(v), rtol=1e-10, atol=1e-12)
    # The spectral tools accept the GGN operator in place of f.
    top = hd.hessian_eigs(operator, k=2)
    np.testing.assert_allclose(top.values, np.linalg.eigvalsh(G)[::-1][:2], rtol=1e-8)
    np.testing.assert_allclose(operator.matmat(np.eye(operator.n)[:, :3]), G[:, :3], rtol=1e-10, atol=1e-12)


def test_findings_of_the_second_order_audit():
    # Each line failed before (the secondorder audit); references: closed forms of diagonal Hessians.
    c = np.linspace(1.0, 50.0, 50)
    # Lanczos stopped after one step for a Hessian of norm below ~1e-10; it is scale-invariant: the Ritz values of
    # 1e-12 H are 1e-12 times H's, in [1, 50]
    nodes = [hd.hessian_density(lambda x, s=scale: s * hnp.sum(c * x ** 2) / 2, np.zeros(50), runs=2,
                                steps=20).nodes / scale for scale in (1.0, 1e-12)]
    assert np.sum(~np.isnan(nodes[1])) == 40
    np.testing.assert_allclose(nodes[1], nodes[0], rtol=1e-8)
    assert 1.0 <= np.nanmin(nodes[1]) < 1.05 and 49.5 < np.nanmax(nodes[1]) <= 50.0
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    H = hd.hessian_operator(lambda x: 0.5 * x @ (A @ x), np.zeros(2))
    np.testing.assert_allclose(H @ np.array([1j, 2.0]), A @ np.array([1j, 2.0]), rtol=1e-14)  # imag was dropped
    np.testing.assert_allclose(H @ np.array([[1j], [1.0]]), A @ np.array([[1j], [1.0]]), rtol=1e-14)
    tree = hd.hessian_operator(lambda p: hnp.sum(p["a"] ** 2) + hnp.sum(p["b"] ** 2), {"a": np.zeros(2),
                                                                                        "b": np.zeros(2)})
    with pytest.raises(ValueError, match="leaf 0 of the pytree has shape \\(3,\\), x's has \\(2,\\)"):
        tree.hvp({"a": np.ones(3), "b": np.ones(1)})  # was re-split 2 + 2 silently
    with pytest.raises(ValueError, match="has shape \\(4,\\), got \\(5,\\)"):
        tree.unflatten(np.arange(5.0))
    sharded = hd.ShardedLoss(lambda p, shard, scale=1.0: scale * hnp.sum(shard * p ** 2), [np.ones(2)])
    with pytest.raises(TypeError, match="ShardedLoss takes the parameters only"):  # args were dropped
        hd.hessian_operator(sharded, np.ones(2), args=(10.0,))
    # value-only methods take no gradient: f need not be differentiable (it took value_and_grad of it)
    result = hd.minimize(lambda x: float(np.sum((np.asarray(x) - 1.0) ** 2)), np.zeros(2), method="Nelder-Mead")
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-3)
    with pytest.raises(ValueError, match="which='BE' .* k must be at least 2"):
        hd.hessian_eigs(lambda x: hnp.sum(x ** 2), np.zeros(2), k=1, which="BE")
    with pytest.raises(ValueError, match="grid_size=1 must be an integer >= 2"):
        hd.hessian_density(lambda x: hnp.sum(x ** 2), np.ones(3), grid_size=1)
    np.testing.assert_allclose(hd.minimize(lambda x: 0.5 * x @ x, [1.0, 2.0], method="BFGS").x, [0.0, 0.0],
                               atol=1e-8)  # a list x0 is scipy's array, not a pytree of scalars
