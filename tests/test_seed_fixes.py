"""Bugs in the seed primitives found by fuzzing the command line, each fixed minimally."""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.core.errors import TracedConversionError


@pytest.mark.parametrize("axis", [0, -1])
def test_sum_over_axis_of_a_0d_input_has_a_gradient(axis):
    # numpy accepts axis=0/-1 on 0-d input (the sum is the input); its VJP divided by len(shape) = 0.
    assert float(hd.grad(lambda x: hnp.sum(x * 3.0, axis=axis))(2.0)) == 3.0


def test_where_with_one_branch_is_refused_and_without_branches_is_nonzero():
    with pytest.raises(ValueError, match="either both or neither of x and y"):  # numpy's ValueError
        hnp.where(np.array([True, False]), np.array([1.0, 2.0]))
    condition = np.array([[True, False], [False, True]])
    assert [i.tolist() for i in hnp.where(condition)] == [i.tolist() for i in np.where(condition)]
    # on a traced condition it is a value-only function: refused by name, read as a guard under hd.record
    x = np.array([1.0, -2.0, 3.0])
    assert float(hd.record(lambda x: hnp.sum(x[hnp.where(x > 0)]))(x)) == 4.0
    with pytest.raises(TracedConversionError, match="nonzero"):
        hd.grad(lambda x: hnp.sum(x[hnp.where(x)]))(x)


def test_matmul_takes_numpys_gufunc_keywords_on_plain_arrays_only():
    a = np.arange(18.0).reshape(2, 3, 3)
    axes = [(-2, -1), (-2, -1), (-2, -1)]
    np.testing.assert_array_equal(hnp.matmul(a, a, axes=axes), np.matmul(a, a, axes=axes))
    with pytest.raises(TypeError, match="matmul: axes= is not supported on traced values"):
        hd.grad(lambda x: hnp.sum(hnp.matmul(x, x, axes=axes)))(a)  # ("_matmul_impl() got ... 'axes'" before)
