"""W9: Laplacian of a tanh MLP, nested (trace of the Hessian) vs standard Taylor vs collapsed Taylor.

    python benchmarks/w9_laplacian.py            # D=50, tanh 768-768-512-512-1, batch 1, 8, 32
    python benchmarks/w9_laplacian.py --quick    # D=5, 16-16-8-8-1, batch 1, 3 (seconds; run by the tests)

Threads pinned to 1 (set before numpy is imported); median of --repeat runs;
ratios to nested come from this one process. Every route is checked against
nested to 1e-10 relative before it is timed. Peers (folx, jet-for-pytorch) are
reported as skipped when not installed.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import pathlib  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402


def make_mlp(sizes, seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(a, b)) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]

    def net(x):
        h = x
        for w in weights[:-1]:
            h = hnp.tanh(h @ w)
        return (h @ weights[-1])[0]

    return net


def routes(net, dim):
    eye = np.eye(dim)

    def nested(x):
        return hnp.trace(hd.hessian(net)(x))

    def standard(x):
        coefficients = hd.vmap(lambda v: hd.taylor(net, x, v, order=2))(eye)  # (D, 3)
        return 2.0 * hnp.sum(coefficients[:, 2])

    return {"nested": hd.vmap(nested), "standard": hd.vmap(standard), "collapsed": hd.vmap(hd.laplacian(net))}


def median_time(fn, x, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--no-time", action="store_true", help="check agreement only (for the tests)")
    args = parser.parse_args(argv)
    sizes, batches = ([5, 16, 16, 8, 8, 1], (1, 3)) if args.quick else ([50, 768, 768, 512, 512, 1], (1, 8, 32))
    repeat = args.repeat or (3 if args.quick else 5)
    for peer, module in (("folx", "folx"), ("jet-for-pytorch", "jet")):
        if importlib.util.find_spec(module) is None:
            print(f"peer {peer}: skipped (not installed)")
    net = make_mlp(sizes)
    table = routes(net, sizes[0])
    rng = np.random.default_rng(1)
    print(f"MLP {'-'.join(map(str, sizes))}, threads 1, median of {repeat}")
    for batch in batches:
        x = rng.normal(size=(batch, sizes[0]))
        reference = np.asarray(table["nested"](x))
        for name, fn in table.items():
            value = np.asarray(fn(x))
            if not np.allclose(value, reference, rtol=1e-10, atol=1e-12 * np.abs(reference).max()):
                raise SystemExit(f"W9: route {name} disagrees with nested at batch {batch}: {value} vs {reference}")
        if args.no_time:
            print(f"batch {batch}: all routes agree to 1e-10")
            continue
        seconds = {name: median_time(fn, x, repeat) for name, fn in table.items()}
        print(f"batch {batch:4d}: " + "  ".join(
            f"{name} {1e3 * s:9.2f} ms ({s / seconds['nested']:.2f}x nested)" for name, s in seconds.items()))


if __name__ == "__main__":
    main()
