"""``fixed_point(f, a, x0, distance, tol)``: x* = f(a)(x*), differentiable in a by the implicit function theorem.

The forward pass iterates x <- f(a)(x) from x0 until ``distance(x, previous) <= tol``. Its VJP does not
differentiate the iterations: from x* = f(a, x*), the cotangent of a is (df/da)^T w where w solves the
adjoint fixed point w = g + (df/dx)^T w, iterated with the same distance and tolerance (Christianson 1994).
The adjoint iteration is itself ``fixed_point`` with (a, x*, g) as its parameter, so it is differentiable
again (higher orders of a).
"""

from ...core.tree import tree_map
from ...numpy import add, zeros_like
from ..differential_operators import make_vjp
from ..extend import defvjp, primitive

__all__ = ["fixed_point"]


@primitive
def fixed_point(f, a, x0, distance, tol):
    """Iterate x <- f(a)(x) from x0 until distance(x, previous) <= tol; returns the last x."""
    step = f(a)
    x, previous = step(x0), x0
    while distance(x, previous) > tol:
        x, previous = step(x), x
    return x


def _fixed_point_vjp(ans, f, a, x0, distance, tol):
    def adjoint_step(parameters):
        a, x_star, g = parameters
        vjp_x, _ = make_vjp(f(a))(x_star)
        return lambda w: tree_map(add, vjp_x(w), g)  # w = (df/dx)^T w + g

    vjp_a, _ = make_vjp(lambda a, x: f(a)(x))(a, ans)

    def cotangent_of_a(g):
        w = fixed_point(adjoint_step, (a, ans, g), tree_map(zeros_like, x0), distance, tol)
        return vjp_a(w)

    return cotangent_of_a


defvjp(fixed_point, None, _fixed_point_vjp, None)
