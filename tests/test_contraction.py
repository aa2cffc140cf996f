"""Contractions: matmul and @, einsum's subscripts, dot/inner/outer/kron/trace, tensordot batching."""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.interpreters import batch as batch_interpreter

RNG = np.random.default_rng(0)


def _random(*shape):
    return RNG.uniform(-1, 1, shape)


EINSUM_CASES = [
    ("ij,jk->ik", [(3, 4), (4, 2)]),
    ("ij,jk", [(3, 4), (4, 2)]),
    ("ba,cb", [(3, 4), (2, 3)]),              # implicit output is sorted: "ac"
    ("i,i", [(4,), (4,)]),
    ("i,j->ij", [(3,), (2,)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iji->j", [(3, 2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ijk->kij", [(2, 3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...ij,jk", [(5, 2, 3, 4), (4, 2)]),
    ("i...->...", [(3, 2, 2)]),
    ("...,...->...", [(2, 3), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ij,j,k->ik", [(2, 3), (3,), (4,)]),
    ("ij,j->", [(2, 3), (3,)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),           # size-1 broadcasting of a named axis
    (",i->i", [(), (3,)]),
    ("aB,Bc->ac", [(2, 3), (3, 2)]),          # upper-case subscripts
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),  # spaces are ignored
]


@pytest.mark.parametrize("subscripts, shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_matches_numpy_and_its_derivatives_check(subscripts, shapes):
    operands = [_random(*shape) for shape in shapes]
    np.testing.assert_allclose(hnp.einsum(subscripts, *operands), np.einsum(subscripts, *operands), rtol=1e-13)
    hd.check_grads(lambda *ops: hnp.einsum(subscripts, *ops), operands, order=2)


# Above 1000 multiply-adds a two-operand einsum runs as one batched matmul (contraction._matmul_plan);
# these shapes take that path, or its refusals, and must still be numpy.einsum's numbers.
MATMUL_EINSUM_CASES = [
    ("kjl,nkl->nkj", [(5, 2, 2), (1000, 5, 2)], True),    # GradBench gmm's Q_k (x_i - mu_k)
    ("nkj,kjl->nkl", [(1000, 5, 2), (5, 2, 2)], True),
    ("nkj,nkl->kjl", [(1000, 5, 2), (1000, 5, 2)], True),   # contracted over the rows
    ("ij,jk->ik", [(30, 40), (40, 20)], True),
    ("ij,kj->ki", [(50, 8), (100, 8)], True),               # output transposed
    ("abc,bd->da", [(10, 20, 30), (20, 5)], True),          # c summed in a alone
    ("ijk,k->ij", [(20, 30, 40), (40,)], True),
    ("bij,bjk->bik", [(100, 3, 3), (100, 3, 3)], True),
    ("ij,ij->i", [(1000, 4), (1000, 4)], False),            # a stack of dot products: numpy's loop
    ("ab,cd->abcd", [(40, 10), (10, 10)], False),           # an outer product: nothing contracted
    ("ii,ij->j", [(40, 40), (40, 30)], False),              # a repeated letter reads a diagonal
    ("ij,ij->ij", [(1, 3000), (2, 3000)], False),           # size 1 against 2
]


@pytest.mark.parametrize("subscripts, shapes, as_matmul", MATMUL_EINSUM_CASES,
                         ids=[c[0] + str(c[1][0]) for c in MATMUL_EINSUM_CASES])
def test_big_two_operand_einsums_are_numpys_and_differentiable(subscripts, shapes, as_matmul):
    from hodiff.primitives.contraction import _matmul_plan

    assert (_matmul_plan(subscripts, *shapes) is not None) == as_matmul
    a, b = (_random(*shape) for shape in shapes)
    np.testing.assert_allclose(hnp.einsum(subscripts, a, b), np.einsum(subscripts, a, b), rtol=1e-12, atol=1e-12)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    assert hnp.einsum(subscripts, a32, b32).dtype == np.float32
    np.testing.assert_array_equal(hnp.einsum(subscripts, a.astype(int), b.astype(int) + 1),
                                  np.einsum(subscripts, a.astype(int), b.astype(int) + 1))
    # The VJP's einsums take the same path; a random direction checks it against finite differences.
    hd.check_grads(lambda a, b: hnp.einsum(subscripts, a, b), (a, b), order=1, modes=("rev",))


def test_einsum_interleaved_sublists():
    a, b = _random(2, 3), _random(3, 4)
    np.testing.assert_allclose(hnp.einsum(a, [0, 1], b, [1, 2], [0, 2]), a @ b)
    np.testing.assert_allclose(hnp.einsum(a, [Ellipsis, 1], b, [1, 2]), np.einsum(a, [Ellipsis, 1], b, [1, 2]))


def test_einsum_vjp_puts_repeated_subscripts_back_on_the_diagonal():
    a = _random(3, 3)
    g = np.array([1.0, 2.0, 3.0])
    _, vjp_fn = hd.vjp(lambda m: hnp.einsum("ii->i", m), a)
    np.testing.assert_array_equal(vjp_fn(g)[0], np.diag(g))
    np.testing.assert_array_equal(hd.grad(lambda m: hnp.einsum("ii", m))(a), np.eye(3))


@pytest.mark.parametrize("subscripts, shapes, message", [
    ("ij,jk->ik", [(2, 3), (4, 2)], "do not broadcast"),
    ("ij->ik", [(2, 3)], "does not appear"),
    ("ij", [(2, 3, 4)], "dimensions"),
    ("ij,jk", [(2, 3)], "operand"),
    ("i1->i", [(2, 2)], "invalid subscript"),
    ("...i->i", [(2, 3)], "ellipsis"),
])
def test_einsum_errors_name_the_problem(subscripts, shapes, message):
    with pytest.raises(ValueError, match=message):
        hnp.einsum(subscripts, *[np.ones(s) for s in shapes])


def test_einsum_unsupported_keywords_are_named():
    with pytest.raises(TypeError, match="dtype"):
        hnp.einsum("ij->", np.ones((2, 2)), dtype=np.float32)
    np.testing.assert_allclose(hnp.einsum("ij->", np.ones((2, 2)), optimize=True), 4.0)


def test_einsum_under_vmap_and_nested_batching():
    a, b = _random(4, 2, 3), _random(4, 3, 5)
    batched = hd.vmap(lambda x, y: hnp.einsum("ij,jk->ik", x, y))(a, b)
    np.testing.assert_allclose(batched, a @ b)
    # jacobian of a vmapped einsum: two batch letters at once
    jacobian = hd.jacfwd(lambda x: hd.vmap(lambda m: hnp.einsum("ij,jk->ik", m, b[0]))(x))(a)
    assert jacobian.shape == (4, 2, 5, 4, 2, 3)


# --------------------------------------------------------------- matmul

def test_matmul_vjp_for_matrices_is_g_bT_and_aT_g():
    a, b = _random(3, 4), _random(4, 2)
    g = _random(3, 2)
    _, vjp_fn = hd.vjp(lambda x, y: x @ y, a, b)
    grad_a, grad_b = vjp_fn(g)
    np.testing.assert_array_equal(grad_a, g @ b.T)
    np.testing.assert_array_equal(grad_b, a.T @ g)
    # with the graph API the gradient node is itself one matmul
    A, B = hd.Variable(a), hd.Variable(b)
    hnp.sum(A @ B).backward(create_graph=True)
    assert A.grad.op == "matmul" and B.grad.op == "matmul"


@pytest.mark.parametrize("a_shape, b_shape", [
    ((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 2)),
    ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (2, 4, 5)),
])
def test_matmul_all_rank_combinations(a_shape, b_shape):
    a, b = _random(*a_shape), _random(*b_shape)
    np.testing.assert_allclose(hnp.matmul(a, b), np.matmul(a, b))
    hd.check_grads(lambda x, y: x @ y, (a, b), order=2)
    # batched tangents (jacfwd) against one-at-a-time: exercises the batch rule with one side batched
    jacobian = hd.jacfwd(lambda x, y: x @ y, argnums=(0, 1))(a, b)
    reverse = hd.jacrev(lambda x, y: x @ y, argnums=(0, 1))(a, b)
    for forward, backward in zip(jacobian, reverse):
        np.testing.assert_allclose(forward, backward, atol=1e-14)


def test_matmul_operator_on_tracers_variables_and_numpy_arrays():
    a, b = _random(2, 3), _random(3, 2)
    np.testing.assert_allclose(hd.grad(lambda x: hnp.sum(a @ x))(b), a.T @ np.ones((2, 2)))
    np.testing.assert_allclose(hd.grad(lambda x: hnp.sum(x @ b))(a), np.ones((2, 2)) @ b.T)
    np.testing.assert_allclose(hd.grad(lambda x: hnp.sum(x @ x.T))(a), 2 * np.ones((2, 2)) @ a)
    variable = hd.Variable(a)
    out = variable @ b
    np.testing.assert_allclose(out.value, a @ b)
    # shape errors are numpy's ValueErrors, and under vmap they name the members' shapes
    with pytest.raises(ValueError, match="matmul"):
        hnp.matmul(a, a)
    with pytest.raises(ValueError, match="matmul"):
        hd.grad(lambda x: hnp.sum(x @ 2.0))(a)
    with pytest.raises(ValueError, match=r"\(2, 3\) and b has shape \(2, 3\)"):
        hd.vmap(lambda x: x @ a)(np.stack([a, a]))


def test_matmul_of_big_broadcast_views_is_numpys():
    # broadcast views (e.g. the cotangent of a sum) are copied so numpy can use BLAS: same values
    g = np.broadcast_to(np.arange(80.0), (80, 80))
    b = _random(80, 3)
    np.testing.assert_allclose(hnp.matmul(g, b), np.matmul(g, b))
    np.testing.assert_allclose(hd.grad(lambda x: hnp.sum(x @ b))(_random(80, 80)), np.ones((80, 3)) @ b.T)


def test_matmul_float32_and_complex():
    a, b = _random(3, 4).astype(np.float32), _random(4, 2).astype(np.float32)
    gradient = hd.grad(lambda x: hnp.sum(x @ b))(a)
    assert (a @ b).dtype == np.float32 and gradient.dtype == np.float32
    za = _random(2, 3) + 1j * _random(2, 3)
    zb = _random(3, 2) + 1j * _random(3, 2)
    g = _random(2, 2) + 1j * _random(2, 2)
    _, vjp_fn = hd.vjp(lambda x: x @ zb, za)
    np.testing.assert_allclose(vjp_fn(g)[0], g @ zb.T)  # no conjugation (JAX's convention)


# --------------------------------------------------------------- tensordot batching

def test_tensordot_with_both_arguments_batched_uses_einsum_not_a_loop(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("tensordot fell back to a loop over the batch")

    monkeypatch.setattr(batch_interpreter, "loop_over_batch", refuse)
    a, b = _random(5, 2, 3, 4), _random(5, 4, 3, 2)
    out = hd.vmap(lambda x, y: hnp.tensordot(x, y, axes=([1, 2], [1, 0])))(a, b)
    for k in range(5):
        np.testing.assert_allclose(out[k], np.tensordot(a[k], b[k], axes=([1, 2], [1, 0])))
    out = hd.vmap(lambda x, y: hnp.tensordot(x, y, axes=0))(a[:, 0, 0], b[:, 0, 0])
    np.testing.assert_allclose(out, a[:, 0, 0, :, None] * b[:, 0, 0, None, :])


# --------------------------------------------------------------- compositions

@pytest.mark.parametrize("name, shapes", [
    ("dot", [(3, 4), (4, 2)]), ("dot", [(4,), (4,)]), ("dot", [(2, 3, 4), (3, 4, 2)]), ("dot", [(), (3, 2)]),
    ("dot", [(3,), (2, 3, 4)]), ("dot", [(2, 3), (3,)]),
    ("inner", [(2, 3), (4, 3)]), ("inner", [(3,), (3,)]), ("inner", [(), (2,)]),
    ("outer", [(2, 2), (3,)]), ("kron", [(2, 3), (2, 2)]), ("kron", [(3,), (2, 2)]), ("kron", [(2,), (3,)]),
    ("trace", [(3, 3)]), ("trace", [(2, 4, 3)]),
])
def test_compositions_match_numpy_and_check(name, shapes):
    operands = [_random(*s) for s in shapes]
    np.testing.assert_allclose(getattr(hnp, name)(*operands), getattr(np, name)(*operands), rtol=1e-13, atol=1e-14)
    hd.check_grads(getattr(hnp, name), operands, order=2)


def test_trace_with_offset_and_axes():
    a = _random(2, 4, 3)
    for offset in (-2, 0, 1, 5):
        np.testing.assert_allclose(hnp.trace(a, offset, 1, 2), np.trace(a, offset, 1, 2))
    assert hd.grad(lambda x: x.trace())(np.ones((2, 2))).tolist() == [[1.0, 0.0], [0.0, 1.0]]
