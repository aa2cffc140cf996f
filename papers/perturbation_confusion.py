"""Siskind & Pearlmutter: nested derivatives without perturbation confusion.

J. M. Siskind and B. A. Pearlmutter, "Perturbation confusion and referential
transparency: correct functional implementation of forward-mode AD", IFL 2005;
"Nesting forward-mode AD in a functional framework", Higher-Order and Symbolic
Computation 21(4):361-376, 2008. O. Manzyuk, B. A. Pearlmutter, A. A. Radul,
D. R. Rush and J. M. Siskind, "Perturbation confusion in forward automatic
differentiation of higher-order functions", J. Functional Programming 29, 2019.

Claim: a derivative operator D nests correctly only if every invocation of D
has its own perturbation (its own tag, or level): then

    D(x -> x * D(y -> x + y)(1))(1) = 1,

while an implementation whose perturbations are all alike computes 2 (the
inner D sees the outer perturbation of x as its own). hodiff gives every
transform call (jvp, grad, ...) a fresh level, and every hand-made hd.Dual a
fresh perturbation, inner to those made before it, so even the naive
operator D(f)(x) = f(hd.Dual(x, 1.0)).tangent nests correctly.

The script computes six nested examples through every combination of
operators: forward over forward (jvp), reverse over reverse (grad), both
mixes, raw hd.Duals with the naive D above, hd.Duals on an hd.Perturbation
made per invocation (the operator that is right even when f ignores x), and
the graph API (Variables, grad_of with create_graph=True). Each must equal its
closed form to 1e-12. A last column puts every invocation's Dual on one
shared hd.Perturbation, the confused implementation: on the examples whose
inner point is a constant it must reproduce the confusion (the paper's 2 for
the first), showing the examples do detect it.

  E1  d/dx [x * d/dy (x + y) at y=1]                          = 1      (the paper's example)
  E2  d/dx [x * d/dy (x * y) at y=2]                          = 2x
  E3  d/dx [d/dy exp(x y) at y=1]                             = (1 + x) e^x
  E4  d/dx [x * d/dy [y * d/dz (x + y + z) at z=1] at y=1]    = 1      (three levels)
  E5  C(C(sin))(x), C(f)(x) = D(u -> f(x + u))(0), after Manzyuk et al.'s shift
      example s(u)(f)(x) = f(x + u)                                  = -sin x
      This is an ordinary nested derivative of scalar functions (sin''(x)): the shift is
      eta-expanded, x fixed before D is called, so D is never applied to a function whose
      value is a function. It does NOT reproduce the 2019 paper's function-valued case
      (D(s)(0) applied later, which fails in systems that capture tags at application).
  E6  d/dtheta argmin_x [(x - theta)^2/2 + x^4/4] by Newton steps that themselves
      call D twice (an optimizer inside a derivative, the HOSC paper's use) = 1/(1 + 3 x*^2)

    python papers/perturbation_confusion.py [--quick]
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

TOLERANCE = 1e-12


# ------------------------------------------------------------- derivative operators D(f)(x) = f'(x)

def jvp_D(f):
    return lambda x: hd.jvp(f, (x,), (1.0,))[1]


def grad_D(f):
    return hd.grad(f)


def raw_dual_D(f):
    """The naive operator on raw Duals: each hd.Dual is a fresh perturbation, inner to earlier ones."""
    return lambda x: f(hd.Dual(x, 1.0)).tangent


def dual_D(f):
    """A perturbation per invocation, as Siskind & Pearlmutter prescribe; eps.tangent reads its own part."""
    def df(x):
        eps = hd.Perturbation()
        return eps.tangent(f(hd.Dual(x, 1.0, tag=eps)))  # (zero when f ignores x)
    return df


SHARED = hd.Perturbation()


def shared_D(f):
    """Every invocation on one shared perturbation: the confused implementation of the 2005 paper."""
    return lambda x: SHARED.tangent(f(hd.Dual(x, 1.0, tag=SHARED)))


untagged_D = shared_D  # (the name earlier versions of this script gave the confused operator)


def graph_D(f):
    """The graph API: differentiate with respect to a fresh graph node (a leaf, or a copy of a traced x)."""
    def df(x):
        node = x * 1.0 if isinstance(x, hd.Variable) else hd.Variable(x)
        return hd.grad_of(f(node), [node], create_graph=True)[0]
    return df


# ------------------------------------------------------------- the examples, as functions of (outer D, inner D)

def shift(u):
    return lambda f: lambda x: f(x + u)


def newton_argmin(theta, D, steps):
    objective = lambda x: (x - theta) ** 2 / 2 + x ** 4 / 4
    first, second = D(objective), D(D(objective))
    x = theta * 1.0
    for _ in range(steps):
        x = x - first(x) / second(x)
    return x


def argmin_closed(theta):
    """x* with x*^3 + x* - theta = 0 (the stationarity condition), and dx*/dtheta = 1/(1 + 3 x*^2)."""
    roots = np.roots([1.0, 0.0, 1.0, -theta])
    x = float(roots[np.argmin(np.abs(roots.imag))].real)
    return 1.0 / (1.0 + 3.0 * x * x)


EXAMPLES = {
    "E1": (lambda Do, Di, x: Do(lambda x: x * Di(lambda y: x + y)(1.0))(x), lambda x: 1.0),
    "E2": (lambda Do, Di, x: Do(lambda x: x * Di(lambda y: x * y)(2.0))(x), lambda x: 2.0 * x),
    "E3": (lambda Do, Di, x: Do(lambda x: Di(lambda y: hnp.exp(x * y))(1.0))(x), lambda x: (1 + x) * math.exp(x)),
    "E4": (lambda Do, Di, x: Do(lambda x: x * Di(lambda y: y * Di(lambda z: x + y + z)(1.0))(1.0))(x),
           lambda x: 1.0),
    "E5": (lambda Do, Di, x: (lambda C_out, C_in: C_out(C_in(hnp.sin))(x))(
        lambda f: lambda x: Do(lambda u: shift(u)(f)(x))(0.0),
        lambda f: lambda x: Di(lambda u: shift(u)(f)(x))(0.0)), lambda x: -math.sin(x)),
    "E6": (lambda Do, Di, x: Do(lambda theta: newton_argmin(theta, Di, steps=25))(x), argmin_closed),
}
# Examples whose inner derivative is taken at a constant point: one shared perturbation must confuse them.
CONFUSABLE = ("E1", "E2", "E3", "E4", "E5")
PAPER_CONFUSED_E1 = 2.0  # what an implementation with one perturbation returns for E1 (at every x: d/dx [2 x])

MODES = {
    "jvp.jvp": (jvp_D, jvp_D),
    "grad.grad": (grad_D, grad_D),
    "jvp.grad": (jvp_D, grad_D),
    "grad.jvp": (grad_D, jvp_D),
    "raw Dual": (raw_dual_D, raw_dual_D),
    "Perturbation": (dual_D, dual_D),
    "graph API": (graph_D, graph_D),
}


def as_float(value):
    return float(value.value if isinstance(value, hd.Variable) else value)


def check(results, expected, untagged):
    """results[example][mode] and untagged[example] are numbers; expected[example] the closed form."""
    failures = []
    for example, row in results.items():
        want = expected[example]
        for mode, value in row.items():
            if not abs(value - want) <= TOLERANCE * max(1.0, abs(want)):
                failures.append(f"{example} via {mode}: {value!r}, expected {want!r} (perturbation confusion?)")
    for example in CONFUSABLE:
        if example in untagged and abs(untagged[example] - expected[example]) < 1e-6:
            failures.append(f"{example}: one shared perturbation gave the right answer {untagged[example]!r}; "
                            "the example no longer demonstrates confusion")
    if "E1" in untagged and untagged["E1"] != PAPER_CONFUSED_E1:
        failures.append(f"E1: one shared perturbation gave {untagged['E1']!r}, "
                        f"not the paper's confused {PAPER_CONFUSED_E1}")
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only at the paper's point x = 1")
    args = parser.parse_args(argv)
    points = [1.0] if args.quick else [1.0, 0.3, -0.8, 1.7, 2.5]

    failures = []
    for x in points:
        results, expected, untagged = {}, {}, {}
        for name, (example, closed) in EXAMPLES.items():
            expected[name] = closed(x)
            results[name] = {mode: as_float(example(Do, Di, x)) for mode, (Do, Di) in MODES.items()}
            if name in CONFUSABLE:
                untagged[name] = as_float(example(shared_D, shared_D, x))
        failures += [f"x={x}: {message}" for message in check(results, expected, untagged)]

        if x == points[0]:
            first = dict(results=results, untagged=untagged)
            print(f"Nested derivatives at x = {x}: every mode against the closed form")
            print(f"{'':4} {'closed form':>12} " + " ".join(f"{mode:>12}" for mode in MODES) + f" {'shared eps':>12}")
            for name in EXAMPLES:
                confused = f"{untagged[name]:>12.6g}" if name in untagged else f"{'-':>12}"
                print(f"{name:4} {expected[name]:>12.6g} "
                      + " ".join(f"{results[name][mode]:>12.6g}" for mode in MODES) + f" {confused}")
            print("(jvp.grad: jvp outside, grad inside; raw Dual: D(f)(x) = f(hd.Dual(x, 1.0)).tangent; "
                  "shared eps: every D's Dual on one hd.Perturbation, the confused implementation)")
    if len(points) > 1:
        print(f"\nAlso checked at x = {', '.join(f'{x:g}' for x in points[1:])}.")

    source = "Siskind & Pearlmutter, IFL 2005 / HOSC 2008"
    e1 = sorted({f"{value:g}" for value in first["results"]["E1"].values()})
    claim("E1 = D(x -> x * D(y -> x + y)(1))(1), tagged perturbations", "1",
          f"{' / '.join(e1)} in all {len(MODES)} modes", source)
    claim("E1 with one shared perturbation (confused)", f"{PAPER_CONFUSED_E1:g}",
          f"{first['untagged']['E1']:g}", source)
    if failures:
        sys.exit("perturbation_confusion.py: CLAIM NOT REPRODUCED\n  " + "\n  ".join(failures))
    print(f"Reproduced: {len(EXAMPLES)} nested examples x {len(MODES)} modes exact (<= {TOLERANCE:g}); "
          f"one shared perturbation confuses E1 to {PAPER_CONFUSED_E1:g} as the paper says.")


if __name__ == "__main__":
    main()
