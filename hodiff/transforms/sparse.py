"""Sparse Jacobians and Hessians by colouring (issue 15, parts 2 and 3).

For y = f(x), x in R^n (raveled), y in R^m, and a known sparsity pattern P of
the Jacobian (m x n, numerator layout):

- **column colouring** (forward mode): columns that share no row get the same
  colour (a distance-1 colouring of the column intersection graph, i.e. a
  distance-2 colouring of the bipartite row/column graph). One JVP with the
  seed s_c = sum of the unit vectors of colour c gives J s_c, whose entry i is
  J[i, j] for the one column j of colour c that row i holds.
- **row colouring** (reverse mode): the same on P^T; one VJP per row colour.
- **bidirectional** (both): the densest rows by VJPs and the columns on the
  other rows coloured for JVPs, or the densest columns by JVPs and the rows on
  the others for VJPs; J[i, j] comes from the JVP when column j's colour is
  alone in row i, else from the VJP. A dense row and a dense column (an
  arrowhead) cost 3 passes instead of n.
- **star colouring** (Hessians, Gebremedhin, Manne & Pothen 2005, SIAM Review
  47(4)): a distance-1 colouring of the adjacency graph of the symmetric
  pattern in which every path on four vertices uses at least three colours.
  One HVP per colour; each entry H[i, j] is read directly from the compressed
  product: H[i, j] = (H s_{c(j)})[i] when j is the only neighbour of i with
  colour c(j), else (H s_{c(i)})[j] (the star condition says one of the two holds).

The colourings are greedy (first fit) in a few vertex orders (natural,
largest degree first, smallest last), keeping the one with fewest colours and
stopping as soon as a structural lower bound is met. They need only numpy and
scipy; networkx's ``greedy_color`` is the reference the tests compare with.

``sparse_jacobian(f)`` and ``sparse_hessian(f)`` return functions that detect
the (global, x-independent) pattern and colour it on their first call for an
input shape and dtype, and reuse both on later calls (Newton loops).
"""

import functools
import heapq

import numpy as np
import scipy.sparse as sp

from ..core.tree import tree_flatten
from ._args import check_differentiable
from .batching import vmap
from .forward import jvp
from .hessian import hvp
from .jacobian import _MODES, _check_layout
from .reverse import vjp
from .sparsity import hessian_sparsity, jacobian_sparsity

__all__ = ["column_coloring", "row_coloring", "bidirectional_coloring", "star_coloring", "sparse_jacobian",
           "sparse_hessian"]

_ORDERS = ("natural", "dsatur", "largest_first", "smallest_last")
_MODE_ALIASES = {"forward": "fwd", "reverse": "rev"}
_MAX_SIGNATURES = 16  # input shapes/dtypes remembered per sparse_jacobian/sparse_hessian function


# ================================================================ patterns

def _as_pattern(pattern, name, transform):
    """A boolean CSR array with sorted indices and no explicit zeros, from a scipy.sparse or dense array."""
    if sp.issparse(pattern):
        matrix = sp.csr_array(pattern)
    else:
        array = np.asarray(pattern)
        if array.ndim != 2:
            raise ValueError(f"{transform}: {name} must be a 2-D scipy.sparse matrix or array, "
                             f"got an array of shape {array.shape}")
        matrix = sp.csr_array(array)
    if matrix.ndim != 2:
        raise ValueError(f"{transform}: {name} must be 2-D, got shape {matrix.shape}")
    matrix = sp.csr_array(matrix != 0, dtype=bool)
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


def _check_order(order, transform):
    if order not in _ORDERS + ("best",):
        raise ValueError(f"{transform}: order must be 'best' or one of {_ORDERS}, got {order!r}")


def _adjacency(graph):
    """The symmetric boolean graph without its diagonal (CSR, sorted indices)."""
    graph = sp.coo_array(graph)
    keep = (graph.row != graph.col) & (graph.data != 0)
    n = graph.shape[0]
    graph = sp.csr_array((np.ones(int(keep.sum()), dtype=bool), (graph.row[keep], graph.col[keep])), shape=(n, n))
    graph.sum_duplicates()
    return graph


def _orders(adjacency, order):
    """Vertex orders for first fit; "dsatur" is not an order but Brelaz's rule, run inside first fit."""
    n = adjacency.shape[0]
    degrees = np.diff(adjacency.indptr)
    wanted = _ORDERS if order == "best" else (order,)
    for name in wanted:
        if name == "natural":
            yield np.arange(n)
        elif name == "dsatur":
            yield None
        elif name == "largest_first":
            yield np.argsort(-degrees, kind="stable")
        else:
            yield _smallest_last(adjacency.indptr.tolist(), adjacency.indices.tolist(), degrees.tolist())


def _smallest_last(indptr, indices, degrees):
    """Matula & Beck's smallest-last order: repeatedly remove a vertex of least remaining degree,
    colour in the reverse order of removal (bucket queue, O(n + edges))."""
    n = len(degrees)
    degree = list(degrees)
    buckets = [set() for _ in range(max(degree, default=0) + 1)]
    for v, d in enumerate(degree):
        buckets[d].add(v)
    removed = [False] * n
    order = []
    low = 0
    for _ in range(n):
        low = max(low - 1, 0)
        while not buckets[low]:
            low += 1
        v = buckets[low].pop()
        removed[v] = True
        order.append(v)
        for w in indices[indptr[v]:indptr[v + 1]]:
            if not removed[w]:
                buckets[degree[w]].discard(w)
                degree[w] -= 1
                buckets[degree[w]].add(w)
    order.reverse()
    return np.array(order, dtype=np.int64)


def _first_fit(indptr, indices, order):
    """Greedy distance-1 colouring: each vertex in ``order`` gets the least colour none of its
    coloured neighbours has (``order`` None: DSATUR's order, see ``_saturation_order``)."""
    n = len(indptr) - 1
    colors = [-1] * n
    mark = [-1] * (n + 1)  # mark[c] == v: colour c is taken by a neighbour of v
    for v in (order.tolist() if order is not None else _saturation_order(indptr, indices, colors)):
        for w in indices[indptr[v]:indptr[v + 1]]:
            c = colors[w]
            if c >= 0:
                mark[c] = v
        c = 0
        while mark[c] == v:
            c += 1
        colors[v] = c
    return colors


def _saturation_order(indptr, indices, colors):
    """Brelaz's DSATUR order, yielded one vertex at a time while the caller colours ``colors`` in place:
    next is the uncoloured vertex with the most distinct colours among its neighbours, ties broken by
    the larger degree, then the smaller index (a heap with lazy deletion)."""
    n = len(indptr) - 1
    seen = [set() for _ in range(n)]
    heap = [(0, indptr[v] - indptr[v + 1], v) for v in range(n)]
    heapq.heapify(heap)
    while heap:
        saturation, _, v = heapq.heappop(heap)
        if colors[v] >= 0 or -saturation != len(seen[v]):
            continue  # coloured already, or a stale entry
        yield v
        c = colors[v]
        for w in indices[indptr[v]:indptr[v + 1]]:
            if colors[w] < 0 and c not in seen[w]:
                seen[w].add(c)
                heapq.heappush(heap, (-len(seen[w]), indptr[w] - indptr[w + 1], w))


def _best(adjacency, order, lower_bound, colour_in):
    indptr, indices = adjacency.indptr.tolist(), adjacency.indices.tolist()
    best = None
    for vertex_order in _orders(adjacency, order):
        colors = colour_in(indptr, indices, vertex_order)
        if best is None or max(colors, default=-1) < max(best, default=-1):
            best = colors
        if max(best, default=-1) + 1 <= lower_bound:
            break
    return np.asarray(best, dtype=np.int64)


def column_coloring(pattern, *, order="best"):
    """Colours of the columns of a Jacobian pattern: columns sharing a row get different colours.

    ``pattern``: the (m, n) sparsity of J (scipy.sparse or a dense boolean
    array, numerator layout). Returns an int array of n colours 0..p-1; one
    JVP per colour recovers J. ``order``: ``"natural"``, ``"dsatur"`` (Brelaz),
    ``"largest_first"``, ``"smallest_last"`` or ``"best"`` (each in that order,
    fewest colours kept; it stops early at the lower bound, the most nonzeros
    in a row).

    >>> import numpy as np, scipy.sparse as sp, hodiff as hd
    >>> tridiagonal = sp.diags_array([1, 1, 1], offsets=[-1, 0, 1], shape=(6, 6), dtype=bool)
    >>> hd.column_coloring(tridiagonal)
    array([0, 1, 2, 0, 1, 2])
    """
    _check_order(order, "column_coloring")
    pattern = _as_pattern(pattern, "pattern", "column_coloring")
    lower_bound = int(np.diff(pattern.indptr).max(initial=0))
    if lower_bound == pattern.shape[1]:  # a full row: every column its own colour (no n^2 graph to build)
        return np.arange(pattern.shape[1], dtype=np.int64)
    counts = pattern.astype(np.int32)
    graph = _adjacency(counts.T @ counts)  # columns that share a row
    return _best(graph, order, lower_bound, _first_fit)


def row_coloring(pattern, *, order="best"):
    """Colours of the rows of a Jacobian pattern (m, n): rows sharing a column get different colours;
    one VJP per colour recovers J. ``order`` as in ``column_coloring``.

    >>> import numpy as np, hodiff as hd
    >>> hd.row_coloring(np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]]))
    array([0, 1, 0])
    """
    _check_order(order, "row_coloring")
    pattern = _as_pattern(pattern, "pattern", "row_coloring")
    return column_coloring(pattern.T, order=order)


_SPLITS = 4  # splits tried per side by bidirectional_coloring: at the largest distinct row (column) counts


def _uncoloured(size):
    return np.full(size, -1, dtype=np.int64)


def _split(pattern, by_rows, order):
    """The rows where ``by_rows`` from VJPs (a row colouring of those rows), the others from JVPs (a
    column colouring of the columns on them): (column_colors, row_colors), -1 where nothing is seeded."""
    m, n = pattern.shape
    column_colors, row_colors = _uncoloured(n), _uncoloured(m)
    jvp_rows, vjp_rows = np.flatnonzero(~by_rows), np.flatnonzero(by_rows)
    if jvp_rows.size:
        part = pattern[jvp_rows]
        used = np.zeros(n, dtype=bool)
        used[part.indices] = True
        column_colors[used] = column_coloring(part, order=order)[used]
    if vjp_rows.size:
        part = pattern[vjp_rows]
        has_entries = np.diff(part.indptr) > 0
        row_colors[vjp_rows[has_entries]] = row_coloring(part, order=order)[has_entries]
    return column_colors, row_colors


def _passes(column_colors, row_colors):
    return int(column_colors.max(initial=-1)) + 1 + int(row_colors.max(initial=-1)) + 1


def _split_bound(pattern, by_rows):
    """A lower bound on _split's passes: the most nonzeros in a JVP row plus the most VJP rows in a column."""
    counts = np.diff(pattern.indptr)
    jvp_rows = counts[~by_rows].max(initial=0)
    vjp_part = pattern[np.flatnonzero(by_rows)]
    vjp_rows = np.bincount(vjp_part.indices, minlength=pattern.shape[1]).max(initial=0) if vjp_part.nnz else 0
    return int(jvp_rows) + int(vjp_rows)


def bidirectional_coloring(pattern, *, order="best"):
    """Colours to recover a Jacobian pattern (m, n) with JVPs and VJPs together: (column_colors, row_colors).

    Int arrays of n and m colours, -1 for a column no JVP seeds (a row no VJP
    seeds). One JVP per column colour and one VJP per row colour recover J:
    J[i, j] is entry i of the JVP of colour c(j) when column j has a colour and
    is the only column of that colour in row i's pattern, else entry j of the
    VJP of row i's colour.

    Tried: the one-sided colourings (all columns, as ``column_coloring``; all
    rows, as ``row_coloring``) and splits that give the densest rows to VJPs
    and colour the columns on the other rows only (the rows with at least t
    nonzeros, t among the 4 largest distinct row counts), and the same with
    the densest columns given to JVPs. They are tried in order of a lower bound
    on their passes, stopping when none left can do better; the fewest passes
    (JVPs + VJPs) win, one-sided on a tie. An arrowhead (a dense row and a dense
    column) takes 3 passes against n for either side alone. This is a dense
    row/column split, not Coleman & Verma's (1998) star bicolouring, which is
    optimal on more patterns. ``order`` as in ``column_coloring``.

    >>> import numpy as np, hodiff as hd
    >>> arrow = np.eye(6, dtype=bool)
    >>> arrow[0, :] = arrow[:, 0] = True
    >>> columns, rows = hd.bidirectional_coloring(arrow)
    >>> columns, rows
    (array([0, 1, 1, 1, 1, 1]), array([ 0, -1, -1, -1, -1, -1]))
    """
    _check_order(order, "bidirectional_coloring")
    pattern = _as_pattern(pattern, "pattern", "bidirectional_coloring")
    return _bidirectional(pattern, order)


def _bidirectional(pattern, order):
    m = pattern.shape[0]
    transposed = sp.csr_array(pattern.T)
    transposed.sort_indices()
    # (bound, preference, matrix, by_rows): _split(matrix, by_rows) gives the colours, (row, column) ones when
    # matrix is the transpose (its densest rows are the pattern's densest columns, given to JVPs).
    # preference breaks ties: forward first, then reverse, splits last.
    candidates = [(int(np.diff(pattern.indptr).max(initial=0)), 0, pattern, np.zeros(m, dtype=bool)),
                  (int(np.diff(transposed.indptr).max(initial=0)), 1, pattern, np.ones(m, dtype=bool))]
    for matrix in (pattern, transposed):
        counts = np.diff(matrix.indptr)
        for threshold in np.unique(counts)[::-1][:_SPLITS]:
            dense = counts >= threshold
            if threshold > 0 and not dense.all():
                candidates.append((_split_bound(matrix, dense), 2, matrix, dense))
    best, best_key = None, None
    for bound, preference, matrix, by_rows in sorted(candidates, key=lambda c: c[:2]):
        if best_key is not None and (bound, preference) >= best_key:
            break
        colors = _split(matrix, by_rows, order)
        if matrix is transposed:
            colors = colors[::-1]
        key = (_passes(*colors), preference)
        if best_key is None or key < best_key:
            best, best_key = colors, key
    return best


def _distance1_coloring(pattern):
    """Colours of the vertices of a symmetric pattern with no two coupled vertices (an off-diagonal
    entry) alike: the unit vectors of one colour, summed into s, give each of their H_ii as (s * (H s))_i."""
    return _best(_adjacency(pattern), "best", 1, _first_fit)


def _star_first_fit(indptr, indices, order):
    """Greedy star colouring: the least colour that neither a neighbour has nor closes a path on four
    vertices coloured with two colours (checked over the coloured vertices: every such path is checked
    when its last vertex is coloured, as an end v-w-x-y or inside y-v-w-x).

    counts[u][c]: how many coloured neighbours of u have colour c. For coloured w next to v, colour
    c(x) of a coloured neighbour x != v of w is forbidden when x has another neighbour y != w of colour
    c(w) (path v-w-x-y), or when v has one (path y-v-w-x); ``blocked[w]`` holds the first kind and
    grows both when x gains a second neighbour of colour c(w) and when such an x is coloured.
    """
    n = len(indptr) - 1
    colors = [-1] * n
    counts = [{} for _ in range(n)]
    blocked = [set() for _ in range(n)]  # colours c(x), x in N(w), x with >= 2 neighbours of colour c(w)
    mark = [-1] * (n + 1)
    for v in (order.tolist() if order is not None else _saturation_order(indptr, indices, colors)):
        neighbours = indices[indptr[v]:indptr[v + 1]]
        mine = counts[v]
        for w in neighbours:
            cw = colors[w]
            if cw < 0:
                continue
            mark[cw] = v
            for c in (counts[w] if mine[cw] >= 2 else blocked[w]):
                mark[c] = v
        c = 0
        while mark[c] == v:
            c += 1
        colors[v] = c
        for u in neighbours:
            cu = colors[u]
            if cu >= 0 and mine.get(cu, 0) >= 2:
                blocked[u].add(c)  # v has two neighbours of colour c(u): paths u-v-y-* through v
            seen = counts[u].get(c, 0) + 1
            counts[u][c] = seen
            if cu >= 0 and seen >= 2:
                blocked[v].add(cu)
                if seen == 2:  # the other neighbour of u with colour c now closes paths through u too
                    for w in indices[indptr[u]:indptr[u + 1]]:
                        if w != v and colors[w] == c:
                            blocked[w].add(cu)
    return colors


def star_coloring(pattern, *, order="best"):
    """Star colouring of a symmetric (Hessian) pattern: an int array of n colours.

    Adjacent vertices (H[i, j] != 0, i != j) get different colours and every
    path on four vertices uses at least three colours (Gebremedhin, Manne &
    Pothen 2005), so one HVP per colour recovers H directly. The diagonal of
    the pattern is ignored (it never needs a colour of its own). ``order`` as
    in ``column_coloring``; ``"best"`` stops early at the lower bound (3 once
    two adjacent vertices both have another neighbour), and also tries a
    distance-2 colouring (a star colouring too) when the graph's square is
    sparse.

    >>> import scipy.sparse as sp, hodiff as hd
    >>> hd.star_coloring(sp.diags_array([1, 1, 1], offsets=[-1, 0, 1], shape=(7, 7), dtype=bool))
    array([0, 1, 0, 2, 0, 1, 0])
    """
    _check_order(order, "star_coloring")
    pattern = _as_pattern(pattern, "pattern", "star_coloring")
    if pattern.shape[0] != pattern.shape[1]:
        raise ValueError(f"star_coloring: pattern must be square (a Hessian's), got shape {pattern.shape}")
    graph = _adjacency(pattern + pattern.T)
    degrees = np.diff(graph.indptr)
    rows = np.repeat(np.arange(graph.shape[0]), degrees)
    if rows.size == 0:
        lower_bound = 1
    elif np.any((degrees[rows] >= 2) & (degrees[graph.indices] >= 2)):
        lower_bound = 3  # a path on four vertices or a triangle
    else:
        lower_bound = 2
    colors = _best(graph, order, lower_bound, _star_first_fit)
    # A distance-2 colouring (first fit on the square of the graph) is a star colouring too, and
    # sometimes a smaller one (5 on a grid, where the star greedy may give 6); tried when the square is
    # not much denser than the graph (never for an arrowhead, whose square is complete).
    if colors.max(initial=-1) + 1 > lower_bound and int(np.sum(degrees.astype(np.int64) ** 2)) <= 32 * (
            graph.shape[0] + graph.nnz):
        linked = graph.astype(np.int32)
        square = _best(_adjacency(linked @ linked + linked), order, lower_bound, _first_fit)
        if square.max(initial=-1) < colors.max(initial=-1):
            colors = square
    return colors


# ================================================================ decompression
# A plan is computed once per pattern and colouring: the output's CSR structure and, for each stored
# entry, its position in the raveled compressed products (colours x entries), so that every later
# call decompresses with one gather.

class _Plan:
    __slots__ = ("indptr", "indices", "gather", "shape")

    def __init__(self, structure, gather):
        self.indptr, self.indices, self.shape = structure.indptr, structure.indices, structure.shape
        self.gather = gather

    def matrix(self, compressed):
        values = np.asarray(compressed).reshape(-1)[self.gather]
        return sp.csr_array((values, self.indices, self.indptr), shape=self.shape)

    def transposed(self):
        """The plan of the transpose (the denominator layout)."""
        positions = sp.csr_array((np.arange(self.gather.size) + 1, self.indices, self.indptr), shape=self.shape)
        flipped = sp.csr_array(positions.T)
        flipped.sort_indices()
        return _Plan(flipped, self.gather[flipped.data - 1])


def _seeds(colors, count, shape, dtype):
    """(count,) + shape: seed c is the sum of the unit vectors of colour c (colour -1: in no seed)."""
    seeds = np.zeros((count, colors.size), dtype=dtype)
    coloured = np.flatnonzero(colors >= 0)
    seeds[colors[coloured], coloured] = 1
    return seeds.reshape((count,) + tuple(shape))


def _entries(pattern):
    """Row and column of every stored entry of a CSR pattern, in storage order."""
    return np.repeat(np.arange(pattern.shape[0]), np.diff(pattern.indptr)), pattern.indices.astype(np.int64)


def _count(colors):
    return int(colors.max(initial=-1)) + 1


def _colour_counts(pattern, colors):
    """(rows, colours) counts[i, c]: how many of row i's entries sit in a column of colour c (coo)."""
    coloured = colors >= 0
    width = max(_count(colors), 1)
    indicator = sp.csr_array((np.ones(int(coloured.sum()), dtype=np.int32),
                              (np.flatnonzero(coloured), colors[coloured])), shape=(colors.size, width))
    return (pattern.astype(np.int32) @ indicator).tocoo(), width


def _jacobian_plan(pattern, column_colors, row_colors):
    """compressed = the p JVPs (p, m) then the q VJPs (q, n), raveled. J[i, j] = JVP[c(j)][i] when column
    j has a colour that no other column of row i has, else VJP[r(i)][j]; a VJP read must be unique too
    (no other row of colour r(i) in column j), which every colouring here guarantees and this checks."""
    m, n = pattern.shape
    p = _count(column_colors)
    rows, cols = _entries(pattern)
    from_jvp = column_colors[cols] >= 0
    if p:
        counts, width = _colour_counts(pattern, column_colors)
        keys = rows[from_jvp] * width + column_colors[cols[from_jvp]]
        from_jvp[from_jvp] = _lookup(counts, keys, width) == 1
    read = ~from_jvp
    if read.any():
        transposed = sp.csr_array(pattern.T)
        counts, width = _colour_counts(transposed, row_colors)
        colour = row_colors[rows[read]]
        unique = (colour >= 0) & (_lookup(counts, cols[read] * width + np.maximum(colour, 0), width) == 1)
        if not unique.all():
            raise RuntimeError("sparse_jacobian: internal error: the colouring leaves an entry undetermined")
    gather = np.where(from_jvp, column_colors[cols] * m + rows, p * m + row_colors[rows] * n + cols)
    return _Plan(pattern, gather)


def _lookup(coo, keys, width):
    """Entries of a sparse (coo) matrix at the flat positions ``keys`` (row * width + col); 0 where absent."""
    flat = coo.row.astype(np.int64) * width + coo.col
    order = np.argsort(flat, kind="stable")
    flat, data = np.append(flat[order], -1), np.append(coo.data[order], 0)  # a sentinel past the end
    where = np.minimum(np.searchsorted(flat[:-1], keys), flat.size - 1)
    return np.where(flat[where] == keys, data[where], 0)


def _star_plan(pattern, colors):
    """Star colouring: compressed[c, i] = (H s_c)[i]. For a pair a < b (a stored entry either way round),
    H[a, b] = compressed[c(b), a] when b is a's only neighbour of colour c(b), else compressed[c(a), b]
    (the star condition: then a is b's only neighbour of colour c(a)). Both H[a, b] and H[b, a] are read
    from the same place, so the result is exactly symmetric; H[i, i] = compressed[c(i), i]."""
    n = pattern.shape[0]
    counts, width = _colour_counts(_adjacency(pattern), colors)  # counts[i, c]: neighbours of i with colour c
    rows, cols = _entries(pattern)
    low, high = np.minimum(rows, cols), np.maximum(rows, cols)
    only = _lookup(counts, low * width + colors[high], width) == 1
    gather = np.where(only, colors[high] * n + low, colors[low] * n + high)
    return _Plan(pattern, gather)


# ================================================================ the transforms

def _signature(x):
    return np.shape(x), np.result_type(x)


def _detect(sparsity, f, x, expected, transform, automatic):
    """The pattern from ``sparsity`` (None: automatic detection; a matrix; or a callable of x)."""
    if sparsity is None:
        pattern = automatic(f)(x)
    elif callable(sparsity) and not sp.issparse(sparsity):
        pattern = sparsity(x)
    else:
        pattern = sparsity
    pattern = _as_pattern(pattern, "sparsity", transform)
    if pattern.shape != expected:
        hint = (" (that is the transpose: give the pattern in the numerator layout, rows = outputs)"
                if pattern.shape == expected[::-1] else "")
        raise ValueError(f"{transform}: sparsity has shape {pattern.shape}, but for an input of shape {np.shape(x)} "
                         f"and an output of size {expected[0]} the pattern must have shape {expected}{hint}")
    return pattern


def _check_input(x, transform):
    if isinstance(x, (list, tuple, dict)):
        raise TypeError(f"{transform}: x must be an array or a number, got a {type(x).__name__}; "
                        "pass np.array(x) (sparse derivatives are for one array argument)")
    check_differentiable(x, 0, transform, argnums_hint=False)
    if np.iscomplexobj(x):
        raise TypeError(f"{transform}: x must be real, got dtype {np.result_type(x)}")
    return np.asarray(x)


def _output_of(f, x, transform):
    """f's output at x, checked to be one array. f runs on a traced x (a zero tangent), as every derivative
    here runs it: on the plain array, traced-only code (``x.at[i].set``) would fail."""
    return _output_array(jvp(f, (x,), (np.zeros_like(x),))[0], transform)


def _output_array(value, transform):
    leaves = tree_flatten(value)[0]
    if len(leaves) != 1 or isinstance(value, (list, tuple, dict)):
        raise TypeError(f"{transform}: f must return one array, got {type(value).__name__}")
    return leaves[0]


def sparse_jacobian(f, *, layout="numerator", mode="auto", sparsity=None):
    """Return a function giving the Jacobian of ``f`` at x as a ``scipy.sparse.csr_array``.

    f maps one array x (any shape, n entries) to one array (m entries); rows
    and columns are the raveled output and input entries. ``layout``:
    ``"numerator"`` gives the (m, n) matrix J[i, j] = dy_i/dx_j, ``"denominator"``
    its (n, m) transpose (the lecture's layout). ``mode``: ``"fwd"`` (or
    ``"forward"``) is one JVP per column colour, ``"rev"`` (``"reverse"``) one
    VJP per row colour, ``"auto"`` the fewest passes of those two and of the
    splits of ``bidirectional_coloring`` (JVPs and VJPs together: an arrowhead
    takes 3 passes, against n for one side); one-sided on a tie, forward first.
    The JVPs (VJPs) of all colours run as one batched pass.

    ``sparsity``: the (m, n) pattern in the numerator layout, as a scipy.sparse
    or dense boolean array, or a callable x -> pattern; None detects it with
    ``hd.jacobian_sparsity``. A pattern that misses a nonzero gives a wrong
    Jacobian (that entry and the ones sharing its colour); extra entries only
    cost colours. The pattern and its colouring are found on the first call
    for an input shape and dtype and reused on later calls; after a call the
    function's ``.pattern`` (CSR, numerator), ``.mode`` (``"fwd"``, ``"rev"``
    or ``"bidir"``), ``.colors`` (int array, per column in forward mode, per
    row in reverse, -1 for one in no seed; for ``"bidir"`` the pair
    ``(column_colors, row_colors)``) and ``.num_colors`` (JVPs + VJPs)
    describe it.

    >>> import numpy as np, scipy.sparse as sp, hodiff as hd, hodiff.numpy as hnp
    >>> f = lambda x: hnp.sin(x) * hnp.roll(x, 1)
    >>> pattern = sp.eye_array(4) + sp.eye_array(4, k=-1) + sp.eye_array(4, k=3)
    >>> jac = hd.sparse_jacobian(f, sparsity=pattern)
    >>> x = np.linspace(0.1, 0.4, 4)
    >>> bool(np.allclose(jac(x).toarray(), hd.jacobian(f)(x))), jac.num_colors
    (True, 2)
    """
    _check_layout(layout, "sparse_jacobian")
    mode = _MODE_ALIASES.get(mode, mode)
    if mode not in _MODES:
        raise ValueError(f"sparse_jacobian: mode must be one of {_MODES} (or 'forward', 'reverse'), got {mode!r}")
    cache = {}

    @functools.wraps(f)
    def jacobian_f(x):
        x = _check_input(x, "sparse_jacobian")
        key = _signature(x)
        entry = cache.get(key)
        if entry is None:
            m = int(np.size(_output_of(f, x, "sparse_jacobian")))
            pattern = _detect(sparsity, f, x, (m, x.size), "sparse_jacobian", jacobian_sparsity)
            if mode == "auto":
                column_colors, row_colors = _bidirectional(pattern, "best")
            else:
                column_colors, row_colors = _split(pattern, np.full(m, mode == "rev"), "best")
            chosen = mode if mode != "auto" else (
                "bidir" if _count(column_colors) and _count(row_colors) else "rev" if _count(row_colors) else "fwd")
            plan = _jacobian_plan(pattern, column_colors, row_colors)
            if layout == "denominator":
                plan = plan.transposed()
            colors = {"fwd": column_colors, "rev": row_colors, "bidir": (column_colors, row_colors)}[chosen]
            if len(cache) >= _MAX_SIGNATURES:
                cache.pop(next(iter(cache)))
            entry = cache[key] = (pattern, colors, chosen, m, plan, column_colors, row_colors)
        pattern, colors, chosen, m, plan, column_colors, row_colors = entry
        jacobian_f.pattern, jacobian_f.colors, jacobian_f.mode = pattern, colors, chosen
        jacobian_f.num_colors = _count(column_colors) + _count(row_colors)
        return plan.matrix(_compressed_jacobian(f, x, column_colors, row_colors, m))

    jacobian_f.pattern = jacobian_f.colors = jacobian_f.mode = jacobian_f.num_colors = None
    return jacobian_f


def _compressed_jacobian(f, x, column_colors, row_colors, m):
    """The JVPs of the column colours' seeds (p, m) and the VJPs of the row colours' seeds (q, n), raveled
    and concatenated; each side is one batched pass."""
    dtype = np.result_type(x.dtype, np.float32)
    pieces = []
    if _count(column_colors):
        seeds = _seeds(column_colors, _count(column_colors), x.shape, dtype)
        tangents = np.asarray(vmap(lambda tangent: jvp(f, (x,), (tangent,))[1])(seeds))
        pieces.append(_checked_size(tangents.reshape(seeds.shape[0], -1), m))
    if _count(row_colors):
        out, pullback = vjp(f, x)
        _checked_size(np.reshape(_output_array(out, "sparse_jacobian"), (1, -1)), m)
        seeds = _seeds(row_colors, _count(row_colors), np.shape(out), np.result_type(dtype, np.result_type(out)))
        pieces.append(np.asarray(vmap(lambda cotangent: pullback(cotangent)[0])(seeds)))
    return np.concatenate([np.reshape(piece, -1) for piece in pieces]) if pieces else np.zeros(0, dtype=dtype)


def _checked_size(values, m):
    if values.shape[1] != m:
        raise ValueError(f"sparse_jacobian: f's output has {values.shape[1]} entries at this x, but had {m} when "
                         "the pattern was found for this input shape")
    return values


def sparse_hessian(f, *, sparsity=None):
    """Return a function giving the Hessian of scalar ``f`` at x as a symmetric ``scipy.sparse.csr_array``.

    x is one array (any shape, n entries); the result is (n, n) over its
    raveled entries (both layouts agree for a scalar f). One HVP
    (forward over reverse) per colour of a star colouring of the pattern, all
    colours in one batched pass; every entry is read directly from the
    compressed products, and H[j, i] is set to H[i, j] exactly.

    ``sparsity``: the (n, n) pattern (scipy.sparse or dense boolean; only its
    symmetric part is used), or a callable x -> pattern; None detects it with
    ``hd.hessian_sparsity``. As for ``sparse_jacobian``, a pattern missing a
    nonzero is the caller's responsibility, the pattern and colouring are
    reused for later calls with the same shape and dtype, and ``.pattern``,
    ``.colors``, ``.num_colors`` describe the last call.

    >>> import numpy as np, scipy.sparse as sp, hodiff as hd, hodiff.numpy as hnp
    >>> f = lambda x: hnp.sum((x[1:] - x[:-1] ** 2) ** 2)   # a tridiagonal Hessian
    >>> pattern = sp.diags_array([1, 1, 1], offsets=[-1, 0, 1], shape=(6, 6), dtype=bool)
    >>> hess = hd.sparse_hessian(f, sparsity=pattern)
    >>> x = np.linspace(-1.0, 1.0, 6)
    >>> bool(np.allclose(hess(x).toarray(), hd.hessian(f)(x))), hess.num_colors
    (True, 3)
    """
    cache = {}

    @functools.wraps(f)
    def hessian_f(x):
        x = _check_input(x, "sparse_hessian")
        key = _signature(x)
        entry = cache.get(key)
        if entry is None:
            out = _output_of(f, x, "sparse_hessian")
            if np.size(out) != 1:
                raise TypeError(f"sparse_hessian: f must return a scalar, got shape {np.shape(out)}; "
                                "for a vector-valued f use hd.sparse_jacobian")
            pattern = _detect(sparsity, f, x, (x.size, x.size), "sparse_hessian", hessian_sparsity)
            pattern = sp.csr_array(pattern + pattern.T)
            pattern.sort_indices()
            colors = star_coloring(pattern)
            if len(cache) >= _MAX_SIGNATURES:
                cache.pop(next(iter(cache)))
            entry = cache[key] = (pattern, colors, _star_plan(pattern, colors))
        pattern, colors, plan = entry
        hessian_f.pattern, hessian_f.colors = pattern, colors
        count = hessian_f.num_colors = int(colors.max(initial=-1)) + 1
        dtype = np.result_type(x.dtype, np.float32)
        if count == 0:
            return sp.csr_array((x.size, x.size), dtype=dtype)
        seeds = _seeds(colors, count, x.shape, dtype)
        return plan.matrix(vmap(lambda tangent: hvp(f, (x,), (tangent,))[0])(seeds))

    hessian_f.pattern = hessian_f.colors = hessian_f.num_colors = None
    return hessian_f
