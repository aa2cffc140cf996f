"""Validation with GradBench's own tolerance, shared by the eval modules."""

from __future__ import annotations

import numpy as np

TOLERANCE = 1e-4  # GradBench's compare_json_objects default


def difference(expected, actual):
    """ADBench's normalised difference |x - y| / max(|x| + |y|, 1), elementwise."""
    x = np.asarray(expected, dtype=float)
    y = np.asarray(actual, dtype=float)
    return np.abs(x - y) / np.maximum(np.abs(x) + np.abs(y), 1.0)


def mismatches(expected, actual, tolerance=TOLERANCE) -> list[str]:
    """The entries where ``actual`` differs from ``expected`` by more than the tolerance.

    A dict output (gmm's gradient, ba's and ht's Jacobians) is compared key by key,
    each value as an array; a missing or extra key is a mismatch."""
    if isinstance(expected, dict) or isinstance(actual, dict):
        if not (isinstance(expected, dict) and isinstance(actual, dict)) or set(expected) != set(actual):
            keys = lambda v: sorted(v) if isinstance(v, dict) else type(v).__name__  # noqa: E731
            return [f"expected keys {keys(expected)}, got {keys(actual)}"]
        return [f"{key} {line}" for key in expected for line in mismatches(expected[key], actual[key], tolerance)]
    x = np.asarray(expected, dtype=float)
    y = np.asarray(actual, dtype=float)
    if x.shape != y.shape:
        return [f"expected shape {x.shape}, got shape {y.shape}"]
    d = difference(x, y)
    bad = np.argwhere(~(d <= tolerance))
    return [f"{tuple(int(i) for i in index)}: expected {x[tuple(index)]!r}, got {y[tuple(index)]!r}"
            for index in bad[:10]] + ([f"... {len(bad) - 10} more"] if len(bad) > 10 else [])


def to_json(value):
    """A numpy/array-like result as JSON data (float or nested lists; a dict key by key)."""
    if isinstance(value, dict):
        return {key: to_json(v) for key, v in value.items()}
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array.tolist()
