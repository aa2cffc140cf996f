"""Focused tests of hodiff.numpy.fft: values, round trips, and JAX's transpose convention."""

import numpy as np
import pytest

import hodiff as hd
import hodiff.numpy as hnp

RNG = np.random.default_rng(3)


def complex_normal(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


@pytest.mark.parametrize("name, kwargs, complex_input", [
    ("fft", {}, True), ("fft", {"n": 7, "axis": 0, "norm": "ortho"}, True), ("ifft", {"n": 3}, True),
    ("rfft", {"n": 9}, False), ("irfft", {}, True), ("irfft", {"n": 7, "axis": 0}, True),
    ("hfft", {"n": 6}, True), ("ihfft", {"norm": "forward"}, False),
    ("fft2", {"s": (3, 8)}, True), ("ifft2", {}, True), ("fftn", {"axes": (0, 0)}, True),
    ("ifftn", {"s": (2, 3), "axes": (1, 0)}, True), ("rfftn", {"axes": (1, 0)}, False),
    ("rfft2", {"s": (4, 4)}, False), ("irfftn", {"s": (5, 5), "axes": (0, 1)}, True),
    ("irfft2", {"norm": "ortho"}, True), ("fftshift", {}, True), ("ifftshift", {"axes": 0}, False),
])
def test_values_match_numpy(name, kwargs, complex_input):
    x = complex_normal(4, 5) if complex_input else RNG.standard_normal((4, 5))
    np.testing.assert_allclose(getattr(hnp.fft, name)(x, **kwargs), getattr(np.fft, name)(x, **kwargs),
                               rtol=1e-12, atol=1e-12)


def test_complex_round_trip_and_its_derivatives_are_the_identity():
    z, dz, g = complex_normal(2, 6), complex_normal(2, 6), complex_normal(2, 6)
    round_trip = lambda z: hnp.fft.ifft(hnp.fft.fft(z, norm="ortho"), norm="ortho")
    out, tangent = hd.jvp(round_trip, (z,), (dz,))
    np.testing.assert_allclose(out, z, atol=1e-12)
    np.testing.assert_allclose(tangent, dz, atol=1e-12)
    np.testing.assert_allclose(hd.vjp(round_trip, z)[1](g)[0], g, atol=1e-12)


def test_real_round_trip_through_rfft_and_irfft_has_identity_gradient():
    for n in (6, 7):
        x, g = RNG.standard_normal((3, n)), RNG.standard_normal((3, n))
        round_trip = lambda x: hnp.fft.irfft(hnp.fft.rfft(x), n=n)
        np.testing.assert_allclose(round_trip(x), x, atol=1e-12)
        np.testing.assert_allclose(hd.vjp(round_trip, x)[1](g)[0], g, atol=1e-12)


def test_fft_vjp_is_the_transpose_not_the_adjoint():
    # JAX's convention: vjp(u) = F^T u = F u (the DFT matrix is symmetric), never conj(F)^T u.
    z, u = complex_normal(5), complex_normal(5)
    dft = np.fft.fft(np.eye(5))
    np.testing.assert_allclose(hd.vjp(hnp.fft.fft, z)[1](u)[0], dft.T @ u, atol=1e-12)
    assert not np.allclose(dft.T @ u, dft.conj().T @ u)
    # The same pairing as forward mode: <u, J v> = <vjp(u), v> without conjugation.
    v = complex_normal(5)
    _, jv = hd.jvp(hnp.fft.fft, (z,), (v,))
    np.testing.assert_allclose(np.sum(u * jv), np.sum(hd.vjp(hnp.fft.fft, z)[1](u)[0] * v), atol=1e-12)


def test_rfft_and_irfft_vjps_are_the_transposes_of_their_real_matrices():
    n = 6
    rfft_matrix = np.fft.rfft(np.eye(n))  # column j = rfft of e_j, shape (n//2+1, n) after transposing
    u = complex_normal(n // 2 + 1)
    expected = np.real(rfft_matrix @ u)  # (F^T u), real part for the real input
    np.testing.assert_allclose(hd.vjp(hnp.fft.rfft, np.zeros(n))[1](u)[0], expected, atol=1e-12)
    # irfft is real-linear in (Re z, Im z): y = A Re z + B Im z; JAX's cotangent is A^T g - i B^T g.
    g = RNG.standard_normal(n)
    a_matrix = np.stack([np.fft.irfft(e, n) for e in np.eye(n // 2 + 1)], axis=1)
    b_matrix = np.stack([np.fft.irfft(1j * e, n) for e in np.eye(n // 2 + 1)], axis=1)
    cotangent = hd.vjp(hnp.fft.irfft, np.zeros(n // 2 + 1, complex))[1](g)[0]
    np.testing.assert_allclose(cotangent, a_matrix.T @ g - 1j * (b_matrix.T @ g), atol=1e-12)


def test_parseval_gradient_follows_the_complex_gradient_convention():
    # sum |fft(z)|^2 = n sum |z|^2; grad of a real function of complex z is df/dx - i df/dy = 2 n conj(z).
    z = complex_normal(8)
    gradient = hd.grad(lambda z: hnp.sum(hnp.abs(hnp.fft.fft(z)) ** 2))(z)
    np.testing.assert_allclose(gradient, 2 * 8 * np.conj(z), rtol=1e-12)
    # Real input: the half spectrum's energy, against the same quantity by a dense matrix (no FFT).
    x = RNG.standard_normal(8)
    np.testing.assert_allclose(hd.grad(lambda x: hnp.sum(hnp.abs(hnp.fft.rfft(x, norm="ortho")) ** 2))(x),
                               hd.grad(_half_spectrum_energy)(x), rtol=1e-12)


def _half_spectrum_energy(x):
    matrix = np.fft.rfft(np.eye(x.shape[0]), norm="ortho")
    y = hnp.tensordot(x, matrix, axes=1)
    return hnp.sum(hnp.real(y) ** 2 + hnp.imag(y) ** 2)


def test_real_output_cotangent_with_an_imaginary_part_is_ignored_by_irfft():
    # irfft's output is real; a complex consumer leaves an imaginary part on its cotangent that must
    # not reach z (JAX takes the real part where real meets complex).
    z = complex_normal(4)
    c = complex_normal(6)
    hd.check_grads(lambda z: hnp.real(hnp.sum(hnp.fft.irfft(z) * c)), (z,), order=2)


def test_float32_in_complex64_out_and_gradients_keep_the_input_dtype():
    x = RNG.standard_normal(8).astype(np.float32)
    assert hnp.fft.fft(x).dtype == np.complex64 and hnp.fft.irfft(hnp.fft.rfft(x)).dtype == np.float32
    gradient = hd.grad(lambda x: hnp.sum(hnp.real(hnp.fft.fft(x)) * hnp.fft.irfft(hnp.fft.rfft(x))))(x)
    assert gradient.dtype == np.float32


def test_vmap_of_fft_with_negative_axes_keeps_the_batch_axis_out():
    xs = complex_normal(3, 4, 5)
    out = hd.vmap(lambda x: hnp.fft.fft2(x, s=(2, 6), axes=(0, 1)))(xs)
    np.testing.assert_allclose(out, np.fft.fft2(xs, s=(2, 6), axes=(1, 2)), atol=1e-12)
    out = hd.vmap(lambda x: hnp.fft.irfft(x, axis=0))(xs)
    np.testing.assert_allclose(out, np.fft.irfft(xs, axis=1), atol=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="norm"):
        hnp.fft.fft(np.ones(4), norm="unitary")
    with pytest.raises(ValueError, match="data points"):
        hnp.fft.fft(np.ones(4), n=0)
    with pytest.raises(TypeError, match="real"):
        hnp.fft.rfft(np.ones(4, complex))
    with pytest.raises(np.exceptions.AxisError):
        hnp.fft.fft(np.ones(4), axis=1)
    with pytest.raises(ValueError, match="different lengths"):
        hnp.fft.fftn(np.ones((2, 2)), s=(2,), axes=(0, 1))
    np.testing.assert_allclose(hnp.fft.fftfreq(4), np.fft.fftfreq(4))
