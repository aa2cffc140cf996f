"""GradBench ``ode`` (cmpad's an_ode): s steps of classical Runge-Kutta on
y_0' = x_0, y_i' = x_i y_{i-1} (i > 0), y(0) = 0, up to t = 2; ``primal`` is
y(2) (n values) and ``gradient`` the gradient of its last entry in x.

The right-hand side is the one of cpp/gradbench/evals/ode.hpp (x_i y_{i-1}, what
GradBench's tools compute), not the README's formula (sum_{j<=i} x_j y_{i-1}).

Inputs as the eval makes them: ``np.random.seed(31337)``, then for (n, s) over
n in (1000, 10000, 100000), s in (1, 10, 100) sorted by n*s, ``x = np.random.rand(n)``;
the full run validates all nine and times four of them (TIMED_NS: s <= 10, because
every peer runs the same Python loop, which jax.jit unrolls; GradBench's JAX tool
uses lax.scan, and compiling 100 unrolled steps takes too long on this machine).

Validation: GradBench checks ``gradient`` against its manual tool, which returns the
gradient of the *exact* ODE solution (x_0 ... x_{n-1} 2^n / n!, over x_i): at the
eval's sizes that underflows to 0, and so does the RK4 gradient, so that check is
vacuous there, and at small n it differs from the RK4 gradient (RK4 is exact only for
n <= 4). Here the reference gradient is instead a hand-written adjoint of the RK4
steps in numpy (checked against central differences in the tests); the reference
primal is ode.hpp's loop in numpy. At the eval's sizes the gradient is 0 to the
tolerance, so the quick inputs (small n, where it is not) carry the gradient check.
"""

import numpy as np

import hodiff as hd
import hodiff.numpy as hnp

NAME = "ode"
NS = [(n, s) for n in (1000, 10000, 100000) for s in (1, 10, 100)]
TIMED_NS = [(1000, 1), (1000, 10), (10000, 10), (100000, 10)]
QUICK_NS = [(2, 1), (3, 2), (4, 1), (5, 3), (10, 10)]  # small n: gradient entries >> 1e-4


def _generate(sizes):
    """The eval's inputs for ``sizes`` (in the eval's order, sorted by n*s)."""
    np.random.seed(31337)
    out = []
    for n, s in sorted(sizes, key=lambda v: v[0] * v[1]):
        out.append((n, s, np.random.rand(n)))
    return out


def inputs(quick=False):
    out = []
    for n, s, x in _generate(QUICK_NS if quick else NS):
        out.append(("primal", f"n={n},s={s}", {"x": x, "s": s}))
        out.append(("gradient", f"n={n},s={s}", {"x": x, "s": s}))
    if not quick:
        timed = {f"n={n},s={s}" for n, s in TIMED_NS}
        out.sort(key=lambda case: case[1] not in timed)   # the timed ones first (stable)
    return out


TIMED = 2 * len(TIMED_NS)


def _ode(xp):
    """RK4 as in ode.hpp, vectorised, in library ``xp`` (the same code for every peer)."""
    def f(x, y):
        return xp.concatenate([x[:1], x[1:] * y[:-1]])

    def primal(x, s):
        h = 2.0 / s
        y = 0.0 * x
        for _ in range(s):
            k1 = f(x, y)
            k2 = f(x, y + h * k1 / 2)
            k3 = f(x, y + h * k2 / 2)
            k4 = f(x, y + h * k3)
            y = y + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
        return y
    return primal


_hodiff_primal = _ode(hnp)


def _functions(compile):
    """The eval's functions on hodiff's cores passed through ``compile``: the identity, or hd.record."""
    primal, gradient = compile(_hodiff_primal), compile(hd.grad(lambda x, s: _hodiff_primal(x, s)[-1]))
    return {"primal": lambda inp: primal(np.asarray(inp["x"], dtype=float), int(inp["s"])),
            "gradient": lambda inp: gradient(np.asarray(inp["x"], dtype=float), int(inp["s"]))}


FUNCTIONS = _functions(lambda f: f)
REPLAYED = _functions(hd.record)  # recorded once per signature, then replayed (run.py's hodiff+replay)


def _f(x, y):
    z = np.empty_like(x)
    z[0] = x[0]
    z[1:] = x[1:] * y[:-1]
    return z


def reference(function, inp):
    """primal: ode.hpp's loop in numpy; gradient: the hand-written adjoint of its steps."""
    x, s = np.asarray(inp["x"], dtype=float), int(inp["s"])
    n, h = len(x), 2.0 / s
    y, trajectory = np.zeros(n), []
    for _ in range(s):
        k1 = _f(x, y)
        u2 = y + h * k1 / 2
        k2 = _f(x, u2)
        u3 = y + h * k2 / 2
        k3 = _f(x, u3)
        u4 = y + h * k3
        k4 = _f(x, u4)
        trajectory.append((y, u2, u3, u4))
        y = y + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6
    if function == "primal":
        return y

    def f_y(v):       # (df/dy)^T v
        out = np.zeros(n)
        out[:-1] = v[1:] * x[1:]
        return out

    def f_x(v, u):    # (df/dx)^T v at y = u
        out = np.empty(n)
        out[0] = v[0]
        out[1:] = v[1:] * u[:-1]
        return out

    y_bar, x_bar = np.zeros(n), np.zeros(n)
    y_bar[-1] = 1.0
    for y, u2, u3, u4 in reversed(trajectory):
        k1b, k2b, k3b, k4b = h / 6 * y_bar, h / 3 * y_bar, h / 3 * y_bar, h / 6 * y_bar
        yb = y_bar.copy()
        u4b = f_y(k4b)
        x_bar += f_x(k4b, u4)
        yb += u4b
        k3b = k3b + h * u4b
        u3b = f_y(k3b)
        x_bar += f_x(k3b, u3)
        yb += u3b
        k2b = k2b + h / 2 * u3b
        u2b = f_y(k2b)
        x_bar += f_x(k2b, u2)
        yb += u2b
        k1b = k1b + h / 2 * u2b
        yb += f_y(k1b)
        x_bar += f_x(k1b, y)
        y_bar = yb
    return x_bar


def exact_gradient(inp):
    """GradBench's manual tool's ``gradient``: that of the exact solution's last entry."""
    x = np.asarray(inp["x"], dtype=float)
    y_r = x[0] * 2.0
    for i in range(1, len(x)):
        y_r *= x[i] * 2.0 / (i + 1)
    return y_r / x


def peers():
    out = {}
    try:
        import torch
        t_primal = _ode(torch)

        def t_gradient(inp):
            x = torch.tensor(inp["x"], dtype=torch.float64, requires_grad=True)
            (g,) = torch.autograd.grad(t_primal(x, int(inp["s"]))[-1], x)
            return g.numpy()
        out["torch"] = {"primal": lambda inp: t_primal(torch.tensor(inp["x"], dtype=torch.float64),
                                                       int(inp["s"])).numpy(),
                        "gradient": t_gradient}
    except ImportError:
        pass
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        j_primal = _ode(jnp)
        for name, wrap in (("jax", lambda f, **k: f), ("jax+jit", jax.jit)):
            p = wrap(j_primal, static_argnums=1)
            g = wrap(jax.grad(lambda x, s: j_primal(x, s)[-1]), static_argnums=1)
            out[name] = {"primal": lambda inp, p=p: np.asarray(p(jnp.asarray(inp["x"]), int(inp["s"]))),
                         "gradient": lambda inp, g=g: np.asarray(g(jnp.asarray(inp["x"]), int(inp["s"])))}
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as anp
        a_primal = _ode(anp)
        a_grad = autograd.grad(lambda x, s: a_primal(x, s)[-1])
        out["autograd"] = {"primal": lambda inp: a_primal(np.asarray(inp["x"], dtype=float), int(inp["s"])),
                           "gradient": lambda inp: a_grad(np.asarray(inp["x"], dtype=float), int(inp["s"]))}
    except ImportError:
        pass
    return out
