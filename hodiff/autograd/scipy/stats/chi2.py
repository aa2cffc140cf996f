"""autograd.scipy.stats.chi2: the functions of hodiff.scipy.stats.chi2 (logpdf, pdf, cdf, ... as hodiff has them)."""

from ._distribution import forward_to as _forward_to

__getattr__ = _forward_to("chi2")
