"""Differential fuzzing: random programs, every route to their derivatives must agree.

The generator and the driver are public (``hodiff.testing.fuzz``, whose
docstring lists the routes, the tolerances and the constructs left out on
purpose with the convention that excludes each). Here hypothesis draws the
programs (derandomized by the CI profile in conftest.py) and shrinks a failure
to a small program whose reproducer is printed.

CI runs a bounded number of programs per route family; a long run before a
release: ``HODIFF_FUZZ_EXAMPLES=5000 python -m pytest tests/test_differential.py``
or ``python -m hodiff.testing.fuzz --programs 5000``.
"""

import os

import numpy as np
import pytest
from hypothesis import Phase, given, settings

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.testing import fuzz
from hodiff.testing.fuzz import Program, assert_routes_agree, compare_routes, programs, random_program

LONG_RUN = "HODIFF_FUZZ_EXAMPLES" in os.environ


def examples(ci_count):
    """``ci_count`` programs in CI; ``HODIFF_FUZZ_EXAMPLES`` programs in a long run.

    CI does not shrink (one shrink of a Hessian failure took 325 s): a failure
    there prints its unshrunk program's reproducer; the long run shrinks.
    """
    if LONG_RUN:
        return settings(max_examples=int(os.environ["HODIFF_FUZZ_EXAMPLES"]))
    return settings(max_examples=ci_count, phases=[Phase.explicit, Phase.reuse, Phase.generate])


F64 = ("float64",)


# ---------------------------------------------------------------- the fuzzed routes

@examples(40)
@given(programs(kind="gradient", dtypes=F64))
def test_gradient_routes_agree(program):
    assert_routes_agree(program, ["gradient"])


@examples(40)
@given(programs(kind="any", dtypes=F64))
def test_jacobian_routes_agree(program):
    assert_routes_agree(program, ["jacobian"])


@examples(30)
@given(programs(kind="gradient", dtypes=F64))
def test_hessian_and_hvp_routes_agree(program):
    assert_routes_agree(program, ["hessian"])


@examples(30)
@given(programs(kind="gradient", dtypes=F64))
def test_graph_api_agrees_with_grad(program):
    assert_routes_agree(program, ["graph"])


@examples(30)
@given(programs(kind="any", dtypes=F64))
def test_taylor_jet_and_nested_agree(program):
    assert_routes_agree(program, ["taylor"])


@examples(30)
@given(programs(kind="scalar", dtypes=F64))
def test_derivative_taylor_and_nested_agree_to_order_6(program):
    assert_routes_agree(program, ["derivative"])


@examples(30)
@given(programs(kind="any", dtypes=F64))
def test_vmap_agrees_with_a_loop(program):
    assert_routes_agree(program, ["vmap"])


@examples(10)
@given(programs(kind="gradient", dtypes=("float32",)))
def test_float32_stays_float32_on_every_route(program):
    assert_routes_agree(program, ["float32"])


@examples(40)
@given(programs(kind="any", dtypes=F64))
def test_sparse_jacobian_and_its_pattern_agree_with_the_dense_jacobian(program):
    assert_routes_agree(program, ["sparse"])


@examples(30)
@given(programs(kind="gradient", dtypes=F64))
def test_sparse_hessian_and_its_pattern_agree_with_the_dense_hessian(program):
    assert_routes_agree(program, ["sparse"])


@examples(30)
@given(programs(kind="any", dtypes=F64))
def test_replayed_routes_equal_the_routes_bit_for_bit(program):
    assert_routes_agree(program, ["replay"])


def test_routes_agree_when_recordings_stub_even_small_unread_values():
    # A recording stubs the values no rule of a traced argument reads (Primitive.declare_reads), but only
    # arrays of 4096 entries and more, which the fuzzer's programs rarely make: here every size. The
    # driver's own seeded programs, scalar, gradient and any in turn: a wrong declaration (x / y's x-rule
    # said not to read y) fails 3 of these 120.
    import hodiff.interpreters.reverse as reverse

    failures = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reverse, "_BIG", 1)
        for i in range(120):
            report = compare_routes(random_program(160_000 + i, kind=("scalar", "gradient", "any")[i % 3]),
                                    ["gradient", "hessian"])
            if not report.ok:
                failures.append(f"seed {160_000 + i}: {report.summary()}")
    assert not failures, "\n".join(failures)


def test_the_driver_reports_a_stale_replay(monkeypatch):
    # A replay that returned what was recorded instead of recomputing: every replayed route is wrong.
    from hodiff.transforms import replay

    def stale(self, leaves, strict=False):
        return self.stale

    monkeypatch.setattr(replay.Program, "__call__", stale)
    real_record = replay._record

    def record_and_remember(f, leaves, in_tree):
        result, program = real_record(f, leaves, in_tree)
        if program is not None:
            program.stale = hd.tree_flatten(result)[0]
        return result, program

    monkeypatch.setattr(replay, "_record", record_and_remember)
    report = compare_routes(Program("lambda x: hnp.sin(x) * x", np.array([0.3, -1.0])), ["replay"])
    failed = {c.route for c in report.failures}
    assert "record(f) replayed" in failed and "record(jacobian(mode='rev')) replayed" in failed


# ---------------------------------------------------------------- seeds: programs that found bugs

# Issue 12's programs: powers with base 0 where the function is analytic.
SEEDS = [
    ("lambda x: x ** 2", 0.0),
    ("lambda x: x ** 3", 0.0),
    ("lambda x: hnp.sin(x) * hnp.exp(-x ** 2 / 2)", 0.0),
    ("lambda x: 1.0 / (1.0 + x ** 2)", 0.0),
    ("lambda x: x ** 2 * hnp.cos(x)", 0.0),
    ("lambda x: hnp.sum(x ** 4)", np.array([0.0, 1.0, -0.5])),
    # the exponent passes through 0 in the nested derivatives of x ** (x + 1) at x = 1... see test below
    ("lambda x: hnp.power(1.5 + x, x + 1.0)", 1.0),
]


@pytest.mark.parametrize("source, point", SEEDS, ids=[s for s, _ in SEEDS])
def test_seed_programs(source, point):
    assert_routes_agree(Program(source, np.asarray(point, dtype=np.float64)))


# ---------------------------------------------------------------- the fuzzer itself

def test_campaign_tally_names_the_failing_seeds_and_a_seed_redraws_its_program(monkeypatch, capsys):
    # --quiet prints no reproducer, so the tally names the seeds; a program's kind follows its seed (seed % 3
    # under --kind mixed), so --seed S --programs 1 draws the campaign's program S again
    def fake_compare(program, checks):
        report = fuzz.Report(program)
        bad = "sin" in program.source  # any rule that splits the drawn programs into two groups
        report.comparisons.append(fuzz.Comparison("taylor", "a route", "another", 1.0 if bad else 0.0, 0.5))
        return report

    monkeypatch.setattr(fuzz, "compare_routes", fake_compare)
    status = fuzz.main(["--programs", "30", "--seed", "100", "--quiet"])
    out = capsys.readouterr().out
    failing = [100 + i for i in range(30) if "sin" in random_program(100 + i, kind=("scalar", "gradient",
                                                                                    "any")[(100 + i) % 3]).source]
    assert failing and len(failing) < 30
    assert status == 1 and f"failing seeds: {', '.join(map(str, failing))}" in out
    assert f"{len(failing)} programs," in out.splitlines()[0].split("failed comparisons in ")[1]
    for seed in failing[:2]:
        capsys.readouterr()
        assert fuzz.main(["--programs", "1", "--seed", str(seed), "--quiet"]) == 1
        assert f"failing seeds: {seed}" in capsys.readouterr().out


def test_programs_print_as_python_that_rebuilds_them():
    for seed in range(40):
        program = random_program(seed)
        again = eval(repr(program), {"Program": Program, "np": np})  # noqa: S307
        assert again.source == program.source
        assert again.point.dtype == program.point.dtype
        np.testing.assert_array_equal(again.point, program.point)
        namespace = {}
        exec(program.reproducer(), namespace)  # noqa: S102
        np.testing.assert_array_equal(np.asarray(namespace["f"](namespace["x"])), np.asarray(program(program.point)))


def test_generator_reaches_the_whole_namespace():
    sources = " ".join(random_program(seed, kind=kind).source
                       for seed in range(150) for kind in ("any", "gradient", "scalar"))
    for construct in ("hnp.linalg.det", "hnp.linalg.solve", "hnp.linalg.inv", "hnp.linalg.cholesky",
                      "hnp.linalg.eigh", "hnp.linalg.slogdet", "hnp.linalg.norm", "hnp.einsum",
                      "hnp.tensordot", " @ ", "hnp.where", "hnp.concatenate", "hnp.stack", "hnp.reshape",
                      "hnp.transpose", "hnp.moveaxis", "hnp.squeeze", "hnp.expand_dims", "[::2]",
                      "axis=", "keepdims=True", "hsp.", "hnn.", "** 2", "** 3", "hnp.log", "hnp.sqrt"):
        assert construct in sources, construct
    points = [random_program(seed, kind="scalar").point for seed in range(60)]
    assert any(p == 0.0 for p in points) and any(p == 1.0 for p in points) and any(p == -1.0 for p in points)
    assert any(p.dtype == np.float32 for p in points) and any(p.dtype == np.float64 for p in points)


def test_the_driver_reports_a_wrong_forward_rule():
    # A forward rule that is off by a factor 2: reverse mode (which transposes
    # it) agrees with forward mode, but central differences do not.
    @hd.custom_jvp
    def wrong_sin(x):
        return hnp.sin(x)

    @wrong_sin.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return wrong_sin(x), 2.0 * hnp.cos(x) * t

    program = Program("lambda x: hnp.sum(wrong_sin(x))", np.array([0.3, -1.0]))
    program.function = lambda x: hnp.sum(wrong_sin(x))
    report = compare_routes(program, ["gradient", "jacobian"])
    failed = {(c.route, c.reference) for c in report.failures}
    assert ("grad", "central differences") in failed
    assert ("jacobian(mode='rev')", "central differences") in failed
    with pytest.raises(AssertionError, match="lambda x: hnp.sum"):
        assert_routes_agree(program, ["gradient"])


def test_the_driver_reports_reverse_and_forward_rules_that_differ():
    @hd.primitive
    def cube(x):
        return np.asarray(x) ** 3

    hd.defvjp(cube, lambda ans, x: lambda g: g * 3.0 * x ** 2)
    hd.defjvp(cube, lambda t, ans, x: t * 3.0 * x)          # wrong: should be 3 x^2
    program = Program("lambda x: hnp.sum(cube(x))", np.array([0.5, 2.0]))
    program.function = lambda x: hnp.sum(cube(x))
    failed = {(c.route, c.reference) for c in compare_routes(program, ["gradient"]).failures}
    assert ("jacobian(mode='fwd')", "grad") in failed
    assert ("grad", "central differences") not in failed


def test_the_float32_check_reports_a_promoting_route():
    # f itself keeps float32, but its derivative rule multiplies by a float64 array.
    @hd.primitive
    def scaled(x):
        return np.asarray(x) * np.float32(2.0)

    hd.defvjp(scaled, lambda ans, x: lambda g: g * np.float64(2.0) * np.ones(np.shape(x)))
    hd.defjvp(scaled, lambda t, ans, x: t * np.ones(np.shape(x)) * 2.0)
    program = Program("lambda x: hnp.sum(scaled(x))", np.array([1.0, 2.0], dtype=np.float32))
    program.function = lambda x: hnp.sum(scaled(x))
    report = compare_routes(program, ["float32"])
    assert any("dtype float64" in c.detail for c in report.failures)


def test_fd_tolerance_comes_from_scipy_error_estimate():
    # The FD check passes an exact gradient and fails one that is off by far
    # more than scipy's error estimate, with no per-program tolerance.
    program = Program("lambda x: hnp.sum(hnp.exp(hnp.sin(x)))", np.array([0.25, -1.5]))
    checker = fuzz._Checker(fuzz.Report(program), "gradient")
    df, err, ok = fuzz._fd_jacobian(program)
    exact = np.cos(program.point) * np.exp(np.sin(program.point))
    checker.against_fd("exact", exact.reshape(df.shape), "fd", (df, err, ok))
    checker.against_fd("off by 1e-5", (exact * (1 + 1e-5)).reshape(df.shape), "fd", (df, err, ok))
    first, second = checker.report.comparisons
    assert first.ok and not second.ok
    assert first.tolerance < 1e-5


def test_routes_of_a_float32_program_agree_to_float32_precision():
    # Found by the long run (seed 10078): hvp and hessian @ v of a float32 program differ by
    # float32 rounding, 2.3e-8, which the float64 route tolerance (1.5e-8) called a failure.
    program = Program("lambda x: hnp.arccos(0.5 * hnp.tanh((x + np.array([0.99, -1.14, -1.42], dtype=np.float32))"
                      " @ np.array([1.37, 0.18, 0.8], dtype=np.float32)))", np.array(-0.575, dtype=np.float32))
    report = compare_routes(program)
    assert report.ok, report.summary()
    # still a real check: a float32 route that is wrong by 1e-3 fails
    report.comparisons.clear()
    fuzz._Checker(report, "hessian").agree("wrong", 0.5851, "right", 0.5844)
    assert not report.ok


def test_a_float32_program_meets_central_differences_to_float32_precision():
    # Found by the long run (seed 50682): the 4th Taylor coefficient of a float32 program is
    # 2.3e-7 from scipy's float64 differences (float32 rounding), over the float64 tolerance.
    source = ("lambda x: ((((hnp.stack([(x[0]), (-0.51)], axis=0)) @ (hnp.einsum('ji,j->i', (hnp.reshape("
              'hnp.ravel(x)[np.array([0, 0, 1, 0])], (2, 2))), x)))) / (1.0 + ((1.0 + (hsp.softplus((x[0]'
              '))) ** 2) ** hnp.tanh((hnp.reshape((np.array([[-0.48]], dtype=np.float32)), ())))) ** 2))')
    report = compare_routes(Program(source, np.array([2.0, -1.0], dtype=np.float32)))
    assert report.ok, report.summary()


def test_a_plain_dot_of_a_broadcast_view_is_the_bits_its_replay_gives():
    # Found by the fuzz (seed 72439): hnp.dot on plain arrays called numpy's dot, another kernel than the
    # matmul the dot primitive runs, so on a broadcast (stride-0) view f(x) and record(f)(x) differed by 1 ulp.
    source = ("lambda x: hnp.dot((hnp.broadcast_to((hnp.reshape((hnp.reshape(hnp.ravel(x)[np.array([1, 0])], (2, "
              "1))), (1, 2))), (3, 2))), (hnp.linalg.norm(1.5 + hnp.tanh((hnp.linalg.solve(((np.array([[2.0, 0.5], "
              "[-0.25, 1.5]]) + 0.1 * hnp.tanh((hnp.reshape(hnp.ravel(x)[np.array([2, 0, 2, 1])], (2, 2)))))), "
              "(hnp.reshape(hnp.ravel(x)[np.array([1, 2, 0, 2])], (2, 2)))))), axis=-1)))")
    report = compare_routes(Program(source, np.array([-2.0, -1.298, -1.0])), ["replay"])
    assert report.ok, report.summary()


def test_slogdet_of_one_matrix_is_numpy_scalars_in_every_route():
    # Found by the long fuzz run (seed 1918): traced slogdet gave 0-d arrays where the plain path gives numpy
    # scalars, and tanh computes the two along different loops: f(x) and record(f)(x) differed in the last bit.
    source = ("lambda x: hnp.arctanh(0.5 * hnp.tanh((hnp.linalg.slogdet(((np.array([[2.0, 0.5, -0.25], [0.25, "
              "1.75, 0.5], [-0.5, 0.25, 2.25]]) + 0.1 * hnp.tanh((hsp.gammaln(0.5 + (hnp.reshape(hnp.ravel(x)["
              "np.array([4, 1, 1, 3, 2, 5, 0, 5, 2])], (3, 3))) ** 2))))))[1])))")
    report = compare_routes(Program(source, np.array([[2.0, 1.049, 0.5], [1.0, 0.0, -1.815]])), ["replay"])
    assert report.ok, report.summary()


def test_rules_lay_cotangents_out_as_numpy_in_every_route():
    # Found by the long fuzz run (seed 1840): tanh's fast rule and its general rule (what hd.record replays)
    # laid the cotangent out in different memory orders, and the einsum's rule summed it in another order.
    source = ("lambda x: hnp.linalg.eigvalsh(((lambda t: np.array([[1.0, 0.0, 0.0], [0.0, 2.5, 0.0], [0.0, 0.0, "
              "4.0]]) + t + hnp.swapaxes(t, 0, 1))(0.1 * hnp.tanh((hnp.linalg.cholesky(((lambda t: np.array([[1.0, "
              "0.0, 0.0], [0.0, 2.5, 0.0], [0.0, 0.0, 4.0]]) + t + hnp.swapaxes(t, 0, 1))(0.1 * hnp.tanh((hnp.einsum("
              "'ki,jk->ij', (hnp.reshape(hnp.ravel(x)[np.array([2, 3, 0, 1, 2, 0])], (2, 3))), (hnp.reshape(hnp.ravel("
              "x)[np.array([1, 2, 3, 1, 2, 2])], (3, 2))))))))))))))[-1]")
    report = compare_routes(Program(source, np.array([[-0.5, 1.0], [-0.5, 0.5]])), ["replay"])
    assert report.ok, report.summary()


def test_nested_mode_keeps_log_cosh_high_derivatives_at_saturation():
    # Found by the long run (seed 202481): the 5th and 6th derivatives of log(cosh(u)), u = y**4 ~ 19 at
    # y = -2.09, differed between Taylor and nested mode by 2e-7 and 7e-5 (1.4e-4 at y = 2.15), over the route
    # tolerance. Nested mode's chain is sinh (1/c); true_divide's y-rule took -(1/c)/c before the incoming
    # cotangent, so each order rounded the small factor (1/c)^2 ~ 1e-16 alone. Multiplying the cotangent in
    # first brings nested mode to Taylor's own rounding, ~ 10 eps u'**6 ~ 3e-6. Reference: mpmath at 60 digits.
    import mpmath

    f = lambda y: hnp.log(hnp.cosh(y ** 4))
    for y in (-2.09, -1.95, 2.15):
        with mpmath.workdps(60):
            exact = [float(mpmath.diff(lambda t: mpmath.log(mpmath.cosh(t ** 4)), mpmath.mpf(y), k)) for k in (5, 6)]
        for mode in ("taylor", "nested"):
            got = [hd.derivative(f, order=k, mode=mode)(y) for k in (5, 6)]
            np.testing.assert_allclose(got, exact, rtol=0, atol=2e-5, err_msg=f"{mode} at {y}")


# ---------------------------------------------------------------- the sparse family

def _dropping_sin_rule(monkeypatch):
    """Make sparsity detection's rule for sin drop every dependency (a rule that misses entries)."""
    from hodiff.core.trace import registry
    from hodiff.transforms import sparsity

    sin = registry["sin"]
    good = sparsity._rule_for(sin)

    def dropping(step):
        good(step)
        return sparsity._empty(step.out_size, step.trace.n), []

    monkeypatch.setitem(sparsity._rules, sin, dropping)


def test_the_sparse_check_reports_a_rule_that_misses_entries(monkeypatch):
    _dropping_sin_rule(monkeypatch)
    program = Program("lambda x: hnp.sum(hnp.sin(x[::-1]) * x ** 2)", np.array([0.3, -1.0, 2.0]))
    report = compare_routes(program, ["sparse"])
    failed = {c.route: c for c in report.failures}
    assert "hessian_sparsity holds every nonzero" in failed
    assert "sparse_hessian" in failed  # the wrong pattern gives a wrong sparse Hessian
    detail = failed["hessian_sparsity holds every nonzero"].detail
    assert "MISSED entries" in detail and "(0, 2)" in detail
    assert "rule that misses: v1 = sin(...)" in detail  # the primitive whose rule is wrong, named
    assert "v0 = getitem(x, index=slice(None, None, -1))" in detail  # and the primitive-level program
    program = Program("lambda x: hnp.sin(x) * 2.0", np.array([0.3, -1.0]))
    failed = {c.route for c in compare_routes(program, ["sparse"]).failures}
    assert "jacobian_sparsity holds every nonzero" in failed
    assert {f"sparse_jacobian(mode={m!r}, layout='numerator')" for m in ("auto", "fwd", "rev")} <= failed


def test_value_dependent_control_flow_is_a_refusal_not_a_failure():
    program = Program("lambda x: hnp.sum(hnp.sin(x) if x[0] > 0 else -x)", np.array([0.5, 1.0]))
    report = compare_routes(program, ["sparse"])
    assert report.ok, report.summary()
    refused = [route for _, route, _ in report.refusals]
    assert refused == ["jacobian_sparsity", "sparse_jacobian", "hessian_sparsity", "sparse_hessian"]
    assert all("value-dependent control flow" in message for _, _, message in report.refusals)
    assert "[refused] sparse: jacobian_sparsity: TracedConversionError" in report.summary()


def test_any_other_error_of_sparsity_detection_is_a_failure():
    from hodiff.transforms.sparsity import SparsityTracer

    def f(x):
        if isinstance(x, SparsityTracer):
            raise TypeError("an unclear TypeError inside detection")
        return hnp.sum(hnp.sin(x))

    program = Program("lambda x: hnp.sum(hnp.sin(x))", np.array([0.5, 1.0]))
    program.function = f
    report = compare_routes(program, ["sparse"])
    assert not report.refusals
    failed = {c.route for c in report.failures}
    assert {"jacobian_sparsity", "hessian_sparsity"} <= failed
    assert any("an unclear TypeError" in c.detail for c in report.failures)


def test_a_nan_of_the_dense_route_is_no_missed_entry_but_still_a_failure():
    # At x[0] = 0, sqrt's derivative is inf: reverse mode gives 0 * inf = nan for x[1] too, whose entry
    # the pattern rightly leaves out (x[1] * 0.0 has zero derivative). Not a miss; the non-finite
    # Jacobian fails the value comparisons, as it would on any route.
    report = compare_routes(Program("lambda x: hnp.sqrt(x[0] ** 2 + x[1] * 0.0)", np.array([0.0, 1.0])), ["sparse"])
    assert not report.ok
    assert not [c for c in report.failures if "holds every nonzero" in c.route]
    assert any("non-finite" in c.detail for c in report.failures)


def test_logaddexp_of_a_large_polynomial_keeps_its_taylor_coefficients():
    # Found by the fuzz (seed 350176): logaddexp's Taylor rule was log(e^{x(t)-ans} + e^{y(t)-ans}); x(t) = x^3 q(x)
    # (coefficients ~300) made the exponentials' coefficients ~1e12, and the log's division left the 6th
    # derivative 0.35 for ~0 (float32: 7.5e8). The rule now integrates the softmax weights' series.
    source = ("lambda x: hnp.logaddexp((hnp.multiply((x ** 3), (hnp.einsum('ij,ij->', ((x * np.array([[-0.93, -0.72, "
              "-0.96], [-0.5, -0.13, -0.76]], dtype=np.float32))), ((x + np.array([[1.18, 0.62, -0.8], [-1.41, -1.09, "
              "-0.16]], dtype=np.float32))))))), (hnp.where(np.array(False), (hnp.broadcast_to(x, ())), "
              "(hnp.linalg.norm(1.5 + hnp.tanh(((x + np.array([[-0.06, -0.34], [-1.17, -1.35]], "
              "dtype=np.float32)))))))))")
    report = compare_routes(Program(source, np.float32(-2.0)), ["derivative", "float32"])
    assert report.ok, report.summary()


def test_a_replay_at_an_overflowing_point_is_compared_bit_for_bit():
    # Found by the fuzz (seed 360566): the replay check's second point is not screened, and there
    # 2.47 ** erfcx(-3.1) overflowed for f and its replay alike; "non-finite at a smooth point" called it a failure
    source = ("lambda x: hsp.logsumexp((hnp.power(1.5 + hnp.sin((hnp.power(1.5 + hnp.sin(((x + np.array([-0.55]))))"
              ", ((x + np.array([-1.18])))))), (hsp.erfcx(((x + np.array([-1.16, -1.23, -0.68]))))))))")
    report = compare_routes(Program(source, np.float64(2.0)), ["replay"])
    assert report.ok and len(report.comparisons) == 7, report.summary()
    # still a real check: an inf of the other sign, or a finite entry that moved, is a failure
    checker = fuzz._Checker(report, "replay")
    checker.identical("replayed", np.array([np.inf, 2.0]), "f", np.array([-np.inf, 2.0]))
    checker.identical("replayed", np.array([np.nan, 2.0]), "f", np.array([np.nan, 2.0000000001]))
    assert [c.ok for c in report.comparisons[-2:]] == [False, False]
