"""The Hessian spectrum of a small trained MLP: top eigenvalues, trace and spectral density.

As PyHessian does for deep networks, from Hessian-vector products only:
- the top-5 eigenvalues by Lanczos (hd.hessian_eigs),
- the trace by Hutchinson's estimator (hd.hessian_trace, with its standard error),
- the eigenvalue density by stochastic Lanczos quadrature (hd.hessian_density),
- for comparison, the top eigenvalues of the Gauss-Newton matrix (hd.ggn_operator), which
  is positive semidefinite and close to the Hessian near a minimum.

Data: scikit-learn's bundled 8x8 digits (1797 images, 10 classes; ``pip install
scikit-learn``), or generated clusters with a message when it is absent. The
density is plotted to a PNG when matplotlib is installed (``pip install
matplotlib``), and drawn as text otherwise.

    python examples/hessian_spectrum.py [--quick] [--out hessian_spectrum.png]
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # small matrices: one BLAS thread is fastest

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402


def load_data(samples):
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        print("scikit-learn is not installed (pip install scikit-learn): using generated clusters "
              "(64 features, 10 classes) instead of the digits.")
        rng = np.random.default_rng(0)
        centres = rng.standard_normal((10, 64)) * 2.0
        y = rng.integers(0, 10, 1797)
        X = centres[y] + rng.standard_normal((1797, 64)) * 2.0
        source = "generated clusters"
    else:
        X, y = load_digits(return_X_y=True)
        source = "digits (scikit-learn)"
    X, y = X[:samples], y[:samples]
    X = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-8)
    return X, np.eye(10)[y], source


def logsumexp_rows(z):
    """log sum_j exp(z_ij) per row, shifted by the row maximum (a constant to differentiation)."""
    shift = z[:, 0]
    for j in range(1, z.shape[1]):
        shift = hnp.maximum(shift, z[:, j])
    shift = hd.stop_gradient(shift)
    return shift + hnp.log(hnp.sum(hnp.exp(z - hnp.reshape(shift, (-1, 1))), axis=1))


def make_model(X, onehot, hidden, l2):
    samples = X.shape[0]

    def logits(params):
        h = hnp.tanh(X @ params["W1"] + params["b1"])
        return h @ params["W2"] + params["b2"]

    def cross_entropy(z):
        return hnp.sum(logsumexp_rows(z) - hnp.sum(onehot * z, axis=1)) / samples

    def loss(params):
        penalty = hnp.sum(params["W1"] ** 2) + hnp.sum(params["W2"] ** 2)
        return cross_entropy(logits(params)) + 0.5 * l2 * penalty

    rng = np.random.default_rng(0)
    params = {"W1": rng.standard_normal((X.shape[1], hidden)) / np.sqrt(X.shape[1]), "b1": np.zeros(hidden),
              "W2": rng.standard_normal((hidden, 10)) / np.sqrt(hidden), "b2": np.zeros(10)}
    return loss, logits, cross_entropy, params


def plot_density(density, top, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, axis = plt.subplots(figsize=(7, 4))
    axis.semilogy(density.grid, np.maximum(density.density, 1e-12), color="tab:blue", label="SLQ density")
    for k, value in enumerate(top):
        axis.axvline(value, color="tab:red", lw=0.8, ls="--", label="top-5 eigenvalues (Lanczos)" if k == 0 else None)
    axis.set_ylim(1e-6, None)
    axis.set_xlabel("eigenvalue")
    axis.set_ylabel("density (log scale)")
    axis.set_title("Hessian eigenvalue density of a trained MLP")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True


def text_density(density, rows=12, width=60):
    """A text picture of the density: the mass in each of ``rows`` eigenvalue bins, as bars (log scale)."""
    edges = np.linspace(density.grid[0], density.grid[-1], rows + 1)
    masses = []
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (density.grid >= low) & (density.grid <= high)
        masses.append(np.trapezoid(density.density[inside], density.grid[inside]))
    floor = 1e-6
    for (low, high), mass in zip(zip(edges[:-1], edges[1:]), masses):
        bar = int(round(width * max(0.0, np.log10(max(mass, floor) / floor)) / -np.log10(floor)))
        print(f"  [{low:9.3f}, {high:9.3f})  {mass:9.2e}  {'#' * bar}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Hessian spectrum of a small MLP (eigs, trace, density)")
    parser.add_argument("--quick", action="store_true", help="fewer samples, a narrower net, fewer probes")
    parser.add_argument("--out", default="hessian_spectrum.png", help="where to write the plot (PNG)")
    options = parser.parse_args(argv)
    samples, hidden = (400, 16) if options.quick else (1797, 32)
    runs, steps, probes = (4, 40, 50) if options.quick else (8, 80, 200)

    X, onehot, source = load_data(samples)
    loss, logits, cross_entropy, params = make_model(X, onehot, hidden, l2=1e-4)
    start = time.perf_counter()
    trained = hd.minimize(loss, params, method="L-BFGS-B", options={"maxiter": 100 if options.quick else 300})
    params = trained.x
    accuracy = np.mean(np.argmax(logits(params), axis=1) == np.argmax(onehot, axis=1))
    operator = hd.hessian_operator(loss, params)
    print(f"data: {source}, {samples} samples; MLP {X.shape[1]}-{hidden}-10 tanh, n = {operator.n} parameters")
    print(f"trained by L-BFGS-B: {trained.nit} iterations, loss {trained.fun:.4f}, train accuracy {accuracy:.3f} "
          f"({time.perf_counter() - start:.1f} s)")

    start = time.perf_counter()
    top = hd.hessian_eigs(operator, k=5, which="LA")
    print(f"top-5 eigenvalues      {np.array2string(top.values, precision=4)}   "
          f"({time.perf_counter() - start:.1f} s)")
    start = time.perf_counter()
    trace = hd.hessian_trace(operator, samples=probes, seed=0)
    print(f"trace (Hutchinson)     {trace.trace:.4f} +- {trace.stderr:.4f}  ({probes} Rademacher probes, "
          f"{time.perf_counter() - start:.1f} s)")
    start = time.perf_counter()
    density = hd.hessian_density(operator, runs=runs, steps=steps, seed=0)
    mean = np.trapezoid(density.grid * density.density, density.grid)
    print(f"density (SLQ)          {runs} runs x {steps} Lanczos steps; support [{density.grid[0]:.3f}, "
          f"{density.grid[-1]:.3f}]; n * mean = {operator.n * mean:.4f} (another trace estimate) "
          f"({time.perf_counter() - start:.1f} s)")
    # The bottom of the spectrum is a dense cluster near 0, slow for Lanczos to resolve one by one;
    # the SLQ Ritz values show whether it reaches below 0 (negative curvature: not quite a minimum).
    print(f"smallest Ritz value    {np.nanmin(density.nodes):.3e}  (SLQ; eigenvalues below 0 mean negative curvature)")
    ggn = hd.ggn_operator(logits, cross_entropy, params)
    ggn_top = hd.hessian_eigs(ggn, k=5, which="LA")
    print(f"Gauss-Newton top-5     {np.array2string(ggn_top.values, precision=4)}  (PSD; the Hessian without "
          "the network's curvature term)")

    if plot_density(density, top.values, options.out):
        print(f"wrote {options.out}")
    else:
        print("matplotlib is not installed (pip install matplotlib): the density as text instead")
        text_density(density)


if __name__ == "__main__":
    main()
