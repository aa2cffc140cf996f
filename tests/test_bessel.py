"""Bessel functions of the first and second kind (jv, yv, jn, yn, j0, j1, y0, y1) against references
nobody here wrote: mpmath's own derivatives of J_v and Y_v (``derivative=n``), the closed forms
J0' = -J1, Y0' = -Y1, d/dx[x^v f_v] = x^v f_{v-1}, d/dx[x^-v f_v] = -x^-v f_{v+1} with scipy's values,
and Bessel's equation x^2 f'' + x f' + (x^2 - v^2) f = 0. The systematic tables (tests/tables/special.py)
cover every mode at order 2 and float32; here Taylor mode and nested forward mode go to order 6.
"""

import mpmath
import numpy as np
import pytest
import scipy.special as sp

import hodiff as hd
import hodiff.numpy as hnp
import hodiff.scipy.special as hsp

X = np.array([0.4, 1.3, 2.9, 6.1, 11.7])
SIGNED_X = np.array([-7.3, -2.2, -0.6, 0.8, 4.4])


def _derivatives(f, x, order):
    return hd.derivative(f, order=order)(x), hd.derivative(f, order=order, mode="nested")(x)


# (hodiff function of x, mpmath reference of (x, n), points)
MPMATH_CASES = [
    ("j0", hsp.j0, lambda x, n: mpmath.besselj(0, x, derivative=n), SIGNED_X),
    ("j1", hsp.j1, lambda x, n: mpmath.besselj(1, x, derivative=n), SIGNED_X),
    ("y0", hsp.y0, lambda x, n: mpmath.bessely(0, x, derivative=n), X),
    ("y1", hsp.y1, lambda x, n: mpmath.bessely(1, x, derivative=n), X),
    ("jv[2.5]", lambda x: hsp.jv(2.5, x), lambda x, n: mpmath.besselj(2.5, x, derivative=n), X),
    ("jv[-1.5]", lambda x: hsp.jv(-1.5, x), lambda x, n: mpmath.besselj(-1.5, x, derivative=n), X),
    ("yv[0.7]", lambda x: hsp.yv(0.7, x), lambda x, n: mpmath.bessely(0.7, x, derivative=n), X),
    ("jn[4]", lambda x: hsp.jn(4, x), lambda x, n: mpmath.besselj(4, x, derivative=n), SIGNED_X),
    ("jn[-3]", lambda x: hsp.jn(-3, x), lambda x, n: mpmath.besselj(-3, x, derivative=n), SIGNED_X),
    ("yn[2]", lambda x: hsp.yn(2, x), lambda x, n: mpmath.bessely(2, x, derivative=n), X),
    ("yn[-3]", lambda x: hsp.yn(-3, x), lambda x, n: mpmath.bessely(-3, x, derivative=n), X),
]


@pytest.mark.parametrize("name, f, reference, points", MPMATH_CASES, ids=[c[0] for c in MPMATH_CASES])
def test_derivatives_to_order_6_match_mpmath(name, f, reference, points):
    for order in range(7):
        expected = np.array([float(reference(mpmath.mpf(float(x)), order)) for x in points])
        taylor, nested = _derivatives(f, points, order) if order else (f(points), f(points))
        # scale: the alternating sum of f_{v-n}..f_{v+n} loses digits where those are large (Y at small x)
        scale = np.maximum(1.0, np.abs(expected))
        for route, got in (("taylor", taylor), ("nested", nested)):
            np.testing.assert_allclose(got / scale, expected / scale, rtol=0, atol=1e-11,
                                       err_msg=f"{name} {route} {order}")
        np.testing.assert_allclose(taylor, nested, rtol=1e-10, atol=1e-12, err_msg=f"{name} taylor vs nested {order}")


def test_first_derivatives_are_the_closed_forms_with_scipys_values():
    np.testing.assert_allclose(hd.grad(lambda x: hnp.sum(hsp.j0(x)))(SIGNED_X), -sp.j1(SIGNED_X), rtol=1e-14)
    np.testing.assert_allclose(hd.grad(lambda x: hnp.sum(hsp.y0(x)))(X), -sp.y1(X), rtol=1e-14)
    np.testing.assert_allclose(hd.jvp(hsp.j1, (X,), (np.ones_like(X),))[1], (sp.j0(X) - sp.jn(2, X)) / 2, rtol=1e-12)
    np.testing.assert_allclose(hd.jvp(hsp.y1, (X,), (np.ones_like(X),))[1], (sp.y0(X) - sp.yn(2, X)) / 2, rtol=1e-12)


@pytest.mark.parametrize("v", [2.5, 3, -0.5, 1.2])
@pytest.mark.parametrize("kind", ["j", "y"])
def test_recurrence_closed_forms(v, kind):
    """d/dx[x^v f_v(x)] = x^v f_{v-1}(x) and d/dx[x^-v f_v(x)] = -x^-v f_{v+1}(x), f = J, Y (reverse mode)."""
    f, scipy_f = (hsp.jv, sp.jv) if kind == "j" else (hsp.yv, sp.yv)
    up = hd.grad(lambda x: hnp.sum(x ** v * f(v, x)))(X)
    down = hd.grad(lambda x: hnp.sum(x ** -v * f(v, x)))(X)
    np.testing.assert_allclose(up, X ** v * scipy_f(v - 1, X), rtol=1e-11)
    np.testing.assert_allclose(down, -X ** -v * scipy_f(v + 1, X), rtol=1e-11)


@pytest.mark.parametrize("v", [0, 1, 2.5, -1.5])
@pytest.mark.parametrize("kind", ["j", "y"])
def test_bessels_equation_with_second_derivatives_of_every_route(v, kind):
    f = (lambda x: hsp.jv(v, x)) if kind == "j" else (lambda x: hsp.yv(v, x))
    scalar = lambda x: hnp.sum(f(x))  # noqa: E731 (elementwise: the diagonal of the Hessian)
    value = f(X)
    first = hd.grad(scalar)(X)
    for second in (hd.derivative(f, order=2)(X), hd.derivative(f, order=2, mode="nested")(X),
                   np.diag(hd.hessian(scalar)(X)), hd.grad(lambda x: hnp.sum(hd.grad(scalar)(x)))(X)):
        residual = X ** 2 * second + X * first + (X ** 2 - v ** 2) * value
        np.testing.assert_allclose(residual, 0.0, atol=1e-11 * np.max(np.abs(X ** 2 * second)))


def test_values_are_scipys_and_dtypes_follow_scipy_or_stay_float32():
    for name in ["j0", "j1", "y0", "y1"]:
        assert np.array_equal(getattr(hsp, name)(X), getattr(sp, name)(X)), name
        assert getattr(hsp, name)(X.astype(np.float32)).dtype == np.float32
    for v in [2.5, -1.5, 3, -3]:
        assert np.array_equal(hsp.jv(v, SIGNED_X), sp.jv(v, SIGNED_X), equal_nan=True)
        assert np.array_equal(hsp.jn(v, SIGNED_X), sp.jn(v, SIGNED_X), equal_nan=True)
        np.testing.assert_allclose(hsp.yv(v, X), sp.yv(v, X), rtol=1e-13)
    for n in [2, 5]:
        assert np.array_equal(hsp.yn(n, X), sp.yn(n, X))
    # scipy's yn takes its integer loop to float64 for float32 x; hodiff keeps float32, as numpy's NEP 50 would
    x32 = X.astype(np.float32)
    assert hsp.yn(2, x32).dtype == np.float32 and hsp.jv(2.5, x32).dtype == np.float32
    np.testing.assert_allclose(hsp.yn(2, x32), sp.yn(2, x32), rtol=1e-6)
    assert hd.grad(lambda x: hnp.sum(hsp.yn(2, x)))(x32).dtype == np.float32
    # outside the real domain scipy's nan stays nan
    assert np.isnan(hsp.yv(1.5, -1.0)) and np.isnan(hsp.jv(2.5, -1.0)) and np.isnan(hsp.yn(2, -1.0))


def test_plain_scipy_on_traced_values_dispatches_to_these():
    np.testing.assert_allclose(hd.grad(lambda x: sp.j0(x))(1.7), -sp.j1(1.7), rtol=1e-14)
    np.testing.assert_allclose(hd.grad(lambda x: sp.yv(0.5, x))(1.7), (sp.yv(-0.5, 1.7) - sp.yv(1.5, 1.7)) / 2,
                               rtol=1e-13)


@pytest.mark.parametrize("name, argument", [("jv", "v"), ("yv", "v"), ("jn", "n"), ("yn", "n")])
def test_a_traced_order_is_refused_naming_the_function_and_argument(name, argument):
    with pytest.raises(TypeError, match=f"{name}: the order {argument} must be a Python number"):
        hd.grad(lambda v: getattr(hsp, name)(v, 1.5))(2.0)


def test_yn_refuses_a_fractional_order():
    with pytest.raises(TypeError, match="yn: the order n must be an integer.*use yv"):
        hsp.yn(2.5, 1.5)
