"""hodiff.autograd: HIPS autograd's API on hodiff (``import hodiff.autograd as autograd``).

Autograd's names and signatures, each mapped onto hodiff's transforms (see
docs/from-autograd.md): the differential operators (``grad(fun, argnum=0)``,
``value_and_grad``, ``jacobian``, ``hessian``, ``make_vjp``, ``make_jvp``,
``make_hvp``, ``make_ggnvp``, ...), ``primitive`` / ``defvjp`` / ``defjvp``
with autograd's rule signatures, the containers of ``builtins``, and the
namespaces ``hodiff.autograd.numpy`` (with ``.random``, ``.linalg``, ``.fft``),
``hodiff.autograd.scipy`` (``.special``, ``.stats``, ``.linalg``, ...),
``hodiff.autograd.test_util`` and ``hodiff.autograd.extend``.

>>> import hodiff.autograd as autograd, hodiff.autograd.numpy as np
>>> float(autograd.grad(lambda x, y: np.sin(x) * y, argnum=1)(0.5, 2.0)) == float(np.sin(0.5))
True
"""

from . import builtins, extend, numpy, scipy, test_util  # noqa: F401
from .builtins import dict, isinstance, list, tuple, type  # noqa: F401
from .differential_operators import (  # noqa: F401
    checkpoint,
    deriv,
    elementwise_grad,
    grad,
    grad_and_aux,
    grad_named,
    hessian,
    hessian_tensor_product,
    hessian_vector_product,
    holomorphic_grad,
    jacobian,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_jvp_reversemode,
    make_vjp,
    multigrad_dict,
    tensor_jacobian_product,
    value_and_grad,
    vector_jacobian_product,
)
from .extend import (  # noqa: F401
    Box,
    def_linear,
    defjvp,
    defjvp_argnum,
    defjvp_argnums,
    defvjp,
    defvjp_argnum,
    defvjp_argnums,
    notrace_primitive,
    primitive,
)

__all__ = [
    "grad", "value_and_grad", "grad_and_aux", "elementwise_grad", "deriv", "jacobian", "hessian",
    "holomorphic_grad", "grad_named", "make_vjp", "make_jvp", "make_jvp_reversemode", "make_hvp",
    "make_ggnvp", "hessian_tensor_product", "hessian_vector_product", "tensor_jacobian_product",
    "vector_jacobian_product", "multigrad_dict", "checkpoint",
    "primitive", "defvjp", "defjvp", "defvjp_argnum", "defvjp_argnums", "defjvp_argnum", "defjvp_argnums",
    "def_linear", "notrace_primitive", "Box",
    "tuple", "list", "dict", "isinstance", "type",
]
