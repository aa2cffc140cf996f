"""Contractions: matmul (and ``@``), einsum, and the numpy functions built on them.

``matmul`` and ``einsum`` are primitives (``tensordot`` lives in shape.py);
dot, inner, outer, kron and trace are compositions of primitives, so all
their rules follow. All are bilinear (einsum multilinear): VJPs contract the
cotangent with the other operands, without conjugation (JAX's convention for
complex values), and Taylor rules are Cauchy products of the series.

Layouts follow numpy: ``matmul(a, b)`` contracts a's last axis with b's
second-to-last and broadcasts the leading (stack) axes; a 1-D operand is a
row (a) or column (b) vector whose axis is dropped from the result.
"""

import builtins
import functools
import itertools
import string

import numpy as np

from ..core.trace import Primitive
from .elementwise import accumulated_as, conj, multiply
from .rules import dtype_of, ndim_of, shape_of, stack_series, taylor_bilinear
from .shape import (
    _array,
    _normalize_axis,
    broadcast_to,
    diagonal,
    reshape,
    sum,
    sum_to_shape,
    take,
    tensordot,
    transpose,
)

__all__ = ["matmul", "einsum", "dot", "inner", "outer", "vdot", "vecdot", "matvec", "vecmat", "kron", "trace",
           "letters", "parse_einsum"]

_LETTERS = string.ascii_letters
_total = builtins.sum  # ``sum`` here is the primitive


def letters(count, avoid=""):
    """``count`` distinct einsum subscript letters not in ``avoid``."""
    free = [c for c in _LETTERS if c not in avoid]
    if count > len(free):
        raise ValueError(f"einsum: needs {count} distinct subscripts but only {len(free)} letters are free "
                         "(numpy's einsum has 52: a-z, A-Z)")
    return free[:count]


# --------------------------------------------------------------- matmul

def _shape(x):
    return x.shape if type(x) is np.ndarray else tuple(shape_of(x))  # ndarrays first: rules run per call


def _swap_last(x):
    ndim = len(_shape(x))
    return transpose(x, axes=tuple(range(ndim - 2)) + (ndim - 1, ndim - 2))


def _drop_axis(x, axis):
    shape = list(shape_of(x))
    del shape[axis]
    return reshape(x, shape=tuple(shape))


def _expand(x, axis):
    shape = list(shape_of(x))
    shape.insert(axis % (len(shape) + 1), 1)
    return reshape(x, shape=tuple(shape))


def _matmul_vjp_a(g, ans, a, b):
    a_ndim, b_ndim = len(_shape(a)), len(_shape(b))
    if a_ndim == 2 and b_ndim == 2:
        return matmul(g, _swap_last(b))  # the MLP's hot path: one matmul, b.T is a view
    if b_ndim == 1:
        if a_ndim == 1:
            return multiply(g, b)
        ga = multiply(_expand(g, -1), b)  # g (..., n) outer b (k,)
    elif a_ndim == 1:
        if b_ndim == 2:
            return matmul(b, g)  # (k, m) @ (m,): no stack axes to sum over
        ga = _drop_axis(matmul(_expand(g, -2), _swap_last(b)), -2)  # (..., 1, m) @ (..., m, k)
    else:
        ga = matmul(g, _swap_last(b))
    return sum_to_shape(ga, shape_of(a))  # stacks a was broadcast along


def _matmul_vjp_b(g, ans, a, b):
    a_ndim, b_ndim = len(_shape(a)), len(_shape(b))
    if a_ndim == 2 and b_ndim == 2:
        return matmul(_swap_last(a), g)
    if a_ndim == 1:
        if b_ndim == 1:
            return multiply(g, a)
        gb = multiply(_expand(a, -1), _expand(g, -2))  # a (k,) outer g (..., m)
    elif b_ndim == 1:
        if a_ndim == 2:
            return matmul(g, a)  # (n,) @ (n, k): A.T g without transposing A
        gb = _drop_axis(matmul(_expand(g, -2), a), -2)  # (..., 1, n) @ (..., n, k)
    else:
        gb = matmul(_swap_last(a), g)
    return sum_to_shape(gb, shape_of(b))


def _matmul_one_operand_batched(a, b, a_batched, a_shape, b_shape):
    """One matmul call for a batched operand against an unbatched vector or matrix, or None.

    Batched tangents and cotangents (Jacobians, Hessians, Taylor series) meet
    constant matrices here. numpy's matmul loops over stack axes (one small
    BLAS call per batch member: B matrix-vector products); stacking the batch
    into the rows of one operand instead makes a single matrix product.
    ``a_shape``, ``b_shape`` are the full shapes (batch axis included).
    """
    if a_batched:
        a_ndim, b_ndim = len(a_shape) - 1, len(b_shape)
        if b_ndim > 2:
            return None
        if a_ndim == 1:
            if b_ndim == 2 and _is_identity(a) and _all_finite(b):
                return _identity_product(b, a)  # a basis of tangents x_i = e_i: x_i @ b is row i of b
            return matmul(a, b)  # (B, k) @ (k, m) or (B, k) @ (k,): rows are the members
        lead = tuple(a_shape[:-1])  # (B, ..., n): every row of every member
        rows = 1
        for n in lead:
            rows *= n
        out = matmul(reshape(a, shape=(rows, a_shape[-1])), b)
        return reshape(out, shape=lead + tuple(b_shape[1:]))
    a_ndim, b_ndim = len(a_shape), len(b_shape) - 1
    if a_ndim > 2 or b_ndim != 1:
        return None
    if a_ndim == 2 and _is_identity(b) and _all_finite(a):
        return _identity_product(_swap_last(a), b)  # a @ e_i is column i of a
    # b holds B vectors (B, k): a @ b_i for all i is b @ a.T (a vector a: b @ a).
    return matmul(b, _swap_last(a) if a_ndim == 2 else a)


def _is_identity(x):
    """Whether x is a plain square identity matrix: the basis that Jacobians and Hessians push.

    O(1) for anything else (its first row gives it away), one pass over x otherwise.
    """
    if type(x) is not np.ndarray or x.ndim != 2 or x.shape[0] != x.shape[1] or x.dtype.kind not in "fc":
        return False
    n = x.shape[0]
    if x[0, 0] != 1 or (n > 1 and x[0, 1] != 0):
        return False
    return np.count_nonzero(x) == n and bool(np.all(np.diagonal(x) == 1))


def _all_finite(x):
    return type(x) is np.ndarray and x.dtype.kind in "fc" and bool(np.isfinite(x).all())


def _identity_product(m, identity):
    """I @ m (or m @ I): m itself, as a fresh C-ordered array of the product's dtype.

    Exact where the product is (every entry is one term times 1 plus zeros), which is why m must be
    finite: 0 * inf would make the product's other entries nan.
    """
    return np.array(m, dtype=np.result_type(m, identity), order="C")


def _matmul_batch(values, batched):
    a, b = values
    a_batched, b_batched = batched
    a_shape, b_shape = _shape(a), _shape(b)
    _check_matmul_shapes(a_shape[a_batched:], b_shape[b_batched:])
    size = a_shape[0] if a_batched else b_shape[0]
    a_ndim, b_ndim = len(a_shape) - a_batched, len(b_shape) - b_batched
    if a_batched != b_batched:
        out = _matmul_one_operand_batched(a, b, a_batched, a_shape, b_shape)
        if out is not None:
            return out
    drop = []
    # Vector members become matrices so the batch axis is never mistaken for a matrix axis.
    if a_ndim == 1:
        a = reshape(a, shape=((size,) if a_batched else ()) + (1,) + tuple(shape_of(a))[a_batched:])
        a_ndim = 2
        drop.append(-2)
    if b_ndim == 1:
        b = reshape(b, shape=tuple(shape_of(b)) + (1,))
        b_ndim = 2
        drop.append(-1)
    # Align stack axes behind the batch axis (numpy broadcasts from the right).
    rank = max(a_ndim, b_ndim)
    if a_batched and a_ndim < rank:
        a = reshape(a, shape=(size,) + (1,) * (rank - a_ndim) + tuple(shape_of(a))[1:])
    if b_batched and b_ndim < rank:
        b = reshape(b, shape=(size,) + (1,) * (rank - b_ndim) + tuple(shape_of(b))[1:])
    out = matmul(a, b)
    if drop:
        shape = tuple(shape_of(out))
        tail = tuple(n for n, axis in zip(shape[-2:], (-2, -1)) if axis not in drop)
        out = reshape(out, shape=shape[:-2] + tail)
    return out


def _check_matmul(a, b):
    _check_matmul_shapes(shape_of(a), shape_of(b))


def _check_matmul_shapes(a_shape, b_shape):
    """numpy's errors for operands (batch members: the user's shapes) of these shapes."""
    if not a_shape or not b_shape:
        raise ValueError("matmul: Input operand does not have enough dimensions (scalars are not allowed; "
                         "use multiply or *)")
    k_a = a_shape[-1]
    k_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: contracted dimensions differ: a has shape {tuple(a_shape)} and b has shape "
                         f"{tuple(b_shape)} ({k_a} != {k_b})")


def _blas_ready(x):
    """x, or a contiguous copy when it is a big broadcast view (a zero stride in its matrix axes).

    Cotangents of sum and mean are such views; numpy's matmul cannot hand them
    to BLAS and runs its own O(n^3) loop instead, so one O(n^2) copy pays off.
    """
    strides = getattr(x, "strides", None)
    if strides and 0 in strides[-2:] and x.size > 4096:
        return np.ascontiguousarray(x)
    return x


def _matmul_impl(a, b):
    a, b = _blas_ready(a), _blas_ready(b)
    if type(a) is np.ndarray and a.ndim > 2 and getattr(b, "ndim", 0) == 2 and a.flags.c_contiguous:
        # A stack times one matrix is one GEMM over the stacked rows: numpy would call BLAS once per
        # stack member (collapsed Taylor mode's (K-1, R, B, n) @ W is ~1.3x faster folded).
        return np.matmul(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + b.shape[-1:])
    return np.matmul(a, b)


matmul = Primitive(
    "matmul", _matmul_impl,
    vjp=(_matmul_vjp_a, _matmul_vjp_b),
    jvp=(lambda t, ans, a, b: matmul(t, b), lambda t, ans, a, b: matmul(a, t)),
    batch=_matmul_batch,
)
matmul.taylor = taylor_bilinear(matmul)
matmul.keywords = False  # numpy's gufunc keywords (axes=, out=, ...): numpy's on plain arrays, refused on traced
matmul.declare_reads(answer=False, arguments=((1,), (0,)))
matmul.__doc__ = """a @ b with numpy's matmul semantics: (..., n, k) @ (..., k, m) -> (..., n, m).

VJPs for 2-D operands: g @ b.T and a.T @ g. Stack axes broadcast (and
their cotangents are summed back); 1-D operands are vectors.
"""


# --------------------------------------------------------------- einsum

def _split_subscripts(subscripts):
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        inputs, output = subscripts.split("->")
        if "->" in output:
            raise ValueError("einsum: subscripts may contain '->' only once")
    else:
        inputs, output = subscripts, None
    return inputs.split(","), output


def parse_einsum(subscripts, shapes):
    """Explicit-letter form of numpy einsum ``subscripts`` for operands of ``shapes``.

    Returns ``(inputs, output)``: one letter string per operand (ellipses
    replaced by letters, broadcast from the right) and the output's letters
    (for implicit output: the letters seen once, sorted, after the ellipsis
    axes, as numpy does). Raises ValueError naming the problem.
    """
    inputs, output = _split_subscripts(subscripts)
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: {len(inputs)} operand subscripts for {len(shapes)} operands")
    used = set()
    for part in inputs + ([output] if output is not None else []):
        for c in part.replace("...", ""):
            if c not in _LETTERS:
                raise ValueError(f"einsum: invalid subscript {c!r} (subscripts are letters a-z, A-Z)")
            used.add(c)
        if part.replace("...", "").count(".") or part.count("...") > 1:
            raise ValueError(f"einsum: invalid ellipsis in subscripts {part!r}")
    ellipsis_ndims = []
    for part, shape in zip(inputs, shapes):
        named = len(part.replace("...", ""))
        if "..." in part:
            if len(shape) < named:
                raise ValueError(f"einsum: operand of shape {tuple(shape)} has fewer dimensions than "
                                 f"subscripts {part!r}")
            ellipsis_ndims.append(len(shape) - named)
        else:
            if len(shape) != named:
                raise ValueError(f"einsum: operand of shape {tuple(shape)} has {len(shape)} dimensions but "
                                 f"subscripts {part!r} name {named}")
            ellipsis_ndims.append(0)
    broadcast_ndim = max(ellipsis_ndims, default=0)
    ellipsis_letters = "".join(letters(broadcast_ndim, avoid=used))
    explicit = [part.replace("...", ellipsis_letters[broadcast_ndim - n:] if n else "")
                for part, n in zip(inputs, ellipsis_ndims)]
    if output is None:
        counts = {}
        for part in inputs:
            for c in part.replace("...", ""):
                counts[c] = counts.get(c, 0) + 1
        output = ellipsis_letters + "".join(sorted((c for c, n in counts.items() if n == 1),
                                                   key=lambda c: (c.isupper(), c)))
    else:
        if "..." not in output and broadcast_ndim and any(ellipsis_ndims):
            raise ValueError("einsum: output has more dimensions than subscripts given in einstein sum, but "
                             "no '...' ellipsis provided to broadcast the extra dimensions.")
        output = output.replace("...", ellipsis_letters)
        all_inputs = set("".join(explicit))
        for c in output:
            if c not in all_inputs:
                raise ValueError(f"einsum: output subscript {c!r} does not appear in the operands' subscripts")
        if len(set(output)) != len(output):
            raise ValueError(f"einsum: output subscript {output!r} repeats a letter")
    return explicit, output


def _letter_sizes(inputs, shapes):
    sizes = {}
    for part, shape in zip(inputs, shapes):
        for c, n in zip(part, shape):
            if n != 1 or c not in sizes:
                if c in sizes and sizes[c] != 1 and sizes[c] != n:
                    raise ValueError(f"einsum: subscript {c!r} has sizes {sizes[c]} and {n}, which do not "
                                     "broadcast together")
                sizes[c] = n
    return sizes


def _einsum_impl(*operands, subscripts):
    inputs, output = subscripts.split("->")
    sizes = _letter_sizes(inputs.split(","), [np.shape(x) for x in operands])
    work = 1
    for n in sizes.values():
        work *= n
    if work > _MATMUL_WORK and len(operands) == 2 and type(operands[0]) is np.ndarray \
            and type(operands[1]) is np.ndarray:
        plan = _matmul_plan(subscripts, operands[0].shape, operands[1].shape)
        if plan is not None:
            return _run_matmul_plan(plan, *operands)
    # numpy's own loop is fastest for small problems; its optimizer (BLAS via tensordot) for big or many operands.
    return np.einsum(subscripts, *operands, optimize="greedy" if work > 20000 else False)


# Above this many multiply-adds, a two-operand einsum runs as one (batched) matmul: numpy's own loop
# takes about 23 ns per multiply-add when its inner loops are short (GradBench gmm's "kjl,nkl->nkj" on
# (5, 2, 2) and (1000, 5, 2): 460 us, against 16 us as a matmul), and optimize= spends about 20 us
# planning before it gets to the same batched matmul (numpy's bmm_einsum).
_MATMUL_WORK = 1000


@functools.lru_cache(maxsize=1024)
def _matmul_plan(subscripts, shape_a, shape_b):
    """How "ab..,cd..->.." on arrays of these shapes runs as one matmul, or None (a repeated letter in
    an operand, a letter of size 1 against n, or no matrix product to speak of): the axes summed in one
    operand only, the transpositions to (batch, kept, contracted) and (batch, contracted, kept), and
    back to the output."""
    inputs, output = subscripts.split("->")
    a, b = inputs.split(",")
    if len(set(a)) != len(a) or len(set(b)) != len(b):
        return None
    size = dict(zip(a, shape_a))
    for c, n in zip(b, shape_b):
        if size.setdefault(c, n) != n:
            return None
    sum_a = tuple(i for i, c in enumerate(a) if c not in b and c not in output)
    sum_b = tuple(i for i, c in enumerate(b) if c not in a and c not in output)
    a = "".join(c for c in a if c in b or c in output)
    b = "".join(c for c in b if c in a or c in output)
    batch = [c for c in output if c in a and c in b]
    left = [c for c in output if c in a and c not in b]
    right = [c for c in output if c in b and c not in a]
    contracted = [c for c in a if c in b and c not in output]

    def count(letters):
        return int(np.prod([size[c] for c in letters], dtype=np.int64))

    nb, m, k, n = count(batch), count(left), count(contracted), count(right)
    if k == 1 or (m == 1 and n == 1):
        return None  # an outer or elementwise product, or a stack of dot products: numpy's own loop is faster
    perm_a = tuple(a.index(c) for c in batch + left + contracted)
    perm_b = tuple(b.index(c) for c in batch + contracted + right)
    product = "".join(batch + left + right)
    return (sum_a, sum_b, perm_a, (nb, m, k), perm_b, (nb, k, n), tuple(size[c] for c in product),
            tuple(product.index(c) for c in output))


def _run_matmul_plan(plan, a, b):
    sum_a, sum_b, perm_a, shape_a, perm_b, shape_b, product_shape, perm_out = plan
    if sum_a:
        a = a.sum(axis=sum_a)
    if sum_b:
        b = b.sum(axis=sum_b)
    product = np.matmul(a.transpose(perm_a).reshape(shape_a), b.transpose(perm_b).reshape(shape_b))
    return product.reshape(product_shape).transpose(perm_out)


def _einsum_vjp(argnum):
    def rule(g, ans, *operands, subscripts):
        inputs, output = subscripts.split("->")
        inputs = inputs.split(",")
        target = inputs[argnum]
        dtype = dtype_of(g)
        shape = shape_of(operands[argnum])
        parts = [output] + [part for i, part in enumerate(inputs) if i != argnum]
        arrays = [g] + [x for i, x in enumerate(operands) if i != argnum]
        available = set("".join(parts))
        fresh = iter(letters(len(target), avoid=set(subscripts)))
        result = []
        seen = set()
        for c, n in zip(target, shape):
            if c in seen:
                # a repeated subscript reads a diagonal: the cotangent goes back onto it
                d = next(fresh)
                parts.append(c + d)
                arrays.append(np.eye(n, dtype=dtype))
                result.append(d)
                continue
            seen.add(c)
            result.append(c)
            if c not in available and target.count(c) == 1:
                # summed in this operand only: its cotangent is the same along that axis
                parts.append(c)
                arrays.append(np.ones(n, dtype=dtype))
        return einsum(*arrays, subscripts=",".join(parts) + "->" + "".join(result))

    return rule


def _einsum_batch(values, batched, subscripts):
    inputs, output = subscripts.split("->")
    (batch_letter,) = letters(1, avoid=set(subscripts))
    inputs = [batch_letter + part if b else part for part, b in zip(inputs.split(","), batched)]
    return einsum(*values, subscripts=",".join(inputs) + "->" + batch_letter + output)


def _einsum_taylor(ans, primals, series, subscripts):
    """Coefficient k of a multilinear f(x_1(t), ..., x_n(t)): sum over j_1 + ... + j_n = k of f(x_1j1, ...)."""
    traced = [i for i, s in enumerate(series) if s is not None]
    order = shape_of(series[traced[0]])[0]
    if len(traced) == 1:
        (i,) = traced
        args = list(primals)
        args[i] = series[i]
        return einsum_p.batch(args, [j == i for j in range(len(primals))], subscripts=subscripts)
    full = {i: stack_series(primals[i], series[i]) for i in traced}
    combos = [c for c in itertools.product(range(order + 1), repeat=len(traced)) if 1 <= _total(c) <= order]
    args = list(primals)
    for position, i in enumerate(traced):
        args[i] = take(full[i], np.array([c[position] for c in combos]), axis=0)
    products = einsum_p.batch(args, [i in full for i in range(len(primals))], subscripts=subscripts)
    summing = np.zeros((order, len(combos)), dtype=dtype_of(products))
    for column, c in enumerate(combos):
        summing[_total(c) - 1, column] = 1
    return tensordot(summing, products, axes=1)


einsum_p = Primitive(
    "einsum", _einsum_impl,
    vjp=_einsum_vjp,
    jvp=lambda argnum: lambda t, ans, *operands, subscripts: einsum_p(
        *[t if i == argnum else x for i, x in enumerate(operands)], subscripts=subscripts),
    batch=_einsum_batch,
    taylor=_einsum_taylor,
)
# The rules read the other operands, never the answer: a recording drops a big answer (as matmul's).
# (Declared for two operands; with more, each reads all the others and nothing is declared: all is kept.)
einsum_p.declare_reads(answer=False, arguments=((1,), (0,)))
einsum_p.__doc__ = """numpy.einsum on explicit subscripts ("ij,jk->ik": letters only, output given,
every letter of one size). The public ``einsum`` brings numpy's full syntax to this form."""


def einsum(*operands, subscripts=None, optimize=None, out=None, dtype=None, order="K", casting="safe"):
    """numpy.einsum, differentiable: ``einsum("ij,jk->ik", a, b)``.

    Accepts numpy's subscripts (implicit or explicit output, ``...``
    broadcasting, repeated subscripts for diagonals, size-1 broadcasting)
    and the interleaved form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``. The
    VJP of each operand is an einsum of the cotangent with the other operands
    (repeated subscripts put it back on the diagonal). ``optimize`` is
    accepted for compatibility; hodiff picks numpy's strategy by size.

    >>> import numpy as np, hodiff.numpy as hnp
    >>> float(hnp.einsum("ii->", np.eye(3)))
    3.0
    >>> hnp.einsum("...ij,jk", np.ones((5, 2, 3)), np.ones((3, 4))).shape
    (5, 2, 4)
    """
    if subscripts is not None:  # internal calls: explicit form, primitive directly
        return einsum_p(*operands, subscripts=subscripts)
    if out is not None or dtype is not None or order != "K" or casting != "safe":
        raise TypeError("hodiff.numpy.einsum: out=, dtype=, order= and casting= are not supported")
    if operands and isinstance(operands[0], str):
        subscripts, operands = operands[0], operands[1:]
    else:
        subscripts, operands = _interleaved_subscripts(operands)
    operands = [_array(x) for x in operands]
    shapes = [tuple(shape_of(x)) for x in operands]
    inputs, output = parse_einsum(subscripts, shapes)
    sizes = _letter_sizes(inputs, shapes)
    for i, (part, shape) in enumerate(zip(inputs, shapes)):
        full = tuple(sizes[c] for c in part)
        if full != shape:  # numpy broadcasts length-1 axes; make it explicit so rules see one size per letter
            operands[i] = broadcast_to(operands[i], shape=full)
    return einsum_p(*operands, subscripts=",".join(inputs) + "->" + output)


def _interleaved_subscripts(arguments):
    arguments = list(arguments)
    output = arguments.pop() if len(arguments) % 2 else None
    operands, parts = arguments[0::2], arguments[1::2]

    def part(sublist):
        out = ""
        for item in sublist:
            if item is Ellipsis:
                out += "..."
            elif isinstance(item, (int, np.integer)) and 0 <= item < len(_LETTERS):
                out += _LETTERS[item]
            else:
                raise ValueError(f"einsum: sublist entries must be ints in [0, 52) or Ellipsis, got {item!r}")
        return out

    subscripts = ",".join(part(p) for p in parts)
    if output is not None:
        subscripts += "->" + part(output)
    return subscripts, operands


# --------------------------------------------------------------- compositions

def dot(a, b, out=None):
    """numpy.dot: matmul for vectors and matrices; for N-D a and M-D b (M >= 2), a contracted
    over its last axis with b's second-to-last (tensordot); a scalar operand multiplies."""
    if out is not None:
        raise TypeError("hodiff.numpy.dot: out= is not supported")
    a, b = _array(a), _array(b)
    a_ndim, b_ndim = ndim_of(a), ndim_of(b)
    if a_ndim == 0 or b_ndim == 0:
        return multiply(a, b)
    if b_ndim <= 2 or a_ndim == 1:
        _check_matmul(a, b)
        return matmul(a, b)
    return tensordot(a, b, axes=((a_ndim - 1,), (b_ndim - 2,)))


def inner(a, b):
    """numpy.inner: contract the last axes of a and b (a scalar operand multiplies)."""
    a, b = _array(a), _array(b)
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return multiply(a, b)
    if shape_of(a)[-1] != shape_of(b)[-1]:
        raise ValueError(f"inner: last dimensions differ: {tuple(shape_of(a))} and {tuple(shape_of(b))}")
    if ndim_of(a) == 1 and ndim_of(b) == 1:
        return matmul(a, b)
    return tensordot(a, b, axes=((ndim_of(a) - 1,), (ndim_of(b) - 1,)))


def outer(a, b, out=None):
    """numpy.outer: out[i, j] = a.ravel()[i] * b.ravel()[j]."""
    if out is not None:
        raise TypeError("hodiff.numpy.outer: out= is not supported")
    a, b = _array(a), _array(b)
    return multiply(reshape(a, shape=(-1, 1)), reshape(b, shape=(1, -1)))


def _gufunc_options(name, options):
    if options:
        raise TypeError(f"hodiff.numpy.{name}: argument{'s' if len(options) > 1 else ''} {', '.join(options)} "
                        "not supported")


def _both_plain(x1, x2):
    """Neither operand traced nor of another backend: numpy's own gufunc gives its exact answer and dtype (a
    bool vecdot is a logical sum, an int one stays int)."""
    return type(x1) is np.ndarray and type(x2) is np.ndarray


def vdot(a, b, /):
    """numpy.vdot: sum(conj(a) * b) of the flattened operands (equal sizes), conjugating a as numpy does."""
    if _both_plain(a, b):
        return np.vdot(a, b)
    a, b = _array(a), _array(b)
    size_a, size_b = int(np.prod(shape_of(a), dtype=np.int64)), int(np.prod(shape_of(b), dtype=np.int64))
    if size_a != size_b:
        raise ValueError(f"vdot: the operands have {size_a} and {size_b} entries (they must have as many)")
    flat_a = reshape(a, shape=(size_a,))
    return matmul(conj(flat_a) if np.issubdtype(dtype_of(a), np.complexfloating) else flat_a,
                  reshape(b, shape=(size_b,)))


def vecdot(x1, x2, /, *, axis=-1, **options):
    """numpy.vecdot: sum(conj(x1) * x2) over ``axis`` of the broadcast pair (conjugating as numpy does)."""
    if _both_plain(x1, x2):
        return np.vecdot(x1, x2, axis=axis, **options)
    _gufunc_options("vecdot", options)
    x1, x2 = _array(x1), _array(x2)
    if shape_of(x1)[axis] != shape_of(x2)[axis]:
        raise ValueError(f"vecdot: axis {axis} differs in length: {tuple(shape_of(x1))} and {tuple(shape_of(x2))}")
    product = multiply(conj(x1), x2)
    return sum(product, axis=(_normalize_axis(axis, ndim_of(product)),), keepdims=False)


def _matrix_and_vector(name, x1, x2, options, matrix_first):
    """matvec's and vecmat's operands as arrays, with numpy's options refused and the ranks checked."""
    _gufunc_options(name, options)
    x1, x2 = _array(x1), _array(x2)
    least = (2, 1) if matrix_first else (1, 2)
    if ndim_of(x1) < least[0] or ndim_of(x2) < least[1]:
        raise ValueError(f"{name}: needs {'a matrix and a vector' if matrix_first else 'a vector and a matrix'}, "
                         f"got shapes {tuple(shape_of(x1))} and {tuple(shape_of(x2))}")
    return x1, x2


def matvec(x1, x2, /, **options):
    """numpy.matvec: x1 (..., m, n) times the vector x2 (..., n), batch axes broadcast: (..., m)."""
    if _both_plain(x1, x2):
        return np.matvec(x1, x2, **options)
    x1, x2 = _matrix_and_vector("matvec", x1, x2, options, matrix_first=True)
    column = matmul(x1, reshape(x2, shape=tuple(shape_of(x2)) + (1,)))
    return reshape(column, shape=tuple(shape_of(column))[:-1])


def vecmat(x1, x2, /, **options):
    """numpy.vecmat: the vector conj(x1) (..., n) times x2 (..., n, m), batch axes broadcast: (..., m)."""
    if _both_plain(x1, x2):
        return np.vecmat(x1, x2, **options)
    x1, x2 = _matrix_and_vector("vecmat", x1, x2, options, matrix_first=False)
    row = matmul(reshape(conj(x1), shape=tuple(shape_of(x1))[:-1] + (1, shape_of(x1)[-1])), x2)
    return reshape(row, shape=tuple(shape_of(row))[:-2] + tuple(shape_of(row))[-1:])


def kron(a, b):
    """numpy.kron: the Kronecker product (block (i, j) of the result is a[i, j] * b)."""
    a, b = _array(a), _array(b)
    ndim = max(ndim_of(a), ndim_of(b))
    a_shape = (1,) * (ndim - ndim_of(a)) + tuple(shape_of(a))
    b_shape = (1,) * (ndim - ndim_of(b)) + tuple(shape_of(b))
    # a on the even axes, b on the odd ones: (a0, b0, a1, b1, ...) then merge each pair.
    product = multiply(reshape(a, shape=tuple(n for m in a_shape for n in (m, 1))),
                       reshape(b, shape=tuple(n for m in b_shape for n in (1, m))))
    return reshape(product, shape=tuple(m * n for m, n in zip(a_shape, b_shape)))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """numpy.trace: the sum of the ``offset`` diagonal of the (axis1, axis2) planes."""
    if out is not None:
        raise TypeError("hodiff.numpy.trace: out= is not supported")
    a = accumulated_as(_array(a), dtype)
    ndim = ndim_of(a)
    if ndim < 2:
        raise ValueError("trace: the array must be at least 2-D")
    _normalize_axis(axis1, ndim), _normalize_axis(axis2, ndim)
    return sum(diagonal(a, offset, axis1, axis2), axis=-1)


NUMPY_API = {
    "matmul": matmul,  # the primitive itself: ``@`` on tracers skips a wrapper (numpy checks the shapes)
    "einsum": einsum,
    "dot": dot,
    "inner": inner,
    "outer": outer,
    "vecdot": vecdot,
    "vdot": vdot,
    "matvec": matvec,
    "vecmat": vecmat,
    "kron": kron,
    "trace": trace,
}
