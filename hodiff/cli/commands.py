"""The command line's subcommands: each takes the parsed arguments and returns a ``Result``.

A ``Result`` holds the readable text (the default output) and the data that
``--json`` prints. Bad input raises ``CLIError`` with one line saying what is
wrong and where; ``main`` prints it and exits non-zero.
"""

import numpy as np

import hodiff as hd

from .expressions import LIMITS, Expression, ExpressionError, parse_point, shown

__all__ = ["CLIError", "Result", "Problem", "COMMANDS"]

BAD_INPUT = 2      # the user's expression, point or options
UNAVAILABLE = 1    # cannot be done here (no Graphviz, a primitive lacking a rule, an unwritable file),
#                    or a check failed


class CLIError(Exception):
    """One line for the user, and the exit status."""

    def __init__(self, message, status=BAD_INPUT):
        super().__init__(message)
        self.status = status


class Result:
    def __init__(self, text, data):
        self.text = text
        self.data = data


# ---------------------------------------------------------------------- formatting

def fmt(value, precision=6):
    """Numbers with ``precision`` significant digits; big arrays summarized with '...'."""
    array = np.asarray(value)
    if array.ndim == 0:
        return _scalar(array[()], precision)
    return np.array2string(array, separator=", ", threshold=1000, edgeitems=4, max_line_width=110,
                           formatter={"all": lambda v: _scalar(v, precision)})


def cell(value, precision=6):
    """``fmt`` on one line, for a table cell: a matrix's rows are joined, so columns stay aligned."""
    return " ".join(line.strip() for line in fmt(value, precision).splitlines())


def _scalar(v, precision):
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    v = float(v)
    return "0" if v == 0 else f"{v:.{precision}g}"


def to_json(value):
    array = np.asarray(value)
    return array.tolist() if array.ndim else array.item()


def _shape(value):
    return tuple(np.shape(value))


# ---------------------------------------------------------------------- the problem: f, point, variables

class Problem:
    """The expression, the point, and the variables to differentiate (``wrt``)."""

    def __init__(self, args):
        try:
            self.expression = Expression(args.expression)
            self.point = parse_point(args.at or [])
        except ExpressionError as error:
            raise CLIError(str(error)) from None
        used = self.expression.names
        missing = [name for name in used if name not in self.point]
        if missing:
            first = missing[0]
            raise CLIError(f"no value for variable{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                           f"used in the expression; give {'them' if len(missing) > 1 else 'it'} with "
                           f"--at {first}=VALUE")
        extra = [name for name in self.point if name not in used]
        if extra:
            raise CLIError(f"--at {extra[0]}=...: {extra[0]!r} does not appear in the expression "
                           f"(its variables are: {', '.join(used) or 'none'})")
        if not used:
            raise CLIError("the expression has no variables: nothing to differentiate")
        wrt = getattr(args, "wrt", None)
        if wrt is not None and not wrt.strip(", "):
            raise CLIError("--wrt names no variable: give one or more, comma separated (or leave --wrt out for all)")
        if wrt:
            self.wrt = [name.strip() for name in wrt.split(",") if name.strip()]
            for name in self.wrt:
                if name not in self.point:
                    raise CLIError(f"--wrt {shown(name)}: not a variable of the expression "
                                   f"({', '.join(used)})")
            if len(set(self.wrt)) != len(self.wrt):
                raise CLIError(f"--wrt {shown(wrt)}: a variable is named twice")
        else:
            self.wrt = list(self.point)
        self.precision = args.precision
        try:
            self.value = self.expression.evaluate(self.point, check_finite=True)
        except ExpressionError as error:
            raise CLIError(str(error)) from None
        self.largest = self.expression.largest
        if np.asarray(self.value).dtype.kind not in "fiub":
            raise CLIError(f"the value of {self.expression.text!r} at this point is not real "
                           f"(dtype {np.asarray(self.value).dtype})")
        self.value = np.asarray(self.value, dtype=float) if np.ndim(self.value) else float(self.value)

    def f(self, *values):
        """The expression as a function of the ``wrt`` variables (the others are held at the point)."""
        env = dict(self.point)
        env.update(zip(self.wrt, values))
        return self.expression.evaluate(env)

    @property
    def wrt_values(self):
        return [self.point[name] for name in self.wrt]

    def header(self):
        point = ", ".join(f"{name} = {cell(value, self.precision)}" for name, value in self.point.items())
        return [f"f = {self.expression.text}", f"at {point}"]

    def require_scalar(self, command, suggestion):
        if np.size(self.value) != 1:
            raise CLIError(f"{command} needs an expression with one value, but {self.expression.text!r} has "
                           f"shape {_shape(self.value)} at this point; {suggestion}")

    def check_batch(self, what, batch, how=None):
        """Refuse, before computing, a transform that evaluates f on ``batch`` tangents at once.

        Batched Jacobians and Hessians (and Taylor mode's coefficients, nested mode's 2**k
        components) hold ``batch`` copies of every intermediate value, so the largest one,
        times ``batch``, must fit the limit.
        """
        size, node = self.largest
        how = how or f"evaluates the expression on {batch} tangents at once"
        if batch > 1 and size * batch > LIMITS["value_size"]:
            raise CLIError(f"the {what} {how}, so its largest "
                           f"value ({size} entries, {self.expression.describe(node)}) would need {size * batch} "
                           f"entries; the limit is {LIMITS['value_size']} (nothing was computed)")

    def run(self, what, compute):
        """Run a transform; its failures become one line, and non-finite results are refused."""
        try:
            with np.errstate(all="ignore"):
                result = compute()
        except CLIError:
            raise
        except ExpressionError as error:
            raise CLIError(str(error)) from None
        except NotImplementedError as error:  # MissingRuleError: a primitive without the rule needed
            raise CLIError(f"computing the {what}: {_first_line(error)}", UNAVAILABLE) from None
        except (TypeError, ValueError) as error:
            raise CLIError(f"computing the {what}: {_first_line(error)}") from None
        from ..core.tree import tree_leaves

        for leaf in tree_leaves(result):
            array = np.asarray(leaf)
            if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
                raise CLIError(f"the {what} is not finite (nan or inf) at this point; the expression is not "
                               "differentiable there")
        return result

    def base_data(self):
        return {"expression": self.expression.text,
                "point": {name: to_json(value) for name, value in self.point.items()},
                "value": to_json(self.value)}


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _flat_labels(names, values):
    """Labels of the entries of the variables flattened in order: x, W[0,1], ..."""
    labels = []
    for name, value in zip(names, values):
        shape = np.shape(value)
        if not shape:
            labels.append(name)
        else:
            labels += [f"{name}[{','.join(str(i) for i in index)}]" for index in np.ndindex(*shape)]
    return labels


# ---------------------------------------------------------------------- subcommands

def command_grad(args):
    problem = Problem(args)
    problem.require_scalar("grad", "use 'hodiff jacobian' for the derivative of every output")
    _, grads = problem.run("gradient", lambda: hd.value_and_grad(problem.f, argnums=tuple(range(len(problem.wrt))))(
        *problem.wrt_values))
    p = problem.precision
    rows = [[name, cell(problem.point[name], p), cell(g, p)] for name, g in zip(problem.wrt, grads)]
    from ..viz.text import format_table

    text = "\n".join(problem.header() + ["", f"value  {fmt(problem.value, p)}", "",
                                         format_table(["variable", "value", "df/dvariable"], rows)])
    data = problem.base_data()
    data["grad"] = {name: to_json(g) for name, g in zip(problem.wrt, grads)}
    return Result(text, data)


def command_jacobian(args):
    problem = Problem(args)
    for name in problem.wrt:
        _check_matrix_size("Jacobian", np.size(problem.value) * np.size(problem.point[name]))
        n_in, n_out = np.size(problem.point[name]), np.size(problem.value)
        batch = {"fwd": n_in, "rev": n_out if n_out > 1 else 1, "auto": min(n_in, n_out)}[args.mode]
        problem.check_batch(f"Jacobian in {args.mode} mode", batch)
    layouts = ["numerator", "denominator"] if args.layout == "both" else [args.layout]
    p = problem.precision
    lines = problem.header() + ["", f"value  {fmt(problem.value, p)}   (shape {_shape(problem.value)})"]
    data = problem.base_data()
    data["jacobian"] = {}
    explain = {"numerator": "output axes first, as JAX and PyTorch",
               "denominator": "input axes first, the lecture's dL/dx = (dy/dx) dL/dy"}
    for argnum, name in enumerate(problem.wrt):
        data["jacobian"][name] = {}
        for layout in layouts:
            J = problem.run("Jacobian", lambda: hd.jacobian(problem.f, argnums=argnum, layout=layout, mode=args.mode)(
                *problem.wrt_values))
            lines += ["", f"df/d{name}, {layout} layout ({explain[layout]}), shape {_shape(J)}:", fmt(J, p)]
            data["jacobian"][name][layout] = to_json(J)
    return Result("\n".join(lines), data)


def _check_matrix_size(what, entries):
    if entries > MAX_MATRIX:
        raise CLIError(f"the {what} would have {entries} entries; the command line builds at most {MAX_MATRIX} "
                       "(use a vector-Jacobian or Hessian-vector product from Python)")


def _flat_problem(problem):
    """f of one flat vector holding every wrt variable (so a Hessian is one labelled matrix)."""
    import hodiff.numpy as hnp

    shapes = [np.shape(v) for v in problem.wrt_values]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    flat = np.concatenate([np.ravel(v) for v in problem.wrt_values]).astype(float)

    def f_flat(x):
        values, start = [], 0
        for shape, size in zip(shapes, sizes):
            values.append(hnp.reshape(x[start:start + size], shape))
            start += size
        return problem.f(*values)

    return f_flat, flat, _flat_labels(problem.wrt, problem.wrt_values)


def command_hessian(args):
    problem = Problem(args)
    problem.require_scalar("hessian", "a Hessian is the second derivative of a scalar")
    f_flat, flat, labels = _flat_problem(problem)
    _check_matrix_size("Hessian", len(flat) ** 2)
    problem.check_batch("Hessian", len(flat))
    H = np.asarray(problem.run("Hessian", lambda: hd.hessian(f_flat, mode=args.mode)(flat)))
    H = H.reshape(len(flat), len(flat))
    p = problem.precision
    from ..viz.text import format_table

    lines = problem.header() + ["", f"value  {fmt(problem.value, p)}", "",
                                f"Hessian d2f/d(row)d(column), {args.mode} mode"
                                + (" (variables flattened in order)" if len(labels) > 1 else "") + ":"]
    if len(labels) <= 40:
        lines.append(format_table([""] + labels, [[label] + [fmt(v, p) for v in row] for label, row in zip(labels, H)]))
    else:
        lines.append(fmt(H, p))
    data = problem.base_data()
    data.update(hessian=to_json(H), labels=labels, mode=args.mode)
    return Result("\n".join(lines), data)


# Taylor mode costs ~k^2. Nested forward mode multiplies the work by ~2.5-3 per order (each rule's
# operations are differentiated again): order 12 of a 20-node expression took 30 s, order 8 of a
# 391-node one 4.6 s (docs/cli.md), so the command line nests at most 8 times.
MAX_ORDER = {"taylor": 64, "nested": 8}
MAX_MATRIX = 10_000_000  # entries of a Jacobian or Hessian the CLI will build


def command_derivative(args):
    problem = Problem(args)
    if len(problem.wrt) != 1:
        raise CLIError(f"derivative differentiates one variable, but the expression has {len(problem.wrt)} "
                       f"({', '.join(problem.wrt)}); choose one with --wrt")
    if args.mode == "nested" and args.order > MAX_ORDER["nested"] and 0 <= args.order <= MAX_ORDER["taylor"]:
        raise CLIError(f"--order {args.order}: nested mode's work grows ~3x per order, so the command line "
                       f"nests at most {MAX_ORDER['nested']} times; use --mode taylor (the default, work ~k^2) "
                       "for higher orders")
    if not 0 <= args.order <= MAX_ORDER[args.mode]:
        raise CLIError(f"--order {args.order}: the order must be between 0 and {MAX_ORDER[args.mode]} "
                       f"in {args.mode} mode")
    name = problem.wrt[0]
    variable_shape = np.shape(problem.point[name])
    if variable_shape and np.shape(problem.value) != variable_shape:
        raise CLIError(f"derivative needs a scalar or elementwise expression of {name}, but the value has shape "
                       f"{_shape(problem.value)} for {name} of shape {_shape(problem.point[name])}; "
                       "use 'hodiff jacobian'")
    if args.mode == "taylor":
        problem.check_batch(f"derivative of order {args.order} in Taylor mode", args.order + 1)
    else:  # measured: sum(outer(sin(x*v), v)), 1000-entry v, order 6 peaks at 583 MB (2**6 x 8 MB)
        problem.check_batch(f"derivative of order {args.order} in nested mode", 2**args.order,
                            f"carries {2**args.order} components (2**{args.order}) of every value")
    value = problem.run(f"derivative of order {args.order}",
                        lambda: hd.derivative(problem.f, order=args.order, mode=args.mode)(problem.point[name]))
    p = problem.precision
    label = f"d^{args.order}f/d{name}^{args.order}" if args.order != 1 else f"df/d{name}"
    lines = problem.header() + ["", f"value  {fmt(problem.value, p)}",
                                f"{label}  {fmt(value, p)}   ({args.mode} mode)"]
    data = problem.base_data()
    data.update(order=args.order, variable=name, derivative=to_json(value), mode=args.mode)
    return Result("\n".join(lines), data)


# Up to this many entries of the variables, the laplacian command also prints the trace of the dense
# Hessian (D x D, from D Hessian-vector products) next to the collapsed Taylor value, for comparison.
MAX_CROSS_CHECK = 100
LAPLACIAN_SAMPLES = 100  # hd.laplacian's default number of probes for method="stochastic"


def _laplacian_options(args):
    """--method, --samples, --seed: (samples, seed), checked before anything is computed."""
    if args.method == "exact":
        for option, value in (("--samples", args.samples), ("--seed", args.seed)):
            if value is not None:
                raise CLIError(f"{option} {value}: applies to --method stochastic only (the exact Laplacian "
                               "draws no random probes)")
        return None, None
    samples = LAPLACIAN_SAMPLES if args.samples is None else args.samples
    seed = 0 if args.seed is None else args.seed
    if samples < 2:
        raise CLIError(f"--samples {samples}: the stochastic estimate needs at least 2 samples (its standard "
                       "error is their spread)")
    if seed < 0:
        raise CLIError(f"--seed {seed}: use an integer >= 0")
    return samples, seed


def command_laplacian(args):
    samples, seed = _laplacian_options(args)
    problem = Problem(args)
    problem.require_scalar("laplacian", "the Laplacian is the trace of the Hessian of a scalar")
    f_flat, flat, labels = _flat_problem(problem)
    entries = len(flat)
    over = ", ".join(problem.wrt)
    # Collapsed Taylor mode carries one direction per unit vector (exact) or probe (stochastic): the
    # directions hold directions x D entries, and every value carries that many first-order
    # coefficients (the Hessian command's D tangents, without the D x D result).
    directions = entries if args.method == "exact" else samples
    if directions * entries > MAX_MATRIX:
        what = (f"takes {entries} unit directions" if args.method == "exact"
                else f"with --samples {samples} draws {samples} random probes")
        way_out = "choose fewer variables with --wrt" + (", or use --method stochastic" if args.method == "exact"
                                                          else ", or fewer --samples")
        raise CLIError(f"the Laplacian over {over} ({entries} entries) {what}, {directions * entries} entries; "
                       f"the command line builds at most {MAX_MATRIX} ({way_out})")
    how = (f"carries {entries} directions (one per entry of {over})" if args.method == "exact"
           else f"carries {samples} random probes (--samples)")
    problem.check_batch("Laplacian", directions, how + " through every value")
    if args.method == "exact":
        laplacian = float(problem.run("Laplacian", lambda: hd.laplacian(f_flat)(flat)))
    else:
        def stochastic():
            estimate = hd.laplacian(f_flat, method="stochastic", samples=samples, seed=seed)(flat)
            return estimate.estimate, estimate.stderr  # run() checks a tuple's leaves, not a NamedTuple's

        laplacian, stderr = map(float, problem.run("Laplacian", stochastic))
    dense = None
    if entries <= MAX_CROSS_CHECK:
        H = problem.run("Hessian", lambda: hd.hessian(f_flat)(flat))
        dense = float(np.trace(np.reshape(np.asarray(H), (entries, entries))))
    p = problem.precision
    what = f"{entries} {'entry' if entries == 1 else 'entries'} of {over}"
    if args.method == "exact":
        shown_value = f"{fmt(laplacian, p)}   (collapsed Taylor mode: the sum of d2f/du2 over the {what})"
    else:
        shown_value = (f"{fmt(laplacian, p)} +- {fmt(stderr, p)}   (stochastic: the mean of v^T H v over {samples} "
                       f"random +-1 probes v of the {what}, seed {seed}; +- one standard error)")
    lines = problem.header() + ["", f"value                       {fmt(problem.value, p)}",
                                f"Laplacian                   {shown_value}"]
    if dense is not None:
        lines.append(f"trace of the dense Hessian  {fmt(dense, p)}   (fwd-rev mode, for comparison)")
    else:
        lines.append(f"trace of the dense Hessian  not computed (more than {MAX_CROSS_CHECK} entries)")
    data = problem.base_data()
    data.update(laplacian=laplacian, method=args.method)
    if args.method == "stochastic":
        data.update(stderr=stderr, samples=samples, seed=seed, distribution="rademacher")
    data.update(variables=list(problem.wrt), entries=entries, hessian_trace=dense)
    return Result("\n".join(lines), data)


def command_check(args):
    problem = Problem(args)
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    for mode in modes:
        if mode not in ("fwd", "rev"):
            raise CLIError(f"--modes {args.modes}: unknown mode {mode!r} (use fwd, rev or fwd,rev)")
    if not 1 <= args.order <= 4:
        raise CLIError(f"--order {args.order}: check_grads compares orders 1 to 4")
    try:
        with np.errstate(all="ignore"):
            hd.check_grads(problem.f, tuple(problem.wrt_values), modes=modes, order=args.order)
    except AssertionError as error:
        raise CLIError(f"check failed: {' '.join(str(error).split())}", UNAVAILABLE) from None
    except (TypeError, ValueError, NotImplementedError) as error:
        raise CLIError(f"check: {_first_line(error)}") from None
    text = "\n".join(problem.header() + [
        "", f"ok: {' and '.join(modes)} mode agree with finite differences up to order {args.order}"])
    data = problem.base_data()
    data.update(ok=True, modes=list(modes), order=args.order)
    return Result(text, data)


def command_graph(args):
    problem = Problem(args)
    from ..viz import render, to_dot, trace_graph
    from ..viz.dot import GraphvizNotFoundError

    graph = problem.run("graph", lambda: trace_graph(problem.f, *problem.wrt_values, names=problem.wrt))
    rows = graph.rows()
    note = "" if graph.has_grads else " (no gradients: the output has more than one value)"
    lines = problem.header() + ["", f"{len(rows)} nodes{note}:", graph.to_table(precision=problem.precision,
                                                                                max_items=8,
                                                                                max_rows=args.max_nodes)]
    data = problem.base_data()
    data["nodes"] = [{"name": row["name"], "kind": row["kind"], "op": row["op"], "inputs": row["inputs"],
                      "value": to_json(row["value"]),
                      "grad": None if row["grad"] is None else to_json(row["grad"])} for row in rows]
    options = {"show_local": args.local, "max_nodes": args.max_nodes, "title": f"f = {problem.expression.text}"}
    if args.output:
        try:
            path = render(graph, args.output, **options)
        except GraphvizNotFoundError as error:
            raise CLIError(f"{error} (or write -o {_stem(args.output)}.dot)", UNAVAILABLE) from None
        except ValueError as error:
            raise CLIError(f"-o {args.output}: {error}") from None
        except OSError as error:
            raise CLIError(f"-o {args.output}: cannot write the file: {error.strerror or error}", UNAVAILABLE) \
                from None
        lines += ["", f"wrote {path}"]
        data["output"] = str(path)
    if args.dot:
        dot = to_dot(graph, **options)
        lines += ["", dot.rstrip()]
        data["dot"] = str(dot)
    return Result("\n".join(lines), data)


def _stem(path):
    import pathlib

    return str(pathlib.Path(path).with_suffix(""))


def command_demo(args):
    from .demo import run_demo

    return run_demo(out_dir=args.out, precision=args.precision, files=not args.no_files)


COMMANDS = {"grad": command_grad, "jacobian": command_jacobian, "hessian": command_hessian,
            "derivative": command_derivative, "laplacian": command_laplacian, "check": command_check,
            "graph": command_graph, "demo": command_demo}
