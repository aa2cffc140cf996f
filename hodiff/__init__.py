"""hodiff: higher-order forward and reverse automatic differentiation on numpy.

The public API (see docs/api.md); everything else is internal.
"""

from .primitives.install import install as _install

_install()

from . import nn, numpy, scipy, testing  # noqa: E402,F401
from .core.errors import BackendError, EscapedTracerError, MissingRuleError  # noqa: E402
from .core.memory import keep_freed_memory  # noqa: E402
from .core.tree import tree_flatten, tree_map, tree_unflatten  # noqa: E402
from .distributed import ShardedLoss  # noqa: E402
from .interpreters.forward import Dual, Perturbation  # noqa: E402
from .secondorder import (  # noqa: E402
    DiagonalEstimate,
    ggn_operator,
    ggn_vp,
    hessian_density,
    hessian_diagonal,
    hessian_eigs,
    hessian_operator,
    hessian_trace,
    minimize,
)
from .testing import check_grads, numerical_jacobian  # noqa: E402
from .transforms.batching import vmap  # noqa: E402
from .transforms.custom import custom_jvp, custom_vjp, defjvp, defvjp, primitive  # noqa: E402
from .transforms.forward import jvp, linearize  # noqa: E402
from .transforms.graph import Variable, grad_of  # noqa: E402
from .transforms.hessian import derivative_tensor, hessian, hvp, vhp  # noqa: E402
from .transforms.jacobian import convert_layout, jacfwd, jacobian, jacrev  # noqa: E402
from .transforms.operators import OperatorEstimate, bilaplacian, collapsed_taylor, laplacian, weighted_laplacian  # noqa: E402
from .transforms.replay import ReplayError, record  # noqa: E402
from .transforms.reverse import grad, stop_gradient, value_and_grad, vjp  # noqa: E402
from .transforms.sparse import (  # noqa: E402
    bidirectional_coloring,
    column_coloring,
    row_coloring,
    sparse_hessian,
    sparse_jacobian,
    star_coloring,
)
from .transforms.sparsity import hessian_sparsity, jacobian_sparsity  # noqa: E402
from .transforms.taylor import derivative, jet, taylor, taylor_rule_report  # noqa: E402
from .viz import render, to_dot, trace_graph  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "linearize", "vmap", "stop_gradient", "record", "ReplayError",
    "primitive", "defvjp", "defjvp", "custom_vjp", "custom_jvp",
    "Dual", "Perturbation", "Variable", "grad_of", "MissingRuleError", "EscapedTracerError", "BackendError",
    "tree_flatten", "tree_unflatten", "tree_map",
    "ShardedLoss", "testing", "check_grads", "numerical_jacobian",
    "jacobian", "jacfwd", "jacrev", "convert_layout", "hessian", "hvp", "vhp", "derivative_tensor",
    "taylor", "jet", "derivative", "taylor_rule_report", "collapsed_taylor", "laplacian", "weighted_laplacian",
    "OperatorEstimate", "bilaplacian",
    "sparse_jacobian", "sparse_hessian", "column_coloring", "row_coloring", "bidirectional_coloring",
    "star_coloring",
    "jacobian_sparsity", "hessian_sparsity",
    "trace_graph", "to_dot", "render",
    "hessian_operator", "hessian_eigs", "hessian_trace", "hessian_diagonal", "DiagonalEstimate", "hessian_density",
    "minimize", "ggn_vp", "ggn_operator", "keep_freed_memory",
]
