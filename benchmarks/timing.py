"""Timing and peak-memory measurement of one case (one zero-argument thunk).

The method is the one in BENCHMARKS.md: a cold call (kept as ``first``), a warm
call (peak memory, loop sizing), then R repeats of L back-to-back calls with
``gc.collect()`` before each repeat; the median of the per-call times is
reported. Runs inside a worker subprocess only (it uses SIGALRM and resets the
process's peak-RSS mark).
"""

from __future__ import annotations

import ctypes
import gc
import math
import signal
import statistics
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    rep_target: float    # one repeat lasts at least this long (s)
    max_repeats: int
    budget: float        # time for all repeats of one case (s)
    slow_call: float     # a cold call slower than this is measured once, marked *
    case_timeout: float  # SIGALRM stops a case after this long (s)
    pair_timeout: float  # the parent kills a (workload, peer) subprocess after this long


FULL = Limits(rep_target=0.050, max_repeats=15, budget=0.8, slow_call=15.0,
              case_timeout=75.0, pair_timeout=600.0)
QUICK = Limits(rep_target=0.020, max_repeats=7, budget=0.25, slow_call=6.0,
               case_timeout=45.0, pair_timeout=300.0)
LIMITS = {"full": FULL, "quick": QUICK}


class CaseTimeout(BaseException):
    """Raised by the SIGALRM handler when a case runs past its time limit.

    A BaseException (like KeyboardInterrupt), so that a library's own
    ``except Exception`` does not swallow it: jax's tracing machinery did.
    """


@dataclass
class Measurement:
    first: float                      # cold call (includes tracing / JIT compile)
    median: float
    minimum: float
    repeats: int                      # R
    calls_per_repeat: int             # L
    iqr_over_median: float | None
    slow: bool                        # measured once (cold) only: shown with *
    mem_mb: float | None              # peak RSS growth of the warm call
    mem_cold_mb: float | None         # the same for the cold call
    results: list = field(default_factory=list)  # kept: results of the cold and warm calls


# --- peak memory -------------------------------------------------------------

def median_time(thunk, repeats: int, warm: bool = True) -> float:
    """The median wall time of ``repeats`` calls of ``thunk`` (after one untimed call when ``warm``): the
    simple timer of the workload scripts (W9, W10, scale_out, replay_bench); the harness uses ``measure``."""
    if warm:
        thunk()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        thunk()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _read_status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _libc_malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _libc_malloc_trim()


def _reset_peak_rss() -> bool:
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0).
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def call_with_peak_memory(thunk):
    """Call ``thunk`` once; return (seconds, peak RSS growth in MB or None, result).

    Peak growth = VmHWM after the call minus VmRSS just before it, after a
    collection and malloc_trim, with the kernel's peak mark reset first. It
    counts native allocations (torch, XLA) that tracemalloc would miss.
    """
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
    can_measure = _reset_peak_rss()
    rss_before = _read_status_kib("VmRSS") if can_measure else None
    start = time.perf_counter()
    result = thunk()
    seconds = time.perf_counter() - start
    peak = _read_status_kib("VmHWM") if can_measure else None
    if rss_before is None or peak is None:
        return seconds, None, result
    return seconds, max(peak - rss_before, 0) / 1024.0, result


# --- timeouts ----------------------------------------------------------------

def _raise_timeout(signum, frame):
    raise CaseTimeout()


class alarm:
    """Context manager: raise CaseTimeout in the main thread after ``seconds``,
    and again every second until the block is left, in case one is swallowed."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __enter__(self):
        self.previous = signal.signal(signal.SIGALRM, _raise_timeout)
        signal.setitimer(signal.ITIMER_REAL, self.seconds, 1.0)
        return self

    def __exit__(self, *exc_info):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.previous)
        return False


# --- the measurement ---------------------------------------------------------

def _calls_per_repeat(thunk, warm_seconds: float, rep_target: float) -> tuple[int, float]:
    """Return (L, estimated seconds per call).

    One warm call is too coarse for sub-microsecond thunks, so a short probe
    loop (about a fifth of a repeat) refines the estimate before sizing L.
    """
    if warm_seconds >= rep_target:
        return 1, warm_seconds
    probe_calls = max(1, int(rep_target / 5 / max(warm_seconds, 1e-9)))
    start = time.perf_counter()
    for _ in range(probe_calls):
        thunk()
    per_call = max((time.perf_counter() - start) / probe_calls, 1e-9)
    return max(1, math.ceil(rep_target / per_call)), per_call


def measure(thunk, limits: Limits, keep=lambda result: result) -> Measurement:
    """Time ``thunk`` as BENCHMARKS.md says. Raises CaseTimeout past the case limit.

    ``keep`` maps the cold and warm results to what is kept for checking,
    untimed: a compact copy lets a result's graph (torch's grad_fn chain of
    100,000 steps) be freed before the next call.
    """
    with alarm(limits.case_timeout):
        first, mem_cold, cold_result = call_with_peak_memory(thunk)
        cold_result = keep(cold_result)
        if first > limits.slow_call:
            return Measurement(first=first, median=first, minimum=first, repeats=1,
                               calls_per_repeat=1, iqr_over_median=None, slow=True,
                               mem_mb=mem_cold, mem_cold_mb=mem_cold,
                               results=[cold_result])
        warm, mem_warm, warm_result = call_with_peak_memory(thunk)
        warm_result = keep(warm_result)
        calls, per_call = _calls_per_repeat(thunk, warm, limits.rep_target)
        repeat_seconds = calls * per_call
        repeats = min(limits.max_repeats, max(1, int(limits.budget / repeat_seconds)))

        per_call_times = []
        for _ in range(repeats):
            gc.collect()  # untimed; the collector stays enabled inside the repeat
            start = time.perf_counter()
            for _ in range(calls):
                thunk()
            per_call_times.append((time.perf_counter() - start) / calls)

    median = statistics.median(per_call_times)
    iqr = None
    if len(per_call_times) >= 4:
        quartiles = statistics.quantiles(per_call_times, n=4)
        iqr = (quartiles[2] - quartiles[0]) / median
    return Measurement(first=first, median=median, minimum=min(per_call_times),
                       repeats=repeats, calls_per_repeat=calls, iqr_over_median=iqr,
                       slow=False, mem_mb=mem_warm, mem_cold_mb=mem_cold,
                       results=[cold_result, warm_result])
