"""Forward over reverse on one recording: Hessian-vector products without the discarded gradient.

``jvp(grad(f))`` computes the gradient and its tangent together and then
throws the gradient away. Most of that waste is the last step of the
backward pass: the contributions to the inputs. For an MLP layer
``X @ W`` the gradient of W is ``X.T @ g`` and its tangent ``X.T @ dg``, two
products as large as the forward one, of which only the second is wanted.

Here f is recorded once (its forward pass, plain values); the tangents of
every node are pushed forward through the recording with the JVP rules; then
the backward pass runs with dual cotangents (value, tangent), each VJP rule
evaluated under a forward trace, so the tangent of every cotangent comes out
exactly as ``jvp(grad(f))`` computes it. A contribution to an input is only
needed for its tangent: when the rule reads no argument that carries a
tangent (``VJP_READS`` below), the rule is linear in the cotangent alone, so
the tangent is the rule applied to the cotangent's tangent, and the value is
never computed.

Everything is written with hodiff primitives on recorded values, so it nests
like any transform (a derivative of an HVP, an HVP under vmap).
"""

import heapq

from ..core.tree import tree_unflatten
from ..interpreters.forward import Dual, ForwardTrace
from ..interpreters.reverse import _ops as _reverse_ops
from ..interpreters.reverse import forward_sweep, unbroadcast
from ..primitives import contraction, elementwise, shape
from .forward import _as_tangent, _flatten_pair
from .recording import Recording
from .reverse import _match_input, _scalar_seed

__all__ = ["hvp_forward_over_reverse", "VJP_READS"]

# For primitive P, VJP_READS[P][i] lists the arguments whose *values* the VJP rule of argument i
# uses besides the cotangent (shapes do not count); a primitive whose rules use the answer, or that
# is not listed, is treated as reading everything. tests/test_array_fast_paths.py checks each entry
# by perturbing the arguments it says are not read.
VJP_READS = {
    elementwise.add: ((), ()),
    elementwise.subtract: ((), ()),
    elementwise.negative: ((),),
    elementwise.multiply: ((1,), (0,)),
    contraction.matmul: ((1,), (0,)),
    shape.tensordot: ((1,), (0,)),
    shape.reshape: ((),),
    shape.sum: ((),),
    shape.broadcast_to: ((),),
    shape.transpose: ((),),
    shape.getitem: ((),),
}


def hvp_forward_over_reverse(f, primals, tangents):
    """H v for scalar ``f`` at ``primals`` (tuples, one entry per argument, pytrees allowed).

    Returns a tuple shaped like ``primals``: the tangent of ``grad(f)`` along
    ``tangents``, as ``jvp(grad(f, argnums=all), primals, tangents)[1]``.
    """
    flat_primals, flat_tangents, _ = _flatten_pair(primals, tangents, "hvp")
    flat_tangents = [_as_tangent(t, p) for t, p in zip(flat_tangents, flat_primals)]
    recording = Recording(f, tuple(primals))
    seed = _scalar_seed(recording.out, holomorphic=False)
    (root,) = recording.roots
    inputs = recording.input_nodes
    found = {}
    if root is not None:
        node_tangents = forward_sweep([root], dict(zip(inputs, flat_tangents)))
        trace = ForwardTrace()
        try:
            found = _dual_backward_pass(root, seed, node_tangents, trace)
        finally:
            trace.alive = False
    flat = []
    for node, primal in zip(inputs, recording.flat_primals):
        tangent = found.get(node)
        flat.append(shape.zeros_like(primal) if tangent is None else tangent)
    flat = [_match_input(t, p) for t, p in zip(flat, recording.flat_primals)]
    return tuple(tree_unflatten(recording.in_tree, flat))


def _tangent_of(value, trace):
    return value._tangent if isinstance(value, Dual) and value._trace is trace else None


def _dual_backward_pass(root, seed, node_tangents, trace):
    """The backward pass from ``root`` with dual cotangents; returns {leaf node: cotangent tangent}."""
    add = _reverse_ops["add"]
    pending = {root: seed}
    heap = [(-root.seq, root)]
    found = {}
    while heap:
        _, node = heapq.heappop(heap)
        cotangent = pending.pop(node)
        primitive = node.primitive
        if primitive is None:
            continue
        params = node.params
        plain_args = node.args
        args = list(plain_args)
        carries_tangent = set()
        for parent, argnum in zip(node.parents, node.argnums):
            tangent = node_tangents.get(parent)
            if tangent is not None:
                args[argnum] = Dual._make(plain_args[argnum], tangent, trace)
                carries_tangent.add(argnum)
        # Consumers come first in this order: the node's own tangent is needed for the last time now.
        ans_tangent = node_tangents.pop(node, None)
        ans = node.ans if ans_tangent is None else Dual._make(node.ans, ans_tangent, trace)
        reads = VJP_READS.get(primitive)
        rules = primitive.vjp
        for parent, argnum in zip(node.parents, node.argnums):
            rule = rules[argnum] if type(rules) is tuple and argnum < len(rules) else primitive.vjp_rule(argnum)
            if rule is None:
                continue
            if parent.primitive is None:
                # An input: only the tangent of its cotangent is wanted.
                if reads is not None and carries_tangent.isdisjoint(reads[argnum]):
                    cotangent_tangent = _tangent_of(cotangent, trace)
                    if cotangent_tangent is None:
                        continue  # the contribution is a constant: its tangent is zero
                    contribution = rule(cotangent_tangent, node.ans, *plain_args, **params)
                else:
                    contribution = _tangent_of(rule(cotangent, ans, *args, **params), trace)
                    if contribution is None:
                        continue
                if primitive.broadcasts:
                    contribution = unbroadcast(contribution, plain_args[argnum])
                found[parent] = contribution if parent not in found else add(found[parent], contribution)
                continue
            contribution = rule(cotangent, ans, *args, **params)
            if primitive.broadcasts:
                contribution = unbroadcast(contribution, plain_args[argnum])
            if parent in pending:
                pending[parent] = add(pending[parent], contribution)
            else:
                pending[parent] = contribution
                heapq.heappush(heap, (-parent.seq, parent))
    return found
