"""Pausing Python's cycle collector while a transform records or walks a graph.

hodiff's graphs hold no reference cycles (nodes point to their parents, never
to their tracers), so the cycle collector can never free anything in them.
Yet every few hundred allocations it traverses the young objects, and as a
graph grows it re-traverses the survivors: on a 100,000-step scalar chain that
doubled the time of a gradient. Transforms therefore pause it while they run
and restore it when they return; cyclic garbage made by user code meanwhile
is collected at the next collection after that.

The collector's switch is process-wide, so a pause is counted here
(``pause``/``resume``): a process forked while some thread is inside a
transform would otherwise start with the collector off and keep it off, the
pausing thread not existing in the child. ``os.register_at_fork`` therefore
re-enables it in the child when hodiff holds it paused (a collector that the
user disabled stays disabled).
"""

import gc
import os
import threading

__all__ = ["paused_cycle_collector", "pause", "resume"]

_lock = threading.Lock()
_held = 0  # how many hodiff pauses are holding the collector off in this process


def pause():
    """Disable gc if it is enabled; True when this call disabled it (then call ``resume(True)``)."""
    global _held
    if not gc.isenabled():
        return False
    with _lock:
        gc.disable()
        _held += 1
    return True


def resume(paused):
    """Undo ``pause()``: re-enable gc when that call disabled it."""
    global _held
    if paused:
        with _lock:
            if _held:  # 0 in a forked child whose pause the fork hook already undid
                _held -= 1
            gc.enable()


def _after_fork_in_child():
    global _held, _lock
    _lock = threading.Lock()  # another thread may have held it at the fork
    if _held:
        _held = 0
        gc.enable()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class paused_cycle_collector:
    """Context manager: disable gc inside, restore the previous state on exit (nesting-safe)."""

    __slots__ = ("paused",)

    def __enter__(self):
        self.paused = pause()
        return self

    def __exit__(self, *exc_info):
        resume(self.paused)
        return False
