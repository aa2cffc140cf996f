"""hd.record: a replayed program gives exactly the numbers of the function it recorded, on new inputs, along
every transform; guards catch another path; what cannot be replayed is called directly."""

import functools
import math

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.core.work import count_work
from hodiff.transforms import replay

RNG = np.random.default_rng(16)
V = RNG.standard_normal(5)


def f(x):
    return hnp.sum(hnp.sin(x) * hnp.exp(hnp.cos(x[::-1])) / (1 + x ** 2))


def g(t):
    return hnp.sin(t) * hnp.exp(-t * t / 2)


# (name, function of x, scalar input?)
ROUTES = [
    ("grad", hd.grad(f), False),
    ("value_and_grad", hd.value_and_grad(f), False),
    *[(f"hessian {mode}", hd.hessian(f, mode=mode), False) for mode in ("fwd-rev", "rev-rev", "rev-fwd", "fwd-fwd")],
    ("hvp", lambda x: hd.hvp(f, (x,), (V,))[0], False),
    ("jacobian rev", hd.jacobian(lambda x: hnp.sin(x) * x[0], mode="rev"), False),
    ("jacobian fwd denominator", hd.jacobian(lambda x: hnp.tanh(x) * x[1], mode="fwd", layout="denominator"), False),
    ("jvp", lambda x: hd.jvp(lambda y: hnp.cumsum(y ** 3), (x,), (V,))[1], False),
    ("vmap grad", lambda x: hd.vmap(hd.grad(lambda y: hnp.sum(hnp.tanh(y) * y)))(hnp.reshape(x[:4], (2, 2))), False),
    ("derivative 8 taylor", hd.derivative(g, order=8), True),
    ("derivative 4 nested", hd.derivative(g, order=4, mode="nested"), True),
    ("laplacian", hd.laplacian(f), False),
    ("where", hd.grad(lambda x: hnp.sum(hnp.where(x > 0, x ** 2, hnp.sin(x)))), False),
    ("matmul", hd.grad(lambda x: hnp.sum(hnp.tanh(hnp.matmul(hnp.reshape(x[:4], (2, 2)), x[1:3])) ** 2)), False),
]


@pytest.mark.parametrize("name, route, scalar", ROUTES, ids=[r[0] for r in ROUTES])
def test_replay_equals_the_function_exactly_at_new_points(name, route, scalar):
    recorded = hd.record(route)
    points = [RNG.standard_normal(5) for _ in range(3)]
    if scalar:
        points = [float(p[0]) for p in points]
    for point in points:
        expected = route(point)
        got = recorded(point)
        for a, b in zip(hd.tree_flatten(got)[0], hd.tree_flatten(expected)[0]):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # the same calls: the same bits
    assert recorded.recordings == 1 and recorded.replays == 2
    assert len(recorded.program) > 0 and recorded.program.guards == 0  # comparisons replay, no guard


def test_a_branch_is_a_guard_and_another_branch_records_again():
    def branching(x):
        return hnp.sum(x ** 2) if x[0] > 0 else hnp.sum(x ** 3)

    grad = hd.record(hd.grad(branching))
    up, down = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 2.0, 3.0])
    np.testing.assert_array_equal(grad(up), 2 * up)
    np.testing.assert_array_equal(grad(up + 1), 2 * (up + 1))
    assert (grad.recordings, grad.replays, grad.program.guards) == (1, 1, 1)
    np.testing.assert_array_equal(grad(down), 3 * down ** 2)  # the guard fails: recorded afresh
    assert grad.recordings == 2
    strict = hd.record(hd.grad(branching), strict=True)
    strict(up)
    with pytest.raises(hd.ReplayError, match="bool\\(\\) of value .* was True when the program was recorded"):
        strict(down)


def test_a_value_taken_out_by_plain_numpy_is_guarded_on_the_whole_value():
    scale = hd.record(lambda x: x * float(np.asarray(x).sum()))
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(scale(x), x * 3.0)
    np.testing.assert_array_equal(scale(2 * x), 2 * x * 6.0)  # not the frozen 3.0
    assert scale.recordings == 2 and scale.replays == 0
    np.testing.assert_array_equal(scale(2 * x), 2 * x * 6.0)
    assert scale.replays == 1


def test_a_value_read_at_zero_tells_minus_zero_apart():
    # copysign and signbit see -0.0; a guard that compared with == replayed the 0.0 recording at -0.0.
    def signed(x):
        return x * math.copysign(1.0, float(x[0]))

    def signbit_weighted(x):
        return hnp.sum(x ** 2) * np.where(np.signbit(np.asarray(hd.stop_gradient(x))), -1.0, 1.0).sum()

    plus, minus = np.array([0.0, 2.0]), np.array([-0.0, 2.0])
    for f, reference in [(signed, signed), (hd.grad(signbit_weighted), hd.grad(signbit_weighted))]:
        recorded = hd.record(f)
        recorded(plus)
        np.testing.assert_array_equal(recorded(minus), reference(minus))
        assert recorded.recordings == 2
        strict = hd.record(f, strict=True)
        strict(plus)
        with pytest.raises(hd.ReplayError, match="when the program was recorded and is .*-0\\..*now"):
            strict(minus)
    complex_read = hd.record(lambda z: z * math.copysign(1.0, complex(z[0]).imag))
    complex_read(np.array([1 + 0j]))
    np.testing.assert_array_equal(complex_read(np.array([complex(1, -0.0)])), [complex(-1, 0.0)])


def test_keyword_arguments_are_arguments_like_the_positional_ones():
    # record's wrapper took positional arguments only: f(x, p=3) raised "<lambda>() got an unexpected keyword".
    def power_sum(x, p=2, scale=1.0):
        return scale * hnp.sum(x ** p)

    recorded = hd.record(hd.grad(power_sum))
    x = np.array([0.5, 2.0])
    for kwargs in [{"p": 3}, {"p": 3}, {}, {"p": 3, "scale": 2.0}, {"p": 3, "scale": 5.0}, {"scale": 2.0, "p": 4}]:
        np.testing.assert_array_equal(recorded(x, **kwargs), hd.grad(power_sum)(x, **kwargs))
    assert recorded.replays == 2  # the second {"p": 3} and the second scale (a traced float) replay
    # f(x, w=x) and f((x,), {"w": x}) flatten alike; they are different calls, not one recording's replay
    either = hd.record(lambda *args, **kwargs: args[0] * kwargs["w"] if kwargs else args[0][0] + args[1]["w"])
    np.testing.assert_array_equal(either(x, w=x), x * x)
    np.testing.assert_array_equal(either((x,), {"w": x}), x + x)


def test_new_shapes_and_dtypes_record_again_and_dtypes_are_kept():
    grad = hd.record(hd.grad(f))
    grad(np.ones(5))
    grad(np.ones(7))
    out = grad(np.ones(5, dtype=np.float32))
    assert out.dtype == np.float32 and grad.recordings == 3
    grad(np.full(7, 0.5))
    assert grad.replays == 1


def test_python_ints_and_bools_are_static_arguments_keyed_by_value():
    # an int sizes an array (arange(n) cannot take a traced value), a bool picks a branch
    def loss(x, n, squared):
        t = hnp.arange(n) / n
        r = hnp.sum(x * t) if not squared else hnp.sum((x * t) ** 2)
        return r

    grad = hd.record(hd.grad(loss))
    x = RNG.standard_normal(4)
    for n, squared in [(4, False), (4, True), (4, False), (4, True)]:
        np.testing.assert_array_equal(grad(x + n, n, squared), hd.grad(loss)(x + n, n, squared))
    assert (grad.recordings, grad.replays) == (2, 2)
    y = RNG.standard_normal(5)
    np.testing.assert_array_equal(grad(y, 5, False), np.arange(5) / 5)  # another n: another signature
    assert grad.recordings == 3


def test_inside_another_transform_the_function_runs_directly():
    inner = hd.record(f)
    x = RNG.standard_normal(5)
    np.testing.assert_allclose(hd.grad(inner)(x), hd.grad(f)(x), rtol=1e-15)
    assert inner.recordings == 0
    # a closure over another transform's traced value: recorded, but never replayed
    w0 = RNG.standard_normal(5)

    def outer(w):
        return hd.record(lambda y: hnp.sum(hnp.sin(y * w)))(x)

    np.testing.assert_allclose(hd.grad(outer)(w0), hd.grad(lambda w: hnp.sum(hnp.sin(x * w)))(w0), rtol=1e-15)


def test_pytrees_in_and_out():
    def model(params, x):
        return {"y": hnp.tanh(hnp.matmul(x, params["w"]) + params["b"]), "norm": hnp.sum(params["w"] ** 2)}

    recorded = hd.record(hd.grad(lambda p, x: hnp.sum(model(p, x)["y"]) + model(p, x)["norm"]))
    for _ in range(2):
        params = {"w": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(2)}
        x = RNG.standard_normal((4, 3))
        expected = hd.grad(lambda p, x: hnp.sum(model(p, x)["y"]) + model(p, x)["norm"])(params, x)
        got = recorded(params, x)
        for key in ("w", "b"):
            np.testing.assert_array_equal(got[key], expected[key])
    assert recorded.replays == 1


def test_dead_applications_are_dropped_and_counts_match_the_work_counter():
    def wasteful(x):
        hnp.exp(x) * 3.0  # computed, never used
        return hnp.sum(hnp.sin(x))

    recorded = hd.record(hd.grad(wasteful))
    x = RNG.standard_normal(5)
    recorded(x)
    names = [step[1].name for step in recorded.program.steps if step[0] == "apply"]
    assert "exp" not in names and "sin" not in names and "cos" in names  # the gradient needs cos only
    with count_work() as eager:
        hd.grad(wasteful)(x)
    with count_work() as replayed:
        recorded(x)
    assert recorded.replays == 1
    assert replayed.calls == recorded.program.counts().calls  # the counter sees exactly the program
    assert replayed.entries == recorded.program.counts().entries
    assert recorded.program.counts().total_calls() < eager.total_calls()
    matmul = hd.record(lambda a: hnp.matmul(a, a.T))
    matmul(np.ones((3, 4)))
    assert matmul.program.counts().flops["matmul"] == 2 * 3 * 3 * 4
    assert "matmul(%0, %1)" in str(matmul.program)


def test_repeated_applications_are_done_once_and_only_when_certainly_the_same():
    def repetitive(x):
        a = hnp.sin(x[1:]) * hnp.sin(x[1:])       # the slice and the sine twice: once each in the program
        zeros = x * 0.0, x * -0.0, x * 0          # equal constants that are not the same argument
        index = np.array([0, 1]), np.array([0, 1])  # equal arrays: kept apart (identity), never compared
        return a, zeros, x[index[0]] + x[index[1]]

    recorded = hd.record(repetitive)
    x = -RNG.standard_normal(5) ** 2 - 0.1  # negative: x * 0.0 is -0.0 and x * -0.0 is +0.0
    recorded(x)
    out = recorded(x - 1.0)
    names = [step[1].name for step in recorded.program.steps if step[0] == "apply"]
    assert names.count("sin") == 1 and names.count("multiply") == 4 and names.count("getitem") == 3
    expected = repetitive(x - 1.0)
    np.testing.assert_array_equal(out[0], expected[0])
    for got, want in zip(out[1], expected[1]):
        assert got.dtype == want.dtype and np.array_equal(np.signbit(got), np.signbit(want))
    assert np.array_equal(np.signbit(out[1][0]), np.ones(5, bool)) and not np.signbit(out[1][1]).any()
    np.testing.assert_array_equal(out[2], expected[2])

    draws = []

    @hd.primitive
    def noisy(x):  # a user's primitive may be impure: its applications are never merged
        draws.append(1)
        return x + len(draws)

    twice = hd.record(lambda x: noisy(x) - noisy(x))
    for _ in range(5):
        np.testing.assert_allclose(twice(x), -1.0)  # merged, it would be 0


def test_big_temporaries_are_written_in_place_without_touching_inputs_views_or_outputs():
    """Replayed elementwise steps on >= 2^15 entries write into an operand that dies there (numpy's own
    temporary elision in f): never into an input, a value something views, or an output."""
    n = 1 << 16

    def f(x, w):
        doubled = x * 2.0                    # viewed, then read for the last time by an add: not written
        view = doubled[::2]
        shifted = doubled + 1.0
        kept = hnp.exp(x) * 0.5              # an output: never overwritten
        chain = hnp.tanh(kept * 3.0 + 1.0) - w   # temporaries: written in place
        narrow = hnp.sqrt(hnp.abs(chain[: n // 2]) + 1.0) * view + shifted[1::2]
        return kept, narrow, (chain * chain).astype(np.float32) + np.float32(1.5) * w[:1].astype(np.float32)

    recorded = hd.record(f)
    x, w = np.linspace(-2.0, 2.0, n), np.linspace(1.0, -1.0, n)
    recorded(x, w)
    x2, w2 = x[::-1].copy(), w * 0.5
    before = x2.copy(), w2.copy()
    for _ in range(5):  # compiled from the COMPILE_AFTER-th replay on
        out = recorded(x2, w2)
    expected = f(x2, w2)
    in_place = [v for v in recorded.program._run.__globals__.values()
                if isinstance(v, functools.partial) and v.func is replay._into]
    assert len(in_place) >= 4  # (else this test checks nothing)
    np.testing.assert_array_equal(x2, before[0])
    np.testing.assert_array_equal(w2, before[1])
    for got, want in zip(out, expected):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    again = recorded(x2, w2)
    np.testing.assert_array_equal(out[0], again[0])  # the returned output was not reused as a buffer
    gradient = hd.record(hd.grad(lambda x: hnp.sum(hnp.tanh(x * 3.0 + 1.0) * x)))
    for _ in range(5):
        got = gradient(x2)
    np.testing.assert_array_equal(got, hd.grad(lambda x: hnp.sum(hnp.tanh(x * 3.0 + 1.0) * x))(x2))
    np.testing.assert_array_equal(x2, before[0])


def test_compiled_indexing_and_ufunc_steps_are_the_implementations():
    # The compiled replay runs slices and their transposes (a zero array with the slice filled in) as
    # inline numpy, and elementwise steps on arrays as the ufunc itself: each is what the implementation
    # does for the recorded argument types, so the bits and layouts are the interpreted ones. Covered:
    # basic slices, an integer gather along the last axis (np.take, C-ordered, where x[:, rows] is not), a
    # repeated gather (np.add.at in its transpose), a boolean mask, an integer, and a -0.0 cotangent (a
    # filled-in slice keeps its sign, an add into zeros would not).
    rows, mask = np.array([2, 0, 2, 1]), np.array([True, False, True, True, False])

    def f(x, y, z):
        a = hnp.sin(x[1:, ::2]) * x[:-1, ::2]
        c = x[:, rows][:, 1:3] * 2.0
        b = x[rows][:, mask] - hnp.exp(x[0])[:3] * x[2, 1]
        return hnp.sum(a * a) + hnp.sum(c * c) + hnp.sum(hnp.tanh(b)) + hnp.sum(y[1:] * (z * -0.0))

    def gathers(x):
        return x[:, rows], hnp.concatenate([x[1:, ::2] * 2.0, x[:1, :3]], axis=0)

    x = np.random.default_rng(12).uniform(-1, 1, (4, 5))
    y = np.ones(3)
    for function, args in [(hd.grad(f, argnums=(0, 1)), (x, y, 1.5)), (gathers, (x,))]:
        recorded = hd.record(function)
        first = recorded(*args)  # the recording: the implementations (plain x[:, rows] is numpy's own layout)
        for _ in range(replay.COMPILE_AFTER + 2):
            got = recorded(*args)
        for value, expected in zip(got, first):
            assert value.strides == expected.strides
            np.testing.assert_array_equal(value, expected)
            np.testing.assert_array_equal(np.signbit(value), np.signbit(expected))
        source_names = recorded.program._run.__globals__
    assert "_zeros" in source_names or function is gathers
    assert any(v is np.multiply for v in source_names.values())  # a ufunc called directly


def test_in_place_steps_keep_the_recorded_layout():
    # A fresh answer of a Fortran-ordered temporary times a C-ordered array is in C order; written into the
    # temporary it would be in Fortran order, and the sum over axis 0 below adds in the other order.
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-1, 1, (200, 190)), rng.uniform(-1, 1, (190, 200))  # 38,000 entries: in-place size
    recorded = hd.record(lambda x, y: hnp.sum(hnp.exp(hnp.transpose(x)) * y, axis=0))
    first = recorded(x, y)  # the recording: each primitive's implementation on fresh answers
    for _ in range(4):  # compiled from the COMPILE_AFTER-th replay on
        np.testing.assert_array_equal(recorded(x, y), first)


def test_bad_input():
    with pytest.raises(TypeError, match="f must be callable"):
        hd.record(3)


def test_replays_free_each_value_after_its_last_read():
    # A chain of 12 elementwise steps on 800 KB arrays: the recording keeps every value, a replay (the
    # interpreted first ones and the compiled ones alike) no more than a few at a time, as f itself.
    import tracemalloc  # numpy reports its array buffers to it

    def chain(x):
        for _ in range(12):
            x = hnp.sin(x) + 1.0
        return x

    x = np.linspace(0.0, 1.0, 100_000)
    recorded = hd.record(chain)
    expected = recorded(x)
    for replays in range(1, replay.COMPILE_AFTER + 2):
        tracemalloc.start()
        got = recorded(x)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        np.testing.assert_array_equal(got, expected)
        assert peak < 4 * x.nbytes, (replays, peak / x.nbytes)


def test_an_index_computed_from_the_input_is_a_guard():
    # record refused x[argmax(x)], x[x > 0] and an index array argument, which work unrecorded and whose
    # index is a value read like int(). Reference: the unrecorded function at each point.
    cases = [
        (hd.grad(lambda x: x[hnp.argmax(x)] ** 3), [np.array([0.3, 0.7, -0.2]), np.array([0.3, 0.8, -0.2]),
                                                    np.array([0.9, 0.7, -0.2])]),
        (hd.grad(lambda x: hnp.sum(x[x > 0] ** 2)), [np.array([0.3, -0.7, 0.2]), np.array([0.5, -0.1, 0.9]),
                                                     np.array([-0.3, 0.7, 0.2])]),
    ]
    for f, points in cases:
        recorded = hd.record(f)
        for x in points:
            np.testing.assert_array_equal(recorded(x), f(x))
        assert (recorded.recordings, recorded.replays) == (2, 1)  # the second point takes the first's path
    by_argument = hd.record(hd.grad(lambda x, i: hnp.sum(x[i] ** 2)))
    for x, i in [(np.ones(3), np.array([0, 2])), (2 * np.ones(3), np.array([0, 2])), (np.ones(3), np.array([1]))]:
        np.testing.assert_array_equal(by_argument(x, i), hd.grad(lambda x, i: hnp.sum(x[i] ** 2))(x, i))
    assert (by_argument.recordings, by_argument.replays) == (2, 1)
    strict = hd.record(hd.grad(lambda x: x[hnp.argmax(x)] ** 3), strict=True)
    strict(np.array([0.3, 0.7, -0.2]))
    with pytest.raises(hd.ReplayError, match="was array\\(1\\) when the program was recorded and is array\\(0\\)"):
        strict(np.array([0.9, 0.7, -0.2]))
    with pytest.raises(TypeError, match="a traced value cannot be used as an index"):  # vmap still refuses
        hd.vmap(lambda x, i: x[i])(np.ones((2, 3)), np.array([0, 1]))


def test_value_only_functions_read_their_arguments_as_guards():
    # unique, nonzero, flatnonzero, compress under record raised "not differentiable ... called on a traced
    # value" though nothing is differentiated (the transforms audit); their answers depend on the whole value,
    # which is a guard. Under a derivative they stay refused.
    # (recordings: unique and compress read all of x, so each new x records again; nonzero reads only x > 0)
    cases = [(lambda x: hnp.unique(x), 3), (lambda x: x[hnp.nonzero(x > 0)] * 2, 2),
             (lambda x: hnp.compress(x > 0, x) ** 2, 3)]
    points = [np.array([1.0, -2.0, 1.0, 0.0]), np.array([3.0, -1.0, 3.0, 0.0]), np.array([1.0, 2.0, 0.0, 5.0])]
    for f, recordings in cases:
        recorded = hd.record(f)
        for x in points:
            np.testing.assert_array_equal(recorded(x), f(x))
        assert recorded.recordings == recordings
    with pytest.raises(TypeError, match="hodiff.numpy.unique is not differentiable"):
        hd.record(hd.grad(lambda x: hnp.sum(hnp.unique(x))))(points[0])
