"""Measure one (workload, peer) pair; run by run.py as a fresh subprocess.

    python -m benchmarks.worker --workload W3 --peer torch --mode quick --cpu 1

Pins itself to one CPU before numpy, torch or jax is imported (XLA sizes its
thread pool from the affinity mask), re-times the numpy floor's cases first so
that "x floor" ratios come from this process, then times the peer's cases.
Each result is printed at once as one line ``@@bench <json>`` so that what was
measured survives a later crash (RecursionError, segfault, pair timeout).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import traceback

MARKER = "@@bench "


def emit(kind: str, **fields) -> None:
    print(MARKER + json.dumps({"kind": kind, **fields}, default=str), flush=True)


def describe_error(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    first_line = message[0] if message else ""
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", required=True)
    parser.add_argument("--peer", required=True)
    parser.add_argument("--mode", choices=("full", "quick"), default="full")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cpu", type=int, default=None,
                        help="pin this process to one CPU (none: no pinning)")
    return parser.parse_args(argv)


def environment_info(threads: int) -> dict:
    info = {"affinity": sorted(os.sched_getaffinity(0)), "threads": threads,
            "python": sys.version.split()[0]}
    try:
        import numpy
        import scipy

        info["numpy"] = numpy.__version__
        info["scipy"] = scipy.__version__
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [
            {key: pool.get(key) for key in
             ("internal_api", "version", "architecture", "num_threads", "filepath")}
            for pool in threadpool_info()]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    return info


class NotComparable:
    """A result that could not be flattened to float64, with the reason."""

    def __init__(self, reason: str):
        self.reason = reason


def flatten_or_reason(result):
    from benchmarks.workloads import flatten

    try:
        return flatten(result)
    except Exception as error:
        return NotComparable(describe_error(error))


def run_case(case, reference, floor_median, workload, limits):
    """Build, time and check one case; return the record to emit."""
    from benchmarks.timing import CaseTimeout, measure
    from benchmarks.workloads import relative_error

    record = {"row": case.row, "case": case.case, "floor_median_s": floor_median,
              "tol": workload.tolerance(case.case)}
    try:
        thunk = case.build()
        measurement = measure(thunk, limits, keep=flatten_or_reason)
    except CaseTimeout:
        record.update(status="timeout", error=f"still running after {limits.case_timeout:.0f} s")
        return record
    except Exception as error:  # a peer's failure must not end the run (RecursionError too)
        record.update(status="error", error=describe_error(error),
                      traceback=traceback.format_exc(limit=-3))
        return record

    record.update(
        status="ok", median_s=measurement.median, min_s=measurement.minimum,
        first_s=measurement.first, repeats=measurement.repeats,
        calls_per_repeat=measurement.calls_per_repeat,
        iqr_over_median=measurement.iqr_over_median, slow=measurement.slow,
        mem_mb=measurement.mem_mb, mem_cold_mb=measurement.mem_cold_mb)
    if reference is None:
        record["rel_err"] = None
        return record
    for result in measurement.results:
        if isinstance(result, NotComparable):
            record.update(status="error", error="result not comparable: " + result.reason)
            return record
    # Both the cold and the warm result must match (catches state kept between
    # calls, such as gradients accumulated into leaves).
    record["rel_err"] = max(relative_error(result, reference) for result in measurement.results)
    if not record["rel_err"] <= record["tol"]:
        record["status"] = "wrong"
    return record


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})

    # Only now import numpy and the peers.
    from benchmarks import peers, timing, workloads

    limits = timing.LIMITS[args.mode]
    workload = workloads.WORKLOADS[args.workload]
    floor = peers.load("floor")
    try:
        peer = peers.load(args.peer)
        peer_info = peer.setup(args.threads)
    except Exception as error:
        emit("info", environment=environment_info(args.threads))
        emit("result", row=args.peer, case="*", status="error",
             error="setup failed: " + describe_error(error))
        return 0
    emit("info", environment=environment_info(args.threads), peer=peer_info)

    inputs = workload.make_inputs()
    floor_cases = {case.case: case for case in floor.cases(workload.key, inputs)}
    if args.peer == "floor":
        peer_cases = []
        needed_floor = list(dict.fromkeys(workload.floor_case(c) for c in workload.cases))
        needed_floor += workload.floor_extras
    else:
        try:
            peer_cases = peer.cases(workload.key, inputs)
        except Exception as error:
            emit("result", row=args.peer, case="*", status="error",
                 error="building cases failed: " + describe_error(error))
            return 0
        needed_floor = list(dict.fromkeys(workload.floor_case(c.case) for c in peer_cases))

    emit("plan", cases=[[c.row, c.case] for c in peer_cases]
         if args.peer != "floor" else [["floor", c] for c in needed_floor])

    # Everything alive now (imported libraries, inputs) lives as long as the
    # process: freezing it keeps the untimed gc.collect() before each repeat
    # cheap (0.2 s per collection in a process that imported torch) without
    # hiding any garbage that the timed calls make.
    gc.freeze()

    # The floor first: its results are the references, its medians the "x floor" base.
    references, floor_medians = {}, {}
    for floor_case_name in needed_floor:
        record = run_case(floor_cases[floor_case_name], None, None, workload, limits)
        if record["status"] == "ok":
            floor_medians[floor_case_name] = record["median_s"]
        if args.peer == "floor":
            record.update(floor_median_s=record.get("median_s"))  # rel_err: it is the reference
            emit("result", **record)
    for floor_case_name in needed_floor:
        # The reference is computed again untimed (the timed calls' results are dropped).
        try:
            references[floor_case_name] = floor_cases[floor_case_name].build()()
        except Exception:
            references[floor_case_name] = None

    gc.freeze()  # the references too

    timed_out_rows = set()
    for case in peer_cases:
        if workload.cases_grow and case.row in timed_out_rows:
            emit("result", row=case.row, case=case.case, status="skipped",
                 error="a lower order timed out")
            continue
        floor_case_name = workload.floor_case(case.case)
        record = run_case(case, references.get(floor_case_name),
                          floor_medians.get(floor_case_name), workload, limits)
        if record["status"] == "timeout":
            timed_out_rows.add(case.row)
        emit("result", **record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
