"""hodiff.nn: activations and losses, differentiable to every order.

Activations act entrywise on arrays of any shape. sigmoid, relu, softplus and
logsumexp are primitives (one graph node each: sigmoid' = expit(x) expit(-x),
exact where s rounds to 1, logsumexp's VJP is g * softmax); the rest are
compositions of hodiff primitives.

Conventions at kinks (derivatives of every order follow from them):
relu'(0) = 0; leaky_relu'(0) = negative_slope.

>>> import hodiff as hd, hodiff.nn as nn
>>> float(hd.grad(nn.sigmoid)(0.0))
0.25
>>> float(hd.grad(nn.relu)(0.0))  # relu'(0) = 0
0.0
"""

import math

import numpy as np

from .core.trace import Tracer
from .primitives import special as _special
from .primitives.elementwise import (
    add,
    astype,
    equal,
    greater,
    multiply,
    negative,
    subtract,
    tanh,
    where,
)
from .primitives.rules import dtype_of, shape_of
from .primitives.shape import expand_dims
from .primitives.shape import sum as _sum
from .primitives.special import expit, log_expit, logsumexp, ndtr, relu, softplus

__all__ = [
    "sigmoid", "log_sigmoid", "relu", "leaky_relu", "softplus", "silu", "gelu", "tanh", "softmax",
    "log_softmax", "logsumexp", "one_hot", "cross_entropy", "mse",
]

sigmoid = expit
log_sigmoid = log_expit


def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise (so its derivative at 0 is negative_slope).

    >>> import hodiff as hd, hodiff.nn as nn
    >>> float(hd.grad(nn.leaky_relu)(-2.0))
    0.01
    """
    return where(greater(x, 0), x, multiply(x, negative_slope))


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return multiply(x, expit(x))


_GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)


def gelu(x, approximate="none"):
    """The Gaussian error linear unit.

    approximate="none" (or False, the default): the exact x * Phi(x), Phi the
    standard normal CDF (through erfc, accurate for negative x);
    approximate="tanh" (or True): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    >>> import hodiff.nn as nn
    >>> round(float(nn.gelu(1.0)), 6), round(float(nn.gelu(1.0, approximate="tanh")), 6)
    (0.841345, 0.841192)
    """
    if approximate in (False, "none"):
        return multiply(x, ndtr(x))
    if approximate in (True, "tanh"):
        inner = multiply(add(x, multiply(multiply(multiply(x, x), x), 0.044715)), _GELU_TANH_SCALE)
        return multiply(multiply(x, 0.5), add(tanh(inner), 1.0))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh' (or a bool), got {approximate!r}")


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis`` (default the last; None: all entries), computed stably.

    >>> import hodiff.nn as nn
    >>> [round(float(p), 4) for p in nn.softmax(np.array([0.0, np.log(3.0)]))]
    [0.25, 0.75]
    """
    return _special.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """x - logsumexp(x, axis, keepdims=True): log-probabilities along ``axis`` (default the last)."""
    return _special.log_softmax(x, axis=axis)


def one_hot(labels, num_classes, dtype=np.float64, axis=-1):
    """Integer ``labels`` of shape S as one-hot vectors: shape S with a new axis of length num_classes.

    A constant (labels are never differentiated); batched labels under vmap stay batched.
    """
    ndim = len(shape_of(labels)) + 1
    axis = axis % ndim
    classes = np.arange(num_classes).reshape([num_classes if i == axis else 1 for i in range(ndim)])
    return astype(equal(expand_dims(labels, axis), classes), dtype=np.dtype(dtype))


def _reduce(losses, reduction):
    if reduction == "mean":
        size = int(np.prod(shape_of(losses), dtype=np.int64))
        return multiply(_sum(losses), 1.0 / size)
    if reduction == "sum":
        return _sum(losses)
    if reduction == "none":
        return losses
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def cross_entropy(logits, targets, *, axis=-1, reduction="mean"):
    """Cross-entropy between softmax(logits) and targets, as PyTorch's ``F.cross_entropy``.

    logits:  unnormalized scores, shape (..., C, ...) with the C classes along ``axis`` (default last).
    targets: either integer class labels with logits' shape minus the class axis
             (loss_i = -log softmax(logits_i)[targets_i]), or class probabilities with
             logits' shape (loss_i = -sum_c targets_ic log softmax(logits_i)_c; differentiable
             in the targets too).
    reduction: "mean" (default: the mean of loss_i over all i), "sum", or "none" (the loss_i,
             shaped like logits without the class axis).

    >>> import hodiff.nn as nn
    >>> logits = np.array([[2.0, 0.0], [0.0, 2.0]])
    >>> round(float(nn.cross_entropy(logits, np.array([0, 1]))), 6)  # -log(e^2 / (e^2 + 1))
    0.126928
    """
    logits_shape = shape_of(logits)
    if not logits_shape:
        raise ValueError("cross_entropy: logits must have a class axis (got a scalar)")
    axis = axis % len(logits_shape)
    num_classes = logits_shape[axis]
    log_probs = log_softmax(logits, axis=axis)
    if not isinstance(targets, Tracer):
        targets = np.asarray(targets)
    if np.issubdtype(dtype_of(targets), np.integer) or dtype_of(targets) == np.bool_:
        expected = logits_shape[:axis] + logits_shape[axis + 1:]
        if tuple(shape_of(targets)) != expected:
            raise ValueError(
                f"cross_entropy: integer labels of shape {tuple(shape_of(targets))} for logits of shape "
                f"{logits_shape} (classes on axis {axis}); labels need shape {expected}")
        if not isinstance(targets, Tracer) and targets.size and (targets.min() < 0 or targets.max() >= num_classes):
            raise ValueError(f"cross_entropy: labels must lie in [0, {num_classes}), got "
                             f"{targets.min()}..{targets.max()}")
        weights = one_hot(targets, num_classes, dtype=dtype_of(log_probs), axis=axis)
    else:
        if tuple(shape_of(targets)) != tuple(logits_shape):
            raise ValueError(
                f"cross_entropy: probability targets of shape {tuple(shape_of(targets))} for logits of shape "
                f"{logits_shape}; they need the same shape (or pass integer labels)")
        weights = targets
    losses = negative(_sum(multiply(weights, log_probs), axis=axis))
    return _reduce(losses, reduction)


def mse(predictions, targets, reduction="mean"):
    """Mean squared error: mean((predictions - targets)^2) (reduction "mean", "sum" or "none").

    >>> import hodiff.nn as nn
    >>> float(nn.mse(np.array([1.0, 2.0]), np.array([0.0, 0.0])))
    2.5
    """
    difference = subtract(predictions, targets)
    return _reduce(multiply(difference, difference), reduction)

