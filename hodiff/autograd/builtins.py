"""autograd.builtins: ``tuple``, ``list``, ``dict``, ``isinstance``, ``type``.

In autograd these make containers of boxed values traceable. hodiff needs no
such wrapper: tuples, lists and dicts of traced values are pytrees that every
transform flattens, so the containers are Python's own, and ``isinstance`` /
``type`` look through a traced value at the value it carries (a traced array
is an ``np.ndarray`` to them, a traced float a ``float``).
"""

import builtins as _builtins

from ..core.trace import concrete_value as _concrete_value

__all__ = ["tuple", "list", "dict", "isinstance", "type"]

tuple = _builtins.tuple
list = _builtins.list
dict = _builtins.dict


def isinstance(obj, classinfo):
    """``builtins.isinstance`` of the value behind ``obj`` (a traced ndarray is an ndarray)."""
    return _builtins.isinstance(_concrete_value(obj), classinfo)


def type(obj):
    """``builtins.type`` of the value behind ``obj`` (one argument only)."""
    return _builtins.type(_concrete_value(obj))
