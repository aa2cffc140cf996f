"""Benchmark (not a test): how the full Hessian of W5's objective scales with n.

f(x) = sum(logaddexp(0, A @ x)) + 0.5 x @ x with A of shape (500, n), for n = 50, 100, 200, 400
(n = 50 and 200 are W5's own inputs; the others are drawn the same way from seed 55), against the
analytic floor A.T diag(s (1 - s)) A + I. hodiff runs ``hd.hessian(f)`` (mode "fwd-rev": the
gradient recorded once, all n tangents in one batched sweep).

One thread for BLAS, as the harness uses. Timings are CPU time of this process (a shared machine
disturbs wall time more), hodiff and the floor interleaved, the median of the repeats reported.

    python benchmarks/hessian_scaling.py [--repeats 9]
"""

import argparse
import os
import sys
import time

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from benchmarks.workloads import w5_floor_hessian, w5_inputs  # noqa: E402

SIZES = (50, 100, 200, 400)
ROWS = 500


def problem(n):
    known = w5_inputs()
    if f"n{n}" in known:
        return known[f"n{n}"]
    r = np.random.default_rng(55)
    return r.standard_normal((ROWS, n)) / np.sqrt(n), r.standard_normal(n)


def per_call(function, min_seconds=0.05):
    """CPU seconds per call, over a loop of at least ``min_seconds``."""
    calls, spent = 1, 0.0
    while True:
        start = time.process_time()
        for _ in range(calls):
            function()
        spent = time.process_time() - start
        if spent >= min_seconds:
            return spent / calls
        calls *= 2


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    print("| n | floor | hodiff fwd-rev | x floor | per Hessian column | max rel. error |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n in SIZES:
        A, x = problem(n)

        def f(x, A=A):
            return hnp.sum(hnp.logaddexp(0.0, hnp.matmul(A, x))) + 0.5 * hnp.matmul(x, x)

        hessian = hd.hessian(f)
        expected = w5_floor_hessian(A, x)
        error = np.max(np.abs(hessian(x) - expected)) / np.max(np.abs(expected))
        ours, floors = [], []
        for _ in range(args.repeats):
            floors.append(per_call(lambda: w5_floor_hessian(A, x)))
            ours.append(per_call(lambda: hessian(x)))
        ours_median, floor_median = np.median(ours), np.median(floors)
        print(f"| {n} | {floor_median * 1e3:.3f} ms | {ours_median * 1e3:.3f} ms | "
              f"{ours_median / floor_median:.2f} | {ours_median / n * 1e6:.1f} us | {error:.1e} |")


if __name__ == "__main__":
    main()
