"""Record-once replay (issue 16 part 2): hd.record(derivative) against the same derivative interpreted.

    python benchmarks/replay_bench.py [--quick] [--repeat N] [--json out.json]

Workloads, hodiff's own definitions from benchmarks/peers/hodiff_peer.py and workloads.py: W1 (value and
gradient of the lecture's sigmoid neuron, five Python floats), W2 (value and
gradient of a 300-op elementwise chain on 10 entries), W4 (HVP of the 784-512-10 tanh MLP loss), W6
(hd.derivative(order=k) of sin(x) exp(-x^2/2) at 0.7, Taylor mode, k = 1, 4, 8). Per workload, in one
process pinned to one CPU with one thread: the median time of the interpreted call and of the replayed call
(after one recording call), their ratio, the recorded program's length, and a check that the replay gives
the interpreted numbers bit for bit (the run fails if not). W1's peers micrograd and PyTorch are timed in the
same process when installed (skipped, and said so, when not). Targets (issue 16): W6 k=8 replayed <= 100 us;
W1 <= 0.5x micrograd and <= 0.15x PyTorch (here: replayed).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from benchmarks import workloads  # noqa: E402
from benchmarks.peers import hodiff_peer  # noqa: E402
from benchmarks.timing import median_time  # noqa: E402


def cases(quick):
    """(name, derivative function, its argument tuple)."""
    w2 = workloads.w2_inputs()
    w4 = workloads.w4_inputs()
    if quick:  # a smaller MLP: the same code, seconds instead of minutes
        W1, b1, W2, b2 = w4["params"]
        w4["params"] = (W1[:, :8], b1[:8], W2[:8], b2)
        w4["direction"] = tuple(np.ones_like(p) for p in w4["params"])
        w4["X"] = w4["X"][:16]
        w4["y"] = w4["y"][:16]
    loss = hodiff_peer._mlp_loss(w4)
    direction = w4["direction"]
    w1 = workloads.w1_inputs()
    w1_args = tuple(w1[name] for name in ("w0", "x0", "w1", "x1", "w2"))

    def neuron(w0, x0, w1, x1, w2):  # as benchmarks/peers/hodiff_peer.py's W1
        return hd.nn.sigmoid(w0 * x0 + w1 * x1 + w2)

    found = [("W1 value_and_grad", hd.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4)), w1_args),
             ("W2 value_and_grad", hd.value_and_grad(hodiff_peer._w2_chain()), (w2["x"],)),
             ("W4 hvp", lambda params: hd.hvp(loss, (params,), (direction,)), (w4["params"],))]

    def g(x):
        return hnp.sin(x) * hnp.exp(-x * x / 2)

    for k in (1, 4, 8):
        found.append((f"W6 k={k}", hd.derivative(g, order=k), (workloads.W6_POINT,)))
    return found


def _us(seconds):
    microseconds = seconds * 1e6
    return f"{microseconds:.0f} us" if microseconds >= 100 else f"{microseconds:.3g} us"


def w1_peers(repeats):
    """Median seconds of W1's value and gradient in micrograd and PyTorch, or None where not installed."""
    from benchmarks.peers import load

    out = {}
    for peer in ("micrograd", "torch"):
        try:
            module = load(peer)
            module.setup(1)  # the peer imports its library here
            (case,) = module.w1(workloads.w1_inputs())
            thunk = case.build()
        except ImportError:
            out[peer] = None
            continue
        out[peer] = median_time(thunk, repeats)
    return out


def same(a, b):
    a, b = hd.tree_flatten(a)[0], hd.tree_flatten(b)[0]
    return len(a) == len(b) and all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a, b))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small W4, 5 repeats")
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--json")
    options = parser.parse_args(argv)
    repeats = options.repeat or (5 if options.quick else 51)
    print(f"# replay: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, numpy {np.__version__}, "
          f"CPU affinity {sorted(os.sched_getaffinity(0))}, load {os.getloadavg()[0]:.1f}, {repeats} repeats")
    rows, failures = [], []
    for name, function, args in cases(options.quick):
        recorded = hd.record(function)
        if not same(recorded(*args), function(*args)) or not same(recorded(*args), function(*args)):
            failures.append(name)
        interpreted = median_time(lambda: function(*args), repeats)
        replayed = median_time(lambda: recorded(*args), repeats)
        rows.append({"workload": name, "interpreted": interpreted, "replayed": replayed,
                     "applications": len(recorded.program), "replays": recorded.replays})
    print("| workload | interpreted | replayed | replayed / interpreted | applications |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['workload']} | {_us(r['interpreted'])} | {_us(r['replayed'])} | "
              f"{r['replayed'] / r['interpreted']:.2f} | {r['applications']} |")
    k8 = next(r for r in rows if r["workload"] == "W6 k=8")
    w1 = next(r for r in rows if r["workload"] == "W1 value_and_grad")
    peers = w1_peers(repeats)
    for peer, seconds in peers.items():
        print(f"| W1 {peer} | {_us(seconds)} | | | |" if seconds else f"| W1 {peer} | not installed | | | |")
    print("\nTargets:")
    for peer, bound in (("micrograd", 0.5), ("torch", 0.15)):
        if peers.get(peer):
            ratio = w1["replayed"] / peers[peer]
            print(f"- [{'met' if ratio <= bound else 'NOT MET'}] W1 replayed / {peer} {ratio:.2f} <= {bound} "
                  f"(interpreted: {w1['interpreted'] / peers[peer]:.2f})")
        else:
            print(f"- [skipped] W1 against {peer}: not installed")
    print(f"- [{'met' if not failures else 'NOT MET'}] replay equals the interpreted call bit for bit"
          + (f" (differs: {', '.join(failures)})" if failures else ""))
    print(f"- [{'met' if k8['replayed'] <= 100e-6 else 'NOT MET'}] W6 k=8 replayed "
          f"{k8['replayed'] * 1e6:.0f} us <= 100 us")
    if options.json:
        pathlib.Path(options.json).write_text(json.dumps(rows, indent=1))
    if failures:
        raise SystemExit(f"replay differs from the interpreted call on {', '.join(failures)}")
    return rows


if __name__ == "__main__":
    main()
