"""Workloads W1-W8 of BENCHMARKS.md: inputs, the hand-written numpy floor, references.

Every peer computes the same thing on the same inputs built here; results are
checked against the floor's result for the same case. The floor functions are
plain numpy/math with hand-written derivatives (sympy for W6, untimed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

# Values printed in BENCHMARKS.md; the smoke test checks the floor against them.
W1_EXPECTED = (0.7310585786, (-0.1966119332, 0.3932238665, -0.3932238665,
                              -0.5898357997, 0.1966119332))
W6_EXPECTED = {1: 0.245682975835, 2: -1.59949411364, 3: 0.430250247209,
               4: 8.08198990423, 5: -9.72383304247, 6: -54.3821798567,
               7: 132.406792226, 8: 441.848777437}
W8_EXPECTED = (0.5098867018, 1.0189289804)

W2_OPS = 300          # primitive ops in W2's chain
W6_POINT = 0.7
W6_MAX_ORDER = 12     # hodiff's extra Taylor-vs-nested table goes to k=12
W8_STEPS = 100_000


# --- W1: seed neuron ----------------------------------------------------------

def w1_inputs():
    return {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}


def w1_floor_vg(w0, x0, w1, x1, w2):
    """sigmoid(w0*x0 + w1*x1 + w2) and its gradient, staged as in the CS231n lecture."""
    dot = w0 * x0 + w1 * x1 + w2
    f = 1.0 / (1.0 + math.exp(-dot))
    ddot = (1.0 - f) * f  # sigmoid'(dot) through its output
    return f, (x0 * ddot, w0 * ddot, x1 * ddot, w1 * ddot, 1.0 * ddot)


# --- W2: per-op overhead ------------------------------------------------------

def w2_inputs():
    return {"x": np.random.default_rng(2).uniform(-1, 1, 10)}


def w2_floor_fwd(x):
    y = x
    for i in range(W2_OPS):
        step = i % 5
        if step == 0:
            y = np.sin(y)
        elif step == 1:
            y = y * 1.01
        elif step == 2:
            y = y + 0.1
        elif step == 3:
            y = np.tanh(y)
        else:
            y = y * x
    return np.sum(y)


def w2_floor_grad(x):
    """Forward storing each op's input, then the chain rule backwards by hand."""
    inputs = []
    y = x
    for i in range(W2_OPS):
        inputs.append(y)
        step = i % 5
        if step == 0:
            y = np.sin(y)
        elif step == 1:
            y = y * 1.01
        elif step == 2:
            y = y + 0.1
        elif step == 3:
            y = np.tanh(y)
        else:
            y = y * x
    value = np.sum(y)

    dy = np.ones_like(x)
    dx = np.zeros_like(x)   # from the ops that multiply by x directly
    for i in reversed(range(W2_OPS)):
        y_in = inputs[i]
        step = i % 5
        if step == 0:
            dy = dy * np.cos(y_in)
        elif step == 1:
            dy = dy * 1.01
        elif step == 3:
            t = np.tanh(y_in)
            dy = dy * (1.0 - t * t)
        elif step == 4:
            dx = dx + dy * y_in
            dy = dy * x
    return value, dx + dy


# --- W3 and W4: MLP loss, gradient, Hessian-vector product --------------------

def w3_inputs():
    r = np.random.default_rng(3)
    W1 = r.standard_normal((784, 512)) / np.sqrt(784)
    b1 = 0.1 * r.standard_normal(512)
    W2 = r.standard_normal((512, 10)) / np.sqrt(512)
    b2 = 0.1 * r.standard_normal(10)
    X = r.standard_normal((256, 784))
    y = r.integers(0, 10, 256)
    return {"params": (W1, b1, W2, b2), "X": X, "y": y}


def w4_inputs():
    inputs = w3_inputs()
    r = np.random.default_rng(4)
    inputs["direction"] = tuple(r.standard_normal(p.shape) for p in inputs["params"])
    return inputs


def _stable_logsumexp_rows(z):
    z_max = np.max(z, axis=1, keepdims=True)
    exp_shifted = np.exp(z - z_max)
    sums = np.sum(exp_shifted, axis=1)
    return z_max[:, 0] + np.log(sums), exp_shifted, sums


def w3_floor_fwd(params, X, y):
    W1, b1, W2, b2 = params
    z = np.tanh(X @ W1 + b1) @ W2 + b2
    lse, _, _ = _stable_logsumexp_rows(z)
    return np.mean(lse - z[np.arange(len(y)), y])


def w3_floor_grad(params, X, y):
    """Loss and hand-written backprop gradient w.r.t. (W1, b1, W2, b2)."""
    W1, b1, W2, b2 = params
    rows = np.arange(len(y))
    hidden = np.tanh(X @ W1 + b1)
    z = hidden @ W2 + b2
    lse, exp_shifted, sums = _stable_logsumexp_rows(z)
    loss = np.mean(lse - z[rows, y])

    dz = exp_shifted / sums[:, None]        # softmax
    dz[rows, y] -= 1.0
    dz /= len(y)
    dW2 = hidden.T @ dz
    db2 = dz.sum(axis=0)
    dpre = (dz @ W2.T) * (1.0 - hidden * hidden)
    dW1 = X.T @ dpre
    db1 = dpre.sum(axis=0)
    return loss, (dW1, db1, dW2, db2)


W4_FD_STEP = 1e-5


def w4_floor_hvp(params, direction, X, y):
    """Central difference of two hand-written gradients (an approximation: tol 1e-6)."""
    h = W4_FD_STEP
    plus = tuple(p + h * v for p, v in zip(params, direction))
    minus = tuple(p - h * v for p, v in zip(params, direction))
    _, grad_plus = w3_floor_grad(plus, X, y)
    _, grad_minus = w3_floor_grad(minus, X, y)
    return tuple((gp - gm) / (2 * h) for gp, gm in zip(grad_plus, grad_minus))


def w4_floor_hvp_exact(params, direction, X, y):
    """H V exactly: forward over reverse written out by hand (tangents of the forward
    pass, then of the backprop in w3_floor_grad). Not the W4 floor of the spec (that is
    w4_floor_hvp); it is the eager-numpy cost of an exact HVP, against which hodiff's
    hvp/grad is read: three 256x784x512 GEMMs against the gradient's two."""
    W1, b1, W2, b2 = params
    V1, c1, V2, c2 = direction
    rows = np.arange(len(y))
    hidden = np.tanh(X @ W1 + b1)
    slope = 1.0 - hidden * hidden
    hidden_t = slope * (X @ V1 + c1)
    z = hidden @ W2 + b2
    z_t = hidden_t @ W2 + hidden @ V2 + c2
    _, exp_shifted, sums = _stable_logsumexp_rows(z)
    softmax = exp_shifted / sums[:, None]
    dz = softmax.copy()
    dz[rows, y] -= 1.0
    dz /= len(y)
    dz_t = softmax * (z_t - np.sum(softmax * z_t, axis=1, keepdims=True)) / len(y)
    dW2_t = hidden_t.T @ dz + hidden.T @ dz_t
    dhidden = dz @ W2.T
    dhidden_t = dz_t @ W2.T + dz @ V2.T
    dpre_t = dhidden_t * slope - 2.0 * hidden * hidden_t * dhidden
    return X.T @ dpre_t, dpre_t.sum(axis=0), dW2_t, dz_t.sum(axis=0)


# --- W5: full Hessian ---------------------------------------------------------

def w5_inputs():
    r = np.random.default_rng(5)
    A50 = r.standard_normal((500, 50)) / np.sqrt(50)
    x50 = r.standard_normal(50)
    A200 = r.standard_normal((500, 200)) / np.sqrt(200)
    x200 = r.standard_normal(200)
    return {"n50": (A50, x50), "n200": (A200, x200)}


def w5_floor_hessian(A, x):
    """Hessian of sum(logaddexp(0, A@x)) + x@x/2: A.T diag(s(1-s)) A + I."""
    s = 1.0 / (1.0 + np.exp(-(A @ x)))
    weights = s * (1.0 - s)
    return (A.T * weights) @ A + np.eye(len(x))


# --- W6: k-th derivative ------------------------------------------------------

def w6_inputs():
    return {"x": W6_POINT}


@lru_cache(maxsize=1)
def w6_closed_forms(max_order: int = W6_MAX_ORDER):
    """d^k g/dx^k for k = 1..max_order as plain-math functions (sympy, untimed)."""
    import sympy

    x = sympy.Symbol("x")
    derivative = sympy.sin(x) * sympy.exp(-x * x / 2)
    closed_forms = {}
    for k in range(1, max_order + 1):
        derivative = sympy.diff(derivative, x)
        closed_forms[k] = sympy.lambdify(x, derivative, "math")
    return closed_forms


# --- W7: Jacobian shape -------------------------------------------------------

def w7_inputs():
    r = np.random.default_rng(7)
    wide_B = r.standard_normal((10, 1000)) / np.sqrt(1000)
    wide_x = r.standard_normal(1000)
    tall_B = r.standard_normal((1000, 10)) / np.sqrt(10)
    tall_x = r.standard_normal(10)
    return {"wide": (wide_B, wide_x), "tall": (tall_B, tall_x)}


def w7_floor_jacobian(B, x):
    """m x n Jacobian of tanh(B@x)."""
    return (1.0 - np.tanh(B @ x) ** 2)[:, None] * B


# --- W8: deep graph -----------------------------------------------------------

def w8_inputs():
    return {"x": 0.5, "steps": W8_STEPS}


def w8_floor_grad(x, steps):
    """y_{i+1} = y_i*1.0000001 + 1e-7*sin(y_i): y_N and dy_N/dx (floats, stored y_i)."""
    ys = [0.0] * steps
    y = x
    for i in range(steps):
        ys[i] = y
        y = y * 1.0000001 + 1e-7 * math.sin(y)
    derivative = 1.0
    for y_i in reversed(ys):
        derivative *= 1.0000001 + 1e-7 * math.cos(y_i)
    return y, derivative


# --- registry -----------------------------------------------------------------

def _same_case(case: str) -> str:
    return case


def _jacobian_shape(case: str) -> str:
    # "rev:wide", "fwd:wide", "auto:wide" all compare with the floor's "wide".
    return case.split(":")[-1]


@dataclass(frozen=True)
class Workload:
    key: str
    title: str
    cases: tuple[str, ...]               # the standard cases every peer may run
    tolerances: dict[str, float]         # per case; "*" is the default
    make_inputs: Callable[[], dict]
    per_unit: tuple[str, int] | None = None   # ("op", 300): also report time per op
    floor_extras: tuple[str, ...] = ()    # cases only the floor runs (reference ratios)
    floor_case: Callable[[str], str] = _same_case
    # Later cases cost more than earlier ones (W6's k): after a timeout in a
    # row, that row's later cases are skipped instead of timing out in turn.
    cases_grow: bool = False

    def tolerance(self, case: str) -> float:
        return self.tolerances.get(case, self.tolerances["*"])


WORKLOADS = {
    "W1": Workload("W1", "seed neuron value+grad", ("vg",), {"*": 1e-12}, w1_inputs),
    "W2": Workload("W2", "per-op overhead, 300 ops", ("fwd", "grad"), {"*": 1e-10},
                   w2_inputs, per_unit=("op", W2_OPS)),
    "W3": Workload("W3", "MLP loss gradient", ("fwd", "grad"), {"*": 1e-10}, w3_inputs),
    "W4": Workload("W4", "MLP Hessian-vector product", ("grad", "hvp"),
                   {"*": 1e-10, "hvp": 1e-6}, w4_inputs, floor_extras=("hvp:exact",)),
    "W5": Workload("W5", "full Hessian", ("n50", "n200"), {"*": 1e-10}, w5_inputs),
    "W6": Workload("W6", "k-th derivative of sin(x)exp(-x^2/2)",
                   tuple(f"k{k}" for k in range(1, 9)), {"*": 1e-9}, w6_inputs,
                   cases_grow=True),
    "W7": Workload("W7", "Jacobian of tanh(B@x), rev vs fwd",
                   ("rev:wide", "fwd:wide", "rev:tall", "fwd:tall"), {"*": 1e-10},
                   w7_inputs, floor_case=_jacobian_shape),
    "W8": Workload("W8", "100k-step scalar chain", ("grad",), {"*": 1e-9}, w8_inputs,
                   per_unit=("step", W8_STEPS)),
}


# --- checking -----------------------------------------------------------------

def flatten(result) -> np.ndarray:
    """All leaves of a (nested tuple/list/dict) result as one float64 vector.

    Torch tensors are detached first; jax arrays, numpy arrays and Python
    scalars go through np.asarray.
    """
    leaves = []
    pending = [result]
    while pending:
        item = pending.pop()
        if isinstance(item, (tuple, list)):
            pending.extend(reversed(item))
        elif isinstance(item, dict):
            pending.extend(item[key] for key in sorted(item, reverse=True))
        else:
            if hasattr(item, "detach"):  # torch.Tensor
                item = item.detach().cpu().numpy()
            leaves.append(np.asarray(item, dtype=np.float64).ravel())
    if not leaves:
        return np.zeros(0)
    return np.concatenate(leaves)


def relative_error(result, reference) -> float:
    """||a - ref|| / ||ref|| on the flattened results; inf when the sizes differ."""
    actual, expected = flatten(result), flatten(reference)
    if actual.shape != expected.shape:
        return math.inf
    scale = np.linalg.norm(expected)
    difference = np.linalg.norm(actual - expected)
    return float(difference / scale) if scale > 0 else float(difference)
