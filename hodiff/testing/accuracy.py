"""Derivatives of the unary functions against mpmath, nobody here's code, at arguments from tiny to huge.

    python -m hodiff.testing.accuracy [--float32] [--functions expm1,i0e] [--threshold 1e-9]
                                      [--orders 1,2,3] [--modes taylor,nested]

Each function's derivatives of orders 1-3 (``--orders``), in Taylor and nested mode, at points from -1e8 to 1e8
(float32: -300 to 1e6), against ``mpmath.diff`` of an mpmath definition. A reference is used only where mpmath
gives the same value at 40 and at 80 digits (its finite differences lose digits where a derivative is
tiny next to the function: expm1''' at -300), is finite, real and in the dtype's normal range, and
where hodiff's value is finite (outside a function's real domain numpy's value is nan and the derivatives
are the rule's formula, as JAX's and PyTorch's are: docs/api.md). Printed:
every (function, point, order, mode) whose relative error passes the threshold, worst first, the known
ones (``KNOWN``: a limitation documented and left alone, with its reason) marked as such.

This sweep found ive's, expm1's and rgamma's cancelling rules (tests/test_ive.py and
tests/test_near_branch_points.py hold the fixes' checks). mpmath comes with the ``test`` extra (sympy).
"""

import argparse
import math
import sys
import warnings

import numpy as np

__all__ = ["KNOWN", "POINTS", "reference_table", "sweep"]

POINTS = {"float64": (-1e8, -300.0, -30.0, -3.0, -0.5, -1e-8, 1e-8, 0.5, 0.999, 3.0, 30.0, 300.0, 1e8),
          "float32": (-300.0, -30.0, -8.0, -3.0, -0.5, -1e-4, 1e-4, 0.5, 0.999, 3.0, 8.0, 30.0, 300.0, 1e6)}

# Why a finding is left alone: the derivative is computed from the rounded answer, as JAX's and PyTorch's is,
# and carries its rounding (relative to a derivative that is tiny where the answer saturates at +-1 or 1).
KNOWN = {
    "tanh": "1 - tanh(x)^2 from the rounded tanh: 0 once tanh rounds to +-1 (|x| > 19 in float64, 9 in float32)",
    "log_ndtr": "the 3rd derivative's erfcx terms cancel to leading order in the far left tail: float32 keeps "
                "~1 / (x^2 eps) of it (3e-3 off at x = -300), float64 gives 0 for 2e-24 at x = -1e8",
    "sinc": "numpy's sinc rounds pi x (x = 1e8: sin of it is ~1e-8 off zero), and its derivatives follow",
    "ndtr": "its 3rd derivative (x^2 - 1) phi(x) rounds x^2 near |x| = 1 (3.4e-5 in float32 at x = 0.999)",
    **{name: f"scipy's own {name} is ~1e-8 off at |x| = 1e8 (its asymptotic phase), and its derivatives are "
             "Bessel functions too" for name in ("j0", "j1", "y0", "y1")},
}


def reference_table():
    """{name: (hodiff function, mpmath reference)}: the sweep's functions (mpmath loads here, on first use)."""
    import mpmath as M

    import hodiff.numpy as hnp
    import hodiff.scipy.special as hsp

    return {
        "expit": (hsp.expit, lambda t: 1 / (1 + M.exp(-t))),
        "log_expit": (hsp.log_expit, lambda t: -M.log(1 + M.exp(-t))),
        "softplus": (lambda x: hnp.logaddexp(x, 0.0), lambda t: M.log(1 + M.exp(t))),
        "logit": (hsp.logit, lambda t: M.log(t / (1 - t))),
        "erf": (hsp.erf, M.erf), "erfc": (hsp.erfc, M.erfc), "erfcx": (hsp.erfcx, lambda t: M.exp(t * t) * M.erfc(t)),
        "ndtr": (hsp.ndtr, M.ncdf), "log_ndtr": (hsp.log_ndtr, lambda t: M.log(M.ncdf(t))),
        "ndtri": (hsp.ndtri, lambda t: M.sqrt(2) * M.erfinv(2 * t - 1)), "erfinv": (hsp.erfinv, M.erfinv),
        "gammaln": (hsp.gammaln, lambda t: M.log(abs(M.gamma(t)))), "digamma": (hsp.digamma, M.digamma),
        "gamma": (hsp.gamma, M.gamma), "rgamma": (hsp.rgamma, M.rgamma),
        "i0": (hsp.i0, lambda t: M.besseli(0, t)), "i1": (hsp.i1, lambda t: M.besseli(1, t)),
        "i0e": (hsp.i0e, lambda t: M.besseli(0, t) * M.exp(-abs(t))),
        "i1e": (hsp.i1e, lambda t: M.besseli(1, t) * M.exp(-abs(t))),
        "j0": (hsp.j0, lambda t: M.besselj(0, t)), "j1": (hsp.j1, lambda t: M.besselj(1, t)),
        "y0": (hsp.y0, lambda t: M.bessely(0, t)), "y1": (hsp.y1, lambda t: M.bessely(1, t)),
        "exp": (hnp.exp, M.exp), "log": (hnp.log, M.log), "expm1": (hnp.expm1, M.expm1), "log1p": (hnp.log1p, M.log1p),
        "sin": (hnp.sin, M.sin), "tan": (hnp.tan, M.tan), "tanh": (hnp.tanh, M.tanh), "sinh": (hnp.sinh, M.sinh),
        "cosh": (hnp.cosh, M.cosh), "arcsinh": (hnp.arcsinh, M.asinh), "arctan": (hnp.arctan, M.atan),
        "arccosh": (hnp.arccosh, M.acosh), "arctanh": (hnp.arctanh, M.atanh), "arcsin": (hnp.arcsin, M.asin),
        "cbrt": (hnp.cbrt, M.cbrt), "sqrt": (hnp.sqrt, M.sqrt), "reciprocal": (hnp.reciprocal, lambda t: 1 / t),
        "cube": (lambda x: x ** 3.0, lambda t: t ** 3), "power 2.5": (lambda x: x ** 2.5, lambda t: t ** 2.5),
        "log2": (hnp.log2, lambda t: M.log(t, 2)), "log10": (hnp.log10, M.log10), "exp2": (hnp.exp2, lambda t: 2 ** t),
        "arccos": (hnp.arccos, M.acos), "sinc": (hnp.sinc, M.sincpi),
        "erfcinv": (hsp.erfcinv, lambda t: M.erfinv(1 - t)),
        # two-argument functions with one argument fixed (named with ';': --functions splits at ',')
        "logaddexp(x; 2)": (lambda x: hnp.logaddexp(x, 2.0), lambda t: M.log(M.exp(t) + M.exp(2))),
        "hypot(x; 1e-3)": (lambda x: hnp.hypot(x, 1e-3), lambda t: M.sqrt(t * t + M.mpf("1e-3") ** 2)),
        "arctan2(x; 0.5)": (lambda x: hnp.arctan2(x, 0.5), lambda t: M.atan2(t, 0.5)),
        "arctan2(0.5; x)": (lambda x: hnp.arctan2(0.5, x), lambda t: M.atan2(0.5, t)),
        "xlogy(2; x)": (lambda x: hsp.xlogy(2.0, x), lambda t: 2 * M.log(t)),
        "power(2.5; x)": (lambda x: hnp.power(2.5, x), lambda t: M.power(2.5, t)),
        "betaln(x; 7.8)": (lambda x: hsp.betaln(x, 7.8), lambda t: M.log(M.beta(t, 7.8))),
        "polygamma(1; x)": (lambda x: hsp.polygamma(1, x), lambda t: M.polygamma(1, t)),
        "gammainc(2.5; x)": (lambda x: hsp.gammainc(2.5, x), lambda t: M.gammainc(2.5, 0, t, regularized=True)),
        "iv(2.5; x)": (lambda x: hsp.iv(2.5, x), lambda t: M.besseli(2.5, t)),
        "jv(2.5; x)": (lambda x: hsp.jv(2.5, x), lambda t: M.besselj(2.5, t)),
        "ive(7; x)": (lambda x: hsp.ive(7, x), lambda t: M.besseli(7, t) * M.exp(-abs(t))),
    }


def _reference(mpmath, function, x, order):
    """mpmath's derivative, or None where it is not to be trusted (40 and 80 digits disagree) or not real."""
    values = []
    for digits in (40, 80):
        with mpmath.workdps(digits):
            try:
                value = mpmath.diff(function, mpmath.mpf(x), order)
            except (ValueError, ZeroDivisionError, ArithmeticError):
                return None
            if mpmath.im(value) != 0 or not mpmath.isfinite(value):
                return None
            values.append(mpmath.re(value))
    if values[0] != values[1] and abs(values[0] - values[1]) > 1e-12 * abs(values[1]):
        return None
    return float(values[1])


def sweep(functions=None, dtype=np.float64, points=None, orders=(1, 2, 3), modes=("taylor", "nested"),
          threshold=1e-9):
    """[(relative error, name, x, order, mode, got, expected)] of every case past ``threshold``, worst first.

    functions: {name: (hodiff function, mpmath reference)}, default ``reference_table()``; points: default
    ``POINTS`` of the dtype. An exception from hodiff counts as an infinite error (its message is ``got``).
    """
    import mpmath

    import hodiff as hd

    dtype = np.dtype(dtype)
    functions = reference_table() if functions is None else functions
    points = POINTS[dtype.name] if points is None else points
    tiny, huge = float(np.finfo(dtype).tiny), float(np.finfo(dtype).max)  # Python floats: no overflow warning
    findings = []
    for name, (function, reference) in functions.items():
        for x in points:
            x = float(dtype.type(x))  # the reference at the point the dtype holds
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if not np.isfinite(function(dtype.type(x))):
                    continue  # outside the real domain, or a pole: the value is numpy's nan or inf
            for order in orders:
                expected = _reference(mpmath, reference, x, order)
                if expected is None or not tiny <= abs(expected) <= huge:
                    continue
                for mode in modes:
                    with np.errstate(all="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        try:
                            got = float(hd.derivative(function, order=order, mode=mode)(dtype.type(x)))
                        except Exception as error:  # reported, not raised: the sweep goes on
                            findings.append((math.inf, name, x, order, mode, f"{type(error).__name__}", expected))
                            continue
                    error = abs(got - expected) / abs(expected) if math.isfinite(got) else math.inf
                    if error > threshold:
                        findings.append((error, name, x, order, mode, got, expected))
    return sorted(findings, key=lambda finding: -finding[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--float32", action="store_true", help="float32 inputs (threshold 3e-5 unless given)")
    parser.add_argument("--functions", help="comma-separated names (default: all)")
    parser.add_argument("--threshold", type=float, help="relative error to report (default 1e-9; float32 3e-5)")
    parser.add_argument("--orders", default="1,2,3", help="comma-separated derivative orders (default 1,2,3)")
    parser.add_argument("--modes", default="taylor,nested", help="comma-separated: taylor, nested (default both)")
    args = parser.parse_args(argv)
    try:
        orders = tuple(int(order) for order in args.orders.split(","))
    except ValueError:
        parser.error(f"--orders must be comma-separated integers, got {args.orders!r}")
    modes = tuple(args.modes.split(","))
    if any(order < 1 for order in orders) or not set(modes) <= {"taylor", "nested"}:
        parser.error("--orders must be >= 1 and --modes taylor and/or nested")
    try:
        import mpmath  # noqa: F401
    except ImportError:
        print("hodiff.testing.accuracy needs mpmath: pip install mpmath (or the test extra)", file=sys.stderr)
        return 2
    table = reference_table()
    if args.functions:
        unknown = sorted(set(args.functions.split(",")) - set(table))
        if unknown:
            print(f"unknown functions: {', '.join(unknown)} (known: {', '.join(table)})", file=sys.stderr)
            return 2
        table = {name: table[name] for name in args.functions.split(",")}
    dtype = np.float32 if args.float32 else np.float64
    threshold = args.threshold if args.threshold is not None else (3e-5 if args.float32 else 1e-9)
    findings = sweep(table, dtype=dtype, orders=orders, modes=modes, threshold=threshold)
    for error, name, x, order, mode, got, expected in findings:
        known = f"  [known: {KNOWN[name]}]" if name in KNOWN else ""
        print(f"{error:8.1e} {name:10s} x={x:<10g} order {order} {mode:7s} got {got} want {expected:.6g}{known}")
    unknown = [f for f in findings if f[1] not in KNOWN]
    print(f"{len(findings)} cases past {threshold:g} ({len(unknown)} not known) over {len(table)} functions, "
          f"{np.dtype(dtype).name}")
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main())
