"""Every primitive, in every mode and order: the systematic table (see tables/)."""

import zlib

import numpy as np
import pytest

import hodiff as hd
from hodiff.core.trace import registry

from .tables import all_rows

ROWS = all_rows()


def _args(row, dtype=np.float64):
    rng = np.random.default_rng(zlib.crc32(row.name.encode()))
    return tuple(np.asarray(a, dtype=dtype) for a in row.args(rng))


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_check_grads(row):
    hd.check_grads(row.function, _args(row), modes=row.modes, order=row.order, rtol=row.rtol, atol=row.atol)


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_batched_tangents_match_single_jvps(row):
    args = _args(row)
    rng = np.random.default_rng(0)
    directions = [tuple(rng.standard_normal(np.shape(a)) for a in args) for _ in range(3)]
    batched_tangents = tuple(np.stack([d[i] for d in directions]) for i in range(len(args)))
    batched = hd.vmap(lambda *tangents: hd.jvp(row.function, args, tangents)[1])(*batched_tangents)
    for k, direction in enumerate(directions):
        single = hd.jvp(row.function, args, direction)[1]
        np.testing.assert_allclose(batched[k], single, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("row", [r for r in ROWS if r.float32], ids=str)
def test_float32_stays_float32(row):
    args = _args(row, np.float32)
    out = row.function(*args)
    assert np.result_type(out) == np.float32, f"{row.name} returned {np.result_type(out)} for float32 input"
    gradients = hd.grad(lambda *a: hd.numpy.sum(row.function(*a)), argnums=tuple(range(len(args))))(*args)
    for gradient, arg in zip(gradients, args):
        assert gradient.dtype == np.float32 and gradient.shape == arg.shape


def test_every_primitive_has_every_rule():
    missing = []
    for name, primitive in sorted(registry.items()):
        if not primitive.differentiable:
            if primitive.batch is None:
                missing.append(f"{name}: batch")
            continue
        if primitive.vjp is None:
            missing.append(f"{name}: vjp")
        if primitive.jvp is None:
            missing.append(f"{name}: jvp")
        if primitive.batch is None:
            missing.append(f"{name}: batch")
    assert not missing, "primitives lacking rules:\n" + "\n".join(missing)
