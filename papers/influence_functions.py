"""Koh & Liang 2017: influence functions predict leave-one-out retraining, from Hessian-vector products.

P. W. Koh and P. Liang, "Understanding black-box predictions via influence
functions", ICML 2017 (after R. D. Cook and S. Weisberg, "Residuals and
Influence in Regression", 1982).

Claim: for a model trained by minimizing R(theta) = (1/N) sum_i L(z_i, theta)
+ (lambda/2) |theta|^2, removing training point z changes the loss at a test
point by approximately

    L(z_test, theta_-z) - L(z_test, theta) ~ (1/N) grad L(z_test)^T H^-1 grad L(z)

(H the Hessian of R at the optimum), so one solve s_test = H^-1 grad L(z_test)
(conjugate gradients on Hessian-vector products, never forming H) and one
gradient per training point predict what N retrainings would measure. For
L2-regularized logistic regression the paper's Figure 2 shows the
prediction matching actual leave-one-out retraining closely.

What this script checks, on seeded logistic-regression data, for the test
points with the highest loss:
1. s_test by scipy.sparse.linalg.cg on hd.hessian_operator agrees with a
   dense solve with hd.hessian to 1e-8;
2. for every training point, predicted change (from s_test and per-example
   gradients by hd.vmap(hd.grad(...))) against actual change after exact
   retraining without it (Newton's method to machine precision, the removed
   point weighted 0 so the 1/N normalization stays as in the derivation):
   Pearson correlation >= 0.98 and least-squares slope actual/predicted in
   [0.8, 1.25] (here the first-order prediction comes out ~10% low).

    python papers/influence_functions.py [--quick]
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse.linalg  # noqa: E402
import scipy.stats  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from hodiff import nn  # noqa: E402
from papers._claims import claim  # noqa: E402

SOLVE_RTOL = 1e-8
PEARSON_BOUND = 0.98
SLOPE_RANGE = (0.8, 1.25)
L2 = 1e-2


def make_data(train, test, features, seed=0):
    """Labels +-1 drawn from a logistic model with random true weights (seeded)."""
    rng = np.random.default_rng(seed)
    w_true = rng.standard_normal(features)
    X = rng.standard_normal((train + test, features))
    y = np.where(rng.random(train + test) < 1.0 / (1.0 + np.exp(-X @ w_true)), 1.0, -1.0)
    return X[:train], y[:train], X[train:], y[train:]


def point_loss(theta, x, label):
    """Logistic loss log(1 + exp(-y x.theta)) of one example."""
    return nn.softplus(-label * (x @ theta))


def make_objective(X, y):
    """R(theta, weights) = (1/N) sum_i weights_i L(z_i, theta) + (L2/2) |theta|^2 (weights 1, or 0 to drop z_i)."""
    count = len(y)

    def objective(theta, weights):
        return hnp.sum(weights * nn.softplus(-y * (X @ theta))) / count + 0.5 * L2 * hnp.sum(theta * theta)

    return objective


def fit(objective, weights, theta, max_steps=50):
    """Newton's method to machine precision (the objective is strongly convex)."""
    gradient, hessian = hd.grad(objective), hd.hessian(objective)
    for _ in range(max_steps):
        step = np.linalg.solve(hessian(theta, weights), gradient(theta, weights))
        theta = theta - step
        if np.max(np.abs(step)) <= 1e-15 * max(1.0, np.max(np.abs(theta))):
            return theta
    raise RuntimeError("Newton's method did not converge")


def agreement(predicted, actual):
    return dict(pearson=float(scipy.stats.pearsonr(predicted, actual)[0]),
                spearman=float(scipy.stats.spearmanr(predicted, actual)[0]),
                slope=float(np.dot(predicted, actual) / np.dot(predicted, predicted)))


def check(solve_error, agreements):
    """solve_error: relative CG-vs-dense error; agreements: {test index: agreement(...)}."""
    failures = []
    if not solve_error <= SOLVE_RTOL:
        failures.append(f"CG on the Hessian operator and a dense solve differ by {solve_error:.2e} (relative)")
    for index, stats in agreements.items():
        if not stats["pearson"] >= PEARSON_BOUND:
            failures.append(f"test point {index}: Pearson correlation {stats['pearson']:.3f} < {PEARSON_BOUND} "
                            "between predicted and actual leave-one-out changes")
        if not SLOPE_RANGE[0] <= stats["slope"] <= SLOPE_RANGE[1]:
            failures.append(f"test point {index}: actual/predicted slope {stats['slope']:.3f} outside {SLOPE_RANGE}")
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 training points, 5 features, 2 test points")
    args = parser.parse_args(argv)
    train, features, test_points = (60, 5, 2) if args.quick else (300, 20, 3)

    X, y, X_test, y_test = make_data(train, 50, features)
    objective = make_objective(X, y)
    ones = np.ones(train)
    theta = fit(objective, ones, np.zeros(features))

    test_losses = hd.vmap(point_loss, in_axes=(None, 0, 0))(theta, X_test, y_test)
    chosen = [int(i) for i in np.argsort(-test_losses)[:test_points]]  # the worst-predicted test points

    start = time.perf_counter()
    operator = hd.hessian_operator(objective, theta, args=(ones,))
    per_example = hd.vmap(hd.grad(point_loss), in_axes=(None, 0, 0))(theta, X, y)  # (N, d)
    predicted, iterations, solve_error = {}, {}, 0.0
    H = hd.hessian(objective)(theta, ones)
    for index in chosen:
        g_test = hd.grad(point_loss)(theta, X_test[index], y_test[index])
        steps = []
        s_test, info = scipy.sparse.linalg.cg(operator, g_test, rtol=1e-12, atol=0.0,
                                              callback=lambda _: steps.append(1))
        if info != 0:
            sys.exit(f"influence_functions.py: CG did not converge (info={info})")
        iterations[index] = len(steps)
        dense = np.linalg.solve(H, g_test)
        solve_error = max(solve_error, float(np.linalg.norm(s_test - dense) / np.linalg.norm(dense)))
        predicted[index] = per_example @ s_test / train
    influence_seconds = time.perf_counter() - start

    start = time.perf_counter()
    base = {index: float(point_loss(theta, X_test[index], y_test[index])) for index in chosen}
    actual = {index: np.empty(train) for index in chosen}
    for i in range(train):
        weights = ones.copy()
        weights[i] = 0.0
        theta_without = fit(objective, weights, theta)
        for index in chosen:
            actual[index][i] = float(point_loss(theta_without, X_test[index], y_test[index])) - base[index]
    retrain_seconds = time.perf_counter() - start

    agreements = {index: agreement(predicted[index], actual[index]) for index in chosen}
    print(f"Logistic regression, N = {train} training points, d = {features}, L2 = {L2}; "
          f"test points with the highest loss: {chosen}")
    first = chosen[0]
    print(f"\nTest point {first} (loss {base[first]:.3f}): the 10 training points of largest predicted influence")
    print(f"{'train i':>8} {'label':>6} {'predicted dL':>13} {'actual dL':>12}")
    for i in np.argsort(-np.abs(predicted[first]))[:10]:
        print(f"{i:>8} {y[i]:>+6.0f} {predicted[first][i]:>+13.5f} {actual[first][i]:>+12.5f}")
    print(f"\n{'test':>5} {'CG its':>7} {'Pearson':>8} {'Spearman':>9} {'slope':>6}")
    for index in chosen:
        stats = agreements[index]
        print(f"{index:>5} {iterations[index]:>7} {stats['pearson']:>8.4f} {stats['spearman']:>9.4f} "
              f"{stats['slope']:>6.3f}")
    print(f"CG vs dense solve: {solve_error:.1e}; influence for all points: {influence_seconds:.2f} s, "
          f"{train} exact retrainings: {retrain_seconds:.2f} s")

    failures = check(solve_error, agreements)
    pearson = [agreements[index]["pearson"] for index in chosen]
    slopes = [agreements[index]["slope"] for index in chosen]
    claim("predicted against actual leave-one-out change in test loss",
          "the prediction matches actual leave-one-out retraining closely (Figure 2, L2 logistic regression)",
          f"Pearson {min(pearson):.4f}..{max(pearson):.4f}, slope actual/predicted {min(slopes):.3f}..{max(slopes):.3f}"
          f" ({len(chosen)} test points, N = {train})", "Koh & Liang 2017, ICML, Figure 2")
    if failures:
        sys.exit("influence_functions.py: CLAIM NOT REPRODUCED\n  " + "\n  ".join(failures))
    print(f"Reproduced: influence functions predict leave-one-out changes (Pearson >= {PEARSON_BOUND}).")


if __name__ == "__main__":
    main()
