"""``hodiff demo``: the backprop lecture's worked examples, with hodiff computing every number.

1. the sigmoid neuron, staged into the lecture's gates, every node's value and
   gradient, the local gradients of the gates and the sigmoid shortcut;
2. the gate patterns: add distributes, copy adds, multiply swaps, max routes;
3. the ReLU Jacobian in both layouts, next to the VJP that never builds it;
4. the 4-D Jacobian of y = x W and the shortcut dL/dx = dL/dy W^T, dL/dW = x^T dL/dy;
5. higher order: a Hessian and higher derivatives by differentiating the backward pass.

Pictures of the graphs go to ``out_dir`` (SVG when Graphviz is installed, DOT text otherwise).
"""

import pathlib
import shlex

import numpy as np

import hodiff as hd

from .. import numpy as hnp
from ..nn import relu, sigmoid
from ..viz import render, to_dot, trace_graph
from ..viz.dot import GraphvizNotFoundError
from ..viz.text import format_table
from .commands import UNAVAILABLE, CLIError, Result, fmt
from .expressions import shown

__all__ = ["run_demo", "neuron", "sigmoid_staged", "LECTURE_POINT"]

# The lecture's neuron f(w, x) = sigmoid(w0*x0 + w1*x1 + w2) at (w0, x0, w1, x1, w2):
LECTURE_POINT = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}


def sigmoid_staged(z):
    """1 / (1 + exp(-z)) as the lecture stages it: the gates *-1, exp, +1, 1/x."""
    return 1.0 / (1.0 + hnp.exp(-z))


def neuron(w0, x0, w1, x1, w2):
    """The lecture's 2-D neuron: sigmoid(w0*x0 + w1*x1 + w2), with the sigmoid staged into gates."""
    return sigmoid_staged(w0 * x0 + w1 * x1 + w2)


class _Report:
    def __init__(self, precision):
        self.precision = precision
        self.lines = []
        self.data = {}
        self.files = []

    def fmt(self, value):
        return fmt(value, self.precision)

    def inline(self, value):
        """An array on one line: [[0, 16, -9], [-24, 9, -30]]."""
        array = np.asarray(value)
        if array.ndim == 0:
            return self.fmt(array)
        return "[" + ", ".join(self.inline(row) for row in array) + "]"

    def say(self, text=""):
        self.lines.append(text)

    def section(self, title):
        if self.lines:
            self.say()
        self.say(title)
        self.say("=" * len(title))


def run_demo(out_dir="hodiff-demo", precision=4, files=True):
    """Run every section; returns a ``Result`` (text for people, data for ``--json``)."""
    report = _Report(precision)
    out = pathlib.Path(out_dir) if files else None
    if out is not None:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            reason = "it is a file" if isinstance(error, FileExistsError) else (error.strerror or str(error))
            raise CLIError(f"--out {shown(out_dir)}: cannot create directory ({reason}); choose another "
                           "--out, or --no-files", UNAVAILABLE) from None
    try:
        with np.errstate(all="ignore"):
            _sigmoid_neuron(report, out)
            _gate_patterns(report, out)
            _relu_jacobian(report)
            _matmul(report)
            _higher_order(report, out)
    except OSError as error:
        raise CLIError(f"--out {shown(out_dir)}: cannot write the pictures ({error.strerror or error})",
                       UNAVAILABLE) from None
    report.section("Files")
    if report.files:
        report.say(f"The pictures are in {out.resolve()}:")
        for path in report.files:
            report.say(f"  wrote {path}")
        dot_files = [path for path in report.files if path.suffix == ".dot"]
        if dot_files:
            report.say(f"Graphviz's `dot` program was not found, so these are DOT text: to get pictures, "
                       f"install Graphviz (`sudo apt-get install graphviz`, `brew install graphviz`) and run "
                       f"the demo again, or convert one with `dot -Tsvg {shlex.quote(str(dot_files[0]))} -o "
                       f"{shlex.quote(str(dot_files[0].with_suffix('.svg')))}`")
    else:
        report.say("  none (--no-files)")
    report.data["files"] = [str(path) for path in report.files]
    return Result("\n".join(report.lines), report.data)


def _write_picture(report, out, graph, stem, page=None, **options):
    """SVG when Graphviz is installed, DOT text otherwise; records the file written.

    ``page``: (width, height) in inches the picture is scaled down to fit, ranks packed closer.
    """
    if out is None:
        return
    dot = to_dot(graph, **options)
    if page is not None:
        dot = dot.replace("digraph hodiff {\n", f"digraph hodiff {{\n  size=\"{page[0]},{page[1]}\"; "
                                                   "ranksep=0.25; nodesep=0.2;\n", 1)
    try:
        path = render(dot, out / f"{stem}.svg")
    except GraphvizNotFoundError:
        path = out / f"{stem}.dot"
        path.write_text(dot)
    report.files.append(path)


# ---------------------------------------------------------------------- 1. the sigmoid neuron

def _sigmoid_neuron(report, out):
    report.section("1. The sigmoid neuron  f(w, x) = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))")
    point = ", ".join(f"{name} = {value:g}" for name, value in LECTURE_POINT.items())
    report.say(f"At {point}: forward values left to right, then gradients right to left.")
    graph = trace_graph(neuron, *LECTURE_POINT.values(), names=list(LECTURE_POINT))
    report.say(graph.to_table(precision=report.precision))
    value = float(graph.output.value)
    grads = {v.name: float(v.grad) for v in graph.inputs}
    report.say()
    report.say(f"f = {report.fmt(value)}; gradient (df/dw0, df/dx0, df/dw1, df/dx1, df/dw2) = "
               f"({', '.join(report.fmt(g) for g in grads.values())})")
    report.say("Each gate: downstream = upstream x local gradient.")
    rows = []
    for edge in sorted(graph.edges, key=lambda edge: -edge.child.seq):  # backward order: output first
        rows.append([f"{graph.name(edge.child)} = {graph.op_label(edge.child)}", graph.name(edge.parent),
                     report.fmt(edge.upstream), report.fmt(edge.local), report.fmt(edge.grad)])
    report.say(format_table(["gate", "input", "upstream", "local", "downstream"], rows))
    # The sigmoid shortcut: d sigmoid / dz = (1 - s) s, the same number as backprop through the four gates.
    z = LECTURE_POINT["w0"] * LECTURE_POINT["x0"] + LECTURE_POINT["w1"] * LECTURE_POINT["x1"] + LECTURE_POINT["w2"]
    sigmoid_value, sigmoid_grad = hd.value_and_grad(sigmoid)(z)
    shortcut = (1.0 - float(sigmoid_value)) * float(sigmoid_value)
    report.say(f"Sigmoid as one gate: d sigmoid/dz at z = {z:g} is {report.fmt(sigmoid_grad)} "
               f"= (1 - {report.fmt(sigmoid_value)}) x {report.fmt(sigmoid_value)} = {report.fmt(shortcut)}, "
               "the shortcut of the lecture.")
    report.data["neuron"] = {"value": value, "grad": grads, "sigmoid_grad": float(sigmoid_grad),
                             "shortcut": shortcut,
                             "nodes": [{"name": r["name"], "op": r["op"], "value": float(r["value"]),
                                        "grad": float(r["grad"])} for r in graph.rows()]}
    _write_picture(report, out, graph, "sigmoid_neuron", page=(7.5, 10), rankdir="TB", show_local=True,
                   title="the sigmoid neuron")


# ---------------------------------------------------------------------- 2. gate patterns

def _circuit(x, y, z, w):
    """The lecture's circuit f = 2 (x y + max(z, w)): every gate pattern in one graph."""
    return 2.0 * (x * y + hnp.maximum(z, w))


def _gate_patterns(report, out):
    report.section("2. Gate patterns  f = 2 (x*y + max(z, w))  at x = 3, y = -4, z = 2, w = -1")
    graph = trace_graph(_circuit, 3.0, -4.0, 2.0, -1.0)
    report.say(graph.to_table(precision=report.precision))
    g = {v.name: float(v.grad) for v in graph.inputs}
    upstream = 2.0  # what the *2 gate sends back into the add gate
    report.say()
    report.say(f"add distributes: the add gate passes its upstream {upstream:g} unchanged to both inputs.")
    report.say(f"max routes:      z (the larger) gets {report.fmt(g['z'])}, w gets {report.fmt(g['w'])}.")
    report.say(f"multiply swaps:  x gets y x upstream = {report.fmt(g['x'])}, "
               f"y gets x x upstream = {report.fmt(g['y'])}.")
    copy = trace_graph(lambda a, b: a * b + a, 3.0, -4.0)
    branches = [float(edge.grad) for edge in copy.edges if edge.parent is copy.inputs[0].node]
    report.say(f"copy adds:       in a*b + a at a = 3, b = -4, a feeds two gates; its branches send back "
               f"{' and '.join(report.fmt(b) for b in branches)}, and da = their sum = "
               f"{report.fmt(copy.inputs[0].grad)}.")
    report.data["gates"] = {"grad": g, "copy_branches": branches, "copy_grad": float(copy.inputs[0].grad)}
    _write_picture(report, out, graph, "gate_patterns", show_local=True, title="f = 2 (x*y + max(z, w))")


# ---------------------------------------------------------------------- 3. ReLU Jacobian

def _relu_jacobian(report):
    x = np.array([1.0, -2.0, 3.0, -1.0])
    upstream = np.array([4.0, -1.0, 5.0, 9.0])
    report.section("3. The ReLU Jacobian at x = (1, -2, 3, -1)")
    data = report.data["relu"] = {}
    for layout in ("numerator", "denominator"):
        J = hd.jacobian(relu, layout=layout)(x)
        data[layout] = J.tolist()
        report.say(f"dy/dx, {layout} layout (shape {J.shape}):")
        report.say(report.fmt(J))
    report.say("Diagonal (elementwise op), so both layouts are the same matrix diag(1, 0, 1, 0);")
    report.say("and almost all zeros: for 4096 inputs it would have 16.8 million entries, 4096 non-zero.")
    y, vjp_fn = hd.vjp(relu, x)
    (downstream,) = vjp_fn(upstream)
    data["vjp"] = downstream.tolist()
    report.say(f"The VJP never builds it: upstream {report.inline(upstream)} -> downstream {report.inline(downstream)}"
               " (the upstream where x > 0, zero elsewhere).")


# ---------------------------------------------------------------------- 4. matrix product

def _matmul(report):
    x = np.array([[2.0, 1.0, -3.0], [-3.0, 4.0, 2.0]])                                   # N x D
    W = np.array([[3.0, 2.0, 1.0, -1.0], [2.0, 1.0, 3.0, 2.0], [3.0, 2.0, 1.0, -2.0]])  # D x M
    dL_dy = np.array([[2.0, 3.0, -3.0, 9.0], [-8.0, 1.0, 4.0, 6.0]])                    # N x M

    def product(x, W):
        return hnp.tensordot(x, W, axes=1)  # y = x W  (N x M)

    report.section("4. Matrix product  y = x W  (x: 2x3, W: 3x4, y: 2x4)")
    y, vjp_fn = hd.vjp(product, x, W)
    dL_dx, dL_dW = vjp_fn(dL_dy)
    shortcut_dx = hnp.tensordot(dL_dy, hnp.transpose(W), axes=1)
    shortcut_dW = hnp.tensordot(hnp.transpose(x), dL_dy, axes=1)
    data = report.data["matmul"] = {"y": y.tolist(), "dL_dx": dL_dx.tolist(), "dL_dW": dL_dW.tolist(),
                                    "shortcut_dx": shortcut_dx.tolist(), "shortcut_dW": shortcut_dW.tolist()}
    report.say(f"y = {report.inline(y)}")
    J = hd.jacobian(product, argnums=0)(x, W)
    contracted = hnp.tensordot(dL_dy, J, axes=([0, 1], [0, 1]))
    data["jacobian_shape"] = list(J.shape)
    data["contracted"] = np.asarray(contracted).tolist()
    report.say(f"dy/dx is 4-D: shape {J.shape} = (N, M, N, D), {J.size} numbers, mostly zeros;")
    report.say(f"contracting it with dL/dy gives dL/dx = {report.inline(contracted)}")
    entries = 64 * 4096 * 64 * 4096
    report.say(f"At the lecture's N = 64, D = M = 4096 it would hold {entries:.3g} numbers "
               f"({entries * 4 / 2**30:.0f} GiB in float32). Backprop never builds it:")
    report.say(f"dL/dx = dL/dy W^T = {report.inline(shortcut_dx)}   (VJP: {report.inline(dL_dx)})")
    report.say(f"dL/dW = x^T dL/dy = {report.inline(shortcut_dW)}   (VJP: {report.inline(dL_dW)})")


# ---------------------------------------------------------------------- 5. higher order

SECOND_ORDER_CAPTION = (
    "The neuron f = 1/(1 + exp(-(w0 x0 + w1 x1 + w2))) and its recorded backward pass\n"
    "Each purple (dashed) node is one operation of a gate's backward rule,\n"
    "recorded as graph nodes so that it can be differentiated again:\n"
    "1/x sends back -upstream/x^2 ('/', '*-1', '*1'); exp sends back upstream * exp ('*');\n"
    "*-1 sends back -upstream (df/dw2: the + gates pass it on unchanged);\n"
    "w0*x0 sends x0 * upstream to w0 (df/dw0) and w0 * upstream to x0 (df/dx0)")


def _higher_order(report, out):
    report.section("5. Higher order: differentiating the backward pass")
    p = LECTURE_POINT
    names = ["w0", "w1", "w2"]
    w = [hd.Variable(p[name], name=name) for name in names]
    # x0 and x1 are Variables too, so the picture keeps their input nodes (as constants they would
    # be folded into the gates' labels, "*-1"); the Hessian below is taken in w only.
    x0, x1 = hd.Variable(p["x0"], name="x0"), hd.Variable(p["x1"], name="x1")
    f = neuron(w[0], x0, w[1], x1, w[2])
    f.name = "f"
    f.backward(create_graph=True)
    report.say("backward(create_graph=True) records the backward pass: the gradients are graph nodes,")
    report.say("so they can be differentiated again. Hessian of the neuron in (w0, w1, w2) at the lecture's point:")
    rows = [np.asarray(hd.grad_of(wi.grad, w), dtype=float) for wi in w]
    H = np.stack(rows)
    report.say(report.fmt(H))
    z = p["w0"] * p["x0"] + p["w1"] * p["x1"] + p["w2"]
    s = float(sigmoid(z))
    inputs = np.array([p["x0"], p["x1"], 1.0])
    formula = s * (1 - s) * (1 - 2 * s) * np.outer(inputs, inputs)
    report.say(f"(= s(1-s)(1-2s) x x^T with x = (x0, x1, 1): max difference {np.max(np.abs(H - formula)):.1e})")
    data = report.data["higher"] = {"hessian_graph": H.tolist()}
    H2 = np.asarray(hd.hessian(lambda wv: neuron(wv[0], p["x0"], wv[1], p["x1"], wv[2]))(
        np.array([p["w0"], p["w1"], p["w2"]])))
    data["hessian"] = H2.tolist()
    report.say(f"hd.hessian agrees: max difference {np.max(np.abs(H2 - H)):.1e}")
    _write_picture(report, out, f, "second_order", page=(7.5, 10), rankdir="TB", title=SECOND_ORDER_CAPTION)
    # Higher derivatives of the sigmoid at the neuron's z = 1, by nesting grad: each grad
    # differentiates the previous backward pass.
    derivs = []
    g = sigmoid
    for _ in range(5):
        g = hd.grad(g)
        derivs.append(float(g(z)))
    closed = [s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s)]
    report.say(f"d^k sigmoid/dz^k at z = {z:g}, k = 1..5, by nesting grad: {', '.join(report.fmt(d) for d in derivs)}")
    report.say(f"(closed forms s(1-s), s(1-s)(1-2s), s(1-s)(1-6s+6s^2): "
               f"{', '.join(report.fmt(c) for c in closed)})")
    data.update(sigmoid_derivatives=derivs, closed_forms=closed)
    taylor = [float(hd.derivative(sigmoid, order=k)(z)) for k in range(1, 6)]
    data["taylor"] = taylor
    report.say(f"hd.derivative (Taylor mode, one pass per order): {', '.join(report.fmt(t) for t in taylor)}")
