"""hodiff.autograd.misc (flatten, const_graph, optimizers, fixed_points), against closed forms.

autograd's own tests of flatten and const_graph run in the conformance suite (tests/test_misc.py there);
these check the optimizers' first steps and limits and the fixed point's derivatives, which nothing of
autograd's test suite does."""

import numpy as np
import pytest

import hodiff.autograd as autograd
import hodiff.autograd.numpy as anp
from hodiff.autograd.misc import const_graph, flatten
from hodiff.autograd.misc.fixed_points import fixed_point
from hodiff.autograd.misc.flatten import flatten_func
from hodiff.autograd.misc.optimizers import adam, rmsprop, sgd
from hodiff.autograd.wrap_util import wraps


def quadratic(params, i):
    """sum (w - 3)^2 + (b + 1)^2: minimum at w = 3, b = -1; gradient 2 (w - 3), 2 (b + 1)."""
    return anp.sum((params["w"] - 3.0) ** 2) + (params["b"] + 1.0) ** 2


START = {"w": np.array([0.0, 1.0]), "b": 0.5}


def test_sgd_without_momentum_is_gradient_descent_in_closed_form():
    # x_k - x* = (x_0 - x*)(1 - 2 step)^k for the quadratic's gradient 2 (x - x*)
    step, k = 0.1, 7
    out = sgd(autograd.grad(quadratic), START, num_iters=k, step_size=step, mass=0.0)
    np.testing.assert_allclose(out["w"], 3.0 + (START["w"] - 3.0) * (1 - 2 * step) ** k, rtol=1e-14)
    assert out["b"] == pytest.approx(-1.0 + (START["b"] + 1.0) * (1 - 2 * step) ** k, rel=1e-14)


def test_first_adam_and_rmsprop_steps_and_their_limits():
    g0 = {"w": 2 * (START["w"] - 3.0), "b": 2 * (START["b"] + 1.0)}
    # Adam's first bias-corrected step is step_size * g / (|g| + eps): step_size against the gradient's sign
    one = adam(autograd.grad(quadratic), START, num_iters=1, step_size=0.01)
    np.testing.assert_allclose(one["w"], START["w"] - 0.01 * g0["w"] / (np.abs(g0["w"]) + 1e-8), rtol=1e-14)
    # RMSProp's running mean starts at 1: the first step is step g / (sqrt(gamma + (1 - gamma) g^2) + eps)
    one = rmsprop(autograd.grad(quadratic), START, num_iters=1, step_size=0.01, gamma=0.9)
    np.testing.assert_allclose(one["w"], START["w"] - 0.01 * g0["w"] / (np.sqrt(0.9 + 0.1 * g0["w"] ** 2) + 1e-8),
                               rtol=1e-14)
    for optimizer, kwargs in [(adam, {"num_iters": 3000, "step_size": 0.05}), (sgd, {"num_iters": 500}),
                              (rmsprop, {"num_iters": 3000, "step_size": 0.002})]:
        out = optimizer(autograd.grad(quadratic), START, **kwargs)
        np.testing.assert_allclose(out["w"], [3.0, 3.0], atol=1e-2, err_msg=optimizer.__name__)
        assert out["b"] == pytest.approx(-1.0, abs=1e-2)


def test_the_callback_sees_the_pytree_each_iteration():
    seen = []
    sgd(autograd.grad(quadratic), START, callback=lambda x, i, g: seen.append((i, sorted(x), g["w"].shape)),
        num_iters=3)
    assert seen == [(0, ["b", "w"], (2,)), (1, ["b", "w"], (2,)), (2, ["b", "w"], (2,))]


def test_fixed_point_derivatives_are_the_implicit_functions():
    # Newton's iteration for sqrt(a): x* = sqrt(a); d/da = 1 / (2 sqrt a), d2/da2 = -a^(-3/2) / 4
    def newton(a):
        return lambda x: 0.5 * (x + a / x)

    def root(a):
        return fixed_point(newton, a, 1.0, lambda x, y: anp.abs(x - y), 1e-13)

    a = 2.0
    assert root(a) == pytest.approx(np.sqrt(a), rel=1e-15)
    assert autograd.grad(root)(a) == pytest.approx(0.5 / np.sqrt(a), rel=1e-12)
    assert autograd.grad(autograd.grad(root))(a) == pytest.approx(-0.25 * a ** -1.5, rel=1e-10)


def test_flatten_is_differentiable_both_ways_and_const_graph_replays():
    vector, unflatten = flatten({"x": np.ones((2, 2)), "y": (1.5, np.arange(3.0))})
    np.testing.assert_array_equal(vector, [1, 1, 1, 1, 1.5, 0, 1, 2])
    np.testing.assert_array_equal(autograd.grad(lambda v: anp.sum(flatten({"a": v, "b": v ** 2})[0]))(np.ones(2)),
                                  [3.0, 3.0])  # 1 + 2 v
    np.testing.assert_array_equal(autograd.grad(lambda v: unflatten(v)["y"][0] * 2.0)(vector)[4], 2.0)
    flat_f, _, flat_start = flatten_func(lambda p: p["x"] * 2.0, {"x": np.ones(3)})
    np.testing.assert_array_equal(flat_f(flat_start), [2.0, 2.0, 2.0])
    runs = []
    product = const_graph(lambda a, b: runs.append(None) or a * b, 2.0)
    assert (product(3.0), product(4.0), len(runs)) == (6.0, 8.0, 1)  # the second call replayed


def test_wraps_names_a_wrapper_after_the_function():
    def loss(x):
        """The loss."""

    @wraps(loss, "grad_of_{fun}", "Gradient of {fun}. {doc}")
    def wrapper():
        pass

    assert (wrapper.__name__, wrapper.__doc__) == ("grad_of_loss", "Gradient of loss. The loss.")
