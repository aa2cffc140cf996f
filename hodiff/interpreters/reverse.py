"""Reverse mode: record a graph of nodes going forward, walk it backward.

Each traced operation makes one ``Node`` holding the primitive, its argument
values, its answer and links to the nodes of its traced arguments. Nothing
points from a node to the tracer that carries it, so graphs hold no reference
cycles and die with their last tracer.

The backward pass pops nodes in decreasing creation order from a heap (an
iterative topological order: every consumer of a node was created after it),
so graphs of any depth are walked without recursion. Cotangents are combined
with hodiff primitives, so when an outer transform is tracing them the
backward pass is itself recorded and can be differentiated again.
"""

import heapq
import itertools

import numpy as np

from ..core.trace import Trace, Tracer

__all__ = ["Node", "ReverseTrace", "ReverseTracer", "backward_pass", "unbroadcast"]

_node_ids = itertools.count()

# Set by the primitives package: hodiff's add, and sum-to-shape for broadcasting.
_ops = {}


class Node:
    """One recorded operation (or a leaf when ``primitive`` is None)."""

    __slots__ = ("seq", "primitive", "args", "params", "ans", "parents", "argnums", "grad", "__weakref__")

    def __init__(self, primitive, args, params, ans, parents, argnums):
        self.seq = next(_node_ids)
        self.primitive = primitive
        self.args = args
        self.params = params
        self.ans = ans
        self.parents = parents
        self.argnums = argnums
        self.grad = None  # accumulated gradient, used by graph-API leaves only


class ReverseTracer(Tracer):
    """A value traced by reverse mode: its plain value and the node that made it."""

    __slots__ = ("value", "node")

    def __init__(self, value, trace, node):
        self._trace = trace
        self.value = value
        self.node = node

    @property
    def primal(self):
        return self.value

    def __repr__(self):
        return f"ReverseTracer({self.value!r})"


class ReverseTrace(Trace):
    """Records nodes. ``tracer_type`` is ``ReverseTracer`` (or the graph API's ``Variable``)."""

    kind = "reverse-mode"
    __slots__ = ("tracer_type",)

    def __init__(self, level=None, tracer_type=ReverseTracer):
        super().__init__(level)
        self.tracer_type = tracer_type

    def new_leaf(self, value):
        return self.make_tracer(value, Node(None, (), None, value, (), ()))

    def make_tracer(self, value, node):
        tracer = self.tracer_type.__new__(self.tracer_type)
        tracer._trace = self
        tracer.value = value
        tracer.node = node
        return tracer

    def process(self, primitive, args, params):
        values = []
        parents = []
        argnums = []
        lower_tracers = False  # values traced by outer transforms must go back through bind
        i = 0
        for arg in args:
            if isinstance(arg, Tracer):
                if arg._trace is self:
                    parents.append(arg.node)
                    argnums.append(i)
                    arg = arg.value
                    if isinstance(arg, Tracer):
                        lower_tracers = True
                else:
                    lower_tracers = True
            values.append(arg)
            i += 1
        values = tuple(values)
        ans = primitive(*values, **params) if lower_tracers else primitive.impl(*values, **params)
        # Shared empty params and interned argnums keep long scalar graphs small (W8: ~100 B/node).
        argnums = tuple(argnums)
        node = Node(primitive, values, params or _NO_PARAMS, ans, tuple(parents),
                    _interned_argnums.setdefault(argnums, argnums))
        tracer = self.tracer_type.__new__(self.tracer_type)
        tracer._trace = self
        tracer.value = ans
        tracer.node = node
        return tracer


_NO_PARAMS = {}
_interned_argnums = {}
_SCALAR_TYPES = (float, int, complex)


def unbroadcast(cotangent, arg):
    """Sum ``cotangent`` over the axes along which ``arg`` was broadcast to the output."""
    if type(cotangent) in _SCALAR_TYPES:
        return cotangent  # a Python scalar cotangent means a scalar output: nothing was broadcast
    shape = arg.shape if hasattr(arg, "shape") else np.shape(arg)
    cotangent_shape = cotangent.shape if hasattr(cotangent, "shape") else np.shape(cotangent)
    if cotangent_shape == shape:
        return cotangent
    return _ops["sum_to_shape"](cotangent, shape)


def backward_pass(roots, wanted, rebuild=None):
    """Propagate cotangents from ``roots`` back through the graph.

    roots:   list of (node, cotangent) pairs to start from.
    wanted:  set of nodes whose total cotangent is asked for; None for every leaf.
    rebuild: when given, ``rebuild(value, node)`` makes a tracer of a recorded
             value, so that rules see traced arguments and the pass builds a
             graph of its own (the graph API's ``create_graph=True``).
    Returns {node: cotangent} for the wanted nodes that were reached.
    """
    add = _ops["add"]
    pending = {}
    heap = []
    for node, cotangent in roots:
        if node in pending:
            pending[node] = add(pending[node], cotangent)
        else:
            pending[node] = cotangent
            heapq.heappush(heap, (-node.seq, node))
    found = {}
    while heap:
        _, node = heapq.heappop(heap)
        cotangent = pending.pop(node)
        primitive = node.primitive
        if (primitive is None) if wanted is None else (node in wanted):
            found[node] = cotangent
        if primitive is None:
            continue
        args, ans, params = node.args, node.ans, node.params
        if rebuild is not None:
            args = list(args)
            for parent, argnum in zip(node.parents, node.argnums):
                args[argnum] = rebuild(args[argnum], parent)
            ans = rebuild(ans, node)
        rules = primitive.vjp
        for parent, argnum in zip(node.parents, node.argnums):
            rule = rules[argnum] if type(rules) is tuple and argnum < len(rules) else primitive.vjp_rule(argnum)
            if rule is None:
                continue
            try:
                contribution = rule(cotangent, ans, *args, **params)
            except Exception as error:
                error.add_note(f"(in the reverse-mode rule of primitive '{primitive.name}', argument {argnum})")
                raise
            if primitive.broadcasts:
                contribution = unbroadcast(contribution, args[argnum])
            if parent in pending:
                pending[parent] = add(pending[parent], contribution)
            else:
                pending[parent] = contribution
                heapq.heappush(heap, (-parent.seq, parent))
    return found


def graph_nodes(outputs):
    """Every node that ``outputs`` depend on, in creation (topological) order."""
    seen = set()
    stack = [node for node in outputs]
    order = []
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        order.append(node)
        stack.extend(node.parents)
    order.sort(key=lambda node: node.seq)
    return order


def forward_sweep(outputs, seeds):
    """Push tangents forward through a recorded graph using each node's JVP rules.

    seeds: {leaf node: tangent}. Returns {node: tangent} for every node
    reached; nodes whose inputs carry no tangent are left out (zero).
    """
    add = _ops["add"]
    tangents = dict(seeds)
    for node in graph_nodes(outputs):
        primitive = node.primitive
        if primitive is None:
            continue
        tangent_out = None
        for parent, argnum in zip(node.parents, node.argnums):
            tangent = tangents.get(parent)
            if tangent is None:
                continue
            rule = primitive.jvp_rule(argnum)
            if rule is None:
                continue
            contribution = rule(tangent, node.ans, *node.args, **node.params)
            tangent_out = contribution if tangent_out is None else add(tangent_out, contribution)
        if tangent_out is not None:
            if primitive.broadcasts:
                out_shape = node.ans.shape if hasattr(node.ans, "shape") else np.shape(node.ans)
                if np.shape(tangent_out) != out_shape if not isinstance(tangent_out, Tracer) \
                        else tangent_out.shape != out_shape:
                    tangent_out = _ops["broadcast_to"](tangent_out, shape=out_shape)
            tangents[node] = tangent_out
    return tangents
