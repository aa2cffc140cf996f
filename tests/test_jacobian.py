"""Jacobians: every mode and both layouts agree with each other, with finite differences and with hand
derivations (the backprop lecture's ReLU and y = x W cases)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp_st

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.core.trace import Primitive, registry
from hodiff.primitives.rules import batch_elementwise
from hodiff.testing import assert_jacobian_matches, assert_layouts_agree, assert_modes_agree

LAYOUTS = ("numerator", "denominator")
MODES = ("fwd", "rev", "auto")

shapes = st.sampled_from([(), (1,), (3,), (2, 3), (3, 1)])


def arrays(shape):
    return hnp_st.arrays(np.float64, shape, elements=st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False))


# Functions of one array, each giving outputs of different shapes (scalar, same, reshaped, contracted, pytree).
FUNCTIONS = {
    "elementwise": lambda x: hnp.sin(x) * x + hnp.exp(0.3 * x),
    "sum to scalar": lambda x: hnp.sum(hnp.tanh(x) * x),
    "flatten and stack": lambda x: hnp.stack([hnp.reshape(x, (-1,)), hnp.reshape(x * x, (-1,))]),
    "contract with a matrix": lambda x: contract(x),
    # (3 + x: the draws reach x = -2, where cos(x) / (2 + x) is inf and every mode may give nan)
    "pytree output": lambda x: {"square": x * x, "total": (hnp.sum(x), hnp.cos(x) / (3.0 + x))},
    "transpose": lambda x: hnp.transpose(x) * 2.0,
}


def contract(x):
    size = int(np.prod(np.shape(x)))
    return hnp.tensordot(hnp.reshape(x, (size,)) ** 2, np.arange(2.0 * size).reshape(size, 2), axes=1)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@given(data=st.data())
def test_modes_and_layouts_agree_with_finite_differences(name, data):
    shape = data.draw(shapes, label="shape")
    x = data.draw(arrays(shape), label="x")
    f = FUNCTIONS[name]
    assert_modes_agree(f, (x,))                      # fwd, rev, auto and finite differences
    assert_modes_agree(f, (x,), layout="denominator")
    assert_layouts_agree(f, (x,))                    # numerator <-> denominator, round trips
    for mode in MODES:
        assert_layouts_agree(f, (x,), mode=mode)


@given(data=st.data())
def test_pytree_inputs_and_tuple_argnums_nest_like_jax(data):
    x = data.draw(arrays((2,)), label="x")
    y = data.draw(arrays((3,)), label="y")
    scale = data.draw(st.floats(0.5, 2.0), label="scale")
    f = lambda params, scale: {"a": hnp.sum(params["w"] * scale) * params["b"], "c": params["w"][0] * params["b"][1:]}
    params = {"w": x, "b": y}
    for layout in LAYOUTS:
        for mode in MODES:
            J = hd.jacobian(f, argnums=(0, 1), layout=layout, mode=mode)(params, scale)
            assert set(J) == {"a", "c"}
            d_params, d_scale = J["a"]
            assert set(d_params) == {"b", "w"}
            expected_shape = {"numerator": (3, 2), "denominator": (2, 3)}[layout]
            assert np.shape(d_params["w"]) == expected_shape
            np.testing.assert_allclose(d_scale, np.sum(x) * y)
            np.testing.assert_allclose(J["c"][0]["b"], convert(np.array([[0.0, x[0], 0.0], [0.0, 0.0, x[0]]]),
                                                               (3,), (2,), layout))
    assert_modes_agree(f, (params, scale), argnums=(0, 1))
    assert_layouts_agree(f, (params, scale), argnums=(0, 1))
    assert_layouts_agree(lambda p: f(p, scale), (params,))


def convert(J_numerator, in_shape, out_shape, layout):
    return hd.convert_layout(J_numerator, in_shape, out_shape, "numerator", layout)


def test_numerical_jacobian_of_pytrees_matches():
    f = lambda p: {"u": p[0] * p[1], "v": hnp.sum(p[1] ** 2)}
    point = (np.array([1.0, 2.0]), np.array([3.0, -1.0]))
    for layout in LAYOUTS:
        exact = hd.jacobian(f, layout=layout)(point)
        numeric = hd.numerical_jacobian(f, point, layout=layout)
        # atol: the exact zero block d v / d p[0] comes back as finite-difference
        # roundoff of |v| = 10, ~eps * 10 / h ~ 2e-10 (scipy 1.17's step choice).
        for a, b in zip(hd.tree_flatten(exact)[0], hd.tree_flatten(numeric)[0]):
            np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8)


# ------------------------------------------------------------------ the lecture's cases

def relu(x):
    # Comparisons on traced values need hodiff.numpy's comparison primitives; until they exist the
    # mask is taken from the value through stop_gradient (the same mask, no derivative either way).
    mask = x > 0 if "greater" in hnp.__all__ else hd.stop_gradient(x) > 0
    return hnp.where(mask, x, 0.0)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("mode", MODES)
def test_relu_jacobian_and_backward_pass(layout, mode):
    x = np.array([1.0, -2.0, 3.0, -1.0])
    upstream = np.array([4.0, -1.0, 5.0, 9.0])
    J = hd.jacobian(relu, layout=layout, mode=mode)(x)
    np.testing.assert_array_equal(J, np.diag([1.0, 0.0, 1.0, 0.0]))
    # dL/dx through the explicit Jacobian, contracted as each layout says ...
    through_J = upstream @ J if layout == "numerator" else J @ upstream
    np.testing.assert_array_equal(through_J, [4.0, 0.0, 5.0, 0.0])
    # ... and through the VJP, never forming J.
    np.testing.assert_array_equal(hd.vjp(relu, x)[1](upstream)[0], [4.0, 0.0, 5.0, 0.0])


@pytest.mark.parametrize("mode", MODES)
@given(N=st.integers(1, 3), D=st.integers(1, 3), M=st.integers(1, 3), seed=st.integers(0, 2 ** 16))
def test_linear_layer_jacobian_contracts_to_upstream_times_w_transpose(mode, N, D, M, seed):
    rng = np.random.default_rng(seed)
    x, W, upstream = rng.standard_normal((N, D)), rng.standard_normal((D, M)), rng.standard_normal((N, M))
    f = lambda x: hnp.tensordot(x, W, axes=1)
    expected = upstream @ W.T
    J_num = hd.jacobian(f, layout="numerator", mode=mode)(x)       # (N, M, N, D)
    J_den = hd.jacobian(f, layout="denominator", mode=mode)(x)     # (N, D, N, M)
    assert J_num.shape == (N, M, N, D) and J_den.shape == (N, D, N, M)
    np.testing.assert_allclose(np.tensordot(upstream, J_num, axes=2), expected, atol=1e-12)
    np.testing.assert_allclose(np.tensordot(J_den, upstream, axes=2), expected, atol=1e-12)
    np.testing.assert_allclose(hd.vjp(f, x)[1](upstream)[0], expected, atol=1e-12)
    # The hand-derived blocks: dy[n, m]/dx[i, d] = delta(n, i) W[d, m].
    assert_jacobian_matches(np.einsum("ni,dm->nmid", np.eye(N), W), f, (x,), layout="numerator")
    assert_jacobian_matches(np.einsum("in,dm->idnm", np.eye(N), W), f, (x,), layout="denominator")


def test_hand_jacobian_in_the_wrong_layout_is_named():
    W = np.arange(6.0).reshape(3, 2)
    f = lambda x: hnp.tensordot(x, W, axes=1)
    with pytest.raises(AssertionError, match="denominator-layout shape"):
        assert_jacobian_matches(W, f, (np.ones(3),), layout="numerator")
    with pytest.raises(AssertionError, match="entry"):
        assert_jacobian_matches(W.T + 1.0, f, (np.ones(3),), layout="numerator")


# ------------------------------------------------------------------ convert_layout

@given(in_shape=shapes, out_shape=shapes, seed=st.integers(0, 100))
def test_convert_layout_round_trips_and_matches_transposition(in_shape, out_shape, seed):
    J = np.random.default_rng(seed).standard_normal(out_shape + in_shape)
    D = hd.convert_layout(J, in_shape, out_shape, "numerator", "denominator")
    assert D.shape == in_shape + out_shape
    np.testing.assert_array_equal(hd.convert_layout(D, in_shape, out_shape, "denominator", "numerator"), J)
    flat = J.reshape(int(np.prod(out_shape)), int(np.prod(in_shape)))
    np.testing.assert_array_equal(D.reshape(flat.shape[::-1]), flat.T)


def test_convert_layout_rejects_bad_input():
    with pytest.raises(ValueError, match="has shape"):
        hd.convert_layout(np.zeros((2, 3)), (2,), (3,), "numerator", "denominator")
    with pytest.raises(ValueError, match=r"convert_layout \(src\)"):
        hd.convert_layout(np.zeros((2, 3)), (3,), (2,), "rows", "denominator")


# ------------------------------------------------------------------ batching: no loop per row or column

@pytest.fixture
def counting_square():
    """An elementwise square whose rules count their calls."""
    calls = {"vjp": 0, "jvp": 0, "impl": 0}

    def impl(x):
        calls["impl"] += 1
        return np.square(x)

    def vjp(g, ans, x):
        calls["vjp"] += 1
        return g * 2.0 * x

    def jvp(t, ans, x):
        calls["jvp"] += 1
        return t * 2.0 * x

    square = Primitive("test_counting_square", impl, vjp=(vjp,), jvp=(jvp,), broadcasts=True)
    square.batch = batch_elementwise(square)
    yield square, calls
    registry.pop("test_counting_square", None)


@pytest.mark.parametrize("mode, rule", [("rev", "vjp"), ("fwd", "jvp")])
def test_every_row_or_column_comes_from_one_batched_pass(counting_square, mode, rule):
    square, calls = counting_square
    x = np.arange(1.0, 7.0)
    J = hd.jacobian(lambda x: square(x) + 0.0, mode=mode)(x)
    np.testing.assert_allclose(J, np.diag(2 * x))
    assert calls[rule] == 1, calls           # one rule call for all 6 rows/columns
    assert calls["impl"] <= 2, calls         # f evaluated once (plus the batched rule's own op)


def test_auto_picks_forward_for_tall_and_reverse_for_wide(counting_square):
    square, calls = counting_square
    tall = lambda x: hnp.concatenate([square(x), square(x) * 2.0, x])  # 2 inputs -> 6 outputs
    hd.jacobian(tall)(np.array([1.0, 2.0]))
    assert calls["jvp"] == 2 and calls["vjp"] == 0
    calls.update(vjp=0, jvp=0)
    wide = lambda x: hnp.sum(square(x))                                  # 6 inputs -> 1 output
    hd.jacobian(wide)(np.arange(6.0))
    assert calls["vjp"] == 1 and calls["jvp"] == 0


# ------------------------------------------------------------------ details

def test_scalar_in_scalar_out_and_dtype():
    assert float(hd.jacobian(hnp.sin)(0.0)) == 1.0
    J = hd.jacfwd(lambda x: x * x)(np.array([1.0, 2.0], dtype=np.float32))
    assert J.dtype == np.float32
    J = hd.jacrev(lambda x: x * x)(np.array([1.0, 2.0], dtype=np.float32))
    assert J.dtype == np.float32


def test_constant_output_and_unused_argument_give_zeros():
    f = lambda x, y: (x * 2.0, np.ones(3))
    for mode in MODES:
        J_x, J_const = hd.jacobian(f, argnums=1, mode=mode)(np.ones(2), np.ones(4))
        np.testing.assert_array_equal(J_x, np.zeros((2, 4)))
        np.testing.assert_array_equal(J_const, np.zeros((3, 4)))


def test_has_aux():
    f = lambda x: (x * x, {"norm": hnp.sum(x)})
    for mode in MODES:
        J, aux = hd.jacobian(f, mode=mode, has_aux=True)(np.array([1.0, 3.0]))
        np.testing.assert_array_equal(J, np.diag([2.0, 6.0]))
        assert float(aux["norm"]) == 4.0


def test_complex_inputs():
    z = np.array([0.5 + 1.0j, -1.0 + 0.25j])
    f = lambda z: hnp.exp(z) * z
    expected = np.diag(np.exp(z) * (1 + z))          # f'(z), f holomorphic
    for mode in MODES:
        np.testing.assert_allclose(hd.jacobian(f, mode=mode, holomorphic=True)(z), expected)
        with pytest.raises(TypeError, match="holomorphic=True"):
            hd.jacobian(f, mode=mode)(z)
    # Real input, complex output: forward mode gives dRe/dx + i dIm/dx; reverse mode needs real outputs.
    g = lambda x: x * (1.0 + 2.0j)
    np.testing.assert_allclose(hd.jacfwd(g)(np.array([1.0, 2.0])), np.eye(2) * (1.0 + 2.0j))
    np.testing.assert_allclose(hd.jacobian(g)(np.array([1.0, 2.0])), np.eye(2) * (1.0 + 2.0j))
    with pytest.raises(TypeError, match="real-valued outputs"):
        hd.jacrev(g)(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="requires complex inputs"):
        hd.jacfwd(g, holomorphic=True)(np.array([1.0, 2.0]))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="layout"):
        hd.jacobian(hnp.sin, layout="rows")
    with pytest.raises(ValueError, match="mode"):
        hd.jacobian(hnp.sin, mode="sideways")
    with pytest.raises(TypeError, match="argument 0"):
        hd.jacobian(hnp.sin)(np.array([1, 2]))
    with pytest.raises(ValueError, match="argnums"):
        hd.jacrev(hnp.sin, argnums=3)(1.0)


@pytest.mark.parametrize("mode", MODES)
def test_linear_layer_jacobian_with_respect_to_the_weights(mode):
    # dy[n, m] / dW[d, k] = x[n, d] delta(m, k): exercises batched tensordot with the batch on either side.
    rng = np.random.default_rng(3)
    x, W = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    f = lambda x, W: hnp.tensordot(x, W, axes=1)
    J_W = hd.jacobian(f, argnums=1, mode=mode)(x, W)
    np.testing.assert_allclose(J_W, np.einsum("nd,mk->nmdk", x, np.eye(4)), atol=1e-12)
    J_both = hd.jacobian(f, argnums=(0, 1), mode=mode, layout="denominator")(x, W)
    np.testing.assert_allclose(J_both[1], np.einsum("nd,mk->dknm", x, np.eye(4)), atol=1e-12)
    np.testing.assert_allclose(J_both[0], np.einsum("ni,dm->idnm", np.eye(2), W), atol=1e-12)
