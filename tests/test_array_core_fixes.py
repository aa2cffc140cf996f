"""Regression tests for the two core fixes made while adding the array primitives."""

import numpy as np

import hodiff as hd
import hodiff.numpy as hnp


def test_non_differentiable_primitives_map_under_vmap():
    # bind used to recurse forever: under vmap there is no derivative tracer left to strip
    x = np.array([[1.0, -2.0], [-3.0, 4.0]])
    np.testing.assert_array_equal(hd.vmap(lambda v: v > 0)(x), x > 0)
    np.testing.assert_array_equal(hd.vmap(lambda v: hnp.where(v > 0, v, 0.0))(x), np.maximum(x, 0))


def test_taylor_of_a_join_with_a_constant_operand():
    # taylor_linear gave a constant operand the scalar series 0.0, which concatenate cannot join
    x = np.array([1.0, 2.0])
    coefficients = hd.taylor(lambda v: hnp.concatenate([v * v, np.ones(3)]), x, np.ones(2), order=2)
    np.testing.assert_allclose(coefficients, [[1, 4, 1, 1, 1], [2, 4, 0, 0, 0], [1, 1, 0, 0, 0]])
    coefficients = hd.taylor(lambda v: hnp.stack([v, np.zeros(2)]), x, np.ones(2), order=1)
    np.testing.assert_allclose(coefficients[1], [[1, 1], [0, 0]])


def test_numpy_pass_through_still_sees_plain_values_after_any_joined_the_namespace():
    # hodiff.numpy's pass-through used the builtin name ``any``, which numpy.any now shadows there
    np.testing.assert_array_equal(hnp.unwrap(np.zeros(2)), np.zeros(2))
    assert hnp.any(np.array([0.0, 1.0])) and not hnp.all(np.array([0.0, 1.0]))
