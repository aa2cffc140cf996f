"""Rows of the systematic primitive tests, one module per primitives module.

Each module defines ``ROWS``: a list of ``Row``. ``test_systematic.py`` runs
every row through ``hd.check_grads`` in every mode and order, through batched
tangents against one-at-a-time JVPs, and in float32.
"""

import dataclasses
from typing import Callable

import numpy as np

__all__ = ["Row", "uniform", "positive", "unit", "all_rows"]


@dataclasses.dataclass
class Row:
    """One function to check: ``function(*args)`` at ``args``.

    name:      shown in test ids (e.g. "sin", "sum[axis=1]")
    function:  written with hodiff.numpy / hodiff.nn ... (may close over static parameters)
    args:      a function of a numpy Generator returning the argument tuple (float64 arrays)
    order:     highest derivative order checked (2 for most; 3 for elementwise)
    modes:     modes passed to check_grads
    float32:   whether the row is also checked in float32 (dtype preserved)
    rtol/atol: tolerances for check_grads
    """

    name: str
    function: Callable
    args: Callable
    order: int = 2
    modes: tuple = ("fwd", "rev")
    float32: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6

    def __str__(self):
        return self.name


def uniform(*shapes, low=-2.0, high=2.0):
    return lambda rng: tuple(rng.uniform(low, high, size=shape) for shape in shapes)


def positive(*shapes, low=0.3, high=2.0):
    return uniform(*shapes, low=low, high=high)


def unit(*shapes):
    """Inside (-0.9, 0.9): the domain of arcsin, arctanh ..."""
    return uniform(*shapes, low=-0.9, high=0.9)


def all_rows():
    import importlib
    import pkgutil

    rows = []
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        rows.extend(getattr(module, "ROWS", []))
    return rows


_ = np  # shapes are numpy's
