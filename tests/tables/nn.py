"""Rows for hodiff.nn: activations and losses (order 2)."""

import numpy as np

import hodiff.nn as nn

from . import Row, positive, uniform


def _away_from_zero(shape, low=0.3, high=2.0):
    return lambda rng: (rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape),)


_LABELS = np.array([2, 0, 3])


def _probabilities(rng):
    logits = rng.uniform(-2, 2, size=(3, 4))
    weights = rng.uniform(0.2, 1.0, size=(3, 4))
    return logits, weights / weights.sum(axis=1, keepdims=True)


ROWS = [
    Row("nn.sigmoid", nn.sigmoid, uniform((5,), low=-4, high=4)),
    Row("nn.log_sigmoid", nn.log_sigmoid, uniform((5,), low=-4, high=4)),
    Row("nn.relu", nn.relu, _away_from_zero((6,))),
    Row("nn.leaky_relu", lambda x: nn.leaky_relu(x, 0.1), _away_from_zero((6,))),
    Row("nn.softplus", nn.softplus, uniform((5,), low=-4, high=4)),
    Row("nn.silu", nn.silu, uniform((5,))),
    Row("nn.gelu", nn.gelu, uniform((5,), low=-3, high=3)),
    Row("nn.gelu[tanh]", lambda x: nn.gelu(x, approximate="tanh"), uniform((5,), low=-3, high=3)),
    Row("nn.softmax", nn.softmax, uniform((3, 4))),
    Row("nn.softmax[axis=0]", lambda x: nn.softmax(x, axis=0), uniform((3, 4))),
    Row("nn.log_softmax", nn.log_softmax, uniform((3, 4))),
    Row("nn.logsumexp[all]", nn.logsumexp, uniform((3, 4))),
    Row("nn.logsumexp[axis=1,keepdims]", lambda x: nn.logsumexp(x, axis=1, keepdims=True), uniform((3, 4))),
    Row("nn.logsumexp[b]", lambda x, b: nn.logsumexp(x, axis=0, b=b), lambda rng: (
        rng.uniform(-2, 2, (3, 2)), rng.uniform(0.5, 2, (3, 1)))),
    Row("nn.cross_entropy[labels]", lambda logits: nn.cross_entropy(logits, _LABELS), uniform((3, 4))),
    Row("nn.cross_entropy[labels,sum,axis=0]", lambda logits: nn.cross_entropy(
        logits.T, _LABELS, axis=0, reduction="sum"), uniform((3, 4))),
    Row("nn.cross_entropy[probabilities]", nn.cross_entropy, _probabilities),
    Row("nn.cross_entropy[none]", lambda logits: nn.cross_entropy(logits, _LABELS, reduction="none"),
        uniform((3, 4))),
    Row("nn.mse", nn.mse, uniform((4,), (4,))),
    Row("nn.mse[none]", lambda p, t: nn.mse(p, t, reduction="none"), positive((2, 3), (3,))),
]
