"""Scale-out (issue 18): W4's HVP and Hutchinson trace on hd.ShardedLoss, 1-8 shards, in-process and on dask.

    python benchmarks/scale_out.py                    # W4 (256 rows) and W4 with 64x the rows; 1, 2, 4, 8 shards
    python benchmarks/scale_out.py --quick            # a small MLP, 1 and 2 shards (seconds; run by the tests)
    python benchmarks/scale_out.py --json out.json --results benchmarks/RESULTS.md

The loss is W4's (benchmarks/workloads.py: the 784-512-10 tanh MLP, mean
cross-entropy over 256 rows, n = 407,050 parameters) written as a sum over data
shards: the rows are split into K = 1, 2, 4, 8 contiguous shards and shard k
contributes sum_{rows in k} (logsumexp(z) - z_y) / (all rows). Executors: none (the
products computed in this process, shard after shard), a dask LocalCluster of 1
worker and one of 2 workers (processes, 1 thread each; the client is this
process, made with direct_to_workers=True unless --via-scheduler). The machine has
2 cores, so on 2 workers the client shares them. On dask each worker holding shards
has one hd.ShardedLoss actor, and a product is one call to each.

For each (size, executor, K):
- build: hd.hessian_operator(sharded, params) once (each shard records its gradient once);
- HVP: median of --repeat products op @ v after one warm-up product;
- trace: median of --trace-repeat calls hd.hessian_trace(sharded, params, samples=16,
  block=4) (W4's size only): building the operator, then 4 products of 4 probes;
- compute: the K shards' products op_k @ v in this process, timed right after each of
  the configuration's timed products (the same minute of a shared machine), median: C;
  a shard's HVP time is C / K (the projection fits its line to each shard's product
  timed alone, medians, before the configurations run);
- shard HVP in a worker: on dask, each worker's cached shard operators timed there
  (medians of 3, no transport), summed over the shards and divided by K: a worker's
  product can be slower than the same product in this process, and that counts in o;
- transport: on dask, the same fan-out with every shard's H_k v replaced by v itself
  (``echo_task``: v out to each worker holding shards, one partial sum of copies back,
  no compute), median of --repeat: the floor that moving v and the sums sets on a product;
- per-task overhead o = (T_HVP - C / p) / K with p = min(workers, K): the time a
  product takes beyond a perfect split of the in-process compute over p workers, per
  task (on 1 worker: (T - C) / K; for executor none it is the client's summation);
- bytes per product: computed, n float64 for v and for each partial sum, p = min(workers,
  K) of each (hd.ShardedLoss on dask sends v once to each worker holding shards and gets
  one partial sum back from each);
  measured on dask, the bytes the client, the scheduler and the workers write to
  dask's TCP comms (distributed.comm.tcp.TCP.write wrapped in each process to count
  them) over the timed products, per product; every byte crossing a connection is
  written once, by its sender (heartbeats, a few hundred bytes, included). A
  LocalCluster's scheduler lives in the client's process, so those two are one
  figure, in which a byte relayed through the scheduler counts twice.

The workers start without dask's MALLOC_TRIM_THRESHOLD_=65536 (--keep-malloc-trim keeps
it): that setting turns glibc's dynamic mmap threshold off and every large temporary of
a product is mapped and unmapped again (W4's MLP on 2048 rows, one shard on one worker,
--larger 8 --shards 1 --workers 1 --repeat 7 --larger-repeat 7, two runs each: 149 and
164 ms per product with it, 127 and 135 ms without).

Checks (the run fails if one is not met): on 2 workers the HVP and the trace's
samples equal the single-process hd.hessian_operator / hd.hessian_trace of the
whole-data loss to 1e-12 relative (max |a - b| / max |b|).

The operator cache (hodiff.distributed.operator_cache): products/s with it
(default) and without it (maxsize 0: each product records the shard's gradient
again, as before the cache) at W4's size, K = 1 and 8, in-process and on 2 workers.

Projection: an Amdahl-style model with the measured figures. A product on N workers
with one shard each costs T(N) = L + N t + c(R / N): L the fixed cost of a product
(v out and a partial sum back: the actor call's round trip) and t the cost per task, both serial on the
client, fitted as a straight line to the 1-worker overheads T_1(K) - C(K) = L + K t
over K = 1, 2, 4, 8 at W4's size (they depend on n and on the number of tasks, not
on the rows, and at 16,384 rows they are within the noise of a shared machine);
c(r) = a + b r a shard's HVP time as a straight line in its rows r, fitted to the
in-process per-shard times of both sizes; both lines by Theil-Sen (medians of the
pairwise slopes), so one slow measurement does not set them. Speed-up S(N) =
T_single / T(N), T_single = c(R) the model's single-process HVP of the whole loss
(the measured one is printed next to it: on a shared machine it is the noisier
figure); it peaks at N* = sqrt(b R / t). On 1 worker the K tasks share one v and one partial sum, so the fit
charges each extra worker's transfer as one more task; the 2-worker measurement at
K = 2 is shown next to the model's T(2) as a check. The model assumes N machines each
as fast as one core here, connected as this machine's loopback is.

Target (issue 18): per-task overhead < 10% of a shard's HVP time at W4's size,
printed [met] / [NOT MET] per (workers, K) on dask. W4's shard HVPs (2-15 ms) are
of the order of moving v (3.3 MB) out and a sum back (the transport column), so the run also measures W4's
MLP on 64 times the rows (16,384; same n, new rows drawn as W4's; HVP only, medians
of --larger-repeat): per-task costs stay, the compute per shard grows 64-fold.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"  # inherited by the dask worker processes too

import argparse  # noqa: E402
import datetime  # noqa: E402
import importlib  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import pathlib  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The workers are processes of their own: they must import this checkout's hodiff (and this module, by
# reference, for the loss), so the checkout goes first on their PYTHONPATH.
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(
    os.pathsep) if p and pathlib.Path(p).resolve() != ROOT])

import numpy as np  # noqa: E402

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from benchmarks.timing import median_time  # noqa: E402
from hodiff.distributed import configure_operator_cache  # noqa: E402
from hodiff.scipy.special import logsumexp  # noqa: E402

SHARDS_FULL = (1, 2, 4, 8)
SHARDS_QUICK = (1, 2)
TRACE_SAMPLES, TRACE_BLOCK = 16, 4
TARGET = 0.10
PROJECT = (1, 2, 4, 8, 16, 32, 64)


def shard_loss(params, shard):
    """W4's loss restricted to a shard of rows: sum over its rows of the cross-entropy / all rows."""
    X, y, rows = shard
    W1, b1, W2, b2 = params
    z = hnp.matmul(hnp.tanh(hnp.matmul(X, W1) + b1), W2) + b2
    return hnp.sum(logsumexp(z, axis=1) - z[np.arange(len(y)), y]) / rows


def inputs(quick, scale):
    """(params, X, y, v) for W4 (scale 1) or W4's MLP on ``scale`` times the rows (new rows, same law)."""
    if quick:
        r = np.random.default_rng(18)
        sizes, rows = (64, 32, 10), 64 * scale
        params = (r.standard_normal(sizes[:2]) / 8, 0.1 * r.standard_normal(32),
                  r.standard_normal(sizes[1:]) / 6, 0.1 * r.standard_normal(10))
        X, y = r.standard_normal((rows, 64)), r.integers(0, 10, rows)
    else:
        from benchmarks.workloads import w4_inputs
        w4 = w4_inputs()
        params, X, y = w4["params"], w4["X"], w4["y"]
        if scale > 1:
            r = np.random.default_rng(18)
            X = np.concatenate([X, r.standard_normal(((scale - 1) * len(y), X.shape[1]))])
            y = np.concatenate([y, r.integers(0, 10, (scale - 1) * len(y))])
    v = np.random.default_rng(4).standard_normal(sum(np.size(p) for p in params))
    return params, X, y, v


def split(X, y, shards):
    return [(X[i], y[i], len(y)) for i in np.array_split(np.arange(len(y)), shards)]


def rel_err(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


_WRITTEN = [0]


def comm_bytes():
    """Bytes this process has written to dask's TCP comms so far (counting starts at the first call)."""
    from distributed.comm import tcp

    if not getattr(tcp.TCP.write, "_counted", False):
        original = tcp.TCP.write

        async def write(self, *args, **kwargs):
            written = await original(self, *args, **kwargs)
            _WRITTEN[0] += written or 0
            return written

        write._counted = True
        tcp.TCP.write = write
    return _WRITTEN[0]


class ByteMeter:
    """Bytes written to dask's comms by the client, the scheduler and the workers between start() and stop():
    every byte that crosses a connection is written once, by its sender. A LocalCluster runs its scheduler in
    the client's process: then the two are one figure, "client" (a byte relayed through the scheduler, as
    the default Client's submit arguments, scatters and gathers are, counts twice there: in and out)."""

    def __init__(self, client):
        self.client = client
        # The module's function, not __main__'s: cloudpickle would send __main__'s by value, with a copy of this
        # process's counter for its global, and every worker would report the client's count.
        self.count = importlib.import_module("benchmarks.scale_out").comm_bytes
        if client is not None:
            self.shared = client.run_on_scheduler(os.getpid) == os.getpid()
            self._now()  # install the counters everywhere

    def _now(self):
        now = {"client": self.count(), "workers": sum(self.client.run(self.count).values())}
        if not self.shared:
            now["scheduler"] = self.client.run_on_scheduler(self.count)
        return now

    def start(self):
        self.before = self._now() if self.client is not None else None

    def pause(self):
        """Nothing to stop (products in this process write to no comm); seconds spent: 0."""
        return 0.0

    def stop(self, products):
        if self.client is None:
            return {}
        after = self._now()
        return {side: (after[side] - self.before[side]) / products for side in after}


def worker_shard_times(v, token, repeats):
    """On a worker: the median time of each of its cached shard operators' products op_k @ v (no transport)."""
    from hodiff.distributed import operator_cache

    with operator_cache._lock:
        operators = [op for (owner, _), (_, op) in operator_cache._entries.items() if owner == token]
    return [median_time(lambda op=op: op @ v, repeats) for op in operators]


def echo_task(loss, shard, shard_key, V):
    """A product's stand-in with no compute: v itself for H_k v (the transport floor of a product)."""
    return V


def compute_times(loss, params, X, y, v, shards_list, repeats):
    """In-process per-shard product times: ({K: {"shard_s": [shard k's op_k @ v], "record_s": [...]}},
    {K: [op_k]}): the operators stay, to be timed again next to each sharded configuration."""
    out, ops = {}, {}
    for shards in shards_list:
        times, records, ops[shards] = [], [], []
        for shard in split(X, y, shards):
            start = time.perf_counter()
            op = hd.hessian_operator(loss, params, args=(shard,))
            records.append(time.perf_counter() - start)
            times.append(median_time(lambda op=op: op @ v, repeats))
            ops[shards].append(op)
        out[shards] = {"shard_s": times, "record_s": records}
    return out, ops


def run_config(loss, params, X, y, v, shards, executor, workers, repeats, trace_repeats, reference, local_ops):
    """One (executor, K): build, HVP, trace, bytes, and the errors against the single-process results.
    Each timed product is followed by the K shards' products in this process (``local_ops``), so the
    compute the overhead is measured against shares the product's minute of a shared machine."""
    sharded = hd.ShardedLoss(loss, split(X, y, shards), executor=executor)
    sharded.handles()  # the one-off scatter of the shards is not part of the build
    start = time.perf_counter()
    op = hd.hessian_operator(sharded, params)
    build = time.perf_counter() - start
    hv = op @ v  # warm-up
    meter = ByteMeter(executor)
    meter.start()
    times, local = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        op @ v
        middle = time.perf_counter()
        meter_pause = meter.pause()
        for local_op in local_ops:
            local_op @ v
        local.append(time.perf_counter() - middle - meter_pause)
        times.append(middle - start)
    io = meter.stop(repeats)
    worker_compute = transport = None
    if executor is not None:
        found = [t for times in executor.run(worker_shard_times, v, sharded.token, 3).values() for t in times]
        worker_compute = sum(found) if len(found) == shards else None
        transport = median_time(lambda: sharded.map_sum(echo_task, v), repeats)
    rec = {"executor": "none" if executor is None else "dask", "workers": workers, "shards": shards,
           "build_s": build, "hvp_s": statistics.median(times), "io": io, "worker_compute_s": worker_compute,
           "transport_s": transport,
           "compute_s": statistics.median(local),
           "hvp_err": rel_err(hv, reference["hvp"])}
    if executor is not None:  # v to each worker holding shards, one partial sum back from each
        holding = min(workers, shards)
        rec["bytes_out"], rec["bytes_back"] = holding * v.nbytes, holding * hv.nbytes
    if trace_repeats:
        estimates = []

        def trace():
            estimates.append(hd.hessian_trace(sharded, params, samples=TRACE_SAMPLES, seed=0, block=TRACE_BLOCK))

        rec["trace_s"] = median_time(trace, trace_repeats, warm=False)
        rec["trace_err"] = max(rel_err(e.samples, reference["trace"].samples) for e in estimates)
        rec["trace"] = float(estimates[-1].trace)
    del op
    sharded.release()  # the recorded operators of this configuration leave every cache
    return rec


def cache_effect(loss, params, X, y, v, executor, shards, repeats):
    """(seconds per product without the cache, with it) for one sharded loss."""
    def configure(maxsize, clear=True):
        if executor is None:
            configure_operator_cache(maxsize, clear)
        else:
            executor.run(configure_operator_cache, maxsize, clear)

    sharded = hd.ShardedLoss(loss, split(X, y, shards), executor=executor)
    sharded.handles()
    try:
        times = {"off": [], "on": []}
        for _ in range(2):  # off, on, off, on: both see the same drift of a shared machine
            for label, maxsize in (("off", 0), ("on", 64)):
                configure(maxsize)
                op = hd.hessian_operator(sharded, params)
                op @ v
                for _ in range(max(1, repeats // 2)):
                    start = time.perf_counter()
                    op @ v
                    times[label].append(time.perf_counter() - start)
                del op
        out = {label: statistics.median(t) for label, t in times.items()}
    finally:
        configure(64)
        sharded.release()
    return out


def local_cluster(workers, direct=True, malloc_trim=False):
    import dask
    import distributed

    if not malloc_trim:
        # dask's nannies start workers with MALLOC_TRIM_THRESHOLD_=65536, which turns off glibc's dynamic mmap
        # threshold: every large temporary is then mmapped and unmapped again, page faults and all (see the
        # module docstring for the figures).
        dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})
        os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)  # a nanny also sets it in this process's environment
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    return cluster, distributed.Client(cluster, direct_to_workers=direct)


def measure_size(label, params, X, y, v, shards_list, repeats, trace_repeats, cache_shards, worker_counts,
                 direct=True, malloc_trim=False):
    """All executors at one size; returns {"label", "rows", "n", "single_s", "compute", "records", "cache"}."""
    loss = importlib.import_module("benchmarks.scale_out").shard_loss  # by reference: the workers import it
    whole = (X, y, len(y))
    start = time.perf_counter()
    single_op = hd.hessian_operator(loss, params, args=(whole,))
    single_record = time.perf_counter() - start
    reference = {"hvp": single_op @ v}
    single_s = median_time(lambda: single_op @ v, repeats)
    if trace_repeats:
        reference["trace"] = hd.hessian_trace(loss, params, samples=TRACE_SAMPLES, seed=0, block=TRACE_BLOCK,
                                              args=(whole,))
        single_trace = median_time(lambda: hd.hessian_trace(loss, params, samples=TRACE_SAMPLES, seed=0,
                                                            block=TRACE_BLOCK, args=(whole,)), trace_repeats)
    single_op = None  # its recording is not needed any more
    compute, local_ops = compute_times(loss, params, X, y, v, shards_list, repeats)
    result = {"label": label, "rows": len(y), "n": int(v.size), "single_s": single_s, "single_record_s": single_record,
              "single_trace_s": single_trace if trace_repeats else None, "compute": compute, "records": [],
              "cache": []}
    for shards in shards_list:
        result["records"].append(run_config(loss, params, X, y, v, shards, None, 1, repeats, trace_repeats, reference,
                                            local_ops[shards]))
    for shards in cache_shards:
        result["cache"].append({"executor": "none", "workers": 1, "shards": shards,
                                **cache_effect(loss, params, X, y, v, None, shards, repeats)})
    for workers in worker_counts:
        cluster, client = local_cluster(workers, direct, malloc_trim)
        with cluster, client:
            paths = set(client.run(lambda: importlib.import_module("hodiff").__file__).values())
            result.setdefault("worker_hodiff", sorted(paths))
            for shards in shards_list:
                result["records"].append(run_config(loss, params, X, y, v, shards, client, workers, repeats,
                                                    trace_repeats, reference, local_ops[shards]))
                print(f"  {label}: dask {workers} worker(s), {shards} shard(s) done", file=sys.stderr, flush=True)
            if workers == max(worker_counts):
                for shards in cache_shards:
                    result["cache"].append({"executor": "dask", "workers": workers, "shards": shards,
                                            **cache_effect(loss, params, X, y, v, client, shards, repeats)})
    for rec in result["records"]:
        parallel = 1 if rec["executor"] == "none" else min(rec["workers"], rec["shards"])
        rec["shard_hvp_s"] = rec["compute_s"] / rec["shards"]
        rec["overhead_s"] = (rec["hvp_s"] - rec["compute_s"] / parallel) / rec["shards"]
    local_ops.clear()
    return result


def robust_line(xs, ys):
    """(slope, intercept) by Theil-Sen: the median of the pairwise slopes, then the median of y - slope x.
    With 4 points on a shared machine one slow measurement must not set the line (least squares let a
    0.5 s outlier at one shard turn the fixed cost per product into 280 ms and the cost per task into 0)."""
    slopes = [(ys[j] - ys[i]) / (xs[j] - xs[i]) for i in range(len(xs)) for j in range(i + 1, len(xs))
              if xs[j] != xs[i]]
    slope = statistics.median(slopes)
    return slope, statistics.median([y - slope * x for x, y in zip(xs, ys)])


def overhead_fit(size):
    """(L, t): the fixed cost per product and the cost per task, a Theil-Sen line through the 1-worker
    overheads T_1(K) - C(K) of one size; None without 1-worker records."""
    one = [r for r in size["records"] if r["executor"] == "dask" and r["workers"] == 1]
    if not one:
        return None
    totals = [r["hvp_s"] - r["compute_s"] for r in one]
    if len(one) >= 2:
        t, fixed = robust_line([r["shards"] for r in one], totals)
    else:
        t, fixed = totals[0], 0.0
    return max(fixed, 0.0), max(t, 1e-6)


def compute_fit(sizes):
    """(a, b): a shard's HVP time c(r) = a + b r in its rows r, a Theil-Sen line through the in-process
    per-shard medians of every size (one function of r: the same MLP and n at every size)."""
    rows, per_shard = [], []
    for size in sizes:
        for k in sorted(size["compute"]):
            rows.append(size["rows"] / k)
            per_shard.append(statistics.median(size["compute"][k]["shard_s"]))
    if len(set(rows)) >= 2:
        b, a = robust_line(rows, per_shard)
    else:
        a, b = 0.0, per_shard[0] / rows[0]
    if b < 0:  # noise at a tiny size: no row-dependent part worth a line
        a, b = statistics.median(per_shard), 0.0
    return max(a, 0.0), b


def projection(size, costs=None, compute=None):
    """The Amdahl-style model's figures for one size (see the module docstring); ``costs`` = (L, t) and
    ``compute`` = (a, b) to use instead of this size's own fits."""
    a, b = compute or compute_fit([size])
    costs = costs or overhead_fit(size)
    if costs is None:
        return None
    fixed, t = costs
    total_rows = size["rows"]

    def predicted(n):
        return fixed + n * t + a + b * total_rows / n

    single = a + b * total_rows  # the model's own single-process product, c(R): the measured one is noisier
    best = math.sqrt(max(b, 0.0) * total_rows / t)
    best_n = max(1, round(best))
    return {"a": a, "b": b, "L": fixed, "t": t, "best_n": best, "single": single,
            "rows": [(n, predicted(n), single / predicted(n)) for n in PROJECT],
            "best_speedup": single / predicted(best_n), "best_int": best_n, "predicted": predicted}


def ms(seconds):
    return "-" if seconds is None else (f"{seconds * 1e3:.2f}" if seconds < 0.1 else f"{seconds * 1e3:.0f}")


def mb(count):
    if count is None:
        return "-"
    return f"{count / 1e6:.1f}" if abs(count) >= 1e5 else f"{count / 1e6:.3f}"


def measured_mb(io):
    """'client, workers' (or 'client, scheduler, workers'): MB written to dask's comms per product by each."""
    if not io:
        return "-"
    return ", ".join(mb(io[side]) for side in ("client", "scheduler", "workers") if side in io)


def main_table(sizes):
    lines = ["| size | executor | workers | shards | build ms | HVP ms | shard HVP ms | shard HVP in a worker ms | "
             "overhead/task ms | "
             "overhead / shard HVP | transport ms | trace ms | MB out / back per product (computed) | "
             "MB written to dask comms per product: client (+ scheduler), workers | rel err vs single |",
             "|" + " --- |" * 15]
    for size in sizes:
        lines.append(f"| {size['label']} | single process, whole loss | - | - | {ms(size['single_record_s'])} | "
                     f"{ms(size['single_s'])} | - | - | - | - | - | {ms(size['single_trace_s'])} | - | - | - |")
        for r in size["records"]:
            err = max(r["hvp_err"], r.get("trace_err", 0.0))
            lines.append(
                f"| {size['label']} | {r['executor'] if r['executor'] == 'none' else 'dask LocalCluster'} | "
                f"{r['workers'] if r['executor'] == 'dask' else '-'} | {r['shards']} | {ms(r['build_s'])} | "
                f"{ms(r['hvp_s'])} | {ms(r['shard_hvp_s'])} | "
                f"{ms(r['worker_compute_s'] / r['shards']) if r.get('worker_compute_s') else '-'} | "
                f"{ms(r['overhead_s'])} | "
                f"{r['overhead_s'] / r['shard_hvp_s']:.1%} | {ms(r.get('transport_s'))} | {ms(r.get('trace_s'))} | "
                f"{mb(r.get('bytes_out'))} / {mb(r.get('bytes_back'))} | {measured_mb(r['io'])} | {err:.1e} |")
    return "\n".join(lines)


def cache_table(sizes):
    lines = ["| size | executor | workers | shards | HVP ms, no cache (records each product) | HVP ms, cache | "
             "products/s before | products/s after | speed-up |", "|" + " --- |" * 9]
    for size in sizes:
        for c in size["cache"]:
            lines.append(f"| {size['label']} | {c['executor']} | {c['workers'] if c['executor'] == 'dask' else '-'} | "
                         f"{c['shards']} | {ms(c['off'])} | {ms(c['on'])} | {1 / c['off']:.1f} | {1 / c['on']:.1f} | "
                         f"{c['off'] / c['on']:.2f}x |")
    return "\n".join(lines)


def projection_text(sizes):
    out = []
    # L and t depend on n and on the task count, not on the rows: they come from the first (smallest) size,
    # where they stand well above the noise; at 16,384 rows they are within it (the fit there is printed too).
    costs = overhead_fit(sizes[0]) if sizes else None
    compute = compute_fit(sizes) if sizes else None
    for size in sizes:
        p = projection(size, costs, compute)
        if p is None:
            continue
        own = overhead_fit(size)
        if size is not sizes[0] and own is not None:
            out.append(f"{size['label']}: L and t from {sizes[0]['label']}'s fit (this size's own: L = "
                       f"{own[0] * 1e3:.1f} ms, t = {own[1] * 1e3:.2f} ms, within its noise).")
        out.append(f"{size['label']} ({size['rows']} rows): c(r) = {p['a'] * 1e3:.2f} ms + {p['b'] * 1e6:.2f} us/row "
                   f"x r, so T_single = c(R) = {ms(p['single'])} ms (measured: {ms(size['single_s'])} ms); "
                   f"L = {p['L'] * 1e3:.2f} ms, t = {p['t'] * 1e3:.2f} ms per task; N* = {p['best_n']:.1f} "
                   f"(at N = {p['best_int']}: speed-up {p['best_speedup']:.2f}x)")
        out.append("")
        out.append("| N workers (= shards) | predicted HVP ms | predicted speed-up vs single process |")
        out.append("| --- | --- | --- |")
        for n, t, s in p["rows"]:
            out.append(f"| {n} | {ms(t)} | {s:.2f}x |")
        measured = [r for r in size["records"] if r["executor"] == "dask" and r["workers"] == 2 and r["shards"] == 2]
        if measured:
            t2 = p["predicted"](2)
            out.append("")
            out.append(f"Check at N = 2: predicted {ms(t2)} ms, measured {ms(measured[0]['hvp_s'])} ms on 2 workers "
                       f"(speed-up {p['single'] / measured[0]['hvp_s']:.2f}x against c(R), "
                       f"{size['single_s'] / measured[0]['hvp_s']:.2f}x against the measured single-process product).")
        out.append("")
    return "\n".join(out).rstrip("\n")


def verdicts(sizes):
    out, failures = [], []

    def line(ok, text, fatal=False):
        out.append(f"- [{'met' if ok else 'NOT MET'}] {text}")
        if fatal and not ok:
            failures.append(text)

    for size in sizes:
        for r in size["records"]:
            if r["executor"] == "dask" and r["workers"] == 2:
                err = max(r["hvp_err"], r.get("trace_err", 0.0))
                line(err <= 1e-12, f"{size['label']}, 2 workers, {r['shards']} shards: HVP"
                     f"{' and trace samples' if 'trace_err' in r else ''} equal single-process: rel err "
                     f"{err:.1e} <= 1e-12", fatal=True)
    for size in sizes:
        for r in size["records"]:
            if r["executor"] == "dask":
                share = r["overhead_s"] / r["shard_hvp_s"]
                noise = (" (negative: the overhead is within this run's noise, so no pass is claimed)"
                         if share < 0 else "")
                floor = (f"; the transport alone is {r['transport_s'] / r['shards'] * 1e3:.2f} ms per task"
                         if r.get("transport_s") is not None else "")
                line(0 <= share < TARGET, f"{size['label']}, {r['workers']} worker(s), {r['shards']} shards: per-task "
                     f"overhead {r['overhead_s'] * 1e3:.2f} ms = {share:.1%} of a shard's HVP "
                     f"({r['shard_hvp_s'] * 1e3:.2f} ms) < {TARGET:.0%}{noise}{floor}")
    return "\n".join(out), failures


def _versions():
    found = []
    for package in ("numpy", "scipy", "dask", "distributed"):
        try:
            found.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def report_text(sizes, meta):
    text, _ = verdicts(sizes)
    lines = [f"- Date: {meta['date']} ({meta['seconds']:.0f} s; 1-minute load average {meta['load'][0]:.1f} at "
             f"the start, {meta['load'][1]:.1f} at the end{meta['busy']}); {os.cpu_count()} CPUs, BLAS 1 thread "
             f"per process, no CPU pinning (the workers need both cores); HVP medians of {meta['repeat']}, "
             f"traces of {meta['trace_repeat']}",
             f"- Command: `{meta['command']}`; dask: LocalCluster(n_workers=1 or 2, threads_per_worker=1, "
             f"processes=True), {meta['client']}",
             f"- Python {platform.python_version()}; {_versions()}; hodiff from {hd.__file__} (workers: "
             f"{', '.join(sorted({p for s in sizes for p in s.get('worker_hodiff', [])})) or '-'})",
             f"- Loss: {meta['loss']}; trace = hd.hessian_trace(sharded, params, samples={TRACE_SAMPLES}, "
             f"block={TRACE_BLOCK}) including building the operator. Per-task overhead = (T_HVP - C / min(workers, "
             "K)) / K, C = the K shards' products in-process, timed after each timed product. MB computed = p = "
             "min(workers, K) copies of v out and p partial sums back (n float64 each); measured = bytes written "
             "per product to dask's TCP comms by the client's process (a LocalCluster's scheduler runs in it: a "
             "byte relayed through the scheduler counts twice there) and by the workers; each byte that crosses a "
             "connection is counted once, by its sender.", "",
             main_table(sizes), "", "Operator cache (products at one x; before = maxsize 0, every product records "
             "the shard's gradient again):", "", cache_table(sizes), "",
             "Projection (one shard per worker; T(N) = L + N t + c(R / N), L and t fitted (Theil-Sen) to the "
             "1-worker overheads T_1(K) - C(K) = L + K t at the first size, c to the in-process per-shard times of "
             "all sizes; S(N) = c(R) / T(N); N machines each as fast as one core here, connected as this "
             "machine's loopback is):", "",
             projection_text(sizes), "",
             "Targets:", text]
    return "\n".join(lines) + "\n"


def results_section(sizes, meta):
    return "## Scale-out: hd.ShardedLoss on W4 (benchmarks/scale_out.py)\n\n" + report_text(sizes, meta)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small MLP, 1 and 2 shards, 2 repeats")
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--trace-repeat", type=int)
    parser.add_argument("--larger", type=int, default=64,
                        help="the second size: W4's MLP on this many times its rows, HVP only (0: none)")
    parser.add_argument("--larger-repeat", type=int, default=5, help="HVP repeats at the larger size")
    parser.add_argument("--shards", type=int, nargs="+", help="shard counts (default 1 2 4 8; quick: 1 2)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="dask LocalCluster sizes")
    parser.add_argument("--via-scheduler", dest="direct", action="store_false",
                        help="dask's default Client (no direct_to_workers): scatters, gathers and actor calls "
                             "are relayed by the scheduler (default: Client(direct_to_workers=True))")
    parser.add_argument("--keep-malloc-trim", action="store_true",
                        help="keep dask's MALLOC_TRIM_THRESHOLD_=65536 for the workers (default: unset it)")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--results", metavar="PATH", help='replace the "## Scale-out" section of this Markdown file')
    args = parser.parse_args(argv)
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise SystemExit("scale_out.py needs dask.distributed (pip install -e '.[dask]')") from None
    started = time.perf_counter()
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    repeat = args.repeat or (2 if args.quick else 7)
    trace_repeat = args.trace_repeat or (1 if args.quick else 3)
    shards_list = tuple(args.shards or (SHARDS_QUICK if args.quick else SHARDS_FULL))
    print(f"# scale-out: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"{os.cpu_count()} CPUs, load {load_start:.1f}; hodiff {hd.__file__}", flush=True)
    sizes = []
    scales = [1] + ([args.larger] if args.larger and not args.quick else [])
    for scale in scales:
        params, X, y, v = inputs(args.quick, scale)
        label = ("quick MLP" if args.quick else "W4") + (f" x{scale} rows" if scale > 1 else "")
        print(f"{label}: {len(y)} rows, n = {v.size}", file=sys.stderr, flush=True)
        sizes.append(measure_size(label, params, X, y, v, shards_list, repeat if scale == 1 else args.larger_repeat,
                                  trace_repeat if scale == 1 else 0,
                                  tuple(sorted({min(shards_list), max(shards_list)})) if scale == 1 else (),
                                  tuple(args.workers), args.direct, args.keep_malloc_trim))
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    command = shlex.join(["python", "benchmarks/scale_out.py", *(sys.argv[1:] if argv is None else argv)])
    meta = {"date": datetime.date.today().isoformat(), "seconds": time.perf_counter() - started,
            "load": (load_start, load_end), "repeat": repeat, "trace_repeat": trace_repeat, "command": command,
            "busy": " (other jobs shared the machine: absolute times are inflated)" if max(load_start, load_end) > 1.5
            else "",
            "client": ("Client(cluster, direct_to_workers=True) (scatters and hd.ShardedLoss's actor calls go "
                       "straight to the workers)" if args.direct else
                       "Client(cluster) (dask's defaults: scatters, gathers and actor calls are relayed by the "
                       "scheduler)")
            + ("; workers with dask's MALLOC_TRIM_THRESHOLD_=65536" if args.keep_malloc_trim else
               "; workers without dask's MALLOC_TRIM_THRESHOLD_=65536 (distributed.nanny.pre-spawn-environ set to "
               "None: glibc's dynamic mmap threshold stays on)"),
            "loss": ("a 64-32-10 tanh MLP, 64 rows (quick)" if args.quick else
                     "W4's 784-512-10 tanh MLP, mean cross-entropy over 256 rows, n = 407,050; the larger size "
                     f"appends {args.larger - 1} x 256 new rows drawn as W4's (HVP only)")}
    print(report_text(sizes, meta))
    _, failures = verdicts(sizes)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"meta": meta, "sizes": sizes}, indent=1, default=float))
    if args.results and not failures:
        from benchmarks import report

        path = pathlib.Path(args.results)
        old = path.read_text() if path.exists() else ""
        path.write_text(report.with_section(old, results_section(sizes, meta)))
        print(f"updated the Scale-out section of {path}")
    if failures:
        raise SystemExit("scale_out.py: results differ from single-process:\n" + "\n".join(failures))
    return sizes


if __name__ == "__main__":
    main()
