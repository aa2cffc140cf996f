"""GradBench ``gmm`` (ADBench's GMM with GradBench's fixes): the log posterior of a
d-dimensional k-component Gaussian mixture with a Wishart prior on the precision
matrices Q_k^T Q_k, Q_k lower triangular with diagonal exp(q_k) and strictly lower
part l_k (column-major: Q[i, j] = l[ii] for j < i, ii running down each column),
and its gradient in (alpha, mu, q, l).

Inputs as the eval makes them: ``np.random.default_rng(31337)`` per input,
x (n, d) normal, alpha (k,) normal, mu (k, d) uniform, q (k, d) normal,
l (k, d(d-1)/2) normal; n = 1000, m = 0, gamma = 1, (d, k) over d in
(2, 10, 20, 32, 64), k in (5, 10, 25, 50, 100) sorted by d*k; timed on four of them.
The gradient is a dict {alpha, mu, q, l} as GradBench's output.
"""

import math

import numpy as np
import scipy.special

import hodiff as hd
import hodiff.numpy as hnp
import hodiff.scipy.special as hsp

NAME = "gmm"
TIMED_DK = [(2, 5), (10, 10), (20, 25), (64, 10)]
QUICK_DKN = [(3, 2, 10), (2, 3, 7)]
INDEPENDENT = ("alpha", "mu", "q", "l")


def generate(seed, d, k, n, m=0, gamma=1.0):
    """GradBench's gmm generator (evals/gmm/run.py ``generate``), as arrays."""
    rng = np.random.default_rng(seed=seed)
    return {"d": d, "k": k, "n": n,
            "x": np.array([rng.normal(size=d) for _ in range(n)]).reshape(n, d), "m": m, "gamma": gamma,
            "alpha": rng.normal(size=k),
            "mu": np.array([rng.uniform(size=d) for _ in range(k)]),
            "q": np.array([rng.normal(size=d) for _ in range(k)]),
            "l": np.array([rng.normal(size=d * (d - 1) // 2) for _ in range(k)]).reshape(k, d * (d - 1) // 2)}


def inputs(quick=False):
    out = []
    for d, k, n in QUICK_DKN if quick else [(d, k, 1000) for d, k in TIMED_DK]:
        inp = generate(31337, d, k, n)
        out.append(("objective", f"d={d},k={k},n={n}", inp))
        out.append(("jacobian", f"d={d},k={k},n={n}", inp))
    return out


def _lower_index(d):
    """rows, cols of the strictly lower part in l's order, and the gather index that places
    [0, l_0, l_1, ..., exp(q_0), ..., exp(q_{d-1})] into a raveled d x d Q (0 above the diagonal)."""
    cols = np.repeat(np.arange(d - 1), np.arange(d - 1, 0, -1)).astype(int)
    rows = np.concatenate([np.arange(c + 1, d) for c in range(d - 1)]).astype(int) if d > 1 else np.zeros(0, int)
    gather = np.zeros((d, d), dtype=int)
    gather[rows, cols] = np.arange(1, len(rows) + 1)
    gather[np.arange(d), np.arange(d)] = len(rows) + 1 + np.arange(d)
    return rows, cols, gather.ravel()


def _objective(xp, logsumexp):
    """The vectorised objective (GradBench's PyTorch/JAX one) in library ``xp``, every tool the same;
    Q_k, diagonal included, is gathered from [0, l, exp(q)] with a constant index, so Q_k (x_i - mu_k)
    is one einsum (GradBench's adds diag(exp(q)) (x - mu) to the strictly lower part's einsum:
    two more (n, k, d) temporaries, the most of the time at d=20, k=25)."""
    def objective(alpha, mu, q, l, x, d, k, n, m, gamma):  # noqa: E741 (GradBench's names)
        Qdiags = xp.exp(q)
        sum_qs = xp.sum(q, axis=1)
        gather = _lower_index(d)[2]
        Qs = xp.reshape(xp.concatenate([0.0 * q[:, :1], l, Qdiags], axis=1)[:, gather], (k, d, d))
        # one expression: each (n, k, d) temporary dies as the next is made
        sqsum = xp.sum(xp.square(xp.einsum("kjl,nkl->nkj", Qs, x[:, None, :] - mu[None, :, :])), axis=2)
        inner = alpha + sum_qs - 0.5 * sqsum
        p = d + m + 1
        prior = -xp.sum(0.5 * gamma * gamma * (xp.sum(Qdiags * Qdiags, axis=1) + xp.sum(l * l, axis=1))
                        - m * sum_qs) + k * (p * d * math.log(gamma / math.sqrt(2))
                                             - scipy.special.multigammaln(0.5 * p, d))
        return (-n * d * 0.5 * math.log(2 * math.pi) + xp.sum(logsumexp(inner, 1))
                - n * logsumexp(alpha, 0) + prior)
    return objective


_hodiff_objective = _objective(hnp, lambda a, axis: hsp.logsumexp(a, axis=axis))
_hodiff_gradient = hd.grad(_hodiff_objective, argnums=(0, 1, 2, 3))


def _fixed(inp):
    return (np.asarray(inp["x"], dtype=float).reshape(int(inp["n"]), int(inp["d"])), int(inp["d"]), int(inp["k"]),
            int(inp["n"]), int(inp["m"]), float(inp["gamma"]))


def _independent(inp):
    k, d = int(inp["k"]), int(inp["d"])
    return (np.asarray(inp["alpha"], dtype=float), np.asarray(inp["mu"], dtype=float).reshape(k, d),
            np.asarray(inp["q"], dtype=float).reshape(k, d),
            np.asarray(inp["l"], dtype=float).reshape(k, d * (d - 1) // 2))


def _functions(compile):
    """The eval's functions on hodiff's cores passed through ``compile``: the identity, or hd.record."""
    objective, gradient = compile(_hodiff_objective), compile(_hodiff_gradient)
    return {"objective": lambda inp: objective(*_independent(inp), *_fixed(inp)),
            "jacobian": lambda inp: dict(zip(INDEPENDENT, gradient(*_independent(inp), *_fixed(inp))))}


FUNCTIONS = _functions(lambda f: f)
REPLAYED = _functions(hd.record)  # recorded once per signature, then replayed (run.py's hodiff+replay)


def reference(function, inp):
    """objective: the definition (Gaussian and Wishart log densities of the explicit
    precision matrices, numpy's slogdet); jacobian: the closed-form gradient in numpy."""
    alpha, mu, q, l = _independent(inp)  # noqa: E741 (GradBench's names)
    x, d, k, n, m, gamma = _fixed(inp)
    rows, cols, _ = _lower_index(d)
    Q = np.zeros((k, d, d))
    Q[:, rows, cols] = l
    Q[:, np.arange(d), np.arange(d)] = np.exp(q)
    if function == "objective":
        # the README's definition with the precision P_k = Q_k^T Q_k formed explicitly: Gaussian
        # log densities sum_k phi_k N(x; mu_k, P_k^-1) and the Wishart log density of P_k
        # (V = I / gamma^2, p + m + 1 degrees of freedom), log det P_k = 2 log |det Q_k| by slogdet
        log_phi = alpha - scipy.special.logsumexp(alpha)
        P = np.einsum("kji,kjl->kil", Q, Q)
        logdet = 2 * np.linalg.slogdet(Q)[1]  # det P = det(Q)^2 (P itself is too ill-conditioned at d = 64)
        xc = x[:, None, :] - mu[None]
        logpdf = -0.5 * d * math.log(2 * math.pi) + 0.5 * logdet - 0.5 * np.einsum("nkj,kjl,nkl->nk", xc, P, xc)
        nu, V = d + m + 1, np.eye(d) / gamma ** 2
        prior = np.sum((nu - d - 1) / 2 * logdet - 0.5 * np.trace(np.linalg.inv(V) @ P, axis1=1, axis2=2)
                       - nu * d / 2 * math.log(2) - nu / 2 * np.linalg.slogdet(V)[1]
                       - scipy.special.multigammaln(nu / 2, d))
        return np.sum(scipy.special.logsumexp(logpdf + log_phi, axis=1)) + prior
    xc = x[:, None, :] - mu[None]                     # (n, k, d)
    z = np.einsum("kjl,nkl->nkj", Q, xc)              # Q_k (x_i - mu_k)
    inner = alpha + q.sum(axis=1) - 0.5 * (z * z).sum(axis=2)
    r = np.exp(inner - scipy.special.logsumexp(inner, axis=1, keepdims=True))   # responsibilities (n, k)
    g_alpha = r.sum(axis=0) - n * np.exp(alpha - scipy.special.logsumexp(alpha))
    g_mu = np.einsum("nk,kjl,nkj->kl", r, Q, z)       # sum_i r_ik Q_k^T z_ik
    g_Q = -np.einsum("nk,nkj,nkl->kjl", r, z, xc)     # d/dQ_k of the likelihood
    g_q = r.sum(axis=0)[:, None] + np.exp(q) * g_Q[:, np.arange(d), np.arange(d)] - gamma ** 2 * np.exp(2 * q) + m
    g_l = g_Q[:, rows, cols] - gamma ** 2 * l
    return {"alpha": g_alpha, "mu": g_mu, "q": g_q, "l": g_l}


def peers():
    out = {}
    try:
        import torch
        t_obj = _objective(torch, lambda a, axis: torch.logsumexp(a, axis))

        def t_args(inp, grad):
            return [torch.tensor(a, dtype=torch.float64, requires_grad=grad) for a in _independent(inp)]

        def t_jacobian(inp):
            args = t_args(inp, True)
            t_obj(*args, torch.tensor(_fixed(inp)[0]), *_fixed(inp)[1:]).backward()
            return {name: a.grad.numpy() for name, a in zip(INDEPENDENT, args)}
        out["torch"] = {"objective": lambda inp: t_obj(*t_args(inp, False), torch.tensor(_fixed(inp)[0]),
                                                       *_fixed(inp)[1:]).item(),
                        "jacobian": t_jacobian}
    except ImportError:
        pass
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        import jax.scipy.special as jsp
        j_obj = _objective(jnp, lambda a, axis: jsp.logsumexp(a, axis=axis))
        static = (5, 6, 7, 8, 9)
        for name, wrap in (("jax", lambda f, **kw: f), ("jax+jit", jax.jit)):
            o = wrap(j_obj, static_argnums=static)
            g = wrap(jax.grad(j_obj, argnums=(0, 1, 2, 3)), static_argnums=static)
            out[name] = {
                "objective": lambda inp, o=o: float(o(*map(jnp.asarray, _independent(inp)),
                                                      jnp.asarray(_fixed(inp)[0]), *_fixed(inp)[1:])),
                "jacobian": lambda inp, g=g: {n_: np.asarray(v) for n_, v in zip(
                    INDEPENDENT, g(*map(jnp.asarray, _independent(inp)), jnp.asarray(_fixed(inp)[0]),
                                   *_fixed(inp)[1:]))}}
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as anp
        import autograd.scipy.special as asp
        a_obj = _objective(anp, lambda a, axis: asp.logsumexp(a, axis=axis))
        a_grad = autograd.grad(lambda ind, *fixed: a_obj(*ind, *fixed))
        out["autograd"] = {"objective": lambda inp: float(a_obj(*_independent(inp), *_fixed(inp))),
                           "jacobian": lambda inp: dict(zip(INDEPENDENT, a_grad(_independent(inp), *_fixed(inp))))}
    except ImportError:
        pass
    return out
