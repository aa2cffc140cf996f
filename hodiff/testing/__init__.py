"""hodiff.testing: checking derivatives against finite differences and each other.

- ``check_grads(f, args, modes=("fwd", "rev"), order=2)``: every mode and order
  against scipy's finite differences and each other (also ``hd.check_grads``);
- ``numerical_jvp``, ``numerical_jacobian(f, x, layout=...)``: references
  from ``scipy.differentiate`` (Richardson-extrapolated central differences);
- ``assert_layouts_agree``, ``assert_modes_agree``: hodiff's own conventions
  agree (numerator vs denominator layout, fwd vs rev vs finite differences,
  the four Hessian modes);
- ``assert_jacobian_matches(J, f, args, layout=...)``: a hand-derived
  Jacobian against hodiff and finite differences.
- ``hodiff.testing.fuzz``: random programs, every route to their derivatives compared;
- ``hodiff.testing.accuracy``: the unary functions' derivatives against mpmath, tiny to huge arguments.

Recipe: testing a hand-derived Jacobian in either convention
-------------------------------------------------------------
Say you derived, for y = x W with x of shape (N, D) and W of shape (D, M), the
backprop lecture's rule dL/dx = dL/dy W^T. Write down what you derived and in
which layout, and let the helpers compare:

1. The local Jacobian. Numerator layout (JAX/PyTorch): J[n, m, i, d] =
   dy[n, m] / dx[i, d] = delta(n, i) W[d, m], shape out_shape + in_shape =
   (N, M, N, D). Denominator layout (the lecture's): shape in_shape +
   out_shape = (N, D, N, M). Check either one:

   >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
   >>> from hodiff.testing import assert_jacobian_matches
   >>> N, D, M = 2, 3, 4
   >>> W = np.arange(D * M, dtype=float).reshape(D, M) / 10
   >>> x = np.ones((N, D))
   >>> f = lambda x: hnp.tensordot(x, W, axes=1)
   >>> J_num = np.einsum("ni,dm->nmid", np.eye(N), W)          # out + in
   >>> assert_jacobian_matches(J_num, f, (x,), layout="numerator")
   >>> J_den = np.einsum("in,dm->idnm", np.eye(N), W)          # in + out
   >>> assert_jacobian_matches(J_den, f, (x,), layout="denominator")

   A J in the other layout's shape fails with a message that says so.

2. The backward rule. Contract the Jacobian with the upstream gradient the
   way its layout says: numerator, dL/dx = tensordot(dL/dy, J, out_ndim);
   denominator, dL/dx = tensordot(J, dL/dy, out_ndim). Both must equal your
   formula and the VJP:

   >>> upstream = np.arange(N * M, dtype=float).reshape(N, M)
   >>> by_hand = upstream @ W.T
   >>> np.allclose(np.tensordot(upstream, J_num, axes=2), by_hand)
   True
   >>> np.allclose(np.tensordot(J_den, upstream, axes=2), by_hand)
   True
   >>> np.allclose(hd.vjp(f, x)[1](upstream)[0], by_hand)
   True

3. Finally ``hd.check_grads(f, (x,), order=2)`` checks f's rules in every
   mode against finite differences.
"""

from .check import check_grads, default_tolerances
from .layouts import assert_jacobian_matches, assert_layouts_agree, assert_modes_agree
from .numerical import numerical_jacobian, numerical_jvp

__all__ = [
    "check_grads", "default_tolerances", "numerical_jacobian", "numerical_jvp",
    "assert_layouts_agree", "assert_modes_agree", "assert_jacobian_matches",
]
