"""A deterministic work count: every primitive application inside a block, on every path.

    from hodiff.core.work import count_work

    with count_work() as work:
        hd.derivative(f, order=6, mode="nested")(0.7)
    work.total_calls()      # primitive applications
    work.calls["multiply"]  # per primitive name
    work.entries["sin"]     # entries the applications of sin produced
    work.total_work()       # entries, except matmul counted as its 2 m k n flops

What is counted: each application of a primitive's numpy implementation to
plain values, by the interpreters (forward, reverse, Taylor, batching), by the
rules (written with primitives, so a rule's own products and sums count), by
the backward passes' accumulation of cotangents (an ``add``), and outside any
transform. A float, a numpy scalar and a one-element array give the same count
for the same program.

How: on entry every primitive's ``impl`` is wrapped and its accelerators
(``scalar_impl``, ``fast_vjp``, ``fast_jvp``, ``inplace_vjp``, ``accumulate_vjp``) are taken away
until the block ends; the backward passes see ``active`` and take their
general path (nodes recorded before the block keep their fast rules, which
the passes then ignore). The accelerators compute the very numbers of the
general path with numpy or Python arithmetic instead of primitive calls
(tests/test_fast_paths.py), so inside the block results are unchanged and
every application is one of a primitive; times measured inside the block are
not hodiff's times. Outside a block nothing is wrapped or checked per
operation: counting is off by default and costs nothing when off.

Blocks nest (an application counts in every open block). The wrapping is
process-wide: another thread applying primitives during a block is counted
too, and it runs the general path meanwhile.
"""

import collections
import contextlib

import numpy as np

from . import trace as _trace

__all__ = ["WorkCount", "count_work", "active"]

active = False  # True inside a count_work block: the backward passes read it once per pass
_open = []      # the WorkCounts of the open blocks, outermost first
_saved = {}     # primitive -> its attributes before the outermost block

_ACCELERATORS = ("scalar_impl", "fast_vjp", "fast_jvp", "inplace_vjp", "accumulate_vjp")


class WorkCount:
    """Counts of one block, per primitive name (``collections.Counter``s).

    - ``calls[name]``: applications of the primitive;
    - ``entries[name]``: entries of their answers (``np.size``; a tuple of
      answers, as ``svd`` gives, counts the entries of each);
    - ``flops[name]``: for ``matmul`` only, 2 m k n per product (numpy's
      broadcasting batch dimensions included: 2 * answer entries * k).
    """

    def __init__(self):
        self.calls = collections.Counter()
        self.entries = collections.Counter()
        self.flops = collections.Counter()

    def total_calls(self):
        return sum(self.calls.values())

    def total_entries(self):
        return sum(self.entries.values())

    def work(self):
        """Per name: the flops for matmul, the entries produced for every other primitive."""
        work = collections.Counter(self.entries)
        for name, flops in self.flops.items():
            work[name] = flops
        return work

    def total_work(self):
        return sum(self.work().values())

    def __repr__(self):
        return f"<WorkCount {self.total_calls()} applications, {self.total_entries()} entries>"


def _size(answer):
    if answer.__class__ is tuple or answer.__class__ is list:
        return sum(_size(part) for part in answer)
    return int(np.size(answer))


def _counted(primitive, impl):
    name = primitive.name
    matmul = name == "matmul"

    def counted_impl(*args, **params):
        answer = impl(*args, **params)
        entries = _size(answer)
        for work in _open:
            work.calls[name] += 1
            work.entries[name] += entries
            if matmul:
                work.flops[name] += 2 * entries * np.shape(args[0])[-1]
        return answer

    counted_impl.__wrapped__ = impl
    counted_impl.__name__ = getattr(impl, "__name__", name)
    return counted_impl


def _install(primitive):
    """Wrap one primitive's impl and take its accelerators away (undone by _uninstall)."""
    if primitive in _saved:
        return
    _saved[primitive] = (primitive.impl,) + tuple(getattr(primitive, attribute) for attribute in _ACCELERATORS)
    primitive.impl = _counted(primitive, primitive.impl)
    for attribute in _ACCELERATORS:
        setattr(primitive, attribute, None)


def _uninstall():
    """Give back what _install took; an attribute set anew during the block (a module imported in it) stays."""
    for primitive, (impl, *accelerators) in _saved.items():
        if getattr(primitive.impl, "__wrapped__", None) is impl:
            primitive.impl = impl
        for attribute, value in zip(_ACCELERATORS, accelerators):
            if getattr(primitive, attribute) is None:
                setattr(primitive, attribute, value)
    _saved.clear()


@contextlib.contextmanager
def count_work():
    """Count every primitive application inside the block; yields a ``WorkCount``.

    Results inside the block are those of the general path (the same numbers);
    see the module docstring for what is counted and how.
    """
    global active
    work = WorkCount()
    if not _open:
        for primitive in list(_trace.all_primitives):
            _install(primitive)
        _trace._on_new_primitive = _install
        active = True
    _open.append(work)
    try:
        yield work
    finally:
        _open.remove(work)
        if not _open:
            active = False
            _trace._on_new_primitive = None
            _uninstall()
