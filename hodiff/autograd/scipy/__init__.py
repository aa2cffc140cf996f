"""autograd.scipy on hodiff: ``special``, ``stats``, ``linalg``, ``signal``, ``integrate``."""

import importlib as _importlib

linalg = _importlib.import_module(f"{__name__}.linalg")
special = _importlib.import_module(f"{__name__}.special")
stats = _importlib.import_module(f"{__name__}.stats")
signal = _importlib.import_module(f"{__name__}.signal")
integrate = _importlib.import_module(f"{__name__}.integrate")
