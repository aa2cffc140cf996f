"""Benchmark (not a test): the cost of forward mode on an MLP (issue 3's speed figures).

The MLP of W3 (784-512-10 tanh, 256 samples, mean cross-entropy). Reported, as
ratios of medians measured in this one process with BLAS on one thread:

- jvp / numpy: one forward-mode pass (loss and its directional derivative along
  a random direction in all parameters) against the plain numpy loss;
  target <= 3x.
- batched / single: one pass with B = 64 tangents stacked on a leading axis
  (``hd.vmap`` over ``hd.jvp``: no Python loop over directions), against 64
  single-direction passes. Directions are taken in W2 and b2 (the output
  layer: 5130 parameters), so the batch multiplies the small matmuls and the
  primal computation is shared.

    python benchmarks/forward_mode.py [--quick]
"""

import argparse
import os
import statistics
import sys
import time

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from hodiff.nn import logsumexp  # noqa: E402


def make_problem(samples=256):
    r = np.random.default_rng(3)
    params = (r.standard_normal((784, 512)) / np.sqrt(784), 0.1 * r.standard_normal(512),
              r.standard_normal((512, 10)) / np.sqrt(512), 0.1 * r.standard_normal(10))
    inputs = r.standard_normal((samples, 784))
    labels = r.integers(0, 10, samples)
    return params, inputs, labels


def loss(params, inputs, labels):
    w1, b1, w2, b2 = params
    z = hnp.tanh(inputs @ w1 + b1) @ w2 + b2
    return hnp.mean(logsumexp(z, axis=1) - z[np.arange(len(labels)), labels])


def numpy_loss(params, inputs, labels):
    w1, b1, w2, b2 = params
    z = np.tanh(inputs @ w1 + b1) @ w2 + b2
    top = z.max(axis=1)
    lse = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    return np.mean(lse - z[np.arange(len(labels)), labels])


def median_time(function, repeats):
    function()  # warm
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples and repeats")
    args = parser.parse_args(argv)
    samples, repeats, batch = (64, 5, 16) if args.quick else (256, 11, 64)
    params, inputs, labels = make_problem(samples)
    rng = np.random.default_rng(4)
    direction = tuple(rng.standard_normal(p.shape) for p in params)

    jvp_pass = lambda: hd.jvp(lambda *p: loss(p, inputs, labels), params, direction)
    numpy_pass = lambda: numpy_loss(params, inputs, labels)
    value, tangent = jvp_pass()
    assert abs(value - numpy_pass()) < 1e-10

    w1, b1, w2, b2 = params
    directions_w2 = rng.standard_normal((batch,) + w2.shape)
    directions_b2 = rng.standard_normal((batch,) + b2.shape)
    last_layer = lambda w2_, b2_: loss((w1, b1, w2_, b2_), inputs, labels)
    batched_pass = lambda: hd.vmap(lambda tw, tb: hd.jvp(last_layer, (w2, b2), (tw, tb))[1])(
        directions_w2, directions_b2)
    single_passes = lambda: [hd.jvp(last_layer, (w2, b2), (directions_w2[k], directions_b2[k]))[1]
                             for k in range(batch)]
    np.testing.assert_allclose(batched_pass(), single_passes(), rtol=1e-9, atol=1e-12)

    t_numpy = median_time(numpy_pass, repeats)
    t_jvp = median_time(jvp_pass, repeats)
    t_batched = median_time(batched_pass, max(3, repeats // 2))
    t_singles = median_time(single_passes, max(3, repeats // 4))
    print(f"MLP {samples}x784 -> 512 -> 10, BLAS threads 1, medians")
    print(f"numpy loss                 {t_numpy * 1e3:8.2f} ms")
    print(f"hd.jvp (all parameters)    {t_jvp * 1e3:8.2f} ms   jvp/numpy = {t_jvp / t_numpy:.2f}  (target <= 3)")
    print(f"batched jvp, B={batch:<3}        {t_batched * 1e3:8.2f} ms")
    print(f"{batch} single jvps            {t_singles * 1e3:8.2f} ms   batched/singles = {t_batched / t_singles:.3f}")


if __name__ == "__main__":
    main()
