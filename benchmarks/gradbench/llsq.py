"""GradBench ``llsq`` (cmpad's llsq_obj): y(x) = 1/2 sum_i (s_i - sum_j x_j t_i^j)^2.

t_i = -1 + 2 i / (n - 1), s_i = sign(t_i). Inputs as the eval makes them:
``np.random.seed(31337)``, (n, m) for n in 16..16392 and m = 128 sorted by
n*m, ``x = np.random.rand(m)``. Every implementation builds t, s and the
powers t_i^j with its own library inside the function.
"""

import numpy as np

import hodiff as hd
import hodiff.numpy as hnp

NAME = "llsq"
SIZES = [16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8196, 16392]
QUICK_SIZES = [4, 16]


def inputs(quick=False):
    np.random.seed(31337)
    m = 5 if quick else 128
    out = []
    for n in QUICK_SIZES if quick else SIZES[::2]:
        x = np.random.rand(m)
        out.append(("primal", f"n={n},m={m}", {"x": x, "n": n}))
        out.append(("gradient", f"n={n},m={m}", {"x": x, "n": n}))
    return out


def _objective(xp):
    def f(x, n):
        t = -1.0 + xp.arange(n, dtype=x.dtype) * (2.0 / (n - 1))  # x's dtype: torch's arange would be float32
        s = xp.sign(t)
        # xp.pow, not **: t is a constant (a numpy array for hodiff), and ** on it would be numpy's pow, whose
        # negative bases take a scalar loop; each library's own pow is what this eval times
        T = xp.pow(t[:, None], xp.arange(x.shape[0], dtype=x.dtype)[None, :])
        r = s - T @ x
        return 0.5 * xp.sum(r * r)
    return f


llsq = _objective(hnp)


def _functions(compile):
    """The eval's functions on hodiff's cores passed through ``compile``: the identity, or hd.record."""
    primal, gradient = compile(llsq), compile(hd.grad(llsq))
    return {"primal": lambda inp: primal(np.asarray(inp["x"], dtype=float), int(inp["n"])),
            "gradient": lambda inp: gradient(np.asarray(inp["x"], dtype=float), int(inp["n"]))}


FUNCTIONS = _functions(lambda f: f)
REPLAYED = _functions(hd.record)  # recorded once per signature, then replayed (run.py's hodiff+replay)


def _design(n, m):
    t = -1.0 + np.arange(n) * (2.0 / (n - 1))
    return np.sign(t), np.vander(t, m, increasing=True)


def reference(function, inp):
    """Closed forms: 1/2 |s - T x|^2 and its gradient -T^T (s - T x), with numpy's vander."""
    x = np.asarray(inp["x"], dtype=float)
    s, T = _design(int(inp["n"]), x.shape[0])
    r = s - T @ x
    return 0.5 * r @ r if function == "primal" else -T.T @ r


def peers():
    out = {}
    try:
        import torch
        t_obj = _objective(torch)  # a name per peer: the lambdas below look it up when called

        def t_grad(inp):
            x = torch.tensor(inp["x"], dtype=torch.float64, requires_grad=True)
            (g,) = torch.autograd.grad(t_obj(x, int(inp["n"])), x)
            return g.numpy()
        out["torch"] = {"primal": lambda inp: t_obj(torch.tensor(inp["x"], dtype=torch.float64),
                                                    int(inp["n"])).item(),
                        "gradient": t_grad}
    except ImportError:
        pass
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        j_obj = _objective(jnp)
        for name, wrap in (("jax", lambda f, **k: f), ("jax+jit", jax.jit)):
            p, g = wrap(j_obj, static_argnums=1), wrap(jax.grad(j_obj), static_argnums=1)
            out[name] = {"primal": lambda inp, p=p: float(p(jnp.asarray(inp["x"]), int(inp["n"]))),
                         "gradient": lambda inp, g=g: np.asarray(g(jnp.asarray(inp["x"]), int(inp["n"])))}
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as anp
        a_obj = _objective(anp)
        ag = autograd.grad(a_obj)
        out["autograd"] = {"primal": lambda inp: float(a_obj(np.asarray(inp["x"]), int(inp["n"]))),
                           "gradient": lambda inp: ag(np.asarray(inp["x"]), int(inp["n"]))}
    except ImportError:
        pass
    return out
