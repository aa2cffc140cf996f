"""Graph recording, DOT pictures, rendering and tables (hodiff.viz)."""

import re
import shutil
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.viz import Graph, GraphvizNotFoundError, render, to_dot, to_table, trace_graph
from hodiff.viz.dot import GRAD_COLOR, VALUE_COLOR

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")

LECTURE_POINT = (2.0, -1.0, -3.0, -2.0, -3.0)


def neuron(w0, x0, w1, x1, w2):
    """The lecture's neuron with the sigmoid staged into the *-1, exp, +1, 1/x gates."""
    return 1.0 / (1.0 + hnp.exp(-(w0 * x0 + w1 * x1 + w2)))


def node_labels(dot):
    """{node id: (values shown in green, gradients shown in red)} parsed from DOT text."""
    labels = {}
    for match in re.finditer(r'^  "([^"]+)" \[label=<(.*?)>, shape', dot, re.M):
        label = match.group(2)
        green = re.findall(rf'<font color="{VALUE_COLOR}">([^<]*)</font>', label)
        red = re.findall(rf'<font color="{GRAD_COLOR}">([^<]*)</font>', label)
        labels[match.group(1)] = (green, red)
    return labels


def edge_labels(dot):
    return {(m.group(1), m.group(2)): m.group(3) or "" for m in
            re.finditer(r'^  "([^"]+)" -> "([^"]+)"(?: \[(.*)\])?;$', dot, re.M)}


# The lecture's figure, node by node: (forward value, gradient) to 4 significant digits.
LECTURE_NODES = {
    "w0": ("2", "-0.1966"), "x0": ("-1", "0.3932"), "w1": ("-3", "-0.3932"), "x1": ("-2", "-0.5898"),
    "w2": ("-3", "0.1966"), "n0": ("-2", "0.1966"), "n1": ("6", "0.1966"), "n2": ("4", "0.1966"),
    "n3": ("1", "0.1966"), "n4": ("-1", "-0.1966"), "n5": ("0.3679", "-0.5344"), "n6": ("1.368", "-0.5344"),
    "f": ("0.7311", "1"),
}


def test_neuron_dot_has_every_node_with_the_lectures_values_and_gradients():
    graph = trace_graph(neuron, *LECTURE_POINT)
    dot = to_dot(graph)
    labels = node_labels(dot)
    assert set(labels) == set(LECTURE_NODES)
    for name, (value, grad) in LECTURE_NODES.items():
        assert labels[name] == ([value], [grad]), name
    # The gates read as in the lecture.
    assert [graph.op_label(n) for n in graph.nodes if n.primitive is not None] == \
        ["*", "*", "+", "+", "*-1", "exp", "+1", "1/x"]
    edges = edge_labels(dot)
    assert len(edges) == 12
    assert f'<font color="{GRAD_COLOR}">-0.5344</font>' in edges[("n6", "f")]


def test_local_gradients_and_the_upstream_split_on_request():
    graph = trace_graph(neuron, *LECTURE_POINT)
    assert "local" not in to_dot(graph)
    dot = to_dot(graph, show_local=True)
    edges = edge_labels(dot)
    # The lecture's staged gates: 1/x has local -1/x^2, +1 has 1, exp has e^x, *-1 has -1.
    assert "up 1 x local -0.5344" in edges[("n6", "f")]
    assert "up -0.5344 x local 1" in edges[("n5", "n6")]
    assert "up -0.5344 x local 0.3679" in edges[("n4", "n5")]
    assert "up -0.1966 x local -1" in edges[("n3", "n4")]
    for edge in graph.edges:
        assert edge.local_kind == "scalar"
        np.testing.assert_allclose(edge.grad, edge.upstream * edge.local)


def test_copy_adds_edges_sum_to_the_node_gradient():
    # x feeds three gates; its gradient is the sum of what the three edges send back.
    graph = trace_graph(lambda x, y: x * y + hnp.sin(x) + x ** 2, 0.7, -1.3)
    x = graph.inputs[0].node
    branches = [edge.grad for edge in graph.edges if edge.parent is x]
    assert len(branches) == 3
    np.testing.assert_allclose(sum(branches), graph.grads[x])
    np.testing.assert_allclose(graph.grads[x], -1.3 + np.cos(0.7) + 2 * 0.7)


def test_every_node_gradient_is_the_sum_of_its_outgoing_edges():
    x = hd.Variable(np.array([0.5, -1.0, 2.0]), name="x")
    y = hd.Variable(np.array([1.5, 0.25, -0.5]), name="y")
    h = hnp.tanh(x * y)
    f = hnp.sum(h * x + hnp.exp(h))
    f.backward()
    graph = Graph(f)
    for node in graph.nodes:
        if node is f.node:
            continue
        outgoing = [edge.grad for edge in graph.edges if edge.parent is node]
        np.testing.assert_allclose(np.sum(outgoing, axis=0), graph.grads[node], err_msg=graph.name(node))
    np.testing.assert_allclose(graph.grads[x.node], x.grad)


def test_elementwise_edges_show_a_diagonal_and_other_ops_a_vjp_note():
    x = hd.Variable(np.array([1.0, -2.0, 3.0, -1.0]), name="x")
    y = hnp.where(x.value > 0, x, 0.0)   # relu at the lecture's point
    loss = hnp.sum(y * np.array([4.0, -1.0, 5.0, 9.0]))
    loss.backward()
    graph = Graph(loss)
    where_edge = next(e for e in graph.edges if e.child.primitive.name == "where")
    assert where_edge.local_kind == "diagonal"
    np.testing.assert_array_equal(where_edge.local, [1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(where_edge.grad, [4.0, 0.0, 5.0, 0.0])
    sum_edge = next(e for e in graph.edges if e.child.primitive.name == "sum")
    assert sum_edge.local_kind == "jacobian" and sum_edge.local is None
    dot = to_dot(graph, show_local=True)
    assert "diag([1, 0, 1, 0])" in dot and "the Jacobian is never built" in dot


def test_no_gradients_before_backward_or_when_asked_not_to():
    x = hd.Variable(3.0, name="x")
    f = x * x
    assert not Graph(f).has_grads
    assert GRAD_COLOR not in to_dot(f).split("graph [", 1)[1].split("];", 1)[1]
    f.backward()
    assert Graph(f).has_grads
    assert node_labels(to_dot(f))["x"] == (["3"], ["6"])
    assert node_labels(to_dot(f, show_grads=False))["x"] == (["3"], [])


def test_non_scalar_outputs_show_values_only():
    graph = trace_graph(lambda x: x * 2.0, np.array([1.0, 2.0]))
    assert not graph.has_grads and graph.inputs[0].grad is None
    assert node_labels(to_dot(graph))["f"] == (["[2, 4]"], [])


def test_second_order_graphs_show_the_gradient_nodes():
    x = hd.Variable(2.0, name="x")
    y = hd.Variable(-3.0, name="y")
    z = hnp.tanh(x * y) + x
    z.name = "z"
    z.backward(create_graph=True)
    graph = Graph(z)
    kinds = {graph.name(node): graph.kind(node) for node in graph.nodes}
    assert kinds["dz/dx"] == "gradient" and kinds["dz/dy"] == "gradient"
    # the backward pass's own nodes: tanh's chain factor (g * (1 - t^2), one primitive) and x*y's VJP
    assert sorted(node.primitive.name for node in graph.nodes if graph.kind(node) == "backward") == \
        ["multiply", "tanh_chain"]
    labels = node_labels(to_dot(graph))
    assert labels["dz/dx"][0] == [f"{float(x.grad.value):.4g}"]
    dot = to_dot(graph)
    assert "recorded backward pass" in dot and "dashed" in dot
    # Drawing the gradient itself: its graph reaches back into the forward nodes.
    second = Graph(x.grad, grads=True)
    assert {"x", "y"} <= {second.name(n) for n in second.nodes if n.primitive is None}
    np.testing.assert_allclose(second.grads[x.node], hd.grad(hd.grad(lambda a: hnp.tanh(a * -3.0) + a))(2.0))


def test_trace_graph_with_create_graph_and_drawing_a_node():
    graph = trace_graph(lambda x, y: x * x * y, 3.0, 2.0, create_graph=True)
    x, y = graph.inputs
    assert isinstance(x.grad, hd.Variable) and float(x.grad.value) == 12.0
    names = {graph.name(node): graph.kind(node) for node in graph.nodes}
    assert names["df/dx"] == "gradient" and names["df/dy"] == "gradient"
    assert "backward" in names.values()
    second = hd.grad_of(x.grad, [x, y])
    assert [float(g.value) if isinstance(g, hd.Variable) else float(g) for g in second] == [4.0, 6.0]
    # A bare Node draws the same picture.
    assert to_dot(graph.output.node) == to_dot(graph)
    labels = node_labels(to_dot(graph))
    assert labels["x"] == (["3"], ["12"]) and labels["df/dx"] == (["12"], [])


def test_big_graphs_collapse_with_a_note():
    a = hd.Variable(0.5, name="a")
    s = a
    for _ in range(300):
        s = hnp.sin(s) + a
    s.backward()
    dot = to_dot(s, max_nodes=50)
    assert len(node_labels(dot)) == 50
    assert "551 of 601 nodes collapsed" in dot and '"..." [shape=note, label="551 more nodes"]' in dot
    assert len(node_labels(to_dot(s))) == 200  # the default cap
    table = to_table(Graph(s), max_rows=10)
    assert table.count("\n") == 12 and "591 earlier nodes not shown" in table


def test_table_lists_node_op_inputs_value_grad():
    table = to_table(trace_graph(neuron, *LECTURE_POINT))
    lines = table.splitlines()
    assert lines[0].split() == ["node", "op", "inputs", "value", "grad"]
    assert lines[-1].split() == ["f", "1/x", "1,", "n6", "0.7311", "1"]
    assert lines[2].split() == ["w0", "input", "2", "-0.1966"]


def test_trace_graph_names_inputs_and_refuses_integers():
    graph = trace_graph(lambda w, b: w * b, 2.0, 3.0)
    assert [v.name for v in graph.inputs] == ["w", "b"]
    graph = trace_graph(lambda *xs: xs[0] * xs[1], 2.0, 3.0)
    assert [v.name for v in graph.inputs] == ["x0", "x1"]
    graph = trace_graph(lambda a, b: a + b, 2.0, 3.0, names=["left", "right"])
    assert "left" in to_dot(graph)
    with pytest.raises(TypeError, match="integer"):
        trace_graph(lambda a: a * 2.0, 2)
    with pytest.raises(TypeError, match="not a value computed from its inputs"):
        trace_graph(lambda a: 2.0, 1.0)
    with pytest.raises(TypeError, match="trace_graph"):
        Graph(3.0)


def test_labels_are_escaped():
    x = hd.Variable(1.5, name='a"<&>b')
    f = x * x
    f.backward()
    dot = to_dot(f)
    assert "&lt;&amp;&gt;" in dot and '"a\\"<&>b"' in dot


@needs_dot
def test_render_writes_a_valid_svg_and_png(tmp_path):
    x = hd.Variable(1.5, name='a"<&>b')
    weird = x * x
    weird.backward()
    graph = trace_graph(neuron, *LECTURE_POINT)
    for target in (graph, weird):
        path = render(target, tmp_path / "g.svg", show_local=True)
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg")
        texts = "".join(root.itertext())
    texts = "".join(ET.parse(render(graph, tmp_path / "n.svg")).getroot().itertext())
    for value, grad in LECTURE_NODES.values():
        assert value in texts and grad in texts
    assert render(graph, tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert render(graph, tmp_path / "g.dot").read_text().startswith("digraph")
    with pytest.raises(ValueError, match="unknown format"):
        render(graph, tmp_path / "g.xyz")


@needs_dot
def test_jupyter_display(tmp_path):
    graph = trace_graph(neuron, *LECTURE_POINT)
    bundle = graph._repr_mimebundle_()
    assert "0.7311" in bundle["text/plain"]
    assert ET.fromstring(bundle["image/svg+xml"]).tag.endswith("svg")
    assert "image/svg+xml" in to_dot(graph)._repr_mimebundle_()


@pytest.mark.parametrize("without_package", [False, True])
def test_without_dot_render_fails_in_one_clear_line(tmp_path, monkeypatch, without_package):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot program anywhere
    if without_package:
        monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz fails
    graph = trace_graph(neuron, *LECTURE_POINT)
    with pytest.raises(GraphvizNotFoundError) as error:
        render(graph, tmp_path / "g.svg")
    message = str(error.value)
    assert "\n" not in message
    assert "apt-get install graphviz" in message and "pip install 'hodiff[viz]'" in message
    assert "pip install -e '.[viz]'" in message  # a source checkout; quoted, so zsh does not glob it
    assert to_dot(graph).startswith("digraph")  # still works
    assert render(graph, tmp_path / "g.dot").exists()
    assert set(graph._repr_mimebundle_()) == {"text/plain"}


def test_backward_nodes_say_what_they_compute():
    import hodiff as hd
    from hodiff.cli.demo import LECTURE_POINT as P
    from hodiff.cli.demo import neuron as lecture_neuron

    w0, x0, w1, x1, w2 = (hd.Variable(P[n], name=n) for n in ("w0", "x0", "w1", "x1", "w2"))
    f = lecture_neuron(w0, x0, w1, x1, w2)
    f.backward(create_graph=True)
    dot = to_dot(f)
    # 1/x's rule -(upstream * f)/x as nodes (f = 1/x); the multiply gates swap their inputs (df/dw1 = upstream * x1)
    for text in ("n7 = 1 * f", "n8 = n7 / n6", "n9 = -n8", "n10 = n9 * n5", "df/dw2 = -n10", "df/dw1 = df/dw2 * x1",
                 "df/dx0 = df/dw2 * w0", "<b>n5</b><br/><b>exp</b>"):
        assert text in dot, text
