"""PyTorch CPU: rows "torch" (torch.autograd) and "torch.func" (functional transforms)."""

from __future__ import annotations

import re

from . import Case

NAME = "torch"
REQUIRES = ("torch",)
OPTIONAL = True


def setup(threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # only allowed before any inter-op work; harmless if too late
        pass
    blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    return {"version": torch.__version__, "blas": blas.group(1) if blas else "unknown",
            "num_threads": torch.get_num_threads()}


def _tensor(array, requires_grad=False):
    import torch

    return torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad)


def w1(inputs):
    import torch

    leaves = [_tensor(inputs[name], requires_grad=True)
              for name in ("w0", "x0", "w1", "x1", "w2")]
    w0, x0, w1, x1, w2 = leaves

    def value_and_grad():
        out = torch.sigmoid(w0 * x0 + w1 * x1 + w2)
        return out, torch.autograd.grad(out, leaves)

    return [Case("torch", "vg", lambda: value_and_grad)]


def w2(inputs):
    import torch

    x = _tensor(inputs["x"], requires_grad=True)

    def chain(x):
        y = x
        for i in range(300):
            step = i % 5
            if step == 0:
                y = torch.sin(y)
            elif step == 1:
                y = y * 1.01
            elif step == 2:
                y = y + 0.1
            elif step == 3:
                y = torch.tanh(y)
            else:
                y = y * x
        return torch.sum(y)

    def forward():
        with torch.no_grad():
            return chain(x)

    def value_and_grad():
        out = chain(x)
        return out, torch.autograd.grad(out, x)

    return [Case("torch", "fwd", lambda: forward),
            Case("torch", "grad", lambda: value_and_grad)]


def _mlp(inputs, requires_grad):
    """(loss(W1, b1, W2, b2), params as tensors) for W3/W4, with F.cross_entropy."""
    import torch
    import torch.nn.functional as F

    X = _tensor(inputs["X"])
    labels = torch.tensor(inputs["y"], dtype=torch.int64)

    def loss(W1, b1, W2, b2):
        z = torch.tanh(X @ W1 + b1) @ W2 + b2
        return F.cross_entropy(z, labels)

    params = tuple(_tensor(p, requires_grad=requires_grad) for p in inputs["params"])
    return loss, params


def _autograd_value_and_grad(loss, params):
    import torch

    def value_and_grad():
        out = loss(*params)
        return out, torch.autograd.grad(out, params)

    return value_and_grad


def w3(inputs):
    import torch

    loss, params = _mlp(inputs, requires_grad=True)

    def forward():
        with torch.no_grad():
            return loss(*params)

    return [Case("torch", "fwd", lambda: forward),
            Case("torch", "grad", lambda: _autograd_value_and_grad(loss, params))]


def w4(inputs):
    import torch
    import torch.func

    loss, leaf_params = _mlp(inputs, requires_grad=True)
    _, params = _mlp(inputs, requires_grad=False)
    direction = tuple(_tensor(v) for v in inputs["direction"])

    def loss_of_tuple(params):
        return loss(*params)

    def build_functional_hvp():
        return lambda: torch.autograd.functional.hvp(loss, params, direction)[1]

    def build_func_grad():
        grad_and_value = torch.func.grad_and_value(loss_of_tuple)

        def value_and_grad():
            grads, value = grad_and_value(params)
            return value, grads

        return value_and_grad

    def build_func_hvp():
        grad = torch.func.grad(loss_of_tuple)
        return lambda: torch.func.jvp(grad, (params,), (direction,))[1]

    return [Case("torch", "grad", lambda: _autograd_value_and_grad(loss, leaf_params)),
            Case("torch", "hvp", build_functional_hvp),
            Case("torch.func", "grad", build_func_grad),
            Case("torch.func", "hvp", build_func_hvp)]


def w5(inputs):
    import torch
    import torch.func

    zero = torch.zeros((), dtype=torch.float64)
    cases = []
    for case in ("n50", "n200"):
        A, x = (_tensor(array) for array in inputs[case])

        def objective(x, A=A):
            return torch.sum(torch.logaddexp(zero, A @ x)) + 0.5 * (x @ x)

        def build_func(objective=objective, x=x):
            hessian = torch.func.hessian(objective)  # jacfwd of jacrev
            return lambda: hessian(x)

        def build_functional(objective=objective, x=x):
            return lambda: torch.autograd.functional.hessian(objective, x, vectorize=True)

        cases += [Case("torch.func", case, build_func), Case("torch", case, build_functional)]
    return cases


def w6(inputs):
    import torch

    x = _tensor(inputs["x"], requires_grad=True)
    cases = []
    for k in range(1, 9):
        def kth_derivative(k=k):
            y = torch.sin(x) * torch.exp(-x * x / 2)
            for i in range(k):
                (y,) = torch.autograd.grad(y, x, create_graph=i < k - 1)
            return y

        cases.append(Case("torch", f"k{k}", lambda f=kth_derivative: f))
    return cases


def w7(inputs):
    import torch
    import torch.func

    cases = []
    for shape in ("wide", "tall"):
        B, x = (_tensor(array) for array in inputs[shape])

        def f(x, B=B):
            return torch.tanh(B @ x)

        def build(transform, f=f, x=x):
            jacobian = transform(f)
            return lambda: jacobian(x)

        cases += [Case("torch.func", f"rev:{shape}", lambda b=build: b(torch.func.jacrev)),
                  Case("torch.func", f"fwd:{shape}", lambda b=build: b(torch.func.jacfwd))]
    return cases


def w8(inputs):
    import torch

    x = _tensor(inputs["x"], requires_grad=True)
    steps = inputs["steps"]

    def value_and_grad():
        y = x
        for _ in range(steps):
            y = y * 1.0000001 + 1e-7 * torch.sin(y)
        return y, torch.autograd.grad(y, x)

    return [Case("torch", "grad", lambda: value_and_grad)]


BUILDERS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W7": w7, "W8": w8}
WORKLOADS = tuple(BUILDERS)


def cases(workload_key: str, inputs: dict) -> list[Case]:
    return BUILDERS[workload_key](inputs)
