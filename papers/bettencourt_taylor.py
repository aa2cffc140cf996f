"""Bettencourt, Johnson & Duvenaud 2019, Fig. 1 (a) and (b): time against derivative order, nested vs Taylor mode.

J. Bettencourt, M. J. Johnson and D. Duvenaud, "Taylor-mode automatic
differentiation for higher-order derivatives in JAX", NeurIPS 2019 Program
Transformations workshop, Fig. 1: evaluation time (s, log scale) against the
order of differentiation 0..9, nested first-order derivatives ("Nested")
against Taylor mode ("Taylor"), for (a) univariate primitives (one line pair
per primitive: sin, cos, exp, neg) and (b) an MLP.

What this script changes, and why:
- hodiff's lines are hd.derivative(f, order=k, mode="nested") (jvp nested k
  times) and mode="taylor" (one truncated-Taylor pass); with JAX installed
  (e.g. /work/peers/bin/python) jax.experimental.jet.jet and nested jax.jvp
  (both jitted, timed after the compile) are drawn beside them. The paper's
  figure is JAX only, on its hardware, without a stated input size or MLP
  width: we use a scalar input x = 0.7 and a tanh MLP 1 -> 32 -> 32 -> 1
  (the paper's size is not given), medians of a few repeats, one thread.
- The paper's absolute times (10^-3..10^2 s) are not comparable (2019 JAX,
  un-jitted); what is reproduced is the shape: nested time grows
  geometrically in the order, Taylor mode's stays nearly flat.
- References outside hodiff's transforms: sympy's k-th derivative of each
  primitive (a); for the MLP (b), mpmath.diff at 40 digits on the same MLP
  written in mpmath, and jet's output when JAX is installed.

Claims, checked in full mode only (--quick checks values only, orders 0..4):
every derivative matches its reference to 1e-9 (relative); at order 9
Taylor mode is faster than nested mode for every function; nested time grows
at least 1.4x per order over orders 6..9 (the exponential blow-up).

    python papers/bettencourt_taylor.py [--quick] [--png PATH]
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                  "XLA_FLAGS"):
    os.environ[_variable] = "1" if _variable != "XLA_FLAGS" else "--xla_cpu_multi_thread_eigen=false"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import mpmath  # noqa: E402
import numpy as np  # noqa: E402
import sympy  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from papers._claims import claim  # noqa: E402

VALUE_RTOL = 1e-9
NESTED_GROWTH = 1.4
X0 = 0.7
WIDTH = 32

PRIMITIVES = {"sin": (hnp.sin, sympy.sin), "cos": (hnp.cos, sympy.cos), "exp": (hnp.exp, sympy.exp),
              "neg": (lambda x: -x, lambda x: -x)}


def mlp_weights(width=WIDTH, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((1, width)), rng.standard_normal(width) * 0.1),
            (rng.standard_normal((width, width)) / np.sqrt(width), rng.standard_normal(width) * 0.1),
            (rng.standard_normal((width, 1)) / np.sqrt(width), rng.standard_normal(1) * 0.1)]


def mlp_hodiff(weights):
    def f(x):
        h = hnp.reshape(x, (1, 1))
        for W, b in weights[:-1]:
            h = hnp.tanh(h @ W + b)
        W, b = weights[-1]
        return hnp.reshape(h @ W + b, ())
    return f


def mlp_mpmath(weights):
    """The same MLP on mpmath numbers (the reference's arithmetic, outside hodiff)."""
    mats = [(mpmath.matrix(W.tolist()), mpmath.matrix(b.reshape(1, -1).tolist())) for W, b in weights]

    def f(x):
        h = mpmath.matrix([[x]])
        for W, b in mats[:-1]:
            h = (h * W + b).apply(mpmath.tanh)
        W, b = mats[-1]
        return (h * W + b)[0, 0]
    return f


def sympy_derivative(sym, k, x):
    t = sympy.Symbol("t")
    return float(sympy.diff(sym(t), t, k).subs(t, x).evalf(30))


def mpmath_derivative(f, k, x):
    with mpmath.workdps(40):
        return float(mpmath.diff(f, mpmath.mpf(x), k))


def median_time(function, repeats):
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def jax_lines(weights, orders, repeats):
    """{(name, 'jet'|'jvp'): {k: (value, seconds)}} from JAX, or {} when JAX is not installed."""
    if importlib.util.find_spec("jax") is None:
        return {}
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.experimental.jet import jet

    def mlp(x):
        h = jnp.reshape(x, (1, 1))
        for W, b in weights[:-1]:
            h = jnp.tanh(h @ W + b)
        W, b = weights[-1]
        return jnp.reshape(h @ W + b, ())

    functions = {"sin": jnp.sin, "cos": jnp.cos, "exp": jnp.exp, "neg": lambda x: -x, "mlp": mlp}

    def nested(f, k):
        g = f
        for _ in range(k):
            g = (lambda h: lambda x: jax.jvp(h, (x,), (jnp.ones_like(x),))[1])(g)
        return g

    def taylor(f, k):
        if k == 0:
            return f
        return lambda x: jet(f, (x,), ((jnp.ones_like(x),) + (jnp.zeros_like(x),) * (k - 1),))[1][-1]

    out = {}
    x = jnp.asarray(X0)
    for name, f in functions.items():
        for mode, make in (("jet", taylor), ("jvp", nested)):
            line = out.setdefault((name, mode), {})
            for k in orders:
                g = jax.jit(make(f, k))
                value = float(g(x).block_until_ready())
                line[k] = (value, median_time(lambda: g(x).block_until_ready(), repeats))
    return out


def check(errors, times, orders):
    """errors: {(name, mode, k): relative error}; times: {(name, mode): {k: seconds}} (empty in quick mode)."""
    failures = [f"{name}, order {k}, {mode}: relative error {error:.2e} > {VALUE_RTOL:g}"
                for (name, mode, k), error in sorted(errors.items()) if not error <= VALUE_RTOL]
    top = max(orders)
    for name in sorted({name for name, _ in times}):
        nested, taylor = times.get((name, "nested")), times.get((name, "taylor"))
        if not nested or not taylor:
            continue
        if not taylor[top] < nested[top]:
            failures.append(f"{name}, order {top}: Taylor mode {taylor[top] * 1e3:.2f} ms is not faster than "
                            f"nested {nested[top] * 1e3:.2f} ms")
        if name != "neg":  # -x is linear: nested jvp of it does not blow up (nor in the paper's figure)
            upper = [k for k in orders if k >= top - 3]
            growth = (nested[upper[-1]] / nested[upper[0]]) ** (1 / max(1, len(upper) - 1))
            if not growth >= NESTED_GROWTH:
                failures.append(f"{name}: nested time grows only {growth:.2f}x per order over orders "
                                f"{upper[0]}..{upper[-1]}, not the exponential blow-up")
    return failures


def plot(path, times, peers, orders):
    if importlib.util.find_spec("matplotlib") is None:
        print(f"(matplotlib is not installed: {path} not written; pip install 'hodiff[plot]')")
        return
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for axis, names, title in ((a, list(PRIMITIVES), "(a) univariate primitives"), (b, ["mlp"], "(b) MLP")):
        for index, name in enumerate(names):
            colour = f"C{index}"
            for mode, style in (("nested", "-o"), ("taylor", "-s")):
                line = times[(name, mode)]
                axis.semilogy(orders, [line[k] for k in orders], style, color=colour, ms=3,
                              label=f"{name} {'Nested' if mode == 'nested' else 'Taylor'} (hodiff)")
            for mode, style in (("jvp", ":o"), ("jet", ":s")):
                if (name, mode) in peers:
                    line = peers[(name, mode)]
                    axis.semilogy(orders, [line[k][1] for k in orders], style, color=colour, ms=3, alpha=0.6,
                                  label=f"{name} {'nested jax.jvp' if mode == 'jvp' else 'jax jet'}")
        axis.set_xlabel("Order of Differentiation")
        axis.set_ylabel("Evaluation Time (sec)")
        axis.set_title(title)
        axis.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"figure written to {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="orders 0..4, values only (no timing claims)")
    parser.add_argument("--png", metavar="PATH", help="write the figure (needs matplotlib)")
    args = parser.parse_args(argv)
    orders = list(range(0, 5 if args.quick else 10))
    repeats = 2 if args.quick else 7

    weights = mlp_weights()
    functions = {name: f for name, (f, _) in PRIMITIVES.items()}
    functions["mlp"] = mlp_hodiff(weights)
    mlp_reference = mlp_mpmath(weights)
    reference = {(name, k): sympy_derivative(sym, k, X0) for name, (_, sym) in PRIMITIVES.items() for k in orders}
    reference.update({("mlp", k): mpmath_derivative(mlp_reference, k, X0) for k in orders})

    errors, times, values = {}, {}, {}
    for name, f in functions.items():
        for mode in ("nested", "taylor"):
            line = times.setdefault((name, mode), {})
            for k in orders:
                derivative = hd.derivative(f, order=k, mode=mode)
                value = float(derivative(X0))
                values[(name, mode, k)] = value
                exact = reference[(name, k)]
                errors[(name, mode, k)] = abs(value - exact) / max(1.0, abs(exact))
                line[k] = median_time(lambda: derivative(X0), repeats if k < 8 or mode == "taylor" else 3)

    peers = jax_lines(weights, orders, repeats)
    for (name, mode), line in peers.items():  # the peer's values against the same references
        for k, (value, _) in line.items():
            errors[(name, f"jax {mode}", k)] = abs(value - reference[(name, k)]) / max(1.0, abs(reference[(name, k)]))
    if peers:
        for k in orders:  # and ours against jet directly
            jet_value = peers[("mlp", "jet")][k][0]
            errors[("mlp", "taylor vs jax jet", k)] = abs(values[("mlp", "taylor", k)] - jet_value) / max(
                1.0, abs(jet_value))

    names = list(functions)
    header = f"{'k':>2} " + " ".join(f"{name + ' nested':>11} {name + ' taylor':>11}" for name in names)
    print(f"Fig. 1: median time (ms) of d^k f/dx^k at x = {X0}, hodiff (nested jvp vs Taylor mode)")
    print(header)
    for k in orders:
        print(f"{k:>2} " + " ".join(f"{times[(n, 'nested')][k] * 1e3:>11.3f} {times[(n, 'taylor')][k] * 1e3:>11.3f}"
                                    for n in names))
    if peers:
        print("JAX (jitted): median time (ms), nested jax.jvp vs jax.experimental.jet")
        print(f"{'k':>2} " + " ".join(f"{n + ' jvp':>11} {n + ' jet':>11}" for n in names))
        for k in orders:
            print(f"{k:>2} " + " ".join(f"{peers[(n, 'jvp')][k][1] * 1e3:>11.3f} {peers[(n, 'jet')][k][1] * 1e3:>11.3f}"
                                        for n in names))
    else:
        print("(JAX is not installed: no jet / nested jax.jvp lines; run with /work/peers/bin/python)")
    worst = max(errors.values())
    refs = "sympy (primitives), mpmath.diff at 40 digits (MLP)" + (", jax jet" if peers else "")
    print(f"largest relative error against {refs}: {worst:.1e}")
    if args.png:
        plot(args.png, times, peers, orders)

    failures = check(errors, {} if args.quick else times, orders)
    source = "Bettencourt, Johnson & Duvenaud 2019, Fig. 1 (shape only; the paper's times are 2019 JAX)"
    top = max(orders)
    upper = [k for k in orders if k >= top - 3]
    for name in names:
        nested, taylor = times[(name, "nested")], times[(name, "taylor")]
        growth = (nested[upper[-1]] / nested[upper[0]]) ** (1 / max(1, len(upper) - 1))
        claim(f"{name}: time against derivative order 0..{top}",
              "nested grows geometrically in the order, Taylor mode stays nearly flat" if name != "neg" else
              "Taylor mode faster at the top order (-x is linear: nested does not blow up)",
              "not measured in --quick" if args.quick else
              f"nested x{growth:.2f} per order (k = {upper[0]}..{upper[-1]}); at k = {top} Taylor "
              f"{taylor[top] * 1e3:.2f} ms, nested {nested[top] * 1e3:.2f} ms", source)
    if failures:
        sys.exit("bettencourt_taylor.py: CLAIM NOT REPRODUCED\n  " + "\n  ".join(failures))
    if args.quick:
        print("Quick mode: values checked against the references; timing claims need a full run.")
    else:
        print("Reproduced: nested-derivative time grows geometrically in the order, Taylor mode's does not.")


if __name__ == "__main__":
    main()
