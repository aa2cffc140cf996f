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
needed for its tangent: when the rule reads no value that carries a tangent
(``Primitive.declare_reads``), the rule is linear in the cotangent alone, so the
tangent is the rule applied to the cotangent's tangent, and the value is
never computed.

Memory is kept down too (fresh memory is what an HVP pays for in page
faults: numpy's big temporaries come from the heap, which glibc trims after
each call): the recording keeps only the values some rule reads
(``ReverseTrace(lean=True)``; for ``tanh(X @ W + b)`` that is tanh's answer, not ``X @ W``
nor ``X @ W + b``), the forward sweep drops a tangent once nothing reads it,
and where the backward pass meets an operation with every argument carrying
a tangent, ``JOINT_JVP`` gives the output tangent in one array instead of a
sum of per-argument terms (tanh's chain factor; a product with a small
contracted axis as one product of concatenations).

Everything is written with hodiff primitives on recorded values, so it nests
like any transform (a derivative of an HVP, an HVP under vmap).
"""

import heapq

from ..core.gcpause import paused_cycle_collector
from ..core.trace import bind
from ..core.tree import tree_flatten, tree_unflatten
from ..interpreters.forward import Dual, ForwardTrace, lift_inner_duals
from ..interpreters.reverse import ReverseTrace, ReverseTracer, frozen_while_recording, graph_nodes, unbroadcast
from ..interpreters.reverse import _ops as _reverse_ops
from ..primitives import contraction, elementwise, shape
from ..primitives.rules import shape_of
from .forward import _as_tangent, _flatten_pair
from .reverse import _match_input, _scalar_seed

__all__ = ["hvp_forward_over_reverse"]


def _tanh_chain_joint(tangents, ans, t, y):
    dt, dy = tangents
    return elementwise.tanh_chain_tangent(dt, t, y, dy)


def _matmul_joint(tangents, ans, a, b):
    """d(a @ b) = da @ b + a @ db = [da, a] @ [b; db]: one product and no sum when k is small."""
    da, db = tangents
    if shape_of(a) == shape_of(da) and shape_of(b) == shape_of(db) and len(shape_of(a)) == 2 \
            and len(shape_of(b)) == 2:
        (n, k), m = shape_of(a), shape_of(b)[1]
        if (n + m) * k < n * m:  # copying both operands costs less than a product-sized sum
            return contraction.matmul(shape.concatenate(da, a, axis=1), shape.concatenate(b, db, axis=0))
    return None


# JOINT_JVP[P](tangents, ans, *args) gives P's output tangent when every argument carries a tangent,
# in fewer temporaries than the sum of the per-argument rules (None: use those). The dual backward
# pass of an HVP meets these with both arguments traced: tanh's chain factor g (1 - h^2) with g and
# h both carrying tangents, and the cotangent g_z @ W2.T of a layer.
JOINT_JVP = {
    elementwise.tanh_chain: _tanh_chain_joint,
    contraction.matmul: _matmul_joint,
}


class _JointForwardTrace(ForwardTrace):
    __slots__ = ()

    def process(self, primitive, args, params):
        joint = JOINT_JVP.get(primitive)
        if joint is not None and not params and all(isinstance(a, Dual) and a._trace is self for a in args):
            primals = tuple(a.primal for a in args)
            tangent = joint(tuple(a._tangent for a in args), None, *primals)
            if tangent is not None:
                return Dual._make(bind(primitive, primals, params), tangent, self)
        return super().process(primitive, args, params)


def hvp_forward_over_reverse(f, primals, tangents):
    """H v for scalar ``f`` at ``primals`` (tuples, one entry per argument, pytrees allowed).

    Returns a tuple shaped like ``primals``: the tangent of ``grad(f)`` along
    ``tangents``, as ``jvp(grad(f, argnums=all), primals, tangents)[1]``.
    """
    flat_primals, flat_tangents, in_tree = _flatten_pair(primals, tangents, "hvp")
    flat_tangents = [_as_tangent(t, p, "hvp") for t, p in zip(flat_tangents, flat_primals)]
    out, root, inputs = _record(f, flat_primals, in_tree)
    seed = _scalar_seed(out, holomorphic=False)
    found = {}
    if root is not None:
        node_tangents = _sweep(root, dict(zip(inputs, flat_tangents)))
        trace = _JointForwardTrace()
        try:
            found = _dual_backward_pass(root, seed, node_tangents, trace)
        finally:
            trace.alive = False
    flat = []
    for node, primal in zip(inputs, flat_primals):
        tangent = found.get(node)
        flat.append(shape.zeros_like(primal) if tangent is None else tangent)
    flat = [_match_input(t, p) for t, p in zip(flat, flat_primals)]
    return tuple(tree_unflatten(in_tree, flat))


def _record(f, flat_primals, in_tree):
    """f on reverse-mode leaves: (output, its node or None, the input nodes)."""
    trace = ReverseTrace(lean=True)
    try:
        with paused_cycle_collector(), frozen_while_recording(trace):
            leaves = trace.new_leaves(flat_primals)
            result = lift_inner_duals(f(*tree_unflatten(in_tree, leaves)), trace)
    finally:
        trace.alive = False
    flat_out, out_tree = tree_flatten(result)
    owned = [isinstance(leaf, ReverseTracer) and leaf._trace is trace for leaf in flat_out]
    out = tree_unflatten(out_tree, [leaf.value if mine else leaf for leaf, mine in zip(flat_out, owned)])
    root = flat_out[0].node if len(flat_out) == 1 and owned[0] else None
    return out, root, [leaf.node for leaf in leaves]


def _sweep(root, seeds):
    """``forward_sweep`` that keeps only the tangents the dual backward pass reads.

    A tangent is dropped once the last node consuming it has its own tangent,
    unless a VJP rule reads the value it belongs to (a primitive without
    ``reads`` declared reads its answer and all its arguments). For an MLP layer
    that leaves the tangents of ``X @ W`` and of ``X @ W + b`` to die early:
    only tanh's answer is read backward.
    """
    add = _reverse_ops["add"]
    order = graph_nodes([root])
    uses = {}
    kept = set()
    for node in order:
        for parent in node.parents:
            uses[parent] = uses.get(parent, 0) + 1
        if node.primitive is None:
            continue
        reads_answer, read_argnums = node.primitive.kept_for(node.argnums, len(node.args))
        if read_argnums is None:  # undeclared reads: everything
            kept.add(node)
            kept.update(node.parents)
            continue
        if reads_answer:
            kept.add(node)
        kept.update(parent for parent, argnum in zip(node.parents, node.argnums) if argnum in read_argnums)
    tangents = dict(seeds)
    for node in order:
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
        for parent in node.parents:
            uses[parent] -= 1
            if not uses[parent] and parent not in kept:
                tangents.pop(parent, None)
        if tangent_out is not None and (uses.get(node) or node in kept):
            if primitive.broadcasts and tuple(shape_of(tangent_out)) != tuple(shape_of(node.ans)):
                tangent_out = shape.broadcast_to(tangent_out, shape=tuple(shape_of(node.ans)))
            tangents[node] = tangent_out
    return tangents


def _tangent_of(value, trace):
    return value._tangent if isinstance(value, Dual) and value._trace is trace else None


def _reads_a_tangent(node, argnum, carrying, answer_carries):
    """Whether argument argnum's VJP rule at ``node`` reads a value that carries a tangent.

    carrying: the argnums whose values carry one; answer_carries: the answer
    does. A rule without declared reads reads everything. When this is
    False the rule, linear in the cotangent, gives the contribution's tangent
    from the cotangent's tangent alone.
    """
    primitive, nargs = node.primitive, len(node.args)
    reads = primitive.argument_reads(argnum, nargs)
    if reads is None:
        return bool(carrying) or answer_carries
    return (answer_carries and primitive.answer_read_by(argnum, nargs)) or not carrying.isdisjoint(reads)


def _value_wanted(order, node_tangents):
    """The nodes whose cotangent's value, not only its tangent, the dual backward pass needs.

    order: the graph's nodes, parents before consumers. A node's cotangent
    value is wanted only where one of its rules reads a value carrying a
    tangent (``_reads_a_tangent``), or where it feeds a parent whose value is
    wanted. For an MLP that is the output layer: below tanh, only tangents
    travel (the cotangent of ``X @ W + b`` is never computed).
    """
    wanted = set()
    for node in order:
        if node.primitive is None:
            continue
        answer_carries = node in node_tangents
        carrying = {argnum for parent, argnum in zip(node.parents, node.argnums) if parent in node_tangents}
        if any(parent in wanted or _reads_a_tangent(node, argnum, carrying, answer_carries)
               for parent, argnum in zip(node.parents, node.argnums)):
            wanted.add(node)
    return wanted


def _dual_backward_pass(root, seed, node_tangents, trace):
    """The backward pass from ``root`` with dual cotangents; returns {leaf node: cotangent tangent}.

    Nodes outside ``_value_wanted`` get plain tangents as cotangents (their
    values are never computed); the others get duals.
    """
    add = _reverse_ops["add"]
    value_wanted = _value_wanted(graph_nodes([root]), node_tangents)
    if root not in value_wanted:
        return {}  # no rule reads a value with a tangent: f is linear along them, the seed has none
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
        # Consumers come first in this order: the node's own tangent is needed for the last time now.
        ans_tangent = node_tangents.pop(node, None)
        duals = node in value_wanted
        if duals:
            args = list(plain_args)
            carries_tangent = set()
            for parent, argnum in zip(node.parents, node.argnums):
                tangent = node_tangents.get(parent)
                if tangent is not None:
                    args[argnum] = Dual._make(plain_args[argnum], tangent, trace)
                    carries_tangent.add(argnum)
            ans = node.ans if ans_tangent is None else Dual._make(node.ans, ans_tangent, trace)
            cotangent_tangent = _tangent_of(cotangent, trace)
        else:
            cotangent_tangent = cotangent  # a plain tangent
        rules = primitive.vjp
        for parent, argnum in zip(node.parents, node.argnums):
            rule = rules[argnum] if type(rules) is tuple and argnum < len(rules) else primitive.vjp_rule(argnum)
            if rule is None:
                continue
            if parent not in value_wanted:
                # An input or a node wanting only its tangent: the tangent of the contribution.
                if not duals or not _reads_a_tangent(node, argnum, carries_tangent, ans_tangent is not None):
                    if cotangent_tangent is None:
                        continue  # the contribution is a constant: its tangent is zero
                    contribution = rule(cotangent_tangent, node.ans, *plain_args, **params)
                else:
                    contribution = _tangent_of(rule(cotangent, ans, *args, **params), trace)
                    if contribution is None:
                        continue
            else:
                contribution = rule(cotangent, ans, *args, **params)
            if primitive.broadcasts:
                contribution = unbroadcast(contribution, plain_args[argnum])
            if parent.primitive is None:
                found[parent] = contribution if parent not in found else add(found[parent], contribution)
            elif parent in pending:
                pending[parent] = add(pending[parent], contribution)
            else:
                pending[parent] = contribution
                heapq.heappush(heap, (-parent.seq, parent))
        # Each hvp records afresh and walks its recording once: the node's values go now, not at the end.
        node.args = node.ans = None
        cotangent = cotangent_tangent = contribution = ans = args = plain_args = None
    return found
