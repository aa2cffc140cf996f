"""W9: Laplacian of a tanh MLP: nested (trace of the Hessian), standard Taylor, collapsed Taylor, stochastic.

    python benchmarks/w9_laplacian.py            # D=50, tanh 768-768-512-512-1, batch 1, 8, 32, 128
    python benchmarks/w9_laplacian.py --quick    # D=5, 16-16-8-8-1, batch 1, 3 (seconds; run by the tests)
    python benchmarks/w9_laplacian.py --json out.json --results benchmarks/RESULTS.md

Each batch size runs in a process of its own, pinned to one CPU (and BLAS to one
thread before numpy is imported), so one batch's allocations cannot hide another's
peak and no route gets a second core. Per route:
the median time of --repeat calls after one warm-up call, and the peak memory
of one call: the growth of the process's peak resident set (VmHWM, reset
through /proc/self/clear_refs) over its resident set before the call, with
glibc's mmap threshold fixed so freed arrays go back to the system at once.
Ratios to nested come from the same process.

Every exact route is checked against nested to 1e-10 relative before it is
timed. The stochastic route (Hutchinson probes through collapsed Taylor mode)
is given the number of Rademacher probes that a pilot run says brings the
standard error to --stochastic-rtol (default 10%) of the batch's root-mean-square
Laplacian (in 10 groups, capped at 10 D), and is checked to lie within 5 of its standard
errors of the exact value.

Peers, in the same process when installed, in float64 with the same weights:
folx (forward Laplacian, JAX, jit-compiled as its docs recommend) and
jet-for-pytorch (collapsed Taylor mode, PyTorch, with its own graph capture,
common-subexpression elimination and torch.func.vmap, as its benchmark does).
A peer that is not installed is reported as skipped. ``--results`` replaces the
"## W9" section of that file (benchmarks/RESULTS.md) with this run's tables.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import importlib.metadata  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402

FULL = ([50, 768, 768, 512, 512, 1], (1, 8, 32, 128))
QUICK = ([5, 16, 16, 8, 8, 1], (1, 3))
PEERS = (("folx", "folx"), ("jet-for-pytorch", "jet"))


def make_weights(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(a, b)) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]


def make_mlp(weights, tanh=hnp.tanh, scalar=lambda y: y[0]):
    def net(x):
        h = x
        for w in weights[:-1]:
            h = tanh(h @ w)
        return scalar(h @ weights[-1])

    return net


def hodiff_routes(net, dim):
    eye = np.eye(dim)

    def nested(x):
        return hnp.trace(hd.hessian(net)(x))

    def standard(x):
        coefficients = hd.vmap(lambda v: hd.taylor(net, x, v, order=2))(eye)  # (D, 3)
        return 2.0 * hnp.sum(coefficients[:, 2])

    return {"nested": hd.vmap(nested), "standard": hd.vmap(standard), "collapsed": hd.vmap(hd.laplacian(net))}


def peer_routes(weights):
    """The installed peers' batched Laplacians, as functions of a numpy (B, D) array returning numpy (B,)."""
    routes = {}
    if importlib.util.find_spec("folx") is not None:
        import jax

        jax.config.update("jax_enable_x64", True)
        import folx
        import jax.numpy as jnp

        jweights = [jnp.asarray(w) for w in weights]
        folx_lap = jax.jit(jax.vmap(lambda x: folx.forward_laplacian(make_mlp(jweights, jnp.tanh))(x).laplacian))
        routes["folx"] = lambda x: np.asarray(folx_lap(jnp.asarray(x)).block_until_ready())
    if importlib.util.find_spec("jet") is not None:
        import jet
        import torch

        torch.set_num_threads(1)
        tweights = [torch.as_tensor(w) for w in weights]
        net = make_mlp(tweights, torch.tanh, torch.sum)  # jet has no rule for indexing
        dummy = torch.zeros(weights[0].shape[0], dtype=torch.float64)
        graph, _ = jet.capture_graph(jet.laplacian(net, (dummy,), collapsed=True), (dummy,))
        jet.common_subexpression_elimination(graph.graph)
        graph.recompile()
        batched = torch.func.vmap(graph)

        def jet_route(x):
            with torch.no_grad():
                return batched(torch.as_tensor(x)).numpy()

        routes["jet-for-pytorch"] = jet_route
    return routes


def _status(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_memory(fn, x):
    """Bytes the peak resident set grows by during one call of fn(x)."""
    gc.collect()
    before = _status("VmRSS:")
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # reset VmHWM to the current resident set
    fn(x)
    return max(_status("VmHWM:") - before, 0)


def median_times(routes, x, repeat):
    """Median seconds per route; the routes take turns in every repeat, so a change in the machine's
    load falls on all of them alike."""
    times = {name: [] for name in routes}
    for _ in range(repeat):
        for name, fn in routes.items():
            start = time.perf_counter()
            fn(x)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def stochastic_route(net, x, exact, rtol, dim, groups=10):
    """A batched Hutchinson Laplacian with the probes that a pilot run says bring every point's standard
    error down to ``rtol`` times the batch's root-mean-square Laplacian, rounded up to a multiple of
    ``groups`` (the standard error comes from that many group means, each group one collapsed pass)
    and capped at 10 D probes (beyond D probes the exact route is cheaper anyway)."""
    pilot_samples = 16
    pilot = hd.vmap(hd.laplacian(net, method="stochastic", samples=pilot_samples, seed=1))(x)
    per_probe = np.max(np.asarray(pilot.stderr)) * math.sqrt(pilot_samples)
    needed = max(2, math.ceil((per_probe / (rtol * math.sqrt(np.mean(exact ** 2)))) ** 2))
    samples = groups * math.ceil(min(needed, 10 * dim) / groups)
    return needed, samples, hd.vmap(hd.laplacian(net, method="stochastic", samples=samples, groups=groups,
                                                 seed=0))


def run_batch(sizes, batch, repeat, check_only, rtol):
    """One batch size, in this process: {route: {"ms": ..., "mib": ...}} plus notes."""
    weights = make_weights(sizes)
    net = make_mlp(weights)
    routes = hodiff_routes(net, sizes[0])
    x = np.random.default_rng(1).normal(size=(batch, sizes[0]))
    exact = np.asarray(routes["nested"](x))
    scale = np.abs(exact).max()
    routes.update(peer_routes(weights))
    for name, fn in routes.items():
        value = np.asarray(fn(x))
        if not np.allclose(value, exact, rtol=1e-10, atol=1e-12 * scale):
            raise SystemExit(f"W9: route {name} disagrees with nested at batch {batch}: {value} vs {exact}")
    result = {"batch": batch, "routes": {}, "notes": []}
    try:
        needed, samples, stochastic = stochastic_route(net, x, exact, rtol, sizes[0])
    except TypeError as error:  # a hodiff without laplacian(method="stochastic")
        result["notes"].append(f"stochastic: skipped ({error})")
    else:
        estimate = stochastic(x)
        z = np.abs(np.asarray(estimate.estimate) - exact) / np.asarray(estimate.stderr)
        if not np.all(z < 5):
            raise SystemExit(f"W9: the stochastic estimate is {z.max():.1f} stderr from exact at batch {batch}")
        routes[f"stochastic ({samples} probes)"] = stochastic
        result["notes"].append(
            f"stochastic: {rtol:.0%} of the rms Laplacian as stderr needs {needed} Rademacher probes"
            + (f" (capped at {samples})" if samples < needed else "")
            + f" against the exact route's {sizes[0]} directions; largest error {z.max():.1f} stderr")
    if check_only:
        return result
    for fn in routes.values():
        fn(x)  # warm-up: jit compilation, graph capture, caches
    seconds = median_times(routes, x, repeat)
    for name, fn in routes.items():
        result["routes"][name] = {"ms": 1e3 * seconds[name], "mib": peak_memory(fn, x) / 2 ** 20}
    return result


def _report(result):
    routes = result["routes"]
    if not routes:
        return f"batch {result['batch']}: all routes agree to 1e-10"
    nested = routes["nested"]
    lines = [f"batch {result['batch']}:"]
    for name, r in routes.items():
        memory = f"({r['mib'] / nested['mib']:.2f}x nested)" if nested["mib"] >= 0.1 else "(too small to compare)"
        lines.append(f"  {name:28s} {r['ms']:9.2f} ms ({r['ms'] / nested['ms']:.2f}x nested)  "
                     f"peak {r['mib']:8.1f} MiB {memory}")
    return "\n".join(lines + [f"  {note}" for note in result["notes"]])


def _versions():
    """name version for numpy, scipy and each installed peer's packages."""
    found = []
    for package in ("numpy", "scipy", "jax", "jaxlib", "folx", "torch", "jet-for-pytorch"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def results_section(sizes, repeat, results, command, seconds):
    """The "## W9" section of benchmarks/RESULTS.md: one table per batch size, as printed."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [f"## W9: Laplacian of a tanh MLP {'-'.join(map(str, sizes))} (benchmarks/w9_laplacian.py)", "",
             f"- Date: {datetime.date.today().isoformat()} ({seconds:.0f} s; 1-minute load average at the end "
             f"{load:.1f}); median of {repeat}, routes timed in turns; one process per batch size pinned to "
             "one CPU, one thread",
             f"- Command: `{command}`",
             f"- Python {platform.python_version()}; {_versions()}"
             + ("; jet-for-pytorch needs Python >= 3.12, so it was installed with --ignore-requires-python and "
                "its PEP 695 `type PyTree` alias (annotations only) replaced by a class"
                if "jet-for-pytorch" in _versions() else ""),
             "- Peak memory: growth of the process's peak resident set (VmHWM) over one call.", "",
             "| batch | route | time | / nested | peak memory | / nested |",
             "| --- | --- | --- | --- | --- | --- |"]
    for result in results:
        nested = result["routes"].get("nested")
        for name, r in result["routes"].items():
            memory = f"{r['mib'] / nested['mib']:.2f}x" if nested["mib"] >= 0.1 else "-"
            lines.append(f"| {result['batch']} | {name} | {r['ms']:.2f} ms | {r['ms'] / nested['ms']:.2f}x | "
                         f"{r['mib']:.1f} MiB | {memory} |")
    notes = [f"- batch {result['batch']}: {note}" for result in results for note in result["notes"]]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--batches", type=int, nargs="+", default=None)
    parser.add_argument("--stochastic-rtol", type=float, default=0.1)
    parser.add_argument("--no-time", action="store_true", help="check agreement only (for the tests)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--results", metavar="PATH", help='replace the "## W9" section of this Markdown file')
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)  # one batch size, JSON on stdout
    args = parser.parse_args(argv)
    sizes, batches = QUICK if args.quick else FULL
    batches = args.batches or batches
    repeat = args.repeat or (3 if args.quick else 5)
    if args.child is not None:
        if hasattr(os, "sched_setaffinity"):
            # One CPU for the whole child: XLA's thread pool ignores the thread flags above (folx used both
            # cores), and it sizes itself from the CPUs it may run on when JAX first loads, after this.
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        print(json.dumps(run_batch(sizes, args.child, repeat, args.no_time, args.stochastic_rtol)))
        return
    for peer, module in PEERS:
        if importlib.util.find_spec(module) is None:
            print(f"peer {peer}: skipped (not installed)")
    print(f"MLP {'-'.join(map(str, sizes))}, float64, threads 1, median of {repeat}, one process per batch size")
    started = time.perf_counter()
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    results = []
    for batch in batches:
        command = [sys.executable, __file__, "--child", str(batch), "--repeat", str(repeat),
                   "--stochastic-rtol", str(args.stochastic_rtol)]
        command += ["--quick"] * args.quick + ["--no-time"] * args.no_time
        child = subprocess.run(command, capture_output=True, text=True, env=env)
        if child.returncode != 0:
            raise SystemExit(f"W9: batch {batch} failed:\n{child.stderr}{child.stdout}")
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(_report(results[-1]), flush=True)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"sizes": sizes, "repeat": repeat, "results": results},
                                                      indent=1))
    if args.results and not args.no_time:
        from benchmarks import report

        command = shlex.join(["python", "benchmarks/w9_laplacian.py", *(sys.argv[1:] if argv is None else argv)])
        path = pathlib.Path(args.results)
        old = path.read_text() if path.exists() else ""
        path.write_text(report.with_section(old, results_section(sizes, repeat, results, command,
                                                                 time.perf_counter() - started)))
        print(f"updated the W9 section of {path}")


if __name__ == "__main__":
    main()
