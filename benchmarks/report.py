"""Tables of a run: the main results table, same-process ratios, hodiff's W6 table,
and the writer of RESULTS.md. Pure formatting: no measuring here."""

from __future__ import annotations

import math
from collections import defaultdict

from .peers import PEER_MODULES
from .workloads import WORKLOADS

MAX_MESSAGE = 60  # characters of an error message shown in a table cell


# --- formatting helpers -------------------------------------------------------

def format_seconds(seconds) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale * 0.9995:  # 999.8 ns is shown as 1 us, not 1e+03 ns
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_ratio(value) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"


def markdown_table(headers, rows) -> str:
    """A pipe table, padded so that it also reads well in a terminal."""
    cells = [list(map(str, headers))] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths)) + " |",
             "| " + " | ".join("-" * w for w in widths) + " |"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"
              for row in cells[1:]]
    return "\n".join(lines)


def short(message: str, limit: int = MAX_MESSAGE) -> str:
    message = " ".join(str(message).split()).replace("|", "/")
    return message if len(message) <= limit else message[: limit - 3] + "..."


def status_text(record) -> str:
    status = record["status"]
    if status == "ok":
        return "ok"
    if status == "wrong":
        return f"WRONG (rel err > {record['tol']:.0e})"
    if status == "timeout":
        return "TIMEOUT"
    return f"{status}: {short(record.get('error', ''))}"


# --- ordering -----------------------------------------------------------------

def ordered(records):
    """By workload, then case (the floor's case first), then peer, then row.

    Rows of one peer keep the order in which its module lists them ("jax"
    before "jax+jit"); ``seq`` is the emission order within the subprocess.
    """
    workload_order = list(WORKLOADS)
    peer_order = list(PEER_MODULES)
    first_seen = {}
    for record in records:
        key = (record["workload"], record["row"])
        first_seen[key] = min(first_seen.get(key, math.inf), record.get("seq", 0))

    def key(record):
        workload = WORKLOADS[record["workload"]]
        case = record["case"]
        group = workload.floor_case(case)
        standard = [workload.floor_case(c) for c in workload.cases]
        group_rank = standard.index(group) if group in standard else _case_number(group)
        case_rank = workload.cases.index(case) if case in workload.cases else (
            -1 if case == group else len(workload.cases) + _case_number(case))
        peer = record.get("peer")
        peer_rank = peer_order.index(peer) if peer in peer_order else len(peer_order)
        return (workload_order.index(record["workload"]), group_rank, case_rank, peer_rank,
                first_seen[(record["workload"], record["row"])])

    return sorted(records, key=key)


def _case_number(case: str) -> int:
    """k9 -> 109: extra numbered cases after the standard ones, in numeric order."""
    digits = "".join(ch for ch in case if ch.isdigit())
    return 100 + int(digits) if digits else 1000


# --- the main table -----------------------------------------------------------

def x_floor(record):
    if record.get("median_s") is None:
        return None
    if record["row"] == "floor":
        return 1.0
    floor_median = record.get("floor_median_s")
    return record["median_s"] / floor_median if floor_median else None


def per_unit(record) -> str:
    unit = WORKLOADS[record["workload"]].per_unit
    if unit is None or record.get("median_s") is None:
        return ""
    name, count = unit
    return f"{format_seconds(record['median_s'] / count)}/{name}"


def results_table(records) -> str:
    headers = ["workload", "case", "peer", "median", "x floor", "per op/step", "first",
               "peak MB", "rel err", "status"]
    rows = []
    for record in ordered(records):
        measured = record.get("median_s") is not None
        median = format_seconds(record.get("median_s")) + ("*" if record.get("slow") else "")
        rel_err = record.get("rel_err")
        rows.append([
            record["workload"], "(all)" if record["case"] == "*" else record["case"],
            record["row"],
            median if measured else "-",
            format_ratio(x_floor(record)) if measured else "-",
            per_unit(record),
            format_seconds(record.get("first_s")) if measured else "-",
            f"{record['mem_mb']:.1f}" if record.get("mem_mb") is not None else "-",
            f"{rel_err:.1e}" if rel_err is not None and measured else "-",
            status_text(record)])
    return markdown_table(headers, rows)


# --- same-process ratios ------------------------------------------------------

def _medians(records):
    """{(workload, row): {case: median}} for measured cases, in table order."""
    medians = defaultdict(dict)
    for record in ordered(records):
        if record.get("median_s") is not None and record["status"] in ("ok", "wrong"):
            medians[(record["workload"], record["row"])][record["case"]] = record["median_s"]
    return medians


def ratio_rows(records):
    """(ratio name, peer row, value) for every ratio computable from this run.

    Both medians of a ratio come from the same subprocess: a row's cases of
    one workload always run together.
    """
    medians = _medians(records)
    wanted = [("W2", "grad", "fwd", "W2 grad/fwd"),
              ("W3", "grad", "fwd", "W3 grad/fwd"),
              ("W4", "hvp", "grad", "W4 hvp/grad"),
              ("W4", "hvp:exact", "grad", "W4 exact hvp/grad"),   # the floor's HVP by hand
              ("W7", "fwd:wide", "rev:wide", "W7 wide fwd/rev"),
              ("W7", "fwd:tall", "rev:tall", "W7 tall fwd/rev"),
              ("W6", "k8", "k1", "W6 t(k=8)/t(k=1)")]
    rows = []
    for workload, numerator, denominator, name in wanted:
        for (record_workload, row), cases in medians.items():
            if record_workload == workload and numerator in cases and denominator in cases:
                rows.append((name, row, cases[numerator] / cases[denominator]))
    # hodiff's mode="auto" against the faster of its two fixed modes.
    for shape in ("wide", "tall"):
        for (record_workload, row), cases in medians.items():
            keys = (f"auto:{shape}", f"rev:{shape}", f"fwd:{shape}")
            if record_workload == "W7" and all(k in cases for k in keys):
                faster = min(cases[keys[1]], cases[keys[2]])
                rows.append((f"W7 {shape} auto/faster mode", row, cases[keys[0]] / faster))
    return rows


def ratios_table(records) -> str:
    rows = ratio_rows(records)
    if not rows:
        return "(no ratio could be computed from the cases run)"
    return markdown_table(["ratio", "peer", "value"],
                          [[name, row, format_ratio(value)] for name, row, value in rows])


# --- hodiff's W6 table: Taylor vs nested, k = 1..12 -----------------------------

def w6_hodiff_table(records) -> str | None:
    by_case = defaultdict(dict)
    for record in records:
        if record["workload"] == "W6" and record["row"] in ("hodiff taylor", "hodiff nested"):
            by_case[record["case"]][record["row"].split()[1]] = record
    if not by_case:
        return None

    def cell(record):
        if record is None:
            return "-"
        if record.get("median_s") is None:
            return status_text(record)
        text = format_seconds(record["median_s"]) + ("*" if record.get("slow") else "")
        return text if record["status"] == "ok" else text + " WRONG"

    def median(record):
        return record.get("median_s") if record else None

    first = {mode: median(by_case.get("k1", {}).get(mode)) for mode in ("taylor", "nested")}
    rows = []
    for k in sorted(by_case, key=_case_number):
        taylor, nested = by_case[k].get("taylor"), by_case[k].get("nested")
        floor_median = next((r.get("floor_median_s") for r in (taylor, nested)
                             if r and r.get("floor_median_s")), None)

        def ratio(a, b):
            return format_ratio(a / b) if a is not None and b else "-"

        rows.append([k[1:], format_seconds(floor_median), cell(taylor), cell(nested),
                     ratio(median(taylor), floor_median), ratio(median(nested), median(taylor)),
                     ratio(median(taylor), first["taylor"]),
                     ratio(median(nested), first["nested"])])
    headers = ["k", "floor", "taylor", "nested", "taylor x floor", "nested/taylor",
               "taylor t(k)/t(1)", "nested t(k)/t(1)"]
    return markdown_table(headers, rows)


# --- header and RESULTS.md ----------------------------------------------------

def header_lines(meta) -> list[str]:
    environment = meta.get("environment", {})
    lines = [
        f"- Date: {meta['date']} (mode: {meta['mode']}; wall time "
        f"{int(meta['wall_seconds'] // 60)} min {meta['wall_seconds'] % 60:.0f} s)",
        f"- Command: `{meta['command']}`",
        f"- Machine: {meta['cpu_model']}, {meta['cpu_count']} CPUs, "
        f"{meta['memory_gib']:.1f} GiB; {meta['platform']}",
        f"- Python {environment.get('python', meta['python'])}, numpy "
        f"{environment.get('numpy', '?')}, scipy {environment.get('scipy', '?')}",
        f"- Threads: {meta['threads']} per process ({meta['pinning']}); "
        f"OPENBLAS_CORETYPE={meta['openblas_coretype']}",
    ]
    if "load_average" in meta:
        at_start, at_end = meta["load_average"]
        busy = " (other jobs shared the machine: absolute times are inflated)" if max(
            at_start, at_end) > 1.5 else ""
        lines.append(f"- 1-minute load average: {at_start:.1f} at start, {at_end:.1f} at end"
                     + busy)
    pools = environment.get("threadpools")
    if isinstance(pools, list):
        for pool in pools:
            lines.append(f"- threadpoolctl (numpy's process): {pool.get('internal_api')} "
                         f"{pool.get('version') or ''}, architecture "
                         f"{pool.get('architecture') or '-'}, num_threads {pool.get('num_threads')}")
    elif pools:
        lines.append(f"- threadpoolctl: {pools}")
    for peer, info in meta.get("peers", {}).items():
        if peer == "floor":  # numpy, already listed
            continue
        details = ", ".join(f"{key} {value}" for key, value in info.items() if key != "version")
        lines.append(f"- {peer} {info.get('version', '?')}" + (f" ({details})" if details else ""))
    for peer, reason in meta.get("skipped", {}).items():
        lines.append(f"- {peer}: {reason}")
    return lines


def error_lines(records) -> list[str]:
    """Every distinct full error message, with the rows and cases it hit."""
    hits = defaultdict(list)
    for record in ordered(records):
        if record["status"] in ("error", "crashed", "timeout", "wrong"):
            message = record.get("error") or (
                f"rel err {record.get('rel_err')} > tol {record['tol']}")
            hits[(record["row"], record["status"], message)].append(
                f"{record['workload']} {record['case']}")
    return [f"- {row}, {status} in {', '.join(cases)}: {message}"
            for (row, status, message), cases in hits.items()]


def render(meta, records, scale=None) -> str:
    """The whole report (printed to the terminal and written as RESULTS.md).

    ``scale``: benchmarks/scale.py's figures (its JSON), rendered as the last section.
    """
    parts = ["# hodiff benchmark results", "", *header_lines(meta), "",
             "Times are medians over repeats of back-to-back calls; `first` is the cold call "
             "(tracing, JIT). `x floor` divides by the numpy floor re-timed in the same "
             "process; `*` = measured once (a slow call). Peak MB = peak RSS growth of one "
             "warm call. Compare ratios within one run, not absolute times across runs.",
             "", "## Results", "", results_table(records),
             "", "## Ratios (medians from the same process)", "", ratios_table(records)]
    w6_table = w6_hodiff_table(records)
    if w6_table:
        parts += ["", "## W6: hodiff derivative(order=k), mode=\"taylor\" vs \"nested\"", "",
                  w6_table]
    errors = error_lines(records)
    if errors:
        parts += ["", "## Errors, timeouts and wrong results", "", *errors]
    text = "\n".join(parts) + "\n"
    return with_section(text, scale_section(scale)) if scale else text


# --- the Scale section (benchmarks/scale.py) ------------------------------------
# scale.py writes its figures to benchmarks/scale.json and replaces this section
# of RESULTS.md in place; run.py renders it again from scale.json whenever it
# rewrites RESULTS.md (and keeps the other scripts' sections as they were).

SCALE_HEADING = "## Scale"
_SCALE_NAMES = {"chain": "W8 scalar chain (steps)", "hessian": "W5 full Hessian (n)"}


def _mib(value) -> str:
    return f"{value / 2**20:,.0f} MiB" if value is not None else "-"


def _cap_text(limit) -> str:
    return f"{limit / 2**30:g} GiB" if limit >= 2**30 else f"{limit / 2**20:g} MiB"


def scale_table(scale) -> str:
    """One row per workload: the largest size that ran under the cap, the smallest that did not."""
    rows = []
    for result in scale["results"]:
        name = _SCALE_NAMES.get(result["workload"], result["workload"])
        good, bad = result.get("good"), result.get("bad")
        if good is None:
            rows.append([name, "-", f"{bad['size']:,} ({bad['why']})" if bad else "-", "-", "-", "-", "-",
                         "-", short(result.get("error", result.get("stopped", "no capped probe ran")))])
            continue
        grown_as = good["peak_as"] - good["base_as"]
        grown_rss = good["peak_rss"] - good["base_rss"]
        if result["workload"] == "chain":
            per_unit = f"{grown_as / good['size']:,.0f} B/step ({grown_rss / good['size']:,.0f} B RSS)"
        else:
            entries = good["size"] ** 2
            per_unit = (f"{grown_as / entries:.1f} B per n^2 ({grown_as / (8 * entries):.1f} n x n float64 "
                        f"arrays; RSS {grown_rss / (8 * entries):.1f})")
        rows.append([name, f"{good['size']:,}",
                     f"{bad['size']:,} ({bad['why']})" if bad else "not found in the budget",
                     format_seconds(good["seconds"]), _mib(good["peak_as"]), _mib(good["peak_rss"]),
                     per_unit, f"{good['rel_err']:.1e}", short(result.get("error", ""))])
    headers = ["workload", "largest that ran", "smallest that did not", "time of the largest call",
               "peak address space", "peak RSS (VmHWM)", "growth per unit, largest run", "rel err", "problem"]
    if not any(row[-1] for row in rows):  # no problem to show
        headers, rows = headers[:-1], [row[:-1] for row in rows]
    return markdown_table(headers, rows)


def scale_section(scale) -> str:
    """The "## Scale" section of RESULTS.md, from scale.py's JSON."""
    meta = scale["meta"]
    bases = [r for r in scale["results"] if r.get("base_as") is not None]
    base = (f"{_mib(bases[0]['base_as'])} of address space ({_mib(bases[0]['base_rss'])} resident in a probe)"
            if bases else "(not measured)")
    lines = [f"{SCALE_HEADING} ({_cap_text(meta['limit'])})", "",
             f"- Date: {meta['date']} ({meta['mode']}; {meta['wall_seconds']:.0f} s, budget "
             f"{meta['budget']:.0f} s; 1-minute load average at the end {meta['load_average']:.1f})",
             f"- Command: `{meta['command']}`",
             f"- Machine: {meta['machine']}; {meta['blas_threads']} BLAS thread; hodiff from {meta['hodiff_path']}",
             f"- The cap is `RLIMIT_AS` on each probe's process ({meta['limit']:,} bytes of virtual address "
             f"space), which counts the interpreter, numpy, OpenBLAS, scipy and hodiff already mapped "
             f"after the imports: {base}. Peak RSS (VmHWM) is the physical memory of the largest call "
             f"(the probes are forked after the imports, so their base RSS is what they touched).",
             "", scale_table(scale)]
    notes = [f"- {result['workload']}: stopped: {result['stopped']}" for result in scale["results"]
             if result.get("stopped")]
    notes += [f"- {result['workload']}: {result['error']}" for result in scale["results"] if result.get("error")]
    if notes:
        lines += [""] + notes
    return "\n".join(lines) + "\n"


def _heading_prefix(section: str) -> str:
    """The part of a section's heading that names it: "## Scale (4 GiB)" -> "## Scale"."""
    heading = section.splitlines()[0]
    return heading.split(" (", 1)[0].rstrip(":")


def with_section(text: str, section: str) -> str:
    """``text`` with the section named as ``section``'s heading is (heading to the next "## " heading)
    replaced by ``section``, or ``section`` appended. A heading's parenthesised tail ("(4 GiB)") may differ."""
    prefix = _heading_prefix(section)
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines)
                  if line.startswith("## ") and _heading_prefix(line) == prefix), None)
    if start is None:
        return (text.rstrip("\n") + "\n\n" if text.strip() else "") + section
    stop = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    after = "".join(lines[stop:])
    return "".join(lines[:start]) + section + ("\n" + after if after else "")


def sections(text: str) -> dict[str, str]:
    """The "## " sections of a report by their heading's name, each from its heading to the next."""
    found, lines = {}, text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")] + [len(lines)]
    for start, stop in zip(starts, starts[1:]):
        found[_heading_prefix(lines[start])] = "".join(lines[start:stop]).rstrip("\n") + "\n"
    return found


# The sections render() may write (some only when there is something to say): a harness run owns these.
HARNESS_SECTIONS = ("## Results", "## Ratios", '## W6: hodiff derivative(order=k), mode="taylor" vs "nested"',
                    "## Errors, timeouts and wrong results", SCALE_HEADING)


def keep_other_sections(new: str, old: str) -> str:
    """``new`` (run.py's report) followed by every section of ``old`` that is not the harness's own: the
    sections other scripts write into RESULTS.md (W9, W10, GradBench, ...) survive a harness run."""
    for name, section in sections(old).items():
        if name not in HARNESS_SECTIONS:
            new = with_section(new, section)
    return new
