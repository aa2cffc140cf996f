"""Helpers that declare primitives of the common shapes in one line each.

Every rule here is written with hodiff primitives (imported lazily from
``elementwise``/``shape`` to avoid cycles), never raw numpy, so rules are
differentiable by any enclosing transform.

Shapes of primitive:
- ``elementwise``: f(x, y, ...) applied entry by entry with broadcasting, given
  each partial derivative as a function of (ans, *args). VJP is g * df/dx_i
  (no conjugation: JAX's convention for complex values), JVP is t * df/dx_i.
- ``linear``: an op linear in its single array argument with static
  parameters (reshape, sum, transpose, indexing ...): its JVP is the op itself
  applied to the tangent, its Taylor rule the batched op on the series.
- batching helpers: ``batch_elementwise`` aligns batched arguments with a
  leading axis, ``shift_axis`` moves an ``axis`` parameter past the batch axis.
"""

import numpy as np

from ..core.trace import Primitive, Tracer

__all__ = [
    "elementwise", "linear", "batch_elementwise", "shift_axis", "shape_of", "ndim_of", "dtype_of",
    "taylor_linear", "taylor_bilinear", "stack_series", "zero_rule", "scalar_fast_unary", "scalar_fast_binary",
]


def shape_of(x):
    return x.shape if isinstance(x, Tracer) else np.shape(x)


def ndim_of(x):
    return len(shape_of(x))


def dtype_of(x):
    return x.dtype if isinstance(x, Tracer) else np.result_type(x)


# ----------------------------------------------------------------- fast scalar implementations


def scalar_fast_unary(math_function, ufunc):
    """``ufunc``, but through ``math`` for Python floats (numpy's scalar path costs ~1 us).

    Where math raises (log(0), exp(1000), sqrt(-1)) numpy's answer (-inf, inf,
    nan) is returned instead, so results never differ from numpy's. The type does
    not differ either: an np.float64 gives an np.float64 (NEP 50: it is strong
    beside float32, where a Python float is weak).
    """

    def impl(x):
        kind = type(x)
        if kind is float or kind is np.float64:
            try:
                answer = math_function(x)
            except (ValueError, OverflowError, ZeroDivisionError):
                pass
            else:
                return answer if kind is float else np.float64(answer)
        return ufunc(x)

    impl.__name__ = impl.__qualname__ = ufunc.__name__
    return impl


def scalar_fast_binary(python_operator, ufunc, guard=None):
    """``ufunc``, but through the Python operator when both arguments are Python floats/ints
    (at least one float). ``guard(x, y)`` may veto the fast path (e.g. negative ** fractional)."""

    def impl(x, y):
        tx, ty = type(x), type(y)
        if (tx is float or ty is float or tx is np.float64 or ty is np.float64) and \
                tx in _SCALARS and ty in _SCALARS and (guard is None or guard(x, y)):
            try:
                return python_operator(x, y)
            except (OverflowError, ZeroDivisionError):
                pass
        return ufunc(x, y)

    impl.__name__ = impl.__qualname__ = ufunc.__name__
    return impl


_SCALARS = (float, int, np.float64)


# ----------------------------------------------------------------- batching

def batch_elementwise(primitive):
    """Batch rule for broadcasting elementwise ops: align ranks behind the batch axis."""

    def rule(values, batched, **params):
        # Runs for every elementwise op of a batched sweep (Jacobians, Hessians): shapes read once.
        shapes = [v.shape if type(v) is np.ndarray else shape_of(v) for v in values]
        member_ndims = [len(shape) - 1 if b else len(shape) for shape, b in zip(shapes, batched)]
        out_ndim = max(member_ndims)
        aligned = list(values)
        for i, (shape, is_batched, member_ndim) in enumerate(zip(shapes, batched, member_ndims)):
            if is_batched and member_ndim < out_ndim:
                from .shape import reshape

                aligned[i] = reshape(values[i], shape=(shape[0],) + (1,) * (out_ndim - member_ndim) + tuple(shape[1:]))
        return primitive(*aligned, **params)

    return rule


def shift_axis(axis, member_ndim):
    """An ``axis`` parameter (None, int or tuple) of one member, as seen with a leading batch axis."""
    if axis is None:
        return tuple(range(1, member_ndim + 1))
    if isinstance(axis, tuple):
        return tuple(_normalize(a, member_ndim) + 1 for a in axis)
    return _normalize(axis, member_ndim) + 1


def _normalize(axis, ndim):
    if not -ndim <= axis < max(ndim, 1):
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim if ndim else 0


# ----------------------------------------------------------------- Taylor

def stack_series(primal, series):
    """(K+1, ...) array of coefficients c0..cK, c0 being the primal."""
    from . import shape as S

    return S.concatenate(S.expand_dims(primal, axis=0), series)


def taylor_linear(primitive):
    """Taylor rule of an op linear in all its array arguments jointly: map it over the series."""

    def rule(ans, primals, series, **params):
        if primitive.batch is None:
            raise RuntimeError(f"linear primitive '{primitive.name}' needs a batch rule")
        if primitive.broadcasts:  # a scalar zero broadcasts in place of a constant argument's series
            args = [0.0 if s is None else s for s in series]
            return primitive.batch(args, [s is not None for s in series], **params)
        # Joining ops (concatenate, stack) need a constant argument's zero series at its own shape.
        order = next(shape_of(s)[0] for s in series if s is not None)
        args = [np.zeros((order,) + tuple(shape_of(p)), dtype=dtype_of(p)) if s is None else s
                for p, s in zip(primals, series)]
        return primitive.batch(args, [True] * len(args), **params)

    return rule


def taylor_bilinear(primitive):
    """Taylor rule of an op linear in each of two arguments (mul, matmul, dot ...).

    Coefficient k of f(a(t), b(t)) is the Cauchy product sum_j f(a_j, b_{k-j}).
    """

    def rule(ans, primals, series, **params):
        from . import shape as S

        a_series, b_series = series
        a0, b0 = primals
        if b_series is None:
            return primitive.batch([a_series, b0], [True, False], **params)
        if a_series is None:
            return primitive.batch([a0, b_series], [False, True], **params)
        a = stack_series(a0, a_series)
        b = stack_series(b0, b_series)
        order = shape_of(a_series)[0]
        # All pairs (j, k-j) with k = 1..K in one batched call, then summed per k.
        left, right, segment = [], [], []
        for k in range(1, order + 1):
            for j in range(k + 1):
                left.append(j)
                right.append(k - j)
                segment.append(k - 1)
        products = primitive.batch([S.take(a, np.array(left), axis=0), S.take(b, np.array(right), axis=0)],
                                   [True, True], **params)
        summing = np.zeros((order, len(segment)), dtype=dtype_of(products))
        summing[segment, np.arange(len(segment))] = 1
        return S.tensordot(summing, products, axes=1)

    return rule


# ----------------------------------------------------------------- declarations

def zero_rule(*_args, **_params):
    return None


def elementwise(name, impl, derivatives, *, taylor=None, zero_derivative=False):
    """Declare an elementwise primitive from its partial derivatives.

    ``derivatives[i](ans, *args)`` returns d out / d args[i] entrywise (written
    with hodiff ops); a ``None`` entry means that argument has zero derivative.
    """
    vjp = []
    jvp = []
    for derivative in derivatives:
        if derivative is None:
            vjp.append(None)
            jvp.append(None)
            continue
        vjp.append(_scaled_by(derivative))
        jvp.append(_scaled_by(derivative))
    primitive = Primitive(name, impl, vjp=vjp, jvp=jvp, taylor=taylor, broadcasts=True)
    primitive.batch = batch_elementwise(primitive)
    primitive.keywords = False  # its rules take none: a keyword is one of numpy's ufunc keywords
    return primitive


_WIDE = (np.float64, np.complex128)


def weak(value, *origins):
    """value, or the Python scalar it equals if it is a float64/complex128 numpy scalar computed
    from Python scalars alone (no origin holds a float64/complex128 dtype).

    Rules apply numpy to Python-scalar arguments too (log1p(y) of xlog1py's Python-float y);
    numpy answers with a float64 scalar, which NEP 50 counts as strong, so the float32 series
    or cotangents it meets would widen. As a Python scalar it stays weak, as y was.
    """
    # (dtype.type, not dtype: numpy's dtype compares equal to None)
    if type(value) in _WIDE and not any(getattr(getattr(o, "dtype", None), "type", None) in _WIDE for o in origins):
        return value.item()
    return value


def _scaled_by(derivative):
    def rule(incoming, ans, *args):
        local = weak(derivative(ans, *args), ans, *args)
        return incoming * local

    return rule


def linear(name, impl, transpose, *, batch=None, taylor=True):
    """Declare a primitive linear in its one array argument.

    ``transpose(cotangent, x, **params)`` is the VJP (x is the primal input,
    for its shape); the JVP applies the op itself to the tangent.
    """
    primitive = Primitive(name, impl, batch=batch)
    primitive.vjp = (lambda g, ans, x, **params: transpose(g, x, **params),)
    primitive.jvp = (lambda t, ans, x, **params: primitive(t, **params),)
    if taylor:
        primitive.taylor = taylor_linear(primitive)
    primitive.declare_reads(answer=False, arguments=((),))  # the transpose reads x's shape only
    return primitive
