"""``requires("jacobian")``: skip a test while this build lacks a hodiff function.

Other engineers add hd.jacobian, hd.hessian, hodiff.nn, ... in parallel; tests
that need them skip with a reason naming the missing function, and run as soon
as the branches merge. Names are relative to ``hodiff``: "jacobian",
"nn.relu", "numpy.maximum".
"""

import importlib

import pytest


def has(name):
    """Whether ``hodiff.<name>`` exists (modules are imported, attributes looked up in the module itself)."""
    module_name, _, attribute = ("hodiff." + name).rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return False
    # vars(), not getattr: hodiff.numpy passes unknown names through to plain (non-differentiable) numpy.
    return attribute in vars(module)


def missing(*names):
    return [name for name in names if not has(name)]


def requires(*names):
    """A skipif marker naming the hodiff functions this build does not have yet."""
    absent = missing(*names)
    return pytest.mark.skipif(bool(absent), reason="requires " + ", ".join(f"hodiff.{n}" for n in absent)
                              + " (not in this build yet)")
