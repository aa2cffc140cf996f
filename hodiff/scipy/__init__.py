"""hodiff.scipy: differentiable scipy functions (hodiff.scipy.linalg, hodiff.scipy.special ...)."""
