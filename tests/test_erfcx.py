"""erfcx and its derivatives against mpmath, nobody here's code: the textbook derivative
2 x erfcx(x) - 2/sqrt(pi) cancels where x is large (grad(erfcx)(1e8) was 0, the 4th derivative at
x = 100 27% off, float32's first derivative at 1000 27% off: fuzz seed 170658). hodiff's
``erfcx_derivative`` recurs on the scaled repeated integrals of erfc instead."""

import mpmath
import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
import hodiff.scipy.special as hsp

mpmath.mp.dps = 60
POINTS = np.array([-20.0, -4.0, -0.7, 0.0, 0.3, 1.0, 1.4999, 1.5, 2.2, 4.0, 9.0, 30.0, 100.0, 1e3, 1e6, 1e8])


def _mpmath_derivative(x, order):
    return float(mpmath.diff(lambda t: mpmath.exp(t * t) * mpmath.erfc(t), mpmath.mpf(float(x)), order))


@pytest.mark.parametrize("order", range(1, 9))
def test_derivatives_match_mpmath_across_the_line(order):
    expected = np.array([_mpmath_derivative(x, order) for x in POINTS])
    for mode in ("taylor", "nested"):
        got = hd.derivative(hsp.erfcx, order=order, mode=mode)(POINTS)
        # the worst case is the forward recurrence just below its switch (_erfcx_recurrences): 2e-12 at order 8
        np.testing.assert_allclose(got, expected, rtol=3e-12, atol=0, err_msg=f"{mode} order {order}")


def test_gradients_and_float32():
    x = np.array([15.47, 1e3, 1e5, 1e8])
    expected = np.array([_mpmath_derivative(v, 1) for v in x])
    np.testing.assert_allclose(hd.grad(lambda v: hnp.sum(hsp.erfcx(v)))(x), expected, rtol=1e-15)
    got32 = hd.grad(lambda v: hnp.sum(hsp.erfcx(v)))(x.astype(np.float32))
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, expected, rtol=3e-7)


def test_float32_taylor_coefficients_keep_float32_precision():
    # fuzz seed 170658: ndtr(erfcx(u)) at u = 15.474; its 3rd coefficient was 17% off in float32
    def f(u):
        return hsp.ndtr(hsp.erfcx(u))

    series = hd.taylor(f, np.float64(15.474), np.float64(1.0), order=4)
    series32 = hd.taylor(f, np.float32(15.474), np.float32(1.0), order=4)
    assert series32.dtype == np.float32
    np.testing.assert_allclose(series32.astype(np.float64), series, rtol=1e-5)


def test_log_ndtr_far_left_to_order_4():
    # log_ndtr's left tail goes through erfcx(-x / sqrt 2) at large arguments
    for x in (-100.0, -10.0):
        for order in range(1, 5):
            expected = float(mpmath.diff(lambda t: mpmath.log(mpmath.ncdf(t)), mpmath.mpf(x), order))
            np.testing.assert_allclose(hd.derivative(hsp.log_ndtr, order=order)(x), expected, rtol=1e-10)
