"""hodiff on Dask arrays (issue 18): every row of the systematic table, in every transform, against numpy.

Each input is split into two chunks along every axis of length >= 2. A transform either returns Dask
arrays equal to the numpy results (1e-12 relative to the result's scale: Dask sums chunk by chunk, so
the last bits may differ) or, for the rows listed in ``REFUSED``, raises ``hd.BackendError`` naming
the primitive and "dask". numpy's NEP 18 fallback (Dask computing the arrays and calling numpy) is
turned into an error, so a result that left Dask on the way fails even if it ends up a Dask array.
"""

import os
import warnings
import zlib

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="Dask not installed (the dask extra: pip install 'hodiff[dask]')")

import hodiff as hd  # noqa: E402
import hodiff.numpy as hnp  # noqa: E402

from .tables import all_rows  # noqa: E402

# The whole table takes ~100 s on Dask (graph building per chunk): CI runs every fourth row, the full run is
#     HODIFF_BACKEND_ROWS=all python -m pytest tests/test_backends_dask.py
ALL_ROWS = all_rows()
ROWS = ALL_ROWS if os.environ.get("HODIFF_BACKEND_ROWS") == "all" else ALL_ROWS[::4]
# hodiff's transforms. (A row's plain value, outside any transform, is numpy's or Dask's own business:
# an untraced x[i, [0, 1]] is Dask's indexing, for one.)
MODES = ("jvp", "grad", "hvp", "taylor", "vmap")
# The distributions' cdf/sf families differentiate the incomplete gamma and beta functions through long
# series: on Dask those become graphs of many thousands of tasks (t.cdf's hvp took 148 s, t.logcdf's 279 s;
# gamma.cdf's grad exceeded Python's recursion limit when computed), so under a transform they are refused
# by name (hodiff.scipy.stats._refuse_differentiated_series_on_dask).
SERIES_REFUSED = {f"{family}.{method}": MODES for family in ("t", "gamma", "beta", "chi2", "poisson")
                  for method in ("cdf", "logcdf", "sf", "logsf")}


def _chunked(a):
    a = np.asarray(a)
    return da.from_array(a, chunks=tuple(max(1, (n + 1) // 2) for n in a.shape))


def _args(row):
    rng = np.random.default_rng(zlib.crc32(row.name.encode()))
    return tuple(np.asarray(a, dtype=np.float64) for a in row.args(rng))


def _transforms(row, args, wrap):
    """mode -> a thunk computing it, on ``wrap``ped copies of the inputs and directions."""
    rng = np.random.default_rng(1)
    u = wrap(rng.standard_normal(np.shape(row.function(*args))))
    v = tuple(wrap(rng.standard_normal(np.shape(a))) for a in args)
    x = tuple(wrap(a) for a in args)

    def scalar(*a):  # a real scalar of every output entry, for grad, hvp and Taylor mode
        return hnp.sum(hnp.real(row.function(*a)) * u)

    def two_members(a):
        return (da.stack if isinstance(a, da.Array) else np.stack)([a, 0.5 * a + 0.25])

    return {
        "jvp": lambda: hd.jvp(row.function, x, v)[1],
        "grad": lambda: hd.grad(scalar, argnums=tuple(range(len(x))))(*x),
        "hvp": lambda: hd.hvp(scalar, x, v),
        "taylor": lambda: hd.taylor(lambda a: scalar(*a), x, v, order=3),
        "vmap": lambda: hd.vmap(row.function)(*[two_members(a) for a in x]),
    }


def _leaves(value):
    return hd.tree_flatten(value)[0]


def _relative_error(got, want):
    want = np.asarray(want)
    # optimize_graph=False: Dask's blockwise fusion is superlinear in a derivative's long elementwise chains
    # (beta.pdf's hvp: 1,700 tasks, 1.8 s of its 1.9 s in optimize_blockwise) and changes no number
    got = np.asarray(got.compute(optimize_graph=False) if isinstance(got, da.Array) else got)
    assert got.shape == want.shape, f"shape {got.shape}, numpy gives {want.shape}"
    if not want.size:
        return 0.0
    scale = np.max(np.abs(want))
    difference = np.max(np.abs(got - want))
    return difference / scale if scale else difference


def _outcome(thunk):
    """('ok', leaves) or ('refused', message); numpy's fallback on a Dask array raises."""
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*is not implemented by Dask array", category=FutureWarning)
        try:
            return "ok", _leaves(thunk())
        except hd.BackendError as error:
            return "refused", str(error)


# Rows whose primitives Dask lacks or restricts (see docs/api.md, "Array backends"), and the modes that
# reach them: vmap alone when only the stack of matrices is refused; not vmap when numpy cannot vmap it.
REFUSED = {
    'trace': MODES,
    'trace[offset, axes]': MODES,
    'at.set[bool mask]': ('grad',),
    'at.set[arrays split by a slice]': ('grad',),
    'at.set[constant x, traced v]': ('grad',),
    'at.add[mask, broadcast]': ('grad',),
    'at.subtract[repeated]': ('grad',),
    'at.max': MODES,
    'gmm lower triangles': ('grad', 'hvp'),
    'put_along_axis[broadcast indices, axis 0]': ('grad',),
    'linalg.inv': ('vmap',),
    'linalg.inv[stack]': MODES,
    'linalg.solve[matrix]': ('vmap',),
    'linalg.solve[vector]': ('vmap',),
    'linalg.solve[vector, stacked a]': MODES,
    'linalg.solve[broadcast stacks]': MODES,
    'linalg.det': MODES,
    'linalg.det[stack]': MODES,
    'linalg.slogdet[logabsdet]': MODES,
    'linalg.slogdet[sign * logabsdet]': MODES,
    'linalg.matrix_power[-2]': ('vmap',),
    'linalg.tensorinv': ('vmap',),
    'linalg.tensorsolve': ('vmap',),
    'linalg.cholesky': MODES,
    'linalg.cholesky[stack, upper]': MODES,
    'linalg.eigh[values]': MODES,
    'linalg.eigh[vectors squared]': MODES,
    'linalg.eigh[UPLO=U, reconstruct]': MODES,
    'linalg.eigvalsh': MODES,
    'linalg.svd[values, tall]': MODES,
    'linalg.svd[U, s, Vh, tall]': ('jvp', 'hvp', 'taylor', 'vmap'),
    'linalg.svd[U, s, Vh, wide]': MODES,
    'linalg.svd[square, full_matrices]': ('jvp', 'hvp', 'taylor', 'vmap'),
    'linalg.qr[tall]': MODES,
    'linalg.qr[square, r]': MODES,
    'linalg.qr[wide]': MODES,
    'linalg.pinv[tall]': MODES,
    'linalg.pinv[wide, stack]': MODES,
    'linalg.lstsq': MODES,
    'linalg.lstsq[residuals]': MODES,
    'linalg.eigh[complex, values, |vectors|]': MODES,
    'linalg.eigh[complex, UPLO=U, stack]': MODES,
    'linalg.svd[complex, |U|, s, |Vh|, tall]': MODES,
    'linalg.svd[complex, |U|, s, |Vh|, wide, stack]': MODES,
    'linalg.svd[complex, square, reconstruct]': MODES,
    'linalg.norm[nuc, complex]': MODES,
    'linalg.eig[real, |w|, |v|]': MODES,
    'linalg.eig[complex, w parts, |v|]': MODES,
    "linalg.eig[complex, stack, vectors' parts]": MODES,
    'linalg.eigvals[real, spectrum shifted real]': MODES,
    'linalg.norm[nuc]': ('jvp', 'hvp', 'taylor', 'vmap'),
    'linalg.norm[2, matrix]': ('jvp', 'hvp', 'taylor', 'vmap'),
    'linalg.cond': ('jvp', 'hvp', 'taylor', 'vmap'),
    'scipy.linalg.solve_triangular[lower]': MODES,
    'scipy.linalg.solve_triangular[upper, trans=T, stack]': MODES,
    'scipy.linalg.solve_triangular[unit_diagonal, trans=1]': MODES,
    'scipy.linalg.cholesky[upper]': MODES,
    'scipy.linalg.cho_solve[lower]': MODES,
    'scipy.linalg.cho_solve[upper, stack]': MODES,
    'scipy.linalg.lu_factor[lu]': MODES,
    'scipy.linalg.lu_solve': MODES,
    'scipy.linalg.lu_solve[trans=1, vector]': MODES,
    'scipy.linalg.expm': MODES,
    'scipy.linalg.expm[stack]': MODES,
    'scipy.linalg.sqrtm': MODES,
    'scipy.linalg.sqrtm[negative eigenvalues: complex root]': MODES,
    'scipy.linalg.solve_banded[(1, 1), vector]': MODES,
    'scipy.linalg.solve_banded[(2, 0), matrix rhs]': MODES,
    'scipy.linalg.solve_banded[(0, 2)]': MODES,
    'scipy.linalg.solve_sylvester': MODES,
    'scipy.linalg.solve[transposed]': ('vmap',),
    'scipy.linalg.det/inv': MODES,
    'partition': MODES,
    'partition[kth list, axis 0]': MODES,
    'partition[axis None]': MODES,
    'int64 of a traced array': ('jvp', 'grad', 'hvp', 'taylor'),
    'astype(int) as indices': ('jvp', 'grad', 'hvp', 'taylor'),
    'array[with dtype=int] as indices': ('jvp', 'grad', 'hvp', 'taylor'),
    'sort[last]': MODES,
    'sort[axis=0]': MODES,
    'sort[flat]': MODES,
    'sort[via argsort]': MODES,
    'max[via argmax]': MODES,
    'median[odd]': MODES,
    'median[even,all]': MODES,
    'reshape': MODES,
    'getitem[bool mask]': ('jvp', 'grad', 'hvp', 'taylor'),
    'diag[of 2-d]': MODES,
    'diag[1-d, k=-1]': ('grad',),
    'diagonal[offset, axes]': MODES,
    'diagonal[method]': MODES,
    'reshape[method,-1]': MODES,
    'take_along_axis': MODES,
    'take_along_axis[broadcast]': MODES,
    'interp[traced knots]': MODES,  # gathers from the Dask knots: take_along_axis
    'getitem[adjacent arrays]': MODES,
    'getitem[split arrays]': MODES,
    'getitem[int and array split]': MODES,
    'getitem[arrays around None]': MODES,
    'getitem[2-d array, ellipsis]': MODES,
    'getitem[slice, bool, array]': MODES,
    'getitem[2-d bool]': MODES,
    'multivariate_normal.logpdf[full]': MODES,
    'multivariate_normal.pdf[full]': MODES,
    'multivariate_normal.entropy[full]': MODES,
}


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_row_on_dask_matches_numpy(row):
    args = _args(row)
    reference = _transforms(row, args, lambda a: a)
    on_dask = _transforms(row, args, _chunked)
    refused_modes = REFUSED.get(row.name) or SERIES_REFUSED.get(row.name, ())
    problems = []
    for mode in MODES:
        try:
            want = _leaves(reference[mode]())
        except Exception:  # noqa: BLE001 - not defined on numpy either (vmap over integer indices ...)
            continue
        kind, got = _outcome(on_dask[mode])
        if mode in refused_modes:
            if kind != "refused":
                problems.append(f"{mode}: ran, but REFUSED lists it (remove it from the table)")
            elif "dask" not in got or "primitive '" not in got:
                problems.append(f"{mode}: refusal does not name the primitive and dask: {got}")
            continue
        if kind == "refused":
            problems.append(f"{mode}: refused: {got}")
            continue
        not_dask = sorted({type(leaf).__name__ for leaf in got if not isinstance(leaf, da.Array)})
        if not_dask:
            problems.append(f"{mode}: returned {not_dask}, not Dask arrays")
            continue
        if len(got) != len(want):
            problems.append(f"{mode}: {len(got)} outputs, numpy gives {len(want)}")
            continue
        error = max((_relative_error(g, w) for g, w in zip(got, want)), default=0.0)
        if error > 1e-12:
            problems.append(f"{mode}: relative error {error:.1e}")
    assert not problems, f"{row.name} on Dask:\n" + "\n".join(problems)


# ----------------------------------------------------------------- the issue's example, hessian, laziness

def _f(x):
    return hnp.sum(hnp.sin(x) ** 2)


def test_issue_example_every_transform_returns_dask():
    xn = np.arange(6.0) + 1
    x = da.from_array(xn, chunks=3)
    v = np.linspace(-1.0, 1.0, 6)
    cases = {
        "grad": (hd.grad(_f)(x), hd.grad(_f)(xn)),
        "jvp": (hd.jvp(_f, (x,), (da.from_array(v, chunks=2),))[1], hd.jvp(_f, (xn,), (v,))[1]),
        "hessian": (hd.hessian(_f)(x), hd.hessian(_f)(xn)),
        "hvp": (hd.hvp(_f, (x,), (v,))[0], hd.hvp(_f, (xn,), (v,))[0]),
        "jacobian": (hd.jacobian(hnp.tanh)(x), hd.jacobian(hnp.tanh)(xn)),
        "jacfwd": (hd.jacfwd(hnp.tanh)(x), hd.jacfwd(hnp.tanh)(xn)),
        "derivative": (hd.derivative(hnp.sin, order=4)(x), hd.derivative(hnp.sin, order=4)(xn)),
        "vmap": (hd.vmap(hd.grad(_f))(da.stack([x, 2 * x])), hd.vmap(hd.grad(_f))(np.stack([xn, 2 * xn]))),
    }
    for name, (got, want) in cases.items():
        assert isinstance(got, da.Array), f"{name} returned {type(got).__name__}"
        assert _relative_error(got, want) <= 1e-12, name


def test_numpy_tangents_and_constants_take_the_inputs_backend():
    # A numpy tangent for a Dask primal, and a gradient that meets only numpy constants on its way back.
    xn = np.arange(4.0)
    x = da.from_array(xn, chunks=2)
    assert isinstance(hd.jvp(hnp.sin, (x,), (np.ones(4),))[1], da.Array)
    gradient = hd.grad(lambda x: hnp.sum(hnp.take(x, np.array([1, 2])) * xn[:2]))(x)
    assert isinstance(gradient, da.Array)
    np.testing.assert_allclose(gradient.compute(), [0.0, 0.0, 1.0, 0.0])


def test_transforms_build_graphs_without_computing_them():
    # hodiff must not compute a Dask input (np.asarray, float(), numpy's fallback): nothing runs until .compute().
    calls = []

    def counted(block):
        if block.size:  # (Dask calls it once on an empty block to learn the output's type)
            calls.append(block.shape)
        return block

    x = da.from_array(np.linspace(0.1, 1.0, 6), chunks=3).map_blocks(counted, dtype=float)
    v = da.ones(6, chunks=3)
    # (Taylor mode of sqrt and fractional powers computed the input for their x0 == 0 mask: the Dask/CLI audit)
    results = [hd.grad(_f)(x), hd.jvp(_f, (x,), (v,))[1], hd.hvp(_f, (x,), (v,))[0], hd.hessian(_f)(x),
               hd.derivative(hnp.sin, order=3)(x), hd.vmap(hnp.cos)(x),
               hd.taylor(lambda x: hnp.sum(hnp.sqrt(x)), x, v, 2), hd.derivative(lambda x: x ** 2.5, order=2)(x)]
    assert calls == [], f"a transform computed the Dask input ({len(calls)} blocks)"
    assert all(isinstance(r, da.Array) for r in results)
    results[0].compute()
    assert calls


def test_refusal_names_the_primitive_and_the_backend():
    a = da.from_array(np.array([[2.0, 1.0], [1.0, 3.0]]), chunks=1)
    with pytest.raises(hd.BackendError, match=r"primitive 'det' cannot run on dask arrays") as caught:
        hd.grad(hnp.linalg.det)(a)
    assert caught.value.primitive_name == "det" and caught.value.backend == "dask"
    with pytest.raises(hd.BackendError, match=r"primitive 'eigh' cannot run on dask arrays"):
        hnp.linalg.eigh(a)
    # Dask's linalg takes one matrix: a stack (or a vmap over matrices) is refused, not computed into numpy.
    stack = da.from_array(np.stack([np.eye(3) * 2, np.eye(3) * 3]), chunks=2)
    with pytest.raises(hd.BackendError, match=r"primitive 'inv' cannot run on dask arrays: .*not a stack"):
        hd.jvp(hnp.linalg.inv, (stack,), (np.ones((2, 3, 3)),))
    with pytest.raises(hd.BackendError, match=r"primitive 'cholesky' cannot run on dask arrays"):
        hd.vmap(hnp.linalg.cholesky)(stack)
    # Dask's own errors come back named, with Dask's words: its reshape splits and merges whole chunks only.
    with pytest.raises(hd.BackendError, match=r"primitive 'reshape' cannot run on dask arrays: Dask's reshape"):
        hd.grad(lambda x: hnp.sum(hnp.reshape(x, (4, 3)) ** 2))(da.ones((3, 4), chunks=2))


def test_dask_limited_primitives_run_where_dask_can():
    # Chunked matrices get one chunk each for Dask's LU, and FFT axes one chunk: they run, and agree with numpy.
    an = np.array([[2.0, 1.0], [1.0, 3.0]])
    a = da.from_array(an, chunks=1)
    got = hd.grad(lambda a: hnp.sum(hnp.linalg.inv(a)))(a)
    assert isinstance(got, da.Array)
    assert _relative_error(got, hd.grad(lambda a: hnp.sum(hnp.linalg.inv(a)))(an)) <= 1e-12
    xn = np.linspace(0.0, 1.0, 8)
    spectrum = lambda x: hnp.sum(hnp.abs(hnp.fft.rfft(x)) ** 2)  # noqa: E731
    got = hd.grad(spectrum)(da.from_array(xn, chunks=3))
    assert isinstance(got, da.Array) and _relative_error(got, hd.grad(spectrum)(xn)) <= 1e-12


def test_numpy_results_stay_numpy():
    xn = np.arange(6.0) + 1
    assert type(hd.grad(_f)(xn)) is np.ndarray
    assert type(hd.hessian(_f)(xn)) is np.ndarray
    assert type(hd.grad(hnp.sin)(0.5)) is np.float64


def test_incomplete_gamma_series_refused_under_transforms_but_plain_values_run():
    import scipy.stats

    import hodiff.scipy.stats as hst
    a = da.from_array(np.array([0.5, 3.0, 30.0, 4.0]), chunks=2)
    x = np.array([2.0, 1.0, 35.0, 4.5])
    plain = hst.gamma.cdf(x, a)
    assert isinstance(plain, da.Array)
    np.testing.assert_allclose(plain.compute(), scipy.stats.gamma.cdf(x, a.compute()), rtol=1e-12)
    # Differentiated, the series would be a graph thousands of tasks deep (a RecursionError when computed).
    with pytest.raises(hd.BackendError, match="primitive 'gammainc_pair' cannot run on dask"):
        hd.grad(lambda a: hnp.sum(hst.gamma.cdf(x, a)))(a)
    with pytest.raises(hd.BackendError, match="primitive 'betainc_pair' cannot run on dask"):
        hd.grad(lambda df: hnp.sum(hst.t.cdf(x, df)))(a)


def test_inv_keeps_float32_and_interp_is_refused_by_name():
    # Dask's inv of float32 is float64 (its LU's): every route of a float32 inverse was float64; interp failed
    # inside Dask's searchsorted with "'numpy.ndarray' object has no attribute '_meta'" (the Dask/CLI audit)
    a = (np.random.default_rng(0).standard_normal((5, 5)) + 5 * np.eye(5)).astype(np.float32)
    loss = lambda a: hnp.sum(hnp.linalg.inv(a) ** 2)  # noqa: E731
    got = hd.hessian(loss)(da.from_array(a, chunks=2))
    assert isinstance(got, da.Array) and got.dtype == np.float32
    np.testing.assert_allclose(got.compute(), hd.hessian(loss)(a), rtol=1e-4)
    x = da.from_array(np.linspace(-1.0, 1.0, 6), chunks=2)
    with pytest.raises(hd.BackendError, match="primitive 'interp' cannot run on dask arrays"):
        hd.grad(lambda x: hnp.sum(hnp.interp(x, np.linspace(-2, 2, 5), np.arange(5.0) ** 2)))(x)
