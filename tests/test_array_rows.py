"""The array tables (reductions, contractions, shape ops) in the modes test_systematic does not cover:
vmap of the function itself against a loop over members, and Taylor mode against nested forward mode."""

import math
import zlib

import numpy as np
import pytest

import hodiff as hd

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
