"""Keeping freed memory in the process: glibc's malloc and numpy's big temporaries.

numpy takes each array's buffer from malloc. glibc serves a block above its mmap
threshold by mmap, and returns freed memory at the heap's top to the system once
more than its trim threshold is free; both thresholds follow the largest block
freed so far (trim = 2 x mmap threshold). A step that holds two or three
temporaries of a few MB at once (GradBench's gmm at d = 20: (n, k, d) arrays of
4 MB) frees more than the trim threshold each call, so every call asks the
system for the same pages again, and each first touch is a page fault: 1,900 a
call there, 3.4 us each on this project's VM, three quarters of the objective's
7.8 ms. Fixed thresholds keep the pages: 1.8 ms, no fault.

The setting is process-wide (it serves every library's allocations, not only
hodiff's) and keeps up to ``limit`` bytes of freed memory mapped, so hodiff
never makes it on its own: ``keep_freed_memory()`` is a call for the user.
"""

import ctypes
import ctypes.util
import platform

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_MAX = 32 << 20  # glibc's largest mmap threshold on 64-bit systems (HEAP_MAX_SIZE / 2)


def keep_freed_memory(limit=1 << 30):
    """Ask glibc's malloc to keep up to ``limit`` bytes of freed heap memory for reuse (M_TRIM_THRESHOLD) and
    to serve blocks up to 32 MiB from its heap (M_MMAP_THRESHOLD), instead of returning them to the system
    and page-faulting them back on the next call. Process-wide, for every library; RSS stays up to ``limit``
    above the live data. Returns True when glibc took both settings, False elsewhere (macOS, Windows, musl:
    nothing is changed there). ``limit``: a positive int of bytes below 2**31 (mallopt takes a C int).
    """
    if type(limit) is not int or not 0 < limit < 2 ** 31:
        raise ValueError(f"keep_freed_memory: limit must be a positive int of bytes below 2**31, got {limit!r}")
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    mmap_threshold = min(limit, _MMAP_THRESHOLD_MAX)
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, limit))
