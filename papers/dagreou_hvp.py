"""Dagreou, Ablin, Vaiter & Moreau 2024: time and memory of Hessian-vector-product modes for an MLP.

M. Dagreou, P. Ablin, S. Vaiter and T. Moreau, "How to compute Hessian-vector
products?", ICLR 2024 blog post track. The post times forward-over-reverse,
reverse-over-forward and reverse-over-reverse HVPs (JAX, PyTorch) against the
gradient, for MLPs of growing depth and batch size, and measures their peak
memory. Finding: an HVP costs a small constant times a gradient (about 2-3x),
and forward-over-reverse is the cheapest in memory.

What this script changes, and why: a tanh MLP of width 32 (quick: 8) on
synthetic data (fixed seed) instead of the post's networks, depths 1..8 and
batches 16..256 (sized for a shared 2-core CPU); hodiff's hd.hvp modes
fwd-rev, rev-fwd, rev-rev beside PyTorch's torch.func compositions and JAX's
jax.jvp/jax.vjp/jax.grad compositions (jit-compiled, as the post times them,
64-bit) when each is installed; memory as the growth of peak RSS (VmHWM) in
one child process per mode (full mode only, Linux). References outside
hodiff's transforms: every HVP against the dense product hd.hessian(f)(w) @ v
at a small size, and against PyTorch's and JAX's outputs (when installed) at
every timed size.

Claim checked in full mode: every hodiff HVP mode costs at most 6 gradients at
every depth and batch. The memory ranking is printed with whether it agrees
with the post (not checked: it is a property of the framework).

    python papers/dagreou_hvp.py [--quick] [--png PATH]
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from papers._claims import claim  # noqa: E402

MODES = ("fwd-rev", "rev-fwd", "rev-rev")
RATIO_BOUND = 6.0
VALUE_RTOL = 1e-9


def problem(depth, batch, width, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(width, width)] * depth + [(width, 1)]
    n = sum(a * b for a, b in shapes)
    return shapes, rng.standard_normal(n) / np.sqrt(width), rng.standard_normal((batch, width)), \
        rng.standard_normal(batch), rng.standard_normal(n)


def loss(shapes, X, y, tanh, reshape, mean):
    def f(w):
        h, start = X, 0
        for index, (a, b) in enumerate(shapes):
            W = reshape(w[start:start + a * b], (a, b))
            start += a * b
            h = h @ W
            if index < len(shapes) - 1:
                h = tanh(h)
        return mean((reshape(h, (-1,)) - y) ** 2)
    return f


def median_time(function, repeats):
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def routes(shapes, X, y, library):
    """{name: callable(w, v)} for 'grad' and each HVP mode of ``library`` ('hodiff', 'torch' or 'jax')."""
    if library == "hodiff":
        f = loss(shapes, X, y, hnp.tanh, hnp.reshape, hnp.mean)
        grad = hd.grad(f)
        out = {"grad": lambda w, v: grad(w)}
        for mode in MODES:
            out[mode] = (lambda m: lambda w, v: hd.hvp(f, (w,), (v,), mode=m))(mode)
        return out
    if library == "jax":
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        f = loss(shapes, jnp.asarray(X), jnp.asarray(y), jnp.tanh, jnp.reshape, jnp.mean)
        g = jax.grad(f)
        wrap = (lambda fn: (lambda jitted: lambda w, v: np.asarray(jitted(jnp.asarray(w), jnp.asarray(v))))(
            jax.jit(fn)))
        return {"grad": wrap(lambda w, v: g(w)),
                "fwd-rev": wrap(lambda w, v: jax.jvp(g, (w,), (v,))[1]),
                "rev-fwd": wrap(lambda w, v: jax.grad(lambda u: jax.jvp(f, (u,), (v,))[1])(w)),
                "rev-rev": wrap(lambda w, v: jax.vjp(g, w)[1](v)[0])}
    import torch
    from torch.func import grad as tgrad
    from torch.func import jvp, vjp
    torch.set_num_threads(1)
    f = loss(shapes, torch.tensor(X), torch.tensor(y), torch.tanh, torch.reshape, torch.mean)
    g = tgrad(f)
    wrap = (lambda fn: lambda w, v: fn(torch.tensor(w), torch.tensor(v)).numpy())
    return {"grad": wrap(lambda w, v: g(w)),
            "fwd-rev": wrap(lambda w, v: jvp(g, (w,), (v,))[1]),
            "rev-fwd": wrap(lambda w, v: vjp(lambda u: jvp(f, (u,), (v,))[1], w)[1](torch.tensor(1.0,
                                                                                    dtype=w.dtype))[0]),
            "rev-rev": wrap(lambda w, v: vjp(g, w)[1](v)[0])}


def hvp_value(out):
    return np.asarray(out[0] if isinstance(out, tuple) else out, dtype=float).ravel()


def child(library, mode, depth, batch, width):
    """Peak-RSS growth (kB) of one call of ``mode``, in this (fresh) process."""
    shapes, w, X, y, v = problem(depth, batch, width)
    fn = routes(shapes, X, y, library)[mode]
    fn(w, v)  # warm-up: imports and caches are not the mode's memory

    def status(key):
        with open("/proc/self/status") as handle:
            return next(int(line.split()[1]) for line in handle if line.startswith(key))
    before = status("VmRSS:")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    fn(w, v)
    return max(status("VmHWM:") - before, 0)


def check(errors, ratios):
    """errors: {label: relative error}; ratios: {(mode, depth, batch): hvp time / grad time} (empty when quick)."""
    failures = [f"{label}: relative error {error:.2e} > {VALUE_RTOL:g}" for label, error in sorted(errors.items())
                if not error <= VALUE_RTOL]
    failures += [f"{mode} at depth {d}, batch {b}: {ratio:.1f} gradients > {RATIO_BOUND:g}"
                 for (mode, d, b), ratio in sorted(ratios.items()) if not ratio <= RATIO_BOUND]
    return failures


def relative(a, b):
    return float(np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(b))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, values only")
    parser.add_argument("--png", metavar="PATH", help="write the figure (needs matplotlib)")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)  # library mode depth batch width
    args = parser.parse_args(argv)
    if args.child:
        library, mode, depth, batch, width = args.child
        print(json.dumps(child(library, mode, int(depth), int(batch), int(width))))
        return
    width = 8 if args.quick else 32
    depths, batches = ([1, 2], [8, 16]) if args.quick else ([1, 2, 4, 8], [16, 64, 256])
    repeats = 2 if args.quick else 9
    libraries = ["hodiff"] + [peer for peer in ("torch", "jax") if importlib.util.find_spec(peer)]

    errors = {}
    shapes, w, X, y, v = problem(1, 6, 4)  # dense reference: n = 20
    f = loss(shapes, X, y, hnp.tanh, hnp.reshape, hnp.mean)
    dense = hd.hessian(f)(w) @ v
    for library in libraries:
        for mode in MODES:
            errors[f"{library} {mode} vs dense H @ v"] = relative(hvp_value(routes(shapes, X, y, library)[mode](w, v)),
                                                                  dense)

    times = {}
    sweep = [(d, batches[0]) for d in depths] + [(depths[-1], b) for b in batches[1:]]
    for depth, batch in sweep:
        shapes, w, X, y, v = problem(depth, batch, width)
        per = {library: routes(shapes, X, y, library) for library in libraries}
        for library in libraries:
            for name, fn in per[library].items():
                times[(library, name, depth, batch)] = median_time(lambda: fn(w, v), repeats)
        for peer in libraries[1:]:
            for mode in MODES:
                errors[f"hodiff {mode} vs {peer}, depth {depth}, batch {batch}"] = relative(
                    hvp_value(per["hodiff"][mode](w, v)), hvp_value(per[peer][mode](w, v)))

    print(f"median time of one HVP / one gradient (tanh MLP width {width}); libraries: {', '.join(libraries)}")
    print(f"{'depth':>5} {'batch':>5} " + " ".join(f"{lib + ' grad ms':>16} " + " ".join(
        f"{lib[:5] + ' ' + m:>13}" for m in MODES) for lib in libraries))
    ratios = {}
    for depth, batch in sweep:
        line = f"{depth:>5} {batch:>5} "
        for library in libraries:
            g = times[(library, "grad", depth, batch)]
            line += f"{g * 1e3:>16.3f} "
            for mode in MODES:
                ratio = times[(library, mode, depth, batch)] / g
                if library == "hodiff":
                    ratios[(mode, depth, batch)] = ratio
                line += f"{ratio:>12.2f}x "
        print(line)
    print(f"largest relative error against dense hd.hessian @ v{''.join(' and ' + p for p in libraries[1:])}: "
          f"{max(errors.values()):.1e}")

    least_memory = {}
    if not args.quick and sys.platform.startswith("linux"):
        depth, batch = depths[-1], batches[-1]
        print(f"peak RSS growth of one call (kB, a child process each), depth {depth}, batch {batch}:")
        for library in libraries:
            peaks = {}
            for mode in ("grad",) + MODES:
                result = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", library, mode,
                                         str(depth), str(batch), str(width)], capture_output=True, text=True)
                peaks[mode] = json.loads(result.stdout) if result.returncode == 0 else float("nan")
            best = min(MODES, key=lambda m: peaks[m])
            least_memory[library] = f"{best} ({', '.join(f'{m} {peaks[m]} kB' for m in MODES)})"
            print(f"  {library}: " + ", ".join(f"{m} {peaks[m]}" for m in ("grad",) + MODES)
                  + f"; least: {best} ({'agrees' if best == 'fwd-rev' else 'disagrees'} with the post)")

    if args.png:
        if importlib.util.find_spec("matplotlib") is None:
            print(f"(matplotlib is not installed: {args.png} not written; pip install 'hodiff[plot]')")
        else:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            fig, axes = plt.subplots(1, 2, figsize=(10, 4))
            for axis, key, label in ((axes[0], "depth", "depth"), (axes[1], "batch", "batch")):
                pts = [(d, b) for d, b in sweep if (b == batches[0] if key == "depth" else d == depths[-1])]
                for library, style in zip(libraries, ("-", "--", ":")):
                    for index, name in enumerate(("grad",) + MODES):
                        axis.plot([p[0] if key == "depth" else p[1] for p in pts],
                                  [times[(library, name, *p)] * 1e3 for p in pts], style, marker="o",
                                  color=f"C{index}", label=f"{library} {name}")
                axis.set_xlabel(label)
                axis.set_ylabel("time (ms)")
                axis.set_yscale("log")
                axis.legend(fontsize=6)
            fig.tight_layout()
            fig.savefig(args.png, dpi=120)
            print(f"figure written to {args.png}")

    failures = check(errors, {} if args.quick else ratios)
    source = "Dagreou, Ablin, Vaiter & Moreau 2024, ICLR blog post (tanh MLP width 32 on CPU, not the post's nets)"
    for mode in MODES:
        mine = [ratio for (m, _, _), ratio in ratios.items() if m == mode]
        claim(f"hodiff {mode} HVP time / gradient time", "a small constant times a gradient (about 2-3x)",
              "not measured in --quick" if args.quick else
              f"{min(mine):.1f}..{max(mine):.1f}x over depths {depths[0]}..{depths[-1]}, "
              f"batches {batches[0]}..{batches[-1]}", source)
    claim("least peak memory of the HVP modes (hodiff)", "forward-over-reverse",
          least_memory.get("hodiff", "not measured (--quick, or not Linux)") + " (printed, not checked)", source)
    if failures:
        sys.exit("dagreou_hvp.py: CLAIM NOT REPRODUCED\n  " + "\n  ".join(failures))
    print("Quick mode: values checked; timing claim needs a full run." if args.quick else
          f"Reproduced: every HVP mode costs {min(ratios.values()):.1f}..{max(ratios.values()):.1f} gradients.")


if __name__ == "__main__":
    main()
