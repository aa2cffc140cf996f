"""Rows for reductions.py: mean, prod, var/std, max/min, scans, sort, median.

Random inputs have no ties and no zeros; the conventions at ties and zeros
are checked in tests/test_reductions.py.
"""

import hodiff.numpy as hnp

from . import Row, positive, uniform

ROWS = [
    Row("mean[all]", hnp.mean, uniform((3, 4))),
    Row("mean[axis=0]", lambda x: hnp.mean(x, axis=0), uniform((3, 4))),
    Row("mean[axis=(0,-1),keepdims]", lambda x: hnp.mean(x, axis=(0, -1), keepdims=True), uniform((2, 3, 4))),
    Row("mean[0-d]", hnp.mean, uniform(())),
    Row("mean[method]", lambda x: x.mean(axis=-1), uniform((2, 3))),
    Row("prod[all]", hnp.prod, uniform((2, 3))),
    Row("prod[axis=1]", lambda x: hnp.prod(x, axis=1), uniform((3, 4))),
    Row("prod[axis=(0,2),keepdims]", lambda x: hnp.prod(x, axis=(0, 2), keepdims=True), uniform((2, 3, 3))),
    Row("prod[1-d odd]", hnp.prod, uniform((5,))),
    Row("prod[0-d]", hnp.prod, uniform(())),
    Row("var[all]", hnp.var, uniform((3, 4))),
    Row("var[axis=1,ddof=1]", lambda x: hnp.var(x, axis=1, ddof=1), uniform((3, 4))),
    Row("std[axis=-1,keepdims]", lambda x: hnp.std(x, axis=-1, keepdims=True), uniform((3, 4))),
    Row("std[method,ddof]", lambda x: x.std(ddof=1), uniform((5,))),
    Row("max[all]", hnp.max, uniform((3, 4))),
    Row("max[axis=1]", lambda x: hnp.max(x, axis=1), uniform((3, 4))),
    Row("amax[axis=(0,-1),keepdims]", lambda x: hnp.amax(x, axis=(0, -1), keepdims=True), uniform((2, 3, 4))),
    Row("min[axis=0]", lambda x: hnp.min(x, axis=0), uniform((3, 4))),
    Row("amin[0-d]", hnp.amin, uniform(())),
    Row("max[method]", lambda x: x.max(axis=0), uniform((3, 2))),
    Row("ptp", lambda x: hnp.ptp(x, axis=1), uniform((3, 4))),
    Row("cumsum[axis=1]", lambda x: hnp.cumsum(x, axis=1), uniform((3, 4))),
    Row("cumsum[flat]", hnp.cumsum, uniform((2, 3))),
    Row("cumsum[axis=-2]", lambda x: hnp.cumsum(x, axis=-2), uniform((3, 2, 2))),
    Row("cumprod[axis=1]", lambda x: hnp.cumprod(x, axis=1), uniform((2, 5))),
    Row("cumprod[flat]", hnp.cumprod, uniform((2, 3))),
    Row("cumprod[1-d]", hnp.cumprod, positive((4,))),
    Row("sort[last]", hnp.sort, uniform((3, 4))),
    Row("sort[axis=0]", lambda x: hnp.sort(x, axis=0), uniform((4, 3))),
    Row("sort[flat]", lambda x: hnp.sort(x, axis=None), uniform((2, 3))),
    Row("sort[via argsort]", lambda x: hnp.take_along_axis(x, hnp.argsort(x, axis=1), axis=1), uniform((3, 4))),
    Row("max[via argmax]", lambda x: hnp.take_along_axis(x, hnp.argmax(x, axis=0, keepdims=True), axis=0),
        uniform((3, 4))),
    Row("median[odd]", lambda x: hnp.median(x, axis=1), uniform((2, 5))),
    Row("median[even,all]", hnp.median, uniform((2, 3))),
    Row("average[weights]", lambda x, w: hnp.average(x, axis=1, weights=w), lambda rng: (
        rng.uniform(-2, 2, (3, 4)), rng.uniform(0.5, 2, (4,)))),
]
