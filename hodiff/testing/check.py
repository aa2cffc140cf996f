"""``check_grads``: forward mode, reverse mode and finite differences, against each other.

The check follows HIPS autograd's and JAX's ``check_grads``, with scipy's
Richardson-extrapolated differences as the numeric reference:

- ``"fwd"``: for a random direction v, ``jvp(f, x, v)`` must equal the
  finite-difference directional derivative ``d/dt f(x + t v)``;
- ``"rev"``: for random v and a random output cotangent u, the VJP must be
  the transpose of the Jacobian: ``<vjp(u), v> == <u, J v>``, with ``J v``
  from finite differences (and, when "fwd" is also checked, from ``jvp``);
- order k > 1: the derivative functions ``(x, v) -> jvp(f, x, v)[1]`` and
  ``(x, u) -> vjp(f, x)[1](u)`` are checked the same way, recursively, so
  every path of modes is covered ("order 2, path rev->fwd" is the forward
  check of the reverse-mode derivative function).

Inner products pair complex values without conjugation,
``<a, b> = Re sum(a * b)``: that is the pairing under which JAX's and
hodiff's VJP (which multiplies by derivatives without conjugating) is the
transpose of the JVP, for holomorphic and non-holomorphic functions alike.
"""

import numbers

import numpy as np

from ..core.tree import tree_flatten, tree_map
from ..transforms.forward import jvp
from ..transforms.reverse import vjp
from .numerical import numerical_jvp

__all__ = ["check_grads", "default_tolerances"]

_MODES = ("fwd", "rev")


def default_tolerances(dtype):
    """(rtol, atol) that ``check_grads`` uses for arguments of ``dtype``."""
    dtype = np.dtype(dtype)
    if dtype in (np.float16, np.float32, np.complex64):
        return 2e-2, 2e-3
    return 1e-5, 1e-7


def _lowest_precision(args):
    dtypes = []
    for leaf in tree_flatten(args)[0]:
        dtype = np.result_type(leaf)
        if np.issubdtype(dtype, np.inexact):
            dtypes.append(dtype)
    if not dtypes:
        return np.dtype(np.float64)
    return max(dtypes, key=lambda d: np.finfo(d).eps)


def _random_like(tree, rng):
    """A random pytree shaped and typed like ``tree`` (standard normal; complex gets both parts)."""

    def draw(leaf):
        shape = np.shape(leaf)
        dtype = np.result_type(leaf)
        if np.issubdtype(dtype, np.complexfloating):
            value = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
        else:
            value = rng.standard_normal(shape)
            if not np.issubdtype(dtype, np.inexact):
                dtype = np.dtype(np.float64)
        return np.asarray(value, dtype=dtype)

    return tree_map(draw, tree)


def _pair(a_tree, b_tree):
    """<a, b> = Re sum(a * b) over matching pytrees, in double precision."""
    a_leaves, a_def = tree_flatten(a_tree)
    b_leaves, b_def = tree_flatten(b_tree)
    if a_def != b_def:
        raise AssertionError(f"structures differ: {a_def!r} and {b_def!r}")
    total = 0.0
    for a, b in zip(a_leaves, b_leaves):
        total += float(np.real(np.sum(np.asarray(a, dtype=np.complex128) * np.asarray(b, dtype=np.complex128))))
    return total


def _norm(tree):
    return float(np.sqrt(sum(np.sum(np.abs(np.asarray(leaf, dtype=np.complex128)) ** 2)
                             for leaf in tree_flatten(tree)[0])))


def _format(value, limit=6):
    array = np.asarray(value)
    if array.size > limit:
        flat = array.ravel()
        return f"array(shape={array.shape}, first entries {np.array2string(flat[:limit], precision=8)} ...)"
    return np.array2string(array, precision=10) if array.ndim else repr(array.item())


class _Checker:
    def __init__(self, modes, rtol, atol, eps, rng):
        self.modes = modes
        self.rtol = rtol
        self.atol = atol
        self.eps = eps
        self.rng = rng

    def where(self, path):
        return f"check_grads: order {len(path)}, path {'->'.join(path)}"

    def assert_trees_close(self, analytic, numeric, path, what):
        a_leaves, a_def = tree_flatten(analytic)
        n_leaves, n_def = tree_flatten(numeric)
        if a_def != n_def:
            raise AssertionError(f"{self.where(path)}: {what}: structure {a_def!r} differs from expected {n_def!r}")
        for index, (a, n) in enumerate(zip(a_leaves, n_leaves)):
            a_array = np.asarray(a)
            n_array = np.asarray(n)
            if a_array.shape != n_array.shape:
                raise AssertionError(f"{self.where(path)}: {what}: leaf {index} has shape {a_array.shape}, "
                                     f"expected {n_array.shape}")
            if not np.all(np.isfinite(n_array)):
                raise AssertionError(
                    f"{self.where(path)}: {what}: finite differences hit a non-finite value "
                    f"({_format(n_array)}); move the point away from the domain boundary or pass a smaller eps")
            difference = np.abs(a_array.astype(np.complex128) - n_array)
            bound = self.atol + self.rtol * np.abs(n_array)
            if not np.all(difference <= bound):
                worst = np.unravel_index(np.argmax(difference - bound), difference.shape) if difference.ndim else ()
                raise AssertionError(
                    f"{self.where(path)}: {what} (leaf {index}):\n"
                    f"  analytic: {_format(a_array)}\n  numeric:  {_format(n_array)}\n"
                    f"  largest mismatch at index {tuple(int(i) for i in worst)}: analytic "
                    f"{a_array[worst]!r} vs numeric {n_array[worst]!r} (rtol={self.rtol}, atol={self.atol})")

    def assert_scalars_close(self, analytic, expected, scale, path, what):
        if not np.isfinite(expected):
            raise AssertionError(
                f"{self.where(path)}: {what}: the reference is not finite ({expected!r}); move the point away "
                "from the domain boundary or pass a smaller eps")
        if not abs(analytic - expected) <= self.atol + self.rtol * scale:
            raise AssertionError(
                f"{self.where(path)}: {what}:\n  analytic: {analytic!r}\n  expected: {expected!r}\n"
                f"  difference {abs(analytic - expected):.3e} exceeds {self.atol + self.rtol * scale:.3e} "
                f"(rtol={self.rtol}, atol={self.atol}, scale={scale:.3e})")

    # ----------------------------------------------------------- the checks

    def check(self, f, args, order, path):
        if "fwd" in self.modes:
            self.check_jvp(f, args, path + ["fwd"])
            if order > 1:
                tangents = _random_like(args, self.rng)
                count = len(args)

                def jvp_f(*primals_and_tangents):
                    return jvp(f, primals_and_tangents[:count], primals_and_tangents[count:])[1]

                self.check(jvp_f, args + tangents, order - 1, path + ["fwd"])
        if "rev" in self.modes:
            out = self.check_vjp(f, args, path + ["rev"])
            if order > 1:
                cotangent = _random_like(out, self.rng)
                count = len(args)

                def vjp_f(*primals_and_cotangent):
                    return vjp(f, *primals_and_cotangent[:count])[1](primals_and_cotangent[count])

                self.check(vjp_f, args + (cotangent,), order - 1, path + ["rev"])

    def check_jvp(self, f, args, path):
        tangents = _random_like(args, self.rng)
        out, tangent_out = jvp(f, args, tangents)
        self.assert_trees_close(out, f(*args), path, "the primal output of jvp differs from f(*args)")
        numeric = numerical_jvp(f, args, tangents, eps=self.eps)
        self.assert_trees_close(tangent_out, numeric, path,
                                "forward mode (jvp) disagrees with finite differences")

    def check_vjp(self, f, args, path):
        out, vjp_fn = vjp(f, *args)
        self.assert_trees_close(out, f(*args), path, "the primal output of vjp differs from f(*args)")
        tangents = _random_like(args, self.rng)
        cotangent = _random_like(out, self.rng)
        cotangents_in = vjp_fn(cotangent)
        analytic = _pair(cotangents_in, tangents)
        numeric_jv = numerical_jvp(f, args, tangents, eps=self.eps)
        scale = _norm(cotangent) * _norm(numeric_jv) + _norm(cotangents_in) * _norm(tangents)
        self.assert_scalars_close(analytic, _pair(cotangent, numeric_jv), scale, path,
                                  "reverse mode disagrees with finite differences: <vjp(u), v> (analytic) "
                                  "vs <u, J v> (J v by finite differences)")
        if "fwd" in self.modes:
            forward_jv = jvp(f, args, tangents)[1]
            self.assert_scalars_close(analytic, _pair(cotangent, forward_jv), scale, path,
                                      "reverse mode disagrees with forward mode: <vjp(u), v> (reverse) "
                                      "vs <u, jvp(v)> (forward)")
        return out


def check_grads(f, args, modes=("fwd", "rev"), order=2, *, rtol=None, atol=None, eps=None, seed=0):
    """Check f's derivatives of every order up to ``order``, in every mode of ``modes``.

    ``args`` is the tuple (or list) of f's positional arguments (pytrees
    allowed); a single non-tuple value is taken as the one argument. Every
    argument is differentiated, so they must be float or complex.

    Checks, along random directions drawn from ``numpy.random.default_rng(seed)``:

    - ``"fwd"``: ``jvp(f, args, v)`` equals the finite-difference derivative of
      ``t -> f(args + t v)`` (scipy.differentiate, initial step ``eps``);
    - ``"rev"``: ``<vjp(u), v> == <u, J v>`` with J v by finite differences and,
      when "fwd" is in modes too, by ``jvp``;
    - then the same checks on the derivative functions ``(x, v) -> J(x) v`` and
      ``(x, u) -> u J(x)``, recursively, up to ``order``.

    Raises ``AssertionError`` naming the order and the path of modes (e.g.
    ``"check_grads: order 2, path rev->fwd"``, the forward check of the
    reverse-mode derivative) with the analytic and numeric values. Default
    tolerances follow the lowest precision among the arguments
    (``default_tolerances``): rtol 1e-5, atol 1e-7 in double precision.

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> hd.check_grads(lambda x, y: hnp.sin(x) * y, (np.array([0.5, 1.0]), 2.0), order=2)
    """
    if not isinstance(args, (tuple, list)):
        args = (args,)
    args = tuple(args)
    if isinstance(modes, str):
        modes = (modes,)
    modes = tuple(modes)
    unknown = [m for m in modes if m not in _MODES]
    if unknown or not modes:
        raise ValueError(f"check_grads: modes must be a non-empty subset of {_MODES}, got {modes!r}")
    if not isinstance(order, numbers.Integral) or order < 1:
        raise ValueError(f"check_grads: order must be a positive integer, got {order!r}")
    default_rtol, default_atol = default_tolerances(_lowest_precision(args))
    checker = _Checker(modes, default_rtol if rtol is None else rtol, default_atol if atol is None else atol,
                       eps, np.random.default_rng(seed))
    checker.check(f, args, int(order), [])

