"""Hand-made Duals (issue 12): a fresh perturbation per untagged Dual, shared ones by hd.Perturbation.

References are closed forms (sympy) and other routes of hodiff (jvp, grad), never the Dual code
itself. The Siskind & Pearlmutter examples gave 2 and 3 when every untagged Dual shared one
perturbation.
"""

import gc
import tracemalloc

import numpy as np
import pytest
import sympy

import hodiff as hd
import hodiff.numpy as hnp


def D(f):
    """The naive derivative operator on raw Duals."""
    return lambda x: f(hd.Dual(x, 1.0)).tangent


def D_eps(f):
    """The operator that is right even when f ignores its argument."""
    def df(x):
        eps = hd.Perturbation()
        return eps.tangent(f(hd.Dual(x, 1.0, tag=eps)))
    return df


# ----------------------------------------------------------------- Siskind & Pearlmutter

@pytest.mark.parametrize("operator", [D, D_eps], ids=["raw Dual", "Perturbation"])
def test_siskind_pearlmutter_examples_are_exact(operator):
    assert operator(lambda x: x * operator(lambda y: x + y)(1.0))(1.0) == 1.0  # (2 when confused)
    for x in (1.0, 0.3, -2.0):
        assert operator(lambda x: x * operator(lambda y: x * y)(2.0))(x) == pytest.approx(2 * x)  # (3 at x = 1)
    # three levels: d/dx [x * d/dy [y * d/dz (x + y + z)]] = 1
    assert operator(lambda x: x * operator(lambda y: y * operator(lambda z: x + y + z)(1.0))(1.0))(1.0) == 1.0


def test_the_perturbation_operator_is_right_where_f_ignores_its_argument():
    # d/dx [x * d/dy x] = d/dx [x * 0] = 0; the raw .tangent would read x's own perturbation here.
    assert D_eps(lambda x: x * D_eps(lambda y: x)(1.0))(1.0) == 0.0
    assert D_eps(lambda y: 3.0)(1.0) == 0.0
    assert D_eps(lambda y: {"a": y * y, "b": 2.0})(3.0) == {"a": 6.0, "b": 0.0}


# ----------------------------------------------------------------- hyper-duals: second derivatives

_t = sympy.Symbol("t")
SCALAR_FUNCTIONS = {
    "sin exp": (lambda x: hnp.sin(x) * hnp.exp(-x * x / 2), sympy.sin(_t) * sympy.exp(-_t ** 2 / 2)),
    "log of 1 + x^2": (lambda x: hnp.log(1 + x * x), sympy.log(1 + _t ** 2)),
    "x^5 / (1 + x)": (lambda x: x ** 5 / (1 + x), _t ** 5 / (1 + _t)),
    "tanh": (lambda x: hnp.tanh(3 * x), sympy.tanh(3 * _t)),
}


@pytest.mark.parametrize("name", sorted(SCALAR_FUNCTIONS))
def test_two_untagged_duals_give_the_second_derivative(name):
    f, expression = SCALAR_FUNCTIONS[name]
    for x in (0.4, -1.3):
        # x + e1 + e2 with e1 (outer, made first) and e2 (inner): the e1 e2 coefficient is f''(x)
        hyper = hd.Dual(hd.Dual(x, 1.0), 1.0)
        out = f(hyper)
        assert float(out.primal.primal) == pytest.approx(float(expression.subs(_t, x)), rel=1e-13)
        first = float(sympy.diff(expression, _t).subs(_t, x))
        assert float(out.tangent.primal) == pytest.approx(first, rel=1e-13)  # d/de2
        assert float(out.primal.tangent) == pytest.approx(first, rel=1e-13)  # d/de1
        assert float(out.tangent.tangent) == pytest.approx(float(sympy.diff(expression, _t, 2).subs(_t, x)),
                                                           rel=1e-12)


def test_two_untagged_duals_side_by_side_give_mixed_partials():
    # f(x, y) = sin(x y) y: d2f/dxdy = 2 y cos(x y) - x y^2 sin(x y); y made later is the inner one.
    x, y = hd.Dual(2.0, 1.0), hd.Dual(3.0, 1.0)
    out = hnp.sin(x * y) * y
    assert out.tangent.tangent == pytest.approx(6.0 * np.cos(6.0) - 18.0 * np.sin(6.0), rel=1e-13)
    # .tangent is d/dy (x's part kept): a Dual in x whose primal is df/dy = x y cos(x y) + sin(x y)
    assert out.tangent.primal == pytest.approx(6.0 * np.cos(6.0) + np.sin(6.0), rel=1e-13)
    # .primal is the value with y's perturbation set to 0: a Dual in x, tangent df/dx = y^2 cos(x y)
    assert isinstance(out.primal, hd.Dual)
    assert out.primal.tangent == pytest.approx(9.0 * np.cos(6.0), rel=1e-13)


def test_a_perturbation_reads_its_part_through_inner_ones():
    eps = hd.Perturbation()
    x = hd.Dual(2.0, 1.0, tag=eps)  # outer
    y = hd.Dual(3.0, 1.0)  # inner (made later)
    z = x * x * y * y * y
    part = eps.tangent(z)  # d/dx (x^2 y^3) = 2 x y^3, a Dual in y
    assert isinstance(part, hd.Dual)
    assert part.primal == 2 * 2.0 * 27.0
    assert part.tangent == 6 * 2.0 * 9.0  # d2/dxdy = 6 x y^2
    rest = eps.primal(z)  # x^2 y^3 at eps = 0, a Dual in y
    assert (rest.primal, rest.tangent) == (4.0 * 27.0, 4.0 * 27.0)
    assert y.perturbation.tangent(z).primal == z.tangent.primal  # its own part: the .tangent


# ----------------------------------------------------------------- one perturbation, several duals

def test_duals_on_one_perturbation_add_their_directional_derivatives():
    f = lambda a, b: hnp.sum(hnp.sin(a) * b ** 2)
    a0, b0 = np.array([0.3, -0.7]), np.array([1.2, 0.4])
    u, w = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    expected = np.cos(a0) * b0 ** 2 @ u + 2 * np.sin(a0) * b0 @ w  # grad f . (u, w)
    eps = hd.Perturbation()
    assert f(hd.Dual(a0, u, tag=eps), hd.Dual(b0, w, tag=eps)).tangent == pytest.approx(expected, rel=1e-14)
    a = hd.Dual(a0, u)
    assert f(a, hd.Dual(b0, w, tag=a.perturbation)).tangent == pytest.approx(expected, rel=1e-14)
    assert f(hd.Dual(a0, u, tag="direction"), hd.Dual(b0, w, tag="direction")).tangent \
        == pytest.approx(expected, rel=1e-14)
    assert hd.jvp(f, (a0, b0), (u, w))[1] == pytest.approx(expected, rel=1e-14)


def test_batched_tangents_on_shared_and_fresh_perturbations():
    a = np.random.default_rng(1).standard_normal((3, 2))
    x0 = np.array([0.2, -0.5])
    jacobian = (1 - np.tanh(a @ x0) ** 2)[:, None] * a
    d = hd.Dual(x0, np.eye(2), batched=True)
    np.testing.assert_allclose(hnp.tanh(a @ d).tangent.T, jacobian, rtol=1e-13)
    # a batched and a plain dual on one perturbation: columns J e_i + (the plain direction's part)
    eps = hd.Perturbation()
    x = hd.Dual(x0, np.eye(2), batched=True, tag=eps)
    shift = hd.Dual(0.1, 1.0, tag=eps)
    out = hnp.tanh(a @ x + shift)
    s = 1 - np.tanh(a @ x0 + 0.1) ** 2
    np.testing.assert_allclose(out.tangent, (s[:, None] * a).T + s, rtol=1e-13)
    # a batched dual nested inside a fresh scalar one: d/dt of the Jacobian of tanh(t a x) at t = 1
    t = hd.Dual(1.0, 1.0)
    inner = hd.Dual(x0, np.eye(2), batched=True)
    columns = hnp.tanh(t * (a @ inner)).tangent  # (2, 3), each a Dual in t
    z = a @ x0
    d_jacobian = ((1 - np.tanh(z) ** 2) - 2 * np.tanh(z) * (1 - np.tanh(z) ** 2) * z)[:, None] * a
    np.testing.assert_allclose(columns.tangent.T, d_jacobian, rtol=1e-12)


# ----------------------------------------------------------------- Duals and transforms

def test_duals_inside_grad_and_jvp():
    for x in (3.0, -0.5):
        assert hd.grad(lambda x: x * D(lambda y: x * y)(2.0))(x) == pytest.approx(2 * x)
        assert hd.jvp(lambda x: x * D(lambda y: x * y)(2.0), (x,), (1.0,))[1] == pytest.approx(2 * x)
        assert hd.grad(lambda x: (hd.Dual(x, 1.0) ** 3).tangent)(x) == pytest.approx(6 * x)
    # Taylor mode and nested mode over a function that takes a Dual derivative inside
    g = lambda x: D(lambda y: hnp.sin(x * y))(1.0)  # x cos(x)
    closed = sympy.diff(_t * sympy.cos(_t), _t, 3).subs(_t, 0.7)
    for mode in ("taylor", "nested"):
        assert hd.derivative(g, order=3, mode=mode)(0.7) == pytest.approx(float(closed), rel=1e-12)


def test_grad_inside_duals_gives_hessian_vector_products():
    f = lambda x: hnp.sum(hnp.exp(x) * hnp.sin(x))
    x0, v = np.array([0.2, -0.3]), np.array([1.0, 2.0])
    hessian_v = 2 * np.exp(x0) * np.cos(x0) * v  # (e^x sin x)'' = 2 e^x cos x
    np.testing.assert_allclose(hd.grad(f)(hd.Dual(x0, v)).tangent, hessian_v, rtol=1e-13)
    np.testing.assert_allclose(hd.grad(f)(hd.Dual(x0, np.diag(v), batched=True)).tangent,
                               np.diag(hessian_v), rtol=1e-13)
    assert D(lambda x: hd.grad(lambda y: x * y ** 2)(3.0))(2.0) == 6.0  # d/dx [6 x]


# A Dual made inside a transform's function is inner to the transform; returned from it, the
# transform differentiates through it: f(x) = x^3 (x + eps) = x^4 + eps x^3.
RETURNED = {
    "grad": lambda: hd.grad(lambda x: x ** 3 * hd.Dual(x, 1.0))(2.0),
    "jvp": lambda: hd.jvp(lambda x: x ** 3 * hd.Dual(x, 1.0), (2.0,), (1.0,))[1],
    "jacfwd": lambda: hd.jacfwd(lambda x: x ** 3 * hd.Dual(x, np.ones(1)))(np.array([2.0]))[0, 0],
    "jacrev": lambda: hd.jacrev(lambda x: x ** 3 * hd.Dual(x, np.ones(1)))(np.array([2.0]))[0, 0],
    "vmap of grad": lambda: hd.vmap(hd.grad(lambda x: x ** 3 * hd.Dual(x, 1.0)))(np.array([2.0]))[0],
    "derivative (Taylor)": lambda: hd.derivative(lambda x: x ** 3 * hd.Dual(x, 1.0), order=1)(2.0),
    "derivative (nested)": lambda: hd.derivative(lambda x: x ** 3 * hd.Dual(x, 1.0), order=1, mode="nested")(2.0),
}


@pytest.mark.parametrize("route", sorted(RETURNED))
def test_a_dual_returned_from_a_transform_is_differentiated(route):
    out = RETURNED[route]()
    assert (float(out.primal), float(out.tangent)) == (32.0, 12.0)  # 4 x^3 and 3 x^2 at 2


@pytest.mark.parametrize("mode", ["fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd"])
def test_hessians_of_a_function_returning_a_dual(mode):
    x0 = np.array([1.0, 2.0])
    hessian = hd.hessian(lambda x: hnp.sum(x ** 2 * hd.Dual(x, np.ones(2))), mode=mode)(x0)
    np.testing.assert_allclose(hessian.primal, np.diag(6 * x0))  # sum x^3 + eps sum x^2
    np.testing.assert_allclose(hessian.tangent, 2 * np.eye(2))


def test_escaped_and_misnested_duals_are_refused():
    kept = []

    def f(x):
        kept.append(hd.Dual(x, 1.0))
        return x * 2.0

    hd.grad(f)(1.0)
    with pytest.raises(hd.EscapedTracerError, match="escaped"):
        hnp.sin(kept[0])
    eps = hd.Perturbation()
    later = hd.Dual(2.0, 1.0)
    with pytest.raises(ValueError, match="made after the tag"):
        hd.Dual(later, 1.0, tag=eps)
    z = later + 3.0 * hd.Dual(0.0, 1.0, tag=eps)  # the arithmetic form nests them right
    assert float(eps.tangent(z).primal) == 3.0 and float(z.tangent) == 1.0
    with pytest.raises(TypeError, match="hashable"):
        hd.Dual(1.0, 1.0, tag=[1])


# ----------------------------------------------------------------- state: tags do not accumulate

def test_distinct_tags_do_not_accumulate_memory():
    def make(first, count):
        for i in range(first, first + count):
            hd.Dual(1.0, 1.0, tag=("tag", i)) * 2.0

    make(0, 1000)  # warm up the allocator's pools
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        make(1000, 20_000)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 200_000  # was ~310 bytes per tag: 6.2 MB for these 20,000 tags
    eps = hd.Perturbation()
    key = object()
    x = hd.Dual(1.0, 1.0, tag=key)
    assert hd.Dual(2.0, 1.0, tag=key).perturbation is x.perturbation  # shared while a Dual lives
    assert eps is not x.perturbation


def test_reading_tangent_of_a_value_another_transform_traces_says_so():
    # hd.grad(lambda x: (x * d).tangent) raised AttributeError: 'ReverseTracer' object has no attribute 'tangent'
    d = hd.Dual(1.0, 1.0)
    with pytest.raises(TypeError, match="reverse-mode-traced value has no .tangent"):
        hd.grad(lambda x: (x * d).tangent)(2.0)
    assert float((hd.Dual(2.0, 1.0) ** 2).tangent) == 4.0
