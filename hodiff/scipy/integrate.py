"""hodiff.scipy.integrate: ``odeint``, scipy.integrate.odeint differentiable in y0, t and args.

``odeint(func, y0, t, args=(), **options)`` has scipy's signature and values
(scipy's LSODA solver, float64): ``func(y, t, *args) -> dy/dt`` with ``y`` of
shape (D,); ``y0`` of shape (D,) (or a scalar: D = 1); ``t`` of shape (T,);
``args`` a tuple (a pytree) of arrays. The result has shape (T, D), row i being
y(t[i]).

- Reverse mode: the adjoint method (as autograd's odeint). For each interval,
  backwards, scipy's odeint integrates the system augmented with the adjoint
  a (a' = -a J_y), the sensitivity of t0 (-a df/dt) and of the args (-a df/dargs);
  the products a J are hodiff's own ``vjp`` of ``func``.
- Forward mode: the sensitivity equations s' = J_y s + J_args dargs, integrated
  with y by odeint; a move of t[i] adds f(y(t[i]), t[i]) dt[i] to row i, a move
  of t[0] starts s at -f(y0, t0) dt[0].

Both rules are written with hodiff operations and call odeint again, so every
order of reverse and forward mode works (each order costs one more nested
solve). ``func`` must be written with hodiff.numpy: it is differentiated.
Values that are differentiated must reach ``func`` through ``args``: a traced
value ``func`` closes over is refused (its derivative would be lost).
Options (rtol, atol, mxstep, hmax, ...) go to scipy for every solve;
``full_output``, ``Dfun`` and ``tfirst`` are refused when a value is traced
(plain values go straight to scipy).

>>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
>>> from hodiff.scipy.integrate import odeint
>>> y = lambda k: odeint(lambda y, t, k: -k * y, 2.0, np.array([0.0, 1.0]), args=(k,), rtol=1e-10, atol=1e-12)[1, 0]
>>> bool(abs(hd.grad(y)(0.5) - -2.0 * np.exp(-0.5)) < 1e-8)  # d/dk 2 exp(-k)
True
"""

import numpy as _np

from .. import numpy as _hnp
from ..core.trace import Primitive as _Primitive
from ..core.trace import find_top_trace as _find_top_trace
from ..core.tree import tree_flatten as _tree_flatten
from ..core.tree import tree_unflatten as _tree_unflatten
from ..transforms.forward import jvp as _jvp
from ..transforms.reverse import vjp as _vjp

__all__ = ["odeint"]

_REFUSED_WHEN_TRACED = ("full_output", "Dfun", "tfirst")


def odeint(func, y0, t, args=(), **options):
    """scipy.integrate.odeint(func, y0, t, args=(), ...), differentiable in ``y0``, ``t`` and ``args``.

    Shapes: y0 (D,) or a scalar, t (T,), result (T, D). See the module's docstring for the rules.
    """
    if not isinstance(args, tuple):
        args = (args,)
    flat_args, treedef = _tree_flatten(args)
    if _find_top_trace([y0, t, *flat_args]) is None:
        import scipy.integrate  # at call time: it adds ~0.1 s to every `import hodiff`

        return scipy.integrate.odeint(_refusing_traced(func), y0, t, args=args, **options)
    refused = [name for name in _REFUSED_WHEN_TRACED if options.get(name)]
    if refused:
        raise NotImplementedError(
            f"hodiff.scipy.integrate.odeint: {', '.join(refused)} is not supported when differentiating "
            "(the rules integrate their own augmented systems); drop it, or call scipy's odeint on plain values")
    return _odeint_p(y0, t, *flat_args, func=func, treedef=treedef, options=tuple(sorted(options.items())))


def _refusing_traced(func):
    def rhs(y, t, *args):
        out = func(y, t, *args)
        if _find_top_trace(_tree_flatten(out)[0]) is not None:
            raise TypeError(
                "hodiff.scipy.integrate.odeint: func returned a traced value, so it closes over a value being "
                "differentiated, whose derivative odeint cannot see. Pass that value through args=(...): "
                "odeint(func, y0, t, args=(k,)) with func(y, t, k)")
        return out

    return rhs


def _solve(y0, t, *flat_args, func, treedef, options):
    import scipy.integrate

    args = tuple(_tree_unflatten(treedef, list(flat_args)))
    return scipy.integrate.odeint(_refusing_traced(func), _np.asarray(y0), _np.asarray(t), args=args, **dict(options))


def _flat_rhs(func, treedef):
    """f(y, t, *flat_args) as a 1-D array of shape (D,)."""
    def f(y, t, *flat_args):
        return _hnp.ravel(func(y, t, *_tree_unflatten(treedef, list(flat_args))))

    return f


# ----------------------------------------------------------------- reverse mode: the adjoint method

_last_adjoint = [None]  # (key, values, cotangents): the rules of one node's arguments share one backward solve


def _snapshot(key):
    """Copies of the key's plain arrays: the same object may hold other values by the next call (a caller
    filling one cotangent buffer row by row got the first row's cotangents back for every row)."""
    return [_np.array(a, copy=True) if isinstance(a, _np.ndarray) else None for a in key]


def _same_call(cached, key):
    old_key, values, _ = cached
    return len(old_key) == len(key) and all(a is b for a, b in zip(old_key, key)) and all(
        v is None or _np.array_equal(v, a, equal_nan=True) for v, a in zip(values, key))


def _cotangents(g, ans, y0, t, flat_args, func, treedef, options):
    """Cotangents (y0, t, *flat_args) for the output cotangent g (T, D): the adjoint method, backwards."""
    key = (g, ans, y0, t, *flat_args)
    cached = _last_adjoint[0]
    if cached is not None and _same_call(cached, key):
        return cached[2]
    f = _flat_rhs(func, treedef)
    T, D = ans.shape
    shapes = [_np.shape(a) for a in flat_args]
    sizes = [int(_np.prod(s)) for s in shapes]

    def augmented(state, s, *fargs):
        y, a = state[:D], state[D:2 * D]
        dy, pullback = _vjp(f, y, s, *fargs)
        cy, cs, *cargs = pullback(-a)
        return _hnp.concatenate([dy, cy, _hnp.reshape(cs, (1,))] + [_hnp.ravel(c) for c in cargs])

    dtype = _np.result_type(ans.dtype, _np.float64)
    g = _hnp.reshape(g, (T, D))
    adj_y = g[T - 1]
    adj_t0 = _np.zeros((1,), dtype)
    adj_args = _np.zeros((sum(sizes),), dtype)
    time_cotangents = []
    for i in range(T - 1, 0, -1):
        moved = _hnp.dot(f(ans[i], t[i], *flat_args), g[i])  # output i moves with t[i] at speed f
        time_cotangents.append(moved)
        adj_t0 = adj_t0 - moved
        start = _hnp.concatenate([ans[i], adj_y, adj_t0, adj_args])
        state = odeint(augmented, start, _hnp.stack([t[i], t[i - 1]]), args=tuple(flat_args), **dict(options))[1]
        adj_y = state[D:2 * D] + g[i - 1]
        adj_t0 = state[2 * D:2 * D + 1]
        adj_args = state[2 * D + 1:]
    time_cotangents.append(adj_t0[0])
    ct = _hnp.reshape(_hnp.stack(time_cotangents[::-1]), _np.shape(t))
    cy0 = _hnp.reshape(adj_y, _np.shape(y0))
    cargs, offset = [], 0
    for shape, size in zip(shapes, sizes):
        cargs.append(_hnp.reshape(adj_args[offset:offset + size], shape))
        offset += size
    result = (cy0, ct, *cargs)
    _last_adjoint[0] = (key, _snapshot(key), result)
    return result


def _vjp_rule(argnum):
    def rule(g, ans, y0, t, *flat_args, func, treedef, options):
        return _cotangents(g, ans, y0, t, flat_args, func, treedef, options)[argnum]

    return rule


# ----------------------------------------------------------------- forward mode: the sensitivity equations

def _jvp_rule(argnum):
    def rule(tangent, ans, y0, t, *flat_args, func, treedef, options):
        f = _flat_rhs(func, treedef)
        T, D = ans.shape
        y_start = _hnp.reshape(y0, (D,))
        if argnum == 0:
            s_start, k = _hnp.reshape(tangent, (D,)), None
        elif argnum == 1:
            dt = _hnp.reshape(tangent, (T,))
            s_start, k = -f(y_start, t[0], *flat_args) * dt[0], None
        else:
            s_start, k = _hnp.zeros_like(y_start), argnum - 2

        def augmented(state, s, *fargs_and_tangent):
            y, sens = state[:D], state[D:]
            if k is None:
                dy, dsens = _jvp(lambda y_: f(y_, s, *fargs_and_tangent), (y,), (sens,))
            else:
                fargs, d = list(fargs_and_tangent[:-1]), fargs_and_tangent[-1]

                def along(y_, a_k):
                    return f(y_, s, *fargs[:k], a_k, *fargs[k + 1:])

                dy, dsens = _jvp(along, (y, fargs[k]), (sens, d))
            return _hnp.concatenate([dy, dsens])

        extra = () if k is None else (tangent,)
        states = odeint(augmented, _hnp.concatenate([y_start, s_start]), t, args=(*flat_args, *extra),
                        **dict(options))
        out = states[:, D:]
        if argnum == 1:
            moved = _hnp.stack([f(ans[i], t[i], *flat_args) for i in range(T)])
            out = out + moved * _hnp.reshape(dt, (T, 1))
        return out

    return rule


_odeint_p = _Primitive("odeint", _solve, register=False)
_odeint_p.vjp = _vjp_rule
_odeint_p.jvp = _jvp_rule
