"""W10: sparse Jacobians and Hessians (issue 15): pattern time, colours, compressed evaluation, dense, asdex.

    /work/peers/bin/python benchmarks/w10_sparse.py            # n = 10^3, 10^4, 10^5 (asdex when installed)
    python benchmarks/w10_sparse.py --quick                    # n = 100, 3 repeats (seconds; run by the tests)
    python benchmarks/w10_sparse.py --json out.json --results benchmarks/RESULTS.md

Four functions, each as a vector-valued form (Jacobian) and a scalar form
(Hessian), written once for hodiff.numpy and once for jax.numpy:

- chain: y_i = x_i^2 sin(x_i) - x_{i-1} x_{i+1} (zero ends): tridiagonal J;
  f = sum((x[1:] - x[:-1]^2)^2) + sum(sin(x) x): tridiagonal H.
- arrow: y = [x x_0 + sin(x), sum(x^2)]: dense column 0 and dense last row;
  f = x_0 sum(x^2) + sum(cos(x)): arrowhead H.
- stencil: u = x on a k x k grid (n = k^2), y = 4u - (four neighbours, zero
  outside) + u^3: five-point J; f = sum of squared neighbour differences +
  sum(cos(u)): five-point H.
- separable: y = sin(x) x^2; f = sum(exp(sin(x))): diagonal J and H.

Structural optimum of the colours (the method's lower bound, reached by an
optimal colouring): chain 3 (J, columns or rows) and 3 (H, star: a path needs
3); stencil 5 (J: a row has 5 entries) and 5 (H: the star chromatic number of a
grid); separable 1 and 1; arrow J: 3 (n for a column or a row colouring
alone: column 0 meets every column through the dense row; 3 passes -- one VJP
for the dense row, two JVPs for the rest -- with hodiff's mode="auto", which
finds that bidirectional partition), H: 2 (star). asdex colours one side only,
so its arrow Jacobian needs n colours: (n, n) compressed products, as dense; it
is run up to n = 1000.

Per (function, n), one process, threads pinned to 1 (BLAS variables set before
numpy is imported, the process pinned to one CPU with sched_setaffinity for
XLA): medians of --repeat calls after one warm-up call for one gradient, one
VJP, one JVP, one HVP, hd.jacobian_sparsity / hd.hessian_sparsity,
hd.sparse_jacobian / hd.sparse_hessian first call (a fresh function each call:
detection, colouring and planning included) and later calls, and dense
hd.jacobian / hd.hessian (one call) up to --dense-up-to. The sparse results are
checked against dense to 1e-12 relative (max |S - D| / max |D|) wherever dense
runs. asdex (JAX): asdex.jacobian_coloring / hessian_coloring (detection and
colouring) and jax.jit(asdex.*_from_coloring) first (compile) and later calls.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from benchmarks.timing import median_time  # noqa: E402

FULL = (10 ** 3, 10 ** 4, 10 ** 5)
QUICK = (100,)
OPTIMUM = {"chain": (3, 3), "arrow": (3, 2), "stencil": (5, 5), "separable": (1, 1)}
ASDEX_ARROW_JAC_MAX = 10 ** 3  # one-sided colouring: n colours, (n, n) compressed products, as dense


def functions(xp):
    """The vector and scalar forms of the four functions in namespace xp (hodiff.numpy or jax.numpy)."""

    def shift_down(x):  # x_{i-1}, zero at the start
        return xp.concatenate([xp.zeros(1, dtype=x.dtype), x[:-1]])

    def shift_up(x):    # x_{i+1}, zero at the end
        return xp.concatenate([x[1:], xp.zeros(1, dtype=x.dtype)])

    def chain_vec(x):
        return x ** 2 * xp.sin(x) - shift_down(x) * shift_up(x)

    def chain_sca(x):
        return xp.sum((x[1:] - x[:-1] ** 2) ** 2) + xp.sum(xp.sin(x) * x)

    def arrow_vec(x):
        return xp.concatenate([x * x[0] + xp.sin(x), xp.sum(x ** 2)[None]])

    def arrow_sca(x):
        return x[0] * xp.sum(x ** 2) + xp.sum(xp.cos(x))

    def grid(x):
        k = math.isqrt(x.size)
        return x.reshape(k, k)

    def stencil_vec(x):
        u = grid(x)
        p = xp.pad(u, 1)
        r = 4 * u - p[:-2, 1:-1] - p[2:, 1:-1] - p[1:-1, :-2] - p[1:-1, 2:] + u ** 3
        return r.reshape(-1)

    def stencil_sca(x):
        u = grid(x)
        return xp.sum((u[1:, :] - u[:-1, :]) ** 2) + xp.sum((u[:, 1:] - u[:, :-1]) ** 2) + xp.sum(xp.cos(u))

    def sep_vec(x):
        return xp.sin(x) * x ** 2

    def sep_sca(x):
        return xp.sum(xp.exp(xp.sin(x)))

    return {"chain": (chain_vec, chain_sca), "arrow": (arrow_vec, arrow_sca),
            "stencil": (stencil_vec, stencil_sca), "separable": (sep_vec, sep_sca)}


def size_for(name, n):
    return math.isqrt(n) ** 2 if name == "stencil" else n


def once(thunk):
    start = time.perf_counter()
    result = thunk()
    return time.perf_counter() - start, result


def rel_err(sparse, dense):
    dense = np.asarray(dense).reshape(sparse.shape)
    return float(np.max(np.abs(sparse.toarray() - dense)) / max(np.max(np.abs(dense)), 1e-300))


def asdex_colours(pattern):
    for attr in ("num_colors", "n_colors", "ncolors"):
        if hasattr(pattern, attr):
            return int(getattr(pattern, attr))
    found = re.search(r"(\d+) colors?", repr(pattern))
    return int(found.group(1)) if found else None


def run_hodiff(name, n, repeats, dense_up_to):
    f_vec, f_sca = functions(hnp)[name]
    rng = np.random.default_rng(10)
    x, x2, v = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n), rng.standard_normal(n)
    m = np.size(f_vec(x))
    w = rng.standard_normal(m)
    rec = {"function": name, "n": n}
    grad = hd.grad(f_sca)
    rec["grad"] = median_time(lambda: grad(x), repeats)
    rec["vjp"] = median_time(lambda: hd.vjp(f_vec, x)[1](w), repeats)
    rec["jvp"] = median_time(lambda: hd.jvp(f_vec, (x,), (v,)), repeats)
    rec["hvp"] = median_time(lambda: hd.hvp(f_sca, (x,), (v,)), repeats)
    rec["jac_pattern"] = median_time(lambda: hd.jacobian_sparsity(f_vec)(x), repeats)
    rec["hess_pattern"] = median_time(lambda: hd.hessian_sparsity(f_sca)(x), repeats)
    # Hessian
    rec["hess_first"] = median_time(lambda: hd.sparse_hessian(f_sca)(x), max(1, repeats // 2))
    hess = hd.sparse_hessian(f_sca)
    hess(x)
    rec["hess_colours"] = hess.num_colors
    rec["hess_later"] = median_time(lambda: hess(x2), repeats)
    if n <= dense_up_to and (n < 10 ** 4 or name == "chain"):
        rec["hess_dense"], dense = once(lambda: hd.hessian(f_sca)(x2))
        rec["hess_err"] = rel_err(hess(x2), dense)
    # Jacobian
    rec["jac_first"] = median_time(lambda: hd.sparse_jacobian(f_vec)(x), max(1, repeats // 2))
    jac = hd.sparse_jacobian(f_vec)
    jac(x)
    rec["jac_colours"], rec["jac_mode"] = jac.num_colors, jac.mode
    rec["jac_later"] = median_time(lambda: jac(x2), repeats)
    if n <= dense_up_to and (n < 10 ** 4 or name == "chain"):
        rec["jac_dense"], dense = once(lambda: hd.jacobian(f_vec)(x2))
        rec["jac_err"] = rel_err(jac(x2), dense)
    return rec


def run_asdex(name, n, repeats):
    import asdex
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    f_vec, f_sca = functions(jnp)[name]
    rng = np.random.default_rng(10)
    x, x2 = jnp.asarray(rng.uniform(-1, 1, n)), jnp.asarray(rng.uniform(-1, 1, n))
    rec = {}
    grad = jax.jit(jax.grad(f_sca))
    rec["ax_grad"] = median_time(lambda: jax.block_until_ready(grad(x)), repeats)
    t, colouring = once(lambda: asdex.hessian_coloring(f_sca, x))
    rec["ax_hess_detect"], rec["ax_hess_colours"] = t, asdex_colours(colouring)
    hess = jax.jit(asdex.hessian_from_coloring(f_sca, colouring))
    rec["ax_hess_first"], _ = once(lambda: jax.block_until_ready(hess(x)))
    rec["ax_hess_later"] = median_time(lambda: jax.block_until_ready(hess(x2)), repeats)
    if not (name == "arrow" and n > ASDEX_ARROW_JAC_MAX):
        t, colouring = once(lambda: asdex.jacobian_coloring(f_vec, x))
        rec["ax_jac_detect"], rec["ax_jac_colours"] = t, asdex_colours(colouring)
        jac = jax.jit(asdex.jacobian_from_coloring(f_vec, colouring))
        rec["ax_jac_first"], _ = once(lambda: jax.block_until_ready(jac(x)))
        rec["ax_jac_later"] = median_time(lambda: jax.block_until_ready(jac(x2)), repeats)
    return rec


def ms(t):
    return "-" if t is None else (f"{t * 1e3:.3g}" if t < 1 else f"{t * 1e3:.0f}")


def ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.3g}"


def table(records):
    lines = ["| f | n | side | pattern ms | pattern/grad | colours (opt) | mode | first ms | first/1 | "
             "later ms | later/1 | dense ms | dense/later | max rel err | asdex colours | asdex detect ms | "
             "asdex later ms |",
             "|" + " --- |" * 17]
    for r in records:
        for side in ("jac", "hess"):
            one = r["jvp"] if side == "jac" else r["hvp"]
            base = r["vjp"] if side == "jac" else r["grad"]
            opt = OPTIMUM[r["function"]][0 if side == "jac" else 1]
            get = r.get
            lines.append(
                f"| {r['function']} | {r['n']} | {'J' if side == 'jac' else 'H'} | {ms(get(side + '_pattern'))} | "
                f"{ratio(get(side + '_pattern'), base)} | {get(side + '_colours')} ({opt}) | "
                f"{get('jac_mode', '') if side == 'jac' else 'star'} | {ms(get(side + '_first'))} | "
                f"{ratio(get(side + '_first'), one)} | {ms(get(side + '_later'))} | "
                f"{ratio(get(side + '_later'), one)} | {ms(get(side + '_dense'))} | "
                f"{ratio(get(side + '_dense'), get(side + '_later'))} | "
                f"{'-' if get(side + '_err') is None else format(get(side + '_err'), '.1e')} | "
                f"{get('ax_' + side + '_colours', '-')} | {ms(get('ax_' + side + '_detect'))} | "
                f"{ms(get('ax_' + side + '_later'))} |")
    return "\n".join(lines)


def targets(records):
    out = []

    def line(ok, text):
        out.append(f"- [{'met' if ok else 'NOT MET'}] {text}")

    for r in records:
        for side, k in (("jac", 0), ("hess", 1)):
            opt = OPTIMUM[r["function"]][k]
            if r["function"] in ("chain", "stencil", "arrow") and r.get(side + "_colours") is not None:
                line(r[side + "_colours"] <= opt + 1,
                     f"{r['function']} n={r['n']} {side}: colours {r[side + '_colours']} <= optimum {opt} + 1")
            if r.get(side + "_err") is not None:
                line(r[side + "_err"] <= 1e-12, f"{r['function']} n={r['n']} {side}: |sparse - dense| "
                     f"{r[side + '_err']:.1e} <= 1e-12 relative")
        base = r["vjp"]
        line(r["jac_pattern"] <= 10 * base, f"{r['function']} n={r['n']}: Jacobian pattern "
             f"{r['jac_pattern'] / base:.2g} VJPs <= 10")
        line(r["hess_pattern"] <= 10 * r["grad"], f"{r['function']} n={r['n']}: Hessian pattern "
             f"{r['hess_pattern'] / r['grad']:.2g} gradients <= 10")
    for r in records:
        if r["function"] != "chain":
            continue
        if r["n"] == max(x["n"] for x in records):
            line(r["hess_first"] <= 100 * r["hvp"], f"chain n={r['n']}: sparse Hessian first call "
                 f"{r['hess_first'] / r['hvp']:.3g} HVPs <= 100")
            line(r["hess_later"] <= (r["hess_colours"] + 2) * r["hvp"], f"chain n={r['n']}: later calls "
                 f"{r['hess_later'] / r['hvp']:.3g} HVPs <= colours + 2 = {r['hess_colours'] + 2}")
        if r["n"] == 10 ** 4 and r.get("hess_dense") is not None:
            line(r["hess_dense"] >= 100 * r["hess_later"], f"chain n={r['n']}: dense/sparse "
                 f"{r['hess_dense'] / r['hess_later']:.3g}x >= 100x")
    return "\n".join(out)


HEADING = "## W10: sparse Jacobians and Hessians (benchmarks/w10_sparse.py)"
COLUMNS = """- Columns: pattern = hd.jacobian_sparsity / hd.hessian_sparsity, as a multiple of one VJP (J) or
  gradient (H); first = a fresh hd.sparse_jacobian / hd.sparse_hessian's first call (detection, colouring,
  planning) and later = its later calls, each as a multiple of one JVP (J) or HVP (H); dense = hd.jacobian /
  hd.hessian where run; max rel err = max |sparse - dense| / max |dense|; asdex: detection + colouring, and its
  jit-compiled later call."""


def per_call(records):
    return "\n".join(f"- {r['function']} n={r['n']}: grad {ms(r['grad'])}, vjp {ms(r['vjp'])}, jvp {ms(r['jvp'])}, "
                     f"hvp {ms(r['hvp'])}" + (f"; asdex jit grad {ms(r['ax_grad'])}" if "ax_grad" in r else "")
                     for r in records)


def results_section(records, header, command):
    """W10's section of benchmarks/RESULTS.md: the run's header line and command, the table, the per-call
    times and the targets."""
    return (f"{HEADING}\n\n- {header.lstrip('# ')}\n- Command: `{command}`\n{COLUMNS}\n\n{table(records)}\n\n"
            f"per-call ms (one gradient / VJP / JVP / HVP):\n{per_call(records)}\n\nTargets:\n{targets(records)}\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 100, 3 repeats")
    parser.add_argument("--sizes", type=int, nargs="+")
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--dense-up-to", type=int, default=10 ** 4,
                        help="dense hd.jacobian/hd.hessian up to this n (at 10^4 the chain only: ~15 s a call)")
    parser.add_argument("--no-asdex", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--results", metavar="PATH", help='replace the "## W10" section of this Markdown file')
    options = parser.parse_args(argv)
    sizes = options.sizes or (QUICK if options.quick else FULL)
    repeats = options.repeat or (3 if options.quick else 7)
    have_asdex = not options.no_asdex and importlib.util.find_spec("asdex") is not None
    header = (f"# W10 sparse: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()} "
              f"{platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}, CPU affinity "
              f"{sorted(os.sched_getaffinity(0))}, load {os.getloadavg()[0]:.1f}, "
              f"asdex {'yes' if have_asdex else 'not installed: skipped'}")
    print(header, flush=True)
    records = []
    for name in ("chain", "arrow", "stencil", "separable"):
        for n in sizes:
            size = size_for(name, n)
            rec = run_hodiff(name, size, repeats, options.dense_up_to)
            if have_asdex:
                try:
                    rec.update(run_asdex(name, size, repeats))
                except Exception as error:  # a peer's failure is reported, not fatal
                    rec["ax_error"] = f"{type(error).__name__}: {error}"
                    print(f"asdex {name} n={size}: {rec['ax_error']}", file=sys.stderr)
            records.append(rec)
            print(f"done {name} n={size}", file=sys.stderr, flush=True)
    print(table(records))
    print("\nper-call ms (one gradient / VJP / JVP / HVP):\n" + per_call(records))
    print("\nTargets:\n" + targets(records))
    if options.json:
        pathlib.Path(options.json).write_text(json.dumps({"header": header, "records": records}, indent=1))
    if options.results:
        from benchmarks import report

        command = "python benchmarks/w10_sparse.py " + " ".join(argv if argv is not None else sys.argv[1:])
        path = pathlib.Path(options.results)
        old = path.read_text() if path.exists() else ""
        path.write_text(report.with_section(old, results_section(records, header, command)))
    return records


if __name__ == "__main__":
    main()
