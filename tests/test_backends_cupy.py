"""hodiff on CuPy arrays (issue 18): the transforms return CuPy arrays equal to numpy's.

Runs only where CuPy is installed (the gpu extra) and a CUDA device is present; skipped, saying
which is missing, everywhere else.
"""

import numpy as np
import pytest

cp = pytest.importorskip("cupy", reason="CuPy not installed (needs a GPU and the gpu extra: pip install 'hodiff[gpu]')")


def _device_count():
    try:
        return cp.cuda.runtime.getDeviceCount()
    except cp.cuda.runtime.CUDARuntimeError:
        return 0


if _device_count() == 0:
    pytest.skip("CuPy is installed but no CUDA device is present", allow_module_level=True)

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402


def _f(x):
    return hnp.sum(hnp.tanh(x) ** 2 * hnp.exp(-x))


XN = np.linspace(-1.0, 1.5, 5)
VN = np.linspace(0.5, -0.5, 5)


def _check(got, want):
    assert isinstance(got, cp.ndarray), f"returned {type(got).__name__}, not a CuPy array"
    want = np.asarray(want)
    np.testing.assert_allclose(cp.asnumpy(got), want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))


def test_grad_jvp_hvp_hessian_on_cupy():
    x, v = cp.asarray(XN), cp.asarray(VN)
    _check(hd.grad(_f)(x), hd.grad(_f)(XN))
    _check(hd.jvp(_f, (x,), (v,))[1], hd.jvp(_f, (XN,), (VN,))[1])
    _check(hd.hvp(_f, (x,), (v,))[0], hd.hvp(_f, (XN,), (VN,))[0])
    _check(hd.hessian(_f)(x), hd.hessian(_f)(XN))


def test_taylor_and_vmap_on_cupy():
    x = cp.asarray(XN)
    _check(hd.derivative(hnp.sin, order=4)(x), hd.derivative(hnp.sin, order=4)(XN))
    _check(hd.vmap(hd.grad(_f))(cp.stack([x, 2 * x])), hd.vmap(hd.grad(_f))(np.stack([XN, 2 * XN])))
    _check(hd.jacobian(hnp.tanh)(x), hd.jacobian(hnp.tanh)(XN))
