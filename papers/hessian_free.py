"""Martens 2010: Hessian-free optimization (Gauss-Newton products + CG) against gradient descent.

J. Martens, "Deep learning via Hessian-free optimization", ICML 2010 (the
Gauss-Newton-vector product: N. N. Schraudolph, "Fast curvature
matrix-vector products for second-order gradient descent", Neural
Computation 14(7), 2002).

Claim: a truncated-Newton method that never forms a curvature matrix -- each
step minimizes the local quadratic model q(p) = g.p + 1/2 p^T (G + lambda I) p
by conjugate gradients, where G = J^T H_loss J is the generalized Gauss-Newton
matrix (positive semidefinite, unlike the Hessian) applied by matrix-vector
products at the cost of a few gradients -- trains deep networks with
pathological curvature in far fewer iterations than gradient descent.

The method here follows the paper at small scale: G v by hd.ggn_operator
(one jvp, one loss HVP, one vjp per product), CG warm-started from 0.95 times
the previous step, stopped by the paper's relative-progress rule (k = max(10,
i/10), epsilon = 5e-4) or an iteration cap, Levenberg-Marquardt damping
(lambda x 3/2 when the reduction ratio rho < 1/4, x 2/3 when rho > 3/4), a
step taken only if it lowers the loss. Full batch; no preconditioner or
CG-backtracking.

What this script checks, training a 3-hidden-layer tanh network to fit a
random teacher network (seeded data, squared error):
1. the products are exact: G v equals J^T H_loss J v built from the dense
   Jacobian (hd.jacobian) and loss Hessian (hd.hessian) to 1e-10, and G is
   positive semidefinite while the Hessian at the start is not;
2. Hessian-free reaches the loss that gradient descent (best learning rate
   of a grid) has after its whole budget of K iterations in at most K/20
   iterations, and ends lower than it.
The work of both, in gradient-equivalents (deterministic work counts of a
G v product and of a gradient), is printed, not checked.

    python papers/hessian_free.py [--quick]
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import collections  # noqa: E402
import contextlib  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from hodiff.core.work import count_work  # noqa: E402

GGN_RTOL = 1e-10
ITERATION_FACTOR = 20   # HF must reach GD's final loss in at most K / this many iterations


class Network:
    """A tanh MLP on a flat parameter vector, fitting a random teacher network by squared error."""

    def __init__(self, samples, features, widths, outputs, seed=0):
        rng = np.random.default_rng(seed)
        self.X = rng.standard_normal((samples, features))
        teacher = [rng.standard_normal((features, 32)), rng.standard_normal((32, outputs))]
        self.Y = np.tanh(self.X @ teacher[0]) @ teacher[1]
        self.shapes = []
        previous = features
        for width in list(widths) + [outputs]:
            self.shapes += [(previous, width), (width,)]
            previous = width
        self.sizes = [int(np.prod(shape)) for shape in self.shapes]
        self.n = sum(self.sizes)
        # Glorot-like weights, zero biases.
        self.theta0 = np.concatenate([rng.standard_normal(size) / np.sqrt(shape[0]) if len(shape) == 2
                                      else np.zeros(size) for shape, size in zip(self.shapes, self.sizes)])

    def model(self, theta):
        """Outputs z of shape (samples, outputs)."""
        parts, start = [], 0
        for shape, size in zip(self.shapes, self.sizes):
            parts.append(hnp.reshape(theta[start:start + size], shape))
            start += size
        h = self.X
        for j in range(0, len(parts) - 2, 2):
            h = hnp.tanh(h @ parts[j] + parts[j + 1])
        return h @ parts[-2] + parts[-1]

    def loss_of_outputs(self, z):
        return 0.5 * hnp.sum((z - self.Y) ** 2) / self.X.shape[0]

    def loss(self, theta):
        return self.loss_of_outputs(self.model(theta))


def truncated_cg(apply, b, x0, max_iterations, epsilon=5e-4):
    """CG on A x = b from x0, stopped by Martens' relative progress of phi(x) = 1/2 x.A x - b.x."""
    x = x0.copy()
    r = b - apply(x)
    p = r.copy()
    rr = r @ r
    phis = []
    for i in range(max_iterations):
        Ap = apply(p)
        alpha = rr / (p @ Ap)
        x += alpha * p
        r -= alpha * Ap
        phis.append(0.5 * x @ (b - r) - b @ x)  # A x = b - r
        k = max(10, i // 10)
        if i >= k and phis[i] < 0 and (phis[i] - phis[i - k]) / phis[i] < k * epsilon:
            return x, i + 1
        rr, rr_old = r @ r, rr
        p = r + (rr / rr_old) * p
    return x, max_iterations


def hessian_free(net, iterations, cg_cap, damping=1.0):
    """Returns the loss before each iteration and after the last, and the G v products used up to each."""
    value_and_grad = hd.value_and_grad(net.loss)
    theta, step, losses, products = net.theta0.copy(), np.zeros(net.n), [], [0]
    for _ in range(iterations):
        value, gradient = value_and_grad(theta)
        losses.append(float(value))
        G = hd.ggn_operator(net.model, net.loss_of_outputs, theta)
        used = [0]

        def damped(v):
            used[0] += 1
            return G.matvec(v) + damping * v

        step, _ = truncated_cg(damped, -gradient, 0.95 * step, cg_cap)
        model_decrease = gradient @ step + 0.5 * step @ damped(step)
        new_value = float(net.loss(theta + step))
        rho = (new_value - value) / model_decrease
        if rho < 0.25:
            damping *= 1.5
        elif rho > 0.75:
            damping /= 1.5
        if new_value < value:
            theta = theta + step
        else:
            step = np.zeros(net.n)
        products.append(products[-1] + used[0])
    losses.append(float(net.loss(theta)))
    return np.array(losses), np.array(products)


def gradient_descent(net, iterations, learning_rate):
    value_and_grad = hd.value_and_grad(net.loss)
    theta, losses = net.theta0.copy(), []
    for _ in range(iterations):
        value, gradient = value_and_grad(theta)
        losses.append(float(value))
        if not np.isfinite(value):
            return np.array(losses + [np.inf])
        theta = theta - learning_rate * gradient
    losses.append(float(net.loss(theta)))
    return np.array(losses)


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


def ggn_checks(net, theta):
    """Relative error of G v against the dense J^T H_loss J v; smallest eigenvalues of G and of the Hessian."""
    v = np.random.default_rng(1).standard_normal(net.n)
    product = hd.ggn_vp(net.model, net.loss_of_outputs, theta, v)
    J = hd.jacobian(net.model)(theta).reshape(-1, net.n)          # (samples * outputs, n)
    z = np.asarray(net.model(theta))
    H_loss = hd.hessian(net.loss_of_outputs)(z).reshape(z.size, z.size)
    G = J.T @ H_loss @ J
    error = float(np.linalg.norm(product - G @ v) / np.linalg.norm(G @ v))
    operator_error = float(np.linalg.norm(hd.ggn_operator(net.model, net.loss_of_outputs, theta).matvec(v) - G @ v)
                           / np.linalg.norm(G @ v))
    min_ggn = float(np.linalg.eigvalsh(G)[0])
    hessian_eigenvalues = np.linalg.eigvalsh(hd.hessian(net.loss)(theta))
    return dict(error=max(error, operator_error), min_ggn=min_ggn, max_ggn=float(np.linalg.eigvalsh(G)[-1]),
                min_hessian=float(hessian_eigenvalues[0]), negative=int(np.sum(hessian_eigenvalues < 0)))


def first_below(losses, target):
    """The first iteration whose loss is <= target (None if never)."""
    hits = np.flatnonzero(losses <= target)
    return int(hits[0]) if hits.size else None


def check(ggn, hf_losses, gd_losses):
    failures = []
    if not ggn["error"] <= GGN_RTOL:
        failures.append(f"G v differs from the dense J^T H_loss J v by {ggn['error']:.2e} (relative)")
    if not ggn["min_ggn"] >= -1e-10 * abs(ggn["max_ggn"]):
        failures.append(f"the Gauss-Newton matrix has eigenvalue {ggn['min_ggn']:.3e} < 0: not PSD")
    if not ggn["min_hessian"] < 0:
        failures.append("the Hessian at the start is positive semidefinite: the example does not show why "
                        "Gauss-Newton is used")
    budget = len(gd_losses) - 1
    reached = first_below(hf_losses, gd_losses[-1])
    if reached is None or reached > budget / ITERATION_FACTOR:
        failures.append(f"Hessian-free reached gradient descent's final loss {gd_losses[-1]:.4g} "
                        f"{'never' if reached is None else f'at iteration {reached}'}; the claim needs <= "
                        f"{budget / ITERATION_FACTOR:g} ({budget} / {ITERATION_FACTOR})")
    if not hf_losses[-1] < gd_losses[-1]:
        failures.append(f"Hessian-free ended at {hf_losses[-1]:.4g}, not below gradient descent's {gd_losses[-1]:.4g}")
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller network and budgets")
    args = parser.parse_args(argv)
    if args.quick:
        net = Network(samples=96, features=6, widths=(8, 8, 8), outputs=3)
        hf_iterations, cg_cap, gd_iterations, rates = 12, 30, 400, (0.03, 0.1, 0.3)
    else:
        net = Network(samples=256, features=8, widths=(12, 12, 12), outputs=4)
        hf_iterations, cg_cap, gd_iterations, rates = 40, 50, 2000, (0.03, 0.1, 0.3)

    ggn = ggn_checks(net, net.theta0)
    hf_losses, products = hessian_free(net, hf_iterations, cg_cap)
    gd_runs = {rate: gradient_descent(net, gd_iterations, rate) for rate in rates}
    best_rate = min(gd_runs, key=lambda rate: gd_runs[rate][-1] if np.isfinite(gd_runs[rate][-1]) else np.inf)
    gd_losses = gd_runs[best_rate]

    with counting_work() as grad_work:
        hd.value_and_grad(net.loss)(net.theta0)
    with counting_work() as build_work:
        G = hd.ggn_operator(net.model, net.loss_of_outputs, net.theta0)
    with counting_work() as product_work:
        G.matvec(net.theta0)
    product_cost = sum(product_work.values()) / sum(grad_work.values())  # one G v in gradients
    # Per HF iteration besides the products: a gradient, a loss evaluation (<= a gradient) and recording G.
    iteration_cost = 2 + sum(build_work.values()) / sum(grad_work.values())

    print(f"tanh network {net.X.shape[1]}-{'-'.join(str(s[0]) for s in net.shapes[2::2])}-{net.Y.shape[1]}, "
          f"n = {net.n} weights, {net.X.shape[0]} samples, fitting a random teacher (squared error)")
    print(f"G v against dense J^T H_loss J v: {ggn['error']:.1e}; smallest eigenvalue of G {ggn['min_ggn']:.2e}, "
          f"of the Hessian {ggn['min_hessian']:.2e} ({ggn['negative']} negative) at the start")
    print(f"\n{'iteration':>9} {'Hessian-free':>13} " + " ".join(f"{'GD lr=' + str(r):>11}" for r in rates))
    marks = sorted({0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, hf_iterations, gd_iterations})
    for k in marks:
        if k > gd_iterations:
            continue
        hf = f"{hf_losses[k]:>13.4f}" if k < len(hf_losses) else f"{'':>13}"
        print(f"{k:>9} {hf} " + " ".join(f"{gd_runs[r][k]:>11.4f}" if k < len(gd_runs[r]) else f"{'diverged':>11}"
                                         for r in rates))
    reached = first_below(hf_losses, gd_losses[-1])
    print(f"\nGD's best (lr={best_rate}) after {gd_iterations} iterations: {gd_losses[-1]:.4f}; "
          f"Hessian-free reaches it at iteration {reached}, ends at {hf_losses[-1]:.4f} after {hf_iterations}")
    hf_work = iteration_cost * hf_iterations + products[-1] * product_cost
    print(f"work in gradient-equivalents (one G v = {product_cost:.2f} gradients, the rest of an iteration "
          f"{iteration_cost:.2f}): Hessian-free {hf_work:.0f} "
          f"({products[-1]} G v products), gradient descent {gd_iterations}")
    if reached is not None:
        to_target = iteration_cost * reached + products[reached] * product_cost
        print(f"to reach GD's final loss: Hessian-free {to_target:.0f} "
              f"gradient-equivalents, gradient descent {first_below(gd_losses, gd_losses[-1])}")

    failures = check(ggn, hf_losses, gd_losses)
    if failures:
        sys.exit("hessian_free.py: CLAIM NOT REPRODUCED\n  " + "\n  ".join(failures))
    print(f"Reproduced: Gauss-Newton products are exact and PSD; Hessian-free needs {reached} iterations for what "
          f"gradient descent reaches in {gd_iterations}.")


if __name__ == "__main__":
    main()
