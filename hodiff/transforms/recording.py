"""A function evaluated once under reverse mode, kept for pulling back and pushing forward.

``vjp``, ``linearize`` and the Jacobians all start the same way: trace f on
reverse-mode leaves, lower its outputs, and keep the graph. Then cotangents
are pulled back through it (``tape_backward``) or tangents pushed forward
through it (``forward_sweep``), as many times as wanted, without evaluating f
again.
"""

from ..core import gcpause
from ..core.tree import LEAF, tree_flatten, tree_map, tree_unflatten
from ..interpreters.forward import lift_inner_duals
from ..interpreters.reverse import ReverseTrace, ReverseTracer, forward_sweep, frozen_while_recording, tape_backward
from ._args import check_output_leaves

__all__ = ["Recording"]


def _zeros_like(value):
    from ..primitives.shape import zeros_like  # (the primitives import the interpreters)

    return zeros_like(value)


def _lower(value, trace):
    """An output seen from outside ``trace``: a tracer's value, or a constant as it is."""
    return value.value if isinstance(value, ReverseTracer) and value._trace is trace else value


class Recording:
    """f(*primals) recorded on reverse-mode leaves (pytrees flattened).

    Attributes: ``flat_primals`` and ``in_tree`` (the inputs), ``out_values`` and
    ``out_tree`` (the outputs, lowered to plain or outer-traced values),
    ``aux`` (with has_aux), ``roots`` (each output's node, None for an output
    that does not depend on the inputs), ``input_nodes`` and ``tape`` (the
    trace's nodes in creation order).
    """

    def __init__(self, f, primals, has_aux=False, transform="vjp"):
        trace = ReverseTrace(tape=True, lean=True)
        self.flat_primals, self.in_tree = flat_primals, in_tree = tree_flatten(primals)
        # The cycle collector is paused while f records (see core/gcpause.py).
        paused = gcpause.pause()
        try:
            with frozen_while_recording(trace):
                leaves = trace.new_leaves(flat_primals)
                result = lift_inner_duals(f(*tree_unflatten(in_tree, leaves)), trace)
        finally:
            trace.alive = False
            gcpause.resume(paused)
        self.tape = trace.tape
        self.input_nodes = [leaf.node for leaf in leaves]
        self.aux = None
        if has_aux:
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError("has_aux=True needs f to return a pair (output, aux)")
            result, aux = result
            self.aux = tree_map(lambda value: _lower(value, trace), aux)
        if result.__class__ is ReverseTracer and result._trace is trace:  # one traced output: most calls
            self.out_tree, self.out_values, self.roots = LEAF, [result.value], [result.node]
            return
        flat_out, self.out_tree = tree_flatten(result)
        check_output_leaves(flat_out, transform)
        self.out_values = [_lower(leaf, trace) for leaf in flat_out]
        self.roots = [leaf.node if isinstance(leaf, ReverseTracer) and leaf._trace is trace else None
                      for leaf in flat_out]

    @property
    def out(self):
        return tree_unflatten(self.out_tree, self.out_values)

    def pullback(self, *flat_cotangents, consume=False):
        """One cotangent per output leaf -> one per input leaf (zeros where unreached).

        ``consume=True``: this is the last pullback; the recorded values are
        freed during the pass (the recording cannot be pulled back again).
        """
        roots = self.roots
        if len(roots) == 1:  # one output (grad, most vjps)
            starts = [(roots[0], flat_cotangents[0])] if roots[0] is not None else []
        else:
            starts = [(node, c) for node, c in zip(roots, flat_cotangents) if node is not None]
        if not starts:  # no output depends on the inputs
            return [_zeros_like(primal) for primal in self.flat_primals]
        paused = gcpause.pause()
        try:
            pending = tape_backward(self.tape, starts, consume)
        finally:
            gcpause.resume(paused)
        if consume:
            self.tape = self.roots = None
        gradients = [pending[node.seq] for node in self.input_nodes]
        for i, gradient in enumerate(gradients):
            if gradient is None:  # an input the outputs do not depend on
                gradients[i] = _zeros_like(self.flat_primals[i])
        return gradients

    def pushforward(self, *flat_tangents):
        """One tangent per input leaf -> one per output leaf (zeros where unreached)."""
        from ..core.gcpause import paused_cycle_collector

        seeds = dict(zip(self.input_nodes, flat_tangents))
        with paused_cycle_collector():
            swept = forward_sweep([node for node in self.roots if node is not None], seeds)
        return [swept.get(node, _zeros_like(value)) if node is not None else _zeros_like(value)
                for node, value in zip(self.roots, self.out_values)]
