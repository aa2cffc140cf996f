"""float32 stays float32 (and complex64 stays complex64): in every transform, at every order.

Two checks per computation:

- every output leaf has the input's precision;
- nothing inside was computed wider: ``computed_in_input_precision`` wraps every
  registered primitive's implementation and fast paths and records each
  application whose answer is float64/complex128 although none of its arguments
  is (Python scalars count as weak, as NEP 50 says). A cast at the end would
  pass the first check, not this one.

CI runs every float32 row of tests/tables through a core set of routes (each
kind of rule: vjp, jvp, batch, Taylor, nested, graph API), and every route on
representative functions; ``HODIFF_DTYPES_FULL=1`` runs every row through every
route (~40 s).
"""

import contextlib
import os
import zlib

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.core.trace import registry

from .tables import all_rows

_WIDE = (np.dtype(np.float64), np.dtype(np.complex128), np.dtype(np.longdouble), np.dtype(np.clongdouble))
_NARROW = {np.dtype(np.float32): np.dtype(np.float32), np.dtype(np.complex64): np.dtype(np.complex64)}


def _is_wide(value):
    dtype = getattr(value, "dtype", None)  # Python scalars have none: weak under NEP 50
    return dtype is not None and dtype in _WIDE


@contextlib.contextmanager
def computed_in_input_precision():
    """Record (primitive, path, argument dtypes) of every application that widened its arguments."""
    widened, saved = [], []

    def watch(function, name, path):
        def watched(*args, **params):
            out = function(*args, **params)
            # A constant of Python scalars alone (gammaln(0.5)) has no narrower precision to keep;
            # what matters is that it stays weak, which the result's dtype check sees.
            constant = all(type(a) in (bool, int, float, complex) for a in args)
            if _is_wide(out) and not constant and not any(_is_wide(a) for a in args) and params.get("dtype") is None:
                widened.append((name, path, [str(getattr(a, "dtype", type(a).__name__)) for a in args]))
            return out

        return watched

    for name, primitive in registry.items():
        for attribute in ("impl", "scalar_impl"):
            function = getattr(primitive, attribute)
            if function is not None:
                saved.append((primitive, attribute, function))
                setattr(primitive, attribute, watch(function, name, attribute))
        for attribute in ("fast_vjp", "fast_jvp"):
            rules = getattr(primitive, attribute)
            if rules is not None:
                saved.append((primitive, attribute, rules))
                setattr(primitive, attribute, tuple(
                    None if rule is None else watch(rule, name, f"{attribute}[{i}]") for i, rule in enumerate(rules)))
    try:
        yield widened
    finally:
        for primitive, attribute, value in reversed(saved):
            setattr(primitive, attribute, value)


def _leaves(result):
    leaves = []
    stack = [result]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, hd.Variable):
            leaves.append(item.value)
        elif item is not None:
            leaves.append(item)
    return leaves


def _check_precision(thunk, dtype, what):
    with computed_in_input_precision() as widened:
        result = thunk()
    assert not widened, f"{what}: computed wider than {dtype} inside: {widened[:4]}"
    for leaf in _leaves(result):
        leaf_dtype = np.result_type(leaf)
        if leaf_dtype.kind in "fc":
            # a real route may give a complex value and back (fft rows): the precision is what counts
            assert np.finfo(leaf_dtype).dtype == np.finfo(dtype).dtype, f"{what}: returned {leaf_dtype}"
    return result


# ----------------------------------------------------------------- the routes

def _scalarized(f):
    """sum of f's output leaves (real part plus imaginary part for complex ones): a scalar function."""

    def scalar(*args):
        total = 0.0
        for leaf in hd.tree_flatten(f(*args))[0]:
            if np.issubdtype(np.result_type(getattr(leaf, "dtype", leaf)), np.complexfloating):
                leaf = hnp.real(leaf) + hnp.imag(leaf)
            total = total + hnp.sum(leaf)
        return total

    return scalar


def _graph_backward(s, args, create_graph):
    variables = [hd.Variable(a) for a in args]
    s(*variables).backward(create_graph=create_graph)
    gradients = [v.grad for v in variables]
    if create_graph and isinstance(gradients[0], hd.Variable):
        for v in variables:
            v.zero_grad()
        hnp.sum(gradients[0]).backward()
        gradients += [v.grad for v in variables]
    return gradients


def real_routes(f, args):
    """Route name -> thunk, for a function of real arrays."""
    s = _scalarized(f)
    argnums = tuple(range(len(args)))
    ones = tuple(np.ones_like(a) for a in args)
    t0 = np.zeros((), dtype=args[0].dtype)[()]

    def along(t):  # t -> s(args + t * ones): a scalar function of a scalar for hd.derivative
        return s(*[a + t * o for a, o in zip(args, ones)])

    routes = {
        "grad": lambda: hd.grad(s, argnums)(*args),
        "value_and_grad": lambda: hd.value_and_grad(s, argnums)(*args),
        "vjp": lambda: (lambda out, pull: (out, pull(hd.tree_map(np.ones_like, out))))(*hd.vjp(f, *args)),
        "jvp": lambda: hd.jvp(f, args, ones),
        "linearize": lambda: (lambda out, push: (out, push(*ones)))(*hd.linearize(f, *args)),
        "jacrev(grad)": lambda: hd.jacrev(hd.grad(s, 0))(*args),
        "grad(grad)": lambda: hd.grad(lambda *a: hnp.sum(hd.grad(s, 0)(*a)), argnums)(*args),
        "derivative_tensor[3]": lambda: hd.derivative_tensor(s, 3)(*args),
        "hessian[vector, denominator]": lambda: hd.hessian(f, argnums, layout="denominator")(*args),
        "vhp": lambda: hd.vhp(s, args, ones),
        "taylor[4]": lambda: hd.taylor(lambda xs: f(*xs), args, ones, order=4),
        "jet[3]": lambda: hd.jet(f, args, tuple([o, np.zeros_like(o), o] for o in ones)),
        "vmap": lambda: hd.vmap(f)(*[np.stack([a, a]) for a in args]),
        "vmap(grad)": lambda: hd.vmap(hd.grad(s, argnums))(*[np.stack([a, a]) for a in args]),
        "Variable.backward": lambda: _graph_backward(s, args, False),
        "Variable.backward(create_graph)": lambda: _graph_backward(s, args, True),
        "hessian_operator": lambda: (lambda H: (H @ H.flatten(args), H.dense()))(
            hd.hessian_operator(lambda xs: s(*xs), args)),
        # a float64 direction for a float32 point: the point's precision, as jvp's tangents (the transforms audit)
        "taylor[float64 direction]": lambda: hd.taylor(lambda xs: f(*xs), args,
                                                       tuple(o.astype(np.float64) for o in ones), order=2),
    }
    if len(args) == 1:
        size = args[0].size
        basis = np.eye(size).reshape((size,) + args[0].shape)  # float64 directions
        routes["laplacian"] = lambda: hd.laplacian(s)(args[0])
        routes["vmap(laplacian)"] = lambda: hd.vmap(hd.laplacian(s))(np.stack([args[0], args[0]]))
        routes["vmap(taylor)"] = lambda: hd.vmap(lambda x: hd.taylor(s, x, np.ones_like(x), order=3))(
            np.stack([args[0], args[0]]))
        routes["collapsed_taylor[float64 directions]"] = lambda: hd.collapsed_taylor(s, args[0], basis, order=3)
    for mode in ("fwd", "rev", "auto"):
        for layout in ("numerator", "denominator"):
            routes[f"jacobian[{mode}, {layout}]"] = (
                lambda m=mode, lay=layout: hd.jacobian(f, argnums, mode=m, layout=lay)(*args))
    for mode in ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd"):
        routes[f"hessian[{mode}]"] = lambda m=mode: hd.hessian(s, argnums, mode=m)(*args)
    for mode in ("fwd-rev", "rev-rev", "rev-fwd"):
        routes[f"hvp[{mode}]"] = lambda m=mode: hd.hvp(s, args, ones, mode=m)
    for mode in ("taylor", "nested"):
        for order in (1, 2, 3):
            routes[f"derivative[{mode}, {order}]"] = (
                lambda m=mode, k=order: hd.derivative(along, order=k, mode=m)(t0))
    return routes


# One route per kind of rule (and the compositions the issue names), for every row in CI.
CORE_ROUTES = ("grad", "jvp", "vmap", "hessian[fwd-rev]", "hessian[rev-rev]", "derivative[nested, 2]",
               "taylor[4]", "jet[3]", "Variable.backward")

ROWS = [row for row in all_rows() if row.float32]


def _row_args(row, dtype):
    rng = np.random.default_rng(zlib.crc32(row.name.encode()))
    return tuple(np.asarray(a, dtype=dtype) for a in row.args(rng))


def _row_routes(row):
    routes = real_routes(row.function, _row_args(row, np.float32))
    if os.environ.get("HODIFF_DTYPES_FULL"):
        return routes
    return {name: routes[name] for name in CORE_ROUTES}


# Rows that vmap refuses, and why: clear refusals, not dtype questions (each would be a test elsewhere).
_VMAP_REFUSES = {
    "isfinite,isnan,isinf,signbit": "the row's ~ has no batched operator",
    "getitem[bool mask]": "a mask's number of hits differs between members",
    "multivariate_normal.logpdf[diagonal]": "a stack of diagonal covariances reads as one matrix",
}



def _declared_not_batchable():
    """Rows that table modules declare not batchable (``NOT_BATCHABLE``), with their own reasons."""
    import importlib
    import pkgutil

    from . import tables

    names = set()
    for module_info in pkgutil.iter_modules(tables.__path__):
        names |= set(getattr(importlib.import_module(f"{tables.__name__}.{module_info.name}"), "NOT_BATCHABLE", ()))
    return names


_VMAP_REFUSES.update(dict.fromkeys(_declared_not_batchable(), "declared NOT_BATCHABLE by its table"))


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_every_row_keeps_float32_in_every_route(row):
    for name, thunk in _row_routes(row).items():
        if name.startswith("vmap") and row.name in _VMAP_REFUSES:
            continue
        _check_precision(thunk, np.float32, f"{row.name} / {name}")


# A Python float beside float32 arrays is weak (NEP 50): the answer stays float32. Several
# scipy.special functions resolve it to their float64 loop; hodiff keeps numpy's rule
# (found by the fuzzer: xlogy(0.54, 1 + x**2) of a float32 x came back float64 under vmap and Taylor).
def _scalar_beside_float32_cases():
    from .tables import elementwise, special

    cases = []
    for row in elementwise.ROWS + special.ROWS:
        args = _row_args(row, np.float32)
        if row.float32 and len(args) >= 2 and all(a.shape == args[0].shape for a in args):
            cases += [pytest.param(row, i, id=f"{row.name}[arg {i} a Python float]") for i in range(len(args))]
    return cases


@pytest.mark.parametrize("row, position", _scalar_beside_float32_cases())
def test_a_python_float_beside_float32_arrays_keeps_float32(row, position):
    args = _row_args(row, np.float32)
    scalar = float(args[position].flat[0])
    rest = args[:position] + args[position + 1:]

    def f(*arrays):
        return row.function(*arrays[:position], scalar, *arrays[position:])

    routes = real_routes(f, rest)
    for name in ("value", "grad", "jvp", "vmap", "taylor[4]"):
        thunk = (lambda: f(*rest)) if name == "value" else routes[name]
        if name.startswith("vmap") and row.name in _VMAP_REFUSES:
            continue
        _check_precision(thunk, np.float32, f"{row.name}, arg {position} a Python float / {name}")


@pytest.mark.parametrize("name", ["exp", "log", "sin", "cos", "tanh", "sqrt"])
def test_a_numpy_float64_scalar_stays_strong_as_in_numpy(name):
    # hodiff sends float and np.float64 scalars through the math module for speed; an
    # np.float64 must come back an np.float64, or it turns weak (NEP 50) beside float32
    # and the value, a Dual's primal and a traced route disagree on the dtype (fuzz seed 130441).
    function, reference = getattr(hnp, name), getattr(np, name)
    c = np.float64(0.7)
    assert type(function(c)) is type(reference(c)) is np.float64
    assert type(hd.jvp(function, (c,), (np.float64(1.0),))[0]) is np.float64
    x32 = np.array([0.5, 1.5], np.float32)

    def f(x):
        return x * function(c)

    expected = (x32 * reference(c)).dtype  # numpy: float64
    routes = real_routes(f, (x32,))
    # the routes whose result has the output's dtype (gradients have the input's)
    checked = ["jvp", "vmap", "taylor[4]"] + [name for name in routes if name.startswith("jacobian")]
    assert np.asarray(f(x32)).dtype == expected, f"x * {name}(np.float64): value"
    for route_name in checked:
        for leaf in _leaves(routes[route_name]()):
            assert np.result_type(leaf) == expected, f"x * {name}(np.float64) / {route_name}"


# ----------------------------------------------------------------- every route on the functions

REPRESENTATIVES = {
    "x**2": (lambda x: x ** 2, (np.array([0.5, -1.5, 2.0]),)),
    "x**3.0": (lambda x: x ** 3.0, (np.array([0.5, -1.5, 2.0]),)),
    "2.0**x": (lambda x: 2.0 ** x, (np.array([0.5, -1.5, 2.0]),)),
    "x**y": (lambda x, y: x ** y, (np.array([0.5, 1.5]), np.array([2.0, -0.5]))),
    "maximum": (lambda x, y: hnp.maximum(x, y), (np.array([0.5, 1.5]), np.array([1.0, -0.5]))),
    "clip": (lambda x: hnp.clip(x, -1.0, 1.5), (np.array([0.5, -1.5, 2.0, 1.0]),)),
    "sin*exp(-x**2/2)": (lambda x: hnp.sin(x) * hnp.exp(-x ** 2 / 2), (np.array([0.3, -1.2]),)),
    "1/(1+x**2)": (lambda x: 1 / (1 + x ** 2), (np.array([0.3, -1.2]),)),
    "real fft": (lambda x: hnp.real(hnp.fft.fft(x * (1.0 + 2.0j))), (np.array([0.3, -1.2, 2.0]),)),
    "tanh(W x) . x": (lambda x: hnp.tanh(np.arange(6.0, dtype=np.float32).reshape(2, 3) @ x) @ x[:2],
                      (np.array([0.1, -0.2, 0.3]),)),
    "eigvalsh": (lambda a: hnp.linalg.eigvalsh(a + a.T), (np.array([[2.0, 0.5], [0.1, 1.0]]),)),
    "logsumexp-ish": (lambda x: hnp.log(hnp.sum(hnp.exp(x))), (np.array([0.3, -1.2, 0.5]),)),
    # Taylor mode's zero-start branch (sqrt of a series starting at t^2) made float64 constants under vmap
    "linalg.norm": (lambda x: hnp.linalg.norm(x) * x, (np.array([0.3, -1.2, 0.5]),)),
    "sqrt(x*x) at 0": (lambda x: hnp.sqrt(x * x), (np.array([0.0, -1.2]),)),
    # a float64 grid (plain spacings) made the Hessians of a float32 f float64 (the JAX audit's find)
    "gradient on a float64 grid": (lambda y: hnp.gradient(y, np.array([0.0, 0.1, 0.3, 0.6]), edge_order=2) ** 2,
                                   (np.array([0.3, -1.2, 0.5, 2.0]),)),
}


@pytest.mark.parametrize("name", sorted(REPRESENTATIVES))
def test_every_route_keeps_float32(name):
    f, args = REPRESENTATIVES[name]
    args32 = tuple(a.astype(np.float32) for a in args)
    args64 = tuple(a.astype(np.float64) for a in args)
    routes32, routes64 = real_routes(f, args32), real_routes(f, args64)
    for route in routes32:
        result32 = _check_precision(routes32[route], np.float32, f"{name} / {route}")
        # and the float32 numbers are float64's, to float32 accuracy: not a float64 result cast late,
        # not garbage
        leaves32 = [np.asarray(leaf) for leaf in _leaves(result32)]
        leaves64 = [np.asarray(leaf) for leaf in _leaves(routes64[route]())]
        assert len(leaves32) == len(leaves64)
        for a, b in zip(leaves32, leaves64):
            np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4 * (1 + np.nanmax(np.abs(b), initial=0)),
                                       err_msg=f"{name} / {route}")


# ----------------------------------------------------------------- complex64

HOLOMORPHIC = {
    "z**2": lambda z: z ** 2,
    "z**3.0": lambda z: z ** 3.0,
    "sin*exp": lambda z: hnp.sin(z) * hnp.exp(z),
    "1/(1+z**2)": lambda z: 1 / (1 + z ** 2),
    "log": lambda z: hnp.log(z),
    "tanh": hnp.tanh,
    "cumsum": lambda z: hnp.cumsum(z * z),
    "fft": lambda z: hnp.fft.fft(z * z),
    "matmul": lambda z: (np.arange(6.0).reshape(2, 3).astype(np.complex64) @ z) * z[:2],
}


def complex_routes(f, z):
    s = lambda z: hnp.sum(f(z))  # noqa: E731
    ones = np.ones_like(z)
    routes = {
        "grad[holomorphic]": lambda: hd.grad(s, holomorphic=True)(z),
        "vjp": lambda: hd.vjp(f, z)[1](np.ones_like(f(z))),
        "jvp": lambda: hd.jvp(f, (z,), (ones,)),
        "linearize": lambda: hd.linearize(f, z)[1](ones),
        "taylor[3]": lambda: hd.taylor(f, z, ones, order=3),
        "jet[2]": lambda: hd.jet(f, (z,), ([ones, ones],)),
        "vmap": lambda: hd.vmap(f)(np.stack([z, z])),
        "derivative[taylor, 2]": lambda: hd.derivative(lambda t: s(z + t), order=2)(np.complex64(0.0)),
        "derivative[nested, 2]": lambda: hd.derivative(lambda t: s(z + t), order=2, mode="nested")(np.complex64(0.0)),
        "Variable.backward": lambda: (lambda v: (s(v).backward(), v.grad))(hd.Variable(z)),
    }
    for mode in ("fwd", "rev", "auto"):
        routes[f"jacobian[{mode}]"] = lambda m=mode: hd.jacobian(f, mode=m, holomorphic=True)(z)
    for mode in ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd"):
        routes[f"hessian[{mode}]"] = lambda m=mode: hd.hessian(s, mode=m, holomorphic=True)(z)
    return routes


@pytest.mark.parametrize("name", sorted(HOLOMORPHIC))
def test_complex64_stays_complex64(name):
    f = HOLOMORPHIC[name]
    z = np.array([0.5 + 0.25j, -0.75 + 0.5j, 1.0 - 0.5j])
    routes64 = complex_routes(f, z.astype(np.complex128))
    for route, thunk in complex_routes(f, z.astype(np.complex64)).items():
        result = _check_precision(thunk, np.complex64, f"{name} / {route}")
        for leaf32, leaf64 in zip(_leaves(result), _leaves(routes64[route]())):
            assert np.result_type(leaf32) == np.complex64, f"{name} / {route}: {np.result_type(leaf32)}"
            np.testing.assert_allclose(leaf32, leaf64, rtol=2e-4, atol=2e-4, err_msg=f"{name} / {route}")


# ----------------------------------------------------------------- the reproductions (issue 12, item 2)

@pytest.mark.parametrize("mode", ["fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd"])
@pytest.mark.parametrize("power", [2, 3.0])
def test_hessian_of_a_power_stays_float32(mode, power):
    x = np.array([1.0, 2.0], dtype=np.float32)
    H = hd.hessian(lambda x: hnp.sum(x ** power), mode=mode)(x)
    assert H.dtype == np.float32
    np.testing.assert_allclose(H, np.diag(power * (power - 1) * x ** (power - 2)), rtol=1e-6)


@pytest.mark.parametrize("power", [2, 3.0])
def test_jacrev_of_grad_and_derivative_tensor_stay_float32(power):
    x = np.array([1.0, 2.0], dtype=np.float32)
    f = lambda x: hnp.sum(x ** power)  # noqa: E731
    assert hd.jacrev(hd.grad(f))(x).dtype == np.float32
    T = hd.derivative_tensor(f, 3)(x)
    assert T.dtype == np.float32
    expected = np.zeros((2, 2, 2), dtype=np.float32)
    for i in range(2):
        expected[i, i, i] = power * (power - 1) * (power - 2) * x[i] ** (power - 3)
    np.testing.assert_allclose(T, expected, rtol=1e-6, atol=1e-6)


def test_python_float_tangents_stay_weak():
    # Nested derivatives in a Python scalar t (Taylor mode's fallback does this for every primitive
    # without a Taylor rule) must not make float32 series float64.
    a = np.array([[2.0, 0.5], [0.5, 1.0]], dtype=np.float32)
    coefficients = hd.taylor(hnp.linalg.eigvalsh, a, np.ones_like(a), order=2)
    assert coefficients.dtype == np.float32
    out, tangent = hd.jvp(lambda t: t * np.float32(2.0), (0.5,), (1.0,))
    assert np.result_type(tangent) == np.float32


def test_jet_keeps_float32():
    x = np.array([0.5, 1.0], dtype=np.float32)
    out, series = hd.jet(hnp.sin, (x,), ([np.ones_like(x), np.zeros_like(x)],))
    assert out.dtype == np.float32 and all(term.dtype == np.float32 for term in series)
    np.testing.assert_allclose(series[1], -np.sin(x), rtol=1e-6)


def test_jacrev_of_a_real_function_through_complex_values_is_real():
    # grad projected the imaginary part a real input's cotangent picks up; jacrev kept it (complex128
    # Jacobian of a real function of a real input, and reverse-over-reverse Hessians then refused it).
    f = lambda x: hnp.real(hnp.fft.fft(x * (1.0 + 2.0j)))  # noqa: E731
    x = np.array([0.3, -1.2, 2.0])
    J_rev, J_fwd = hd.jacrev(f)(x), hd.jacfwd(f)(x)
    assert J_rev.dtype == np.float64
    np.testing.assert_allclose(J_rev, J_fwd, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(J_rev, np.real(np.fft.fft(np.eye(3) * (1.0 + 2.0j), axis=0)), atol=1e-12)
    H = hd.hessian(lambda x: hnp.sum(f(x) ** 2), mode="rev-rev")(x.astype(np.float32))
    assert H.dtype == np.float32


def test_integer_inputs_are_refused_by_every_transform():
    x = np.array([1, 2])
    f = lambda x: hnp.sum(x * x)  # noqa: E731
    for transform in (hd.grad(f), hd.jacobian(f), hd.jacfwd(f), hd.jacrev(f), hd.hessian(f),
                      hd.derivative_tensor(f, 2), lambda x: hd.jvp(f, (x,), (x,)), lambda x: hd.vjp(f, x),
                      lambda x: hd.linearize(f, x), lambda x: hd.hvp(f, (x,), (x,)),
                      lambda x: hd.taylor(f, x, x, order=2), lambda x: hd.Variable(x)):
        with pytest.raises(TypeError, match="int"):
            transform(x)
