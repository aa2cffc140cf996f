"""Logistic regression by Newton-type methods with exact Hessian-vector products.

Data: scikit-learn's bundled Wisconsin breast-cancer set (569 samples, 30
features; ``pip install scikit-learn``). Without scikit-learn the script says
so and uses a generated problem of the same shape instead.

Model: p(y=1 | x) = sigmoid(x . w + b), loss = mean log-loss + (l2/2) |w|^2,
parameters as a pytree {"w": (30,), "b": ()}. hd.minimize hands scipy the
exact gradient and, for Newton-CG / trust-krylov / trust-ncg, exact
Hessian-vector products (each point's gradient is recorded once and every
product replays it); trust-exact gets the dense Hessian. They are compared
with L-BFGS-B, which sees gradients only, in iterations, evaluations and time.

    python examples/hvp_newton.py [--quick] [--l2 1e-3]
"""

import os

# Small problems time best on one BLAS thread (and fairly, when other work shares the machine).
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402


def load_data(quick):
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError:
        print("scikit-learn is not installed (pip install scikit-learn): using generated data "
              "of the same shape (569 x 30) instead of the breast-cancer set.")
        rng = np.random.default_rng(0)
        X = rng.standard_normal((569, 30)) @ rng.standard_normal((30, 30)) * 0.3
        y = (X @ rng.standard_normal(30) + rng.standard_normal(569) > 0).astype(float)
        source = "generated"
    else:
        X, y = load_breast_cancer(return_X_y=True)
        y = y.astype(float)
        source = "breast cancer (scikit-learn)"
    if quick:
        X, y = X[::3], y[::3]
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # standardized features: a well-scaled problem
    return X, y, source


def make_loss(X, y, l2):
    samples = X.shape[0]

    def loss(params):
        z = X @ params["w"] + params["b"]
        # log(1 + e^z) - y z: the log-loss of sigmoid(z), stable for any z through logaddexp.
        log_loss = hnp.logaddexp(0.0, z) - y * z
        return hnp.sum(log_loss) / samples + 0.5 * l2 * hnp.sum(params["w"] ** 2)

    return loss


def accuracy(params, X, y):
    return float(np.mean(((X @ params["w"] + params["b"]) > 0) == (y > 0.5)))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Newton-CG / trust-krylov with exact HVPs vs L-BFGS")
    parser.add_argument("--quick", action="store_true", help="a third of the samples, fewer methods")
    parser.add_argument("--l2", type=float, default=1e-3, help="L2 penalty on the weights")
    options = parser.parse_args(argv)

    X, y, source = load_data(options.quick)
    loss = make_loss(X, y, options.l2)
    x0 = {"w": np.zeros(X.shape[1]), "b": np.array(0.0)}
    print(f"data: {source}, {X.shape[0]} samples x {X.shape[1]} features; l2 = {options.l2}")

    methods = ["trust-krylov", "Newton-CG", "L-BFGS-B"] if options.quick else \
        ["trust-krylov", "trust-ncg", "Newton-CG", "trust-exact", "L-BFGS-B", "BFGS"]
    reference = hd.minimize(loss, x0, method="trust-exact", options={"gtol": 1e-12})
    print(f"{'method':<14}{'iterations':>11}{'f evals':>9}{'H products':>12}{'time [s]':>10}"
          f"{'loss':>14}{'|grad|':>10}{'|x - x*|':>10}{'accuracy':>10}")
    iterations = {}
    for method in methods:
        start = time.perf_counter()
        # tol 1e-7: tighter, scipy's trust-krylov (trlib) can break down on the last step.
        result = hd.minimize(loss, x0, method=method, tol=1e-7, options={"maxiter": 1000})
        elapsed = time.perf_counter() - start
        gradient = hd.grad(loss)(result.x)
        gradient_norm = np.sqrt(sum(np.sum(g ** 2) for g in gradient.values()))
        distance = np.linalg.norm(result.x_flat - reference.x_flat)
        iterations[method] = result.nit
        hessian_products = result.get("nhev", 0)
        if method == "trust-exact":
            hessian_products = f"{result.nhev}xH"  # dense Hessians, each from n batched HVPs
        print(f"{method:<14}{result.nit:>11}{result.nfev:>9}{hessian_products!s:>12}{elapsed:>10.3f}"
              f"{result.fun:>14.10f}{gradient_norm:>10.1e}{distance:>10.1e}{accuracy(result.x, X, y):>10.3f}")
    newton = min(iterations[m] for m in methods if m not in ("L-BFGS-B", "BFGS"))
    print(f"Newton-type methods with exact H v: {newton} iterations at best; L-BFGS-B (gradients only): "
          f"{iterations['L-BFGS-B']} iterations to a looser optimum (|x - x*| above).")


if __name__ == "__main__":
    main()
