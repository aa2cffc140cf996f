"""Plain numpy and scipy.special called on traced values: one rule (issue 19, Python API messages).

numpy's dispatch protocols send a numpy function or ufunc called on a traced
value (a reverse-mode tracer or a Dual) to hodiff's function of the same name;
a function hodiff does not differentiate is refused with its own name. On the
main branch before, np.sum worked on a Dual (through the .sum method) while
np.where and np.linalg.norm raised a message that named no function, and
scipy.special.expit advised the non-existent hodiff.numpy.expit.
"""

import numpy as np
import pytest
import scipy.special

import hodiff as hd
import hodiff.numpy as hnp
import hodiff.scipy.special as hsp
from hodiff.core.errors import TracedConversionError

X = np.array([0.7, -1.3, 2.1])

# (name, plain numpy/scipy code, the same through hodiff's namespace)
SAME_AS_HODIFF = [
    ("where", lambda x: np.sum(np.where(x > 0, x, 0.0) ** 2), lambda x: hnp.sum(hnp.where(x > 0, x, 0.0) ** 2)),
    ("linalg.norm", lambda x: np.linalg.norm(x), lambda x: hnp.linalg.norm(x)),
    ("dot", lambda x: np.dot(x, x * x), lambda x: hnp.dot(x, x * x)),
    ("concatenate of mixed", lambda x: np.sum(np.concatenate([x, np.ones(2)]) ** 3),
     lambda x: hnp.sum(hnp.concatenate([x, np.ones(2)]) ** 3)),
    ("fft", lambda x: np.sum(np.abs(np.fft.fft(x)) ** 2), lambda x: hnp.sum(hnp.abs(hnp.fft.fft(x)) ** 2)),
    ("scipy.special.expit", lambda x: np.sum(scipy.special.expit(x)), lambda x: hnp.sum(hsp.expit(x))),
    ("scipy.special.gammaln", lambda x: np.sum(scipy.special.gammaln(x * x + 1)),
     lambda x: hnp.sum(hsp.gammaln(x * x + 1))),
]


@pytest.mark.parametrize("name, plain, through_hodiff", SAME_AS_HODIFF, ids=[c[0] for c in SAME_AS_HODIFF])
def test_plain_numpy_runs_hodiffs_function_in_reverse_and_forward_mode(name, plain, through_hodiff):
    expected = hd.grad(through_hodiff)(X)
    np.testing.assert_allclose(hd.grad(plain)(X), expected, rtol=1e-13)
    np.testing.assert_allclose(hd.jvp(plain, (X,), (np.ones(3),))[1], expected.sum(), rtol=1e-13)
    np.testing.assert_allclose(plain(hd.Dual(X, np.ones(3))).tangent, expected.sum(), rtol=1e-13)
    # and central differences of numpy's own function, which nobody here wrote
    np.testing.assert_allclose(expected, hd.numerical_jacobian(plain, X), rtol=1e-6, atol=1e-8)


def test_duck_typed_numpy_helpers_keep_working():
    assert hd.grad(lambda x: np.shape(x)[0] * np.ndim(x) * hnp.sum(x))(X).tolist() == [3.0, 3.0, 3.0]


@pytest.mark.parametrize("call, name", [
    (lambda x: np.frexp(x)[0], "numpy.frexp"),
    (lambda x: np.unwrap(x), "numpy.unwrap"),
    (lambda x: np.add.reduce(x), "numpy.add.reduce"),
    (lambda x: scipy.special.struve(1.0, x), "scipy.special.struve"),
], ids=["frexp", "unwrap", "add.reduce", "struve"])
def test_a_function_hodiff_does_not_differentiate_is_refused_by_name(call, name):
    for run in (lambda: hd.grad(lambda x: hnp.sum(call(x)))(X), lambda: call(hd.Dual(X, np.ones(3)))):
        with pytest.raises(TracedConversionError, match=name.replace(".", r"\.") + " is not differentiable"):
            run()


def test_ufunc_keywords_are_refused_not_ignored():
    with pytest.raises(TracedConversionError, match=r"numpy\.sin was called .* keyword arguments"):
        hd.grad(lambda x: hnp.sum(np.sin(x, where=x > 0)))(X)


def test_writing_a_traced_value_into_a_numpy_array_explains_the_functional_update():
    def f(x):
        y = np.zeros(2)
        y[0] = x
        return y.sum()

    with pytest.raises(ValueError) as raised:  # numpy's own error, chained to hodiff's
        hd.grad(f)(1.0)
    assert isinstance(raised.value.__cause__, TracedConversionError)
    assert "hnp.at(y)[i].set(x)" in str(raised.value.__cause__)


def test_duals_follow_the_dtype_rule_of_every_transform():
    with pytest.raises(TypeError, match=r"Dual requires real- or complex-valued inputs .* dtype int64"):
        hd.Dual(1, 1)
    with pytest.raises(TypeError, match="dtype int64"):
        hd.grad(lambda x: x)(1)
    # an integer tangent is taken in the primal's precision, as jvp takes it
    for primal in (2.0, np.float32(2.0), np.ones(2, np.float32)):
        dual = hd.Dual(primal, np.ones(np.shape(primal), dtype=int) if np.ndim(primal) else 1)
        assert np.result_type(dual.tangent) == np.result_type(primal)
        assert np.result_type((dual * 3).tangent) == hd.jvp(lambda x: x * 3, (primal,), (dual.tangent,))[1].dtype
