"""hessian_diagonal: exact against sympy, stochastic (Bekas et al.) against sympy and its own statistics.

References we did not write: sympy's second (and third) derivatives, central differences, the
per-probe values v * (H v) recomputed in numpy from sympy's Hessian; the dense hodiff Hessian only
as a second check.
"""

import numpy as np
import pytest
import sympy as sp

import hodiff as hd
import hodiff.numpy as hnp

from .test_dtypes import computed_in_input_precision

RNG = np.random.default_rng(144)
SYMS = sp.symbols("x0:4")
s0, s1, s2, s3 = SYMS

# nonpolynomial, coupled (off-diagonal Hessian entries), each entry of x in its domain
CASES = {
    "exp*sin*x": (lambda x: hnp.exp(x[0]) * hnp.sin(x[1]) * x[2] + hnp.log(1 + x[3] ** 2),
                  sp.exp(s0) * sp.sin(s1) * s2 + sp.log(1 + s3 ** 2)),
    "sin(x0 x1)+exp(x2 x0)": (lambda x: hnp.sin(x[0] * x[1]) + hnp.exp(x[2] * x[0]) + hnp.arctan(x[3] * x[1]),
                              sp.sin(s0 * s1) + sp.exp(s2 * s0) + sp.atan(s3 * s1)),
    "tanh(|x|^2)": (lambda x: hnp.tanh(hnp.sum(x ** 2)), sp.tanh(s0 ** 2 + s1 ** 2 + s2 ** 2 + s3 ** 2)),
    "logsumexp": (lambda x: hnp.log(hnp.sum(hnp.exp(x * np.array([1.0, -2.0, 0.5, 3.0])))),
                  sp.log(sp.exp(s0) + sp.exp(-2 * s1) + sp.exp(s2 / 2) + sp.exp(3 * s3))),
    "sqrt/(1+x^2)": (lambda x: hnp.sqrt(2 + x[0] * x[1] + x[2] ** 2) / (1 + x[3] ** 2) + hnp.cos(x[0]) * x[3],
                     sp.sqrt(2 + s0 * s1 + s2 ** 2) / (1 + s3 ** 2) + sp.cos(s0) * s3),
}
X = np.array([0.3, -0.7, 1.1, 0.45])


def _sympy_hessian(expr, point, syms=SYMS):
    values = dict(zip(syms, point.ravel()))
    return np.array([[float(sp.diff(expr, a, b).subs(values)) for b in syms] for a in syms])


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_matches_sympy(name):
    f, expr = CASES[name]
    expect = np.diag(_sympy_hessian(expr, X))
    assert np.any(_sympy_hessian(expr, X) - np.diag(expect) != 0)  # the cases are coupled
    np.testing.assert_allclose(hd.hessian_diagonal(f)(X), expect, rtol=1e-12, atol=1e-14)


def _mlp(weights, x):
    h = x
    for w in weights[:-1]:
        h = hnp.tanh(h @ w)
    return (h @ weights[-1])[0]


MLP = [RNG.normal(size=(50, 32)) / 7, RNG.normal(size=(32, 16)) / 5, RNG.normal(size=(16, 1))]


def test_exact_matches_the_dense_hessian_on_an_mlp_of_input_size_50():
    x = RNG.normal(size=50)
    f = lambda x: _mlp(MLP, x)  # noqa: E731
    diagonal = hd.hessian_diagonal(f)(x)
    dense = np.diag(hd.hessian(f)(x))
    assert diagonal.shape == (50,)
    np.testing.assert_allclose(diagonal, dense, rtol=1e-11, atol=1e-14 * np.max(np.abs(dense)))
    # and one entry against central differences of the gradient's own entry (independent of both)
    h = 1e-5
    step = np.eye(50)[17] * h
    central = (hd.grad(f)(x + step)[17] - hd.grad(f)(x - step)[17]) / (2 * h)
    np.testing.assert_allclose(diagonal[17], central, rtol=1e-6)


def test_x_of_shape_2_by_3_matches_sympy():
    syms = sp.symbols("y0:6")
    expr = sp.sin(syms[0] * syms[4]) * sp.exp(syms[2]) + sp.log(2 + syms[1] ** 2 * syms[3]) + sp.tanh(syms[5] * syms[0])

    def f(x):
        return (hnp.sin(x[0, 0] * x[1, 1]) * hnp.exp(x[0, 2]) + hnp.log(2 + x[0, 1] ** 2 * x[1, 0])
                + hnp.tanh(x[1, 2] * x[0, 0]))

    x = np.array([[0.3, -0.7, 0.2], [1.1, 0.45, -0.8]])
    expect = np.diag(_sympy_hessian(expr, x, syms)).reshape(2, 3)
    exact = hd.hessian_diagonal(f)(x)
    assert exact.shape == (2, 3)
    np.testing.assert_allclose(exact, expect, rtol=1e-12, atol=1e-14)
    estimate = hd.hessian_diagonal(f, "stochastic", samples=64)(x)
    assert estimate.diagonal.shape == estimate.stderr.shape == (2, 3)
    assert estimate.samples.shape == (64, 2, 3)


def test_a_pytree_x_gives_a_pytree_diagonal():
    f, expr = CASES["sin(x0 x1)+exp(x2 x0)"]
    expect = np.diag(_sympy_hessian(expr, X))
    tree = {"a": X[:1], "b": X[1:].reshape(3, 1)}
    g = lambda p: f(hnp.concatenate([p["a"], hnp.reshape(p["b"], (3,))]))  # noqa: E731
    diagonal = hd.hessian_diagonal(g)(tree)
    np.testing.assert_allclose(diagonal["a"], expect[:1], rtol=1e-12)
    np.testing.assert_allclose(diagonal["b"], expect[1:].reshape(3, 1), rtol=1e-12)
    estimate = hd.hessian_diagonal(g, "stochastic", samples=8)(tree)
    assert estimate.samples["a"].shape == (8, 1) and estimate.samples["b"].shape == (8, 3, 1)


@pytest.mark.parametrize("block", [1, 3, 256])
def test_the_block_size_changes_nothing(block):
    f, expr = CASES["logsumexp"]
    np.testing.assert_allclose(hd.hessian_diagonal(f, block=block)(X), np.diag(_sympy_hessian(expr, X)),
                               rtol=1e-12)
    reference = hd.hessian_diagonal(f, "stochastic", samples=10, block=256)(X)
    estimate = hd.hessian_diagonal(f, "stochastic", samples=10, block=block)(X)
    np.testing.assert_allclose(estimate.samples, reference.samples, rtol=1e-13)


def test_args_and_kwargs_are_passed_to_f():
    f = lambda x, a, scale=1.0: scale * hnp.sum(hnp.sin(a * x))  # noqa: E731  H_ii = -scale a^2 sin(a x_i)
    out = hd.hessian_diagonal(f, args=(2.0,), kwargs={"scale": 3.0})(X)
    np.testing.assert_allclose(out, -3.0 * 4.0 * np.sin(2.0 * X), rtol=1e-13)
    estimate = hd.hessian_diagonal(f, "stochastic", samples=4, args=(2.0,), kwargs={"scale": 3.0})(X)
    np.testing.assert_allclose(estimate.diagonal, -3.0 * 4.0 * np.sin(2.0 * X), rtol=1e-13)


# ----------------------------------------------------------------- float32


@pytest.mark.parametrize("method", ["exact", "stochastic"])
def test_float32_stays_float32(method):
    f, _ = CASES["sin(x0 x1)+exp(x2 x0)"]
    x32 = X.astype(np.float32)
    with computed_in_input_precision() as widened:
        out32 = hd.hessian_diagonal(f, method, samples=16)(x32)
    assert not widened, widened[:4]
    out64 = hd.hessian_diagonal(f, method, samples=16)(X)
    fields32 = out32 if method == "stochastic" else (out32,)
    fields64 = out64 if method == "stochastic" else (out64,)
    for a, b in zip(fields32[:3], fields64[:3]):
        assert np.asarray(a).dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_a_float32_leaf_beside_a_float64_leaf_stays_float32():
    tree = {"a": np.array([1.0, 2.0], np.float32), "b": np.array([0.5])}
    g = lambda p: hnp.sum(p["a"] ** 3) * hnp.sum(hnp.sin(p["b"]))  # noqa: E731
    diagonal = hd.hessian_diagonal(g)(tree)
    assert (diagonal["a"].dtype, diagonal["b"].dtype) == (np.float32, np.float64)
    np.testing.assert_allclose(diagonal["a"], 6 * np.array([1.0, 2.0]) * np.sin(0.5), rtol=1e-6)
    np.testing.assert_allclose(diagonal["b"], -9 * np.sin(0.5), rtol=1e-12)
    estimate = hd.hessian_diagonal(g, "stochastic", samples=4)(tree)
    assert [estimate.diagonal["a"].dtype, estimate.stderr["a"].dtype, estimate.samples["a"].dtype] == [np.float32] * 3
    assert estimate.samples["b"].dtype == np.float64


# ----------------------------------------------------------------- stochastic


def test_stochastic_is_exact_for_a_diagonal_hessian():
    f = lambda x: hnp.sum(hnp.exp(x) * hnp.sin(x)) + hnp.sum(x ** 4)  # noqa: E731  separable
    expect = 2 * np.exp(X) * np.cos(X) + 12 * X ** 2                    # (e^x sin x)'' + 12 x^2
    estimate = hd.hessian_diagonal(f, method="stochastic", samples=5, seed=3)(X)
    assert isinstance(estimate, hd.DiagonalEstimate)
    np.testing.assert_allclose(estimate.diagonal, expect, rtol=1e-13)
    np.testing.assert_allclose(estimate.samples, np.broadcast_to(expect, (5, 4)), rtol=1e-13)
    # equal probe values: exactly their value, exactly no spread
    np.testing.assert_array_equal(estimate.diagonal, estimate.samples[0])
    np.testing.assert_array_equal(estimate.stderr, 0.0)


def test_the_stderr_of_a_diagonal_hessian_has_derivative_zero_not_nan():
    def stderr(a):
        return hnp.sum(hd.hessian_diagonal(lambda y: hnp.sum(hnp.sin(a * y)), "stochastic", samples=4)(X).stderr)

    assert stderr(0.8) == 0.0
    assert hd.grad(stderr)(0.8) == 0.0


def test_probe_values_are_v_times_hv_with_rademacher_probes_from_the_seed():
    f, expr = CASES["sqrt/(1+x^2)"]
    H = _sympy_hessian(expr, X)
    estimate = hd.hessian_diagonal(f, method="stochastic", samples=12, seed=7)(X)
    probes = np.random.default_rng(7).choice(np.array([-1.0, 1.0]), size=(12, 4))
    np.testing.assert_allclose(estimate.samples, probes * (probes @ H), rtol=1e-12, atol=1e-14)
    # the same probes as hessian_trace(seed=7): each probe value's entries sum to v^T H v
    trace = hd.hessian_trace(f, X, samples=12, seed=7)
    np.testing.assert_allclose(estimate.samples.sum(axis=1), trace.samples, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_stochastic_is_within_four_stderr_of_exact(name):
    f, expr = CASES[name]
    H = _sympy_hessian(expr, X)
    estimate = hd.hessian_diagonal(f, method="stochastic", samples=200, seed=0)(X)
    error = np.abs(estimate.diagonal - np.diag(H))
    # (+ rounding: an uncoupled entry has stderr ~ 0)
    assert np.all(error <= 4 * estimate.stderr + 1e-12 * np.abs(np.diag(H))), (error, estimate.stderr)
    # the stderr is the probe values' own: std(ddof=1) / sqrt(m), and the estimate their mean
    np.testing.assert_allclose(estimate.diagonal, estimate.samples.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(estimate.stderr, estimate.samples.std(axis=0, ddof=1) / np.sqrt(200), rtol=1e-12,
                               atol=1e-14)
    # and the per-probe variance is sum_{j != i} H_ij^2 (Rademacher), so stderr ~ that / sqrt(m)
    offdiagonal = np.sqrt(np.sum(H ** 2, axis=1) - np.diag(H) ** 2) / np.sqrt(200)
    np.testing.assert_allclose(estimate.stderr, offdiagonal, rtol=0.25, atol=1e-12)
    assert estimate.matvecs == 200


def test_stderr_shrinks_with_samples():
    f, _ = CASES["sin(x0 x1)+exp(x2 x0)"]
    few = hd.hessian_diagonal(f, method="stochastic", samples=16, seed=1)(X)
    many = hd.hessian_diagonal(f, method="stochastic", samples=1024, seed=1)(X)
    assert (few.matvecs, many.matvecs) == (16, 1024)
    assert few.samples.shape == (16, 4) and many.samples.shape == (1024, 4)
    assert np.all(many.stderr < few.stderr)
    ratio = np.mean(few.stderr) / np.mean(many.stderr)  # sqrt(1024 / 16) = 8 in expectation
    assert 4 < ratio < 16, ratio


def test_an_integer_seed_repeats_and_a_generator_draws_fresh_probes():
    f, _ = CASES["exp*sin*x"]
    first = hd.hessian_diagonal(f, "stochastic", samples=6, seed=11)(X)
    np.testing.assert_array_equal(first.samples, hd.hessian_diagonal(f, "stochastic", samples=6, seed=11)(X).samples)
    rng = np.random.default_rng(11)
    diagonal = hd.hessian_diagonal(f, "stochastic", samples=6, seed=rng)
    a, b = diagonal(X), diagonal(X)
    np.testing.assert_array_equal(a.samples, first.samples)  # default_rng(Generator) is that generator
    assert not np.array_equal(a.samples, b.samples)


# ----------------------------------------------------------------- differentiable


def test_grad_of_the_exact_diagonal_with_respect_to_a_parameter_matches_central_differences():
    x = X[:3]

    def loss(a):
        g = lambda y: hnp.tanh(a * y[0] * y[1]) + a * hnp.sin(y[2]) * y[0] + hnp.exp(a * y[1] * y[2])  # noqa: E731
        return hnp.sum(hd.hessian_diagonal(g)(x) * np.array([1.0, -2.0, 0.5]))

    h = 1e-5
    central = (loss(0.8 + h) - loss(0.8 - h)) / (2 * h)
    np.testing.assert_allclose(hd.grad(loss)(0.8), central, rtol=1e-7)
    # and the value itself against sympy at a = 0.8
    a = sp.Rational(4, 5)
    expr = sp.tanh(a * s0 * s1) + a * sp.sin(s2) * s0 + sp.exp(a * s1 * s2)
    expect = np.diag(_sympy_hessian(expr, x, SYMS[:3])) @ np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(loss(0.8), expect, rtol=1e-12)


def test_grad_of_the_diagonal_with_respect_to_x_is_sympys_third_derivative():
    f, expr = CASES["sin(x0 x1)+exp(x2 x0)"]
    values = dict(zip(SYMS, X))
    expect = np.array([float(sum(sp.diff(expr, s, s, t) for s in SYMS).subs(values)) for t in SYMS])
    np.testing.assert_allclose(hd.grad(lambda x: hnp.sum(hd.hessian_diagonal(f)(x)))(X), expect, rtol=1e-11)


def test_grad_of_the_stochastic_diagonal_matches_central_differences():
    x = X[:3]

    def loss(a):
        g = lambda y: hnp.tanh(a * y[0] * y[1]) + hnp.exp(a * y[1] * y[2])  # noqa: E731
        estimate = hd.hessian_diagonal(g, "stochastic", samples=6, seed=2)(x)
        return hnp.sum(estimate.diagonal) + hnp.sum(estimate.stderr)

    h = 1e-5
    central = (loss(0.8 + h) - loss(0.8 - h)) / (2 * h)
    np.testing.assert_allclose(hd.grad(loss)(0.8), central, rtol=1e-6)


def test_vmap_over_points_is_a_loop():
    f, _ = CASES["tanh(|x|^2)"]
    points = 0.4 * RNG.normal(size=(3, 4))  # |x|^2 ~ 0.6: away from tanh's saturation (cancellation)
    batched = hd.vmap(hd.hessian_diagonal(f))(points)
    np.testing.assert_allclose(batched, [hd.hessian_diagonal(f)(p) for p in points], rtol=1e-12, atol=1e-14)
    estimates = hd.vmap(hd.hessian_diagonal(f, "stochastic", samples=8))(points)
    assert estimates.diagonal.shape == (3, 4) and estimates.samples.shape == (3, 8, 4)
    for point, diagonal in zip(points, estimates.diagonal):
        np.testing.assert_allclose(diagonal, hd.hessian_diagonal(f, "stochastic", samples=8)(point).diagonal,
                                   rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------- operators in place of f


def test_a_hessian_operator_in_place_of_f():
    f, expr = CASES["exp*sin*x"]
    H = _sympy_hessian(expr, X)
    operator = hd.hessian_operator(f, X)
    np.testing.assert_allclose(hd.hessian_diagonal(operator)(), np.diag(H), rtol=1e-12)
    np.testing.assert_allclose(hd.hessian_diagonal(operator, block=3)(), np.diag(H), rtol=1e-12)
    estimate = hd.hessian_diagonal(operator, "stochastic", samples=12, seed=7)()
    probes = np.random.default_rng(7).choice(np.array([-1.0, 1.0]), size=(12, 4))
    np.testing.assert_allclose(estimate.samples, probes * (probes @ H), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(estimate.stderr, estimate.samples.std(axis=0, ddof=1) / np.sqrt(12), rtol=1e-12)
    assert estimate.matvecs == 12


def test_a_ggn_operator_in_place_of_f():
    A = RNG.normal(size=(5, 3))
    params = {"w": RNG.normal(size=3), "b": np.array([0.2])}
    model = lambda p: hnp.tensordot(A, p["w"], axes=1) + p["b"]  # noqa: E731
    loss = lambda z: hnp.sum(hnp.log(1 + hnp.exp(z)))  # noqa: E731  H_loss = diag(s (1 - s))
    z = A @ params["w"] + params["b"]
    s = 1 / (1 + np.exp(-z))
    J = np.concatenate([np.ones((5, 1)), A], axis=1)  # flat layout: leaves in sorted key order, b then w
    G = J.T @ np.diag(s * (1 - s)) @ J
    diagonal = hd.hessian_diagonal(hd.ggn_operator(model, loss, params))()
    np.testing.assert_allclose(diagonal["b"], np.diag(G)[:1], rtol=1e-12)
    np.testing.assert_allclose(diagonal["w"], np.diag(G)[1:], rtol=1e-12)


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize("keywords, error, words", [
    ({"method": "hutchinson"}, ValueError, "method='hutchinson'"),
    ({"method": None}, ValueError, "method=None"),
    ({"samples": 1}, ValueError, "samples=1"),
    ({"samples": 2.5}, TypeError, "samples=2.5"),
    ({"samples": True}, TypeError, "samples=True"),
    ({"seed": -1}, TypeError, "seed=-1"),
    ({"seed": "zero"}, TypeError, "seed='zero'"),
    ({"block": 0}, ValueError, "block=0"),
])
def test_bad_keywords_are_refused_naming_them(keywords, error, words):
    f, _ = CASES["exp*sin*x"]
    method = keywords.pop("method", "stochastic")
    with pytest.raises(error, match="hessian_diagonal: " + words.replace("(", r"\(").replace(".", r"\.")):
        hd.hessian_diagonal(f, method, **keywords)


@pytest.mark.parametrize("method", ["exact", "stochastic"])
def test_a_non_scalar_f_is_refused(method):
    with pytest.raises(TypeError, match=r"hessian_diagonal: f must return a scalar, got an output of shape \(4,\)"):
        hd.hessian_diagonal(lambda x: hnp.sin(x), method)(X)


def test_a_missing_or_integer_x_is_refused():
    f, _ = CASES["exp*sin*x"]
    with pytest.raises(TypeError, match="hessian_diagonal: x is missing"):
        hd.hessian_diagonal(f)()
    with pytest.raises(TypeError, match="hessian_diagonal requires real"):
        hd.hessian_diagonal(f)(np.array([1, 2, 3, 4]))


# --- the sparse route: one HVP per colour of H's pattern (n >= 64, untraced x) ---

def _chain(x):
    return hnp.sum((x[1:] - x[:-1] ** 2) ** 2) + hnp.sum(hnp.sin(x) * x)


def _arrowhead(x):
    return x[0] * hnp.sum(x ** 2) + hnp.sum(hnp.cos(x))


def _stencil(x):
    u = hnp.reshape(x, (12, 12))
    return hnp.sum((u[1:] - u[:-1]) ** 2 * u[1:]) + hnp.sum((u[:, 1:] - u[:, :-1]) ** 2) + hnp.sum(hnp.cos(u))


def _separable(x):
    return hnp.sum(hnp.exp(hnp.sin(x)))


@pytest.mark.parametrize("f", [_chain, _arrowhead, _stencil, _separable])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_route_equals_the_dense_diagonal(f, dtype):
    x = np.random.default_rng(3).normal(size=144).astype(dtype)
    diagonal = hd.hessian_diagonal(f)(x)
    dense = np.diag(hd.hessian(f)(x.astype(np.float64)))
    assert diagonal.dtype == dtype and diagonal.shape == x.shape
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(diagonal, dense, rtol=tol, atol=tol * np.abs(dense).max())


def test_sparse_route_detects_once_and_spends_one_hvp_per_colour(monkeypatch):
    from hodiff import secondorder

    detections, seeds = [], []
    real_sparsity, real_hvp = secondorder.hessian_sparsity, secondorder.hvp
    monkeypatch.setattr(secondorder, "hessian_sparsity", lambda f: detections.append(1) or real_sparsity(f))
    monkeypatch.setattr(secondorder, "hvp", lambda f, x, v: seeds.append(1) or real_hvp(f, x, v))
    diagonal = hd.hessian_diagonal(_chain)
    x = np.random.default_rng(4).normal(size=500)
    first, second = diagonal(x), diagonal(x + 1)
    assert len(detections) == 1  # the pattern is global: found once per shape and dtype
    assert len(seeds) == 2  # one vmapped HVP per call (2 colours for a tridiagonal H), not 500
    np.testing.assert_allclose(second, np.diag(hd.hessian(_chain)(x + 1)), rtol=1e-12)
    np.testing.assert_allclose(first, np.diag(hd.hessian(_chain)(x)), rtol=1e-12)


def test_undetectable_pattern_and_traced_x_use_the_unit_vectors():
    def branching(x):  # value-dependent control flow: no global pattern
        return hnp.sum(x ** 3) if x[0] > 0 else hnp.sum(x ** 4)

    x = np.abs(np.random.default_rng(5).normal(size=80)) + 0.1
    np.testing.assert_allclose(hd.hessian_diagonal(branching)(x), 6 * x, rtol=1e-12)
    # under grad, x is traced: the diagonal stays differentiable (d/dx_i of H_ii of the chain)
    g = hd.grad(lambda y: hnp.sum(hd.hessian_diagonal(_chain)(y)))(x)
    reference = hd.grad(lambda y: hnp.trace(hd.hessian(_chain)(y)))(x)
    np.testing.assert_allclose(g, reference, rtol=1e-10)
