"""Dangel, Siebert, Zeinhofer & Walther 2025: collapsed Taylor mode halves the cost of a Laplacian.

F. Dangel, T. Siebert, M. Zeinhofer and A. Walther, "Collapsing Taylor Mode
Automatic Differentiation", NeurIPS 2025. Claim (its Figure on the exact
Laplacian of a tanh MLP 50-768-768-512-512-1, batch sizes on the x axis):
time and peak memory grow linearly with the batch size; per datum, collapsed
Taylor mode takes about 0.5x the time and 0.54x the memory of nested
first-order AD (the trace of a Hessian from Hessian-vector products), while
standard Taylor mode (one jet per direction, summed afterwards) is no faster
than nested.

What this script does: it runs benchmarks/w9_laplacian.py (one process per
batch size; hodiff's nested, standard and collapsed routes, plus folx and
jet-for-pytorch in the same process when they are installed), fits time and
peak memory against batch size by least squares, and reports the slopes (per
datum cost) and their ratios to nested's. Checks:
1. every route agrees with nested to 1e-10 relative at every batch (W9 exits
   otherwise), and hodiff's Laplacian of a one-hidden-layer tanh network
   equals its closed form sum_j a_j tanh''(w_j . x) |w_j|^2 to 1e-12 (a
   reference outside hodiff's transforms);
2. (not in --quick, whose toy network is dominated by per-call overhead)
   collapsed's time slope <= 0.6x nested's, its memory slope <= 0.65x
   nested's, and standard's time slope >= 0.9x nested's (no faster).
Changed from the paper: float64 on 2 CPU cores pinned to one thread (the
paper: a GPU, float64), batch sizes 1, 8, 32, 128 (quick: a 5-16-16-8-8-1 net,
batches 1, 3, 6), peak memory as the growth of the resident set (VmHWM).

    python papers/collapsed_taylor.py [--quick] [--png collapsed_taylor.png]
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import pathlib  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from papers._claims import claim  # noqa: E402

W9 = ROOT / "benchmarks" / "w9_laplacian.py"
TIME_RATIO, MEMORY_RATIO, STANDARD_RATIO = 0.6, 0.65, 0.9


def closed_form_check(seed=0):
    """|hodiff's Laplacian - closed form| / |closed form| for f(x) = a . tanh(W x), D = 7, width 11."""
    rng = np.random.default_rng(seed)
    weights, outer = rng.normal(size=(11, 7)), rng.normal(size=11)
    x = rng.normal(size=7)
    t = np.tanh(weights @ x)
    exact = float(np.sum(outer * (-2.0 * t * (1.0 - t ** 2)) * np.sum(weights ** 2, axis=1)))
    value = float(hd.laplacian(lambda x: hnp.dot(outer, hnp.tanh(weights @ x)))(x))
    return abs(value - exact) / abs(exact)


def measure(quick, repeat):
    """W9's figures: {"results": [{"batch": B, "routes": {name: {"ms", "mib"}}}, ...]}."""
    batches = ["1", "3", "6"] if quick else ["1", "8", "32", "128"]
    with tempfile.TemporaryDirectory() as scratch:
        out = pathlib.Path(scratch) / "w9.json"
        command = [sys.executable, str(W9), "--batches", *batches, "--repeat", str(repeat), "--json", str(out)]
        completed = subprocess.run(command + ["--quick"] * quick, capture_output=True, text=True)
        if completed.returncode != 0:
            sys.exit(f"collapsed_taylor.py: W9 failed:\n{completed.stdout}{completed.stderr}")
        print(completed.stdout.rstrip())
        return json.loads(out.read_text())


def slopes(figures):
    """{route: {"ms": per-datum ms, "mib": per-datum MiB}}: least-squares slopes against batch size."""
    batches = np.array([r["batch"] for r in figures["results"]], dtype=float)
    names = [n for n in figures["results"][0]["routes"] if not n.startswith("stochastic")]
    return {name: {key: float(np.polyfit(batches, [r["routes"][name][key] for r in figures["results"]], 1)[0])
                   for key in ("ms", "mib")} for name in names}


def check(fit, closed_form_error, quick):
    failures = []
    if not closed_form_error <= 1e-12:
        failures.append(f"hodiff's Laplacian is {closed_form_error:.1e} from the closed form, not within 1e-12")
    if quick:
        return failures
    nested = fit["nested"]
    if not fit["collapsed"]["ms"] <= TIME_RATIO * nested["ms"]:
        failures.append(f"collapsed's time per datum is {fit['collapsed']['ms'] / nested['ms']:.2f}x nested's, "
                        f"more than {TIME_RATIO}x")
    if not fit["collapsed"]["mib"] <= MEMORY_RATIO * nested["mib"]:
        failures.append(f"collapsed's memory per datum is {fit['collapsed']['mib'] / nested['mib']:.2f}x nested's, "
                        f"more than {MEMORY_RATIO}x")
    if not fit["standard"]["ms"] >= STANDARD_RATIO * nested["ms"]:
        failures.append(f"standard Taylor's time per datum is {fit['standard']['ms'] / nested['ms']:.2f}x nested's: "
                        f"faster than the paper says it can be")
    return failures


def save_png(path, figures, fit):
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(matplotlib is not installed: {path} not written; pip install matplotlib)")
        return
    batches = [r["batch"] for r in figures["results"]]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, key, label in zip(axes, ("ms", "mib"), ("time [ms]", "peak memory [MiB]")):
        for name in fit:
            axis.plot(batches, [r["routes"][name][key] for r in figures["results"]], marker="o",
                      label=f"{name} ({fit[name][key]:.2f}/datum)")
        axis.set_xlabel("batch size")
        axis.set_ylabel(label)
        axis.legend()
    axes[0].set_title("Laplacian of a tanh MLP " + "-".join(map(str, figures["sizes"])))
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 5-16-16-8-8-1 net, batches 1, 3, 6")
    parser.add_argument("--repeat", type=int, default=None, help="timing repeats per route (default 3, quick 2)")
    parser.add_argument("--png", help="also plot time and memory against batch size to this file (needs matplotlib)")
    args = parser.parse_args(argv)
    figures = measure(args.quick, args.repeat or (2 if args.quick else 3))
    fit = slopes(figures)
    error = closed_form_check()
    print(f"\nper datum (least-squares slope against batch size), ratio to nested; closed-form check {error:.1e}")
    print(f"{'route':>18} {'ms/datum':>10} {'x nested':>9} {'MiB/datum':>10} {'x nested':>9}")
    for name, row in fit.items():
        print(f"{name:>18} {row['ms']:>10.3f} {row['ms'] / fit['nested']['ms']:>9.2f} {row['mib']:>10.3f} "
              f"{row['mib'] / max(fit['nested']['mib'], 1e-12):>9.2f}")
    print("(the paper: collapsed 0.5x the time and 0.54x the memory of nested; standard no faster than nested)")
    if args.png:
        save_png(args.png, figures, fit)
    failures = check(fit, error, args.quick)
    source = "Dangel, Siebert, Zeinhofer & Walther 2025, NeurIPS (float64 CPU, not the paper's GPU)"
    nested = fit["nested"]
    ratios = {"collapsed Taylor time per datum": ("about 0.5x nested's", fit["collapsed"]["ms"] / nested["ms"]),
              "collapsed Taylor peak memory per datum": ("0.54x nested's",
                                                         fit["collapsed"]["mib"] / max(nested["mib"], 1e-12)),
              "standard Taylor time per datum": ("no faster than nested", fit["standard"]["ms"] / nested["ms"])}
    for what, (published, ratio) in ratios.items():
        claim(what, published, "not measured in --quick (a toy net, per-call overhead)" if args.quick
              else f"{ratio:.2f}x nested's", source)
    claim("Laplacian against the closed form (one hidden layer)", "none (a check of ours, not the paper's)",
          f"{error:.1e} relative", source)
    if failures:
        sys.exit("collapsed_taylor.py: CLAIM NOT REPRODUCED\n  " + "\n  ".join(failures))
    if args.quick:
        print("\nquick mode: agreement and the closed form checked; the timing claims need the full network")
    else:
        print(f"\nReproduced: per datum, collapsed Taylor takes {fit['collapsed']['ms'] / fit['nested']['ms']:.2f}x "
              f"the time and {fit['collapsed']['mib'] / fit['nested']['mib']:.2f}x the memory of nested; standard "
              f"Taylor {fit['standard']['ms'] / fit['nested']['ms']:.2f}x the time.")


if __name__ == "__main__":
    main()
