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


def test_gradient_arguments_are_checked_cast_and_copied_as_pytorch_takes_them():
    # From the graph-API audit against PyTorch 2.13 (whose behaviour each line restates): grad_of summed a
    # (2, 3) gradient and dropped a second output; a list gradient accumulated by list concatenation; a bool
    # gradient accumulated as logical or; .grad aliased the caller's gradient= and another leaf's .grad.
    x = hd.Variable(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="gradient of shape \\(2, 3\\) for an output of shape \\(3,\\)"):
        hd.grad_of(x * 2.0, x, gradients=np.ones((2, 3)))
    with pytest.raises(ValueError, match="gradient of shape \\(\\) for an output of shape \\(3,\\)"):
        hd.grad_of(x * 2.0, x, gradients=2.0)
    with pytest.raises(ValueError, match="2 outputs and 1 gradient"):
        hd.grad_of([hnp.sum(x), hnp.sum(x * x)], x, gradients=[None])
    np.testing.assert_array_equal(hd.grad_of([hnp.sum(x), hnp.sum(x * x)], x)[0], [3.0, 5.0, 7.0])  # 1 + 2x
    out = x + 1.0
    out.backward([1.0, 2.0, 3.0])
    out.backward([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])
    x.zero_grad()
    mask = np.array([True, False, True])
    out.backward(mask)
    out.backward(mask)
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [2.0, 0.0, 2.0]
    g = np.array([3.0, 4.0])
    a, b = hd.Variable(np.array([1.0, 2.0])), hd.Variable(np.array([5.0, 6.0]))
    (a + b).backward(g)
    g[:] = 0
    a.grad *= 0
    assert b.grad.tolist() == [3.0, 4.0]


def test_graph_gradients_keep_the_leafs_float32():
    # a float32 leaf beside float64 constants got a float64 .grad (hd.grad gives float32); grad_of seeded
    # float64 ones for a float32 output
    A = np.arange(9.0).reshape(3, 3) / 10
    x = hd.Variable(np.ones(3, np.float32))
    hnp.sum(hnp.sin(A * x)).backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, hd.grad(lambda v: hnp.sum(hnp.sin(A * v)))(np.ones(3, np.float32)), rtol=1e-6)
    assert hd.grad_of(hnp.sum(hnp.sin(x)), x)[0].dtype == np.float32
    y = hd.Variable(np.ones(3, np.float32))
    (y * 3.0).backward(np.ones(3))  # a float64 gradient= for a float32 output: cast to the output's
    assert y.grad.dtype == np.float32


def test_a_variable_of_a_transforms_traced_value_is_differentiated_by_the_transform():
    # hd.Variable(x) of hd.grad's x, returned from f, had derivative 0 (the transform saw a level-0 constant)
    x0 = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(hd.grad(lambda x: hnp.sum(hd.Variable(x) ** 2))(x0), 2 * x0)
    np.testing.assert_array_equal(hd.hessian(lambda x: hnp.sum(hd.Variable(x) ** 3))(x0), np.diag(6 * x0))
    np.testing.assert_array_equal(hd.jvp(lambda x: hd.Variable(x) ** 2, (x0,), (np.ones(3),))[1], 2 * x0)
    np.testing.assert_array_equal(hd.vmap(lambda x: hd.Variable(x) ** 2)(np.stack([x0, -x0])), [x0 ** 2, x0 ** 2])
    assert hd.Variable([1.0, 2.0]).value.tolist() == [1.0, 2.0]  # a list, as torch.tensor takes one
    W = hd.Variable(np.ones(3))
    with pytest.raises(TypeError, match="grad_of: the output is a batching-traced value, not a Variable"):
        hd.vmap(lambda x: hd.grad_of(hnp.sum(W * x), W)[0])(np.ones((2, 3)))  # was: len() of a 0-d traced value
