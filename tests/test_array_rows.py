"""The array tables (reductions, contractions, shape ops) in the modes test_systematic does not cover:
vmap of the function itself against a loop over members, and Taylor mode against nested forward mode."""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp

from . import every_mode
from .tables import contraction, reductions, shape_ops

ROWS = reductions.ROWS + contraction.ROWS + shape_ops.ROWS


@pytest.mark.parametrize("check, row", every_mode.cases(ROWS, checks=("vmap", "taylor")))
def test_vmap_and_taylor_agree_with_another_route(check, row):
    check(row)


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
