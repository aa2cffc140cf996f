"""Plain-text views of graphs and numbers: the tables the command line and the demo print."""

import numpy as np

__all__ = ["format_value", "format_table", "to_table"]


def format_value(value, precision=4, max_items=8):
    """A short, readable form of a number or array.

    Scalars use ``precision`` significant digits (-0 prints as 0); arrays of at
    most ``max_items`` entries are written out, bigger ones by shape only.

    >>> format_value(0.7310585786), format_value(-0.0), format_value([1.0, -2.0, 0.5])
    ('0.7311', '0', '[1, -2, 0.5]')
    >>> format_value(np.zeros((64, 4096)))
    'array(64x4096)'
    """
    if value is None:
        return ""
    array = np.asarray(value)
    if array.ndim == 0:
        return _format_scalar(array[()], precision)
    if array.size > max_items:
        return f"array({'x'.join(str(n) for n in array.shape)})"
    return np.array2string(array, separator=", ", max_line_width=10**6, threshold=10**6,
                           formatter={"all": lambda v: _format_scalar(v, precision)})


def _format_scalar(v, precision):
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (complex, np.complexfloating)):
        return f"{complex(v):.{precision}g}"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    return "0" if v == 0 else f"{v:.{precision}g}"


def format_table(headers, rows):
    """Columns aligned with two spaces between them; a rule under the headers.

    >>> print(format_table(["name", "value"], [["x", "2"], ["long", "-3"]]))
    name  value
    ----  -----
    x     2
    long  -3
    """
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def to_table(graph, precision=4, max_rows=200, max_items=8):
    """The graph as a table: one row per node (topological order) with op, inputs, value, gradient.

    ``grad`` is d f / d node, f the graph's output (empty before backward).
    Graphs of more than ``max_rows`` nodes show the last ``max_rows`` (the ones
    nearest the output) and say how many were left out.

    >>> import hodiff as hd
    >>> print(to_table(hd.trace_graph(lambda x, y: x * y, 3.0, -4.0)))
    node  op     inputs  value  grad
    ----  -----  ------  -----  ----
    x     input          3      -4
    y     input          -4     3
    f     *      x, y    -12    1
    """
    from .graph import Graph

    if not isinstance(graph, Graph):
        graph = Graph(graph)
    rows = graph.rows()
    note = ""
    if max_rows is not None and len(rows) > max_rows:
        note = f"\n... {len(rows) - max_rows} earlier nodes not shown (of {len(rows)})"
        rows = rows[-max_rows:]
    table = format_table(
        ["node", "op", "inputs", "value", "grad"],
        [[row["name"] + (" (backward)" if row["kind"] == "backward" else ""), row["op"],
          ", ".join(row["inputs"]), format_value(row["value"], precision, max_items),
          format_value(row["grad"], precision, max_items)] for row in rows],
    )
    return table + note
