"""Pytrees: nested tuples, lists and dicts whose leaves are arrays or scalars.

``tree_flatten`` gives the leaves in a fixed order (dict keys sorted, as JAX
does) and a ``TreeDef`` that ``tree_unflatten`` uses to rebuild the structure.
``None`` is an empty subtree (it has no leaves), as in JAX.
"""

__all__ = ["LEAF", "TreeDef", "tree_flatten", "tree_unflatten", "tree_map", "tree_leaves", "tree_structure"]


class TreeDef:
    """The structure of a pytree: a node kind, its metadata and its children."""

    __slots__ = ("kind", "meta", "children", "num_leaves", "flat")

    def __init__(self, kind, meta=None, children=()):
        self.kind = kind  # "leaf", "none", tuple, list or dict
        self.meta = meta  # sorted dict keys, or None
        self.children = children
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in children)
        # A leaf, or a tuple of leaves (a transform's arguments, most of the time): a fast path.
        self.flat = kind == "leaf" or (kind is tuple and all(c.kind == "leaf" for c in children))

    def __eq__(self, other):
        return (
            isinstance(other, TreeDef)
            and self.kind == other.kind
            and self.meta == other.meta
            and self.children == other.children
        )

    def __hash__(self):
        return hash((str(self.kind), self.meta, self.children))

    def __repr__(self):
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        if self.kind is dict:
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.meta, self.children))
            return "{" + inner + "}"
        inner = ", ".join(repr(c) for c in self.children)
        return f"({inner},)" if self.kind is tuple else f"[{inner}]"


_LEAF = TreeDef("leaf")
_NONE = TreeDef("none")
_FLAT_TUPLES = {}  # n -> the TreeDef of a tuple of n leaves
LEAF = _LEAF  # the structure of a single leaf (one instance: compare with `is`)


def tree_flatten(tree):
    """Return ``(leaves, treedef)`` for a pytree; a non-container is one leaf."""
    kind = type(tree)
    if kind is tuple:
        for child in tree:
            child_kind = type(child)
            if child_kind is tuple or child_kind is list or child_kind is dict or child is None:
                break
        else:  # a tuple of leaves: no recursion, and one shared TreeDef per length
            treedef = _FLAT_TUPLES.get(len(tree))
            if treedef is None:
                treedef = _FLAT_TUPLES.setdefault(len(tree), TreeDef(tuple, None, (_LEAF,) * len(tree)))
            return list(tree), treedef
    elif kind is not list and kind is not dict and tree is not None:
        return [tree], _LEAF
    leaves = []
    return leaves, _flatten_into(tree, leaves)


def _flatten_into(tree, leaves):
    kind = type(tree)
    if kind is tuple or kind is list:
        return TreeDef(kind, None, tuple(_flatten_into(child, leaves) for child in tree))
    if kind is dict:
        keys = tuple(sorted(tree))
        return TreeDef(dict, keys, tuple(_flatten_into(tree[k], leaves) for k in keys))
    if tree is None:
        return _NONE
    leaves.append(tree)
    return _LEAF


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
    kind = treedef.kind
    if kind == "leaf":
        try:
            return next(leaves)
        except StopIteration:
            raise ValueError("too few leaves for the tree structure") from None
    if kind == "none":
        return None
    children = [_unflatten_from(child, leaves) for child in treedef.children]
    if kind is dict:
        return dict(zip(treedef.meta, children))
    return kind(children)


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
