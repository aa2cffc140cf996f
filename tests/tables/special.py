"""Rows for hodiff.scipy.special (order 2)."""

import hodiff.scipy.special as hsp

from . import Row, positive, uniform, unit

ROWS = [
    Row("expit", hsp.expit, uniform((5,), low=-5, high=5)),
    Row("logit", hsp.logit, uniform((5,), low=0.1, high=0.9)),
    Row("log_expit", hsp.log_expit, uniform((5,), low=-5, high=5)),
    Row("erf", hsp.erf, uniform((5,))),
    Row("erfc", hsp.erfc, uniform((5,))),
    Row("erfinv", hsp.erfinv, unit((5,))),
    Row("erfcx", hsp.erfcx, uniform((5,), low=-1, high=4)),
    Row("ndtr", hsp.ndtr, uniform((5,), low=-3, high=3)),
    Row("ndtri", hsp.ndtri, uniform((5,), low=0.05, high=0.95)),
    Row("log_ndtr", hsp.log_ndtr, uniform((5,), low=-6, high=3)),
    Row("gammaln", hsp.gammaln, positive((5,), low=0.5, high=5.0)),
    Row("gammaln[negative x]", hsp.gammaln, uniform((4,), low=-2.8, high=-2.2)),
    Row("digamma", hsp.digamma, positive((5,), low=0.5, high=5.0)),
    Row("polygamma[n=1]", lambda x: hsp.polygamma(1, x), positive((5,), low=0.5, high=5.0)),
    Row("polygamma[n=3]", lambda x: hsp.polygamma(3, x), positive((5,), low=0.8, high=5.0)),
    Row("gamma", hsp.gamma, positive((5,), low=0.5, high=3.0)),
    Row("betaln", hsp.betaln, positive((4,), (4,), low=0.5, high=3.0)),
    Row("i0", hsp.i0, uniform((5,))),
    Row("i1", hsp.i1, uniform((5,))),
    Row("i0e", hsp.i0e, lambda rng: (rng.choice([-1.0, 1.0], 5) * rng.uniform(0.3, 3, 5),)),
    Row("i1e", hsp.i1e, lambda rng: (rng.choice([-1.0, 1.0], 5) * rng.uniform(0.3, 3, 5),)),
    Row("iv[v=2.5]", lambda x: hsp.iv(2.5, x), positive((5,))),
    Row("ive[v=3]", lambda x: hsp.ive(3, x), positive((5,))),
    Row("xlogy", hsp.xlogy, lambda rng: (rng.uniform(-2, 2, (4,)), rng.uniform(0.3, 2, (4,)))),
    Row("xlog1py", hsp.xlog1py, lambda rng: (rng.uniform(-2, 2, (4,)), rng.uniform(-0.6, 2, (4,)))),
    Row("logsumexp", lambda x: hsp.logsumexp(x, axis=-1), uniform((2, 3, 4))),
    Row("logsumexp[axis=(0,2)]", lambda x: hsp.logsumexp(x, axis=(0, 2)), uniform((2, 3, 4))),
    Row("softmax[axis=None]", hsp.softmax, uniform((2, 3))),
    Row("log_softmax[axis=1]", lambda x: hsp.log_softmax(x, axis=1), uniform((2, 3))),
]
