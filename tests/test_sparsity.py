"""jacobian_sparsity / hessian_sparsity: no missed entry (central differences, then hd.jacobian / hd.hessian as a
second check) over functions of many primitive classes, exact patterns of known structures, clear errors."""

import numpy as np
import pytest
import scipy.sparse as sp

import hodiff as hd
import hodiff.nn as hnn
import hodiff.numpy as hnp
import hodiff.scipy.special as hsp
from hodiff.core.trace import registry
from hodiff.transforms.sparsity import classified

RNG = np.random.default_rng(15)
N = 12
A_CONST = RNG.normal(size=(4, 3)) * (RNG.random((4, 3)) < 0.5)  # a constant with exact zeros
M_CONST = RNG.normal(size=(N, N)) * (np.abs(np.subtract.outer(np.arange(N), np.arange(N))) <= 1)  # tridiagonal
W = RNG.normal(size=(3, 4))
INDEX = np.array([0, 3, 3, 7, 11])
MASK = RNG.random(N) < 0.5


def _m(x):
    return hnp.reshape(x, (3, 4))


# (name, f: R^12 -> array, exact): exact is a pair (Jacobian, Hessian of a weighted sum of f's entries): whether the
# pattern equals the union of the nonzeros at random x (a pattern may be conservative: max picks one entry per x;
# a nonlinear op whose entries are partly dropped later, or a linalg op, adds pairs the function never uses).
FUNCTIONS = [
    ("unary chain", lambda x: hnp.exp(hnp.sin(x)) * hnp.cos(x) + hnp.tanh(x) ** 2, (True, True)),
    ("broadcast binary", lambda x: _m(x) * x[:4][None, :] + x[4:7][:, None] / (2.0 + x[:1] ** 2), (True, True)),
    ("sum axis 0", lambda x: hnp.sum(_m(x) ** 2, axis=0), (True, True)),
    ("mean keepdims", lambda x: hnp.mean(hnp.sin(_m(x)), axis=1, keepdims=True) * x[:3, None], (True, True)),
    ("prod and max", lambda x: hnp.concatenate([hnp.prod(_m(x), axis=1), hnp.max(_m(x), axis=0)]), (False, False)),
    ("transpose reshape", lambda x: hnp.reshape(hnp.transpose(_m(x) ** 3), (2, 6))[:, ::2], (True, True)),
    ("integer index", lambda x: x[INDEX] * x[::-1][INDEX], (True, True)),
    ("boolean mask", lambda x: hnp.exp(x[MASK]) + x[MASK][::-1], (True, True)),
    ("concatenate stack", lambda x: hnp.stack([hnp.concatenate([x[:3], np.ones(2), x[9:]]), x[:8] ** 2]), (True, True)),
    ("matmul constant", lambda x: hnp.sin(_m(x)) @ A_CONST, (True, True)),
    ("matmul traced", lambda x: _m(x) @ _m(x).T, (True, True)),
    ("banded constant matmul", lambda x: M_CONST @ hnp.sin(x), (True, True)),
    ("vector dot", lambda x: hnp.reshape(x[:6] @ x[6:], (1,)), (True, True)),
    ("einsum", lambda x: hnp.einsum("ij,jk,k->i", _m(x), W.T, x[:3]), (True, True)),
    ("tensordot", lambda x: hnp.tensordot(hnp.reshape(x, (2, 3, 2)), W[:, :2], axes=([1, 2], [0, 1])), (True, True)),
    ("where and compare", lambda x: hnp.where(x > 0, x ** 2, -x) + 3.0 * hnp.where(MASK, x, 0.0) + x[0] ** 3,
     (True, False)),
    ("constant mask where", lambda x: hnp.where(MASK, hnp.sin(x), 2.0) + hnp.tril(_m(x) ** 2).ravel(), (True, True)),
    ("constant zeros multiply", lambda x: hnp.exp(x) * MASK.astype(float) + hnp.outer(x[:2], MASK[:3] * 1.0).ravel()[0],
     (True, True)),
    ("maximum abs", lambda x: hnp.maximum(x, x[::-1]) + hnp.abs(x[0] - x), (False, False)),
    ("at add", lambda x: hnp.at(x ** 2)[INDEX].add(hnp.exp(x[:5])), (True, True)),
    ("take along axis", lambda x: hnp.take_along_axis(_m(x), np.array([[2, 0], [1, 1], [3, 0]]), axis=1), (True, True)),
    ("softmax logsumexp", lambda x: hnn.softmax(_m(x), axis=1)[0] + hnp.sum(hnn.logsumexp(_m(x), axis=0)),
     (True, True)),
    ("weighted logsumexp", lambda x: hsp.logsumexp(_m(x), axis=1, b=hnp.exp(x[:3][:, None] * _m(x))), (True, True)),
    ("linalg inv", lambda x: hnp.linalg.inv(hnp.reshape(x[:9], (3, 3)) + 4 * np.eye(3)) @ x[9:], (True, True)),
    ("linalg det solve", lambda x: hnp.linalg.solve(hnp.reshape(x[:4], (2, 2)) + 3 * np.eye(2), x[4:6])
     * hnp.linalg.det(hnp.reshape(x[:4], (2, 2))), (True, True)),
    ("cumsum sort", lambda x: hnp.cumsum(hnp.sort(_m(x), axis=1), axis=1), (False, False)),
    ("power both traced", lambda x: hnp.abs(x[:6]) ** x[6:] + x[:6] / x[6:], (True, True)),
    ("fft", lambda x: hnp.real(hnp.fft.fft(hnp.reshape(x, (2, 6)), axis=1)), (True, True)),
    ("scalar output", lambda x: hnp.sum(hnp.sin(x) * x[0]), (True, True)),
    ("nested grad", lambda x: hd.grad(lambda y: hnp.sum(y[1:] * hnp.sin(y[:-1])))(x), (True, True)),
]


def _points(count=3):
    return [RNG.uniform(0.5, 1.5, size=N) * RNG.choice([-1.0, 1.0], size=N) for _ in range(count)]


def _central_jacobian(f, x, h=1e-6):
    """J[:, j] from (f(x + h e_j) - f(x - h e_j)) / 2h: an output that does not depend on x_j is bit-identical."""
    columns = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        columns.append((np.ravel(f(x + e)) - np.ravel(f(x - e))) / (2 * h))
    return np.stack(columns, axis=1)


def _central_hessian(f, x, h=1e-4):
    n = x.size
    out = np.zeros((n, n))
    eye = np.eye(n) * h
    for i in range(n):
        for j in range(n):
            out[i, j] = (f(x + eye[i] + eye[j]) - f(x + eye[i] - eye[j]) - f(x - eye[i] + eye[j])
                         + f(x - eye[i] - eye[j])) / (4 * h * h)
    return out


@pytest.mark.parametrize("name, f, exact", FUNCTIONS, ids=[row[0] for row in FUNCTIONS])
def test_jacobian_pattern_holds_every_nonzero(name, f, exact):
    points = _points()
    pattern = hd.jacobian_sparsity(f)(points[0])
    assert isinstance(pattern, sp.csr_array) and pattern.dtype == bool
    m = np.size(f(points[0]))
    assert pattern.shape == (m, N)
    dense_pattern = pattern.toarray()
    seen = np.zeros((m, N), dtype=bool)
    for x in points:
        assert (hd.jacobian_sparsity(f)(x).toarray() == dense_pattern).all()  # global: the same at every x
        numeric = _central_jacobian(f, x) != 0
        analytic = np.reshape(hd.jacobian(f)(x), (m, N)) != 0
        assert not (numeric & ~dense_pattern).any(), f"{name}: missed {np.argwhere(numeric & ~dense_pattern)}"
        assert not (analytic & ~dense_pattern).any(), f"{name}: missed {np.argwhere(analytic & ~dense_pattern)}"
        seen |= numeric
    if exact[0]:
        assert (seen == dense_pattern).all(), f"{name}: extra entries {np.argwhere(dense_pattern & ~seen)}"


@pytest.mark.parametrize("name, f, exact", FUNCTIONS, ids=[row[0] for row in FUNCTIONS])
def test_hessian_pattern_holds_every_nonzero(name, f, exact):
    weights = RNG.normal(size=np.shape(f(np.ones(N))))

    def scalar(x):
        return hnp.sum(f(x) * weights)

    pattern = hd.hessian_sparsity(scalar)(_points(1)[0])
    assert isinstance(pattern, sp.csr_array) and pattern.shape == (N, N) and pattern.dtype == bool
    dense_pattern = pattern.toarray()
    assert (dense_pattern == dense_pattern.T).all()
    seen = np.zeros((N, N), dtype=bool)
    for x in _points(3):
        numeric = np.abs(_central_hessian(scalar, x)) > 1e-4
        analytic = hd.hessian(scalar)(x) != 0
        assert not (numeric & ~dense_pattern).any(), f"{name}: missed {np.argwhere(numeric & ~dense_pattern)}"
        assert not (analytic & ~dense_pattern).any(), f"{name}: missed {np.argwhere(analytic & ~dense_pattern)}"
        seen |= numeric
    if exact[1]:
        assert (seen == dense_pattern).all(), f"{name}: extra entries {np.argwhere(dense_pattern & ~seen)}"


# ---------------------------------------------------------------- local patterns (local=True)

def _local_points():
    """Random points, and points with exact zeros and ties: where a local pattern drops entries."""
    points = _points(2)
    for seed in range(3):
        x = _points(1)[0]
        rng = np.random.default_rng(seed)
        x[rng.choice(N, 3, replace=False)] = 0.0
        x[rng.choice(N, 2, replace=False)] = x[0]
        points.append(x)
    return points


def _finite(values):
    return bool(np.all(np.isfinite(np.asarray(values, dtype=complex))))


@pytest.mark.parametrize("name, f, exact", FUNCTIONS, ids=[row[0] for row in FUNCTIONS])
def test_local_jacobian_pattern_holds_every_nonzero_at_x_within_the_global_one(name, f, exact):
    global_pattern = hd.jacobian_sparsity(f)(_points(1)[0]).toarray()
    for x in _local_points():
        with np.errstate(all="ignore"):
            if not _finite(f(x)) or not _finite(hd.jacobian(f)(x)):
                continue  # a pole of this function at the zeros
            analytic = np.reshape(hd.jacobian(f)(x), global_pattern.shape) != 0
            numeric = _central_jacobian(f, x) != 0
        local = hd.jacobian_sparsity(f, local=True)(x).toarray()
        missed = (analytic | numeric) & ~local
        assert not missed.any(), f"{name}: the local pattern misses {np.argwhere(missed)}"
        assert not (local & ~global_pattern).any(), f"{name}: local entries outside the global pattern"


@pytest.mark.parametrize("name, f, exact", FUNCTIONS, ids=[row[0] for row in FUNCTIONS])
def test_local_hessian_pattern_holds_every_nonzero_at_x(name, f, exact):
    weights = RNG.normal(size=np.shape(f(np.ones(N))))

    def scalar(x):
        return hnp.sum(f(x) * weights)

    global_pattern = hd.hessian_sparsity(scalar)(_points(1)[0]).toarray()
    for x in _local_points():
        with np.errstate(all="ignore"):
            if not _finite(scalar(x)) or not _finite(hd.hessian(scalar)(x)):
                continue
            analytic = hd.hessian(scalar)(x) != 0
        local = hd.hessian_sparsity(scalar, local=True)(x).toarray()
        assert (local == local.T).all()
        assert not (analytic & ~local).any(), f"{name}: the local pattern misses {np.argwhere(analytic & ~local)}"
        assert not (local & ~global_pattern).any(), f"{name}: local entries outside the global pattern"


def test_local_patterns_follow_the_branch_taken_at_x():
    def branching(x):  # refused globally: the pattern depends on x
        if x[0] > 0:
            return 2 * x
        return hnp.roll(x, 1)

    eye, shift = np.eye(4, dtype=bool), np.roll(np.eye(4, dtype=bool), 1, axis=0)
    assert (hd.jacobian_sparsity(branching, local=True)(np.array([1.0, 2, 3, 4])).toarray() == eye).all()
    assert (hd.jacobian_sparsity(branching, local=True)(np.array([-1.0, 2, 3, 4])).toarray() == shift).all()
    x = np.array([-1.0, 2.0, 0.0, 4.0])
    relu = hd.jacobian_sparsity(lambda v: hnp.maximum(v, 0.0), local=True)(x).toarray()
    assert relu.diagonal().tolist() == [False, True, True, True]  # the tie at 0 keeps its entry
    assert hd.jacobian_sparsity(lambda v: hnp.maximum(v, 0.0))(x).toarray().diagonal().all()
    chosen = hd.jacobian_sparsity(lambda v: hnp.where(v > 0, v ** 2, 0.0), local=True)(x).toarray()
    assert chosen.diagonal().tolist() == [False, True, False, True]
    # x[argmax] * x: argmax is 3 here; d(x_3 x_2)/dx_3 = x_2 = 0 drops that entry at this x
    picked = hd.jacobian_sparsity(lambda v: v[hnp.argmax(v)] * v, local=True)(x).toarray()
    expected = np.eye(4, dtype=bool)
    expected[:, 3] = True
    expected[2, 3] = False
    assert (picked == expected).all()


def test_local_hessian_keeps_cross_terms_of_a_zero_factor():
    # f = x0 x1 at x1 = 0: the gradient (x1, x0) has a zero, but the Hessian [[0, 1], [1, 0]] does not
    f = lambda x: x[0] * x[1]
    x = np.array([3.0, 0.0])
    assert hd.jacobian_sparsity(f, local=True)(x).toarray().tolist() == [[False, True]]
    assert hd.hessian_sparsity(f, local=True)(x).toarray().tolist() == [[False, True], [True, False]]


def test_a_local_pattern_refuses_to_take_a_float_out_of_the_trace():
    with pytest.raises(TypeError, match="float value traced by local sparsity detection"):
        hd.jacobian_sparsity(lambda x: x * float(x[0]), local=True)(np.ones(3))
    with pytest.raises(TypeError, match="local=True"):
        hd.jacobian_sparsity(lambda x: x if x[0] > 0 else -x)(np.ones(3))


def _band(n, lower, upper):
    i, j = np.indices((n, n))
    return (j - i >= -lower) & (j - i <= upper)


def tridiagonal_chain(x):
    """f_i = x_{i-1} x_i^2 + sin(x_{i+1}), with x_{-1} = x_n = 0 (the ends are padded)."""
    padded = hnp.concatenate([np.zeros(1), x, np.zeros(1)])
    return padded[:-2] * padded[1:-1] ** 2 + hnp.sin(padded[2:])


def test_tridiagonal_chain_jacobian_is_exactly_tridiagonal():
    n = 9
    pattern = hd.jacobian_sparsity(tridiagonal_chain)(np.ones(n))
    assert (pattern.toarray() == _band(n, 1, 1)).all()
    assert pattern.nnz == 3 * n - 2


def chain(x):
    """f_i = x_{i-1} x_i^2 + sin(x_{i+1}) for the interior i = 1 .. n-2 (n - 2 outputs)."""
    return x[:-2] * x[1:-1] ** 2 + hnp.sin(x[2:])


def _chain_hessian(n):
    # d2/dx^2 of x_{i-1} x_i^2: (i-1, i), (i, i-1), (i, i); of sin(x_{i+1}): (i+1, i+1); i = 1 .. n-2.
    expected = np.zeros((n, n), dtype=bool)
    for i in range(1, n - 1):
        expected[i - 1, i] = expected[i, i - 1] = expected[i, i] = expected[i + 1, i + 1] = True
    return expected


def test_interior_chain_patterns():
    n = 9
    jacobian = hd.jacobian_sparsity(chain)(np.ones(n))
    assert (jacobian.toarray() == _band(n, 1, 1)[1:-1]).all()
    hessian = hd.hessian_sparsity(lambda x: hnp.sum(chain(x)))(np.ones(n))
    assert (hessian.toarray() == _chain_hessian(n)).all()


def test_five_point_stencil():
    rows, cols = 5, 4

    def laplace_residual(x):
        u = hnp.pad(hnp.reshape(x, (rows, cols)), 1)
        out = u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4 * u[1:-1, 1:-1] + hnp.exp(u[1:-1, 1:-1])
        return hnp.ravel(out)

    pattern = hd.jacobian_sparsity(laplace_residual)(np.ones(rows * cols)).toarray()
    i, j = np.divmod(np.arange(rows * cols), cols)
    expected = (np.abs(i[:, None] - i[None, :]) + np.abs(j[:, None] - j[None, :])) <= 1
    assert (pattern == expected).all()
    hessian = hd.hessian_sparsity(lambda x: hnp.sum(laplace_residual(x)))(np.ones(rows * cols))
    assert (hessian.toarray() == np.eye(rows * cols, dtype=bool)).all()  # only exp(u_ij) is nonlinear


def test_arrowhead():
    n = 8

    def arrow(x):
        return hnp.concatenate([hnp.reshape(hnp.sum(x ** 2), (1,)), x[1:] * x[0]])

    expected = np.eye(n, dtype=bool)
    expected[0, :] = expected[:, 0] = True
    assert (hd.jacobian_sparsity(arrow)(np.ones(n)).toarray() == expected).all()
    assert (hd.hessian_sparsity(lambda x: hnp.sum(arrow(x)))(np.ones(n)).toarray() == expected).all()


def test_separable_sum_has_diagonal_hessian():
    n = 10
    f = lambda x: hnp.sum(hnp.sin(x) * x ** 2 + hnp.exp(x))  # noqa: E731
    pattern = hd.hessian_sparsity(f)(np.ones(n))
    assert (pattern.toarray() == np.eye(n, dtype=bool)).all()
    assert (hd.jacobian_sparsity(f)(np.ones(n)).toarray() == np.ones((1, n), dtype=bool)).all()


def test_linear_function_has_empty_hessian():
    n = 10
    matrix = RNG.normal(size=(3, n))
    f = lambda x: hnp.sum(hnp.cumsum(matrix @ x) * 2.0 - x[3] + hnp.mean(x[::2]))  # noqa: E731
    assert hd.hessian_sparsity(f)(np.ones(n)).nnz == 0
    assert hd.jacobian_sparsity(lambda x: matrix @ x)(np.ones(n)).toarray().all()


def test_dead_values_and_entries_do_not_enter_the_hessian():
    assert hd.hessian_sparsity(lambda x: (hnp.sin(x[1]), hnp.sum(x))[1])(np.ones(3)).nnz == 0
    assert hd.hessian_sparsity(lambda x: hnp.sum(x) + hnp.sum(x ** 2 * 0.0))(np.ones(3)).nnz == 0
    even = hd.hessian_sparsity(lambda x: hnp.sum(hnp.sin(x)[::2]))(np.ones(6))
    assert (even.toarray() == np.diag(np.arange(6) % 2 == 0)).all()
    lower = hd.hessian_sparsity(lambda x: hnp.sum(hnp.tril(hnp.outer(x, x))))(np.ones(3))
    assert (lower.toarray() == np.ones((3, 3), dtype=bool)).all()  # x_i x_j for i >= j: every pair
    corner = hd.hessian_sparsity(lambda x: hnp.exp(hnp.reshape(x, (2, 2)))[1, 0] + x[0])(np.ones(4))
    assert corner.nnz == 1 and corner[2, 2]


def test_constant_output_and_scalar_input():
    assert hd.jacobian_sparsity(lambda x: np.ones(3))(np.ones(4)).nnz == 0
    assert hd.jacobian_sparsity(lambda x: np.ones(3))(np.ones(4)).shape == (3, 4)
    assert hd.jacobian_sparsity(lambda x: hnp.sin(x) * 2)(0.5).toarray().tolist() == [[True]]
    assert hd.hessian_sparsity(lambda x: hnp.sin(x) * 2)(0.5).toarray().tolist() == [[True]]


def test_large_banded_case():
    n = 10_000
    pattern = hd.jacobian_sparsity(tridiagonal_chain)(np.ones(n))
    assert pattern.nnz == 3 * n - 2
    entries = pattern.tocoo()
    assert (np.abs(entries.row - entries.col) <= 1).all()
    hessian = hd.hessian_sparsity(lambda x: hnp.sum(chain(x)))(np.ones(n))
    assert hessian.nnz == 3 * n - 5
    entries = hessian.tocoo()
    assert (np.abs(entries.row - entries.col) <= 1).all() and not hessian[0, 0]


def test_value_dependent_control_flow_is_refused():
    def branching(x):
        if x[0] > 0:
            return x
        return -x

    with pytest.raises(TypeError, match="value-dependent control flow"):
        hd.jacobian_sparsity(branching)(np.ones(3))
    with pytest.raises(TypeError, match="value-dependent control flow"):
        hd.jacobian_sparsity(lambda x: x * float(x[0]))(np.ones(3))
    with pytest.raises(TypeError, match="index"):
        hd.jacobian_sparsity(lambda x: x[hnp.argsort(x)])(np.ones(3))
    with pytest.raises(TypeError, match="value-dependent control flow"):
        hd.jacobian_sparsity(lambda x: hnp.take_along_axis(x, hnp.argsort(x), axis=0))(np.ones(3))


def test_bad_arguments():
    with pytest.raises(TypeError, match="argument 0 has dtype int"):
        hd.jacobian_sparsity(lambda x: x)(np.arange(3))
    with pytest.raises(TypeError, match="must return a scalar"):
        hd.hessian_sparsity(lambda x: x ** 2)(np.ones(3))
    with pytest.raises(TypeError, match="one array"):
        hd.jacobian_sparsity(lambda x: (x, x))(np.ones(3))


def test_users_primitive_is_dense():
    @hd.primitive
    def sin(x):  # named like hodiff's sin, but opaque: its rows must be dense, not elementwise
        return np.sin(x[::-1])

    pattern = hd.jacobian_sparsity(lambda x: sin(x))(np.ones(4))
    assert pattern.toarray().all()


def test_argnums():
    f = lambda a, x: a * x[::-1]  # noqa: E731
    pattern = hd.jacobian_sparsity(f, argnums=1)(np.ones(3), np.ones(3))
    assert (pattern.toarray() == np.eye(3, dtype=bool)[::-1]).all()


def test_every_registered_primitive_has_a_rule():
    missing = sorted(name for name in registry if not classified(name))
    assert not missing, f"primitives without a sparsity rule (treated as dense): {missing}"
