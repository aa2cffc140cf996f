"""autograd.scipy.stats.multivariate_normal: the functions of hodiff.scipy.stats.multivariate_normal.

logpdf, pdf, cdf, ... as hodiff has them.
"""

from ._distribution import forward_to as _forward_to

__getattr__ = _forward_to("multivariate_normal")
