"""Focused tests of hodiff.numpy.linalg and hodiff.scipy.linalg: identities, conventions, caveats, errors.

The systematic table (tables/linalg.py) checks every rule against finite
differences; here: the closed forms the rules must reproduce, the degenerate
cases the docstrings promise, numpy 2 semantics, batching and Taylor rules.
"""

import math

import numpy as np
import pytest
import scipy.differentiate as sdiff
import scipy.linalg as sla

import hodiff as hd
import hodiff.numpy as hnp
import hodiff.scipy.linalg as hsl
from hodiff.core.errors import TracedConversionError
from hodiff.interpreters.taylor import TaylorTrace, TaylorTracer, nested_forward_series
from hodiff.primitives import linalg as L

mT = hnp.linalg.matrix_transpose
RNG = np.random.default_rng(7)


def well_conditioned(*shape):
    return RNG.standard_normal(shape) + 4 * np.eye(shape[-1])


def spd(n, *stack):
    m = RNG.standard_normal(stack + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def sym(x):
    return (x + np.swapaxes(x, -1, -2)) / 2


def onto_lower(g):
    """A symmetric gradient g as the gradient of a function that reads the lower triangle only:
    off-diagonal entries count twice below the diagonal, zero above."""
    return np.tril(g + np.swapaxes(g, -1, -2)) - g * np.eye(g.shape[-1])


def _vectorized(f, unflatten):
    """f of one array as scipy.differentiate wants it: columns of a (size, ...) array in, (...) out."""
    def vectorized(z):
        out = np.empty(z.shape[1:])
        for index in np.ndindex(*z.shape[1:]):
            out[index] = f(unflatten(z[(slice(None),) + index]))
        return out
    return vectorized


def central_gradient(f, x):
    """Gradient of a real scalar numpy function at x by scipy.differentiate (central differences,
    error controlled). Complex x: df/dRe - i df/dIm, the convention of docs/api.md."""
    x = np.asarray(x)
    size = x.size
    if np.iscomplexobj(x):
        point = np.concatenate([x.real.ravel(), x.imag.ravel()])
        unflatten = lambda z: (z[:size] + 1j * z[size:]).reshape(x.shape)  # noqa: E731
    else:
        point, unflatten = x.ravel(), lambda z: z.reshape(x.shape)  # noqa: E731
    # A small first step: eigen/singular vectors of numpy's may flip sign far from x.
    d = sdiff.jacobian(_vectorized(f, unflatten), point, initial_step=1e-3).df
    return (d[:size] - 1j * d[size:]).reshape(x.shape) if np.iscomplexobj(x) else d.reshape(x.shape)


def central_second_derivative(f, x, direction):
    """d^2/dt^2 f(x + t direction) at 0, by scipy.differentiate.hessian of the numpy function."""
    return float(sdiff.hessian(_vectorized(lambda t: f(x + t[0] * direction), lambda z: z), np.zeros(1),
                               initial_step=1e-2).ddf[0, 0])


# ------------------------------------------------------------------ closed forms

def test_logdet_derivative_is_trace_of_inverse_times_direction():
    a, da = well_conditioned(3, 3), RNG.standard_normal((3, 3))
    _, tangent = hd.jvp(lambda a: hnp.linalg.slogdet(a)[1], (a,), (da,))
    np.testing.assert_allclose(tangent, np.trace(np.linalg.solve(a, da)), rtol=1e-12)
    np.testing.assert_allclose(hd.grad(lambda a: hnp.linalg.slogdet(a)[1])(a), np.linalg.inv(a).T, rtol=1e-12)


def test_det_gradient_is_jacobi_formula_on_a_stack():
    a = well_conditioned(2, 3, 3)
    gradient = hd.grad(lambda a: hnp.sum(hnp.linalg.det(a)))(a)
    expected = np.linalg.det(a)[:, None, None] * np.swapaxes(np.linalg.inv(a), -1, -2)
    np.testing.assert_allclose(gradient, expected, rtol=1e-12)


def test_inv_vjp_is_minus_inverse_transpose_sandwich():
    a, g = well_conditioned(3, 3), RNG.standard_normal((3, 3))
    _, vjp_fn = hd.vjp(hnp.linalg.inv, a)
    inv_t = np.linalg.inv(a).T
    np.testing.assert_allclose(vjp_fn(g)[0], -inv_t @ g @ inv_t, rtol=1e-12)


def test_solve_vjp_matches_closed_form():
    a, b, g = well_conditioned(3, 3), RNG.standard_normal((3, 2)), RNG.standard_normal((3, 2))
    x = np.linalg.solve(a, b)
    a_bar, b_bar = hd.vjp(hnp.linalg.solve, a, b)[1](g)
    np.testing.assert_allclose(b_bar, np.linalg.solve(a.T, g), rtol=1e-12)
    np.testing.assert_allclose(a_bar, -np.linalg.solve(a.T, g) @ x.T, rtol=1e-12)


def test_expm_derivative_is_scipy_frechet_and_vjp_its_transpose():
    a, e = RNG.standard_normal((3, 3)) * 0.5, RNG.standard_normal((3, 3))
    _, tangent = hd.jvp(hsl.expm, (a,), (e,))
    np.testing.assert_allclose(tangent, sla.expm_frechet(a, e, compute_expm=False), rtol=1e-10)
    np.testing.assert_allclose(hd.vjp(hsl.expm, a)[1](e)[0], sla.expm_frechet(a.T, e, compute_expm=False),
                               rtol=1e-10)


def test_sqrtm_derivative_solves_the_sylvester_equation():
    a, da = spd(3), sym(RNG.standard_normal((3, 3)))
    x, dx = hd.jvp(hsl.sqrtm, (a,), (da,))
    np.testing.assert_allclose(x @ dx + dx @ x, da, atol=1e-10)


def test_cholesky_second_derivative_of_logdet_matches_inverse_identity():
    # log det A = 2 sum log diag(L): its Hessian-vector product is -A^{-1} dA A^{-1} (symmetric dA).
    a, da = spd(3), sym(RNG.standard_normal((3, 3)))

    def logdet(a):
        diagonal = hnp.linalg.cholesky(a)[np.arange(3), np.arange(3)]
        return 2 * hnp.sum(hnp.log(diagonal))

    # cholesky reads the lower triangle: the symmetric gradients folded into it.
    np.testing.assert_allclose(hd.grad(logdet)(a), onto_lower(np.linalg.inv(a)), rtol=1e-10)
    _, hvp = hd.jvp(hd.grad(logdet), (a,), (da,))
    inv = np.linalg.inv(a)
    np.testing.assert_allclose(hvp, onto_lower(-inv @ da @ inv), rtol=1e-9, atol=1e-14)


# ------------------------------------------------------------------ decompositions

def test_eigh_reconstructs_and_its_derivative_reconstructs_the_direction():
    a, da = spd(4, 2), sym(RNG.standard_normal((2, 4, 4)))

    def rebuild(a):
        w, v = hnp.linalg.eigh(a)
        return (v * w[..., None, :]) @ mT(v)

    out, tangent = hd.jvp(rebuild, (a,), (da,))
    np.testing.assert_allclose(out, a, atol=1e-10)
    np.testing.assert_allclose(tangent, da, atol=1e-9)


def test_eigenvalue_gradients_are_right_with_repeated_eigenvalues():
    q, _ = np.linalg.qr(RNG.standard_normal((3, 3)))
    a = q @ np.diag([2.0, 2.0, 5.0]) @ q.T  # a double eigenvalue
    # sum(w^2) = ||A||_F^2 for symmetric A: gradient 2A (of the symmetric function; eigvalsh reads
    # the lower triangle); sum(w) = trace: gradient I.
    np.testing.assert_allclose(hd.grad(lambda a: hnp.sum(hnp.linalg.eigvalsh(a) ** 2))(a), onto_lower(2 * a),
                               atol=1e-10)
    np.testing.assert_allclose(hd.grad(lambda a: hnp.sum(hnp.linalg.eigh(a)[0]))(np.eye(3)), np.eye(3), atol=1e-12)
    # A repeated value's own rate is not defined (along S its one-sided rates are the eigenvalues of S
    # on the eigenspace). A direction that keeps numpy's basis (diagonal in it) keeps its exact rates;
    # one that rotates it gets their mean, as sort at ties (it got diag(V^T S V), basis-dependent: at I
    # along Q diag(1, 2, 3) Q^T the diagonal of that matrix, not a function of the eigenvalues at all).
    _, tangent = hd.jvp(hnp.linalg.eigvalsh, (np.eye(3),), (np.diag([1.0, 2.0, 3.0]),))
    np.testing.assert_allclose(tangent, [1.0, 2.0, 3.0], atol=1e-12)
    _, tangent = hd.jvp(hnp.linalg.eigvalsh, (np.eye(3),), (q @ np.diag([1.0, 2.0, 3.0]) @ q.T,))
    np.testing.assert_allclose(tangent, [2.0, 2.0, 2.0], atol=1e-12)
    _, tangent = hd.jvp(hnp.linalg.eigvalsh, (a,), (q @ np.diag([1.0, 2.0, 3.0]) @ q.T,))
    np.testing.assert_allclose(tangent, [1.5, 1.5, 3.0], atol=1e-10)
    # reverse mode: a cotangent on one repeated value is shared by the cluster (a symmetric subgradient)
    np.testing.assert_allclose(hd.grad(lambda m: hnp.linalg.eigvalsh(m)[0])(np.eye(3)), np.eye(3) / 3, atol=1e-14)
    singular = hd.grad(lambda m: hnp.linalg.svd(m, compute_uv=False)[0])(q @ np.diag([1.0, 2.0, 2.0]) @ q.T)
    np.testing.assert_allclose(singular, q @ np.diag([0.0, 0.5, 0.5]) @ q.T, atol=1e-12)


def test_svd_reconstructs_and_singular_value_gradient_is_u_v_outer():
    a = RNG.standard_normal((4, 3))
    u, s, vh = hnp.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose((u * s) @ vh, a, atol=1e-12)
    gradient = hd.grad(lambda a: hnp.linalg.svd(a, compute_uv=False)[0])(a)
    np.testing.assert_allclose(gradient, np.outer(u[:, 0], vh[0]), atol=1e-12)


def test_svd_of_rank_deficient_and_repeated_values_keeps_value_gradients_finite_and_right():
    # Rank 2 of 3 and a repeated singular value: sum(s^2) = ||A||_F^2 has gradient 2A.
    # (First order only: second derivatives go through the singular vectors, which are not
    # differentiable there; the docstring says so.)
    q1, _ = np.linalg.qr(RNG.standard_normal((4, 3)))
    q2, _ = np.linalg.qr(RNG.standard_normal((3, 3)))
    for a in (q1 @ np.diag([3.0, 1.0, 0.0]) @ q2, q1 @ np.diag([2.0, 2.0, 1.0]) @ q2):
        gradient = hd.grad(lambda a: hnp.sum(hnp.linalg.svd(a, compute_uv=False) ** 2))(a)
        np.testing.assert_allclose(gradient, 2 * a, atol=1e-10)
        _, tangent = hd.jvp(lambda a: hnp.linalg.svd(a, compute_uv=False), (a,), (np.ones_like(a),))
        assert np.all(np.isfinite(tangent))


def test_qr_reconstructs_with_orthonormal_q_and_upper_r_derivatives():
    for shape in [(5, 3), (3, 3), (3, 5)]:
        a, da = RNG.standard_normal(shape), RNG.standard_normal(shape)
        (q, r), (dq, dr) = hd.jvp(lambda a: tuple(hnp.linalg.qr(a)), (a,), (da,))
        np.testing.assert_allclose(q @ r, a, atol=1e-12)
        np.testing.assert_allclose(dq @ r + q @ dr, da, atol=1e-10)  # d(QR) = dA
        k = min(shape)
        np.testing.assert_allclose(np.tril(dr[:, :k], -1), 0.0, atol=1e-12)  # R stays upper triangular
        skew = q.T @ dq
        np.testing.assert_allclose(skew + skew.T, 0.0, atol=1e-10)  # Q^T Q = I is kept


def test_pinv_derivative_at_rank_deficient_matrix_matches_finite_differences():
    # Rank 1 (kept under the perturbation along the same column space): Golub-Pereyra holds.
    u, v = RNG.standard_normal((4, 1)), RNG.standard_normal((1, 3))
    a, da = u @ v, u @ RNG.standard_normal((1, 3))
    _, tangent = hd.jvp(hnp.linalg.pinv, (a,), (da,))
    eps = 1e-6
    numeric = (np.linalg.pinv(a + eps * da) - np.linalg.pinv(a - eps * da)) / (2 * eps)
    np.testing.assert_allclose(tangent, numeric, atol=1e-6)


# ------------------------------------------------------------------ numpy semantics and batching

def test_solve_follows_numpy_2_vector_and_stack_semantics():
    a = well_conditioned(2, 3, 3)
    for b in (RNG.standard_normal(3), RNG.standard_normal((2, 3, 1)), RNG.standard_normal((4, 1, 3, 2))):
        np.testing.assert_allclose(hnp.linalg.solve(a, b), np.linalg.solve(a, b), rtol=1e-12)
        grads = hd.grad(lambda a, b: hnp.sum(hnp.linalg.solve(a, b)), argnums=(0, 1))(a, b)
        assert grads[0].shape == a.shape and grads[1].shape == b.shape


@pytest.mark.parametrize("name, function, make", [
    ("inv", hnp.linalg.inv, lambda: (well_conditioned(3, 3),)),
    ("det", hnp.linalg.det, lambda: (well_conditioned(3, 3),)),
    ("cholesky", hnp.linalg.cholesky, lambda: (spd(3),)),
    ("eigvalsh", hnp.linalg.eigvalsh, lambda: (spd(3),)),
    ("svdvals", lambda a: hnp.linalg.svd(a, compute_uv=False), lambda: (RNG.standard_normal((4, 3)),)),
    ("expm", hsl.expm, lambda: (RNG.standard_normal((3, 3)) * 0.3,)),
    ("solve_triangular", lambda a, b: hsl.solve_triangular(a, b, lower=True),
     lambda: (well_conditioned(3, 3), RNG.standard_normal((3, 2)))),
])
def test_vmap_over_a_leading_axis_matches_a_loop(name, function, make):
    members = [make() for _ in range(3)]
    stacked = tuple(np.stack(parts) for parts in zip(*members))
    batched = hd.vmap(function)(*stacked)
    for k, member in enumerate(members):
        np.testing.assert_allclose(batched[k], function(*member), rtol=1e-10, atol=1e-12)


def test_vmap_with_one_batched_argument_of_lower_rank_keeps_the_batch_axis_aligned():
    a = well_conditioned(2, 3, 3)  # unbatched stack of two
    bs = RNG.standard_normal((5, 3, 1))  # batch of five single matrices
    out = hd.vmap(lambda b: hnp.linalg.solve(a, b), in_axes=(0,))(bs)
    assert out.shape == (5, 2, 3, 1)
    for k in range(5):
        np.testing.assert_allclose(out[k], np.linalg.solve(a, bs[k]), rtol=1e-12)


def test_float32_stays_float32_through_decompositions():
    a = spd(3).astype(np.float32)
    for function in (hnp.linalg.eigvalsh, lambda a: hnp.linalg.svd(a)[1], hnp.linalg.inv, hsl.expm, hsl.sqrtm):
        gradient = hd.grad(lambda a: hnp.sum(function(a)))(a)
        assert gradient.dtype == np.float32


# ------------------------------------------------------------------ norms

@pytest.mark.parametrize("ord", [None, 2, 1, np.inf, -np.inf, 0, 3, -1.5])
@pytest.mark.parametrize("axis", [None, 1])
def test_vector_norm_values_match_numpy(ord, axis):
    x = RNG.standard_normal(5) if axis is None else RNG.standard_normal((3, 4))
    for keepdims in (False, True):
        np.testing.assert_allclose(hnp.linalg.norm(x, ord, axis, keepdims), np.linalg.norm(x, ord, axis, keepdims),
                                   rtol=1e-12)


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf])
def test_matrix_norm_values_match_numpy(ord):
    x = RNG.standard_normal((2, 3, 4))
    for axis in [(1, 2), (2, 0)]:
        for keepdims in (False, True):
            np.testing.assert_allclose(hnp.linalg.norm(x, ord, axis, keepdims), np.linalg.norm(x, ord, axis, keepdims),
                                       rtol=1e-12)


def test_norm_gradient_is_zero_at_the_zero_vector_and_unit_elsewhere():
    np.testing.assert_array_equal(hd.grad(hnp.linalg.norm)(np.zeros(3)), np.zeros(3))
    np.testing.assert_array_equal(hd.grad(lambda x: hnp.linalg.norm(x, 4))(np.zeros(3)), np.zeros(3))
    z = RNG.standard_normal(4) + 1j * RNG.standard_normal(4)
    np.testing.assert_allclose(hd.grad(hnp.linalg.norm)(z), np.conj(z) / np.linalg.norm(z), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0 / 0 is the nan these derivatives are
@pytest.mark.parametrize("dtype, phase", [(np.float64, 1), (np.float32, 1), (np.float64, 0.6 + 0.8j)])
@pytest.mark.parametrize("ord", [None, 3])
def test_norm_has_no_second_derivative_at_the_zero_vector(dtype, phase, ord):
    # ||x|| is a cone at 0: order 1 is 0 by convention, and (I - u u^T) / ||x|| has no limit, so every route
    # gives nan from order 2 on (as PyTorch; the where-guarded root gave a Hessian of 0). Next to 0 the
    # Hessian is the closed form's, in every route (|phase| = 1: a complex vector of the same norm).
    f = lambda x: hnp.linalg.norm(x * phase, ord)  # noqa: E731
    v = np.array([1.0, -2.0, 0.5])
    zero = np.zeros(3, dtype)
    assert np.isnan(hd.hessian(f)(zero)).all() and hd.hessian(f)(zero).shape == (3, 3)
    for mode in ("nested", "taylor"):
        along = lambda t: f(zero + t * v.astype(dtype))  # noqa: E731
        assert hd.derivative(along, order=1, mode=mode)(0.0) == 0, mode
        for order in (2, 3):
            assert np.isnan(hd.derivative(along, order=order, mode=mode)(0.0)), (mode, order)
    if ord is None:
        x = (1e-150 * v).astype(dtype) if dtype == np.float64 else (1e-12 * v).astype(dtype)
        n = np.linalg.norm(x.astype(np.float64))
        u = x.astype(np.float64) / n
        closed = (np.eye(3) - np.outer(u, u)) / n
        rtol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(hd.hessian(f)(x), closed, rtol=rtol, atol=rtol * np.abs(closed).max())
        w = np.array([0.3, 1.0, -1.0])  # not along x, where the curvature is 0
        for mode in ("nested", "taylor"):
            got = hd.derivative(lambda t: f(x + t * w.astype(dtype)), order=2, mode=mode)(dtype(0))
            np.testing.assert_allclose(got, w @ closed @ w, rtol=rtol, err_msg=mode)


def test_spectral_and_nuclear_norm_gradients():
    a = RNG.standard_normal((4, 3))
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(hd.grad(lambda a: hnp.linalg.norm(a, 2))(a), np.outer(u[:, 0], vh[0]), atol=1e-12)
    np.testing.assert_allclose(hd.grad(lambda a: hnp.linalg.norm(a, "nuc"))(a), u @ vh, atol=1e-12)


def test_norm_errors():
    with pytest.raises(ValueError, match="invalid norm order"):
        hnp.linalg.norm(np.ones(3), "fro")
    with pytest.raises(ValueError, match="invalid norm order"):
        hnp.linalg.norm(np.ones((2, 2)), 3)
    with pytest.raises(ValueError, match="improper number of dimensions"):
        hnp.linalg.norm(np.ones((2, 2, 2)), 2)


# ------------------------------------------------------------------ Taylor rules

def _taylor(primitive, args, series, params):
    """Output series of primitive(*args) with series[i] (None: constant) on argument i, by its Taylor rule."""
    order = next(s.shape[0] for s in series if s is not None)
    trace = TaylorTrace(order)
    try:
        traced = [a if s is None else TaylorTracer(a, s, trace) for a, s in zip(args, series)]
        out = primitive(*traced, **params)
    finally:
        trace.alive = False
    return out.series


TAYLOR_ROWS = [
    (L.inv, lambda: (well_conditioned(2, 3, 3),), {}),
    (L.det, lambda: (well_conditioned(3, 3),), {}),
    (L.slogdet, lambda: (well_conditioned(2, 3, 3),), {}),
    (L.cholesky, lambda: (spd(3),), {}),
    (L.expm, lambda: (RNG.standard_normal((3, 3)) * 0.5,), {}),
    (L.sqrtm, lambda: (spd(3),), {}),
    (L.solve, lambda: (well_conditioned(3, 3), RNG.standard_normal((2, 3, 2))), {}),
    (L.solve_triangular, lambda: (well_conditioned(3, 3), RNG.standard_normal((3, 2))),
     {"lower": True, "trans": 1, "unit_diagonal": False}),
    (L.solve_triangular, lambda: (well_conditioned(2, 3, 3), RNG.standard_normal((3, 2))),
     {"lower": False, "trans": 0, "unit_diagonal": True}),
]


@pytest.mark.parametrize("primitive, make, params", TAYLOR_ROWS, ids=lambda value: getattr(value, "name", ""))
def test_taylor_rules_match_nested_forward_mode(primitive, make, params):
    assert primitive.taylor is not None
    args = make()
    series = [RNG.standard_normal((4,) + a.shape) * 0.3 for a in args]
    if primitive in (L.cholesky, L.sqrtm):
        series = [sym(s) for s in series]  # functions of symmetric matrices
    # Every argument with a series, then each one alone (the others constant).
    choices = [tuple(range(len(args)))] + ([(i,) for i in range(len(args))] if len(args) > 1 else [])
    for traced in choices:
        chosen = [s if i in traced else None for i, s in enumerate(series)]
        expected = nested_forward_series(primitive, args, chosen, params, 4)
        np.testing.assert_allclose(_taylor(primitive, args, chosen, params), expected, rtol=1e-8, atol=1e-10,
                                   err_msg=f"{primitive.name}, series on arguments {traced}")


def test_taylor_transform_through_rules_and_fallbacks():
    a, v = spd(3), sym(RNG.standard_normal((3, 3)))
    f = lambda a: hnp.sum(hnp.linalg.eigvalsh(a) * hsl.expm(a * 0.1)[0] + hnp.linalg.slogdet(a)[1])
    coefficients = hd.taylor(f, a, v, order=3)
    second = hd.jvp(lambda a: hd.jvp(f, (a,), (v,))[1], (a,), (v,))[1]
    np.testing.assert_allclose(coefficients[2], second / 2, rtol=1e-8)


# ------------------------------------------------------------------ scipy.linalg specifics

def test_solve_triangular_reads_only_one_triangle_and_its_gradient_stays_there():
    a, b = well_conditioned(3, 3), RNG.standard_normal(3)
    for lower, unit in [(True, False), (False, False), (True, True)]:
        x = hsl.solve_triangular(a, b, lower=lower, unit_diagonal=unit)
        np.testing.assert_allclose(x, sla.solve_triangular(a, b, lower=lower, unit_diagonal=unit), rtol=1e-12)
        gradient = hd.grad(lambda a: hnp.sum(hsl.solve_triangular(a, b, lower=lower, unit_diagonal=unit)))(a)
        unread = np.triu(np.ones((3, 3)), 1 if not unit else 0) if lower else np.tril(np.ones((3, 3)), -1)
        if unit and lower:
            unread = np.triu(np.ones((3, 3)))
        assert np.all(gradient[unread.astype(bool)] == 0)


def test_cho_factor_and_cho_solve_agree_with_scipy():
    a, b = spd(4), RNG.standard_normal((4, 2))
    for lower in (True, False):
        x = hsl.cho_solve(hsl.cho_factor(a, lower=lower), b)
        np.testing.assert_allclose(x, sla.cho_solve(sla.cho_factor(a, lower=lower), b), rtol=1e-12)
    np.testing.assert_allclose(hsl.cholesky(a), sla.cholesky(a), rtol=1e-12)


def test_lu_factor_and_lu_solve_agree_with_scipy_and_factor_derivative_keeps_pa_eq_lu():
    a, b = RNG.standard_normal((2, 4, 4)), RNG.standard_normal((4, 3))
    packed, piv = hsl.lu_factor(a)
    np.testing.assert_allclose(packed, sla.lu_factor(a)[0], rtol=1e-12)
    np.testing.assert_array_equal(piv, sla.lu_factor(a)[1])
    for trans in (0, 1):
        np.testing.assert_allclose(hsl.lu_solve((packed, piv), b, trans=trans),
                                   sla.lu_solve(sla.lu_factor(a), b, trans=trans), rtol=1e-10)
    da = RNG.standard_normal(a.shape)
    packed, dpacked = hd.jvp(lambda a: hsl.lu_factor(a)[0], (a,), (da,))
    lower, upper = np.tril(packed, -1) + np.eye(4), np.triu(packed)
    dlower, dupper = np.tril(dpacked, -1), np.triu(dpacked)
    perm = L.lu_permutation(piv, dtype="float64")
    np.testing.assert_allclose(perm @ da, dlower @ upper + lower @ dupper, atol=1e-10)  # d(PA) = d(LU)
    assert hd.vmap(lambda a: hsl.lu_solve(hsl.lu_factor(a), b))(a).shape == (2, 4, 3)


def test_sqrtm_of_a_real_matrix_with_negative_eigenvalues_is_scipys_complex_root():
    # autograd 1.9.1's test_sqrtm: sqrtm of a random symmetric matrix (negative eigenvalues).
    a = np.array([[-2.0, 0.5, 0.3], [0.5, 1.5, -0.4], [0.3, -0.4, 3.0]])
    root = hsl.sqrtm(a)
    np.testing.assert_allclose(root, sla.sqrtm(a), rtol=1e-12, atol=1e-14)
    assert root.dtype == np.complex128 and hsl.sqrtm(a.astype(np.float32)).dtype == np.complex64
    weights = RNG.standard_normal((2, 3, 3))

    def loss(sqrtm, m):
        r = sqrtm(m)
        return (r.real * weights[0]).sum() + (r.imag * weights[1]).sum()

    # The reference: central differences of scipy's own sqrtm (real loss of a real matrix).
    expected = central_gradient(lambda m: loss(sla.sqrtm, m), a)
    np.testing.assert_allclose(hd.grad(lambda m: loss(hsl.sqrtm, m))(a), expected, rtol=1e-6, atol=1e-8)
    direction = RNG.standard_normal((3, 3))
    _, tangent = hd.jvp(hsl.sqrtm, (a,), (direction,))
    np.testing.assert_allclose((tangent.real * weights[0]).sum() + (tangent.imag * weights[1]).sum(),
                               (expected * direction).sum(), rtol=1e-6)
    np.testing.assert_allclose(hd.grad(lambda m: loss(hsl.sqrtm, m))(a.astype(np.float32)), expected,
                               rtol=2e-3, atol=2e-4)


def test_sqrtm_disp_false_returns_scipys_error_estimate():
    a = spd(3)
    root, errest = hsl.sqrtm(a, disp=False)
    with pytest.warns(DeprecationWarning):
        expected_root, expected_errest = sla.sqrtm(a, disp=False)
    np.testing.assert_allclose(root, expected_root, rtol=1e-12)
    assert abs(errest - expected_errest) < 1e-20 and np.ndim(root) == 2


def _dense_from_banded(lo, up, ab):
    n = ab.shape[1]
    return sum(np.diag(ab[up - k, max(k, 0):n + min(k, 0)], k) for k in range(-lo, up + 1))


@pytest.mark.parametrize("lo, up, rhs", [(1, 1, (5,)), (2, 0, (5, 2)), (0, 2, (5,)), (2, 1, (5, 3)), (0, 0, (5,))])
def test_solve_banded_against_scipy_dense_solve_and_central_differences(lo, up, rhs):
    ab = RNG.standard_normal((lo + up + 1, 5))
    ab[up] += 4.0
    b = RNG.standard_normal(rhs)
    dense = _dense_from_banded(lo, up, ab)
    np.testing.assert_allclose(dense @ sla.solve_banded((lo, up), ab, b), b, atol=1e-12)  # the reference's layout
    np.testing.assert_allclose(hsl.solve_banded((lo, up), ab, b), sla.solve(dense, b), rtol=1e-12, atol=1e-13)
    weights = RNG.standard_normal(rhs)

    def loss(solve, ab, b):
        return (solve((lo, up), ab, b) * weights).sum()

    # The references: central differences of scipy's own solve_banded.
    grad_ab, grad_b = hd.grad(lambda ab, b: loss(hsl.solve_banded, ab, b), argnums=(0, 1))(ab, b)
    np.testing.assert_allclose(grad_ab, central_gradient(lambda m: loss(sla.solve_banded, m, b), ab),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(grad_b, central_gradient(lambda v: loss(sla.solve_banded, ab, v), b),
                               rtol=1e-6, atol=1e-9)
    # Second order, forward over reverse, against central second differences along a direction.
    direction = RNG.standard_normal(ab.shape)
    hvp = hd.jvp(hd.grad(lambda m: loss(hsl.solve_banded, m, b)), (ab,), (direction,))[1]
    np.testing.assert_allclose((hvp * direction).sum(), central_second_derivative(
        lambda m: loss(sla.solve_banded, m, b), ab, direction), rtol=1e-5)
    x32 = hsl.solve_banded((lo, up), ab.astype(np.float32), b.astype(np.float32))
    g32 = hd.grad(lambda m: loss(hsl.solve_banded, m, b.astype(np.float32)))(ab.astype(np.float32))
    assert x32.dtype == np.float32 and g32.dtype == np.float32


def test_solve_banded_refusals_and_vmap():
    ab = np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])  # [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    with pytest.raises(np.linalg.LinAlgError, match="solve_banded: singular"):
        hd.grad(lambda m: hsl.solve_banded((1, 1), m, np.ones(3)).sum())(ab)
    with pytest.raises(ValueError, match="l\\+u\\+1"):
        hsl.solve_banded((1, 0), ab, np.ones(3))
    with pytest.raises(ValueError, match="not compatible"):
        hsl.solve_banded((1, 1), ab, np.ones(4))
    good = RNG.standard_normal((4, 3, 5)) + np.array([0.0, 4.0, 0.0])[:, None]
    b = RNG.standard_normal(5)
    batched = hd.vmap(lambda m: hsl.solve_banded((1, 1), m, b))(good)
    np.testing.assert_allclose(batched, [sla.solve_banded((1, 1), m, b) for m in good], rtol=1e-12)


# ------------------------------------------------------------------ errors and pass-through

def test_errors_name_the_problem():
    with pytest.raises(np.linalg.LinAlgError, match="square"):
        hnp.linalg.inv(np.ones((2, 3)))
    with pytest.raises(np.linalg.LinAlgError, match="two-dimensional"):
        hnp.linalg.det(np.ones(3))
    with pytest.raises(ValueError, match="b has shape"):
        hnp.linalg.solve(np.eye(3), np.ones(4))
    with pytest.raises(ValueError, match="full_matrices"):
        hd.grad(lambda a: hnp.sum(hnp.linalg.svd(a)[0]))(np.ones((3, 2)))
    with pytest.raises(TypeError, match="complex"):
        hd.grad(lambda a: hnp.real(hnp.sum(hnp.linalg.qr(a)[1])))(np.eye(2) + 0j)
    with pytest.raises(TypeError, match="integer"):
        hnp.linalg.matrix_power(np.eye(2), 1.5)


def test_other_names_pass_through_for_plain_values_and_refuse_traced_ones():
    assert hnp.linalg.matrix_rank(np.eye(3)) == 3
    with pytest.raises(hd.core.errors.TracedConversionError, match="matrix_rank"):
        hd.grad(lambda a: hnp.linalg.matrix_rank(a) * 1.0)(np.eye(3))
    assert hsl.lu_factor is not None and hsl.norm(np.ones(4)) == 2.0


def test_plain_values_return_numpy_result_types():
    result = hnp.linalg.eigh(np.eye(2))
    assert result.eigenvalues.shape == (2,) and result.eigenvectors.shape == (2, 2)
    sign, logabsdet = hnp.linalg.slogdet(np.diag([2.0, -1.0]))
    assert sign == -1.0 and np.isclose(logabsdet, np.log(2.0))


def test_complex_holomorphic_inverse_follows_the_transpose_convention():
    a = well_conditioned(3, 3) + 1j * RNG.standard_normal((3, 3))
    g = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))
    inv_t = np.linalg.inv(a).T  # transpose, no conjugation
    np.testing.assert_allclose(hd.vjp(hnp.linalg.inv, a)[1](g)[0], -inv_t @ g @ inv_t, rtol=1e-12)
    hd.check_grads(lambda a: hnp.linalg.det(a), (a,), order=2)


# ------------------------------------------------------------------ one triangle read: numpy's function

_W = np.random.default_rng(11).standard_normal((4, 4))
_C = np.array([0.3, -1.2, 0.7, 2.0])
HODIFF, NUMPY = (hnp, hnp.linalg, hsl), (np, np.linalg, sla)

# (name, f(xp, linalg, scipy.linalg, a) -> scalar, complex input?)
ONE_TRIANGLE = [
    ("eigvalsh[L]", lambda xp, la, sl, a: xp.sum(la.eigvalsh(a) * _C), False),
    ("eigvalsh[U]", lambda xp, la, sl, a: xp.sum(la.eigvalsh(a, "U") * _C), False),
    ("eigh[vectors, U]", lambda xp, la, sl, a: xp.sum(la.eigh(a, UPLO="U")[1] * _W), False),
    ("eigh[values and vectors, L]", lambda xp, la, sl, a: xp.sum(la.eigh(a)[1] ** 3 * _W) + xp.sum(la.eigh(a)[0]),
     False),
    ("eigvalsh[L, complex]", lambda xp, la, sl, a: xp.sum(la.eigvalsh(a) * _C), True),
    ("eigh[|vectors|, U, complex]", lambda xp, la, sl, a: xp.sum(xp.abs(la.eigh(a, "U")[1]) * _W), True),
    ("cholesky", lambda xp, la, sl, a: xp.sum(la.cholesky(a) * _W), False),
    ("cholesky[upper]", lambda xp, la, sl, a: xp.sum(la.cholesky(a, upper=True) * _W), False),
    ("scipy cholesky", lambda xp, la, sl, a: xp.sum(sl.cholesky(a) * _W), False),
    ("scipy cholesky[lower]", lambda xp, la, sl, a: xp.sum(sl.cholesky(a, lower=True) * _W), False),
    ("scipy cho_solve(cho_factor)", lambda xp, la, sl, a: xp.sum(sl.cho_solve(sl.cho_factor(a), _W)), False),
    ("scipy eigh[upper]", lambda xp, la, sl, a: xp.sum(sl.eigh(a, lower=False)[1] ** 2 * _W), False),
    ("scipy eigvalsh", lambda xp, la, sl, a: xp.sum(sl.eigvalsh(a) * _C), False),
    ("scipy solve[sym]", lambda xp, la, sl, a: xp.sum(sl.solve(a, _W, assume_a="sym")), False),
    ("scipy solve[pos, lower]", lambda xp, la, sl, a: xp.sum(sl.solve(a, _W, assume_a="pos", lower=True)), False),
    ("scipy solve[her, complex]", lambda xp, la, sl, a: xp.sum(xp.abs(sl.solve(a, _W, assume_a="her"))), True),
    ("scipy solve[sym, complex]", lambda xp, la, sl, a: xp.sum(xp.abs(sl.solve(a, _W, assume_a="sym"))), True),
    ("scipy solve[tridiagonal]", lambda xp, la, sl, a: xp.sum(sl.solve(a, _W, assume_a="tridiagonal")), False),
    ("scipy solve[upper triangular]", lambda xp, la, sl, a: xp.sum(sl.solve(a, _W, assume_a="upper triangular")),
     False),
    ("scipy solve[diagonal]", lambda xp, la, sl, a: xp.sum(sl.solve(a, _W, assume_a="diagonal")), False),
]


def _nonsymmetric(complex_input, seed=3):
    """A positive definite matrix plus a NON-symmetric perturbation (either triangle is SPD-read)."""
    rng = np.random.default_rng(seed)
    m = rng.standard_normal((4, 4))
    a = m @ m.T + 4 * np.eye(4) + 0.5 * rng.standard_normal((4, 4))
    if complex_input:
        a = a + 0.5j * rng.standard_normal((4, 4))
    return a


@pytest.mark.parametrize("name, f, complex_input", ONE_TRIANGLE, ids=[row[0] for row in ONE_TRIANGLE])
def test_one_triangle_functions_differentiate_numpys_function_on_nonsymmetric_input(name, f, complex_input):
    a = _nonsymmetric(complex_input)
    expected = central_gradient(lambda x: f(*NUMPY, x), a)
    np.testing.assert_allclose(f(*HODIFF, a), f(*NUMPY, a), rtol=1e-10)
    np.testing.assert_allclose(hd.grad(lambda x: f(*HODIFF, x))(a), expected, atol=1e-7)   # reverse
    direction = np.random.default_rng(5).standard_normal(a.shape) * (1 + 1j if complex_input else 1)
    _, tangent = hd.jvp(lambda x: f(*HODIFF, x), (a,), (direction,))                        # forward
    np.testing.assert_allclose(tangent, np.sum(np.real(expected * direction)), atol=1e-7)
    stack = np.stack([a, _nonsymmetric(complex_input, seed=4)])                              # batched
    batched = hd.vmap(hd.grad(lambda x: f(*HODIFF, x)))(stack)
    np.testing.assert_allclose(batched[1], central_gradient(lambda x: f(*NUMPY, x), stack[1]), atol=1e-7)


@pytest.mark.parametrize("name, f", [(n, f) for n, f, c in ONE_TRIANGLE if not c and "solve[" not in n][:6])
def test_one_triangle_second_derivatives_taylor_and_nested_match_numpy(name, f):
    a = _nonsymmetric(False)
    direction = np.random.default_rng(6).standard_normal(a.shape)
    along = lambda t: f(*HODIFF, a + t * direction)  # noqa: E731
    taylor = hd.derivative(along, order=2)(0.0)
    nested = hd.derivative(along, order=2, mode="nested")(0.0)
    np.testing.assert_allclose(taylor, nested, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(taylor, central_second_derivative(lambda x: f(*NUMPY, x), a, direction),
                               rtol=1e-5, atol=1e-6)


def test_one_triangle_gradient_of_a_symmetric_input_is_the_symmetric_one_folded_into_the_triangle():
    a = spd(4)
    symmetric = 2 * a  # d/dA sum(w^2) = d/dA ||A||_F^2 for the symmetric function
    lower = hd.grad(lambda x: hnp.sum(hnp.linalg.eigvalsh(x) ** 2))(a)
    upper = hd.grad(lambda x: hnp.sum(hnp.linalg.eigvalsh(x, "U") ** 2))(a)
    np.testing.assert_allclose(lower, onto_lower(symmetric), atol=1e-10)
    np.testing.assert_allclose(upper, onto_lower(symmetric).T, atol=1e-10)
    np.testing.assert_allclose(sym(lower), sym(upper), atol=1e-10)  # same on symmetric directions


# ------------------------------------------------------------------ complex decompositions and eig

def _eig_matrix(kind, rng):
    if kind == "real, complex spectrum":
        return rng.standard_normal((4, 4))
    if kind == "real, real spectrum":
        q = rng.standard_normal((4, 4))
        return q @ np.diag([1.0, 2.0, 3.0, 4.0]) @ np.linalg.inv(q)
    return rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))


@pytest.mark.parametrize("kind", ["real, complex spectrum", "real, real spectrum", "complex"])
def test_eig_values_and_numpys_own_vectors_match_central_differences(kind):
    # Not only |v|: the eigenvectors' derivative keeps numpy's normalization and gauge.
    rng = np.random.default_rng(21)
    a = _eig_matrix(kind, rng)
    weights = [rng.standard_normal((4, 4)) for _ in range(2)] + [rng.standard_normal(4) for _ in range(2)]

    def f(xp, linalg, x):
        w, v = linalg.eig(x)
        return (xp.sum(xp.real(v) * weights[0]) + xp.sum(xp.imag(v) * weights[1])
                + xp.sum(xp.real(w) * weights[2]) + xp.sum(xp.imag(w) * weights[3]))

    expected = central_gradient(lambda x: f(np, np.linalg, x), a)
    gradient = hd.grad(lambda x: f(hnp, hnp.linalg, x))(a)
    assert gradient.dtype == a.dtype
    np.testing.assert_allclose(gradient, expected, atol=1e-7)
    direction = rng.standard_normal(a.shape) * (1 + 1j if np.iscomplexobj(a) else 1)
    _, tangent = hd.jvp(lambda x: f(hnp, hnp.linalg, x), (a,), (direction,))
    np.testing.assert_allclose(tangent, np.sum(np.real(expected * direction)), atol=1e-7)


def test_eig_batched_gradient_matches_a_loop():
    rng = np.random.default_rng(22)
    stack = rng.standard_normal((3, 4, 4)) + 1j * rng.standard_normal((3, 4, 4))
    f = lambda x: hnp.sum(hnp.abs(hnp.linalg.eig(x)[1])) + hnp.sum(hnp.real(hnp.linalg.eig(x)[0]))  # noqa: E731
    batched = hd.vmap(hd.grad(f))(stack)
    whole = hd.grad(lambda x: hnp.sum(hd.vmap(f)(x)))(stack)
    for k in range(3):
        np.testing.assert_allclose(batched[k], hd.grad(f)(stack[k]), atol=1e-10)
        np.testing.assert_allclose(whole[k], hd.grad(f)(stack[k]), atol=1e-10)


@pytest.mark.parametrize("shape", [(3, 5), (4, 4), (5, 3)])
def test_complex_svd_and_nuclear_norm_match_central_differences(shape):
    rng = np.random.default_rng(23)
    a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    k = min(shape)
    wu, ws, wv = rng.standard_normal((shape[0], k)), rng.standard_normal(k), rng.standard_normal((k, shape[1]))

    def f(xp, linalg, x):
        u, s, vh = linalg.svd(x, full_matrices=False)
        return xp.sum(xp.abs(u) * wu) + xp.sum(s * ws) + xp.sum(xp.abs(vh) * wv) + linalg.norm(x, "nuc")

    expected = central_gradient(lambda x: f(np, np.linalg, x), a)
    np.testing.assert_allclose(hd.grad(lambda x: f(hnp, hnp.linalg, x))(a), expected, atol=1e-7)
    direction = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    _, tangent = hd.jvp(lambda x: f(hnp, hnp.linalg, x), (a,), (direction,))
    np.testing.assert_allclose(tangent, np.sum(np.real(expected * direction)), atol=1e-7)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    _, (du, ds, dvh) = hd.jvp(lambda x: tuple(hnp.linalg.svd(x, full_matrices=False)), (a,), (direction,))
    # the pieces' tangents rebuild the direction: d(U S Vh) = dA
    rebuilt = du * s @ vh + (u * ds) @ vh + (u * s) @ dvh
    np.testing.assert_allclose(rebuilt, direction, atol=1e-10)


@pytest.mark.parametrize("scale", [1e100, 1e-150])
def test_svd_and_eigh_derivatives_do_not_depend_on_the_matrix_scale(scale):
    # The masks that tell distinct singular values from coincident ones compared |s_j^2 - s_i^2|^2 with
    # sum s^4, which overflows past s = 1e77 (underflows below 1e-77): every pair looked coincident and the
    # gradient of sum(w s) was 59% off at 1e100. The closed form U diag(w) V^T, and the homogeneity of the
    # nuclear norm and of eigvalsh, are the references.
    rng = np.random.default_rng(5)
    x, v, w = rng.standard_normal((4, 4)), rng.standard_normal((4, 4)), rng.standard_normal(4)
    u, _, vh = np.linalg.svd(x)
    got = hd.grad(lambda a: hnp.sum(w * hnp.linalg.svd(a, compute_uv=False)))(scale * x)
    np.testing.assert_allclose(got, u @ np.diag(w) @ vh, rtol=1e-12, atol=1e-14)
    for order in (1, 2, 3):
        for mode in ("nested", "taylor"):
            unit = hd.derivative(lambda s: hnp.linalg.norm(x + s * v, "nuc"), order=order, mode=mode)(0.0)
            scaled = hd.derivative(lambda s: hnp.linalg.norm(scale * (x + s * v), "nuc"), order=order, mode=mode)(0.0)
            np.testing.assert_allclose(scaled / scale, unit, rtol=1e-12, err_msg=f"nuc {mode} order {order}")
    sym, direction = x + x.T, v + v.T
    big = 1e60 * scale if scale > 1 else 1e-20 * scale  # eigenvalues past 1e154 (their squares overflow), 1e-170
    unit = hd.derivative(lambda s: hnp.sum(hnp.linalg.eigvalsh(sym + s * direction) ** 2), order=1)(0.0)
    scaled = hd.derivative(lambda s: hnp.sum((hnp.linalg.eigvalsh(big * (sym + s * direction)) / big) ** 2),
                           order=1)(0.0)
    np.testing.assert_allclose(scaled, unit, rtol=1e-12)


def test_pinv_derivatives_at_an_ill_conditioned_full_rank_matrix():
    # pinv's rule holds (I - A P) and (I - P A) terms, zero where A has full rank; their rounding (eps cond)
    # times P P^T (cond^2) made the second derivative 7% off at cond 1e8. The reference: pinv = inv there,
    # and d^k/dt^k W.(A + tV)^-1 = (-1)^k k! W.(A^-1 V)^k A^-1, in mpmath.
    import mpmath

    rng = np.random.default_rng(5)
    q1, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    q2, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    a = q1 @ np.diag([1.0, 0.5, 0.3, 1e-8]) @ q2.T
    v, w = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    with mpmath.workdps(60):
        inverse = mpmath.inverse(mpmath.matrix(a.tolist()))
        step = inverse * mpmath.matrix(v.tolist())
        expected, power = [], inverse
        for k in range(1, 4):
            power = step * power
            expected.append(float((-1) ** k * math.factorial(k) * mpmath.fsum(
                w[i, j] * power[i, j] for i in range(4) for j in range(4))))
    for k in range(1, 4):
        for mode in ("nested", "taylor"):
            got = hd.derivative(lambda s: hnp.sum(w * hnp.linalg.pinv(a + s * v)), order=k, mode=mode)(0.0)
            np.testing.assert_allclose(got, expected[k - 1], rtol=1e-6, err_msg=f"{mode} order {k}")


def test_pinv_and_lstsq_with_a_cutoff_that_drops_a_singular_value():
    # rcond/rtol above numpy's default drop a singular value that is not rounding: P is the truncated SVD's
    # pseudo-inverse. Golub-Pereyra's rule (constant rank of A) gave 0.15 wrong JVPs there (the kwargs audit).
    # Reference: central differences of numpy's own pinv / lstsq with the same cutoff.
    rng = np.random.default_rng(40)
    for shape, cut in [((3, 5), 0.5), ((5, 3), 0.4), ((4, 4), 0.3)]:
        a = rng.standard_normal(shape)
        s = np.linalg.svd(a, compute_uv=False)
        assert np.any((s <= cut * s[0]) & (s > 1e-3)) and not np.any(np.abs(s - cut * s[0]) < 0.05)
        w = rng.standard_normal(shape[::-1])
        for kwargs in ({"rcond": cut}, {"rtol": cut}):
            loss = lambda a, kw=kwargs: np.sum(np.linalg.pinv(a, **kw) * w)  # noqa: E731
            got = hd.grad(lambda a, kw=kwargs: hnp.sum(hnp.linalg.pinv(a, **kw) * w))(a)
            np.testing.assert_allclose(got, central_gradient(loss, a), rtol=1e-7, atol=1e-9, err_msg=str(shape))
        b = rng.standard_normal(shape[0])
        got = hd.grad(lambda a: hnp.sum(hnp.linalg.lstsq(a, b, rcond=cut)[0] ** 2))(a)
        want = central_gradient(lambda a: np.sum(np.linalg.lstsq(a, b, rcond=cut)[0] ** 2), a)
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9, err_msg=f"lstsq {shape}")
    stack = rng.standard_normal((2, 3, 5))
    np.testing.assert_allclose(hd.vmap(lambda a: hnp.linalg.pinv(a, rcond=0.5))(stack),
                               np.linalg.pinv(stack, rcond=0.5), rtol=1e-12)
    assert hd.grad(lambda a: hnp.sum(hnp.linalg.pinv(a, rcond=0.5)))(stack[0].astype(np.float32)).dtype == np.float32


def test_hermitian_svd_is_numpys_with_its_signs():
    # numpy's hermitian SVD orders eigh's pairs by |w| and puts sign(w) on Vh; the general SVD of the same matrix
    # (hodiff's traced route) flipped some columns of U and rows of Vh: a silently different function, whose
    # derivative along the lower triangle was 0.065 for numpy's -0.066. Reference: numpy's own call and its central
    # differences (indefinite, definite and a stack).
    r = np.random.default_rng(7)
    base = r.standard_normal((2, 3, 3))
    for a in (base[0] + base[0].T, base[0] @ base[0].T + np.eye(3), base + np.swapaxes(base, -1, -2)):
        w = r.standard_normal(a.shape)
        traced = hd.jvp(lambda x: hnp.linalg.svd(x, hermitian=True), (a,), (np.zeros_like(a),))[0]
        for ours, numpys in zip(traced, np.linalg.svd(a, hermitian=True)):
            np.testing.assert_array_equal(ours, numpys)
        for part in (0, 2):
            grad = hd.grad(lambda x: hnp.sum(hnp.linalg.svd(x, hermitian=True)[part] * w))(a)
            want = central_gradient(lambda x: np.sum(np.linalg.svd(x, hermitian=True)[part] * w), a)
            np.testing.assert_allclose(grad, want, rtol=1e-6, atol=1e-8)


def test_hermitian_svd_and_pinv_read_the_lower_triangle_as_numpy():
    # numpy's hermitian=True goes through eigh('L'): a traced non-symmetric a got the general SVD's values
    # (another matrix's) and a derivative along (T + T^T) / 2. Reference: numpy's own calls and their central
    # differences, as eigvalsh's.
    a = np.array([[2.0, 5.0, -1.0], [0.3, 1.0, 0.7], [-0.4, 0.2, 3.0]])
    w = np.random.default_rng(41).standard_normal((3, 3))
    for ours, numpys in [(lambda x: hnp.linalg.svd(x, hermitian=True, compute_uv=False),
                          lambda x: np.linalg.svd(x, hermitian=True, compute_uv=False)),
                         (lambda x: hnp.linalg.pinv(x, hermitian=True), lambda x: np.linalg.pinv(x, hermitian=True))]:
        value, grad = hd.value_and_grad(lambda x: hnp.sum(ours(x) * w[:ours(x).shape[-1]]))(a)
        assert float(value) == pytest.approx(float(np.sum(numpys(a) * w[:numpys(a).shape[-1]])), rel=1e-12)
        want = central_gradient(lambda x: np.sum(numpys(x) * w[:numpys(x).shape[-1]]), a)
        np.testing.assert_allclose(grad, want, rtol=1e-7, atol=1e-9)
        assert np.all(np.triu(grad, 1) == 0)  # the upper triangle is never read


def test_the_linalg_audits_scipy_calls_and_vdot():
    # scipy.linalg.pinv's atol (refused, even on plain arrays; its cutoff is atol + rtol s_max), lu_solve's
    # trans=2 of a complex matrix (refused on plain arrays too), vdot (not differentiable) and the name in the
    # not-differentiable message ("hodiff.numpy.scipy.linalg.lu"). References: scipy's and numpy's own calls,
    # central differences of them.
    r = np.random.default_rng(12)
    u, v = np.linalg.qr(r.standard_normal((4, 3)))[0], np.linalg.qr(r.standard_normal((3, 3)))[0]
    a = u @ np.diag([3.0, 1.0, 0.3]) @ v.T  # both cutoffs below drop the 0.3
    w, e = r.standard_normal((3, 4)), r.standard_normal((4, 3))
    for options in ({"atol": 0.5}, {"atol": 0.2, "rtol": 0.05}):
        np.testing.assert_array_equal(hsl.pinv(a, **options), sla.pinv(a, **options))
        assert hsl.pinv(a, return_rank=True, **options)[1] == sla.pinv(a, return_rank=True, **options)[1] == 2
        grad = hd.grad(lambda x, options=options: hnp.sum(hsl.pinv(x, **options) * w))(a)
        np.testing.assert_allclose(grad, central_gradient(lambda x, options=options: np.sum(
            sla.pinv(x, **options) * w), a), rtol=1e-7, atol=1e-9)
    m = r.standard_normal((3, 3)) + 1j * r.standard_normal((3, 3))
    factors, b = sla.lu_factor(m), r.standard_normal((3, 2))
    for trans in (0, 1, 2):
        np.testing.assert_array_equal(hsl.lu_solve(factors, b, trans=trans), sla.lu_solve(factors, b, trans=trans))
        traced = hd.jvp(lambda x, trans=trans: hsl.lu_solve(factors, x, trans=trans), (b + 0j,), (b + 0j,))
        np.testing.assert_allclose(traced[0], sla.lu_solve(factors, b, trans=trans), rtol=1e-14)
    za, zb = (r.standard_normal((2, 3)) + 1j * r.standard_normal((2, 3)) for _ in range(2))
    assert hd.jvp(lambda x: hnp.vdot(x, zb), (za,), (zb,)) == pytest.approx((np.vdot(za, zb), np.vdot(zb, zb)))
    np.testing.assert_allclose(hd.grad(lambda x: hnp.vdot(x, e))(a), e, rtol=1e-15)
    with pytest.raises(TracedConversionError, match=r"^hodiff\.scipy\.linalg\.lu is not differentiable"):
        hd.grad(lambda x: hnp.sum(hsl.lu(x)[2]))(a[:3])
