"""hd.ShardedLoss: distributed HVP and Hutchinson trace against the single-process result (issue 18)."""

import concurrent.futures

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp


def shard_loss(w, shard):
    X, y = shard
    return hnp.sum(hnp.log1p(hnp.exp(-y * (X @ w)))) + 0.5 * hnp.sum(w ** 4)


def _data(shards=4, rows=40, n=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, n))
    y = np.sign(rng.standard_normal(rows))
    parts = np.array_split(np.arange(rows), shards)
    return [(X[i], y[i]) for i in parts], rng.standard_normal(n), rng.standard_normal((n, 3))


def _reference(shards, w):
    # Dense Hessian of the whole-data loss, outside any sharding.
    return sum(hd.hessian(lambda w, s=s: shard_loss(w, s))(w) for s in shards)


def _check(executor):
    shards, w, V = _data()
    H = _reference(shards, w)
    op = hd.hessian_operator(hd.ShardedLoss(shard_loss, shards, executor=executor), w)
    np.testing.assert_allclose(op @ V[:, 0], H @ V[:, 0], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(op.matmat(V), H @ V, rtol=1e-12, atol=1e-13)
    single = hd.hessian_trace(lambda w: sum(shard_loss(w, s) for s in shards), w, samples=40, seed=3)
    sharded = hd.hessian_trace(op, samples=40, seed=3)
    assert sharded.trace == pytest.approx(single.trace, rel=1e-12)
    np.testing.assert_allclose(sharded.samples, single.samples, rtol=1e-12)


def test_sharded_in_process():
    _check(None)


def test_sharded_threads():
    with concurrent.futures.ThreadPoolExecutor(2) as executor:
        _check(executor)


def test_sharded_wrong_product_detected():
    shards, w, V = _data()
    op = hd.hessian_operator(hd.ShardedLoss(shard_loss, shards[:-1]), w)  # a shard missing
    assert not np.allclose(op @ V[:, 0], _reference(shards, w) @ V[:, 0], rtol=1e-6)


def test_sharded_dask_local_cluster():
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed (extra: dask)")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        _check(client)
