"""hodiff.core.work.count_work counts every primitive application, on every path (issue 12 item 5).

The interpreters have fast paths for floats (scalar_impl, fast_jvp, fast_vjp) and
arrays (fast rules, inplace_vjp, in-place accumulation) that apply no primitive;
a counter wrapping Primitive.impl alone counted 0 applications for a nested first
derivative on a float. The reference here is another route through the same
program: a float, a numpy scalar, a 0-d and a one-element array must give the
same count, and the numbers computed inside a block must be those computed outside.
"""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.core import trace, work
from hodiff.core.work import count_work

FUNCTIONS = {
    "sin(x) exp(-x^2)": lambda x: hnp.sin(x) * hnp.exp(-x * x),
    "tanh(x) / (1 + x^2)": lambda x: hnp.tanh(x) / (1.0 + x * x),
    "sqrt(x) log(x) + x^3": lambda x: hnp.sqrt(x) * hnp.log(x) + x ** 3,
    "cos(x) - x / 3": lambda x: hnp.cos(x) - x / 3.0,
}
POINTS = (0.7, np.float64(0.7), np.array(0.7), np.array([0.7]))


def counts(function, x):
    with count_work() as counted:
        value = function(x)
    return counted, value


@pytest.mark.parametrize("mode", ["nested", "taylor"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_a_float_and_a_one_element_array_count_the_same(name, mode):
    for k in range(1, 7):
        derivative = hd.derivative(FUNCTIONS[name], order=k, mode=mode)
        expected = float(np.ravel(derivative(np.array([0.7])))[0])  # outside any block
        results = [(counted, float(np.ravel(value)[0])) for counted, value in (counts(derivative, x) for x in POINTS)]
        calls = [counted.total_calls() for counted, _ in results]
        assert calls[0] > 0, f"{name}, order {k}, {mode}: nothing counted on a float"
        assert len(set(calls)) == 1, f"{name}, order {k}, {mode}: counts {calls} for {POINTS}"
        assert all(counted.calls == results[0][0].calls for counted, _ in results)
        assert all(counted.entries == results[0][0].entries for counted, _ in results)
        for _, value in results:  # the general path inside the block: the same numbers, up to rounding
            assert value == pytest.approx(expected, rel=1e-13, abs=1e-13)


def test_nested_counts_grow_with_the_order():
    f = FUNCTIONS["sin(x) exp(-x^2)"]
    calls = [counts(hd.derivative(f, order=k, mode="nested"), 0.7)[0].total_calls() for k in range(1, 7)]
    assert all(later > 2 * earlier for earlier, later in zip(calls, calls[1:])), calls


@pytest.mark.parametrize("transform, array", [("grad", np.array([0.3])), ("value_and_grad", np.array([0.3])),
                                              ("hessian", np.array(0.3)), ("jacfwd", np.array(0.3))])
def test_reverse_and_forward_passes_count_alike_for_floats_and_arrays(transform, array):
    def f(x):
        return hnp.sum(hnp.tanh(x) * hnp.exp(x))

    function = getattr(hd, transform)(f)
    float_count, _ = counts(function, 0.3)
    array_count, _ = counts(function, array)  # (a Hessian of a (1,) input is (1, 1): another program)
    assert float_count.total_calls() > 0
    assert float_count.calls == array_count.calls
    # the backward pass's rules are counted (tanh's derivative reads tanh's answer: a multiply at least)
    if transform in ("grad", "value_and_grad"):
        assert float_count.calls["multiply"] >= 2


def test_graph_api_backward_counts_its_rules():
    def backward(x0):
        x = hd.Variable(x0)
        y = hnp.sin(x) * x
        y.backward()
        return x.grad

    float_count, float_grad = counts(backward, 0.5)
    array_count, array_grad = counts(backward, np.array([0.5]))
    assert float_count.calls == array_count.calls and float_count.calls["cos"] == 1
    assert float_grad == array_grad == pytest.approx(np.cos(0.5) * 0.5 + np.sin(0.5), rel=1e-15)


def test_matmul_counts_its_flops_and_tuples_their_entries():
    a, b = np.ones((3, 4)), np.ones((4, 5))
    with count_work() as counted:
        hnp.matmul(hnp.tanh(a), b)
    assert counted.flops["matmul"] == 2 * 3 * 4 * 5
    assert counted.work()["matmul"] == 2 * 3 * 4 * 5 and counted.work()["tanh"] == 12
    assert counted.entries["matmul"] == 15
    with count_work() as counted:
        hd.grad(lambda m: hnp.sum(hnp.linalg.eigh(m)[0]))(np.diag([1.0, 2.0, 3.0]))
    assert counted.calls["eigh"] == 1 and counted.entries["eigh"] == 3 + 3 * 3  # eigenvalues and eigenvectors


def test_blocks_nest_and_leave_every_primitive_as_it_was():
    before = {p: (p.impl, p.scalar_impl, p.fast_vjp, p.fast_jvp, p.inplace_vjp) for p in trace.all_primitives}
    with count_work() as outer:
        hnp.sin(1.0)
        with count_work() as inner:
            hnp.cos(1.0)
        assert work.active
    assert not work.active and trace._on_new_primitive is None
    assert outer.calls == {"sin": 1, "cos": 1} and inner.calls == {"cos": 1}
    after = {p: (p.impl, p.scalar_impl, p.fast_vjp, p.fast_jvp, p.inplace_vjp) for p in before}
    assert after == before
    assert hd.grad(lambda x: hnp.sin(x))(0.5) == np.cos(0.5)  # fast paths back, same number


def test_users_primitives_and_primitives_made_inside_a_block_are_counted():
    @hd.primitive
    def cube(x):
        return np.asarray(x) ** 3

    hd.defvjp(cube, lambda ans, x: lambda g: g * 3 * x ** 2)
    with count_work() as counted:
        @hd.primitive
        def square(x):
            return np.asarray(x) ** 2

        assert float(hd.grad(cube)(2.0)) == 12.0
        square(np.ones(4))
    assert counted.calls["cube"] == 1 and counted.entries["square"] == 4
    assert square.impl is square.__wrapped__  # given back
