"""Graphviz pictures of computational graphs: DOT text, and SVG/PNG/PDF through Graphviz.

The picture follows the lecture's figures, left to right: every node shows
its op (gates with a constant read like the lecture's ``+1``, ``*-1``,
``1/x``), its forward value (green) and, after backward, its gradient
d f / d node (red); every edge shows the gradient sent back along it. With
``show_local=True`` each edge also shows the split ``upstream x local`` that
gives that gradient. ``to_dot`` needs nothing installed; ``render`` needs
Graphviz's ``dot`` program (and uses the ``graphviz`` Python package when it is
installed: ``pip install 'hodiff[viz]'``).
"""

import collections
import html
import pathlib
import shutil
import subprocess

from ..transforms.graph import node_names
from .graph import Graph
from .text import format_value

__all__ = ["Dot", "to_dot", "render", "GraphvizNotFoundError", "RENDER_FORMATS"]

VALUE_COLOR = "#1a7f37"     # forward values: green, as in the lecture
GRAD_COLOR = "#cf222e"      # gradients: red
LOCAL_COLOR = "#0969da"     # local gradient and upstream split
BACKWARD_COLOR = "#8250df"  # nodes recorded by backward(create_graph=True)

RENDER_FORMATS = ("svg", "png", "pdf", "jpg", "jpeg")

# Only the `dot` program is needed (render runs it directly without the Python package). The pip
# command is quoted: an unquoted hodiff[viz] is a glob in zsh ("no matches found").
INSTALL_HINT = ("install Graphviz's `dot` program with `sudo apt-get install graphviz` (Debian, Ubuntu), "
                "`brew install graphviz` (macOS) or `conda install graphviz`; the Python package is optional "
                "(`pip install 'hodiff[viz]'`, or `pip install -e '.[viz]'` in a source checkout); "
                "hd.to_dot(...) gives the DOT text without them")


class GraphvizNotFoundError(RuntimeError):
    """Rendering needs Graphviz's ``dot`` program, which is not installed."""


class Dot(str):
    """DOT text (a ``str``) that shows itself as a picture in Jupyter when Graphviz is installed."""

    def _repr_mimebundle_(self, include=None, exclude=None):
        return mimebundle(self, str(self))

    def render(self, path, format=None):
        return render(self, path, format=format)


def to_dot(node_or_graph, show_grads=True, *, show_local=False, precision=4, max_nodes=200,
           max_items=4, rankdir="LR", title=None):
    """The graph as Graphviz DOT text (a ``Dot``, which is a ``str``).

    node_or_graph: a ``Graph`` (from ``hd.trace_graph``), a Variable (its graph
                   is drawn), or a list of Variables.
    show_grads:    show gradients (red) on nodes and edges, when a backward pass
                   has run (as ``Graph``'s ``grads=None``).
    show_local:    also show on each edge the local gradient and the split
                   ``downstream = upstream x local`` (a diagonal for elementwise
                   ops; for other ops the local Jacobian is never built and the
                   edge says so).
    max_nodes:     draw at most this many nodes (those nearest the outputs); the
                   rest collapse into one node saying how many were left out.
    Arrays with more than ``max_items`` entries are shown by shape.

    >>> import hodiff as hd
    >>> dot = to_dot(hd.trace_graph(lambda x, y: x * y, 3.0, -4.0))
    >>> dot.startswith("digraph"), '"x" -> "f"' in dot
    (True, True)
    """
    graph = node_or_graph if isinstance(node_or_graph, Graph) else Graph(node_or_graph)
    show_grads = show_grads and graph.has_grads
    visible = graph.visible_nodes(max_nodes)
    hidden = len(graph.nodes) - len(visible)

    def fmt(value):
        return html.escape(format_value(value, precision, max_items))

    out_name = graph.name(graph.output_nodes[0])
    legend = f"<font color=\"{VALUE_COLOR}\">green: forward value</font>"
    if show_grads:
        legend += (f"   <font color=\"{GRAD_COLOR}\">red: gradient d{html.escape(out_name)}/d(node); "
                   f"on edges, the gradient sent back</font>")
    if show_local:
        legend += f"   <font color=\"{LOCAL_COLOR}\">blue: upstream x local</font>"
    if graph.backward_nodes:
        legend += f"   <font color=\"{BACKWARD_COLOR}\">purple: nodes of the recorded backward pass</font>"
    if hidden:
        legend += f"<br/>{hidden} of {len(graph.nodes)} nodes collapsed (max_nodes={max_nodes})"
    if title:
        # a title may have several lines (a caption): the first is bold
        first, *rest = html.escape(title).split("\n")
        legend = f"<b>{first}</b><br/>" + "".join(f"{line}<br/>" for line in rest) + legend
    lines = [
        "digraph hodiff {",
        f"  rankdir={rankdir};",
        f"  graph [fontname=\"Helvetica\", fontsize=10, labelloc=b, label=<{legend}>];",
        "  node [fontname=\"Helvetica\", fontsize=11];",
        "  edge [fontname=\"Helvetica\", fontsize=10];",
    ]
    for node in graph.nodes:
        if node not in visible:
            continue
        kind = graph.kind(node)
        name = graph.name(node)
        head = html.escape(name) if node.primitive is None else html.escape(graph.op_label(node))
        if kind in ("backward", "gradient"):
            # what the backward node computes, from its operands' names: "n8 = n7 / n6", "df/dw1 = df/dw2 * x1"
            head = f"{html.escape(name)} = {html.escape(graph.formula(node))}"
        elif node.primitive is not None and (kind == "output" or node in node_names or graph.backward_nodes):
            # the name on its own line: "f" over "*2", not "f = *2"
            head = f"{html.escape(name)}</b><br/><b>{head}"
        label = f"<b>{head}</b><br/><font color=\"{VALUE_COLOR}\">{fmt(graph.value(node))}</font>"
        grad = graph.grad(node) if show_grads else None
        if grad is not None:
            label += f"<br/><font color=\"{GRAD_COLOR}\">{fmt(grad)}</font>"
        attributes = [f"label=<{label}>", "shape=ellipse" if node.primitive is None else "shape=box",
                      "style=rounded" if node.primitive is not None else "style=solid"]
        if kind in ("output", "gradient"):
            attributes.append("peripheries=2")
        if kind in ("backward", "gradient"):
            attributes += [f"color=\"{BACKWARD_COLOR}\"", "style=\"rounded,dashed\""]
        lines.append(f"  {_quote(name)} [{', '.join(attributes)}];")
    edges = graph.edges if graph.edges else [
        _PlainEdge(parent, node, argnum) for node in graph.nodes for parent, argnum in zip(node.parents, node.argnums)]
    edges = [edge for edge in edges if edge.child in visible and edge.parent in visible]
    incoming = collections.Counter(edge.child for edge in edges)
    for edge in edges:
        attributes = []
        if show_grads and edge.grad is not None:
            parts = [f"<font color=\"{GRAD_COLOR}\">{fmt(edge.grad)}</font>"]
            if show_local:
                parts.append(f"<font color=\"{LOCAL_COLOR}\">{_local_text(edge, fmt)}</font>")
            attributes.append(f"label=<{'<br/>'.join(parts)}>")
            if incoming[edge.child] > 1:  # edges converging on one node: tie each label to its edge
                attributes.append("decorate=true")
        if edge.child in graph.backward_nodes:
            attributes.append(f"color=\"{BACKWARD_COLOR}\"")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {_quote(graph.name(edge.parent))} -> {_quote(graph.name(edge.child))}{suffix};")
    if hidden:
        lines.append(f"  \"...\" [shape=note, label=\"{hidden} more nodes\"];")
        for node in graph.nodes:
            if node in visible and any(parent not in visible for parent in node.parents):
                lines.append(f"  \"...\" -> {_quote(graph.name(node))} [style=dashed];")
    lines.append("}")
    return Dot("\n".join(lines) + "\n")


class _PlainEdge:
    __slots__ = ("parent", "child", "argnum", "grad")

    def __init__(self, parent, child, argnum):
        self.parent, self.child, self.argnum, self.grad = parent, child, argnum, None


def _local_text(edge, fmt):
    """'up 0.2 x local -1' (scalar), 'up [...] x diag([...])' (elementwise) or a VJP note."""
    upstream = fmt(edge.upstream)
    if edge.local_kind == "scalar":
        return f"up {upstream} x local {fmt(edge.local)}"
    if edge.local_kind == "diagonal":
        return f"up {upstream} x diag({fmt(edge.local)})"
    return f"up {upstream} x local Jacobian (a VJP: the Jacobian is never built)"


def _quote(name):
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(graph, path, format=None, **options):
    """Write the picture of ``graph`` to ``path`` and return the path.

    graph:   a ``Graph``, a Variable, a list of Variables, or DOT text.
    format:  svg, png, pdf, jpg, or dot/gv for the DOT text itself; by default
             the file's extension.
    options: passed to ``to_dot`` (show_grads, show_local, max_nodes, ...).
    Needs Graphviz's ``dot`` program: without it, ``GraphvizNotFoundError``
    says how to install it (``to_dot`` works regardless).
    """
    path = pathlib.Path(path)
    format = (format or path.suffix.lstrip(".") or "svg").lower()
    source = graph if isinstance(graph, str) else to_dot(graph, **options)
    if format in ("dot", "gv"):
        path.write_text(source)
        return path
    if format not in RENDER_FORMATS:
        raise ValueError(f"render: unknown format {format!r}; use one of {', '.join(RENDER_FORMATS + ('dot',))}")
    path.write_bytes(run_dot(source, format))
    return path


def run_dot(source, format="svg"):
    """Graphviz's output (bytes) for DOT ``source``: the ``graphviz`` package, else the ``dot`` program."""
    try:
        import graphviz
    except ImportError:
        graphviz = None
    if graphviz is not None:
        try:
            return graphviz.pipe("dot", format, source.encode())
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFoundError(f"Graphviz's `dot` program was not found: {INSTALL_HINT}") from None
        except graphviz.CalledProcessError as error:
            raise RuntimeError(f"Graphviz failed: {_first_line(error.stderr)}") from None
    executable = shutil.which("dot")
    if executable is None:
        raise GraphvizNotFoundError(f"Graphviz's `dot` program was not found: {INSTALL_HINT}")
    result = subprocess.run([executable, f"-T{format}"], input=source.encode(), capture_output=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"Graphviz failed: {_first_line(result.stderr)}")
    return result.stdout


def _first_line(stderr):
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else str(stderr or "")
    return text.strip().splitlines()[0] if text.strip() else "no message"


def mimebundle(dot_source, text):
    """Jupyter's rich display: the SVG picture when Graphviz is installed, the text always."""
    bundle = {"text/plain": text}
    try:
        bundle["image/svg+xml"] = run_dot(dot_source, "svg").decode()
    except (GraphvizNotFoundError, RuntimeError, OSError, subprocess.TimeoutExpired):
        pass  # no Graphviz: the text form is shown
    return bundle
