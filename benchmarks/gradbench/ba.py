"""GradBench ``ba`` (ADBench's bundle adjustment): for p observations (camera
i mod n, point i mod m) the weighted reprojection errors w_i (proj(cam, X) - feat)
(Rodrigues rotation, pinhole division, two radial distortion terms, focal length
and principal point) and the weight errors 1 - w_i^2; ``jacobian`` is the sparse
(3p) x (11n + 3m + p) Jacobian in cpp/gradbench/evals/ba.hpp's SparseMat layout
(rows as CSR row pointers, per reprojection row 11 camera, 3 point and 1 weight
column, all reprojection rows before the weight rows), of which GradBench sends
only the first 30 and the last entry of each list; ``objective`` is sent as
{"reproj_error": {"elements": first two, "repeated": p}, "w_err": {"element",
"repeated"}}.

Inputs as the eval makes them: every ADBench data file evals/ba/data/ba*_n*_m*_p*.txt
holds the same camera, point, weight and feature (CAM, X, W, FEAT below, copied
from the files, MIT-licensed by Microsoft), duplicated n, m, p times; only (n, m, p)
differ (SIZES, ba1..ba20). The eval runs ba1..ba14; the full run here validates
and times ba1, ba2 and ba3 (FILES) (p up to 182,072).

Implementation (the same code for every peer): the residual is written vectorised
over observations on the gathered per-observation parameters (p, 15); since
observation i's two errors depend only on row i, the two gradients of the column
sums give all p blocks at once (two reverse passes). The data's rotation is not 0,
so only the Rodrigues branch for a nonzero angle is written (a zero angle raises).

Validation: GradBench checks against its C++ manual tool; here the reference
objective is ba.hpp's formulas in plain numpy on one observation (all are copies)
and the reference Jacobian entries central differences of it (scipy.differentiate),
encoded in the same layout.
"""

import numpy as np

import hodiff as hd
import hodiff.numpy as hnp

NAME = "ba"
CAM = [-0.758453, -1.109613, -0.845551, 34.556073, 39.676747, 53.881673, 419.194514, 5.864426,
       -8.518870, 0.087812, 0.002739]
X = [7.203245, 0.001144, 3.023326]
W = 0.417022
FEAT = [271.760969, 834.209256]
SIZES = {1: (49, 7776, 31843), 2: (21, 11315, 36455), 3: (161, 48126, 182072), 4: (372, 47423, 204472),
         5: (257, 65132, 225911), 6: (539, 65220, 277273), 7: (93, 61203, 287451), 8: (88, 64298, 383937),
         9: (810, 88814, 393775), 10: (1197, 126327, 563734), 11: (1723, 156502, 678718),
         12: (253, 163691, 899155), 13: (245, 198739, 1091386), 14: (356, 226730, 1255268)}
FILES = (1, 2, 3)
QUICK = [(1, 1, 1), (2, 3, 5), (3, 2, 7)]


def inputs(quick=False):
    out = []
    cases = [(f"n={n},m={m},p={p}", (n, m, p)) for n, m, p in QUICK] if quick else \
        [(f"ba{i}_n{SIZES[i][0]}_m{SIZES[i][1]}_p{SIZES[i][2]}", SIZES[i]) for i in FILES]
    for description, (n, m, p) in cases:
        inp = {"n": n, "m": m, "p": p, "cam": list(CAM), "x": list(X), "w": W, "feat": list(FEAT)}
        out.append(("objective", description, inp))
        out.append(("jacobian", description, inp))
    return out


def expand(inp):
    """ba.hpp's from_json: the duplicated cams (n, 11), X (m, 3), w (p,), feats (p, 2), obs (p, 2)."""
    n, m, p = int(inp["n"]), int(inp["m"]), int(inp["p"])
    cams = np.tile(np.asarray(inp["cam"], dtype=float), (n, 1))
    points = np.tile(np.asarray(inp["x"], dtype=float), (m, 1))
    w = np.full(p, float(inp["w"]))
    feats = np.tile(np.asarray(inp["feat"], dtype=float), (p, 1))
    i = np.arange(p)
    return cams, points, w, feats, np.stack([i % n, i % m], axis=1)


def _residual(xp):
    """Observation-wise reprojection errors of z = [cam (11) | X (3) | w] rows (p, 15)."""
    def cross(a, b):
        return xp.stack([a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1], a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                         a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]], axis=1)

    def residual(z, feats):
        rot, centre, focal, x0, rad = z[:, 0:3], z[:, 3:6], z[:, 6:7], z[:, 7:9], z[:, 9:11]
        point, w = z[:, 11:14], z[:, 14:15]
        pt = point - centre
        theta = xp.sqrt(xp.sum(rot * rot, axis=1, keepdims=True))
        axis = rot / theta
        cos, sin = xp.cos(theta), xp.sin(theta)
        xcam = pt * cos + cross(axis, pt) * sin + axis * (xp.sum(axis * pt, axis=1, keepdims=True) * (1 - cos))
        proj = xcam[:, 0:2] / xcam[:, 2:3]
        rsq = xp.sum(proj * proj, axis=1, keepdims=True)
        proj = proj * (1 + rad[:, 0:1] * rsq + rad[:, 1:2] * rsq * rsq)
        return w * (proj * focal + x0 - feats)
    return residual


def _gathered(inp):
    cams, points, w, feats, obs = expand(inp)
    if np.any(np.sum(cams[:, :3] ** 2, axis=1) == 0):
        raise ValueError("ba: a zero rotation angle (the small-angle branch is not implemented)")
    return np.concatenate([cams[obs[:, 0]], points[obs[:, 1]], w[:, None]], axis=1), feats, obs


def encode_objective(reproj_err, w_err):
    reproj_err, w_err = np.ravel(reproj_err), np.ravel(w_err)
    return {"reproj_error": {"elements": reproj_err[:2], "repeated": len(reproj_err) // 2},
            "w_err": {"element": w_err[0], "repeated": len(w_err)}}


def encode_jacobian(inp, blocks, w_d):
    """ba.hpp's SparseMat from the (p, 2, 15) blocks and the (p,) weight derivatives,
    cut as GradBench sends it (first 30 and last entry of rows, cols, vals)."""
    n, m, p = int(inp["n"]), int(inp["m"]), int(inp["p"])
    obs = expand(inp)[4]
    i = np.arange(p)
    block_cols = np.concatenate([11 * obs[:, :1] + np.arange(11), 11 * n + 3 * obs[:, 1:] + np.arange(3),
                                 (11 * n + 3 * m + i)[:, None]], axis=1)         # (p, 15)
    cols = np.concatenate([np.repeat(block_cols[:, None, :], 2, axis=1).ravel(), 11 * n + 3 * m + i])
    vals = np.concatenate([np.asarray(blocks, dtype=float).ravel(), np.asarray(w_d, dtype=float)])
    rows = np.concatenate([[0], 15 * np.arange(1, 2 * p + 1), 30 * p + np.arange(1, p + 1)])
    cut = lambda a: np.concatenate([a[:30], a[-1:]])  # noqa: E731
    return {"rows": cut(rows), "cols": cut(cols), "vals": cut(vals)}


_hodiff_residual = _residual(hnp)
_hodiff_column_grads = [hd.grad(lambda z, feats, k=k: hnp.sum(_hodiff_residual(z, feats)[:, k])) for k in (0, 1)]
_hodiff_w_d = hd.grad(lambda w: hnp.sum(1 - w * w))


def objective(inp):
    z, feats, _ = _gathered(inp)
    return encode_objective(_hodiff_residual(z, feats), 1 - z[:, 14] ** 2)


def jacobian(inp):
    z, feats, _ = _gathered(inp)
    blocks = np.stack([g(z, feats) for g in _hodiff_column_grads], axis=1)     # (p, 2, 15)
    return encode_jacobian(inp, blocks, _hodiff_w_d(z[:, 14]))


FUNCTIONS = {"objective": objective, "jacobian": jacobian}


def _one_observation(z, feat):
    """ba.hpp's computeReprojError for one observation, scalar by scalar in numpy
    (z stacked along the last axis for scipy.differentiate)."""
    rot, c, f, x0, rad, pt3, w = z[0:3], z[3:6], z[6], z[7:9], z[9:11], z[11:14], z[14]
    pt = [pt3[k] - c[k] for k in range(3)]
    theta = np.sqrt(rot[0] ** 2 + rot[1] ** 2 + rot[2] ** 2)
    u = [rot[k] / theta for k in range(3)]
    cross = [u[1] * pt[2] - u[2] * pt[1], u[2] * pt[0] - u[0] * pt[2], u[0] * pt[1] - u[1] * pt[0]]
    tmp = (u[0] * pt[0] + u[1] * pt[1] + u[2] * pt[2]) * (1 - np.cos(theta))
    xcam = [pt[k] * np.cos(theta) + cross[k] * np.sin(theta) + u[k] * tmp for k in range(3)]
    proj = [xcam[0] / xcam[2], xcam[1] / xcam[2]]
    rsq = proj[0] ** 2 + proj[1] ** 2
    distortion = 1 + rad[0] * rsq + rad[1] * rsq * rsq
    return np.stack([w * (proj[k] * distortion * f + x0[k] - feat[k]) for k in range(2)])


def reference(function, inp):
    """One observation (all p are copies) by ba.hpp's formulas in numpy; the Jacobian
    block by scipy.differentiate's central differences, repeated p times."""
    from scipy.differentiate import jacobian as fd_jacobian
    p = int(inp["p"])
    z = np.concatenate([np.asarray(inp["cam"], dtype=float), np.asarray(inp["x"], dtype=float), [float(inp["w"])]])
    feat = np.asarray(inp["feat"], dtype=float)
    w = float(inp["w"])
    if function == "objective":
        return encode_objective(np.tile(_one_observation(z, feat), p), np.full(p, 1 - w * w))
    block = fd_jacobian(lambda zz: _one_observation(zz, feat), z).df                 # (2, 15)
    return encode_jacobian(inp, np.broadcast_to(block, (p, 2, 15)), np.full(p, -2 * w))


def peers():
    out = {}
    try:
        import torch
        t_res = _residual(torch)

        def t_objective(inp):
            z, feats, _ = _gathered(inp)
            return encode_objective(t_res(torch.tensor(z), torch.tensor(feats)).numpy(), 1 - z[:, 14] ** 2)

        def t_jacobian(inp):
            z, feats, _ = _gathered(inp)
            zt = torch.tensor(z, requires_grad=True)
            r = t_res(zt, torch.tensor(feats))
            blocks = [torch.autograd.grad(r[:, k].sum(), zt, retain_graph=k == 0)[0].numpy() for k in (0, 1)]
            wt = torch.tensor(z[:, 14], requires_grad=True)
            (w_d,) = torch.autograd.grad((1 - wt * wt).sum(), wt)
            return encode_jacobian(inp, np.stack(blocks, axis=1), w_d.numpy())
        out["torch"] = {"objective": t_objective, "jacobian": t_jacobian}
    except ImportError:
        pass
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        j_res = _residual(jnp)
        j_grads = [jax.grad(lambda z, feats, k=k: jnp.sum(j_res(z, feats)[:, k])) for k in (0, 1)]
        j_wd = jax.grad(lambda w: jnp.sum(1 - w * w))
        for name, wrap in (("jax", lambda f: f), ("jax+jit", jax.jit)):
            res, grads, wd = wrap(j_res), [wrap(g) for g in j_grads], wrap(j_wd)

            def j_objective(inp, res=res):
                z, feats, _ = _gathered(inp)
                return encode_objective(np.asarray(res(jnp.asarray(z), jnp.asarray(feats))), 1 - z[:, 14] ** 2)

            def j_jacobian(inp, grads=grads, wd=wd):
                z, feats, _ = _gathered(inp)
                zj, fj = jnp.asarray(z), jnp.asarray(feats)
                blocks = np.stack([np.asarray(g(zj, fj)) for g in grads], axis=1)
                return encode_jacobian(inp, blocks, np.asarray(wd(jnp.asarray(z[:, 14]))))
            out[name] = {"objective": j_objective, "jacobian": j_jacobian}
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as anp
        a_res = _residual(anp)
        a_grads = [autograd.grad(lambda z, feats, k=k: anp.sum(a_res(z, feats)[:, k])) for k in (0, 1)]
        a_wd = autograd.grad(lambda w: anp.sum(1 - w * w))

        def a_objective(inp):
            z, feats, _ = _gathered(inp)
            return encode_objective(a_res(z, feats), 1 - z[:, 14] ** 2)

        def a_jacobian(inp):
            z, feats, _ = _gathered(inp)
            return encode_jacobian(inp, np.stack([g(z, feats) for g in a_grads], axis=1), a_wd(z[:, 14]))
        out["autograd"] = {"objective": a_objective, "jacobian": a_jacobian}
    except ImportError:
        pass
    return out
