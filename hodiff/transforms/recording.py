"""A function evaluated once under reverse mode, kept for pulling back and pushing forward.

``vjp``, ``linearize`` and the Jacobians all start the same way: trace f on
reverse-mode leaves, lower its outputs, and keep the graph. Then cotangents
are pulled back through it (``tape_backward``) or tangents pushed forward
through it (``forward_sweep``), as many times as wanted, without evaluating f
again.
"""

import gc

from ..core.tree import tree_flatten, tree_map, tree_unflatten
from ..interpreters.reverse import ReverseTrace, ReverseTracer, forward_sweep, tape_backward

__all__ = ["Recording"]


class Recording:
    """f(*primals) recorded on reverse-mode leaves (pytrees flattened).

    Attributes: ``flat_primals`` and ``in_tree`` (the inputs), ``out_values`` and
    ``out_tree`` (the outputs, lowered to plain or outer-traced values),
    ``aux`` (with has_aux), ``roots`` (each output's node, None for an output
    that does not depend on the inputs), ``input_nodes`` and ``tape`` (the
    trace's nodes in creation order).
    """

    def __init__(self, f, primals, has_aux=False):
        trace = ReverseTrace(tape=True)
        self.flat_primals, self.in_tree = tree_flatten(primals)
        leaves = [trace.new_leaf(p) for p in self.flat_primals]
        # The cycle collector is paused while f records (see core/gcpause.py), inline: this is
        # every transform's entry and exit.
        collecting = gc.isenabled()
        if collecting:
            gc.disable()
        try:
            result = f(*tree_unflatten(self.in_tree, leaves))
        finally:
            trace.alive = False
            if collecting:
                gc.enable()
        self.tape = trace.tape

        def lower(value):
            return value.value if isinstance(value, ReverseTracer) and value._trace is trace else value

        self.aux = None
        if has_aux:
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError("has_aux=True needs f to return a pair (output, aux)")
            result, aux = result
            self.aux = tree_map(lower, aux)
        flat_out, self.out_tree = tree_flatten(result)
        self.out_values = [lower(leaf) for leaf in flat_out]
        self.roots = [leaf.node if isinstance(leaf, ReverseTracer) and leaf._trace is trace else None
                      for leaf in flat_out]
        self.input_nodes = [leaf.node for leaf in leaves]

    @property
    def out(self):
        return tree_unflatten(self.out_tree, self.out_values)

    def pullback(self, *flat_cotangents, consume=False):
        """One cotangent per output leaf -> one per input leaf (zeros where unreached).

        ``consume=True``: this is the last pullback; the recorded values are
        freed during the pass (the recording cannot be pulled back again).
        """
        starts = [(node, c) for node, c in zip(self.roots, flat_cotangents) if node is not None]
        pending = None
        if starts:
            collecting = gc.isenabled()
            if collecting:
                gc.disable()
            try:
                pending = tape_backward(self.tape, starts, consume)
            finally:
                if collecting:
                    gc.enable()
            if consume:
                self.tape = self.roots = None
        gradients = []
        for node, primal in zip(self.input_nodes, self.flat_primals):
            gradient = pending[node.seq] if pending is not None else None
            if gradient is None:
                from ..primitives.shape import zeros_like

                gradient = zeros_like(primal)
            gradients.append(gradient)
        return gradients

    def pushforward(self, *flat_tangents):
        """One tangent per input leaf -> one per output leaf (zeros where unreached)."""
        from ..core.gcpause import paused_cycle_collector
        from ..primitives.shape import zeros_like

        seeds = dict(zip(self.input_nodes, flat_tangents))
        with paused_cycle_collector():
            swept = forward_sweep([node for node in self.roots if node is not None], seeds)
        return [swept.get(node, zeros_like(value)) if node is not None else zeros_like(value)
                for node, value in zip(self.roots, self.out_values)]
