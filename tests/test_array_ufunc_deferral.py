"""tracer <op> other defers (NotImplemented) to a type that overrides __array_ufunc__, as ndarray
does under NEP 13 and autograd's Box does: xarray.DataArray * tracer and tracer * DataArray both give
a DataArray holding the traced values, and the derivative flows through it."""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp


class Wrapped:
    """A minimal NEP 13 container: ufuncs unwrap it, apply, and wrap again."""

    def __init__(self, data):
        self.data = data

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = [x.data if isinstance(x, Wrapped) else x for x in inputs]
        return Wrapped(getattr(ufunc, method)(*inputs, **kwargs))

    def __mul__(self, other):
        return np.multiply(self, other)

    __rmul__ = __mul__


class Refusing:
    __array_ufunc__ = None  # NEP 13: "I do not take part in ufuncs": binary ops go to my reflected method

    def __rmul__(self, other):
        return "Refusing.__rmul__"


def test_tracer_times_an_array_ufunc_type_defers_to_it():
    base = np.array([1.0, 2.0, 3.0])
    for f in (lambda x: hnp.sum((x * Wrapped(base)).data), lambda x: hnp.sum((Wrapped(base) * x).data)):
        assert isinstance(f(2.0), float) or np.ndim(f(2.0)) == 0
        assert float(hd.grad(f)(2.0)) == 6.0
        assert float(hd.jvp(f, (2.0,), (1.0,))[1]) == 6.0


def test_array_ufunc_none_gets_its_reflected_operator():
    assert hd.grad(lambda x: (x * Refusing(), 0.0 * x)[1])(1.0) == 0.0
    seen = []
    hd.grad(lambda x: seen.append(x * Refusing()) or x)(1.0)
    assert seen == ["Refusing.__rmul__"]


def test_numpy_values_do_not_defer():
    f = lambda x: hnp.sum(x * np.arange(3.0) + x * np.float32(2.0) + x * 1)  # noqa: E731
    assert float(hd.grad(f)(1.0)) == (0.0 + 1.0 + 2.0) + 3 * 2.0 + 3 * 1.0


def test_xarray_dataarray():
    xr = pytest.importorskip("xarray")
    base = np.array([1.0, 2.0, 3.0])
    f = lambda x: hnp.sum((x * xr.DataArray(base)).data)  # noqa: E731
    assert float(f(2.0)) == 12.0
    assert float(hd.grad(f)(2.0)) == 6.0
