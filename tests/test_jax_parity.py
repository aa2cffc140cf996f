"""JAX parity where a JAX user lands first (issue 13 item 5): vmap's in_axes/out_axes at any axis,
holomorphic=True on a real input refused, and a list of numbers named as the pytree it is."""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp

X = np.arange(24.0).reshape(2, 3, 4) / 10


def _reference(f, x, in_axis, out_axis):
    """numpy's own loop over the slices of x along in_axis, stacked at out_axis."""
    return np.stack([f(s) for s in np.moveaxis(x, in_axis, 0)], axis=out_axis)


@pytest.mark.parametrize("in_axis,out_axis", [(0, 0), (1, 1), (2, 1), (-1, -1), (1, -1), (2, 0), (-2, 1), (0, -2)])
def test_vmap_in_and_out_axes_match_a_loop(in_axis, out_axis):
    f = lambda s: hnp.sin(s) @ np.ones(s.shape[-1])  # noqa: E731  (reduces the slice's last axis)
    got = hd.vmap(f, in_axes=in_axis, out_axes=out_axis)(X)
    np.testing.assert_allclose(got, _reference(lambda s: np.sin(s) @ np.ones(s.shape[-1]), X, in_axis, out_axis))


def test_vmap_axes_per_argument_and_per_output_and_under_grad():
    w = np.array([1.0, -2.0, 0.5])
    got = hd.vmap(lambda col, v: (hnp.dot(col, v), col * 2), in_axes=(1, None), out_axes=(0, 1))(X[0].T.T, w)
    np.testing.assert_allclose(got[0], X[0].T @ w)
    np.testing.assert_allclose(got[1], 2 * X[0])
    # the gradient through a moved axis: d/dA sum_j (A[:, j] . w)^2 = 2 w (A^T w)^T ... against the closed form
    A = X[0]
    g = hd.grad(lambda a: hnp.sum(hd.vmap(lambda col: hnp.dot(col, w), in_axes=1)(a) ** 2))(A)
    np.testing.assert_allclose(g, 2 * np.outer(w, A.T @ w))


def test_vmap_axis_errors_name_the_argument():
    with pytest.raises(ValueError, match="in_axes=3 is out of range for argument 0"):
        hd.vmap(hnp.sin, in_axes=3)(X)
    with pytest.raises(ValueError, match="out_axes=5 is out of range"):
        hd.vmap(hnp.sin, out_axes=5)(X)
    with pytest.raises(ValueError, match="share one size"):
        hd.vmap(lambda a, b: a + b, in_axes=(0, 1))(X, X)


def test_grad_holomorphic_on_a_real_input_raises_as_jax():
    with pytest.raises(TypeError, match="holomorphic=True requires complex inputs.*float64"):
        hd.grad(lambda z: z ** 2, holomorphic=True)(1.0)
    assert hd.grad(lambda z: z ** 2, holomorphic=True)(1.0 + 2.0j) == pytest.approx(2.0 + 4.0j)


def test_a_list_of_numbers_is_named_a_pytree_with_how_to_stack_it():
    with pytest.raises(TypeError, match="pytree of separate scalars.*hnp.array"):
        hd.vmap(lambda z: z ** 2)([1.0, 2.0])
    with pytest.raises(TypeError, match="pytree of separate scalars.*hnp.array"):
        hd.grad(lambda z: hnp.sum(z ** 2))([1.0, 2.0])
    # a list that f treats as a pytree is fine, and its gradient is a list
    assert hd.grad(lambda z: z[0] * z[1])([1.0, 2.0]) == [2.0, 1.0]


def test_vmap_elementwise_at_the_last_axis_round_trips():
    np.testing.assert_allclose(hd.vmap(hnp.tanh, in_axes=2, out_axes=2)(X), np.tanh(X))
    np.testing.assert_allclose(hd.vmap(hnp.tanh, in_axes=-1, out_axes=0)(X), np.moveaxis(np.tanh(X), -1, 0))
