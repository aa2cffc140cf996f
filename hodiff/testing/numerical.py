"""Finite-difference references, computed by ``scipy.differentiate``.

Nothing here uses hodiff's derivative machinery: the user's function is only
ever evaluated on plain numpy values, one point at a time, and scipy's
adaptive central differences with Richardson extrapolation turn those values
into derivatives. That independence is what makes them a reference.

Complex values are handled as pairs of reals: a complex input moves along a
complex direction ``x + t v`` with real ``t``, and a complex output is
differentiated as its real and imaginary parts.
"""

import numpy as np

from ..core.tree import tree_flatten, tree_unflatten

__all__ = ["numerical_jvp", "numerical_jacobian", "DEFAULT_EPS"]

#: Initial finite-difference step (scipy's ``initial_step``); scipy shrinks it
#: by 2 each iteration until its error estimate meets the tolerance.
DEFAULT_EPS = 1e-2


def _as_float_array(value):
    """A leaf as an inexact numpy array, widened to double precision for accuracy."""
    array = np.asarray(value)
    if np.iscomplexobj(array):
        return array.astype(np.complex128)
    return array.astype(np.float64)


def _leaf_info(leaves):
    """Shapes and complexity of output leaves, to pack them into one real vector."""
    return [(np.shape(leaf), np.iscomplexobj(leaf)) for leaf in leaves]


def _pack_real(leaves):
    """Output leaves as one real vector: real leaves raveled, complex ones as real then imaginary parts."""
    parts = []
    for leaf in leaves:
        array = np.asarray(leaf)
        if np.iscomplexobj(array):
            parts.append(array.real.ravel())
            parts.append(array.imag.ravel())
        else:
            parts.append(array.astype(np.float64).ravel())
    return np.concatenate(parts) if parts else np.zeros(0)


def _unpack_real(vector, info):
    """Inverse of ``_pack_real`` along axis 0 of ``vector`` (extra trailing axes kept)."""
    leaves = []
    start = 0
    for shape, is_complex in info:
        size = int(np.prod(shape, dtype=np.int64))
        rest = vector.shape[1:]
        if is_complex:
            real = vector[start:start + size]
            imag = vector[start + size:start + 2 * size]
            start += 2 * size
            leaves.append((real + 1j * imag).reshape(shape + rest))
        else:
            leaves.append(vector[start:start + size].reshape(shape + rest))
            start += size
    return leaves


def _scipy_jacobian(function, point, eps):
    """scipy.differentiate.jacobian of ``function``: R^m -> R^n (one point per call) at ``point``.

    Returns ``(df, error)``, both of shape (n, m). ``function`` takes a 1-d
    array of length m and returns a 1-d real array of length n; the loop over
    scipy's evaluation points happens here, so ``function`` need not be
    vectorized.
    """
    from scipy.differentiate import jacobian

    def vectorized(xi):
        # xi has shape (m,) + batch; evaluate one point at a time.
        batch_shape = xi.shape[1:]
        results = None
        for index in np.ndindex(batch_shape):
            value = function(xi[(slice(None),) + index])
            if results is None:
                results = np.empty((value.shape[0],) + batch_shape)
            results[(slice(None),) + index] = value
        return results

    with np.errstate(all="ignore"):
        result = jacobian(vectorized, np.asarray(point, dtype=np.float64),
                          initial_step=DEFAULT_EPS if eps is None else eps)
    return result.df, result.error


def numerical_jvp(f, primals, tangents, *, eps=None):
    """Finite-difference directional derivative: d/dt f(*(primals + t tangents)) at t = 0.

    ``primals`` and ``tangents`` are tuples with one entry per argument of f
    (pytrees allowed, tangents shaped like their primals). Returns the output
    tangent with the structure and shapes of f's output (complex where the
    output is complex), in double precision.

    >>> import numpy as np
    >>> from hodiff.testing import numerical_jvp
    >>> round(float(numerical_jvp(np.sin, (0.0,), (2.0,))), 8)
    2.0
    """
    flat_primals, in_tree = tree_flatten(tuple(primals))
    flat_tangents, tangent_tree = tree_flatten(tuple(tangents))
    if tangent_tree != in_tree:
        raise ValueError(f"numerical_jvp: tangents structure {tangent_tree!r} differs from primals {in_tree!r}")
    flat_primals = [_as_float_array(p) for p in flat_primals]
    flat_tangents = [_as_float_array(t) for t in flat_tangents]
    out_leaves, out_tree = tree_flatten(f(*tree_unflatten(in_tree, flat_primals)))
    info = _leaf_info(out_leaves)

    def along_direction(t):
        moved = [p + t[0] * v for p, v in zip(flat_primals, flat_tangents)]
        return _pack_real(tree_flatten(f(*tree_unflatten(in_tree, moved)))[0])

    df, _ = _scipy_jacobian(along_direction, np.zeros(1), eps)
    return tree_unflatten(out_tree, _unpack_real(df[:, 0], info))


def numerical_jacobian(f, x, layout="numerator", *, eps=None):
    """Finite-difference Jacobian of ``f`` at ``x`` (scipy.differentiate.jacobian, Richardson).

    ``x`` is an array or scalar (real or complex); f returns an array or
    scalar. The layout rule is that of ``hd.jacobian``:

    - ``layout="numerator"``: shape ``out_shape + in_shape``, entry
      ``[i..., j...] = d out[i...] / d x[j...]``;
    - ``layout="denominator"``: shape ``in_shape + out_shape``.

    Pytrees follow ``hd.jacobian`` too: for a pytree x and/or output the result
    is nested, output structure outside, input structure inside, each block in
    the requested layout. For a complex x the derivative is the one along
    real directions (d/dt f(x + t e_j)), which is the complex derivative when
    f is holomorphic.

    >>> import numpy as np
    >>> from hodiff.testing import numerical_jacobian
    >>> np.round(numerical_jacobian(lambda x: x ** 2, np.array([1.0, 2.0])), 6)
    array([[2., 0.],
           [0., 4.]])
    """
    if layout not in ("numerator", "denominator"):
        raise ValueError(f"numerical_jacobian: layout must be 'numerator' or 'denominator', got {layout!r}")
    flat_inputs, in_tree = tree_flatten(x)
    flat_inputs = [_as_float_array(leaf) for leaf in flat_inputs]
    in_shapes = [leaf.shape for leaf in flat_inputs]
    in_sizes = [leaf.size for leaf in flat_inputs]
    complex_input = [np.iscomplexobj(leaf) for leaf in flat_inputs]
    out_leaves, out_tree = tree_flatten(f(tree_unflatten(in_tree, flat_inputs)))
    info = _leaf_info(out_leaves)
    point = np.concatenate([leaf.ravel().real for leaf in flat_inputs]) if flat_inputs else np.zeros(0)
    imaginary = np.concatenate([leaf.ravel().imag if c else np.zeros(leaf.size)
                                for leaf, c in zip(flat_inputs, complex_input)]) if flat_inputs else point

    def from_vector(vector):
        # Real perturbations of the real parts; the imaginary parts are held fixed.
        values = vector + 1j * imaginary if any(complex_input) else vector
        leaves, start = [], 0
        for shape, size, is_complex in zip(in_shapes, in_sizes, complex_input):
            piece = values[start:start + size].reshape(shape)
            leaves.append(piece if is_complex else piece.real)
            start += size
        return _pack_real(tree_flatten(f(tree_unflatten(in_tree, leaves)))[0])

    if point.size == 0:
        df = np.zeros((_pack_real(out_leaves).size, 0))
    else:
        df, _ = _scipy_jacobian(from_vector, point, eps)
    flat = np.concatenate(_unpack_flat(df, info), axis=0) if info else np.zeros((0, point.size))
    from ..transforms.jacobian import assemble_jacobian

    return assemble_jacobian(flat, "numerator", out_tree, [shape for shape, _ in info], in_tree, in_shapes, layout)


def _unpack_flat(df, info):
    """Rows of a packed-real Jacobian back to (size_k, N) blocks, complex where the output is."""
    return [leaf.reshape(-1, df.shape[1]) for leaf in _unpack_real(df, info)]
