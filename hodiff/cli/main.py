"""``hodiff`` (and ``python -m hodiff``): derivatives of expressions from the command line.

    hodiff demo                                   the lecture's worked examples, end to end
    hodiff grad "sigmoid(w0*x0 + w1*x1 + w2)" --at w0=2 x0=-1 w1=-3 x1=-2 w2=-3
    hodiff jacobian "relu(x)" --at "x=[1,-2,3,-1]" --layout both
    hodiff hessian "x**2*y + y**3" --at x=1 y=2
    hodiff derivative "sin(x)*exp(-x**2/2)" --at x=0.7 --order 8
    hodiff laplacian "x0**2*x1**3 + sin(x2)" --at x0=1 x1=2 x2=0.5 [--method stochastic --samples 1000]
    hodiff check "tanh(x*y)" --at x=0.5 y=2
    hodiff graph "sigmoid(w0*x0 + w1*x1 + w2)" --at w0=2 x0=-1 w1=-3 x1=-2 w2=-3 -o neuron.svg

Every error is one line on stderr and a non-zero exit status (2: bad input;
1: this installation cannot do it, or a check failed); never a traceback
(set HODIFF_TRACEBACK=1 to see one for an internal error).
"""

import argparse
import json
import os
import sys

from .commands import COMMANDS, LAPLACIAN_SAMPLES, MAX_CROSS_CHECK, CLIError

__all__ = ["main", "build_parser"]

EXPRESSION_HELP = ("an expression in the variables, e.g. 'sigmoid(w0*x0 + w1*x1 + w2)': numbers, + - * / ** @, "
                   "comparisons, x[0], [a, b], and hodiff functions (exp, log, sin, tanh, sum, mean, dot, "
                   "sigmoid, relu, softmax, ...)")
AT_HELP = "the point: name=number or name=[list] (JSON), e.g. --at w0=2 \"x=[1,-2,3,-1]\""


class _Parser(argparse.ArgumentParser):
    """argparse, with errors on one line (usage is one --help away)."""

    def error(self, message):
        hint = ""
        if "required: expression" in message:
            hint = " (the expression goes right after the command, before --at)"
        raise CLIError(f"{self.prog}: error: {message}{hint}; see '{self.prog} --help'")


def _at_least_one(text):
    """argparse type: an integer >= 1 (a count of nodes)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser():
    parser = _Parser(prog="hodiff", description="Derivatives of expressions with hodiff, and the backprop "
                                                "lecture's worked examples (hodiff demo).")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"hodiff {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    common = _Parser(add_help=False)
    common.add_argument("expression", help=EXPRESSION_HELP)
    common.add_argument("--at", nargs="*", default=[], metavar="NAME=VALUE", help=AT_HELP)
    common.add_argument("--wrt", metavar="NAMES", help="differentiate only these variables (comma separated); "
                                                       "the others are constants")
    common.add_argument("--json", action="store_true", help="print JSON for machines")
    common.add_argument("--precision", type=int, default=6, help="significant digits printed (default 6)")

    commands.add_parser("grad", parents=[common], help="value and gradient of a scalar expression",
                        description="The value and gradient of a scalar expression (reverse mode).")
    jacobian = commands.add_parser("jacobian", parents=[common], help="Jacobian in either layout",
                                   description="The Jacobian of each variable, in the numerator layout "
                                               "(output axes first, as JAX/PyTorch), the denominator layout "
                                               "(input axes first, the lecture's), or both.")
    jacobian.add_argument("--layout", choices=["numerator", "denominator", "both"], default="numerator",
                          help="numerator: output axes first, shape out + in (JAX, PyTorch; the default); "
                               "denominator: input axes first, shape in + out (the lecture's); both")
    jacobian.add_argument("--mode", choices=["auto", "fwd", "rev"], default="auto",
                          help="fwd: forward mode, batched over the input entries; rev: reverse mode, batched "
                               "over the output entries; auto (default): fwd when the input is no larger "
                               "than the output, else rev")
    hessian = commands.add_parser("hessian", parents=[common], help="Hessian of a scalar expression",
                                  description="The Hessian of a scalar expression; with several variables "
                                              "they are flattened in order into one vector.")
    hessian.add_argument("--mode", choices=["fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd"], default="fwd-rev",
                         help="outer-inner differentiation: fwd-rev (default) is forward mode over the "
                              "gradient; all four give the same matrix")
    derivative = commands.add_parser("derivative", parents=[common], help="k-th derivative in one variable",
                                     description="The k-th derivative of a scalar (or elementwise) "
                                                 "expression of one variable.")
    derivative.add_argument("--order", type=int, required=True, help="the order k")
    derivative.add_argument("--mode", choices=["taylor", "nested"], default="taylor",
                            help="taylor (default): one pass with truncated Taylor series, work ~k^2, "
                                 "orders up to 64; nested: forward mode nested k times, work grows ~3x per "
                                 "order, orders up to 8")
    laplacian = commands.add_parser(
        "laplacian", parents=[common], help="Laplacian (trace of the Hessian) of a scalar expression",
        description="The Laplacian of a scalar expression: the trace of its Hessian, the sum of d2f/du2 over "
                    "every entry u of the variables (flattened in order), in collapsed Taylor mode "
                    f"(hd.laplacian); with up to {MAX_CROSS_CHECK} entries the trace of the dense Hessian is "
                    "printed too, for comparison.")
    laplacian.add_argument("--method", choices=["exact", "stochastic"], default="exact",
                           help="exact (default): one collapsed Taylor pass over the unit directions; "
                                "stochastic: Hutchinson's estimate, the mean of v^T H v over random +-1 "
                                "probes v, with its standard error")
    laplacian.add_argument("--samples", type=int, metavar="N",
                           help=f"stochastic: the number of probes, at least 2 (default {LAPLACIAN_SAMPLES})")
    laplacian.add_argument("--seed", type=int, metavar="S",
                           help="stochastic: the random seed, an integer >= 0 (default 0: the same probes "
                                "every run)")
    check = commands.add_parser("check", parents=[common], help="compare modes with finite differences",
                                description="Compare forward and reverse mode with finite differences "
                                            "(hd.check_grads); exit status 1 when they disagree.")
    check.add_argument("--order", type=int, default=2, help="highest order checked (default 2)")
    check.add_argument("--modes", default="fwd,rev", help="fwd, rev or fwd,rev (default)")
    graph = commands.add_parser("graph", parents=[common], help="the computational graph: table and picture",
                                description="Record the expression's computational graph, print every "
                                            "node's op, value and gradient, and draw it (-o FILE: .svg, "
                                            ".png, .pdf need Graphviz; .dot is the DOT text).")
    graph.add_argument("-o", "--output", metavar="FILE", help="write the picture (svg, png, pdf, or dot)")
    graph.add_argument("--local", action="store_true", help="show local gradients and upstream x local on edges")
    graph.add_argument("--max-nodes", type=_at_least_one, default=200, help="collapse graphs bigger than this (200)")
    graph.add_argument("--dot", action="store_true", help="also print the DOT text")
    demo = commands.add_parser("demo", help="the backprop lecture's examples, computed by hodiff",
                               description="Walk through the lecture's worked examples with hodiff computing "
                                           "everything; graphs go to --out (default ./hodiff-demo).")
    demo.add_argument("--out", default="hodiff-demo", metavar="DIR", help="where the pictures go (hodiff-demo)")
    demo.add_argument("--no-files", action="store_true", help="print only, write no files")
    demo.add_argument("--json", action="store_true", help="print the demo's numbers as JSON")
    demo.add_argument("--precision", type=int, default=4, help="significant digits printed (default 4)")
    return parser


def main(argv=None):
    """Run the command line; returns the exit status (0 on success)."""
    parser = build_parser()
    argv = _protect_expression(sys.argv[1:] if argv is None else list(argv), parser)
    command = "hodiff"
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit:  # --help and --version
            return exit.code if isinstance(exit.code, int) else 0
        command = f"hodiff {args.command}"
        if getattr(args, "precision", 6) is not None and not 1 <= args.precision <= 17:
            raise CLIError(f"--precision {args.precision}: use 1 to 17 significant digits")
        result = COMMANDS[args.command](args)
    except CLIError as error:
        message = _one_line(str(error))
        print(message if message.startswith("hodiff") else f"{command}: error: {message}", file=sys.stderr)
        return error.status
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug in hodiff: still one line, unless asked for the traceback
        if os.environ.get("HODIFF_TRACEBACK"):
            raise
        message = _one_line(str(error).strip().splitlines()[0]) if str(error).strip() else ""
        print(f"{command}: internal error: {type(error).__name__}: {message} "
              "(please report it; HODIFF_TRACEBACK=1 shows the traceback)", file=sys.stderr)
        return 3
    if getattr(args, "json", False):
        print(json.dumps(result.data, indent=2))
    else:
        print(result.text)
    return 0


def _one_line(message, limit=2000):
    """Every error is one line of bounded length, whatever a value echoed into it contains."""
    message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    return message if len(message) <= limit else message[:limit - 40] + f"... ({len(message)} characters)"


def _protect_expression(argv, parser):
    """An expression right after its command that starts with '-' ("-x**2") is not an option.

    argparse takes any argument containing a space for a positional one, so a
    leading space keeps "-x**2" an expression (Expression strips it).
    """
    if len(argv) < 2 or not argv[1].startswith("-") or argv[0] == "demo":
        return argv
    if argv[1] == "--" and len(argv) > 2:  # "hodiff grad -- -x --at x=1": only the expression is protected
        argv = [argv[0]] + argv[2:]
    subparsers = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    command = subparsers.choices.get(argv[0])
    if command is None or argv[1].partition("=")[0] in command._option_string_actions:
        return argv
    return [argv[0], " " + argv[1]] + argv[2:]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
