"""laplacian / weighted_laplacian method="stochastic" vs sympy, closed forms, reproduced draws, central differences."""

import warnings

import numpy as np
import pytest
import sympy as sp

import hodiff as hd
import hodiff.numpy as hnp

RNG = np.random.default_rng(1414)

s0, s1, s2 = sp.symbols("x0 x1 x2")
SYMS = (s0, s1, s2)
X = np.array([0.3, -0.7, 1.1])


def _f(x):
    return hnp.sin(x[0] * x[1]) + hnp.exp(x[2] * x[0]) + x[1] ** 2 * x[2]


EXPR = sp.sin(s0 * s1) + sp.exp(s2 * s0) + s1 ** 2 * s2


def _sympy_hessian(expr, point):
    hessian = sp.hessian(expr, SYMS).subs(dict(zip(SYMS, point)))
    return np.array(hessian.evalf(30), dtype=float)


H = _sympy_hessian(EXPR, X)
EXACT = float(np.trace(H))


def _mlp(weights, x):
    h = x
    for w in weights[:-1]:
        h = hnp.tanh(h @ w)
    return (h @ weights[-1])[0]


WEIGHTS = [RNG.normal(size=(4, 6)) / 2, RNG.normal(size=(6, 1))]


def test_rademacher_is_exact_for_a_diagonal_hessian():
    # f separable: H diagonal, v^T H v = sum_i H_ii for every v in {-1, 1}^D
    c = np.array([1.0, -2.0, 0.5, 3.0])
    x = np.array([0.4, -1.2, 2.0, 0.7])
    f = lambda x: hnp.sum(c * x ** 4 + hnp.sin(x))  # noqa: E731
    exact = float(np.sum(12 * c * x ** 2 - np.sin(x)))
    est = hd.laplacian(f, method="stochastic", samples=16, seed=5)(x)
    assert isinstance(est, hd.OperatorEstimate)
    np.testing.assert_allclose(est.estimate, exact, rtol=1e-13)
    np.testing.assert_allclose(est.samples, np.full(16, exact), rtol=1e-13)
    assert abs(float(est.stderr)) < 1e-12


def test_unbiased_within_four_stderr_and_stderr_matches_the_hutchinson_variance():
    # Rademacher: var(v^T H v) = 2 sum_{i != j} H_ij^2; Gaussian: 2 ||H||_F^2
    off = H - np.diag(np.diag(H))
    std_per_probe = {"rademacher": np.sqrt(2 * np.sum(off ** 2)), "gaussian": np.sqrt(2 * np.sum(H ** 2))}
    for distribution, std in std_per_probe.items():
        for samples in (400, 6400):
            est = hd.laplacian(_f, method="stochastic", samples=samples, seed=11, distribution=distribution)(X)
            stderr = float(est.stderr)
            assert abs(float(est.estimate) - EXACT) < 4 * stderr, (distribution, samples)
            # stderr shrinks like 1/sqrt(samples): stderr * sqrt(samples) is the per-probe std
            np.testing.assert_allclose(stderr * np.sqrt(samples), std, rtol=0.2 if samples == 400 else 0.06)


def test_probe_values_are_v_hessian_v_for_the_documented_draws():
    # documented: ONE call of np.random.default_rng(seed), shape (samples,) + x.shape
    x = np.array([[0.3, -0.4], [0.8, 0.2]])
    f = lambda x: hnp.sum(hnp.sin(x @ x)) + x[0, 1] * x[1, 0] ** 3  # noqa: E731
    dense = np.asarray(hd.hessian(f)(x)).reshape(4, 4)
    for distribution in ("rademacher", "gaussian"):
        rng = np.random.default_rng(7)
        if distribution == "rademacher":
            v = rng.choice(np.array([-1.0, 1.0]), size=(12, 2, 2))
        else:
            v = rng.standard_normal((12, 2, 2))
        flat = v.reshape(12, 4)
        expect = np.einsum("si,ij,sj->s", flat, dense, flat)
        est = hd.laplacian(f, method="stochastic", samples=12, seed=7, distribution=distribution)(x)
        np.testing.assert_allclose(est.samples, expect, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(est.estimate, expect.mean(), rtol=1e-11)
        np.testing.assert_allclose(est.stderr, expect.std(ddof=1) / np.sqrt(12), rtol=1e-10)


def test_rademacher_probes_are_those_of_hessian_trace():
    # an independent route: Hutchinson by HVPs on the same documented draws
    reference = hd.hessian_trace(_f, X, samples=20, seed=3)
    est = hd.laplacian(_f, method="stochastic", samples=20, seed=3)(X)
    np.testing.assert_allclose(est.samples, reference.samples, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(est.stderr, reference.stderr, rtol=1e-10)


def test_groups_give_the_same_estimate_and_group_means():
    per_probe = hd.laplacian(_f, method="stochastic", samples=60, seed=2)(X)
    for groups in (2, 5, 12, 60):
        est = hd.laplacian(_f, method="stochastic", samples=60, seed=2, groups=groups)(X)
        assert np.shape(est.samples) == (groups,)
        np.testing.assert_allclose(est.estimate, per_probe.estimate, rtol=1e-12, atol=1e-12)
        means = np.asarray(per_probe.samples).reshape(groups, 60 // groups).mean(axis=1)
        np.testing.assert_allclose(est.samples, means, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(est.stderr, means.std(ddof=1) / np.sqrt(groups), rtol=1e-10)


def test_one_group_has_a_nan_stderr():
    est = hd.laplacian(_f, method="stochastic", samples=30, seed=2, groups=1)(X)
    np.testing.assert_allclose(est.estimate, hd.laplacian(_f, method="stochastic", samples=30, seed=2)(X).estimate,
                               rtol=1e-12)
    assert np.isnan(est.stderr)
    assert np.isnan(hd.laplacian(_f, method="stochastic", samples=1)(X).stderr)


def test_all_groups_run_in_one_batched_pass():
    # vmap over the group axis traces f once, whatever the number of groups (not a Python loop)
    calls = []

    def f(x):
        calls.append(1)
        return _f(x)

    for groups in (1, 4, 40):
        calls.clear()
        hd.laplacian(f, method="stochastic", samples=40, groups=groups)(X)
        assert len(calls) == 1, groups


def test_weighted_laplacian_stochastic_against_the_closed_form():
    sigma = np.array([[1.0, 0.5], [-0.3, 2.0], [0.7, -1.1]])
    exact = float(np.sum(sigma * (H @ sigma)))  # tr(sigma sigma^T H) = sum_ij sigma_ij (H sigma)_ij
    np.testing.assert_allclose(hd.weighted_laplacian(_f, sigma)(X), exact, rtol=1e-12)
    for distribution in ("rademacher", "gaussian"):
        est = hd.weighted_laplacian(_f, sigma, method="stochastic", samples=4000, seed=4,
                                    distribution=distribution)(X)
        assert abs(float(est.estimate) - exact) < 4 * float(est.stderr), distribution
        rng = np.random.default_rng(4)
        v = rng.choice(np.array([-1.0, 1.0]), size=(4000, 2)) if distribution == "rademacher" \
            else rng.standard_normal((4000, 2))
        directions = v @ sigma.T
        np.testing.assert_allclose(est.samples, np.einsum("si,ij,sj->s", directions, H, directions),
                                   rtol=1e-10, atol=1e-10)


def test_weighted_rademacher_is_exact_when_sigma_t_h_sigma_is_diagonal():
    c = np.array([2.0, -1.0, 0.5])
    f = lambda x: hnp.sum(c * x ** 4)  # noqa: E731
    sigma = np.diag([1.0, 3.0, -2.0])
    exact = float(np.sum(12 * c * X ** 2 * np.diag(sigma) ** 2))
    est = hd.weighted_laplacian(f, sigma, method="stochastic", samples=10, groups=5)(X)
    np.testing.assert_allclose(est.estimate, exact, rtol=1e-13)
    assert abs(float(est.stderr)) < 1e-11


def _central_difference(function, weights, index, h=1e-5):
    plus = [w.copy() for w in weights]
    minus = [w.copy() for w in weights]
    plus[0][index] += h
    minus[0][index] -= h
    return (float(function(plus)) - float(function(minus))) / (2 * h)


def test_grad_of_the_estimate_and_stderr_against_central_differences():
    x = np.array([0.5, -0.2, 0.9, 0.1])

    def estimate(ws):
        return hd.laplacian(lambda x: _mlp(ws, x), method="stochastic", samples=12, seed=9, groups=4)(x)

    def loss(ws):
        est = estimate(ws)
        return est.estimate ** 2 + 3.0 * est.stderr

    assert float(estimate(WEIGHTS).stderr) > 1e-3  # the stderr term is differentiable here
    gradient = hd.grad(loss)(WEIGHTS)
    for index in [(0, 0), (1, 3), (3, 5), (2, 2)]:
        fd = _central_difference(loss, WEIGHTS, index)
        np.testing.assert_allclose(gradient[0][index], fd, rtol=1e-6, atol=1e-8)
    # and the grad of the estimate is the mean of the per-probe grads v^T (dH/dw) v, by the nested route
    rng = np.random.default_rng(9)
    v = rng.choice(np.array([-1.0, 1.0]), size=(12, 4))
    nested = lambda ws: hnp.mean(hnp.einsum("si,ij,sj->s", v, hd.hessian(lambda x: _mlp(ws, x))(x), v))  # noqa: E731
    got = hd.grad(lambda ws: estimate(ws).estimate)(WEIGHTS)
    for a, b in zip(got, hd.grad(nested)(WEIGHTS)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_grad_of_a_pinn_style_loss_over_a_batch_of_points():
    # loss = sum over points of the seeded estimate squared, batched with vmap, differentiated w.r.t. the weights
    points = np.random.default_rng(8).normal(size=(5, 4))

    def loss(ws):
        lap = hd.laplacian(lambda x: _mlp(ws, x), method="stochastic", samples=8, seed=2, groups=4)
        return hnp.sum(hd.vmap(lap)(points).estimate ** 2)

    gradient = hd.grad(loss)(WEIGHTS)
    for index in [(0, 1), (2, 4), (3, 0)]:
        np.testing.assert_allclose(gradient[0][index], _central_difference(loss, WEIGHTS, index), rtol=1e-6,
                                   atol=1e-8)


def test_a_zero_stderr_has_derivative_zero_not_nan():
    # Rademacher on a diagonal Hessian: every probe value equal, stderr = 0 for every parameter a
    x = np.array([0.4, -1.2, 2.0])

    def stderr(a):
        return hd.laplacian(lambda x: a * hnp.sum(x ** 4) + hnp.sum(hnp.sin(a * x)), method="stochastic",
                            samples=6, seed=1)(x).stderr

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(stderr(0.7)) == 0.0
        assert float(hd.grad(stderr)(0.7)) == 0.0
    # away from zero the derivative is that of std(values, ddof=1) / sqrt(G): central differences
    g = lambda a: hd.laplacian(lambda x: hnp.sin(a * x[0] * x[1]) + x[2] ** 3, method="stochastic",  # noqa: E731
                               samples=6, seed=1)(x).stderr
    h = 1e-6
    np.testing.assert_allclose(hd.grad(g)(0.7), (float(g(0.7 + h)) - float(g(0.7 - h))) / (2 * h), rtol=1e-6)


def test_grad_with_respect_to_sigma():
    sigma = np.array([[1.0, 0.5], [-0.3, 2.0], [0.7, -1.1]])
    v = np.random.default_rng(6).choice(np.array([-1.0, 1.0]), size=(8, 2))
    # d/dsigma mean_s (sigma v_s)^T H (sigma v_s) = 2 H sigma mean_s v_s v_s^T
    expect = 2 * H @ sigma @ (v.T @ v / 8)
    got = hd.grad(lambda s: hd.weighted_laplacian(_f, s, method="stochastic", samples=8, seed=6)(X).estimate)(sigma)
    np.testing.assert_allclose(got, expect, rtol=1e-10, atol=1e-12)


def test_vmap_over_points_equals_a_loop():
    points = np.array([[0.3, -0.7, 1.1], [1.0, 0.2, -0.5], [-0.4, 0.9, 0.6]])
    lap = hd.laplacian(_f, method="stochastic", samples=16, seed=1, groups=8)
    batched = hd.vmap(lap)(points)
    assert isinstance(batched, hd.OperatorEstimate)
    looped = [lap(p) for p in points]
    for field in hd.OperatorEstimate._fields:
        np.testing.assert_allclose(getattr(batched, field), [getattr(e, field) for e in looped], rtol=1e-12,
                                   atol=1e-14)
    assert np.all(np.asarray(batched.stderr) > 0)
    # each point's estimate is unbiased for its own Laplacian: check the loop against sympy
    for p, e in zip(points, looped):
        rng = np.random.default_rng(1)
        v = rng.choice(np.array([-1.0, 1.0]), size=(16, 3))
        np.testing.assert_allclose(e.estimate, np.mean(np.einsum("si,ij,sj->s", v, _sympy_hessian(EXPR, p), v)),
                                   rtol=1e-11)


def test_float32_stays_float32_and_exact_is_unchanged():
    x32 = X.astype(np.float32)
    est = hd.laplacian(_f, method="stochastic", samples=8, groups=4)(x32)
    assert all(np.asarray(field).dtype == np.float32 for field in est)
    exact = hd.laplacian(_f)(X)
    assert not isinstance(exact, tuple)
    np.testing.assert_allclose(exact, EXACT, rtol=1e-12)
    np.testing.assert_allclose(hd.laplacian(_f, method="exact")(X), EXACT, rtol=1e-12)


def test_an_output_independent_of_x_gives_zero():
    for f in (lambda x: 3.0, lambda x: hnp.sum(2.0 * x)):
        est = hd.laplacian(f, method="stochastic", samples=6, groups=3)(X)
        np.testing.assert_array_equal(est.samples, np.zeros(3))
        assert float(est.estimate) == 0.0 and float(est.stderr) == 0.0


def test_a_generator_seed_draws_fresh_probes_and_an_integer_seed_repeats():
    lap = hd.laplacian(_f, method="stochastic", samples=8, seed=np.random.default_rng(0))
    first, second = lap(X), lap(X)
    assert not np.allclose(first.samples, second.samples)
    lap = hd.laplacian(_f, method="stochastic", samples=8, seed=12)
    np.testing.assert_array_equal(lap(X).samples, lap(X).samples)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(method="hutchinson"), ValueError, "method='hutchinson'"),
    (dict(method=None), ValueError, "method=None"),
    (dict(method="stochastic", distribution="uniform"), ValueError, "distribution='uniform'"),
    (dict(method="stochastic", samples=0), ValueError, "samples=0"),
    (dict(method="stochastic", samples=2.5), TypeError, "samples=2.5"),
    (dict(method="stochastic", samples=True), TypeError, "samples=True"),
    (dict(method="stochastic", samples=10, groups=3), ValueError, "groups=3 must divide samples=10"),
    (dict(method="stochastic", samples=10, groups=0), ValueError, "groups=0"),
    (dict(method="stochastic", samples=10, groups=20), ValueError, "groups=20"),
    (dict(method="stochastic", samples=10, groups=2.0), TypeError, "groups=2.0"),
    (dict(method="stochastic", seed=-1), TypeError, "seed=-1"),
    (dict(method="stochastic", seed="abc"), TypeError, "seed='abc'"),
])
def test_bad_arguments_are_refused_by_name(kwargs, error, match):
    with pytest.raises(error, match=match):
        hd.laplacian(_f, **kwargs)
    with pytest.raises(error, match=match):
        hd.weighted_laplacian(_f, np.eye(3), **kwargs)


def test_errors_name_the_operator():
    with pytest.raises(ValueError, match="^weighted_laplacian: distribution"):
        hd.weighted_laplacian(_f, np.eye(3), method="stochastic", distribution="normal")
    with pytest.raises(TypeError, match="laplacian: f must return a scalar"):
        hd.laplacian(lambda x: x ** 2, method="stochastic", samples=4)(X)
