"""Ghorbani, Krishnan & Xiao 2019: the Hessian's eigenvalue density by stochastic Lanczos quadrature.

B. Ghorbani, S. Krishnan and Y. Xiao, "An investigation into neural net
optimization via Hessian eigenvalue density", ICML 2019. (Lanczos quadrature:
G. H. Golub and G. Meurant, "Matrices, Moments and Quadrature", 1994; the
stochastic version: L. Lin, Y. Saad and C. Yang, SIAM Review 58(1), 2016.)

Claim: from Hessian-vector products alone, a few Lanczos runs of m steps
from random starting vectors estimate the whole eigenvalue density of an
n x n Hessian (m << n): each run's tridiagonal T_m gives nodes theta_j (its
eigenvalues) and weights tau_j (squared first components of its
eigenvectors), a Gauss quadrature for v^T g(H) v exact for polynomials g of
degree < 2m; averaging runs estimates (1/n) tr g(H) = the integral of g
against the spectral density. Extreme eigenvalues converge first.

What this script checks, on a small tanh MLP trained (L-BFGS) on seeded
Gaussian clusters with cross-entropy and weight decay, against the exact
spectrum (hd.hessian, then numpy.linalg.eigvalsh):
1. moments: the SLQ estimates of (1/n) tr H^j, j = 1..4, lie within 4
   standard errors of the exact values (the standard error of the runs'
   Monte Carlo average, computed exactly from the spectrum);
2. distribution: the Wasserstein-1 distance between the SLQ measure and
   the exact one is < 0.25 of the exact spectrum's mean absolute deviation
   (the distance of the best one-point guess), and the L1 distance between
   the two Gaussian-broadened densities (same width) is < 0.25;
3. extremes: the top eigenvalues by Lanczos (hd.hessian_eigs, and scipy's
   eigsh called directly on the Hessian LinearOperator) match the exact
   ones to 1e-8 of the largest, and each run's largest Ritz value matches
   it to 1e-6.

    python papers/hessian_density.py [--quick] [--png density.png]
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse.linalg  # noqa: E402
import scipy.stats  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from hodiff import nn  # noqa: E402
from papers._claims import claim  # noqa: E402

MOMENT_Z_BOUND = 4.0
W1_RATIO_BOUND = 0.25
L1_BOUND = 0.25
EIGS_RTOL = 1e-8
RITZ_RTOL = 1e-6


def problem(features, hidden, classes, samples, seed=0):
    """Seeded Gaussian clusters and the loss of a features-hidden-classes tanh MLP on its flat weights."""
    rng = np.random.default_rng(seed)
    centres = 1.5 * rng.standard_normal((classes, features))
    labels = rng.integers(0, classes, samples)
    X = centres[labels] + rng.standard_normal((samples, features))
    cuts = np.cumsum([features * hidden, hidden, hidden * classes])

    def loss(w):
        W1 = hnp.reshape(w[: cuts[0]], (features, hidden))
        W2 = hnp.reshape(w[cuts[1]: cuts[2]], (hidden, classes))
        logits = hnp.tanh(X @ W1 + w[cuts[0]: cuts[1]]) @ W2 + w[cuts[2]:]
        return nn.cross_entropy(logits, labels) + 5e-4 * hnp.sum(w * w)

    n = int(cuts[2]) + classes
    return loss, 0.5 * rng.standard_normal(n) / np.sqrt(features)


def slq_moments(density, powers):
    """Per-run SLQ estimates of (1/n) tr H^j: rows = powers, columns = runs."""
    nodes = np.nan_to_num(density.nodes)  # padded entries have weight 0
    return np.array([(density.weights * nodes ** j).sum(axis=1) for j in powers])


def compare(eigenvalues, density, top_lanczos):
    """Everything the checks need, from the exact eigenvalues (ascending), the SLQ result and eigsh's top values."""
    runs = density.nodes.shape[0]
    valid = density.weights > 0
    nodes, mass = density.nodes[valid], density.weights[valid] / runs
    powers = (1, 2, 3, 4)
    per_run = slq_moments(density, powers)
    moments = []
    for j, estimates in zip(powers, per_run):
        exact = float(np.mean(eigenvalues ** j))
        estimate = float(estimates.mean())
        # Monte Carlo error of v^T A v for v uniform on the unit sphere, A = H^j (exact, from the spectrum):
        # Var = 2 / (n + 2) (tr(A^2)/n - (tr(A)/n)^2). The sample std of a few runs underestimates it
        # (v^T H^4 v is dominated by a few outlier directions: a skewed, heavy-tailed estimator).
        variance = 2.0 / (eigenvalues.size + 2) * (np.mean(eigenvalues ** (2 * j)) - exact ** 2)
        stderr = float(np.sqrt(variance / runs))
        moments.append(dict(power=j, exact=exact, estimate=estimate, stderr=stderr))
    w1 = scipy.stats.wasserstein_distance(eigenvalues, nodes, None, mass)
    mad = float(np.mean(np.abs(eigenvalues - eigenvalues.mean())))
    sigma = density.sigma
    broadened = np.exp(-0.5 * ((density.grid[:, None] - eigenvalues[None, :]) / sigma) ** 2).sum(axis=1)
    broadened /= np.trapezoid(broadened, density.grid)
    l1 = float(np.trapezoid(np.abs(broadened - density.density), density.grid))
    largest = float(eigenvalues[-1])
    top_exact = eigenvalues[::-1][: len(top_lanczos)]
    ritz_max = np.nanmax(density.nodes, axis=1)
    return dict(moments=moments, w1=float(w1), mad=mad, l1=l1, largest=largest,
                eigs_error=float(np.max(np.abs(top_lanczos - top_exact)) / abs(largest)),
                ritz_error=float(np.max(np.abs(ritz_max - largest)) / abs(largest)),
                top_exact=top_exact, top_lanczos=np.asarray(top_lanczos), nodes=nodes, mass=mass)


def check(result):
    failures = []
    for row in result["moments"]:
        z = abs(row["estimate"] - row["exact"]) / max(row["stderr"], 1e-300)
        if not z <= MOMENT_Z_BOUND:
            failures.append(f"moment (1/n) tr H^{row['power']}: SLQ {row['estimate']:.4g} +- {row['stderr']:.2g}, "
                            f"exact {row['exact']:.4g} ({z:.1f} standard errors)")
    if not result["w1"] < W1_RATIO_BOUND * result["mad"]:
        failures.append(f"Wasserstein-1 distance {result['w1']:.3g} is not < {W1_RATIO_BOUND:g} x the spectrum's "
                        f"mean absolute deviation {result['mad']:.3g}")
    if not result["l1"] < L1_BOUND:
        failures.append(f"broadened densities differ by {result['l1']:.3f} in L1 (bound {L1_BOUND:g})")
    if not result["eigs_error"] <= EIGS_RTOL:
        failures.append(f"top eigenvalues by Lanczos (eigsh) off by {result['eigs_error']:.2e} of the largest")
    if not result["ritz_error"] <= RITZ_RTOL:
        failures.append(f"largest Ritz values of the SLQ runs off by {result['ritz_error']:.2e} of the largest "
                        "eigenvalue")
    return failures


def save_png(path, eigenvalues, density):
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(matplotlib is not installed: {path} not written; pip install matplotlib)")
        return
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.hist(eigenvalues, bins=120, density=True, alpha=0.4, label="exact eigenvalues")
    axis.semilogy(density.grid, np.maximum(density.density, 1e-8), label="SLQ density")
    axis.set_xlabel("eigenvalue")
    axis.set_ylabel("density")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 123 weights, 8 runs of 30 steps")
    parser.add_argument("--png", help="also plot the densities to this file (needs matplotlib)")
    args = parser.parse_args(argv)
    if args.quick:
        sizes, runs, steps = dict(features=6, hidden=12, classes=3, samples=150), 8, 30
    else:
        sizes, runs, steps = dict(features=24, hidden=32, classes=5, samples=400), 16, 90

    loss, w0 = problem(**sizes)
    trained = hd.minimize(loss, w0, method="L-BFGS-B", options=dict(maxiter=300))
    w = trained.x
    n = w.size

    H = hd.hessian(loss)(w)
    assert np.allclose(H, H.T, rtol=0, atol=1e-12 * np.abs(H).max()), "hd.hessian is not symmetric"
    eigenvalues = np.linalg.eigvalsh(H)

    operator = hd.hessian_operator(loss, w)
    density = hd.hessian_density(operator, runs=runs, steps=steps, seed=1)
    top = hd.hessian_eigs(operator, k=5, which="LA", return_eigenvectors=False).values
    # The operator is a scipy LinearOperator: scipy's own Lanczos (ARPACK) takes it as it is.
    start = np.random.default_rng(2).standard_normal(n)
    top_scipy = np.sort(scipy.sparse.linalg.eigsh(operator, k=5, which="LA", v0=start, return_eigenvectors=False))
    result = compare(eigenvalues, density, top)
    scipy_error = float(np.max(np.abs(top_scipy[::-1] - result["top_exact"])) / abs(result["largest"]))
    result["eigs_error"] = max(result["eigs_error"], scipy_error)

    print(f"MLP {sizes['features']}-{sizes['hidden']}-{sizes['classes']}, n = {n} weights, trained to loss "
          f"{trained.fun:.4f}; SLQ: {runs} runs x {steps} steps = {runs * steps} HVPs (dense H: n = {n} columns)")
    print("\nmoments (1/n) tr H^j")
    print(f"{'j':>3} {'exact':>12} {'SLQ':>12} {'std err':>10} {'rel err':>9}")
    for row in result["moments"]:
        relative = (row["estimate"] - row["exact"]) / row["exact"]
        print(f"{row['power']:>3} {row['exact']:>12.4e} {row['estimate']:>12.4e} {row['stderr']:>10.2e} "
              f"{relative:>+9.3f}")
    print("\nspectral distribution function: fraction of eigenvalues <= the exact q-quantile")
    print(f"{'q':>6} {'eigenvalue':>12} {'SLQ':>8}")
    for q in (0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        value = np.quantile(eigenvalues, q)
        print(f"{q:>6} {value:>12.4e} {result['mass'][result['nodes'] <= value].sum():>8.3f}")
    print(f"\nWasserstein-1: {result['w1']:.3e} ({result['w1'] / result['mad']:.3f} x the mean absolute deviation); "
          f"L1 between broadened densities (sigma {density.sigma:.2e}): {result['l1']:.3f}")
    print("top eigenvalues, exact:   " + " ".join(f"{v:.6e}" for v in result["top_exact"]))
    print("top eigenvalues, Lanczos: " + " ".join(f"{v:.6e}" for v in result["top_lanczos"])
          + f"   (hd.hessian_eigs; it and scipy's eigsh on the operator are within {result['eigs_error']:.1e} "
          "of the largest)")
    bulk = np.mean(np.abs(eigenvalues) < 0.01 * result["largest"])
    print(f"shape: {bulk:.1%} of the eigenvalues have |lambda| < 1% of the largest, "
          f"{np.sum(eigenvalues > 0.1 * result['largest'])} exceed 10% of it, "
          f"{np.sum(eigenvalues < 0)} are negative (smallest {eigenvalues[0]:.2e})")

    if args.png:
        save_png(args.png, eigenvalues, density)
    failures = check(result)
    source = "Ghorbani, Krishnan & Xiao 2019, ICML (a small tanh MLP, exact spectrum by hd.hessian)"
    claim("eigenvalue density from HVPs alone",
          "a few Lanczos runs of m << n steps estimate the whole eigenvalue density",
          f"{runs} x {steps} HVPs for n = {n}: Wasserstein-1 {result['w1'] / result['mad']:.3f} x the mean "
          f"absolute deviation, L1 {result['l1']:.3f}", source)
    worst_z = max(abs(row["estimate"] - row["exact"]) / max(row["stderr"], 1e-300) for row in result["moments"])
    claim("moments (1/n) tr H^j, j = 1..4", "SLQ estimates them (Gauss quadrature per run)",
          f"within {worst_z:.2f} standard errors", source)
    claim("top eigenvalues by Lanczos", "extreme eigenvalues converge first",
          f"within {result['eigs_error']:.1e} of the largest", source)
    if failures:
        sys.exit("hessian_density.py: CLAIM NOT REPRODUCED\n  " + "\n  ".join(failures))
    print(f"Reproduced: {runs * steps} HVPs estimate the density of the {n} x {n} Hessian (moments within "
          f"{MOMENT_Z_BOUND:g} standard errors, Wasserstein and L1 bounds met, extremes exact).")


if __name__ == "__main__":
    main()
