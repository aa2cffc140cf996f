"""GradBench ``lse``: LogSumExp with the max trick, and its gradient.

Inputs as the eval makes them: ``np.random.seed(31337)`` then for each n,
``x = np.random.rand(n)`` (n = 2500, 5000, ..., 1280000).
"""

import numpy as np

import hodiff as hd
import hodiff.numpy as hnp

NAME = "lse"
SIZES = [2500 * 2**k for k in range(10)]
QUICK_SIZES = [5, 100]


def inputs(quick=False):
    np.random.seed(31337)
    out = []
    for n in QUICK_SIZES if quick else SIZES[:6]:
        x = np.random.rand(n)
        out.append(("primal", f"n={n}", {"x": x}))
        out.append(("gradient", f"n={n}", {"x": x}))
    return out


def lse(x):
    a = hnp.max(x)
    return a + hnp.log(hnp.sum(hnp.exp(x - a)))


def _functions(compile):
    """The eval's functions on hodiff's cores passed through ``compile``: the identity, or hd.record."""
    primal, gradient = compile(lse), compile(hd.grad(lse))
    return {"primal": lambda inp: primal(np.asarray(inp["x"], dtype=float)),
            "gradient": lambda inp: gradient(np.asarray(inp["x"], dtype=float))}


FUNCTIONS = _functions(lambda f: f)
REPLAYED = _functions(hd.record)  # recorded once per signature, then replayed (run.py's hodiff+replay)


def reference(function, inp):
    """Closed forms: log-sum-exp and softmax (numpy only)."""
    x = np.asarray(inp["x"], dtype=float)
    a = x.max()
    e = np.exp(x - a)
    return a + np.log(e.sum()) if function == "primal" else e / e.sum()


def peers():
    out = {}
    try:
        import torch

        def t_lse(x):
            a = torch.max(x)
            return a + torch.log(torch.sum(torch.exp(x - a)))

        def t_grad(inp):
            x = torch.tensor(inp["x"], dtype=torch.float64, requires_grad=True)
            (g,) = torch.autograd.grad(t_lse(x), x)
            return g.numpy()
        out["torch"] = {"primal": lambda inp: t_lse(torch.tensor(inp["x"], dtype=torch.float64)).item(),
                        "gradient": t_grad}
    except ImportError:
        pass
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        def j_lse(x):
            a = jnp.max(x)
            return a + jnp.log(jnp.sum(jnp.exp(x - a)))
        for name, wrap in (("jax", lambda f: f), ("jax+jit", jax.jit)):
            p, g = wrap(j_lse), wrap(jax.grad(j_lse))
            out[name] = {"primal": lambda inp, p=p: float(p(jnp.asarray(inp["x"]))),
                         "gradient": lambda inp, g=g: np.asarray(g(jnp.asarray(inp["x"])))}
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as anp

        def a_lse(x):
            a = anp.max(x)
            return a + anp.log(anp.sum(anp.exp(x - a)))
        ag = autograd.grad(a_lse)
        out["autograd"] = {"primal": lambda inp: float(a_lse(np.asarray(inp["x"]))),
                           "gradient": lambda inp: ag(np.asarray(inp["x"]))}
    except ImportError:
        pass
    return out
