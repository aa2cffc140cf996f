"""Shape operations and indexing: numpy's values, batching of advanced indices, immutability."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hodiff as hd
import hodiff.numpy as hnp

X = np.arange(24.0).reshape(2, 3, 4) / 7 - 1

VALUE_CASES = [
    ("diag", (X[0],), {}), ("diag", (X[0], 1), {}), ("diag", (X[0, 0],), {"k": -2}),
    ("diagonal", (X,), {"offset": 1, "axis1": 2, "axis2": 0}), ("diagonal", (X[0],), {"offset": -5}),
    ("triu", (X,), {"k": -1}), ("tril", (X[0],), {"k": 1}), ("triu", (X[0, 0],), {}),
    ("moveaxis", (X, [0, 2], [2, 0]), {}), ("swapaxes", (X, -1, 0), {}),
    ("ravel", (X,), {}), ("squeeze", (X[:, :1, None],), {}), ("squeeze", (X[:, :1],), {"axis": -2}),
    ("expand_dims", (X, (1, -1)), {}),
    ("tile", (X[0], 2), {}), ("tile", (X[0, 0], (2, 1, 2)), {}),
    ("repeat", (X, 2), {"axis": -1}), ("repeat", (X, 3), {}), ("repeat", (X[0], [1, 0, 2]), {"axis": 0}),
    ("flip", (X,), {}), ("flip", (X, (0, 2)), {}), ("fliplr", (X[0],), {}), ("flipud", (X[0],), {}),
    ("roll", (X, 5), {}), ("roll", (X, -2), {"axis": 1}), ("roll", (X, (1, -1)), {"axis": (0, 2)}),
    ("pad", (X[0], 1), {}), ("pad", (X[0], ((0, 2), (1, 0))), {"constant_values": ((1, 2), (3, 4))}),
    ("pad", (X[0], 2), {"mode": "edge"}), ("pad", (X[0], (3, 1)), {"mode": "reflect"}),
    ("pad", (X[0], 4), {"mode": "symmetric"}), ("pad", (X[0], 5), {"mode": "wrap"}),
    ("hstack", ([X[0], X[1]],), {}), ("vstack", ([X[0, 0], X[1]],), {}),
    ("dstack", ([X[0], X[1]],), {}), ("column_stack", ([X[0, :, 0], X[1, :, :2]],), {}),
    ("atleast_1d", (X[0, 0, 0],), {}), ("atleast_2d", (X[0, 0],), {}), ("atleast_3d", (X[0],), {}),
    ("atleast_3d", (X[0, 0],), {}), ("concatenate", ([X, X],), {"axis": None}),
    ("take_along_axis", (X, np.argsort(X, axis=1)), {"axis": 1}),
    ("take_along_axis", (X, np.array([5, 0, 23])), {"axis": None}),
    ("append", (X, X[0]), {}), ("append", (X, X[:1]), {"axis": 0}),
    ("rot90", (X,), {}), ("rot90", (X, 2), {"axes": (1, 2)}), ("rot90", (X, -1), {"axes": (2, 0)}),
    ("rot90", (X, 3), {}), ("rot90", (X, 4), {}),
    ("take", (X, [3, 0, 3]), {"axis": -1}), ("take", (X, [[1, 2], [22, 23]]), {}),
]


@pytest.mark.parametrize("name, args, kwargs", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_values_match_numpy(name, args, kwargs):
    expected = getattr(np, name)(*args, **kwargs)
    got = getattr(hnp, name)(*args, **kwargs)
    np.testing.assert_array_equal(got, expected)
    assert np.shape(got) == np.shape(expected)


@pytest.mark.parametrize("name, sections, axis", [("split", 2, 0), ("split", [1, 3], 2), ("array_split", 3, 2),
                                                  ("array_split", [2, 2, 5], 1)])
def test_split_returns_a_list_like_numpy(name, sections, axis):
    expected = getattr(np, name)(X, sections, axis=axis)
    got = getattr(hnp, name)(X, sections, axis=axis)
    assert isinstance(got, list) and len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
    gradient = hd.grad(lambda x: sum(hnp.sum(part * (k + 1)) for k, part in enumerate(getattr(hnp, name)(
        x, sections, axis=axis))))(X)
    expected_gradient = np.concatenate([np.full(e.shape, k + 1.0) for k, e in enumerate(expected)], axis=axis)
    np.testing.assert_array_equal(gradient, expected_gradient)


def test_shape_errors_are_numpys():
    with pytest.raises(ValueError, match="equal division"):
        hnp.split(X, 3, axis=2)
    with pytest.raises(ValueError, match="size not equal to one"):
        hnp.squeeze(X, axis=0)
    with pytest.raises(ValueError, match="1- or 2-d"):
        hnp.diag(X)
    with pytest.raises(ValueError, match="modes"):
        hnp.pad(X, 1, mode="linear_ramp")
    with pytest.raises(ValueError, match="dimensions"):
        hnp.take_along_axis(X, np.zeros((2, 3), dtype=int), axis=1)
    with pytest.raises(np.exceptions.AxisError):
        hnp.moveaxis(X, 3, 0)


def test_gathers_accumulate_their_cotangents():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(hd.grad(lambda v: hnp.sum(hnp.pad(v, 2, mode="edge")))(x), [3, 1, 3])
    np.testing.assert_array_equal(hd.grad(lambda v: hnp.sum(hnp.repeat(v, [2, 0, 3])))(x), [2, 0, 3])
    np.testing.assert_array_equal(hd.grad(lambda v: hnp.sum(v[[0, 0, 2, 0]]))(x), [3, 0, 1])
    np.testing.assert_array_equal(hd.grad(lambda v: hnp.sum(hnp.tile(v, 4)))(x), [4, 4, 4])
    np.testing.assert_array_equal(
        hd.grad(lambda v: hnp.sum(hnp.take_along_axis(v, np.array([2, 2, 1]), axis=0)))(x), [0, 1, 2])
    np.testing.assert_array_equal(hd.grad(lambda v: hnp.sum(hnp.pad(v, 1, constant_values=5.0)))(x), [1, 1, 1])


# --------------------------------------------------------------- advanced indexing under vmap

INDICES = [
    (slice(None), [0, 2]),
    ([0, 1], slice(None), [1, 3]),                 # separated by a slice: numpy moves the arrays' axis first
    (0, slice(None), [1, 2, 2]),                   # an int counts as an array once one is present
    (slice(1, None), 0, [1, 2]),                   # int and array adjacent: stays in place
    ([0, 1], None, [1, 2]),                        # None separates
    ([[0], [1]], Ellipsis, [0, 1, 2]),             # an Ellipsis separates
    (Ellipsis, [1, 0]),
    (np.array([False, True]), slice(1, None)),
    (slice(None), np.array([True, False, True]), [0, 3]),
    (0, slice(None), np.array([True, False, True, True])),
    (np.array([[True, False, False], [False, True, True]]),),
    ([1, 0], [2, 2], slice(None, None, -1)),
    (1, [0, 2], None, [3, 1]),
]


def _as_index(items):
    return tuple(np.asarray(i) if isinstance(i, list) else i for i in items)


@pytest.mark.parametrize("items", INDICES, ids=[str(i) for i in range(len(INDICES))])
def test_advanced_index_batch_rule_matches_a_loop(items):
    index = _as_index(items)
    stacked = np.stack([X, 2 * X, -X])
    expected = np.stack([member[index] for member in stacked])
    np.testing.assert_array_equal(hd.vmap(lambda x: x[index])(stacked), expected)
    # the batched VJP scatters each member's cotangent (index_add's batch rule)
    cotangents = np.random.default_rng(0).standard_normal(expected.shape)
    _, vjp_fn = hd.vjp(lambda x: x[index], X)
    batched = hd.vmap(lambda g: vjp_fn(g)[0])(cotangents)
    for k in range(3):
        np.testing.assert_allclose(batched[k], vjp_fn(cotangents[k])[0])
    # and the Jacobian both ways (batched tangents and batched cotangents)
    np.testing.assert_array_equal(hd.jacfwd(lambda x: x[index])(X), hd.jacrev(lambda x: x[index])(X))


@given(st.lists(st.one_of(
    st.just(slice(None)), st.integers(-2, 1), st.lists(st.integers(-2, 1), min_size=1, max_size=3), st.none(),
    st.just(slice(1, None))), min_size=1, max_size=4))
def test_random_indices_batch_like_a_loop(items):
    index = _as_index(items)
    x = X[:2, :2, :2]  # every int above is in range for each axis
    try:
        x[index]
    except IndexError:
        return  # too many indices or incompatible array shapes: numpy's error, nothing to batch
    stacked = np.stack([x, x + 1])
    expected = np.stack([member[index] for member in stacked])
    np.testing.assert_array_equal(hd.vmap(lambda v: v[index])(stacked), expected)


# --------------------------------------------------------------- immutability and methods

def test_assignment_into_a_traced_array_says_how_to_build_it():
    def f(x):
        x[0] = 1.0
        return hnp.sum(x)

    for transform in (hd.grad(f), lambda x: hd.jvp(f, (x,), (x,)), hd.vmap(f)):
        with pytest.raises(TypeError, match="immutable") as error:
            transform(np.ones((2, 3)))
        assert "hnp.where" in str(error.value) and "concatenate" in str(error.value)
    with pytest.raises(TypeError, match="immutable"):
        f(hd.Variable(np.ones(3)))


def test_array_methods_on_tracers():
    x = X[0]

    def f(v):
        return (v.T.sum(axis=0) @ v.reshape(4, 3)[:3].dot(np.ones(3))
                + v.ravel()[::5].sum() + v.flatten().max() + v[None].squeeze().swapaxes(0, 1).sum(axis=(0,))[0]
                + v.transpose(1, 0).diagonal().sum() + v.repeat(2, axis=0).take([0, 5], axis=0).sum()
                + v.trace() + v.T.T.mean())

    np.testing.assert_allclose(f(hd.Variable(x)).value, f(x))
    hd.check_grads(f, (x,), order=2)


NUMPY_FUNCTIONS_ON_TRACERS = {
    # numpy's own functions that call the array's method when given a non-ndarray
    "sum": lambda v: np.sum(v, axis=0), "mean": lambda v: np.mean(v, axis=1), "var": np.var,
    "std": lambda v: np.std(v, ddof=1), "max": lambda v: np.max(v, axis=0), "min": np.min, "prod": np.prod,
    "cumsum": np.cumsum, "cumprod": lambda v: np.cumprod(v, axis=1), "reshape": lambda v: np.reshape(v, (3, 2)),
    "transpose": np.transpose, "squeeze": lambda v: np.squeeze(v[None]), "swapaxes": lambda v: np.swapaxes(v, 0, 1),
    "take": lambda v: np.take(v, [1, 5, 1]), "repeat": lambda v: np.repeat(v, 2, axis=1),
    "matmul": lambda v: np.matmul(v, v.T), "take wrap": lambda v: np.take(v, [7, -8], mode="wrap"),
}


@pytest.mark.parametrize("name", NUMPY_FUNCTIONS_ON_TRACERS)
def test_numpy_functions_that_call_methods_work_on_tracers(name):
    function = NUMPY_FUNCTIONS_ON_TRACERS[name]
    x = X[0, :2, :3] + 2
    np.testing.assert_allclose(function(hd.Variable(x)).value, function(x))
    hd.check_grads(function, (x,), order=1)


@pytest.mark.parametrize("spell", ["method", "function", "ravel", "flatten"])
def test_column_major_reshapes_follow_numpy(spell):
    # x.reshape(..., order="F") ignored its order (a silently row-major value and gradient). Reference: numpy's
    # own reshape of the plain values; the gradient of sum(r(x) * W) is W put back by the inverse reshape.
    x = np.arange(24.0).reshape(2, 3, 4)
    reshapes = {
        "method": (lambda v: v.reshape((4, 6), order="F"), lambda v: v.reshape((4, 6), order="F")),
        "function": (lambda v: hnp.reshape(v, (3, -1), order="F"), lambda v: np.reshape(v, (3, -1), order="F")),
        "ravel": (lambda v: hnp.ravel(v, order="F"), lambda v: np.ravel(v, order="F")),
        "flatten": (lambda v: v.flatten("F"), lambda v: v.flatten("F")),
    }
    ours, numpys = reshapes[spell]
    expected = numpys(x)
    W = np.random.default_rng(0).standard_normal(expected.shape)
    value, grad = hd.value_and_grad(lambda v: hnp.sum(ours(v) * W))(x)
    assert float(value) == pytest.approx(float(np.sum(expected * W)), rel=1e-14)
    np.testing.assert_array_equal(grad, np.reshape(W.ravel(order="F"), x.shape, order="F"))
    np.testing.assert_array_equal(hd.jvp(ours, (x,), (x,))[1], expected)  # linear: J x = r(x)
    np.testing.assert_array_equal(hd.vmap(ours)(np.stack([x, -x])), np.stack([expected, -expected]))


def test_memory_order_reshapes_of_traced_values_are_refused_and_plain_ones_are_numpys():
    x = np.arange(6.0).reshape(2, 3).T  # F-contiguous: 'A' and 'K' read it column by column
    np.testing.assert_array_equal(hnp.ravel(x, order="K"), np.ravel(x, order="K"))
    np.testing.assert_array_equal(hnp.reshape(x, 6, order="A"), np.reshape(x, 6, order="A"))
    with pytest.raises(ValueError, match="order='A' follows an array's memory layout"):
        hd.grad(lambda v: hnp.sum(v.reshape(6, order="A")))(x)
    with pytest.raises(ValueError, match="order must be 'C', 'F', 'A' or 'K', got 'Q'"):
        hnp.ravel(x, order="Q")
