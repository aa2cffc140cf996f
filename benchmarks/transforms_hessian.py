"""Benchmark (not a test): the full Hessian of f(x) = sum(logaddexp(0, A x)) + 0.5 x.x with n = 200,
in each of hessian's four modes, against the analytic numpy formula A^T diag(s(1-s)) A + I.

Target: mode "fwd-rev" within 4x of the analytic formula. BLAS runs single-threaded for both sides
(on a shared machine a multi-threaded BLAS oversubscribes the cores and its timings mean nothing).
Timings are interleaved and the best of several repeats is kept.

    python benchmarks/transforms_hessian.py
"""

import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402

N = M = 200
rng = np.random.default_rng(0)
A = rng.standard_normal((M, N)) / np.sqrt(N)
X = rng.standard_normal(N)


def softplus(z):
    if "logaddexp" in hnp.__all__:
        return hnp.logaddexp(0.0, z)
    return hnp.log(1.0 + hnp.exp(z))   # until hodiff.numpy has logaddexp


def f(x):
    return hnp.sum(softplus(hnp.tensordot(A, x, axes=1))) + 0.5 * hnp.sum(x * x)


def analytic(x):
    s = 1.0 / (1.0 + np.exp(-(A @ x)))
    return (A.T * (s * (1 - s))) @ A + np.eye(N)


def timed(function, number):
    start = time.perf_counter()
    for _ in range(number):
        function()
    return (time.perf_counter() - start) / number


def main():
    expected = analytic(X)
    for mode in ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd"):
        hessian = hd.hessian(f, mode=mode)
        error = np.max(np.abs(hessian(X) - expected))
        number = 10 if mode in ("fwd-rev", "rev-rev") else 1
        ours, theirs = [], []
        for _ in range(7 if number > 1 else 2):
            theirs.append(timed(lambda: analytic(X), 20))
            ours.append(timed(lambda: hessian(X), number))
        print(f"mode {mode:8s}: {min(ours) * 1e3:8.2f} ms   analytic {min(theirs) * 1e3:.2f} ms   "
              f"ratio {min(ours) / min(theirs):6.1f}x   max error {error:.1e}")


if __name__ == "__main__":
    main()
