"""hodiff.testing: checking derivatives against finite differences and each other.

- ``check_grads(f, args, modes=("fwd", "rev"), order=2)``: every mode and order
  against scipy's finite differences and each other;
- ``numerical_jvp``, ``numerical_jacobian(f, x, layout=...)``: references
  from ``scipy.differentiate`` (Richardson-extrapolated central differences);
- ``assert_layouts_agree``, ``assert_modes_agree``: for convention-comparison
  tests.
"""

from .check import check_grads, default_tolerances
from .numerical import numerical_jacobian, numerical_jvp

__all__ = ["check_grads", "default_tolerances", "numerical_jacobian", "numerical_jvp"]
