"""Sparse Hessian of the Rosenbrock chain (issue 15 targets): colours, first and later call, one HVP, dense.

    python -m benchmarks.sparse_hessian_bench                 # n = 10^3, 10^4, 10^5, pattern given
    python -m benchmarks.sparse_hessian_bench --detect        # pattern from hd.hessian_sparsity

Best of a few runs each (first call: a fresh hd.sparse_hessian each run); dense hd.hessian up to n = 10^4.
"""

import argparse
import time

import numpy as np
import scipy.sparse as sp

import hodiff as hd
import hodiff.numpy as hnp


def chain(x):
    return hnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2) + hnp.sum(hnp.cos(x))


def best(run, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10 ** 3, 10 ** 4, 10 ** 5])
    parser.add_argument("--detect", action="store_true", help="detect the pattern (hd.hessian_sparsity)")
    parser.add_argument("--dense-up-to", type=int, default=10 ** 4)
    options = parser.parse_args()
    rng = np.random.default_rng(0)
    for n in options.sizes:
        x, v, x_later = rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(n)
        pattern = None if options.detect else sp.diags_array([1, 1, 1], offsets=[-1, 0, 1], shape=(n, n), dtype=bool)
        hvp = best(lambda: hd.hvp(chain, (x,), (v,)), 10)
        hessians = []

        def first():
            hessians.append(hd.sparse_hessian(chain, sparsity=pattern))
            hessians[-1](x)

        first_call = best(first, 3)
        hess = hessians[-1]
        later = best(lambda: hess(x_later), 5)
        line = (f"n={n} colours={hess.num_colors} first={first_call * 1e3:.1f} ms later={later * 1e3:.2f} ms "
                f"hvp={hvp * 1e3:.2f} ms first/hvp={first_call / hvp:.1f} later/hvp={later / hvp:.2f}")
        if n <= options.dense_up_to:
            dense = best(lambda: hd.hessian(chain)(x_later), 3 if n < 10 ** 4 else 1)
            line += f" dense={dense * 1e3:.0f} ms dense/later={dense / later:.0f}x"
        print(line, flush=True)


if __name__ == "__main__":
    main()
