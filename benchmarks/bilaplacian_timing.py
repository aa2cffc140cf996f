"""Time hd.bilaplacian (one collapsed order-4 pass) against nested routes on a tanh MLP D-H-H-1.

    python benchmarks/bilaplacian_timing.py               # D, H in (5, 32), (10, 64), (20, 128)
    python benchmarks/bilaplacian_timing.py --sizes 8x64

Routes, one point each, threads 1, median of --repeat calls after one warm-up:
  collapsed:  hd.bilaplacian(f)(x)
  lap(lap):   hd.laplacian(hd.laplacian(f))(x)   (collapsed order 2 nested in collapsed order 2)
  tr H(lap):  trace of hd.hessian(hd.laplacian(f))(x)
All routes must agree to 1e-10 relative, else the script exits 1.
"""

import argparse
import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402


def mlp(D, H, seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(D, H)) / np.sqrt(D), rng.normal(size=(H, H)) / np.sqrt(H),
               rng.normal(size=(H, 1)) / np.sqrt(H)]

    def f(x):
        h = x
        for w in weights[:-1]:
            h = hnp.tanh(h @ w)
        return (h @ weights[-1])[0]

    return f, rng.normal(size=D)


def median_ms(route, x, repeat):
    value = route(x)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        route(x)
        times.append(time.perf_counter() - start)
    return float(value), 1e3 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["5x32", "10x64", "20x128"], help="DxH pairs")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("| D | H | directions | collapsed | lap(lap) | tr H(lap) |")
    print("|---|---|---|---|---|---|")
    agree = True
    for size in args.sizes:
        D, H = (int(n) for n in size.split("x"))
        f, x = mlp(D, H)
        routes = {"collapsed": hd.bilaplacian(f), "lap(lap)": hd.laplacian(hd.laplacian(f)),
                  "tr H(lap)": lambda x, f=f: hnp.trace(hd.hessian(hd.laplacian(f))(x))}
        results = {name: median_ms(route, x, args.repeat) for name, route in routes.items()}
        reference = results["collapsed"][0]
        agree &= all(abs(v - reference) <= 1e-10 * abs(reference) for v, _ in results.values())
        base = results["collapsed"][1]
        cells = [f"{results['collapsed'][1]:.2f} ms"] + [
            f"{ms:.2f} ms ({ms / base:.1f}x)" for name, (_, ms) in results.items() if name != "collapsed"]
        directions = D * D if D != 4 else D * (D - 1)
        print(f"| {D} | {H} | {directions} | " + " | ".join(cells) + " |")
    print("all routes agree to 1e-10" if agree else "ROUTES DISAGREE")
    raise SystemExit(0 if agree else 1)


if __name__ == "__main__":
    main()
