"""Functional index updates (issue 13, item 4): x.at[index].set/add/multiply/... and put_along_axis.

Values against numpy's own in-place assignment, np.add.at, np.multiply.at ...
on plain arrays; derivatives: the rows of tables/index_updates.py run through
check_grads (fwd/rev to order 2 against finite differences) in
test_systematic, and here through vmap, Taylor mode, Duals and the graph API
against other routes of hodiff. None of this existed on the main branch
before (x.at was an AttributeError, put_along_axis raised on traced values).
"""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.core.errors import TracedConversionError
from hodiff.testing.numerical import numerical_jacobian

from . import every_mode
from .tables import index_updates

ROWS = index_updates.ROWS


@pytest.mark.parametrize("check, row", every_mode.cases(ROWS))
def test_every_mode_agrees_with_another_route(check, row):
    check(row)


# ----------------------------------------------------------------- values: numpy's in-place updates

_RNG = np.random.default_rng(4)
_X = _RNG.standard_normal((4, 3, 5))
_MASK = _RNG.standard_normal((4, 3)) > 0

INDICES = {
    "int": (2,),
    "negative ints": (-1, 0),
    "slices": (slice(1, None, 2), slice(None, 2)),
    "ellipsis and None": (Ellipsis, None, 3),
    "int array": (np.array([3, 0]),),
    "list": ([1, 2],),
    "adjacent arrays": (slice(None), np.array([0, 2]), np.array([1, 4])),
    "arrays split by a slice": (np.array([[0], [2]]), slice(None), np.array([1, 4, 0])),
    "bool mask": (_MASK,),
    "bool mask and slice": (slice(None), np.array([True, False, True])),
    "repeated ints": (np.array([1, 3, 1, 1]),),
    "repeated pairs": (np.array([0, 2, 0]), slice(None), np.array([4, 1, 4])),
    "empty": (np.array([], dtype=int),),
}

UFUNCS = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
          "power": np.power, "min": np.minimum, "max": np.maximum}


def _values(index, seed=0):
    shape = _X[index].shape
    return np.random.default_rng(seed).uniform(0.5, 1.5, shape)


def _numpy_set(x, index, values):
    out = x.copy()
    out[index] = values
    return out


def _numpy_ufunc_at(ufunc, x, index, values):
    out = x.copy()
    ufunc.at(out, index, values)
    return out


@pytest.mark.parametrize("name", INDICES)
def test_set_is_numpys_assignment(name):
    index = INDICES[name]
    values = _values(index)
    expected = _numpy_set(_X, index, values)
    before = _X.copy()
    np.testing.assert_array_equal(hnp.at(_X)[index].set(values), expected)
    np.testing.assert_array_equal(_X, before)  # x is never modified
    traced = hd.vjp(lambda x, v: x.at[index].set(v), _X, values)[0]
    np.testing.assert_array_equal(traced, expected)
    np.testing.assert_array_equal(hnp.at(_X)[index].get(), _X[index])


@pytest.mark.parametrize("op", UFUNCS)
@pytest.mark.parametrize("name", INDICES)
def test_updates_are_numpys_ufunc_at(name, op):
    index = INDICES[name]
    values = _values(index)
    x = np.abs(_X) + 0.5  # power needs a positive base
    expected = _numpy_ufunc_at(UFUNCS[op], x, index, values)
    np.testing.assert_allclose(getattr(hnp.at(x)[index], op)(values), expected, rtol=1e-15, atol=1e-15)
    traced = hd.jvp(lambda a, v: getattr(a.at[index], op)(v), (x, values), (x, values))[0]
    np.testing.assert_allclose(traced, expected, rtol=1e-15, atol=1e-15)


def test_values_broadcast_and_cast_as_numpy_assigns():
    x = np.zeros((3, 4), dtype=np.float32)
    out = hnp.at(x)[:, 1:3].set(np.array([[1.0, 2.0]]))  # float64 values into float32 x
    expected = x.copy()
    expected[:, 1:3] = np.array([[1.0, 2.0]])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(hnp.at(np.arange(4))[1].set(2.7), [0, 2, 2, 3])  # int x truncates
    np.testing.assert_array_equal(hnp.at([1.0, 2.0])[0].add(1.0), [2.0, 2.0])  # a list is an array
    gradient = hd.grad(lambda v: hnp.sum(hnp.at(x)[0].set(v) * 3.0))(np.float32(2.0))
    assert gradient.dtype == np.float32 and gradient == 12.0


# ----------------------------------------------------------------- derivatives

def _jacobians(function, *args):
    reverse = hd.jacrev(function, argnums=tuple(range(len(args))))(*args)
    forward = hd.jacfwd(function, argnums=tuple(range(len(args))))(*args)
    numeric = [numerical_jacobian(lambda a, i=i: function(*args[:i], a, *args[i + 1:]), args[i])
               for i in range(len(args))]
    return reverse, forward, numeric


@pytest.mark.parametrize("op", ["set", "add", "multiply", "min"])
def test_repeated_indices_against_central_differences(op):
    x = np.array([0.3, -1.2, 2.0, 0.7])
    values = np.array([1.5, -0.4, 0.9, 0.2, 1.1])
    index = np.array([2, 0, 2, 3, 2])

    def function(a, v):
        return getattr(hnp.at(a)[index], op)(v)

    for reverse, forward, numeric in zip(*_jacobians(function, x, values)):
        np.testing.assert_allclose(reverse, forward, rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(reverse, numeric, rtol=1e-7, atol=1e-8)


def test_set_with_repeated_indices_keeps_the_last_occurrence():
    x = np.zeros(3)
    values = np.array([1.0, 2.0, 3.0, 4.0])
    out = hnp.at(x)[[1, 0, 1, 1]].set(values)
    np.testing.assert_array_equal(out, _numpy_set(x, [1, 0, 1, 1], values))
    np.testing.assert_array_equal(out, [2.0, 4.0, 0.0])
    jacobian = hd.jacobian(lambda v: hnp.at(x)[[1, 0, 1, 1]].set(v))(values)
    np.testing.assert_array_equal(jacobian, [[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]])


def test_add_at_repeated_indices_closed_form():
    # y = x.at[i].add(v): dy/dx = I, dy/dv = the 0/1 scatter matrix (repeats accumulate)
    index = np.array([0, 2, 0, 0])
    scatter = np.zeros((3, 4))
    scatter[index, np.arange(4)] = 1.0
    dx, dv = hd.jacobian(lambda x, v: x.at[index].add(v), argnums=(0, 1))(np.ones(3), np.arange(4.0))
    np.testing.assert_array_equal(dx, np.eye(3))
    np.testing.assert_array_equal(dv, scatter)


def test_multiply_in_turn_closed_form_to_third_order():
    # x.at[[0, 0]].multiply(v) makes x0 v0 v1; its third derivative d^3/dx0 dv0 dv1 is 1
    def f(x, v):
        return hnp.sum(hnp.at(x)[[0, 0]].multiply(v))

    x, v = np.array([2.0, 5.0]), np.array([3.0, 7.0])
    assert f(x, v) == 2.0 * 3.0 * 7.0 + 5.0
    hessian = hd.hessian(lambda w: f(w[:2], w[2:]))(np.r_[x, v])
    expected = np.zeros((4, 4))
    expected[0, 2] = expected[2, 0] = 7.0
    expected[0, 3] = expected[3, 0] = 3.0
    expected[2, 3] = expected[3, 2] = 2.0
    np.testing.assert_allclose(hessian, expected, rtol=1e-15)
    third = hd.derivative_tensor(lambda w: f(w[:2], w[2:]), order=3)(np.r_[x, v])
    assert third[0, 2, 3] == pytest.approx(1.0, rel=1e-14) and third[0, 0, 0] == 0.0
    hd.check_grads(f, (x, v), order=3)


def test_gmm_lower_triangle_assignment_is_the_log_likelihoods_port():
    # GradBench gmm writes Ls[:, rows, cols] = lower; the functional form must give the same
    # matrices and the same gradient as the loop that writes them entry by entry.
    k, d = 3, 4
    rng = np.random.default_rng(7)
    q, lower = rng.standard_normal((k, d)), rng.standard_normal((k, d * (d - 1) // 2))
    rows, cols = np.tril_indices(d, -1)

    def functional(q, lower):
        ls = hnp.at(np.zeros((k, d, d)))[:, rows, cols].set(lower)
        return hnp.at(ls)[:, np.arange(d), np.arange(d)].set(hnp.exp(q))

    def by_entries(q, lower):
        blocks = []
        for j in range(k):
            entries = [[0.0] * d for _ in range(d)]
            for i in range(d):
                entries[i][i] = hnp.exp(q[j, i])
            for n, (r, c) in enumerate(zip(rows, cols)):
                entries[r][c] = lower[j, n]
            blocks.append(hnp.array(entries))
        return hnp.stack(blocks)

    reference = np.zeros((k, d, d))
    reference[:, rows, cols] = lower
    reference[:, np.arange(d), np.arange(d)] = np.exp(q)
    np.testing.assert_array_equal(functional(q, lower), reference)

    def loss(function):
        return lambda q, lower: hnp.sum(hnp.tanh(function(q, lower) @ np.arange(1.0, d + 1)))

    expected = hd.grad(loss(by_entries), argnums=(0, 1))(q, lower)
    for a, b in zip(hd.grad(loss(functional), argnums=(0, 1))(q, lower), expected):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def test_lstm_row_writes_match_stacking():
    x, w = np.random.default_rng(8).standard_normal((4, 3)), np.array([0.2, -0.3, 0.5])

    def written(x, w):
        s2 = hnp.zeros_like(x)
        for i in range(4):
            s2 = hnp.at(s2)[i].set(hnp.tanh(x[i] * (s2[i - 1] if i else w) + w))  # s2 starts plain
        return hnp.sum(s2 ** 2)

    def stacked(x, w):
        rows = []
        for i in range(4):
            rows.append(hnp.tanh(x[i] * (rows[-1] if i else w) + w))
        return hnp.sum(hnp.stack(rows) ** 2)

    assert written(x, w) == stacked(x, w)
    for a, b in zip(hd.grad(written, argnums=(0, 1))(x, w), hd.grad(stacked, argnums=(0, 1))(x, w)):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)
    for a, b in zip(hd.hessian(written)(x, w).ravel(), hd.hessian(stacked)(x, w).ravel()):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-14)


# ----------------------------------------------------------------- .at on every kind of traced value

def test_at_is_a_property_of_every_traced_value():
    x, v = np.arange(4.0), 5.0
    expected = np.array([0.0, 5.0, 2.0, 3.0])
    eps = hd.Perturbation()  # both Duals on one perturbation: one joint direction
    dual = hd.Dual(x, np.ones(4), tag=eps).at[1].set(hd.Dual(v, 2.0, tag=eps))
    np.testing.assert_array_equal(dual.primal, expected)
    np.testing.assert_array_equal(dual.tangent, [1.0, 2.0, 1.0, 1.0])
    variable, value = hd.Variable(x), hd.Variable(v)
    hnp.sum(variable.at[1].set(value) * np.arange(1.0, 5.0)).backward()
    np.testing.assert_array_equal(variable.grad, [1.0, 0.0, 3.0, 4.0])
    assert value.grad == 2.0
    batched = hd.vmap(lambda row: row.at[1].set(row[0] * 2.0))(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(batched, [[0.0, 0.0, 2.0], [3.0, 6.0, 5.0]])
    series = hd.taylor(lambda t: t.at[0].multiply(t[1]), x, np.ones(4), order=2)
    np.testing.assert_array_equal(series[:, 0], [0.0, 1.0, 1.0])  # x0 x1 along (1, 1): t (1 + t)


# ----------------------------------------------------------------- put_along_axis

def test_put_along_axis_is_numpys():
    rng = np.random.default_rng(9)
    a = rng.standard_normal((3, 4))
    indices = np.argsort(a, axis=1)[:, :2]
    values = rng.standard_normal((3, 2))
    expected = a.copy()
    np.put_along_axis(expected, indices, values, axis=1)
    np.testing.assert_array_equal(hnp.put_along_axis(a, indices, values, 1, inplace=False), expected)
    traced = hd.vjp(lambda a, v: hnp.put_along_axis(a, indices, v, 1, inplace=False), a, values)[0]
    np.testing.assert_array_equal(traced, expected)
    flat = a.copy()
    np.put_along_axis(flat, np.array([7, 1]), 0.5, axis=None)
    np.testing.assert_array_equal(hnp.put_along_axis(a, np.array([7, 1]), 0.5, None, inplace=False), flat)
    in_place = a.copy()
    assert hnp.put_along_axis(in_place, indices, values, 1) is None  # plain values: numpy's in-place call
    np.testing.assert_array_equal(in_place, expected)


def test_put_along_axis_derivatives_against_central_differences():
    indices = np.array([[0, 2], [1, 1], [2, 0]])

    def function(a, v):
        return hnp.put_along_axis(a, indices, v, 1, inplace=False)

    a, v = np.random.default_rng(10).standard_normal((3, 3)), np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    for reverse, forward, numeric in zip(*_jacobians(function, a, v)):
        np.testing.assert_allclose(reverse, forward, rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(reverse, numeric, rtol=1e-7, atol=1e-8)


# ----------------------------------------------------------------- clear refusals

def test_refusals_name_the_problem():
    with pytest.raises(TypeError, match=r"x\.at\[i\]\.set\(v\)"):
        def assign(x):
            x[0] = 1.0
            return x

        hd.grad(lambda x: hnp.sum(assign(x)))(np.ones(2))
    with pytest.raises(TypeError, match="inplace=False"):
        hd.grad(lambda a: hnp.sum(hnp.put_along_axis(a, np.array([0]), 1.0, 0)))(np.ones(2))
    with pytest.raises(IndexError):
        hnp.at(np.ones(3))[3].set(1.0)
    with pytest.raises(IndexError):
        hd.grad(lambda x: hnp.sum(x.at[[0, 5]].add(1.0)))(np.ones(3))
    with pytest.raises(TypeError, match="cannot be used as an index"):
        hd.grad(lambda x: hnp.sum(x.at[x].set(1.0)))(np.ones(3))
    with pytest.raises(ValueError, match="could not broadcast"):
        hnp.at(np.ones((3, 2)))[0].set(np.ones(3))
    with pytest.raises(TypeError, match="cannot be used as an index"):
        hd.vmap(lambda x, i: x.at[i].set(0.0))(np.ones((2, 3)), np.array([0, 1]))
    assert issubclass(TracedConversionError, Exception)


def test_tuples_and_ranges_inside_an_index_are_integer_arrays_as_numpys():
    # numpy reads x[:, (0, 0)] as x[:, [0, 0]]; hodiff read the tuple as a basic index: the value was right, but
    # reverse mode did not add the repeats (grad 1 for 2, jacrev against jacfwd), .at[].add/multiply applied a
    # repeat once (np.add.at: [0, 2, 0, 1]) and vmap missed numpy's move-to-front rule with a range.
    x = np.arange(12.0).reshape(3, 4)
    for index in ((slice(None), (0, 0)), (slice(None), range(0, 1)), (range(3), (1, 1, 2))):
        def f(a, index=index):
            return hnp.sum(a[index] ** 2)
        counts = np.zeros_like(x)
        np.add.at(counts, tuple(np.asarray(i) if not isinstance(i, slice) else i for i in index), 1.0)
        for route in (hd.grad, hd.jacrev, hd.jacfwd):
            np.testing.assert_array_equal(route(f)(x), 2 * x * counts, err_msg=f"{route.__name__} {index}")
    added, multiplied = np.zeros(4), np.full(3, 2.0)
    np.add.at(added, [1, 1, 3], 1.0)
    np.multiply.at(multiplied, [0, 0], 3.0)
    np.testing.assert_array_equal(hnp.at(np.zeros(4))[((1, 1, 3),)].add(1.0), added)
    np.testing.assert_array_equal(hnp.at(np.full(3, 2.0))[((0, 0),)].multiply(3.0), multiplied)
    stack = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    np.testing.assert_array_equal(hd.vmap(lambda a: a[range(2), :, [1, 2]])(stack),
                                  np.stack([member[range(2), :, [1, 2]] for member in stack]))
