"""``const_graph(fun, *args, **kwargs)``: autograd's "trace once, then reuse the graph", as ``hd.record``.

The returned function is ``fun`` with ``args``/``kwargs`` bound first (they are constants of the
recording: operations on them alone run once). Its first call records fun's primitive applications, and
later calls with arguments of the same shapes and dtypes replay them without running fun's Python code.
hodiff guards every value the recording read (a branch, an index), so a call that would take another
path records afresh rather than reusing a stale graph.
"""

import functools

from ...transforms.replay import record

__all__ = ["const_graph"]


def const_graph(fun, *args, **kwargs):
    """``fun(*args, *more, **kwargs)`` as a function of ``*more``, recorded on first use and replayed after."""
    return record(functools.partial(fun, *args, **kwargs))
