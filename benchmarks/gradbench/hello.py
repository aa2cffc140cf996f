"""GradBench ``hello``: square(x) = x^2 and double(x) = d/dx square = 2x.

The eval starts at x = 1 and alternates square and double four times.
"""

import hodiff as hd

NAME = "hello"
TIMED = 2  # the timing run takes the first square and double only (the others time the same)


def inputs(quick=False):
    x, out = 1.0, []
    for _ in range(4):
        out.append(("square", f"x={x:g}", x))
        y = x * x
        out.append(("double", f"x={y:g}", y))
        x = 2 * y
    return out


def square(x):
    return x * x


def _functions(compile):
    """The eval's functions on hodiff's cores passed through ``compile``: the identity, or hd.record."""
    double = compile(hd.grad(square))
    # square is no derivative: every tool (the peers too) runs the same Python expression
    return {"square": lambda x: float(x) * float(x), "double": lambda x: double(float(x))}


FUNCTIONS = _functions(lambda f: f)
REPLAYED = _functions(hd.record)  # recorded once per signature, then replayed (run.py's hodiff+replay)


def reference(function, x):
    return {"square": x * x, "double": 2.0 * x}[function]


def peers():
    out = {}
    try:
        import torch

        def t_double(x):
            t = torch.tensor(float(x), dtype=torch.float64, requires_grad=True)
            (g,) = torch.autograd.grad(t * t, t)
            return g.item()
        out["torch"] = {"square": lambda x: float(x) * float(x), "double": t_double}
    except ImportError:
        pass
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        jg = jax.grad(lambda x: x * x)
        jj = jax.jit(jg)
        out["jax"] = {"square": lambda x: float(x) * float(x), "double": lambda x: float(jg(float(x)))}
        out["jax+jit"] = {"square": lambda x: float(x) * float(x), "double": lambda x: float(jj(float(x)))}
    except ImportError:
        pass
    try:
        import autograd
        ag = autograd.grad(lambda x: x * x)
        out["autograd"] = {"square": lambda x: float(x) * float(x), "double": lambda x: float(ag(float(x)))}
    except ImportError:
        pass
    return out

