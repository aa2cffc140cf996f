"""Reverse-mode transforms: ``vjp``, ``grad``, ``value_and_grad``, ``stop_gradient``."""

import functools

import numpy as np

from ..core import backends
from ..core.trace import Primitive, Tracer
from ..core.tree import LEAF, tree_flatten, tree_unflatten
from ._args import check_differentiable, dtype_of_value, list_of_numbers_hint, normalize_argnums
from .recording import Recording

__all__ = ["vjp", "grad", "value_and_grad", "stop_gradient"]


def _stop_gradient_batch(values, batched):
    return stop_gradient(values[0])


stop_gradient = Primitive("stop_gradient", lambda x: x, differentiable=False, batch=_stop_gradient_batch)
stop_gradient.__doc__ = """x, as a constant to every transform (its derivative is zero)."""


_FLOATS = (float, np.float64)


def _match_input(gradient, primal):
    """Give a gradient the input's dtype (and Python scalars' numpy scalar form)."""
    gradient_type = type(gradient)
    if type(primal) is float and (gradient_type is float or gradient_type is np.float64):
        return np.float64(gradient)
    if gradient_type is np.ndarray and type(primal) is np.ndarray and gradient.dtype == primal.dtype:
        return gradient  # what the general path below returns, without its dtype machinery
    dtype = dtype_of_value(primal)
    if isinstance(gradient, Tracer):
        # Traced (an outer transform differentiates the gradient): the same projection, with primitives.
        from ..primitives.elementwise import astype, real

        if gradient.dtype != dtype and np.issubdtype(gradient.dtype, np.complexfloating) \
                and not np.issubdtype(dtype, np.complexfloating):
            gradient = real(gradient)  # the imaginary part a real input's cotangent picked up is meaningless
        if gradient.dtype != dtype and np.issubdtype(dtype, np.inexact):
            gradient = astype(gradient, dtype=dtype)
        return gradient
    gradient = backends.asarray(gradient, like=primal)  # np.asarray would compute a Dask gradient into numpy;
    # and a gradient that met only numpy constants on its way back takes the input's backend.
    if gradient.dtype != dtype:
        if np.iscomplexobj(gradient) and not np.issubdtype(dtype, np.complexfloating):
            gradient = gradient.real
        gradient = gradient.astype(dtype)
    if gradient.ndim == 0 and not isinstance(primal, np.ndarray) and backends.backend_name(primal) == "numpy":
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
    return _vjp(f, primals, has_aux)


def _vjp(f, primals, has_aux):
    """vjp without the argument checks (callers have made them)."""
    recording = Recording(f, primals, has_aux)
    out_values = recording.out_values

    def vjp_fn(cotangent):
        flat_cotangents, cotangent_tree = tree_flatten(cotangent)
        if cotangent_tree != recording.out_tree:
            raise ValueError(
                f"vjp_fn: cotangent structure {cotangent_tree!r} does not match output {recording.out_tree!r}")
        for ct, out in zip(flat_cotangents, out_values):
            if type(ct) is not float or type(out) not in _FLOATS:  # Python-float pairs match trivially
                ct_shape = ct.shape if isinstance(ct, Tracer) else np.shape(ct)
                out_shape = out.shape if isinstance(out, Tracer) else np.shape(out)
                if ct_shape != out_shape:
                    raise ValueError(f"vjp_fn: cotangent of shape {ct_shape} for an output of shape {out_shape}")
        gradients = recording.pullback(*flat_cotangents)
        flat_grads = [_match_input(g, p) for g, p in zip(gradients, recording.flat_primals)]
        return tree_unflatten(recording.in_tree, flat_grads)

    return (recording.out, vjp_fn, recording.aux) if has_aux else (recording.out, vjp_fn)


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

    argnum_cache = {}  # number of positional arguments -> (argnums tuple, single, all arguments in order)

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        normalized = argnum_cache.get(len(args))
        if normalized is None:
            argnums_tuple, single = normalize_argnums(argnums, len(args), "grad")
            normalized = argnum_cache[len(args)] = argnums_tuple, single, argnums_tuple == tuple(range(len(args)))
        argnums_tuple, single, every = normalized
        for argnum in argnums_tuple:
            check_differentiable(args[argnum], argnum, "grad")
            if holomorphic:
                _check_holomorphic_input(args[argnum], argnum)
        if every and not kwargs:
            f_of_chosen, chosen = f, args  # every argument, in order: no wrapper
        else:
            def f_of_chosen(*chosen):
                full = list(args)
                for argnum, value in zip(argnums_tuple, chosen):
                    full[argnum] = value
                return f(*full, **kwargs)

            chosen = tuple(args[a] for a in argnums_tuple)
        try:
            recording = Recording(f_of_chosen, chosen, has_aux)
        except TypeError as error:
            hint = list_of_numbers_hint(args, argnums_tuple, "grad")
            if hint is None:
                raise
            raise TypeError(f"{error}\n{hint}") from error
        out = recording.out_values[0] if recording.out_tree is LEAF else recording.out
        seed = _scalar_seed(out, holomorphic)
        if recording.out_tree is not LEAF:
            raise ValueError(f"grad: f returned {recording.out_tree!r}, not one scalar")  # e.g. None
        # The recording is used once: its values are freed during the backward pass.
        flat_grads = [_match_input(g, p) for g, p in zip(recording.pullback(seed, consume=True),
                                                         recording.flat_primals)]
        gradients = tree_unflatten(recording.in_tree, flat_grads)
        gradients = gradients[0] if single else gradients
        return ((out, recording.aux), gradients) if has_aux else (out, gradients)

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


def _check_holomorphic_input(tree, argnum):
    """TypeError (as JAX) when holomorphic=True is given a real argument: f'(z) needs complex z."""
    for leaf in tree_flatten(tree)[0]:
        dtype = dtype_of_value(leaf)
        if not np.issubdtype(dtype, np.complexfloating):
            raise TypeError(
                f"grad with holomorphic=True requires complex inputs, but argument {argnum} has dtype "
                f"{dtype}; cast with x.astype(complex) (or pass 1.0 + 0j) or drop holomorphic=True")


def _scalar_seed(out, holomorphic):
    if type(out) is float or type(out) is np.float64:
        return 1.0
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
    if shape == () and dtype == np.float64:
        return 1.0  # a Python float keeps scalar graphs on the fast scalar path
    return np.ones(shape, dtype=dtype)
