"""Peers: one module per library measured on the workloads.

A peer module defines
    NAME       the name used with ``--peers``
    REQUIRES   modules that must be importable; if one is missing the peer is
               skipped ("skipped: not installed")
    OPTIONAL   True for third-party peers; hodiff is not optional, so a missing
               or broken hodiff is reported as an error instead of a skip
    WORKLOADS  the workload keys it runs (the others are not run for it)
    setup(threads) -> dict   configure the library (threads, float64) and
                             return version information; called once, in the
                             worker subprocess, before any case
    cases(workload_key, inputs) -> list[Case]

The library is imported inside those functions, not at module level, so the
parent process can read NAME/REQUIRES/WORKLOADS without importing torch or jax.
Modules are named ``<peer>_peer`` so that ``torch_peer`` never shadows ``torch``.
To add a peer: write one module here and add it to PEER_MODULES.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

PEER_MODULES = {
    "floor": "floor_peer",
    "hodiff": "hodiff_peer",
    "micrograd": "micrograd_peer",
    "autograd": "autograd_peer",
    "torch": "torch_peer",
    "jax": "jax_peer",
}


@dataclass(frozen=True)
class Case:
    """One table row's work for one workload case.

    ``build`` runs untimed and returns the timed zero-argument thunk; building
    (``grad(grad(f))``, ``jax.jit(...)``) is where a missing API shows up, so
    the worker reports a failing build as that case's error and goes on.
    """

    row: str                              # table row, e.g. "jax+jit"
    case: str                             # workload case, e.g. "grad"
    build: Callable[[], Callable[[], object]]


def load(peer_name: str):
    return importlib.import_module(f"{__name__}.{PEER_MODULES[peer_name]}")
