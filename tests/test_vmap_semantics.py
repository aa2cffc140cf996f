"""vmap's semantics against JAX's (keywords, empty batches, out_axes of namedtuples) and the output leaves every
transform takes (arrays, numbers and the pytree containers)."""

import collections

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp


def test_an_output_that_is_no_pytree_container_nor_array_is_refused_by_every_transform():
    # An OrderedDict (a dict subclass), a set or a str is one leaf to tree_flatten: vmap returned an object array
    # of B copies holding the escaped batch, vjp with a matching cotangent returned zeros, jacfwd/jvp raised numpy's
    # "entry not a 2- or 3- tuple". Refused now, naming the type; dict(x) works.
    x = np.arange(2.0)
    routes = {"vmap": lambda f: hd.vmap(f)(np.ones((3, 2))), "jvp": lambda f: hd.jvp(f, (x,), (x,)),
              "vjp": lambda f: hd.vjp(f, x), "linearize": lambda f: hd.linearize(f, x),
              "jacobian": lambda f: hd.jacfwd(f)(x), "taylor": lambda f: hd.taylor(f, x, x, order=2)}
    for route in routes.values():
        for bad in (lambda a: collections.OrderedDict(a=2 * a), lambda a: (a, {1, 2}), lambda a: [a, "label"]):
            with pytest.raises(TypeError, match="not an array, a number or one of the pytree containers"):
                route(bad)
        route(lambda a: dict(collections.OrderedDict(a=2 * a)))
    assert hd.jacrev(lambda a: dict(collections.OrderedDict(a=2 * a)))(x)["a"].tolist() == [[2.0, 0.0], [0.0, 2.0]]


def test_vmap_keywords_empty_batches_and_namedtuple_out_axes_as_jax():
    # JAX maps keyword arguments over axis 0 (hodiff passed them on and f refused them); a batch of 0 members
    # reshaped with -1, which numpy cannot infer from size 0 (reshape(-1), ravel, cumsum, argmax raised); a
    # namedtuple output with a tuple of out_axes came back a plain tuple; nothing mapped said "got []".
    x = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(hd.vmap(lambda a, b: a * b)(x, b=x + 1), x * (x + 1))
    np.testing.assert_array_equal(hd.vmap(lambda a, b: a * b, in_axes=(1,))(x.T, b=x), x * x)
    for f, member_shape in ((lambda a: a.reshape(-1), (6,)), (lambda a: a.ravel(), (6,)), (hnp.cumsum, (6,)),
                            (hnp.argmax, ()), (lambda a: a.reshape(3, -1), (3, 2))):
        for size in (0, 2):
            stack = np.arange(size * 6.0).reshape(size, 2, 3)
            got = hd.vmap(f)(stack)
            assert got.shape == (size,) + member_shape
            np.testing.assert_array_equal(got, np.array([f(member) for member in stack]).reshape(got.shape))
    point = collections.namedtuple("point", "a b")
    out = hd.vmap(lambda a: point(a, 2 * a), out_axes=(0, 1))(x)
    assert type(out) is point and out.b.shape == (2, 3)
    with pytest.raises(ValueError, match="no argument is mapped"):
        hd.vmap(lambda a: a, in_axes=None)(x)


def test_a_batched_index_into_a_numpy_array_is_explained_as_an_index():
    # it said the value "would drop its derivative", which an integer has none of
    with pytest.raises(hd.core.errors.TracedConversionError, match="traced int64 value reached plain numpy code"):
        hd.vmap(lambda i: np.arange(10.0)[i])(np.array([1, 2, 3]))
    np.testing.assert_array_equal(hd.vmap(lambda i: hnp.take_along_axis(hnp.asarray(np.arange(10.0)), i, axis=0))(
        np.array([[1], [2], [3]])), [[1.0], [2.0], [3.0]])
