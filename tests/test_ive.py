"""ive (exp(-|x|) I_v(x)) and its derivatives against mpmath, nobody here's code. The textbook rule
(ive_{v-1} + ive_{v+1}) / 2 - sign(x) ive_v, nested, cancels where |x| is large: grad(i0e)(1e8) was 2e-8 off,
the 2nd derivative 330% off, the 4th 1e16 times. ``ive_derivative`` takes each region's own formula:
the asymptotic series far out, a quadrature (integer v, n >= 3) or the difference of orders nearer in."""

import mpmath
import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
import hodiff.scipy.special as hsp
from hodiff.primitives.special import _ive_far_switch

mpmath.mp.dps = 50


def _mpmath_derivative(v, x, order):
    return float(mpmath.diff(lambda t: mpmath.besseli(v, t) * mpmath.exp(-abs(t)), mpmath.mpf(float(x)), order))


def _points(v, order):
    """Both sides of the switch to the asymptotic series, small and huge |x|, and x < 0 for integer v."""
    switch = _ive_far_switch(float(v), order)[0]
    positive = [0.3, 2.0, 7.5, switch * 0.999, switch, 3.0 * switch, 1e3, 1e8]
    return np.array(positive + ([-0.3, -switch, -1e4] if float(v).is_integer() else []))


# (v, order, rtol), the measured worst with a 3x margin: rounding alone in the series and the quadrature; the
# difference of orders (first and second derivatives, non-integer v) keeps all but ~x^order of its digits
# just below the switch
CASES = [(v, order, 4e-12 if order == 2 else 2e-14) for v in (0, 1, 3) for order in (1, 2, 3, 5)] + [
    (0, 8, 2e-14),  # (one v at order 8: each such case takes ~1 s of mpmath)
    (2.5, 1, 1e-14), (2.5, 3, 3e-11), (0.3, 1, 1e-13), (0.3, 2, 1.5e-12), (0.3, 4, 3e-10)]


@pytest.mark.parametrize("v, order, rtol", CASES)
def test_derivatives_match_mpmath_across_the_line(v, order, rtol):
    x = _points(v, order)
    expected = np.array([_mpmath_derivative(v, p, order) for p in x])
    for mode in ("taylor", "nested"):
        got = hd.derivative(lambda t: hsp.ive(v, t), order=order, mode=mode)(x)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=0, err_msg=f"{mode} v={v} order={order}")


def test_kink_at_zero_is_the_mean_of_both_sides():
    # |x| has a kink at 0: sign(0) = 0, so each derivative there is I_v's own (nested and Taylor agree)
    for order in (1, 2, 3, 4):
        expected = float(mpmath.diff(lambda t: mpmath.besseli(1, t), 0, order))
        for mode in ("taylor", "nested"):
            assert hd.derivative(hsp.i1e, order=order, mode=mode)(0.0) == pytest.approx(expected, rel=1e-15)


def test_gradient_over_mixed_regions_and_float32():
    x = np.array([-40.0, -3.0, 0.0, 1.0, 20.0, 21.3, 500.0, 1e8])
    expected = np.array([_mpmath_derivative(0, p, 1) for p in x])
    np.testing.assert_allclose(hd.grad(lambda t: hnp.sum(hsp.i0e(t)))(x), expected, rtol=2e-14, atol=0)
    got32 = hd.grad(lambda t: hnp.sum(hsp.i0e(t)))(x.astype(np.float32))
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, expected, rtol=3e-7)


def test_values_past_scipys_range():
    # scipy's ive is nan from |x| ~ 2e9 for v other than 0 and 1; the asymptotic series takes over
    for v, x in ((2, 1e10), (2.5, 3e12), (3, -1e10)):
        expected = float(mpmath.besseli(v, x) * mpmath.exp(-abs(x)))
        assert float(hsp.ive(v, x)) == pytest.approx(expected, rel=1e-15)
    assert np.isnan(hsp.ive(2.5, -1e10))  # I_2.5 of a negative x is complex, as scipy says


def test_high_orders_of_a_high_v_near_zero():
    # ive_7''' ~ x^4 near 0: the quadrature's absolute rounding was 1e19 times it at x = 1e-8
    # (hodiff.testing.accuracy); below |x| = v/2 the difference of orders, whose terms fall off there, takes it
    x = np.array([1e-8, -0.1, 1.0, 3.0, 3.6, 15.0, -40.0])
    for order in (3, 5):
        with mpmath.workdps(80):
            expected = np.array([_mpmath_derivative(7, p, order) for p in x])
        got = hd.derivative(lambda t: hsp.ive(7, t), order=order)(x)
        np.testing.assert_allclose(got, expected, rtol=1e-11, atol=0, err_msg=f"order {order}")  # 4e-12 at 3.6


@pytest.mark.parametrize("order", [3, 4])
@pytest.mark.parametrize("x", [50.0, 60.0, 100.0, 150.0, 260.0])
def test_high_order_of_a_large_integer_v_where_ive_is_tiny(order, x):
    # The quadrature took over from |x| = v/2; where ive is below 1e-8 its absolute rounding (~1e-23) swamped
    # the derivative: the 3rd of ive(100, x) at 50 was -9.5e-23 for 9.2e-38 (a helper's mpmath sweep found it)
    got = hd.derivative(lambda t: hsp.ive(100, t), order=order)(x)
    np.testing.assert_allclose(got, _mpmath_derivative(100, x, order), rtol=1e-8)
