"""Deterministic cost of one call: instructions counted by valgrind's callgrind.

Wall times on a shared 2-core machine move 2-3x with load; instruction counts
do not. This script runs a workload under ``valgrind --tool=callgrind`` twice,
after a cold call with 1 and with 1 + n more calls (n = 5, more for cheap
calls), and prints (count(1 + n) - count(1)) / n: the instructions of one
warm call, with start-up, imports and the cold call cancelled out.

    python benchmarks/icount.py w1 w2 w2fwd w8        # a few workloads
    python benchmarks/icount.py --list                # what there is
    python benchmarks/icount.py --run w1 3            # (internal) 3 calls, no valgrind

Both runs use PYTHONHASHSEED=0: with random string hashes the start-up alone
varies by ~1M instructions between runs, more than a small call costs.
valgrind must run the real interpreter (``sys.executable``), not a pyenv
shim script, or it counts the shim's bash. Run it from the repository root so
``import hodiff`` picks up the checkout. A call costs ~50-100x its native time
under callgrind: w8 (100 steps here) and w6nested take a few seconds each.
"""

import gc
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# job -> (workload, peer, case, overridden inputs): the same thunks the harness times.
JOBS = {
    "w1": ("W1", "hodiff", "vg", None), "w1floor": ("W1", "floor", "vg", None),
    "w1micrograd": ("W1", "micrograd", "vg", None), "w8micrograd": ("W8", "micrograd", "grad", {"steps": 100}),
    "w2": ("W2", "hodiff", "grad", None), "w2floor": ("W2", "floor", "grad", None),
    "w2fwd": ("W2", "hodiff", "fwd", None), "w2fwdfloor": ("W2", "floor", "fwd", None),
    # W8 with 100 steps (400 ops): the full 100,000 would take an hour under valgrind.
    "w8": ("W8", "hodiff", "grad", {"steps": 100}), "w8floor": ("W8", "floor", "grad", {"steps": 100}),
    "w6nested": ("W6", "hodiff", "k8", "nested"), "w6nested4": ("W6", "hodiff", "k4", "nested"),
    "w6taylor": ("W6", "hodiff", "k8", "taylor"), "w6floor": ("W6", "floor", "k8", None),
    # W7: mode="auto" against the fixed modes (auto's warm calls must cost what the faster mode costs).
    "w7autotall": ("W7", "hodiff", "auto:tall", None), "w7fwdtall": ("W7", "hodiff", "fwd:tall", None),
    "w7revtall": ("W7", "hodiff", "rev:tall", None),
    "w7autowide": ("W7", "hodiff", "auto:wide", None), "w7revwide": ("W7", "hodiff", "rev:wide", None),
}

# Extra calls measured (default 5): more for cheap calls, to average the collector's passes.
CALLS = {"w1": 50, "w1micrograd": 50, "w7autotall": 20, "w7fwdtall": 20, "w7autowide": 20, "w7revwide": 20,
         "w1floor": 200, "w8floor": 50, "w6floor": 200, "w2fwdfloor": 20, "w2floor": 20}


def _thunk(job):
    from benchmarks import peers
    from benchmarks.workloads import WORKLOADS

    workload, peer, case, extra = JOBS[job]
    inputs = WORKLOADS[workload].make_inputs()
    row = None
    if isinstance(extra, dict):
        inputs = dict(inputs, **extra)
    elif extra is not None:
        row = f"hodiff {extra}"
    module = peers.load(peer)
    module.setup(1)  # a peer imports its library here (micrograd's Value)
    for candidate in module.cases(workload, inputs):
        if candidate.case == case and (row is None or candidate.row == row):
            return candidate.build()
    raise KeyError(job)


def _start(job, calls):
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               sys.executable, os.path.abspath(__file__), "--run", job, str(calls)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=ROOT, PYTHONHASHSEED="0", **ONE_THREAD))


# OpenBLAS's idle threads spin a varying number of instructions: one thread, as the harness runs.
# (benchmarks/pagefaults.py sets these too: this module imports no numpy, so it can be imported first.)
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")}


def _collected(process, job):
    _, stderr = process.communicate()
    match = re.search(r"Collected : (\d+)", stderr)
    if process.returncode != 0 or match is None:
        raise RuntimeError(f"callgrind failed for {job}:\n{stderr[-2000:]}")
    return int(match.group(1))


def main(argv):
    if argv[:1] == ["--run"]:
        sys.path.insert(0, ROOT)
        job = _thunk(argv[1])
        job()  # the cold call, in both runs
        # Objects alive now (numpy, scipy, hodiff) leave the collector's generations:
        # otherwise a full collection that falls in one run and not the other costs
        # millions of instructions, more than a small call.
        gc.collect()
        gc.freeze()
        for _ in range(int(argv[2])):
            job()
        return
    if argv[:1] == ["--list"] or not argv:
        print(" ".join(JOBS))
        return
    for job in argv:
        if job not in JOBS:
            raise SystemExit(f"unknown workload {job!r}; one of: {' '.join(JOBS)}")
        calls = CALLS.get(job, 5)
        runs = _start(job, 1), _start(job, 1 + calls)  # side by side: 2 cores
        one, more = (_collected(run, job) for run in runs)
        print(f"{job:12s} {(more - one) / calls:>14,.0f} instructions per call", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
