"""autograd.scipy.stats.poisson: the functions of hodiff.scipy.stats.poisson.

logpdf, pdf, cdf, ... as hodiff has them.
"""

from ._distribution import forward_to as _forward_to

__getattr__ = _forward_to("poisson")
