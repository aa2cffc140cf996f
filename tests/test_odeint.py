"""hodiff.scipy.integrate.odeint: values are scipy's; derivatives in y0, t and args, in reverse mode (the
adjoint method) and forward mode (the sensitivity equations), checked against the closed form of
y' = -k y (y(t) = y0 exp(-k (t - t0))) and against central differences (scipy.differentiate) of scipy's
own odeint on a nonlinear system."""

import numpy as np
import pytest
import scipy.integrate
from scipy.differentiate import derivative

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.scipy.integrate import odeint

TOL = dict(rtol=1e-11, atol=1e-12)
T = np.array([0.2, 0.5, 1.3, 2.0])
W = np.array([[1.0], [-2.0], [3.0], [0.5]])  # weights of the outputs: a scalar function of every row


def decay(y0, t, k):
    return odeint(lambda y, s, k: -k * y, y0, t, args=(k,), **TOL)


def decay_exact(y0, t, k):
    return (y0 * np.exp(-k * (t - t[0])))[:, None]


def weighted(y0, t, k):
    return hnp.sum(W * decay(y0, t, k))


def exact_gradients(y0, t, k):
    y = decay_exact(y0, t, k)[:, 0]
    w = W[:, 0]
    dy0 = np.sum(w * y / y0)
    dt = w * -k * y
    dt[0] = np.sum(w[1:] * k * y[1:])  # y(t[i]) = y0 exp(-k (t[i] - t[0])): t[0] moves every later row
    dk = np.sum(w * -(t - t[0]) * y)
    return dy0, dt, dk


def test_values_are_scipys_and_the_closed_form():
    np.testing.assert_allclose(decay(2.0, T, 0.7), decay_exact(2.0, T, 0.7), rtol=1e-9)
    func = lambda y, t, a: np.array([y[1], -a * np.sin(y[0])])  # noqa: E731
    np.testing.assert_array_equal(odeint(func, [1.0, 0.0], T, args=(2.0,)),
                                  scipy.integrate.odeint(func, [1.0, 0.0], T, args=(2.0,)))


def test_reverse_mode_against_the_closed_form():
    y0, k = 2.0, 0.7
    dy0, dt, dk = hd.grad(weighted, argnums=(0, 1, 2))(y0, T, k)
    e_y0, e_t, e_k = exact_gradients(y0, T, k)
    np.testing.assert_allclose(dy0, e_y0, rtol=1e-8)
    np.testing.assert_allclose(dt, e_t, rtol=1e-8)
    np.testing.assert_allclose(dk, e_k, rtol=1e-8)


def test_forward_mode_against_the_closed_form():
    y0, k = 2.0, 0.7
    e_y0, e_t, e_k = exact_gradients(y0, T, k)
    for argnum, expected in [(0, e_y0), (2, e_k)]:
        primals = [y0, T, k]
        tangents = [0.0, np.zeros_like(T), 0.0]
        tangents[argnum] = 1.0
        _, tangent = hd.jvp(weighted, tuple(primals), tuple(tangents))
        np.testing.assert_allclose(tangent, expected, rtol=1e-8)
    for i in range(len(T)):  # each time alone: the rows of d out / d t
        _, tangent = hd.jvp(weighted, (y0, T, k), (0.0, np.eye(len(T))[i], 0.0))
        np.testing.assert_allclose(tangent, e_t[i], rtol=1e-8, atol=1e-12)


def test_second_derivatives_against_the_closed_form():
    y0, k = 2.0, 0.7
    last = lambda k: decay(y0, T, k)[-1, 0]  # noqa: E731
    expected = (T[-1] - T[0]) ** 2 * y0 * np.exp(-k * (T[-1] - T[0]))
    np.testing.assert_allclose(hd.grad(hd.grad(last))(k), expected, rtol=1e-7)  # reverse over reverse
    _, fwd_over_rev = hd.jvp(hd.grad(last), (k,), (1.0,))
    np.testing.assert_allclose(fwd_over_rev, expected, rtol=1e-7)
    _, first = hd.jvp(lambda k: hd.jvp(last, (k,), (1.0,))[1], (k,), (1.0,))  # forward over forward
    np.testing.assert_allclose(first, expected, rtol=1e-7)
    # d^2 / dy0 dk: -(t - t0) exp(-k (t - t0))
    mixed = hd.grad(lambda y0: hd.grad(lambda k: decay(y0, T, k)[-1, 0])(k))(y0)
    np.testing.assert_allclose(mixed, -(T[-1] - T[0]) * np.exp(-k * (T[-1] - T[0])), rtol=1e-7)


def pendulum(y, t, a, b):
    """A nonlinear, time-dependent system with a tuple of array arguments (autograd's test's layout)."""
    return hnp.stack([y[1], -a[0] * hnp.sin(y[0]) - b * y[1] + hnp.cos(t) * a[1]])


def pendulum_np(y, t, a, b):
    return np.array([y[1], -a[0] * np.sin(y[0]) - b * y[1] + np.cos(t) * a[1]])


Y0, A, B = np.array([0.8, -0.3]), np.array([2.0, 0.4]), 0.25
OUT = np.array([[0.3, -1.0], [2.0, 0.5], [-0.7, 1.5], [1.0, 1.0]])


def pendulum_loss(y0, t, a, b):
    return hnp.sum(OUT * odeint(pendulum, y0, t, args=(a, b), **TOL))


def central(loss_of_x, x, step=1e-2):
    """Central differences (scipy.differentiate, adaptive order) of scipy's odeint, one coordinate at a time."""
    x = np.asarray(x, dtype=float)
    grad = np.empty(x.shape)
    for i in np.ndindex(x.shape):
        def along(h, i=i):
            out = []
            for hj in np.ravel(h):
                xx = x.copy()
                xx[i] += hj
                out.append(loss_of_x(xx))
            return np.reshape(out, np.shape(h))
        grad[i] = derivative(along, 0.0, initial_step=step).df
    return grad


def pendulum_loss_np(y0, t, a, b):
    return float(np.sum(OUT * scipy.integrate.odeint(pendulum_np, y0, t, args=(a, b), **TOL)))


@pytest.mark.parametrize("argnum", [0, 1, 2, 3])
def test_reverse_and_forward_against_central_differences(argnum):
    primals = [Y0, T, A, B]

    def loss_np(x):
        values = list(primals)
        values[argnum] = x if np.ndim(primals[argnum]) else float(x)
        return pendulum_loss_np(*values)

    expected = central(loss_np, primals[argnum])
    reverse = hd.grad(pendulum_loss, argnums=argnum)(*primals)
    np.testing.assert_allclose(reverse, expected, rtol=1e-6, atol=1e-8)
    forward = hd.jacfwd(pendulum_loss, argnums=argnum)(*primals)
    np.testing.assert_allclose(forward, expected, rtol=1e-6, atol=1e-8)


def test_args_given_as_a_pytree_and_a_scalar_y0():
    def f(y, t, p):
        return -p["k"] * y + p["c"]

    def last(k, c):
        return odeint(f, 1.5, T, args=({"k": k, "c": c},), **TOL)[-1, 0]

    k, c = 0.9, 0.3
    tau = T[-1] - T[0]
    # y = c/k + (y0 - c/k) exp(-k tau)
    e_c = (1 - np.exp(-k * tau)) / k
    e_k = -c / k**2 + c / k**2 * np.exp(-k * tau) - (1.5 - c / k) * tau * np.exp(-k * tau)
    dk, dc = hd.grad(last, argnums=(0, 1))(k, c)
    np.testing.assert_allclose([dk, dc], [e_k, e_c], rtol=1e-8)


def test_a_traced_value_func_closes_over_is_refused():
    with pytest.raises(TypeError, match="odeint.*args="):
        hd.grad(lambda k: odeint(lambda y, t: -k * y, 1.0, T)[-1, 0])(0.5)
    with pytest.raises(TypeError, match="odeint.*args="):
        hd.grad(lambda y0, k: odeint(lambda y, t: -k * y, y0, T)[-1, 0], argnums=(0, 1))(1.0, 0.5)


def test_options_the_rules_cannot_honour_are_refused_when_traced():
    with pytest.raises(NotImplementedError, match="odeint: full_output"):
        hd.grad(lambda k: odeint(lambda y, t, k: -k * y, 1.0, T, args=(k,), full_output=True)[0][-1, 0])(0.5)


def test_a_cotangent_buffer_refilled_between_calls_gets_its_own_cotangents():
    # The adjoint solve is shared by one node's argument rules through a cache keyed by object identity; a
    # caller that fills one cotangent array row by row (a Jacobian loop) got the first row's answer for every
    # row. The cache now also compares values. Reference: the closed form d y(1) / d y0 = expm(A).
    import scipy.linalg

    a = np.array([[-0.5, 1.0], [-1.0, -0.3]])
    _, pullback = hd.vjp(lambda y0: odeint(lambda y, s, a: hnp.dot(a, y), y0, np.array([0.0, 1.0]), args=(a,),
                                           **TOL), np.array([1.0, 0.5]))
    buffer, rows = np.zeros((2, 2)), []
    for i in range(2):
        buffer[:] = 0.0
        buffer[1, i] = 1.0
        rows.append(np.array(pullback(buffer)[0]))
    np.testing.assert_allclose(np.array(rows), scipy.linalg.expm(a), rtol=1e-9)  # row i: d y(1)_i / d y0
