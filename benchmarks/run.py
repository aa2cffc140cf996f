"""Run the autodiff benchmarks W1-W8 (BENCHMARKS.md) for hodiff and its peers.

    python benchmarks/run.py --quick
    python benchmarks/run.py --only W1,W5 --peers floor,hodiff,torch --json out.json

Every (workload, peer) pair runs in a fresh subprocess (benchmarks/worker.py),
pinned to one CPU with one thread, which re-times the numpy floor before the
peer's cases. Prints one report and writes it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # so that `python benchmarks/run.py` finds the package
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import peers, report, timing  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
MARKER = "@@bench "


def comma_list(choices):
    def parse(text):
        items = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if item not in choices]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown: {', '.join(unknown)} (choose from {', '.join(choices)})")
        return items
    return parse


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Benchmark hodiff against its peers on workloads W1-W8.")
    parser.add_argument("--quick", action="store_true",
                        help="shorter repeats and budgets (20 ms / 0.25 s per case)")
    parser.add_argument("--only", type=comma_list(list(WORKLOADS)), default=list(WORKLOADS),
                        metavar="W1,W5", help="workloads to run (default: all)")
    parser.add_argument("--peers", type=comma_list(list(peers.PEER_MODULES)),
                        default=list(peers.PEER_MODULES), metavar="hodiff,torch",
                        help="peers to run (default: all): " + ", ".join(peers.PEER_MODULES))
    parser.add_argument("--json", type=Path, default=None, metavar="FILE",
                        help="also write every record (min, n, L, IQR/median ...) as JSON")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="N threads per library and no CPU pinning "
                             "(default: 1 thread, pinned to one CPU)")
    parser.add_argument("--results", type=Path, default=REPO_ROOT / "benchmarks" / "RESULTS.md",
                        metavar="FILE", help="where to write the report (default: %(default)s)")
    parser.add_argument("--no-results", action="store_true",
                        help="print the report only; do not write RESULTS.md")
    parser.add_argument("--from-json", type=Path, default=None, metavar="FILE",
                        help="measure nothing: render the report of a run saved with --json")
    parser.add_argument("--scale", type=Path, default=REPO_ROOT / "benchmarks" / "scale.json",
                        metavar="FILE", help="figures of benchmarks/scale.py, appended to the report as "
                                             "its Scale section if the file exists (default: %(default)s)")
    return parser.parse_args(argv)


# --- the subprocesses ---------------------------------------------------------

def pinned_cpu() -> int:
    """BENCH_CPU=k, else the highest CPU this process may run on."""
    if os.environ.get("BENCH_CPU"):
        return int(os.environ["BENCH_CPU"])
    return max(os.sched_getaffinity(0))


def worker_environment(threads: int) -> dict:
    environment = dict(os.environ)
    for variable in THREAD_VARIABLES:
        environment[variable] = str(threads)
    # The worker runs as `python -m benchmarks.worker` from the repository root,
    # so a hodiff checked out there is found before any other on PYTHONPATH.
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), environment.get("PYTHONPATH")]))
    environment.setdefault("JAX_PLATFORMS", "cpu")
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return environment


def failure_reason(return_code: int, stderr: str) -> str:
    if return_code < 0:
        try:
            return f"killed by {signal.Signals(-return_code).name}"
        except ValueError:
            return f"killed by signal {-return_code}"
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    return f"exit {return_code}: {lines[-1] if lines else 'no message'}"


def run_pair(workload_key, peer_name, mode, threads, cpu, environment):
    """Run one (workload, peer) worker; return (records, info) even if it died."""
    limits = timing.LIMITS[mode]
    command = [sys.executable, "-m", "benchmarks.worker", "--workload", workload_key,
               "--peer", peer_name, "--mode", mode, "--threads", str(threads)]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pair_timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=limits.pair_timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pair_timed_out = True

    info, plan, records = {}, [], []
    for line in stdout.splitlines():
        if not line.startswith(MARKER):
            continue
        message = json.loads(line[len(MARKER):])
        kind = message.pop("kind")
        if kind == "info":
            info = message
        elif kind == "plan":
            plan = [tuple(item) for item in message["cases"]]
        elif kind == "result":
            records.append(message)

    # Cases the worker planned but never reported died with it.
    reported = {(record["row"], record["case"]) for record in records}
    missing = [item for item in plan if item not in reported]
    if pair_timed_out:
        problem = {"status": "timeout",
                   "error": f"pair limit of {limits.pair_timeout:.0f} s reached"}
    elif process.returncode != 0:
        problem = {"status": "crashed", "error": failure_reason(process.returncode, stderr)}
    else:
        problem = None
    if problem and missing:
        # Cases run in plan order: the first unreported one was running when
        # the worker died; the rest never started.
        first_row, first_case = missing[0]
        records.append({"row": first_row, "case": first_case, **problem})
        records += [{"row": row, "case": case, "status": "skipped",
                     "error": f"not run: the worker died in {first_row} {first_case}"}
                    for row, case in missing[1:]]
    elif problem and not records:
        records.append({"row": peer_name, "case": "*", **problem})
    if not records and not plan and process.returncode == 0:
        records.append({"row": peer_name, "case": "*", "status": "error",
                        "error": "worker reported nothing: " + stderr.strip()[-200:]})

    for sequence, record in enumerate(records):
        record.update(workload=workload_key, peer=peer_name, seq=sequence)
        record.setdefault("tol", WORKLOADS[workload_key].tolerance(record["case"])
                          if record["case"] != "*" else None)
    return records, info


# --- machine description ------------------------------------------------------

def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def memory_gib() -> float:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def missing_modules(peer_module) -> list[str]:
    return [name for name in peer_module.REQUIRES if importlib.util.find_spec(name) is None]


# --- main ---------------------------------------------------------------------

def write_report(meta, records, args) -> None:
    # The Scale section comes from benchmarks/scale.py's last run, kept in its own file.
    scale = json.loads(args.scale.read_text()) if args.scale and args.scale.exists() else None
    text = report.render(meta, records, scale)
    print(text)
    if not args.no_results:
        old = args.results.read_text() if args.results.exists() else ""
        args.results.write_text(report.keep_other_sections(text, old))
        print(f"wrote {args.results}", file=sys.stderr)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        write_report(saved["meta"], saved["records"], args)
        return 0
    mode = "quick" if args.quick else "full"
    threads = args.threads or 1
    cpu = None if args.threads else pinned_cpu()
    environment = worker_environment(threads)
    load_at_start = os.getloadavg()[0]
    started = time.perf_counter()

    selected, skipped = [], {}
    for name in args.peers:
        module = peers.load(name)
        missing = missing_modules(module)
        if missing and module.OPTIONAL:
            skipped[name] = f"skipped: not installed ({', '.join(missing)})"
            print(f"{name}: {skipped[name]}", file=sys.stderr)
        else:
            selected.append((name, module))

    print(f"mode {mode}; workloads {','.join(args.only)}; peers "
          f"{','.join(name for name, _ in selected)}; "
          + (f"pinned to CPU {cpu}, 1 thread" if cpu is not None else f"{threads} threads, unpinned"),
          file=sys.stderr)

    records, peer_info, environment_info = [], {}, {}
    for workload_key in args.only:
        for name, module in selected:
            if workload_key not in module.WORKLOADS:
                continue  # e.g. micrograd has no W3-W7 (BENCHMARKS.md)
            pair_started = time.perf_counter()
            pair_records, info = run_pair(workload_key, name, mode, threads, cpu, environment)
            records += pair_records
            if info.get("peer"):
                peer_info[name] = info["peer"]
            if info.get("environment") and not environment_info:
                environment_info = info["environment"]
            problems = sum(record["status"] != "ok" for record in pair_records)
            print(f"  {workload_key} {name:<10} {len(pair_records):3d} cases"
                  + (f", {problems} not ok" if problems else "")
                  + f"  {time.perf_counter() - pair_started:6.1f} s", file=sys.stderr)

    wall_seconds = time.perf_counter() - started
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode,
        "wall_seconds": wall_seconds,
        "command": "python benchmarks/run.py " + shlex.join(sys.argv[1:] if argv is None else argv),
        "cpu_model": cpu_model(), "cpu_count": os.cpu_count(), "memory_gib": memory_gib(),
        "platform": platform.platform(), "python": platform.python_version(),
        "threads": threads,
        "pinning": f"pinned to CPU {cpu}" if cpu is not None else "not pinned",
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "unset"),
        # Other jobs on the machine inflate absolute times: say so in the report.
        "load_average": (load_at_start, os.getloadavg()[0]),
        "environment": environment_info, "peers": peer_info, "skipped": skipped,
    }
    write_report(meta, records, args)
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "records": records}, indent=1,
                                        default=str))
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
