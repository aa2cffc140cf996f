"""A table row through the modes test_systematic does not run: vmap of the function itself, Taylor
mode, Duals and the graph API's Variables, each against another route of hodiff (a loop over
members, nested forward mode, jvp, grad). test_systematic covers fwd/rev against finite differences."""

import math
import zlib

import numpy as np

import hodiff as hd
import hodiff.numpy as hnp


def row_args(row):
    rng = np.random.default_rng(zlib.crc32(row.name.encode()))
    return tuple(np.asarray(a, dtype=np.float64) for a in row.args(rng))


def assert_vmap_matches_loop(row):
    args = row_args(row)
    rng = np.random.default_rng(1)
    members = [tuple(a + 0.1 * rng.standard_normal(a.shape) for a in args) for _ in range(3)]
    stacked = tuple(np.stack([m[i] for m in members]) for i in range(len(args)))
    batched = hd.vmap(row.function)(*stacked)
    for k, member in enumerate(members):
        np.testing.assert_allclose(batched[k], row.function(*member), rtol=1e-12, atol=1e-12)
    if len(args) > 1:  # the first argument batched, the others shared
        batched = hd.vmap(row.function, in_axes=(0,) + (None,) * (len(args) - 1))(stacked[0], *args[1:])
        for k, member in enumerate(members):
            np.testing.assert_allclose(batched[k], row.function(member[0], *args[1:]), rtol=1e-12, atol=1e-12)


def assert_taylor_matches_nested_forward(row, order=3):
    args = row_args(row)
    direction = tuple(np.random.default_rng(2).standard_normal(a.shape) for a in args)
    coefficients = hd.taylor(lambda xs: row.function(*xs), args, direction, order=order)

    def along(t):
        return row.function(*(a + t * v for a, v in zip(args, direction)))

    derivative = along
    for k in range(1, order + 1):
        derivative = (lambda inner: lambda t: hd.jvp(inner, (t,), (1.0,))[1])(derivative)
        np.testing.assert_allclose(coefficients[k], np.asarray(derivative(0.0)) / math.factorial(k),
                                   rtol=1e-8, atol=1e-10, err_msg=f"coefficient {k}")


def _weighted_sum(row, args):
    out = row.function(*args)
    weights = np.random.default_rng(3).standard_normal(getattr(out, "shape", ()))
    return hnp.sum(out * weights)


def assert_graph_api_matches_grad(row):
    args = row_args(row)
    expected = hd.grad(lambda *a: _weighted_sum(row, a), argnums=tuple(range(len(args))))(*args)
    variables = [hd.Variable(a) for a in args]
    _weighted_sum(row, variables).backward()
    for variable, gradient in zip(variables, expected):
        np.testing.assert_allclose(variable.grad, gradient, rtol=1e-12, atol=1e-12)


def assert_duals_match_jvp(row):
    args = row_args(row)
    tangents = tuple(np.random.default_rng(4).standard_normal(a.shape) for a in args)
    expected = hd.jvp(row.function, args, tangents)[1]
    # One perturbation for all arguments: the jvp pushes one joint direction
    # (untagged Duals would each get their own, nested, perturbation).
    eps = hd.Perturbation()
    out = row.function(*[hd.Dual(a, t, tag=eps) for a, t in zip(args, tangents)])
    np.testing.assert_allclose(out.tangent, expected, rtol=1e-12, atol=1e-12)


CHECKS = {
    "vmap": assert_vmap_matches_loop,
    "taylor": assert_taylor_matches_nested_forward,
    "graph": assert_graph_api_matches_grad,
    "duals": assert_duals_match_jvp,
}


def cases(rows, checks=tuple(CHECKS), not_batchable=()):
    """pytest params (check, row) for every row through every named check; rows named in
    ``not_batchable`` skip vmap (their tables say why). Use with ``ids=str``-like ids below."""
    import pytest

    return [pytest.param(CHECKS[check], row, id=f"{check}-{row}")
            for check in checks for row in rows
            if not (check == "vmap" and row.name in not_batchable)]
