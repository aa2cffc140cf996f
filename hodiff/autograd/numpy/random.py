"""autograd.numpy.random: numpy.random (random numbers are constants to every transform)."""

import numpy.random as _random
from numpy.random import *  # noqa: F401,F403


def __getattr__(name):
    return getattr(_random, name)
