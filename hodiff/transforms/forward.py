"""Forward-mode transforms: ``jvp`` and ``linearize``."""

import numpy as np

from ..core import backends
from ..core.trace import Tracer
from ..core.tree import tree_flatten, tree_unflatten
from ..interpreters.forward import Dual, ForwardTrace, lift_inner_duals
from ._args import check_differentiable, check_output_leaves, dtype_of_value
from .recording import Recording

__all__ = ["jvp", "linearize"]


def _shape(x):
    return x.shape if isinstance(x, Tracer) else np.shape(x)


def _flatten_pair(primals, tangents, transform):
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{transform}: primals and tangents must be tuples (one entry per argument of f)")
    if len(primals) != len(tangents):
        raise ValueError(f"{transform}: {len(primals)} primals but {len(tangents)} tangents")
    flat_primals, in_tree = tree_flatten(tuple(primals))
    flat_tangents, tangent_tree = tree_flatten(tuple(tangents))
    if in_tree != tangent_tree:
        raise ValueError(f"{transform}: tangents structure {tangent_tree!r} differs from primals {in_tree!r}")
    for i, primal in enumerate(primals):
        check_differentiable(primal, i, transform)
    for primal, tangent in zip(flat_primals, flat_tangents):
        if _shape(primal) != _shape(tangent):
            raise ValueError(f"{transform}: tangent of shape {_shape(tangent)} for a primal of shape {_shape(primal)}")
    return flat_primals, flat_tangents, in_tree


def _as_tangent(tangent, primal, transform="jvp"):
    """Tangents take their primal's dtype, as JAX requires; a complex one of a real primal is refused
    (casting dropped its imaginary part with only numpy's ComplexWarning)."""
    dtype = dtype_of_value(primal)
    tangent_dtype = getattr(tangent, "dtype", None)  # (not `or`: a dtype without fields is falsy)
    if tangent_dtype is None:
        tangent_dtype = np.asarray(tangent).dtype
    if tangent_dtype.kind == "c" and dtype.kind != "c":
        raise TypeError(f"{transform}: a complex tangent for a real primal of dtype {dtype} (tangents take their "
                        "primal's dtype); make the primal complex, or push the real and imaginary parts as two "
                        "real tangents (J t = J Re t + i J Im t)")
    if isinstance(tangent, Tracer):
        return tangent
    tangent_type = type(tangent)
    if (tangent_type is float or tangent_type is int or tangent_type is complex) and (
            type(primal) is float or type(primal) is complex
            or isinstance(primal, Tracer) and primal.shape == () and (dtype == np.float64 or dtype == np.complex128)):
        # A Python scalar's tangent stays a Python scalar (weak under NEP 50, like JAX's weak types),
        # also for a traced scalar of Python's precision (nested derivatives in t): a 0-d float64
        # array would turn every float32 value it meets into float64.
        return complex(tangent) if dtype.kind == "c" else float(tangent)
    if tangent_type is np.ndarray and tangent.dtype == dtype and type(primal) is np.ndarray:
        return tangent
    # A Dask tangent stays Dask (np.asarray would compute it); a numpy one takes a Dask primal's backend.
    return backends.asarray(tangent, dtype=dtype, like=primal)


def jvp(f, primals, tangents):
    """Forward mode: ``(f(*primals), J @ tangents)`` without building any reverse graph.

    ``primals`` and ``tangents`` are tuples with one entry per argument of f
    (pytrees allowed, tangents shaped like their primals). The output tangent
    has the structure of f's output.

    >>> import hodiff as hd, hodiff.numpy as hnp
    >>> out, tangent = hd.jvp(hnp.sin, (0.0,), (2.0,))
    >>> float(out), float(tangent)
    (0.0, 2.0)
    """
    flat_primals, flat_tangents, in_tree = _flatten_pair(primals, tangents, "jvp")
    trace = ForwardTrace()
    duals = [Dual._make(p, _as_tangent(t, p), trace) for p, t in zip(flat_primals, flat_tangents)]
    try:
        result = lift_inner_duals(f(*tree_unflatten(in_tree, duals)), trace)
    finally:
        trace.alive = False
    return _unpack(result, trace)


def _unpack(result, trace):
    """(primal outputs, tangent outputs) of f's result, in its structure; zero tangents for constants."""
    flat_out, out_tree = tree_flatten(result)
    check_output_leaves(flat_out, "jvp")
    outs, out_tangents = [], []
    for leaf in flat_out:
        if isinstance(leaf, Dual) and leaf._trace is trace:
            outs.append(leaf.primal)
            out_tangents.append(leaf._tangent)
        else:
            from ..primitives.shape import zeros_like

            outs.append(leaf)
            out_tangents.append(zeros_like(leaf))
    return tree_unflatten(out_tree, outs), tree_unflatten(out_tree, out_tangents)


def linearize(f, *primals):
    """Return ``(f(*primals), jvp_fn)``; ``jvp_fn(*tangents)`` is J @ tangents.

    f is evaluated once: its graph is recorded, and each call of jvp_fn
    pushes tangents forward through the recorded nodes with their JVP rules,
    reusing the stored values instead of recomputing f.

    >>> import hodiff as hd, hodiff.numpy as hnp
    >>> out, jvp_fn = hd.linearize(hnp.exp, 0.0)
    >>> float(jvp_fn(3.0))
    3.0
    """
    for i, primal in enumerate(primals):
        check_differentiable(primal, i, "linearize")
    recording = Recording(f, primals, transform="linearize")

    def jvp_fn(*tangents):
        flat_tangents, tangent_tree = tree_flatten(tangents)
        if tangent_tree != recording.in_tree:
            raise ValueError(
                f"linearize: tangents structure {tangent_tree!r} differs from primals {recording.in_tree!r}")
        for primal, tangent in zip(recording.flat_primals, flat_tangents):
            if _shape(primal) != _shape(tangent):
                raise ValueError(
                    f"linearize: tangent of shape {_shape(tangent)} for a primal of shape {_shape(primal)}")
        seeds = [_as_tangent(t, p, "linearize") for t, p in zip(flat_tangents, recording.flat_primals)]
        return tree_unflatten(recording.out_tree, recording.pushforward(*seeds))

    return recording.out, jvp_fn
