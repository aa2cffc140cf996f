"""The lecture's sigmoid neuron, worked by hodiff: every node's value and gradient, and its picture.

    f(w0, x0, w1, x1, w2) = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2)))   at (2, -1, -3, -2, -3)

The sigmoid is staged into the lecture's gates *-1, exp, +1, 1/x; backprop
through them gives the same 0.2 = (1 - 0.73) * 0.73 as the sigmoid's shortcut.

    python examples/lecture_sigmoid_neuron.py [--out neuron.svg]
"""

import argparse

import hodiff as hd
import hodiff.numpy as hnp


def neuron(w0, x0, w1, x1, w2):
    z = w0 * x0 + w1 * x1 + w2
    return 1.0 / (1.0 + hnp.exp(-z))   # gates: *-1, exp, +1, 1/x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="neuron.svg", help="picture (.svg/.png need Graphviz; .dot always works)")
    parser.add_argument("--quick", action="store_true", help="(already quick)")
    args = parser.parse_args()

    graph = hd.trace_graph(neuron, 2.0, -1.0, -3.0, -2.0, -3.0)
    print(graph.to_table())
    print("\ngradient:", ", ".join(f"df/d{v.name} = {float(v.grad):.4f}" for v in graph.inputs))

    print("\nupstream x local = downstream, gate by gate (from the output back):")
    for edge in sorted(graph.edges, key=lambda e: -e.child.seq):
        print(f"  {graph.op_label(edge.child):>4} <- {graph.name(edge.parent):3}  "
              f"{float(edge.upstream):8.4f} x {float(edge.local):8.4f} = {float(edge.grad):8.4f}")

    s = float(graph.output.value)
    print(f"\nsigmoid shortcut: (1 - s) s = (1 - {s:.4f}) * {s:.4f} = {(1 - s) * s:.4f} = df/dw2")

    try:
        path = hd.render(graph, args.out, show_local=True)
    except RuntimeError as error:   # no Graphviz: write the DOT text instead
        print(f"({error})")
        path = hd.render(graph, args.out.rsplit(".", 1)[0] + ".dot", show_local=True)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
