"""hd.hessian_diagonal(f)(x) against np.diag(hd.hessian(f)(x)) (not a test).

Prints median CPU times (measured round-robin, threads pinned to 1) and tracemalloc peaks of
- ``dense``: np.diag(hd.hessian(f)(x)), the n x n Hessian from batched forward-over-reverse;
- ``diagonal``: hd.hessian_diagonal(f)(x), e_i^T H e_i from batched HVPs, 256 unit vectors per block;
- ``taylor``: the alternative hessian_diagonal does not use, a second-order collapsed-Taylor pass
  along each unit vector (one direction each), vmapped over the same blocks;
and the ratios to ``dense``. Workloads: ``mlp`` a tanh MLP with input size 50 (default
50-768-768-512-512-1, issue 14's), ``chain`` sum sin(x[i+1]) cos(x[i]) + sum exp(-x^2) of size D.

    python benchmarks/hessian_diagonal_bench.py mlp [--hidden 768,768,512,512] [--repeats 15]
    python benchmarks/hessian_diagonal_bench.py chain [--size 3000] [--repeats 5]
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                  "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from benchmarks.secondorder_bench import median_times  # noqa: E402
from hodiff.transforms.operators import collapsed_taylor  # noqa: E402


def mlp_problem(hidden, seed=0):
    rng = np.random.default_rng(seed)
    sizes = [50] + list(hidden) + [1]
    weights = [rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]

    def f(x):
        h = x
        for w in weights[:-1]:
            h = hnp.tanh(h @ w)
        return (h @ weights[-1])[0]

    return f, rng.standard_normal(50), "tanh MLP " + "-".join(map(str, sizes))


def chain_problem(size, seed=0):
    def f(x):
        return hnp.sum(hnp.sin(x[1:]) * hnp.cos(x[:-1])) + hnp.sum(hnp.exp(-x ** 2))

    return f, np.random.default_rng(seed).standard_normal(size), f"chain, D = {size}"


def taylor_diagonal(f, x, block=256):
    n = x.size
    parts = []
    for start in range(0, n, block):
        stop = min(start + block, n)
        units = np.zeros((stop - start, n))
        units[np.arange(stop - start), np.arange(start, stop)] = 1
        parts.append(hd.vmap(lambda e: collapsed_taylor(f, x, hnp.reshape(e, (1, n)), order=2))(units))
    return np.concatenate(parts)


def peak_memory(function):
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["mlp", "chain"])
    parser.add_argument("--hidden", default="768,768,512,512")
    parser.add_argument("--size", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=None)
    options = parser.parse_args(argv)
    if options.workload == "mlp":
        f, x, label = mlp_problem([int(s) for s in options.hidden.split(",")])
    else:
        f, x, label = chain_problem(options.size)
    routes = {
        "dense": lambda: np.diag(hd.hessian(f)(x)),
        "diagonal": lambda: hd.hessian_diagonal(f)(x),
        "taylor": lambda: taylor_diagonal(f, x),
    }
    reference = routes["dense"]()
    for name, route in routes.items():
        error = float(np.max(np.abs(route() - reference)) / np.max(np.abs(reference)))
        assert error < 1e-10, (name, error)
    repeats = options.repeats or (15 if options.workload == "mlp" else 5)
    medians = median_times(routes, repeats)
    peaks = {name: peak_memory(route) for name, route in routes.items()}
    print(f"{label}; threads pinned to 1; median CPU time of {repeats} round-robin runs")
    for name in routes:
        print(f"{name:9s} {medians[name] * 1e3:9.1f} ms  x{medians[name] / medians['dense']:5.2f}   "
              f"peak {peaks[name] / 2 ** 20:7.1f} MiB  x{peaks[name] / peaks['dense']:5.2f}")
    return medians["diagonal"] / medians["dense"]


if __name__ == "__main__":
    main()
