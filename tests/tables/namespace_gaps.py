"""Rows for the autograd idioms hodiff.numpy lacked (issue 13): arrays built from traced values,
r_/c_, linspace with traced ends, gradient, diff, cross, the splits, select, partition, rollaxis,
nan_to_num, reductions of lists and integer casts (creation.py, numeric.py, shape.py)."""

import warnings

import numpy as np

import hodiff.numpy as hnp

from . import Row, uniform

_C = np.linspace(-1.0, 1.0, 6).reshape(3, 2)
_NONFINITE = np.array([0.0, np.nan, np.inf, -np.inf])
_CONDITIONS = [np.array([[True, False, False], [False, True, False]]),
               np.array([[True, True, False], [False, True, True]])]


_XP = np.array([-2.6, -1.3, -0.2, 0.7, 1.9, 2.7])  # interp's knots, past uniform()'s range at both ends
_FP = np.array([0.5, -1.0, 2.0, 1.5, -0.5, 1.0])
_X_INTERP = np.array([-3.0, -2.0, -0.9, 0.35, 1.2, 2.2, 3.1])  # off the knots, two beyond the ends


def _cross_2_and_3(a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # numpy 2 deprecates 2-vectors; still supported
        return hnp.cross(a, b)


def _cast_to_int_then_index(w):
    # autograd's test_cast_to_int: integers cut out of the traced array, cast, used as indices
    indices = hnp.int64(w[:, -1] * 0.0 + np.array([0.2, 2.3, 1.7]))
    return w[:, :-1][indices]


# Rows whose integers come from traced values index with them: not batchable (a batched index).
NOT_BATCHABLE = {"int64 of a traced array", "astype(int) as indices", "array[with dtype=int] as indices"}


ROWS = [
    Row("array[scalars]", lambda x: hnp.array([x[0], 2 * x[1], x[0] * x[1]]), uniform((2,))),
    Row("array[scalars and a constant]", lambda x: hnp.array([x[0], 2.5, x[1]]), uniform((2,)), float32=False),
    Row("array[nested lists]", lambda x: hnp.array([[x[0], x[1] ** 2], [x[0] * x[1], x[1]]]), uniform((2,))),
    Row("array[of arrays]", lambda x, y: hnp.array([x, y + 1, x * y]), uniform((3, 2), (3, 2))),
    Row("array[tuple, ndmin]", lambda x: hnp.array((x[1], x[0]), ndmin=3), uniform((2,))),
    Row("array[of a tracer]", lambda x: hnp.array(x), uniform((2, 2))),
    Row("array[dtype=float32]", lambda x: hnp.array([x[0], x[1]], dtype=np.float32), uniform((2,)),
        rtol=2e-2, atol=2e-3, float32=False),
    Row("asarray[list of rows]", lambda x: hnp.asarray([x[0], x[1] * x[0]]), uniform((2, 3))),
    Row("r_[arrays, constant, slice]", lambda x: hnp.r_[x, _C[0], 1:4, x[0]], uniform((3,)), float32=False),
    Row("r_[2-d along 0]", lambda x: hnp.r_[x, _C, x * x], uniform((3, 2)), float32=False),
    Row("r_[directive axis,ndmin]", lambda x, y: hnp.r_["0,2", x, y], uniform((3,), (3,))),
    Row("r_[directive -1]", lambda x: hnp.r_["-1", x, _C], uniform((3, 2)), float32=False),
    Row("c_[2-d]", lambda x: hnp.c_[x, _C, x], uniform((3, 2)), float32=False),
    Row("c_[1-d columns]", lambda x, y: hnp.c_[x, y, x * y], uniform((4,), (4,))),
    Row("mean[list]", lambda x: hnp.mean([x[0], x[1] + 2, x[0] * x[1]]), uniform((2,))),
    Row("mean[tuple of arrays]", lambda x, y: hnp.mean((x, y * 2), axis=0), uniform((3,), (3,))),
    Row("std[list]", lambda x: hnp.std([x[0], x[1] + 2, x[0] * x[1]]), uniform((2,))),
    Row("var[list, ddof]", lambda x: hnp.var([x[0], x[1] + 2, x[0] * x[1]], ddof=1), uniform((2,))),
    Row("sum[list]", lambda x: hnp.sum([x[0], x[1], x[0]]), uniform((2,))),
    Row("linspace", lambda a, b: hnp.linspace(a, b, 5), uniform((), ())),
    Row("linspace[one traced end]", lambda b: hnp.linspace(1.2, b, 4), uniform(()), float32=False),
    Row("linspace[arrays, axis=1]", lambda a, b: hnp.linspace(a, b, 3, axis=1), uniform((2,), (2,))),
    Row("linspace[endpoint=False]", lambda a, b: hnp.linspace(a, b, 4, endpoint=False), uniform((), ())),
    Row("linspace[num=1]", lambda a, b: hnp.linspace(a, b, 1), uniform((), ())),
    Row("linspace[retstep]", lambda a, b: hnp.linspace(a, b, 3, retstep=True)[1], uniform((), ())),
    Row("gradient[1-d]", hnp.gradient, uniform((6,))),
    Row("gradient[2-d, both axes]", lambda x: hnp.stack(hnp.gradient(x)), uniform((4, 5))),
    Row("gradient[axis tuple, spacing]", lambda x: hnp.gradient(x, 0.5, axis=(0, -1))[1], uniform((3, 4, 5))),
    Row("gradient[coordinates, edge_order=2]",
        lambda x: hnp.gradient(x, np.array([0.0, 0.5, 1.5, 1.75, 3.0]), edge_order=2), uniform((5,)),
        float32=False),
    Row("gradient[uniform, edge_order=2]", lambda x: hnp.gradient(x, 2.0, axis=1, edge_order=2),
        uniform((2, 4))),
    Row("diff", hnp.diff, uniform((5,))),
    Row("diff[n=2, axis=0]", lambda x: hnp.diff(x, 2, axis=0), uniform((5, 3))),
    Row("diff[prepend, append]", lambda x: hnp.diff(x, prepend=0.5, append=x[:, :1]), uniform((2, 4)), float32=False),
    Row("cross[3-vectors]", hnp.cross, uniform((4, 3), (4, 3))),
    Row("cross[axes]", lambda a, b: hnp.cross(a, b, axisa=0, axisb=1, axisc=0), uniform((3, 2), (2, 3))),
    Row("cross[axis, broadcast]", lambda a, b: hnp.cross(a, b, axis=0), uniform((3, 2), (3, 1))),
    Row("cross[2- and 3-vectors]", _cross_2_and_3, uniform((2,), (3,))),
    Row("cross[2-vectors]", _cross_2_and_3, uniform((3, 2), (3, 2))),
    Row("vsplit", lambda x: hnp.vsplit(x, [1, 2])[2], uniform((4, 3))),
    Row("hsplit[2-d]", lambda x: hnp.hsplit(x, 2)[1], uniform((2, 4))),
    Row("hsplit[1-d]", lambda x: hnp.hsplit(x, [1])[1], uniform((4,))),
    Row("dsplit", lambda x: hnp.dsplit(x, 2)[0], uniform((2, 2, 4))),
    Row("row_stack", lambda x, y: hnp.row_stack([x, y]), uniform((3,), (2, 3))),
    Row("select", lambda a, b: hnp.select(_CONDITIONS, [a, b], default=-1.5), uniform((2, 3), (2, 3))),
    Row("select[traced default]", lambda a, b: hnp.select(_CONDITIONS[:1], [a], default=b), uniform((2, 3), (3,))),
    Row("partition", lambda x: hnp.partition(x, 3), uniform((7,))),
    Row("partition[kth list, axis 0]", lambda x: hnp.partition(x, [0, 2], axis=0), uniform((4, 3))),
    Row("partition[axis None]", lambda x: hnp.partition(x, 4, axis=None), uniform((2, 3))),
    Row("rollaxis", lambda x: hnp.rollaxis(x, 2), uniform((2, 3, 4))),
    Row("rollaxis[start]", lambda x: hnp.rollaxis(x, 0, 2), uniform((2, 3, 4))),
    Row("nan_to_num", lambda x: hnp.sin(hnp.nan_to_num(x + _NONFINITE)), uniform((4,)), float32=False),
    Row("nan_to_num[fills]", lambda x: hnp.nan_to_num(x + _NONFINITE, nan=1.0, posinf=2.0, neginf=-2.0),
        uniform((4,)), float32=False),
    Row("int64 of a traced array", _cast_to_int_then_index, uniform((3, 4))),
    Row("astype(int) as indices", lambda x: x[(x[0] * 0.0 + 2.2).astype(int)], uniform((3, 2))),
    Row("array[with dtype=int] as indices", lambda x: x[hnp.array([x[0, 0] * 0.0 + 1.0, 0.0], dtype=int)],
        uniform((2, 2)), float32=False),
    Row("int casts times x", lambda x: x * hnp.round(x).astype(int) + x * hnp.int32(x * 2.0), uniform((3,)),
        float32=False),
    # numpy 2's array-API names (they were refused as not differentiable)
    Row("pow", lambda x, y: hnp.pow(x, 3.0) + hnp.pow(x * x + 1.0, y), uniform((2, 3), (2, 3))),
    Row("concat[axis=None]", lambda x, y: hnp.concat([x, y], axis=None), uniform((2, 2), (3,))),
    Row("permute_dims", lambda x: hnp.permute_dims(x, (2, 0, 1)), uniform((2, 3, 4))),
    Row("matrix_transpose", hnp.matrix_transpose, uniform((2, 3, 4))),
    Row("unstack", lambda x: hnp.unstack(x, axis=1)[2] * hnp.unstack(x)[0][1], uniform((3, 4))),
    Row("cumulative_sum[include_initial]", lambda x: hnp.cumulative_sum(x, axis=1, include_initial=True),
        uniform((3, 4))),
    Row("cumulative_prod", lambda x: hnp.cumulative_prod(x, include_initial=True), uniform((4,))),
    Row("vecdot", lambda x, y: hnp.vecdot(x, y, axis=0), uniform((3, 2), (3, 1))),
    Row("matvec", hnp.matvec, uniform((2, 3, 4), (4,))),
    Row("vecmat", hnp.vecmat, uniform((2, 3), (3, 4))),
    # refused as not differentiable before stop 37
    Row("copy", lambda x: hnp.copy(x) * x.copy(), uniform((2, 3))),
    Row("polyval", lambda p, x: hnp.polyval(p, x), uniform((4,), (3,))),
    Row("polyval[constant coefficients]", lambda x: hnp.polyval(np.array([0.5, -1.0, 2.0]), x), uniform((2, 2)),
        float32=False),
    Row("trapezoid", lambda y: hnp.trapezoid(y, dx=0.5), uniform((5,))),
    Row("trapezoid[traced x, axis 0]", lambda y, x: hnp.trapezoid(y, x, axis=0), uniform((4, 3), (4, 3))),
    Row("trapezoid[one abscissa for each row]", lambda y, x: hnp.trapezoid(y, x), uniform((2, 4), (4,))),
    # (float64 knots and values: float32 rows would be promoted, as numpy's interp is)
    Row("interp[traced x]", lambda x: hnp.interp(x, _XP, _FP), uniform((2, 3)), float32=False),
    Row("interp[traced fp, left and right]", lambda f, e: hnp.interp(_X_INTERP, _XP, f, left=e, right=2 * e),
        uniform((6,), ()), float32=False),
    Row("interp[traced knots]", lambda d: hnp.interp(_X_INTERP, hnp.cumsum(d * d + 0.5) - 3.5, _FP),
        uniform((6,), low=-1.0, high=1.0), float32=False),
    Row("interp[period]", lambda x, f: hnp.interp(x, _XP, f, period=2.5), uniform((4,), (6,)), float32=False),
]

