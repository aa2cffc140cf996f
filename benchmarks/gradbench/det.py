"""GradBench ``det`` (cmpad's det_by_minor): the determinant by expansion along
the first row, recursively, and its gradient with respect to A.

Inputs as the eval makes them: ``np.random.seed(31337)``, for each ell
``A = np.random.rand(ell * ell)`` (row-major). The eval's ell = 5..11; the full
run here stops at 7 (ell! products: 11! is 4e7 scalar operations per call).
"""

import numpy as np

import hodiff as hd

NAME = "det"
SIZES = [5, 6, 7]
QUICK_SIZES = [2, 3, 4]


def inputs(quick=False):
    np.random.seed(31337)
    out = []
    for ell in QUICK_SIZES if quick else SIZES:
        A = np.random.rand(ell * ell)
        out.append(("primal", f"ell={ell}", {"A": A, "ell": ell}))
        out.append(("gradient", f"ell={ell}", {"A": A, "ell": ell}))
    return out


def det_by_minor(A, ell):
    """Works on any array type with scalar indexing, + and * (the same code for every peer)."""
    a = [[A[i * ell + j] for j in range(ell)] for i in range(ell)]

    def minor(row, cols):
        if len(cols) == 1:
            return a[row][cols[0]]
        total, sign = None, 1.0
        for k, c in enumerate(cols):
            term = a[row][c] * minor(row + 1, cols[:k] + cols[k + 1:])
            term = term if sign > 0 else -term
            total = term if total is None else total + term
            sign = -sign
        return total
    return minor(0, list(range(ell)))


def _functions(compile):
    """The eval's functions on hodiff's cores passed through ``compile``: the identity, or hd.record."""
    primal, gradient = compile(det_by_minor), compile(hd.grad(det_by_minor))
    return {"primal": lambda inp: primal(np.asarray(inp["A"], dtype=float), int(inp["ell"])),
            "gradient": lambda inp: gradient(np.asarray(inp["A"], dtype=float), int(inp["ell"]))}


FUNCTIONS = _functions(lambda f: f)
REPLAYED = _functions(hd.record)  # recorded once per signature, then replayed (run.py's hodiff+replay)


def reference(function, inp):
    """Closed forms: numpy's LU determinant and Jacobi's formula d det/dA = det(A) A^{-T}."""
    ell = int(inp["ell"])
    A = np.asarray(inp["A"], dtype=float).reshape(ell, ell)
    d = np.linalg.det(A)
    return d if function == "primal" else (d * np.linalg.inv(A).T).ravel()


def peers():
    out = {}
    try:
        import torch

        def t_grad(inp):
            A = torch.tensor(inp["A"], dtype=torch.float64, requires_grad=True)
            (g,) = torch.autograd.grad(det_by_minor(A, int(inp["ell"])), A)
            return g.numpy()
        out["torch"] = {"primal": lambda inp: det_by_minor(torch.tensor(inp["A"], dtype=torch.float64),
                                                           int(inp["ell"])).item(),
                        "gradient": t_grad}
    except ImportError:
        pass
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        for name, wrap in (("jax", lambda f, **k: f), ("jax+jit", jax.jit)):
            p, g = wrap(det_by_minor, static_argnums=1), wrap(jax.grad(det_by_minor), static_argnums=1)
            out[name] = {"primal": lambda inp, p=p: float(p(jnp.asarray(inp["A"]), int(inp["ell"]))),
                         "gradient": lambda inp, g=g: np.asarray(g(jnp.asarray(inp["A"]), int(inp["ell"])))}
    except ImportError:
        pass
    try:
        import autograd
        ag = autograd.grad(det_by_minor)
        out["autograd"] = {"primal": lambda inp: float(det_by_minor(np.asarray(inp["A"]), int(inp["ell"]))),
                           "gradient": lambda inp: ag(np.asarray(inp["A"]), int(inp["ell"]))}
    except ImportError:
        pass
    return out
