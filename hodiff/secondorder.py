"""Second-order research tools on scipy: Hessian operators, spectra, Newton-type minimization.

Everything here is built from Hessian-vector products (HVPs), never from a
dense Hessian unless one is asked for:

- ``hessian_operator(f, x)``: a ``scipy.sparse.linalg.LinearOperator`` whose
  products are exact HVPs. The gradient computation of f is recorded once
  (``hd.linearize`` of ``hd.value_and_grad(f)``); each product pushes a tangent
  through the recorded graph, so no product redoes f's forward pass.
- ``hessian_eigs``: extreme eigenvalues by Lanczos (scipy's ``eigsh``).
- ``hessian_trace``: Hutchinson's and Hutch++'s estimators with Rademacher probes.
- ``hessian_diagonal``: diag(H) exactly (batched HVPs along the unit vectors, block by
  block) or by Bekas et al.'s stochastic estimator (Rademacher probes, batched HVPs).
- ``hessian_density``: the spectral density by stochastic Lanczos quadrature
  (Ghorbani, Krishnan & Xiao 2019; Yao et al., PyHessian 2020).
- ``minimize``: ``scipy.optimize.minimize`` with an exact gradient and exact
  Hessian products (or the exact Hessian) for the methods that use them.
- ``ggn_vp`` / ``ggn_operator``: Gauss-Newton products J^T H_loss J v.

Layout: x may be a pytree (nested tuple/list/dict of float arrays). The
operator acts on the *flat* vector: the leaves in ``hd.tree_flatten`` order,
each raveled in C order and concatenated, length n = total number of entries.
``op.flatten(tree)`` and ``op.unflatten(vector)`` convert between the two.
"""

import functools
import inspect
import math
import numbers
import typing

import numpy as np
import scipy.sparse.linalg

from .core.trace import Tracer
from .core.tree import tree_flatten, tree_unflatten
from .primitives.elementwise import astype, greater, sqrt, where
from .primitives.shape import concatenate, getitem, reshape
from .primitives.shape import sum as _sum
from .transforms._args import check_differentiable, dtype_of_value
from .transforms.batching import vmap
from .transforms.forward import jvp, linearize
from .transforms.hessian import hvp
from .transforms.replay import record
from .transforms.reverse import grad, value_and_grad, vjp
from .transforms.sparse import _distance1_coloring
from .transforms.sparsity import hessian_sparsity

__all__ = [
    "FlatOperator", "HessianOperator", "GGNOperator", "hessian_operator", "hessian_eigs", "HessianEigs",
    "hessian_trace", "TraceEstimate", "hessian_diagonal", "DiagonalEstimate", "hessian_density", "SpectralDensity",
    "minimize", "ggn_vp", "ggn_operator",
]


# ----------------------------------------------------------------- flat <-> pytree

class _Raveler:
    """Flatten a pytree of arrays to one vector (numpy) and back (numpy, or hodiff ops for traced vectors)."""

    def __init__(self, tree, name):
        check_differentiable(tree, 0, name)
        leaves, self.treedef = tree_flatten(tree)
        if not leaves:
            raise ValueError(f"{name}: x has no leaves (an empty pytree); there is nothing to differentiate")
        self.shapes = [tuple(leaf.shape) if isinstance(leaf, Tracer) else np.shape(leaf) for leaf in leaves]
        self.dtypes = [dtype_of_value(leaf) for leaf in leaves]
        if any(np.issubdtype(d, np.complexfloating) for d in self.dtypes):
            raise TypeError(f"{name}: x has complex leaves; Hessian tools here need real (float) parameters")
        self.sizes = [math.prod(shape) for shape in self.shapes]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int)
        self.size = int(self.offsets[-1])
        self.dtype = np.result_type(*self.dtypes)
        self.single = self.treedef.kind == "leaf"

    def unflatten(self, vector):
        """The pytree shaped like x whose leaves are the pieces of ``vector`` (n,)."""
        if self.single:
            return tree_unflatten(self.treedef, [reshape(vector, shape=self.shapes[0])])
        leaves = [reshape(getitem(vector, index=slice(int(start), int(stop))), shape=shape)
                  for start, stop, shape in zip(self.offsets[:-1], self.offsets[1:], self.shapes)]
        return tree_unflatten(self.treedef, leaves)

    def flatten_value(self, tree):
        """numpy flat vector of a plain pytree (no tracing)."""
        leaves, treedef = tree_flatten(tree)
        if treedef != self.treedef:
            raise ValueError(f"the pytree structure {treedef!r} differs from x's {self.treedef!r}")
        for position, (leaf, shape) in enumerate(zip(leaves, self.shapes)):
            if np.shape(leaf) != shape:  # a wrong leaf would be split at other offsets: another vector
                raise ValueError(f"leaf {position} of the pytree has shape {np.shape(leaf)}, x's has {shape}")
        return np.concatenate([np.ravel(np.asarray(leaf)) for leaf in leaves]) if leaves else np.zeros(0)

    def unflatten_value(self, vector, dtypes=True):
        """numpy pytree from a flat vector; leaves take x's dtypes when ``dtypes``."""
        vector = np.asarray(vector)
        if vector.shape != (self.size,):
            raise ValueError(f"a flat vector of x's layout has shape ({self.size},), got {vector.shape}")
        leaves = []
        for start, stop, shape, dtype in zip(self.offsets[:-1], self.offsets[1:], self.shapes, self.dtypes):
            leaf = vector[start:stop].reshape(shape)
            leaves.append(leaf.astype(dtype) if dtypes else leaf)
        return tree_unflatten(self.treedef, leaves)


def _closed(f, args, kwargs):
    if not isinstance(args, tuple):
        args = (args,)
    kwargs = kwargs or {}
    return lambda x: f(x, *args, **kwargs)


# ----------------------------------------------------------------- the Hessian operator

class FlatOperator(scipy.sparse.linalg.LinearOperator):
    """A symmetric (n, n) ``LinearOperator`` on the flat layout of a pytree x.

    Subclasses call ``_setup(raveler)`` and define ``_product(tree)``: the product
    with a pytree shaped like x, as a pytree shaped like x, written with hodiff ops
    (it is called on plain values and, under ``hd.vmap``, on a batch of them).
    Pytrees are split and joined outside the recorded graphs (a concatenate inside
    one would be replayed by every product).
    ``matvec``/``rmatvec`` are one product each (the operator is symmetric);
    ``matmat`` pushes all columns through at once (a batched tangent), not one by one.

    Methods: flatten(tree) -> (n,) vector; unflatten(vector) -> pytree like x;
    hvp(tree) -> the product with v and result as pytrees like x;
    dense() -> the (n, n) matrix, built from batched products.
    """

    replay = False  # True: _product is hodiff ops on the tangent alone, recorded once and replayed (hd.record)

    def _setup(self, raveler):
        self._raveler = raveler
        self.n = raveler.size
        scipy.sparse.linalg.LinearOperator.__init__(self, dtype=raveler.dtype, shape=(raveler.size, raveler.size))

        def product(vector):
            return self._product(self._raveler.unflatten(vector))

        def batched(columns):  # vmap over the columns: each recorded node is visited once for all of them
            return vmap(product)(columns)

        # A replay runs the tangent program alone: what depends on x only was computed while recording.
        self._flat_product = record(product) if self.replay else product
        self._batched_product = record(batched) if self.replay else batched

    def matvec(self, x):
        # H is real: H (a + ib) = H a + i H b (the products cast to the operator's dtype dropped b, with a warning)
        if np.iscomplexobj(x):
            return super().matvec(np.real(x)) + 1j * super().matvec(np.imag(x))
        return super().matvec(x)

    def matmat(self, X):
        if np.iscomplexobj(X):
            return super().matmat(np.real(X)) + 1j * super().matmat(np.imag(X))
        return super().matmat(X)

    def flatten(self, tree):
        return np.asarray(self._raveler.flatten_value(tree), dtype=self.dtype)

    def unflatten(self, vector):
        return self._raveler.unflatten_value(vector)

    def _matvec(self, v):
        v = np.asarray(v, dtype=self.dtype).reshape(self.n)
        return self._raveler.flatten_value(self._flat_product(v)).astype(self.dtype, copy=False)

    def _rmatvec(self, v):
        return self._matvec(v)  # symmetric

    def _matmat(self, V):
        V = np.asarray(V, dtype=self.dtype)
        if V.shape[1] == 0:
            return np.zeros((self.n, 0), dtype=self.dtype)
        products = self._batched_product(np.ascontiguousarray(V.T))
        leaves = tree_flatten(products)[0]
        return np.concatenate([np.reshape(leaf, (V.shape[1], -1)) for leaf in leaves], axis=1).T.astype(
            self.dtype, copy=False)

    def _rmatmat(self, V):
        return self._matmat(V)

    def _adjoint(self):
        return self

    def hvp(self, tree):
        """The product with v, for v a pytree shaped like x; the result has x's structure."""
        return self.unflatten(self._matvec(self.flatten(tree)))

    def quadratic_forms(self, V):
        """(k,) float64: v_j^T H v_j for the k columns of V (n, k), the samples of Hutchinson's estimator."""
        V = np.asarray(V, dtype=self.dtype)
        return np.einsum("ij,ij->j", V, self.matmat(V), dtype=np.float64)

    def dense(self, block=256):
        """The full (n, n) matrix from batched products, ``block`` columns at a time (bounds memory)."""
        H = np.empty((self.n, self.n), dtype=self.dtype)
        for start in range(0, self.n, block):
            stop = min(start + block, self.n)
            basis = np.zeros((self.n, stop - start), dtype=self.dtype)
            basis[np.arange(start, stop), np.arange(stop - start)] = 1
            H[:, start:stop] = self._matmat(basis)
        return H

    def __repr__(self):
        return f"<{type(self).__name__} {self.n}x{self.n} dtype={self.dtype}>"


class HessianOperator(FlatOperator):
    """The Hessian of a scalar f at x as a ``FlatOperator``; build it with ``hd.hessian_operator``.

    Attributes besides FlatOperator's: ``value`` f(x), ``gradient`` df/dx as a flat vector (n,).
    """

    replay = True

    def __init__(self, f, x, args=(), kwargs=None):
        raveler = _Raveler(x, "hessian_operator")
        x = raveler.unflatten_value(raveler.flatten_value(x).astype(raveler.dtype), dtypes=False)
        # One recording of f's value and gradient; every product replays it forward.
        (value, gradient), self._jvp_fn = linearize(value_and_grad(_closed(f, args, kwargs)), x)
        self.value = value
        self.gradient = raveler.flatten_value(gradient)
        self._setup(raveler)

    def _product(self, tree):
        # The tangent of the value (g . v) rides along for free; H v is the gradient's tangent.
        return self._jvp_fn(tree)[1]


class ShardedHessianOperator(FlatOperator):
    """The Hessian of an ``hd.ShardedLoss`` at x: each product computes every shard's H_k v where the
    shard is, summed here (the Gauss-Newton matrix when its loss is a ``GaussNewtonSplit``:
    ``ggn_operator(..., shards=)``).

    x goes to the executor once (scattered to the workers holding shards, on dask) with a token naming it; each worker
    records its shards' gradients at x once and replays them for every later product (see
    ``hodiff.distributed.OperatorCache``), so a product moves V out and H_k V back, nothing more.
    """

    def __init__(self, sharded, x):
        from . import distributed
        raveler = _Raveler(x, "hessian_operator")
        flat = raveler.flatten_value(x).astype(raveler.dtype)
        self._x = raveler.unflatten_value(flat, dtypes=False)
        self._sharded = sharded
        self._setup(raveler)
        self._token = distributed.x_token(flat, raveler)
        self._x_handle = sharded.ship(self._x)
        self._distributed = distributed
        self.value, self.gradient = distributed.sharded_value_and_gradient(sharded, self._x_handle, self._token)

    def _matvec(self, v):
        # A vector stays a vector: the workers' matvec is one plain product, cheaper than vmap over one column.
        return self._distributed.sharded_matmat(self._sharded, self._x_handle, self._token,
                                                np.asarray(v, dtype=self.dtype).reshape(self.n))

    def _matmat(self, V):
        V = np.asarray(V, dtype=self.dtype)
        if V.shape[1] == 0:
            return np.zeros((self.n, 0), dtype=self.dtype)
        return self._distributed.sharded_matmat(self._sharded, self._x_handle, self._token, V)

    def quadratic_forms(self, V):
        """(k,) float64: v_j^T H v_j = sum_k v_j^T H_k v_j, each shard's forms computed where the shard is.
        Only k numbers per worker come back; a Rademacher V (entries +-1, as Hutchinson's probes) goes out
        as one bit per entry (n k / 8 bytes instead of 8 n k)."""
        V = np.asarray(V, dtype=self.dtype)
        return self._distributed.sharded_quadratic_forms(self._sharded, self._x_handle, self._token, V)


def hessian_operator(f, x, *, args=(), kwargs=None):
    """The Hessian of scalar ``f`` at ``x`` as a ``scipy.sparse.linalg.LinearOperator``.

    f(x, *args, **kwargs) must return a scalar; x is a float array or a pytree
    of them (flattened to a vector of length n, leaves in ``hd.tree_flatten``
    order, each raveled in C order). The operator has shape (n, n) and dtype
    x's (float64, or float32 when every leaf is float32). f and its gradient
    are evaluated once, here; each product H @ v then replays the recorded
    gradient computation forward with v as the tangent (forward-over-reverse),
    about the cost of one more gradient.

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> H = hd.hessian_operator(lambda x: hnp.sum(x ** 3), np.array([1.0, 2.0]))
    >>> H @ np.array([1.0, 1.0])          # diag(6 x) @ [1, 1]
    array([ 6., 12.])
    >>> H.dense()
    array([[ 6.,  0.],
           [ 0., 12.]])

    f may be an ``hd.ShardedLoss`` (total = sum_k loss(x, shard_k)): then every matvec/matmat
    computes each shard's product where the shard is (on dask: one actor call per worker),
    and the products are summed here.
    """
    from .distributed import ShardedLoss
    if isinstance(f, ShardedLoss):
        if args or kwargs:  # they were dropped silently: the operator was another loss's Hessian
            raise TypeError("hessian_operator: an hd.ShardedLoss takes the parameters only (no args=/kwargs=); "
                            "bind them into its loss (functools.partial) instead")
        return ShardedHessianOperator(f, x)
    return HessianOperator(f, x, args=args, kwargs=kwargs)


def _as_operator(f, x, args, kwargs):
    return f if isinstance(f, FlatOperator) else hessian_operator(f, x, args=args, kwargs=kwargs)


# ----------------------------------------------------------------- eigenvalues

class HessianEigs(typing.NamedTuple):
    """Eigenpairs of the Hessian.

    values:   (k,) eigenvalues, ordered as ``which`` asks: largest first for
              "LA" and "LM", smallest first for "SA" and "SM", ascending for "BE".
    vectors:  (n, k) orthonormal eigenvectors as columns (flat layout), or None.
    unflatten: turns a flat vector into a pytree like x (``unflatten(vectors[:, i])``).
    """

    values: np.ndarray
    vectors: typing.Optional[np.ndarray]
    unflatten: typing.Callable


_WHICH = ("LA", "SA", "LM", "SM", "BE")


def _order(values, which):
    if which == "LA":
        return np.argsort(-values, kind="stable")
    if which == "SA" or which == "BE":
        return np.argsort(values, kind="stable")
    if which == "LM":
        return np.argsort(-np.abs(values), kind="stable")
    return np.argsort(np.abs(values), kind="stable")


def _select_dense(values, k, which):
    """Indices of the k eigenvalues ``which`` picks, from a full ascending spectrum."""
    n = len(values)
    if which == "BE":
        high = k // 2 + k % 2  # as ARPACK: the extra one goes to the high end
        chosen = list(range(k - high)) + list(range(n - high, n))
        return np.array(sorted(set(chosen)))
    return _order(values, which)[:k]


def hessian_eigs(f, x=None, k=6, which="LA", *, args=(), kwargs=None, return_eigenvectors=True,
                 tol=0.0, maxiter=None, seed=0):
    """The k extreme eigenvalues (and eigenvectors) of the Hessian of f at x, by Lanczos.

    f: scalar function f(x, *args, **kwargs), or an existing ``HessianOperator``/``GGNOperator`` (x then unused).
    which: "LA" largest algebraic (the top of the spectrum, default), "SA" smallest
        algebraic, "LM"/"SM" largest/smallest magnitude, "BE" both ends (scipy's eigsh).
    seed: seeds Lanczos's starting vector, so results are reproducible.
    Returns ``HessianEigs(values, vectors, unflatten)``: values (k,) ordered as
    ``which`` asks (largest first for "LA"), vectors (n, k) columns in the flat
    layout. Uses ``scipy.sparse.linalg.eigsh`` on the operator (HVPs only); when
    k >= n - 1 (beyond ARPACK's reach) the Hessian is formed densely from
    batched HVPs and ``numpy.linalg.eigh`` is used.

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> f = lambda x: hnp.sum(np.arange(1.0, 6.0) * x ** 2)   # H = diag(2, 4, 6, 8, 10)
    >>> hd.hessian_eigs(f, np.zeros(5), k=2).values
    array([10.,  8.])
    """
    if which not in _WHICH:
        raise ValueError(f"hessian_eigs: which={which!r}; use one of {', '.join(_WHICH)}")
    operator = _as_operator(f, x, args, kwargs)
    n = operator.n
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ValueError(f"hessian_eigs: k={k!r} must be an integer with 1 <= k <= n = {n}")
    if which == "BE" and k < 2:  # ARPACK refuses it for n >= 3; the dense path gave the top alone
        raise ValueError("hessian_eigs: which='BE' takes eigenvalues from both ends, so k must be at least 2")
    if k >= n - 1:
        values, vectors = np.linalg.eigh(operator.dense())
        chosen = _select_dense(values, k, which)
        values, vectors = values[chosen], vectors[:, chosen]
    else:
        v0 = np.random.default_rng(seed).standard_normal(n).astype(operator.dtype)
        result = scipy.sparse.linalg.eigsh(operator, k=k, which=which, v0=v0, tol=tol, maxiter=maxiter,
                                           return_eigenvectors=return_eigenvectors)
        values, vectors = result if return_eigenvectors else (result, None)
    order = _order(values, which)
    values = values[order]
    vectors = vectors[:, order] if (vectors is not None and return_eigenvectors) else None
    return HessianEigs(values, vectors, operator.unflatten)


# ----------------------------------------------------------------- trace

class TraceEstimate(typing.NamedTuple):
    """A stochastic estimate of tr(H).

    trace:    the estimate (unbiased for a fixed number of probes)
    stderr:   its standard error: std(samples, ddof=1) / sqrt(len(samples)), scaled as
              the samples enter the estimate (0 where the low-rank part of Hutch++ is all of it)
    samples:  (m,) the individual Hutchinson probe values v^T H v (for Hutch++: of
              the deflated operator (I - QQ^T) H (I - QQ^T))
    matvecs:  the Hessian-vector products spent, the estimator's cost
    """

    trace: float
    stderr: float
    samples: np.ndarray
    matvecs: int


_TRACE_METHODS = ("hutchinson", "hutch++")


def hessian_trace(f, x=None, samples=100, seed=0, *, method="hutchinson", rtol=None, args=(), kwargs=None,
                  block=32):
    """A stochastic estimate of the trace of the Hessian of f at x, from at most ``samples`` HVPs.

    - ``method="hutchinson"``: Rademacher probes v (entries +-1), E[v^T H v] = tr H;
      the variance is 2 sum_{i != j} H_ij^2 per probe, so a diagonal Hessian is
      estimated exactly; error O(1/sqrt(m)) in m HVPs.
    - ``method="hutch++"`` (Meyer, Musco, Musco & Woodruff, SOSA 2021): a third of
      the HVPs sketch H's range (Q = orth(H S)), a third give tr(Q^T H Q) exactly,
      and the last third run Hutchinson on the deflated (I - QQ^T) H (I - QQ^T);
      error O(1/m) when the spectrum decays, never worse than a constant times
      Hutchinson's. Needs ``samples >= 4``.

    ``rtol``: stop early, after a block of probes, once stderr <= rtol * |trace|
    (``samples`` is then the budget; stopping on the estimate's own stderr leaves a small bias;
    Hutch++ spends its sketch, min(samples // 3, n) HVPs twice, before it can stop).
    Probes are pushed ``block`` at a time through one batched HVP and do not depend on
    ``block``. f may be an existing ``HessianOperator`` or ``GGNOperator``.

    Returns ``TraceEstimate(trace, stderr, samples, matvecs)`` (see its docstring).

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> estimate = hd.hessian_trace(lambda x: hnp.sum(x ** 4), np.array([1.0, 2.0]), samples=10)
    >>> float(estimate.trace), float(estimate.stderr)       # 12 * (1 + 4), exact for diagonal H
    (60.0, 0.0)
    """
    if method not in _TRACE_METHODS:
        raise ValueError(f"hessian_trace: method={method!r}; choose one of {', '.join(map(repr, _TRACE_METHODS))}")
    least = 4 if method == "hutch++" else 2
    if not isinstance(samples, (int, np.integer)) or isinstance(samples, bool) or samples < least:
        raise ValueError(f"hessian_trace: samples={samples!r} must be an integer >= {least} for method={method!r} "
                         "(the HVP budget; the standard error needs two probes)")
    if rtol is not None and not (isinstance(rtol, (int, float, np.floating)) and rtol > 0):
        raise ValueError(f"hessian_trace: rtol={rtol!r} must be a positive number (or None: spend every sample)")
    if not isinstance(block, (int, np.integer)) or block < 1:
        raise ValueError(f"hessian_trace: block={block!r} must be a positive integer")
    operator = _as_operator(f, x, args, kwargs)
    rng = np.random.default_rng(seed)
    if method == "hutchinson":
        return _hutchinson(operator.quadratic_forms, operator.n, operator.dtype, samples, rng, rtol, block, 0.0, 0)
    # Hutch++: k sketch vectors (k HVPs for H S, k for H Q; more than n would add nothing),
    # the rest for the deflated Hutchinson (the only part rtol can stop early).
    sketch = min(samples // 3, operator.n)
    probes = _rademacher(rng, sketch, operator.n, operator.dtype)
    basis, _ = np.linalg.qr(operator.matmat(probes))
    low_rank = float(np.einsum("ij,ij->", basis, operator.matmat(basis), dtype=np.float64))

    def deflate(v):  # (I - QQ^T) v
        return v - basis @ (basis.T @ v)

    def deflated_quadratic_forms(V):  # v^T (I - QQ^T) H (I - QQ^T) v = w^T H w, w = (I - QQ^T) v
        return operator.quadratic_forms(deflate(V))

    return _hutchinson(deflated_quadratic_forms, operator.n, operator.dtype, samples - 2 * sketch, rng, rtol, block,
                       low_rank, 2 * sketch)


def _rademacher(rng, count, n, dtype):
    """(n, count) probes with entries +-1, drawn probe by probe (so blocks do not change them)."""
    return rng.choice(np.array([-1.0, 1.0], dtype=dtype), size=(count, n)).T


def _hutchinson(quadratic_forms, n, dtype, budget, rng, rtol, block, offset, spent):
    """offset + Hutchinson's estimate of tr(H) from at most ``budget`` probes (stopping at rtol);
    quadratic_forms(V) gives v_j^T H v_j for the columns of V."""
    values = np.empty(0)
    while values.size < budget:
        probes = _rademacher(rng, min(block, budget - values.size), n, dtype)
        values = np.concatenate([values, quadratic_forms(probes)])
        if rtol is not None and values.size >= 2:
            trace = offset + float(np.mean(values))
            if float(np.std(values, ddof=1)) / math.sqrt(values.size) <= rtol * abs(trace):
                break
    stderr = float(np.std(values, ddof=1) / np.sqrt(values.size))
    return TraceEstimate(offset + float(np.mean(values)), stderr, values, spent + int(values.size))


# ----------------------------------------------------------------- diagonal

class DiagonalEstimate(typing.NamedTuple):
    """A stochastic estimate of diag(H) (``hessian_diagonal(..., method="stochastic")``).

    diagonal: shaped like x: the mean of the per-probe values v_k * (H v_k) (Bekas et al. 2007;
              unbiased; for Rademacher probes sum_k v_k * v_k = m, the estimator's denominator)
    stderr:   shaped like x: entry-wise std(samples, axis=0, ddof=1) / sqrt(m) (exactly 0, with
              derivative 0, where every probe gives the same value, as for a diagonal H)
    samples:  (m,) + x.shape the per-probe values v_k * (H v_k) (for a pytree x: a pytree like x
              whose leaves have a leading axis m)
    matvecs:  the Hessian-vector products spent (m)
    For f a function, ``diagonal``, ``stderr`` and ``samples`` are hodiff values (differentiable);
    for f a ``FlatOperator`` they are numpy arrays.
    """

    diagonal: typing.Any
    stderr: typing.Any
    samples: typing.Any
    matvecs: int


_DIAGONAL_METHODS = ("exact", "stochastic")


def _check_diagonal_arguments(method, samples, seed, block):
    name = "hessian_diagonal"
    if not isinstance(method, str) or method not in _DIAGONAL_METHODS:
        raise ValueError(f"{name}: method={method!r}; choose one of {', '.join(map(repr, _DIAGONAL_METHODS))}")
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)):
        raise TypeError(f"{name}: samples={samples!r} must be an integer (the number of Rademacher probes)")
    if samples < 2:
        raise ValueError(f"{name}: samples={samples!r} must be >= 2 (the number of probes, each one HVP; "
                         "the standard error needs two)")
    if not (seed is None or isinstance(seed, np.random.Generator)
            or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0)):
        raise TypeError(f"{name}: seed={seed!r} must be an integer >= 0, a numpy Generator or None")
    if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1:
        raise ValueError(f"{name}: block={block!r} must be a positive integer (directions pushed at a time)")


class _FlatProblem:
    """f as a function of the flat vector of x (traced: the flattening and unflattening are hodiff ops)."""

    def __init__(self, f, x, args, kwargs):
        self.raveler = _Raveler(x, "hessian_diagonal")
        leaves = tree_flatten(x)[0]
        flat = [reshape(leaf, shape=(size,)) for leaf, size in zip(leaves, self.raveler.sizes)]
        self.x = flat[0] if len(flat) == 1 else concatenate(*flat, axis=0)
        self.n = self.raveler.size
        closed = _closed(f, args, kwargs)

        def flat_f(vector):
            out = closed(self.raveler.unflatten(vector))
            shape = tuple(out.shape) if isinstance(out, Tracer) else np.shape(out)
            if shape != ():
                raise TypeError(f"hessian_diagonal: f must return a scalar, got an output of shape {shape}")
            return out

        self.f = flat_f

    def unflatten(self, vector):
        """(n,) -> a pytree like x, each leaf in its own dtype."""
        return self._leaf_dtypes(self.raveler.unflatten(vector))

    def unflatten_rows(self, rows):
        """(m, n) -> a pytree like x whose leaves have a leading axis m, each in its own dtype."""
        if self.raveler.single:
            return reshape(rows, shape=(-1,) + self.raveler.shapes[0])
        return self._leaf_dtypes(vmap(self.raveler.unflatten)(rows))

    def _leaf_dtypes(self, tree):
        # the flat vector has the widest leaf dtype; a float32 leaf beside float64 ones stays float32
        leaves, treedef = tree_flatten(tree)
        return tree_unflatten(treedef, [leaf if dtype_of_value(leaf) == dtype else astype(leaf, dtype=dtype)
                                        for leaf, dtype in zip(leaves, self.raveler.dtypes)])


def _batched(function, count, block, directions, value_shape, dtype):
    """[function(d) for each of ``count`` directions] as one (count,) + value_shape value (traced).

    ``directions(start, stop)`` gives rows start..stop of the directions; each block of rows is one
    ``vmap`` (bounding memory), joined by a hodiff concatenate.
    """
    parts = []
    for start in range(0, count, block):
        stop = min(start + block, count)
        values = vmap(function)(directions(start, stop))
        if (tuple(values.shape) if isinstance(values, Tracer) else np.shape(values)) != (stop - start,) + value_shape:
            values = values + np.zeros((stop - start,) + value_shape, dtype=dtype)  # f constant: unbatched zero
        parts.append(values)
    return parts[0] if len(parts) == 1 else concatenate(*parts, axis=0)


def _unit_rows(start, stop, n, dtype):
    rows = np.zeros((stop - start, n), dtype=dtype)
    rows[np.arange(stop - start), np.arange(start, stop)] = 1
    return rows


def hessian_diagonal(f, method="exact", *, samples=100, seed=0, args=(), kwargs=None, block=256):
    """Return x -> the diagonal of the Hessian of scalar f at x (d^2 f / dx_i^2, shaped like x).

    f(x, *args, **kwargs) returns a scalar; x is a float array of any shape (or a pytree
    of them: the diagonal is then a pytree like x). The n x n Hessian is never stored.

    - ``method="exact"`` (default): H_ii = e_i^T H e_i for each unit vector e_i, from
      forward-over-reverse HVPs (``hd.hvp``) ``hd.vmap``-ed over the unit vectors ``block``
      at a time: f is recorded once per block, the block's products H e_i (block x n) live
      only until their diagonal entries are read. Cost: n HVPs, about what the dense
      Hessian costs (on a general f no AD route to the diagonal is asymptotically cheaper),
      memory block x n instead of n x n. Returns an array like x (a hodiff value:
      differentiable by every transform, vmappable over points).
    - ``method="stochastic"`` (Bekas, Kokiopoulou & Saad 2007): ``samples`` Rademacher
      probes v_k (entries +-1, drawn as ``hessian_trace(..., seed=seed)`` draws them: the
      entries of each probe value sum to hessian_trace's), HVPs H v_k by
      forward-over-reverse, batched ``block`` at a time; diag ~ sum_k v_k * H v_k /
      sum_k v_k * v_k = the mean of v_k * H v_k. Entry i's per-probe variance is
      sum_{j != i} H_ij^2, so a diagonal Hessian is estimated exactly. Returns
      ``DiagonalEstimate(diagonal, stderr, samples, matvecs)`` (see its docstring).

    f may be an existing ``HessianOperator`` or ``GGNOperator`` (x is then not needed):
    "exact" spends n HVPs on the unit vectors (block at a time, keeping only the diagonal),
    "stochastic" ``samples`` HVPs; the results are numpy arrays, not differentiable.
    ``seed``: an integer (the same probes at every call), a numpy Generator or None.

    A sparse Hessian makes "exact" cheaper: for n >= 64 and an untraced x, the global
    pattern (``hd.hessian_sparsity``, once per x shape and dtype) is coloured so that no
    two unit vectors of a colour are coupled in H (H_ij = 0), and each colour's sum s gives
    all its H_ii as s * (H s) from one HVP: c HVPs for c colours (2 for a tridiagonal H,
    1 for a diagonal one). Used only when c <= n / 4; a pattern that cannot be detected
    (value-dependent control flow) falls back to the unit vectors.

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> f = lambda x: hnp.sum(x ** 3) + x[0] * x[1]            # H = diag(6 x) + offdiagonal 1s
    >>> hd.hessian_diagonal(f)(np.array([1.0, 2.0]))
    array([ 6., 12.])
    >>> estimate = hd.hessian_diagonal(lambda x: hnp.sum(x ** 4), "stochastic", samples=8)(np.array([1.0, 2.0]))
    >>> estimate.diagonal, estimate.stderr, estimate.matvecs     # exact for a diagonal Hessian
    (array([12., 48.]), array([0., 0.]), 8)
    """
    _check_diagonal_arguments(method, samples, seed, block)
    colourings = {}  # x's signature -> colours of the unit vectors, or None (use every unit vector)

    def diagonal(x=None):
        if isinstance(f, FlatOperator):
            return _operator_diagonal(f, method, samples, seed, block)
        if x is None:
            raise TypeError("hessian_diagonal: x is missing: call hessian_diagonal(f)(x) "
                            "(x may be omitted only when f is a HessianOperator or GGNOperator)")
        problem = _FlatProblem(f, x, args, kwargs)
        n, dtype = problem.n, problem.raveler.dtype
        if method == "exact":
            # e^T H e from the HVP, not a second-order Taylor pass along e: the flops are the same,
            # but the Taylor route (collapsed_taylor with one direction, vmapped) measured 1.1x
            # (tanh MLP 50-768-768-512-512-1) to 2.7x (a D = 3000 chain) slower, with 1.5-2.3x the
            # memory (benchmarks/hessian_diagonal_bench.py).
            def second_derivative(unit):
                return _sum(unit * hvp(problem.f, (problem.x,), (unit,))[0], axis=0)

            colours = _diagonal_colours(problem, colourings)
            if colours is not None:
                count = int(colours.max()) + 1
                seeds = (colours[None, :] == np.arange(count)[:, None]).astype(dtype)  # (count, n), disjoint

                def coloured(seed):
                    return seed * hvp(problem.f, (problem.x,), (seed,))[0]  # H_ii at the seed's i, 0 elsewhere

                rows = _batched(coloured, count, block, lambda start, stop: seeds[start:stop], (n,), dtype)
                return problem.unflatten(_sum(rows, axis=0))
            units = functools.partial(_unit_rows, n=n, dtype=dtype)
            return problem.unflatten(_batched(second_derivative, n, block, units, (), dtype))
        probes = _rademacher(np.random.default_rng(seed), samples, n, dtype).T  # (m, n)

        def probe_value(probe):
            return probe * hvp(problem.f, (problem.x,), (probe,))[0]

        rows = _batched(probe_value, samples, block, lambda start, stop: probes[start:stop], (n,), dtype)
        return _diagonal_estimate(rows, samples, problem.unflatten, problem.unflatten_rows, dtype)

    return diagonal


def _diagonal_colours(problem, cache):
    """Colours of x's entries with H_ij = 0 inside each colour (distance-1 colouring of H's pattern), or None
    when that does not pay or cannot be known: small n, a traced x, an undetectable pattern, many colours."""
    if problem.n < 64 or isinstance(problem.x, Tracer):
        return None
    raveler = problem.raveler
    key = (repr(raveler.treedef), tuple(raveler.shapes), tuple(str(dtype) for dtype in raveler.dtypes))
    if key not in cache:
        try:
            pattern = hessian_sparsity(problem.f)(problem.x)
        except Exception:  # value-dependent control flow, no pattern rule, ...: the unit vectors always work
            cache[key] = None
        else:
            colours = _distance1_coloring(pattern)
            cache[key] = colours if colours.size and 4 * (int(colours.max()) + 1) <= problem.n else None
    return cache[key]


def _diagonal_estimate(rows, samples, unflatten, unflatten_rows, dtype):
    """DiagonalEstimate from the (m, n) per-probe values, with hodiff ops (traced values stay traced)."""
    # shifted by the first probe's values, so equal values (Rademacher on a diagonal H) give exactly
    # their value and a spread of exactly 0
    shift = getitem(rows, index=0)
    centred = rows - shift
    offset = _sum(centred, axis=0) * np.asarray(1.0 / samples, dtype=dtype)
    deviations = centred - offset
    variance = _sum(deviations * deviations, axis=0) * np.asarray(1.0 / (samples - 1), dtype=dtype)
    # sqrt has an infinite slope at 0: take the subgradient 0 there, through a where on both sides
    # so no inf * 0 = NaN reaches a derivative of the stderr
    spread = greater(variance, np.zeros((), dtype=dtype))
    safe = where(spread, variance, np.ones((), dtype=dtype))
    stderr = where(spread, sqrt(safe * np.asarray(1.0 / samples, dtype=dtype)), np.zeros((), dtype=dtype))
    return DiagonalEstimate(unflatten(shift + offset), unflatten(stderr), unflatten_rows(rows), int(samples))


def _operator_diagonal(operator, method, samples, seed, block):
    n, dtype = operator.n, operator.dtype
    if method == "exact":
        diagonal = np.empty(n, dtype=dtype)
        for start in range(0, n, block):
            stop = min(start + block, n)
            units = _unit_rows(start, stop, n, dtype)
            diagonal[start:stop] = np.einsum("ij,ji->i", units, operator.matmat(units.T))
        return operator.unflatten(diagonal)
    probes = _rademacher(np.random.default_rng(seed), samples, n, dtype)  # (n, m)
    rows = np.concatenate([(probes[:, start:start + block] * operator.matmat(probes[:, start:start + block])).T
                           for start in range(0, samples, block)], axis=0)
    raveler = operator._raveler

    def unflatten_rows(values):
        return tree_unflatten(raveler.treedef, [
            values[:, begin:end].reshape((samples,) + shape).astype(leaf_dtype, copy=False)
            for begin, end, shape, leaf_dtype in zip(raveler.offsets[:-1], raveler.offsets[1:], raveler.shapes,
                                                     raveler.dtypes)])

    mean = rows.mean(axis=0)
    stderr = rows.std(axis=0, ddof=1) / np.sqrt(samples)
    return DiagonalEstimate(operator.unflatten(mean), operator.unflatten(stderr), unflatten_rows(rows),
                            int(samples))


# ----------------------------------------------------------------- spectral density

class SpectralDensity(typing.NamedTuple):
    """The Hessian's eigenvalue density by stochastic Lanczos quadrature.

    grid:     (G,) eigenvalue axis
    density:  (G,) density on the grid, normalized so ``np.trapezoid(density, grid) == 1``
    nodes:    (runs, m) Ritz values of each run's Lanczos tridiagonal (NaN-padded when a run
              stopped early at an invariant subspace)
    weights:  (runs, m) their quadrature weights (squared first components of T's
              eigenvectors; each row sums to 1; 0 where padded)
    sigma:    the Gaussian broadening used
    """

    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    sigma: float


def _lanczos(operator, starts, steps):
    """Independent Lanczos runs, one per column of ``starts`` (n, runs), all HVPs batched.

    Full reorthogonalization against each run's own basis (the Ritz values are
    then free of Lanczos's spurious copies). Returns a list of (alpha, beta)
    per run; a run stops early when its next vector vanishes (invariant subspace).
    """
    n, runs = starts.shape
    Q = np.zeros((runs, steps, n))
    q = starts / np.linalg.norm(starts, axis=0)
    alphas = np.zeros((runs, steps))
    betas = np.zeros((runs, steps))
    lengths = np.full(runs, steps)
    active = np.ones(runs, dtype=bool)
    for j in range(steps):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        Q[idx, j] = q[:, idx].T
        w = np.asarray(operator.matmat(q[:, idx].astype(operator.dtype)), dtype=np.float64)  # (n, active)
        alpha = np.einsum("ij,ij->j", q[:, idx], w)
        alphas[idx, j] = alpha
        # Full reorthogonalization (twice is enough: Parlett's "twice is enough").
        for _ in range(2):
            coefficients = np.einsum("rkn,nr->rk", Q[idx, : j + 1], w)
            w = w - np.einsum("rkn,rk->nr", Q[idx, : j + 1], coefficients)
        beta = np.linalg.norm(w, axis=0)
        # relative to the run's own scale (the largest |alpha| and beta so far): a floor of 1 made it absolute,
        # and a Hessian of norm 1e-12 stopped every run after one step (a density of spikes)
        scale = np.maximum(np.abs(alphas[idx, : j + 1]).max(axis=1), betas[idx, :j].max(axis=1, initial=0.0))
        if j + 1 == steps:
            break
        for local, run in enumerate(idx):
            if beta[local] <= 1e-10 * scale[local]:  # (0 <= 0 for H = 0: an invariant subspace at once)
                active[run] = False
                lengths[run] = j + 1
            else:
                betas[run, j] = beta[local]
                q[:, run] = w[:, local] / beta[local]
    return [(alphas[r, : lengths[r]], betas[r, : lengths[r] - 1]) for r in range(runs)]


def hessian_density(f, x=None, *, runs=8, steps=80, grid_size=1000, sigma=None, seed=0, args=(),
                    kwargs=None):
    """Eigenvalue density of the Hessian of f at x by stochastic Lanczos quadrature (SLQ).

    For each of ``runs`` random unit starting vectors v (Gaussian), ``steps``
    Lanczos steps on the Hessian operator give a tridiagonal T with
    eigenpairs (theta_j, u_j); v^T g(H) v ~ sum_j tau_j g(theta_j) with weights
    tau_j = u_j[0]^2. Averaging over runs, the spectral measure
    (1/n) sum_i delta(t - lambda_i) is approximated by the nodes theta with
    weights tau / runs, and each node is broadened into a Gaussian of width
    ``sigma`` (default: 1% of the spread of the nodes, at least 1e-6 times
    their largest magnitude). The grid spans the nodes with 5 sigma to spare on
    each side. The density is normalized by the trapezoid rule so it
    integrates to 1 over the grid. Cost: runs * steps HVPs, pushed ``runs`` at a time.
    Follows Ghorbani et al. 2019 and PyHessian (Yao et al. 2020).

    Returns ``SpectralDensity(grid, density, nodes, weights, sigma)``.

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> result = hd.hessian_density(lambda x: hnp.sum(x ** 2), np.ones(50), runs=2, steps=10)
    >>> float(result.grid[np.argmax(result.density)]), round(float(np.trapezoid(result.density, result.grid)), 6)
    (2.0, 1.0)
    """
    for name, value, least in (("runs", runs, 1), ("steps", steps, 1), ("grid_size", grid_size, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise ValueError(f"hessian_density: {name}={value!r} must be an integer >= {least}"
                             + (" (a density needs two grid points for its spacing)" if least == 2 else ""))
    if sigma is not None and (isinstance(sigma, (bool, str)) or not isinstance(sigma, numbers.Real) or not sigma > 0):
        raise ValueError(f"hessian_density: sigma={sigma!r} must be a positive number")
    operator = _as_operator(f, x, args, kwargs)
    steps = min(steps, operator.n)
    rng = np.random.default_rng(seed)
    tridiagonals = _lanczos(operator, rng.standard_normal((operator.n, runs)), steps)
    nodes = np.full((runs, steps), np.nan)
    weights = np.zeros((runs, steps))
    for r, (alpha, beta) in enumerate(tridiagonals):
        T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
        theta, U = np.linalg.eigh(T)
        nodes[r, : len(theta)] = theta
        weights[r, : len(theta)] = U[0] ** 2
    valid = weights > 0
    low, high = float(np.nanmin(nodes)), float(np.nanmax(nodes))
    if sigma is None:
        sigma = max(0.01 * (high - low), 1e-6 * max(abs(low), abs(high)), 1e-12)
    grid = np.linspace(low - 5 * sigma, high + 5 * sigma, grid_size)
    centres = nodes[valid]
    mass = weights[valid] / runs
    # Sum of Gaussians, one per Ritz value, in chunks of the grid to bound memory.
    density = np.zeros(grid_size)
    for start in range(0, grid_size, 256):
        part = grid[start:start + 256, None] - centres[None, :]
        density[start:start + 256] = np.exp(-0.5 * (part / sigma) ** 2) @ mass
    density /= sigma * np.sqrt(2 * np.pi)
    area = np.trapezoid(density, grid)
    density = density / area
    return SpectralDensity(grid, density, nodes, weights, float(sigma))


# ----------------------------------------------------------------- minimize

_HESSP_METHODS = {"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"}
_HESS_METHODS = {"dogleg", "trust-exact"}
_GRADIENT_FREE = {"nelder-mead", "powell", "cobyla", "cobyqa"}


class _Objective:
    """f on flat vectors with a one-point cache: scipy asks for f, jac, hessp at the same x."""

    def __init__(self, function, raveler, second_order, sharded=None):
        self.function = function
        self.sharded = sharded  # an hd.ShardedLoss: everything fans out over its shards
        self.raveler = raveler
        self.second_order = second_order
        self.x = None
        self.value = None
        self.gradient = None
        self.operator = None
        self.evaluations = 0

    def _at(self, x):
        if self.x is not None and np.array_equal(x, self.x):
            return
        x = np.array(x, dtype=np.float64)
        self.evaluations += 1
        if self.sharded is not None:
            # Value, gradient and products computed where the shards are: at each point every shard's
            # gradient is recorded once, on its worker, and the products replay it there.
            self.operator = ShardedHessianOperator(self.sharded, self.raveler.unflatten(x))
            value, gradient = self.operator.value, self.operator.gradient
        elif self.second_order:
            operator = HessianOperator(lambda flat: self.function(self.raveler.unflatten(flat)), x)
            self.operator = operator
            value, gradient = operator.value, operator.gradient
        else:
            value, gradient = value_and_grad(lambda flat: self.function(self.raveler.unflatten(flat)))(x)
        self.value = float(np.asarray(value).reshape(()))
        self.gradient = np.asarray(gradient, dtype=np.float64)
        self.x = x

    def fun_and_jac(self, x):
        self._at(x)
        return self.value, self.gradient.copy()

    def fun(self, x):
        self._at(x)
        return self.value

    def value_only(self, x):
        """f alone, for the methods that use values only: no gradient is taken (f need not be differentiable)."""
        point = self.raveler.unflatten_value(np.array(x, dtype=np.float64), dtypes=False)  # float64, as _at's
        self.evaluations += 1
        return float(np.asarray(self.sharded(point) if self.sharded is not None else self.function(point)).reshape(()))

    def hessp(self, x, p):
        self._at(x)
        return np.asarray(self.operator.matvec(np.asarray(p, dtype=np.float64)), dtype=np.float64)

    def hess(self, x):
        self._at(x)
        H = self.operator.dense()
        return 0.5 * (H + H.T)  # exact up to rounding; symmetrize for the dense solvers


def _wrap_callback(callback, raveler):
    if callback is None:
        return None
    parameters = inspect.signature(callback).parameters
    if set(parameters) == {"intermediate_result"}:
        def wrapped(intermediate_result):
            import scipy.optimize as optimize  # at call time: it adds ~0.1 s to every `import hodiff`

            result = optimize.OptimizeResult(intermediate_result)
            result.x = raveler.unflatten_value(result.x)
            return callback(intermediate_result=result)

        return wrapped
    return lambda xk, *rest: callback(raveler.unflatten_value(xk), *rest)


_SPARSE_HESS_METHODS = {"newton-cg", "trust-constr"}  # scipy's methods whose hess may return a sparse matrix


def _check_hessian_option(hessian, sparsity, key, method):
    if hessian not in ("auto", "sparse"):
        raise ValueError(f"hodiff.minimize: hessian={hessian!r}; choose 'auto' (Hessian-vector products, or the "
                         "dense Hessian for dogleg/trust-exact) or 'sparse' (hd.sparse_hessian)")
    if hessian == "sparse" and key not in _SPARSE_HESS_METHODS:
        raise ValueError(f"hodiff.minimize: hessian='sparse' needs a method whose hess may be a scipy.sparse "
                         f"matrix: 'Newton-CG' or 'trust-constr'; scipy's {method!r} "
                         + ("needs a dense array" if key in _HESS_METHODS or key in {"trust-ncg", "trust-krylov"}
                            else "uses no Hessian") + "; use hessian='auto' with it")
    if sparsity is not None and hessian != "sparse":
        raise ValueError("hodiff.minimize: sparsity= is the pattern of the sparse Hessian; pass it with "
                         "hessian='sparse'")


def _sparse_hess(closed, raveler, x0_flat, sparsity):
    """scipy's hess: x (n,) -> the (n, n) csr_array of hd.sparse_hessian over the flat vector, the pattern
    found here once (at x0) and reused at every x."""
    from .transforms import sparse as _sparse
    from .transforms import sparsity as _sparsity

    def flat_f(vector):
        return closed(raveler.unflatten(vector))

    if sparsity is None:
        try:
            sparsity = _sparsity.hessian_sparsity(flat_f)(x0_flat)
        except TypeError as error:
            raise TypeError(
                "hodiff.minimize(hessian='sparse'): the Hessian's sparsity pattern cannot be detected for this "
                f"function ({error}). Pass sparsity= (the (n, n) pattern over the flat x, scipy.sparse or dense "
                "boolean), write the branch with hnp.where, or use hessian='auto' (Hessian-vector products "
                "need no pattern)") from error
    hess = _sparse.sparse_hessian(flat_f, sparsity=sparsity)
    return lambda x: hess(np.asarray(x, dtype=np.float64))


def minimize(f, x0, method="trust-krylov", *, args=(), kwargs=None, callback=None, hessian="auto", sparsity=None,
             **options):
    """``scipy.optimize.minimize`` with hodiff's exact derivatives; x0 may be a pytree.

    f(x, *args, **kwargs) returns a scalar. hodiff supplies what ``method`` can use
    (``hessian="auto"``, the default):
    - "Newton-CG", "trust-ncg", "trust-krylov" (default), "trust-constr": ``jac`` and
      ``hessp`` (exact Hessian-vector products from one recorded gradient per point);
    - "dogleg", "trust-exact": ``jac`` and the dense ``hess`` (from batched HVPs);
    - "CG", "BFGS", "L-BFGS-B", "TNC", "SLSQP" and others: ``jac`` only;
    - "Nelder-Mead", "Powell", "COBYLA", "COBYQA": nothing (they use values only).

    ``hessian="sparse"`` (methods "Newton-CG" and "trust-constr", the scipy methods whose
    ``hess`` may return a sparse matrix; scipy's trust-ncg, trust-krylov, dogleg and
    trust-exact need a dense array): ``jac`` and ``hess`` as the (n, n)
    ``scipy.sparse.csr_array`` of ``hd.sparse_hessian`` over the flat vector, one HVP per
    colour of a star colouring. The pattern is found once per call of ``minimize`` (by
    ``hd.hessian_sparsity`` at x0, or given as ``sparsity``: an (n, n) scipy.sparse or dense
    boolean pattern over the flat vector) and reused at every iteration. A function with
    value-dependent control flow (``if x[0] > 0``, ``float(x)``) has no detectable pattern:
    that is a ``TypeError`` saying to pass ``sparsity=`` or use ``hessian="auto"``.
    Other keyword arguments (``bounds``, ``constraints``, ``tol``, ``options`` ...)
    go to scipy unchanged; bounds and constraints act on the flat vector
    (leaves of x0 in ``hd.tree_flatten`` order, raveled in C order). ``callback``
    receives x as a pytree like x0 (or ``intermediate_result`` with ``.x`` so).
    The work is in float64 (as scipy's).

    f may be an ``hd.ShardedLoss``: then the value, gradient and Hessian products at each
    point are computed where the shards are (on its executor's workers, summed here).

    Returns scipy's ``OptimizeResult`` with ``x`` (and ``jac``) as pytrees like x0
    (leaf shapes and dtypes of x0), plus ``x_flat``.

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> rosen = lambda p: (1 - p["a"]) ** 2 + 100 * (p["b"] - p["a"] ** 2) ** 2
    >>> result = hd.minimize(rosen, {"a": np.array(-1.2), "b": np.array(1.0)}, method="trust-ncg")
    >>> bool(result.success), round(float(result.x["a"]), 5), round(float(result.x["b"]), 5)
    (True, 1.0, 1.0)
    """
    for supplied in ("jac", "hess", "hessp"):
        if supplied in options:
            raise TypeError(f"hodiff.minimize supplies {supplied} itself (exactly); do not pass {supplied}=")
    if not isinstance(method, str):
        raise TypeError(f"hodiff.minimize: method must be a scipy method name, got {method!r}")
    key = method.lower()
    _check_hessian_option(hessian, sparsity, key, method)
    from .distributed import ShardedLoss
    sharded = f if isinstance(f, ShardedLoss) else None
    if sharded is not None and (args or kwargs or hessian == "sparse"):
        raise TypeError("hodiff.minimize: an hd.ShardedLoss takes the parameters only (no args=/kwargs=) and "
                        "fans its products out; hessian='sparse' is not available on it (use hessian='auto')")
    if isinstance(x0, (list, tuple)) and x0 and all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                                                   for v in x0):
        x0 = np.asarray(x0, dtype=float)  # scipy's x0 = [1.0, 2.0] is an array, not a pytree of two scalars
    raveler = _Raveler(x0, "minimize")
    closed = _closed(f, args, kwargs)
    second_order = hessian == "auto" and (key in _HESSP_METHODS or key in _HESS_METHODS)
    objective = _Objective(closed, raveler, second_order, sharded)
    x0_flat = raveler.flatten_value(x0).astype(np.float64)
    scipy_arguments = dict(options)
    if key in _GRADIENT_FREE:
        fun = objective.value_only
    else:
        fun = objective.fun_and_jac
        scipy_arguments["jac"] = True
    if hessian == "sparse":
        scipy_arguments["hess"] = _sparse_hess(closed, raveler, x0_flat, sparsity)
    elif key in _HESSP_METHODS:
        scipy_arguments["hessp"] = objective.hessp
    elif key in _HESS_METHODS:
        scipy_arguments["hess"] = objective.hess
    import scipy.optimize as optimize  # at call time: it adds ~0.1 s to every `import hodiff`

    result = optimize.minimize(fun, x0_flat, method=method, callback=_wrap_callback(callback, raveler),
                               **scipy_arguments)
    result.x_flat = np.asarray(result.x)
    result.x = raveler.unflatten_value(result.x)
    for name in ("jac", "grad"):  # trust-constr calls the gradient "grad"
        if name in result and np.shape(result[name]) == (raveler.size,):
            result[name] = raveler.unflatten_value(result[name])
    return result


# ----------------------------------------------------------------- Gauss-Newton

def ggn_vp(model, loss, params, v):
    """Generalized Gauss-Newton product G v = J^T H_loss J v (Schraudolph 2002).

    model:  params -> outputs z (an array or pytree), e.g. the logits of a batch
    loss:   z -> scalar, e.g. mean cross-entropy of the logits against fixed labels
    params, v: pytrees of the same structure and shapes
    J is the Jacobian of the model at params and H_loss the Hessian of the loss
    in z. G drops the term of the Hessian of f = loss(model(params)) that
    involves the model's second derivatives, so for a convex loss (squared
    error, cross-entropy on logits) G is positive semidefinite, and for a
    linear model G equals the Hessian. Cost: one jvp through the model, one
    Hessian-vector product of the loss (in z, usually cheap), one vjp.
    Returns G v with the structure of params.

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> model = lambda w: hnp.tensordot(A, w, axes=1)
    >>> loss = lambda z: 0.5 * hnp.sum(z ** 2)           # H_loss = I, so G = A^T A
    >>> hd.ggn_vp(model, loss, np.zeros(2), np.array([1.0, 0.0]))
    array([10., 14.])
    """
    outputs, jacobian_v = jvp(model, (params,), (v,))
    loss_hvp = jvp(grad(loss), (outputs,), (jacobian_v,))[1]
    outputs_again, vjp_fn = vjp(model, params)
    return vjp_fn(loss_hvp)[0]


class GGNOperator(FlatOperator):
    """J^T H_loss J at params as a ``FlatOperator`` (build it with ``hd.ggn_operator``).

    Attributes besides FlatOperator's, computed on first use: ``value`` loss(model(params)) and
    ``gradient`` J^T dloss/dz, its gradient in params as a flat vector (n,).
    """

    replay = True

    def __init__(self, model, loss, params):
        raveler = _Raveler(params, "ggn_operator")
        params = raveler.unflatten_value(raveler.flatten_value(params).astype(raveler.dtype), dtypes=False)
        # Record the model once for J v (forward replay) and once for J^T u (backward pass),
        # and the loss's gradient once for H_loss products.
        self._outputs, self._model_jvp = linearize(model, params)
        _, self._model_vjp = vjp(model, params)
        self._loss_gradient, self._loss_hvp = linearize(grad(loss), self._outputs)
        self._loss = loss
        self._setup(raveler)

    @functools.cached_property
    def value(self):
        return self._loss(self._outputs)

    @functools.cached_property
    def gradient(self):
        return self._raveler.flatten_value(self._model_vjp(self._loss_gradient)[0])

    def _product(self, tree):
        return self._model_vjp(self._loss_hvp(self._model_jvp(tree)))[0]


def ggn_operator(model, loss, params, *, shards=None, executor=None):
    """The Gauss-Newton matrix J^T H_loss J at params as a scipy ``LinearOperator`` (n, n).

    Same maths as ``ggn_vp``, but the model and the loss gradient are recorded
    once, so each product replays them (a forward sweep, a loss HVP and a
    backward pass) without re-running the model. Flat layout as
    ``hessian_operator``; ``flatten``/``unflatten``/``dense`` as there.
    ``hessian_eigs``, ``hessian_trace`` and ``hessian_density`` accept it in
    place of f (then x is not needed): the GGN's spectrum, trace and density.

    With ``shards`` (a sequence of data shards), model(params, shard) -> z_k and
    loss(z_k, shard) -> scalar, and the operator is sum_k J_k^T H_k J_k: each product
    computes every shard's term where the shard is, on ``executor`` (None, a ``concurrent.futures`` executor or a
    dask ``Client``, as for ``hd.ShardedLoss``, whose machinery it uses: shards sent
    once, each worker's recordings cached at params), summed here.
    """
    if shards is None:
        if executor is not None:
            raise TypeError("ggn_operator: executor= needs shards= (the data to fan out over)")
        return GGNOperator(model, loss, params)
    from .distributed import GaussNewtonSplit, ShardedLoss
    return ShardedHessianOperator(ShardedLoss(GaussNewtonSplit(model, loss), shards, executor), params)
