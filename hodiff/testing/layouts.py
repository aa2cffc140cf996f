"""Assertions for convention-comparison tests: layouts, modes, hand-derived Jacobians."""

import numpy as np

from ..core.tree import tree_flatten
from ..transforms._args import normalize_argnums
from ..transforms.hessian import HESSIAN_MODES, hessian
from ..transforms.jacobian import convert_layout, jacobian
from .check import _lowest_precision, default_tolerances
from .numerical import numerical_jacobian

__all__ = ["assert_layouts_agree", "assert_modes_agree", "assert_jacobian_matches"]


def _args_tuple(args):
    return tuple(args) if isinstance(args, (tuple, list)) else (args,)


def _tolerances(args, rtol, atol):
    default_rtol, default_atol = default_tolerances(_lowest_precision(args))
    return (default_rtol if rtol is None else rtol), (default_atol if atol is None else atol)


def _structure(f, args, argnums):
    """Leaf shapes of f's output and of the differentiated arguments, in Jacobian block order."""
    argnums_tuple, single = normalize_argnums(argnums, len(args), "jacobian")
    chosen = args[argnums_tuple[0]] if single else tuple(args[a] for a in argnums_tuple)
    out_shapes = [np.shape(leaf) for leaf in tree_flatten(f(*args))[0]]
    in_shapes = [np.shape(leaf) for leaf in tree_flatten(chosen)[0]]
    return out_shapes, in_shapes, chosen, argnums_tuple, single


def _blocks(J, out_shapes, in_shapes, what):
    leaves = tree_flatten(J)[0]
    if len(leaves) != len(out_shapes) * len(in_shapes):
        raise AssertionError(f"{what}: expected {len(out_shapes)} x {len(in_shapes)} Jacobian blocks "
                             f"(output leaves x input leaves), got {len(leaves)}")
    return [[leaves[k * len(in_shapes) + j] for j in range(len(in_shapes))] for k in range(len(out_shapes))]


def _assert_close(actual, expected, rtol, atol, what):
    actual, expected = np.asarray(actual), np.asarray(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shape {actual.shape} differs from expected {expected.shape}")
    difference = np.abs(actual - expected)
    bound = atol + rtol * np.abs(expected)
    if not np.all(difference <= bound):
        worst = np.unravel_index(np.argmax(difference - bound), difference.shape) if difference.ndim else ()
        raise AssertionError(
            f"{what}: entry {tuple(int(i) for i in worst)} is {actual[worst]!r}, expected {expected[worst]!r} "
            f"(max abs difference {difference.max():.3e}, rtol={rtol}, atol={atol})")


def assert_layouts_agree(f, args, argnums=0, *, mode="auto", rtol=None, atol=None):
    """Assert that f's numerator- and denominator-layout Jacobians are each other's transpose.

    Computes ``jacobian(f, argnums, layout=..., mode=mode)(*args)`` in both
    layouts and checks, block by block (output leaf k, input leaf j), that
    ``convert_layout`` maps each to the other exactly and that round trips
    return the original. ``args`` is the tuple of f's positional arguments.

    >>> import numpy as np, hodiff.numpy as hnp
    >>> from hodiff.testing import assert_layouts_agree
    >>> assert_layouts_agree(lambda x: hnp.sin(x)[:2] * x[1:], (np.array([0.1, 0.2, 0.3]),))
    """
    args = _args_tuple(args)
    rtol, atol = _tolerances(args, rtol, atol)
    out_shapes, in_shapes, *_ = _structure(f, args, argnums)
    numerator = _blocks(jacobian(f, argnums, layout="numerator", mode=mode)(*args), out_shapes, in_shapes,
                        "numerator layout")
    denominator = _blocks(jacobian(f, argnums, layout="denominator", mode=mode)(*args), out_shapes, in_shapes,
                          "denominator layout")
    for k, out_shape in enumerate(out_shapes):
        for j, in_shape in enumerate(in_shapes):
            where = f"block (output leaf {k}, input leaf {j})"
            num, den = numerator[k][j], denominator[k][j]
            _assert_close(np.shape(num), out_shape + in_shape, 0, 0, f"{where}: numerator shape")
            _assert_close(np.shape(den), in_shape + out_shape, 0, 0, f"{where}: denominator shape")
            _assert_close(convert_layout(num, in_shape, out_shape, "numerator", "denominator"), den, rtol, atol,
                          f"{where}: numerator converted to denominator vs denominator")
            _assert_close(convert_layout(den, in_shape, out_shape, "denominator", "numerator"), num, rtol, atol,
                          f"{where}: denominator converted to numerator vs numerator")
            round_trip = convert_layout(convert_layout(num, in_shape, out_shape, "numerator", "denominator"),
                                        in_shape, out_shape, "denominator", "numerator")
            _assert_close(round_trip, num, 0, 0, f"{where}: numerator -> denominator -> numerator round trip")


def assert_modes_agree(f, args, argnums=0, *, order=1, layout="numerator", rtol=None, atol=None):
    """Assert that every mode computes the same derivative of f.

    ``order=1``: ``jacobian`` with mode "fwd", "rev" and "auto" (and the
    finite-difference ``numerical_jacobian`` when argnums is a single int).
    ``order=2``: ``hessian`` in all four modes (fwd-rev, rev-rev, rev-fwd,
    fwd-fwd). The message names the two modes that disagree.

    >>> import numpy as np, hodiff.numpy as hnp
    >>> from hodiff.testing import assert_modes_agree
    >>> assert_modes_agree(lambda x: hnp.sum(hnp.exp(x) * x), (np.array([0.1, 0.2]),), order=2)
    """
    args = _args_tuple(args)
    rtol, atol = _tolerances(args, rtol, atol)
    out_shapes, in_shapes, chosen, argnums_tuple, single = _structure(f, args, argnums)
    if order == 1:
        results = {mode: jacobian(f, argnums, layout=layout, mode=mode)(*args) for mode in ("fwd", "rev", "auto")}
        if single:
            def of_chosen(value):
                full = list(args)
                full[argnums_tuple[0]] = value
                return f(*full)

            results["finite differences"] = numerical_jacobian(of_chosen, chosen, layout=layout)
    elif order == 2:
        results = {mode: hessian(f, argnums, mode=mode, layout=layout)(*args) for mode in HESSIAN_MODES}
    else:
        raise ValueError(f"assert_modes_agree: order must be 1 or 2, got {order!r}")
    names = list(results)
    reference = tree_flatten(results[names[0]])
    for name in names[1:]:
        leaves, tree = tree_flatten(results[name])
        if tree != reference[1]:
            raise AssertionError(f"modes {names[0]!r} and {name!r} give different structures: "
                                 f"{reference[1]!r} vs {tree!r}")
        loose = name == "finite differences"
        for index, (actual, expected) in enumerate(zip(leaves, reference[0])):
            _assert_close(actual, expected, max(rtol, 1e-6) if loose else rtol, max(atol, 1e-7) if loose else atol,
                          f"mode {name!r} vs mode {names[0]!r}, block {index}")


def assert_jacobian_matches(J, f, args, argnums=0, *, layout="numerator", rtol=None, atol=None):
    """Assert that a hand-derived Jacobian ``J`` of f at ``args`` is right, in the stated ``layout``.

    ``J`` is compared with hodiff's Jacobian in that layout (shape
    out_shape + in_shape for "numerator", in_shape + out_shape for
    "denominator") and with scipy's finite differences. A J that has the
    other layout's shape gets a message saying so.

    >>> import numpy as np, hodiff.numpy as hnp
    >>> from hodiff.testing import assert_jacobian_matches
    >>> W = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])      # y = x W: R^3 -> R^2
    >>> assert_jacobian_matches(W, lambda x: hnp.tensordot(x, W, axes=1), (np.ones(3),), layout="denominator")
    """
    args = _args_tuple(args)
    rtol, atol = _tolerances(args, rtol, atol)
    expected = jacobian(f, argnums, layout=layout)(*args)
    expected_leaves, expected_tree = tree_flatten(expected)
    J_leaves, J_tree = tree_flatten(J)
    if J_tree != expected_tree:
        raise AssertionError(f"J has structure {J_tree!r}, but the Jacobian has {expected_tree!r}")
    other = "denominator" if layout == "numerator" else "numerator"
    other_leaves = tree_flatten(jacobian(f, argnums, layout=other)(*args))[0]
    for index, (mine, theirs, transposed) in enumerate(zip(J_leaves, expected_leaves, other_leaves)):
        mine_shape, shape = np.shape(mine), np.shape(theirs)
        if mine_shape != shape:
            hint = ""
            if mine_shape == np.shape(transposed):
                hint = (f"; that is the {other}-layout shape: pass layout={other!r} or convert with "
                        f"hd.convert_layout(J, in_shape, out_shape, {other!r}, {layout!r})")
            raise AssertionError(f"J block {index} has shape {mine_shape}, but the {layout}-layout Jacobian has "
                                 f"shape {shape}{hint}")
        _assert_close(mine, theirs, rtol, atol, f"J block {index} vs hodiff's {layout}-layout Jacobian")
    argnums_tuple, single = normalize_argnums(argnums, len(args), "jacobian")
    if single:
        def of_chosen(value):
            full = list(args)
            full[argnums_tuple[0]] = value
            return f(*full)

        numeric = tree_flatten(numerical_jacobian(of_chosen, args[argnums_tuple[0]], layout=layout))[0]
        for index, (mine, theirs) in enumerate(zip(J_leaves, numeric)):
            _assert_close(mine, theirs, max(rtol, 1e-6), max(atol, 1e-7),
                          f"J block {index} vs finite differences ({layout} layout)")
