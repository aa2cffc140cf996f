"""Rows for contraction.py (and tensordot): matmul in every rank combination, einsum, dot ..."""

import numpy as np

import hodiff.numpy as hnp

from . import Row, uniform

_CONSTANT = np.random.default_rng(7).uniform(-2, 2, (2, 3))  # numpy array @ tracer goes through __rmatmul__

ROWS = [
    Row("matmul[2-d]", lambda a, b: a @ b, uniform((3, 4), (4, 2))),
    Row("matmul[1-d @ 2-d]", lambda a, b: a @ b, uniform((4,), (4, 2))),
    Row("matmul[2-d @ 1-d]", lambda a, b: hnp.matmul(a, b), uniform((3, 4), (4,))),
    Row("matmul[1-d @ 1-d]", lambda a, b: a @ b, uniform((4,), (4,))),
    Row("matmul[stack @ 2-d]", lambda a, b: a @ b, uniform((2, 3, 4), (4, 2))),
    Row("matmul[1-d @ stack]", lambda a, b: a @ b, uniform((4,), (2, 4, 3))),
    Row("matmul[stack @ 1-d]", lambda a, b: a @ b, uniform((2, 3, 4), (4,))),
    Row("matmul[broadcast stacks]", lambda a, b: a @ b, uniform((2, 1, 3, 4), (3, 4, 2))),
    Row("matmul[constant @ traced]", lambda b: _CONSTANT @ b, uniform((3, 2)), float32=False),
    Row("einsum[ij,jk->ik]", lambda a, b: hnp.einsum("ij,jk->ik", a, b), uniform((3, 4), (4, 2))),
    Row("einsum[implicit]", lambda a, b: hnp.einsum("ij,kj", a, b), uniform((3, 4), (2, 4))),
    Row("einsum[trace ii]", lambda a: hnp.einsum("ii", a), uniform((3, 3))),
    Row("einsum[diag ii->i]", lambda a: hnp.einsum("ii->i", a), uniform((3, 3))),
    Row("einsum[iij->ji]", lambda a: hnp.einsum("iij->ji", a), uniform((3, 3, 2))),
    Row("einsum[sum ij->]", lambda a: hnp.einsum("ij->", a), uniform((2, 3))),
    Row("einsum[transpose]", lambda a: hnp.einsum("ijk->kij", a), uniform((2, 3, 4))),
    Row("einsum[outer]", lambda a, b: hnp.einsum("i,j->ij", a, b), uniform((3,), (2,))),
    Row("einsum[ellipsis batch]", lambda a, b: hnp.einsum("...ij,...jk->...ik", a, b),
        uniform((2, 3, 4), (4, 2))),
    Row("einsum[ellipsis implicit]", lambda a, b: hnp.einsum("...ij,jk", a, b), uniform((2, 3, 4), (4, 2))),
    Row("einsum[three operands]", lambda a, b, c: hnp.einsum("ij,jk,k->i", a, b, c),
        uniform((2, 3), (3, 4), (4,))),
    Row("einsum[summed only in one]", lambda a, b: hnp.einsum("ij,j->", a, b), uniform((2, 3), (3,))),
    Row("einsum[size-1 broadcast]", lambda a, b: hnp.einsum("ij,ij->ij", a, b), uniform((1, 3), (2, 3))),
    Row("einsum[scalar operand]", lambda a, b: hnp.einsum(",i->i", a, b), uniform((), (3,))),
    Row("einsum[sublists]", lambda a, b: hnp.einsum(a, [0, 1], b, [1, 2], [0, 2]), uniform((2, 3), (3, 2))),
    Row("tensordot[both free]", lambda a, b: hnp.tensordot(a, b, axes=([0], [1])), uniform((3, 2), (4, 3))),
    Row("tensordot[axes=1]", lambda a, b: hnp.tensordot(a, b, axes=1), uniform((2, 3), (3, 4))),
    Row("dot[2-d]", hnp.dot, uniform((3, 4), (4, 2))),
    Row("dot[1-d]", hnp.dot, uniform((4,), (4,))),
    Row("dot[N-d with M-d]", hnp.dot, uniform((2, 3, 4), (3, 4, 2))),
    Row("dot[scalar]", hnp.dot, uniform((), (3,))),
    Row("dot[method]", lambda a, b: a.dot(b), uniform((2, 3), (3,))),
    Row("inner", hnp.inner, uniform((2, 3), (4, 3))),
    Row("inner[1-d]", hnp.inner, uniform((3,), (3,))),
    Row("outer", hnp.outer, uniform((2, 2), (3,))),
    Row("kron", hnp.kron, uniform((2, 3), (2, 2))),
    Row("kron[ranks differ]", hnp.kron, uniform((3,), (2, 2))),
    Row("trace", hnp.trace, uniform((3, 3))),
    Row("trace[offset, axes]", lambda a: hnp.trace(a, offset=-1, axis1=1, axis2=2), uniform((2, 4, 3))),
]
