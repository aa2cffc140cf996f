"""GradBench ``kmeans``: cost(P, C) = sum_i min_j |C_j - P_i|^2 and the Newton
direction dir = J H^{-1}, J the gradient in C and H its (diagonal) Hessian,
read as the Hessian-vector product with a vector of ones.

Inputs as the eval makes them: ``np.random.seed(31337)``, (k, n, d) over
k in (10, 100, 1000), n in (1000, 10000), d in (8, 16) sorted by k*n*d,
``points = np.random.rand(n, d)`` and ``centroids = points[-k:]`` (so every
cluster is nonempty).

Every tool here computes the distances as GradBench's own pytorch and jax tools do
(``all_pairs_norm``: |c|^2 + |p|^2 - 2 c.p, one matmul); the reference below uses
the differences themselves.
"""

import numpy as np

import hodiff as hd
import hodiff.numpy as hnp

NAME = "kmeans"
COMBINATIONS = sorted([(k, n, d) for k in (10, 100, 1000) for n in (1000, 10000) for d in (8, 16)],
                      key=lambda v: v[0] * v[1] * v[2])
QUICK_COMBINATIONS = [(3, 20, 2), (4, 30, 3)]


def inputs(quick=False):
    np.random.seed(31337)
    out = []
    for k, n, d in QUICK_COMBINATIONS if quick else COMBINATIONS[:4]:
        points = np.random.rand(n, d)
        inp = {"points": points, "centroids": points[-k:].copy()}
        out.append(("cost", f"k={k},n={n},d={d}", inp))
        out.append(("dir", f"k={k},n={n},d={d}", inp))
    return out


def _cost(xp):
    def cost(C, P):
        # GradBench's own pytorch and jax tools' all_pairs_norm: |c|^2 + |p|^2 - 2 c.p, the (k, n) distances
        # from one matmul, not from an (n, k, d) array of differences.
        dists = xp.sum(C ** 2, axis=1)[:, None] + xp.sum(P ** 2, axis=1)[None, :] - 2 * xp.matmul(C, P.T)
        return xp.sum(xp.min(dists, axis=0))
    return cost


cost = _cost(hnp)


def _grad_in_c(C, P):
    return hd.grad(cost)(C, P)


def direction(C, P):
    J, H = hd.jvp(lambda c: _grad_in_c(c, P), (C,), (np.ones_like(C),))
    return J / H


def _functions(compile):
    """The eval's functions on hodiff's cores passed through ``compile``: the identity, or hd.record."""
    compiled = {"cost": compile(cost), "dir": compile(direction)}
    return {name: lambda inp, f=f: f(np.asarray(inp["centroids"], dtype=float), np.asarray(inp["points"], dtype=float))
            for name, f in compiled.items()}


FUNCTIONS = _functions(lambda f: f)
REPLAYED = _functions(hd.record)  # recorded once per signature, then replayed (run.py's hodiff+replay)


def reference(function, inp):
    """Closed forms: J_j = 2 sum_{i in cluster j} (C_j - P_i), H_jj = 2 |cluster j|,
    so dir_j = C_j - mean of cluster j."""
    P = np.asarray(inp["points"], dtype=float)
    C = np.asarray(inp["centroids"], dtype=float)
    d2 = ((P[:, None, :] - C[None]) ** 2).sum(axis=2)
    if function == "cost":
        return d2.min(axis=1).sum()
    nearest = d2.argmin(axis=1)
    counts = np.bincount(nearest, minlength=len(C))
    sums = np.zeros_like(C)
    np.add.at(sums, nearest, P)
    return C - sums / counts[:, None]


def peers():
    out = {}
    try:
        import torch

        def t_min_cost(C, P):
            dists = (C ** 2).sum(1)[:, None] + (P ** 2).sum(1)[None, :] - 2 * torch.matmul(C, P.T)
            return torch.sum(torch.min(dists, dim=0).values)

        def t_dir(inp):
            P = torch.tensor(inp["points"], dtype=torch.float64)
            C = torch.tensor(inp["centroids"], dtype=torch.float64, requires_grad=True)
            (J,) = torch.autograd.grad(t_min_cost(C, P), C, create_graph=True)
            (H,) = torch.autograd.grad(J, C, torch.ones_like(C))
            return (J / H).detach().numpy()
        out["torch"] = {"cost": lambda inp: t_min_cost(torch.tensor(inp["centroids"], dtype=torch.float64),
                                                       torch.tensor(inp["points"], dtype=torch.float64)).item(),
                        "dir": t_dir}
    except ImportError:
        pass
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        j_cost = _cost(jnp)

        def j_dir(C, P):
            J, H = jax.jvp(lambda c: jax.grad(j_cost)(c, P), (C,), (jnp.ones_like(C),))
            return J / H
        for name, wrap in (("jax", lambda f: f), ("jax+jit", jax.jit)):
            c, d = wrap(j_cost), wrap(j_dir)
            out[name] = {"cost": lambda inp, c=c: float(c(jnp.asarray(inp["centroids"]), jnp.asarray(inp["points"]))),
                         "dir": lambda inp, d=d: np.asarray(d(jnp.asarray(inp["centroids"]),
                                                              jnp.asarray(inp["points"])))}
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as anp
        a_cost = _cost(anp)
        a_grad = autograd.grad(a_cost)

        def a_dir(inp):
            C, P = np.asarray(inp["centroids"]), np.asarray(inp["points"])
            J = a_grad(C, P)
            H = autograd.grad(lambda c: anp.sum(a_grad(c, P)))(C)  # diagonal H: H 1 = d/dc sum(J)
            return J / H
        out["autograd"] = {"cost": lambda inp: float(a_cost(np.asarray(inp["centroids"]),
                                                            np.asarray(inp["points"]))),
                           "dir": a_dir}
    except ImportError:
        pass
    return out
