"""Backprop computes higher-order derivatives: differentiate the backward pass.

1. The graph API records the backward pass (create_graph=True): the gradients
   are graph nodes, and differentiating them gives the Hessian of the neuron.
2. hd.hessian gives the same matrix in one call.
3. Nesting hd.grad k times gives d^k sigmoid/dz^k; Taylor mode (hd.derivative)
   gives the same numbers at a cost ~k^2 instead of ~2^k.

    python examples/higher_order.py [--order 8] [--quick]
"""

import argparse

import numpy as np

import hodiff as hd
import hodiff.numpy as hnp


def sigmoid(z):
    return 1.0 / (1.0 + hnp.exp(-z))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--order", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="order 4")
    args = parser.parse_args()
    order = 4 if args.quick else args.order

    x0, x1 = -1.0, -2.0
    w = [hd.Variable(v, name=n) for n, v in (("w0", 2.0), ("w1", -3.0), ("w2", -3.0))]
    f = sigmoid(w[0] * x0 + w[1] * x1 + w[2])
    f.backward(create_graph=True)                 # w[i].grad is a graph node now
    H = np.array([[float(g) for g in hd.grad_of(wi.grad, w)] for wi in w])
    print("Hessian of the neuron in (w0, w1, w2), from the recorded backward pass:\n", H)

    neuron = lambda w: sigmoid(w[0] * x0 + w[1] * x1 + w[2])
    assert np.allclose(hd.hessian(neuron)(np.array([2.0, -3.0, -3.0])), H)
    print("hd.hessian agrees")

    g = sigmoid
    for k in range(1, order + 1):
        g = hd.grad(g)
        nested, taylor = float(g(1.0)), float(hd.derivative(sigmoid, order=k)(1.0))
        assert np.isclose(nested, taylor, rtol=1e-8, atol=1e-12)
        print(f"d^{k} sigmoid/dz^{k} at z = 1: nested grad {nested: .6g}   Taylor mode {taylor: .6g}")


if __name__ == "__main__":
    main()
