"""GradBench ``ht`` (ADBench's hand tracking): the residuals between measured
points and a skinned hand model posed by 26 parameters theta, and their Jacobian.

The model (cpp/gradbench/evals/ht.hpp): theta -> pose parameters (3 global
rotation as an angle axis, 3 global translation, then per finger one bone with
two Euler angles and two bones with one; the rest 0, scale fixed at 1); each of
the 22 bones' relative transform is its base relative times the Euler rotation
R = Rz Ry Rx (angles x, z, y in that order); absolutes chain the relatives from
the root (parents come first); the vertex positions are the weighted sum over
bones of (absolute @ inverse base absolute) @ base position, then rotated and
translated globally. ``objective`` is the residual vector, entry 3 i + j =
points[i, j] - model point i coordinate j, (3 npts,): the model point is the
corresponded vertex (simple: ``us`` empty) or, in the complicated variant, the
point u0 v0 + u1 v1 + (1 - u0 - u1) v2 of the corresponded triangle with that
point's ``us`` row (u0, u1). ``jacobian`` is GradBench's (3 npts, ncols) matrix
as rows (the manual tool's layout): simple, ncols = 26, the theta columns;
complicated, ncols = 28, first d r_i / d u_i0 and d r_i / d u_i1 (point i's
rows only depend on its own us row, so the block-diagonal us part is sent as two
columns), then the 26 theta columns.

Inputs as the eval reads them (evals/ht/run.py and io.py): the files
evals/ht/data/{simple,complicated}_{small,big}/hand<k>_t26_c<npts>.txt with the
model in that directory's model/ (bones, vertices with up to 4 bone weights,
triangles), read from the local GradBench mirror (MIRROR; its files are copied
into CACHE on first use; not kept in this repository). The full run validates and
times CASES. The quick inputs need no mirror: a seeded synthetic hand with the
same 22-bone tree and a few vertices (``synthetic``).

Implementation (the same code for hodiff and every peer, ``_model(xp)``):
vectorised over bones (the parent chain level by level: 4 batched matmuls) and
points; only the vertices the points read are skinned. The Jacobian is forward
mode, since there are few columns and many rows: the theta columns from one JVP
batched over the 26 basis tangents (hodiff: hd.jacfwd, torch: torch.func.jacfwd,
jax: jax.jacfwd; autograd has no vmap: one make_jvp per tangent) with us fixed;
the us columns from a second JVP, theta fixed, batched over two tangents that
move every point's u0 (u1) at once: point i's residual depends only on us row i,
so those two give the whole block-diagonal us part (a compressed, column-coloured
JVP; one 28-wide pass would push 26 zero us tangents through the point-sized
products). The angle-axis rotation is the identity below norm 1e-4 (ht.hpp),
chosen from theta's value before differentiating, so its derivative there is 0
as in GradBench's manual tool.

Validation: GradBench checks against its C++ manual tool; here the reference
(``reference``) is ht.hpp's objective written loop by loop in numpy (explicit
Rx, Ry, Rz products, a loop over bones), the theta columns are
scipy.differentiate's central differences of it, and the us columns the
closed form v2 - v0, v2 - v1 at the reference's vertices.
"""

from __future__ import annotations

import os
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np

import hodiff as hd
import hodiff.numpy as hnp

NAME = "ht"
MIRROR = Path(os.environ.get("HODIFF_GRADBENCH_MIRROR", "/work/.mirror/gradbench+gradbench/repo"))
CACHE = Path(os.environ.get("HODIFF_GRADBENCH_CACHE", "~/.cache/hodiff-gradbench")).expanduser() / "ht"
DATA = "evals/ht/data"
# (variant directory, k of hand<k>_t26_c<npts>.txt); the eval runs k = 1..12 of one
# directory, complicated_big by default
CASES = [("simple_small", 1), ("simple_small", 5), ("simple_small", 7),
         ("complicated_small", 1), ("complicated_small", 5), ("complicated_small", 7),
         ("complicated_big", 1), ("complicated_big", 7)]
N_THETA = 26
# npts of hand<k>_t26_c<npts>.txt, the same in all four data directories
NPTS = {1: 100, 2: 192, 3: 200, 4: 400, 5: 800, 6: 1600, 7: 3200, 8: 6400, 9: 12800, 10: 25600, 11: 51200,
        12: 100000}
SMALL_ROTATION = 1e-4  # ht.hpp's angle_axis_to_rotation_matrix: identity below this norm
# the 22 bones of ADBench's hand (evals/ht/data/model/bones.txt): name, parent
BONES = [("wrist", -1)] + [
    (f"{finger}{k}", 0 if k == 1 else 4 * i + k - 1)
    for i, finger in enumerate(("thumb", "index", "middle", "ring", "pinky")) for k in (1, 2, 3, 4)
] + [("forearm", 0)]


# --- data --------------------------------------------------------------------

def _data_text(relative):
    """A file under the eval's data directory, from CACHE, copied there from MIRROR on first use."""
    cached = CACHE / relative
    if not cached.exists():
        if not (MIRROR / "HEAD").exists() and not (MIRROR / ".git").exists():
            raise FileNotFoundError(
                f"ht: the GradBench data ({DATA}/{relative}) is read from the git mirror {MIRROR}, "
                "which is missing (set HODIFF_GRADBENCH_MIRROR to a GradBench clone)")
        shown = subprocess.run(["git", "-C", str(MIRROR), "show", f"HEAD:{DATA}/{relative}"], capture_output=True)
        if shown.returncode:  # e.g. hand12 of the complicated variants, whose blobs the mirror lacks
            raise FileNotFoundError(f"ht: {DATA}/{relative} cannot be read from the mirror {MIRROR}: "
                                    + shown.stderr.decode(errors="replace").strip())
        blob = shown.stdout
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(cached.name + f".{os.getpid()}.partial")
        partial.write_bytes(blob)
        partial.replace(cached)  # atomic: a concurrent reader never sees half a file
    return cached.read_text()


def _rows(text):
    return [line.split(":") for line in text.splitlines() if line.strip()]


@lru_cache(maxsize=None)
def load_model(variant):
    """io.py's load_model for evals/ht/data/<variant>/model, as GradBench's HTModel dict
    (one dict per variant, shared by every instance read: not to be modified)."""
    bones = _rows(_data_text(f"{variant}/model/bones.txt"))
    vertices = _rows(_data_text(f"{variant}/model/vertices.txt"))
    triangles = np.array([[int(a) for a in row] for row in _rows(_data_text(f"{variant}/model/triangles.txt"))])
    n_bones = len(bones)
    matrices = np.array([[float(a) for a in row[2:34]] for row in bones])
    positions = np.ones((len(vertices), 4))
    weights = np.zeros((len(vertices), n_bones))
    for v, atoms in enumerate(vertices):
        positions[v, :3] = [float(a) for a in atoms[:3]]
        for i in range(int(atoms[8])):
            weights[v, int(atoms[9 + 2 * i])] = float(atoms[10 + 2 * i])
    return {"bone_count": n_bones, "bone_names": [row[0] for row in bones],
            "parents": np.array([int(row[1]) for row in bones]),
            "base_relatives": matrices[:, :16].reshape(n_bones, 4, 4),
            "inverse_base_absolutes": matrices[:, 16:].reshape(n_bones, 4, 4),
            "base_positions": positions, "weights": weights, "triangles": triangles, "is_mirrored": False}


def read_instance(variant, index):
    """io.py's read_hand_instance: (description, GradBench's HTInput dict) of hand<index>_*.txt."""
    name = f"hand{index}_t{N_THETA}_c{NPTS[index]}.txt"
    lines = _data_text(f"{variant}/{name}").split("\n")
    npts, ntheta = (int(a) for a in lines[0].split())
    rows = [line.split() for line in lines[1:1 + npts]]
    correspondences = np.array([int(r[0]) for r in rows])
    points = np.array([[float(a) for a in r[1:]] for r in rows])
    after = 1 + npts
    complicated = variant.startswith("complicated")
    us = np.array([[float(a) for a in line.split()] for line in lines[after:after + npts]]) if complicated \
        else np.zeros((0, 2))
    after += npts if complicated else 0
    theta = np.array([float(line) for line in lines[after:after + ntheta]])
    data = {"model": load_model(variant), "correspondences": correspondences, "points": points}
    return f"{variant}/{name[:-4]}", {"theta": theta, "data": data, "us": us}


def synthetic(npts, complicated, seed=0, n_vertices=12):
    """A seeded hand with ADBench's 22-bone tree, random rigid base relatives (inverse
    base absolutes their chained inverses), n_vertices vertices each weighted on 1-3
    bones, and npts points with random correspondences (and us for complicated)."""
    rng = np.random.default_rng(seed)
    n_bones = len(BONES)
    parents = np.array([p for _, p in BONES])

    def rigid():
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        m = np.eye(4)
        m[:3, :3], m[:3, 3] = q * np.sign(np.linalg.det(q)), rng.normal(scale=0.1, size=3)
        return m
    relatives = np.array([rigid() for _ in range(n_bones)])
    absolutes = []
    for b in range(n_bones):
        absolutes.append(relatives[b] if parents[b] < 0 else absolutes[parents[b]] @ relatives[b])
    weights = np.zeros((n_vertices, n_bones))
    for v in range(n_vertices):
        bones = rng.choice(n_bones, size=rng.integers(1, 4), replace=False)
        weights[v, bones] = rng.dirichlet(np.ones(len(bones)))
    positions = np.concatenate([rng.normal(scale=0.1, size=(n_vertices, 3)), np.ones((n_vertices, 1))], axis=1)
    triangles = np.array([rng.choice(n_vertices, size=3, replace=False) for _ in range(2 * n_vertices)])
    model = {"bone_count": n_bones, "bone_names": [name for name, _ in BONES], "parents": parents,
             "base_relatives": relatives, "inverse_base_absolutes": np.linalg.inv(np.array(absolutes)),
             "base_positions": positions, "weights": weights, "triangles": triangles, "is_mirrored": False}
    corr = rng.integers(0, len(triangles) if complicated else n_vertices, size=npts)
    data = {"model": model, "correspondences": corr, "points": rng.normal(scale=0.1, size=(npts, 3))}
    us = rng.uniform(0.0, 0.5, size=(npts, 2)) if complicated else np.zeros((0, 2))
    return {"theta": rng.normal(size=N_THETA), "data": data, "us": us}


def inputs(quick=False):
    if quick:
        cases = [("synthetic simple npts=5", synthetic(5, False, seed=1)),
                 ("synthetic complicated npts=7", synthetic(7, True, seed=2))]
    else:
        cases = [read_instance(variant, index) for variant, index in CASES]
    return [(function, description, inp) for description, inp in cases for function in ("objective", "jacobian")]


# --- the model, in any array library -----------------------------------------

def _pose_map(bone_count):
    """ht.hpp's to_pose_params as a constant linear map: the Euler angles of every bone,
    (bone_count, 3) = (P @ theta).reshape(bone_count, 3), P of shape (3 bone_count, 26)."""
    P = np.zeros((bone_count, 3, N_THETA))
    i_theta, i_bone = 6, 2  # pose_params column 5 is bone 2 (columns 0-2 are global)
    for _ in range(5):
        for k in range(3):
            P[i_bone, 0, i_theta] = 1.0
            i_theta += 1
            if k == 0:
                P[i_bone, 1, i_theta] = 1.0
                i_theta += 1
            i_bone += 1
        i_bone += 1
    return P.reshape(3 * bone_count, N_THETA)


def _levels(parents):
    """The bone tree level by level: [(bones, index of each one's parent within the
    previous level)], and the permutation taking the concatenated levels to bone order."""
    depth = np.zeros(len(parents), dtype=int)
    for b, p in enumerate(parents):
        if p >= b:
            raise ValueError("ht: parents must come before their children (as ht.hpp assumes)")
        depth[b] = 0 if p < 0 else depth[p] + 1
    levels, position = [], np.zeros(len(parents), dtype=int)
    for d in range(depth.max() + 1):
        bones = np.flatnonzero(depth == d)
        position[bones] = np.arange(len(bones))
        levels.append((bones, position[parents[bones]] if d else None))
    order = np.concatenate([bones for bones, _ in levels])
    return levels, np.argsort(order)


def prepare(inp):
    """The model's constants from a GradBench HTInput (dict of lists or arrays), as numpy:
    theta (26,), us (npts, 2) or None (simple), and the fixed arrays of ``_model``."""
    data, model = inp["data"], inp["data"]["model"]
    parents = np.asarray(model["parents"], dtype=int)
    levels, unlevel = _levels(parents)
    us = np.asarray(inp["us"], dtype=float).reshape(-1, 2)
    corr = np.asarray(data["correspondences"], dtype=int)
    base_positions = np.asarray(model["base_positions"], dtype=float)
    # the vertex of each point (simple), or its triangle's three vertices (complicated)
    vertices = np.asarray(model["triangles"], dtype=int)[corr] if len(us) else corr[:, None]
    # only the vertices read are skinned (the big model has 10,000; c = 100 points read <= 300)
    used = np.flatnonzero(np.bincount(vertices.ravel(), minlength=len(base_positions)))
    slot = np.zeros(len(base_positions), dtype=int)
    slot[used] = np.arange(len(used))
    fixed = {"pose_map": _pose_map(len(parents)),
             "base_relatives": np.asarray(model["base_relatives"], dtype=float),
             "inverse_base_absolutes": np.asarray(model["inverse_base_absolutes"], dtype=float),
             "weights": np.asarray(model["weights"], dtype=float)[used],
             "base_positions": base_positions[used],
             "mirror": np.array([-1.0, 1.0, 1.0]) if model["is_mirrored"] else None,
             "points": np.asarray(data["points"], dtype=float),
             # per corner k, each point's vertex among the skinned ones (one column: simple)
             "corners": [np.ascontiguousarray(slot[vertices[:, k]]) for k in range(vertices.shape[1])],
             "levels": levels, "unlevel": unlevel}
    return np.asarray(inp["theta"], dtype=float), (us if len(us) else None), fixed


def _model(xp):
    """residuals(theta (26,), us (npts, 2) or None, fixed, small_rotation) -> (3 npts,) in library xp."""
    def euler_rotations(angles):
        """ht.hpp's Rz @ Ry @ Rx per row of (bones, 3) angles (x, z, y), as (bones, 3, 3)."""
        cx, cz, cy = (xp.cos(angles[:, k]) for k in range(3))
        sx, sz, sy = (xp.sin(angles[:, k]) for k in range(3))
        entries = [cz * cy, cz * sy * sx - sz * cx, sz * sx + cz * sy * cx,
                   sz * cy, cz * cx + sz * sy * sx, sz * sy * cx - cz * sx,
                   -sy, cy * sx, cy * cx]
        return xp.reshape(xp.stack(entries, 1), (-1, 3, 3))

    def angle_axis_rotation(axis_angle):
        norm = xp.sqrt(xp.sum(axis_angle * axis_angle))
        x, y, z = (axis_angle[k] / norm for k in range(3))
        s, c = xp.sin(norm), xp.cos(norm)
        entries = [x * x + (1 - x * x) * c, x * y * (1 - c) - z * s, x * z * (1 - c) + y * s,
                   x * y * (1 - c) + z * s, y * y + (1 - y * y) * c, y * z * (1 - c) - x * s,
                   x * z * (1 - c) - y * s, z * y * (1 - c) + x * s, z * z + (1 - z * z) * c]
        return xp.reshape(xp.stack(entries), (3, 3))

    def vertex_positions(theta, fixed, small_rotation):
        """All vertices posed, (n_vertices, 3)."""
        n_bones = fixed["base_relatives"].shape[0]
        rotations = euler_rotations(xp.reshape(fixed["pose_map"] @ theta, (n_bones, 3)))
        base = fixed["base_relatives"]
        # base_relative @ [[R, 0], [0, 1]]: R acts on the first three columns
        relatives = xp.concatenate([base[:, :, :3] @ rotations, base[:, :, 3:]], 2)
        levels, unlevel = fixed["levels"], fixed["unlevel"]
        chain = [relatives[levels[0][0]]]
        for bones, parent in levels[1:]:
            chain.append(chain[-1][parent] @ relatives[bones])
        absolutes = xp.concatenate(chain, 0)[unlevel]
        transforms = absolutes @ fixed["inverse_base_absolutes"]                     # (bones, 4, 4)
        # skinning: sum_b w[v, b] (T_b p_v)[:3] = (sum_b w[v, b] T_b[:3]) p_v
        blended = xp.reshape(fixed["weights"] @ xp.reshape(transforms[:, :3, :], (n_bones, 12)), (-1, 3, 4))
        positions = xp.sum(blended * fixed["base_positions"][:, None, :], 2)
        if fixed["mirror"] is not None:
            positions = positions * fixed["mirror"]
        if not small_rotation:
            positions = positions @ angle_axis_rotation(theta[0:3]).T
        return positions + theta[3:6]

    def residuals(theta, us, fixed, small_rotation):
        positions = vertex_positions(theta, fixed, small_rotation)
        if us is None:
            return xp.reshape(fixed["points"] - positions[fixed["corners"][0]], (-1,))
        # three (npts, 3) gathers, not one (npts, 3, 3) and slices: under a JVP batched over
        # 26 tangents these point-sized arrays are the whole cost
        v0, v1, v2 = (positions[corner] for corner in fixed["corners"])
        u0, u1 = us[:, 0:1], us[:, 1:2]
        hand = u0 * v0 + u1 * v1 + (1.0 - u0 - u1) * v2
        return xp.reshape(fixed["points"] - hand, (-1,))
    return residuals


def _small_rotation(theta):
    return bool(np.sqrt(np.sum(np.asarray(theta[:3]) ** 2)) < SMALL_ROTATION)


def _us_tangents(npts):
    """The two compressed tangents of the us columns, (2, npts, 2): tangent k moves every
    point's u_k at once (point i's residual depends on us row i only)."""
    d_us = np.zeros((2, npts, 2))
    d_us[0, :, 0] = d_us[1, :, 1] = 1.0
    return d_us


_hodiff_residuals = _model(hnp)


def objective(inp):
    theta, us, fixed = prepare(inp)
    return _hodiff_residuals(theta, us, fixed, _small_rotation(theta))


def jacobian(inp):
    theta, us, fixed = prepare(inp)
    small = _small_rotation(theta)
    d_theta = hd.jacfwd(lambda t: _hodiff_residuals(t, us, fixed, small))(theta)         # (3 npts, 26)
    if us is None:
        return d_theta
    d_us = hd.vmap(lambda du: hd.jvp(lambda u: _hodiff_residuals(theta, u, fixed, small), (us,), (du,))[1])(
        _us_tangents(len(us)))                                                           # (2, 3 npts)
    return np.concatenate([np.transpose(d_us), d_theta], axis=1)                         # (3 npts, 28)


FUNCTIONS = {"objective": objective, "jacobian": jacobian}


# --- reference ---------------------------------------------------------------

def _reference_vertices(theta, inp, which):
    """ht.hpp's get_skinned_vertex_positions loop by loop for the vertices ``which``, batched
    over theta's trailing axes: theta (26, *batch) -> vertices (len(which), 3, *batch)."""
    model = inp["data"]["model"]
    batch = theta.shape[1:]
    t = theta.reshape(N_THETA, -1).T                                                  # (B, 26)
    B = t.shape[0]
    parents = np.asarray(model["parents"], dtype=int)
    n_bones = len(parents)
    # to_pose_params: a (B, 3, n_bones + 3) pose_params matrix, column by column as ht.hpp fills it
    pose = np.zeros((B, 3, n_bones + 3))
    pose[:, :, 0], pose[:, :, 1], pose[:, :, 2] = t[:, 0:3], 1.0, t[:, 3:6]
    i_theta, i_pose = 6, 5
    for _ in range(5):
        for i in (2, 3, 4):
            pose[:, 0, i_pose] = t[:, i_theta]
            i_theta += 1
            if i == 2:
                pose[:, 1, i_pose] = t[:, i_theta]
                i_theta += 1
            i_pose += 1
        i_pose += 1
    absolutes = []
    for b in range(n_bones):
        tx, tz, ty = pose[:, 0, b + 3], pose[:, 1, b + 3], pose[:, 2, b + 3]
        Rx, Ry, Rz = (np.tile(np.eye(3), (B, 1, 1)) for _ in range(3))
        Rx[:, 1, 1], Rx[:, 2, 1], Rx[:, 1, 2], Rx[:, 2, 2] = np.cos(tx), np.sin(tx), -np.sin(tx), np.cos(tx)
        Ry[:, 0, 0], Ry[:, 0, 2], Ry[:, 2, 0], Ry[:, 2, 2] = np.cos(ty), np.sin(ty), -np.sin(ty), np.cos(ty)
        Rz[:, 0, 0], Rz[:, 1, 0], Rz[:, 0, 1], Rz[:, 1, 1] = np.cos(tz), np.sin(tz), -np.sin(tz), np.cos(tz)
        tr = np.tile(np.eye(4), (B, 1, 1))
        tr[:, :3, :3] = np.matmul(np.matmul(Rz, Ry), Rx)
        relative = np.matmul(np.asarray(model["base_relatives"][b], dtype=float), tr)
        absolutes.append(relative if parents[b] == -1 else np.matmul(absolutes[parents[b]], relative))
    base_positions = np.asarray(model["base_positions"], dtype=float)[which]       # (V, 4)
    weights = np.asarray(model["weights"], dtype=float)[which]                     # (V, bones)
    positions = np.zeros((B, 3, len(base_positions)))
    for b in range(n_bones):
        transform = np.matmul(absolutes[b], np.asarray(model["inverse_base_absolutes"][b], dtype=float))
        current = np.matmul(transform, base_positions.T)                           # (B, 4, V)
        positions += current[:, :3, :] * weights[:, b]
    if model["is_mirrored"]:
        positions[:, 0, :] *= -1
    for k in range(B):  # apply_global_transform
        aa = pose[k, :, 0]
        norm = np.sqrt(np.sum(aa ** 2))
        if norm < SMALL_ROTATION:
            R = np.eye(3)
        else:
            x, y, z = aa / norm
            s, c = np.sin(norm), np.cos(norm)
            R = np.array([[x * x + (1 - x * x) * c, x * y * (1 - c) - z * s, x * z * (1 - c) + y * s],
                          [x * y * (1 - c) + z * s, y * y + (1 - y * y) * c, y * z * (1 - c) - x * s],
                          [x * z * (1 - c) - y * s, z * y * (1 - c) + x * s, z * z + (1 - z * z) * c]])
        R = R * pose[k, :, 1][None, :]                                              # scale_col
        positions[k] = R @ positions[k] + pose[k, :, 2][:, None]
    return np.moveaxis(positions, 0, -1).transpose(1, 0, 2).reshape((len(base_positions), 3) + batch)


def _used_vertices(inp):
    """The vertices the residuals read (each point's, or its triangle's), and where each
    vertex index lands among them (an array as long as the model's vertex count)."""
    data = inp["data"]
    corr = np.asarray(data["correspondences"], dtype=int)
    us = np.asarray(inp["us"], dtype=float).reshape(-1, 2)
    used = np.unique(np.asarray(data["model"]["triangles"], dtype=int)[corr] if len(us) else corr)
    slot = np.full(len(data["model"]["base_positions"]), -1)
    slot[used] = np.arange(len(used))
    return used, slot


def _reference_residuals(theta, inp):
    """ht.hpp's two objectives, point by point: (3 npts, *batch) (err[3 i + j])."""
    used, slot = _used_vertices(inp)
    vertices = _reference_vertices(theta, inp, used)[slot]  # only the used rows are read
    data = inp["data"]
    points = np.asarray(data["points"], dtype=float)
    corr = np.asarray(data["correspondences"], dtype=int)
    us = np.asarray(inp["us"], dtype=float).reshape(-1, 2)
    triangles = np.asarray(data["model"]["triangles"], dtype=int)
    err = np.empty((len(points), 3) + theta.shape[1:])
    for i in range(len(points)):
        if len(us):
            v = triangles[corr[i]]
            u = us[i]
            hand = u[0] * vertices[v[0]] + u[1] * vertices[v[1]] + (1.0 - u[0] - u[1]) * vertices[v[2]]
        else:
            hand = vertices[corr[i]]
        err[i] = points[i].reshape((3,) + (1,) * (theta.ndim - 1)) - hand
    return err.reshape((3 * len(points),) + theta.shape[1:])


def reference(function, inp):
    """ht.hpp's objective in numpy; the Jacobian's theta columns by scipy.differentiate's
    central differences of it, its us columns v2 - v0 and v2 - v1 (the closed form)."""
    from scipy.differentiate import jacobian as fd_jacobian
    theta = np.asarray(inp["theta"], dtype=float)
    if function == "objective":
        return _reference_residuals(theta, inp)
    d_theta = fd_jacobian(lambda t: _reference_residuals(t, inp), theta).df              # (3 npts, 26)
    us = np.asarray(inp["us"], dtype=float).reshape(-1, 2)
    if not len(us):
        return d_theta
    used, slot = _used_vertices(inp)
    vertices = _reference_vertices(theta, inp, used)[slot]
    corners = vertices[np.asarray(inp["data"]["model"]["triangles"], dtype=int)[
        np.asarray(inp["data"]["correspondences"], dtype=int)]]                          # (npts, 3, 3)
    d_us = np.stack([corners[:, 2] - corners[:, 0], corners[:, 2] - corners[:, 1]], axis=2)  # (npts, 3, 2)
    return np.concatenate([d_us.reshape(-1, 2), d_theta], axis=1)


# --- peers -------------------------------------------------------------------

def _converted(fixed, floats, indices):
    """``fixed`` with its float arrays through ``floats`` and index arrays through ``indices``."""
    index_keys = ("levels", "unlevel", "corners")
    out = {k: (None if v is None else floats(v)) for k, v in fixed.items() if k not in index_keys}
    out["levels"] = [(indices(bones), None if parent is None else indices(parent)) for bones, parent in fixed["levels"]]
    out["unlevel"], out["corners"] = indices(fixed["unlevel"]), [indices(c) for c in fixed["corners"]]
    return out


def peers():
    out = {}
    try:
        import torch
        import torch.func
        t_res = _model(torch)

        def t_prepared(inp):
            theta, us, fixed = prepare(inp)
            fixed = _converted(fixed, torch.as_tensor, lambda a: torch.as_tensor(a, dtype=torch.long))
            return torch.as_tensor(theta), None if us is None else torch.as_tensor(us), fixed, _small_rotation(theta)

        def t_objective(inp):
            theta, us, fixed, small = t_prepared(inp)
            return t_res(theta, us, fixed, small).numpy()

        def t_jacobian(inp):
            theta, us, fixed, small = t_prepared(inp)
            d_theta = torch.func.jacfwd(lambda t: t_res(t, us, fixed, small))(theta).numpy()
            if us is None:
                return d_theta
            d_us = torch.func.vmap(lambda du: torch.func.jvp(lambda u: t_res(theta, u, fixed, small), (us,), (du,))[1])(
                torch.as_tensor(_us_tangents(len(us))))
            return np.concatenate([d_us.numpy().T, d_theta], axis=1)
        out["torch"] = {"objective": t_objective, "jacobian": t_jacobian}
    except ImportError:
        pass
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        j_res = _model(jnp)

        def j_simple(theta, fixed, small):
            return jax.jacfwd(lambda t: j_res(t, None, fixed, small))(theta)

        def j_complicated(theta, us, d_us, fixed, small):
            d_theta = jax.jacfwd(lambda t: j_res(t, us, fixed, small))(theta)
            d_us = jax.vmap(lambda du: jax.jvp(lambda u: j_res(theta, u, fixed, small), (us,), (du,))[1])(d_us)
            return jnp.concatenate([d_us.T, d_theta], axis=1)

        def j_prepared(inp):
            theta, us, fixed = prepare(inp)
            return (jnp.asarray(theta), None if us is None else jnp.asarray(us),
                    _converted(fixed, jnp.asarray, jnp.asarray), _small_rotation(theta))
        for name, wrap in (("jax", lambda f, **kw: f), ("jax+jit", jax.jit)):
            res = wrap(j_res, static_argnums=(3,))
            simple, complicated = wrap(j_simple, static_argnums=(2,)), wrap(j_complicated, static_argnums=(4,))

            def j_objective(inp, res=res):
                theta, us, fixed, small = j_prepared(inp)
                return np.asarray(res(theta, us, fixed, small))

            def j_jacobian(inp, simple=simple, complicated=complicated):
                theta, us, fixed, small = j_prepared(inp)
                if us is None:
                    return np.asarray(simple(theta, fixed, small))
                return np.asarray(complicated(theta, us, jnp.asarray(_us_tangents(len(us))), fixed, small))
            out[name] = {"objective": j_objective, "jacobian": j_jacobian}
    except ImportError:
        pass
    try:
        import autograd
        import autograd.numpy as anp
        a_res = _model(anp)

        def a_objective(inp):
            theta, us, fixed = prepare(inp)
            return a_res(theta, us, fixed, _small_rotation(theta))

        def a_jacobian(inp):
            # autograd has no vmap: one forward-mode make_jvp per tangent
            theta, us, fixed = prepare(inp)
            small = _small_rotation(theta)
            jvp = autograd.make_jvp(lambda t: a_res(t, us, fixed, small))(theta)
            d_theta = np.stack([jvp(e)[1] for e in np.eye(N_THETA)], axis=1)
            if us is None:
                return d_theta
            jvp = autograd.make_jvp(lambda u: a_res(theta, u, fixed, small))(us)
            return np.concatenate([np.stack([jvp(du)[1] for du in _us_tangents(len(us))], axis=1), d_theta], axis=1)
        out["autograd"] = {"objective": a_objective, "jacobian": a_jacobian}
    except ImportError:
        pass
    return out
