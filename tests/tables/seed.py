"""Rows for the seed primitives (elementwise.py and shape.py as first written)."""

import hodiff.numpy as hnp

from . import Row, positive, uniform

ROWS = [
    Row("add[broadcast]", lambda x, y: x + y, uniform((3, 4), (4,)), order=3),
    Row("subtract[broadcast]", lambda x, y: x - y, uniform((3, 1), (1, 4)), order=3),
    Row("multiply[broadcast]", lambda x, y: x * y, uniform((2, 3), (3,)), order=3),
    Row("true_divide", lambda x, y: x / y, lambda rng: (rng.uniform(-2, 2, (3,)), rng.uniform(0.5, 2, (3,))),
        order=3),
    Row("negative", lambda x: -x, uniform((3,)), order=3),
    Row("power[const]", lambda x: x ** 2.5, positive((4,)), order=3),
    Row("power[both]", lambda x, y: x ** y, positive((4,), (4,)), order=3),
    Row("exp", hnp.exp, uniform((4,)), order=3),
    Row("log", hnp.log, positive((4,)), order=3),
    Row("sin", hnp.sin, uniform((4,)), order=3),
    Row("cos", hnp.cos, uniform((4,)), order=3),
    Row("tanh", hnp.tanh, uniform((4,)), order=3),
    Row("sqrt", hnp.sqrt, positive((4,)), order=3),
    Row("where", lambda x, y: hnp.where(x > 0, x, y), uniform((2, 3), (3,)), order=3),
    Row("sum[all]", hnp.sum, uniform((3, 4))),
    Row("sum[axis=1]", lambda x: hnp.sum(x, axis=1), uniform((3, 4))),
    Row("sum[axis=(0,2),keepdims]", lambda x: hnp.sum(x, axis=(0, 2), keepdims=True), uniform((2, 3, 4))),
    Row("reshape", lambda x: hnp.reshape(x, (4, 3)) * 1.5, uniform((3, 4))),
    Row("broadcast_to", lambda x: hnp.broadcast_to(x, (2, 3, 4)), uniform((3, 1))),
    Row("transpose", lambda x: hnp.transpose(x, (2, 0, 1)), uniform((2, 3, 4))),
    Row("getitem[slice]", lambda x: x[1:, ::2], uniform((3, 4))),
    Row("getitem[int array]", lambda x: x[[0, 2, 2]], uniform((3, 4))),
    Row("getitem[bool mask]", lambda x: x[x > 0], uniform((5,))),
    Row("concatenate", lambda x, y: hnp.concatenate([x, y], axis=1), uniform((2, 3), (2, 1))),
    Row("stack", lambda x, y: hnp.stack([x, y], axis=1), uniform((2, 3), (2, 3))),
    Row("tensordot", lambda a, b: hnp.tensordot(a, b, axes=([1, 2], [0, 1])), uniform((2, 3, 4), (3, 4, 2))),
    Row("tensordot[axes=0]", lambda a, b: hnp.tensordot(a, b, axes=0), uniform((2,), (3,))),
]
