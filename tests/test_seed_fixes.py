"""Bugs in the seed primitives found by fuzzing the command line, each fixed minimally."""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp


@pytest.mark.parametrize("axis", [0, -1])
def test_sum_over_axis_of_a_0d_input_has_a_gradient(axis):
    # numpy accepts axis=0/-1 on 0-d input (the sum is the input); its VJP divided by len(shape) = 0.
    assert float(hd.grad(lambda x: hnp.sum(x * 3.0, axis=axis))(2.0)) == 3.0


def test_where_with_one_branch_is_refused():
    with pytest.raises(TypeError, match="needs x and y"):
        hnp.where(np.array([True, False]), np.array([1.0, 2.0]))
