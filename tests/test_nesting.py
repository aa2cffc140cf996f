"""Nesting and perturbation confusion: every nested derivative is exact.

The classic failure (Siskind & Pearlmutter, "Perturbation confusion and
referential transparency") is d/dx [x * d/dy (x + y)] at x = 1: the inner
derivative must treat x as a constant, giving 1, not 2.
"""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp


def test_perturbation_confusion_reverse_over_reverse():
    f = lambda x: x * hd.grad(lambda y: x + y)(1.0)
    assert hd.grad(f)(1.0) == 1.0


def test_perturbation_confusion_forward_over_forward():
    def inner_derivative(x):
        return hd.jvp(lambda y: x + y, (1.0,), (1.0,))[1]

    f = lambda x: x * inner_derivative(x)
    assert hd.jvp(f, (1.0,), (1.0,))[1] == 1.0


@pytest.mark.parametrize("outer", ["fwd", "rev"])
@pytest.mark.parametrize("inner", ["fwd", "rev"])
def test_perturbation_confusion_all_mixtures(outer, inner):
    def d(function, x):
        if inner == "rev":
            return hd.grad(function)(x)
        return hd.jvp(function, (x,), (1.0,))[1]

    f = lambda x: x * d(lambda y: x * y, 2.0)  # inner derivative is x, so f = x^2
    if outer == "rev":
        result = hd.grad(f)(3.0)
    else:
        result = hd.jvp(f, (3.0,), (1.0,))[1]
    assert result == pytest.approx(6.0)


def test_closure_over_outer_traced_value():
    # d/dx grad_y[sin(x*y)] at y = 2 = d/dx [x cos(xy)] = cos(xy) - xy sin(xy)
    f = lambda x: hd.grad(lambda y: hnp.sin(x * y))(2.0)
    x = 0.3
    expected = np.cos(2 * x) - 2 * x * np.sin(2 * x)
    assert hd.grad(f)(x) == pytest.approx(expected, rel=1e-12)


def test_mixed_partials_with_nested_duals_of_distinct_tags():
    # f(x, y) = x^2 y^3, d2f/dxdy = 6 x y^2; the tag made first is the outer perturbation.
    x_inner = hd.Dual(2.0, 1.0, tag="x-direction")
    y_outer = hd.Dual(3.0, 1.0, tag="y-direction")
    out = x_inner * x_inner * y_outer * y_outer * y_outer
    # out is a dual in y whose primal and tangent are duals in x (tags nest by creation order)
    d_dy = out.tangent
    assert d_dy.tangent == pytest.approx(6 * 2.0 * 3.0 ** 2)


def test_inner_transform_does_not_leak_tracers():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2.0

    hd.grad(f)(1.0)
    with pytest.raises(hd.EscapedTracerError, match="escaped"):
        hnp.sin(leaked[0])


def test_fourth_derivative_by_nesting_grad():
    g = lambda x: hnp.sin(x) * hnp.exp(-x * x / 2)
    for _ in range(4):
        g = hd.grad(g)
    assert g(0.7) == pytest.approx(8.08198990423, rel=1e-10)


def test_grad_of_jvp_and_jvp_of_grad_agree():
    f = lambda x: hnp.sum(hnp.tanh(x) * x ** 2)
    x = np.array([0.3, -0.5, 1.1])
    v = np.array([1.0, 2.0, -1.0])
    forward_over_reverse = hd.jvp(hd.grad(f), (x,), (v,))[1]
    reverse_over_forward = hd.grad(lambda x: hd.jvp(f, (x,), (v,))[1])(x)
    np.testing.assert_allclose(forward_over_reverse, reverse_over_forward, rtol=1e-12)


def test_function_returning_closure_over_tracer_is_caught():
    def make(x):
        return lambda y: x * y

    closures = []
    hd.grad(lambda x: (closures.append(make(x)), x)[1])(2.0)
    with pytest.raises(hd.EscapedTracerError):
        closures[0](3.0)


def test_vmap_inside_grad_and_grad_inside_vmap():
    x = np.array([0.1, 0.2, 0.3])
    per_example = hd.vmap(hd.grad(lambda v: hnp.sum(hnp.sin(v) ** 2)))(np.stack([x, 2 * x]))
    np.testing.assert_allclose(per_example[1], 2 * np.sin(2 * x) * np.cos(2 * x), rtol=1e-12)
    total = hd.grad(lambda v: hnp.sum(hd.vmap(lambda row: hnp.sum(row * v))(np.eye(3))))(x)
    np.testing.assert_allclose(total, np.ones(3))


@pytest.mark.parametrize("outer", [hd.grad, lambda f: (lambda x: hd.jvp(f, (x,), (1.0,))[1])])
def test_inner_derivative_evaluated_at_the_outer_variable(outer):
    # d/dx [x * d/dy (x y) at y = x] = d/dx [x^2] = 2x: the answer a confused nesting gets as 0 or 1.
    assert outer(lambda x: x * hd.grad(lambda y: x * y)(x))(1.0) == pytest.approx(2.0)
    # d/dx [d/dy (y^2 x) at y = x] = d/dx [2 x^2] = 4x
    assert outer(lambda x: hd.grad(lambda y: y * y * x)(x))(1.0) == pytest.approx(4.0)
