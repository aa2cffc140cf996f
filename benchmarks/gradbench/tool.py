"""hodiff as a GradBench tool: the JSON-lines protocol over stdin/stdout.

    python benchmarks/gradbench/tool.py [--replay]   # then driven by a GradBench eval

Each line on stdin is one message with an ``id`` and a ``kind``; one line is
answered for each, with the same ``id``:

- ``start``: ``{"id", "tool": "hodiff"}``;
- ``define`` (a ``module``): ``success`` true for the evals in
  benchmarks/gradbench (EVALS), false with an ``error`` otherwise;
- ``evaluate`` (``module``, ``function``, ``input``): the ``output`` and one
  ``{"name": "evaluate", "nanoseconds"}`` timing per run; the function is run
  until both ``min_runs`` and ``min_seconds`` of the input are met (once when
  they are absent, as in hello);
- ``analysis`` and anything else: ``{"id"}`` only. ``end`` stops the loop.

``--replay`` serves each module's REPLAYED functions where it has them (the same
code under hd.record: recorded on the first evaluation of a signature, replayed
on the runs after it).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import numpy as np  # noqa: E402

from benchmarks.gradbench import EVALS  # noqa: E402
from benchmarks.gradbench.common import to_json  # noqa: E402


def _module(name):
    import importlib
    if name not in EVALS:
        raise ValueError(f"module: hodiff has no implementation of GradBench eval {name!r}")
    return importlib.import_module(f"benchmarks.gradbench.{name}")


def _nested(value):
    if isinstance(value, dict):
        return {k: _nested(v) for k, v in value.items()}
    if isinstance(value, list):
        array = np.asarray(value)
        return array if array.dtype.kind in "biuf" else value
    return value


def _input(raw):
    """GradBench's JSON lists as float arrays (scalars and ints kept); in a nested object
    (ht's ``data``) numeric lists become arrays of their own dtype (ht's indices stay
    ints) and others (bone names) stay lists: converted once, not in every timed run."""
    if isinstance(raw, dict):
        return {k: (np.asarray(v, dtype=float) if isinstance(v, list) else _nested(v)) for k, v in raw.items()
                if k not in ("min_runs", "min_seconds")}
    return raw


def evaluate(message, replay=False) -> dict:
    module = _module(message["module"])
    functions = getattr(module, "REPLAYED", module.FUNCTIONS) if replay else module.FUNCTIONS
    if message["function"] not in functions:
        raise ValueError(f"function: eval {module.NAME!r} has no function {message['function']!r}")
    f = functions[message["function"]]
    raw = message["input"]
    inp = _input(raw)
    min_runs = raw.get("min_runs", 1) if isinstance(raw, dict) else 1
    min_seconds = raw.get("min_seconds", 0) if isinstance(raw, dict) else 0
    timings, elapsed, output = [], 0.0, None
    while len(timings) < min_runs or elapsed < min_seconds:
        start = time.perf_counter_ns()
        output = f(inp)
        end = time.perf_counter_ns()
        timings.append({"name": "evaluate", "nanoseconds": end - start})
        elapsed += (end - start) / 1e9
    return {"success": True, "output": to_json(output), "timings": timings}


def respond(message, replay=False) -> dict | None:
    kind = message.get("kind")
    response = {"id": message.get("id")}
    if kind == "start":
        response["tool"] = "hodiff"
    elif kind == "define":
        try:
            _module(message["module"])
            response["success"] = True
        except Exception as error:  # reported to the eval, which skips the module
            response["success"] = False
            response["error"] = str(error)
    elif kind == "evaluate":
        try:
            response.update(evaluate(message, replay))
        except Exception:
            response.update(success=False, error=traceback.format_exc())
    elif kind == "end":
        return None
    return response


def serve(lines, out, replay=False) -> None:
    for line in lines:
        if not line.strip():
            continue
        response = respond(json.loads(line), replay)
        if response is None:
            break
        out.write(json.dumps(response) + "\n")
        out.flush()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replay", action="store_true", help="serve the REPLAYED functions (hd.record)")
    serve(sys.stdin, sys.stdout, parser.parse_args().replay)
