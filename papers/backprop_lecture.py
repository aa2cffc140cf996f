"""The backpropagation lecture: staged gates, gate patterns and the matrix-product shortcut.

D. E. Rumelhart, G. E. Hinton and R. J. Williams, "Learning representations
by back-propagating errors", Nature 323:533-536, 1986. A. Karpathy, CS231n
course notes "Backpropagation, Intuitions" (Stanford); J. Johnson,
"Derivatives, Backpropagation, and Vectorization" (CS231n handout, 2017).

Claims, each worked in the notes by hand and checked here against hodiff:
1. the sigmoid neuron f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at w = (2, -3, -3),
   x = (-1, -2): f = 0.73, dw = (-0.20, -0.39, 0.20), dx = (0.39, -0.59); staging
   it into the gates *-1, exp, +1, 1/x, every edge of hodiff's recorded graph
   has the lecture's local gradient (-1, e^a, 1, -1/a^2; the other input for
   *) and downstream = upstream x local, and the sigmoid's shortcut
   (1 - f) f gives the same gradient as the four gates;
2. the notes' staged example f(x, y) = (x + s(y)) / (s(x) + (x + y)^2) at
   (3, -4), s the sigmoid: their hand-written forward/backward pass (written
   out below) equals hd.grad;
3. gate patterns on 2 (x y + max(z, w)) at (3, -4, 2, -1): add distributes,
   multiply swaps, max routes: gradients (-8, 6, 2, 0);
4. y = x W with x (N, D), W (D, M): the 4-D Jacobian dy/dx, built by
   hd.jacobian in the numerator layout (N, M, N, D) and the denominator layout
   (N, D, N, M), related by hd.convert_layout, contracted with dL/dy gives the
   shortcut dL/dx = dL/dy W^T (and dL/dW = x^T dL/dy), which is hodiff's VJP.

    python papers/backprop_lecture.py [--quick]
"""

import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from papers._claims import claim  # noqa: E402

NOTES_NEURON = dict(f=0.73, dw=(-0.20, -0.39, 0.20), dx=(0.39, -0.59))  # the notes' numbers, 2 decimals
NOTES_GATES = (-8.0, 6.0, 2.0, 0.0)


def neuron(w0, x0, w1, x1, w2):
    z = w0 * x0 + w1 * x1 + w2
    return 1.0 / (1.0 + hnp.exp(-z))  # the gates *-1, exp, +1, 1/x


def sigmoid(v):
    return 1.0 / (1.0 + hnp.exp(-v))


def staged(x, y):
    return (x + sigmoid(y)) / (sigmoid(x) + (x + y) ** 2)


def staged_by_hand(x, y):
    """The notes' forward pass in stages, then backprop through each stage in reverse (plain floats)."""
    sigy = 1.0 / (1.0 + math.exp(-y))
    num = x + sigy
    sigx = 1.0 / (1.0 + math.exp(-x))
    xpy = x + y
    xpysqr = xpy ** 2
    den = sigx + xpysqr
    invden = 1.0 / den
    f = num * invden
    dnum = invden
    dinvden = num
    dden = (-1.0 / den ** 2) * dinvden
    dsigx = dden
    dxpysqr = dden
    dxpy = 2 * xpy * dxpysqr
    dx = dxpy
    dy = dxpy
    dx += (1 - sigx) * sigx * dsigx
    dx += dnum
    dsigy = dnum
    dy += (1 - sigy) * sigy * dsigy
    return f, (dx, dy)


def gates(x, y, z, w):
    return 2.0 * (x * y + hnp.maximum(z, w))


# The local gradient of each gate, as the lecture tabulates it (a: the gate's input value).
GATE_LOCALS = {"*-1": lambda a: -1.0, "exp": math.exp, "+1": lambda a: 1.0, "1/x": lambda a: -1.0 / a ** 2,
               "+": lambda a: 1.0}


def lecture_local(graph, edge):
    """d child / d parent by the lecture's table; a multiply gate's local gradient is the other input."""
    label = graph.op_label(edge.child)
    if label == "*":
        (other,) = [e.parent for e in graph.edges if e.child is edge.child and e is not edge]
        return float(graph.value(other))
    return GATE_LOCALS[label](float(graph.value(edge.parent)))


def check_neuron(f, dw, dx, edges_ok):
    failures = []
    if round(f, 2) != NOTES_NEURON["f"]:
        failures.append(f"neuron: f = {f:.4f}, the notes say {NOTES_NEURON['f']}")
    for name, got, notes in (("dw", dw, NOTES_NEURON["dw"]), ("dx", dx, NOTES_NEURON["dx"])):
        if tuple(round(float(g), 2) for g in got) != notes:
            failures.append(f"neuron: {name} = {np.round(got, 4).tolist()}, the notes say {list(notes)}")
    if not edges_ok:
        failures.append("neuron: some edge of the recorded graph has a local gradient other than the lecture's, "
                        "or downstream != upstream x local")
    return failures


def check_close(name, got, want, rtol=1e-12):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=rtol):
        show = lambda a: a.tolist() if a.size < 8 else f"array of shape {a.shape}"
        return [f"{name}: {show(got)} != {show(want)}"]
    return []


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N, D, M = 2, 3, 4 for the matrix product")
    args = parser.parse_args(argv)
    n, d, m = (2, 3, 4) if args.quick else (8, 16, 12)
    failures = []

    # 1. The neuron, gate by gate.
    graph = hd.trace_graph(neuron, 2.0, -1.0, -3.0, -2.0, -3.0)
    grads = {v.name: float(v.grad) for v in graph.inputs}
    f = float(graph.output.value)
    edges_ok = all(edge.local_kind == "scalar" and np.isclose(edge.grad, edge.upstream * edge.local, rtol=1e-14)
                   and np.isclose(edge.local, lecture_local(graph, edge), rtol=1e-14) for edge in graph.edges)
    dw = (grads["w0"], grads["w1"], grads["w2"])
    dx = (grads["x0"], grads["x1"])
    failures += check_neuron(f, dw, dx, edges_ok)
    shortcut = (1 - f) * f
    failures += check_close("neuron: (1 - f) f vs the gates' df/dw2", shortcut, grads["w2"])
    print("1. sigmoid neuron at w = (2, -3, -3), x = (-1, -2)")
    print(f"   f = {f:.4f} (notes 0.73); dw = {np.round(dw, 4).tolist()} (notes {list(NOTES_NEURON['dw'])}); "
          f"dx = {np.round(dx, 4).tolist()} (notes {list(NOTES_NEURON['dx'])})")
    print(f"   {len(graph.edges)} edges, each with the lecture's local gradient and downstream = upstream x local; "
          f"sigmoid shortcut (1 - f) f = "
          f"{shortcut:.4f} = df/dw2")

    # 2. The notes' staged forward/backward code against hd.grad.
    value, by_hand = staged_by_hand(3.0, -4.0)
    by_hodiff = hd.grad(staged, argnums=(0, 1))(3.0, -4.0)
    failures += check_close("staged example: value", float(staged(3.0, -4.0)), value)
    failures += check_close("staged example: gradient by hand vs hd.grad", by_hodiff, by_hand)
    print(f"2. (x + s(y)) / (s(x) + (x + y)^2) at (3, -4): f = {value:.6f}; staged backprop by hand "
          f"{np.round(by_hand, 6).tolist()}, hd.grad {np.round(np.array(by_hodiff, dtype=float), 6).tolist()}")

    # 3. Gate patterns.
    got = hd.grad(gates, argnums=(0, 1, 2, 3))(3.0, -4.0, 2.0, -1.0)
    failures += check_close("gate patterns", got, NOTES_GATES)
    print(f"3. 2 (x y + max(z, w)) at (3, -4, 2, -1): gradients {[float(g) for g in got]} "
          f"(add distributes, multiply swaps, max routes)")

    # 4. The matrix product: 4-D Jacobians in both layouts against the shortcut.
    rng = np.random.default_rng(0)
    x, W, dL_dy = rng.standard_normal((n, d)), rng.standard_normal((d, m)), rng.standard_normal((n, m))
    product = lambda x, W: hnp.matmul(x, W)
    J_num = hd.jacobian(product, argnums=0)(x, W)
    J_den = hd.jacobian(product, argnums=0, layout="denominator")(x, W)
    JW_num = hd.jacobian(product, argnums=1)(x, W)
    failures += check_close("layouts: shapes", [J_num.shape, J_den.shape], [(n, m, n, d), (n, d, n, m)])
    failures += check_close("layouts: convert_layout(numerator) == denominator",
                            hd.convert_layout(J_num, (n, d), (n, m), "numerator", "denominator"), J_den)
    failures += check_close("layouts: the local Jacobian is delta(n, i) W[d, m]",
                            J_num, np.einsum("ni,dm->nmid", np.eye(n), W))
    _, vjp_fn = hd.vjp(product, x, W)
    dL_dx, dL_dW = vjp_fn(dL_dy)
    failures += check_close("dL/dx: numerator contraction vs dL/dy W^T",
                            np.tensordot(dL_dy, J_num, axes=2), dL_dy @ W.T)
    failures += check_close("dL/dx: denominator contraction vs dL/dy W^T",
                            np.tensordot(J_den, dL_dy, axes=2), dL_dy @ W.T)
    failures += check_close("dL/dx: VJP vs dL/dy W^T", dL_dx, dL_dy @ W.T)
    failures += check_close("dL/dW: numerator contraction vs x^T dL/dy",
                            np.tensordot(dL_dy, JW_num, axes=2), x.T @ dL_dy)
    failures += check_close("dL/dW: VJP vs x^T dL/dy", dL_dW, x.T @ dL_dy)
    print(f"4. y = x W, x {x.shape}, W {W.shape}: dy/dx is {J_num.shape} (numerator) / {J_den.shape} (denominator), "
          f"{J_num.size} entries, {np.count_nonzero(J_num)} non-zero;")
    print(f"   both contract with dL/dy to dL/dy W^T (max difference "
          f"{np.abs(np.tensordot(J_den, dL_dy, axes=2) - dL_dy @ W.T).max():.1e}), which the VJP computes "
          f"without the Jacobian; dL/dW = x^T dL/dy likewise")

    source = "Karpathy, CS231n notes \"Backpropagation, Intuitions\""
    claim("sigmoid neuron f", NOTES_NEURON["f"], f"{f:.2f}", source)
    claim("sigmoid neuron dw", list(NOTES_NEURON["dw"]), [round(g, 2) for g in dw], source)
    claim("sigmoid neuron dx", list(NOTES_NEURON["dx"]), [round(g, 2) for g in dx], source)
    claim("gate patterns: grad of 2 (x y + max(z, w)) at (3, -4, 2, -1)", list(NOTES_GATES),
          [float(g) for g in got], source)
    claim("dL/dx of y = x W", "dL/dy W^T (Johnson, CS231n handout 2017)",
          f"VJP and both Jacobian layouts equal dL/dy W^T (max difference "
          f"{np.abs(np.tensordot(J_den, dL_dy, axes=2) - dL_dy @ W.T).max():.1e})", "Johnson 2017, CS231n handout")
    if failures:
        sys.exit("backprop_lecture.py: CLAIM NOT REPRODUCED\n  " + "\n  ".join(failures))
    print("Reproduced: the lecture's numbers and shortcuts.")


if __name__ == "__main__":
    main()
