"""collapsed_taylor, laplacian, weighted_laplacian against sympy, trace(hessian), loops and central differences."""

import numpy as np
import pytest
import sympy as sp

import hodiff as hd
import hodiff.numpy as hnp

RNG = np.random.default_rng(14)


def _mlp(weights, x):
    h = x
    for w in weights[:-1]:
        h = hnp.tanh(h @ w)
    return (h @ weights[-1])[0]


WEIGHTS = [RNG.normal(size=(5, 7)) / 2, RNG.normal(size=(7, 4)) / 2, RNG.normal(size=(4, 1))]

s0, s1, s2 = sp.symbols("x0 x1 x2")
SYMS = (s0, s1, s2)
CASES = [
    (lambda x: x[0] ** 3 * x[1] ** 2 + x[2] ** 4, s0 ** 3 * s1 ** 2 + s2 ** 4),
    (lambda x: hnp.exp(x[0]) * hnp.sin(x[1]) * x[2], sp.exp(s0) * sp.sin(s1) * s2),
    (lambda x: hnp.sin(x[0] * x[1]) + hnp.exp(x[2] * x[0]), sp.sin(s0 * s1) + sp.exp(s2 * s0)),
    (lambda x: hnp.tanh(hnp.sum(x ** 2)), sp.tanh(s0 ** 2 + s1 ** 2 + s2 ** 2)),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_laplacian_matches_sympy(case):
    f, expr = CASES[case]
    x = np.array([0.3, -0.7, 1.1])
    exact = float(sum(sp.diff(expr, s, 2) for s in SYMS).subs(dict(zip(SYMS, x))))
    np.testing.assert_allclose(hd.laplacian(f)(x), exact, rtol=1e-12)


def test_collapsed_order3_matches_sympy():
    f, expr = CASES[2]
    x = np.array([0.3, -0.7, 1.1])
    dirs = RNG.normal(size=(4, 3))
    w = RNG.normal(size=4)
    t = sp.Symbol("t")
    exact = sum(wr * sp.diff(expr.subs({s: xi + t * vi for s, xi, vi in zip(SYMS, x, v)}), t, 3).subs(t, 0)
                for wr, v in zip(w, dirs))
    np.testing.assert_allclose(hd.collapsed_taylor(f, x, dirs, w, order=3), float(exact), rtol=1e-10)


def test_collapsed_order1_is_weighted_jvp():
    f = CASES[1][0]
    x = np.array([0.3, -0.7, 1.1])
    dirs, w = RNG.normal(size=(2, 3)), np.array([2.0, -1.0])
    expect = sum(wr * hd.jvp(f, (x,), (v,))[1] for wr, v in zip(w, dirs))
    np.testing.assert_allclose(hd.collapsed_taylor(f, x, dirs, w, order=1), expect, rtol=1e-12)


def test_laplacian_matches_trace_hessian_mlp():
    for _ in range(3):
        x = RNG.normal(size=5)
        f = lambda x: _mlp(WEIGHTS, x)  # noqa: E731
        np.testing.assert_allclose(hd.laplacian(f)(x), np.trace(hd.hessian(f)(x)), rtol=1e-10)


def test_weighted_laplacian_matches_trace():
    x, sigma = RNG.normal(size=5), RNG.normal(size=(5, 3))
    f = lambda x: _mlp(WEIGHTS, x)  # noqa: E731
    np.testing.assert_allclose(hd.weighted_laplacian(f, sigma)(x),
                               np.trace(sigma @ sigma.T @ hd.hessian(f)(x)), rtol=1e-10)


def test_vmap_matches_loop():
    xs = RNG.normal(size=(4, 5))
    f = lambda x: _mlp(WEIGHTS, x)  # noqa: E731
    np.testing.assert_allclose(hd.vmap(hd.laplacian(f))(xs), [hd.laplacian(f)(x) for x in xs], rtol=1e-12)


def test_float32_stays_float32():
    w32 = [w.astype(np.float32) for w in WEIGHTS]
    out = hd.laplacian(lambda x: _mlp(w32, x))(RNG.normal(size=5).astype(np.float32))
    assert np.asarray(out).dtype == np.float32


def test_grad_through_laplacian_matches_nested_and_finite_differences():
    x = RNG.normal(size=5)
    loss = lambda ws: hd.laplacian(lambda x: _mlp(ws, x))(x) ** 2  # noqa: E731
    nested = lambda ws: hnp.trace(hd.hessian(lambda x: _mlp(ws, x))(x)) ** 2  # noqa: E731
    g = hd.grad(loss)(WEIGHTS)
    g_nested = hd.grad(nested)(WEIGHTS)
    for a, b in zip(g, g_nested):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # central differences on a few entries of the last weight matrix
    h = 1e-5
    for i in range(4):
        wp = [w.copy() for w in WEIGHTS]
        wm = [w.copy() for w in WEIGHTS]
        wp[2][i, 0] += h
        wm[2][i, 0] -= h
        fd = (float(loss(wp)) - float(loss(wm))) / (2 * h)
        np.testing.assert_allclose(g[2][i, 0], fd, rtol=1e-6, atol=1e-8)


def test_non_scalar_f_is_refused():
    with pytest.raises(TypeError, match="laplacian: f must return a scalar"):
        hd.laplacian(lambda x: x ** 2)(np.ones(3))


def test_complex_and_pytree_points_are_refused_and_the_real_pair_gives_the_plane_operators():
    # The operators summed over real directions only: laplacian(|z|^2) at 1+1j was 2, the plane's is 4.
    for operator, name in [(hd.laplacian, "laplacian"), (hd.bilaplacian, "bilaplacian"),
                           (lambda f: hd.weighted_laplacian(f, np.eye(1)), "weighted_laplacian")]:
        with pytest.raises(TypeError, match=f"{name}: x is complex"):
            operator(lambda z: hnp.sum(hnp.abs(z) ** 2))(np.array([1.0 + 1.0j]))
        with pytest.raises(TypeError, match=f"{name}: x must be one real array .* got a dict"):
            operator(lambda p: hnp.sum(p["w"] ** 3))({"w": np.ones(1)})
    # the hint: f of z = a + ib in the real pair (a, b); Delta |z|^2 = 4, Delta^2 |z|^4 = 64 (Delta r^4 = 16 r^2)
    def modulus_power(k):
        return lambda v: hnp.abs(v[0] + 1j * v[1]) ** k

    assert float(hd.laplacian(modulus_power(2))(np.array([1.0, 1.0]))) == pytest.approx(4.0, rel=1e-12)
    assert float(hd.bilaplacian(modulus_power(4))(np.array([1.0, 1.0]))) == pytest.approx(64.0, rel=1e-12)


def test_wrong_sigma_shape_is_refused():
    with pytest.raises(ValueError, match="sigma must have shape"):
        hd.weighted_laplacian(lambda x: hnp.sum(x ** 2), np.ones((4, 2)))(np.ones(3))


def test_wrong_directions_and_weights_are_refused():
    with pytest.raises(ValueError, match="directions must have shape"):
        hd.collapsed_taylor(lambda x: hnp.sum(x), np.ones(3), np.ones((2, 4)))
    with pytest.raises(ValueError, match="weights must have shape"):
        hd.collapsed_taylor(lambda x: hnp.sum(x), np.ones(3), np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="order must be"):
        hd.collapsed_taylor(lambda x: hnp.sum(x), np.ones(3), np.ones((2, 3)), order=0)


def test_w9_benchmark_quick_run_agrees():
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "w9_laplacian.py"
    completed = subprocess.run([sys.executable, str(script), "--quick", "--no-time"],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.count("all routes agree") == 2


def test_other_transforms_through_laplacian_match_nested():
    f = CASES[1][0]
    x = np.array([0.3, 0.5, -0.2])
    nested = lambda x: hnp.trace(hd.hessian(f)(x))  # noqa: E731
    np.testing.assert_allclose(hd.grad(hd.laplacian(f))(x), hd.grad(nested)(x), rtol=1e-12)
    np.testing.assert_allclose(hd.jacfwd(hd.laplacian(f))(x), hd.grad(nested)(x), rtol=1e-12)
    np.testing.assert_allclose(hd.hessian(hd.laplacian(f))(x), hd.hessian(nested)(x), rtol=1e-10, atol=1e-12)


def test_grad_with_respect_to_sigma():
    f = CASES[2][0]
    x, sigma = np.array([0.3, 0.5, -0.2]), RNG.normal(size=(3, 2))
    g = hd.grad(lambda s: hd.weighted_laplacian(f, s)(x))(sigma)
    np.testing.assert_allclose(g, 2 * hd.hessian(f)(x) @ sigma, rtol=1e-10, atol=1e-12)


def test_output_independent_of_x_gives_zero():
    assert float(hd.laplacian(lambda x: hnp.sum(x))(np.ones(3))) == 0.0
    assert float(hd.laplacian(lambda x: 3.0)(np.ones(3))) == 0.0
