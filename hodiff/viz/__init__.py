"""Pictures and tables of computational graphs (the lecture's figures).

``trace_graph(f, *args)`` records a function's graph, ``to_dot`` gives its
Graphviz DOT text, ``render`` writes SVG/PNG/PDF (needs Graphviz), and
``to_table`` a plain-text table of every node's op, value and gradient.
"""

from .dot import Dot, GraphvizNotFoundError, render, to_dot
from .graph import Edge, Graph, trace_graph
from .text import format_table, format_value, to_table

__all__ = ["trace_graph", "to_dot", "render", "to_table", "Graph", "Edge", "Dot", "GraphvizNotFoundError",
           "format_value", "format_table"]
