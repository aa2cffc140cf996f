"""The fast paths of the array workloads give the slow paths' numbers (to rounding) and dtypes.

Each fast path is checked against an independent reference (numpy, a Python
loop over batch members, a closed form) and, where it changes how a rule
computes, under nesting (a derivative of the fast path) as well.
"""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.primitives import elementwise as E

RNG = np.random.default_rng(11)


def _random(*shape, dtype=np.float64):
    return RNG.uniform(-1, 1, shape).astype(dtype)


# ----------------------------------------------------------------- matmul with one batched operand

# (member shape of a, member shape of b, which operand is batched)
ONE_SIDE_BATCHED = [
    ((4,), (4, 3), "a"),        # rows of a Jacobian against a matrix: one (B, k) @ (k, m)
    ((4,), (4,), "a"),          # batched vectors against a vector: (B, k) @ (k,)
    ((2, 4), (4, 3), "a"),      # batched matrices: stacked into (B * 2, k) rows
    ((2, 5, 4), (4,), "a"),     # stacked members against a vector
    ((3, 4), (4,), "b"),        # a @ b_i for B vectors b_i: b @ a.T
    ((4,), (4,), "b"),
    ((4,), (2, 4, 3), "a"),     # b has stack axes: numpy's own loop (no fast path)
    ((2, 3, 4), (4,), "b"),     # a has stack axes: numpy's own loop
    ((3, 4), (4, 2), "b"),      # batched matrices b: numpy's own loop
]


@pytest.mark.parametrize("a_shape, b_shape, side", ONE_SIDE_BATCHED, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128], ids=lambda d: np.dtype(d).name)
def test_matmul_with_one_batched_operand_matches_a_loop(a_shape, b_shape, side, dtype):
    size, rng = 5, np.random.default_rng(5)  # its own generator: the inputs do not depend on the test order

    def draw(*shape):
        return rng.uniform(-1, 1, shape).astype(dtype)

    a = draw(*(((size,) if side == "a" else ()) + a_shape))
    b = draw(*(((size,) if side == "b" else ()) + b_shape))
    if dtype == np.complex128:
        a = a + 1j * draw(*a.shape)
        b = b + 1j * draw(*b.shape)
    out = hd.vmap(hnp.matmul, in_axes=(0, None) if side == "a" else (None, 0))(a, b)
    expected = np.stack([a[i] @ b if side == "a" else a @ b[i] for i in range(size)])
    assert out.dtype == expected.dtype and out.shape == expected.shape
    # One product against another order of the same 4 terms (entries below 1 in size): a rounding error of
    # 4 * 4 * eps at most, relative to 1 rather than to an entry that cancels to near zero.
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(out, expected, rtol=1e-5 if dtype == np.float32 else 1e-13, atol=16 * eps)


def test_matmul_batch_fast_path_keeps_numpys_shape_errors():
    with pytest.raises(ValueError, match="contracted dimensions differ"):
        hd.vmap(hnp.matmul, in_axes=(0, None))(np.ones((3, 4)), np.ones((5, 2)))
    with pytest.raises(ValueError, match="contracted dimensions differ"):
        hd.vmap(hnp.matmul, in_axes=(None, 0))(np.ones((2, 4)), np.ones((3, 5)))


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_jacobians_of_matrix_vector_products(mode):
    A, x = _random(6, 4), _random(4)
    J = hd.jacobian(lambda x: hnp.tanh(hnp.matmul(A, x)), mode=mode)(x)
    np.testing.assert_allclose(J, (1 - np.tanh(A @ x) ** 2)[:, None] * A, rtol=1e-13)
    J = hd.jacobian(lambda x: hnp.tanh(hnp.matmul(x, A.T)), mode=mode)(x)  # the vector on the left
    np.testing.assert_allclose(J, (1 - np.tanh(A @ x) ** 2)[:, None] * A, rtol=1e-13)


def test_matrix_vector_vjps_without_stack_axes():
    A, x, y = _random(3, 4), _random(4), _random(3)
    gA, gx = hd.grad(lambda A, x: hnp.sum(hnp.sin(hnp.matmul(A, x))), argnums=(0, 1))(A, x)
    c = np.cos(A @ x)
    np.testing.assert_allclose(gA, np.outer(c, x), rtol=1e-13)
    np.testing.assert_allclose(gx, A.T @ c, rtol=1e-13)
    gy, gA = hd.grad(lambda y, A: hnp.sum(hnp.sin(hnp.matmul(y, A))), argnums=(0, 1))(y, A)
    c = np.cos(y @ A)
    np.testing.assert_allclose(gy, A @ c, rtol=1e-13)
    np.testing.assert_allclose(gA, np.outer(y, c), rtol=1e-13)
    # nested: the Hessian of the fast-path gradient, every mode
    f = lambda x: hnp.sum(hnp.sin(hnp.matmul(A, x)))  # noqa: E731
    expected = -(A.T * np.sin(A @ x)) @ A
    for mode in ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd"):
        np.testing.assert_allclose(hd.hessian(f, mode=mode)(x), expected, rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------- logaddexp's derivative: expit(x - y)

def test_logaddexp_weight_is_the_softmax_weight():
    x = np.array([-1.0, 0.5, 3.0, -40.0, 800.0, np.inf, -np.inf, np.inf, 1.0])
    y = np.array([2.0, 0.5, -2.0, 0.0, 0.0, np.inf, -np.inf, 1.0, np.nan])
    with np.errstate(invalid="ignore", over="ignore"):
        expected = np.exp(x - np.logaddexp(x, y))
    expected[[5, 6]] = 0.5  # the same infinity twice: the weights split evenly
    expected[7] = 1.0  # x = inf outweighs any finite y
    np.testing.assert_allclose(E.logaddexp_weight(1.0, x, y), expected, rtol=1e-14)
    both = E.logaddexp_weight(1.0, x, y) + E.logaddexp_weight(1.0, y, x)
    np.testing.assert_allclose(both, np.where(np.isnan(y), np.nan, 1))
    np.testing.assert_allclose(E.logaddexp2_weight(1.0, x[:5], y[:5]), 2.0 ** x[:5] / (2.0 ** x[:5] + 2.0 ** y[:5]),
                               rtol=1e-15)
    g = _random(2, 9)
    np.testing.assert_array_equal(E.logaddexp_weight(g, x, y), g * E.logaddexp_weight(1.0, x, y))
    hd.check_grads(lambda g, a, b: E.logaddexp_weight(g, a, b), (g[:, :4], _random(4), _random(2, 4)), order=2)
    hd.check_grads(lambda g, a, b: E.logaddexp2_weight(g, a, b), (g[:, :4], _random(4), _random(2, 4)), order=2)


@pytest.mark.parametrize("function, log_base", [(hnp.logaddexp, 1.0), (hnp.logaddexp2, np.log(2.0))])
def test_logaddexp_derivatives_to_third_order(function, log_base):
    x, y = np.array([0.3, -1.2, 2.0]), np.array([-0.4, 0.7, 2.0])
    w = 1.0 / (1.0 + np.exp(-log_base * (x - y)))
    gx, gy = hd.grad(lambda x, y: hnp.sum(function(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, w, rtol=1e-14)
    np.testing.assert_allclose(gy, 1 - w, rtol=1e-14)
    second = log_base * w * (1 - w)
    np.testing.assert_allclose(hd.hessian(lambda x: hnp.sum(function(x, y)))(x), np.diag(second), rtol=1e-13)
    third = log_base ** 2 * w * (1 - w) * (1 - 2 * w)
    d3 = hd.grad(hd.grad(hd.grad(lambda t: function(t, 0.25))))
    for xi, expected in zip(x, log_base ** 2 * (lambda w: w * (1 - w) * (1 - 2 * w))(
            1.0 / (1.0 + np.exp(-log_base * (x - 0.25))))):
        assert float(d3(xi)) == pytest.approx(expected, rel=1e-12)
    assert third.shape == x.shape


def test_logaddexp_weight_keeps_float32_and_limits():
    x = np.array([0.5, -3.0], dtype=np.float32)
    assert hd.grad(lambda x: hnp.sum(hnp.logaddexp(0.0, x)))(x).dtype == np.float32
    assert hd.hessian(lambda x: hnp.sum(hnp.logaddexp2(x, 0.0)))(x).dtype == np.float32
    with np.errstate(invalid="raise", divide="raise", over="raise"):
        assert float(hd.grad(lambda x: hnp.logaddexp(x, 0.0))(-np.inf)) == 0.0
        assert float(hd.grad(lambda x: hnp.logaddexp(x, 0.0))(np.inf)) == 1.0
        assert float(hd.grad(hd.grad(lambda x: hnp.logaddexp(x, 0.0)))(800.0)) == 0.0


def test_softplus_hessian_of_the_benchmark_objective():
    A, x = _random(30, 8), _random(8)

    def f(x):
        return hnp.sum(hnp.logaddexp(0.0, hnp.matmul(A, x))) + 0.5 * hnp.matmul(x, x)

    s = 1 / (1 + np.exp(-(A @ x)))
    expected = (A.T * (s * (1 - s))) @ A + np.eye(8)
    for mode in ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd"):
        np.testing.assert_allclose(hd.hessian(f, mode=mode)(x), expected, rtol=1e-12)


# ----------------------------------------------------------------- tanh_chain and multiply3

def test_tanh_chain_and_multiply3_values_and_derivatives():
    t, y, c = _random(3, 4), _random(4), _random(3, 1)
    np.testing.assert_array_equal(E.tanh_chain(t, y), t * (1 - y * y))
    np.testing.assert_array_equal(E.tanh_chain(y, y), y * (1 - y * y))  # the in-place branch
    np.testing.assert_array_equal(E.multiply3(t, y, c, scale=-2.0), t * y * -2.0 * c)
    assert E.tanh_chain(0.5, 0.25) == 0.5 * (1 - 0.25 * 0.25) and type(E.tanh_chain(0.5, 0.25)) is float
    assert E.tanh_chain(np.float32(2.0), np.ones(2, np.float32)).dtype == np.float32
    hd.check_grads(lambda t, y: E.tanh_chain(t, y), (t, y), order=2)
    hd.check_grads(lambda a, b, c: E.multiply3(a, b, c, scale=-2.0), (t, y, c), order=2)


def test_tanh_chain_tangent_is_the_sum_of_the_two_rules():
    dt, t, y, dy = _random(3, 4), _random(3, 4), _random(4), _random(3, 1)
    np.testing.assert_array_equal(E.tanh_chain_tangent(dt, t, y, dy),
                                  E.tanh_chain(dt, y) + E.multiply3(t, y, dy, scale=-2.0))
    _, tangent = hd.jvp(E.tanh_chain, (t, y), (dt, np.broadcast_to(dy, (3, 4))[0]))
    np.testing.assert_allclose(E.tanh_chain_tangent(dt, t, y, np.broadcast_to(dy, (3, 4))[0]), tangent, rtol=1e-15)
    hd.check_grads(lambda *a: E.tanh_chain_tangent(*a), (dt, t, y, dy), order=2)


def test_tanh_derivatives_to_third_order():
    x = _random(5)
    h = np.tanh(x)
    np.testing.assert_allclose(hd.grad(lambda x: hnp.sum(hnp.tanh(x)))(x), 1 - h ** 2, rtol=1e-15)
    np.testing.assert_allclose(hd.hessian(lambda x: hnp.sum(hnp.tanh(x)))(x), np.diag(-2 * h * (1 - h ** 2)),
                               rtol=1e-14)
    third = hd.grad(hd.grad(hd.grad(hnp.tanh)))
    for xi, hi in zip(x, h):
        assert float(third(xi)) == pytest.approx((1 - hi ** 2) * (6 * hi ** 2 - 2), rel=1e-13)


# ----------------------------------------------------------------- hvp: forward over one reverse recording

def _mlp(X, labels):
    rows = np.arange(len(labels))

    def loss(params):
        W1, b1, W2, b2 = params
        z = hnp.matmul(hnp.tanh(hnp.matmul(X, W1) + b1), W2) + b2
        return hnp.mean(hd.scipy.special.logsumexp(z, axis=1) - z[rows, labels])

    return loss


def _mlp_problem():
    X, labels = _random(7, 5), RNG.integers(0, 3, 7)
    params = (_random(5, 4), _random(4), _random(4, 3), _random(3))
    direction = tuple(_random(*p.shape) for p in params)
    return _mlp(X, labels), params, direction


def test_hvp_is_jvp_of_grad_exactly():
    loss, params, direction = _mlp_problem()
    hv = hd.hvp(loss, (params,), (direction,))
    reference = hd.jvp(hd.grad(loss), (params,), (direction,))[1]
    for a, b in zip(hv[0], reference):
        np.testing.assert_array_equal(a, b)
    for mode in ("rev-rev", "rev-fwd"):
        for a, b in zip(hd.hvp(loss, (params,), (direction,), mode=mode)[0], reference):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_hvp_of_a_narrow_layer_uses_joint_tangents():
    # g_z @ W2.T with k = 2: d(g @ B) = [dg, g] @ [B; dB] in one product
    X, labels = _random(9, 5), RNG.integers(0, 2, 9)
    params = (_random(5, 16), _random(16), _random(16, 2), _random(2))
    direction = tuple(_random(*p.shape) for p in params)
    loss = _mlp(X, labels)
    hv = hd.hvp(loss, (params,), (direction,))[0]
    reference = hd.jvp(hd.grad(loss), (params,), (direction,))[1]
    for a, b in zip(hv, reference):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    H = hd.hessian(lambda W2: loss((params[0], params[1], W2, params[3])), mode="rev-rev")(params[2])
    np.testing.assert_allclose(hv[2], np.tensordot(H, direction[2], axes=2) + hd.jvp(
        lambda p: hd.grad(loss)(p)[2], (params,), ((direction[0], direction[1], 0 * direction[2], direction[3]),))[1],
        rtol=1e-12, atol=1e-14)


FUNCTIONS = {
    "reused leaf": (lambda x, y: hnp.sum(x * x * y + hnp.sin(x)), (_random(3), _random(3))),
    "broadcast leaf": (lambda x, y: hnp.sum(hnp.exp(x + y) * y), (_random(2, 3), _random(3))),
    "leaf is the output": (lambda x, y: x, (0.7, 0.2)),
    "output is constant": (lambda x, y: hnp.sum(np.ones(2)) + 0.0 * 3.0, (_random(2), _random(2))),
    "scalar floats": (lambda x, y: hnp.sin(x * y) * x, (0.3, -1.2)),
    "tensordot, reshape, transpose": (
        lambda x, y: hnp.sum(hnp.cos(hnp.tensordot(hnp.reshape(x, (2, 3)), hnp.transpose(y), axes=1))),
        (_random(6), _random(4, 3))),
    "getitem, subtract, negative": (lambda x, y: hnp.sum(-(x[1:] - y[:2]) ** 3), (_random(3), _random(3))),
    # only tangents below the nonlinearity: a linear node with two consumers, one of them reading it
    "linear part shared": (lambda x, y: hnp.sum(hnp.exp(2.0 * x - y) + hnp.sin(2.0 * x - y) * y),
                           (_random(3), _random(3))),
    "linear layer under tanh": (lambda x, y: hnp.sum(hnp.tanh(hnp.matmul(hnp.reshape(x, (2, 3)), y) + 1.0)),
                                (_random(6), _random(3, 4))),
    "linear function": (lambda x, y: hnp.sum(x * 3.0 - y), (_random(3), _random(3))),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_hvp_matches_every_mode(name):
    f, primals = FUNCTIONS[name]
    tangents = tuple(np.ones_like(p) * 0.5 if isinstance(p, np.ndarray) else 0.5 for p in primals)
    hv = hd.hvp(f, primals, tangents)
    reference = hd.jvp(hd.grad(f, argnums=(0, 1)), primals, tangents)[1]
    for a, b, p in zip(hv, reference, primals):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)
        assert np.shape(a) == np.shape(p) and np.result_type(a) == np.result_type(p)
    for mode in ("rev-rev", "rev-fwd"):
        for a, b in zip(hd.hvp(f, primals, tangents, mode=mode), hv):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_hvp_computes_no_cotangent_value_below_the_mlps_nonlinearity():
    from hodiff.core.tree import tree_flatten
    from hodiff.interpreters.reverse import graph_nodes
    from hodiff.transforms import forward_over_reverse as fr

    loss, params, direction = _mlp_problem()
    flat, tree = tree_flatten((params,))
    _, root, inputs = fr._record(loss, flat, tree)
    node_tangents = fr._sweep(root, dict(zip(inputs, tree_flatten((direction,))[0])))
    order = graph_nodes([root])
    wanted = fr._value_wanted(order, node_tangents)
    first_layer = next(node for node in order if node.primitive is hnp.matmul)  # X @ W1
    tanh = next(node for node in order if node.primitive is E.tanh)
    plus_b1 = tanh.parents[0]
    assert tanh in wanted and first_layer not in wanted and plus_b1 not in wanted
    assert root in wanted


def test_hvp_of_complex_inputs_matches_jvp_of_grad():
    z, v = _random(3) + 1j * _random(3), _random(3) + 1j * _random(3)

    def f(z):
        return hnp.sum(hnp.real(z * z * hnp.conj(z)) + hnp.abs(z) ** 2)

    np.testing.assert_allclose(hd.hvp(f, (z,), (v,))[0], hd.jvp(hd.grad(f), (z,), (v,))[1], rtol=1e-14)


def test_hvp_keeps_float32():
    x = _random(4, dtype=np.float32)
    (hv,) = hd.hvp(lambda x: hnp.sum(hnp.tanh(x) * x), (x,), (np.ones(4, np.float32),))
    assert hv.dtype == np.float32


def test_hvp_nests():
    A = _random(4, 4)

    def f(x):
        return hnp.sum(hnp.tanh(hnp.matmul(A, x)) ** 2)

    x, v = _random(4), _random(4)
    # derivative of the HVP: d/dx <H(x) v, w> = T(x)[v, w], symmetric in the three slots
    w = _random(4)
    d1 = hd.grad(lambda x: hnp.sum(hd.hvp(f, (x,), (v,))[0] * w))(x)
    d2 = hd.grad(lambda x: hnp.sum(hd.hvp(f, (x,), (w,), mode="rev-rev")[0] * v))(x)
    np.testing.assert_allclose(d1, d2, rtol=1e-12, atol=1e-14)
    # under vmap: a batch of directions is the Hessian's columns
    H = hd.vmap(lambda v: hd.hvp(f, (x,), (v,))[0])(np.eye(4))
    np.testing.assert_allclose(H, hd.hessian(f, mode="rev-rev")(x), rtol=1e-12, atol=1e-14)
    # jvp of the hvp along the primal
    _, dhv = hd.jvp(lambda x: hd.hvp(f, (x,), (v,))[0], (x,), (w,))
    np.testing.assert_allclose(dhv, d1, rtol=1e-12, atol=1e-14)


def test_hvp_errors_name_the_problem():
    with pytest.raises(TypeError, match="scalar"):
        hd.hvp(lambda x: x * 2, (np.ones(3),), (np.ones(3),))
    with pytest.raises(ValueError, match="tangent of shape"):
        hd.hvp(lambda x: hnp.sum(x), (np.ones(3),), (np.ones(2),))


# Primitive.declare_reads: the values a recording may drop (stub) and the hvp may skip.
# Every declaration is here (test_every_declared_primitive_has_a_case).
READS_CASES = [
    (E.add, (_random(2, 3), _random(3)), {}),
    (E.subtract, (_random(2, 3), _random(2, 3)), {}),
    (E.negative, (_random(3),), {}),
    (E.multiply, (_random(2, 3), _random(3)), {}),
    (hnp.matmul, (_random(2, 3), _random(3, 4)), {}),
    (hnp.matmul, (_random(3), _random(3, 4)), {}),
    (hnp.matmul, (_random(2, 3), _random(3)), {}),
    (hnp.matmul, (_random(5, 2, 3), _random(3)), {}),
    (hd.primitives.shape.tensordot, (_random(2, 3, 4), _random(4, 3)), {"axes": ((1, 2), (1, 0))}),
    (hd.primitives.shape.reshape, (_random(2, 3),), {"shape": (3, 2)}),
    (hd.primitives.shape.sum, (_random(2, 3),), {"axis": (1,), "keepdims": False}),
    (hd.primitives.shape.broadcast_to, (_random(3),), {"shape": (2, 3)}),
    (hd.primitives.shape.transpose, (_random(2, 3, 4),), {"axes": (2, 0, 1)}),
    (hd.primitives.shape.getitem, (_random(4, 3),), {"index": (slice(1, 3), 0)}),
    (hd.primitives.shape.index_add, (_random(2, 3),), {"index": (np.array([0, 2]),), "shape": (4, 3)}),
    (hd.primitives.reductions.mean_p, (_random(2, 3),), {"axis": (0,), "keepdims": True}),
    (hd.primitives.reductions.cumsum_p, (_random(2, 3),), {"axis": 1, "reverse": True}),
    (E.tanh, (_random(2, 3),), {}),
    (E.exp, (_random(2, 3),), {}),
    (E.log, (_random(2, 3) + 2.0,), {}),
    (E.sin, (_random(2, 3),), {}),
    (E.cos, (_random(2, 3),), {}),
    (hd.primitives.special.expit, (_random(2, 3),), {}),
    (E.square, (_random(2, 3),), {}),
    (hd.primitives.contraction.einsum_p, (_random(2, 3), _random(4, 3)), {"subscripts": "ij,kj->ik"}),
    (E.true_divide, (_random(2, 3), _random(3) + 3.0), {}),
    (hd.primitives.shape.concatenate, (_random(2, 3), _random(1, 3), _random(4, 3)), {"axis": 0}),
    (hd.primitives.shape.stack, (_random(2, 3), _random(2, 3)), {"axis": 1}),
]


def _rules_of(primitive, argnum, params):
    """(rule, takes a cotangent) for argument argnum: vjp, jvp, and the fast ones when they apply."""
    rules = [(primitive.vjp_rule(argnum), True), (primitive.jvp_rule(argnum), False)]
    if not params and primitive.fast_vjp is not None:
        rules.append((primitive.fast_vjp[argnum], True))
    if not params and primitive.fast_jvp is not None:
        rules.append((primitive.fast_jvp[argnum], False))
    return rules


@pytest.mark.parametrize("primitive, args, params", READS_CASES, ids=lambda c: getattr(c, "name", ""))
def test_declared_reads_are_true(primitive, args, params):
    ans = primitive(*args, **params)
    for argnum in range(len(args)):
        reads = primitive.argument_reads(argnum, len(args))
        perturbed = [a if i in reads else a + 1.5 for i, a in enumerate(args)]
        other_ans = ans if primitive.answer_read_by(argnum, len(args)) else ans + 2.5
        for rule, takes_cotangent in _rules_of(primitive, argnum, params):
            seed = _random(*np.shape(ans if takes_cotangent else args[argnum]))
            np.testing.assert_array_equal(rule(seed, other_ans, *perturbed, **params),
                                          rule(seed, ans, *args, **params))


def test_every_declared_primitive_has_a_case():
    from hodiff.core.trace import registry

    declared = {p for p in registry.values() if p.reads is not None}
    assert declared == {case[0] for case in READS_CASES}


def test_a_recording_frees_the_values_no_rule_reads():
    import weakref

    X, W, b = _random(64, 80), _random(80, 70), _random(70)
    refs = {}

    def layer(W):
        product = hnp.matmul(X, W)            # read by no rule: freed once the add has it
        pre = product + b                     # read by no rule: freed once tanh has it
        hidden = hnp.tanh(pre)                # read by tanh's rule: kept
        refs.update(product=weakref.ref(product.primal), pre=weakref.ref(pre.primal),
                    hidden=weakref.ref(hidden.primal))
        return hnp.sum(hidden * hidden)

    value, pullback = hd.vjp(layer, W)
    assert refs["product"]() is None and refs["pre"]() is None
    assert refs["hidden"]() is not None
    h = np.tanh(X @ W + b)
    np.testing.assert_allclose(pullback(1.0)[0], X.T @ (2 * h * (1 - h * h)), rtol=1e-12)


def test_a_recording_keeps_only_what_the_traced_arguments_rules_read():
    # RK4's stages: h * k with a constant h reads only h (k's rule is never run), k / 2.0 reads 2.0, a
    # concatenation reads shapes: none of these k's is kept, the product reading y's slice keeps y.
    import weakref

    x = _random(10_000)
    refs = {}

    def stage(x):
        y = hnp.sin(x)
        k = hnp.concatenate([x[:1], x[1:] * y[:-1]])
        scaled = 0.5 * k
        halved = k / 2.0
        refs.update(k=weakref.ref(k.primal), scaled=weakref.ref(scaled.primal), y=weakref.ref(y.primal))
        return hnp.sum(scaled * halved)

    value, pullback = hd.vjp(stage, x)
    assert refs["k"]() is None and refs["y"]() is not None
    assert refs["scaled"]() is not None  # read by the last product's rules, both arguments traced
    k = np.concatenate([x[:1], x[1:] * np.sin(x[:-1])])
    dk = 0.5 * k  # d/dk of sum(k * k / 4)
    expected = np.concatenate([[dk[0]], np.zeros(len(x) - 1)])
    expected[1:] += dk[1:] * np.sin(x[:-1])
    expected[:-1] += dk[1:] * x[1:] * np.cos(x[:-1])
    np.testing.assert_allclose(pullback(1.0)[0], expected, rtol=1e-13, atol=1e-15)


def test_a_declaration_holds_for_its_number_of_arguments():
    # einsum_p's reads are declared for two operands; with three, argument 0's rule reads 1 and 2.
    c, s = _random(5000), _random(5000)
    np.testing.assert_array_equal(hd.grad(lambda x: hnp.einsum("i,i,i->", x, c, s))(_random(5000)), c * s)
    x, v = _random(3), _random(3)
    hvp = hd.hvp(lambda x: hnp.einsum("i,i,i->", x, c[:3], x), (x,), (v,))[0]
    np.testing.assert_allclose(hvp, 2 * c[:3] * v, rtol=1e-14)


# ----------------------------------------------------------------- gathers along a later axis

@pytest.mark.parametrize("index", [
    (slice(None), np.array([4, 0, 4, -1])),                      # x[:, i], repeats and a negative index
    (slice(None), slice(None), np.array([[1, 2], [0, 2]])),      # a 2-d index on the last axis
    (slice(None), np.array([1, 0]), slice(None)),                # not last: numpy's own path
    (slice(1, None), np.array([3, 2])),                          # a partial slice: numpy's own path
    (slice(None), np.array([True, False, True, False, True])),   # a mask: numpy's own path
], ids=str)
def test_gather_along_a_later_axis_is_numpys(index):
    x = _random(3, 5, 3)
    out, tangent = hd.jvp(lambda v: v[index], (x,), (2 * x,))
    np.testing.assert_array_equal(out, x[index])
    np.testing.assert_array_equal(tangent, 2 * x[index])
    # the VJP scatters back (repeated entries accumulate)
    g = _random(*x[index].shape)
    expected = np.zeros_like(x)
    np.add.at(expected, index, g)
    np.testing.assert_array_equal(hd.vjp(lambda v: v[index], x)[1](g)[0], expected)
    # under vmap the member gather x_b[i] is x[:, i]: equal to a loop over members
    member_index = index[1:]
    batched = hd.vmap(lambda v: v[member_index])(x)
    np.testing.assert_array_equal(batched, np.stack([v[member_index] for v in x]))


def test_batched_gather_is_contiguous():
    # numpy's x[:, i] is laid out transposed (a later reshape copies it again); the fast path is not
    x = _random(26, 40, 3)
    i = RNG.integers(0, 40, size=100)
    assert not x[:, i].flags.c_contiguous
    batched = hd.vmap(lambda v: v[i])(x)
    assert batched.flags.c_contiguous
    np.testing.assert_array_equal(batched, x[:, i])
