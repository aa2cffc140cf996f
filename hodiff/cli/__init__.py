"""The ``hodiff`` command line: safe expressions, derivatives, graphs, and the lecture demo."""

from .main import main

__all__ = ["main"]
