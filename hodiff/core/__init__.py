"""The core: primitives, tracing, pytrees and errors. Knows nothing of numpy's namespace."""
