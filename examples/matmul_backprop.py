"""Backprop through y = x W: the Jacobian is 4-D, the shortcut is two matrix products.

    dL/dx = dL/dy W^T        dL/dW = x^T dL/dy

dy/dx has shape (N, M, N, D): at the lecture's N = 64, D = M = 4096 that is
256 GiB in float32. Here it is built for small sizes and contracted with dL/dy
to show it agrees with the shortcut, which hodiff's VJP computes.

    python examples/matmul_backprop.py [--n 8 --d 16 --m 12] [--quick]
"""

import argparse

import numpy as np

import hodiff as hd
import hodiff.numpy as hnp


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--d", type=int, default=16)
    parser.add_argument("--m", type=int, default=12)
    parser.add_argument("--quick", action="store_true", help="N, D, M = 2, 3, 4")
    args = parser.parse_args()
    n, d, m = (2, 3, 4) if args.quick else (args.n, args.d, args.m)

    rng = np.random.default_rng(0)
    x, W, dL_dy = rng.standard_normal((n, d)), rng.standard_normal((d, m)), rng.standard_normal((n, m))
    product = lambda x, W: hnp.matmul(x, W)

    J = hd.jacobian(product, argnums=0)(x, W)           # numerator layout: (N, M, N, D)
    print(f"dy/dx has shape {J.shape}: {J.size} numbers, {np.count_nonzero(J)} non-zero")
    by_jacobian = np.tensordot(dL_dy, J, axes=([0, 1], [0, 1]))

    _, vjp_fn = hd.vjp(product, x, W)
    dL_dx, dL_dW = vjp_fn(dL_dy)
    assert np.allclose(dL_dx, dL_dy @ W.T) and np.allclose(dL_dx, by_jacobian)
    assert np.allclose(dL_dW, x.T @ dL_dy)
    print("dL/dx = dL/dy W^T and dL/dW = x^T dL/dy: agree with the contracted Jacobian and hodiff's VJP")
    print(f"at N = 64, D = M = 4096 the Jacobian would take {64 * 4096 * 64 * 4096 * 4 / 2**30:.0f} GiB (float32)")


if __name__ == "__main__":
    main()
