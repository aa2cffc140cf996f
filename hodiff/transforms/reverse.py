"""Reverse-mode transforms: ``vjp``, ``grad``, ``value_and_grad``, ``stop_gradient``."""

import functools

import numpy as np

from ..core.trace import Primitive, Tracer
from ..core.tree import tree_flatten, tree_map, tree_unflatten
from ..interpreters.reverse import ReverseTrace, ReverseTracer, backward_pass
from ._args import check_differentiable, dtype_of_value, normalize_argnums

__all__ = ["vjp", "grad", "value_and_grad", "stop_gradient"]


def _stop_gradient_batch(values, batched):
    return stop_gradient(values[0])


stop_gradient = Primitive("stop_gradient", lambda x: x, differentiable=False, batch=_stop_gradient_batch)
stop_gradient.__doc__ = """x, as a constant to every transform (its derivative is zero)."""


def _lower(value, trace):
    """A traced output seen from outside ``trace``: its value, or itself if it is a constant."""
    return value.value if isinstance(value, ReverseTracer) and value._trace is trace else value


def _zeros_like(value):
    from ..primitives.shape import zeros_like

    return zeros_like(value)


def _match_input(gradient, primal):
    """Give a gradient the input's dtype (and Python scalars' numpy scalar form)."""
    dtype = dtype_of_value(primal)
    if isinstance(gradient, Tracer):
        # A real input's cotangent may carry a meaningless imaginary part picked up from complex
        # intermediates; drop it here too when the gradient is traced (higher order).
        if np.issubdtype(gradient.dtype, np.complexfloating) and not np.issubdtype(dtype, np.complexfloating):
            from ..primitives.elementwise import real

            return real(gradient)
        return gradient
    gradient = np.asarray(gradient)
    if gradient.dtype != dtype:
        if np.iscomplexobj(gradient) and not np.issubdtype(dtype, np.complexfloating):
            gradient = gradient.real
        gradient = gradient.astype(dtype)
    if gradient.ndim == 0 and not isinstance(primal, np.ndarray):
        return gradient[()]  # numpy scalar for Python or numpy scalar inputs
    return gradient


def vjp(f, *primals, has_aux=False):
    """Evaluate ``f(*primals)`` and return ``(out, vjp_fn)`` (plus ``aux`` with has_aux).

    ``vjp_fn(cotangent)`` takes a cotangent with the structure, shapes and
    dtypes of ``out`` and returns a tuple with one cotangent per primal, each
    with its primal's structure: the row vector ``cotangent @ J`` in the
    numerator layout. The recorded graph is reused by every call of vjp_fn.

    >>> import hodiff as hd, hodiff.numpy as hnp
    >>> out, vjp_fn = hd.vjp(lambda x, y: x * y, 3.0, 4.0)
    >>> [float(c) for c in vjp_fn(1.0)]
    [4.0, 3.0]
    """
    for i, primal in enumerate(primals):
        check_differentiable(primal, i, "vjp")
    trace = ReverseTrace()
    flat_primals, in_tree = tree_flatten(primals)
    leaves = [trace.new_leaf(p) for p in flat_primals]
    try:
        result = f(*tree_unflatten(in_tree, leaves))
    finally:
        trace.alive = False
    if has_aux:
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise TypeError("has_aux=True needs f to return a pair (output, aux)")
        result, aux = result
        aux = tree_map(lambda leaf: _lower(leaf, trace), aux)
    flat_out, out_tree = tree_flatten(result)
    out_values = [_lower(leaf, trace) for leaf in flat_out]
    roots = [leaf.node if isinstance(leaf, ReverseTracer) and leaf._trace is trace else None for leaf in flat_out]
    input_nodes = [leaf.node for leaf in leaves]

    def vjp_fn(cotangent):
        flat_cotangents, cotangent_tree = tree_flatten(cotangent)
        if cotangent_tree != out_tree:
            raise ValueError(f"vjp_fn: cotangent structure {cotangent_tree!r} does not match output {out_tree!r}")
        starts = []
        for node, ct, out in zip(roots, flat_cotangents, out_values):
            ct_shape = ct.shape if isinstance(ct, Tracer) else np.shape(ct)
            out_shape = out.shape if isinstance(out, Tracer) else np.shape(out)
            if ct_shape != out_shape:
                raise ValueError(f"vjp_fn: cotangent of shape {ct_shape} for an output of shape {out_shape}")
            if node is not None:
                starts.append((node, ct))
        found = backward_pass(starts, set(input_nodes))
        flat_grads = [
            _match_input(found[node], primal) if node in found else _zeros_like(primal)
            for node, primal in zip(input_nodes, flat_primals)
        ]
        return tree_unflatten(in_tree, flat_grads)

    out = tree_unflatten(out_tree, out_values)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def value_and_grad(f, argnums=0, has_aux=False, holomorphic=False):
    """Return a function giving ``(f(*args), df/dargs)`` for scalar-valued ``f``.

    The gradient of argument i has that argument's structure, shape and
    dtype. ``argnums`` (int or tuple) picks the arguments; with a tuple the
    gradient is a tuple. f must return a scalar (a Python or numpy scalar, a
    0-d array or an array of size 1). For complex inputs the result follows
    JAX: for real-valued f it is the conjugate of the Wirtinger gradient
    (``2 df/dz*`` conjugated); ``holomorphic=True`` gives f'(z) for holomorphic f.

    >>> import hodiff as hd, hodiff.numpy as hnp
    >>> value, gradient = hd.value_and_grad(lambda x: hnp.sin(x) * x)(1.0)
    >>> round(float(gradient), 6)  # cos(1) + sin(1)
    1.381773
    """

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        argnums_tuple, single = normalize_argnums(argnums, len(args), "grad")
        for argnum in argnums_tuple:
            check_differentiable(args[argnum], argnum, "grad")

        def f_of_chosen(*chosen):
            full = list(args)
            for argnum, value in zip(argnums_tuple, chosen):
                full[argnum] = value
            return f(*full, **kwargs)

        chosen = tuple(args[a] for a in argnums_tuple)
        if has_aux:
            out, vjp_fn, aux = vjp(f_of_chosen, *chosen, has_aux=True)
        else:
            out, vjp_fn = vjp(f_of_chosen, *chosen)
        seed = _scalar_seed(out, holomorphic)
        gradients = vjp_fn(seed)
        gradients = gradients[0] if single else gradients
        return ((out, aux), gradients) if has_aux else (out, gradients)

    return value_and_grad_f


def grad(f, argnums=0, has_aux=False, holomorphic=False):
    """Return a function giving df/dx for scalar-valued ``f`` (see ``value_and_grad``).

    Composes to any order: ``grad(grad(f))`` is the second derivative.

    >>> import hodiff as hd, hodiff.numpy as hnp
    >>> float(hd.grad(hd.grad(hnp.sin))(0.5)) == float(-hnp.sin(0.5))
    True
    """
    value_and_grad_f = value_and_grad(f, argnums, has_aux, holomorphic)

    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        result, gradients = value_and_grad_f(*args, **kwargs)
        return (gradients, result[1]) if has_aux else gradients

    return grad_f


def _scalar_seed(out, holomorphic):
    if isinstance(out, (tuple, list, dict)):
        raise TypeError(
            "grad requires f to return a scalar, but it returned a "
            f"{type(out).__name__}; use hd.jacobian or hd.vjp for structured outputs"
        )
    shape = out.shape if isinstance(out, Tracer) else np.shape(out)
    size = int(np.prod(shape, dtype=np.int64))
    if size != 1:
        raise TypeError(
            f"grad requires f to return a scalar (or an array of size 1), but it returned shape {shape}; "
            "use hd.jacobian for the full derivative or hd.vjp for a vector-Jacobian product"
        )
    dtype = dtype_of_value(out)
    if np.issubdtype(dtype, np.complexfloating) and not holomorphic:
        raise TypeError(
            "grad requires a real-valued output, but f returned a complex value; for a holomorphic "
            "f pass holomorphic=True, otherwise differentiate its real part or abs"
        )
    if not np.issubdtype(dtype, np.inexact):
        dtype = np.dtype(float)
    return np.ones(shape, dtype=dtype)
