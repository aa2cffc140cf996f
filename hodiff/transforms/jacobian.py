"""Jacobians in both layouts: ``jacobian``, ``jacfwd``, ``jacrev``, ``convert_layout``.

Layouts, for y = f(x) with x of shape ``in_shape`` and y of shape ``out_shape``:

- ``"numerator"`` (JAX, PyTorch, the default): ``J[i..., j...] = dy[i...] / dx[j...]``,
  shape ``out_shape + in_shape``; for y in R^m and x in R^n an m x n matrix,
  and a VJP is the row vector ``u @ J``.
- ``"denominator"`` (the backprop lecture's): the transpose, shape
  ``in_shape + out_shape``; n x m, so that ``dL/dx = (dy/dx) (dL/dy)``.

Pytrees nest as in JAX: output structure outside, input structure inside.
For outputs ``{"a": ya, "b": yb}`` and ``argnums=(0, 1)`` the result is
``{"a": (J_a0, J_a1), "b": (J_b0, J_b1)}``; a single int ``argnums`` puts that
argument's own pytree inside. The layout rule applies to every block's axes
(the nesting is the same in both layouts).

How the blocks are computed (no Python loop over rows or columns):

- reverse mode (``jacrev``): f runs once, recording its graph; every row
  comes out of ONE backward pass run under ``vmap`` over the basis of output
  cotangents (batched cotangents);
- forward mode (``jacfwd``): one forward pass of duals whose tangents are
  the batched basis of input tangents (``vmap`` of ``jvp``), no graph recorded;
- ``mode="auto"``: f runs once, recording its graph, then columns come from
  a batched forward sweep of the recorded graph when the input is no larger
  than the output (n_in <= n_out), else rows from the batched backward pass.
  Once a call has chosen columns, later calls with inputs of the same
  structure, shapes and dtypes run plain forward mode (no recording), the
  faster of the two forward modes; the result is the same either way.

Complex values follow JAX: with ``holomorphic=False`` (default) the
differentiated inputs must be real (and, for reverse mode, the outputs too;
forward mode accepts complex outputs of real inputs, giving
dRe/dx + i dIm/dx). With ``holomorphic=True`` the inputs must be complex
and the result is the complex derivative df/dz of a holomorphic f, the same
from every mode. For non-holomorphic functions of complex inputs use
``vjp``/``jvp`` directly, or split z into real and imaginary parts.
"""

import functools

import numpy as np

from ..core import backends
from ..core.trace import Tracer
from ..core.tree import tree_flatten, tree_map, tree_unflatten
from ..interpreters.batch import BatchTrace, BatchTracer, materialize
from ..interpreters.forward import Dual, ForwardTrace, lift_inner_duals
from ..primitives.elementwise import real
from ..primitives.shape import concatenate, getitem, reshape, transpose, zeros_like
from ._args import check_differentiable, check_output_leaves, dtype_of_value, normalize_argnums
from .forward import jvp
from .recording import Recording

__all__ = ["jacobian", "jacfwd", "jacrev", "convert_layout", "assemble_jacobian"]

_LAYOUTS = ("numerator", "denominator")
_MODES = ("auto", "fwd", "rev")


def _prod(shape):
    size = 1
    for n in shape:
        size *= int(n)
    return size


def _shape(x):
    if type(x) is np.ndarray:
        return x.shape
    return tuple(x.shape) if isinstance(x, Tracer) else np.shape(x)


def _swap_groups(J, first_ndim, second_ndim):
    """Move the first ``first_ndim`` axes of J behind the next ``second_ndim`` ones."""
    if first_ndim == 0 or second_ndim == 0:
        return J
    axes = tuple(range(first_ndim, first_ndim + second_ndim)) + tuple(range(first_ndim))
    return transpose(J, axes=axes)


def _check_layout(layout, transform):
    if layout not in _LAYOUTS:
        raise ValueError(f"{transform}: layout must be 'numerator' or 'denominator', got {layout!r}")


def convert_layout(J, in_shape, out_shape, src, dst):
    """Convert one Jacobian block between layouts.

    ``src``/``dst`` are ``"numerator"`` (J has shape out_shape + in_shape) or
    ``"denominator"`` (in_shape + out_shape). Works on traced values, so it
    can sit inside other transforms. A shape that does not fit ``src`` is a
    ``ValueError``.

    >>> import numpy as np, hodiff as hd
    >>> J = np.arange(6.0).reshape(2, 3)          # y in R^2, x in R^3, numerator
    >>> hd.convert_layout(J, (3,), (2,), "numerator", "denominator").shape
    (3, 2)
    """
    in_shape, out_shape = tuple(in_shape), tuple(out_shape)
    _check_layout(src, "convert_layout (src)")
    _check_layout(dst, "convert_layout (dst)")
    shape = _shape(J)
    expected = out_shape + in_shape if src == "numerator" else in_shape + out_shape
    if shape != expected:
        raise ValueError(
            f"convert_layout: J has shape {shape}, but a {src}-layout Jacobian of a map from shape "
            f"{in_shape} to shape {out_shape} has shape {expected}")
    if src == dst:
        return J
    if src == "numerator":
        return _swap_groups(J, len(out_shape), len(in_shape))
    return _swap_groups(J, len(in_shape), len(out_shape))


def assemble_jacobian(flat, flat_layout, out_tree, out_shapes, in_tree, in_shapes, layout):
    """Cut a flat Jacobian into the nested pytree of blocks in ``layout``.

    ``flat`` is the M x N matrix (``flat_layout="numerator"``) or N x M
    (``"denominator"``), M and N being the total sizes of the output and
    input leaves, flattened in pytree order.
    """
    if len(out_shapes) == 1 and len(in_shapes) == 1:  # one block: reshaped (and transposed) at most
        in_shape, out_shape = tuple(in_shapes[0]), tuple(out_shapes[0])
        if flat_layout == "numerator":
            piece = _reshaped(flat, out_shape + in_shape)
            piece = convert_layout(piece, in_shape, out_shape, "numerator", layout)
        else:
            piece = _reshaped(flat, in_shape + out_shape)
            piece = convert_layout(piece, in_shape, out_shape, "denominator", layout)
        return tree_unflatten(out_tree, [tree_unflatten(in_tree, [piece])])
    out_offsets = np.cumsum([0] + [_prod(s) for s in out_shapes])
    in_offsets = np.cumsum([0] + [_prod(s) for s in in_shapes])
    result = []
    for k, out_shape in enumerate(out_shapes):
        blocks = []
        for j, in_shape in enumerate(in_shapes):
            rows = slice(int(out_offsets[k]), int(out_offsets[k + 1]))
            cols = slice(int(in_offsets[j]), int(in_offsets[j + 1]))
            if flat_layout == "numerator":
                piece = getitem(flat, index=(rows, cols))
                piece = reshape(piece, shape=tuple(out_shape) + tuple(in_shape))
                piece = convert_layout(piece, in_shape, out_shape, "numerator", layout)
            else:
                piece = getitem(flat, index=(cols, rows))
                piece = reshape(piece, shape=tuple(in_shape) + tuple(out_shape))
                piece = convert_layout(piece, in_shape, out_shape, "denominator", layout)
            blocks.append(piece)
        result.append(tree_unflatten(in_tree, blocks))
    return tree_unflatten(out_tree, result)


def _basis(sizes_and_shapes, dtypes, total, like=None):
    """Rows of the N x N identity cut into leaves: leaf j gets shape (N,) + shape_j (of ``like``'s array backend)."""
    if len(sizes_and_shapes) == 1:
        (size, shape), (dtype,) = sizes_and_shapes[0], dtypes
        return [backends.eye(total, dtype=dtype, like=like).reshape((total,) + tuple(shape))]
    leaves = []
    start = 0
    for (size, shape), dtype in zip(sizes_and_shapes, dtypes):
        block = np.zeros((total, size), dtype=dtype)
        block[np.arange(start, start + size), np.arange(size)] = 1
        leaves.append(backends.asarray(block.reshape((total,) + tuple(shape)), like=like))
        start += size
    return leaves


def _reshaped(x, shape):
    return x if _shape(x) == shape else reshape(x, shape=shape)


def _join_columns(arrays, count):
    """(count, ...) arrays -> one (count, sum of sizes) matrix."""
    pieces = [_reshaped(a, (count, _prod(_shape(a)[1:]))) for a in arrays]
    if len(pieces) == 1:
        return pieces[0]
    return concatenate(*pieces, axis=1)


def _expand_single(value):
    return reshape(value, shape=(1,) + _shape(value))


def _result_dtype(values):
    if len(values) == 1 and type(values[0]) is np.ndarray and values[0].dtype.kind in "fc":
        return values[0].dtype  # the common case, without numpy's type promotion
    dtypes = [dtype_of_value(v) for v in values]
    dtype = np.result_type(*dtypes) if dtypes else np.dtype(float)
    return dtype if np.issubdtype(dtype, np.inexact) else np.dtype(float)


# ----------------------------------------------------------------- the transforms

def _is_complex(value):
    if type(value) is np.ndarray:
        return value.dtype.kind == "c"  # the common case, without numpy's dtype hierarchy
    if type(value) is float:
        return False
    return np.issubdtype(dtype_of_value(value), np.complexfloating)


def _check_complex(values, holomorphic, what, transform):
    for value in values:
        is_complex = _is_complex(value)
        if holomorphic and not is_complex:
            raise TypeError(
                f"{transform} with holomorphic=True requires complex {what}, but got dtype "
                f"{dtype_of_value(value)}; cast with x.astype(complex) or drop holomorphic=True")
        if not holomorphic and is_complex:
            raise TypeError(
                f"{transform} requires real-valued {what}, but got dtype {dtype_of_value(value)}. "
                "For a holomorphic function pass holomorphic=True; for a non-holomorphic function of "
                "complex values use hd.vjp / hd.jvp directly or split into real and imaginary parts.")


_MAX_SIGNATURES = 64  # input signatures remembered per jacobian function (mode="auto")


def _dtype_key(leaf):
    return leaf.dtype if type(leaf) is np.ndarray else type(leaf) if type(leaf) in (float, complex) \
        else dtype_of_value(leaf)


def _make_jacobian(f, argnums, layout, mode, has_aux, holomorphic, transform):
    """The Jacobian transform; ``mode="sweep"`` (internal) records f once and always pushes the basis
    of tangents forward through the recorded graph (forward mode over a recording)."""
    _check_layout(layout, transform)
    if mode not in _MODES + ("sweep",):
        raise ValueError(f"{transform}: mode must be one of {_MODES}, got {mode!r}")
    # mode="auto" learns the output size from the recording it makes; once an input signature is known
    # to map to at least as many outputs, later calls run plain forward mode (batched jvp), which skips
    # the recording and is the faster forward mode. The choice never changes the result.
    forward_signatures = set()

    @functools.wraps(f)
    def jacobian_f(*args, **kwargs):
        argnums_tuple, single = normalize_argnums(argnums, len(args), transform)
        for argnum in argnums_tuple:
            check_differentiable(args[argnum], argnum, transform)
        chosen = tuple(args[a] for a in argnums_tuple)

        def f_of_chosen(*values):
            full = list(args)
            for argnum, value in zip(argnums_tuple, values):
                full[argnum] = value
            return f(*full, **kwargs)

        flat_in, in_tree = tree_flatten(chosen[0] if single else chosen)
        _check_complex(flat_in, holomorphic, "inputs", transform)
        in_shapes = [_shape(leaf) for leaf in flat_in]
        in_sizes = [_prod(s) for s in in_shapes]
        total_in = sum(in_sizes)
        signature = (in_tree, tuple(in_shapes), tuple(_dtype_key(leaf) for leaf in flat_in)) if mode == "auto" else None
        if mode == "fwd" or signature in forward_signatures:
            flat, flat_layout, out_tree, out_values, aux = _forward_columns(
                f_of_chosen, chosen, flat_in, in_shapes, in_sizes, total_in, has_aux)
            if signature is not None and sum(_prod(_shape(v)) for v in out_values) < total_in and not (
                    not holomorphic and any(_is_complex(v) for v in out_values)):
                forward_signatures.discard(signature)  # the output shrank: record and decide again next time
        else:
            recording = Recording(f_of_chosen, chosen, has_aux, transform="jacobian")
            out_tree, out_values, aux = recording.out_tree, recording.out_values, recording.aux
            total_out = sum(_prod(_shape(v)) for v in out_values)
            use_forward = mode == "sweep" or mode == "auto" and (total_in <= total_out or (
                not holomorphic and any(_is_complex(v) for v in out_values)))
            if use_forward:
                if signature is not None and len(forward_signatures) < _MAX_SIGNATURES:
                    forward_signatures.add(signature)
                flat = _swept_columns(recording, flat_in, in_shapes, in_sizes, total_in, out_values)
                flat_layout = "denominator"
            else:
                _check_complex(out_values, holomorphic, "outputs", f"{transform} (reverse mode)")
                if total_out == 1 and total_in > 0:
                    # One output entry (a gradient): its cotangents are the blocks, reshaped at most.
                    gradients = recording.pullback(*[backends.ones(_shape(v), dtype=_result_dtype([v]), like=v)
                                                     for v in out_values])
                    gradients = _real_for_real(gradients, flat_in)
                    J = _gradient_blocks(gradients, _shape(out_values[0]), in_shapes, in_tree, out_tree, layout)
                    return (J, aux) if has_aux else J
                flat = _pulled_rows(recording, out_values, total_out, total_in)
                flat_layout = "numerator"
        out_shapes = [_shape(v) for v in out_values]
        J = assemble_jacobian(flat, flat_layout, out_tree, out_shapes, in_tree, in_shapes, layout)
        return (J, aux) if has_aux else J

    return jacobian_f


def _gradient_blocks(gradients, out_shape, in_shapes, in_tree, out_tree, layout):
    """Blocks of a Jacobian with one output entry: each input's cotangent, with the output's size-1 axes."""
    blocks = []
    for gradient, in_shape in zip(gradients, in_shapes):
        target = tuple(out_shape) + tuple(in_shape) if layout == "numerator" else tuple(in_shape) + tuple(out_shape)
        blocks.append(gradient if _shape(gradient) == target else reshape(gradient, shape=target))
    return tree_unflatten(out_tree, [tree_unflatten(in_tree, blocks)])


def _pulled_rows(recording, out_values, total_out, total_in):
    """The M x N numerator matrix from one batched backward pass."""
    if total_out == 0 or total_in == 0:
        return np.zeros((total_out, total_in), dtype=_result_dtype(out_values + recording.flat_primals))
    out_shapes = [_shape(v) for v in out_values]
    dtypes = [_result_dtype([v]) for v in out_values]
    basis = _basis([(_prod(s), s) for s in out_shapes], dtypes, total_out, backends.first_foreign(out_values))
    if total_out == 1:
        rows = [_expand_single(r) for r in recording.pullback(*[b[0] for b in basis])]
    else:
        rows = _batched(recording.pullback, basis, total_out)
    return _join_columns(_real_for_real(rows, recording.flat_primals), total_out)


def _real_for_real(cotangents, primals):
    """Cotangents of real inputs without the meaningless imaginary part a complex intermediate gave them.

    (As ``grad`` does: the pairing Re(a b) sees only the real part for a real input.)
    """
    return [real(c) if _is_complex(c) and not _is_complex(p) else c for c, p in zip(cotangents, primals)]


def _swept_columns(recording, flat_in, in_shapes, in_sizes, total_in, out_values):
    """The N x M (denominator) matrix from one batched forward sweep of the recorded graph."""
    total_out = sum(_prod(_shape(v)) for v in out_values)
    if total_out == 0 or total_in == 0:
        return np.zeros((total_in, total_out), dtype=_result_dtype(out_values + flat_in))
    basis = _basis(list(zip(in_sizes, in_shapes)), [_result_dtype([x]) for x in flat_in], total_in,
                   backends.first_foreign(flat_in))
    if total_in == 1:
        columns = [_expand_single(c) for c in recording.pushforward(*[b[0] for b in basis])]
    else:
        columns = _batched(recording.pushforward, basis, total_in)
    return _join_columns(columns, total_in)


def _batched(function, leaves, size):
    """``vmap(function)(*leaves)`` for a function of flat array leaves returning a list of leaves."""
    trace = BatchTrace()
    try:
        out = function(*[BatchTracer(leaf, trace) for leaf in leaves])
    finally:
        trace.alive = False
    return [materialize(leaf, trace, size) for leaf in out]


def _forward_columns(f_of_chosen, chosen, flat_in, in_shapes, in_sizes, total_in, has_aux):
    """Forward mode without a graph: ``jvp`` with the basis of input tangents as batched tangents."""
    seen = {}
    chosen_tree = tree_flatten(chosen)[1]

    def function(*values):
        result = f_of_chosen(*values)
        if has_aux:
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError("has_aux=True needs f to return a pair (output, aux)")
            return result[0], result[1]
        return result, None

    def tangents_out(*tangents):
        (out, aux), (out_tangent, _) = jvp(function, chosen, tangents)
        seen["out"], seen["aux"] = out, aux  # primal values: not batched, not traced by this jvp
        return tree_flatten(out_tangent)[0]

    dtypes = [_result_dtype([x]) for x in flat_in]
    if total_in == 0:  # no columns: one jvp with the (empty) zero tangents gives the outputs
        tangents_out(*tree_unflatten(chosen_tree, [np.zeros(s, dtype=d) for s, d in zip(in_shapes, dtypes)]))
        columns = None
    elif total_in == 1:
        basis = _basis(list(zip(in_sizes, in_shapes)), dtypes, total_in, backends.first_foreign(flat_in))
        columns = [_expand_single(c) for c in tangents_out(*tree_unflatten(chosen_tree, [b[0] for b in basis]))]
    else:
        basis = _basis(list(zip(in_sizes, in_shapes)), dtypes, total_in, backends.first_foreign(flat_in))
        columns = _batched_tangents(function, chosen, basis, total_in, seen)
    out_values, out_tree = tree_flatten(seen["out"])
    total_out = sum(_prod(_shape(v)) for v in out_values)
    if total_in == 0 or total_out == 0:
        flat = np.zeros((total_in, total_out), dtype=_result_dtype(out_values + flat_in))
    else:
        flat = _join_columns(columns, total_in)
    return flat, "denominator", out_tree, out_values, seen["aux"]


def _batched_tangents(function, chosen, basis, size, seen):
    """``vmap`` of ``jvp`` over the basis, as one forward pass of duals whose tangents are batched."""
    flat_primals, in_tree = tree_flatten(chosen)
    batch_trace = BatchTrace()  # below the duals' trace: JVP rules map over the batch
    trace = ForwardTrace(batch_trace=batch_trace)
    duals = [Dual._make(p, BatchTracer(b, batch_trace), trace) for p, b in zip(flat_primals, basis)]
    try:
        out, aux = function(*tree_unflatten(in_tree, duals))
        out = lift_inner_duals(out, trace)
    finally:
        trace.alive = batch_trace.alive = False
    flat_out, out_tree = tree_flatten(out)
    check_output_leaves(flat_out, "jacobian")
    outs, columns = [], []
    for leaf in flat_out:
        if isinstance(leaf, Dual) and leaf._trace is trace:
            outs.append(leaf.primal)
            columns.append(materialize(leaf._tangent, batch_trace, size))
        else:
            outs.append(leaf)
            columns.append(materialize(zeros_like(leaf), batch_trace, size))
    seen["out"] = tree_unflatten(out_tree, outs)
    seen["aux"] = tree_map(lambda leaf: leaf.primal if isinstance(leaf, Dual) and leaf._trace is trace else leaf, aux)
    return columns


def jacobian(f, argnums=0, *, layout="numerator", mode="auto", has_aux=False, holomorphic=False):
    """Return a function computing the Jacobian of ``f`` with respect to ``argnums``.

    layout: ``"numerator"`` (shape out_shape + in_shape, as JAX/PyTorch) or
    ``"denominator"`` (in_shape + out_shape, the backprop lecture's
    dL/dx = (dy/dx)(dL/dy)). mode: ``"rev"`` (rows from one batched backward
    pass), ``"fwd"`` (columns from one batched forward pass) or ``"auto"``
    (forward when n_in <= n_out). Pytrees nest output structure outside,
    input structure inside; a tuple ``argnums`` gives a tuple of blocks. See
    the module docstring for complex inputs (``holomorphic``). With
    ``has_aux=True`` f returns ``(output, aux)`` and the function returns
    ``(J, aux)``.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])   # y = W x: R^3 -> R^2
    >>> hd.jacobian(lambda x: hnp.tensordot(W, x, axes=1))(np.ones(3)).shape
    (2, 3)
    >>> hd.jacobian(lambda x: hnp.tensordot(W, x, axes=1), layout="denominator")(np.ones(3)).shape
    (3, 2)
    """
    return _make_jacobian(f, argnums, layout, mode, has_aux, holomorphic, "jacobian")


def jacfwd(f, argnums=0, *, layout="numerator", has_aux=False, holomorphic=False):
    """``jacobian`` in forward mode: all columns from one ``jvp`` pass over batched tangents.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.jacfwd(lambda x: x * x * x)(np.array([1.0, 2.0]))
    array([[ 3.,  0.],
           [ 0., 12.]])
    """
    return _make_jacobian(f, argnums, layout, "fwd", has_aux, holomorphic, "jacfwd")


def jacrev(f, argnums=0, *, layout="numerator", has_aux=False, holomorphic=False):
    """``jacobian`` in reverse mode: one forward pass, all rows from one batched backward pass.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> hd.jacrev(lambda x: x * x)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    return _make_jacobian(f, argnums, layout, "rev", has_aux, holomorphic, "jacrev")
