"""Pearlmutter 1994: the Hessian times a vector, exactly, for a few gradients' cost.

B. A. Pearlmutter, "Fast exact multiplication by the Hessian",
Neural Computation 6(1):147-160, 1994.

Claim: H v can be computed exactly (no finite-difference error) in time
O(n), a small constant times one gradient, by applying the forward-mode
operator R_v{.} = d/dr (.)(w + r v) at r = 0 to the backpropagation
equations: H v = R_v{grad f(w)}. In hodiff that is forward over reverse,
hd.hvp(f, (w,), (v,)) (also reverse over reverse and reverse over forward).

What this script checks, for the mean squared error of a one-hidden-layer
tanh network whose n weights grow with the hidden width:
1. exactness: hd.hvp agrees with hd.hessian(f)(w) @ v to ~1e-12 (small n)
   in its three modes, while central differences of gradients,
   (g(w + e v) - g(w - e v)) / 2e, are off by 1e-10..1e-4 depending on e;
2. cost: the work of an HVP (primitive applications counted, matmul as its
   2mkn flops and every other primitive as the entries it produces) is a
   constant multiple (< 6) of a gradient's, the same at every n, while the
   dense Hessian costs ~n gradients; the measured hvp/grad time ratio
   (medians over repeats, interleaved, one BLAS thread) is printed, and
   checked (< 10) in full mode only, since timings on a shared machine are
   noisy.

    python papers/pearlmutter_hvp.py [--quick]
"""

import os

# One BLAS thread, set before numpy is imported: timings compare interpreter work, not thread scheduling.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import collections  # noqa: E402
import contextlib  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from hodiff.core.work import count_work  # noqa: E402
from papers._claims import claim  # noqa: E402

WORK_RATIO_BOUND = 6.0     # HVP work / gradient work, at every n
WORK_RATIO_SPREAD = 1.25   # max / min of that ratio over n: a constant, not growing with n
TIME_RATIO_BOUND = 10.0    # median HVP time / median gradient time (full mode only)
EXACT_RTOL = 1e-10         # hvp against the dense Hessian


def network_loss(X, y, hidden):
    """Mean squared error of x -> tanh(x W1 + b1) . w2 as a function of the flat weights w (n = (d + 2) h)."""
    d = X.shape[1]

    def f(w):
        W1 = hnp.reshape(w[: d * hidden], (d, hidden))
        b1 = w[d * hidden: (d + 1) * hidden]
        w2 = w[(d + 1) * hidden:]
        prediction = hnp.tanh(X @ W1 + b1) @ w2
        return hnp.mean((prediction - y) ** 2)

    return f, (d + 2) * hidden


@contextlib.contextmanager
def counting_work():
    """Count the work of every primitive applied inside the block: a deterministic stand-in for time.

    matmul counts 2 m k n (its flops); every other primitive the number of entries it produces.
    hodiff.core.work counts every application, on every path (fast paths and scalars included).
    """
    work = collections.Counter()
    with count_work() as counted:
        yield work
    work.update(counted.work())


def work_of(function):
    with counting_work() as work:
        function()
    return sum(work.values())


def median_times(functions, repeats):
    """Median wall time of each function, measured round-robin so load affects them alike."""
    times = {name: [] for name in functions}
    for function in functions.values():
        function()  # warm up (caches, first-call imports)
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def check_exactness(rows):
    """rows: dicts with n, err_modes (max over hvp modes vs dense H v), err_fd (best finite difference)."""
    failures = []
    for row in rows:
        if not row["err_modes"] <= EXACT_RTOL:
            failures.append(f"n={row['n']}: hvp differs from the dense Hessian times v by "
                            f"{row['err_modes']:.2e} (relative), more than {EXACT_RTOL:g}")
        if not row["err_fd"] < 1e-4:
            failures.append(f"n={row['n']}: finite differences of gradients disagree with hvp by "
                            f"{row['err_fd']:.2e}: one of them is wrong")
    return failures


def check_cost(work_ratios, time_ratios=None):
    """work_ratios: HVP work / gradient work per n; time_ratios (optional): median time ratios per n."""
    failures = []
    for n, ratio in work_ratios.items():
        if not ratio < WORK_RATIO_BOUND:
            failures.append(f"n={n}: an HVP does {ratio:.1f}x a gradient's work, not a small constant "
                            f"(< {WORK_RATIO_BOUND:g})")
    values = list(work_ratios.values())
    if values and max(values) > WORK_RATIO_SPREAD * min(values):
        failures.append(f"the HVP/gradient work ratio changes with n ({min(values):.2f} .. {max(values):.2f}): "
                        "an HVP should cost O(n) like the gradient")
    for n, ratio in (time_ratios or {}).items():
        if not ratio < TIME_RATIO_BOUND:
            failures.append(f"n={n}: an HVP takes {ratio:.1f}x a gradient's time (median), "
                            f"more than {TIME_RATIO_BOUND:g}x")
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small widths, few repeats, no timing check")
    parser.add_argument("--repeats", type=int, default=None, help="timing repeats per size")
    args = parser.parse_args(argv)
    widths = [4, 8, 16] if args.quick else [8, 16, 64, 256, 1024]
    repeats = args.repeats or (5 if args.quick else 21)
    dense_limit = 600  # the dense Hessian is built for n up to this

    rng = np.random.default_rng(0)
    samples, d = (256, 32) if args.quick else (1024, 32)
    X = rng.standard_normal((samples, d))
    y = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(samples)

    exact_rows, cost_rows = [], []
    for hidden in widths:
        f, n = network_loss(X, y, hidden)
        w = 0.3 * rng.standard_normal(n) / np.sqrt(d)
        v = rng.standard_normal(n)
        grad_f = hd.grad(f)
        hv = hd.hvp(f, (w,), (v,))[0]

        if n <= dense_limit:
            dense = hd.hessian(f)(w) @ v
            scale = np.linalg.norm(dense)
            modes = {mode: hd.hvp(f, (w,), (v,), mode=mode)[0] for mode in ("fwd-rev", "rev-rev", "rev-fwd")}
            err_modes = max(np.linalg.norm(value - dense) / scale for value in modes.values())
            fd = {eps: (grad_f(w + eps * v) - grad_f(w - eps * v)) / (2 * eps) for eps in (1e-3, 1e-5, 1e-7)}
            fd_err = {eps: np.linalg.norm(value - dense) / scale for eps, value in fd.items()}
            exact_rows.append(dict(n=n, err_modes=err_modes, fd=fd_err, err_fd=min(fd_err.values())))

        operator = hd.hessian_operator(f, w)
        functions = {
            "grad": lambda: grad_f(w),
            "hvp": lambda: hd.hvp(f, (w,), (v,)),
            "replay": lambda: operator.matvec(v),
        }
        work = {name: work_of(function) for name, function in functions.items()}
        if n <= dense_limit:
            work["hessian"] = work_of(lambda: hd.hessian(f)(w))
        times = median_times(functions, repeats)
        assert np.allclose(operator.matvec(v), hv, rtol=1e-10, atol=1e-12 * np.abs(hv).max())
        cost_rows.append(dict(n=n, work=work, times=times))

    print("Exactness: relative error of H v against the dense Hessian (hd.hessian(f)(w) @ v)")
    print(f"{'n':>6} {'hvp (3 modes)':>14} {'FD e=1e-3':>11} {'FD e=1e-5':>11} {'FD e=1e-7':>11}")
    for row in exact_rows:
        fd = row["fd"]
        print(f"{row['n']:>6} {row['err_modes']:>14.1e} {fd[1e-3]:>11.1e} {fd[1e-5]:>11.1e} {fd[1e-7]:>11.1e}")

    print("\nCost: work (matmul flops + entries produced) and median wall time, relative to one gradient")
    print(f"{'n':>6} {'grad work':>10} {'hvp/grad':>9} {'hess/grad':>10} "
          f"{'grad ms':>8} {'hvp/grad':>9} {'replay/grad':>12}")
    work_ratios, time_ratios = {}, {}
    for row in cost_rows:
        n, work, times = row["n"], row["work"], row["times"]
        work_ratios[n] = work["hvp"] / work["grad"]
        time_ratios[n] = times["hvp"] / times["grad"]
        hess = f"{work['hessian'] / work['grad']:>10.0f}" if "hessian" in work else f"{'-':>10}"
        print(f"{n:>6} {work['grad']:>10.3g} {work_ratios[n]:>9.2f} {hess} "
              f"{times['grad'] * 1e3:>8.2f} {time_ratios[n]:>9.2f} {times['replay'] / times['grad']:>12.2f}")
    print("(hvp: a fresh jvp of grad; replay: hd.hessian_operator's matvec, the gradient recorded once)")

    failures = check_exactness(exact_rows)
    failures += check_cost(work_ratios, None if args.quick else time_ratios)
    source = "Pearlmutter 1994, Neural Computation 6(1)"
    claim("H v against the dense Hessian", "H v exact (no finite-difference error)",
          f"relative error <= {max(row['err_modes'] for row in exact_rows):.1e} "
          f"(central differences: >= {min(min(row['fd'].values()) for row in exact_rows):.1e})", source)
    claim("cost of H v", "O(n), a small constant times one gradient",
          f"{min(work_ratios.values()):.2f}..{max(work_ratios.values()):.2f} gradients of work, n = "
          f"{min(work_ratios)}..{max(work_ratios)}"
          + ("" if args.quick else f"; {min(time_ratios.values()):.1f}..{max(time_ratios.values()):.1f}x in time"),
          source)
    if failures:
        sys.exit("pearlmutter_hvp.py: CLAIM NOT REPRODUCED\n  " + "\n  ".join(failures))
    print(f"\nReproduced: H v is exact (<= {EXACT_RTOL:g}) and costs {min(work_ratios.values()):.2f}.."
          f"{max(work_ratios.values()):.2f} gradients of work at every n"
          + ("" if args.quick else f", {min(time_ratios.values()):.1f}..{max(time_ratios.values()):.1f}x in time"))


if __name__ == "__main__":
    main()
