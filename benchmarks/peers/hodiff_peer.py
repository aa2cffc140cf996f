"""hodiff, through its public API only (API.md).

Calls made, all on float64 numpy arrays or Python floats:
    hd.value_and_grad(f)(x) and hd.value_and_grad(f, argnums=(0, 1, 2, 3, 4))(*floats)
        with x an ndarray, a float, or a tuple of 4 ndarrays (a pytree)
    hd.hvp(loss, (params,), (direction,))       params, direction: tuples of 4 arrays
    hd.hessian(f)(x)                            default mode
    hd.jacobian(f, mode="rev" | "fwd" | "auto")(x)
    hd.derivative(g, order=k, mode="taylor" | "nested")(0.7)   for k = 1..12
    hd.nn.sigmoid (W1); hodiff.numpy: sin, tanh, exp, logaddexp, matmul, sum, mean; arithmetic
        operators; fancy indexing z[rows, labels] of a traced (256, 10) array
        by two int64 arrays
    logsumexp(z, axis=1) from hodiff.scipy.special (hodiff.nn as a fallback)
hodiff.numpy functions are also called on plain ndarrays with no transform
active (the "fwd" cases of W2 and W3): they must return ndarrays.

Every hodiff access happens inside a case's ``build`` (untimed), so a missing
module or function is reported as that case's "error: ..." and the other
cases still run.
"""

from __future__ import annotations

import numpy as np

from . import Case

NAME = "hodiff"
REQUIRES = ()      # never skipped: a missing hodiff is reported as an error
OPTIONAL = False
ROW = "hodiff"
W6_MAX_ORDER = 12  # hodiff's Taylor-vs-nested table goes beyond the peers' k=8


def setup(threads: int) -> dict:
    import hodiff

    return {"version": getattr(hodiff, "__version__", "unknown"), "path": hodiff.__file__}


def _api():
    import hodiff as hd
    import hodiff.numpy as hnp

    return hd, hnp


def w1(inputs):
    args = tuple(inputs[name] for name in ("w0", "x0", "w1", "x1", "w2"))

    def build():
        hd, hnp = _api()

        def neuron(w0, x0, w1, x1, w2):  # the logistic sigmoid as one op, as torch.sigmoid and jax.nn.sigmoid
            return hd.nn.sigmoid(w0 * x0 + w1 * x1 + w2)

        value_and_grad = hd.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4))
        return lambda: value_and_grad(*args)

    return [Case(ROW, "vg", build)]


def _w2_chain():
    _, hnp = _api()

    def chain(x):
        y = x
        for i in range(300):
            step = i % 5
            if step == 0:
                y = hnp.sin(y)
            elif step == 1:
                y = y * 1.01
            elif step == 2:
                y = y + 0.1
            elif step == 3:
                y = hnp.tanh(y)
            else:
                y = y * x
        return hnp.sum(y)

    return chain


def w2(inputs):
    x = inputs["x"]

    def build_fwd():
        chain = _w2_chain()  # on a plain ndarray: hodiff's dispatch cost only
        return lambda: chain(x)

    def build_grad():
        hd, _ = _api()
        value_and_grad = hd.value_and_grad(_w2_chain())
        return lambda: value_and_grad(x)

    return [Case(ROW, "fwd", build_fwd), Case(ROW, "grad", build_grad)]


def _mlp_loss(inputs):
    _, hnp = _api()
    try:
        from hodiff.scipy.special import logsumexp
    except ImportError as special_error:
        try:
            from hodiff.nn import logsumexp
        except ImportError as nn_error:
            raise ImportError(f"no logsumexp: hodiff.scipy.special ({special_error}); "
                              f"hodiff.nn ({nn_error})") from None
    X, labels = inputs["X"], inputs["y"]
    rows = np.arange(len(labels))

    def loss(params):
        W1, b1, W2, b2 = params
        z = hnp.matmul(hnp.tanh(hnp.matmul(X, W1) + b1), W2) + b2
        return hnp.mean(logsumexp(z, axis=1) - z[rows, labels])

    return loss


def _mlp_value_and_grad(inputs):
    hd, _ = _api()
    value_and_grad = hd.value_and_grad(_mlp_loss(inputs))
    params = inputs["params"]
    return lambda: value_and_grad(params)


def w3(inputs):
    def build_fwd():
        loss = _mlp_loss(inputs)
        return lambda: loss(inputs["params"])

    return [Case(ROW, "fwd", build_fwd),
            Case(ROW, "grad", lambda: _mlp_value_and_grad(inputs))]


def w4(inputs):
    params, direction = inputs["params"], inputs["direction"]

    def build_hvp():
        hd, _ = _api()
        loss = _mlp_loss(inputs)
        # One entry per primal: (H.V as a 4-tuple,); the check flattens it.
        return lambda: hd.hvp(loss, (params,), (direction,))

    return [Case(ROW, "grad", lambda: _mlp_value_and_grad(inputs)),
            Case(ROW, "hvp", build_hvp)]


def w5(inputs):
    def build(A, x):
        hd, hnp = _api()

        def objective(x):
            return hnp.sum(hnp.logaddexp(0.0, hnp.matmul(A, x))) + 0.5 * hnp.matmul(x, x)

        hessian = hd.hessian(objective)
        return lambda: hessian(x)

    return [Case(ROW, case, lambda case=case: build(*inputs[case])) for case in ("n50", "n200")]


def w6(inputs):
    x = inputs["x"]

    def build(k, mode):
        hd, hnp = _api()

        def g(x):
            return hnp.sin(x) * hnp.exp(-x * x / 2)

        derivative = hd.derivative(g, order=k, mode=mode)
        return lambda: derivative(x)

    return [Case(f"hodiff {mode}", f"k{k}", lambda k=k, mode=mode: build(k, mode))
            for mode in ("taylor", "nested") for k in range(1, W6_MAX_ORDER + 1)]


def w7(inputs):
    def build(mode, B, x):
        hd, hnp = _api()

        def f(x):
            return hnp.tanh(hnp.matmul(B, x))

        jacobian = hd.jacobian(f, mode=mode)
        return lambda: jacobian(x)

    return [Case(ROW, f"{mode}:{shape}",
                 lambda mode=mode, shape=shape: build(mode, *inputs[shape]))
            for shape in ("wide", "tall") for mode in ("rev", "fwd", "auto")]


def w8(inputs):
    x, steps = inputs["x"], inputs["steps"]

    def build():
        hd, hnp = _api()

        def chain(x):
            y = x
            for _ in range(steps):
                y = y * 1.0000001 + 1e-7 * hnp.sin(y)
            return y

        value_and_grad = hd.value_and_grad(chain)
        return lambda: value_and_grad(x)

    return [Case(ROW, "grad", build)]


BUILDERS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W7": w7, "W8": w8}
WORKLOADS = tuple(BUILDERS)


def cases(workload_key: str, inputs: dict) -> list[Case]:
    return BUILDERS[workload_key](inputs)
