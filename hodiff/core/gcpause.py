"""Pausing Python's cycle collector while a transform records or walks a graph.

hodiff's graphs hold no reference cycles (nodes point to their parents, never
to their tracers), so the cycle collector can never free anything in them.
Yet every few hundred allocations it traverses the young objects, and as a
graph grows it re-traverses the survivors: on a 100,000-step scalar chain that
doubled the time of a gradient. Transforms therefore pause it while they run
and restore it when they return; cyclic garbage made by user code meanwhile
is collected at the next collection after that.
"""

import gc

__all__ = ["paused_cycle_collector"]


class paused_cycle_collector:
    """Context manager: disable gc inside, restore the previous state on exit (nesting-safe)."""

    __slots__ = ("was_enabled",)

    def __enter__(self):
        self.was_enabled = gc.isenabled()
        if self.was_enabled:
            gc.disable()
        return self

    def __exit__(self, *exc_info):
        if self.was_enabled:
            gc.enable()
        return False
