"""vmap of hodiff.numpy.linalg.lstsq: per-member rank and cutoff, as a loop of numpy.linalg.lstsq (issue 12 item 6)."""

import numpy as np
import pytest
from scipy.differentiate import jacobian as fd_jacobian

import hodiff as hd
import hodiff.numpy as hnp


def batched_lstsq(a, b):
    return hd.vmap(lambda a, b: tuple(hnp.linalg.lstsq(a, b)))(a, b)


def check_against_loop(a, b):
    x, residuals, rank, s = batched_lstsq(a, b)
    for k in range(a.shape[0]):
        ref = np.linalg.lstsq(a[k], b[k])
        np.testing.assert_allclose(x[k], ref[0], rtol=1e-10, atol=1e-12)
        assert np.shape(residuals[k]) == ref[1].shape
        np.testing.assert_allclose(residuals[k], ref[1], rtol=1e-10, atol=1e-12)
        assert int(np.asarray(rank)[k]) == ref[2]
        np.testing.assert_allclose(s[k], ref[3], rtol=1e-12)
    return rank


def test_tall_full_rank_members_with_residuals():
    rng = np.random.default_rng(1)
    check_against_loop(rng.standard_normal((4, 6, 3)), rng.standard_normal((4, 6)))
    check_against_loop(rng.standard_normal((4, 6, 3)), rng.standard_normal((4, 6, 2)))


@pytest.mark.parametrize("shape", [(3, 5), (4, 4), (5, 4)])
def test_members_with_different_ranks(shape):
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3,) + shape)
    a[1] = np.outer(rng.standard_normal(shape[0]), rng.standard_normal(shape[1]))  # rank 1
    a[2, :, -1] = a[2, :, 0]  # rank min(shape) - 1
    a[2, -1, :] = a[2, 0, :]
    b = rng.standard_normal((3, shape[0]))
    if shape[0] > shape[1]:  # tall: the full-rank member has residuals, the others none
        with pytest.raises(ValueError, match="lstsq under vmap.*pinv"):
            batched_lstsq(a, b)
        check_against_loop(a[1:], b[1:])
    else:
        rank = check_against_loop(a, b)
        assert len(set(np.asarray(rank).tolist())) == 3


def test_grad_of_vmap_of_lstsq_against_central_differences():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 5, 3))
    b = rng.standard_normal((2, 5))
    w = rng.standard_normal((2, 3))

    def loss(a):
        x, residuals, _, s = batched_lstsq(a, b)
        return hnp.sum(x * w) + hnp.sum(residuals) + hnp.sum(s**2)

    def loss_np(flat):  # flat: (30, ...) for scipy.differentiate
        out = []
        for col in np.moveaxis(flat, 0, -1).reshape(-1, 30):
            aa = col.reshape(2, 5, 3)
            total = 0.0
            for k in range(2):
                x, res, _, s = np.linalg.lstsq(aa[k], b[k])
                total += np.sum(x * w[k]) + np.sum(res) + np.sum(s**2)
            out.append(total)
        return np.array(out).reshape(flat.shape[1:])

    expected = fd_jacobian(loss_np, a.ravel()).df.reshape(a.shape)
    np.testing.assert_allclose(hd.grad(loss)(a), expected, rtol=1e-6, atol=1e-8)


def test_vmap_returns_the_namedtuple():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 4))
    out = hd.vmap(hnp.linalg.lstsq)(a, b)
    assert type(out).__name__ == "LstsqResult"
    for k in range(3):
        np.testing.assert_allclose(out.x[k], np.linalg.lstsq(a[k], b[k])[0], rtol=1e-10)
        np.testing.assert_allclose(out.residuals[k], np.linalg.lstsq(a[k], b[k])[1], rtol=1e-10)


def test_complex_lstsq_refuses_a_traced_matrix_and_keeps_complex_b_right():
    # pinv's rules are real: a traced complex a gave derivatives of x 0.9 off (central differences), and
    # the residuals were sum(r * r), complex, under every transform (-0.018-0.020j for numpy's 0.441).
    rng = np.random.default_rng(4)
    a = rng.standard_normal((4, 3))
    b = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    with pytest.raises(TypeError, match="lstsq: differentiating complex matrices is not supported"):
        hd.jvp(lambda m: hnp.linalg.lstsq(m, b)[0], (a + 1j * a,), (a,))
    direction = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    residuals, tangent = hd.jvp(lambda v: hnp.linalg.lstsq(a, v)[1], (b,), (direction,))
    np.testing.assert_allclose(residuals, np.linalg.lstsq(a, b)[1], rtol=1e-13)
    h = 1e-6
    central = (np.linalg.lstsq(a, b + h * direction)[1] - np.linalg.lstsq(a, b - h * direction)[1]) / (2 * h)
    np.testing.assert_allclose(tangent, central, rtol=1e-7)
    x_tangent = hd.jvp(lambda v: hnp.linalg.lstsq(a, v)[0], (b,), (direction,))[1]
    np.testing.assert_allclose(x_tangent, np.linalg.lstsq(a, direction)[0], rtol=1e-12)
