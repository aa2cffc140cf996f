"""What fresh memory costs a case: page faults and kernel time per call (Linux).

numpy's big arrays come from glibc's heap, and glibc trims the heap's top after
a call that frees more than its threshold, so a call that needs more memory
than the previous ones left page-faults on it again, every call
(benchmarks/README.md "Memory"). Wall times hide this; this script replays
cases in one process, in the order given (as a harness worker runs a peer's
cases one after another), pinned to one CPU with one BLAS thread, and prints
per warm call: wall time, kernel CPU time and minor page faults
(``getrusage`` around a loop of calls).

    python benchmarks/pagefaults.py W3:floor:fwd W3:floor:grad W3:hodiff:fwd W3:hodiff:grad
    python benchmarks/pagefaults.py W4:hodiff:grad W4:hodiff:hvp --calls 40

A case is WORKLOAD:PEER:CASE, or WORKLOAD:PEER:CASE:ROW where a peer has
several rows for one case (``W6:hodiff:k8:hodiff nested``).
"""

import argparse
import gc
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.icount import ONE_THREAD  # noqa: E402  (no numpy yet: thread variables first)

os.environ.update(ONE_THREAD)


def build(spec, inputs_cache):
    """The timed thunk of one case spec (see the module docstring)."""
    from benchmarks import peers
    from benchmarks.workloads import WORKLOADS

    parts = spec.split(":", 3)
    if len(parts) < 3 or parts[0] not in WORKLOADS or parts[1] not in peers.PEER_MODULES:
        raise SystemExit(f"bad case {spec!r}: want WORKLOAD:PEER:CASE[:ROW], workloads {' '.join(WORKLOADS)}, "
                         f"peers {' '.join(peers.PEER_MODULES)}")
    workload, peer, case = parts[:3]
    row = parts[3] if len(parts) == 4 else None
    if workload not in inputs_cache:
        inputs_cache[workload] = WORKLOADS[workload].make_inputs()
    module = peers.load(peer)
    module.setup(1)
    for candidate in module.cases(workload, inputs_cache[workload]):
        if candidate.case == case and (row is None or candidate.row == row):
            return candidate.build()
    raise SystemExit(f"{peer} has no case {case!r}" + (f" in row {row!r}" if row else "") + f" for {workload}")


def measure(thunk, calls):
    """(wall us, kernel us, minor faults) per call, over ``calls`` warm calls."""
    import resource

    thunk()
    thunk()  # warm: first-call costs (imports, caches) are not this script's subject
    gc.collect()
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    for _ in range(calls):
        thunk()
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    return (1e6 * wall / calls, 1e6 * (after.ru_stime - before.ru_stime) / calls,
            (after.ru_minflt - before.ru_minflt) / calls)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="+", metavar="WORKLOAD:PEER:CASE[:ROW]")
    parser.add_argument("--calls", type=int, default=30, help="warm calls measured per case (default 30)")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the highest allowed)")
    args = parser.parse_args(argv)
    if args.calls < 1:
        parser.error("--calls must be at least 1")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0)) if args.cpu is None else args.cpu})
    inputs_cache = {}
    thunks = [(spec, build(spec, inputs_cache)) for spec in args.cases]
    print(f"{'case':32s} {'us/call':>10s} {'kernel us':>10s} {'faults/call':>12s}")
    for spec, thunk in thunks:
        wall, kernel, faults = measure(thunk, args.calls)
        # Microseconds: a W1 call takes a few, which milliseconds to two places would print as 0.00.
        print(f"{spec:32s} {wall:10.1f} {kernel:10.1f} {faults:12.1f}", flush=True)


if __name__ == "__main__":
    main()
