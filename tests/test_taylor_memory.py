"""Taylor mode's memory is O(order x entries) (issue 12 item 6), checked with tracemalloc, not timing.

Old main's Toeplitz gathers and (K, K) recurrence matrices peaked at ~67 series'
worth ((K+1) x entries each) for order 30 on 1e4 entries; the row-by-row
recurrences and the series_product primitive peak at ~9.
"""

import tracemalloc

import numpy as np

import hodiff as hd
import hodiff.numpy as hnp


def _f(x):
    return hnp.sin(x) * hnp.exp(x) / (1 + x ** 2)


def test_taylor_order_30_peak_memory_is_linear_in_order():
    x = np.linspace(0.1, 1.0, 10_000)
    v = np.ones_like(x)
    order = 30
    hd.taylor(_f, x, v, order=4)  # warm caches outside the measurement
    tracemalloc.start()
    try:
        hd.taylor(_f, x, v, order=order)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    series_bytes = (order + 1) * x.nbytes
    assert peak < 20 * series_bytes, f"peak {peak / series_bytes:.1f} series of (K+1) x entries"
