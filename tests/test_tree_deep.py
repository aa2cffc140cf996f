"""Pytrees nested thousands of levels deep (issue 12 item 6): every walk is iterative."""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.core.tree import tree_flatten, tree_map, tree_structure, tree_unflatten


def nest(x, depth, kind=list):
    for _ in range(depth):
        x = {"k": x} if kind is dict else kind([x]) if kind is list else (x, None)
    return x


def innermost(tree):
    while isinstance(tree, (list, tuple, dict)):
        tree = tree["k"] if isinstance(tree, dict) else tree[0]
    return tree


def f(tree):
    return sum(hnp.sum(leaf**2) for leaf in tree_flatten(tree)[0])


@pytest.mark.parametrize("depth", [500, 5000])
@pytest.mark.parametrize("kind", [list, tuple, dict])
def test_flatten_unflatten_map_deep(depth, kind):
    x = np.arange(3.0)
    tree = nest(x, depth, kind)
    leaves, treedef = tree_flatten(tree)
    assert len(leaves) == 1 and leaves[0] is x
    back = tree_unflatten(treedef, [x + 1])
    np.testing.assert_array_equal(innermost(back), x + 1)
    assert tree_structure(back) == treedef
    assert hash(tree_structure(back)) == hash(treedef)
    assert tree_structure(nest(x, depth + 1, kind)) != treedef
    assert tree_structure(nest(x, depth - 1, kind)) != treedef
    np.testing.assert_array_equal(innermost(tree_map(lambda a: 2 * a, tree)), 2 * x)
    assert repr(treedef).count("*") == 1


def test_deep_treedefs_differing_only_at_the_bottom():
    a = tree_structure(nest([1.0, 2.0], 3000))
    b = tree_structure(nest([1.0, None], 3000))
    c = tree_structure(nest({"a": 1.0, "b": 2.0}, 3000))
    assert a != b and a != c and b != c
    assert len({a, b, c, tree_structure(nest([3.0, 4.0], 3000))}) == 3


@pytest.mark.parametrize("depth", [500, 5000])
def test_transforms_on_deep_trees(depth):
    x = np.array([0.5, -1.0, 2.0])
    tree = nest(x, depth)
    np.testing.assert_allclose(innermost(hd.grad(f)(tree)), 2 * x)
    value, tangent = hd.jvp(f, (tree,), (nest(np.ones(3), depth),))
    np.testing.assert_allclose(value, np.sum(x**2))
    np.testing.assert_allclose(tangent, np.sum(2 * x))
    np.testing.assert_allclose(innermost(hd.jacobian(f)(tree)), 2 * x)
    np.testing.assert_allclose(innermost(innermost(hd.hessian(f)(tree))), 2 * np.eye(3))
    xs = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(hd.vmap(f)(nest(xs, depth)), np.sum(xs**2, axis=1))


@pytest.mark.parametrize("kind", [list, dict])
def test_cycle_is_refused(kind):
    cyclic = [1.0] if kind is list else {"a": 1.0}
    if kind is list:
        cyclic.append(cyclic)
    else:
        cyclic["b"] = cyclic
    with pytest.raises(ValueError, match="contains itself"):
        tree_flatten(cyclic)
    with pytest.raises(ValueError, match="contains itself"):
        hd.grad(f)(cyclic)


def test_namedtuples_are_pytree_nodes_in_every_transform():
    # They were leaves: jvp, jacfwd, jacrev, vjp and taylor of qr/eigh/svd (namedtuple results, as numpy's)
    # raised TracedConversionError; JAX treats them as nodes, as vmap here already did.
    import collections

    import hodiff.numpy as hnp
    from hodiff.core.tree import tree_flatten, tree_unflatten

    Pair = collections.namedtuple("Pair", "first second")
    tree = (1.0, Pair(2.0, [3.0, Pair(4.0, None)]))
    leaves, treedef = tree_flatten(tree)
    assert leaves == [1.0, 2.0, 3.0, 4.0] and repr(treedef) == "(*, Pair(*, [*, Pair(*, None)]),)"
    rebuilt = tree_unflatten(treedef, leaves)
    assert rebuilt == tree and type(rebuilt[1]) is Pair and type(rebuilt[1].second[1]) is Pair
    assert tree_flatten(Pair(1.0, 2.0))[1] != tree_flatten((1.0, 2.0))[1]

    a = np.array([[2.0, 0.5], [0.5, 1.0]])
    t = np.array([[0.3, -0.2], [-0.2, 0.7]])
    (w, v), (dw, dv) = hd.jvp(hnp.linalg.eigh, (a,), (t,))
    w_np, v_np = np.linalg.eigh(a)
    np.testing.assert_allclose(w, w_np, rtol=1e-14)
    np.testing.assert_allclose(dw, np.einsum("ji,jk,ki->i", v_np, t, v_np), rtol=1e-12)
    q, r = hd.jvp(hnp.linalg.qr, (a,), (t,))[1]
    assert type(hd.jvp(hnp.linalg.qr, (a,), (t,))[1]).__name__ == "QRResult"
    recombined = q @ np.linalg.qr(a)[1] + np.linalg.qr(a)[0] @ r  # d(QR) = dQ R + Q dR
    np.testing.assert_allclose(recombined, t, atol=1e-12)
    jacobian = hd.jacfwd(lambda m: hnp.linalg.eigh(m))(a)
    np.testing.assert_allclose(np.einsum("kij,ij->k", jacobian.eigenvalues, t), dw, rtol=1e-12)


def test_a_dict_subclass_is_refused_by_name():
    # an OrderedDict (a leaf: the pytree containers are exact types) raised numpy's "entry not a 2- or 3- tuple"
    import collections

    params = collections.OrderedDict(b=np.ones(2), a=np.ones(1))
    for transform in (hd.grad, hd.hessian):
        with pytest.raises(TypeError, match="holds a OrderedDict, which is not one of the pytree containers"):
            transform(lambda p: hnp.sum(p["a"] ** 2) + hnp.sum(p["b"]))(params)
    np.testing.assert_array_equal(hd.grad(lambda p: hnp.sum(p["a"] ** 2))(dict(params))["a"], [2.0])
    with pytest.raises(TypeError, match="dict's keys must be sortable .* got keys of types int, str"):
        tree_flatten({1: np.ones(2), "a": np.ones(2)})  # was Python's "'<' not supported between ..."

