"""The graph API (API.md section 3): Variables, backward, .grad accumulation as PyTorch does."""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp


def _xy():
    return hd.Variable(2.0, name="x"), hd.Variable(-3.0, name="y")


def test_grad_is_none_before_backward_and_after_zero_grad():
    x, y = _xy()
    z = x * y
    assert x.grad is None
    z.backward()
    assert x.grad == -3.0 and y.grad == 2.0
    x.zero_grad()
    assert x.grad is None


def test_backward_twice_accumulates_without_retain_graph():
    x, y = _xy()
    z = hnp.tanh(x * y) + x
    z.backward()
    first = float(x.grad)
    z.backward()
    assert float(x.grad) == pytest.approx(2 * first)


def test_create_graph_gives_differentiable_gradients_like_pytorch():
    x, y = _xy()
    z = hnp.tanh(x * y) + x
    z.backward(create_graph=True)
    assert isinstance(x.grad, hd.Variable)
    t = np.tanh(-6.0)
    dz_dx = 1 + (-3.0) * (1 - t ** 2)
    assert float(x.grad.value) == pytest.approx(dz_dx)
    # x.grad.backward() accumulates d(dz/dx)/dx into x.grad, as torch does.
    d2z_dx2 = (-3.0) ** 2 * (-2 * t * (1 - t ** 2))
    x.grad.backward()
    assert float(x.grad.value) == pytest.approx(dz_dx + d2z_dx2)


def test_grad_of_does_not_accumulate_and_reaches_intermediates():
    x, y = _xy()
    u = x * y
    z = u * u
    gx, gu = hd.grad_of(z, [x, u])
    assert gx == pytest.approx(2 * (-6.0) * (-3.0)) and gu == pytest.approx(-12.0)
    assert x.grad is None


def test_grad_of_with_create_graph_is_differentiable_again():
    x = hd.Variable(1.5)
    (dz,) = hd.grad_of(x ** 3, [x], create_graph=True)
    (d2z,) = hd.grad_of(dz, [x])
    assert d2z == pytest.approx(6 * 1.5)


def test_grad_of_unused_input_is_zero():
    x, y = _xy()
    (gy,) = hd.grad_of(x * 2.0, [y])
    assert gy == 0.0


def test_backward_needs_gradient_for_non_scalar():
    x = hd.Variable(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="gradient="):
        (x * 2).backward()
    (x * 2).backward(gradient=np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 20.0])


def test_variable_refuses_integers():
    with pytest.raises(TypeError, match="float"):
        hd.Variable(2, name="n")


def test_deep_graph_backward_is_iterative():
    x = hd.Variable(0.5)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.backward()
    assert float(x.grad) == pytest.approx(1.0001 ** 20_000)


def test_variables_inside_a_transform():
    w = hd.Variable(3.0, name="w")
    gradient = hd.grad(lambda x: x * w)(2.0)  # the gradient is a Variable: still a node of w's graph
    gradient.backward()
    assert float(gradient.value) == 3.0 and w.grad == 1.0


def test_grad_of_a_constant_output_is_zero():
    # Found by the differential fuzzer: the gradient of a linear function is a
    # plain number, and grad_of of it raised "'numpy.float64' object is not iterable".
    v = hd.Variable(0.0)
    (g,) = hd.grad_of(v * 2.0, [v], create_graph=True)
    assert hd.grad_of(g * 1.0, [v]) == (0.0,)
    w = hd.Variable(1.0)
    (g3,) = hd.grad_of(w**3, [w], create_graph=True)  # 3 w**2, a Variable
    assert hd.grad_of([g3, 5.0], [w]) == (6.0,)
    with pytest.raises(TypeError, match="outputs must be Variables"):
        hd.grad_of(["not a value"], [w])
