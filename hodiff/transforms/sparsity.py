"""Sparsity detection (issue 15, part 1): ``jacobian_sparsity`` and ``hessian_sparsity``.

One more interpreter over the same primitives. A ``SparsityTracer`` carries,
for every entry of its value, the set of input entries it depends on: a
boolean CSR matrix ``deps`` of shape (value.size, n) (row e: the inputs entry
e of the raveled value depends on), so a banded function of 10^5 inputs costs
O(nnz) per primitive, not O(n^2). Each primitive's rule comes from its
structure class:

- elementwise (unary, or several arguments broadcast against each other): the
  union of the arguments' rows, each broadcast to the output's shape; a
  constant factor's exact zeros drop their rows (x * 0 has zero derivative);
  ``where`` with a constant condition picks rows as it picks values;
- reductions (sum, mean, max, min, prod, logsumexp with or without weights): the union over the reduced axes;
- shape ops and indexing (reshape, transpose, broadcast_to, getitem,
  concatenate, stack, take_along_axis): the primitive itself applied to an
  array of row numbers says which input entry each output entry comes from;
  their transposes (index_add, scatter_along_axis) scatter rows the same way;
- contractions (matmul, tensordot, einsum): for each traced operand, the
  output entries it meets in some term whose other factors may be nonzero (a
  constant operand's exact zeros are skipped: its value does not change with x);
- along-an-axis ops (cumsum, cumprod, sort, fft, ...): the union along the axis;
- linear algebra and every primitive without a rule here (users' primitives
  included): dense, each output entry depends on every input entry of every
  traced argument. A pattern may hold extra entries; it never misses one.

The Hessian pattern is global: each nonlinear primitive adds the pairs of
inputs its second derivative can couple (f(u) elementwise: pairs within
deps(u_k); a * b: deps(a_k) x deps(b_k); a linear primitive nothing), and the
pattern of f is the union of what the primitives added for their entries that
reach f's output (the second-order chain rule: H = sum over nodes of adjoint
times the node's second derivative pulled back through its inputs' Jacobians;
a reverse sweep over the recorded nodes finds the entries whose adjoint may be
nonzero, so sum(sin(x)[::2]) couples only the even entries).
Piecewise-linear primitives (abs of a real value, maximum, relu, sort, ...)
add nothing: their second derivative is zero wherever it exists, as every
hodiff mode computes it.

Patterns are global (x-independent): values are computed (for shapes and
dtypes) but never read, so a value-dependent decision (``if x > 0``, an index
computed from x, ``float(x)``) raises a ``TypeError`` saying so.
"""

import math

import numpy as np
import scipy.sparse as sp

from ..core.errors import TracedConversionError
from ..core.trace import Trace, Tracer, bind, registry
from ..core.tree import tree_flatten
from ..primitives.rules import dtype_of, shape_of
from ._args import check_differentiable, normalize_argnums

__all__ = ["jacobian_sparsity", "hessian_sparsity", "SparsityTrace", "SparsityTracer"]

_VALUE_MESSAGE = (
    "{what} of a value traced by sparsity detection: the pattern is global (the same for every x), so "
    "the function may not branch, index or convert on values of x (no value-dependent control flow). "
    "Write the branch with hnp.where(cond, a, b), or ask for the pattern at this x only with local=True "
    "(which may branch and index on comparisons and other bool or integer values)")
_LOCAL_VALUE_MESSAGE = (
    "{what} of a float value traced by local sparsity detection: a local pattern may branch and index "
    "on bool or integer values (comparisons, argmax), but a float taken out of the trace would carry on "
    "without its dependence on x and the pattern would miss entries; keep it an array (hnp operations)")


def _value_error(what, local=False):
    return TracedConversionError((_LOCAL_VALUE_MESSAGE if local else _VALUE_MESSAGE).format(what=what))


# ================================================================ boolean CSR helpers
# Every deps matrix is a scipy.sparse.csr_array of dtype bool, one row per entry of the raveled value.

def _csr(indptr, indices, shape):
    return sp.csr_array((np.ones(len(indices), dtype=bool), indices, indptr), shape=shape)


def _empty(rows, n):
    return sp.csr_array((rows, n), dtype=bool)


def _gather(deps, rows):
    """Rows ``rows`` of deps (an int array; -1 gives an empty row), as a new CSR."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    count = rows.shape[0]
    n = deps.shape[1]
    if count == 0:
        return _empty(0, n)
    first, last = rows[0], rows[-1]
    if first >= 0 and last - first == count - 1 and (count == 1 or bool(np.all(np.diff(rows) == 1))):
        if first == 0 and count == deps.shape[0]:
            return deps
        indptr = deps.indptr[first:last + 2]
        start = indptr[0]
        return _csr(indptr - start, deps.indices[start:indptr[-1]], (count, n))
    valid = rows >= 0
    lengths = np.diff(deps.indptr)
    width = int(lengths[0]) if lengths.size else 0
    if width and bool(valid.all()) and bool(np.all(lengths == width)):  # rows of one length: a 2-D gather
        start = deps.indptr[0]
        block = deps.indices[start:start + width * deps.shape[0]].reshape(-1, width)
        indptr = np.arange(count + 1, dtype=np.int64 if count * width >= 2 ** 31 else np.int32) * width
        return _csr(indptr, block[rows].reshape(-1), (count, n))
    safe = np.where(valid, rows, 0)
    starts = deps.indptr[safe].astype(np.int64)
    lengths = np.where(valid, deps.indptr[safe + 1] - starts, 0)
    indptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    positions = np.arange(indptr[-1], dtype=np.int64) + np.repeat(starts - indptr[:-1], lengths)
    return _csr(indptr, deps.indices[positions], (count, n))


def _union(matrices):
    """Row-wise union of deps matrices of the same shape."""
    matrices = [m for m in matrices if m.nnz] or matrices[:1]
    out = matrices[0]
    for m in matrices[1:]:
        out = out + m
    return out


def _all_rows(deps):
    """The union of all rows: a (1, n) deps matrix."""
    present = np.zeros(deps.shape[1], dtype=bool)
    present[deps.indices] = True
    columns = np.flatnonzero(present)
    return _csr(np.array([0, len(columns)]), columns, (1, deps.shape[1]))


def _group_union(deps, groups, count):
    """(count, n): row g is the union of the rows r of deps with groups[r] == g."""
    if count == 1:
        return _all_rows(deps)
    groups = np.asarray(groups, dtype=np.int64).reshape(-1)
    grouping = sp.csr_array((np.ones(len(groups), dtype=bool), (groups, np.arange(len(groups)))),
                            shape=(count, len(groups)))
    return _linear_map(grouping, deps)


def _linear_map(pattern, deps):
    """pattern @ deps for a boolean (rows_out, rows_in) pattern: row o is the union of rows i with pattern[o, i]."""
    out = pattern @ deps
    return out if out.dtype == bool else out.astype(bool)


def _stack_rows(matrices, n):
    """The rows of several deps matrices one after another, as one CSR (no format checks: all are valid)."""
    if len(matrices) == 1:
        return matrices[0]
    offsets = np.cumsum([0] + [m.nnz for m in matrices[:-1]])
    indptr = np.concatenate([[0]] + [m.indptr[1:] - m.indptr[0] + offset for m, offset in zip(matrices, offsets)])
    indices = np.concatenate([m.indices[m.indptr[0]:m.indptr[-1]] for m in matrices])
    return _csr(indptr, indices, (len(indptr) - 1, n))


def _pairs_matrix(pairs, n):
    """The symmetric (n, n) pattern holding (p, q) and (q, p) for p in row k of a and q in row k of b, for
    every (a, b) in pairs (deps matrices with as many rows as each other).

    That is the boolean sum over pairs of a^T b, so it is one sparse product of the stacked rows: scipy's
    product merges the duplicate pairs as it goes (a tridiagonal chain's 10^5 inputs: ~10 ms, against ~35 ms
    for listing every pair and sorting them). A pair (a, a) already gives a symmetric a^T a; a pair (a, b)
    is stacked both ways round so that the product comes out symmetric without adding its transpose.
    """
    if not pairs:
        return _empty(n, n)
    left = [a for a, b in pairs] + [b for a, b in pairs if b is not a]
    right = [b for a, b in pairs] + [a for a, b in pairs if b is not a]
    left, right = _stack_rows(left, n), _stack_rows(right, n)
    product = sp.csr_array(left.T) @ right
    return product if product.dtype == bool else product.astype(bool)


def _flat_index(shape):
    return np.arange(math.prod(shape), dtype=np.int64).reshape(shape)


def _broadcast(deps, shape, out_shape):
    if tuple(shape) == tuple(out_shape):
        return deps
    return _gather(deps, np.broadcast_to(_flat_index(shape), out_shape).reshape(-1))


def _size(shape):
    return math.prod(shape)  # ints of any size: no int64 overflow, and ~20x faster than np.prod on a tuple


# ================================================================ the tracer and the trace

class _Node:
    """One traced value for the Hessian pattern: the nodes it was computed from, with a map per parent from
    the live entries of this value to the parent's entries whose derivative reaches them, and the pairs
    its primitive's second derivative may couple (see ``_second_order``)."""

    __slots__ = ("sequence", "size", "parents", "maps", "pairs")

    def __init__(self, sequence, size, parents, maps, pairs):
        self.sequence = sequence  # creation order: a topological order of the graph
        self.size = size
        self.parents = parents
        self.maps = maps
        self.pairs = pairs


# Liveness maps: a bool array over a value's entries -> a bool array over an argument's entries.

def _same_map(live):
    return live


def _gather_map(rows, in_size):
    """out entry o comes from argument entry rows[o] (-1: from none)."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)

    def live_in(live):
        out = np.zeros(in_size, dtype=bool)
        chosen = rows[live]
        out[chosen[chosen >= 0]] = True
        return out

    return live_in


def _groups_map(groups):
    """argument entry e goes into out entry groups[e] (a reduction)."""
    groups = np.asarray(groups, dtype=np.int64).reshape(-1)
    return lambda live: live[groups]


def _matrix_map(pattern):
    """pattern: (out_size, in_size) bool; an argument entry is live when a live out entry depends on it."""
    transposed = sp.csr_array(pattern.T)
    return lambda live: (transposed @ live.astype(np.float64)) > 0


def _all_map(in_size):
    return lambda live: np.full(in_size, bool(live.any()))


class SparsityTracer(Tracer):
    """A value (computed, never read) and its dependency pattern ``deps``: CSR bool (size, n)."""

    __slots__ = ("_value", "deps", "node")

    def __init__(self, value, deps, node, trace):
        self._trace = trace
        self._value = value
        self.deps = deps
        self.node = node

    def _read(self, what, convert):
        """A local pattern may branch and index on a bool or integer value (no derivative flows through
        one); everything else, and a global pattern always, refuses (see _VALUE_MESSAGE)."""
        if self._trace.local and (self.dtype == bool or np.issubdtype(self.dtype, np.integer)):
            return convert(self._value)
        raise _value_error(what, self._trace.local)

    @property
    def primal(self):
        return self._read("reading the value", lambda value: value)

    @property
    def shape(self):
        return tuple(shape_of(self._value))

    @property
    def dtype(self):
        return np.dtype(dtype_of(self._value))

    def __bool__(self):
        return self._read("bool()", bool)

    def __float__(self):
        raise _value_error("float()", self._trace.local)

    def __int__(self):
        return self._read("int()", int)

    def __complex__(self):
        raise _value_error("complex()", self._trace.local)

    def __index__(self):
        return self._read("using as an index or size", lambda value: np.asarray(value).__index__())

    def item(self, *args):
        return self._read(".item()", lambda value: np.asarray(value).item(*args))

    def __array__(self, dtype=None, copy=None):
        return self._read("converting to a numpy array (np.asarray, an index array, plain numpy code)",
                          lambda value: np.asarray(value, dtype=dtype))

    def __repr__(self):
        return f"SparsityTracer(shape={self.shape}, nnz={self.deps.nnz})"


class SparsityTrace(Trace):
    kind = "sparsity-detection"
    maps_nondiff = True  # comparisons and argsort come here: their answers are x-dependent values
    __slots__ = ("n", "hessian", "local", "nodes")

    def __init__(self, n, hessian=False, local=False, level=None):
        super().__init__(level)
        self.n = n
        self.hessian = hessian
        self.local = local  # the pattern at this x only: rules may read values (see _Step.known)
        self.nodes = 0  # nodes made so far (Hessian patterns only)

    def root(self, size):
        self.nodes += 1
        return _Node(self.nodes, size, (), (), None) if self.hessian else None

    def process(self, primitive, args, params):
        traced = [i for i, a in enumerate(args) if isinstance(a, SparsityTracer) and a._trace is self]
        values = tuple(a._value if i in traced else a for i, a in enumerate(args))
        ans = bind(primitive, values, params)
        if isinstance(ans, (tuple, list)):  # pragma: no cover - every hodiff primitive returns one array
            raise TypeError(f"sparsity detection: primitive '{primitive.name}' returned several arrays")
        out_shape = tuple(shape_of(ans))
        if not primitive.differentiable:
            if self.local and not isinstance(ans, Tracer):
                return ans  # a comparison, argmax, ...: no derivative, and for a local pattern a plain value
            return SparsityTracer(ans, _empty(_size(out_shape), self.n), None, self)
        rule = _rule_for(primitive)
        step = _Step(self, primitive, args, traced, values, ans, out_shape, params)
        try:
            deps, pairs = rule(step)
        except TracedConversionError:
            raise
        except Exception as error:
            error.add_note(f"(in the sparsity rule of primitive '{primitive.name}')")
            raise
        node = None
        if self.hessian:
            parents, maps = [], []
            for i in traced:
                if args[i].node is not None:
                    parents.append(args[i].node)
                    maps.append(step.maps.get(i) or _all_map(args[i].node.size))
            if parents:
                self.nodes += 1
                node = _Node(self.nodes, step.out_size, tuple(parents), tuple(maps), pairs or None)
        return SparsityTracer(ans, deps, node, self)


class _Step:
    """One primitive application: what the rules read."""

    __slots__ = ("trace", "primitive", "args", "traced", "values", "ans", "out_shape", "params", "maps")

    def __init__(self, trace, primitive, args, traced, values, ans, out_shape, params):
        self.maps = {}  # argnum -> liveness map (see _Node); a traced argument without one: every entry
        self.trace = trace
        self.primitive = primitive
        self.args = args
        self.traced = traced
        self.values = values
        self.ans = ans
        self.out_shape = out_shape
        self.params = params

    @property
    def out_size(self):
        return _size(self.out_shape)

    def shape(self, i):
        return tuple(shape_of(self.values[i]))

    def deps(self, i):
        return self.args[i].deps

    def constant(self, i):
        """Argument i's value when it is a plain constant (not traced by any transform), else None."""
        value = self.values[i]
        return None if i in self.traced or isinstance(value, Tracer) else value

    def known(self, i):
        """Argument i's value when the pattern may use it: a constant's, or for a local pattern a value
        traced here (not also by an outer transform); else None."""
        if i in self.traced and self.trace.local and not isinstance(self.values[i], Tracer):
            return self.values[i]
        return self.constant(i)


# ================================================================ rules by structure class

def _dense(step, linear_in=()):
    """Every output entry depends on every input entry of every traced argument.

    Second order: all pairs, except between two entries of arguments the primitive is linear in
    (solve(a, b) couples a with a and a with b, never b with b).
    """
    unions = {i: _all_rows(step.deps(i)) for i in step.traced}
    union = _all_rows(_union(list(unions.values())))
    deps = _gather(union, np.zeros(step.out_size, dtype=np.int64))
    nonlinear = [i for i in step.traced if i not in linear_in]
    if not nonlinear:
        return deps, []
    other = _all_rows(_union([unions[i] for i in nonlinear]))
    return deps, [(other, union, None)]


def _elementwise(kind):
    def rule(step):
        out_shape = step.out_shape
        rows, sources = {}, {}
        for i in step.traced:
            shape = step.shape(i)
            if shape == out_shape:
                rows[i], sources[i] = step.deps(i), None
            else:
                sources[i] = np.broadcast_to(_flat_index(shape), out_shape).reshape(-1)
                rows[i] = _gather(step.deps(i), sources[i])
        if kind == "where" and step.known(0) is not None:
            return _where_constant(step, rows, sources), []
        pair_rows = rows
        if kind == "multilinear":
            # A constant zero factor makes the product identically zero there: no first or second order.
            # A traced factor zero at this x (local patterns) zeroes the others' first order only: the
            # product's cross second derivative does not depend on the values.
            rows = pair_rows = _drop_zero_factors(step, rows, sources, step.constant)
            if step.trace.local:
                rows = _drop_zero_factors(step, rows, sources, step.known)
        if kind == "piecewise" and step.trace.local:
            rows = _drop_unused_branches(step, rows)
        if step.trace.hessian:
            for i in step.traced:
                step.maps[i] = _same_map if sources[i] is None else _gather_map(sources[i], _size(step.shape(i)))
        deps = _union(list(rows.values()))
        if kind in ("linear", "piecewise", "where"):
            return deps, []
        if kind == "absolute":
            return deps, ([] if not np.issubdtype(step.dtype_in(), np.complexfloating) else [(deps, deps)])
        if kind == "multilinear":
            traced = step.traced
            return deps, [(pair_rows[i], pair_rows[j]) for a, i in enumerate(traced) for j in traced[a + 1:]]
        if kind == "divide":
            pairs = []
            if 1 in rows:
                pairs.append((rows[1], rows[1]))
                if 0 in rows:
                    pairs.append((rows[0], rows[1]))
            return deps, pairs
        return deps, [(deps, deps)]

    return rule


def _dtype_in(step):
    return np.result_type(*[dtype_of(step.values[i]) for i in step.traced])


_Step.dtype_in = _dtype_in


def _drop_zero_factors(step, rows, sources, value_of):
    """A factor's derivative in a product is the product of the others: exactly zero where one of them,
    as ``value_of(i)`` gives it (None: unknown), is zero."""
    values = [value_of(i) for i in range(len(step.values))]
    zeros = [None if v is None else np.broadcast_to(np.asarray(v) == 0, step.out_shape) for v in values]
    if not any(z is not None and z.any() for z in zeros):
        return rows
    kept = {}
    for i in rows:
        others = [z for j, z in enumerate(zeros) if j != i and z is not None]
        keep = ~np.logical_or.reduce(others).reshape(-1) if others else None
        if keep is None or keep.all():
            kept[i] = rows[i]
            continue
        sources[i] = np.where(keep, np.arange(step.out_size) if sources[i] is None else sources[i], -1)
        kept[i] = _gather(rows[i], np.where(keep, np.arange(step.out_size), -1))
    return kept


# The side a piecewise primitive takes at x (local patterns): (arity, used), argument i's derivative being
# zero where used(*values)[i] is False. Ties and NaNs keep both sides (hodiff shares the gradient at a tie).
_BRANCHES = {
    "relu": (1, lambda u: [~(u < 0)]),
    **{name: (2, lambda a, b: [~(a < b), ~(b < a)]) for name in ("maximum", "fmax")},
    **{name: (2, lambda a, b: [~(a > b), ~(b > a)]) for name in ("minimum", "fmin")},
}


def _drop_unused_branches(step, rows):
    arity, used_by = _BRANCHES.get(step.primitive.name, (None, None))
    values = [step.known(i) for i in range(len(step.values))]
    if used_by is None or len(values) != arity or any(v is None for v in values):
        return rows
    used = used_by(*[np.asarray(v) for v in values])
    index = np.arange(step.out_size)
    return {i: _gather(m, np.where(np.broadcast_to(used[i], step.out_shape).reshape(-1), index, -1))
            for i, m in rows.items()}


def _where_constant(step, rows, sources):
    condition = np.broadcast_to(np.asarray(step.known(0), dtype=bool), step.out_shape).reshape(-1)
    n = step.trace.n
    if step.trace.hessian:
        positions = np.arange(step.out_size)
        for i, chosen in ((1, condition), (2, ~condition)):
            if i in rows:
                source = positions if sources[i] is None else sources[i]
                step.maps[i] = _gather_map(np.where(chosen, source, -1), _size(step.shape(i)))
    x_rows = rows.get(1, _empty(step.out_size, n))
    y_rows = rows.get(2, _empty(step.out_size, n))
    stacked = sp.vstack([x_rows, y_rows], format="csr")
    positions = np.arange(step.out_size)
    return _gather(stacked, np.where(condition, positions, positions + step.out_size))


def _index_map(static=()):
    """Shape ops and gathers: the primitive on row numbers says where each output entry comes from."""

    def rule(step):
        pieces, offset, index_args, offsets = [], 0, [], {}
        for i, value in enumerate(step.values):
            if i in static:
                if isinstance(step.args[i], Tracer) and step.known(i) is None:
                    raise _value_error(f"an index argument of '{step.primitive.name}' computed from x")
                index_args.append(value)
                continue
            shape = step.shape(i)
            if i in step.traced:
                index_args.append(_flat_index(shape) + offset)
                pieces.append(step.deps(i))
                offsets[i] = offset
                offset += _size(shape)
            else:
                index_args.append(np.full(shape, -1, dtype=np.int64))
        rows = np.asarray(step.primitive.impl(*index_args, **step.params)).reshape(-1)
        source = pieces[0] if len(pieces) == 1 else sp.vstack(pieces, format="csr")
        if step.trace.hessian:
            for i, start in offsets.items():
                size = _size(step.shape(i))
                mine = (rows >= start) & (rows < start + size)
                step.maps[i] = _gather_map(np.where(mine, rows - start, -1), size)
        return _gather(source, rows), []

    return rule


def _scatter(positions_of):
    """Transposes of gathers (index_add, scatter_along_axis): each g entry is added at one output position."""

    def rule(step):
        if len(step.args) > 1 and isinstance(step.args[1], Tracer) and step.known(1) is None:
            raise _value_error(f"an index argument of '{step.primitive.name}' computed from x")
        positions = positions_of(step)
        g_shape = step.shape(0)
        sources = np.broadcast_to(_flat_index(g_shape), positions.shape) if g_shape != positions.shape \
            else _flat_index(g_shape)
        pattern = sp.csr_array((np.ones(positions.size, dtype=bool), (positions.reshape(-1), sources.reshape(-1))),
                               shape=(step.out_size, _size(g_shape)))
        step.maps[0] = _matrix_map(pattern)
        return _linear_map(pattern, step.deps(0)), []

    return rule


def _index_add_positions(step):
    return np.asarray(_flat_index(step.params["shape"])[step.params["index"]])


def _scatter_along_axis_positions(step):
    from ..primitives.shape import _along_axis_index

    shape = tuple(step.params["shape"])
    return np.asarray(_flat_index(shape)[_along_axis_index(np.asarray(step.values[1]), step.params["axis"], shape)])


def _axes_of(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % max(ndim, 1) for a in axes)) if ndim else ()


def _reduction(nonlinear=False):
    """Reductions of one argument, or of several of one shape (weighted_logsumexp's a and b)."""
    def rule(step):
        reached = []
        for i in step.traced:
            shape = step.shape(i)
            axes = _axes_of(step.params.get("axis"), len(shape))
            kept = tuple(1 if d in axes else n for d, n in enumerate(shape))
            groups = np.broadcast_to(_flat_index(kept), shape)
            reached.append(_group_union(step.deps(i), groups, step.out_size))
            step.maps[i] = _groups_map(groups)
        deps = _union(reached)
        return deps, ([(deps, deps)] if nonlinear else [])

    return rule


def _along_axes(axes_of, nonlinear=False, traced_arg=0):
    """Ops along some axes (cumsum, sort, fft): each output depends on its whole line along them."""

    def rule(step):
        if traced_arg not in step.traced:
            return _empty(step.out_size, step.trace.n), []
        shape = step.shape(traced_arg)
        axes = axes_of(step.params, len(shape))
        line = tuple(1 if d in axes else n for d, n in enumerate(shape))
        in_lines = np.broadcast_to(_flat_index(line), shape).reshape(-1)
        lines = _group_union(step.deps(traced_arg), in_lines, _size(line))
        out_line = tuple(1 if d in axes else n for d, n in enumerate(step.out_shape))
        if out_line != line:  # pragma: no cover - these ops keep the other axes
            return _dense(step)
        out_lines = np.broadcast_to(_flat_index(line), step.out_shape).reshape(-1)
        deps = _gather(lines, out_lines)
        count = _size(line)

        def live_lines(live):
            return np.bincount(out_lines[live], minlength=count) > 0

        step.maps[traced_arg] = lambda live: live_lines(live)[in_lines]
        return deps, ([(lines, lines, live_lines)] if nonlinear else [])

    return rule


def _none_live(size):
    return lambda live: np.zeros(size, dtype=bool)


def _of_the_first_argument(rule):
    """rule for a primitive that is a function of its first argument alone, the others values passed in (softmax's
    logsumexp): no entry of those is live through it, so their own second order adds no pairs."""
    def of_the_first(step):
        out = rule(step)
        for i in step.traced:
            if i:
                step.maps[i] = _none_live(_size(step.shape(i)))
        return out

    return of_the_first


def _axis_param(params, ndim):
    return _axes_of(params.get("axis", -1), ndim)


def _fft_axes(params, ndim):
    axes = params.get("axes")
    return tuple(range(ndim)) if axes is None else _axes_of(axes, ndim)


# ---------------------------------------------------------------- contractions, through einsum subscripts

def _letters(count, avoid=""):
    from ..primitives.contraction import letters

    return letters(count, avoid=avoid)


def _matmul_subscripts(step):
    a_shape, b_shape = step.shape(0), step.shape(1)
    a_batch = max(len(a_shape) - 2, 0)
    b_batch = max(len(b_shape) - 2, 0)
    batch = "".join(_letters(max(a_batch, b_batch), avoid="ijk"))
    a = (batch[len(batch) - a_batch:] + "ik") if len(a_shape) >= 2 else "k"
    b = (batch[len(batch) - b_batch:] + "kj") if len(b_shape) >= 2 else "k"
    out = batch + ("i" if len(a_shape) >= 2 else "") + ("j" if len(b_shape) >= 2 else "")
    return [a, b], out


def _tensordot_subscripts(step):
    from ..primitives.shape import _normalize_axes

    a_ndim, b_ndim = len(step.shape(0)), len(step.shape(1))
    a_axes, b_axes = _normalize_axes(step.params.get("axes", 2), a_ndim, b_ndim)
    names = _letters(a_ndim + b_ndim)
    a, b = names[:a_ndim], names[a_ndim:]
    for i, j in zip(a_axes, b_axes):
        b[j] = a[i]
    out = [a[i] for i in range(a_ndim) if i not in a_axes] + [b[j] for j in range(b_ndim) if j not in b_axes]
    return ["".join(a), "".join(b)], "".join(out)


def _einsum_subscripts(step):
    inputs, output = step.params["subscripts"].split("->")
    return inputs.split(","), output


def _contraction(subscripts_of):
    def rule(step):
        inputs, output = subscripts_of(step)
        shapes = [step.shape(i) for i in range(len(inputs))]
        sizes = {}
        for part, shape in zip(inputs, shapes):
            for c, n in zip(part, shape):
                if n != 1 or c not in sizes:
                    sizes[c] = n
        masks = []
        for i, (part, shape) in enumerate(zip(inputs, shapes)):
            value = step.constant(i)
            mask = np.ones(shape) if value is None or i in step.traced else (np.asarray(value) != 0).astype(float)
            masks.append(np.broadcast_to(mask, tuple(sizes[c] for c in part)))
        pieces = []
        for t in step.traced:
            pattern = _operand_pattern(t, inputs, output, shapes, masks, sizes, step.out_shape)
            step.maps[t] = _matrix_map(pattern)
            pieces.append(_linear_map(pattern, step.deps(t)))
        deps = _union(pieces)
        pairs = []
        traced = step.traced
        for a, t in enumerate(traced):
            for u in traced[a + 1:]:
                pairs.append(_cross_groups(step, t, u, inputs, shapes, sizes))
        return deps, pairs

    return rule


def _operand_pattern(t, inputs, output, shapes, masks, sizes, out_shape):
    """(out_size, size_t) bool: output entry o meets operand t's entry in a term whose other factors may be nonzero."""
    mine = inputs[t]
    wanted = set(mine) | set(output)
    others = [j for j in range(len(inputs)) if j != t]
    kept = "".join(sorted({c for j in others for c in inputs[j]} & wanted))
    if others:
        mask = np.einsum(",".join(inputs[j] for j in others) + "->" + kept, *[masks[j] for j in others]) > 0
    else:
        mask = np.ones((), dtype=bool)
    rest = "".join(sorted(wanted - set(kept)))
    nonzero = np.nonzero(mask) if kept else ()
    grid = np.indices(tuple(sizes[c] for c in rest)).reshape(len(rest), -1) if rest else np.zeros((0, 1), np.int64)
    count_nonzero, count_rest = len(nonzero[0]) if kept else int(mask), grid.shape[1]
    coordinates = {}
    for c, values in zip(kept, nonzero):
        coordinates[c] = np.repeat(values, count_rest)
    for c, values in zip(rest, grid):
        coordinates[c] = np.tile(values, count_nonzero)
    total = count_nonzero * count_rest

    def flat(part, shape):
        if not part:
            return np.zeros(total, dtype=np.int64)
        index = tuple(coordinates[c] if n != 1 else np.zeros(total, dtype=np.int64) for c, n in zip(part, shape))
        return np.ravel_multi_index(index, shape)

    rows = flat(output, out_shape)
    cols = flat(mine, shapes[t])
    return sp.csr_array((np.ones(total, dtype=bool), (rows, cols)), shape=(_size(out_shape), _size(shapes[t])))


def _cross_groups(step, t, u, inputs, shapes, sizes):
    """Operands t and u meet in a term only where they agree on their shared subscripts."""
    shared = sorted(set(inputs[t]) & set(inputs[u]))

    def groups(i):
        part, shape = inputs[i], shapes[i]
        if any(shape[part.index(c)] != sizes[c] for c in shared):
            return None  # a broadcast (size-1) axis meets every group
        coordinates = np.indices(shape).reshape(len(shape), -1) if shape else np.zeros((0, 1), dtype=np.int64)
        if not shared:
            return np.zeros(_size(shape), dtype=np.int64)
        index = tuple(coordinates[part.index(c)] for c in shared)
        return np.ravel_multi_index(index, tuple(sizes[c] for c in shared))

    gt, gu = groups(t), groups(u)
    if gt is None or gu is None:
        return _all_rows(step.deps(t)), _all_rows(step.deps(u)), None
    count = _size(tuple(sizes[c] for c in shared))
    return _group_union(step.deps(t), gt, count), _group_union(step.deps(u), gu, count), None


# ---------------------------------------------------------------- the table

_LINEAR_UNARY = ["negative", "real", "imag", "conjugate", "astype"]
_PIECEWISE = ["relu", "maximum", "minimum", "fmax", "fmin", "fmod", "remainder"]
_NONLINEAR_ELEMENTWISE = [
    "exp", "log", "sin", "cos", "tan", "tanh", "sqrt", "expit", "power", "arccos", "arccosh", "arcsin", "arcsinh",
    "arctan", "arctan2", "arctanh", "cbrt", "cosh", "sinh", "exp2", "expm1", "log10", "log1p", "log2", "logaddexp",
    "logaddexp2", "reciprocal", "square", "hypot", "angle", "digamma", "erf", "erfc", "erfcinv", "erfcx", "erfinv",
    "gamma", "gammaln", "log_expit", "log_ndtr", "logit", "ndtri", "rgamma", "beta", "betainc", "gammainc",
    "gammaincc", "iv", "ive", "jv", "yv", "polygamma", "polygamma_drop", "erfcx_derivative", "ive_derivative", "betaln",
    "softplus", "xlog1py", "xlogy", "hypot_cos",
    "sinc_derivative", "tanh_chain", "tanh_chain_tangent", "logaddexp_weight", "logaddexp2_weight", "gap_quotient",
    "gamma_log_density", "beta_log_density", "cone_root", "cone_root_slope", "logistic_density", "gamma_density",
    "beta_kernel",
]
_DENSE = [
    "adjugate", "adjugate_jvp", "cholesky", "det", "eig", "eigh", "expm", "inv", "inverse_with_poles", "lu", "pinv",
    "qr", "slogdet", "sqrtm", "svd", "series_product", "series_exp",
]
# linear algebra linear in some arguments: dense Jacobian, no Hessian pairs when only those are traced
_DENSE_LINEAR_IN = {"solve": (1,), "solve_triangular": (1,), "solve_banded": (1,), "solve_sylvester": (2,)}

_RULES_BY_NAME = {
    **{name: _elementwise("linear") for name in _LINEAR_UNARY + ["add", "subtract"]},
    **{name: _elementwise("piecewise") for name in _PIECEWISE},
    **{name: _elementwise("nonlinear") for name in _NONLINEAR_ELEMENTWISE},
    "absolute": _elementwise("absolute"),
    "multiply": _elementwise("multilinear"),
    "multiply3": _elementwise("multilinear"),
    "true_divide": _elementwise("divide"),
    "where": _elementwise("where"),
    "sum": _reduction(), "mean": _reduction(), "max": _reduction(), "min": _reduction(),
    "prod": _reduction(nonlinear=True), "logsumexp": _reduction(nonlinear=True),
    "weighted_logsumexp": _reduction(nonlinear=True),
    "reshape": _index_map(), "transpose": _index_map(), "broadcast_to": _index_map(), "getitem": _index_map(),
    "concatenate": _index_map(), "stack": _index_map(), "take_along_axis": _index_map(static=(1,)),
    "index_add": _scatter(_index_add_positions),
    "scatter_along_axis": _scatter(_scatter_along_axis_positions),
    "cumsum": _along_axes(_axis_param), "cumprod": _along_axes(_axis_param, nonlinear=True),
    "sort": _along_axes(_axis_param), "tie_mean": _along_axes(_axis_param),
    "softmax_weights": _of_the_first_argument(_along_axes(_axis_param, nonlinear=True)),
    "log_softmax": _of_the_first_argument(_along_axes(_axis_param, nonlinear=True)),
    "fft": _along_axes(_fft_axes), "rfft": _along_axes(_axis_param), "irfft": _along_axes(_axis_param),
    "matmul": _contraction(_matmul_subscripts), "tensordot": _contraction(_tensordot_subscripts),
    "einsum": _contraction(_einsum_subscripts),
    **{name: _dense for name in _DENSE},
    **{name: (lambda linear_in: lambda step: _dense(step, linear_in))(args)
       for name, args in _DENSE_LINEAR_IN.items()},
}

_rules = {}  # Primitive -> rule; users' primitives (not in the registry) are dense


def _rule_for(primitive):
    rule = _rules.get(primitive)
    if rule is None:
        known = registry.get(primitive.name) is primitive
        rule = _RULES_BY_NAME.get(primitive.name, _dense) if known else _dense
        _rules[primitive] = rule
    return rule


def classified(name):
    """Whether the registered primitive ``name`` has a sparsity rule (else it is treated as dense)."""
    primitive = registry[name]
    return not primitive.differentiable or name in _RULES_BY_NAME


# ================================================================ public transforms

def _trace_pattern(f, args, argnums, transform, hessian, local):
    (argnum,), _ = normalize_argnums(argnums, len(args), transform)
    x = args[argnum]
    check_differentiable(x, argnum, transform)
    if isinstance(x, (list, tuple, dict)):
        raise TypeError(f"{transform}: argument {argnum} must be an array or a number, got a "
                        f"{type(x).__name__}; pass np.array(x) (patterns are for one array argument)")
    if not isinstance(x, Tracer):
        x = np.asarray(x)
    n = _size(shape_of(x))
    trace = SparsityTrace(n, hessian=hessian, local=local)
    tracer = SparsityTracer(x, sp.eye_array(n, dtype=bool, format="csr"), trace.root(n), trace)
    call_args = list(args)
    call_args[argnum] = tracer
    try:
        out = f(*call_args)
    finally:
        trace.alive = False
    leaves, _ = tree_flatten(out)
    if len(leaves) != 1:
        raise TypeError(f"{transform}: f must return one array, got {len(leaves)} outputs")
    return trace, leaves[0], n


def _second_order(output):
    """The pairs the output's Hessian may hold, as (a, b) deps matrices (see ``_pairs_matrix``): a reverse
    sweep over the nodes that reach it.

    Entry e of a node is live when some output entry depends on it; a node's second-order pairs count only
    for its live entries (sin(x)[::2] couples x_0, x_2, ..., not x_1), as the adjoint of a dead entry is zero.
    """
    reachable, stack = {}, [output]
    while stack:
        node = stack.pop()
        if id(node) not in reachable:
            reachable[id(node)] = node
            stack.extend(node.parents)
    live = {id(output): np.ones(output.size, dtype=bool)}
    pairs = []
    for node in sorted(reachable.values(), key=lambda node: -node.sequence):
        mask = live.pop(id(node), None)
        if mask is None or not mask.any():
            continue
        for a, b, *select in node.pairs or ():
            rows = mask if not select else (select[0](mask) if select[0] is not None else None)
            if rows is not None and not rows.all():
                chosen = np.flatnonzero(rows)
                a, b = (_gather(a, chosen),) * 2 if b is a else (_gather(a, chosen), _gather(b, chosen))
            pairs.append((a, b))
        for parent, live_map in zip(node.parents, node.maps):
            parent_live = live_map(mask)
            key = id(parent)
            live[key] = parent_live if key not in live else live[key] | parent_live
    return pairs


def jacobian_sparsity(f, argnums=0, *, local=False):
    """Return a function giving the sparsity pattern of f's Jacobian, a scipy.sparse boolean CSR array.

    The pattern has shape (m, n) in the numerator layout: row i is the i-th
    entry of f's output raveled, column j the j-th entry of argument
    ``argnums`` raveled; entry (i, j) is True when output i may depend on input
    j for some x. Conservative: every nonzero of the Jacobian at every x is in
    the pattern (it may hold a few more). f must not branch on values of x.

    ``local=True`` gives the pattern at this x only: f may then branch and
    index on bool and integer values (``if x[0] > 0``, ``x[hnp.argmax(x)]``),
    ``where`` follows its condition, maximum/minimum/relu the side they take
    (both on a tie), and a product drops a factor's entries where another
    factor is zero at x. It holds every nonzero of the Jacobian at this x and
    lies within the global pattern; it is not a pattern for other points (do
    not give it to ``sparse_jacobian``, which reuses its pattern).

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> f = lambda x: x[1:] * x[:-1]
    >>> hd.jacobian_sparsity(f)(np.ones(4)).toarray().astype(int)
    array([[1, 1, 0, 0],
           [0, 1, 1, 0],
           [0, 0, 1, 1]])
    """

    def pattern(*args):
        trace, out, n = _trace_pattern(f, args, argnums, "jacobian_sparsity", hessian=False, local=local)
        if isinstance(out, SparsityTracer) and out._trace is trace:
            deps = out.deps
        else:
            deps = _empty(_size(shape_of(out)), n)
        deps = sp.csr_array(deps, dtype=bool)
        deps.sum_duplicates()
        return deps

    return pattern


def hessian_sparsity(f, argnums=0, *, local=False):
    """Return a function giving the sparsity pattern of scalar f's Hessian, an (n, n) symmetric bool CSR.

    Entry (i, j) is True when d^2 f / dx_i dx_j may be nonzero for some x
    (x raveled); conservative, as ``jacobian_sparsity``. A function linear in
    x has an empty pattern; a separable sum a diagonal one. ``local=True``: the
    pattern at this x only, as in ``jacobian_sparsity``.

    >>> import hodiff as hd, hodiff.numpy as hnp, numpy as np
    >>> f = lambda x: hnp.sum(hnp.sin(x)) + x[0] * x[2]
    >>> hd.hessian_sparsity(f)(np.ones(3)).toarray().astype(int)
    array([[1, 0, 1],
           [0, 1, 0],
           [1, 0, 1]])
    """

    def pattern(*args):
        trace, out, n = _trace_pattern(f, args, argnums, "hessian_sparsity", hessian=True, local=local)
        if _size(shape_of(out)) != 1:
            raise TypeError(f"hessian_sparsity: f must return a scalar, got an output of shape "
                            f"{tuple(shape_of(out))}; use jacobian_sparsity for the pattern of a vector function")
        pairs = []
        if isinstance(out, SparsityTracer) and out._trace is trace and out.node is not None:
            pairs = _second_order(out.node)
        symmetric = _pairs_matrix(pairs, n)
        symmetric.sort_indices()  # a sparse product holds no duplicates, but its rows come unsorted
        return symmetric

    return pattern
