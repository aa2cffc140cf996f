"""JAX on CPU, float64: rows "jax" (eager) and "jax+jit"; W6 adds Taylor mode (jet).

Every timed thunk ends with ``jax.block_until_ready`` (dispatch is asynchronous).
The first call of a jitted function includes tracing and compilation: it is
kept as ``first`` and excluded from the medians only.
"""

from __future__ import annotations

import os

from . import Case

NAME = "jax"
REQUIRES = ("jax", "jaxlib")
OPTIONAL = True


def setup(threads: int) -> dict:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jaxlib

    jax.config.update("jax_enable_x64", True)
    return {"version": jax.__version__, "jaxlib": jaxlib.__version__,
            "devices": [str(device) for device in jax.devices()]}


def _eager_and_jit(case, function, *args):
    """Cases "jax" and "jax+jit" for one function of prepared arguments."""
    import jax

    def build_eager():
        return lambda: jax.block_until_ready(function(*args))

    def build_jit():
        compiled = jax.jit(function)
        return lambda: jax.block_until_ready(compiled(*args))

    return [Case("jax", case, build_eager), Case("jax+jit", case, build_jit)]


def _array(value):
    import jax.numpy as jnp

    return jnp.asarray(value, dtype=jnp.float64)


def w1(inputs):
    import jax

    def neuron(w0, x0, w1, x1, w2):
        return jax.nn.sigmoid(w0 * x0 + w1 * x1 + w2)

    args = tuple(_array(inputs[name]) for name in ("w0", "x0", "w1", "x1", "w2"))
    value_and_grad = jax.value_and_grad(neuron, argnums=(0, 1, 2, 3, 4))
    return _eager_and_jit("vg", value_and_grad, *args)


def w2(inputs):
    import jax
    import jax.numpy as jnp

    x = _array(inputs["x"])

    def chain(x):
        y = x
        for i in range(300):
            step = i % 5
            if step == 0:
                y = jnp.sin(y)
            elif step == 1:
                y = y * 1.01
            elif step == 2:
                y = y + 0.1
            elif step == 3:
                y = jnp.tanh(y)
            else:
                y = y * x
        return jnp.sum(y)

    value_and_grad = jax.value_and_grad(chain)
    return [Case("jax", "fwd", lambda: lambda: jax.block_until_ready(chain(x))),
            Case("jax", "grad", lambda: lambda: jax.block_until_ready(value_and_grad(x)))]


def _mlp(inputs):
    import jax
    import jax.numpy as jnp

    X = _array(inputs["X"])
    labels = jnp.asarray(inputs["y"])
    rows = jnp.arange(len(inputs["y"]))

    def loss(params):
        W1, b1, W2, b2 = params
        z = jnp.tanh(X @ W1 + b1) @ W2 + b2
        return jnp.mean(jax.nn.logsumexp(z, axis=1) - z[rows, labels])

    params = tuple(_array(p) for p in inputs["params"])
    return loss, params


def w3(inputs):
    import jax

    loss, params = _mlp(inputs)
    return (_eager_and_jit("fwd", loss, params)
            + _eager_and_jit("grad", jax.value_and_grad(loss), params))


def w4(inputs):
    import jax

    loss, params = _mlp(inputs)
    direction = tuple(_array(v) for v in inputs["direction"])

    def hvp(params, direction):
        return jax.jvp(jax.grad(loss), (params,), (direction,))[1]

    return (_eager_and_jit("grad", jax.value_and_grad(loss), params)
            + _eager_and_jit("hvp", hvp, params, direction))


def w5(inputs):
    import jax
    import jax.numpy as jnp

    cases = []
    for case in ("n50", "n200"):
        A, x = (_array(array) for array in inputs[case])

        def objective(x, A=A):
            return jnp.sum(jnp.logaddexp(0.0, A @ x)) + 0.5 * (x @ x)

        cases += _eager_and_jit(case, jax.hessian(objective), x)
    return cases


def w6(inputs):
    import jax
    import jax.numpy as jnp
    from jax.experimental.jet import jet

    def g(x):
        return jnp.sin(x) * jnp.exp(-x * x / 2)

    x = _array(inputs["x"])
    nested, taylor_eager, taylor_jit = [], [], []
    for k in range(1, 9):
        def build_nested(k=k):
            derivative = g
            for _ in range(k):
                derivative = jax.grad(derivative)
            return lambda: jax.block_until_ready(derivative(x))

        def kth_by_jet(x, k=k):
            # jet's output terms are derivatives (not divided by j!): term k-1 is g^(k).
            _, series = jet(g, (x,), ((1.0,) + (0.0,) * (k - 1),))
            return series[k - 1]

        def build_jet_jit(kth_by_jet=kth_by_jet):
            compiled = jax.jit(kth_by_jet)
            return lambda: jax.block_until_ready(compiled(x))

        # Nested grad is eager only: jit's compile time doubles with each order.
        nested.append(Case("jax", f"k{k}", build_nested))
        taylor_eager.append(Case("jax jet", f"k{k}",
                                 lambda f=kth_by_jet: lambda: jax.block_until_ready(f(x))))
        taylor_jit.append(Case("jax jet+jit", f"k{k}", build_jet_jit))
    return nested + taylor_eager + taylor_jit


def w7(inputs):
    import jax
    import jax.numpy as jnp

    cases = []
    for shape in ("wide", "tall"):
        B, x = (_array(array) for array in inputs[shape])

        def f(x, B=B):
            return jnp.tanh(B @ x)

        cases += _eager_and_jit(f"rev:{shape}", jax.jacrev(f), x)
        cases += _eager_and_jit(f"fwd:{shape}", jax.jacfwd(f), x)
    return cases


def w8(inputs):
    import jax
    import jax.numpy as jnp

    x, steps = _array(inputs["x"]), inputs["steps"]

    def step(y):
        return y * 1.0000001 + 1e-7 * jnp.sin(y)

    def chain_by_scan(x):
        y, _ = jax.lax.scan(lambda y, _: (step(y), None), x, None, length=steps)
        return y

    def chain_by_loop(x):
        y = x
        for _ in range(steps):
            y = step(y)
        return y

    scan_grad = jax.value_and_grad(chain_by_scan)
    loop_grad = jax.value_and_grad(chain_by_loop)

    def build_scan_jit():
        compiled = jax.jit(scan_grad)
        return lambda: jax.block_until_ready(compiled(x))

    # The eager Python loop last: at ~0.1-1 ms per op it is expected to time out.
    return [Case("jax scan", "grad", lambda: lambda: jax.block_until_ready(scan_grad(x))),
            Case("jax scan+jit", "grad", build_scan_jit),
            Case("jax", "grad", lambda: lambda: jax.block_until_ready(loop_grad(x)))]


BUILDERS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W7": w7, "W8": w8}
WORKLOADS = tuple(BUILDERS)


def cases(workload_key: str, inputs: dict) -> list[Case]:
    return BUILDERS[workload_key](inputs)
