"""Run hodiff's GradBench evals: validate every case, then time hodiff and the peers.

    python benchmarks/gradbench/run.py [--quick] [--evals hello,lse,llsq,det,kmeans]
        [--peers autograd,torch,jax,jax+jit] [--no-peers] [--keep-freed-memory] [--results benchmarks/RESULTS.md]

Threads are pinned to 1 (BLAS variables set before numpy loads, torch and XLA
told too). Each case is validated against the eval module's independent
reference with GradBench's tolerance (1e-4 on |x-y| / max(|x|+|y|, 1)); every
peer's output is checked the same way. Times are medians over repeats
(benchmarks/timing.py: cold call, warm call, R repeats of L calls); ratios are
hodiff over the best eager peer (autograd, torch, jax) of the same run. Each
tool is timed on each eval in a fresh process pinned to one CPU, as W1-W8's
(workload, peer) pairs are (``worker``).
"hodiff+replay" is the module's REPLAYED functions (the same cores under
hd.record: recorded on the first call, replayed after), compared with jax+jit.
``--quick`` only validates hodiff on small inputs (a few seconds; no timing).
``--keep-freed-memory``: every tool's worker, peers' too, first calls hd.keep_freed_memory() (glibc keeps
freed temporaries instead of page-faulting them back each call; the default is glibc's own setting).
A peer that is not installed is skipped with a message.
"""

from __future__ import annotations

import os
import sys

for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                  "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import argparse  # noqa: E402
import importlib  # noqa: E402

from benchmarks.gradbench import EVALS  # noqa: E402
from benchmarks.gradbench.common import mismatches  # noqa: E402

PEERS = ("autograd", "torch", "jax", "jax+jit")
REPLAY = "hodiff+replay"
EAGER = ("autograd", "torch", "jax")


def load(name):
    if name not in EVALS:
        raise ValueError(f"evals: unknown eval {name!r} (known: {', '.join(EVALS)})")
    return importlib.import_module(f"benchmarks.gradbench.{name}")


def validate_eval(module, quick=True, functions=None) -> list[str]:
    """Run hodiff (or ``functions``) on every input of ``module``; return the failures."""
    functions = module.FUNCTIONS if functions is None else functions
    failures = []
    for function, description, inp in module.inputs(quick=quick):
        expected = module.reference(function, inp)
        bad = mismatches(expected, functions[function](inp))
        if bad:
            failures.append(f"{module.NAME} {function} {description}: " + "; ".join(bad[:3]))
    return failures


MARKER = "@@gradbench "  # a worker's result lines: MARKER + json


def _tool_functions(module, tool):
    """The functions ``tool`` is timed with on ``module`` (None: the eval leaves it out), and why not."""
    if tool == "hodiff":
        return module.FUNCTIONS, None
    if tool == REPLAY:
        return getattr(module, "REPLAYED", None), None
    reason = getattr(module, "UNTIMED_PEERS", {}).get(tool)
    if reason:
        return None, reason
    return module.peers().get(tool), None


def worker(eval_name, tool, keep_freed_memory=False):
    """Time one tool on one eval's timed cases, in this (fresh) process; print one MARKER line per case.

    The process is pinned to one CPU before torch or jax loads (XLA sizes its thread pool from the
    affinity mask), as benchmarks/worker.py pins W1-W8's: each tool meets the allocator, the caches and
    the imports as it left them, not as another tool did (glibc's trim threshold, raised by one tool's big
    frees, changed another's page faults in a shared process).
    """
    import json

    from benchmarks.timing import FULL, CaseTimeout, measure

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    if keep_freed_memory:
        import hodiff

        hodiff.keep_freed_memory()
    module = load(eval_name)
    functions, reason = _tool_functions(module, tool)
    if functions is None:
        print(MARKER + json.dumps({"skipped": reason or "the eval leaves it out"}), flush=True)
        return 0
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    for function, description, inp in module.inputs(quick=False)[:getattr(module, "TIMED", None)]:
        record = {"function": function, "case": description}
        try:
            m = measure(lambda f=functions[function]: f(inp), FULL)
        except (Exception, CaseTimeout) as error:  # reported in its cell
            record["error"] = f"{type(error).__name__}: {error}".rstrip(": ")
        else:
            record["ms"] = m.median * 1e3
            bad = mismatches(module.reference(function, inp), m.results[-1])
            if bad:
                record["invalid"] = bad[0]
        print(MARKER + json.dumps(record), flush=True)
    return 0


def _run_worker(module, tool, cases, keep_freed_memory=False):
    """{(function, case): the worker's record} of one tool, each record with "ms", "error" or "invalid"."""
    import json
    import subprocess

    from benchmarks.timing import FULL

    limit = FULL.case_timeout * (len(cases) + 2)
    try:
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", module.NAME, tool]
                              + ["--keep-freed-memory"] * keep_freed_memory, capture_output=True, text=True,
                              timeout=limit)
    except subprocess.TimeoutExpired:
        done = None
    records = {}
    for line in (done.stdout if done else "").splitlines():
        if line.startswith(MARKER):
            record = json.loads(line[len(MARKER):])
            if "skipped" in record:
                print(f"peer {tool}: not timed on {module.NAME} ({record['skipped']})", file=sys.stderr)
                return None
            records[record["function"], record["case"]] = record
    if done is None or done.returncode != 0:
        why = (f"the worker passed its {limit:.0f} s limit" if done is None else
               f"the worker exited with {done.returncode}: " + (done.stderr.strip().splitlines() or [""])[-1])
        for key in cases:
            records.setdefault(key, {"error": why})
    return records


def time_eval(module, peers, keep_freed_memory=False):
    """The eval's rows: every tool timed in its own worker process (``worker``), in the same run."""
    cases = [(function, description) for function, description, _ in
             module.inputs(quick=False)[:getattr(module, "TIMED", None)]]
    measured = {tool: _run_worker(module, tool, cases, keep_freed_memory) for tool in ["hodiff", REPLAY] + list(peers)}
    rows = []
    for function, description in cases:
        row = {"eval": module.NAME, "function": function, "case": description}
        for tool, records in measured.items():
            record = None if records is None else records.get((function, description))
            row[tool] = None if record is None else record.get("ms")
            problem = None if record is None else record.get("error") or record.get("invalid")
            if problem:
                if tool in ("hodiff", REPLAY):
                    raise RuntimeError(f"{tool} {module.NAME} {function} {description}: {problem}")
                row[tool + "!"] = problem
                print(f"  {tool} {module.NAME} {function} {description} "
                      f"{'INVALID' if 'invalid' in record else 'FAILED'}: {problem}", file=sys.stderr)
        eager = [row[p] for p in EAGER if row.get(p) is not None and p + "!" not in row]
        row["ratio"] = row["hodiff"] / min(eager) if eager else None
        row["replay/jit"] = (row[REPLAY] / row["jax+jit"] if row.get(REPLAY) is not None
                             and row.get("jax+jit") is not None and "jax+jit!" not in row else None)
        rows.append(row)
    print(table(rows, peers), flush=True)
    return rows


def table(rows, peers) -> str:
    tools = ["hodiff", REPLAY] + list(peers)
    header = ["eval", "function", "case"] + [f"{t} ms" for t in tools] + ["hodiff / best eager", "replay / jax+jit"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [row["eval"], row["function"], row["case"]]
        for t in tools:
            value = row.get(t)
            if value is None:
                cells.append("failed" if t + "!" in row else "-")
            else:
                cells.append(f"{value:.4g}" + (" (invalid)" if t + "!" in row else ""))
        cells += ["-" if row[key] is None else f"{row[key]:.2f}" for key in ("ratio", "replay/jit")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def results_section(modules, rows, peers, argv, keep_freed_memory=False) -> str:
    """The run's section of benchmarks/RESULTS.md, named by its evals ("## GradBench: hello, lse")."""
    import platform
    import time

    command = "python benchmarks/gradbench/run.py " + " ".join(argv)
    notes = [f"- {m.NAME}: {m.__doc__.strip().splitlines()[0]}" for m in modules]
    flag = ", --keep-freed-memory" if keep_freed_memory else ""
    return (f"## GradBench: {', '.join(m.NAME for m in modules)} (benchmarks/gradbench/run.py{flag})\n\n"
            f"`{command}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, load "
            f"{os.getloadavg()[0]:.1f}, threads pinned to 1; each tool timed on each eval in its own process, pinned "
            "to one CPU; malloc: "
            + ("every tool's process called hd.keep_freed_memory() first" if keep_freed_memory else "glibc's default")
            + "). Medians (benchmarks/timing.py); every output, hodiff's "
            "and each peer's, passed GradBench's tolerance against the module's independent reference; "
            "hodiff / best eager = hodiff over the fastest of autograd, torch and jax (eager) in the same run; "
            "replay / jax+jit = hodiff+replay (the same code under hd.record) over jax+jit; - = not timed "
            "(peer not installed or the eval leaves it out).\n\n"
            + "\n".join(notes) + "\n\n" + table(rows, peers) + "\n")


def installed_peers(requested):
    """The requested peers whose package is installed (found, not imported: the workers import them)."""
    import importlib.util

    present = []
    for peer in requested:
        module = {"jax+jit": "jax"}.get(peer, peer)
        if importlib.util.find_spec(module) is not None:
            present.append(peer)
        else:
            print(f"peer {peer}: not installed (no module {module}), skipped", file=sys.stderr)
    return present


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only validate hodiff on small inputs")
    parser.add_argument("--evals", default=",".join(EVALS), help="comma-separated evals")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated peers")
    parser.add_argument("--no-peers", action="store_true", help="time hodiff only")
    parser.add_argument("--results", metavar="PATH", help="replace (or add) this run's section of this Markdown file")
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="every tool's process (peers' too) calls hd.keep_freed_memory() first")
    parser.add_argument("--worker", nargs=2, metavar=("EVAL", "TOOL"), help=argparse.SUPPRESS)  # time_eval's
    args = parser.parse_args(argv)
    if args.worker:
        return worker(*args.worker, keep_freed_memory=args.keep_freed_memory)
    names = [name.strip() for name in args.evals.split(",") if name.strip()]
    for name in names:
        if name not in EVALS:
            parser.error(f"--evals: unknown eval {name!r} (known: {', '.join(EVALS)})")
    modules = [load(name) for name in names]
    for peer in args.peers.split(","):
        if peer and peer not in PEERS:
            parser.error(f"--peers: unknown peer {peer!r} (known: {', '.join(PEERS)})")

    failures = []
    for module in modules:
        for quick in (True,) if args.quick else (True, False):
            try:
                failures += validate_eval(module, quick=quick)
            except FileNotFoundError as error:  # an eval's data files (the GradBench mirror) are missing
                parser.exit(2, f"{parser.prog}: {error}\n")
            if quick and hasattr(module, "REPLAYED"):  # twice: the recording, then the replay (timing checks
                # every timed output of the full inputs)
                failures += validate_eval(module, quick=quick, functions=module.REPLAYED)
                failures += validate_eval(module, quick=quick, functions=module.REPLAYED)
    for failure in failures:
        print("INVALID", failure)
    print(f"validated {len(modules)} evals: {'FAIL' if failures else 'ok'}")
    if failures or args.quick:
        return 1 if failures else 0

    peers = [] if args.no_peers else installed_peers([p for p in args.peers.split(",") if p])
    rows = []
    for module in modules:
        rows += time_eval(module, peers, args.keep_freed_memory)
    print("\n" + table(rows, peers))
    if args.results:
        from pathlib import Path

        from benchmarks import report

        path = Path(args.results)
        old = path.read_text() if path.exists() else ""
        path.write_text(report.with_section(old, results_section(modules, rows, peers, argv or sys.argv[1:],
                                                                   args.keep_freed_memory)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
