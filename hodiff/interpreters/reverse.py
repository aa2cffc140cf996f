"""Reverse mode: record a graph of nodes going forward, walk it backward.

Each traced operation makes one ``Node`` holding the primitive, its argument
values, its answer and links to the nodes of its traced arguments. Nothing
points from a node to the tracer that carries it, so graphs hold no reference
cycles and die with their last tracer.

Two backward passes walk these graphs without recursion:

- ``backward_pass`` (the graph API, pictures): pops nodes in decreasing
  creation order from a heap (an iterative topological order: every consumer
  of a node was created after it), whatever graph the roots lead to;
- ``tape_backward`` (the transforms: vjp, grad, jacrev ...): a transform's own
  trace keeps a *tape*, its nodes in creation order, each node's ``seq`` being
  its position there; the backward pass is a reversed walk over the tape with
  the pending cotangents in a list, no heap and no dict.

Cotangents are combined with hodiff primitives, so when an outer transform is
tracing them the backward pass is itself recorded and can be differentiated
again. When nothing is traced (plain floats and arrays), primitives' fast
rules replace the general ones (see ``Primitive``) and sums of cotangents are
accumulated in place into arrays the pass itself allocated.
"""

import heapq
import itertools
import sys
from sys import getrefcount as _getrefcount

import numpy as np

from ..core import work as _work
from ..core.backends import writes_as_fresh
from ..core.trace import Trace, Tracer, _levels

__all__ = ["Node", "ReverseTrace", "ReverseTracer", "backward_pass", "frozen_while_recording", "tape_backward",
           "unbroadcast"]

_node_ids = itertools.count()

# Set by the primitives package: hodiff's add, and sum-to-shape for broadcasting.
_ops = {}

# Types the fast rules accept (values, cotangents): no tracer, no Python complex (the primitives
# send it to numpy, Python arithmetic would keep it complex) and no other numpy scalar type.
_FAST_TYPES = frozenset({float, int, np.ndarray, np.float64})
_ndarray = np.ndarray
_FAST_ERRORS = (ArithmeticError, ValueError)  # raised by Python float arithmetic where numpy gives inf/nan


class Node:
    """One recorded operation (or a leaf when ``primitive`` is None).

    ``seq`` orders nodes by creation: a global counter, or the node's position
    in its trace's tape. ``fast`` is the primitive's ``fast_vjp`` when every
    recorded value is plain (None otherwise).
    """

    __slots__ = ("seq", "primitive", "args", "params", "ans", "parents", "argnums", "grad", "fast",
                 "__weakref__")

    def __init__(self, primitive, args, params, ans, parents, argnums):
        self.seq = next(_node_ids)
        self.primitive = primitive
        self.args = args
        self.params = params
        self.ans = ans
        self.parents = parents
        self.argnums = argnums
        self.grad = None  # accumulated gradient, used by graph-API leaves only
        self.fast = None


_new = object.__new__


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
    """Records nodes. ``tracer_type`` is ``ReverseTracer`` (or the graph API's ``Variable``).

    With ``tape=True`` the trace keeps its nodes, leaves included, in creation
    order in ``self.tape`` (for ``tape_backward``); the graph API's persistent
    trace has none (its graphs must die with their Variables).

    With ``lean=True`` (the transforms' recordings) a node keeps only the
    values its primitive's rules read (``Primitive.declare_reads``): an array
    no rule reads is replaced by a stub of the same shape and dtype, so it is
    freed as soon as the function being recorded lets go of it. The graph API
    keeps every value, to show it.
    """

    kind = "reverse-mode"
    __slots__ = ("tracer_type", "tape", "lean", "frozen")

    def __init__(self, level=None, tracer_type=ReverseTracer, tape=False, lean=False):
        # Trace.__init__ spelled out: every transform call makes one of these.
        self.level = next(_levels) if level is None else level
        self.alive = True
        self.tracer_type = tracer_type
        self.tape = [] if tape else None
        self.lean = lean
        self.frozen = None  # the arrays this recording made read-only (frozen_while_recording)

    def new_leaves(self, values):
        """Tracers of ``values`` whose nodes are leaves (the inputs of the recorded function), in order."""
        add_node, make_tracer, frozen = self.add_node, self.make_tracer, self.frozen
        tracers = []
        for value in values:
            if frozen is not None and value.__class__ is _ndarray:
                _freeze(value, frozen)
            node = _new(Node)
            node.primitive = node.params = node.grad = node.fast = None
            node.args = node.parents = node.argnums = ()
            node.ans = value
            tracers.append(make_tracer(value, add_node(node)))
        return tracers

    def add_node(self, node):
        """Give a node its place: its position on the tape, or a global creation number without one."""
        tape = self.tape
        if tape is not None:
            node.seq = len(tape)
            tape.append(node)
        else:
            node.seq = next(_node_ids)
        return node

    def make_tracer(self, value, node):
        tracer = _new(self.tracer_type)
        tracer._trace = self
        tracer.value = value
        tracer.node = node
        return tracer

    def process(self, primitive, args, params):
        # One and two arguments (nearly every op) are unrolled: this is the cost of each traced op.
        # An argument is this trace's tracer (unwrapped to its value, its node a parent) or a
        # constant. Values of the plain types (_FAST_TYPES) are computed here; anything else (an
        # outer transform's tracer, as a constant or under this trace's value) goes back
        # through bind, so the outer trace interprets the op, and the fast rules are off.
        mine = self.tracer_type
        if len(args) == 2:
            x, y = args
            if x.__class__ is mine and x._trace is self:
                parent_x = x.node
                x = x.value
            else:
                parent_x = None
                if x.__class__ is _ndarray and self.frozen is not None:
                    _freeze(x, self.frozen)
            if y.__class__ is mine and y._trace is self:
                parent_y = y.node
                y = y.value
                if parent_x is None:
                    parents, argnums = (parent_y,), _ARG1
                else:
                    parents, argnums = (parent_x, parent_y), _ARG01
            else:
                parents, argnums = (parent_x,), _ARG0
                if y.__class__ is _ndarray and self.frozen is not None:
                    _freeze(y, self.frozen)
            values = (x, y)
            x_class, y_class = x.__class__, y.__class__
            if x_class is float and y_class is float and primitive.scalar_impl is not None and not params:
                fast = primitive.fast_vjp
                try:
                    ans = primitive.scalar_impl(x, y)
                except _FAST_ERRORS:
                    ans = primitive.impl(x, y)
            elif x_class in _FAST_TYPES and y_class in _FAST_TYPES:
                fast = primitive.fast_vjp
                ans = primitive.impl(x, y, **params) if params else primitive.impl(x, y)
            else:
                ans = primitive(x, y, **params)
                fast = None
        elif len(args) == 1:
            x = args[0]
            parents, argnums = (x.node,), _ARG0  # bind chose this trace: its one argument is ours
            x = x.value
            values = (x,)
            if x.__class__ is float and primitive.scalar_impl is not None and not params:
                fast = primitive.fast_vjp
                try:
                    ans = primitive.scalar_impl(x)
                except _FAST_ERRORS:
                    ans = primitive.impl(x)
            elif x.__class__ in _FAST_TYPES:
                fast = primitive.fast_vjp
                ans = primitive.impl(x, **params) if params else primitive.impl(x)
            else:
                ans = primitive(x, **params)
                fast = None
        else:
            values = []
            parent_list = []
            argnum_list = []
            plain = True
            i = 0
            for arg in args:
                if arg.__class__ is mine and arg._trace is self:
                    parent_list.append(arg.node)
                    argnum_list.append(i)
                    arg = arg.value
                elif arg.__class__ is _ndarray and self.frozen is not None:
                    _freeze(arg, self.frozen)
                if arg.__class__ not in _FAST_TYPES:
                    plain = False
                values.append(arg)
                i += 1
            values = tuple(values)
            parents = tuple(parent_list)
            argnums = tuple(argnum_list)
            argnums = _interned_argnums.setdefault(argnums, argnums)  # long graphs share them
            if plain:
                ans = primitive.impl(*values, **params)
                fast = primitive.fast_vjp
            else:
                ans = primitive(*values, **params)
                fast = None
        node = _new(Node)
        node.primitive = primitive
        node.args = values
        node.params = params or _NO_PARAMS  # one shared empty dict keeps long scalar graphs small
        node.ans = ans
        node.parents = parents
        node.argnums = argnums
        node.grad = None
        node.fast = fast
        if ans.__class__ is not float and primitive.reads is not None and self.lean:
            # (an elementwise op's arguments are no bigger than its answer: a small answer has nothing to drop)
            if not primitive.broadcasts or ans.__class__ is _ndarray and ans.size >= _BIG:
                _drop_unread(node, primitive.kept_for(argnums, len(node.args)))
        tape = self.tape  # add_node and make_tracer, inline: this is every op's cost
        if tape is not None:
            node.seq = len(tape)
            tape.append(node)
        else:
            node.seq = next(_node_ids)
        tracer = _new(mine)
        tracer._trace = self
        tracer.value = ans
        tracer.node = node
        return tracer


# ------------------------------------------------------------------ arrays frozen while f records
#
# A recording holds f's input arrays and the constant arrays its operations read, by reference, for the
# backward pass. numpy arrays are mutable: `y = x * a; a[0] = 5` inside f would make the gradient read
# the new a, a silently wrong number (HIPS autograd's too; JAX's arrays are immutable, PyTorch counts
# versions). So while f records, the array that owns each one's memory is read-only (as is every view
# made of it from then on), and such a change raises numpy's "assignment destination is read-only", with
# a note saying why. Not caught: a change through a view made before the recording began. Memory numpy
# does not own (a capsule's, a buffer's) is left alone: it could not be made writeable again. Counts let
# nested recordings share an array: the last one to finish thaws it.

_frozen_counts = {}  # id(array) -> [array, number of recordings holding it read-only]


def _freeze(array, frozen):
    """Make the array that owns ``array``'s memory read-only for the recording whose dict (id -> array)
    is ``frozen``."""
    if id(array) in frozen:  # every later use of a constant: one lookup
        return
    while array.base is not None:
        array = array.base
        if array.__class__ is not _ndarray:
            return
    key = id(array)
    if key in frozen:
        return
    entry = _frozen_counts.get(key)
    if entry is None:
        flags = array.flags
        if not (flags.writeable and flags.owndata):  # read-only before hodiff saw it: not ours to thaw
            return
        array.setflags(write=False)  # (setflags: half the cost of assigning flags.writeable)
        _frozen_counts[key] = [array, 1]
    else:  # frozen by an enclosing recording: this one holds it too
        entry[1] += 1
    frozen[key] = array


def _thaw(frozen):
    """Give back write access to the arrays no recording holds any more."""
    counts = _frozen_counts
    for key, array in frozen.items():
        entry = counts[key]
        if entry[1] == 1:
            del counts[key]
            array.setflags(write=True)
        else:
            entry[1] -= 1


_FROZEN_NOTE = (
    "hodiff: an operation that hodiff is recording for a derivative read this array, and the backward pass "
    "reads it again later; changing it in place now would make the derivative silently wrong, so hodiff keeps "
    "such arrays (and the arrays they are views of) read-only while the function is being recorded. Copy the "
    "array before changing it (a = a.copy()), or build the new values as a new array.")


class frozen_while_recording:
    """``with frozen_while_recording(trace):`` runs f's recording on ``trace`` with its input and constant
    arrays read-only (see above). A class, not a generator context manager: W1's whole gradient is 16 us,
    and contextlib's generator cost 1.4 us of it."""

    __slots__ = ("trace",)

    def __init__(self, trace):
        self.trace = trace

    def __enter__(self):
        self.trace.frozen = {}

    def __exit__(self, kind, error, traceback):
        trace = self.trace
        frozen, trace.frozen = trace.frozen, None
        if frozen:
            _thaw(frozen)
            if kind is not None and issubclass(kind, ValueError) and "read-only" in str(error):
                error.add_note(_FROZEN_NOTE)
        return False


# A cotangent the backward pass alone holds is read off sys.getrefcount: the pass's local, pending's
# slot and getrefcount's own argument make 3. CPython before 3.14 counts every reference; later
# versions may leave borrowed ones uncounted, so there the in-place rules stay off (-1 never matches).
_SOLE_OWNER_REFS = 3 if sys.implementation.name == "cpython" and sys.version_info < (3, 14) else -1
_BIG = 4096  # elements: below this, stubs and in-place writes cost more than the memory they save


_ZERO_BYTES = bytes(64)  # one zero of any numeric dtype (clongdouble's 32 bytes the widest), read-only


def _stub(array):
    """A stand-in with the array's shape and dtype and no memory of its own: a zero read with strides 0
    (what np.broadcast_to makes, built directly: 0.9 us against 5, and gradients make hundreds)."""
    dtype = array.dtype
    if dtype.kind in "biufc":
        return _ndarray(array.shape, dtype, _ZERO_BYTES, 0, (0,) * array.ndim)
    return np.broadcast_to(np.zeros((), dtype=dtype), array.shape)


def _may_overwrite(cotangent, like):
    """Whether a cotangent that nothing else references may take a result shaped and laid out like ``like``
    (an in-place rule's other operand is made from ``like``, so it has its layout)."""
    flags = cotangent.flags
    return flags.owndata and flags.writeable and like.__class__ is _ndarray \
        and cotangent.shape == like.shape and cotangent.dtype == like.dtype and writes_as_fresh(cotangent, like)


def _drop_unread(node, kept):
    """Stub the node's big values that no rule it can run reads (``Primitive.kept_for``)."""
    keep_answer, keep_args = kept
    if not keep_answer:
        ans = node.ans
        if ans.__class__ is _ndarray and ans.size >= _BIG:
            node.ans = _stub(ans)
    if keep_args is None:
        return
    args = node.args
    for argnum, value in enumerate(args):
        if argnum not in keep_args and value.__class__ is _ndarray and value.size >= _BIG:
            if args is node.args:
                args = list(args)
            args[argnum] = _stub(value)
    if args is not node.args:
        node.args = tuple(args)


_NO_PARAMS = {}
_ARG0, _ARG1, _ARG01 = (0,), (1,), (0, 1)
_interned_argnums = {(): (), _ARG0: _ARG0, _ARG1: _ARG1, _ARG01: _ARG01}
_SCALAR_TYPES = (float, int, complex)


def unbroadcast(cotangent, arg):
    """Sum ``cotangent`` over the axes along which ``arg`` was broadcast to the output."""
    if cotangent.__class__ is _ndarray and arg.__class__ is _ndarray and cotangent.shape == arg.shape:
        return cotangent  # most calls: an elementwise op on equal shapes
    if type(cotangent) in _SCALAR_TYPES:
        return cotangent  # a Python scalar cotangent means a scalar output: nothing was broadcast
    shape = arg.shape if hasattr(arg, "shape") else np.shape(arg)
    cotangent_shape = cotangent.shape if hasattr(cotangent, "shape") else np.shape(cotangent)
    if cotangent_shape == shape:
        return cotangent
    return _ops["sum_to_shape"](cotangent, shape)


def _contributions(node, cotangent, args, ans, params):
    """(parent, cotangent contribution) for each traced argument of ``node``: the general rules."""
    primitive = node.primitive
    rules = primitive.vjp
    out = []
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
        out.append((parent, contribution))
    return out


def _fast_contributions(node, cotangent, rules):
    """The same as ``_contributions`` through the primitive's fast rules, or None to use the general ones.

    Only for plain values: the node's (``rules`` is its ``node.fast``) and the cotangent's. Calls
    are spelled out for one and two arguments: star-arguments and zip cost more than a rule.
    """
    cotangent_class = cotangent.__class__
    if cotangent_class is not float and cotangent_class is not _ndarray and cotangent_class not in _FAST_TYPES:
        return None
    args, ans, params = node.args, node.ans, node.params
    parents, argnums = node.parents, node.argnums
    out = []
    try:
        for i in range(len(parents)):
            argnum = argnums[i]
            rule = rules[argnum]
            if rule is None:
                continue
            if params:
                contribution = rule(cotangent, ans, *args, **params)
            elif len(args) == 2:
                contribution = rule(cotangent, ans, args[0], args[1])
            elif len(args) == 1:
                contribution = rule(cotangent, ans, args[0])
            else:
                contribution = rule(cotangent, ans, *args)
            if contribution.__class__ is not float and node.primitive.broadcasts:
                contribution = unbroadcast(contribution, args[argnum])
            out.append((parents[i], contribution))
    except _FAST_ERRORS:
        return None  # Python arithmetic refused (x / 0 ...): the general rules decide
    return out


def tape_backward(tape, roots, consume=False):
    """Propagate cotangents from ``roots`` back through the nodes of one tape.

    tape:    a trace's nodes in creation order (``node.seq`` = position).
    roots:   list of (node, cotangent) pairs, nodes of this tape.
    consume: the caller will not walk this tape again: each node is dropped
             from it once processed, so its values can be freed during the pass.
    Returns the list of pending cotangents by position: for a leaf, its total
    cotangent (None where nothing reached it); other entries are None.
    """
    if _work.active:  # counting work: the general rules and add, whatever the nodes recorded
        return _general_tape_backward(tape, roots, consume)
    add = _ops["add"]
    pending = [None] * len(tape)
    owned = set()  # positions whose pending array this pass allocated: safe to add into in place
    for node, cotangent in roots:
        if pending[node.seq] is None:
            pending[node.seq] = cotangent
        else:
            _accumulate(pending, owned, node.seq, cotangent, add)
    for position in range(len(tape) - 1, -1, -1):
        cotangent = pending[position]
        if cotangent is None:
            continue
        node = tape[position]
        fast = node.fast
        contribution = contributions = current = None  # (references left from the last node hide sole ownership)
        if fast is not None and node.params is _NO_PARAMS and len(node.parents) == 1:
            # One traced argument, plain values, no parameters (most scalar and elementwise ops):
            # the fast rule called inline. This is the cost of a backward pass.
            cotangent_class = cotangent.__class__
            if cotangent_class is float or cotangent_class is _ndarray or cotangent_class in _FAST_TYPES:
                args = node.args
                argnum = node.argnums[0]
                rule = fast[argnum]
                try:
                    if rule is None:
                        contribution = None
                    elif len(args) == 1:
                        inplace = node.primitive.inplace_vjp
                        if inplace is not None and cotangent_class is _ndarray and cotangent.size >= _BIG \
                                and _getrefcount(cotangent) == _SOLE_OWNER_REFS \
                                and _may_overwrite(cotangent, node.ans):
                            # Nothing but this pass holds the cotangent: its buffer is reused, no fresh memory.
                            contribution = inplace(cotangent, node.ans, args[0])
                        else:
                            contribution = rule(cotangent, node.ans, args[0])
                    elif len(args) == 2:
                        contribution = rule(cotangent, node.ans, args[0], args[1])
                    else:
                        contribution = rule(cotangent, node.ans, *args)
                except _FAST_ERRORS:
                    pass  # Python arithmetic refused (x / 0 ...): the general rules decide below
                else:
                    pending[position] = None
                    if contribution is not None:
                        if contribution.__class__ is not float and node.primitive.broadcasts:
                            contribution = unbroadcast(contribution, args[argnum])
                        index = node.parents[0].seq
                        current = pending[index]
                        if current is None:
                            pending[index] = contribution
                        elif current.__class__ is float and contribution.__class__ is float:
                            pending[index] = current + contribution  # what add does for two floats
                        else:
                            _accumulate(pending, owned, index, contribution, add)
                    if consume:
                        tape[position] = None
                        node.args = node.ans = node.parents = None
                    continue
        elif fast is not None and cotangent.__class__ is float and node.ans.__class__ is float \
                and len(node.parents) == 2 and len(node.args) == 2 and node.params is _NO_PARAMS:
            # Two traced Python floats (x * y, x + y): both fast rules inline; scalars need no unbroadcast.
            x, y = node.args
            rule_x, rule_y = fast
            try:
                contribution_x = rule_x(cotangent, node.ans, x, y)
                contribution_y = rule_y(cotangent, node.ans, x, y)
            except _FAST_ERRORS:
                pass  # the general rules decide below
            else:
                contributions = ((node.parents[0], contribution_x), (node.parents[1], contribution_y))
        elif fast is not None:
            contributions = _fast_contributions(node, cotangent, fast)
        elif node.primitive is None:
            continue  # a leaf: its total stays in pending
        elif cotangent.__class__ is _ndarray and node.primitive.accumulate_vjp is not None \
                and len(node.parents) == 1:
            contributions = _accumulate_in_place(node, cotangent, pending, owned)
        pending[position] = None
        if contributions is None:
            contributions = _contributions(node, cotangent, node.args, node.ans, node.params)
        for parent, contribution in contributions:
            index = parent.seq
            current = pending[index]
            if current is None:
                pending[index] = contribution
            elif current.__class__ is float and contribution.__class__ is float:
                pending[index] = current + contribution
            else:
                _accumulate(pending, owned, index, contribution, add)
        if consume:  # values this node kept for its rules are freed now, not at the end of the pass
            tape[position] = None
            node.args = node.ans = node.parents = None
    return pending


def _general_tape_backward(tape, roots, consume):
    """``tape_backward`` by the general rules only, every sum of cotangents an ``add``: what hodiff.core.work counts."""
    add = _ops["add"]
    pending = [None] * len(tape)
    for node, cotangent in roots:
        current = pending[node.seq]
        pending[node.seq] = cotangent if current is None else add(current, cotangent)
    for position in range(len(tape) - 1, -1, -1):
        cotangent = pending[position]
        if cotangent is None:
            continue
        node = tape[position]
        if node.primitive is None:
            continue  # a leaf: its total stays in pending
        pending[position] = None
        for parent, contribution in _contributions(node, cotangent, node.args, node.ans, node.params):
            current = pending[parent.seq]
            pending[parent.seq] = contribution if current is None else add(current, contribution)
        if consume:
            tape[position] = None
            node.args = node.ans = node.parents = None
    return pending


_np_add = np.add


def _accumulate_in_place(node, cotangent, pending, owned):
    """The node's contribution added into its argument's pending total by ``Primitive.accumulate_vjp``
    (a slice's cotangent written in its place: no zeros of the argument's size, no full-size sum).
    Returns () when done, None when the primitive declines (the rules run)."""
    index = node.parents[0].seq
    current = pending[index]
    if current is not None and not (index in owned and current.__class__ is _ndarray
                                    and current.flags.c_contiguous and current.flags.writeable):
        return None  # not the pass's to write (or laid out unlike a fresh sum): the rules, whose sum it owns
    total = node.primitive.accumulate_vjp(current, cotangent, node.ans, *node.args, **node.params)
    if total is None:
        return None
    pending[index] = total
    owned.add(index)
    return ()


def _accumulate(pending, owned, position, contribution, add):
    """pending[position] += contribution, in place when the pass owns the array and nothing is traced."""
    current = pending[position]
    if current is None:
        pending[position] = contribution
        return
    current_class, contribution_class = current.__class__, contribution.__class__
    if current_class is float and contribution_class is float:
        pending[position] = current + contribution  # what add's implementation does for two floats
    elif current_class is _ndarray and contribution_class is _ndarray \
            and current.shape == contribution.shape and current.dtype == contribution.dtype:
        if position in owned and writes_as_fresh(current, contribution):
            _np_add(current, contribution, out=current)
        else:
            total = _np_add(current, contribution)
            pending[position] = total
            if total.__class__ is _ndarray:  # (0-d arrays add up to numpy scalars)
                owned.add(position)
    else:
        pending[position] = add(current, contribution)


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
    counting = _work.active  # hodiff.core.work: the general rules only
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
        contributions = None
        if rebuild is not None:
            args = list(node.args)
            for parent, argnum in zip(node.parents, node.argnums):
                args[argnum] = rebuild(args[argnum], parent)
            contributions = _contributions(node, cotangent, args, rebuild(node.ans, node), node.params)
        elif node.fast is not None and not counting:
            contributions = _fast_contributions(node, cotangent, node.fast)
        if contributions is None:
            contributions = _contributions(node, cotangent, node.args, node.ans, node.params)
        for parent, contribution in contributions:
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

    seeds: {leaf node: tangent}. Returns {node: tangent} for the ``outputs``
    (and seeds) reached; a node whose inputs carry no tangent is left out
    (zero). An intermediate node's tangent is dropped once its last consumer
    has read it, so the sweep holds only the tangents still needed (a full
    Hessian's sweep pushes n x n tangents through every node).
    """
    add = _ops["add"]
    tangents = dict(seeds)
    nodes = graph_nodes(outputs)
    uses = {}  # node -> consumers not yet swept
    for node in nodes:
        for parent in node.parents:
            uses[parent] = uses.get(parent, 0) + 1
    keep = set(outputs) | set(seeds)
    for node in nodes:
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
            if uses[parent] == 0 and parent not in keep:
                tangents.pop(parent, None)
        if tangent_out is not None:
            if primitive.broadcasts:
                out_shape = node.ans.shape if hasattr(node.ans, "shape") else np.shape(node.ans)
                if np.shape(tangent_out) != out_shape if not isinstance(tangent_out, Tracer) \
                        else tangent_out.shape != out_shape:
                    tangent_out = _ops["broadcast_to"](tangent_out, shape=out_shape)
            tangents[node] = tangent_out
    return tangents
