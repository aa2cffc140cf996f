"""Forward mode (issue 3): Duals, nesting without perturbation confusion, batched tangents."""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp


def test_dual_has_primal_and_tangent_and_operators():
    x = hd.Dual(2.0, 1.0)
    y = x * x + 3.0 * x - 1.0 / x
    assert y.primal == pytest.approx(4 + 6 - 0.5)
    assert y.tangent == pytest.approx(2 * 2 + 3 + 1 / 4)


def test_duals_on_one_perturbation_share_it_and_untagged_ones_do_not():
    eps = hd.Perturbation()
    x = hd.Dual(2.0, 1.0, tag=eps)
    y = hd.Dual(5.0, 0.0, tag=eps)
    assert (x * y).tangent == 5.0
    # Untagged duals are two perturbations: the later (y) is inner, so .tangent is d/dy, a dual in x.
    x, y = hd.Dual(2.0, 1.0), hd.Dual(5.0, 1.0)
    assert ((x * y).tangent.primal, (x * y).tangent.tangent) == (2.0, 1.0)


def test_nested_jvp_confusion_pattern():
    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x
    def inner(x):
        return hd.jvp(lambda y: x * y, (3.0,), (1.0,))[1]

    assert hd.jvp(lambda x: x * inner(x), (1.5,), (1.0,))[1] == pytest.approx(3.0)


def test_function_closing_over_an_outer_dual():
    outer = hd.Dual(0.5, 1.0, tag="outer")

    def g(t):
        return hnp.sin(outer * t)

    # d/dt sin(outer t) at t=2 = outer cos(2 outer); its tangent in outer's direction:
    # d/douter [outer cos(2 outer)] = cos(2 outer) - 2 outer sin(2 outer)
    derivative = hd.jvp(g, (2.0,), (1.0,))[1]
    assert derivative.primal == pytest.approx(0.5 * np.cos(1.0))
    assert derivative.tangent == pytest.approx(np.cos(1.0) - 1.0 * np.sin(1.0))


def test_hyper_duals_give_second_derivative_of_tensordot_expression():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    x0 = np.array([0.3, -0.2])
    v = np.array([1.0, 0.5])
    inner = hd.Dual(x0, v, tag="first")
    outer = hd.Dual(inner, hd.Dual(v, np.zeros(2), tag="first"), tag="second")

    y = hnp.sum(hnp.tanh(hnp.tensordot(a, outer, axes=1)) ** 2)
    # v^T H v of f(x) = sum tanh(Ax)^2, by the analytic Hessian
    z = a @ x0
    t = np.tanh(z)
    s = 1 - t ** 2
    d2 = 2 * (s ** 2) - 4 * t ** 2 * s  # second derivative of tanh(z)^2 in z
    expected = (a @ v) @ (d2 * (a @ v))
    assert y.tangent.tangent == pytest.approx(expected)


def test_batched_tangents_give_the_jacobian_in_one_pass():
    a = np.random.default_rng(0).standard_normal((4, 3))
    x = np.array([0.1, -0.4, 0.7])
    d = hd.Dual(x, np.eye(3), batched=True)
    y = hnp.tanh(hnp.tensordot(a, d, axes=1))
    jacobian_columns = y.tangent  # (3 directions, 4 outputs)
    expected = (1 - np.tanh(a @ x) ** 2)[:, None] * a
    np.testing.assert_allclose(jacobian_columns.T, expected, rtol=1e-12)


def test_forward_over_reverse_and_reverse_over_forward_and_both_pure():
    f = lambda x: hnp.sum(hnp.exp(x) * hnp.sin(x))
    x = np.array([0.2, -0.3])
    v = np.array([1.0, 2.0])
    hessian = np.diag(2 * np.exp(x) * np.cos(x))  # (e^x sin x)'' = 2 e^x cos x
    expected = hessian @ v
    fwd_rev = hd.jvp(hd.grad(f), (x,), (v,))[1]
    rev_fwd = hd.grad(lambda x: hd.jvp(f, (x,), (v,))[1])(x)
    rev_rev = hd.grad(lambda x: hnp.sum(hd.grad(f)(x) * v))(x)
    fwd_fwd = np.array([hd.jvp(lambda x: hd.jvp(f, (x,), (v,))[1], (x,), (e,))[1] for e in np.eye(2)])
    for route in (fwd_rev, rev_fwd, rev_rev, fwd_fwd):
        np.testing.assert_allclose(route, expected, rtol=1e-12)


def test_jvp_memory_stays_flat_on_a_long_chain():
    import tracemalloc

    def chain(x, steps):
        for _ in range(steps):
            x = x * 1.0000001 + 1e-7 * hnp.sin(x)
        return x

    tracemalloc.start()
    hd.jvp(lambda x: chain(x, 5_000), (0.5,), (1.0,))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1_000_000, f"forward mode kept {peak} bytes: something recorded the chain"


def test_dual_mismatched_shapes_and_nesting_order_are_refused():
    with pytest.raises(ValueError, match="does not match"):
        hd.Dual(np.ones(3), np.ones((2, 3)))
    early = hd.Dual(1.0, 1.0, tag="made-first")
    late_tag_dual = hd.Dual(2.0, 1.0, tag="made-second")
    with pytest.raises(ValueError, match="made after the tag"):
        hd.Dual(late_tag_dual, 0.0, tag="made-first")
    del early


# ----------------------------------------------------------------- joint JVP rules of stack and concatenate

_JOINED = [
    ("stack", lambda a, b, c: hnp.stack([a * b, c, b, 2.0 * np.ones(3), a], axis=1)),
    ("concatenate", lambda a, b, c: hnp.concatenate([a * b, c, np.ones(2), hnp.sin(a)])),
    ("stack of two", lambda a, b, c: hnp.stack([a, c])),
    ("stack of one", lambda a, b, c: hnp.stack([hnp.sin(a)])),
]


@pytest.mark.parametrize("name, f", _JOINED, ids=[n for n, _ in _JOINED])
def test_stack_and_concatenate_jvp_from_all_tangents_at_once(name, f):
    rng = np.random.default_rng(4)
    a, b, c = (rng.normal(size=3) for _ in range(3))
    ta, tb, tc = (rng.normal(size=3) for _ in range(3))
    out, tangent = hd.jvp(f, (a, b, c), (ta, tb, tc))
    np.testing.assert_array_equal(out, f(a, b, c))
    eps = 1e-6
    fd = (f(a + eps * ta, b + eps * tb, c + eps * tc) - f(a - eps * ta, b - eps * tb, c - eps * tc)) / (2 * eps)
    np.testing.assert_allclose(tangent, fd, rtol=1e-7, atol=1e-9)
    # batched tangents (jacfwd), and nested: forward over forward, forward over reverse
    J = hd.jacfwd(f, argnums=(0, 1, 2))(a, b, c)
    for Jk, Rk in zip(J, hd.jacrev(f, argnums=(0, 1, 2))(a, b, c)):
        np.testing.assert_allclose(Jk, Rk, rtol=1e-12, atol=1e-14)
    scalar = lambda a: hnp.sum(f(a, b, c) ** 2)  # noqa: E731
    for mode in ("fwd-fwd", "fwd-rev"):
        np.testing.assert_allclose(hd.hessian(scalar, mode=mode)(a), hd.hessian(scalar, mode="rev-rev")(a),
                                   rtol=1e-10, atol=1e-12)


def test_stack_jvp_applies_stack_once():
    # one stack for the tangent (the primal's is the other), not one per traced argument
    from hodiff.core.work import count_work
    parts = [np.float64(k) for k in range(9)]
    with count_work() as work:
        hd.jvp(lambda *xs: hnp.stack(list(xs)), tuple(parts), tuple(np.ones(9)))
    assert work.calls["stack"] == 2 and work.calls["add"] == 0


def test_a_complex_tangent_of_a_real_primal_is_refused_by_every_forward_route():
    # jvp and linearize cast it to the primal's dtype (numpy's ComplexWarning only: exp's tangent along 1j was 0),
    # a Python scalar one raised float()'s TypeError; JAX refuses it. A complex primal takes it.
    x, t = np.array([0.5, 1.0]), np.array([1j, 1 + 1j])
    routes = {"jvp": lambda: hd.jvp(hnp.exp, (x,), (t,)), "linearize": lambda: hd.linearize(hnp.exp, x)[1](t),
              "hvp": lambda: hd.hvp(lambda x: hnp.sum(x ** 3), (x,), (t,))}
    routes["jvp of a scalar"] = lambda: hd.jvp(hnp.exp, (0.5,), (1j,))
    for route in routes.values():
        with pytest.raises(TypeError, match="complex tangent for a real primal"):
            route()
    np.testing.assert_allclose(hd.jvp(hnp.exp, (x + 0j,), (t,))[1], np.exp(x) * t, rtol=1e-15)
