"""check_grads: passes on correct rules, and fails, naming order and path, on wrong ones."""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp
from hodiff.core.trace import Primitive, registry
from hodiff.primitives.rules import batch_elementwise


@pytest.fixture
def make_primitive():
    """Declare throwaway elementwise primitives, removed from the registry afterwards."""
    made = []

    def make(name, impl, vjp, jvp):
        primitive = Primitive(name, impl, vjp=(vjp,), jvp=(jvp,), broadcasts=True)
        primitive.batch = batch_elementwise(primitive)
        made.append(name)
        return primitive

    yield make
    for name in made:
        registry.pop(name, None)


X = np.array([0.3, -1.2, 2.0])


@pytest.mark.parametrize("f, args", [
    (lambda x: hnp.sin(x) * hnp.exp(x), (X,)),
    (lambda x, y: hnp.tanh(x * y) + x / y, (X, 1.7)),
    (lambda x: hnp.sum(hnp.log(x * x + 1.0)), (X,)),
    (lambda tree: tree["a"] * hnp.cos(tree["b"][0]), ({"a": X, "b": (0.4, 2.0)},)),
    (lambda x: hnp.sqrt(x) ** 3, (np.array([[0.5, 1.0], [2.0, 3.0]]),)),
    (lambda x, w: hnp.tensordot(x, w, axes=1), (np.ones((2, 3)) * 0.5, np.arange(6.0).reshape(3, 2))),
])
@pytest.mark.parametrize("modes", [("fwd", "rev"), ("fwd",), ("rev",)])
def test_correct_functions_pass(f, args, modes):
    hd.check_grads(f, args, modes=modes, order=2)


def test_order_three_and_single_argument_form():
    hd.check_grads(lambda x: hnp.exp(hnp.sin(x)), 0.7, order=3)


def test_complex_holomorphic_function_passes():
    z = np.array([0.3 + 0.5j, -1.0 + 0.2j])
    hd.check_grads(lambda z: hnp.sin(z) * z + hnp.exp(z), (z,), order=2)


def test_float32_uses_loose_tolerances():
    hd.check_grads(lambda x: hnp.tanh(x) * x, (X.astype(np.float32),), order=2)


def test_wrong_forward_rule_fails_on_the_forward_path(make_primitive):
    bad_sin = make_primitive("test_bad_jvp_sin", np.sin, vjp=lambda g, ans, x: g * hnp.cos(x),
                             jvp=lambda t, ans, x: t * hnp.sin(x))
    with pytest.raises(AssertionError, match=r"order 1, path fwd: forward mode"):
        hd.check_grads(bad_sin, (X,), order=1)
    hd.check_grads(bad_sin, (X,), modes=("rev",), order=1)  # reverse rule is right


def test_wrong_reverse_rule_fails_on_the_reverse_path(make_primitive):
    bad_sin = make_primitive("test_bad_vjp_sin", np.sin, vjp=lambda g, ans, x: g * hnp.sin(x),
                             jvp=lambda t, ans, x: t * hnp.cos(x))
    hd.check_grads(bad_sin, (X,), modes=("fwd",), order=1)
    with pytest.raises(AssertionError, match=r"order 1, path rev: reverse mode disagrees with finite") as info:
        hd.check_grads(bad_sin, (X,), modes=("rev",), order=1)
    assert "analytic" in str(info.value) and "expected" in str(info.value)


def test_wrong_second_derivative_fails_at_order_two(make_primitive):
    # my_cos has the wrong derivative (+sin); my_sin is right at first order only.
    my_cos = make_primitive("test_cos_wrong_sign", np.cos, vjp=lambda g, ans, x: g * hnp.sin(x),
                            jvp=lambda t, ans, x: t * hnp.sin(x))
    my_sin = make_primitive("test_sin_via_bad_cos", np.sin, vjp=lambda g, ans, x: g * my_cos(x),
                            jvp=lambda t, ans, x: t * my_cos(x))
    hd.check_grads(my_sin, (X,), order=1)
    with pytest.raises(AssertionError, match=r"order 2, path fwd->fwd"):
        hd.check_grads(my_sin, (X,), modes=("fwd",), order=2)
    with pytest.raises(AssertionError, match=r"order 2, path rev->rev"):
        hd.check_grads(my_sin, (X,), modes=("rev",), order=2)
    with pytest.raises(AssertionError, match=r"order 2, path fwd->"):
        hd.check_grads(my_sin, (X,), order=2)


def test_non_finite_reference_is_explained():
    with pytest.raises(AssertionError, match="domain boundary"):
        hd.check_grads(hnp.log, (np.array([1e-4]),), modes=("fwd",), order=1, eps=0.5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="modes"):
        hd.check_grads(hnp.sin, (X,), modes=("sideways",))
    with pytest.raises(ValueError, match="order"):
        hd.check_grads(hnp.sin, (X,), order=0)
    with pytest.raises(TypeError, match="argument 0"):
        hd.check_grads(hnp.sin, (np.array([1, 2]),))


def test_explicit_tolerances_are_used():
    # A sloppy step with very tight tolerances fails; the defaults pass.
    f = lambda x: hnp.exp(3.0 * x)
    hd.check_grads(f, (X,), order=1)
    with pytest.raises(AssertionError):
        hd.check_grads(f, (X,), order=1, rtol=0.0, atol=0.0)
