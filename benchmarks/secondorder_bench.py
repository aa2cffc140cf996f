"""Cost of one Hessian-vector product relative to one gradient (not a test).

Model: the W3/W4-like MLP, 784-512-10 with tanh, 256 samples, mean
cross-entropy through log-sum-exp. Prints median CPU times (measured
round-robin, so load from other processes hits every entry alike) of:
- a gradient (hd.value_and_grad),
- one matvec of hd.hessian_operator (its linearization built once, outside the timing),
- building the operator (one recorded value-and-gradient),
- a fresh hvp via jvp-of-grad (forward pass redone each time), for reference,
- matmat with 16 columns, per column;
and the ratio matvec / gradient (the target is <= ~3).

Threads are pinned to 1 (set before numpy is imported) so the ratio is not
distorted by BLAS threading.

    python benchmarks/secondorder_bench.py [--quick] [--repeats N]
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                  "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402


def _matmul(a, b):
    # hnp.matmul when this hodiff has it; tensordot over one axis is the same product for 2-d arrays.
    if "matmul" in hnp.__all__:
        return hnp.matmul(a, b)
    return hnp.tensordot(a, b, axes=1)


def make_problem(inputs, hidden, classes, samples, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, inputs))
    labels = rng.integers(0, classes, samples)
    onehot = np.eye(classes)[labels]
    params = {
        "W1": rng.standard_normal((inputs, hidden)) / np.sqrt(inputs),
        "b1": np.zeros(hidden),
        "W2": rng.standard_normal((hidden, classes)) / np.sqrt(hidden),
        "b2": np.zeros(classes),
    }

    def loss(p):
        h = hnp.tanh(_matmul(X, p["W1"]) + p["b1"])
        logits = _matmul(h, p["W2"]) + p["b2"]
        # The logits of this tanh network are O(1), so log-sum-exp needs no max shift here.
        log_normalizer = hnp.log(hnp.sum(hnp.exp(logits), axis=1))
        return hnp.sum(log_normalizer - hnp.sum(onehot * logits, axis=1)) / samples

    return loss, params


def median_times(functions, repeats):
    """Median CPU time of each function, measured interleaved (round-robin) so that load from
    other processes hits all of them alike; CPU time (threads pinned to 1) is not inflated by
    waiting for a core."""
    for function in functions.values():
        function()  # warm up
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.process_time()
            function()
            times[name].append(time.process_time() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller network (196-128-10, 64 samples)")
    parser.add_argument("--repeats", type=int, default=20)
    options = parser.parse_args(argv)
    sizes = (196, 128, 10, 64) if options.quick else (784, 512, 10, 256)
    loss, params = make_problem(*sizes)
    gradient = hd.value_and_grad(loss)
    operator = hd.hessian_operator(loss, params)
    v = np.random.default_rng(1).standard_normal(operator.n)
    V = np.random.default_rng(2).standard_normal((operator.n, 16))
    v_tree = operator.unflatten(v)
    grad_of_loss = hd.grad(loss)

    medians = median_times({
        "grad": lambda: gradient(params),
        "matvec": lambda: operator.matvec(v),
        "build": lambda: hd.hessian_operator(loss, params),
        "fresh": lambda: hd.jvp(grad_of_loss, (params,), (v_tree,)),
        "matmat": lambda: operator.matmat(V),
    }, options.repeats)
    t_grad, t_matvec, t_build, t_fresh = medians["grad"], medians["matvec"], medians["build"], medians["fresh"]
    t_matmat = medians["matmat"] / V.shape[1]

    print(f"MLP {sizes[0]}-{sizes[1]}-{sizes[2]} tanh, {sizes[3]} samples, n = {operator.n} parameters; "
          f"matmul via {'hnp.matmul' if 'matmul' in hnp.__all__ else 'hnp.tensordot'}; threads pinned to 1")
    print(f"gradient (value_and_grad)          {t_grad * 1e3:9.2f} ms")
    print(f"hessian_operator build             {t_build * 1e3:9.2f} ms")
    print(f"matvec (replayed linearization)    {t_matvec * 1e3:9.2f} ms   ratio to gradient {t_matvec / t_grad:5.2f}")
    print(f"jvp of grad, from scratch          {t_fresh * 1e3:9.2f} ms   ratio to gradient {t_fresh / t_grad:5.2f}")
    print(f"matmat, 16 columns, per column     {t_matmat * 1e3:9.2f} ms   ratio to gradient {t_matmat / t_grad:5.2f}")
    return t_matvec / t_grad


if __name__ == "__main__":
    main()
