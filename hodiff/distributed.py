"""Sharded losses: second-order products summed over data shards held by executor workers (issue 18)."""

import collections
import hashlib
import threading
import uuid
import weakref

import numpy as np

from .core.trace import Tracer
from .core.tree import tree_leaves

__all__ = ["ShardedLoss", "OperatorCache", "operator_cache"]


class ShardedLoss:
    """A loss that is a sum over data shards: total(params) = sum_k loss(params, shards[k]).

    loss(params, shard) returns a scalar; params is a float array or pytree. ``executor``
    is None (products computed here, in order), a ``concurrent.futures`` executor, or a
    ``dask.distributed.Client`` (shards are scattered to the workers once, and an actor on
    each worker holding shards computes their products: one direct call per worker and
    product, partial sums added up here; make the client with ``direct_to_workers=True``
    where it can reach the workers, or the calls go through the scheduler). loss and shards must be picklable by the
    executor (cloudpickle for dask, pickle for a ProcessPoolExecutor: no lambdas there).
    ``hd.hessian_operator(sharded, x)`` gives a LinearOperator whose matvec/matmat fan out,
    so hd.hessian_trace / hessian_eigs / hessian_density fan their probe blocks out too.

    On dask the shards may also be futures of that client (``client.submit(load, path)``:
    data loaded on the workers, never held here); they are used as they are, and
    ``sharded(params)`` then sums values computed on the workers (concrete params only).

    Each process that computes products keeps the recorded Hessian operator of its shards
    at the latest x (``hodiff.distributed.operator_cache``), so the many products a Lanczos
    or Hutchinson run makes at one x record each shard's gradient once. loss and shards are
    read-only: the cache knows a shard by this object's token and the shard's index.
    """

    def __init__(self, loss, shards, executor=None):
        if not callable(loss):
            raise TypeError(f"ShardedLoss: loss must be callable, got {type(loss).__name__}")
        self._loss = loss
        self._shards = tuple(shards)
        if not self._shards:
            raise ValueError("ShardedLoss: shards must not be empty")
        self.executor = executor
        self._handles = None
        self._host_list = None  # dask: [(worker, shard indices, actor)], see _hosts
        # Names this loss and its shards in every process's operator cache; made once, here, so it
        # survives the pickling of the loss and the shards into each task (id() would not).
        self.token = uuid.uuid4().hex
        weakref.finalize(self, operator_cache.forget, self.token)

    @property
    def loss(self):
        return self._loss

    @property
    def shards(self):
        return self._shards

    def __call__(self, params):
        if self._remote_shards():
            if any(isinstance(leaf, Tracer) for leaf in tree_leaves(params)):
                # the workers would get the traced values' plain values and send back constants: derivative 0
                raise TypeError("ShardedLoss with remote shards (dask futures): a transform's traced params cannot "
                                "be sent to the workers. Use hd.hessian_operator or hd.minimize, which compute "
                                "derivatives on the workers, or pass the shards as data")
            return sum(self.map(_shard_value, params))
        return sum(self.loss(params, shard) for shard in self.shards)

    def _is_dask(self):
        return self.executor is not None and hasattr(self.executor, "scatter")

    def _remote_shards(self):
        """True when the shards are dask futures (they live on the workers only)."""
        if not self._is_dask():
            return False
        from distributed import Future
        remote = [isinstance(shard, Future) for shard in self.shards]
        if any(remote) and not all(remote):
            raise TypeError("ShardedLoss: shards must be all dask futures or all data, not a mixture")
        return all(remote)

    def handles(self):
        """The shards as the executor sees them (dask futures after one scatter, else the shards)."""
        if self._handles is None:
            if self._remote_shards():
                self._handles = list(self.shards)
            elif self._is_dask():
                self._handles = self._scatter_balanced()
            else:
                self._handles = list(self.shards)
        return self._handles

    def _scatter_balanced(self):
        """Scatter shard k to worker k mod W (sorted addresses); dask's own scatter spread 8 shards 5 + 3 over
        2 workers. hash=False: keys of their own, so another loss scattering equal data cannot release ours."""
        workers = sorted(self.executor.scheduler_info().get("workers", {}))
        if not workers:  # none yet (a cluster still starting): dask places them
            return self.executor.scatter(list(self.shards), hash=False)
        handles = [None] * len(self.shards)
        for w, worker in enumerate(workers[:len(self.shards)]):
            ks = list(range(w, len(self.shards), len(workers)))
            for k, future in zip(ks, self.executor.scatter([self.shards[k] for k in ks], workers=[worker],
                                                           hash=False)):
                handles[k] = future
        return handles

    def _hosts(self):
        """[(worker, shard indices, actor)]: one ``_ShardHost`` actor on each dask worker holding shards, made once.

        A product is then one direct call per worker, v in and a partial sum out: dask's tasks pass through
        the scheduler and its batched streams (a no-op task took about 10 ms there, an actor call 1 ms)."""
        if self._host_list is None:
            from distributed import wait

            handles = self.handles()
            wait(handles)  # shards loaded on the workers (futures) must exist before we ask where they are
            who_has = self.executor.who_has(handles)
            holders = {}
            for k, handle in enumerate(handles):
                where = sorted(who_has.get(handle.key) or [])
                if not where:
                    raise RuntimeError(f"ShardedLoss: no dask worker holds shard {k} (was its worker lost?)")
                holders.setdefault(where[0], []).append(k)
            with _pickling_errors():
                futures = [(worker, ks, self.executor.submit(_ShardHost, self.loss, self.token, ks,
                                                     *[handles[k] for k in ks], actor=True, workers=[worker],
                                                     allow_other_workers=False, pure=False))
                           for worker, ks in holders.items()]
                self._host_list = [(worker, ks, future.result()) for worker, ks, future in futures]
            self._host_futures = [future for _, _, future in futures]  # the actors live while these do
        return self._host_list

    def release(self):
        """Drop this loss's recorded operators from the operator cache of this process and of every worker
        (each entry holds a shard's recorded gradient computation: activations and all). A later product
        records again. Called for you, in this process only, when the ShardedLoss is garbage collected."""
        operator_cache.forget(self.token)
        if self._is_dask():
            self.executor.run(_forget, self.token)
        # A concurrent.futures process pool cannot be reached process by process: there the entries go as
        # each process's LRU bound turns over (or with the pool).

    def ship(self, value):
        """``value`` as an argument of every later product: on dask, scattered once to each worker holding
        shards and named by a small ``_Shipped`` handle (kept while the handle lives), else ``value`` itself."""
        if not self._is_dask():
            return value
        workers = [worker for worker, _, _ in self._hosts()]
        return _Shipped(self.executor.scatter([value], workers=workers, broadcast=True, hash=False)[0])

    def map(self, function, *extra):
        """[function(loss, shard, (token, index), *extra) for each shard], computed where the shard is."""
        if self.executor is None:
            return [function(self.loss, shard, (self.token, k), *extra) for k, shard in enumerate(self.shards)]
        with _pickling_errors():
            if self._is_dask():
                results = [None] * len(self.shards)
                calls = [(ks, host.map(function, *extra)) for _, ks, host in self._hosts()]
                for ks, call in calls:
                    for k, result in zip(ks, call.result()):
                        results[k] = result
                return results
            futures = [self.executor.submit(function, self.loss, handle, (self.token, k), *extra)
                       for k, handle in enumerate(self.handles())]
            return [future.result() for future in futures]

    def map_sum(self, function, *extra):
        """sum_k function(loss, shard_k, (token, k), *extra) for array results, computed where the shards are.

        On dask each worker's actor gets the arguments once (not once per shard), adds its shards' results
        up, and one partial sum per worker comes back.
        """
        if self._is_dask():
            with _pickling_errors():
                calls = [host.map_sum(function, *extra) for _, _, host in self._hosts()]
                parts = [call.result() for call in calls]
        else:
            parts = self.map(function, *extra)
        return _add_up(*parts)


class _Shipped:
    """A value scattered to the workers, named by its dask key. Pickles as the key alone: a dask Future in a
    call's arguments would register with (and later release at) the scheduler once per product."""

    def __init__(self, future):
        self.future = future  # keeps the scattered value alive on the workers (client side only)
        self.key = future.key

    def __reduce__(self):
        return _Shipped.from_key, (self.key,)

    @classmethod
    def from_key(cls, key):
        shipped = cls.__new__(cls)
        shipped.future, shipped.key = None, key
        return shipped


class _ShardHost:
    """A dask actor on one worker: the shards of one ShardedLoss that worker holds, and the products on them.

    Its calls run one at a time in the worker's actor thread; the recorded operators stay in that process's
    operator cache. Shipped values (x) are read from the worker's own store once and kept by key."""

    def __init__(self, loss, token, indices, *shards):
        self.loss, self.token, self.indices, self.shards = loss, token, list(indices), shards
        self._shipped = collections.OrderedDict()

    def _resolve(self, value):
        if not isinstance(value, _Shipped):
            return value
        found = self._shipped.get(value.key)
        if found is None:
            from distributed import Future, get_client, get_worker

            data = get_worker().data
            found = data[value.key] if value.key in data else Future(value.key, client=get_client()).result()
            self._shipped[value.key] = found
            while len(self._shipped) > _SHIPPED_KEPT:  # an evicted value is read again if asked for
                self._shipped.popitem(last=False)
        self._shipped.move_to_end(value.key)
        return found

    def map(self, function, *extra):
        extra = tuple(self._resolve(value) for value in extra)
        return [function(self.loss, shard, (self.token, k), *extra) for k, shard in zip(self.indices, self.shards)]

    def map_sum(self, function, *extra):
        return _add_up(*self.map(function, *extra))


_SHIPPED_KEPT = 4  # shipped values an actor keeps (one per live operator is typical)


def _forget(token):
    operator_cache.forget(token)


class GaussNewtonSplit:
    """loss(model(params, shard), shard) as one ShardedLoss loss, kept split so that each worker builds
    the shard's Gauss-Newton operator J_k^T H_k J_k instead of its Hessian (``ggn_operator(shards=)``).
    Picklable when model and loss are (module-level functions for a process pool)."""

    def __init__(self, model, loss):
        self.model, self.loss = model, loss

    def __call__(self, params, shard):
        return self.loss(self.model(params, shard), shard)


def _shard_value(loss, shard, shard_key, params):
    return loss(params, shard)


def _add_up(*parts):
    total = np.array(parts[0], copy=True)
    for part in parts[1:]:
        total += part
    return total


class _pickling_errors:
    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, (TypeError, AttributeError)) and "pickle" in str(error).lower():
            raise TypeError(f"ShardedLoss: the loss or a shard could not be pickled for the executor ({error}); "
                            "define the loss at module level (dask uses cloudpickle, so closures work there)"
                            ) from error
        return False


class OperatorCache:
    """The recorded Hessian operators of the shards this process computes products for.

    One entry per shard (keyed by its ShardedLoss's token and its index) holding the operator at
    the last x it was asked for (known by ``x_token``, a hash of x's bytes, shapes, dtypes and
    structure made once on the client); a product at another x records again and replaces it.
    At most ``maxsize`` shards are kept, the least recently used dropped first; ``maxsize = 0``
    records afresh for every product. ``hits``/``misses`` count lookups.
    """

    def __init__(self, maxsize=64):
        self.maxsize = maxsize
        self._entries = collections.OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def operator(self, loss, shard, shard_key, x, x_token):
        from .secondorder import GGNOperator, HessianOperator
        with self._lock:
            entry = self._entries.get(shard_key)
            if entry is not None and entry[0] == x_token:
                self._entries.move_to_end(shard_key)
                self.hits += 1
                return entry[1]
            self.misses += 1
        shard = aligned(shard)
        if isinstance(loss, GaussNewtonSplit):
            operator = GGNOperator(lambda p: loss.model(p, shard), lambda z: loss.loss(z, shard), x)
        else:
            operator = HessianOperator(loss, x, args=(shard,))  # it copies x (aligned) itself
        with self._lock:
            if self.maxsize > 0:
                self._entries[shard_key] = (x_token, operator)
                self._entries.move_to_end(shard_key)
                while len(self._entries) > self.maxsize:
                    self._entries.popitem(last=False)
        return operator

    def forget(self, owner):
        """Drop the entries of the ShardedLoss whose token is ``owner``."""
        with self._lock:
            for key in [key for key in self._entries if key[0] == owner]:
                del self._entries[key]

    def clear(self):
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def stats(self):
        """{"hits", "misses", "entries", "maxsize"} of this process's cache."""
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "entries": len(self._entries), "maxsize": self.maxsize}

    def __len__(self):
        return len(self._entries)


operator_cache = OperatorCache()


def configure_operator_cache(maxsize=None, clear=False):
    """Set this process's cache bound (None: keep it) and optionally empty it; returns its stats. On a dask
    cluster run it on every worker: ``client.run(configure_operator_cache, 0)``."""
    if maxsize is not None:
        operator_cache.maxsize = int(maxsize)
        with operator_cache._lock:
            while len(operator_cache._entries) > operator_cache.maxsize:
                operator_cache._entries.popitem(last=False)
    if clear:
        operator_cache.clear()
    return operator_cache.stats()


def x_token(flat, raveler):
    """A name for x in the workers' caches: a hash of its flat bytes, dtype, shapes and pytree structure."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr((str(flat.dtype), raveler.shapes, [str(d) for d in raveler.dtypes],
                        repr(raveler.treedef))).encode())
    digest.update(memoryview(np.ascontiguousarray(flat)).cast("B"))
    return digest.hexdigest()


def aligned(tree):
    """``tree`` with every numpy array that is not aligned to its itemsize replaced by an aligned copy.

    dask hands a task arrays that live inside the received message buffer, at offsets that need not be
    multiples of 8 (seen: a shard's X at address 38 mod 64), and numpy's and BLAS's loops on those are
    slower (W4's MLP on 8192 rows: about 1.6 s per HVP in a worker against 1.0 s in-process, 1.2 s after
    the copy). Aligned arrays are returned as they are (no copy).
    """
    if isinstance(tree, np.ndarray):
        return tree if tree.flags.aligned else np.require(tree, requirements="A")
    if isinstance(tree, tuple):
        items = [aligned(item) for item in tree]
        return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)
    if isinstance(tree, list):
        return [aligned(item) for item in tree]
    if isinstance(tree, dict):
        return type(tree)((key, aligned(value)) for key, value in tree.items())
    return tree


def _shard_task(loss, shard, shard_key, x, token, V):
    """On the worker: H_k V at x from the cached (or newly recorded) operator; (f_k, g_k) when V is None.
    A vector V is one plain product (matvec); a matrix goes through matmat (vmap over its columns).
    The shard and V are used aligned (see ``aligned``): the recorded operator keeps the aligned copies."""
    operator = operator_cache.operator(loss, shard, shard_key, x, token)
    if V is None:
        return operator.value, operator.gradient
    V = aligned(V)
    return operator.matvec(V) if V.ndim == 1 else operator.matmat(V)


def sharded_value_and_gradient(sharded, x, token):
    """(sum_k f_k, sum_k g_k) at x; records every shard's operator into its worker's cache."""
    parts = sharded.map(_shard_task, x, token, None)
    return sum(p[0] for p in parts), sum(p[1] for p in parts)


def sharded_matmat(sharded, x, token, V):
    """sum_k H_k V (V a vector (n,) or a matrix (n, k)), each H_k V computed where shard k is."""
    return sharded.map_sum(_shard_task, x, token, np.asarray(V))


def _shard_quadratic_forms(loss, shard, shard_key, x, token, V, n):
    """On the worker: v_j^T H_k v_j for the columns of V ((n, k) floats, or Rademacher signs packed by
    ``np.packbits`` along axis 0: a (ceil(n / 8), k) uint8 array), as (k,) float64."""
    operator = operator_cache.operator(loss, shard, shard_key, x, token)
    if V.dtype == np.uint8:
        V = np.unpackbits(V, axis=0, count=n).astype(operator.dtype) * 2 - 1
    V = aligned(V)
    return np.einsum("ij,ij->j", V, operator.matmat(V), dtype=np.float64)


def sharded_quadratic_forms(sharded, x, token, V):
    """sum_k diag(V^T H_k V) for V (n, k), each shard's forms computed where it is; a V of +-1 entries
    travels bit-packed (exact: the worker unpacks the same +-1 values)."""
    n = V.shape[0]
    if np.all(np.abs(V) == 1):
        V = np.packbits(V > 0, axis=0)
    return sharded.map_sum(_shard_quadratic_forms, x, token, V, n)
