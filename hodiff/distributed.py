"""Sharded losses: second-order products summed over data shards held by executor workers (issue 18)."""

import numpy as np

__all__ = ["ShardedLoss"]


class ShardedLoss:
    """A loss that is a sum over data shards: total(params) = sum_k loss(params, shards[k]).

    loss(params, shard) returns a scalar; params is a float array or pytree. ``executor``
    is None (products computed here, in order), a ``concurrent.futures`` executor, or a
    ``dask.distributed.Client`` (shards are scattered to the workers once; each product
    is one task per shard, summed here). loss and shards must be picklable by the
    executor (cloudpickle for dask, pickle for a ProcessPoolExecutor: no lambdas there).
    ``hd.hessian_operator(sharded, x)`` gives a LinearOperator whose matvec/matmat fan out,
    so hd.hessian_trace / hessian_eigs / hessian_density fan their probe blocks out too.
    """

    def __init__(self, loss, shards, executor=None):
        if not callable(loss):
            raise TypeError(f"ShardedLoss: loss must be callable, got {type(loss).__name__}")
        self.loss = loss
        self.shards = list(shards)
        if not self.shards:
            raise ValueError("ShardedLoss: shards must not be empty")
        self.executor = executor
        self._handles = None

    def __call__(self, params):
        return sum(self.loss(params, shard) for shard in self.shards)

    def handles(self):
        """The shards as the executor sees them (dask futures after one scatter, else the shards)."""
        if self._handles is None:
            if self.executor is not None and hasattr(self.executor, "scatter"):
                self._handles = self.executor.scatter(self.shards)
            else:
                self._handles = self.shards
        return self._handles

    def map(self, function, *extra):
        """[function(loss, shard, *extra) for each shard], computed where the shard is."""
        if self.executor is None:
            return [function(self.loss, shard, *extra) for shard in self.shards]
        try:
            futures = [self.executor.submit(function, self.loss, handle, *extra) for handle in self.handles()]
            return [future.result() for future in futures]
        except (TypeError, AttributeError) as error:
            if "pickle" in str(error).lower():
                raise TypeError(f"ShardedLoss: the loss or a shard could not be pickled for the executor ({error}); "
                                "define the loss at module level (dask uses cloudpickle, so closures work there)"
                                ) from error
            raise


def _shard_matmat(loss, shard, x, V):
    from .secondorder import HessianOperator
    operator = HessianOperator(loss, x, args=(shard,))
    return operator.matmat(V), operator.value, operator.gradient


def sharded_operator_parts(sharded, x, V):
    """Sum over shards of (H_k V, f_k, g_k)."""
    parts = sharded.map(_shard_matmat, x, np.asarray(V))
    return (sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts))
