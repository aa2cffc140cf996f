"""The graph API: the computational graph as the backprop lecture draws it.

``Variable`` is a reverse-mode tracer on one persistent trace (level 0, below
every transform). Operations on Variables record nodes; ``backward``
accumulates gradients into the leaf Variables' ``.grad`` as PyTorch does, and
the graph lives as long as its Variables, so ``backward`` may run again.
With ``create_graph=True`` the backward pass is itself recorded: ``.grad`` is
a Variable that can be differentiated again.
"""

import numbers
import weakref

import numpy as np

from ..core.gcpause import paused_cycle_collector
from ..core.trace import Tracer
from ..interpreters.reverse import Node, ReverseTrace, ReverseTracer, backward_pass
from .reverse import _match_input

__all__ = ["Variable", "grad_of", "GRAPH_TRACE"]


class Variable(ReverseTracer):
    """A node of the computational graph holding a value (and, after backward, a gradient).

    >>> import hodiff as hd, hodiff.numpy as hnp
    >>> x = hd.Variable(2.0, name="x"); y = hd.Variable(-3.0, name="y")
    >>> z = x * y + x
    >>> z.backward()
    >>> float(x.grad), float(y.grad)
    (-2.0, 2.0)
    """

    __slots__ = ("_name",)
    graph_variable = True  # on the persistent level-0 trace, below every transform (see lift_inner_duals)

    def __init__(self, value, name=None):
        if isinstance(value, (list, tuple)):
            value = np.asarray(value)  # numpy's dtype: a list of ints is refused below, as an int array is
        if isinstance(value, Tracer) and not isinstance(value, Variable):
            pass  # a value traced by a transform: allowed, the graph sits below it
        elif isinstance(value, (bool, np.bool_)) or (
                isinstance(value, numbers.Integral) or np.issubdtype(np.result_type(value), np.integer)):
            raise TypeError(
                f"Variable{' ' + repr(name) if name else ''}: gradients need a float or complex value, "
                f"got {value!r} of integer/bool type; write 2.0 instead of 2 or use x.astype(float)"
            )
        if isinstance(value, Variable):
            raise TypeError("Variable(v) of a Variable: use v itself, or hd.stop_gradient(v) for a constant")
        self._trace = GRAPH_TRACE
        self.value = value
        self.node = Node(None, (), None, value, (), ())
        self.name = name

    @property
    def name(self):
        return getattr(self, "_name", None)

    @name.setter
    def name(self, name):
        self._name = name
        if name is not None:
            node_names[self.node] = name  # nodes do not point back to Variables; pictures need the name

    @property
    def grad(self):
        """The accumulated gradient (None before the first backward and after zero_grad)."""
        return self.node.grad

    @grad.setter
    def grad(self, value):
        self.node.grad = value

    @property
    def is_leaf(self):
        return self.node.primitive is None

    @property
    def op(self):
        """The primitive's name that made this Variable, or None for a leaf."""
        return None if self.node.primitive is None else self.node.primitive.name

    def zero_grad(self):
        self.node.grad = None

    def backward(self, gradient=None, create_graph=False):
        """Accumulate d(self)/d(leaf), times ``gradient``, into every leaf's ``.grad``.

        ``gradient`` is the upstream cotangent (shape of self); it may be
        omitted only when self holds one element. With ``create_graph=True``
        the gradients are Variables, differentiable again.
        """
        gradient = _seed(gradient, self.value, "backward")
        rebuild = GRAPH_TRACE.make_tracer if create_graph else None
        with paused_cycle_collector():
            found = backward_pass([(self.node, gradient)], None, rebuild=rebuild)
        for node, contribution in found.items():
            contribution = _as_leaf_gradient(contribution, node.ans)
            node.grad = contribution if node.grad is None else node.grad + contribution

    def __repr__(self):
        name = f", name={self.name!r}" if self.name else ""
        op = f", op={self.op!r}" if self.op else ""
        return f"Variable({self.value!r}{name}{op})"


GRAPH_TRACE = ReverseTrace(level=0, tracer_type=Variable)


def _seed(gradient, value, who):
    """The upstream cotangent of an output holding ``value``, as PyTorch takes it: ones for a one-element
    output when None, else ``gradient`` with the output's shape (refused otherwise) cast to the output's
    dtype (a list, a bool or a float32 array becomes a float64 output's), a copy of the caller's array."""
    shape = value.shape if isinstance(value, Tracer) else np.shape(value)
    dtype = value.dtype if isinstance(value, Tracer) else np.result_type(value)
    if not np.issubdtype(dtype, np.inexact):
        dtype = np.dtype(float)
    if gradient is None:
        if int(np.prod(shape, dtype=np.int64)) != 1:
            keyword = "gradient=" if who == "backward" else "gradients="
            raise TypeError(f"{who}: an output of shape {shape} needs {keyword} (the upstream dL/d(output), of "
                            "that shape); only a one-element output may leave it out")
        return np.ones(shape, dtype=dtype)
    if not isinstance(gradient, Tracer):
        gradient = np.array(gradient, dtype=dtype)
    if tuple(gradient.shape) != tuple(shape):
        raise ValueError(f"{who}: gradient of shape {tuple(gradient.shape)} for an output of shape {tuple(shape)}")
    return gradient


def _as_leaf_gradient(contribution, value):
    """A leaf's gradient in the leaf's dtype (float32 stays float32, as hd.grad's), never an array another
    leaf's ``.grad`` or the caller's ``gradient=`` shares (add's VJP passes its cotangent on as it is)."""
    if isinstance(contribution, Tracer):
        return contribution
    contribution = _match_input(contribution, value)
    return np.array(contribution) if isinstance(contribution, np.ndarray) else contribution

# Node -> the name of the Variable carrying it (hodiff.viz labels graph pictures with it).
node_names = weakref.WeakKeyDictionary()


def grad_of(outputs, inputs, gradients=None, create_graph=False):
    """Gradients of ``outputs`` with respect to ``inputs`` (Variables), like torch.autograd.grad.

    Returns a tuple with one gradient per input (zeros for an input the
    outputs do not depend on); nothing is accumulated into ``.grad``.
    ``gradients`` gives the upstream cotangent of each output (default: ones,
    for one-element outputs). An output that is a plain number or array (say
    the gradient of a linear function, which depends on no Variable)
    contributes zero.
    """
    constant = (numbers.Number, np.ndarray, np.generic)
    if isinstance(outputs, Tracer) and not isinstance(outputs, Variable):
        raise TypeError(f"grad_of: the output is a {outputs._trace.kind}-traced value, not a Variable (grad_of "
                        "inside a transform such as hd.vmap): use the transforms there, e.g. hd.vmap(hd.grad(f))")
    outputs = [outputs] if isinstance(outputs, (Variable,) + constant) else list(outputs)
    single = isinstance(inputs, Variable)
    inputs = [inputs] if single else list(inputs)
    for x in inputs:
        if not isinstance(x, Variable):
            raise TypeError(f"grad_of: inputs must be Variables, got {type(x).__name__}")
    if gradients is None:
        gradients = [None] * len(outputs)
    elif isinstance(gradients, (np.ndarray, numbers.Number, Tracer)) or not isinstance(gradients, (list, tuple)):
        gradients = [gradients]
    if len(gradients) != len(outputs):
        raise ValueError(f"grad_of: {len(outputs)} output{'s' if len(outputs) != 1 else ''} and "
                         f"{len(gradients)} gradient{'s' if len(gradients) != 1 else ''}: give one per output "
                         "(None for a one-element output)")
    roots = []
    for out, gradient in zip(outputs, gradients):
        if isinstance(out, constant) and not isinstance(out, Tracer):
            continue  # depends on no Variable: its gradient is zero
        if not isinstance(out, Variable):
            raise TypeError(f"grad_of: outputs must be Variables (or constants), got {type(out).__name__}")
        roots.append((out.node, _seed(gradient, out.value, "grad_of")))
    wanted = {x.node for x in inputs}
    found = backward_pass(roots, wanted, rebuild=GRAPH_TRACE.make_tracer if create_graph else None)
    from ..primitives.shape import zeros_like

    return tuple(_as_leaf_gradient(found[x.node], x.value) if x.node in found else zeros_like(x.value)
                 for x in inputs)
