"""Custom rules (API.md section 6): hd.primitive/defvjp/defjvp and custom_jvp/custom_vjp."""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp


def _make_sin():
    @hd.primitive
    def my_sin(x):
        return np.sin(x)

    hd.defvjp(my_sin, lambda ans, x: lambda g: g * hnp.cos(x))
    hd.defjvp(my_sin, lambda t, ans, x: t * hnp.cos(x))
    return my_sin


def test_primitive_rules_give_every_order_and_mode():
    my_sin = _make_sin()
    x = 0.4
    assert hd.grad(my_sin)(x) == pytest.approx(np.cos(x))
    assert hd.jvp(my_sin, (x,), (2.0,))[1] == pytest.approx(2 * np.cos(x))
    assert hd.grad(hd.grad(my_sin))(x) == pytest.approx(-np.sin(x))
    assert hd.derivative(my_sin, order=3, mode="nested")(x) == pytest.approx(-np.cos(x))
    hd.check_grads(lambda v: hnp.sum(my_sin(v) * v), (np.array([0.1, 0.7]),), order=2)


def test_primitive_is_batched_by_looping_and_jacobian_works():
    my_sin = _make_sin()
    x = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(hd.jacobian(my_sin, mode="rev")(x), np.diag(np.cos(x)), atol=1e-15)
    np.testing.assert_allclose(hd.jacobian(my_sin, mode="fwd")(x), np.diag(np.cos(x)), atol=1e-15)


def test_none_maker_means_zero_derivative_and_kwargs_are_static():
    @hd.primitive
    def scaled(x, y, scale=1.0):
        return scale * x * y

    hd.defvjp(scaled, lambda ans, x, y, scale=1.0: lambda g: g * scale * y, None)
    assert hd.grad(lambda x: scaled(x, 3.0, scale=2.0))(1.0) == 6.0
    assert hd.grad(lambda y: scaled(1.0, y, scale=2.0))(3.0) == 0.0


def test_missing_rule_names_primitive_and_mode():
    @hd.primitive
    def only_reverse(x):
        return 2.0 * x

    hd.defvjp(only_reverse, lambda ans, x: lambda g: 2.0 * g)
    assert hd.grad(only_reverse)(1.0) == 2.0
    with pytest.raises(hd.MissingRuleError, match="only_reverse.*jvp"):
        hd.jvp(only_reverse, (1.0,), (1.0,))
    assert isinstance(hd.MissingRuleError("p", "jvp"), NotImplementedError)


def test_non_differentiable_rule_fails_at_the_order_that_needs_it():
    @hd.primitive
    def my_exp(x):
        return np.exp(x)

    hd.defvjp(my_exp, lambda ans, x: lambda g: g * np.asarray(ans))  # plain numpy: first order only
    assert hd.grad(my_exp)(0.0) == 1.0
    with pytest.raises(TypeError, match="VJP rule of primitive 'my_exp'.*not differentiable"):
        hd.grad(hd.grad(my_exp))(0.0)


def test_custom_jvp_replaces_the_derivative_in_every_mode():
    @hd.custom_jvp
    def log1pexp(x):
        return hnp.log(1.0 + hnp.exp(x))

    @log1pexp.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return log1pexp(x), t * (1.0 - 1.0 / (1.0 + hnp.exp(x)))

    with np.errstate(over="ignore"):
        assert hd.grad(log1pexp)(1000.0) == 1.0  # the naive derivative would be inf/inf
    x = 0.3
    sigmoid = 1 / (1 + np.exp(-x))
    assert hd.jvp(log1pexp, (x,), (1.0,))[1] == pytest.approx(sigmoid)
    assert hd.grad(hd.grad(log1pexp))(x) == pytest.approx(sigmoid * (1 - sigmoid))
    v = np.array([0.1, -0.2, 0.3])
    np.testing.assert_allclose(hd.vmap(hd.grad(log1pexp))(v), 1 / (1 + np.exp(-v)))


def test_custom_vjp_uses_bwd_and_refuses_forward_mode():
    @hd.custom_vjp
    def clip_gradient(x):
        return x

    clip_gradient.defvjp(lambda x: (x, None), lambda res, g: (hnp.clip(g, -1.0, 1.0),))
    assert hd.grad(lambda x: 5.0 * clip_gradient(x))(2.0) == 1.0
    with pytest.raises(TypeError, match="forward-mode"):
        hd.jvp(clip_gradient, (1.0,), (1.0,))


def test_custom_vjp_residuals_and_second_order_in_reverse_mode():
    @hd.custom_vjp
    def square(x):
        return x * x

    def fwd(x):
        return x * x, x

    def bwd(x, g):
        return (2.0 * x * g,)

    square.defvjp(fwd, bwd)
    assert hd.grad(square)(3.0) == 6.0
    assert hd.grad(hd.grad(square))(3.0) == 2.0
    np.testing.assert_allclose(hd.jacobian(square, mode="rev")(np.array([1.0, 2.0])), np.diag([2.0, 4.0]))


def test_custom_rules_inside_a_vmap_under_a_derivative_are_kept():
    # vmap(custom_jvp f) inside jvp/grad differentiated f's body (cos x for the rule's 2 cos x), and a custom_vjp's
    # bwd was ignored (gradient 1 for 0.5) (the nested-transforms audit; references: the rules themselves, as JAX)
    x = np.array([0.3, -0.4, 1.2])

    @hd.custom_jvp
    def csin(x):
        return hnp.sin(x)

    @csin.defjvp
    def _(primals, tangents):
        return csin(primals[0]), 2.0 * hnp.cos(primals[0]) * tangents[0]

    np.testing.assert_allclose(hd.jvp(hd.vmap(csin), (x,), (np.ones(3),))[1], 2 * np.cos(x), rtol=1e-14)
    np.testing.assert_allclose(hd.grad(lambda x: hnp.sum(hd.vmap(csin)(x)))(x), 2 * np.cos(x), rtol=1e-14)
    np.testing.assert_allclose(np.diag(hd.hessian(lambda x: hnp.sum(hd.vmap(csin)(x)))(x)), -2 * np.sin(x),
                               rtol=1e-14)
    np.testing.assert_allclose(hd.vmap(csin)(x), np.sin(x), rtol=1e-15)

    @hd.custom_vjp
    def scaled_product(a, s):
        return a * s

    scaled_product.defvjp(lambda a, s: (a * s, (a, s)), lambda r, g: (0.5 * g * r[1], 0.5 * g * r[0]))
    batched = hd.vmap(scaled_product, in_axes=(0, None))
    np.testing.assert_allclose(hd.grad(lambda a: hnp.sum(batched(a, 2.0)))(x), [1.0, 1.0, 1.0], rtol=1e-15)
    # an unbatched argument's cotangent sums over the members
    assert float(hd.grad(lambda s: hnp.sum(batched(x, s)))(2.0)) == pytest.approx(0.5 * np.sum(x), rel=1e-14)
    with pytest.raises(TypeError, match="can't apply forward-mode differentiation"):  # as jvp of it alone
        hd.jvp(hd.vmap(lambda a: scaled_product(a, 2.0)), (x,), (np.ones(3),))
