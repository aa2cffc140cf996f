"""autograd's differential operators, each a thin composition of hodiff's transforms.

Every operator takes ``(fun, argnum=0)`` as in autograd: an int argnum
differentiates that positional argument, a tuple differentiates the tuple of
those arguments (the derivative is then a tuple). The derivatives themselves
come from ``hd.vjp``, ``hd.jvp``, ``hd.vmap``, ``hd.jacobian``, ``hd.hessian``,
``hd.hvp`` and ``hd.ggn_vp``; nothing here differentiates anything itself.

Complex numbers: autograd's convention is hodiff's (and JAX's): a VJP is
the transpose of the JVP under Re(a b), so for real-valued f of z,
``grad(f)(z) = df/dx - 1j df/dy`` and for holomorphic f, ``grad(f)(z) = f'(z)``
(the derivative of the real part, which for holomorphic f is the complex
derivative). Unlike ``hd.grad``, autograd's ``grad`` accepts complex inputs without
``holomorphic=``; a complex output is refused (use ``holomorphic_grad``,
which differentiates the real part).
"""

import inspect
import numbers
import warnings
from collections import OrderedDict

import numpy as _np

from .. import numpy as hnp
from ..core.errors import MissingRuleError
from ..core.trace import Tracer
from ..core.tree import tree_flatten, tree_map
from ..transforms.batching import vmap as _vmap
from ..transforms.custom import primitive as _primitive
from ..transforms.forward import jvp as _jvp
from ..transforms.hessian import hessian as _hessian
from ..transforms.hessian import hvp as _hvp
from ..transforms.reverse import vjp as _vjp
from .wrap_util import get_name, unary_to_nary

__all__ = [
    "make_vjp", "make_jvp", "grad", "elementwise_grad", "deriv", "jacobian", "holomorphic_grad",
    "grad_named", "hessian", "make_hvp", "hessian_tensor_product", "hessian_vector_product",
    "tensor_jacobian_product", "vector_jacobian_product", "make_jvp_reversemode", "make_ggnvp",
    "value_and_grad", "grad_and_aux", "multigrad_dict", "checkpoint",
]


# ----------------------------------------------------------------- values and their spaces

def _shape(x):
    return x.shape if isinstance(x, Tracer) else _np.shape(x)


def _dtype(x):
    if isinstance(x, Tracer):
        return x.dtype
    if type(x) is float or type(x) is int:
        return _np.dtype(float)
    if type(x) is complex:
        return _np.dtype(complex)
    return _np.result_type(x)


def _is_complex(x):
    return any(_np.issubdtype(_dtype(leaf), _np.complexfloating) for leaf in tree_flatten(x)[0])


def _size(x):
    return sum(int(_np.prod(_shape(leaf), dtype=_np.int64)) for leaf in tree_flatten(x)[0])


def _filled_like(x, value):
    """``value`` with the structure, shape and (inexact) dtype of x: autograd's ``vspace(x).ones()`` / ``.zeros()``."""
    def filled(leaf):
        dtype = _dtype(leaf)
        if not _np.issubdtype(dtype, _np.inexact):
            dtype = _np.dtype(float)
        shape = _shape(leaf)
        return _np.full(shape, value, dtype) if shape else dtype.type(value)

    return tree_map(filled, x)


def _ones_like(x):
    return _filled_like(x, 1)


def _zeros_like(x):
    return _filled_like(x, 0)


def _is_real_array(x):
    """A real float array or scalar (not a pytree): what hd.jacobian / hd.hessian take without options."""
    return not isinstance(x, (tuple, list, dict)) and _np.issubdtype(_dtype(x), _np.floating)


# ----------------------------------------------------------------- the two primitive operators

def _make_vjp(fun, x):
    """(vjp, fun(x)) with vjp(g) = g^T J, computed by hd.vjp."""
    ans, vjp_fn = _vjp(fun, x)

    def vjp(g):
        return vjp_fn(g)[0]

    return vjp, ans


def _make_jvp(fun, x):
    """v -> (fun(x), J v), computed by hd.jvp."""
    def jvp(v):
        return _jvp(fun, (x,), (v,))

    return jvp


make_vjp = unary_to_nary(_make_vjp)
make_vjp.__doc__ = "``make_vjp(fun, argnum=0)(*args) -> (vjp, ans)``; ``vjp(g)`` is g^T J (hd.vjp)."
make_jvp = unary_to_nary(_make_jvp)
make_jvp.__doc__ = "``make_jvp(fun, argnum=0)(*args) -> jvp``; ``jvp(v)`` is ``(ans, J v)`` (hd.jvp)."


def _scalar_check(ans, name):
    leaves = tree_flatten(ans)[0]
    if leaves and not all(_np.issubdtype(_dtype(leaf), _np.inexact) for leaf in leaves):
        raise TypeError(
            f"{name}: the output has dtype {_dtype(leaves[0])}, which cannot be differentiated "
            "(autograd's rule: only float and complex outputs); did the function return a comparison "
            "or a count, e.g. np.allclose?")
    if _size(ans) != 1 or isinstance(ans, (tuple, list, dict)) or _is_complex(ans):
        raise TypeError(
            f"{name} only applies to real scalar-output functions; {name} got an output of shape "
            f"{_shape(ans) if not isinstance(ans, (tuple, list, dict)) else type(ans).__name__}. "
            "Try jacobian, elementwise_grad or holomorphic_grad."
        )


# ----------------------------------------------------------------- gradients

@unary_to_nary
def grad(fun, x):
    """
    Returns a function which computes the gradient of ``fun`` with respect to
    positional argument ``argnum`` (an int, or a tuple of ints for a tuple of
    gradients). ``fun`` must return a real scalar; the gradient has the
    argument's structure, shape and dtype. One forward and one backward pass
    (hd.vjp). For a complex argument z of real-valued fun the gradient is
    df/dx - 1j df/dy; for holomorphic fun use holomorphic_grad."""
    vjp, ans = _make_vjp(fun, x)
    _scalar_check(ans, "grad")
    return vjp(_ones_like(ans))


@unary_to_nary
def value_and_grad(fun, x):
    """``value_and_grad(fun, argnum=0)(*args) -> (fun(*args), grad)``, from one forward pass."""
    vjp, ans = _make_vjp(fun, x)
    _scalar_check(ans, "value_and_grad")
    return ans, vjp(_ones_like(ans))


@unary_to_nary
def grad_and_aux(fun, x):
    """For ``fun`` returning ``(scalar, aux)``: ``(gradient of the scalar, aux)``."""
    ans, vjp_fn, aux = _vjp(fun, x, has_aux=True)
    _scalar_check(ans, "grad_and_aux")
    return vjp_fn(_ones_like(ans))[0], aux


@unary_to_nary
def elementwise_grad(fun, x):
    """The sum of the Jacobian's rows (ones^T J), one reverse pass; the diagonal when J is diagonal."""
    vjp, ans = _make_vjp(fun, x)
    if _is_complex(ans):
        raise TypeError("elementwise_grad only applies to real-output functions (fun returned a complex value)")
    return vjp(_ones_like(ans))


@unary_to_nary
def deriv(fun, x):
    """J ones: the derivative of fun along autograd's ones of x's space (forward mode, hd.jvp); for a complex x
    that is 1 + 1j in every entry, as autograd's complex vector space has it."""
    ones = _ones_like(x)
    return _make_jvp(fun, x)(ones * (1 + 1j) if _is_complex(x) else ones)[1]


@unary_to_nary
def holomorphic_grad(fun, x):
    """f'(z) for holomorphic ``fun`` (the gradient of its real part); warns on a real input, as autograd does."""
    if not _is_complex(x):
        warnings.warn("Input to holomorphic_grad is not complex", stacklevel=2)
    return grad(lambda z: hnp.real(fun(z)))(x)


def grad_named(fun, argname):
    """The gradient with respect to the argument named ``argname`` (not for *args or **kwargs)."""
    return grad(fun, inspect.getfullargspec(fun).args.index(argname))


# ----------------------------------------------------------------- Jacobians and Hessians

def _basis_vjps(fun, x):
    """Jacobian by pulling back every standard basis vector of the output (hd.vjp under hd.vmap)."""
    ans, vjp_fn = _vjp(fun, x)
    _refuse_complex_jacobian(ans)
    out_shape, in_shape = _shape(ans), _shape(x)
    n_out = int(_np.prod(out_shape, dtype=_np.int64))
    dtype = _dtype(ans) if _np.issubdtype(_dtype(ans), _np.inexact) else _np.dtype(float)
    basis = _np.eye(n_out, dtype=dtype).reshape((n_out,) + tuple(out_shape))
    if n_out == 0:
        return _np.zeros(tuple(out_shape) + tuple(in_shape), _dtype(x))
    rows = _vmap(lambda g: vjp_fn(g)[0])(basis)
    return hnp.reshape(rows, tuple(out_shape) + tuple(in_shape))


def _refuse_complex_jacobian(value):
    """autograd's jacobian pulls back 2n basis vectors (1 and 1j per entry) of a complex output and fails to reshape
    them; the real basis alone would silently keep only d Re(f)/dx."""
    if _is_complex(value):
        raise TypeError("jacobian: fun returned a complex value, whose Jacobian autograd does not take (its 2n basis "
                        "pullbacks do not reshape); use hd.jacfwd or hd.jacrev (holomorphic=True for a holomorphic "
                        "fun), or take the Jacobians of its real and imaginary parts")


@unary_to_nary
def jacobian(fun, x):
    """The Jacobian, shape ``out_shape + in_shape`` (hodiff's numerator layout).

    Autograd's definition: row i is the pullback of the output's i-th real
    standard basis vector, all rows at once by ``hd.vjp`` under ``hd.vmap``
    (what ``hd.jacrev`` does). A complex output is refused, as autograd fails
    on it (so is the Hessian of a real fun of a complex x, the Jacobian of its
    complex gradient).
    """
    return _basis_vjps(fun, x)


@unary_to_nary
def hessian(fun, x):
    """The Hessian, shape ``out_shape + in_shape + in_shape`` (hd.hessian, forward over reverse).

    Complex inputs: the Jacobian of the Jacobian, as in autograd.
    """
    if _is_real_array(x):
        try:
            return _hessian(fun, layout="numerator")(x)
        except MissingRuleError as error:
            if error.mode != "jvp":
                raise  # a primitive with VJP rules only (autograd's usual case): reverse over reverse
        except TypeError:
            if not _is_complex(fun(x)):
                raise
    return jacobian(jacobian(fun))(x)


@unary_to_nary
def make_hvp(fun, x):
    """``make_hvp(fun, argnum=0)(*args) -> (hvp, grad)``: ``hvp(v)`` is the Hessian times v (reverse over reverse)."""
    return _make_vjp(grad(fun), x)


def hessian_tensor_product(fun, argnum=0):
    """``(*args, tensor) -> H tensor``, the Hessian of scalar ``fun`` times ``tensor`` (shaped like the argument).

    Real array arguments: ``hd.hvp`` (forward over reverse). Otherwise the
    gradient of <grad fun, tensor>, as in autograd.
    """
    fun_grad = grad(fun, argnum)

    def vector_dot_grad(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        return hnp.tensordot(fun_grad(*args, **kwargs), vector, _np.ndim(vector))

    vector_dot_grad_grad = grad(vector_dot_grad, argnum)

    def hessian_product(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        if isinstance(argnum, numbers.Integral) and _is_real_array(args[argnum]) \
                and _is_real_array(vector) and _shape(vector) == _shape(args[argnum]):
            def unary(z):
                return fun(*args[:argnum], z, *args[argnum + 1:], **kwargs)

            try:
                return _hvp(unary, (args[argnum],), (vector,))[0]
            except MissingRuleError as error:
                if error.mode != "jvp":
                    raise  # VJP rules only: the gradient of <grad fun, tensor> below, as autograd
        return vector_dot_grad_grad(*args, vector, **kwargs)

    return hessian_product


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun, argnum=0):
    """``(*args, tensor) -> tensor . J``: the Jacobian left-multiplied by ``tensor`` (over its ndim leading axes).

    A tensor shaped like fun's output: one ``hd.vjp``. Otherwise the Jacobian
    of ``tensordot(tensor, fun(x), ndim(tensor))``, as in autograd.
    """
    def vector_dot_fun(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        return hnp.tensordot(vector, fun(*args, **kwargs), axes=_np.ndim(vector))

    jacobian_of_product = jacobian(vector_dot_fun, argnum)

    def product(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        if isinstance(argnum, numbers.Integral):
            def unary(z):
                return fun(*args[:argnum], z, *args[argnum + 1:], **kwargs)

            vjp, ans = _make_vjp(unary, args[argnum])
            if not isinstance(ans, (tuple, list, dict)):
                _refuse_complex_jacobian(ans)  # (or a complex tensor: autograd's Jacobian of a complex product)
                _refuse_complex_jacobian(vector)
            if _shape(ans) == _shape(vector) and not isinstance(ans, (tuple, list, dict)):
                return vjp(vector)
        return jacobian_of_product(*args, vector, **kwargs)

    return product


vector_jacobian_product = tensor_jacobian_product


@unary_to_nary
def make_jvp_reversemode(fun, x):
    """J v by reverse mode only: the VJP of the (linear) VJP (hd.vjp twice)."""
    vjp, y = _make_vjp(fun, x)
    vjp_vjp, _ = _make_vjp(vjp, _zeros_like(y))
    return vjp_vjp


def _half_squared_norm(x):
    return 0.5 * hnp.sum(x ** 2, axis=-1)


def make_ggnvp(f, g=_half_squared_norm, f_argnum=0):
    """``make_ggnvp(f, g, f_argnum)(*args) -> ggnvp``: ``ggnvp(v) = J_f^T H_g J_f v`` (hd.ggn_vp).

    ``g`` defaults to autograd's ``0.5 * sum(x ** 2, axis=-1)``.
    """
    from ..secondorder import ggn_vp

    @unary_to_nary
    def _make_ggnvp(f, x):
        return lambda v: ggn_vp(f, g, x, v)

    return _make_ggnvp(f, f_argnum)


def multigrad_dict(fun):
    """The gradient with respect to every argument at once, as an OrderedDict name -> gradient."""
    signature = inspect.signature(fun)
    parameters = signature.parameters
    var_positional = [n for n, p in parameters.items() if p.kind == p.VAR_POSITIONAL]
    var_keyword = [n for n, p in parameters.items() if p.kind == p.VAR_KEYWORD]
    named = [n for n in parameters if n not in var_positional + var_keyword]

    def gradfun(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = OrderedDict((name, bound.arguments[name]) for name in parameters)

        def of_dict(values):
            positional = tuple(values[name] for name in named)
            if var_positional:
                positional += tuple(values[var_positional[0]])
            keywords = dict(values[var_keyword[0]]) if var_keyword else {}
            return fun(*positional, **keywords)

        gradients = grad(of_dict)(dict(arguments))
        return OrderedDict((name, gradients[name]) for name in arguments)

    return gradfun


def checkpoint(fun):
    """``fun`` whose intermediate values are recomputed in the backward pass instead of stored.

    A hodiff primitive (hd.primitive) whose VJP rule re-runs ``fun`` under
    hd.vjp and whose JVP rule runs it under hd.jvp, so it has derivatives of
    every order in both modes.
    """
    wrapped = _primitive(fun)

    def vjp_rule(argnum):
        def rule(g, ans, *args, **kwargs):
            return make_vjp(fun, argnum)(*args, **kwargs)[0](g)

        return rule

    def jvp_rule(argnum):
        def rule(t, ans, *args, **kwargs):
            return make_jvp(fun, argnum)(*args, **kwargs)(t)[1]

        return rule

    wrapped.vjp = vjp_rule
    wrapped.jvp = jvp_rule
    wrapped.__name__ = get_name(fun)
    return wrapped
