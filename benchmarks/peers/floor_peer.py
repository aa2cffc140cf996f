"""The hand-written numpy/math floor (the reference every peer is checked against)."""

from __future__ import annotations

from functools import partial

from .. import workloads as wl
from . import Case

NAME = "floor"
REQUIRES = ("numpy",)
OPTIONAL = False
ROW = "floor"


def setup(threads: int) -> dict:
    import numpy

    return {"version": numpy.__version__}


def _case(case, function, *args, **kwargs):
    thunk = partial(function, *args, **kwargs)
    return Case(ROW, case, lambda: thunk)


def w1(inputs):
    return [_case("vg", wl.w1_floor_vg, **inputs)]


def w2(inputs):
    return [_case("fwd", wl.w2_floor_fwd, inputs["x"]),
            _case("grad", wl.w2_floor_grad, inputs["x"])]


def w3(inputs):
    return [_case("fwd", wl.w3_floor_fwd, inputs["params"], inputs["X"], inputs["y"]),
            _case("grad", wl.w3_floor_grad, inputs["params"], inputs["X"], inputs["y"])]


def w4(inputs):
    params, X, y = inputs["params"], inputs["X"], inputs["y"]
    return [_case("grad", wl.w3_floor_grad, params, X, y),
            _case("hvp", wl.w4_floor_hvp, params, inputs["direction"], X, y),
            _case("hvp:exact", wl.w4_floor_hvp_exact, params, inputs["direction"], X, y)]


def w5(inputs):
    return [_case(case, wl.w5_floor_hessian, *inputs[case]) for case in ("n50", "n200")]


def w6(inputs):
    # sympy differentiates untimed (once per process); the timed call
    # evaluates the closed form. k up to 12 serves hodiff's extra table.
    closed_forms = wl.w6_closed_forms()
    return [_case(f"k{k}", closed_forms[k], inputs["x"]) for k in sorted(closed_forms)]


def w7(inputs):
    # One floor case per shape: rev and fwd rows of a peer share it.
    return [_case(shape, wl.w7_floor_jacobian, *inputs[shape]) for shape in ("wide", "tall")]


def w8(inputs):
    return [_case("grad", wl.w8_floor_grad, inputs["x"], inputs["steps"])]


BUILDERS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W7": w7, "W8": w8}
WORKLOADS = tuple(BUILDERS)


def cases(workload_key: str, inputs: dict) -> list[Case]:
    return BUILDERS[workload_key](inputs)
