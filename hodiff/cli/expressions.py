"""Safe expressions for the command line: parsed with ``ast``, checked, evaluated with hodiff ops.

Nothing is ever passed to ``eval``. An expression is parsed with Python's
``ast`` module and every node is checked against a whitelist: numbers,
variable names, the arithmetic operators ``+ - * / ** @`` and unary minus,
comparisons (for ``where``), list literals, constant indexing ``x[0]``,
``W[:, 1]``, and calls of whitelisted hodiff functions by name, with keyword
arguments whose values are constants. Attribute access, names starting with an
underscore (``__import__``), lambdas, comprehensions, strings, and anything
else are refused, as are expressions that are too long, too deeply nested or
have too large a constant exponent. The checked tree is then evaluated by
walking it with hodiff functions from ``hodiff.nn``, ``hodiff.numpy`` and
``hodiff.scipy.special``, so the result is differentiable by every transform.
"""

import ast
import difflib
import json
import keyword
import math
import re
import unicodedata

import numpy as np

from .. import nn
from .. import numpy as hnp
from ..numpy import linalg
from ..scipy import special
from .shapes import predicted_size

__all__ = ["ExpressionError", "Expression", "parse_point", "shown", "FUNCTIONS", "LIMITS"]

LIMITS = {
    "length": 2000,        # characters in an expression
    "nodes": 500,          # syntax-tree nodes
    "depth": 64,           # nesting depth (brackets, operators, a+b+c chains)
    "exponent": 100,       # largest constant exponent |p| in x**p
    "point_size": 10_000,  # entries of one --at value
    "value_size": 10_000_000,  # entries of any intermediate value
    "total_size": 50_000_000,  # entries of all the values together (a reverse pass keeps every one)
}

# Whitelisted functions: name -> the hodiff function. Only these names can be called, and only
# hodiff's own differentiable functions (vars(), not getattr: never hodiff.numpy's pass-through
# to plain numpy).
FUNCTIONS = {name: vars(hnp)[name] for name in [
    # elementwise
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "cbrt", "square", "reciprocal",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
    "arctanh", "absolute", "sign", "floor", "ceil", "maximum", "minimum", "where", "clip", "power",
    "arctan2", "hypot", "sinc", "logaddexp", "deg2rad", "rad2deg",
    # reductions
    "sum", "mean", "prod", "var", "std", "amax", "amin", "cumsum", "cumprod",
    # shapes and linear algebra
    "dot", "inner", "outer", "matmul", "tensordot", "trace", "transpose", "reshape", "diag",
    "diagonal", "ravel", "concatenate", "stack", "kron",
]}
FUNCTIONS.update({"abs": hnp.absolute, "max": vars(hnp)["max"], "min": vars(hnp)["min"]})
FUNCTIONS.update({name: vars(linalg)[name] for name in ["norm", "det", "inv", "solve"]})
# the lecture's activations and losses
FUNCTIONS.update({name: vars(nn)[name] for name in [
    "sigmoid", "relu", "leaky_relu", "softplus", "gelu", "softmax", "log_softmax", "logsumexp",
    "cross_entropy", "mse"]})
FUNCTIONS.update({name: vars(special)[name] for name in ["erf", "expit", "logit", "gammaln"]})
CONSTANTS = {"pi": math.pi, "e": math.e}
# Positional arguments from this position on are options (axis, shape, axes, offset), not arrays:
# a constant there is passed as written ("reshape(x, (2, 1))" gets the tuple (2, 1), not an array of floats).
STATIC_FROM = {name: 1 for name in [
    "sum", "mean", "prod", "var", "std", "amax", "amin", "max", "min", "cumsum", "cumprod", "transpose",
    "reshape", "diag", "diagonal", "trace", "concatenate", "stack", "norm", "softmax", "log_softmax",
    "logsumexp"]}
STATIC_FROM["tensordot"] = 2
SEQUENCES = {"concatenate", "stack"}  # their first argument is a sequence of arrays, not one array

_BINARY = {ast.Add: hnp.add, ast.Sub: hnp.subtract, ast.Mult: hnp.multiply, ast.Div: hnp.true_divide,
           ast.Pow: hnp.power, ast.MatMult: hnp.matmul}
_BINARY_NAME = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "true_divide",
                ast.Pow: "power", ast.MatMult: "matmul"}
_COMPARE = {ast.Lt: hnp.less, ast.LtE: hnp.less_equal, ast.Gt: hnp.greater, ast.GtE: hnp.greater_equal,
            ast.Eq: hnp.equal, ast.NotEq: hnp.not_equal}
_OPERATOR_TEXT = {ast.Mod: "%", ast.FloorDiv: "//", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^",
                  ast.LShift: "<<", ast.RShift: ">>", ast.Not: "not", ast.Invert: "~", ast.Is: "is",
                  ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
_REFUSED = {
    ast.Attribute: "attribute access ('.{attr}') is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed", ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed", ast.GeneratorExp: "comprehensions are not allowed",
    ast.Dict: "dict literals are not allowed", ast.Set: "set literals are not allowed",
    ast.Starred: "* unpacking is not allowed", ast.NamedExpr: "':=' is not allowed",
    ast.IfExp: "'a if c else b' is not allowed; use where(c, a, b)",
    ast.BoolOp: "'and'/'or' are not allowed; use where(...)",
    ast.JoinedStr: "f-strings are not allowed",
    ast.Await: "await is not allowed",
}


class ExpressionError(ValueError):
    """A bad expression or point: the message says what is wrong and where."""


class _Located(Exception):
    """An error raised while evaluating one node; carries that node for the location."""

    def __init__(self, node, message, error_type=None):
        super().__init__(message)
        self.node = node
        self.message = message
        self.error_type = error_type or ExpressionError


def _column(node):
    return getattr(node, "col_offset", 0) + 1


def _check_ascii_names(text):
    """Refuse a non-ASCII letter before ``ast.parse``, which folds compatibility forms (NFKC): the full-width
    'ｘ' would become the variable x."""
    for column, char in enumerate(text, start=1):
        if not char.isascii() and (char.isidentifier() or unicodedata.normalize("NFKC", char).isidentifier()):
            hint = "; write pi" if char == "\u03c0" else ""
            raise ExpressionError(f"non-ASCII names are not allowed ({char!r} at column {column}): use ASCII letters, "
                                  f"digits and '_'{hint}")


def _check_brackets(text):
    """Refuse deep nesting before ``ast.parse`` (whose own recursion it would otherwise test)."""
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    if deepest > LIMITS["depth"]:
        raise ExpressionError(f"the expression nests brackets {deepest} deep; the limit is {LIMITS['depth']}")


class Expression:
    """A checked expression. ``names`` are its variables (in order of appearance).

    >>> e = Expression("sigmoid(w0*x0 + w1*x1 + w2)")
    >>> e.names
    ['w0', 'x0', 'w1', 'x1', 'w2']
    >>> float(Expression("x * 2 + 1").evaluate({"x": 3.0}))
    7.0
    """

    def __init__(self, text):
        if not isinstance(text, str) or not text.strip():
            raise ExpressionError("the expression is empty")
        if len(text) > LIMITS["length"]:
            raise ExpressionError(f"the expression is {len(text)} characters long; the limit is {LIMITS['length']}")
        if "\x00" in text:
            raise ExpressionError("the expression contains a NUL character")
        text = text.strip()
        _check_brackets(text)
        _check_ascii_names(text)
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as error:
            # Python reports offset 0 when the expression ends too early ("x +").
            column = f"at column {error.offset}" if error.offset else "at the end"
            raise ExpressionError(f"syntax error {column} of {text!r}: {error.msg}") from None
        except (RecursionError, MemoryError, ValueError) as error:
            raise ExpressionError(f"the expression could not be parsed: {type(error).__name__}") from None
        self.text = text
        self.tree = tree
        self.names = []
        self.functions = []
        self._check(tree)

    # ------------------------------------------------------------------ checking

    def describe(self, node):
        """``'outer(x, x)' at column 5``: where a node is, for messages."""
        segment = ast.get_source_segment(self.text, node) if hasattr(node, "col_offset") else None
        if segment and len(segment) > 60:
            segment = segment[:28] + "..." + segment[-28:]
        return f"{segment!r} at column {_column(node)}" if segment else f"column {_column(node)}"

    def _fail(self, node, message, error_type=ExpressionError):
        segment = ast.get_source_segment(self.text, node) if hasattr(node, "col_offset") else None
        if segment and len(segment) > 60:
            segment = segment[:28] + "..." + segment[-28:]
        where = f", in {segment!r}" if segment else ""
        raise error_type(f"{message}{where} at column {_column(node)}")

    def _check(self, tree):
        # ast.walk is iterative, and the length limit bounds the count: counted first, so a long flat
        # sum "x+x+...+x" is "too many operations", not "too deep".
        count = sum(1 for node in ast.walk(tree.body) if isinstance(node, ast.expr))
        if count > LIMITS["nodes"]:
            raise ExpressionError(f"the expression is too big: too many operations ({count} syntax nodes; "
                                  f"the limit is {LIMITS['nodes']})")
        stack = [(tree.body, 1, True)]
        while stack:
            node, depth, chain = stack.pop()  # chain: only binary operators from the top down to here
            if depth > LIMITS["depth"]:
                if chain:
                    self._fail(node, f"too many operations in a row: a chain of binary operators nests {depth} "
                                     f"levels deep; the limit is {LIMITS['depth']} (sum(...) adds an array's "
                                     "entries in one operation)")
                self._fail(node, f"the expression nests {depth} levels deep; the limit is {LIMITS['depth']}")
            # Reversed so that names are met (and listed) in reading order.
            for child in reversed(self._check_node(node)):
                stack.append((child, depth + 1, chain and isinstance(node, ast.BinOp)))

    def _check_node(self, node):
        """Check one node; return the children to check (expressions only)."""
        if type(node) in _REFUSED:
            self._fail(node, _REFUSED[type(node)].format(attr=getattr(node, "attr", "")))
        if isinstance(node, ast.Constant):
            self._check_constant(node)
            return []
        if isinstance(node, ast.Name):
            self._check_name(node.id, node)
            if node.id in FUNCTIONS:
                self._fail(node, f"'{node.id}' is a function; call it, as in {node.id}(x)")
            if node.id not in CONSTANTS and node.id not in self.names:
                self.names.append(node.id)
            return []
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY:
                self._fail(node, f"the operator '{_OPERATOR_TEXT.get(type(node.op), type(node.op).__name__)}' "
                                 "is not supported")
            if isinstance(node.op, ast.Pow):
                self._check_exponent(node)
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                self._fail(node, f"the operator '{_OPERATOR_TEXT.get(type(node.op), '?')}' is not supported")
            return [node.operand]
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                self._fail(node, "chained comparisons (a < b < c) are not supported")
            if type(node.ops[0]) not in _COMPARE:
                self._fail(node, f"the operator '{_OPERATOR_TEXT.get(type(node.ops[0]), '?')}' is not supported")
            return [node.left, node.comparators[0]]
        if isinstance(node, (ast.List, ast.Tuple)):
            if not node.elts:
                self._fail(node, "empty lists are not allowed")
            return list(node.elts)
        if isinstance(node, ast.Subscript):
            self._check_index(node.slice, node)
            return [node.value]
        if isinstance(node, ast.Call):
            return self._check_call(node)
        self._fail(node, f"{type(node).__name__} is not allowed in expressions")

    def _check_name(self, name, node):
        if name.startswith("_"):
            self._fail(node, f"names starting with '_' are not allowed ({name!r})")

    def _check_constant(self, node):
        value = node.value
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, (str, bytes)):
            self._fail(node, "strings are not allowed in expressions")
        if isinstance(value, complex):
            self._fail(node, "complex numbers are not supported on the command line")
        if isinstance(value, int) and abs(value) > 2**53:
            self._fail(node, f"the integer {value if value.bit_length() < 200 else '...'} is too large")
        if isinstance(value, float) and not math.isfinite(value):
            self._fail(node, "the number is too large (not finite)")
        if isinstance(value, float) and value == 0 and _underflows(ast.get_source_segment(self.text, node) or ""):
            self._fail(node, "the number is too small: it underflows to 0 in float64 (magnitudes from 5e-324)")

    def _check_exponent(self, node):
        exponent = node.right
        sign = 1
        while isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, (ast.USub, ast.UAdd)):
            sign = -sign if isinstance(exponent.op, ast.USub) else sign
            exponent = exponent.operand
        if isinstance(exponent, ast.Constant) and isinstance(exponent.value, (int, float)) \
                and not isinstance(exponent.value, bool) and abs(exponent.value) > LIMITS["exponent"]:
            self._fail(node, f"the exponent {sign * exponent.value:g} is too large "
                             f"(the limit is {LIMITS['exponent']})")
        if isinstance(node.left, ast.Constant) and isinstance(exponent, ast.BinOp) \
                and isinstance(exponent.op, ast.Pow):
            self._fail(node, "towers of powers of constants (a**b**c) are not allowed")

    def _check_index(self, index, node):
        items = index.elts if isinstance(index, ast.Tuple) else [index]
        for item in items:
            if isinstance(item, ast.Slice):
                for part in (item.lower, item.upper, item.step):
                    if part is not None and _constant_int(part) is None:
                        self._fail(node, "slice bounds must be integer constants")
            elif _constant_int(item) is None:
                self._fail(node, "indices must be integer constants or slices, as in x[0] or W[:, 1]")

    def _check_call(self, node):
        if not isinstance(node.func, ast.Name):
            if type(node.func) in _REFUSED:
                self._fail(node.func, _REFUSED[type(node.func)].format(attr=getattr(node.func, "attr", "")))
            self._fail(node, "only calls of named functions, as in exp(x), are allowed")
        name = node.func.id
        self._check_name(name, node.func)
        if name not in FUNCTIONS:
            # cutoff 0.7: "sigmod" -> sigmoid, "tanhh" -> tanh, but not "print" -> expit
            close = difflib.get_close_matches(name, list(FUNCTIONS), n=1, cutoff=0.7)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self._fail(node.func, f"unknown function {name!r}{hint}")
        if name not in self.functions:
            self.functions.append(name)
        for kw in node.keywords:
            if kw.arg is None:
                self._fail(node, "** unpacking is not allowed")
            self._check_name(kw.arg, node)
            if not _is_constant(kw.value):
                self._fail(kw.value, f"the keyword argument {kw.arg}= must be a constant")
        try:  # "exp()", "sum(x, foo=1)": the bad call, before any complaint about the point
            _check_signature(name, FUNCTIONS[name], node.args, [kw.arg for kw in node.keywords])
        except TypeError as error:
            self._fail(node, f"bad arguments: {error}")
        return list(node.args)

    # ------------------------------------------------------------------ evaluating

    def evaluate(self, env, check_finite=False):
        """The expression's value with the variables in ``env`` (values may be traced).

        With ``check_finite`` (plain values only) the first sub-expression that
        turns finite inputs into nan or inf is reported as an ``ExpressionError``.
        """
        missing = [name for name in self.names if name not in env]
        if missing:
            raise ExpressionError(f"no value for {_plural('variable', missing)} {', '.join(missing)}")
        # The largest value met (entries, node): the transforms that batch the evaluation check it.
        self.largest = (0, None)
        self.total = 0
        # A variable's value is never folded as a constant: Python floats become numpy floats.
        env = {name: np.float64(value) if type(value) is float else value for name, value in env.items()}
        try:
            with np.errstate(all="ignore"):
                return self._eval(self.tree.body, env, check_finite)
        except _Located as error:
            self._fail(error.node, error.message, error.error_type)

    def _eval(self, node, env, check_finite):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return env[node.id] if node.id in env else CONSTANTS[node.id]
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self._eval(item, env, check_finite) for item in node.elts]
            return self._apply(node, _stack_items, items, check_finite, name="list")
        if isinstance(node, ast.Subscript):
            value = self._eval(node.value, env, check_finite)
            return self._apply(node, lambda v: _index(v, _index_value(node.slice)), [value], check_finite,
                               name="index")
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, env, check_finite)
            if isinstance(node.op, ast.UAdd):
                return value
            if _is_number(value):
                return -value
            return self._apply(node, hnp.negative, [value], check_finite, name="negative")
        if isinstance(node, ast.BinOp):
            left = self._eval(node.left, env, check_finite)
            right = self._eval(node.right, env, check_finite)
            if isinstance(node.op, ast.Pow) and _is_number(right) and abs(right) > LIMITS["exponent"]:
                raise _Located(node, f"the exponent {right:g} is too large (the limit is {LIMITS['exponent']})")
            if _is_number(left) and _is_number(right):
                return _fold(node, left, right)
            return self._apply(node, _BINARY[type(node.op)], [left, right], check_finite,
                               name=_BINARY_NAME[type(node.op)])
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, env, check_finite)
            right = self._eval(node.comparators[0], env, check_finite)
            return self._apply(node, _COMPARE[type(node.ops[0])], [left, right], False, name="less")
        if isinstance(node, ast.Call):
            static = STATIC_FROM.get(node.func.id, len(node.args))
            for i, arg in enumerate(node.args[static:], start=static):
                if not _is_constant(arg):  # an axis, an order, a shape: a variable there would be a constant
                    pairwise = {"max": "maximum", "amax": "maximum", "min": "minimum", "amin": "minimum"}
                    hint = (f"; for the elementwise {pairwise[node.func.id]} of two values write "
                            f"{pairwise[node.func.id]}(a, b)" if node.func.id in pairwise else "")
                    raise _Located(arg, f"argument {i + 1} of {node.func.id}() must be a constant (an axis, an "
                                        f"order or a shape), not an expression of the variables{hint}")
            args = [_constant_value(arg) if i >= static else
                    self._sequence(arg, env, check_finite) if node.func.id in SEQUENCES and i == 0 else
                    self._eval(arg, env, check_finite)
                    for i, arg in enumerate(node.args)]
            kwargs = {kw.arg: _constant_value(kw.value) for kw in node.keywords}
            return self._apply(node, FUNCTIONS[node.func.id], args, check_finite, kwargs, name=node.func.id)
        raise _Located(node, f"{type(node).__name__} cannot be evaluated")  # pragma: no cover - checked

    def _sequence(self, node, env, check_finite):
        """concatenate's and stack's first argument: a list literal stays a list of its items (of any shapes)."""
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._eval(item, env, check_finite) for item in node.elts]
        return self._eval(node, env, check_finite)

    def _apply(self, node, function, args, check_finite, kwargs=None, name=None):
        args = _float_constants(args)
        # The size is checked before computing: a refused value is never allocated.
        size = predicted_size(name, args, kwargs or {})
        if size is not None and size > LIMITS["value_size"]:
            raise _Located(node, f"the value would have {size} entries; the limit is {LIMITS['value_size']} "
                                 "(nothing was computed)")
        if size is not None and size > self.largest[0]:
            self.largest = (size, node)
        self.total += size or 0
        if self.total > LIMITS["total_size"]:
            raise _Located(node, f"the values computed so far add up to {self.total} entries (a gradient keeps "
                                 f"every one); the limit is {LIMITS['total_size']} (nothing more was computed)")
        try:
            _check_arity(function, args)
            result = function(*args, **(kwargs or {}))
        except _Located:
            raise
        except ExpressionError as error:
            raise _Located(node, str(error), type(error)) from None
        except NotImplementedError:  # MissingRuleError: a primitive lacks a rule; not the user's input
            raise
        except Exception as error:  # any failure of the op: say which sub-expression and why
            message = _describe(error)
            if name and name not in ("list", "index"):  # "_np_sum() got ...": the name the user wrote
                message = re.sub(r"^(bad arguments: )?[\w.]+\(\)", lambda m: f"{m.group(1) or ''}{name}()",
                                 message)
            raise _Located(node, message) from None
        size = result.size if hasattr(result, "size") else 1
        if size > LIMITS["value_size"]:
            raise _Located(node, f"the value has {size} entries; the limit is {LIMITS['value_size']}")
        if check_finite and _all_finite(args) and not _all_finite([result]):
            kind = "nan" if np.any(np.isnan(np.asarray(result))) else "infinite"
            raise _Located(node, f"the value is {kind} at this point")
        return result


# ---------------------------------------------------------------------- constants

# Constant sub-expressions ("(2**52)**2", "2**-2", "pi/2") are folded in Python: integers exactly
# (Python ints do not overflow), floats in IEEE double. numpy would compute int op int in int64 and
# wrap around without a word, so integers never reach numpy's integer arithmetic: see _float_constants.
_MAX_BITS = 1100            # a power a**b of ints with more bits than this is not computed (it overflows)
_EXACT_INT = 2**53          # larger Python ints go to numpy as floats (as numpy would for a float partner)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, np.generic)


def _fold(node, left, right):
    """``left op right`` for two Python numbers: exact for ints, refused where float64 cannot hold it."""
    op = type(node.op)
    text = _OPERATOR_SYMBOL.get(op, "?")
    try:
        if op is ast.Pow and isinstance(left, int) and isinstance(right, int) and right > 0 \
                and abs(left) > 1 and (abs(left).bit_length() - 1) * right > _MAX_BITS:
            raise OverflowError
        if op is ast.MatMult:
            raise TypeError("'@' needs arrays, not numbers")
        value = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
                 ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}[op](left, right)
    except ZeroDivisionError:
        what = "0 to a negative power" if op is ast.Pow else "division by zero"
        raise _Located(node, f"{what} in a constant sub-expression ('{text}')") from None
    except OverflowError:
        raise _Located(node, "the constant sub-expression overflows float64 (its magnitude is above 1.8e308)") \
            from None
    except TypeError as error:
        raise _Located(node, f"bad arguments: {error}") from None
    if isinstance(value, complex):
        raise _Located(node, "a negative constant to a fractional power is not real")
    if isinstance(value, int) and abs(value) > _EXACT_INT:
        try:
            float(value)
        except OverflowError:
            raise _Located(node, "the constant sub-expression overflows float64 (its magnitude is above "
                                 "1.8e308)") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise _Located(node, "the constant sub-expression overflows float64 (its magnitude is above 1.8e308)")
    return value


_OPERATOR_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}


def _is_integer(value):
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return False
    if isinstance(value, int):
        return True
    dtype = getattr(value, "dtype", None)
    return isinstance(value, (np.ndarray, np.generic)) and dtype is not None and dtype.kind in "iu"


def _float_constants(args):
    """Arguments for a hodiff function, with integers kept out of numpy's wrapping int64 arithmetic.

    Python ints beyond 2**53 become floats. When every positional argument is an integer
    ("square(3037000500)", "dot(2**40, 2**40)") the first becomes float64, so numpy computes in
    float64 (where an overflow is an inf, which is reported) and later positions (an axis, as
    in "sum(3, 0)") keep their integer meaning.
    """
    args = [float(a) if isinstance(a, int) and not isinstance(a, bool) and abs(a) > _EXACT_INT else a
            for a in args]
    if args and all(_is_integer(a) for a in args):
        first = args[0]
        args[0] = float(first) if isinstance(first, int) else np.asarray(first, dtype=np.float64)
    return args


def _check_arity(function, args):
    """A ufunc primitive given too many arguments would treat the extra one as numpy's ``out=``.

    A primitive's positional arguments are its arrays, one rule each, so the
    rule table's length is its arity.
    """
    from ..core.trace import Primitive

    rules = function.vjp if isinstance(function, Primitive) else None
    if isinstance(rules, tuple) and len(args) != len(rules):
        arity = len(rules)
        raise TypeError(f"{function.name} takes {arity} argument{'s' if arity != 1 else ''}, got {len(args)}")


def _check_signature(name, function, args, keywords):
    """Refuse a call whose arguments cannot bind, naming the function as the user wrote it."""
    import inspect

    _check_arity(function, args)
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # pragma: no cover - every whitelisted function has one
        return
    if isinstance(getattr(function, "vjp", None), tuple):
        return  # a primitive: its arity was checked above
    try:
        signature.bind(*[None] * len(args), **dict.fromkeys(keywords))
    except TypeError as error:
        raise TypeError(f"{name}() {error}") from None


def _plural(word, items):
    return word + ("s" if len(items) != 1 else "")


def _describe(error):
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if isinstance(error, ValueError) and re.search(r"broadcast|shape|align|dimension", message):
        return f"shape mismatch: {message}"
    if isinstance(error, TypeError):
        return f"bad arguments: {message}"
    return message


def _all_finite(values):
    for value in values:
        try:
            array = np.asarray(value)
        except Exception:
            return True  # traced: not checked
        if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
            return False
    return True


def _is_constant(node):
    if isinstance(node, ast.Constant):
        return not isinstance(node.value, (str, bytes))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _is_constant(node.operand)
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(_is_constant(item) for item in node.elts)
    return False


def _constant_value(node):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp):
        value = _constant_value(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    return tuple(_constant_value(item) for item in node.elts)


def _constant_int(node):
    value = _constant_value(node) if _is_constant(node) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _index_value(index):
    def one(item):
        if isinstance(item, ast.Slice):
            return slice(*(None if part is None else _constant_value(part)
                           for part in (item.lower, item.upper, item.step)))
        return _constant_value(item)

    return tuple(one(item) for item in index.elts) if isinstance(index, ast.Tuple) else one(index)


def _index(value, index):
    ndim = value.ndim if hasattr(value, "ndim") else np.ndim(value)
    if ndim == 0:
        raise IndexError("a scalar cannot be indexed")
    if not hasattr(value, "ndim"):
        value = np.asarray(value)
    return value[index]


def _stack_items(*items):
    from ..core.trace import Tracer

    if not any(isinstance(item, Tracer) for item in items):
        return np.asarray(items, dtype=float)
    return hnp.stack(list(items))


# ---------------------------------------------------------------------- the point (--at)

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def shown(text, limit=40):
    """``text`` for an error line: quoted, control characters escaped, at most ~``limit`` characters.

    A value typed on the command line is never echoed raw: a newline in it would
    forge a second stderr line, and a 170 KB list would make a 170 KB line.

    >>> print(shown("1\\nhodiff: forged"))
    '1\\nhodiff: forged'
    >>> print(shown("9" * 400))
    '999999999999999...999999999999999' (400 characters)
    """
    quoted = repr(str(text))
    if len(quoted) <= limit:
        return quoted
    half = (limit - 8) // 2
    return f"{quoted[:half]}...{quoted[-half:]} ({len(str(text))} characters)"


def parse_point(items):
    """``["w0=2", "x=[1,-2,3,-1]"]`` -> ``{"w0": 2.0, "x": array([1., -2., 3., -1.])}`` (insertion-ordered).

    Values are JSON numbers or (nested, rectangular) lists of numbers; they
    become floats (scalars) or float64 arrays, and must be finite. Error
    messages quote the value with ``shown`` (escaped, shortened).

    >>> parse_point(["w0=2", "x=[1,-2]"])
    {'w0': 2.0, 'x': array([ 1., -2.])}
    """
    point = {}
    for item in items:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name:
            raise ExpressionError(f"--at expects name=value, got {shown(item)} (put the expression before --at)")
        if not _NAME.match(name) or keyword.iskeyword(name):
            ascii_hint = "" if name.isascii() else " (names are ASCII letters, digits and '_')"
            raise ExpressionError(f"--at: {shown(name)} is not a valid variable name{ascii_hint}")
        at = f"--at {name}="
        if name in FUNCTIONS or name in CONSTANTS:
            raise ExpressionError(f"{at}...: {name!r} is the name of a "
                                  f"{'function' if name in FUNCTIONS else 'constant'}; pick another variable name")
        if name in point:
            raise ExpressionError(f"{at}...: {name!r} is given twice")
        if not text:
            raise ExpressionError(f"{at}: no value after '='")
        try:
            # Python refuses int() of more than 4300 digits; such a number is out of range anyway
            raw = json.loads(text, parse_int=lambda digits: int(digits) if len(digits) <= 4000 else float(digits),
                             parse_float=_parsed_float)
        except _Underflow as error:
            raise ExpressionError(f"{at}{shown(text)}: {error} (float64 magnitudes start at 5e-324)") from None
        except (ValueError, RecursionError):
            raise ExpressionError(f"{at}{shown(text)}: not a number or a list of numbers "
                                  "(write x=2.5 or \"x=[1,-2,3]\")") from None
        point[name] = _point_value(raw, at + shown(text))
    return point


def _underflows(literal):
    """Whether a number's text has a nonzero digit before its exponent (so a float 0 from it is an underflow)."""
    mantissa = re.split("[eE]", literal.strip().lstrip("+-"))[0]
    return any(digit in "123456789" for digit in mantissa)


class _Underflow(ValueError):
    pass


def _parsed_float(literal):
    value = float(literal)
    if value == 0 and _underflows(literal):  # json would give 0.0 for 1e-400: refused, as 1e400 is
        raise _Underflow(f"{literal} underflows to 0")
    return value


def _point_value(raw, where):
    def leaves(value):
        stack = [value]
        while stack:
            value = stack.pop()
            if isinstance(value, list):
                stack.extend(value)
            else:
                yield value

    for value in leaves(raw):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(f"{where}: values must be numbers or lists of numbers")
        if isinstance(value, int) and abs(value) > 1.7976931348623157e308:
            digits = len(str(abs(value)))
            raise ExpressionError(f"{where}: a number is out of range ({digits} digits; float64 holds "
                                  "magnitudes up to 1.8e308)")
    try:
        array = np.asarray(raw, dtype=float)
    except (ValueError, OverflowError):
        raise ExpressionError(f"{where}: the nested lists are ragged (rows of different lengths)") from None
    if array.size == 0:
        raise ExpressionError(f"{where}: the list is empty")
    if array.size > LIMITS["point_size"]:
        raise ExpressionError(f"{where}: {array.size} entries; the limit is {LIMITS['point_size']}")
    if not np.all(np.isfinite(array)):
        raise ExpressionError(f"{where}: the value is not finite (nan or inf, or out of range: float64 holds "
                              "magnitudes up to 1.8e308)")
    return float(array) if array.ndim == 0 else array
