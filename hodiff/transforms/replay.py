"""Record once, replay (issue 16, part 2): a function's program of primitive applications, run again on new
inputs as plain numpy calls, with no tracer per operation.

``hd.record(f)`` returns a function that, on its first call for an input signature (the pytree structure and
every leaf's shape and dtype), runs f under a ``RecordTrace``: one more interpreter, at the bottom of the
tower, whose tracers carry real values and whose ``process`` appends each primitive application to a flat
list (the primitive, its static parameters, and for each argument a slot of the program or a constant). f may
be any composition of transforms (``hd.grad(f)``, ``hd.hvp``, ``hd.derivative(f, order=8)``): their rules are
written with primitives, so what reaches the bottom is the derivative program itself. Later calls with the
same signature run the recorded list on the new inputs, calling each primitive's numpy implementation.

Guards. Anything read from a recorded value during recording (``bool()`` for an ``if``, ``int()``, an index,
``float()``, a value taken out by plain numpy code or by an interpreter) is kept with what it read; a replay
recomputes it and compares. A different answer means the program would differ (another branch, another
index): the call records afresh (``strict=True``: raises ``ReplayError`` instead). Comparisons, argmax and
the other non-differentiable primitives are recorded like the rest, so ``hnp.where(x > 0, ...)`` replays
for every x without a guard.

Not replayed (the function is called directly each time, which is always correct): inputs that are
another transform's tracers (``hd.grad(hd.record(f))``: record inside, not outside), and recordings that
captured another transform's tracers as constants. Values not computed from the inputs (random draws,
globals) are frozen at recording time, as in any traced program.
"""

import collections
import functools
import math

import numpy as np

from ..core import work as _work
from ..core.backends import writes_as_fresh
from ..core.trace import Trace, Tracer, bind, registry
from ..core.tree import tree_flatten, tree_unflatten
from ..core.work import WorkCount, _size
from ..primitives import shape as _shape

__all__ = ["record", "Program", "ReplayError", "RecordTrace", "RecordTracer"]

_MAX_SIGNATURES = 16  # programs kept per recorded function
# Replays before a program is compiled to one Python function: compiling costs ~30 us per application,
# about what interpreting it once costs, so a program that is replayed once or twice (a guard that keeps
# failing) runs in the loop and never pays for it.
COMPILE_AFTER = 3


class ReplayError(ValueError):
    """A strict replay whose guard failed: the recorded program does not hold for these inputs."""


class _Slot:
    """A value of the program: an input or an answer, by its index in the replay's environment."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"%{self.index}"


class RecordTracer(Tracer):
    """A recorded value: the real value and its slot in the program."""

    __slots__ = ("value", "slot")

    def __init__(self, value, slot, trace):
        self._trace = trace
        self.value = value
        self.slot = slot

    def _read(self, what, convert):
        return self._trace.guard(self, what, convert)

    @property
    def primal(self):  # an interpreter or plain numpy taking the value out: guarded on the whole value
        return self._read("the value", _snapshot)

    @property
    def shape(self):
        return tuple(np.shape(self.value))

    @property
    def dtype(self):
        return np.result_type(self.value)

    def __bool__(self):
        return self._read("bool()", bool)

    def __float__(self):
        return self._read("float()", float)

    def __int__(self):
        return self._read("int()", int)

    def __complex__(self):
        return self._read("complex()", complex)

    def __index__(self):
        return self._read("an index", lambda value: np.asarray(value).__index__())

    def item(self, *args):
        return self._read(".item()", lambda value: np.asarray(value).item(*args))

    def __array__(self, dtype=None, copy=None):
        value = self._read("the value", _snapshot)
        return value if dtype is None else value.astype(dtype)

    def __repr__(self):
        return f"RecordTracer({self.slot!r}, shape={self.shape}, dtype={self.dtype})"


def _snapshot(value):
    return np.array(value, copy=True)


def _same(a, b):
    """Whether a value read now is the one read when recording: equal, nan where it was, and -0.0 apart from 0.0
    (copysign, signbit and 1/x tell them apart)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if not (a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)):
            return False
        if a.dtype.kind == "c":
            return _same(a.real, b.real) and _same(a.imag, b.imag)
        return a.dtype.kind != "f" or bool(np.array_equal(np.signbit(a), np.signbit(b)))
    if type(a) is not type(b):
        return False
    if a == b:
        if isinstance(a, (complex, np.complexfloating)):
            return _same(a.real, b.real) and _same(a.imag, b.imag)
        return a != 0 or not isinstance(a, (float, np.floating)) or math.copysign(1, a) == math.copysign(1, b)
    return a != a and b != b


class RecordTrace(Trace):
    """Records every primitive application on its tracers (values computed as it goes)."""

    kind = "record"
    maps_nondiff = True  # comparisons and argmax are part of the program: replayed, not frozen
    reads_as_guards = True  # x[argmax(x)], x[x > 0], unique(x): the value is read (a guard), as int() is
    __slots__ = ("steps", "slots", "tainted")

    def __init__(self):
        super().__init__()
        # ("apply", primitive, params, specs, out, (entries, flops, dtypes)) and ("guard", slot, what, convert, seen)
        self.steps = []
        self.slots = 0
        self.tainted = None  # why the recording cannot be replayed, if it cannot

    def new(self, value):
        tracer = RecordTracer(value, _Slot(self.slots), self)
        self.slots += 1
        return tracer

    def guard(self, tracer, what, convert):
        seen = convert(tracer.value)
        self.steps.append(("guard", tracer.slot, what, convert, seen))
        return seen

    def lower(self, value, where):
        """(value, spec): a tracer of this trace gives its value and its slot, anything else is a constant;
        another transform's tracer among the constants makes the recording unreplayable."""
        if isinstance(value, RecordTracer) and value._trace is self:
            return value.value, value.slot
        if isinstance(value, Tracer) and self.tainted is None:
            self.tainted = f"another transform's traced value reached {where} as a constant"
        return value, value

    def process(self, primitive, args, params):
        lowered = [self.lower(arg, primitive.name) for arg in args]
        values, specs = [v for v, _ in lowered], [s for _, s in lowered]
        ans = bind(primitive, tuple(values), params)
        if isinstance(ans, Tracer) or (isinstance(ans, (tuple, list)) and any(isinstance(a, Tracer) for a in ans)):
            if self.tainted is None:
                self.tainted = f"'{primitive.name}' answered with another transform's traced value"
        entries = _size(ans)
        # (entries, matmul flops, per argument its dtype if it is an ndarray, else None: for _specialized)
        cost = (entries, 2 * entries * np.shape(values[0])[-1] if primitive.name == "matmul" else 0,
                tuple(v.dtype if v.__class__ is np.ndarray else None for v in values))
        if isinstance(ans, (tuple, list)):
            outs = [self.new(a) for a in ans]
            self.steps.append(("apply", primitive, params, tuple(specs), tuple(o.slot for o in outs), cost))
            return type(ans)(outs)
        out = self.new(ans)
        self.steps.append(("apply", primitive, params, tuple(specs), out.slot, cost))
        return out


class Program:
    """A recorded program: ``len(program)`` applications of primitives; ``program(leaves)`` replays it on a
    list of input leaves (None when a guard fails).

    ``counts()`` is the cost accounting of ``hodiff.core.work`` for one replay (a ``WorkCount``: applications,
    entries produced and matmul flops per primitive), known without running it; ``str(program)`` lists it.
    """

    def __init__(self, trace, inputs, out_tree, outputs):
        self.inputs = inputs  # the input slots, in leaf order
        self.out_tree = out_tree
        self.build = _tree_builder(out_tree)  # output leaves -> f's output pytree
        self._outputs = outputs  # per output leaf: a slot or a constant
        needed = {o.index for o in outputs if isinstance(o, _Slot)}
        kept = []
        for step in reversed(trace.steps):  # dead applications dropped; every guard stays
            if step[0] == "guard":
                needed.add(step[1].index)
                kept.append(step)
                continue
            outs = step[4] if isinstance(step[4], tuple) else (step[4],)
            if any(o.index in needed for o in outs):
                needed.update(s.index for s in step[3] if isinstance(s, _Slot))
                kept.append(step)
        self.steps, self._outputs = _merge_repeats(kept[::-1], outputs)
        self.slots = trace.slots
        self._frees = _last_reads(self.steps, self._outputs)
        self._run, self._replays = None, 0  # compiled on the COMPILE_AFTER-th replay (see __call__)

    def __len__(self):
        return sum(1 for step in self.steps if step[0] == "apply")

    @property
    def guards(self):
        return sum(1 for step in self.steps if step[0] == "guard")

    def __call__(self, leaves, strict=False):
        """The output leaves for input leaves, or None when a guard fails (strict: ReplayError)."""
        self._replays += 1
        if self._run is None and self._replays >= COMPILE_AFTER:
            self._run = _compile(self)
        if self._run is not None and not _work.active:  # count_work wraps impl: the loop below looks it up
            outputs = self._run(*leaves)
            if outputs is not None or not strict:
                return outputs
        env = [None] * self.slots
        for slot, leaf in zip(self.inputs, leaves):
            env[slot.index] = leaf
        for step, frees in zip(self.steps, self._frees):
            if step[0] == "apply":
                _, primitive, params, specs, out, _ = step
                args = [env[s.index] if s.__class__ is _Slot else s for s in specs]
                ans = primitive.impl(*args, **params)
                if out.__class__ is _Slot:
                    env[out.index] = ans
                else:
                    for slot, value in zip(out, ans):
                        env[slot.index] = value
            else:
                _, slot, what, convert, seen = step
                now = convert(env[slot.index])
                if not _same(now, seen):
                    if strict:
                        raise ReplayError(f"hd.record(strict=True): {what} of value {slot!r} was {_brief(seen)} when "
                                          f"the program was recorded and is {_brief(now)} now, so the function "
                                          "takes another path (a branch, an index or a value read): record it "
                                          "again (strict=False does so by itself)")
                    return None
            for index in frees:  # as the compiled function's del: a recording keeps every value it made
                env[index] = None
        return [env[o.index] if o.__class__ is _Slot else o for o in self._outputs]

    def counts(self):
        """A ``WorkCount`` of one replay: applications, entries and matmul flops per primitive name."""
        work = WorkCount()
        for step in self.steps:
            if step[0] == "apply":
                name, (entries, flops, _) = step[1].name, step[5]
                work.calls[name] += 1
                work.entries[name] += entries
                if flops:
                    work.flops[name] += flops
        return work

    def __str__(self):
        lines = [f"program of {len(self)} applications, {self.guards} guards; inputs "
                 f"{', '.join(map(repr, self.inputs))}"]
        for step in self.steps:
            if step[0] == "apply":
                _, primitive, params, specs, out, _ = step
                arguments = ", ".join(repr(s) if isinstance(s, _Slot) else _brief(s) for s in specs)
                extra = "".join(f", {k}={_brief(v)}" for k, v in params.items())
                lines.append(f"  {out!r} = {primitive.name}({arguments}{extra})")
            else:
                lines.append(f"  guard {step[2]} of {step[1]!r} == {_brief(step[4])}")
        lines.append(f"  return {', '.join(repr(o) if isinstance(o, _Slot) else _brief(o) for o in self._outputs)}")
        return "\n".join(lines)


def _compile(program):
    """The program as one generated Python function of the input leaves: straight-line calls of the
    implementations, no loop or argument lookup per application (returns None when a guard fails)."""
    names, lines = {"_same": _same}, []
    inputs = ", ".join(f"v{slot.index}" for slot in program.inputs)
    last_use = {index: k for k, frees in enumerate(program._frees) for index in frees}
    private = _private_slots(program.steps)
    for k, step in enumerate(program.steps):
        if step[0] == "apply":
            _, primitive, params, specs, out, (entries, _, dtypes) = step
            names[f"f{k}"] = functools.partial(primitive.impl, **params) if params else primitive.impl
            ufunc = _ufunc_of(primitive) if not params else None
            dying = [j for j, spec in enumerate(specs) if spec.__class__ is _Slot and spec.index in private
                     and last_use.get(spec.index) == k] if ufunc is not None and entries >= _INPLACE_ENTRIES else []
            if dying:  # written into the operand that dies here, as numpy's temporary elision does in f
                names[f"f{k}"] = functools.partial(_into, ufunc, primitive.impl, dying[0])
            elif ufunc is not None and any(d is not None for d in dtypes):  # an array: impl would call the ufunc
                names[f"f{k}"] = ufunc
            arguments = []
            for j, spec in enumerate(specs):
                if spec.__class__ is _Slot:
                    arguments.append(f"v{spec.index}")
                else:
                    names[f"c{k}_{j}"] = spec
                    arguments.append(f"c{k}_{j}")
            target = f"v{out.index}" if out.__class__ is _Slot else "(" + "".join(f"v{o.index}, " for o in out) + ")"
            inline = _inline(primitive, params, dtypes, arguments, target, f"p{k}", names) if not dying else None
            lines.extend(inline or [f"    {target} = f{k}({', '.join(arguments)})"])
        else:
            _, slot, _, convert, seen = step
            names[f"g{k}"], names[f"s{k}"] = convert, seen
            lines.append(f"    if not _same(g{k}(v{slot.index}), s{k}): return None")
        if program._frees[k]:
            lines.append(f"    del {', '.join(f'v{index}' for index in program._frees[k])}")
    outputs = []
    for j, out in enumerate(program._outputs):
        if out.__class__ is _Slot:
            outputs.append(f"v{out.index}")
        else:
            names[f"o{j}"] = out
            outputs.append(f"o{j}")
    source = f"def run({inputs}):\n" + "\n".join(lines) + f"\n    return [{', '.join(outputs)}]\n"
    exec(compile(source, "<hodiff replay>", "exec"), names)
    return names["run"]


def _inline(primitive, params, dtypes, arguments, target, name, names):
    """Source lines that do what ``primitive.impl`` does on these (recorded) argument types without calling it,
    for the indexing steps that reverse mode makes many of (a slice and its transpose, a zero array with the
    slice filled in) and concatenation; None to call impl. The same numpy operations run, so the bits are the same."""
    if registry.get(primitive.name) is not primitive or dtypes[0] is None:
        return None
    if primitive.name == "getitem" and not _shape.takes_along_last_axis(params["index"]):
        names[name] = params["index"]
        return [f"    {target} = {arguments[0]}[{name}]"]
    if primitive.name == "concatenate":  # (its impl is np.concatenate of its arguments)
        names[name], names["_concatenate"] = params.get("axis", 0), np.concatenate
        return [f"    {target} = _concatenate(({', '.join(arguments)},), axis={name})"]
    if primitive.name == "index_add" and _shape._is_basic(params["index"]):
        names[name], names[name + "s"], names[name + "d"] = params["index"], params["shape"], dtypes[0]
        names["_zeros"] = np.zeros
        return [f"    {target} = _zeros({name}s, dtype={name}d)", f"    {target}[{name}] = {arguments[0]}"]
    return None


def _ufunc_of(primitive):
    """The numpy ufunc a primitive's implementation is on arrays (scalar_fast_unary/binary or the ufunc
    itself), for the elementwise arithmetic and functions that keep a float array's dtype; else None."""
    ufunc = _INPLACE_UFUNCS.get(primitive.name)
    impl = primitive.impl
    if ufunc is None or not (impl is ufunc or getattr(impl, "__qualname__", None) == ufunc.__name__
                             and getattr(impl, "__module__", None) == "hodiff.primitives.rules"):
        return None
    return ufunc


_INPLACE_ENTRIES = 1 << 15  # numpy elides temporaries from 256 KiB; below, the check costs more than it saves
_INPLACE_UFUNCS = {name: getattr(np, name) for name in (
    "add", "subtract", "multiply", "true_divide", "negative", "exp", "log", "sin", "cos", "tanh", "sqrt", "square")}


def _last_reads(steps, outputs):
    """Per step, the slots nothing reads after it (not outputs): a replay frees them there, so big
    intermediates go as early as in f itself and a replay's peak memory is f's, not the recording's."""
    last = {}
    for k, step in enumerate(steps):
        for spec in (step[3] if step[0] == "apply" else (step[1],)):
            if spec.__class__ is _Slot:
                last[spec.index] = k
    for out in outputs:
        if out.__class__ is _Slot:
            last.pop(out.index, None)
    frees = [[] for _ in steps]
    for index, k in last.items():
        frees[k].append(index)
    return [tuple(f) for f in frees]


def _private_slots(steps):
    """Slots that only this program's elementwise ufunc applications make and read: never a view of
    another value nor viewed (no getitem, reshape ... reads them), not an input, not read by a guard.
    Written in place at their last read, nothing else sees the change."""
    made, shared = set(), set()
    for step in steps:
        if step[0] == "guard":
            shared.add(step[1].index)
            continue
        _, primitive, params, specs, out, _ = step
        elementwise = _ufunc_of(primitive) is not None and not params
        for spec in specs:
            if spec.__class__ is _Slot and not elementwise:
                shared.add(spec.index)
        if elementwise and out.__class__ is _Slot:
            made.add(out.index)
    return made - shared


def _into(ufunc, impl, position, *args):
    """``impl(*args)``, computed into ``args[position]`` (a private array that dies here) when the
    answer has its shape and dtype: the same ufunc loop, so the same bits, and no fresh memory."""
    target = args[position]
    if target.__class__ is np.ndarray and target.dtype.kind in "fc" and target.flags.writeable:
        if len(args) == 1:
            return ufunc(target, out=target)
        other = args[1 - position]
        if (other.__class__ is float or other.__class__ is int
                or other.__class__ is np.ndarray and np.result_type(target, other) == target.dtype
                and np.broadcast_shapes(target.shape, other.shape) == target.shape
                and writes_as_fresh(target, other)):
            return ufunc(*args, out=target)
    return impl(*args)


def _merge_repeats(steps, outputs):
    """(steps, outputs) with each repeated application done once: the same primitive on the same slots,
    constants and parameters gives the same value (hodiff's implementations are pure functions of them;
    a user's ``hd.primitive`` may not be, so its applications are never merged), so later uses read the
    first one's slots. RK4 slices x the same way in each of its 4 s stages."""
    alias, first = {}, {}

    def read(spec):
        return alias.get(spec.index, spec) if spec.__class__ is _Slot else spec

    merged = []
    for step in steps:
        if step[0] == "guard":
            merged.append(("guard", read(step[1])) + step[2:])
            continue
        _, primitive, params, specs, out, cost = step
        specs = tuple(read(spec) for spec in specs)
        key = (primitive, _key(params), tuple(_key(spec) for spec in specs))
        earlier = first.get(key) if registry.get(primitive.name) is primitive else None
        if earlier is None:
            first[key] = out
            merged.append(("apply", primitive, params, specs, out, cost))
        elif out.__class__ is _Slot:
            alias[out.index] = earlier
        else:
            alias.update((o.index, e) for o, e in zip(out, earlier))
    return merged, [read(o) for o in outputs]


def _key(value):
    """A hashable stand-in equal only for values that are certainly the same argument: slots by index,
    scalars by type and repr (2 and 2.0, 0.0 and -0.0 differ), containers by their items, and anything
    else (arrays, functions) by identity."""
    kind = type(value)
    if kind is _Slot:
        return "slot", value.index
    if kind in (int, bool, str) or value is None:
        return kind, value
    if kind in (float, complex) or isinstance(value, (np.generic, np.dtype)):
        return kind, repr(value)
    if kind is tuple or kind is list:
        return kind, tuple(_key(item) for item in value)
    if kind is dict:
        return kind, tuple((name, _key(item)) for name, item in sorted(value.items()))
    if kind is slice:
        return kind, _key(value.start), _key(value.stop), _key(value.step)
    return "id", id(value)


def _tree_builder(treedef):
    """A function of the output leaves that builds treedef's pytree: for nests of tuples and lists (a
    value and its gradients), one generated expression, ~1.5 us less per call than tree_unflatten."""
    leaves = iter(range(treedef.num_leaves))

    def expression(node, depth):
        if node.kind == "leaf":
            return f"o[{next(leaves)}]"
        if node.kind == "none":
            return "None"
        if node.kind not in (tuple, list) or depth > 16:
            raise LookupError
        inner = "".join(f"{expression(child, depth + 1)}, " for child in node.children)
        return f"({inner})" if node.kind is tuple else f"[{inner}]"

    try:
        return eval(f"lambda o: {expression(treedef, 0)}")  # noqa: S307 (built from the treedef alone)
    except LookupError:  # dicts, namedtuples, registered nodes, deep nests
        return functools.partial(tree_unflatten, treedef)


def _brief(value):
    if isinstance(value, np.ndarray) and value.size > 4:
        return f"array(shape={value.shape}, dtype={value.dtype})"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_SCALARS = (np.ndarray, np.generic, float, int, complex)


def _is_static(leaf):
    """Python ints and bools are sizes, counts, indices and flags (``arange(n)``, ``range(steps)``): they are
    passed to f as themselves and keyed by value, not traced (a traced int could not size an array)."""
    return type(leaf) is int or type(leaf) is bool


def _leaf_key(leaf):
    """A static leaf's value; a traced leaf's type, shape and dtype: numpy computes a float64 scalar and a
    0-d array of it along different loops (np.tanh may differ in the last bit), so a replay must see what
    f saw."""
    kind = type(leaf)
    if kind is int or kind is bool:
        return kind, leaf
    if kind is np.ndarray:
        return kind, leaf.shape, leaf.dtype
    return kind, np.shape(leaf), np.result_type(leaf)


_FLOAT_KEY = (float, (), np.dtype(np.float64))


def record(f, *, strict=False):
    """Return a function computing f that records f's program once per input signature and replays it.

    f takes arrays, numbers or pytrees of them (positional or keyword) and may be any composition of transforms:
    ``hd.record(hd.grad(loss))``, ``hd.record(lambda x: hd.hvp(f, (x,), (v,))[0])``, ``hd.record(hd.derivative(f,
    order=8))``. The first call for a signature (pytree structure, leaf types, shapes and dtypes, and the values of
    Python int and bool arguments, which f gets as themselves: sizes, counts, flags) runs f and records its
    primitive applications; later calls replay them as plain numpy calls, which gives the same numbers (the same
    implementations in the same order) without an interpreter per operation. A value read during recording (``if``,
    an index, ``float()``) is a guard: when it reads differently, the call records again, or with ``strict=True``
    raises ``ReplayError``. A call on another transform's traced values calls f directly. After a call, ``.program``
    (a ``Program``: ``len``, ``counts()``, ``str``), ``.recordings`` and ``.replays`` describe what happened.

    >>> import numpy as np, hodiff as hd, hodiff.numpy as hnp
    >>> loss = lambda w: hnp.sum(hnp.tanh(w) ** 2)
    >>> grad = hd.record(hd.grad(loss))
    >>> w = np.linspace(-1.0, 1.0, 5)
    >>> bool(np.allclose(grad(w), hd.grad(loss)(w))), bool(np.allclose(grad(2 * w), hd.grad(loss)(2 * w)))
    (True, True)
    >>> grad.recordings, grad.replays
    (1, 1)
    """
    if not callable(f):
        raise TypeError(f"hd.record: f must be callable, got {type(f).__name__}")
    programs = collections.OrderedDict()

    def with_keywords(args, kwargs):
        return f(*args, **kwargs)

    @functools.wraps(f)
    def recorded(*args, **kwargs):
        # keyword arguments are leaves too: the recording sees (args, kwargs) and calls f(*args, **kwargs)
        leaves, in_tree = tree_flatten((args, kwargs) if kwargs else args)
        keys = []
        for i, leaf in enumerate(leaves):
            if leaf.__class__ is float:  # the scalar chains' case: np.shape and np.result_type cost ~1 us a leaf
                keys.append(_FLOAT_KEY)
                continue
            if isinstance(leaf, Tracer):
                return f(*args, **kwargs)  # inside another transform: that transform needs the real computation
            if not isinstance(leaf, _SCALARS):
                leaves[i] = leaf = np.asarray(leaf)
            keys.append(_leaf_key(leaf))
        # the structure, then per static leaf its value and per traced leaf its type, shape and dtype
        key = (in_tree, tuple(keys), bool(kwargs))
        program = programs.get(key)
        if program is not None:
            traced = leaves if len(program.inputs) == len(leaves) else [leaf for leaf in leaves if not _is_static(leaf)]
            outputs = program(traced, strict=strict)
            if outputs is not None:
                recorded.replays += 1
                recorded.program = program
                return program.build(outputs)
        result, program = _record(with_keywords if kwargs else f, leaves, in_tree)
        recorded.recordings += 1
        if program is not None:
            programs[key] = program
            programs.move_to_end(key)
            if len(programs) > _MAX_SIGNATURES:
                programs.popitem(last=False)
        recorded.program = program
        return result

    recorded.program, recorded.recordings, recorded.replays = None, 0, 0
    return recorded


def _record(f, leaves, in_tree):
    """Run f on recorded inputs: (f's result, its Program, or None when it cannot be replayed)."""
    trace = RecordTrace()
    arguments = [leaf if _is_static(leaf) else trace.new(leaf) for leaf in leaves]
    tracers = [a for a in arguments if isinstance(a, Tracer)]
    try:
        out = f(*tree_unflatten(in_tree, arguments))
        out_leaves, out_tree = tree_flatten(out)
        lowered = [trace.lower(leaf, "f's output") for leaf in out_leaves]
        values, outputs = [v for v, _ in lowered], [s for _, s in lowered]
    finally:
        trace.alive = False
    result = tree_unflatten(out_tree, values)
    if trace.tainted is not None:
        return result, None
    return result, Program(trace, [t.slot for t in tracers], out_tree, outputs)
