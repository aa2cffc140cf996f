"""The module-level ``__getattr__`` shared by the distribution modules."""


def forward_to(name):
    """hodiff.scipy.stats.<name>'s attribute; for one hodiff lacks (rvs, ...), scipy's, for plain values only."""
    def __getattr__(attribute):
        import scipy.stats

        from ....numpy import _not_differentiable
        from ....scipy import stats

        distribution = getattr(stats, name, None)
        if distribution is not None and hasattr(distribution, attribute):
            return getattr(distribution, attribute)
        value = getattr(getattr(scipy.stats, name), attribute)
        if callable(value):
            return _not_differentiable(f"{name}.{attribute}", value, "hodiff.autograd.scipy.stats")
        return value

    return __getattr__
