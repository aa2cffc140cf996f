"""Jacobian layouts: numerator (JAX, PyTorch) and denominator (the lecture's backprop).

For y = f(x) with x in R^n and y in R^m:
    numerator layout:   J[i, j] = dy_i/dx_j,  shape (m, n);  dL/dx = J^T dL/dy (a row times J)
    denominator layout: J[j, i] = dy_i/dx_j,  shape (n, m);  dL/dx = J dL/dy, as the lecture writes
For arrays, numerator is out_shape + in_shape and denominator in_shape + out_shape.

    python examples/layouts.py [--quick]
"""

import argparse

import numpy as np

import hodiff as hd
import hodiff.numpy as hnp


def f(x):
    return hnp.tanh(hnp.matmul(A, x)) * x[0]


A = np.arange(12.0).reshape(4, 3) / 10.0  # y in R^4, x in R^3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="(already quick)")
    parser.parse_args()

    x = np.array([0.5, -1.0, 2.0])
    dL_dy = np.array([1.0, -2.0, 0.5, 3.0])
    numerator = hd.jacobian(f)(x)
    denominator = hd.jacobian(f, layout="denominator")(x)
    print(f"numerator layout {numerator.shape}, denominator layout {denominator.shape}")
    assert np.allclose(denominator, numerator.T)

    _, vjp_fn = hd.vjp(f, x)
    dL_dx = vjp_fn(dL_dy)[0]
    assert np.allclose(dL_dx, denominator @ dL_dy)   # the lecture: (dy/dx) (dL/dy)
    assert np.allclose(dL_dx, dL_dy @ numerator)     # JAX/PyTorch: a row vector times J
    print("dL/dx =", dL_dx, "= denominator @ dL/dy = dL/dy @ numerator")

    converted = hd.convert_layout(numerator, x.shape, (4,), "numerator", "denominator")
    assert np.allclose(converted, denominator)
    for mode in ("fwd", "rev"):
        assert np.allclose(hd.jacobian(f, mode=mode)(x), numerator)
    print("hd.convert_layout and both modes agree")


if __name__ == "__main__":
    main()
