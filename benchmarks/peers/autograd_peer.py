"""HIPS autograd: reverse mode on plain ndarrays and floats (forward mode via make_jvp)."""

from __future__ import annotations

from . import Case

NAME = "autograd"
REQUIRES = ("autograd",)
OPTIONAL = True
ROW = "autograd"


def setup(threads: int) -> dict:
    from importlib.metadata import version

    return {"version": version("autograd")}


def w1(inputs):
    import autograd
    import autograd.numpy as anp

    def neuron(w0, x0, w1, x1, w2):
        return 1.0 / (1.0 + anp.exp(-(w0 * x0 + w1 * x1 + w2)))

    args = tuple(inputs[name] for name in ("w0", "x0", "w1", "x1", "w2"))

    def build():
        value_and_grad = autograd.value_and_grad(neuron, argnum=(0, 1, 2, 3, 4))
        return lambda: value_and_grad(*args)

    return [Case(ROW, "vg", build)]


def _w2_function():
    import autograd.numpy as anp

    def chain(x):
        y = x
        for i in range(300):
            step = i % 5
            if step == 0:
                y = anp.sin(y)
            elif step == 1:
                y = y * 1.01
            elif step == 2:
                y = y + 0.1
            elif step == 3:
                y = anp.tanh(y)
            else:
                y = y * x
        return anp.sum(y)

    return chain


def w2(inputs):
    import autograd

    x = inputs["x"]
    chain = _w2_function()

    def build_grad():
        value_and_grad = autograd.value_and_grad(chain)
        return lambda: value_and_grad(x)

    return [Case(ROW, "fwd", lambda: lambda: chain(x)),
            Case(ROW, "grad", build_grad)]


def _mlp_loss():
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp

    def loss(params, X, y):
        W1, b1, W2, b2 = params
        z = anp.dot(anp.tanh(anp.dot(X, W1) + b1), W2) + b2
        return anp.mean(logsumexp(z, axis=1) - z[anp.arange(len(y)), y])

    return loss


def w3(inputs):
    import autograd

    loss = _mlp_loss()
    params, X, y = inputs["params"], inputs["X"], inputs["y"]

    def build_grad():
        value_and_grad = autograd.value_and_grad(loss)
        return lambda: value_and_grad(params, X, y)

    return [Case(ROW, "fwd", lambda: lambda: loss(params, X, y)),
            Case(ROW, "grad", build_grad)]


def w4(inputs):
    import autograd

    loss = _mlp_loss()
    params, X, y, direction = inputs["params"], inputs["X"], inputs["y"], inputs["direction"]

    def build_grad():
        value_and_grad = autograd.value_and_grad(loss)
        return lambda: value_and_grad(params, X, y)

    def build_hvp():
        make_hvp = autograd.make_hvp(loss)  # reverse over reverse
        return lambda: make_hvp(params, X, y)[0](direction)

    return [Case(ROW, "grad", build_grad), Case(ROW, "hvp", build_hvp)]


def w5(inputs):
    import autograd
    import autograd.numpy as anp

    cases = []
    for case in ("n50", "n200"):
        A, x = inputs[case]

        def objective(x, A=A):
            return anp.sum(anp.logaddexp(0.0, anp.dot(A, x))) + 0.5 * anp.dot(x, x)

        def build(objective=objective, x=x):
            hessian = autograd.hessian(objective)
            return lambda: hessian(x)

        cases.append(Case(ROW, case, build))
    return cases


def w6(inputs):
    import autograd
    import autograd.numpy as anp

    def g(x):
        return anp.sin(x) * anp.exp(-x * x / 2)

    x = inputs["x"]
    cases = []
    for k in range(1, 9):
        def build(k=k):
            derivative = g
            for _ in range(k):
                derivative = autograd.grad(derivative)
            return lambda: derivative(x)

        cases.append(Case(ROW, f"k{k}", build))
    return cases


def w7(inputs):
    import autograd
    import autograd.numpy as anp

    cases = []
    for shape in ("wide", "tall"):
        B, x = inputs[shape]

        def f(x, B=B):
            return anp.tanh(anp.dot(B, x))

        def build_rev(f=f, x=x):
            jacobian = autograd.jacobian(f)  # one VJP per output, in a Python loop
            return lambda: jacobian(x)

        def build_fwd(f=f, x=x):
            # autograd has no jacfwd: one forward-mode JVP per input basis vector.
            basis = anp.eye(len(x))

            def jacobian_by_columns():
                jvp = autograd.make_jvp(f)(x)
                return anp.stack([jvp(direction)[1] for direction in basis], axis=1)

            return jacobian_by_columns

        cases += [Case(ROW, f"rev:{shape}", build_rev), Case(ROW, f"fwd:{shape}", build_fwd)]
    return cases


def w8(inputs):
    import autograd
    import autograd.numpy as anp

    x, steps = inputs["x"], inputs["steps"]

    def chain(x):
        y = x
        for _ in range(steps):
            y = y * 1.0000001 + 1e-7 * anp.sin(y)
        return y

    def build():
        value_and_grad = autograd.value_and_grad(chain)
        return lambda: value_and_grad(x)

    return [Case(ROW, "grad", build)]


BUILDERS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W7": w7, "W8": w8}
WORKLOADS = tuple(BUILDERS)


def cases(workload_key: str, inputs: dict) -> list[Case]:
    return BUILDERS[workload_key](inputs)
