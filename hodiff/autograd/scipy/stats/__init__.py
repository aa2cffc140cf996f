"""autograd.scipy.stats: one module per distribution, each hodiff.scipy.stats' object of that name.

``import autograd.scipy.stats.norm as norm; norm.logpdf(x, loc, scale)`` calls
``hodiff.scipy.stats.norm.logpdf``. A distribution hodiff does not have raises
AttributeError naming it when one of its functions is looked up.
"""

import importlib as _importlib

DISTRIBUTIONS = ("norm", "t", "gamma", "beta", "poisson", "chi2", "dirichlet", "multivariate_normal")

for _name in DISTRIBUTIONS:
    globals()[_name] = _importlib.import_module(f"{__name__}.{_name}")
del _name
