"""micrograd: scalar reverse mode (W1, W2, W8 only; it has no higher order).

micrograd has no exp, sin or tanh, so each is added as one node through its
``Value(data, children)`` constructor and a ``_backward`` closure, the way its
own ops are written. Leaf Values are created inside the timed call because
micrograd accumulates ``.grad`` in place.
"""

from __future__ import annotations

import math
import sys

from . import Case

NAME = "micrograd"
REQUIRES = ("micrograd",)
OPTIONAL = True

Value = None  # micrograd.engine.Value, bound by setup() (an import inside the
              # timed helpers would add its own cost to every node)


def setup(threads: int) -> dict:
    global Value
    from importlib.metadata import version

    from micrograd.engine import Value

    return {"version": version("micrograd")}


def _unary(value, result: float, derivative: float):
    """A micrograd node for an elementwise function with a known derivative."""
    out = Value(result, (value,))

    def _backward():
        value.grad += derivative * out.grad

    out._backward = _backward
    return out


def _sigmoid(v):
    s = 1.0 / (1.0 + math.exp(-v.data))
    return _unary(v, s, s * (1.0 - s))


def _sin(v):
    return _unary(v, math.sin(v.data), math.cos(v.data))


def _tanh(v):
    t = math.tanh(v.data)
    return _unary(v, t, 1.0 - t * t)


def w1(inputs):
    values = [inputs[name] for name in ("w0", "x0", "w1", "x1", "w2")]

    def value_and_grad():
        w0, x0, w1, x1, w2 = leaves = [Value(v) for v in values]
        out = _sigmoid(w0 * x0 + w1 * x1 + w2)
        out.backward()
        return out.data, [leaf.grad for leaf in leaves]

    return [Case("micrograd", "vg", lambda: value_and_grad)]


def _w2_graph(x_values):
    """W2 as 10 independent scalar chains plus a sum (3000 scalar nodes)."""
    leaves = [Value(v) for v in x_values]
    outputs = []
    for x in leaves:
        y = x
        for i in range(300):
            step = i % 5
            if step == 0:
                y = _sin(y)
            elif step == 1:
                y = y * 1.01
            elif step == 2:
                y = y + 0.1
            elif step == 3:
                y = _tanh(y)
            else:
                y = y * x
        outputs.append(y)
    return leaves, sum(outputs)


def w2(inputs):
    x_values = [float(v) for v in inputs["x"]]

    def forward():  # micrograd cannot skip building its graph
        return _w2_graph(x_values)[1].data

    def value_and_grad():
        leaves, total = _w2_graph(x_values)
        total.backward()
        return total.data, [leaf.grad for leaf in leaves]

    return [Case("micrograd", "fwd", lambda: forward),
            Case("micrograd", "grad", lambda: value_and_grad)]


def w8(inputs):
    x_value, steps = inputs["x"], inputs["steps"]

    def value_and_grad():
        x = Value(x_value)
        y = x
        for _ in range(steps):
            y = y * 1.0000001 + 1e-7 * _sin(y)
        y.backward()  # recursive topological sort: deep graphs hit the recursion limit
        return y.data, x.grad

    def value_and_grad_deep_recursion():
        previous = sys.getrecursionlimit()
        sys.setrecursionlimit(10**6)
        try:
            return value_and_grad()
        finally:
            sys.setrecursionlimit(previous)

    return [Case("micrograd", "grad", lambda: value_and_grad),
            Case("micrograd rl=1e6", "grad", lambda: value_and_grad_deep_recursion)]


BUILDERS = {"W1": w1, "W2": w2, "W8": w8}
WORKLOADS = tuple(BUILDERS)


def cases(workload_key: str, inputs: dict) -> list[Case]:
    return BUILDERS[workload_key](inputs)
