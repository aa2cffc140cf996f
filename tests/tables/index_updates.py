"""Rows for the functional index updates (indexing.py): hnp.at(x)[index].set/add/multiply/... and
put_along_axis, differentiable in x and in the values, for every kind of numpy index."""

import numpy as np

import hodiff.numpy as hnp

from . import Row, positive, uniform

_MASK = np.array([[True, False, True], [False, False, True], [True, True, False], [False, True, False]])
_ROWS, _COLS = np.tril_indices(3, -1)


def _gmm_lower_triangles(diagonals, lower):
    # GradBench gmm: Ls = zeros((K, D, D)); Ls[:, rows, cols] = l; plus the exp'd diagonal
    k, d = diagonals.shape
    ls = hnp.at(np.zeros((k, d, d)))[:, _ROWS, _COLS].set(lower)
    return hnp.at(ls)[:, np.arange(d), np.arange(d)].set(hnp.exp(diagonals))


def _lstm_rows(x, w):
    # GradBench lstm: s2 = zeros_like(s); for i: s2[i] = cell(...) written row by row
    s2 = hnp.zeros_like(x)
    for i in range(x.shape[0]):
        previous = s2[i - 1] if i else w
        s2 = hnp.at(s2)[i].set(hnp.tanh(x[i] * previous + w))
    return s2


ROWS = [
    Row("at.set[int]", lambda x, v: hnp.at(x)[1].set(v), uniform((4, 3), (3,))),
    Row("at.set[negative int, scalar]", lambda x, v: hnp.at(x)[-1, 0].set(v), uniform((4, 3), ())),
    Row("at.set[slices, broadcast]", lambda x, v: hnp.at(x)[1:3, ::2].set(v), uniform((4, 3), (2,))),
    Row("at.set[repeated ints: last wins]", lambda x, v: hnp.at(x)[[0, 2, 0]].set(v), uniform((4, 3), (3, 3))),
    Row("at.set[bool mask]", lambda x, v: hnp.at(x)[_MASK].set(v), uniform((4, 3), (6,))),
    Row("at.set[ellipsis, None]", lambda x, v: hnp.at(x)[..., None, 0].set(v), uniform((4, 3), (4, 1))),
    Row("at.set[arrays split by a slice]", lambda x, v: hnp.at(x)[[0, 1], :, [1, 2]].set(v),
        uniform((2, 3, 4), (2, 3))),
    Row("at.set[leading length-1 axes of v]", lambda x, v: hnp.at(x)[2].set(v), uniform((4, 3), (1, 1, 3))),
    Row("at.set[constant x, traced v]", lambda v: hnp.at(np.ones((3, 2)))[[2, 0], 1].set(v), uniform((2,)),
        float32=False),  # x is float64: v is cast to it
    Row("at.set[traced x, constant v]", lambda x: hnp.at(x)[1:, 1].set(np.array([5.0, 6.0, 7.0])), uniform((4, 3))),
    Row("at.set[list of traced values]", lambda x: hnp.at(x)[0].set([x[1, 1], 2.0 * x[2, 0], x[0, 0] ** 2]),
        uniform((4, 3)), float32=False),
    Row("at.add[int array]", lambda x, v: hnp.at(x)[:, [2, 0]].add(v), uniform((4, 3), (4, 2))),
    Row("at.add[repeated: accumulates]", lambda x, v: hnp.at(x)[[0, 2, 0, 0]].add(v), uniform((4, 3), (4, 3))),
    Row("at.add[mask, broadcast]", lambda x, v: hnp.at(x)[_MASK].add(v), uniform((4, 3), ())),
    Row("at.subtract[repeated]", lambda x, v: hnp.at(x)[[1, 1], [2, 2]].subtract(v), uniform((4, 3), (2,))),
    Row("at.multiply[slice]", lambda x, v: hnp.at(x)[::2].multiply(v), uniform((4, 3), (3,))),
    Row("at.multiply[repeated: in turn]", lambda x, v: hnp.at(x)[[3, 1, 3]].multiply(v), uniform((4, 3), (3, 1))),
    Row("at.divide[repeated]", lambda x, v: hnp.at(x)[[0, 0, 2]].divide(v),
        lambda rng: (rng.uniform(-2, 2, (4, 3)), rng.uniform(0.5, 2.0, (3, 3)))),
    Row("at.power", lambda x, v: hnp.at(x)[1:3].power(v), positive((4, 3), (3,))),
    Row("at.min[repeated]", lambda x, v: hnp.at(x)[[0, 1, 0]].min(v), uniform((4, 3), (3, 3))),
    Row("at.max", lambda x, v: hnp.at(x)[_MASK].max(v), uniform((4, 3), (6,))),
    Row("at.get", lambda x: hnp.at(x)[[2, 0], 1:].get(), uniform((4, 3))),
    Row("at[chained updates]", lambda x, v: hnp.at(hnp.at(hnp.at(x)[0].set(v))[:, 1].multiply(v[1]))[[1, 1]].add(v),
        uniform((4, 3), (3,))),
    Row("at[0-d array]", lambda x, v: hnp.at(x)[()].set(v * x), uniform((), ())),
    Row("gmm lower triangles", _gmm_lower_triangles, uniform((2, 3), (2, 3)), float32=False),
    Row("lstm rows", _lstm_rows, uniform((3, 2), (2,))),
    Row("put_along_axis", lambda a, v: hnp.put_along_axis(a, np.array([[0, 2], [1, 1], [2, 0]]), v, 1,
                                                         inplace=False), uniform((3, 3), (3, 2))),
    Row("put_along_axis[broadcast indices, axis 0]",
        lambda a, v: hnp.put_along_axis(a, np.array([[2, 0, 1]]), v, 0, inplace=False), uniform((3, 3), (1, 3))),
    Row("put_along_axis[axis None]",
        lambda a, v: hnp.put_along_axis(a, np.array([5, 0]), v, None, inplace=False), uniform((2, 3), (2,))),
]
