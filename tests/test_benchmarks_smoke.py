"""The benchmark floor computes what BENCHMARKS.md says (no timing, no peers)."""

import sys
from pathlib import Path

import numpy as np
import pytest

# benchmarks/ is a package at the repository root, not an installed one.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import workloads as wl  # noqa: E402
from benchmarks.peers import floor_peer  # noqa: E402


def test_w1_floor_value_and_gradient():
    value, gradient = wl.w1_floor_vg(**wl.w1_inputs())
    expected_value, expected_gradient = wl.W1_EXPECTED
    assert value == pytest.approx(expected_value, abs=1e-10)
    assert gradient == pytest.approx(expected_gradient, abs=1e-10)


@pytest.mark.parametrize("k", sorted(wl.W6_EXPECTED))
def test_w6_floor_derivatives(k):
    pytest.importorskip("sympy")
    closed_form = wl.w6_closed_forms()[k]
    assert closed_form(wl.W6_POINT) == pytest.approx(wl.W6_EXPECTED[k], rel=1e-11)


def test_w6_floor_goes_to_order_12():
    pytest.importorskip("sympy")
    assert sorted(wl.w6_closed_forms()) == list(range(1, wl.W6_MAX_ORDER + 1))


def test_w8_floor_value_and_derivative():
    value, derivative = wl.w8_floor_grad(**wl.w8_inputs())
    assert (value, derivative) == pytest.approx(wl.W8_EXPECTED, abs=1e-10)


def test_w2_floor_gradient_matches_finite_differences():
    x = wl.w2_inputs()["x"]
    value, gradient = wl.w2_floor_grad(x)
    assert value == pytest.approx(wl.w2_floor_fwd(x), rel=1e-14)
    step = 1e-6
    numeric = [(wl.w2_floor_fwd(x + step * e) - wl.w2_floor_fwd(x - step * e)) / (2 * step)
               for e in np.eye(len(x))]
    assert wl.relative_error(gradient, numeric) < 1e-7


def test_w3_floor_gradient_matches_a_directional_difference():
    inputs = wl.w4_inputs()
    params, X, y, direction = (inputs[key] for key in ("params", "X", "y", "direction"))
    loss, gradient = wl.w3_floor_grad(params, X, y)
    assert loss == pytest.approx(wl.w3_floor_fwd(params, X, y), rel=1e-14)
    step = 1e-6
    shifted = [tuple(p + sign * step * v for p, v in zip(params, direction)) for sign in (1, -1)]
    numeric = (wl.w3_floor_fwd(shifted[0], X, y) - wl.w3_floor_fwd(shifted[1], X, y)) / (2 * step)
    analytic = sum(np.sum(g * v) for g, v in zip(gradient, direction))
    assert analytic == pytest.approx(numeric, rel=1e-6)


def test_w4_exact_floor_hvp_matches_a_difference_of_gradients():
    # The exact hand-written HVP against a central difference of the gradient (its own
    # reference: a gradient checked above) along the same direction, entry by entry.
    inputs = wl.w4_inputs()
    params, X, y, direction = (inputs[key] for key in ("params", "X", "y", "direction"))
    exact = wl.w4_floor_hvp_exact(params, direction, X, y)
    assert wl.relative_error(exact, wl.w4_floor_hvp(params, direction, X, y)) < 1e-6
    assert [h.shape for h in exact] == [p.shape for p in params]


def test_w5_and_w7_floor_shapes():
    for case, size in (("n50", 50), ("n200", 200)):
        hessian = wl.w5_floor_hessian(*wl.w5_inputs()[case])
        assert hessian.shape == (size, size)
        np.testing.assert_allclose(hessian, hessian.T)
    inputs = wl.w7_inputs()
    assert wl.w7_floor_jacobian(*inputs["wide"]).shape == (10, 1000)
    assert wl.w7_floor_jacobian(*inputs["tall"]).shape == (1000, 10)


@pytest.mark.parametrize("key", sorted(wl.WORKLOADS))
def test_floor_peer_has_every_standard_case(key):
    if key == "W6":
        pytest.importorskip("sympy")
    workload = wl.WORKLOADS[key]
    floor_cases = {case.case for case in floor_peer.cases(key, workload.make_inputs())}
    assert {workload.floor_case(case) for case in workload.cases} | set(workload.floor_extras) <= floor_cases


def test_relative_error_flattens_nested_results():
    reference = (1.0, (np.array([1.0, 2.0]), np.ones((2, 2))))
    assert wl.relative_error(((1.0,), [np.array([1.0, 2.0]), np.ones(4)]), reference) == 0.0
    assert wl.relative_error((1.0, np.ones(2)), reference) == float("inf")
