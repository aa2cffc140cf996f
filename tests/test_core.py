"""The core on its own: pytrees, argnums, has_aux, errors, vjp/jvp/linearize, memory and scale."""

import gc
import weakref

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.core.tree import tree_flatten, tree_map, tree_unflatten

# ----------------------------------------------------------------- pytrees

def test_tree_round_trip_sorts_dict_keys_and_keeps_none():
    tree = {"b": [1.0, (2.0, None)], "a": np.ones(2)}
    leaves, treedef = tree_flatten(tree)
    assert len(leaves) == 3 and leaves[0] is tree["a"]
    rebuilt = tree_unflatten(treedef, leaves)
    assert rebuilt["b"][1][1] is None and rebuilt["b"][0] == 1.0
    assert tree_map(lambda x: x * 2, tree)["b"][0] == 2.0


def test_grad_of_mixed_pytree_keeps_structure_shape_and_dtype():
    params = {"w": np.arange(3.0, dtype=np.float32), "layers": [(1.5, np.ones((2, 2)))]}

    def loss(p):
        return hnp.sum(p["w"] ** 2) + p["layers"][0][0] * hnp.sum(p["layers"][0][1])

    gradient = hd.grad(loss)(params)
    assert gradient["w"].dtype == np.float32
    np.testing.assert_allclose(gradient["w"], 2 * np.arange(3.0))
    assert isinstance(gradient["layers"], list) and isinstance(gradient["layers"][0], tuple)
    assert gradient["layers"][0][0] == pytest.approx(4.0)
    np.testing.assert_allclose(gradient["layers"][0][1], 1.5 * np.ones((2, 2)))


def test_python_float_input_gives_numpy_float64_scalar():
    gradient = hd.grad(lambda x: x * x)(3.0)
    assert isinstance(gradient, np.float64) and gradient == 6.0


def test_argnums_tuple_and_negative():
    f = lambda x, y, z: x * y * z
    assert hd.grad(f, argnums=(0, 2))(2.0, 3.0, 4.0) == (12.0, 6.0)
    assert hd.grad(f, argnums=-1)(2.0, 3.0, 4.0) == 6.0


def test_has_aux_returns_aux_untraced():
    def f(x):
        y = hnp.sin(x)
        return y * 2, {"y": y}

    gradient, aux = hd.grad(f, has_aux=True)(0.5)
    assert gradient == pytest.approx(2 * np.cos(0.5))
    assert not isinstance(aux["y"], hd.core.trace.Tracer) and aux["y"] == pytest.approx(np.sin(0.5))
    (value, aux2), gradient2 = hd.value_and_grad(f, has_aux=True)(0.5)
    assert value == pytest.approx(2 * np.sin(0.5)) and gradient2 == gradient


def test_constant_output_gives_zero_gradient():
    assert hd.grad(lambda x: 3.0)(1.0) == 0.0
    np.testing.assert_array_equal(hd.grad(lambda x: hnp.sum(hd.stop_gradient(x) ** 2))(np.ones(3)), 0.0)


def test_stop_gradient_blocks_only_its_path():
    f = lambda x: x * hd.stop_gradient(x)
    assert hd.grad(f)(3.0) == 3.0


def test_size_one_array_output_is_a_scalar_for_grad():
    np.testing.assert_allclose(hd.grad(lambda x: x * 2.0)(np.array([1.5])), [2.0])


# ----------------------------------------------------------------- errors

@pytest.mark.parametrize("bad", [2, True, np.arange(3), np.array([True])])
def test_integer_or_bool_argument_is_a_type_error_naming_it(bad):
    with pytest.raises(TypeError, match=r"argument 0 has dtype"):
        hd.grad(lambda x: hnp.sum(x * 1.0))(bad)


def test_second_argument_is_named():
    with pytest.raises(TypeError, match="argument 1"):
        hd.grad(lambda x, n: x * n, argnums=(0, 1))(1.0, 3)


def test_non_scalar_output_suggests_jacobian():
    with pytest.raises(TypeError, match="jacobian"):
        hd.grad(lambda x: x * 2)(np.ones(3))


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match="out of range"):
        hd.grad(lambda x: x, argnums=2)(1.0)


def test_assignment_into_traced_array_says_how_to_build_it():
    def f(x):
        x[0] = 1.0
        return hnp.sum(x)

    with pytest.raises(TypeError, match="functionally"):
        hd.grad(f)(np.ones(3))


def test_plain_numpy_on_traced_value_names_the_fix():
    with pytest.raises(TypeError, match="hodiff.numpy"):
        hd.grad(lambda x: np.asarray(x).sum())(np.ones(2))


def test_numpy_ufunc_on_traced_value_is_routed_to_hodiff():
    assert hd.grad(lambda x: np.sin(x))(0.0) == 1.0


def test_undifferentiable_numpy_function_names_itself():
    with pytest.raises(TypeError, match="hodiff.numpy.unwrap is not differentiable"):
        hd.grad(lambda x: hnp.sum(hnp.unwrap(x)))(np.ones(3))
    np.testing.assert_array_equal(hnp.unwrap(np.zeros(2)), np.zeros(2))  # plain values pass through


def test_float_of_traced_value_refuses_to_drop_derivative():
    with pytest.raises(TypeError, match="stop_gradient"):
        hd.grad(lambda x: float(x))(1.0)


def test_complex_output_needs_holomorphic():
    with pytest.raises(TypeError, match="holomorphic"):
        hd.grad(lambda z: z * z)(1.0 + 1.0j)
    assert hd.grad(lambda z: z * z, holomorphic=True)(1.0 + 2.0j) == pytest.approx(2.0 + 4.0j)


def test_vjp_checks_cotangent_shape():
    _, vjp_fn = hd.vjp(lambda x: x * 2, np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        vjp_fn(np.ones(2))


def test_jvp_checks_tangent_shape():
    with pytest.raises(ValueError, match="shape"):
        hd.jvp(hnp.sin, (np.ones(3),), (np.ones(2),))


# ----------------------------------------------------------------- vjp, jvp, linearize

def test_vjp_fn_reuses_graph_for_many_cotangents():
    x = np.array([0.5, -1.0])
    out, vjp_fn = hd.vjp(lambda x: hnp.sin(x) * x[::-1], x)
    jacobian_rows = np.stack([vjp_fn(e)[0] for e in np.eye(2)])
    expected = np.array([[np.cos(x[0]) * x[1], np.sin(x[0])], [np.sin(x[1]), np.cos(x[1]) * x[0]]])
    np.testing.assert_allclose(jacobian_rows, expected)


def test_jvp_with_pytree_primals_and_outputs():
    f = lambda p: {"sum": p["a"] + p["b"], "prod": p["a"] * p["b"]}
    out, tangent = hd.jvp(f, ({"a": 2.0, "b": 3.0},), ({"a": 1.0, "b": 0.0},))
    assert out["prod"] == 6.0 and tangent["prod"] == 3.0 and tangent["sum"] == 1.0


def test_jvp_builds_no_reverse_graph():
    from hodiff.interpreters import reverse

    before = next(reverse._node_ids)
    hd.jvp(lambda x: hnp.sum(hnp.sin(x) * x), (np.ones(4),), (np.ones(4),))
    assert next(reverse._node_ids) == before + 1  # no Node was created in between


def test_linearize_matches_jvp_and_does_not_reevaluate():
    calls = []

    def f(x):
        calls.append(1)
        return hnp.exp(hnp.sin(x)) * x

    x = np.array([0.2, 0.7])
    out, jvp_fn = hd.linearize(f, x)
    for v in (np.array([1.0, 0.0]), np.array([0.3, -2.0])):
        np.testing.assert_allclose(jvp_fn(v), hd.jvp(f, (x,), (v,))[1], rtol=1e-13)
    assert len(calls) == 1 + 2  # one linearization, two jvp calls for the reference


def test_dual_arithmetic_and_batched_tangents():
    d = hd.Dual(np.array([0.1, 0.2]), np.eye(2), batched=True)
    y = hnp.sin(d) * d
    np.testing.assert_allclose(y.tangent, np.diag(np.cos([0.1, 0.2]) * [0.1, 0.2] + np.sin([0.1, 0.2])))
    assert y.primal.shape == (2,)
    with pytest.raises(ValueError, match="does not match"):
        hd.Dual(np.ones(2), np.ones(3))


# ----------------------------------------------------------------- memory and scale

def test_graph_is_released_when_transform_returns():
    refs = []

    def f(x):
        y = hnp.sin(x) * x
        refs.append(weakref.ref(y.node))
        return hnp.sum(y)

    hd.grad(f)(np.ones(3))
    gc.disable()
    try:
        assert refs[0]() is None, "a node outlived its transform: a reference cycle keeps graphs alive"
    finally:
        gc.enable()


def test_graph_api_nodes_die_with_their_variables():
    x = hd.Variable(2.0)
    z = hnp.sin(x * x)
    node_ref = weakref.ref(z.node)
    z.backward()
    del z
    assert node_ref() is None


def test_million_node_chain_differentiates_without_recursion():
    def f(x):
        for _ in range(250_000):  # 4 primitives per step: 1,000,000 nodes
            x = x * 1.0000001 + 1e-7 * hnp.sin(x)
        return x

    value, gradient = hd.value_and_grad(f)(0.5)
    assert np.isfinite(gradient) and gradient > 1.0


def test_import_leaves_scipy_optimize_and_integrate_for_later():
    """`import hodiff` (every CLI call, every script) stays ~0.27 s shorter: scipy.optimize and
    scipy.integrate load when minimize / odeint first run."""
    import subprocess
    import sys

    code = "import sys, hodiff; print(sorted(m for m in ('scipy.optimize', 'scipy.integrate') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
