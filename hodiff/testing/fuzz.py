"""A differential fuzzer: random programs, every route to their derivatives, compared.

hodiff computes the same derivative along many routes (reverse mode, forward
mode, the four Hessian modes, Taylor mode, nested forward mode, batching, the
graph API). They share rules but not code paths, so a wrong rule, a wrong
fast path or a lost dtype shows up as two routes that disagree, or as a route
that disagrees with scipy's central differences. This module draws random
programs over the differentiable namespace and compares the routes.

Programs
--------
A ``Program`` is a small expression tree over one input ``x`` whose
``repr`` is a valid Python lambda using ``hnp`` (hodiff.numpy), ``hsp``
(hodiff.scipy.special), ``hnn`` (hodiff.nn) and ``np``, plus the point it is
evaluated at, so a failure prints something you can paste::

    >>> import numpy as np
    >>> from hodiff.testing.fuzz import Program
    >>> p = Program("lambda x: hnp.sum(hnp.sin(x) * x ** 2)", np.array([0.0, 1.0]))
    >>> float(p(p.point))
    0.8414709848078965
    >>> print(p.reproducer())                        # doctest: +NORMALIZE_WHITESPACE
    import numpy as np, hodiff as hd, hodiff.numpy as hnp, hodiff.scipy.special as hsp, hodiff.nn as hnn
    f = lambda x: hnp.sum(hnp.sin(x) * x ** 2)
    x = np.array([0.0, 1.0], dtype=np.float64)

``random_program(seed)`` draws one without hypothesis; ``programs()`` is the
hypothesis strategy the tests use (it shrinks a failure to a small program).
Every program is smooth at its point: logs and square roots only see
positive things (``log(1 + c**2)``, ``sqrt(exp(c))``), denominators are
bounded away from 0, matrices are well conditioned, symmetric matrices have
separated eigenvalues. Integer powers of anything are drawn freely, so
``x ** 3`` at ``x = 0`` (a base of 0, where the function is analytic) is
common: that is where Taylor rules that divide by the base go wrong.

Excluded on purpose (hodiff follows a documented convention there, see
docs/design.md "Conventions", and central differences disagree with any
convention at the kink): ``abs``, ``sign``, ``relu``, ``leaky_relu``,
``maximum``/``minimum``/``fmax``/``fmin``/``clip`` and the ``max``/``min``
reductions (ties share the gradient), ``i0e``/``i1e`` (they contain
``|x|``), ``std`` and norms of things that can be 0 (sqrt at 0), ``hypot``
at the origin, and the zero-derivative ``floor``/``round``.

Routes (``CHECKS``)
-------------------
- ``"gradient"`` (scalar programs): ``grad`` vs ``value_and_grad`` vs
  ``jacobian`` in modes rev/fwd/auto vs central differences;
- ``"jacobian"``: ``jacobian`` rev/fwd/auto in both layouts, ``jvp`` vs J v,
  ``vjp`` vs u J, vs central differences;
- ``"hessian"`` (scalar programs): the four Hessian modes, symmetry, every
  ``hvp`` mode vs H v, ``vhp`` vs v H, ``derivative_tensor(2)``, vs scipy's
  central-difference Hessian;
- ``"graph"`` (scalar programs): ``Variable.backward`` vs ``grad``, and
  ``grad_of(..., create_graph=True)`` differentiated again vs H v;
- ``"taylor"``: ``taylor`` coefficients vs nested ``jvp`` directional
  derivatives, ``jet`` vs both, ``derivative`` along the all-ones direction in
  both modes, the top order vs central differences of the one below;
- ``"derivative"`` (scalar in, scalar out): ``derivative`` orders 1-6, Taylor
  vs nested mode, each order vs central differences of the previous one;
- ``"vmap"``: ``vmap(f)`` and ``vmap(grad f)`` vs a Python loop;
- ``"float32"`` (float32 points): every route above returns float32 and
  agrees with the float64 computation to float32 accuracy;
- ``"sparse"``: ``jacobian_sparsity`` holds every nonzero of the dense
  ``jacobian`` (as (m, n)) and is the same at a second point (patterns are
  global), ``sparse_jacobian`` in modes auto/fwd/rev and both layouts vs the
  dense Jacobian; scalar programs: ``hessian_sparsity`` (symmetric, the same at
  a second point) and ``jacobian_sparsity(grad f)`` hold every nonzero of
  ``hessian``, ``sparse_hessian`` vs ``hessian`` and exactly symmetric. A
  missed entry (a silently wrong sparse derivative) fails with the program's
  primitives as detection sees them and the rule that missed it. Detection
  refuses value-dependent control flow with a ``TypeError``: that, worded as
  documented, is a refusal (``Report.refusals``), not a failure; any other
  exception is a failure;
- ``"replay"``: ``hd.record`` of f, both Jacobian modes, ``taylor`` (and for
  scalar programs ``grad``, ``hessian``, ``hvp``), recorded at the program's
  point and replayed at a second one, equals the route there bit for bit
  (tolerance 0), and did replay unless a guard saw another path.

Tolerances
----------
Route against route (float64): ``max|a - b| <= sqrt(eps) * max(1, |a|, |b|)``
(sup norms); the routes round differently, a wrong rule is off by far more.
Patterns and symmetry are exact: a pattern misses no nonzero of the dense
derivative, ``sparse_hessian`` equals its transpose bit for bit.
Against central differences: scipy's Richardson extrapolation is run with
``tolerances=dict(atol=FD_ATOL, rtol=FD_RTOL)`` and returns an error
estimate per entry; an entry that converged must satisfy
``|hodiff - fd| <= FD_SAFETY * (error + FD_ATOL + FD_RTOL * |fd|)``, and
entries that did not converge are skipped (and counted). float32 routes
against float64: ``sqrt(eps32)`` relative, widened by the program's own
float32 forward error (measured on f itself).

Running it
----------
``compare_routes(program)`` returns a ``Report`` (comparisons made, failures, refusals);
``assert_routes_agree(program)`` raises with the reproducer. A longer run
(before a release)::

    python -m hodiff.testing.fuzz --programs 5000 [--seed 0] [--checks gradient,hessian]

or ``HODIFF_FUZZ_EXAMPLES=5000 python -m pytest tests/test_differential.py``.
"""

import math
import random
import sys
import traceback
import warnings
import zlib

import numpy as np

__all__ = [
    "Program",
    "Report",
    "Comparison",
    "CHECKS",
    "generate_program",
    "random_program",
    "programs",
    "compare_routes",
    "assert_routes_agree",
    "main",
]

CHECKS = ("gradient", "jacobian", "hessian", "graph", "taylor", "derivative", "vmap", "float32", "sparse", "replay")

ROUTE_RTOL = float(np.sqrt(np.finfo(np.float64).eps))
FD_RTOL = float(np.sqrt(np.finfo(np.float64).eps))
FD_ATOL = float(np.sqrt(np.finfo(np.float64).eps))
FD_SAFETY = 10.0
F32_RTOL = float(np.sqrt(np.finfo(np.float32).eps))

#: Taylor and nested orders the checks go up to (nested forward costs 2^k passes).
TAYLOR_ORDER = 4
DERIVATIVE_ORDER = 6


# --------------------------------------------------------------------------
# Programs
# --------------------------------------------------------------------------


def _namespace():
    import hodiff.nn as hnn
    import hodiff.numpy as hnp
    import hodiff.scipy.special as hsp

    return {"np": np, "hnp": hnp, "hsp": hsp, "hnn": hnn}


def _array_text(array):
    """Nested-list source of ``array``, each entry as its shortest repr in its own dtype ("1.218")."""
    array = np.asarray(array)
    if array.ndim == 0:
        return str(array.item()) if array.dtype == bool else str(array[()])
    return "[" + ", ".join(_array_text(row) for row in array) + "]"


def _literal(value, dtype):
    """Python source for a numpy constant (exact: entries print their shortest repr)."""
    array = np.asarray(value)
    if array.dtype == bool:
        return f"np.array({_array_text(array)})"
    if array.ndim == 0:
        return str(array.astype(dtype)[()])
    suffix = "" if np.dtype(dtype) == np.float64 else f", dtype=np.{np.dtype(dtype).name}"
    return f"np.array({_array_text(array.astype(dtype))}{suffix})"


class Program:
    """A program ``f(x)`` given as Python source, and the point ``x`` it is checked at.

    ``source`` is a lambda over one argument ``x`` using ``np``, ``hnp``
    (hodiff.numpy), ``hsp`` (hodiff.scipy.special) and ``hnn`` (hodiff.nn).
    ``point`` is a numpy array (float64 or float32; shape () for scalar
    programs). Calling the program calls the compiled lambda.
    """

    def __init__(self, source, point):
        self.source = source
        point = np.asarray(point)
        if not np.issubdtype(point.dtype, np.floating):
            point = point.astype(np.float64)
        self.point = point
        self.function = eval(source, _namespace())  # noqa: S307 - our own generated source

    def __call__(self, x):
        return self.function(x)

    @property
    def dtype(self):
        return self.point.dtype

    def at(self, dtype):
        """The same program at the same point cast to ``dtype``."""
        return Program(self.source, self.point.astype(dtype))

    def point_source(self):
        if self.point.ndim == 0:
            return f"np.{self.point.dtype.name}({_array_text(self.point)})"
        return f"np.array({_array_text(self.point)}, dtype=np.{self.point.dtype.name})"

    def reproducer(self):
        """Python lines that rebuild ``f`` and ``x`` (paste and call any hodiff transform)."""
        return (
            "import numpy as np, hodiff as hd, hodiff.numpy as hnp, "
            "hodiff.scipy.special as hsp, hodiff.nn as hnn\n"
            f"f = {self.source}\n"
            f"x = {self.point_source()}"
        )

    def __repr__(self):
        return f"Program({self.source!r}, {self.point_source()})"


class _Node:
    """An expression of known shape; ``code`` is its Python source."""

    __slots__ = ("code", "shape", "uses_input")

    def __init__(self, code, shape, uses_input):
        self.code = code
        self.shape = tuple(shape)
        self.uses_input = uses_input

    def __repr__(self):
        return self.code


# --------------------------------------------------------------------------
# Sources of randomness: hypothesis (shrinks) or random.Random (campaigns)
# --------------------------------------------------------------------------


class _RandomSource:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def integer(self, low, high):
        return self.rng.randint(low, high)

    def real(self, low, high):
        return self.rng.uniform(low, high)


class _HypothesisSource:
    def __init__(self, draw):
        self.draw = draw

    def integer(self, low, high):
        from hypothesis import strategies as st

        return self.draw(st.integers(low, high))

    def real(self, low, high):
        from hypothesis import strategies as st

        return self.draw(st.floats(low, high, allow_nan=False, allow_infinity=False))


class _Rejected(Exception):
    """The drawn program is not usable at its point (overflow, out of domain)."""


# --------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------

# Elementwise templates, smooth everywhere on the reals ({0} is the argument).
# Option 0 of each list is the simplest (hypothesis shrinks towards it).
UNARY = (
    "hnp.sin({0})",
    "hnp.cos({0})",
    "hnp.tanh({0})",
    "hnp.exp({0})",
    "hnp.arctan({0})",
    "hnp.arcsinh({0})",
    "hnp.expm1({0})",
    "hnp.sinh({0})",
    "hnp.cosh({0})",
    "hnp.square({0})",
    "(-{0})",
    "hnp.sinc({0})",
    # powers with any base, 0 included: analytic everywhere
    "{0} ** 2",
    "{0} ** 3",
    "{0} ** 4",
    "{0} ** 1",
    "{0} ** 0",
    "hnp.power({0}, 2)",
    # logs, roots, reciprocals and real powers of positive things
    "hnp.log(1.0 + {0} ** 2)",
    "hnp.log1p({0} ** 2)",
    "hnp.log(hnn.softplus({0}))",
    "hnp.log(hnp.cosh({0}))",
    "hnp.log2(2.0 + hnp.sin({0}))",
    "hnp.log10(1.5 + hnp.cos({0}))",
    "hnp.sqrt(1.0 + {0} ** 2)",
    "hnp.sqrt(hnp.exp({0}))",
    "1.0 / (1.0 + {0} ** 2)",
    "hnp.reciprocal(2.0 + hnp.sin({0}))",
    "(1.0 + {0} ** 2) ** 1.5",
    "(1.0 + {0} ** 2) ** -0.5",
    "hnp.exp({0}) ** 0.5",
    "2.0 ** {0}",
    "hnp.power(1.5, {0})",
    "hnp.cbrt(2.0 + hnp.sin({0}))",
    "hnp.arcsin(0.5 * hnp.tanh({0}))",
    "hnp.arccos(0.5 * hnp.tanh({0}))",
    "hnp.arctanh(0.5 * hnp.tanh({0}))",
    "hnp.arccosh(2.0 + {0} ** 2)",
    # scipy.special
    "hsp.expit({0})",
    "hsp.erf({0})",
    "hsp.erfc({0})",
    "hsp.ndtr({0})",
    "hsp.log_ndtr({0})",
    "hsp.gammaln(0.5 + {0} ** 2)",
    "hsp.digamma(0.5 + {0} ** 2)",
    "hsp.polygamma(1, 1.0 + {0} ** 2)",
    "hsp.gamma(1.0 + hnp.sin({0}) ** 2)",
    "hsp.logit(0.5 + 0.4 * hnp.tanh({0}))",
    "hsp.erfinv(0.5 * hnp.tanh({0}))",
    "hsp.ndtri(0.5 + 0.4 * hnp.tanh({0}))",
    "hsp.i0({0})",
    "hsp.i1({0})",
    "hsp.erfcx({0})",
    "hsp.log_expit({0})",
    "hsp.softplus({0})",
    "hsp.gammainc(2.0, 0.5 + {0} ** 2)",
    "hsp.gammaincc(0.7, 0.2 + {0} ** 2)",
    "hsp.betainc(2.0, 3.0, 0.5 + 0.49 * hnp.tanh({0}))",
    # hodiff.nn activations (relu and leaky_relu are excluded: kink at 0, see the module docstring)
    "hnn.sigmoid({0})",
    "hnn.softplus({0})",
    "hnn.gelu({0})",
    "hnn.silu({0})",
    "hnn.log_sigmoid({0})",
)

# Binary templates; the arguments broadcast against each other.
BINARY = (
    "({0} + {1})",
    "({0} * {1})",
    "({0} - {1})",
    "({0} / (1.0 + {1} ** 2))",
    "({0} / (2.0 + hnp.cos({1})))",
    "hnp.arctan2({0}, 2.0 + {1} ** 2)",
    "hnp.hypot(1.0 + {0} ** 2, {1})",
    "(1.0 + {0} ** 2) ** hnp.tanh({1})",
    "hsp.xlogy({0}, 1.0 + {1} ** 2)",
    "hsp.xlog1py({0}, {1} ** 2)",
    "hnp.logaddexp({0}, {1})",
    "hsp.betaln(1.0 + {0} ** 2, 1.0 + {1} ** 2)",
    "hnp.power(1.5 + hnp.sin({0}), {1})",
    "hnp.multiply({0}, {1})",
    "hnp.true_divide({0}, 3.0 + hnp.sin({1}))",
)

# Reductions over an axis: (template, keepdims allowed). {0} argument, {1} the axis text.
REDUCTIONS = (
    "hnp.sum({0}{1})",
    "hnp.mean({0}{1})",
    "hnp.prod({0}{1})",
    "hnp.var({0}{1})",
    "hsp.logsumexp({0}{1})",
    "hnn.logsumexp({0}{1})",
    "hsp.logsumexp({0}{1}, b=hnp.exp(-{0} ** 2))",
    "hnp.linalg.norm(1.5 + hnp.tanh({0}){1})",
)

# Shape-preserving ops along an axis.
AXIS_MAPS = (
    "hnn.softmax({0}, axis={1})",
    "hnn.log_softmax({0}, axis={1})",
    "hnp.cumsum({0}, axis={1})",
    "hnp.flip({0}, axis={1})",
    "hsp.softmax({0}, axis={1})",
)

# Well-conditioned 2x2 and 3x3 constants for the linear-algebra families.
_WELL_CONDITIONED = {
    2: np.array([[2.0, 0.5], [-0.25, 1.5]]),
    3: np.array([[2.0, 0.5, -0.25], [0.25, 1.75, 0.5], [-0.5, 0.25, 2.25]]),
}
# Diagonal with eigenvalue gaps >= 1.25; a symmetric perturbation t + t^T with
# |t_ij| <= 0.1 has spectral norm <= 0.6, so eigenvalues stay >= 0.4 apart and >= 0.4.
_SEPARATED = {2: np.diag([1.0, 2.5]), 3: np.diag([1.0, 2.5, 4.0])}

_INPUT_SHAPES = ((), (2,), (3,), (2, 2), (2, 3))
_OUTPUT_SHAPES = ((), (2,), (3,), (2, 2), (3, 2))
_SPECIAL_VALUES = (0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0)


def _size(shape):
    return int(np.prod(shape, dtype=np.int64))


def _broadcast(a, b):
    return tuple(np.broadcast_shapes(a, b))


class _Generator:
    """Builds one random expression of a requested shape over ``x`` of shape ``input_shape``."""

    def __init__(self, source, input_shape, dtype, max_depth, max_nodes):
        self.source = source
        self.input_shape = tuple(input_shape)
        self.dtype = np.dtype(dtype)
        self.max_depth = max_depth
        self.nodes_left = max_nodes

    # small helpers -------------------------------------------------------
    def integer(self, low, high):
        return self.source.integer(low, high)

    def pick(self, options):
        return options[self.integer(0, len(options) - 1)]

    def constant(self, shape, low=-1.5, high=1.5):
        values = [round(self.source.real(low, high), 2) for _ in range(_size(shape))]
        value = np.array(values, dtype=self.dtype).reshape(shape)
        return _Node(_literal(value, self.dtype), shape, False)

    def combine(self, template, children, shape):
        # Children go in parenthesized (a bare name needs none): templates put
        # postfix operators (x[i], .T, ** 2) after them, which bind tighter than
        # most of what a child can be.
        codes = [c.code if c.code.isidentifier() else f"({c.code})" for c in children]
        return _Node(template.format(*codes), shape, any(c.uses_input for c in children))

    def broadcastable_to(self, shape):
        """A shape that broadcasts to ``shape``: itself, a suffix, or with some axes set to 1."""
        choice = self.integer(0, 2)
        if choice == 0 or not shape:
            return shape
        if choice == 1:
            return shape[self.integer(0, len(shape)) :]
        return tuple(1 if self.integer(0, 1) else n for n in shape)

    # leaves ----------------------------------------------------------------
    def leaf(self, shape):
        """``x`` itself, something cut from it, or (rarely) a constant, of ``shape``."""
        n_in = _size(self.input_shape)
        choice = self.integer(0, 5)
        if choice == 5:
            return self.constant(shape)
        if shape == self.input_shape and choice <= 2:
            return _Node("x", shape, True)
        if self.input_shape == ():
            if shape == ():
                return _Node("x", shape, True)
            const = self.constant(shape)
            op = self.pick(("*", "+"))
            return _Node(f"(x {op} {const.code})", shape, True)
        if shape == ():
            index = tuple(self.integer(0, n - 1) for n in self.input_shape)
            text = ", ".join(str(i) for i in index)
            return _Node(f"x[{text}]", shape, True)
        if _size(shape) == n_in and choice <= 3:
            return _Node(f"hnp.reshape(x, {shape!r})", shape, True)
        # Entries of x picked (with repeats) by an integer array: gradients accumulate.
        picks = [self.integer(0, n_in - 1) for _ in range(_size(shape))]
        return _Node(f"hnp.reshape(hnp.ravel(x)[np.array({picks!r})], {shape!r})", shape, True)

    # expressions -------------------------------------------------------------
    def expression(self, shape, depth):
        shape = tuple(shape)
        if depth <= 0 or self.nodes_left <= 0:
            return self.leaf(shape)
        self.nodes_left -= 1
        families = [
            self.leaf,
            self.unary,
            self.binary,
            self.unary,
            self.binary,
            self.reduction,
            self.axis_map,
            self.reshape,
            self.transpose,
            self.index,
            self.contraction,
            self.where,
            self.join,
            self.linalg,
            self.broadcast,
        ]
        family = self.pick(families)
        if family == self.leaf:
            return self.leaf(shape)
        node = family(shape, depth - 1)
        return node if node is not None else self.unary(shape, depth - 1)

    def unary(self, shape, depth):
        return self.combine(self.pick(UNARY), [self.expression(shape, depth)], shape)

    def binary(self, shape, depth):
        other = self.broadcastable_to(shape)
        shapes = [shape, other] if self.integer(0, 1) == 0 else [other, shape]
        children = [self.expression(s, depth) for s in shapes]
        return self.combine(self.pick(BINARY), children, _broadcast(*shapes))

    def reduction(self, shape, depth):
        template = self.pick(REDUCTIONS)
        size = self.integer(2, 3)
        if shape == () and self.integer(0, 1) == 0:
            child_shape = self.pick(_INPUT_SHAPES[1:])
            axis = "" if self.integer(0, 1) == 0 else f", axis={tuple(range(len(child_shape)))!r}"
            return self.combine(template.replace("{1}", axis), [self.expression(child_shape, depth)], shape)
        if 1 in shape and self.integer(0, 1) == 0:
            axis = shape.index(1)
            child_shape = shape[:axis] + (size,) + shape[axis + 1 :]
            text = f", axis={axis}, keepdims=True"
        else:
            axis = self.integer(0, len(shape))
            child_shape = shape[:axis] + (size,) + shape[axis:]
            negative = self.integer(0, 1) == 1
            text = f", axis={axis - len(child_shape) if negative else axis}"
        return self.combine(template.replace("{1}", text), [self.expression(child_shape, depth)], shape)

    def axis_map(self, shape, depth):
        if not shape:
            return None
        axis = self.integer(-len(shape), len(shape) - 1)
        template = self.pick(AXIS_MAPS).replace("{1}", str(axis))
        return self.combine(template, [self.expression(shape, depth)], shape)

    def reshape(self, shape, depth):
        size = _size(shape)
        candidates = [(size,)] + [s for s in ((2, size // 2), (size // 2, 2), (1, size), (size, 1)) if _size(s) == size]
        child_shape = self.pick(candidates)
        choice = self.integer(0, 2)
        child = self.expression(child_shape, depth)
        if choice == 0 or shape == ():
            return self.combine("hnp.reshape({0}, " + repr(shape) + ")", [child], shape)
        if choice == 1 and len(shape) == 1:
            return self.combine("hnp.ravel({0})", [child], shape)
        return self.combine("{0}.reshape(" + repr(shape) + ")", [child], shape)

    def transpose(self, shape, depth):
        n = len(shape)
        if n == 0:
            return None
        choice = self.integer(0, 4)
        if choice == 0 and n >= 2:  # transpose with axes
            axes = list(range(n))
            self._shuffle(axes)
            child_shape = [0] * n
            for i, a in enumerate(axes):
                child_shape[a] = shape[i]
            return self.combine(
                f"hnp.transpose({{0}}, {tuple(axes)!r})", [self.expression(tuple(child_shape), depth)], shape
            )
        if choice == 1 and n == 2:  # .T
            return self.combine("{0}.T", [self.expression(shape[::-1], depth)], shape)
        if choice == 2 and n >= 2:  # moveaxis / swapaxes
            source, destination = self.integer(0, n - 1), self.integer(0, n - 1)
            child_shape = np.moveaxis(np.empty(shape), destination, source).shape
            name = self.pick(("moveaxis", "swapaxes"))
            if name == "swapaxes":
                child_shape = np.swapaxes(np.empty(shape), source, destination).shape
            return self.combine(
                f"hnp.{name}({{0}}, {source}, {destination})", [self.expression(child_shape, depth)], shape
            )
        if choice == 3 and 1 in shape:  # expand_dims
            axis = shape.index(1)
            child_shape = shape[:axis] + shape[axis + 1 :]
            return self.combine(f"hnp.expand_dims({{0}}, {axis})", [self.expression(child_shape, depth)], shape)
        axis = self.integer(0, n)  # squeeze
        child_shape = shape[:axis] + (1,) + shape[axis:]
        return self.combine(f"hnp.squeeze({{0}}, axis={axis})", [self.expression(child_shape, depth)], shape)

    def _shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.integer(0, i)
            items[i], items[j] = items[j], items[i]

    def broadcast(self, shape, depth):
        child_shape = self.broadcastable_to(shape)
        return self.combine(f"hnp.broadcast_to({{0}}, {shape!r})", [self.expression(child_shape, depth)], shape)

    def index(self, shape, depth):
        choice = self.integer(0, 4)
        if choice == 0 or not shape:  # integer index
            size = self.integer(2, 3)
            i = self.integer(-size, size - 1)
            return self.combine(f"{{0}}[{i}]", [self.expression((size,) + shape, depth)], shape)
        n, rest = shape[0], shape[1:]
        if choice == 1:  # a slice
            extra = self.integer(0, 2)
            start = self.integer(0, extra)
            return self.combine(f"{{0}}[{start}:{start + n}]", [self.expression((n + extra,) + rest, depth)], shape)
        if choice == 2:  # a step
            return self.combine("{0}[::2]", [self.expression((2 * n - 1,) + rest, depth)], shape)
        if choice == 3:  # integer array, repeats allowed
            size = self.integer(1, 3)
            picks = [self.integer(0, size - 1) for _ in range(n)]
            return self.combine(f"{{0}}[np.array({picks!r})]", [self.expression((size,) + rest, depth)], shape)
        size = self.integer(2, 3)  # ellipsis, last axis
        i = self.integer(0, size - 1)
        return self.combine(f"{{0}}[..., {i}]", [self.expression(shape + (size,), depth)], shape)

    def contraction(self, shape, depth):
        k = self.integer(2, 3)
        choice = self.integer(0, 3)
        if shape == ():
            if choice == 0:
                return self.combine("({0} @ {1})", [self.expression((k,), depth), self.expression((k,), depth)], shape)
            if choice == 1:
                return self.combine("hnp.trace({0})", [self.expression((k, k), depth)], shape)
            if choice == 2:
                return self.combine(
                    "hnp.einsum('ij,ij->', {0}, {1})",
                    [self.expression((2, k), depth), self.expression((2, k), depth)],
                    shape,
                )
            return self.combine(
                "hnp.tensordot({0}, {1}, axes=2)",
                [self.expression((k, 2), depth), self.expression((k, 2), depth)],
                shape,
            )
        if len(shape) == 1:
            n = shape[0]
            if choice == 0:
                return self.combine(
                    "({0} @ {1})", [self.expression((k,), depth), self.expression((k, n), depth)], shape
                )
            if choice == 1:
                return self.combine(
                    "hnp.matmul({0}, {1})", [self.expression((n, k), depth), self.expression((k,), depth)], shape
                )
            if choice == 2:
                return self.combine(
                    "hnp.einsum('ji,j->i', {0}, {1})",
                    [self.expression((k, n), depth), self.expression((k,), depth)],
                    shape,
                )
            return self.combine(
                "hnp.dot({0}, {1})", [self.expression((n, k), depth), self.expression((k,), depth)], shape
            )
        if len(shape) == 2:
            m, n = shape
            if choice == 0:
                return self.combine(
                    "({0} @ {1})", [self.expression((m, k), depth), self.expression((k, n), depth)], shape
                )
            if choice == 1:
                return self.combine(
                    "hnp.outer({0}, {1})", [self.expression((m,), depth), self.expression((n,), depth)], shape
                )
            if choice == 2:
                return self.combine(
                    "hnp.einsum('ki,jk->ij', {0}, {1})",
                    [self.expression((k, m), depth), self.expression((n, k), depth)],
                    shape,
                )
            return self.combine(
                "hnp.tensordot({0}, {1}, axes=1)",
                [self.expression((m, k), depth), self.expression((k, n), depth)],
                shape,
            )
        return None

    def where(self, shape, depth):
        mask_shape = self.broadcastable_to(shape)
        mask = np.array([self.integer(0, 1) == 1 for _ in range(_size(mask_shape))]).reshape(mask_shape)
        children = [self.expression(shape, depth), self.expression(shape, depth)]
        return self.combine(f"hnp.where({_literal(mask, bool)}, {{0}}, {{1}})", children, shape)

    def join(self, shape, depth):
        if not shape:
            return None
        if self.integer(0, 1) == 0 and shape[0] >= 2:  # concatenate along 0
            first = self.integer(1, shape[0] - 1)
            children = [
                self.expression((first,) + shape[1:], depth),
                self.expression((shape[0] - first,) + shape[1:], depth),
            ]
            return self.combine("hnp.concatenate([{0}, {1}])", children, shape)
        axis = self.integer(0, len(shape) - 1)  # stack along axis
        rest = shape[:axis] + shape[axis + 1 :]
        children = [self.expression(rest, depth) for _ in range(shape[axis])]
        slots = ", ".join("{%d}" % i for i in range(len(children)))
        return self.combine(f"hnp.stack([{slots}], axis={axis})", children, shape)

    # linear algebra on well-conditioned inputs -----------------------------
    def _matrix(self, n, depth):
        """A well-conditioned n x n matrix: W0 + 0.1 tanh(c), |entries of the perturbation| < 0.1."""
        base = _literal(_WELL_CONDITIONED[n].astype(self.dtype), self.dtype)
        return self.combine(f"({base} + 0.1 * hnp.tanh({{0}}))", [self.expression((n, n), depth)], (n, n))

    def _symmetric(self, n, depth):
        """D + t + t^T with t = 0.1 tanh(c): symmetric positive definite, eigenvalues >= 0.4 apart."""
        base = _literal(_SEPARATED[n].astype(self.dtype), self.dtype)
        return self.combine(
            f"(lambda t: {base} + t + hnp.swapaxes(t, 0, 1))(0.1 * hnp.tanh({{0}}))",
            [self.expression((n, n), depth)],
            (n, n),
        )

    def linalg(self, shape, depth):
        choice = self.integer(0, 4)
        if shape == ():
            n = self.integer(2, 3)
            if choice == 0:
                return self.combine("hnp.linalg.det({0})", [self._matrix(n, depth)], shape)
            if choice == 1:
                return self.combine("hnp.linalg.slogdet({0})[1]", [self._matrix(n, depth)], shape)
            if choice == 2:
                return self.combine("hnp.trace(hnp.linalg.inv({0}))", [self._matrix(n, depth)], shape)
            if choice == 3:
                return self.combine("hnp.linalg.eigvalsh({0})[-1]", [self._symmetric(n, depth)], shape)
            return self.combine("hnp.linalg.norm(1.5 + hnp.tanh({0}))", [self.expression((n, n), depth)], shape)
        if len(shape) == 1 and shape[0] in (2, 3):
            n = shape[0]
            if choice == 0:
                return self.combine(
                    "hnp.linalg.solve({0}, {1})", [self._matrix(n, depth), self.expression((n,), depth)], shape
                )
            if choice == 1:
                return self.combine("hnp.linalg.eigvalsh({0})", [self._symmetric(n, depth)], shape)
            if choice == 2:
                return self.combine("hnp.linalg.eigh({0})[0]", [self._symmetric(n, depth)], shape)
            if choice == 3:
                return self.combine(
                    "hnp.linalg.norm(1.5 + hnp.tanh({0}), axis=-1)", [self.expression((n, 2), depth)], shape
                )
            return self.combine("hnp.linalg.inv({0})[0]", [self._matrix(n, depth)], shape)
        if len(shape) == 2 and shape[0] == shape[1] and shape[0] in (2, 3):
            n = shape[0]
            if choice == 0:
                return self.combine("hnp.linalg.inv({0})", [self._matrix(n, depth)], shape)
            if choice == 1:
                return self.combine("hnp.linalg.cholesky({0})", [self._symmetric(n, depth)], shape)
            if choice == 2:
                # Eigenvectors are defined up to sign; their squares are not.
                return self.combine("hnp.linalg.eigh({0})[1] ** 2", [self._symmetric(n, depth)], shape)
            return self.combine(
                "hnp.linalg.solve({0}, {1})", [self._matrix(n, depth), self.expression((n, n), depth)], shape
            )
        return None


def generate_program(source, *, kind="any", max_depth=3, max_nodes=10, dtypes=("float64", "float32")):
    """Draw one ``Program`` from ``source`` (an object with ``integer(lo, hi)`` and ``real(lo, hi)``).

    kind: ``"scalar"`` (x and f(x) scalars), ``"gradient"`` (f(x) scalar, x
    any small shape), ``"any"`` (both any small shape). Raises ``_Rejected``
    when the drawn program is not finite and moderate at its point (the
    callers redraw).
    """
    dtype = np.dtype(dtypes[source.integer(0, len(dtypes) - 1)])
    if kind == "scalar":
        input_shape, output_shape = (), ()
    else:
        input_shape = _INPUT_SHAPES[source.integer(0, len(_INPUT_SHAPES) - 1)]
        output_shape = () if kind == "gradient" else _OUTPUT_SHAPES[source.integer(0, len(_OUTPUT_SHAPES) - 1)]
    generator = _Generator(source, input_shape, dtype, max_depth, max_nodes)
    node = generator.expression(output_shape, max_depth)
    if not node.uses_input:
        node = generator.combine("({0} + {1})", [node, generator.leaf(output_shape)], output_shape)
        if not node.uses_input:
            node = generator.combine("({0} * {1})", [node, _Node("hnp.sum(x)", (), True)], output_shape)
    values = []
    for _ in range(_size(input_shape)):
        if source.integer(0, 1) == 0:
            values.append(_SPECIAL_VALUES[source.integer(0, len(_SPECIAL_VALUES) - 1)])
        else:
            values.append(round(source.real(-2.0, 2.0), 3))
    point = np.array(values, dtype=dtype).reshape(input_shape)
    program = Program("lambda x: " + node.code, point)
    _screen(program, output_shape)
    return program


def _screen(program, output_shape):
    """Reject programs that overflow or leave the moderate range at their point (both precisions)."""
    for dtype in (np.float64, program.dtype):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                value = np.asarray(program(program.point.astype(dtype)))
            except (ArithmeticError, ValueError, np.linalg.LinAlgError) as error:
                raise _Rejected(str(error)) from None
        if value.shape != output_shape:
            raise AssertionError(f"generator bug: {program!r} has shape {value.shape}, expected {output_shape}")
        if not np.all(np.isfinite(value)) or np.max(np.abs(value), initial=0.0) > 1e4:
            raise _Rejected("not moderate at the point")


def random_program(seed, *, kind="any", max_depth=3, max_nodes=10, dtypes=("float64", "float32")):
    """A random ``Program`` from an integer seed (redraws until one passes the screen)."""
    rng = random.Random(seed)
    while True:
        try:
            return generate_program(
                _RandomSource(rng.getrandbits(64)), kind=kind, max_depth=max_depth, max_nodes=max_nodes, dtypes=dtypes
            )
        except _Rejected:
            continue


def programs(*, kind="any", max_depth=3, max_nodes=10, dtypes=("float64", "float32")):
    """Hypothesis strategy of ``Program``s (see ``generate_program`` for the arguments)."""
    from hypothesis import assume
    from hypothesis import strategies as st

    @st.composite
    def strategy(draw):
        try:
            return generate_program(
                _HypothesisSource(draw), kind=kind, max_depth=max_depth, max_nodes=max_nodes, dtypes=dtypes
            )
        except _Rejected:
            assume(False)

    return strategy()


# --------------------------------------------------------------------------
# The comparison driver
# --------------------------------------------------------------------------


class Comparison:
    """One comparison: ``route`` against ``reference``, its error and tolerance."""

    __slots__ = ("check", "route", "reference", "error", "tolerance", "detail")

    def __init__(self, check, route, reference, error, tolerance, detail=""):
        self.check, self.route, self.reference = check, route, reference
        self.error, self.tolerance, self.detail = error, tolerance, detail

    @property
    def ok(self):
        return self.error <= self.tolerance

    def __repr__(self):
        status = "ok" if self.ok else "FAIL"
        return (
            f"[{status}] {self.check}: {self.route} vs {self.reference}: "
            f"error {self.error:.3g} (tolerance {self.tolerance:.3g}){self.detail}"
        )


class Report:
    """What ``compare_routes`` did: the comparisons (``comparisons``), the failures, skipped FD entries, and
    the refusals (``refusals``: (check, route, message) for a route that declined the program with the clear
    error it documents, e.g. sparsity detection of value-dependent control flow; not a failure)."""

    def __init__(self, program):
        self.program = program
        self.comparisons = []
        self.refusals = []
        self.skipped_fd_entries = 0

    @property
    def failures(self):
        return [c for c in self.comparisons if not c.ok]

    @property
    def ok(self):
        return not self.failures

    def summary(self):
        lines = [
            f"{len(self.comparisons)} comparisons, {len(self.failures)} failures, program:",
            self.program.reproducer(),
        ]
        lines += [repr(c) for c in self.failures]
        lines += [f"[refused] {check}: {route}: {_clip(message, 160)}" for check, route, message in self.refusals]
        return "\n".join(lines)


def _clip(text, limit):
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show(value):
    text = np.array2string(np.asarray(value), precision=10, threshold=12)
    return text if len(text) < 300 else text[:300] + "..."


class _Checker:
    """Records comparisons into a report; routes that raise become failed comparisons."""

    def __init__(self, report, check):
        self.report, self.check = report, check
        self._refused = set()

    def fail(self, route, reference, detail):
        self.report.comparisons.append(Comparison(self.check, route, reference, math.inf, 0.0, detail))

    def run(self, route, thunk, refusal=None):
        """``thunk()``, or None after recording a failure if it raises.

        ``refusal``: a predicate on the exception; when it holds, the route declined the program on purpose
        (a documented, clearly worded error): recorded in ``report.refusals`` instead (see ``refused``).
        """
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return thunk()
        except Exception as error:  # noqa: BLE001 - any crash of a route is a finding
            if refusal is not None and refusal(error):
                self.report.refusals.append((self.check, route, f"{type(error).__name__}: {error}"))
                self._refused.add(route)
                return None
            last = traceback.extract_tb(error.__traceback__)[-1]
            self.fail(
                route,
                "(raised)",
                f"\n    {type(error).__name__}: {error} [{last.filename.rsplit('/', 1)[-1]}:{last.lineno}]",
            )
            return None

    def refused(self, route):
        """Whether ``route`` declined the program (see ``run``)."""
        return route in self._refused

    def agree(self, route, value, reference_name, reference, rtol=ROUTE_RTOL, dtype=None):
        """Route vs route: max|a - b| <= rtol * max(1, |a|, |b|) (sup norms), shapes and finiteness equal.

        Two routes of a program evaluated at a float32 point round differently at float32's
        precision: rtol is then at least sqrt(eps) of float32, as ROUTE_RTOL is sqrt(eps) of float64.
        """
        if value is None or reference is None:
            return
        a = np.asarray(value)
        b = np.asarray(reference)
        if self.report.program.dtype == np.float32:
            rtol = max(rtol, F32_RTOL)
        if dtype is not None and a.dtype != np.dtype(dtype):
            self.fail(route, reference_name, f"\n    dtype {a.dtype}, expected {np.dtype(dtype)}")
            return
        a = a.astype(np.float64)
        b = b.astype(np.float64)
        if a.shape != b.shape:
            self.fail(route, reference_name, f"\n    shape {a.shape}, expected {b.shape}")
            return
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            self.fail(
                route,
                reference_name,
                f"\n    non-finite at a smooth point:\n    {route} = {_show(a)}\n    {reference_name} = {_show(b)}",
            )
            return
        error = float(np.max(np.abs(a - b), initial=0.0))
        scale = max(1.0, float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
        detail = "" if error <= rtol * scale else f"\n    {route} = {_show(a)}\n    {reference_name} = {_show(b)}"
        self.report.comparisons.append(Comparison(self.check, route, reference_name, error, rtol * scale, detail))

    def identical(self, route, value, reference_name, reference):
        """Route vs route, bit for bit: the same shape, dtype and values, inf and nan in the same places (a
        replay at a point outside the program's smooth domain, where both overflowed, still agrees)."""
        a, b = np.asarray(value), np.asarray(reference)
        same = a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
        detail = "" if same else f"\n    {route} = {_show(a)}\n    {reference_name} = {_show(b)}"
        self.report.comparisons.append(Comparison(self.check, route, reference_name, 0.0 if same else math.inf,
                                                  0.0, detail))

    def against_fd(self, route, value, fd_name, fd):
        """Against a scipy result (df, error, success): converged entries within FD_SAFETY x its error bound."""
        if value is None or fd is None:
            return
        df, err, success = fd
        a = np.asarray(value, dtype=np.float64).reshape(df.shape)
        if not np.all(np.isfinite(a)):
            self.fail(route, fd_name, f"\n    non-finite at a smooth point: {_show(a)}\n    {fd_name} = {_show(df)}")
            return
        # A float32 program's routes carry float32 rounding; scipy differences it in float64.
        rtol = F32_RTOL if self.report.program.dtype == np.float32 else FD_RTOL
        bound = FD_SAFETY * (err + FD_ATOL + rtol * np.abs(df))
        use = success & np.isfinite(df) & np.isfinite(err)
        self.report.skipped_fd_entries += int(np.size(use) - np.count_nonzero(use))
        if not np.any(use):
            return
        excess = np.where(use, np.abs(a - df) / np.where(use, bound, 1.0), 0.0)
        worst = np.unravel_index(np.argmax(excess), excess.shape)
        error, tolerance = float(abs(a[worst] - df[worst])), float(bound[worst])
        detail = (
            ""
            if error <= tolerance
            else (
                f"\n    worst entry {tuple(int(i) for i in worst)}: {route} {a[worst]!r}, {fd_name} {df[worst]!r} "
                f"(scipy error estimate {err[worst]:.3g})\n    {route} = {_show(a)}\n    {fd_name} = {_show(df)}"
            )
        )
        self.report.comparisons.append(Comparison(self.check, route, fd_name, error, tolerance, detail))


# central differences ---------------------------------------------------------


def _loop_points(function, out_size):
    """Wrap ``function`` (one 1-d point -> 1-d values) for scipy's (m, ...batch) calling convention."""

    def vectorized(points):
        batch_shape = points.shape[1:]
        out = np.empty((out_size,) + batch_shape)
        for index in np.ndindex(batch_shape):
            out[(slice(None),) + index] = function(points[(slice(None),) + index])
        return out

    return vectorized


def _fd_jacobian(program):
    """scipy.differentiate.jacobian of the float64 program: (df, error, success), each (out_size, in_size)."""
    from scipy.differentiate import jacobian

    x = program.point.astype(np.float64)
    out_size = _size(np.shape(program(x)))
    flat = lambda p: np.asarray(program(p.reshape(x.shape)), dtype=np.float64).ravel()  # noqa: E731
    with np.errstate(all="ignore"):
        result = jacobian(
            _loop_points(flat, out_size),
            x.ravel() if x.ndim else x.reshape(1),
            tolerances=dict(atol=FD_ATOL, rtol=FD_RTOL),
            initial_step=0.1,
        )
    return result.df, result.error, result.success


def _fd_hessian(program):
    """scipy.differentiate.hessian of the float64 scalar program: (ddf, error, success), (n, n)."""
    from scipy.differentiate import hessian

    x = program.point.astype(np.float64)
    flat = lambda p: np.asarray(program(p.reshape(x.shape)), dtype=np.float64).reshape(1)  # noqa: E731
    vectorized = _loop_points(flat, 1)
    with np.errstate(all="ignore"):
        result = hessian(
            lambda p: vectorized(p)[0],
            x.ravel() if x.ndim else x.reshape(1),
            tolerances=dict(atol=FD_ATOL, rtol=FD_RTOL),
            initial_step=0.1,
        )
    return result.ddf, result.error, result.success


def _fd_along(function, x, v):
    """Central differences of t -> function(x + t v) at 0: (df, error, success), shaped like function(x)."""
    from scipy.differentiate import jacobian

    shape = np.shape(function(x))
    flat = lambda t: np.asarray(function(x + t[0] * v), dtype=np.float64).ravel()  # noqa: E731
    with np.errstate(all="ignore"):
        result = jacobian(
            _loop_points(flat, _size(shape)), np.zeros(1), tolerances=dict(atol=FD_ATOL, rtol=FD_RTOL), initial_step=0.1
        )
    return tuple(np.reshape(a, shape) for a in (result.df, result.error, result.success))


# the checks -----------------------------------------------------------------


def _directions(program):
    """Fixed pseudo-random direction v and cotangent u for this program (float64)."""
    rng = np.random.default_rng(zlib.crc32(program.source.encode()))  # str hash() differs between processes
    x = program.point
    out_shape = np.shape(program(x.astype(np.float64)))
    v = np.round(rng.uniform(-1.0, 1.0, x.shape), 2)
    u = np.round(rng.uniform(-1.0, 1.0, out_shape), 2)
    return np.asarray(v, dtype=np.float64), np.asarray(u, dtype=np.float64)


def _numerator_to_denominator(J, in_shape, out_shape):
    return np.asarray(J).reshape(_size(out_shape), _size(in_shape)).T.reshape(tuple(in_shape) + tuple(out_shape))


def _nested_directional(f, v, order):
    """[D^0 f, D^1 f, ..., D^order f] with D g(y) = jvp(g, y, v): functions of x (nested forward mode)."""
    import hodiff as hd

    functions = [f]
    for _ in range(order):
        previous = functions[-1]
        functions.append(lambda y, g=previous: hd.jvp(g, (y,), (v,))[1])
    return functions


def _check_gradient(program, checker, cache):
    import hodiff as hd

    x = program.point.astype(np.float64)
    g = checker.run("grad", lambda: hd.grad(program)(x))
    cache["grad"] = g
    both = checker.run("value_and_grad", lambda: hd.value_and_grad(program)(x))
    if both is not None:
        checker.agree("value_and_grad[0]", both[0], "f(x)", program(x))
        checker.agree("value_and_grad[1]", both[1], "grad", g)
    for mode in ("rev", "fwd", "auto"):
        J = checker.run(f"jacobian(mode={mode!r})", lambda mode=mode: hd.jacobian(program, mode=mode)(x))
        checker.agree(f"jacobian(mode={mode!r})", J, "grad", g)
    checker.agree("jacfwd", checker.run("jacfwd", lambda: hd.jacfwd(program)(x)), "grad", g)
    if g is not None:
        df, err, ok = _fd_jacobian(program)
        checker.against_fd("grad", np.reshape(g, df.shape), "central differences", (df, err, ok))


def _check_jacobian(program, checker, cache):
    import hodiff as hd

    x = program.point.astype(np.float64)
    out_shape = np.shape(program(x))
    reference = checker.run("jacobian(mode='rev')", lambda: hd.jacobian(program, mode="rev")(x))
    for mode in ("rev", "fwd", "auto"):
        for layout in ("numerator", "denominator"):
            if mode == "rev" and layout == "numerator":
                continue
            J = checker.run(
                f"jacobian(mode={mode!r}, layout={layout!r})",
                lambda mode=mode, layout=layout: hd.jacobian(program, mode=mode, layout=layout)(x),
            )
            expected = reference
            if layout == "denominator" and reference is not None:
                expected = _numerator_to_denominator(reference, x.shape, out_shape)
            checker.agree(f"jacobian(mode={mode!r}, layout={layout!r})", J, "jacobian(mode='rev')", expected)
    checker.agree("jacrev", checker.run("jacrev", lambda: hd.jacrev(program)(x)), "jacobian(mode='rev')", reference)
    if reference is None:
        return
    J = np.asarray(reference).reshape(_size(out_shape), _size(x.shape))
    v, u = _directions(program)
    out = checker.run("jvp", lambda: hd.jvp(program, (x,), (v,)))
    if out is not None:
        checker.agree("jvp[0]", out[0], "f(x)", program(x))
        checker.agree("jvp[1]", out[1], "J @ v", (J @ v.ravel()).reshape(out_shape))
    pulled = checker.run("vjp", lambda: hd.vjp(program, x)[1](u)[0])
    checker.agree("vjp", pulled, "u @ J", (u.ravel() @ J).reshape(x.shape))
    checker.against_fd("jacobian(mode='rev')", J, "central differences", _fd_jacobian(program))


def _check_hessian(program, checker, cache):
    import hodiff as hd

    x = program.point.astype(np.float64)
    n = _size(x.shape)
    modes = ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd")
    H = {
        mode: checker.run(f"hessian(mode={mode!r})", lambda mode=mode: hd.hessian(program, mode=mode)(x))
        for mode in modes
    }
    reference = H["fwd-rev"]
    for mode in modes[1:]:
        checker.agree(f"hessian(mode={mode!r})", H[mode], "hessian(mode='fwd-rev')", reference)
    checker.agree(
        "derivative_tensor(order=2)",
        checker.run("derivative_tensor(order=2)", lambda: hd.derivative_tensor(program, 2)(x)),
        "hessian(mode='fwd-rev')",
        reference,
    )
    if reference is None:
        return
    cache["hessian"] = reference
    matrix = np.asarray(reference).reshape(n, n)
    checker.agree("hessian^T", matrix.T, "hessian(mode='fwd-rev')", matrix)
    v, _ = _directions(program)
    expected = (matrix @ v.ravel()).reshape(x.shape)
    for mode in ("fwd-rev", "rev-rev", "rev-fwd"):
        out = checker.run(f"hvp(mode={mode!r})", lambda mode=mode: hd.hvp(program, (x,), (v,), mode=mode)[0])
        checker.agree(f"hvp(mode={mode!r})", out, "hessian @ v", expected)
    out = checker.run("vhp", lambda: hd.vhp(program, (x,), (v,))[0])
    checker.agree("vhp", out, "v @ hessian", (v.ravel() @ matrix).reshape(x.shape))
    checker.against_fd("hessian(mode='fwd-rev')", matrix, "central-difference hessian", _fd_hessian(program))


def _check_graph(program, checker, cache):
    import hodiff as hd
    import hodiff.numpy as hnp

    x = program.point.astype(np.float64)
    g = cache.get("grad")
    if g is None:
        g = checker.run("grad", lambda: hd.grad(program)(x))

    def backward():
        variable = hd.Variable(x.copy())
        program(variable).backward()
        return np.asarray(variable.grad)

    checker.agree("Variable.backward", checker.run("Variable.backward", backward), "grad", g)
    v, _ = _directions(program)

    def double_backward():
        variable = hd.Variable(x.copy())
        (first,) = hd.grad_of(program(variable), [variable], create_graph=True)
        (second,) = hd.grad_of(hnp.sum(first * v), [variable])
        return np.asarray(getattr(second, "value", second))

    H = cache.get("hessian")
    if H is None:
        H = checker.run("hessian(mode='fwd-rev')", lambda: hd.hessian(program)(x))
    if H is not None:
        expected = (np.asarray(H).reshape(_size(x.shape), -1) @ v.ravel()).reshape(x.shape)
        checker.agree(
            "grad_of(create_graph=True) twice",
            checker.run("grad_of(create_graph=True)", double_backward),
            "hessian @ v",
            expected,
        )


def _check_taylor(program, checker, cache):
    import hodiff as hd

    x = program.point.astype(np.float64)
    v, _ = _directions(program)
    K = TAYLOR_ORDER
    nested = _nested_directional(program, v, K)
    directional = [checker.run(f"nested jvp order {k}", lambda k=k: nested[k](x)) for k in range(K + 1)]
    coefficients = checker.run("taylor", lambda: hd.taylor(program, x, v, order=K))
    if coefficients is not None:
        for k in range(K + 1):
            checker.agree(
                f"taylor c_{k} * {k}!",
                np.asarray(coefficients)[k] * math.factorial(k),
                f"nested jvp order {k}",
                directional[k],
            )
    out = checker.run("jet", lambda: hd.jet(program, (x,), ([v] + [np.zeros_like(v)] * (K - 1),)))
    if out is not None:
        checker.agree("jet primal", out[0], "f(x)", program(x))
        for k in range(1, K + 1):
            checker.agree(f"jet term {k}", out[1][k - 1], f"nested jvp order {k}", directional[k])
    ones = np.ones_like(x)
    for k in (1, 2, 3):
        for mode in ("taylor", "nested"):
            value = checker.run(
                f"derivative(order={k}, mode={mode!r})",
                lambda k=k, mode=mode: hd.derivative(program, order=k, mode=mode)(x),
            )
            along_ones = _nested_directional(program, ones, k)[k]
            checker.agree(
                f"derivative(order={k}, mode={mode!r})",
                value,
                f"nested jvp order {k} along ones",
                checker.run("nested along ones", lambda: along_ones(x)),
            )
    if directional[K - 1] is not None:
        fd = _fd_along(lambda y: nested[K - 1](y), x, v)
        checker.against_fd(f"nested jvp order {K}", directional[K], f"central differences of order {K - 1}", fd)
        if coefficients is not None:
            checker.against_fd(
                f"taylor c_{K} * {K}!",
                np.asarray(coefficients)[K] * math.factorial(K),
                f"central differences of order {K - 1}",
                fd,
            )


def _check_derivative(program, checker, cache):
    import hodiff as hd

    x = program.point.astype(np.float64)
    for k in range(1, DERIVATIVE_ORDER + 1):
        taylor = checker.run(f"derivative(order={k}, mode='taylor')", lambda k=k: hd.derivative(program, order=k)(x))
        nested = checker.run(
            f"derivative(order={k}, mode='nested')", lambda k=k: hd.derivative(program, order=k, mode="nested")(x)
        )
        checker.agree(f"derivative(order={k}, mode='taylor')", taylor, f"derivative(order={k}, mode='nested')", nested)
        if k <= 4:
            below = (lambda y: program(y)) if k == 1 else hd.derivative(program, order=k - 1, mode="nested")
            fd = _fd_along(below, x, np.float64(1.0))
            checker.against_fd(
                f"derivative(order={k}, mode='nested')", nested, f"central differences of order {k - 1}", fd
            )


def _check_vmap(program, checker, cache):
    import hodiff as hd

    x = program.point.astype(np.float64)
    v, _ = _directions(program)
    batch = np.stack([x, x + 0.25 * v, x - 0.5 * v])
    looped = np.stack([np.asarray(program(b)) for b in batch])
    checker.agree("vmap(f)", checker.run("vmap(f)", lambda: hd.vmap(program)(batch)), "loop of f", looped)
    if np.shape(program(x)) == ():
        grads = checker.run("loop of grad", lambda: np.stack([np.asarray(hd.grad(program)(b)) for b in batch]))
        checker.agree(
            "vmap(grad(f))",
            checker.run("vmap(grad(f))", lambda: hd.vmap(hd.grad(program))(batch)),
            "loop of grad",
            grads,
        )


# sparse derivatives -------------------------------------------------------------


def _sparsity_refusal(error):
    """Whether ``error`` is sparsity detection's clear refusal of a value-dependent program (not a crash)."""
    from hodiff.core.errors import TracedConversionError

    text = str(error)
    return isinstance(error, TracedConversionError) and "sparsity detection" in text and "value-dependent" in text


def _other_point(program):
    """A second point, away from the program's own (patterns are global: it must give the same pattern)."""
    rng = np.random.default_rng(zlib.crc32(program.source.encode()))
    return np.round(rng.uniform(-2.0, 2.0, program.point.shape), 3).astype(np.float64)


def _primitive_program(program, x, hessian=False):
    """(lines, culprits): the primitives sparsity detection sees for ``program`` at ``x``, one line each
    (name, arguments, output shape, pattern nnz), and the steps whose Jacobian rule misses an entry: where the
    primitive's own Jacobian at the traced values, composed with its arguments' patterns, leaves the output's
    pattern (a miss in the rule itself, not inherited from an earlier step)."""
    import scipy.sparse as sp

    import hodiff as hd
    from hodiff.transforms.sparsity import SparsityTrace, SparsityTracer

    class Listing(SparsityTrace):
        def __init__(self, n):
            super().__init__(n, hessian=hessian)
            self.steps = []

        def process(self, primitive, args, params):
            out = super().process(primitive, args, params)
            self.steps.append((primitive, args, params, out))
            return out

    n = _size(np.shape(x))
    trace = Listing(n)
    root = SparsityTracer(x, sp.eye_array(n, dtype=bool, format="csr"), trace.root(n), trace)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program(root)
    except Exception as error:  # noqa: BLE001 - a listing up to the failure is still useful
        trace.steps.append((None, (), {}, f"raised {type(error).__name__}: {error}"))
    finally:
        trace.alive = False
    names = {id(root): "x"}

    def text(arg):
        if isinstance(arg, SparsityTracer) and arg._trace is trace:
            return names.get(id(arg), "?")
        return f"const{np.shape(arg)}"

    lines, culprits = [], []
    for k, (primitive, args, params, out) in enumerate(trace.steps):
        if primitive is None:
            lines.append(f"  {out}")
            continue
        names[id(out)] = f"v{k}"
        shown = ", ".join(f"{key}={value!r}" for key, value in params.items())
        shown = (shown[:77] + "...") if len(shown) > 80 else shown
        lines.append(
            f"  v{k} = {primitive.name}({', '.join(text(a) for a in args)}{', ' if shown else ''}{shown})"
            f" -> {tuple(np.shape(out._value))}, pattern nnz {out.deps.nnz}"
        )
        if not primitive.differentiable:
            continue
        values = [a._value if isinstance(a, SparsityTracer) and a._trace is trace else a for a in args]
        for i, arg in enumerate(args):
            if not (isinstance(arg, SparsityTracer) and arg._trace is trace):
                continue

            def local(a, i=i):
                return primitive(*[a if j == i else v for j, v in enumerate(values)], **params)

            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    L = np.asarray(hd.jacobian(local, mode="rev")(values[i]))
            except Exception:  # noqa: BLE001 - a primitive hodiff cannot differentiate here: no verdict
                continue
            L = sp.csr_array(L.reshape(out.deps.shape[0], arg.deps.shape[0]) != 0)
            implied = sp.csr_array((L.astype(np.int64) @ arg.deps.astype(np.int64)) != 0)
            missed = sp.csr_array(implied.astype(np.int8) - implied.multiply(out.deps).astype(np.int8))
            missed.eliminate_zeros()
            if missed.nnz:
                culprits.append(f"v{k} = {primitive.name}(...) argument {i}: misses {_entries(missed)}")
    return lines, culprits


def _entries(mask, limit=8):
    """The first ``limit`` (row, column) entries of a sparse or dense boolean mask, as text."""
    rows, columns = mask.nonzero()
    pairs = [(int(r), int(c)) for r, c in zip(rows, columns)]
    return ", ".join(map(str, pairs[:limit])) + (f", ... ({len(pairs)} in all)" if len(pairs) > limit else "")


def _check_pattern(checker, function, route, pattern, dense, shape, reference_name, hessian=False):
    """The pattern is an (m, n) boolean CSR array holding every nonzero of ``dense``; a miss lists the
    primitives of ``function`` (the program, or its gradient) as sparsity detection sees them."""
    import scipy.sparse as sp

    if pattern is None or dense is None:
        return False
    if not isinstance(pattern, sp.csr_array) or pattern.dtype != bool or pattern.shape != shape:
        checker.fail(
            route,
            "an (m, n) bool csr_array",
            f"\n    got {type(pattern).__name__} of dtype {pattern.dtype}, shape {pattern.shape}",
        )
        return False
    dense = np.asarray(dense)
    # A non-finite entry is no verdict on the pattern (0 * inf in the dense route gives nan where the derivative
    # is structurally 0); the value comparisons report it as non-finite at a smooth point.
    missed = np.isfinite(dense) & (dense != 0) & ~pattern.toarray()
    detail = ""
    if missed.any():
        x = checker.report.program.point.astype(np.float64)
        lines, culprits = _primitive_program(function, x, hessian=hessian)
        detail = (
            f"\n    MISSED entries (silently wrong sparse derivatives): {_entries(missed)}"
            f"\n    {reference_name} there: {[float(dense[e]) for e in zip(*missed.nonzero())][:8]}"
            + "".join(f"\n    Jacobian rule that misses: {c}" for c in culprits)
            + "\n    the primitive-level program (as sparsity detection sees it):\n"
            + "\n".join(lines)
        )
    checker.report.comparisons.append(
        Comparison(checker.check, f"{route} holds every nonzero", reference_name, int(missed.sum()), 0, detail)
    )
    return True


def _check_same_pattern(checker, route, pattern, again):
    if pattern is None or again is None:
        return
    differ = pattern.toarray() != again.toarray() if again.shape == pattern.shape else None
    if differ is None:
        checker.fail(f"{route} at another x", route, f"\n    shape {again.shape}, expected {pattern.shape}")
        return
    detail = "" if not differ.any() else f"\n    entries that differ: {_entries(differ)}"
    checker.report.comparisons.append(
        Comparison(checker.check, f"{route} at another x", f"{route} at x", int(differ.sum()), 0, detail)
    )


def _check_sparse(program, checker, cache):
    import hodiff as hd

    x = program.point.astype(np.float64)
    out_shape = np.shape(program(x))
    m, n = _size(out_shape), _size(x.shape)
    other = _other_point(program)
    dense = checker.run("jacobian(mode='rev')", lambda: hd.jacobian(program, mode="rev")(x))
    J = None if dense is None else np.asarray(dense).reshape(m, n)
    pattern = checker.run("jacobian_sparsity", lambda: hd.jacobian_sparsity(program)(x), refusal=_sparsity_refusal)
    if pattern is None and checker.refused("jacobian_sparsity"):
        # The same detection runs inside sparse_jacobian: it must refuse too, never return a number.
        value = checker.run("sparse_jacobian", lambda: hd.sparse_jacobian(program)(x), refusal=_sparsity_refusal)
        if value is not None:
            checker.fail("sparse_jacobian", "(refused by jacobian_sparsity)", "\n    returned a value instead")
    elif _check_pattern(checker, program, "jacobian_sparsity", pattern, J, (m, n), "jacobian(mode='rev')"):
        again = checker.run("jacobian_sparsity at another x", lambda: hd.jacobian_sparsity(program)(other))
        _check_same_pattern(checker, "jacobian_sparsity", pattern, again)
        for mode in ("auto", "fwd", "rev"):
            for layout in ("numerator", "denominator"):
                route = f"sparse_jacobian(mode={mode!r}, layout={layout!r})"
                S = checker.run(
                    route,
                    lambda mode=mode, layout=layout: _sparse_dense(
                        checker, route, hd.sparse_jacobian(program, mode=mode, layout=layout)(x)
                    ),
                )
                checker.agree(route, S, "jacobian(mode='rev')", J if layout == "numerator" else J.T)
    if out_shape != ():
        return
    H = cache.get("hessian")
    if H is None:
        H = checker.run("hessian(mode='fwd-rev')", lambda: hd.hessian(program)(x))
    H = None if H is None else np.asarray(H).reshape(n, n)
    pattern = checker.run("hessian_sparsity", lambda: hd.hessian_sparsity(program)(x), refusal=_sparsity_refusal)
    if pattern is None and checker.refused("hessian_sparsity"):
        value = checker.run("sparse_hessian", lambda: hd.sparse_hessian(program)(x), refusal=_sparsity_refusal)
        if value is not None:
            checker.fail("sparse_hessian", "(refused by hessian_sparsity)", "\n    returned a value instead")
        return
    if not _check_pattern(checker, program, "hessian_sparsity", pattern, H, (n, n), "hessian", hessian=True):
        return
    asymmetric = pattern.toarray() != pattern.toarray().T
    checker.report.comparisons.append(
        Comparison(
            checker.check,
            "hessian_sparsity",
            "its transpose",
            int(asymmetric.sum()),
            0,
            f"\n    asymmetric entries: {_entries(asymmetric)}" if asymmetric.any() else "",
        )
    )
    again = checker.run("hessian_sparsity at another x", lambda: hd.hessian_sparsity(program)(other))
    _check_same_pattern(checker, "hessian_sparsity", pattern, again)
    # Another route to a Hessian pattern: the Jacobian pattern of the gradient (detection through the vjp rules).
    gradient_pattern = checker.run(
        "jacobian_sparsity(grad)", lambda: hd.jacobian_sparsity(hd.grad(program))(x), refusal=_sparsity_refusal
    )
    _check_pattern(checker, hd.grad(program), "jacobian_sparsity(grad)", gradient_pattern, H, (n, n), "hessian")
    S = checker.run("sparse_hessian", lambda: _sparse_dense(checker, "sparse_hessian", hd.sparse_hessian(program)(x)))
    checker.agree("sparse_hessian", S, "hessian(mode='fwd-rev')", H)
    if S is not None:
        checker.report.comparisons.append(
            Comparison(checker.check, "sparse_hessian^T", "sparse_hessian", float(np.max(np.abs(S - S.T))), 0.0)
        )


def _sparse_dense(checker, route, value):
    """A sparse route's csr_array as a dense array (a failure, and None, if it is not a csr_array)."""
    import scipy.sparse as sp

    if not isinstance(value, sp.csr_array):
        checker.fail(route, "a csr_array", f"\n    got {type(value).__name__}")
        return None
    return value.toarray()


def _f32_routes(program, scalar, scalar_input):
    """(name, function of x) for every route whose dtype the float32 check looks at."""
    import hodiff as hd

    f = program
    routes = [
        ("f", lambda x: f(x)),
        ("jacobian(mode='rev')", lambda x: hd.jacobian(f, mode="rev")(x)),
        ("jacobian(mode='fwd')", lambda x: hd.jacobian(f, mode="fwd")(x)),
        ("jvp", lambda x: hd.jvp(f, (x,), (np.ones_like(x),))[1]),
        ("vjp", lambda x: hd.vjp(f, x)[1](np.ones_like(f(x)))[0]),
        ("taylor", lambda x: hd.taylor(f, x, np.ones_like(x), order=3)),
        ("jet", lambda x: hd.jet(f, (x,), ([np.ones_like(x), np.zeros_like(x)],))[1][1]),
        ("derivative(order=2, mode='taylor')", lambda x: hd.derivative(f, order=2)(x)),
        ("derivative(order=2, mode='nested')", lambda x: hd.derivative(f, order=2, mode="nested")(x)),
        ("vmap(f)", lambda x: hd.vmap(f)(np.stack([x, x]))[0]),
    ]
    if scalar:
        routes += [("grad", lambda x: hd.grad(f)(x))]
        routes += [
            (f"hessian(mode={m!r})", lambda x, m=m: hd.hessian(f, mode=m)(x))
            for m in ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd")
        ]
        routes += [
            (f"hvp(mode={m!r})", lambda x, m=m: hd.hvp(f, (x,), (np.ones_like(x),), mode=m)[0])
            for m in ("fwd-rev", "rev-rev", "rev-fwd")
        ]
        routes += [
            ("vhp", lambda x: hd.vhp(f, (x,), (np.ones_like(x),))[0]),
            ("jacrev(grad)", lambda x: hd.jacrev(hd.grad(f))(x)),
            ("derivative_tensor(order=2)", lambda x: hd.derivative_tensor(f, 2)(x)),
            ("Variable.backward", lambda x: _graph_grad(f, x)),
        ]
    return routes


def _graph_grad(f, x):
    import hodiff as hd

    variable = hd.Variable(x.copy())
    f(variable).backward()
    return np.asarray(variable.grad)


def _check_float32(program, checker, cache):
    x32 = program.point.astype(np.float32)
    x64 = x32.astype(np.float64)
    value32 = np.asarray(program(x32))
    value64 = np.asarray(program(x64))
    if value32.dtype != np.float32:
        return  # the program itself promotes (a float64 constant): nothing to ask of the routes
    scale = max(1.0, float(np.max(np.abs(value64), initial=0.0)))
    forward_error = float(np.max(np.abs(value32 - value64), initial=0.0)) / scale
    rtol = max(F32_RTOL, 64.0 * forward_error)
    scalar = value64.shape == ()
    for name, route in _f32_routes(program, scalar, x32.shape == ()):
        reference = checker.run(name + " (float64)", lambda route=route: route(x64))
        checker.agree(
            name + " (float32)",
            checker.run(name + " (float32)", lambda route=route: route(x32)),
            name + " (float64)",
            reference,
            rtol=rtol,
            dtype=np.float32,
        )


def _check_replay(program, checker, cache):
    """hd.record of each route, recorded at the program's point and replayed at another: bit for bit the
    route's own numbers there (the same implementations in the same order), and replayed, not re-recorded,
    unless a guard saw another path."""
    import hodiff as hd

    x = program.point.astype(np.float64)
    other = _other_point(program)
    # of x's own type (a 0-d array or a numpy scalar): a replay's signature holds the type, as numpy
    # computes the two along different loops
    other = np.array(other, dtype=x.dtype) if isinstance(x, np.ndarray) else x.dtype.type(other)
    scalar = np.shape(program(x)) == ()
    routes = {"f": program, "jacobian(mode='rev')": hd.jacobian(program, mode="rev"),
              "jacobian(mode='fwd')": hd.jacobian(program, mode="fwd"),
              "taylor(order=3)": lambda y: hd.taylor(program, y, np.ones_like(y), order=3)}
    if scalar:
        v, _ = _directions(program)
        routes.update({"grad": hd.grad(program), "hessian(mode='fwd-rev')": hd.hessian(program),
                       "hvp": lambda y: hd.hvp(program, (y,), (v,))[0]})
    for name, route in routes.items():
        recorded = hd.record(route)
        if checker.run(f"record({name})", lambda: recorded(x)) is None:
            continue
        expected = checker.run(f"{name} at another x", lambda: route(other))
        replayed = checker.run(f"record({name}) replayed at another x", lambda: recorded(other))
        if expected is None or replayed is None:
            continue
        for a, b in zip(hd.tree_flatten(replayed)[0], hd.tree_flatten(expected)[0]):
            if np.all(np.isfinite(b)):
                checker.agree(f"record({name}) replayed", a, name, b, rtol=0.0)
            else:  # the other point is not screened as the program's is: an overflow there is still the same bits
                checker.identical(f"record({name}) replayed", a, name, b)
        if recorded.replays + recorded.recordings != 2 or (recorded.replays == 0 and recorded.program.guards == 0):
            checker.fail(f"record({name})", "one recording, then a replay",
                         f"\n    {recorded.recordings} recordings, {recorded.replays} replays without a guard failing")


_CHECK_FUNCTIONS = {
    "gradient": _check_gradient,
    "jacobian": _check_jacobian,
    "hessian": _check_hessian,
    "graph": _check_graph,
    "taylor": _check_taylor,
    "derivative": _check_derivative,
    "vmap": _check_vmap,
    "float32": _check_float32,
    "sparse": _check_sparse,
    "replay": _check_replay,
}


def applicable_checks(program):
    """The checks that apply to ``program`` (scalar-only checks need a scalar output, etc.)."""
    x = program.point
    out_shape = np.shape(program(x.astype(np.float64)))
    chosen = ["jacobian", "taylor", "vmap", "sparse", "replay"]
    if out_shape == ():
        chosen[:0] = ["gradient", "hessian", "graph"]
        if x.shape == ():
            chosen.append("derivative")
    if program.dtype == np.float32:
        chosen.append("float32")
    return chosen


def compare_routes(program, checks=None):
    """Run ``checks`` (default: every applicable one) on ``program``; return a ``Report``."""
    report = Report(program)
    cache = {}
    for name in checks or applicable_checks(program):
        if name not in _CHECK_FUNCTIONS:
            raise ValueError(f"compare_routes: unknown check {name!r}; choose from {CHECKS}")
        if name in applicable_checks(program):
            _CHECK_FUNCTIONS[name](program, _Checker(report, name), cache)
    return report


def assert_routes_agree(program, checks=None):
    """``compare_routes`` and raise ``AssertionError`` (with the reproducer) on any disagreement."""
    report = compare_routes(program, checks)
    if not report.ok:
        raise AssertionError("routes disagree\n" + report.summary())
    return report


# --------------------------------------------------------------------------
# The long run
# --------------------------------------------------------------------------


def main(argv=None):
    """``python -m hodiff.testing.fuzz --programs N``: a campaign; prints each failure and a tally."""
    import argparse
    import collections
    import time

    parser = argparse.ArgumentParser(prog="python -m hodiff.testing.fuzz", description=main.__doc__)
    parser.add_argument("--programs", type=int, default=200, help="how many programs to draw (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="first seed; program i uses seed + i")
    parser.add_argument("--checks", default="", help="comma-separated subset of " + ",".join(CHECKS))
    parser.add_argument(
        "--kind",
        default="mixed",
        choices=("mixed", "any", "gradient", "scalar"),
        help="program kind; mixed cycles scalar, gradient and any by seed (seed %% 3)",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the tally")
    arguments = parser.parse_args(argv)
    checks = [c for c in arguments.checks.split(",") if c] or None
    kinds = ("scalar", "gradient", "any") if arguments.kind == "mixed" else (arguments.kind,)
    comparisons = failures = skipped = 0
    failing_seeds = []
    by_route = collections.Counter()
    refusals = collections.Counter()
    start = time.time()
    for i in range(arguments.programs):
        seed = arguments.seed + i
        program = random_program(seed, kind=kinds[seed % len(kinds)])  # by seed: --seed S --programs 1 redraws it
        report = compare_routes(program, checks)
        comparisons += len(report.comparisons)
        skipped += report.skipped_fd_entries
        for check, route, _ in report.refusals:
            refusals[f"{check}: {route}"] += 1
        if not report.ok:
            failing_seeds.append(seed)
            failures += len(report.failures)
            for c in report.failures:
                by_route[f"{c.check}: {c.route} vs {c.reference}"] += 1
            if not arguments.quiet:
                print(f"--- seed {seed}: " + report.summary(), flush=True)
    elapsed = time.time() - start
    print(
        f"{arguments.programs} programs, {comparisons} comparisons, {failures} failed comparisons "
        f"in {len(failing_seeds)} programs, {sum(refusals.values())} refusals, "
        f"{skipped} unconverged FD entries skipped, {elapsed:.0f} s"
    )
    if failing_seeds:  # (--quiet prints no reproducer: --seed S --programs 1, the same --kind, redraws one)
        shown = ", ".join(map(str, failing_seeds[:20])) + (", ..." if len(failing_seeds) > 20 else "")
        print(f"  failing seeds: {shown}")
    for route, count in by_route.most_common():
        print(f"  {count:6d}  {route}")
    for route, count in refusals.most_common():
        print(f"  {count:6d}  refused: {route}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
