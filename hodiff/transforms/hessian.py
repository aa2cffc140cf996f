"""Second-order transforms: ``hessian``, ``hvp``, ``vhp``, ``derivative_tensor``.

``hessian(f, mode="a-b")`` is ``jac_a(jac_b(f))``, mode a over mode b:

- ``"fwd-rev"`` (the default): forward over reverse. The gradient
  computation (f's forward pass and its backward pass) is recorded once, and
  all n tangents are pushed forward through that recording in ONE batched
  sweep of JVP rules. Same numbers as ``jacfwd(jacrev(f))``, but values the
  gradient does not depend on (f's own output, say) carry no tangents;
- ``"rev-rev"``: ``jacrev(jacrev(f))``, one batched backward pass over the
  recorded gradient computation;
- ``"rev-fwd"``: ``jacrev(jacfwd(f))`` and ``"fwd-fwd"``: ``jacfwd(jacfwd(f))``;
  their intermediates carry the n inner tangents, so the outer pass works on
  n times larger arrays (fine for small n).

All four give the same array.

Layout rule for vector-valued f (y = f(x), x of shape in_shape, y of shape
out_shape): the Hessian is the Jacobian of the Jacobian in the same layout,
so

- ``layout="numerator"``: shape ``out_shape + in_shape + in_shape``,
  ``H[i..., j..., k...] = d^2 y[i...] / dx[j...] dx[k...]`` (as JAX);
- ``layout="denominator"``: shape ``in_shape + in_shape + out_shape``.

For scalar f both are ``in_shape + in_shape``. Pytrees nest as for
``jacobian``: output structure, then input structure (first derivative),
then input structure (second derivative).
"""

import functools
import numbers

from ..core.tree import tree_flatten
from ._args import check_differentiable, dtype_of_value
from .forward import jvp
from .forward_over_reverse import hvp_forward_over_reverse
from .jacobian import _check_layout, _make_jacobian, jacfwd, jacrev
from .reverse import grad, vjp

__all__ = ["hessian", "hvp", "vhp", "derivative_tensor"]

_JACOBIANS = {"fwd": jacfwd, "rev": jacrev}
HESSIAN_MODES = ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd")


def hessian(f, argnums=0, *, mode="fwd-rev", layout="numerator", has_aux=False, holomorphic=False):
    """Return a function computing the Hessian of ``f`` with respect to ``argnums``.

    ``mode`` ``"a-b"`` computes ``jac_a(jac_b(f))`` with a, b in {fwd, rev};
    every mode gives the same array. For scalar f of x with shape s the
    result has shape s + s; for vector-valued f see the module docstring for
    the layout rule. A tuple ``argnums`` gives nested tuples
    ``((H00, H01), (H10, H11))``.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> A = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> quadratic = lambda x: 0.5 * hnp.sum(x * hnp.tensordot(A, x, axes=1))
    >>> hd.hessian(quadratic)(np.array([1.0, -1.0]))
    array([[2., 1.],
           [1., 3.]])
    """
    if mode not in HESSIAN_MODES:
        raise ValueError(f"hessian: mode must be one of {HESSIAN_MODES}, got {mode!r}")
    _check_layout(layout, "hessian")
    outer_mode, inner_mode = mode.split("-")
    inner = _JACOBIANS[inner_mode](f, argnums, layout=layout, has_aux=has_aux, holomorphic=holomorphic)
    if mode == "fwd-rev":
        # Forward mode over the recorded reverse pass (see the module docstring).
        return _make_jacobian(inner, argnums, layout, "sweep", has_aux, holomorphic, "hessian")
    return _JACOBIANS[outer_mode](inner, argnums, layout=layout, has_aux=has_aux, holomorphic=holomorphic)


def _check_primals(primals, vectors, transform, what):
    if not isinstance(primals, (tuple, list)) or not isinstance(vectors, (tuple, list)):
        raise TypeError(f"{transform}: primals and {what} must be tuples (one entry per argument of f)")
    if len(primals) != len(vectors):
        raise ValueError(f"{transform}: {len(primals)} primals but {len(vectors)} {what}")
    if tree_flatten(tuple(primals))[1] != tree_flatten(tuple(vectors))[1]:
        raise ValueError(f"{transform}: {what} must have the structure of primals")
    for i, primal in enumerate(primals):
        check_differentiable(primal, i, transform)


def hvp(f, primals, tangents, *, mode="fwd-rev"):
    """Hessian-vector product H v of scalar ``f`` at ``primals``, never forming H.

    ``primals`` and ``tangents`` are tuples with one entry per argument of f
    (pytrees allowed); H is the Hessian with respect to all of them jointly.
    Returns a tuple with one entry per primal, each shaped like it.
    ``mode``: ``"fwd-rev"`` (jvp of grad: forward over reverse, the cheapest),
    ``"rev-rev"`` (vjp of grad; H is symmetric) or ``"rev-fwd"`` (grad of the
    directional derivative x -> <grad f(x), v>, computed by jvp). Cost: a
    small multiple of one gradient.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> f = lambda x: hnp.sum(x * x * x)              # H = diag(6 x)
    >>> hd.hvp(f, (np.array([1.0, 2.0]),), (np.array([1.0, 1.0]),))
    (array([ 6., 12.]),)
    """
    _check_primals(primals, tangents, "hvp", "tangents")
    primals, tangents = tuple(primals), tuple(tangents)
    argnums = tuple(range(len(primals)))
    if mode == "fwd-rev":
        # jvp(grad(f)) on one recording of f, without the gradient itself (forward_over_reverse.py)
        return hvp_forward_over_reverse(f, primals, tangents)
    if mode == "rev-rev":
        return tuple(vjp(grad(f, argnums), *primals)[1](tangents))
    if mode == "rev-fwd":
        def directional(*xs):
            return jvp(f, xs, tangents)[1]

        return tuple(grad(directional, argnums)(*primals))
    if mode == "fwd-fwd":
        raise ValueError("hvp: mode 'fwd-fwd' would need one pass per input entry; "
                         "use 'fwd-rev', 'rev-rev' or 'rev-fwd' (or hd.hessian(f, mode='fwd-fwd'))")
    raise ValueError(f"hvp: mode must be 'fwd-rev', 'rev-rev' or 'rev-fwd', got {mode!r}")


def vhp(f, primals, cotangents):
    """Vector-Hessian product v^T H of scalar ``f`` at ``primals`` (reverse over reverse).

    Arguments and result as in ``hvp`` (a tuple, one entry per primal). For
    a twice continuously differentiable f, H is symmetric and vhp equals hvp.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> f = lambda x, y: hnp.sum(x * y * y)
    >>> [np.asarray(a).tolist() for a in hd.vhp(f, (np.array([1.0]), np.array([2.0])), (np.ones(1), np.ones(1)))]
    [[4.0], [6.0]]
    """
    _check_primals(primals, cotangents, "vhp", "cotangents")
    primals, cotangents = tuple(primals), tuple(cotangents)
    argnums = tuple(range(len(primals)))
    return tuple(vjp(grad(f, argnums), *primals)[1](cotangents))


def derivative_tensor(f, order, argnums=0):
    """Return a function giving the full ``order``-th derivative tensor of scalar ``f``.

    For f: R^n -> R the result has shape (n,) * order (for x of shape s:
    s * order) and is symmetric; entry ``[i, j, ...]`` is
    d^order f / dx_i dx_j .... Built by nesting batched Jacobians: the
    gradient by reverse mode, then each further order by ``jacfwd`` (one
    forward pass over n batched tangents per level), so the cost is about
    n^(order-1) gradients, done in vectorized passes. ``order=0`` gives f.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> T = hd.derivative_tensor(lambda x: x[0] * x[1] * x[1], order=3)(np.array([1.0, 2.0]))
    >>> T.shape, float(T[0, 1, 1]), float(T[1, 0, 1])
    ((2, 2, 2), 2.0, 2.0)
    """
    if not isinstance(order, numbers.Integral) or order < 0:
        raise ValueError(f"derivative_tensor: order must be a non-negative integer, got {order!r}")
    if not isinstance(argnums, numbers.Integral):
        raise TypeError("derivative_tensor: argnums must be a single int (the tensor is for one argument)")
    if order == 0:
        return f
    derivative = jacrev(f, argnums)
    for _ in range(order - 1):
        derivative = jacfwd(derivative, argnums)

    @functools.wraps(f)
    def tensor(*args, **kwargs):
        if any(dtype_of_value(leaf).kind == "c" for leaf in tree_flatten(args[argnums])[0]):
            raise TypeError("derivative_tensor: real inputs only (d^k f / dx^k entry by entry); for a complex z "
                            "differentiate in the real pair (Re z, Im z), or use hd.jacfwd(..., holomorphic=True) "
                            "nested for a holomorphic f")
        return derivative(*args, **kwargs)

    return tensor
