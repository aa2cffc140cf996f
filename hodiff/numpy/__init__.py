"""hodiff.numpy: numpy, differentiable.

Every name numpy has is here. The ones hodiff differentiates are hodiff
primitives (or compositions of them) and accept traced values; any other
numpy function passes straight through for plain values and raises a clear
error naming itself when a traced value reaches it.
"""

import numpy as _np

from ..core.errors import TracedConversionError as _TracedConversionError
from ..core.trace import Tracer as _Tracer
from ..core.tree import tree_leaves as _tree_leaves
from ..primitives import namespace as _namespace

_any = any  # the builtin: NUMPY_API's 'any' (numpy.any) shadows it below
globals().update(_namespace.NUMPY_API)
__all__ = sorted(_namespace.NUMPY_API)

random = _np.random
_passthrough_cache = {}


def __getattr__(name):
    attr = getattr(_np, name)  # AttributeError names the missing function
    if not callable(attr) or isinstance(attr, type):
        return attr  # constants, dtypes and classes: numpy's own
    wrapper = _passthrough_cache.get(name)
    if wrapper is None:
        wrapper = _passthrough_cache[name] = _not_differentiable(name, attr)
    return wrapper


def _not_differentiable(name, function):
    def passthrough(*args, **kwargs):
        if _any(isinstance(leaf, _Tracer) for leaf in _tree_leaves((args, kwargs))):
            raise _TracedConversionError(
                f"hodiff.numpy.{name} is not differentiable by hodiff, and it was called on a traced "
                f"value. Use a differentiable alternative, write it with hodiff primitives, or wrap "
                f"it with @hd.primitive and give it rules (hd.defvjp / hd.defjvp)."
            )
        return function(*args, **kwargs)

    passthrough.__name__ = name
    passthrough.__doc__ = f"numpy.{name}, for plain (untraced) values only."
    return passthrough


# Differentiable submodules (they use the helper above). Imported by name: `from . import
# linalg` would find numpy.linalg through the module __getattr__ and never load ours.
import importlib as _importlib  # noqa: E402

fft = _importlib.import_module(f"{__name__}.fft")
linalg = _importlib.import_module(f"{__name__}.linalg")
