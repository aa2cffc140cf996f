"""hodiff.scipy.stats against scipy.stats: values, tails, supports, derivative identities.

Derivatives of every function to order 2 in both modes are checked by the
systematic table (tables/stats.py); here the values are compared with scipy's
and the derivatives with independent facts (d cdf/dx = pdf, scipy's values
under finite differences in the shape parameters).
"""

import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

import hodiff as hd
import hodiff.numpy as hnp
import hodiff.scipy.stats as hst
from hodiff.scipy.stats import betainc_pair, gammainc_pair

# (distribution name, methods, argument generator) -> compared with scipy.stats on the same arguments
CONTINUOUS = {
    "norm": (("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"), lambda rng: (
        rng.uniform(-6, 6, 40), rng.uniform(-1, 1, 40), rng.uniform(0.2, 3, 40))),
    "t": (("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"), lambda rng: (
        rng.uniform(-30, 30, 40), rng.uniform(0.2, 50, 40), rng.uniform(-1, 1, 40), rng.uniform(0.2, 3, 40))),
    "gamma": (("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"), lambda rng: (
        rng.uniform(-1, 40, 40), rng.uniform(0.05, 30, 40), rng.uniform(-0.5, 0.5, 40), rng.uniform(0.3, 3, 40))),
    "beta": (("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"), lambda rng: (
        rng.uniform(-0.2, 1.2, 40), rng.uniform(0.1, 40, 40), rng.uniform(0.1, 40, 40),
        rng.uniform(-0.1, 0.1, 40), rng.uniform(0.8, 1.2, 40))),
}


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_continuous_values_match_scipy(name):
    methods, make_args = CONTINUOUS[name]
    args = make_args(np.random.default_rng(len(name)))
    for method in methods:
        ours = getattr(getattr(hst, name), method)(*args)
        theirs = getattr(getattr(scipy.stats, name), method)(*args)
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-300, err_msg=f"{name}.{method}")


def test_norm_quantiles_and_far_tails():
    q = np.array([1e-300, 1e-10, 0.01, 0.5, 0.99, 1 - 1e-12])
    np.testing.assert_allclose(hst.norm.ppf(q, 1.0, 2.0), scipy.stats.norm.ppf(q, 1.0, 2.0), rtol=1e-12)
    np.testing.assert_allclose(hst.norm.isf(q, 1.0, 2.0), scipy.stats.norm.isf(q, 1.0, 2.0), rtol=1e-12)
    x = np.array([-40.0, -20.0, 20.0, 40.0])
    np.testing.assert_allclose(hst.norm.logcdf(x), scipy.stats.norm.logcdf(x), rtol=1e-12)
    np.testing.assert_allclose(hst.norm.logsf(x), scipy.stats.norm.logsf(x), rtol=1e-12)


def test_t_cdf_in_the_tails_and_at_infinity():
    x = np.array([-np.inf, -1e6, -40.0, -1e-8, 0.0, 1e-8, 40.0, 1e6, np.inf])
    for df in (0.5, 3.0, 30.0):
        np.testing.assert_allclose(hst.t.cdf(x, df), scipy.stats.t.cdf(x, df), rtol=1e-11, atol=0)
        np.testing.assert_allclose(hst.t.sf(x, df), scipy.stats.t.sf(x, df), rtol=1e-11, atol=0)
    # df = 1 is the Cauchy distribution, 1/2 + arctan(x)/pi (scipy's t.cdf is off by 1.5e-9 near 0 there)
    np.testing.assert_allclose(hst.t.cdf(x, 1.0), scipy.stats.cauchy.cdf(x), rtol=1e-13, atol=0)
    np.testing.assert_allclose(hst.t.sf(x, 1.0), scipy.stats.cauchy.sf(x), rtol=1e-13, atol=0)


@given(st.floats(0.01, 300.0), st.floats(0.0, 600.0))
def test_incomplete_gamma_matches_scipy(a, x):
    P, Q = gammainc_pair(a, x)
    for ours, theirs in ((P, scipy.special.gammainc(a, x)), (Q, scipy.special.gammaincc(a, x))):
        if theirs > 1e-280:
            np.testing.assert_allclose(ours, theirs, rtol=1e-10)
        else:
            assert ours < 1e-270
    assert abs(P + Q - 1) < 1e-14


@given(st.floats(0.01, 300.0), st.floats(0.01, 300.0), st.floats(0.0, 1.0))
def test_incomplete_beta_matches_scipy(a, b, x):
    below, above = betainc_pair(a, b, x)
    for ours, theirs in ((below, scipy.special.betainc(a, b, x)), (above, scipy.special.betaincc(a, b, x))):
        if theirs > 1e-280:
            np.testing.assert_allclose(ours, theirs, rtol=1e-10)
        else:
            assert ours < 1e-270


def _poisson_log_upper_tail(k, mu):
    """log P(K > k) as log pmf(k + 1) + log sum_j mu^j (k+1)! / (k+1+j)!: the closed form where it underflows."""
    first = np.floor(k) + 1
    total, term = np.ones_like(first), np.ones_like(first)
    for j in range(1, 60):
        term = term * mu / (first + j)
        total = total + term
    return first * np.log(mu) - mu - scipy.special.gammaln(first + 1) + np.log(total)


def test_poisson_matches_scipy():
    k = np.array([-2, -0.5, 0, 1, 2, 2.5, 3, 10, 40, 200])
    for mu in (0.0, 0.3, 2.5, 30.0, 150.0):
        for method in ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"):
            ours = getattr(hst.poisson, method)(k, mu)
            theirs = getattr(scipy.stats.poisson, method)(k, mu)
            # scipy's logcdf is log(cdf), which rounds cdf to 1 first; near 1 the exact value is log1p(-sf).
            if method in ("logcdf", "logsf"):
                complement = scipy.stats.poisson.sf(k, mu) if method == "logcdf" else scipy.stats.poisson.cdf(k, mu)
                with np.errstate(divide="ignore"):
                    theirs = np.where(complement < 0.5, np.log1p(-complement), theirs)
            if method == "logsf":  # scipy's sf underflows to 0 far out (k = 200, mu = 0.3); hodiff's log stays
                theirs = np.where(np.isneginf(theirs) & (k >= 0) & (mu > 0), _poisson_log_upper_tail(k, mu), theirs)
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-300, err_msg=f"poisson.{method}, mu={mu}")
    np.testing.assert_allclose(hst.poisson.logpmf(k, 2.0, loc=1), scipy.stats.poisson.logpmf(k, 2.0, loc=1))


def test_supports_and_invalid_parameters_follow_scipy():
    np.testing.assert_array_equal(hst.gamma.logpdf(np.array([-1.0, 0.0]), 2.0), [-np.inf, -np.inf])
    np.testing.assert_allclose(hst.gamma.logpdf(0.0, 1.0, scale=2.0), np.log(0.5))
    np.testing.assert_array_equal(hst.beta.pdf(np.array([-0.5, 1.5]), 2.0, 2.0), [0.0, 0.0])
    np.testing.assert_array_equal(hst.beta.cdf(np.array([-0.5, 1.5]), 2.0, 2.0), [0.0, 1.0])
    np.testing.assert_array_equal(hst.gamma.cdf(np.array([-3.0, np.inf]), 2.0), [0.0, 1.0])
    with np.errstate(all="ignore"):
        for value in (hst.norm.logpdf(0.0, 0.0, -1.0), hst.norm.cdf(0.0, 0.0, 0.0), hst.t.logpdf(0.0, -1.0),
                      hst.gamma.cdf(1.0, -2.0), hst.beta.logpdf(0.5, 1.0, 0.0), hst.poisson.logpmf(1, -1.0)):
            assert np.isnan(value)


def test_outside_the_support_the_derivative_is_zero():
    assert hd.grad(hst.gamma.logpdf)(-1.0, 2.0) == 0.0
    assert hd.grad(hst.beta.pdf, argnums=(0, 1, 2))(1.5, 2.0, 3.0) == (0.0, 0.0, 0.0)
    assert hd.grad(hst.poisson.logpmf, argnums=1)(2.5, 3.0) == 0.0


@pytest.mark.parametrize("name, params", [("norm", (0.3, 1.7)), ("t", (2.5, 0.3, 1.7)), ("t", (40.0,)),
                                          ("gamma", (2.5, 0.1, 1.3)), ("gamma", (0.6,)), ("beta", (2.5, 0.7))])
def test_derivative_of_cdf_is_pdf(name, params):
    distribution = getattr(hst, name)
    x = {"beta": np.linspace(0.05, 0.95, 7), "gamma": np.linspace(0.2, 9, 7)}.get(name, np.linspace(-4, 4, 7))
    slopes = np.array([hd.grad(distribution.cdf)(xi, *params) for xi in x])
    np.testing.assert_allclose(slopes, distribution.pdf(x, *params), rtol=1e-10)
    # and the second derivative of the cdf is the pdf's slope
    curvature = np.array([hd.grad(hd.grad(distribution.cdf))(xi, *params) for xi in x])
    np.testing.assert_allclose(curvature, [hd.grad(distribution.pdf)(xi, *params) for xi in x], rtol=1e-8)


def test_t_cdf_slope_at_zero_is_the_pdf():
    for df in (1.0, 4.0):
        np.testing.assert_allclose(hd.grad(hst.t.cdf)(0.0, df), scipy.stats.t.pdf(0.0, df), rtol=1e-12)


def test_shape_derivatives_match_finite_differences_of_scipy():
    """d/da and d/db of the CDFs against central differences of scipy.special's own functions."""
    h = 1e-6

    def central(f, value):
        return (f(value + h) - f(value - h)) / (2 * h)

    a, x = 2.7, 1.9
    np.testing.assert_allclose(hd.grad(lambda a: gammainc_pair(a, x)[0])(a),
                               central(lambda a: scipy.special.gammainc(a, x), a), rtol=1e-7)
    np.testing.assert_allclose(hd.grad(lambda a: hst.gamma.sf(x, a))(a),
                               central(lambda a: scipy.special.gammaincc(a, x), a), rtol=1e-7)
    b, z = 3.4, 0.35
    np.testing.assert_allclose(hd.grad(lambda b: hst.beta.cdf(z, a, b))(b),
                               central(lambda b: scipy.special.betainc(a, b, z), b), rtol=1e-7)
    np.testing.assert_allclose(hd.grad(lambda df: hst.t.cdf(-1.3, df))(3.5),
                               central(lambda df: scipy.stats.t.cdf(-1.3, df), 3.5), rtol=1e-7)
    # Poisson: d/dmu P(K <= k) = -pmf(k)
    np.testing.assert_allclose(hd.grad(lambda mu: hst.poisson.cdf(4, mu))(3.2), -scipy.stats.poisson.pmf(4, 3.2),
                               rtol=1e-12)


# ----------------------------------------------------------------- multivariate normal


def _spd(rng, d):
    A = rng.standard_normal((d, d))
    return A @ A.T + d * np.eye(d)


@pytest.mark.parametrize("d", [1, 2, 4])
def test_multivariate_normal_matches_scipy(d):
    rng = np.random.default_rng(d)
    mean, cov = rng.standard_normal(d), _spd(rng, d)
    for x in (rng.standard_normal(d), rng.standard_normal((5, d)), rng.standard_normal((2, 3, d))):
        ours = hst.multivariate_normal.logpdf(x, mean, cov)
        theirs = scipy.stats.multivariate_normal.logpdf(x, mean, cov)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
        assert np.shape(ours) == np.shape(theirs)
        np.testing.assert_allclose(hst.multivariate_normal.pdf(x, mean, cov),
                                   scipy.stats.multivariate_normal.pdf(x, mean, cov), rtol=1e-12)
    variances = rng.uniform(0.5, 2, d)
    x = rng.standard_normal((3, d))
    np.testing.assert_allclose(hst.multivariate_normal.logpdf(x, mean, variances),
                               scipy.stats.multivariate_normal.logpdf(x, mean, np.diag(variances)), rtol=1e-12)
    np.testing.assert_allclose(hst.multivariate_normal.logpdf(x, mean, 1.7),
                               scipy.stats.multivariate_normal.logpdf(x, mean, 1.7), rtol=1e-12)
    if d == 1:  # without mean and cov the dimension is 1, as scipy's (and d > 1 points are refused, as there)
        np.testing.assert_allclose(hst.multivariate_normal.logpdf(x), scipy.stats.multivariate_normal.logpdf(x),
                                   rtol=1e-12)
    else:
        with pytest.raises(ValueError, match="the distribution has dimension 1"):
            hst.multivariate_normal.logpdf(x)


def test_multivariate_normal_gradients_are_the_textbook_ones():
    rng = np.random.default_rng(0)
    mean, cov = rng.standard_normal(3), _spd(rng, 3)
    x = rng.standard_normal(3)
    precision = np.linalg.inv(cov)
    grad_x, grad_mean = hd.grad(hst.multivariate_normal.logpdf, argnums=(0, 1))(x, mean, cov)
    np.testing.assert_allclose(grad_x, -precision @ (x - mean), rtol=1e-10)
    np.testing.assert_allclose(grad_mean, precision @ (x - mean), rtol=1e-10)
    np.testing.assert_allclose(hd.hessian(hst.multivariate_normal.logpdf)(x, mean, cov), -precision, rtol=1e-10)


def test_multivariate_normal_shape_errors():
    with pytest.raises(ValueError, match="dimension 3"):
        hst.multivariate_normal.logpdf(np.zeros(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match=r"expected \(3, 3\)"):
        hst.multivariate_normal.logpdf(np.zeros(3), np.zeros(3), np.eye(2))
    with pytest.raises(ValueError, match="axes"):
        hst.multivariate_normal.logpdf(np.zeros(3), np.zeros(3), np.zeros((1, 3, 3)))


# ----------------------------------------------------------------- dtypes, batching, composition


@pytest.mark.parametrize("a", [np.float32(2.0), 2.0], ids=["float32 parameter", "Python number parameter"])
def test_float32_in_float32_out(a):
    x = np.array([0.3, 0.6], dtype=np.float32)
    for value in (hst.norm.logpdf(x), hst.norm.pdf(x, 0.5, 2.0), hst.norm.cdf(x), hst.norm.logsf(x),
                  hst.t.logpdf(x, a), hst.t.cdf(x, a), hst.t.logcdf(x, a, 0.1, 2.0),
                  hst.gamma.cdf(x, a), hst.gamma.logpdf(x, a, 0.0, 2.0), hst.gamma.logsf(x, a),
                  hst.beta.cdf(x, a, a), hst.beta.logpdf(x, a, a), hst.beta.logcdf(x, a, a),
                  hst.poisson.logpmf(np.float32(2.0), x), hst.poisson.cdf(np.float32(2.0), x),
                  hst.multivariate_normal.logpdf(x, x, x)):
        assert np.result_type(value) == np.float32


def test_a_float32_parameter_beside_python_numbers_gives_float32_at_every_order():
    # the methods' hnp ops on x = 0.3, loc = 0.0 alone made strong float64 values, so gamma.logpdf(0.3, a) of a
    # float32 a was float64 with float64 second derivatives while its grad was float32; Python numbers now take
    # the arrays' dtype, as numpy's promotion does
    a = np.float32(3.0)
    cases = {"gamma.logpdf in a": lambda s: hst.gamma.logpdf(0.3, s), "beta.logpdf in a": lambda s: hst.beta.logpdf(
        0.3, s, 2.0), "poisson.logpmf in mu": lambda m: hst.poisson.logpmf(3, m), "t.cdf in x": lambda x: hst.t.cdf(
        x, 4.0, 0.0, 2.0), "norm.logsf in scale": lambda s: hst.norm.logsf(1.0, 0.0, s)}
    for name, f in cases.items():
        assert np.result_type(f(a)) == np.float32, name
        for mode in ("nested", "taylor"):
            for order in (1, 2, 3):
                got = hd.derivative(f, order=order, mode=mode)(a)
                assert np.result_type(got) == np.float32, (name, mode, order)
                want = hd.derivative(f, order=order, mode=mode)(np.float64(a))
                np.testing.assert_allclose(got, want, rtol=2e-4, atol=1e-6, err_msg=f"{name} {mode} {order}")
    assert np.result_type(hst.gamma.logpdf(0.3, 3.0)) == np.float64  # Python numbers alone: float64, as scipy


def test_vmap_over_parameters():
    x = np.linspace(0.2, 5, 4)
    shapes = np.array([0.7, 1.5, 3.0])
    batched = hd.vmap(lambda a: hst.gamma.cdf(x, a))(shapes)
    np.testing.assert_allclose(batched, scipy.stats.gamma.cdf(x[None, :], shapes[:, None]), rtol=1e-12)


def test_fitting_a_gamma_by_maximum_likelihood_with_minimize():
    """A typical use: maximum likelihood with exact Hessians (hd.minimize, trust-exact)."""
    data = scipy.stats.gamma.rvs(2.5, scale=1.7, size=400, random_state=np.random.default_rng(0))

    def negative_log_likelihood(params):
        a, scale = hd.numpy.exp(params["log_a"]), hd.numpy.exp(params["log_scale"])
        return -hd.numpy.sum(hst.gamma.logpdf(data, a, 0.0, scale))

    result = hd.minimize(negative_log_likelihood, {"log_a": np.array(0.0), "log_scale": np.array(0.0)},
                         method="trust-exact")
    a_fit, _, scale_fit = scipy.stats.gamma.fit(data, floc=0.0)
    np.testing.assert_allclose(np.exp(result.x["log_a"]), a_fit, rtol=1e-4)
    np.testing.assert_allclose(np.exp(result.x["log_scale"]), scale_fit, rtol=1e-4)


def test_repr_names_the_distribution():
    assert repr(hst.norm) == "<hodiff.scipy.stats.norm>"
    assert set(hst.__all__) == {"norm", "t", "gamma", "chi2", "beta", "poisson", "dirichlet", "multivariate_normal"}


# ----------------------------------------------------------------- log tails below the smallest double

def _mpmath_derivative(log_probability, point, order):
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):
        return float(mpmath.diff(lambda t: log_probability(mpmath, t), mpmath.mpf(point), order))


# (hodiff's function of the differentiated variable, its mpmath definition, point, order). Each probability is
# below the smallest double (P(500, 1e-4) ~ 1e-3134) or its derivatives' powers are: the log was taken of a
# computed probability, so these came out 0, inf or nan (gamma.logcdf's gradient 0 for 5.0e6).
_LOG_TAILS = [
    ("gamma.logcdf", lambda x: hst.gamma.logcdf(x, 500.0),
     lambda M, t: M.log(M.gammainc(500, 0, t, regularized=True)), 1e-4, 1),
    ("gamma.logcdf", lambda x: hst.gamma.logcdf(x, 50.0),
     lambda M, t: M.log(M.gammainc(50, 0, t, regularized=True)), 1e-4, 2),
    ("t.logsf", lambda x: hst.t.logsf(x, 1000.0),
     lambda M, t: M.log(M.betainc(500, 0.5, 0, 1000 / (1000 + t * t), regularized=True) / 2), 1e4, 1),
    ("t.logcdf", lambda x: hst.t.logcdf(x, 1000.0),
     lambda M, t: M.log(M.betainc(500, 0.5, 0, 1000 / (1000 + t * t), regularized=True) / 2), -25.0, 3),
    ("beta.logcdf", lambda x: hst.beta.logcdf(x, 50.0, 50.0),
     lambda M, t: M.log(M.betainc(50, 50, 0, t, regularized=True)), 1e-6, 2),
    ("poisson.logsf in mu", lambda mu: hst.poisson.logsf(1530.0, mu),
     lambda M, m: M.log(M.gammainc(1531, 0, m, regularized=True)), 500.0, 2),
]


@pytest.mark.parametrize("name, f, reference, point, order", _LOG_TAILS, ids=[f"{row[0]}, order {row[4]}" for row in
                                                                              _LOG_TAILS])
@pytest.mark.parametrize("mode", ["taylor", "nested"])
def test_log_probabilities_far_in_the_tails_keep_their_derivatives(name, f, reference, point, order, mode):
    got = hd.derivative(f, order=order, mode=mode)(point)
    np.testing.assert_allclose(got, _mpmath_derivative(reference, point, order), rtol=1e-8)
    if order == 1:
        np.testing.assert_allclose(hd.grad(f)(point), got, rtol=1e-12)


@pytest.mark.parametrize("df", [3.0, 1e5, 1e7])
def test_t_logpdf_derivative_in_df_at_large_df(df):
    # log Gamma((df+1)/2) - log Gamma(df/2) differentiated as two digammas cancelled: 0.18 off at df = 1e7
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):
        x = mpmath.mpf(0.4)
        reference = float(mpmath.diff(lambda d: mpmath.log(mpmath.gamma((d + 1) / 2) / mpmath.gamma(d / 2)
                                                           / mpmath.sqrt(d * mpmath.pi)
                                                           * (1 + x * x / d) ** (-(d + 1) / 2)), mpmath.mpf(df)))
    np.testing.assert_allclose(hd.grad(lambda d: hst.t.logpdf(0.4, d))(df), reference, rtol=5e-9)


@pytest.mark.parametrize("df", [1e5, 1e6, 1e7])
@pytest.mark.parametrize("x", [-2.0, 0.5, 3.0])
def test_t_cdf_derivative_in_df_at_large_df(x, df):
    # d/d(df) is O(1/df^2) built from O(1/df) terms; through the tail fraction (terms near -1, relative
    # error ~ eps df / x^2) it was 8e-4 off at (-2, 1e7). Further out (|x| >= 4 at df = 1e7) it still is.
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):
        def cdf(d):
            upper = mpmath.betainc(d / 2, 0.5, 0, d / (d + x * x), regularized=True) / 2
            return 1 - upper if x > 0 else upper
        reference = float(mpmath.diff(cdf, mpmath.mpf(df)))
    np.testing.assert_allclose(hd.grad(lambda d: hst.t.cdf(x, d))(df), reference, rtol=2e-6)
    np.testing.assert_allclose(hd.grad(lambda d: hst.t.sf(-x, d))(df), reference, rtol=2e-6)


def test_gamma_cdf_at_a_large_shape_sums_enough_terms_and_refuses_past_its_cap():
    # 3000 terms stopped the series short at a = 1e6: the value 0.498977 for 0.500332, d/da 1.1e-2 off
    import scipy.differentiate

    a, x = 1e6, 1000000.5
    np.testing.assert_allclose(hst.gamma.cdf(x, a), scipy.stats.gamma.cdf(x, a), rtol=1e-8)
    reference = scipy.differentiate.derivative(lambda s: scipy.stats.gamma.cdf(x, s), a, initial_step=10.0).df
    np.testing.assert_allclose(hd.grad(lambda s: hst.gamma.cdf(x, s))(a), reference, rtol=1e-6)
    with pytest.raises(ValueError, match="needs 90020 terms"):
        hd.grad(lambda s: hst.gamma.cdf(1e8, s))(1e8)


def test_multivariate_normal_with_default_mean_and_cov_is_one_dimensional_as_scipys():
    # With mean and cov left out scipy's dimension is 1, so a vector x holds three 1-D points; hodiff took the
    # vector as one 3-D point (a scalar, and another value). Reference: scipy.stats itself.
    x = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(hst.multivariate_normal.logpdf(x), scipy.stats.multivariate_normal.logpdf(x),
                               rtol=1e-14)
    np.testing.assert_allclose(hst.multivariate_normal.pdf(x), scipy.stats.multivariate_normal.pdf(x), rtol=1e-14)
    np.testing.assert_allclose(hd.grad(lambda x: hnp.sum(hst.multivariate_normal.logpdf(x)))(x), -x, rtol=1e-14)
    with pytest.raises(ValueError, match="x has 3 components in its last axis, but the distribution has dimension 1"):
        hst.multivariate_normal.logpdf(np.ones((5, 3)))  # scipy raises too
    np.testing.assert_allclose(hst.multivariate_normal.logpdf(x, mean=np.zeros(3)),
                               scipy.stats.multivariate_normal.logpdf(x, mean=np.zeros(3)), rtol=1e-14)
