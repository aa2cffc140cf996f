"""Rows for numpy.fft (hodiff/primitives/fft.py).

Complex outputs are checked through the real-valued map y -> 1.3 Re y + 0.7 Im y
(so float32 rows stay real); complex inputs are built from two real arguments.
"""

import hodiff.numpy as hnp

from . import Row, uniform


def parts(y):
    return hnp.real(y) * 1.3 + hnp.imag(y) * 0.7


def complex_of(re, im):
    return re + im * 1j


ROWS = [
    Row("fft.fft", lambda x: parts(hnp.fft.fft(x)), uniform((3, 5))),
    Row("fft.fft[complex, n=8, axis=0, ortho]", lambda re, im: parts(hnp.fft.fft(complex_of(re, im), n=8, axis=0,
                                                                                 norm="ortho")),
        uniform((3, 5), (3, 5))),
    Row("fft.ifft[n=3 (cut), forward]", lambda x: parts(hnp.fft.ifft(x, n=3, norm="forward")), uniform((2, 5))),
    Row("fft.ifft[complex]", lambda re, im: parts(hnp.fft.ifft(complex_of(re, im))), uniform((4,), (4,))),
    Row("fft.fft2[s=(4, 6)]", lambda x: parts(hnp.fft.fft2(x, s=(4, 6))), uniform((2, 3, 5))),
    Row("fft.ifft2[complex]", lambda re, im: parts(hnp.fft.ifft2(complex_of(re, im))), uniform((3, 4), (3, 4))),
    Row("fft.fftn", lambda x: parts(hnp.fft.fftn(x)), uniform((2, 3, 4))),
    Row("fft.ifftn[axes=(0, 2)]", lambda x: parts(hnp.fft.ifftn(x, axes=(0, 2))), uniform((2, 3, 4))),
    Row("fft.rfft", lambda x: parts(hnp.fft.rfft(x)), uniform((3, 6))),
    Row("fft.rfft[odd n=7, axis=0]", lambda x: parts(hnp.fft.rfft(x, n=7, axis=0)), uniform((5, 2))),
    Row("fft.rfft[n=4 (cut), ortho]", lambda x: parts(hnp.fft.rfft(x, n=4, norm="ortho")), uniform((6,))),
    Row("fft.irfft", lambda re, im: hnp.fft.irfft(complex_of(re, im)), uniform((2, 4), (2, 4))),
    Row("fft.irfft[odd n=7]", lambda re, im: hnp.fft.irfft(complex_of(re, im), n=7), uniform((4,), (4,))),
    Row("fft.irfft[n=10 (pad), forward]", lambda re, im: hnp.fft.irfft(complex_of(re, im), n=10, norm="forward"),
        uniform((3,), (3,))),
    Row("fft.irfft[real input]", lambda x: hnp.fft.irfft(x, axis=0), uniform((4, 2))),
    Row("fft.rfft2", lambda x: parts(hnp.fft.rfft2(x)), uniform((3, 4))),
    Row("fft.rfftn[s]", lambda x: parts(hnp.fft.rfftn(x, s=(4, 5), axes=(0, 1))), uniform((3, 4))),
    Row("fft.irfft2", lambda re, im: hnp.fft.irfft2(complex_of(re, im)), uniform((3, 3), (3, 3))),
    Row("fft.irfftn[s, ortho]", lambda re, im: hnp.fft.irfftn(complex_of(re, im), s=(2, 5), axes=(0, 1),
                                                            norm="ortho"),
        uniform((3, 3), (3, 3))),
    Row("fft.hfft", lambda re, im: hnp.fft.hfft(complex_of(re, im)), uniform((4,), (4,))),
    Row("fft.ihfft", lambda x: parts(hnp.fft.ihfft(x)), uniform((5,))),
    Row("fft.fftshift", lambda x: hnp.fft.fftshift(x) * x, uniform((3, 5))),
    Row("fft.ifftshift[axes=1]", lambda x: hnp.fft.ifftshift(x, axes=1) * x, uniform((3, 5))),
    Row("fft.fftshift(fft)", lambda x: parts(hnp.fft.fftshift(hnp.fft.fft(x))), uniform((6,))),
]
