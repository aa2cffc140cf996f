"""The array tables (reductions, contractions, shape ops) in the modes test_systematic does not cover:
vmap of the function itself against a loop over members, and Taylor mode against nested forward mode."""

import math
import zlib

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp

from .tables import contraction, reductions, shape_ops

ROWS = reductions.ROWS + contraction.ROWS + shape_ops.ROWS


def _args(row):
    rng = np.random.default_rng(zlib.crc32(row.name.encode()))
    return tuple(np.asarray(a, dtype=np.float64) for a in row.args(rng))


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_vmap_matches_a_loop_over_members(row):
    args = _args(row)
    rng = np.random.default_rng(1)
    members = [tuple(a + 0.1 * rng.standard_normal(a.shape) for a in args) for _ in range(3)]
    stacked = tuple(np.stack([m[i] for m in members]) for i in range(len(args)))
    batched = hd.vmap(row.function)(*stacked)
    for k, member in enumerate(members):
        np.testing.assert_allclose(batched[k], row.function(*member), rtol=1e-12, atol=1e-12)
    # one argument batched, the others shared
    if len(args) > 1:
        batched = hd.vmap(row.function, in_axes=(0,) + (None,) * (len(args) - 1))(stacked[0], *args[1:])
        for k, member in enumerate(members):
            np.testing.assert_allclose(batched[k], row.function(member[0], *args[1:]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_taylor_rule_matches_nested_forward_mode(row):
    args = _args(row)
    rng = np.random.default_rng(2)
    direction = tuple(rng.standard_normal(a.shape) for a in args)
    order = 3
    coefficients = hd.taylor(lambda xs: row.function(*xs), args, direction, order=order)

    def along(t):
        return row.function(*(a + t * v for a, v in zip(args, direction)))

    derivative = along
    for k in range(1, order + 1):
        derivative = (lambda inner: lambda t: hd.jvp(inner, (t,), (1.0,))[1])(derivative)
        np.testing.assert_allclose(coefficients[k], np.asarray(derivative(0.0)) / math.factorial(k),
                                   rtol=1e-8, atol=1e-10, err_msg=f"coefficient {k}")


_W = np.random.default_rng(3).uniform(-1, 1, (4, 4))
SCALAR_FUNCTIONS = {
    "sort": lambda v: hnp.sum(hnp.sort(v, axis=1) ** 2 * np.arange(4.0)),
    "max": lambda v: hnp.sum(hnp.max(v * v, axis=0)),
    "cumprod": lambda v: hnp.sum(hnp.cumprod(v, axis=1)),
    "prod": lambda v: hnp.sum(hnp.prod(v, axis=0)),
    "einsum": lambda v: hnp.einsum("ij,jk,ik->", v, _W, v),
    "advanced index": lambda v: hnp.sum(v[[0, 2], :, None][:, [1, 3]] ** 3),
    "argsort gather": lambda v: hnp.sum(hnp.take_along_axis(v, hnp.argsort(v, axis=0), axis=0) ** 2
                                        * np.arange(12.0).reshape(3, 4)),
    "std and var": lambda v: hnp.std(v, axis=1).sum() + hnp.var(v),
    "matmul": lambda v: hnp.sum(hnp.tanh(v @ _W) @ v.T),
    "pad reflect": lambda v: hnp.sum(hnp.pad(v, 2, mode="reflect") ** 3),
    "median": lambda v: hnp.sum(hnp.median(v ** 2, axis=0)),
}


@pytest.mark.parametrize("name", SCALAR_FUNCTIONS)
def test_every_route_to_the_hessian_agrees(name):
    function = SCALAR_FUNCTIONS[name]
    x = np.random.default_rng(4).uniform(-2, 2, (3, 4))
    hessians = [hd.hessian(function, mode=mode)(x) for mode in ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd")]
    for hessian in hessians[1:]:
        np.testing.assert_allclose(hessian, hessians[0], rtol=1e-10, atol=1e-10)
    hd.check_grads(function, (x,), order=3)
