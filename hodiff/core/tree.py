"""Pytrees: nested tuples, namedtuples, lists and dicts whose leaves are arrays or scalars.

``tree_flatten`` gives the leaves in a fixed order (dict keys sorted, as JAX
does) and a ``TreeDef`` that ``tree_unflatten`` uses to rebuild the structure.
``None`` is an empty subtree (it has no leaves), as in JAX.

Every walk here (flatten, unflatten, ``==``, ``hash``, ``repr``) is iterative,
with an explicit stack, so a tree nested thousands of levels deep works (the
depth is bounded by memory, not by Python's recursion limit). A container that
contains itself (a reference cycle) is refused with a ValueError.
"""

__all__ = ["LEAF", "TreeDef", "tree_flatten", "tree_unflatten", "tree_map", "tree_leaves", "tree_structure"]


class TreeDef:
    """The structure of a pytree: a node kind, its metadata and its children.

    ``kind`` is ``"leaf"``, ``"none"``, ``tuple``, a namedtuple class, ``list`` or ``dict``; ``meta``
    is the sorted tuple of a dict's keys (else None); ``children`` is a tuple of
    TreeDefs, in flattening order. Two TreeDefs are equal when their kinds, metas
    and children are equal, recursively; the hash follows (and is cached).
    """

    __slots__ = ("kind", "meta", "children", "num_leaves", "flat", "depth", "_hash")

    def __init__(self, kind, meta=None, children=()):
        self.kind = kind  # "leaf", "none", tuple, a namedtuple class, list or dict
        self.meta = meta  # sorted dict keys, or None
        self.children = children
        self._hash = None  # computed on first use (most TreeDefs are never hashed)
        if type(kind) is str:  # "leaf" or "none"
            self.flat = kind == "leaf"
            self.num_leaves = 1 if self.flat else 0
            self.depth = 0
            return
        # One pass over the children (never over grandchildren: each child has its counts).
        # flat: a tuple of leaves (a transform's arguments, most of the time), a fast path.
        num_leaves = depth = 0
        flat = kind is tuple
        for child in children:
            num_leaves += child.num_leaves
            if child.depth > depth:
                depth = child.depth
                flat = False
            elif child.num_leaves == 0:
                flat = False
        self.num_leaves = num_leaves
        self.flat = flat
        self.depth = depth + 1  # containers above the deepest leaf or None

    def __eq__(self, other):
        if self is other:
            return True
        if not isinstance(other, TreeDef):
            return False
        if self.depth != other.depth:
            return False
        if self.depth <= _SHALLOW:  # the definition itself: few frames deep, and fastest
            return self.kind == other.kind and self.meta == other.meta and self.children == other.children
        # The same definition (kind, meta and children equal), walked with a stack.
        stack = [(self, other)]
        pop, push = stack.pop, stack.append
        while stack:
            a, b = pop()
            if a.kind != b.kind or a.meta != b.meta or a.depth != b.depth:
                return False
            if a._hash is not None and b._hash is not None and a._hash != b._hash:
                return False
            ca, cb = a.children, b.children
            if len(ca) != len(cb):
                return False
            for x, y in zip(ca, cb):
                if x is not y:
                    push((x, y))
        return True

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self):
        if self._hash is None:
            # hash((str(kind), meta, children)) with the children's hashes computed first
            # (post-order), so hashing a child never recurses.
            stack = [self]
            while stack:
                node = stack[-1]
                pending = [c for c in node.children if c._hash is None]
                if pending:
                    stack.extend(pending)
                    continue
                stack.pop()
                if node._hash is None:
                    node._hash = hash((str(node.kind), node.meta, node.children))
        return self._hash

    def __repr__(self):
        out = []
        stack = [self]
        pop, extend = stack.pop, stack.extend
        while stack:
            item = pop()
            if type(item) is str:
                out.append(item)
                continue
            kind = item.kind
            if kind == "leaf":
                out.append("*")
            elif kind == "none":
                out.append("None")
            else:
                named = kind is not dict and kind is not tuple and kind is not list
                parts = [f"{kind.__name__}(" if named else "{" if kind is dict else "(" if kind is tuple else "["]
                for i, child in enumerate(item.children):
                    if i:
                        parts.append(", ")
                    if kind is dict:
                        parts.append(f"{item.meta[i]!r}: ")
                    parts.append(child)
                parts.append("}" if kind is dict else ",)" if kind is tuple else "]" if kind is list else ")")
                parts.reverse()
                extend(parts)
        return "".join(out)


_LEAF = TreeDef("leaf")
_NONE = TreeDef("none")
_FLAT_TUPLES = {}  # n -> the TreeDef of a tuple of n leaves
LEAF = _LEAF  # the structure of a single leaf (one instance: compare with `is`)
_SHALLOW = 32  # TreeDefs at most this deep compare by the recursive definition directly
_CHECK_CYCLES_AT = 1024  # depth at which (and at each doubling of which) the path is checked for a cycle


def _is_namedtuple(kind):
    """A namedtuple class (collections.namedtuple, typing.NamedTuple: QRResult, EighResult, ...)."""
    return kind.__base__ is tuple and hasattr(kind, "_fields")


def tree_flatten(tree):
    """Return ``(leaves, treedef)`` for a pytree; a non-container is one leaf."""
    kind = type(tree)
    if kind is tuple:
        for child in tree:
            child_kind = type(child)
            if child_kind is tuple or child_kind is list or child_kind is dict or child is None \
                    or child_kind.__base__ is tuple:
                break
        else:  # a tuple of leaves: no walk, and one shared TreeDef per length
            treedef = _FLAT_TUPLES.get(len(tree))
            if treedef is None:
                treedef = _FLAT_TUPLES.setdefault(len(tree), TreeDef(tuple, None, (_LEAF,) * len(tree)))
            return list(tree), treedef
    elif kind is not list and kind is not dict and not _is_namedtuple(kind):
        return ([], _NONE) if tree is None else ([tree], _LEAF)
    leaves = []
    return leaves, _flatten_into(tree, leaves)


def _sorted_keys(mapping):
    """A dict's keys in pytree order (sorted, as JAX); keys that do not compare are refused by name."""
    try:
        return tuple(sorted(mapping))
    except TypeError:
        kinds = sorted({type(key).__name__ for key in mapping})
        raise TypeError(f"a pytree dict's keys must be sortable (they fix the leaves' order), got keys of types "
                        f"{', '.join(kinds)}: use keys of one type") from None


def _flatten_into(tree, leaves):
    """The TreeDef of the container ``tree``; its leaves are appended to ``leaves`` (depth first)."""
    append = leaves.append
    stack = []  # the open ancestors: [container, kind, keys, children, built child TreeDefs]
    kind = type(tree)
    keys = _sorted_keys(tree) if kind is dict else None
    node, children, built = tree, ([tree[k] for k in keys] if keys is not None else tree), []
    check_at = _CHECK_CYCLES_AT
    while True:
        i, n = len(built), len(children)
        while i < n:  # leaves and None inline; stop at the next container child
            child = children[i]
            child_kind = type(child)
            if child_kind is tuple or child_kind is list or child_kind is dict \
                    or (child_kind.__base__ is tuple and _is_namedtuple(child_kind)):
                break
            if child is None:
                built.append(_NONE)
            else:
                append(child)
                built.append(_LEAF)
            i += 1
        else:  # every child done: close this node and hand it to its parent
            treedef = TreeDef(kind, keys, tuple(built))
            if not stack:
                return treedef
            node, kind, keys, children, built = stack.pop()
            built.append(treedef)
            continue
        stack.append((node, kind, keys, children, built))
        if len(stack) >= check_at:
            _refuse_cycle(stack)
            check_at *= 2
        node, kind = child, child_kind
        if kind is dict:
            keys = _sorted_keys(child)
            children = [child[k] for k in keys]
        else:
            keys, children = None, child
        built = []


def _refuse_cycle(stack):
    """Raise ValueError if a container on the open path is its own ancestor (else the walk never ends)."""
    seen = set()
    for frame in stack:
        if id(frame[0]) in seen:
            raise ValueError(f"the pytree contains itself (a reference cycle through a {type(frame[0]).__name__}),"
                             " so it cannot be flattened")
        seen.add(id(frame[0]))


def tree_unflatten(treedef, leaves):
    """Rebuild the pytree described by ``treedef`` from ``leaves`` (any iterable)."""
    if treedef.flat:
        if type(leaves) is not list and type(leaves) is not tuple:
            leaves = list(leaves)
        if len(leaves) != treedef.num_leaves:
            raise ValueError(f"too many leaves for tree structure {treedef!r}" if len(leaves) > treedef.num_leaves
                             else "too few leaves for the tree structure")
        return leaves[0] if treedef.kind == "leaf" else tuple(leaves)
    leaves = iter(leaves)
    tree = _unflatten_from(treedef, leaves)
    if next(leaves, _LEAF) is not _LEAF:
        raise ValueError(f"too many leaves for tree structure {treedef!r}")
    return tree


def _unflatten_from(treedef, leaves):
    """The pytree of ``treedef`` (not a leaf) with leaves taken in order from the iterator ``leaves``."""
    if treedef.kind == "none":
        return None
    stack = []  # the open ancestors: (TreeDef, built children)
    built = []
    while True:
        children = treedef.children
        i, n = len(built), len(children)
        while i < n:  # leaves and None inline; stop at the next container child
            child = children[i]
            kind = child.kind
            if kind == "leaf":
                try:
                    built.append(next(leaves))
                except StopIteration:
                    raise ValueError("too few leaves for the tree structure") from None
            elif kind == "none":
                built.append(None)
            else:
                break
            i += 1
        else:  # every child built: make this node and hand it to its parent
            kind = treedef.kind
            value = dict(zip(treedef.meta, built)) if kind is dict else \
                kind(built) if kind is tuple or kind is list else kind(*built)
            if not stack:
                return value
            treedef, built = stack.pop()
            built.append(value)
            continue
        stack.append((treedef, built))
        treedef, built = child, []


def tree_leaves(tree):
    return tree_flatten(tree)[0]


def tree_structure(tree):
    return tree_flatten(tree)[1]


def tree_map(function, tree, *rest):
    """Apply ``function`` leaf by leaf to ``tree`` and trees of the same structure."""
    leaves, treedef = tree_flatten(tree)
    others = []
    for other in rest:
        other_leaves, other_def = tree_flatten(other)
        if other_def != treedef:
            raise ValueError(f"tree structures differ: {treedef!r} and {other_def!r}")
        others.append(other_leaves)
    return tree_unflatten(treedef, [function(*xs) for xs in zip(leaves, *others)])
