"""The ReLU Jacobian is diagonal and mostly zero: backprop uses the VJP and never builds it.

At x = (1, -2, 3, -1) the Jacobian is diag(1, 0, 1, 0) in both layouts, and the
upstream (4, -1, 5, 9) becomes (4, 0, 5, 0). For n inputs the Jacobian has n^2
entries of which at most n are non-zero.

    python examples/relu_jacobian.py [--size 2000] [--quick]
"""

import argparse

import numpy as np

import hodiff as hd
from hodiff import nn


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2000, help="n for the large example")
    parser.add_argument("--quick", action="store_true", help="a small large example")
    args = parser.parse_args()
    n = 50 if args.quick else args.size

    x = np.array([1.0, -2.0, 3.0, -1.0])
    for layout in ("numerator", "denominator"):
        print(f"dy/dx, {layout} layout:\n{hd.jacobian(nn.relu, layout=layout)(x)}")
    _, vjp_fn = hd.vjp(nn.relu, x)
    print("VJP of (4, -1, 5, 9):", vjp_fn(np.array([4.0, -1.0, 5.0, 9.0]))[0])

    x = np.random.default_rng(0).standard_normal(n)
    J = hd.jacobian(nn.relu)(x)
    g = np.ones(n)
    _, vjp_fn = hd.vjp(nn.relu, x)
    assert np.allclose(vjp_fn(g)[0], g @ J)
    print(f"\nn = {n}: the Jacobian has {J.size} entries, {np.count_nonzero(J)} non-zero "
          f"({J.nbytes / 2**20:.1f} MiB); the VJP needs n = {n} numbers and gives the same g J")


if __name__ == "__main__":
    main()
