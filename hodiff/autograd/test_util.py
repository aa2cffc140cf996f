"""autograd.test_util: ``check_grads``, ``combo_check``, ``check_equivalent``, ``scalar_close``, on hodiff.

The checks are autograd's (same tolerances, same random directions from
numpy's global random state, same messages): the VJP is checked against a
central difference through its pairing with a JVP, ``<u, vjp(v)> = <v, J u>``
(the real inner product, with complex values paired as Re(conj(a) b)), the
JVP directly, and each order's derivative function is checked again up to
``order``. The derivatives checked are hodiff's (``make_vjp`` / ``make_jvp``
are hd.vjp / hd.jvp); hodiff's own, stricter ``hd.check_grads`` is separate.
"""

from itertools import product

import numpy as np

from ..core.tree import tree_flatten, tree_unflatten
from .differential_operators import _make_jvp, _make_vjp
from .wrap_util import get_name, unary_to_nary

__all__ = ["check_grads", "combo_check", "check_equivalent", "check_vjp", "check_jvp",
           "scalar_close", "make_numerical_jvp"]

TOL = 1e-6
RTOL = 1e-6
EPS = 1e-6


def scalar_close(a, b):
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < RTOL


# ------------------------------------------------------------- vector spaces of pytrees (plain values)

def _leaf_space(leaf):
    if type(leaf) is float or type(leaf) is int:
        return (), np.dtype(float)
    if type(leaf) is complex:
        return (), np.dtype(complex)
    leaf = np.asarray(leaf)
    return leaf.shape, leaf.dtype


class _Space:
    """What autograd's vspace(x) records: the structure, and each leaf's shape and dtype."""

    def __init__(self, value):
        leaves, self.tree = tree_flatten(value)
        self.leaves = [_leaf_space(leaf) for leaf in leaves]

    def __eq__(self, other):
        return self.tree == other.tree and self.leaves == other.leaves

    def __repr__(self):
        return f"{self.tree!r} {[(s, str(d)) for s, d in self.leaves]}"

    def _map(self, function, *values):
        flats = [tree_flatten(v)[0] for v in values]
        return tree_unflatten(self.tree, [function(space, *leaves) for space, *leaves in zip(self.leaves, *flats)])

    def randn(self):
        def draw(space):
            shape, dtype = space
            if np.issubdtype(dtype, np.complexfloating):
                return np.asarray(np.random.randn(*shape) + 1j * np.random.randn(*shape)).astype(dtype)
            return np.array(np.random.randn(*shape)).astype(dtype)

        return tree_unflatten(self.tree, [draw(space) for space in self.leaves])

    def add(self, x, y):
        return self._map(lambda space, a, b: a + b, x, y)

    def scalar_mul(self, x, a):
        return self._map(lambda space, leaf: leaf * a, x)

    def covector(self, x):
        return self._map(lambda space, leaf: np.conj(leaf) if np.issubdtype(space[1], np.complexfloating)
                         else leaf, x)

    def inner_prod(self, x, y):
        total = 0.0
        for space, a, b in zip(self.leaves, tree_flatten(x)[0], tree_flatten(y)[0]):
            if np.issubdtype(space[1], np.complexfloating):
                total += np.real(np.vdot(np.ravel(a), np.ravel(b)))
            else:
                total += np.dot(np.ravel(a), np.ravel(b))
        return total


# ------------------------------------------------------------- the checks

def make_numerical_jvp(f, x):
    """v -> the central difference (f(x + v eps/2) - f(x - v eps/2)) / eps, eps = 1e-6."""
    x_space, y_space = _Space(x), _Space(f(x))

    def numerical_jvp(v):
        step = x_space.scalar_mul(v, EPS / 2)
        forward = f(x_space.add(x, step))
        backward = f(x_space.add(x, x_space.scalar_mul(step, -1.0)))
        return y_space.scalar_mul(y_space.add(forward, y_space.scalar_mul(backward, -1.0)), 1.0 / EPS)

    return numerical_jvp


def check_vjp(f, x):
    """<u, vjp(v)> against <v, J u> by central differences, for random u, v (real pairing)."""
    vjp, y = _make_vjp(f, x)
    x_space, y_space = _Space(x), _Space(y)
    u, v = x_space.randn(), y_space.randn()
    pulled_back = x_space.covector(vjp(y_space.covector(v)))
    if _Space(pulled_back) != x_space:
        raise AssertionError(f"VSpace mismatch of the VJP of {get_name(f)}:\nx: {x_space}\nvjp: {_Space(pulled_back)}")
    analytic = x_space.inner_prod(u, pulled_back)
    numeric = y_space.inner_prod(v, make_numerical_jvp(f, x)(u))
    if not scalar_close(numeric, analytic):
        raise AssertionError(
            f"Derivative (VJP) check of {get_name(f)} failed with arg {x}:\n"
            f"analytic: {analytic}\nnumeric:  {numeric}")


def check_jvp(f, x):
    """J u by forward mode against its central difference, for a random u."""
    u = _Space(x).randn()
    check_equivalent(_make_jvp(f, x)(u)[1], make_numerical_jvp(f, x)(u))


def check_equivalent(x, y):
    """x and y have the same structure, shapes and dtypes, and agree along a random direction."""
    x_space, y_space = _Space(x), _Space(y)
    assert x_space == y_space, f"VSpace mismatch:\nx: {x_space}\ny: {y_space}"
    v = x_space.randn()
    assert scalar_close(x_space.inner_prod(x, v), x_space.inner_prod(y, v)), f"Value mismatch:\nx: {x}\ny: {y}"


def _tangent_function(f):
    def jvp_of_f(x, v):
        return _make_jvp(f, x)(v)[1]

    jvp_of_f.__name__ = f"jvp_{get_name(f)}"
    return jvp_of_f


def _cotangent_function(f):
    def vjp_of_f(x, v):
        return _make_vjp(f, x)[0](v)

    vjp_of_f.__name__ = f"vjp_{get_name(f)}"
    return vjp_of_f


@unary_to_nary
def check_grads(f, x, modes=("fwd", "rev"), order=2):
    """``check_grads(fun, argnum=0, modes=["fwd", "rev"], order=2)(*args)``: autograd's derivative check.

    Each mode's derivative function (x, v) -> J v or (x, v) -> v J is itself
    checked, in both its arguments, down to first order.
    """
    if not set(modes) <= {"fwd", "rev"}:
        raise AssertionError(f"check_grads: modes must be 'fwd' and/or 'rev', got {modes!r}")
    for mode in ("fwd", "rev"):
        if mode not in modes:
            continue
        if mode == "fwd":
            check_jvp(f, x)
            derivative, direction_space = _tangent_function(f), _Space(x)
        else:
            check_vjp(f, x)
            derivative, direction_space = _cotangent_function(f), _Space(f(x))
        if order > 1:
            check_grads(derivative, (0, 1), modes, order=order - 1)(x, direction_space.randn())


def combo_check(fun, *check_args, **check_kwargs):
    """``combo_check(fun, argnum, modes=..., order=...)(values_0, values_1, ..., kw=[values])``.

    check_grads at every combination of one value per positional list and one per keyword list.
    """
    checker = check_grads(fun, *check_args, **check_kwargs)

    def run(*value_lists, **keyword_lists):
        names = list(keyword_lists)
        for values in product(*value_lists):
            for chosen in product(*(keyword_lists[name] for name in names)):
                checker(*values, **dict(zip(names, chosen)))

    return run
