"""Jacobians in both layouts: ``jacobian``, ``jacfwd``, ``jacrev``, ``convert_layout``.

Layouts (for y = f(x), x of shape ``in_shape``, y of shape ``out_shape``):

- ``"numerator"`` (JAX, PyTorch): ``J[i..., j...] = dy[i...] / dx[j...]``,
  shape ``out_shape + in_shape``; for y in R^m, x in R^n an m x n matrix,
  and a VJP is ``u @ J``.
- ``"denominator"`` (the backprop lecture's): the transpose, shape
  ``in_shape + out_shape``, n x m, so that ``dL/dx = (dy/dx) (dL/dy)``.

Pytrees nest as in JAX, output structure outside and input structure inside:
for outputs ``{"a": ya}`` and ``argnums=(0, 1)`` the result is
``{"a": (J_a0, J_a1)}``; each block is laid out by ``layout``.
"""

from ..core.tree import tree_unflatten
from ..primitives.shape import getitem, reshape, transpose

__all__ = ["assemble_jacobian", "convert_layout"]


def _prod(shape):
    size = 1
    for n in shape:
        size *= int(n)
    return size


def _swap_groups(J, first_ndim, second_ndim):
    """Move the first ``first_ndim`` axes of J behind the next ``second_ndim`` ones."""
    if first_ndim == 0 or second_ndim == 0:
        return J
    axes = tuple(range(first_ndim, first_ndim + second_ndim)) + tuple(range(first_ndim))
    return transpose(J, axes=axes)


def convert_layout(J, in_shape, out_shape, src, dst):
    """Convert one Jacobian block between layouts.

    ``src``/``dst`` are ``"numerator"`` (J has shape out_shape + in_shape) or
    ``"denominator"`` (in_shape + out_shape). Works on traced values, so it
    can sit inside other transforms.

    >>> import numpy as np, hodiff as hd
    >>> J = np.arange(6.0).reshape(2, 3)          # y in R^2, x in R^3, numerator
    >>> hd.convert_layout(J, (3,), (2,), "numerator", "denominator").shape
    (3, 2)
    """
    in_shape, out_shape = tuple(in_shape), tuple(out_shape)
    for name, layout in (("src", src), ("dst", dst)):
        if layout not in ("numerator", "denominator"):
            raise ValueError(f"convert_layout: {name} must be 'numerator' or 'denominator', got {layout!r}")
    shape = tuple(J.shape) if hasattr(J, "shape") else ()
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


def assemble_jacobian(out_blocks, out_tree, in_tree, in_shapes, layout):
    """Nest per-output blocks into the Jacobian pytree.

    ``out_blocks[k]`` has shape ``out_shape_k + (N,)`` where N is the total
    size of all input leaves (flattened in ``in_tree`` order). Returns the
    output structure of (input structure of) blocks in ``layout``.
    """
    result = []
    for block in out_blocks:
        out_shape = tuple(block.shape[:-1])
        per_input = []
        start = 0
        for in_shape in in_shapes:
            size = _prod(in_shape)
            piece = getitem(block, index=(Ellipsis, slice(start, start + size)))
            piece = reshape(piece, shape=out_shape + tuple(in_shape))
            if layout == "denominator":
                piece = convert_layout(piece, in_shape, out_shape, "numerator", "denominator")
            per_input.append(piece)
            start += size
        result.append(tree_unflatten(in_tree, per_input))
    return tree_unflatten(out_tree, result)
