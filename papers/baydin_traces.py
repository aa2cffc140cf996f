"""Baydin, Pearlmutter, Radul & Siskind 2018: the evaluation traces of forward and reverse mode.

A. G. Baydin, B. A. Pearlmutter, A. A. Radul and J. M. Siskind, "Automatic
differentiation in machine learning: a survey", Journal of Machine Learning
Research 18(153):1-43, 2018.

Tables 2 and 3 of the survey run y = f(x1, x2) = ln x1 + x1 x2 - sin x2 at
(x1, x2) = (2, 5) as an evaluation trace of elementary operations,
v[-1] = x1, v[0] = x2, v[1] = ln v[-1], v[2] = v[-1] v[0], v[3] = sin v[0],
v[4] = v[1] + v[2], v[5] = v[4] - v[3], y = v[5]:
- Table 2, forward mode: the primal trace (the values v[i]) beside the
  tangent trace (vdot[i] = d v[i] / d x1, seeded with xdot = (1, 0)), which
  ends in dy/dx1 = 5.5;
- Table 3, reverse mode: the same primal trace, then the adjoint trace
  (vbar[i] = d y / d v[i], seeded with ybar = 1) from v[5] back to the inputs,
  each adjoint accumulated edge by edge, which ends in both partial
  derivatives at once: dy/dx1 = 5.5, dy/dx2 = 1.716.
The tables print three decimals; y = 11.652, dy/dx1 = 5.5 and dy/dx2 = 1.716
are the paper's headline numbers (as quoted in issue 17), the intermediate
entries (0.693, -0.959, 10.693, -0.284, ...) its printed values as recalled
here, i.e. the exact values rounded to three decimals.

Where the numbers come from: hd.trace_graph records f's graph (one node per
elementary operation, numbered as the paper numbers them); the primal trace
is the nodes' recorded values; the tangent trace is forward accumulation over
the recorded nodes with each primitive's own JVP rule; the adjoint trace is
hodiff's backward pass over the same graph, read edge by edge (the
contribution each operation sends back to each argument, hodiff.viz.Graph's
edge gradients) in the order the backward pass visits them. Checked: every
entry against the paper's printed value (to its three decimals), y and the
gradient against the closed forms ln x1 + x1 x2 - sin x2, 1/x1 + x2 and
x1 - cos x2 (to 1e-14), the accumulated adjoints against the leaves' .grad,
and the tangent trace's end against hd.jvp and a second tangent pass
(xdot = (0, 1)) against dy/dx2.

Also the survey's finite-difference figure (its Figure 3, as recalled here:
the error of forward and center differences against the step size h for the
truncated logistic map f(x) = 64 x (1 - x) (1 - 2x)^2 (1 - 8x + 8x^2)^2 at
x0 = 0.2), computed with numpy floats for h = 10^-1 .. 10^-15 (full mode:
quarter decades), the exact derivative from the polynomial's coefficients in
rational arithmetic (fractions.Fraction, no floating point). The error of a
forward difference is a V on log-log axes: truncation ~ h |f''| / 2 for
large h, round-off ~ eps |f| / h for small h, least near sqrt(eps) (more
precisely 2 sqrt(eps |f| / |f''|), printed). Checked: the log-log slope is
in [0.8, 1.2] for h in 10^-6..10^-2 and in [-1.4, -0.6] for h in
10^-15..10^-10, and the smallest error is at some h in 10^-9..10^-7; center
differences fall like h^2 (slope in [1.7, 2.3] for h in 10^-5..10^-2) and
reach a smaller error than forward differences; hodiff's derivative (AD, no
step) is within 1e-14 relative of the exact one. `--png FILE` draws the
figure (needs matplotlib; without it the script says so and still checks).
Changed from the paper: nothing in the traces; the figure's grid of h.

    python papers/baydin_traces.py [--quick] [--png baydin_fd.png]
"""

import argparse
import math
import os
import sys
from fractions import Fraction

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402
from papers._claims import claim  # noqa: E402

POINT = (2.0, 5.0)
PRINTED_DIGITS = 3
CLOSED_FORM_RTOL = 1e-14

# The survey's printed numbers (three decimals), in its order.
PAPER_PRIMAL = {"v[-1]": 2.0, "v[0]": 5.0, "v[1]": 0.693, "v[2]": 10.0, "v[3]": -0.959, "v[4]": 10.693,
                "v[5]": 11.652}
PAPER_TANGENT = {"v[-1]": 1.0, "v[0]": 0.0, "v[1]": 0.5, "v[2]": 5.0, "v[3]": 0.0, "v[4]": 5.5, "v[5]": 5.5}
PAPER_ADJOINT = [("v[5]", 1.0), ("v[4]", 1.0), ("v[3]", -1.0), ("v[1]", 1.0), ("v[2]", 1.0), ("v[0]", -0.284),
                 ("v[-1]", 5.0), ("v[0]", 1.716), ("v[-1]", 5.5)]
PAPER_Y, PAPER_GRADIENT = 11.652, (5.5, 1.716)

# The finite-difference figure.
FD_POINT = 0.2
TRUNCATION_WINDOW, TRUNCATION_SLOPE = (1e-6, 1e-2), (0.8, 1.2)
ROUNDOFF_WINDOW, ROUNDOFF_SLOPE = (1e-15, 1e-10), (-1.4, -0.6)
CENTER_WINDOW, CENTER_SLOPE = (1e-5, 1e-2), (1.7, 2.3)
BEST_STEP = (1e-9, 1e-7)
AD_RTOL = 1e-14


# ------------------------------------------------------------------ the traces

def staged(x1, x2):
    """y = ln x1 + x1 x2 - sin x2, one elementary operation per line, named and ordered as in the survey."""
    v = {"v[-1]": x1, "v[0]": x2}
    v["v[1]"] = hnp.log(v["v[-1]"])
    v["v[2]"] = v["v[-1]"] * v["v[0]"]
    v["v[3]"] = hnp.sin(v["v[0]"])
    v["v[4]"] = v["v[1]"] + v["v[2]"]
    v["v[5]"] = v["v[4]"] - v["v[3]"]
    for name, value in v.items():
        if isinstance(value, hd.Variable) and not value.is_leaf:
            value.name = name  # the graph then labels its nodes as the paper does
    return v["v[5]"]


def closed_forms(x1, x2):
    """y, dy/dx1, dy/dx2 by hand: ln x1 + x1 x2 - sin x2, 1/x1 + x2, x1 - cos x2."""
    return math.log(x1) + x1 * x2 - math.sin(x2), 1.0 / x1 + x2, x1 - math.cos(x2)


# How each operation and its derivatives read in the tables (a, b: the operands' names). Text only: the
# numbers come from the recorded graph.
PRIMAL_TEXT = {"log": "ln {a}", "multiply": "{a} x {b}", "sin": "sin {a}", "add": "{a} + {b}",
               "subtract": "{a} - {b}"}
TANGENT_TEXT = {"log": "{da} / {a}", "multiply": "{da} x {b} + {db} x {a}", "sin": "{da} x cos {a}",
                "add": "{da} + {db}", "subtract": "{da} - {db}"}
LOCAL_TEXT = {("log", 0): "(1 / {a})", ("multiply", 0): "{b}", ("multiply", 1): "{a}", ("sin", 0): "cos {a}",
              ("add", 0): "1", ("add", 1): "1", ("subtract", 0): "1", ("subtract", 1): "(-1)"}


def dot(name):
    return name.replace("v[", "vdot[")


def bar(name):
    return name.replace("v[", "vbar[")


def forward_tangents(graph, seeds):
    """Forward accumulation over the recorded nodes: vdot of each node from its primitive's JVP rule."""
    tangents = {}
    for node, seed in zip(graph.inputs, seeds):
        tangents[node.node] = seed
    for node in graph.nodes:
        if node.primitive is None:
            continue
        tangent = 0.0
        for parent, argnum in zip(node.parents, node.argnums):
            rule = node.primitive.jvp_rule(argnum)
            tangent = tangent + rule(tangents[parent], node.ans, *node.args, **(node.params or {}))
        tangents[node] = tangent
    return tangents


def traces(x1, x2):
    """The survey's three traces from hodiff's recorded graph of f at (x1, x2).

    Returns a dict: names (node -> "v[i]"), rows of the primal trace (name, text, value), of the tangent
    trace (name, text, value) with xdot = (1, 0), of the adjoint trace (name, text, accumulated value) in
    the backward pass's order, the gradient (the leaves' .grad), hd.jvp's dy/dx1 and the second tangent
    pass's dy/dx2.
    """
    graph = hd.trace_graph(staged, x1, x2, names=["v[-1]", "v[0]"])
    name = graph.name
    primal, tangent, adjoint = [], [], []
    tangents = forward_tangents(graph, (1.0, 0.0))
    for node in graph.nodes:
        label = name(node)
        if node.primitive is None:
            which = graph.inputs.index(next(v for v in graph.inputs if v.node is node)) + 1
            primal.append((label, f"x{which}", float(graph.value(node))))
            tangent.append((dot(label), f"xdot{which}", float(tangents[node])))
            continue
        operands = [name(parent) for parent in node.parents]
        keys = dict(a=operands[0], b=operands[-1], da=dot(operands[0]), db=dot(operands[-1]))
        primal.append((label, PRIMAL_TEXT[node.primitive.name].format(**keys), float(graph.value(node))))
        tangent.append((dot(label), TANGENT_TEXT[node.primitive.name].format(**keys), float(tangents[node])))

    # The adjoint trace: the backward pass from ybar = 1, each edge's contribution added to its argument's
    # adjoint, operations visited from the output back (reverse topological order).
    output = graph.output_nodes[0]
    accumulated = {output: float(graph.grad(output))}
    adjoint.append((bar(name(output)), "ybar", accumulated[output]))
    edges = {(edge.child, edge.argnum): edge for edge in graph.edges}
    for node in reversed(graph.nodes):
        if node.primitive is None:
            continue
        operands = [name(parent) for parent in node.parents]
        keys = dict(a=operands[0], b=operands[-1])
        for parent, argnum in zip(node.parents, node.argnums):
            contribution = float(edges[(node, argnum)].grad)
            local = LOCAL_TEXT[(node.primitive.name, argnum)].format(**keys)
            term = f"{bar(name(node))} x {local}"
            if parent in accumulated:
                accumulated[parent] += contribution
                text = f"{bar(name(parent))} + {term}"
            else:
                accumulated[parent] = contribution
                text = term
            adjoint.append((bar(name(parent)), text, accumulated[parent]))

    second = forward_tangents(graph, (0.0, 1.0))[output]
    jvp_dx1 = hd.jvp(staged, (x1, x2), (1.0, 0.0))[1]
    return dict(graph=graph, primal=primal, tangent=tangent, adjoint=adjoint,
                gradient=tuple(float(v.grad) for v in graph.inputs),
                final_adjoints={name(node): accumulated[node] for node in accumulated},
                node_grads={name(node): float(graph.grad(node)) for node in graph.nodes},
                jvp_dx1=float(jvp_dx1), tangent_dx2=float(second))


def printed(value):
    """A number as the paper prints it: three decimals, trailing zeros dropped."""
    text = f"{value:.{PRINTED_DIGITS}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def matches_print(value, paper):
    return abs(value - paper) <= 0.5 * 10.0 ** -PRINTED_DIGITS + 1e-12


def check_traces(result, point=POINT):
    """Failures of the traces against the paper's printed numbers and the closed forms."""
    failures = []
    primal = {label: value for label, _, value in result["primal"]}
    for label, paper in PAPER_PRIMAL.items():
        if label not in primal or not matches_print(primal[label], paper):
            failures.append(f"primal trace: {label} = {primal.get(label)!r}, the paper prints {paper:g}")
    tangent = {label: value for label, _, value in result["tangent"]}
    for label, paper in PAPER_TANGENT.items():
        if dot(label) not in tangent or not matches_print(tangent[dot(label)], paper):
            failures.append(f"tangent trace: {dot(label)} = {tangent.get(dot(label))!r}, the paper prints {paper:g}")
    ours = [(label, value) for label, _, value in result["adjoint"]]
    paper_order = [bar(label) for label, _ in PAPER_ADJOINT]
    if [label for label, _ in ours] != paper_order:
        failures.append(f"adjoint trace visits {[label for label, _ in ours]}, the paper {paper_order}")
    for (label, value), (paper_label, paper) in zip(ours, PAPER_ADJOINT):
        if not matches_print(value, paper):
            failures.append(f"adjoint trace: {label} = {value!r}, the paper prints {paper:g} for {bar(paper_label)}")
    for label, value in result["final_adjoints"].items():
        if not math.isclose(value, result["node_grads"][label], rel_tol=1e-15, abs_tol=1e-15):
            failures.append(f"adjoint trace: {bar(label)} accumulates to {value!r}, the backward pass's gradient "
                            f"is {result['node_grads'][label]!r}")

    y_exact, dx1_exact, dx2_exact = closed_forms(*point)
    y = primal.get("v[5]", math.nan)
    dx1, dx2 = result["gradient"]
    checks = [("y", y, y_exact, PAPER_Y), ("dy/dx1 (reverse)", dx1, dx1_exact, PAPER_GRADIENT[0]),
              ("dy/dx2 (reverse)", dx2, dx2_exact, PAPER_GRADIENT[1]),
              ("dy/dx1 (tangent trace)", tangent.get("vdot[5]", math.nan), dx1_exact, PAPER_GRADIENT[0]),
              ("dy/dx1 (hd.jvp)", result["jvp_dx1"], dx1_exact, PAPER_GRADIENT[0]),
              ("dy/dx2 (tangent pass xdot = (0, 1))", result["tangent_dx2"], dx2_exact, PAPER_GRADIENT[1])]
    for label, value, exact, paper in checks:
        if not math.isclose(value, exact, rel_tol=CLOSED_FORM_RTOL):
            failures.append(f"{label} = {value!r}, the closed form gives {exact!r}")
        if not matches_print(value, paper):
            failures.append(f"{label} = {value!r}, the paper prints {paper:g}")
    return failures


def print_tables(result):
    def table(title, headers, left, right):
        print(title)
        widths = [max(len(f"{a} = {b}") for a, b, _ in rows) + 2 for rows in (left, right)]
        print("  " + "    ".join(f"{header:<{width}} {'value':>8}" for header, width in zip(headers, widths)))
        for index in range(max(len(left), len(right))):
            cells = []
            for rows, width in zip((left, right), widths):
                if index < len(rows):
                    label, text, value = rows[index]
                    cells.append(f"{label + ' = ' + text:<{width}} {printed(value):>8}")
                else:
                    cells.append(" " * (width + 9))
            print("  " + "    ".join(cells).rstrip())

    print("y = ln x1 + x1 x2 - sin x2 at (x1, x2) = (2, 5), from hodiff's recorded graph; values to three "
          "decimals as the paper prints them")
    print()
    table("Table 2, forward mode (xdot = (1, 0), so vdot[i] = dv[i]/dx1)", ("primal trace", "tangent trace"),
          result["primal"], result["tangent"])
    y, dx1 = result["primal"][-1][2], result["tangent"][-1][2]
    print(f"  y = v[5] = {printed(y)};  ydot = vdot[5] = dy/dx1 = {printed(dx1)}  "
          f"(a second tangent pass, xdot = (0, 1): dy/dx2 = {printed(result['tangent_dx2'])})")
    print()
    table("Table 3, reverse mode (ybar = 1, so vbar[i] = dy/dv[i]; the adjoint trace runs from v[5] back)",
          ("primal trace", "adjoint trace"), result["primal"], result["adjoint"])
    dx1, dx2 = result["gradient"]
    print(f"  xbar1 = vbar[-1] = dy/dx1 = {printed(dx1)};  xbar2 = vbar[0] = dy/dx2 = {printed(dx2)}  "
          "(one backward pass, both partials)")
    y_exact, dx1_exact, dx2_exact = closed_forms(*POINT)
    print(f"  hodiff, full precision: y = {y:.15g}, dy/dx1 = {dx1:.15g}, dy/dx2 = {dx2:.15g}")
    print(f"  closed forms:           ln 2 + 10 - sin 5 = {y_exact:.15g}, 1/x1 + x2 = {dx1_exact:.15g}, "
          f"x1 - cos x2 = {dx2_exact:.15g}")


# ------------------------------------------------------------------ the finite-difference figure

def logistic_polynomial():
    """Coefficients (Fractions, lowest degree first) of 64 x (1 - x) (1 - 2x)^2 (1 - 8x + 8x^2)^2."""
    def multiply(a, b):
        out = [Fraction(0)] * (len(a) + len(b) - 1)
        for i, p in enumerate(a):
            for j, q in enumerate(b):
                out[i + j] += p * q
        return out

    coefficients = [Fraction(64)]
    for factor in ([0, 1], [1, -1], [1, -2], [1, -2], [1, -8, 8], [1, -8, 8]):
        coefficients = multiply(coefficients, [Fraction(c) for c in factor])
    return coefficients


def evaluate(coefficients, x):
    total = Fraction(0)
    for c in reversed(coefficients):
        total = total * x + c
    return total


def exact_derivatives(x0):
    """f(x0), f'(x0), f''(x0) in exact rational arithmetic at the double x0, rounded once to floats."""
    coefficients = logistic_polynomial()
    first = [k * c for k, c in enumerate(coefficients)][1:]
    second = [k * c for k, c in enumerate(first)][1:]
    x = Fraction(x0)
    return tuple(float(evaluate(c, x)) for c in (coefficients, first, second))


def logistic(x):
    """The truncated logistic map, in floating point (numpy arrays or hodiff values)."""
    return 64 * x * (1 - x) * (1 - 2 * x) ** 2 * (1 - 8 * x + 8 * x ** 2) ** 2


def differences(steps, x0=FD_POINT):
    """Absolute errors of forward and center differences at each step h, and hodiff's relative error."""
    _, exact, _ = exact_derivatives(x0)
    h = np.asarray(steps, dtype=float)
    x = np.float64(x0)
    forward = np.abs((logistic(x + h) - logistic(x)) / h - exact)
    center = np.abs((logistic(x + h) - logistic(x - h)) / (2 * h) - exact)
    ad = float(hd.grad(logistic)(x0))
    return dict(h=h, forward=forward, center=center, exact=exact, ad=ad, ad_error=abs(ad - exact) / abs(exact))


def window_slope(h, error, window):
    """Least-squares slope of log10(error) against log10(h) over h in the window (inclusive)."""
    low, high = window
    inside = (h >= low * (1 - 1e-9)) & (h <= high * (1 + 1e-9)) & (error > 0)
    if inside.sum() < 2:
        return math.nan
    return float(np.polyfit(np.log10(h[inside]), np.log10(error[inside]), 1)[0])


def fd_summary(result):
    h, forward, center = result["h"], result["forward"], result["center"]
    return dict(truncation=window_slope(h, forward, TRUNCATION_WINDOW),
                roundoff=window_slope(h, forward, ROUNDOFF_WINDOW),
                center=window_slope(h, center, CENTER_WINDOW),
                best_step=float(h[np.argmin(forward)]), best_forward=float(forward.min()),
                best_center_step=float(h[np.argmin(center)]), best_center=float(center.min()),
                ad_error=result["ad_error"])


def check_differences(summary):
    """Failures of the V shape: slopes ~ +1 and ~ -1 on its two sides, the minimum near sqrt(eps)."""
    failures = []
    for key, window, (low, high), what in (
            ("truncation", TRUNCATION_WINDOW, TRUNCATION_SLOPE, "forward differences, truncation side"),
            ("roundoff", ROUNDOFF_WINDOW, ROUNDOFF_SLOPE, "forward differences, round-off side"),
            ("center", CENTER_WINDOW, CENTER_SLOPE, "center differences, truncation side")):
        slope = summary[key]
        if not low <= slope <= high:
            failures.append(f"{what}: log-log slope {slope:.2f} for h in {window[0]:g}..{window[1]:g}, "
                            f"not in [{low}, {high}]")
    low, high = BEST_STEP
    if not low * (1 - 1e-9) <= summary["best_step"] <= high * (1 + 1e-9):
        failures.append(f"forward differences are best at h = {summary['best_step']:.1e}, not in "
                        f"{low:g}..{high:g} (sqrt(eps) = {math.sqrt(np.finfo(float).eps):.1e})")
    if not summary["best_center"] < summary["best_forward"]:
        failures.append(f"center differences' best error {summary['best_center']:.1e} is not below forward "
                        f"differences' {summary['best_forward']:.1e}")
    if not summary["ad_error"] <= AD_RTOL:
        failures.append(f"hodiff's derivative is off by {summary['ad_error']:.1e} relative (> {AD_RTOL:g})")
    return failures


def print_differences(result, summary):
    eps = np.finfo(float).eps
    value, exact, second = exact_derivatives(FD_POINT)
    print(f"Finite differences of f(x) = 64x(1-x)(1-2x)^2(1-8x+8x^2)^2 at x0 = {FD_POINT}: "
          f"f'(x0) = {exact:.15g} (exact, rational arithmetic)")
    print(f"{'h':>9} {'forward error':>14} {'center error':>13}")
    for h, forward, center in zip(result["h"], result["forward"], result["center"]):
        print(f"{h:>9.2e} {forward:>14.3e} {center:>13.3e}")
    print(f"forward: slope {summary['truncation']:+.2f} for h in {TRUNCATION_WINDOW[0]:g}..{TRUNCATION_WINDOW[1]:g}"
          f" (truncation, theory +1), {summary['roundoff']:+.2f} for h in {ROUNDOFF_WINDOW[0]:g}.."
          f"{ROUNDOFF_WINDOW[1]:g} (round-off, theory -1); best h = {summary['best_step']:.1e} "
          f"(error {summary['best_forward']:.1e}; sqrt(eps) = {math.sqrt(eps):.1e}, "
          f"2 sqrt(eps |f| / |f''|) = {2 * math.sqrt(eps * abs(value) / abs(second)):.1e})")
    print(f"center:  slope {summary['center']:+.2f} for h in {CENTER_WINDOW[0]:g}..{CENTER_WINDOW[1]:g} "
          f"(theory +2); best h = {summary['best_center_step']:.1e} (error {summary['best_center']:.1e})")
    print(f"hodiff (hd.grad, no step): {result['ad']:.15g}, relative error {summary['ad_error']:.1e}")


def save_png(path, result, summary):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(matplotlib is not installed: {path} not written; pip install matplotlib)")
        return
    eps = np.finfo(float).eps
    h = result["h"]
    figure, axis = plt.subplots(figsize=(6, 4.5))
    axis.loglog(h, result["forward"], "o-", label=f"forward difference (slopes {summary['truncation']:+.2f}, "
                                                  f"{summary['roundoff']:+.2f})")
    axis.loglog(h, result["center"], "s-", label=f"center difference (slope {summary['center']:+.2f})")
    ad = summary["ad_error"] * abs(result["exact"])
    label = f"hodiff (AD), no step: error {ad:.1e}" + (" (drawn at 1e-17)" if ad < 1e-17 else "")
    axis.axhline(max(ad, 1e-17), color="k", linestyle=":", label=label)
    axis.axvline(math.sqrt(eps), color="grey", linestyle="--", linewidth=0.8, label="h = sqrt(eps)")
    axis.set_xlabel("step size h")
    axis.set_ylabel("absolute error of f'(0.2)")
    axis.set_title("Finite differences: truncation against round-off\n(after Baydin et al. 2018's figure)", fontsize=10)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the figure at whole decades of h only")
    parser.add_argument("--png", help="also plot the finite-difference errors to this file (needs matplotlib)")
    args = parser.parse_args(argv)

    result = traces(*POINT)
    print_tables(result)
    failures = check_traces(result)

    step = 1.0 if args.quick else 0.25
    fd = differences(10.0 ** -np.arange(1.0, 15.0 + 1e-9, step))
    summary = fd_summary(fd)
    print()
    print_differences(fd, summary)
    if args.png:
        save_png(args.png, fd, summary)
    failures += check_differences(summary)

    source = "Baydin et al. 2018, Tables 2 and 3"
    claim("y at (2, 5)", PAPER_Y, printed(result["primal"][-1][2]), source)
    claim("dy/dx1 (forward, Table 2; reverse, Table 3)", PAPER_GRADIENT[0], printed(result["gradient"][0]), source)
    claim("dy/dx2 (reverse, Table 3)", PAPER_GRADIENT[1], printed(result["gradient"][1]), source)
    claim("forward differences' truncation slope (Fig. 3)", "error ~ h (slope 1)",
          f"{summary['truncation']:+.2f}", "Baydin et al. 2018, Figure 3 (as the script recalls it)")

    if failures:
        sys.exit("baydin_traces.py: CLAIM NOT REPRODUCED\n  " + "\n  ".join(failures))
    dx1, dx2 = result["gradient"]
    print(f"\nReproduced: Tables 2 and 3 entry by entry (y = {printed(result['primal'][-1][2])}, dy/dx1 = "
          f"{printed(dx1)}, dy/dx2 = {printed(dx2)}, as printed); forward differences' error slopes "
          f"{summary['truncation']:+.2f} / {summary['roundoff']:+.2f}, least at h = {summary['best_step']:.0e}.")


if __name__ == "__main__":
    main()
