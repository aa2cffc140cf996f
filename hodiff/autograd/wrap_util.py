"""``unary_to_nary``: autograd's way of turning an operator on f(x) into one on f(*args) with ``argnum``."""

import functools
import numbers

import numpy as np

from ..core.tree import tree_map

__all__ = ["unary_to_nary", "substitute", "get_name", "wraps"]


def get_name(fun):
    return getattr(fun, "__name__", "[unknown name]")


def wraps(fun, namestr="{fun}", docstr="{doc}", **kwargs):
    """Decorator giving the wrapped function a name and docstring made from ``fun``'s (``str.format`` templates
    with ``fun``, ``doc`` and ``kwargs``), as autograd.wrap_util.wraps; a function that takes no attributes
    is returned as it is."""
    def decorate(f):
        try:
            f.__name__ = namestr.format(fun=get_name(fun), **kwargs)
            f.__doc__ = docstr.format(fun=get_name(fun), doc=getattr(fun, "__doc__", "") or "", **kwargs)
        except (AttributeError, TypeError):
            pass  # a builtin or a partial: its attributes cannot be set, and autograd leaves it so too
        return f

    return decorate


def substitute(args, argnum, x):
    """``args`` with the differentiated position(s) replaced: one value for an int argnum, a tuple for a tuple."""
    args = list(args)
    if isinstance(argnum, numbers.Integral):
        args[argnum] = x
    else:
        for i, value in zip(argnum, x):
            args[i] = value
    return tuple(args)


def _integers_as_floats(x):
    """Integer arrays (and numpy integer scalars) in x as float64, as autograd differentiates them; Python ints
    stay as they are (autograd refuses them, and so does hodiff's check)."""
    def as_float(leaf):
        if isinstance(leaf, (np.ndarray, np.integer)) and np.issubdtype(leaf.dtype, np.integer):
            return np.asarray(leaf, dtype=float) if isinstance(leaf, np.ndarray) else float(leaf)
        return leaf

    return tree_map(as_float, x)


def unary_to_nary(unary_operator):
    """``unary_operator(f, x, *op_args)`` -> ``operator(fun, argnum=0, *op_args)(*args, **kwargs)``.

    With an int argnum, f(x) is fun with args[argnum] = x; with a tuple of
    argnums, x is the tuple of those arguments (as in autograd).
    """

    @functools.wraps(unary_operator)
    def nary_operator(fun, argnum=0, *op_args, **op_kwargs):
        def nary_f(*args, **kwargs):
            def unary_f(x):
                return fun(*substitute(args, argnum, x), **kwargs)

            unary_f.__name__ = get_name(fun)
            if isinstance(argnum, numbers.Integral):
                x = _integers_as_floats(args[argnum])
            else:
                x = tuple(_integers_as_floats(args[i]) for i in argnum)
            return unary_operator(unary_f, x, *op_args, **op_kwargs)

        operator_name, fun_name = get_name(unary_operator), get_name(fun)
        nary_f.__name__ = f"{operator_name}_of_{fun_name}_wrt_argnum_{argnum}"
        nary_f.__doc__ = (f"    {operator_name} of function {fun_name} with respect to argument number {argnum}: "
                          f"takes the arguments of {fun_name} and returns its {operator_name} there.")
        return nary_f

    return nary_operator
