"""autograd.misc.optimizers on hodiff: ``sgd``, ``rmsprop`` and ``adam`` over pytrees of parameters.

Each takes ``grad(x, i)`` (the gradient at parameters x in iteration i), the starting parameters x (any
pytree), an optional ``callback(x, i, g)`` called before each step, and returns the final parameters in
x's structure. The steps run on one flat vector (``flatten``), as autograd's ``unflatten_optimizer`` does.
"""

import functools

import numpy as _np

from .flatten import flatten

__all__ = ["unflatten_optimizer", "sgd", "rmsprop", "adam"]


def unflatten_optimizer(optimize):
    """``optimize(grad, x, callback, ...)`` on 1-D arrays -> the same on pytrees of arrays."""

    @functools.wraps(optimize)
    def on_pytrees(grad, x0, callback=None, *args, **kwargs):
        flat_x0, unflatten = flatten(x0)

        def flat_grad(x, i):
            return flatten(grad(unflatten(x), i))[0]

        flat_callback = None if callback is None else (lambda x, i, g: callback(unflatten(x), i, unflatten(g)))
        return unflatten(optimize(flat_grad, flat_x0, flat_callback, *args, **kwargs))

    return on_pytrees


@unflatten_optimizer
def sgd(grad, x, callback=None, num_iters=200, step_size=0.1, mass=0.9):
    """Stochastic gradient descent with momentum: v <- mass v - (1 - mass) g, x <- x + step_size v."""
    velocity = _np.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return x


@unflatten_optimizer
def rmsprop(grad, x, callback=None, num_iters=100, step_size=0.1, gamma=0.9, eps=10 ** -8):
    """RMSProp: a running mean of g^2 (decay gamma, starting at 1) scales each step g / (sqrt(mean) + eps)."""
    mean_square = _np.ones(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        mean_square = mean_square * gamma + g ** 2 * (1 - gamma)
        x = x - step_size * g / (_np.sqrt(mean_square) + eps)
    return x


@unflatten_optimizer
def adam(grad, x, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, eps=10 ** -8):
    """Adam (Kingma and Ba, 2015): bias-corrected running moments m, v of g; x <- x - step m / (sqrt(v) + eps)."""
    m = _np.zeros(len(x))
    v = _np.zeros(len(x))
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * (g ** 2) + b2 * v
        m_hat = m / (1 - b1 ** (i + 1))
        v_hat = v / (1 - b2 ** (i + 1))
        x = x - step_size * m_hat / (_np.sqrt(v_hat) + eps)
    return x
