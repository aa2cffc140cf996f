"""In-place changes to arrays a recording holds: refused, not a silently wrong derivative.

A reverse-mode recording keeps f's input arrays and the constant arrays its operations read, by reference,
for the backward pass. Changing one in place after an operation read it made the gradient read the new
values: grad of sum(x * a) with a[0] = 100 set afterwards came out [100, 2, 3] for [1, 2, 3] (HIPS autograd
gives the same wrong number). While f records such arrays are now read-only, and the change raises.
"""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp

_NOTE = "hodiff: an operation that hodiff is recording for a derivative read this array"


def _raises_with_note(call):
    with pytest.raises(ValueError, match="read-only") as caught:
        call()
    assert any(note.startswith(_NOTE) for note in getattr(caught.value, "__notes__", ()))


def test_a_constant_changed_after_an_operation_read_it_is_refused():
    a = np.array([1.0, 2.0, 3.0])

    def f(x):
        y = x * a
        a[0] = 100.0
        return hnp.sum(y)

    _raises_with_note(lambda: hd.grad(f)(np.ones(3)))
    # given back unchanged and writeable; the same function without the change has its closed form
    assert a.flags.writeable and a[0] == 1.0
    np.testing.assert_array_equal(hd.grad(lambda x: hnp.sum(x * a))(np.ones(3)), a)


def test_the_array_a_view_reads_from_is_protected_too():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])

    def f(x):
        y = hnp.sum(x * a[:, 1])  # a temporary view of a
        a[...] *= 2
        return y

    _raises_with_note(lambda: hd.grad(f)(np.ones(2)))
    assert a.flags.writeable and a.base is None
    view = a[0]  # and a view the caller holds, changed through its base, is refused as well

    def g(x):
        y = hnp.sum(x * view)
        a[0, 0] = 7.0
        return y

    _raises_with_note(lambda: hd.grad(g)(np.ones(2)))
    assert view.flags.writeable and a.flags.writeable and a[0, 0] == 1.0


def test_an_input_array_changed_while_f_records_is_refused():
    x0 = np.array([0.5, 1.5])

    def f(x):
        y = hnp.sum(hnp.sin(x))  # its gradient reads x
        x0[:] = 0.0
        return y

    _raises_with_note(lambda: hd.grad(f)(x0))
    assert x0.flags.writeable
    np.testing.assert_array_equal(x0, [0.5, 1.5])


@pytest.mark.parametrize("transform", ["hessian", "hvp", "jacobian of grad", "value_and_grad", "vjp"])
def test_every_reverse_mode_recording_protects_and_gives_back(transform):
    a = np.array([1.0, -2.0, 0.5])
    x = np.array([0.3, 0.2, 0.1])

    def changes(x):
        y = hnp.sum(hnp.sin(x) * a)
        a[1] = 0.0
        return y

    def run(f):
        if transform == "hessian":
            return hd.hessian(f)(x)
        if transform == "hvp":
            return hd.hvp(f, (x,), (np.ones(3),))
        if transform == "jacobian of grad":
            return hd.jacobian(hd.grad(f))(x)
        if transform == "value_and_grad":
            return hd.value_and_grad(f)(x)
        return hd.vjp(f, x)[1](1.0)

    _raises_with_note(lambda: run(changes))
    assert a.flags.writeable and x.flags.writeable and a[1] == -2.0
    # and without the change: the Hessian of sum(sin(x) * a) is -diag(sin(x) * a)
    if transform == "hessian":
        np.testing.assert_allclose(run(lambda x: hnp.sum(hnp.sin(x) * a)), -np.diag(np.sin(x) * a), rtol=1e-14)


def test_changes_before_use_and_to_copies_are_fine_and_read_only_arrays_stay_read_only():
    a = np.array([1.0, 2.0])
    frozen = np.array([3.0, 4.0])
    frozen.flags.writeable = False

    def f(x):
        a[0] = 5.0  # before any operation read it
        b = a.copy()
        y = hnp.sum(x * a * frozen)
        b[1] = 0.0  # a copy no operation read
        return y

    np.testing.assert_array_equal(hd.grad(f)(np.ones(2)), [15.0, 8.0])
    assert a.flags.writeable and not frozen.flags.writeable


def test_an_error_inside_f_still_gives_the_arrays_back():
    a = np.array([1.0, 2.0])

    def f(x):
        hnp.sum(x * a)
        raise KeyError("f's own error")

    with pytest.raises(KeyError):
        hd.grad(f)(np.ones(2))
    assert a.flags.writeable


def test_memory_numpy_does_not_own_is_left_alone():
    # an array over a bytearray could not be made writeable again: hodiff does not freeze it (documented)
    buffer = np.frombuffer(bytearray(16), dtype=np.float64)
    buffer[:] = [1.0, 2.0]
    np.testing.assert_array_equal(hd.grad(lambda x: hnp.sum(x * buffer))(np.ones(2)), [1.0, 2.0])
    assert buffer.flags.writeable


def test_nested_recordings_share_an_array_and_the_outer_one_thaws_it():
    a = np.array([1.0, 2.0])
    seen = {}

    def inner(x):
        return hnp.sum(hnp.sin(x) * a)

    def outer(x):
        g = hd.grad(inner)(x)  # the inner recording freezes and thaws its share of a
        seen["inside"] = a.flags.writeable
        return hnp.sum(g * a)  # the outer one holds a too

    hd.grad(outer)(np.array([0.1, 0.2]))
    assert seen["inside"] is False and a.flags.writeable
