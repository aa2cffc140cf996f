"""Recorded computational graphs, as the backprop lecture draws them.

A ``Graph`` holds the nodes an output depends on (in topological order), each
node's forward value and, after a backward pass, its gradient ``d f / d node``
(f the first output) and the gradient each edge carries back. Everything the
pictures (``hodiff.viz.dot``) and the text tables (``hodiff.viz.text``) show
is computed here, from the nodes that the graph API records:

- forward value of a node: ``node.ans``;
- gradient of a node: the cotangent that reaches it in a backward pass from
  the output seeded with 1 (so for a leaf it is the leaf's ``.grad``);
- gradient on an edge parent -> child (argument ``i`` of the child): the
  downstream gradient ``vjp_i(upstream)`` the child sends back. Edges out of
  one node add up to the node's gradient ("copy adds");
- local gradient of an edge: ``d child / d parent``, shown when it is a number
  (scalar edges) or a diagonal (elementwise ops); otherwise it is a Jacobian
  that backprop never builds, and the picture says so.

Graphs of a backward pass recorded with ``backward(create_graph=True)`` are
graphs too: their gradient nodes appear as nodes (marked ``backward``).
"""

import inspect
from collections import deque

import numpy as np

from ..core.trace import concrete_value
from ..interpreters.reverse import Node, backward_pass, graph_nodes, unbroadcast
from ..transforms.graph import Variable, node_names

__all__ = ["Graph", "Edge", "trace_graph"]

# How binary primitives read in a picture; a constant operand is written into the gate (the
# lecture's "+1", "*-1", "1/x" gates).
_SYMBOLS = {"add": "+", "subtract": "-", "multiply": "*", "true_divide": "/", "divide": "/",
            "power": "**", "matmul": "@"}


def _size(value):
    return int(np.prod(np.shape(concrete_value(value)), dtype=np.int64))


def _shape(value):
    return np.shape(concrete_value(value))


class Edge:
    """An edge parent -> child: the child's argument ``argnum`` is the parent's value.

    ``grad`` is the downstream gradient the child sends back along the edge
    (``upstream x local``), ``upstream`` the child's gradient, ``local`` the
    local gradient d child / d parent when it is a number or a diagonal
    (``local_kind`` "scalar" or "diagonal"; "jacobian" when it is not built).
    """

    __slots__ = ("parent", "child", "argnum", "grad", "upstream", "local", "local_kind")

    def __init__(self, parent, child, argnum):
        self.parent, self.child, self.argnum = parent, child, argnum
        self.grad = self.upstream = self.local = None
        self.local_kind = None


class Graph:
    """The graph that ``outputs`` (Variables) depend on, with values and gradients.

    outputs:   a Variable or a sequence of them; the first is "the output" f whose
               gradients ``d f / d node`` are shown.
    gradient:  the upstream cotangent of f (default 1, which needs a one-element f).
    grads:     True computes gradients, False never; None (default) computes them
               when a backward pass has run (some leaf has a ``.grad``), as the
               lecture's figures show gradients only after backward.
    include_grad_graph: after ``backward(create_graph=True)`` the leaves' gradients
               are Variables; with True (default) they and the nodes of the
               backward pass are drawn too, marked as backward nodes.

    >>> import hodiff as hd
    >>> x = hd.Variable(3.0, name="x"); y = hd.Variable(-4.0, name="y")
    >>> f = x * y
    >>> f.backward()
    >>> g = Graph(f)
    >>> [g.name(n) for n in g.nodes], [float(g.grads[n]) for n in g.nodes]
    (['x', 'y', 'f'], [-4.0, 3.0, 1.0])
    """

    def __init__(self, outputs, *, gradient=None, grads=None, include_grad_graph=True):
        if isinstance(outputs, Graph):
            outputs = outputs.outputs
        outputs = [outputs] if not isinstance(outputs, (list, tuple)) else list(outputs)
        if not outputs:
            raise ValueError("Graph: no outputs given")
        for out in outputs:
            if not isinstance(out, (Variable, Node)):
                raise TypeError(
                    f"Graph: outputs must be hodiff Variables (the graph API) or their nodes, got "
                    f"{type(out).__name__}; use hd.trace_graph(f, *args) to record a function's graph"
                )
        self.outputs = outputs
        self.output = outputs[0]
        self.output_nodes = [out.node if isinstance(out, Variable) else out for out in outputs]
        forward_nodes = graph_nodes(self.output_nodes)
        self._labels = {}
        self.grad_outputs = []
        if include_grad_graph:
            # Gradients recorded by backward(create_graph=True): Variables whose nodes belong to the backward pass.
            for node in forward_nodes:
                if node.primitive is None and isinstance(node.grad, Variable) and node.grad.node.primitive is not None:
                    self.grad_outputs.append((node, node.grad))
        self.nodes = graph_nodes(self.output_nodes + [g.node for _, g in self.grad_outputs])
        forward_set = set(forward_nodes)
        self.backward_nodes = {node for node in self.nodes if node not in forward_set}
        self._name_nodes()
        for leaf, grad_variable in self.grad_outputs:
            if grad_variable.node not in node_names:
                self._names[grad_variable.node] = f"d{self._names[self.output_nodes[0]]}/d{self._names[leaf]}"
        self.grads = {}
        self.edges = []
        if grads is None:
            grads = any(node.primitive is None and node.grad is not None for node in forward_nodes)
        self.has_grads = False
        if grads:
            self._compute_grads(gradient)

    # ------------------------------------------------------------------ naming

    def _name_nodes(self):
        self._names = {}
        leaves = count = 0
        for node in self.nodes:
            name = node_names.get(node)
            if name is None:
                if node.primitive is None:
                    name = f"x{leaves}"
                    leaves += 1
                elif node is self.output_nodes[0]:
                    name = "f"
                else:
                    name = f"n{count}"
                    count += 1
            self._names[node] = name
        # Names must be unique to serve as table keys and DOT ids.
        seen = {}
        for node in self.nodes:
            name = self._names[node]
            if name in seen:
                seen[name] += 1
                self._names[node] = f"{name}#{seen[name]}"
            else:
                seen[name] = 0

    def name(self, node):
        """The display name of a node: its Variable's name, or x<k> (inputs), f (output), n<k>."""
        return self._names[node]

    # ------------------------------------------------------------------ gradients

    def _compute_grads(self, gradient):
        out = self.output_nodes[0]
        shape = _shape(out.ans)
        if gradient is None:
            if int(np.prod(shape, dtype=np.int64)) != 1:
                return  # no default seed for a non-scalar output: values only
            gradient = np.ones(shape, dtype=np.result_type(concrete_value(out.ans), float))
        elif np.shape(gradient) != shape:
            raise ValueError(f"Graph: gradient of shape {np.shape(gradient)} for an output of shape {shape}")
        self.grads = backward_pass([(out, gradient)], set(self.nodes))
        self.has_grads = True
        for node in self.nodes:
            if node.primitive is None:
                continue
            upstream = self.grads.get(node)
            for parent, argnum in zip(node.parents, node.argnums):
                edge = Edge(parent, node, argnum)
                self.edges.append(edge)
                if upstream is None:
                    continue
                edge.upstream = upstream
                edge.grad = self._edge_gradient(node, argnum, upstream)
                edge.local, edge.local_kind = self._local_gradient(node, argnum)
        if not self.edges:
            return
        # Edges of nodes without a gradient (backward nodes) still appear in the picture.
        known = {(edge.parent, edge.child, edge.argnum) for edge in self.edges}
        for node in self.nodes:
            for parent, argnum in zip(node.parents, node.argnums):
                if (parent, node, argnum) not in known:
                    self.edges.append(Edge(parent, node, argnum))

    @staticmethod
    def _edge_gradient(node, argnum, upstream):
        rule = node.primitive.vjp_rule(argnum)
        arg = node.args[argnum]
        if rule is None:
            return np.zeros(_shape(arg))
        contribution = rule(upstream, node.ans, *node.args, **node.params)
        if node.primitive.broadcasts:
            contribution = unbroadcast(contribution, arg)
        return contribution

    @staticmethod
    def _local_gradient(node, argnum):
        """d node / d argument as a number or a diagonal; (None, "jacobian") when it is a full Jacobian."""
        rule = node.primitive.vjp_rule(argnum)
        arg = node.args[argnum]
        ans_shape, arg_shape = _shape(node.ans), _shape(arg)
        if rule is None:
            return 0.0, "scalar" if _size(arg) == 1 else "diagonal"
        elementwise = node.primitive.broadcasts and ans_shape == arg_shape
        if _size(arg) == 1 and _size(node.ans) == 1 or elementwise:
            local = rule(np.ones(ans_shape, dtype=np.result_type(concrete_value(node.ans), float)),
                         node.ans, *node.args, **node.params)
            if node.primitive.broadcasts:
                local = unbroadcast(local, arg)
            return local, "scalar" if _size(arg) == 1 else "diagonal"
        return None, "jacobian"

    # ------------------------------------------------------------------ views

    def value(self, node):
        return concrete_value(node.ans)

    def grad(self, node):
        """d f / d node (None when no gradient reached it or none was computed)."""
        grad = self.grads.get(node)
        return None if grad is None else concrete_value(grad)

    def op_label(self, node):
        """How a gate reads: '+', '*', '+1', '1/x', 'exp', 'sum(axis=0)', or 'input' for a leaf."""
        primitive = node.primitive
        if primitive is None:
            return "input"
        from .text import format_value

        traced = set(node.argnums)
        constants = {i: arg for i, arg in enumerate(node.args) if i not in traced}
        # Parameters at their defaults are not shown: "sum", not "sum(keepdims=False)".
        params = {k: v for k, v in (node.params or {}).items()
                  if v is not None and not (k in _DEFAULT_PARAMS and _same(v, _DEFAULT_PARAMS[k]))}
        symbol = _SYMBOLS.get(primitive.name)
        if symbol is not None and len(node.args) == 2 and not params:
            if not constants:
                return symbol
            (i, c), = constants.items()
            c = format_value(c, precision=4, max_items=4)
            # Commutative gates read like the lecture's "+1" and "*-1"; the others keep the order ("1/x").
            return f"{symbol}{c}" if i == 1 or primitive.name in ("add", "multiply") else f"{c}{symbol}x"
        if primitive.name == "negative":
            return "*-1"
        parts = []
        if constants:
            parts = ["·" if i in traced else format_value(arg, precision=4, max_items=4)
                     for i, arg in enumerate(node.args)]
        parts += [f"{k}={v!r}" for k, v in params.items()]
        return f"{primitive.name}({', '.join(parts)})" if parts else primitive.name

    def formula(self, node):
        """What a node computes from its inputs' names: 'f / n6', '-n7', 'exp(n4)', 'sum(n3, axis=0)'."""
        operands = self.inputs_of(node)
        symbol = _SYMBOLS.get(node.primitive.name)
        params = [f"{k}={v!r}" for k, v in (node.params or {}).items()
                  if v is not None and not (k in _DEFAULT_PARAMS and _same(v, _DEFAULT_PARAMS[k]))]
        if symbol is not None and len(operands) == 2 and not params:
            return f"{operands[0]} {symbol} {operands[1]}"
        if node.primitive.name == "negative" and len(operands) == 1:
            return f"-{operands[0]}"
        return f"{node.primitive.name}({', '.join(operands + params)})"

    def inputs_of(self, node):
        """Names of a node's inputs in argument order (constants written out)."""
        from .text import format_value

        names = {argnum: self._names[parent] for parent, argnum in zip(node.parents, node.argnums)}
        return [names[i] if i in names else format_value(arg, precision=4, max_items=4)
                for i, arg in enumerate(node.args)]

    def kind(self, node):
        if node in self.output_nodes:
            return "output"
        if any(node is g.node for _, g in self.grad_outputs):
            return "gradient"
        if node in self.backward_nodes:
            return "backward"
        return "input" if node.primitive is None else "op"

    def rows(self):
        """One dict per node (topological order): name, kind, op, inputs, value, grad."""
        return [{"name": self._names[node], "kind": self.kind(node), "op": self.op_label(node),
                 "inputs": self.inputs_of(node) if node.primitive is not None else [],
                 "value": self.value(node), "grad": self.grad(node)} for node in self.nodes]

    def visible_nodes(self, max_nodes):
        """The ``max_nodes`` nodes nearest the outputs (breadth first), for pictures of big graphs."""
        if max_nodes is None or len(self.nodes) <= max_nodes:
            return set(self.nodes)
        keep = set()
        queue = deque(self.output_nodes + [g.node for _, g in self.grad_outputs])
        while queue and len(keep) < max_nodes:
            node = queue.popleft()
            if node in keep:
                continue
            keep.add(node)
            queue.extend(node.parents)
        return keep

    # ------------------------------------------------------------------ display

    def to_dot(self, **options):
        from .dot import to_dot

        return to_dot(self, **options)

    def to_table(self, **options):
        from .text import to_table

        return to_table(self, **options)

    def render(self, path, **options):
        from .dot import render

        return render(self, path, **options)

    def _repr_mimebundle_(self, include=None, exclude=None):
        from .dot import mimebundle

        return mimebundle(self.to_dot(), self.to_table())

    def __repr__(self):
        grads = "with gradients" if self.has_grads else "no gradients"
        return f"<hodiff Graph: {len(self.nodes)} nodes, {grads}>"

    def __str__(self):
        return self.to_table()


_DEFAULT_PARAMS = {"keepdims": False, "ddof": 0}


def _same(value, default):
    return type(value) is type(default) and value == default


def trace_graph(f, *args, names=None, backward=True, create_graph=False):
    """Record the graph of ``f(*args)``: each argument becomes a Variable (a graph input).

    names:        names of the inputs (default: f's parameter names, else x0, x1, ...).
    backward:     run the backward pass when f returns one element, so every node
                  and edge carries its gradient (and the inputs their ``.grad``).
    create_graph: record the backward pass too (``backward(create_graph=True)``):
                  the gradients become nodes of the graph, differentiable again.
    Arguments that already are Variables are used as they are.
    Returns a ``Graph``; ``graph.inputs`` are the input Variables, ``graph.output`` f's value.

    >>> import hodiff as hd, hodiff.numpy as hnp
    >>> g = hd.trace_graph(lambda x, y: x * y + x, 3.0, -4.0)
    >>> [float(v.grad) for v in g.inputs]   # df/dx = y + 1, df/dy = x
    [-3.0, 3.0]
    """
    if names is None:
        names = _parameter_names(f, len(args))
    elif len(names) != len(args):
        raise ValueError(f"trace_graph: {len(names)} names for {len(args)} arguments")
    # Integer arguments get Variable's TypeError (write 2.0, not 2), as every transform does.
    inputs = [arg if isinstance(arg, Variable) else Variable(arg, name=name) for arg, name in zip(args, names)]
    out = f(*inputs)
    outputs = list(out) if isinstance(out, (tuple, list)) else [out]
    for item in outputs:
        if not isinstance(item, Variable):
            raise TypeError(
                f"trace_graph: f returned {type(item).__name__}, not a value computed from its inputs "
                "(is the output a constant, or was it computed with plain numpy?)"
            )
    if backward and _size(outputs[0].value) == 1:
        outputs[0].backward(create_graph=create_graph)
    graph = Graph(outputs, grads=bool(backward))
    graph.inputs = inputs
    return graph


def _parameter_names(f, count):
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = [p.name for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= count:
        return positional[:count]
    return [f"x{i}" for i in range(count)]
