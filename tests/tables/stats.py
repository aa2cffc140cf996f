"""Rows for hodiff.scipy.stats: every distribution function, differentiated in every float argument.

Discrete data (Poisson counts) are closed over; a covariance is parametrized as
A A^T + I so that every direction of A is a symmetric positive definite change.
"""

import numpy as np

import hodiff.numpy as hnp
import hodiff.scipy.stats as hst

from . import Row, positive, uniform

_COUNTS = np.array([0.0, 1.0, 3.0, 7.0])
_BASIS = np.linalg.qr(np.array([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0], [1.5, 0.2, -0.7]]))[0]
_SINGULAR_COV = _BASIS[:, :2] @ np.diag([1.5, 0.6]) @ _BASIS[:, :2].T  # rank 2
_SUPPORT = _BASIS[:, :2] @ _BASIS[:, :2].T  # the projection onto its range


def _between(*ranges):
    """Arguments drawn uniformly from per-argument (low, high, shape) ranges."""
    return lambda rng: tuple(rng.uniform(low, high, size=shape) for low, high, shape in ranges)


def _spd(A):
    return hnp.tensordot(A, hnp.transpose(A), axes=1) + np.eye(A.shape[0])


def _rows():
    rows = []
    # normal: x, loc, scale
    norm_args = _between((-3, 3, (4,)), (-0.5, 0.5, ()), (0.5, 2.0, ()))
    for method in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        rows.append(Row(f"norm.{method}", getattr(hst.norm, method), norm_args))
    rows.append(Row("norm.logcdf[lower tail]", hst.norm.logcdf, uniform((4,), low=-30.0, high=-6.0)))
    for method in ("ppf", "isf"):
        rows.append(Row(f"norm.{method}", getattr(hst.norm, method),
                        _between((0.05, 0.95, (4,)), (-0.5, 0.5, ()), (0.5, 2.0, ()))))
    # Student's t: x, df, loc, scale
    t_args = _between((-3, 3, (4,)), (0.8, 8.0, (4,)), (-0.3, 0.3, ()), (0.6, 1.5, ()))
    for method in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        rows.append(Row(f"t.{method}", getattr(hst.t, method), t_args, float32=method in ("logpdf", "pdf")))
    # gamma: x, a, loc, scale (x both below and above a + 1: both branches of the incomplete gamma)
    gamma_args = _between((0.3, 7.0, (5,)), (0.6, 5.0, (5,)), (-0.2, 0.2, ()), (0.7, 1.5, ()))
    for method in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        rows.append(Row(f"gamma.{method}", getattr(hst.gamma, method), gamma_args,
                        float32=method in ("logpdf", "pdf")))
    # beta: x, a, b, loc, scale (x on both sides of (a+1)/(a+b+2): both continued fractions)
    beta_args = _between((0.1, 0.9, (5,)), (0.7, 5.0, (5,)), (0.7, 5.0, (5,)), (-0.02, 0.02, ()), (1.0, 1.1, ()))
    for method in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        rows.append(Row(f"beta.{method}", getattr(hst.beta, method), beta_args,
                        float32=method in ("logpdf", "pdf")))
    # Poisson: differentiable in mu; counts are data
    for method in ("logpmf", "pmf", "cdf", "logcdf", "sf", "logsf"):
        function = getattr(hst.poisson, method)
        rows.append(Row(f"poisson.{method}", lambda mu, function=function: function(_COUNTS, mu),
                        positive((4,), low=0.5, high=6.0), float32=False))
    # chi-squared: x, df, loc, scale (x on both sides of df/2 + 1: both branches of the incomplete gamma)
    chi2_args = _between((0.3, 12.0, (5,)), (0.8, 9.0, (5,)), (-0.2, 0.2, ()), (0.7, 1.5, ()))
    for method in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        rows.append(Row(f"chi2.{method}", getattr(hst.chi2, method), chi2_args,
                        float32=method in ("logpdf", "pdf")))
    # Dirichlet: x kept on the simplex by normalizing (scipy checks it), alpha; one point and (K, N) points
    for method in ("logpdf", "pdf"):
        function = getattr(hst.dirichlet, method)
        rows.append(Row(f"dirichlet.{method}", lambda w, alpha, function=function: function(w / hnp.sum(w), alpha),
                        _between((0.2, 1.0, (4,)), (0.6, 4.0, (4,)))))
    rows.append(Row("dirichlet.logpdf[points]",
                    lambda w, alpha: hst.dirichlet.logpdf(w / hnp.sum(w, axis=0), alpha),
                    _between((0.2, 1.0, (3, 5)), (0.6, 4.0, (3,)))))
    # multivariate normal: full covariance (through Cholesky), diagonal and scalar covariances
    rows.append(Row("multivariate_normal.logpdf[full]",
                    lambda x, mean, A: hst.multivariate_normal.logpdf(x, mean, _spd(A)),
                    uniform((4, 3), (3,), (3, 3), low=-1.0, high=1.0), float32=False))
    rows.append(Row("multivariate_normal.pdf[full]",
                    lambda x, mean, A: hst.multivariate_normal.pdf(x, mean, _spd(A)),
                    uniform((3,), (3,), (3, 3), low=-1.0, high=1.0), float32=False))
    rows.append(Row("multivariate_normal.logpdf[diagonal]", hst.multivariate_normal.logpdf,
                    _between((-2, 2, (4, 3)), (-1, 1, (3,)), (0.5, 2.0, (3,)))))
    rows.append(Row("multivariate_normal.logpdf[scalar]", hst.multivariate_normal.logpdf,
                    _between((-2, 2, (2, 3)), (-1, 1, (3,)), (0.5, 2.0, ()))))
    rows.append(Row("multivariate_normal.entropy[full]", lambda A: hst.multivariate_normal.entropy(None, _spd(A)),
                    uniform((3, 3), low=-1.0, high=1.0), float32=False))
    rows.append(Row("multivariate_normal.entropy[diagonal]", lambda v: hst.multivariate_normal.entropy(None, v),
                    positive((3,), low=0.5, high=2.0)))
    # singular covariance (rank 2 of 3, a constant): differentiable in x and mean along the support
    rows.append(Row("multivariate_normal.logpdf[singular]",
                    lambda x, mean: hst.multivariate_normal.logpdf(
                        hnp.matmul(x - mean, _SUPPORT) + mean, mean, _SINGULAR_COV, allow_singular=True),
                    uniform((4, 3), (3,), low=-1.0, high=1.0), float32=False))
    return rows


ROWS = _rows()

# vmap stacks every argument: a stack of scalar covariances (B,) reads as one diagonal
# covariance and a stack of diagonals (B, d) as one matrix, as scipy would read them
# (each row checked unbatched above).
NOT_BATCHABLE = {"multivariate_normal.logpdf[scalar]", "multivariate_normal.entropy[diagonal]"}
