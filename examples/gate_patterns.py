"""Gate patterns of backprop: add distributes, copy adds, multiply swaps, max routes.

The lecture's circuit f = 2 (x y + max(z, w)) at x = 3, y = -4, z = 2, w = -1
shows all four; each gate's downstream gradient is upstream x local.

    python examples/gate_patterns.py
"""

import argparse

import hodiff as hd
import hodiff.numpy as hnp


def circuit(x, y, z, w):
    return 2.0 * (x * y + hnp.maximum(z, w))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="(already quick)")
    parser.parse_args()

    graph = hd.trace_graph(circuit, 3.0, -4.0, 2.0, -1.0)
    print(graph.to_table())
    grads = {v.name: float(v.grad) for v in graph.inputs}
    print("\nadd distributes: x*y and max(z, w) both receive the add gate's upstream 2")
    print(f"multiply swaps:  df/dx = y * 2 = {grads['x']:g},  df/dy = x * 2 = {grads['y']:g}")
    print(f"max routes:      df/dz = {grads['z']:g} (z won),  df/dw = {grads['w']:g}")

    # copy adds: a feeds two gates, and its gradient is the sum of both branches
    copy = hd.trace_graph(lambda a, b: a * b + a, 3.0, -4.0)
    a = copy.inputs[0]
    branches = [float(e.grad) for e in copy.edges if e.parent is a.node]
    print(f"copy adds:       in a*b + a, the branches send back {branches}, and df/da = {float(a.grad):g}")


if __name__ == "__main__":
    main()
