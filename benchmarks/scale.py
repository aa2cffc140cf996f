"""How large a problem fits in a memory cap: W8's scalar chain and W5's full Hessian.

    python benchmarks/scale.py                    # both workloads, 4 GiB cap, about 5 minutes
    python benchmarks/scale.py --only hessian --limit 2G --budget 60
    python benchmarks/scale.py --quick            # cap 96 MiB over the imports, ~10 s, writes nothing

What the cap counts. Every probe runs in a child process forked from this one
after ``numpy``, ``hodiff`` and the benchmark modules are imported, with one
BLAS thread; the child caps its own address space with
``resource.setrlimit(RLIMIT_AS, cap)`` and then builds the inputs and makes
one call. RLIMIT_AS counts *virtual* address space: the interpreter, every
mapped shared library (numpy, OpenBLAS with its preallocated buffers, scipy,
which hodiff imports), the heap and each array, whether or not its pages are
touched. That baseline (``VmSize`` after the imports, a few hundred MiB) is
printed; the workload gets the cap minus the baseline. Beside the address
space (``VmPeak``) the child reports its peak resident set (``VmHWM``), the
physical memory the call really used. A call that needs more than the cap
raises ``MemoryError`` (or, rarely, dies in C code or stalls past its time); any way it did not fit.

Workloads (BENCHMARKS.md), through the same thunks ``benchmarks/run.py`` times
(``benchmarks/peers/hodiff_peer.py``):

- ``chain``: W8, ``y <- y*1.0000001 + 1e-7*sin(y)`` for N steps from 0.5, value
  and derivative by ``hd.value_and_grad``; checked against W8's hand-written
  float loop (``workloads.w8_floor_grad``), W8's tolerance 1e-9;
- ``hessian``: W5, the n x n Hessian of ``sum(logaddexp(0, A@x)) + 0.5*x@x``
  by ``hd.hessian`` (default mode), A of shape (500, n). Inputs are drawn as W5
  draws its first pair, for any n: ``r = default_rng(5)``,
  ``A = r.standard_normal((500, n)) / sqrt(n)``, ``x = r.standard_normal(n)``
  (n = 50 gives exactly W5's ``n50`` inputs). Checked against the analytic
  ``A.T diag(s(1-s)) A + I``, ``s = sigmoid(A@x)``, built a block of columns at a
  time (so the check fits under the cap too), W5's tolerance 1e-10.

Every call that fits is checked; a wrong result stops that workload's search.

The search, per workload, within a time budget:

1. calibration: two uncapped calls at small sizes give the peak address space
   and the wall time as linear functions of the size unit (steps for the
   chain, n^2 for the Hessian), hence a predicted largest size under the cap;
2. probes under the cap at 0.97 and 1.03 times the prediction (widening by 10%
   steps if both fit or both fail), then bisection of the bracket while the
   budget lasts and the bracket is wider than the resolution (1%; quick 10%).
   Quick mode's cap is relative (``+96M``: 96 MiB over the address space
   after the imports), so that it tests the machinery on any machine.
   A probe is started only if its predicted wall time fits in what is left.

The table gives the largest size that ran and the smallest that did not: the
true limit lies between. Results go to ``benchmarks/scale.json`` and to the
"## Scale" section of ``benchmarks/RESULTS.md`` (replaced in place, the rest of
the file kept); ``benchmarks/run.py`` includes that section again from
``scale.json`` whenever it rewrites RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import math
import multiprocessing
import os
import platform
import resource
import shlex
import sys
import time
import traceback
from pathlib import Path

# One BLAS thread, set before numpy is imported (the forked probes inherit the loaded library); only
# when run as a script, so that importing this module (tests) leaves the environment alone.
_ONE_THREAD = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
if __name__ == "__main__":
    for _name in _ONE_THREAD:
        os.environ[_name] = "1"

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # so that `python benchmarks/scale.py` finds the packages
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402

import hodiff  # noqa: E402, F401  (imported here: the probes fork with it loaded)
import hodiff.numpy  # noqa: E402, F401
from benchmarks import report  # noqa: E402
from benchmarks import workloads as wl  # noqa: E402
from benchmarks.peers import hodiff_peer  # noqa: E402

MiB = 1 << 20
GiB = 1 << 30
UNIT = {"chain": "steps", "hessian": "n"}
ROWS = 500  # A's rows in W5
CHECK_BLOCK = 256  # columns of the analytic Hessian built at a time by the check
EXIT_NO_MEMORY = 3  # a probe that could not even report its MemoryError


class Settings:
    def __init__(self, limit, budget, calibration, resolution, hessian_share):
        self.limit = limit                    # "4G", or "+96M": over the address space after the imports
        self.budget = budget                  # seconds for the whole search
        self.calibration = calibration        # {workload: (small size, larger size)}, run uncapped
        self.resolution = resolution          # stop bisecting when bad / good <= 1 + resolution
        self.hessian_share = hessian_share    # of the budget, when both workloads run (it goes first)


# Calibration sizes: large enough that allocator granularity (pymalloc arenas, the (n, 500) terms
# of the Hessian) does not skew the line much; bisection corrects what is left.
SETTINGS = {
    "full": Settings("4G", 280.0, {"chain": (100_000, 300_000), "hessian": (2000, 4000)}, 0.01, 0.25),
    # Quick: a cap relative to the imports, so that the smoke test works wherever numpy maps more or less.
    "quick": Settings("+96M", 12.0, {"chain": (10_000, 30_000), "hessian": (400, 800)}, 0.10, 0.3),
}


def parse_limit(text: str):
    """'4G', '384M', '512K' (binary units) or bytes; a leading '+' means over the address space after
    the imports. Returns (relative, bytes)."""
    relative = text.strip().startswith("+")
    body = text.strip().lstrip("+").upper().removesuffix("B").removesuffix("I")
    scale = {"K": 1 << 10, "M": MiB, "G": GiB}.get(body[-1:], 1)
    try:
        value = float(body[:-1] if scale > 1 else body)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (say 4G, 384M, +96M or a number of bytes)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"the cap must be positive, got {text!r}")
    return relative, int(value * scale)


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


# --- the workloads: inputs, the timed thunk, the check ----------------------------------------

def hessian_inputs(n: int):
    """W5's draw for any n: default_rng(5), A (500, n) / sqrt(n), then x (n,); n = 50 is W5's n50."""
    r = np.random.default_rng(5)
    A = r.standard_normal((ROWS, n)) / np.sqrt(n)
    x = r.standard_normal(n)
    return A, x


def _chain_thunk(steps):
    (case,) = hodiff_peer.cases("W8", {"x": 0.5, "steps": steps})
    return case.build()


def _chain_check(steps, result):
    reference = wl.w8_floor_grad(0.5, steps)
    return wl.relative_error(result, reference), wl.WORKLOADS["W8"].tolerance("grad")


def _hessian_thunk(n):
    A, x = hessian_inputs(n)
    # hodiff_peer's W5 thunk for one case, given this n's inputs.
    case = next(c for c in hodiff_peer.cases("W5", {"n50": (A, x), "n200": (A, x)}) if c.case == "n50")
    return case.build()


def _hessian_check(n, H):
    """||H - (A.T diag(s(1-s)) A + I)||_F / ||.||_F, the reference built CHECK_BLOCK columns at a time."""
    A, x = hessian_inputs(n)
    H = np.asarray(H)
    if H.shape != (n, n):
        return math.inf, wl.WORKLOADS["W5"].tolerance("n50")
    s = 1.0 / (1.0 + np.exp(-(A @ x)))
    weighted = A.T * (s * (1.0 - s))  # (n, 500)
    difference = total = 0.0
    for start in range(0, n, CHECK_BLOCK):
        stop = min(start + CHECK_BLOCK, n)
        block = weighted @ A[:, start:stop]
        block[np.arange(start, stop), np.arange(stop - start)] += 1.0
        difference += float(np.sum((H[:, start:stop] - block) ** 2))
        total += float(np.sum(block**2))
    return math.sqrt(difference / total), wl.WORKLOADS["W5"].tolerance("n50")


WORKLOADS = {"chain": (_chain_thunk, _chain_check), "hessian": (_hessian_thunk, _hessian_check)}


def size_unit(workload: str, size: int) -> float:
    """What memory and time grow with: steps for the chain, n^2 for the Hessian."""
    return float(size) if workload == "chain" else float(size) ** 2


def size_from_unit(workload: str, unit: float) -> int:
    return int(unit) if workload == "chain" else int(math.sqrt(max(unit, 0.0)))


# --- one probe, in a forked child ---------------------------------------------------------------

def _out_of_memory(error: BaseException) -> bool:
    while error is not None:
        if isinstance(error, MemoryError):
            return True
        error = error.__cause__ or error.__context__
    return False


def _probe_child(workload, size, limit, connection):
    try:
        _probe(workload, size, limit, connection)
    except MemoryError:  # outside the measured call: in the bookkeeping, near the cap
        os._exit(EXIT_NO_MEMORY)


def _probe(workload, size, limit, connection):
    """Cap the address space, build, call once, measure, check; send one dict."""
    record = {"base_as": _status_kib("VmSize") * 1024, "base_rss": _status_kib("VmRSS") * 1024}
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    build, check = WORKLOADS[workload]
    result = failure = None
    try:
        thunk = build(size)
        start = time.perf_counter()
        result = thunk()
        record["seconds"] = time.perf_counter() - start
        del thunk  # the closure holds the inputs (A); the result is all the check needs
        record["peak_as"] = _status_kib("VmPeak") * 1024
        record["peak_rss"] = _status_kib("VmHWM") * 1024
    except Exception as error:
        # No traceback text for a MemoryError: formatting it needs the memory that just ran out.
        failure = (dict(fit=False, why="MemoryError") if _out_of_memory(error) else
                   dict(fit=None, why=f"{type(error).__name__}: {error}", traceback=traceback.format_exc()))
    if failure is not None:
        # Out of the except block the exception, its traceback and the frames holding the graph are gone.
        gc.collect()
        record.update(failure)
    else:
        record["fit"] = True
        try:
            # After the measurement: the reference's memory counts in neither peak figure above.
            record["rel_err"], record["tol"] = check(size, result)
        except MemoryError:
            record["rel_err"], record["why"] = None, "MemoryError in the check"
    connection.send(record)


def run_probe(workload, size, limit, timeout):
    """One probe in a forked child. ``fit``: True (ran), False (did not fit), None (error, or out of time uncapped)."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    started = time.perf_counter()
    child = context.Process(target=_probe_child, args=(workload, size, limit, sender), daemon=True)
    child.start()
    sender.close()
    record = None
    if receiver.poll(max(timeout, 1.0)):
        try:
            record = receiver.recv()
        except EOFError:  # the child died without a word
            record = None
    else:
        child.kill()
        # Under a cap, a call the uncapped calibration saw finish quickly that now stalls is stuck near
        # the cap (CI once saw a chain probe 10% over the limit hang instead of raising): it did not fit.
        record = {"fit": False if limit else None, "why": f"out of time under the cap ({timeout:.0f} s)"
                  if limit else f"out of time ({timeout:.0f} s)"}
    child.join()
    receiver.close()
    if record is None:
        code = child.exitcode
        if code == EXIT_NO_MEMORY:
            record = {"fit": False, "why": "MemoryError"}
        elif code and code < 0:
            # Killed in C code near the cap (an allocation that cannot fail softly): it did not fit.
            record = {"fit": False if limit else None, "why": f"killed by signal {-code}"}
        else:
            record = {"fit": None, "why": f"exit code {code} without a result"}
    record["wall"] = time.perf_counter() - started
    record["size"] = size
    return record


# --- the search -----------------------------------------------------------------------------------

def _line(x0, y0, x1, y1):
    slope = (y1 - y0) / (x1 - x0)
    return slope, y1 - slope * x1


def _wrong(record, workload):
    """Why a call that ran does not count, or None: its check failed or could not run."""
    if record.get("rel_err") is None:
        return f"{UNIT[workload]}={record['size']:,} ran but was not checked: {record.get('why')}"
    if record["rel_err"] > record["tol"]:
        return (f"wrong result at {UNIT[workload]}={record['size']:,}: "
                f"rel err {record['rel_err']:.1e} > {record['tol']:g}")
    return None


def search(workload, settings, deadline, log):
    """Calibrate, bracket and bisect; returns a dict for scale.json."""
    small, large = settings.calibration[workload]
    limit = settings.limit
    result = {"workload": workload, "unit": UNIT[workload], "probes": []}
    calibration = []
    for size in (small, large):
        record = run_probe(workload, size, 0, max(deadline - time.perf_counter(), 30.0))
        result["probes"].append(dict(record, capped=False))
        if not record.get("fit"):
            result["error"] = f"calibration at {UNIT[workload]}={size:,} failed: {record.get('why')}"
            return result
        if _wrong(record, workload):
            result["error"] = _wrong(record, workload)
            return result
        calibration.append(record)
    first, second = calibration
    u0, u1 = size_unit(workload, small), size_unit(workload, large)
    memory_slope, memory_base = _line(u0, first["peak_as"], u1, second["peak_as"])
    time_slope, time_base = _line(u0, first["wall"], u1, second["wall"])
    time_slope = max(time_slope, second["wall"] / u1 * 0.5)  # noise could make the line flat
    base = second["base_as"]
    result.update(base_as=base, base_rss=second["base_rss"],
                  bytes_per_unit_as=memory_slope,
                  bytes_per_unit_rss=(second["peak_rss"] - first["peak_rss"]) / (u1 - u0))
    if memory_slope <= 0 or limit <= memory_base:
        result["error"] = (f"the cap ({limit / MiB:,.0f} MiB) leaves no room over the "
                           f"{memory_base / MiB:,.0f} MiB the process maps before the workload grows")
        return result
    predicted = size_from_unit(workload, (limit - memory_base) / memory_slope)
    result["predicted"] = predicted
    log(f"{workload}: base address space {base / MiB:,.0f} MiB (RSS {second['base_rss'] / MiB:,.0f} MiB); "
        f"{memory_slope:,.1f} bytes of address space per {'step' if workload == 'chain' else 'n^2'}; "
        f"predicted largest {UNIT[workload]} in {limit / MiB:,.0f} MiB ~ {predicted:,}")

    def estimated_wall(size):
        return 1.2 * (time_base + time_slope * size_unit(workload, size))

    good = bad = None
    planned = [int(predicted * 0.97), int(predicted * 1.03)]
    while True:
        if planned:
            size = planned.pop(0)
        elif good and bad:
            if bad["size"] / good["size"] <= 1 + settings.resolution or bad["size"] - good["size"] <= 1:
                result["stopped"] = "resolution reached"
                break
            size = min(max(int(math.sqrt(good["size"] * bad["size"])), good["size"] + 1), bad["size"] - 1)
        elif good:
            size = max(int(good["size"] * 1.1), good["size"] + 1)
        else:
            size = min(int(bad["size"] / 1.1), bad["size"] - 1)
            if size < 1:
                result["error"] = f"even {UNIT[workload]}=1 did not fit"
                break
        if (good and size <= good["size"]) or (bad and size >= bad["size"]):
            continue  # a planned probe the bracket has already passed
        left = deadline - time.perf_counter()
        if estimated_wall(size) > left:
            result["stopped"] = (f"time budget: a probe at {UNIT[workload]}={size:,} would take "
                                 f"~{estimated_wall(size):.0f} s, {max(left, 0):.0f} s left")
            break
        record = run_probe(workload, size, limit, 2 * estimated_wall(size) + 10)
        result["probes"].append(dict(record, capped=True))
        if record["fit"]:
            verdict = (f"ran in {record['seconds']:.1f} s (wall {record['wall']:.1f} s), peak address space "
                       f"{record['peak_as'] / MiB:,.0f} MiB, peak RSS {record['peak_rss'] / MiB:,.0f} MiB, "
                       + (f"rel err {record['rel_err']:.1e}" if record.get("rel_err") is not None
                          else record.get("why", "not checked")))
        else:
            verdict = f"did not fit: {record['why']} (wall {record['wall']:.1f} s)"
        log(f"  {UNIT[workload]}={size:,}: {verdict}")
        if record["fit"] is None:
            result["error"] = f"{UNIT[workload]}={size:,}: {record['why']}"
            break
        if record["fit"]:
            if _wrong(record, workload):
                result["error"] = _wrong(record, workload)
                break
            good = record
        else:
            bad = record
    result["good"], result["bad"] = good, bad
    return result


# --- output ---------------------------------------------------------------------------------------

def machine_description() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} CPUs; Python {platform.python_version()}, numpy {np.__version__}"


def write_outputs(data, json_path, results_path, log):
    if json_path:
        json_path.write_text(json.dumps(data, indent=1, default=str) + "\n")
        log(f"wrote {json_path}")
    if results_path:
        text = results_path.read_text() if results_path.exists() else ""
        results_path.write_text(report.with_section(text, report.scale_section(data)))
        log(f"updated the Scale section of {results_path}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="cap 96 MiB over the imports, 12 s budget, 10%% resolution; writes nothing unless asked")
    parser.add_argument("--only", default="hessian,chain", help="hessian, chain or both (default)")
    parser.add_argument("--limit", default=None, metavar="SIZE",
                        help="address-space cap per probe: 4G (default), 512M, or +96M = 96 MiB over the "
                             "address space after the imports (quick's default)")
    parser.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                        help="seconds for the whole search (default 280, quick 12)")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE",
                        help="where to write the figures (default benchmarks/scale.json; quick: nowhere)")
    parser.add_argument("--results", type=Path, default=None, metavar="FILE",
                        help="RESULTS.md whose Scale section to replace (default benchmarks/RESULTS.md; "
                             "quick: none)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--from-json", type=Path, default=None, metavar="FILE",
                        help="measure nothing: print the figures saved in FILE and put them in RESULTS.md")
    args = parser.parse_args(argv)
    try:
        parse_limit(args.limit or "1")
    except argparse.ArgumentTypeError as error:
        parser.error(f"--limit: {error}")
    args.workloads = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown or not args.workloads:
        parser.error(f"--only: unknown workload(s) {', '.join(unknown) or '(none)'}; choose hessian, chain")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    mode = "quick" if args.quick else "full"
    defaults = SETTINGS[mode]
    relative, limit = parse_limit(args.limit or defaults.limit)
    if relative:
        limit += _status_kib("VmSize") * 1024  # the probes fork from here: they start at this size
    settings = Settings(limit, args.budget or defaults.budget, defaults.calibration,
                        defaults.resolution, defaults.hessian_share)
    json_path, results_path = args.json, args.results
    if not args.quick:
        json_path = json_path or REPO_ROOT / "benchmarks" / "scale.json"
        results_path = results_path or REPO_ROOT / "benchmarks" / "RESULTS.md"
    if args.no_write:
        json_path = results_path = None

    def log(text):
        print(text, file=sys.stderr, flush=True)

    if args.from_json:
        data = json.loads(args.from_json.read_text())
        print(report.scale_table(data))
        write_outputs(data, None, results_path, log)
        return 0
    order = [w for w in ("hessian", "chain") if w in args.workloads]  # the Hessian's probes are short
    started = time.perf_counter()
    end = started + settings.budget
    results = []
    for workload in order:
        share = settings.hessian_share if workload == "hessian" and len(order) == 2 else 1.0
        deadline = min(end, time.perf_counter() + share * (end - time.perf_counter()))
        results.append(search(workload, settings, deadline, log))
    data = {
        "meta": {
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(["python benchmarks/scale.py", shlex.join(sys.argv[1:] if argv is None else argv)]
                                ).strip(),
            "mode": mode, "limit": settings.limit, "budget": settings.budget,
            "wall_seconds": time.perf_counter() - started,
            "machine": machine_description(), "hodiff_path": hodiff.__file__,
            "blas_threads": 1, "load_average": os.getloadavg()[0],
        },
        "results": results,
    }
    print(report.scale_table(data))
    write_outputs(data, json_path, results_path, log)
    return 1 if any("error" in result for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
