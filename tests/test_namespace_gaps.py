"""The hodiff.numpy gaps autograd's own tests exposed (issue 13, item 3).

Values against numpy itself, derivatives in every mode: the rows of
tables/namespace_gaps.py run through check_grads (fwd/rev, order 2, finite
differences) in test_systematic and here through vmap, Taylor mode, Duals and
the graph API against other routes of hodiff. Each of these raised on the
main branch before (TracedConversionError or AttributeError).
"""

import warnings

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.core.errors import TracedConversionError

from . import every_mode
from .tables import namespace_gaps

ROWS = namespace_gaps.ROWS


@pytest.mark.parametrize("check, row", every_mode.cases(ROWS, not_batchable=namespace_gaps.NOT_BATCHABLE))
def test_every_mode_agrees_with_another_route(check, row):
    check(row)


# ----------------------------------------------------------------- values: numpy's, traced or not

_RNG = np.random.default_rng(13)
_A, _B = _RNG.standard_normal((4, 3)), _RNG.standard_normal((4, 3))
_NONFINITE = np.array([1.5, np.nan, np.inf, -np.inf, -0.5])

# (name, numpy's function of plain arrays, the same through hnp): compared on plain values and
# with the first argument traced (the value computed under reverse mode).
VALUE_CASES = [
    ("array", lambda x: np.array([[x[0, 0], 2.0], [x[1, 1], x[2, 0]]]),
     lambda x: hnp.array([[x[0, 0], 2.0], [x[1, 1], x[2, 0]]])),
    ("array[dtype]", lambda x: np.array([x[0], x[1]], dtype=np.float32),
     lambda x: hnp.array([x[0], x[1]], dtype=np.float32)),
    ("r_", lambda x: np.r_[x[0], 1:4, x[1, 0], 0:1:3j], lambda x: hnp.r_[x[0], 1:4, x[1, 0], 0:1:3j]),
    ("r_[directive]", lambda x: np.r_["1,2,0", x[0], x[1]], lambda x: hnp.r_["1,2,0", x[0], x[1]]),
    ("c_", lambda x: np.c_[x, _B, x[:, 0]], lambda x: hnp.c_[x, _B, x[:, 0]]),
    ("c_[scalars]", lambda x: np.c_[1.5, x[0, 0], 2], lambda x: hnp.c_[1.5, x[0, 0], 2]),
    ("linspace", lambda x: np.linspace(x[0, 0], x[1], 7), lambda x: hnp.linspace(x[0, 0], x[1], 7)),
    ("linspace[axis=-1, no endpoint]", lambda x: np.linspace(x[0], x[1], 4, endpoint=False, axis=-1),
     lambda x: hnp.linspace(x[0], x[1], 4, endpoint=False, axis=-1)),
    ("linspace[num=0]", lambda x: np.linspace(x[0, 0], 1.0, 0), lambda x: hnp.linspace(x[0, 0], 1.0, 0)),
    ("linspace[retstep]", lambda x: np.linspace(x[0, 0], 2.0, 5, retstep=True)[1],
     lambda x: hnp.linspace(x[0, 0], 2.0, 5, retstep=True)[1]),
    ("gradient", lambda x: np.gradient(x, 0.5, [0.0, 1.0, 3.0], edge_order=2),
     lambda x: hnp.gradient(x, 0.5, [0.0, 1.0, 3.0], edge_order=2)),
    ("diff", lambda x: np.diff(x, 2, axis=0, prepend=1.0), lambda x: hnp.diff(x, 2, axis=0, prepend=1.0)),
    ("cross", lambda x: np.cross(x, _B, axisa=1, axisb=1, axisc=0),
     lambda x: hnp.cross(x, _B, axisa=1, axisb=1, axisc=0)),
    ("vsplit", lambda x: np.vsplit(x, [1, 3]), lambda x: hnp.vsplit(x, [1, 3])),
    ("hsplit", lambda x: np.hsplit(x, 3), lambda x: hnp.hsplit(x, 3)),
    ("dsplit", lambda x: np.dsplit(x.reshape(2, 2, 3), [1]), lambda x: hnp.dsplit(x.reshape(2, 2, 3), [1])),
    ("row_stack", lambda x: np.vstack([x[0], _B]), lambda x: hnp.row_stack([x[0], _B])),
    ("select", lambda x: np.select([x > 0, _B > 0], [x, _B * 2], default=-1.0),
     lambda x: hnp.select([x > 0, _B > 0], [x, _B * 2], default=-1.0)),
    ("partition", lambda x: np.partition(x, 1, axis=0), lambda x: hnp.partition(x, 1, axis=0)),
    ("partition[several kth]", lambda x: np.partition(x.ravel(), (2, 7)),
     lambda x: hnp.partition(x.ravel(), (2, 7))),
    ("argpartition", lambda x: np.argpartition(x, 2), lambda x: hnp.argpartition(x, 2)),
    ("rollaxis", lambda x: np.rollaxis(x.reshape(2, 2, 3), 2, 1),
     lambda x: hnp.rollaxis(x.reshape(2, 2, 3), 2, 1)),
    ("nan_to_num", lambda x: np.nan_to_num(x[0, :1] * 0 + _NONFINITE, posinf=7.0),
     lambda x: hnp.nan_to_num(x[0, :1] * 0 + _NONFINITE, posinf=7.0)),
    ("nan_to_num[complex]", lambda x: np.nan_to_num(x[0, :1] * 1j + _NONFINITE),
     lambda x: hnp.nan_to_num(x[0, :1] * 1j + _NONFINITE)),
    ("mean of a tuple", lambda x: np.mean((x[0], x[1] * 2), axis=1), lambda x: hnp.mean((x[0], x[1] * 2), axis=1)),
    ("int64", lambda x: np.int64(x * 3), lambda x: hnp.int64(x * 3)),
    # numpy 2's array-API names
    ("pow", lambda x: np.pow(x, 3.0), lambda x: hnp.pow(x, 3.0)),
    ("concat", lambda x: np.concat([x, _B], axis=1), lambda x: hnp.concat([x, _B], axis=1)),
    ("concat[axis=None]", lambda x: np.concat([x, _B[0]], axis=None), lambda x: hnp.concat([x, _B[0]], axis=None)),
    ("permute_dims", lambda x: np.permute_dims(x, (1, 0)), lambda x: hnp.permute_dims(x, (1, 0))),
    ("matrix_transpose", lambda x: np.matrix_transpose(x.reshape(2, 2, 3)),
     lambda x: hnp.matrix_transpose(x.reshape(2, 2, 3))),
    ("unstack", lambda x: np.unstack(x, axis=1), lambda x: hnp.unstack(x, axis=1)),
    ("cumulative_sum[include_initial]", lambda x: np.cumulative_sum(x, axis=0, include_initial=True),
     lambda x: hnp.cumulative_sum(x, axis=0, include_initial=True)),
    ("cumulative_prod", lambda x: np.cumulative_prod(x[0]), lambda x: hnp.cumulative_prod(x[0])),
    ("vecdot", lambda x: np.vecdot(x, _B), lambda x: hnp.vecdot(x, _B)),
    ("vecdot[axis=0]", lambda x: np.vecdot(x, _B, axis=0), lambda x: hnp.vecdot(x, _B, axis=0)),
    ("vecdot[complex]", lambda x: np.vecdot(x * 1j + _B, _B - 2j), lambda x: hnp.vecdot(x * 1j + _B, _B - 2j)),
    ("matvec", lambda x: np.matvec(x.reshape(2, 2, 3), _B[0]), lambda x: hnp.matvec(x.reshape(2, 2, 3), _B[0])),
    ("vecmat", lambda x: np.vecmat(x[:, 0], _B), lambda x: hnp.vecmat(x[:, 0], _B)),
    ("vecmat[complex]", lambda x: np.vecmat(x[:, 0] * 1j, _B + 1j), lambda x: hnp.vecmat(x[:, 0] * 1j, _B + 1j)),
    ("polyval", lambda x: np.polyval(x[0], x[1:]), lambda x: hnp.polyval(x[0], x[1:])),
    ("trapezoid", lambda x: np.trapezoid(x, x[0], axis=1), lambda x: hnp.trapezoid(x, x[0], axis=1)),
    ("copy", lambda x: np.copy(x), lambda x: hnp.copy(x)),
    ("interp", lambda x: np.interp(x, [-1.0, 0.0, 0.5], [2.0, -1.0, 0.5], left=-3.0),
     lambda x: hnp.interp(x, [-1.0, 0.0, 0.5], [2.0, -1.0, 0.5], left=-3.0)),
    ("interp[period]", lambda x: np.interp(x, [0.1, 0.9, 0.4], [2.0, -1.0, 0.5], period=1.2),
     lambda x: hnp.interp(x, [0.1, 0.9, 0.4], [2.0, -1.0, 0.5], period=1.2)),
    ("interp[at the knots]", lambda x: np.interp(x * 0 + np.array([0.0, 0.5, 1.0]), [0.0, 0.5, 1.0], [3.0, 1.0, 2.0]),
     lambda x: hnp.interp(x * 0 + np.array([0.0, 0.5, 1.0]), [0.0, 0.5, 1.0], [3.0, 1.0, 2.0])),
    ("searchsorted", lambda x: np.searchsorted(np.sort(x[0]), x[1], side="right"),
     lambda x: hnp.searchsorted(hnp.sort(x[0]), x[1], side="right")),
]


def _traced_value(function, x):
    return hd.vjp(function, x)[0]


@pytest.mark.parametrize("name, reference, function", VALUE_CASES, ids=[c[0] for c in VALUE_CASES])
def test_values_are_numpys_plain_and_traced(name, reference, function):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = reference(_A)
        for got in (function(_A), _traced_value(function, _A)):
            for e, g in zip(*(v if isinstance(v, (list, tuple)) else [v] for v in (expected, got))):
                assert np.result_type(g) == np.result_type(e), f"{name}: dtype {np.result_type(g)}"
                np.testing.assert_array_equal(np.shape(g), np.shape(e))
                np.testing.assert_allclose(g, e, rtol=1e-14, atol=1e-15)


def test_untraced_arguments_get_numpy_itself():
    x = np.arange(3.0)
    assert hnp.asarray(x) is x
    assert type(hnp.r_[x, 1:3]) is np.ndarray
    with pytest.raises(ValueError, match="inhomogeneous"):
        hnp.array([[1.0, 2.0], [3.0]])


def test_ragged_traced_lists_raise_numpys_error():
    with pytest.raises(ValueError, match="inhomogeneous"):
        hd.grad(lambda x: hnp.sum(hnp.array([[x, x], [x]])))(1.0)


# ----------------------------------------------------------------- autograd's own assertions

def test_reductions_of_lists_of_traced_values():
    # autograd's test_mean/std/var_list_of_boxes: exact values
    for build in (list, tuple):
        assert hd.grad(lambda x: hnp.mean(build([x, x + 2])))(0.0) == 1.0
        assert hd.grad(lambda x: hnp.std(build([x, x + 2])))(0.0) == 0.0
        assert hd.grad(lambda x: hnp.var(build([x, x + 2])))(0.0) == 0.0


def test_array_of_scalars_against_the_closed_form():
    # d/dx sum([[x, x*1, x+2.5], [x^2, x, x/2]]) = 1 + 1 + 1 + 2x + 1 + 1/2 = 4.5 + 2x
    def f(x):
        return hnp.sum(hnp.array([[x, x * 1.0, x + 2.5], [x ** 2, x, x / 2.0]]))

    for x in (3.0, -0.5):
        assert hd.grad(f)(x) == pytest.approx(4.5 + 2 * x, rel=1e-15)
        assert hd.jvp(f, (x,), (1.0,))[1] == pytest.approx(4.5 + 2 * x, rel=1e-15)
        coefficients = hd.taylor(f, x, 1.0, order=3)
        np.testing.assert_allclose(coefficients, [f(x), 4.5 + 2 * x, 1.0, 0.0], rtol=1e-15)


def test_linspace_against_the_closed_form():
    # entry i = a + (b - a) i / (n - 1): d/da = 1 - i/(n-1), d/db = i/(n-1); the last entry is b itself
    jacobian_a, jacobian_b = hd.jacobian(lambda a, b: hnp.linspace(a, b, 5), argnums=(0, 1))(1.2, -3.4)
    np.testing.assert_allclose(jacobian_a, 1 - np.arange(5) / 4, rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(jacobian_b, np.arange(5) / 4, rtol=1e-15, atol=1e-16)
    assert hd.grad(lambda a: hnp.linspace(a, 2.0, 5)[-1])(1.0) == 0.0
    assert hd.grad(lambda a: hnp.linspace(a, 2.0, 1)[0])(1.0) == 1.0


def test_gradient_of_a_quadratic_is_exact():
    # np.gradient is exact for quadratics inside (central) and with edge_order=2 at the edges:
    # d/dc gradient(c x^2, x) = 2 x.
    coordinates = np.array([0.0, 0.4, 1.1, 1.5, 2.6])
    d = hd.jacobian(lambda c: hnp.gradient(c * coordinates ** 2, coordinates, edge_order=2))(1.7)
    np.testing.assert_allclose(d, 2 * coordinates, rtol=1e-13, atol=1e-13)


def test_cross_jacobian_is_the_skew_matrix():
    # d(a x b)/db = [a]_x, the skew-symmetric matrix of a
    a, b = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -0.7])
    skew = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    np.testing.assert_allclose(hd.jacobian(lambda v: hnp.cross(a, v))(b), skew, rtol=1e-15)
    np.testing.assert_allclose(hd.jacfwd(lambda u: hnp.cross(u, b))(a), -np.array(
        [[0, -b[2], b[1]], [b[2], 0, -b[0]], [-b[1], b[0], 0]]), rtol=1e-15)


def test_partition_follows_the_entries():
    x = np.array([0.3, -1.2, 2.0, 0.1, 5.0, -3.0, 1.0])
    weights = np.arange(1.0, 8.0)
    gradient = hd.grad(lambda v: hnp.sum(hnp.partition(v, 3) * weights))(x)
    order = np.argpartition(x, 3)
    expected = np.zeros(7)
    expected[order] = weights
    np.testing.assert_allclose(gradient, expected)
    assert hnp.partition(x, 3)[3] == np.sort(x)[3]


def test_nan_to_num_passes_finite_entries_and_stops_the_rest():
    x = np.array([0.5, 1.0, 2.0, 3.0])
    gradient = hd.grad(lambda v: hnp.sum(hnp.nan_to_num(v + np.array([0.0, np.nan, np.inf, -np.inf]))))(x)
    np.testing.assert_array_equal(gradient, [1.0, 0.0, 0.0, 0.0])


def test_casting_to_int_is_a_constant_in_every_mode():
    # autograd's test_cast_to_int, and astype(int) / round(...).astype(int): no derivative, no error
    def f(w):
        indices = hnp.int64(w[:, -1])
        assert indices.dtype == np.int64
        return hnp.sum(w[:, :-1][indices]) + hnp.sum(hnp.round(w).astype(int)) + hnp.sum(w.astype("int32"))

    w = np.array([[0.5, 1.5, 1.2], [2.0, -1.0, 0.7], [0.1, 0.2, 2.9]])
    expected = np.zeros_like(w)
    for row in np.int64(w[:, -1]):
        expected[row, :-1] += 1.0
    np.testing.assert_array_equal(hd.grad(f)(w), expected)
    np.testing.assert_array_equal(hd.jvp(f, (w,), (np.ones_like(w),))[1], expected.sum())
    np.testing.assert_allclose(hd.taylor(f, w, np.ones_like(w), order=2)[1:], [expected.sum(), 0.0])
    assert np.dtype(hnp.int64) == np.int64 and np.zeros(2, dtype=hnp.int32).dtype == np.int32
    assert hnp.int64(3) == 3 and type(hnp.int64(3)) is np.int64


def test_splits_need_numpys_dimensions():
    with pytest.raises(ValueError, match="2 or more"):
        hd.grad(lambda x: hnp.sum(hnp.vsplit(x, 2)[0]))(np.ones(4))
    with pytest.raises(ValueError, match="3 or more"):
        hd.grad(lambda x: hnp.sum(hnp.dsplit(x, 2)[0]))(np.ones((2, 4)))
    with pytest.raises(np.exceptions.AxisError):
        hd.grad(lambda x: hnp.sum(hnp.rollaxis(x, 0, 5)))(np.ones((2, 4)))


# ----------------------------------------------------------------- truthiness and conversions

def _in_every_mode(function, x):
    """function's value computed under grad, jvp, Taylor, a Dual and a Variable."""
    return [hd.value_and_grad(function)(x)[0], hd.jvp(function, (x,), (1.0,))[0],
            hd.taylor(function, x, 1.0, order=2)[0], function(hd.Dual(x, 1.0)).primal,
            function(hd.Variable(x)).value]


def test_python_control_flow_reads_the_value_in_every_mode():
    def f(x):
        assert x
        assert hnp.reshape(x, (1, 1))
        if x > 1.0:
            return x * x
        return -x

    assert _in_every_mode(f, 2.0) == [4.0] * 5
    assert _in_every_mode(f, 0.5) == [-0.5] * 5


def test_truth_of_a_larger_traced_array_is_numpys_error():
    with pytest.raises(ValueError, match="truth value of an array with more than one element"):
        hd.grad(lambda x: hnp.sum(x) if x else 0.0)(np.ones(2))


@pytest.mark.parametrize("convert, name", [(lambda x: x.item(), ".item()"), (int, "int()"),
                                           (float, "float()"), (complex, "complex()")])
def test_conversions_to_python_numbers_name_themselves(convert, name):
    for run in (lambda f: hd.grad(f)(1.5), lambda f: hd.jvp(f, (1.5,), (1.0,)),
                lambda f: hd.vmap(f)(np.ones(2)), lambda f: f(hd.Variable(1.5))):
        with pytest.raises(TracedConversionError, match=f"^{name.replace('(', '[(]').replace(')', '[)]')} of a traced"):
            run(lambda x: convert(x * 2.0))


def test_array_api_names_refuse_what_they_do_not_support():
    with pytest.raises(ValueError, match="axis must be given"):
        hnp.cumulative_sum(_A)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        hnp.matrix_transpose(_A[0])
    with pytest.raises(TypeError, match="vecdot: argument keepdims not supported"):  # traced (plain: numpy's)
        hd.grad(lambda a: hnp.sum(hnp.vecdot(a, _B, keepdims=True)))(_A)
    np.testing.assert_array_equal(hnp.vecdot(_A, _B, keepdims=True), np.vecdot(_A, _B, keepdims=True))
    with pytest.raises(ValueError, match="matvec: needs a matrix and a vector"):
        hd.grad(lambda a: hnp.sum(hnp.matvec(a, _B[0])))(_A[0])


@pytest.mark.parametrize("call", [lambda x, buf: hnp.arccos(x, out=buf), lambda x, buf: hnp.maximum(x, 0.5, out=buf),
                                  lambda x, buf: hnp.sin(x, where=x > 0.3), lambda x, buf: hnp.floor(x * 3, out=buf),
                                  lambda x, buf: hnp.exp(x, dtype=np.float32)])
def test_ufunc_keywords_on_traced_values_are_refused_before_anything_is_written(call):
    # out= was written and then a rule raised "_scaled_by.<locals>.rule() got an unexpected keyword argument"
    # (the kwargs audit); floor(x, out=buf) returned the buffer. numpy's own call on plain arrays stays.
    x = np.linspace(0.1, 0.9, 4)
    for transform in (lambda f: hd.jvp(f, (x,), (x,)), lambda f: hd.grad(lambda x: hnp.sum(f(x)))(x)):
        buf = np.zeros(4)
        with pytest.raises(TypeError, match=r"hodiff\.numpy\.[a-z]+: (out|where|dtype)= is not supported on traced"):
            transform(lambda x: call(x, buf))
        assert not buf.any()
    buf = np.zeros(4)
    call(x, buf)  # plain: numpy's ufunc keywords
    assert buf.any() or call is not None


def test_methods_and_casts_numpy_has():
    x = np.array([[5.5, -3.2], [1.0, 7.0]])
    np.testing.assert_array_equal(hd.jvp(lambda x: x.mT, (x,), (x,))[1], x.T)
    np.testing.assert_array_equal(hd.grad(lambda x: hnp.sum(x.ptp(axis=0)))(x), [[1.0, -1.0], [-1.0, 1.0]])
    quotient, rest = hd.jvp(lambda x: divmod(x, 2.0), (x,), (np.ones_like(x),))[1]
    np.testing.assert_array_equal(quotient, 0.0)  # floor(x / 2) is piecewise constant; x mod 2 has slope 1
    np.testing.assert_array_equal(rest, 1.0)
    np.testing.assert_array_equal(hnp.divmod(x, 2.0)[1], np.divmod(x, 2.0)[1])
    np.testing.assert_array_equal(hd.grad(lambda x: hnp.sum(x.astype(np.float32, order="C", casting="same_kind")))(x),
                                  np.ones_like(x))
    with pytest.raises(TypeError, match="Cannot cast array data from dtype\\('float64'\\) to dtype\\('int32'\\)"):
        hd.grad(lambda x: hnp.sum(x.astype(np.int32, casting="safe")))(x)
    with pytest.raises(TypeError, match="fabs: complex input is not supported"):
        hnp.fabs(np.array([1 + 2j]))  # numpy refuses it; hodiff gave |z|
    a = np.random.default_rng(0).standard_normal((4, 3))
    rank = hd.jvp(lambda a: hnp.linalg.lstsq(a, np.ones(4))[2], (a,), (a,))[0]
    assert type(rank) is type(np.linalg.lstsq(a, np.ones(4))[2])  # numpy's int32, not a Python int


def test_vector_products_of_plain_integer_and_boolean_arrays_are_numpys():
    # vecdot(bool, bool) gave int64 counts [3, 2, 2] where numpy's is a logical sum (True ...), linalg.vecdot of
    # ints float64, vecmat of bools int8 (the kwargs audit); traced float operands keep hodiff's rules.
    b = np.array([[True, True, False, True], [False, True, True, False], [True, False, False, True]])
    i = np.arange(12).reshape(3, 4) - 5
    for ours, numpys, args in [(hnp.vecdot, np.vecdot, (b, b)), (hnp.linalg.vecdot, np.linalg.vecdot, (i, i)),
                               (hnp.vecmat, np.vecmat, (b[:, 0], b)), (hnp.matvec, np.matvec, (b, b[0]))]:
        got, want = ours(*args), numpys(*args)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(hd.grad(lambda x: hnp.vecdot(x, x))(x), 2 * x)


def test_block_of_traced_values_is_numpys_block():
    # np.block of a traced value raised (autograd differentiates it). Reference: numpy's block of the values;
    # block is a placement, so the gradient of sum(block * W) is W at the traced block's place.
    A, B, C = np.arange(4.0).reshape(2, 2), np.ones((2, 1)), np.array([7.0, 8.0, 9.0])
    W = np.arange(9.0).reshape(3, 3)
    value, grad = hd.value_and_grad(lambda a: hnp.sum(hnp.block([[a, B], [C]]) * W))(A)
    assert float(value) == float(np.sum(np.block([[A, B], [C]]) * W))
    np.testing.assert_array_equal(grad, W[:2, :2])
    assert float(hd.grad(lambda s: hnp.sum(hnp.block([s, C]) ** 2))(2.0)) == 4.0  # a scalar gets a leading axis
    with pytest.raises(ValueError, match="dimensions except for the concatenation axis must match"):
        hd.grad(lambda a: hnp.sum(hnp.block([[a, np.ones((3, 1))]])))(A)  # numpy's own structure check


def test_heaviside_and_pad_are_differentiable_in_their_fill_values():
    # heaviside(x1, x2) takes x2 where x1 == 0, but its derivative in x2 was 0; pad's traced constant_values raised.
    # Reference: central differences of numpy's own functions (both linear in the fill value).
    x = np.array([1.0, 4.0, 2.0, 8.0, -1.0])
    h = 1e-6
    numpys = lambda v: np.sum(np.heaviside(x - 2, v))  # noqa: E731
    assert float(hd.grad(lambda v: hnp.sum(hnp.heaviside(x - 2, v)))(2.5)) == pytest.approx(
        (numpys(2.5 + h) - numpys(2.5 - h)) / (2 * h), rel=1e-8)
    np.testing.assert_array_equal(hd.grad(lambda x: hnp.sum(hnp.heaviside(x - 2, 0.5) * x))(x),
                                  np.heaviside(x - 2, 0.5))
    w = np.arange(9.0).reshape(3, 3)
    padded = lambda v: np.sum(np.pad(np.ones((2, 2)), ((1, 0), (0, 1)), constant_values=v) * w)  # noqa: E731
    got = hd.grad(lambda v: hnp.sum(hnp.pad(np.ones((2, 2)), ((1, 0), (0, 1)), constant_values=v) * w))(1.0)
    assert float(got) == pytest.approx((padded(1.0 + h) - padded(1.0 - h)) / (2 * h), rel=1e-8)


@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_convolve_and_correlate_of_traced_values_are_numpys(name):
    # np.convolve / np.correlate of a traced value raised. Reference: numpy's own calls; both are bilinear, so
    # the JVP along (a, v) is twice the value and the gradient of <W, conv(a, v)> in a is numpy's correlation.
    rng = np.random.default_rng(7)
    ours, numpys = getattr(hnp, name), getattr(np, name)
    for n, m in [(4, 3), (3, 4), (2, 5), (5, 1), (3, 3)]:
        for complex_values in (False, True):
            a, v = rng.standard_normal(n), rng.standard_normal(m)
            if complex_values:
                a, v = a + 1j * rng.standard_normal(n), v - 2j * rng.standard_normal(m)
            for mode in ("full", "same", "valid"):
                value, tangent = hd.jvp(lambda a, v: ours(a, v, mode=mode), (a, v), (a, v))
                want = numpys(a, v, mode=mode)
                np.testing.assert_allclose(value, want, rtol=1e-12, atol=1e-14, err_msg=f"{n} {m} {mode}")
                np.testing.assert_allclose(tangent, 2 * want, rtol=1e-12, atol=1e-14)
    a, v, W = rng.standard_normal(4), rng.standard_normal(3), rng.standard_normal(6)
    if name == "convolve":
        np.testing.assert_allclose(hd.grad(lambda a: hnp.sum(hnp.convolve(a, v) * W))(a),
                                   np.correlate(W, v, mode="valid"), rtol=1e-12)
    assert hd.vmap(lambda a: ours(a, v, mode="full"))(np.stack([a, 2 * a])).shape == (2, 6)


def test_copysign_of_traced_values_is_numpys():
    # copysign was refused on traced values. Reference: numpy's value; away from 0 it is +-x1, so d/dx1 is the
    # sign of x1 * x2 and d/dx2 is 0 (central differences of numpy's function agree).
    x1, x2 = np.array([1.5, -2.0, 0.5, 3.0]), np.array([-1.0, -3.0, 2.0, -0.0])
    value, tangent = hd.jvp(lambda a: hnp.copysign(a, x2), (x1,), (np.ones(4),))
    np.testing.assert_array_equal(value, np.copysign(x1, x2))
    h = 1e-6
    np.testing.assert_allclose(tangent, (np.copysign(x1 + h, x2) - np.copysign(x1 - h, x2)) / (2 * h), rtol=1e-9)
    np.testing.assert_array_equal(hd.grad(lambda b: hnp.sum(hnp.copysign(x1, b)))(x2), np.zeros(4))
