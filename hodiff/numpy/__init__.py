"""hodiff.numpy: numpy, differentiable.

Every name numpy has is here. The ones hodiff differentiates are hodiff
primitives (or compositions of them) and accept traced values; any other
numpy function passes straight through for plain values and raises a clear
error naming itself when a traced value reaches it.
"""

import numpy as _np

from ..core.errors import TracedConversionError as _TracedConversionError
from ..core.trace import Tracer as _Tracer
from ..core.trace import read_guarded as _read_guarded
from ..core.tree import tree_leaves as _tree_leaves
from ..primitives import namespace as _namespace

_any, _all = any, all  # the builtins: NUMPY_API's 'any' and 'all' (numpy's) shadow them below
globals().update(_namespace.NUMPY_API)
__all__ = sorted(_namespace.NUMPY_API)

random = _np.random


# Plain numpy arrays skip hodiff's argument handling: for these functions it costs 2-20 us a call (a
# third of lse's primal), and on untraced values numpy's answer is the answer. Only where the first
# argument (or every array of a sequence) is exactly an ndarray and no other
# argument is traced; subclasses and other array types take hodiff's own path. Names that are primitives
# (matmul) stay the primitive objects: graphs and rules name them. Not einsum: hodiff picks numpy's
# contraction strategy by size (plain np.einsum is 7x slower on gmm's kjl,nkl->nkj).
def _traced(values):
    for v in values:
        if isinstance(v, _Tracer):
            return True
    return False


def _plain_fast_path(name, function, numpy_function, arrays=None):
    """``arrays(args)``: the values that must be plain ndarrays (default: the first argument)."""
    if arrays is None:
        def fast(a, *args, **kwargs):
            if type(a) is _np.ndarray and not (args and _traced(args)) and not (kwargs and _traced(kwargs.values())):
                try:
                    return numpy_function(a, *args, **kwargs)
                except Exception:
                    pass  # hodiff's own path names what is wrong
            return function(a, *args, **kwargs)
    else:
        def fast(*args, **kwargs):
            plain = arrays(args)
            if (plain and _all(type(a) is _np.ndarray for a in plain) and not _traced(args[1:])
                    and not (kwargs and _traced(kwargs.values()))):
                try:
                    return numpy_function(*args, **kwargs)
                except Exception:
                    pass  # hodiff's own path names what is wrong
            return function(*args, **kwargs)

    fast.__name__, fast.__qualname__, fast.__doc__, fast.__wrapped__ = name, name, function.__doc__, function
    return fast


# Not dot and inner: numpy's dot is another kernel than the matmul hodiff's dot runs (on a broadcast view
# they differ in the last bit), and f's value must be the bits its traced and replayed runs give.
for _name in ("sum", "prod", "max", "min", "amax", "amin", "cumsum", "cumprod", "outer",
              "tensordot", "zeros_like", "ones_like", "broadcast_to"):
    globals()[_name] = _plain_fast_path(_name, globals()[_name], getattr(_np, _name))
for _name in ("concatenate", "stack", "vstack", "hstack"):
    globals()[_name] = _plain_fast_path(_name, globals()[_name], getattr(_np, _name),
                                        lambda args: args[0] if args and isinstance(args[0], (list, tuple)) else ())
_passthrough_cache = {}


def __getattr__(name):
    attr = getattr(_np, name)  # AttributeError names the missing function
    if not callable(attr) or isinstance(attr, type):
        return attr  # constants, dtypes and classes: numpy's own
    wrapper = _passthrough_cache.get(name)
    if wrapper is None:
        wrapper = _passthrough_cache[name] = _not_differentiable(name, attr)
    return wrapper


def _not_differentiable(name, function, namespace="hodiff.numpy"):
    """``function`` for plain values; on a traced one a TracedConversionError naming ``namespace.name``."""
    def passthrough(*args, **kwargs):
        if _any(isinstance(leaf, _Tracer) for leaf in _tree_leaves((args, kwargs))):
            read = _read_guarded((args, kwargs))  # hd.record's values: read, each a guard
            if read is not None:
                return function(*read[0], **read[1])
            raise _TracedConversionError(
                f"{namespace}.{name} is not differentiable by hodiff, and it was called on a traced "
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
